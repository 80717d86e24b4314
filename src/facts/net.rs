//! Network facts: listening TCP sockets (`/proc/net/tcp`, `/proc/net/tcp6`) with the
//! process that owns each, the host's interfaces and addresses, and what the local SMTP
//! listeners answer.
//!
//! `/proc/net/tcp` prints addresses in the kernel's byte order: an IPv4 address is one
//! 32-bit word written in the host's order — little-endian on x86 and arm64, which is what
//! is assumed here (a bundle may be parsed on another machine): `0100007F` is 127.0.0.1 —
//! and an IPv6 address four such words (`00000000000000000000000001000000` is ::1).
//! Ports are plain hex numbers (`0019` is 25). State `0A` is LISTEN.
//!
//! Pure: reads the observations made by `observe::net`.

use crate::bundle::specs::{BANNER_PREFIX, BANNER_PROBE, INTERFACES, SOCKET_OWNERS, TCP, TCP6};
use crate::bundle::{Bundle, Observation, Payload, Source};
use crate::model::{Fact, FactSet};
use crate::model::{FieldType, KindSpec};
use crate::parse::proc::{listening, parse_socket_owners};
use std::collections::HashSet;
use std::net::IpAddr;

/// Fact kinds this parser produces.
pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "listening",
        producer: "parser: /proc/net/tcp, /proc/net/tcp6 (+ /proc/<pid>/fd for the owner, live host only)",
        doc: "a TCP socket listening for connections",
        fields: &[
            ("proto", FieldType::String, "tcp (IPv4) or tcp6 (IPv6)"),
            ("addr", FieldType::String, "local address: 127.0.0.1, ::1, 0.0.0.0 and :: mean every address"),
            ("port", FieldType::Integer, "local port"),
            ("scope", FieldType::String, "any (0.0.0.0 or ::), loopback (127.0.0.0/8, ::1) or address (one address)"),
            ("uid", FieldType::Integer, "uid that owns the socket"),
            ("inode", FieldType::Integer, "socket inode (links the socket to its process)"),
            ("process", FieldType::String, "name (comm) of the process holding the socket, e.g. master, dovecot (absent when unknown)"),
            ("pid", FieldType::Integer, "pid of that process (absent when unknown)"),
        ],
    },
    KindSpec {
        name: "interface",
        producer: "parser: getifaddrs(3) (live host only)",
        doc: "an address configured on a network interface",
        fields: &[
            ("name", FieldType::String, "interface name, e.g. lo, eth0"),
            ("addr", FieldType::String, "the address"),
            ("family", FieldType::String, "inet or inet6"),
            ("prefix", FieldType::Integer, "prefix length of the netmask (absent when unknown)"),
            ("loopback", FieldType::Bool, "a loopback interface"),
            ("up", FieldType::Bool, "the interface is administratively up"),
        ],
    },
    KindSpec {
        name: "smtp_banner",
        producer: "parser: a 2-second probe of local listeners on ports 25, 587 and 465 (live host only)",
        doc: "what a local SMTP listener answered when connected to: its greeting, or why there was none",
        fields: &[
            ("addr", FieldType::String, "address connected to (127.0.0.1 / ::1 for a listener on every address)"),
            ("port", FieldType::Integer, "25, 587 or 465"),
            (
                "status",
                FieldType::String,
                "ok (a greeting was read), connected (465: implicit TLS, no greeting read), refused, timeout, closed, error",
            ),
            ("banner", FieldType::String, "the greeting's first line, e.g. 220 mx1.example.org ESMTP Postfix (Debian/GNU)"),
            ("code", FieldType::Integer, "the greeting's reply code: 220 ready, 421/554 refusing service"),
            ("error", FieldType::String, "why there was no greeting"),
        ],
    },
];

fn scope(a: &IpAddr) -> &'static str {
    if a.is_unspecified() {
        "any"
    } else if a.is_loopback() || matches!(a, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())) {
        "loopback"
    } else {
        "address"
    }
}

fn proc_obs<'a>(bundle: &'a Bundle, name: &str) -> Option<&'a Observation> {
    bundle.observations.iter().find(|o| matches!(&o.source, Source::Proc { what } if what == name))
}

