//! The conventions of the tools admins already use, on the real binary: shell completions,
//! the man page, --quiet, --color (NO_COLOR, TERM=dumb), ASCII glyphs outside a UTF-8
//! locale, `-` for standard input. Terminal behaviour is tested under a real pseudo-terminal
//! (util-linux `script`).

use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mailsleuth");

fn bundle(name: &str) -> String {
    format!("{}/tests/scenarios/{name}/bundle.json", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("NO_COLOR").output().expect("run mailsleuth")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn have(tool: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {tool}")).stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

#[test]
fn bash_completion_completes_subcommands_and_options() {
    let o = run(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    let script = std::env::temp_dir().join(format!("mailsleuth-completion-{}.bash", std::process::id()));
    std::fs::write(&script, &o.stdout).expect("write");
    let ask = |words: &str, cword: usize| -> String {
        let cmd = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE=\"{words}\"; COMP_POINT=${{#COMP_LINE}}; _mailsleuth mailsleuth \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        text(&Command::new("bash").arg("-c").arg(cmd).output().expect("bash").stdout)
    };
    let subs = ask("mailsleuth ch", 1);
    let opts = ask("mailsleuth check --warn-q", 2);
    let _ = std::fs::remove_file(&script);
    assert!(subs.lines().any(|l| l == "check"), "{subs}");
    assert!(!subs.lines().any(|l| l == "why"), "{subs}");
    assert!(opts.lines().any(|l| l == "--warn-queue") && opts.lines().any(|l| l == "--warn-queue-age"), "{opts}");
}

#[test]
fn zsh_and_fish_completions_and_the_man_page() {
    let z = text(&run(&["completions", "zsh"]).stdout);
    assert!(z.starts_with("#compdef mailsleuth"), "{z}");
    assert!(z.contains("--crit-deferred"));
    let f = text(&run(&["completions", "fish"]).stdout);
    assert!(f.contains("complete -c mailsleuth") && f.contains("metrics"), "{f}");
    assert_eq!(run(&["completions", "powershell"]).status.code(), Some(64));
    let o = run(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let roff = text(&o.stdout);
    assert!(roff.contains(".TH mailsleuth 1"), "{roff}");
    for sub in ["why", "check", "metrics", "completions", "collect"] {
        assert!(roff.contains(&format!("mailsleuth\\-{sub}")) || roff.contains(&format!("\\fB{sub}\\fR")), "{sub} not in the man page");
    }
    if have("man") {
        let mut child = Command::new("man")
            .args(["-l", "-"])
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("man");
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(&o.stdout).expect("write");
        let out = child.wait_with_output().expect("man");
        let page = text(&out.stdout);
        assert!(
            out.status.success() && page.contains("NAME") && page.contains("deferred?") && page.contains("mailsleuth(1)"),
            "{page}{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn quiet_prints_nothing_and_keeps_the_exit_status() {
    let b = bundle("lab-live-founding");
    let loud = run(&["diagnose", "--bundle", &b, "--no-system-rules"]);
    let quiet = run(&["--quiet", "diagnose", "--bundle", &b, "--no-system-rules"]);
    assert_eq!(loud.status.code(), Some(2));
    assert_eq!(quiet.status.code(), Some(2));
    assert!(!loud.stdout.is_empty());
    assert!(quiet.stdout.is_empty() && quiet.stderr.is_empty(), "{}", text(&quiet.stdout));
    // A usage error is still said.
    let o = run(&["-q", "diagnose", "--bundle", "/nonexistent/b.json"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(!o.stderr.is_empty());
}

#[test]
fn color_always_never_and_auto_on_a_pipe() {
    let b = bundle("lab-live-founding");
    let has_esc = |o: &Output| o.stdout.contains(&0x1b);
    assert!(has_esc(&run(&["diagnose", "--bundle", &b, "--no-system-rules", "--color", "always"])));
    assert!(!has_esc(&run(&["diagnose", "--bundle", &b, "--no-system-rules", "--color", "never"])));
    assert!(!has_esc(&run(&["diagnose", "--bundle", &b, "--no-system-rules"])), "auto colours a pipe");
}

/// `mailsleuth ARGS` under a pseudo-terminal with `env` set; what the terminal received.
fn on_a_terminal(args: &str, env: &[(&str, &str)]) -> Option<String> {
    if !have("script") {
        assert!(std::env::var_os("MAILSLEUTH_REQUIRE_LAB").is_none(), "util-linux script is missing");
        eprintln!("no `script`: terminal behaviour not tested");
        return None;
    }
    let mut c = Command::new("script");
    c.args(["-qec", &format!("{BIN} {args}"), "/dev/null"]).env_remove("NO_COLOR").env_remove("LC_ALL").env_remove("LC_CTYPE");
    c.env("TERM", "xterm").env("LANG", "C.UTF-8");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.stdin(Stdio::null()).output().expect("script");
    Some(text(&o.stdout))
}

#[test]
fn on_a_terminal_colour_follows_no_color_and_term_and_glyphs_follow_the_locale() {
    let b = bundle("lab-live-dovecot-lmtp-ok");
    let args = format!("diagnose --bundle {b} --no-system-rules");
    let Some(plain) = on_a_terminal(&args, &[]) else { return };
    assert!(plain.contains('\x1b'), "no colour on a terminal: {plain}");
    assert!(plain.contains("\x1b[1;32m✓\x1b[0m No problem found"), "{plain}");
    let no_color = on_a_terminal(&args, &[("NO_COLOR", "1")]).unwrap_or_default();
    assert!(!no_color.contains('\x1b'), "{no_color}");
    let dumb = on_a_terminal(&args, &[("TERM", "dumb")]).unwrap_or_default();
    assert!(!dumb.contains('\x1b'), "{dumb}");
    let c_locale = on_a_terminal(&args, &[("LANG", "C"), ("NO_COLOR", "1")]).unwrap_or_default();
    assert!(c_locale.is_ascii(), "non-ASCII in the C locale: {c_locale}");
    assert!(c_locale.contains("OK No problem found") && c_locale.contains("mailsleuth -- why"), "{c_locale}");
}

#[test]
fn facts_with_an_unknown_kind_is_an_error_with_the_nearest_kind() {
    let b = bundle("lab-live-founding");
    let o = run(&["facts", "--bundle", &b, "--no-system-rules", "--kind", "path_stats"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(o.stdout.is_empty());
    assert!(text(&o.stderr).contains("did you mean `path_stat`?"), "{}", text(&o.stderr));
    let o = run(&["facts", "--bundle", &b, "--no-system-rules", "--kind", "path_stat"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).lines().next().is_some_and(|l| l.starts_with("path_stat {")), "{}", text(&o.stdout));
}

#[test]
fn genlog_help_prints_help_and_a_bad_argument_is_refused() {
    let exe = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--example", "genlog"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build --example genlog");
    assert!(exe.success());
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{}/target", env!("CARGO_MANIFEST_DIR")));
    let genlog = format!("{target}/debug/examples/genlog");
    let o = Command::new(&genlog).arg("--help").output().expect("genlog");
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("Usage: genlog [SIZE]"), "{}", text(&o.stdout));
    let o = Command::new(&genlog).arg("--sede").output().expect("genlog");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let o = Command::new(&genlog).args(["3K", "--seed", "7"]).output().expect("genlog");
    assert!(o.stdout.len() >= 3 << 10 && o.stdout.len() < 8 << 10, "{}", o.stdout.len());
}

/// `mailsleuth ARGS < file`.
fn run_stdin(args: &[&str], input: &std::path::Path) -> Output {
    Command::new(BIN).args(args).env("NO_COLOR", "1").stdin(std::fs::File::open(input).expect("input")).output().expect("run mailsleuth")
}

#[test]
fn a_dash_reads_standard_input_for_every_command_that_takes_a_log() {
    let log = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scenarios/founding-tmp-0700-maildrop/sysroot/var/log/mail.log"
    ));
    let l = log.to_str().expect("utf-8");
    let json =
        |o: &Output| -> serde_json::Value { serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stdout))) };
    // logs stats / unknown: the same counts from a pipe as from the file.
    let file = json(&run(&["logs", "stats", "--all-logs", "--format", "json", "--no-system-rules", l]));
    let o = run_stdin(&["logs", "stats", "-", "--format", "json", "--no-system-rules"], &log);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let pipe = json(&o);
    assert_eq!(pipe["files"][0]["path"], "-");
    assert_eq!(pipe["files"][0]["lines"], file["files"][0]["lines"]);
    assert!(file["files"][0]["lines"].as_u64().is_some_and(|n| n > 10));
    // The same tables, the evidence named `-:LINE` instead of `FILE:LINE`.
    let same = |k: &str| {
        let p: String = pipe[k].to_string();
        p == file[k].to_string().replace(&format!("{l}:"), "-:")
    };
    assert!(same("statuses") && same("signatures") && same("deferral_reasons"), "{pipe}\n{file}");
    let u_file = text(&run(&["logs", "unknown", "--all-logs", "--no-system-rules", l]).stdout);
    let u_pipe = text(&run_stdin(&["logs", "unknown", "-", "--no-system-rules"], &log).stdout);
    assert_eq!(u_pipe.replace(" -", "").lines().count(), u_file.lines().count(), "{u_pipe}\n{u_file}");
    // logs classify -: one label per line.
    let c = run_stdin(&["logs", "classify", "-", "--no-system-rules"], &log);
    assert_eq!(text(&c.stdout).lines().count() as u64, file["files"][0]["lines"].as_u64().expect("lines"));
    // diagnose --log - and why --log - on a machine without a mail system: the log's report.
    let d_file = json(&run(&["diagnose", "--log", l, "--format", "json", "--no-system-rules"]));
    let d_pipe = json(&run_stdin(&["diagnose", "--log", "-", "--format", "json", "--no-system-rules"], &log));
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["diagnoses"].as_array().expect("diagnoses").iter().filter_map(|d| d["id"].as_str().map(str::to_string)).collect()
    };
    assert!(ids(&d_file).contains(&"delivery.maildrop_tmpfile_failures".to_string()), "{:?}", ids(&d_file));
    assert_eq!(ids(&d_pipe), ids(&d_file));
    assert_eq!(d_pipe["accounting"]["deferred"]["total"], d_file["accounting"]["deferred"]["total"]);
    let empty = std::env::temp_dir().join(format!("mailsleuth-stdin-root-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("mkdir");
    let w =
        json(&run_stdin(&["why", "--root", empty.to_str().expect("utf-8"), "--log", "-", "--format", "json", "--no-system-rules"], &log));
    let _ = std::fs::remove_dir_all(&empty);
    assert_eq!(w["log_only"], true);
    assert_eq!(ids(&w), ids(&d_file));
    // Standard input and files together are refused, not silently mixed.
    let o = run_stdin(&["logs", "stats", "-", l, "--no-system-rules"], &log);
    assert_eq!(o.status.code(), Some(64));
}

#[test]
fn progress_shows_on_a_terminal_past_a_second_and_never_in_a_pipe() {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{}/target", env!("CARGO_MANIFEST_DIR")));
    let genlog = format!("{target}/debug/examples/genlog");
    if !std::path::Path::new(&genlog).exists() {
        let ok =
            Command::new(env!("CARGO")).args(["build", "--quiet", "--example", "genlog"]).current_dir(env!("CARGO_MANIFEST_DIR")).status();
        assert!(ok.is_ok_and(|s| s.success()));
    }
    let log = std::env::temp_dir().join(format!("mailsleuth-progress-{}.log", std::process::id()));
    let o = Command::new(&genlog).arg("12M").output().expect("genlog");
    std::fs::write(&log, &o.stdout).expect("write");
    let l = log.to_str().expect("utf-8").to_string();
    // In a pipe: nothing on stderr, however long it takes.
    let piped = Command::new(BIN).args(["logs", "stats", "--all-logs", "--no-system-rules", &l]).output().expect("run");
    assert_eq!(piped.status.code(), Some(0));
    assert!(piped.stderr.is_empty(), "{}", text(&piped.stderr));
    // On a terminal, a scan of more than a second shows the bytes read and the rate.
    let started = std::time::Instant::now();
    let tty = on_a_terminal(&format!("logs stats --all-logs --no-system-rules {l}"), &[]);
    let took = started.elapsed();
    let quiet = on_a_terminal(&format!("--quiet logs stats --all-logs --no-system-rules {l}"), &[]);
    let _ = std::fs::remove_file(&log);
    let (Some(tty), Some(quiet)) = (tty, quiet) else { return };
    if took > std::time::Duration::from_millis(1500) {
        assert!(tty.contains("mailsleuth: read ") && tty.contains("/s)"), "{took:?}: {}", tty.chars().take(400).collect::<String>());
    }
    assert!(!quiet.contains("mailsleuth: read "), "{}", quiet.chars().take(400).collect::<String>());
}
