//! The host itself: identity (hostname, FQDN, /etc/mailname), filesystems (free space and
//! inodes, read-only mounts) and where each user's mailbox is (Maildir or mbox).

use crate::bundle::{Bundle, Payload, Source};
use crate::model::{Fact, FactSet};
use crate::model::{FieldType, KindSpec};
use crate::parse::mailbox::{mail_users, MailboxPlan, MAX_USERS};
use crate::parse::mailconf::DovecotSetting;
use crate::parse::postconf::Config;

pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "host_identity",
        producer: "parser: /etc/hostname, `hostname -f`, /etc/mailname",
        doc: "the names the host goes by",
        fields: &[
            ("hostname", FieldType::String, "short or full host name"),
            ("fqdn", FieldType::String, "fully qualified name (`hostname -f`, live only)"),
            ("mailname", FieldType::String, "/etc/mailname (Debian), when present"),
            ("myhostname", FieldType::String, "Postfix myhostname (expanded)"),
            ("myhostname_is_fqdn", FieldType::Bool, "myhostname contains a dot"),
            ("myhostname_in_mydestination", FieldType::Bool, "myhostname is one of mydestination's entries (mail to it is local)"),
            ("mailname_matches", FieldType::Bool, "/etc/mailname equals myhostname (when both exist)"),
            ("hostname_matches", FieldType::Bool, "the host name (or FQDN) equals myhostname"),
        ],
    },
    KindSpec {
        name: "fs_usage",
        producer: "parser: statvfs (live only)",
        doc: "free space and inodes of the filesystem holding a mail path",
        fields: &[
            ("path", FieldType::String, "the mail path (queue_directory, /tmp, mail spool, a home)"),
            ("total_bytes", FieldType::Integer, "size"),
            ("free_bytes", FieldType::Integer, "bytes available to unprivileged users"),
            ("free_pct", FieldType::Integer, "free bytes, percent"),
            ("total_inodes", FieldType::Integer, "inodes"),
            ("free_inodes", FieldType::Integer, "inodes available"),
            ("free_inodes_pct", FieldType::Integer, "free inodes, percent"),
            ("readonly", FieldType::Bool, "mounted read-only"),
        ],
    },
    KindSpec {
        name: "queue_space",
        producer: "combiner: statvfs of queue_directory (live only) + queue_minfree, message_size_limit",
        doc: "whether the queue file system has the free space smtpd(8) demands before it accepts a MAIL FROM",
        fields: &[
            ("path", FieldType::String, "queue_directory"),
            ("free_bytes", FieldType::Integer, "bytes available to unprivileged users (Postfix's own processes)"),
            ("free_inodes", FieldType::Integer, "inodes available"),
            ("needed_bytes", FieldType::Integer, "the larger of queue_minfree and 1.5 × message_size_limit"),
            ("needed_by", FieldType::String, "which of the two sets it, with its value"),
            ("enough", FieldType::Bool, "free_bytes ≥ needed_bytes and an inode is left: smtpd accepts mail"),
            ("problem", FieldType::String, "why not, in an admin's words (empty when enough)"),
        ],
    },
    KindSpec {
        name: "mount",
        producer: "parser: /proc/self/mounts (live only)",
        doc: "a mounted filesystem",
        fields: &[
            ("mountpoint", FieldType::String, "where"),
            ("fstype", FieldType::String, "type"),
            ("device", FieldType::String, "source device"),
            ("readonly", FieldType::Bool, "has the ro option"),
        ],
    },
    KindSpec {
        name: "maildir_contents",
        producer: "parser: bounded listing of each user's Maildir",
        doc: "what a user's Maildir holds, and whether anything in it is not the user's",
        fields: &[
            ("user", FieldType::String, "user name"),
            ("path", FieldType::String, "the Maildir"),
            ("messages", FieldType::Integer, "message files in cur/ and new/ (all folders)"),
            ("folders", FieldType::Integer, "Maildir++ folders (.Name directories)"),
            ("foreign", FieldType::Integer, "files or directories not owned by the user"),
            ("foreign_sample", FieldType::String, "one of them, with its owner uid"),
            ("unreadable", FieldType::Integer, "entries the owner cannot read or (directories) enter"),
            ("truncated", FieldType::Integer, "entries not listed (bound reached)"),
        ],
    },
    KindSpec {
        name: "mailbox",
        producer: "combiner: passwd, home_mailbox / mail_location / mail_spool_directory",
        doc: "where a real user's mail is delivered (its directories are path_stat facts)",
        fields: &[
            ("user", FieldType::String, "user name"),
            ("uid", FieldType::Integer, "user id"),
            ("gid", FieldType::Integer, "primary group id"),
            ("home", FieldType::String, "home directory"),
            ("format", FieldType::String, "maildir or mbox"),
            ("path", FieldType::String, "the Maildir directory or mbox file"),
        ],
    },
];

