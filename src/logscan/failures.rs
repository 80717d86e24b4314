//! Failure groups of the log scan: every deferred, bounced and expired message, and every
//! reject, counted under the reason of its failure line, so that the report can say which
//! diagnosis explains which failures and list the rest as unexplained.
//!
//! A reason is grouped by the signature that knows its line; a line no signature knows (or
//! only the catch-all) is grouped by its structure ([`super::reason`]: the delivery agent,
//! the category from DSN code and errno, and the reason's template with ids, numbers,
//! addresses and hosts masked). A message counts once, under its last status and the
//! reason of its last failure (an expired message under the deferral that preceded it).
//! Bounded: at most [`MAX_GROUPS`] groups; later new reasons are counted in one overflow
//! group, never dropped.

use super::reason;

/// Groups kept; past this, new reasons share one overflow group.
pub const MAX_GROUPS: usize = 2_000;
/// What a message's last status was, for the accounting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Deferred,
    Bounced,
    Expired,
}

/// Where a failure line is: segment, line in the segment, and its text.
#[derive(Clone, Copy, Debug)]
pub struct At<'a> {
    pub seg: u32,
    pub line: u64,
    pub raw: &'a str,
}

/// A sample line: segment, line in segment, text.
#[derive(Clone, Debug, Default)]
pub struct Line {
    pub seg: u32,
    pub line: u64,
    pub text: String,
}

#[derive(Clone, Debug, Default)]
pub struct Group {
    /// `sig N` for a signature's lines, `agent|category|template` for the rest.
    pub key: String,
    pub signature: Option<u16>,
    /// Messages whose last status was deferred, bounced, expired with this reason.
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
    /// Reject lines (smtpd, cleanup: a reject is per line, not per message).
    pub rejects: u64,
    /// Failure lines (one per recipient and attempt).
    pub lines: u64,
    /// The first line of this reason, and the last.
    pub first: Option<Line>,
    pub last: Option<Line>,
}

impl Group {
    fn add_line(&mut self, at: At<'_>) {
        self.lines += 1;
        let l = Line { seg: at.seg, line: at.line, text: at.raw.to_string() };
        if self.first.is_none() {
            self.first = Some(l);
        } else {
            self.last = Some(l);
        }
    }
    pub fn messages(&self) -> u64 {
        self.deferred + self.bounced + self.expired
    }
}

#[derive(Clone, Debug, Default)]
pub struct Table {
    pub groups: Vec<Group>,
    index: std::collections::HashMap<String, u32>,
    /// Expired messages with no failure line in the window (the deferrals came before it).
    pub expired_without_reason: u64,
}

/// The key of a line's reason: its signature, or its structure when no signature knows it.
fn key(sig: Option<usize>, program: Option<&str>, message: &str) -> String {
    if let Some(i) = sig {
        return format!("sig {i}");
    }
    let agent = program.map(reason::agent).unwrap_or("-");
    let (category, text) = match reason::parse_status(message) {
        Some(f) => (f.category, f.reason),
        None => {
            // A reject: `NOQUEUE: reject: RCPT from …: 554 5.7.1 <…>: Relay access denied; …`.
            let text = message.split_once("reject: ").map_or(message, |(_, r)| r);
            (reason::parse_reason(text).category, text)
        }
    };
    format!("{agent}|{category}|{}", super::template(text))
}

impl Table {
    fn intern(&mut self, key: String, sig: Option<usize>) -> u32 {
        if let Some(&g) = self.index.get(&key) {
            return g;
        }
        let key = if self.groups.len() >= MAX_GROUPS { "-|other|(more reasons than mailsleuth keeps)".to_string() } else { key };
        if let Some(&g) = self.index.get(&key) {
            return g;
        }
        let g = self.groups.len() as u32;
        let signature = if self.groups.len() >= MAX_GROUPS { None } else { sig.map(|s| s as u16) };
        self.groups.push(Group { key: key.clone(), signature, ..Group::default() });
        self.index.insert(key, g);
        g
    }

    /// A deferred or bounced status line: its reason's group (for the message's record).
    /// `reason` is the signature that knows the line's reason (`None`: read its structure);
    /// `sig` the signature that matched it (recorded, so rules built on it cover the group).
    pub fn failure_line(&mut self, reason: Option<usize>, sig: Option<usize>, program: Option<&str>, message: &str, at: At<'_>) -> u32 {
        let g = self.intern(key(reason, program, message), sig);
        self.groups[g as usize].add_line(at);
        g
    }

    /// A reject line: counted per line.
    pub fn reject_line(&mut self, reason: Option<usize>, sig: Option<usize>, program: Option<&str>, message: &str, at: At<'_>) {
        let g = self.intern(key(reason, program, message), sig);
        let grp = &mut self.groups[g as usize];
        grp.rejects += 1;
        grp.add_line(at);
    }

    /// A message is done: count it under its last failure.
    pub fn message(&mut self, outcome: Outcome, group: Option<u32>) {
        let Some(g) = group.and_then(|g| self.groups.get_mut(g as usize)) else {
            if outcome == Outcome::Expired {
                self.expired_without_reason += 1;
            } else {
                // A status line always records its group first; a message can only get
                // here without one through a bug. Counted, visibly, under no reason.
                let g = self.intern("-|other|(no failure line recorded)".to_string(), None);
                self.count(outcome, g);
            }
            return;
        };
        match outcome {
            Outcome::Deferred => g.deferred += 1,
            Outcome::Bounced => g.bounced += 1,
            Outcome::Expired => g.expired += 1,
        }
    }

    fn count(&mut self, outcome: Outcome, g: u32) {
        let g = &mut self.groups[g as usize];
        match outcome {
            Outcome::Deferred => g.deferred += 1,
            Outcome::Bounced => g.bounced += 1,
            Outcome::Expired => g.expired += 1,
        }
    }

    /// Append `later`'s groups; returns how its group numbers map into this table (for
    /// the messages that move over with it).
    pub fn merge(&mut self, later: Table) -> Vec<u32> {
        let mut map = Vec::with_capacity(later.groups.len());
        for g in later.groups {
            let to = self.intern(g.key.clone(), g.signature.map(usize::from));
            let a = &mut self.groups[to as usize];
            a.deferred += g.deferred;
            a.bounced += g.bounced;
            a.expired += g.expired;
            a.rejects += g.rejects;
            a.lines += g.lines;
            if a.first.is_none() {
                a.first = g.first;
                a.last = g.last;
            } else if let Some(l) = g.last.or(g.first) {
                a.last = Some(l);
            }
            map.push(to);
        }
        self.expired_without_reason += later.expired_without_reason;
        map
    }
}

/// Map a message's group number through a merge's map.
pub fn remap(group: Option<u32>, map: &[u32]) -> Option<u32> {
    group.and_then(|g| map.get(g as usize).copied())
}
