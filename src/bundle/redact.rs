//! `collect --redact`: a bundle safe to attach to a ticket. Mail addresses, user names, IP
//! addresses and host names are replaced by stable pseudonyms — the same value always gives
//! the same token within the bundle, so the facts still join and the diagnoses are the same
//! (as insights-core's obfuscation and sosreport's cleaner do).
//!
//! - user names (the accounts of /etc/passwd with uid ≥ 1000, and the local parts of mail
//!   addresses) → `user1`, `user2`, … (in texts, paths such as /home/alice, addresses);
//! - host and domain names → each label except the last is replaced (`mx1.lab.example` →
//!   `h1.h2.example`, `lab.example` → `h2.example`), so a host stays inside its domain;
//! - IPv4 addresses → `198.18.N.x`: the /24 is replaced, the last octet kept, so a client
//!   stays inside its `mynetworks` /24; loopback and 0.0.0.0 are kept;
//! - IPv6 addresses (with `::` or eight groups) → `2001:db8::N`; `::1` is kept.
//!
//! Not replaced: system accounts (uid < 1000: postfix, dovecot, …), file contents other than
//! text, sizes, modes, times. Names the collectors did not see in an address, after a
//! `name[ip]`, in /etc/hostname, /etc/mailname, main.cf or the bundle's host name are kept.

use super::{Bundle, Payload, Source};
use regex::Regex;
use std::collections::{BTreeSet, HashMap};

/// Pseudonyms for one bundle.
#[derive(Default)]
pub struct Redactor {
    users: HashMap<String, String>,
    labels: HashMap<String, String>,
    hosts: BTreeSet<String>,
    nets: HashMap<String, String>,
    v6: HashMap<String, String>,
}

fn re(s: &str) -> Regex {
    Regex::new(s).unwrap_or_else(|e| panic!("built-in regex {s}: {e}"))
}

/// Endings of file names that look like domains (main.cf, mail.log, cert.pem).
const FILE_ENDINGS: &[&str] = &[
    "cf", "db", "lmdb", "cdb", "pem", "key", "crt", "conf", "log", "gz", "so", "d", "pid", "service", "socket", "ron", "json", "txt", "sh",
    "py", "lock",
];

impl Redactor {
    /// Learn the names to replace from every observation of `b`.
    pub fn learn(b: &Bundle) -> Redactor {
        let mut r = Redactor::default();
        let email = re(r"([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)");
        let bracket = re(r"([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\[");
        let domain = re(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$");
        r.add_host(&b.host);
        for o in &b.observations {
            let Some(text) = o.text() else { continue };
            let path = match &o.source {
                Source::File { path } => path.as_str(),
                _ => "",
            };
            if path == "/etc/passwd" {
                for line in text.lines() {
                    let f: Vec<&str> = line.split(':').collect();
                    if let (Some(name), Some(uid)) = (f.first(), f.get(2).and_then(|u| u.parse::<u32>().ok())) {
                        if uid >= 1000 && uid != 65534 && name.len() >= 2 {
                            r.user(name);
                        }
                    }
                }
            }
            if path == "/etc/hostname" || path == "/etc/mailname" {
                r.add_host(text.trim());
            }
            if path.ends_with("main.cf") || matches!(&o.source, Source::Command { argv } if argv.first().is_some_and(|a| a == "postconf")) {
                for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
                    for tok in line.split(|c: char| c.is_whitespace() || matches!(c, ',' | '=' | '[' | ']' | ':')) {
                        if domain.is_match(tok) && !tok.contains('/') && !tok.chars().all(|c| c.is_ascii_digit() || c == '.') {
                            let last = tok.rsplit('.').next().unwrap_or("");
                            if !FILE_ENDINGS.contains(&last.to_ascii_lowercase().as_str()) && last.chars().all(|c| c.is_ascii_alphabetic())
                            {
                                r.add_host(tok);
                            }
                        }
                    }
                }
            }
            for c in email.captures_iter(text) {
                r.user(&c[1]);
                r.add_host(&c[2]);
            }
            for c in bracket.captures_iter(text) {
                r.add_host(&c[1]);
            }
        }
        r
    }

    fn user(&mut self, name: &str) -> String {
        let n = self.users.len() + 1;
        self.users.entry(name.to_string()).or_insert_with(|| format!("user{n}")).clone()
    }

    fn add_host(&mut self, h: &str) {
        let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
        if h.is_empty() || h == "localhost" || h == "unknown" || !h.contains('.') || h.ends_with(".arpa") {
            return;
        }
        self.hosts.insert(h);
    }

    /// `mx1.lab.example` → `h1.h2.example`: every label but the last, one pseudonym each.
    fn host(&mut self, h: &str) -> String {
        let lower = h.to_ascii_lowercase();
        let labels: Vec<&str> = lower.split('.').collect();
        let mut out = Vec::with_capacity(labels.len());
        for (i, l) in labels.iter().enumerate() {
            if i + 1 == labels.len() {
                out.push(l.to_string());
            } else {
                let n = self.labels.len() + 1;
                out.push(self.labels.entry(l.to_string()).or_insert_with(|| format!("h{n}")).clone());
            }
        }
        out.join(".")
    }

