//! The Postfix queue: `postqueue -j` (per-recipient `delay_reason`, arrival time, size, queue
//! name) or, when it cannot run (master down, `--root`), a listing of the spool directories.
//! Facts in the spirit of Postfix's qshape: counts per queue, age buckets, top destinations,
//! top delay reasons, sizes.

use crate::bundle::specs::QUEUES;
use crate::bundle::{Bundle, Payload, Source};
#[cfg(test)]
use crate::model::Value;
use crate::model::{Fact, FactSet};
use crate::model::{FieldType, KindSpec};
use std::collections::BTreeMap;

pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "queue_summary",
        producer: "parser: `postqueue -j` or the spool listing",
        doc: "one Postfix queue (maildrop, incoming, active, deferred, hold)",
        fields: &[
            ("queue", FieldType::String, "queue name"),
            ("messages", FieldType::Integer, "messages in it"),
            ("total_bytes", FieldType::Integer, "sum of message sizes"),
            ("oldest_age_s", FieldType::Integer, "age of the oldest message, seconds (0 when empty)"),
            ("min_size", FieldType::Integer, "smallest message (when not empty)"),
            ("max_size", FieldType::Integer, "largest message (when not empty)"),
            ("source", FieldType::String, "postqueue -j or spool listing"),
        ],
    },
    KindSpec {
        name: "queue_age",
        producer: "parser: `postqueue -j` or the spool listing",
        doc: "messages of a queue by age bucket",
        fields: &[
            ("queue", FieldType::String, "queue name"),
            ("bucket", FieldType::String, "<5m, 5m-1h, 1h-4h, 4h-1d, 1d-5d, >5d"),
            ("messages", FieldType::Integer, "messages in the bucket"),
        ],
    },
    KindSpec {
        name: "queue_destination",
        producer: "parser: `postqueue -j`",
        doc: "top recipient domains of deferred and active mail (top 10)",
        fields: &[
            ("domain", FieldType::String, "recipient domain"),
            ("queue", FieldType::String, "deferred or active"),
            ("recipients", FieldType::Integer, "recipients waiting for it"),
            ("rank", FieldType::Integer, "1 for the busiest"),
        ],
    },
    KindSpec {
        name: "queue_reason",
        producer: "parser: `postqueue -j`",
        doc: "top delay reasons of deferred recipients (numbers and addresses masked for grouping; top 10)",
        fields: &[
            ("reason", FieldType::String, "a sample delay_reason"),
            ("recipients", FieldType::Integer, "recipients deferred for this reason"),
            ("domain", FieldType::String, "the most common recipient domain among them"),
            ("rank", FieldType::Integer, "1 for the most common"),
        ],
    },
];

/// One message as the parsers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedMessage {
    pub queue: String,
    pub id: String,
    pub arrival: i64,
    pub size: i64,
    /// (recipient, delay reason)
    pub recipients: Vec<(String, String)>,
}

