//! The reference classifier (the oracle): a line against every signature, with its
//! captures, the slow and obvious way. `logs classify` and the samples use it; the fast
//! matcher is tested to give the same answer.
//!
//! [`read_line`] is the layered classifier of `logs classify`: the exact signatures first;
//! then the programs' default readings (`layer: Program` entries of the catalogue, ids
//! `generic.<program>.*`); then the structure of the line alone (`reason::read_problem`:
//! a failed status, a reject, the severity word, the errno, the RFC 3463 code). The scan of
//! `why` and `logs stats` uses the exact signatures only, so rules and `logs unknown` see
//! exactly what the catalogue knows.

use super::line::{split_syslog, LogLine, MAX_LINE};
use super::reason;
use crate::kb::signature::{Layer, LogSeverity, Signature};
use std::collections::BTreeMap;

/// What the layered classifier made of a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    pub id: String,
    pub category: String,
    pub severity: LogSeverity,
    pub layer: Layer,
    pub captures: BTreeMap<String, String>,
}

impl Reading {
    fn of(s: &Signature, captures: BTreeMap<String, String>) -> Reading {
        Reading { id: s.id.clone(), category: s.category.clone(), severity: s.severity, layer: s.layer, captures }
    }
}

/// `id [category]`, and the layer when a generic one decided: `logs classify`'s human line.
pub fn label(r: &Reading) -> String {
    match r.layer {
        Layer::Signature => format!("{} [{}]", r.id, r.category),
        l => format!("{} [{}] ({} layer)", r.id, r.category, l.as_str()),
    }
}

/// The layered reading of one raw line: an exact signature, else the program's default
/// reading, else the structure. `None`: a line no layer takes for a problem or knows as routine.
pub fn read_line(sigs: &[Signature], families: &[Signature], raw: &str) -> Option<Reading> {
    if raw.len() > MAX_LINE || raw.contains('\0') {
        return None;
    }
    let line = split_syslog(raw);
    let exact = classify(sigs, &line);
    match &exact {
        Some((s, _)) if !is_family(s) || s.category == "ok" => return exact.map(|(s, c)| Reading::of(s, c)),
        _ => {}
    }
    // No exact signature, or only a family one (`postfix.warning`, `postfix.fatal`,
    // `postfix.deferred`): what failed decides, when a later layer can tell.
    let generic = generic_reading(families, &line, raw);
    match (exact, generic) {
        (Some((s, c)), Some((g, names_cause)))
            if !names_cause || matches!(g.category.as_str(), "other" | "ok") || g.category == s.category =>
        {
            Some(Reading::of(s, c))
        }
        (_, Some((g, _))) => Some(g),
        (e, None) => e.map(|(s, c)| Reading::of(s, c)),
    }
}

/// The same threshold as the scan's: signatures of this priority or lower name a family of
/// lines (a severity, a status, a remote 4xx/5xx), not one message.
const FAMILY_PRIORITY: i32 = 2;

fn is_family(s: &Signature) -> bool {
    s.priority <= FAMILY_PRIORITY
}

/// The program layer, then the structure layer; and whether the reading names what failed
/// (a program reading or words, an errno) rather than only how badly (a code, a severity).
fn generic_reading(families: &[Signature], line: &LogLine<'_>, raw: &str) -> Option<(Reading, bool)> {
    let message = match (line.timestamp, line.pid, line.program) {
        // A bare `word: text` (`warning: …`, `Fatal: …`) is a message, not a tag.
        (_, None, Some(p)) if !p.contains('/') && reason::severity(&format!("{p}: ")).is_some() => raw_from(raw, p),
        _ => line.message,
    };
    let program = line.program.filter(|p| reason::severity(&format!("{p}: ")).is_none());
    if let Some((s, c)) = program_reading(families, program, message) {
        return Some((Reading::of(s, c), true));
    }
    let p = reason::read_problem(program, message)?;
    let severity = match p.severity {
        Some(reason::Severity::Panic) => LogSeverity::Panic,
        Some(reason::Severity::Fatal) => LogSeverity::Fatal,
        Some(reason::Severity::Error) => LogSeverity::Error,
        Some(reason::Severity::Warning) => LogSeverity::Warning,
        None => LogSeverity::Error,
    };
    let reading = Reading { id: p.id, category: p.category.to_string(), severity, layer: Layer::Structure, captures: BTreeMap::new() };
    Some((reading, p.basis.names_the_cause()))
}

