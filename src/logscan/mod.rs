//! The log engine (no Bundle, no Fact): every line through the signature catalogue and the Postfix queue-id
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
//!
//! One file per concern: the line grammar (`line`), the reference classifier (`classify`),
//! the literal index (`index`) and quick matcher (`quickmatch`) behind the fast matcher
//! (`matcher`), the scanner and its message table (`scanner`), problem lines no signature
//! knows (`problems`), merging and finishing scans (`merge`), the time window and trend
//! (`window`), segment feeding (`segment`), failure groups (`failures`), structural
//! reading of a status line (`reason`), value tallies (`tally`) and the results the
//! reports read (`stats`). This file holds the scan's memory bounds.

pub mod classify;
pub mod failures;
mod fx;
mod index;
pub mod line;
mod matcher;
mod merge;
mod problems;
pub mod quickmatch;
pub mod reason;
mod scanner;
mod segment;
mod stats;
pub mod tally;
mod window;

pub use index::LiteralIndex;
pub use matcher::{Matcher, Words};
pub use problems::{is_problem, template};
pub use scanner::{Scan, Scanner, SegmentInfo, Sizes, STATUSES};
pub use segment::{default_threads, scan, scan_segments, split_text, Segment, TextSegment};
pub use stats::{trend_word, DestStats, FailStats, FileStats, LogStats, SigStats, StatusStats, TemplateStats, Totals, ValueStats};
pub use window::{trend_span, ScanOptions, MIN_TREND_SPAN};

/// Messages followed at once; beyond this the least recently seen are finalised as they are.
pub const MAX_OPEN: usize = 200_000;
/// Destinations and unknown-line templates kept; later new ones are counted, not stored.
pub(crate) const MAX_DESTINATIONS: usize = 10_000;
pub(crate) const MAX_TEMPLATES: usize = 20_000;
/// Sample lines kept per signature and per status: the first few and the last.
pub(crate) const FIRST_SAMPLES: usize = 3;
/// Time buckets of the trend.
pub const TREND_BUCKETS: usize = 12;
/// Signatures of this priority or lower are families (an RFC 3463 class, a remote 4xx)
/// rather than reasons: the accounting tells their lines apart by structure.
pub(crate) const GENERIC_PRIORITY: i32 = 2;
/// Signatures remembered per message (for per-signature message counts and sizes).
pub(crate) const SIGS_PER_MESSAGE: usize = 8;
