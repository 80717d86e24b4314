//! The scanner and its message table: one line at a time into bounded per-message,
//! per-signature, per-status and per-destination aggregates, allocating nothing per line.

use super::failures;
use super::fx::pack_qid;
use super::fx::FxMap;
use super::line::field;
use super::line::queue_id;
use super::line::split_syslog;
use super::line::LogLine;
use super::line::MAX_LINE;
use super::matcher::Matcher;
use super::matcher::Words;
use super::quickmatch::same_bytes;
use super::tally;
use super::window::bucket;
use super::window::ScanOptions;
use super::FIRST_SAMPLES;
use super::GENERIC_PRIORITY;
use super::MAX_OPEN;
use super::SIGS_PER_MESSAGE;
use super::TREND_BUCKETS;
use crate::time::parse_stamp;
use std::collections::HashMap;

/// Where a line is: the segment it was read in and its line number there. Turned into
/// `path:line` when segments are merged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Loc {
    pub(super) seg: u32,
    pub(super) line: u64,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Sample {
    pub(super) loc: Loc,
    pub(super) text: String,
}

/// The first few samples and the last one; the last reuses its buffer.
#[derive(Clone, Debug, Default)]
pub(super) struct Samples {
    pub(super) first: Vec<Sample>,
    pub(super) last: Option<Sample>,
    pub(super) total: u64,
}

impl Samples {
    pub(super) fn add(&mut self, loc: Loc, text: &str) {
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
    pub(super) fn merge(&mut self, later: Samples) {
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
    pub(super) fn add(&mut self, n: i64) {
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
    pub(super) fn merge(&mut self, o: &Sizes) {
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
pub(super) struct SigAgg {
    pub(super) count: u64,
    pub(super) messages: u64,
    pub(super) sizes: Sizes,
    pub(super) samples: Samples,
    pub(super) trend: [u64; TREND_BUCKETS],
}

/// Postfix delivery statuses (`status=`), in a fixed order.
pub const STATUSES: [&str; 7] = ["sent", "deferred", "bounced", "expired", "deliverable", "undeliverable", "other"];

pub(super) fn status_index(s: &str) -> usize {
    STATUSES.iter().position(|x| *x == s).unwrap_or(STATUSES.len() - 1)
}

#[derive(Clone, Debug, Default)]
pub(super) struct StatusAgg {
    /// `status=` lines (one per recipient and attempt).
    pub(super) lines: u64,
    /// Of those, the lines logged by the SMTP client.
    pub(super) smtp_lines: u64,
    /// Messages whose last status this was.
    pub(super) messages: u64,
    pub(super) sizes: Sizes,
    pub(super) samples: Samples,
    pub(super) trend: [u64; TREND_BUCKETS],
}

#[derive(Clone, Debug, Default)]
pub(super) struct DestAgg {
    pub(super) deferred: u64,
    pub(super) bounced: u64,
    /// (signature index or `u16::MAX` for "no signature", lines)
    pub(super) reasons: Vec<(u16, u64)>,
    pub(super) sample: Option<Sample>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Template {
    pub(super) count: u64,
    pub(super) severity: &'static str,
    pub(super) sample: Sample,
}

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Msg {
    pub(super) size: Option<i64>,
    pub(super) status: Option<u8>,
    /// The failure group of the last deferred or bounced line ([`failures::Table`]).
    pub(super) fail: Option<u32>,
    pub(super) sigs: [u16; SIGS_PER_MESSAGE],
    pub(super) nsigs: u8,
    pub(super) touched: u64,
}

impl Msg {
    pub(super) fn sigs(&self) -> &[u16] {
        &self.sigs[..self.nsigs as usize]
    }
    /// Adds `s`; true when it is new for this message.
    pub(super) fn add_sig(&mut self, s: u16) -> bool {
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
    pub(super) sigs: Vec<SigAgg>,
    pub(super) statuses: Vec<StatusAgg>,
    pub(super) rejected: u64,
    pub(super) rejected_samples: Samples,
    pub(super) open: FxMap<u128, Msg>,
    /// Messages removed in this segment whose start (size=) was not seen in it: they are
    /// joined with the previous segment's open messages when merged.
    pub(super) orphans: Vec<(u128, Msg)>,
    /// (signature, group, field) → values counted, and the files they came from.
    pub(super) values: HashMap<(u16, String, String), (tally::Tally, Vec<u32>)>,
    pub(super) dests: HashMap<String, DestAgg>,
    pub(super) dests_dropped: u64,
    pub(super) templates: HashMap<String, Template>,
    pub(super) templates_dropped: u64,
    /// Every failed message and reject under the reason of its failure line.
    pub(super) failures: failures::Table,
    /// Problem lines (by their own severity word) no signature matched.
    pub unmatched_problems: u64,
    pub(super) evicted: u64,
    pub(super) tick: u64,
    pub(super) first_at: Option<i64>,
    pub(super) last_at: Option<i64>,
}

/// Per-thread scanning state around a [`Scan`].
pub struct Scanner<'m, 'k> {
    pub(super) m: &'m Matcher<'k>,
    pub(super) opts: &'m ScanOptions,
    pub scan: Scan,
    pub(super) seg: u32,
    pub(super) line: u64,
    pub(super) stamp_key: String,
    pub(super) stamp_base: Option<i64>,
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
    pub(super) fn stamp(&mut self, ts: &str) -> Option<i64> {
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

    pub(super) fn loc(&self) -> Loc {
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

    pub(super) fn scan_line(&mut self, raw: &str, has_nul: bool) {
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
        let qid = queue_id(msg).and_then(|q| pack_qid(q).map(|k| (q, k)));

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
        }
        if let Some(i) = sig {
            if entry.add_sig(i as u16) {
                self.scan.sigs[i].messages += 1;
            }
        }
        if let Some(st) = status {
            let si = status_index(st);
            entry.status = Some(si as u8);
            if st == "deferred" || st == "bounced" {
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
                let dest =
                    field(msg, "to=<").map(|t| t.trim_end_matches('>')).map(|t| t.rsplit_once('@').map_or(t, |(_, d)| d)).unwrap_or("");
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
    pub(super) fn tally(&mut self, i: usize, spec: &crate::kb::reference::TallySpec, l: &LogLine<'_>, loc: Loc) {
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
