//! Every example line in the signature catalogue is matched by its own signature, with the
//! captures it states, and not taken by another signature of higher priority (fail2ban's
//! filter tests, line by line).

use mailsleuth::logscan::classify::classify_line;

#[test]
fn every_signature_example_matches_its_own_signature_with_its_captures() {
    let k = mailsleuth::load_knowledge(&[], false).unwrap_or_else(|e| panic!("knowledge base: {e:?}"));
    assert!(!k.signatures.is_empty());
    let mut failures = Vec::new();
    let mut examples = 0;
    for (i, sig) in k.signatures.iter().enumerate() {
        for ex in &sig.examples {
            examples += 1;
            let file = &k.signature_files[i];
            match classify_line(&k.signatures, &ex.line) {
                None => failures.push(format!("{file}: {}: example matches no signature: {}", sig.id, ex.line)),
                Some((got, _)) if got.id != sig.id => failures.push(format!(
                    "{file}: {}: example is taken by {} (priority {} ≥ {}): {}",
                    sig.id, got.id, got.priority, sig.priority, ex.line
                )),
                Some((_, caps)) => {
                    for (name, want) in &ex.captures {
                        match caps.get(name) {
                            Some(v) if v == want => {}
                            other => failures.push(format!("{file}: {}: capture `{name}` is {other:?}, expected {want:?}", sig.id)),
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {examples} examples fail:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_line_with_no_known_message_gets_no_signature() {
    let k = mailsleuth::load_knowledge(&[], false).unwrap_or_else(|e| panic!("knowledge base: {e:?}"));
    for line in [
        "Nov 23 10:45:29 mx1 postfix/qmgr[271]: 0BD7377: removed",
        "Nov 23 10:45:29 mx1 postfix/cleanup[288]: 0BD7377: message-id=<lab-1-1024@client.lab.example>",
        "Nov 23 10:45:29 mx1 kernel: [12345.678] eth0: link up",
    ] {
        assert!(classify_line(&k.signatures, line).is_none(), "{line}");
    }
}

/// The program readings (`layer: Program`, knowledge/signatures/generic.ron) are tested the
/// same way through the layered classifier: each example is read by its own reading (no
/// exact signature takes it first), with its captures.
#[test]
fn every_program_reading_example_is_read_by_its_own_reading() {
    use mailsleuth::kb::signature::Layer;
    use mailsleuth::logscan::classify::read_line;
    let k = mailsleuth::load_knowledge(&[], false).unwrap_or_else(|e| panic!("knowledge base: {e:?}"));
    assert!(!k.families.is_empty());
    let mut failures = Vec::new();
    for (i, fam) in k.families.iter().enumerate() {
        assert_eq!(fam.layer, Layer::Program, "{}", fam.id);
        for ex in &fam.examples {
            match read_line(&k.signatures, &k.families, &ex.line) {
                Some(r) if r.id == fam.id && r.layer == Layer::Program => {
                    for (name, want) in &ex.captures {
                        if r.captures.get(name) != Some(want) {
                            failures.push(format!("{}: capture `{name}` is {:?}, expected {want:?}", fam.id, r.captures.get(name)));
                        }
                    }
                }
                other => {
                    failures.push(format!("{}: {}: read as {:?}: {}", k.family_files[i], fam.id, other.map(|r| (r.id, r.layer)), ex.line))
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A line no exact signature knows still gets a category and a `generic.*` id from the
/// program's reading or the structure, and says which layer decided. (The lines are shaped
/// after each daemon's own messages; the expected readings were written first.)
#[test]
fn unknown_problem_lines_get_a_generic_reading_and_its_layer() {
    use mailsleuth::logscan::classify::read_line;
    let k = mailsleuth::load_knowledge(&[], false).unwrap_or_else(|e| panic!("knowledge base: {e:?}"));
    let read = |l: &str| read_line(&k.signatures, &k.families, l).map(|r| (r.id, r.category, r.layer.as_str()));
    let cases: &[(&str, &str, &str)] = &[
        // Dovecot's start-up fatal, tagless, about its configuration.
        ("Fatal: Error reading configuration: Invalid settings: postmaster_address setting not given", "config-error", "structure"),
        // A daemon that cannot listen because the port is taken: a second listener, not a crash.
        ("Jan  2 03:04:05 mx spamd[812]: spamd: could not create INET socket on 127.0.0.1:783: Address already in use", "config-error", "structure"),
        // A Dovecot panic (an assertion) is a crash whatever it names.
        ("Jan  2 03:04:05 mx dovecot: lmtp(alice)<812><Zx1>: Panic: file mail-index-map.c: line 549 (mail_index_map_lookup_seq_range): assertion failed: (first_uid > 0)", "service-down/crash", "structure"),
        // amavis's trouble marker, with a scanner that cannot be reached.
        ("Jan  2 03:04:05 mx amavis[4242]: (04242-07) (!)ClamAV-clamd: Can't send to socket /run/clamav/clamd.ctl: Broken pipe", "content-filter-failure", "program"),
        // An opendkim line about its KeyTable (opendkim.c: "KeyTable entry for '%s' corrupt"): configuration.
        ("Jan  2 03:04:05 mx opendkim[77]: KeyTable entry for 'default' corrupt", "config-error", "program"),
    ];
    for (line, cat, layer) in cases {
        let got = read(line);
        assert!(got.as_ref().is_some_and(|(id, c, l)| id.starts_with("generic.") && c == cat && l == layer), "{line}: {got:?}");
    }
}

/// Routine lines stay unclassified or `ok` through every layer (no false alarm).
#[test]
fn routine_lines_are_not_problems_in_any_layer() {
    use mailsleuth::logscan::classify::read_line;
    let k = mailsleuth::load_knowledge(&[], false).unwrap_or_else(|e| panic!("knowledge base: {e:?}"));
    for line in [
        "Nov 23 10:45:29 mx1 postfix/qmgr[271]: 0BD7377: removed",
        "Nov 23 10:45:29 mx1 dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=192.0.2.5, lip=192.0.2.1, mpid=23, TLS",
        "Nov 23 10:45:29 mx1 dovecot: imap-login: Disconnected (no auth attempts in 2 secs): user=<>, rip=192.0.2.5, lip=192.0.2.1",
        "Nov 23 10:45:29 mx1 amavis[3001]: (03001-01) Passed CLEAN {RelayedInbound}, [192.0.2.9] <a@example.org> -> <b@example.net>",
        "Nov 23 10:45:29 mx1 opendkim[77]: 0BD7377: DKIM-Signature field added (s=mail, d=example.org)",
        "Nov 23 10:45:29 mx1 clamd[500]: SelfCheck: Database status OK.",
        "Nov 23 10:45:29 mx1 postfix/smtp[300]: 0BD7377: to=<b@example.net>, relay=mx.example.net[192.0.2.7]:25, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
    ] {
        let r = read_line(&k.signatures, &k.families, line);
        assert!(r.as_ref().is_none_or(|r| r.category == "ok" || r.category == "other"), "{line}: {r:?}");
    }
}
