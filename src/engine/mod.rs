//! The engine: forward chaining over the rule graph, rule outcomes, diagnoses and ranking.
//!
//! Rules run once each, in topological order (every producer of a kind before its readers).
//! Each ends **fired** (with its bindings), **passed** (checked, conditions false),
//! **skipped** (it did not fire and a kind it reads could not be fully observed — "not
//! checked" is never shown as "fine"), or **error** (a type error in a test, a template
//! without a value). The engine never touches the system: it reads facts only.

pub mod accounting;
pub mod explain;
pub mod matcher;
pub mod rank;

use crate::kb::rule::{Operand, RuleKind, Severity};
use crate::kb::template;
use crate::kb::{Knowledge, LoadedRule};
use crate::model::{Evidence, Fact, FactSet, Unavailable, Value};
use matcher::Binding;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fired,
    Passed,
    Skipped,
    Error,
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub rule: String,
    pub status: Status,
    /// Fired: how many distinct conclusions; Error: the message.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Skipped: what could not be observed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<Unavailable>,
}

/// A fired root cause or symptom, before and after ranking.
#[derive(Clone, Debug, Serialize)]
pub struct Diagnosis {
    pub id: String,
    pub rank: usize,
    pub kind: RuleKind,
    pub severity: Severity,
    pub confidence: f64,
    /// `host` (the rule's conditions held) or `log_only` (concluded from the log alone).
    pub basis: Basis,
    pub title: String,
    pub description: String,
    pub evidence: Vec<Evidence>,
    pub fix: Vec<String>,
    /// Ids of the fired symptoms this diagnosis explains.
    pub explains: Vec<String>,
    /// Ids of the fired root causes that explain this one (symptoms only).
    pub explained_by: Vec<String>,
    pub references: Vec<String>,
    pub priority: i32,
    /// Number of elementary conditions satisfied (more specific rules rank higher).
    pub specificity: usize,
    /// Weighted strength of the evidence (log severities, number of facts).
    pub strength: u32,
    /// The log signatures its matched facts rest on, and the `delivery_failure` facts it
    /// matched (by index): what the accounting attributes to it.
    #[serde(skip)]
    pub covers_signatures: Vec<String>,
    #[serde(skip)]
    pub covers_failures: Vec<usize>,
    /// Failed messages and reject lines in the window this diagnosis explains (set by the
    /// accounting).
    pub explains_failures: u64,
    /// A root cause that explains none of the observed failures while another does.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub latent: bool,
}

#[derive(Debug)]
pub struct Evaluation {
    pub facts: FactSet,
    pub outcomes: Vec<Outcome>,
    /// Ranked, best first.
    pub diagnoses: Vec<Diagnosis>,
    /// Every failed message and reject, attributed to the diagnosis that explains it.
    pub accounting: accounting::Accounting,
    /// Conclusions the log suggested and the host refuted.
    pub withdrawn: Vec<Withdrawn>,
}

impl Evaluation {
    pub fn outcome(&self, rule: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.rule == rule)
    }
}

/// Evidence items shown per matched fact before "and N more".
const EVIDENCE_PER_FACT: usize = 3;

/// Forward-chain every rule over `facts` and rank the diagnoses.
pub fn run(k: &Knowledge, mut facts: FactSet) -> Evaluation {
    let mut outcomes = Vec::with_capacity(k.rules.len());
    let mut diagnoses: Vec<Diagnosis> = Vec::new();
    let mut withdrawn = Vec::new();
    for &i in &k.order {
        let r = &k.rules[i];
        let (mut outcome, new_facts, mut new_diags) = evaluate(r, &facts);
        let (log_diags, w) = evaluate_from_log(r, &facts, &mut outcome);
        new_diags.extend(log_diags);
        withdrawn.extend(w);
        if outcome.status != Status::Fired {
            if let Some(d) = &r.rule.derive {
                // Downstream rules must not read "no such fact" as "fine".
                let why = match outcome.status {
                    Status::Skipped => "its inputs could not be observed".to_string(),
                    Status::Error => format!("rule {} failed: {}", r.rule.id, outcome.detail),
                    _ => String::new(),
                };
                if !why.is_empty() {
                    facts.unavailable(&d.fact, format!("`{}` (concluded by rule {})", d.fact, r.rule.id), why);
                }
            }
        }
        facts.extend(new_facts);
        diagnoses.extend(new_diags);
        outcomes.push(outcome);
    }
    outcomes.sort_by(|a, b| a.rule.cmp(&b.rule));
    accounting::count_explained(&facts, &mut diagnoses);
    let diagnoses = rank::rank(k, &facts, diagnoses);
    let accounting = accounting::Accounting::new(&facts, &diagnoses);
    Evaluation { facts, outcomes, diagnoses, accounting, withdrawn }
}

