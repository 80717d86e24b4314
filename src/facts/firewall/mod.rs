//! Firewall rules that decide whether mail can get in or out: nftables (`nft list ruleset`),
//! iptables (`iptables-save`, `ip6tables-save`, `iptables-legacy-save`) and, only when no
//! kernel listing could be read, the front-ends' own view (`ufw status verbose`,
//! `firewall-cmd --list-all`) — the kernel's rules are the truth, a front-end's summary the
//! fallback.
//!
//! Only what matters to mail is kept: rules that accept, drop or reject a mail port
//! ([`MAIL_PORTS`]), default policies and catch-all drop/reject rules, and for each mail
//! port the verdict a *new connection from an ordinary remote address* meets
//! (`firewall_verdict`). Matches mailsleuth does not model (addresses, interfaces, marks,
//! rate limits, connection states other than NEW) make a rule `conditional`: it is
//! reported, but the verdict walks past it. This is a reading aid for a mail admin, not a
//! packet-filter simulator: no NAT, no priorities between tables beyond "a drop anywhere
//! wins", and sets of addresses are never expanded.
//!
//! Pure: parses the listings in the bundle; never runs a command. Garbage lines are
//! skipped.

use crate::bundle::{Bundle, Observation, Payload, Source};
use crate::model::FactSet;
use crate::model::{FieldType, KindSpec};
use frontends::parse_firewalld;
use frontends::parse_ufw;
use iptables::iptables_nft_tables;
use iptables::parse_iptables;
use nft::parse_nft;
use std::collections::{BTreeSet, HashSet};
use table::Table;
use verdicts::tables_to_facts;
use verdicts::Emitter;

mod frontends;
mod iptables;
mod nft;
mod table;
mod verdicts;

/// The ports whose filtering can defer, bounce or lock out mail, with their transport and
/// service name. DNS is here because an output rule dropping port 53 defers every message
/// ("Host or domain name not found. Name service error").
pub const MAIL_PORTS: &[(u16, &str, &str)] = &[
    (24, "tcp", "lmtp"),
    (25, "tcp", "smtp"),
    (53, "udp", "domain"),
    (53, "tcp", "domain"),
    (110, "tcp", "pop3"),
    (143, "tcp", "imap"),
    (465, "tcp", "submissions"),
    (587, "tcp", "submission"),
    (993, "tcp", "imaps"),
    (995, "tcp", "pop3s"),
];

/// Service names nft and /etc/services use for those ports (nft prints names with `-S`
/// and in older versions by default).
const SERVICE_NAMES: &[(&str, u16)] = &[
    ("lmtp", 24),
    ("smtp", 25),
    ("domain", 53),
    ("pop3", 110),
    ("imap", 143),
    ("imap2", 143),
    ("submissions", 465),
    ("smtps", 465),
    ("urd", 465),
    ("ssmtp", 465),
    ("submission", 587),
    ("imaps", 993),
    ("pop3s", 995),
    ("ssh", 22),
];

