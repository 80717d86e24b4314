//! The `mailsleuth` command line: parse arguments, call the library, map outcomes to exit
//! codes (0: no problem found, 1: problems found, 2: usage or internal error).

use clap::{Args, Parser, Subcommand, ValueEnum};
use mailsleuth::bundle::Bundle;
use mailsleuth::kb::{lint, Knowledge};
use mailsleuth::observe::{self, Options};
use mailsleuth::report::human::{self, Style};
use mailsleuth::report::Report;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const AFTER_HELP: &str = "\
Exit status:
  0  no problem found (or nothing to diagnose: no mail system on this host)
  1  problems found (at least one diagnosis)
  2  usage error, unreadable bundle, broken rule file, or internal error

mailsleuth only reads: it never changes, repairs or restarts anything it inspects, and
never runs a fix command. Fixes are printed for you to review and run.";

#[derive(Parser)]
#[command(name = "mailsleuth", version, about = "Why is my mail deferred? Diagnoses Postfix, Dovecot, Courier and maildrop hosts.", after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args, Clone, Default)]
struct Gather {
    /// Read every file under DIR instead of `/` (a copied-off filesystem, a test sysroot).
    /// Commands, sockets and DNS are not used then; the report says so.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Mail log to read (repeatable); replaces log discovery. Read as given, not under --root.
    #[arg(long = "log", value_name = "FILE")]
    logs: Vec<PathBuf>,
    /// Timeout for each external command, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    timeout: f64,
}

#[derive(Args, Clone, Default)]
struct Kb {
    /// Extra directory of rule files (repeatable), loaded after the embedded knowledge base.
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// Do not read the system rules directory (/etc/mailsleuth/rules.d).
    #[arg(long)]
    no_system_rules: bool,
}

#[derive(Args, Clone, Default)]
struct LogWindow {
    /// Only log lines since then: a duration back from the newest line (2h, 30m, 3d) or a
    /// date (2026-11-23, 2026-11-23 08:00). Default: the last 24 hours of the newest line.
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only log lines until then (same forms as --since).
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,
    /// Every log line read, whatever its time.
    #[arg(long, conflicts_with_all = ["since", "until"])]
    all_logs: bool,
}

impl LogWindow {
    fn spec(&self) -> Result<mailsleuth::time::WindowSpec, Fail> {
        for v in self.since.iter().chain(&self.until) {
            mailsleuth::time::parse_bound(v, 0).map_err(|e| Fail(format!("--since/--until {e}")))?;
        }
        Ok(mailsleuth::time::WindowSpec { since: self.since.clone(), until: self.until.clone(), all: self.all_logs })
    }
}

