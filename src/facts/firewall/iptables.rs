//! The `iptables-save` / `ip6tables-save` grammar into the model; which tables are
//! iptables-nft's own in an nft listing.

use super::table::port_range;
use super::table::Chain;
use super::table::Ports;
use super::table::Rule;
use super::table::Table;
use super::table::Verdict;
use std::collections::HashSet;

/// Shell-like split as iptables-save quotes: `--comment "no direct mail"`.
pub(super) fn ipt_tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

pub(super) fn ipt_ports(list: &str, negated: bool) -> Ports {
    Ports { ranges: list.split(',').filter_map(port_range).collect(), negated }
}

/// Parse one `-A CHAIN ...` line (without the `-A CHAIN`).
pub(super) fn ipt_rule(text: &str, args: &[String], chains: &HashSet<String>) -> Rule {
    let mut r =
        Rule { text: text.to_string(), protos: None, dport: None, conditional: false, verdict: Verdict::Continue, map_targets: Vec::new() };
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let mut i = 0;
    let mut neg = false;
    while i < args.len() {
        let opt = arg(i);
        if opt == "!" {
            neg = true;
            i += 1;
            continue;
        }
        let val = arg(i + 1);
        let mut step = 2;
        match opt {
            "-p" | "--protocol" => {
                if neg {
                    r.conditional = true;
                } else if val != "all" {
                    r.protos = Some(vec![val.to_string()]);
                }
            }
            "-m" | "--match" => {}
            "--dport" | "--destination-port" | "--dports" | "--destination-ports" | "--ports" => r.dport = Some(ipt_ports(val, neg)),
            "--state" | "--ctstate" => {
                if neg || !val.split(',').any(|s| s.eq_ignore_ascii_case("new")) {
                    r.conditional = true;
                }
            }
            "--comment" => {}
            "-c" | "--set-counters" => step = 3,
            "-j" | "--jump" | "-g" | "--goto" => {
                let goto = opt == "-g" || opt == "--goto";
                r.verdict = match val {
                    "ACCEPT" => Verdict::Accept,
                    "DROP" => Verdict::Drop,
                    "REJECT" => Verdict::Reject,
                    "RETURN" => Verdict::Return,
                    c if chains.contains(c) && goto => Verdict::Goto(c.to_string()),
                    c if chains.contains(c) => Verdict::Jump(c.to_string()),
                    // LOG, MARK, CT, DNAT...: no verdict on the packet's fate here.
                    _ => Verdict::Continue,
                };
                // What follows are the target's own options (`--reject-with ...`).
                break;
            }
            _ => {
                r.conditional = true;
                // Skip the option's values, whatever their number.
                step = 1;
                while args.get(i + step).is_some_and(|a| !a.starts_with('-') && a != "!") {
                    step += 1;
                }
            }
        }
        neg = false;
        i += step;
    }
    r
}

/// The kernel hook of an iptables built-in chain.
pub(super) fn ipt_hook(chain: &str) -> Option<&'static str> {
    match chain {
        "INPUT" => Some("input"),
        "OUTPUT" => Some("output"),
        "FORWARD" => Some("forward"),
        "PREROUTING" => Some("prerouting"),
        "POSTROUTING" => Some("postrouting"),
        _ => None,
    }
}

pub(super) fn parse_iptables(text: &str, tool: &'static str, obs: u32, source: &str) -> Vec<Table> {
    let family = if tool == "ip6tables" { "ip6" } else { "ip" };
    let mut tables: Vec<Table> = Vec::new();
    let mut names: HashSet<String> = HashSet::new();
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(name) = line.strip_prefix('*') {
            names.clear();
            tables.push(Table {
                tool,
                family: family.into(),
                name: name.trim().to_string(),
                chains: Vec::new(),
                obs,
                source: source.to_string(),
            });
            continue;
        }
        let Some(t) = tables.last_mut() else { continue };
        if let Some(decl) = line.strip_prefix(':') {
            let mut w = decl.split_whitespace();
            let (Some(name), Some(policy)) = (w.next(), w.next()) else { continue };
            let hook = ipt_hook(name).map(str::to_string);
            let ctype = if t.name == "nat" { "nat" } else { "filter" };
            let policy = (policy != "-").then(|| policy.to_ascii_lowercase());
            names.insert(name.to_string());
            t.chains.push(Chain { name: name.to_string(), hook, ctype: ctype.into(), policy, header: line.to_string(), rules: Vec::new() });
        } else if line.starts_with("-A ") {
            let tokens = ipt_tokens(line);
            let Some(chain) = tokens.get(1) else { continue };
            let rule = ipt_rule(line, tokens.get(2..).unwrap_or(&[]), &names);
            if let Some(c) = t.chains.iter_mut().find(|c| &c.name == chain) {
                c.rules.push(rule);
            }
        }
    }
    tables
}

/// `(family, table)` pairs an iptables-save listing with the nf_tables backend covers.
pub(super) fn iptables_nft_tables(text: &str, family: &str) -> Vec<(String, String)> {
    if !text.lines().any(|l| l.starts_with("# Generated by") && l.contains("(nf_tables)")) {
        return Vec::new();
    }
    text.lines().filter_map(|l| l.trim().strip_prefix('*')).map(|n| (family.to_string(), n.trim().to_string())).collect()
}
