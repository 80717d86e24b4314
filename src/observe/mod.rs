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

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where an observation came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// `lstat(2)` of a path (as the inspected system names it, without `--root`).
    Stat { path: String },
    /// The contents of a file.
    File { path: String },
    /// A command's standard output.
    Command { argv: Vec<String> },
    /// `statvfs(2)` of the filesystem holding a path.
    Statvfs { path: String },
    /// A bounded listing of the files below a directory (the Postfix queue without postqueue).
    Listing { path: String },
    /// A DNS query (live hosts only): `qtype` is `A`, `AAAA`, `MX` or `PTR`; `name` is the
    /// name asked for (for PTR, the address as written, e.g. `192.0.2.7`).
    Dns { qtype: String, name: String },
    /// State of the *running* host read directly, without a command: `/proc` files and
    /// snapshots built from them (the process table, socket owners), system calls such as
    /// getifaddrs(3), a probe of a local socket. `what` names it as the report shows it:
    /// `/proc/net/tcp`, `/proc/<pid>/{status,cmdline} (processes)`, `smtp banner 127.0.0.1:25`.
    Proc { what: String },
    /// A mail log's contents (its tail, up to a cap). `reason`: why it was read (`default`,
    /// `postfix maillog_file`, `dovecot protocol lda log_path`, `rsyslog mail.* destination
    /// (/etc/rsyslog.conf:21)`, `fallback: ...`); absent in bundles of older versions.
    Log {
        path: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

impl Source {
    /// How the report names this source: `stat /tmp`, `/etc/postfix/main.cf`, `postconf -n`.
    pub fn label(&self) -> String {
        match self {
            Source::Stat { path } => format!("stat {path}"),
            Source::File { path } => path.clone(),
            Source::Command { argv } => argv.join(" "),
            Source::Statvfs { path } => format!("statvfs {path}"),
            Source::Listing { path } => format!("find {path}"),
            Source::Dns { qtype, name } => format!("dns {qtype} {name}"),
            Source::Proc { what } => what.clone(),
            Source::Log { path, .. } => path.clone(),
        }
    }
}

/// Raw `lstat` data. Owner and group *names* are not resolved here: that needs the
/// inspected system's passwd/group, which a parser combines later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatData {
    /// `dir`, `file`, `symlink`, `socket`, `fifo`, `char`, `block`.
    pub kind: String,
    /// Permission bits including setuid/setgid/sticky (`st_mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    /// Symlink target, when `kind` is `symlink`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Why something could not be observed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    PermissionDenied,
    /// The command is not installed.
    NotInstalled,
    TimedOut,
    /// Deliberately not done: commands and sockets are not used under `--root`.
    NotRun,
    Io,
}

/// Raw `statvfs` data: free space and inodes as an unprivileged user sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsData {
    pub block_size: u64,
    pub blocks: u64,
    /// Blocks available to unprivileged users (`f_bavail`).
    pub blocks_available: u64,
    pub files: u64,
    pub files_available: u64,
    pub readonly: bool,
}

/// One entry of a [`Source::Listing`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// Path relative to the listed directory.
    pub path: String,
    pub size: u64,
    pub mtime: i64,
    pub mode: u32,
    pub uid: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Payload {
    Stat(StatData),
    Statvfs(FsData),
    Listing {
        entries: Vec<ListEntry>,
        /// Entries not listed because the bound was reached.
        #[serde(default)]
        truncated: u64,
    },
    Text {
        text: String,
        /// Line number (1-based) of the first line kept: a large log is kept from its tail.
        #[serde(default = "one")]
        first_line: u64,
        /// Bytes dropped from the start of the file to respect the size cap.
        #[serde(default)]
        skipped_bytes: u64,
        /// Whether invalid UTF-8 was replaced.
        #[serde(default)]
        lossy: bool,
        /// Exit status, for commands.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit: Option<i32>,
    },
    /// The path does not exist: a valid answer, not a failure.
    Absent,
    Failed {
        failure: Failure,
        message: String,
    },
}

