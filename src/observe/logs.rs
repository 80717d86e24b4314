//! Mail log collection: which log files to read and reading them (their tail, up to a cap).
//!
//! Discovery looks where Debian and RHEL syslog put mail (`/var/log/mail.log`,
//! `/var/log/maillog`, `mail.err`, `mail.warn`), where Postfix's own `maillog_file` points,
//! and at Dovecot's `log_path` / `info_log_path` when they name files (its logins and its
//! LMTP/LDA deliveries are logged there, not in the mail log). `--log FILE` replaces
//! discovery and is read as given (not under `--root`).

use super::{fs, Failure, Options, Payload, Recorder, Source};
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
    if !explicit {
        for path in dovecot_logs(&rec.observations) {
            let rot = rotations(opts, &path);
            let newest = std::fs::metadata(opts.host_path(&path)).map(|m| m.mtime()).ok();
            let newest = newest.or_else(|| rot.last().map(|r| r.1)).unwrap_or(0);
            for (p, mtime) in rot {
                if mtime >= newest - LOG_WINDOW {
                    record_log(rec, &p, &opts.host_path(&p), opts.log_cap_bytes);
                }
            }
            record_log(rec, &path, &opts.host_path(&path), opts.log_cap_bytes);
        }
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

/// Dovecot's log files: `log_path` and `info_log_path` (at the top level or in a `protocol`
/// section, e.g. dovecot-lda's own), when they are absolute paths rather than `syslog` or
/// /dev/stderr, and not one of the mail logs already read.
pub fn dovecot_logs(observations: &[super::Observation]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, name, value) in crate::facts::host::dovecot_settings_of(observations) {
        let v = value.trim();
        if (name == "log_path" || name == "info_log_path") && v.starts_with('/') && !v.starts_with("/dev/") {
            let already = observations.iter().any(|o| matches!(&o.source, Source::Log { path } if path == v));
            if !already && !out.iter().any(|p| p == v) {
                out.push(v.to_string());
            }
        }
    }
    out
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
    fn dovecots_own_log_files_are_read_too() {
        let doveconf = "log_path = /var/log/dovecot.log\nprotocol lda {\n  log_path = /var/log/dovecot-lda.log\n}\nprotocol imap {\n  info_log_path = syslog\n}\n";
        let mut rec = Recorder::new();
        rec.record(Source::Command { argv: vec!["doveconf".into(), "-n".into()] }, || Payload::text(doveconf));
        rec.record(Source::Log { path: "/var/log/mail.log".into() }, || Payload::text(""));
        assert_eq!(dovecot_logs(&rec.observations), ["/var/log/dovecot.log", "/var/log/dovecot-lda.log"]);
        // Logging to syslog (Dovecot's default) or to the mail log adds nothing.
        let mut rec = Recorder::new();
        rec.record(Source::Command { argv: vec!["doveconf".into(), "-n".into()] }, || {
            Payload::text("log_path = /var/log/mail.log\ninfo_log_path = /dev/stderr\n")
        });
        rec.record(Source::Log { path: "/var/log/mail.log".into() }, || Payload::text(""));
        assert!(dovecot_logs(&rec.observations).is_empty());
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
