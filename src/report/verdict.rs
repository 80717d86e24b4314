//! The one-word answer a monitoring system (and a shell script) wants: OK, WARNING,
//! CRITICAL or UNKNOWN, with the monitoring-plugin exit codes 0–3, and the short human
//! phrases for what could not be checked.
//!
//! From severities: a diagnosis of severity critical or error makes the verdict CRITICAL; one
//! of severity warning makes it WARNING; info alone (greylisting) leaves it OK. With no
//! diagnosis above info, a report where rules were skipped because facts could not be
//! observed is UNKNOWN, never OK: "could not check N of M rules". A log read on its own
//! (`--log` away from the host) says what it can of that log, and is OK when nothing in it
//! is wrong: its report says the host was not observed. No mail system found is OK.

use crate::kb::rule::Severity;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Verdict {
    /// The monitoring-plugin exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub fn code(self) -> u8 {
        match self {
            Verdict::Ok => 0,
            Verdict::Warning => 1,
            Verdict::Critical => 2,
            Verdict::Unknown => 3,
        }
    }
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::Warning => "WARNING",
            Verdict::Critical => "CRITICAL",
            Verdict::Unknown => "UNKNOWN",
        }
    }
    /// The verdict a diagnosis of this severity asks for.
    pub fn of_severity(s: Severity) -> Verdict {
        match s {
            Severity::Critical | Severity::Error => Verdict::Critical,
            Severity::Warning => Verdict::Warning,
            Severity::Info => Verdict::Ok,
        }
    }
}

/// The rules that could not run, and what would let them.
#[derive(Clone, Debug, Serialize)]
pub struct NotChecked {
    /// Rules skipped because a fact they read could not be observed.
    pub rules_skipped: usize,
    /// Rules evaluated in all.
    pub rules: usize,
    /// What would let them run: "run as root to see them".
    pub hint: String,
}

impl NotChecked {
    /// "could not check 13 of 68 rules: run as root to see them"
    pub fn sentence(&self) -> String {
        format!("could not check {} of {} rules: {}", self.rules_skipped, self.rules, self.hint)
    }
}

/// What would let the skipped rules run, from the reasons the facts were not observed.
pub fn hint(whys: &[&str], live: bool, root: bool) -> String {
    let lower: Vec<String> = whys.iter().map(|w| w.to_lowercase()).collect();
    if lower.iter().any(|w| w.contains("permission denied") || w.contains("not permitted")) {
        return "run as root to see them".to_string();
    }
    if root && lower.iter().any(|w| w.contains("--root")) {
        return "commands, sockets and DNS are not used under --root; run mailsleuth on the host itself, as root".to_string();
    }
    if !live && !root {
        return "the bundle lacks what they read; collect it again on the host, as root".to_string();
    }
    "see \"Not checked\"".to_string()
}

/// A short human phrase for one group of unobserved things: its topic (from the fact kinds
/// it leaves incomplete) and the reason in a few words. The raw `what` and `why` (command
/// lines, errors) stay in JSON and `--verbose`.
pub fn short_phrase(kinds: &[String], what: &str, why: &str) -> String {
    if let Some(p) = missing_queue_dirs(why) {
        return p;
    }
    let mut topics: Vec<String> = Vec::new();
    for k in kinds {
        let t = topic(k).map(str::to_string).unwrap_or_else(|| k.replace('_', " "));
        if !topics.contains(&t) {
            topics.push(t);
        }
    }
    // Many topics at once (a log read alone: nothing of the host): the record's own words.
    if topics.is_empty() || topics.len() > 6 {
        topics = vec![what.to_string()];
    }
    format!("{}: {}", topics.join(", "), reason(why))
}

