//! DNS collector: the resolver configuration Postfix sees, and (on a live host only) the
//! DNS questions Postfix itself asks: A/AAAA of `myhostname`, MX of `mydomain`, the
//! relayhost's route, PTR of the host's own addresses, and (on request) MX of the
//! destinations whose mail is deferred.
//!
//! Files: `/etc/resolv.conf`, `/etc/hosts`, and their copies under `queue_directory`
//! (Debian's postfix copies them there, because chrooted services cannot see /etc).
//!
//! Queries go to the inspected host's resolv.conf nameservers (the first three, as glibc),
//! each bounded by `--timeout` but never longer than 3 s; after 3 queries in a row without an
//! answer the rest are recorded as not asked, so a dead resolver costs seconds, not minutes.
//! Under `--root` no query is made: each planned one is recorded as `NotRun`.
//!
//! Each answer is stored raw, as text (format in `facts::dns`): the records, or the rcode
//! (`NXDOMAIN`, `NODATA`, `SERVFAIL`, ...), with the servers asked. Nothing is judged here.
//! A nameserver address where nothing listens at all also ends as `TimedOut`: the resolver
//! library (`domain`) does not report the ICMP refusal. Telling "no DNS server running"
//! from "server not answering" is for rules that also see what listens on port 53.

use super::fs::read_file;
use super::{Options, Recorder};
use crate::bundle::specs::{HOSTS, RESOLV_CONF};
use crate::bundle::{Failure, Payload, Source};
use crate::parse::dns::{chroot_path, normalize, parse_answer, parse_resolv_conf, planned_queries, MAXNS};
use crate::parse::postconf::Config;
use domain::base::iana::{Rcode, Rtype};
use domain::base::{Name, ParsedName, ToName};
use domain::rdata::AllRecordData;
use domain::resolv::stub::conf::{ResolvConf, ServerConf, Transport};
use domain::resolv::stub::Answer;
use domain::resolv::StubResolver;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};
use std::str::FromStr;
use std::time::Duration;

/// Environment variable naming the DNS server(s) to ask instead of resolv.conf's, as
/// `ADDR[:PORT]` (comma-separated for several; IPv6 as `[::1]:5353`), e.g.
/// `MAILSLEUTH_RESOLVER=127.0.0.1:5353`. Meant for tests and labs that run their own DNS
/// server; the inspected host's /etc/resolv.conf is left alone.
pub const RESOLVER_ENV: &str = "MAILSLEUTH_RESOLVER";

/// Longest wait for one DNS answer, whatever `--timeout` says: Postfix's own resolver
/// gives up in seconds too, and a dead resolver must not stall the whole diagnosis.
pub const MAX_QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// After this many queries in a row without an answer, the others are not asked.
const GIVE_UP_AFTER_TIMEOUTS: u32 = 3;
/// MX exchanges whose addresses are asked for (Postfix tries them in preference order).
const MAX_EXCHANGES: usize = 3;
/// Own addresses whose PTR is asked for.
const MAX_OWN_ADDRESSES: usize = 8;
/// Largest resolv.conf or hosts file kept.
const FILE_CAP: u64 = 1 << 20;

/// The DNS servers queries go to, and where that choice came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolver {
    pub servers: Vec<SocketAddr>,
    /// `/etc/resolv.conf`, `MAILSLEUTH_RESOLVER`, ...: shown with every answer.
    pub origin: String,
}

impl Resolver {
    /// One explicit server (a test's own DNS server).
    pub fn server(addr: SocketAddr) -> Self {
        Resolver { servers: vec![addr], origin: "given".to_string() }
    }

    /// The servers a resolv.conf names, as glibc uses them: the first three, port 53, and
    /// 127.0.0.1 when there is none.
    pub fn from_resolv_conf(text: &str, path: &str) -> Self {
        let rc = parse_resolv_conf(text);
        let servers: Vec<SocketAddr> = rc.nameservers.iter().take(MAXNS).filter_map(|(_, a)| nameserver_addr(a)).collect();
        if servers.is_empty() {
            let glibc_default = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53);
            return Resolver { servers: vec![glibc_default], origin: format!("{path} names no nameserver: glibc's default") };
        }
        Resolver { servers, origin: path.to_string() }
    }

    /// The `; via` line's content: `127.0.0.1:53 (/etc/resolv.conf)`.
    pub fn via(&self) -> String {
        let servers: Vec<String> = self.servers.iter().map(SocketAddr::to_string).collect();
        format!("{} ({})", servers.join(" "), self.origin)
    }
}

