//! The log scanner: every line through the signature catalogue and the Postfix queue-id
//! correlation, fast and in bounded memory.
//!
//! Speed: one multi-literal index over the signatures' literals ([`LiteralIndex`]) decides
//! which few signatures can match a line; only those run their regex, highest priority
//! first, and only as a yes/no question (captures are for `logs classify`): the quick
//! matcher ([`QuickMatch`]) answers for regexes of the usual shape, a forward lazy DFA that
//! stops at the first match state for the others. The hot path allocates
//! nothing: queue ids are packed into a `u128`, the last sample of a signature reuses its
//! buffer, time stamps are parsed once per minute. Logs are cut into segments at line
//! boundaries and scanned on every core; the partial results are merged in log order
//! ([`Scan::merge`]), joining the messages whose lines straddle a cut.
//!
//! Memory: the per-message table is bounded ([`MAX_OPEN`]): a message leaves it when Postfix
//! logs `removed`, and the least recently seen are finalised when it is full. Evidence is
//! sampled (the first lines and the last of each signature and status), never accumulated.

pub mod classify;
pub mod courier;
pub mod failures;
pub mod line;
pub mod quickmatch;
pub mod reason;
pub mod tally;

use crate::kb::signature::{LogSeverity, Signature};
use crate::model::Evidence;
use crate::time::{parse_stamp, Window};
use line::{field, queue_id, split_syslog, LogLine, MAX_LINE};
use quickmatch::{same_bytes, QuickMatch};
use regex_automata::hybrid::dfa::{Cache as DfaCache, DFA};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, OnceLock};

/// Messages followed at once; beyond this the least recently seen are finalised as they are.
pub const MAX_OPEN: usize = 200_000;
/// Destinations and unknown-line templates kept; later new ones are counted, not stored.
const MAX_DESTINATIONS: usize = 10_000;
const MAX_TEMPLATES: usize = 20_000;
/// Sample lines kept per signature and per status: the first few and the last.
const FIRST_SAMPLES: usize = 3;
/// Time buckets of the trend.
pub const TREND_BUCKETS: usize = 12;
/// Signatures of this priority or lower are families (an RFC 3463 class, a remote 4xx)
/// rather than reasons: the accounting tells their lines apart by structure.
const GENERIC_PRIORITY: i32 = 2;
/// Signatures remembered per message (for per-signature message counts and sizes).
const SIGS_PER_MESSAGE: usize = 8;

// ---------------------------------------------------------------------------------------
// Hashing: queue ids are already well mixed; FxHash is the standard cheap choice.

#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// A Postfix queue id (short hex or long base-62 form, at most 20 characters) as a number.
fn pack_qid(q: &str) -> Option<u128> {
    if q.len() > 20 {
        return None;
    }
    let mut n: u128 = 0;
    for b in q.bytes() {
        let v = match b {
            b'0'..=b'9' => b - b'0' + 1,
            b'A'..=b'Z' => b - b'A' + 11,
            b'a'..=b'z' => b - b'a' + 37,
            _ => return None,
        };
        n = (n << 6) | u128::from(v);
    }
    Some(n)
}

// ---------------------------------------------------------------------------------------
// Signature matching

/// Which of a set of literals occur in a text: a Rabin-Karp style multi-literal search.
/// Each literal is indexed by one 4-byte window of it (its "anchor", chosen to be rare in
/// logs: the window least frequent in a sample of log text, here the catalogue's example
/// lines; "from" or "mail" would be met on every other line and each time cost a compare
/// of every literal it anchors); the text is scanned 4 bytes at a time against an 8 KiB
/// bit filter that stays in L1 cache, and only filter hits are looked up (a flat table, no hashing beyond the
/// filter's) and compared byte for byte. About twice as fast on log lines as an overlapping
/// Aho-Corasick DFA over the same literals, and exact: every occurrence of a literal
/// contains its anchor, and every hit is compared byte for byte.
#[derive(Clone, Debug)]
pub struct LiteralIndex {
    /// All literals, back to back; `spans[i]` is literal `i`'s range.
    bytes: Vec<u8>,
    spans: Vec<(u32, u32)>,
    bloom: Box<[u64; BLOOM_WORDS]>,
    /// The anchors grouped by bucket (the filter slot's high bits): bucket `b` holds
    /// `anchors[heads[b]..heads[b + 1]]`.
    heads: Box<[u16; BUCKETS + 1]>,
    anchors: Vec<Anchor>,
    /// Literals shorter than an anchor: searched for directly.
    short: Vec<u16>,
}

#[derive(Clone, Copy, Debug)]
struct Anchor {
    window: u32,
    literal: u16,
    /// Where the anchor starts in the literal.
    offset: u16,
}

const BLOOM_BITS: u32 = 16;
const BLOOM_WORDS: usize = 1 << (BLOOM_BITS - 6);
const BUCKET_BITS: u32 = 12;
const BUCKETS: usize = 1 << BUCKET_BITS;

#[inline(always)]
fn bloom_slot(w: u32) -> usize {
    (w.wrapping_mul(0x9E37_79B1) >> (32 - BLOOM_BITS)) as usize
}

#[inline(always)]
fn anchor_bucket(slot: usize) -> usize {
    slot >> (BLOOM_BITS - BUCKET_BITS)
}

impl LiteralIndex {
    /// The index of `literals`, their anchors chosen by their frequency in `sample`.
    pub fn new<'a, 's>(literals: impl IntoIterator<Item = &'a str>, sample: impl IntoIterator<Item = &'s str>) -> LiteralIndex {
        let literals: Vec<&str> = literals.into_iter().collect();
        // How often each window of a literal occurs in the sample (only those are counted).
        let mut seen: FxMap<u32, u32> = FxMap::default();
        for w in literals.iter().flat_map(|l| l.as_bytes().windows(4)) {
            seen.insert(u32::from_le_bytes([w[0], w[1], w[2], w[3]]), 0);
        }
        for text in sample {
            for w in text.as_bytes().windows(4) {
                if let Some(n) = seen.get_mut(&u32::from_le_bytes([w[0], w[1], w[2], w[3]])) {
                    *n += 1;
                }
            }
        }
        let mut bytes = Vec::new();
        let mut spans = Vec::new();
        let mut bloom = Box::new([0u64; BLOOM_WORDS]);
        let mut anchors = Vec::new();
        let mut short = Vec::new();
        for (i, l) in literals.iter().enumerate() {
            let b = l.as_bytes();
            spans.push((bytes.len() as u32, (bytes.len() + b.len()) as u32));
            bytes.extend_from_slice(b);
            if b.len() < 4 {
                short.push(i as u16);
                continue;
            }
            // The window least seen in the sample; among those (or with no sample), the one
            // with the fewest very common log bytes (space, lowercase vowels...).
            let common = |c: u8| matches!(c, b' ' | b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b'=' | b':');
            let window_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
            let rarity = |o: usize| (seen.get(&window_at(o)).copied().unwrap_or(0), b[o..o + 4].iter().filter(|&&c| common(c)).count());
            let off = (0..=b.len() - 4).min_by_key(|&o| rarity(o)).unwrap_or(0);
            let window = window_at(off);
            let slot = bloom_slot(window);
            bloom[slot >> 6] |= 1 << (slot & 63);
            anchors.push((anchor_bucket(slot), Anchor { window, literal: i as u16, offset: off as u16 }));
        }
        anchors.sort_by_key(|(bucket, a)| (*bucket, a.literal));
        let mut heads = Box::new([0u16; BUCKETS + 1]);
        for (bucket, _) in &anchors {
            heads[bucket + 1] += 1;
        }
        for b in 0..BUCKETS {
            heads[b + 1] += heads[b];
        }
        let anchors = anchors.into_iter().map(|(_, a)| a).collect();
        LiteralIndex { bytes, spans, bloom, heads, anchors, short }
    }

