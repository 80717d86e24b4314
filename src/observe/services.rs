//! Services collector: the process table, the mail daemons' pid files, and systemd's view
//! of their units.
//!
//! The process table is state of the *running* host: it is read from `/proc` on a live
//! host only, and recorded as one compact snapshot (`pid \t uid \t ppid \t comm \t
//! cmdline`). Command lines are kept for mail programs only, so a bundle does not carry
//! every command line of the host (they can hold passwords). Pid files are files: they are
//! read under the root. `systemctl` runs only on a live host booted with systemd.
//! Nothing here writes anything or signals any process.

use super::{fs, Options, Recorder};
use crate::bundle::specs::{NO_SYSTEMD, PID_FILES, PROCESS_TABLE};

use crate::bundle::{Failure, Payload, Source};
use crate::parse::postconf::Config;
use std::path::Path;

/// systemd units asked about (Debian, RHEL and SUSE names); unknown ones come back
/// `not-found` and are ignored by the parser.
pub const UNITS: &[&str] = &[
    "postfix.service",
    "postfix@-.service",
    "dovecot.service",
    "courier-mta.service",
    "courier-authdaemon.service",
    "courier-imap.service",
    "amavis.service",
    "amavisd.service",
    "spamd.service",
    "spamassassin.service",
    "rspamd.service",
    "clamav-daemon.service",
    "clamd@scan.service",
    "opendkim.service",
    "opendmarc.service",
    "postgrey.service",
    "saslauthd.service",
];

/// At most this many processes are recorded.
const MAX_PROCESSES: usize = 50_000;
/// Longest command line kept.
const MAX_CMDLINE: usize = 1024;

pub fn collect(opts: &Options, cfg: &Config, rec: &mut Recorder) {
    collect_process_table(opts, rec);
    collect_pid_files(opts, cfg, rec);
    collect_units(opts, rec);
}

fn collect_process_table(opts: &Options, rec: &mut Recorder) {
    let source = Source::Proc { what: PROCESS_TABLE.to_string() };
    if !opts.live() {
        rec.record(source, || Payload::Failed { failure: Failure::NotRun, message: "--root given".into() });
        return;
    }
    rec.record(source, || match std::fs::read_dir("/proc") {
        Ok(dir) => {
            let mut pids: Vec<u32> = dir.flatten().filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok())).collect();
            pids.sort_unstable();
            let mut text = String::from("# pid\tuid\tppid\tcomm\tcmdline\n");
            for pid in pids.into_iter().take(MAX_PROCESSES) {
                if let Some(line) = process_line(pid) {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            Payload::Text { text, first_line: 1, skipped_bytes: 0, lossy: false, exit: None }
        }
        Err(e) => fs::io_failure(&e),
    });
}

/// Tabs and newlines would break the snapshot's lines; other control characters are
/// escaped when a report prints them.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c == '\t' || c == '\n' || c == '\r' { ' ' } else { c }).collect()
}

/// One snapshot line; `None` when the process ended while being read.
fn process_line(pid: u32) -> Option<String> {
    let base = Path::new("/proc").join(pid.to_string());
    let status = std::fs::read_to_string(base.join("status")).ok()?;
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
    let ppid: u32 = field("PPid:")?.parse().ok()?;
    // Uid: real effective saved fs — `ps` shows the effective one.
    let uid: u32 = field("Uid:")?.split_whitespace().nth(1)?.parse().ok()?;
    let comm = std::fs::read(base.join("comm")).ok()?;
    let comm = clean(String::from_utf8_lossy(&comm).trim_end_matches('\n'));
    // Kernel threads have an empty cmdline; unreadable ones are left empty too.
    let raw = std::fs::read(base.join("cmdline")).unwrap_or_default();
    let args: Vec<String> = raw.split(|&b| b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    let mut cmdline = clean(&args.join(" "));
    if !crate::parse::process::is_mail_program(&comm, &cmdline) {
        cmdline.clear();
    }
    if cmdline.len() > MAX_CMDLINE {
        let mut cut = MAX_CMDLINE;
        while !cmdline.is_char_boundary(cut) {
            cut -= 1;
        }
        cmdline.truncate(cut);
    }
    Some(format!("{pid}\t{uid}\t{ppid}\t{comm}\t{cmdline}"))
}

fn collect_pid_files(opts: &Options, cfg: &Config, rec: &mut Recorder) {
    let queue = cfg.value("queue_directory").filter(|q| q.starts_with('/')).unwrap_or_else(|| "/var/spool/postfix".into());
    let postfix = format!("{}/pid/master.pid", queue.trim_end_matches('/'));
    fs::read_file(opts, rec, &postfix, 4096);
    for (path, _, _) in PID_FILES {
        fs::read_file(opts, rec, path, 4096);
    }
}

fn collect_units(opts: &Options, rec: &mut Recorder) {
    let mut argv = vec!["systemctl", "show", "--property=Id,LoadState,ActiveState,SubState,Result"];
    argv.extend_from_slice(UNITS);
    // systemd's own test (sd_booted(3)): without this directory systemctl has nobody to ask.
    if opts.live() && !Path::new("/run/systemd/system").is_dir() {
        let source = Source::Command { argv: argv.iter().map(|s| s.to_string()).collect() };
        rec.record(source, || Payload::Failed { failure: Failure::NotRun, message: NO_SYSTEMD.into() });
        return;
    }
    super::command::run(opts, rec, &argv);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_lists_this_process_without_its_command_line() {
        let mut rec = Recorder::new();
        collect_process_table(&Options::default(), &mut rec);
        let text = rec.observations[0].text().unwrap_or("").to_string();
        let me = std::process::id();
        let line = text.lines().find(|l| l.starts_with(&format!("{me}\t"))).unwrap_or_else(|| panic!("pid {me} missing:\n{text}"));
        // Not a mail program: its arguments are not kept.
        assert!(line.ends_with('\t'), "{line:?}");
        let rows = crate::parse::process::parse_process_table(&text);
        assert!(rows.iter().any(|r| r.pid == me && r.cmdline.is_empty()));
    }

    #[test]
    fn under_root_pid_files_are_read_there_and_nothing_runs() {
        let dir = std::env::temp_dir().join(format!("mailsleuth-services-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("srv/postfix/pid")).unwrap();
        std::fs::write(dir.join("srv/postfix/pid/master.pid"), "        279\n").unwrap();
        let opts = Options { root: dir.clone(), ..Options::default() };
        let cfg = Config {
            explicit: crate::parse::postconf::parse_main_cf("queue_directory = /srv/postfix\n")
                .into_iter()
                .map(|s| (s.name.clone(), s))
                .collect(),
            ..Config::default()
        };
        let mut rec = Recorder::new();
        collect(&opts, &cfg, &mut rec);
        let by = |src: &Source| rec.observations.iter().find(|o| &o.source == src).map(|o| o.payload.clone());
        assert!(matches!(by(&Source::File { path: "/srv/postfix/pid/master.pid".into() }), Some(Payload::Text { .. })));
        assert_eq!(by(&Source::File { path: "/run/dovecot/master.pid".into() }), Some(Payload::Absent));
        assert!(matches!(by(&Source::Proc { what: PROCESS_TABLE.into() }), Some(Payload::Failed { failure: Failure::NotRun, .. })));
        assert!(rec.observations.iter().any(|o| matches!(&o.source, Source::Command { argv } if argv[0] == "systemctl")
            && matches!(o.payload, Payload::Failed { failure: Failure::NotRun, .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