/// A resolv.conf nameserver: an address, IPv6 possibly with a `%interface` scope.
fn nameserver_addr(a: &str) -> Option<SocketAddr> {
    if let Ok(ip) = a.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, 53));
    }
    let (ip, scope) = a.split_once('%')?;
    let ip = ip.parse().ok()?;
    let scope = scope.parse().ok().or_else(|| nix::net::if_::if_nametoindex(scope).ok())?;
    Some(SocketAddr::V6(SocketAddrV6::new(ip, 53, 0, scope)))
}

/// `ADDR`, `ADDR:PORT` or `[V6]:PORT`, comma-separated; port 53 when absent.
pub fn parse_servers(value: &str) -> Result<Vec<SocketAddr>, String> {
    let mut out = Vec::new();
    for item in value.split([',', ' ']).filter(|s| !s.is_empty()) {
        let addr = item.parse::<SocketAddr>().or_else(|_| item.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)));
        out.push(addr.map_err(|_| format!("{item:?} is not an address or address:port"))?);
    }
    if out.is_empty() {
        return Err("no server given".to_string());
    }
    Ok(out)
}

/// The resolver named by `MAILSLEUTH_RESOLVER`, if set (see [`RESOLVER_ENV`]).
pub fn resolver_from_env() -> Result<Option<Resolver>, String> {
    match std::env::var(RESOLVER_ENV) {
        Ok(v) => parse_servers(&v)
            .map(|servers| Some(Resolver { servers, origin: RESOLVER_ENV.to_string() }))
            .map_err(|e| format!("{RESOLVER_ENV}={v}: {e}")),
        Err(_) => Ok(None),
    }
}

/// Everything DNS: the files, then the questions the configuration implies.
pub fn collect(opts: &Options, cfg: &Config, rec: &mut Recorder) {
    // `cfg` was parsed from the observations recorded before any collector ran (`postconf
    // -d` included, which knows the real default myhostname): the producer sees exactly
    // this one, so it can tell why each question was asked.
    read_files(opts, cfg, rec);
    let resolver = system_resolver(opts, rec);
    ask_configured(opts, cfg, resolver, rec);
}

/// [`collect`], with queries sent to `resolver` instead of the one the environment or
/// resolv.conf names (for tests and labs running their own DNS server).
pub fn collect_with(opts: &Options, cfg: &Config, resolver: &Resolver, rec: &mut Recorder) {
    read_files(opts, cfg, rec);
    ask_configured(opts, cfg, Ok(resolver.clone()), rec);
}

/// MX, then the addresses Postfix would connect to, of destinations whose mail is deferred
/// (the queue collector passes its top destinations).
pub fn collect_destinations(opts: &Options, names: &[String], rec: &mut Recorder) {
    let resolver = system_resolver(opts, rec);
    ask_destinations(opts, resolver, names, rec);
}

/// [`collect_destinations`] with an explicit resolver.
pub fn collect_destinations_with(opts: &Options, resolver: &Resolver, names: &[String], rec: &mut Recorder) {
    ask_destinations(opts, Ok(resolver.clone()), names, rec);
}

fn read_files(opts: &Options, cfg: &Config, rec: &mut Recorder) {
    for file in [RESOLV_CONF, HOSTS] {
        read_file(opts, rec, file, FILE_CAP);
        read_file(opts, rec, &chroot_path(cfg, file), FILE_CAP);
    }
}

/// `MAILSLEUTH_RESOLVER` when set, else the inspected host's /etc/resolv.conf.
fn system_resolver(opts: &Options, rec: &mut Recorder) -> Result<Resolver, String> {
    if let Some(r) = resolver_from_env()? {
        return Ok(r);
    }
    let id = read_file(opts, rec, RESOLV_CONF, FILE_CAP);
    Ok(Resolver::from_resolv_conf(rec.get(id).text().unwrap_or(""), RESOLV_CONF))
}

