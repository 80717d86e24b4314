//! The fast log scanner against the reference classifier, and its segment merging against
//! a scan in one piece: cutting a log anywhere, scanning the pieces on several threads and
//! merging must give the same counts, message statuses and size ranges.

use mailsleuth::kb::Knowledge;
use mailsleuth::logscan::classify::classify_line;
use mailsleuth::logscan::line::split_syslog;
use mailsleuth::logscan::quickmatch::QuickMatch;
use mailsleuth::logscan::{self, LogStats, Matcher, ScanOptions, Segment, TextSegment};

fn kb() -> Knowledge {
    mailsleuth::load_knowledge(&[], false).unwrap_or_else(|e| panic!("knowledge base: {e:?}"))
}

/// A small deterministic Postfix log in the exact Debian format: per message pickup or
/// smtpd, cleanup, qmgr, one or two delivery attempts, removed; interleaved so that
/// messages are open across many lines (and therefore across cuts).
fn postfix_log(messages: usize) -> String {
    let mut lines: Vec<(u64, String)> = Vec::new();
    for i in 0..messages {
        let q = format!("{:010X}", 0x003F_2A00_0000_u64 + i as u64 * 7919);
        let t0 = i as u64 * 3;
        let size = 1000 + (i as u64 * 3571) % 90_000;
        let st = |t: u64| format!("Nov 23 {:02}:{:02}:{:02}", 8 + t / 3600, t / 60 % 60, t % 60);
        let rcpt = ["alice@example.net", "bob@example.org", "carol@mail.example.com"][i % 3];
        lines.push((t0, format!("{} mx1 postfix/smtpd[{}]: connect from mail.example.net[192.0.2.{}]", st(t0), 100 + i % 50, i % 250)));
        lines.push((t0, format!("{} mx1 postfix/smtpd[{}]: {q}: client=mail.example.net[192.0.2.{}]", st(t0), 100 + i % 50, i % 250)));
        lines.push((t0 + 1, format!("{} mx1 postfix/cleanup[{}]: {q}: message-id=<{i}@example.net>", st(t0 + 1), 200 + i % 7)));
        lines.push((
            t0 + 1,
            format!("{} mx1 postfix/qmgr[77]: {q}: from=<list@example.net>, size={size}, nrcpt=1 (queue active)", st(t0 + 1)),
        ));
        lines.push((
            t0 + 1,
            format!(
                "{} mx1 postfix/smtpd[{}]: disconnect from mail.example.net[192.0.2.{}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
                st(t0 + 1),
                100 + i % 50,
                i % 250
            ),
        ));
        // Large messages are deferred first (and every 5th is still deferred at the end).
        let deferred = size > 60_000;
        if deferred {
            lines.push((t0 + 40, format!("{} mx1 postfix/smtp[{}]: {q}: to=<{rcpt}>, relay=none, delay=39, delays=0.1/0/39/0, dsn=4.4.1, status=deferred (connect to mx.example.org[203.0.113.9]:25: Connection refused)", st(t0 + 40), 300 + i % 9)));
        }
        if !deferred || i % 5 != 0 {
            let t = if deferred { t0 + 400 } else { t0 + 2 };
            lines.push((t, format!("{} mx1 postfix/smtp[{}]: {q}: to=<{rcpt}>, relay=mx.example.org[203.0.113.9]:25, delay=2, delays=0.1/0/1/0.9, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Xq1Yz2bQwz1nF3)", st(t), 300 + i % 9)));
            lines.push((t, format!("{} mx1 postfix/qmgr[77]: {q}: removed", st(t))));
        }
    }
    lines.sort_by_key(|(t, _)| *t);
    let mut s = String::new();
    for (_, l) in lines {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

/// The next number of a deterministic xorshift sequence (random test input, same every run).
fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn scan_pieces(k: &Knowledge, text: &str, cuts: &[usize], threads: usize) -> LogStats {
    let m = Matcher::new(&k.signatures);
    let opts = ScanOptions { reference: 1_795_000_000, ..ScanOptions::default() };
    let mut bounds = vec![0];
    for &c in cuts {
        // Cut at the line boundary at or after `c`.
        let at = text[c..].find('\n').map_or(text.len(), |p| c + p + 1);
        if at > *bounds.last().unwrap_or(&0) && at < text.len() {
            bounds.push(at);
        }
    }
    bounds.push(text.len());
    let segments: Vec<Box<dyn Segment + '_>> = bounds
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            Box::new(TextSegment { path: "mail.log", text: &text[w[0]..w[1]], first_line: (i == 0).then_some(1), observation: None })
                as Box<dyn Segment>
        })
        .collect();
    logscan::scan_segments(&m, &opts, segments, threads).finish(&k.signatures, opts.reference)
}

