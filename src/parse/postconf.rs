//! Postfix configuration: `postconf -n` output or `main.cf` itself, parsed into settings and
//! a [`Config`] with `$name` expansion, plus the small [`Plan`] collectors use to know where
//! to look. No facts here (`facts/postconf.rs` makes them).
//!
//! `main.cf` rules followed here (postconf(5)): a line starting with whitespace continues the
//! previous one; `#` starts a comment only at the start of a (logical) line; the last
//! assignment of a name wins; `$name` and `${name}` expand recursively. Unset parameters take
//! the defaults in `knowledge/postfix/defaults.ron`.

use crate::kb::reference::postfix_defaults as defaults;
use std::collections::BTreeMap;

/// One explicit setting, with the line it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub name: String,
    pub raw: String,
    pub line: u64,
}

/// Parse `main.cf` or `postconf -n` text (same syntax). Later assignments win.
pub fn parse_main_cf(text: &str) -> Vec<Setting> {
    let mut out: Vec<Setting> = Vec::new();
    let mut cur: Option<Setting> = None;
    for (i, line) in text.lines().enumerate() {
        let lineno = i as u64 + 1;
        if line.starts_with([' ', '\t']) {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if let Some(c) = cur.as_mut() {
                c.raw.push(' ');
                c.raw.push_str(line.trim());
            }
            continue;
        }
        if let Some(c) = cur.take() {
            out.push(c);
        }
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some((name, value)) = t.split_once('=') {
            let name = name.trim();
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-' || b == b'/') {
                cur = Some(Setting { name: name.to_string(), raw: value.trim().to_string(), line: lineno });
            }
        }
    }
    if let Some(c) = cur {
        out.push(c);
    }
    out
}

/// The effective configuration: explicit settings over defaults, with expansion.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub explicit: BTreeMap<String, Setting>,
    /// Defaults as the installed Postfix reports them (`postconf -d`), when it ran.
    pub compiled: BTreeMap<String, String>,
    /// Where the explicit settings came from (`postconf -n`, `/etc/postfix/main.cf`).
    pub origin: String,
    pub observation: Option<u32>,
}

impl Config {
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.explicit
            .get(name)
            .map(|s| s.raw.as_str())
            .or_else(|| self.compiled.get(name).map(String::as_str))
            .or_else(|| defaults().get(name).map(String::as_str))
    }
    /// The value with `$name` / `${name}` expanded (bounded depth: a loop stays unexpanded).
    /// A value whose expansion exceeds the budget (see [`Config::expansion`]) is returned as
    /// written, unexpanded.
    pub fn value(&self, name: &str) -> Option<String> {
        self.expansion(name).map(|r| r.unwrap_or_else(|_| self.raw(name).unwrap_or_default().to_string()))
    }
    /// The expanded value, or why it could not be expanded. Like Postfix's own "unreasonable
    /// macro call nesting", expansion is bounded: a main.cf whose parameters refer to each
    /// other in a fan (`a = $b$b$b`, `b = $c$c$c`, ...) would otherwise grow exponentially, so
    /// both the number of parameter lookups and the size of the result are capped.
    pub fn expansion(&self, name: &str) -> Option<Result<String, String>> {
        let raw = self.raw(name)?;
        let mut budget = ExpandBudget { lookups: 0 };
        let mut out = String::new();
        Some(self.expand(raw, 0, &mut budget, &mut out).map(|()| out))
    }
    fn expand(&self, s: &str, depth: u32, budget: &mut ExpandBudget, out: &mut String) -> Result<(), String> {
        if depth > 10 || !s.contains('$') {
            return push_bounded(out, s);
        }
        let mut rest = s;
        while let Some(pos) = rest.find('$') {
            push_bounded(out, &rest[..pos])?;
            let after = &rest[pos + 1..];
            let (name, consumed) = if let Some(inner) = after.strip_prefix('{') {
                match inner.find('}') {
                    Some(end) => (&inner[..end], end + 2),
                    None => ("", 0),
                }
            } else if let Some(inner) = after.strip_prefix('(') {
                match inner.find(')') {
                    Some(end) => (&inner[..end], end + 2),
                    None => ("", 0),
                }
            } else {
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (&after[..end], end)
            };
            if name.is_empty() || name.contains([':', '?']) {
                // `$$`, a conditional `${name?value}` or junk: keep literally.
                push_bounded(out, "$")?;
                rest = after;
                continue;
            }
            budget.lookups += 1;
            if budget.lookups > MAX_EXPANSION_LOOKUPS {
                return Err(format!("unreasonable macro call nesting: more than {MAX_EXPANSION_LOOKUPS} parameter references to expand"));
            }
            match self.raw(name) {
                Some(v) => self.expand(v, depth + 1, budget, out)?,
                None => {
                    push_bounded(out, "$")?;
                    push_bounded(out, &after[..consumed])?;
                }
            }
            rest = &after[consumed..];
        }
        push_bounded(out, rest)
    }
}

