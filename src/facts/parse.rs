//! From a bundle of observations to the fact set: the combination step (insights-core's
//! "combiners"): stat data + the inspected system's passwd/group → `path_stat` with owner
//! names; config text → `postconf`; logs + the signature catalogue → `log_signature`,
//! `delivery_summary`. Pure: reads the bundle only.

use super::{logs, postconf, Fact, FactSet};
use crate::kb::Knowledge;
use crate::observe::{fs, Bundle, Payload, Source};
use crate::text::mode_string;
use std::collections::HashMap;

/// Every fact the bundle supports.
pub fn facts_from(bundle: &Bundle, k: &Knowledge) -> FactSet {
    facts_in_window(bundle, k, &super::time::WindowSpec::default())
}

/// [`facts_from`], with the log time window the user asked for.
pub fn facts_in_window(bundle: &Bundle, k: &Knowledge, window: &super::time::WindowSpec) -> FactSet {
    let mut out = FactSet::new();
    let users = id_names(bundle, "/etc/passwd");
    let groups = id_names(bundle, "/etc/group");
    stat_facts(bundle, &users, &groups, &mut out);
    postconf::facts(&bundle.observations, &mut out);
    logs::facts_in_window(bundle, k, window, &mut out);
    super::logvalues::facts_in_window(bundle, k, window, &mut out);
    super::mailconf::facts(bundle, &mut out);
    super::queue::facts(bundle, &mut out);
    super::host::facts(bundle, &mut out);
    super::services::facts(bundle, &mut out);
    super::net::facts(bundle, &mut out);
    super::firewall::facts(bundle, &mut out);
    super::dns::facts(bundle, &mut out);
    out
}

/// `name:x:id:...` files → id → name (first name wins, as `ls` does).
fn id_names(bundle: &Bundle, path: &str) -> HashMap<u32, String> {
    let mut m = HashMap::new();
    if let Some(text) = bundle.file(path).and_then(|o| o.text()) {
        for line in text.lines() {
            let mut parts = line.split(':');
            let (Some(name), Some(_), Some(id)) = (parts.next(), parts.next(), parts.next()) else { continue };
            if let Ok(id) = id.trim().parse::<u32>() {
                m.entry(id).or_insert_with(|| name.to_string());
            }
        }
    }
    m
}

fn is_software_path(path: &str) -> Option<&'static str> {
    fs::SOFTWARE.iter().find(|(_, p)| *p == path).map(|(n, _)| *n)
}

fn stat_facts(bundle: &Bundle, users: &HashMap<u32, String>, groups: &HashMap<u32, String>, out: &mut FactSet) {
    for o in &bundle.observations {
        let Source::Stat { path } = &o.source else { continue };
        if let Some(name) = is_software_path(path) {
            if matches!(o.payload, Payload::Stat(_))
                && !out.of_kind("software").any(|f| f.get("name").and_then(|v| v.as_str()) == Some(name))
            {
                out.push(
                    Fact::new("software")
                        .with("name", name)
                        .with("path", path.as_str())
                        .evidence(o.source.label(), format!("{path} exists"))
                        .from_observation(o.id),
                );
            }
            continue;
        }
        match &o.payload {
            Payload::Stat(st) => {
                let owner = users.get(&st.uid).cloned().unwrap_or_else(|| st.uid.to_string());
                let group = groups.get(&st.gid).cloned().unwrap_or_else(|| st.gid.to_string());
                let line = format!("{} {:04o} {owner}:{group} {path}", mode_string(&st.kind, st.mode), st.mode);
                let mut f = Fact::new("path_stat")
                    .with("path", path.as_str())
                    .with("kind", st.kind.as_str())
                    .with("mode", st.mode)
                    .with("uid", st.uid)
                    .with("gid", st.gid)
                    .with("owner", owner)
                    .with("group", group)
                    .with("size", st.size)
                    .with("mtime", st.mtime)
                    .evidence(o.source.label(), line)
                    .from_observation(o.id);
                if let Some(t) = &st.target {
                    f.set("target", t.as_str());
                }
                out.push(f);
            }
            Payload::Absent => {
                out.push(
                    Fact::new("path_absent")
                        .with("path", path.as_str())
                        .evidence(o.source.label(), format!("{path}: no such file or directory"))
                        .from_observation(o.id),
                );
            }
            Payload::Failed { .. } => out.unavailable("path_stat", o.source.label(), o.problem().unwrap_or_default()),
            _ => {}
        }
    }
}