#[derive(Clone, Copy, Default, ValueEnum)]
enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Gather facts from this machine and explain what is wrong (the default).
    Why {
        #[command(flatten)]
        gather: Gather,
        #[command(flatten)]
        window: LogWindow,
        #[command(flatten)]
        kb: Kb,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// For one rule: each condition, whether it held, and against which facts.
        #[arg(long, value_name = "RULE-ID")]
        explain: Option<String>,
    },
    /// Save the observations as a bundle, to diagnose elsewhere with `diagnose --bundle`.
    Collect {
        #[command(flatten)]
        gather: Gather,
        /// The bundle file to write (JSON).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Diagnose a bundle saved by `collect`, or mail logs alone (`--log`), offline.
    Diagnose {
        /// A bundle saved by `collect`.
        #[arg(long, value_name = "FILE", required_unless_present = "logs", conflicts_with = "logs")]
        bundle: Option<PathBuf>,
        /// A mail log to diagnose on its own (repeatable, oldest first): configuration,
        /// files and services are then not observed, and the report says so.
        #[arg(long = "log", value_name = "FILE")]
        logs: Vec<PathBuf>,
        #[command(flatten)]
        window: LogWindow,
        #[command(flatten)]
        kb: Kb,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        #[arg(long, value_name = "RULE-ID")]
        explain: Option<String>,
    },
    /// Show every fact gathered, with where it came from.
    Facts {
        #[command(flatten)]
        gather: Gather,
        /// Read the facts of a bundle instead of this machine.
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
        #[command(flatten)]
        window: LogWindow,
        #[command(flatten)]
        kb: Kb,
        /// Only facts of this kind.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The knowledge base: list, show, lint, graph, scaffold.
    Rules {
        #[command(subcommand)]
        action: RulesCmd,
    },
    /// Mail-log tools.
    Logs {
        #[command(subcommand)]
        action: LogsCmd,
    },
    /// The log-signature catalogue: scaffold a new signature from a sample line.
    Signatures {
        #[command(subcommand)]
        action: SignaturesCmd,
    },
}

#[derive(Subcommand)]
enum SignaturesCmd {
    /// Write DIR/signatures/PROGRAM/NAME.ron: a signature whose regex is the sample line's
    /// message generalised (ids, numbers, addresses, hosts) and whose example is the sample.
    New {
        /// PROGRAM/NAME, e.g. opendkim/key_not_secure
        spec: String,
        /// The sample log line (a sample of `logs unknown`).
        #[arg(long)]
        line: String,
        /// Its category (see the README's taxonomy).
        #[arg(long, default_value = "other")]
        category: String,
        /// `knowledge` in a project checkout, or a directory to give `--rules`.
        #[arg(long, value_name = "DIR", default_value = "knowledge")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum LogsCmd {
    /// Classify every line of a log (FILE, or - for standard input) against the signature catalogue.
    Classify {
        #[arg(default_value = "-")]
        input: PathBuf,
        #[command(flatten)]
        kb: Kb,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Skip the exact signatures: only the generic layers (program readings, structure)
        /// read the lines (what `scripts/eval-corpus.py --by-source` measures).
        #[arg(long)]
        no_signatures: bool,
    },
    /// Overview of mail logs: deliveries by status, deferral reasons by destination and by
    /// signature, the size split, warnings/fatals/panics, and trends. Without FILE: the mail
    /// logs of the host (under --root) and all their rotations.
    Stats {
        #[command(flatten)]
        input: LogInput,
        /// Rows per table in the human report.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// Group the problem lines (warning/error/fatal, deferred, bounced, reject) that no
    /// signature matched into templates, most frequent first: where new signatures come from.
    Unknown {
        #[command(flatten)]
        input: LogInput,
        /// Templates to show.
        #[arg(long, default_value_t = 25)]
        top: usize,
    },
}

#[derive(Args, Clone)]
struct LogInput {
    /// Log files, oldest first (plain or .gz).
    files: Vec<PathBuf>,
    /// Without FILE: read the host's mail logs under DIR instead of `/`.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(flatten)]
    window: LogWindow,
    #[command(flatten)]
    kb: Kb,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Threads (default: every core, at most 8).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Subcommand)]
enum RulesCmd {
    /// List every rule (id, area, kind, title).
    List {
        #[command(flatten)]
        kb: Kb,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show one rule: its file and its RON source.
    Show {
        id: String,
        #[command(flatten)]
        kb: Kb,
    },
    /// Check the knowledge base: errors (exit 2) and warnings.
    Lint {
        #[command(flatten)]
        kb: Kb,
    },
    /// Print the rule dependency graph as Graphviz DOT.
    Graph {
        #[command(flatten)]
        kb: Kb,
    },
    /// Run every scenario (tests/scenarios/*/expect.ron): what must fire, must not, rank 1.
    Test {
        /// The scenarios directory.
        #[arg(long, value_name = "DIR", default_value = "tests/scenarios")]
        dir: PathBuf,
        #[command(flatten)]
        kb: Kb,
    },
    /// Scaffold a new rule and its two scenarios (fires / near miss) in a project checkout.
    New {
        /// AREA/NAME, e.g. permissions/maildir_not_owned
        spec: String,
        /// The project checkout to write into.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
}

/// An error to print on stderr with exit status 2.
struct Fail(String);

impl<E: std::fmt::Display> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.to_string())
    }
}

fn main() -> ExitCode {
    // `mailsleuth facts | head`: end quietly when the reader goes away, like any Unix filter
    // (Rust ignores SIGPIPE by default, which turns it into a panic inside println!).
    // SAFETY: setting a signal disposition to the default before any thread exists.
    unsafe {
        let _ = nix::sys::signal::signal(nix::sys::signal::Signal::SIGPIPE, nix::sys::signal::SigHandler::SigDfl);
    }
    let cli = Cli::parse();
    let cmd = cli.command.unwrap_or(Command::Why {
        gather: Gather { timeout: 5.0, ..Gather::default() },
        window: LogWindow::default(),
        kb: Kb::default(),
        format: Format::Human,
        explain: None,
    });
    match run(cmd) {
        Ok(code) => ExitCode::from(code),
        Err(Fail(msg)) => {
            // An error may name a path or quote a bundle from the inspected system.
            eprintln!("mailsleuth: {}", mailsleuth::text::sanitize(&msg));
            ExitCode::from(2)
        }
    }
}

fn load_kb(kb: &Kb) -> Result<Knowledge, Fail> {
    mailsleuth::load_knowledge(&kb.rules, !kb.no_system_rules).map_err(|errs| {
        let lines: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        Fail(format!("the knowledge base has errors; nothing was loaded:\n{}", lines.join("\n")))
    })
}

fn options(g: &Gather) -> Result<Options, Fail> {
    if !(g.timeout > 0.0 && g.timeout <= 600.0) {
        return Err(Fail(format!("--timeout must be between 0 and 600 seconds, got {}", g.timeout)));
    }
    let root = match &g.root {
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
        logs: g.logs.iter().map(|p| p.display().to_string()).collect(),
        command_timeout: Duration::from_secs_f64(g.timeout),
        ..Options::default()
    })
}

