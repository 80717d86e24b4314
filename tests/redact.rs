//! `collect --redact`: no address, user, IP or host name of the inspected host is left in the
//! bundle, and the diagnosis of the redacted bundle is the same as of the original.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mailsleuth");

fn ids(v: &serde_json::Value) -> Vec<String> {
    v["diagnoses"].as_array().expect("diagnoses").iter().filter_map(|d| d["id"].as_str().map(str::to_string)).collect()
}

fn diagnose(bundle: &std::path::Path) -> serde_json::Value {
    let o = Command::new(BIN)
        .args(["diagnose", "--bundle", bundle.to_str().expect("utf-8"), "--no-system-rules", "--format", "json"])
        .output()
        .expect("run");
    serde_json::from_slice(&o.stdout).expect("JSON")
}

#[test]
fn a_redacted_lab_bundle_hides_the_names_and_keeps_the_diagnosis() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios/lab-live-founding/bundle.json");
    let text = std::fs::read_to_string(src).expect("bundle");
    // What must disappear, read from the bundle itself.
    for secret in ["alice", "mx1.lab.example", "lab.example"] {
        assert!(text.contains(secret), "{secret} not in the original");
    }
    let mut b = mailsleuth::bundle::load(std::path::Path::new(src)).expect("load");
    let n = mailsleuth::bundle::redact::redact(&mut b);
    assert!(n >= 3, "{n}");
    let out = std::env::temp_dir().join(format!("mailsleuth-redacted-{}.json", std::process::id()));
    std::fs::write(&out, serde_json::to_string(&b).expect("JSON")).expect("write");
    let red = std::fs::read_to_string(&out).expect("read");
    let original = diagnose(std::path::Path::new(src));
    let redacted = diagnose(&out);
    let _ = std::fs::remove_file(&out);
    for secret in ["alice", "mx1.lab.example", "lab.example"] {
        assert!(!red.contains(secret), "{secret} left in the redacted bundle");
    }
    assert!(!ids(&original).is_empty());
    assert_eq!(ids(&redacted), ids(&original));
    assert_eq!(redacted["accounting"]["deferred"]["total"], original["accounting"]["deferred"]["total"]);
    assert_eq!(redacted["verdict"], original["verdict"]);
    // The facts still join: the rank-1 diagnosis names the pseudonymous user's mailbox.
    assert_eq!(redacted["rules"], original["rules"]);
}

#[test]
fn collect_redact_on_a_sysroot_keeps_every_diagnosis() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios/permissions-maildir-not-owned/sysroot");
    let dir = std::env::temp_dir().join(format!("mailsleuth-redact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let plain = dir.join("plain.json");
    let red = dir.join("red.json");
    for (p, extra) in [(&plain, None), (&red, Some("--redact"))] {
        let mut c = Command::new(BIN);
        c.args(["collect", "--root", root, "-o", p.to_str().expect("utf-8")]);
        if let Some(e) = extra {
            c.arg(e);
        }
        let o = c.output().expect("collect");
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (a, b) = (diagnose(&plain), diagnose(&red));
    let text = std::fs::read_to_string(&red).expect("read");
    let plain_text = std::fs::read_to_string(&plain).expect("read");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(ids(&b), ids(&a));
    assert_eq!(b["rules"], a["rules"]);
    assert_ne!(text, plain_text);
    assert!(!text.contains(root), "the --root path is left in the bundle");
}
