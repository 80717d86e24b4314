//! `why --explain RULE`: for one rule, each condition in order, whether it held, and
//! against which facts — the answer to "why did my rule not fire?".

use super::matcher::{self, Binding, Verdict};
use crate::kb::rule::{Condition, Operand, Test};
use crate::kb::LoadedRule;
use crate::model::FactSet;
use crate::model::Value;

/// Candidates shown per condition.
const SHOWN: usize = 6;

#[derive(Debug, Clone)]
pub struct Step {
    /// The condition, as text.
    pub condition: String,
    pub held: bool,
    /// Partial solutions after this condition.
    pub solutions: usize,
    /// Facts examined, each with its verdict (test → reason when it failed).
    pub candidates: Vec<Candidate>,
    /// Facts of the kind not shown.
    pub more: usize,
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub fact: String,
    pub failed: Vec<String>,
}

pub fn describe(c: &Condition) -> String {
    match c {
        Condition::Match { fact, alias, tests } => {
            let mut s = fact.to_string();
            if let Some(a) = alias {
                s.push_str(&format!(" as {a}"));
            }
            if !tests.is_empty() {
                let parts: Vec<String> = tests.iter().map(|(f, t)| format!("{f} {}", test_text(t))).collect();
                s.push_str(&format!(" where {}", parts.join(", ")));
            }
            s
        }
        Condition::Not(inner) => format!("no {}", describe(inner)),
        Condition::Optional(inner) => format!("optionally {}", describe(inner)),
        Condition::Any(alts) => format!("any of [{}]", alts.iter().map(describe).collect::<Vec<_>>().join(" | ")),
        Condition::All(parts) => format!("all of [{}]", parts.iter().map(describe).collect::<Vec<_>>().join(" & ")),
    }
}

fn operand_text(o: &Operand) -> String {
    match o {
        Operand::Lit(Value::Str(s)) => format!("{s:?}"),
        Operand::Lit(v) => v.to_string(),
        Operand::Ref(r) => format!("\"${r}\""),
        Operand::Template(pieces) => {
            let t: String = pieces
                .iter()
                .map(|p| match p {
                    crate::kb::template::Piece::Text(t) => t.clone(),
                    crate::kb::template::Piece::Ref { path, .. } => format!("{{{path}}}"),
                })
                .collect();
            format!("{t:?}")
        }
    }
}

/// A test as a rule author wrote it: `Eq("dir")`, `In(["/tmp", "/var/tmp"])`, `LacksBits(0o3)`.
pub fn test_text(t: &Test) -> String {
    let list = |v: &[Operand]| v.iter().map(operand_text).collect::<Vec<_>>().join(", ");
    match t {
        Test::Eq(o) => format!("Eq({})", operand_text(o)),
        Test::Ne(o) => format!("Ne({})", operand_text(o)),
        Test::Lt(o) => format!("Lt({})", operand_text(o)),
        Test::Le(o) => format!("Le({})", operand_text(o)),
        Test::Gt(o) => format!("Gt({})", operand_text(o)),
        Test::Ge(o) => format!("Ge({})", operand_text(o)),
        Test::Contains(o) => format!("Contains({})", operand_text(o)),
        Test::In(v) => format!("In([{}])", list(v)),
        Test::NotIn(v) => format!("NotIn([{}])", list(v)),
        Test::HasBits(m) => format!("HasBits(0o{m:o})"),
        Test::LacksBits(m) => format!("LacksBits(0o{m:o})"),
        Test::AnyBits(m) => format!("AnyBits(0o{m:o})"),
        Test::NoBits(m) => format!("NoBits(0o{m:o})"),
        Test::Matches(p) => format!("Matches(/{}/)", p.0.as_str()),
        Test::NotMatches(p) => format!("NotMatches(/{}/)", p.0.as_str()),
        Test::Exists => "Exists".into(),
        Test::Absent => "Absent".into(),
    }
}

/// Trace the rule's conditions one by one against `facts`.
pub fn explain(r: &LoadedRule, facts: &FactSet) -> Vec<Step> {
    let mut partial = vec![Binding::default()];
    let mut steps = Vec::new();
    for c in &r.rule.when {
        let mut next = Vec::new();
        let mut err = None;
        for b in &partial {
            if let Err(e) = matcher::solve(std::slice::from_ref(c), facts, b, &mut next) {
                err = Some(e);
            }
        }
        let mut candidates = Vec::new();
        let mut more = 0;
        let probe = partial.first().cloned().unwrap_or_default();
        let inner = match c {
            Condition::Not(inner) | Condition::Optional(inner) => Some(inner.as_ref()),
            other => Some(other),
        };
        if let Some(Condition::Match { fact, tests, .. }) = inner {
            let idx = facts.indices_of(fact);
            for &i in idx.iter().take(SHOWN) {
                let f = facts.get(i);
                let mut b = probe.clone();
                let mut failed = Vec::new();
                for (field, t) in tests {
                    match matcher::check(facts, f.get(field), t, &mut b) {
                        Ok(Verdict::Pass) => {}
                        Ok(Verdict::Fail(why)) => failed.push(format!("{field} {}: {why}", test_text(t))),
                        Err(e) => failed.push(format!("{field}: error: {e}")),
                    }
                }
                candidates.push(Candidate { fact: f.summary(), failed });
            }
            more = idx.len().saturating_sub(SHOWN);
        }
        let mut condition = describe(c);
        if let Some(e) = err {
            condition.push_str(&format!("  [error: {e}]"));
        }
        let held = !next.is_empty();
        steps.push(Step { condition, held, solutions: next.len(), candidates, more });
        partial = next;
        if partial.is_empty() {
            // Later conditions cannot hold; still show them, evaluated against nothing.
            for c2 in r.rule.when.iter().skip(steps.len()) {
                steps.push(Step { condition: describe(c2), held: false, solutions: 0, candidates: Vec::new(), more: 0 });
            }
            break;
        }
    }
    steps
}
