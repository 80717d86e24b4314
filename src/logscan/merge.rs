//! Combining scans: recording into the aggregates, merging segments in log order (joining
//! messages split by a cut), and finishing a scan into [`LogStats`](super::LogStats).

use super::failures;
use super::line::split_syslog;
use super::line::LogLine;
use super::problems::template;
use super::reason;
use super::scanner::Loc;
use super::scanner::Msg;
use super::scanner::Sample;
use super::scanner::Samples;
use super::scanner::Scan;
use super::scanner::SigAgg;
use super::scanner::Template;
use super::scanner::STATUSES;
use super::stats::DestStats;
use super::stats::FailStats;
use super::stats::FileStats;
use super::stats::LogStats;
use super::stats::SigStats;
use super::stats::StatusStats;
use super::stats::TemplateStats;
use super::stats::ValueStats;
use super::MAX_DESTINATIONS;
use super::MAX_OPEN;
use super::MAX_TEMPLATES;
use crate::kb::signature::Signature;
use crate::model::Evidence;
use crate::time::parse_stamp;
use crate::time::Window;

impl Scan {
    pub(super) fn destination(&mut self, dest: &str, bounced: bool, sig: Option<usize>, loc: Loc, raw: &str) {
        let full = self.dests.len() >= MAX_DESTINATIONS;
        let d = match self.dests.get_mut(dest) {
            Some(d) => d,
            None if !full => self.dests.entry(dest.to_string()).or_default(),
            None => {
                self.dests_dropped += 1;
                return;
            }
        };
        if bounced {
            d.bounced += 1;
        } else {
            d.deferred += 1;
        }
        let key = sig.map_or(u16::MAX, |s| s as u16);
        match d.reasons.iter_mut().find(|(k, _)| *k == key) {
            Some(r) => r.1 += 1,
            None => d.reasons.push((key, 1)),
        }
        if d.sample.is_none() {
            d.sample = Some(Sample { loc, text: raw.to_string() });
        }
    }

    pub(super) fn cluster(&mut self, program: Option<&str>, msg: &str, severity: &'static str, loc: Loc, raw: &str) {
        let prog = program.map(|p| p.rsplit('/').next().unwrap_or(p)).unwrap_or("-");
        let key = format!("{prog}: {}", template(msg));
        let full = self.templates.len() >= MAX_TEMPLATES;
        match self.templates.get_mut(&key) {
            Some(t) => t.count += 1,
            None if !full => {
                self.templates.insert(key, Template { count: 1, severity, sample: Sample { loc, text: raw.to_string() } });
            }
            None => self.templates_dropped += 1,
        }
    }

    /// A message is done (removed, evicted, or the log ended): count it under its last status.
    pub(super) fn finalize(&mut self, m: &Msg) {
        let outcome = match m.status.map(|s| STATUSES[s as usize]) {
            Some("deferred") => Some(failures::Outcome::Deferred),
            Some("bounced") => Some(failures::Outcome::Bounced),
            Some("expired") => Some(failures::Outcome::Expired),
            _ => None,
        };
        if let Some(o) = outcome {
            self.failures.message(o, m.fail);
        }
        if let Some(s) = m.status {
            let agg = &mut self.statuses[s as usize];
            agg.messages += 1;
            if let Some(n) = m.size {
                agg.sizes.add(n);
            }
        }
        if let Some(n) = m.size {
            for &s in m.sigs() {
                if let Some(a) = self.sigs.get_mut(s as usize) {
                    a.sizes.add(n);
                }
            }
        }
    }

    /// The table is full: finalise the least recently seen half.
    pub(super) fn evict(&mut self) {
        let mut ticks: Vec<u64> = self.open.values().map(|m| m.touched).collect();
        let mid = ticks.len() / 2;
        let (_, cut, _) = ticks.select_nth_unstable(mid);
        let cut = *cut;
        let old: Vec<(u128, Msg)> = self.open.iter().filter(|(_, m)| m.touched <= cut).map(|(k, m)| (*k, *m)).collect();
        for (k, m) in old {
            self.open.remove(&k);
            self.finalize(&m);
            self.evicted += 1;
        }
    }

