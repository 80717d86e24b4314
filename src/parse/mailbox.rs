//! Where mailboxes live: mail users from passwd, each user's Maildir from Postfix's
//! `home_mailbox` and Dovecot's `mail_location`, and the plan the collector follows.

use super::postconf::Config;
use crate::bundle::Source;

/// A real user from passwd: (name, uid, gid, home).
pub type User = (String, u32, u32, String);

/// Users who receive mail: uid ≥ `first_uid`, not nobody, with a real home. Bounded.
pub fn mail_users(passwd: &str, first_uid: u32, limit: usize) -> Vec<User> {
    passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            let uid: u32 = f[2].parse().ok()?;
            let gid: u32 = f[3].parse().ok()?;
            let home = f[5];
            (uid >= first_uid && uid != 65534 && home.starts_with('/') && home != "/" && home != "/nonexistent")
                .then(|| (f[0].to_string(), uid, gid, home.to_string()))
        })
        .take(limit)
        .collect()
}

/// The Maildir of a user, from Postfix `home_mailbox` (`Maildir/`) or Dovecot `mail_location`
/// (`maildir:~/Maildir`); `None` means mbox in the spool.
pub fn maildir_of(home: &str, user: &str, home_mailbox: &str, mail_location: &str) -> Option<String> {
    if home_mailbox.ends_with('/') {
        return Some(format!("{}/{}", home.trim_end_matches('/'), home_mailbox.trim_end_matches('/')));
    }
    let loc = mail_location.strip_prefix("maildir:")?;
    let loc = loc.split(':').next().unwrap_or(loc);
    let p = loc.replace("%u", user).replace("%n", user);
    Some(match p.strip_prefix("~/") {
        Some(rest) => format!("{}/{}", home.trim_end_matches('/'), rest.trim_end_matches('/')),
        None => p.trim_end_matches('/').to_string(),
    })
}

/// The inputs a mailbox plan needs, from the configuration.
pub struct MailboxPlan {
    pub first_uid: u32,
    pub home_mailbox: String,
    pub mail_location: String,
    pub spool: String,
}

impl MailboxPlan {
    pub fn new(cfg: &Config, dovecot: &[(String, String, String)]) -> MailboxPlan {
        let dv = |k: &str| dovecot.iter().rev().find(|(s, n, _)| s.is_empty() && n == k).map(|(_, _, v)| v.clone());
        MailboxPlan {
            first_uid: dv("first_valid_uid").and_then(|v| v.parse().ok()).unwrap_or(1000),
            home_mailbox: cfg.value("home_mailbox").unwrap_or_default(),
            mail_location: dv("mail_location").unwrap_or_default(),
            spool: cfg.value("mail_spool_directory").filter(|v| !v.is_empty()).unwrap_or_else(|| "/var/mail".into()),
        }
    }
    /// On a host with neither Postfix's home_mailbox nor Dovecot's mail_location (Courier
    /// MTA delivering with maildrop or courierlocal): the Maildir maildroprc's `DEFAULT`
    /// (`$HOME/Maildir/`) or courierd's `DEFAULTDELIVERY` (`./Maildir`) names.
    pub fn with_courier(mut self, observations: &[crate::bundle::Observation]) -> MailboxPlan {
        if !self.home_mailbox.is_empty() || !self.mail_location.is_empty() {
            return self;
        }
        let var = |path: &str, name: &str| {
            observations
                .iter()
                .filter(|o| matches!(&o.source, Source::File { path: p } if p == path))
                .find_map(|o| o.text())
                .and_then(|t| super::mailconf::parse_shell_vars(t).into_iter().rev().find(|(k, _, _)| k == name).map(|(_, v, _)| v))
        };
        let from_maildrop = ["/etc/maildroprc", "/etc/courier/maildroprc"]
            .iter()
            .find_map(|p| var(p, "DEFAULT"))
            .and_then(|v| v.strip_prefix("$HOME/").map(str::to_string));
        let from_courierd = var("/etc/courier/courierd", "DEFAULTDELIVERY").and_then(|v| v.strip_prefix("./").map(str::to_string));
        if let Some(md) = from_maildrop.or(from_courierd).filter(|m| !m.is_empty() && !m.contains(['$', ' ', '|'])) {
            let md = md.trim_end_matches('/');
            // maildrop and courierlocal take a path ending in `/` (or `./Maildir`) for a Maildir.
            self.home_mailbox = format!("{md}/");
        }
        self
    }
    /// (user, format, path) for every mail user.
    pub fn mailboxes(&self, users: &[User]) -> Vec<(User, &'static str, String)> {
        users
            .iter()
            .map(|u| match maildir_of(&u.3, &u.0, &self.home_mailbox, &self.mail_location) {
                Some(md) => (u.clone(), "maildir", md),
                None => (u.clone(), "mbox", format!("{}/{}", self.spool.trim_end_matches('/'), u.0)),
            })
            .collect()
    }
}

/// Dovecot's settings as (section, name, value): `doveconf -n` when it ran, else the
/// configuration files read.
pub fn dovecot_settings_of(observations: &[crate::bundle::Observation]) -> Vec<(String, String, String)> {
    let mut v = Vec::new();
    let doveconf = observations
        .iter()
        .filter(|o| matches!(&o.source, Source::Command { argv } if argv.first().is_some_and(|a| a == "doveconf")))
        .find_map(|o| o.text());
    if let Some(t) = doveconf {
        v.extend(super::mailconf::parse_dovecot(t));
    } else {
        for o in observations.iter().filter(|o| matches!(&o.source, Source::File { path } if path.starts_with("/etc/dovecot/"))) {
            v.extend(super::mailconf::parse_dovecot(o.text().unwrap_or("")));
        }
    }
    v
}

/// At most this many users' mailboxes are inspected.
pub const MAX_USERS: usize = 2000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{Observation, Payload};

    fn file(path: &str, text: &str) -> Observation {
        Observation { id: 0, source: Source::File { path: path.into() }, at: 0, elapsed_ms: 0, payload: Payload::text(text) }
    }

    // The Courier lab's configuration (tests/fixtures/captured/courier/founding/etc).
    #[test]
    fn courier_maildroprc_default_names_the_maildir() {
        let cfg = Config::default();
        let obs = vec![
            file("/etc/courier/courierd", "DEFAULTDELIVERY=\"| /usr/bin/maildrop\"\n"),
            file("/etc/maildroprc", "# lab\nDEFAULT=\"$HOME/Maildir/\"\nxfilter \"/usr/bin/spamc\"\n"),
        ];
        let plan = MailboxPlan::new(&cfg, &[]).with_courier(&obs);
        assert_eq!(maildir_of("/home/alice", "alice", &plan.home_mailbox, &plan.mail_location).as_deref(), Some("/home/alice/Maildir"));
        let plan = MailboxPlan::new(&cfg, &[]).with_courier(&[file("/etc/courier/courierd", "DEFAULTDELIVERY=./Maildir\n")]);
        assert_eq!(plan.home_mailbox, "Maildir/");
        let plan = MailboxPlan::new(&cfg, &[]).with_courier(&[file("/etc/courier/courierd", "DEFAULTDELIVERY=\"| /usr/bin/maildrop\"\n")]);
        assert_eq!(plan.home_mailbox, "");
    }
}
