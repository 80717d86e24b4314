//! Which observations hold the configuration texts the grammars read: Postfix's (`postconf
//! -n`, else main.cf; `postconf -d` for the compiled-in defaults) and Dovecot's (`doveconf
//! -n`, else its files in include order). Selection only; the parsing is in `parse/`.

use super::{Observation, Payload, Source};

/// Postfix's explicit settings: `postconf -n` when it ran, else `/etc/postfix/main.cf`, as
/// (text, origin, observation id). `None` when neither was read.
pub fn postfix_config(observations: &[Observation]) -> Option<(&str, &'static str, u32)> {
    let postconf = observations.iter().find(|o| matches!(&o.source, Source::Command { argv } if argv == &["postconf", "-n"]));
    let main_cf = observations.iter().find(|o| matches!(&o.source, Source::File { path } if path == "/etc/postfix/main.cf"));
    for (obs, origin) in [(postconf, "postconf -n"), (main_cf, "/etc/postfix/main.cf")] {
        if let Some(o) = obs {
            if let Payload::Text { text, .. } = &o.payload {
                return Some((text.as_str(), origin, o.id));
            }
        }
    }
    None
}

/// `postconf -d` output (the compiled-in defaults), when it ran.
pub fn postfix_defaults(observations: &[Observation]) -> Option<&str> {
    observations
        .iter()
        .find(|o| matches!(&o.source, Source::Command { argv } if argv.len() > 1 && argv[0] == "postconf" && argv[1] == "-d"))
        .and_then(|o| o.text())
}

/// Dovecot's configuration texts in the order Dovecot reads them, as (text, where it was
/// read): `doveconf -n` when it was run, otherwise dovecot.conf, conf.d/*.conf and
/// local.conf.
pub fn dovecot_sources(observations: &[Observation]) -> Vec<(&str, String)> {
    let read = |o: &&Observation| o.text().is_some();
    let file = |p: &str| observations.iter().filter(read).find(|o| matches!(&o.source, Source::File { path } if path == p));
    let doveconf = observations
        .iter()
        .filter(read)
        .find(|o| matches!(&o.source, Source::Command { argv } if argv.first().is_some_and(|a| a == "doveconf")));
    let mut sources: Vec<&Observation> = Vec::new();
    match doveconf {
        Some(o) => sources.push(o),
        None => {
            sources.extend(file("/etc/dovecot/dovecot.conf"));
            sources.extend(observations.iter().filter(read).filter(
                |o| matches!(&o.source, Source::File { path } if path.starts_with("/etc/dovecot/conf.d/") && path.ends_with(".conf")),
            ));
            sources.extend(file("/etc/dovecot/local.conf"));
        }
    }
    sources.into_iter().map(|o| (o.text().unwrap_or(""), o.source.label())).collect()
}