    /// Append `later` (the next segment(s) in log order) to `self`.
    pub fn merge(&mut self, mut later: Scan) {
        // The later failure groups join this table first, so that every message that
        // moves over (or is finalised below) already names a group of this table.
        let map = self.failures.merge(std::mem::take(&mut later.failures));
        for (_, m) in later.orphans.iter_mut() {
            m.fail = failures::remap(m.fail, &map);
        }
        for m in later.open.values_mut() {
            m.fail = failures::remap(m.fail, &map);
        }
        // Messages that straddle the cut: their size is here, their end is there.
        for (k, mut m) in std::mem::take(&mut later.orphans) {
            if let Some(e) = self.open.remove(&k) {
                join(&mut m, &e, &mut later.sigs);
            }
            // Counted here rather than in `later`: the totals are summed below either way,
            // and only this table holds the message's failure group now.
            self.finalize(&m);
        }
        let keys: Vec<u128> = later.open.iter().filter(|(_, m)| m.size.is_none()).map(|(k, _)| *k).collect();
        for k in keys {
            if let Some(e) = self.open.remove(&k) {
                if let Some(m) = later.open.get_mut(&k) {
                    join(m, &e, &mut later.sigs);
                }
            }
        }
        let tick = self.tick;
        for (k, mut m) in later.open.drain() {
            m.touched += tick;
            self.open.insert(k, m);
        }
        self.tick += later.tick;
        while self.open.len() > MAX_OPEN {
            self.evict();
        }
        for (a, b) in self.sigs.iter_mut().zip(later.sigs) {
            a.count += b.count;
            a.messages += b.messages;
            a.sizes.merge(&b.sizes);
            a.samples.merge(b.samples);
            for (x, y) in a.trend.iter_mut().zip(b.trend) {
                *x += y;
            }
        }
        for (a, b) in self.statuses.iter_mut().zip(later.statuses) {
            a.lines += b.lines;
            a.smtp_lines += b.smtp_lines;
            a.messages += b.messages;
            a.sizes.merge(&b.sizes);
            a.samples.merge(b.samples);
            for (x, y) in a.trend.iter_mut().zip(b.trend) {
                *x += y;
            }
        }
        for (k, (t, segs)) in later.values {
            let e = self.values.entry(k).or_default();
            e.0.merge(t);
            e.1.extend(segs);
        }
        self.rejected += later.rejected;
        self.rejected_samples.merge(later.rejected_samples);
        for (k, d) in later.dests {
            let full = self.dests.len() >= MAX_DESTINATIONS;
            match self.dests.get_mut(&k) {
                Some(a) => {
                    a.deferred += d.deferred;
                    a.bounced += d.bounced;
                    for (s, n) in d.reasons {
                        match a.reasons.iter_mut().find(|(x, _)| *x == s) {
                            Some(r) => r.1 += n,
                            None => a.reasons.push((s, n)),
                        }
                    }
                }
                None if !full => {
                    self.dests.insert(k, d);
                }
                None => self.dests_dropped += d.deferred + d.bounced,
            }
        }
        self.dests_dropped += later.dests_dropped;
        for (k, t) in later.templates {
            let full = self.templates.len() >= MAX_TEMPLATES;
            match self.templates.get_mut(&k) {
                Some(a) => a.count += t.count,
                None if !full => {
                    self.templates.insert(k, t);
                }
                None => self.templates_dropped += t.count,
            }
        }
        self.templates_dropped += later.templates_dropped;
        self.unmatched_problems += later.unmatched_problems;
        self.evicted += later.evicted;
        self.first_at = match (self.first_at, later.first_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_at = match (self.last_at, later.last_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.segments.extend(later.segments);
    }

    /// The log has ended: messages still open are counted under their last status.
    pub(super) fn close(&mut self) {
        let open: Vec<Msg> = self.open.drain().map(|(_, m)| m).collect();
        for m in &open {
            self.finalize(m);
        }
        for (_, m) in std::mem::take(&mut self.orphans) {
            self.finalize(&m);
        }
    }

    /// `path:line` of a location, once segments are merged.
    pub(super) fn source(&self, loc: Loc) -> String {
        match self.segments.get(loc.seg as usize) {
            Some(s) => match s.first_line {
                Some(f) => format!("{}:{}", s.path, f + loc.line - 1),
                None => format!("{}:?", s.path),
            },
            None => "?".to_string(),
        }
    }

    pub(super) fn evidence(&self, s: &Samples) -> (Vec<Evidence>, u64) {
        let mut ev: Vec<Evidence> = s.first.iter().map(|x| Evidence::new(self.source(x.loc), x.text.as_str())).collect();
        if let Some(x) = &s.last {
            ev.push(Evidence::new(self.source(x.loc), x.text.as_str()));
        }
        let more = s.total.saturating_sub(ev.len() as u64);
        (ev, more)
    }

    /// Segment line numbers: a segment that starts mid-file continues its predecessor.
    /// Segment indices must equal their position (the driver numbers them so).
    pub(super) fn number_lines(&mut self) {
        let mut prev: Option<(String, u64)> = None;
        for s in &mut self.segments {
            if s.first_line.is_none() {
                s.first_line = Some(match &prev {
                    Some((p, next)) if *p == s.path => *next,
                    _ => 1,
                });
            }
            prev = Some((s.path.clone(), s.first_line.unwrap_or(1) + s.lines));
        }
    }

    pub fn lines(&self) -> u64 {
        self.segments.iter().map(|s| s.lines).sum()
    }

    /// The finished result: merged segments, line numbers resolved, open messages counted.
    pub fn finish(mut self, sigs: &[Signature], reference: i64) -> LogStats {
        self.number_lines();
        self.close();
        let mut files: Vec<FileStats> = Vec::new();
        for s in &self.segments {
            match files.last_mut() {
                Some(f) if f.path == s.path => {
                    f.lines += s.lines;
                    f.skipped += s.skipped;
                    f.lossy += s.lossy;
                    f.matched += s.matched;
                    f.outside += s.outside;
                    if s.problem.is_some() {
                        f.problem = s.problem.clone();
                    }
                }
                _ => files.push(FileStats {
                    path: s.path.clone(),
                    lines: s.lines,
                    skipped: s.skipped,
                    lossy: s.lossy,
                    matched: s.matched,
                    outside: s.outside,
                    problem: s.problem.clone(),
                    observation: s.observation,
                }),
            }
        }
        let mut signatures = Vec::new();
        for (i, a) in self.sigs.iter().enumerate() {
            if a.count == 0 {
                continue;
            }
            let Some(sig) = sigs.get(i) else { continue };
            let (evidence, more) = self.evidence(&a.samples);
            let first = a.samples.first.first().map(|x| split_syslog(&x.text));
            let last = a.samples.last.as_ref().or(a.samples.first.last()).map(|x| split_syslog(&x.text));
            let at = |l: &Option<LogLine<'_>>| l.as_ref().and_then(|l| l.timestamp).and_then(|t| parse_stamp(t, reference));
            signatures.push(SigStats {
                id: sig.id.clone(),
                program: last.as_ref().and_then(|l| l.program).unwrap_or("").to_string(),
                category: sig.category.clone(),
                severity: sig.severity,
                count: a.count,
                messages: a.messages,
                sizes: a.sizes,
                first_seen: first.as_ref().and_then(|l| l.timestamp).map(str::to_string),
                last_seen: last.as_ref().and_then(|l| l.timestamp).map(str::to_string),
                first_at: at(&first),
                last_at: at(&last),
                trend: a.trend,
                evidence,
                more_evidence: more,
            });
        }
        // By id, as the facts always were (rules see them in a stable order).
        signatures.sort_by(|a, b| a.id.cmp(&b.id));
        let mut statuses = Vec::new();
        for (i, a) in self.statuses.iter().enumerate() {
            if a.lines == 0 && a.messages == 0 {
                continue;
            }
            let (evidence, more) = self.evidence(&a.samples);
            statuses.push(StatusStats {
                status: STATUSES[i].to_string(),
                lines: a.lines,
                smtp_lines: a.smtp_lines,
                messages: a.messages,
                sizes: a.sizes,
                trend: a.trend,
                evidence,
                more_evidence: more,
            });
        }
        let mut destinations: Vec<DestStats> = self
            .dests
            .iter()
            .map(|(d, a)| {
                let mut reasons: Vec<(String, u64)> = a
                    .reasons
                    .iter()
                    .map(|&(s, n)| (sigs.get(s as usize).map_or_else(|| "(no signature)".to_string(), |x| x.id.clone()), n))
                    .collect();
                reasons.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
                DestStats {
                    domain: d.clone(),
                    deferred: a.deferred,
                    bounced: a.bounced,
                    reasons,
                    sample: a.sample.as_ref().map(|s| Evidence::new(self.source(s.loc), s.text.as_str())),
                }
            })
            .collect();
        destinations.sort_by(|a, b| (b.deferred + b.bounced).cmp(&(a.deferred + a.bounced)).then(a.domain.cmp(&b.domain)));
        let mut unknown: Vec<TemplateStats> = self
            .templates
            .iter()
            .map(|(k, t)| TemplateStats {
                template: k.clone(),
                count: t.count,
                severity: t.severity.to_string(),
                sample: Evidence::new(self.source(t.sample.loc), t.sample.text.as_str()),
            })
            .collect();
        unknown.sort_by(|a, b| b.count.cmp(&a.count).then(a.template.cmp(&b.template)));
        let mut values: Vec<ValueStats> = self
            .values
            .drain()
            .filter_map(|((sig, group, field), (tally, segs))| {
                let mut files: Vec<String> = segs.iter().filter_map(|&g| self.segments.get(g as usize)).map(|x| x.path.clone()).collect();
                files.sort();
                files.dedup();
                Some(ValueStats { signature: sigs.get(sig as usize)?.id.clone(), group, field, tally, files })
            })
            .collect();
        values.sort_by(|a, b| (&a.signature, &a.group, &a.field).cmp(&(&b.signature, &b.group, &b.field)));
        let (rejected_evidence, _) = self.evidence(&self.rejected_samples);
        let failures = self.failure_stats(sigs);
        LogStats {
            failures,
            expired_without_reason: self.failures.expired_without_reason,
            files,
            signatures,
            statuses,
            rejected: self.rejected,
            rejected_evidence,
            values,
            destinations,
            destinations_dropped: self.dests_dropped,
            unknown,
            unknown_dropped: self.templates_dropped,
            unmatched_problems: self.unmatched_problems,
            evicted: self.evicted,
            first_at: self.first_at,
            last_at: self.last_at,
            trend_span: None,
            window: Window::default(),
        }
    }
}

impl Scan {
    /// The failure groups, most messages (then reject lines) first, each read into its parts.
    pub(super) fn failure_stats(&self, sigs: &[Signature]) -> Vec<FailStats> {
        let mut out: Vec<FailStats> = self
            .failures
            .groups
            .iter()
            .filter(|g| g.messages() + g.rejects > 0)
            .map(|g| {
                let sample = g.first.as_ref().map(|l| l.text.as_str()).unwrap_or("");
                let line = split_syslog(sample);
                let program = line.program.unwrap_or("");
                let parsed = reason::parse_status(line.message).unwrap_or_else(|| {
                    let text = line.message.split_once("reject: ").map_or(line.message, |(_, r)| r);
                    reason::parse_reason(text)
                });
                let signature = g.signature.and_then(|i| sigs.get(i as usize));
                // A group keyed by a signature is that signature's reason; the others by structure.
                let by_signature = g.key.starts_with("sig ");
                let mut evidence = Vec::new();
                for l in g.first.iter().chain(g.last.iter()) {
                    let loc = Loc { seg: l.seg, line: l.line };
                    evidence.push(Evidence::new(self.source(loc), l.text.as_str()));
                }
                FailStats {
                    signature: signature.map(|s| s.id.clone()),
                    category: signature.filter(|_| by_signature).map_or(parsed.category, |s| s.category.as_str()).to_string(),
                    agent: reason::agent(program).to_string(),
                    relay: parsed.relay.unwrap_or("").to_string(),
                    dsn: parsed.dsn.map(|d| d.text()).unwrap_or_default(),
                    shape: parsed.shape.as_str().to_string(),
                    errno: parsed.errno.unwrap_or("").to_string(),
                    path: parsed.path.unwrap_or("").to_string(),
                    host: parsed.host.unwrap_or("").to_string(),
                    ip: parsed.ip.unwrap_or("").to_string(),
                    port: parsed.port,
                    command: parsed.command.unwrap_or("").to_string(),
                    reason: crate::text::truncate_chars(parsed.reason, 400),
                    template: g.key.splitn(3, '|').nth(2).unwrap_or("").to_string(),
                    deferred: g.deferred,
                    bounced: g.bounced,
                    expired: g.expired,
                    rejects: g.rejects,
                    lines: g.lines,
                    more_evidence: g.lines.saturating_sub(evidence.len() as u64),
                    evidence,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (b.deferred + b.bounced + b.expired)
                .cmp(&(a.deferred + a.bounced + a.expired))
                .then(b.rejects.cmp(&a.rejects))
                .then(a.signature.cmp(&b.signature))
                .then(a.template.cmp(&b.template))
        });
        out
    }
}

/// Join the earlier part `e` of a message into its later part `m`.
pub(super) fn join(m: &mut Msg, e: &Msg, later_sigs: &mut [SigAgg]) {
    if m.size.is_none() {
        m.size = e.size;
    }
    if m.status.is_none() {
        m.status = e.status;
    }
    if m.fail.is_none() {
        m.fail = e.fail;
    }
    for &s in e.sigs() {
        if !m.add_sig(s) {
            // Counted as a message on both sides of the cut: once is right.
            if let Some(a) = later_sigs.get_mut(s as usize) {
                a.messages = a.messages.saturating_sub(1);
            }
        }
    }
}
