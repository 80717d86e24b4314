//! Who and what the log lines are about: for a few signatures (`knowledge/log-values.ron`)
//! the values of some captures are counted across the matching lines — which users failed
//! to log in and from which addresses, which recipients smtpd rejected, which names DNS
//! did not know. The spread is what a rule needs to be honest: one user failing from one
//! address is a client with an old password, fifty users from twenty addresses are password
//! guessing; one address rejected again and again is a missing alias, a different one each
//! time is spam.
//!
//! Counted by the log scanner in its one pass (`logscan.rs`: the captures of a tallied
//! signature are taken on its matching lines only), so the counts agree with the
//! `log_signature` facts and obey the same time window. Pure: reads the bundle only.

use crate::bundle::Bundle;
use crate::kb::Knowledge;
use crate::logscan::tally::Tally;
use crate::model::{Fact, FactSet};
use crate::model::{FieldType, KindSpec};
use crate::time::WindowSpec;
use std::collections::BTreeSet;

pub const KINDS: &[KindSpec] = &[KindSpec {
    name: "log_values",
    producer: "parser: mail logs + knowledge/log-values.ron (captures counted per signature)",
    doc: "the values one capture of a log signature took across the matching lines, most frequent first",
    fields: &[
        ("signature", FieldType::String, "signature id, e.g. dovecot.login_auth_failed"),
        ("field", FieldType::String, "capture name, e.g. user, client_ip, recipient; `program` is the syslog tag"),
        (
            "group",
            FieldType::String,
            "the value of the signature's `by` capture the lines were split by (e.g. table: local recipient); empty when not split",
        ),
        ("lines", FieldType::Integer, "matching lines that carried a value for it"),
        ("distinct", FieldType::Integer, "how many different values"),
        ("top", FieldType::String, "the most frequent value"),
        ("top_count", FieldType::Integer, "lines carrying the most frequent value"),
        ("top_share", FieldType::Integer, "top_count as a percentage of lines (rounded down)"),
        ("values", FieldType::List, "the most frequent values (at most 10), most frequent first"),
        ("listing", FieldType::String, "the same with their counts, for evidence: `alice ×4, bob ×1`"),
    ],
}];

/// Values listed in `values` / `listing`.
const SHOWN: usize = 10;

/// The `log_values` fact of one tally.
pub fn values_fact(t: &Tally, sig: &str, group: &str, field: &str, sources: &BTreeSet<String>) -> Fact {
    let mut by_count: Vec<(&String, &u64)> = t.counts.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let shown = &by_count[..by_count.len().min(SHOWN)];
    let mut listing = shown.iter().map(|(v, n)| format!("{v} ×{n}")).collect::<Vec<_>>().join(", ");
    let rest = by_count.len() - shown.len();
    if rest > 0 {
        listing.push_str(&format!(", … and {rest} more"));
    }
    let values = crate::model::Value::List(shown.iter().map(|(v, _)| crate::model::Value::from(v.as_str())).collect());
    let (top, top_count) = shown.first().map(|(v, n)| (v.as_str(), **n)).unwrap_or(("", 0));
    let distinct = by_count.len() as u64 + u64::from(t.unlisted > 0);
    let source = sources.iter().cloned().collect::<Vec<_>>().join(", ");
    Fact::new("log_values")
        .with("signature", sig)
        .with("field", field)
        .with("group", group)
        .with("lines", t.lines)
        .with("distinct", distinct)
        .with("top", top)
        .with("top_count", top_count)
        .with("top_share", top_count.saturating_mul(100).checked_div(t.lines).unwrap_or(0))
        .with("values", values)
        .with("listing", listing.as_str())
        .evidence(
            source,
            format!(
                "{field} in {} {sig}{} lines: {listing}",
                t.lines,
                if group.is_empty() { String::new() } else { format!(" ({group})") }
            ),
        )
}

