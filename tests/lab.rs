//! The real lab: a Postfix from Debian's packages, started in its own namespaces by
//! tests/lab/live.sh, broken on purpose (/tmp root 0700 with maildrop delivery, a relayhost,
//! a DNS server of the lab's own), real mail sent with sendmail — and then mailsleuth run
//! *inside*, live, as an admin would. The test checks that the live collectors saw the real
//! values and that `why` names the fault at rank 1.
//!
//! More faults follow the same way, each asserted at rank 1: a relayhost name that does not
//! exist, mail for local users that do not exist, a full queue and a full mailbox file
//! system, an IMAP client with an old password, Dovecot stopped under LMTP delivery.
//!
//! It needs root and permission to create namespaces, plus the lab packages
//! (tests/lab/install.sh; CI installs them). Where it cannot run it is skipped with the
//! reason on the terminal; with MAILSLEUTH_REQUIRE_LAB=1 (CI) it fails instead. The lab runs
//! one scenario at a time.

use mailsleuth::bundle::Bundle;
use mailsleuth::model::{Fact, Value};
use std::path::Path;
use std::process::Command;

fn lab_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab"))
}

/// None when the lab can run; otherwise why not.
fn cannot_run() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root".into());
    }
    match Command::new("bash").arg(lab_dir().join("lab.sh")).arg("check").output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => Some(e.to_string()),
    }
}

fn field<'a>(f: &'a Fact, k: &str) -> Option<&'a Value> {
    f.get(k)
}

fn s<'a>(f: &'a Fact, k: &str) -> &'a str {
    field(f, k).and_then(Value::as_str).unwrap_or("")
}

fn n(f: &Fact, k: &str) -> i64 {
    field(f, k).and_then(Value::as_i64).unwrap_or(-1)
}

/// Whether the lab can run. When it cannot: with MAILSLEUTH_REQUIRE_LAB set (CI sets it) the
/// test fails with the reason; otherwise it is skipped with the reason written straight to
/// the terminal (not through the captured test output, so a skip is never silent).
fn lab_available(needs: &[&str]) -> bool {
    let why = cannot_run().or_else(|| {
        let missing: Vec<&str> = needs.iter().copied().filter(|p| !Path::new(p).exists()).collect();
        (!missing.is_empty()).then(|| format!("missing {} (run tests/lab/install.sh)", missing.join(", ")))
    });
    let Some(why) = why else { return true };
    if std::env::var_os("MAILSLEUTH_REQUIRE_LAB").is_some() {
        panic!("the real-Postfix lab cannot run here, and MAILSLEUTH_REQUIRE_LAB is set: {why}\nRun as root after tests/lab/install.sh.");
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED the real-Postfix lab: {why} (run as root after tests/lab/install.sh; MAILSLEUTH_REQUIRE_LAB=1 makes this a failure)"
    );
    false
}

/// One lab run at a time: each starts a Postfix (and more) and waits on its log lines, and
/// the machines that run this suite are small.
static LAB: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Run `tests/lab/live.sh run SCENARIO` with this build's binary; returns the output directory
/// (bundle.json, why.json, mail.log, ...). Removed by the caller.
fn run_live(scenario: &str) -> std::path::PathBuf {
    let _one = LAB.lock().unwrap_or_else(|e| e.into_inner());
    let out = std::env::temp_dir().join(format!("mailsleuth-lab-{scenario}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(out.join("bin")).expect("mkdir");
    std::fs::copy(env!("CARGO_BIN_EXE_mailsleuth"), out.join("bin/mailsleuth")).expect("copy binary");
    let run = Command::new("bash").arg(lab_dir().join("live.sh")).args(["run", scenario]).arg(&out).output().expect("run lab");
    assert!(run.status.success(), "lab scenario {scenario} failed:\n{}", String::from_utf8_lossy(&run.stderr));
    out
}

fn live_facts(out: &Path) -> mailsleuth::model::FactSet {
    let text = std::fs::read_to_string(out.join("bundle.json")).expect("bundle.json");
    let bundle: Bundle = serde_json::from_str(&text).expect("bundle parses");
    assert!(bundle.live);
    let k = mailsleuth::load_knowledge(&[], false).expect("knowledge base");
    mailsleuth::facts::facts_from(&bundle, &k)
}

/// The ids of `why --format json` from inside the lab, best first.
fn live_diagnoses(out: &Path) -> Vec<String> {
    let why: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("why.json")).expect("why.json")).expect("json");
    why["diagnoses"].as_array().map(|a| a.iter().filter_map(|d| d["id"].as_str().map(str::to_string)).collect()).unwrap_or_default()
}

