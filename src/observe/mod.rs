//! Collectors: the only code that touches the inspected machine.
//!
//! A collector reads files under a root (`/` or `--root DIR`), stats paths, or (on a live
//! host only) runs a command with a timeout, and returns [`Observation`]s: raw text or raw
//! stat data with provenance. Nothing is interpreted here, and nothing is ever written to
//! the inspected system. A failure is an observation too ("permission denied", "not found",
//! "timed out after 5 s"), so diagnosis goes on and the report can say what it could not see.
//!
//! Collectors may use pure parsers to *plan* (main.cf tells where the queue lives), but what
//! they store is always the raw observation, so a bundle can be re-parsed by a newer
//! mailsleuth.

pub mod command;
pub mod dns;
pub mod firewall;
pub mod fs;
pub mod logs;
pub mod net;
pub mod services;

use crate::bundle::{select, Bundle, Observation, Payload, Source, BUNDLE_FORMAT, BUNDLE_VERSION};
use crate::parse::mailconf::{dovecot_effective, DovecotSetting};
use crate::parse::postconf::{config_of, Config};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Settings shared by every collector.
#[derive(Clone, Debug)]
pub struct Options {
    /// The inspected filesystem's root: `/` on a live host.
    pub root: PathBuf,
    /// Log files given with `--log` (replace discovery when non-empty).
    pub logs: Vec<String>,
    pub command_timeout: Duration,
    /// At most this many bytes are kept of each log file (its tail).
    pub log_cap_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { root: PathBuf::from("/"), logs: Vec::new(), command_timeout: Duration::from_secs(5), log_cap_bytes: 256 << 20 }
    }
}

impl Options {
    /// A live host: commands may run. Under `--root DIR` only files are read.
    pub fn live(&self) -> bool {
        self.root == Path::new("/")
    }
    /// The real path of a path on the inspected system (`/tmp` → `DIR/tmp` under `--root`),
    /// its last component not followed if it is a symlink (for `lstat`, `readlink`).
    ///
    /// Under `--root` every symlink on the way is resolved *inside* the root, as
    /// `openat2(RESOLVE_IN_ROOT)` would: an absolute target (`etc/hostname -> /etc/hostname`,
    /// `home/alice/Maildir -> /`) is taken relative to the root and `..` stops at it, so no
    /// path of the copied tree ever reaches the analysing machine's own files.
    pub fn host_path(&self, path: &str) -> PathBuf {
        self.resolve_in_root(path, false)
    }
    /// [`Options::host_path`] with the last component followed too: the path to open, list
    /// or walk.
    pub fn host_path_following(&self, path: &str) -> PathBuf {
        self.resolve_in_root(path, true)
    }
    fn resolve_in_root(&self, path: &str, follow_last: bool) -> PathBuf {
        let split = |p: &str| -> std::collections::VecDeque<String> {
            p.split('/').filter(|c| !c.is_empty() && *c != ".").map(str::to_string).collect()
        };
        if self.live() {
            // The host's own symlinks are the host's truth; `..` keeps its meaning.
            let mut p = self.root.clone();
            p.extend(split(path));
            return p;
        }
        let mut done: Vec<String> = Vec::new();
        let mut todo = split(path);
        let mut hops = 0;
        while let Some(c) = todo.pop_front() {
            if c == ".." {
                done.pop();
                continue;
            }
            let mut real = self.root.clone();
            real.extend(&done);
            real.push(&c);
            let is_last = todo.is_empty();
            let link = match std::fs::symlink_metadata(&real) {
                Ok(md) if md.file_type().is_symlink() && (follow_last || !is_last) => std::fs::read_link(&real).ok(),
                _ => None,
            };
            let Some(target) = link else {
                done.push(c);
                continue;
            };
            hops += 1;
            if hops > 40 {
                // A loop or a chain too long: a name no system call accepts (it holds a NUL
                // byte), so nothing is ever opened through the unresolved link.
                done.push(format!("{c}: too many levels of symbolic links\0"));
                break;
            }
            let t = target.to_string_lossy().into_owned();
            if t.starts_with('/') {
                done.clear();
            }
            let mut next = split(&t);
            next.extend(todo.drain(..));
            todo = next;
        }
        let mut p = self.root.clone();
        p.extend(done);
        p
    }
}

/// Accumulates observations with ids and timings.
pub struct Recorder {
    pub observations: Vec<Observation>,
}

