//! `why --explain RULE`: one rule's outcome and its conditions, one by one, as text.

use super::Report;
use crate::kb::Knowledge;
use std::fmt::Write;

/// `why --explain RULE`: the rule's outcome and, condition by condition, whether it held and
/// against which facts. An unknown rule id is an error (with a did-you-mean).
pub fn render(report: &Report, k: &Knowledge, id: &str) -> Result<String, String> {
    let mut s = String::new();
    let Some(r) = k.rule(id) else {
        let hint = crate::text::did_you_mean(id, k.rules.iter().map(|r| r.rule.id.as_str()))
            .map(|h| format!(" — did you mean `{h}`?"))
            .unwrap_or_default();
        return Err(format!("no rule `{id}`{hint}"));
    };
    let Some(eval) = &report.evaluation else { return Err("no evaluation".into()) };
    let outcome = eval.outcome(id);
    let san = crate::text::sanitize;
    let _ = writeln!(s, "rule {id} ({})", san(&r.file));
    let _ = writeln!(s, "  {}", san(&r.rule.title));
    if let Some(o) = outcome {
        let _ =
            writeln!(s, "  outcome: {:?}{}", o.status, if o.detail.is_empty() { String::new() } else { format!(" — {}", san(&o.detail)) });
        for m in &o.missing {
            // What was not observed names paths and failure messages of the inspected host.
            let _ = writeln!(s, "  not observed: {}: {} (kind {})", san(&m.what), san(&m.why), san(&m.kind));
        }
    }
    for (i, step) in crate::engine::explain::explain(r, &eval.facts).iter().enumerate() {
        let mark = if step.held { "✓ held" } else { "✗ did not hold" };
        let _ = writeln!(
            s,
            "\n  condition {}: {}\n    {mark} ({} solution(s) so far)",
            i + 1,
            crate::text::sanitize(&step.condition),
            step.solutions
        );
        for c in &step.candidates {
            let fact = crate::text::sanitize(&c.fact);
            if c.failed.is_empty() {
                let _ = writeln!(s, "    matches  {fact}");
            } else {
                let _ = writeln!(s, "    rejects  {fact}");
                for f in &c.failed {
                    let _ = writeln!(s, "             because {}", crate::text::sanitize(f));
                }
            }
        }
        if step.more > 0 {
            let _ = writeln!(s, "    … and {} more facts of this kind", step.more);
        }
    }
    Ok(s)
}