const DOVECOT: &str = "/usr/sbin/dovecot";
const DNSMASQ: &str = "/usr/sbin/dnsmasq";

#[test]
fn live_collect_inside_a_broken_real_postfix() {
    if !lab_available(&[DNSMASQ]) {
        return;
    }
    let out = run_live("live-founding");

    // What the live collectors saw.
    let text = std::fs::read_to_string(out.join("bundle.json")).expect("bundle.json");
    let bundle: Bundle = serde_json::from_str(&text).expect("bundle parses");
    assert!(bundle.live);
    assert_eq!(bundle.host, "mx1.lab.example");
    let k = mailsleuth::load_knowledge(&[], false).expect("knowledge base");
    let facts = mailsleuth::facts::facts_from(&bundle, &k);
    let of = |kind: &str| facts.of_kind(kind).cloned().collect::<Vec<Fact>>();

    let relay = of("postconf").into_iter().find(|f| s(f, "name") == "relayhost").expect("relayhost");
    assert_eq!(s(&relay, "value"), "[relay.lab.example]:587");
    assert_eq!(relay.evidence[0].source, "postconf -n", "the live run must use postconf, not main.cf");

    let listening = of("listening");
    assert!(
        listening.iter().any(|f| s(f, "addr") == "127.0.0.1" && n(f, "port") == 25 && s(f, "process").contains("master")),
        "{listening:?}"
    );
    let banner = of("smtp_banner");
    assert!(banner.iter().any(|f| s(f, "banner").contains("mx1.lab.example ESMTP")), "{banner:?}");

    let procs: Vec<String> = of("process").iter().map(|f| s(f, "name").to_string()).collect();
    for want in ["postfix/master", "postfix/qmgr", "postfix/pickup"] {
        assert!(procs.iter().any(|p| p == want), "{want} not in {procs:?}");
    }

    let queue = of("queue_summary");
    let deferred = queue.iter().find(|f| s(f, "queue") == "deferred").expect("deferred queue");
    assert_eq!(s(deferred, "source"), "postqueue -j");
    assert_eq!(n(deferred, "messages"), 2, "the 20000 and 40000 byte messages are deferred");
    let reason = of("queue_reason");
    assert!(reason.iter().any(|f| s(f, "reason").contains("Unable to create temporary file")), "{reason:?}");

    let resolvers = of("resolver");
    assert!(
        resolvers.iter().any(|f| s(f, "nameserver") == "127.0.0.1" && field(f, "chroot") == Some(&Value::Bool(false))),
        "{resolvers:?}"
    );
    let dns = of("dns_answer");
    assert!(dns.iter().any(|f| s(f, "purpose") == "relayhost" && s(f, "status") == "ok"), "{dns:?}");

    let tmp = of("path_stat").into_iter().find(|f| s(f, "path") == "/tmp").expect("/tmp");
    assert_eq!((n(&tmp, "mode"), s(&tmp, "owner")), (0o700, "root"));
    let agent = of("delivery_agent");
    assert!(agent.iter().any(|f| s(f, "agent") == "maildrop" && s(f, "via") == "mailbox_command"), "{agent:?}");

    // And the verdict, from the live run itself.
    let why: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("why.json")).expect("why.json")).expect("json");
    assert_eq!(why["diagnoses"][0]["id"], "permissions.tmp_blocks_maildrop", "{why:#}");
    assert_eq!(
        std::fs::read_to_string(out.join("why.exit")).expect("why.exit").trim(),
        "2",
        "the founding case is critical: plugin exit code 2"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// The faults reproduced for the DNS, recipient, space, authentication and LMTP rules: each
/// must be named at rank 1 by `why` run inside the broken lab host, from what the live
/// collectors saw.
fn assert_rank1(scenario: &str, want: &str, needs: &[&str], check: impl FnOnce(&mailsleuth::model::FactSet)) {
    if !lab_available(needs) {
        return;
    }
    let out = run_live(scenario);
    let ids = live_diagnoses(&out);
    assert_eq!(
        ids.first().map(String::as_str),
        Some(want),
        "{scenario}: diagnoses {ids:?}\n{}",
        std::fs::read_to_string(out.join("why.txt")).unwrap_or_default()
    );
    check(&live_facts(&out));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn live_relayhost_name_that_does_not_exist() {
    assert_rank1("live-relayhost-nxdomain", "dns.relayhost_nxdomain", &[DNSMASQ], |facts| {
        let dns: Vec<&Fact> = facts.of_kind("dns_answer").filter(|f| s(f, "purpose") == "relayhost").collect();
        assert!(dns.iter().any(|f| s(f, "name") == "realy.lab.example" && s(f, "status") == "nxdomain"), "{dns:?}");
        // The lab's DNS server answers: the resolver is reachable.
        assert!(facts.of_kind("dns_answer").any(|f| s(f, "status") == "ok"));
    });
}

#[test]
fn live_mail_for_local_users_that_do_not_exist() {
    assert_rank1("live-unknown-recipient", "config.unknown_local_recipient", &[DNSMASQ], |facts| {
        let v: Vec<&Fact> = facts
            .of_kind("log_values")
            .filter(|f| s(f, "signature") == "postfix.user_unknown_in_table" && s(f, "field") == "local_part")
            .collect();
        assert!(v.iter().any(|f| s(f, "top") == "webmaster" && n(f, "top_count") == 3 && s(f, "group") == "local recipient"), "{v:?}");
    });
}

#[test]
fn live_queue_file_system_full() {
    assert_rank1("live-queue-fs-full", "space.queue_fs_full", &[DNSMASQ], |facts| {
        let q = facts.of_kind("queue_space").next().expect("queue_space");
        assert_eq!(field(q, "enough"), Some(&Value::Bool(false)));
        assert!(n(q, "free_bytes") < 1_000_000 && n(q, "needed_bytes") == 15_360_000, "{q:?}");
    });
}

#[test]
fn live_mailbox_file_system_full() {
    assert_rank1("live-mailbox-fs-full", "space.mailbox_fs_full", &[DNSMASQ], |facts| {
        let fs = facts.of_kind("fs_usage").find(|f| s(f, "path") == "/var/mail").expect("fs_usage /var/mail");
        assert!(n(fs, "free_bytes") < 64 * 1024, "{fs:?}");
    });
}

#[test]
fn live_imap_client_with_an_old_password() {
    assert_rank1("live-imap-wrong-password", "auth.client_login_failures", &[DNSMASQ, DOVECOT], |facts| {
        // Dovecot's own log file (log_path) was found through its configuration and read.
        assert!(facts.of_kind("log_file").any(|f| s(f, "path") == "/var/log/dovecot.log"));
        let ips = facts
            .of_kind("log_values")
            .find(|f| s(f, "signature") == "dovecot.login_auth_failed" && s(f, "field") == "client_ip")
            .expect("client_ip tally");
        assert_eq!((s(ips, "top"), n(ips, "top_count"), n(ips, "distinct")), ("127.0.0.30", 4, 1));
    });
}

#[test]
fn live_dovecot_stopped_under_lmtp_delivery() {
    assert_rank1("live-dovecot-lmtp-down", "services.dovecot_lmtp_down", &[DNSMASQ, DOVECOT], |facts| {
        let sock = facts.of_kind("path_stat").find(|f| s(f, "path") == "/var/spool/postfix/private/dovecot-lmtp").expect("socket stat");
        assert_eq!(s(sock, "kind"), "socket", "doveadm stop leaves the socket behind");
        assert!(!facts.of_kind("process").any(|f| s(f, "software") == "dovecot"));
    });
}

#[test]
fn live_relayhost_refusing_connections() {
    assert_rank1("live-relay-refused", "network.relayhost_refused", &[DNSMASQ], |facts| {
        let r: Vec<&Fact> = facts.of_kind("queue_reason").collect();
        assert!(r.iter().any(|f| s(f, "reason").contains("Connection refused")), "{r:?}");
    });
}

#[test]
fn live_maildir_owned_by_root() {
    assert_rank1("live-maildir-root", "permissions.maildir_not_owned", &[DNSMASQ], |facts| {
        let m: Vec<&Fact> = facts.of_kind("path_stat").filter(|f| s(f, "path").ends_with("/Maildir")).collect();
        assert!(m.iter().any(|f| s(f, "owner") == "root" && n(f, "mode") == 0o700), "{m:?}");
    });
}

#[test]
fn live_postfix_master_stopped() {
    assert_rank1("live-master-stopped", "services.postfix_master_not_running", &[DNSMASQ], |facts| {
        assert!(!facts.of_kind("process").any(|f| s(f, "name") == "postfix/master"), "a master process was seen");
    });
}
