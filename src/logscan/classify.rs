//! The reference classifier (the oracle): a line against every signature, with its
//! captures, the slow and obvious way. `logs classify` and the samples use it; the fast
//! matcher is tested to give the same answer.

use super::line::{split_syslog, LogLine, MAX_LINE};
use crate::kb::signature::Signature;
use std::collections::BTreeMap;

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
