//! Scenarios: the observations of one situation plus what must (and must not) be
//! concluded from them. A scenario folder `tests/scenarios/<name>/` holds `expect.ron` and
//! either a small `sysroot/` (read through the real collectors with `--root`) or a
//! `bundle.json` (observations saved by `collect`, e.g. from the real lab).
//!
//! File modes and owners are set at run time from `expect.ron` (`paths:`), because git does
//! not keep them: the sysroot is copied to a private temporary directory first, so the
//! checkout is never modified.

use crate::kb::Knowledge;
use crate::observe::{self, Options};
use crate::report::Report;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The situation, as a case story.
    pub description: String,
    /// Rules that must fire.
    #[serde(default)]
    pub fires: Vec<String>,
    /// Rules that must not fire (the near miss).
    #[serde(default)]
    pub must_not_fire: Vec<String>,
    /// The diagnosis that must be ranked first (`None`: no diagnosis at all when `clean`).
    #[serde(default)]
    pub rank1: Option<String>,
    /// The report must contain no diagnosis at all.
    #[serde(default)]
    pub clean: bool,
    /// Only the folder's `mail.log` is read, as `diagnose --log mail.log` reads it: the
    /// host's configuration, files and services are not observed.
    #[serde(default)]
    pub log_only: bool,
    /// Directories (relative to the sysroot) to create and give a mode and owner.
    #[serde(default)]
    pub paths: BTreeMap<String, PathSetup>,
}

/// A directory (default) or file to create in the sysroot copy, with its mode and owner;
/// for files also a size (zero-filled unless it exists) and an age (mtime = now - age).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSetup {
    pub mode: u32,
    #[serde(default)]
    pub uid: Option<u32>,
    #[serde(default)]
    pub gid: Option<u32>,
    #[serde(default)]
    pub file: bool,
    #[serde(default)]
    pub size: Option<u64>,
    /// Seconds before now for the modification time.
    #[serde(default)]
    pub age: Option<u64>,
    /// Make a symbolic link to this target instead (its mode is 0o777, as lstat shows it).
    /// Links live here rather than in git so that a dangling one breaks no tree walk.
    #[serde(default)]
    pub symlink: Option<String>,
}

pub struct ScenarioRun {
    pub name: String,
    pub report: Report,
    /// Unmet expectations; empty when the scenario passes.
    pub failures: Vec<String>,
}

pub enum Outcome {
    Ran(Box<ScenarioRun>),
    /// The scenario cannot run here (e.g. it needs root to chown); the reason says why.
    CannotRun(String),
}

pub fn load_expect(dir: &Path) -> Result<Expect, String> {
    let path = dir.join("expect.ron");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::kb::ron_options()
        .from_str(&text)
        .map_err(|e| format!("{}:{}:{}: {}", path.display(), e.span.start.line, e.span.start.col, e.code))
}

/// Removes the private copy of a sysroot when dropped.
struct TempRoot(PathBuf);

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    for entry in walkdir::WalkDir::new(from).follow_links(false) {
        let e = entry.map_err(|e| e.to_string())?;
        let rel = e.path().strip_prefix(from).map_err(|e| e.to_string())?;
        let dst = to.join(rel);
        let ft = e.file_type();
        if ft.is_dir() {
            std::fs::create_dir_all(&dst).map_err(|e| format!("{}: {e}", dst.display()))?;
        } else if ft.is_symlink() {
            let t = std::fs::read_link(e.path()).map_err(|e| e.to_string())?;
            std::os::unix::fs::symlink(t, &dst).map_err(|e| format!("{}: {e}", dst.display()))?;
        } else {
            std::fs::copy(e.path(), &dst).map_err(|e| format!("{}: {e}", dst.display()))?;
        }
    }
    Ok(())
}