fn one() -> u64 {
    1
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub id: u32,
    pub source: Source,
    /// Seconds since the epoch.
    pub at: u64,
    pub elapsed_ms: u64,
    pub payload: Payload,
}

impl Payload {
    /// Text read in full (a command's output, a whole file), with nothing dropped.
    pub fn text(text: impl Into<String>) -> Payload {
        Payload::Text { text: text.into(), first_line: 1, skipped_bytes: 0, lossy: false, exit: None }
    }
}

impl Observation {
    pub fn text(&self) -> Option<&str> {
        match &self.payload {
            Payload::Text { text, .. } => Some(text),
            _ => None,
        }
    }
    /// A short human phrase for a failed or absent observation.
    pub fn problem(&self) -> Option<String> {
        match &self.payload {
            Payload::Failed { failure, message } => Some(match failure {
                Failure::NotRun => format!("not run: {message}"),
                _ => message.clone(),
            }),
            Payload::Absent => Some("does not exist".to_string()),
            _ => None,
        }
    }
}

/// What `collect` saves and `diagnose --bundle` re-reads: observations, not facts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    pub version: u32,
    pub mailsleuth: String,
    pub host: String,
    /// `/` for a live host, otherwise the directory given to `--root`.
    pub root: String,
    pub live: bool,
    pub created_at: u64,
    /// Only logs were observed (`diagnose --log`, or `why --log` away from the mail host):
    /// configuration, files and services are not observed, never taken as fine.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub log_only: bool,
    pub observations: Vec<Observation>,
}

pub const BUNDLE_FORMAT: &str = "mailsleuth-bundle";
pub const BUNDLE_VERSION: u32 = 1;

impl Bundle {
    /// A bundle of the given observations (tests, tools building bundles by hand).
    pub fn of(host: &str, root: &str, live: bool, observations: Vec<Observation>) -> Bundle {
        Bundle {
            format: BUNDLE_FORMAT.to_string(),
            version: BUNDLE_VERSION,
            mailsleuth: env!("CARGO_PKG_VERSION").to_string(),
            host: host.to_string(),
            root: root.to_string(),
            live,
            created_at: 0,
            log_only: false,
            observations,
        }
    }
    pub fn find(&self, source: &Source) -> Option<&Observation> {
        self.observations.iter().find(|o| &o.source == source)
    }
    pub fn file(&self, path: &str) -> Option<&Observation> {
        self.observations.iter().find(|o| matches!(&o.source, Source::File { path: p } if p == path))
    }
    pub fn command(&self, program: &str) -> impl Iterator<Item = &Observation> {
        let program = program.to_string();
        self.observations.iter().filter(move |o| matches!(&o.source, Source::Command { argv } if argv.first() == Some(&program)))
    }
}

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
    /// The real path of a path on the inspected system (`/tmp` → `DIR/tmp` under `--root`).
    /// `..` components are dropped so a path taken from a config file cannot climb out.
    pub fn host_path(&self, path: &str) -> PathBuf {
        let mut p = self.root.clone();
        for comp in Path::new(path).components() {
            if let std::path::Component::Normal(c) = comp {
                p.push(c);
            }
        }
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
    let plan = crate::facts::postconf::plan_from(&rec.observations);
    let cfg = crate::facts::postconf::config_from(&rec.observations).unwrap_or_default();
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
    let dovecot: Vec<(String, String, String)> = {
        let partial = Bundle {
            format: String::new(),
            version: 0,
            mailsleuth: String::new(),
            host: String::new(),
            root: String::new(),
            live: opts.live(),
            created_at: 0,
            log_only: false,
            observations: rec.observations.clone(),
        };
        crate::facts::host::dovecot_settings(&partial)
    };
    let mailboxes = crate::facts::host::MailboxPlan::new(&cfg, &dovecot);
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
    let log_cfg = logs::LogConfig::from_observations(&rec.observations);
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
    std::fs::read_to_string(opts.host_path("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}
