//! Mail-log parsing: syslog prefixes, the signature catalogue, and Postfix queue-id
//! correlation (the `size=` of each message joined to its delivery `status=`); and
//! `log_source`: which logs were read and why (the reason the collector recorded).
//!
//! Garbage is survived and counted, never fatal: lines with NUL bytes or longer than
//! [`MAX_LINE`] are skipped and counted; invalid UTF-8 was already replaced when read.

use super::logscan::{self, LogStats, Matcher, ScanOptions};
use super::{Fact, FactSet};
use crate::kb::signature::Signature;
use crate::kb::Knowledge;
use crate::observe::{Bundle, Payload, Source};
use std::collections::BTreeMap;

/// Lines longer than this are skipped (a log line of megabytes is not a message).
pub const MAX_LINE: usize = 64 * 1024;

/// A log line split into its syslog parts. Every part but `message` is optional: test
/// corpora and `journalctl -o cat` give the message alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine<'a> {
    pub timestamp: Option<&'a str>,
    pub host: Option<&'a str>,
    pub program: Option<&'a str>,
    pub pid: Option<&'a str>,
    pub message: &'a str,
}

/// Length of a classic `Nov 23 07:01:02` timestamp at the start (with optional fraction).
fn classic_ts_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 15 || b[3] != b' ' || b[6] != b' ' || b[9] != b':' || b[12] != b':' {
        return None;
    }
    if !matches!(&b[..3], b"Jan" | b"Feb" | b"Mar" | b"Apr" | b"May" | b"Jun" | b"Jul" | b"Aug" | b"Sep" | b"Oct" | b"Nov" | b"Dec") {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(|c| c.is_ascii_digit() || *c == b' ');
    if !digits(4..6) || !digits(7..9) || !digits(10..12) || !digits(13..15) {
        return None;
    }
    let mut n = 15;
    if b.get(15) == Some(&b'.') {
        n = 16 + b[16..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    Some(n)
}

/// Length of an RFC 3339 timestamp (`2026-11-23T08:15:05.123456+00:00`) at the start.
fn iso_ts_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 19
        || !b[..4].iter().all(u8::is_ascii_digit)
        || b[4] != b'-'
        || b[7] != b'-'
        || (b[10] != b'T' && b[10] != b' ')
        || b[13] != b':'
    {
        return None;
    }
    let end = s.find(' ').unwrap_or(s.len());
    if b[10] == b' ' {
        // `2026-11-23 08:15:05 host ...`: the time is the second word.
        let rest = &s[11..];
        return Some(11 + rest.find(' ').unwrap_or(rest.len()));
    }
    Some(end)
}

/// Split a syslog tag `program[pid]:` off the front of `s`, if it is one: the tag ends at
/// the first `": "` (or a final `:`); the program is non-empty and made of ASCII letters,
/// digits and `/-_.`; the pid, if any, is digits in brackets closing the tag. A bare message
/// starting with a queue id (`3F2A61C0F1: to=<...>`) must not be taken for a tag: a tag needs
/// a pid, a path-like name, or a lowercase program name. One pass over the tag's bytes.
pub fn split_tag(s: &str) -> Option<(&str, Option<&str>, &str)> {
    let b = s.as_bytes();
    let (mut slash, mut upper) = (false, false);
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'/' => slash = true,
            b'A'..=b'Z' => upper = true,
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {}
            _ => break,
        }
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let program = &s[..i];
    let mut pid = None;
    if b.get(i) == Some(&b'[') {
        let start = i + 1;
        let mut j = start;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if b.get(j) != Some(&b']') {
            return None;
        }
        pid = Some(&s[start..j]);
        i = j + 1;
    }
    if b.get(i) != Some(&b':') {
        return None;
    }
    let message = match b.get(i + 1) {
        None => "",
        Some(b' ') => &s[i + 2..],
        Some(_) => return None,
    };
    (pid.is_some() || slash || !upper).then_some((program, pid, message))
}

/// `<PRI>` at the start of a line (network syslog, RFC 5424 files): its length.
fn pri_len(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&b'<') {
        return None;
    }
    let close = b.iter().take(5).position(|&c| c == b'>')?;
    (close > 1 && b[1..close].iter().all(u8::is_ascii_digit)).then_some(close + 1)
}