pub fn facts(bundle: &Bundle, cfg: Option<&Config>, dovecot: &[DovecotSetting], out: &mut FactSet) {
    identity(bundle, cfg, out);
    for o in &bundle.observations {
        let Source::Statvfs { path } = &o.source else { continue };
        match &o.payload {
            Payload::Statvfs(d) => {
                let total = d.blocks.saturating_mul(d.block_size);
                let free = d.blocks_available.saturating_mul(d.block_size);
                let pct = |a: u64, b: u64| a.saturating_mul(100).checked_div(b).map_or(100, |p| p as i64);
                out.push(
                    Fact::new("fs_usage")
                        .with("path", path.as_str())
                        .with("total_bytes", total)
                        .with("free_bytes", free)
                        .with("free_pct", pct(free, total))
                        .with("total_inodes", d.files)
                        .with("free_inodes", d.files_available)
                        .with("free_inodes_pct", pct(d.files_available, d.files))
                        .with("readonly", d.readonly)
                        .evidence(
                            o.source.label(),
                            format!(
                                "{path}: {} free of {} ({}%), {} of {} inodes free{}",
                                crate::text::human_bytes(free as i64),
                                crate::text::human_bytes(total as i64),
                                pct(free, total),
                                d.files_available,
                                d.files,
                                if d.readonly { ", read-only" } else { "" }
                            ),
                        )
                        .from_observation(o.id),
                );
            }
            _ => out.unavailable("fs_usage", o.source.label(), o.problem().unwrap_or_default()),
        }
    }
    queue_space(bundle, cfg, out);
    if let Some(o) = bundle.file("/proc/self/mounts") {
        match o.text() {
            Some(t) => {
                for (i, l) in t.lines().enumerate() {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    if f.len() < 4 {
                        continue;
                    }
                    let ro = f[3].split(',').any(|x| x == "ro");
                    out.push(
                        Fact::new("mount")
                            .with("device", f[0])
                            .with("mountpoint", f[1].replace("\\040", " "))
                            .with("fstype", f[2])
                            .with("readonly", ro)
                            .evidence(format!("/proc/self/mounts:{}", i + 1), l.to_string())
                            .from_observation(o.id),
                    );
                }
            }
            None => out.unavailable("mount", "/proc/self/mounts", o.problem().unwrap_or_default()),
        }
    }
    mailbox_facts(bundle, cfg, dovecot, out);
}

