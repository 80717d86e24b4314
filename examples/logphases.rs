//! Where the log scan's time goes: the same log, in memory, through ever more of the scan,
//! on one core. Each phase does everything the one before it does, and more:
//!
//! 1. `lines`: find the line ends (a `memchr` pass; what `wc -l` does);
//! 2. `split`: split each line into stamp, host, tag and message (`split_syslog`);
//! 3. `prefilter`: look for every signature literal and scanner word in each message (the
//!    matcher's literal index);
//! 4. `classify`: the best signature of each line (prefilter, then the regexes);
//! 5. `scan`: the whole scan of `logs stats` (stamps, classification, queue-id
//!    correlation, samples, aggregates).
//!
//! `cargo run --release --example logphases -- LOG [ROUNDS]` prints nanoseconds per line
//! for each phase (best of ROUNDS rounds, default 5; the phases alternate within a round, so
//! a noisy machine slows them alike), what each phase adds, and the budget per line that
//! one second per GiB on two cores leaves for a log of these lines.

use mailsleuth::logscan::line::split_syslog;
use mailsleuth::logscan::{scan_segments, Matcher, ScanOptions, Segment, TextSegment};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: logphases LOG [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5).max(1);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let k = match mailsleuth::load_knowledge(&[], false) {
        Ok(k) => k,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            std::process::exit(1);
        }
    };
    let m = Matcher::new(&k.signatures);
    let opts = ScanOptions { reference: 1_795_000_000, ..ScanOptions::default() };

    let lines = text.lines().count().max(1);
    let phases: [(&str, &dyn Fn() -> usize); 5] = [
        ("lines", &|| memchr::memchr_iter(b'\n', text.as_bytes()).count()),
        ("split", &|| text.lines().map(|l| split_syslog(l).message.len()).sum()),
        ("prefilter", &|| {
            let mut n = 0;
            for l in text.lines() {
                m.prefilter(split_syslog(l).message, |i| n += i);
            }
            n
        }),
        ("classify", &|| text.lines().filter_map(|l| m.classify(&split_syslog(l))).count()),
        ("scan", &|| {
            let seg: Vec<Box<dyn Segment + '_>> =
                vec![Box::new(TextSegment { path: "log", text: &text, first_line: Some(1), observation: None })];
            scan_segments(&m, &opts, seg, 1).lines() as usize
        }),
    ];
    let mut best = [f64::MAX; 5];
    for _ in 0..rounds {
        for (i, (_, run)) in phases.iter().enumerate() {
            let t = Instant::now();
            black_box(run());
            best[i] = best[i].min(t.elapsed().as_secs_f64());
        }
    }
    let per_line = |s: f64| s * 1e9 / lines as f64;
    println!("{path}: {} bytes, {lines} lines; one core, best of {rounds}", bytes.len());
    println!("{:<10} {:>9} {:>9}", "phase", "ns/line", "adds");
    let mut before = 0.0;
    for (i, (name, _)) in phases.iter().enumerate() {
        let ns = per_line(best[i]);
        println!("{name:<10} {ns:>9.1} {:>9.1}", ns - before);
        before = ns;
    }
    // One second per GiB on two cores: two core-seconds for the lines of a GiB.
    let lines_per_gib = (1u64 << 30) as f64 / (bytes.len() as f64 / lines as f64);
    println!("budget for 1 s per GiB on 2 cores: {:.1} ns/line per core", 2e9 / lines_per_gib);
}
