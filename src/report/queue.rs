//! `mailsleuth queue`: the view of the queue admins know from qshape(1) — recipients by
//! destination domain and by age (minutes, doubling buckets), busiest first — and the most
//! common deferral reasons of each destination, from the `postqueue -j` output the
//! collection already holds.

use crate::bundle::{Bundle, Payload, Source};
use crate::facts::queue::{parse_postqueue_json, reason_key, QueuedMessage};
use crate::text::sanitize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// qshape's age buckets: upper bounds in minutes (the last is open).
pub const BUCKETS: [i64; 9] = [5, 10, 20, 40, 80, 160, 320, 640, 1280];

/// One destination's row: recipients per bucket (BUCKETS.len() + 1 of them) and reasons.
#[derive(Debug, Default, Clone)]
pub struct Row {
    pub domain: String,
    pub total: u64,
    pub buckets: Vec<u64>,
    /// (masked reason, recipients, one sample), most frequent first.
    pub reasons: Vec<(String, u64, String)>,
}

/// The queue's messages from the bundle's `postqueue -j`, or why there are none.
pub fn messages(b: &Bundle) -> Result<Vec<QueuedMessage>, String> {
    let pq = b.observations.iter().find(
        |o| matches!(&o.source, Source::Command { argv } if argv.first().map(String::as_str) == Some("postqueue") && argv.iter().any(|a| a == "-j")),
    );
    match pq.map(|o| &o.payload) {
        Some(Payload::Text { text, .. }) => Ok(parse_postqueue_json(text).0),
        Some(_) => Err(format!("postqueue -j: {}", pq.and_then(|o| o.problem()).unwrap_or_default())),
        None if b.live => Err("postqueue -j was not run (no Postfix found)".to_string()),
        None => Err("destinations need `postqueue -j`, which is not run under --root".to_string()),
    }
}

fn bucket(age_min: i64) -> usize {
    BUCKETS.iter().position(|&b| age_min < b).unwrap_or(BUCKETS.len())
}

/// The rows, busiest destination first, counting recipients of messages in `queue` (all
/// queues when `None`), ages from `now`.
pub fn rows(msgs: &[QueuedMessage], now: i64, queue: Option<&str>) -> Vec<Row> {
    let mut by: BTreeMap<String, Row> = BTreeMap::new();
    let mut reasons: BTreeMap<String, BTreeMap<String, (u64, String)>> = BTreeMap::new();
    for m in msgs.iter().filter(|m| queue.is_none_or(|q| m.queue == q)) {
        let age_min = (now - m.arrival).max(0) / 60;
        for (addr, reason) in &m.recipients {
            let domain = addr.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_else(|| "(local)".to_string());
            let row = by.entry(domain.clone()).or_insert_with(|| Row {
                domain: domain.clone(),
                buckets: vec![0; BUCKETS.len() + 1],
                ..Row::default()
            });
            row.total += 1;
            row.buckets[bucket(age_min)] += 1;
            if !reason.is_empty() {
                let e = reasons.entry(domain).or_default().entry(reason_key(reason)).or_insert((0, reason.clone()));
                e.0 += 1;
            }
        }
    }
    let mut out: Vec<Row> = by.into_values().collect();
    for r in &mut out {
        if let Some(rs) = reasons.remove(&r.domain) {
            let mut v: Vec<(String, u64, String)> = rs.into_iter().map(|(k, (n, s))| (k, n, s)).collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            r.reasons = v;
        }
    }
    out.sort_by(|a, b| b.total.cmp(&a.total).then(a.domain.cmp(&b.domain)));
    out
}

/// The table and the reasons, as text; `top` destinations.
pub fn human(rows: &[Row], top: usize, reasons: usize) -> String {
    let mut s = String::new();
    let width = rows.iter().take(top).map(|r| r.domain.chars().count()).max().unwrap_or(5).clamp(5, 40);
    let _ = write!(s, "{:>width$} {:>6}", "", "T");
    for b in BUCKETS {
        let _ = write!(s, " {b:>5}");
    }
    let _ = writeln!(s, " {:>5}+", BUCKETS[BUCKETS.len() - 1]);
    let mut total = Row { domain: "TOTAL".into(), buckets: vec![0; BUCKETS.len() + 1], ..Row::default() };
    for r in rows {
        total.total += r.total;
        for (t, n) in total.buckets.iter_mut().zip(&r.buckets) {
            *t += n;
        }
    }
    for r in std::iter::once(&total).chain(rows.iter().take(top)) {
        let name: String = sanitize(&r.domain).chars().take(width).collect();
        let _ = write!(s, "{name:>width$} {:>6}", r.total);
        for n in &r.buckets {
            let _ = write!(s, " {n:>5}");
        }
        let _ = writeln!(s);
    }
    if rows.len() > top {
        let _ = writeln!(s, "… and {} more destinations", rows.len() - top);
    }
    let _ = writeln!(s, "(recipients by destination and by age in minutes, as qshape(1) counts them)");
    let with: Vec<&Row> = rows.iter().take(top).filter(|r| !r.reasons.is_empty()).collect();
    if !with.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Top deferral reasons by destination:");
        for r in with {
            let _ = writeln!(s, "  {}:", sanitize(&r.domain));
            for (_, n, sample) in r.reasons.iter().take(reasons) {
                let _ = writeln!(s, "    {n:>5} × {}", sanitize(&crate::text::truncate_chars(sample, 120)));
            }
        }
    }
    s
}

/// The same as JSON: `{"buckets_minutes": [...], "destinations": [{domain, total, buckets, reasons: [{reason, count, sample}]}]}`.
pub fn json(rows: &[Row]) -> String {
    let v = serde_json::json!({
        "buckets_minutes": BUCKETS,
        "destinations": rows.iter().map(|r| serde_json::json!({
            "domain": r.domain,
            "total": r.total,
            "buckets": r.buckets,
            "reasons": r.reasons.iter().map(|(k, n, s)| serde_json::json!({"reason": k, "count": n, "sample": s})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}
