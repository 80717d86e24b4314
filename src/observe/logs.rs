//! Mail log collection: which log files to read, why, and reading them (their tail, up to a
//! cap).
//!
//! Two kinds of log are read:
//! - files a mail daemon writes **itself**, not through syslog: Postfix's `maillog_file`
//!   (postlogd) and Dovecot's `log_path`, `info_log_path`, `debug_log_path`, globally and per
//!   protocol (`protocol lda { log_path = ... }`: the LDA's own log often holds the only real
//!   reason for a deferral). Always read.
//! - **one copy of syslog's mail stream**. rsyslog writes each mail line to every destination
//!   whose selector takes it: on Debian both `/var/log/mail.log` and `/var/log/syslog` (and on
//!   Debian 10 `mail.info`, `mail.warn`, `mail.err` too), so reading all of them counts every
//!   line several times. The candidates are tried in order of preference, each with its
//!   rotations, and the first that has text is the one read: dedicated mail logs the syslog
//!   configuration confirms, then the usual names (`mail.log`, `maillog`), then catch-alls
//!   (`syslog`, `messages`, `*.*` destinations), then partial copies (`mail.err`,
//!   `mail.warn`: some priorities only). On a live host where none has text, the journal.
//!
//! Every log read is recorded with the reason it was read (`Source::Log { reason }`).
//! `--log FILE` replaces discovery and is read as given (not under `--root`).

use super::{fs, Options, Recorder};

use crate::bundle::{Failure, Observation, Payload, Source};
use crate::logscan::{Scanner, Segment};
use crate::parse::mailconf::DovecotSetting;
use crate::parse::postconf::Config;
use crate::parse::syslogconf::{self, MailShare};
use std::collections::HashSet;

/// How a syslog destination relates to the mail stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Every mail line and nothing else (`mail.*`).
    Dedicated,
    /// Every mail line among other facilities (`*.*`): read only when no dedicated log has text.
    CatchAll,
    /// Some priorities of mail only (`mail.err`): a subset of the others, read last.
    Partial,
}

/// Where syslog daemons put mail when their configuration does not say (or was not read):
/// Debian (`mail.log`, `syslog`, and before Debian 12 `mail.err`, `mail.warn`) and RHEL
/// (`maillog`, `messages`, which RHEL's rsyslog.conf keeps mail out of).
pub const DEFAULT_LOGS: &[(&str, Coverage)] = &[
    ("/var/log/mail.log", Coverage::Dedicated),
    ("/var/log/maillog", Coverage::Dedicated),
    ("/var/log/syslog", Coverage::CatchAll),
    ("/var/log/messages", Coverage::CatchAll),
    ("/var/log/mail.err", Coverage::Partial),
    ("/var/log/mail.warn", Coverage::Partial),
];

/// The syslog configuration files whose mail destinations are read (rsyslog, sysklogd).
/// `rsyslog.d/*.conf` is added by [`syslog_config_files`].
pub const SYSLOG_CONFIGS: &[&str] = &["/etc/rsyslog.conf", "/etc/syslog.conf"];

/// systemd units of the mail daemons, for the journal fallback (`postfix@-` is Debian's
/// default instance; the other instances are added from `multi_instance_directories`).
pub const MAIL_UNITS: &[&str] =
    &["postfix.service", "postfix@-.service", "dovecot.service", "courier-mta.service", "courier-authdaemon.service"];

/// What the configuration says about where mail is logged, gathered before the logs are read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogConfig {
    /// Postfix `maillog_file` (postlogd writes it instead of syslog).
    pub maillog_file: Option<String>,
    /// Dovecot's own log files and the setting that names each.
    pub dovecot: Vec<(String, String)>,
    /// systemd units of the mail daemons for the journal fallback.
    pub units: Vec<String>,
}

impl LogConfig {
    /// From the parsed configuration (main.cf or `postconf -n`) and Dovecot's settings.
    pub fn new(cfg: &Config, dovecot: &[DovecotSetting]) -> LogConfig {
        let plan = crate::parse::postconf::Plan::of(cfg);
        let mut units: Vec<String> = MAIL_UNITS.iter().map(|s| s.to_string()).collect();
        for dir in cfg.value("multi_instance_directories").unwrap_or_default().split([' ', ',']).filter(|d| d.starts_with('/')) {
            // Debian's postfix@.service runs the instance in /etc/NAME as postfix@NAME.
            if let Some(name) = dir.trim_end_matches('/').rsplit('/').next().filter(|n| !n.is_empty()) {
                units.push(format!("postfix@{name}.service"));
            }
        }
        let dovecot = crate::parse::mailconf::dovecot_log_files(dovecot);
        LogConfig { maillog_file: plan.maillog_file, dovecot, units }
    }
}

/// A log to read (or to try), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogTarget {
    /// As the inspected system names it.
    pub path: String,
    /// Why it is read: `default`, `postfix maillog_file`, `dovecot protocol lda log_path`,
    /// `rsyslog mail.* destination (/etc/rsyslog.conf:21)`; several when reached several ways.
    pub reasons: Vec<String>,
    /// Written by a daemon itself (`maillog_file`, Dovecot's `log_path`): always read.
    pub own: bool,
    /// A copy of syslog's mail stream: its preference, lower first (see [`rank`]).
    pub syslog_rank: Option<u8>,
}

/// Preference among copies of the syslog mail stream: confirmed by the syslog configuration
/// before a usual name, dedicated before catch-all before partial.
pub fn rank(copy: Coverage, confirmed: bool) -> u8 {
    let base = match copy {
        Coverage::Dedicated => 0,
        Coverage::CatchAll => 2,
        Coverage::Partial => 4,
    };
    base + u8::from(!confirmed)
}

fn copy_of_rank(rank: u8) -> Coverage {
    match rank {
        0 | 1 => Coverage::Dedicated,
        2 | 3 => Coverage::CatchAll,
        _ => Coverage::Partial,
    }
}

