//! The process table and `systemctl show` as text: rows, and which processes are mail
//! programs (Postfix daemons, Dovecot, Courier, maildrop, filters).

use std::collections::HashMap;

/// One line of the process-table snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessRow {
    pub pid: u32,
    pub uid: u32,
    pub ppid: u32,
    pub comm: String,
    pub cmdline: String,
}

/// Parse the snapshot: `pid \t uid \t ppid \t comm \t cmdline` lines, `#` comments.
pub fn parse_process_table(text: &str) -> Vec<ProcessRow> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut c = l.splitn(5, '\t');
            let pid = c.next()?.trim().parse().ok()?;
            let uid = c.next()?.trim().parse().ok()?;
            let ppid = c.next()?.trim().parse().ok()?;
            let comm = c.next()?.to_string();
            let cmdline = c.next().unwrap_or("").to_string();
            Some(ProcessRow { pid, uid, ppid, comm, cmdline })
        })
        .collect()
}

/// Postfix daemons (`master.cf` command names). Several are common words ("local",
/// "pipe", "error"), so a process only counts when its parent is Postfix's master or its
/// path says postfix.
pub const POSTFIX_DAEMONS: &[&str] = &[
    "anvil",
    "bounce",
    "cleanup",
    "discard",
    "dnsblog",
    "error",
    "flush",
    "lmtp",
    "local",
    "oqmgr",
    "pickup",
    "pipe",
    "postlogd",
    "postscreen",
    "proxymap",
    "qmgr",
    "qmqpd",
    "retry",
    "scache",
    "showq",
    "smtp",
    "smtpd",
    "spawn",
    "tlsmgr",
    "tlsproxy",
    "trivial-rewrite",
    "verify",
    "virtual",
];

/// Other mail programs: (name or prefix, is a prefix, software). A process matches on its
/// comm or on the first word of its argv[0] (Perl daemons rename themselves:
/// `amavisd (master)`, `spamd child`).
const PROGRAMS: &[(&str, bool, &str)] = &[
    ("maildrop", false, "maildrop"),
    ("procmail", false, "procmail"),
    ("dovecot-lda", false, "dovecot"),
    ("deliver", false, "dovecot"),
    ("authdaemond", false, "courier"),
    ("courier", true, "courier"),
    ("amavis", true, "amavis"),
    ("spamd", true, "spamassassin"),
    ("spamass-milter", false, "spamassassin"),
    ("rspamd", true, "rspamd"),
    ("clamd", false, "clamav"),
    ("clamav-milter", false, "clamav"),
    ("opendkim", false, "opendkim"),
    ("opendmarc", false, "opendmarc"),
    ("postgrey", false, "postgrey"),
    ("policyd", true, "policyd"),
    ("saslauthd", false, "cyrus-sasl"),
    ("milter-greylist", false, "milter-greylist"),
];

/// First word of a process name: `spamd child` → `spamd`, `amavisd (master)` → `amavisd`.
fn first_word(s: &str) -> &str {
    s.split([' ', '(', ':']).next().unwrap_or("")
}

pub fn argv0(cmdline: &str) -> &str {
    cmdline.split_whitespace().next().unwrap_or("")
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether the collector should keep a process's command line (see `observe::services`):
/// only mail programs', so a bundle does not carry every command line on the host.
pub fn is_mail_program(comm: &str, cmdline: &str) -> bool {
    let a0 = argv0(cmdline);
    comm == "master"
        || comm == "dovecot"
        || a0.starts_with("dovecot/")
        || POSTFIX_DAEMONS.contains(&comm)
        || a0.contains("postfix")
        || program(comm, a0).is_some()
}

pub fn program(comm: &str, a0: &str) -> Option<(String, &'static str)> {
    for cand in [first_word(comm), first_word(basename(a0))] {
        if cand.is_empty() {
            continue;
        }
        for &(pat, prefix, software) in PROGRAMS {
            if cand == pat || (prefix && cand.starts_with(pat)) {
                let name = if pat == "deliver" { "dovecot-lda" } else { cand };
                return Some((name.to_string(), software));
            }
        }
    }
    None
}

/// `Key=Value` blocks separated by blank lines.
pub fn parse_systemctl_show(text: &str) -> Vec<HashMap<String, String>> {
    let mut out = Vec::new();
    let mut cur: HashMap<String, String> = HashMap::new();
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            cur.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}
