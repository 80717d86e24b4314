//! Running commands on a live host, each with a timeout. Only read-only commands are run
//! (`postconf`, `postqueue -j`, `doveconf -n`, ...); never anything that changes state.
//! Under `--root` no command runs and a `NotRun` observation says so.

use crate::bundle::{Failure, Payload, Source};

use super::{Options, Recorder};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Largest command output kept.
const OUTPUT_CAP: usize = 16 << 20;

/// Postfix's configuration, and on a live host the other read-only commands that need
/// nothing gathered before them: the queue, Dovecot's effective configuration, the FQDN.
/// They run concurrently: a Postfix command that hits a fatal error sleeps a second before
/// exiting, and a sick host is exactly where that happens.
pub fn collect_postconf(opts: &Options, rec: &mut Recorder) {
    // The compiled-in defaults of the parameters mailsleuth reasons about.
    let mut defaults = vec!["postconf", "-d"];
    defaults.extend(crate::kb::reference::postfix_defaults().keys().map(String::as_str));
    let cmds: Vec<Vec<&str>> = vec![
        vec!["postconf", "-n"],
        defaults,
        vec!["postconf", "-M"],
        vec!["postqueue", "-j"],
        vec!["doveconf", "-n"],
        vec!["hostname", "-f"],
    ];
    run_many(opts, rec, &cmds);
}

/// Run several commands at once (each with the timeout) and record them in the given order.
pub fn run_many(opts: &Options, rec: &mut Recorder, cmds: &[Vec<&str>]) {
    if !opts.live() {
        for argv in cmds {
            run(opts, rec, argv);
        }
        return;
    }
    let timeout = opts.command_timeout;
    let results: Vec<(Payload, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = cmds
            .iter()
            .map(|argv| {
                s.spawn(move || {
                    let start = Instant::now();
                    let p = run_with_timeout(argv, timeout);
                    (p, start.elapsed().as_millis() as u64)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((Payload::Failed { failure: Failure::Io, message: "command thread panicked".into() }, 0)))
            .collect()
    });
    for (argv, (payload, ms)) in cmds.iter().zip(results) {
        rec.push(Source::Command { argv: argv.iter().map(|s| s.to_string()).collect() }, payload, ms);
    }
}

/// Run `argv` with the configured timeout and record its standard output.
pub fn run(opts: &Options, rec: &mut Recorder, argv: &[&str]) -> u32 {
    let source = Source::Command { argv: argv.iter().map(|s| s.to_string()).collect() };
    if !opts.live() {
        return rec.record(source, || Payload::Failed { failure: Failure::NotRun, message: "--root given: commands are not run".into() });
    }
    let timeout = opts.command_timeout;
    rec.record(source, || run_with_timeout(argv, timeout))
}

pub fn run_with_timeout(argv: &[&str], timeout: Duration) -> Payload {
    let Some((prog, args)) = argv.split_first() else {
        return Payload::Failed { failure: Failure::Io, message: "empty command".into() };
    };
    // Its own process group, so that at the deadline the whole tree is killed: a `postconf`
    // that is a shell script running `sleep` leaves a grandchild holding the pipes otherwise.
    let mut child = match Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("LC_ALL", "C")
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Payload::Failed { failure: Failure::NotInstalled, message: format!("{prog}: not found") }
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Payload::Failed { failure: Failure::PermissionDenied, message: format!("{prog}: permission denied") }
        }
        Err(e) => return Payload::Failed { failure: Failure::Io, message: format!("{prog}: {e}") },
    };
    // Read both pipes on threads so a chatty command cannot block on a full pipe. The threads
    // report through a channel: waiting on it is bounded, joining them would not be (a
    // process outside the group may keep a pipe open for ever; its thread is then left behind).
    let (tx, rx) = mpsc::channel::<(bool, Vec<u8>)>();
    for (is_err, pipe) in [
        (false, child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
        (true, child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
    ] {
        if let Some(pipe) = pipe {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send((is_err, drain(pipe)));
            });
        }
    }
    drop(tx);
    let start = Instant::now();
    let deadline = start + timeout;
    let kill_group = |child: &std::process::Child| {
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
    };
    let mut status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() >= deadline => {
                kill_group(&child);
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut open = 2;
    let mut killed = status.is_none();
    while open > 0 {
        // Until the deadline for a command that ended; a short grace once the group is killed.
        let until = if killed { Instant::now().max(deadline) + Duration::from_millis(200) } else { deadline };
        match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok((false, b)) => (stdout, open) = (b, open - 1),
            Ok((true, b)) => (stderr, open) = (b, open - 1),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if !killed => {
                // The command ended but something it started still holds its output.
                kill_group(&child);
                killed = true;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                status = None;
                break;
            }
        }
    }
    let Some(status) = status else {
        return Payload::Failed { failure: Failure::TimedOut, message: format!("{prog}: timed out after {} s", timeout.as_secs_f32()) };
    };
    let code = status.code().unwrap_or(-1);
    if code != 0 && stdout.is_empty() {
        let msg = String::from_utf8_lossy(&stderr).lines().next().unwrap_or("").trim().to_string();
        return Payload::Failed { failure: Failure::Io, message: format!("{prog}: exit {code}: {msg}") };
    }
    let (text, lossy) = match String::from_utf8(stdout) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    Payload::Text { text, first_line: 1, skipped_bytes: 0, lossy, exit: Some(code) }
}

fn drain(mut r: impl Read) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = r.by_ref().take(OUTPUT_CAP as u64).read_to_end(&mut buf);
    // Keep draining so the child never blocks, but discard the excess.
    let _ = std::io::copy(&mut r, &mut std::io::sink());
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_binary_is_an_observation_not_an_error() {
        let p = run_with_timeout(&["mailsleuth-no-such-binary"], Duration::from_secs(1));
        assert!(matches!(p, Payload::Failed { failure: Failure::NotInstalled, .. }), "{p:?}");
    }

    #[test]
    fn a_hanging_command_is_killed_at_the_timeout() {
        let p = run_with_timeout(&["sleep", "10"], Duration::from_millis(200));
        assert!(matches!(p, Payload::Failed { failure: Failure::TimedOut, .. }), "{p:?}");
    }

    #[test]
    fn a_command_whose_child_hangs_is_killed_with_its_group_at_the_timeout() {
        let start = Instant::now();
        let p = run_with_timeout(&["sh", "-c", "echo partial; sleep 25; echo done"], Duration::from_millis(500));
        assert!(matches!(p, Payload::Failed { failure: Failure::TimedOut, .. }), "{p:?}");
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    }

    #[test]
    fn a_background_grandchild_holding_the_pipe_does_not_hang_us() {
        let start = Instant::now();
        // setsid puts the grandchild outside our group: it cannot be killed, only left behind.
        let _ = run_with_timeout(&["sh", "-c", "setsid sleep 25 & echo ok"], Duration::from_millis(500));
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    }

    #[test]
    fn output_is_captured() {
        let p = run_with_timeout(&["echo", "queue_directory = /var/spool/postfix"], Duration::from_secs(5));
        let Payload::Text { text, exit, .. } = p else { panic!("{p:?}") };
        assert_eq!(text, "queue_directory = /var/spool/postfix\n");
        assert_eq!(exit, Some(0));
    }
}
