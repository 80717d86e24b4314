//! `mailsleuth logs stats` and `logs unknown`: the log overview, human and JSON.

use crate::kb::signature::LogSeverity;
use crate::logscan::{LogStats, SigStats, TREND_BUCKETS};
use crate::text::thousands;
use crate::text::{human_bytes, sanitize};
use crate::time::format as when;
use serde_json::{json, Value};
use std::fmt::Write;

/// `▁▂▅█` from bucket counts.
pub fn sparkline(t: &[u64; TREND_BUCKETS]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = t.iter().copied().max().unwrap_or(0);
    t.iter().map(|&n| if n == 0 { '·' } else { BARS[((n * 7).div_ceil(max.max(1)) as usize).min(7)] }).collect()
}

/// The sparkline, or blanks when the log is too short for a trend.
fn spark(s: &LogStats, t: &[u64; TREND_BUCKETS]) -> String {
    if s.trend_span.is_some() {
        sparkline(t)
    } else {
        " ".repeat(TREND_BUCKETS)
    }
}

fn span(s: &LogStats) -> String {
    match (s.first_at, s.last_at) {
        (Some(a), Some(b)) => format!("{} … {}", when(a), when(b)),
        _ => "no time stamps".to_string(),
    }
}

fn bucket_width(s: &LogStats) -> Option<i64> {
    s.trend_span.map(|(a, b)| ((b - a) / TREND_BUCKETS as i64).max(1))
}

/// Lines of deferred deliveries, by signature, over every destination.
fn deferral_reasons(s: &LogStats) -> Vec<(String, u64)> {
    let mut by: std::collections::BTreeMap<&str, u64> = Default::default();
    for d in &s.destinations {
        for (sig, n) in &d.reasons {
            *by.entry(sig.as_str()).or_default() += n;
        }
    }
    let mut v: Vec<(String, u64)> = by.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn sig<'a>(s: &'a LogStats, id: &str) -> Option<&'a SigStats> {
    s.signatures.iter().find(|x| x.id == id)
}

fn sizes_text(z: &crate::logscan::Sizes) -> String {
    if z.count == 0 {
        return String::new();
    }
    format!("sizes {} – {}, mean {}", human_bytes(z.min), human_bytes(z.max), human_bytes(z.sum / z.count as i64))
}

