//! Real incidents from public threads, diagnosed from their log alone.
//!
//! Each `tests/incidents/<set>/<name>/` holds the log lines a reporter posted (anonymised)
//! and `incident.ron`: the source, and the root cause *the thread* established, written
//! before mailsleuth was run on the log and never edited to match its output. `dev/` and
//! `dev2/` are what the rules were written against; `heldout/` and `heldout3/` were not
//! looked at while writing them (see tests/incidents/README.md). This test reports the share
//! of incidents whose expected cause is ranked first, per set, and fails when a set falls below the
//! share measured when the set was added (a regression guard, not a target).

use mailsleuth::kb::Knowledge;
use mailsleuth::observe::{self, Options};
use mailsleuth::time::WindowSpec;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Incident {
    source: String,
    title: String,
    mta: String,
    root_cause: String,
    expected_rank1: String,
    new_rule: Option<String>,
    #[serde(default)]
    confusable_with: Vec<String>,
    written_before_running: bool,
}

/// Rank-1 hits measured when each set was added; a set must not fall below them.
const FLOORS: &[(&str, usize)] = &[("dev", 27), ("dev2", 16), ("heldout", 10), ("heldout3", 6)];

fn incidents(set: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/incidents").join(set);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.join("incident.ron").is_file()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn load(dir: &Path) -> Incident {
    let path = dir.join("incident.ron");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ron::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rank-1 diagnosis of the log alone, as `mailsleuth diagnose --log FILE --all-logs` gives it.
fn rank1(dir: &Path, k: &Knowledge) -> Option<String> {
    let opts = Options { logs: vec![dir.join("mail.log").display().to_string()], ..Options::default() };
    let bundle = observe::collect_log_only(&opts);
    let report = mailsleuth::diagnose_in_window(&bundle, k, &WindowSpec { all: true, ..WindowSpec::default() });
    assert!(report.log_only, "a log read alone is reported as log only");
    report.diagnoses.first().map(|d| d.id.clone())
}

#[test]
fn every_incident_cites_its_source_and_states_its_cause_before_the_run() {
    for set in ["dev", "dev2", "heldout", "heldout3"] {
        let all = incidents(set);
        assert!(!all.is_empty(), "no incidents in tests/incidents/{set}");
        for dir in all {
            let i = load(&dir);
            assert!(
                i.source.starts_with("https://") || i.source.contains(':'),
                "{}: source must be a URL or owner/repo:path",
                dir.display()
            );
            assert!(i.written_before_running, "{}: the expected cause must be written from the thread before running", dir.display());
            assert!(i.expected_rank1.contains('.'), "{}: expected_rank1 must be a rule id", dir.display());
            assert!(dir.join("mail.log").is_file(), "{}: no mail.log", dir.display());
        }
    }
}

#[test]
fn real_incidents_are_diagnosed_at_rank_1_from_the_log_alone() {
    let k = mailsleuth::load_knowledge(&[], false).expect("embedded knowledge base");
    let mut report = String::new();
    let mut below = Vec::new();
    for &(set, floor) in FLOORS {
        let all = incidents(set);
        let mut hits = 0;
        for dir in &all {
            let i = load(dir);
            let got = rank1(dir, &k);
            let ok = got.as_deref() == Some(i.expected_rank1.as_str());
            hits += usize::from(ok);
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            report.push_str(&format!(
                "  {} {set}/{name}: expected {}, got {}\n",
                if ok { "✓" } else { "✗" },
                i.expected_rank1,
                got.as_deref().unwrap_or("nothing")
            ));
        }
        report.push_str(&format!("{set}: {hits} of {} at rank 1\n", all.len()));
        if hits < floor {
            below.push(format!("{set}: {hits} < {floor}"));
        }
    }
    println!("{report}");
    assert!(below.is_empty(), "fewer incidents at rank 1 than measured before ({}):\n{report}", below.join(", "));
}
