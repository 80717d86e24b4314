//! Mail-system configuration beyond main.cf: Postfix's master.cf services, Dovecot's
//! settings (`doveconf -n` or dovecot.conf + conf.d), Courier's courierd and maildroprc, and
//! the combination that says **how mail reaches the mailbox** (`delivery_agent`): which
//! program delivers, and through which setting.

use super::kinds::KindSpec;
use super::postconf::{config_from, Config};
use super::{Fact, FactSet};
use crate::observe::{Bundle, Observation, Source};

pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "master_service",
        producer: "parser: /etc/postfix/master.cf (or `postconf -M`)",
        doc: "one service of Postfix's master.cf",
        fields: &[
            ("name", "string", "service name, e.g. smtp, submission, maildrop"),
            ("type", "string", "inet, unix, unix-dgram, fifo, pass"),
            ("private", "string", "y, n or - (default y)"),
            ("unpriv", "string", "y, n or -"),
            ("chroot", "string", "y, n or - (Debian's default is y, upstream n)"),
            ("wakeup", "string", "wakeup time or -"),
            ("maxproc", "string", "process limit or -"),
            ("command", "string", "daemon name, e.g. smtpd, pipe"),
            ("args", "string", "the rest of the command line, with -o overrides"),
            ("argv", "string", "for pipe(8): the argv= program and arguments"),
            ("overrides", "list", "-o name=value overrides"),
        ],
    },
    KindSpec {
        name: "dovecot_setting",
        producer: "parser: `doveconf -n` or /etc/dovecot/dovecot.conf + conf.d/*.conf",
        doc: "one Dovecot setting",
        fields: &[
            ("name", "string", "setting name, e.g. mail_location"),
            ("value", "string", "its value"),
            ("section", "string", "enclosing section, e.g. `protocol lda`; empty at top level"),
        ],
    },
    KindSpec {
        name: "courier_setting",
        producer: "parser: /etc/courier/courierd, /etc/courier/maildroprc, /etc/maildroprc",
        doc: "one shell-style setting of Courier or maildrop",
        fields: &[
            ("file", "string", "the file it came from"),
            ("name", "string", "variable name, e.g. DEFAULTDELIVERY"),
            ("value", "string", "its value, quotes removed"),
        ],
    },
    KindSpec {
        name: "delivery_agent",
        producer: "combiner: Postfix main.cf + master.cf, Courier courierd",
        doc: "how local mail reaches mailboxes",
        fields: &[
            ("agent", "string", "maildrop, procmail, dovecot-lda, dovecot-lmtp, lmtp, local, virtual, other"),
            (
                "via",
                "string",
                "the setting that routes mail to it, e.g. mailbox_command, mailbox_transport, master.cf:maildrop, DEFAULTDELIVERY",
            ),
            ("command", "string", "the command line or transport"),
            ("socket", "string", "for an lmtp:unix: transport, the socket's path (relative ones are under queue_directory)"),
        ],
    },
    KindSpec {
        name: "lookup_table",
        producer: "parser: indexed lookup tables named in main.cf (hash:, btree:, lmdb:, cdb:)",
        doc: "a Postfix lookup table whose database is built from a source file by postmap/newaliases",
        fields: &[
            ("param", "string", "the parameter naming it, e.g. alias_maps, transport_maps"),
            ("type", "string", "hash, btree, lmdb or cdb"),
            ("path", "string", "the source file"),
            ("db_path", "string", "the database file postmap builds (path.db, .lmdb, .cdb)"),
            ("tool", "string", "the command that rebuilds it from the source: postalias (alias tables) or postmap"),
        ],
    },
    KindSpec {
        name: "postfix_instance",
        producer: "parser: multi_instance_directories",
        doc: "a secondary Postfix instance (postmulti)",
        fields: &[("config_directory", "string", "its configuration directory"), ("readable", "bool", "whether its main.cf was read")],
    },
    KindSpec {
        name: "instance_setting",
        producer: "parser: main.cf of each secondary Postfix instance",
        doc: "one explicit setting of a secondary Postfix instance (the primary's are `postconf` facts)",
        fields: &[
            ("instance", "string", "the instance's configuration directory"),
            ("name", "string", "parameter name"),
            ("value", "string", "its value as written (no expansion)"),
        ],
    },
];

// ---------- master.cf ----------

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

fn master_source(bundle: &Bundle) -> Option<(&Observation, String)> {
    if let Some(o) = bundle.file("/etc/postfix/master.cf").filter(|o| o.text().is_some()) {
        return Some((o, "/etc/postfix/master.cf".to_string()));
    }
    bundle
        .command("postconf")
        .find(|o| o.text().is_some() && matches!(&o.source, Source::Command { argv } if argv.iter().any(|a| a == "-M")))
        .map(|o| (o, "postconf -M".to_string()))
}

