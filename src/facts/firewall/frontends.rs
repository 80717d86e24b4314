//! The front-ends' own view, read only when no kernel listing could be: `ufw status
//! verbose` and `firewall-cmd --list-all` into the model.

use super::iptables::ipt_ports;
use super::table::Chain;
use super::table::Ports;
use super::table::Rule;
use super::table::Table;
use super::table::Verdict;

/// firewalld service names → (port, proto).
pub(super) const FIREWALLD_SERVICES: &[(&str, u16, &str)] = &[
    ("smtp", 25, "tcp"),
    ("smtps", 465, "tcp"),
    ("smtp-submission", 587, "tcp"),
    ("imap", 143, "tcp"),
    ("imaps", 993, "tcp"),
    ("pop3", 110, "tcp"),
    ("pop3s", 995, "tcp"),
    ("dns", 53, "tcp"),
    ("dns", 53, "udp"),
];

pub(super) fn frontend_policy(word: &str) -> Option<String> {
    match word {
        "deny" | "drop" | "DROP" => Some("drop".into()),
        "reject" | "REJECT" | "%%REJECT%%" | "default" => Some("reject".into()),
        "allow" | "accept" | "ACCEPT" => Some("accept".into()),
        _ => None,
    }
}

pub(super) fn simple_rule(text: &str, proto: Option<&str>, ports: Option<Ports>, conditional: bool, verdict: Verdict) -> Rule {
    Rule { text: text.to_string(), protos: proto.map(|p| vec![p.to_string()]), dport: ports, conditional, verdict, map_targets: Vec::new() }
}

/// `ufw status verbose`: `Default: deny (incoming), allow (outgoing), ...` and the rule
/// table (`25/tcp  DENY IN  Anywhere`). ufw lists rules in the order it applies them.
pub(super) fn parse_ufw(text: &str, obs: u32, source: &str) -> Vec<Table> {
    if !text.lines().any(|l| l.trim() == "Status: active") {
        return Vec::new();
    }
    let mut tables = Vec::new();
    for family in ["ip", "ip6"] {
        let mut input = Chain { name: "incoming".into(), hook: Some("input".into()), ctype: "filter".into(), ..Chain::default() };
        let mut output = Chain { name: "outgoing".into(), hook: Some("output".into()), ctype: "filter".into(), ..Chain::default() };
        for line in text.lines() {
            if let Some(d) = line.strip_prefix("Default:") {
                for part in d.split(',') {
                    let mut w = part.split_whitespace();
                    let (Some(pol), Some(dir)) = (w.next(), w.next()) else { continue };
                    let chain = match dir {
                        "(incoming)" => &mut input,
                        "(outgoing)" => &mut output,
                        _ => continue,
                    };
                    chain.policy = frontend_policy(pol);
                    chain.header = line.trim().to_string();
                }
                continue;
            }
            // Columns are separated by two or more spaces.
            let cols: Vec<&str> = line.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
            let [to, action, from] = cols[..] else { continue };
            let v6 = to.contains("(v6)") || from.contains("(v6)");
            if v6 != (family == "ip6") {
                continue;
            }
            let mut aw = action.split_whitespace();
            let verdict = match aw.next() {
                Some("ALLOW") | Some("LIMIT") => Verdict::Accept,
                Some("DENY") => Verdict::Drop,
                Some("REJECT") => Verdict::Reject,
                _ => continue,
            };
            let chain = match aw.next() {
                Some("OUT") => &mut output,
                Some("IN") | None => &mut input,
                _ => continue,
            };
            // `25/tcp`, `587`, `22,25/tcp`, `1000:2000/tcp`, `192.0.2.5 25/tcp`, `143/tcp (Dovecot IMAP)`.
            let to_words: Vec<&str> = to.split(" (").next().unwrap_or("").split_whitespace().collect();
            let Some(spec) = to_words.last() else { continue };
            let (ports, proto) = match spec.split_once('/') {
                Some((p, proto)) => (p, Some(proto)),
                None => (*spec, None),
            };
            if ports == "Anywhere" || !ports.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                continue;
            }
            let conditional = to_words.len() > 1 || !from.starts_with("Anywhere");
            chain.rules.push(simple_rule(line.trim(), proto, Some(ipt_ports(ports, false)), conditional, verdict));
        }
        tables.push(Table {
            tool: "ufw",
            family: family.into(),
            name: "ufw".into(),
            chains: vec![input, output],
            obs,
            source: source.to_string(),
        });
    }
    tables
}

/// `firewall-cmd --list-all`: the default zone's target, services, ports and rich rules.
/// firewalld applies a zone's deny rich rules before its allowed services and ports.
pub(super) fn parse_firewalld(text: &str, obs: u32, source: &str) -> Vec<Table> {
    let mut zone = Chain { hook: Some("input".into()), ctype: "filter".into(), ..Chain::default() };
    let mut deny = Vec::new();
    let mut allow = Vec::new();
    let mut in_rich = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.starts_with('\t') && !line.trim().is_empty() {
            zone.name = line.split_whitespace().next().unwrap_or("zone").to_string();
            continue;
        }
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("target:") {
            zone.policy = frontend_policy(rest.trim());
            zone.header = l.to_string();
        } else if let Some(rest) = l.strip_prefix("services:") {
            for s in rest.split_whitespace() {
                for (_, port, proto) in FIREWALLD_SERVICES.iter().filter(|(n, _, _)| *n == s) {
                    let p = Ports { ranges: vec![(*port, *port)], negated: false };
                    allow.push(simple_rule(&format!("service {s}"), Some(proto), Some(p), false, Verdict::Accept));
                }
            }
        } else if let Some(rest) = l.strip_prefix("ports:") {
            for spec in rest.split_whitespace() {
                let Some((ports, proto)) = spec.split_once('/') else { continue };
                allow.push(simple_rule(&format!("port {spec}"), Some(proto), Some(ipt_ports(ports, false)), false, Verdict::Accept));
            }
        } else if l.starts_with("rich rules:") {
            in_rich = true;
        } else if in_rich && l.starts_with("rule ") {
            let attr = |key: &str| {
                let k = format!("{key}=\"");
                l.find(&k).and_then(|at| l[at + k.len()..].split('"').next()).map(str::to_string)
            };
            // The action is the rule's last word (`... protocol="tcp" reject`).
            let verdict = l
                .split_whitespace()
                .rev()
                .find_map(|w| match w {
                    "accept" => Some(Verdict::Accept),
                    "drop" => Some(Verdict::Drop),
                    "reject" => Some(Verdict::Reject),
                    _ => None,
                })
                .unwrap_or(Verdict::Continue);
            let Some(port) = attr("port") else { continue };
            let proto = attr("protocol");
            let conditional = l.contains(" source ") || l.contains(" destination ");
            let rule = simple_rule(l, proto.as_deref(), Some(ipt_ports(&port.replace('-', ":"), false)), conditional, verdict.clone());
            if verdict == Verdict::Accept {
                allow.push(rule);
            } else {
                deny.push(rule);
            }
        }
    }
    if zone.name.is_empty() {
        return Vec::new();
    }
    zone.rules = deny.into_iter().chain(allow).collect();
    vec![Table { tool: "firewalld", family: "inet".into(), name: "firewalld".into(), chains: vec![zone], obs, source: source.to_string() }]
}