fn summary(s: &LogStats) -> Vec<String> {
    let mut out: Vec<String> = s
        .statuses
        .iter()
        .map(|x| {
            format!(
                "status {} lines={} messages={} sizes={}..{} n={}",
                x.status, x.lines, x.messages, x.sizes.min, x.sizes.max, x.sizes.count
            )
        })
        .collect();
    out.extend(s.signatures.iter().map(|x| {
        format!(
            "sig {} count={} messages={} sizes={}..{} first={:?} last={:?}",
            x.id, x.count, x.messages, x.sizes.min, x.sizes.max, x.first_seen, x.last_seen
        )
    }));
    out.extend(s.destinations.iter().map(|d| format!("dest {} deferred={} reasons={:?}", d.domain, d.deferred, d.reasons)));
    out.push(format!("rejected={} lines={}", s.rejected, s.lines()));
    out
}

#[test]
fn the_fast_matcher_agrees_with_the_reference_classifier() {
    let k = kb();
    let m = Matcher::new(&k.signatures);
    let mut lines: Vec<String> = k.signatures.iter().flat_map(|s| s.examples.iter().map(|e| e.line.clone())).collect();
    lines.extend(postfix_log(40).lines().map(str::to_string));
    lines.push("warning: Connection rate limit exceeded: 3 from x[192.0.2.1] for service smtp".into());
    lines.push("3F2A61C0F1: to=<a@b.example>, status=sent (250 ok)".into());
    assert!(lines.len() > 500, "{} lines", lines.len());
    let mut disagree = Vec::new();
    for l in &lines {
        let want = classify_line(&k.signatures, l).map(|(s, _)| s.id.clone());
        let got = m.classify(&split_syslog(l)).map(|i| k.signatures[i].id.clone());
        if want != got {
            disagree.push(format!("{l}\n  reference {want:?}, fast {got:?}"));
        }
    }
    assert!(disagree.is_empty(), "{} lines disagree:\n{}", disagree.len(), disagree.join("\n"));
}

#[test]
fn cutting_the_log_anywhere_and_scanning_on_threads_changes_nothing() {
    let k = kb();
    let text = postfix_log(400);
    let whole = scan_pieces(&k, &text, &[], 1);
    let s = summary(&whole);
    // The log is what we think it is: deliveries, deferrals, still-deferred messages.
    let sent = whole.statuses.iter().find(|x| x.status == "sent").map(|x| x.messages);
    let deferred = whole.statuses.iter().find(|x| x.status == "deferred").map(|x| (x.lines, x.messages));
    assert!(sent.is_some_and(|n| n > 300), "{s:#?}");
    assert!(deferred.is_some_and(|(l, m)| l > m && m > 0), "{s:#?}");
    let n = text.len();
    for cuts in [vec![n / 2], vec![n / 7, n / 3, n / 2, 2 * n / 3, 6 * n / 7], (1..40).map(|i| i * n / 40).collect::<Vec<_>>()] {
        for threads in [1, 2, 3] {
            let pieces = scan_pieces(&k, &text, &cuts, threads);
            assert_eq!(summary(&pieces), s, "{} cuts, {threads} threads", cuts.len());
        }
    }
}