fn ask_configured(opts: &Options, cfg: &Config, resolver: Result<Resolver, String>, rec: &mut Recorder) {
    let host = host_name(opts, rec);
    let mut asker = Asker::new(opts, resolver);
    for p in planned_queries(cfg, &host) {
        if p.purpose == "relayhost" && p.qtype == "MX" {
            asker.route(rec, &p.name);
        } else {
            asker.ask(rec, p.qtype, &p.name);
        }
    }
    // The host's own interfaces say nothing about an inspected --root tree.
    if opts.live() {
        for ip in own_addresses() {
            asker.ask(rec, "PTR", &ip.to_string());
        }
    }
}

fn ask_destinations(opts: &Options, resolver: Result<Resolver, String>, names: &[String], rec: &mut Recorder) {
    let mut asker = Asker::new(opts, resolver);
    for name in names.iter().map(|n| normalize(n)).filter(|n| !n.is_empty() && n.parse::<IpAddr>().is_err()) {
        asker.route(rec, &name);
    }
}

/// The host name as `observe::collect` records it: /etc/hostname, else the kernel's.
fn host_name(opts: &Options, rec: &mut Recorder) -> String {
    let id = read_file(opts, rec, "/etc/hostname", FILE_CAP);
    match rec.get(id).text().map(str::trim).filter(|s| !s.is_empty()) {
        Some(h) => h.to_string(),
        None if opts.live() => nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_default(),
        None => String::new(),
    }
}

/// Non-loopback, non-link-local addresses of this host's interfaces.
fn own_addresses() -> Vec<IpAddr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else { return Vec::new() };
    let mut out: Vec<IpAddr> = Vec::new();
    for a in addrs {
        let Some(sa) = a.address else { continue };
        let ip = match (sa.as_sockaddr_in(), sa.as_sockaddr_in6()) {
            (Some(v4), _) => IpAddr::V4(v4.ip()),
            (_, Some(v6)) => IpAddr::V6(v6.ip()),
            _ => continue,
        };
        let link_local = match ip {
            IpAddr::V4(v4) => v4.is_link_local(),
            IpAddr::V6(v6) => v6.is_unicast_link_local(),
        };
        if !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || link_local || out.contains(&ip)) {
            out.push(ip);
        }
    }
    out.truncate(MAX_OWN_ADDRESSES);
    out
}

/// Asks questions one by one, records each, and stops asking a resolver that is not
/// answering.
struct Asker<'a> {
    opts: &'a Options,
    resolver: Result<Resolver, String>,
    timeout: Duration,
    timeouts_in_a_row: u32,
    /// Set once every server refused the liveness probe: the reason.
    refused: Option<Option<String>>,
}

/// Send one tiny query (`. NS`) to each server and wait up to `wait` for any reply. Returns
/// `Some(reason)` when every server actively refused (ICMP port unreachable: nothing
/// listens), `None` otherwise (an answer, or silence, which the real queries then time).
pub fn probe_refused(servers: &[std::net::SocketAddr], wait: Duration) -> Option<String> {
    const QUERY: [u8; 17] = [0x4d, 0x53, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1];
    let mut refused = Vec::new();
    for addr in servers {
        let bind: std::net::SocketAddr = if addr.is_ipv4() { "0.0.0.0:0".parse().ok()? } else { "[::]:0".parse().ok()? };
        let Ok(sock) = std::net::UdpSocket::bind(bind) else { return None };
        if sock.connect(addr).is_err() || sock.set_read_timeout(Some(wait)).is_err() || sock.send(&QUERY).is_err() {
            return None;
        }
        let mut buf = [0u8; 512];
        match sock.recv(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => refused.push(addr.to_string()),
            _ => return None,
        }
    }
    (!refused.is_empty()).then(|| format!("no DNS server listens at {} (connection refused)", refused.join(", ")))
}

impl<'a> Asker<'a> {
    fn new(opts: &'a Options, resolver: Result<Resolver, String>) -> Self {
        Asker { opts, resolver, timeout: opts.command_timeout.min(MAX_QUERY_TIMEOUT), timeouts_in_a_row: 0, refused: None }
    }

