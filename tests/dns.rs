//! The DNS collector against a real DNS server: Debian's dnsmasq on loopback, serving a
//! small `lab.example` zone written here, with no upstream (so a name outside the zone's
//! records really gets NXDOMAIN). Each test starts its own dnsmasq on a free port and kills
//! it when done; queries reach it through an explicit [`Resolver`] (or, for the binary,
//! `MAILSLEUTH_RESOLVER`), never through the machine's /etc/resolv.conf.
//!
//! dnsmasq is required, not optional: without it these tests fail and say how to install it.

use mailsleuth::bundle::{Bundle, Failure, Payload, Source};
use mailsleuth::model::{Fact, FactSet, Value};
use mailsleuth::observe::dns::{collect_destinations_with, collect_with, query, Resolver, MAX_QUERY_TIMEOUT, RESOLVER_ENV};
use mailsleuth::observe::{Options, Recorder};
use mailsleuth::parse::dns::parse_answer;
use mailsleuth::parse::postconf::{parse_main_cf, Config};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DNSMASQ: &str = "/usr/sbin/dnsmasq";

/// The lab zone, as dnsmasq options: two MX hosts for lab.example, a smarthost, a PTR of
/// its own, and `--local` so that every other name under lab.example is NXDOMAIN.
const ZONE: &[&str] = &[
    "--local=/lab.example/",
    "--mx-host=lab.example,mx1.lab.example,10",
    "--mx-host=lab.example,mx2.lab.example,20",
    "--host-record=mx1.lab.example,192.0.2.25",
    "--host-record=mx2.lab.example,192.0.2.26,2001:db8::26",
    "--host-record=relay.lab.example,192.0.2.30",
    "--ptr-record=99.2.0.192.in-addr.arpa,gone.lab.example",
];

/// A dnsmasq child, killed (by its own pid) when dropped.
struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
}

impl Dnsmasq {
    fn start() -> Dnsmasq {
        assert!(
            Path::new(DNSMASQ).exists(),
            "{DNSMASQ} not found: these tests need a real DNS server. Install it with \
             `apt-get install -y dnsmasq-base` (Debian/Ubuntu; CI installs it)"
        );
        // A port another test may grab between our probe and dnsmasq's bind: retry.
        for _ in 0..5 {
            let port = free_port();
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
            let mut args = vec![
                "--keep-in-foreground".to_string(),
                "--conf-file=/dev/null".to_string(),
                "--no-resolv".to_string(),
                "--no-hosts".to_string(),
                "--pid-file=".to_string(),
                "--listen-address=127.0.0.1".to_string(),
                "--bind-interfaces".to_string(),
                format!("--port={port}"),
            ];
            args.extend(ZONE.iter().map(|s| s.to_string()));
            let child = Command::new(DNSMASQ)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {DNSMASQ}: {e}"));
            let mut d = Dnsmasq { child, addr };
            if d.ready() {
                return d;
            }
        }
        panic!("dnsmasq did not start answering on 127.0.0.1 (5 ports tried)");
    }

