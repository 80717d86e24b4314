//! Courier MTA's own files: its queue (`/var/lib/courier/msgs/NN/C<inode>` control files,
//! `D<inode>` data files, `msgq/` schedule entries) and its domain lists (`locals`,
//! `hosteddomains`, `esmtpacceptmailfor`, each a file or a `.dir`/directory of files).
//! Pure: text in, structs out; no I/O.

/// Courier's queue and configuration, where Debian puts them.
pub const QUEUE_DIR: &str = "/var/lib/courier";
pub const MSGS: &str = "/var/lib/courier/msgs";
pub const MSGQ: &str = "/var/lib/courier/msgq";
pub const CONFIG_DIR: &str = "/etc/courier";

/// Configuration files read as text (each a file, or a directory of files whose names end
/// with the name; `aliases` is always a directory on Debian).
pub const CONFIG_FILES: &[&str] = &[
    "/etc/courier/me",
    "/etc/courier/defaultdomain",
    "/etc/courier/locals",
    "/etc/courier/hosteddomains",
    "/etc/courier/esmtpacceptmailfor",
    "/etc/courier/esmtproutes",
    "/etc/courier/esmtpd",
    "/etc/courier/authdaemonrc",
    "/etc/courier/module.local",
    "/etc/courier/enablefiltering",
];

/// Directories whose files are read too (at most [`MAX_DIR_FILES`] each).
pub const CONFIG_DIRS: &[&str] = &[
    "/etc/courier/locals",
    "/etc/courier/hosteddomains",
    "/etc/courier/esmtpacceptmailfor.dir",
    "/etc/courier/aliases",
    "/etc/courier/esmtproutes",
];
pub const MAX_DIR_FILES: usize = 200;
/// Control files read (the newest first is not known before reading: the listing's order).
pub const MAX_CONTROL_FILES: usize = 500;
pub const CONTROL_CAP: u64 = 64 * 1024;

/// One message's control file: the records Courier keeps per message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Control {
    pub id: String,
    pub sender: String,
    pub recipients: Vec<String>,
    /// Attempt start times (`A<time>`); the last one is the next scheduled attempt when no
    /// `C` record follows it.
    pub attempts: Vec<i64>,
    /// The reason of each failed attempt (`I<n> R <text>`), in order.
    pub reasons: Vec<String>,
    /// Deferral times (`D<n> <time>`).
    pub deferred: Vec<i64>,
    /// Whether a recipient failed for good (`F<n> <time>`).
    pub failed: bool,
    /// Delivered recipients (`S<n> <time>`).
    pub delivered: usize,
}

impl Control {
    /// The submission time from the id (`INODE.TIME.PID`, hex).
    pub fn submitted(&self) -> Option<i64> {
        let t = self.id.split('.').nth(1)?;
        i64::from_str_radix(t, 16).ok()
    }
    /// The time of the last deferral.
    pub fn last_deferred(&self) -> Option<i64> {
        self.deferred.last().copied()
    }
}

/// Parse a control file: NUL-separated records of one letter and a value (newlines are
/// accepted too, for copies that replaced the NULs).
pub fn parse_control(text: &str) -> Control {
    let mut c = Control::default();
    for rec in text.split(['\0', '\n']) {
        let Some(tag) = rec.chars().next() else { continue };
        let v = &rec[tag.len_utf8()..];
        match tag {
            'M' => c.id = v.trim().to_string(),
            's' => c.sender = v.trim().to_string(),
            'r' => c.recipients.push(v.trim().to_string()),
            'A' => c.attempts.extend(v.trim().parse::<i64>().ok()),
            'I' => {
                // `I0 R reason`: info for recipient 0, type R (reason text).
                if let Some((_, text)) = v.split_once(" R ") {
                    let t = text.trim();
                    if !t.is_empty() {
                        c.reasons.push(t.to_string());
                    }
                }
            }
            'D' => c.deferred.extend(v.split_whitespace().nth(1).and_then(|t| t.parse::<i64>().ok())),
            'F' => c.failed = true,
            'S' => c.delivered += 1,
            _ => {}
        }
    }
    c
}

/// The domains of a Courier domain list (`locals`, `hosteddomains`, `esmtpacceptmailfor`):
/// one per line, comments (`#`) and blank lines skipped; `hosteddomains` lines may be
/// `domain<TAB>alias`. Lower-cased.
pub fn domain_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap_or("").trim_start_matches('!').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .collect()
}

/// A data file of the queue listing (`NN/D<inode>`): the inode.
pub fn data_file_inode(rel: &str) -> Option<u64> {
    let name = rel.rsplit('/').next()?;
    name.strip_prefix('D')?.parse().ok()
}

/// A control file of the queue listing (`NN/C<inode>`): the inode.
pub fn control_file_inode(rel: &str) -> Option<u64> {
    let name = rel.rsplit('/').next()?;
    name.strip_prefix('C')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // tests/fixtures/captured/courier/founding/queue-control-files.txt (NULs shown as newlines).
    const FOUNDING: &str = "ssender@lab.example\0fdns; client.lab.example (localhost [::ffff:127.0.0.1])\0e\0t\0M000000000000006E.000000006B119D31.00000109\0ralice@lab.example\0R\0N\0ORELAYCLIENT=\0OTCPREMOTEIP=::ffff:127.0.0.1\0uauthsmtp\0E1796921265\0p1796345265\0W1796330865\0A1796316465\0I0 R maildrop: Unable to create temporary file.\0D0 1796316470\0C1796316470\0A1796316770\0";

    #[test]
    fn a_deferred_message_of_the_founding_case() {
        let c = parse_control(FOUNDING);
        assert_eq!(c.id, "000000000000006E.000000006B119D31.00000109");
        assert_eq!(c.recipients, vec!["alice@lab.example"]);
        assert_eq!(c.reasons, vec!["maildrop: Unable to create temporary file."]);
        assert_eq!(c.deferred, vec![1796316470]);
        assert_eq!(c.attempts, vec![1796316465, 1796316770]);
        assert_eq!(c.submitted(), Some(0x6B119D31));
        assert!(!c.failed);
    }

    #[test]
    fn domain_lists_and_queue_names() {
        assert_eq!(
            domain_list("# local\nlocalhost\nMailHost.lab.example\n\nlab.example\textra\n!bad.example\n"),
            vec!["localhost", "mailhost.lab.example", "lab.example", "bad.example"]
        );
        assert_eq!(data_file_inode("10/D110"), Some(110));
        assert_eq!(control_file_inode("10/C110"), Some(110));
        assert_eq!(data_file_inode("10/C110"), None);
    }
}