/// Parse `postqueue -j`: one JSON object per line. Bad lines are skipped and counted.
pub fn parse_postqueue_json(text: &str) -> (Vec<QueuedMessage>, u64) {
    let mut out = Vec::new();
    let mut bad = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            bad += 1;
            continue;
        };
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let n = |k: &str| v.get(k).and_then(|x| x.as_i64()).unwrap_or(0);
        let recipients = v
            .get("recipients")
            .and_then(|r| r.as_array())
            .map(|a| {
                a.iter()
                    .map(|r| {
                        let g = |k: &str| r.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                        (g("address"), g("delay_reason"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(QueuedMessage {
            queue: s("queue_name"),
            id: s("queue_id"),
            arrival: n("arrival_time"),
            size: n("message_size"),
            recipients,
        });
    }
    (out, bad)
}

pub fn age_bucket(age_s: i64) -> &'static str {
    match age_s {
        i64::MIN..300 => "<5m",
        300..3600 => "5m-1h",
        3600..14400 => "1h-4h",
        14400..86400 => "4h-1d",
        86400..432000 => "1d-5d",
        _ => ">5d",
    }
}

/// Mask what varies between otherwise identical reasons (ids, numbers, addresses).
pub fn reason_key(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut prev_digit = false;
    for c in reason.chars() {
        if c.is_ascii_digit() {
            if !prev_digit {
                out.push('#');
            }
            prev_digit = true;
        } else {
            prev_digit = false;
            out.push(c);
        }
    }
    out
}

fn domain_of(addr: &str) -> String {
    addr.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_else(|| "(local)".into())
}

fn human_age(s: i64) -> String {
    match s {
        i64::MIN..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172800 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86400),
    }
}

fn summarise(msgs: &[QueuedMessage], now: i64, source: &str, out: &mut FactSet, obs: Option<u32>) {
    summarise_queues(msgs, now, source, out, obs, QUEUES);
}

/// [`summarise`] for the named queues (Courier has no maildrop, incoming or hold queue).
pub fn summarise_queues(msgs: &[QueuedMessage], now: i64, source: &str, out: &mut FactSet, obs: Option<u32>, queues: &[&str]) {
    for q in queues {
        let in_q: Vec<&QueuedMessage> = msgs.iter().filter(|m| m.queue == *q).collect();
        let oldest = in_q.iter().map(|m| (now - m.arrival).max(0)).max().unwrap_or(0);
        let mut f = Fact::new("queue_summary")
            .with("queue", *q)
            .with("messages", in_q.len() as u64)
            .with("total_bytes", in_q.iter().map(|m| m.size).sum::<i64>())
            .with("oldest_age_s", oldest)
            .with("source", source);
        if let (Some(min), Some(max)) = (in_q.iter().map(|m| m.size).min(), in_q.iter().map(|m| m.size).max()) {
            f.set("min_size", min);
            f.set("max_size", max);
        }
        let text =
            if in_q.is_empty() { format!("{q}: empty") } else { format!("{q}: {} messages, oldest {}", in_q.len(), human_age(oldest)) };
        f = f.evidence(source, text);
        if let Some(id) = obs {
            f = f.from_observation(id);
        }
        out.push(f);
        let mut buckets: BTreeMap<&str, u64> = BTreeMap::new();
        for m in &in_q {
            *buckets.entry(age_bucket(now - m.arrival)).or_default() += 1;
        }
        for (b, n) in buckets {
            out.push(Fact::new("queue_age").with("queue", *q).with("bucket", b).with("messages", n));
        }
    }
}

fn destinations_and_reasons(msgs: &[QueuedMessage], out: &mut FactSet) {
    destinations_and_reasons_from(msgs, "postqueue -j", out);
}

/// [`destinations_and_reasons`] with the evidence's source named.
pub fn destinations_and_reasons_from(msgs: &[QueuedMessage], source: &str, out: &mut FactSet) {
    for q in ["deferred", "active"] {
        let mut per: BTreeMap<String, u64> = BTreeMap::new();
        for m in msgs.iter().filter(|m| m.queue == q) {
            for (r, _) in &m.recipients {
                *per.entry(domain_of(r)).or_default() += 1;
            }
        }
        let mut v: Vec<(String, u64)> = per.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (i, (d, n)) in v.into_iter().take(10).enumerate() {
            out.push(
                Fact::new("queue_destination")
                    .with("domain", d.as_str())
                    .with("queue", q)
                    .with("recipients", n)
                    .with("rank", i as u64 + 1)
                    .evidence(source, format!("{n} {q} recipients at {d}")),
            );
        }
    }
    // key → (count, sample reason, domain counts, sample line)
    let mut reasons: BTreeMap<String, (u64, String, BTreeMap<String, u64>, String)> = BTreeMap::new();
    for m in msgs.iter().filter(|m| m.queue == "deferred") {
        for (r, why) in &m.recipients {
            if why.is_empty() {
                continue;
            }
            let e = reasons
                .entry(reason_key(why))
                .or_insert_with(|| (0, why.clone(), BTreeMap::new(), format!("{} {} <{r}>: {why}", m.id, m.size)));
            e.0 += 1;
            *e.2.entry(domain_of(r)).or_default() += 1;
        }
    }
    let mut v: Vec<(u64, String, BTreeMap<String, u64>, String)> = reasons.into_values().collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (i, (n, why, domains, line)) in v.into_iter().take(10).enumerate() {
        let domain = domains.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(d, _)| d.clone()).unwrap_or_default();
        out.push(
            Fact::new("queue_reason")
                .with("reason", why.as_str())
                .with("recipients", n)
                .with("domain", domain)
                .with("rank", i as u64 + 1)
                .evidence(source, line),
        );
    }
}

/// Messages from spool listings (`find queue_directory/<queue>`), when postqueue did not run.
fn from_listings(bundle: &Bundle) -> Option<(Vec<QueuedMessage>, Vec<String>)> {
    let mut msgs = Vec::new();
    let mut seen = false;
    let mut problems = Vec::new();
    for o in &bundle.observations {
        let Source::Listing { path } = &o.source else { continue };
        let queue = path.rsplit('/').next().unwrap_or("").to_string();
        if !QUEUES.contains(&queue.as_str()) {
            continue;
        }
        match &o.payload {
            Payload::Listing { entries, .. } => {
                seen = true;
                for e in entries.iter().filter(|e| e.mode & 0o170000 == 0o100000) {
                    let id = e.path.rsplit('/').next().unwrap_or("").to_string();
                    msgs.push(QueuedMessage { queue: queue.clone(), id, arrival: e.mtime, size: e.size as i64, recipients: Vec::new() });
                }
            }
            _ => problems.push(format!("{}: {}", o.source.label(), o.problem().unwrap_or_default())),
        }
    }
    (seen && problems.is_empty()).then_some((msgs, problems))
}

pub fn facts(bundle: &Bundle, out: &mut FactSet) {
    // A Courier host: its own queue (facts/courier.rs), not Postfix's.
    if super::courier::queue_facts(bundle, out) {
        return;
    }
    let now = bundle.created_at as i64;
    let pq = bundle.observations.iter().find(|o| matches!(&o.source, Source::Command { argv } if argv.first().map(String::as_str) == Some("postqueue") && argv.iter().any(|a| a == "-j")));
    if let Some(o) = pq {
        if let Payload::Text { text, .. } = &o.payload {
            let (msgs, _bad) = parse_postqueue_json(text);
            summarise(&msgs, now, "postqueue -j", out, Some(o.id));
            destinations_and_reasons(&msgs, out);
            return;
        }
    }
    match from_listings(bundle) {
        Some((msgs, _)) => {
            summarise(&msgs, now, "spool listing", out, None);
            let why = match pq.and_then(|o| o.problem()) {
                Some(p) => format!("postqueue -j: {p}"),
                None => "they need `postqueue -j`, which is not run under --root".into(),
            };
            for k in ["queue_destination", "queue_reason"] {
                out.unavailable(k, "queue destinations and delay reasons", why.clone());
            }
        }
        None => {
            let mut why: Vec<String> = pq.and_then(|o| o.problem()).map(|p| vec![format!("postqueue -j: {p}")]).unwrap_or_default();
            // One phrase per distinct problem: "maildrop, incoming, ... in /var/spool/postfix: does not exist".
            let mut by_problem: Vec<(String, Vec<String>, String)> = Vec::new();
            for o in bundle.observations.iter() {
                let Source::Listing { path } = &o.source else { continue };
                if !QUEUES.iter().any(|q| path.ends_with(&format!("/{q}"))) {
                    continue;
                }
                let Some(p) = o.problem() else { continue };
                let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
                match by_problem.iter_mut().find(|(pp, _, d)| *pp == p && d == dir) {
                    Some((_, names, _)) => names.push(name.to_string()),
                    None => by_problem.push((p, vec![name.to_string()], dir.to_string())),
                }
            }
            for (p, names, dir) in by_problem {
                why.push(format!("queue directories {} in {dir}: {p}", names.join(", ")));
            }
            let why = if why.is_empty() { "no queue directory was listed".to_string() } else { why.join("; ") };
            for k in ["queue_summary", "queue_age", "queue_destination", "queue_reason"] {
                out.unavailable(k, "the Postfix queue", why.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = include_str!("../../tests/fixtures/captured/outputs/postqueue-j.txt");

    #[test]
    fn real_postqueue_json_parses() {
        let (msgs, bad) = parse_postqueue_json(REAL);
        assert_eq!(bad, 0);
        assert!(msgs
            .iter()
            .any(|m| m.queue == "deferred" && m.recipients.iter().any(|(_, r)| r.contains("Unable to create temporary file"))));
        assert!(msgs.iter().any(|m| m.queue == "hold"));
    }

    #[test]
    fn summaries_destinations_and_reasons() {
        let (msgs, _) = parse_postqueue_json(REAL);
        let now = msgs.iter().map(|m| m.arrival).max().unwrap_or(0) + 7200;
        let mut out = FactSet::new();
        summarise(&msgs, now, "postqueue -j", &mut out, None);
        destinations_and_reasons(&msgs, &mut out);
        let deferred = out.of_kind("queue_summary").find(|f| f.get("queue") == Some(&Value::from("deferred"))).expect("deferred");
        let n = msgs.iter().filter(|m| m.queue == "deferred").count() as i64;
        assert_eq!(deferred.get("messages"), Some(&Value::Int(n)));
        assert!(deferred.get("oldest_age_s").and_then(Value::as_i64).is_some_and(|a| a >= 7200));
        assert_eq!(out.of_kind("queue_summary").count(), QUEUES.len());
        assert!(out
            .of_kind("queue_reason")
            .any(|f| f.get("reason").and_then(Value::as_str).is_some_and(|r| r.contains("Connection refused"))));
        assert!(out.of_kind("queue_destination").any(|f| f.get("domain") == Some(&Value::from("example.net"))));
    }

    #[test]
    fn garbage_lines_are_counted_not_fatal() {
        let (msgs, bad) = parse_postqueue_json(
            "{not json\n\n{\"queue_name\":\"deferred\",\"queue_id\":\"A\",\"arrival_time\":1,\"message_size\":2,\"recipients\":[]}\n",
        );
        assert_eq!((msgs.len(), bad), (1, 1));
        assert_eq!(
            reason_key("connect to mx.example[192.0.2.1]:25: Connection refused"),
            "connect to mx.example[#.#.#.#]:#: Connection refused"
        );
        assert_eq!(age_bucket(10), "<5m");
        assert_eq!(age_bucket(90000), "1d-5d");
    }
}
