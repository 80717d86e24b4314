//! Counting the values of chosen captures (`log_values`): a bounded count of distinct
//! values per (signature, group, field), merged across segments. No facts here.

use std::collections::HashMap;

/// Distinct values remembered per (signature, field); past it new values are not told apart.
const MAX_DISTINCT: usize = 50_000;

#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub counts: HashMap<String, u64>,
    pub lines: u64,
    /// Lines whose value was not remembered (MAX_DISTINCT reached).
    pub unlisted: u64,
}

impl Tally {
    pub fn merge(&mut self, o: Tally) {
        self.lines += o.lines;
        self.unlisted += o.unlisted;
        for (v, n) in o.counts {
            if let Some(c) = self.counts.get_mut(&v) {
                *c += n;
            } else if self.counts.len() < MAX_DISTINCT {
                self.counts.insert(v, n);
            } else {
                self.unlisted += n;
            }
        }
    }

    pub fn add(&mut self, v: &str) {
        self.lines += 1;
        if let Some(n) = self.counts.get_mut(v) {
            *n += 1;
        } else if self.counts.len() < MAX_DISTINCT {
            self.counts.insert(v.to_string(), 1);
        } else {
            self.unlisted += 1;
        }
    }
}
