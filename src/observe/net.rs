//! Network collector: listening sockets (`/proc/net/tcp`, `/proc/net/tcp6`), the process
//! owning each (socket inodes under `/proc/<pid>/fd`), the interfaces and their addresses
//! (getifaddrs(3)), and the greeting of each local SMTP listener.
//!
//! Under `--root DIR` the running host is not the one inspected: `DIR/proc/net/tcp` is read
//! if a captured copy is there, and nothing else is looked at (no /proc of this machine,
//! no sockets). The SMTP probe is the one thing here that talks to a daemon: ports 25, 587
//! and 465 on local listening addresses only, 2 s to connect, 2 s for the first line, then
//! `QUIT` (465 speaks TLS first: only the connection is tried). It leaves a
//! connect/disconnect pair in the mail log; nothing else.

use super::{fs, Options, Recorder};
use crate::bundle::specs::{BANNER_PREFIX, BANNER_PROBE, INTERFACES, SOCKET_OWNERS, TCP, TCP6};

use crate::bundle::{Failure, Payload, Source};
use crate::parse::postconf::Config;
use crate::parse::proc::TcpSocket;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

pub const PROBE_PORTS: &[u16] = &[25, 587, 465];

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest greeting line read.
const BANNER_CAP: usize = 512;
const MAX_PROBES: usize = 8;
/// `/proc/net/tcp` of a busy server lists every connection; the listeners come first.
const TCP_CAP: u64 = 8 << 20;

pub fn collect(opts: &Options, _cfg: &Config, rec: &mut Recorder) {
    let mut listeners: Vec<TcpSocket> = Vec::new();
    for name in [TCP, TCP6] {
        let real = opts.host_path_following(name);
        let id = rec.record(Source::Proc { what: name.to_string() }, || read_head(&real, TCP_CAP));
        if let Some(text) = rec.get(id).text() {
            listeners.extend(crate::parse::proc::listening(text));
        }
    }
    if !opts.live() {
        for what in [SOCKET_OWNERS, INTERFACES, BANNER_PROBE] {
            rec.record(Source::Proc { what: what.to_string() }, || Payload::Failed {
                failure: Failure::NotRun,
                message: "--root given".into(),
            });
        }
        return;
    }
    let inodes: HashSet<u64> = listeners.iter().map(|s| s.inode).filter(|&i| i != 0).collect();
    rec.record(Source::Proc { what: SOCKET_OWNERS.to_string() }, || socket_owners(&inodes));
    rec.record(Source::Proc { what: INTERFACES.to_string() }, interfaces);
    probe_banners(&listeners, rec);
}

/// The first `cap` bytes of a file, cut at the last complete line. (`fs::read_tail` keeps
/// the end; here the start matters, and /proc files have no size to seek by.)
fn read_head(path: &Path, cap: u64) -> Payload {
    let mut bytes = Vec::new();
    match fs::open_regular(path).and_then(|f| f.take(cap).read_to_end(&mut bytes)) {
        Ok(_) => {}
        Err(e) => return fs::io_failure(&e),
    }
    if bytes.len() as u64 >= cap {
        if let Some(nl) = bytes.iter().rposition(|&b| b == b'\n') {
            bytes.truncate(nl + 1);
        }
    }
    let (text, lossy) = match String::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    Payload::Text { text, first_line: 1, skipped_bytes: 0, lossy, exit: None }
}

