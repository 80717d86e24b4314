//! Firewall rules that decide whether mail can get in or out: nftables (`nft list ruleset`),
//! iptables (`iptables-save`, `ip6tables-save`, `iptables-legacy-save`) and, only when no
//! kernel listing could be read, the front-ends' own view (`ufw status verbose`,
//! `firewall-cmd --list-all`) — the kernel's rules are the truth, a front-end's summary the
//! fallback.
//!
//! Only what matters to mail is kept: rules that accept, drop or reject a mail port
//! ([`MAIL_PORTS`]), default policies and catch-all drop/reject rules, and for each mail
//! port the verdict a *new connection from an ordinary remote address* meets
//! (`firewall_verdict`). Matches mailsleuth does not model (addresses, interfaces, marks,
//! rate limits, connection states other than NEW) make a rule `conditional`: it is
//! reported, but the verdict walks past it. This is a reading aid for a mail admin, not a
//! packet-filter simulator: no NAT, no priorities between tables beyond "a drop anywhere
//! wins", and sets of addresses are never expanded.
//!
//! Pure: parses the listings in the bundle; never runs a command. Garbage lines are
//! skipped.

use crate::bundle::{Bundle, Observation, Payload, Source};
use crate::model::{Fact, FactSet};
use crate::model::{FieldType, KindSpec};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The ports whose filtering can defer, bounce or lock out mail, with their transport and
/// service name. DNS is here because an output rule dropping port 53 defers every message
/// ("Host or domain name not found. Name service error").
pub const MAIL_PORTS: &[(u16, &str, &str)] = &[
    (24, "tcp", "lmtp"),
    (25, "tcp", "smtp"),
    (53, "udp", "domain"),
    (53, "tcp", "domain"),
    (110, "tcp", "pop3"),
    (143, "tcp", "imap"),
    (465, "tcp", "submissions"),
    (587, "tcp", "submission"),
    (993, "tcp", "imaps"),
    (995, "tcp", "pop3s"),
];

/// Service names nft and /etc/services use for those ports (nft prints names with `-S`
/// and in older versions by default).
const SERVICE_NAMES: &[(&str, u16)] = &[
    ("lmtp", 24),
    ("smtp", 25),
    ("domain", 53),
    ("pop3", 110),
    ("imap", 143),
    ("imap2", 143),
    ("submissions", 465),
    ("smtps", 465),
    ("urd", 465),
    ("ssmtp", 465),
    ("submission", 587),
    ("imaps", 993),
    ("pop3s", 995),
    ("ssh", 22),
];

/// firewalld service names → (port, proto).
const FIREWALLD_SERVICES: &[(&str, u16, &str)] = &[
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

/// Fact kinds this parser produces.
pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "firewall_block",
        producer: "parser: nft list ruleset / iptables-save / ip6tables-save (ufw, firewall-cmd as fallback)",
        doc: "a firewall rule that drops or rejects a mail port (one fact per port the rule covers)",
        fields: &[
            ("port", FieldType::Integer, "the mail port: 24, 25, 53, 110, 143, 465, 587, 993, 995"),
            ("proto", FieldType::String, "tcp or udp"),
            ("service", FieldType::String, "smtp, submission, submissions, imap, imaps, pop3, pop3s, lmtp, domain"),
            ("hook", FieldType::String, "where the chain is hooked: input, output, forward, prerouting, postrouting"),
            ("action", FieldType::String, "drop or reject"),
            ("conditional", FieldType::Bool, "the rule also tests addresses, interfaces, marks, rates...: it blocks only some connections"),
            ("rule", FieldType::String, "the rule as the tool printed it"),
            ("family", FieldType::String, "ip (IPv4), ip6 or inet (both)"),
            ("tool", FieldType::String, "nft, iptables, ip6tables, ufw, firewalld"),
            ("table", FieldType::String, "table name (filter, firewalld, ...)"),
            ("chain", FieldType::String, "chain holding the rule"),
        ],
    },
    KindSpec {
        name: "firewall_accept",
        producer: "parser: nft list ruleset / iptables-save / ip6tables-save (ufw, firewall-cmd as fallback)",
        doc: "a firewall rule that explicitly accepts a mail port (a port-less rule counts when it accepts everything unconditionally)",
        fields: &[
            ("port", FieldType::Integer, "the mail port"),
            ("proto", FieldType::String, "tcp or udp"),
            ("service", FieldType::String, "smtp, submission, ..."),
            ("hook", FieldType::String, "input, output, forward, ..."),
            ("action", FieldType::String, "accept"),
            ("conditional", FieldType::Bool, "accepted only from some addresses, interfaces, ..."),
            ("rule", FieldType::String, "the rule as the tool printed it"),
            ("family", FieldType::String, "ip, ip6 or inet"),
            ("tool", FieldType::String, "nft, iptables, ip6tables, ufw, firewalld"),
            ("table", FieldType::String, "table name"),
            ("chain", FieldType::String, "chain holding the rule"),
        ],
    },
    KindSpec {
        name: "firewall_policy",
        producer: "parser: nft list ruleset / iptables-save / ip6tables-save (ufw, firewall-cmd as fallback)",
        doc: "what a hooked chain does with traffic no rule decided: its policy, or a catch-all drop/reject rule",
        fields: &[
            ("hook", FieldType::String, "input, output, forward, ..."),
            ("policy", FieldType::String, "accept, drop or reject"),
            ("via", FieldType::String, "policy (the chain's default) or rule (an unconditional drop/reject rule without ports)"),
            ("proto", FieldType::String, "only for a catch-all rule limited to one protocol: tcp or udp"),
            ("rule", FieldType::String, "the policy line or the catch-all rule"),
            ("family", FieldType::String, "ip, ip6 or inet"),
            ("tool", FieldType::String, "nft, iptables, ip6tables, ufw, firewalld"),
            ("table", FieldType::String, "table name"),
            ("chain", FieldType::String, "chain name"),
        ],
    },
    KindSpec {
        name: "firewall_verdict",
        producer: "parser: nft list ruleset / iptables-save / ip6tables-save (ufw, firewall-cmd as fallback)",
        doc: "per mail port, what a new connection from an ordinary remote address meets: conditional rules are walked past, jumps followed, a drop in any hooked chain wins",
        fields: &[
            ("family", FieldType::String, "ip (IPv4) or ip6"),
            ("hook", FieldType::String, "input (mail coming in) or output (mail going out)"),
            ("port", FieldType::Integer, "the mail port"),
            ("proto", FieldType::String, "tcp or udp"),
            ("service", FieldType::String, "smtp, submission, ..."),
            ("verdict", FieldType::String, "accept, drop or reject"),
            ("by", FieldType::String, "rule or policy"),
            ("rule", FieldType::String, "the deciding rule, or the policy line"),
            ("tool", FieldType::String, "nft, iptables, ip6tables, ufw, firewalld"),
            ("table", FieldType::String, "table of the deciding chain"),
            ("chain", FieldType::String, "the deciding chain"),
        ],
    },
];

