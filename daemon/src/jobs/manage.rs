//! Managing ended jobs: retrying what failed and removing a job from the history (from the
//! status page and API), and removing an old job's package for `retention_days`
//! ([`crate::outputs`]).
//!
//! All work on a job no task is running, and all *claim* it first — an entry in the engine's
//! running map, exactly what a running job holds — so a retry, a delete, a resume, a retention
//! pass or a second click can never work on the same job at once. None of them removes a file
//! haul did not record for the job, and a package is removed only when it holds exactly what
//! haul saved — except by an explicit delete with files, which removes the package it names.
//!
//! A retry goes, in order:
//!
//! 1. the saved items' bytes are taken back from the package haul wrote (ZIP or folder), each
//!    checked against the SHA-256 the journal holds, into the job's work folder — the files
//!    there were removed when the job ended; an item whose bytes cannot be found that way (the
//!    package was moved, edited or deleted) is downloaded again instead;
//! 2. the journal puts the job back in the queue and every item that is not saved back to
//!    `pending`, in one transaction — from here a crash resumes the retry like any other job;
//! 3. the old package is removed *only* when it is exactly as haul wrote it (the same entries,
//!    every hash matching), so the new package takes its name; a package the user changed,
//!    renamed or moved is left alone and the new one is written beside it (`name (2).zip`);
//! 4. the job runs again: failed items download, and the package is written afresh.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use haul_protocol::message::{ItemState, JobId, JobState, PackageMode};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::{Engine, RunningJob, run};
use crate::journal::{ItemRecord, JobRecord, JournalError};
use crate::package::{self, ManifestFile, PackageReader};
use crate::process::HashWriter;

/// Why a job could not be retried or removed.
#[derive(Debug, Error)]
pub enum ManageError {
    #[error("there is no job {0}")]
    NoSuchJob(JobId),
    #[error("job {job} is {} — wait until it ends, or cancel it first", state.as_str())]
    Active { job: JobId, state: JobState },
    #[error("job {0} has nothing to retry: every file was saved")]
    NothingToRetry(JobId),
    #[error("haul is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("cannot {doing} {}: {source}", path.display())]
    Io {
        doing: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

/// What a retry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryReport {
    pub job: JobId,
    /// Items that will be downloaded again.
    pub retried: u64,
    /// Saved items whose bytes were taken back from the old package.
    pub restored: u64,
    /// The old package, removed because it was exactly as haul wrote it.
    pub replaced: Vec<PathBuf>,
}

/// What removing a job from the history did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteReport {
    pub job: JobId,
    /// Packages removed from disk (only when asked).
    pub files_deleted: Vec<PathBuf>,
}

/// What removing an old job's package did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expiry {
    /// Packages removed from disk.
    pub removed: Vec<PathBuf>,
    /// Packages left alone because they no longer hold exactly what haul saved (the user
    /// changed, replaced or added files).
    pub kept: Vec<PathBuf>,
}

/// A job held for a management operation; released on drop unless handed to a task.
struct Claim<'a> {
    engine: &'a Engine,
    job: JobId,
    released: bool,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.released {
            self.engine
                .inner
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&self.job);
        }
    }
}

