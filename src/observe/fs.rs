//! File and stat collectors: configuration files, the presence of mail software, and the
//! permissions of the directories mail passes through.
//!
//! Reads only. `lstat` is used throughout, so a symlink is reported as a symlink and never
//! followed out of the tree being inspected.

use crate::bundle::specs::SOFTWARE;
use crate::bundle::{Failure, Payload, Source, StatData};
use crate::parse::mailconf::COURIER_FILES;
use crate::parse::path::resolve_link;
use crate::parse::postconf::Config;

use super::{Options, Recorder};
use crate::parse::postconf::Plan;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};

/// Configuration files read verbatim. Missing files are recorded as absent.
pub const CONFIG_FILES: &[&str] =
    &["/etc/passwd", "/etc/group", "/etc/hostname", "/etc/mailname", "/etc/postfix/main.cf", "/etc/postfix/master.cf"];

/// Largest configuration file kept in a bundle.
const CONFIG_CAP: u64 = 4 << 20;

pub fn collect_config_files(opts: &Options, rec: &mut Recorder) {
    for path in CONFIG_FILES {
        read_file(opts, rec, path, CONFIG_CAP);
    }
}

pub fn collect_software(opts: &Options, rec: &mut Recorder) {
    for (_, path) in SOFTWARE {
        stat(opts, rec, path);
    }
}

/// Stat the directories whose permissions decide whether mail can be queued, filtered and
/// delivered: the temp directories, the Postfix queue and its subdirectories, the mailbox
/// spools, and the UNIX sockets of LMTP delivery transports.
pub fn collect_paths(opts: &Options, plan: &Plan, rec: &mut Recorder) {
    for p in ["/tmp", "/var/tmp"] {
        stat(opts, rec, p);
    }
    let q = plan.queue_directory.trim_end_matches('/');
    stat(opts, rec, q);
    for sub in QUEUE_SUBDIRS {
        stat(opts, rec, &format!("{q}/{sub}"));
    }
    stat(opts, rec, &plan.mail_spool_directory);
    if plan.mail_spool_directory != "/var/spool/mail" {
        stat(opts, rec, "/var/spool/mail");
    }
    // The LMTP sockets mail is delivered to (Dovecot's, usually): gone when Dovecot is not
    // running or listens elsewhere.
    for s in &plan.transport_sockets {
        stat(opts, rec, s);
    }
}

/// The queue subdirectories whose ownership `postfix set-permissions` manages.
pub const QUEUE_SUBDIRS: &[&str] = &[
    "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "maildrop", "pid", "private", "public", "saved",
    "trace",
];

pub fn stat(opts: &Options, rec: &mut Recorder, path: &str) -> u32 {
    let real = opts.host_path(path);
    rec.record(Source::Stat { path: path.to_string() }, || match std::fs::symlink_metadata(&real) {
        Ok(md) => {
            let ft = md.file_type();
            let kind = file_type_words(&ft).0;
            let target = if ft.is_symlink() { std::fs::read_link(&real).ok().map(|t| t.display().to_string()) } else { None };
            Payload::Stat(StatData {
                kind: kind.to_string(),
                mode: md.mode() & 0o7777,
                uid: md.uid(),
                gid: md.gid(),
                size: md.size(),
                mtime: md.mtime(),
                target,
            })
        }
        Err(e) => io_failure(&e),
    })
}

/// Read a file's text (its last `cap` bytes at most, cut at a line boundary).
pub fn read_file(opts: &Options, rec: &mut Recorder, path: &str, cap: u64) -> u32 {
    let real = opts.host_path_following(path);
    rec.record(Source::File { path: path.to_string() }, || match read_tail(&real, cap) {
        Ok(t) => t,
        Err(e) => io_failure(&e),
    })
}

