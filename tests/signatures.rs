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
