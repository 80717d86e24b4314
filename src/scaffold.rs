//! `rules new AREA/NAME`: writes the skeleton of a contribution — the rule file and two
//! scenario folders (one that must fire it, one near miss that must not) — into the
//! project checkout, like clippy's `cargo dev new_lint`. It never overwrites a file.

use std::path::{Path, PathBuf};

pub fn new_rule(project: &Path, spec: &str) -> Result<Vec<PathBuf>, String> {
    let (area, name) =
        spec.split_once('/').ok_or_else(|| format!("expected AREA/NAME (e.g. permissions/maildir_not_owned), got {spec:?}"))?;
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok(area) || !ok(name) {
        return Err(format!("AREA and NAME use lowercase letters, digits and _ only, got {spec:?}"));
    }
    let id = format!("{area}.{name}");
    let slug = format!("{area}-{}", name.replace('_', "-"));
    let rule_path = project.join("rules").join(area).join(format!("{name}.ron"));
    let fires = project.join("tests/scenarios").join(&slug);
    let near = project.join("tests/scenarios").join(format!("{slug}-near-miss"));
    for p in [&rule_path, &fires, &near] {
        if p.exists() {
            return Err(format!("{} already exists; not overwriting", p.display()));
        }
    }
    let rule = format!(
        r#"// {id}: describe in one line what this rule detects.
(
    id: "{id}",
    title: "One sentence naming the cause, e.g. {{dir.path}} is {{dir.mode|octal}} {{dir.owner}}",
    description: "What it detects, why it breaks mail, and what the fix does.",
    kind: RootCause, // RootCause | Symptom | Derived
    severity: Error, // Info | Warning | Error | Critical
    confidence: 0.8,
    when: [
        Match(fact: "path_stat", as: "dir", where: {{
            "path": Eq("/var/mail"),
            "mode": LacksBits(0o1777),
        }}),
    ],
    evidence: [],
    fix: ["chmod 1777 {{dir.path}}"],
    explains: [],
    references: ["https://www.postfix.org/..."],
)
"#
    );
    let expect_fires = format!(
        "(\n    description: \"Given a host where ... the admin sees {id} at rank 1.\",\n    fires: [\"{id}\"],\n    rank1: Some(\"{id}\"),\n    paths: {{}},\n)\n"
    );
    let expect_near = format!("(\n    description: \"Almost the same host, but ...: {id} must not fire.\",\n    must_not_fire: [\"{id}\"],\n    paths: {{}},\n)\n");
    let mut written = Vec::new();
    let mut write = |p: PathBuf, text: &str| -> Result<(), String> {
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
        written.push(p);
        Ok(())
    };
    write(rule_path, &rule)?;
    write(fires.join("expect.ron"), &expect_fires)?;
    write(fires.join("sysroot/etc/postfix/main.cf"), "# the main.cf of the host in this scenario\n")?;
    write(near.join("expect.ron"), &expect_near)?;
    write(near.join("sysroot/etc/postfix/main.cf"), "# the main.cf of the near-miss host\n")?;
    Ok(written)
}
