//! The RON schema of a rule: conditions over facts with bindings and tests, and what the
//! rule concludes (a derived fact, or a diagnosis with evidence, fixes and references).
//!
//! Variables are written Semgrep-style: `"$user"` in a test binds the field's value the first
//! time it is met and must be equal every later time (a join); `"$tmp.path"` reads a field
//! of the fact bound with `as: "tmp"`. `"$$"` stands for a literal `$`.

use crate::model::Value;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all(serialize = "snake_case"))]
pub enum RuleKind {
    /// Something wrong that explains what the admin sees; gets a fix.
    RootCause,
    /// What the admin sees (deferrals, a growing queue); explained by root causes.
    Symptom,
    /// Concludes a fact for other rules; never shown as a diagnosis.
    Derived,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all(serialize = "snake_case"))]
pub enum Severity {
    Info,
    #[default]
    Warning,
    Error,
    Critical,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `<area>.<name>`, matching the file `rules/<area>/<name>.ron`.
    pub id: String,
    /// One sentence, may interpolate `{alias.field}` / `{var}` (with `|octal`, `|bytes`).
    pub title: String,
    /// For humans: what it detects, why it matters, what to do.
    pub description: String,
    pub kind: RuleKind,
    /// Explicit rank priority (salience); higher first. Default 0.
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub severity: Severity,
    /// How sure the conclusion is when the conditions hold, 0..1.
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    pub when: Vec<Condition>,
    /// Derived rules: the fact to conclude.
    #[serde(default)]
    pub derive: Option<Derive>,
    /// Evidence sentences (templates) shown above the matched facts' own evidence.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Fix command templates; every interpolated value is shell-quoted.
    #[serde(default)]
    pub fix: Vec<String>,
    /// Ids of symptom rules this root cause explains.
    #[serde(default)]
    pub explains: Vec<String>,
    #[serde(default)]
    pub references: Vec<String>,
    /// The log's own path to this conclusion, for when the host facts `when` needs cannot
    /// be observed (a bundle without them, `--root`, a log read alone, a non-root user).
    /// Several paths are allowed: each reads another shape of log evidence.
    #[serde(default)]
    pub from_log: Vec<FromLog>,
    /// The finding is the downstream effect of a process that died (master throttling a
    /// service, "mail transport unavailable"): any other fired root cause whose log evidence
    /// has an error, fatal or panic line logged no later than this finding's first line is
    /// its cause, and explains it ("the most important message is near the BEGINNING",
    /// Postfix's DEBUG_README).
    #[serde(default)]
    pub downstream: bool,
}

/// A rule's conclusion from the log alone. It is used only when `when` did not hold *and*
/// could not be fully checked (a host fact it reads was not observed): the diagnosis is then
/// marked "from the log only", has this block's confidence, and its fix starts with the
/// `verify` commands. When the host facts were observed and `when` did not hold, the host
/// refutes the log: nothing fires, and the report lists the conclusion as withdrawn.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromLog {
    /// The title, over this block's own bindings.
    pub title: String,
    /// Lower than the rule's: the log shows the effect, the host would show the cause.
    #[serde(default = "default_log_confidence")]
    pub confidence: f64,
    /// Conditions over log facts (`delivery_failure`, `log_signature`, `log_sample`, …).
    pub when: Vec<Condition>,
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Commands that check the conclusion on the host, printed before the repair.
    #[serde(default)]
    pub verify: Vec<String>,
    #[serde(default)]
    pub fix: Vec<String>,
}

fn default_confidence() -> f64 {
    0.8
}

fn default_log_confidence() -> f64 {
    0.6
}

