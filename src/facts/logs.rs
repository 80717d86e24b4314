//! Mail-log facts: `log_source` (which logs were read and why, the reason the collector
//! recorded), and the scanner's `LogStats` as `log_file`, `log_signature`,
//! `delivery_summary`, `log_destination`, `log_values` and `delivery_failure` facts.

use crate::bundle::{Bundle, Payload, Source};
use crate::kb::Knowledge;
use crate::logscan::line::line_stamp;
use crate::logscan::{self, FailStats, LogStats, ScanOptions};
use crate::logscan::{trend_word, TREND_BUCKETS};
use crate::model::{Fact, FactSet, FieldType, KindSpec};

pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "log_file",
        producer: "parser: mail logs",
        doc: "a mail log that was read",
        fields: &[
            ("path", FieldType::String, "log path"),
            ("lines", FieldType::Integer, "lines read"),
            ("skipped_lines", FieldType::Integer, "garbage lines skipped (NUL bytes, invalid UTF-8, over-long)"),
            ("matched_lines", FieldType::Integer, "lines that matched a signature"),
        ],
    },
    KindSpec {
        name: "log_source",
        producer: "parser: mail log observations (the reason recorded by the log collector)",
        doc: "a mail log that was read or could not be read, and why it was looked at",
        fields: &[
            ("path", FieldType::String, "log path, or journalctl"),
            (
                "reason",
                FieldType::String,
                "why it was read: default, postfix maillog_file, dovecot log_path, dovecot protocol lda log_path, rsyslog mail.* destination (file:line), fallback: ...; `not recorded` in bundles of older versions",
            ),
            ("status", FieldType::String, "read, empty, failed"),
            ("problem", FieldType::String, "why it could not be read (status failed)"),
        ],
    },
    KindSpec {
        name: "log_signature",
        producer: "parser: mail logs + knowledge/signatures",
        doc: "a known log signature seen in the logs, aggregated",
        fields: &[
            ("id", FieldType::String, "signature id, e.g. maildrop.tmpfile"),
            ("program", FieldType::String, "program of the last matching line, e.g. postfix/local"),
            ("category", FieldType::String, "category from the signature catalogue"),
            ("severity", FieldType::String, "info, warning, error, fatal, panic"),
            ("count", FieldType::Integer, "matching lines"),
            ("messages", FieldType::Integer, "distinct Postfix queue ids among the matching lines"),
            ("min_size", FieldType::Integer, "smallest size= of those messages (when known)"),
            ("max_size", FieldType::Integer, "largest size= of those messages (when known)"),
            ("first_seen", FieldType::String, "timestamp of the first matching line"),
            ("last_seen", FieldType::String, "timestamp of the last matching line"),
            ("first_at", FieldType::Integer, "first matching line, seconds since the epoch on the log's clock"),
            ("last_at", FieldType::Integer, "last matching line, seconds since the epoch on the log's clock"),
            ("trend", FieldType::String, "second half of the window against the first: rising, falling, steady, stopped, sparse (under 4 lines), none (under an hour of log)"),
        ],
    },
    KindSpec {
        name: "delivery_summary",
        producer: "parser: mail logs (Postfix queue-id correlation)",
        doc: "messages by their last delivery status in the logs",
        fields: &[
            ("status", FieldType::String, "sent, deferred, bounced, expired"),
            ("lines", FieldType::Integer, "status= lines with this status"),
            ("smtp_lines", FieldType::Integer, "of those, the lines of the SMTP client (remote deliveries)"),
            ("messages", FieldType::Integer, "distinct messages whose last status is this"),
            ("min_size", FieldType::Integer, "smallest size= among those messages (when known)"),
            ("max_size", FieldType::Integer, "largest size= among those messages (when known)"),
            ("trend", FieldType::String, "status= lines, second half of the window against the first: rising, falling, steady, stopped, sparse, none (under an hour of log)"),
        ],
    },
    KindSpec {
        name: "log_destination",
        producer: "parser: mail logs (Postfix status= lines)",
        doc: "a recipient domain with deferred or bounced deliveries, the 20 worst",
        fields: &[
            ("domain", FieldType::String, "recipient domain (lowercase)"),
            ("rank", FieldType::Integer, "1 = most deferred + bounced lines"),
            ("deferred", FieldType::Integer, "status=deferred lines"),
            ("bounced", FieldType::Integer, "status=bounced lines"),
            ("top_signature", FieldType::String, "the signature of most of those lines, or (no signature)"),
            ("top_signature_lines", FieldType::Integer, "lines of that signature"),
        ],
    },
    KindSpec {
        name: "delivery_failure",
        producer: "parser: mail logs (status=deferred/bounced/expired lines and rejects, by reason)",
        doc: "one reason mail failed for in the window: the signature that knows the failure line, or the line's structure (agent, DSN, errno) when none does; every failed message counts once, under its last failure",
        fields: &[
            ("status", FieldType::String, "deferred, bounced, expired (the most common final status of these messages), or reject"),
            ("signature", FieldType::String, "the signature id of the failure line; empty when no signature (but the catch-all) knows it"),
            ("category", FieldType::String, "the signature's category, or the one read from the DSN code and errno"),
            ("agent", FieldType::String, "the program that logged it: smtp, lmtp, local, virtual, pipe, smtpd, cleanup, …"),
            ("relay", FieldType::String, "relay= of the status line (local, virtual, host[ip]:port, none, a transport)"),
            ("dsn", FieldType::String, "the RFC 3463 code, e.g. 4.3.0"),
            ("shape", FieldType::String, "connect, remote-reply, command, conversation, dns, local, other"),
            ("errno", FieldType::String, "the system error the reason names (Permission denied, Connection refused, …)"),
            ("path", FieldType::String, "the absolute path the reason names"),
            ("host", FieldType::String, "the host a connection or reply names"),
            ("ip", FieldType::String, "its address"),
            ("port", FieldType::Integer, "its port"),
            ("command", FieldType::String, "the SMTP command a remote reply answered"),
            ("reason", FieldType::String, "the reason text of the first such line"),
            ("template", FieldType::String, "the reason with ids, numbers, addresses and hosts masked (no signature only)"),
            ("messages", FieldType::Integer, "failed messages (deferred + bounced + expired) with this reason"),
            ("deferred", FieldType::Integer, "messages still deferred"),
            ("bounced", FieldType::Integer, "messages bounced"),
            ("expired", FieldType::Integer, "messages expired after deferrals for this reason"),
            ("rejects", FieldType::Integer, "reject lines with this reason"),
            ("lines", FieldType::Integer, "failure lines with this reason (one per recipient and attempt)"),
        ],
    },
];

