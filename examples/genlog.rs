//! A deterministic generator of realistic Postfix logs, for benchmarks and load tests.
//!
//! `cargo run --release --example genlog -- SIZE [--iso] [--seed N] > mail.log`
//! SIZE is bytes with an optional K/M/G suffix. Each message goes through the real sequence
//! of Postfix lines (postscreen → smtpd or submission/smtpd or pickup → cleanup → qmgr →
//! smtp/local/pipe/lmtp → removed), with TLS lines, a few percent deferrals of several kinds
//! (refused, timed out, DNS, greylisting, maildrop temp file, quota), bounces, rejects and
//! warnings. The same seed always gives the same bytes.

use std::io::{BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: fast, deterministic, good enough for traffic mixes.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len() as u64) as usize]
    }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const USERS: &[&str] = &["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"];
const REMOTE: &[&str] = &["gmail.com", "outlook.com", "yahoo.com", "example.net", "example.org", "mail.example.com", "lists.example.edu"];
const CLIENTS: &[&str] = &[
    "mail-ed1-f41.google.com[209.85.208.41]",
    "mail-db8eur05on2050.outbound.protection.outlook.com[40.107.20.50]",
    "unknown[198.51.100.23]",
    "smtp.example.net[192.0.2.25]",
    "mx.example.org[203.0.113.7]",
];

struct Clock {
    t: u64,
    iso: bool,
}

impl Clock {
    fn stamp(&self) -> String {
        let secs = self.t % 86400;
        let day = 23 + (self.t / 86400) % 5;
        if self.iso {
            format!("2026-11-{day:02}T{:02}:{:02}:{:02}.{:06}+00:00", secs / 3600, secs / 60 % 60, secs % 60, (self.t * 7919) % 1_000_000)
        } else {
            format!("{} {day:2} {:02}:{:02}:{:02}", MONTHS[10], secs / 3600, secs / 60 % 60, secs % 60)
        }
    }
}

fn qid(r: &mut Rng) -> String {
    format!("{:010X}", r.next() & 0xff_ffff_ffff)
}

const USAGE: &str = "\
genlog: a deterministic, realistic Postfix log on stdout, for benchmarks and load tests.