pub fn human(s: &LogStats, top: usize) -> String {
    let mut o = String::new();
    let t = s.totals();
    let (lines, matched, skipped, outside) = (t.lines, t.matched, t.skipped, t.outside);
    let _ = writeln!(
        o,
        "mailsleuth logs stats — {} file(s), {} lines ({} matched a signature, {} skipped as garbage, {} outside the window)",
        s.files.len(),
        thousands(lines),
        thousands(matched),
        thousands(skipped),
        thousands(outside)
    );
    let window = match (s.window.since, s.window.until) {
        (None, None) => "every line".to_string(),
        (a, b) => format!("{} … {}", a.map_or("start".into(), when), b.map_or("end".into(), when)),
    };
    let _ = writeln!(o, "Window: {window}; lines in it span {}", span(s));
    for f in &s.files {
        if let Some(p) = &f.problem {
            let _ = writeln!(o, "  ! {}: {}", sanitize(&f.path), sanitize(p));
        }
        if f.lossy > 0 {
            let _ = writeln!(o, "  ! {}: {} lines with invalid UTF-8 (read with replacement characters)", sanitize(&f.path), f.lossy);
        }
    }
    let width =
        bucket_width(s).map(|w| format!(" (trend: {TREND_BUCKETS} buckets of {})", crate::kb::template::duration(w))).unwrap_or_default();
    let _ = writeln!(o, "\nDeliveries — status= lines, and messages by their last status{width}");
    for st in &s.statuses {
        let _ = writeln!(
            o,
            "  {:<13} {:>12} lines {:>11} messages  {}  {:<9} {}",
            st.status,
            thousands(st.lines),
            thousands(st.messages),
            spark(s, &st.trend),
            s.trend_word(&st.trend),
            sizes_text(&st.sizes)
        );
    }
    let _ = writeln!(o, "  {:<13} {:>12} lines (reject: by smtpd, cleanup, milters)", "rejected", thousands(s.rejected));
    let sent = s.statuses.iter().find(|x| x.status == "sent").map(|x| x.sizes);
    let deferred = s.statuses.iter().find(|x| x.status == "deferred").map(|x| x.sizes);
    if let (Some(a), Some(b)) = (sent, deferred) {
        if a.count > 0 && b.count > 0 {
            let split = if b.min > a.max {
                " — every deferred message is larger than every delivered one"
            } else if b.max < a.min {
                " — every deferred message is smaller than every delivered one"
            } else {
                ""
            };
            let _ = writeln!(
                o,
                "\nSize split: delivered {} – {}; deferred {} – {}{split}",
                human_bytes(a.min),
                human_bytes(a.max),
                human_bytes(b.min),
                human_bytes(b.max)
            );
        }
    }
    if !s.destinations.is_empty() {
        let _ = writeln!(o, "\nTop deferred/bounced destinations");
        for d in s.destinations.iter().take(top) {
            let reasons: Vec<String> = d.reasons.iter().take(3).map(|(r, n)| format!("{r} ×{}", thousands(*n))).collect();
            let _ = writeln!(
                o,
                "  {:<32} {:>9} deferred {:>8} bounced  {}",
                sanitize(&d.domain),
                thousands(d.deferred),
                thousands(d.bounced),
                reasons.join(", ")
            );
        }
        if s.destinations_dropped > 0 {
            let _ = writeln!(o, "  (+{} lines for destinations beyond the first 10,000)", thousands(s.destinations_dropped));
        }
        let _ = writeln!(o, "\nTop deferral and bounce reasons by signature");
        for (id, n) in deferral_reasons(s).iter().take(top) {
            let (cat, trend, sample) = match sig(s, id) {
                Some(x) => (
                    x.category.clone(),
                    format!("{} {}", spark(s, &x.trend), s.trend_word(&x.trend)),
                    x.evidence.last().map(|e| format!("{}: {}", e.source, e.text)),
                ),
                None => ("unrecognised".into(), String::new(), None),
            };
            let _ = writeln!(o, "  {:<44} {:>9} lines  {trend}  [{cat}]", id, thousands(*n));
            if let Some(smp) = sample {
                let _ = writeln!(o, "      {}", sanitize(&clip(&smp, 200)));
            }
        }
    }
    let mut problems: Vec<&SigStats> = s.signatures.iter().filter(|x| x.severity >= LogSeverity::Warning).collect();
    problems.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.count.cmp(&a.count)).then(a.id.cmp(&b.id)));
    if !problems.is_empty() {
        let _ = writeln!(o, "\nWarnings, errors, fatals and panics by signature");
        for x in problems.iter().take(top.max(10)) {
            let _ = writeln!(
                o,
                "  {:<7} {:<44} {:>9} lines {:>7} msgs  {} {:<8} last {}",
                x.severity.as_str(),
                x.id,
                thousands(x.count),
                thousands(x.messages),
                spark(s, &x.trend),
                s.trend_word(&x.trend),
                x.last_seen.as_deref().unwrap_or("-")
            );
            if let Some(e) = x.evidence.last() {
                let _ = writeln!(o, "      {}", sanitize(&clip(&format!("{}: {}", e.source, e.text), 200)));
            }
        }
        if problems.len() > top.max(10) {
            let _ = writeln!(o, "  (+{} more; --format json lists all)", problems.len() - top.max(10));
        }
    }
    let _ = writeln!(
        o,
        "\n{} problem lines (warning/error/fatal, deferred, bounced, reject) matched no specific signature (at most a catch-all){}",
        thousands(s.unmatched_problems),
        if s.unmatched_problems > 0 { ": `mailsleuth logs unknown` groups them" } else { "" }
    );
    if s.evicted > 0 {
        let _ = writeln!(
            o,
            "{} messages were still open when the table of followed messages was full and were counted early",
            thousands(s.evicted)
        );
    }
    o
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

