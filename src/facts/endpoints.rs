//! The services outside Postfix that Postfix connects to while it accepts or routes mail:
//! the after-queue content filter (`content_filter`, in main.cf or as a master.cf `-o`
//! override), milters (`smtpd_milters`, `non_smtpd_milters`) and policy servers
//! (`check_policy_service` in an `smtpd_*_restrictions` list). When one of them is down,
//! Postfix defers or tempfails mail although Postfix itself is fine; the rules compare these
//! endpoints with what listens and with the log.
//!
//! Pure: reads the Postfix configuration and master.cf observations only.
//!
//! Endpoint syntax (postconf(5), MILTER_README, SMTPD_POLICY_README):
//! - content_filter: `transport:nexthop`, e.g. `smtp-amavis:[127.0.0.1]:10024`; the
//!   transport is a master.cf service (smtp or lmtp client: a network endpoint; pipe: a
//!   command, no endpoint). Without a port the smtp client uses 25, lmtp 24.
//! - milters: `inet:host:port`, `inet:[host]:port`, `unix:/path`, `local:/path` (= unix),
//!   or Postfix 3.0's `{ inet:host:port, default_action = accept }`.
//! - check_policy_service: `inet:host:port` or `unix:pathname` (relative to
//!   queue_directory), or a `{ ... }` group with per-service settings.

use super::mailconf::services;
use crate::bundle::Bundle;
use crate::model::{Fact, FactSet};
use crate::model::{FieldType, KindSpec};
use crate::parse::mailconf::Service;
use crate::parse::postconf::Config;

pub const KINDS: &[KindSpec] = &[KindSpec {
    name: "external_service",
    producer: "parser: main.cf content_filter, smtpd_milters, non_smtpd_milters, check_policy_service (+ master.cf -o overrides)",
    doc: "a service outside Postfix that Postfix connects to for mail to pass: a content filter, a milter or a policy server",
    fields: &[
        ("role", FieldType::String, "content_filter, milter or policy"),
        ("param", FieldType::String, "the parameter naming it, e.g. content_filter, smtpd_milters, smtpd_recipient_restrictions"),
        ("service", FieldType::String, "the master.cf service whose -o override sets it (absent: main.cf)"),
        ("spec", FieldType::String, "the endpoint as written, e.g. smtp-amavis:[127.0.0.1]:10024, inet:127.0.0.1:8891"),
        ("transport", FieldType::String, "content filters: the master.cf transport, e.g. smtp-amavis"),
        ("type", FieldType::String, "inet (TCP), unix (a UNIX-domain socket) or pipe (a command: no endpoint)"),
        ("host", FieldType::String, "inet: host name or address, without brackets"),
        ("port", FieldType::Integer, "inet: TCP port"),
        ("address", FieldType::String, "inet: host:port as Postfix logs it in `connect to` warnings, e.g. 127.0.0.1:10023"),
        ("path", FieldType::String, "unix: the socket path as Postfix resolves it (relative paths under queue_directory)"),
        ("local", FieldType::Bool, "inet: the host is this machine (loopback address or localhost)"),
    ],
}];

/// One endpoint found in the configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Endpoint {
    pub role: &'static str,
    pub param: String,
    pub service: Option<String>,
    pub spec: String,
    pub transport: Option<String>,
    pub kind: &'static str,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub path: Option<String>,
}

/// Restriction lists that may hold `check_policy_service`.
const RESTRICTION_PARAMS: &[&str] = &[
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions",
    "smtpd_etrn_restrictions",
];

/// `host:port`, `[host]:port`, `[ipv6:2001:db8::1]:port`, `host` → (host, port).
pub fn split_host_port(s: &str) -> (String, Option<u16>) {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        let host = host.strip_prefix("ipv6:").or_else(|| host.strip_prefix("IPv6:")).unwrap_or(host);
        return (host.to_string(), after.strip_prefix(':').and_then(|p| p.trim().parse().ok()));
    }
    match s.rsplit_once(':') {
        // A bare IPv6 address has several colons: only `[...]` gives it a port.
        Some((h, p)) if !h.contains(':') => (h.to_string(), p.trim().parse().ok()),
        _ => (s.to_string(), None),
    }
}