    fn ask(&mut self, rec: &mut Recorder, qtype: &str, name: &str) -> u32 {
        let source = Source::Dns { qtype: qtype.to_string(), name: name.to_string() };
        let not_run = |message: String| Payload::Failed { failure: Failure::NotRun, message };
        if !self.opts.live() {
            return rec.record(source, || not_run("--root given: DNS is not queried".into()));
        }
        let resolver = match &self.resolver {
            Ok(r) => r,
            Err(e) => return rec.record(source, || Payload::Failed { failure: Failure::Io, message: e.clone() }),
        };
        let refused = self.refused.get_or_insert_with(|| probe_refused(&resolver.servers, Duration::from_millis(500))).clone();
        if let Some(why) = refused {
            return rec.record(source, || Payload::Failed { failure: Failure::Io, message: why });
        }
        if self.timeouts_in_a_row >= GIVE_UP_AFTER_TIMEOUTS {
            let why = format!("not asked: {} did not answer the {GIVE_UP_AFTER_TIMEOUTS} queries before", resolver.via());
            return rec.record(source, || not_run(why));
        }
        let timeout = self.timeout;
        let id = rec.record(source, || query(resolver, qtype, name, timeout));
        match rec.get(id).payload {
            Payload::Failed { failure: Failure::TimedOut, .. } => self.timeouts_in_a_row += 1,
            _ => self.timeouts_in_a_row = 0,
        }
        id
    }

    /// What Postfix's smtp client asks for a destination: MX; then the addresses of the
    /// exchanges, or of the name itself when it has no MX record (NODATA). NXDOMAIN or no
    /// answer ends it there, as it does for Postfix.
    fn route(&mut self, rec: &mut Recorder, name: &str) {
        let id = self.ask(rec, "MX", name);
        let Some(text) = rec.get(id).text() else { return };
        let answer = parse_answer("MX", text);
        let hosts: Vec<String> = match answer.status.as_str() {
            "ok" => answer.targets("MX").into_iter().filter(|h| h != ".").take(MAX_EXCHANGES).collect(),
            "nodata" => vec![name.to_string()],
            _ => Vec::new(),
        };
        for host in hosts {
            self.ask(rec, "A", &host);
            self.ask(rec, "AAAA", &host);
        }
    }
}

/// Ask one question of `resolver`, waiting at most `timeout`, and return the raw answer:
/// `; via ...`, then one `TYPE DATA` line per record, or the rcode (`NXDOMAIN`, `NODATA`,
/// `SERVFAIL`, `REFUSED`, `RCODE NAME`). `qtype` is A, AAAA, MX or PTR; for PTR, `name` is
/// the address.
pub fn query(resolver: &Resolver, qtype: &str, name: &str, timeout: Duration) -> Payload {
    let failed = |failure, message| Payload::Failed { failure, message };
    let rtype = match qtype {
        "A" => Rtype::A,
        "AAAA" => Rtype::AAAA,
        "MX" => Rtype::MX,
        "PTR" => Rtype::PTR,
        _ => return failed(Failure::Io, format!("unsupported query type {qtype}")),
    };
    let qname = if rtype == Rtype::PTR {
        name.parse::<IpAddr>()
            .map_err(|_| format!("{name:?} is not an address"))
            .and_then(|ip| Name::<Vec<u8>>::reverse_from_addr(ip).map_err(|e| e.to_string()))
    } else {
        Name::<Vec<u8>>::from_str(name).map_err(|e| format!("{name:?} is not a domain name: {e}"))
    };
    let qname = match qname {
        Ok(n) => n,
        Err(e) => return failed(Failure::Io, e),
    };
    let mut conf = ResolvConf::new();
    conf.servers = resolver.servers.iter().map(|a| ServerConf::new(*a, Transport::UdpTcp)).collect();
    conf.options.timeout = timeout;
    conf.options.attempts = 1;
    conf.finalize();
    let result = StubResolver::run_with_conf(conf, move |stub| async move { stub.query((qname, rtype)).await });
    let via = resolver.via();
    match result {
        Ok(msg) => Payload::Text { text: render(&msg, rtype, &via), first_line: 1, skipped_bytes: 0, lossy: false, exit: None },
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            failed(Failure::TimedOut, format!("no answer from {via} within {} s", timeout.as_secs_f32()))
        }
        Err(e) => failed(Failure::Io, format!("{via}: {e}")),
    }
}

