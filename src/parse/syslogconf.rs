//! Where syslog writes mail: the file destinations of rsyslog's configuration
//! (`/etc/rsyslog.conf`, `/etc/rsyslog.d/*.conf`, also sysklogd's `/etc/syslog.conf`) and
//! how much of the mail facility each one receives.
//!
//! Understood: legacy selector lines (`mail.*  -/var/log/mail.log`,
//! `*.*;auth,authpriv.none  -/var/log/syslog`, `mail.err  /var/log/mail.err`), `&` actions
//! that repeat the previous filter, the property filter `:syslogfacility-text, isequal,
//! "mail"`, and RainerScript `if $syslogfacility-text == 'mail' then …` / `if
//! prifilt("mail.*") then …` with `action(type="omfile" file="…")` or a legacy file action.
//! Filters on anything else (program names, message text) are not understood and their
//! destinations are left out: unknown is not "no mail".
//!
//! Pure: parses text, never touches the filesystem. Used by the log collector to plan which
//! files hold the mail lines (and which merely repeat them).

/// How much of the mail facility a destination receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MailShare {
    /// None (`mail.none`, or a selector that does not name mail).
    None,
    /// Some priorities only (`mail.err`, `mail.warn`, `mail.=info`): a subset of a full copy.
    Partial,
    /// Every line Postfix and Dovecot normally log (`mail.*`, `mail.debug`, `mail.info`).
    Full,
}

/// One file destination of the syslog configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// The file, as written (the leading `-` "do not sync" mark removed).
    pub path: String,
    /// Line (1-based) of the statement that names it.
    pub line: u64,
    /// The filter as written: `mail.*`, `*.*;auth,authpriv.none`, `$syslogfacility-text == 'mail'`.
    pub filter: String,
    pub mail: MailShare,
    /// No facility but mail goes there: a dedicated mail log (not a catch-all like syslog).
    pub only_mail: bool,
}

/// What a filter lets through, as far as mail is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Filter {
    mail: MailShare,
    only_mail: bool,
}

/// The file destinations of an rsyslog (or sysklogd) configuration, in order. Destinations
/// whose filter is not understood are left out.
pub fn parse_rsyslog(text: &str) -> Vec<Destination> {
    let mut out = Vec::new();
    let mut previous: Option<(Filter, String)> = None;
    for (line, stmt) in statements(text) {
        let s = stmt.trim();
        let (filter, filter_text, action) = if let Some(rest) = s.strip_prefix('&') {
            // `& action`: the previous filter, another action.
            match &previous {
                Some((f, t)) => (Some(*f), t.clone(), rest.trim()),
                None => continue,
            }
        } else if starts_with_word(s, "if") {
            previous = None;
            match if_statement(s) {
                Some((f, t, body)) => {
                    let f = if body.contains("if ") || body.contains("if(") {
                        f.map(|f| Filter { mail: f.mail.min(MailShare::Partial), ..f })
                    } else {
                        f
                    };
                    for path in body_files(body) {
                        if let Some(f) = f {
                            out.push(Destination { path, line, filter: t.clone(), mail: f.mail, only_mail: f.only_mail });
                        }
                    }
                    continue;
                }
                None => continue,
            }
        } else if let Some(rest) = s.strip_prefix(':') {
            match property_filter(rest) {
                Some((f, t, action)) => (f, t, action),
                None => {
                    // A filter on another property: its `&` actions are not about mail either.
                    previous = None;
                    continue;
                }
            }
        } else if s.starts_with('$') || s.starts_with('}') || s.starts_with('{') || is_object(s) {
            // Legacy directives ($IncludeConfig, $FileOwner) and configuration objects
            // (module(), template(), ruleset() {…}): no mail destination of the main ruleset.
            previous = None;
            continue;
        } else if s.starts_with("action(") {
            // An action without a filter takes every message.
            (Some(Filter { mail: MailShare::Full, only_mail: false }), "(every message)".to_string(), s)
        } else {
            let (sel, action) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
            match selector(sel) {
                Some(f) => (Some(f), sel.to_string(), action.trim()),
                None => {
                    previous = None;
                    continue;
                }
            }
        };
        if let Some(f) = filter {
            previous = Some((f, filter_text.clone()));
            if let Some(path) = file_action(action) {
                out.push(Destination { path, line, filter: filter_text, mail: f.mail, only_mail: f.only_mail });
            }
        } else {
            previous = None;
        }
    }
    out
}

