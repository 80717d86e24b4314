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

/// `signatures new PROGRAM/NAME --line SAMPLE`: a signature file whose regex is the
/// sample's message with its variable parts (queue id, numbers, addresses, host names, ids)
/// generalised the way `logs unknown` masks them, and the sample as its example. Written to
/// `DIR/signatures/PROGRAM/NAME.ron` (DIR: `knowledge` in a project checkout, or a directory
/// given to `--rules`, where any file under a `signatures` folder is read as signatures).
/// Checked before it is written: the file parses and its regex matches the sample.
pub fn new_signature(dir: &Path, spec: &str, sample: &str, category: &str) -> Result<PathBuf, String> {
    use crate::kb::signature::{SignatureFile, CATEGORIES};
    let (program, name) =
        spec.split_once('/').ok_or_else(|| format!("expected PROGRAM/NAME (e.g. opendkim/key_not_secure), got {spec:?}"))?;
    let ok_program = !program.is_empty() && program.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let ok_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok_program || !ok_name {
        return Err(format!("PROGRAM uses letters, digits, - _ . and NAME lowercase letters, digits and _ only, got {spec:?}"));
    }
    if !CATEGORIES.contains(&category) {
        let hint =
            crate::text::did_you_mean(category, CATEGORIES.iter().copied()).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
        return Err(format!("unknown category `{category}`{hint}; one of: {}", CATEGORIES.join(", ")));
    }
    let sample = sample.trim_end_matches(['\r', '\n']);
    if sample.is_empty() || sample.contains('\n') {
        return Err("--line takes one sample log line (copy it from `logs unknown`)".into());
    }
    let line = crate::logscan::line::split_syslog(sample);
    let path = dir.join("signatures").join(program).join(format!("{name}.ron"));
    if path.exists() {
        return Err(format!("{} already exists; not overwriting", path.display()));
    }
    let id = format!("{}.{name}", program.to_ascii_lowercase().replace(['-', '.'], "_"));
    // A message whose own words look like masks (a literal `N`) keeps its exact text.
    let regex = Some(regex_of(line.message))
        .filter(|r| regex::Regex::new(r).is_ok_and(|re| re.is_match(line.message)))
        .unwrap_or_else(|| regex::escape(line.message));
    let programs = match line.program {
        Some(p) => format!("[{:?}]", crate::logscan::reason::agent(p)),
        None => "[]".into(),
    };
    let text = format!(
        r##"// {id}: say in one line what this message means for mail. The regex was generalised
// from the sample (queue ids, numbers, addresses and host names masked): check it, name
// the parts worth capturing (?P<name>...), and add the captures to the example.
(
    signatures: [
        (
            id: "{id}",
            programs: {programs},
            regex: r#"{regex}"#,
            category: "{category}",
            severity: Error, // Info | Warning | Error | Fatal | Panic
            priority: 10,
            meaning: "What happened, why mail suffers, and where to look.",
            examples: [
                (
                    line: {sample:?},
                    source: "where the line came from (a host's log, an issue thread, a lab run)",
                ),
            ],
        ),
    ],
)
"##
    );
    let parsed: SignatureFile =
        crate::kb::ron_options().from_str(&text).map_err(|e| format!("internal error: the scaffold does not parse: {e}"))?;
    let matches = parsed.signatures.first().and_then(|s| s.captures(line.message)).is_some();
    if !matches {
        return Err(format!("internal error: the generalised regex {regex:?} does not match the sample"));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The regex of a message: literal text escaped, the masks of `logscan::template` widened
/// back into patterns (a queue id is captured as `queue_id`).
fn regex_of(message: &str) -> String {
    let t = crate::logscan::template(message);
    const MASKS: &[(&str, &str)] = &[
        ("QUEUEID", "(?P<queue_id>[0-9A-Za-z]{5,20})"),
        ("[ADDR]", r"\[[^\]]*\]"),
        ("<*>", "<[^>]*>"),
        ("ADDR", r"\S+@\S+?"),
        ("HOST", r"[\w.-]+"),
        ("ID", r"[\w.-]+"),
        ("N", r"\d+(?:\.\d+)*"),
    ];
    let mut out = String::new();
    let mut rest = t.as_str();
    'outer: while !rest.is_empty() {
        for (mask, pat) in MASKS {
            // A mask stands alone: not inside a longer word of the message (`NOQUEUE`, `IDLE`).
            let word_mask = mask.chars().all(|c| c.is_ascii_uppercase());
            if let Some(after) = rest.strip_prefix(mask) {
                let prev_ok = out.is_empty() || !word_mask || !out.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
                let next_ok = !word_mask || !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
                if prev_ok && next_ok {
                    out.push_str(pat);
                    rest = after;
                    continue 'outer;
                }
            }
        }
        let ch = rest.chars().next().unwrap_or(' ');
        out.push_str(&regex::escape(&ch.to_string()));
        rest = &rest[ch.len_utf8()..];
    }
    out
}
