//! Mail-log parsing: syslog prefixes, the signature catalogue, and Postfix queue-id
//! correlation (the `size=` of each message joined to its delivery `status=`).
//!
//! Garbage is survived and counted, never fatal: lines with NUL bytes or longer than
//! [`MAX_LINE`] are skipped and counted; invalid UTF-8 was already replaced when read.

use super::{Evidence, Fact, FactSet};
use crate::kb::signature::Signature;
use crate::kb::Knowledge;
use crate::observe::{Bundle, Payload, Source};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Lines longer than this are skipped (a log line of megabytes is not a message).
pub const MAX_LINE: usize = 64 * 1024;
/// Sample lines kept per signature: the first few and the last.
const FIRST_SAMPLES: usize = 3;

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

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Length of a classic `Nov 23 07:01:02` timestamp at the start (with optional fraction).
fn classic_ts_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 15 || !MONTHS.contains(&s.get(..3)?) || b[3] != b' ' || b[6] != b' ' || b[9] != b':' || b[12] != b':' {
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

/// Split a syslog tag `program[pid]:` off the front of `s`, if it is one.
fn split_tag(s: &str) -> Option<(&str, Option<&str>, &str)> {
    let colon = s.find(": ").or_else(|| s.strip_suffix(':').map(|x| x.len()))?;
    let tag = &s[..colon];
    let message = s.get(colon + 2..).unwrap_or("");
    let (program, pid) = match tag.find('[') {
        Some(open) if tag.ends_with(']') => (&tag[..open], Some(&tag[open + 1..tag.len() - 1])),
        Some(_) => return None,
        None => (tag, None),
    };
    let ok_chars = !program.is_empty() && program.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'-' | b'_' | b'.'));
    // A bare message starting with a queue id (`3F2A61C0F1: to=<...>`) must not be taken
    // for a tag: accept a tag with a pid, a path-like name, or a lowercase program name.
    let plausible = pid.is_some() || program.contains('/') || program.bytes().all(|c| !c.is_ascii_uppercase());
    if ok_chars && plausible && pid.is_none_or(|p| p.bytes().all(|c| c.is_ascii_digit())) {
        Some((program, pid, message))
    } else {
        None
    }
}

pub fn split_syslog(line: &str) -> LogLine<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    let ts_len = classic_ts_len(line).or_else(|| iso_ts_len(line));
    let (timestamp, host, rest) = match ts_len {
        Some(n) => {
            let rest = line[n..].trim_start();
            match rest.split_once(' ') {
                // A host name never ends in ':' (`Jan 29 09:33:58 cyrus/pop3[4297]: badlogin: ...`
                // has no host: the first word is the tag).
                Some((host, after)) if !host.ends_with(':') && split_tag(after).is_some() => (Some(&line[..n]), Some(host), after),
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
    let end = message.find(": ")?;
    let id = &message[..end];
    let short = id.len() >= 6 && id.len() <= 16 && id.bytes().all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c));
    let long = id.len() >= 10 && id.len() <= 20 && id.bytes().all(|c| c.is_ascii_alphanumeric()) && id.bytes().any(|c| c.is_ascii_digit());
    (short || long).then_some(id)
}

/// `key=value` from a Postfix message (`size=8122,` → `8122`).
fn field<'a>(message: &'a str, key: &str) -> Option<&'a str> {
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

#[derive(Default)]
struct SigAgg {
    count: u64,
    program: String,
    queue_ids: HashSet<String>,
    samples: Vec<Evidence>,
    last: Option<Evidence>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    first_at: Option<i64>,
    last_at: Option<i64>,
}

#[derive(Default)]
struct StatusAgg {
    lines: u64,
    samples: Vec<Evidence>,
    last: Option<Evidence>,
}

