//! Problem lines no signature knows: the severity a line gives itself, and the template
//! (numbers, ids and addresses masked) `logs unknown` clusters them by.

use super::line::queue_id;

/// The severity a line gives itself (`warning:`, `fatal:`, `Error:`...) or a failed
/// delivery: the lines `logs unknown` cares about.
pub fn is_problem(message: &str) -> Option<&'static str> {
    // The scanner finds these words in its literal pass ([`Words::problem`]); this is the
    // plain definition it is tested against.
    PROBLEM_WORDS.iter().find(|(w, _)| message.contains(w)).map(|(_, s)| *s)
}

pub(super) const PROBLEM_WORDS: &[(&str, &str)] = &[
    ("panic: ", "panic"),
    ("fatal: ", "fatal"),
    ("Fatal: ", "fatal"),
    ("FATAL", "fatal"),
    ("error: ", "error"),
    ("Error: ", "error"),
    ("ERROR", "error"),
    ("status=bounced", "error"),
    ("status=deferred", "warning"),
    ("reject: ", "warning"),
    ("warning: ", "warning"),
    ("Warning: ", "warning"),
    ("WARNING", "warning"),
];

/// A message with its variable parts masked: queue ids, numbers, addresses, host names.
pub fn template(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(240));
    let msg = match queue_id(message) {
        Some(q) => {
            out.push_str("QUEUEID");
            &message[q.len()..]
        }
        None => message,
    };
    let b = msg.as_bytes();
    let mut i = 0;
    while i < b.len() && out.len() < 200 {
        let c = b[i];
        if c == b'<' {
            if let Some(end) = msg[i..].find('>') {
                out.push_str("<*>");
                i += end + 1;
                continue;
            }
        }
        if c == b'[' {
            if let Some(end) = msg[i..].find(']') {
                let inner = &msg[i + 1..i + end];
                if inner.bytes().all(|x| x.is_ascii_hexdigit() || matches!(x, b'.' | b':')) && !inner.is_empty() {
                    out.push_str("[ADDR]");
                    i += end + 1;
                    continue;
                }
            }
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'.' | b'_' | b'-' | b'@')) {
                i += 1;
            }
            let mut w = &msg[start..i];
            let mut tail = "";
            if let Some(stripped) = w.strip_suffix('.') {
                w = stripped;
                tail = ".";
            }
            let digits = w.bytes().filter(u8::is_ascii_digit).count();
            let tok = if w.contains('@') {
                "ADDR"
            } else if w.bytes().all(|x| x.is_ascii_digit() || x == b'.') && digits > 0 {
                "N"
            } else if w.contains('.') && w.bytes().any(|x| x.is_ascii_alphabetic()) && !w.starts_with('.') && digits * 2 < w.len() {
                "HOST"
            } else if digits > 0 && w.len() >= 6 {
                "ID"
            } else {
                w
            };
            out.push_str(tok);
            out.push_str(tail);
            continue;
        }
        // Copy one (possibly multi-byte) character.
        let ch_len = msg[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&msg[i..i + ch_len]);
        i += ch_len;
    }
    out
}
