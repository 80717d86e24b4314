//! The stat producer: stat data with the inspected system's passwd/group → `path_stat` with
//! owner names, `path_absent`, `software`. Pure: reads the bundle only.

use crate::bundle::specs::{SOFTWARE, SOFTWARE_CONFIG};
use crate::parse::path::resolve_link;

use crate::bundle::{Bundle, Payload, Source};
use crate::model::{Fact, FactSet, FieldType, KindSpec};
use crate::text::mode_string;
use std::collections::HashMap;

pub const KINDS: &[KindSpec] = &[
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
            (
                "target_exists",
                FieldType::Bool,
                "whether the chain of links ends at something that exists (only when it was followed: TLS files)",
            ),
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
            ("configured", FieldType::Bool, "postfix, courier: whether the configuration it cannot start without exists (main.cf, /etc/courier); absent when it was not looked at"),
        ],
    },
];

/// `path_stat`, `path_absent` and `software`: stat data with owner and group names from the
/// inspected system's passwd and group.
pub fn stat_producer(ctx: &super::Context<'_>, out: &mut FactSet) {
    stat_facts(ctx.bundle, &ctx.users, &ctx.groups, out);
}

/// `name:x:id:...` files → id → name (first name wins, as `ls` does).
pub(super) fn id_names(bundle: &Bundle, path: &str) -> HashMap<u32, String> {
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
    SOFTWARE.iter().find(|(_, p)| *p == path).map(|(n, _)| *n)
}

/// Whether the chain of symlinks starting at `path` ends at something that exists, when the
/// collector followed it (`None`: the target was not looked at).
fn link_target_exists(stats: &HashMap<&str, &Payload>, path: &str) -> Option<bool> {
    let mut p = path.to_string();
    for _ in 0..8 {
        match stats.get(p.as_str())? {
            Payload::Stat(st) if st.kind == "symlink" => p = resolve_link(&p, st.target.as_deref()?),
            Payload::Stat(_) => return Some(true),
            Payload::Absent => return Some(false),
            _ => return None,
        }
    }
    None
}

fn stat_facts(bundle: &Bundle, users: &HashMap<u32, String>, groups: &HashMap<u32, String>, out: &mut FactSet) {
    let stats: HashMap<&str, &Payload> = bundle
        .observations
        .iter()
        .filter_map(|o| match &o.source {
            Source::Stat { path } => Some((path.as_str(), &o.payload)),
            _ => None,
        })
        .collect();
    for o in &bundle.observations {
        let Source::Stat { path } = &o.source else { continue };
        if let Some(name) = is_software_path(path) {
            if matches!(o.payload, Payload::Stat(_))
                && !out.of_kind("software").any(|f| f.get("name").and_then(|v| v.as_str()) == Some(name))
            {
                let mut f = Fact::new("software")
                    .with("name", name)
                    .with("path", path.as_str())
                    .evidence(o.source.label(), format!("{path} exists"))
                    .from_observation(o.id);
                // Installed but not configured (Debian's "No configuration"): the binary is
                // there, the configuration it cannot start without is not.
                if let Some((_, cfg)) = SOFTWARE_CONFIG.iter().find(|(n, _)| *n == name) {
                    match stats.get(cfg) {
                        Some(Payload::Stat(_)) => f.set("configured", true),
                        Some(Payload::Absent) => {
                            f.set("configured", false);
                            f.evidence.push(crate::model::Evidence::new(format!("stat {cfg}"), format!("{cfg} does not exist")));
                        }
                        _ => {}
                    }
                }
                out.push(f);
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
                    f.set("target_path", resolve_link(path, t));
                    if let Some(e) = link_target_exists(&stats, path) {
                        f.set("target_exists", e);
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{Observation, StatData};

    fn obs(id: u32, path: &str, payload: Payload) -> Observation {
        Observation { id, source: Source::Stat { path: path.into() }, at: 0, elapsed_ms: 0, payload }
    }
    fn link(target: &str) -> Payload {
        Payload::Stat(StatData { kind: "symlink".into(), mode: 0o777, uid: 0, gid: 0, size: 10, mtime: 0, target: Some(target.into()) })
    }

    #[test]
    fn a_dangling_lets_encrypt_link_is_seen_through_the_chain() {
        let live = "/etc/letsencrypt/live/mail.example.org/fullchain.pem";
        let bundle = Bundle::of(
            "mail",
            "/srv/copy",
            false,
            vec![
                obs(0, live, link("../../archive/mail.example.org/fullchain3.pem")),
                obs(1, "/etc/letsencrypt/archive/mail.example.org/fullchain3.pem", Payload::Absent),
                obs(2, "/etc/ssl/certs/ok.pem", link("/etc/ssl/real.pem")),
                obs(
                    3,
                    "/etc/ssl/real.pem",
                    Payload::Stat(StatData { kind: "file".into(), mode: 0o644, uid: 0, gid: 0, size: 1, mtime: 0, target: None }),
                ),
                obs(4, "/etc/ssl/certs/unfollowed.pem", link("elsewhere.pem")),
            ],
        );
        let mut out = FactSet::new();
        stat_facts(&bundle, &HashMap::new(), &HashMap::new(), &mut out);
        let get = |p: &str, f: &str| {
            out.of_kind("path_stat").find(|x| x.get("path").and_then(|v| v.as_str()) == Some(p)).and_then(|x| x.get(f).cloned())
        };
        assert_eq!(get(live, "target_path"), Some("/etc/letsencrypt/archive/mail.example.org/fullchain3.pem".into()));
        assert_eq!(get(live, "target_exists"), Some(false.into()));
        assert_eq!(get("/etc/ssl/certs/ok.pem", "target_exists"), Some(true.into()));
        assert_eq!(get("/etc/ssl/certs/unfollowed.pem", "target_exists"), None);
    }
}
