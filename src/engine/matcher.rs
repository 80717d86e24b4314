//! Matching rule conditions against the fact set: a small backtracking join over facts,
//! with Semgrep-style variables (`"$user"` binds once, then must agree), negation and
//! alternatives. Pure: it reads facts and returns bindings.

use crate::kb::rule::{Condition, Operand, Test};
use crate::model::{Fact, FactSet, Value};
use std::collections::BTreeMap;

/// One way the conditions hold: variable values, aliases (→ fact index), matched facts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Binding {
    pub vars: BTreeMap<String, Value>,
    pub aliases: BTreeMap<String, usize>,
    /// Indices of the facts matched by positive conditions, in condition order.
    pub matched: Vec<usize>,
    /// Facts matched inside `Optional` conditions: cited by evidence sentences, not listed.
    pub supporting: Vec<usize>,
}

impl Binding {
    pub fn lookup(&self, facts: &FactSet, path: &str) -> Option<Value> {
        match path.split_once('.') {
            Some((alias, field)) => self.aliases.get(alias).and_then(|&i| facts.get(i).get(field)).cloned(),
            None => self.vars.get(path).cloned(),
        }
    }
}

/// Solutions are capped: a rule joining large relations must not explode.
pub const MAX_SOLUTIONS: usize = 200;

pub fn solve(conds: &[Condition], facts: &FactSet, b: &Binding, out: &mut Vec<Binding>) -> Result<(), String> {
    if out.len() >= MAX_SOLUTIONS {
        return Ok(());
    }
    let Some((first, rest)) = conds.split_first() else {
        if !out.contains(b) {
            out.push(b.clone());
        }
        return Ok(());
    };
    match first {
        Condition::Match { fact, alias, tests } => {
            for &i in facts.indices_of(fact) {
                if let Some(mut nb) = test_fact(facts, facts.get(i), tests, b)? {
                    if let Some(a) = alias {
                        nb.aliases.insert(a.clone(), i);
                    }
                    nb.matched.push(i);
                    solve(rest, facts, &nb, out)?;
                }
            }
        }
        Condition::Not(inner) => {
            let mut tmp = Vec::new();
            solve(std::slice::from_ref(inner.as_ref()), facts, b, &mut tmp)?;
            if tmp.is_empty() {
                solve(rest, facts, b, out)?;
            }
        }
        Condition::Optional(inner) => {
            let mut partial = Vec::new();
            solve(std::slice::from_ref(inner.as_ref()), facts, b, &mut partial)?;
            if partial.is_empty() {
                solve(rest, facts, b, out)?;
            }
            for mut p in partial {
                let extra: Vec<usize> = p.matched.drain(b.matched.len()..).collect();
                p.supporting.extend(extra);
                solve(rest, facts, &p, out)?;
            }
        }
        Condition::All(parts) => {
            let mut partial = Vec::new();
            solve(parts, facts, b, &mut partial)?;
            for p in partial {
                solve(rest, facts, &p, out)?;
            }
        }
        Condition::Any(alts) => {
            for alt in alts {
                let mut partial = Vec::new();
                solve(std::slice::from_ref(alt), facts, b, &mut partial)?;
                for p in partial {
                    solve(rest, facts, &p, out)?;
                }
            }
        }
    }
    Ok(())
}

/// Test one fact; `Ok(None)` if a test fails, `Err` on a type error (a rule defect).
pub fn test_fact(facts: &FactSet, fact: &Fact, tests: &BTreeMap<String, Test>, b: &Binding) -> Result<Option<Binding>, String> {
    let mut nb = b.clone();
    for (field, t) in tests {
        match check(facts, fact.get(field), t, &mut nb).map_err(|e| format!("{}.{field}: {e}", fact.kind))? {
            Verdict::Pass => {}
            Verdict::Fail(_) => return Ok(None),
        }
    }
    Ok(Some(nb))
}

/// Why a test failed, for `--explain`.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Pass,
    Fail(String),
}