/// The logs to consider, in reading order: the copies of the syslog mail stream by
/// preference, then the daemons' own files. `key` gives the identity of a path (its real
/// path on the inspected system) so that a file reached two ways is one target.
/// `syslog` holds the parsed destinations with the configuration file they came from.
pub fn plan_targets(cfg: &LogConfig, syslog: &[(String, syslogconf::Destination)], key: &dyn Fn(&str) -> String) -> Vec<LogTarget> {
    let mut targets: Vec<LogTarget> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let mut add = |path: &str, reason: String, own: bool, rank: Option<u8>| {
        let path = crate::parse::path::normalize(path);
        let k = key(&path);
        match keys.iter().position(|x| *x == k) {
            Some(i) => {
                let t = &mut targets[i];
                if !t.reasons.contains(&reason) {
                    t.reasons.push(reason);
                }
                t.own |= own;
                t.syslog_rank = match (t.syslog_rank, rank) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            None => {
                keys.push(k);
                targets.push(LogTarget { path, reasons: vec![reason], own, syslog_rank: rank });
            }
        }
    };
    for (file, d) in syslog {
        let copy = match (d.mail, d.only_mail) {
            (MailShare::None, _) => continue,
            (MailShare::Partial, _) => Coverage::Partial,
            (MailShare::Full, true) => Coverage::Dedicated,
            (MailShare::Full, false) => Coverage::CatchAll,
        };
        let daemon = if file.contains("rsyslog") { "rsyslog" } else { "syslogd" };
        add(&d.path, format!("{daemon} {} destination ({file}:{})", d.filter, d.line), false, Some(rank(copy, true)));
    }
    for (path, copy) in DEFAULT_LOGS {
        // RHEL's `*.info;mail.none;... /var/log/messages`: the configuration keeps mail out.
        let named: Vec<&syslogconf::Destination> =
            syslog.iter().map(|(_, d)| d).filter(|d| crate::parse::path::normalize(&d.path) == *path).collect();
        if !named.is_empty() && named.iter().all(|d| d.mail == MailShare::None) {
            continue;
        }
        add(path, "default".to_string(), false, Some(rank(*copy, false)));
    }
    if let Some(f) = &cfg.maillog_file {
        if f.starts_with('/') && !f.starts_with("/dev/") {
            add(f, "postfix maillog_file".to_string(), true, None);
        }
    }
    for (path, why) in &cfg.dovecot {
        add(path, why.clone(), true, None);
    }
    // Stable: configuration order within a rank.
    targets.sort_by_key(|t| t.syslog_rank.unwrap_or(u8::MAX));
    targets
}

/// The real path of `path` on the inspected system: symlinks resolved inside the root (an
/// absolute link target is taken under `--root`, never on the machine running mailsleuth).
pub fn real_path(opts: &Options, path: &str) -> String {
    let mut done: Vec<String> = Vec::new();
    let mut todo: std::collections::VecDeque<String> = path.split('/').filter(|c| !c.is_empty() && *c != ".").map(str::to_string).collect();
    let mut hops = 0;
    while let Some(c) = todo.pop_front() {
        if c == ".." {
            done.pop();
            continue;
        }
        done.push(c);
        let cur = format!("/{}", done.join("/"));
        let Ok(target) = std::fs::read_link(opts.host_path(&cur)) else { continue };
        hops += 1;
        if hops > 40 {
            break;
        }
        done.pop();
        let t = target.to_string_lossy().into_owned();
        if t.starts_with('/') {
            done.clear();
        }
        let mut next: std::collections::VecDeque<String> =
            t.split('/').filter(|c| !c.is_empty() && *c != ".").map(str::to_string).collect();
        next.extend(todo);
        todo = next;
    }
    format!("/{}", done.join("/"))
}

/// `/etc/rsyslog.conf`, `/etc/rsyslog.d/*.conf` (sorted, as `$IncludeConfig` reads them) and
/// `/etc/syslog.conf` on the inspected system.
pub fn syslog_config_files(opts: &Options) -> Vec<String> {
    let mut v: Vec<String> = vec![SYSLOG_CONFIGS[0].to_string()];
    if let Ok(rd) = std::fs::read_dir(opts.host_path_following("/etc/rsyslog.d")) {
        let mut names: Vec<String> =
            rd.flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| n.ends_with(".conf")).collect();
        names.sort();
        v.extend(names.into_iter().map(|n| format!("/etc/rsyslog.d/{n}")));
    }
    v.extend(SYSLOG_CONFIGS[1..].iter().map(|s| s.to_string()));
    v
}

/// The file destinations of the syslog configuration files read so far, with their file.
pub fn syslog_destinations(observations: &[Observation]) -> Vec<(String, syslogconf::Destination)> {
    let mut out = Vec::new();
    for o in observations {
        let Source::File { path } = &o.source else { continue };
        let ours = SYSLOG_CONFIGS.contains(&path.as_str()) || (path.starts_with("/etc/rsyslog.d/") && path.ends_with(".conf"));
        if let (true, Some(text)) = (ours, o.text()) {
            out.extend(syslogconf::parse_rsyslog(text).into_iter().map(|d| (path.clone(), d)));
        }
    }
    out
}

/// The logs to consider on the inspected system (see [`plan_targets`]). Reads the syslog
/// configuration into `rec` first.
pub fn discover(opts: &Options, cfg: &LogConfig, rec: &mut Recorder) -> Vec<LogTarget> {
    for p in syslog_config_files(opts) {
        fs::read_file(opts, rec, &p, 1 << 20);
    }
    let dests = syslog_destinations(&rec.observations);
    plan_targets(cfg, &dests, &|p| real_path(opts, p))
}

/// Rotated copies of a log are included when they may hold lines from the last
/// [`LOG_WINDOW`] before the newest line (judged by mtime, the time of their last line).
pub const LOG_WINDOW: i64 = 24 * 3600;

