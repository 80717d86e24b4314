//! The `mailsleuth` command line: parse arguments (clap), dispatch to the library
//! (`mailsleuth::cli`, `report`), map outcomes to exit codes (AFTER_HELP).

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use mailsleuth::bundle::Bundle;
use mailsleuth::cli::{self, Fail};
use mailsleuth::kb::Knowledge;
use mailsleuth::report::human;
use mailsleuth::report::Report;
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Exit status of why and diagnose (the monitoring-plugin convention):
  0  OK: no problem found and every rule ran (or no mail system on this host)
  1  WARNING: the worst diagnosis has severity warning
  2  CRITICAL: a diagnosis of severity error or critical
  3  UNKNOWN: no problem found, but rules could not run (not root, --root, a partial bundle)
Other commands exit 0 when they did their work (rules test: 1 when a scenario failed;
rules lint: 2 when the knowledge base has errors).
  64 usage error, or the command could not run (unreadable bundle, broken rule file)

mailsleuth only reads: it never changes, repairs or restarts anything it inspects, and
never runs a fix command. Fixes are printed for you to review and run.";

#[derive(Parser)]
#[command(name = "mailsleuth", version, about = "Why is my mail deferred? Diagnoses Postfix, Dovecot, Courier and maildrop hosts.", after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Colour: auto (a terminal, NO_COLOR unset, TERM not dumb), always or never.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true)]
    color: ColorWhen,
    /// Print nothing on stdout for why/diagnose (the exit status is the answer) and no
    /// summary or progress on stderr; errors are still printed.
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Clone, Copy, Default, ValueEnum)]
enum ColorWhen {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// What every command's output depends on besides its own arguments.
#[derive(Clone, Copy)]
struct Out {
    color: Option<bool>,
    quiet: bool,
}

#[derive(Args, Clone, Default)]
struct Gather {
    /// Read every file under DIR instead of `/` (a copied-off filesystem, a test sysroot).
    /// Commands, sockets and DNS are not used then; the report says so.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Mail log to read (repeatable; - reads standard input); replaces log discovery. Read
    /// as given, not under --root.
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
        cli::window_spec(self.since.as_deref(), self.until.as_deref(), self.all_logs)
    }
}

impl Kb {
    fn load(&self) -> Result<Knowledge, Fail> {
        cli::load_kb(&self.rules, !self.no_system_rules)
    }
}

