//! The scan's results as the reports read them: `LogStats` and its per-file, per-signature,
//! per-status, per-destination, per-template, per-value and per-failure parts.

use super::scanner::Sizes;
use super::tally;
use super::TREND_BUCKETS;
use crate::kb::signature::LogSeverity;
use crate::model::Evidence;
use crate::time::Window;

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