fn starts_with_word(s: &str, w: &str) -> bool {
    s.strip_prefix(w).is_some_and(|r| r.starts_with([' ', '\t', '(']))
}

/// RainerScript configuration objects (`module(...)`, `ruleset(...) { ... }`) and statements
/// that are not actions (`stop`, `set $.x = ...;`).
fn is_object(s: &str) -> bool {
    const OBJECTS: &[&str] = &[
        "module",
        "input",
        "global",
        "template",
        "ruleset",
        "main_queue",
        "include",
        "lookup_table",
        "parser",
        "timezone",
        "dyn_stats",
        "percentile_stats",
        "reload_lookup_table",
    ];
    const STATEMENTS: &[&str] = &["stop", "continue", "set", "unset", "reset", "call", "call_indirect", "foreach"];
    let word: String = s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let rest = s[word.len()..].trim_start();
    (OBJECTS.contains(&word.as_str()) && rest.starts_with('(')) || STATEMENTS.contains(&word.as_str())
}

/// Logical statements with the line each starts on: comments removed (`#` to the end of the
/// line, `/* … */`), a line ending in `\` joined to the next, and a statement continued while
/// a `(` or `{` is open (a multi-line `action(...)`, an `if … then { … }` block).
fn statements(text: &str) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = Vec::new();
    let mut cur = String::new();
    let mut start = 0u64;
    let mut depth: i64 = 0;
    let mut in_block_comment = false;
    let mut after_backslash = false;
    for (i, raw) in text.lines().enumerate() {
        let mut line = String::new();
        let mut quote: Option<char> = None;
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            if in_block_comment {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    in_block_comment = false;
                }
                continue;
            }
            match quote {
                Some(q) => {
                    if c == '\\' {
                        line.push(c);
                        if let Some(n) = chars.next() {
                            line.push(n);
                        }
                        continue;
                    }
                    if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '#' => break,
                    // `/*` opens a comment where a statement could start, not inside a path
                    // (`$IncludeConfig /etc/rsyslog.d/*.conf`).
                    '/' if chars.peek() == Some(&'*')
                        && line.chars().last().is_none_or(|p| p.is_whitespace() || matches!(p, ';' | '}' | ')')) =>
                    {
                        chars.next();
                        in_block_comment = true;
                        continue;
                    }
                    '"' | '\'' => quote = Some(c),
                    '(' | '{' => depth += 1,
                    ')' | '}' => depth -= 1,
                    _ => {}
                },
            }
            line.push(c);
        }
        let continued = line.trim_end().ends_with('\\');
        let piece = if continued { line.trim_end().trim_end_matches('\\') } else { line.as_str() };
        if cur.trim().is_empty() {
            cur.clear();
            start = i as u64 + 1;
        }
        if after_backslash {
            // `*.=debug;\` + `\tauth,authpriv.none;\`: one selector, the indent dropped.
            cur.push_str(piece.trim_start());
        } else {
            if !cur.is_empty() {
                cur.push('\n');
            }
            cur.push_str(piece);
        }
        after_backslash = continued;
        if !continued && depth <= 0 {
            depth = 0;
            if !cur.trim().is_empty() {
                out.push((start, std::mem::take(&mut cur)));
            }
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push((start, cur));
    }
    out
}

/// A legacy selector `fac[,fac].[!][=]prio[;…]`: what it lets through for mail. Later
/// selectors override earlier ones for the facilities they name, as in syslogd.
fn selector(sel: &str) -> Option<Filter> {
    if sel.is_empty() || !sel.contains('.') {
        return None;
    }
    let mut mail = MailShare::None;
    let mut others = false;
    for part in sel.split(';').filter(|p| !p.is_empty()) {
        let (facs, prio) = part.rsplit_once('.')?;
        let prio = prio.to_ascii_lowercase();
        let known_prio = prio.trim_start_matches(['!', '=']);
        if !matches!(
            known_prio,
            "*" | "debug" | "info" | "notice" | "warn" | "warning" | "err" | "error" | "crit" | "alert" | "emerg" | "panic" | "none"
        ) {
            return None;
        }
        let share = if prio == "none" {
            MailShare::None
        } else if matches!(prio.as_str(), "*" | "debug" | "info") {
            MailShare::Full
        } else {
            MailShare::Partial
        };
        for fac in facs.split(',') {
            let fac = fac.trim().to_ascii_lowercase();
            if fac.is_empty() || !fac.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'*') {
                return None;
            }
            if fac == "mail" || fac == "*" {
                // `mail.!err` after `mail.*` narrows what went before.
                mail =
                    if prio.starts_with('!') && share != MailShare::None && mail != MailShare::None { MailShare::Partial } else { share };
            }
            if fac != "mail" && prio != "none" {
                others = true;
            }
        }
    }
    Some(Filter { mail, only_mail: !others })
}

