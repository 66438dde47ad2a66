//! Packages the user deleted from the output folder. The journal keeps every job; without this,
//! `haul status` and the status page would keep pointing at a ZIP that is gone. The check is a
//! `stat` per package, cheap enough to run whenever jobs are listed by `haul status`, when the
//! daemon starts, and whenever the output folder's events say something went
//! ([`crate::outputs`]).
//!
//! A package counts as deleted only when its folder is still there and the package is not: an
//! output folder on an unplugged drive is not a folder of deleted packages.

use std::path::{Path, PathBuf};

use haul_protocol::message::JobId;

use crate::journal::{Journal, JournalError};

/// What `haul status` shows for a package deleted by hand.
pub const DELETED_NOTE: &str = "deleted from the output folder";

/// Packages whose presence changed since the journal last looked.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Gone from disk: now recorded as deleted.
    pub deleted: Vec<JobId>,
    /// Recorded as deleted by hand, and back where they were (the user restored them from the
    /// trash, or moved them back): no longer recorded as removed.
    pub returned: Vec<JobId>,
}

/// Which recorded packages to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every package the journal records (a `stat` each).
    All,
    /// Only the packages recorded at these paths (what the output folder's events named).
    At(Vec<PathBuf>),
}

/// Records every package in `scope` that is no longer on disk as deleted, and every package
/// deleted by hand that is back as present again. A package retention removed stays removed even
/// when a file of its name reappears: that file is not haul's to account for.
pub fn note_deleted_packages(journal: &Journal, scope: &Scope) -> Result<Changes, JournalError> {
    let rows = match scope {
        Scope::All => journal.recorded_outputs(None)?,
        Scope::At(paths) => {
            let mut rows = Vec::new();
            for path in paths {
                rows.extend(journal.recorded_outputs(Some(path))?);
            }
            rows
        }
    };
    let mut changes = Changes::default();
    for (job, output, removed) in rows {
        let path = Path::new(&output);
        match removed.as_deref() {
            None => {
                let folder_there = path.parent().is_some_and(Path::is_dir);
                let package_gone = matches!(
                    std::fs::symlink_metadata(path),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound
                );
                if folder_there && package_gone {
                    journal.mark_removed(job, DELETED_NOTE)?;
                    changes.deleted.push(job);
                }
            }
            Some(DELETED_NOTE) if std::fs::symlink_metadata(path).is_ok() => {
                journal.clear_removed(job)?;
                changes.returned.push(job);
            }
            Some(_) => {}
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use haul_protocol::message::{JobState, PackageMode};

    use super::*;
    use crate::journal::NewJob;
    use crate::request::JobRequest;

    fn finished_job(journal: &Journal, output: &Path) -> JobId {
        let job = journal
            .create_job(&NewJob {
                label: "list".into(),
                request: JobRequest::default(),
                out_dir: "/out".into(),
                package_mode: PackageMode::Zip,
            })
            .unwrap();
        journal
            .finish_job(job, JobState::Complete, Some(output), None)
            .unwrap();
        job
    }

    #[test]
    fn only_a_package_gone_from_a_folder_still_there_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("j.sqlite3")).unwrap();
        let kept = dir.path().join("kept.zip");
        let gone = dir.path().join("gone.zip");
        std::fs::write(&kept, b"zip").unwrap();
        let kept_job = finished_job(&journal, &kept);
        let gone_job = finished_job(&journal, &gone);
        // An output folder on a drive that is not plugged in.
        finished_job(&journal, &dir.path().join("unplugged").join("x.zip"));

        assert_eq!(
            note_deleted_packages(&journal, &Scope::All)
                .unwrap()
                .deleted,
            [gone_job]
        );
        assert_eq!(
            note_deleted_packages(&journal, &Scope::All).unwrap(),
            Changes::default(),
            "noted once"
        );
        let jobs = journal.list_jobs(10, 0).unwrap();
        let gone_row = jobs.iter().find(|j| j.job == gone_job).unwrap();
        assert_eq!(gone_row.removed_note.as_deref(), Some(DELETED_NOTE));
        assert!(gone_row.removed_at.is_some());
        let kept_row = jobs.iter().find(|j| j.job == kept_job).unwrap();
        assert_eq!(kept_row.removed_at, None);

        // Put back from the trash: present again.
        std::fs::write(&gone, b"zip").unwrap();
        assert_eq!(
            note_deleted_packages(&journal, &Scope::All).unwrap(),
            Changes {
                deleted: vec![],
                returned: vec![gone_job]
            }
        );
        let jobs = journal.list_jobs(10, 0).unwrap();
        let row = jobs.iter().find(|j| j.job == gone_job).unwrap();
        assert_eq!((row.removed_at, row.removed_note.as_deref()), (None, None));

        // A package retention removed stays removed, whatever appears under its name.
        journal
            .mark_removed(gone_job, "removed after 30 days (retention_days = 30)")
            .unwrap();
        assert_eq!(
            note_deleted_packages(&journal, &Scope::All).unwrap(),
            Changes::default()
        );

        // A job that ends again (a retry) has a package again.
        std::fs::remove_file(&gone).unwrap();
        std::fs::write(&gone, b"zip").unwrap();
        journal
            .finish_job(gone_job, JobState::Complete, Some(&gone), None)
            .unwrap();
        let jobs = journal.list_jobs(10, 0).unwrap();
        let row = jobs.iter().find(|j| j.job == gone_job).unwrap();
        assert_eq!((row.removed_at, row.removed_note.as_deref()), (None, None));
    }
}
