//! (stub) services parser — to be written.

use super::kinds::KindSpec;
use super::FactSet;
use crate::observe::Bundle;

/// Fact kinds this parser produces.
pub const KINDS: &[KindSpec] = &[];

pub fn facts(_bundle: &Bundle, _out: &mut FactSet) {}
