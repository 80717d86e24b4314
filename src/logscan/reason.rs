//! The structure of a delivery failure, read from the line itself: the delivery agent, the
//! relay, the RFC 3463 DSN code, the shape of the reason (`connect to H[IP]:PORT: ERRNO`,
//! `host H[IP] said: CODE TEXT (in reply to CMD command)`, `delivery temporarily
//! suspended: INNER`, `Command output: …`, `…: ERRNO`), the errno, the path it names, and a
//! category derived from those alone.
//!
//! This is the generic reading of a status line that no signature knows: one mechanism
//! that reads the structure, not a regex per message. Pure: `&str` in, borrowed slices out;
//! no I/O, no facts, no knowledge base.

use super::line::field;

/// An RFC 3463 enhanced status code `class.subject.detail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dsn {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl Dsn {
    /// `4.3.0`, `5.1.1`: the first well-formed code in `s` (after a space, `(`, `=` or at the start).
    pub fn find(s: &str) -> Option<Dsn> {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            let starts = (c == b'2' || c == b'4' || c == b'5') && (i == 0 || matches!(b[i - 1], b' ' | b'(' | b'=' | b'#' | b'-'));
            if starts {
                if let Some(d) = Dsn::at(&s[i..]) {
                    return Some(d);
                }
            }
            i += 1;
        }
        None
    }

    fn at(s: &str) -> Option<Dsn> {
        let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
        let mut parts = s[..end].trim_end_matches('.').split('.');
        let class = parts.next()?.parse::<u8>().ok()?;
        let subject = parts.next()?;
        let detail = parts.next()?;
        if parts.next().is_some() || subject.is_empty() || subject.len() > 3 || detail.is_empty() || detail.len() > 3 {
            return None;
        }
        Some(Dsn { class, subject: subject.parse().ok()?, detail: detail.parse().ok()? })
    }

    pub fn text(&self) -> String {
        format!("{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// The shape of a reason: what kind of thing failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `connect to HOST[IP]:PORT: ERRNO`
    Connect,
    /// `host HOST[IP] said: CODE TEXT (in reply to CMD command)`
    RemoteReply,
    /// `… Command output: …`, `Command died with status N`, `Command time limit exceeded`
    Command,
    /// `lost connection with HOST[IP] while …`, `conversation with … timed out while …`
    Conversation,
    /// `Host or domain name not found`, `Name service error …`
    Dns,
    /// `…: ERRNO` at the end of a local operation (open, create, lock, write a file)
    Local,
    /// Anything else.
    Other,
}

impl Shape {
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Connect => "connect",
            Shape::RemoteReply => "remote-reply",
            Shape::Command => "command",
            Shape::Conversation => "conversation",
            Shape::Dns => "dns",
            Shape::Local => "local",
            Shape::Other => "other",
        }
    }
}

/// A delivery status line read into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure<'a> {
    /// `deferred`, `bounced`, `expired`, …
    pub status: &'a str,
    /// `relay=` value: `local`, `virtual`, `mx.example.net[192.0.2.1]:25`, `none`, `private/dovecot-lmtp`.
    pub relay: Option<&'a str>,
    pub dsn: Option<Dsn>,
    /// The text in the parentheses after `status=…`, without `delivery temporarily suspended:`.
    pub reason: &'a str,
    pub shape: Shape,
    /// Host and address a connection or a reply names (`mx.example.net`, `192.0.2.1`).
    pub host: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub port: Option<u16>,
    /// The SMTP command a remote reply answered (`RCPT`, `MAIL`, `end of DATA`, …).
    pub command: Option<&'a str>,
    /// The system error the reason ends with or names, in its usual wording.
    pub errno: Option<&'static str>,
    /// An absolute path the reason names (the file or directory that could not be used).
    pub path: Option<&'a str>,
    /// The category from the structure alone (the corpus taxonomy).
    pub category: &'static str,
}

/// errno texts and the category each implies, longest first where one contains another.
const ERRNOS: &[(&str, &str)] = &[
    ("Permission denied", "permission-denied"),
    ("Operation not permitted", "permission-denied"),
    ("Read-only file system", "permission-denied"),
    ("No space left on device", "disk-full"),
    ("Disk quota exceeded", "mailbox-full-quota"),
    ("File too large", "mailbox-full-quota"),
    ("Too many open files", "service-down/crash"),
    ("Connection refused", "deferred-connect-refused"),
    ("Connection timed out", "deferred-connect-timeout"),
    ("Connection reset by peer", "lost-connection"),
    ("Network is unreachable", "deferred-connect-timeout"),
    ("No route to host", "deferred-connect-timeout"),
    ("No such file or directory", "config-error"),
    ("Not a directory", "config-error"),
    ("Is a directory", "config-error"),
    ("Input/output error", "disk-full"),
    ("Resource temporarily unavailable", "service-down/crash"),
    ("Cannot allocate memory", "service-down/crash"),
];