/// Open a file for reading only if it is a regular file. A FIFO would block the open or the
/// read for ever, a device (`/dev/zero`) never ends, and a directory is not text: on a broken
/// or hostile host any of them may sit where a log or `/etc/passwd` should be. The path is
/// checked first (opening some devices has effects) and the open file again (the path may
/// have changed); `O_NONBLOCK` keeps the open itself from waiting on a FIFO's writer.
pub fn open_regular(path: &std::path::Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let check = |md: &std::fs::Metadata| {
        if md.is_file() {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::InvalidInput, format!("not a regular file but a {}", file_kind(&md.file_type()))))
        }
    };
    check(&std::fs::metadata(path)?)?;
    let flags = nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_NOCTTY;
    let f = std::fs::OpenOptions::new().read(true).custom_flags(flags.bits()).open(path)?;
    check(&f.metadata()?)?;
    Ok(f)
}

/// A file type's word in stat observations (`dir`, `fifo`, `char`) and its phrase for
/// people (`directory`, `FIFO`, `character device`), from one table.
fn file_type_words(ft: &std::fs::FileType) -> (&'static str, &'static str) {
    type Test = fn(&std::fs::FileType) -> bool;
    const KINDS: [(Test, &str, &str); 7] = [
        (|t| t.is_dir(), "dir", "directory"),
        (|t| t.is_symlink(), "symlink", "symlink"),
        (|t| t.is_file(), "file", "file"),
        (|t| t.is_socket(), "socket", "socket"),
        (|t| t.is_fifo(), "fifo", "FIFO"),
        (|t| t.is_char_device(), "char", "character device"),
        (|t| t.is_block_device(), "block", "block device"),
    ];
    KINDS.iter().find(|(test, _, _)| test(ft)).map_or(("other", "special file"), |&(_, word, phrase)| (word, phrase))
}

/// A file type as people say it (`directory`, `FIFO`, `character device`): for messages
/// refusing what is not a regular file.
pub fn file_kind(ft: &std::fs::FileType) -> &'static str {
    file_type_words(ft).1
}

pub(crate) fn io_failure(e: &io::Error) -> Payload {
    match e.kind() {
        io::ErrorKind::NotFound => Payload::Absent,
        io::ErrorKind::PermissionDenied => Payload::Failed { failure: Failure::PermissionDenied, message: "permission denied".into() },
        _ => Payload::Failed { failure: Failure::Io, message: e.to_string() },
    }
}

/// Read at most `cap` bytes from the end of a file, starting at a line boundary, and count
/// the lines dropped so that line numbers in evidence stay true to the file.
pub(crate) fn read_tail(path: &std::path::Path, cap: u64) -> io::Result<Payload> {
    use std::io::{Seek, SeekFrom};
    let mut f = open_regular(path)?;
    let len = f.metadata()?.len();
    let mut skipped_bytes = 0;
    let mut first_line = 1;
    if len > cap {
        // Count newlines in the part we drop, so the first kept line has its true number.
        let start = len - cap;
        let mut head = std::io::BufReader::with_capacity(1 << 20, (&mut f).take(start));
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = head.read(&mut buf)?;
            if n == 0 {
                break;
            }
            first_line += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        }
        f.seek(SeekFrom::Start(start))?;
        skipped_bytes = start;
    }
    let mut bytes = Vec::with_capacity(len.min(cap) as usize);
    f.take(cap).read_to_end(&mut bytes)?;
    if skipped_bytes > 0 {
        // Drop the partial first line.
        if let Some(nl) = bytes.iter().position(|&b| b == b'\n') {
            bytes.drain(..=nl);
            skipped_bytes += nl as u64 + 1;
            first_line += 1;
        }
    }
    let (text, lossy) = match String::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    Ok(Payload::Text { text, first_line, skipped_bytes, lossy, exit: None })
}

/// Stat a path and, while it is a symlink, what it points to (a few hops): a certificate
/// behind a dangling Let's Encrypt link is as missing as an absent one.
pub fn stat_following(opts: &Options, rec: &mut Recorder, path: &str) {
    let mut p = path.to_string();
    for _ in 0..8 {
        let id = stat(opts, rec, &p);
        let next = match &rec.get(id).payload {
            Payload::Stat(st) if st.kind == "symlink" => st.target.as_deref().map(|t| resolve_link(&p, t)),
            _ => None,
        };
        match next {
            Some(n) if n != p => p = n,
            _ => return,
        }
    }
}

