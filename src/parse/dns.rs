//! DNS as text: resolv.conf and /etc/hosts, the queries Postfix would make (its next hops,
//! myhostname, mydomain), and the answers the collector recorded. No lookups here.

use super::postconf::Config;
use std::net::IpAddr;

/// glibc's MAXNS: nameserver lines past the third are ignored.
pub const MAXNS: usize = 3;

/// Where a system file's copy lives in Postfix's chroot: Debian's postfix copies
/// resolv.conf and hosts below `queue_directory` because chrooted services cannot see /etc.
pub fn chroot_path(cfg: &Config, file: &str) -> String {
    let q = cfg.value("queue_directory").filter(|q| !q.is_empty()).unwrap_or_else(|| "/var/spool/postfix".to_string());
    format!("{}{file}", q.trim_end_matches('/'))
}

/// What a resolv.conf says, per resolv.conf(5).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResolvConf {
    /// (line number, address as written)
    pub nameservers: Vec<(u64, String)>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

pub fn parse_resolv_conf(text: &str) -> ResolvConf {
    let mut rc = ResolvConf::default();
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        // resolv.conf(5): `;` or `#` in the first column starts a comment.
        let Some(key) = words.next().filter(|w| !w.starts_with([';', '#'])) else { continue };
        match key {
            "nameserver" => {
                if let Some(addr) = words.next() {
                    rc.nameservers.push((i as u64 + 1, addr.to_string()));
                }
            }
            // `domain` and `search` override each other: the last one wins.
            "domain" | "search" => rc.search = words.map(str::to_string).collect(),
            "options" => rc.options.extend(words.map(str::to_string)),
            _ => {}
        }
    }
    rc
}

/// One address line of a hosts file.
#[derive(Clone, Debug, PartialEq)]
pub struct HostsLine {
    pub line: u64,
    pub address: String,
    pub names: Vec<String>,
}

pub fn parse_hosts(text: &str) -> Vec<HostsLine> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no_comment = line.split('#').next().unwrap_or("");
        let mut words = line_no_comment.split_whitespace();
        let Some(address) = words.next() else { continue };
        let names: Vec<String> = words.map(str::to_ascii_lowercase).collect();
        if !names.is_empty() {
            out.push(HostsLine { line: i as u64 + 1, address: address.to_string(), names });
        }
    }
    out
}

/// A next hop named by `relayhost`: `[name]:port` means "this host, no MX lookup";
/// `name` or `name:port` means "MX lookup first, then the name's own address".
#[derive(Clone, Debug, PartialEq)]
pub struct NextHop {
    pub name: String,
    pub mx: bool,
}

/// The next hops of a `relayhost` value (Postfix ≥ 3.5 accepts a list). Address literals
/// (`[192.0.2.1]`, `[ipv6:2001:db8::1]`) need no DNS and are left out.
pub fn relay_next_hops(relayhost: &str) -> Vec<NextHop> {
    let mut out = Vec::new();
    for item in relayhost.split([',', ' ', '\t']).filter(|s| !s.is_empty()) {
        let (name, mx) = match item.strip_prefix('[') {
            Some(rest) => (rest.split(']').next().unwrap_or(""), false),
            None => (item.split(':').next().unwrap_or(""), true),
        };
        let name = normalize(name);
        if name.is_empty() || name.starts_with("ipv6:") || name.parse::<IpAddr>().is_ok() {
            continue;
        }
        out.push(NextHop { name, mx });
    }
    out
}

/// Names compare case-insensitively and without the root dot.
pub fn normalize(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// A query the collector makes whatever the answers: its reason, type and name.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    pub purpose: &'static str,
    pub qtype: &'static str,
    pub name: String,
}

/// `myhostname` as Postfix computes it when main.cf does not set it: the host name.
pub fn myhostname(cfg: &Config, host: &str) -> String {
    cfg.value("myhostname").map(|v| normalize(&v)).filter(|v| !v.is_empty()).unwrap_or_else(|| normalize(host))
}

