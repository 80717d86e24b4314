//! Validation of the knowledge base: what `rules lint` prints and what loading refuses.
//!
//! Errors (the knowledge base is not used): unknown fact kinds or fields (with a
//! did-you-mean), variables used before they are bound, broken templates, duplicate ids,
//! ids that do not match their file, `explains` naming a rule that is not a symptom.
//! Warnings: a variable bound once and never used (usually a typo of another), a root cause
//! without fix or references. Cycles are found by the engine's graph.

use super::rule::{Condition, Operand, RuleKind, Test};
use super::template::{self, Piece};
use super::{DerivedKind, KbError, Knowledge, LoadedRule};
use crate::text::did_you_mean;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LintDiag {
    pub error: bool,
    pub file: String,
    pub rule: String,
    pub message: String,
}

impl LintDiag {
    pub fn into_error(self) -> KbError {
        KbError::at(&self.file, format!("rule {}: {}", self.rule, self.message))
    }
}

impl std::fmt::Display for LintDiag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = if self.error { "error" } else { "warning" };
        write!(f, "{level}: {}: rule {}: {}", self.file, self.rule, self.message)
    }
}

pub fn derived_kinds(k: &Knowledge) -> BTreeMap<String, DerivedKind> {
    let mut out: BTreeMap<String, DerivedKind> = BTreeMap::new();
    for r in &k.rules {
        if let Some(d) = &r.rule.derive {
            let e = out.entry(d.fact.clone()).or_default();
            e.fields.extend(d.fields.keys().cloned());
            e.producers.push(r.rule.id.clone());
        }
    }
    out
}

/// Every problem in the knowledge base (errors and warnings), sorted.
pub fn check(k: &Knowledge) -> Vec<LintDiag> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &k.rules {
        if let Some(first) = seen.insert(&r.rule.id, &r.file) {
            out.push(diag(true, r, format!("duplicate rule id (also defined in {first})")));
        }
        RuleLint { k, r, out: &mut out, uses: BTreeMap::new() }.run();
    }
    let both = [(&k.signatures, &k.signature_files, false), (&k.families, &k.family_files, true)];
    for (sigs, files, generic) in both {
        for (i, s) in sigs.iter().enumerate() {
            let file = &files[i];
            let mut err = |message: String| out.push(LintDiag { error: true, file: file.clone(), rule: s.id.clone(), message });
            if !super::signature::CATEGORIES.contains(&s.category.as_str()) {
                let hint = did_you_mean(&s.category, super::signature::CATEGORIES.iter().copied())
                    .map(|h| format!(" (did you mean `{h}`?)"))
                    .unwrap_or_default();
                err(format!("unknown category `{}`{hint}", s.category));
            }
            if s.examples.is_empty() {
                err("signature has no example line".into());
            }
            if sigs[..i].iter().any(|o| o.id == s.id) {
                err("duplicate signature id".into());
            }
            // `generic.*` is how a report tells a program's default reading from an exact one.
            if generic != s.id.starts_with("generic.") {
                err(if generic {
                    "a `layer: Program` reading's id must start with `generic.`"
                } else {
                    "only `layer: Program` readings have `generic.` ids"
                }
                .into());
            }
        }
    }
    out.sort();
    out
}

fn diag(error: bool, r: &LoadedRule, message: String) -> LintDiag {
    LintDiag { error, file: r.file.clone(), rule: r.rule.id.clone(), message }
}

/// What a name is bound to while walking a rule's conditions.
#[derive(Clone, Debug, Default)]
struct Scope {
    /// alias → fact kind
    aliases: BTreeMap<String, String>,
    vars: BTreeSet<String>,
    /// Bound only when an `Optional` held: usable in evidence and fix templates only.
    maybe: Scope2,
}

#[derive(Clone, Debug, Default)]
struct Scope2 {
    aliases: BTreeMap<String, String>,
    vars: BTreeSet<String>,
}