/// smtpd(8) refuses every MAIL FROM with "452 4.3.1 Insufficient system storage" while the
/// queue file system has less free space than queue_minfree or 1.5 × message_size_limit
/// (postconf(5), queue_minfree; Postfix ≥ 2.1), and nothing can be queued at all once the
/// space or the inodes are gone.
fn queue_space(bundle: &Bundle, cfg: Option<&Config>, out: &mut FactSet) {
    let Some(cfg) = cfg else {
        // Unknown for the same reason as the configuration (reported once, with it).
        let same: Vec<(String, String)> = out.unavailable_for("postconf").iter().map(|u| (u.what.clone(), u.why.clone())).collect();
        for (what, why) in same {
            out.unavailable("queue_space", what, why);
        }
        return;
    };
    let queue = cfg.value("queue_directory").filter(|q| !q.is_empty()).unwrap_or_else(|| "/var/spool/postfix".into());
    let Some(o) = bundle.observations.iter().find(|o| matches!(&o.source, Source::Statvfs { path } if *path == queue)) else {
        out.unavailable("queue_space", format!("statvfs {queue}"), "not collected");
        return;
    };
    let Payload::Statvfs(d) = &o.payload else {
        // Not run under --root (a copied tree's free space says nothing), or it failed.
        out.unavailable("queue_space", o.source.label(), o.problem().unwrap_or_default());
        return;
    };
    let number = |n: &str| cfg.value(n).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    let (minfree, limit) = (number("queue_minfree"), number("message_size_limit"));
    let margin = limit.saturating_mul(3) / 2;
    let (needed, needed_by) = if minfree >= margin {
        (minfree, format!("queue_minfree = {minfree}"))
    } else {
        (margin, format!("1.5 × message_size_limit = 1.5 × {limit}"))
    };
    let free = d.blocks_available.saturating_mul(d.block_size);
    let no_inodes = d.files > 0 && d.files_available == 0;
    let h = |n: u64| crate::text::human_bytes(i64::try_from(n).unwrap_or(i64::MAX));
    let problem = if no_inodes {
        format!("no free inodes ({} in all): no queue file can be created", d.files)
    } else if free < needed || free == 0 {
        format!("{} free, less than the {} smtpd requires ({needed_by})", h(free), h(needed))
    } else {
        String::new()
    };
    out.push(
        Fact::new("queue_space")
            .with("path", queue.as_str())
            .with("free_bytes", free)
            .with("free_inodes", d.files_available)
            .with("needed_bytes", needed)
            .with("needed_by", needed_by.as_str())
            .with("enough", problem.is_empty())
            .with("problem", problem.as_str())
            .evidence(
                o.source.label(),
                format!("{queue}: {} free, {} inodes free; smtpd needs {} ({needed_by})", h(free), d.files_available, h(needed)),
            )
            .from_observation(o.id),
    );
}

fn identity(bundle: &Bundle, cfg: Option<&Config>, out: &mut FactSet) {
    let first_line = |p: &str| {
        bundle.file(p).and_then(|o| o.text()).and_then(|t| t.lines().next()).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    };
    // Live: the running name the bundle recorded; a copied tree: its /etc/hostname.
    let (hostname, src) = match first_line("/etc/hostname") {
        Some(h) if !bundle.live => (h, "/etc/hostname"),
        _ => (bundle.host.clone(), "uname"),
    };
    let mut f = Fact::new("host_identity").with("hostname", hostname.as_str()).evidence(src, hostname.clone());
    if let Some(fq) =
        bundle.command("hostname").find_map(|o| o.text()).and_then(|t| t.lines().next()).map(str::trim).filter(|s| !s.is_empty())
    {
        f.set("fqdn", fq);
        f = f.evidence("hostname -f", fq.to_string());
    }
    if let Some(m) = first_line("/etc/mailname") {
        f.set("mailname", m.as_str());
        f = f.evidence("/etc/mailname", m);
    }
    // Consistency with Postfix's own idea of the host.
    if let Some(cfg) = cfg {
        let my = cfg.value("myhostname").unwrap_or_default();
        if !my.is_empty() {
            let dest = cfg.value("mydestination").unwrap_or_default();
            let in_dest = dest.split([',', ' ', '\t']).any(|d| d.eq_ignore_ascii_case(&my));
            let fqdn = f.get("fqdn").and_then(|v| v.as_str()).map(str::to_string);
            let host_match = my.eq_ignore_ascii_case(&hostname) || fqdn.as_deref().is_some_and(|q| q.eq_ignore_ascii_case(&my));
            f.set("myhostname", my.as_str());
            f.set("myhostname_is_fqdn", my.contains('.'));
            f.set("myhostname_in_mydestination", in_dest);
            f.set("hostname_matches", host_match);
            if let Some(m) = f.get("mailname").and_then(|v| v.as_str()).map(str::to_string) {
                f.set("mailname_matches", m.eq_ignore_ascii_case(&my));
            }
            f = f.evidence(cfg.origin.clone(), format!("myhostname = {my}; mydestination = {dest}"));
        }
    }
    out.push(f);
}