/// `inode \t pid \t comm` for every wanted socket inode found among the processes' open
/// files. Other users' processes cannot be looked into without root: counted, not fatal.
fn socket_owners(inodes: &HashSet<u64>) -> Payload {
    let dir = match std::fs::read_dir("/proc") {
        Ok(d) => d,
        Err(e) => return fs::io_failure(&e),
    };
    let mut text = String::from("# inode\tpid\tcomm\n");
    let (mut procs, mut denied) = (0, 0);
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        procs += 1;
        let fds = match std::fs::read_dir(entry.path().join("fd")) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                denied += 1;
                continue;
            }
            Err(_) => continue,
        };
        let mut comm: Option<String> = None;
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else { continue };
            let target = target.to_string_lossy();
            let Some(inode) = target.strip_prefix("socket:[").and_then(|t| t.strip_suffix(']')).and_then(|i| i.parse::<u64>().ok()) else {
                continue;
            };
            if !inodes.contains(&inode) {
                continue;
            }
            let c = comm.get_or_insert_with(|| {
                std::fs::read_to_string(entry.path().join("comm")).map(|c| c.trim_end().replace(['\t', '\n'], " ")).unwrap_or_default()
            });
            text.push_str(&format!("{inode}\t{pid}\t{c}\n"));
        }
    }
    if denied > 0 {
        text.push_str(&format!("# {denied} of {procs} processes could not be looked into (permission denied)\n"));
    }
    Payload::Text { text, first_line: 1, skipped_bytes: 0, lossy: false, exit: None }
}

fn prefix_len(mask: Option<IpAddr>) -> String {
    match mask {
        Some(IpAddr::V4(m)) => u32::from(m).count_ones().to_string(),
        Some(IpAddr::V6(m)) => u128::from(m).count_ones().to_string(),
        None => String::new(),
    }
}

/// `name \t family \t address \t prefix \t flags` per address (family `link` for an
/// interface's hardware entry, without an address).
fn interfaces() -> Payload {
    use nix::net::if_::InterfaceFlags;
    let addrs = match nix::ifaddrs::getifaddrs() {
        Ok(a) => a,
        Err(e) => return Payload::Failed { failure: Failure::Io, message: format!("getifaddrs: {e}") },
    };
    let mut text = String::from("# name\tfamily\taddress\tprefix\tflags\n");
    for ifa in addrs {
        let ip = |s: &nix::sys::socket::SockaddrStorage| -> Option<IpAddr> {
            s.as_sockaddr_in().map(|a| IpAddr::V4(a.ip())).or_else(|| s.as_sockaddr_in6().map(|a| IpAddr::V6(a.ip())))
        };
        let addr = ifa.address.as_ref().and_then(ip);
        let family = match (&addr, ifa.address.as_ref().and_then(|a| a.as_link_addr())) {
            (Some(IpAddr::V4(_)), _) => "inet",
            (Some(IpAddr::V6(_)), _) => "inet6",
            (None, Some(_)) => "link",
            (None, None) => continue,
        };
        let mut flags = Vec::new();
        for (flag, name) in
            [(InterfaceFlags::IFF_UP, "up"), (InterfaceFlags::IFF_LOOPBACK, "loopback"), (InterfaceFlags::IFF_RUNNING, "running")]
        {
            if ifa.flags.contains(flag) {
                flags.push(name);
            }
        }
        let prefix = if addr.is_some() { prefix_len(ifa.netmask.as_ref().and_then(ip)) } else { String::new() };
        let shown = addr.map(|a| a.to_string()).unwrap_or_default();
        text.push_str(&format!("{}\t{family}\t{shown}\t{prefix}\t{}\n", ifa.interface_name.replace(['\t', '\n'], " "), flags.join(",")));
    }
    Payload::Text { text, first_line: 1, skipped_bytes: 0, lossy: false, exit: None }
}

/// Where to connect for a listener: its own address, or loopback for a wildcard one.
fn probe_target(s: &TcpSocket) -> Option<SocketAddr> {
    let ip = match s.addr {
        IpAddr::V4(a) if a.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(a) if a.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        // Link-local needs a scope id the listing does not give.
        IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => return None,
        a => a,
    };
    Some(SocketAddr::new(ip, s.port))
}

