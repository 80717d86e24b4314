//! Mail log collection: which log files to read and reading them (their tail, up to a cap).
//!
//! Discovery looks where Debian and RHEL syslog put mail (`/var/log/mail.log`,
//! `/var/log/maillog`, `mail.err`, `mail.warn`) and where Postfix's own `maillog_file`
//! points. `--log FILE` replaces discovery and is read as given (not under `--root`).

use super::{fs, Options, Recorder, Source};
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

pub fn collect_logs(opts: &Options, plan: &Plan, rec: &mut Recorder) {
    let explicit = !opts.logs.is_empty();
    for path in discover(opts, plan) {
        // Given on the command line: read exactly that file; discovered: under the root.
        let real = if explicit { std::path::PathBuf::from(&path) } else { opts.host_path(&path) };
        let cap = opts.log_cap_bytes;
        rec.record(Source::Log { path }, || match fs::read_tail(&real, cap) {
            Ok(p) => p,
            Err(e) => fs::io_failure(&e),
        });
    }
}
