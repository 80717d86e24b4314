//! The human report: what a senior admin would say. The root cause first, in one sentence;
//! the evidence beneath it (stat line, config value, log lines as `file:line: text`); the
//! fix commands; then the symptoms it explains; last, what could not be checked and why.
//! Colour only on a terminal and never with NO_COLOR.

use super::Report;
use crate::engine::Diagnosis;
use crate::kb::rule::RuleKind;
use crate::text::{sanitize, thousands};
use std::fmt::Write;

#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    /// "Not checked" with the raw commands and errors, not only the short phrases.
    pub verbose: bool,
    /// Columns to wrap prose to.
    pub width: usize,
    /// ASCII stand-ins for the glyphs (✓ ✗ → ↳ — · … ×): the locale is not UTF-8.
    pub ascii: bool,
}

impl Style {
    /// Colour when stdout is a terminal and NO_COLOR is unset or empty (and TERM is not
    /// dumb); the terminal's width; ASCII when the locale is not UTF-8.
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Style { color: !no_color && !dumb && std::io::stdout().is_terminal(), ..Style::plain() }
    }
    /// No colour, short "Not checked" phrases, 100 columns, UTF-8 glyphs.
    pub fn plain() -> Style {
        Style { color: false, verbose: false, width: 100, ascii: false }
    }
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn red(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.paint("1;33", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn green(&self, s: &str) -> String {
        self.paint("1;32", s)
    }
}

fn kind_word(k: RuleKind) -> &'static str {
    match k {
        RuleKind::RootCause => "root cause",
        RuleKind::Symptom => "symptom",
        RuleKind::Derived => "derived",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn render(r: &Report, st: Style) -> String {
    let mut s = String::new();
    let host = sanitize(&r.host);
    let head = if r.log_only {
        "mailsleuth — why is mail deferred, from this log?".to_string()
    } else {
        format!("mailsleuth — why is mail deferred on {host}?")
    };
    let _ = writeln!(s, "{}", st.bold(&head));
    if r.log_only {
        let _ = writeln!(s, "{}", st.dim("(log only: configuration, files and services not observed)"));
    } else if !r.live {
        let _ = writeln!(s, "{}", st.dim("(files read under --root; commands, sockets and DNS were not used)"));
    }
    let _ = writeln!(s);
    let undiagnosed: Vec<&str> = r.mta.iter().filter(|m| !m.diagnosed).map(|m| m.label.as_str()).collect();
    if !undiagnosed.is_empty() && !r.mta.iter().any(|m| m.diagnosed) {
        let _ = writeln!(
            s,
            "{}",
            st.yellow(&format!(
                "This host's MTA is {}: mailsleuth diagnoses Postfix and Courier MTA only, so its queue, configuration and log lines are not diagnosed; what follows covers the rest (files, mailboxes, delivery agents, services).",
                undiagnosed.join(" and ")
            ))
        );
        let _ = writeln!(s);
    }

    if r.mail_system.is_empty() && r.diagnoses.is_empty() && !r.log_only {
        let _ = writeln!(
            s,
            "No mail system found on this host: none of Postfix, Dovecot, maildrop, procmail, Courier, Exim or sendmail is installed, and no mail log shows a problem. Nothing to diagnose."
        );
        footer(r, &mut s, st);
        return if st.ascii { ascii(&s) } else { s };
    }

    let roots: Vec<&Diagnosis> = r.diagnoses.iter().filter(|d| d.kind == RuleKind::RootCause && !d.latent).collect();
    let latent: Vec<&Diagnosis> = r.diagnoses.iter().filter(|d| d.kind == RuleKind::RootCause && d.latent).collect();
    // Symptoms explained by a fired root cause are folded under it, not listed again.
    let loose: Vec<&Diagnosis> = r.diagnoses.iter().filter(|d| d.kind == RuleKind::Symptom && d.explained_by.is_empty()).collect();

    if r.diagnoses.is_empty() && r.verdict == super::verdict::Verdict::Unknown {
        // Never a false all-clear: what ran found nothing, but what matters did not all run.
        let nc = r.not_checked.as_ref().map(|n| n.sentence()).unwrap_or_default();
        let head = format!(
            "{} Not fully checked: {nc}. No problem found by the {} that ran.",
            st.yellow("?"),
            plural(r.rules.passed + r.rules.fired, "rule", "rules")
        );
        for line in wrap(&head, st.width) {
            let _ = writeln!(s, "{line}");
        }
    } else if r.diagnoses.is_empty() {
        let scope = if r.log_only { " in this log (the host was not observed)" } else { "" };
        let _ = writeln!(
            s,
            "{} No problem found{scope} by {} that could be checked.",
            st.green("✓"),
            plural(r.rules.passed + r.rules.fired, "rule", "rules")
        );
    } else {
        let symptoms = r.diagnoses.iter().filter(|d| d.kind == RuleKind::Symptom).count();
        let head = if roots.is_empty() {
            format!("No root cause identified for {} (checked what could be observed)", plural(symptoms, "symptom", "symptoms"))
        } else {
            let mut h = plural(roots.len(), "root cause", "root causes");
            let explained = r.diagnoses.iter().filter(|d| d.kind == RuleKind::Symptom && !d.explained_by.is_empty()).count();
            if explained > 0 {
                h.push_str(&format!(", explaining {}", plural(explained, "symptom", "symptoms")));
            }
            if !loose.is_empty() {
                h.push_str(&format!("; {} without a known cause", plural(loose.len(), "symptom", "symptoms")));
            }
            h
        };
        let _ = writeln!(s, "{} {head}.", st.red("✗"));
    }
    for line in accounting_lines(r) {
        let _ = writeln!(s, "{line}");
    }

    let mut n = 0;
    for d in roots.iter().chain(loose.iter()) {
        n += 1;
        let _ = writeln!(s);
        diagnosis(r, d, n, &mut s, st);
    }
    if !latent.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", st.bold("Latent risks (they explain none of the failures in the log):"));
        for d in latent {
            n += 1;
            let _ = writeln!(s);
            diagnosis(r, d, n, &mut s, st);
        }
    }
    footer(r, &mut s, st);
    if st.ascii {
        s = ascii(&s);
    }
    s
}

/// ASCII stand-ins for the report's glyphs, for a terminal whose locale is not UTF-8.
pub fn ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '✓' => out.push_str("OK"),
            '✗' => out.push('X'),
            '→' | '↳' => out.push_str("->"),
            '—' => out.push_str("--"),
            '·' => out.push('|'),
            '…' => out.push_str("..."),
            '×' => out.push('x'),
            c => out.push(c),
        }
    }
    out
}

