//! Packages the user deleted from the output folder. The journal keeps every job; without this,
//! `haul status` and the status page would keep pointing at a ZIP that is gone. The check is a
//! `stat` per package, cheap enough to run whenever jobs are listed by `haul status` and once
//! when the daemon starts (the status page reads what those recorded).
//!
//! A package counts as deleted only when its folder is still there and the package is not: an
//! output folder on an unplugged drive is not a folder of deleted packages.

use std::path::Path;

use haul_protocol::message::JobId;

use crate::journal::{Journal, JournalError};

/// What `haul status` shows for a package deleted by hand.
pub const DELETED_NOTE: &str = "deleted from the output folder";

/// Records every package that is no longer on disk as removed; returns those jobs.
pub fn note_deleted_packages(journal: &Journal) -> Result<Vec<JobId>, JournalError> {
    let mut deleted = Vec::new();
    for (job, output) in journal.present_outputs()? {
        let path = Path::new(&output);
        let folder_there = path.parent().is_some_and(Path::is_dir);
        let package_gone = matches!(
            std::fs::symlink_metadata(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound
        );
        if folder_there && package_gone {
            journal.mark_removed(job, DELETED_NOTE)?;
            deleted.push(job);
        }
    }
    Ok(deleted)
}
