//! The declaration of every fact kind that parsers produce: its fields and its producer.
//! Kinds concluded by rules are declared by those rules (`derive:`); together these are
//! the vocabulary `rules lint` checks rule conditions against ("rule X reads
//! `postconf.relay_host`, which nothing produces — did you mean `relayhost`?").

use crate::model::{FieldType, KindSpec};

pub const BASE_KINDS: &[KindSpec] = &[
    KindSpec {
        name: "path_stat",
        producer: "parser: stat (observe::fs) + passwd/group",
        doc: "lstat of a directory or file mail passes through",
        fields: &[
            ("path", FieldType::String, "path on the inspected system"),
            ("kind", FieldType::String, "dir, file, symlink, socket, fifo, char, block"),
            ("mode", FieldType::Integer, "permission bits incl. setuid/setgid/sticky, e.g. 0o1777"),
            ("uid", FieldType::Integer, "owner uid"),
            ("gid", FieldType::Integer, "group gid"),
            ("owner", FieldType::String, "owner name from the inspected system's /etc/passwd (or the uid)"),
            ("group", FieldType::String, "group name from /etc/group (or the gid)"),
            ("size", FieldType::Integer, "size in bytes"),
            ("mtime", FieldType::Integer, "modification time, seconds since the epoch"),
            ("target", FieldType::String, "symlink target as written (symlinks only)"),
            ("target_path", FieldType::String, "the target as an absolute, normalised path (symlinks only)"),
            ("target_exists", FieldType::Bool, "whether the chain of links ends at something that exists (only when it was followed: TLS files)"),
        ],
    },
    KindSpec {
        name: "path_absent",
        producer: "parser: stat (observe::fs)",
        doc: "a path mailsleuth looked for does not exist",
        fields: &[("path", FieldType::String, "path on the inspected system")],
    },
    KindSpec {
        name: "software",
        producer: "parser: stat of well-known binaries and config files",
        doc: "mail software installed on the host",
        fields: &[
            ("name", FieldType::String, "postfix, dovecot, dovecot-lda, maildrop, procmail, courier, exim, sendmail"),
            ("path", FieldType::String, "the path that proved it"),
        ],
    },
    KindSpec {
        name: "postconf",
        producer: "parser: `postconf -n` or /etc/postfix/main.cf, plus defaults",
        doc: "one Postfix parameter's effective value",
        fields: &[
            ("name", FieldType::String, "parameter name, e.g. relayhost"),
            ("value", FieldType::String, "value with $name expansion done"),
            ("is_default", FieldType::Bool, "true when not set explicitly"),
            ("number", FieldType::Integer, "the value as an integer, when it is one (sizes, limits)"),
        ],
    },
    KindSpec {
        name: "relayhost",
        producer: "parser: postconf relayhost",
        doc: "the relay all non-local mail goes through, when one is set",
        fields: &[
            ("value", FieldType::String, "relayhost as configured"),
            ("host", FieldType::String, "host name or address, without brackets and port"),
            ("port", FieldType::Integer, "port (25 when not given)"),
            ("mx_lookup", FieldType::Bool, "false for [bracketed] names: Postfix uses the A record only"),
        ],
    },
    KindSpec {
        name: "log_file",
        producer: "parser: mail logs",
        doc: "a mail log that was read",
        fields: &[
            ("path", FieldType::String, "log path"),
            ("lines", FieldType::Integer, "lines read"),
            ("skipped_lines", FieldType::Integer, "garbage lines skipped (NUL bytes, invalid UTF-8, over-long)"),
            ("matched_lines", FieldType::Integer, "lines that matched a signature"),
        ],
    },
    KindSpec {
        name: "log_source",
        producer: "parser: mail log observations (the reason recorded by the log collector)",
        doc: "a mail log that was read or could not be read, and why it was looked at",
        fields: &[
            ("path", FieldType::String, "log path, or journalctl"),
            (
                "reason",
                FieldType::String,
                "why it was read: default, postfix maillog_file, dovecot log_path, dovecot protocol lda log_path, rsyslog mail.* destination (file:line), fallback: ...; `not recorded` in bundles of older versions",
            ),
            ("status", FieldType::String, "read, empty, failed"),
            ("problem", FieldType::String, "why it could not be read (status failed)"),
        ],
    },
    KindSpec {
        name: "log_signature",
        producer: "parser: mail logs + knowledge/signatures",
        doc: "a known log signature seen in the logs, aggregated",
        fields: &[
            ("id", FieldType::String, "signature id, e.g. maildrop.tmpfile"),
            ("program", FieldType::String, "program of the last matching line, e.g. postfix/local"),
            ("category", FieldType::String, "category from the signature catalogue"),
            ("severity", FieldType::String, "info, warning, error, fatal, panic"),
            ("count", FieldType::Integer, "matching lines"),
            ("messages", FieldType::Integer, "distinct Postfix queue ids among the matching lines"),
            ("min_size", FieldType::Integer, "smallest size= of those messages (when known)"),
            ("max_size", FieldType::Integer, "largest size= of those messages (when known)"),
            ("first_seen", FieldType::String, "timestamp of the first matching line"),
            ("last_seen", FieldType::String, "timestamp of the last matching line"),
            ("first_at", FieldType::Integer, "first matching line, seconds since the epoch on the log's clock"),
            ("last_at", FieldType::Integer, "last matching line, seconds since the epoch on the log's clock"),
            ("trend", FieldType::String, "second half of the window against the first: rising, falling, steady, stopped, sparse (under 4 lines), none (under an hour of log)"),
        ],
    },
    KindSpec {
        name: "delivery_summary",
        producer: "parser: mail logs (Postfix queue-id correlation)",
        doc: "messages by their last delivery status in the logs",
        fields: &[
            ("status", FieldType::String, "sent, deferred, bounced, expired"),
            ("lines", FieldType::Integer, "status= lines with this status"),
            ("messages", FieldType::Integer, "distinct messages whose last status is this"),
            ("min_size", FieldType::Integer, "smallest size= among those messages (when known)"),
            ("max_size", FieldType::Integer, "largest size= among those messages (when known)"),
            ("trend", FieldType::String, "status= lines, second half of the window against the first: rising, falling, steady, stopped, sparse, none (under an hour of log)"),
        ],
    },
    KindSpec {
        name: "log_destination",
        producer: "parser: mail logs (Postfix status= lines)",
        doc: "a recipient domain with deferred or bounced deliveries, the 20 worst",
        fields: &[
            ("domain", FieldType::String, "recipient domain (lowercase)"),
            ("rank", FieldType::Integer, "1 = most deferred + bounced lines"),
            ("deferred", FieldType::Integer, "status=deferred lines"),
            ("bounced", FieldType::Integer, "status=bounced lines"),
            ("top_signature", FieldType::String, "the signature of most of those lines, or (no signature)"),
            ("top_signature_lines", FieldType::Integer, "lines of that signature"),
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
