//! Running one job, from planning to the published package (steps 2–5 of the engine's list).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haul_protocol::message::{
    Failure, Finished, ItemProgress, ItemState, JobId, JobState, PackageMode, Progress,
};
use thiserror::Error;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Inner, JobEvent, plan};
use crate::failure::{Failed, FailureKind};
use crate::fetch::{self, ByteBudget, FetchError, Observer, Target};
use crate::format::Format;
use crate::held::Kept;
use crate::journal::{ItemRecord, JobRecord, JournalError, StagedPath, Staging};
use crate::media::MediaKind;
use crate::naming::{self, EntrySpec, Naming, ProductNames};
use crate::package::{
    self, Entry, Manifest, ManifestFailure, ManifestFile, ManifestLeftOut, ManifestNotIncluded,
    PackageError,
};
use crate::process::SavedMedia;
use crate::process::strip::Stripped;
use crate::process::{self, convert};
use crate::request::LocalFile;

/// Shortest interval between two progress events of one item while it downloads.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

/// The stored forms a job's items hold in memory until the package is written, by item index.
type HeldItems = Mutex<HashMap<u32, Kept<Stripped>>>;

/// Why a job stopped before it could finish normally.
#[derive(Debug, Error)]
enum RunError {
    #[error("stopped")]
    Cancelled,
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("cannot create the work folder {}: {source}", path.display())]
    WorkDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot publish the package {}: {source}", path.display())]
    Publish {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Preset(#[from] crate::process::preset::PresetError),
    /// The product page to fetch could not be had.
    #[error(transparent)]
    Page(FetchError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl RunError {
    /// What kind of failure it is.
    fn kind(&self) -> FailureKind {
        match self {
            RunError::Cancelled => FailureKind::Cancelled,
            RunError::Package(e) => e.kind(),
            RunError::WorkDir { source, .. } | RunError::Publish { source, .. } => {
                crate::failure::of_write(source)
            }
            RunError::Page(e) => e.kind(),
            RunError::Journal(e) => e.kind(),
            RunError::Preset(_) | RunError::Internal(_) => FailureKind::Internal,
        }
    }
}

pub(super) async fn run_job(
    inner: &Arc<Inner>,
    id: JobId,
    cancel: &CancellationToken,
    by_user: &AtomicBool,
) {
    let outcome = tokio::select! {
        permit = inner.job_slots.acquire() => match permit {
            // Boxed: the job's whole state is allocated once it has a slot, not while it
            // waits for one (10,000 queued jobs would otherwise hold 10,000 of them).
            Ok(_permit) => Box::pin(drive(inner, id, cancel)).await,
            Err(_) => Err(RunError::Cancelled),
        },
        () = cancel.cancelled() => Err(RunError::Cancelled),
    };
    let ended = match outcome {
        Ok(()) => return,
        // A shutdown: the job stays as journaled and resumes on the next start.
        Err(RunError::Cancelled) if !by_user.load(Ordering::SeqCst) => return,
        Err(RunError::Cancelled) => (
            JobState::Cancelled,
            Failed::new(FailureKind::Cancelled, "cancelled"),
        ),
        // The journal cannot be written (a full disk): the job ends here, visibly — the
        // journal's readers see the end even when it cannot be recorded — and, still
        // unfinished in the journal, resumes on the next start.
        Err(RunError::Journal(e)) => {
            tracing::error!(job = id, error = %e, "job stopped: the journal cannot be written");
            let reason = format!(
                "haul could not record the job in its journal ({e}); free space in haul's data \
                 folder, then try again"
            );
            (JobState::Failed, Failed::new(e.kind(), reason))
        }
        Err(e) => {
            tracing::error!(job = id, error = %e, "job failed");
            (JobState::Failed, Failed::new(e.kind(), e.to_string()))
        }
    };
    if let Err(e) = inner.journal.finish_job(id, ended.0, None, Some(&ended.1)) {
        tracing::error!(job = id, error = %e, "cannot record the end of a job");
    }
    remove_partial_packages(inner, id);
    clean_up(inner, id);
    announce_finished(inner, id);
}

async fn drive(inner: &Arc<Inner>, id: JobId, cancel: &CancellationToken) -> Result<(), RunError> {
    let mut job = inner.journal.job(id)?;
    if job.state.is_terminal() {
        announce_finished(inner, id);
        return Ok(());
    }
    if let Some(staging) = job.staging.clone() {
        // Killed while publishing: every temporary still there is complete; rename the rest.
        let outputs = complete_staging(inner, id, staging)?;
        return finish(inner, &job, outputs.first().map(PathBuf::as_path));
    }
    if !job.planned {
        // While the page is read, the connection to the host its media most likely come from
        // opens (fetch::warm), and the first download starts on it.
        if job.request.page_file.is_some()
            && let Some(origin) = plan::likely_media_origin(&job.request.media)
        {
            inner.fetcher.warm_up(&origin);
        }
        let fetched = match (&job.request.page_url, job.request.fetch_page) {
            (Some(url), true) => match inner.fetcher.fetch_page(url, cancel).await {
                Ok(page) => Some(page),
                Err(FetchError::Cancelled) => return Err(RunError::Cancelled),
                Err(e) => return Err(RunError::Page(e)),
            },
            _ => None,
        };
        // Extraction parses the whole page: CPU work, kept off the async workers.
        let request = job.request.clone();
        let (plan, wall) = tokio::task::spawn_blocking(move || {
            let plan = plan::plan(&request, fetched.as_ref().map(|p| p.html.as_str()));
            // A fetched page without a single product medium was not the product page.
            let wall = fetched
                .filter(|_| {
                    plan.items.is_empty()
                        && plan.excluded.is_empty()
                        && plan.product.links.is_empty()
                })
                .map(|p| fetch::page::describe_wall(&p.html));
            (plan, wall)
        })
        .await
        .map_err(|e| RunError::Internal(format!("planning stopped: {e}")))?;
        if let (Some(why), Some(url)) = (wall, &job.request.page_url) {
            return Err(RunError::Page(fetch::page::NotServed::new(url, why).into()));
        }
        for warning in &plan.warnings {
            tracing::info!(job = id, warning = %warning, "while reading the page");
        }
        inner
            .journal
            .plan_job(id, &plan.product, &plan.items, &plan.excluded)?;
        job = inner.journal.job(id)?;
    }
    inner.journal.set_job_state(id, JobState::Running)?;
    let items = inner.journal.items(id)?;
    let work = work_dir(inner, id);
    std::fs::create_dir_all(&work).map_err(|source| RunError::WorkDir {
        path: work.clone(),
        source,
    })?;

    let preset_name = job
        .request
        .preset
        .as_deref()
        .unwrap_or(&inner.config.preset);
    // The settings the job was accepted with; the config's only for jobs journaled before
    // requests kept them.
    let preset = Arc::new(match &job.request.preset_settings {
        Some(settings) => process::preset::resolve(
            preset_name,
            &[(preset_name.to_string(), settings.clone())].into(),
        )?,
        None => inner.config.resolve_preset(preset_name)?,
    });
    let counters = Arc::new(Counters::new(&items, &work));
    let held: Arc<HeldItems> = Arc::default();
    emit(inner, counters.progress(id, None));
    let budget = Arc::new(ByteBudget::new(
        inner.config.max_job_bytes,
        counters.bytes.load(Ordering::Relaxed),
    ));
    // Item tasks are started as earlier ones end, never all at once: a task holds a download's
    // whole state machine, and 100,000 of them waiting for a slot took gigabytes. Twice the
    // download slots keeps every slot busy while finished downloads are being processed.
    let in_flight = inner.config.max_downloads.max(1) * 2;
    let mut pending = download_order(items).into_iter();
    let mut tasks = JoinSet::new();
    loop {
        while tasks.len() < in_flight
            && !cancel.is_cancelled()
            && let Some(item) = pending.next()
        {
            let ctx = ItemContext {
                inner: inner.clone(),
                job: id,
                part: work.join(format!("{}.part", item.index)),
                budget: budget.clone(),
                counters: counters.clone(),
                cancel: cancel.clone(),
                preset: preset.clone(),
                local: job.request.local_files.get(item.index as usize).cloned(),
                held: held.clone(),
            };
            tasks.spawn(async move { ctx.run(item).await });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.into()),
            Err(e) => return Err(RunError::Internal(format!("an item task failed: {e}"))),
        }
    }
    if cancel.is_cancelled() {
        return Err(RunError::Cancelled);
    }
    let held = std::mem::take(&mut *held.lock().unwrap_or_else(|p| p.into_inner()));
    package_job(inner, &job, &work, held).await
}

/// The items still to do, in the order their downloads start: videos first, then the rest in
/// package order. A video is the job's longest download, and one started after forty pictures
/// (where a product page lists it) is what the job would end waiting for. The package keeps
/// the items' own order, whatever order they download in.
fn download_order(items: Vec<ItemRecord>) -> Vec<ItemRecord> {
    let mut pending: Vec<ItemRecord> = items
        .into_iter()
        .filter(|i| !i.state.is_terminal())
        .collect();
    // Stable: each kind keeps its package order.
    pending.sort_by_key(|i| i.kind != MediaKind::Video);
    pending
}

/// Everything an item task needs.
struct ItemContext {
    inner: Arc<Inner>,
    job: JobId,
    part: PathBuf,
    budget: Arc<ByteBudget>,
    counters: Arc<Counters>,
    cancel: CancellationToken,
    preset: Arc<process::Preset>,
    /// The user's own file this item stores (inbox folders), instead of a download.
    local: Option<LocalFile>,
    /// Where the item leaves its stored form when it holds it in memory.
    held: Arc<HeldItems>,
}

impl ItemContext {
    /// Downloads (or resumes) the item, then cleans and measures it. Item failures are recorded
    /// in the journal; only a journal failure is an error of the job.
    async fn run(self, item: ItemRecord) -> Result<(), JournalError> {
        let mut body = None;
        let mut downloaded_sha256 = None;
        let format = match item.state {
            ItemState::Pending | ItemState::Downloading if self.local.is_some() => {
                match self.copy_local(&item).await {
                    Ok(format) => format,
                    Err(failed) => return self.fail(&item, &failed),
                }
            }
            ItemState::Pending | ItemState::Downloading => {
                let observer = ItemObserver::new(&self, &item);
                let target = Target {
                    url: item.url.clone(),
                    part: self.part.clone(),
                    validator: item.validator.clone(),
                    size: item.size,
                    kind: item.kind,
                };
                match self
                    .inner
                    .fetcher
                    .download(&target, &observer, &self.budget, &self.cancel)
                    .await
                {
                    Ok(fetched) => {
                        // A file held in memory goes straight on to `saved`: its whole partial
                        // file is on disk, and the journal has its size from the start of the
                        // download, so a restart in between finds it complete without fetching
                        // it again. One journal write fewer per file.
                        if fetched.body.is_none() {
                            self.inner.journal.item_downloaded(
                                self.job,
                                item.index,
                                fetched.size,
                            )?;
                        }
                        body = fetched.body;
                        downloaded_sha256 = fetched.sha256;
                        fetched.format
                    }
                    Err(FetchError::Cancelled) => return Ok(()),
                    Err(e) => return self.fail(&item, &e.failed()),
                }
            }
            ItemState::Downloaded => match fetch::sniff_file(&self.part).await {
                Ok(format) => format,
                Err(e) => return self.fail(&item, &e.failed()),
            },
            ItemState::Saved | ItemState::Failed => return Ok(()),
        };

        let permit = tokio::select! {
            permit = self.inner.cpu_slots.clone().acquire_owned() => permit.ok(),
            () = self.cancel.cancelled() => return Ok(()),
        };
        let (part, strip, preset) = (self.part.clone(), self.inner.strip, self.preset.clone());
        let main = item.role == crate::media::Role::Main;
        let inspected = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            match body {
                Some(held) => process::process_held(&held, &part, format, &preset, strip, main),
                None => process::process(&part, format, &preset, strip, main, downloaded_sha256)
                    .map(|s| (s, None)),
            }
        })
        .await;
        match inspected {
            Ok(Ok((saved, pieces))) => {
                self.inner
                    .journal
                    .item_saved(self.job, item.index, &saved)?;
                if let Some(pieces) = pieces {
                    self.held
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(item.index, pieces);
                }
                self.counters.done.fetch_add(1, Ordering::Relaxed);
                self.emit_item(&item, ItemState::Saved, Some(saved.bytes), None);
                Ok(())
            }
            Ok(Err(e)) => self.fail(&item, &Failed::new(e.kind(), e.to_string())),
            Err(e) => self.fail(
                &item,
                &Failed::new(
                    FailureKind::Internal,
                    format!("internal error while processing: {e}"),
                ),
            ),
        }
    }

    /// Copies the user's own file into the work folder (the inbox input stays untouched) and
    /// checks by its bytes that it is an image.
    async fn copy_local(&self, item: &ItemRecord) -> Result<Format, Failed> {
        let Some(local) = &self.local else {
            return Err(Failed::new(
                FailureKind::Internal,
                "internal error: no local file",
            ));
        };
        let name = local
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        // Through a handle that followed no link (own_file): a link swapped into the
        // folder since it was read is refused, never copied into the package.
        let source = crate::own_file::open(&local.path).map_err(|e| e.failed(&name))?;
        let mut source = tokio::fs::File::from_std(source);
        let cannot_write = |e: std::io::Error| {
            Failed::new(
                crate::failure::of_write(&e),
                format!("cannot write {}: {e}", self.part.display()),
            )
        };
        let mut part = tokio::fs::File::create(&self.part)
            .await
            .map_err(cannot_write)?;
        let size = tokio::io::copy(&mut source, &mut part)
            .await
            .map_err(|e| Failed::new(FailureKind::Other, format!("cannot read {name}: {e}")))?;
        part.sync_all().await.map_err(cannot_write)?;
        drop(part);
        let format = fetch::sniff_file(&self.part).await.map_err(|_| {
            Failed::new(
                FailureKind::NotMedia,
                format!("{name} is not an image haul can store; use JPEG, PNG, WebP or TIFF files"),
            )
        })?;
        self.inner
            .journal
            .item_downloaded(self.job, item.index, size)
            .map_err(|e| Failed::new(FailureKind::Internal, e.to_string()))?;
        Ok(format)
    }

    fn fail(&self, item: &ItemRecord, failed: &Failed) -> Result<(), JournalError> {
        tracing::info!(job = self.job, url = %item.url, reason = %failed.reason, kind = %failed.kind, "item failed");
        self.inner
            .journal
            .item_failed(self.job, item.index, failed)?;
        // A failed file's bytes are not kept: they are not media, too large, or stale.
        let _ = std::fs::remove_file(&self.part);
        let _ = std::fs::remove_file(process::converted_path(&self.part));
        self.counters.done.fetch_add(1, Ordering::Relaxed);
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        self.emit_item(item, ItemState::Failed, None, Some(failed.clone()));
        Ok(())
    }

    fn emit_item(
        &self,
        item: &ItemRecord,
        state: ItemState,
        bytes: Option<u64>,
        failed: Option<Failed>,
    ) {
        let (error, error_kind) = match failed {
            Some(f) => (Some(f.reason), Some(f.kind)),
            None => (None, None),
        };
        let progress = ItemProgress {
            index: item.index,
            url: item.url.clone(),
            place: Some(place(item)),
            state,
            bytes: bytes.unwrap_or(0),
            size: bytes,
            error,
            error_kind,
        };
        emit(
            &self.inner,
            self.counters.progress(self.job, Some(progress)),
        );
    }
}