    #[inline(always)]
    fn literal(&self, i: usize) -> &[u8] {
        let (a, b) = self.spans[i];
        &self.bytes[a as usize..b as usize]
    }

    /// Calls `f` with the index of every literal that occurs in `hay` (possibly more than
    /// once per literal).
    #[inline]
    pub fn for_each(&self, hay: &[u8], mut f: impl FnMut(usize)) {
        for &i in &self.short {
            if memchr::memmem::find(hay, self.literal(i as usize)).is_some() {
                f(i as usize);
            }
        }
        let bloom = &*self.bloom;
        for (p, w) in hay.windows(4).enumerate() {
            let w = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            let slot = bloom_slot(w);
            if bloom[slot >> 6] & (1 << (slot & 63)) == 0 {
                continue;
            }
            self.hit(hay, p, w, slot, &mut f);
        }
    }

    /// One filter hit: the literals anchored at `p` whose window is `w`, compared in full.
    #[inline(always)]
    fn hit(&self, hay: &[u8], p: usize, w: u32, slot: usize, f: &mut impl FnMut(usize)) {
        let b = anchor_bucket(slot);
        let (from, to) = (self.heads[b] as usize, self.heads[b + 1] as usize);
        for a in self.anchors.get(from..to).unwrap_or_default() {
            let off = a.offset as usize;
            if a.window == w && p >= off {
                let lit = self.literal(a.literal as usize);
                if hay.get(p - off..p - off + lit.len()).is_some_and(|h| same_bytes(h, lit)) {
                    f(a.literal as usize);
                }
            }
        }
    }
}

/// The catalogue compiled for scanning: one literal automaton in front of the regexes.
pub struct Matcher<'k> {
    sigs: &'k [Signature],
    index: LiteralIndex,
    /// Literal index → signatures carrying it.
    by_literal: Vec<Vec<u16>>,
    /// Signatures without a literal: tried on every line.
    always: Vec<u16>,
    /// Own regex copies: each clone has its own match cache, so threads never contend.
    regexes: Vec<regex::Regex>,
    /// Per signature: the captures counted into `log_values` (`knowledge/log-values.ron`).
    tally: Vec<Option<&'static crate::kb::reference::TallySpec>>,
    /// Literal index → the [`Words`] bits it stands for (found in the same pass).
    words: Vec<u32>,
    /// Per signature: a catch-all (see [`Matcher::is_catch_all`]), decided once.
    catch_all: Vec<bool>,
    /// Per signature: its regex as a forward lazy DFA, built on first use and shared by forks.
    dfas: Arc<[OnceLock<Option<DFA>>]>,
    /// This fork's DFA caches.
    caches: RefCell<Vec<Option<DfaCache>>>,
    /// Per signature: its regex for the quick matcher when it has that shape, compiled on
    /// first use and shared by forks.
    quick: Arc<[OnceLock<Option<QuickMatch>>]>,
}

/// Words the scanner needs to know about on every line, found in the same pass over the
/// message as the signature literals (instead of one `memmem` scan each).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Words(pub u32);

const WORD_LITERALS: [&str; 5] = ["reject: ", "size=", "status=", "from=<", "to=<"];

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

    fn best_linear(&self, program: Option<&str>, message: &str) -> Option<usize> {
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

fn applies(s: &Signature, program: Option<&str>, last: Option<&str>) -> bool {
    if s.programs.is_empty() {
        return true;
    }
    let (Some(p), Some(last)) = (program, last) else { return true };
    s.programs.iter().any(|want| same_bytes(want.as_bytes(), last.as_bytes()) || same_bytes(want.as_bytes(), p.as_bytes()))
}

// ---------------------------------------------------------------------------------------
// Aggregates

/// Where a line is: the segment it was read in and its line number there. Turned into
/// `path:line` when segments are merged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Loc {
    seg: u32,
    line: u64,
}

#[derive(Clone, Debug, Default)]
struct Sample {
    loc: Loc,
    text: String,
}

/// The first few samples and the last one; the last reuses its buffer.
#[derive(Clone, Debug, Default)]
struct Samples {
    first: Vec<Sample>,
    last: Option<Sample>,
    total: u64,
}

impl Samples {
    fn add(&mut self, loc: Loc, text: &str) {
        self.total += 1;
        if self.first.len() < FIRST_SAMPLES {
            self.first.push(Sample { loc, text: text.to_string() });
        } else {
            let s = self.last.get_or_insert_with(Sample::default);
            s.loc = loc;
            s.text.clear();
            s.text.push_str(text);
        }
    }
    fn merge(&mut self, later: Samples) {
        self.total += later.total;
        let mut rest = later.first.into_iter();
        while self.first.len() < FIRST_SAMPLES {
            match rest.next() {
                Some(s) => self.first.push(s),
                None => break,
            }
        }
        if let Some(s) = later.last.or_else(|| rest.last()) {
            self.last = Some(s);
        }
    }
}

/// Smallest, largest and a log2 histogram of message sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    pub count: u64,
    pub min: i64,
    pub max: i64,
    pub sum: i64,
    /// Bucket b counts sizes in [2^(b+9), 2^(b+10)) bytes (the first from 0, the last open).
    pub hist: [u64; 16],
}

impl Sizes {
    fn add(&mut self, n: i64) {
        if self.count == 0 {
            self.min = n;
            self.max = n;
        } else {
            self.min = self.min.min(n);
            self.max = self.max.max(n);
        }
        self.count += 1;
        self.sum = self.sum.saturating_add(n);
        let b = (64 - (n.max(1) as u64).leading_zeros()).saturating_sub(10) as usize;
        self.hist[b.min(15)] += 1;
    }
    fn merge(&mut self, o: &Sizes) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *o;
            return;
        }
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.count += o.count;
        self.sum = self.sum.saturating_add(o.sum);
        for (a, b) in self.hist.iter_mut().zip(o.hist.iter()) {
            *a += b;
        }
    }
}

#[derive(Clone, Debug, Default)]
struct SigAgg {
    count: u64,
    messages: u64,
    sizes: Sizes,
    samples: Samples,
    trend: [u64; TREND_BUCKETS],
}

/// Postfix delivery statuses (`status=`), in a fixed order.
pub const STATUSES: [&str; 7] = ["sent", "deferred", "bounced", "expired", "deliverable", "undeliverable", "other"];

fn status_index(s: &str) -> usize {
    STATUSES.iter().position(|x| *x == s).unwrap_or(STATUSES.len() - 1)
}

#[derive(Clone, Debug, Default)]
struct StatusAgg {
    /// `status=` lines (one per recipient and attempt).
    lines: u64,
    /// Of those, the lines logged by the SMTP client.
    smtp_lines: u64,
    /// Messages whose last status this was.
    messages: u64,
    sizes: Sizes,
    samples: Samples,
    trend: [u64; TREND_BUCKETS],
}

#[derive(Clone, Debug, Default)]
struct DestAgg {
    deferred: u64,
    bounced: u64,
    /// (signature index or `u16::MAX` for "no signature", lines)
    reasons: Vec<(u16, u64)>,
    sample: Option<Sample>,
}

