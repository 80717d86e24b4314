//! DNS facts: which resolver Postfix uses (the host's `/etc/resolv.conf` and the copy in
//! Postfix's chroot), what `/etc/hosts` says, and the answers to the DNS queries the
//! collector made: A/AAAA of `myhostname`, MX of `mydomain`, the relayhost's route, PTR of
//! the host's own addresses, MX of deferred destinations.
//!
//! Pure: reads observations only and never asks DNS itself. A query that was not made
//! (under `--root`) leaves `dns_answer` unavailable, so a DNS rule is *skipped*, never "fine".
//!
//! The answer text `observe::dns` stores, one item per line:
//! - `; via 127.0.0.1:53 (/etc/resolv.conf)`: the servers asked, and where they came from;
//! - `TYPE DATA`: one answer record, e.g. `MX 10 mx1.lab.example.`, `A 192.0.2.25`,
//!   `PTR mx1.lab.example.`, `CNAME mail.lab.example.`;
//! - `NXDOMAIN`, `NODATA`, `SERVFAIL`, `REFUSED` or `RCODE NAME`: the outcome when no record
//!   of the asked type came back.

use crate::bundle::specs::{HOSTS, RESOLV_CONF};
use crate::bundle::{Bundle, Failure, Observation, Payload, Source};
use crate::model::{Fact, FactSet, Value};
use crate::model::{FieldType, KindSpec};
use crate::parse::dns::{chroot_path, normalize, parse_answer, parse_hosts, parse_resolv_conf, planned_queries, ResolvConf, MAXNS};
use crate::parse::postconf::Config;
use std::collections::{BTreeMap, BTreeSet};

/// Fact kinds this parser produces.
pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "resolv_conf",
        producer: "parser: /etc/resolv.conf and its copy in Postfix's chroot (observe::dns)",
        doc: "a resolver configuration file Postfix may use",
        fields: &[
            ("path", FieldType::String, "file path, e.g. /etc/resolv.conf or /var/spool/postfix/etc/resolv.conf"),
            ("chroot", FieldType::Bool, "true for the copy inside Postfix's chroot (queue_directory)"),
            ("state", FieldType::String, "ok, absent, unreadable"),
            ("nameservers", FieldType::List, "nameserver addresses in file order (glibc uses the first 3)"),
            ("search", FieldType::List, "search domains (`search` or `domain`, the last one wins)"),
            ("options", FieldType::List, "`options` words, e.g. timeout:2, rotate"),
        ],
    },
    KindSpec {
        name: "resolver",
        producer: "parser: /etc/resolv.conf and its chroot copy (observe::dns)",
        doc: "one nameserver a resolv.conf names",
        fields: &[
            ("nameserver", FieldType::String, "address as written, e.g. 127.0.0.53"),
            ("path", FieldType::String, "the resolv.conf naming it"),
            ("chroot", FieldType::Bool, "true for the copy inside Postfix's chroot"),
            ("position", FieldType::Integer, "1-based position among the nameserver lines"),
            ("used", FieldType::Bool, "false past the third nameserver: glibc ignores it"),
        ],
    },
    KindSpec {
        name: "chroot_copy",
        producer: "parser: a system file and its copy in Postfix's chroot (observe::dns)",
        doc: "whether chrooted Postfix services see the same resolv.conf / hosts as the system",
        fields: &[
            ("file", FieldType::String, "system path: /etc/resolv.conf or /etc/hosts"),
            ("path", FieldType::String, "the copy's path, e.g. /var/spool/postfix/etc/resolv.conf"),
            ("state", FieldType::String, "same, differs, absent (the system has the file, the chroot not)"),
        ],
    },
    KindSpec {
        name: "hosts_entry",
        producer: "parser: /etc/hosts and its chroot copy (observe::dns)",
        doc: "one address line of a hosts file",
        fields: &[
            ("address", FieldType::String, "IP address as written"),
            ("names", FieldType::List, "host names and aliases, lower-cased"),
            ("path", FieldType::String, "the hosts file"),
            ("chroot", FieldType::Bool, "true for the copy inside Postfix's chroot"),
        ],
    },
    KindSpec {
        name: "dns_answer",
        producer: "parser: DNS queries made on a live host (observe::dns)",
        doc: "the answer to one DNS query, for one reason it was asked (one fact per purpose)",
        fields: &[
            ("qtype", FieldType::String, "A, AAAA, MX, PTR"),
            ("name", FieldType::String, "name asked for, lower-cased, no trailing dot (PTR: the address)"),
            ("status", FieldType::String, "ok, nxdomain, nodata, servfail, refused, timeout, error"),
            ("answers", FieldType::List, "record data of the asked type, e.g. `10 mx1.lab.example.`, `192.0.2.25`"),
            ("targets", FieldType::List, "MX exchanges / PTR names without the trailing dot, or addresses (A/AAAA)"),
            ("purpose", FieldType::String, "myhostname, mydomain, relayhost, ptr, destination"),
            ("resolver", FieldType::String, "servers asked and their origin, e.g. `127.0.0.1:53 (/etc/resolv.conf)`"),
            ("error", FieldType::String, "what went wrong (timeout, error and servfail only)"),
        ],
    },
];

