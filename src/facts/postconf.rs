//! `postconf` and `relayhost` facts: Postfix's effective parameters (`postconf -n` or
//! main.cf, plus the defaults), one fact a parameter.

use crate::bundle::{Observation, Payload, Source};
use crate::kb::reference::postfix_defaults as defaults;
use crate::model::{Fact, FactSet, FieldType, KindSpec};
use crate::parse::postconf::{split_relayhost, Config};

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
pub fn facts(observations: &[Observation], cfg: Option<&Config>, out: &mut FactSet) {
    let Some(cfg) = cfg else {
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
        let value = match cfg.expansion(name) {
            Some(Ok(v)) => v,
            Some(Err(why)) => {
                // No fact: a rule reading this parameter is skipped, not passed on a guess.
                out.unavailable("postconf", format!("the value of {name} ({}:{})", cfg.origin, s.line), why);
                continue;
            }
            None => String::new(),
        };
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
    if let Some((host, port, mx)) = cfg.expansion("relayhost").and_then(Result::ok).as_deref().and_then(split_relayhost) {
        let mut f = Fact::new("relayhost")
            .with("value", cfg.value("relayhost").unwrap_or_default())
            .with("host", host.as_str())
            .with("mx_lookup", mx)
            .evidence(cfg.origin.clone(), format!("relayhost = {}", cfg.value("relayhost").unwrap_or_default()));
        // Without a port Postfix connects to the smtp service, 25.
        f.set("port", i64::from(port.unwrap_or(25)));
        out.push(f);
    }
    // A main.cf over the read cap was kept from its tail: a parameter not seen in the part
    // read may well be set in the part dropped, so "default" would be a guess.
    let cut = observations.iter().find(|o| Some(o.id) == cfg.observation).and_then(|o| match &o.payload {
        Payload::Text { skipped_bytes, text, .. } if *skipped_bytes > 0 => Some((*skipped_bytes, text.len())),
        _ => None,
    });
    for name in defaults().keys() {
        if cfg.explicit.contains_key(name) {
            continue;
        }
        if let Some((skipped, kept)) = cut {
            let why = format!("{} read only in its last {kept} bytes ({skipped} bytes before them not read)", cfg.origin);
            out.unavailable("postconf", format!("the value of {name} (not in the part read)"), why);
            continue;
        }
        let value = match cfg.expansion(name) {
            Some(Ok(v)) => v,
            Some(Err(why)) => {
                out.unavailable("postconf", format!("the value of {name} (default)"), why);
                continue;
            }
            None => String::new(),
        };
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
#[test]
fn an_expansion_bomb_is_bounded_and_reported() {
    let bomb = format!("mydomain = {}\nmyhostname = mx.$mydomain\n", "$mydomain".repeat(8));
    let mut fan = String::from("p0 = x\n");
    for i in 1..=11 {
        fan.push_str(&format!("p{i} = {}\n", format!("$p{} ", i - 1).repeat(10)));
    }
    fan.push_str("relayhost = $p11\n");
    for text in [bomb, fan] {
        let obs = Observation {
            id: 0,
            source: Source::File { path: "/etc/postfix/main.cf".into() },
            at: 0,
            elapsed_ms: 0,
            payload: Payload::text(text),
        };
        let start = std::time::Instant::now();
        let mut out = FactSet::new();
        facts(std::slice::from_ref(&obs), crate::facts::config_from(std::slice::from_ref(&obs)).as_ref(), &mut out);
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?}", start.elapsed());
        assert!(out.unavailable_for("postconf").iter().any(|u| u.why.contains("unreasonable macro")), "{:?}", out.unavailable);
        assert!(out
            .of_kind("postconf")
            .all(|f| f.get("value").and_then(|v| v.as_str()).map_or(0, str::len) <= crate::parse::postconf::MAX_EXPANDED_BYTES));
    }
}

#[test]
fn a_main_cf_read_from_its_tail_has_no_default_values() {
    let obs = Observation {
        id: 3,
        source: Source::File { path: "/etc/postfix/main.cf".into() },
        at: 0,
        elapsed_ms: 0,
        payload: Payload::Text {
            text: "relayhost = [smtp.example.net]:587\n".into(),
            first_line: 90_001,
            skipped_bytes: 5 << 20,
            lossy: false,
            exit: None,
        },
    };
    let mut out = FactSet::new();
    facts(std::slice::from_ref(&obs), crate::facts::config_from(std::slice::from_ref(&obs)).as_ref(), &mut out);
    assert!(out.of_kind("postconf").all(|f| f.get("is_default") == Some(&false.into())));
    assert!(
        out.unavailable_for("postconf").iter().any(|u| u.what.contains("queue_directory") && u.why.contains("last")),
        "{:?}",
        out.unavailable
    );
}