impl Rule {
    /// Every condition of the rule: `when`, then `from_log.when`.
    pub fn all_conditions(&self) -> impl Iterator<Item = &Condition> {
        self.when.iter().chain(self.from_log.iter().flat_map(|l| l.when.iter()))
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derive {
    pub fact: String,
    pub fields: BTreeMap<String, Operand>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Condition {
    /// Some fact of kind `fact` passes every test in `where`.
    Match {
        fact: String,
        #[serde(rename = "as", default)]
        alias: Option<String>,
        #[serde(rename = "where", default)]
        tests: BTreeMap<String, Test>,
    },
    /// No solution of the inner condition exists (bindings made inside do not escape).
    Not(Box<Condition>),
    /// At least one of the inner conditions holds (each alternative's bindings are kept).
    Any(Vec<Condition>),
    /// Every inner condition holds, in order, with shared bindings: a conjunction that can
    /// stand as one alternative of `Any` (`Any([All([A, Not(B)]), C])`).
    All(Vec<Condition>),
    /// Binds the inner condition's facts when it holds, and passes without them when not:
    /// supporting evidence that a diagnosis cites if present but does not require. Its
    /// aliases may be used in `evidence` and `fix` templates only (a sentence or command
    /// whose values are unknown is left out).
    Optional(Box<Condition>),
}

impl Condition {
    /// Every (fact kind, negated?) this condition reads.
    pub fn reads(&self, negated: bool, out: &mut Vec<(String, bool)>) {
        match self {
            Condition::Match { fact, .. } => out.push((fact.clone(), negated)),
            Condition::Not(c) => c.reads(true, out),
            Condition::Any(cs) | Condition::All(cs) => cs.iter().for_each(|c| c.reads(negated, out)),
            Condition::Optional(c) => c.reads(negated, out),
        }
    }
    /// The kinds whose absence could change whether the rule holds: every kind read, except
    /// those read only inside `Optional` (they are cited when present, never required).
    pub fn required_reads(&self, out: &mut Vec<String>) {
        match self {
            Condition::Match { fact, .. } => out.push(fact.clone()),
            Condition::Not(c) => c.required_reads(out),
            Condition::Any(cs) | Condition::All(cs) => cs.iter().for_each(|c| c.required_reads(out)),
            Condition::Optional(_) => {}
        }
    }

    /// Number of elementary tests, for ranking by specificity.
    pub fn weight(&self) -> usize {
        match self {
            Condition::Match { tests, .. } => 1 + tests.len(),
            Condition::Not(c) => c.weight(),
            Condition::Any(cs) => cs.iter().map(Condition::weight).min().unwrap_or(0),
            Condition::All(cs) => cs.iter().map(Condition::weight).sum(),
            Condition::Optional(_) => 0,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Test {
    /// Equal; with an unbound `$var` it binds instead.
    Eq(Operand),
    Ne(Operand),
    Lt(Operand),
    Le(Operand),
    Gt(Operand),
    Ge(Operand),
    /// Regular expression (Rust `regex` syntax) against the field as text.
    Matches(Pattern),
    NotMatches(Pattern),
    /// One of the listed values (a string field may also be tested against a list field).
    In(Vec<Operand>),
    NotIn(Vec<Operand>),
    /// A list field contains the value.
    Contains(Operand),
    /// File mode: every one of these bits is set.
    HasBits(u32),
    /// File mode: at least one of these bits is missing (`LacksBits(0o1777)` = "not 1777").
    LacksBits(u32),
    /// File mode: at least one of these bits is set (`AnyBits(0o022)` = group/other writable).
    AnyBits(u32),
    /// File mode: none of these bits is set.
    NoBits(u32),
    /// The field is present.
    Exists,
    /// The field is absent.
    Absent,
}

impl Test {
    pub fn operands(&self) -> Vec<&Operand> {
        match self {
            Test::Eq(o) | Test::Ne(o) | Test::Lt(o) | Test::Le(o) | Test::Gt(o) | Test::Ge(o) | Test::Contains(o) => vec![o],
            Test::In(v) | Test::NotIn(v) => v.iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// A literal value, a reference to a variable (`$user`) or a bound fact's field
/// (`$tmp.path`), or a string template built from them (`"{mb.path}/cur"`).
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Lit(Value),
    Ref(String),
    Template(Vec<super::template::Piece>),
}

impl<'de> Deserialize<'de> for Operand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OperandVisitor)
    }
}

struct OperandVisitor;

impl<'de> Visitor<'de> for OperandVisitor {
    type Value = Operand;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number, boolean, list, or a \"$variable\" reference")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Operand, E> {
        Ok(Operand::Lit(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Operand, E> {
        Ok(Operand::Lit(Value::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Operand, E> {
        i64::try_from(v).map(|i| Operand::Lit(Value::Int(i))).map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Operand, E> {
        Ok(Operand::Lit(Value::Float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Operand, E> {
        if let Some(rest) = v.strip_prefix("$$") {
            return Ok(Operand::Lit(Value::Str(format!("${rest}"))));
        }
        match v.strip_prefix('$') {
            Some(name) if is_ref(name) => Ok(Operand::Ref(name.to_string())),
            Some(_) => Err(E::custom(format!("invalid variable reference {v:?}: use $name or $alias.field (letters, digits, _)"))),
            None if v.contains('{') || v.contains('}') => {
                let pieces = super::template::parse(v).map_err(E::custom)?;
                if pieces.iter().any(|p| matches!(p, super::template::Piece::Ref { .. })) {
                    Ok(Operand::Template(pieces))
                } else {
                    Ok(Operand::Lit(Value::Str(
                        pieces.iter().map(|p| if let super::template::Piece::Text(t) = p { t.as_str() } else { "" }).collect(),
                    )))
                }
            }
            None => Ok(Operand::Lit(Value::Str(v.to_string()))),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Operand, A::Error> {
        let mut out = Vec::new();
        while let Some(o) = seq.next_element::<Operand>()? {
            match o {
                Operand::Lit(v) => out.push(v),
                _ => return Err(de::Error::custom("a list value cannot hold references or templates")),
            }
        }
        Ok(Operand::Lit(Value::List(out)))
    }
    fn visit_map<A: MapAccess<'de>>(self, _m: A) -> Result<Operand, A::Error> {
        Err(de::Error::custom("expected a value, found a map"))
    }
}

fn is_ref(name: &str) -> bool {
    let mut parts = name.split('.');
    let ok = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let n = name.split('.').count();
    n <= 2 && parts.all(ok)
}

/// A compiled regular expression; an invalid one fails at load time with the file position.
#[derive(Clone, Debug)]
pub struct Pattern(pub regex::Regex);

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        regex::Regex::new(&s).map(Pattern).map_err(|e| de::Error::custom(format!("invalid regex {s:?}: {}", one_line(&e.to_string()))))
    }
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