/// Every fact the DNS observations support.
pub fn facts(bundle: &Bundle, cfg: Option<&Config>, out: &mut FactSet) {
    let cfg = cfg.cloned().unwrap_or_default();
    for file in [RESOLV_CONF, HOSTS] {
        let chroot = chroot_path(&cfg, file);
        let system_obs = bundle.file(file);
        let chroot_obs = bundle.file(&chroot);
        for (obs, in_chroot) in [(system_obs, false), (chroot_obs, true)] {
            let Some(o) = obs else { continue };
            if file == RESOLV_CONF {
                resolv_conf_facts(o, in_chroot, out);
            } else if let Some(text) = o.text() {
                hosts_facts(o, text, in_chroot, out);
            }
        }
        if let (Some(s), Some(c)) = (system_obs, chroot_obs) {
            chroot_copy_fact(file, s, c, out);
        }
    }
    answer_facts(bundle, &cfg, out);
}

fn path_of(o: &Observation) -> &str {
    match &o.source {
        Source::File { path } => path,
        _ => "",
    }
}

fn strings(items: impl IntoIterator<Item = impl Into<String>>) -> Value {
    Value::List(items.into_iter().map(|s| Value::Str(s.into())).collect())
}

fn resolv_conf_facts(o: &Observation, chroot: bool, out: &mut FactSet) {
    let path = path_of(o);
    let (state, rc) = match &o.payload {
        Payload::Text { text, .. } => ("ok", parse_resolv_conf(text)),
        Payload::Absent => ("absent", ResolvConf::default()),
        Payload::Failed { .. } => {
            out.unavailable("resolv_conf", o.source.label(), o.problem().unwrap_or_default());
            ("unreadable", ResolvConf::default())
        }
        _ => return,
    };
    let summary = match state {
        "absent" => "no such file: glibc then asks 127.0.0.1:53".to_string(),
        "unreadable" => o.problem().unwrap_or_default(),
        _ if rc.nameservers.is_empty() => "no nameserver line: glibc then asks 127.0.0.1:53".to_string(),
        _ => rc.nameservers.iter().map(|(_, a)| format!("nameserver {a}")).collect::<Vec<_>>().join("; "),
    };
    out.push(
        Fact::new("resolv_conf")
            .with("path", path)
            .with("chroot", chroot)
            .with("state", state)
            .with("nameservers", strings(rc.nameservers.iter().map(|(_, a)| a.as_str())))
            .with("search", strings(rc.search.iter().map(String::as_str)))
            .with("options", strings(rc.options.iter().map(String::as_str)))
            .evidence(o.source.label(), summary)
            .from_observation(o.id),
    );
    for (i, (line, addr)) in rc.nameservers.iter().enumerate() {
        out.push(
            Fact::new("resolver")
                .with("nameserver", addr.as_str())
                .with("path", path)
                .with("chroot", chroot)
                .with("position", i as u64 + 1)
                .with("used", i < MAXNS)
                .evidence(format!("{path}:{line}"), format!("nameserver {addr}"))
                .from_observation(o.id),
        );
    }
}