#[test]
fn still_deferred_messages_keep_their_sizes_and_the_size_split_shows() {
    let k = kb();
    let stats = scan_pieces(&k, &postfix_log(400), &[], 1);
    let sent = stats.statuses.iter().find(|x| x.status == "sent").map(|x| x.sizes);
    let deferred = stats.statuses.iter().find(|x| x.status == "deferred").map(|x| x.sizes);
    let (Some(sent), Some(deferred)) = (sent, deferred) else { panic!("{:#?}", summary(&stats)) };
    // Messages whose last status is deferred are all > 60 000 bytes (the generator defers
    // only those); delivered ones span the whole range.
    assert!(deferred.min > 60_000, "{deferred:?}");
    assert!(sent.min < 10_000 && sent.max > 60_000, "{sent:?}");
    // The refusal is attributed to its destination and signature.
    let d = stats.destinations.iter().find(|d| d.domain == "example.org").map(|d| d.reasons.clone());
    assert!(d.is_some_and(|r| r.first().is_some_and(|(sig, _)| sig == "postfix.connect_refused")), "{:#?}", summary(&stats));
}

#[test]
fn evidence_lines_are_numbered_in_the_file_across_cuts() {
    let k = kb();
    let text = postfix_log(200);
    let n = text.len();
    let stats = scan_pieces(&k, &text, &(1..9).map(|i| i * n / 9).collect::<Vec<_>>(), 2);
    let lines: Vec<&str> = text.lines().collect();
    let mut checked = 0;
    for s in &stats.signatures {
        for e in &s.evidence {
            let no: usize = e.source.rsplit(':').next().and_then(|x| x.parse().ok()).unwrap_or(0);
            assert_eq!(lines.get(no.wrapping_sub(1)).copied(), Some(e.text.as_str()), "{}", e.source);
            checked += 1;
        }
    }
    assert!(checked > 10, "{checked}");
}

#[test]
fn garbage_is_counted_not_fatal() {
    let k = kb();
    let mut text = postfix_log(5);
    text.push_str("Nov 23 09:00:00 mx1 postfix/smtpd[1]: \0\0binary\n");
    text.push_str(&format!("Nov 23 09:00:01 mx1 postfix/smtpd[1]: {}\n", "x".repeat(70_000)));
    text.push_str("\n:\n[]: x\n");
    let stats = scan_pieces(&k, &text, &[], 1);
    assert_eq!(stats.files[0].skipped, 2);
    assert_eq!(stats.lines(), text.lines().count() as u64);
}

#[test]
fn the_literal_index_finds_exactly_the_literals_that_occur() {
    use mailsleuth::logscan::LiteralIndex;
    // Overlapping, nested, short and repeated literals.
    let lits = ["connect from ", "disconnect from ", "status=sent", "sent (250", "to=<", "SPF ", ":", "ab", "from", "rom=<"];
    // Whatever the sample that picks the anchors: none, the literals themselves (every
    // window equally seen), a text that makes some windows common.
    let samples: [&[&str]; 3] = [&[], &lits, &["connect from x", "disconnect from y", "status=sent (250 ok)", "rom=<a>"]];
    let ixs: Vec<LiteralIndex> = samples.iter().map(|s| LiteralIndex::new(lits.iter().copied(), s.iter().copied())).collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let alphabet = b"abcdefmnorst =<:(25)0SPF ";
    for round in 0..3000 {
        let mut hay = Vec::new();
        for _ in 0..(round % 60) {
            let seed = xorshift(&mut seed);
            if seed.is_multiple_of(7) {
                hay.extend_from_slice(lits[(seed >> 8) as usize % lits.len()].as_bytes());
            } else {
                hay.push(alphabet[(seed >> 16) as usize % alphabet.len()]);
            }
        }
        let hay = String::from_utf8(hay).unwrap_or_default();
        let want: Vec<bool> = lits.iter().map(|l| hay.contains(l)).collect();
        for ix in &ixs {
            let mut got = vec![false; lits.len()];
            ix.for_each(hay.as_bytes(), |i| got[i] = true);
            assert_eq!(got, want, "{hay:?}");
        }
    }
}

