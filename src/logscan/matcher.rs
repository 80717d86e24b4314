//! The fast matcher: for one line, the signatures whose literal occurs, tried highest
//! priority first (quick matcher or lazy DFA), as a yes/no question.

use super::index::LiteralIndex;
use super::line::split_syslog;
use super::line::LogLine;
use super::problems::PROBLEM_WORDS;
use super::quickmatch::same_bytes;
use super::quickmatch::QuickMatch;
use crate::kb::signature::Signature;
use regex_automata::hybrid::dfa::Cache as DfaCache;
use regex_automata::hybrid::dfa::DFA;
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::OnceLock;

/// The catalogue compiled for scanning: one literal automaton in front of the regexes.
pub struct Matcher<'k> {
    pub(super) sigs: &'k [Signature],
    pub(super) index: LiteralIndex,
    /// Literal index → signatures carrying it.
    pub(super) by_literal: Vec<Vec<u16>>,
    /// Signatures without a literal: tried on every line.
    pub(super) always: Vec<u16>,
    /// Own regex copies: each clone has its own match cache, so threads never contend.
    pub(super) regexes: Vec<regex::Regex>,
    /// Per signature: the captures counted into `log_values` (`knowledge/log-values.ron`).
    pub(super) tally: Vec<Option<&'static crate::kb::reference::TallySpec>>,
    /// Literal index → the [`Words`] bits it stands for (found in the same pass).
    pub(super) words: Vec<u32>,
    /// Per signature: a catch-all (see [`Matcher::is_catch_all`]), decided once.
    pub(super) catch_all: Vec<bool>,
    /// Per signature: its regex as a forward lazy DFA, built on first use and shared by forks.
    pub(super) dfas: Arc<[OnceLock<Option<DFA>>]>,
    /// This fork's DFA caches.
    pub(super) caches: RefCell<Vec<Option<DfaCache>>>,
    /// Per signature: its regex for the quick matcher when it has that shape, compiled on
    /// first use and shared by forks.
    pub(super) quick: Arc<[OnceLock<Option<QuickMatch>>]>,
}

/// Words the scanner needs to know about on every line, found in the same pass over the
/// message as the signature literals (instead of one `memmem` scan each).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Words(pub u32);

pub(super) const WORD_LITERALS: [&str; 5] = ["reject: ", "size=", "status=", "from=<", "to=<"];

impl Words {
    pub const REJECT: u32 = 1;
    pub const SIZE: u32 = 2;
    pub const STATUS: u32 = 4;
    pub const FROM: u32 = 8;
    pub const TO: u32 = 16;
    /// Bit of the first [`PROBLEM_WORDS`] entry; the others follow in list order.
    const PROBLEM: u32 = 8;
    pub fn has(self, bit: u32) -> bool {
        self.0 & bit == bit
    }
    /// The severity a line gives itself ([`is_problem`]'s answer).
    pub fn problem(self) -> Option<&'static str> {
        let p = self.0 >> Self::PROBLEM;
        (p != 0).then(|| PROBLEM_WORDS[p.trailing_zeros() as usize].1)
    }
}