/// `mail.log.1`, `mail.log.2.gz` (Debian), `maillog-20261122`, `maillog-20261122.gz` (RHEL):
/// the rotations of `base` on the inspected system, oldest first, with their mtimes.
pub fn rotations(opts: &Options, base: &str) -> Vec<(String, i64)> {
    use std::os::unix::fs::MetadataExt;
    let real = opts.host_path(base);
    let (Some(dir), Some(name)) = (real.parent(), real.file_name().and_then(|n| n.to_str())) else { return Vec::new() };
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(String, i64, u64)> = Vec::new();
    for e in rd.flatten() {
        let Ok(fname) = e.file_name().into_string() else { continue };
        let Some(rest) = fname.strip_prefix(name) else { continue };
        let rest = rest.strip_suffix(".gz").unwrap_or(rest);
        let Some(num) = rest.strip_prefix('.').or_else(|| rest.strip_prefix('-')) else { continue };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(md) = std::fs::symlink_metadata(e.path()) else { continue };
        if !md.is_file() {
            continue;
        }
        let shown = format!("{}/{fname}", base.rsplit_once('/').map(|(d, _)| d).unwrap_or(""));
        // .1 is newer than .2; a date suffix grows with time.
        let order = if num.len() >= 8 { u64::MAX - num.parse::<u64>().unwrap_or(0) } else { num.parse::<u64>().unwrap_or(0) };
        out.push((shown, md.mtime(), order));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)));
    out.into_iter().map(|(p, m, _)| (p, m)).collect()
}

/// Whether an observation holds log text (an empty file does not).
fn has_text(o: &Observation) -> bool {
    o.text().is_some_and(|t| !t.trim().is_empty())
}

pub fn collect_logs(opts: &Options, cfg: &LogConfig, rec: &mut Recorder) {
    let mut budget = opts.log_total_bytes;
    if !opts.logs.is_empty() {
        // Given oldest first: the budget goes to the newest.
        let files: Vec<(String, std::path::PathBuf)> = opts.logs.iter().map(|p| (p.clone(), std::path::PathBuf::from(p))).collect();
        record_logs(opts, rec, &files, "given with --log", &mut budget);
        return;
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut stream_read = false;
    for t in discover(opts, cfg, rec) {
        let is_copy = t.syslog_rank.is_some();
        if is_copy && stream_read && !t.own {
            // A copy of lines already read (mail.log and syslog, mail.log and mail.err).
            continue;
        }
        let reason = match t.syslog_rank.map(copy_of_rank) {
            Some(Coverage::CatchAll) if !t.own => {
                format!("fallback: no mail log gave text, and this one holds mail among other facilities; {}", t.reasons.join("; "))
            }
            Some(Coverage::Partial) if !t.own => {
                format!("fallback: no complete mail log gave text, and this one holds only some priorities; {}", t.reasons.join("; "))
            }
            _ => t.reasons.join("; "),
        };
        let text = read_with_rotations(opts, rec, &t.path, &reason, &mut seen, &mut budget);
        stream_read |= is_copy && text;
    }
    // Journal-only hosts (no syslog file for mail): the mail facility and the mail daemons'
    // units from journald.
    if !stream_read && opts.live() {
        let timeout = opts.command_timeout;
        let argv = journal_argv(&cfg.units);
        rec.record(Source::Log { path: "journalctl".into(), reason: Some("fallback: no mail log file gave text".into()) }, || {
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            super::command::run_with_timeout(&argv, timeout)
        });
    }
}

/// `journalctl` for the last day of the mail facility OR the mail units. `-u` would be ANDed
/// with the `SYSLOG_FACILITY=2` match (journalctl joins its options and the matches as a
/// conjunction), so the units are `_SYSTEMD_UNIT=` matches after a `+` (disjunction).
pub fn journal_argv(units: &[String]) -> Vec<String> {
    let mut v: Vec<String> = ["journalctl", "--no-pager", "-q", "-o", "short-iso", "--since", "-24h", "SYSLOG_FACILITY=2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if !units.is_empty() {
        v.push("+".to_string());
        v.extend(units.iter().map(|u| format!("_SYSTEMD_UNIT={u}")));
    }
    v
}

/// Read `path` under the root with its recent rotations first (oldest to newest), skipping
/// files already read by another name. Whether any of them had text.
fn read_with_rotations(opts: &Options, rec: &mut Recorder, path: &str, reason: &str, seen: &mut HashSet<String>, budget: &mut u64) -> bool {
    use std::os::unix::fs::MetadataExt;
    let real = opts.host_path_following(path);
    let newest = std::fs::metadata(&real).map(|m| m.mtime()).ok();
    let rot = rotations(opts, path);
    let newest = newest.or_else(|| rot.last().map(|r| r.1)).unwrap_or(0);
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    for (p, mtime) in rot {
        if mtime >= newest - LOG_WINDOW && seen.insert(real_path(opts, &p)) {
            let r = opts.host_path_following(&p);
            files.push((p, r));
        }
    }
    if seen.insert(real_path(opts, path)) {
        files.push((path.to_string(), real));
    }
    record_logs(opts, rec, &files, reason, budget).iter().any(|&id| has_text(rec.get(id)))
}

/// Read `files` (oldest first) and record them in that order, the newest read first so the
/// total budget goes to the most recent lines; a file the budget no longer covers is
/// recorded as not read, with why. The observation ids, oldest first.
fn record_logs(opts: &Options, rec: &mut Recorder, files: &[(String, std::path::PathBuf)], reason: &str, budget: &mut u64) -> Vec<u32> {
    let reference = super::now() as i64;
    let mut read: Vec<(Payload, Option<String>)> = Vec::new();
    for (shown, real) in files.iter().rev() {
        let cap = opts.log_cap_bytes.min(*budget);
        let r = if cap == 0 && std::fs::metadata(real).is_ok() {
            Ok((
                Payload::Failed {
                    failure: Failure::Io,
                    message: format!("not read: the {} MiB budget for all logs was spent on newer files", opts.log_total_bytes >> 20),
                },
                None,
            ))
        } else if shown == "-" {
            // `--log -`: standard input, its last `cap` bytes like a file's.
            Ok(read_stream_tail(
                &mut std::io::stdin().lock(),
                cap,
                GZ_INFLATE_BUDGET,
                &format!("standard input goes past {} MiB (the read budget): read only that far", GZ_INFLATE_BUDGET >> 20),
                "standard input: read failed",
            ))
        } else if shown.ends_with(".gz") {
            read_gz_tail(real, cap)
        } else {
            read_log_tail(real, cap, &opts.window, reference).map(|p| (p, None))
        };
        let (payload, note) = r.unwrap_or_else(|e| (fs::io_failure(&e), None));
        if let Payload::Text { text, .. } = &payload {
            *budget = budget.saturating_sub(text.len() as u64);
        }
        read.push((payload, note));
    }
    let mut ids = Vec::new();
    for ((shown, _), (payload, note)) in files.iter().zip(read.into_iter().rev()) {
        let reason = Some(reason.to_string());
        let id = rec.record(Source::Log { path: shown.to_string(), reason: reason.clone() }, || payload);
        if let Some(msg) = note {
            // The text up to the damage (or the limit) is kept; the damage is an observation of
            // its own.
            rec.record(Source::Log { path: format!("{shown} (gzip stream)"), reason }, || Payload::Failed {
                failure: Failure::Io,
                message: msg,
            });
        }
        ids.push(id);
    }
    ids
}

/// A plain log larger than this is read from where the time window starts (found by
/// bisecting its time stamps) rather than from its top, and its lines are numbered from
/// there: counting the lines above would mean reading them.
pub const WINDOW_SEEK_MIN: u64 = 64 << 20;

/// Seconds of slack (ten minutes) before the window's start when bisecting: syslog lines are not quite in
/// order (several writers), and the scanner drops the extra lines by their own stamps.
const SEEK_SLACK: i64 = 600;

/// The tail of a plain log: at most `cap` bytes, and for a file over [`WINDOW_SEEK_MIN`] only
/// from where `window` starts. A file that large is never read from its top: its first kept
/// line is numbered 1 and `skipped_bytes` says where it starts (lines counted from there).
pub fn read_log_tail(path: &std::path::Path, cap: u64, window: &crate::time::WindowSpec, reference: i64) -> std::io::Result<Payload> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = fs::open_regular(path)?;
    let len = f.metadata()?.len();
    if len <= WINDOW_SEEK_MIN {
        return fs::read_tail(path, cap);
    }
    let mut start = len.saturating_sub(cap);
    if let Some(since) = file_stamp(path, false, true, reference).and_then(|newest| window.resolve(Some(newest)).ok()).and_then(|w| w.since)
    {
        start = start.max(window_offset(&mut f, len, since - SEEK_SLACK, reference));
    }
    f.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity((len - start).min(cap) as usize);
    f.take(cap).read_to_end(&mut bytes)?;
    let mut skipped_bytes = start;
    if start > 0 {
        // Drop the partial first line.
        if let Some(nl) = memchr::memchr(b'\n', &bytes) {
            bytes.drain(..=nl);
            skipped_bytes += nl as u64 + 1;
        }
    }
    let (text, lossy) = match String::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    Ok(Payload::Text { text, first_line: 1, skipped_bytes, lossy, exit: None })
}