fn maildir_contents(user: &str, uid: u32, path: &str, o: &crate::bundle::Observation, out: &mut FactSet) {
    let Payload::Listing { entries, truncated } = &o.payload else {
        if let Some(p) = o.problem().filter(|_| !matches!(o.payload, Payload::Absent)) {
            out.unavailable("maildir_contents", o.source.label(), p);
        }
        return;
    };
    let is_dir = |m: u32| m & 0o170000 == 0o040000;
    let in_mail_dir = |p: &str| {
        let mut parts = p.rsplit('/');
        let _file = parts.next();
        matches!(parts.next(), Some("cur" | "new"))
    };
    let messages = entries.iter().filter(|e| !is_dir(e.mode) && in_mail_dir(&e.path)).count();
    let folders = entries.iter().filter(|e| is_dir(e.mode) && e.path.starts_with('.') && !e.path.contains('/')).count();
    let foreign: Vec<_> = entries.iter().filter(|e| e.uid != uid).collect();
    let unreadable = entries.iter().filter(|e| e.uid == uid && (e.mode & 0o400 == 0 || (is_dir(e.mode) && e.mode & 0o100 == 0))).count();
    let mut f = Fact::new("maildir_contents")
        .with("user", user)
        .with("path", path)
        .with("messages", messages as u64)
        .with("folders", folders as u64)
        .with("foreign", foreign.len() as u64)
        .with("unreadable", unreadable as u64)
        .with("truncated", *truncated)
        .evidence(
            o.source.label(),
            format!("{path}: {messages} messages, {folders} folders, {} entries not owned by {user}", foreign.len()),
        )
        .from_observation(o.id);
    if *truncated > 0 {
        // Counts over the listed part only: "0 foreign" would be a guess for the rest.
        let listed = entries.len() as u64;
        out.unavailable("maildir_contents", o.source.label(), format!("listed {listed} of {} entries of {path}", listed + truncated));
    }
    if let Some(e) = foreign.first() {
        let sample = format!("{path}/{} (uid {})", e.path, e.uid);
        f.set("foreign_sample", sample.as_str());
        f = f.evidence(
            o.source.label(),
            format!(
                "{} {:04o} uid {} {path}/{}",
                crate::text::mode_string(if is_dir(e.mode) { "dir" } else { "file" }, e.mode & 0o7777),
                e.mode & 0o7777,
                e.uid,
                e.path
            ),
        );
    }
    out.push(f);
}