/// Journals and reports one item's download.
struct ItemObserver<'a> {
    ctx: &'a ItemContext,
    index: u32,
    url: String,
    place: String,
    received: AtomicU64,
    size: Mutex<Option<u64>>,
    last_emit: Mutex<Option<Instant>>,
}

impl<'a> ItemObserver<'a> {
    fn new(ctx: &'a ItemContext, item: &ItemRecord) -> Self {
        // Bytes already on disk were counted by `Counters::new`.
        let on_disk = std::fs::metadata(&ctx.part).map_or(0, |m| m.len());
        ItemObserver {
            ctx,
            index: item.index,
            url: item.url.clone(),
            place: place(item),
            received: AtomicU64::new(on_disk),
            size: Mutex::new(item.size),
            last_emit: Mutex::new(None),
        }
    }

    fn emit(&self, received: u64) {
        let size = *self.size.lock().unwrap_or_else(|p| p.into_inner());
        let item = ItemProgress {
            index: self.index,
            url: self.url.clone(),
            place: Some(self.place.clone()),
            state: ItemState::Downloading,
            bytes: received,
            size,
            error: None,
            error_kind: None,
        };
        emit(
            &self.ctx.inner,
            self.ctx.counters.progress(self.ctx.job, Some(item)),
        );
    }
}

