//! Producers: from a bundle of observations to typed facts. Pure: they read
//! [`Observation`](crate::bundle::Observation)s and never touch the filesystem, run commands
//! or ask DNS. That is what lets an old bundle be re-read by a newer producer, and lets
//! every producer be tested on captured output.

pub mod courier;
pub mod dns;
pub mod endpoints;
pub mod firewall;
pub mod host;
pub mod kinds;
pub mod logs;
pub mod logvalues;
pub mod mailconf;
pub mod mta;
pub mod net;
pub mod parse;
pub mod postconf;
pub mod queue;
pub mod samples;
pub mod services;

use crate::bundle::Bundle;
use crate::kb::Knowledge;
use crate::model::{FactSet, KindSpec};
use crate::time::WindowSpec;

/// What every producer may read: the bundle, the knowledge base, the log time window.
pub struct Context<'a> {
    pub bundle: &'a Bundle,
    pub k: &'a Knowledge,
    pub window: &'a WindowSpec,
}

/// A producer: the kinds it declares (the vocabulary `rules lint` checks rules against) and
/// the function that produces them.
pub struct Producer {
    pub name: &'static str,
    pub kinds: &'static [KindSpec],
    pub run: fn(&Context<'_>, &mut FactSet),
}

/// Every producer, in the order they run: a later one may read what an earlier one
/// produced. Adding a producer is its file and one line here.
pub const PRODUCERS: &[Producer] = &[
    Producer { name: "stat", kinds: parse::KINDS, run: parse::stat_producer },
    Producer { name: "postconf", kinds: postconf::KINDS, run: |c, out| postconf::facts(&c.bundle.observations, out) },
    Producer { name: "logs", kinds: logs::KINDS, run: |c, out| logs::facts_in_window(c.bundle, c.k, c.window, out) },
    Producer { name: "mailconf", kinds: mailconf::KINDS, run: |c, out| mailconf::facts(c.bundle, out) },
    Producer { name: "endpoints", kinds: endpoints::KINDS, run: |c, out| endpoints::facts(c.bundle, out) },
    Producer { name: "courier", kinds: courier::KINDS, run: |c, out| courier::facts(c.bundle, out) },
    Producer { name: "queue", kinds: queue::KINDS, run: |c, out| queue::facts(c.bundle, out) },
    Producer { name: "host", kinds: host::KINDS, run: |c, out| host::facts(c.bundle, out) },
    Producer { name: "services", kinds: services::KINDS, run: |c, out| services::facts(c.bundle, out) },
    Producer { name: "net", kinds: net::KINDS, run: |c, out| net::facts(c.bundle, out) },
    Producer { name: "firewall", kinds: firewall::KINDS, run: |c, out| firewall::facts(c.bundle, out) },
    Producer { name: "dns", kinds: dns::KINDS, run: |c, out| dns::facts(c.bundle, out) },
    // A combiner: the MTA from the software facts (or the log's programs).
    Producer { name: "mta", kinds: mta::KINDS, run: |_, out| mta::facts(out) },
    // A combiner: it reads log_signature, fs_usage and postconf facts, so it runs after them.
    Producer { name: "samples", kinds: samples::KINDS, run: |c, out| samples::facts(c.k, out) },
    // `log_values` are counted in the logs producer's one pass over the logs; this entry
    // declares their kind.
    Producer { name: "log values", kinds: logvalues::KINDS, run: |_, _| {} },
];