/// Files and sockets main.cf names whose absence breaks a service: smtpd's TLS certificates
/// and keys, the Dovecot SASL socket.
pub fn collect_config_paths(opts: &Options, cfg: &crate::parse::postconf::Config, rec: &mut Recorder) {
    for (_, _, path) in crate::parse::mailconf::config_paths(cfg) {
        stat_following(opts, rec, &path);
    }
}

/// Dovecot, Courier/maildrop and secondary Postfix instance configuration files.
pub fn collect_mail_configs(opts: &Options, cfg: &crate::parse::postconf::Config, rec: &mut Recorder) {
    for p in crate::observe::fs::config_files(opts, cfg) {
        read_file(opts, rec, &p, CONFIG_CAP);
    }
}

/// Source and database of every indexed lookup table (their mtimes say whether postmap
/// or newaliases was forgotten).
pub fn collect_lookup_tables(opts: &Options, cfg: &crate::parse::postconf::Config, rec: &mut Recorder) {
    for (_, _, path, db) in crate::parse::mailconf::lookup_tables(cfg) {
        stat(opts, rec, &path);
        stat(opts, rec, &db);
    }
}

/// Every real user's home and mailbox (Maildir with cur/new/tmp, or the mbox in the spool),
/// bounded by [`crate::parse::mailbox::MAX_USERS`].
pub fn collect_mailboxes(opts: &Options, plan: &crate::parse::mailbox::MailboxPlan, rec: &mut Recorder) {
    let passwd = rec
        .observations
        .iter()
        .find(|o| matches!(&o.source, Source::File { path } if path == "/etc/passwd"))
        .and_then(|o| o.text())
        .unwrap_or("")
        .to_string();
    let users = crate::parse::mailbox::mail_users(&passwd, plan.first_uid, crate::parse::mailbox::MAX_USERS);
    let mut budget = MAX_MAILDIR_ENTRIES_TOTAL;
    for ((_, _, _, home), format, path) in plan.mailboxes(&users) {
        stat(opts, rec, &home);
        stat(opts, rec, &path);
        if format == "maildir" {
            for sub in ["cur", "new", "tmp"] {
                stat(opts, rec, &format!("{path}/{sub}"));
            }
            // Messages and folders, to find files the user cannot read or rename.
            let real = opts.host_path_following(&path);
            if budget == 0 {
                rec.record(Source::Listing { path: path.clone() }, || Payload::Failed {
                    failure: Failure::NotRun,
                    message: format!("not listed: the {MAX_MAILDIR_ENTRIES_TOTAL}-entry budget for all Maildirs was spent"),
                });
                continue;
            }
            let id =
                rec.record(Source::Listing { path: path.clone() }, || list_maildir(&real, MAILDIR_DEPTH, MAX_MAILDIR_LISTING.min(budget)));
            if let Payload::Listing { entries, .. } = &rec.get(id).payload {
                budget = budget.saturating_sub(entries.len());
            }
        }
    }
}

/// Entries listed in all Maildirs together; past it a Maildir is recorded as not listed.
pub const MAX_MAILDIR_ENTRIES_TOTAL: usize = 1_000_000;