fn listening_facts(bundle: &Bundle, out: &mut FactSet) {
    let owners = proc_obs(bundle, SOCKET_OWNERS).and_then(|o| o.text()).map(parse_socket_owners).unwrap_or_default();
    let mut read_any = false;
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for (name, proto) in [(TCP, "tcp"), (TCP6, "tcp6")] {
        let Some(o) = proc_obs(bundle, name) else { continue };
        let text = match &o.payload {
            Payload::Text { text, .. } => text,
            // No tcp6 file: IPv6 is off.
            Payload::Absent if proto == "tcp6" => continue,
            // Under --root only a copy captured into the tree could be read; there was none.
            Payload::Absent if !bundle.live => {
                problems.push("not run: --root given".to_string());
                continue;
            }
            _ => {
                problems.push(format!("{name}: {}", o.problem().unwrap_or_default()));
                continue;
            }
        };
        read_any = true;
        for s in listening(text) {
            let addr = s.addr.to_string();
            // SO_REUSEPORT listeners (several workers on one port) are one listener here.
            if !seen.insert((proto, addr.clone(), s.port)) {
                continue;
            }
            let shown = if proto == "tcp6" { format!("[{addr}]:{}", s.port) } else { format!("{addr}:{}", s.port) };
            let mut f = Fact::new("listening")
                .with("proto", proto)
                .with("addr", addr.as_str())
                .with("port", u32::from(s.port))
                .with("scope", scope(&s.addr))
                .with("uid", s.uid)
                .with("inode", s.inode)
                .from_observation(o.id);
            let mut said = format!("{shown} LISTEN, uid {}, inode {}", s.uid, s.inode);
            if let Some((pid, comm)) = owners.get(&s.inode) {
                f.set("process", comm.as_str());
                f.set("pid", *pid);
                said.push_str(&format!(", held by {comm}[{pid}]"));
            }
            out.push(f.evidence(o.source.label(), said).evidence(o.source.label(), s.line.clone()));
        }
    }
    if !read_any {
        let why = if problems.is_empty() { "not collected".to_string() } else { problems.join("; ") };
        out.unavailable("listening", "listening sockets (/proc/net/tcp)", why);
    }
}

fn interface_facts(bundle: &Bundle, out: &mut FactSet) {
    let Some(o) = proc_obs(bundle, INTERFACES) else {
        out.unavailable("interface", INTERFACES, "not collected");
        return;
    };
    let Some(text) = o.text() else {
        out.unavailable("interface", o.source.label(), o.problem().unwrap_or_default());
        return;
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        // name \t family \t address \t prefix \t flags
        let c: Vec<&str> = line.split('\t').collect();
        let [name, family, addr, prefix, flags] = c[..] else { continue };
        if (family != "inet" && family != "inet6") || addr.parse::<IpAddr>().is_err() {
            continue;
        }
        let flags: Vec<&str> = flags.split(',').collect();
        let mut f = Fact::new("interface")
            .with("name", name)
            .with("addr", addr)
            .with("family", family)
            .with("loopback", flags.contains(&"loopback"))
            .with("up", flags.contains(&"up"))
            .evidence(o.source.label(), format!("{name}: {family} {addr}/{prefix} <{}>", flags.join(",")))
            .from_observation(o.id);
        if let Ok(p) = prefix.parse::<u32>() {
            f.set("prefix", p);
        }
        out.push(f);
    }
}

/// `smtp banner 127.0.0.1:25`, `smtp banner [::1]:587` → (address, port).
fn banner_target(what: &str) -> Option<(String, u16)> {
    let target: std::net::SocketAddr = what.strip_prefix(BANNER_PREFIX)?.parse().ok()?;
    Some((target.ip().to_string(), target.port()))
}

fn banner_facts(bundle: &Bundle, out: &mut FactSet) {
    for o in &bundle.observations {
        let Source::Proc { what } = &o.source else { continue };
        if what == BANNER_PROBE {
            if let Some(p) = o.problem() {
                out.unavailable("smtp_banner", what.as_str(), p);
            }
            continue;
        }
        let Some((addr, port)) = banner_target(what) else { continue };
        let mut f = Fact::new("smtp_banner").with("addr", addr.as_str()).with("port", u32::from(port)).from_observation(o.id);
        let said = match &o.payload {
            Payload::Text { text, .. } if port == 465 && text.is_empty() => {
                f.set("status", "connected");
                "connected (implicit TLS: no greeting read)".to_string()
            }
            Payload::Text { text, .. } => {
                let line = text.lines().next().unwrap_or("").trim_end();
                if line.is_empty() {
                    f.set("status", "closed");
                    f.set("error", "connection closed without a greeting");
                    "connection closed without a greeting".to_string()
                } else {
                    f.set("status", "ok");
                    f.set("banner", line);
                    if let Some(code) = line.get(..3).and_then(|c| c.parse::<u32>().ok()) {
                        f.set("code", code);
                    }
                    line.to_string()
                }
            }
            Payload::Failed { failure, message } => {
                let status = match failure {
                    crate::bundle::Failure::TimedOut => "timeout",
                    _ if message.contains("refused") => "refused",
                    _ if message.contains("closed") => "closed",
                    _ => "error",
                };
                f.set("status", status);
                f.set("error", message.as_str());
                message.clone()
            }
            _ => continue,
        };
        out.push(f.evidence(o.source.label(), said));
    }
}

