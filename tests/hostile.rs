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
    #[allow(dead_code)]
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