#[derive(Clone, Debug, Default)]
struct Template {
    count: u64,
    severity: &'static str,
    sample: Sample,
}

#[derive(Clone, Copy, Debug, Default)]
struct Msg {
    size: Option<i64>,
    status: Option<u8>,
    /// The failure group of the last deferred or bounced line ([`failures::Table`]).
    fail: Option<u32>,
    sigs: [u16; SIGS_PER_MESSAGE],
    nsigs: u8,
    touched: u64,
}

impl Msg {
    fn sigs(&self) -> &[u16] {
        &self.sigs[..self.nsigs as usize]
    }
    /// Adds `s`; true when it is new for this message.
    fn add_sig(&mut self, s: u16) -> bool {
        if self.sigs().contains(&s) {
            return false;
        }
        if (self.nsigs as usize) < SIGS_PER_MESSAGE {
            self.sigs[self.nsigs as usize] = s;
            self.nsigs += 1;
        }
        true
    }
}

/// What to scan for, shared by every segment.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    pub window: Window,
    /// Collection time, for the year of classic stamps.
    pub reference: i64,
    /// Trend buckets cover `[start, end]` on the log's clock.
    pub trend_span: Option<(i64, i64)>,
    /// Cluster the problem lines no signature knows (`logs unknown`).
    pub unknown: bool,
    /// Sizes of messages known from elsewhere, by the scan's message key: Courier logs no
    /// size for a deferred message; its queue's data files have it (courier.rs).
    pub known_sizes: std::sync::Arc<std::collections::HashMap<u128, i64>>,
}

/// One file's share of the scan, as the report shows it.
#[derive(Clone, Debug, Default)]
pub struct SegmentInfo {
    pub path: String,
    /// Line number of the segment's first line in its file; `None` until merged for
    /// segments that start in the middle of a file.
    pub first_line: Option<u64>,
    pub lines: u64,
    pub skipped: u64,
    pub lossy: u64,
    pub matched: u64,
    pub outside: u64,
    /// A read problem (truncated gzip, I/O error) that ended the segment early.
    pub problem: Option<String>,
    pub observation: Option<u32>,
}

/// The scan of one segment, or of several merged in log order.
#[derive(Clone, Debug, Default)]
pub struct Scan {
    pub segments: Vec<SegmentInfo>,
    sigs: Vec<SigAgg>,
    statuses: Vec<StatusAgg>,
    rejected: u64,
    rejected_samples: Samples,
    open: FxMap<u128, Msg>,
    /// Messages removed in this segment whose start (size=) was not seen in it: they are
    /// joined with the previous segment's open messages when merged.
    orphans: Vec<(u128, Msg)>,
    /// (signature, group, field) → values counted, and the files they came from.
    values: HashMap<(u16, String, String), (tally::Tally, Vec<u32>)>,
    dests: HashMap<String, DestAgg>,
    dests_dropped: u64,
    templates: HashMap<String, Template>,
    templates_dropped: u64,
    /// Every failed message and reject under the reason of its failure line.
    failures: failures::Table,
    /// Problem lines (by their own severity word) no signature matched.
    pub unmatched_problems: u64,
    evicted: u64,
    tick: u64,
    first_at: Option<i64>,
    last_at: Option<i64>,
}

/// Per-thread scanning state around a [`Scan`].
pub struct Scanner<'m, 'k> {
    m: &'m Matcher<'k>,
    opts: &'m ScanOptions,
    pub scan: Scan,
    seg: u32,
    line: u64,
    stamp_key: String,
    stamp_base: Option<i64>,
}

impl<'m, 'k> Scanner<'m, 'k> {
    /// A scanner for the segment `seg` of `path`. `first_line` is known for segments that
    /// start a file (or a text with a known offset).
    pub fn new(m: &'m Matcher<'k>, opts: &'m ScanOptions, seg: u32, path: &str, first_line: Option<u64>) -> Self {
        let n = m.signatures().len();
        let mut scan = Scan { sigs: vec![SigAgg::default(); n], statuses: vec![StatusAgg::default(); STATUSES.len()], ..Scan::default() };
        scan.segments.push(SegmentInfo { path: path.to_string(), first_line, ..SegmentInfo::default() });
        Scanner { m, opts, scan, seg, line: 0, stamp_key: String::new(), stamp_base: None }
    }

    /// Seconds of a stamp; the minute is parsed once and cached.
    fn stamp(&mut self, ts: &str) -> Option<i64> {
        let b = ts.as_bytes();
        // Classic `Nov 23 08:15:05[.frac]` or ISO `2026-11-23T08:15:05[.frac]zone`: the
        // seconds are two digits after the minute; everything else is the cache key.
        let sec_at = if b.first().is_some_and(u8::is_ascii_digit) { 17 } else { 13 };
        if b.len() >= sec_at + 2 && b[sec_at - 1] == b':' && b[sec_at].is_ascii_digit() && b[sec_at + 1].is_ascii_digit() {
            let mut zone = sec_at + 2;
            if b.get(zone) == Some(&b'.') {
                zone += 1;
                while b.get(zone).is_some_and(u8::is_ascii_digit) {
                    zone += 1;
                }
            }
            let key = self.stamp_key.as_bytes();
            let key_ok = key.len() == sec_at + (b.len() - zone)
                && same_bytes(&key[..sec_at], &b[..sec_at])
                && same_bytes(&key[sec_at..], &b[zone..]);
            let secs = i64::from(b[sec_at] - b'0') * 10 + i64::from(b[sec_at + 1] - b'0');
            if key_ok {
                return self.stamp_base.map(|base| base + secs);
            }
            let t = parse_stamp(ts, self.opts.reference);
            self.stamp_key.clear();
            self.stamp_key.push_str(&ts[..sec_at]);
            self.stamp_key.push_str(&ts[zone..]);
            self.stamp_base = t.map(|t| t - secs);
            return t;
        }
        parse_stamp(ts, self.opts.reference)
    }

    fn loc(&self) -> Loc {
        Loc { seg: self.seg, line: self.line }
    }

    /// One raw line (without its newline), as bytes: invalid UTF-8 is replaced.
    pub fn bytes(&mut self, raw: &[u8]) {
        match std::str::from_utf8(raw) {
            Ok(s) => self.line(s),
            Err(_) => {
                self.scan.segments[0].lossy += 1;
                let s = String::from_utf8_lossy(raw);
                self.line(&s);
            }
        }
    }

    /// A line too long to keep (the reader did not buffer it).
    pub fn overlong(&mut self) {
        self.line += 1;
        self.scan.segments[0].lines += 1;
        self.scan.segments[0].skipped += 1;
    }

    pub fn problem(&mut self, p: String) {
        self.scan.segments[0].problem = Some(p);
    }

    /// One line (without its newline).
    pub fn line(&mut self, raw: &str) {
        self.scan_line(raw, memchr::memchr(0, raw.as_bytes()).is_some());
    }

    /// One line known to hold no NUL byte (the reader checked its whole buffer at once).
    pub fn clean_line(&mut self, raw: &str) {
        self.scan_line(raw, false);
    }

