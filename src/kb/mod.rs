//! The knowledge base: rules (`rules/<area>/<id>.ron`) and reference knowledge
//! (`knowledge/signatures/*.ron`, `knowledge/postfix/defaults.ron`), embedded at build time
//! and extendable at run time (`--rules DIR`, `/etc/mailsleuth/rules.d`).
//!
//! Loading is all or nothing: every file that fails to parse or validate is reported with
//! `file:line:column: what was expected`, and a knowledge base with any error is not used.

pub mod graph;
pub mod lint;
pub mod reference;
pub mod rule;
pub mod signature;
pub mod template;

use crate::model::KindSpec;
use rule::Rule;
use signature::{Signature, SignatureFile};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_kb.rs"));
}

/// The system-wide directory of site rules, read when it exists.
pub const SYSTEM_RULES_DIR: &str = "/etc/mailsleuth/rules.d";

/// A problem in the knowledge base, with its position when one is known (`line` 0: none).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KbError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for KbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl KbError {
    pub fn at(file: &str, message: impl Into<String>) -> Self {
        KbError { file: file.to_string(), line: 0, col: 0, message: message.into() }
    }
}

#[derive(Clone, Debug)]
pub struct LoadedRule {
    pub rule: Rule,
    /// Where it was loaded from (`rules/permissions/tmp_blocks_maildrop.ron`).
    pub file: String,
    /// The RON text, for `rules show`.
    pub text: String,
}

impl LoadedRule {
    /// The area, from the id (`permissions.tmp_blocks_maildrop` → `permissions`).
    pub fn area(&self) -> &str {
        self.rule.id.split('.').next().unwrap_or("")
    }
}

