//! The real `mailsleuth` binary on sysroot fixtures: exit codes, the JSON contract,
//! bundles, the rules commands, `--explain`, and hostile input.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mailsleuth");

/// A private copy of a scenario's sysroot with /tmp (and /var/tmp 1777) created at run time.
struct Root(PathBuf);

impl Root {
    fn new(scenario: &str, tmp_mode: u32, tag: &str) -> Root {
        let dst = std::env::temp_dir().join(format!("mailsleuth-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dst);
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios").join(scenario).join("sysroot");
        copy_tree(&src, &dst);
        for (p, mode) in [("tmp", tmp_mode), ("var/tmp", 0o1777)] {
            let d = dst.join(p);
            std::fs::create_dir_all(&d).expect("mkdir");
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        Root(dst)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("NO_COLOR", "1").output().expect("run mailsleuth")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn the_founding_case_is_rank_one_with_evidence_and_fix_and_exit_2_critical() {
    let root = Root::new("founding-tmp-0700-maildrop", 0o700, "founding");
    let o = run(&["why", "--root", root.path(), "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let first = out.lines().find(|l| l.starts_with("1. ")).unwrap_or_default();
    assert!(first.contains("/tmp is 0700") && first.contains("not 1777") && first.contains("maildrop"), "{out}");
    assert!(out.contains("chmod 1777 /tmp"), "{out}");
    assert!(out.contains("/var/log/mail.log:30: "), "{out}");
    assert!(out.contains("all 5 deferred messages are 8.0 KB or more; all 4 delivered ones are 7.5 KB or less"), "{out}");
}

#[test]
fn the_json_report_follows_the_contract() {
    let root = Root::new("founding-tmp-0700-maildrop", 0o700, "json");
    let o = run(&["why", "--root", root.path(), "--format", "json", "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(2));
    let v = json(&o);
    assert_eq!(v["verdict"], "CRITICAL");
    let diags = v["diagnoses"].as_array().expect("diagnoses array");
    assert!(!diags.is_empty());
    for (i, d) in diags.iter().enumerate() {
        assert_eq!(d["rank"].as_u64(), Some(i as u64 + 1));
        for key in ["id", "kind", "title"] {
            assert!(d[key].is_string(), "{key} in {d}");
        }
        let c = d["confidence"].as_f64().expect("confidence");
        assert!((0.0..=1.0).contains(&c));
        for e in d["evidence"].as_array().expect("evidence") {
            assert!(e["text"].is_string() && e["source"].is_string(), "{e}");
        }
        assert!(d["fix"].as_array().expect("fix").iter().all(|f| f.is_string()));
        assert!(d["explains"].as_array().expect("explains").iter().all(|x| x.is_string()));
    }
    let top = &diags[0];
    assert_eq!(top["id"], "permissions.tmp_blocks_maildrop");
    assert_eq!(top["kind"], "root_cause");
    assert!(top["fix"].as_array().expect("fix").iter().any(|f| f == "chmod 1777 /tmp"));
    assert_eq!(top["explains"], serde_json::json!(["delivery.maildrop_tmpfile_failures", "queue.deferred_mail"]));
    let sources: Vec<&str> = top["evidence"].as_array().expect("evidence").iter().filter_map(|e| e["source"].as_str()).collect();
    assert!(sources.contains(&"stat /tmp"), "{sources:?}");
    assert!(sources.iter().any(|s| s.starts_with("/var/log/mail.log:") && s[18..].parse::<u32>().is_ok()), "{sources:?}");
    assert!(v["unavailable"].is_array());
}

#[test]
fn healthy_and_near_miss_hosts() {
    let healthy = Root::new("healthy-maildrop", 0o1777, "healthy");
    let o = run(&["why", "--root", healthy.path(), "--no-system-rules"]);
    // Nothing wrong in what could be read, but under --root the commands, sockets and DNS
    // were not used: UNKNOWN (3), never a false all-clear.
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(!out.contains('✓'), "{out}");
    let first = out.lines().find(|l| !l.trim().is_empty() && !l.starts_with("mailsleuth") && !l.starts_with('(')).unwrap_or_default();
    assert!(first.starts_with("? Not fully checked: could not check ") && first.contains(" rules"), "{out}");
    assert!(out.contains("not used under --root"), "{out}");
    // The short phrases by default; the commands only with --verbose.
    assert!(!out.contains("iptables-save"), "{out}");
    let v = run(&["why", "--root", healthy.path(), "--no-system-rules", "--verbose"]);
    assert!(stdout(&v).contains("iptables-save"), "{}", stdout(&v));

    let near = Root::new("founding-near-miss-tmp-fixed", 0o1777, "near");
    let o = run(&["why", "--root", near.path(), "--format", "json", "--no-system-rules"]);
    // delivery.maildrop_tmpfile_failures is of severity error: CRITICAL.
    assert_eq!(o.status.code(), Some(2));
    let ids: Vec<String> =
        json(&o)["diagnoses"].as_array().expect("array").iter().map(|d| d["id"].as_str().unwrap_or("").to_string()).collect();
    assert!(!ids.iter().any(|id| id.starts_with("permissions.")), "{ids:?}");
    assert_eq!(ids.first().map(String::as_str), Some("delivery.maildrop_tmpfile_failures"));
}

#[test]
fn a_machine_without_mail_software_says_so_and_exits_0() {
    let root = Root::new("no-mail-system", 0o1777, "nomail");
    let o = run(&["why", "--root", root.path(), "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("No mail system found on this host"), "{}", stdout(&o));
}

#[test]
fn a_bundle_diagnosed_elsewhere_gives_the_same_report() {
    let root = Root::new("founding-tmp-0700-maildrop", 0o700, "bundle");
    let bundle = root.0.with_extension("bundle.json");
    let o = run(&["collect", "--root", root.path(), "-o", bundle.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let live = json(&run(&["why", "--root", root.path(), "--format", "json", "--no-system-rules"]));
    // The sysroot is gone when the bundle is read: nothing is re-read from disk.
    drop(root);
    let o = run(&["diagnose", "--bundle", bundle.to_str().expect("utf-8"), "--format", "json", "--no-system-rules"]);
    let _ = std::fs::remove_file(&bundle);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json(&o)["diagnoses"], live["diagnoses"]);
}

#[test]
fn explain_says_which_condition_failed_and_why() {
    let near = Root::new("founding-near-miss-tmp-fixed", 0o1777, "explain");
    let o = run(&["why", "--root", near.path(), "--explain", "permissions.tmp_unwritable", "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("outcome: Passed"), "{out}");
    assert!(out.contains("✗ did not hold"), "{out}");
    assert!(out.contains("path In([\"/tmp\", \"/var/tmp\"])"), "{out}");
    assert!(out.contains("rejects  path_stat {") && out.contains("path: \"/tmp\""), "{out}");
    assert!(out.contains("mode LacksBits(0o3): mode 1777 has all of 0003"), "{out}");
    let o = run(&["why", "--root", near.path(), "--explain", "permissions.tmp_unwritabel", "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("did you mean `permissions.tmp_unwritable`?"), "{}", stderr(&o));
}

#[test]
fn a_broken_rule_file_is_reported_with_its_position_and_nothing_runs() {
    let dir = std::env::temp_dir().join(format!("mailsleuth-cli-badrules-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("mine")).expect("mkdir");
    std::fs::write(dir.join("mine/broken.ron"), "(\n  id: \"mine.broken\",\n  title: \"t\"\n  kind: Symptom,\n)\n").expect("write");
    let o = run(&["rules", "list", "--rules", dir.to_str().expect("utf-8"), "--no-system-rules"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.status.code(), Some(64));
    let err = stderr(&o);
    assert!(err.contains("mine/broken.ron:4:3: "), "{err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn rules_commands() {
    let o = run(&["rules", "lint", "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains(", 0 errors"));
    let o = run(&["rules", "list", "--format", "json", "--no-system-rules"]);
    let list = json(&o);
    let first = &list.as_array().expect("array")[0];
    for key in ["id", "area", "kind", "title"] {
        assert!(first[key].is_string(), "{first}");
    }
    let o = run(&["rules", "graph", "--no-system-rules"]);
    assert!(stdout(&o).starts_with("digraph mailsleuth {"));
    assert!(stdout(&o).contains("label=\"explains\""));
    let o = run(&["rules", "show", "permissions.tmp_blocks_maildrop", "--no-system-rules"]);
    assert!(stdout(&o).starts_with("# rules/permissions/tmp_blocks_maildrop.ron"));
}

#[test]
fn rules_test_runs_every_scenario_and_fails_on_a_broken_expectation() {
    let scenarios = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios");
    let o = run(&["rules", "test", "--dir", scenarios, "--no-system-rules"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("ok      founding-tmp-0700-maildrop  [rank 1: permissions.tmp_blocks_maildrop]"), "{out}");
    assert!(out.lines().last().is_some_and(|l| l.ends_with(" failed, 0 not run") && l.contains(" 0 failed")), "{out}");
    // A scenario whose expectation is wrong makes the command fail and say which.
    let dir = std::env::temp_dir().join(format!("mailsleuth-cli-rulestest-{}", std::process::id()));
    let bad = dir.join("wrong-expectation");
    std::fs::create_dir_all(&bad).expect("mkdir");
    std::fs::copy(Path::new(scenarios).join("lab-live-founding/bundle.json"), bad.join("bundle.json")).expect("copy bundle");
    std::fs::write(bad.join("expect.ron"), "(description: \"wrong on purpose\", rank1: Some(\"queue.deferred_mail\"))").expect("write");
    let o = run(&["rules", "test", "--dir", dir.to_str().expect("utf-8"), "--no-system-rules"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("rank 1 must be `queue.deferred_mail` but is `permissions.tmp_blocks_maildrop`"), "{}", stdout(&o));
}

#[test]
fn rules_new_scaffolds_a_rule_that_loads_and_its_two_scenarios() {
    let dir = std::env::temp_dir().join(format!("mailsleuth-cli-new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let d = dir.to_str().expect("utf-8");
    let o = run(&["rules", "new", "permissions/spool_not_sticky", "--dir", d]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for p in [
        "rules/permissions/spool_not_sticky.ron",
        "tests/scenarios/permissions-spool-not-sticky/expect.ron",
        "tests/scenarios/permissions-spool-not-sticky-near-miss/expect.ron",
    ] {
        assert!(dir.join(p).is_file(), "{p} missing");
    }
    // The skeleton is a valid rule: it loads beside the embedded knowledge base.
    let o = run(&["rules", "list", "--rules", &format!("{d}/rules"), "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("permissions.spool_not_sticky"));
    // Never overwrites.
    let o = run(&["rules", "new", "permissions/spool_not_sticky", "--dir", d]);
    assert_eq!(o.status.code(), Some(64));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The admin's loop: a line `logs unknown` lists, scaffolded into a signature with
/// `signatures new`, then recognised by `logs classify` (and no longer unknown) when the
/// directory is given with `--rules`.
#[test]
fn signatures_new_turns_an_unknown_line_into_a_signature_that_classifies_it() {
    let dir = std::env::temp_dir().join(format!("mailsleuth-cli-signew-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let d = dir.to_str().expect("utf-8");
    // Dovecot's master at its process limit (src/master/service-monitor.c: "%s (%u) reached,
    // client connections are being dropped"), which no exact signature of the catalogue knows.
    let sample = "Mar  1 10:00:00 mx dovecot: master: Warning: service(imap-login): process_limit (100) reached, client connections are being dropped";
    let other = "Mar  1 10:05:07 mx dovecot: master: Warning: service(imap-login): process_limit (250) reached, client connections are being dropped";
    let log = dir.join("mail.log");
    std::fs::write(&log, format!("{sample}\n{other}\n")).expect("write log");
    let log = log.to_str().expect("utf-8");
    let unknown = |extra: &[&str]| {
        let mut args = vec!["logs", "unknown", log, "--all-logs", "--no-system-rules", "--format", "json"];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    assert!(unknown(&[]).contains("process_limit"), "the line starts unknown");

    let o = run(&["signatures", "new", "dovecot/process_limit_reached", "--line", sample, "--category", "config-error", "--dir", d]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let file = dir.join("signatures/dovecot/process_limit_reached.ron");
    let text = std::fs::read_to_string(&file).expect("the scaffold is written");
    assert!(text.contains("id: \"dovecot.process_limit_reached\"") && text.contains(sample), "{text}");

    // Both lines (the sample and one with another key name and time) get the new signature.
    let o = run(&["logs", "classify", log, "--rules", d, "--no-system-rules", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r["signature"], "dovecot.process_limit_reached", "{r}");
        assert_eq!(r["category"], "config-error");
        assert_eq!(r["layer"], "signature");
    }
    // And `logs unknown` no longer lists it.
    assert!(!unknown(&["--rules", d]).contains("process_limit"));
    // Never overwrites; a bad category is refused with the list of categories.
    let o = run(&["signatures", "new", "dovecot/process_limit_reached", "--line", sample, "--dir", d]);
    assert_eq!(o.status.code(), Some(64));
    let o = run(&["signatures", "new", "dovecot/other", "--line", sample, "--category", "config-eror", "--dir", d]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("config-error"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn terminal_escapes_in_a_log_are_neutralised() {
    let root = Root::new("healthy-maildrop", 0o1777, "escape");
    let log = root.0.join("evil.log");
    let line = "Nov 23 10:45:29 mx1 postfix/local[314]: 1675C84: to=<\x1b]0;owned\x07\x1b[2Jalice@mx1.lab.example>, relay=local, delay=0.01, dsn=4.3.0, status=deferred (temporary failure. Command output: /usr/bin/maildrop: Unable to create temporary file. )\n";
    std::fs::write(&log, line).expect("write");
    let o = run(&["why", "--root", root.path(), "--log", log.to_str().expect("utf-8"), "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!o.stdout.contains(&0x1b), "raw ESC reached the terminal");
    assert!(stdout(&o).contains("to=<\\x1b]0;owned\\x07\\x1b[2Jalice@"), "{}", stdout(&o));
}

#[test]
fn the_log_window_leaves_out_old_lines() {
    let bundle = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios/lab-live-founding/bundle.json");
    // Default: the last 24 hours of the newest line; the whole (minutes-long) lab log is in it.
    let v = json(&run(&["diagnose", "--bundle", bundle, "--format", "json", "--no-system-rules"]));
    assert_eq!(v["logs"]["log_lines_outside_window"], 0, "{}", v["logs"]);
    assert!(v["logs"]["log_window_since"].as_str().is_some_and(|s| s.starts_with("2026-11-2")), "{}", v["logs"]);
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["diagnoses"].as_array().map(|a| a.iter().filter_map(|d| d["id"].as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    assert!(ids(&v).contains(&"delivery.maildrop_tmpfile_failures".to_string()));
    // A window after the lab ran: every line is left out, and the maildrop failures with them.
    let v = json(&run(&["diagnose", "--bundle", bundle, "--since", "2026-11-24", "--format", "json", "--no-system-rules"]));
    assert_eq!(v["logs"]["log_lines_outside_window"], v["logs"]["log_lines"], "{}", v["logs"]);
    assert!(!ids(&v).contains(&"delivery.maildrop_tmpfile_failures".to_string()), "{:?}", ids(&v));
    // A window before the lab ran: every line is outside.
    let v = json(&run(&["diagnose", "--bundle", bundle, "--until", "2026-01-01", "--format", "json", "--no-system-rules"]));
    assert_eq!(v["logs"]["log_lines_outside_window"], v["logs"]["log_lines"]);
    let o = run(&["diagnose", "--bundle", bundle, "--since", "yesterday", "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("expected a duration"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_64_outside_the_verdict_codes() {
    assert_eq!(run(&["why", "--format", "xml"]).status.code(), Some(64));
    assert_eq!(run(&["why", "--root", "/nonexistent/mailsleuth"]).status.code(), Some(64));
    assert_eq!(run(&["diagnose", "--bundle", "/nonexistent/bundle.json"]).status.code(), Some(64));
    assert_eq!(run(&["no-such-command"]).status.code(), Some(64));
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let h = stdout(&help);
    assert!(h.contains("Exit status of why and diagnose") && h.contains("3  UNKNOWN") && h.contains("64 usage error"), "{h}");
}

fn logs(args: &[&str]) -> (Output, serde_json::Value) {
    let out = Command::new(BIN).args(["logs"]).args(args).output().expect("run mailsleuth");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, v)
}

#[test]
fn logs_stats_on_the_founding_log_shows_the_size_split_and_the_cause() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captured/founding-tmp-0700/mail.log");
    let log = log.to_str().expect("utf-8");
    let (out, v) = logs(&["stats", "--all-logs", "--format", "json", log]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status = |s: &str| v["statuses"].as_array().and_then(|a| a.iter().find(|x| x["status"] == s)).cloned().unwrap_or_default();
    // The real lab log: 4 small messages delivered, 5 large ones deferred by maildrop.
    assert_eq!(status("sent")["messages"], 4);
    assert_eq!(status("deferred")["messages"], 5);
    assert!(status("deferred")["sizes"]["min"].as_i64() > status("sent")["sizes"]["max"].as_i64(), "{v:#}");
    assert_eq!(v["deferral_reasons"][0][0], "maildrop.tmpfile");
    assert_eq!(v["destinations"][0]["reasons"][0][0], "maildrop.tmpfile");
    let human = Command::new(BIN).args(["logs", "stats", "--all-logs", log]).output().expect("run");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("every deferred message is larger than every delivered one"), "{text}");
    assert!(text.contains("founding-tmp-0700/mail.log:"), "evidence with file:line: {text}");
}

#[test]
fn logs_stats_reads_rotations_in_order_and_gzip_and_survives_garbage() {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("mailsleuth-logstats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    // The message is received in the rotated (gzip) file and delivered in the live one.
    let old = "Nov 23 07:00:01 mx1 postfix/qmgr[77]: 3F2A61C0F1: from=<a@example.net>, size=40123, nrcpt=1 (queue active)\n\
               Nov 23 07:00:02 mx1 postfix/smtp[80]: 3F2A61C0F1: to=<b@example.org>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx.example.org[203.0.113.9]:25: Connection refused)\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(old.as_bytes()).expect("gzip");
    std::fs::write(dir.join("mail.log.1.gz"), gz.finish().expect("gzip")).expect("write");
    let mut new = b"Nov 23 09:00:02 mx1 postfix/smtp[81]: 3F2A61C0F1: to=<b@example.org>, relay=mx.example.org[203.0.113.9]:25, delay=7201, delays=7200/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)\n".to_vec();
    new.extend_from_slice(b"Nov 23 09:00:02 mx1 postfix/qmgr[77]: 3F2A61C0F1: removed\n\xff\xfe garbage \x00\n");
    new.extend_from_slice(format!("Nov 23 09:00:03 mx1 postfix/smtpd[9]: {}\n", "y".repeat(2_000_000)).as_bytes());
    std::fs::write(dir.join("mail.log"), new).expect("write");
    // Valid UTF-8 with a NUL line: the reader's whole-buffer check fails on the NUL alone.
    let nul = "Nov 23 09:10:00 mx1 postfix/qmgr[77]: 4B1C2D3E4F: from=<a@example.net>, size=999, nrcpt=1 (queue active)\n\
               Nov 23 09:10:01 mx1 postfix/smtpd[9]: \0\0 binary\n\
               Nov 23 09:10:02 mx1 postfix/local[82]: 4B1C2D3E4F: to=<c@mx1.example>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)\n";
    std::fs::write(dir.join("mail.warn"), nul).expect("write");
    let p = |f: &str| dir.join(f).to_str().expect("utf-8").to_string();
    let (out, v) = logs(&["stats", "--all-logs", "--format", "json", &p("mail.log.1.gz"), &p("mail.log"), &p("mail.warn")]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status = |s: &str| v["statuses"].as_array().and_then(|a| a.iter().find(|x| x["status"] == s)).cloned().unwrap_or_default();
    // Two messages sent: one whose size came from the gzip file, one around a NUL line.
    assert_eq!(status("sent")["messages"], 2, "{v:#}");
    assert_eq!(status("sent")["sizes"]["min"], 999);
    assert_eq!(status("sent")["sizes"]["max"], 40123);
    assert_eq!(status("deferred")["lines"], 1);
    assert_eq!(status("deferred")["messages"], 0);
    assert_eq!(v["files"][1]["skipped"], 2, "NUL line and 2 MB line: {v:#}");
    assert_eq!(v["files"][1]["lines"], 4);
    assert_eq!(v["files"][2]["skipped"], 1, "NUL line: {v:#}");
    assert_eq!(v["files"][2]["lines"], 3);
}

#[test]
fn logs_unknown_groups_what_no_signature_knows() {
    let dir = std::env::temp_dir().join(format!("mailsleuth-logunknown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let log = dir.join("mail.log");
    std::fs::write(
        &log,
        "Nov 23 10:45:29 mx1 postfix/smtpd[1]: warning: frobnicator 17 failed for host.example.com[192.0.2.3]: odd\n\
         Nov 23 10:45:30 mx1 postfix/smtpd[2]: warning: frobnicator 18 failed for other.example.net[192.0.2.4]: odd\n\
         Nov 23 10:45:31 mx1 postfix/smtpd[2]: connect from other.example.net[192.0.2.4]\n\
         Nov 23 10:45:32 mx1 postfix/smtp[3]: 3F2A61C0F1: to=<b@example.org>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx.example.org[203.0.113.9]:25: Connection refused)\n",
    )
    .expect("write");
    let (out, v) = logs(&["unknown", "--format", "json", log.to_str().expect("utf-8")]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The two frobnicator warnings are one template; the known refusal is not listed.
    assert_eq!(v["unmatched_problem_lines"], 2, "{v:#}");
    assert_eq!(v["templates"][0]["count"], 2);
    assert_eq!(v["templates"][0]["template"], "smtpd: warning: frobnicator N failed for HOST[ADDR]: odd");
}

/// Copy the tree `src` to `dst` (directories and files).
fn copy_tree(src: &Path, dst: &Path) {
    for e in walkdir::WalkDir::new(src) {
        let e = e.expect("walk");
        let to = dst.join(e.path().strip_prefix(src).expect("prefix"));
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).expect("mkdir");
        } else {
            std::fs::copy(e.path(), &to).expect("copy");
        }
    }
}

/// A private copy of a sysroot under tests/fixtures/sysroots.
fn fixture_root(name: &str, tag: &str) -> Root {
    let dst = std::env::temp_dir().join(format!("mailsleuth-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysroots").join(name);
    copy_tree(&src, &dst);
    Root(dst)
}

/// The facts of one kind from `facts --format json`.
fn facts_of(v: &serde_json::Value, kind: &str) -> Vec<serde_json::Value> {
    v["facts"].as_array().map(|a| a.iter().filter(|f| f["kind"] == kind).cloned().collect()).unwrap_or_default()
}

#[test]
fn the_lda_log_named_in_dovecot_conf_is_read_and_syslog_does_not_double_count() {
    // Debian 12: rsyslog writes every Postfix line to mail.log AND syslog; Postfix says only
    // "deferred (temporary failure)"; dovecot-lda's reason is in the log_path that
    // `protocol lda { log_path = /var/log/dovecot-lda.log }` names.
    let root = fixture_root("dovecot-lda-log", "lda-log");
    let v = json(&run(&["facts", "--root", root.path(), "--format", "json", "--no-system-rules"]));
    let sources: Vec<(String, String)> = facts_of(&v, "log_source")
        .iter()
        .map(|f| (f["fields"]["path"].as_str().unwrap_or("").to_string(), f["fields"]["reason"].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(
        sources,
        [
            ("/var/log/mail.log".to_string(), "rsyslog mail.* destination (/etc/rsyslog.conf:63); default".to_string()),
            ("/var/log/dovecot-lda.log".to_string(), "dovecot protocol lda log_path".to_string()),
        ]
    );
    let sig = facts_of(&v, "log_signature").into_iter().find(|f| f["fields"]["id"] == "dovecot.mailbox_permission_denied");
    let sig = sig.unwrap_or_else(|| panic!("no dovecot.mailbox_permission_denied: {}", v["facts"]));
    assert_eq!(sig["fields"]["count"], 6);
    assert!(sig["evidence"][0]["source"].as_str().is_some_and(|s| s.starts_with("/var/log/dovecot-lda.log:1")), "{sig}");
    assert!(sig["evidence"][0]["text"].as_str().is_some_and(|s| s.contains("missing +w perm: /home/alice/Maildir/tmp")), "{sig}");
    // Three status=deferred lines in the host's logs, counted once (syslog holds them too).
    let deferred = facts_of(&v, "delivery_summary").into_iter().find(|f| f["fields"]["status"] == "deferred");
    assert_eq!(deferred.map(|f| f["fields"]["lines"].clone()), Some(serde_json::json!(3)));

    // Without mail.log, syslog is the fallback copy of the mail stream, and says so.
    std::fs::remove_file(root.0.join("var/log/mail.log")).expect("rm");
    let v = json(&run(&["facts", "--root", root.path(), "--format", "json", "--no-system-rules"]));
    let syslog = facts_of(&v, "log_source").into_iter().find(|f| f["fields"]["path"] == "/var/log/syslog");
    let reason = syslog.map(|f| f["fields"]["reason"].as_str().unwrap_or("").to_string()).unwrap_or_default();
    assert!(reason.starts_with("fallback: no mail log gave text") && reason.contains("(/etc/rsyslog.conf:55)"), "{reason}");
    let deferred = facts_of(&v, "delivery_summary").into_iter().find(|f| f["fields"]["status"] == "deferred");
    assert_eq!(deferred.map(|f| f["fields"]["lines"].clone()), Some(serde_json::json!(3)));
    assert!(facts_of(&v, "log_signature").iter().any(|f| f["fields"]["id"] == "dovecot.mailbox_permission_denied"));
}

/// The lab's healthy live bundle (Dovecot LMTP up): every rule ran, nothing is wrong.
fn healthy_live_bundle() -> serde_json::Value {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios/lab-live-dovecot-lmtp-ok/bundle.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("bundle")).expect("bundle JSON")
}

#[test]
fn ok_only_when_every_rule_ran_and_unknown_with_run_as_root_when_permissions_stopped_some() {
    let dir = std::env::temp_dir().join(format!("mailsleuth-cli-verdict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let ok = dir.join("ok.json");
    std::fs::write(&ok, serde_json::to_string(&healthy_live_bundle()).expect("JSON")).expect("write");
    let all = json(&run(&["rules", "list", "--no-system-rules", "--format", "json"])).as_array().map(Vec::len).unwrap_or(0);
    assert!(all > 0);
    let o = run(&["diagnose", "--bundle", ok.to_str().expect("utf-8"), "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains(&format!("✓ No problem found by {all} rules")), "{}", stdout(&o));

    // The same host seen by a user who may not statvfs the mail directories.
    let mut v = healthy_live_bundle();
    let mut denied = 0;
    for o in v["observations"].as_array_mut().expect("observations") {
        if o["source"]["type"] == "statvfs" {
            o["payload"] =
                serde_json::json!({"status": "failed", "failure": "permission_denied", "message": "Permission denied (os error 13)"});
            denied += 1;
        }
    }
    assert!(denied > 0);
    let p = dir.join("denied.json");
    std::fs::write(&p, serde_json::to_string(&v).expect("JSON")).expect("write");
    let o = run(&["diagnose", "--bundle", p.to_str().expect("utf-8"), "--no-system-rules"]);
    let j = json(&run(&["diagnose", "--bundle", p.to_str().expect("utf-8"), "--no-system-rules", "--format", "json"]));
    let _ = std::fs::remove_dir_all(&dir);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(!out.contains('✓'), "{out}");
    // The reason is in the first lines, with what to do.
    let head: String = out.lines().take(4).collect::<Vec<_>>().join(" ");
    assert!(
        head.contains("could not check") && head.contains(&format!("of {all} rules")) && head.contains("run as root to see them"),
        "{out}"
    );
    assert!(out.contains("free space: not readable as this user"), "{out}");
    assert_eq!(j["verdict"], "UNKNOWN");
    assert_eq!(j["not_checked"]["rules"].as_u64(), Some(all as u64));
    assert_eq!(j["not_checked"]["hint"], "run as root to see them");
    assert!(j["not_checked"]["rules_skipped"].as_u64().is_some_and(|n| n > 0));
}
