//! Every scenario in tests/scenarios/ is diagnosed; its expect.ron (what must fire, what
//! must not, what must rank first) is asserted, and the whole ranked report is snapshotted
//! into the top-level snapshots/ folder so a review sees everything that moved.

use mailsleuth::report::human::{render, Style};
use mailsleuth::scenario::{self, Outcome};
use std::fmt::Write;

fn snapshot_text(run: &scenario::ScenarioRun) -> String {
    let mut s = render(&run.report, Style::plain());
    let _ = writeln!(s, "\n--- rule outcomes ---");
    if let Some(eval) = &run.report.evaluation {
        for o in &eval.outcomes {
            let _ = writeln!(s, "{:<45} {:?}", o.rule, o.status);
        }
    }
    s
}

#[test]
fn scenarios() {
    let k = mailsleuth::load_knowledge(&[], false).unwrap_or_else(|e| panic!("knowledge base: {e:?}"));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    let mut ran = 0;
    let mut cannot = Vec::new();
    settings.bind(|| {
        insta::glob!("scenarios/*/expect.ron", |path| {
            let dir = path.parent().unwrap_or(std::path::Path::new("."));
            match scenario::run(dir, &k) {
                Err(e) => panic!("{}: {e}", dir.display()),
                Ok(Outcome::CannotRun(why)) => {
                    eprintln!("scenario {} cannot run here: {why}", dir.display());
                    cannot.push(dir.display().to_string());
                }
                Ok(Outcome::Ran(run)) => {
                    ran += 1;
                    assert!(run.failures.is_empty(), "scenario {}:\n  {}\n\n{}", run.name, run.failures.join("\n  "), snapshot_text(&run));
                    insta::assert_snapshot!(snapshot_text(&run));
                }
            }
        });
    });
    assert!(ran > 0, "no scenario ran");
    // Owners can only be set by root; as root nothing may be skipped.
    if nix::unistd::geteuid().is_root() {
        assert!(cannot.is_empty(), "skipped as root: {cannot:?}");
    }
}