/// A Maildir's entries, the most telling first: `new/` and `tmp/` (mail not yet seen, and
/// deliveries in progress or stuck), then `cur/`, then folders, each newest first; bounded
/// by `max` (the rest counted in `truncated`). Symlinks are listed, never followed.
fn list_maildir(real: &std::path::Path, depth: usize, max: usize) -> Payload {
    if let Err(e) = std::fs::read_dir(real) {
        return io_failure(&e);
    }
    let mut entries: Vec<crate::bundle::ListEntry> = Vec::new();
    let mut truncated = 0;
    let entry = |p: &std::path::Path, md: &std::fs::Metadata| crate::bundle::ListEntry {
        path: p.strip_prefix(real).map(|p| p.display().to_string()).unwrap_or_default(),
        size: md.size(),
        mtime: md.mtime(),
        mode: md.mode(),
        uid: md.uid(),
    };
    for sub in ["new", "tmp", "cur"] {
        let dir = real.join(sub);
        let Ok(md) = std::fs::symlink_metadata(&dir) else { continue };
        if entries.len() < max {
            entries.push(entry(&dir, &md));
        } else {
            truncated += 1;
        }
        if !md.is_dir() {
            continue;
        }
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        // Names first (cheap), metadata only for what is kept; newest first by mtime needs
        // every entry's stat, so a directory far over the cap is taken in directory order.
        let names: Vec<std::path::PathBuf> = rd.flatten().map(|e| e.path()).collect();
        let room = max.saturating_sub(entries.len());
        let mut stats: Vec<(std::path::PathBuf, std::fs::Metadata)> = if names.len() <= room.saturating_mul(4).max(10_000) {
            names.iter().filter_map(|p| std::fs::symlink_metadata(p).ok().map(|m| (p.clone(), m))).collect()
        } else {
            names.iter().take(room).filter_map(|p| std::fs::symlink_metadata(p).ok().map(|m| (p.clone(), m))).collect()
        };
        stats.sort_by(|a, b| b.1.mtime().cmp(&a.1.mtime()).then_with(|| a.0.cmp(&b.0)));
        let keep = stats.len().min(room);
        truncated += (names.len() - keep) as u64;
        entries.extend(stats[..keep].iter().map(|(p, m)| entry(p, m)));
    }
    // Folders (Maildir++ `.Sent/...`) and anything else, in walk order.
    let top = ["new", "tmp", "cur"];
    for e in walkdir::WalkDir::new(real)
        .min_depth(1)
        .max_depth(depth)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.depth() != 1 || !top.iter().any(|t| e.file_name() == *t))
        .flatten()
    {
        if entries.len() >= max {
            truncated += 1;
            continue;
        }
        let Ok(md) = e.metadata() else { continue };
        entries.push(entry(e.path(), &md));
    }
    Payload::Listing { entries, truncated }
}

/// Free space and inodes of the filesystems mail needs; live only (a copied-off tree's
/// free space says nothing about the host's).
pub fn collect_statvfs(opts: &Options, paths: &[String], rec: &mut Recorder) {
    for p in paths {
        let source = Source::Statvfs { path: p.clone() };
        if !opts.live() {
            rec.record(source, || Payload::Failed {
                failure: Failure::NotRun,
                message: "--root given: free space of the inspected host is unknown".into(),
            });
            continue;
        }
        let real = opts.host_path(p);
        rec.record(source, || match nix::sys::statvfs::statvfs(&real) {
            Ok(s) => Payload::Statvfs(crate::bundle::FsData {
                block_size: s.fragment_size(),
                blocks: s.blocks(),
                blocks_available: s.blocks_available(),
                files: s.files(),
                files_available: s.files_available(),
                readonly: s.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY),
            }),
            Err(nix::errno::Errno::EACCES) => Payload::Failed { failure: Failure::PermissionDenied, message: "permission denied".into() },
            Err(nix::errno::Errno::ENOENT) => Payload::Absent,
            Err(e) => Payload::Failed { failure: Failure::Io, message: e.to_string() },
        });
    }
    let mounts = Source::File { path: "/proc/self/mounts".into() };
    if opts.live() {
        rec.record(mounts, || match read_tail(std::path::Path::new("/proc/self/mounts"), CONFIG_CAP) {
            Ok(p) => p,
            Err(e) => io_failure(&e),
        });
    } else {
        rec.record(mounts, || Payload::Failed {
            failure: Failure::NotRun,
            message: "--root given: mounts of the inspected host are unknown".into(),
        });
    }
}

/// Largest number of queue files listed per queue directory.
pub const MAX_LISTING: usize = 200_000;

/// List the queue directories (the fallback when `postqueue -j` cannot run).
pub fn collect_queue_listing(opts: &Options, queue_directory: &str, rec: &mut Recorder) {
    for q in crate::bundle::specs::QUEUES {
        let path = format!("{}/{q}", queue_directory.trim_end_matches('/'));
        let real = opts.host_path_following(&path);
        rec.record(Source::Listing { path }, || list_dir(&real));
    }
}

