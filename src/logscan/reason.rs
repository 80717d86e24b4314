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
    let lower = f.reason.to_ascii_lowercase();
    // A connection that failed says so by its errno: the errno decides.
    if f.shape == Shape::Connect {
        if let Some(e) = f.errno {
            return errno_category(e);
        }
        if lower.contains("timed out") {
            return "deferred-connect-timeout";
        }
    }
    if f.shape == Shape::Local {
        if let Some(e) = f.errno {
            return errno_category(e);
        }
    }
    // A remote reply: its words first (they name the reason), then its DSN subject.
    for (words, cat) in PHRASES {
        if words.iter().any(|w| contains_word(&lower, w)) {
            return cat;
        }
    }
    if let Some(e) = f.errno {
        return errno_category(e);
    }
    if let Some(d) = f.dsn {
        return dsn_category(d);
    }
    match f.shape {
        Shape::Conversation => "lost-connection",
        Shape::Dns => "dns-host-not-found",
        Shape::Command => "delivery-agent-failure",
        _ => "other",
    }
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
}
