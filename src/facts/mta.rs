//! Which MTA runs the host: `mta` facts, from the `software` facts (what is installed) or,
//! when nothing is installed under the root (a log read alone), from the programs of the log
//! lines that matched a signature. Postfix and Courier are diagnosed, and their facts carry
//! the commands fixes need (`{mta.flush|words}`: `postqueue -f` on Postfix, `courier flush`
//! on Courier), so one rule gives the right fix on either. Exim, Sendmail and OpenSMTPD are
//! recognised and said to be not diagnosed. Pure: reads facts already produced.

use crate::model::{Fact, FactSet, FieldType, KindSpec, Value};

pub const KINDS: &[KindSpec] = &[KindSpec {
    name: "mta",
    producer: "combiner: software (installed MTA) or, with nothing installed, the programs of the log lines",
    doc: "the MTA of the host: postfix, courier (diagnosed), exim, sendmail, opensmtpd (recognised, not diagnosed)",
    fields: &[
        ("name", FieldType::String, "postfix, courier, exim, sendmail, opensmtpd"),
        ("label", FieldType::String, "how the report names it: Postfix, Courier MTA, Exim, Sendmail, OpenSMTPD"),
        ("diagnosed", FieldType::Bool, "whether mailsleuth's rules know this MTA (Postfix, Courier)"),
        ("via", FieldType::String, "installed (a software fact) or log (the log's programs)"),
        ("flush", FieldType::String, "retry every queued message now (a command; render it with `|words`)"),
        ("show_queue", FieldType::String, "list the queue (a command; `|words`)"),
        ("restart", FieldType::String, "restart the MTA so it rereads its configuration (a command; `|words`)"),
        ("queue_shape", FieldType::String, "the deferred queue by destination and age (Postfix's qshape; none on Courier)"),
    ],
}];

/// name, label, diagnosed, flush, show_queue, restart, queue_shape. Constants of ours, never host text:
/// that is what lets a rule render them with `|words` (each word quoted alone).
const MTAS: &[(&str, &str, bool, &str, &str, &str, &str)] = &[
    ("postfix", "Postfix", true, "postqueue -f", "postqueue -p", "postfix reload", "qshape deferred"),
    ("courier", "Courier MTA", true, "courier flush", "mailq", "courier restart", ""),
    ("exim", "Exim", false, "", "", "", ""),
    ("opensmtpd", "OpenSMTPD", false, "", "", "", ""),
    // Postfix, Courier and Exim all install a /usr/sbin/sendmail: Sendmail only when no
    // other MTA is there (see `detect`).
    ("sendmail", "Sendmail", false, "", "", "", ""),
];

/// The MTAs of the host, best known first.
pub fn detect(facts: &FactSet) -> Vec<(&'static str, &'static str)> {
    let installed: Vec<&str> = facts.of_kind("software").filter_map(|f| f.get("name").and_then(Value::as_str)).collect();
    let mut found: Vec<(&str, &str)> = Vec::new();
    for (name, ..) in MTAS {
        if installed.contains(name) && (*name != "sendmail" || found.is_empty()) {
            found.push((name, "installed"));
        }
    }
    if found.is_empty() && installed.is_empty() {
        // Nothing observed on the host (a log alone): the programs that wrote the log.
        let programs = |prefix: &str| {
            facts.of_kind("log_signature").any(|f| f.get("id").and_then(Value::as_str).is_some_and(|id| id.starts_with(prefix)))
        };
        if programs("postfix.") {
            found.push(("postfix", "log"));
        }
        if programs("courier.") {
            found.push(("courier", "log"));
        }
    }
    found
}

pub fn facts(out: &mut FactSet) {
    for (name, via) in detect(out) {
        let Some(&(_, label, diagnosed, flush, show, restart, shape)) = MTAS.iter().find(|m| m.0 == name) else { continue };
        let mut f = Fact::new("mta").with("name", name).with("label", label).with("diagnosed", diagnosed).with("via", via);
        for (k, v) in [("flush", flush), ("show_queue", show), ("restart", restart), ("queue_shape", shape)] {
            if !v.is_empty() {
                f.set(k, v);
            }
        }
        let why = if via == "installed" { format!("{label} is installed") } else { format!("the mail log was written by {label}") };
        out.push(f.evidence("mailsleuth", why));
    }
}

/// Whether an MTA other than Postfix was found and Postfix was not: then what could not be
/// observed about Postfix (main.cf, master.cf, its queue) is not "not checked", it is not
/// there, and the report leaves it out.
pub fn postfix_absent(facts: &FactSet) -> bool {
    let names: Vec<&str> = facts.of_kind("mta").filter_map(|f| f.get("name").and_then(Value::as_str)).collect();
    !names.is_empty() && !names.contains(&"postfix")
}

/// Whether an unavailability record is about Postfix alone (its configuration, master.cf,
/// its queue and the queue's file system).
pub fn is_postfix_only(kind: &str, what: &str) -> bool {
    matches!(kind, "postconf" | "master_service")
        || what.contains("Postfix")
        || what.contains("/var/spool/postfix")
        || what.contains("postqueue")
        || what.contains("postconf")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn software(names: &[&str]) -> FactSet {
        let mut f = FactSet::new();
        for n in names {
            f.push(Fact::new("software").with("name", *n));
        }
        f
    }

    #[test]
    fn a_courier_host_is_courier_even_with_its_sendmail_and_maildrop() {
        let mut f = software(&["courier", "maildrop", "sendmail"]);
        facts(&mut f);
        let m: Vec<_> = f.of_kind("mta").collect();
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].get("name").and_then(Value::as_str), Some("courier"));
        assert_eq!(m[0].get("flush").and_then(Value::as_str), Some("courier flush"));
        assert!(postfix_absent(&f));
    }

    #[test]
    fn sendmail_alone_is_sendmail_and_not_diagnosed() {
        let mut f = software(&["sendmail"]);
        facts(&mut f);
        let m: Vec<_> = f.of_kind("mta").collect();
        assert_eq!(m[0].get("name").and_then(Value::as_str), Some("sendmail"));
        assert_eq!(m[0].get("diagnosed"), Some(&Value::Bool(false)));
        assert_eq!(m[0].get("flush"), None);
    }

    #[test]
    fn nothing_installed_and_no_log_is_no_mta_and_postfix_is_not_called_absent() {
        let mut f = software(&[]);
        facts(&mut f);
        assert_eq!(f.of_kind("mta").count(), 0);
        assert!(!postfix_absent(&f));
    }

    #[test]
    fn a_log_alone_names_its_mta() {
        let mut f = FactSet::new();
        f.push(Fact::new("log_signature").with("id", "courier.local_deferred"));
        facts(&mut f);
        assert_eq!(f.of_kind("mta").next().and_then(|m| m.get("via")).and_then(Value::as_str), Some("log"));
    }
}
