//! The vocabulary of base kinds: every kind the producers of [`super::PRODUCERS`] declare.
//! Kinds concluded by rules are declared by those rules (`derive:`); together these are
//! the vocabulary `rules lint` checks rule conditions against ("rule X reads
//! `postconf.relay_host`, which nothing produces — did you mean `relayhost`?").

use crate::model::KindSpec;

/// Every kind the producers declare, in the order of [`super::PRODUCERS`].
pub fn base_kinds() -> impl Iterator<Item = &'static KindSpec> {
    super::PRODUCERS.iter().flat_map(|p| p.kinds.iter().flat_map(|k| k.iter()))
}

pub fn base_kind(name: &str) -> Option<&'static KindSpec> {
    base_kinds().find(|k| k.name == name)
}