fn read_bundle(path: &std::path::Path) -> Result<Bundle, Fail> {
    mailsleuth::bundle::load(path).map_err(Fail)
}

fn run(cmd: Command) -> Result<u8, Fail> {
    match cmd {
        Command::Why { gather, window, kb, format, explain } => {
            let spec = window.spec()?;
            let k = load_kb(&kb)?;
            let opts = options(&gather)?;
            // A log given on a machine with no mail system is a log read away from its
            // host: nothing of this machine describes the host that wrote it.
            let bundle = if !opts.logs.is_empty() && !observe::mail_system_present(&opts) {
                observe::collect_log_only(&opts)
            } else {
                observe::collect(&opts)
            };
            diagnose_and_print(&bundle, &k, &spec, format, explain)
        }
        Command::Diagnose { bundle, logs, window, kb, format, explain } => {
            let spec = window.spec()?;
            let k = load_kb(&kb)?;
            let b = match bundle {
                Some(p) => read_bundle(&p)?,
                None => observe::collect_log_only(&Options {
                    logs: logs.iter().map(|p| p.display().to_string()).collect(),
                    ..Options::default()
                }),
            };
            diagnose_and_print(&b, &k, &spec, format, explain)
        }
        Command::Collect { gather, output } => {
            let bundle = observe::collect(&options(&gather)?);
            let json = serde_json::to_string(&bundle)?;
            std::fs::write(&output, json).map_err(|e| Fail(format!("{}: {e}", output.display())))?;
            let failed = bundle.observations.iter().filter(|o| matches!(o.payload, mailsleuth::bundle::Payload::Failed { .. })).count();
            eprintln!("mailsleuth: {} observations saved to {} ({failed} could not be made)", bundle.observations.len(), output.display());
            Ok(0)
        }
        Command::Facts { gather, bundle, window, kb, kind, format } => {
            let spec = window.spec()?;
            let k = load_kb(&kb)?;
            let b = match bundle {
                Some(p) => read_bundle(&p)?,
                None => observe::collect(&options(&gather)?),
            };
            print_facts(&b, &k, &spec, kind.as_deref(), format)
        }
        Command::Rules { action } => rules(action),
        Command::Logs { action: LogsCmd::Classify { input, kb, format, no_signatures } } => {
            let k = load_kb(&kb)?;
            classify(&k, &input, format, no_signatures)
        }
        Command::Signatures { action: SignaturesCmd::New { spec, line, category, dir } } => {
            let p = mailsleuth::scaffold::new_signature(&dir, &spec, &line, &category)?;
            println!("wrote {}", p.display());
            println!("Now: check the regex and the meaning, then `mailsleuth logs classify --rules DIR FILE` (DIR: the folder holding signatures/) or, in a checkout, `cargo test --test signatures`.");
            Ok(0)
        }
        Command::Logs { action: LogsCmd::Stats { input, top } } => log_report(&input, top, false),
        Command::Logs { action: LogsCmd::Unknown { input, top } } => log_report(&input, top, true),
    }
}