impl Observer for ItemObserver<'_> {
    fn started(&self, size: Option<u64>, validator: Option<&str>, final_url: &str) {
        *self.size.lock().unwrap_or_else(|p| p.into_inner()) = size;
        if let Err(e) = self.ctx.inner.journal.item_downloading(
            self.ctx.job,
            self.index,
            size,
            validator,
            final_url,
        ) {
            tracing::warn!(job = self.ctx.job, error = %e, "cannot journal a download start");
        }
        self.emit(self.received.load(Ordering::Relaxed));
    }

    fn progress(&self, received: u64) {
        let before = self.received.swap(received, Ordering::Relaxed);
        // A restart from zero (the server ignored the range) takes bytes back.
        if received >= before {
            self.ctx
                .counters
                .bytes
                .fetch_add(received - before, Ordering::Relaxed);
        } else {
            self.ctx
                .counters
                .bytes
                .fetch_sub(before - received, Ordering::Relaxed);
        }
        let mut last = self.last_emit.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() >= PROGRESS_INTERVAL) {
            *last = Some(Instant::now());
            drop(last);
            self.emit(received);
        }
    }
}

/// A job's counts, kept in memory for progress events.
struct Counters {
    total: u64,
    done: AtomicU64,
    failed: AtomicU64,
    /// Bytes received: saved items' stored size plus whatever partial files hold.
    bytes: AtomicU64,
}