fn render(msg: &Answer, rtype: Rtype, via: &str) -> String {
    let mut lines = vec![format!("; via {via}")];
    let mut of_qtype = 0;
    if let Ok(section) = msg.answer() {
        for record in section.limit_to::<AllRecordData<_, ParsedName<_>>>().flatten() {
            let line = match record.data() {
                AllRecordData::A(a) => format!("A {}", a.addr()),
                AllRecordData::Aaaa(a) => format!("AAAA {}", a.addr()),
                AllRecordData::Mx(mx) => format!("MX {} {}", mx.preference(), mx.exchange().fmt_with_dot()),
                AllRecordData::Ptr(p) => format!("PTR {}", p.ptrdname().fmt_with_dot()),
                AllRecordData::Cname(c) => format!("CNAME {}", c.cname().fmt_with_dot()),
                _ => continue,
            };
            if record.rtype() == rtype {
                of_qtype += 1;
            }
            lines.push(line);
        }
    }
    let rcode = msg.header().rcode();
    let outcome = match rcode {
        Rcode::NOERROR if of_qtype > 0 => None,
        Rcode::NOERROR => Some("NODATA".to_string()),
        Rcode::NXDOMAIN => Some("NXDOMAIN".to_string()),
        Rcode::SERVFAIL => Some("SERVFAIL".to_string()),
        Rcode::REFUSED => Some("REFUSED".to_string()),
        other => Some(format!("RCODE {other}")),
    };
    lines.extend(outcome);
    lines.push(String::new());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_env_values() {
        assert_eq!(parse_servers("127.0.0.1:5353").unwrap(), vec!["127.0.0.1:5353".parse().unwrap()]);
        assert_eq!(parse_servers("10.0.0.2").unwrap(), vec!["10.0.0.2:53".parse().unwrap()]);
        assert_eq!(parse_servers("[::1]:5353,127.0.0.1").unwrap().len(), 2);
        assert!(parse_servers("localhost").is_err());
        assert!(parse_servers("").is_err());
    }

    #[test]
    fn resolv_conf_servers_as_glibc_uses_them() {
        let r = Resolver::from_resolv_conf("nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver ::1\nnameserver 10.0.0.4\n", RESOLV_CONF);
        assert_eq!(r.via(), "10.0.0.1:53 10.0.0.2:53 [::1]:53 (/etc/resolv.conf)");
        let none = Resolver::from_resolv_conf("search lab.example\n", RESOLV_CONF);
        assert_eq!(none.servers, vec!["127.0.0.1:53".parse().unwrap()]);
        assert!(none.origin.contains("no nameserver"));
    }

    #[test]
    fn under_root_nothing_is_asked() {
        let opts = Options { root: "/nonexistent-sysroot".into(), ..Options::default() };
        let cfg = Config::default();
        let mut rec = Recorder::new();
        // A resolver that would fail loudly if it were ever asked.
        collect_with(&opts, &cfg, &Resolver::server("192.0.2.1:9".parse().unwrap()), &mut rec);
        let dns: Vec<&crate::bundle::Observation> = rec.observations.iter().filter(|o| matches!(o.source, Source::Dns { .. })).collect();
        assert!(!dns.is_empty());
        assert!(dns.iter().all(|o| matches!(o.payload, Payload::Failed { failure: Failure::NotRun, .. }) && o.elapsed_ms < 100));
    }
}

#[cfg(test)]
mod probe_tests {
    use super::*;

    #[test]
    fn a_port_where_nothing_listens_is_refused_at_once_and_silence_is_not() {
        // A free UDP port: bind, learn it, close it.
        let free = std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("bind");
        let start = std::time::Instant::now();
        let r = probe_refused(&[free], Duration::from_millis(500));
        assert!(r.as_deref().is_some_and(|m| m.contains("connection refused")), "{r:?}");
        assert!(start.elapsed() < Duration::from_millis(400), "refusal must not wait for the timeout");
        // A socket that is open but never answers: not "refused" (the real queries time it).
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = silent.local_addr().expect("addr");
        assert_eq!(probe_refused(&[addr], Duration::from_millis(200)), None);
    }
}
