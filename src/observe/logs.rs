//! Mail log collection: which log files to read and reading them (their tail, up to a cap).
//!
//! Discovery looks where Debian and RHEL syslog put mail (`/var/log/mail.log`,
//! `/var/log/maillog`, `mail.err`, `mail.warn`) and where Postfix's own `maillog_file`
//! points. `--log FILE` replaces discovery and is read as given (not under `--root`).

use super::{fs, Failure, Options, Payload, Recorder, Source};
use crate::facts::logscan::{Scanner, Segment};
use crate::facts::postconf::Plan;

pub const DEFAULT_LOGS: &[&str] = &["/var/log/mail.log", "/var/log/maillog", "/var/log/mail.err", "/var/log/mail.warn"];

/// The log paths to read, in order, without duplicates.
pub fn discover(opts: &Options, plan: &Plan) -> Vec<String> {
    if !opts.logs.is_empty() {
        return opts.logs.clone();
    }
    let mut out: Vec<String> = DEFAULT_LOGS.iter().map(|s| s.to_string()).collect();
    if let Some(f) = &plan.maillog_file {
        if f.starts_with('/') && !f.starts_with("/dev/") && !out.contains(f) {
            out.push(f.clone());
        }
    }
    out
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

pub fn collect_logs(opts: &Options, plan: &Plan, rec: &mut Recorder) {
    use std::os::unix::fs::MetadataExt;
    let explicit = !opts.logs.is_empty();
    let mut any_text = false;
    for path in discover(opts, plan) {
        // Given on the command line: read exactly that file; discovered: under the root,
        // with its recent rotations first.
        let real = if explicit { std::path::PathBuf::from(&path) } else { opts.host_path(&path) };
        if !explicit {
            let newest = std::fs::metadata(&real).map(|m| m.mtime()).ok();
            let rot = rotations(opts, &path);
            let newest = newest.or_else(|| rot.last().map(|r| r.1)).unwrap_or(0);
            for (p, mtime) in rot {
                if mtime >= newest - LOG_WINDOW {
                    let r = opts.host_path(&p);
                    let id = record_log(rec, &p, &r, opts.log_cap_bytes);
                    any_text |= rec.get(id).text().is_some();
                }
            }
        }
        let id = record_log(rec, &path, &real, opts.log_cap_bytes);
        any_text |= rec.get(id).text().is_some();
    }
    // Journal-only hosts (no syslog file for mail): the mail facility from journald.
    if !explicit && !any_text && opts.live() {
        let timeout = opts.command_timeout;
        rec.record(Source::Log { path: "journalctl".into() }, || {
            super::command::run_with_timeout(
                &["journalctl", "--no-pager", "-q", "-o", "short-iso", "SYSLOG_FACILITY=2", "--since", "-24h"],
                timeout,
            )
        });
    }
}

fn record_log(rec: &mut Recorder, shown: &str, real: &std::path::Path, cap: u64) -> u32 {
    let gz = shown.ends_with(".gz");
    let mut problem = None;
    let id = rec.record(Source::Log { path: shown.to_string() }, || {
        let r = if gz { read_gz_tail(real, cap) } else { fs::read_tail(real, cap).map(|p| (p, None)) };
        match r {
            Ok((p, note)) => {
                problem = note;
                p
            }
            Err(e) => fs::io_failure(&e),
        }
    });
    if let Some(msg) = problem {
        // The text up to the damage is kept; the damage is an observation of its own.
        rec.record(Source::Log { path: format!("{shown} (gzip stream)") }, || Payload::Failed { failure: Failure::Io, message: msg });
    }
    id
}

/// Decompress a gzip log (all members), keeping its last `cap` bytes at a line boundary. A
/// damaged or truncated stream keeps what was decompressed and says where it stopped.
pub fn read_gz_tail(path: &std::path::Path, cap: u64) -> std::io::Result<(Payload, Option<String>)> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let mut dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, f));
    let cap = cap as usize;
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut dropped_lines: u64 = 0;
    let mut dropped_bytes: u64 = 0;
    let mut note = None;
    loop {
        match dec.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > cap.saturating_mul(2).max(1 << 20) {
                    let cut = buf.len() - cap;
                    let cut = buf[cut..].iter().position(|&b| b == b'\n').map_or(cut, |p| cut + p + 1);
                    dropped_lines += buf[..cut].iter().filter(|&&b| b == b'\n').count() as u64;
                    dropped_bytes += cut as u64;
                    buf.drain(..cut);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                note = Some(format!("gzip stream damaged after {} decompressed bytes: {e}", dropped_bytes + buf.len() as u64));
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
    Ok((Payload::Text { text, first_line: dropped_lines + 1, skipped_bytes: dropped_bytes, lossy, exit: None }, note))
}

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
/// (lines over [`crate::facts::logs::MAX_LINE`] are skipped anyway).
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
        let mut f = std::fs::File::open(&self.real)?;
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
            Ok(n) => n,
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

/// The first (`from_end` false) or last stamped line of a file, for the time window and
/// the trend (the head or tail is read; a gzip file is decompressed to its end if needed).
pub fn file_stamp(real: &std::path::Path, gz: bool, from_end: bool, reference: i64) -> Option<i64> {
    use crate::facts::logs::split_syslog;
    use crate::facts::time::parse_stamp;
    use std::io::{Read, Seek, SeekFrom};
    let stamp = |l: &str| split_syslog(l).timestamp.and_then(|t| parse_stamp(t, reference));
    let mut f = std::fs::File::open(real).ok()?;
    if gz {
        let dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f));
        let mut last = None;
        for l in std::io::BufRead::lines(std::io::BufReader::new(dec)).take(if from_end { usize::MAX } else { 50 }) {
            let Ok(l) = l else { break };
            if let Some(t) = stamp(&l) {
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
/// default logs under the root and all their rotations, oldest first, as (shown, real).
pub fn discover_all(opts: &Options) -> Vec<(String, std::path::PathBuf)> {
    let mut out = Vec::new();
    for base in DEFAULT_LOGS {
        for (p, _) in rotations(opts, base) {
            let real = opts.host_path(&p);
            out.push((p, real));
        }
        let real = opts.host_path(base);
        if real.is_file() {
            out.push((base.to_string(), real));
        }
    }
    out
}

/// Scan log files (oldest first) on `threads` threads: `logs stats` and `logs unknown`.
/// Files that cannot be opened are reported in the result, not fatal.
pub fn scan_files(
    files: &[(String, std::path::PathBuf)],
    k: &crate::kb::Knowledge,
    spec: &crate::facts::time::WindowSpec,
    unknown: bool,
    threads: usize,
) -> Result<crate::facts::logscan::LogStats, String> {
    use crate::facts::logscan::{self, Matcher, ScanOptions};
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let gz = |p: &str| p.ends_with(".gz");
    let newest = files.iter().rev().find_map(|(p, r)| file_stamp(r, gz(p), true, now));
    let oldest = files.iter().find_map(|(p, r)| file_stamp(r, gz(p), false, now));
    let window = spec.resolve(newest)?;
    let trend_span = crate::facts::logs::trend_span(window, oldest, newest);
    let opts = ScanOptions { window, reference: now, trend_span, unknown };
    let mut problems = Vec::new();
    let readable: Vec<(String, std::path::PathBuf)> = files
        .iter()
        .filter(|(p, r)| match std::fs::File::open(r) {
            Ok(_) => true,
            Err(e) => {
                problems.push(format!("{p}: {e}"));
                false
            }
        })
        .cloned()
        .collect();
    if readable.is_empty() {
        return Err(if problems.is_empty() { "no mail log found".to_string() } else { problems.join("; ") });
    }
    let total: u64 = readable.iter().map(|(_, r)| std::fs::metadata(r).map_or(0, |m| m.len())).sum();
    // Pieces of at least 16 MiB, a few per thread so a slow piece does not idle a core.
    let piece = (total / (threads as u64 * 4).max(1)).max(16 << 20);
    let segments: Vec<Box<dyn Segment>> =
        FileSegment::plan(&readable, piece).into_iter().map(|s| Box::new(s) as Box<dyn Segment>).collect();
    let m = Matcher::new(&k.signatures);
    let scan = logscan::scan_segments(&m, &opts, segments, threads);
    let mut stats = scan.finish(&k.signatures, opts.reference);
    stats.window = window;
    stats.trend_span = trend_span;
    for p in problems {
        stats.files.push(crate::facts::logscan::FileStats {
            path: p.split(": ").next().unwrap_or("").to_string(),
            lines: 0,
            skipped: 0,
            lossy: 0,
            matched: 0,
            outside: 0,
            problem: Some(p.split_once(": ").map_or(p.clone(), |x| x.1.to_string())),
            observation: None,
        });
    }
    Ok(stats)
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
        let plan = crate::facts::postconf::plan_from(&[]);
        collect_logs(&opts, &plan, &mut rec);
        let logs: Vec<(String, String)> = rec
            .observations
            .iter()
            .filter_map(|o| match &o.source {
                Source::Log { path } => o.text().map(|t| (path.clone(), t.to_string())),
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
}