Usage: genlog [SIZE] [--iso] [--seed N] > mail.log

  SIZE      bytes to write, with an optional K, M or G suffix (default 100M)
  --iso     RFC 3339 stamps instead of classic syslog ones
  --seed N  another deterministic traffic mix (the same seed gives the same bytes)
  -h, --help  this help
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return;
    }
    let mut size: u64 = 100 << 20;
    let mut iso = false;
    let mut seed = 0x5eed_u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let parsed = match a.as_str() {
            "--iso" => {
                iso = true;
                Some(())
            }
            "--seed" => it.next().and_then(|s| s.parse().ok()).map(|n| seed = n),
            s if !s.starts_with('-') => parse_size(s).map(|n| size = n),
            _ => None,
        };
        if parsed.is_none() {
            eprint!("genlog: cannot use `{a}`\n\n{USAGE}");
            std::process::exit(2);
        }
    }
    let mut r = Rng(seed | 1);
    let mut clock = Clock { t: 0, iso };
    let out = std::io::stdout();
    let mut w = BufWriter::with_capacity(1 << 20, out.lock());
    let mut written: u64 = 0;
    let host = "mx1";
    let mut pid: u64 = 1000;
    while written < size {
        clock.t += r.below(3);
        pid = 1000 + (pid + r.below(7)) % 30000;
        let mut lines: Vec<String> = Vec::with_capacity(12);
        let ts = clock.stamp();
        let id = qid(&mut r);
        let size_b = 800 + r.below(60_000) + if r.below(20) == 0 { r.below(4_000_000) } else { 0 };
        let from = format!("{}@{}", r.pick(USERS), r.pick(REMOTE));
        let inbound = r.below(3) != 0;
        let local_user = r.pick(USERS);
        let client = r.pick(CLIENTS);
        let ip = client.rsplit('[').next().unwrap_or("192.0.2.1]").trim_end_matches(']');
        let mut l = |prog: &str, msg: String| lines.push(format!("{ts} {host} {prog}[{pid}]: {msg}"));
        match r.below(100) {
            0..=4 => {
                // A rejected or dropped connection.
                l("postfix/postscreen", format!("CONNECT from [{ip}]:{} to [192.0.2.10]:25", 30000 + r.below(30000)));
                if r.below(2) == 0 {
                    l("postfix/postscreen", format!("DNSBL rank 3 for [{ip}]:{}", 30000 + r.below(30000)));
                    l("postfix/postscreen", format!("NOQUEUE: reject: RCPT from [{ip}]:{}: 550 5.7.1 Service unavailable; client [{ip}] blocked using zen.spamhaus.org; from=<{from}>, to=<{local_user}@example.com>, proto=ESMTP, helo=<{}>", 30000 + r.below(30000), client.split('[').next().unwrap_or("x")));
                } else {
                    l("postfix/smtpd", format!("connect from {client}"));
                    l("postfix/smtpd", format!("NOQUEUE: reject: RCPT from {client}: 550 5.1.1 <nosuch{}@example.com>: Recipient address rejected: User unknown in local recipient table; from=<{from}> to=<nosuch@example.com> proto=ESMTP helo=<{}>", r.below(99), client.split('[').next().unwrap_or("x")));
                    l("postfix/smtpd", format!("disconnect from {client} ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"));
                }
            }
            5..=6 => {
                l(
                    "postfix/smtpd",
                    format!(
                        "warning: hostname {} does not resolve to address {ip}: Name or service not known",
                        client.split('[').next().unwrap_or("x")
                    ),
                );
                l("postfix/smtpd", format!("warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"));
            }
            _ => {
                if inbound {
                    l("postfix/postscreen", format!("CONNECT from [{ip}]:{} to [192.0.2.10]:25", 30000 + r.below(30000)));
                    l("postfix/postscreen", format!("PASS OLD [{ip}]:{}", 30000 + r.below(30000)));
                    l("postfix/smtpd", format!("connect from {client}"));
                    l("postfix/smtpd", format!("Anonymous TLS connection established from {client}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"));
                    l("postfix/smtpd", format!("{id}: client={client}"));
                } else if r.below(2) == 0 {
                    l("postfix/submission/smtpd", format!("connect from unknown[198.51.100.{}]", r.below(250)));
                    l(
                        "postfix/submission/smtpd",
                        format!("{id}: client=unknown[198.51.100.{}], sasl_method=PLAIN, sasl_username={local_user}", r.below(250)),
                    );
                } else {
                    l("postfix/pickup", format!("{id}: uid=1000 from=<{local_user}>"));
                }
                l("postfix/cleanup", format!("{id}: message-id=<{}.{}@{}>", r.next() % 1_000_000_007, pid, r.pick(REMOTE)));
                if r.below(200) == 0 {
                    l("postfix/cleanup", format!("{id}: milter-reject: END-OF-MESSAGE from {client}: 4.7.1 Service unavailable - try again later; from=<{from}> to=<{local_user}@example.com> proto=ESMTP helo=<x>"));
                }
                l("postfix/qmgr", format!("{id}: from=<{from}>, size={size_b}, nrcpt=1 (queue active)"));
                let delay = r.below(400) as f64 / 100.0;
                let delays = format!("{:.2}/{:.2}/{:.2}/{:.2}", delay / 4.0, 0.0, delay / 4.0, delay / 2.0);
                let (agent, to, relay) = if inbound {
                    let a = r.pick(&["local", "local", "pipe", "lmtp"]);
                    let relay = match a {
                        "pipe" => "maildrop".to_string(),
                        "lmtp" => "mx1.example.com[private/dovecot-lmtp]".to_string(),
                        _ => "local".to_string(),
                    };
                    (a, format!("{local_user}@example.com"), relay)
                } else {
                    let d = r.pick(REMOTE);
                    ("smtp", format!("{}@{d}", r.pick(USERS)), format!("mx.{d}[203.0.113.{}]:25", r.below(250)))
                };
                let prog = format!("postfix/{agent}");
                let status = match r.below(100) {
                    0 => format!("dsn=4.4.1, status=deferred (connect to {relay}: Connection refused)"),
                    1 => format!("dsn=4.4.1, status=deferred (connect to {relay}: Connection timed out)"),
                    2 => format!("dsn=4.4.3, status=deferred (Host or domain name not found. Name service error for name={} type=MX: Host not found, try again)", to.rsplit('@').next().unwrap_or("x")),
                    3 => format!("dsn=4.7.1, status=deferred (host {relay} said: 450 4.7.1 <{to}>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/example.com.html (in reply to RCPT TO command))"),
                    4 if agent == "pipe" || agent == "local" => "dsn=4.3.0, status=deferred (temporary failure. Command output: /usr/bin/maildrop: Unable to create temporary file. )".to_string(),
                    5 => format!("dsn=5.1.1, status=bounced (host {relay} said: 550 5.1.1 <{to}>: Recipient address rejected: User unknown (in reply to RCPT TO command))"),
                    6 if agent == "lmtp" => format!("dsn=4.2.2, status=deferred (host {relay} said: 452 4.2.2 <{to}> Quota exceeded (mailbox for user is full) (in reply to end of DATA command))"),
                    _ => match agent {
                        "smtp" => format!("dsn=2.0.0, status=sent (250 2.0.0 OK {} - gsmtp)", r.next() % 10_000_000_000),
                        "lmtp" => format!("dsn=2.0.0, status=sent (250 2.0.0 <{to}> {} Saved)", r.next() % 1_000_000),
                        "pipe" => "dsn=2.0.0, status=sent (delivered via maildrop service)".to_string(),
                        _ => "dsn=2.0.0, status=sent (delivered to command: /usr/bin/maildrop -d \"$USER\")".to_string(),
                    },
                };
                if agent == "smtp" && r.below(3) == 0 {
                    l(
                        "postfix/smtp",
                        format!(
                            "Untrusted TLS connection established to {relay}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
                        ),
                    );
                }
                l(&prog, format!("{id}: to=<{to}>, relay={relay}, delay={delay:.2}, delays={delays}, {status}"));
                if !status.contains("deferred") {
                    l("postfix/qmgr", format!("{id}: removed"));
                }
                if inbound {
                    l("postfix/smtpd", format!("disconnect from {client} ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7"));
                }
            }
        }
        if r.below(5000) == 0 {
            lines.push(format!("{ts} {host} postfix/qmgr[{pid}]: warning: qmgr_active_corrupt: save corrupt file queue active id {}: No such file or directory", qid(&mut r)));
        }
        for line in lines {
            written += line.len() as u64 + 1;
            if writeln!(w, "{line}").is_err() {
                return; // downstream closed (e.g. `| head`)
            }
        }
    }
    let _ = w.flush();
}

fn parse_size(s: &str) -> Option<u64> {
    let (num, mul) = match s.chars().last() {
        Some('K' | 'k') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>().ok().and_then(|n| n.checked_mul(mul))
}