fn diagnosis(r: &Report, d: &Diagnosis, n: usize, s: &mut String, st: Style) {
    let title = sanitize(&d.title);
    let head = format!("{n}. {title}");
    let _ = writeln!(s, "{}", if d.kind == RuleKind::RootCause { st.red(&head) } else { st.yellow(&head) });
    let basis = if d.basis == crate::engine::Basis::LogOnly { " · from the log only" } else { "" };
    let _ = writeln!(
        s,
        "   {}",
        st.dim(&format!("{} · {:?} · confidence {:.2}{basis} · rule {}", kind_word(d.kind), d.severity, d.confidence, d.id).to_lowercase())
    );
    if d.kind == RuleKind::Symptom {
        // No root cause explains it: the description carries the admin's next steps.
        for line in wrap(&d.description, st.width.saturating_sub(4).max(40)) {
            let _ = writeln!(s, "   {line}");
        }
    }
    if !d.evidence.is_empty() {
        let _ = writeln!(s, "   Evidence:");
        for e in &d.evidence {
            let text = sanitize(&e.text);
            if e.source == "mailsleuth" {
                let _ = writeln!(s, "     → {text}");
            } else {
                let _ = writeln!(s, "     {}: {text}", st.dim(&sanitize(&e.source)));
            }
        }
    }
    if !d.fix.is_empty() {
        let head = if d.basis == crate::engine::Basis::LogOnly {
            "   Check, then fix (run it yourself; mailsleuth changes nothing):"
        } else {
            "   Fix (run it yourself; mailsleuth changes nothing):"
        };
        let _ = writeln!(s, "{head}");
        for f in &d.fix {
            let _ = writeln!(s, "     {}", st.bold(f));
        }
    }
    let explained: Vec<&Diagnosis> = r.diagnoses.iter().filter(|x| d.explains.contains(&x.id)).collect();
    if !explained.is_empty() {
        let _ = writeln!(s, "   Explains:");
        for x in explained {
            let _ = writeln!(s, "     ↳ {} {}", sanitize(&x.title), st.dim(&format!("({})", x.id)));
            // One line of its own evidence, unless the root cause already showed it.
            if let Some(e) = x.evidence.iter().find(|e| e.source != "mailsleuth" && !d.evidence.contains(e)) {
                let _ = writeln!(s, "       {}: {}", st.dim(&sanitize(&e.source)), sanitize(&e.text));
            }
        }
    }
    if !d.references.is_empty() {
        let _ = writeln!(s, "   See: {}", d.references.join(", "));
    }
}

