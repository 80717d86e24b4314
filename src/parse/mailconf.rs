//! Mail configuration grammars beside main.cf: master.cf services, the lookup tables, TLS
//! files and domains main.cf names, Dovecot's settings (`doveconf -n` or its files), Courier
//! and maildrop shell variables, and which delivery agent a transport is.

use super::postconf::Config;

/// One master.cf service line (continuations joined).
#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    pub name: String,
    pub kind: String,
    pub private: String,
    pub unpriv: String,
    pub chroot: String,
    pub wakeup: String,
    pub maxproc: String,
    pub command: String,
    pub args: Vec<String>,
    pub line: u64,
}

impl Service {
    pub fn overrides(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut it = self.args.iter();
        while let Some(a) = it.next() {
            if a == "-o" {
                if let Some(v) = it.next() {
                    out.push(v.clone());
                }
            } else if let Some(v) = a.strip_prefix("-o") {
                out.push(v.to_string());
            }
        }
        out
    }
    /// For pipe(8): everything from `argv=` on.
    pub fn argv(&self) -> Option<String> {
        let pos = self.args.iter().position(|a| a.starts_with("argv="))?;
        let mut parts = vec![self.args[pos].trim_start_matches("argv=").to_string()];
        parts.extend(self.args[pos + 1..].iter().cloned());
        Some(parts.join(" "))
    }
}

/// Parse master.cf (or `postconf -M` output): comments start a line with `#`; a line starting
/// with whitespace continues the previous one; fields are whitespace separated.
pub fn parse_master_cf(text: &str) -> Vec<Service> {
    let mut logical: Vec<(u64, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, last)) = logical.last_mut() {
                last.push(' ');
                last.push_str(t);
            }
            continue;
        }
        logical.push((i as u64 + 1, t.to_string()));
    }
    logical
        .into_iter()
        .filter_map(|(line, l)| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 8 {
                return None;
            }
            Some(Service {
                name: f[0].to_string(),
                kind: f[1].to_string(),
                private: f[2].to_string(),
                unpriv: f[3].to_string(),
                chroot: f[4].to_string(),
                wakeup: f[5].to_string(),
                maxproc: f[6].to_string(),
                command: f[7].to_string(),
                args: f[8..].iter().map(|s| s.to_string()).collect(),
                line,
            })
        })
        .collect()
}

/// Parameters that name lookup tables (and restriction lists that may hold `check_*_access`).
const TABLE_PARAMS: &[&str] = &[
    "alias_maps",
    "alias_database",
    "transport_maps",
    "virtual_alias_maps",
    "virtual_mailbox_maps",
    "virtual_mailbox_domains",
    "relay_domains",
    "relay_recipient_maps",
    "canonical_maps",
    "sender_canonical_maps",
    "recipient_canonical_maps",
    "relocated_maps",
    "sender_dependent_relayhost_maps",
    "smtp_sasl_password_maps",
    "smtpd_sender_login_maps",
    "local_recipient_maps",
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_relay_restrictions",
];

/// (param, type, source path, database path) of every indexed table in the configuration.
pub fn lookup_tables(cfg: &Config) -> Vec<(String, String, String, String)> {
    let mut out: Vec<(String, String, String, String)> = Vec::new();
    for param in TABLE_PARAMS {
        let Some(v) = cfg.value(param) else { continue };
        for tok in v.split([' ', ',', '\t']).filter(|t| !t.is_empty()) {
            let Some((ty, path)) = tok.split_once(':') else { continue };
            let ext = match ty {
                "hash" | "btree" => ".db",
                "lmdb" => ".lmdb",
                "cdb" => ".cdb",
                _ => continue,
            };
            if !path.starts_with('/') || out.iter().any(|(_, t, p, _)| t == ty && p == path) {
                continue;
            }
            out.push((param.to_string(), ty.to_string(), path.to_string(), format!("{path}{ext}")));
        }
    }
    out
}

