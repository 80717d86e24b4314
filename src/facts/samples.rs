//! Sampled log lines, read again in detail: a combiner over the `log_signature` facts.
//!
//! A `log_signature` fact counts every line of one signature and keeps a few of them (the
//! first ones and the last) as evidence. For the signatures whose *content* decides a
//! diagnosis — what a remote server replied (which block list, which provider limits the
//! rate), which domain loops back, whose mailbox is full — this re-reads those sampled lines with their
//! signature's named captures and Postfix's delivery fields (`to=`, `relay=`, `dsn=`,
//! `status=`), and names the block list a reply cites from `knowledge/blocklists.ron`.
//!
//! Pure, and cheap: only the handful of sampled lines is read, never the logs again.

use crate::kb::reference::blocklists;
use crate::kb::Knowledge;
use crate::logscan::classify::classify_line;
use crate::logscan::line::{queue_id, split_syslog};
use crate::model::{Fact, FactSet, Value};
use crate::model::{FieldType, KindSpec};
use std::collections::BTreeSet;

pub const KINDS: &[KindSpec] = &[KindSpec {
    name: "log_sample",
    producer: "combiner: the sampled lines of log_signature facts (remote replies, mail loops)",
    doc: "one sampled log line of a remote-reply or mail-loop signature, with what it says",
    fields: &[
        ("id", FieldType::String, "signature id, e.g. remote.blocklisted"),
        ("category", FieldType::String, "category of the signature"),
        ("program", FieldType::String, "syslog program of the line, e.g. postfix/smtp, postfix/lmtp"),
        ("source", FieldType::String, "FILE:LINE of the line"),
        ("log", FieldType::String, "the log file"),
        ("queue_id", FieldType::String, "Postfix queue id, when the line has one"),
        ("to", FieldType::String, "recipient (to=<...>)"),
        ("to_domain", FieldType::String, "recipient domain, lower-cased"),
        ("status", FieldType::String, "sent, deferred, bounced (status=)"),
        ("dsn", FieldType::String, "enhanced status code (the reply's, else dsn=)"),
        ("relay", FieldType::String, "the remote host that answered, without address and port"),
        ("relay_ip", FieldType::String, "its address"),
        ("reply_code", FieldType::String, "SMTP reply code, e.g. 550"),
        ("reply", FieldType::String, "the reply text"),
        ("command", FieldType::String, "the SMTP command it answered, e.g. RCPT TO"),
        ("domain", FieldType::String, "the domain a mail-loop line names"),
        ("user", FieldType::String, "the user a delivery agent names (Dovecot's lda(user), local(8)'s `for user`)"),
        ("path", FieldType::String, "the file a delivery agent names (a relative queue file is made absolute under queue_directory)"),
        ("error", FieldType::String, "the system error a delivery agent reports, e.g. Permission denied"),
        ("mount_path", FieldType::String, "the mail path whose file system holds `path` (an fs_usage path), when one does"),
        ("fs_readonly", FieldType::Bool, "whether that file system is read-only now (live statvfs only)"),
        ("client_ip", FieldType::String, "the IPv4 address the reply says it refused (this host's, as the remote server saw it)"),
        (
            "list",
            FieldType::String,
            "block lists: the list the reply names (a known list, the name after `blocked using`, or the receiver's own)",
        ),
        ("list_zone", FieldType::String, "block lists: the list's DNS zone, when it has one"),
        ("list_delist", FieldType::String, "block lists: where the list explains and removes listings"),
        ("lookup", FieldType::String, "block lists: the DNS name to query for client_ip in list_zone"),
    ],
}];

/// Signatures whose sampled lines are read again: every remote reply, mail loops, the local
/// quota refusals that name their user, and temporary-file failures (which path, which
/// transport).
const SAMPLED: &[&str] = &[
    "postfix.mx_loops_back",
    "postfix.greeted_with_own_hostname",
    "dovecot.quota_exceeded",
    "postfix.mailbox_size_limit",
    "postfix.command_tmpfile",
    "procmail.filter_tmpfile",
    "dovecot.temp_file_failed",
    "postfix.read_only_filesystem",
    "postfix.mailbox_open_failed",
];