const FIREWALL_KINDS: &[&str] = &["firewall_block", "firewall_accept", "firewall_policy", "firewall_verdict"];

// ---------------------------------------------------------------------------------------
// The model shared by every tool: tables of chains of rules.

#[derive(Clone, Debug, PartialEq)]
enum Verdict {
    Accept,
    Drop,
    Reject,
    Jump(String),
    Goto(String),
    Return,
    /// No verdict (a counter, a log, a mark) or one mailsleuth does not model (queue).
    Continue,
}

/// Destination ports matched: ranges, possibly negated (`tcp dport != 22`, `! --dport 22`).
#[derive(Clone, Debug, Default, PartialEq)]
struct Ports {
    ranges: Vec<(u16, u16)>,
    negated: bool,
}

impl Ports {
    fn contains(&self, p: u16) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= p && p <= b) != self.negated
    }
}

#[derive(Clone, Debug)]
struct Rule {
    text: String,
    /// `None`: any protocol.
    protos: Option<Vec<String>>,
    dport: Option<Ports>,
    conditional: bool,
    verdict: Verdict,
    /// Chains reached from a verdict map (`vmap { "eth0" : goto zone }`): always conditional.
    map_targets: Vec<String>,
}

#[derive(Clone, Debug, Default)]
struct Chain {
    name: String,
    hook: Option<String>,
    /// `filter`, `nat`, `route`.
    ctype: String,
    policy: Option<String>,
    /// The line that declared the policy (evidence).
    header: String,
    rules: Vec<Rule>,
}

#[derive(Clone, Debug)]
struct Table {
    tool: &'static str,
    family: String,
    name: String,
    chains: Vec<Chain>,
    /// Observation id and its label, for evidence.
    obs: u32,
    source: String,
}

impl Table {
    fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name == name)
    }
    fn location(&self, chain: &str) -> String {
        match self.tool {
            "nft" => format!("table {} {}, chain {chain}", self.family, self.name),
            "iptables" | "ip6tables" => format!("*{}", self.name),
            _ => String::new(),
        }
    }
}

fn port_number(s: &str) -> Option<u16> {
    s.parse::<u16>().ok().or_else(|| SERVICE_NAMES.iter().find(|(n, _)| *n == s).map(|(_, p)| *p))
}

/// `25`, `smtp`, `100-120` (nft) or `100:200` (iptables, ufw).
fn port_range(s: &str) -> Option<(u16, u16)> {
    if let Some((a, b)) = s.split_once(['-', ':']) {
        let (a, b) = (port_number(a.trim())?, port_number(b.trim())?);
        return (a <= b).then_some((a, b));
    }
    port_number(s.trim()).map(|p| (p, p))
}

fn protos_compatible(rule: &Option<Vec<String>>, proto: &str) -> bool {
    rule.as_ref().is_none_or(|v| v.iter().any(|p| p == proto))
}

