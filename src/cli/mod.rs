//! What the `mailsleuth` command line does, as library calls: `main.rs` parses the
//! arguments (clap) and dispatches here. Every function returns what to print and an exit
//! status, or a [`Fail`]: nothing here parses arguments, and nothing in main.rs knows how a
//! knowledge base is loaded or a log is read.

use crate::bundle::Bundle;
use crate::kb::Knowledge;
use crate::observe::{self, Options};
use crate::time::WindowSpec;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Exit status of a usage error or of a command that could not run at all (an unreadable
/// bundle, a broken rule file, a bad option value): 64, sysexits' EX_USAGE, outside the
/// monitoring-plugin range 0–3 that verdicts use.
pub const EXIT_USAGE: u8 = 64;

/// An error to print on stderr (sanitised) with exit status [`EXIT_USAGE`].
#[derive(Debug)]
pub struct Fail(pub String);

impl<E: std::fmt::Display> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.to_string())
    }
}

/// The embedded knowledge base plus `rules` directories (and /etc/mailsleuth/rules.d when
/// `system`); a load error lists every problem.
pub fn load_kb(rules: &[PathBuf], system: bool) -> Result<Knowledge, Fail> {
    crate::load_knowledge(rules, system).map_err(|errs| {
        let lines: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        Fail(format!("the knowledge base has errors; nothing was loaded:\n{}", lines.join("\n")))
    })
}

/// The log window of `--since`/`--until`/`--all-logs`, with the bounds checked now (a bad
/// date is a usage error, not a silent empty window).
pub fn window_spec(since: Option<&str>, until: Option<&str>, all: bool) -> Result<WindowSpec, Fail> {
    for v in since.iter().chain(until.iter()) {
        crate::time::parse_bound(v, 0).map_err(|e| Fail(format!("--since/--until {e}")))?;
    }
    Ok(WindowSpec { since: since.map(str::to_string), until: until.map(str::to_string), all })
}

/// Collection options from `--root`, `--log` and `--timeout`, checked.
pub fn gather_options(root: Option<&Path>, logs: &[PathBuf], timeout: f64) -> Result<Options, Fail> {
    if !(timeout > 0.0 && timeout <= 600.0) {
        return Err(Fail(format!("--timeout must be between 0 and 600 seconds, got {timeout}")));
    }
    let root = match root {
        Some(r) => {
            if !r.is_dir() {
                return Err(Fail(format!("--root {}: not a directory", r.display())));
            }
            std::fs::canonicalize(r)?
        }
        None => PathBuf::from("/"),
    };
    Ok(Options {
        root,
        logs: logs.iter().map(|p| p.display().to_string()).collect(),
        command_timeout: Duration::from_secs_f64(timeout),
        ..Options::default()
    })
}

/// `why`: observe this machine. A log given on a machine with no mail system is a log read
/// away from its host: nothing of this machine describes the host that wrote it, so only
/// the log is read.
pub fn observe_host(opts: &Options) -> Bundle {
    if !opts.logs.is_empty() && !observe::mail_system_present(opts) {
        observe::collect_log_only(opts)
    } else {
        observe::collect(opts)
    }
}

/// `diagnose --log`: the logs alone.
pub fn observe_logs(logs: &[PathBuf], window: &crate::time::WindowSpec) -> Bundle {
    observe::collect_log_only(&Options {
        logs: logs.iter().map(|p| p.display().to_string()).collect(),
        window: window.clone(),
        ..Options::default()
    })
}

/// `collect -o FILE`: write the bundle; the line to print on stderr.
pub fn save_bundle(bundle: &Bundle, output: &Path) -> Result<String, Fail> {
    let json = serde_json::to_string(bundle)?;
    std::fs::write(output, json).map_err(|e| Fail(format!("{}: {e}", output.display())))?;
    let failed = bundle.observations.iter().filter(|o| matches!(o.payload, crate::bundle::Payload::Failed { .. })).count();
    Ok(format!("{} observations saved to {} ({failed} could not be made)", bundle.observations.len(), output.display()))
}

/// `logs stats` / `logs unknown`: the files given, or the host's mail logs under `root`.
pub fn log_stats(
    files: &[PathBuf],
    root: Option<&Path>,
    k: &Knowledge,
    spec: &WindowSpec,
    unknown: bool,
    threads: Option<usize>,
) -> Result<crate::logscan::LogStats, Fail> {
    let files: Vec<(String, PathBuf)> = if files.is_empty() {
        observe::logs::discover_all(&gather_options(root, &[], 5.0)?)
    } else {
        files.iter().map(|p| (p.display().to_string(), p.clone())).collect()
    };
    let threads = threads.unwrap_or_else(crate::logscan::default_threads).max(1);
    crate::log_stats(&files, k, spec, unknown, threads).map_err(Fail)
}