pub fn services(bundle: &Bundle) -> Vec<Service> {
    master_source(bundle).and_then(|(o, _)| o.text().map(parse_master_cf)).unwrap_or_default()
}

fn master_facts(bundle: &Bundle, out: &mut FactSet) {
    let Some((obs, origin)) = master_source(bundle) else {
        out.unavailable("master_service", "Postfix master.cf", "neither /etc/postfix/master.cf nor `postconf -M` could be read");
        return;
    };
    for s in parse_master_cf(obs.text().unwrap_or("")) {
        let src = if origin.starts_with('/') { format!("{origin}:{}", s.line) } else { origin.clone() };
        let text = format!(
            "{} {} {} {} {} {} {} {} {}",
            s.name,
            s.kind,
            s.private,
            s.unpriv,
            s.chroot,
            s.wakeup,
            s.maxproc,
            s.command,
            s.args.join(" ")
        );
        let mut f = Fact::new("master_service")
            .with("name", s.name.as_str())
            .with("type", s.kind.as_str())
            .with("private", s.private.as_str())
            .with("unpriv", s.unpriv.as_str())
            .with("chroot", s.chroot.as_str())
            .with("wakeup", s.wakeup.as_str())
            .with("maxproc", s.maxproc.as_str())
            .with("command", s.command.as_str())
            .with("args", s.args.join(" "))
            .with("overrides", super::Value::List(s.overrides().into_iter().map(super::Value::Str).collect()))
            .evidence(src, text.trim_end().to_string())
            .from_observation(obs.id);
        if let Some(a) = s.argv() {
            f.set("argv", a);
        }
        out.push(f);
    }
}

// ---------- lookup tables ----------

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

fn lookup_table_facts(cfg: Option<&Config>, out: &mut FactSet) {
    let Some(cfg) = cfg else { return };
    for (param, ty, path, db) in lookup_tables(cfg) {
        let tool = if param.starts_with("alias_") { "postalias" } else { "postmap" };
        out.push(
            Fact::new("lookup_table")
                .with("param", param.as_str())
                .with("type", ty.as_str())
                .with("path", path.as_str())
                .with("db_path", db.as_str())
                .with("tool", tool)
                .evidence(cfg.origin.clone(), format!("{param} = … {ty}:{path} …")),
        );
    }
}

// ---------- Dovecot ----------

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

fn dovecot_facts(bundle: &Bundle, out: &mut FactSet) {
    let doveconf = bundle.command("doveconf").find(|o| o.text().is_some());
    let mut sources: Vec<&Observation> = Vec::new();
    match doveconf {
        Some(o) => sources.push(o),
        None => {
            sources.extend(bundle.file("/etc/dovecot/dovecot.conf").filter(|o| o.text().is_some()));
            sources.extend(bundle.observations.iter().filter(|o| {
                matches!(&o.source, Source::File { path } if path.starts_with("/etc/dovecot/conf.d/") && path.ends_with(".conf"))
                    && o.text().is_some()
            }));
            sources.extend(bundle.file("/etc/dovecot/local.conf").filter(|o| o.text().is_some()));
        }
    }
    let mut settings: Vec<(String, String, String, String)> = Vec::new();
    for o in &sources {
        for (section, k, v) in parse_dovecot(o.text().unwrap_or("")) {
            // Later files override earlier ones, as Dovecot's include order does.
            settings.retain(|(s, kk, _, _)| !(s == &section && kk == &k));
            settings.push((section, k, v, o.source.label()));
        }
    }
    for (section, k, v, src) in settings {
        let text = if section.is_empty() { format!("{k} = {v}") } else { format!("{section} {{ {k} = {v} }}") };
        out.push(Fact::new("dovecot_setting").with("name", k).with("value", v).with("section", section).evidence(src, text));
    }
}

// ---------- Courier / maildrop ----------

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

fn courier_facts(bundle: &Bundle, out: &mut FactSet) {
    for path in COURIER_FILES {
        let Some(o) = bundle.file(path) else { continue };
        let Some(text) = o.text() else { continue };
        for (k, v, line) in parse_shell_vars(text) {
            out.push(
                Fact::new("courier_setting")
                    .with("file", *path)
                    .with("name", k.as_str())
                    .with("value", v.as_str())
                    .evidence(format!("{path}:{line}"), format!("{k}={v}"))
                    .from_observation(o.id),
            );
        }
    }
}