/// Only the `log_values` facts for the lines inside the window `spec` asks for (the log
/// scanner counts them in its one pass; see `logscan.rs`).
pub fn facts_in_window(bundle: &Bundle, k: &Knowledge, spec: &WindowSpec, out: &mut FactSet) {
    let mut all = FactSet::new();
    super::logs::facts_in_window(bundle, k, spec, &mut all);
    for u in all.unavailable_for("log_values") {
        out.unavailable(&u.kind, u.what.clone(), u.why.clone());
    }
    out.extend(all.of_kind("log_values").cloned());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{Bundle, Observation, Payload, Source};
    use crate::kb::reference::tallies;
    use crate::model::Value;

    fn bundle(log: &str) -> Bundle {
        let o = Observation {
            id: 0,
            source: Source::Log { path: "/var/log/mail.log".into(), reason: None },
            at: 0,
            elapsed_ms: 0,
            payload: Payload::text(log),
        };
        Bundle::of("mx1.lab.example", "/", true, vec![o])
    }

    fn kb() -> Knowledge {
        crate::load_knowledge(&[], false).unwrap_or_else(|e| panic!("knowledge base: {e:?}"))
    }

    #[test]
    fn the_table_names_real_signatures_and_their_captures() {
        let k = kb();
        assert!(!tallies().is_empty(), "knowledge/log-values.ron did not parse");
        for (id, spec) in tallies() {
            let sig = k.signatures.iter().find(|s| &s.id == id).unwrap_or_else(|| panic!("{id}: no such signature"));
            for f in spec.fields.iter().chain(&spec.by) {
                assert!(
                    f == "program" || sig.regex.0.capture_names().flatten().any(|n| n == f),
                    "{id}: `{f}` is not a capture of its regex"
                );
            }
        }
    }

    #[test]
    fn values_are_counted_most_frequent_first() {
        let log = "\
Nov 23 13:00:59 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 3 secs): user=<alice>, method=PLAIN, rip=127.0.0.30, lip=127.0.0.1, TLS, session=<6t47L/Fgyc5/AAAe>
Nov 23 13:00:59 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 3 secs): user=<alice>, method=PLAIN, rip=127.0.0.30, lip=127.0.0.1, TLS, session=<jAw7L/Fgo7V/AAAe>
Nov 23 13:01:02 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 4 secs): user=<bob>, method=PLAIN, rip=127.0.0.31, lip=127.0.0.1, TLS, session=<1xs6L/FgE8N/AAAe>
Nov 23 13:01:03 imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127.0.0.31, lip=127.0.0.1, mpid=309, TLS, session=<qP01L/Fgt5B/AAAf>
";
        let b = bundle(log);
        let mut out = FactSet::new();
        facts_in_window(&b, &kb(), &WindowSpec::default(), &mut out);
        let get = |sig: &str, field: &str| {
            out.of_kind("log_values")
                .find(|f| f.get("signature").and_then(Value::as_str) == Some(sig) && f.get("field").and_then(Value::as_str) == Some(field))
                .cloned()
                .unwrap_or_else(|| panic!("no log_values for {sig} {field}"))
        };
        let users = get("dovecot.login_auth_failed", "user");
        assert_eq!(users.get("lines"), Some(&Value::Int(3)));
        assert_eq!(users.get("distinct"), Some(&Value::Int(2)));
        assert_eq!(users.get("top"), Some(&Value::from("alice")));
        assert_eq!(users.get("top_count"), Some(&Value::Int(2)));
        assert_eq!(users.get("top_share"), Some(&Value::Int(66)));
        assert_eq!(users.get("listing"), Some(&Value::from("alice ×2, bob ×1")));
        assert_eq!(users.evidence[0].source, "/var/log/mail.log");
        let ips = get("dovecot.login_auth_failed", "client_ip");
        assert_eq!(ips.get("values"), Some(&Value::List(vec![Value::from("127.0.0.30"), Value::from("127.0.0.31")])));
        // The successful login is another signature's.
        assert_eq!(get("dovecot.login_ok", "user").get("lines"), Some(&Value::Int(1)));
    }

    #[test]
    fn rejections_are_counted_per_lookup_table() {
        let log = "\
Nov 23 12:59:11 mx1 postfix/smtpd[289]: NOQUEUE: reject: RCPT from unknown[127.0.0.20]: 550 5.1.1 <webmaster@mx1.lab.example>: Recipient address rejected: User unknown in local recipient table; from=<app@client.lab.example> to=<webmaster@mx1.lab.example> proto=ESMTP helo=<client-20.lab.example>
Nov 23 12:59:12 mx1 postfix/smtpd[289]: NOQUEUE: reject: RCPT from mail.example.net[198.51.100.7]: 550 5.1.1 <sales@virt.example>: Recipient address rejected: User unknown in virtual mailbox table; from=<x@example.net> to=<sales@virt.example> proto=ESMTP helo=<mail.example.net>
";
        let mut out = FactSet::new();
        facts_in_window(&bundle(log), &kb(), &WindowSpec::default(), &mut out);
        let local: Vec<String> = out
            .of_kind("log_values")
            .filter(|f| f.get("group").and_then(Value::as_str) == Some("local recipient"))
            .map(|f| {
                format!(
                    "{}={}",
                    f.get("field").map(|v| v.to_string()).unwrap_or_default(),
                    f.get("listing").map(|v| v.to_string()).unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(local, ["client_ip=127.0.0.20 ×1", "local_part=webmaster ×1", "recipient=webmaster@mx1.lab.example ×1"]);
    }

    #[test]
    fn the_time_window_applies_and_garbage_is_harmless() {
        let log = "\
Nov 20 10:00:00 mx1 postfix/smtp[1]: 1A: to=<a@b.example>, relay=none, delay=0, delays=0/0/0/0, dsn=5.4.4, status=bounced (Host or domain name not found. Name service error for name=old.example type=MX: Host not found)
Nov 23 10:00:00 mx1 postfix/smtp[1]: 2B: to=<a@b.example>, relay=none, delay=0, delays=0/0/0/0, dsn=4.3.5, status=deferred (Host or domain name not found. Name service error for name=realy.lab.example type=A: Host not found)
Host not found \u{0}\u{1}
Nov 23 10:00:01 mx1 postfix/smtp[1]: Host not found
";
        let b = bundle(log);
        let mut out = FactSet::new();
        facts_in_window(&b, &kb(), &WindowSpec::default(), &mut out);
        let f = out.of_kind("log_values").find(|f| f.get("field").and_then(Value::as_str) == Some("domain")).cloned();
        let f = f.unwrap_or_else(|| panic!("no domain tally"));
        assert_eq!(
            f.get("values"),
            Some(&Value::List(vec![Value::from("realy.lab.example")])),
            "the line of three days before is outside the default window"
        );
    }

    #[test]
    fn without_logs_the_kind_is_unavailable() {
        let b = Bundle::of("mx1.lab.example", "/", true, Vec::new());
        let mut out = FactSet::new();
        facts_in_window(&b, &kb(), &WindowSpec::default(), &mut out);
        assert_eq!(out.unavailable_for("log_values").len(), 1);
    }
}