/// Read a Postfix (or Postfix-shaped) delivery status message: `QID: to=<…>, relay=…, …,
/// dsn=…, status=deferred (reason)`. `None` when the line is not a status line.
pub fn parse_status(message: &str) -> Option<Failure<'_>> {
    let at = find_field(message, "status=")?;
    let rest = &message[at + "status=".len()..];
    let end = rest.find([' ', ',', '(']).unwrap_or(rest.len());
    let status = &rest[..end];
    if status.is_empty() {
        return None;
    }
    let reason = rest[end..].trim_start();
    let reason = reason.strip_prefix('(').map_or(reason, |r| r.strip_suffix(')').unwrap_or(r)).trim();
    let relay = field(message, "relay=").filter(|v| !v.is_empty());
    let dsn = field(message, "dsn=").and_then(Dsn::at).or_else(|| Dsn::find(reason));
    Some(read(status, relay, dsn, reason))
}

/// Read a reason text on its own (a NOQUEUE reject, a bounce text, a queue's delay reason).
pub fn parse_reason(reason: &str) -> Failure<'_> {
    read("", None, Dsn::find(reason), reason)
}

fn read<'a>(status: &'a str, relay: Option<&'a str>, dsn: Option<Dsn>, reason: &'a str) -> Failure<'a> {
    // `delivery temporarily suspended: connect to …` is Postfix's note that an earlier
    // attempt to this destination failed with INNER: INNER is the reason.
    let reason = reason.strip_prefix("delivery temporarily suspended: ").unwrap_or(reason);
    let mut f = Failure {
        status,
        relay,
        dsn,
        reason,
        shape: Shape::Other,
        host: None,
        ip: None,
        port: None,
        command: None,
        errno: errno(reason),
        path: path(reason),
        category: "other",
    };
    if let Some(r) = reason.strip_prefix("connect to ") {
        f.shape = Shape::Connect;
        let (host, ip, port) = endpoint(r);
        (f.host, f.ip, f.port) = (host, ip, port);
    } else if let Some(r) = reason.strip_prefix("host ") {
        if let Some(said) = r.find(" said: ") {
            f.shape = Shape::RemoteReply;
            let (host, ip, port) = endpoint(&r[..said]);
            (f.host, f.ip, f.port) = (host, ip, port);
            f.command = reason.rfind("(in reply to ").map(|i| {
                let c = &reason[i + "(in reply to ".len()..];
                let c = c.trim_end_matches(')').trim_end_matches(" command");
                c.trim()
            });
            if f.dsn.is_none() {
                f.dsn = Dsn::find(&r[said..]);
            }
        } else if r.contains(" refused to talk to me") {
            f.shape = Shape::RemoteReply;
        }
    } else if reason.contains("Command died with status")
        || reason.contains("Command output:")
        || reason.contains("Command time limit exceeded")
        || reason.contains("command output:")
    {
        f.shape = Shape::Command;
    } else if reason.starts_with("lost connection with ") || reason.starts_with("conversation with ") {
        f.shape = Shape::Conversation;
        let r = reason.split_once(" with ").map_or("", |(_, r)| r);
        let (host, ip, port) = endpoint(r);
        (f.host, f.ip, f.port) = (host, ip, port);
    } else if reason.starts_with("Host or domain name not found") || reason.starts_with("Name service error") {
        f.shape = Shape::Dns;
    } else if f.errno.is_some() {
        f.shape = Shape::Local;
    }
    if let Some(relay) = relay {
        if f.host.is_none() && f.shape != Shape::Command {
            let (host, ip, port) = endpoint(relay);
            if ip.is_some() {
                (f.host, f.ip, f.port) = (host, ip, port);
            }
        }
    }
    f.category = category(&f);
    f
}

/// `host[ip]:port…` → (host, ip, port); a host without brackets is taken as is.
fn endpoint(s: &str) -> (Option<&str>, Option<&str>, Option<u16>) {
    let s = s.trim();
    let Some(open) = s.find('[') else {
        let host = s.split([' ', ':', ',']).next().filter(|h| !h.is_empty());
        return (host, None, None);
    };
    let close = match s[open..].find(']') {
        Some(c) => open + c,
        None => return (Some(&s[..open]), None, None),
    };
    let host = Some(&s[..open]).filter(|h| !h.is_empty());
    let ip = Some(&s[open + 1..close]).filter(|h| !h.is_empty());
    let port =
        s[close + 1..].strip_prefix(':').and_then(|p| p.split(|c: char| !c.is_ascii_digit()).next()).and_then(|p| p.parse::<u16>().ok());
    (host, ip, port)
}

/// The system error a reason names, in its usual wording.
pub fn errno(reason: &str) -> Option<&'static str> {
    let lower_hit = |needle: &str| reason.contains(needle);
    for (e, _) in ERRNOS {
        if lower_hit(e) {
            return Some(e);
        }
    }
    // Postfix's own wording for a timeout of a connection it made.
    if reason.contains("timed out") && reason.starts_with("connect to ") {
        return Some("Connection timed out");
    }
    None
}

fn errno_category(e: &str) -> &'static str {
    ERRNOS.iter().find(|(x, _)| *x == e).map_or("other", |(_, c)| c)
}

/// The first absolute path in `reason` (ending at a space, colon, comma, quote or bracket).
fn path(reason: &str) -> Option<&str> {
    let b = reason.as_bytes();
    let mut i = 0;
    while let Some(off) = reason[i..].find('/') {
        let at = i + off;
        let before_ok = at == 0 || matches!(b[at - 1], b' ' | b'(' | b'"' | b'\'' | b'`' | b'=');
        if before_ok {
            let end = reason[at..].find([' ', ':', ',', '"', '\'', ')', '`']).map_or(reason.len(), |e| at + e);
            let p = &reason[at..end];
            if p.len() > 1 && !p.starts_with("//") {
                return Some(p.trim_end_matches('.'));
            }
        }
        i = at + 1;
    }
    None
}

