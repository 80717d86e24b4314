//! mailsleuth: why is my mail deferred (or bounced, or not arriving)?
//!
//! Data flows one way through four stages (see docs/ARCHITECTURE.md):
//! [`observe`] (collectors: the only code touching the inspected host) →
//! [`facts`] (producers: observations → typed facts) →
//! [`engine`] (forward chaining, ranking) →
//! [`report`] (human and JSON renderings).
//! Beneath them: the base ([`model`], [`bundle`], [`text`], [`time`]), the knowledge base
//! ([`kb`]: RON rules, signatures and reference data embedded at build time, the rule graph),
//! the pure grammars ([`parse`]) and the log engine ([`logscan`]).

pub mod bundle;
pub mod cli;
pub mod engine;
pub mod facts;
pub mod kb;
pub mod logscan;
pub mod model;
pub mod observe;
pub mod parse;
pub mod report;
pub mod scaffold;
pub mod scenario;
pub mod text;
pub mod time;

use bundle::Bundle;
use kb::Knowledge;

/// The embedded knowledge base plus the given rule directories (and the system directory
/// when `system` is set), checked against the kinds the producers declare.
pub fn load_knowledge(extra: &[std::path::PathBuf], system: bool) -> Result<Knowledge, Vec<kb::KbError>> {
    Knowledge::load(facts::kinds::base_kinds().collect(), extra, system)
}

/// A knowledge base of the given files only (tests), checked against the producers' kinds.
pub fn knowledge_from_files(files: Vec<(String, String)>) -> Result<Knowledge, Vec<kb::KbError>> {
    Knowledge::from_files(facts::kinds::base_kinds().collect(), files)
}

/// Parse a bundle and run every rule: the whole diagnosis, without touching any system.
pub fn diagnose(bundle: &Bundle, k: &Knowledge) -> report::Report {
    diagnose_in_window(bundle, k, &time::WindowSpec::default())
}

/// [`diagnose`], considering only the log lines inside `window`.
pub fn diagnose_in_window(bundle: &Bundle, k: &Knowledge, window: &time::WindowSpec) -> report::Report {
    let facts = facts::facts_in_window(bundle, k, window);
    let eval = engine::run(k, facts);
    report::Report::new(bundle, k, eval)
}

/// `logs stats` and `logs unknown`: scan log files (oldest first) on `threads` threads.
/// Files that cannot be opened are reported in the result, not fatal.
pub fn log_stats(
    files: &[(String, std::path::PathBuf)],
    k: &Knowledge,
    spec: &time::WindowSpec,
    unknown: bool,
    threads: usize,
) -> Result<logscan::LogStats, String> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    if files.iter().any(|(p, _)| p == "-") {
        // Standard input: read once, as it comes, so its newest line is not known before the
        // scan. The default window is then every line; --since/--until count back from now.
        if files.len() > 1 {
            return Err("- (standard input) cannot be read together with files".to_string());
        }
        let window = if spec.since.is_none() && spec.until.is_none() { time::Window::default() } else { spec.resolve(Some(now))? };
        let opts = logscan::ScanOptions::new(window, now, None, None, unknown);
        return Ok(logscan::scan(&k.signatures, &opts, vec![Box::new(observe::logs::StdinSegment)], 1));
    }
    let (oldest, newest) = observe::logs::files_span(files, now);
    let window = spec.resolve(newest)?;
    let opts = logscan::ScanOptions::new(window, now, oldest, newest, unknown);
    let (segments, problems) = observe::logs::open_segments(files, threads);
    if segments.is_empty() {
        let all: Vec<String> = problems.iter().map(|(p, e)| format!("{p}: {e}")).collect();
        return Err(if all.is_empty() { "no mail log found".to_string() } else { all.join("; ") });
    }
    let segments: Vec<Box<dyn logscan::Segment>> = segments.into_iter().map(|s| Box::new(s) as Box<dyn logscan::Segment>).collect();
    let mut stats = logscan::scan(&k.signatures, &opts, segments, threads);
    for (path, problem) in problems {
        stats.files.push(logscan::FileStats {
            path,
            lines: 0,
            skipped: 0,
            lossy: 0,
            matched: 0,
            outside: 0,
            problem: Some(problem),
            observation: None,
        });
    }
    Ok(stats)
}
