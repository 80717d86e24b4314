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

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Gather every observation mailsleuth knows how to make, in dependency order.
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