fn sizes_json(z: &crate::logscan::Sizes) -> Value {
    if z.count == 0 {
        return Value::Null;
    }
    json!({"count": z.count, "min": z.min, "max": z.max, "mean": z.sum / z.count as i64, "log2_kib_histogram": z.hist})
}

pub fn to_json(s: &LogStats) -> Value {
    json!({
        "files": s.files,
        "window": {"since": s.window.since.map(when), "until": s.window.until.map(when)},
        "first_line_at": s.first_at.map(when),
        "last_line_at": s.last_at.map(when),
        "trend_buckets": s.trend_span.map(|(a, b)| json!({"start": when(a), "end": when(b), "count": TREND_BUCKETS, "seconds": bucket_width(s)})),
        "statuses": s.statuses.iter().map(|st| json!({
            "status": st.status, "lines": st.lines, "messages": st.messages, "sizes": sizes_json(&st.sizes),
            "trend": st.trend, "trend_word": s.trend_word(&st.trend), "evidence": st.evidence,
        })).collect::<Vec<_>>(),
        "rejected": s.rejected,
        "destinations": s.destinations,
        "destinations_dropped": s.destinations_dropped,
        "deferral_reasons": deferral_reasons(s),
        "signatures": s.signatures.iter().map(|x| json!({
            "id": x.id, "program": x.program, "category": x.category, "severity": x.severity, "count": x.count,
            "messages": x.messages, "sizes": sizes_json(&x.sizes), "first_seen": x.first_seen, "last_seen": x.last_seen,
            "trend": x.trend, "trend_word": s.trend_word(&x.trend), "evidence": x.evidence, "more_evidence": x.more_evidence,
        })).collect::<Vec<_>>(),
        "unmatched_problem_lines": s.unmatched_problems,
        "evicted_messages": s.evicted,
    })
}

pub fn unknown_human(s: &LogStats, top: usize) -> String {
    let mut o = String::new();
    let lines = s.lines();
    let _ = writeln!(
        o,
        "mailsleuth logs unknown — {} problem lines of {} matched no specific signature (at most a catch-all), in {} templates{}",
        thousands(s.unmatched_problems),
        thousands(lines),
        thousands(s.unknown.len() as u64),
        if s.unknown.len() > top { format!(" (top {top} shown)") } else { String::new() }
    );
    let _ = writeln!(o, "Ids, numbers, addresses and host names are masked (QUEUEID, N, ID, ADDR, HOST, <*>).\n");
    for t in s.unknown.iter().take(top) {
        let _ = writeln!(o, "{:>9}  {:<7} {}", thousands(t.count), t.severity, sanitize(&t.template));
        let _ = writeln!(o, "           e.g. {}", sanitize(&clip(&format!("{}: {}", t.sample.source, t.sample.text), 220)));
    }
    if s.unknown_dropped > 0 {
        let _ = writeln!(o, "\n(+{} lines of templates beyond the first 20,000)", thousands(s.unknown_dropped));
    }
    if !s.unknown.is_empty() {
        let _ = writeln!(o, "\nTo teach mailsleuth one of them: add a signature to knowledge/signatures/<daemon>.ron (see README, \"Contributing a rule\").");
    }
    o
}

pub fn unknown_json(s: &LogStats, top: usize) -> Value {
    json!({
        "files": s.files,
        "unmatched_problem_lines": s.unmatched_problems,
        "templates": s.unknown.iter().take(top).collect::<Vec<_>>(),
        "templates_total": s.unknown.len(),
        "dropped_lines": s.unknown_dropped,
    })
}
