//! `mailsleuth queue`: the qshape-like table and the deferral reasons per destination, from a
//! bundle whose `postqueue -j` output is known line by line.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mailsleuth");

fn queue_json(bundle: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let o = Command::new(BIN)
        .args(["queue", "--bundle", bundle.to_str().expect("utf-8"), "--format", "json"])
        .args(extra)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON")
}

#[test]
fn destinations_by_age_and_their_reasons() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios/lab-live-founding/bundle.json");
    let mut b: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(src).expect("bundle")).expect("JSON");
    let now = b["created_at"].as_i64().expect("created_at");
    let msg = |queue: &str, id: &str, age: i64, rcpts: &[(&str, &str)]| {
        let r: Vec<serde_json::Value> = rcpts.iter().map(|(a, why)| serde_json::json!({"address": a, "delay_reason": why})).collect();
        serde_json::json!({"queue_name": queue, "queue_id": id, "arrival_time": now - age, "message_size": 1000, "recipients": r})
            .to_string()
    };
    let lines = [
        msg(
            "deferred",
            "A1",
            180,
            &[
                ("a@a.example", "connect to a.example[192.0.2.1]:25: Connection refused"),
                ("b@a.example", "connect to a.example[192.0.2.2]:25: Connection refused"),
            ],
        ),
        msg("deferred", "A2", 900, &[("c@a.example", "host a.example said: 451 4.7.1 greylisted")]),
        msg("deferred", "B1", 7200, &[("x@b.example", "connect to b.example[198.51.100.9]:25: Connection timed out")]),
        msg("active", "B2", 2 * 86400, &[("y@B.example", "")]),
    ];
    let mut found = false;
    for o in b["observations"].as_array_mut().expect("observations") {
        if o["source"]["type"] == "command" && o["source"]["argv"][0] == "postqueue" {
            o["payload"] = serde_json::json!({"status": "text", "text": lines.join("\n") + "\n"});
            found = true;
        }
    }
    assert!(found, "the lab bundle has a postqueue -j observation");
    let p = std::env::temp_dir().join(format!("mailsleuth-queue-{}.json", std::process::id()));
    std::fs::write(&p, b.to_string()).expect("write");
    let all = queue_json(&p, &[]);
    let deferred = queue_json(&p, &["--queue", "deferred"]);
    let human = Command::new(BIN).args(["queue", "--bundle", p.to_str().expect("utf-8")]).output().expect("run");
    let _ = std::fs::remove_file(&p);

    assert_eq!(all["buckets_minutes"], serde_json::json!([5, 10, 20, 40, 80, 160, 320, 640, 1280]));
    let d = &all["destinations"];
    assert_eq!(d[0]["domain"], "a.example");
    assert_eq!(d[0]["total"], 3);
    assert_eq!(d[0]["buckets"], serde_json::json!([2, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(d[0]["reasons"][0]["count"], 2, "the two refusals are one reason: {}", d[0]["reasons"]);
    assert!(d[0]["reasons"][0]["sample"].as_str().is_some_and(|s| s.contains("Connection refused")));
    assert_eq!(d[0]["reasons"][1]["count"], 1);
    assert_eq!(d[1]["domain"], "b.example");
    assert_eq!(d[1]["total"], 2);
    assert_eq!(d[1]["buckets"], serde_json::json!([0, 0, 0, 0, 0, 1, 0, 0, 0, 1]));
    assert_eq!(d[1]["reasons"].as_array().map(Vec::len), Some(1));
    assert_eq!(d.as_array().map(Vec::len), Some(2));
    // Only the deferred queue: b.example's active message is left out.
    assert_eq!(deferred["destinations"][1]["total"], 1);
    let h = String::from_utf8_lossy(&human.stdout);
    let total = h.lines().find(|l| l.trim_start().starts_with("TOTAL")).unwrap_or_default();
    assert_eq!(total.split_whitespace().nth(1), Some("5"), "{h}");
    assert!(h.contains("Top deferral reasons by destination:") && h.contains("  a.example:"), "{h}");
}

#[test]
fn without_postqueue_the_view_says_why() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios/queue-deferred-backlog/sysroot");
    let o = Command::new(BIN).args(["queue", "--root", root]).output().expect("run");
    assert_eq!(o.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not run under --root"), "{}", String::from_utf8_lossy(&o.stderr));
}
