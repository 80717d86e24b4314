//! A broken or hostile host against the real `mailsleuth` binary: each case builds a small
//! sysroot (or input) in a temporary directory, runs the command under its own deadline and
//! asserts that it ends in bounded time and memory, prints no terminal escape, and reports
//! what it could not check as such.
//!
//! These tests drive the CLI only (no crate internals), so they survive any reorganisation of
//! the library. Bounds are generous: they tell a bounded run from a runaway one, not a fast
//! machine from a slow one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mailsleuth");

/// What a run cost and printed.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    wall: Duration,
    /// Peak resident set of the mailsleuth process, in KiB (None without /usr/bin/time).
    peak_kib: Option<u64>,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
    /// The run ended within `secs` and `mib`, and printed no escape byte.
    fn bounded(&self, secs: u64, mib: u64) -> &Self {
        assert!(self.wall < Duration::from_secs(secs), "took {:?} (bound {secs} s)\n{}", self.wall, self.stderr);
        if let Some(k) = self.peak_kib {
            assert!(k < mib << 10, "peak memory {k} KiB (bound {mib} MiB)");
        }
        assert!(!self.stdout.contains('\x1b') && !self.stderr.contains('\x1b'), "escape byte printed:\n{}\n{}", self.stdout, self.stderr);
        self
    }
    /// The `unavailable` records of a JSON report whose reason contains `needle`.
    fn unavailable_with(&self, needle: &str) -> Vec<serde_json::Value> {
        let v = self.json();
        v["unavailable"].as_array().map(|a| a.iter().filter(|u| u.to_string().contains(needle)).cloned().collect()).unwrap_or_default()
    }
}

/// Run the binary with `args` (and `stdin`), killed after `deadline` whatever it does.
fn run_with(args: &[&str], stdin: Option<&Path>, env: &[(&str, &str)], deadline: Duration) -> Run {
    let dir = TempDir::new("time");
    let time_out = dir.0.join("rusage");
    let measured = Path::new("/usr/bin/time").exists();
    let mut cmd = if measured {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("%M").arg("-o").arg(&time_out).arg(BIN);
        c
    } else {
        Command::new(BIN)
    };
    cmd.args(args).env("NO_COLOR", "1").stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    match stdin {
        Some(p) => cmd.stdin(std::fs::File::open(p).expect("open stdin file")),
        None => cmd.stdin(Stdio::null()),
    };
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn mailsleuth");
    let out = child.stdout.take().map(|s| std::thread::spawn(move || read_all(s)));
    let err = child.stderr.take().map(|s| std::thread::spawn(move || read_all(s)));
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break Some(st);
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = start.elapsed();
    let stdout = out.map(|h| h.join().unwrap_or_default()).unwrap_or_default();
    let stderr = err.map(|h| h.join().unwrap_or_default()).unwrap_or_default();
    assert!(status.is_some(), "killed after {deadline:?}: {args:?}\n{stderr}");
    let peak_kib = std::fs::read_to_string(&time_out).ok().and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()));
    let r = Run { code: status.and_then(|s| s.code()), stdout, stderr, wall, peak_kib };
    eprintln!("{args:?}: exit {:?}, {:?}, peak {:?} KiB", r.code, r.wall, r.peak_kib);
    r
}

fn run(args: &[&str]) -> Run {
    run_with(args, None, &[], Duration::from_secs(120))
}

