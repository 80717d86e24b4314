//! Templates in titles, evidence sentences and fix commands: `{alias.field}` or `{var}`,
//! with an optional filter (`{tmp.mode|octal}`, `{sig.min_size|bytes}`); `{{` and `}}` are
//! literal braces. In fix commands every interpolated value is shell-quoted; `|words` quotes
//! each whitespace-separated word of a value alone, for a command held in a fact
//! (`{mta.flush|words}` → `courier flush`), so it still runs as its words and no word can
//! escape its quotes.

use crate::model::Value;

#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    Text(String),
    Ref { path: String, filter: Option<String> },
}

pub const FILTERS: &[&str] = &["octal", "bytes", "count", "duration", "words"];

/// Split a template into pieces; an error names the problem (unclosed brace, bad filter).
pub fn parse(t: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(ch) => inner.push(ch),
                        None => return Err(format!("unclosed `{{` in template {t:?}")),
                    }
                }
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                let (path, filter) = match inner.split_once('|') {
                    Some((p, f)) => (p.trim().to_string(), Some(f.trim().to_string())),
                    None => (inner.trim().to_string(), None),
                };
                if path.is_empty() {
                    return Err(format!("empty `{{}}` in template {t:?}"));
                }
                if let Some(f) = &filter {
                    if !FILTERS.contains(&f.as_str()) {
                        return Err(format!("unknown filter `{f}` in template {t:?} (known: {})", FILTERS.join(", ")));
                    }
                }
                out.push(Piece::Ref { path, filter });
            }
            '}' => return Err(format!("unmatched `}}` in template {t:?} (write `}}}}` for a literal brace)")),
            _ => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

/// Format a value through a filter.
pub fn format_value(v: &Value, filter: Option<&str>) -> String {
    match (filter, v) {
        (Some("octal"), Value::Int(n)) => format!("{n:04o}"),
        (Some("bytes"), Value::Int(n)) => crate::text::human_bytes(*n),
        (Some("count"), Value::List(l)) => l.len().to_string(),
        (Some("duration"), Value::Int(n)) => duration(*n),
        _ => v.to_string(),
    }
}

/// Seconds as an admin says them: `45 s`, `12 min`, `3 h`, `2 days`.
pub fn duration(s: i64) -> String {
    match s {
        i64::MIN..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172800 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86400),
    }
}

/// Render with `lookup` resolving references; `quote` shell-quotes every value.
pub fn render(pieces: &[Piece], lookup: &dyn Fn(&str) -> Option<Value>, quote: bool) -> Result<String, String> {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => s.push_str(t),
            Piece::Ref { path, filter } => {
                let v = lookup(path).ok_or_else(|| format!("`{{{path}}}` has no value"))?;
                let text = format_value(&v, filter.as_deref());
                let text = crate::text::sanitize(&text).into_owned();
                if quote && filter.as_deref() == Some("words") {
                    // A word of a command may be an option (`postqueue -f`): a leading `-`
                    // is kept; any other character the shell would read is still quoted.
                    let words: Vec<String> = text
                        .split_whitespace()
                        .map(|w| match w.strip_prefix('-') {
                            Some(rest) if !rest.is_empty() && crate::text::shell_quote(rest) == rest => w.to_string(),
                            _ => crate::text::shell_quote(w).into_owned(),
                        })
                        .collect();
                    s.push_str(&words.join(" "));
                } else if quote {
                    s.push_str(&crate::text::shell_quote(&text));
                } else {
                    s.push_str(&text);
                }
            }
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_values_are_quoted_and_titles_are_not() {
        let p = parse("chown {user} {dir.path}/Maildir").unwrap();
        let look = |k: &str| match k {
            "user" => Some(Value::from("bob; reboot")),
            "dir.path" => Some(Value::from("/home/bob")),
            _ => None,
        };
        assert_eq!(render(&p, &look, true).unwrap(), "chown 'bob; reboot' /home/bob/Maildir");
        assert_eq!(render(&p, &look, false).unwrap(), "chown bob; reboot /home/bob/Maildir");
    }

    #[test]
    fn filters_and_errors() {
        let p = parse("{t.mode|octal} {{literal}} {s|bytes}").unwrap();
        let look = |k: &str| match k {
            "t.mode" => Some(Value::Int(0o700)),
            "s" => Some(Value::Int(40960)),
            _ => None,
        };
        assert_eq!(render(&p, &look, false).unwrap(), "0700 {literal} 40.0 KB");
        assert!(parse("{oops").unwrap_err().contains("unclosed"));
        assert!(parse("{a|hex}").unwrap_err().contains("unknown filter"));
        assert!(render(&parse("{nope}").unwrap(), &look, false).is_err());
    }

    #[test]
    fn words_quotes_each_word_alone() {
        let p = parse("{m.flush|words}").unwrap();
        let look = |k: &str| (k == "m.flush").then(|| Value::from("courier flush"));
        assert_eq!(render(&p, &look, true).unwrap(), "courier flush");
        let bad = |_: &str| Some(Value::from("courier; rm -rf /"));
        assert_eq!(render(&p, &bad, true).unwrap(), "'courier;' rm -rf /");
        let opt = |_: &str| Some(Value::from("postqueue -f"));
        assert_eq!(render(&p, &opt, true).unwrap(), "postqueue -f");
        let sneaky = |_: &str| Some(Value::from("-$(reboot)"));
        assert_eq!(render(&p, &sneaky, true).unwrap(), "'-$(reboot)'");
    }
}
