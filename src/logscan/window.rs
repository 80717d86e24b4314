//! What to scan for in time: the scan options (window, reference time) and the trend span
//! and buckets.

use super::TREND_BUCKETS;
use crate::time::Window;

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
}

pub(super) fn bucket(span: Option<(i64, i64)>, t: i64) -> Option<usize> {
    let (start, end) = span?;
    if t < start || t > end {
        return None;
    }
    let width = ((end - start) / TREND_BUCKETS as i64).max(1);
    Some((((t - start) / width) as usize).min(TREND_BUCKETS - 1))
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
        ScanOptions { window, reference, trend_span: trend_span(window, oldest, newest), unknown }
    }
}