    fn ipv4(&mut self, a: [u8; 4]) -> String {
        if a[0] == 127 || a == [0, 0, 0, 0] || a[0] == 255 {
            return format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
        }
        let key = format!("{}.{}.{}", a[0], a[1], a[2]);
        let n = self.nets.len();
        let net = self.nets.entry(key).or_insert_with(|| format!("198.{}.{}", 18 + (n / 256) % 2, n % 256)).clone();
        format!("{net}.{}", a[3])
    }

    fn ipv6(&mut self, a: &str) -> String {
        let n = self.v6.len() + 1;
        self.v6.entry(a.to_ascii_lowercase()).or_insert_with(|| format!("2001:db8::{n:x}")).clone()
    }

    /// One text with every known name, address and user replaced.
    pub fn text(&mut self, s: &str) -> String {
        let email = re(r"([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)");
        let s = email.replace_all(s, |c: &regex::Captures| format!("{}@{}", self.user(&c[1]), self.host(&c[2]))).into_owned();
        let v4 = re(r"\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b");
        let s = v4
            .replace_all(&s, |c: &regex::Captures| {
                let o: Vec<u8> = (1..=4).filter_map(|i| c[i].parse::<u8>().ok()).collect();
                match <[u8; 4]>::try_from(o) {
                    Ok(a) => self.ipv4(a),
                    Err(_) => c[0].to_string(),
                }
            })
            .into_owned();
        let v6 = re(r"(?i)\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b|::[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}\b");
        let s = v6
            .replace_all(&s, |c: &regex::Captures| {
                let a = &c[0];
                let groups = a.split(':').count();
                if a == "::1" || a == "::" || !(a.contains("::") || groups == 8) || !a.contains(':') {
                    a.to_string()
                } else {
                    self.ipv6(a)
                }
            })
            .into_owned();
        let dom = re(r"\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b");
        let s = dom
            .replace_all(&s, |c: &regex::Captures| {
                let d = &c[0];
                if self.hosts.contains(&d.to_ascii_lowercase()) {
                    self.host(d)
                } else {
                    d.to_string()
                }
            })
            .into_owned();
        if self.users.is_empty() {
            return s;
        }
        let mut names: Vec<&String> = self.users.keys().collect();
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let alt: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
        let words = re(&format!(r"(^|[^A-Za-z0-9_.@-])({})($|[^A-Za-z0-9_@-])", alt.join("|")));
        // Twice: adjacent matches share the separator between them.
        let mut s = s;
        for _ in 0..2 {
            s = words
                .replace_all(&s, |c: &regex::Captures| format!("{}{}{}", &c[1], self.users.get(&c[2]).cloned().unwrap_or_default(), &c[3]))
                .into_owned();
        }
        s
    }
}

/// Replace every address, user name, IP and host name in `b` by its pseudonym; returns how
/// many distinct values were replaced.
pub fn redact(b: &mut Bundle) -> usize {
    let mut r = Redactor::learn(b);
    b.host = r.text(&b.host);
    // The directory given to --root on the collecting machine says nothing the diagnosis
    // needs and may name the host (/srv/copy-of-mx1).
    if b.root != "/" {
        b.root = "(redacted)".to_string();
    }
    for o in &mut b.observations {
        match &mut o.source {
            Source::Stat { path } | Source::File { path } | Source::Statvfs { path } | Source::Listing { path } => *path = r.text(path),
            Source::Log { path, reason } => {
                *path = r.text(path);
                if let Some(x) = reason {
                    *x = r.text(x);
                }
            }
            Source::Command { argv } => {
                for a in argv.iter_mut() {
                    *a = r.text(a);
                }
            }
            Source::Dns { name, .. } => *name = r.text(name),
            Source::Proc { what } => *what = r.text(what),
        }
        match &mut o.payload {
            Payload::Text { text, .. } => *text = r.text(text),
            Payload::Failed { message, .. } => *message = r.text(message),
            Payload::Stat(st) => {
                if let Some(t) = &mut st.target {
                    *t = r.text(t);
                }
            }
            Payload::Listing { entries, .. } => {
                for e in entries.iter_mut() {
                    e.path = r.text(&e.path);
                }
            }
            Payload::Statvfs(_) | Payload::Absent => {}
        }
    }
    r.users.len() + r.labels.len() + r.nets.len() + r.v6.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_value_gets_the_same_pseudonym_and_structure_is_kept() {
        let mut r = Redactor::default();
        r.user("alice");
        r.add_host("mx1.lab.example");
        r.add_host("lab.example");
        let a = r.text("to=<alice@lab.example>, relay=mx1.lab.example[192.168.1.5]:25, client 192.168.1.77 home /home/alice/Maildir");
        let b = r.text("alice@lab.example 192.168.1.5 mx1.lab.example 127.0.0.1 10:45:29 4F3A: [2001:db8:1::7]");
        // Labels are numbered as first met: lab (in the address) before mx1.
        assert_eq!(a, "to=<user1@h1.example>, relay=h2.h1.example[198.18.0.5]:25, client 198.18.0.77 home /home/user1/Maildir");
        assert_eq!(b, "user1@h1.example 198.18.0.5 h2.h1.example 127.0.0.1 10:45:29 4F3A: [2001:db8::1]");
    }
}