struct RuleLint<'a> {
    k: &'a Knowledge,
    r: &'a LoadedRule,
    out: &'a mut Vec<LintDiag>,
    /// variable → how many times it appears
    uses: BTreeMap<String, usize>,
}

impl RuleLint<'_> {
    fn err(&mut self, m: String) {
        self.out.push(diag(true, self.r, m));
    }
    fn warn(&mut self, m: String) {
        self.out.push(diag(false, self.r, m));
    }

    fn run(mut self) {
        let rule = &self.r.rule;
        self.check_id();
        match (rule.kind, &rule.derive) {
            (RuleKind::Derived, None) => self.err("kind Derived needs `derive: (fact: ..., fields: {...})`".into()),
            (RuleKind::Derived, Some(_)) if !rule.fix.is_empty() || !rule.explains.is_empty() => {
                self.err("a Derived rule concludes a fact: `fix` and `explains` belong on diagnoses".into())
            }
            (RuleKind::RootCause | RuleKind::Symptom, Some(_)) => self.err("only kind Derived may have `derive`".into()),
            _ => {}
        }
        if !(0.0..=1.0).contains(&rule.confidence) {
            self.err(format!("confidence {} is outside 0..1", rule.confidence));
        }
        if rule.when.is_empty() {
            self.err("`when` is empty: a rule needs at least one condition".into());
        }
        if rule.description.trim().is_empty() {
            self.err("`description` is empty: say what it detects, why it matters and what to do".into());
        }
        let mut scope = Scope::default();
        for c in &rule.when {
            self.condition(c, &mut scope);
        }
        if let Some(d) = &rule.derive {
            if self.k.base_kind(&d.fact).is_some() {
                self.err(format!("`derive` concludes `{}`, a kind parsers produce; derived kinds need their own name", d.fact));
            }
            for op in d.fields.values() {
                self.operand_bound(op, &scope);
            }
        }
        let mut templates: Vec<(&str, &str)> = vec![("title", rule.title.as_str())];
        templates.extend(rule.evidence.iter().map(|t| ("evidence", t.as_str())));
        templates.extend(rule.fix.iter().map(|t| ("fix", t.as_str())));
        for (what, t) in templates {
            self.template(what, t, &scope);
        }
        for id in &rule.explains {
            match self.k.rule(id) {
                None => {
                    let hint = did_you_mean(id, self.k.rules.iter().map(|r| r.rule.id.as_str()))
                        .map(|h| format!(" (did you mean `{h}`?)"))
                        .unwrap_or_default();
                    self.err(format!("explains `{id}`, which is not a rule{hint}"));
                }
                Some(o) if o.rule.kind != RuleKind::Symptom => self.err(format!("explains `{id}`, which is not a Symptom rule")),
                _ => {}
            }
        }
        for l in &rule.from_log {
            self.log_path(l);
        }
        if rule.kind == RuleKind::RootCause && rule.fix.is_empty() {
            self.warn("a root cause without `fix` commands".into());
        }
        if rule.kind != RuleKind::Derived && rule.references.is_empty() {
            self.warn("no `references` (Postfix/Dovecot documentation)".into());
        }
        let singles: Vec<String> = self.uses.iter().filter(|(_, n)| **n == 1).map(|(v, _)| v.clone()).collect();
        for v in singles {
            self.warn(format!("variable `${v}` is used only once (a typo of another variable?)"));
        }
    }

    /// The log path: its own conditions and scope, its templates over that scope.
    fn log_path(&mut self, l: &crate::kb::rule::FromLog) {
        if self.r.rule.kind != RuleKind::RootCause {
            self.err("`from_log` belongs on RootCause rules".into());
        }
        if l.when.is_empty() {
            self.err("`from_log.when` is empty".into());
        }
        if !(0.0..=1.0).contains(&l.confidence) {
            self.err(format!("from_log confidence {} is outside 0..1", l.confidence));
        }
        if l.confidence > self.r.rule.confidence {
            self.warn(format!(
                "from_log confidence {} is above the rule's {}: the log alone proves less than the host",
                l.confidence, self.r.rule.confidence
            ));
        }
        let mut scope = Scope::default();
        for c in &l.when {
            self.condition(c, &mut scope);
        }
        let mut templates: Vec<(&str, &str)> = vec![("from_log title", l.title.as_str())];
        templates.extend(l.evidence.iter().map(|t| ("from_log evidence", t.as_str())));
        templates.extend(l.verify.iter().map(|t| ("from_log verify", t.as_str())));
        templates.extend(l.fix.iter().map(|t| ("from_log fix", t.as_str())));
        for (what, t) in templates {
            self.template(what, t, &scope);
        }
        if l.verify.is_empty() {
            self.warn("`from_log` without `verify` commands: say how to confirm it on the host".into());
        }
    }

    fn check_id(&mut self) {
        let id = &self.r.rule.id;
        let ok_chars = id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        let parts: Vec<&str> = id.split('.').collect();
        if !ok_chars || parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
            self.err(format!("id `{id}` must be `<area>.<name>` in lowercase letters, digits and _"));
            return;
        }
        let stem = std::path::Path::new(&self.r.file).file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if stem != parts[1] {
            self.err(format!("id `{id}` does not match its file name: expected `{}.ron`", parts[1]));
        }
    }

    fn condition(&mut self, c: &Condition, scope: &mut Scope) {
        match c {
            Condition::Match { fact, alias, tests } => {
                let Some(fields) = self.k.kind_fields(fact) else {
                    let kinds = self.k.all_kinds();
                    let hint =
                        did_you_mean(fact, kinds.iter().map(String::as_str)).map(|h| format!(" — did you mean `{h}`?")).unwrap_or_default();
                    self.err(format!("reads fact kind `{fact}`, which nothing produces{hint}"));
                    return;
                };
                for (field, test) in tests {
                    if !fields.iter().any(|f| f == field) {
                        let hint = did_you_mean(field, fields.iter().map(String::as_str))
                            .map(|h| format!(" — did you mean `{fact}.{h}`?"))
                            .unwrap_or_default();
                        self.err(format!("tests `{fact}.{field}`, which `{fact}` does not have{hint}"));
                    }
                    self.test(test, scope);
                }
                if let Some(a) = alias {
                    if scope.aliases.insert(a.clone(), fact.clone()).is_some() {
                        self.err(format!("alias `{a}` is bound twice"));
                    }
                    if scope.vars.contains(a) {
                        self.err(format!("`{a}` is both a variable and an alias"));
                    }
                }
            }
            Condition::Not(inner) => {
                let mut inner_scope = scope.clone();
                self.condition(inner, &mut inner_scope);
            }
            Condition::Optional(inner) => {
                let mut inner_scope = scope.clone();
                self.condition(inner, &mut inner_scope);
                for (a, k) in inner_scope.aliases {
                    if !scope.aliases.contains_key(&a) {
                        scope.maybe.aliases.insert(a, k);
                    }
                }
                for v in inner_scope.vars {
                    if !scope.vars.contains(&v) {
                        scope.maybe.vars.insert(v);
                    }
                }
            }
            Condition::Any(alts) => {
                if alts.is_empty() {
                    self.err("`Any([])` can never hold".into());
                    return;
                }
                // Bound by every alternative: usable anywhere after. Bound by some only:
                // like an `Optional`, citable by evidence sentences (left out when unbound).
                let mut common: Option<Scope> = None;
                let mut some = Scope2::default();
                for a in alts {
                    let mut s = scope.clone();
                    self.condition(a, &mut s);
                    some.aliases.extend(s.aliases.iter().map(|(k, v)| (k.clone(), v.clone())));
                    some.vars.extend(s.vars.iter().cloned());
                    some.aliases.extend(s.maybe.aliases.iter().map(|(k, v)| (k.clone(), v.clone())));
                    some.vars.extend(s.maybe.vars.iter().cloned());
                    common = Some(match common {
                        None => s,
                        Some(c) => Scope {
                            aliases: c.aliases.into_iter().filter(|(k, _)| s.aliases.contains_key(k)).collect(),
                            vars: c.vars.intersection(&s.vars).cloned().collect(),
                            maybe: c.maybe,
                        },
                    });
                }
                if let Some(mut c) = common {
                    // Bound by some alternatives only: like an Optional's, citable where a
                    // missing value leaves the sentence or command out.
                    for (a, k) in some.aliases {
                        if !c.aliases.contains_key(&a) {
                            c.maybe.aliases.insert(a, k);
                        }
                    }
                    for v in some.vars {
                        if !c.vars.contains(&v) {
                            c.maybe.vars.insert(v);
                        }
                    }
                    *scope = c;
                }
            }
            Condition::All(parts) => {
                if parts.is_empty() {
                    self.err("`All([])` holds trivially: leave it out".into());
                }
                for p in parts {
                    self.condition(p, scope);
                }
            }
        }
    }

    fn test(&mut self, t: &Test, scope: &mut Scope) {
        match t {
            Test::Eq(Operand::Ref(name)) if !name.contains('.') => {
                *self.uses.entry(name.clone()).or_default() += 1;
                if !scope.aliases.contains_key(name) {
                    scope.vars.insert(name.clone());
                }
            }
            _ => {
                for op in t.operands() {
                    self.operand_bound(op, scope);
                }
            }
        }
    }

    fn operand_bound(&mut self, op: &Operand, scope: &Scope) {
        match op {
            Operand::Ref(name) => self.reference(name, scope, "reference"),
            Operand::Template(pieces) => {
                for p in pieces {
                    if let Piece::Ref { path, .. } = p {
                        self.reference(path, scope, "template operand");
                    }
                }
            }
            Operand::Lit(_) => {}
        }
    }

    fn reference(&mut self, name: &str, scope: &Scope, what: &str) {
        match name.split_once('.') {
            Some((alias, field)) => match scope.aliases.get(alias) {
                None => self.err(format!("{what} `{name}`: `{alias}` is not bound by an earlier `as: \"{alias}\"`")),
                Some(kind) => {
                    let fields = self.k.kind_fields(kind).unwrap_or_default();
                    if !fields.iter().any(|f| f == field) {
                        let hint = did_you_mean(field, fields.iter().map(String::as_str))
                            .map(|h| format!(" — did you mean `{alias}.{h}`?"))
                            .unwrap_or_default();
                        self.err(format!("{what} `{name}`: `{kind}` has no field `{field}`{hint}"));
                    }
                }
            },
            None => {
                *self.uses.entry(name.to_string()).or_default() += 1;
                if !scope.vars.contains(name) {
                    self.err(format!("{what} `{name}` is used before it is bound (bind it with Eq(\"${name}\") first)"));
                }
            }
        }
    }

    fn template(&mut self, what: &str, t: &str, scope: &Scope) {
        // Evidence sentences and fix commands may cite facts bound by an Optional condition
        // (left out when it did not hold).
        let widened;
        let scope = if what.ends_with("evidence") || what.ends_with("fix") || what.ends_with("verify") {
            let mut w = scope.clone();
            w.aliases.extend(scope.maybe.aliases.clone());
            w.vars.extend(scope.maybe.vars.clone());
            widened = w;
            &widened
        } else {
            scope
        };
        match template::parse(t) {
            Err(e) => self.err(format!("{what}: {e}")),
            Ok(pieces) => {
                for p in pieces {
                    if let Piece::Ref { path, .. } = p {
                        self.reference(&path, scope, &format!("{what} template"));
                    }
                }
            }
        }
    }
}