// ---------- how mail reaches the mailbox ----------

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

fn delivery_facts(bundle: &Bundle, cfg: Option<&Config>, out: &mut FactSet) {
    let services = services(bundle);
    if let Some(cfg) = cfg {
        let origin = cfg.origin.clone();
        if let Some(cmd) = cfg.value("mailbox_command").filter(|v| !v.is_empty()) {
            out.push(
                Fact::new("delivery_agent")
                    .with("agent", agent_of(&cmd))
                    .with("via", "mailbox_command")
                    .with("command", cmd.as_str())
                    .evidence(origin.clone(), format!("mailbox_command = {cmd}")),
            );
        }
        for param in ["mailbox_transport", "local_transport", "virtual_transport"] {
            let Some(t) = cfg.value(param).filter(|v| !v.is_empty()) else { continue };
            let default = super::postconf::defaults().get(param).map(String::as_str);
            // local_transport = local:$myhostname and virtual_transport = virtual are Postfix's own agents.
            if !cfg.explicit.contains_key(param) && default.is_some() {
                continue;
            }
            let (agent, command) = agent_of_transport(&t, &services);
            let mut f = Fact::new("delivery_agent")
                .with("agent", agent)
                .with("via", param)
                .with("command", command)
                .evidence(origin.clone(), format!("{param} = {t}"));
            let queue = cfg.value("queue_directory").filter(|q| !q.is_empty()).unwrap_or_else(|| "/var/spool/postfix".into());
            if let Some(sock) = super::postconf::unix_socket_of(&t, &queue) {
                f.set("socket", sock);
            }
            out.push(f);
        }
    }
    for (_, v, _) in bundle
        .file("/etc/courier/courierd")
        .and_then(|o| o.text())
        .map(parse_shell_vars)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _, _)| k == "DEFAULTDELIVERY")
    {
        if v.contains("maildrop") {
            out.push(
                Fact::new("delivery_agent")
                    .with("agent", "maildrop")
                    .with("via", "DEFAULTDELIVERY")
                    .with("command", v.as_str())
                    .evidence("/etc/courier/courierd", format!("DEFAULTDELIVERY={v}")),
            );
        }
    }
}

fn instance_facts(bundle: &Bundle, cfg: Option<&Config>, out: &mut FactSet) {
    let Some(dirs) = cfg.and_then(|c| c.value("multi_instance_directories")).filter(|v| !v.is_empty()) else { return };
    for dir in dirs.split([' ', ',']).filter(|d| !d.is_empty()) {
        let main = format!("{dir}/main.cf");
        let text = bundle.file(&main).and_then(|o| o.text());
        out.push(
            Fact::new("postfix_instance")
                .with("config_directory", dir)
                .with("readable", text.is_some())
                .evidence("multi_instance_directories", dir.to_string()),
        );
        for s in super::postconf::parse_main_cf(text.unwrap_or("")) {
            out.push(
                Fact::new("instance_setting")
                    .with("instance", dir)
                    .with("name", s.name.as_str())
                    .with("value", s.raw.as_str())
                    .evidence(format!("{main}:{}", s.line), format!("{} = {}", s.name, s.raw)),
            );
        }
    }
}

pub fn facts(bundle: &Bundle, out: &mut FactSet) {
    let cfg = config_from(&bundle.observations);
    master_facts(bundle, out);
    dovecot_facts(bundle, out);
    courier_facts(bundle, out);
    delivery_facts(bundle, cfg.as_ref(), out);
    instance_facts(bundle, cfg.as_ref(), out);
    lookup_table_facts(cfg.as_ref(), out);
}