/// An RFC 5424 line: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG` (the PRI may be
/// absent when a file template drops it). `-` is a nil field.
fn split_rfc5424(line: &str) -> Option<LogLine<'_>> {
    let b = line.as_bytes();
    let start = pri_len(b).unwrap_or(0);
    let rest = line.get(start..)?.strip_prefix("1 ")?;
    let ts_len = iso_ts_len(rest).filter(|&n| rest.as_bytes().get(10) == Some(&b'T') || n > 10)?;
    let timestamp = &rest[..ts_len];
    let mut it = rest[ts_len..].trim_start().splitn(4, ' ');
    let nil = |s: &'_ str| s != "-";
    let host = it.next().filter(|s| nil(s));
    let app = it.next().filter(|s| nil(s));
    let procid = it.next().filter(|s| nil(s));
    let after_procid = it.next().unwrap_or("");
    // MSGID, then structured data: `-` or one or more `[id k="v" ...]` (`\]` escaped).
    let (_msgid, sd_and_msg) = after_procid.split_once(' ').unwrap_or((after_procid, ""));
    let message = if let Some(r) = sd_and_msg.strip_prefix('-') {
        r.strip_prefix(' ').unwrap_or(r)
    } else if sd_and_msg.starts_with('[') {
        let sb = sd_and_msg.as_bytes();
        let (mut i, mut in_sd, mut quoted) = (0, false, false);
        while i < sb.len() {
            match sb[i] {
                b'\\' if quoted => i += 1,
                b'"' if in_sd => quoted = !quoted,
                b'[' if !in_sd => in_sd = true,
                b']' if in_sd && !quoted => in_sd = false,
                b' ' if !in_sd => break,
                _ if !in_sd => break,
                _ => {}
            }
            i += 1;
        }
        sd_and_msg.get(i..).unwrap_or("").trim_start_matches(' ')
    } else {
        sd_and_msg
    };
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    Some(LogLine { timestamp: Some(timestamp), host, program: app, pid: procid, message })
}

pub fn split_syslog(line: &str) -> LogLine<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.as_bytes().first() == Some(&b'<') || line.starts_with("1 ") {
        if let Some(l) = split_rfc5424(line) {
            return l;
        }
    }
    // A classic line received over the network keeps its `<PRI>`.
    let line = match pri_len(line.as_bytes()) {
        Some(n) if line.len() > n => &line[n..],
        _ => line,
    };
    let ts_len = classic_ts_len(line).or_else(|| iso_ts_len(line));
    let (timestamp, host, rest) = match ts_len {
        Some(n) => {
            let rest = line[n..].trim_start();
            match rest.split_once(' ') {
                // A host name never ends in ':' (`Jan 29 09:33:58 cyrus/pop3[4297]: badlogin: ...`
                // has no host: the first word is the tag).
                Some((host, after)) if !host.ends_with(':') => match split_tag(after) {
                    Some((program, pid, message)) => {
                        return LogLine { timestamp: Some(&line[..n]), host: Some(host), program: Some(program), pid, message }
                    }
                    None => (Some(&line[..n]), None, rest),
                },
                _ => (Some(&line[..n]), None, rest),
            }
        }
        None => (None, None, line),
    };
    match split_tag(rest) {
        Some((program, pid, message)) => LogLine { timestamp, host, program: Some(program), pid, message },
        None => LogLine { timestamp, host, program: None, pid: None, message: rest },
    }
}

/// A Postfix queue id at the start of a message (`3F2A61C0F1: ...`), short (hex) or long form.
pub fn queue_id(message: &str) -> Option<&str> {
    // A queue id is at most 20 characters: look no further.
    let b = message.as_bytes();
    let (mut end, mut digit, mut hex) = (0, false, true);
    while end <= 20 {
        match b.get(end) {
            Some(b'0'..=b'9') => digit = true,
            Some(b'A'..=b'F') => {}
            Some(c) if c.is_ascii_alphanumeric() => hex = false,
            _ => break,
        }
        end += 1;
    }
    if b.get(end) != Some(&b':') || b.get(end + 1) != Some(&b' ') {
        return None;
    }
    let short = (6..=16).contains(&end) && hex;
    let long = (10..=20).contains(&end) && digit;
    (short || long).then_some(&message[..end])
}

/// `key=value` from a Postfix message (`size=8122,` → `8122`).
pub(crate) fn field<'a>(message: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(pos) = message[from..].find(key) {
        let at = from + pos;
        if at == 0 || matches!(message.as_bytes()[at - 1], b' ' | b',') {
            let rest = &message[at + key.len()..];
            let end = rest.find([',', ' ']).unwrap_or(rest.len());
            return Some(&rest[..end]);
        }
        from = at + key.len();
    }
    None
}

