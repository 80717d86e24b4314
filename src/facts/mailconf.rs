//! Mail-system configuration beyond main.cf: Postfix's master.cf services, Dovecot's
//! settings (`doveconf -n` or dovecot.conf + conf.d), Courier's courierd and maildroprc, and
//! the combination that says **how mail reaches the mailbox** (`delivery_agent`): which
//! program delivers, and through which setting.

use crate::bundle::{Bundle, Observation, Source};
use crate::model::{Fact, FactSet};
use crate::model::{FieldType, KindSpec};
use crate::parse::mailconf::{
    agent_of, agent_of_transport, config_paths, lookup_tables, mail_domains, parse_master_cf, parse_shell_vars, DovecotSetting, Service,
    COURIER_FILES,
};
use crate::parse::postconf::Config;

pub const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "master_service",
        producer: "parser: /etc/postfix/master.cf (or `postconf -M`)",
        doc: "one service of Postfix's master.cf",
        fields: &[
            ("name", FieldType::String, "service name, e.g. smtp, submission, maildrop"),
            ("type", FieldType::String, "inet, unix, unix-dgram, fifo, pass"),
            ("private", FieldType::String, "y, n or - (default y)"),
            ("unpriv", FieldType::String, "y, n or -"),
            ("chroot", FieldType::String, "y, n or - (Debian's default is y, upstream n)"),
            ("wakeup", FieldType::String, "wakeup time or -"),
            ("maxproc", FieldType::String, "process limit or -"),
            ("command", FieldType::String, "daemon name, e.g. smtpd, pipe"),
            ("args", FieldType::String, "the rest of the command line, with -o overrides"),
            ("argv", FieldType::String, "for pipe(8): the argv= program and arguments"),
            ("overrides", FieldType::List, "-o name=value overrides"),
        ],
    },
    KindSpec {
        name: "dovecot_setting",
        producer: "parser: `doveconf -n` or /etc/dovecot/dovecot.conf + conf.d/*.conf",
        doc: "one Dovecot setting",
        fields: &[
            ("name", FieldType::String, "setting name, e.g. mail_location"),
            ("value", FieldType::String, "its value"),
            ("section", FieldType::String, "enclosing section, e.g. `protocol lda`; empty at top level"),
        ],
    },
    KindSpec {
        name: "courier_setting",
        producer: "parser: /etc/courier/courierd, /etc/courier/maildroprc, /etc/maildroprc",
        doc: "one shell-style setting of Courier or maildrop",
        fields: &[
            ("file", FieldType::String, "the file it came from"),
            ("name", FieldType::String, "variable name, e.g. DEFAULTDELIVERY"),
            ("value", FieldType::String, "its value, quotes removed"),
        ],
    },
    KindSpec {
        name: "delivery_agent",
        producer: "combiner: Postfix main.cf + master.cf, Courier courierd",
        doc: "how local mail reaches mailboxes",
        fields: &[
            ("agent", FieldType::String, "maildrop, procmail, dovecot-lda, dovecot-lmtp, lmtp, local, virtual, other"),
            (
                "via",
                FieldType::String,
                "the setting that routes mail to it, e.g. mailbox_command, mailbox_transport, master.cf:maildrop, DEFAULTDELIVERY",
            ),
            ("command", FieldType::String, "the command line or transport"),
            ("socket", FieldType::String, "for an lmtp:unix: transport, the socket's path (relative ones are under queue_directory)"),
        ],
    },
    KindSpec {
        name: "lookup_table",
        producer: "parser: indexed lookup tables named in main.cf (hash:, btree:, lmdb:, cdb:)",
        doc: "a Postfix lookup table whose database is built from a source file by postmap/newaliases",
        fields: &[
            ("param", FieldType::String, "the parameter naming it, e.g. alias_maps, transport_maps"),
            ("type", FieldType::String, "hash, btree, lmdb or cdb"),
            ("path", FieldType::String, "the source file"),
            ("db_path", FieldType::String, "the database file postmap builds (path.db, .lmdb, .cdb)"),
            ("tool", FieldType::String, "the command that rebuilds it from the source: postalias (alias tables) or postmap"),
        ],
    },
    KindSpec {
        name: "mail_domain",
        producer: "parser: mydestination, virtual_alias_domains, virtual_mailbox_domains, relay_domains",
        doc: "a domain main.cf lists in an address class (literal names only; type:table and /file entries are not read)",
        fields: &[
            ("domain", FieldType::String, "the domain, lower-cased"),
            ("param", FieldType::String, "the parameter listing it"),
            ("class", FieldType::String, "local, virtual_alias, virtual_mailbox or relay (ADDRESS_CLASS_README)"),
        ],
    },
    KindSpec {
        name: "config_path",
        producer: "parser: files and sockets main.cf names (smtpd TLS certificates and keys, the Dovecot SASL socket)",
        doc: "a file or socket a Postfix parameter names; its path_stat / path_absent facts say whether it exists",
        fields: &[
            ("param", FieldType::String, "the parameter, e.g. smtpd_tls_cert_file"),
            ("role", FieldType::String, "tls_cert, tls_key, tls_chain, sasl_socket"),
            ("path", FieldType::String, "absolute path (a relative smtpd_sasl_path is under queue_directory)"),
            ("value", FieldType::String, "the parameter's value as configured"),
        ],
    },
    KindSpec {
        name: "postfix_instance",
        producer: "parser: multi_instance_directories",
        doc: "a secondary Postfix instance (postmulti)",
        fields: &[
            ("config_directory", FieldType::String, "its configuration directory"),
            ("readable", FieldType::Bool, "whether its main.cf was read"),
        ],
    },
    KindSpec {
        name: "instance_setting",
        producer: "parser: main.cf of each secondary Postfix instance",
        doc: "one explicit setting of a secondary Postfix instance (the primary's are `postconf` facts)",
        fields: &[
            ("instance", FieldType::String, "the instance's configuration directory"),
            ("name", FieldType::String, "parameter name"),
            ("value", FieldType::String, "its value as written (no expansion)"),
        ],
    },
];