/// `:property, [!]compare-op, "value" action` → (filter, its text, action). Only the
/// facility property is understood.
fn property_filter(rest: &str) -> Option<(Option<Filter>, String, &str)> {
    let (prop, rest) = rest.split_once(',')?;
    let (op, rest) = rest.split_once(',')?;
    let rest = rest.trim_start();
    let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let end = rest[1..].find(q)? + 1;
    let value = &rest[1..end];
    let action = rest[end + 1..].trim();
    let text = format!(":{},{}, {}", prop.trim(), op, &rest[..=end]);
    if prop.trim() != "syslogfacility-text" {
        return None;
    }
    let op = op.trim();
    let mail = match op {
        "isequal" if value == "mail" => MailShare::Full,
        "isequal" => MailShare::None,
        _ => return None,
    };
    Some((Some(Filter { mail, only_mail: true }), text, action))
}

/// `if COND then BODY` → (filter of COND when it is about mail, COND as written, BODY).
fn if_statement(s: &str) -> Option<(Option<Filter>, String, &str)> {
    let after_if = &s[2..];
    let then = find_word_outside_quotes(after_if, "then")?;
    let cond = after_if[..then].trim();
    let body = after_if[then + 4..].trim();
    // An `else` part (outside the braces of the then-part) is not about the same filter.
    let body = match body.strip_prefix('{') {
        Some(_) => &body[..matching_brace(body).map_or(body.len(), |e| e + 1)],
        None => body,
    };
    Some((condition(cond), cond.to_string(), body))
}

/// What a RainerScript condition lets through, when it tests the mail facility.
fn condition(cond: &str) -> Option<Filter> {
    let c = cond.trim().trim_start_matches('(').trim_end_matches(')').trim().to_string();
    let lc = c.to_ascii_lowercase();
    if lc.starts_with("not ") || lc.contains("!=") || lc.contains("<>") {
        return None;
    }
    let mut mail = None;
    if let Some(p) = lc.find("prifilt(") {
        let arg = &c[p + 8..];
        let q = arg.trim_start().chars().next()?;
        let arg = arg.trim_start().strip_prefix(q)?;
        let sel = &arg[..arg.find(q)?];
        let f = selector(sel)?;
        mail = Some(f);
    } else {
        let norm: String = lc.split_whitespace().collect::<Vec<_>>().join(" ");
        for pat in [
            "$syslogfacility-text == 'mail'",
            "$syslogfacility-text == \"mail\"",
            "$syslogfacility == 2",
            "$syslogfacility == '2'",
            "$syslogfacility == \"2\"",
        ] {
            if norm.contains(pat) {
                mail = Some(Filter { mail: MailShare::Full, only_mail: true });
            }
        }
    }
    let f = mail?;
    let words: Vec<&str> = lc.split_whitespace().collect();
    if words.contains(&"or") {
        // Mail and something else.
        Some(Filter { mail: f.mail, only_mail: false })
    } else if words.contains(&"and") {
        // Mail, narrowed by something else (a severity, a program): part of it.
        Some(Filter { mail: f.mail.min(MailShare::Partial), only_mail: f.only_mail })
    } else {
        Some(f)
    }
}

fn find_word_outside_quotes(s: &str, word: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut quote = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None => {
                let before = i == 0 || b[i - 1].is_ascii_whitespace() || b[i - 1] == b')';
                let after = b.get(i + word.len()).is_none_or(|c| c.is_ascii_whitespace() || *c == b'{');
                if before && after && b[i..].starts_with(word.as_bytes()) {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

/// Index of the `}` closing the `{` at the start of `s`.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0i64;
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            },
        }
    }
    None
}