/// The stamp of the first stamped line starting after byte `at`: a few KiB are read.
fn stamp_after(f: &mut std::fs::File, at: u64, reference: i64) -> Option<i64> {
    use std::io::{Read, Seek, SeekFrom};
    f.seek(SeekFrom::Start(at)).ok()?;
    let mut buf = Vec::new();
    f.take(64 * 1024).read_to_end(&mut buf).ok()?;
    let from = if at == 0 { 0 } else { memchr::memchr(b'\n', &buf)? + 1 };
    String::from_utf8_lossy(&buf[from..]).lines().take(200).find_map(|l| crate::logscan::line::line_stamp(l, reference))
}

/// A byte offset before the first line stamped `since` or later, by bisection (about 20
/// reads of 64 KiB on a 20 GB file).
fn window_offset(f: &mut std::fs::File, len: u64, since: i64, reference: i64) -> u64 {
    let (mut lo, mut hi) = (0u64, len);
    while hi - lo > 64 * 1024 {
        let mid = lo + (hi - lo) / 2;
        match stamp_after(f, mid, reference) {
            Some(t) if t >= since => hi = mid,
            // Older, or no log line within reach (a hole, binary garbage): look later. Should
            // the window start before such a stretch, the kept text starts after the window
            // does, and the producer reports the cut.
            _ => lo = mid,
        }
    }
    lo
}

/// Decompress a gzip log (all members), keeping its last `cap` bytes at a line boundary. A
/// damaged or truncated stream keeps what was decompressed and says where it stopped.
pub fn read_gz_tail(path: &std::path::Path, cap: u64) -> std::io::Result<(Payload, Option<String>)> {
    let f = fs::open_regular(path)?;
    let mut dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, f));
    let over = format!("gzip stream inflates past {} MiB (the decompression budget): read only that far", GZ_INFLATE_BUDGET >> 20);
    Ok(read_stream_tail(&mut dec, cap, GZ_INFLATE_BUDGET, &over, "gzip stream damaged"))
}

/// The last `cap` bytes (at a line boundary) of a stream read to its end: a gzip rotation's
/// decompressed text, or standard input (`--log -`). Lines over [`READ_BUF`] are kept as
/// empty lines; an error keeps what was read, and the note says where it stopped.
pub fn read_stream_tail(dec: &mut dyn std::io::Read, cap: u64, limit: u64, over: &str, damaged: &str) -> (Payload, Option<String>) {
    let cap = cap as usize;
    let mut inflated: u64 = 0;
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut dropped_lines: u64 = 0;
    let mut dropped_bytes: u64 = 0;
    let mut note = None;
    // Inside a line longer than READ_BUF: its bytes are dropped up to its newline, and it is
    // kept as an empty line so the numbers of the lines after it stay true.
    let mut overlong = false;
    loop {
        match dec.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                inflated += n as u64;
                if inflated > limit {
                    note = Some(over.to_string());
                    break;
                }
                let mut data = &chunk[..n];
                if overlong {
                    let Some(i) = memchr::memchr(b'\n', data) else { continue };
                    data = &data[i..];
                    overlong = false;
                }
                buf.extend_from_slice(data);
                let line_start = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
                if buf.len() - line_start > READ_BUF {
                    buf.truncate(line_start);
                    overlong = true;
                }
                if buf.len() > cap.saturating_add((cap / 8).max(1 << 20)) {
                    let cut = buf.len() - cap;
                    let cut = buf[cut..].iter().position(|&b| b == b'\n').map_or(cut, |p| cut + p + 1);
                    dropped_lines += buf[..cut].iter().filter(|&&b| b == b'\n').count() as u64;
                    dropped_bytes += cut as u64;
                    buf.drain(..cut);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                note = Some(format!("{damaged} after {} bytes: {e}", dropped_bytes + buf.len() as u64));
                break;
            }
        }
    }
    if buf.len() > cap {
        let cut = buf.len() - cap;
        let cut = buf[cut..].iter().position(|&b| b == b'\n').map_or(cut, |p| cut + p + 1);
        dropped_lines += buf[..cut].iter().filter(|&&b| b == b'\n').count() as u64;
        dropped_bytes += cut as u64;
        buf.drain(..cut);
    }
    let (text, lossy) = match String::from_utf8(buf) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    (Payload::Text { text, first_line: dropped_lines + 1, skipped_bytes: dropped_bytes, lossy, exit: None }, note)
}