/// Everything learnt from the logs, before it becomes facts.
#[derive(Default)]
pub struct LogScan {
    /// Only lines inside it count (lines without a stamp always do).
    pub window: super::time::Window,
    /// Collection time, for the year of classic stamps.
    pub reference: i64,
    pub outside: u64,
    sigs: BTreeMap<String, SigAgg>,
    sizes: HashMap<String, i64>,
    final_status: HashMap<String, String>,
    statuses: BTreeMap<String, StatusAgg>,
    pub files: Vec<Fact>,
    pub lines: u64,
    pub skipped: u64,
    pub matched: u64,
}

fn sample(list: &mut Vec<Evidence>, last: &mut Option<Evidence>, e: Evidence) {
    if list.len() < FIRST_SAMPLES {
        list.push(e);
    } else {
        *last = Some(e);
    }
}

impl LogScan {
    /// Scan one file's text; `first_line` is the number of its first line.
    pub fn scan(&mut self, path: &str, text: &str, first_line: u64, sigs: &[Signature]) {
        let (mut lines, mut skipped, mut matched) = (0u64, 0u64, 0u64);
        for (i, raw) in text.lines().enumerate() {
            let lineno = first_line + i as u64;
            lines += 1;
            if raw.len() > MAX_LINE || raw.contains('\0') {
                skipped += 1;
                continue;
            }
            let l = split_syslog(raw);
            let at = l.timestamp.and_then(|t| super::time::parse_stamp(t, self.reference));
            if let Some(t) = at {
                if !self.window.contains(t) {
                    self.outside += 1;
                    continue;
                }
            }
            let qid = queue_id(l.message);
            if let Some(q) = qid {
                if let (Some(size), true) = (field(l.message, "size="), l.message.contains("from=<")) {
                    if let Ok(n) = size.parse::<i64>() {
                        self.sizes.insert(q.to_string(), n);
                    }
                }
                if let (Some(st), true) = (field(l.message, "status="), l.message.contains("to=<")) {
                    self.final_status.insert(q.to_string(), st.to_string());
                    let agg = self.statuses.entry(st.to_string()).or_default();
                    agg.lines += 1;
                    sample(&mut agg.samples, &mut agg.last, Evidence::new(format!("{path}:{lineno}"), raw));
                }
            }
            if let Some((sig, _caps)) = classify(sigs, &l) {
                matched += 1;
                let agg = self.sigs.entry(sig.id.clone()).or_default();
                agg.count += 1;
                agg.program = l.program.unwrap_or("").to_string();
                if let Some(q) = qid {
                    agg.queue_ids.insert(q.to_string());
                }
                if agg.first_seen.is_none() {
                    agg.first_seen = l.timestamp.map(str::to_string);
                    agg.first_at = at;
                }
                if l.timestamp.is_some() {
                    agg.last_seen = l.timestamp.map(str::to_string);
                    agg.last_at = at.or(agg.last_at);
                }
                sample(&mut agg.samples, &mut agg.last, Evidence::new(format!("{path}:{lineno}"), raw));
            }
        }
        self.lines += lines;
        self.skipped += skipped;
        self.matched += matched;
        self.files.push(
            Fact::new("log_file")
                .with("path", path)
                .with("lines", lines)
                .with("skipped_lines", skipped)
                .with("matched_lines", matched)
                .evidence(path, format!("{lines} lines read, {matched} matched a signature, {skipped} skipped")),
        );
    }