fn probe_banners(listeners: &[TcpSocket], rec: &mut Recorder) {
    let mut targets: Vec<SocketAddr> = Vec::new();
    for s in listeners.iter().filter(|s| PROBE_PORTS.contains(&s.port)) {
        if let Some(t) = probe_target(s) {
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
    }
    targets.truncate(MAX_PROBES);
    // In parallel, so a host with several silent listeners costs 4 s, not 4 s each.
    let handles: Vec<_> = targets
        .into_iter()
        .map(|t| {
            std::thread::spawn(move || {
                let start = Instant::now();
                let p = probe(t);
                (t, p, start.elapsed().as_millis() as u64)
            })
        })
        .collect();
    for h in handles {
        let Ok((target, payload, ms)) = h.join() else { continue };
        let id = rec.record(Source::Proc { what: format!("{BANNER_PREFIX}{target}") }, || payload);
        if let Some(o) = rec.observations.get_mut(id as usize) {
            o.elapsed_ms = ms;
        }
    }
}

/// Connect, read the greeting's first line, say QUIT, hang up.
pub fn probe(target: SocketAddr) -> Payload {
    let failed = |failure, message: String| Payload::Failed { failure, message };
    let mut stream = match TcpStream::connect_timeout(&target, CONNECT_TIMEOUT) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return failed(Failure::Io, "connection refused".into()),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
            return failed(Failure::TimedOut, format!("no connection within {} s", CONNECT_TIMEOUT.as_secs()))
        }
        Err(e) => return failed(Failure::Io, format!("connect: {e}")),
    };
    let text = |t: String| Payload::text(t);
    if target.port() == 465 {
        return text(String::new());
    }
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(READ_TIMEOUT));
    let deadline = Instant::now() + READ_TIMEOUT;
    let mut got: Vec<u8> = Vec::new();
    let mut buf = [0u8; BANNER_CAP];
    let mut closed = false;
    while got.len() < BANNER_CAP && !got.contains(&b'\n') && Instant::now() < deadline {
        match stream.read(&mut buf[..BANNER_CAP - got.len()]) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if !closed {
        let _ = stream.write_all(b"QUIT\r\n");
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    if let Some(nl) = got.iter().position(|&b| b == b'\n') {
        got.truncate(nl + 1);
    }
    match (got.is_empty(), closed) {
        (true, true) => failed(Failure::Io, "connection closed without a greeting".into()),
        (true, false) => failed(Failure::TimedOut, format!("no greeting within {} s", READ_TIMEOUT.as_secs())),
        _ => text(String::from_utf8_lossy(&got).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn the_probe_reads_one_line_and_says_quit() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"220-mx1.lab.example ESMTP\r\n220 second line never read\r\n").unwrap();
            let mut got = Vec::new();
            let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
            let _ = s.read_to_end(&mut got);
            got
        });
        let p = probe(addr);
        assert_eq!(
            p,
            Payload::Text { text: "220-mx1.lab.example ESMTP\r\n".into(), first_line: 1, skipped_bytes: 0, lossy: false, exit: None }
        );
        assert_eq!(server.join().unwrap(), b"QUIT\r\n");
    }

    #[test]
    fn a_silent_listener_times_out_and_a_closed_port_is_refused() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let start = Instant::now();
        let p = probe(addr);
        assert!(matches!(p, Payload::Failed { failure: Failure::TimedOut, .. }), "{p:?}");
        assert!(start.elapsed() < Duration::from_secs(4));
        drop(l);
        let p = probe(addr);
        assert_eq!(p, Payload::Failed { failure: Failure::Io, message: "connection refused".into() });
    }

    #[test]
    fn under_root_only_a_captured_proc_net_tcp_is_read() {
        let dir = std::env::temp_dir().join(format!("mailsleuth-net-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("proc/net")).unwrap();
        std::fs::write(dir.join("proc/net/tcp"), include_str!("../../tests/fixtures/captured/outputs/proc-net-tcp.txt")).unwrap();
        let opts = Options { root: dir.clone(), ..Options::default() };
        let mut rec = Recorder::new();
        collect(&opts, &Config::default(), &mut rec);
        let by = |what: &str| rec.observations.iter().find(|o| o.source == Source::Proc { what: what.into() }).map(|o| o.payload.clone());
        assert!(matches!(by(TCP), Some(Payload::Text { .. })));
        assert_eq!(by(TCP6), Some(Payload::Absent));
        for what in [SOCKET_OWNERS, INTERFACES, BANNER_PROBE] {
            assert!(matches!(by(what), Some(Payload::Failed { failure: Failure::NotRun, .. })), "{what}");
        }
        assert!(!rec.observations.iter().any(|o| o.source.label().starts_with(BANNER_PREFIX) && o.source.label() != BANNER_PROBE));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
