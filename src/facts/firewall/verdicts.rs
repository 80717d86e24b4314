//! From the model to facts: the rules that touch a mail port, policies, and the verdict a
//! new connection to each mail port meets, walking jumps within a budget.

use super::table::action_name;
use super::table::protos_compatible;
use super::table::Chain;
use super::table::Ports;
use super::table::Rule;
use super::table::Table;
use super::table::Verdict;
use super::MAIL_PORTS;
use crate::model::Fact;
use std::collections::HashMap;

/// How a chain is reached: from which hook, under which inherited port and protocol
/// matches, and whether some rule on the way had conditions.
#[derive(Clone, Debug)]
pub(super) struct Reach {
    pub(super) hook: String,
    pub(super) ports: Vec<Ports>,
    pub(super) protos: Option<Vec<String>>,
    pub(super) conditional: bool,
    /// The jump rules that led here (evidence).
    pub(super) path: Vec<String>,
}

pub(super) const MAX_DEPTH: usize = 16;

pub(super) fn intersect_protos(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> Option<Vec<String>> {
    match (a, b) {
        (None, x) | (x, None) => x.clone(),
        (Some(a), Some(b)) => Some(a.iter().filter(|p| b.contains(p)).cloned().collect()),
    }
}

/// Collects facts without duplicates (a chain reached twice says the same thing twice).
/// Conditional rules of one chain for one port are folded into one fact: a fail2ban chain
/// with thousands of banned addresses is one `conditional` block with many pieces of
/// evidence, not thousands of facts.
pub(super) struct Emitter {
    pub(super) facts: Vec<Fact>,
    pub(super) index: HashMap<String, usize>,
    /// Rules left to visit: chains reached along many paths must not blow up the walk.
    pub(super) budget: usize,
}

/// Rule visits allowed per listing walk and per verdict search.
pub(super) const VISIT_BUDGET: usize = 200_000;

impl Default for Emitter {
    fn default() -> Self {
        Emitter { facts: Vec::new(), index: HashMap::new(), budget: VISIT_BUDGET }
    }
}

/// Evidence kept per folded fact; the rest is counted in `more_evidence`.
pub(super) const FOLDED_EVIDENCE: usize = 3;

impl Emitter {
    pub(super) fn push(&mut self, f: Fact) {
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

pub(super) fn base_fact(kind: &str, t: &Table, chain: &str, hook: &str) -> Fact {
    Fact::new(kind)
        .with("family", t.family.as_str())
        .with("tool", t.tool)
        .with("table", t.name.as_str())
        .with("chain", chain)
        .with("hook", hook)
        .from_observation(t.obs)
}

pub(super) fn rule_evidence(f: Fact, t: &Table, chain: &str, rule: &str, path: &[String]) -> Fact {
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
pub(super) fn covers_mail_port(ports: &[Ports], protos: &Option<Vec<String>>) -> bool {
    MAIL_PORTS.iter().any(|&(port, proto, _)| protos_compatible(protos, proto) && ports.iter().all(|p| p.contains(port)))
}

pub(super) fn protos_of(rule: &Rule, reach: &Reach) -> Option<Vec<String>> {
    intersect_protos(&reach.protos, &rule.protos)
}

pub(super) fn walk(t: &Table, chain: &Chain, reach: &Reach, depth: usize, em: &mut Emitter) {
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
pub(super) enum Outcome<'a> {
    Decided(&'static str, &'a Rule, &'a str),
    /// Fell off the end or returned: the caller goes on.
    Continue,
    /// A `goto`'d chain ended: the caller's chain ends too.
    Ends,
}

pub(super) fn decide<'a>(t: &'a Table, chain: &'a Chain, port: u16, proto: &str, depth: usize, budget: &mut usize) -> Outcome<'a> {
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

pub(super) fn verdict_facts(tables: &[Table], em: &mut Emitter) {
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

pub(super) fn tables_to_facts(tables: &[Table], em: &mut Emitter) {
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