fn sampled(id: &str) -> bool {
    id.starts_with("remote.") || SAMPLED.contains(&id)
}

/// `key=value` of a Postfix line (`relay=mx.example.com[192.0.2.1]:25,` → the value).
fn field<'a>(message: &'a str, key: &str) -> Option<&'a str> {
    let at = message.match_indices(key).find(|(i, _)| *i == 0 || matches!(message.as_bytes()[i - 1], b' ' | b','))?.0;
    let rest = &message[at + key.len()..];
    Some(&rest[..rest.find([',', ' ']).unwrap_or(rest.len())])
}

/// `mx.example.com[192.0.2.1]:25` → (`mx.example.com`, `192.0.2.1`).
fn split_host(v: &str) -> (String, Option<String>) {
    match v.split_once('[') {
        Some((h, rest)) => (h.to_string(), rest.split(']').next().map(str::to_string).filter(|s| !s.is_empty())),
        None => (v.to_string(), None),
    }
}

/// A reply without its leading `552 5.2.2 ` (the code and status have fields of their own).
fn strip_codes(r: &str) -> &str {
    let b = r.as_bytes();
    if b.len() > 4 && b[..3].iter().all(u8::is_ascii_digit) && matches!(b[3], b' ' | b'-') {
        let rest = &r[4..];
        let (first, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        let is_status = first.split('.').count() == 3 && first.split('.').all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
        return if is_status { tail } else { rest };
    }
    r
}

/// The first dotted-quad IPv4 address in `text` that is not `except`.
fn first_ipv4(text: &str, except: Option<&str>) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_digit() || b[i - 1] == b'.')) {
            let end = i + b[i..].iter().take_while(|c| c.is_ascii_digit() || **c == b'.').count();
            let cand = text[i..end].trim_end_matches('.');
            if cand.parse::<std::net::Ipv4Addr>().is_ok() && Some(cand) != except {
                return Some(cand.to_string());
            }
            i = end;
        } else {
            i += 1;
        }
    }
    None
}

/// Which list a block-list reply names: (name, zone, delist).
pub fn identify_list(reply: &str, blocked_using: Option<&str>) -> (String, Option<String>, Option<String>) {
    let low = reply.to_ascii_lowercase();
    if let Some(l) = blocklists().iter().find(|l| l.words.iter().any(|w| low.contains(w.as_str()))) {
        return (l.name.clone(), l.zone.clone(), Some(l.delist.clone()));
    }
    match blocked_using {
        // `blocked using dnsbl.example.net`: Postfix's reject_rbl_client names the zone itself.
        Some(z) if z.contains('.') && !z.contains(' ') => (z.to_string(), Some(z.to_ascii_lowercase()), None),
        Some(z) => (z.to_string(), None, None),
        None => ("the receiving server's own block list".to_string(), None, None),
    }
}

/// The DNS name that asks `zone` about `ip`: `198.51.100.12` → `12.100.51.198.zone`.
pub fn dnsbl_name(ip: &str, zone: &str) -> Option<String> {
    let addr: std::net::Ipv4Addr = ip.parse().ok()?;
    let o = addr.octets();
    Some(format!("{}.{}.{}.{}.{zone}", o[3], o[2], o[1], o[0]))
}