// ---------- master.cf ----------

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
            .with("overrides", crate::model::Value::List(s.overrides().into_iter().map(crate::model::Value::Str).collect()))
            .evidence(src, text.trim_end().to_string())
            .from_observation(obs.id);
        if let Some(a) = s.argv() {
            f.set("argv", a);
        }
        out.push(f);
    }
}

// ---------- lookup tables ----------

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

// ---------- domains and paths named in main.cf ----------

fn path_facts(cfg: Option<&Config>, out: &mut FactSet) {
    let Some(cfg) = cfg else { return };
    // main.cf:LINE for an explicit setting (postconf -n has no lines), else where it came from.
    let source = |param: &str| match cfg.explicit.get(param) {
        Some(s) if cfg.origin.starts_with('/') => format!("{}:{}", cfg.origin, s.line),
        _ => cfg.origin.clone(),
    };
    for (param, class, domain) in mail_domains(cfg) {
        out.push(
            Fact::new("mail_domain")
                .with("domain", domain.as_str())
                .with("param", param)
                .with("class", class)
                .evidence(source(param), format!("{param} = {}", cfg.value(param).unwrap_or_default())),
        );
    }
    for (param, role, path) in config_paths(cfg) {
        let value = cfg.value(param).unwrap_or_default();
        out.push(
            Fact::new("config_path")
                .with("param", param)
                .with("role", role)
                .with("path", path.as_str())
                .with("value", value.as_str())
                .evidence(source(param), format!("{param} = {value}")),
        );
    }
}

// ---------- Dovecot ----------

fn dovecot_facts(dovecot: &[DovecotSetting], out: &mut FactSet) {
    for (section, k, v, src) in dovecot {
        let text = if section.is_empty() { format!("{k} = {v}") } else { format!("{section} {{ {k} = {v} }}") };
        out.push(
            Fact::new("dovecot_setting")
                .with("name", k.as_str())
                .with("value", v.as_str())
                .with("section", section.as_str())
                .evidence(src.as_str(), text),
        );
    }
}

