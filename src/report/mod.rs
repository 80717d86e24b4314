//! Reports: the ranked diagnoses with their chain of reasoning, for humans (a senior
//! admin's answer: root cause first, evidence, fix, what it explains, what could not be
//! checked) and as JSON (a stable contract, documented in the README).
//!
//! Everything printed that came from the inspected system is sanitised; fix commands were
//! already built with shell-quoted values by the engine.

pub mod explain;
pub mod facts;
pub mod human;
pub mod logstats;
pub mod monitor;
pub mod queue;
pub mod verdict;

use crate::bundle::Bundle;
use crate::engine::accounting::Accounting;
use crate::engine::{Diagnosis, Evaluation, Outcome, Status};
use crate::kb::Knowledge;
use crate::model::{FactSet, ReadStats};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct UnavailableEntry {
    /// A short human phrase: "free space: not used under --root".
    pub summary: String,
    pub what: String,
    pub why: String,
    /// Fact kinds left incomplete.
    pub kinds: Vec<String>,
    /// Rules that were skipped because of it.
    pub rules_skipped: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct RuleCounts {
    pub fired: usize,
    pub passed: usize,
    pub skipped: usize,
    pub error: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub mailsleuth: String,
    /// OK, WARNING, CRITICAL or UNKNOWN (report/verdict.rs); the exit code of `why`.
    pub verdict: verdict::Verdict,
    /// Rules that could not run, and what would let them (absent when every rule ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_checked: Option<verdict::NotChecked>,
    pub host: String,
    pub live: bool,
    /// Only logs were observed: configuration, files and services were not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub log_only: bool,
    /// The `--root` directory, when not a live host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// Mail software found (postfix, dovecot, maildrop, ...).
    pub mail_system: Vec<String>,
    /// The MTA of the host (`mta` facts): postfix or courier, diagnosed; exim, sendmail,
    /// opensmtpd, recognised and not diagnosed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mta: Vec<Mta>,
    pub diagnoses: Vec<Diagnosis>,
    /// Every deferred, bounced and expired message and every reject in the window, by the
    /// diagnosis that explains it, and the reasons nothing explains.
    pub accounting: Accounting,
    /// Conclusions the log suggested and the host's observed facts refuted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withdrawn: Vec<crate::engine::Withdrawn>,
    pub unavailable: Vec<UnavailableEntry>,
    pub rules: RuleCounts,
    /// Rules that failed while evaluating (a knowledge-base defect): id and message.
    pub rule_errors: Vec<Outcome>,
    pub logs: ReadStats,
    pub facts: usize,
    #[serde(skip)]
    pub evaluation: Option<Evaluation>,
}

impl Report {
    pub fn new(bundle: &Bundle, _k: &Knowledge, eval: Evaluation) -> Report {
        let mut mail_system: Vec<String> =
            eval.facts.of_kind("software").filter_map(|f| f.get("name").and_then(|v| v.as_str()).map(str::to_string)).collect();
        mail_system.sort();
        mail_system.dedup();
        let mta = eval
            .facts
            .of_kind("mta")
            .map(|f| {
                let s = |k: &str| f.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                Mta { name: s("name"), label: s("label"), diagnosed: f.get("diagnosed") == Some(&crate::model::Value::Bool(true)) }
            })
            .collect();
        let count = |s: Status| eval.outcomes.iter().filter(|o| o.status == s).count();
        let rules = RuleCounts {
            fired: count(Status::Fired),
            passed: count(Status::Passed),
            skipped: count(Status::Skipped),
            error: count(Status::Error),
        };
        let unavailable = unavailable_entries(&eval.facts, &eval.outcomes);
        let root = !bundle.live && !bundle.log_only && bundle.root != "/";
        let not_checked = (rules.skipped + rules.error > 0).then(|| {
            let whys: Vec<&str> = unavailable.iter().filter(|u| !u.rules_skipped.is_empty()).map(|u| u.why.as_str()).collect();
            verdict::NotChecked {
                rules_skipped: rules.skipped + rules.error,
                rules: eval.outcomes.len(),
                hint: verdict::hint(&whys, bundle.live, root),
            }
        });
        let worst = eval.diagnoses.iter().map(|d| verdict::Verdict::of_severity(d.severity)).max().unwrap_or(verdict::Verdict::Ok);
        let verdict = if worst != verdict::Verdict::Ok || bundle.log_only || not_checked.is_none() || mail_system.is_empty() {
            worst
        } else {
            verdict::Verdict::Unknown
        };
        Report {
            mailsleuth: env!("CARGO_PKG_VERSION").to_string(),
            verdict,
            not_checked,
            host: bundle.host.clone(),
            live: bundle.live,
            log_only: bundle.log_only,
            root: (!bundle.live && !bundle.log_only).then(|| bundle.root.clone()),
            mail_system,
            mta,
            diagnoses: eval.diagnoses.clone(),
            accounting: eval.accounting.clone(),
            withdrawn: eval.withdrawn.clone(),
            unavailable,
            rules,
            rule_errors: eval.outcomes.iter().filter(|o| o.status == Status::Error).cloned().collect(),
            logs: eval.facts.stats.clone(),
            facts: eval.facts.len(),
            evaluation: Some(eval),
        }
    }

    /// The monitoring-plugin code of the verdict: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.verdict.code())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// An MTA found on the host.
#[derive(Clone, Debug, Serialize)]
pub struct Mta {
    pub name: String,
    pub label: String,
    pub diagnosed: bool,
}

/// Group unavailability records by reason, with what was not seen, the kinds and the
/// skipped rules they affect ("statvfs /tmp, statvfs /var/tmp: not run: --root given").
fn unavailable_entries(facts: &FactSet, outcomes: &[Outcome]) -> Vec<UnavailableEntry> {
    let mut out: Vec<UnavailableEntry> = Vec::new();
    let mut whats: Vec<Vec<String>> = Vec::new();
    // On a host whose MTA is not Postfix, Postfix's configuration and queue are not
    // "not checked": they are not there.
    let no_postfix = crate::facts::mta::postfix_absent(facts);
    for u in facts.unavailable.iter().filter(|u| !(no_postfix && crate::facts::mta::is_postfix_only(&u.kind, &u.what))) {
        let i = match out.iter().position(|e| e.why == u.why) {
            Some(i) => i,
            None => {
                out.push(UnavailableEntry {
                    summary: String::new(),
                    what: String::new(),
                    why: u.why.clone(),
                    kinds: Vec::new(),
                    rules_skipped: Vec::new(),
                });
                whats.push(Vec::new());
                out.len() - 1
            }
        };
        if !whats[i].contains(&u.what) {
            whats[i].push(u.what.clone());
        }
        let entry = &mut out[i];
        if !entry.kinds.contains(&u.kind) {
            entry.kinds.push(u.kind.clone());
        }
        for o in outcomes.iter().filter(|o| o.status == Status::Skipped) {
            // Postfix's own rules are not "not checked" on a host without Postfix.
            if no_postfix && o.rule.contains("postfix") {
                continue;
            }
            if o.missing.contains(u) && !entry.rules_skipped.contains(&o.rule) {
                entry.rules_skipped.push(o.rule.clone());
            }
        }
    }
    for (e, w) in out.iter_mut().zip(whats) {
        e.what = w.join(", ");
        e.summary = verdict::short_phrase(&e.kinds, &e.what, &e.why);
        e.kinds.sort();
        e.rules_skipped.sort();
    }
    out
}
