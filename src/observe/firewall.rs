//! Firewall collector: the kernel's packet-filter rules as the tools list them
//! (`nft list ruleset`, `iptables-save`, `ip6tables-save`, and `iptables-legacy-save` when
//! iptables says legacy tables exist), and the front-ends' own summaries when installed
//! (`ufw status verbose`, `firewall-cmd --list-all`).
//!
//! Live host only, every command through [`command::run`](super::command::run) with its
//! timeout; all of them only list (most need root: "permission denied" is recorded as
//! such). A missing tool is an observation, not an error. Nothing is changed, no kernel
//! module is loaded: the legacy listing runs only when the nf_tables one points at it.

use super::{command, Options, Recorder};
use crate::parse::postconf::Config;
use std::path::Path;

/// Where the front-ends are installed (Debian/Ubuntu ufw, RHEL/SUSE firewalld).
const UFW: &[&str] = &["/usr/sbin/ufw", "/sbin/ufw", "/usr/bin/ufw"];
const FIREWALL_CMD: &[&str] = &["/usr/bin/firewall-cmd", "/bin/firewall-cmd", "/usr/sbin/firewall-cmd"];

pub fn collect(opts: &Options, _cfg: &Config, rec: &mut Recorder) {
    command::run(opts, rec, &["nft", "list", "ruleset"]);
    for (save, legacy) in [("iptables-save", "iptables-legacy-save"), ("ip6tables-save", "ip6tables-legacy-save")] {
        let id = command::run(opts, rec, &[save]);
        // iptables-nft prints this comment when legacy (x_tables) rules are loaded too.
        if rec.get(id).text().is_some_and(|t| t.contains("legacy tables present")) {
            command::run(opts, rec, &[legacy]);
        }
    }
    if !opts.live() {
        return;
    }
    if UFW.iter().any(|p| Path::new(p).exists()) {
        command::run(opts, rec, &["ufw", "status", "verbose"]);
    }
    if FIREWALL_CMD.iter().any(|p| Path::new(p).exists()) {
        command::run(opts, rec, &["firewall-cmd", "--list-all"]);
    }
}
