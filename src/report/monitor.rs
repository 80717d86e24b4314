//! Monitoring outputs: `mailsleuth check` (a Nagios/Icinga/Sensu plugin: one status line
//! with perfdata, the plugin exit codes, thresholds) and `mailsleuth metrics` (the
//! Prometheus text exposition format, for node_exporter's textfile collector).
//!
//! Both read the same [`Report`]: its verdict, diagnoses, accounting (deferred, bounced,
//! expired, rejects in the log window), queue facts and rule counts.

use super::verdict::Verdict;
use super::Report;
use crate::engine::accounting::STATUSES;
use crate::text::sanitize;
use std::fmt::Write;

/// The counters both outputs carry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Messages (lines for rejects) in the log window, by status.
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
    pub rejects: u64,
    /// Messages in each queue (incoming, active, deferred, hold, ...), when observed.
    pub queues: Vec<(String, u64, u64)>,
    /// Whether the queue was observed at all.
    pub queue_observed: bool,
}

impl Counters {
    pub fn of(r: &Report) -> Counters {
        let a = &r.accounting;
        let mut queues = Vec::new();
        if let Some(eval) = &r.evaluation {
            for f in eval.facts.of_kind("queue_summary") {
                let name = f.get("queue").and_then(|v| v.as_str()).unwrap_or("?").to_string();
                let n = f.get("messages").and_then(|v| v.as_i64()).unwrap_or(0).max(0) as u64;
                let age = f.get("oldest_age_s").and_then(|v| v.as_i64()).unwrap_or(0).max(0) as u64;
                queues.push((name, n, age));
            }
        }
        queues.sort();
        let queue_observed = !queues.is_empty();
        Counters {
            deferred: a.deferred.total,
            bounced: a.bounced.total,
            expired: a.expired.total,
            rejects: a.rejects.total,
            queues,
            queue_observed,
        }
    }
    /// Messages in every queue.
    pub fn queued(&self) -> u64 {
        self.queues.iter().map(|q| q.1).sum()
    }
    /// The oldest message's age over every queue, seconds.
    pub fn oldest(&self) -> u64 {
        self.queues.iter().map(|q| q.2).max().unwrap_or(0)
    }
}

/// `check`'s thresholds: WARNING at or above `warn`, CRITICAL at or above `crit`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Threshold {
    pub warn: Option<u64>,
    pub crit: Option<u64>,
}

