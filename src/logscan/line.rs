//! The syslog line grammar: a mail-log line split into stamp, host, program, pid and
//! message (classic, RFC 3339 and RFC 5424 prefixes), and the Postfix fields the scanner
//! keys on (queue id, `key=value`). Pure functions of `&str`; nothing about signatures.
//!
//! Garbage is survived and counted, never fatal: lines with NUL bytes or longer than
//! [`MAX_LINE`] are skipped and counted; invalid UTF-8 was already replaced when read.

/// Lines longer than this are skipped (a log line of megabytes is not a message).
pub const MAX_LINE: usize = 64 * 1024;

/// A log line split into its syslog parts. Every part but `message` is optional: test
/// corpora and `journalctl -o cat` give the message alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine<'a> {
    pub timestamp: Option<&'a str>,
    pub host: Option<&'a str>,
    pub program: Option<&'a str>,
    pub pid: Option<&'a str>,
    pub message: &'a str,
}

/// Length of a classic `Nov 23 07:01:02` timestamp at the start (with optional fraction).
fn classic_ts_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 15 || b[3] != b' ' || b[6] != b' ' || b[9] != b':' || b[12] != b':' {
        return None;
    }
    if !matches!(&b[..3], b"Jan" | b"Feb" | b"Mar" | b"Apr" | b"May" | b"Jun" | b"Jul" | b"Aug" | b"Sep" | b"Oct" | b"Nov" | b"Dec") {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(|c| c.is_ascii_digit() || *c == b' ');
    if !digits(4..6) || !digits(7..9) || !digits(10..12) || !digits(13..15) {
        return None;
    }
    let mut n = 15;
    if b.get(15) == Some(&b'.') {
        n = 16 + b[16..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    Some(n)
}

/// Length of an RFC 3339 timestamp (`2026-11-23T08:15:05.123456+00:00`) at the start.
fn iso_ts_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 19
        || !b[..4].iter().all(u8::is_ascii_digit)
        || b[4] != b'-'
        || b[7] != b'-'
        || (b[10] != b'T' && b[10] != b' ')
        || b[13] != b':'
    {
        return None;
    }
    let end = s.find(' ').unwrap_or(s.len());
    if b[10] == b' ' {
        // `2026-11-23 08:15:05 host ...`: the time is the second word.
        let rest = &s[11..];
        return Some(11 + rest.find(' ').unwrap_or(rest.len()));
    }
    Some(end)
}

/// Split a syslog tag `program[pid]:` off the front of `s`, if it is one: the tag ends at
/// the first `": "` (or a final `:`); the program is non-empty and made of ASCII letters,
/// digits and `/-_.`; the pid, if any, is digits in brackets closing the tag. A bare message
/// starting with a queue id (`3F2A61C0F1: to=<...>`) must not be taken for a tag: a tag needs
/// a pid, a path-like name, or a lowercase program name. One pass over the tag's bytes.
pub fn split_tag(s: &str) -> Option<(&str, Option<&str>, &str)> {
    let b = s.as_bytes();
    let (mut slash, mut upper) = (false, false);
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'/' => slash = true,
            b'A'..=b'Z' => upper = true,
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {}
            _ => break,
        }
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let program = &s[..i];
    let mut pid = None;
    if b.get(i) == Some(&b'[') {
        let start = i + 1;
        let mut j = start;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if b.get(j) != Some(&b']') {
            return None;
        }
        pid = Some(&s[start..j]);
        i = j + 1;
    }
    if b.get(i) != Some(&b':') {
        return None;
    }
    let message = match b.get(i + 1) {
        None => "",
        Some(b' ') => &s[i + 2..],
        Some(_) => return None,
    };
    (pid.is_some() || slash || !upper).then_some((program, pid, message))
}

/// `<PRI>` at the start of a line (network syslog, RFC 5424 files): its length.
fn pri_len(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&b'<') {
        return None;
    }
    let close = b.iter().take(5).position(|&c| c == b'>')?;
    (close > 1 && b[1..close].iter().all(u8::is_ascii_digit)).then_some(close + 1)
}