fn mailbox_facts(bundle: &Bundle, cfg: Option<&Config>, dovecot: &[DovecotSetting], out: &mut FactSet) {
    let plan = MailboxPlan::new(&cfg.cloned().unwrap_or_default(), dovecot);
    let Some(passwd) = bundle.file("/etc/passwd").and_then(|o| o.text()) else { return };
    let all = mail_users(passwd, plan.first_uid, usize::MAX).len();
    if all > MAX_USERS {
        // The mailboxes of the others were not looked at: a rule that finds nothing wrong
        // in the first ones has not checked the rest, and must say so rather than pass.
        let why = format!("checked {MAX_USERS} of {all} users (the first in /etc/passwd)");
        for kind in ["mailbox", "maildir_contents"] {
            out.unavailable(kind, "the mailboxes of every user", why.clone());
        }
    }
    for ((user, uid, gid, home), format, path) in plan.mailboxes(&mail_users(passwd, plan.first_uid, MAX_USERS)) {
        if let Some(o) = bundle.observations.iter().find(|o| matches!(&o.source, Source::Listing { path: p } if *p == path)) {
            maildir_contents(&user, uid, &path, o, out);
        }
        out.push(
            Fact::new("mailbox")
                .with("user", user.as_str())
                .with("uid", uid)
                .with("gid", gid)
                .with("home", home.as_str())
                .with("format", format)
                .with("path", path.as_str())
                .evidence("/etc/passwd", format!("{user} (uid {uid}) receives mail in {path} ({format})")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::mailbox::maildir_of;

    #[test]
    fn maildir_locations() {
        assert_eq!(maildir_of("/home/alice", "alice", "Maildir/", ""), Some("/home/alice/Maildir".into()));
        assert_eq!(maildir_of("/home/alice", "alice", "", "maildir:~/Maildir"), Some("/home/alice/Maildir".into()));
        assert_eq!(maildir_of("/home/alice", "alice", "", "maildir:/var/vmail/%u:LAYOUT=fs"), Some("/var/vmail/alice".into()));
        assert_eq!(maildir_of("/home/alice", "alice", "", "mbox:~/mail:INBOX=/var/mail/%u"), None);
        assert_eq!(maildir_of("/home/alice", "alice", "", ""), None);
    }

    #[test]
    fn only_real_users_receive_mail() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\nbroken line\nbob:x:1001:1001::/home/bob:/bin/sh\n";
        let u = mail_users(passwd, 1000, 10);
        assert_eq!(u.iter().map(|u| u.0.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
        assert_eq!(mail_users(passwd, 1000, 1).len(), 1);
    }
}

#[cfg(test)]
mod maildir_tests {
    use super::*;
    use crate::bundle::{ListEntry, Observation};

    fn entry(path: &str, dir: bool, mode: u32, uid: u32) -> ListEntry {
        ListEntry { path: path.into(), size: 100, mtime: 0, mode: if dir { 0o040000 } else { 0o100000 } | mode, uid }
    }

    #[test]
    fn a_message_owned_by_root_in_alices_maildir_is_found() {
        let entries = vec![
            entry("cur", true, 0o700, 1000),
            entry("new", true, 0o700, 1000),
            entry("tmp", true, 0o700, 1000),
            entry("cur/1700000000.M1P2.mx1:2,S", false, 0o600, 1000),
            entry("new/1700000001.M2P3.mx1", false, 0o600, 0),
            entry(".Sent", true, 0o700, 1000),
            entry(".Sent/cur", true, 0o000, 1000),
            entry(".Sent/cur/1700000002.M3P4.mx1:2,S", false, 0o600, 1000),
        ];
        let o = Observation {
            id: 7,
            source: Source::Listing { path: "/home/alice/Maildir".into() },
            at: 0,
            elapsed_ms: 0,
            payload: Payload::Listing { entries, truncated: 0 },
        };
        let mut out = FactSet::new();
        maildir_contents("alice", 1000, "/home/alice/Maildir", &o, &mut out);
        let f = out.of_kind("maildir_contents").next().expect("fact");
        let n = |k: &str| f.get(k).and_then(|v| v.as_i64());
        assert_eq!((n("messages"), n("folders"), n("foreign"), n("unreadable")), (Some(3), Some(1), Some(1), Some(1)));
        assert_eq!(f.get("foreign_sample").and_then(|v| v.as_str()), Some("/home/alice/Maildir/new/1700000001.M2P3.mx1 (uid 0)"));
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;
    use crate::bundle::Observation;

    fn file(id: u32, path: &str, text: &str) -> Observation {
        Observation { id, source: Source::File { path: path.into() }, at: 0, elapsed_ms: 0, payload: Payload::text(text) }
    }

    #[test]
    fn myhostname_mailname_and_secondary_instances_are_compared() {
        let bundle = Bundle::of(
            "mx1",
            "/srv/copy",
            false,
            vec![
                file(0, "/etc/hostname", "mx1\n"),
                file(1, "/etc/mailname", "example.org\n"),
                file(
                    2,
                    "/etc/postfix/main.cf",
                    "myhostname = mail.example.org\nmydestination = localhost\nmulti_instance_directories = /etc/postfix-out\n",
                ),
                file(3, "/etc/postfix-out/main.cf", "queue_directory = /var/spool/postfix-out\ninet_interfaces = 192.0.2.7\n"),
            ],
        );
        let mut out = FactSet::new();
        identity(&bundle, crate::facts::config_from(&bundle.observations).as_ref(), &mut out);
        let f = out.of_kind("host_identity").next().expect("identity");
        let b = |k: &str| f.get(k).cloned();
        assert_eq!(b("myhostname_in_mydestination"), Some(crate::model::Value::Bool(false)));
        assert_eq!(b("hostname_matches"), Some(crate::model::Value::Bool(false)));
        assert_eq!(b("mailname_matches"), Some(crate::model::Value::Bool(false)));
        assert_eq!(b("myhostname_is_fqdn"), Some(crate::model::Value::Bool(true)));
        let mut out = FactSet::new();
        crate::facts::mailconf::facts(&bundle, crate::facts::config_from(&bundle.observations).as_ref(), &[], &mut out);
        let inst: Vec<String> = out
            .of_kind("instance_setting")
            .map(|f| {
                format!(
                    "{}={}",
                    f.get("name").map(|v| v.to_string()).unwrap_or_default(),
                    f.get("value").map(|v| v.to_string()).unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(inst, ["queue_directory=/var/spool/postfix-out", "inet_interfaces=192.0.2.7"]);
    }
}

#[cfg(test)]
mod queue_space_tests {
    use super::*;
    use crate::bundle::{FsData, Observation};
    use crate::model::Value;

    fn bundle(main_cf: &str, blocks_available: u64, files_available: u64) -> Bundle {
        let cf = Observation {
            id: 0,
            source: Source::File { path: "/etc/postfix/main.cf".into() },
            at: 0,
            elapsed_ms: 0,
            payload: Payload::text(main_cf),
        };
        let fs = FsData { block_size: 4096, blocks: 6144, blocks_available, files: 3_085_510, files_available, readonly: false };
        let sv = Observation {
            id: 1,
            source: Source::Statvfs { path: "/var/spool/postfix".into() },
            at: 0,
            elapsed_ms: 0,
            payload: Payload::Statvfs(fs),
        };
        Bundle::of("mx1", "/", true, vec![cf, sv])
    }

    fn space(b: &Bundle) -> Fact {
        let mut out = FactSet::new();
        queue_space(b, crate::facts::config_from(&b.observations).as_ref(), &mut out);
        let f = out.of_kind("queue_space").next().cloned();
        f.unwrap_or_else(|| panic!("no queue_space fact"))
    }

    #[test]
    fn the_lab_queue_with_584_kb_free_is_below_one_and_a_half_message_size_limits() {
        // tests/scenarios/lab-live-queue-fs-full: 598016 bytes free, default message_size_limit.
        let f = space(&bundle("myhostname = mx1.lab.example\n", 146, 3_085_429));
        assert_eq!(f.get("free_bytes"), Some(&Value::Int(598_016)));
        assert_eq!(f.get("needed_bytes"), Some(&Value::Int(15_360_000)));
        assert_eq!(f.get("enough"), Some(&Value::Bool(false)));
        assert_eq!(
            f.get("problem").and_then(Value::as_str),
            Some("584 KB free, less than the 14.6 MB smtpd requires (1.5 × message_size_limit = 1.5 × 10240000)")
        );
    }

    #[test]
    fn queue_minfree_wins_when_larger_and_space_above_it_is_enough() {
        let f = space(&bundle("queue_minfree = 20000000\nmessage_size_limit = 1000000\n", 6000, 100));
        assert_eq!(f.get("needed_bytes"), Some(&Value::Int(20_000_000)));
        assert_eq!(f.get("needed_by").and_then(Value::as_str), Some("queue_minfree = 20000000"));
        assert_eq!(f.get("enough"), Some(&Value::Bool(true)));
        assert_eq!(f.get("problem").and_then(Value::as_str), Some(""));
    }

    #[test]
    fn no_inodes_left_is_full_whatever_the_bytes() {
        let f = space(&bundle("message_size_limit = 0\n", 6000, 0));
        assert_eq!(f.get("enough"), Some(&Value::Bool(false)));
        assert!(f.get("problem").and_then(Value::as_str).unwrap_or("").starts_with("no free inodes"));
    }
}