/// The accounting in two or three lines: what the diagnoses explain of the failures seen,
/// and the reasons nothing explains, most frequent first.
fn accounting_lines(r: &Report) -> Vec<String> {
    let a = &r.accounting;
    if a.is_empty() {
        return Vec::new();
    }
    let names =
        [("deferred", "deferred messages"), ("bounced", "bounced messages"), ("expired", "expired messages"), ("reject", "reject lines")];
    let mut parts = Vec::new();
    let mut unexplained = Vec::new();
    for (status, name) in names {
        let s = a.status(status);
        if s.total == 0 {
            continue;
        }
        let pct = s.explained * 100 / s.total;
        parts.push(format!("{} of {} {name} ({pct}%)", thousands(s.explained), thousands(s.total)));
        for u in &s.unexplained {
            unexplained.push((u.count, status, u));
        }
    }
    let mut out = vec![format!("Explains {}.", parts.join(", "))];
    if !unexplained.is_empty() {
        unexplained.sort_by(|x, y| y.0.cmp(&x.0).then(x.2.reason.cmp(&y.2.reason)));
        let total: u64 = unexplained.iter().map(|u| u.0).sum();
        let shown: Vec<String> = unexplained
            .iter()
            .take(3)
            .map(|(n, status, u)| {
                format!("{} {status} × {} [{}]", thousands(*n), sanitize(&crate::text::truncate_chars(&u.reason, 90)), u.category)
            })
            .collect();
        let more = unexplained.len().saturating_sub(3);
        let tail = if more > 0 { format!("; and {more} more reasons") } else { String::new() };
        out.push(format!("Unexplained ({}): {}{tail}.", thousands(total), shown.join("; ")));
    }
    if a.expired_without_reason > 0 {
        out.push(format!("{} expired messages had their deferrals logged before the window.", thousands(a.expired_without_reason)));
    }
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for w in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

fn footer(r: &Report, s: &mut String, st: Style) {
    if !r.withdrawn.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", st.bold("Withdrawn (the log suggested it; the host refutes it):"));
        for w in &r.withdrawn {
            let _ = writeln!(s, "  - {} {}: {}", sanitize(&w.title), st.dim(&format!("({})", w.id)), sanitize(&w.why));
            if let Some(e) = w.evidence.first() {
                let _ = writeln!(s, "      {}: {}", st.dim(&sanitize(&e.source)), sanitize(&e.text));
            }
        }
    }
    if !r.unavailable.is_empty() && st.verbose {
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", st.bold("Not checked (could not observe):"));
        for u in &r.unavailable {
            let mut line = format!("  - {}: {}", sanitize(&u.what), sanitize(&u.why));
            if !u.rules_skipped.is_empty() {
                line.push_str(&format!(" → skipped: {}", u.rules_skipped.join(", ")));
            }
            let _ = writeln!(s, "{line}");
        }
    } else if !r.unavailable.is_empty() {
        // One short phrase per group, wrapped; the commands and raw errors are in --verbose
        // and JSON.
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", st.bold("Not checked (--verbose for the commands and errors):"));
        let mut seen: Vec<(String, Vec<&str>)> = Vec::new();
        for u in &r.unavailable {
            let phrase = sanitize(&u.summary).into_owned();
            let i = match seen.iter().position(|(p, _)| *p == phrase) {
                Some(i) => i,
                None => {
                    seen.push((phrase, Vec::new()));
                    seen.len() - 1
                }
            };
            for rule in &u.rules_skipped {
                if !seen[i].1.contains(&rule.as_str()) {
                    seen[i].1.push(rule);
                }
            }
        }
        for (phrase, rules) in seen {
            let n = rules.len();
            let line = if n > 0 { format!("{phrase} ({} skipped)", plural(n, "rule", "rules")) } else { phrase };
            for (i, l) in wrap(&line, st.width.saturating_sub(4).max(40)).into_iter().enumerate() {
                let _ = writeln!(s, "{}{l}", if i == 0 { "  - " } else { "    " });
            }
        }
    }
    for e in &r.rule_errors {
        let _ = writeln!(s, "{}", st.red(&format!("rule {} failed: {}", e.rule, e.detail)));
    }
    let _ = writeln!(s);
    let l = &r.logs;
    if l.log_lines_outside_window > 0 {
        let since = l.log_window_since.as_deref().map(|t| format!(" since {t}")).unwrap_or_default();
        let until = l.log_window_until.as_deref().map(|t| format!(" until {t}")).unwrap_or_default();
        let _ = writeln!(
            s,
            "{}",
            st.dim(&format!(
                "Log window:{since}{until} ({} older or newer lines left out; --since, --until or --all-logs to change it).",
                l.log_lines_outside_window
            ))
        );
    }
    let _ = writeln!(
        s,
        "{}",
        st.dim(&format!(
            "Read {}, {} ({} matched a signature, {} skipped as garbage); {} facts; {} rules: {} fired, {} passed, {} skipped, {} failed.",
            plural(l.log_files as usize, "log file", "log files"),
            plural(l.log_lines as usize, "line", "lines"),
            l.log_lines_matched,
            l.log_lines_skipped,
            r.facts,
            r.rules.fired + r.rules.passed + r.rules.skipped + r.rules.error,
            r.rules.fired,
            r.rules.passed,
            r.rules.skipped,
            r.rules.error
        ))
    );
}