#[test]
fn the_words_found_with_the_literals_agree_with_substring_search() {
    use mailsleuth::logscan::{is_problem, Words};
    let k = kb();
    let m = Matcher::new(&k.signatures);
    let mut lines: Vec<String> = postfix_log(30).lines().map(str::to_string).collect();
    lines.extend(k.signatures.iter().flat_map(|s| s.examples.iter().map(|e| e.line.clone())));
    for l in &lines {
        let split = split_syslog(l);
        let (_, w) = m.classify_and_words(&split);
        let msg = split.message;
        assert_eq!(w.problem(), is_problem(msg), "{l}");
        assert_eq!(w.has(Words::REJECT), msg.contains("reject: "), "{l}");
        assert_eq!(w.has(Words::SIZE | Words::FROM), msg.contains("size=") && msg.contains("from=<"), "{l}");
        assert_eq!(w.has(Words::STATUS | Words::TO), msg.contains("status=") && msg.contains("to=<"), "{l}");
    }
}

#[test]
fn the_signature_dfas_agree_with_the_regexes_on_every_example_and_on_non_ascii_text() {
    // Every signature against every example line (its own and all the others'), and
    // against copies with non-ASCII text next to words: a Unicode `\b` makes the DFA give
    // up there and the regex answer instead.
    let k = kb();
    let m = Matcher::new(&k.signatures);
    let mut messages: Vec<String> = Vec::new();
    for s in &k.signatures {
        for e in &s.examples {
            let msg = split_syslog(&e.line).message.to_string();
            messages.push(msg.replacen(' ', " Grüße ", 1));
            messages.push(msg.replace("said: ", "said: é"));
            messages.push(format!("{msg} ünïcode"));
            messages.push(msg);
        }
    }
    // And shortened copies: a match cut off at its end must be refused by all engines alike.
    let cut: Vec<String> =
        messages.iter().filter_map(|m| m.char_indices().nth(m.chars().count() * 4 / 5).map(|(i, _)| m[..i].to_string())).collect();
    messages.extend(cut);
    let (mut matched, mut checked, mut quick_answers) = (0, 0, 0);
    for (i, s) in k.signatures.iter().enumerate() {
        let quick = QuickMatch::new(s.regex.0.as_str());
        for msg in &messages {
            let want = s.regex.0.is_match(msg);
            assert_eq!(m.dfa_match(i, msg), want, "DFA of {} on {msg:?}", s.id);
            if let Some(got) = quick.as_ref().and_then(|q| q.is_match(msg)) {
                assert_eq!(got, want, "quick matcher of {} on {msg:?}", s.id);
                quick_answers += 1;
            }
            assert_eq!(m.is_match(i, msg), want, "{} on {msg:?}", s.id);
            matched += usize::from(want);
            checked += 1;
        }
    }
    // Each signature matched at least its own examples (and their variants).
    assert!(matched >= messages.len() / 2, "{matched} matches in {checked} checks");
    // The quick matcher took most of the questions (it declines only regexes of other shapes).
    assert!(quick_answers * 10 >= checked * 9, "quick matcher answered {quick_answers} of {checked}");
}

/// A random regex over a small alphabet, from the constructs the quick matcher supports
/// and some it declines (word boundaries, repeated groups).
fn random_regex(seed: &mut u64, depth: u32) -> String {
    const ATOMS: [&str; 16] = ["a", "b", "c", " ", ":", "-", r"\[", r"\]", "<", ">", ",", "é", "ab", "c:", "a b", "="];
    const CLASSES: [&str; 12] =
        [r"[^\]]", r"\s", r"\S", r"\d", r"\w", "[a-c]", r"[^a\s]", ".", r"[^<>,\s]", "[0-9A-Za-z]", r"[\s:]", "[^ ]"];
    const REPS: [&str; 9] = ["*", "+", "?", "{1,3}", "{2}", "*?", "+?", "{0,2}", "{2,}"];
    let mut out = String::new();
    let parts = 1 + xorshift(seed) % 4;
    for _ in 0..parts {
        let r = xorshift(seed) % 100;
        let piece = match r {
            0..=34 => ATOMS[(xorshift(seed) % 16) as usize].to_string(),
            35..=64 => CLASSES[(xorshift(seed) % 12) as usize].to_string(),
            65..=79 if depth > 0 => {
                let (a, b) = (random_regex(seed, depth - 1), random_regex(seed, depth - 1));
                match xorshift(seed) % 3 {
                    0 => format!("(?:{a}|{b})"),
                    1 => format!("({a})?"),
                    _ => format!("(?P<g{}>{a}|{b})", xorshift(seed) % 1000),
                }
            }
            80..=84 => "^".to_string(),
            85..=89 => "$".to_string(),
            90..=91 => r"\b".to_string(),
            92..=93 if depth > 0 => format!("(?:{})+", random_regex(seed, depth - 1)),
            _ => "a".to_string(),
        };
        out.push_str(&piece);
        if (35..65).contains(&r) || xorshift(seed).is_multiple_of(5) {
            out.push_str(REPS[(xorshift(seed) % 9) as usize]);
        }
    }
    if xorshift(seed).is_multiple_of(10) {
        out.insert_str(0, "(?i)");
    }
    out
}

