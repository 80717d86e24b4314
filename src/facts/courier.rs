//! Courier MTA facts: its queue as `queue_summary` / `queue_age` / `queue_destination` /
//! `queue_reason` (the kinds Postfix's queue gives, so the same rules read both; called by
//! the queue producer), each waiting message as `courier_message` (id, size, recipients,
//! the reason and time of its last attempt), and its domain lists as `courier_domain`.
//! Pure: reads the observations of observe/courier.rs.

use super::queue::{destinations_and_reasons_from, summarise_queues, QueuedMessage};
use crate::bundle::{Bundle, ListEntry, Payload, Source};
use crate::model::{Fact, FactSet, FieldType, KindSpec};
use crate::parse::courier::{data_file_inode, domain_list, parse_control, CONFIG_DIRS, MSGS};

pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "courier_message",
        producer: "parser: Courier's queue (/var/lib/courier/msgs: data and control files)",
        doc: "a message in Courier's queue (at most 200, oldest first)",
        fields: &[
            ("id", FieldType::String, "Courier's queue id, INODE.TIME.PID in hex, as in the log's id="),
            ("size", FieldType::Integer, "the data file's size (= the size Courier logs on delivery)"),
            ("queue", FieldType::String, "deferred (an attempt failed) or active (not tried yet)"),
            ("recipients", FieldType::List, "its recipients"),
            ("reason", FieldType::String, "the reason of the last failed attempt (control file I record)"),
            ("last_deferred", FieldType::Integer, "time of the last deferral, seconds since the epoch"),
            ("submitted", FieldType::Integer, "submission time, seconds since the epoch"),
        ],
    },
    KindSpec {
        name: "courier_domain",
        producer: "parser: /etc/courier/locals, hosteddomains, esmtpacceptmailfor(.dir)",
        doc: "a domain Courier accepts mail for: local (locals, me), hosted (hosteddomains) or relayed (esmtpacceptmailfor)",
        fields: &[
            ("domain", FieldType::String, "the domain, lower case"),
            ("list", FieldType::String, "locals, me, hosteddomains, esmtpacceptmailfor"),
            ("file", FieldType::String, "the file that lists it"),
        ],
    },
];

/// How many `courier_message` facts at most.
const MAX_MESSAGE_FACTS: usize = 200;

fn listing<'a>(bundle: &'a Bundle, path: &str) -> Option<(u32, &'a [ListEntry], u64)> {
    bundle.observations.iter().find_map(|o| match (&o.source, &o.payload) {
        (Source::Listing { path: p }, Payload::Listing { entries, truncated }) if p == path => Some((o.id, entries.as_slice(), *truncated)),
        _ => None,
    })
}

/// Courier's queue, when its listing is in the bundle: true when these facts (or their
/// unavailability) were produced, so the Postfix queue is not looked for.
pub fn queue_facts(bundle: &Bundle, out: &mut FactSet) -> bool {
    let listed = bundle.observations.iter().find(|o| matches!(&o.source, Source::Listing { path } if path == MSGS));
    let Some(obs) = listed else { return false };
    let Some((id, entries, truncated)) = listing(bundle, MSGS) else {
        let why = obs.problem().unwrap_or_default();
        for k in ["queue_summary", "queue_age", "queue_destination", "queue_reason", "courier_message"] {
            out.unavailable(k, format!("Courier's queue ({MSGS})"), why.clone());
        }
        return true;
    };
    let source = format!("Courier queue ({MSGS})");
    let mut msgs: Vec<(QueuedMessage, Option<i64>)> = Vec::new();
    let mut unread = 0;
    for e in entries.iter().filter(|e| e.mode & 0o170000 == 0o100000) {
        let Some(inode) = data_file_inode(&e.path) else { continue };
        let dir = e.path.rsplit_once('/').map_or("", |(d, _)| d);
        let cpath = if dir.is_empty() { format!("{MSGS}/C{inode}") } else { format!("{MSGS}/{dir}/C{inode}") };
        let control = bundle.file(&cpath).and_then(|o| o.text()).map(parse_control);
        if control.is_none() {
            unread += 1;
        }
        let c = control.unwrap_or_default();
        let queue = if c.deferred.is_empty() && c.reasons.is_empty() { "active" } else { "deferred" };
        let reason = c.reasons.last().cloned().unwrap_or_default();
        let recipients = c.recipients.iter().map(|r| (r.clone(), reason.clone())).collect();
        let id = if c.id.is_empty() { format!("inode {inode}") } else { c.id.clone() };
        let arrival = c.submitted().unwrap_or(e.mtime);
        msgs.push((QueuedMessage { queue: queue.to_string(), id, arrival, size: e.size as i64, recipients }, c.last_deferred()));
    }
    msgs.sort_by(|a, b| a.0.arrival.cmp(&b.0.arrival).then(a.0.id.cmp(&b.0.id)));
    let plain: Vec<QueuedMessage> = msgs.iter().map(|(m, _)| m.clone()).collect();
    summarise_queues(&plain, bundle.created_at as i64, &source, out, Some(id), &["deferred", "active"]);
    destinations_and_reasons_from(&plain, &source, out);
    for (m, last) in msgs.iter().take(MAX_MESSAGE_FACTS) {
        let rcpts: Vec<String> = m.recipients.iter().map(|(r, _)| r.clone()).collect();
        let reason = m.recipients.first().map(|(_, r)| r.as_str()).unwrap_or("");
        let mut f = Fact::new("courier_message")
            .with("id", m.id.as_str())
            .with("size", m.size)
            .with("queue", m.queue.as_str())
            .with("recipients", crate::model::Value::List(rcpts.iter().map(|r| crate::model::Value::from(r.as_str())).collect()))
            .with("submitted", m.arrival)
            .evidence(
                source.as_str(),
                format!(
                    "{} {} bytes <{}>{}",
                    m.id,
                    m.size,
                    rcpts.join(">, <"),
                    if reason.is_empty() { String::new() } else { format!(": {reason}") }
                ),
            )
            .from_observation(id);
        if !reason.is_empty() {
            f.set("reason", reason);
        }
        if let Some(t) = last {
            f.set("last_deferred", *t);
        }
        out.push(f);
    }
    if truncated > 0 || unread > 0 {
        out.unavailable(
            "courier_message",
            format!("part of Courier's queue ({MSGS})"),
            format!("{truncated} entries past the listing's bound, {unread} control files not read"),
        );
    }
    true
}

