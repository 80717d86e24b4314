//! `mailsleuth check` read as a monitoring system reads a plugin (the Nagios plugin
//! guidelines: one status line `SERVICE STATE - text | perfdata`, perfdata items
//! `'label'=value[UOM];[warn];[crit];[min];[max]`, exit 0/1/2/3) and `mailsleuth metrics`
//! read by Prometheus' own parser (`promtool check metrics`, Debian's prometheus package,
//! which tests/lab/install.sh installs).

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mailsleuth");

fn bundle(name: &str) -> String {
    format!("{}/tests/scenarios/{name}/bundle.json", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("NO_COLOR", "1").output().expect("run mailsleuth")
}

/// One perfdata item.
#[derive(Debug)]
struct Perf {
    value: f64,
    uom: String,
    warn: Option<f64>,
    crit: Option<f64>,
    min: Option<f64>,
}

/// A plugin's output, parsed strictly: the state word, the text, the perfdata by label.
fn parse_plugin(out: &str) -> (String, String, BTreeMap<String, Perf>) {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "a plugin prints one line: {out:?}");
    let line = lines[0];
    let rest = line.strip_prefix("MAILSLEUTH ").unwrap_or_else(|| panic!("no service name: {line}"));
    let (state, rest) = rest.split_once(" - ").unwrap_or_else(|| panic!("no ' - ': {line}"));
    assert!(["OK", "WARNING", "CRITICAL", "UNKNOWN"].contains(&state), "{line}");
    let (text, perf) = rest.split_once(" | ").unwrap_or_else(|| panic!("no perfdata: {line}"));
    assert!(!text.contains('|') && !perf.contains('|'), "{line}");
    let num = |s: &str| -> Option<f64> {
        if s.is_empty() {
            None
        } else {
            Some(s.parse::<f64>().unwrap_or_else(|_| panic!("not a number {s:?} in {line}")))
        }
    };
    let mut items = BTreeMap::new();
    for item in perf.split_whitespace() {
        let (label, data) = item.rsplit_once('=').unwrap_or_else(|| panic!("no '=' in {item}"));
        let label = label.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')).unwrap_or(label);
        assert!(!label.is_empty() && !label.contains(['\'', '=', ' ']), "bad label {item}");
        let fields: Vec<&str> = data.split(';').collect();
        assert!((1..=5).contains(&fields.len()), "{item}");
        let v = fields[0];
        let split = v.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(v.len());
        let (value, uom) = v.split_at(split);
        assert!(["", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"].contains(&uom), "bad UOM in {item}");
        let get = |i: usize| fields.get(i).and_then(|s| num(s));
        items.insert(
            label.to_string(),
            Perf { value: num(value).expect("a value"), uom: uom.to_string(), warn: get(1), crit: get(2), min: get(3) },
        );
    }
    (state.to_string(), text.to_string(), items)
}

#[test]
fn check_on_the_founding_bundle_is_critical_with_the_cause_and_the_counters() {
    let b = bundle("lab-live-founding");
    let o = run(&["check", "--bundle", &b, "--no-system-rules"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(2), "{out}");
    let (state, text, perf) = parse_plugin(&out);
    assert_eq!(state, "CRITICAL");
    assert!(text.starts_with("/tmp is 0700 root, not 1777"), "{text}");
    // The perfdata agree with the JSON report of the same bundle.
    let j: serde_json::Value =
        serde_json::from_slice(&run(&["diagnose", "--bundle", &b, "--no-system-rules", "--format", "json"]).stdout).expect("JSON");
    assert_eq!(perf["deferred"].value as u64, j["accounting"]["deferred"]["total"].as_u64().expect("deferred"));
    assert_eq!(perf["bounced"].value as u64, j["accounting"]["bounced"]["total"].as_u64().expect("bounced"));
    assert_eq!(perf["diagnoses"].value as usize, j["diagnoses"].as_array().expect("diagnoses").len());
    assert!(perf["deferred"].value > 0.0);
    assert_eq!(perf["queue_oldest"].uom, "s");
    assert_eq!(perf["queue"].min, Some(0.0));
    let by_queue: f64 = perf.iter().filter(|(k, _)| k.starts_with("queue_") && *k != "queue_oldest").map(|(_, p)| p.value).sum();
    assert_eq!(perf["queue"].value, by_queue, "{out}");
    assert!(perf["queue_deferred"].value > 0.0, "{out}");
}

#[test]
fn check_thresholds_raise_the_state_and_appear_in_the_perfdata() {
    let b = bundle("lab-live-dovecot-lmtp-ok");
    let o = run(&["check", "--bundle", &b, "--no-system-rules"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}");
    let (state, _, perf) = parse_plugin(&out);
    assert_eq!(state, "OK");
    let bounced = perf["bounced"].value as u64;
    assert!(bounced >= 1, "{out}");
    let n = bounced.to_string();
    let above = (bounced + 1).to_string();
    let o = run(&["check", "--bundle", &b, "--no-system-rules", "--warn-bounced", &n, "--crit-bounced", &above]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{out}");
    let (state, text, perf) = parse_plugin(&out);
    assert_eq!(state, "WARNING");
    assert!(text.contains(&format!("bounced messages {bounced}")), "{text}");
    assert_eq!((perf["bounced"].warn, perf["bounced"].crit), (Some(bounced as f64), Some(bounced as f64 + 1.0)));
    let o = run(&["check", "--bundle", &b, "--no-system-rules", "--crit-bounced", &n]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(parse_plugin(&String::from_utf8_lossy(&o.stdout)).0, "CRITICAL");
}

#[test]
fn check_usage_errors_and_unreadable_input_are_unknown() {
    assert_eq!(run(&["check", "--no-such-option"]).status.code(), Some(3));
    let o = run(&["check", "--bundle", "/nonexistent/bundle.json", "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(3));
    let (state, text, _) = {
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let line = out.lines().next().unwrap_or_default().to_string();
        let (s, t) = line.strip_prefix("MAILSLEUTH ").and_then(|r| r.split_once(" - ")).unwrap_or(("", ""));
        (s.to_string(), t.to_string(), ())
    };
    assert_eq!(state, "UNKNOWN");
    assert!(text.contains("/nonexistent/bundle.json"), "{text}");
}

fn promtool() -> Option<&'static str> {
    Command::new("promtool").arg("--version").output().ok().filter(|o| o.status.success()).map(|_| "promtool")
}

/// `promtool check metrics` on `text`: its exit status and what it said.
fn promtool_check(tool: &str, text: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(tool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write");
    let o = child.wait_with_output().expect("promtool");
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn metrics_pass_prometheus_own_parser_and_carry_the_report() {
    let b = bundle("lab-live-founding");
    let o = run(&["metrics", "--bundle", &b, "--no-system-rules"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("mailsleuth_verdict 2\n"), "{text}");
    assert!(
        text.contains("mailsleuth_diagnosis{id=\"permissions.tmp_blocks_maildrop\",kind=\"root_cause\",severity=\"critical\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("mailsleuth_failures{status=\"deferred\",explained_by=\"permissions.tmp_blocks_maildrop\""), "{text}");
    assert!(text.contains("mailsleuth_queue_messages{queue=\"deferred\"} "), "{text}");
    assert!(text.contains("mailsleuth_rules{outcome=\"skipped\"} 0\n"), "{text}");
    let Some(tool) = promtool() else {
        assert!(std::env::var_os("MAILSLEUTH_REQUIRE_LAB").is_none(), "promtool is missing (tests/lab/install.sh installs prometheus)");
        eprintln!("promtool not installed: the exposition format was not checked by Prometheus' parser");
        return;
    };
    let (ok, said) = promtool_check(tool, &text);
    assert!(ok, "promtool: {said}\n{text}");
    // The checker can fail: a broken line is refused.
    let broken = text.replacen("mailsleuth_verdict 2", "mailsleuth_verdict{verdict=} two", 1);
    assert!(!promtool_check(tool, &broken).0, "promtool accepted a broken exposition");
    // A report without any diagnosis passes too.
    let o = run(&["metrics", "--bundle", &bundle("lab-live-dovecot-lmtp-ok"), "--no-system-rules"]);
    let (ok, said) = promtool_check(tool, &String::from_utf8_lossy(&o.stdout));
    assert!(ok, "promtool: {said}");
}
