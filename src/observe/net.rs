//! (stub) net collector — to be written.

use super::{Options, Recorder};
use crate::facts::postconf::Config;

pub fn collect(_opts: &Options, _cfg: &Config, _rec: &mut Recorder) {}
