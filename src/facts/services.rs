//! Services: which mail daemons run (the process table), what systemd says about their
//! units, and whether their pid files point at a live process — a stale pid file is the
//! trace a daemon leaves when it dies without cleaning up.
//!
//! Pure: reads the observations made by `observe::services` (the process-table snapshot,
//! `systemctl show`, the pid files); never looks at `/proc` itself.

use crate::bundle::specs::{NO_SYSTEMD, PID_FILES, PROCESS_TABLE};
use crate::bundle::{Bundle, Observation, Payload, Source};
use crate::model::{Fact, FactSet};
use crate::model::{FieldType, KindSpec};
use crate::parse::process::{argv0, parse_process_table, parse_systemctl_show, program, ProcessRow, POSTFIX_DAEMONS};
use std::collections::HashMap;

/// Fact kinds this parser produces.
pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "process",
        producer: "parser: process table (/proc/<pid>/{comm,cmdline,status}, live host only)",
        doc: "a running mail-relevant process: Postfix's master and its daemons, Dovecot, Courier, maildrop, filters and policy services",
        fields: &[
            (
                "name",
                FieldType::String,
                "the program as its logs name it: postfix/master, postfix/smtpd, dovecot, dovecot/imap-login, amavisd, spamd, ...",
            ),
            (
                "software",
                FieldType::String,
                "the package it belongs to, as in `software.name`: postfix, dovecot, courier, maildrop, amavis, spamassassin, clamav, ...",
            ),
            ("pid", FieldType::Integer, "process id"),
            ("ppid", FieldType::Integer, "parent process id"),
            ("uid", FieldType::Integer, "effective uid"),
            ("user", FieldType::String, "effective user name from the inspected system's /etc/passwd (or the uid)"),
            ("comm", FieldType::String, "the kernel's process name (/proc/<pid>/comm, at most 15 characters)"),
            ("cmdline", FieldType::String, "the command line, arguments joined by spaces"),
        ],
    },
    KindSpec {
        name: "service_state",
        producer: "parser: systemctl show (live host with systemd only)",
        doc: "a mail-related systemd unit that exists on the host, and its state (none on a host not booted with systemd)",
        fields: &[
            ("unit", FieldType::String, "unit name, e.g. postfix@-.service, dovecot.service"),
            ("load", FieldType::String, "loaded, masked, error (units that are not found are not reported)"),
            ("active", FieldType::String, "active, inactive, failed, activating, deactivating, reloading"),
            ("sub", FieldType::String, "running, exited, dead, failed, auto-restart, ..."),
            ("result", FieldType::String, "success, exit-code, signal, core-dump, timeout, start-limit-hit, ..."),
        ],
    },
    KindSpec {
        name: "pid_file",
        producer: "parser: pid files (read under the root) + process table",
        doc: "a mail daemon's pid file; `running: false` means no such daemon holds that pid (stale: the daemon died or was killed)",
        fields: &[
            ("path", FieldType::String, "pid file path, e.g. /var/spool/postfix/pid/master.pid"),
            ("daemon", FieldType::String, "the program that writes it: postfix/master, dovecot, ..."),
            ("pid", FieldType::Integer, "the pid it holds (absent when the file holds no number)"),
            ("running", FieldType::Bool, "the daemon runs with that pid (absent when processes could not be observed, e.g. under --root)"),
            ("process", FieldType::String, "name (comm) of whatever process has that pid now, if any"),
        ],
    },
];