/// The files an `if` body writes: its `action(type="omfile" file=…)`s and legacy file
/// actions at the start of a line.
fn body_files(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let inner = body.strip_prefix('{').map(|b| b.strip_suffix('}').unwrap_or(b)).unwrap_or(body);
    let mut rest = inner;
    while let Some(p) = rest.find("action(") {
        let tail = &rest[p..];
        let end = tail.find(')').map_or(tail.len(), |e| e + 1);
        if let Some(path) = file_action(&tail[..end]) {
            out.push(path);
        }
        rest = &tail[end..];
    }
    for l in inner.lines() {
        let t = l.trim();
        if t.starts_with('/') || t.starts_with("-/") {
            if let Some(path) = file_action(t) {
                out.push(path);
            }
        }
    }
    out
}

/// The file an action writes, if it writes a (static) file: `-/var/log/mail.log`,
/// `/var/log/mail.err;RSYSLOG_TraditionalFileFormat`, `action(type="omfile" file="…")`.
fn file_action(action: &str) -> Option<String> {
    let a = action.trim();
    if let Some(params) = a.strip_prefix("action(") {
        let params = params.strip_suffix(')').unwrap_or(params);
        let kv = action_params(params);
        let get = |k: &str| kv.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str());
        if get("type") != Some("omfile") {
            return None;
        }
        return get("file").filter(|f| f.starts_with('/')).map(str::to_string);
    }
    let a = a.strip_prefix('-').unwrap_or(a);
    if !a.starts_with('/') {
        return None;
    }
    let path = a.split([';', ' ', '\t']).next().unwrap_or("");
    (path.len() > 1).then(|| path.to_string())
}