    fn scan_line(&mut self, raw: &str, has_nul: bool) {
        self.line += 1;
        self.scan.tick += 1;
        let seg = &mut self.scan.segments[0];
        seg.lines += 1;
        if raw.len() > MAX_LINE || has_nul {
            seg.skipped += 1;
            return;
        }
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let l = split_syslog(raw);
        let at = match l.timestamp {
            Some(ts) => self.stamp(ts),
            None => None,
        };
        if let Some(t) = at {
            if !self.opts.window.contains(t) {
                self.scan.segments[0].outside += 1;
                return;
            }
            self.scan.first_at = Some(self.scan.first_at.map_or(t, |f| f.min(t)));
            self.scan.last_at = Some(self.scan.last_at.map_or(t, |f| f.max(t)));
        }
        let bucket = at.and_then(|t| bucket(self.opts.trend_span, t));
        let (sig, words) = self.m.classify_and_words(&l);
        let loc = self.loc();
        let msg = l.message;
        // Courier names its messages `id=INODE.TIME.PID` inside the message (courier.rs).
        let courier = courier::parse(l.program, msg);
        let qid = queue_id(msg).and_then(|q| pack_qid(q).map(|k| (q, k))).or_else(|| courier.map(|c| (c.id, c.key)));

        if let Some(i) = sig {
            self.scan.segments[0].matched += 1;
            // Program and first/last time stamps come from the samples when finished.
            let agg = &mut self.scan.sigs[i];
            agg.count += 1;
            if let Some(b) = bucket {
                agg.trend[b] += 1;
            }
            agg.samples.add(loc, raw);
            if let Some(spec) = self.m.tally[i] {
                self.tally(i, spec, &l, loc);
            }
        }
        // Unknown: no signature, or only a catch-all (`postfix.warning`: priority 0, "other").
        if sig.is_none_or(|i| self.m.is_catch_all(i)) {
            if let Some(sev) = words.problem() {
                self.scan.unmatched_problems += 1;
                if self.opts.unknown {
                    self.scan.cluster(l.program, msg, sev, loc, raw);
                }
            }
        }

        // The signature that knows the line's reason: neither a catch-all nor a generic
        // family (an RFC 3463 class, "a remote 4xx"), whose lines are told apart by structure.
        let known_sig = sig.filter(|&i| !self.m.is_catch_all(i));
        let reason_sig = known_sig.filter(|&i| self.m.signatures().get(i).is_some_and(|s| s.priority > GENERIC_PRIORITY));
        if words.has(Words::REJECT) {
            self.scan.rejected += 1;
            self.scan.rejected_samples.add(loc, raw);
            if msg.contains("reject: ") {
                self.scan.failures.reject_line(reason_sig, known_sig, l.program, msg, failures::At { seg: loc.seg, line: loc.line, raw });
            }
        }

        let Some((_, key)) = qid else { return };
        let tick = self.scan.tick;
        let size = if words.has(Words::SIZE | Words::FROM) { field(msg, "size=").and_then(|s| s.parse::<i64>().ok()) } else { None };
        let status = if words.has(Words::STATUS | Words::TO) { field(msg, "status=") } else { None };
        let (size, status) = (size.or(courier.and_then(|c| c.size)), status.or(courier.and_then(|c| c.status)));
        let removed = msg.len().checked_sub(b": removed".len()).is_some_and(|at| same_bytes(&msg.as_bytes()[at..], b": removed"));
        if size.is_none() && status.is_none() && !removed && sig.is_none() && !self.scan.open.contains_key(&key) {
            return;
        }
        if self.scan.open.len() >= MAX_OPEN && !self.scan.open.contains_key(&key) {
            self.scan.evict();
        }
        let entry = self.scan.open.entry(key).or_default();
        entry.touched = tick;
        if let Some(n) = size {
            entry.size = Some(n);
        } else if entry.size.is_none() {
            entry.size = self.opts.known_sizes.get(&key).copied();
        }
        if let Some(i) = sig {
            if entry.add_sig(i as u16) {
                self.scan.sigs[i].messages += 1;
            }
        }
        // A Courier failure's reason comes on its own line, before the status line.
        let courier_reason = courier.and_then(|c| c.reason);
        if let Some(reason) = courier_reason {
            entry.fail = Some(self.scan.failures.failure_line(
                reason_sig,
                known_sig,
                l.program,
                reason,
                failures::At { seg: loc.seg, line: loc.line, raw },
            ));
        }
        if let Some(st) = status {
            let si = status_index(st);
            entry.status = Some(si as u8);
            let reason_seen = courier.is_some() && entry.fail.is_some();
            if (st == "deferred" || st == "bounced") && !reason_seen {
                entry.fail = Some(self.scan.failures.failure_line(
                    reason_sig,
                    known_sig,
                    l.program,
                    msg,
                    failures::At { seg: loc.seg, line: loc.line, raw },
                ));
            }
            let agg = &mut self.scan.statuses[si];
            agg.lines += 1;
            // The SMTP client's own lines (`postfix/smtp`, `postfix-out/smtp`): whether
            // remote delivery works at all.
            if l.program.is_some_and(|p| p.ends_with("/smtp")) {
                agg.smtp_lines += 1;
            }
            if let Some(b) = bucket {
                agg.trend[b] += 1;
            }
            agg.samples.add(loc, raw);
            if st == "deferred" || st == "bounced" {
                let to = courier.and_then(|c| c.addr).or_else(|| field(msg, "to=<").map(|t| t.trim_end_matches('>')));
                let dest = to.map(|t| t.rsplit_once('@').map_or(t, |(_, d)| d)).unwrap_or("");
                self.scan.destination(&dest.to_ascii_lowercase(), st == "bounced", sig, loc, raw);
            }
        }
        if removed {
            if let Some(m) = self.scan.open.remove(&key) {
                if m.size.is_none() && self.seg > 0 {
                    self.scan.orphans.push((key, m));
                    if self.scan.orphans.len() > MAX_OPEN {
                        let (_, m) = self.scan.orphans.remove(0);
                        self.scan.finalize(&m);
                    }
                } else {
                    self.scan.finalize(&m);
                }
            }
        }
    }

    pub fn finish(self) -> Scan {
        self.scan
    }

    /// Count the values of the captures `spec` names (few lines: the tallied signatures).
    fn tally(&mut self, i: usize, spec: &crate::kb::reference::TallySpec, l: &LogLine<'_>, loc: Loc) {
        let re = &self.m.regexes[i];
        // The bare `word: text` reading of `classify` matched the whole line.
        let whole;
        let caps = match re.captures(l.message) {
            Some(c) => c,
            None => {
                whole = format!("{}: {}", l.program.unwrap_or(""), l.message);
                match re.captures(&whole) {
                    Some(c) => c,
                    None => return,
                }
            }
        };
        let value = |f: &str| if f == "program" { l.program.unwrap_or("") } else { caps.name(f).map_or("", |m| m.as_str()) };
        let group = spec.by.as_deref().map(value).unwrap_or("");
        for field in &spec.fields {
            let v = value(field);
            if v.is_empty() {
                continue;
            }
            let e = self.scan.values.entry((i as u16, group.to_string(), field.clone())).or_default();
            e.0.add(v);
            if !e.1.contains(&loc.seg) {
                e.1.push(loc.seg);
            }
        }
    }
}

fn bucket(span: Option<(i64, i64)>, t: i64) -> Option<usize> {
    let (start, end) = span?;
    if t < start || t > end {
        return None;
    }
    let width = ((end - start) / TREND_BUCKETS as i64).max(1);
    Some((((t - start) / width) as usize).min(TREND_BUCKETS - 1))
}

/// The severity a line gives itself (`warning:`, `fatal:`, `Error:`...) or a failed
/// delivery: the lines `logs unknown` cares about.
pub fn is_problem(message: &str) -> Option<&'static str> {
    // The scanner finds these words in its literal pass ([`Words::problem`]); this is the
    // plain definition it is tested against.
    PROBLEM_WORDS.iter().find(|(w, _)| message.contains(w)).map(|(_, s)| *s)
}