    /// Wait until dnsmasq answers, or has exited (port taken).
    fn ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let p = query(&self.resolver(), "MX", "lab.example", Duration::from_millis(200));
            if matches!(p, Payload::Text { .. }) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    fn resolver(&self) -> Resolver {
        Resolver::server(self.addr)
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("bind a UDP port").port()
}

fn text(p: &Payload) -> &str {
    match p {
        Payload::Text { text, .. } => text,
        other => panic!("expected an answer, got {other:?}"),
    }
}

/// The record lines of an answer, without the `; via` line.
fn records(p: &Payload) -> Vec<&str> {
    text(p).lines().filter(|l| !l.starts_with(';') && !l.is_empty()).collect()
}

const T: Duration = Duration::from_secs(2);

#[test]
fn the_zone_mx_comes_back_in_preference_order_with_its_resolver() {
    let dns = Dnsmasq::start();
    let p = query(&dns.resolver(), "MX", "lab.example", T);
    let mut got = records(&p);
    got.sort();
    assert_eq!(got, vec!["MX 10 mx1.lab.example.", "MX 20 mx2.lab.example."]);
    assert!(text(&p).starts_with(&format!("; via {} (given)", dns.addr)), "{p:?}");
    let a = parse_answer("MX", text(&p));
    assert_eq!((a.status.as_str(), a.targets("MX")), ("ok", vec!["mx1.lab.example".to_string(), "mx2.lab.example".to_string()]));
}

#[test]
fn a_host_has_its_address_and_a_missing_name_is_nxdomain() {
    let dns = Dnsmasq::start();
    let r = dns.resolver();
    assert_eq!(records(&query(&r, "A", "mx1.lab.example", T)), vec!["A 192.0.2.25"]);
    assert_eq!(records(&query(&r, "AAAA", "mx2.lab.example.", T)), vec!["AAAA 2001:db8::26"]);
    assert_eq!(records(&query(&r, "A", "nx.lab.example", T)), vec!["NXDOMAIN"]);
    // mx1 exists but has no IPv6 address: NODATA, not NXDOMAIN (Postfix treats them apart).
    assert_eq!(records(&query(&r, "AAAA", "mx1.lab.example", T)), vec!["NODATA"]);
}

#[test]
fn ptr_of_a_host_record_and_of_an_explicit_ptr_record() {
    let dns = Dnsmasq::start();
    let r = dns.resolver();
    assert_eq!(records(&query(&r, "PTR", "192.0.2.25", T)), vec!["PTR mx1.lab.example."]);
    assert_eq!(records(&query(&r, "PTR", "192.0.2.99", T)), vec!["PTR gone.lab.example."]);
}

#[test]
fn a_server_that_never_answers_times_out_within_the_cap() {
    // Bound but never read: the query is sent and nothing comes back (no ICMP refusal).
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let r = Resolver::server(silent.local_addr().expect("addr"));
    let start = Instant::now();
    let p = query(&r, "MX", "lab.example", MAX_QUERY_TIMEOUT);
    let took = start.elapsed();
    assert!(matches!(&p, Payload::Failed { failure: Failure::TimedOut, message } if message.contains("within 3 s")), "{p:?}");
    assert!(took >= Duration::from_millis(2900) && took < Duration::from_secs(4), "took {took:?}");
}

#[test]
fn a_dead_resolver_is_given_up_after_three_timeouts() {
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let r = Resolver::server(silent.local_addr().expect("addr"));
    let opts = Options { command_timeout: Duration::from_millis(300), ..Options::default() };
    let names: Vec<String> = ["a.lab.example", "b.lab.example", "c.lab.example", "d.lab.example"].map(String::from).to_vec();
    let mut rec = Recorder::new();
    let start = Instant::now();
    collect_destinations_with(&opts, &r, &names, &mut rec);
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
    let failures: Vec<Failure> = rec
        .observations
        .iter()
        .map(|o| match &o.payload {
            Payload::Failed { failure, .. } => failure.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(failures, vec![Failure::TimedOut, Failure::TimedOut, Failure::TimedOut, Failure::NotRun]);
}

fn config(main_cf: &str) -> Config {
    Config { explicit: parse_main_cf(main_cf).into_iter().map(|s| (s.name.clone(), s)).collect(), ..Config::default() }
}

/// Collect on this (live) host with the lab resolver, then parse as `diagnose` would.
fn collect_and_parse(dns: &Dnsmasq, main_cf: &str) -> (Vec<(String, String)>, FactSet) {
    let opts = Options { command_timeout: T, ..Options::default() };
    let mut rec = Recorder::new();
    collect_with(&opts, &config(main_cf), &dns.resolver(), &mut rec);
    let mut obs = rec.observations;
    // The configuration the parser reads, as `postconf -n` would have recorded it.
    let id = obs.len() as u32;
    obs.push(mailsleuth::bundle::Observation {
        id,
        source: Source::File { path: "/etc/postfix/main.cf".into() },
        at: 0,
        elapsed_ms: 0,
        payload: Payload::Text { text: main_cf.into(), first_line: 1, skipped_bytes: 0, lossy: false, exit: None },
    });
    let asked = obs
        .iter()
        .filter_map(|o| match &o.source {
            Source::Dns { qtype, name } => Some((qtype.clone(), name.clone())),
            _ => None,
        })
        .collect();
    let bundle = Bundle {
        format: "mailsleuth-bundle".into(),
        version: 1,
        mailsleuth: "test".into(),
        host: "mx1.lab.example".into(),
        root: "/".into(),
        live: true,
        created_at: 0,
        log_only: false,
        observations: obs,
    };
    let mut facts = FactSet::new();
    let cfg = mailsleuth::facts::config_from(&bundle.observations);
    mailsleuth::facts::dns::facts(&bundle, cfg.as_ref(), &mut facts);
    (asked, facts)
}

fn answer<'a>(facts: &'a FactSet, purpose: &str, qtype: &str, name: &str) -> &'a Fact {
    let s = |f: &'a Fact, k: &str| f.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    facts
        .of_kind("dns_answer")
        .find(|f| s(f, "purpose") == purpose && s(f, "qtype") == qtype && s(f, "name") == name)
        .unwrap_or_else(|| panic!("no dns_answer {purpose} {qtype} {name}"))
}

fn status(f: &Fact) -> &str {
    f.get("status").and_then(Value::as_str).unwrap_or_default()
}

#[test]
fn given_a_relayhost_without_brackets_postfix_route_is_followed_mx_then_addresses() {
    let dns = Dnsmasq::start();
    let (asked, facts) = collect_and_parse(&dns, "myhostname = mx1.lab.example\nrelayhost = lab.example:25\n");
    let asked: Vec<String> = asked.iter().filter(|(t, _)| t != "PTR").map(|(t, n)| format!("{t} {n}")).collect();
    // mx1's A and AAAA were asked for myhostname already: one observation per question.
    assert_eq!(asked, vec!["A mx1.lab.example", "AAAA mx1.lab.example", "MX lab.example", "A mx2.lab.example", "AAAA mx2.lab.example"]);
    let me = answer(&facts, "myhostname", "A", "mx1.lab.example");
    assert_eq!((status(me), me.evidence[0].text.as_str()), ("ok", "192.0.2.25"));
    let mx = answer(&facts, "relayhost", "MX", "lab.example");
    assert_eq!(mx.evidence[0].source, "dns MX lab.example");
    assert_eq!(mx.evidence[0].text, "10 mx1.lab.example., 20 mx2.lab.example.");
    assert_eq!(status(answer(&facts, "mydomain", "MX", "lab.example")), "ok");
    assert_eq!(status(answer(&facts, "relayhost", "AAAA", "mx2.lab.example")), "ok");
    assert_eq!(status(answer(&facts, "relayhost", "AAAA", "mx1.lab.example")), "nodata");
}

#[test]
fn given_a_bracketed_relayhost_that_does_not_exist_the_admin_sees_nxdomain() {
    let dns = Dnsmasq::start();
    let (asked, facts) = collect_and_parse(&dns, "myhostname = mx1.lab.example\nrelayhost = [smarthost.lab.example]:587\n");
    // Brackets: no MX lookup of the relay.
    assert!(!asked.contains(&("MX".to_string(), "smarthost.lab.example".to_string())), "{asked:?}");
    let relay = answer(&facts, "relayhost", "A", "smarthost.lab.example");
    assert_eq!(status(relay), "nxdomain");
    assert_eq!(relay.evidence[0].text, "NXDOMAIN (no such name)");
    assert!(relay.get("resolver").and_then(Value::as_str).is_some_and(|r| r.contains(&dns.addr.to_string())));
    // The host's own addresses were asked for too (whatever the lab server says of them).
    assert!(facts
        .of_kind("dns_answer")
        .filter(|f| f.get("purpose").and_then(Value::as_str) == Some("ptr"))
        .all(|f| status(f) != "timeout"));
}

#[test]
fn the_binary_honours_mailsleuth_resolver() {
    let dns = Dnsmasq::start();
    let out = std::env::temp_dir().join(format!("mailsleuth-dns-bundle-{}.json", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_mailsleuth"))
        .args(["collect", "--timeout", "2", "-o"])
        .arg(&out)
        .env(RESOLVER_ENV, dns.addr.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("run mailsleuth collect");
    assert!(run.status.success(), "mailsleuth collect failed: {}: {}", run.status, String::from_utf8_lossy(&run.stderr));
    let bundle: Bundle = serde_json::from_slice(&std::fs::read(&out).expect("read bundle")).expect("parse bundle");
    let _ = std::fs::remove_file(&out);
    let answers: Vec<_> = bundle.observations.iter().filter(|o| matches!(o.source, Source::Dns { .. })).collect();
    assert!(!answers.is_empty(), "no DNS observation in a live bundle");
    let via = format!("; via {} ({RESOLVER_ENV})", dns.addr);
    for o in answers {
        assert!(o.text().is_some_and(|t| t.starts_with(&via)), "{} was not asked of the lab server: {:?}", o.source.label(), o.payload);
    }
}
