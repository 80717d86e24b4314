//! The declaration of every fact kind that parsers produce: its fields and its producer.
//! Kinds concluded by rules are declared by those rules (`derive:`); together these are
//! the vocabulary `rules lint` checks rule conditions against ("rule X reads
//! `postconf.relay_host`, which nothing produces — did you mean `relayhost`?").

/// One declared field: name, type, meaning.
pub type FieldSpec = (&'static str, &'static str, &'static str);

pub struct KindSpec {
    pub name: &'static str,
    pub producer: &'static str,
    pub doc: &'static str,
    pub fields: &'static [FieldSpec],
}

impl KindSpec {
    pub fn has_field(&self, f: &str) -> bool {
        self.fields.iter().any(|(n, _, _)| *n == f)
    }
}

pub const BASE_KINDS: &[KindSpec] = &[
    KindSpec {
        name: "path_stat",
        producer: "parser: stat (observe::fs) + passwd/group",
        doc: "lstat of a directory or file mail passes through",
        fields: &[
            ("path", "string", "path on the inspected system"),
            ("kind", "string", "dir, file, symlink, socket, fifo, char, block"),
            ("mode", "integer", "permission bits incl. setuid/setgid/sticky, e.g. 0o1777"),
            ("uid", "integer", "owner uid"),
            ("gid", "integer", "group gid"),
            ("owner", "string", "owner name from the inspected system's /etc/passwd (or the uid)"),
            ("group", "string", "group name from /etc/group (or the gid)"),
            ("size", "integer", "size in bytes"),
            ("mtime", "integer", "modification time, seconds since the epoch"),
            ("target", "string", "symlink target as written (symlinks only)"),
            ("target_path", "string", "the target as an absolute, normalised path (symlinks only)"),
            ("target_exists", "bool", "whether the chain of links ends at something that exists (only when it was followed: TLS files)"),
        ],
    },
    KindSpec {
        name: "path_absent",
        producer: "parser: stat (observe::fs)",
        doc: "a path mailsleuth looked for does not exist",
        fields: &[("path", "string", "path on the inspected system")],
    },
    KindSpec {
        name: "software",
        producer: "parser: stat of well-known binaries and config files",
        doc: "mail software installed on the host",
        fields: &[
            ("name", "string", "postfix, dovecot, dovecot-lda, maildrop, procmail, courier, exim, sendmail"),
            ("path", "string", "the path that proved it"),
        ],
    },
    KindSpec {
        name: "postconf",
        producer: "parser: `postconf -n` or /etc/postfix/main.cf, plus defaults",
        doc: "one Postfix parameter's effective value",
        fields: &[
            ("name", "string", "parameter name, e.g. relayhost"),
            ("value", "string", "value with $name expansion done"),
            ("is_default", "bool", "true when not set explicitly"),
            ("number", "integer", "the value as an integer, when it is one (sizes, limits)"),
        ],
    },
    KindSpec {
        name: "relayhost",
        producer: "parser: postconf relayhost",
        doc: "the relay all non-local mail goes through, when one is set",
        fields: &[
            ("value", "string", "relayhost as configured"),
            ("host", "string", "host name or address, without brackets and port"),
            ("port", "integer", "port (25 when not given)"),
            ("mx_lookup", "bool", "false for [bracketed] names: Postfix uses the A record only"),
        ],
    },
    KindSpec {
        name: "log_file",
        producer: "parser: mail logs",
        doc: "a mail log that was read",
        fields: &[
            ("path", "string", "log path"),
            ("lines", "integer", "lines read"),
            ("skipped_lines", "integer", "garbage lines skipped (NUL bytes, invalid UTF-8, over-long)"),
            ("matched_lines", "integer", "lines that matched a signature"),
        ],
    },
    KindSpec {
        name: "log_source",
        producer: "parser: mail log observations (the reason recorded by the log collector)",
        doc: "a mail log that was read or could not be read, and why it was looked at",
        fields: &[
            ("path", "string", "log path, or journalctl"),
            (
                "reason",
                "string",
                "why it was read: default, postfix maillog_file, dovecot log_path, dovecot protocol lda log_path, rsyslog mail.* destination (file:line), fallback: ...; `not recorded` in bundles of older versions",
            ),
            ("status", "string", "read, empty, failed"),
            ("problem", "string", "why it could not be read (status failed)"),
        ],
    },
    KindSpec {
        name: "log_signature",
        producer: "parser: mail logs + knowledge/signatures",
        doc: "a known log signature seen in the logs, aggregated",
        fields: &[
            ("id", "string", "signature id, e.g. maildrop.tmpfile"),
            ("program", "string", "program of the last matching line, e.g. postfix/local"),
            ("category", "string", "category from the signature catalogue"),
            ("severity", "string", "info, warning, error, fatal, panic"),
            ("count", "integer", "matching lines"),
            ("messages", "integer", "distinct Postfix queue ids among the matching lines"),
            ("min_size", "integer", "smallest size= of those messages (when known)"),
            ("max_size", "integer", "largest size= of those messages (when known)"),
            ("first_seen", "string", "timestamp of the first matching line"),
            ("last_seen", "string", "timestamp of the last matching line"),
            ("first_at", "integer", "first matching line, seconds since the epoch on the log's clock"),
            ("last_at", "integer", "last matching line, seconds since the epoch on the log's clock"),
            ("trend", "string", "second half of the window against the first: rising, falling, steady, stopped, sparse (under 4 lines), none (under an hour of log)"),
        ],
    },
    KindSpec {
        name: "delivery_summary",
        producer: "parser: mail logs (Postfix queue-id correlation)",
        doc: "messages by their last delivery status in the logs",
        fields: &[
            ("status", "string", "sent, deferred, bounced, expired"),
            ("lines", "integer", "status= lines with this status"),
            ("smtp_lines", "integer", "of those, the lines of the SMTP client (remote deliveries)"),
            ("messages", "integer", "distinct messages whose last status is this"),
            ("min_size", "integer", "smallest size= among those messages (when known)"),
            ("max_size", "integer", "largest size= among those messages (when known)"),
            ("trend", "string", "status= lines, second half of the window against the first: rising, falling, steady, stopped, sparse, none (under an hour of log)"),
        ],
    },
    KindSpec {
        name: "log_destination",
        producer: "parser: mail logs (Postfix status= lines)",
        doc: "a recipient domain with deferred or bounced deliveries, the 20 worst",
        fields: &[
            ("domain", "string", "recipient domain (lowercase)"),
            ("rank", "integer", "1 = most deferred + bounced lines"),
            ("deferred", "integer", "status=deferred lines"),
            ("bounced", "integer", "status=bounced lines"),
            ("top_signature", "string", "the signature of most of those lines, or (no signature)"),
            ("top_signature_lines", "integer", "lines of that signature"),
        ],
    },
    KindSpec {
        name: "delivery_failure",
        producer: "parser: mail logs (status=deferred/bounced/expired lines and rejects, by reason)",
        doc: "one reason mail failed for in the window: the signature that knows the failure line, or the line's structure (agent, DSN, errno) when none does; every failed message counts once, under its last failure",
        fields: &[
            ("status", "string", "deferred, bounced, expired (the most common final status of these messages), or reject"),
            ("signature", "string", "the signature id of the failure line; empty when no signature (but the catch-all) knows it"),
            ("category", "string", "the signature's category, or the one read from the DSN code and errno"),
            ("agent", "string", "the program that logged it: smtp, lmtp, local, virtual, pipe, smtpd, cleanup, …"),
            ("relay", "string", "relay= of the status line (local, virtual, host[ip]:port, none, a transport)"),
            ("dsn", "string", "the RFC 3463 code, e.g. 4.3.0"),
            ("shape", "string", "connect, remote-reply, command, conversation, dns, local, other"),
            ("errno", "string", "the system error the reason names (Permission denied, Connection refused, …)"),
            ("path", "string", "the absolute path the reason names"),
            ("host", "string", "the host a connection or reply names"),
            ("ip", "string", "its address"),
            ("port", "integer", "its port"),
            ("command", "string", "the SMTP command a remote reply answered"),
            ("reason", "string", "the reason text of the first such line"),
            ("template", "string", "the reason with ids, numbers, addresses and hosts masked (no signature only)"),
            ("messages", "integer", "failed messages (deferred + bounced + expired) with this reason"),
            ("deferred", "integer", "messages still deferred"),
            ("bounced", "integer", "messages bounced"),
            ("expired", "integer", "messages expired after deferrals for this reason"),
            ("rejects", "integer", "reject lines with this reason"),
            ("lines", "integer", "failure lines with this reason (one per recipient and attempt)"),
        ],
    },
];

/// Every kind produced by a parser: this file's, plus each parser module's own `KINDS`.
pub fn base_kinds() -> impl Iterator<Item = &'static KindSpec> {
    BASE_KINDS
        .iter()
        .chain(super::mailconf::KINDS)
        .chain(super::endpoints::KINDS)
        .chain(super::queue::KINDS)
        .chain(super::host::KINDS)
        .chain(super::services::KINDS)
        .chain(super::net::KINDS)
        .chain(super::firewall::KINDS)
        .chain(super::dns::KINDS)
        .chain(super::samples::KINDS)
        .chain(super::logvalues::KINDS)
}

pub fn base_kind(name: &str) -> Option<&'static KindSpec> {
    base_kinds().find(|k| k.name == name)
}