const PROBLEM_WORDS: &[(&str, &str)] = &[
    ("panic: ", "panic"),
    ("fatal: ", "fatal"),
    ("Fatal: ", "fatal"),
    ("FATAL", "fatal"),
    ("error: ", "error"),
    ("Error: ", "error"),
    ("ERROR", "error"),
    ("status=bounced", "error"),
    ("status=deferred", "warning"),
    ("reject: ", "warning"),
    ("warning: ", "warning"),
    ("Warning: ", "warning"),
    ("WARNING", "warning"),
];

/// A message with its variable parts masked: queue ids, numbers, addresses, host names.
pub fn template(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(240));
    let msg = match queue_id(message) {
        Some(q) => {
            out.push_str("QUEUEID");
            &message[q.len()..]
        }
        None => message,
    };
    let b = msg.as_bytes();
    let mut i = 0;
    while i < b.len() && out.len() < 200 {
        let c = b[i];
        if c == b'<' {
            if let Some(end) = msg[i..].find('>') {
                out.push_str("<*>");
                i += end + 1;
                continue;
            }
        }
        if c == b'[' {
            if let Some(end) = msg[i..].find(']') {
                let inner = &msg[i + 1..i + end];
                if inner.bytes().all(|x| x.is_ascii_hexdigit() || matches!(x, b'.' | b':')) && !inner.is_empty() {
                    out.push_str("[ADDR]");
                    i += end + 1;
                    continue;
                }
            }
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'.' | b'_' | b'-' | b'@')) {
                i += 1;
            }
            let mut w = &msg[start..i];
            let mut tail = "";
            if let Some(stripped) = w.strip_suffix('.') {
                w = stripped;
                tail = ".";
            }
            let digits = w.bytes().filter(u8::is_ascii_digit).count();
            let tok = if w.contains('@') {
                "ADDR"
            } else if w.bytes().all(|x| x.is_ascii_digit() || x == b'.') && digits > 0 {
                "N"
            } else if w.contains('.') && w.bytes().any(|x| x.is_ascii_alphabetic()) && !w.starts_with('.') && digits * 2 < w.len() {
                "HOST"
            } else if digits > 0 && w.len() >= 6 {
                "ID"
            } else {
                w
            };
            out.push_str(tok);
            out.push_str(tail);
            continue;
        }
        // Copy one (possibly multi-byte) character.
        let ch_len = msg[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&msg[i..i + ch_len]);
        i += ch_len;
    }
    out
}

impl Scan {
    fn destination(&mut self, dest: &str, bounced: bool, sig: Option<usize>, loc: Loc, raw: &str) {
        let full = self.dests.len() >= MAX_DESTINATIONS;
        let d = match self.dests.get_mut(dest) {
            Some(d) => d,
            None if !full => self.dests.entry(dest.to_string()).or_default(),
            None => {
                self.dests_dropped += 1;
                return;
            }
        };
        if bounced {
            d.bounced += 1;
        } else {
            d.deferred += 1;
        }
        let key = sig.map_or(u16::MAX, |s| s as u16);
        match d.reasons.iter_mut().find(|(k, _)| *k == key) {
            Some(r) => r.1 += 1,
            None => d.reasons.push((key, 1)),
        }
        if d.sample.is_none() {
            d.sample = Some(Sample { loc, text: raw.to_string() });
        }
    }

    fn cluster(&mut self, program: Option<&str>, msg: &str, severity: &'static str, loc: Loc, raw: &str) {
        let prog = program.map(|p| p.rsplit('/').next().unwrap_or(p)).unwrap_or("-");
        let key = format!("{prog}: {}", template(msg));
        let full = self.templates.len() >= MAX_TEMPLATES;
        match self.templates.get_mut(&key) {
            Some(t) => t.count += 1,
            None if !full => {
                self.templates.insert(key, Template { count: 1, severity, sample: Sample { loc, text: raw.to_string() } });
            }
            None => self.templates_dropped += 1,
        }
    }

    /// A message is done (removed, evicted, or the log ended): count it under its last status.
    fn finalize(&mut self, m: &Msg) {
        let outcome = match m.status.map(|s| STATUSES[s as usize]) {
            Some("deferred") => Some(failures::Outcome::Deferred),
            Some("bounced") => Some(failures::Outcome::Bounced),
            Some("expired") => Some(failures::Outcome::Expired),
            _ => None,
        };
        if let Some(o) = outcome {
            self.failures.message(o, m.fail);
        }
        if let Some(s) = m.status {
            let agg = &mut self.statuses[s as usize];
            agg.messages += 1;
            if let Some(n) = m.size {
                agg.sizes.add(n);
            }
        }
        if let Some(n) = m.size {
            for &s in m.sigs() {
                if let Some(a) = self.sigs.get_mut(s as usize) {
                    a.sizes.add(n);
                }
            }
        }
    }

    /// The table is full: finalise the least recently seen half.
    fn evict(&mut self) {
        let mut ticks: Vec<u64> = self.open.values().map(|m| m.touched).collect();
        let mid = ticks.len() / 2;
        let (_, cut, _) = ticks.select_nth_unstable(mid);
        let cut = *cut;
        let old: Vec<(u128, Msg)> = self.open.iter().filter(|(_, m)| m.touched <= cut).map(|(k, m)| (*k, *m)).collect();
        for (k, m) in old {
            self.open.remove(&k);
            self.finalize(&m);
            self.evicted += 1;
        }
    }

