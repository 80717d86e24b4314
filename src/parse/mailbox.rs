//! Where mailboxes live: mail users from passwd, each user's Maildir from Postfix's
//! `home_mailbox` and Dovecot's `mail_location`, and the plan the collector follows.

use super::mailconf::DovecotSetting;
use super::postconf::Config;

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
    pub fn new(cfg: &Config, dovecot: &[DovecotSetting]) -> MailboxPlan {
        let dv = |k: &str| dovecot.iter().rev().find(|(s, n, _, _)| s.is_empty() && n == k).map(|(_, _, v, _)| v.clone());
        MailboxPlan {
            first_uid: dv("first_valid_uid").and_then(|v| v.parse().ok()).unwrap_or(1000),
            home_mailbox: cfg.value("home_mailbox").unwrap_or_default(),
            mail_location: dv("mail_location").unwrap_or_default(),
            spool: cfg.value("mail_spool_directory").filter(|v| !v.is_empty()).unwrap_or_else(|| "/var/mail".into()),
        }
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

/// At most this many users' mailboxes are inspected.
pub const MAX_USERS: usize = 2000;