/// Maildir++ folders sit one level down (`.Sent/cur/...`): depth 3 reaches their messages.
pub const MAILDIR_DEPTH: usize = 3;
/// Largest number of entries listed per Maildir.
pub const MAX_MAILDIR_LISTING: usize = 50_000;

fn list_dir(real: &std::path::Path) -> Payload {
    // Queue files sit up to two hash levels deep (hash_queue_depth).
    list_tree(real, 3, MAX_LISTING)
}

/// [`list_tree`] for other collectors (Courier's queue).
pub(crate) fn list_tree_bounded(real: &std::path::Path, depth: usize, max: usize) -> Payload {
    list_tree(real, depth, max)
}

/// Files and directories below `real` (not `real` itself), bounded in depth and count;
/// symlinks are listed, never followed.
fn list_tree(real: &std::path::Path, depth: usize, max: usize) -> Payload {
    if let Err(e) = std::fs::read_dir(real) {
        return io_failure(&e);
    }
    let mut entries = Vec::new();
    let mut truncated = 0;
    for e in walkdir::WalkDir::new(real).min_depth(1).max_depth(depth).follow_links(false).into_iter().flatten() {
        if entries.len() >= max {
            truncated += 1;
            continue;
        }
        let Ok(md) = e.metadata() else { continue };
        let rel = e.path().strip_prefix(real).map(|p| p.display().to_string()).unwrap_or_default();
        entries.push(crate::bundle::ListEntry { path: rel, size: md.size(), mtime: md.mtime(), mode: md.mode(), uid: md.uid() });
    }
    Payload::Listing { entries, truncated }
}

/// The files this module's parsers read; the collector reads them all.
pub fn config_files(opts: &Options, cfg: &Config) -> Vec<String> {
    let mut v: Vec<String> = vec!["/etc/dovecot/dovecot.conf".into(), "/etc/dovecot/local.conf".into()];
    if let Ok(rd) = std::fs::read_dir(opts.host_path_following("/etc/dovecot/conf.d")) {
        let mut names: Vec<String> =
            rd.flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| n.ends_with(".conf")).collect();
        names.sort();
        v.extend(names.into_iter().map(|n| format!("/etc/dovecot/conf.d/{n}")));
    }
    v.extend(COURIER_FILES.iter().map(|s| s.to_string()));
    if let Some(dirs) = cfg.value("multi_instance_directories") {
        for d in dirs.split([' ', ',']).filter(|d| d.starts_with('/')) {
            v.push(format!("{d}/main.cf"));
            v.push(format!("{d}/master.cf"));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capped_read_keeps_true_line_numbers() {
        let dir = std::env::temp_dir().join(format!("mailsleuth-tail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("mail.log");
        let body: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&file, &body).unwrap();
        let Payload::Text { text, first_line, .. } = read_tail(&file, 40).unwrap() else { panic!("not text") };
        let first = text.lines().next().unwrap();
        assert_eq!(first, format!("line {first_line}"));
        assert!(text.ends_with("line 100\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn symlink_targets_resolve_against_the_link_directory() {
        assert_eq!(
            resolve_link("/etc/letsencrypt/live/mx/fullchain.pem", "../../archive/mx/fullchain3.pem"),
            "/etc/letsencrypt/archive/mx/fullchain3.pem"
        );
        assert_eq!(resolve_link("/etc/ssl/certs/mail.pem", "/srv/certs/./mail.pem"), "/srv/certs/mail.pem");
        assert_eq!(resolve_link("/a", "../../../etc/x"), "/etc/x");
    }

    #[test]
    fn host_paths_cannot_climb_out_of_the_root() {
        let opts = Options { root: "/srv/copy".into(), ..Options::default() };
        assert_eq!(opts.host_path("/etc/../../etc/shadow"), std::path::PathBuf::from("/srv/copy/etc/shadow"));
        assert!(!opts.live());
    }
}