impl Engine {
    /// Whether a task is running (or queued to run) this job in this engine.
    pub fn is_active(&self, job: JobId) -> bool {
        self.inner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&job)
    }

    /// How many jobs tasks are working on (running or waiting for a slot).
    pub fn active_jobs(&self) -> usize {
        self.inner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    fn claim(&self, job: &JobRecord) -> Result<Claim<'_>, ManageError> {
        if self.inner.shutdown.is_cancelled() {
            return Err(ManageError::ShuttingDown);
        }
        let mut running = self.inner.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.contains_key(&job.id) || !job.state.is_terminal() {
            return Err(ManageError::Active {
                job: job.id,
                state: job.state,
            });
        }
        running.insert(
            job.id,
            RunningJob {
                cancel: self.inner.shutdown.child_token(),
                by_user: Arc::new(AtomicBool::new(false)),
            },
        );
        Ok(Claim {
            engine: self,
            job: job.id,
            released: false,
        })
    }

    fn record(&self, job: JobId) -> Result<JobRecord, ManageError> {
        match self.inner.journal.job(job) {
            Ok(record) => Ok(record),
            Err(JournalError::NoSuchJob(_)) => Err(ManageError::NoSuchJob(job)),
            Err(e) => Err(e.into()),
        }
    }

    /// Retries an ended job's failed (and unfinished) items; see the module doc for the steps.
    /// Blocking: it may copy files back from the package, so call it off the async threads.
    pub fn retry_failed(&self, job: JobId) -> Result<RetryReport, ManageError> {
        let record = self.record(job)?;
        let mut claim = self.claim(&record)?;
        // Read again under the claim: the state may have changed since.
        let record = self.record(job)?;
        let items = self.inner.journal.items(job)?;
        let unfinished = items.iter().any(|i| i.state != ItemState::Saved);
        if record.planned && !unfinished && record.state == JobState::Complete {
            return Err(ManageError::NothingToRetry(job));
        }

        let work = self.inner.paths.work_dir().join(job.to_string());
        std::fs::create_dir_all(&work).map_err(|source| ManageError::Io {
            doing: "create the work folder",
            path: work.clone(),
            source,
        })?;
        let packages = packages_of(&record);
        let mut restored = Restored::default();
        if let Some(main) = packages.first() {
            restored = restore_saved(main, &items, &work);
        }
        let reset: Vec<u32> = items
            .iter()
            .filter(|i| i.state != ItemState::Saved || !restored.items.contains(&i.index))
            .map(|i| i.index)
            .collect();
        if record.planned && reset.is_empty() && record.state == JobState::Complete {
            return Err(ManageError::NothingToRetry(job));
        }
        self.inner.journal.requeue_job(job, &reset)?;

        // The job is queued again: from here on a crash resumes it. Only now is the old package
        // removed, and only when it is exactly what haul wrote.
        let mut replaced = Vec::new();
        for package in &packages {
            let intact = if Some(package) == packages.first() {
                restored.package_intact
            } else {
                matches_saved(package, &items)
            };
            if intact && remove_package(package).is_ok() {
                replaced.push(package.clone());
            }
        }

        let by_user = Arc::new(AtomicBool::new(false));
        let cancel = {
            let mut running = self.inner.running.lock().unwrap_or_else(|p| p.into_inner());
            let entry = running.entry(job).or_insert_with(|| RunningJob {
                cancel: self.inner.shutdown.child_token(),
                by_user: by_user.clone(),
            });
            entry.by_user = by_user.clone();
            entry.cancel.clone()
        };
        claim.released = true;
        let inner = self.inner.clone();
        self.inner.tasks.spawn(async move {
            run::run_job(&inner, job, &cancel, &by_user).await;
            inner
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&job);
        });
        Ok(RetryReport {
            job,
            retried: reset.len() as u64,
            restored: restored.items.len() as u64,
            replaced,
        })
    }

    /// Removes an ended job from the history. Its package stays on disk unless `delete_files`,
    /// and then only the package(s) haul recorded for this job are removed.
    pub fn delete_job(&self, job: JobId, delete_files: bool) -> Result<DeleteReport, ManageError> {
        let record = self.record(job)?;
        let _claim = self.claim(&record)?;
        let record = self.record(job)?;
        let mut files_deleted = Vec::new();
        if delete_files {
            let items = self.inner.journal.items(job)?;
            for (n, package) in packages_of(&record).iter().enumerate() {
                // The recorded output is haul's own; a sibling folder (package = "both") is
                // removed only when it holds exactly what haul saved.
                if (n == 0 || matches_saved(package, &items)) && package.exists() {
                    remove_package(package).map_err(|source| ManageError::Io {
                        doing: "remove",
                        path: package.clone(),
                        source,
                    })?;
                    files_deleted.push(package.clone());
                }
            }
        }
        self.inner.journal.delete_job(job)?;
        let work = self.inner.paths.work_dir().join(job.to_string());
        let _ = std::fs::remove_dir_all(work);
        if let Some(page) = &record.request.page_file {
            let _ = std::fs::remove_file(page);
        }
        Ok(DeleteReport { job, files_deleted })
    }

    /// Removes an ended job's package(s) because they are older than `retention_days`: only
    /// what is still exactly as haul wrote it (the rule a retry uses to replace a package).
    /// When the recorded package went, the journal says so with `note`. Blocking: it reads
    /// every entry back to check its hash.
    pub fn expire_packages(&self, job: JobId, note: &str) -> Result<Expiry, ManageError> {
        let record = self.record(job)?;
        let _claim = self.claim(&record)?;
        let record = self.record(job)?;
        let items = self.inner.journal.items(job)?;
        let mut expiry = Expiry::default();
        let mut failure = None;
        for package in packages_of(&record) {
            if !matches_saved(&package, &items) {
                expiry.kept.push(package);
                continue;
            }
            match remove_package(&package) {
                Ok(()) => expiry.removed.push(package),
                Err(source) => {
                    failure = Some(ManageError::Io {
                        doing: "remove",
                        path: package,
                        source,
                    });
                    break;
                }
            }
        }
        // Recorded even when a second package (the folder beside a ZIP) could not be removed:
        // the one the job points at is gone either way.
        if record
            .output
            .as_ref()
            .is_some_and(|output| expiry.removed.contains(output))
        {
            self.inner.journal.mark_removed(job, note)?;
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(expiry),
        }
    }
}