impl Threshold {
    fn state(&self, v: u64) -> Verdict {
        if self.crit.is_some_and(|c| v >= c) {
            Verdict::Critical
        } else if self.warn.is_some_and(|w| v >= w) {
            Verdict::Warning
        } else {
            Verdict::Ok
        }
    }
    fn perf(&self) -> String {
        format!("{};{}", self.warn.map(|v| v.to_string()).unwrap_or_default(), self.crit.map(|v| v.to_string()).unwrap_or_default())
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Thresholds {
    pub deferred: Threshold,
    pub bounced: Threshold,
    pub queue: Threshold,
    pub queue_age: Threshold,
}

/// The worse of two verdicts in the plugin order (UNKNOWN only beats OK: a real problem
/// found is worth more than "some rules could not run").
fn worse(a: Verdict, b: Verdict) -> Verdict {
    let rank = |v: Verdict| match v {
        Verdict::Ok => 0,
        Verdict::Unknown => 1,
        Verdict::Warning => 2,
        Verdict::Critical => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// A plugin's output: one status line, `MAILSLEUTH STATE - text | perfdata`, and its exit
/// code. The text names the top diagnosis (and how many more), the counter over its
/// threshold, or what could not be checked.
pub fn check(r: &Report, t: &Thresholds) -> (String, Verdict) {
    let c = Counters::of(r);
    let mut state = r.verdict;
    let mut reasons: Vec<String> = Vec::new();
    let shown: Vec<&crate::engine::Diagnosis> = r.diagnoses.iter().filter(|d| Verdict::of_severity(d.severity) != Verdict::Ok).collect();
    if let Some(d) = shown.first() {
        let mut s = one_line(&d.title);
        if shown.len() > 1 {
            s.push_str(&format!(" (and {} more)", shown.len() - 1));
        }
        reasons.push(s);
    }
    for (name, v, th) in [
        ("deferred messages", c.deferred, t.deferred),
        ("bounced messages", c.bounced, t.bounced),
        ("queued messages", c.queued(), t.queue),
        ("oldest queued message age (s)", c.oldest(), t.queue_age),
    ] {
        let s = th.state(v);
        if s != Verdict::Ok {
            state = worse(state, s);
            reasons.push(format!("{name} {v}"));
        }
    }
    if reasons.is_empty() {
        reasons.push(match (&r.not_checked, r.verdict) {
            (Some(n), Verdict::Unknown) => n.sentence(),
            _ if r.mail_system.is_empty() && !r.log_only => "no mail system on this host".to_string(),
            _ => format!("no problem found by {} rules", r.rules.fired + r.rules.passed),
        });
    }
    let mut perf = vec![
        format!("deferred={};{};0;", c.deferred, t.deferred.perf()),
        format!("bounced={};{};0;", c.bounced, t.bounced.perf()),
        format!("expired={};;;0;", c.expired),
        format!("rejects={};;;0;", c.rejects),
    ];
    if c.queue_observed {
        perf.push(format!("queue={};{};0;", c.queued(), t.queue.perf()));
        perf.push(format!("queue_oldest={}s;{};0;", c.oldest(), t.queue_age.perf()));
        for (q, n, _) in &c.queues {
            perf.push(format!("'queue_{}'={n};;;0;", perf_label(q)));
        }
    }
    perf.push(format!("diagnoses={};;;0;", r.diagnoses.len()));
    perf.push(format!("rules_skipped={};;;0;", r.rules.skipped + r.rules.error));
    let line = format!("MAILSLEUTH {} - {} | {}", state.word(), reasons.join("; "), perf.join(" "));
    (line, state)
}

/// A plugin's text: one line, no `|` (it starts the perfdata), sanitised.
fn one_line(s: &str) -> String {
    sanitize(s).replace(['|', '\n', '\r'], " ")
}

/// A perfdata label: no quote, `=` or space (the guidelines' forbidden characters).
fn perf_label(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// A Prometheus label value: backslash, double quote and newline escaped.
fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The Prometheus text exposition format (one scrape): verdict, diagnoses by id and
/// severity, failures in the window by status and by the diagnosis that explains them or
/// the reason category nothing explains, queue sizes and ages, rule outcomes, log lines
/// read, and the collection time (`seconds`, measured by the caller).
pub fn metrics(r: &Report, seconds: f64) -> String {
    let c = Counters::of(r);
    let mut s = String::new();
    let family = |s: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(s, "# HELP mailsleuth_{name} {help}");
        let _ = writeln!(s, "# TYPE mailsleuth_{name} {kind}");
    };
    family(&mut s, "verdict", "gauge", "The verdict as the plugin exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.");
    let _ = writeln!(s, "mailsleuth_verdict {}", r.verdict.code());
    family(&mut s, "diagnosis", "gauge", "1 for each diagnosis made, by rule id, kind and severity.");
    for d in &r.diagnoses {
        let kind = match d.kind {
            crate::kb::rule::RuleKind::RootCause => "root_cause",
            crate::kb::rule::RuleKind::Symptom => "symptom",
            crate::kb::rule::RuleKind::Derived => "derived",
        };
        let sev = format!("{:?}", d.severity).to_lowercase();
        let _ = writeln!(s, "mailsleuth_diagnosis{{id=\"{}\",kind=\"{kind}\",severity=\"{sev}\"}} 1", label(&d.id));
    }
    family(
        &mut s,
        "failures",
        "gauge",
        "Deferred, bounced and expired messages and reject lines in the log window, by the diagnosis that explains them (explained_by) or, unexplained, by reason class.",
    );
    for status in STATUSES {
        let a = r.accounting.status(status);
        for b in &a.by_diagnosis {
            let _ =
                writeln!(s, "mailsleuth_failures{{status=\"{status}\",explained_by=\"{}\",reason_class=\"\"}} {}", label(&b.id), b.count);
        }
        let mut classes: Vec<(String, u64)> = Vec::new();
        for u in &a.unexplained {
            match classes.iter_mut().find(|(c, _)| *c == u.category) {
                Some((_, n)) => *n += u.count,
                None => classes.push((u.category.clone(), u.count)),
            }
        }
        for (class, n) in classes {
            let _ = writeln!(s, "mailsleuth_failures{{status=\"{status}\",explained_by=\"\",reason_class=\"{}\"}} {n}", label(&class));
        }
    }
    family(
        &mut s,
        "failures_total_window",
        "gauge",
        "Every deferred, bounced, expired message and reject line in the log window, by status.",
    );
    for (status, n) in [("deferred", c.deferred), ("bounced", c.bounced), ("expired", c.expired), ("reject", c.rejects)] {
        let _ = writeln!(s, "mailsleuth_failures_total_window{{status=\"{status}\"}} {n}");
    }
    if c.queue_observed {
        family(&mut s, "queue_messages", "gauge", "Messages in each Postfix queue.");
        for (q, n, _) in &c.queues {
            let _ = writeln!(s, "mailsleuth_queue_messages{{queue=\"{}\"}} {n}", label(q));
        }
        family(&mut s, "queue_oldest_age_seconds", "gauge", "Age of the oldest message in each Postfix queue (0 when empty).");
        for (q, _, age) in &c.queues {
            let _ = writeln!(s, "mailsleuth_queue_oldest_age_seconds{{queue=\"{}\"}} {age}", label(q));
        }
    }
    family(&mut s, "rules", "gauge", "Rules of the knowledge base by outcome (skipped: a fact they read was not observed).");
    for (o, n) in [("fired", r.rules.fired), ("passed", r.rules.passed), ("skipped", r.rules.skipped), ("error", r.rules.error)] {
        let _ = writeln!(s, "mailsleuth_rules{{outcome=\"{o}\"}} {n}");
    }
    family(&mut s, "log_lines_read", "gauge", "Mail log lines read.");
    let _ = writeln!(s, "mailsleuth_log_lines_read {}", r.logs.log_lines);
    family(&mut s, "collection_seconds", "gauge", "Wall time of collection and diagnosis.");
    let _ = writeln!(s, "mailsleuth_collection_seconds {seconds:.3}");
    s
}