/// The files this module's parsers read; the collector reads them all.
pub fn config_files(opts: &crate::observe::Options, cfg: &Config) -> Vec<String> {
    let mut v: Vec<String> = vec!["/etc/dovecot/dovecot.conf".into(), "/etc/dovecot/local.conf".into()];
    if let Ok(rd) = std::fs::read_dir(opts.host_path("/etc/dovecot/conf.d")) {
        let mut names: Vec<String> =
            rd.flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| n.ends_with(".conf")).collect();
        names.sort();
        v.extend(names.into_iter().map(|n| format!("/etc/dovecot/conf.d/{n}")));
    }
    v.extend(COURIER_FILES.iter().map(|s| s.to_string()));
    if let Some(dirs) = cfg.value("multi_instance_directories") {
        for d in dirs.split([' ', ',']).filter(|d| d.starts_with('/')) {
            v.push(format!("{d}/main.cf"));
            v.push(format!("{d}/master.cf"));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER_M: &str = include_str!("../../tests/fixtures/captured/outputs/postconf-M.txt");
    const DOVECONF: &str = include_str!("../../tests/fixtures/captured/outputs/doveconf-n.txt");

    #[test]
    fn master_cf_from_real_postconf_m() {
        let s = parse_master_cf(MASTER_M);
        let smtp = s.iter().find(|x| x.name == "smtp" && x.kind == "inet").expect("smtp inet");
        assert_eq!((smtp.chroot.as_str(), smtp.command.as_str()), ("y", "smtpd"));
        let md = s.iter().find(|x| x.name == "maildrop").expect("maildrop");
        assert_eq!(md.argv().as_deref(), Some("/usr/bin/maildrop -d ${recipient}"));
        assert_eq!(agent_of_transport("maildrop", &s).0, "maildrop");
        let relay = s.iter().find(|x| x.name == "relay").expect("relay");
        assert_eq!(relay.overrides(), ["syslog_name=postfix/$service_name"]);
        let postlog = s.iter().find(|x| x.name == "postlog").expect("postlog");
        assert_eq!(postlog.kind, "unix-dgram");
    }

    #[test]
    fn master_cf_continuations_and_comments() {
        let text = "# comment\nsubmission inet n - y - - smtpd\n  -o syslog_name=postfix/submission\n  -o smtpd_tls_security_level=encrypt\n#  -o commented=out\ndovecot unix - n n - - pipe\n  flags=DRhu user=vmail:vmail argv=/usr/lib/dovecot/dovecot-lda -f ${sender} -d ${recipient}\n";
        let s = parse_master_cf(text);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].overrides(), ["syslog_name=postfix/submission", "smtpd_tls_security_level=encrypt"]);
        assert_eq!(
            agent_of_transport("dovecot", &s),
            ("dovecot-lda", "/usr/lib/dovecot/dovecot-lda -f ${sender} -d ${recipient}".to_string())
        );
        assert_eq!(agent_of_transport("lmtp:unix:private/dovecot-lmtp", &s).0, "dovecot-lmtp");
    }

    #[test]
    fn dovecot_settings_from_real_doveconf() {
        let s = parse_dovecot(DOVECONF);
        let get = |sec: &str, k: &str| s.iter().find(|(a, b, _)| a == sec && b == k).map(|(_, _, v)| v.as_str());
        assert_eq!(get("", "mail_location"), Some("maildir:~/Maildir"));
        assert_eq!(get("", "protocols"), Some("imap lmtp pop3"));
        assert_eq!(get("", "log_path"), Some("/var/log/dovecot.log"));
        assert_eq!(get("passdb", "driver"), Some("pam"));
        assert_eq!(get("", "ssl_key"), Some(""));
    }

    #[test]
    fn lookup_tables_in_maps_and_restrictions() {
        let text = "alias_maps = hash:/etc/aliases, nis:mail.aliases\nalias_database = hash:/etc/aliases\ntransport_maps = lmdb:/etc/postfix/transport\nsmtpd_recipient_restrictions = permit_mynetworks, check_recipient_access hash:/etc/postfix/access, reject_unauth_destination\nvirtual_alias_maps = regexp:/etc/postfix/virtual.re\n";
        let explicit = super::super::postconf::parse_main_cf(text).into_iter().map(|s| (s.name.clone(), s)).collect();
        let cfg = Config { explicit, ..Config::default() };
        let t = lookup_tables(&cfg);
        let paths: Vec<(&str, &str)> = t.iter().map(|(_, ty, _, db)| (ty.as_str(), db.as_str())).collect();
        assert_eq!(paths, [("hash", "/etc/aliases.db"), ("lmdb", "/etc/postfix/transport.lmdb"), ("hash", "/etc/postfix/access.db")]);
    }

    #[test]
    fn agents_and_shell_vars() {
        assert_eq!(agent_of("/usr/bin/maildrop -d \"$USER\""), "maildrop");
        assert_eq!(agent_of("/usr/lib/dovecot/deliver"), "dovecot-lda");
        assert_eq!(agent_of("/usr/bin/procmail -a \"$EXTENSION\""), "procmail");
        let v = parse_shell_vars("# c\nDEFAULTDELIVERY=\"| /usr/bin/maildrop\"\nMAILDROPDEFAULT=./Maildir\nbad line\n");
        assert_eq!(v[0], ("DEFAULTDELIVERY".to_string(), "| /usr/bin/maildrop".to_string(), 2));
        assert_eq!(v[1].1, "./Maildir");
    }
}