impl<'k> Matcher<'k> {
    pub fn new(sigs: &'k [Signature]) -> Matcher<'k> {
        let sigs = &sigs[..sigs.len().min(u16::MAX as usize)];
        let mut literals: Vec<&str> = Vec::new();
        let mut by_literal: Vec<Vec<u16>> = Vec::new();
        let mut always = Vec::new();
        for (i, s) in sigs.iter().enumerate() {
            match s.literal.as_deref().filter(|l| !l.is_empty()) {
                Some(l) => match literals.iter().position(|x| *x == l) {
                    Some(p) => by_literal[p].push(i as u16),
                    None => {
                        literals.push(l);
                        by_literal.push(vec![i as u16]);
                    }
                },
                None => always.push(i as u16),
            }
        }
        let mut words = vec![0u32; literals.len()];
        let extra = WORD_LITERALS.iter().enumerate().map(|(b, w)| (*w, 1u32 << b));
        let problems = PROBLEM_WORDS.iter().enumerate().map(|(b, (w, _))| (*w, 1u32 << (Words::PROBLEM as usize + b)));
        for (w, bit) in extra.chain(problems) {
            match literals.iter().position(|x| *x == w) {
                Some(p) => words[p] |= bit,
                None => {
                    literals.push(w);
                    by_literal.push(Vec::new());
                    words.push(bit);
                }
            }
        }
        let sample = sigs.iter().flat_map(|s| &s.examples).map(|e| split_syslog(&e.line).message);
        let index = LiteralIndex::new(literals, sample);
        let specs = crate::kb::reference::tallies();
        let tally = sigs.iter().map(|s| specs.get(&s.id)).collect();
        let catch_all = sigs.iter().map(|s| s.priority <= 0 && s.category == "other").collect();
        Matcher {
            sigs,
            index,
            by_literal,
            always,
            regexes: sigs.iter().map(|s| s.regex.0.clone()).collect(),
            tally,
            words,
            catch_all,
            dfas: sigs.iter().map(|_| OnceLock::new()).collect(),
            caches: RefCell::new(vec![None; sigs.len()]),
            quick: sigs.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    /// A copy for another thread (its own regex caches).
    pub fn fork(&self) -> Matcher<'k> {
        Matcher {
            sigs: self.sigs,
            index: self.index.clone(),
            by_literal: self.by_literal.clone(),
            always: self.always.clone(),
            regexes: self.sigs.iter().map(|s| s.regex.0.clone()).collect(),
            tally: self.tally.clone(),
            words: self.words.clone(),
            catch_all: self.catch_all.clone(),
            dfas: Arc::clone(&self.dfas),
            caches: RefCell::new(vec![None; self.sigs.len()]),
            quick: Arc::clone(&self.quick),
        }
    }

    /// The prefilter alone: calls `f` with the index of every literal (signature literals
    /// and the scanner's words) that occurs in `message`, as [`Self::best_and_words`] sees
    /// them. For benchmarks (`examples/logphases`).
    pub fn prefilter(&self, message: &str, f: impl FnMut(usize)) {
        self.index.for_each(message.as_bytes(), f);
    }

    pub fn signatures(&self) -> &'k [Signature] {
        self.sigs
    }

    /// A catch-all (priority 0, category other): it says a line is a warning, not what it means.
    pub fn is_catch_all(&self, i: usize) -> bool {
        self.catch_all.get(i).copied().unwrap_or(false)
    }

    /// The best signature for `message` of `program`: highest priority, then catalogue
    /// order — the same answer as [`classify::classify`], found without trying them all.
    pub fn best(&self, program: Option<&str>, message: &str) -> Option<usize> {
        self.best_and_words(program, message).0
    }

    /// [`Self::best`], and the [`Words`] the message contains.
    pub fn best_and_words(&self, program: Option<&str>, message: &str) -> (Option<usize>, Words) {
        let mut words = 0u32;
        let mut cand: [u16; 64] = [0; 64];
        let mut n = 0;
        for &i in &self.always {
            if n < cand.len() {
                cand[n] = i;
                n += 1;
            }
        }
        let mut overflow = false;
        let last = program.map(|p| p.rsplit('/').next().unwrap_or(p));
        self.index.for_each(message.as_bytes(), |lit| {
            words |= self.words[lit];
            for &i in &self.by_literal[lit] {
                if n < cand.len() {
                    if !cand[..n].contains(&i) {
                        cand[n] = i;
                        n += 1;
                    }
                } else {
                    overflow = true;
                }
            }
        });
        if overflow {
            return (self.best_linear(program, message), Words(words));
        }
        let cand = &mut cand[..n];
        let sigs = self.sigs;
        if n > 1 {
            cand.sort_unstable_by(|&a, &b| sigs[b as usize].priority.cmp(&sigs[a as usize].priority).then(a.cmp(&b)));
        }
        let best = cand.iter().map(|&i| i as usize).find(|&i| applies(&sigs[i], program, last) && self.is_match(i, message));
        (best, Words(words))
    }

    /// Whether signature `i`'s regex matches: the quick matcher when the regex has its
    /// shape and the message does not exhaust its step budget, else [`Self::dfa_match`].
    /// Both are compiled on first use and shared by forks.
    pub fn is_match(&self, i: usize, message: &str) -> bool {
        let quick = self.quick[i].get_or_init(|| QuickMatch::new(self.sigs[i].regex.0.as_str()));
        if let Some(answer) = quick.as_ref().and_then(|q| q.is_match(message)) {
            return answer;
        }
        self.dfa_match(i, message)
    }

    /// Whether signature `i`'s regex matches, asked of a forward lazy DFA that stops at the
    /// first match state (the meta regex behind `Regex::is_match` also runs a reverse search
    /// for regexes without a literal prefix). When the DFA cannot answer (a Unicode `\b`
    /// before non-ASCII text, a thrashing cache) the regex does.
    pub fn dfa_match(&self, i: usize, message: &str) -> bool {
        let dfa = self.dfas[i].get_or_init(|| {
            let config = DFA::config().unicode_word_boundary(true);
            DFA::builder().configure(config).build(self.sigs[i].regex.0.as_str()).ok()
        });
        if let Some(dfa) = dfa {
            let mut caches = self.caches.borrow_mut();
            if let Some(cache) = caches.get_mut(i) {
                let cache = cache.get_or_insert_with(|| dfa.create_cache());
                if let Ok(m) = dfa.try_search_fwd(cache, &regex_automata::Input::new(message).earliest(true)) {
                    return m.is_some();
                }
            }
        }
        self.regexes[i].is_match(message)
    }

    pub(super) fn best_linear(&self, program: Option<&str>, message: &str) -> Option<usize> {
        let last = program.map(|p| p.rsplit('/').next().unwrap_or(p));
        let mut best: Option<usize> = None;
        for (i, s) in self.sigs.iter().enumerate() {
            if best.is_some_and(|b| self.sigs[b].priority >= s.priority) || !applies(s, program, last) {
                continue;
            }
            if s.literal.as_deref().is_none_or(|l| message.contains(l)) && self.is_match(i, message) {
                best = Some(i);
            }
        }
        best
    }

    /// [`Self::best`] for a split line, with the bare `word: text` rule of `classify`.
    pub fn classify(&self, line: &LogLine<'_>) -> Option<usize> {
        self.classify_and_words(line).0
    }

    /// [`Self::classify`], and the [`Words`] of the message.
    pub fn classify_and_words(&self, line: &LogLine<'_>) -> (Option<usize>, Words) {
        let (best, words) = self.best_and_words(line.program, line.message);
        let best = match (line.timestamp, line.pid, line.program) {
            (None, None, Some(p)) if !p.contains('/') => {
                let whole = format!("{p}: {}", line.message);
                match (best, self.best(None, &whole)) {
                    (Some(b), Some(w)) if self.sigs[w].priority > self.sigs[b].priority => Some(w),
                    (None, w) => w,
                    (b, _) => b,
                }
            }
            _ => best,
        };
        (best, words)
    }
}

pub(super) fn applies(s: &Signature, program: Option<&str>, last: Option<&str>) -> bool {
    if s.programs.is_empty() {
        return true;
    }
    let (Some(p), Some(last)) = (program, last) else { return true };
    s.programs.iter().any(|want| same_bytes(want.as_bytes(), last.as_bytes()) || same_bytes(want.as_bytes(), p.as_bytes()))
}