/// Evaluate one rule against the current facts.
pub fn evaluate(r: &LoadedRule, facts: &FactSet) -> (Outcome, Vec<Fact>, Vec<Diagnosis>) {
    let rule = &r.rule;
    let mut sols = Vec::new();
    let mk = |status, detail: String, missing| Outcome { rule: rule.id.clone(), status, detail, missing };
    // "No fact X" cannot be proved when X could not be observed (processes under --root):
    // such a rule is not checked, never fired on an absence that is only ignorance.
    let unprovable = negated_unavailable(r, facts);
    if !unprovable.is_empty() {
        return (mk(Status::Skipped, String::new(), unprovable), Vec::new(), Vec::new());
    }
    if let Err(e) = matcher::solve(&rule.when, facts, &Binding::default(), &mut sols) {
        return (mk(Status::Error, e, Vec::new()), Vec::new(), Vec::new());
    }
    if sols.is_empty() {
        let missing = missing_inputs(r, facts, first_failing(r, facts));
        let status = if missing.is_empty() { Status::Passed } else { Status::Skipped };
        return (mk(status, String::new(), missing), Vec::new(), Vec::new());
    }
    let result = match &rule.derive {
        Some(_) => derive(r, facts, &sols).map(|f| (f, Vec::new())),
        None => diagnose(r, facts, &sols, &Conclusion::of_rule(rule)).map(|d| (Vec::new(), d)),
    };
    match result {
        Ok((f, d)) => {
            let n = f.len().max(d.len());
            (mk(Status::Fired, format!("{n} conclusion(s)"), Vec::new()), f, d)
        }
        Err(e) => (mk(Status::Error, e, Vec::new()), Vec::new(), Vec::new()),
    }
}

/// The unavailability records of the kinds the rule reads under `Not`.
fn negated_unavailable(r: &LoadedRule, facts: &FactSet) -> Vec<Unavailable> {
    let mut reads = Vec::new();
    for c in &r.rule.when {
        c.reads(false, &mut reads);
    }
    let mut out: Vec<Unavailable> = Vec::new();
    for (kind, negated) in reads {
        if !negated {
            continue;
        }
        for u in facts.unavailable_for(&kind) {
            if !out.contains(u) {
                out.push(u.clone());
            }
        }
    }
    out
}

/// Index of the first condition after which no solution is left: conditions after it never
/// mattered, so what they read being unobservable does not make the rule "not checked".
fn first_failing(r: &LoadedRule, facts: &FactSet) -> usize {
    let mut partial = vec![Binding::default()];
    for (i, c) in r.rule.when.iter().enumerate() {
        let mut next = Vec::new();
        for b in &partial {
            if matcher::solve(std::slice::from_ref(c), facts, b, &mut next).is_err() {
                return i;
            }
        }
        if next.is_empty() {
            return i;
        }
        partial = next;
    }
    r.rule.when.len().saturating_sub(1)
}

/// The unavailability records of the kinds read by conditions `0..=upto`.
fn missing_inputs(r: &LoadedRule, facts: &FactSet, upto: usize) -> Vec<Unavailable> {
    let mut reads = Vec::new();
    for c in r.rule.when.iter().take(upto + 1) {
        c.required_reads(&mut reads);
    }
    let mut out: Vec<Unavailable> = Vec::new();
    for kind in reads {
        for u in facts.unavailable_for(&kind) {
            if !out.contains(u) {
                out.push(u.clone());
            }
        }
    }
    out
}

fn lookup_fn<'a>(facts: &'a FactSet, b: &'a Binding) -> impl Fn(&str) -> Option<Value> + 'a {
    move |path: &str| b.lookup(facts, path)
}