/// Standard input (`logs stats -`), streamed through the scanner like a file, in the same
/// bounded memory (lines over a MiB skipped).
pub struct StdinSegment;

impl Segment for StdinSegment {
    fn path(&self) -> &str {
        "-"
    }
    fn first_line(&self) -> Option<u64> {
        Some(1)
    }
    fn feed(&mut self, s: &mut Scanner<'_, '_>) {
        let stdin = std::io::stdin();
        let mut lock = stdin.lock();
        if let Err(e) = feed(&mut lock, s, u64::MAX, false) {
            s.problem(format!("read failed: {e}"));
        }
    }
}

/// Bytes a gzip log may inflate to before it is no longer read: a day of real mail log
/// compresses ten to twenty times; a bomb thousands of times.
pub const GZ_INFLATE_BUDGET: u64 = 1 << 30;

/// A byte range of a log file (or a whole gzip file), streamed through the scanner in
/// bounded memory: `logs stats` on files of any size.
pub struct FileSegment {
    shown: String,
    real: std::path::PathBuf,
    start: u64,
    end: u64,
    gz: bool,
}

/// Read buffer of a file segment; a line longer than this is skipped, never buffered whole
/// (lines over [`crate::logscan::line::MAX_LINE`] are skipped anyway).
const READ_BUF: usize = 1 << 20;

impl FileSegment {
    /// The segments of the files, in order: plain files cut into pieces of about
    /// `piece` bytes at line boundaries (found while reading), gzip files whole.
    pub fn plan(files: &[(String, std::path::PathBuf)], piece: u64) -> Vec<FileSegment> {
        let mut out = Vec::new();
        for (shown, real) in files {
            let gz = shown.ends_with(".gz");
            let len = std::fs::metadata(real).map(|m| m.len()).unwrap_or(0);
            if gz || len <= piece {
                out.push(FileSegment { shown: shown.clone(), real: real.clone(), start: 0, end: u64::MAX, gz });
                continue;
            }
            let n = len.div_ceil(piece.max(1));
            let step = len / n;
            for k in 0..n {
                let end = if k + 1 == n { u64::MAX } else { (k + 1) * step };
                out.push(FileSegment { shown: shown.clone(), real: real.clone(), start: k * step, end, gz: false });
            }
        }
        out
    }

    fn stream(&self, s: &mut Scanner<'_, '_>) -> std::io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = fs::open_regular(&self.real)?;
        if self.gz {
            let mut dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, f));
            return feed(&mut dec, s, u64::MAX, false);
        }
        // A range that starts mid-file begins after the first newline at or after
        // `start - 1`: the line straddling the cut belongs to the previous range.
        let mut skip_partial = false;
        if self.start > 0 {
            f.seek(SeekFrom::Start(self.start - 1))?;
            let mut b = [0u8; 1];
            f.read_exact(&mut b)?;
            skip_partial = b[0] != b'\n';
        }
        feed(&mut f, s, self.end.saturating_sub(self.start), skip_partial)
    }
}

/// Bytes of log read by every scan of this process so far (all threads): what the progress
/// line on a terminal shows. Only ever added to; reading it is a relaxed load.
pub static BYTES_SCANNED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Feed the lines of `r` to the scanner: every line that *starts* within the first `limit`
/// bytes (the rest of the range belongs to the next segment).
fn feed(r: &mut dyn std::io::Read, s: &mut Scanner<'_, '_>, limit: u64, mut skip_partial: bool) -> std::io::Result<()> {
    let mut buf = vec![0u8; READ_BUF];
    let mut filled = 0usize;
    // Offset (from the range start) of buf[0].
    let mut base: u64 = 0;
    let mut overlong = false;
    loop {
        let n = match r.read(&mut buf[filled..]) {
            Ok(n) => {
                BYTES_SCANNED.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                n
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // Keep what was read (a truncated gzip member ends here) and say so.
                if filled > 0 && !skip_partial && !overlong && base < limit {
                    s.bytes(&buf[..filled]);
                }
                return Err(e);
            }
        };
        let eof = n == 0;
        filled += n;
        let mut pos = 0usize;
        // The whole lines in the buffer, checked at once in the usual case (valid UTF-8,
        // no NUL byte) instead of line by line.
        let whole = memchr::memrchr(b'\n', &buf[..filled]).map_or(0, |e| e + 1);
        let text = if memchr::memchr(0, &buf[..whole]).is_none() { std::str::from_utf8(&buf[..whole]).ok() } else { None };
        while let Some(nl) = memchr::memchr(b'\n', &buf[pos..filled]) {
            let line_start = base + pos as u64;
            if line_start >= limit {
                return Ok(());
            }
            if skip_partial {
                skip_partial = false;
            } else if overlong {
                overlong = false;
                s.overlong();
            } else if let Some(text) = text {
                s.clean_line(&text[pos..pos + nl]);
            } else {
                s.bytes(&buf[pos..pos + nl]);
            }
            pos += nl + 1;
        }
        if eof {
            if pos < filled && base + (pos as u64) < limit && !skip_partial {
                if overlong {
                    s.overlong();
                } else {
                    s.bytes(&buf[pos..filled]);
                }
            }
            return Ok(());
        }
        if pos == 0 && filled == buf.len() {
            // No newline in a whole buffer: a line of over a megabyte. Drop what we have
            // and skip to its end.
            if base >= limit {
                return Ok(());
            }
            if !skip_partial {
                overlong = true;
            }
            base += filled as u64;
            filled = 0;
            continue;
        }
        buf.copy_within(pos..filled, 0);
        base += pos as u64;
        filled -= pos;
        if base >= limit && filled == 0 {
            return Ok(());
        }
    }
}

