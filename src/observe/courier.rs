//! Courier MTA collectors: its configuration under /etc/courier (single files and the
//! directories Courier also accepts: `locals/`, `hosteddomains/`, `esmtpacceptmailfor.dir/`,
//! `aliases/`), and its queue: a bounded listing of `/var/lib/courier/msgs` (data files
//! with their sizes, control files) and `msgq` (the schedule), and the control files
//! themselves (bounded in number and size: they hold each message's recipients and the reason
//! of its last attempt). Courier's `mailq` prints no reason and no attempt time, so the
//! files are read instead, on a live host and under `--root` alike.
//!
//! Runs only when Courier is installed under the root. Reads only.

use super::fs::{read_file, stat};
use super::{Options, Recorder};
use crate::bundle::{Payload, Source};
use crate::parse::courier::{
    control_file_inode, CONFIG_DIRS, CONFIG_FILES, CONTROL_CAP, MAX_CONTROL_FILES, MAX_DIR_FILES, MSGQ, MSGS, QUEUE_DIR,
};

/// Whether Courier MTA is installed under the root.
pub fn installed(opts: &Options) -> bool {
    ["/etc/courier", "/usr/sbin/courier", "/usr/lib/courier/courier/courierd", "/usr/lib/courier/courierd"]
        .iter()
        .any(|p| std::fs::symlink_metadata(opts.host_path(p)).is_ok())
}

/// Largest configuration file kept.
const CONFIG_CAP: u64 = 1 << 20;
/// Queue entries listed at most (msgs and msgq each).
const MAX_QUEUE_LISTING: usize = 100_000;

pub fn collect(opts: &Options, rec: &mut Recorder) {
    for path in [QUEUE_DIR, MSGS, MSGQ, "/etc/courier"] {
        stat(opts, rec, path);
    }
    for path in CONFIG_FILES {
        let real = opts.host_path(path);
        if !std::fs::symlink_metadata(&real).is_ok_and(|m| m.is_dir()) {
            read_file(opts, rec, path, CONFIG_CAP);
        }
    }
    for dir in CONFIG_DIRS {
        let real = opts.host_path(dir);
        let Ok(rd) = std::fs::read_dir(&real) else { continue };
        let mut names: Vec<String> =
            rd.flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| !n.starts_with('.')).collect();
        names.sort();
        for n in names.iter().take(MAX_DIR_FILES) {
            read_file(opts, rec, &format!("{dir}/{n}"), CONFIG_CAP);
        }
    }
    for dir in [MSGS, MSGQ] {
        let real = opts.host_path(dir);
        rec.record(Source::Listing { path: dir.to_string() }, || super::fs::list_tree_bounded(&real, 2, MAX_QUEUE_LISTING));
    }
    // The control files named by the listing just recorded.
    let controls: Vec<String> = rec
        .observations
        .iter()
        .rev()
        .find(|o| matches!(&o.source, Source::Listing { path } if path == MSGS))
        .and_then(|o| match &o.payload {
            Payload::Listing { entries, .. } => {
                Some(entries.iter().filter(|e| control_file_inode(&e.path).is_some()).map(|e| e.path.clone()).collect())
            }
            _ => None,
        })
        .unwrap_or_default();
    for rel in controls.iter().take(MAX_CONTROL_FILES) {
        read_file(opts, rec, &format!("{MSGS}/{rel}"), CONTROL_CAP);
    }
}