/// An RFC 5424 line: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG` (the PRI may be
/// absent when a file template drops it). `-` is a nil field.
fn split_rfc5424(line: &str) -> Option<LogLine<'_>> {
    let b = line.as_bytes();
    let start = pri_len(b).unwrap_or(0);
    let rest = line.get(start..)?.strip_prefix("1 ")?;
    let ts_len = iso_ts_len(rest).filter(|&n| rest.as_bytes().get(10) == Some(&b'T') || n > 10)?;
    let timestamp = &rest[..ts_len];
    let mut it = rest[ts_len..].trim_start().splitn(4, ' ');
    let nil = |s: &'_ str| s != "-";
    let host = it.next().filter(|s| nil(s));
    let app = it.next().filter(|s| nil(s));
    let procid = it.next().filter(|s| nil(s));
    let after_procid = it.next().unwrap_or("");
    // MSGID, then structured data: `-` or one or more `[id k="v" ...]` (`\]` escaped).
    let (_msgid, sd_and_msg) = after_procid.split_once(' ').unwrap_or((after_procid, ""));
    let message = if let Some(r) = sd_and_msg.strip_prefix('-') {
        r.strip_prefix(' ').unwrap_or(r)
    } else if sd_and_msg.starts_with('[') {
        let sb = sd_and_msg.as_bytes();
        let (mut i, mut in_sd, mut quoted) = (0, false, false);
        while i < sb.len() {
            match sb[i] {
                b'\\' if quoted => i += 1,
                b'"' if in_sd => quoted = !quoted,
                b'[' if !in_sd => in_sd = true,
                b']' if in_sd && !quoted => in_sd = false,
                b' ' if !in_sd => break,
                _ if !in_sd => break,
                _ => {}
            }
            i += 1;
        }
        sd_and_msg.get(i..).unwrap_or("").trim_start_matches(' ')
    } else {
        sd_and_msg
    };
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    Some(LogLine { timestamp: Some(timestamp), host, program: app, pid: procid, message })
}

pub fn split_syslog(line: &str) -> LogLine<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.as_bytes().first() == Some(&b'<') || line.starts_with("1 ") {
        if let Some(l) = split_rfc5424(line) {
            return l;
        }
    }
    // A classic line received over the network keeps its `<PRI>`.
    let line = match pri_len(line.as_bytes()) {
        Some(n) if line.len() > n => &line[n..],
        _ => line,
    };
    if let Some(n) = classic_ts_len(line).or_else(|| iso_ts_len(line)) {
        return split_stamped(line, n);
    }
    // `docker compose logs` puts `service | ` before each line (`mail    | Aug 24 …`).
    if let Some(rest) = compose_prefix_len(line).map(|n| &line[n..]) {
        if let Some(n) = classic_ts_len(rest).or_else(|| iso_ts_len(rest)) {
            return split_stamped(rest, n);
        }
    }
    untagged_or_tagged(None, None, line)
}

/// The length of a `docker compose logs` prefix: a service name, spaces, `| `.
fn compose_prefix_len(line: &str) -> Option<usize> {
    let bar = line.as_bytes().iter().take(64).position(|&b| b == b'|')?;
    let name = line[..bar].trim_end();
    let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    (ok && line.as_bytes().get(bar + 1) == Some(&b' ')).then_some(bar + 2)
}

/// A line whose time stamp is its first `n` bytes: host, tag, message.
fn split_stamped(line: &str, n: usize) -> LogLine<'_> {
    let stamp = Some(&line[..n]);
    let rest = line[n..].trim_start();
    match rest.split_once(' ') {
        // A host name never ends in ':' (`Jan 29 09:33:58 cyrus/pop3[4297]: badlogin: ...`
        // has no host: the first word is the tag).
        Some((host, after)) if !host.ends_with(':') => match split_tag(after) {
            Some((program, pid, message)) => LogLine { timestamp: stamp, host: Some(host), program: Some(program), pid, message },
            None => untagged_or_tagged(stamp, None, rest),
        },
        _ => untagged_or_tagged(stamp, None, rest),
    }
}