fn diagnose_and_print(
    bundle: &Bundle,
    k: &Knowledge,
    window: &mailsleuth::time::WindowSpec,
    format: Format,
    explain: Option<String>,
) -> Result<u8, Fail> {
    let report: Report = mailsleuth::diagnose_in_window(bundle, k, window);
    if let Some(id) = explain {
        return print_explain(&report, k, &id);
    }
    match format {
        Format::Json => println!("{}", report.to_json()),
        Format::Human => print!("{}", human::render(&report, Style::detect())),
    }
    Ok(report.exit_code() as u8)
}

fn print_explain(report: &Report, k: &Knowledge, id: &str) -> Result<u8, Fail> {
    print!("{}", mailsleuth::report::explain::render(report, k, id).map_err(Fail)?);
    Ok(0)
}

fn print_facts(b: &Bundle, k: &Knowledge, window: &mailsleuth::time::WindowSpec, kind: Option<&str>, format: Format) -> Result<u8, Fail> {
    let facts = mailsleuth::facts::facts_in_window(b, k, window);
    match format {
        Format::Json => println!("{}", mailsleuth::report::facts::json(b, &facts, kind)?),
        Format::Human => print!("{}", mailsleuth::report::facts::human(&facts, kind)),
    }
    Ok(0)
}

fn log_report(input: &LogInput, top: usize, unknown: bool) -> Result<u8, Fail> {
    use mailsleuth::report::logstats;
    let spec = input.window.spec()?;
    let k = load_kb(&input.kb)?;
    let files: Vec<(String, PathBuf)> = if input.files.is_empty() {
        let opts = options(&Gather { root: input.root.clone(), timeout: 5.0, ..Gather::default() })?;
        observe::logs::discover_all(&opts)
    } else {
        input.files.iter().map(|p| (p.display().to_string(), p.clone())).collect()
    };
    let threads = input.threads.unwrap_or_else(mailsleuth::logscan::default_threads).max(1);
    let stats = mailsleuth::log_stats(&files, &k, &spec, unknown, threads).map_err(Fail)?;
    match (input.format, unknown) {
        (Format::Json, false) => println!("{}", logstats::to_json(&stats)),
        (Format::Json, true) => println!("{}", logstats::unknown_json(&stats, top)),
        (Format::Human, false) => print!("{}", logstats::human(&stats, top)),
        (Format::Human, true) => print!("{}", logstats::unknown_human(&stats, top)),
    }
    Ok(0)
}

