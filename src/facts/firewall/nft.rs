//! The `nft list ruleset` grammar: tables, chains, named sets and rules into the model.

use super::table::port_range;
use super::table::Chain;
use super::table::Ports;
use super::table::Rule;
use super::table::Table;
use super::table::Verdict;
use std::collections::HashMap;
use std::collections::HashSet;

/// Split an nft rule into tokens: braces and commas stand alone, quoted strings stay whole.
pub(super) fn nft_tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        if quoted {
            cur.push(c);
            if c == '"' {
                quoted = false;
            }
            continue;
        }
        match c {
            '"' => {
                cur.push(c);
                quoted = true;
            }
            '{' | '}' | ',' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Read one nft value at `t[i]`: a word, a comma list, or a `{ ... }` set. Returns the
/// elements and the index after the value.
pub(super) fn nft_value(t: &[String], mut i: usize) -> (Vec<String>, usize) {
    let mut vals = Vec::new();
    if t.get(i).map(String::as_str) == Some("{") {
        i += 1;
        while let Some(tok) = t.get(i) {
            i += 1;
            match tok.as_str() {
                "}" => break,
                "," => {}
                _ => vals.push(tok.clone()),
            }
        }
        return (vals, i);
    }
    if let Some(tok) = t.get(i) {
        vals.push(tok.clone());
        i += 1;
        // `established,related`: a list without spaces.
        while t.get(i).map(String::as_str) == Some(",") {
            if let Some(v) = t.get(i + 1) {
                vals.push(v.clone());
            }
            i += 2;
        }
    }
    (vals, i)
}

/// Parse one nft rule line. `sets` holds the table's named sets (`@mail_ports`).
pub(super) fn nft_rule(text: &str, sets: &HashMap<String, Vec<String>>) -> Rule {
    let t = nft_tokens(text);
    let mut r =
        Rule { text: text.to_string(), protos: None, dport: None, conditional: false, verdict: Verdict::Continue, map_targets: Vec::new() };
    let word = |i: usize| t.get(i).map(String::as_str).unwrap_or("");
    let mut i = 0;
    while i < t.len() {
        match (word(i), word(i + 1)) {
            ("tcp" | "udp" | "th" | "sctp" | "udplite", "dport") => {
                if word(i) == "tcp" || word(i) == "udp" {
                    r.protos = Some(vec![word(i).to_string()]);
                }
                let mut j = i + 2;
                let mut negated = false;
                match word(j) {
                    "!=" => {
                        negated = true;
                        j += 1;
                    }
                    "==" => j += 1,
                    _ => {}
                }
                let (vals, next) = nft_value(&t, j);
                i = next;
                if word(i) == "." {
                    // A concatenation (`tcp dport . ip saddr @x`): not modelled.
                    r.conditional = true;
                    continue;
                }
                let mut ranges = Vec::new();
                for v in &vals {
                    if let Some(name) = v.strip_prefix('@') {
                        for e in sets.get(name).map(Vec::as_slice).unwrap_or(&[]) {
                            match port_range(e) {
                                Some(rg) => ranges.push(rg),
                                None => r.conditional = true,
                            }
                        }
                    } else if let Some(rg) = port_range(v) {
                        ranges.push(rg);
                    } else {
                        r.conditional = true;
                    }
                }
                r.dport = Some(Ports { ranges, negated });
            }
            ("meta", "l4proto") | ("ip", "protocol") | ("ip6", "nexthdr") => {
                let (vals, next) = nft_value(&t, i + 2);
                r.protos = Some(vals);
                i = next;
            }
            ("ct", "state") => {
                let (vals, next) = nft_value(&t, i + 2);
                // Accepting NEW connections is what matters; a rule only for established,
                // related or invalid packets says nothing about a new mail connection.
                if !vals.iter().any(|v| v == "new") {
                    r.conditional = true;
                }
                i = next;
            }
            ("counter", _) => {
                i += 1;
                if word(i) == "packets" {
                    i += 4;
                }
            }
            ("log", _) => {
                i += 1;
                while matches!(word(i), "prefix" | "level" | "flags" | "group" | "snaplen" | "queue-threshold") {
                    i += 2;
                }
            }
            ("comment", _) => i += 2,
            ("accept", _) => {
                r.verdict = Verdict::Accept;
                break;
            }
            ("drop", _) => {
                r.verdict = Verdict::Drop;
                break;
            }
            // `reject with tcp reset`: the rest only says how.
            ("reject", _) => {
                r.verdict = Verdict::Reject;
                break;
            }
            ("jump", target) => {
                r.verdict = Verdict::Jump(target.to_string());
                break;
            }
            ("goto", target) => {
                r.verdict = Verdict::Goto(target.to_string());
                break;
            }
            ("return", _) => {
                r.verdict = Verdict::Return;
                break;
            }
            ("vmap", _) => {
                let (vals, next) = nft_value(&t, i + 1);
                for w in vals.windows(2) {
                    if w[0] == "goto" || w[0] == "jump" {
                        r.map_targets.push(w[1].clone());
                    }
                }
                r.conditional = true;
                i = next;
            }
            _ => {
                r.conditional = true;
                i += 1;
            }
        }
    }
    r
}

/// `type filter hook input priority filter; policy drop;`
pub(super) fn nft_chain_header(line: &str, c: &mut Chain) {
    let words: Vec<&str> = line.split(|ch: char| ch.is_whitespace() || ch == ';').filter(|w| !w.is_empty()).collect();
    for w in words.windows(2) {
        match w[0] {
            "type" => c.ctype = w[1].to_string(),
            "hook" => c.hook = Some(w[1].to_string()),
            "policy" => c.policy = Some(w[1].to_string()),
            _ => {}
        }
    }
    c.header = line.to_string();
}

pub(super) fn brace_balance(s: &str) -> i32 {
    let mut quoted = false;
    let mut n = 0;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            '{' if !quoted => n += 1,
            '}' if !quoted => n -= 1,
            _ => {}
        }
    }
    n
}