fn untagged_or_tagged<'a>(timestamp: Option<&'a str>, host: Option<&'a str>, rest: &'a str) -> LogLine<'a> {
    match split_tag(rest) {
        Some((program, pid, message)) => LogLine { timestamp, host, program: Some(program), pid, message },
        None => LogLine { timestamp, host, program: None, pid: None, message: rest },
    }
}

/// A Postfix queue id at the start of a message (`3F2A61C0F1: ...`), short (hex) or long form.
pub fn queue_id(message: &str) -> Option<&str> {
    // A queue id is at most 20 characters: look no further.
    let b = message.as_bytes();
    let (mut end, mut digit, mut hex) = (0, false, true);
    while end <= 20 {
        match b.get(end) {
            Some(b'0'..=b'9') => digit = true,
            Some(b'A'..=b'F') => {}
            Some(c) if c.is_ascii_alphanumeric() => hex = false,
            _ => break,
        }
        end += 1;
    }
    if b.get(end) != Some(&b':') || b.get(end + 1) != Some(&b' ') {
        return None;
    }
    let short = (6..=16).contains(&end) && hex;
    let long = (10..=20).contains(&end) && digit;
    (short || long).then_some(&message[..end])
}

/// `key=value` from a Postfix message (`size=8122,` → `8122`).
pub fn field<'a>(message: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(pos) = message[from..].find(key) {
        let at = from + pos;
        if at == 0 || matches!(message.as_bytes()[at - 1], b' ' | b',') {
            let rest = &message[at + key.len()..];
            let end = rest.find([',', ' ']).unwrap_or(rest.len());
            return Some(&rest[..end]);
        }
        from = at + key.len();
    }
    None
}