pub fn facts(bundle: &Bundle, out: &mut FactSet) {
    listening_facts(bundle, out);
    interface_facts(bundle, out);
    banner_facts(bundle, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Failure;
    use crate::parse::proc::{endpoint, parse_proc_net_tcp};

    // Captured in the lab (see tests/fixtures/captured/outputs/README.md); ss-ltnp.txt, taken
    // at the same moment, shows master (Postfix) on 127.0.0.1:25 and [::1]:25, and dovecot
    // on 110, 143, 993 and 995 for both, and dnsmasq on 127.0.0.1:53.
    const TCP_TXT: &str = include_str!("../../tests/fixtures/captured/outputs/proc-net-tcp.txt");
    const TCP6_TXT: &str = include_str!("../../tests/fixtures/captured/outputs/proc-net-tcp6.txt");
    const SS: &str = include_str!("../../tests/fixtures/captured/outputs/ss-ltnp.txt");

    fn text(t: &str) -> Payload {
        Payload::text(t.to_string())
    }
    fn bundle(obs: Vec<(&str, Payload)>) -> Bundle {
        Bundle {
            format: String::new(),
            version: 1,
            mailsleuth: String::new(),
            host: "mx1".into(),
            root: "/".into(),
            live: true,
            created_at: 0,
            log_only: false,
            observations: obs
                .into_iter()
                .enumerate()
                .map(|(i, (what, payload))| Observation {
                    id: i as u32,
                    source: Source::Proc { what: what.into() },
                    at: 0,
                    elapsed_ms: 0,
                    payload,
                })
                .collect(),
        }
    }
    fn facts_of(b: &Bundle) -> FactSet {
        let mut out = FactSet::new();
        facts(b, &mut out);
        out
    }

    #[test]
    fn hex_addresses_in_kernel_byte_order() {
        assert_eq!(endpoint("0100007F:0019"), Some(("127.0.0.1".parse().unwrap(), 25)));
        assert_eq!(endpoint("00000000:03E1"), Some(("0.0.0.0".parse().unwrap(), 993)));
        assert_eq!(endpoint("00000000000000000000000001000000:024B"), Some(("::1".parse().unwrap(), 587)));
        assert_eq!(endpoint("0000000000000000FFFF00000100007F:0019"), Some(("::ffff:127.0.0.1".parse().unwrap(), 25)));
        // 2001:db8::25 as the kernel prints it.
        assert_eq!(endpoint("B80D0120000000000000000025000000:01D1"), Some(("2001:db8::25".parse().unwrap(), 465)));
        for junk in
            ["", ":", "0100007F", "0100007F:", "ZZ00007F:0019", "0100007F:1FFFF", "0000000000000000000000000100000:0019", "é0000000:0019"]
        {
            assert_eq!(endpoint(junk), None, "{junk}");
        }
    }

    /// The listeners ss saw, as (address, port, process): our reading must agree.
    fn ss_listeners() -> Vec<(String, u32, String)> {
        let mut v: Vec<_> = SS
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let (addr, port) = f.get(3)?.rsplit_once(':')?;
                let process = f.get(5)?.split('"').nth(1)?;
                Some((addr.trim_matches(['[', ']']).to_string(), port.parse().ok()?, process.to_string()))
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_lab_capture_shows_postfix_on_loopback_25_and_dovecot_ports() {
        let owners = "# inode\tpid\tcomm\n22738\t279\tmaster\n22739\t279\tmaster\n22891\t293\tdovecot\n22907\t293\tdovecot\n22889\t293\tdovecot\n22905\t293\tdovecot\n22890\t293\tdovecot\n22906\t293\tdovecot\n22908\t293\tdovecot\n22892\t293\tdovecot\n22580\t62\tdnsmasq\n";
        let fs = facts_of(&bundle(vec![(TCP, text(TCP_TXT)), (TCP6, text(TCP6_TXT)), (SOCKET_OWNERS, text(owners))]));
        let mut seen: Vec<(String, u32, String)> = fs
            .of_kind("listening")
            .map(|f| {
                (
                    f.get("addr").map(|v| v.to_string()).unwrap_or_default(),
                    f.get("port").and_then(|v| v.as_i64()).unwrap_or(0) as u32,
                    f.get("process").map(|v| v.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        seen.sort();
        assert_eq!(seen, ss_listeners());
        let smtp = fs.of_kind("listening").find(|f| f.get("port") == Some(&25u32.into()) && f.get("proto") == Some(&"tcp".into()));
        assert_eq!(
            smtp.map(|f| f.summary()).as_deref(),
            Some("listening { addr: \"127.0.0.1\", inode: 22738, pid: 279, port: 25, process: \"master\", proto: \"tcp\", scope: \"loopback\", uid: 0 }")
        );
        let imaps6 = fs.of_kind("listening").find(|f| f.get("port") == Some(&993u32.into()) && f.get("proto") == Some(&"tcp6".into()));
        assert_eq!(imaps6.and_then(|f| f.get("addr")), Some(&"::1".into()));
        assert!(fs.unavailable_for("listening").is_empty());
    }

    #[test]
    fn without_owners_the_process_is_absent_and_without_tcp_the_kind_is_unavailable() {
        let fs = facts_of(&bundle(vec![
            (TCP, text(TCP_TXT)),
            (TCP6, Payload::Absent),
            (SOCKET_OWNERS, Payload::Failed { failure: Failure::NotRun, message: "--root given".into() }),
        ]));
        assert_eq!(fs.of_kind("listening").count(), 6);
        assert!(fs.of_kind("listening").all(|f| f.get("process").is_none()));
        assert!(fs.unavailable.iter().all(|u| u.kind != "listening"));

        let fs = facts_of(&bundle(vec![(TCP, Payload::Absent), (TCP6, Payload::Absent)]));
        assert_eq!(fs.unavailable_for("listening")[0].why, "/proc/net/tcp: does not exist");
        let mut under_root = bundle(vec![(TCP, Payload::Absent), (TCP6, Payload::Absent)]);
        under_root.live = false;
        assert_eq!(facts_of(&under_root).unavailable_for("listening")[0].why, "not run: --root given");
    }

    #[test]
    fn interfaces_and_banners() {
        let ifs = "# name\tfamily\taddress\tprefix\tflags\nlo\tinet\t127.0.0.1\t8\tup,loopback,running\nlo\tinet6\t::1\t128\tup,loopback,running\neth0\tinet\t192.0.2.2\t24\tup,running\neth0\tlink\t\t\tup,running\n";
        let b = bundle(vec![
            (INTERFACES, text(ifs)),
            ("smtp banner 127.0.0.1:25", text("220 mx1.lab.example ESMTP Postfix (Debian/GNU)\r\n")),
            ("smtp banner [::1]:587", Payload::Failed { failure: Failure::TimedOut, message: "no greeting within 2 s".into() }),
            ("smtp banner 127.0.0.1:465", text("")),
            ("smtp banner 192.0.2.2:25", Payload::Failed { failure: Failure::Io, message: "connection refused".into() }),
        ]);
        let fs = facts_of(&b);
        let rows: Vec<String> = fs.of_kind("interface").map(|f| f.summary()).collect();
        assert_eq!(
            rows,
            [
                "interface { addr: \"127.0.0.1\", family: \"inet\", loopback: true, name: \"lo\", prefix: 8, up: true }",
                "interface { addr: \"::1\", family: \"inet6\", loopback: true, name: \"lo\", prefix: 128, up: true }",
                "interface { addr: \"192.0.2.2\", family: \"inet\", loopback: false, name: \"eth0\", prefix: 24, up: true }",
            ]
        );
        let rows: Vec<String> = fs.of_kind("smtp_banner").map(|f| f.summary()).collect();
        assert_eq!(
            rows,
            [
                "smtp_banner { addr: \"127.0.0.1\", banner: \"220 mx1.lab.example ESMTP Postfix (Debian/GNU)\", code: 220, port: 25, status: \"ok\" }",
                "smtp_banner { addr: \"::1\", error: \"no greeting within 2 s\", port: 587, status: \"timeout\" }",
                "smtp_banner { addr: \"127.0.0.1\", port: 465, status: \"connected\" }",
                "smtp_banner { addr: \"192.0.2.2\", error: \"connection refused\", port: 25, status: \"refused\" }",
            ]
        );
    }

    #[test]
    fn garbage_never_panics() {
        for t in [
            "",
            "sl",
            "  0: x y z",
            "  0: 0100007F:0019 00000000:0000 0A a b c d e f",
            "\u{0}\u{1}",
            "  0: 0100007F:0019 00000000:0000 ZZ 0 0 0 0 0 0",
        ] {
            let _ = parse_proc_net_tcp(t);
            let _ = parse_socket_owners(t);
            let b = bundle(vec![(TCP, text(t)), (INTERFACES, text(t)), (SOCKET_OWNERS, text(t))]);
            let _ = facts_of(&b);
        }
        assert_eq!(banner_target("smtp banner [::1"), None);
        assert_eq!(banner_target("smtp banner x:y"), None);
    }
}