/// Name and software of each mail process, by pid.
fn identify(rows: &[ProcessRow]) -> Vec<(&ProcessRow, String, &'static str)> {
    let is_postfix_daemon = |r: &ProcessRow| POSTFIX_DAEMONS.contains(&r.comm.as_str());
    let masters: Vec<u32> = rows
        .iter()
        .filter(|r| r.comm == "master")
        .filter(|m| m.cmdline.contains("postfix") || rows.iter().any(|c| c.ppid == m.pid && is_postfix_daemon(c)))
        .map(|m| m.pid)
        .collect();
    let mut out = Vec::new();
    for r in rows {
        let a0 = argv0(&r.cmdline);
        let found = if masters.contains(&r.pid) {
            Some(("postfix/master".to_string(), "postfix"))
        } else if is_postfix_daemon(r) && (masters.contains(&r.ppid) || a0.contains("/postfix/")) {
            Some((format!("postfix/{}", r.comm), "postfix"))
        } else if r.comm == "dovecot" && !a0.starts_with("dovecot/") {
            Some(("dovecot".to_string(), "dovecot"))
        } else if a0.starts_with("dovecot/") {
            Some((a0.to_string(), "dovecot"))
        } else {
            program(&r.comm, a0)
        };
        if let Some((name, software)) = found {
            out.push((r, name, software));
        }
    }
    out
}

fn uid_names(bundle: &Bundle) -> HashMap<u32, String> {
    let mut m = HashMap::new();
    if let Some(text) = bundle.file("/etc/passwd").and_then(|o| o.text()) {
        for line in text.lines() {
            let mut parts = line.split(':');
            let (Some(name), Some(_), Some(id)) = (parts.next(), parts.next(), parts.next()) else { continue };
            if let Ok(id) = id.trim().parse::<u32>() {
                m.entry(id).or_insert_with(|| name.to_string());
            }
        }
    }
    m
}

fn process_table(bundle: &Bundle) -> Option<&Observation> {
    bundle.observations.iter().find(|o| matches!(&o.source, Source::Proc { what } if what == PROCESS_TABLE))
}

/// The systemctl observation: `systemctl show --property=... UNIT...`.
fn systemctl(bundle: &Bundle) -> Option<&Observation> {
    bundle.command("systemctl").next()
}