// ---------- Courier / maildrop ----------

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
            let default = crate::kb::reference::postfix_defaults().get(param).map(String::as_str);
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
            if let Some(sock) = crate::parse::postconf::unix_socket_of(&t, &queue) {
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
        for s in crate::parse::postconf::parse_main_cf(text.unwrap_or("")) {
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

pub fn facts(bundle: &Bundle, cfg: Option<&Config>, dovecot: &[DovecotSetting], out: &mut FactSet) {
    master_facts(bundle, out);
    dovecot_facts(dovecot, out);
    courier_facts(bundle, out);
    delivery_facts(bundle, cfg, out);
    instance_facts(bundle, cfg, out);
    lookup_table_facts(cfg, out);
    path_facts(cfg, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::mailconf::{dovecot_log_files, parse_dovecot};

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

    fn conf_bundle(files: &[(&str, &str)]) -> Bundle {
        let obs = files
            .iter()
            .enumerate()
            .map(|(i, (p, t))| Observation {
                id: i as u32,
                source: Source::File { path: p.to_string() },
                at: 0,
                elapsed_ms: 0,
                payload: crate::bundle::Payload::text(*t),
            })
            .collect();
        Bundle::of("mx1", "/", false, obs)
    }

    #[test]
    fn dovecot_log_files_global_and_per_protocol() {
        let b = conf_bundle(&[
            ("/etc/dovecot/dovecot.conf", "protocols = \"imap lmtp\"\n!include conf.d/*.conf\n!include_try local.conf\n"),
            (
                "/etc/dovecot/conf.d/10-logging.conf",
                "##\n## Log destination.\n##\n\n# Log file to use for error messages. \"syslog\" logs to syslog,\n# /dev/stderr logs to stderr.\nlog_path = /var/log/dovecot.log\n# Log file to use for informational messages. Defaults to log_path.\n#info_log_path =\ninfo_log_path = /var/log/dovecot-info.log\ndebug_log_path = /dev/stderr\n",
            ),
            (
                "/etc/dovecot/conf.d/15-lda.conf",
                "protocol lda {\n  # Space separated list of plugins to load (default is global mail_plugins).\n  mail_plugins = $mail_plugins quota\n  log_path = /var/log/dovecot-lda.log\n  info_log_path = /var/log/dovecot-lda.log\n}\n",
            ),
            ("/etc/dovecot/conf.d/20-lmtp.conf", "protocol lmtp {\n  log_path = syslog\n  postmaster_address = postmaster@mx1.lab.example\n}\nservice lmtp {\n  log_path = /var/log/not-a-setting-here.log\n}\n"),
            // local.conf is read last: it sends info back to log_path.
            ("/etc/dovecot/local.conf", "info_log_path =\n"),
        ]);
        let files = dovecot_log_files(&crate::facts::dovecot_from(&b.observations));
        assert_eq!(
            files,
            [
                ("/var/log/dovecot.log".to_string(), "dovecot log_path".to_string()),
                ("/var/log/dovecot-lda.log".to_string(), "dovecot protocol lda log_path".to_string()),
            ]
        );
        // doveconf -n, when it was run, is the truth (Debian's real output names log_path).
        let d = dovecot_log_files(&parse_dovecot(DOVECONF).into_iter().map(|(a, b, c)| (a, b, c, String::new())).collect::<Vec<_>>());
        assert_eq!(d, [("/var/log/dovecot.log".to_string(), "dovecot log_path".to_string())]);
    }

    #[test]
    fn lookup_tables_in_maps_and_restrictions() {
        let text = "alias_maps = hash:/etc/aliases, nis:mail.aliases\nalias_database = hash:/etc/aliases\ntransport_maps = lmdb:/etc/postfix/transport\nsmtpd_recipient_restrictions = permit_mynetworks, check_recipient_access hash:/etc/postfix/access, reject_unauth_destination\nvirtual_alias_maps = regexp:/etc/postfix/virtual.re\n";
        let explicit = crate::parse::postconf::parse_main_cf(text).into_iter().map(|s| (s.name.clone(), s)).collect();
        let cfg = Config { explicit, ..Config::default() };
        let t = lookup_tables(&cfg);
        let paths: Vec<(&str, &str)> = t.iter().map(|(_, ty, _, db)| (ty.as_str(), db.as_str())).collect();
        assert_eq!(paths, [("hash", "/etc/aliases.db"), ("lmdb", "/etc/postfix/transport.lmdb"), ("hash", "/etc/postfix/access.db")]);
    }

    fn cfg(text: &str) -> Config {
        let explicit = crate::parse::postconf::parse_main_cf(text).into_iter().map(|s| (s.name.clone(), s)).collect();
        Config { explicit, ..Config::default() }
    }

    #[test]
    fn domains_by_address_class_skip_tables_and_files() {
        let c = cfg("myhostname = mx1.example.org\nmydestination = $myhostname, localhost, Example.ORG.\nvirtual_mailbox_domains = hash:/etc/postfix/vdomains, shop.example\nrelay_domains = /etc/postfix/relay_domains example.net\n");
        let d: Vec<String> = mail_domains(&c).into_iter().map(|(p, cl, d)| format!("{p}/{cl}/{d}")).collect();
        assert_eq!(
            d,
            [
                "mydestination/local/mx1.example.org",
                "mydestination/local/localhost",
                "mydestination/local/example.org",
                "virtual_mailbox_domains/virtual_mailbox/shop.example",
                "relay_domains/relay/example.net",
            ]
        );
    }

    #[test]
    fn tls_files_and_the_dovecot_socket() {
        let c = cfg("queue_directory = /var/spool/postfix\nsmtpd_tls_chain_files = /etc/ssl/mx.key, /etc/ssl/mx.pem\nsmtpd_tls_cert_file = /etc/ssl/mx.pem\nsmtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/auth\n");
        let p: Vec<String> = config_paths(&c).into_iter().map(|(p, r, x)| format!("{p}/{r}/{x}")).collect();
        assert_eq!(
            p,
            [
                "smtpd_tls_cert_file/tls_cert//etc/ssl/mx.pem",
                "smtpd_tls_chain_files/tls_chain//etc/ssl/mx.key",
                "smtpd_sasl_path/sasl_socket//var/spool/postfix/private/auth",
            ]
        );
        assert!(config_paths(&cfg("smtpd_sasl_type = dovecot\nsmtpd_sasl_path = inet:10.0.0.5:12345\n")).is_empty());
        assert!(config_paths(&cfg("smtpd_sasl_path = private/auth\n")).is_empty(), "cyrus: no socket of ours");
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
