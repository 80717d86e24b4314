//! The names collectors and producers share: which files, commands and /proc snapshots an
//! observation is recorded under, so both sides key on one spelling (insights-core's specs).
//! Names only; no I/O, no parsing.

/// Paths whose presence tells which mail software is installed.
pub const SOFTWARE: &[(&str, &str)] = &[
    ("postfix", "/usr/sbin/postfix"),
    ("postfix", "/etc/postfix/main.cf"),
    ("dovecot", "/usr/sbin/dovecot"),
    ("dovecot-lda", "/usr/lib/dovecot/dovecot-lda"),
    ("dovecot-lda", "/usr/libexec/dovecot/dovecot-lda"),
    ("maildrop", "/usr/bin/maildrop"),
    ("procmail", "/usr/bin/procmail"),
    ("courier", "/usr/sbin/courier"),
    ("courier", "/usr/lib/courier/courierd"),
    ("courier", "/usr/lib/courier/courier/courierd"),
    ("courier", "/etc/courier"),
    ("exim", "/usr/sbin/exim4"),
    ("sendmail", "/usr/sbin/sendmail"),
    ("opensmtpd", "/usr/sbin/smtpd"),
];

/// The configuration each mail system cannot start without (also in [`SOFTWARE`], so it is
/// stat'ed): a `software` fact says whether it exists.
pub const SOFTWARE_CONFIG: &[(&str, &str)] = &[("postfix", "/etc/postfix/main.cf"), ("courier", "/etc/courier")];

pub const TCP: &str = "/proc/net/tcp";

pub const TCP6: &str = "/proc/net/tcp6";

/// How the socket-owner snapshot is named in bundles and reports.
pub const SOCKET_OWNERS: &str = "/proc/<pid>/fd (socket owners)";

pub const INTERFACES: &str = "getifaddrs(3) (interfaces)";

/// A probe is named `smtp banner ADDR:PORT` (`[::1]:25` for IPv6).
pub const BANNER_PREFIX: &str = "smtp banner ";

/// Recorded instead of probes when they may not run (`--root`).
pub const BANNER_PROBE: &str = "smtp banner probe";

/// How the process-table snapshot is named in bundles and reports.
pub const PROCESS_TABLE: &str = "/proc/<pid>/{comm,cmdline,status} (processes)";

/// Pid files of mail daemons besides Postfix's (which lives under `queue_directory`):
/// path, the program writing it, and the process names (comm prefixes) it runs under.
pub const PID_FILES: &[(&str, &str, &[&str])] = &[
    ("/run/dovecot/master.pid", "dovecot", &["dovecot"]),
    ("/run/courier/authdaemon/pid", "authdaemond", &["authdaemond"]),
    ("/run/amavis/amavisd.pid", "amavisd", &["amavis"]),
    ("/run/amavisd/amavisd.pid", "amavisd", &["amavis"]),
    ("/run/spamd.pid", "spamd", &["spamd"]),
    ("/run/clamav/clamd.pid", "clamd", &["clamd"]),
    ("/run/opendkim/opendkim.pid", "opendkim", &["opendkim"]),
    ("/run/opendmarc/opendmarc.pid", "opendmarc", &["opendmarc"]),
    ("/run/postgrey.pid", "postgrey", &["postgrey"]),
    ("/run/saslauthd/saslauthd.pid", "saslauthd", &["saslauthd"]),
];

/// Why `systemctl` was not run on a live host: there are no units to ask about, which
/// the parser takes as "no unit facts", not as something it could not see.
pub const NO_SYSTEMD: &str = "not booted with systemd (no /run/systemd/system)";

pub const QUEUES: &[&str] = &["maildrop", "incoming", "active", "deferred", "hold"];

pub const RESOLV_CONF: &str = "/etc/resolv.conf";

pub const HOSTS: &str = "/etc/hosts";