/// One sampled line → a `log_sample` fact (None when it no longer matches its signature).
pub fn sample_fact(k: &Knowledge, id: &str, category: &str, source: &str, raw: &str) -> Option<Fact> {
    let (sig, caps) = classify_line(&k.signatures, raw)?;
    if sig.id != id {
        return None;
    }
    let line = split_syslog(raw);
    let msg = line.message;
    let mut f = Fact::new("log_sample").with("id", id).with("category", category).with("source", source).evidence(source, raw);
    if let Some(p) = line.program {
        f.set("program", p);
    }
    if let Some((log, _)) = source.rsplit_once(':') {
        f.set("log", log);
    }
    if let Some(q) = queue_id(msg) {
        f.set("queue_id", q);
    }
    if let Some(to) = field(msg, "to=<").map(|v| v.trim_end_matches('>')) {
        f.set("to", to);
        if let Some((_, d)) = to.rsplit_once('@') {
            f.set("to_domain", d.to_ascii_lowercase());
        }
    }
    for key in ["status", "dsn"] {
        if let Some(v) = field(msg, &format!("{key}=")) {
            f.set(key, v);
        }
    }
    // The host that answered: the reply's own `host X[ip] said:`, else relay=.
    let (relay, relay_ip) = match caps.get("relay") {
        Some(r) => (Some(r.clone()), caps.get("relay_ip").cloned()),
        None => match msg.find("host ").map(|i| &msg[i + 5..]).and_then(|r| r.split_whitespace().next()) {
            Some(h) if h.contains('[') => {
                let (h, ip) = split_host(h);
                (Some(h), ip)
            }
            _ => field(msg, "relay=").filter(|r| *r != "none").map(split_host).map(|(h, ip)| (Some(h), ip)).unwrap_or((None, None)),
        },
    };
    if let Some(r) = &relay {
        f.set("relay", r.as_str());
    }
    if let Some(ip) = &relay_ip {
        f.set("relay_ip", ip.as_str());
    }
    for name in ["reply_code", "dsn", "command", "user", "path", "qpath", "error"] {
        if let Some(v) = caps.get(name).filter(|v| !v.is_empty()) {
            // A queue file named relative to queue_directory (postdrop, cleanup).
            f.set(if name == "qpath" { "path" } else { name }, v.as_str());
        }
    }
    if let Some(d) = caps.get("domain").filter(|v| !v.is_empty()) {
        f.set("domain", d.trim_end_matches('.').to_ascii_lowercase());
    }
    if f.get("command").is_none() {
        if let Some(c) = msg.rsplit_once(" (in reply to ").and_then(|(_, r)| r.split_once(" command)")).map(|(c, _)| c) {
            f.set("command", c);
        }
    }
    // The reply text: the capture when the signature has one, else what follows "said:".
    let reply = caps.get("reply").cloned().or_else(|| {
        let at = msg.find(" said: ").map(|i| i + 7).or_else(|| msg.find("refused to talk to me: ").map(|i| i + 23))?;
        let r = &msg[at..];
        let r = r.rsplit_once(" (in reply to ").map_or(r.trim_end_matches(')'), |(a, _)| a);
        Some(strip_codes(r).to_string())
    });
    if let Some(r) = &reply {
        f.set("reply", r.as_str());
    }
    if category == "rbl-blocklisted" {
        let text = reply.as_deref().unwrap_or(msg);
        let (name, zone, delist) = identify_list(text, caps.get("list").map(String::as_str));
        f.set("list", name);
        let client = first_ipv4(text, relay_ip.as_deref());
        if let Some(ip) = &client {
            f.set("client_ip", ip.as_str());
        }
        if let Some(z) = &zone {
            f.set("list_zone", z.as_str());
            if let Some(q) = client.as_deref().and_then(|ip| dnsbl_name(ip, z)) {
                f.set("lookup", q);
            }
        }
        if let Some(d) = delist {
            f.set("list_delist", d);
        }
    }
    Some(f)
}

/// The `fs_usage` path that holds `path` (the longest one that is a prefix of it, by path
/// components), with whether that file system is read-only.
fn covering_fs(fs: &[(String, Option<bool>)], path: &str) -> Option<(String, Option<bool>)> {
    let under = |base: &str| base == "/" || path == base || path.starts_with(&format!("{}/", base.trim_end_matches('/')));
    fs.iter().filter(|(p, _)| under(p)).max_by_key(|(p, _)| p.len()).cloned()
}