    /// Append `later` (the next segment(s) in log order) to `self`.
    pub fn merge(&mut self, mut later: Scan) {
        // The later failure groups join this table first, so that every message that
        // moves over (or is finalised below) already names a group of this table.
        let map = self.failures.merge(std::mem::take(&mut later.failures));
        for (_, m) in later.orphans.iter_mut() {
            m.fail = failures::remap(m.fail, &map);
        }
        for m in later.open.values_mut() {
            m.fail = failures::remap(m.fail, &map);
        }
        // Messages that straddle the cut: their size is here, their end is there.
        for (k, mut m) in std::mem::take(&mut later.orphans) {
            if let Some(e) = self.open.remove(&k) {
                join(&mut m, &e, &mut later.sigs);
            }
            // Counted here rather than in `later`: the totals are summed below either way,
            // and only this table holds the message's failure group now.
            self.finalize(&m);
        }
        let keys: Vec<u128> = later.open.iter().filter(|(_, m)| m.size.is_none()).map(|(k, _)| *k).collect();
        for k in keys {
            if let Some(e) = self.open.remove(&k) {
                if let Some(m) = later.open.get_mut(&k) {
                    join(m, &e, &mut later.sigs);
                }
            }
        }
        let tick = self.tick;
        for (k, mut m) in later.open.drain() {
            m.touched += tick;
            self.open.insert(k, m);
        }
        self.tick += later.tick;
        while self.open.len() > MAX_OPEN {
            self.evict();
        }
        for (a, b) in self.sigs.iter_mut().zip(later.sigs) {
            a.count += b.count;
            a.messages += b.messages;
            a.sizes.merge(&b.sizes);
            a.samples.merge(b.samples);
            for (x, y) in a.trend.iter_mut().zip(b.trend) {
                *x += y;
            }
        }
        for (a, b) in self.statuses.iter_mut().zip(later.statuses) {
            a.lines += b.lines;
            a.smtp_lines += b.smtp_lines;
            a.messages += b.messages;
            a.sizes.merge(&b.sizes);
            a.samples.merge(b.samples);
            for (x, y) in a.trend.iter_mut().zip(b.trend) {
                *x += y;
            }
        }
        for (k, (t, segs)) in later.values {
            let e = self.values.entry(k).or_default();
            e.0.merge(t);
            e.1.extend(segs);
        }
        self.rejected += later.rejected;
        self.rejected_samples.merge(later.rejected_samples);
        for (k, d) in later.dests {
            let full = self.dests.len() >= MAX_DESTINATIONS;
            match self.dests.get_mut(&k) {
                Some(a) => {
                    a.deferred += d.deferred;
                    a.bounced += d.bounced;
                    for (s, n) in d.reasons {
                        match a.reasons.iter_mut().find(|(x, _)| *x == s) {
                            Some(r) => r.1 += n,
                            None => a.reasons.push((s, n)),
                        }
                    }
                }
                None if !full => {
                    self.dests.insert(k, d);
                }
                None => self.dests_dropped += d.deferred + d.bounced,
            }
        }
        self.dests_dropped += later.dests_dropped;
        for (k, t) in later.templates {
            let full = self.templates.len() >= MAX_TEMPLATES;
            match self.templates.get_mut(&k) {
                Some(a) => a.count += t.count,
                None if !full => {
                    self.templates.insert(k, t);
                }
                None => self.templates_dropped += t.count,
            }
        }
        self.templates_dropped += later.templates_dropped;
        self.unmatched_problems += later.unmatched_problems;
        self.evicted += later.evicted;
        self.first_at = match (self.first_at, later.first_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_at = match (self.last_at, later.last_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.segments.extend(later.segments);
    }

    /// The log has ended: messages still open are counted under their last status.
    fn close(&mut self) {
        let open: Vec<Msg> = self.open.drain().map(|(_, m)| m).collect();
        for m in &open {
            self.finalize(m);
        }
        for (_, m) in std::mem::take(&mut self.orphans) {
            self.finalize(&m);
        }
    }

    /// `path:line` of a location, once segments are merged.
    fn source(&self, loc: Loc) -> String {
        match self.segments.get(loc.seg as usize) {
            Some(s) => match s.first_line {
                Some(f) => format!("{}:{}", s.path, f + loc.line - 1),
                None => format!("{}:?", s.path),
            },
            None => "?".to_string(),
        }
    }

    fn evidence(&self, s: &Samples) -> (Vec<Evidence>, u64) {
        let mut ev: Vec<Evidence> = s.first.iter().map(|x| Evidence::new(self.source(x.loc), x.text.as_str())).collect();
        if let Some(x) = &s.last {
            ev.push(Evidence::new(self.source(x.loc), x.text.as_str()));
        }
        let more = s.total.saturating_sub(ev.len() as u64);
        (ev, more)
    }

    /// Segment line numbers: a segment that starts mid-file continues its predecessor.
    /// Segment indices must equal their position (the driver numbers them so).
    fn number_lines(&mut self) {
        let mut prev: Option<(String, u64)> = None;
        for s in &mut self.segments {
            if s.first_line.is_none() {
                s.first_line = Some(match &prev {
                    Some((p, next)) if *p == s.path => *next,
                    _ => 1,
                });
            }
            prev = Some((s.path.clone(), s.first_line.unwrap_or(1) + s.lines));
        }
    }

    pub fn lines(&self) -> u64 {
        self.segments.iter().map(|s| s.lines).sum()
    }

    /// The finished result: merged segments, line numbers resolved, open messages counted.
    pub fn finish(mut self, sigs: &[Signature], reference: i64) -> LogStats {
        self.number_lines();
        self.close();
        let mut files: Vec<FileStats> = Vec::new();
        for s in &self.segments {
            match files.last_mut() {
                Some(f) if f.path == s.path => {
                    f.lines += s.lines;
                    f.skipped += s.skipped;
                    f.lossy += s.lossy;
                    f.matched += s.matched;
                    f.outside += s.outside;
                    if s.problem.is_some() {
                        f.problem = s.problem.clone();
                    }
                }
                _ => files.push(FileStats {
                    path: s.path.clone(),
                    lines: s.lines,
                    skipped: s.skipped,
                    lossy: s.lossy,
                    matched: s.matched,
                    outside: s.outside,
                    problem: s.problem.clone(),
                    observation: s.observation,
                }),
            }
        }
        let mut signatures = Vec::new();
        for (i, a) in self.sigs.iter().enumerate() {
            if a.count == 0 {
                continue;
            }
            let Some(sig) = sigs.get(i) else { continue };
            let (evidence, more) = self.evidence(&a.samples);
            let first = a.samples.first.first().map(|x| split_syslog(&x.text));
            let last = a.samples.last.as_ref().or(a.samples.first.last()).map(|x| split_syslog(&x.text));
            let at = |l: &Option<LogLine<'_>>| l.as_ref().and_then(|l| l.timestamp).and_then(|t| parse_stamp(t, reference));
            signatures.push(SigStats {
                id: sig.id.clone(),
                program: last.as_ref().and_then(|l| l.program).unwrap_or("").to_string(),
                category: sig.category.clone(),
                severity: sig.severity,
                count: a.count,
                messages: a.messages,
                sizes: a.sizes,
                first_seen: first.as_ref().and_then(|l| l.timestamp).map(str::to_string),
                last_seen: last.as_ref().and_then(|l| l.timestamp).map(str::to_string),
                first_at: at(&first),
                last_at: at(&last),
                trend: a.trend,
                evidence,
                more_evidence: more,
            });
        }
        // By id, as the facts always were (rules see them in a stable order).
        signatures.sort_by(|a, b| a.id.cmp(&b.id));
        let mut statuses = Vec::new();
        for (i, a) in self.statuses.iter().enumerate() {
            if a.lines == 0 && a.messages == 0 {
                continue;
            }
            let (evidence, more) = self.evidence(&a.samples);
            statuses.push(StatusStats {
                status: STATUSES[i].to_string(),
                lines: a.lines,
                smtp_lines: a.smtp_lines,
                messages: a.messages,
                sizes: a.sizes,
                trend: a.trend,
                evidence,
                more_evidence: more,
            });
        }
        let mut destinations: Vec<DestStats> = self
            .dests
            .iter()
            .map(|(d, a)| {
                let mut reasons: Vec<(String, u64)> = a
                    .reasons
                    .iter()
                    .map(|&(s, n)| (sigs.get(s as usize).map_or_else(|| "(no signature)".to_string(), |x| x.id.clone()), n))
                    .collect();
                reasons.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
                DestStats {
                    domain: d.clone(),
                    deferred: a.deferred,
                    bounced: a.bounced,
                    reasons,
                    sample: a.sample.as_ref().map(|s| Evidence::new(self.source(s.loc), s.text.as_str())),
                }
            })
            .collect();
        destinations.sort_by(|a, b| (b.deferred + b.bounced).cmp(&(a.deferred + a.bounced)).then(a.domain.cmp(&b.domain)));
        let mut unknown: Vec<TemplateStats> = self
            .templates
            .iter()
            .map(|(k, t)| TemplateStats {
                template: k.clone(),
                count: t.count,
                severity: t.severity.to_string(),
                sample: Evidence::new(self.source(t.sample.loc), t.sample.text.as_str()),
            })
            .collect();
        unknown.sort_by(|a, b| b.count.cmp(&a.count).then(a.template.cmp(&b.template)));
        let mut values: Vec<ValueStats> = self
            .values
            .drain()
            .filter_map(|((sig, group, field), (tally, segs))| {
                let mut files: Vec<String> = segs.iter().filter_map(|&g| self.segments.get(g as usize)).map(|x| x.path.clone()).collect();
                files.sort();
                files.dedup();
                Some(ValueStats { signature: sigs.get(sig as usize)?.id.clone(), group, field, tally, files })
            })
            .collect();
        values.sort_by(|a, b| (&a.signature, &a.group, &a.field).cmp(&(&b.signature, &b.group, &b.field)));
        let (rejected_evidence, _) = self.evidence(&self.rejected_samples);
        let failures = self.failure_stats(sigs);
        LogStats {
            failures,
            expired_without_reason: self.failures.expired_without_reason,
            files,
            signatures,
            statuses,
            rejected: self.rejected,
            rejected_evidence,
            values,
            destinations,
            destinations_dropped: self.dests_dropped,
            unknown,
            unknown_dropped: self.templates_dropped,
            unmatched_problems: self.unmatched_problems,
            evicted: self.evicted,
            first_at: self.first_at,
            last_at: self.last_at,
            trend_span: None,
            window: Window::default(),
        }
    }
}

impl Scan {
    /// The failure groups, most messages (then reject lines) first, each read into its parts.
    fn failure_stats(&self, sigs: &[Signature]) -> Vec<FailStats> {
        let mut out: Vec<FailStats> = self
            .failures
            .groups
            .iter()
            .filter(|g| g.messages() + g.rejects > 0)
            .map(|g| {
                let sample = g.first.as_ref().map(|l| l.text.as_str()).unwrap_or("");
                let line = split_syslog(sample);
                let program = line.program.unwrap_or("");
                let parsed = reason::parse_status(line.message).unwrap_or_else(|| {
                    let text = line.message.split_once("reject: ").map_or(line.message, |(_, r)| r);
                    reason::parse_reason(text)
                });
                let signature = g.signature.and_then(|i| sigs.get(i as usize));
                // A group keyed by a signature is that signature's reason; the others by structure.
                let by_signature = g.key.starts_with("sig ");
                let mut evidence = Vec::new();
                for l in g.first.iter().chain(g.last.iter()) {
                    let loc = Loc { seg: l.seg, line: l.line };
                    evidence.push(Evidence::new(self.source(loc), l.text.as_str()));
                }
                FailStats {
                    signature: signature.map(|s| s.id.clone()),
                    category: signature.filter(|_| by_signature).map_or(parsed.category, |s| s.category.as_str()).to_string(),
                    agent: reason::agent(program).to_string(),
                    relay: parsed.relay.unwrap_or("").to_string(),
                    dsn: parsed.dsn.map(|d| d.text()).unwrap_or_default(),
                    shape: parsed.shape.as_str().to_string(),
                    errno: parsed.errno.unwrap_or("").to_string(),
                    path: parsed.path.unwrap_or("").to_string(),
                    host: parsed.host.unwrap_or("").to_string(),
                    ip: parsed.ip.unwrap_or("").to_string(),
                    port: parsed.port,
                    command: parsed.command.unwrap_or("").to_string(),
                    reason: crate::text::truncate_chars(parsed.reason, 400),
                    template: g.key.splitn(3, '|').nth(2).unwrap_or("").to_string(),
                    deferred: g.deferred,
                    bounced: g.bounced,
                    expired: g.expired,
                    rejects: g.rejects,
                    lines: g.lines,
                    more_evidence: g.lines.saturating_sub(evidence.len() as u64),
                    evidence,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (b.deferred + b.bounced + b.expired)
                .cmp(&(a.deferred + a.bounced + a.expired))
                .then(b.rejects.cmp(&a.rejects))
                .then(a.signature.cmp(&b.signature))
                .then(a.template.cmp(&b.template))
        });
        out
    }
}

/// One reason failures were logged with: a signature's, or a structure no signature knows.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FailStats {
    /// The signature that knows the failure line; `None` when only its structure was read.
    pub signature: Option<String>,
    pub category: String,
    /// The program that logged it (`smtp`, `local`, `virtual`, `lmtp`, `pipe`, `smtpd`, …).
    pub agent: String,
    pub relay: String,
    pub dsn: String,
    pub shape: String,
    pub errno: String,
    pub path: String,
    pub host: String,
    pub ip: String,
    pub port: Option<u16>,
    pub command: String,
    /// The reason of the first line, as logged (at most 400 characters).
    pub reason: String,
    /// The reason with ids, numbers, addresses and hosts masked (lines no signature knows).
    pub template: String,
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
    pub rejects: u64,
    pub lines: u64,
    #[serde(skip)]
    pub evidence: Vec<Evidence>,
    #[serde(skip)]
    pub more_evidence: u64,
}

/// Join the earlier part `e` of a message into its later part `m`.
fn join(m: &mut Msg, e: &Msg, later_sigs: &mut [SigAgg]) {
    if m.size.is_none() {
        m.size = e.size;
    }
    if m.status.is_none() {
        m.status = e.status;
    }
    if m.fail.is_none() {
        m.fail = e.fail;
    }
    for &s in e.sigs() {
        if !m.add_sig(s) {
            // Counted as a message on both sides of the cut: once is right.
            if let Some(a) = later_sigs.get_mut(s as usize) {
                a.messages = a.messages.saturating_sub(1);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Results

#[derive(Clone, Debug, serde::Serialize)]
pub struct FileStats {
    pub path: String,
    pub lines: u64,
    pub skipped: u64,
    /// Lines with invalid UTF-8, read with replacement characters.
    pub lossy: u64,
    pub matched: u64,
    pub outside: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    #[serde(skip)]
    pub observation: Option<u32>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct SigStats {
    pub id: String,
    pub program: String,
    pub category: String,
    pub severity: LogSeverity,
    pub count: u64,
    pub messages: u64,
    #[serde(skip)]
    pub sizes: Sizes,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    #[serde(skip)]
    pub first_at: Option<i64>,
    #[serde(skip)]
    pub last_at: Option<i64>,
    pub trend: [u64; TREND_BUCKETS],
    #[serde(skip)]
    pub evidence: Vec<Evidence>,
    #[serde(skip)]
    pub more_evidence: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct StatusStats {
    pub status: String,
    pub lines: u64,
    pub smtp_lines: u64,
    pub messages: u64,
    #[serde(skip)]
    pub sizes: Sizes,
    pub trend: [u64; TREND_BUCKETS],
    #[serde(skip)]
    pub evidence: Vec<Evidence>,
    #[serde(skip)]
    pub more_evidence: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct DestStats {
    pub domain: String,
    pub deferred: u64,
    pub bounced: u64,
    /// (signature id, lines), most frequent first.
    pub reasons: Vec<(String, u64)>,
    pub sample: Option<Evidence>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct TemplateStats {
    pub template: String,
    pub count: u64,
    pub severity: String,
    pub sample: Evidence,
}

/// Values of one capture of one signature (`log_values`).
#[derive(Clone, Debug)]
pub struct ValueStats {
    pub signature: String,
    pub group: String,
    pub field: String,
    pub tally: tally::Tally,
    pub files: Vec<String>,
}

/// Everything learnt from the logs.
#[derive(Clone, Debug)]
pub struct LogStats {
    /// Every failed message and reject under its reason (the accounting's input).
    pub failures: Vec<FailStats>,
    /// Expired messages whose deferrals came before the window.
    pub expired_without_reason: u64,
    pub values: Vec<ValueStats>,
    pub files: Vec<FileStats>,
    pub signatures: Vec<SigStats>,
    pub statuses: Vec<StatusStats>,
    pub rejected: u64,
    pub rejected_evidence: Vec<Evidence>,
    pub destinations: Vec<DestStats>,
    pub destinations_dropped: u64,
    pub unknown: Vec<TemplateStats>,
    pub unknown_dropped: u64,
    pub unmatched_problems: u64,
    /// Messages finalised early because the table was full.
    pub evicted: u64,
    pub first_at: Option<i64>,
    pub last_at: Option<i64>,
    pub trend_span: Option<(i64, i64)>,
    pub window: Window,
}

/// Rising, falling or steady: the second half of the trend against the first.
pub fn trend_word(t: &[u64; TREND_BUCKETS]) -> &'static str {
    let half = TREND_BUCKETS / 2;
    let early: u64 = t[..half].iter().sum();
    let late: u64 = t[half..].iter().sum();
    if early + late < 4 {
        "sparse"
    } else if late == 0 {
        "stopped"
    } else if late >= 2 * early.max(1) {
        "rising"
    } else if early >= 2 * late {
        "falling"
    } else {
        "steady"
    }
}

/// Line counts over every file read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Totals {
    pub lines: u64,
    pub matched: u64,
    pub skipped: u64,
    pub outside: u64,
}

impl LogStats {
    pub fn lines(&self) -> u64 {
        self.totals().lines
    }

    pub fn totals(&self) -> Totals {
        self.files.iter().fold(Totals::default(), |t, f| Totals {
            lines: t.lines + f.lines,
            matched: t.matched + f.matched,
            skipped: t.skipped + f.skipped,
            outside: t.outside + f.outside,
        })
    }

    /// [`trend_word`], or `none` when the lines span too little time for a trend.
    pub fn trend_word(&self, t: &[u64; TREND_BUCKETS]) -> &'static str {
        if self.trend_span.is_some() {
            trend_word(t)
        } else {
            "none"
        }
    }
}

/// The shortest span of log with a trend.
pub const MIN_TREND_SPAN: i64 = 3600;

/// The span the trend buckets cover: the window, narrowed to the lines there are.
pub fn trend_span(window: Window, oldest: Option<i64>, newest: Option<i64>) -> Option<(i64, i64)> {
    let end = match (window.until, newest) {
        (Some(u), Some(n)) => u.min(n),
        (u, n) => u.or(n)?,
    };
    let start = match (window.since, oldest) {
        (Some(s), Some(o)) => s.max(o),
        (s, o) => s.or(o)?,
    };
    // Under an hour of log says nothing about a trend.
    (end - start >= MIN_TREND_SPAN).then_some((start, end))
}

impl ScanOptions {
    /// Lines inside `window`; the trend over the part of it the lines cover (`oldest` to `newest`).
    pub fn new(window: Window, reference: i64, oldest: Option<i64>, newest: Option<i64>, unknown: bool) -> ScanOptions {
        ScanOptions { window, reference, trend_span: trend_span(window, oldest, newest), unknown, known_sizes: Default::default() }
    }
}

/// Scan `segments` on `threads` threads: the one way both the bundle's log texts (`why`) and
/// log files (`logs stats`) are scanned. The stats carry the window and trend span used.
pub fn scan(sigs: &[Signature], opts: &ScanOptions, segments: Vec<Box<dyn Segment + '_>>, threads: usize) -> LogStats {
    let m = Matcher::new(sigs);
    let mut stats = scan_segments(&m, opts, segments, threads).finish(sigs, opts.reference);
    stats.window = opts.window;
    stats.trend_span = opts.trend_span;
    stats
}

// ---------------------------------------------------------------------------------------
// Driving: segments on every core

/// A piece of log to scan: feeds its lines to the scanner it is given.
pub trait Segment: Send {
    fn path(&self) -> &str;
    /// The line number of the first line, when the segment starts a file or a text.
    fn first_line(&self) -> Option<u64>;
    fn observation(&self) -> Option<u32> {
        None
    }
    fn feed(&mut self, s: &mut Scanner<'_, '_>);
}

/// An in-memory text (a bundle's log) or a part of it.
pub struct TextSegment<'a> {
    pub path: &'a str,
    pub text: &'a str,
    pub first_line: Option<u64>,
    pub observation: Option<u32>,
}

impl Segment for TextSegment<'_> {
    fn path(&self) -> &str {
        self.path
    }
    fn first_line(&self) -> Option<u64> {
        self.first_line
    }
    fn observation(&self) -> Option<u32> {
        self.observation
    }
    fn feed(&mut self, s: &mut Scanner<'_, '_>) {
        for l in self.text.split_terminator('\n') {
            s.line(l);
        }
    }
}

/// Cut a text into about `parts` pieces at line boundaries.
pub fn split_text<'a>(path: &'a str, text: &'a str, first_line: u64, parts: usize, observation: Option<u32>) -> Vec<TextSegment<'a>> {
    let mut out = Vec::new();
    let step = (text.len() / parts.max(1)).max(1 << 20);
    let mut start = 0;
    while start < text.len() || out.is_empty() {
        let mut end = (start + step).min(text.len());
        while end < text.len() && !text.is_char_boundary(end) {
            end += 1;
        }
        let end = match text[end..].find('\n') {
            Some(p) if end < text.len() => end + p + 1,
            _ => text.len(),
        };
        out.push(TextSegment {
            path,
            text: &text[start..end],
            first_line: if start == 0 { Some(first_line) } else { None },
            observation: if start == 0 { observation } else { None },
        });
        start = end;
        if start >= text.len() {
            break;
        }
    }
    out
}

/// Scan the segments (in log order) on `threads` threads and merge the results.
pub fn scan_segments(m: &Matcher<'_>, opts: &ScanOptions, segments: Vec<Box<dyn Segment + '_>>, threads: usize) -> Scan {
    let n = segments.len();
    let slots: Vec<std::sync::Mutex<Option<Box<dyn Segment + '_>>>> =
        segments.into_iter().map(|s| std::sync::Mutex::new(Some(s))).collect();
    let results: Vec<std::sync::Mutex<Option<Scan>>> = (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = |mm: &Matcher<'_>| loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if i >= n {
            break;
        }
        let Some(mut seg) = slots[i].lock().ok().and_then(|mut g| g.take()) else { continue };
        let mut sc = Scanner::new(mm, opts, i as u32, seg.path(), seg.first_line());
        sc.scan.segments[0].observation = seg.observation();
        seg.feed(&mut sc);
        if let Ok(mut g) = results[i].lock() {
            *g = Some(sc.finish());
        }
    };
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        work(m);
    } else {
        std::thread::scope(|sc| {
            for _ in 1..threads {
                let mm = m.fork();
                let work = &work;
                sc.spawn(move || work(&mm));
            }
            work(m);
        });
    }
    let mut merged: Option<Scan> = None;
    for r in results {
        let Some(s) = r.into_inner().ok().flatten() else { continue };
        match &mut merged {
            Some(acc) => acc.merge(s),
            None => merged = Some(s),
        }
    }
    merged.unwrap_or_else(|| Scan {
        sigs: vec![SigAgg::default(); m.signatures().len()],
        statuses: vec![StatusAgg::default(); STATUSES.len()],
        ..Scan::default()
    })
}

/// Threads to use: the machine's cores, at most 8.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
}