impl Segment for FileSegment {
    fn path(&self) -> &str {
        &self.shown
    }
    fn first_line(&self) -> Option<u64> {
        (self.start == 0).then_some(1)
    }
    fn feed(&mut self, s: &mut Scanner<'_, '_>) {
        if let Err(e) = self.stream(s) {
            let what = if self.gz { "gzip stream damaged" } else { "read failed" };
            s.problem(format!("{what}: {e}"));
        }
    }
}

/// Read one line into `buf` (cleared first), keeping at most [`READ_BUF`] bytes of it: the
/// rest of an overlong line is read and dropped, never buffered, so input without newlines
/// (a `/dev/zero`, a gzip rotation inflating to gigabytes of one "line") costs no memory.
/// Returns the bytes consumed (0 at the end) and whether the line was cut.
pub fn read_line_capped(r: &mut dyn std::io::BufRead, buf: &mut Vec<u8>) -> std::io::Result<(u64, bool)> {
    buf.clear();
    let mut consumed = 0u64;
    let mut cut = false;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok((consumed, cut));
        }
        let (end, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = READ_BUF.saturating_sub(buf.len());
        cut |= end > room;
        buf.extend_from_slice(&chunk[..end.min(room)]);
        r.consume(end);
        consumed += end as u64;
        if done {
            return Ok((consumed, cut));
        }
    }
}

/// The first (`from_end` false) or last stamped line of a file, for the time window and
/// the trend (the head or tail is read; a gzip file is decompressed to its end if needed).
pub fn file_stamp(real: &std::path::Path, gz: bool, from_end: bool, reference: i64) -> Option<i64> {
    use std::io::{Read, Seek, SeekFrom};
    let stamp = |l: &str| crate::logscan::line::line_stamp(l, reference);
    let mut f = fs::open_regular(real).ok()?;
    if gz {
        let dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f));
        let mut dec = std::io::BufReader::new(dec);
        let mut last = None;
        let mut buf = Vec::new();
        let mut inflated = 0u64;
        for _ in 0..if from_end { usize::MAX } else { 50 } {
            match read_line_capped(&mut dec, &mut buf) {
                Ok((0, _)) | Err(_) => break,
                Ok((n, true)) => {
                    inflated += n;
                    if inflated > GZ_INFLATE_BUDGET {
                        break;
                    }
                    continue;
                }
                Ok((n, _)) => {
                    inflated += n;
                    if inflated > GZ_INFLATE_BUDGET {
                        break;
                    }
                }
            }
            let l = String::from_utf8_lossy(&buf);
            if let Some(t) = stamp(l.trim_end_matches('\n')) {
                if !from_end {
                    return Some(t);
                }
                last = Some(t);
            }
        }
        return last;
    }
    let len = f.metadata().ok()?.len();
    let take = 64 * 1024u64;
    let start = if from_end { len.saturating_sub(take) } else { 0 };
    f.seek(SeekFrom::Start(start)).ok()?;
    let mut buf = Vec::new();
    f.take(take).read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    if from_end {
        text.lines().rev().take(200).find_map(stamp)
    } else {
        text.lines().take(200).find_map(stamp)
    }
}

/// The mail logs of a host for `logs stats`/`logs unknown` without FILE arguments: the
/// daemons' own logs and one copy of syslog's mail stream (the first that exists and is not
/// empty, see [`plan_targets`]), each with all its rotations, oldest first, as (shown, real).
pub fn discover_all(opts: &Options) -> Vec<(String, std::path::PathBuf)> {
    let mut rec = Recorder::new();
    fs::collect_config_files(opts, &mut rec);
    let cfg = super::config_from(&rec.observations).unwrap_or_default();
    fs::collect_mail_configs(opts, &cfg, &mut rec);
    let log_cfg = LogConfig::new(&cfg, &super::dovecot_from(&rec.observations));
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut stream_found = false;
    for t in discover(opts, &log_cfg, &mut rec) {
        let is_copy = t.syslog_rank.is_some();
        if is_copy && stream_found && !t.own {
            continue;
        }
        let mut files: Vec<String> = rotations(opts, &t.path).into_iter().map(|(p, _)| p).collect();
        files.push(t.path.clone());
        for p in files {
            let real = opts.host_path_following(&p);
            let len = std::fs::metadata(&real).ok().filter(|m| m.is_file()).map(|m| m.len());
            if let (Some(len), true) = (len, seen.insert(real_path(opts, &p))) {
                stream_found |= is_copy && len > 0;
                out.push((p, real));
            }
        }
    }
    out
}

/// The log files that can be opened, as segments of at least 16 MiB (a few per thread, so a
/// slow piece does not idle a core), and (path, error) for those that cannot.
pub fn open_segments(files: &[(String, std::path::PathBuf)], threads: usize) -> (Vec<FileSegment>, Vec<(String, String)>) {
    let mut problems: Vec<(String, String)> = Vec::new();
    let readable: Vec<(String, std::path::PathBuf)> = files
        .iter()
        .filter(|(p, r)| match fs::open_regular(r) {
            Ok(_) => true,
            Err(e) => {
                problems.push((p.clone(), e.to_string()));
                false
            }
        })
        .cloned()
        .collect();
    let total: u64 = readable.iter().map(|(_, r)| std::fs::metadata(r).map_or(0, |m| m.len())).sum();
    let piece = (total / (threads as u64 * 4).max(1)).max(16 << 20);
    (FileSegment::plan(&readable, piece), problems)
}