/// Parameter references one expansion may follow; real configurations use a few dozen.
pub const MAX_EXPANSION_LOOKUPS: u32 = 10_000;
/// Bytes one expanded value may reach; real values are at most a few kilobytes.
pub const MAX_EXPANDED_BYTES: usize = 1 << 20;

struct ExpandBudget {
    lookups: u32,
}

fn push_bounded(out: &mut String, s: &str) -> Result<(), String> {
    if out.len() + s.len() > MAX_EXPANDED_BYTES {
        return Err(format!("unreasonable macro expansion: the value would exceed {} KiB", MAX_EXPANDED_BYTES >> 10));
    }
    out.push_str(s);
    Ok(())
}

/// The configuration from its explicit settings (`postconf -n` output or main.cf's text,
/// read from `origin`, observation `observation`) and, when known, `postconf -d`'s compiled-in
/// defaults.
pub fn config_of(explicit: &str, origin: &str, observation: Option<u32>, compiled: Option<&str>) -> Config {
    Config {
        explicit: parse_main_cf(explicit).into_iter().map(|s| (s.name.clone(), s)).collect(),
        compiled: compiled.map(|t| parse_main_cf(t).into_iter().map(|s| (s.name, s.raw)).collect()).unwrap_or_default(),
        origin: origin.to_string(),
        observation,
    }
}

/// Where collectors should look, from the configuration (or defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub queue_directory: String,
    pub mail_spool_directory: String,
    pub home_mailbox: String,
    pub maillog_file: Option<String>,
    /// UNIX-domain sockets that mailbox_transport, virtual_transport or local_transport
    /// deliver to (`lmtp:unix:private/dovecot-lmtp` → under queue_directory).
    pub transport_sockets: Vec<String>,
}

/// Transports that deliver to local mailboxes.
pub const MAILBOX_TRANSPORTS: &[&str] = &["mailbox_transport", "virtual_transport", "local_transport"];

/// The socket an `lmtp:unix:PATH` (or `lmtp:PATH`) transport connects to; a relative path is
/// relative to the queue directory, where Postfix's daemons run.
pub fn unix_socket_of(transport: &str, queue_directory: &str) -> Option<String> {
    let rest = transport.trim().strip_prefix("lmtp:")?;
    if rest.starts_with("inet:") || rest.starts_with('[') {
        return None;
    }
    let path = rest.strip_prefix("unix:").unwrap_or(rest);
    // lmtp:host:port without a scheme is TCP; a socket path has a slash.
    if path.is_empty() || !path.contains('/') {
        return None;
    }
    Some(if path.starts_with('/') { path.to_string() } else { format!("{}/{path}", queue_directory.trim_end_matches('/')) })
}

impl Plan {
    /// Where to look, from a parsed configuration.
    pub fn of(cfg: &Config) -> Plan {
        let get = |n: &str, d: &str| cfg.value(n).filter(|v| !v.is_empty()).unwrap_or_else(|| d.to_string());
        Plan {
            queue_directory: get("queue_directory", "/var/spool/postfix"),
            mail_spool_directory: get("mail_spool_directory", "/var/mail"),
            home_mailbox: get("home_mailbox", ""),
            maillog_file: cfg.value("maillog_file").filter(|v| !v.is_empty()),
            transport_sockets: {
                let q = get("queue_directory", "/var/spool/postfix");
                let mut v: Vec<String> = MAILBOX_TRANSPORTS.iter().filter_map(|p| unix_socket_of(&cfg.value(p)?, &q)).collect();
                v.dedup();
                v
            },
        }
    }
}

