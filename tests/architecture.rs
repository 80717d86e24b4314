//! The import order of src/ (docs/ARCHITECTURE.md): base (model, text, time, bundle) → kb →
//! parse, logscan → observe, facts → engine → report → lib, cli, scenario, scaffold, main.
//!
//! Every `crate::x` path in every source file (in `use` lines and written out in function
//! bodies alike; `mailsleuth::x` in main.rs) must name a module of a lower layer, or its own
//! module. Modules of one layer do not import each other, except the base modules. A
//! `super::super::` path is refused outright: it is how a reach upward hides.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, lowest first.
const LAYERS: &[&[&str]] = &[
    &["model", "text", "time", "bundle"],
    &["kb"],
    &["parse", "logscan"],
    &["observe", "facts"],
    &["engine"],
    &["report"],
    &["lib", "scenario", "scaffold", "main", "cli"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src/ readable") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top module a file belongs to: `src/facts/logs.rs` → `facts`, `src/model.rs` → `model`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component").as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

/// The modules a line reaches through `prefix::` (`crate::a::b`, `crate::{a, b::c}`).
fn targets(line: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            // Nested groups are rare in this code base; their first names are what matter.
            for item in group[..end].split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

fn violations() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut bad = BTreeSet::new();
    for file in &files {
        let from = module_of(&src, file);
        let Some(from_layer) = layer(&from) else {
            bad.insert(format!("{}: module `{from}` is in no layer of tests/architecture.rs", file.display()));
            continue;
        };
        let prefix = if from == "main" { "mailsleuth::" } else { "crate::" };
        let text = std::fs::read_to_string(file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let at = format!("{}:{}", file.strip_prefix(&src).unwrap_or(file).display(), n + 1);
            if code.contains("super::super::") {
                bad.insert(format!("src/{at}: `super::super::` (name the module with crate:: instead)"));
            }
            for to in targets(code, prefix) {
                if to == from || to == "self" {
                    continue;
                }
                let Some(to_layer) = layer(&to) else { continue };
                // The base modules may use each other, and so may the front ends at the top.
                let same_base = from_layer == to_layer && (from_layer == 0 || from_layer == LAYERS.len() - 1);
                if to_layer >= from_layer && !same_base {
                    bad.insert(format!("src/{at}: `{from}` imports `{to}`, which is not below it"));
                }
            }
        }
    }
    bad.into_iter().collect()
}

#[test]
fn imports_go_one_way() {
    let bad = violations();
    assert!(bad.is_empty(), "imports against the layer order (docs/ARCHITECTURE.md):\n{}", bad.join("\n"));
}

#[test]
fn the_checker_sees_both_forms_of_path() {
    assert_eq!(targets("use crate::facts::logs::{a, b};", "crate::"), ["facts"]);
    assert_eq!(targets("    let x = crate::observe::fs::read(p);", "crate::"), ["observe"]);
    assert_eq!(targets("use crate::{kb, model::Fact};", "crate::"), ["kb", "model"]);
    assert_eq!(targets("use mailsleuth::report::Report;", "mailsleuth::"), ["report"]);
    assert!(targets("use notcrate::facts;", "crate::").is_empty());
}
