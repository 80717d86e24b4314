//! The bundle: what collectors observed (`Observation`: source, payload, provenance) and what
//! `collect` saves and `diagnose --bundle` re-reads. Types only, no I/O beyond loading a
//! saved bundle; nothing here interprets an observation.

pub mod redact;
pub mod select;
pub mod specs;

use serde::{Deserialize, Serialize};
use std::path::Path;

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

/// Read a bundle saved by `collect`, refusing a file of another format or of a newer version
/// than this mailsleuth reads.
/// Largest bundle read: `collect` keeps at most 256 MiB of each log, and a bundle is rarely
/// over a few megabytes; past this a bundle is refused before it is read.
pub const MAX_BUNDLE_BYTES: u64 = 1 << 30;

pub fn load(path: &Path) -> Result<Bundle, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // Only a regular file: a FIFO or a device would block or never end.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let meta = f.metadata().map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{}: not a regular file", path.display()));
    }
    if meta.len() > MAX_BUNDLE_BYTES {
        return Err(format!("{}: {} MiB, over the {} MiB a bundle may be", path.display(), meta.len() >> 20, MAX_BUNDLE_BYTES >> 20));
    }
    let mut text = String::new();
    f.take(MAX_BUNDLE_BYTES).read_to_string(&mut text).map_err(|e| format!("{}: {e}", path.display()))?;
    let b: Bundle = serde_json::from_str(&text).map_err(|e| format!("{}: not a mailsleuth bundle: {e}", path.display()))?;
    drop(text);
    bundle_within_bounds(&b).map_err(|e| format!("{}: not a bundle this mailsleuth reads: {e}", path.display()))?;
    if b.format != BUNDLE_FORMAT || b.version > BUNDLE_VERSION {
        return Err(format!(
            "{}: bundle format {} v{} is not one this mailsleuth reads ({} v{})",
            path.display(),
            b.format,
            b.version,
            BUNDLE_FORMAT,
            BUNDLE_VERSION
        ));
    }
    Ok(b)
}

/// Field sizes no collector produces: a bundle past them was not written by `collect` (or
/// was tampered with), and reading it on would cost memory out of proportion or wrap line
/// numbers.
fn bundle_within_bounds(b: &Bundle) -> Result<(), String> {
    const NAME: usize = 4096;
    const MESSAGE: usize = 64 << 10;
    const TEXT: usize = 256 << 20;
    const LISTING: usize = 1_000_000;
    const OBSERVATIONS: usize = 1_000_000;
    let long = |what: &str, n: usize, max: usize| if n > max { Err(format!("{what} is {n} bytes (at most {max})")) } else { Ok(()) };
    long("the host name", b.host.len(), 255)?;
    long("the root", b.root.len(), NAME)?;
    if b.observations.len() > OBSERVATIONS {
        return Err(format!("{} observations (at most {OBSERVATIONS})", b.observations.len()));
    }
    for o in &b.observations {
        long("an observation's source", o.source.label().len(), NAME * 8)?;
        match &o.payload {
            Payload::Text { text, first_line, skipped_bytes, .. } => {
                long("an observation's text", text.len(), TEXT)?;
                // Line numbers are counted from first_line: keep them far from wrapping.
                if *first_line == 0 || *first_line > 1 << 48 || *skipped_bytes > 1 << 56 {
                    return Err(format!("{}: first_line {first_line} / skipped_bytes {skipped_bytes} out of range", o.source.label()));
                }
            }
            Payload::Failed { message, .. } => long("a failure message", message.len(), MESSAGE)?,
            Payload::Listing { entries, .. } if entries.len() > LISTING => {
                return Err(format!("{}: {} entries (at most {LISTING})", o.source.label(), entries.len()));
            }
            Payload::Listing { entries, .. } => {
                for e in entries {
                    long("a listed path", e.path.len(), NAME)?;
                }
            }
            Payload::Stat(s) => long("a symlink target", s.target.as_ref().map_or(0, String::len), NAME)?,
            _ => {}
        }
    }
    Ok(())
}