/// The best program reading: highest priority, then catalogue order. Unlike an exact
/// signature, a reading that names programs applies only to lines those programs tagged: a
/// program's catch-all must not read another program's lines (or tagless ones).
fn program_reading<'k>(
    families: &'k [Signature],
    program: Option<&str>,
    message: &str,
) -> Option<(&'k Signature, BTreeMap<String, String>)> {
    let mut best: Option<(&Signature, BTreeMap<String, String>)> = None;
    for s in families {
        let applies = s.programs.is_empty() || program.is_some_and(|p| s.applies_to(Some(p)));
        if !applies || best.as_ref().is_some_and(|(b, _)| b.priority >= s.priority) {
            continue;
        }
        if let Some(c) = s.captures(message) {
            best = Some((s, c));
        }
    }
    best
}

/// The rest of `raw` from where the tag `p` starts (the tag is then part of the message).
fn raw_from<'a>(raw: &'a str, p: &str) -> &'a str {
    raw.find(p).map_or(raw, |i| &raw[i..])
}

/// The best signature for a line: highest priority, then catalogue order.
///
/// A bare `word: text` line (no time stamp, no pid, no path in the "tag") is ambiguous: it may
/// be a message that starts with a Postfix severity or a function name (`warning: ...`,
/// `fatal: ...`, `lookup_sql: ...`, as `journalctl -o cat` and test corpora show them) rather
/// than a syslog tag. Such a line is also tried whole, as a line without a tag; the tagged
/// reading wins ties.
pub fn classify<'k>(sigs: &'k [Signature], line: &LogLine<'_>) -> Option<(&'k Signature, BTreeMap<String, String>)> {
    let best = best_match(sigs, line.program, line.message);
    match (line.timestamp, line.pid, line.program) {
        (None, None, Some(p)) if !p.contains('/') => {
            let whole = format!("{p}: {}", line.message);
            match (best, best_match(sigs, None, &whole)) {
                (Some(b), Some(w)) if w.0.priority > b.0.priority => Some(w),
                (None, w) => w,
                (b, _) => b,
            }
        }
        _ => best,
    }
}

fn best_match<'k>(sigs: &'k [Signature], program: Option<&str>, message: &str) -> Option<(&'k Signature, BTreeMap<String, String>)> {
    let mut best: Option<(&Signature, BTreeMap<String, String>)> = None;
    for s in sigs {
        if !s.applies_to(program) {
            continue;
        }
        if best.as_ref().is_some_and(|(b, _)| b.priority >= s.priority) {
            continue;
        }
        if let Some(c) = s.captures(message) {
            best = Some((s, c));
        }
    }
    best
}

/// Classify one raw line (with or without a syslog prefix). Over-long lines and lines with
/// NUL bytes are not classified.
pub fn classify_line<'k>(sigs: &'k [Signature], raw: &str) -> Option<(&'k Signature, BTreeMap<String, String>)> {
    if raw.len() > MAX_LINE || raw.contains('\0') {
        return None;
    }
    classify(sigs, &split_syslog(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(id: &str, priority: i32, regex: &str) -> Signature {
        Signature {
            id: id.into(),
            programs: vec![],
            literal: None,
            regex: crate::kb::rule::Pattern(regex::Regex::new(regex).unwrap()),
            category: "other".into(),
            severity: Default::default(),
            meaning: String::new(),
            priority,
            layer: Layer::Signature,
            examples: vec![],
        }
    }

    #[test]
    fn a_bare_severity_prefix_is_also_read_as_part_of_the_message() {
        let sigs = [sig("t.anvil", 10, r"warning: Connection rate limit exceeded"), sig("t.any", 0, r"^Connection")];
        let id = |l: &str| classify_line(&sigs, l).map(|(s, _)| s.id.clone());
        // `warning` is taken for a tag by the splitter; the whole line is tried too.
        assert_eq!(id("warning: Connection rate limit exceeded: 3 from x[192.0.2.1] for service smtp").as_deref(), Some("t.anvil"));
        // With a time stamp or a pid it is a real tag: only the message is matched.
        assert_eq!(id("Nov 23 10:45:29 mx1 warning[1]: Connection rate limit exceeded").as_deref(), Some("t.any"));
    }
}