fn read_all(mut r: impl std::io::Read) -> String {
    let mut buf = Vec::new();
    let _ = r.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("mailsleuth-hostile-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir temp");
        TempDir(p)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
    /// Write `rel` under the directory, creating its parents.
    fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::File::create(&p).and_then(|mut f| f.write_all(content.as_ref())).expect("write");
        p
    }
    fn mkdir(&self, rel: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(&p).expect("mkdir");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn why_json(root: &TempDir) -> Run {
    run(&["why", "--root", root.path(), "--no-system-rules", "--format", "json"])
}

// ---------------------------------------------------------------------------------------
// main.cf expansion bombs

#[test]
fn a_self_doubling_main_cf_parameter_is_reported_unexpandable_not_expanded() {
    let root = TempDir::new("bomb");
    root.write("etc/postfix/main.cf", format!("mydomain = {}\n", "$mydomain".repeat(8)));
    let r = why_json(&root);
    r.bounded(60, 300);
    assert!(!r.unavailable_with("unreasonable macro").is_empty(), "{}", r.stdout);
}

#[test]
fn a_main_cf_fanning_out_ten_ways_eleven_deep_is_bounded() {
    let root = TempDir::new("fan");
    let mut cf = String::from("p0 = x\n");
    for i in 1..=11 {
        cf.push_str(&format!("p{i} = {}\n", format!("$p{} ", i - 1).repeat(10)));
    }
    cf.push_str("myhostname = $p11\nrelayhost = $p11\n");
    root.write("etc/postfix/main.cf", cf);
    let r = why_json(&root);
    r.bounded(60, 300);
    let u = r.unavailable_with("unreasonable macro");
    assert!(u.iter().any(|u| u.to_string().contains("myhostname")), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------
// Commands that fork

#[test]
fn timeout_kills_a_command_whose_child_sleeps() {
    use std::os::unix::fs::PermissionsExt;
    let bin = TempDir::new("bin");
    // A postconf and an nft that are shell scripts: the shell waits for its child `sleep`,
    // which holds the output pipes; killing only the shell left us waiting 25 s per command.
    for name in ["postconf", "nft", "postqueue", "doveconf"] {
        let p = bin.write(name, "#!/bin/sh\nsleep 25\necho late\n");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!("{}:{}", bin.path(), std::env::var("PATH").unwrap_or_default());
    let r =
        run_with(&["why", "--timeout", "2", "--no-system-rules", "--format", "json"], None, &[("PATH", &path)], Duration::from_secs(120));
    // Each batch of commands waits for its 2 s timeout; 25 s would mean a sleep was waited for.
    r.bounded(20, 300);
    assert!(!r.unavailable_with("postconf: timed out after 2 s").is_empty(), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------
// A FIFO, a device or a directory where a file should be

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().expect("mkfifo");
    assert!(st.success());
}

#[test]
fn a_fifo_for_the_mail_log_and_passwd_is_reported_not_waited_on() {
    let root = TempDir::new("fifo");
    root.write("etc/postfix/main.cf", "myhostname = mx.example.org\n");
    root.mkdir("var/log");
    root.mkdir("etc/rsyslog.d");
    mkfifo(&root.0.join("var/log/mail.log"));
    mkfifo(&root.0.join("etc/passwd"));
    mkfifo(&root.0.join("etc/hostname"));
    mkfifo(&root.0.join("etc/rsyslog.d/50-mail.conf"));
    let r = why_json(&root);
    r.bounded(60, 300);
    assert!(!r.unavailable_with("not a regular file but a FIFO").is_empty(), "{}", r.stdout);
    let r = run(&["logs", "stats", "--root", root.path()]);
    r.bounded(60, 300);
    let r = run(&["logs", "unknown", "--root", root.path()]);
    r.bounded(60, 300);
}

#[test]
fn logs_stats_and_classify_refuse_a_device_or_a_directory() {
    for args in
        [&["logs", "stats", "/dev/zero"][..], &["logs", "classify", "/dev/zero"], &["logs", "stats", "/"], &["logs", "classify", "/"]]
    {
        let r = run_with(args, None, &[], Duration::from_secs(60));
        r.bounded(30, 200);
        assert_eq!(r.code, Some(64), "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("not a regular file"), "{args:?}: {}", r.stderr);
    }
}

// ---------------------------------------------------------------------------------------
// Symlinks out of the copied tree

/// A file on the analysing machine the copied tree's links point at, with a marker in it.
struct Outside(TempDir);

impl Outside {
    fn new() -> Outside {
        let d = TempDir::new("outside");
        d.write("hostname", "analyst-secret-host\n");
        d.write("mail.log", "Nov 23 08:15:05 analyst postfix/smtp[1]: ANALYSTSECRET: to=<a@b>, status=deferred (x)\n");
        d.write("passwd", "root:x:0:0:root:/root:/bin/sh\nanalystsecret:x:1000:1000::/home/analystsecret:/bin/sh\n");
        d.mkdir("home/analystsecret/Maildir/new");
        d.write("home/analystsecret/Maildir/new/1.analystsecret", "x");
        Outside(d)
    }
}

fn symlink(target: &Path, link: &Path) {
    if let Some(d) = link.parent() {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

#[test]
fn absolute_symlinks_in_a_copied_tree_never_reach_the_analysts_files() {
    let out = Outside::new();
    let root = TempDir::new("escape");
    root.write("etc/postfix/main.cf", "myhostname = mx.example.org\nhome_mailbox = Maildir/\n");
    root.write("etc/passwd", "alice:x:1000:1000::/home/alice:/bin/sh\n");
    symlink(&out.0 .0.join("hostname"), &root.0.join("etc/hostname"));
    symlink(&out.0 .0.join("mail.log"), &root.0.join("var/log/mail.log"));
    // Maildir -> / lists the root of the *copy*, never the analyst's /.
    symlink(Path::new("/"), &root.0.join("home/alice/Maildir"));
    // A directory link on the way: etc/postfix -> (outside) is resolved inside the root.
    symlink(&out.0 .0, &root.0.join("var/spool/postfix"));
    let bundle = root.0.join("../bundle-escape.json");
    let bundle = bundle.to_str().expect("utf-8");
    let r = run(&["collect", "--root", root.path(), "-o", bundle]);
    r.bounded(60, 300);
    let text = std::fs::read_to_string(bundle).unwrap_or_default();
    let _ = std::fs::remove_file(bundle);
    assert!(!text.is_empty(), "no bundle: {}", r.stderr);
    for secret in ["analyst-secret-host", "ANALYSTSECRET", "analystsecret", "shadow"] {
        assert!(!text.contains(secret), "{secret} from outside the root is in the bundle");
    }
    let r = why_json(&root);
    r.bounded(60, 300);
    assert!(!r.stdout.contains("analyst-secret-host") && !r.stdout.contains("ANALYSTSECRET"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------
// Input without newlines

/// `n` MiB of bytes without a newline.
fn newline_free(dir: &TempDir, name: &str, mib: usize) -> PathBuf {
    dir.write(name, vec![b'x'; mib << 20])
}

#[test]
fn classify_on_newline_free_input_keeps_memory_bounded() {
    let dir = TempDir::new("nonl");
    let p = newline_free(&dir, "one-line", 200);
    let r = run_with(&["logs", "classify", "-"], Some(&p), &[], Duration::from_secs(120));
    r.bounded(60, 100);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "1\t-");
}

#[test]
fn stats_and_diagnose_on_newline_free_standard_input_keep_memory_bounded() {
    let dir = TempDir::new("nonlstdin");
    let p = newline_free(&dir, "one-line", 200);
    let r = run_with(&["logs", "stats", "-", "--format", "json", "--no-system-rules"], Some(&p), &[], Duration::from_secs(120));
    r.bounded(60, 100);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["files"][0]["path"], "-");
    // Read as the same bytes in a file are: nothing taken from the one overlong "line".
    let f = run(&["logs", "stats", p.to_str().expect("utf-8"), "--format", "json", "--no-system-rules"]);
    let mut fv: serde_json::Value = serde_json::from_str(&f.stdout).expect("JSON");
    fv["files"][0]["path"] = serde_json::Value::from("-");
    assert_eq!(v["files"], fv["files"]);
    assert_eq!(v["statuses"], fv["statuses"]);
    let r = run_with(&["diagnose", "--log", "-", "--no-system-rules", "--format", "json"], Some(&p), &[], Duration::from_secs(120));
    r.bounded(60, 300);
    assert!(r.code.is_some_and(|c| c <= 3), "{}", r.stderr);
}

#[test]
fn a_gzip_rotation_inflating_to_one_huge_line_keeps_memory_bounded() {
    let root = TempDir::new("gzline");
    root.write("etc/postfix/main.cf", "myhostname = mx.example.org\n");
    let line = "Nov 23 08:15:05 mx postfix/smtp[1]: 4F3A: to=<a@example.com>, status=deferred (connect timed out)\n";
    root.write("var/log/mail.log", line);
    // 300 MiB of zeros without a newline compress to about 300 KiB.
    let gz = root.0.join("var/log/mail.log.1.gz");
    let st = Command::new("sh")
        .arg("-c")
        .arg(format!("head -c 314572800 /dev/zero | tr '\\0' 'x' | gzip -1 > '{}'", gz.display()))
        .status()
        .expect("gzip");
    assert!(st.success());
    let r = run(&["logs", "stats", "--root", root.path(), "--all-logs"]);
    r.bounded(90, 150);
    let r = why_json(&root);
    r.bounded(90, 150);
}

/// Write a gzip file of `line` repeated until `mib` MiB inflated (a bomb: it compresses about
/// a thousand times).
fn gzip_of_repeated(path: &Path, line: &str, mib: u64) {
    let st = Command::new("sh")
        .arg("-c")
        .arg(format!("yes '{}' | head -c {} | gzip -1 > '{}'", line.trim_end(), mib << 20, path.display()))
        .status()
        .expect("gzip");
    assert!(st.success());
}

#[test]
fn gzip_bomb_rotations_are_read_within_the_total_log_budget() {
    // Four rotations, each inflating to 64 MiB of mail lines, under a 32 MiB total budget
    // (MAILSLEUTH_LOG_BUDGET_MIB; the default is 256, too slow to fill in a debug build):
    // before the budget all four were kept whole (256 MiB of text, more while inflating).
    let root = TempDir::new("gzbomb");
    root.write("etc/postfix/main.cf", "myhostname = mx.example.org\n");
    let line = "Nov 23 08:15:05 mx postfix/smtp[1]: 4F3A: to=<a@example.com>, relay=none, delay=1, status=deferred (connect to mx.example.com[192.0.2.1]:25: Connection timed out)";
    root.write("var/log/mail.log", format!("{line}\n"));
    for i in 1..=4 {
        gzip_of_repeated(&root.0.join(format!("var/log/mail.log.{i}.gz")), line, 64);
    }
    let r = run_with(
        &["why", "--root", root.path(), "--no-system-rules", "--format", "json"],
        None,
        &[("MAILSLEUTH_LOG_BUDGET_MIB", "32")],
        Duration::from_secs(300),
    );
    r.bounded(240, 200);
    // The rotations the budget did not cover are named, and the log rules are skipped.
    let u = r.unavailable_with("budget for all logs was spent");
    assert!(!u.is_empty(), "{}", r.stdout);
}

#[test]
fn a_huge_sparse_mail_log_is_read_from_its_window_not_its_top() {
    // 20 GB of hole, then a day of real lines: the window is found by bisection; nothing
    // above it is read (not even to count its lines).
    let root = TempDir::new("sparse");
    root.write("etc/postfix/main.cf", "myhostname = mx.example.org\n");
    let log = root.write("var/log/mail.log", "");
    let f = std::fs::OpenOptions::new().write(true).open(&log).expect("open");
    f.set_len(20 << 30).expect("sparse file");
    drop(f);
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).expect("append");
    for h in 0..24 {
        writeln!(f, "Nov 23 {h:02}:15:05 mx postfix/smtp[1]: 4F3A{h:02}: to=<a@example.com>, relay=none, delay=1, status=deferred (connect to mx.example.com[192.0.2.1]:25: Connection timed out)").expect("write");
    }
    drop(f);
    let r = why_json(&root);
    r.bounded(60, 200);
    assert!(r.stdout.contains("Connection timed out") || r.stdout.contains("timed out"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------
// Caps say what they did not check

#[test]
fn past_the_user_cap_the_mailbox_rules_are_skipped_not_passed() {
    let root = TempDir::new("users");
    root.write("etc/postfix/main.cf", "myhostname = mx.example.org\nhome_mailbox = Maildir/\n");
    let passwd: String = (0..2101).map(|i| format!("u{i}:x:{}:{}::/home/u{i}:/bin/sh\n", 1000 + i, 1000 + i)).collect();
    root.write("etc/passwd", passwd);
    let r = why_json(&root);
    r.bounded(120, 300);
    let u = r.unavailable_with("checked 2000 of 2101 users");
    assert!(!u.is_empty(), "{}", r.stdout);
    assert!(u.iter().any(|u| u["rules_skipped"].as_array().is_some_and(|a| !a.is_empty())), "{u:?}");
}

#[test]
fn past_the_maildir_listing_cap_the_counts_are_not_trusted() {
    let root = TempDir::new("maildir");
    root.write("etc/postfix/main.cf", "myhostname = mx.example.org\nhome_mailbox = Maildir/\n");
    root.write("etc/passwd", "alice:x:1000:1000::/home/alice:/bin/sh\n");
    root.mkdir("home/alice/Maildir/new");
    root.mkdir("home/alice/Maildir/tmp");
    let cur = root.mkdir("home/alice/Maildir/cur");
    for i in 0..50_010 {
        std::fs::File::create(cur.join(format!("{i}.M1P1.mx:2,S"))).expect("create");
    }
    let r = why_json(&root);
    r.bounded(120, 400);
    assert!(!r.unavailable_with("listed 50000 of 50013 entries").is_empty(), "{}", r.stdout);
}

#[test]
fn past_the_maildir_listing_cap_new_and_tmp_are_listed_first() {
    // 50,010 of alice's own messages in cur/, and one root-owned file in new/: the listing
    // stops at 50,000 entries, but new/ and tmp/ come first, so the foreign file is found
    // (and the cap is still reported).
    if unsafe_uid() != 0 {
        eprintln!("skipped: needs root to chown");
        return;
    }
    let root = TempDir::new("maildir-order");
    root.write("etc/postfix/main.cf", "myhostname = mx.example.org\nhome_mailbox = Maildir/\n");
    root.write("etc/passwd", "alice:x:1000:1000::/home/alice:/bin/sh\n");
    let own = |p: &Path| std::os::unix::fs::chown(p, Some(1000), Some(1000)).expect("chown");
    for d in ["home/alice", "home/alice/Maildir", "home/alice/Maildir/tmp", "home/alice/Maildir/new"] {
        own(&root.mkdir(d));
    }
    root.write("home/alice/Maildir/new/1700000000.M1P1.mx", "From: root\n");
    let cur = root.mkdir("home/alice/Maildir/cur");
    own(&cur);
    for i in 0..50_010 {
        let p = cur.join(format!("{i}.M1P1.mx:2,S"));
        std::fs::File::create(&p).expect("create");
        own(&p);
    }
    let r = why_json(&root);
    r.bounded(120, 400);
    // new/ with its file, tmp/, cur/ with 50,010: 50,014 entries.
    assert!(!r.unavailable_with("listed 50000 of 50014 entries").is_empty(), "{}", r.stdout);
    let f = run(&["facts", "--root", root.path(), "--no-system-rules", "--kind", "maildir_contents", "--format", "json"]);
    f.bounded(120, 400);
    assert!(f.stdout.contains("Maildir/new/1700000000.M1P1.mx"), "the foreign file in new/ is the sample:\n{}", f.stdout);
}

fn unsafe_uid() -> u32 {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------------------
// Escapes

#[test]
fn explain_prints_no_escape_from_a_bundles_failure_message() {
    let root = TempDir::new("esc");
    root.write("etc/postfix/main.cf", "myhostname = mx.example.org\n");
    let bundle = root.0.join("bundle.json");
    let bundle = bundle.to_str().expect("utf-8");
    let r = run(&["collect", "--root", root.path(), "-o", bundle]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // Plant an OSC sequence (set the terminal title) in every failure message.
    let text = std::fs::read_to_string(bundle).expect("bundle");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("bundle JSON");
    let mut planted = 0;
    for o in v["observations"].as_array_mut().expect("observations") {
        if o["payload"]["status"] == "failed" {
            o["payload"]["message"] = serde_json::Value::from("\u{1b}]0;pwned\u{7}\u{1b}[2J gone");
            planted += 1;
        }
    }
    assert!(planted > 0);
    std::fs::write(bundle, serde_json::to_string(&v).expect("JSON")).expect("write");
    let j = run(&["diagnose", "--bundle", bundle, "--no-system-rules", "--format", "json"]).json();
    let rule = j["unavailable"]
        .as_array()
        .and_then(|a| a.iter().find(|u| u["why"].as_str().is_some_and(|w| w.contains("pwned"))))
        .and_then(|u| u["rules_skipped"][0].as_str().map(str::to_string))
        .expect("a rule skipped for a planted failure");
    let r = run(&["diagnose", "--bundle", bundle, "--no-system-rules", "--explain", &rule]);
    r.bounded(60, 300);
    assert!(r.stdout.contains("not observed") && r.stdout.contains("pwned"), "{}", r.stdout);
}

#[test]
fn rules_lint_names_a_non_utf8_escaping_file_safely() {
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("lint");
    let name = std::ffi::OsStr::from_bytes(b"bad\x1b[31m\xff.ron");
    std::fs::write(dir.0.join(name), "not ron at all (").expect("write");
    let r = run(&["rules", "lint", "--no-system-rules", "--rules", dir.path()]);
    r.bounded(30, 200);
    assert_eq!(r.code, Some(2), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("\\x1b[31m"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------
// Small

#[test]
fn rules_lint_reports_a_fifo_a_directory_or_a_device_named_ron() {
    let dir = TempDir::new("lintfifo");
    mkfifo(&dir.0.join("waiting.ron"));
    dir.mkdir("folder.ron");
    symlink(Path::new("/dev/zero"), &dir.0.join("zero.ron"));
    let r = run(&["rules", "lint", "--no-system-rules", "--rules", dir.path()]);
    r.bounded(30, 200);
    assert_eq!(r.code, Some(2), "{}{}", r.stdout, r.stderr);
    for f in ["waiting.ron", "folder.ron", "zero.ron"] {
        assert!(r.stdout.lines().any(|l| l.contains(f) && l.contains("cannot read")), "{f}: {}", r.stdout);
    }
}

#[test]
fn an_impossible_since_date_is_a_usage_error() {
    let dir = TempDir::new("since");
    let log = dir.write("mail.log", "2026-02-27T08:15:05+00:00 mx postfix/qmgr[1]: 4F3A: removed\n");
    let log = log.to_str().expect("utf-8");
    let r = run(&["logs", "stats", "--since", "2026-02-28", log]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let r = run(&["logs", "stats", "--since", "2026-02-30", log]);
    r.bounded(30, 200);
    assert_eq!(r.code, Some(64), "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("2026-02-30"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------
// Bundles

/// A bundle collected from a small sysroot, as JSON to tamper with.
fn collected_bundle(root: &TempDir) -> serde_json::Value {
    root.write("etc/postfix/main.cf", "myhostname = mx.example.org\n");
    root.write("var/log/mail.log", "Nov 23 08:15:05 mx postfix/qmgr[1]: 4F3A: removed\n");
    let bundle = root.0.join("bundle.json");
    let r = run(&["collect", "--root", root.path(), "-o", bundle.to_str().expect("utf-8")]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    serde_json::from_str(&std::fs::read_to_string(&bundle).expect("bundle")).expect("bundle JSON")
}

#[test]
fn a_bundle_with_oversized_fields_or_wrapping_line_numbers_is_refused_clearly() {
    let root = TempDir::new("bundlefields");
    let v = collected_bundle(&root);
    let mut big_host = v.clone();
    big_host["host"] = serde_json::Value::from("h".repeat(8 << 20));
    let mut wrap = v.clone();
    for o in wrap["observations"].as_array_mut().expect("observations") {
        if o["payload"]["status"] == "text" {
            o["payload"]["first_line"] = serde_json::Value::from(u64::MAX - 1);
        }
    }
    for (tampered, needle) in [(big_host, "host name"), (wrap, "first_line")] {
        let p = root.write("tampered.json", serde_json::to_string(&tampered).expect("JSON"));
        let r = run(&["diagnose", "--bundle", p.to_str().expect("utf-8"), "--no-system-rules"]);
        r.bounded(60, 300);
        let head = |s: &str| s.chars().take(300).collect::<String>();
        assert_eq!(r.code, Some(64), "{}{}", head(&r.stdout), head(&r.stderr));
        assert!(r.stderr.contains(needle), "{needle}: {}", head(&r.stderr));
    }
}

#[test]
fn a_bundle_over_the_size_cap_is_refused_before_it_is_read() {
    let dir = TempDir::new("bigbundle");
    let p = dir.0.join("huge.json");
    // Sparse: 1 GiB and a byte, on no disk space.
    std::fs::File::create(&p).and_then(|f| f.set_len((1 << 30) + 1)).expect("sparse file");
    let r = run(&["diagnose", "--bundle", p.to_str().expect("utf-8"), "--no-system-rules"]);
    r.bounded(30, 100);
    assert_eq!(r.code, Some(64));
    assert!(r.stderr.contains("over the 1024 MiB"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------
// A main.cf over the read cap

#[test]
fn a_main_cf_over_4_mib_does_not_report_its_top_settings_as_defaults() {
    let root = TempDir::new("bigcf");
    let mut cf = String::from("queue_directory = /srv/postfix-queue\n");
    cf.push_str(&"# filler comment line that pads main.cf past the 4 MiB read cap ...........\n".repeat(60_000));
    cf.push_str("relayhost = [smtp.example.net]:587\n");
    root.write("etc/postfix/main.cf", cf);
    let r = why_json(&root);
    r.bounded(60, 300);
    let facts = r.json()["facts"].to_string();
    assert!(!facts.contains("/var/spool/postfix (default"), "queue_directory reported as its default");
    assert!(!r.unavailable_with("read only in its last").is_empty(), "{}", r.stdout.chars().take(2000).collect::<String>());
}