fn hosts_facts(o: &Observation, text: &str, chroot: bool, out: &mut FactSet) {
    let path = path_of(o);
    for h in parse_hosts(text) {
        out.push(
            Fact::new("hosts_entry")
                .with("address", h.address.as_str())
                .with("names", strings(h.names.iter().map(String::as_str)))
                .with("path", path)
                .with("chroot", chroot)
                .evidence(format!("{path}:{}", h.line), format!("{} {}", h.address, h.names.join(" ")))
                .from_observation(o.id),
        );
    }
}

/// What the file means, for comparing a system file with its chroot copy: comments,
/// spacing and line order of unrelated lines do not matter; the resolver's content does.
fn meaning(file: &str, text: &str) -> Vec<String> {
    if file == RESOLV_CONF {
        let rc = parse_resolv_conf(text);
        let mut m: Vec<String> = rc.nameservers.into_iter().map(|(_, a)| format!("nameserver {a}")).collect();
        m.push(format!("search {}", rc.search.join(" ")));
        m.push(format!("options {}", rc.options.join(" ")));
        m
    } else {
        let mut m: Vec<String> = parse_hosts(text).into_iter().map(|h| format!("{} {}", h.address, h.names.join(" "))).collect();
        m.sort();
        m
    }
}

fn chroot_copy_fact(file: &str, system: &Observation, copy: &Observation, out: &mut FactSet) {
    let state = match (&system.payload, &copy.payload) {
        (Payload::Text { text: s, .. }, Payload::Text { text: c, .. }) => {
            if meaning(file, s) == meaning(file, c) {
                "same"
            } else {
                "differs"
            }
        }
        (Payload::Text { .. }, Payload::Absent) => "absent",
        (Payload::Absent, Payload::Text { .. }) => "differs",
        _ => return,
    };
    let describe = |o: &Observation| match o.text() {
        Some(t) if file == RESOLV_CONF => {
            let ns: Vec<String> = parse_resolv_conf(t).nameservers.into_iter().map(|(_, a)| format!("nameserver {a}")).collect();
            if ns.is_empty() {
                "no nameserver line".to_string()
            } else {
                ns.join("; ")
            }
        }
        Some(t) => format!("{} address lines", parse_hosts(t).len()),
        None => o.problem().unwrap_or_default(),
    };
    out.push(
        Fact::new("chroot_copy")
            .with("file", file)
            .with("path", path_of(copy))
            .with("state", state)
            .evidence(system.source.label(), describe(system))
            .evidence(copy.source.label(), describe(copy))
            .from_observation(system.id)
            .from_observation(copy.id),
    );
}

/// Why each query was made. A name can serve several purposes (relayhost = mydomain):
/// each gets its own fact, so a rule about the relayhost never misses it.
fn purposes(bundle: &Bundle, cfg: &Config) -> BTreeMap<(String, String), BTreeSet<&'static str>> {
    let mut map: BTreeMap<(String, String), BTreeSet<&'static str>> = BTreeMap::new();
    for p in planned_queries(cfg, &bundle.host) {
        map.entry((p.qtype.to_string(), p.name)).or_default().insert(p.purpose);
    }
    // The addresses asked for after an MX answer serve the MX's purpose: its exchanges,
    // or (no MX record) the name itself.
    for o in &bundle.observations {
        let (Source::Dns { qtype, name }, Some(text)) = (&o.source, o.text()) else { continue };
        if qtype != "MX" {
            continue;
        }
        let of_mx = map.get(&(qtype.clone(), normalize(name))).cloned().unwrap_or_else(|| BTreeSet::from(["destination"]));
        let answer = parse_answer(qtype, text);
        let hosts = if answer.status == "nodata" { vec![normalize(name)] } else { answer.targets("MX") };
        for host in hosts {
            for t in ["A", "AAAA"] {
                map.entry((t.to_string(), host.clone())).or_default().extend(of_mx.iter().copied());
            }
        }
    }
    map
}