/// The address classes and the parameters naming their domains, in Postfix's resolution order.
pub const DOMAIN_CLASSES: &[(&str, &str)] = &[
    ("mydestination", "local"),
    ("virtual_alias_domains", "virtual_alias"),
    ("virtual_mailbox_domains", "virtual_mailbox"),
    ("relay_domains", "relay"),
];

/// (param, class, domain) for every literal domain of the address-class parameters.
pub fn mail_domains(cfg: &Config) -> Vec<(&'static str, &'static str, String)> {
    let mut out = Vec::new();
    for (param, class) in DOMAIN_CLASSES {
        let Some(v) = cfg.value(param) else { continue };
        for tok in v.split([' ', ',', '\t']).filter(|t| !t.is_empty()) {
            // type:table lookups and /file/name patterns are not expanded here.
            if tok.contains(':') || tok.starts_with('/') || tok.contains('$') {
                continue;
            }
            let d = tok.trim_end_matches('.').to_ascii_lowercase();
            if !out.iter().any(|(p, _, x)| p == param && *x == d) {
                out.push((*param, *class, d));
            }
        }
    }
    out
}

/// smtpd's certificate and key parameters (chain_files may list several files).
const TLS_FILES: &[(&str, &str)] = &[
    ("smtpd_tls_cert_file", "tls_cert"),
    ("smtpd_tls_key_file", "tls_key"),
    ("smtpd_tls_eccert_file", "tls_cert"),
    ("smtpd_tls_eckey_file", "tls_key"),
    ("smtpd_tls_dcert_file", "tls_cert"),
    ("smtpd_tls_dkey_file", "tls_key"),
    ("smtpd_tls_chain_files", "tls_chain"),
];

/// (param, role, absolute path) of the files and sockets main.cf names that a service
/// cannot start or work without.
pub fn config_paths(cfg: &Config) -> Vec<(&'static str, &'static str, String)> {
    let mut out: Vec<(&'static str, &'static str, String)> = Vec::new();
    for (param, role) in TLS_FILES {
        let Some(v) = cfg.value(param) else { continue };
        for p in v.split([' ', ',', '\t']).filter(|p| p.starts_with('/')) {
            if !out.iter().any(|(_, _, x)| x == p) {
                out.push((*param, *role, p.to_string()));
            }
        }
    }
    // Dovecot SASL: a UNIX socket, relative to queue_directory unless absolute (or inet:).
    if cfg.value("smtpd_sasl_type").as_deref() == Some("dovecot") {
        if let Some(p) = cfg.value("smtpd_sasl_path").filter(|p| !p.is_empty() && !p.starts_with("inet:")) {
            let q = cfg.value("queue_directory").filter(|q| !q.is_empty()).unwrap_or_else(|| "/var/spool/postfix".into());
            let abs = if p.starts_with('/') { p } else { format!("{}/{}", q.trim_end_matches('/'), p.trim_start_matches("unix:")) };
            out.push(("smtpd_sasl_path", "sasl_socket", abs));
        }
    }
    out
}

/// Parse dovecot.conf syntax (also `doveconf -n`): `key = value`, sections `name [arg] {` …
/// `}`, comments `#`. Returns (section path, key, value); `!include` lines are skipped (the
/// collector reads conf.d itself, in the order Dovecot would).
pub fn parse_dovecot(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with('!') {
            continue;
        }
        if t == "}" {
            stack.pop();
            continue;
        }
        if let Some(head) = t.strip_suffix('{') {
            stack.push(head.trim().to_string());
            continue;
        }
        if let Some((k, v)) = t.split_once('=') {
            let v = v.trim();
            // `ssl_key = # hidden, use -P to show it`: doveconf hides secrets.
            let v = if v.starts_with("# hidden") { "" } else { v };
            let v = v.trim_matches('"').trim();
            out.push((stack.join(" / "), k.trim().to_string(), v.to_string()));
        }
    }
    out
}

/// One effective Dovecot setting: (section, name, value, where it was read).
pub type DovecotSetting = (String, String, String, String);

