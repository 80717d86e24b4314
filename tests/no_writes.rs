//! mailsleuth never writes to the system it inspects. `collect` runs under strace, which
//! records every syscall that could change a filesystem (opening for write, creating,
//! removing, renaming, chmod/chown, truncating, touching times, linking); the test fails on
//! any of them except the bundle file it was asked to write. Both modes are checked: a
//! sysroot (`--root`) and the live host (commands such as postconf and postqueue included,
//! through `strace -f`).

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mailsleuth");
const WRITE_SYSCALLS: &str = "trace=open,openat,openat2,creat,mkdir,mkdirat,rmdir,unlink,unlinkat,rename,renameat,renameat2,chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown,truncate,ftruncate,utime,utimes,utimensat,futimesat,link,linkat,symlink,symlinkat,mknod,mknodat";

fn strace_available() -> bool {
    Command::new("strace").arg("-V").output().is_ok_and(|o| o.status.success())
}

/// Syscalls in the trace that write, except to `allowed` paths.
fn writes(trace: &str, allowed: &[&str]) -> Vec<String> {
    trace
        .lines()
        .filter(|l| {
            let word = l.split_whitespace().nth(1).unwrap_or("");
            if !word.contains('(') {
                return false; // "--- SIGCHLD ...", "+++ exited ...", "<... resumed>"
            }
            let call = word.split('(').next().unwrap_or("");
            let is_open = matches!(call, "open" | "openat" | "openat2");
            let writes = if is_open {
                ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"].iter().any(|f| l.contains(f))
            } else {
                !call.is_empty() && !l.contains("resumed>")
            };
            // A failed attempt is still an attempt; only the output file and terminals may be written.
            writes
                && !allowed.iter().any(|a| l.contains(&format!("\"{a}\"")))
                && !l.contains("\"/dev/null\"")
                && !l.contains("\"/dev/tty\"")
        })
        .map(str::to_string)
        .collect()
}

fn traced_collect(args: &[&str], out: &Path, tag: &str) -> String {
    let trace = std::env::temp_dir().join(format!("mailsleuth-strace-{tag}-{}.txt", std::process::id()));
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e", "signal=none", "-e", WRITE_SYSCALLS, "-o"])
        .arg(&trace)
        .arg(BIN)
        .arg("collect")
        .args(args)
        .arg("-o")
        .arg(out)
        .status()
        .expect("run strace");
    assert!(status.success(), "collect failed under strace");
    let text = std::fs::read_to_string(&trace).expect("read trace");
    let _ = std::fs::remove_file(&trace);
    text
}

#[test]
fn collect_never_writes_to_the_inspected_system() {
    assert!(strace_available(), "strace is required for this test: apt-get install strace (CI installs it)");
    let sysroot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/founding-tmp-0700-maildrop/sysroot");
    let out = std::env::temp_dir().join(format!("mailsleuth-nowrite-{}.json", std::process::id()));
    let outs = out.to_str().expect("utf-8");

    let trace = traced_collect(&["--root", sysroot.to_str().expect("utf-8")], &out, "root");
    assert!(trace.contains("openat"), "strace recorded nothing: the trace filter is broken");
    let w = writes(&trace, &[outs]);
    assert!(w.is_empty(), "--root collect attempted writes:\n{}", w.join("\n"));

    let trace = traced_collect(&[], &out, "live");
    let w = writes(&trace, &[outs]);
    let _ = std::fs::remove_file(&out);
    assert!(w.is_empty(), "live collect attempted writes:\n{}", w.join("\n"));
}

#[test]
fn the_write_detector_sees_a_write() {
    // The filter itself must catch a real write attempt, or the test above proves nothing.
    let line =
        "1234  openat(AT_FDCWD, \"/var/spool/postfix/pid/master.pid\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = -1 EACCES (Permission denied)";
    assert_eq!(writes(line, &["/tmp/out.json"]).len(), 1);
    assert_eq!(writes("1234  unlinkat(AT_FDCWD, \"/tmp/x\", 0) = 0", &[]).len(), 1);
    assert!(writes("1234  openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3", &[]).is_empty());
    assert!(
        writes("1234  openat(AT_FDCWD, \"/tmp/out.json\", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 3", &["/tmp/out.json"]).is_empty()
    );
}