fn render(t: &str, facts: &FactSet, b: &Binding, quote: bool) -> Result<String, String> {
    let pieces = template::parse(t)?;
    template::render(&pieces, &lookup_fn(facts, b), quote)
}

fn derive(r: &LoadedRule, facts: &FactSet, sols: &[Binding]) -> Result<Vec<Fact>, String> {
    let Some(d) = &r.rule.derive else { return Ok(Vec::new()) };
    let mut out: Vec<Fact> = Vec::new();
    for b in sols {
        let mut f = Fact::new(&d.fact);
        f.derived_by = Some(r.rule.id.clone());
        for (name, op) in &d.fields {
            let v = match op {
                Operand::Lit(v) => v.clone(),
                Operand::Ref(p) => b.lookup(facts, p).ok_or_else(|| format!("derive field `{name}`: ${p} has no value"))?,
                Operand::Template(pieces) => Value::Str(
                    template::render(pieces, &|p: &str| b.lookup(facts, p), false).map_err(|e| format!("derive field `{name}`: {e}"))?,
                ),
            };
            f.fields.insert(name.clone(), v);
        }
        for &i in &b.matched {
            let src = facts.get(i);
            for sig in src.log_signatures() {
                if !f.signatures.iter().any(|x| x == sig) {
                    f.signatures.push(sig.to_string());
                }
            }
            for e in &src.evidence {
                if !f.evidence.contains(e) {
                    f.evidence.push(e.clone());
                }
            }
            f.more_evidence += src.more_evidence;
            for o in &src.observations {
                if !f.observations.contains(o) {
                    f.observations.push(*o);
                }
            }
        }
        match out.iter_mut().find(|o| o.fields == f.fields) {
            Some(existing) => {
                for e in f.evidence {
                    if !existing.evidence.contains(&e) {
                        existing.evidence.push(e);
                    }
                }
            }
            None => out.push(f),
        }
    }
    Ok(out)
}

/// What a rule concludes from one of its paths: `when` (the host, with the log) or
/// `from_log` (the log alone).
struct Conclusion<'a> {
    title: &'a str,
    when: &'a [crate::kb::rule::Condition],
    evidence: &'a [String],
    /// Verify commands, then the repair.
    fix: Vec<&'a String>,
    confidence: f64,
    basis: Basis,
}

impl<'a> Conclusion<'a> {
    fn of_rule(rule: &'a crate::kb::rule::Rule) -> Self {
        Conclusion {
            title: &rule.title,
            when: &rule.when,
            evidence: &rule.evidence,
            fix: rule.fix.iter().collect(),
            confidence: rule.confidence,
            basis: Basis::Host,
        }
    }
    fn of_log(l: &'a crate::kb::rule::FromLog) -> Self {
        Conclusion {
            title: &l.title,
            when: &l.when,
            evidence: &l.evidence,
            fix: l.verify.iter().chain(&l.fix).collect(),
            confidence: l.confidence,
            basis: Basis::LogOnly,
        }
    }
}

/// What a diagnosis rests on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The rule's own conditions held (host facts, log facts, or both).
    #[default]
    Host,
    /// Only the log: the host facts that would confirm it could not be observed.
    LogOnly,
}

/// A conclusion the log suggested and the host's observed facts refuted.
#[derive(Clone, Debug, Serialize)]
pub struct Withdrawn {
    pub id: String,
    pub title: String,
    pub why: String,
    pub evidence: Vec<Evidence>,
}