/// The log kinds, marked unavailable when no log could be read.
const LOG_KINDS: &[&str] = &["log_file", "log_signature", "delivery_summary", "log_destination", "log_values", "delivery_failure"];

/// The texts of the bundle's logs, in the order they were read.
fn log_texts(bundle: &Bundle) -> impl Iterator<Item = &str> {
    bundle.observations.iter().filter(|o| matches!(o.source, Source::Log { .. })).filter_map(|o| o.text())
}

/// The newest timestamp in the logs: the last stamped line of each file.
pub fn newest_stamp(bundle: &Bundle) -> Option<i64> {
    let reference = bundle.created_at as i64;
    log_texts(bundle).filter_map(|t| t.lines().rev().take(50).find_map(|l| line_stamp(l, reference))).max()
}

pub fn facts(bundle: &Bundle, k: &Knowledge, out: &mut FactSet) {
    facts_in_window(bundle, k, &crate::time::WindowSpec::default(), out);
}

/// The oldest timestamp in the logs: the first stamped line of the oldest file.
pub fn oldest_stamp(bundle: &Bundle) -> Option<i64> {
    let reference = bundle.created_at as i64;
    log_texts(bundle).find_map(|t| t.lines().take(50).find_map(|l| line_stamp(l, reference)))
}

/// Scan a bundle's logs inside the window `spec` asks for (an invalid spec falls back to no
/// window; the CLI validates it first), on every core.
pub fn scan_bundle(bundle: &Bundle, k: &Knowledge, spec: &crate::time::WindowSpec, unknown: bool) -> (LogStats, Vec<String>, bool) {
    let newest = newest_stamp(bundle);
    let window = spec.resolve(newest).unwrap_or_default();
    let mut opts = ScanOptions::new(window, bundle.created_at as i64, oldest_stamp(bundle), newest, unknown);
    // Courier's deferral lines carry no size: its queue has them, joined by message id.
    opts.known_sizes = std::sync::Arc::new(super::courier::queue_sizes(bundle));
    let threads = logscan::default_threads();
    let mut problems = Vec::new();
    let mut read_any = false;
    let reference = bundle.created_at as i64;
    // A log read from the middle (a large file, from where the window starts) has its lines
    // numbered from there, and its evidence says so.
    let labels: Vec<Option<String>> = bundle
        .observations
        .iter()
        .map(|o| match (&o.source, &o.payload) {
            (Source::Log { path, .. }, Payload::Text { first_line: 1, skipped_bytes, .. }) if *skipped_bytes > 0 => {
                Some(format!("{path} (lines counted from byte {skipped_bytes})"))
            }
            (Source::Log { path, .. }, _) => Some(path.clone()),
            _ => None,
        })
        .collect();
    let mut segments: Vec<Box<dyn logscan::Segment + '_>> = Vec::new();
    for (o, label) in bundle.observations.iter().zip(&labels) {
        let (Source::Log { path, .. }, Some(label)) = (&o.source, label) else { continue };
        match &o.payload {
            Payload::Text { text, first_line, skipped_bytes, .. } => {
                read_any = true;
                if *skipped_bytes > 0 {
                    // Cut by the read cap: the lines before the cut matter when the first
                    // kept line is inside the window (or there is no window).
                    let first = text.lines().take(50).find_map(|l| line_stamp(l, reference));
                    if window.since.is_none_or(|since| first.is_none_or(|f| f > since)) {
                        problems.push(format!(
                            "{path}: only its last {} were read (the read cap); older lines inside the time window were not",
                            crate::text::human_bytes(text.len() as i64)
                        ));
                    }
                }
                for seg in logscan::split_text(label, text, *first_line, threads, Some(o.id)) {
                    segments.push(Box::new(seg));
                }
            }
            Payload::Failed { .. } => problems.push(format!("{path}: {}", o.problem().unwrap_or_default())),
            _ => {}
        }
    }
    (logscan::scan(&k.signatures, &opts, segments, threads), problems, read_any)
}