impl Counters {
    fn new(items: &[ItemRecord], work: &Path) -> Counters {
        let done = items.iter().filter(|i| i.state.is_terminal()).count() as u64;
        let failed = items
            .iter()
            .filter(|i| i.state == ItemState::Failed)
            .count() as u64;
        let bytes = items
            .iter()
            .map(|i| match i.state {
                ItemState::Saved => i.bytes,
                ItemState::Failed => 0,
                _ => {
                    std::fs::metadata(work.join(format!("{}.part", i.index))).map_or(0, |m| m.len())
                }
            })
            .sum();
        Counters {
            total: items.len() as u64,
            done: AtomicU64::new(done),
            failed: AtomicU64::new(failed),
            bytes: AtomicU64::new(bytes),
        }
    }

    fn progress(&self, job: JobId, item: Option<ItemProgress>) -> JobEvent {
        JobEvent::Progress(Progress {
            job,
            done: self.done.load(Ordering::Relaxed),
            total: self.total,
            failed: self.failed.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            bytes_total: None,
            item,
        })
    }
}

fn emit(inner: &Inner, event: JobEvent) {
    // No subscribers is fine: the journal has everything.
    let _ = inner.events.send(event);
}

fn work_dir(inner: &Inner, id: JobId) -> PathBuf {
    inner.paths.work_dir().join(id.to_string())
}