/// 6,000 random patterns × 40 random texts; `QUICK_FUZZ_ROUNDS=300000 cargo test --release
/// --test logscan random` runs a longer hunt (300,000 patterns passed when this was written).
#[test]
fn the_quick_matcher_answers_as_the_regex_on_random_patterns_and_text() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let alphabet: Vec<char> = "abcABC :-[]<>,=0119é\u{a0}\u{2003}\t".chars().collect();
    let (mut compiled, mut declined, mut yes, mut no, mut gave_up) = (0, 0, 0, 0, 0);
    let rounds: usize = std::env::var("QUICK_FUZZ_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(6000);
    for _ in 0..rounds {
        let pattern = random_regex(&mut seed, 2);
        let Ok(re) = regex::Regex::new(&pattern) else { continue };
        let Some(q) = QuickMatch::new(&pattern) else {
            declined += 1;
            continue;
        };
        compiled += 1;
        for _ in 0..40 {
            let len = xorshift(&mut seed) % 24;
            let hay: String = (0..len).map(|_| alphabet[(xorshift(&mut seed) % alphabet.len() as u64) as usize]).collect();
            match q.is_match(&hay) {
                Some(got) => {
                    assert_eq!(got, re.is_match(&hay), "{pattern:?} on {hay:?}");
                    if got {
                        yes += 1;
                    } else {
                        no += 1;
                    }
                }
                None => gave_up += 1,
            }
        }
    }
    // Not vacuous: most patterns compile, and both answers occur often.
    assert!(compiled > rounds * 2 / 3 && declined > rounds / 60, "{compiled} compiled, {declined} declined");
    assert!(yes > rounds * 3 && no > rounds * 3, "{yes} matches, {no} non-matches, {gave_up} gave up");
}

#[test]
fn the_quick_matcher_tries_every_occurrence_of_the_literal_after_a_run() {
    // `.*` or `[^x]*` then a literal: the literal's occurrences are searched for, and the
    // one that lets the rest match may overlap an earlier one, lie past a nearer one, or
    // sit right at the run's stop.
    let cases = [
        (r"x.*abab$", "xababab", true),
        (r"x.*abab$", "xabab-ab", false),
        (r"\[[^\]]*:ab:ab$", "[1.2.3.4:ab:ab:ab", true),
        (r"\[[^\]]*:ab:ab$", "[1.2]:ab:ab", false),
        (r"<[^>]+>, size=\d", "<a@b>, size=x <c>, size=7", true),
        (r"<[^>]+>, size=\d", "<>, size=7", false),
        (r"^a[^,]*,b", "a,b", true),
        (r"^a[^,]*,b", "ax,,b", false),
        (r"relay=.*status=sent \(", "relay=x, status=sent, status=sent (250)", true),
    ];
    for (pattern, text, want) in cases {
        let q = QuickMatch::new(pattern).unwrap_or_else(|| panic!("{pattern} compiles"));
        let re = regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        assert_eq!(re.is_match(text), want, "{pattern} on {text:?}: the case itself is wrong");
        assert_eq!(q.is_match(text), Some(want), "{pattern} on {text:?}");
    }
}