/// Fact kinds this parser produces.
pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "firewall_block",
        producer: "parser: nft list ruleset / iptables-save / ip6tables-save (ufw, firewall-cmd as fallback)",
        doc: "a firewall rule that drops or rejects a mail port (one fact per port the rule covers)",
        fields: &[
            ("port", FieldType::Integer, "the mail port: 24, 25, 53, 110, 143, 465, 587, 993, 995"),
            ("proto", FieldType::String, "tcp or udp"),
            ("service", FieldType::String, "smtp, submission, submissions, imap, imaps, pop3, pop3s, lmtp, domain"),
            ("hook", FieldType::String, "where the chain is hooked: input, output, forward, prerouting, postrouting"),
            ("action", FieldType::String, "drop or reject"),
            ("conditional", FieldType::Bool, "the rule also tests addresses, interfaces, marks, rates...: it blocks only some connections"),
            ("rule", FieldType::String, "the rule as the tool printed it"),
            ("family", FieldType::String, "ip (IPv4), ip6 or inet (both)"),
            ("tool", FieldType::String, "nft, iptables, ip6tables, ufw, firewalld"),
            ("table", FieldType::String, "table name (filter, firewalld, ...)"),
            ("chain", FieldType::String, "chain holding the rule"),
        ],
    },
    KindSpec {
        name: "firewall_accept",
        producer: "parser: nft list ruleset / iptables-save / ip6tables-save (ufw, firewall-cmd as fallback)",
        doc: "a firewall rule that explicitly accepts a mail port (a port-less rule counts when it accepts everything unconditionally)",
        fields: &[
            ("port", FieldType::Integer, "the mail port"),
            ("proto", FieldType::String, "tcp or udp"),
            ("service", FieldType::String, "smtp, submission, ..."),
            ("hook", FieldType::String, "input, output, forward, ..."),
            ("action", FieldType::String, "accept"),
            ("conditional", FieldType::Bool, "accepted only from some addresses, interfaces, ..."),
            ("rule", FieldType::String, "the rule as the tool printed it"),
            ("family", FieldType::String, "ip, ip6 or inet"),
            ("tool", FieldType::String, "nft, iptables, ip6tables, ufw, firewalld"),
            ("table", FieldType::String, "table name"),
            ("chain", FieldType::String, "chain holding the rule"),
        ],
    },
    KindSpec {
        name: "firewall_policy",
        producer: "parser: nft list ruleset / iptables-save / ip6tables-save (ufw, firewall-cmd as fallback)",
        doc: "what a hooked chain does with traffic no rule decided: its policy, or a catch-all drop/reject rule",
        fields: &[
            ("hook", FieldType::String, "input, output, forward, ..."),
            ("policy", FieldType::String, "accept, drop or reject"),
            ("via", FieldType::String, "policy (the chain's default) or rule (an unconditional drop/reject rule without ports)"),
            ("proto", FieldType::String, "only for a catch-all rule limited to one protocol: tcp or udp"),
            ("rule", FieldType::String, "the policy line or the catch-all rule"),
            ("family", FieldType::String, "ip, ip6 or inet"),
            ("tool", FieldType::String, "nft, iptables, ip6tables, ufw, firewalld"),
            ("table", FieldType::String, "table name"),
            ("chain", FieldType::String, "chain name"),
        ],
    },
    KindSpec {
        name: "firewall_verdict",
        producer: "parser: nft list ruleset / iptables-save / ip6tables-save (ufw, firewall-cmd as fallback)",
        doc: "per mail port, what a new connection from an ordinary remote address meets: conditional rules are walked past, jumps followed, a drop in any hooked chain wins",
        fields: &[
            ("family", FieldType::String, "ip (IPv4) or ip6"),
            ("hook", FieldType::String, "input (mail coming in) or output (mail going out)"),
            ("port", FieldType::Integer, "the mail port"),
            ("proto", FieldType::String, "tcp or udp"),
            ("service", FieldType::String, "smtp, submission, ..."),
            ("verdict", FieldType::String, "accept, drop or reject"),
            ("by", FieldType::String, "rule or policy"),
            ("rule", FieldType::String, "the deciding rule, or the policy line"),
            ("tool", FieldType::String, "nft, iptables, ip6tables, ufw, firewalld"),
            ("table", FieldType::String, "table of the deciding chain"),
            ("chain", FieldType::String, "the deciding chain"),
        ],
    },
];

const FIREWALL_KINDS: &[&str] = &["firewall_block", "firewall_accept", "firewall_policy", "firewall_verdict"];

fn command_text<'a>(bundle: &'a Bundle, argv0: &str) -> Option<&'a Observation> {
    bundle.observations.iter().find(|o| matches!(&o.source, Source::Command { argv } if argv.first().map(String::as_str) == Some(argv0)))
}