fn resolve(facts: &FactSet, op: &Operand, b: &Binding) -> Result<Value, String> {
    match op {
        Operand::Lit(v) => Ok(v.clone()),
        Operand::Ref(r) => b.lookup(facts, r).ok_or_else(|| format!("${r} has no value")),
        Operand::Template(pieces) => crate::kb::template::render(pieces, &|p: &str| b.lookup(facts, p), false).map(Value::Str),
    }
}

fn num(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64().ok_or_else(|| format!("{what} is a {}, not a number", v.type_name()))
}

fn bits(v: &Value) -> Result<u32, String> {
    v.as_i64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| format!("a mode test needs an integer, found a {}", v.type_name()))
}

/// Evaluate one test against a field value (None: the fact lacks the field).
pub fn check(facts: &FactSet, field: Option<&Value>, t: &Test, b: &mut Binding) -> Result<Verdict, String> {
    use Verdict::*;
    let v = match (field, t) {
        (None, Test::Absent) => return Ok(Pass),
        (None, _) => return Ok(Fail("field is absent".into())),
        (Some(_), Test::Absent) => return Ok(Fail("field is present".into())),
        (Some(_), Test::Exists) => return Ok(Pass),
        (Some(v), _) => v,
    };
    let ok = |c: bool, why: String| if c { Pass } else { Fail(why) };
    Ok(match t {
        Test::Eq(Operand::Ref(r)) if !r.contains('.') && !b.vars.contains_key(r) => {
            b.vars.insert(r.clone(), v.clone());
            Pass
        }
        Test::Eq(op) => {
            let want = resolve(facts, op, b)?;
            ok(v.loosely_equals(&want), format!("{v} ≠ {want}"))
        }
        Test::Ne(op) => {
            let want = resolve(facts, op, b)?;
            ok(!v.loosely_equals(&want), format!("{v} = {want}"))
        }
        Test::Lt(op) | Test::Le(op) | Test::Gt(op) | Test::Ge(op) => {
            let want = resolve(facts, op, b)?;
            let (x, y) = (num(v, "the field")?, num(&want, "the operand")?);
            let (holds, sym) = match t {
                Test::Lt(_) => (x < y, "<"),
                Test::Le(_) => (x <= y, "≤"),
                Test::Gt(_) => (x > y, ">"),
                _ => (x >= y, "≥"),
            };
            ok(holds, format!("{v} is not {sym} {want}"))
        }
        Test::Matches(p) => ok(p.0.is_match(&v.to_string()), format!("{v:?} does not match /{}/", p.0.as_str())),
        Test::NotMatches(p) => ok(!p.0.is_match(&v.to_string()), format!("{v:?} matches /{}/", p.0.as_str())),
        Test::In(ops) | Test::NotIn(ops) => {
            let mut found = false;
            for op in ops {
                if v.loosely_equals(&resolve(facts, op, b)?) {
                    found = true;
                    break;
                }
            }
            let want_in = matches!(t, Test::In(_));
            ok(found == want_in, if want_in { format!("{v} is not in the list") } else { format!("{v} is in the list") })
        }
        Test::Contains(op) => {
            let want = resolve(facts, op, b)?;
            let found = match v {
                Value::List(l) => l.iter().any(|x| x.loosely_equals(&want)),
                Value::Str(s) => s.contains(&want.to_string()),
                _ => return Err(format!("Contains needs a list or string field, found a {}", v.type_name())),
            };
            ok(found, format!("{v} does not contain {want}"))
        }
        Test::HasBits(m) => {
            let mode = bits(v)?;
            ok(mode & m == *m, format!("mode {mode:04o} lacks some of {m:04o}"))
        }
        Test::LacksBits(m) => {
            let mode = bits(v)?;
            ok(mode & m != *m, format!("mode {mode:04o} has all of {m:04o}"))
        }
        Test::AnyBits(m) => {
            let mode = bits(v)?;
            ok(mode & m != 0, format!("mode {mode:04o} has none of {m:04o}"))
        }
        Test::NoBits(m) => {
            let mode = bits(v)?;
            ok(mode & m == 0, format!("mode {mode:04o} has some of {m:04o}"))
        }
        Test::Exists | Test::Absent => Pass,
    })
}