/// Writes the package(s), publishes them and ends the job.
async fn package_job(
    inner: &Arc<Inner>,
    job: &JobRecord,
    work: &Path,
    mut held: HashMap<u32, Kept<Stripped>>,
) -> Result<(), RunError> {
    let id = job.id;
    inner.journal.set_job_state(id, JobState::Packaging)?;
    let items = inner.journal.items(id)?;
    let saved: Vec<&ItemRecord> = items
        .iter()
        .filter(|i| i.state == ItemState::Saved)
        .collect();
    if saved.is_empty() {
        let links = &job.product.links;
        let reason = match items.iter().find_map(|i| i.error.as_deref()) {
            Some(first) => Failed::new(
                FailureKind::NothingSaved,
                format!("nothing could be saved; first failure: {first}"),
            ),
            // Links are never downloaded, so they make no package of their own.
            None if !links.is_empty() => Failed::new(
                FailureKind::NothingToSave,
                format!(
                    "nothing to save: the page's only media are on a video platform, which haul \
                     links to but does not download: {}",
                    links
                        .iter()
                        .map(|l| l.url.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            None => Failed::new(
                FailureKind::NothingToSave,
                "nothing to save: the page had no media",
            ),
        };
        inner
            .journal
            .finish_job(id, JobState::Failed, None, Some(&reason))?;
        clean_up(inner, id);
        announce_finished(inner, id);
        return Ok(());
    }

    let naming = job
        .request
        .naming
        .clone()
        .unwrap_or_else(|| inner.config.naming.clone());
    let base = naming::package_base_name(
        job.product.site.as_deref(),
        job.product.product_id.as_deref(),
        job.product.title.as_deref(),
        job.request.name.as_deref(),
        items.first().map(|i| i.url.as_str()),
    );
    let saved: Vec<ItemRecord> = saved.into_iter().cloned().collect();
    let (strip, job_copy, work_dir) = (inner.strip, job.clone(), work.to_path_buf());
    let (entries, manifest, names) = tokio::task::spawn_blocking(move || {
        let stored = stored_items(&saved, &work_dir, &naming, strip, &mut held)?;
        Ok::<_, RunError>(contents(&job_copy, &items, stored, &naming))
    })
    .await
    .map_err(|e| RunError::Internal(format!("packaging stopped: {e}")))??;
    // Journaled before the package is written: exports name each picture's file from here, and
    // the names are the same however often packaging runs.
    let names: Vec<(u32, Option<&str>)> = names
        .iter()
        .map(|(index, name)| (*index, name.as_deref()))
        .collect();
    inner.journal.set_entries(id, &names)?;

    std::fs::create_dir_all(&job.out_dir).map_err(|source| RunError::WorkDir {
        path: job.out_dir.clone(),
        source,
    })?;
    let mut kinds = Vec::new();
    if matches!(job.package_mode, PackageMode::Zip | PackageMode::Both) {
        kinds.push(".zip");
    }
    if matches!(job.package_mode, PackageMode::Folder | PackageMode::Both) {
        kinds.push("");
    }
    let out_dir = job.out_dir.clone();
    let written = tokio::task::spawn_blocking(move || -> Result<Vec<StagedPath>, RunError> {
        let mut staged = Vec::new();
        for ext in kinds {
            let temp = package::temp_path(&out_dir, &base, ext, id);
            remove_any(&temp);
            if ext.is_empty() {
                package::write_folder(&temp, &entries, &manifest, strip)?;
            } else {
                package::write_zip(&temp, &entries, &manifest, strip)?;
            }
            let target = package::free_target(&out_dir, &base, ext)?;
            staged.push(StagedPath {
                temp,
                target,
                base: base.clone(),
                ext: ext.to_string(),
            });
        }
        Ok(staged)
    })
    .await
    .map_err(|e| RunError::Internal(format!("packaging stopped: {e}")))??;

    let staging = Staging { paths: written };
    inner.journal.set_staging(id, Some(&staging))?;
    let outputs = complete_staging(inner, id, staging)?;
    finish(inner, job, outputs.first().map(PathBuf::as_path))
}

/// Renames every staged package still under its temporary name; returns the final paths.
fn complete_staging(
    inner: &Inner,
    id: JobId,
    mut staging: Staging,
) -> Result<Vec<PathBuf>, RunError> {
    for i in 0..staging.paths.len() {
        loop {
            let staged = &staging.paths[i];
            if std::fs::symlink_metadata(&staged.temp).is_err() {
                break; // Renamed before the crash.
            }
            match package::publish(&staged.temp, &staged.target) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let dir = staged.target.parent().unwrap_or(Path::new("."));
                    let next = package::free_target(dir, &staged.base, &staged.ext)?;
                    staging.paths[i].target = next;
                    inner.journal.set_staging(id, Some(&staging))?;
                }
                Err(source) => {
                    return Err(RunError::Publish {
                        path: staged.target.clone(),
                        source,
                    });
                }
            }
        }
    }
    Ok(staging.paths.into_iter().map(|p| p.target).collect())
}

fn finish(inner: &Inner, job: &JobRecord, output: Option<&Path>) -> Result<(), RunError> {
    let items = inner.journal.items(job.id)?;
    let state = if items.iter().any(|i| i.state == ItemState::Failed) {
        JobState::Partial
    } else {
        JobState::Complete
    };
    inner.journal.finish_job(job.id, state, output, None)?;
    clean_up(inner, job.id);
    announce_finished(inner, job.id);
    Ok(())
}

/// A saved item as it goes into the package: the file its stored bytes come from (the download,
/// or its conversion) and what that stored form is.
struct StoredItem {
    item: ItemRecord,
    source: PathBuf,
    format: Format,
    saved: SavedMedia,
    converted_from: Option<Format>,
    /// The stored form in memory, when the item held it ([`process::process_held`]).
    held: Option<Kept<Stripped>>,
}

/// The stored form of every saved item. For `amazon-upload`, images in formats Seller Central
/// does not take are converted to JPEG (`<index>.jpg` in the work folder, reused after a restart
/// — the conversion is deterministic); one that cannot be converted keeps its format, and the
/// naming leaves it out with a note.
fn stored_items(
    saved: &[ItemRecord],
    work: &Path,
    naming: &Naming,
    strip: process::StripOptions,
    held: &mut HashMap<u32, Kept<Stripped>>,
) -> Result<Vec<StoredItem>, RunError> {
    let mut stored = Vec::with_capacity(saved.len());
    for item in saved {
        let record = item
            .saved
            .clone()
            .ok_or_else(|| RunError::Internal(format!("item {} has no stored form", item.index)))?;
        let format = Format::from_content_type(&record.content_type).ok_or_else(|| {
            RunError::Internal(format!("item {} has no stored format", item.index))
        })?;
        // A converting preset wrote the stored form beside the download.
        let download = work.join(format!("{}.part", item.index));
        let preset_output = process::converted_path(&download);
        let part = if preset_output.exists() {
            preset_output
        } else {
            download
        };
        let mut entry = StoredItem {
            item: item.clone(),
            source: part.clone(),
            format,
            saved: record,
            converted_from: None,
            held: held.remove(&item.index),
        };
        let wants_jpeg = *naming == Naming::AmazonUpload
            && format.kind() == MediaKind::Image
            && !naming::amazon_accepts_ext(format.ext())
            && convert::can_convert(format);
        if wants_jpeg {
            let target = work.join(format!("{}.jpg", item.index));
            let converted = if target.exists() {
                Ok(())
            } else {
                convert::to_jpeg(&part, format, &target)
            };
            match converted.map_err(|e| e.to_string()).and_then(|()| {
                process::inspect(&target, Format::Jpeg, strip).map_err(|e| e.to_string())
            }) {
                Ok(saved) => {
                    entry.converted_from = Some(format);
                    entry.source = target;
                    entry.format = Format::Jpeg;
                    entry.saved = saved;
                    entry.held = None;
                }
                Err(e) => tracing::warn!(url = %item.url, error = %e, "cannot convert an image"),
            }
        }
        stored.push(entry);
    }
    Ok(stored)
}

/// Each saved item's entry name, by item index (`None`: left out of the package).
type EntryNames = Vec<(u32, Option<String>)>;

/// The package's entries (named by `naming`), its manifest, and the name each saved item got.
fn contents(
    job: &JobRecord,
    items: &[ItemRecord],
    stored: Vec<StoredItem>,
    naming: &Naming,
) -> (Vec<Entry>, Manifest, EntryNames) {
    let specs: Vec<EntrySpec<'_>> = stored
        .iter()
        .map(|s| EntrySpec {
            role: s.item.role,
            variant: s.item.variant.as_deref(),
            variant_id: s.item.variant_id.as_deref(),
            code: s.item.code.as_deref(),
            ext: &s.saved.ext,
        })
        .collect();
    let product = ProductNames {
        site: job.product.site.as_deref(),
        product_id: job.product.product_id.as_deref(),
    };
    let mut named = naming::name_entries(naming, &product, &specs);
    drop(specs);
    if !job.request.local_files.is_empty() {
        // The inbox named the user's own files (`SKU.SLOT`); only the extension is the stored
        // format's.
        named.names = stored
            .iter()
            .map(|s| {
                job.request
                    .local_files
                    .get(s.item.index as usize)
                    .map(|f| format!("{}.{}", f.name, s.saved.ext))
            })
            .collect();
        named.notes.clear();
    }
    let mut manifest = Manifest {
        generator: concat!("haul ", env!("CARGO_PKG_VERSION")).to_string(),
        site: job.product.site.clone(),
        product_id: job.product.product_id.clone(),
        parent_id: job.product.parent_id.clone(),
        other_ids: job.product.other_ids.clone(),
        title: job.product.title.clone(),
        page_url: job.product.page_url.clone(),
        files: Vec::new(),
        failed: items
            .iter()
            .filter(|i| i.state == ItemState::Failed)
            .map(|i| ManifestFailure {
                url: i.url.clone(),
                role: i.role.as_str().to_string(),
                variant: i.variant.clone(),
                reason: i.error.clone().unwrap_or_default(),
                kind: i.error_kind.unwrap_or_default(),
            })
            .collect(),
        left_out: Vec::new(),
        links: job.product.links.clone(),
        not_included: job
            .excluded
            .iter()
            .map(|x| ManifestNotIncluded {
                url: x.url.clone(),
                role: x.role.as_str().to_string(),
                variant: x.variant.clone(),
            })
            .collect(),
        notes: named.notes,
        product: job.product.facts.clone(),
        created_ms: job.created_at,
    };
    if !manifest.not_included.is_empty() {
        let include = job.request.include.unwrap_or_default();
        manifest.notes.push(format!(
            "{} media of the page are not in the package by choice: only {include} were saved \
             (include)",
            manifest.not_included.len()
        ));
    }
    let mut entries = Vec::with_capacity(stored.len());
    let mut names = Vec::with_capacity(stored.len());
    for (s, name) in stored.into_iter().zip(named.names) {
        names.push((s.item.index, name.clone()));
        let Some(name) = name else {
            manifest.left_out.push(ManifestLeftOut {
                url: s.item.url,
                role: s.item.role.as_str().to_string(),
                variant: s.item.variant,
                variant_id: s.item.variant_id,
                content_type: s.saved.content_type,
            });
            continue;
        };
        manifest.files.push(ManifestFile {
            name: name.clone(),
            url: s.item.url,
            role: s.item.role.as_str().to_string(),
            variant: s.item.variant,
            variant_id: s.item.variant_id,
            code: s.item.code,
            bytes: s.saved.bytes,
            width: s.saved.width,
            height: s.saved.height,
            content_type: s.saved.content_type,
            sha256: s.saved.sha256,
            warnings: s.saved.warnings,
            converted_from: s.converted_from.map(|f| f.content_type().to_string()),
        });
        entries.push(Entry {
            name,
            source: s.source,
            format: s.format,
            held: s.held,
        });
    }
    (entries, manifest, names)
}

/// Removes what a failed or cancelled job left half-written in its output folder (a package
/// cut short by a full disk), so it takes no space the next package needs.
fn remove_partial_packages(inner: &Inner, id: JobId) {
    let out_dir = match inner.journal.job(id) {
        Ok(job) => job.out_dir,
        // The journal cannot be read (a full or damaged disk): the default folder is the best
        // guess; a job's own `--out` folder is swept at the next start.
        Err(_) => inner.config.output_dir(&inner.paths),
    };
    for path in package::remove_partials(&out_dir, |job, _| job != id) {
        tracing::info!(job = id, path = %path.display(), "removed a partial package");
    }
}

/// Removes a job's working files once it has ended.
fn clean_up(inner: &Inner, id: JobId) {
    remove_any(&work_dir(inner, id));
    if let Ok(job) = inner.journal.job(id)
        && let Some(page) = &job.request.page_file
    {
        remove_any(page);
    }
}

fn remove_any(path: &Path) {
    let result = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove working files");
    }
}

