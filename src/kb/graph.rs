//! The rule dependency graph (petgraph): fact kinds and rules are nodes; "rule reads kind"
//! and "rule concludes kind" are edges. Loading refuses a cycle (naming the rules in it);
//! evaluation follows a topological order, so every producer of a kind has run before any
//! rule reads it — which is also what makes negation ("no fact X") safe (stratification).

use super::{KbError, Knowledge};
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Kind(String),
    Rule(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    Reads,
    ReadsAbsence,
    Concludes,
}

pub struct RuleGraph {
    pub graph: DiGraph<Node, Edge>,
    pub kinds: BTreeMap<String, NodeIndex>,
    pub rules: Vec<NodeIndex>,
}

pub fn build(k: &Knowledge) -> RuleGraph {
    let mut graph = DiGraph::new();
    let mut kinds = BTreeMap::new();
    for name in k.all_kinds() {
        kinds.insert(name.clone(), graph.add_node(Node::Kind(name)));
    }
    let mut rules = Vec::new();
    for (i, r) in k.rules.iter().enumerate() {
        let n = graph.add_node(Node::Rule(i));
        rules.push(n);
        let mut reads = Vec::new();
        for c in r.rule.all_conditions() {
            c.reads(false, &mut reads);
        }
        for (kind, negated) in reads {
            let kn = *kinds.entry(kind.clone()).or_insert_with(|| graph.add_node(Node::Kind(kind)));
            let e = if negated { Edge::ReadsAbsence } else { Edge::Reads };
            if graph.find_edge(kn, n).is_none() {
                graph.add_edge(kn, n, e);
            }
        }
        if let Some(d) = &r.rule.derive {
            let kn = *kinds.entry(d.fact.clone()).or_insert_with(|| graph.add_node(Node::Kind(d.fact.clone())));
            graph.add_edge(n, kn, Edge::Concludes);
        }
    }
    RuleGraph { graph, kinds, rules }
}

/// Rule indices in an order where every producer of a kind runs before its readers.
pub fn evaluation_order(k: &Knowledge) -> Result<Vec<usize>, Vec<KbError>> {
    let g = build(k);
    match toposort(&g.graph, None) {
        Ok(nodes) => Ok(nodes
            .into_iter()
            .filter_map(|n| match g.graph[n] {
                Node::Rule(i) => Some(i),
                Node::Kind(_) => None,
            })
            .collect()),
        Err(_) => {
            let mut errors = Vec::new();
            for scc in tarjan_scc(&g.graph) {
                let self_loop = scc.len() == 1 && g.graph.find_edge(scc[0], scc[0]).is_some();
                if scc.len() < 2 && !self_loop {
                    continue;
                }
                let mut rules: Vec<usize> =
                    scc.iter().filter_map(|n| if let Node::Rule(i) = g.graph[*n] { Some(i) } else { None }).collect();
                rules.sort();
                let mut kinds: Vec<&str> =
                    scc.iter().filter_map(|n| if let Node::Kind(s) = &g.graph[*n] { Some(s.as_str()) } else { None }).collect();
                kinds.sort();
                let names: Vec<String> = rules.iter().map(|&i| format!("{} ({})", k.rules[i].rule.id, k.rules[i].file)).collect();
                let first = rules.first().map(|&i| k.rules[i].file.clone()).unwrap_or_default();
                errors.push(KbError::at(
                    &first,
                    format!("rules form a cycle through fact kinds {}: {}", kinds.join(", "), names.join(" → ")),
                ));
            }
            Err(errors)
        }
    }
}

/// Graphviz DOT of the rule graph: kinds as ellipses, rules as boxes (root causes red,
/// symptoms orange, derived grey); dashed edges read the absence of a kind.
pub fn to_dot(k: &Knowledge) -> String {
    use crate::kb::rule::RuleKind;
    let g = build(k);
    let mut s = String::from("digraph mailsleuth {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    for n in g.graph.node_indices() {
        match &g.graph[n] {
            Node::Kind(name) => {
                let base = k.base_kind(name).is_some();
                let style = if base { "shape=ellipse" } else { "shape=ellipse, style=dashed" };
                s.push_str(&format!("  n{} [label={:?}, {style}];\n", n.index(), name));
            }
            Node::Rule(i) => {
                let r = &k.rules[*i].rule;
                let color = match r.kind {
                    RuleKind::RootCause => "firebrick",
                    RuleKind::Symptom => "darkorange",
                    RuleKind::Derived => "gray40",
                };
                s.push_str(&format!("  n{} [label={:?}, shape=box, color={color}];\n", n.index(), r.id));
            }
        }
    }
    for e in g.graph.edge_indices() {
        if let Some((a, b)) = g.graph.edge_endpoints(e) {
            let style = match g.graph[e] {
                Edge::Reads => "",
                Edge::ReadsAbsence => " [style=dashed, label=\"not\"]",
                Edge::Concludes => " [color=gray40]",
            };
            s.push_str(&format!("  n{} -> n{}{style};\n", a.index(), b.index()));
        }
    }
    for (i, r) in k.rules.iter().enumerate() {
        for ex in &r.rule.explains {
            if let Some(j) = k.rules.iter().position(|o| &o.rule.id == ex) {
                s.push_str(&format!("  n{} -> n{} [style=dotted, label=\"explains\"];\n", g.rules[i].index(), g.rules[j].index()));
            }
        }
    }
    s.push_str("}\n");
    s
}
