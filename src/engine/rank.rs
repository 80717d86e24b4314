//! Ranking fired diagnoses, deterministically: a root cause of failures the log shows
//! above one that explains none of them (a latent risk); then explicit priority (salience); root
//! causes above symptoms; a diagnosis explaining more of the observed symptoms above those
//! it explains; more specific rules (more conditions satisfied) above generic ones;
//! stronger evidence; then confidence; then id and title, so output never depends on
//! hash order or timing.

use super::Diagnosis;
use crate::kb::rule::RuleKind;
use crate::kb::Knowledge;
use crate::model::{FactSet, Value};
use std::cmp::Ordering;

pub fn rank(k: &Knowledge, facts: &FactSet, mut diags: Vec<Diagnosis>) -> Vec<Diagnosis> {
    let fired: Vec<String> = diags.iter().map(|d| d.id.clone()).collect();
    let times = LogTimes::new(facts);
    // Root causes whose log evidence has an error, fatal or panic line, with the time of
    // the earliest: candidates for the cause of a downstream finding.
    let failing_first: Vec<(String, i64)> = diags
        .iter()
        .filter(|d| d.kind == RuleKind::RootCause && !k.rule(&d.id).is_some_and(|r| r.rule.downstream))
        .filter_map(|d| times.first_failure(&d.covers_signatures).map(|t| (d.id.clone(), t)))
        .collect();
    for d in diags.iter_mut() {
        if let Some(r) = k.rule(&d.id) {
            let mut ex: Vec<String> = r.rule.explains.iter().filter(|e| fired.contains(e)).cloned().collect();
            ex.sort();
            ex.dedup();
            d.explains = ex;
        }
    }
    // A downstream finding (a service master throttles, a transport that is unavailable)
    // is explained by a failure logged no later than its own first line.
    let downstream: Vec<(String, i64)> = diags
        .iter()
        .filter(|d| k.rule(&d.id).is_some_and(|r| r.rule.downstream))
        .filter_map(|d| times.first_line(&d.covers_signatures).map(|t| (d.id.clone(), t)))
        .collect();
    for d in diags.iter_mut() {
        if let Some(&(_, at)) = failing_first.iter().find(|(id, _)| *id == d.id) {
            for (down, first) in &downstream {
                if at <= *first && *down != d.id && !d.explains.contains(down) {
                    d.explains.push(down.clone());
                }
            }
            d.explains.sort();
        }
    }
    let explainers: Vec<(String, Vec<String>)> = diags.iter().map(|d| (d.id.clone(), d.explains.clone())).collect();
    for d in diags.iter_mut() {
        let mut by: Vec<String> = explainers.iter().filter(|(_, ex)| ex.contains(&d.id)).map(|(id, _)| id.clone()).collect();
        by.sort();
        by.dedup();
        d.explained_by = by;
    }
    // A root cause that explains none of the failures observed is a latent risk while
    // another explains some: it may matter, but it is not why this mail failed.
    // A finding that rests on log lines of its own (a fatal, an error) is an observed
    // failure itself, never latent: only host-state findings can be.
    let any_explained = diags.iter().any(|d| d.kind == RuleKind::RootCause && d.explains_failures > 0);
    for d in diags.iter_mut() {
        let observed_in_log = !d.covers_signatures.is_empty() || !d.covers_failures.is_empty();
        d.latent = any_explained && d.kind == RuleKind::RootCause && d.explains_failures == 0 && !observed_in_log;
    }
    diags.sort_by(compare);
    for (i, d) in diags.iter_mut().enumerate() {
        d.rank = i + 1;
    }
    diags
}

/// First-line times of the log signatures in the facts, and whether each is a failure
/// (error, fatal, panic).
struct LogTimes {
    sigs: Vec<(String, i64, bool)>,
}

impl LogTimes {
    fn new(facts: &FactSet) -> Self {
        let sigs = facts
            .of_kind("log_signature")
            .filter_map(|f| {
                let id = f.get("id")?.as_str()?.to_string();
                let at = match f.get("first_at")? {
                    Value::Int(n) => *n,
                    _ => return None,
                };
                let failure = matches!(f.get("severity").and_then(Value::as_str), Some("error" | "fatal" | "panic"));
                Some((id, at, failure))
            })
            .collect();
        LogTimes { sigs }
    }

    /// The earliest first line among these signatures.
    fn first_line(&self, ids: &[String]) -> Option<i64> {
        self.sigs.iter().filter(|(id, _, _)| ids.contains(id)).map(|(_, at, _)| *at).min()
    }

    /// The earliest first line among those of these signatures that are failures.
    fn first_failure(&self, ids: &[String]) -> Option<i64> {
        self.sigs.iter().filter(|(id, _, f)| *f && ids.contains(id)).map(|(_, at, _)| *at).min()
    }
}

fn kind_order(k: RuleKind) -> u8 {
    match k {
        RuleKind::RootCause => 0,
        RuleKind::Symptom => 1,
        RuleKind::Derived => 2,
    }
}

/// The ranking order (less = better).
pub fn compare(a: &Diagnosis, b: &Diagnosis) -> Ordering {
    a.latent
        .cmp(&b.latent)
        .then(b.priority.cmp(&a.priority))
        .then(kind_order(a.kind).cmp(&kind_order(b.kind)))
        .then(b.explains.len().cmp(&a.explains.len()))
        .then(a.explained_by.len().cmp(&b.explained_by.len()))
        .then(b.specificity.cmp(&a.specificity))
        .then(b.strength.cmp(&a.strength))
        .then(b.confidence.partial_cmp(&a.confidence).unwrap_or(Ordering::Equal))
        .then(b.severity.cmp(&a.severity))
        .then(a.id.cmp(&b.id))
        .then(a.title.cmp(&b.title))
}
