//! `postconf` and `relayhost` facts: Postfix's effective parameters (`postconf -n` or
//! main.cf, plus the defaults), one fact a parameter.

use crate::bundle::{Observation, Source};
use crate::kb::reference::postfix_defaults as defaults;
use crate::model::{Fact, FactSet, FieldType, KindSpec};
use crate::parse::postconf::*;

pub const KINDS: &[KindSpec] = &[
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
];

/// `postconf {name, value, is_default}` facts: every explicit setting, plus the defaults of
/// the parameters mailsleuth reasons about (so a rule can test `relayhost` whether or not
/// main.cf mentions it).
pub fn facts(observations: &[Observation], out: &mut FactSet) {
    let Some(cfg) = config_from(observations) else {
        let tried: Vec<String> = observations
            .iter()
            .filter(|o| match &o.source {
                Source::Command { argv } => argv.first().is_some_and(|a| a == "postconf"),
                Source::File { path } => path == "/etc/postfix/main.cf",
                _ => false,
            })
            .map(|o| format!("{}: {}", o.source.label(), o.problem().unwrap_or_else(|| "unreadable".into())))
            .collect();
        out.unavailable("postconf", "Postfix configuration", tried.join("; "));
        return;
    };
    for (name, s) in &cfg.explicit {
        let value = cfg.value(name).unwrap_or_default();
        let source = if cfg.origin == "postconf -n" { cfg.origin.clone() } else { format!("{}:{}", cfg.origin, s.line) };
        let mut f = Fact::new("postconf")
            .with("name", name.as_str())
            .with("value", value.as_str())
            .with("is_default", false)
            .evidence(source, format!("{name} = {}", s.raw));
        if let Ok(n) = value.trim().parse::<i64>() {
            f.set("number", n);
        }
        if let Some(id) = cfg.observation {
            f = f.from_observation(id);
        }
        out.push(f);
    }
    if let Some((host, port, mx)) = cfg.value("relayhost").as_deref().and_then(split_relayhost) {
        let mut f = Fact::new("relayhost")
            .with("value", cfg.value("relayhost").unwrap_or_default())
            .with("host", host.as_str())
            .with("mx_lookup", mx)
            .evidence(cfg.origin.clone(), format!("relayhost = {}", cfg.value("relayhost").unwrap_or_default()));
        // Without a port Postfix connects to the smtp service, 25.
        f.set("port", i64::from(port.unwrap_or(25)));
        out.push(f);
    }
    for name in defaults().keys() {
        if cfg.explicit.contains_key(name) {
            continue;
        }
        let value = cfg.value(name).unwrap_or_default();
        let mut f = Fact::new("postconf")
            .with("name", name.as_str())
            .with("value", value.as_str())
            .with("is_default", true)
            .evidence("postconf -d", format!("{name} = {value} (default; not set in {})", cfg.origin));
        if let Ok(n) = value.trim().parse::<i64>() {
            f.set("number", n);
        }
        out.push(f);
    }
}