/// Words of a reason mapped to a category, checked in this order before the DSN subject.
/// These are the phrasings of the common remote replies (RFC 5321 servers say the same
/// things in many words), of Postfix's own local failures, and of delivery agents.
const PHRASES: &[(&[&str], &str)] = &[
    (&["loops back to myself", "mail for ", "mail forwarding loop"], "loops-back-to-myself"),
    (&["greylist", "graylist", "greylisted", "try again later", "please try later"], "greylisted"),
    (
        &[
            "spamhaus",
            "blocklist",
            "blacklist",
            "block list",
            "black list",
            "listed at",
            "listed in",
            "dnsbl",
            "rbl",
            "spamcop",
            "barracuda",
            "sorbs",
            "poor reputation",
            "ip reputation",
            "blocked using",
            "banned sending ip",
        ],
        "rbl-blocklisted",
    ),
    (&["spf", "dmarc", "dkim", "not authenticated", "unauthenticated"], "remote-rejected-policy"),
    (
        &["relay access denied", "relaying denied", "relay not permitted", "not permitted to relay", "unable to relay", "relay denied"],
        "relay-access-denied",
    ),
    (
        &[
            "user unknown",
            "unknown user",
            "no such user",
            "mailbox unavailable",
            "recipient address rejected",
            "address rejected",
            "does not exist",
            "mailbox not found",
            "unknown recipient",
            "invalid recipient",
            "no mailbox",
            "recipient not found",
            "user not found",
            "not found in",
        ],
        "recipient-unknown",
    ),
    (
        &["mailbox full", "mailbox is full", "quota exceeded", "over quota", "exceeded storage", "insufficient quota", "quota"],
        "mailbox-full-quota",
    ),
    (
        &[
            "too many connections",
            "rate limit",
            "ratelimit",
            "too many messages",
            "sending rate",
            "throttl",
            "try again in",
            "too many recipients",
            "too many concurrent",
        ],
        "rate-limited",
    ),
    (&["message size exceeds", "message too large", "too big", "size limit", "exceeds size"], "size-limit-exceeded"),
    (
        &[
            "sasl authentication failed",
            "authentication failed",
            "authentication required",
            "authentication credentials invalid",
            "auth failed",
        ],
        "sasl-auth-failure",
    ),
    (&["tls", "ssl", "certificate", "starttls", "handshake"], "tls-failure"),
    (
        &["host or domain name not found", "host not found", "domain not found", "name service error", "no mx", "nxdomain"],
        "dns-host-not-found",
    ),
    (&["mail transport unavailable", "transport unavailable", "unknown mail transport"], "service-down/crash"),
    (&["user lookup error", "lookup error", "lookup failure", "table lookup problem"], "lookup-table-failure"),
    (&["unable to create temporary file", "tmpfile", "temporary file"], "tmp-file-failure"),
    (&["command died with status", "command time limit exceeded", "command output"], "delivery-agent-failure"),
    (&["lost connection", "connection reset", "conversation with"], "lost-connection"),
    (
        &["server configuration", "configuration error", "unsupported dictionary type", "table lookup problem", "not found in virtual"],
        "config-error",
    ),
    (&["spam", "content rejected", "message content", "virus", "malware", "policy"], "remote-rejected-policy"),
];

fn category(f: &Failure<'_>) -> &'static str {
    category_and_basis(f).0
}

/// What a generic reading rests on: words or an errno name what failed; a DSN code, a
/// shape or a severity word only say how badly. A reading on words may refine a family
/// signature (`postfix.deferred`, `postfix.warning`); one on a code alone may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    Words,
    Errno,
    Dsn,
    Shape,
    Severity,
}

impl Basis {
    /// Whether the reading names what failed (and may refine a family signature).
    pub fn names_the_cause(self) -> bool {
        matches!(self, Basis::Words | Basis::Errno)
    }
}

fn category_and_basis(f: &Failure<'_>) -> (&'static str, Basis) {
    let lower = f.reason.to_ascii_lowercase();
    // A connection that failed says so by its errno: the errno decides.
    if f.shape == Shape::Connect {
        if let Some(e) = f.errno {
            return (errno_category(e), Basis::Errno);
        }
        if lower.contains("timed out") {
            return ("deferred-connect-timeout", Basis::Words);
        }
    }
    if f.shape == Shape::Local {
        if let Some(e) = f.errno {
            return (errno_category(e), Basis::Errno);
        }
    }
    // A remote reply: its words first (they name the reason), then its DSN subject.
    for (words, cat) in PHRASES {
        if words.iter().any(|w| contains_word(&lower, w)) {
            return (cat, Basis::Words);
        }
    }
    if let Some(e) = f.errno {
        return (errno_category(e), Basis::Errno);
    }
    if let Some(d) = f.dsn {
        return (dsn_category(d), Basis::Dsn);
    }
    let by_shape = match f.shape {
        Shape::Conversation => "lost-connection",
        Shape::Dns => "dns-host-not-found",
        Shape::Command => "delivery-agent-failure",
        _ => "other",
    };
    (by_shape, Basis::Shape)
}

