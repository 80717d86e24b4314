//! Producers: from a bundle of observations to typed facts. Pure: they read
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
pub mod parse;
pub mod postconf;
pub mod queue;
pub mod samples;
pub mod services;