fn prepare(dir: &Path, name: &str, expect: &Expect) -> Result<Result<TempRoot, String>, String> {
    use std::os::unix::fs::PermissionsExt;
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let root = std::env::temp_dir().join(format!("mailsleuth-scenario-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let guard = TempRoot(root.clone());
    copy_tree(&dir.join("sysroot"), &root)?;
    let euid = nix::unistd::geteuid().as_raw();
    for (rel, setup) in &expect.paths {
        let p = root.join(rel.trim_start_matches('/'));
        if let Some(target) = &setup.symlink {
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::os::unix::fs::symlink(target, &p).map_err(|e| format!("{}: {e}", p.display()))?;
            continue;
        }
        if setup.file {
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            let f = std::fs::OpenOptions::new().create(true).append(true).open(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            if let Some(size) = setup.size {
                f.set_len(size).map_err(|e| format!("{}: {e}", p.display()))?;
            }
            if let Some(age) = setup.age {
                let t = std::time::SystemTime::now() - std::time::Duration::from_secs(age);
                f.set_modified(t).map_err(|e| format!("{}: {e}", p.display()))?;
            }
        } else {
            std::fs::create_dir_all(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            if let Some(age) = setup.age {
                let t = std::time::SystemTime::now() - std::time::Duration::from_secs(age);
                std::fs::File::open(&p).and_then(|f| f.set_modified(t)).map_err(|e| format!("{}: {e}", p.display()))?;
            }
        }
        if setup.uid.is_some() || setup.gid.is_some() {
            if euid != 0 && setup.uid.is_some_and(|u| u != euid) {
                return Ok(Err(format!("needs root to give {rel} owner uid {}", setup.uid.unwrap_or(0))));
            }
            let uid = setup.uid.map(nix::unistd::Uid::from_raw);
            let gid = setup.gid.map(nix::unistd::Gid::from_raw);
            if let Err(e) = nix::unistd::chown(&p, uid, gid) {
                return Ok(Err(format!("cannot chown {rel}: {e}")));
            }
        }
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(setup.mode)).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(Ok(guard))
}

/// Run one scenario folder: prepare, collect (or load the bundle), diagnose, check.
pub fn run(dir: &Path, k: &Knowledge) -> Result<Outcome, String> {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("scenario").to_string();
    let expect = load_expect(dir)?;
    let bundle_path = dir.join("bundle.json");
    let (bundle, _guard) = if expect.log_only {
        let log = dir.join("mail.log");
        let mut b = observe::collect_log_only(&Options { logs: vec![log.display().to_string()], ..Options::default() });
        // Reports name the log by its place in the repository, not this machine's path.
        for o in &mut b.observations {
            if let crate::bundle::Source::Log { path, .. } = &mut o.source {
                *path = format!("tests/scenarios/{name}/mail.log");
            }
        }
        (b, None)
    } else if bundle_path.is_file() {
        (crate::bundle::load(&bundle_path)?, None)
    } else {
        let guard = match prepare(dir, &name, &expect)? {
            Ok(g) => g,
            Err(why) => return Ok(Outcome::CannotRun(why)),
        };
        let opts = Options { root: guard.0.clone(), ..Options::default() };
        let mut b = observe::collect(&opts);
        // The private copy's path differs every run; the report names the scenario instead.
        b.root = format!("tests/scenarios/{name}/sysroot");
        (b, Some(guard))
    };
    let report = crate::diagnose(&bundle, k);
    let failures = check(&expect, &report, k);
    Ok(Outcome::Ran(Box::new(ScenarioRun { name, report, failures })))
}

/// Compare a report with the expectations; every unmet one is a message.
pub fn check(expect: &Expect, report: &Report, k: &Knowledge) -> Vec<String> {
    let mut f = Vec::new();
    let Some(eval) = &report.evaluation else { return vec!["report has no evaluation".into()] };
    for id in expect.fires.iter().chain(&expect.must_not_fire).chain(&expect.rank1) {
        if k.rule(id).is_none() {
            f.push(format!("expect.ron names `{id}`, which is not a rule"));
        }
    }
    let fired = |id: &str| eval.outcome(id).is_some_and(|o| o.status == crate::engine::Status::Fired);
    for id in &expect.fires {
        if !fired(id) {
            let st = eval.outcome(id).map(|o| format!("{:?}", o.status).to_lowercase()).unwrap_or_else(|| "absent".into());
            f.push(format!("`{id}` must fire but {st}"));
        }
    }
    for id in &expect.must_not_fire {
        if fired(id) {
            f.push(format!("`{id}` must not fire but fired"));
        }
    }
    if let Some(id) = &expect.rank1 {
        match report.diagnoses.first() {
            Some(d) if &d.id == id => {}
            Some(d) => f.push(format!("rank 1 must be `{id}` but is `{}`", d.id)),
            None => f.push(format!("rank 1 must be `{id}` but nothing was diagnosed")),
        }
    }
    if expect.clean && !report.diagnoses.is_empty() {
        let ids: Vec<&str> = report.diagnoses.iter().map(|d| d.id.as_str()).collect();
        f.push(format!("must be clean but diagnosed {}", ids.join(", ")));
    }
    f
}

/// Every scenario folder (one with an expect.ron) below `dir`, sorted.
pub fn discover(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.join("expect.ron").is_file()).collect())
        .unwrap_or_default();
    out.sort();
    out
}