    fn size_range<'a>(&self, ids: impl Iterator<Item = &'a String>) -> Option<(i64, i64)> {
        let sizes: Vec<i64> = ids.filter_map(|q| self.sizes.get(q).copied()).collect();
        Some((*sizes.iter().min()?, *sizes.iter().max()?))
    }

    /// Turn the scan into facts.
    pub fn into_facts(self, k: &Knowledge, out: &mut FactSet) {
        for (id, agg) in &self.sigs {
            let Some(sig) = k.signatures.iter().find(|s| &s.id == id) else { continue };
            let mut f = Fact::new("log_signature")
                .with("id", id.as_str())
                .with("program", agg.program.as_str())
                .with("category", sig.category.as_str())
                .with("severity", sig.severity.as_str())
                .with("count", agg.count)
                .with("messages", agg.queue_ids.len() as u64);
            if let Some((min, max)) = self.size_range(agg.queue_ids.iter()) {
                f.set("min_size", min);
                f.set("max_size", max);
            }
            if let Some(t) = &agg.first_seen {
                f.set("first_seen", t.as_str());
            }
            if let Some(t) = &agg.last_seen {
                f.set("last_seen", t.as_str());
            }
            if let Some(t) = agg.first_at {
                f.set("first_at", t);
            }
            if let Some(t) = agg.last_at {
                f.set("last_at", t);
            }
            f.evidence = agg.samples.clone();
            f.evidence.extend(agg.last.clone());
            f.more_evidence = agg.count - f.evidence.len() as u64;
            out.push(f);
        }
        for (status, agg) in &self.statuses {
            let ids: Vec<&String> = self.final_status.iter().filter(|(_, s)| *s == status).map(|(q, _)| q).collect();
            let mut f =
                Fact::new("delivery_summary").with("status", status.as_str()).with("lines", agg.lines).with("messages", ids.len() as u64);
            if let Some((min, max)) = self.size_range(ids.into_iter()) {
                f.set("min_size", min);
                f.set("max_size", max);
            }
            f.evidence = agg.samples.clone();
            f.evidence.extend(agg.last.clone());
            f.more_evidence = agg.lines - f.evidence.len() as u64;
            out.push(f);
        }
        out.stats.log_files += self.files.len() as u64;
        out.stats.log_lines += self.lines;
        out.stats.log_lines_skipped += self.skipped;
        out.stats.log_lines_matched += self.matched;
        out.stats.log_lines_outside_window += self.outside;
        out.stats.log_window_since = self.window.since.map(super::time::format);
        out.stats.log_window_until = self.window.until.map(super::time::format);
        out.extend(self.files);
    }
}

/// The log kinds, marked unavailable when no log could be read.
const LOG_KINDS: &[&str] = &["log_file", "log_signature", "delivery_summary"];

/// The newest timestamp in the logs: the last stamped line of each file.
pub fn newest_stamp(bundle: &Bundle) -> Option<i64> {
    let reference = bundle.created_at as i64;
    bundle
        .observations
        .iter()
        .filter(|o| matches!(o.source, Source::Log { .. }))
        .filter_map(|o| o.text())
        .filter_map(|t| {
            t.lines().rev().take(50).find_map(|l| split_syslog(l).timestamp.and_then(|s| super::time::parse_stamp(s, reference)))
        })
        .max()
}

pub fn facts(bundle: &Bundle, k: &Knowledge, out: &mut FactSet) {
    facts_in_window(bundle, k, &super::time::WindowSpec::default(), out);
}

/// Log facts for the lines inside the window `spec` asks for (an invalid spec falls back to
/// no window; the CLI validates it first).
pub fn facts_in_window(bundle: &Bundle, k: &Knowledge, spec: &super::time::WindowSpec, out: &mut FactSet) {
    let mut scan = LogScan { reference: bundle.created_at as i64, ..LogScan::default() };
    scan.window = spec.resolve(newest_stamp(bundle)).unwrap_or_default();
    let mut problems = Vec::new();
    let mut read_any = false;
    for o in &bundle.observations {
        let Source::Log { path } = &o.source else { continue };
        match &o.payload {
            Payload::Text { text, first_line, .. } => {
                read_any = true;
                scan.scan(path, text, *first_line, &k.signatures);
                if let Some(f) = scan.files.last_mut() {
                    f.observations.push(o.id);
                }
            }
            Payload::Failed { .. } => problems.push(format!("{path}: {}", o.problem().unwrap_or_default())),
            _ => {}
        }
    }
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
    scan.into_facts(k, out);
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
    fn garbage_never_panics() {
        for s in
            ["", ":", "Nov", "Nov 23 08:15:05", "Nov 23 08:15:05 ", "[]: x", "a[: b", "é: ü", "Nov 23 08:15:05 h p[x]: m", "2026-11-23T"]
        {
            let _ = split_syslog(s);
            let _ = queue_id(s);
        }
    }
}
