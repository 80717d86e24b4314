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
    let ts_len = classic_ts_len(line).or_else(|| iso_ts_len(line));
    let (timestamp, host, rest) = match ts_len {
        Some(n) => {
            let rest = line[n..].trim_start();
            match rest.split_once(' ') {
                // A host name never ends in ':' (`Jan 29 09:33:58 cyrus/pop3[4297]: badlogin: ...`
                // has no host: the first word is the tag).
                Some((host, after)) if !host.ends_with(':') => match split_tag(after) {
                    Some((program, pid, message)) => {
                        return LogLine { timestamp: Some(&line[..n]), host: Some(host), program: Some(program), pid, message }
                    }
                    None => (Some(&line[..n]), None, rest),
                },
                _ => (Some(&line[..n]), None, rest),
            }
        }
        None => (None, None, line),
    };
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