/// `log_source` facts: each mail log that was read (or could not be), with the reason the
/// collector recorded for reading it. Logs that do not exist are not sources.
pub fn source_facts(bundle: &Bundle, out: &mut FactSet) {
    for o in &bundle.observations {
        let Source::Log { path, reason } = &o.source else { continue };
        let reason = reason.as_deref().unwrap_or("not recorded (bundle of an older mailsleuth)");
        let (status, problem) = match &o.payload {
            Payload::Text { text, .. } if text.trim().is_empty() => ("empty", None),
            Payload::Text { .. } => ("read", None),
            Payload::Failed { .. } => ("failed", o.problem()),
            _ => continue,
        };
        let text = match &problem {
            Some(p) => format!("could not be read ({p}); looked at because: {reason}"),
            None => format!("{status} because: {reason}"),
        };
        let mut f = Fact::new("log_source")
            .with("path", path.as_str())
            .with("reason", reason)
            .with("status", status)
            .evidence(path.as_str(), text)
            .from_observation(o.id);
        if let Some(p) = problem {
            f.set("problem", p);
        }
        out.push(f);
    }
}

/// Log facts for the lines inside the window `spec` asks for.
pub fn facts_in_window(bundle: &Bundle, k: &Knowledge, spec: &crate::time::WindowSpec, out: &mut FactSet) {
    source_facts(bundle, out);
    let (stats, problems, read_any) = scan_bundle(bundle, k, spec, false);
    if !read_any {
        let why = if problems.is_empty() { "no mail log found".to_string() } else { problems.join("; ") };
        for kind in LOG_KINDS {
            out.unavailable(kind, "mail logs", why.clone());
        }
    } else {
        for p in problems {
            for kind in LOG_KINDS {
                out.unavailable(kind, "mail log", p.clone());
            }
        }
    }
    stats_facts(stats, out);
}

