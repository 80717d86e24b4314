//! Fuzzing seeded from real corpora: real mail-log lines, damaged anywhere, through the
//! syslog splitter, the stamp parser, the reason reader, the reference classifier and the
//! fast scanner — never a panic, never an unbounded result. Ignored in `cargo test`:
//! `scripts/fuzz.sh` runs it with `MAILSLEUTH_FUZZ_CORPUS` naming a JSON-lines corpus (one
//! `{"line": ...}` per line), read at run time and never copied into the repository.

use mailsleuth::logscan::line::{line_stamp, split_syslog};
use mailsleuth::logscan::{classify::classify_line, reason, scan, split_text, ScanOptions, Segment};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn corpus() -> Option<Vec<String>> {
    let path = std::env::var("MAILSLEUTH_FUZZ_CORPUS").ok()?;
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let lines: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["line"].as_str().map(str::to_string))
        .collect();
    assert!(!lines.is_empty(), "{path}: no {{\"line\": ...}} objects");
    Some(lines)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

/// A corpus line with up to four damages: a cut, an inserted string (control bytes and
/// non-ASCII included), a doubled stretch.
fn damaged(lines: &[String], pick: prop::sample::Index, edits: &[(prop::sample::Index, usize, String)]) -> String {
    let mut s = lines[pick.index(lines.len())].clone();
    for (at, n, insert) in edits {
        let mut pos = at.index(s.len().max(1));
        while !s.is_char_boundary(pos) {
            pos -= 1;
        }
        let mut end = (pos + n % 12).min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let piece = if n % 3 == 0 { s[pos..end].repeat(2) } else { insert.clone() };
        s = format!("{}{piece}{}", &s[..pos], &s[end..]);
    }
    s
}

#[test]
#[ignore = "run by scripts/fuzz.sh with MAILSLEUTH_FUZZ_CORPUS"]
fn damaged_corpus_lines_never_panic_the_log_engine() {
    let Some(lines) = corpus() else {
        eprintln!("MAILSLEUTH_FUZZ_CORPUS not set: nothing to do");
        return;
    };
    let k = mailsleuth::load_knowledge(&[], false).expect("knowledge");
    let edit = (any::<prop::sample::Index>(), 0usize..64, "(\\PC|[\\x00-\\x1f\\x7f]){0,6}");
    let strategy = (any::<prop::sample::Index>(), prop::collection::vec(edit, 0..4), 1usize..6);
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    runner
        .run(&strategy, |(pick, edits, copies)| {
            let line = damaged(&lines, pick, &edits);
            let l = split_syslog(&line);
            prop_assert!(l.message.len() <= line.len());
            let _ = line_stamp(&line, 1_795_000_000);
            let _ = reason::parse_status(l.message);
            let _ = reason::parse_reason(l.message);
            let _ = classify_line(&k.signatures, &line);
            // The fast path over a text of several copies: it counts every line once.
            let text = format!("{line}\n").repeat(copies);
            let segs: Vec<Box<dyn Segment + '_>> =
                split_text("fuzz", &text, 1, 2, None).into_iter().map(|s| Box::new(s) as Box<dyn Segment + '_>).collect();
            let stats = scan(&k.signatures, &ScanOptions::default(), segs, 2);
            let read: u64 = stats.files.iter().map(|f| f.lines).sum();
            prop_assert!(read <= text.lines().count() as u64 + 1, "{read} lines from {copies} copies of {line:?}");
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