/// `needle` in `hay`, not inside a longer word (so `rbl` is not found in `verbly`, `tls` not in `settlsm`).
fn contains_word(hay: &str, needle: &str) -> bool {
    let nb = needle.as_bytes();
    let word_char = |c: u8| c.is_ascii_alphanumeric();
    let mut from = 0;
    while let Some(p) = hay[from..].find(needle) {
        let at = from + p;
        let end = at + needle.len();
        let hb = hay.as_bytes();
        let left_ok = at == 0 || !word_char(hb[at - 1]) || !word_char(nb[0]);
        let right_ok = end >= hb.len() || !word_char(hb[end]) || !word_char(nb[nb.len() - 1]) || needle.ends_with(' ') || needle.len() >= 6;
        if left_ok && right_ok {
            return true;
        }
        from = at + 1;
    }
    false
}

/// RFC 3463's subject and detail codes read as a category.
pub fn dsn_category(d: Dsn) -> &'static str {
    match (d.subject, d.detail) {
        (1, 1) | (1, 3) | (1, 6) | (1, 10) => "recipient-unknown",
        (1, 2) => "dns-host-not-found",
        (1, 8) => "remote-rejected-policy",
        (1, _) => "recipient-unknown",
        (2, 2) => "mailbox-full-quota",
        (2, 3) => "size-limit-exceeded",
        (2, 1) => "recipient-unknown",
        (2, _) => "delivery-agent-failure",
        (3, 1) => "disk-full",
        (3, 4) => "size-limit-exceeded",
        (3, 5) => "config-error",
        (3, _) => "delivery-agent-failure",
        (4, 1) => "deferred-connect-timeout",
        (4, 2) => "lost-connection",
        (4, 3) => "dns-lookup-failure",
        (4, 4) => "dns-host-not-found",
        (4, 6) => "loops-back-to-myself",
        (4, 7) => "deferred-connect-timeout",
        (4, _) => "lost-connection",
        (5, _) => "lost-connection",
        (6, _) => "remote-rejected-policy",
        (7, 1) => "remote-rejected-policy",
        (7, 8) => "sasl-auth-failure",
        (7, 5) | (7, 10) => "tls-failure",
        (7, 23) | (7, 24) | (7, 25) | (7, 26) | (7, 27) => "remote-rejected-policy",
        (7, _) => "remote-rejected-policy",
        _ => "other",
    }
}