/// The oldest and the newest stamp of a list of log files (oldest file first).
pub fn files_span(files: &[(String, std::path::PathBuf)], reference: i64) -> (Option<i64>, Option<i64>) {
    let gz = |p: &str| p.ends_with(".gz");
    let newest = files.iter().rev().find_map(|(p, r)| file_stamp(r, gz(p), true, reference));
    let oldest = files.iter().find_map(|(p, r)| file_stamp(r, gz(p), false, reference));
    (oldest, newest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn rotations_are_found_oldest_first_and_gzip_is_read() {
        let root = std::env::temp_dir().join(format!("mailsleuth-rot-{}", std::process::id()));
        let log = root.join("var/log");
        std::fs::create_dir_all(&log).unwrap();
        let now = std::time::SystemTime::now();
        let put = |name: &str, data: &[u8], age_h: u64| {
            let p = log.join(name);
            std::fs::write(&p, data).unwrap();
            std::fs::File::options()
                .append(true)
                .open(&p)
                .unwrap()
                .set_modified(now - std::time::Duration::from_secs(age_h * 3600))
                .unwrap();
        };
        put("mail.log", b"newest\n", 0);
        put("mail.log.1", b"yesterday\n", 20);
        put("mail.log.2.gz", &gz(b"two days ago\n"), 44);
        put("mail.log.3.gz", &gz(b"old\n"), 70);
        put("mail.logbook", b"not a rotation\n", 1);
        let opts = Options { root: root.clone(), ..Options::default() };
        let r: Vec<String> = rotations(&opts, "/var/log/mail.log").into_iter().map(|(p, _)| p).collect();
        assert_eq!(r, ["/var/log/mail.log.3.gz", "/var/log/mail.log.2.gz", "/var/log/mail.log.1"]);
        let mut rec = Recorder::new();
        collect_logs(&opts, &LogConfig::default(), &mut rec);
        let logs: Vec<(String, String)> = rec
            .observations
            .iter()
            .filter_map(|o| match &o.source {
                Source::Log { path, .. } => o.text().map(|t| (path.clone(), t.to_string())),
                _ => None,
            })
            .collect();
        // Within 24 h of the newest line: .1 (20 h) but not .2.gz (44 h).
        assert_eq!(
            logs,
            [("/var/log/mail.log.1".to_string(), "yesterday\n".to_string()), ("/var/log/mail.log".to_string(), "newest\n".to_string())]
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_truncated_gzip_keeps_what_it_had_and_says_so() {
        let dir = std::env::temp_dir().join(format!("mailsleuth-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let body: String = (1..=20000).map(|i| format!("Nov 23 08:00:00 mx1 postfix/qmgr[1]: {i:010X}: removed\n")).collect();
        let mut data = gz(body.as_bytes());
        data.extend(gz(b"second member\n"));
        let whole = dir.join("whole.gz");
        std::fs::write(&whole, &data).unwrap();
        let (p, note) = read_gz_tail(&whole, 1 << 30).unwrap();
        assert!(note.is_none());
        assert!(matches!(&p, Payload::Text { text, .. } if text.ends_with("second member\n") && text.starts_with("Nov 23")));
        let cut = dir.join("cut.gz");
        std::fs::write(&cut, &data[..data.len() / 3]).unwrap();
        let (p, note) = read_gz_tail(&cut, 1 << 30).unwrap();
        assert!(note.is_some_and(|n| n.contains("gzip stream damaged")));
        let Payload::Text { text, .. } = p else { panic!("no text") };
        assert!(text.starts_with("Nov 23 08:00:00 mx1 postfix/qmgr[1]: 0000000001: removed"));
        // A small cap keeps the tail with true line numbers.
        let (p, _) = read_gz_tail(&whole, 4096).unwrap();
        let Payload::Text { text, first_line, .. } = p else { panic!("no text") };
        assert!(first_line > 1 && text.ends_with("second member\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A private sysroot with the given files (path relative to the root, contents).
    struct TempRoot(std::path::PathBuf);

    impl TempRoot {
        fn new(tag: &str, files: &[(&str, &str)]) -> TempRoot {
            let root = std::env::temp_dir().join(format!("mailsleuth-logsrc-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            for (p, text) in files {
                let f = root.join(p);
                std::fs::create_dir_all(f.parent().unwrap()).unwrap();
                std::fs::write(&f, text).unwrap();
            }
            TempRoot(root)
        }
        fn opts(&self) -> Options {
            Options { root: self.0.clone(), ..Options::default() }
        }
    }

    impl Drop for TempRoot {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// (path, reason) of every log observation with text, in reading order.
    fn read_logs(rec: &Recorder) -> Vec<(String, String)> {
        rec.observations
            .iter()
            .filter_map(|o| match &o.source {
                Source::Log { path, reason } if o.text().is_some() => Some((path.clone(), reason.clone().unwrap_or_default())),
                _ => None,
            })
            .collect()
    }

    const DEBIAN_RSYSLOG: &str = "module(load=\"imuxsock\")\n$IncludeConfig /etc/rsyslog.d/*.conf\nauth,authpriv.*\t\t\t/var/log/auth.log\n*.*;auth,authpriv.none\t\t-/var/log/syslog\ncron.*\t\t\t\t-/var/log/cron.log\nkern.*\t\t\t\t-/var/log/kern.log\nmail.*\t\t\t\t-/var/log/mail.log\nuser.*\t\t\t\t-/var/log/user.log\n*.emerg\t\t\t\t:omusrmsg:*\n";
    const DEFERRED: &str = "Nov 23 10:45:29 mx1 postfix/local[314]: 1675C84: to=<alice@mx1.lab.example>, relay=local, delay=0.05, delays=0.01/0/0/0.04, dsn=4.3.0, status=deferred (temporary failure)\n";
    const CRON: &str = "Nov 23 10:45:01 mx1 CRON[4410]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)\n";

    #[test]
    fn debian_mail_lines_in_mail_log_and_syslog_are_read_once() {
        let syslog = format!("{CRON}{DEFERRED}");
        let root = TempRoot::new(
            "debian",
            &[("etc/rsyslog.conf", DEBIAN_RSYSLOG), ("var/log/mail.log", DEFERRED), ("var/log/syslog", &syslog), ("var/log/mail.err", "")],
        );
        let mut rec = Recorder::new();
        collect_logs(&root.opts(), &LogConfig::default(), &mut rec);
        assert_eq!(
            read_logs(&rec),
            [("/var/log/mail.log".to_string(), "rsyslog mail.* destination (/etc/rsyslog.conf:7); default".to_string())]
        );
        // No mail.log: syslog is the copy of the mail stream, and says why it was read.
        std::fs::remove_file(root.0.join("var/log/mail.log")).unwrap();
        let mut rec = Recorder::new();
        collect_logs(&root.opts(), &LogConfig::default(), &mut rec);
        assert_eq!(
            read_logs(&rec),
            [(
                "/var/log/syslog".to_string(),
                "fallback: no mail log gave text, and this one holds mail among other facilities; rsyslog *.*;auth,authpriv.none destination (/etc/rsyslog.conf:4); default".to_string()
            )]
        );
    }

    #[test]
    fn rhel_messages_is_not_read_when_rsyslog_keeps_mail_out() {
        let conf = "*.info;mail.none;authpriv.none;cron.none                /var/log/messages\nmail.*                                                  -/var/log/maillog\n";
        let root = TempRoot::new("rhel", &[("etc/rsyslog.conf", conf), ("var/log/messages", CRON), ("var/log/maillog", "")]);
        let mut rec = Recorder::new();
        collect_logs(&root.opts(), &LogConfig::default(), &mut rec);
        assert!(read_logs(&rec).iter().all(|(p, _)| p != "/var/log/messages"), "{:?}", read_logs(&rec));
        // The empty maillog was looked at; under --root there is no journal to fall back to.
        assert!(rec.observations.iter().any(|o| matches!(&o.source, Source::Log { path, .. } if path == "/var/log/maillog")));
        assert!(!rec.observations.iter().any(|o| matches!(&o.source, Source::Log { path, .. } if path == "journalctl")));
    }

    #[test]
    fn a_file_reached_two_ways_is_read_once_and_own_logs_always() {
        let root = TempRoot::new(
            "dedupe",
            &[
                ("var/log/mail.log", DEFERRED),
                ("var/log/syslog", DEFERRED),
                ("var/log/dovecot-lda.log", "Nov 23 10:45:29 lda(alice)<2817><kHq1ALr4QWdBCwAAj2ZsQw>: Error: Mailbox INBOX: Failed to autocreate mailbox: Mailbox already exists\n"),
            ],
        );
        // RHEL-style name as a symlink to the Debian one.
        std::os::unix::fs::symlink("/var/log/mail.log", root.0.join("var/log/maillog")).unwrap();
        let cfg = LogConfig {
            maillog_file: Some("/var/log//mail.log".into()),
            dovecot: vec![("/var/log/dovecot-lda.log".into(), "dovecot protocol lda log_path".into())],
            units: vec![],
        };
        let mut rec = Recorder::new();
        collect_logs(&root.opts(), &cfg, &mut rec);
        assert_eq!(
            read_logs(&rec),
            [
                ("/var/log/mail.log".to_string(), "default; postfix maillog_file".to_string()),
                ("/var/log/dovecot-lda.log".to_string(), "dovecot protocol lda log_path".to_string()),
            ]
        );
    }

    #[test]
    fn plan_prefers_confirmed_dedicated_then_defaults_then_catch_alls_then_partial_copies() {
        let conf = "mail.*\t-/var/log/mail.log\nmail.info\t-/var/log/mail.info\nmail.warn\t-/var/log/mail.warn\nmail.err\t/var/log/mail.err\n*.*;auth,authpriv.none\t-/var/log/syslog\n";
        let dests: Vec<(String, syslogconf::Destination)> =
            syslogconf::parse_rsyslog(conf).into_iter().map(|d| ("/etc/rsyslog.conf".to_string(), d)).collect();
        let cfg = LogConfig {
            maillog_file: Some("/dev/stdout".into()),
            dovecot: vec![("/var/log/dovecot.log".into(), "dovecot log_path".into())],
            units: vec![],
        };
        let t = plan_targets(&cfg, &dests, &|p| p.to_string());
        let got: Vec<(&str, Option<u8>, bool)> = t.iter().map(|t| (t.path.as_str(), t.syslog_rank, t.own)).collect();
        assert_eq!(
            got,
            [
                ("/var/log/mail.log", Some(0), false),
                ("/var/log/mail.info", Some(0), false),
                ("/var/log/maillog", Some(1), false),
                ("/var/log/syslog", Some(2), false),
                ("/var/log/messages", Some(3), false),
                ("/var/log/mail.warn", Some(4), false),
                ("/var/log/mail.err", Some(4), false),
                ("/var/log/dovecot.log", None, true),
            ]
        );
        assert_eq!(t[0].reasons, ["rsyslog mail.* destination (/etc/rsyslog.conf:1)", "default"]);
    }

    #[test]
    fn the_journal_fallback_takes_the_mail_facility_or_the_mail_units() {
        let argv = journal_argv(&["postfix@-.service".to_string(), "dovecot.service".to_string()]);
        let tail: Vec<&str> = argv.iter().skip(7).map(String::as_str).collect();
        assert_eq!(tail, ["SYSLOG_FACILITY=2", "+", "_SYSTEMD_UNIT=postfix@-.service", "_SYSTEMD_UNIT=dovecot.service"]);
        let mut obs = Vec::new();
        let main = "maillog_file = /var/log/postfix.log\nmulti_instance_directories = /etc/postfix-out\n";
        obs.push(Observation {
            id: 0,
            source: Source::File { path: "/etc/postfix/main.cf".into() },
            at: 0,
            elapsed_ms: 0,
            payload: Payload::text(main),
        });
        let cfg = LogConfig::new(&crate::observe::config_from(&obs).unwrap_or_default(), &crate::observe::dovecot_from(&obs));
        assert_eq!(cfg.maillog_file.as_deref(), Some("/var/log/postfix.log"));
        assert!(cfg.units.contains(&"postfix@postfix-out.service".to_string()), "{:?}", cfg.units);
    }

    #[test]
    fn logs_stats_finds_the_lda_log_and_one_copy_of_the_mail_stream() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysroots/dovecot-lda-log");
        let opts = Options { root, ..Options::default() };
        let shown: Vec<String> = discover_all(&opts).into_iter().map(|(p, _)| p).collect();
        assert_eq!(shown, ["/var/log/mail.log", "/var/log/dovecot-lda.log"]);
    }
}
