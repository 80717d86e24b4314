//! Ranking fired diagnoses, deterministically: a root cause of failures the log shows
//! above one that explains none of them (a latent risk); then explicit priority (salience); root
//! causes above symptoms; a diagnosis explaining more of the observed symptoms above those
//! it explains; more specific rules (more conditions satisfied) above generic ones;
//! stronger evidence; then confidence; then id and title, so output never depends on
//! hash order or timing.

use super::Diagnosis;
use crate::kb::rule::RuleKind;
use crate::kb::Knowledge;
use std::cmp::Ordering;

pub fn rank(k: &Knowledge, mut diags: Vec<Diagnosis>) -> Vec<Diagnosis> {
    let fired: Vec<String> = diags.iter().map(|d| d.id.clone()).collect();
    for d in diags.iter_mut() {
        if let Some(r) = k.rule(&d.id) {
            let mut ex: Vec<String> = r.rule.explains.iter().filter(|e| fired.contains(e)).cloned().collect();
            ex.sort();
            ex.dedup();
            d.explains = ex;
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