#[test]
fn the_quick_matcher_gives_up_on_runaway_backtracking_and_the_dfa_answers() {
    // Five runs after a `!` on a line with no `;`: exhaustive backtracking is O(n^5).
    let pattern = r"!\w*\w*\w*\w*\w*;";
    let q = QuickMatch::new(pattern).unwrap_or_else(|| panic!("{pattern} compiles"));
    let hay = format!("!{}", "a".repeat(400));
    assert_eq!(q.is_match(&hay), None);
    assert_eq!(q.is_match("x !aaa;"), Some(true));
    assert_eq!(q.is_match("x !a"), Some(false));
    // The scanner then asks the DFA, which answers.
    let file = format!(
        "(signatures: [(id: \"test.runaway\", regex: r\"{pattern}\", category: \"other\", severity: Warning, meaning: \"test\", examples: [(line: \"x !a;\")])])"
    );
    let k = mailsleuth::knowledge_from_files(vec![("signatures/test.ron".to_string(), file)]).unwrap_or_else(|e| panic!("{e:?}"));
    let m = Matcher::new(&k.signatures);
    assert!(!m.is_match(0, &hay));
    assert!(m.is_match(0, &format!("{hay};")));
}

/// The definitions the one-pass parsers in `facts::logs` replaced, as first written.
fn colon_space(s: &str) -> Option<usize> {
    s.find(": ")
}

fn split_tag_reference(s: &str) -> Option<(&str, Option<&str>, &str)> {
    let colon = colon_space(s).or_else(|| s.strip_suffix(':').map(|x| x.len()))?;
    let tag = &s[..colon];
    let message = s.get(colon + 2..).unwrap_or("");
    let (program, pid) = match tag.find('[') {
        Some(open) if tag.ends_with(']') => (&tag[..open], Some(&tag[open + 1..tag.len() - 1])),
        Some(_) => return None,
        None => (tag, None),
    };
    let ok_chars = !program.is_empty() && program.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'-' | b'_' | b'.'));
    let plausible = pid.is_some() || program.contains('/') || program.bytes().all(|c| !c.is_ascii_uppercase());
    if ok_chars && plausible && pid.is_none_or(|p| p.bytes().all(|c| c.is_ascii_digit())) {
        Some((program, pid, message))
    } else {
        None
    }
}

fn queue_id_reference(message: &str) -> Option<&str> {
    let end = colon_space(message.get(..22).unwrap_or(message))?;
    let id = &message[..end];
    let short = id.len() >= 6 && id.len() <= 16 && id.bytes().all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c));
    let long = id.len() >= 10 && id.len() <= 20 && id.bytes().all(|c| c.is_ascii_alphanumeric()) && id.bytes().any(|c| c.is_ascii_digit());
    (short || long).then_some(id)
}

#[test]
fn the_one_pass_tag_and_queue_id_parsers_agree_with_their_definitions() {
    use mailsleuth::logscan::line::{queue_id, split_tag};
    let k = kb();
    let mut inputs: Vec<String> = Vec::new();
    let mut lines: Vec<String> = k.signatures.iter().flat_map(|s| s.examples.iter().map(|e| e.line.clone())).collect();
    lines.extend(postfix_log(20).lines().map(str::to_string));
    // Every suffix of a real line that starts after a space: tags, hosts, queue ids, text.
    for l in &lines {
        for (at, _) in l.match_indices(' ') {
            inputs.push(l[at + 1..].to_string());
        }
    }
    // Random strings over the characters that decide: brackets, colons, slashes, case,
    // digits, hex, spaces, non-ASCII.
    let alphabet: Vec<char> = "ab/Z09F[]: :-_.é3A".chars().collect();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for n in 0..20_000 {
        let mut s = String::new();
        for _ in 0..(n % 30) {
            s.push(alphabet[(xorshift(&mut seed) >> 20) as usize % alphabet.len()]);
        }
        inputs.push(s);
    }
    for s in ["postfix/smtpd[12]:", "3F2A61C0F1: to=<a@b>", "3F2A61C0F12345678901: x", "ABCDEF: x", "prog[1: 2]: x", "[12]: x", "Prog: x"] {
        inputs.push(s.to_string());
    }
    let mut tags = 0;
    for s in &inputs {
        assert_eq!(split_tag(s), split_tag_reference(s), "split_tag({s:?})");
        assert_eq!(queue_id(s), queue_id_reference(s), "queue_id({s:?})");
        tags += usize::from(split_tag(s).is_some());
    }
    assert!(tags > 1000, "{tags} tags among {} inputs", inputs.len());
}