/// A fact kind concluded by rules, with the fields they give it.
#[derive(Clone, Debug, Default)]
pub struct DerivedKind {
    pub fields: BTreeSet<String>,
    pub producers: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Knowledge {
    pub rules: Vec<LoadedRule>,
    pub signatures: Vec<Signature>,
    /// Where each signature came from, same order as `signatures`.
    pub signature_files: Vec<String>,
    /// The programs' default readings (`layer: Program`, ids `generic.*`), kept apart from
    /// `signatures`: only the layered classifier (`logscan::classify::read_line`) uses them.
    pub families: Vec<Signature>,
    /// Where each family reading came from, same order as `families`.
    pub family_files: Vec<String>,
    pub derived: BTreeMap<String, DerivedKind>,
    /// Indices into `rules` in evaluation (topological) order.
    pub order: Vec<usize>,
    /// The kinds producers declare (handed in by the caller: the knowledge base does not know
    /// the producers), which rules may read besides the kinds rules derive.
    pub base_kinds: Vec<&'static KindSpec>,
}

/// The embedded files: (path relative to the project, text).
pub fn embedded_files() -> Vec<(String, String)> {
    embedded::FILES.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect()
}

/// Read every `*.ron` below `dir`, sorted by path. Unreadable files become errors.
pub fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, Vec<KbError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    if !dir.is_dir() {
        return Err(vec![KbError::at(&dir.display().to_string(), "not a directory")]);
    }
    for entry in walkdir::WalkDir::new(dir).follow_links(false).sort_by_file_name() {
        match entry {
            Ok(e) if e.path().extension().is_some_and(|x| x == "ron") => {
                let name = e.path().display().to_string();
                match read_rule_file(e.path()) {
                    Ok(t) => files.push((name, t)),
                    Err(err) => errors.push(KbError::at(&name, format!("cannot read: {err}"))),
                }
            }
            Ok(_) => {}
            Err(err) => errors.push(KbError::at(&dir.display().to_string(), err.to_string())),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// A rule file's text, if it is (or links to) a regular file: a FIFO would block, a device
/// never end, and a directory named `*.ron` is a mistake worth saying, not skipping.
fn read_rule_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let not_regular = |md: &std::fs::Metadata| {
        let ft = md.file_type();
        let what = if ft.is_dir() { "a directory" } else { "not a regular file (a FIFO, socket or device)" };
        std::io::Error::new(std::io::ErrorKind::InvalidInput, what)
    };
    let md = std::fs::metadata(path)?;
    if !md.is_file() {
        return Err(not_regular(&md));
    }
    let flags = nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_NOCTTY;
    let f = std::fs::OpenOptions::new().read(true).custom_flags(flags.bits()).open(path)?;
    let md = f.metadata()?;
    if !md.is_file() {
        return Err(not_regular(&md));
    }
    // Rule files are a few kilobytes; 16 MiB is a mistake, not a rule.
    let mut text = String::new();
    f.take(16 << 20).read_to_string(&mut text)?;
    Ok(text)
}

fn is_signature_file(path: &str) -> bool {
    path.split('/').any(|c| c == "signatures")
}

fn is_reference_data(path: &str) -> bool {
    path.starts_with("knowledge/") && !is_signature_file(path)
}

pub fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}

fn ron_error(file: &str, e: ron::error::SpannedError) -> KbError {
    KbError { file: file.to_string(), line: e.span.start.line, col: e.span.start.col, message: rule::one_line(&e.code.to_string()) }
}

impl Knowledge {
    /// The embedded knowledge base plus the given directories (and the system directory when
    /// `system` is set and it exists).
    pub fn load(base_kinds: Vec<&'static KindSpec>, extra: &[PathBuf], system: bool) -> Result<Knowledge, Vec<KbError>> {
        let mut files = embedded_files();
        let mut errors = Vec::new();
        let mut dirs: Vec<PathBuf> = extra.to_vec();
        if system && Path::new(SYSTEM_RULES_DIR).is_dir() {
            dirs.push(PathBuf::from(SYSTEM_RULES_DIR));
        }
        for d in &dirs {
            match read_dir(d) {
                Ok(f) => files.extend(f),
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Self::from_files(base_kinds, files)
    }

    /// Parse, validate and order a set of files. Any error rejects the whole set.
    pub fn from_files(base_kinds: Vec<&'static KindSpec>, files: Vec<(String, String)>) -> Result<Knowledge, Vec<KbError>> {
        let mut errors = Vec::new();
        let mut rules = Vec::new();
        let mut signatures = Vec::new();
        let mut signature_files = Vec::new();
        let mut families = Vec::new();
        let mut family_files = Vec::new();
        let opts = ron_options();
        for (path, text) in files {
            if is_reference_data(&path) {
                if let Err(e) = reference::check(&path, &text) {
                    errors.push(ron_error(&path, e));
                }
                continue;
            }
            if is_signature_file(&path) {
                match opts.from_str::<SignatureFile>(&text) {
                    Ok(sf) => {
                        for s in sf.signatures {
                            if s.layer == signature::Layer::Signature {
                                signature_files.push(path.clone());
                                signatures.push(s);
                            } else {
                                family_files.push(path.clone());
                                families.push(s);
                            }
                        }
                    }
                    Err(e) => errors.push(ron_error(&path, e)),
                }
            } else {
                match opts.from_str::<Rule>(&text) {
                    Ok(rule) => rules.push(LoadedRule { rule, file: path, text }),
                    Err(e) => errors.push(ron_error(&path, e)),
                }
            }
        }
        if !errors.is_empty() {
            errors.sort();
            return Err(errors);
        }
        rules.sort_by(|a, b| a.rule.id.cmp(&b.rule.id));
        let mut k = Knowledge {
            rules,
            signatures,
            signature_files,
            families,
            family_files,
            derived: BTreeMap::new(),
            order: Vec::new(),
            base_kinds,
        };
        k.derived = lint::derived_kinds(&k);
        let errs: Vec<KbError> = lint::check(&k).into_iter().filter(|d| d.error).map(|d| d.into_error()).collect();
        if !errs.is_empty() {
            return Err(errs);
        }
        k.order = graph::evaluation_order(&k)?;
        Ok(k)
    }

    /// A kind producers declare, by name.
    pub fn base_kind(&self, name: &str) -> Option<&'static KindSpec> {
        self.base_kinds.iter().copied().find(|k| k.name == name)
    }

    pub fn rule(&self, id: &str) -> Option<&LoadedRule> {
        self.rules.iter().find(|r| r.rule.id == id)
    }

    /// Field names of a kind, base or derived; `None` if nothing produces it.
    pub fn kind_fields(&self, kind: &str) -> Option<Vec<String>> {
        if let Some(b) = self.base_kind(kind) {
            return Some(b.fields.iter().map(|(n, _, _)| n.to_string()).collect());
        }
        self.derived.get(kind).map(|d| d.fields.iter().cloned().collect())
    }

    pub fn all_kinds(&self) -> Vec<String> {
        let mut v: Vec<String> = self.base_kinds.iter().map(|k| k.name.to_string()).collect();
        v.extend(self.derived.keys().cloned());
        v
    }
}