/// The log path of a rule whose own conditions did not hold: a log-only diagnosis when the
/// host could not be checked, a withdrawn conclusion when it could.
fn evaluate_from_log(r: &LoadedRule, facts: &FactSet, outcome: &mut Outcome) -> (Vec<Diagnosis>, Option<Withdrawn>) {
    if r.rule.from_log.is_empty() || !matches!(outcome.status, Status::Skipped | Status::Passed) {
        return (Vec::new(), None);
    }
    let mut diags: Vec<Diagnosis> = Vec::new();
    for l in &r.rule.from_log {
        let mut sols = Vec::new();
        let found =
            matcher::solve(&l.when, facts, &Binding::default(), &mut sols).and_then(|_| diagnose(r, facts, &sols, &Conclusion::of_log(l)));
        match found {
            Ok(ds) => {
                for d in ds {
                    if !diags.iter().any(|x| x.title == d.title) {
                        diags.push(d);
                    }
                }
            }
            Err(e) => {
                *outcome =
                    Outcome { rule: r.rule.id.clone(), status: Status::Error, detail: format!("from_log: {e}"), missing: Vec::new() };
                return (Vec::new(), None);
            }
        }
    }
    if diags.is_empty() {
        return (Vec::new(), None);
    }
    if outcome.status == Status::Skipped {
        outcome.status = Status::Fired;
        outcome.detail = format!("{} conclusion(s) from the log only", diags.len());
        return (diags, None);
    }
    // Passed: the host was observed and the rule's conditions did not hold there.
    outcome.detail = "the log suggested it; the host's observed facts refute it".to_string();
    let w = diags.into_iter().next().map(|d| Withdrawn {
        id: d.id,
        title: d.title,
        why: "the host's facts were observed and do not show it (the rule's own conditions did not hold)".to_string(),
        evidence: d.evidence.into_iter().filter(|e| e.source != "mailsleuth").take(3).collect(),
    });
    (Vec::new(), w)
}

fn diagnose(r: &LoadedRule, facts: &FactSet, sols: &[Binding], c: &Conclusion<'_>) -> Result<Vec<Diagnosis>, String> {
    let rule = &r.rule;
    let specificity: usize = c.when.iter().map(|c| c.weight()).sum();
    let optional = optional_names(c.when);
    let mut out: Vec<Diagnosis> = Vec::new();
    for b in sols {
        let title = render(c.title, facts, b, false)?;
        let mut evidence = Vec::new();
        let mut strength = 0;
        for &i in &b.matched {
            let f = facts.get(i);
            strength += fact_strength(f);
            push_fact_evidence(&mut evidence, f);
        }
        strength += b.supporting.iter().map(|&i| fact_strength(facts.get(i))).sum::<u32>();
        for t in c.evidence {
            // A sentence citing an Optional fact that is absent is left out, not an error.
            if let Ok(text) = render(t, facts, b, false) {
                evidence.push(Evidence::new("mailsleuth", text));
            }
        }
        let mut fix = Vec::new();
        for t in &c.fix {
            match render(t, facts, b, true) {
                Ok(cmd) => fix.push(cmd),
                // A command citing an Optional fact that is absent is left out, like an
                // evidence sentence; any other missing value is a rule defect.
                Err(_) if cites_unbound_optional(t, &optional, b) => {}
                Err(e) => return Err(e),
            }
        }
        let (mut sigs, mut fails) = (Vec::new(), Vec::new());
        for &i in b.matched.iter().chain(&b.supporting) {
            let f = facts.get(i);
            if f.kind == "delivery_failure" && !fails.contains(&i) {
                fails.push(i);
            }
            for sig in f.log_signatures() {
                if !sigs.iter().any(|x: &String| x == sig) {
                    sigs.push(sig.to_string());
                }
            }
        }
        if let Some(existing) = out.iter_mut().find(|d| d.title == title) {
            // Same conclusion reached through other facts: one diagnosis, more evidence.
            for e in evidence {
                if !existing.evidence.contains(&e) {
                    existing.evidence.push(e);
                }
            }
            existing.strength = existing.strength.max(strength);
            for x in sigs {
                if !existing.covers_signatures.contains(&x) {
                    existing.covers_signatures.push(x);
                }
            }
            for x in fails {
                if !existing.covers_failures.contains(&x) {
                    existing.covers_failures.push(x);
                }
            }
            continue;
        }
        out.push(Diagnosis {
            id: rule.id.clone(),
            rank: 0,
            kind: rule.kind,
            severity: rule.severity,
            confidence: c.confidence,
            basis: c.basis,
            title,
            description: rule.description.trim().to_string(),
            evidence,
            fix,
            explains: Vec::new(),
            explained_by: Vec::new(),
            references: rule.references.clone(),
            priority: rule.priority,
            specificity,
            strength,
            covers_signatures: sigs,
            covers_failures: fails,
            explains_failures: 0,
            latent: false,
        });
    }
    Ok(out)
}

