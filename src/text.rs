//! Text safety helpers shared by every report: escaping what came from the inspected
//! system, quoting values put into shell commands, and small formatting aids.
//!
//! Everything printed that came from the inspected machine passes through [`sanitize`]:
//! a log line can carry terminal escape sequences planted by a remote sender (a crafted
//! `MAIL FROM`, a HELO name), and an admin's terminal must not obey them.

use std::borrow::Cow;

/// Escape control characters (C0, DEL, C1) and Unicode bidi overrides so that text from
/// the inspected system cannot drive the terminal or reorder what the admin reads.
/// Tabs are kept as a single space; every other control becomes `\xNN` / `\u{NNNN}`.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\t' {
            out.push(' ');
        } else if needs_escape(c) {
            let n = c as u32;
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:04x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069)
}

/// Quote one value for a POSIX shell. Plain words stay as they are (`/tmp`, `alice`);
/// anything else is wrapped in single quotes, with embedded quotes closed and escaped, so a
/// value taken from a log (`alice; rm -rf /`) stays one argument.
pub fn shell_quote(s: &str) -> Cow<'_, str> {
    let plain = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b':' | b'=' | b'@' | b'%' | b'+' | b',' | b'-'))
        && !s.starts_with('-');
    if plain {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    Cow::Owned(out)
}

/// `ls -l` style permission string for a full `st_mode` (type bits included).
pub fn mode_string(kind: &str, mode: u32) -> String {
    let t = match kind {
        "dir" => 'd',
        "symlink" => 'l',
        "socket" => 's',
        "fifo" => 'p',
        "char" => 'c',
        "block" => 'b',
        _ => '-',
    };
    let mut s = String::with_capacity(10);
    s.push(t);
    let bits =
        [(0o400, 'r'), (0o200, 'w'), (0o100, 'x'), (0o040, 'r'), (0o020, 'w'), (0o010, 'x'), (0o004, 'r'), (0o002, 'w'), (0o001, 'x')];
    for (i, (bit, ch)) in bits.iter().enumerate() {
        let set = mode & bit != 0;
        let special = match i {
            2 => Some((0o4000, 's', 'S')),
            5 => Some((0o2000, 's', 'S')),
            8 => Some((0o1000, 't', 'T')),
            _ => None,
        };
        match special {
            Some((sbit, lower, upper)) if mode & sbit != 0 => s.push(if set { lower } else { upper }),
            _ => s.push(if set { *ch } else { '-' }),
        }
    }
    s
}

/// Human size: `8122 B`, `9.1 KB`, `1.4 MB` (powers of 1024, as `ls -lh` and mailq do).
pub fn human_bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    if n < 1024.0 {
        return format!("{n} B");
    }
    let units = ["KB", "MB", "GB", "TB"];
    let mut v = n / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if v >= 100.0 {
        format!("{v:.0} {}", units[i])
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// Levenshtein distance, for "did you mean" hints in lint messages.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a, I: IntoIterator<Item = &'a str>>(word: &str, candidates: I) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates.into_iter().map(|c| (edit_distance(word, c), c)).filter(|(d, _)| *d <= limit).min().map(|(_, c)| c)
}

/// At most `max` characters of `s`, with `…` when cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_planted_in_a_log_line_are_made_visible() {
        let line = "from=<\x1b[2J\x1b]0;pwned\x07evil@example.com>";
        assert_eq!(sanitize(line), "from=<\\x1b[2J\\x1b]0;pwned\\x07evil@example.com>");
        assert_eq!(sanitize("plain text"), "plain text");
        assert_eq!(sanitize("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn a_user_name_from_a_log_stays_one_shell_argument() {
        assert_eq!(shell_quote("/tmp"), "/tmp");
        assert_eq!(shell_quote("alice"), "alice");
        assert_eq!(shell_quote("alice; rm -rf /"), "'alice; rm -rf /'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("-rf"), "'-rf'");
        assert_eq!(shell_quote("$(id)"), "'$(id)'");
    }

    #[test]
    fn modes_render_like_ls() {
        assert_eq!(mode_string("dir", 0o1777), "drwxrwxrwt");
        assert_eq!(mode_string("dir", 0o700), "drwx------");
        assert_eq!(mode_string("dir", 0o1770), "drwxrwx--T");
        assert_eq!(mode_string("file", 0o2755), "-rwxr-sr-x");
    }

    #[test]
    fn sizes_and_hints() {
        assert_eq!(human_bytes(8122), "7.9 KB");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(did_you_mean("relay_host", ["relayhost", "myhostname"]), Some("relayhost"));
        assert_eq!(did_you_mean("zzz", ["relayhost"]), None);
    }
}