/// Facts for the rules: `log_file`, `log_signature`, `delivery_summary`, `log_destination`,
/// `log_values`.
fn stats_facts(stats: LogStats, out: &mut FactSet) {
    let t = stats.totals();
    let has_trend = stats.trend_span.is_some();
    let word = |t: &[u64; TREND_BUCKETS]| if has_trend { trend_word(t) } else { "none" };
    for f in &stats.files {
        let mut fact = Fact::new("log_file")
            .with("path", f.path.as_str())
            .with("lines", f.lines)
            .with("skipped_lines", f.skipped)
            .with("matched_lines", f.matched)
            .evidence(f.path.as_str(), format!("{} lines read, {} matched a signature, {} skipped", f.lines, f.matched, f.skipped));
        if let Some(o) = f.observation {
            fact.observations.push(o);
        }
        out.push(fact);
    }
    for s in stats.signatures {
        let mut f = Fact::new("log_signature")
            .with("id", s.id.as_str())
            .with("program", s.program.as_str())
            .with("category", s.category.as_str())
            .with("severity", s.severity.as_str())
            .with("count", s.count)
            .with("messages", s.messages)
            .with("trend", word(&s.trend));
        if s.sizes.count > 0 {
            f.set("min_size", s.sizes.min);
            f.set("max_size", s.sizes.max);
        }
        if let Some(t) = &s.first_seen {
            f.set("first_seen", t.as_str());
        }
        if let Some(t) = &s.last_seen {
            f.set("last_seen", t.as_str());
        }
        if let Some(t) = s.first_at {
            f.set("first_at", t);
        }
        if let Some(t) = s.last_at {
            f.set("last_at", t);
        }
        f.evidence = s.evidence;
        f.more_evidence = s.more_evidence;
        out.push(f);
    }
    for s in stats.statuses {
        let mut f = Fact::new("delivery_summary")
            .with("status", s.status.as_str())
            .with("lines", s.lines)
            .with("smtp_lines", s.smtp_lines)
            .with("messages", s.messages)
            .with("trend", word(&s.trend));
        if s.sizes.count > 0 {
            f.set("min_size", s.sizes.min);
            f.set("max_size", s.sizes.max);
        }
        f.evidence = s.evidence;
        f.more_evidence = s.more_evidence;
        out.push(f);
    }
    for v in &stats.values {
        let files: std::collections::BTreeSet<String> = v.files.iter().cloned().collect();
        out.push(super::logvalues::values_fact(&v.tally, &v.signature, &v.group, &v.field, &files));
    }
    for x in &stats.failures {
        out.push(failure_fact(x));
    }
    for (rank, d) in stats.destinations.iter().take(20).enumerate() {
        let mut f = Fact::new("log_destination")
            .with("domain", d.domain.as_str())
            .with("rank", rank as u64 + 1)
            .with("deferred", d.deferred)
            .with("bounced", d.bounced);
        if let Some((sig, n)) = d.reasons.first() {
            f.set("top_signature", sig.as_str());
            f.set("top_signature_lines", *n);
        }
        f.evidence.extend(d.sample.clone());
        out.push(f);
    }
    out.stats.log_files += stats.files.len() as u64;
    out.stats.log_lines += t.lines;
    out.stats.log_lines_skipped += t.skipped;
    out.stats.log_lines_matched += t.matched;
    out.stats.log_lines_outside_window += t.outside;
    out.stats.log_expired_without_reason += stats.expired_without_reason;
    out.stats.log_window_since = stats.window.since.map(crate::time::format);
    out.stats.log_window_until = stats.window.until.map(crate::time::format);
}

/// The `delivery_failure` fact of one failure reason.
fn failure_fact(x: &FailStats) -> Fact {
    let status = if x.deferred + x.bounced + x.expired == 0 {
        "reject"
    } else if x.bounced >= x.deferred.max(x.expired) {
        "bounced"
    } else if x.expired > x.deferred {
        "expired"
    } else {
        "deferred"
    };
    let mut f = Fact::new("delivery_failure")
        .with("status", status)
        .with("signature", x.signature.as_deref().unwrap_or(""))
        .with("category", x.category.as_str())
        .with("agent", x.agent.as_str())
        .with("relay", x.relay.as_str())
        .with("dsn", x.dsn.as_str())
        .with("shape", x.shape.as_str())
        .with("errno", x.errno.as_str())
        .with("path", x.path.as_str())
        .with("host", x.host.as_str())
        .with("ip", x.ip.as_str())
        .with("command", x.command.as_str())
        .with("reason", x.reason.as_str())
        .with("template", x.template.as_str())
        .with("messages", x.deferred + x.bounced + x.expired)
        .with("deferred", x.deferred)
        .with("bounced", x.bounced)
        .with("expired", x.expired)
        .with("rejects", x.rejects)
        .with("lines", x.lines);
    if let Some(p) = x.port {
        f.set("port", u64::from(p));
    }
    f.evidence = x.evidence.clone();
    f.more_evidence = x.more_evidence;
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_without_reasons_still_loads_and_says_so() {
        let old = r#"{"id": 3, "source": {"type": "log", "path": "/var/log/mail.log"}, "at": 0, "elapsed_ms": 1,
            "payload": {"status": "text", "text": "Nov 23 10:45:29 mx1 postfix/qmgr[1]: 3F2A61C0F1: removed\n"}}"#;
        let o: crate::bundle::Observation = serde_json::from_str(old).unwrap();
        assert_eq!(o.source, Source::Log { path: "/var/log/mail.log".into(), reason: None });
        let mut out = FactSet::new();
        source_facts(&Bundle::of("mx1", "/", true, vec![o]), &mut out);
        let f = out.of_kind("log_source").next().unwrap();
        assert_eq!(f.get("reason").and_then(|v| v.as_str()), Some("not recorded (bundle of an older mailsleuth)"));
        assert_eq!(f.get("status").and_then(|v| v.as_str()), Some("read"));
    }
}