/// Make a queue-relative path absolute and say which file system holds it.
fn place(f: &mut Fact, fs: &[(String, Option<bool>)], queue: &str) {
    let Some(p) = f.get("path").and_then(|v| v.as_str()).map(str::to_string) else { return };
    let abs = if p.starts_with('/') { p } else { format!("{}/{p}", queue.trim_end_matches('/')) };
    if let Some((mount, ro)) = covering_fs(fs, &abs) {
        f.set("mount_path", mount);
        if let Some(ro) = ro {
            f.set("fs_readonly", ro);
        }
    }
    f.set("path", abs);
}

/// A `log_sample` fact for every sampled line of the signatures worth reading in detail.
/// Runs after the host facts: a path in a sample is placed on its file system.
pub fn facts(k: &Knowledge, out: &mut FactSet) {
    let fs: Vec<(String, Option<bool>)> = out
        .of_kind("fs_usage")
        .filter_map(|f| {
            Some((
                f.get("path")?.as_str()?.to_string(),
                f.get("readonly").and_then(|v| if let Value::Bool(b) = v { Some(*b) } else { None }),
            ))
        })
        .collect();
    let queue = out
        .of_kind("postconf")
        .find(|f| f.get("name").and_then(|v| v.as_str()) == Some("queue_directory"))
        .and_then(|f| f.get("value").and_then(|v| v.as_str()).map(str::to_string))
        .unwrap_or_else(|| "/var/spool/postfix".to_string());
    let mut new = Vec::new();
    for s in out.of_kind("log_signature") {
        let str_of = |name: &str| s.get(name).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let (id, category) = (str_of("id"), str_of("category"));
        if !sampled(&id) {
            continue;
        }
        let mut seen = BTreeSet::new();
        for e in &s.evidence {
            if !seen.insert(e.source.as_str()) {
                continue;
            }
            if let Some(mut f) = sample_fact(k, &id, &category, &e.source, &e.text) {
                place(&mut f, &fs, &queue);
                new.push(f);
            }
        }
    }
    out.extend(new);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kb() -> Knowledge {
        crate::knowledge_from_files(crate::kb::embedded_files()).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn the_block_list_table_parses() {
        let l = blocklists();
        assert!(l.len() >= 8, "{} lists", l.len());
        assert!(l.iter().any(|b| b.zone.as_deref() == Some("zen.spamhaus.org")));
    }

    #[test]
    fn a_spamhaus_reply_names_the_list_the_ip_and_the_query() {
        let line = "Nov 23 11:15:24 mx1 postfix/smtp[369]: CA10A8E: to=<spamhaus@remote.lab.example>, relay=mx.remote.lab.example[127.0.0.10]:25, delay=0.07, delays=0/0.03/0.01/0.04, dsn=5.7.1, status=bounced (host mx.remote.lab.example[127.0.0.10] said: 554 5.7.1 Service unavailable; Client host [198.51.100.12] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/198.51.100.12 (in reply to RCPT TO command))";
        let f = sample_fact(&kb(), "remote.blocklisted", "rbl-blocklisted", "/var/log/mail.log:7", line).expect("sample");
        let g = |n: &str| f.get(n).and_then(|v| v.as_str()).map(str::to_string);
        assert_eq!(g("list").as_deref(), Some("Spamhaus"));
        assert_eq!(g("client_ip").as_deref(), Some("198.51.100.12"));
        assert_eq!(g("lookup").as_deref(), Some("12.100.51.198.zen.spamhaus.org"));
        assert_eq!(g("relay").as_deref(), Some("mx.remote.lab.example"));
        assert_eq!(g("to_domain").as_deref(), Some("remote.lab.example"));
        assert_eq!(g("status").as_deref(), Some("bounced"));
        assert_eq!(g("reply_code").as_deref(), Some("554"));
        assert_eq!(g("log").as_deref(), Some("/var/log/mail.log"));
        assert_eq!(g("command").as_deref(), Some("RCPT TO"));
    }

    #[test]
    fn a_microsoft_reply_has_a_delisting_page_and_no_zone() {
        let line = "Nov 23 11:15:24 mx1 postfix/smtp[352]: D1FF699: to=<outlookbl@remote.lab.example>, relay=mx.remote.lab.example[127.0.0.10]:25, delay=0.05, delays=0/0.01/0/0.04, dsn=5.7.1, status=bounced (host mx.remote.lab.example[127.0.0.10] said: 550 5.7.1 Unfortunately, messages from [127.0.0.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [AM0PR02MB1234.eurprd02.prod.outlook.com] (in reply to RCPT TO command))";
        let f = sample_fact(&kb(), "remote.blocklisted", "rbl-blocklisted", "/var/log/mail.log:9", line).expect("sample");
        let g = |n: &str| f.get(n).and_then(|v| v.as_str()).map(str::to_string);
        assert_eq!(g("list").as_deref(), Some("Microsoft Outlook.com block list"));
        assert_eq!(g("list_zone"), None);
        assert_eq!(g("lookup"), None);
        assert_eq!(g("client_ip").as_deref(), Some("127.0.0.1"));
        assert_eq!(g("list_delist").as_deref(), Some("https://olcsupport.office.com/"));
    }

    #[test]
    fn a_loop_line_names_its_domain_and_garbage_gives_nothing() {
        let line = "Nov 23 11:15:25 mx1 postfix/smtp[319]: 43D39110: to=<someone@loop.lab.example>, relay=none, delay=0, delays=0/0/0/0, dsn=5.4.6, status=bounced (mail for loop.lab.example loops back to myself)";
        let f = sample_fact(&kb(), "postfix.mx_loops_back", "loops-back-to-myself", "/var/log/mail.log:3", line).expect("sample");
        assert_eq!(f.get("domain").and_then(|v| v.as_str()), Some("loop.lab.example"));
        assert_eq!(f.get("relay"), None);
        assert!(sample_fact(&kb(), "postfix.mx_loops_back", "x", "f:1", "not a log line at all").is_none());
        assert!(sample_fact(&kb(), "remote.blocklisted", "x", "f:1", line).is_none(), "another signature's line");
    }

    #[test]
    fn a_path_is_placed_on_the_file_system_that_holds_it() {
        let fs = vec![("/var/spool/postfix".to_string(), Some(false)), ("/var/mail".to_string(), Some(true)), ("/".to_string(), None)];
        assert_eq!(covering_fs(&fs, "/var/mail/alice.lock"), Some(("/var/mail".to_string(), Some(true))));
        assert_eq!(covering_fs(&fs, "/var/mailx/a").map(|x| x.0).as_deref(), Some("/"));
        let mut f = Fact::new("log_sample").with("path", "maildrop/584217.9977");
        place(&mut f, &fs, "/var/spool/postfix");
        assert_eq!(f.get("path").and_then(|v| v.as_str()), Some("/var/spool/postfix/maildrop/584217.9977"));
        assert_eq!(f.get("fs_readonly"), Some(&Value::Bool(false)));
        assert_eq!(covering_fs(&fs[..2], "/srv/vmail/x"), None);
    }

    #[test]
    fn ipv4_search_skips_the_relay_and_non_addresses() {
        assert_eq!(first_ipv4("550 from 203.0.113.5 via 198.51.100.12", Some("203.0.113.5")).as_deref(), Some("198.51.100.12"));
        assert_eq!(first_ipv4("postfix 3.7.11 and 999.1.1.1", None), None);
        assert_eq!(dnsbl_name("198.51.100.12", "bl.spamcop.net").as_deref(), Some("12.100.51.198.bl.spamcop.net"));
        assert_eq!(dnsbl_name("2001:db8::1", "zen.spamhaus.org"), None);
        assert_eq!(strip_codes("552 5.2.2 <a@example.org> Quota exceeded"), "<a@example.org> Quota exceeded");
        assert_eq!(strip_codes("421 Too many connections"), "Too many connections");
        assert_eq!(strip_codes("Mailbox full"), "Mailbox full");
    }
}