/// The best signature for a line: highest priority, then catalogue order.
///
/// A bare `word: text` line (no time stamp, no pid, no path in the "tag") is ambiguous: it may
/// be a message that starts with a Postfix severity or a function name (`warning: ...`,
/// `fatal: ...`, `lookup_sql: ...`, as `journalctl -o cat` and test corpora show them) rather
/// than a syslog tag. Such a line is also tried whole, as a line without a tag; the tagged
/// reading wins ties.
pub fn classify<'k>(sigs: &'k [Signature], line: &LogLine<'_>) -> Option<(&'k Signature, BTreeMap<String, String>)> {
    let best = best_match(sigs, line.program, line.message);
    match (line.timestamp, line.pid, line.program) {
        (None, None, Some(p)) if !p.contains('/') => {
            let whole = format!("{p}: {}", line.message);
            match (best, best_match(sigs, None, &whole)) {
                (Some(b), Some(w)) if w.0.priority > b.0.priority => Some(w),
                (None, w) => w,
                (b, _) => b,
            }
        }
        _ => best,
    }
}

fn best_match<'k>(sigs: &'k [Signature], program: Option<&str>, message: &str) -> Option<(&'k Signature, BTreeMap<String, String>)> {
    let mut best: Option<(&Signature, BTreeMap<String, String>)> = None;
    for s in sigs {
        if !s.applies_to(program) {
            continue;
        }
        if best.as_ref().is_some_and(|(b, _)| b.priority >= s.priority) {
            continue;
        }
        if let Some(c) = s.captures(message) {
            best = Some((s, c));
        }
    }
    best
}

/// Classify one raw line (with or without a syslog prefix). Over-long lines and lines with
/// NUL bytes are not classified.
pub fn classify_line<'k>(sigs: &'k [Signature], raw: &str) -> Option<(&'k Signature, BTreeMap<String, String>)> {
    if raw.len() > MAX_LINE || raw.contains('\0') {
        return None;
    }
    classify(sigs, &split_syslog(raw))
}

/// The log kinds, marked unavailable when no log could be read.
const LOG_KINDS: &[&str] = &["log_file", "log_signature", "delivery_summary", "log_destination", "log_values"];

/// The time of a log line's stamp, if it has one (classic stamps get their year from `reference`).
pub fn line_stamp(line: &str, reference: i64) -> Option<i64> {
    split_syslog(line).timestamp.and_then(|s| super::time::parse_stamp(s, reference))
}

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
    facts_in_window(bundle, k, &super::time::WindowSpec::default(), out);
}

/// The oldest timestamp in the logs: the first stamped line of the oldest file.
pub fn oldest_stamp(bundle: &Bundle) -> Option<i64> {
    let reference = bundle.created_at as i64;
    log_texts(bundle).find_map(|t| t.lines().take(50).find_map(|l| line_stamp(l, reference)))
}

/// Scan a bundle's logs inside the window `spec` asks for (an invalid spec falls back to no
/// window; the CLI validates it first), on every core.
pub fn scan_bundle(bundle: &Bundle, k: &Knowledge, spec: &super::time::WindowSpec, unknown: bool) -> (LogStats, Vec<String>, bool) {
    let newest = newest_stamp(bundle);
    let window = spec.resolve(newest).unwrap_or_default();
    let opts =
        ScanOptions { window, reference: bundle.created_at as i64, trend_span: trend_span(window, oldest_stamp(bundle), newest), unknown };
    let threads = logscan::default_threads();
    let mut problems = Vec::new();
    let mut read_any = false;
    let mut segments: Vec<Box<dyn logscan::Segment + '_>> = Vec::new();
    for o in &bundle.observations {
        let Source::Log { path, .. } = &o.source else { continue };
        match &o.payload {
            Payload::Text { text, first_line, .. } => {
                read_any = true;
                for seg in logscan::split_text(path, text, *first_line, threads, Some(o.id)) {
                    segments.push(Box::new(seg));
                }
            }
            Payload::Failed { .. } => problems.push(format!("{path}: {}", o.problem().unwrap_or_default())),
            _ => {}
        }
    }
    let m = Matcher::new(&k.signatures);
    let scan = logscan::scan_segments(&m, &opts, segments, threads);
    let mut stats = scan.finish(&k.signatures, opts.reference);
    stats.window = window;
    stats.trend_span = opts.trend_span;
    (stats, problems, read_any)
}