/// The tables of every firewall listing in the bundle: the kernel's listings, or — only
/// when none of them could be read — the front-ends'. `Err` says why nothing was readable.
fn all_tables(bundle: &Bundle) -> Result<Vec<Table>, String> {
    let mut problems = Vec::new();
    let mut listing = |name: &str| -> Option<(&str, u32, String)> {
        let o = command_text(bundle, name)?;
        match &o.payload {
            Payload::Text { text, .. } => Some((text.as_str(), o.id, o.source.label())),
            _ => {
                problems.push(format!("{}: {}", o.source.label(), o.problem().unwrap_or_default()));
                None
            }
        }
    };
    let mut tables = Vec::new();
    let mut kernel_read = false;
    // iptables first: with the nf_tables backend its tables show up in nft's listing too,
    // where xt matches print badly; they are read from iptables-save and skipped in nft's.
    let mut skip: HashSet<(String, String)> = HashSet::new();
    for (cmd, tool, family) in [
        ("iptables-save", "iptables", "ip"),
        ("ip6tables-save", "ip6tables", "ip6"),
        ("iptables-legacy-save", "iptables", "ip"),
        ("ip6tables-legacy-save", "ip6tables", "ip6"),
    ] {
        if let Some((text, id, label)) = listing(cmd) {
            kernel_read = true;
            if !cmd.contains("legacy") {
                skip.extend(iptables_nft_tables(text, family));
            }
            tables.extend(parse_iptables(text, tool, id, &label));
        }
    }
    if let Some((text, id, label)) = listing("nft") {
        kernel_read = true;
        tables.extend(parse_nft(text, id, &label, &skip));
    }
    if kernel_read {
        return Ok(tables);
    }
    let mut frontend_read = false;
    if let Some((text, id, label)) = listing("ufw") {
        frontend_read = true;
        tables.extend(parse_ufw(text, id, &label));
    }
    if let Some((text, id, label)) = listing("firewall-cmd") {
        frontend_read = true;
        tables.extend(parse_firewalld(text, id, &label));
    }
    match (frontend_read, problems.is_empty()) {
        (true, _) => Ok(tables),
        (false, true) => Err("not collected".to_string()),
        (false, false) => Err(dedup_whys(&problems)),
    }
}

pub fn facts(bundle: &Bundle, out: &mut FactSet) {
    match all_tables(bundle) {
        Ok(tables) => {
            let mut em = Emitter::default();
            tables_to_facts(&tables, &mut em);
            out.extend(em.facts);
        }
        Err(why) => {
            for kind in FIREWALL_KINDS {
                out.unavailable(kind, "firewall rules (nft, iptables-save)", why.clone());
            }
        }
    }
}

