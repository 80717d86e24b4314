//! Feeding the scanner: segments of log (a text cut at line boundaries, or a file range)
//! scanned on every core and merged in log order; `scan`, the one entry point.

use super::matcher::Matcher;
use super::scanner::Scan;
use super::scanner::Scanner;
use super::scanner::SigAgg;
use super::scanner::StatusAgg;
use super::scanner::STATUSES;
use super::stats::LogStats;
use super::window::ScanOptions;
use crate::kb::signature::Signature;

/// Scan `segments` on `threads` threads: the one way both the bundle's log texts (`why`) and
/// log files (`logs stats`) are scanned. The stats carry the window and trend span used.
pub fn scan(sigs: &[Signature], opts: &ScanOptions, segments: Vec<Box<dyn Segment + '_>>, threads: usize) -> LogStats {
    let m = Matcher::new(sigs);
    let mut stats = scan_segments(&m, opts, segments, threads).finish(sigs, opts.reference);
    stats.window = opts.window;
    stats.trend_span = opts.trend_span;
    stats
}

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
