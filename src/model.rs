//! The fact model: `Value`, `Fact` with its `Evidence`, `FactSet` with its `Unavailable`
//! records, and `KindSpec` (a fact kind's declared fields). Types only: producing facts is
//! `facts/`'s job, deciding on them the engine's.
//!
//! A fact is a kind plus named fields, like a row of a relation
//! (`path_stat {path: "/tmp", mode: 0o700, owner: "root"}`), with the evidence that proves
//! it (the stat line, the config line, the log lines with file:line).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// A field value. Integers cover sizes, counts, uids and file modes; lists hold
/// membership data such as the components of `mydestination`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
}

impl Value {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    /// Equality that treats `1` and `1.0` as equal, as an admin would.
    pub fn loosely_equals(&self, other: &Value) -> bool {
        match (self.as_f64(), other.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => self == other,
        }
    }
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "bool",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::List(_) => "list",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::List(l) => {
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}
impl From<u64> for Value {
    fn from(i: u64) -> Self {
        Value::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// One piece of proof: what the admin would see (`text`) and where it is (`source`:
/// `stat /tmp`, `/var/log/mail.log:1234`, `/etc/postfix/main.cf:12`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    pub source: String,
    pub text: String,
}

impl Evidence {
    pub fn new(source: impl Into<String>, text: impl Into<String>) -> Self {
        Evidence { source: source.into(), text: text.into() }
    }
}

/// A fact: a row of relation `kind`, with the evidence behind it and links to the
/// observations (by id) it was parsed from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    pub kind: String,
    pub fields: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// How many more pieces of evidence exist beyond those kept (log lines are sampled).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more_evidence: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<u32>,
    /// Set on facts concluded by a rule: the rule's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_by: Option<String>,
    /// Log signatures a concluded fact rests on (inherited from the facts its rule matched),
    /// so that a diagnosis built on it is known to explain those signatures' failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Fact {
    /// The log signatures this fact is, names or rests on: a `log_signature`'s id, the
    /// signature of a `log_sample`, `log_values` or `delivery_failure`, and what a concluded
    /// fact inherited.
    pub fn log_signatures(&self) -> impl Iterator<Item = &str> {
        let own = match self.kind.as_str() {
            "log_signature" | "log_sample" => self.get("id"),
            "log_values" | "delivery_failure" => self.get("signature"),
            _ => None,
        };
        own.and_then(Value::as_str).filter(|s| !s.is_empty()).into_iter().chain(self.signatures.iter().map(String::as_str))
    }

    pub fn new(kind: &str) -> Self {
        Fact {
            kind: kind.to_string(),
            fields: BTreeMap::new(),
            evidence: Vec::new(),
            more_evidence: 0,
            observations: Vec::new(),
            derived_by: None,
            signatures: Vec::new(),
        }
    }
    pub fn with(mut self, name: &str, v: impl Into<Value>) -> Self {
        self.fields.insert(name.to_string(), v.into());
        self
    }
    pub fn set(&mut self, name: &str, v: impl Into<Value>) {
        self.fields.insert(name.to_string(), v.into());
    }
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }
    pub fn evidence(mut self, source: impl Into<String>, text: impl Into<String>) -> Self {
        self.evidence.push(Evidence::new(source, text));
        self
    }
    pub fn from_observation(mut self, id: u32) -> Self {
        if !self.observations.contains(&id) {
            self.observations.push(id);
        }
        self
    }
    /// A one-line rendering for `mailsleuth facts` and `--explain`.
    pub fn summary(&self) -> String {
        let mut s = format!("{} {{", self.kind);
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            match v {
                Value::Str(x) => s.push_str(&format!(" {k}: {x:?}")),
                Value::Int(n) if k == "mode" => s.push_str(&format!(" {k}: 0o{n:o}")),
                _ => s.push_str(&format!(" {k}: {v}")),
            }
        }
        s.push_str(" }");
        s
    }
}

/// Something that could not be observed, and which fact kind is therefore incomplete.
/// Rules reading that kind that do not fire are reported as *skipped*, never as fine.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unavailable {
    /// The fact kind left incomplete.
    pub kind: String,
    /// What was not seen: `stat /var/spool/postfix`, `postqueue -j`.
    pub what: String,
    /// Why: `permission denied`, `not run: --root`, `timed out after 5 s`.
    pub why: String,
}

/// Counters the report shows so that "nothing found" is never confused with "nothing read".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadStats {
    pub log_files: u64,
    pub log_lines: u64,
    pub log_lines_skipped: u64,
    pub log_lines_matched: u64,
    /// Lines read but outside the time window (`--since`/`--until`; default: the last 24 h).
    #[serde(default)]
    pub log_lines_outside_window: u64,
    /// The window applied, on the log's clock (`2026-11-23 08:15:05`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_window_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_window_until: Option<String>,
    /// Expired messages in the window whose deferrals were logged before it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub log_expired_without_reason: u64,
}

/// All facts known at a point in time, indexed by kind.
#[derive(Clone, Debug, Default)]
pub struct FactSet {
    facts: Vec<Fact>,
    by_kind: HashMap<String, Vec<usize>>,
    pub unavailable: Vec<Unavailable>,
    pub stats: ReadStats,
}

impl FactSet {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&mut self, fact: Fact) -> usize {
        let i = self.facts.len();
        self.by_kind.entry(fact.kind.clone()).or_default().push(i);
        self.facts.push(fact);
        i
    }
    pub fn extend(&mut self, facts: impl IntoIterator<Item = Fact>) {
        for f in facts {
            self.push(f);
        }
    }
    pub fn unavailable(&mut self, kind: &str, what: impl Into<String>, why: impl Into<String>) {
        let u = Unavailable { kind: kind.to_string(), what: what.into(), why: why.into() };
        if !self.unavailable.contains(&u) {
            self.unavailable.push(u);
        }
    }
    pub fn get(&self, i: usize) -> &Fact {
        &self.facts[i]
    }
    pub fn all(&self) -> &[Fact] {
        &self.facts
    }
    pub fn indices_of(&self, kind: &str) -> &[usize] {
        self.by_kind.get(kind).map(Vec::as_slice).unwrap_or(&[])
    }
    pub fn of_kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a Fact> + 'a {
        self.indices_of(kind).iter().map(move |&i| &self.facts[i])
    }
    pub fn unavailable_for(&self, kind: &str) -> Vec<&Unavailable> {
        self.unavailable.iter().filter(|u| u.kind == kind).collect()
    }
    pub fn len(&self) -> usize {
        self.facts.len()
    }
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }
}

/// The type of a declared field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    String,
    Integer,
    Bool,
    List,
}

/// One declared field: name, type, meaning.
pub type FieldSpec = (&'static str, FieldType, &'static str);

/// A fact kind a producer declares: its name, who produces it, what it means, its fields.
#[derive(Debug)]
pub struct KindSpec {
    pub name: &'static str,
    pub producer: &'static str,
    pub doc: &'static str,
    pub fields: &'static [FieldSpec],
}

impl KindSpec {
    pub fn has_field(&self, f: &str) -> bool {
        self.fields.iter().any(|(n, _, _)| *n == f)
    }
}
