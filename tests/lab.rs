//! The real lab: a Postfix from Debian's packages, started in its own namespaces by
//! tests/lab/live.sh, broken on purpose (/tmp root 0700 with maildrop delivery, a relayhost,
//! a DNS server of the lab's own), real mail sent with sendmail — and then mailsleuth run
//! *inside*, live, as an admin would. The test checks that the live collectors saw the real
//! values and that `why` names the fault at rank 1.
//!
//! It needs root and permission to create namespaces, plus the lab packages
//! (tests/lab/install.sh; CI installs them). Where it cannot run it fails and says why;
//! set MAILSLEUTH_SKIP_LAB=1 to skip it knowingly.

use mailsleuth::facts::{Fact, Value};
use mailsleuth::kb::Knowledge;
use mailsleuth::observe::Bundle;
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

#[test]
fn live_collect_inside_a_broken_real_postfix() {
    if let Some(why) = cannot_run() {
        if std::env::var_os("MAILSLEUTH_SKIP_LAB").is_some() {
            eprintln!("SKIPPED the real-Postfix lab (MAILSLEUTH_SKIP_LAB is set): {why}");
            return;
        }
        panic!("the real-Postfix lab cannot run here: {why}\nRun as root after tests/lab/install.sh, or set MAILSLEUTH_SKIP_LAB=1 to skip it knowingly.");
    }
    let out = std::env::temp_dir().join(format!("mailsleuth-lab-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(out.join("bin")).expect("mkdir");
    std::fs::copy(env!("CARGO_BIN_EXE_mailsleuth"), out.join("bin/mailsleuth")).expect("copy binary");
    let run = Command::new("bash").arg(lab_dir().join("live.sh")).args(["run", "live-founding"]).arg(&out).output().expect("run lab");
    assert!(run.status.success(), "lab failed:\n{}", String::from_utf8_lossy(&run.stderr));

    // What the live collectors saw.
    let text = std::fs::read_to_string(out.join("bundle.json")).expect("bundle.json");
    let bundle: Bundle = serde_json::from_str(&text).expect("bundle parses");
    assert!(bundle.live);
    assert_eq!(bundle.host, "mx1.lab.example");
    let k = Knowledge::load(&[], false).expect("knowledge base");
    let facts = mailsleuth::facts::parse::facts_from(&bundle, &k);
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
    assert_eq!(std::fs::read_to_string(out.join("why.exit")).expect("why.exit").trim(), "1");
    let _ = std::fs::remove_dir_all(&out);
}
