//! /proc text: TCP sockets (`/proc/net/tcp`, `tcp6`), who listens, and the socket owners'
//! snapshot. Pure functions of the recorded text.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One row of `/proc/net/tcp{,6}`.
#[derive(Clone, Debug, PartialEq)]
pub struct TcpSocket {
    pub addr: IpAddr,
    pub port: u16,
    /// Kernel TCP state: 0x0A is LISTEN.
    pub state: u8,
    pub uid: u32,
    pub inode: u64,
    /// The row as read (evidence).
    pub line: String,
}

pub const TCP_LISTEN: u8 = 0x0A;

/// An IPv4 address as /proc prints it: one 32-bit word in host byte order.
fn ipv4_from_hex(h: &str) -> Option<Ipv4Addr> {
    if h.len() != 8 {
        return None;
    }
    let word = u32::from_str_radix(h, 16).ok()?;
    Some(Ipv4Addr::from(word.to_le_bytes()))
}

/// An IPv6 address as /proc prints it: four 32-bit words, each in host byte order.
fn ipv6_from_hex(h: &str) -> Option<Ipv6Addr> {
    if h.len() != 32 || !h.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 16];
    for i in 0..4 {
        let word = u32::from_str_radix(h.get(i * 8..i * 8 + 8)?, 16).ok()?;
        bytes[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    Some(Ipv6Addr::from(bytes))
}

pub fn endpoint(s: &str) -> Option<(IpAddr, u16)> {
    let (a, p) = s.split_once(':')?;
    let port = u16::from_str_radix(p, 16).ok()?;
    let addr = if a.len() == 8 { IpAddr::V4(ipv4_from_hex(a)?) } else { IpAddr::V6(ipv6_from_hex(a)?) };
    Some((addr, port))
}

/// Parse `/proc/net/tcp` or `/proc/net/tcp6`; the header and malformed rows are skipped.
pub fn parse_proc_net_tcp(text: &str) -> Vec<TcpSocket> {
    text.lines()
        .filter_map(|line| {
            // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode ...
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || !f[0].ends_with(':') {
                return None;
            }
            let (addr, port) = endpoint(f[1])?;
            let state = u8::from_str_radix(f[3], 16).ok()?;
            let uid = f[7].parse().ok()?;
            let inode = f[9].parse().ok()?;
            Some(TcpSocket { addr, port, state, uid, inode, line: line.trim().to_string() })
        })
        .collect()
}

/// The listening sockets of both files' texts (what the collector plans the probe and
/// the owner search with).
pub fn listening(text: &str) -> Vec<TcpSocket> {
    parse_proc_net_tcp(text).into_iter().filter(|s| s.state == TCP_LISTEN).collect()
}

/// `inode \t pid \t comm` lines → inode → (pid, comm).
pub fn parse_socket_owners(text: &str) -> HashMap<u64, (u32, String)> {
    let mut m = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut c = line.splitn(3, '\t');
        let (Some(inode), Some(pid), Some(comm)) = (c.next(), c.next(), c.next()) else { continue };
        if let (Ok(inode), Ok(pid)) = (inode.trim().parse(), pid.trim().parse()) {
            m.entry(inode).or_insert((pid, comm.to_string()));
        }
    }
    m
}