/// Dovecot's effective settings from its configuration texts in the order Dovecot reads
/// them, as (text, where it was read): a later setting overrides an earlier one of the same
/// section and name, as Dovecot's include order does.
pub fn dovecot_effective(sources: &[(&str, String)]) -> Vec<DovecotSetting> {
    let mut settings: Vec<DovecotSetting> = Vec::new();
    for (text, label) in sources {
        for (section, k, v) in parse_dovecot(text) {
            settings.retain(|(s, kk, _, _)| !(s == &section && kk == &k));
            settings.push((section, k, v, label.clone()));
        }
    }
    settings
}

/// The files Dovecot writes its own log to (not through syslog): `log_path`,
/// `info_log_path`, `debug_log_path`, globally and per protocol (`protocol lda { log_path =
/// ... }`: the LDA's own log often holds the only real reason for a deferral). Returns
/// (path, the setting that names it). `syslog`, empty (the same as `log_path`) and `/dev/...`
/// (stderr, under systemd the journal) name no file.
pub fn dovecot_log_files(settings: &[DovecotSetting]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (section, name, value, _) in settings {
        if !matches!(name.as_str(), "log_path" | "info_log_path" | "debug_log_path") {
            continue;
        }
        let in_protocol = section.strip_prefix("protocol ").filter(|p| !p.contains('/') && !p.trim().is_empty());
        if !section.is_empty() && in_protocol.is_none() {
            continue;
        }
        let v = value.trim();
        if !v.starts_with('/') || v.starts_with("/dev/") || v.contains('%') {
            continue;
        }
        let why = match in_protocol {
            Some(p) => format!("dovecot protocol {} {name}", p.trim()),
            None => format!("dovecot {name}"),
        };
        if !out.iter().any(|(p, _)| p == v) {
            out.push((v.to_string(), why));
        }
    }
    out
}

pub const COURIER_FILES: &[&str] = &["/etc/courier/courierd", "/etc/courier/maildroprc", "/etc/maildroprc"];

/// Shell-style `NAME=value` / `NAME="value"` lines.
pub fn parse_shell_vars(text: &str) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('#') {
            continue;
        }
        let Some((k, v)) = t.split_once('=') else { continue };
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
            .unwrap_or(v);
        out.push((k.to_string(), v.to_string(), i as u64 + 1));
    }
    out
}

/// The agent named by a command line: `/usr/bin/maildrop -d "$USER"` → maildrop.
pub fn agent_of(command: &str) -> &'static str {
    let first = command.split_whitespace().next().unwrap_or("");
    let base = first.rsplit('/').next().unwrap_or(first);
    match base {
        "maildrop" => "maildrop",
        "procmail" => "procmail",
        "dovecot-lda" | "deliver" => "dovecot-lda",
        "lmtp" => "lmtp",
        "local" => "local",
        "virtual" => "virtual",
        _ => "other",
    }
}

/// Resolve a Postfix transport (`lmtp:unix:private/dovecot-lmtp`, `maildrop`, `dovecot:`) to
/// an agent, looking the service up in master.cf when it is a pipe.
pub fn agent_of_transport(transport: &str, services: &[Service]) -> (&'static str, String) {
    let (name, rest) = transport.split_once(':').unwrap_or((transport, ""));
    let svc = services.iter().find(|s| s.name == name && s.kind == "unix");
    match svc {
        Some(s) if s.command == "pipe" => {
            let argv = s.argv().unwrap_or_default();
            (agent_of(&argv), argv)
        }
        Some(s) if s.command == "lmtp" => (if rest.contains("dovecot") { "dovecot-lmtp" } else { "lmtp" }, transport.to_string()),
        Some(s) => (agent_of(&s.command), transport.to_string()),
        None if name == "lmtp" => (if rest.contains("dovecot") { "dovecot-lmtp" } else { "lmtp" }, transport.to_string()),
        None => ("other", transport.to_string()),
    }
}
