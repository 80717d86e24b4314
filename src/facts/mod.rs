//! Producers: from a bundle of observations to typed facts — the one list of producers, the
//! context they share, and running them in order. Pure: they read
//! [`Observation`](crate::bundle::Observation)s and never touch the filesystem, run commands
//! or ask DNS. That is what lets an old bundle be re-read by a newer producer, and lets
//! every producer be tested on captured output.

pub mod dns;
pub mod endpoints;
pub mod firewall;
pub mod host;
pub mod kinds;
pub mod logs;
pub mod logvalues;
pub mod mailconf;
pub mod net;
pub mod postconf;
pub mod queue;
pub mod samples;
pub mod services;
pub mod stat;

use crate::bundle::{select, Bundle, Observation};
use crate::kb::Knowledge;
use crate::model::{FactSet, KindSpec};
use crate::parse::mailconf::{dovecot_effective, DovecotSetting};
use crate::parse::postconf::{config_of, Config};
use crate::time::WindowSpec;
use std::collections::HashMap;

/// What every producer may read: the bundle, the knowledge base, the log time window, and
/// what several producers need parsed, parsed once here (main.cf, Dovecot's settings, the
/// inspected system's users and groups).
pub struct Context<'a> {
    pub bundle: &'a Bundle,
    pub k: &'a Knowledge,
    pub window: &'a WindowSpec,
    /// Postfix's configuration (`postconf -n` when it ran, else main.cf); `None` when
    /// neither was read.
    pub cfg: Option<Config>,
    /// Dovecot's effective settings (`doveconf -n`, else its files in include order).
    pub dovecot: Vec<DovecotSetting>,
    /// uid → name from the inspected system's /etc/passwd (first name wins, as `ls` does).
    pub users: HashMap<u32, String>,
    /// gid → name from its /etc/group.
    pub groups: HashMap<u32, String>,
}

impl<'a> Context<'a> {
    /// Parse what producers share, once.
    pub fn new(bundle: &'a Bundle, k: &'a Knowledge, window: &'a WindowSpec) -> Context<'a> {
        Context {
            bundle,
            k,
            window,
            cfg: config_from(&bundle.observations),
            dovecot: dovecot_from(&bundle.observations),
            users: stat::id_names(bundle, "/etc/passwd"),
            groups: stat::id_names(bundle, "/etc/group"),
        }
    }
}

/// Postfix's configuration from the observations (`postconf -n`, else main.cf, with `postconf
/// -d`'s defaults): selected by `bundle::select`, parsed by `parse::postconf`.
pub fn config_from(observations: &[Observation]) -> Option<Config> {
    let (text, origin, id) = select::postfix_config(observations)?;
    Some(config_of(text, origin, Some(id), select::postfix_defaults(observations)))
}

/// Dovecot's effective settings from the observations.
pub fn dovecot_from(observations: &[Observation]) -> Vec<DovecotSetting> {
    dovecot_effective(&select::dovecot_sources(observations))
}

/// A producer: the kinds it declares (the vocabulary `rules lint` checks rules against) and
/// the function that produces them. A producer may declare kinds from more than one table
/// (the logs producer makes `log_values` with `logvalues.rs`'s help in its one pass).
pub struct Producer {
    pub name: &'static str,
    pub kinds: &'static [&'static [KindSpec]],
    pub run: fn(&Context<'_>, &mut FactSet),
}

/// Every producer, in the order they run: a later one may read what an earlier one
/// produced. Adding a producer is its file and one line here.
pub const PRODUCERS: &[Producer] = &[
    Producer { name: "stat", kinds: &[stat::KINDS], run: stat::stat_producer },
    Producer { name: "postconf", kinds: &[postconf::KINDS], run: |c, out| postconf::facts(&c.bundle.observations, c.cfg.as_ref(), out) },
    Producer { name: "logs", kinds: &[logs::KINDS, logvalues::KINDS], run: |c, out| logs::facts_in_window(c.bundle, c.k, c.window, out) },
    Producer { name: "mailconf", kinds: &[mailconf::KINDS], run: |c, out| mailconf::facts(c.bundle, c.cfg.as_ref(), &c.dovecot, out) },
    Producer { name: "endpoints", kinds: &[endpoints::KINDS], run: |c, out| endpoints::facts(c.bundle, c.cfg.as_ref(), out) },
    Producer { name: "queue", kinds: &[queue::KINDS], run: |c, out| queue::facts(c.bundle, out) },
    Producer { name: "host", kinds: &[host::KINDS], run: |c, out| host::facts(c.bundle, c.cfg.as_ref(), &c.dovecot, out) },
    Producer { name: "services", kinds: &[services::KINDS], run: |c, out| services::facts(c.bundle, out) },
    Producer { name: "net", kinds: &[net::KINDS], run: |c, out| net::facts(c.bundle, out) },
    Producer { name: "firewall", kinds: &[firewall::KINDS], run: |c, out| firewall::facts(c.bundle, out) },
    Producer { name: "dns", kinds: &[dns::KINDS], run: |c, out| dns::facts(c.bundle, c.cfg.as_ref(), out) },
    // A combiner: it reads log_signature, fs_usage and postconf facts, so it runs after them.
    Producer { name: "samples", kinds: &[samples::KINDS], run: |c, out| samples::facts(c.k, out) },
];

/// Every fact the bundle supports.
pub fn facts_from(bundle: &Bundle, k: &Knowledge) -> FactSet {
    facts_in_window(bundle, k, &WindowSpec::default())
}

/// [`facts_from`], with the log time window the user asked for: every producer of
/// [`PRODUCERS`], in order, given one [`Context`].
pub fn facts_in_window(bundle: &Bundle, k: &Knowledge, window: &WindowSpec) -> FactSet {
    let mut out = FactSet::new();
    let ctx = Context::new(bundle, k, window);
    for p in PRODUCERS {
        (p.run)(&ctx, &mut out);
    }
    if bundle.log_only {
        // Nothing but the log was observed: every other kind is unknown, never "none", for
        // this one reason (the producers' own reasons, such as "--root given", do not apply).
        out.unavailable.retain(|u| LOG_KINDS.contains(&u.kind.as_str()));
        for kind in kinds::base_kinds() {
            if !LOG_KINDS.contains(&kind.name) {
                out.unavailable(kind.name, "the host's configuration, files, queue and services", "log only: not observed".to_string());
            }
        }
    }
    out
}

/// The kinds the logs alone produce.
pub const LOG_KINDS: &[&str] =
    &["log_file", "log_source", "log_signature", "delivery_summary", "log_destination", "log_values", "log_sample", "delivery_failure"];