fn action_name(v: &Verdict) -> Option<&'static str> {
    match v {
        Verdict::Accept => Some("accept"),
        Verdict::Drop => Some("drop"),
        Verdict::Reject => Some("reject"),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// nft list ruleset

/// Split an nft rule into tokens: braces and commas stand alone, quoted strings stay whole.
fn nft_tokens(s: &str) -> Vec<String> {
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
fn nft_value(t: &[String], mut i: usize) -> (Vec<String>, usize) {
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
fn nft_rule(text: &str, sets: &HashMap<String, Vec<String>>) -> Rule {
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
fn nft_chain_header(line: &str, c: &mut Chain) {
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

fn brace_balance(s: &str) -> i32 {
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
fn parse_nft(text: &str, obs: u32, source: &str, skip: &HashSet<(String, String)>) -> Vec<Table> {
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

// ---------------------------------------------------------------------------------------
// iptables-save / ip6tables-save

/// Shell-like split as iptables-save quotes: `--comment "no direct mail"`.
fn ipt_tokens(s: &str) -> Vec<String> {
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

fn ipt_ports(list: &str, negated: bool) -> Ports {
    Ports { ranges: list.split(',').filter_map(port_range).collect(), negated }
}

/// Parse one `-A CHAIN ...` line (without the `-A CHAIN`).
fn ipt_rule(text: &str, args: &[String], chains: &HashSet<String>) -> Rule {
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
fn ipt_hook(chain: &str) -> Option<&'static str> {
    match chain {
        "INPUT" => Some("input"),
        "OUTPUT" => Some("output"),
        "FORWARD" => Some("forward"),
        "PREROUTING" => Some("prerouting"),
        "POSTROUTING" => Some("postrouting"),
        _ => None,
    }
}

fn parse_iptables(text: &str, tool: &'static str, obs: u32, source: &str) -> Vec<Table> {
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
fn iptables_nft_tables(text: &str, family: &str) -> Vec<(String, String)> {
    if !text.lines().any(|l| l.starts_with("# Generated by") && l.contains("(nf_tables)")) {
        return Vec::new();
    }
    text.lines().filter_map(|l| l.trim().strip_prefix('*')).map(|n| (family.to_string(), n.trim().to_string())).collect()
}

// ---------------------------------------------------------------------------------------
// Front-ends: ufw status verbose, firewall-cmd --list-all (fallback only)

fn frontend_policy(word: &str) -> Option<String> {
    match word {
        "deny" | "drop" | "DROP" => Some("drop".into()),
        "reject" | "REJECT" | "%%REJECT%%" | "default" => Some("reject".into()),
        "allow" | "accept" | "ACCEPT" => Some("accept".into()),
        _ => None,
    }
}

fn simple_rule(text: &str, proto: Option<&str>, ports: Option<Ports>, conditional: bool, verdict: Verdict) -> Rule {
    Rule { text: text.to_string(), protos: proto.map(|p| vec![p.to_string()]), dport: ports, conditional, verdict, map_targets: Vec::new() }
}

/// `ufw status verbose`: `Default: deny (incoming), allow (outgoing), ...` and the rule
/// table (`25/tcp  DENY IN  Anywhere`). ufw lists rules in the order it applies them.
fn parse_ufw(text: &str, obs: u32, source: &str) -> Vec<Table> {
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
fn parse_firewalld(text: &str, obs: u32, source: &str) -> Vec<Table> {
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

// ---------------------------------------------------------------------------------------
// From tables to facts

/// How a chain is reached: from which hook, under which inherited port and protocol
/// matches, and whether some rule on the way had conditions.
#[derive(Clone, Debug)]
struct Reach {
    hook: String,
    ports: Vec<Ports>,
    protos: Option<Vec<String>>,
    conditional: bool,
    /// The jump rules that led here (evidence).
    path: Vec<String>,
}

const MAX_DEPTH: usize = 16;

fn intersect_protos(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> Option<Vec<String>> {
    match (a, b) {
        (None, x) | (x, None) => x.clone(),
        (Some(a), Some(b)) => Some(a.iter().filter(|p| b.contains(p)).cloned().collect()),
    }
}

/// Collects facts without duplicates (a chain reached twice says the same thing twice).
/// Conditional rules of one chain for one port are folded into one fact: a fail2ban chain
/// with thousands of banned addresses is one `conditional` block with many pieces of
/// evidence, not thousands of facts.
struct Emitter {
    facts: Vec<Fact>,
    index: HashMap<String, usize>,
    /// Rules left to visit: chains reached along many paths must not blow up the walk.
    budget: usize,
}

/// Rule visits allowed per listing walk and per verdict search.
const VISIT_BUDGET: usize = 200_000;

impl Default for Emitter {
    fn default() -> Self {
        Emitter { facts: Vec::new(), index: HashMap::new(), budget: VISIT_BUDGET }
    }
}

/// Evidence kept per folded fact; the rest is counted in `more_evidence`.
const FOLDED_EVIDENCE: usize = 3;

impl Emitter {
    fn push(&mut self, f: Fact) {
        let conditional = f.get("conditional") == Some(&true.into());
        let key = if conditional {
            let mut k = f.clone();
            k.fields.remove("rule");
            k.summary()
        } else {
            f.summary()
        };
        match self.index.get(&key) {
            None => {
                self.index.insert(key, self.facts.len());
                self.facts.push(f);
            }
            Some(&i) if conditional => {
                if let Some(prev) = self.facts.get_mut(i) {
                    let new = f.evidence.into_iter().next();
                    match new {
                        Some(e) if prev.evidence.contains(&e) => {}
                        Some(e) if prev.evidence.len() < FOLDED_EVIDENCE => prev.evidence.push(e),
                        Some(_) => prev.more_evidence += 1,
                        None => {}
                    }
                }
            }
            Some(_) => {}
        }
    }
}

fn base_fact(kind: &str, t: &Table, chain: &str, hook: &str) -> Fact {
    Fact::new(kind)
        .with("family", t.family.as_str())
        .with("tool", t.tool)
        .with("table", t.name.as_str())
        .with("chain", chain)
        .with("hook", hook)
        .from_observation(t.obs)
}

fn rule_evidence(f: Fact, t: &Table, chain: &str, rule: &str, path: &[String]) -> Fact {
    let at = t.location(chain);
    let text = if at.is_empty() { rule.to_string() } else { format!("{at}: {rule}") };
    let mut f = f.evidence(t.source.clone(), text);
    for p in path {
        f = f.evidence(t.source.clone(), format!("reached by: {p}"));
    }
    f
}

/// Walk one chain under `reach`, emitting block/accept/catch-all facts, and follow jumps.
/// Whether port matches `ports` (all of them) let some mail port through.
fn covers_mail_port(ports: &[Ports], protos: &Option<Vec<String>>) -> bool {
    MAIL_PORTS.iter().any(|&(port, proto, _)| protos_compatible(protos, proto) && ports.iter().all(|p| p.contains(port)))
}

fn protos_of(rule: &Rule, reach: &Reach) -> Option<Vec<String>> {
    intersect_protos(&reach.protos, &rule.protos)
}

fn walk(t: &Table, chain: &Chain, reach: &Reach, depth: usize, em: &mut Emitter) {
    if depth > MAX_DEPTH {
        return;
    }
    // Once some packets may have left the chain (a conditional return or goto), what
    // follows applies only to the others.
    let mut after_conditional_return = false;
    for rule in &chain.rules {
        if em.budget == 0 {
            return;
        }
        em.budget -= 1;
        let cond = rule.conditional || reach.conditional || after_conditional_return;
        let protos = intersect_protos(&reach.protos, &rule.protos);
        let mut ports = reach.ports.clone();
        if let Some(p) = &rule.dport {
            ports.push(p.clone());
        }
        match &rule.verdict {
            v @ (Verdict::Accept | Verdict::Drop | Verdict::Reject) => {
                let action = action_name(v).unwrap_or("accept");
                let kind = if action == "accept" { "firewall_accept" } else { "firewall_block" };
                if ports.is_empty() && !cond && action != "accept" {
                    let mut f = base_fact("firewall_policy", t, &chain.name, &reach.hook)
                        .with("policy", action)
                        .with("via", "rule")
                        .with("rule", rule.text.as_str());
                    if let Some(p) = protos.as_ref().and_then(|v| (v.len() == 1).then(|| v[0].clone())) {
                        f.set("proto", p);
                    }
                    em.push(rule_evidence(f, t, &chain.name, &rule.text, &reach.path));
                    // Nothing after a catch-all is reached.
                    break;
                }
                if ports.is_empty() && cond {
                    continue;
                }
                for &(port, proto, service) in MAIL_PORTS {
                    if !protos_compatible(&protos, proto) || !ports.iter().all(|p| p.contains(port)) {
                        continue;
                    }
                    let f = base_fact(kind, t, &chain.name, &reach.hook)
                        .with("port", u32::from(port))
                        .with("proto", proto)
                        .with("service", service)
                        .with("action", action)
                        .with("conditional", cond)
                        .with("rule", rule.text.as_str());
                    em.push(rule_evidence(f, t, &chain.name, &rule.text, &reach.path));
                }
            }
            Verdict::Jump(target) | Verdict::Goto(target) => {
                if let Some(next) = t.chain(target) {
                    let mut path = reach.path.clone();
                    path.push(rule.text.clone());
                    let r = Reach { hook: reach.hook.clone(), ports: ports.clone(), protos, conditional: cond, path };
                    walk(t, next, &r, depth + 1, em);
                }
                if matches!(rule.verdict, Verdict::Goto(_)) {
                    // A goto does not come back: for the packets it takes, this chain is over.
                    if cond || !ports.is_empty() && covers_mail_port(&ports, &protos_of(rule, reach)) {
                        after_conditional_return = true;
                    } else {
                        break;
                    }
                }
            }
            Verdict::Return if cond || !ports.is_empty() && covers_mail_port(&ports, &protos_of(rule, reach)) => {
                after_conditional_return = true
            }
            Verdict::Return if !ports.is_empty() => {}
            Verdict::Return => break,
            Verdict::Continue => {}
        }
        for target in &rule.map_targets {
            if let Some(next) = t.chain(target) {
                let mut path = reach.path.clone();
                path.push(rule.text.clone());
                let r =
                    Reach { hook: reach.hook.clone(), ports: reach.ports.clone(), protos: reach.protos.clone(), conditional: true, path };
                walk(t, next, &r, depth + 1, em);
            }
        }
    }
}

/// What a chain does with a new connection to `port/proto` from an ordinary address.
enum Outcome<'a> {
    Decided(&'static str, &'a Rule, &'a str),
    /// Fell off the end or returned: the caller goes on.
    Continue,
    /// A `goto`'d chain ended: the caller's chain ends too.
    Ends,
}

fn decide<'a>(t: &'a Table, chain: &'a Chain, port: u16, proto: &str, depth: usize, budget: &mut usize) -> Outcome<'a> {
    if depth > MAX_DEPTH {
        return Outcome::Continue;
    }
    for rule in &chain.rules {
        if *budget == 0 {
            return Outcome::Continue;
        }
        *budget -= 1;
        if rule.conditional {
            if rule.verdict == Verdict::Return {
                // Some packets return here; assume ours does rather than guess it is dropped.
                return Outcome::Continue;
            }
            continue;
        }
        if !protos_compatible(&rule.protos, proto) || rule.dport.as_ref().is_some_and(|p| !p.contains(port)) {
            continue;
        }
        match &rule.verdict {
            v @ (Verdict::Accept | Verdict::Drop | Verdict::Reject) => {
                return Outcome::Decided(action_name(v).unwrap_or("accept"), rule, &chain.name);
            }
            Verdict::Jump(target) => {
                if let Some(next) = t.chain(target) {
                    match decide(t, next, port, proto, depth + 1, budget) {
                        d @ Outcome::Decided(..) => return d,
                        // The jumped-to chain is done (itself or through a goto): go on here.
                        Outcome::Ends | Outcome::Continue => {}
                    }
                }
            }
            Verdict::Goto(target) => {
                if let Some(next) = t.chain(target) {
                    return match decide(t, next, port, proto, depth + 1, budget) {
                        d @ Outcome::Decided(..) => d,
                        _ => Outcome::Ends,
                    };
                }
            }
            Verdict::Return => return Outcome::Continue,
            Verdict::Continue => {}
        }
    }
    Outcome::Continue
}

fn verdict_facts(tables: &[Table], em: &mut Emitter) {
    for family in ["ip", "ip6"] {
        for hook in ["input", "output"] {
            let bases: Vec<(&Table, &Chain)> = tables
                .iter()
                .filter(|t| t.family == family || t.family == "inet")
                .flat_map(|t| t.chains.iter().map(move |c| (t, c)))
                .filter(|(_, c)| c.hook.as_deref() == Some(hook) && c.ctype != "nat")
                .collect();
            if bases.is_empty() {
                continue;
            }
            for &(port, proto, service) in MAIL_PORTS {
                // Every hooked chain must let the packet through; the first drop decides.
                let mut result: Option<Fact> = None;
                let mut budget = VISIT_BUDGET;
                for (t, c) in &bases {
                    let (verdict, by, rule, chain) = match decide(t, c, port, proto, 0, &mut budget) {
                        Outcome::Decided(v, r, ch) => (v, "rule", r.text.as_str(), ch),
                        _ => (c.policy.as_deref().unwrap_or("accept"), "policy", c.header.as_str(), c.name.as_str()),
                    };
                    let verdict = match verdict {
                        "drop" | "reject" | "accept" => verdict,
                        _ => "accept",
                    };
                    let blocked = verdict != "accept";
                    let keep = match &result {
                        None => true,
                        Some(prev) => blocked && prev.get("verdict").and_then(|v| v.as_str()) == Some("accept"),
                    };
                    if keep {
                        let at = t.location(chain);
                        let shown = if rule.is_empty() { format!("chain {chain}: no rule, no policy (accept)") } else { rule.to_string() };
                        let f = Fact::new("firewall_verdict")
                            .with("family", family)
                            .with("hook", hook)
                            .with("port", u32::from(port))
                            .with("proto", proto)
                            .with("service", service)
                            .with("verdict", verdict)
                            .with("by", by)
                            .with("rule", shown.as_str())
                            .with("tool", t.tool)
                            .with("table", t.name.as_str())
                            .with("chain", chain)
                            .evidence(t.source.clone(), if at.is_empty() { shown.clone() } else { format!("{at}: {shown}") })
                            .from_observation(t.obs);
                        result = Some(f);
                    }
                }
                if let Some(f) = result {
                    em.push(f);
                }
            }
        }
    }
}

fn tables_to_facts(tables: &[Table], em: &mut Emitter) {
    for t in tables {
        for c in &t.chains {
            let Some(hook) = c.hook.clone() else { continue };
            // A NAT chain's policy says nothing about what is let through.
            if let Some(policy) = c.policy.as_ref().filter(|_| c.ctype != "nat") {
                let f = base_fact("firewall_policy", t, &c.name, &hook)
                    .with("policy", policy.as_str())
                    .with("via", "policy")
                    .with("rule", c.header.as_str());
                let at = t.location(&c.name);
                let text = if at.is_empty() { c.header.clone() } else { format!("{at}: {}", c.header) };
                em.push(f.evidence(t.source.clone(), text));
            }
            let reach = Reach { hook, ports: Vec::new(), protos: None, conditional: false, path: Vec::new() };
            walk(t, c, &reach, 0, em);
        }
    }
    verdict_facts(tables, em);
}

fn command_text<'a>(bundle: &'a Bundle, argv0: &str) -> Option<&'a Observation> {
    bundle.observations.iter().find(|o| matches!(&o.source, Source::Command { argv } if argv.first().map(String::as_str) == Some(argv0)))
}

/// The tables of every firewall listing in the bundle: the kernel's listings, or — only
/// when none of them could be read — the front-ends'. `Err` says why nothing was readable.
fn all_tables(bundle: &Bundle) -> Result<Vec<Table>, String> {
    let mut problems = Vec::new();
    let mut listing = |name: &str| -> Option<(&str, u32, String)> {
        let o = command_text(bundle, name)?;
        match &o.payload {
            Payload::Text { text, .. } => Some((text.as_str(), o.id, o.source.label())),
            _ => {
                problems.push(format!("{}: {}", o.source.label(), o.problem().unwrap_or_default()));
                None
            }
        }
    };
    let mut tables = Vec::new();
    let mut kernel_read = false;
    // iptables first: with the nf_tables backend its tables show up in nft's listing too,
    // where xt matches print badly; they are read from iptables-save and skipped in nft's.
    let mut skip: HashSet<(String, String)> = HashSet::new();
    for (cmd, tool, family) in [
        ("iptables-save", "iptables", "ip"),
        ("ip6tables-save", "ip6tables", "ip6"),
        ("iptables-legacy-save", "iptables", "ip"),
        ("ip6tables-legacy-save", "ip6tables", "ip6"),
    ] {
        if let Some((text, id, label)) = listing(cmd) {
            kernel_read = true;
            if !cmd.contains("legacy") {
                skip.extend(iptables_nft_tables(text, family));
            }
            tables.extend(parse_iptables(text, tool, id, &label));
        }
    }
    if let Some((text, id, label)) = listing("nft") {
        kernel_read = true;
        tables.extend(parse_nft(text, id, &label, &skip));
    }
    if kernel_read {
        return Ok(tables);
    }
    let mut frontend_read = false;
    if let Some((text, id, label)) = listing("ufw") {
        frontend_read = true;
        tables.extend(parse_ufw(text, id, &label));
    }
    if let Some((text, id, label)) = listing("firewall-cmd") {
        frontend_read = true;
        tables.extend(parse_firewalld(text, id, &label));
    }
    match (frontend_read, problems.is_empty()) {
        (true, _) => Ok(tables),
        (false, true) => Err("not collected".to_string()),
        (false, false) => Err(dedup_whys(&problems)),
    }
}

pub fn facts(bundle: &Bundle, out: &mut FactSet) {
    match all_tables(bundle) {
        Ok(tables) => {
            let mut em = Emitter::default();
            tables_to_facts(&tables, &mut em);
            out.extend(em.facts);
        }
        Err(why) => {
            for kind in FIREWALL_KINDS {
                out.unavailable(kind, "firewall rules (nft, iptables-save)", why.clone());
            }
        }
    }
}

/// `nft list ruleset: not run: --root given` for each command collapses to one reason when
/// they all failed the same way.
fn dedup_whys(problems: &[String]) -> String {
    let reasons: BTreeSet<&str> = problems.iter().map(|p| p.split_once(": ").map(|(_, r)| r).unwrap_or(p)).collect();
    if reasons.len() == 1 && reasons.iter().all(|r| r.starts_with("not run")) {
        return reasons.into_iter().next().unwrap_or_default().to_string();
    }
    problems.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Bundle;

    const NFT_INET: &str = include_str!("../../../tests/fixtures/captured/firewall/nft-inet-filter.txt");
    const NFT_FIREWALLD: &str = include_str!("../../../tests/fixtures/captured/firewall/nft-firewalld-style.txt");
    const IPT_NFT: &str = include_str!("../../../tests/fixtures/captured/firewall/iptables-nft-save.txt");
    const IP6T_NFT: &str = include_str!("../../../tests/fixtures/captured/firewall/ip6tables-nft-save.txt");
    const IPT_AS_NFT: &str = include_str!("../../../tests/fixtures/captured/firewall/iptables-nft-as-nft.txt");
    const IPT_RHEL: &str = include_str!("../../../tests/fixtures/captured/firewall/iptables-legacy-rhel-save.txt");
    const UFW_STATUS: &str = include_str!("../../../tests/fixtures/captured/firewall/ufw-status-verbose.txt");
    const UFW_IPT: &str = include_str!("../../../tests/fixtures/captured/firewall/ufw-iptables-save.txt");
    const FIREWALLD: &str = include_str!("../../../tests/fixtures/captured/firewall/firewall-cmd-list-all.txt");

    fn obs(id: u32, argv: &[&str], payload: Payload) -> Observation {
        Observation { id, source: Source::Command { argv: argv.iter().map(|s| s.to_string()).collect() }, at: 0, elapsed_ms: 0, payload }
    }
    fn text(t: &str) -> Payload {
        Payload::Text { text: t.to_string(), first_line: 1, skipped_bytes: 0, lossy: false, exit: Some(0) }
    }
    fn not_found(prog: &str) -> Payload {
        Payload::Failed { failure: crate::bundle::Failure::NotInstalled, message: format!("{prog}: not found") }
    }
    fn bundle(observations: Vec<Observation>) -> Bundle {
        Bundle::of("mx1", "/", true, observations)
    }
    fn facts_of(b: &Bundle) -> FactSet {
        let mut out = FactSet::new();
        facts(b, &mut out);
        out
    }
    /// `(hook, port, action, conditional)` of every block/accept fact of a family.
    fn rows(fs: &FactSet, kind: &str) -> Vec<(String, i64, String, bool, String)> {
        let mut v: Vec<_> = fs
            .of_kind(kind)
            .map(|f| {
                let s = |k: &str| f.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                (
                    s("hook"),
                    f.get("port").and_then(|v| v.as_i64()).unwrap_or(0),
                    s("action"),
                    f.get("conditional") == Some(&true.into()),
                    s("family"),
                )
            })
            .collect();
        v.sort();
        v
    }
    fn verdict(fs: &FactSet, family: &str, hook: &str, port: i64, proto: &str) -> Option<(String, String)> {
        fs.of_kind("firewall_verdict")
            .find(|f| {
                f.get("family").and_then(|v| v.as_str()) == Some(family)
                    && f.get("hook").and_then(|v| v.as_str()) == Some(hook)
                    && f.get("port").and_then(|v| v.as_i64()) == Some(port)
                    && f.get("proto").and_then(|v| v.as_str()) == Some(proto)
            })
            .map(|f| (f.get("verdict").map(|v| v.to_string()).unwrap_or_default(), f.get("by").map(|v| v.to_string()).unwrap_or_default()))
    }
    fn nft_only(listing: &str) -> FactSet {
        facts_of(&bundle(vec![
            obs(0, &["nft", "list", "ruleset"], text(listing)),
            obs(1, &["iptables-save"], not_found("iptables-save")),
            obs(2, &["ip6tables-save"], not_found("ip6tables-save")),
        ]))
    }

    #[test]
    fn nft_sets_ranges_named_sets_and_jumps() {
        let fs = nft_only(NFT_INET);
        let blocks = rows(&fs, "firewall_block");
        let has = |hook: &str, port: i64, action: &str, cond: bool, fam: &str| {
            blocks.contains(&(hook.to_string(), port, action.to_string(), cond, fam.to_string()))
        };
        // tcp dport { 25, 587 } counter drop
        assert!(has("input", 25, "drop", false, "inet"), "{blocks:#?}");
        assert!(has("input", 587, "drop", false, "inet"));
        // tcp dport 465 reject with tcp reset
        assert!(has("input", 465, "reject", false, "inet"));
        // tcp dport 100-120 drop: pop3 (110) is in the range
        assert!(has("input", 110, "drop", false, "inet"));
        // in chain f2b, reached by `jump f2b`: tcp dport 24 drop
        assert!(has("input", 24, "drop", false, "inet"));
        // oifname "eth0" tcp dport 25 reject: only on eth0
        assert!(has("output", 25, "reject", true, "inet"));
        // ip6 out6: tcp dport != 22 drop covers every mail port
        assert!(has("output", 25, "drop", false, "ip6"));
        assert!(has("output", 993, "drop", false, "ip6"));
        let accepts = rows(&fs, "firewall_accept");
        // @mail_ports = { 143, 993 }
        assert!(accepts.contains(&("input".into(), 143, "accept".into(), false, "inet".into())), "{accepts:#?}");
        assert!(accepts.contains(&("input".into(), 993, "accept".into(), false, "inet".into())));
        // ip saddr 198.51.100.0/24 tcp dport 995 accept
        assert!(accepts.contains(&("input".into(), 995, "accept".into(), true, "inet".into())));
        // udp dport 53 accept (output)
        assert!(accepts.iter().any(|r| r.0 == "output" && r.1 == 53));

        let policies: Vec<(String, String)> = fs
            .of_kind("firewall_policy")
            .map(|f| (f.get("hook").map(|v| v.to_string()).unwrap_or_default(), f.get("policy").map(|v| v.to_string()).unwrap_or_default()))
            .collect();
        assert!(policies.contains(&("input".into(), "drop".into())), "{policies:?}");
        assert!(policies.contains(&("output".into(), "accept".into())));

        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 993, "tcp"), Some(("accept".into(), "rule".into())));
        // 995 is accepted only from one network: for everyone else the policy decides.
        assert_eq!(verdict(&fs, "ip", "input", 995, "tcp"), Some(("drop".into(), "policy".into())));
        // The inet output chain accepts everything, but the ip6 one drops all but ssh.
        assert_eq!(verdict(&fs, "ip", "output", 25, "tcp"), Some(("accept".into(), "policy".into())));
        assert_eq!(verdict(&fs, "ip6", "output", 587, "tcp"), Some(("drop".into(), "rule".into())));
    }

    #[test]
    fn firewalld_shape_jump_goto_vmap_and_final_reject() {
        let fs = nft_only(NFT_FIREWALLD);
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip6", "input", 993, "tcp"), Some(("accept".into(), "rule".into())));
        // Not opened: the final `reject with icmpx admin-prohibited` decides.
        assert_eq!(verdict(&fs, "ip", "input", 587, "tcp"), Some(("reject".into(), "rule".into())));
        assert!(fs.of_kind("firewall_policy").any(|f| f.get("via") == Some(&"rule".into())
            && f.get("hook") == Some(&"input".into())
            && f.get("policy") == Some(&"reject".into())));
        // The rich rule: submission rejected from one address only.
        let blocks = rows(&fs, "firewall_block");
        assert!(blocks.contains(&("input".into(), 587, "reject".into(), true, "inet".into())), "{blocks:#?}");
        // `ct state invalid drop` is not a catch-all.
        assert!(!fs.of_kind("firewall_policy").any(|f| f.get("rule") == Some(&"ct state invalid drop".into())));
    }

    #[test]
    fn iptables_multiport_ranges_comments_and_fail2ban_chains() {
        let b = bundle(vec![
            obs(0, &["nft", "list", "ruleset"], text(IPT_AS_NFT)),
            obs(1, &["iptables-save"], text(IPT_NFT)),
            obs(2, &["ip6tables-save"], text(IP6T_NFT)),
        ]);
        let fs = facts_of(&b);
        // iptables-nft's tables are read from iptables-save only: nothing from nft.
        assert!(fs.of_kind("firewall_block").all(|f| f.get("tool") != Some(&"nft".into())));
        let blocks = rows(&fs, "firewall_block");
        for (hook, port, action, cond, fam) in [
            ("input", 465, "drop", false, "ip"),
            ("input", 587, "drop", false, "ip"),
            ("input", 110, "reject", false, "ip"),
            ("input", 143, "reject", true, "ip"),
            ("input", 993, "reject", true, "ip"),
            ("output", 25, "drop", false, "ip"),
            ("input", 25, "drop", false, "ip6"),
        ] {
            assert!(blocks.contains(&(hook.into(), port, action.into(), cond, fam.into())), "{hook} {port} {action}: {blocks:#?}");
        }
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 587, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 993, "tcp"), Some(("drop".into(), "policy".into())));
        assert_eq!(verdict(&fs, "ip", "output", 25, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip6", "output", 25, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip6", "output", 53, "udp"), Some(("drop".into(), "policy".into())));
        let f = fs.of_kind("firewall_block").find(|f| f.get("hook") == Some(&"output".into()) && f.get("family") == Some(&"ip".into()));
        assert_eq!(
            f.and_then(|f| f.get("rule")).map(|v| v.to_string()).as_deref(),
            Some("-A OUTPUT -p tcp -m tcp --dport 25 -m comment --comment \"no direct mail\" -j DROP")
        );
    }

    #[test]
    fn a_fail2ban_chain_of_many_bans_is_one_conditional_block_per_port() {
        let mut ipt = String::from(
            "*filter\n:INPUT ACCEPT [0:0]\n:f2b-postfix - [0:0]\n-A INPUT -p tcp -m multiport --dports 25,465,587 -j f2b-postfix\n",
        );
        for i in 1..=50 {
            ipt.push_str(&format!("-A f2b-postfix -s 203.0.113.{i}/32 -j REJECT --reject-with icmp-port-unreachable\n"));
        }
        ipt.push_str("-A f2b-postfix -j RETURN\nCOMMIT\n");
        let fs = facts_of(&bundle(vec![obs(0, &["iptables-save"], text(&ipt))]));
        let smtp: Vec<&Fact> = fs.of_kind("firewall_block").filter(|f| f.get("port") == Some(&25u32.into())).collect();
        assert_eq!(smtp.len(), 1);
        assert_eq!(smtp[0].get("conditional"), Some(&true.into()));
        assert_eq!(smtp[0].evidence.len() as u64 + smtp[0].more_evidence, 51, "{:#?}", smtp[0]);
        assert_eq!(fs.of_kind("firewall_block").count(), 3);
        // Banned addresses are not everyone: a new connection is accepted.
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("accept".into(), "policy".into())));
    }

    #[test]
    fn rhel_final_reject_is_a_catch_all_policy() {
        let b = bundle(vec![
            obs(0, &["nft", "list", "ruleset"], not_found("nft")),
            obs(1, &["iptables-save"], text(IPT_RHEL)),
            obs(2, &["ip6tables-save"], text("")),
        ]);
        let fs = facts_of(&b);
        assert!(fs.of_kind("firewall_policy").any(|f| f.get("via") == Some(&"rule".into())
            && f.get("hook") == Some(&"input".into())
            && f.get("policy") == Some(&"reject".into())
            && f.get("rule") == Some(&"-A INPUT -j REJECT --reject-with icmp-host-prohibited".into())));
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("reject".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "output", 25, "tcp"), Some(("accept".into(), "policy".into())));
        assert!(fs.unavailable.is_empty(), "{:?}", fs.unavailable);
    }

    #[test]
    fn ufw_rules_three_jumps_below_input() {
        let b = bundle(vec![
            obs(0, &["nft", "list", "ruleset"], text("")),
            obs(1, &["iptables-save"], text(UFW_IPT)),
            obs(2, &["ip6tables-save"], text("")),
            obs(3, &["ufw", "status", "verbose"], text(UFW_STATUS)),
        ]);
        let fs = facts_of(&b);
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 587, "tcp"), Some(("reject".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 143, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 995, "tcp"), Some(("drop".into(), "policy".into())));
        assert_eq!(verdict(&fs, "ip", "output", 25, "tcp"), Some(("drop".into(), "rule".into())));
        // `ufw-not-local -j DROP` follows conditional RETURNs: not a catch-all.
        assert!(
            !fs.of_kind("firewall_policy").any(|f| f.get("via") == Some(&"rule".into())),
            "{:#?}",
            fs.of_kind("firewall_policy").collect::<Vec<_>>()
        );
        // The kernel listing was read: ufw's own summary is not counted again.
        assert!(fs.all().iter().all(|f| f.get("tool") != Some(&"ufw".into())));
    }

    #[test]
    fn frontends_are_the_fallback_when_no_kernel_listing_was_read() {
        let denied =
            Payload::Failed { failure: crate::bundle::Failure::Io, message: "exit 1: Permission denied (you must be root)".into() };
        let b = bundle(vec![
            obs(0, &["nft", "list", "ruleset"], denied.clone()),
            obs(1, &["iptables-save"], denied.clone()),
            obs(2, &["ip6tables-save"], denied),
            obs(3, &["ufw", "status", "verbose"], text(UFW_STATUS)),
        ]);
        let fs = facts_of(&b);
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip6", "input", 587, "tcp"), Some(("reject".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 110, "tcp"), Some(("drop".into(), "policy".into())));
        assert_eq!(verdict(&fs, "ip", "output", 25, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "output", 587, "tcp"), Some(("accept".into(), "policy".into())));
        let accepts = rows(&fs, "firewall_accept");
        assert!(accepts.contains(&("input".into(), 993, "accept".into(), true, "ip".into())), "{accepts:#?}");
        assert!(fs.unavailable.is_empty());

        let b =
            bundle(vec![obs(0, &["nft", "list", "ruleset"], not_found("nft")), obs(3, &["firewall-cmd", "--list-all"], text(FIREWALLD))]);
        let fs = facts_of(&b);
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 993, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 465, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 110, "tcp"), Some(("reject".into(), "policy".into())));
        assert!(rows(&fs, "firewall_block").contains(&("input".into(), 587, "reject".into(), true, "inet".into())));
    }

    #[test]
    fn no_rules_no_verdicts_and_nothing_unavailable() {
        let fs = facts_of(&bundle(vec![
            obs(0, &["nft", "list", "ruleset"], text("")),
            obs(1, &["iptables-save"], text("")),
            obs(2, &["ip6tables-save"], text("")),
        ]));
        assert!(fs.is_empty());
        assert!(fs.unavailable.is_empty());
    }

    #[test]
    fn nothing_readable_is_unavailable_with_the_reason() {
        let not_run = Payload::Failed { failure: crate::bundle::Failure::NotRun, message: "--root given: commands are not run".into() };
        let fs = facts_of(&bundle(vec![obs(0, &["nft", "list", "ruleset"], not_run.clone()), obs(1, &["iptables-save"], not_run)]));
        let u = fs.unavailable_for("firewall_block");
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].why, "not run: --root given: commands are not run");
        let fs = facts_of(&bundle(vec![
            obs(0, &["nft", "list", "ruleset"], not_found("nft")),
            obs(1, &["iptables-save"], not_found("iptables-save")),
        ]));
        assert!(fs.unavailable_for("firewall_verdict")[0].why.contains("nft: not found"));
    }

    #[test]
    fn chains_reached_along_many_paths_stay_cheap() {
        // c0 jumps twice to c1, which jumps twice to c2, ...: 2^15 paths to the last chain.
        let mut ipt = String::from("*filter\n:INPUT DROP [0:0]\n");
        for i in 0..16 {
            ipt.push_str(&format!(":c{i} - [0:0]\n"));
        }
        ipt.push_str("-A INPUT -j c0\n");
        for i in 0..15 {
            let next = i + 1;
            ipt.push_str(&format!("-A c{i} -p tcp --dport 25 -j c{next}\n-A c{i} -p tcp --dport 25 -j c{next}\n"));
        }
        ipt.push_str("-A c15 -s 192.0.2.1/32 -j DROP\nCOMMIT\n");
        let start = std::time::Instant::now();
        let fs = facts_of(&bundle(vec![obs(0, &["iptables-save"], text(&ipt))]));
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("drop".into(), "policy".into())));
    }

    #[test]
    fn garbage_never_panics() {
        let junk = [
            "",
            "}",
            "{",
            "table",
            "table inet x {\n chain c {\n tcp dport {\n",
            "table inet x {\n set s {\n elements = { 25,\n",
            "table ip t {\n chain c {\n type filter hook input priority 0; policy drop;\n tcp dport 99999 drop\n tcp dport 30-20 drop\n tcp dport != drop\n jump\n goto nowhere\n }\n}",
            "*filter\n-A\n-A INPUT\n-A INPUT -p\n-A INPUT --dport\n-A INPUT ! ! -j\n:INPUT\n-A INPUT -j INPUT\n-A INPUT -p tcp --dport 25 -j INPUT",
            "Status: active\nDefault: deny\n25/tcp  DENY\n  a  b  c\n/tcp  DENY IN  Anywhere",
            "public\n  target:\n  ports: /tcp 25 x/y\n  rich rules:\n\trule port port=\"\n\trule port port=\"25\n",
        ];
        for j in junk {
            let b = bundle(vec![
                obs(0, &["nft", "list", "ruleset"], text(j)),
                obs(1, &["iptables-save"], text(j)),
                obs(2, &["ufw", "status", "verbose"], text(j)),
                obs(3, &["firewall-cmd", "--list-all"], text(j)),
            ]);
            let _ = facts_of(&b);
            let _ = parse_ufw(j, 0, "ufw");
            let _ = parse_firewalld(j, 0, "firewall-cmd");
        }
    }
}
