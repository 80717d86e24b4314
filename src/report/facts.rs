//! `mailsleuth facts`: every fact gathered, with where it came from, as text or JSON.

use crate::bundle::Bundle;
use crate::model::{Fact, FactSet};
use crate::text::sanitize;
use std::fmt::Write;

fn selected<'a>(facts: &'a FactSet, kind: Option<&str>) -> Vec<&'a Fact> {
    facts.all().iter().filter(|f| kind.is_none_or(|want| f.kind == want)).collect()
}

/// The facts (of `kind`, when given), every unavailable record and every observation's provenance.
pub fn json(b: &Bundle, facts: &FactSet, kind: Option<&str>) -> Result<String, serde_json::Error> {
    let v = serde_json::json!({ "facts": selected(facts, kind), "unavailable": facts.unavailable, "observations": b.observations.iter().map(|o| serde_json::json!({"id": o.id, "source": o.source.label(), "elapsed_ms": o.elapsed_ms, "problem": o.problem()})).collect::<Vec<_>>() });
    serde_json::to_string_pretty(&v)
}

/// One fact a line with up to three lines of evidence; then what could not be observed.
pub fn human(facts: &FactSet, kind: Option<&str>) -> String {
    let mut s = String::new();
    for f in selected(facts, kind) {
        let _ = writeln!(s, "{}", sanitize(&f.summary()));
        for e in f.evidence.iter().take(3) {
            let _ = writeln!(s, "    from {}: {}", sanitize(&e.source), sanitize(&e.text));
        }
        if f.more_evidence > 0 {
            let _ = writeln!(s, "    … and {} more", f.more_evidence);
        }
    }
    for u in facts.unavailable.iter().filter(|u| kind.is_none_or(|want| u.kind == want)) {
        let _ = writeln!(s, "unavailable {}: {}: {}", u.kind, sanitize(&u.what), sanitize(&u.why));
    }
    s
}