/// Sends the `finished` event of an ended job, from the journal.
fn announce_finished(inner: &Inner, id: JobId) {
    let (job, items) = match (inner.journal.job(id), inner.journal.items(id)) {
        (Ok(job), Ok(items)) => (job, items),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(job = id, error = %e, "cannot read a finished job");
            return;
        }
    };
    emit(inner, JobEvent::Finished(finished_of(&job, &items)));
}

/// An item's place in its product for progress events: `#3 gallery`, `#7 variant · Red`.
fn place(item: &ItemRecord) -> String {
    let role = item.role.as_str();
    match &item.variant {
        Some(variant) => format!("#{} {role} · {variant}", item.index + 1),
        None => format!("#{} {role}", item.index + 1),
    }
}

/// The `finished` message of an ended job.
pub fn finished_of(job: &JobRecord, items: &[ItemRecord]) -> Finished {
    let failures: Vec<Failure> = items
        .iter()
        .filter(|i| i.state == ItemState::Failed)
        .map(|i| failure(i.url.clone(), i.error.as_deref(), i.error_kind))
        .collect();
    let mut failures = failures;
    if failures.is_empty()
        && let Some(error) = &job.error
        && job.state == JobState::Failed
    {
        failures.push(failure(
            job.request.page_url.clone().unwrap_or_default(),
            Some(error),
            job.error_kind,
        ));
    }
    // An item the naming scheme left out has no entry name; jobs packaged before entry names
    // were journaled have none at all, and their saved files are all in the package.
    let saved = items.iter().filter(|i| i.state == ItemState::Saved).count() as u64;
    let named = items.iter().any(|i| i.entry.is_some());
    let left_out = if named {
        items
            .iter()
            .filter(|i| i.state == ItemState::Saved && i.entry.is_none())
            .count() as u64
    } else {
        0
    };
    Finished {
        job: job.id,
        status: job.state,
        output: job.output.as_ref().map(|p| p.display().to_string()),
        outputs: super::manage::packages_of(job)
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        saved: saved - left_out,
        left_out,
        failed: items
            .iter()
            .filter(|i| i.state == ItemState::Failed)
            .count() as u64,
        total: items.len() as u64,
        failures,
    }
}