impl Gather {
    fn options(&self) -> Result<mailsleuth::observe::Options, Fail> {
        cli::gather_options(self.root.as_deref(), &self.logs, self.timeout)
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
        /// Output: human (a report to read) or json (a stable contract for tools).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// For one rule: each condition, whether it held, and against which facts.
        #[arg(long, value_name = "RULE-ID")]
        explain: Option<String>,
        /// Under "Not checked", the commands and raw errors, not only the short phrases.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Save the observations as a bundle, to diagnose elsewhere with `diagnose --bundle`.
    Collect {
        #[command(flatten)]
        gather: Gather,
        /// The bundle file to write (JSON).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Replace mail addresses, user names, IP addresses and host names by stable
        /// pseudonyms (the same value, the same token), so the bundle can go into a ticket.
        #[arg(long)]
        redact: bool,
    },
    /// Diagnose a bundle saved by `collect`, or mail logs alone (`--log`), offline.
    Diagnose {
        /// A bundle saved by `collect`.
        #[arg(long, value_name = "FILE", required_unless_present = "logs", conflicts_with = "logs")]
        bundle: Option<PathBuf>,
        /// A mail log to diagnose on its own (repeatable, oldest first; - reads standard
        /// input): configuration, files and services are then not observed, and the report
        /// says so.
        #[arg(long = "log", value_name = "FILE")]
        logs: Vec<PathBuf>,
        #[command(flatten)]
        window: LogWindow,
        #[command(flatten)]
        kb: Kb,
        /// Output: human (a report to read) or json (a stable contract for tools).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// For one rule: each condition, whether it held, and against which facts.
        #[arg(long, value_name = "RULE-ID")]
        explain: Option<String>,
        /// Under "Not checked", the commands and raw errors, not only the short phrases.
        #[arg(short, long)]
        verbose: bool,
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
        /// Output: human (a report to read) or json (a stable contract for tools).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// A monitoring plugin (Nagios, Icinga, Sensu): one status line with perfdata; exit 0 OK,
    /// 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage errors too, as the plugin guidelines ask).
    Check {
        #[command(flatten)]
        gather: Gather,
        /// Check a bundle saved by `collect` instead of this machine.
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
        #[command(flatten)]
        window: LogWindow,
        #[command(flatten)]
        kb: Kb,
        #[command(flatten)]
        thresholds: Thresholds,
    },
    /// Prometheus text exposition format (for node_exporter's textfile collector): verdict,
    /// diagnoses, failures by reason, queue sizes and ages, rule outcomes, collection time.
    Metrics {
        #[command(flatten)]
        gather: Gather,
        /// Read a bundle saved by `collect` instead of this machine.
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
        #[command(flatten)]
        window: LogWindow,
        #[command(flatten)]
        kb: Kb,
    },
    /// The queue as qshape(1) shows it: recipients by destination and by age, with the top
    /// deferral reasons of each destination (from `postqueue -j`).
    Queue {
        #[command(flatten)]
        gather: Gather,
        /// Read a bundle saved by `collect` instead of this machine.
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
        /// Only this queue (deferred, active, incoming, hold, maildrop); default: all.
        #[arg(long, value_name = "NAME")]
        queue: Option<String>,
        /// Destinations to show.
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// Output: human (a report to read) or json (a stable contract for tools).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Print a shell completion script (bash, zsh or fish) on stdout.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page (roff) on stdout: `mailsleuth man | man -l -`.
    Man,
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

/// `check` thresholds: WARNING at or above --warn-X, CRITICAL at or above --crit-X.
#[derive(Args, Clone, Default)]
struct Thresholds {
    /// WARNING when the log window holds at least N deferred messages.
    #[arg(long, value_name = "N")]
    warn_deferred: Option<u64>,
    /// CRITICAL when the log window holds at least N deferred messages.
    #[arg(long, value_name = "N")]
    crit_deferred: Option<u64>,
    /// WARNING when the log window holds at least N bounced messages.
    #[arg(long, value_name = "N")]
    warn_bounced: Option<u64>,
    /// CRITICAL when the log window holds at least N bounced messages.
    #[arg(long, value_name = "N")]
    crit_bounced: Option<u64>,
    /// WARNING when at least N messages are queued (all queues).
    #[arg(long, value_name = "N")]
    warn_queue: Option<u64>,
    /// CRITICAL when at least N messages are queued (all queues).
    #[arg(long, value_name = "N")]
    crit_queue: Option<u64>,
    /// WARNING when the oldest queued message is at least SECS old.
    #[arg(long, value_name = "SECS")]
    warn_queue_age: Option<u64>,
    /// CRITICAL when the oldest queued message is at least SECS old.
    #[arg(long, value_name = "SECS")]
    crit_queue_age: Option<u64>,
}

impl Thresholds {
    fn get(&self) -> mailsleuth::report::monitor::Thresholds {
        use mailsleuth::report::monitor::Threshold;
        mailsleuth::report::monitor::Thresholds {
            deferred: Threshold { warn: self.warn_deferred, crit: self.crit_deferred },
            bounced: Threshold { warn: self.warn_bounced, crit: self.crit_bounced },
            queue: Threshold { warn: self.warn_queue, crit: self.crit_queue },
            queue_age: Threshold { warn: self.warn_queue_age, crit: self.crit_queue_age },
        }
    }
}

#[derive(Subcommand)]
enum LogsCmd {
    /// Classify every line of a log (FILE, or - for standard input) against the signature catalogue.
    Classify {
        /// The log to read: FILE, or - for standard input.
        #[arg(default_value = "-")]
        input: PathBuf,
        #[command(flatten)]
        kb: Kb,
        /// Output: human (a report to read) or json (a stable contract for tools).
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
    /// Log files, oldest first (plain or .gz); - reads standard input (then every line is
    /// taken unless --since/--until, which count back from now).
    files: Vec<PathBuf>,
    /// Without FILE: read the host's mail logs under DIR instead of `/`.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(flatten)]
    window: LogWindow,
    #[command(flatten)]
    kb: Kb,
    /// Output: human (a report to read) or json (a stable contract for tools).
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
        /// Output: human (a report to read) or json (a stable contract for tools).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show one rule: its file and its RON source.
    Show {
        /// The rule id, e.g. permissions.tmp_blocks_maildrop.
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

fn main() -> ExitCode {
    // `mailsleuth facts | head`: end quietly when the reader goes away, like any Unix filter
    // (Rust ignores SIGPIPE by default, which turns it into a panic inside println!).
    // SAFETY: setting a signal disposition to the default before any thread exists.
    unsafe {
        let _ = nix::sys::signal::signal(nix::sys::signal::Signal::SIGPIPE, nix::sys::signal::SigHandler::SigDfl);
    }
    // A monitoring plugin's usage error is UNKNOWN (3), as the plugin guidelines ask.
    let plugin = std::env::args_os().nth(1).is_some_and(|a| a == "check");
    let usage = if plugin { 3 } else { cli::EXIT_USAGE };
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors; a usage error is 64, apart from the 0-3
            // that verdicts use.
            return ExitCode::from(if e.use_stderr() { usage } else { 0 });
        }
    };
    let cmd = cli.command.unwrap_or(Command::Why {
        gather: Gather { timeout: 5.0, ..Gather::default() },
        window: LogWindow::default(),
        kb: Kb::default(),
        format: Format::Human,
        explain: None,
        verbose: false,
    });
    let out = Out {
        color: match cli.color {
            ColorWhen::Auto => None,
            ColorWhen::Always => Some(true),
            ColorWhen::Never => Some(false),
        },
        quiet: cli.quiet,
    };
    match run(cmd, out) {
        Ok(code) => ExitCode::from(code),
        Err(Fail(msg)) if plugin => {
            // One line on stdout, as a plugin's output is read.
            println!("MAILSLEUTH UNKNOWN - {}", mailsleuth::text::sanitize(&msg).replace(['\n', '|'], " "));
            ExitCode::from(3)
        }
        Err(Fail(msg)) => {
            // An error may name a path or quote a bundle from the inspected system.
            eprintln!("mailsleuth: {}", mailsleuth::text::sanitize(&msg));
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}

fn run(cmd: Command, out: Out) -> Result<u8, Fail> {
    match cmd {
        Command::Why { gather, window, kb, format, explain, verbose } => {
            let spec = window.spec()?;
            let k = kb.load()?;
            let opts = mailsleuth::observe::Options { window: spec.clone(), ..gather.options()? };
            let bundle = cli::observe_host(&opts);
            diagnose_and_print(&bundle, &k, &spec, format, explain, verbose, out)
        }
        Command::Diagnose { bundle, logs, window, kb, format, explain, verbose } => {
            let spec = window.spec()?;
            let k = kb.load()?;
            let b = match bundle {
                Some(p) => mailsleuth::bundle::load(&p).map_err(Fail)?,
                None => cli::observe_logs(&logs, &spec),
            };
            diagnose_and_print(&b, &k, &spec, format, explain, verbose, out)
        }
        Command::Collect { gather, output, redact } => {
            let mut bundle = mailsleuth::observe::collect(&gather.options()?);
            if redact {
                let n = mailsleuth::bundle::redact::redact(&mut bundle);
                if !out.quiet {
                    eprintln!("mailsleuth: {n} names, addresses and networks replaced by pseudonyms");
                }
            }
            let said = cli::save_bundle(&bundle, &output)?;
            if !out.quiet {
                eprintln!("mailsleuth: {said}");
            }
            Ok(0)
        }
        Command::Facts { gather, bundle, window, kb, kind, format } => {
            let spec = window.spec()?;
            let k = kb.load()?;
            if let Some(kind) = &kind {
                cli::check_kind(&k, kind)?;
            }
            let b = match bundle {
                Some(p) => mailsleuth::bundle::load(&p).map_err(Fail)?,
                None => mailsleuth::observe::collect(&gather.options()?),
            };
            let facts = mailsleuth::facts::facts_in_window(&b, &k, &spec);
            match format {
                Format::Json => println!("{}", mailsleuth::report::facts::json(&b, &facts, kind.as_deref())?),
                Format::Human => print!("{}", mailsleuth::report::facts::human(&facts, kind.as_deref())),
            }
            Ok(0)
        }
        Command::Check { gather, bundle, window, kb, thresholds } => {
            let (report, _) = cli::diagnose_for_monitoring(bundle.as_deref(), &gather.options()?, &kb.load()?, &window.spec()?)?;
            let (line, verdict) = mailsleuth::report::monitor::check(&report, &thresholds.get());
            println!("{line}");
            Ok(verdict.code())
        }
        Command::Metrics { gather, bundle, window, kb } => {
            let (report, seconds) = cli::diagnose_for_monitoring(bundle.as_deref(), &gather.options()?, &kb.load()?, &window.spec()?)?;
            print!("{}", mailsleuth::report::monitor::metrics(&report, seconds));
            Ok(0)
        }
        Command::Queue { gather, bundle, queue, top, format } => {
            use mailsleuth::report::queue;
            let b = match bundle {
                Some(p) => mailsleuth::bundle::load(&p).map_err(Fail)?,
                None => mailsleuth::observe::collect(&gather.options()?),
            };
            let msgs = queue::messages(&b).map_err(|e| Fail(format!("the queue's destinations are unknown: {e}")))?;
            let rows = queue::rows(&msgs, b.created_at as i64, queue.as_deref());
            match format {
                Format::Json => println!("{}", queue::json(&rows)),
                Format::Human => print!("{}", queue::human(&rows, top, 3)),
            }
            Ok(0)
        }
        Command::Completions { shell } => {
            let shell = match shell {
                Shell::Bash => clap_complete::Shell::Bash,
                Shell::Zsh => clap_complete::Shell::Zsh,
                Shell::Fish => clap_complete::Shell::Fish,
            };
            clap_complete::generate(shell, &mut Cli::command(), "mailsleuth", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(0)
        }
        Command::Rules { action } => rules(action),
        Command::Logs { action: LogsCmd::Classify { input, kb, format, no_signatures } } => {
            let k = kb.load()?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            cli::classify(&k, &input, matches!(format, Format::Json), no_signatures, &mut out)?;
            Ok(0)
        }
        Command::Signatures { action: SignaturesCmd::New { spec, line, category, dir } } => {
            let p = mailsleuth::scaffold::new_signature(&dir, &spec, &line, &category)?;
            println!("wrote {}", p.display());
            println!("Now: check the regex and the meaning, then `mailsleuth logs classify --rules DIR FILE` (DIR: the folder holding signatures/) or, in a checkout, `cargo test --test signatures`.");
            Ok(0)
        }
        Command::Logs { action: LogsCmd::Stats { input, top } } => log_report(&input, top, false, out),
        Command::Logs { action: LogsCmd::Unknown { input, top } } => log_report(&input, top, true, out),
    }
}

fn diagnose_and_print(
    bundle: &Bundle,
    k: &Knowledge,
    window: &mailsleuth::time::WindowSpec,
    format: Format,
    explain: Option<String>,
    verbose: bool,
    out: Out,
) -> Result<u8, Fail> {
    let report: Report = mailsleuth::diagnose_in_window(bundle, k, window);
    if let Some(id) = explain {
        print!("{}", mailsleuth::report::explain::render(&report, k, &id).map_err(Fail)?);
        return Ok(0);
    }
    match format {
        _ if out.quiet => {}
        Format::Json => println!("{}", report.to_json()),
        Format::Human => print!("{}", human::render(&report, cli::style(out.color, verbose))),
    }
    Ok(report.exit_code() as u8)
}

fn log_report(input: &LogInput, top: usize, unknown: bool, out: Out) -> Result<u8, Fail> {
    use mailsleuth::report::logstats;
    let spec = input.window.spec()?;
    let k = input.kb.load()?;
    let stats = cli::with_progress(out.quiet, || cli::log_stats(&input.files, input.root.as_deref(), &k, &spec, unknown, input.threads))?;
    match (input.format, unknown) {
        (Format::Json, false) => println!("{}", logstats::to_json(&stats)),
        (Format::Json, true) => println!("{}", logstats::unknown_json(&stats, top)),
        (Format::Human, false) => print!("{}", logstats::human(&stats, top)),
        (Format::Human, true) => print!("{}", logstats::unknown_human(&stats, top)),
    }
    Ok(0)
}

fn rules(action: RulesCmd) -> Result<u8, Fail> {
    match action {
        RulesCmd::List { kb, format } => print!("{}", cli::rules_list(&kb.load()?, matches!(format, Format::Json))?),
        RulesCmd::Show { id, kb } => print!("{}", cli::rules_show(&kb.load()?, &id)?),
        RulesCmd::Lint { kb } => {
            let (text, code) = cli::rules_lint(&kb.rules, !kb.no_system_rules);
            print!("{text}");
            return Ok(code);
        }
        RulesCmd::Graph { kb } => print!("{}", mailsleuth::kb::graph::to_dot(&kb.load()?)),
        RulesCmd::Test { dir, kb } => {
            let (text, code) = cli::rules_test(&kb.load()?, &dir)?;
            print!("{text}");
            return Ok(code);
        }
        RulesCmd::New { spec, dir } => print!("{}", cli::rules_new(&dir, &spec)?),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument and option of every command has help text, and clap's own checks pass.
    #[test]
    fn every_option_has_help() {
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in c.get_arguments() {
                let id = a.get_id().as_str();
                if id != "help" && id != "version" && a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in c.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let cmd = Cli::command();
        cmd.clone().debug_assert();
        let mut missing = Vec::new();
        walk(&cmd, "mailsleuth", &mut missing);
        assert!(missing.is_empty(), "options without help: {missing:?}");
    }
}