/// Parse `nft list ruleset`. Tables in `skip` ((family, name) managed by iptables-nft and
/// read from iptables-save instead) are left out so no rule is counted twice.
pub(super) fn parse_nft(text: &str, obs: u32, source: &str, skip: &HashSet<(String, String)>) -> Vec<Table> {
    #[derive(PartialEq)]
    enum Ctx {
        Top,
        Table,
        Chain,
        Set(String),
        Other,
    }
    let mut tables: Vec<Table> = Vec::new();
    let mut sets: HashMap<String, Vec<String>> = HashMap::new();
    let mut pending: Vec<(usize, String)> = Vec::new(); // (chain index, rule) resolved at table end
    let mut stack: Vec<Ctx> = vec![Ctx::Top];
    let mut acc: Option<String> = None; // a multi-line `elements = { ... }`
    let finish = |tables: &mut Vec<Table>, sets: &mut HashMap<String, Vec<String>>, pending: &mut Vec<(usize, String)>| {
        if let Some(t) = tables.last_mut() {
            for (ci, line) in pending.drain(..) {
                if let Some(c) = t.chains.get_mut(ci) {
                    c.rules.push(nft_rule(&line, sets));
                }
            }
        }
        sets.clear();
    };
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(a) = acc.as_mut() {
            a.push(' ');
            a.push_str(line);
            if brace_balance(a) <= 0 {
                if let (Some(Ctx::Set(name)), Some(a)) = (stack.last(), acc.take()) {
                    let (vals, _) = nft_value(&nft_tokens(&a), 0);
                    sets.entry(name.clone()).or_default().extend(vals);
                }
                acc = None;
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let ctx = stack.last().unwrap_or(&Ctx::Top);
        if line == "}" {
            if *ctx == Ctx::Table {
                finish(&mut tables, &mut sets, &mut pending);
            }
            if stack.len() > 1 {
                stack.pop();
            }
            continue;
        }
        let opens = line.ends_with('{') && brace_balance(line) > 0;
        match ctx {
            Ctx::Top if opens => {
                let w: Vec<&str> = line.split_whitespace().collect();
                if w.first() == Some(&"table") && w.len() >= 4 {
                    let (family, name) = (w[1].to_string(), w[2].to_string());
                    if skip.contains(&(family.clone(), name.clone())) {
                        stack.push(Ctx::Other);
                    } else {
                        tables.push(Table { tool: "nft", family, name, chains: Vec::new(), obs, source: source.to_string() });
                        stack.push(Ctx::Table);
                    }
                } else {
                    stack.push(Ctx::Other);
                }
            }
            Ctx::Table if opens => {
                let w: Vec<&str> = line.split_whitespace().collect();
                match (w.first().copied(), w.get(1)) {
                    (Some("chain"), Some(name)) => {
                        if let Some(t) = tables.last_mut() {
                            t.chains.push(Chain { name: name.to_string(), ctype: "filter".into(), ..Chain::default() });
                        }
                        stack.push(Ctx::Chain);
                    }
                    (Some("set"), Some(name)) => stack.push(Ctx::Set(name.to_string())),
                    _ => stack.push(Ctx::Other),
                }
            }
            Ctx::Chain => {
                let Some(t) = tables.last_mut() else { continue };
                let ci = t.chains.len().saturating_sub(1);
                if line.starts_with("type ") || line.starts_with("policy ") {
                    if let Some(c) = t.chains.get_mut(ci) {
                        nft_chain_header(line, c);
                    }
                } else if line.starts_with("comment ") {
                } else {
                    // Rules may use sets declared later in the table: parse at table end.
                    pending.push((ci, line.to_string()));
                }
            }
            Ctx::Set(name) => {
                if let Some(rest) = line.strip_prefix("elements = ") {
                    if brace_balance(rest) > 0 {
                        acc = Some(rest.to_string());
                    } else {
                        let (vals, _) = nft_value(&nft_tokens(rest), 0);
                        sets.entry(name.clone()).or_default().extend(vals);
                    }
                }
            }
            _ if opens => stack.push(Ctx::Other),
            _ => {}
        }
    }
    finish(&mut tables, &mut sets, &mut pending);
    tables
}