/// `logs classify`: the signature of every line of `input` (`-`: standard input), streamed
/// to `out`. An overlong line (over 1 MiB, as the scanner's) is classified on its first MiB.
/// With `no_signatures`, only the program and structure layers classify (what a line no
/// signature knows would get).
pub fn classify(k: &Knowledge, input: &Path, json: bool, no_signatures: bool, out: &mut dyn Write) -> Result<(), Fail> {
    let exact: &[crate::kb::signature::Signature] = if no_signatures { &[] } else { &k.signatures };
    use std::io::{BufReader, Read};
    let reader: Box<dyn Read> = if input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(observe::fs::open_regular(input).map_err(|e| Fail(format!("{}: {e}", input.display())))?)
    };
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut buf = Vec::new();
    let mut n = 0u64;
    loop {
        if observe::logs::read_line_capped(&mut reader, &mut buf)?.0 == 0 {
            break;
        }
        n += 1;
        let line = String::from_utf8_lossy(&buf);
        let c = crate::logscan::classify::read_line(exact, &k.families, &line);
        if json {
            let v = serde_json::json!({
                "line": n,
                "signature": c.as_ref().map(|r| r.id.as_str()),
                "category": c.as_ref().map(|r| r.category.as_str()),
                "severity": c.as_ref().map(|r| r.severity.as_str()),
                "layer": c.as_ref().map(|r| r.layer.as_str()),
                "captures": c.as_ref().map(|r| r.captures.clone()).unwrap_or_default(),
            });
            writeln!(out, "{v}")?;
        } else {
            let label = c.as_ref().map(crate::logscan::classify::label).unwrap_or_else(|| "-".into());
            writeln!(out, "{n}\t{label}")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `rules list`.
pub fn rules_list(k: &Knowledge, json: bool) -> Result<String, Fail> {
    if json {
        let v: Vec<_> = k
            .rules
            .iter()
            .map(|r| serde_json::json!({"id": r.rule.id, "area": r.area(), "kind": r.rule.kind, "title": r.rule.title, "file": r.file}))
            .collect();
        return Ok(format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let mut s = String::new();
    for r in &k.rules {
        s.push_str(&format!("{:<44} {:<10} {}\n", r.rule.id, format!("{:?}", r.rule.kind), r.rule.title));
    }
    Ok(s)
}

/// `rules show ID`.
pub fn rules_show(k: &Knowledge, id: &str) -> Result<String, Fail> {
    let r = k.rule(id).ok_or_else(|| {
        let ids: Vec<&str> = k.rules.iter().map(|r| r.rule.id.as_str()).collect();
        let hint = crate::text::did_you_mean(id, ids.iter().copied()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
        Fail(format!("no rule `{id}`{hint}"))
    })?;
    Ok(format!("# {}\n{}\n", crate::text::sanitize(&r.file), r.text))
}

/// `rules lint`: the report and the exit status (2: the knowledge base has errors).
pub fn rules_lint(rules: &[PathBuf], system: bool) -> (String, u8) {
    let mut s = String::new();
    let k = match crate::load_knowledge(rules, system) {
        Ok(k) => k,
        Err(errs) => {
            for e in errs {
                // The file named may have any bytes in its name.
                s.push_str(&format!("error: {}\n", crate::text::sanitize(&e.to_string())));
            }
            return (s, 2);
        }
    };
    let diags = crate::kb::lint::check(&k);
    for d in &diags {
        s.push_str(&format!("{}\n", crate::text::sanitize(&d.to_string())));
    }
    s.push_str(&format!("{} rules, {} signatures: {} warnings, 0 errors\n", k.rules.len(), k.signatures.len(), diags.len()));
    (s, 0)
}

/// `rules test`: run every scenario under `dir`; the report and the exit status (1: a
/// scenario failed).
pub fn rules_test(k: &Knowledge, dir: &Path) -> Result<(String, u8), Fail> {
    use crate::scenario::{self, Outcome};
    let dirs = scenario::discover(dir);
    if dirs.is_empty() {
        return Err(Fail(format!("{}: no scenario (a folder with expect.ron)", dir.display())));
    }
    let mut s = String::new();
    let (mut ok, mut failed, mut cannot) = (0, 0, 0);
    for d in dirs {
        let name = d.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
        match scenario::run(&d, k) {
            Ok(Outcome::Ran(r)) if r.failures.is_empty() => {
                ok += 1;
                let top = r.report.diagnoses.first().map(|x| x.id.as_str()).unwrap_or("(clean)");
                s.push_str(&format!("ok      {name}  [rank 1: {top}]\n"));
            }
            Ok(Outcome::Ran(r)) => {
                failed += 1;
                s.push_str(&format!("FAILED  {name}\n"));
                for f in &r.failures {
                    s.push_str(&format!("        {f}\n"));
                }
            }
            Ok(Outcome::CannotRun(why)) => {
                cannot += 1;
                s.push_str(&format!("not run {name}: {why}\n"));
            }
            Err(e) => {
                failed += 1;
                s.push_str(&format!("FAILED  {name}: {e}\n"));
            }
        }
    }
    s.push_str(&format!("{ok} passed, {failed} failed, {cannot} not run\n"));
    Ok((s, u8::from(failed > 0)))
}

/// `rules new AREA/NAME`.
pub fn rules_new(dir: &Path, spec: &str) -> Result<String, Fail> {
    let mut s = String::new();
    for p in crate::scaffold::new_rule(dir, spec)? {
        s.push_str(&format!("wrote {}\n", p.display()));
    }
    s.push_str("Now: fill in the rule, make the first scenario fire it and the near miss not, then run `mailsleuth rules lint` and `cargo test`.\n");
    Ok(s)
}

/// `check` and `metrics`: the report of a bundle, or of this machine, and the seconds
/// collection and diagnosis took.
pub fn diagnose_for_monitoring(
    bundle: Option<&Path>,
    opts: &Options,
    k: &Knowledge,
    spec: &WindowSpec,
) -> Result<(crate::report::Report, f64), Fail> {
    let t = std::time::Instant::now();
    let b = match bundle {
        Some(p) => crate::bundle::load(p).map_err(Fail)?,
        None => observe_host(opts),
    };
    let report = crate::diagnose_in_window(&b, k, spec);
    Ok((report, t.elapsed().as_secs_f64()))
}

/// `--color`: `Some(true)` always, `Some(false)` never, `None` auto (a terminal, NO_COLOR
/// unset or empty, TERM not dumb).
pub fn style(color: Option<bool>, verbose: bool) -> crate::report::human::Style {
    use std::io::IsTerminal;
    let tty = std::io::stdout().is_terminal();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let color = color.unwrap_or_else(|| tty && env("NO_COLOR").is_none() && env("TERM").is_none_or(|t| t != "dumb"));
    // The locale that decides the character set: LC_ALL, then LC_CTYPE, then LANG. A locale
    // that names another charset (C, POSIX, ISO-8859-1) gets ASCII glyphs; with none set, a
    // terminal gets ASCII (the C locale) and a pipe keeps UTF-8 (a file, a program).
    let locale = env("LC_ALL").or_else(|| env("LC_CTYPE")).or_else(|| env("LANG"));
    let utf8 = |l: &str| {
        let l = l.to_ascii_lowercase();
        l.contains("utf-8") || l.contains("utf8")
    };
    let ascii = match &locale {
        Some(l) => !utf8(l),
        None => tty,
    };
    let width = terminal_width().or_else(|| env("COLUMNS").and_then(|c| c.parse().ok())).unwrap_or(100).clamp(40, 200);
    crate::report::human::Style { color, verbose, width, ascii }
}

/// The width of the terminal on stdout, if it is one.
fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let mut ws = nix::libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct we own; fd 1 is open.
    let r = unsafe { nix::libc::ioctl(1, nix::libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

/// `facts --kind K`: K must be a kind the producers or the rules know; an unknown one is an
/// error naming the nearest kind, not an empty listing.
pub fn check_kind(k: &Knowledge, kind: &str) -> Result<(), Fail> {
    let all = k.all_kinds();
    if all.iter().any(|x| x == kind) {
        return Ok(());
    }
    let hint =
        crate::text::did_you_mean(kind, all.iter().map(String::as_str)).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
    Err(Fail(format!("--kind {kind}: no such fact kind{hint}; `mailsleuth facts` lists every fact with its kind")))
}

/// Run `work`, showing on stderr — only when stderr is a terminal, not `quiet`, and only
/// once the work has taken a second — the log bytes scanned so far and the rate, on one
/// line rewritten in place and erased at the end.
pub fn with_progress<T>(quiet: bool, work: impl FnOnce() -> T) -> T {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, Ordering};
    if quiet || !std::io::stderr().is_terminal() {
        return work();
    }
    let done = AtomicBool::new(false);
    let start = std::time::Instant::now();
    let base = observe::logs::BYTES_SCANNED.load(Ordering::Relaxed);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut shown = false;
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let t = start.elapsed();
                if t < Duration::from_secs(1) || done.load(Ordering::Relaxed) {
                    continue;
                }
                let bytes = observe::logs::BYTES_SCANNED.load(Ordering::Relaxed) - base;
                let rate = bytes as f64 / t.as_secs_f64();
                eprint!(
                    "\r\x1b[Kmailsleuth: read {} of log in {:.0} s ({}/s)",
                    crate::text::human_bytes(bytes as i64),
                    t.as_secs_f64(),
                    crate::text::human_bytes(rate as i64)
                );
                shown = true;
            }
            if shown {
                eprint!("\r\x1b[K");
            }
        });
        let out = work();
        done.store(true, Ordering::Relaxed);
        out
    })
}