/// Milter and policy endpoints: `inet:...`, `unix:...`, `local:...`, or a bare `host:port`
/// (inet) / path (unix). `queue_dir` resolves relative UNIX paths.
fn socket_endpoint(role: &'static str, param: &str, spec: &str, queue_dir: &str) -> Endpoint {
    let mut e = Endpoint { role, param: param.to_string(), spec: spec.to_string(), ..Endpoint::default() };
    let (scheme, rest) = match spec.split_once(':') {
        Some((s @ ("inet" | "unix" | "local"), rest)) => (s, rest),
        _ if spec.starts_with('/') || spec.starts_with("private/") || spec.starts_with("public/") => ("unix", spec),
        _ => ("inet", spec),
    };
    if scheme == "inet" {
        let (host, port) = split_host_port(rest);
        e.kind = "inet";
        e.host = Some(host);
        e.port = port;
    } else {
        e.kind = "unix";
        e.path = Some(if rest.starts_with('/') { rest.to_string() } else { format!("{}/{rest}", queue_dir.trim_end_matches('/')) });
    }
    e
}

/// The endpoints of a list parameter: items separated by commas or spaces, where a
/// `{ ... }` group is one item whose first word is the endpoint.
fn list_items(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in value.chars() {
        match c {
            '{' => {
                depth += 1;
                cur.push(c);
            }
            '}' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' | ' ' | '\t' | '\n' if depth == 0 => {
                if !cur.trim().is_empty() {
                    out.push(cur.trim().to_string());
                }
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// The endpoint of one list item: the item itself, or the first word inside `{ ... }`.
fn item_endpoint(item: &str) -> Option<String> {
    let inner = item.strip_prefix('{').map(|r| r.trim_end_matches('}')).unwrap_or(item);
    inner.split([',', ' ', '\t']).find(|w| !w.is_empty() && !w.contains('=')).map(str::to_string)
}

pub fn milters(param: &str, value: &str, queue_dir: &str) -> Vec<Endpoint> {
    list_items(value).iter().filter_map(|i| item_endpoint(i)).map(|spec| socket_endpoint("milter", param, &spec, queue_dir)).collect()
}

pub fn policy_services(param: &str, value: &str, queue_dir: &str) -> Vec<Endpoint> {
    let items = list_items(value);
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if item != "check_policy_service" {
            continue;
        }
        if let Some(spec) = items.get(i + 1).and_then(|n| item_endpoint(n)) {
            out.push(socket_endpoint("policy", param, &spec, queue_dir));
        }
    }
    out
}

/// `transport:nexthop` of a content filter; the transport's master.cf command decides
/// whether it is a network endpoint (smtp, lmtp) or a command (pipe).
pub fn content_filter(param: &str, value: &str, services: &[Service], queue_dir: &str) -> Option<Endpoint> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let (transport, nexthop) = value.split_once(':').unwrap_or((value, ""));
    let mut e = Endpoint {
        role: "content_filter",
        param: param.to_string(),
        spec: value.to_string(),
        transport: Some(transport.to_string()),
        ..Endpoint::default()
    };
    let command = services.iter().find(|s| s.name == transport && s.kind == "unix").map(|s| s.command.as_str());
    match command {
        Some("pipe") => e.kind = "pipe",
        _ if nexthop.starts_with("unix:") || nexthop.starts_with('/') => {
            let path = nexthop.trim_start_matches("unix:");
            e.kind = "unix";
            e.path = Some(if path.starts_with('/') { path.to_string() } else { format!("{}/{path}", queue_dir.trim_end_matches('/')) });
        }
        _ => {
            let (host, port) = split_host_port(nexthop.strip_prefix("inet:").unwrap_or(nexthop));
            e.kind = "inet";
            let default_port = if command == Some("lmtp") { 24 } else { 25 };
            e.port = Some(port.unwrap_or(default_port));
            e.host = Some(host).filter(|h| !h.is_empty());
        }
    }
    Some(e)
}

/// Every endpoint of the configuration: main.cf first, then master.cf `-o` overrides.
pub fn endpoints(cfg: &Config, services: &[Service]) -> Vec<Endpoint> {
    let queue_dir = cfg.value("queue_directory").unwrap_or_else(|| "/var/spool/postfix".to_string());
    let mut out = Vec::new();
    let from = |param: &str, value: &str, service: Option<&str>, out: &mut Vec<Endpoint>| {
        let mut found: Vec<Endpoint> = match param {
            "content_filter" => content_filter(param, value, services, &queue_dir).into_iter().collect(),
            "smtpd_milters" | "non_smtpd_milters" => milters(param, value, &queue_dir),
            p if RESTRICTION_PARAMS.contains(&p) => policy_services(param, value, &queue_dir),
            _ => Vec::new(),
        };
        for e in &mut found {
            e.service = service.map(str::to_string);
        }
        out.extend(found);
    };
    for param in ["content_filter", "smtpd_milters", "non_smtpd_milters"].iter().chain(RESTRICTION_PARAMS) {
        if let Some(v) = cfg.value(param) {
            from(param, &v, None, &mut out);
        }
    }
    for s in services {
        for o in s.overrides() {
            let Some((name, value)) = o.split_once('=') else { continue };
            // `-o smtpd_milters=$mua_milters`: the value may name another parameter.
            let value = if let Some(var) = value.trim().strip_prefix('$') {
                cfg.value(var.trim_start_matches('{').trim_end_matches('}')).unwrap_or_default()
            } else {
                value.trim().to_string()
            };
            from(name.trim(), &value, Some(&s.name), &mut out);
        }
    }
    out
}

fn is_local(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    h == "localhost" || h.starts_with("localhost.") || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub fn facts(bundle: &Bundle, cfg: Option<&Config>, out: &mut FactSet) {
    let Some(cfg) = cfg else { return };
    let services = services(bundle);
    for e in endpoints(cfg, &services) {
        let mut f = Fact::new("external_service")
            .with("role", e.role)
            .with("param", e.param.as_str())
            .with("spec", e.spec.as_str())
            .with("type", e.kind);
        if let Some(s) = &e.service {
            f.set("service", s.as_str());
        }
        if let Some(t) = &e.transport {
            f.set("transport", t.as_str());
        }
        if let Some(h) = &e.host {
            f.set("host", h.as_str());
            f.set("local", is_local(h));
            if let Some(p) = e.port {
                f.set("port", i64::from(p));
                let shown = if h.contains(':') { format!("[{h}]:{p}") } else { format!("{h}:{p}") };
                f.set("address", shown);
            }
        }
        if let Some(p) = &e.path {
            f.set("path", p.as_str());
        }
        let (source, text) = match &e.service {
            Some(s) => ("master.cf".to_string(), format!("{s}: -o {}={}", e.param, e.spec)),
            None => (cfg.origin.clone(), format!("{} = {}", e.param, cfg.raw(&e.param).unwrap_or_default())),
        };
        let mut f = f.evidence(source, text);
        if let Some(id) = cfg.observation {
            f = f.from_observation(id);
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::mailconf::parse_master_cf;
    use crate::parse::postconf::parse_main_cf;

    fn cfg(main_cf: &str) -> Config {
        Config {
            explicit: parse_main_cf(main_cf).into_iter().map(|s| (s.name.clone(), s)).collect(),
            origin: "postconf -n".into(),
            ..Config::default()
        }
    }

    /// Debian's amavisd-new README.Postfix setup: the filter's smtp client and the
    /// re-injection smtpd on 10025.
    const AMAVIS_MASTER_CF: &str = "\
smtp      inet  n       -       y       -       -       smtpd
smtp      unix  -       -       y       -       -       smtp
smtp-amavis unix -      -       n       -       2       smtp
    -o smtp_data_done_timeout=1200
    -o smtp_send_xforward_command=yes
    -o disable_dns_lookups=yes
    -o max_use=20
127.0.0.1:10025 inet n  -       n       -       -       smtpd
    -o content_filter=
    -o smtpd_milters=
    -o smtpd_recipient_restrictions=permit_mynetworks,reject
submission inet n       -       y       -       -       smtpd
    -o syslog_name=postfix/submission
    -o content_filter=smtp-amavis:[127.0.0.1]:10026
    -o smtpd_milters=$mua_milters
dfilt     unix  -       n       n       -       -       pipe
    flags=Rq user=filter argv=/usr/local/bin/filter.sh -f ${sender} -- ${recipient}
";

    #[test]
    fn content_filter_in_main_cf_and_master_cf_overrides() {
        let c = cfg("content_filter = smtp-amavis:[127.0.0.1]:10024\nmua_milters = inet:localhost:8891\n");
        let e = endpoints(&c, &parse_master_cf(AMAVIS_MASTER_CF));
        let cf: Vec<&Endpoint> = e.iter().filter(|e| e.role == "content_filter").collect();
        assert_eq!(cf.len(), 2, "{e:?}");
        assert_eq!((cf[0].host.as_deref(), cf[0].port, cf[0].kind), (Some("127.0.0.1"), Some(10024), "inet"));
        assert_eq!(cf[0].transport.as_deref(), Some("smtp-amavis"));
        assert_eq!((cf[1].service.as_deref(), cf[1].port), (Some("submission"), Some(10026)));
        // `-o smtpd_milters=$mua_milters` is expanded; the empty overrides name nothing.
        let m: Vec<&Endpoint> = e.iter().filter(|e| e.role == "milter").collect();
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].host.as_deref(), m[0].port, m[0].service.as_deref()), (Some("localhost"), Some(8891), Some("submission")));
        assert!(e.iter().all(|e| e.role != "policy"));
    }

    #[test]
    fn a_pipe_filter_has_no_network_endpoint() {
        let all = endpoints(&cfg("content_filter = dfilt:dummy\n"), &parse_master_cf(AMAVIS_MASTER_CF));
        let e: Vec<&Endpoint> = all.iter().filter(|e| e.service.is_none()).collect();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].kind, e[0].host.as_deref()), ("pipe", None));
    }

    #[test]
    fn milter_forms() {
        let m = milters(
            "smtpd_milters",
            "inet:127.0.0.1:8891, unix:/opendmarc/opendmarc.sock local:opendkim/opendkim.sock\n { inet:[::1]:11332, default_action = accept }",
            "/var/spool/postfix",
        );
        type Row<'a> = (&'a str, Option<&'a str>, Option<u16>, Option<&'a str>);
        let got: Vec<Row> = m.iter().map(|e| (e.kind, e.host.as_deref(), e.port, e.path.as_deref())).collect();
        assert_eq!(
            got,
            [
                ("inet", Some("127.0.0.1"), Some(8891), None),
                ("unix", None, None, Some("/opendmarc/opendmarc.sock")),
                ("unix", None, None, Some("/var/spool/postfix/opendkim/opendkim.sock")),
                ("inet", Some("::1"), Some(11332), None),
            ]
        );
    }

    #[test]
    fn policy_services_in_restriction_lists() {
        let c = cfg("smtpd_recipient_restrictions = permit_mynetworks,\n    reject_unauth_destination,\n    check_policy_service unix:private/policyd-spf,\n    check_policy_service { inet:127.0.0.1:10023, timeout=10s, default_action=DUNNO }\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n");
        let e = endpoints(&c, &[]);
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!((e[0].kind, e[0].path.as_deref()), ("unix", Some("/var/spool/postfix/private/policyd-spf")));
        assert_eq!(
            (e[1].host.as_deref(), e[1].port, e[1].param.as_str()),
            (Some("127.0.0.1"), Some(10023), "smtpd_recipient_restrictions")
        );
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(split_host_port("[127.0.0.1]:10024"), ("127.0.0.1".into(), Some(10024)));
        assert_eq!(split_host_port("[ipv6:::1]:10024"), ("::1".into(), Some(10024)));
        assert_eq!(split_host_port("localhost:10023"), ("localhost".into(), Some(10023)));
        assert_eq!(split_host_port("::1"), ("::1".into(), None));
        assert!(is_local("127.0.0.1") && is_local("localhost") && is_local("::1") && !is_local("192.0.2.7"));
    }
}