/// The time of a log line's stamp, if it has one (classic stamps get their year from `reference`).
pub fn line_stamp(line: &str, reference: i64) -> Option<i64> {
    split_syslog(line).timestamp.and_then(|s| crate::time::parse_stamp(s, reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_syslog_lines_split_into_parts() {
        let l = split_syslog("Nov 23 08:15:05 mx1 postfix/submission/smtpd[4242]: connect from unknown[192.0.2.7]");
        assert_eq!(l.timestamp, Some("Nov 23 08:15:05"));
        assert_eq!(l.host, Some("mx1"));
        assert_eq!(l.program, Some("postfix/submission/smtpd"));
        assert_eq!(l.pid, Some("4242"));
        assert_eq!(l.message, "connect from unknown[192.0.2.7]");
    }

    #[test]
    fn rfc3339_and_bare_lines() {
        let l = split_syslog("2026-11-23T08:15:05.123456+00:00 mx1 postfix/qmgr[77]: 3F2A61C0F1: removed");
        assert_eq!(l.timestamp, Some("2026-11-23T08:15:05.123456+00:00"));
        assert_eq!(l.program, Some("postfix/qmgr"));
        assert_eq!(l.message, "3F2A61C0F1: removed");
        let bare = split_syslog("postfix/smtp[123]: 3F2A61C0F1: to=<a@b.example>, status=sent (250 ok)");
        assert_eq!((bare.timestamp, bare.program), (None, Some("postfix/smtp")));
        // A message alone, starting with a queue id, is not mistaken for a tag.
        let msg = split_syslog("3F2A61C0F1: to=<a@b.example>, status=sent (250 ok)");
        assert_eq!(msg.program, None);
        assert_eq!(queue_id(msg.message), Some("3F2A61C0F1"));
    }

    #[test]
    fn rfc5424_lines_split_into_parts() {
        let l = split_syslog(
            "<22>1 2026-11-23T08:15:05.123456+01:00 mx1 postfix/smtp 4242 - - 3F2A61C0F1: to=<a@b.example>, status=sent (250 ok)",
        );
        assert_eq!(l.timestamp, Some("2026-11-23T08:15:05.123456+01:00"));
        assert_eq!((l.host, l.program, l.pid), (Some("mx1"), Some("postfix/smtp"), Some("4242")));
        assert_eq!(l.message, "3F2A61C0F1: to=<a@b.example>, status=sent (250 ok)");
        // Structured data (with an escaped bracket and a quoted space) and a BOM before the message.
        let sd = split_syslog(
            "<30>1 2026-11-23T08:15:06Z mx1 dovecot - AUTH [origin ip=\"192.0.2.7\" x=\"a\\]b c\"][meta seq=\"1\"] \u{feff}auth: Error: bad",
        );
        assert_eq!((sd.program, sd.pid), (Some("dovecot"), None));
        assert_eq!(sd.message, "auth: Error: bad");
        // Nil fields and no PRI (a file template without it).
        let nil = split_syslog("1 2026-11-23T08:15:07+00:00 - postfix/qmgr - - - 3F2A61C0F1: removed");
        assert_eq!((nil.host, nil.program, nil.message), (None, Some("postfix/qmgr"), "3F2A61C0F1: removed"));
        assert_eq!(crate::time::parse_stamp(nil.timestamp.unwrap_or(""), 0), crate::time::parse_iso("2026-11-23T08:15:07Z"));
        // A classic line with a PRI (network capture).
        let c = split_syslog("<22>Nov 23 08:15:05 mx1 postfix/smtpd[1]: connect from x[192.0.2.1]");
        assert_eq!((c.timestamp, c.program), (Some("Nov 23 08:15:05"), Some("postfix/smtpd")));
    }

    #[test]
    fn a_tag_right_after_the_time_stamp_is_not_a_host() {
        let l = split_syslog("Feb 20 17:23:32 cyrus/pop3[4297]: badlogin: client.example [192.0.2.4] plaintext bob");
        assert_eq!((l.host, l.program, l.pid), (None, Some("cyrus/pop3"), Some("4297")));
        assert_eq!(l.message, "badlogin: client.example [192.0.2.4] plaintext bob");
    }

    #[test]
    fn postfix_fields() {
        let m = "3F2A61C0F1: from=<root@mx1.lab.example>, size=40123, nrcpt=1 (queue active)";
        assert_eq!(field(m, "size="), Some("40123"));
        assert_eq!(field("x: to=<a>, dsn=4.3.0, status=deferred (temporary failure)", "status="), Some("deferred"));
        assert_eq!(field("x: orig_to=<a>", "to="), None);
        assert_eq!(queue_id("NOQUEUE: reject: RCPT from x"), None);
        assert_eq!(queue_id("4Xq1Yz2bQwz1nF3: removed"), Some("4Xq1Yz2bQwz1nF3"));
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "",
            ":",
            "Nov",
            "Nov 23 08:15:05",
            "Nov 23 08:15:05 ",
            "[]: x",
            "a[: b",
            "é: ü",
            "Nov 23 08:15:05 h p[x]: m",
            "2026-11-23T",
            "<",
            "<1>",
            "<999999>x",
            "1 ",
            "<1>1 2026-11-23T08:15:05Z",
            "1 2026-11-23T08:15:05Z h a p m [x",
        ] {
            let _ = split_syslog(s);
            let _ = queue_id(s);
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The syslog splitter takes any line, multibyte and control characters included.
        #[test]
        fn any_line_splits_without_panicking(line in "\\PC{0,200}", reference in 0i64..4_102_444_800) {
            let _ = split_syslog(&line);
            let _ = line_stamp(&line, reference);
        }

        #[test]
        fn syslog_like_lines_split_without_panicking(stamp in "(Nov 23 08:15:05|2026-11-23T08:15:05\\.123456\\+01:00|<13>1 2026-11-23T08:15:05Z|)", host in "[a-zé.-]{0,12}", prog in "[a-z/\\[\\]0-9:é]{0,20}", msg in "\\PC{0,40}") {
            let line = format!("{stamp} {host} {prog} {msg}");
            let _ = split_syslog(&line);
        }
    }
}