/// `type="omfile" file="/var/log/mail.log" ...` → name/value pairs (quotes removed).
fn action_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().rsplit(|c: char| c.is_whitespace() || c == ',').next().unwrap_or("").to_string();
        let after = rest[eq + 1..].trim_start();
        let (value, next) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => match after[1..].find(q) {
                Some(e) => (after[1..=e].to_string(), &after[e + 2..]),
                None => (after[1..].to_string(), ""),
            },
            _ => {
                let e = after.find(char::is_whitespace).unwrap_or(after.len());
                (after[..e].to_string(), &after[e..])
            }
        };
        out.push((name, value));
        rest = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dests(text: &str) -> Vec<(String, MailShare, bool)> {
        parse_rsyslog(text).into_iter().map(|d| (d.path, d.mail, d.only_mail)).collect()
    }

    /// Debian 12's /etc/rsyslog.conf (rsyslog 8.2302.0-1+deb12u2), as the package ships it.
    const DEBIAN_12: &str = include_str!("../../tests/fixtures/sysroots/dovecot-lda-log/etc/rsyslog.conf");

    #[test]
    fn debian_12_rules() {
        let d = parse_rsyslog(DEBIAN_12);
        let got: Vec<(&str, MailShare, bool)> = d.iter().map(|d| (d.path.as_str(), d.mail, d.only_mail)).collect();
        assert_eq!(
            got,
            [
                ("/var/log/syslog", MailShare::Full, false),
                ("/var/log/auth.log", MailShare::None, false),
                ("/var/log/cron.log", MailShare::None, false),
                ("/var/log/kern.log", MailShare::None, false),
                ("/var/log/mail.log", MailShare::Full, true),
                ("/var/log/user.log", MailShare::None, false),
            ]
        );
        let mail = &d[4];
        assert_eq!((mail.line, mail.filter.as_str()), (63, "mail.*"));
        assert_eq!((d[0].line, d[0].filter.as_str()), (55, "*.*;auth,authpriv.none"));
    }

    #[test]
    fn rhel_messages_excludes_mail_and_maillog_takes_it() {
        let text = "*.info;mail.none;authpriv.none;cron.none                /var/log/messages\nauthpriv.*                                              /var/log/secure\nmail.*                                                  -/var/log/maillog\ncron.*                                                  /var/log/cron\n*.emerg                                                 :omusrmsg:*\nuucp,news.crit                                          /var/log/spooler\nlocal7.*                                                /var/log/boot.log\n";
        let d = dests(text);
        assert_eq!(d[0], ("/var/log/messages".into(), MailShare::None, false));
        assert_eq!(d[2], ("/var/log/maillog".into(), MailShare::Full, true));
        assert_eq!(d.len(), 6);
    }

    #[test]
    fn debian_10_priority_split_logs_are_partial_copies() {
        let text = "mail.*\t\t\t-/var/log/mail.log\nmail.info\t\t\t-/var/log/mail.info\nmail.warn\t\t\t-/var/log/mail.warn\nmail.err\t\t\t/var/log/mail.err\n*.=debug;\\\n\tauth,authpriv.none;\\\n\tnews.none;mail.none\t-/var/log/debug\n*.=info;*.=notice;*.=warn;\\\n\tauth,authpriv.none;\\\n\tcron,daemon.none;\\\n\tmail,news.none\t\t-/var/log/messages\n";
        let d = parse_rsyslog(text);
        let got: Vec<(&str, MailShare, bool, u64)> = d.iter().map(|d| (d.path.as_str(), d.mail, d.only_mail, d.line)).collect();
        assert_eq!(
            got,
            [
                ("/var/log/mail.log", MailShare::Full, true, 1),
                ("/var/log/mail.info", MailShare::Full, true, 2),
                ("/var/log/mail.warn", MailShare::Partial, true, 3),
                ("/var/log/mail.err", MailShare::Partial, true, 4),
                ("/var/log/debug", MailShare::None, false, 5),
                ("/var/log/messages", MailShare::None, false, 8),
            ]
        );
    }

    #[test]
    fn rainerscript_mail_blocks() {
        let text = r#"
template(name="precise" type="string" string="%TIMESTAMP:::date-rfc3339% %HOSTNAME% %syslogtag%%msg%\n")
if $syslogfacility-text == 'mail' then {
    action(type="omfile" file="/var/log/mail/mail.log"
           template="precise")
    stop
}
if ($syslogfacility-text == "mail" and $syslogseverity <= 3) then action(type="omfile" File="/var/log/mail/errors.log")
if prifilt("mail.*") then /var/log/mail-prifilt.log
if $programname == 'postfix' then /var/log/postfix-only.log
if $syslogfacility-text != 'mail' then action(type="omfile" file="/var/log/not-mail.log")
action(type="omfwd" target="192.0.2.1" port="514" protocol="udp")
:syslogfacility-text, isequal, "mail"    /var/log/mail-prop.log
& stop
mail.*  action(type="omfile" file="/var/log/mail-action.log")
& /var/log/mail-copy.log
"#;
        let d = parse_rsyslog(text);
        let got: Vec<(&str, MailShare, bool)> = d.iter().map(|d| (d.path.as_str(), d.mail, d.only_mail)).collect();
        assert_eq!(
            got,
            [
                ("/var/log/mail/mail.log", MailShare::Full, true),
                ("/var/log/mail/errors.log", MailShare::Partial, true),
                ("/var/log/mail-prifilt.log", MailShare::Full, true),
                ("/var/log/mail-prop.log", MailShare::Full, true),
                ("/var/log/mail-action.log", MailShare::Full, true),
                ("/var/log/mail-copy.log", MailShare::Full, true),
            ]
        );
        assert_eq!(d[0].filter, "$syslogfacility-text == 'mail'");
        assert_eq!(d[0].line, 3);
    }

    #[test]
    fn comments_remote_and_user_actions_are_not_files() {
        let text = "# mail.* /var/log/commented.log\n/* mail.* /var/log/block.log\n*/\nmail.* @@loghost.example:514\nmail.* |/dev/xconsole\nmail.* ?DynMail\nmail.err root,alice\nmail.* ~\nmail.* /var/log/real.log;RSYSLOG_FileFormat\n";
        assert_eq!(dests(text), [("/var/log/real.log".to_string(), MailShare::Full, true)]);
    }

    #[test]
    fn garbage_is_survived() {
        for t in [
            "",
            "{",
            "}",
            "if",
            "if then",
            "if x then {",
            ":",
            ":a,b",
            ":a,b,\"",
            "mail.",
            ".",
            "*.* -",
            "action(",
            "mail.* action(type=",
            "\\",
            "/*",
            "'",
            "if prifilt(\"",
            "$",
        ] {
            let _ = parse_rsyslog(t);
        }
    }
}