/// `[host]:port`, `host:port`, `host` → (host, port, whether MX records are looked up).
pub fn split_relayhost(v: &str) -> Option<(String, Option<u16>, bool)> {
    let v = v.split([',', ' ']).find(|x| !x.is_empty())?;
    let v = v.strip_prefix("inet:").unwrap_or(v);
    if let Some(rest) = v.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((host.to_string(), port, false));
    }
    match v.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h.to_string(), p.parse().ok(), true)),
        _ => Some((v.to_string(), None, true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN_CF: &str = "# See /usr/share/postfix/main.cf.dist\nmyhostname = mx1.example.org\nmydomain = example.org\nmydestination = $myhostname, localhost.${mydomain},\n    localhost\n  # a comment inside a continuation is ignored\nrelayhost = [smtp.example.net]:587\nrelayhost = [smtp2.example.net]:587\nmailbox_command = /usr/bin/maildrop -d \"$USER\"\n";

    #[test]
    fn continuation_lines_comments_and_last_assignment_win() {
        let s = parse_main_cf(MAIN_CF);
        let names: Vec<_> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["myhostname", "mydomain", "mydestination", "relayhost", "relayhost", "mailbox_command"]);
        assert_eq!(s[2].raw, "$myhostname, localhost.${mydomain}, localhost");
        assert_eq!(s[4].line, 8);
    }

    #[test]
    fn expansion_uses_explicit_values_then_defaults() {
        let explicit = parse_main_cf(MAIN_CF).into_iter().map(|s| (s.name.clone(), s)).collect();
        let cfg = Config { explicit, origin: "main.cf".into(), ..Config::default() };
        assert_eq!(cfg.value("mydestination").as_deref(), Some("mx1.example.org, localhost.example.org, localhost"));
        assert_eq!(cfg.value("relayhost").as_deref(), Some("[smtp2.example.net]:587"));
        assert_eq!(cfg.value("queue_directory").as_deref(), Some("/var/spool/postfix"));
        // $USER is not a Postfix parameter: it is for the pipe, and stays as written.
        assert_eq!(cfg.value("mailbox_command").as_deref(), Some("/usr/bin/maildrop -d \"$USER\""));
    }

    #[test]
    fn relayhost_forms() {
        assert_eq!(split_relayhost("[smtp.example.net]:587"), Some(("smtp.example.net".into(), Some(587), false)));
        assert_eq!(split_relayhost("smtp.example.net"), Some(("smtp.example.net".into(), None, true)));
        assert_eq!(split_relayhost("[192.0.2.10]"), Some(("192.0.2.10".into(), None, false)));
        assert_eq!(split_relayhost("relay.example.net:25, backup.example.net"), Some(("relay.example.net".into(), Some(25), true)));
        assert_eq!(split_relayhost(""), None);
    }

    #[test]
    fn lmtp_sockets_are_found_under_the_queue_directory() {
        let q = "/var/spool/postfix";
        assert_eq!(unix_socket_of("lmtp:unix:private/dovecot-lmtp", q).as_deref(), Some("/var/spool/postfix/private/dovecot-lmtp"));
        assert_eq!(unix_socket_of("lmtp:unix:/run/dovecot/lmtp", q).as_deref(), Some("/run/dovecot/lmtp"));
        assert_eq!(unix_socket_of("lmtp:private/dovecot-lmtp", q).as_deref(), Some("/var/spool/postfix/private/dovecot-lmtp"));
        assert_eq!(unix_socket_of("lmtp:inet:127.0.0.1:24", q), None);
        assert_eq!(unix_socket_of("lmtp:[127.0.0.1]:24", q), None);
        assert_eq!(unix_socket_of("lmtp:localhost:24", q), None);
        assert_eq!(unix_socket_of("dovecot", q), None);
    }

    #[test]
    fn defaults_file_parses() {
        assert_eq!(
            ron::from_str::<BTreeMap<String, String>>(crate::kb::reference::DEFAULTS_RON).map(|m| m.len()).map_err(|e| e.to_string()),
            Ok(defaults().len())
        );
        assert_eq!(defaults().get("queue_directory").map(String::as_str), Some("/var/spool/postfix"));
    }
}

/// Property tests: whatever parameters refer to whatever others, expansion ends within its
/// bounds (or says why not), and parsing never panics.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn expansion_ends_within_its_bounds(refs in prop::collection::vec(prop::collection::vec((0usize..7, "[ ,.x{}$]{0,3}"), 0..12), 1..8)) {
            let text: String = refs
                .iter()
                .enumerate()
                .map(|(i, r)| format!("p{i} = {}\n", r.iter().map(|(j, lit)| format!("$p{j}{lit}")).collect::<String>()))
                .collect();
            let explicit = parse_main_cf(&text).into_iter().map(|s| (s.name.clone(), s)).collect();
            let cfg = Config { explicit, origin: "main.cf".into(), ..Config::default() };
            for i in 0..refs.len() {
                let start = std::time::Instant::now();
                match cfg.expansion(&format!("p{i}")) {
                    Some(Ok(v)) => prop_assert!(v.len() <= MAX_EXPANDED_BYTES),
                    Some(Err(why)) => prop_assert!(why.contains("unreasonable macro"), "{}", why),
                    None => prop_assert!(false, "p{} is set", i),
                }
                prop_assert!(start.elapsed() < std::time::Duration::from_secs(5));
            }
        }

        #[test]
        fn any_text_parses_to_clean_names(text in "\\PC{0,300}") {
            for s in parse_main_cf(&text) {
                prop_assert!(!s.name.is_empty() && !s.name.contains(['=', ' ', '\n']));
            }
        }
    }
}
