//! The packet filter model every listing is read into: tables of chains of rules, with
//! their ports, protocols and verdicts.

use super::SERVICE_NAMES;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Verdict {
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
pub(super) struct Ports {
    pub(super) ranges: Vec<(u16, u16)>,
    pub(super) negated: bool,
}

impl Ports {
    pub(super) fn contains(&self, p: u16) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= p && p <= b) != self.negated
    }
}

#[derive(Clone, Debug)]
pub(super) struct Rule {
    pub(super) text: String,
    /// `None`: any protocol.
    pub(super) protos: Option<Vec<String>>,
    pub(super) dport: Option<Ports>,
    pub(super) conditional: bool,
    pub(super) verdict: Verdict,
    /// Chains reached from a verdict map (`vmap { "eth0" : goto zone }`): always conditional.
    pub(super) map_targets: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Chain {
    pub(super) name: String,
    pub(super) hook: Option<String>,
    /// `filter`, `nat`, `route`.
    pub(super) ctype: String,
    pub(super) policy: Option<String>,
    /// The line that declared the policy (evidence).
    pub(super) header: String,
    pub(super) rules: Vec<Rule>,
}

#[derive(Clone, Debug)]
pub(super) struct Table {
    pub(super) tool: &'static str,
    pub(super) family: String,
    pub(super) name: String,
    pub(super) chains: Vec<Chain>,
    /// Observation id and its label, for evidence.
    pub(super) obs: u32,
    pub(super) source: String,
}

impl Table {
    pub(super) fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name == name)
    }
    pub(super) fn location(&self, chain: &str) -> String {
        match self.tool {
            "nft" => format!("table {} {}, chain {chain}", self.family, self.name),
            "iptables" | "ip6tables" => format!("*{}", self.name),
            _ => String::new(),
        }
    }
}

pub(super) fn port_number(s: &str) -> Option<u16> {
    s.parse::<u16>().ok().or_else(|| SERVICE_NAMES.iter().find(|(n, _)| *n == s).map(|(_, p)| *p))
}

/// `25`, `smtp`, `100-120` (nft) or `100:200` (iptables, ufw).
pub(super) fn port_range(s: &str) -> Option<(u16, u16)> {
    if let Some((a, b)) = s.split_once(['-', ':']) {
        let (a, b) = (port_number(a.trim())?, port_number(b.trim())?);
        return (a <= b).then_some((a, b));
    }
    port_number(s.trim()).map(|p| (p, p))
}

pub(super) fn protos_compatible(rule: &Option<Vec<String>>, proto: &str) -> bool {
    rule.as_ref().is_none_or(|v| v.iter().any(|p| p == proto))
}

pub(super) fn action_name(v: &Verdict) -> Option<&'static str> {
    match v {
        Verdict::Accept => Some("accept"),
        Verdict::Drop => Some("drop"),
        Verdict::Reject => Some("reject"),
        _ => None,
    }
}