fn classify(k: &Knowledge, input: &Path, format: Format, no_signatures: bool) -> Result<u8, Fail> {
    let exact: &[mailsleuth::kb::signature::Signature] = if no_signatures { &[] } else { &k.signatures };
    use std::io::{BufReader, Read, Write};
    let reader: Box<dyn Read> = if input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(observe::fs::open_regular(input).map_err(|e| Fail(format!("{}: {e}", input.display())))?)
    };
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let mut buf = Vec::new();
    let mut n = 0u64;
    loop {
        // An overlong line (over 1 MiB, as the scanner's) is classified on its first MiB.
        if observe::logs::read_line_capped(&mut reader, &mut buf)?.0 == 0 {
            break;
        }
        n += 1;
        let line = String::from_utf8_lossy(&buf);
        let c = mailsleuth::logscan::classify::read_line(exact, &k.families, &line);
        match format {
            Format::Json => {
                let v = serde_json::json!({
                    "line": n,
                    "signature": c.as_ref().map(|r| r.id.as_str()),
                    "category": c.as_ref().map(|r| r.category.as_str()),
                    "severity": c.as_ref().map(|r| r.severity.as_str()),
                    "layer": c.as_ref().map(|r| r.layer.as_str()),
                    "captures": c.as_ref().map(|r| r.captures.clone()).unwrap_or_default(),
                });
                writeln!(out, "{v}")?;
            }
            Format::Human => {
                let label = c.as_ref().map(mailsleuth::logscan::classify::label).unwrap_or_else(|| "-".into());
                writeln!(out, "{n}\t{label}")?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}

fn rules(action: RulesCmd) -> Result<u8, Fail> {
    match action {
        RulesCmd::List { kb, format } => {
            let k = load_kb(&kb)?;
            match format {
                Format::Json => {
                    let v: Vec<_> = k.rules.iter().map(|r| serde_json::json!({"id": r.rule.id, "area": r.area(), "kind": r.rule.kind, "title": r.rule.title, "file": r.file})).collect();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                }
                Format::Human => {
                    for r in &k.rules {
                        println!("{:<44} {:<10} {}", r.rule.id, format!("{:?}", r.rule.kind), r.rule.title);
                    }
                }
            }
            Ok(0)
        }
        RulesCmd::Show { id, kb } => {
            let k = load_kb(&kb)?;
            let r = k.rule(&id).ok_or_else(|| Fail(format!("no rule `{id}`")))?;
            println!("# {}\n{}", mailsleuth::text::sanitize(&r.file), r.text);
            Ok(0)
        }
        RulesCmd::Lint { kb } => {
            let k = match mailsleuth::load_knowledge(&kb.rules, !kb.no_system_rules) {
                Ok(k) => k,
                Err(errs) => {
                    for e in errs {
                        // The file named may have any bytes in its name.
                        println!("error: {}", mailsleuth::text::sanitize(&e.to_string()));
                    }
                    return Ok(2);
                }
            };
            let diags = lint::check(&k);
            for d in &diags {
                println!("{}", mailsleuth::text::sanitize(&d.to_string()));
            }
            println!("{} rules, {} signatures: {} warnings, 0 errors", k.rules.len(), k.signatures.len(), diags.len());
            Ok(0)
        }
        RulesCmd::Graph { kb } => {
            let k = load_kb(&kb)?;
            print!("{}", mailsleuth::kb::graph::to_dot(&k));
            Ok(0)
        }
        RulesCmd::Test { dir, kb } => {
            let k = load_kb(&kb)?;
            let dirs = mailsleuth::scenario::discover(&dir);
            if dirs.is_empty() {
                return Err(Fail(format!("{}: no scenario (a folder with expect.ron)", dir.display())));
            }
            let (mut ok, mut failed, mut cannot) = (0, 0, 0);
            for d in dirs {
                let name = d.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
                match mailsleuth::scenario::run(&d, &k) {
                    Ok(mailsleuth::scenario::Outcome::Ran(r)) if r.failures.is_empty() => {
                        ok += 1;
                        let top = r.report.diagnoses.first().map(|x| x.id.as_str()).unwrap_or("(clean)");
                        println!("ok      {name}  [rank 1: {top}]");
                    }
                    Ok(mailsleuth::scenario::Outcome::Ran(r)) => {
                        failed += 1;
                        println!("FAILED  {name}");
                        for f in &r.failures {
                            println!("        {f}");
                        }
                    }
                    Ok(mailsleuth::scenario::Outcome::CannotRun(why)) => {
                        cannot += 1;
                        println!("not run {name}: {why}");
                    }
                    Err(e) => {
                        failed += 1;
                        println!("FAILED  {name}: {e}");
                    }
                }
            }
            println!("{ok} passed, {failed} failed, {cannot} not run");
            Ok(if failed > 0 { 1 } else { 0 })
        }
        RulesCmd::New { spec, dir } => {
            for p in mailsleuth::scaffold::new_rule(&dir, &spec)? {
                println!("wrote {}", p.display());
            }
            println!("Now: fill in the rule, make the first scenario fire it and the near miss not, then run `mailsleuth rules lint` and `cargo test`.");
            Ok(0)
        }
    }
}