/// `key` as a field (after a space, comma or at the start).
fn find_field(message: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = message[from..].find(key) {
        let at = from + pos;
        if at == 0 || matches!(message.as_bytes()[at - 1], b' ' | b',') {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

/// The delivery agent of a program name: `postfix/smtp` → `smtp`, `postfix-out/lmtp` → `lmtp`,
/// `postfix/submission/smtpd` → `smtpd`.
pub fn agent(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// How serious a line says it is, by its own words: Postfix's `warning:` … `panic:`,
/// Dovecot's `Warning:` … `Panic:` (after `service(user)<pid><session>: ` or at the start of a
/// tagless line), syslog-ish `Warn:`, `ERROR:`, `LibClamAV Error:`, amavis's `(!)`/`(!!)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
    Fatal,
    Panic,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Fatal => "fatal",
            Severity::Panic => "panic",
        }
    }
}

/// Severity words as they open a clause (`warning: `, `Error: `, `ERROR: `), and what they say.
const SEVERITY_WORDS: &[(&str, Severity)] = &[
    ("panic", Severity::Panic),
    ("fatal", Severity::Fatal),
    ("error", Severity::Error),
    ("err", Severity::Error),
    ("crit", Severity::Fatal),
    ("critical", Severity::Fatal),
    ("alert", Severity::Fatal),
    ("emerg", Severity::Fatal),
    ("warning", Severity::Warning),
    ("warn", Severity::Warning),
];

/// The severity a line states: a severity word opening one of its first clauses (the text
/// before the first `: ` clauses, at most 160 bytes in), `(!)`/`(!!)`, or `WARNING!!`.
pub fn severity(text: &str) -> Option<Severity> {
    let head = &text[..floor_char(text, 200)];
    if head.contains("(!!)") {
        return Some(Severity::Error);
    }
    if head.contains("(!)") || head.contains("WARNING!!") {
        return Some(Severity::Warning);
    }
    let mut best: Option<Severity> = None;
    // Each clause start: the start of the text, or after `: `, `] `, `; `, `> `.
    let b = head.as_bytes();
    let mut i = 0;
    let mut clauses = 0;
    while i < b.len() && clauses < 6 {
        // A capitalised word after any space counts too (`LibClamAV Error:`, `dovecot Fatal:`).
        let starts = i == 0
            || (b[i - 1] == b' ' && (matches!(b[i.saturating_sub(2)], b':' | b']' | b';' | b'>' | b')') || b[i].is_ascii_uppercase()));
        if starts {
            clauses += 1;
            let word_end = head[i..].find(|c: char| !c.is_ascii_alphabetic()).map_or(head.len(), |e| i + e);
            let word = &head[i..word_end];
            let after = &head[word_end..];
            if after.starts_with(':')
                || after.starts_with(" -")
                || (word.len() >= 5 && after.starts_with(' ') && word.bytes().all(|c| c.is_ascii_uppercase()))
            {
                let lower = word.to_ascii_lowercase();
                if let Some((_, sev)) = SEVERITY_WORDS.iter().find(|(w, _)| *w == lower) {
                    // `LibClamAV Error:`, `[error]`: any case; `ERROR ` alone only in capitals.
                    best = best.max(Some(*sev));
                }
            }
        }
        i += 1;
    }
    best
}

fn floor_char(s: &str, mut n: usize) -> usize {
    if n >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// What the structure of a problem line says: a category and the basis for it, which
/// becomes its `generic.*` id (`generic.status.connect`, `generic.errno.permission_denied`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub id: String,
    pub category: &'static str,
    pub severity: Option<Severity>,
    pub basis: Basis,
}

/// Words of a problem line (not a delivery status) and the category each implies, checked
/// in order, before the errno and the DSN code: configuration mistakes first (a missing
/// table file is a configuration error, a port in use a second listener), then the thing
/// that failed (TLS, a table, a milter, SASL, a crash), then the resource.
const PROBLEM_PHRASES: &[(&[&str], &str)] = &[
    (&["no space left on device", "not enough free space", "insufficient system storage", "disk full"], "disk-full"),
    (&["over quota", "quota exceeded", "mailbox is full", "mailbox full"], "mailbox-full-quota"),
    (&["loops back to myself", "my own hostname", "mail forwarding loop"], "loops-back-to-myself"),
    (
        &[
            "unused parameter",
            "undefined parameter",
            "not compiled in",
            "support not compiled",
            "unknown socket type",
            "unsupported dictionary type",
            "unsupported",
            "syntax error",
            "bad configuration",
            "configuration error",
            "error reading configuration",
            "invalid setting",
            "invalid parameter",
            "unknown setting",
            "unknown parameter",
            "obsolete",
            "deprecated",
            "ignored: no",
            "no sasl authentication mechanisms",
            "do not list",
            "is this an alias file",
            "address already in use",
            "cannot assign requested address",
            "without any protocols",
            "not configured",
            "no servers are specified",
            "missing keytable",
            "keytable",
            "signingtable",
            "signing table",
            "no signing table match",
            "no valid key record",
        ],
        "config-error",
    ),
    (
        &[
            "reserved for the superuser",
            "must be run as root",
            "not owned by",
            "not secure",
            "unsafe permissions",
            "can be read or written by other",
            "is writeable",
            "is writable",
            "bad permissions",
            "wrong permissions",
            "insecure",
        ],
        "permission-denied",
    ),
    (&["unable to create temporary file", "temp file", "temporary file", "tempbase", "mkstemp"], "tmp-file-failure"),
    (&["milter"], "milter-failure"),
    (&["tls", "ssl", "certificate", "starttls", "handshake", "private key", "pem ", "x509", "couriertls"], "tls-failure"),
    (&["sasl"], "sasl-auth-failure"),
    (
        &[
            "table lookup problem",
            "lookup error",
            "lookup failure",
            "lookup failed",
            "lookup table",
            "looking up",
            "open database",
            "close database",
            "is unavailable",
            "dict_",
            "database",
            "redis",
            "mysql",
            "ldap",
            "postgresql",
            "pgsql",
            "sqlite",
            " map ",
            "map file",
            "userdb",
            "passdb",
        ],
        "lookup-table-failure",
    ),
    (
        &[
            "killed by signal",
            "killed with signal",
            "exit status",
            "throttling",
            "died",
            "segfault",
            "watchdog timeout",
            "core dump",
            "dumped core",
            "assertion failed",
            "out of memory",
            "cannot allocate memory",
            "too many open files",
            "process limit",
            "client limit",
            "already running",
            "not running",
            "failed to start",
            "shutting down",
            "status notification not received",
            "terminated abnormally",
            "abnormal exit",
        ],
        "service-down/crash",
    ),
    (
        &[
            "virus scanner",
            "av-scanner",
            "av scanner",
            "clamd",
            "clamav",
            "clamscan",
            "spamd",
            "spamassassin",
            "content filter",
            "content_filter",
            "scanner",
        ],
        "content-filter-failure",
    ),
    (&["user unknown", "unknown user", "no such user", "user not found", "recipient address rejected"], "recipient-unknown"),
    (&["relay access denied", "relaying denied"], "relay-access-denied"),
    (&["too many errors"], "too-many-errors"),
    (&["lost connection", "timeout after", "connection reset", "broken pipe", "timeout exceeded", "timed out"], "lost-connection"),
];

/// Authentication words: a failed login, whose category depends on who logged it.
const AUTH_WORDS: &[&str] = &[
    "authentication failed",
    "authentication failure",
    "authentication error",
    "auth failed",
    "password mismatch",
    "pam_authenticate",
    "user not known",
    "unknown user",
    "login failed",
    "aborted login",
    "invalid password",
    "bad password",
];

/// Programs (or services named in a line) that serve IMAP/POP3 logins: their failed
/// logins are `imap-pop-auth-failure`; Postfix's are `sasl-auth-failure`.
const MAILBOX_SERVERS: &[&str] = &[
    "dovecot",
    "imap",
    "pop3",
    "imapd",
    "pop3d",
    "imap-login",
    "pop3-login",
    "managesieve",
    "courier",
    "authdaemond",
    "authdaemon",
    "cyrus",
    "auth",
];

/// The generic reading of a problem line no signature knows: from its structure alone.
/// `None` for a line that states no problem (no failed status, no reject, no severity word,
/// no errno): routine lines stay unclassified rather than alarming.
pub fn read_problem(program: Option<&str>, message: &str) -> Option<Problem> {
    let service = program.map(agent).unwrap_or("");
    // A delivery status line says whether it failed.
    if let Some(f) = parse_status(message) {
        if !matches!(f.status, "deferred" | "bounced" | "expired" | "undeliverable" | "failed") {
            return None;
        }
        let (category, basis) = category_and_basis(&f);
        return Some(Problem { id: format!("generic.status.{}", f.shape.as_str()), category, severity: None, basis });
    }
    // A reject: what it rejected and why.
    if let Some(at) = message.find("reject: ").or_else(|| message.find("milter-reject: ")) {
        let f = parse_reason(&message[at..]);
        let (category, basis) = category_and_basis(&f);
        let lower = f.reason.to_ascii_lowercase();
        let (category, basis) = if lower.contains("helo command rejected") {
            ("helo-reject", Basis::Words)
        } else if category == "other" || (basis == Basis::Dsn && f.dsn.is_some_and(|d| d.subject == 3 || d.subject == 4)) {
            // A reject no word explains (or only a system or network code) is the
            // receiving side's policy.
            ("remote-rejected-policy", Basis::Shape)
        } else {
            (category, basis)
        };
        return Some(Problem { id: "generic.reject".into(), category, severity: None, basis });
    }
    let sev = severity(message).or_else(|| program.and_then(|p| severity(&format!("{p}: "))));
    let errno = errno(message);
    let lower = message.to_ascii_lowercase();
    // "Aborted login (no auth attempts …)": a client that never tried to log in.
    let auth = AUTH_WORDS.iter().any(|w| lower.contains(w)) && !lower.contains("no auth attempts");
    if sev.is_none() && errno.is_none() && !auth && !failure_words(&lower) {
        return None;
    }
    let slug = |s: &str| s.to_ascii_lowercase().replace([' ', '-', '/'], "_");
    let tag = sev.map_or("problem", |s| s.as_str());
    let p = |id: String, category: &'static str, basis: Basis| Some(Problem { id, category, severity: sev, basis });
    // A panic is an abort: the process is gone, whatever it names.
    if sev == Some(Severity::Panic) {
        return p(format!("generic.{tag}"), "service-down/crash", Basis::Words);
    }
    // Failed logins: the server that logged them decides which kind.
    if auth {
        let mailbox =
            MAILBOX_SERVERS.iter().any(|m| service == *m || lower.contains(&format!("{m}(")) || lower.contains(&format!("{m}-login")))
                || program.is_some_and(|p| p.starts_with("dovecot") || p.starts_with("courier"));
        let category = if mailbox && !lower.contains("sasl") { "imap-pop-auth-failure" } else { "sasl-auth-failure" };
        return p(format!("generic.auth.{tag}"), category, Basis::Words);
    }
    // A local socket that refuses or is missing: the service behind it is down (or, for a
    // milter or a scanner, the filter in the mail path fails).
    if matches!(errno, Some("Connection refused") | Some("No such file or directory"))
        && lower.contains("connect")
        && local_endpoint(&lower)
    {
        let category = if lower.contains("milter") {
            "milter-failure"
        } else if ["clamd", "clamav", "spamd", "amavis", "rspamd", "scanner", "filter"].iter().any(|w| lower.contains(w)) {
            "content-filter-failure"
        } else {
            "service-down/crash"
        };
        return p(format!("generic.{tag}.local_socket"), category, Basis::Errno);
    }
    // `connect to HOST[IP]:PORT: ERRNO` to a remote host: read as a deferral's reason is.
    if let Some(at) = lower.find("connect to ") {
        let f = parse_reason(&message[at..]);
        if f.shape == Shape::Connect && f.ip.is_some() && !local_endpoint(&lower) {
            let (category, basis) = category_and_basis(&f);
            if basis.names_the_cause() {
                return p(format!("generic.{tag}.connect"), category, basis);
            }
        }
    }
    for (words, cat) in PROBLEM_PHRASES {
        if let Some(w) = words.iter().find(|w| contains_word(&lower, w)) {
            return p(format!("generic.{tag}.{}", slug(w.trim())), cat, Basis::Words);
        }
    }
    if let Some(e) = errno {
        return p(format!("generic.errno.{}", slug(e)), errno_category(e), Basis::Errno);
    }
    if let Some(d) = Dsn::find(message) {
        if d.class != 2 {
            return p(format!("generic.dsn.{}_{}_{}", d.class, d.subject, d.detail), dsn_category(d), Basis::Dsn);
        }
    }
    // The severity alone: a fatal or panic stops the process that logged it; an error of a
    // delivery agent (Postfix's local, virtual, pipe; Dovecot's lmtp or lda; procmail,
    // maildrop) is a failed delivery.
    let category = match sev {
        Some(Severity::Fatal) | Some(Severity::Panic) => "service-down/crash",
        _ if DELIVERY_AGENTS.contains(&process(service, message)) => "delivery-agent-failure",
        _ => "other",
    };
    p(format!("generic.{tag}"), category, Basis::Severity)
}

/// Programs and Dovecot processes that deliver mail into mailboxes.
const DELIVERY_AGENTS: &[&str] = &["local", "virtual", "pipe", "lmtp", "lda", "deliver", "dovecot-lda", "procmail", "maildrop"];

/// The process a line is about: Dovecot's `lmtp(user)<pid>: …` names it at the start of the
/// message (the syslog tag is only `dovecot`, or absent); otherwise the syslog tag's program.
fn process<'a>(service: &'a str, message: &'a str) -> &'a str {
    let end = message.find(|c: char| !(c.is_ascii_lowercase() || c == '-')).unwrap_or(0);
    match message.as_bytes().get(end) {
        Some(b'(') | Some(b':') if end > 0 && (service.is_empty() || service == "dovecot") => &message[..end],
        _ => service,
    }
}

/// Words that state a failure without a severity word (programs that log none).
fn failure_words(lower: &str) -> bool {
    const WORDS: &[&str] = &[
        "failed",
        "failure",
        "cannot ",
        "can't ",
        "unable to",
        "could not",
        "couldn't",
        "error",
        "refused",
        "denied",
        "timed out",
        "timeout while",
        "not found",
        "segfault",
        "died",
        "unavailable",
        "disabling",
        "corrupt",
        "exceeded",
        "not secure",
        "insecure",
    ];
    // Postfix's end of a broken SMTP session: `lost connection after EHLO from …`,
    // `timeout after DATA from …` (a debug line saying "timeout after 10 seconds" is not one).
    let session_lost = (lower.starts_with("lost connection after ") || lower.starts_with("timeout after ")) && lower.contains(" from ");
    session_lost || WORDS.iter().any(|w| lower.contains(w))
}

/// Whether a (lowercased) line names an endpoint on this host: a socket path, `unix:`,
/// `private/`, the loopback address or `localhost`.
fn local_endpoint(lower: &str) -> bool {
    ["unix:", "private/", "/run/", "/var/run/", "/tmp/", ".sock", ".ctl", "127.0.0.1", "[::1]", " ::1", "localhost"]
        .iter()
        .any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    // These lines are shaped after Postfix's own status lines (smtp(8), local(8),
    // virtual(8), pipe(8), lmtp(8)), written here to test the reading of each shape.

    #[test]
    fn a_connection_refused_by_a_local_filter_is_read_as_connect_with_its_port() {
        let f = parse_status("4A1B2C3D: to=<bob@example.com>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:10024: Connection refused)").unwrap();
        assert_eq!(f.status, "deferred");
        assert_eq!(f.shape, Shape::Connect);
        assert_eq!(f.ip, Some("127.0.0.1"));
        assert_eq!(f.port, Some(10024));
        assert_eq!(f.errno, Some("Connection refused"));
        assert_eq!(f.category, "deferred-connect-refused");
        assert_eq!(f.dsn.map(|d| d.text()), Some("4.4.1".to_string()));
    }

    #[test]
    fn suspended_delivery_is_read_by_its_inner_reason() {
        let f = parse_status("ABC123: to=<a@example.net>, relay=none, delay=300, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to mx.example.net[192.0.2.7]:25: Connection timed out)").unwrap();
        assert_eq!(f.shape, Shape::Connect);
        assert_eq!(f.host, Some("mx.example.net"));
        assert_eq!(f.category, "deferred-connect-timeout");
    }

    #[test]
    fn a_remote_reply_keeps_its_command_and_its_words_decide_over_the_code() {
        let f = parse_status("ABC: to=<x@example.org>, relay=mx.example.org[198.51.100.2]:25, delay=2, dsn=5.7.1, status=bounced (host mx.example.org[198.51.100.2] said: 554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using zen.spamhaus.org (in reply to RCPT TO command))").unwrap();
        assert_eq!(f.shape, Shape::RemoteReply);
        assert_eq!(f.command, Some("RCPT TO"));
        assert_eq!(f.category, "rbl-blocklisted");
        let g = parse_status("ABC: to=<x@example.org>, relay=mx.example.org[198.51.100.2]:25, dsn=5.1.1, status=bounced (host mx.example.org[198.51.100.2] said: 550 5.1.1 <x@example.org>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))").unwrap();
        assert_eq!(g.category, "recipient-unknown");
    }

    #[test]
    fn a_local_permission_error_names_its_path_and_errno() {
        let f = parse_status("5E1A2: to=<alice@example.com>, relay=virtual, delay=0.1, dsn=4.2.0, status=deferred (maildir delivery failed: create maildir file /var/vmail/example.com/alice/tmp/1700000000.P1.mx: Permission denied)").unwrap();
        assert_eq!(f.errno, Some("Permission denied"));
        assert_eq!(f.path, Some("/var/vmail/example.com/alice/tmp/1700000000.P1.mx"));
        assert_eq!(f.shape, Shape::Local);
        assert_eq!(f.category, "permission-denied");
    }

    #[test]
    fn a_command_that_died_is_a_delivery_agent_failure() {
        let f = parse_status("X1: to=<a@example.com>, relay=dovecot, delay=1, dsn=4.3.0, status=deferred (temporary failure. Command died with status 75: \"/usr/lib/dovecot/deliver\")").unwrap();
        assert_eq!(f.shape, Shape::Command);
        assert_eq!(f.category, "delivery-agent-failure");
    }

    #[test]
    fn an_unknown_reason_falls_back_on_the_dsn_subject() {
        let f = parse_status("X2: to=<a@example.com>, relay=local, dsn=5.3.5, status=bounced (some words nobody wrote a signature for)")
            .unwrap();
        assert_eq!(f.category, "config-error");
        let g = parse_status("X3: to=<a@example.com>, relay=local, dsn=4.3.1, status=deferred (something else)").unwrap();
        assert_eq!(g.category, "disk-full");
    }

    #[test]
    fn lines_without_a_status_are_not_status_lines() {
        assert!(parse_status("ABC: from=<a@example.com>, size=100, nrcpt=1 (queue active)").is_none());
        assert!(parse_status("connect from unknown[192.0.2.1]").is_none());
    }

    #[test]
    fn dsn_codes_are_found_only_where_they_stand_alone() {
        assert_eq!(Dsn::find("said: 550 5.1.1 <a@b>").map(|d| d.text()), Some("5.1.1".to_string()));
        assert_eq!(Dsn::find("version 15.2.3.4 of"), None);
        assert_eq!(Dsn::find("at 192.0.2.1"), None);
    }

    #[test]
    fn words_are_not_found_inside_longer_words() {
        assert!(!contains_word("verbly spoken", "rbl"));
        assert!(contains_word("listed on an rbl.", "rbl"));
        assert!(contains_word("starttls failed", "starttls"));
    }

    // The structure layer (`read_problem`): lines shaped after Postfix's, Dovecot's and
    // libclamav's own messages; the expected category written before the run.

    #[test]
    fn severity_words_are_found_where_a_clause_starts_in_any_of_the_daemons_spellings() {
        assert_eq!(severity("warning: hash:/etc/postfix/transport is unavailable"), Some(Severity::Warning));
        assert_eq!(severity("imap-login: Fatal: Can't load ssl_cert"), Some(Severity::Fatal));
        assert_eq!(severity("master: Error: service(auth): child 12 killed with signal 9"), Some(Severity::Error));
        assert_eq!(severity("lmtp(alice)<12><abc>: Panic: file mail-index.c: line 12: assertion failed"), Some(Severity::Panic));
        assert_eq!(severity("LibClamAV Error: cli_loaddb(): No supported database files found"), Some(Severity::Error));
        assert_eq!(severity("(01234-01) (!!)AV: ALL VIRUS SCANNERS FAILED"), Some(Severity::Error));
        // Not a severity: the word inside a sentence, or in a field name.
        assert_eq!(severity("connect from unknown[192.0.2.1]"), None);
        assert_eq!(severity("disconnect from x[192.0.2.1] ehlo=1 auth=0/1 commands=1/2"), None);
        assert_eq!(severity("proxy_milter_error_handler: abnormally closing"), None);
    }

    #[test]
    fn a_problem_line_is_read_by_what_failed_before_how_badly() {
        let cat = |p: Option<&str>, m: &str| read_problem(p, m).map(|x| x.category);
        // A missing table file is a table problem, not a crash, though fatal.
        assert_eq!(
            cat(Some("postfix/trivial-rewrite"), "fatal: open database /etc/postfix/transport.db: No such file or directory"),
            Some("lookup-table-failure")
        );
        // A port in use is a second listener: configuration.
        assert_eq!(cat(Some("postfix/master"), "fatal: bind 0.0.0.0 port 25: Address already in use"), Some("config-error"));
        // A local socket that refuses: the service behind it is down.
        assert_eq!(
            cat(Some("dovecot"), "auth: Error: connect(/run/dovecot/auth-userdb) failed: Connection refused"),
            Some("service-down/crash")
        );
        // A failed login at an IMAP server, and at Postfix's SASL.
        assert_eq!(cat(Some("dovecot"), "auth-worker(12): Error: sql(bob,192.0.2.1): Password mismatch"), Some("imap-pop-auth-failure"));
        assert_eq!(
            cat(Some("postfix/smtpd"), "warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: Invalid authentication mechanism"),
            Some("sasl-auth-failure")
        );
        // A fatal that names nothing: the process stopped.
        assert_eq!(cat(Some("postfix/smtpd"), "fatal: watchdog timeout"), Some("service-down/crash"));
        // A warning that names nothing stays `other`.
        assert_eq!(cat(Some("postfix/postsuper"), "warning: something nobody wrote down"), Some("other"));
    }

    #[test]
    fn routine_lines_are_not_problems() {
        for (p, m) in [
            (Some("postfix/smtpd"), "connect from mail.example.net[192.0.2.1]"),
            (Some("postfix/qmgr"), "4F1A2B3C: from=<a@example.org>, size=1234, nrcpt=1 (queue active)"),
            (
                Some("postfix/smtp"),
                "4F1A2B3C: to=<b@example.net>, relay=mx.example.net[192.0.2.7]:25, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
            ),
            (Some("dovecot"), "imap(alice)<12><abc>: Logged out in=10 out=200"),
            (Some("amavis"), "(03001-01) Passed CLEAN {RelayedInbound}, [192.0.2.9] <a@example.org> -> <b@example.net>"),
        ] {
            assert_eq!(read_problem(p, m), None, "{m}");
        }
    }
}