/// The shortest span of log with a trend.
pub const MIN_TREND_SPAN: i64 = 3600;

/// The span the trend buckets cover: the window, narrowed to the lines there are.
pub fn trend_span(window: super::time::Window, oldest: Option<i64>, newest: Option<i64>) -> Option<(i64, i64)> {
    let end = match (window.until, newest) {
        (Some(u), Some(n)) => u.min(n),
        (u, n) => u.or(n)?,
    };
    let start = match (window.since, oldest) {
        (Some(s), Some(o)) => s.max(o),
        (s, o) => s.or(o)?,
    };
    // Under an hour of log says nothing about a trend.
    (end - start >= MIN_TREND_SPAN).then_some((start, end))
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
pub fn facts_in_window(bundle: &Bundle, k: &Knowledge, spec: &super::time::WindowSpec, out: &mut FactSet) {
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
    stats.into_facts(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_syslog_lines_split_into_parts() {
        let l = split_syslog("Nov 23 08:15:05 mx1 postfix/submission/smtpd[4242]: connect from unknown[192.0.2.7]");
        assert_eq!(l.timestamp, Some("Nov 23 08:15:05"));
        assert_eq!(l.host, Some("mx1"));
        assert_eq!(l.program, Some("postfix/submission/smtpd"));
        assert_eq!(l.pid, Some("4242"));
        assert_eq!(l.message, "connect from unknown[192.0.2.7]");
    }

    #[test]
    fn rfc3339_and_bare_lines() {
        let l = split_syslog("2026-11-23T08:15:05.123456+00:00 mx1 postfix/qmgr[77]: 3F2A61C0F1: removed");
        assert_eq!(l.timestamp, Some("2026-11-23T08:15:05.123456+00:00"));
        assert_eq!(l.program, Some("postfix/qmgr"));
        assert_eq!(l.message, "3F2A61C0F1: removed");
        let bare = split_syslog("postfix/smtp[123]: 3F2A61C0F1: to=<a@b.example>, status=sent (250 ok)");
        assert_eq!((bare.timestamp, bare.program), (None, Some("postfix/smtp")));
        // A message alone, starting with a queue id, is not mistaken for a tag.
        let msg = split_syslog("3F2A61C0F1: to=<a@b.example>, status=sent (250 ok)");
        assert_eq!(msg.program, None);
        assert_eq!(queue_id(msg.message), Some("3F2A61C0F1"));
    }

    #[test]
    fn rfc5424_lines_split_into_parts() {
        let l = split_syslog(
            "<22>1 2026-11-23T08:15:05.123456+01:00 mx1 postfix/smtp 4242 - - 3F2A61C0F1: to=<a@b.example>, status=sent (250 ok)",
        );
        assert_eq!(l.timestamp, Some("2026-11-23T08:15:05.123456+01:00"));
        assert_eq!((l.host, l.program, l.pid), (Some("mx1"), Some("postfix/smtp"), Some("4242")));
        assert_eq!(l.message, "3F2A61C0F1: to=<a@b.example>, status=sent (250 ok)");
        // Structured data (with an escaped bracket and a quoted space) and a BOM before the message.
        let sd = split_syslog(
            "<30>1 2026-11-23T08:15:06Z mx1 dovecot - AUTH [origin ip=\"192.0.2.7\" x=\"a\\]b c\"][meta seq=\"1\"] \u{feff}auth: Error: bad",
        );
        assert_eq!((sd.program, sd.pid), (Some("dovecot"), None));
        assert_eq!(sd.message, "auth: Error: bad");
        // Nil fields and no PRI (a file template without it).
        let nil = split_syslog("1 2026-11-23T08:15:07+00:00 - postfix/qmgr - - - 3F2A61C0F1: removed");
        assert_eq!((nil.host, nil.program, nil.message), (None, Some("postfix/qmgr"), "3F2A61C0F1: removed"));
        assert_eq!(crate::facts::time::parse_stamp(nil.timestamp.unwrap_or(""), 0), crate::facts::time::parse_iso("2026-11-23T08:15:07Z"));
        // A classic line with a PRI (network capture).
        let c = split_syslog("<22>Nov 23 08:15:05 mx1 postfix/smtpd[1]: connect from x[192.0.2.1]");
        assert_eq!((c.timestamp, c.program), (Some("Nov 23 08:15:05"), Some("postfix/smtpd")));
    }

    #[test]
    fn a_tag_right_after_the_time_stamp_is_not_a_host() {
        let l = split_syslog("Feb 20 17:23:32 cyrus/pop3[4297]: badlogin: client.example [192.0.2.4] plaintext bob");
        assert_eq!((l.host, l.program, l.pid), (None, Some("cyrus/pop3"), Some("4297")));
        assert_eq!(l.message, "badlogin: client.example [192.0.2.4] plaintext bob");
    }

    fn sig(id: &str, priority: i32, regex: &str) -> Signature {
        Signature {
            id: id.into(),
            programs: vec![],
            literal: None,
            regex: crate::kb::rule::Pattern(regex::Regex::new(regex).unwrap()),
            category: "other".into(),
            severity: Default::default(),
            meaning: String::new(),
            priority,
            examples: vec![],
        }
    }

    #[test]
    fn a_bare_severity_prefix_is_also_read_as_part_of_the_message() {
        let sigs = [sig("t.anvil", 10, r"warning: Connection rate limit exceeded"), sig("t.any", 0, r"^Connection")];
        let id = |l: &str| classify_line(&sigs, l).map(|(s, _)| s.id.clone());
        // `warning` is taken for a tag by the splitter; the whole line is tried too.
        assert_eq!(id("warning: Connection rate limit exceeded: 3 from x[192.0.2.1] for service smtp").as_deref(), Some("t.anvil"));
        // With a time stamp or a pid it is a real tag: only the message is matched.
        assert_eq!(id("Nov 23 10:45:29 mx1 warning[1]: Connection rate limit exceeded").as_deref(), Some("t.any"));
    }

    #[test]
    fn postfix_fields() {
        let m = "3F2A61C0F1: from=<root@mx1.lab.example>, size=40123, nrcpt=1 (queue active)";
        assert_eq!(field(m, "size="), Some("40123"));
        assert_eq!(field("x: to=<a>, dsn=4.3.0, status=deferred (temporary failure)", "status="), Some("deferred"));
        assert_eq!(field("x: orig_to=<a>", "to="), None);
        assert_eq!(queue_id("NOQUEUE: reject: RCPT from x"), None);
        assert_eq!(queue_id("4Xq1Yz2bQwz1nF3: removed"), Some("4Xq1Yz2bQwz1nF3"));
    }

    #[test]
    fn a_bundle_without_reasons_still_loads_and_says_so() {
        let old = r#"{"id": 3, "source": {"type": "log", "path": "/var/log/mail.log"}, "at": 0, "elapsed_ms": 1,
            "payload": {"status": "text", "text": "Nov 23 10:45:29 mx1 postfix/qmgr[1]: 3F2A61C0F1: removed\n"}}"#;
        let o: crate::observe::Observation = serde_json::from_str(old).unwrap();
        assert_eq!(o.source, Source::Log { path: "/var/log/mail.log".into(), reason: None });
        let mut out = FactSet::new();
        source_facts(&Bundle::of("mx1", "/", true, vec![o]), &mut out);
        let f = out.of_kind("log_source").next().unwrap();
        assert_eq!(f.get("reason").and_then(|v| v.as_str()), Some("not recorded (bundle of an older mailsleuth)"));
        assert_eq!(f.get("status").and_then(|v| v.as_str()), Some("read"));
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "",
            ":",
            "Nov",
            "Nov 23 08:15:05",
            "Nov 23 08:15:05 ",
            "[]: x",
            "a[: b",
            "é: ü",
            "Nov 23 08:15:05 h p[x]: m",
            "2026-11-23T",
            "<",
            "<1>",
            "<999999>x",
            "1 ",
            "<1>1 2026-11-23T08:15:05Z",
            "1 2026-11-23T08:15:05Z h a p m [x",
        ] {
            let _ = split_syslog(s);
            let _ = queue_id(s);
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The syslog splitter takes any line, multibyte and control characters included.
        #[test]
        fn any_line_splits_without_panicking(line in "\\PC{0,200}", reference in 0i64..4_102_444_800) {
            let _ = split_syslog(&line);
            let _ = line_stamp(&line, reference);
        }

        #[test]
        fn syslog_like_lines_split_without_panicking(stamp in "(Nov 23 08:15:05|2026-11-23T08:15:05\\.123456\\+01:00|<13>1 2026-11-23T08:15:05Z|)", host in "[a-zé.-]{0,12}", prog in "[a-z/\\[\\]0-9:é]{0,20}", msg in "\\PC{0,40}") {
            let line = format!("{stamp} {host} {prog} {msg}");
            let _ = split_syslog(&line);
        }
    }
}