impl Recorder {
    pub fn new() -> Self {
        Recorder { observations: Vec::new() }
    }
    /// Run `f`, time it, and record what it returns under `source`. Returns the id.
    pub fn record(&mut self, source: Source, f: impl FnOnce() -> Payload) -> u32 {
        if let Some(o) = self.observations.iter().find(|o| o.source == source) {
            return o.id;
        }
        let start = std::time::Instant::now();
        let payload = f();
        let id = self.observations.len() as u32;
        self.observations.push(Observation { id, source, at: now(), elapsed_ms: start.elapsed().as_millis() as u64, payload });
        id
    }
    /// Record an observation made elsewhere (e.g. on another thread).
    pub fn push(&mut self, source: Source, payload: Payload, elapsed_ms: u64) -> u32 {
        if let Some(o) = self.observations.iter().find(|o| o.source == source) {
            return o.id;
        }
        let id = self.observations.len() as u32;
        self.observations.push(Observation { id, source, at: now(), elapsed_ms, payload });
        id
    }
    pub fn get(&self, id: u32) -> &Observation {
        &self.observations[id as usize]
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

/// Postfix's configuration from the observations (`postconf -n`, else main.cf, with `postconf
/// -d`'s defaults): selected by `bundle::select`, parsed by `parse::postconf`.
pub(crate) fn config_from(observations: &[Observation]) -> Option<Config> {
    let (text, origin, id) = select::postfix_config(observations)?;
    Some(config_of(text, origin, Some(id), select::postfix_defaults(observations)))
}

/// Dovecot's effective settings from the observations.
pub(crate) fn dovecot_from(observations: &[Observation]) -> Vec<DovecotSetting> {
    dovecot_effective(&select::dovecot_sources(observations))
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Gather every observation mailsleuth knows how to make, in dependency order.
/// Only the log files given with `--log`: for a log read away from its mail host.
pub fn collect_log_only(opts: &Options) -> Bundle {
    let mut rec = Recorder::new();
    logs::collect_logs(opts, &logs::LogConfig::default(), &mut rec);
    Bundle {
        format: BUNDLE_FORMAT.to_string(),
        version: BUNDLE_VERSION,
        mailsleuth: env!("CARGO_PKG_VERSION").to_string(),
        host: "(log only)".to_string(),
        root: String::new(),
        live: false,
        created_at: now(),
        log_only: true,
        observations: rec.observations,
    }
}

/// Whether a mail system's configuration is present under the root (Postfix, Courier,
/// Dovecot, Exim, Sendmail, OpenSMTPD): when none is, a `--log` given to `why` is a log read
/// away from its host.
pub fn mail_system_present(opts: &Options) -> bool {
    ["/etc/postfix/main.cf", "/etc/courier", "/etc/dovecot", "/etc/exim4", "/etc/exim", "/etc/mail/sendmail.cf", "/etc/smtpd.conf"]
        .iter()
        .any(|p| opts.host_path(p).exists())
}

pub fn collect(opts: &Options) -> Bundle {
    let mut rec = Recorder::new();
    fs::collect_config_files(opts, &mut rec);
    if opts.live() {
        command::collect_postconf(opts, &mut rec);
    }
    // The configuration is parsed once, here, for every collector that plans with it.
    let cfg = config_from(&rec.observations).unwrap_or_default();
    let plan = crate::parse::postconf::Plan::of(&cfg);
    fs::collect_mail_configs(opts, &cfg, &mut rec);
    fs::collect_lookup_tables(opts, &cfg, &mut rec);
    fs::collect_config_paths(opts, &cfg, &mut rec);
    fs::collect_software(opts, &mut rec);
    fs::collect_paths(opts, &plan, &mut rec);
    let postqueue_ok = rec.observations.iter().any(|o| {
        matches!(&o.source, Source::Command { argv } if argv.first().map(String::as_str) == Some("postqueue")) && o.text().is_some()
    });
    if !postqueue_ok {
        fs::collect_queue_listing(opts, &plan.queue_directory, &mut rec);
    }
    let dovecot = dovecot_from(&rec.observations);
    let mailboxes = crate::parse::mailbox::MailboxPlan::new(&cfg, &dovecot);
    fs::collect_mailboxes(opts, &mailboxes, &mut rec);
    let mut fs_paths = vec![
        plan.queue_directory.clone(),
        "/tmp".to_string(),
        "/var/tmp".to_string(),
        plan.mail_spool_directory.clone(),
        "/home".to_string(),
    ];
    fs_paths.dedup();
    fs::collect_statvfs(opts, &fs_paths, &mut rec);
    // After the mail configs: Postfix's maillog_file and Dovecot's log_path name log files.
    let log_cfg = logs::LogConfig::new(&cfg, &dovecot);
    logs::collect_logs(opts, &log_cfg, &mut rec);
    services::collect(opts, &cfg, &mut rec);
    net::collect(opts, &cfg, &mut rec);
    firewall::collect(opts, &cfg, &mut rec);
    dns::collect(opts, &cfg, &mut rec);
    Bundle {
        format: BUNDLE_FORMAT.to_string(),
        version: BUNDLE_VERSION,
        mailsleuth: env!("CARGO_PKG_VERSION").to_string(),
        host: host_name(opts),
        root: opts.root.display().to_string(),
        live: opts.live(),
        created_at: now(),
        log_only: false,
        observations: rec.observations,
    }
}

fn host_name(opts: &Options) -> String {
    // On a live host the running name (uname) is the truth; /etc/hostname may be stale.
    if opts.live() {
        if let Some(h) = nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).filter(|h| !h.is_empty()) {
            return h;
        }
    }
    let mut name = String::new();
    fs::open_regular(&opts.host_path_following("/etc/hostname"))
        .and_then(|f| std::io::Read::read_to_string(&mut std::io::Read::take(f, 4096), &mut name))
        .ok()
        .map(|_| name.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}
