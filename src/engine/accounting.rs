//! Every failure accounted for: each deferred, bounced and expired message in the window,
//! and each reject line, is attributed to the best-ranked diagnosis whose facts cover its
//! failure line, or listed as unexplained with its reason.
//!
//! "Covers" is proven per failure reason, not declared per rule: a diagnosis covers a
//! `delivery_failure` fact when its rule matched that fact, or matched a fact resting on the
//! same log signature (a `log_signature`, `log_sample`, `log_values`, or a fact concluded
//! from them). A symptom built on totals (`delivery_summary`) covers nothing.

use super::Diagnosis;
use crate::model::{Evidence, Fact, FactSet, Value};
use serde::Serialize;

/// The statuses accounted for, in report order.
pub const STATUSES: [&str; 4] = ["deferred", "bounced", "expired", "reject"];

#[derive(Clone, Debug, Default, Serialize)]
pub struct Accounting {
    pub deferred: StatusAccount,
    pub bounced: StatusAccount,
    pub expired: StatusAccount,
    /// Reject lines (smtpd and cleanup reject per line, not per message).
    pub rejects: StatusAccount,
    /// Expired messages whose deferrals were logged before the window.
    pub expired_without_reason: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct StatusAccount {
    pub total: u64,
    pub explained: u64,
    /// (diagnosis id, count), most first.
    pub by_diagnosis: Vec<ByDiagnosis>,
    /// Reasons no diagnosis explains, most frequent first.
    pub unexplained: Vec<Unexplained>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ByDiagnosis {
    pub id: String,
    pub count: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Unexplained {
    /// The signature id, or the reason's template when no signature knows the line.
    pub reason: String,
    pub category: String,
    pub count: u64,
    pub sample: Option<Evidence>,
}

fn int(f: &Fact, name: &str) -> u64 {
    f.get(name).and_then(Value::as_i64).map_or(0, |n| n.max(0) as u64)
}

fn text<'a>(f: &'a Fact, name: &str) -> &'a str {
    f.get(name).and_then(Value::as_str).unwrap_or("")
}

/// Whether `d` covers the `delivery_failure` fact `i`.
fn covers(d: &Diagnosis, facts: &FactSet, i: usize) -> bool {
    if d.covers_failures.contains(&i) {
        return true;
    }
    let sig = text(facts.get(i), "signature");
    !sig.is_empty() && d.covers_signatures.iter().any(|s| s == sig)
}

/// The failure facts, by index.
fn failures(facts: &FactSet) -> impl Iterator<Item = usize> + '_ {
    (0..facts.len()).filter(|&i| facts.get(i).kind == "delivery_failure")
}

/// Before ranking: how many failures each diagnosis could explain (ranking prefers causes
/// of what was observed).
pub fn count_explained(facts: &FactSet, diags: &mut [Diagnosis]) {
    let fails: Vec<usize> = failures(facts).collect();
    for d in diags.iter_mut() {
        d.explains_failures =
            fails.iter().filter(|&&i| covers(d, facts, i)).map(|&i| int(facts.get(i), "messages") + int(facts.get(i), "rejects")).sum();
    }
}

impl Accounting {
    /// Attribute every failure to the first diagnosis (in rank order) that covers it.
    pub fn new(facts: &FactSet, ranked: &[Diagnosis]) -> Accounting {
        let mut a = Accounting::default();
        for i in failures(facts) {
            let f = facts.get(i);
            let by = ranked.iter().find(|d| covers(d, facts, i)).map(|d| d.id.clone());
            let reason = match (text(f, "template"), text(f, "signature")) {
                ("", sig) => sig.to_string(),
                (t, _) => format!("{}: {t}", text(f, "agent")),
            };
            for status in STATUSES {
                let n = if status == "reject" { int(f, "rejects") } else { int(f, status) };
                if n == 0 {
                    continue;
                }
                let acct = a.status_mut(status);
                acct.total += n;
                match &by {
                    Some(id) => {
                        acct.explained += n;
                        match acct.by_diagnosis.iter_mut().find(|b| &b.id == id) {
                            Some(b) => b.count += n,
                            None => acct.by_diagnosis.push(ByDiagnosis { id: id.clone(), count: n }),
                        }
                    }
                    None => match acct.unexplained.iter_mut().find(|u| u.reason == reason) {
                        Some(u) => u.count += n,
                        None => acct.unexplained.push(Unexplained {
                            reason: reason.clone(),
                            category: text(f, "category").to_string(),
                            count: n,
                            sample: f.evidence.first().cloned(),
                        }),
                    },
                }
            }
        }
        a.expired_without_reason = facts.stats.log_expired_without_reason;
        a.expired.total += a.expired_without_reason;
        for s in [&mut a.deferred, &mut a.bounced, &mut a.expired, &mut a.rejects] {
            s.by_diagnosis.sort_by(|x, y| y.count.cmp(&x.count).then(x.id.cmp(&y.id)));
            s.unexplained.sort_by(|x, y| y.count.cmp(&x.count).then(x.reason.cmp(&y.reason)));
        }
        a
    }

    fn status_mut(&mut self, status: &str) -> &mut StatusAccount {
        match status {
            "deferred" => &mut self.deferred,
            "bounced" => &mut self.bounced,
            "expired" => &mut self.expired,
            _ => &mut self.rejects,
        }
    }

    pub fn status(&self, status: &str) -> &StatusAccount {
        match status {
            "deferred" => &self.deferred,
            "bounced" => &self.bounced,
            "expired" => &self.expired,
            _ => &self.rejects,
        }
    }

    /// Whether any failure was seen at all.
    pub fn is_empty(&self) -> bool {
        STATUSES.iter().all(|s| self.status(s).total == 0)
    }
}
