//! The log-signature catalogue (`knowledge/signatures/<daemon>.ron`): one entry per known
//! log message, with a regex over the message text (after the syslog prefix), named
//! captures, a category from the shared taxonomy, a meaning for humans, and real example
//! lines that the test suite matches (fail2ban-style: each example carries its expected
//! captures).

use super::rule::Pattern;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The categories every signature must use, so results compare with labelled corpora.
pub const CATEGORIES: &[&str] = &[
    "ok",
    "deferred-connect-refused",
    "deferred-connect-timeout",
    "dns-lookup-failure",
    "dns-host-not-found",
    "relay-access-denied",
    "recipient-unknown",
    "mailbox-full-quota",
    "disk-full",
    "permission-denied",
    "tmp-file-failure",
    "delivery-agent-failure",
    "loops-back-to-myself",
    "tls-failure",
    "sasl-auth-failure",
    "imap-pop-auth-failure",
    "rbl-blocklisted",
    "greylisted",
    "rate-limited",
    "remote-rejected-policy",
    "milter-failure",
    "config-error",
    "database-older-than-source",
    "lookup-table-failure",
    "service-down/crash",
    "queue-file-corrupt",
    "size-limit-exceeded",
    "content-filter-failure",
    "lost-connection",
    "too-many-errors",
    "helo-reject",
    "other",
];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all(serialize = "snake_case"))]
pub enum LogSeverity {
    #[default]
    Info,
    Warning,
    Error,
    Fatal,
    Panic,
}

impl LogSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            LogSeverity::Info => "info",
            LogSeverity::Warning => "warning",
            LogSeverity::Error => "error",
            LogSeverity::Fatal => "fatal",
            LogSeverity::Panic => "panic",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    pub signatures: Vec<Signature>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// `<daemon>.<name>`, e.g. `maildrop.tmpfile`.
    pub id: String,
    /// Programs whose lines may match, by the last component of the syslog tag:
    /// `"local"` matches `postfix/local` and `postfix-out/local`; `"smtpd"` matches
    /// `postfix/submission/smtpd`. Empty: any program. A line without a syslog tag (test
    /// corpora, `journalctl -o cat`) is tried against every signature: its program is unknown.
    #[serde(default)]
    pub programs: Vec<String>,
    /// A literal every matching message contains: the cheap prefilter before the regex.
    #[serde(default)]
    pub literal: Option<String>,
    /// Regex over the message text, with named captures.
    pub regex: Pattern,
    pub category: String,
    pub severity: LogSeverity,
    pub meaning: String,
    /// Higher wins when several signatures match one line (specific over generic).
    #[serde(default)]
    pub priority: i32,
    /// `Signature` (the default): an exact message, matched by every scan. `Program`: the
    /// default reading of one program's error/warning/fatal lines (a content scanner that
    /// cannot connect, a DKIM milter's key error), tried by `logs classify` only after no
    /// exact signature matched; ids start with `generic.`. Program readings never reach the
    /// scan of `why` and `logs stats`, so `logs unknown` still lists what no exact signature
    /// knows, and rules on `log_signature` see only exact signatures.
    #[serde(default)]
    pub layer: Layer,
    pub examples: Vec<Example>,
}

/// Which layer of the classifier decided a line (`logs classify --format json`: `layer`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all(serialize = "snake_case"))]
pub enum Layer {
    /// An exact signature of the catalogue.
    #[default]
    Signature,
    /// A program's default reading of its problem lines (`knowledge/signatures/generic/`).
    Program,
    /// The structure of the line alone: severity word, RFC 3463 code, errno, service.
    Structure,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Signature => "signature",
            Layer::Program => "program",
            Layer::Structure => "structure",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub line: String,
    #[serde(default)]
    pub captures: BTreeMap<String, String>,
    /// Where the line came from (a lab capture, a documented format).
    #[serde(default)]
    pub source: Option<String>,
}

impl Signature {
    /// Whether this signature applies to lines of `program` (the syslog tag, if any).
    pub fn applies_to(&self, program: Option<&str>) -> bool {
        if self.programs.is_empty() {
            return true;
        }
        let Some(p) = program else { return true };
        let last = p.rsplit('/').next().unwrap_or(p);
        self.programs.iter().any(|want| want == last || want == p)
    }

    /// Match a message (the text after the syslog tag); returns the named captures.
    pub fn captures(&self, message: &str) -> Option<BTreeMap<String, String>> {
        if let Some(lit) = &self.literal {
            if !message.contains(lit.as_str()) {
                return None;
            }
        }
        let caps = self.regex.0.captures(message)?;
        let mut out = BTreeMap::new();
        for name in self.regex.0.capture_names().flatten() {
            if let Some(m) = caps.name(name) {
                out.insert(name.to_string(), m.as_str().to_string());
            }
        }
        Some(out)
    }
}