fn answer_facts(bundle: &Bundle, cfg: &Config, out: &mut FactSet) {
    if !bundle.live {
        out.unavailable("dns_answer", "DNS queries", "not run: --root given");
        return;
    }
    let purposes = purposes(bundle, cfg);
    let mut asked = false;
    for o in &bundle.observations {
        let Source::Dns { qtype, name } = &o.source else { continue };
        asked = true;
        let mut fact = Fact::new("dns_answer").with("qtype", qtype.as_str()).with("name", normalize(name)).from_observation(o.id);
        let (status, text) = match &o.payload {
            Payload::Text { text, .. } => {
                let a = parse_answer(qtype, text);
                let data = a.data_of(qtype);
                fact.set("answers", strings(data.iter().copied()));
                fact.set("targets", strings(a.targets(qtype)));
                fact.set("resolver", a.via.as_str());
                let shown = match a.status.as_str() {
                    "ok" => data.join(", "),
                    "nxdomain" => "NXDOMAIN (no such name)".to_string(),
                    "nodata" => format!("NODATA (the name exists, no {qtype} record)"),
                    "servfail" => "SERVFAIL (the resolver could not get an answer)".to_string(),
                    "refused" => "REFUSED (the resolver will not answer this)".to_string(),
                    _ => format!("RCODE {}", a.rcode.clone().unwrap_or_default()),
                };
                if matches!(a.status.as_str(), "servfail" | "error") {
                    fact.set("error", shown.as_str());
                }
                (a.status, shown)
            }
            Payload::Failed { failure: Failure::NotRun, .. } => {
                out.unavailable("dns_answer", o.source.label(), o.problem().unwrap_or_default());
                continue;
            }
            Payload::Failed { failure, message } => {
                fact.set("error", message.as_str());
                let status = if *failure == Failure::TimedOut { "timeout" } else { "error" };
                (status.to_string(), message.clone())
            }
            _ => continue,
        };
        fact.set("status", status);
        let fact = fact.evidence(o.source.label(), text);
        let key = (qtype.clone(), normalize(name));
        let reasons: Vec<&str> = match purposes.get(&key) {
            Some(p) if qtype != "PTR" => p.iter().copied().collect(),
            _ if qtype == "PTR" => vec!["ptr"],
            _ => vec!["destination"],
        };
        for purpose in reasons {
            out.push(fact.clone().with("purpose", purpose));
        }
    }
    if !asked {
        out.unavailable("dns_answer", "DNS queries", "none in this bundle");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{Bundle, Observation, BUNDLE_FORMAT, BUNDLE_VERSION};
    use crate::parse::dns::{mydomain, myhostname, relay_next_hops, HostsLine, NextHop};
    use crate::parse::postconf::parse_main_cf;

    /// systemd-resolved's stub file, as Debian 12 ships it (comments shortened).
    const RESOLVED_STUB: &str = "\
# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).
# Do not edit.
#
# Third party programs should typically not access this file directly, but only
# through the symlink at /etc/resolv.conf.

nameserver 127.0.0.53
options edns0 trust-ad
search lab.example
";

    const DEBIAN_HOSTS: &str = "\
127.0.0.1\tlocalhost
127.0.1.1\tmx1.lab.example\tmx1

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
";

    fn cfg(main_cf: &str) -> Config {
        Config { explicit: parse_main_cf(main_cf).into_iter().map(|s| (s.name.clone(), s)).collect(), ..Config::default() }
    }

    fn obs(id: u32, source: Source, payload: Payload) -> Observation {
        Observation { id, source, at: 0, elapsed_ms: 0, payload }
    }

    fn text(t: &str) -> Payload {
        Payload::text(t.to_string())
    }

    fn file(id: u32, path: &str, payload: Payload) -> Observation {
        obs(id, Source::File { path: path.to_string() }, payload)
    }

    fn dns(id: u32, qtype: &str, name: &str, payload: Payload) -> Observation {
        obs(id, Source::Dns { qtype: qtype.to_string(), name: name.to_string() }, payload)
    }

    fn bundle(live: bool, observations: Vec<Observation>) -> Bundle {
        Bundle {
            format: BUNDLE_FORMAT.to_string(),
            version: BUNDLE_VERSION,
            mailsleuth: "test".to_string(),
            host: "mx1.lab.example".to_string(),
            root: if live { "/".to_string() } else { "/tmp/sysroot".to_string() },
            live,
            created_at: 0,
            log_only: false,
            observations,
        }
    }

    fn field<'a>(f: &'a Fact, name: &str) -> &'a str {
        f.get(name).and_then(Value::as_str).unwrap_or_default()
    }

    fn list(f: &Fact, name: &str) -> Vec<String> {
        match f.get(name) {
            Some(Value::List(l)) => l.iter().map(|v| v.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn systemd_resolved_stub_names_one_local_nameserver() {
        let rc = parse_resolv_conf(RESOLVED_STUB);
        assert_eq!(rc.nameservers, vec![(7, "127.0.0.53".to_string())]);
        assert_eq!(rc.search, vec!["lab.example"]);
        assert_eq!(rc.options, vec!["edns0", "trust-ad"]);
    }

    #[test]
    fn the_last_of_domain_and_search_wins() {
        let rc = parse_resolv_conf("search a.example b.example\ndomain c.example\n; nameserver 10.0.0.9\nnameserver 10.0.0.2\n");
        assert_eq!(rc.search, vec!["c.example"]);
        assert_eq!(rc.nameservers, vec![(4, "10.0.0.2".to_string())]);
    }

    #[test]
    fn hosts_lines_keep_names_and_drop_comments() {
        let h = parse_hosts(DEBIAN_HOSTS);
        assert_eq!(h.len(), 5);
        assert_eq!(h[1], HostsLine { line: 2, address: "127.0.1.1".into(), names: vec!["mx1.lab.example".into(), "mx1".into()] });
        assert_eq!(h[2].names, vec!["localhost", "ip6-localhost", "ip6-loopback"]);
        assert!(parse_hosts("10.0.0.1 # only a comment\n").is_empty());
    }

    #[test]
    fn brackets_mean_no_mx_lookup_and_literals_need_no_dns() {
        assert_eq!(relay_next_hops("[relay.lab.example]:587"), vec![NextHop { name: "relay.lab.example".into(), mx: false }]);
        assert_eq!(relay_next_hops("Relay.Lab.Example:submission"), vec![NextHop { name: "relay.lab.example".into(), mx: true }]);
        assert_eq!(
            relay_next_hops("[a.example]:587, b.example"),
            vec![NextHop { name: "a.example".into(), mx: false }, NextHop { name: "b.example".into(), mx: true }]
        );
        assert!(relay_next_hops("[192.0.2.1]:25").is_empty());
        assert!(relay_next_hops("[ipv6:2001:db8::1]").is_empty());
        assert!(relay_next_hops("").is_empty());
    }

    #[test]
    fn plan_follows_main_cf_and_postfix_defaults() {
        let c = cfg("myhostname = mx1.lab.example\nrelayhost = [smarthost.lab.example]:587\n");
        let plan: Vec<String> = planned_queries(&c, "ignored").iter().map(|p| format!("{} {} {}", p.purpose, p.qtype, p.name)).collect();
        assert_eq!(
            plan,
            vec![
                "myhostname A mx1.lab.example",
                "myhostname AAAA mx1.lab.example",
                "mydomain MX lab.example",
                "relayhost A smarthost.lab.example",
                "relayhost AAAA smarthost.lab.example"
            ]
        );
        // Unset myhostname: the host name; unqualified: mydomain is `localdomain`.
        assert_eq!(myhostname(&cfg(""), "Box"), "box");
        assert_eq!(mydomain(&cfg(""), "box"), "localdomain");
        assert_eq!(mydomain(&cfg("mydomain = example.org\n"), "box"), "example.org");
    }

    #[test]
    fn answers_read_back_with_their_status() {
        let mx = parse_answer("MX", "; via 127.0.0.1:5353 (MAILSLEUTH_RESOLVER)\nMX 20 mx2.lab.example.\nMX 10 mx1.lab.example.\n");
        assert_eq!(mx.status, "ok");
        assert_eq!(mx.via, "127.0.0.1:5353 (MAILSLEUTH_RESOLVER)");
        assert_eq!(mx.targets("MX"), vec!["mx1.lab.example", "mx2.lab.example"]);
        assert_eq!(parse_answer("A", "; via 127.0.0.53:53 (/etc/resolv.conf)\nNXDOMAIN\n").status, "nxdomain");
        assert_eq!(parse_answer("MX", "NODATA\n").status, "nodata");
        assert_eq!(parse_answer("MX", "SERVFAIL\n").status, "servfail");
        assert_eq!(parse_answer("MX", "REFUSED\n").status, "refused");
        let formerr = parse_answer("MX", "RCODE FORMERR\n");
        assert_eq!((formerr.status.as_str(), formerr.rcode.as_deref()), ("error", Some("FORMERR")));
        // A CNAME alone does not answer an A question.
        let cname = parse_answer("A", "CNAME mail.lab.example.\nA 192.0.2.25\n");
        assert_eq!((cname.status.as_str(), cname.targets("A")), ("ok", vec!["192.0.2.25".to_string()]));
        assert_eq!(parse_answer("A", "CNAME gone.lab.example.\n").status, "nodata");
        assert_eq!(parse_answer("MX", "MX 0 .\n").targets("MX"), vec!["."]);
    }

    #[test]
    fn a_live_bundle_gives_one_answer_fact_per_purpose() {
        let main_cf = "myhostname = mx1.lab.example\nrelayhost = lab.example\n";
        let b = bundle(
            true,
            vec![
                file(0, "/etc/postfix/main.cf", text(main_cf)),
                dns(1, "A", "mx1.lab.example", text("; via 127.0.0.1:53 (/etc/resolv.conf)\nA 127.0.1.1\n")),
                dns(2, "AAAA", "mx1.lab.example", text("; via 127.0.0.1:53 (/etc/resolv.conf)\nNODATA\n")),
                dns(3, "MX", "lab.example", text("; via 127.0.0.1:53 (/etc/resolv.conf)\nMX 10 relay.lab.example.\n")),
                dns(4, "A", "relay.lab.example", text("NXDOMAIN\n")),
                dns(5, "AAAA", "relay.lab.example", Payload::Failed { failure: Failure::TimedOut, message: "no answer within 3 s".into() }),
                dns(6, "PTR", "192.0.2.7", text("PTR mx1.lab.example.\n")),
                dns(7, "MX", "client.lab.example", text("MX 10 mx.client.lab.example.\n")),
            ],
        );
        let mut out = FactSet::new();
        facts(&b, crate::facts::config_from(&b.observations).as_ref(), &mut out);
        let rows: Vec<String> = out
            .of_kind("dns_answer")
            .map(|f| {
                format!(
                    "{} {} {} {} [{}]",
                    field(f, "purpose"),
                    field(f, "qtype"),
                    field(f, "name"),
                    field(f, "status"),
                    list(f, "targets").join(" ")
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                "myhostname A mx1.lab.example ok [127.0.1.1]",
                "myhostname AAAA mx1.lab.example nodata []",
                "mydomain MX lab.example ok [relay.lab.example]",
                "relayhost MX lab.example ok [relay.lab.example]",
                "mydomain A relay.lab.example nxdomain []",
                "relayhost A relay.lab.example nxdomain []",
                "mydomain AAAA relay.lab.example timeout []",
                "relayhost AAAA relay.lab.example timeout []",
                "ptr PTR 192.0.2.7 ok [mx1.lab.example]",
                "destination MX client.lab.example ok [mx.client.lab.example]",
            ]
        );
        let mx = out.of_kind("dns_answer").find(|f| field(f, "qtype") == "MX").unwrap();
        assert_eq!(mx.evidence[0].source, "dns MX lab.example");
        assert_eq!(mx.evidence[0].text, "10 relay.lab.example.");
        assert_eq!(field(mx, "resolver"), "127.0.0.1:53 (/etc/resolv.conf)");
        let timeout = out.of_kind("dns_answer").find(|f| field(f, "status") == "timeout").unwrap();
        assert_eq!(field(timeout, "error"), "no answer within 3 s");
        assert!(out.unavailable_for("dns_answer").is_empty());
    }

    #[test]
    fn under_root_dns_is_unavailable_not_fine() {
        let not_run = Payload::Failed { failure: Failure::NotRun, message: "--root given: DNS is not queried".into() };
        let b = bundle(false, vec![dns(0, "MX", "lab.example", not_run)]);
        let mut out = FactSet::new();
        facts(&b, crate::facts::config_from(&b.observations).as_ref(), &mut out);
        assert_eq!(out.of_kind("dns_answer").count(), 0);
        let u = out.unavailable_for("dns_answer");
        assert_eq!((u.len(), u[0].what.as_str(), u[0].why.as_str()), (1, "DNS queries", "not run: --root given"));
    }

    #[test]
    fn resolver_files_and_a_stale_chroot_copy() {
        let b = bundle(
            false,
            vec![
                file(0, "/etc/resolv.conf", text(RESOLVED_STUB)),
                file(1, "/var/spool/postfix/etc/resolv.conf", text("# old DHCP lease\nnameserver 192.168.1.1\n")),
                file(2, "/etc/hosts", text(DEBIAN_HOSTS)),
                file(3, "/var/spool/postfix/etc/hosts", Payload::Absent),
            ],
        );
        let mut out = FactSet::new();
        facts(&b, crate::facts::config_from(&b.observations).as_ref(), &mut out);
        let rc: Vec<String> = out
            .of_kind("resolv_conf")
            .map(|f| format!("{} {} {}", field(f, "path"), field(f, "state"), list(f, "nameservers").join(" ")))
            .collect();
        assert_eq!(rc, vec!["/etc/resolv.conf ok 127.0.0.53", "/var/spool/postfix/etc/resolv.conf ok 192.168.1.1"]);
        let ns = out.of_kind("resolver").next().unwrap();
        assert_eq!((field(ns, "nameserver"), ns.evidence[0].source.as_str()), ("127.0.0.53", "/etc/resolv.conf:7"));
        let copies: Vec<String> = out.of_kind("chroot_copy").map(|f| format!("{} {}", field(f, "file"), field(f, "state"))).collect();
        assert_eq!(copies, vec!["/etc/resolv.conf differs", "/etc/hosts absent"]);
        let differs = out.of_kind("chroot_copy").next().unwrap();
        assert_eq!(differs.evidence[1].text, "nameserver 192.168.1.1");
        let entry = out.of_kind("hosts_entry").find(|f| field(f, "address") == "127.0.1.1").unwrap();
        assert_eq!(list(entry, "names"), vec!["mx1.lab.example", "mx1"]);
        assert_eq!(entry.evidence[0].source, "/etc/hosts:2");
    }

    #[test]
    fn a_chroot_copy_that_differs_only_in_comments_is_the_same() {
        let b = bundle(
            false,
            vec![
                file(0, "/etc/resolv.conf", text("# generated\nnameserver 10.0.0.2\n")),
                file(1, "/var/spool/postfix/etc/resolv.conf", text("nameserver  10.0.0.2\n")),
            ],
        );
        let mut out = FactSet::new();
        facts(&b, crate::facts::config_from(&b.observations).as_ref(), &mut out);
        assert_eq!(field(out.of_kind("chroot_copy").next().unwrap(), "state"), "same");
    }
}