/// The program a pid file belongs to, and the comm prefixes that program runs under.
fn pid_file_daemon(path: &str) -> Option<(&'static str, &'static [&'static str])> {
    if path.ends_with("/pid/master.pid") {
        return Some(("postfix/master", &["master"]));
    }
    PID_FILES.iter().find(|(p, _, _)| *p == path).map(|(_, d, comms)| (*d, *comms))
}

fn process_facts(bundle: &Bundle, out: &mut FactSet) -> Option<HashMap<u32, String>> {
    let Some(o) = process_table(bundle) else {
        out.unavailable("process", PROCESS_TABLE, "not collected");
        return None;
    };
    let Some(text) = o.text() else {
        out.unavailable("process", o.source.label(), o.problem().unwrap_or_default());
        return None;
    };
    let rows = parse_process_table(text);
    let users = uid_names(bundle);
    for (r, name, software) in identify(&rows) {
        let user = users.get(&r.uid).cloned().unwrap_or_else(|| r.uid.to_string());
        let shown = if r.cmdline.is_empty() { r.comm.clone() } else { r.cmdline.clone() };
        out.push(
            Fact::new("process")
                .with("name", name.as_str())
                .with("software", software)
                .with("pid", r.pid)
                .with("ppid", r.ppid)
                .with("uid", r.uid)
                .with("user", user.as_str())
                .with("comm", r.comm.as_str())
                .with("cmdline", r.cmdline.as_str())
                .evidence(o.source.label(), format!("pid {} ppid {} user {user}: {shown}", r.pid, r.ppid))
                .from_observation(o.id),
        );
    }
    Some(rows.into_iter().map(|r| (r.pid, r.comm)).collect())
}

fn service_facts(bundle: &Bundle, out: &mut FactSet) {
    let Some(o) = systemctl(bundle) else {
        out.unavailable("service_state", "systemctl show", "not collected");
        return;
    };
    if matches!(&o.payload, Payload::Failed { message, .. } if message == NO_SYSTEMD) {
        return;
    }
    let Some(text) = o.text() else {
        // The full argv (every unit asked about) is too long to name it by.
        out.unavailable("service_state", "systemctl show", o.problem().unwrap_or_default());
        return;
    };
    for unit in parse_systemctl_show(text) {
        let get = |k: &str| unit.get(k).map(String::as_str).unwrap_or("");
        if get("Id").is_empty() || get("LoadState") == "not-found" || get("LoadState").is_empty() {
            continue;
        }
        let line = format!("{}: {} {} ({}), result {}", get("Id"), get("LoadState"), get("ActiveState"), get("SubState"), get("Result"));
        out.push(
            Fact::new("service_state")
                .with("unit", get("Id"))
                .with("load", get("LoadState"))
                .with("active", get("ActiveState"))
                .with("sub", get("SubState"))
                .with("result", get("Result"))
                .evidence(o.source.label(), line)
                .from_observation(o.id),
        );
    }
}

fn pid_file_facts(bundle: &Bundle, procs: Option<&HashMap<u32, String>>, out: &mut FactSet) {
    let mut any = false;
    for o in &bundle.observations {
        let Source::File { path } = &o.source else { continue };
        let Some((daemon, comms)) = pid_file_daemon(path) else { continue };
        let text = match &o.payload {
            Payload::Text { text, .. } => text,
            Payload::Absent => continue,
            _ => {
                out.unavailable("pid_file", path.as_str(), o.problem().unwrap_or_default());
                continue;
            }
        };
        any = true;
        let content = text.lines().next().unwrap_or("").trim();
        let pid = content.parse::<u32>().ok().filter(|&p| p > 0);
        let mut f = Fact::new("pid_file").with("path", path.as_str()).with("daemon", daemon).from_observation(o.id);
        let mut said = match pid {
            Some(p) => {
                f.set("pid", p);
                format!("{path} holds pid {p}")
            }
            None => format!("{path} holds no pid ({content:?})"),
        };
        if let Some(procs) = procs {
            let now = pid.and_then(|p| procs.get(&p));
            let running = now.is_some_and(|c| comms.iter().any(|want| c.starts_with(want)));
            f.set("running", running);
            if let Some(c) = now {
                f.set("process", c.as_str());
            }
            said.push_str(&match (pid, now, running) {
                (Some(_), Some(c), true) => format!("; {c} runs with it"),
                (Some(p), Some(c), false) => format!("; pid {p} is now {c}, not {daemon}: the pid file is stale"),
                (Some(p), None, _) => format!("; no process {p} runs: the pid file is stale"),
                (None, _, _) => "; the pid file is unusable".to_string(),
            });
        }
        out.push(f.evidence(o.source.label(), said));
    }
    if any && procs.is_none() {
        let why = process_table(bundle).and_then(|o| o.problem()).unwrap_or_else(|| "not collected".into());
        out.unavailable("pid_file", "whether the pid files' processes run (process table)", why);
    }
}

pub fn facts(bundle: &Bundle, out: &mut FactSet) {
    let procs = process_facts(bundle, out);
    service_facts(bundle, out);
    pid_file_facts(bundle, procs.as_ref(), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Failure;

    /// A process table as `observe::services` writes it, from the lab's Postfix + Dovecot
    /// (pids as in tests/fixtures/captured/outputs/ss-ltnp.txt) plus filters.
    const TABLE: &str = "# pid\tuid\tppid\tcomm\tcmdline
1\t0\t0\tunshare\t
62\t0\t1\tdnsmasq\t
279\t0\t1\tmaster\t/usr/lib/postfix/sbin/master -w
280\t105\t279\tpickup\tpickup -l -t unix -u -c
281\t105\t279\tqmgr\tqmgr -l -t unix -u
290\t105\t279\tsmtpd\tsmtpd -n submission -t inet -u -o stress= -s 2
291\t105\t279\tlocal\tlocal -t unix
293\t0\t1\tdovecot\t/usr/sbin/dovecot -F
294\t0\t293\tanvil\tdovecot/anvil
295\t0\t293\tlog\tdovecot/log
296\t0\t293\tconfig\tdovecot/config
297\t112\t293\timap-login\tdovecot/imap-login
298\t1000\t291\tmaildrop\t/usr/bin/maildrop -d alice
300\t0\t1\tamavisd (master\tamavisd (master)
301\t0\t1\tspamd child\tspamd child
302\t0\t1\tlocal\t/usr/local/bin/local --not-postfix
400\t1000\t1\tbash\t
";

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\npostfix:x:105:110::/var/spool/postfix:/usr/sbin/nologin\ndovenull:x:112:117::/nonexistent:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n";

    fn text(t: &str) -> Payload {
        Payload::Text { text: t.to_string(), first_line: 1, skipped_bytes: 0, lossy: false, exit: Some(0) }
    }
    fn bundle(obs: Vec<(Source, Payload)>) -> Bundle {
        Bundle {
            format: String::new(),
            version: 1,
            mailsleuth: String::new(),
            host: "mx1".into(),
            root: "/".into(),
            live: true,
            created_at: 0,
            log_only: false,
            observations: obs
                .into_iter()
                .enumerate()
                .map(|(i, (source, payload))| Observation { id: i as u32, source, at: 0, elapsed_ms: 0, payload })
                .collect(),
        }
    }
    fn table() -> (Source, Payload) {
        (Source::Proc { what: PROCESS_TABLE.into() }, text(TABLE))
    }
    fn file(path: &str, p: Payload) -> (Source, Payload) {
        (Source::File { path: path.into() }, p)
    }
    fn names(fs: &FactSet) -> Vec<String> {
        fs.of_kind("process").map(|f| f.get("name").map(|v| v.to_string()).unwrap_or_default()).collect()
    }

    #[test]
    fn postfix_dovecot_and_filters_are_recognised_other_processes_are_not() {
        let fs = {
            let mut out = FactSet::new();
            facts(&bundle(vec![file("/etc/passwd", text(PASSWD)), table()]), &mut out);
            out
        };
        assert_eq!(
            names(&fs),
            [
                "postfix/master",
                "postfix/pickup",
                "postfix/qmgr",
                "postfix/smtpd",
                "postfix/local",
                "dovecot",
                "dovecot/anvil",
                "dovecot/log",
                "dovecot/config",
                "dovecot/imap-login",
                "maildrop",
                "amavisd",
                "spamd",
            ]
        );
        let smtpd = fs.of_kind("process").find(|f| f.get("name") == Some(&"postfix/smtpd".into())).map(|f| f.summary());
        assert_eq!(
            smtpd.as_deref(),
            Some(
                "process { cmdline: \"smtpd -n submission -t inet -u -o stress= -s 2\", comm: \"smtpd\", name: \"postfix/smtpd\", pid: 290, ppid: 279, software: \"postfix\", uid: 105, user: \"postfix\" }"
            )
        );
        let login = fs.of_kind("process").find(|f| f.get("name") == Some(&"dovecot/imap-login".into()));
        assert_eq!(login.and_then(|f| f.get("user")), Some(&"dovenull".into()));
    }

    #[test]
    fn a_stale_pid_file_and_a_reused_pid_are_told_apart_from_a_live_daemon() {
        let b = bundle(vec![
            table(),
            file("/var/spool/postfix/pid/master.pid", text("        279\n")),
            file("/run/dovecot/master.pid", text("4242\n")),
            file("/run/amavis/amavisd.pid", text("400\n")),
            file("/run/opendkim/opendkim.pid", Payload::Absent),
            file("/run/spamd.pid", text("")),
        ]);
        let mut fs = FactSet::new();
        facts(&b, &mut fs);
        let rows: Vec<String> = fs.of_kind("pid_file").map(|f| f.summary()).collect();
        assert_eq!(
            rows,
            [
                "pid_file { daemon: \"postfix/master\", path: \"/var/spool/postfix/pid/master.pid\", pid: 279, process: \"master\", running: true }",
                "pid_file { daemon: \"dovecot\", path: \"/run/dovecot/master.pid\", pid: 4242, running: false }",
                "pid_file { daemon: \"amavisd\", path: \"/run/amavis/amavisd.pid\", pid: 400, process: \"bash\", running: false }",
                "pid_file { daemon: \"spamd\", path: \"/run/spamd.pid\", running: false }",
            ]
        );
        let ev = &fs.of_kind("pid_file").nth(1).map(|f| f.evidence[0].text.clone()).unwrap_or_default();
        assert_eq!(ev, "/run/dovecot/master.pid holds pid 4242; no process 4242 runs: the pid file is stale");
    }

    #[test]
    fn under_root_processes_are_unavailable_and_pid_files_have_no_running_field() {
        let not_run = Payload::Failed { failure: Failure::NotRun, message: "--root given".into() };
        let b = bundle(vec![
            (Source::Proc { what: PROCESS_TABLE.into() }, not_run),
            file("/var/spool/postfix/pid/master.pid", text("279\n")),
            (
                Source::Command { argv: vec!["systemctl".into(), "show".into()] },
                Payload::Failed { failure: Failure::NotRun, message: "--root given: commands are not run".into() },
            ),
        ]);
        let mut fs = FactSet::new();
        facts(&b, &mut fs);
        assert_eq!(fs.unavailable_for("process")[0].why, "not run: --root given");
        assert_eq!(fs.unavailable_for("pid_file")[0].why, "not run: --root given");
        assert_eq!(fs.unavailable_for("service_state")[0].why, "not run: --root given: commands are not run");
        let f = fs.of_kind("pid_file").next().map(|f| f.summary());
        assert_eq!(f.as_deref(), Some("pid_file { daemon: \"postfix/master\", path: \"/var/spool/postfix/pid/master.pid\", pid: 279 }"));
    }

    #[test]
    fn systemctl_show_blocks_not_found_units_are_left_out() {
        let show = "Id=postfix@-.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\nResult=exit-code\n\nId=dovecot.service\nLoadState=loaded\nActiveState=active\nSubState=running\nResult=success\n\nId=courier-mta.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nResult=success\n";
        let b = bundle(vec![(Source::Command { argv: vec!["systemctl".into(), "show".into()] }, text(show))]);
        let mut fs = FactSet::new();
        facts(&b, &mut fs);
        let rows: Vec<String> = fs.of_kind("service_state").map(|f| f.summary()).collect();
        assert_eq!(
            rows,
            [
                "service_state { active: \"failed\", load: \"loaded\", result: \"exit-code\", sub: \"failed\", unit: \"postfix@-.service\" }",
                "service_state { active: \"active\", load: \"loaded\", result: \"success\", sub: \"running\", unit: \"dovecot.service\" }",
            ]
        );
    }

    #[test]
    fn without_systemd_there_are_no_units_and_nothing_is_missing() {
        let b = bundle(vec![(
            Source::Command { argv: vec!["systemctl".into(), "show".into()] },
            Payload::Failed { failure: Failure::NotRun, message: NO_SYSTEMD.into() },
        )]);
        let mut fs = FactSet::new();
        facts(&b, &mut fs);
        assert!(fs.unavailable_for("service_state").is_empty());
    }

    #[test]
    fn garbage_never_panics() {
        for t in ["", "\t\t\t\t", "x\ty\tz\tw\tv", "1\t2", "1\t2\t3\tmaster", "-1\t0\t0\tmaster\t", "99999999999\t0\t0\ta\tb"] {
            let _ = parse_process_table(t);
            let b = bundle(vec![(Source::Proc { what: PROCESS_TABLE.into() }, text(t)), file("/run/dovecot/master.pid", text(t))]);
            let mut fs = FactSet::new();
            facts(&b, &mut fs);
        }
        for t in ["", "=", "==\n\n=x", "Id=\nLoadState"] {
            let _ = parse_systemctl_show(t);
        }
    }
}