/// The package paths haul recorded for a job: its output, and for `both` the folder beside the
/// ZIP. Only paths that exist.
pub(crate) fn packages_of(job: &JobRecord) -> Vec<PathBuf> {
    let Some(output) = job.output.clone() else {
        return Vec::new();
    };
    let mut v = Vec::new();
    if output.exists() {
        v.push(output.clone());
    }
    if job.package_mode == PackageMode::Both
        && let Some(name) = output.file_name().and_then(|n| n.to_str())
        && let Some(base) = name.strip_suffix(".zip")
    {
        let folder = output.with_file_name(base);
        if folder.is_dir() {
            v.push(folder);
        }
    }
    v
}

fn remove_package(path: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(path)?.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

#[derive(Default)]
struct Restored {
    /// Indices of saved items whose bytes are back in the work folder.
    items: Vec<u32>,
    /// The package holds exactly the saved items, every hash matching, and nothing else.
    package_intact: bool,
}

/// Copies every saved item's bytes from the package into `work/<index>.part`, checking each
/// against the journal's SHA-256.
fn restore_saved(package: &Path, items: &[ItemRecord], work: &Path) -> Restored {
    let mut out = Restored::default();
    let Ok(mut reader) = PackageReader::open(package) else {
        return out;
    };
    let Ok(listed) = reader.manifest().map(|m| m.files) else {
        return out;
    };
    let saved: Vec<&ItemRecord> = items
        .iter()
        .filter(|i| i.state == ItemState::Saved)
        .collect();
    for item in &saved {
        let Some(sha) = item.saved.as_ref().map(|s| s.sha256.as_str()) else {
            continue;
        };
        let Some(file) = listed.iter().find(|f| f.url == item.url && f.sha256 == sha) else {
            continue;
        };
        let part = work.join(format!("{}.part", item.index));
        let copied = reader.with_entry(&file.name, |r| copy_hashed(r, &part));
        match copied {
            Ok(hash) if hash == sha => out.items.push(item.index),
            _ => {
                let _ = std::fs::remove_file(&part);
            }
        }
    }
    let names = reader.names().unwrap_or_default();
    out.package_intact = out.items.len() == saved.len()
        && listed.len() == saved.len()
        && holds_only(&names, &listed);
    out
}

/// Whether a package's entry `names` are exactly its `listed` files and its documents.
fn holds_only(names: &[String], listed: &[ManifestFile]) -> bool {
    let media: Vec<&String> = names
        .iter()
        .filter(|n| !package::DOCUMENTS.contains(&n.as_str()))
        .collect();
    media.len() == listed.len() && media.iter().all(|n| listed.iter().any(|f| &f.name == *n))
}

/// Whether the package at `path` holds exactly the job's saved items (by hash), and nothing else:
/// every saved item is stored — as downloaded, or converted as the manifest records — or listed
/// as left out by the naming scheme.
fn matches_saved(path: &Path, items: &[ItemRecord]) -> bool {
    let Ok(mut reader) = PackageReader::open(path) else {
        return false;
    };
    let (Ok(manifest), Ok(names)) = (reader.manifest(), reader.names()) else {
        return false;
    };
    let (listed, left_out) = (manifest.files, manifest.left_out);
    let saved: Vec<&ItemRecord> = items
        .iter()
        .filter(|i| i.state == ItemState::Saved)
        .collect();
    if listed.len() + left_out.len() != saved.len() || !holds_only(&names, &listed) {
        return false;
    }
    if !left_out
        .iter()
        .all(|left| saved.iter().any(|i| i.url == left.url))
    {
        return false;
    }
    for file in &listed {
        let Some(item) = saved.iter().find(|i| i.url == file.url) else {
            return false;
        };
        let downloaded = item.saved.as_ref().map(|s| s.sha256.as_str()) == Some(&*file.sha256);
        if !downloaded && file.converted_from.is_none() {
            return false;
        }
        let hash = reader.with_entry(&file.name, |r| {
            let mut hasher = Sha256::new();
            io::copy(r, &mut HashWriter(&mut hasher))?;
            Ok(hex::encode(hasher.finalize()))
        });
        if hash.ok().as_deref() != Some(file.sha256.as_str()) {
            return false;
        }
    }
    true
}

/// Streams `from` into a new file at `to` (synced), returning the SHA-256 of what was written.
fn copy_hashed(from: &mut dyn Read, to: &Path) -> io::Result<String> {
    let mut file = File::create(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])?;
    }
    file.sync_all()?;
    Ok(hex::encode(hasher.finalize()))
}