/// The protocol's failure of one item (or job), with its explanation.
fn failure(url: String, reason: Option<&str>, kind: Option<FailureKind>) -> Failure {
    let reason = reason.unwrap_or_default().to_string();
    let kind = kind.unwrap_or_default();
    Failure {
        explanation: crate::failure::explain(kind, &reason),
        url,
        reason,
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::media::Role;

    fn item(index: u32, kind: MediaKind, state: ItemState) -> ItemRecord {
        ItemRecord {
            job_id: 1,
            index,
            url: format!("https://cdn.example/{index}"),
            kind,
            role: if kind == MediaKind::Video {
                Role::Video
            } else {
                Role::Gallery
            },
            variant: None,
            variant_id: None,
            code: None,
            state,
            size: None,
            validator: None,
            final_url: None,
            bytes: 0,
            saved: None,
            error: None,
            error_kind: None,
            attempts: 0,
            started_at: None,
            finished_at: None,
            entry: None,
        }
    }

    /// A page lists its video after its pictures; the video's download starts first, and the
    /// rest keep their order. Ended items are not started again.
    #[test]
    fn videos_download_first_and_the_rest_in_package_order() {
        let items = vec![
            item(0, MediaKind::Image, ItemState::Pending),
            item(1, MediaKind::Image, ItemState::Saved),
            item(2, MediaKind::Image, ItemState::Downloading),
            item(3, MediaKind::Video, ItemState::Pending),
            item(4, MediaKind::Image, ItemState::Pending),
            item(5, MediaKind::Video, ItemState::Failed),
            item(6, MediaKind::Video, ItemState::Pending),
        ];
        let order: Vec<u32> = download_order(items).iter().map(|i| i.index).collect();
        assert_eq!(order, [3, 6, 0, 2, 4]);
    }
}