/// The size of each message in Courier's queue (its data file), by the log scan's key of
/// its id: Courier logs a size only when a message is delivered, so the sizes of deferred
/// messages (the size split of the founding case) come from here.
pub fn queue_sizes(bundle: &Bundle) -> std::collections::HashMap<u128, i64> {
    let mut out = std::collections::HashMap::new();
    let Some((_, entries, _)) = listing(bundle, MSGS) else { return out };
    for e in entries.iter().filter(|e| e.mode & 0o170000 == 0o100000) {
        let Some(inode) = data_file_inode(&e.path) else { continue };
        let dir = e.path.rsplit_once('/').map_or("", |(d, _)| d);
        let cpath = if dir.is_empty() { format!("{MSGS}/C{inode}") } else { format!("{MSGS}/{dir}/C{inode}") };
        let Some(c) = bundle.file(&cpath).and_then(|o| o.text()).map(parse_control) else { continue };
        if let Some(key) = crate::logscan::courier::pack_id(&c.id) {
            out.insert(key, e.size as i64);
        }
    }
    out
}

/// The domain lists: each file (or each file of the list's directory) read by the collector.
pub fn facts(bundle: &Bundle, out: &mut FactSet) {
    let lists = [
        ("locals", "/etc/courier/locals"),
        ("hosteddomains", "/etc/courier/hosteddomains"),
        ("esmtpacceptmailfor", "/etc/courier/esmtpacceptmailfor"),
        ("esmtpacceptmailfor", "/etc/courier/esmtpacceptmailfor.dir"),
    ];
    for (list, path) in lists {
        let in_dir = CONFIG_DIRS.contains(&path);
        for o in &bundle.observations {
            let Source::File { path: p } = &o.source else { continue };
            let hit = p == path || (in_dir && p.strip_prefix(path).is_some_and(|r| r.starts_with('/') && !r[1..].contains('/')));
            if !hit {
                continue;
            }
            let Some(text) = o.text() else { continue };
            for d in domain_list(text) {
                out.push(
                    Fact::new("courier_domain")
                        .with("domain", d.as_str())
                        .with("list", list)
                        .with("file", p.as_str())
                        .evidence(p.as_str(), d.clone())
                        .from_observation(o.id),
                );
            }
        }
    }
    if let Some(o) = bundle.file("/etc/courier/me") {
        if let Some(me) = o.text().and_then(|t| t.lines().next()).map(str::trim).filter(|s| !s.is_empty()) {
            out.push(
                Fact::new("courier_domain")
                    .with("domain", me.to_ascii_lowercase())
                    .with("list", "me")
                    .with("file", "/etc/courier/me")
                    .evidence("/etc/courier/me", me)
                    .from_observation(o.id),
            );
        }
    }
}