/// Aliases and variables some solutions leave unbound: those bound only inside `Optional`
/// conditions or by some of an `Any`'s alternatives.
fn optional_names(when: &[crate::kb::rule::Condition]) -> std::collections::BTreeSet<String> {
    use crate::kb::rule::{Condition, Test};
    use std::collections::BTreeSet;
    /// (always bound, sometimes bound) by a condition.
    fn bound(c: &Condition) -> (BTreeSet<String>, BTreeSet<String>) {
        match c {
            Condition::Match { alias, tests, .. } => {
                let mut out: BTreeSet<String> = alias.iter().cloned().collect();
                for t in tests.values() {
                    if let Test::Eq(Operand::Ref(v)) = t {
                        if !v.contains('.') {
                            out.insert(v.clone());
                        }
                    }
                }
                (out, BTreeSet::new())
            }
            Condition::Any(cs) => {
                let parts: Vec<_> = cs.iter().map(bound).collect();
                let all: BTreeSet<String> = parts.iter().flat_map(|(a, m)| a.iter().chain(m)).cloned().collect();
                let common = parts.iter().map(|(a, _)| a.clone()).reduce(|x, y| &x & &y).unwrap_or_default();
                let maybe = &all - &common;
                (common, maybe)
            }
            Condition::Optional(c) => {
                let (a, m) = bound(c);
                (BTreeSet::new(), &a | &m)
            }
            Condition::All(cs) => {
                let (mut a, mut m) = (BTreeSet::new(), BTreeSet::new());
                for c in cs {
                    let (x, y) = bound(c);
                    a.extend(x);
                    m.extend(y);
                }
                let m = &m - &a;
                (a, m)
            }
            Condition::Not(_) => Default::default(),
        }
    }
    let (mut always, mut maybe) = (BTreeSet::new(), BTreeSet::new());
    for c in when {
        let (a, m) = bound(c);
        always.extend(a);
        maybe.extend(m);
    }
    &maybe - &always
}

/// Whether a template cites an `Optional` alias or variable that this solution did not bind.
fn cites_unbound_optional(t: &str, optional: &std::collections::BTreeSet<String>, b: &Binding) -> bool {
    let Ok(pieces) = template::parse(t) else { return false };
    pieces.iter().any(|p| match p {
        template::Piece::Ref { path, .. } => {
            let name = path.split('.').next().unwrap_or(path);
            optional.contains(name) && !b.aliases.contains_key(name) && !b.vars.contains_key(name)
        }
        template::Piece::Text(_) => false,
    })
}

fn push_fact_evidence(out: &mut Vec<Evidence>, f: &Fact) {
    let n = f.evidence.len();
    // The first few and the last: where it started and that it is still going on.
    let shown: Vec<&Evidence> = if n <= EVIDENCE_PER_FACT {
        f.evidence.iter().collect()
    } else {
        f.evidence[..EVIDENCE_PER_FACT - 1].iter().chain(f.evidence.last()).collect()
    };
    let more = f.more_evidence + (n - shown.len()) as u64;
    let last = shown.len().saturating_sub(1);
    for (i, e) in shown.iter().enumerate() {
        if i == last && more > 0 && n > 1 {
            let src = e.source.rsplit_once(':').map(|(p, _)| p.to_string()).unwrap_or_else(|| e.source.clone());
            out.push(Evidence::new(src, format!("… {more} more like these ({} in all) …", more + shown.len() as u64)));
        }
        if !out.contains(e) {
            out.push((*e).clone());
        }
    }
    if more > 0 && n <= 1 {
        out.push(Evidence::new(f.evidence.first().map(|e| e.source.clone()).unwrap_or_default(), format!("… and {more} more like this")));
    }
}

/// Evidence weight: log lines by their severity (DEBUG_README's order of trust: panic >
/// fatal > error > warning), one point for any other observed fact.
fn fact_strength(f: &Fact) -> u32 {
    match f.get("severity").and_then(Value::as_str) {
        Some("panic") => 5,
        Some("fatal") => 4,
        Some("error") => 3,
        Some("warning") => 2,
        _ => 1,
    }
}
