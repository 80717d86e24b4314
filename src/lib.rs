//! mailsleuth: why is my mail deferred (or bounced, or not arriving)?
//!
//! Data flows one way through four stages (see docs/ARCHITECTURE.md):
//! [`observe`] (collectors: the only code touching the inspected host) →
//! [`facts`] (pure parsers: observations → typed facts) →
//! [`engine`] (the rule graph, forward chaining, ranking) →
//! [`report`] (human and JSON renderings).
//! The knowledge base ([`kb`]) is data: RON rules and signatures embedded at build time.

pub mod bundle;
pub mod engine;
pub mod facts;
pub mod kb;
pub mod logscan;
pub mod model;
pub mod observe;
pub mod parse;
pub mod report;
pub mod scaffold;
pub mod scenario;
pub mod text;
pub mod time;

use bundle::Bundle;
use kb::Knowledge;

/// Parse a bundle and run every rule: the whole diagnosis, without touching any system.
pub fn diagnose(bundle: &Bundle, k: &Knowledge) -> report::Report {
    diagnose_in_window(bundle, k, &time::WindowSpec::default())
}

/// [`diagnose`], considering only the log lines inside `window`.
pub fn diagnose_in_window(bundle: &Bundle, k: &Knowledge, window: &time::WindowSpec) -> report::Report {
    let facts = facts::parse::facts_in_window(bundle, k, window);
    let eval = engine::run(k, facts);
    report::Report::new(bundle, k, eval)
}