/// `mydomain` as Postfix computes it when unset: `myhostname` minus its first label,
/// or `localdomain` for an unqualified host name.
pub fn mydomain(cfg: &Config, host: &str) -> String {
    if let Some(d) = cfg.value("mydomain").map(|v| normalize(&v)).filter(|v| !v.is_empty()) {
        return d;
    }
    match myhostname(cfg, host).split_once('.') {
        Some((_, rest)) if !rest.is_empty() => rest.to_string(),
        _ => "localdomain".to_string(),
    }
}

/// The queries planned from the configuration alone. The relayhost's MX answer decides
/// what is asked next (see `observe::dns`), as it decides where Postfix connects.
pub fn planned_queries(cfg: &Config, host: &str) -> Vec<Planned> {
    let mut out = Vec::new();
    let mut add = |purpose, qtype, name: &str| {
        if !name.is_empty() && !out.iter().any(|p: &Planned| p.purpose == purpose && p.qtype == qtype && p.name == name) {
            out.push(Planned { purpose, qtype, name: name.to_string() });
        }
    };
    let me = myhostname(cfg, host);
    add("myhostname", "A", &me);
    add("myhostname", "AAAA", &me);
    add("mydomain", "MX", &mydomain(cfg, host));
    for hop in relay_next_hops(&cfg.value("relayhost").unwrap_or_default()) {
        if hop.mx {
            add("relayhost", "MX", &hop.name);
        } else {
            add("relayhost", "A", &hop.name);
            add("relayhost", "AAAA", &hop.name);
        }
    }
    out
}

/// One stored answer, read back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answer {
    /// ok, nxdomain, nodata, servfail, refused, error
    pub status: String,
    /// (record type, data), in answer order; CNAMEs included.
    pub records: Vec<(String, String)>,
    /// The `; via` line, without its prefix.
    pub via: String,
    /// The rcode line when it is not a known status (`RCODE FORMERR`).
    pub rcode: Option<String>,
}

impl Answer {
    /// Data of the records of type `qtype` (CNAMEs on the way left out), in a stable order
    /// (servers rotate answers): MX by preference, others as text.
    pub fn data_of(&self, qtype: &str) -> Vec<&str> {
        let mut data: Vec<&str> = self.records.iter().filter(|(t, _)| t == qtype).map(|(_, d)| d.as_str()).collect();
        if qtype == "MX" {
            data.sort_by_key(|d| d.split_once(' ').map(|(p, h)| (p.parse::<u32>().unwrap_or(u32::MAX), h.to_string())));
        } else {
            data.sort_unstable();
        }
        data
    }
    /// Where the answer points: MX exchanges (by preference), PTR names, or addresses.
    pub fn targets(&self, qtype: &str) -> Vec<String> {
        let data = self.data_of(qtype);
        match qtype {
            "MX" => data.iter().filter_map(|d| d.split_once(' ')).map(|(_, host)| host_target(host)).collect(),
            "PTR" | "CNAME" => data.iter().map(|d| host_target(d)).collect(),
            _ => data.iter().map(|d| d.to_string()).collect(),
        }
    }
}

/// A host name from an answer without its root dot; the null MX (RFC 7505) stays `.`.
fn host_target(name: &str) -> String {
    match name.trim() {
        "." => ".".to_string(),
        n => normalize(n),
    }
}

pub fn parse_answer(qtype: &str, text: &str) -> Answer {
    let mut a = Answer::default();
    let mut outcome = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(via) = line.strip_prefix(';') {
            if let Some(v) = via.trim().strip_prefix("via ") {
                a.via = v.trim().to_string();
            }
            continue;
        }
        match line {
            "NXDOMAIN" | "NODATA" | "SERVFAIL" | "REFUSED" => outcome = Some(line.to_ascii_lowercase()),
            _ if line.starts_with("RCODE ") => {
                a.rcode = Some(line["RCODE ".len()..].trim().to_string());
                outcome = Some("error".to_string());
            }
            _ => {
                if let Some((t, d)) = line.split_once(' ') {
                    a.records.push((t.to_ascii_uppercase(), d.trim().to_string()));
                }
            }
        }
    }
    a.status = match outcome {
        Some(o) => o,
        None if !a.data_of(qtype).is_empty() => "ok".to_string(),
        None => "nodata".to_string(),
    };
    a
}