/// `nft list ruleset: not run: --root given` for each command collapses to one reason when
/// they all failed the same way.
fn dedup_whys(problems: &[String]) -> String {
    let reasons: BTreeSet<&str> = problems.iter().map(|p| p.split_once(": ").map(|(_, r)| r).unwrap_or(p)).collect();
    if reasons.len() == 1 && reasons.iter().all(|r| r.starts_with("not run")) {
        return reasons.into_iter().next().unwrap_or_default().to_string();
    }
    problems.join("; ")
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::bundle::Bundle;
    use crate::model::Fact;

    const NFT_INET: &str = include_str!("../../../tests/fixtures/captured/firewall/nft-inet-filter.txt");
    const NFT_FIREWALLD: &str = include_str!("../../../tests/fixtures/captured/firewall/nft-firewalld-style.txt");
    const IPT_NFT: &str = include_str!("../../../tests/fixtures/captured/firewall/iptables-nft-save.txt");
    const IP6T_NFT: &str = include_str!("../../../tests/fixtures/captured/firewall/ip6tables-nft-save.txt");
    const IPT_AS_NFT: &str = include_str!("../../../tests/fixtures/captured/firewall/iptables-nft-as-nft.txt");
    const IPT_RHEL: &str = include_str!("../../../tests/fixtures/captured/firewall/iptables-legacy-rhel-save.txt");
    const UFW_STATUS: &str = include_str!("../../../tests/fixtures/captured/firewall/ufw-status-verbose.txt");
    const UFW_IPT: &str = include_str!("../../../tests/fixtures/captured/firewall/ufw-iptables-save.txt");
    const FIREWALLD: &str = include_str!("../../../tests/fixtures/captured/firewall/firewall-cmd-list-all.txt");

    fn obs(id: u32, argv: &[&str], payload: Payload) -> Observation {
        Observation { id, source: Source::Command { argv: argv.iter().map(|s| s.to_string()).collect() }, at: 0, elapsed_ms: 0, payload }
    }
    fn text(t: &str) -> Payload {
        Payload::Text { text: t.to_string(), first_line: 1, skipped_bytes: 0, lossy: false, exit: Some(0) }
    }
    fn not_found(prog: &str) -> Payload {
        Payload::Failed { failure: crate::bundle::Failure::NotInstalled, message: format!("{prog}: not found") }
    }
    fn bundle(observations: Vec<Observation>) -> Bundle {
        Bundle::of("mx1", "/", true, observations)
    }
    fn facts_of(b: &Bundle) -> FactSet {
        let mut out = FactSet::new();
        facts(b, &mut out);
        out
    }
    /// `(hook, port, action, conditional)` of every block/accept fact of a family.
    fn rows(fs: &FactSet, kind: &str) -> Vec<(String, i64, String, bool, String)> {
        let mut v: Vec<_> = fs
            .of_kind(kind)
            .map(|f| {
                let s = |k: &str| f.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                (
                    s("hook"),
                    f.get("port").and_then(|v| v.as_i64()).unwrap_or(0),
                    s("action"),
                    f.get("conditional") == Some(&true.into()),
                    s("family"),
                )
            })
            .collect();
        v.sort();
        v
    }
    fn verdict(fs: &FactSet, family: &str, hook: &str, port: i64, proto: &str) -> Option<(String, String)> {
        fs.of_kind("firewall_verdict")
            .find(|f| {
                f.get("family").and_then(|v| v.as_str()) == Some(family)
                    && f.get("hook").and_then(|v| v.as_str()) == Some(hook)
                    && f.get("port").and_then(|v| v.as_i64()) == Some(port)
                    && f.get("proto").and_then(|v| v.as_str()) == Some(proto)
            })
            .map(|f| (f.get("verdict").map(|v| v.to_string()).unwrap_or_default(), f.get("by").map(|v| v.to_string()).unwrap_or_default()))
    }
    fn nft_only(listing: &str) -> FactSet {
        facts_of(&bundle(vec![
            obs(0, &["nft", "list", "ruleset"], text(listing)),
            obs(1, &["iptables-save"], not_found("iptables-save")),
            obs(2, &["ip6tables-save"], not_found("ip6tables-save")),
        ]))
    }

    #[test]
    fn nft_sets_ranges_named_sets_and_jumps() {
        let fs = nft_only(NFT_INET);
        let blocks = rows(&fs, "firewall_block");
        let has = |hook: &str, port: i64, action: &str, cond: bool, fam: &str| {
            blocks.contains(&(hook.to_string(), port, action.to_string(), cond, fam.to_string()))
        };
        // tcp dport { 25, 587 } counter drop
        assert!(has("input", 25, "drop", false, "inet"), "{blocks:#?}");
        assert!(has("input", 587, "drop", false, "inet"));
        // tcp dport 465 reject with tcp reset
        assert!(has("input", 465, "reject", false, "inet"));
        // tcp dport 100-120 drop: pop3 (110) is in the range
        assert!(has("input", 110, "drop", false, "inet"));
        // in chain f2b, reached by `jump f2b`: tcp dport 24 drop
        assert!(has("input", 24, "drop", false, "inet"));
        // oifname "eth0" tcp dport 25 reject: only on eth0
        assert!(has("output", 25, "reject", true, "inet"));
        // ip6 out6: tcp dport != 22 drop covers every mail port
        assert!(has("output", 25, "drop", false, "ip6"));
        assert!(has("output", 993, "drop", false, "ip6"));
        let accepts = rows(&fs, "firewall_accept");
        // @mail_ports = { 143, 993 }
        assert!(accepts.contains(&("input".into(), 143, "accept".into(), false, "inet".into())), "{accepts:#?}");
        assert!(accepts.contains(&("input".into(), 993, "accept".into(), false, "inet".into())));
        // ip saddr 198.51.100.0/24 tcp dport 995 accept
        assert!(accepts.contains(&("input".into(), 995, "accept".into(), true, "inet".into())));
        // udp dport 53 accept (output)
        assert!(accepts.iter().any(|r| r.0 == "output" && r.1 == 53));

        let policies: Vec<(String, String)> = fs
            .of_kind("firewall_policy")
            .map(|f| (f.get("hook").map(|v| v.to_string()).unwrap_or_default(), f.get("policy").map(|v| v.to_string()).unwrap_or_default()))
            .collect();
        assert!(policies.contains(&("input".into(), "drop".into())), "{policies:?}");
        assert!(policies.contains(&("output".into(), "accept".into())));

        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 993, "tcp"), Some(("accept".into(), "rule".into())));
        // 995 is accepted only from one network: for everyone else the policy decides.
        assert_eq!(verdict(&fs, "ip", "input", 995, "tcp"), Some(("drop".into(), "policy".into())));
        // The inet output chain accepts everything, but the ip6 one drops all but ssh.
        assert_eq!(verdict(&fs, "ip", "output", 25, "tcp"), Some(("accept".into(), "policy".into())));
        assert_eq!(verdict(&fs, "ip6", "output", 587, "tcp"), Some(("drop".into(), "rule".into())));
    }

    #[test]
    fn firewalld_shape_jump_goto_vmap_and_final_reject() {
        let fs = nft_only(NFT_FIREWALLD);
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip6", "input", 993, "tcp"), Some(("accept".into(), "rule".into())));
        // Not opened: the final `reject with icmpx admin-prohibited` decides.
        assert_eq!(verdict(&fs, "ip", "input", 587, "tcp"), Some(("reject".into(), "rule".into())));
        assert!(fs.of_kind("firewall_policy").any(|f| f.get("via") == Some(&"rule".into())
            && f.get("hook") == Some(&"input".into())
            && f.get("policy") == Some(&"reject".into())));
        // The rich rule: submission rejected from one address only.
        let blocks = rows(&fs, "firewall_block");
        assert!(blocks.contains(&("input".into(), 587, "reject".into(), true, "inet".into())), "{blocks:#?}");
        // `ct state invalid drop` is not a catch-all.
        assert!(!fs.of_kind("firewall_policy").any(|f| f.get("rule") == Some(&"ct state invalid drop".into())));
    }

    #[test]
    fn iptables_multiport_ranges_comments_and_fail2ban_chains() {
        let b = bundle(vec![
            obs(0, &["nft", "list", "ruleset"], text(IPT_AS_NFT)),
            obs(1, &["iptables-save"], text(IPT_NFT)),
            obs(2, &["ip6tables-save"], text(IP6T_NFT)),
        ]);
        let fs = facts_of(&b);
        // iptables-nft's tables are read from iptables-save only: nothing from nft.
        assert!(fs.of_kind("firewall_block").all(|f| f.get("tool") != Some(&"nft".into())));
        let blocks = rows(&fs, "firewall_block");
        for (hook, port, action, cond, fam) in [
            ("input", 465, "drop", false, "ip"),
            ("input", 587, "drop", false, "ip"),
            ("input", 110, "reject", false, "ip"),
            ("input", 143, "reject", true, "ip"),
            ("input", 993, "reject", true, "ip"),
            ("output", 25, "drop", false, "ip"),
            ("input", 25, "drop", false, "ip6"),
        ] {
            assert!(blocks.contains(&(hook.into(), port, action.into(), cond, fam.into())), "{hook} {port} {action}: {blocks:#?}");
        }
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 587, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 993, "tcp"), Some(("drop".into(), "policy".into())));
        assert_eq!(verdict(&fs, "ip", "output", 25, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip6", "output", 25, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip6", "output", 53, "udp"), Some(("drop".into(), "policy".into())));
        let f = fs.of_kind("firewall_block").find(|f| f.get("hook") == Some(&"output".into()) && f.get("family") == Some(&"ip".into()));
        assert_eq!(
            f.and_then(|f| f.get("rule")).map(|v| v.to_string()).as_deref(),
            Some("-A OUTPUT -p tcp -m tcp --dport 25 -m comment --comment \"no direct mail\" -j DROP")
        );
    }

    #[test]
    fn a_fail2ban_chain_of_many_bans_is_one_conditional_block_per_port() {
        let mut ipt = String::from(
            "*filter\n:INPUT ACCEPT [0:0]\n:f2b-postfix - [0:0]\n-A INPUT -p tcp -m multiport --dports 25,465,587 -j f2b-postfix\n",
        );
        for i in 1..=50 {
            ipt.push_str(&format!("-A f2b-postfix -s 203.0.113.{i}/32 -j REJECT --reject-with icmp-port-unreachable\n"));
        }
        ipt.push_str("-A f2b-postfix -j RETURN\nCOMMIT\n");
        let fs = facts_of(&bundle(vec![obs(0, &["iptables-save"], text(&ipt))]));
        let smtp: Vec<&Fact> = fs.of_kind("firewall_block").filter(|f| f.get("port") == Some(&25u32.into())).collect();
        assert_eq!(smtp.len(), 1);
        assert_eq!(smtp[0].get("conditional"), Some(&true.into()));
        assert_eq!(smtp[0].evidence.len() as u64 + smtp[0].more_evidence, 51, "{:#?}", smtp[0]);
        assert_eq!(fs.of_kind("firewall_block").count(), 3);
        // Banned addresses are not everyone: a new connection is accepted.
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("accept".into(), "policy".into())));
    }

    #[test]
    fn rhel_final_reject_is_a_catch_all_policy() {
        let b = bundle(vec![
            obs(0, &["nft", "list", "ruleset"], not_found("nft")),
            obs(1, &["iptables-save"], text(IPT_RHEL)),
            obs(2, &["ip6tables-save"], text("")),
        ]);
        let fs = facts_of(&b);
        assert!(fs.of_kind("firewall_policy").any(|f| f.get("via") == Some(&"rule".into())
            && f.get("hook") == Some(&"input".into())
            && f.get("policy") == Some(&"reject".into())
            && f.get("rule") == Some(&"-A INPUT -j REJECT --reject-with icmp-host-prohibited".into())));
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("reject".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "output", 25, "tcp"), Some(("accept".into(), "policy".into())));
        assert!(fs.unavailable.is_empty(), "{:?}", fs.unavailable);
    }

    #[test]
    fn ufw_rules_three_jumps_below_input() {
        let b = bundle(vec![
            obs(0, &["nft", "list", "ruleset"], text("")),
            obs(1, &["iptables-save"], text(UFW_IPT)),
            obs(2, &["ip6tables-save"], text("")),
            obs(3, &["ufw", "status", "verbose"], text(UFW_STATUS)),
        ]);
        let fs = facts_of(&b);
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 587, "tcp"), Some(("reject".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 143, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 995, "tcp"), Some(("drop".into(), "policy".into())));
        assert_eq!(verdict(&fs, "ip", "output", 25, "tcp"), Some(("drop".into(), "rule".into())));
        // `ufw-not-local -j DROP` follows conditional RETURNs: not a catch-all.
        assert!(
            !fs.of_kind("firewall_policy").any(|f| f.get("via") == Some(&"rule".into())),
            "{:#?}",
            fs.of_kind("firewall_policy").collect::<Vec<_>>()
        );
        // The kernel listing was read: ufw's own summary is not counted again.
        assert!(fs.all().iter().all(|f| f.get("tool") != Some(&"ufw".into())));
    }

    #[test]
    fn frontends_are_the_fallback_when_no_kernel_listing_was_read() {
        let denied =
            Payload::Failed { failure: crate::bundle::Failure::Io, message: "exit 1: Permission denied (you must be root)".into() };
        let b = bundle(vec![
            obs(0, &["nft", "list", "ruleset"], denied.clone()),
            obs(1, &["iptables-save"], denied.clone()),
            obs(2, &["ip6tables-save"], denied),
            obs(3, &["ufw", "status", "verbose"], text(UFW_STATUS)),
        ]);
        let fs = facts_of(&b);
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip6", "input", 587, "tcp"), Some(("reject".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 110, "tcp"), Some(("drop".into(), "policy".into())));
        assert_eq!(verdict(&fs, "ip", "output", 25, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "output", 587, "tcp"), Some(("accept".into(), "policy".into())));
        let accepts = rows(&fs, "firewall_accept");
        assert!(accepts.contains(&("input".into(), 993, "accept".into(), true, "ip".into())), "{accepts:#?}");
        assert!(fs.unavailable.is_empty());

        let b =
            bundle(vec![obs(0, &["nft", "list", "ruleset"], not_found("nft")), obs(3, &["firewall-cmd", "--list-all"], text(FIREWALLD))]);
        let fs = facts_of(&b);
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 993, "tcp"), Some(("accept".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 465, "tcp"), Some(("drop".into(), "rule".into())));
        assert_eq!(verdict(&fs, "ip", "input", 110, "tcp"), Some(("reject".into(), "policy".into())));
        assert!(rows(&fs, "firewall_block").contains(&("input".into(), 587, "reject".into(), true, "inet".into())));
    }

    #[test]
    fn no_rules_no_verdicts_and_nothing_unavailable() {
        let fs = facts_of(&bundle(vec![
            obs(0, &["nft", "list", "ruleset"], text("")),
            obs(1, &["iptables-save"], text("")),
            obs(2, &["ip6tables-save"], text("")),
        ]));
        assert!(fs.is_empty());
        assert!(fs.unavailable.is_empty());
    }

    #[test]
    fn nothing_readable_is_unavailable_with_the_reason() {
        let not_run = Payload::Failed { failure: crate::bundle::Failure::NotRun, message: "--root given: commands are not run".into() };
        let fs = facts_of(&bundle(vec![obs(0, &["nft", "list", "ruleset"], not_run.clone()), obs(1, &["iptables-save"], not_run)]));
        let u = fs.unavailable_for("firewall_block");
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].why, "not run: --root given: commands are not run");
        let fs = facts_of(&bundle(vec![
            obs(0, &["nft", "list", "ruleset"], not_found("nft")),
            obs(1, &["iptables-save"], not_found("iptables-save")),
        ]));
        assert!(fs.unavailable_for("firewall_verdict")[0].why.contains("nft: not found"));
    }

    #[test]
    fn chains_reached_along_many_paths_stay_cheap() {
        // c0 jumps twice to c1, which jumps twice to c2, ...: 2^15 paths to the last chain.
        let mut ipt = String::from("*filter\n:INPUT DROP [0:0]\n");
        for i in 0..16 {
            ipt.push_str(&format!(":c{i} - [0:0]\n"));
        }
        ipt.push_str("-A INPUT -j c0\n");
        for i in 0..15 {
            let next = i + 1;
            ipt.push_str(&format!("-A c{i} -p tcp --dport 25 -j c{next}\n-A c{i} -p tcp --dport 25 -j c{next}\n"));
        }
        ipt.push_str("-A c15 -s 192.0.2.1/32 -j DROP\nCOMMIT\n");
        // The walk is bounded by VISIT_BUDGET, not by the number of paths: without the
        // budget this would visit 2^15 chains per port. (No wall-clock assertion: speed
        // targets live in benchmarks, and a loaded machine made a 10 s limit fail.)
        let fs = facts_of(&bundle(vec![obs(0, &["iptables-save"], text(&ipt))]));
        assert_eq!(verdict(&fs, "ip", "input", 25, "tcp"), Some(("drop".into(), "policy".into())));
    }

    #[test]
    fn garbage_never_panics() {
        let junk = [
            "",
            "}",
            "{",
            "table",
            "table inet x {\n chain c {\n tcp dport {\n",
            "table inet x {\n set s {\n elements = { 25,\n",
            "table ip t {\n chain c {\n type filter hook input priority 0; policy drop;\n tcp dport 99999 drop\n tcp dport 30-20 drop\n tcp dport != drop\n jump\n goto nowhere\n }\n}",
            "*filter\n-A\n-A INPUT\n-A INPUT -p\n-A INPUT --dport\n-A INPUT ! ! -j\n:INPUT\n-A INPUT -j INPUT\n-A INPUT -p tcp --dport 25 -j INPUT",
            "Status: active\nDefault: deny\n25/tcp  DENY\n  a  b  c\n/tcp  DENY IN  Anywhere",
            "public\n  target:\n  ports: /tcp 25 x/y\n  rich rules:\n\trule port port=\"\n\trule port port=\"25\n",
        ];
        for j in junk {
            let b = bundle(vec![
                obs(0, &["nft", "list", "ruleset"], text(j)),
                obs(1, &["iptables-save"], text(j)),
                obs(2, &["ufw", "status", "verbose"], text(j)),
                obs(3, &["firewall-cmd", "--list-all"], text(j)),
            ]);
            let _ = facts_of(&b);
            let _ = parse_ufw(j, 0, "ufw");
            let _ = parse_firewalld(j, 0, "firewall-cmd");
        }
    }
}