fn topic(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "fs_usage" | "queue_space" => "free space",
        "mount" => "mounts",
        "process" | "pid_file" => "running processes",
        "service_state" => "systemd units",
        "listening" => "listening sockets",
        "interface" => "network interfaces",
        "smtp_banner" => "SMTP banners",
        "dns_answer" | "resolver" | "dns" => "DNS answers",
        "resolv_conf" | "hosts_entry" => "resolver configuration",
        k if k.starts_with("firewall") || k == "ufw" => "firewall rules",
        "postconf" | "mailconf" | "instance_setting" | "postfix_instance" => "Postfix configuration",
        "master_service" => "Postfix master.cf",
        "queue_summary" | "queue_age" | "queue" => "the queue",
        "queue_destination" | "queue_reason" => "queue destinations and delay reasons",
        "mailbox" | "maildir_contents" => "mailboxes",
        "path_stat" | "stat" | "path_absent" => "file modes and owners",
        "dovecot_setting" => "Dovecot configuration",
        "courier_setting" => "Courier configuration",
        k if k.starts_with("log") || k == "delivery_failure" || k == "delivery_summary" || k == "samples" => "mail logs",
        _ => return None,
    })
}

fn reason(why: &str) -> String {
    let w = why.to_lowercase();
    let r = if w.contains("permission denied") || w.contains("not permitted") {
        "not readable as this user"
    } else if w.contains("log only") {
        "not observed (a log read on its own)"
    } else if w.contains("--root") {
        "not used under --root"
    } else if w.contains("timed out") {
        "timed out"
    } else if w.contains("not installed") {
        "the command is not installed"
    } else if w.contains("none in this bundle") || w.contains("not collected") {
        "not in this bundle"
    } else if w.contains("no mail log") {
        "no mail log found"
    } else if w.contains("does not exist") || w.contains("no such file") {
        "missing"
    } else {
        return crate::text::truncate_chars(why, 80).to_string();
    };
    r.to_string()
}

/// "queue directories hold, incoming in /var/spool/postfix: does not exist" → "the hold and
/// incoming queue directories are missing".
fn missing_queue_dirs(why: &str) -> Option<String> {
    let at = why.find("queue directories ")?;
    let rest = &why[at + "queue directories ".len()..];
    let (names, tail) = rest.split_once(" in ")?;
    if !tail.contains("does not exist") {
        return None;
    }
    let names: Vec<&str> = names.split(", ").collect();
    Some(match names.as_slice() {
        [one] => format!("the {one} queue directory is missing"),
        [init @ .., last] => format!("the {} and {last} queue directories are missing", init.join(", ")),
        [] => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_map_to_plugin_codes() {
        assert_eq!(Verdict::of_severity(Severity::Critical).code(), 2);
        assert_eq!(Verdict::of_severity(Severity::Error).code(), 2);
        assert_eq!(Verdict::of_severity(Severity::Warning).code(), 1);
        assert_eq!(Verdict::of_severity(Severity::Info).code(), 0);
        assert_eq!(Verdict::Unknown.code(), 3);
    }

    #[test]
    fn short_phrases_name_the_topic_and_the_reason() {
        assert_eq!(
            short_phrase(&["queue_summary".into()], "the Postfix queue", "queue directories hold in /var/spool/postfix: does not exist"),
            "the hold queue directory is missing"
        );
        assert_eq!(
            short_phrase(
                &["queue_summary".into()],
                "the Postfix queue",
                "queue directories hold, incoming in /var/spool/postfix: does not exist"
            ),
            "the hold and incoming queue directories are missing"
        );
        assert_eq!(
            short_phrase(
                &["fs_usage".into(), "queue_space".into()],
                "statvfs /tmp, statvfs /var/tmp",
                "not run: --root given: free space unknown"
            ),
            "free space: not used under --root"
        );
        assert_eq!(
            short_phrase(&["process".into()], "/proc/1/status", "Permission denied (os error 13)"),
            "running processes: not readable as this user"
        );
    }

    #[test]
    fn the_hint_says_run_as_root_when_permissions_stopped_it() {
        assert_eq!(hint(&["not run: --root given", "permission denied"], true, false), "run as root to see them");
        assert!(hint(&["not run: --root given"], false, true).contains("--root"));
    }
}
