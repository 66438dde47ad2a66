//! The job engine: takes grabs, journals them at once, runs them with bounded concurrency and
//! tells subscribers how they go. The daemon owns one engine; `haul grab` without a daemon runs
//! one in-process over the same journal.
//!
//! A job's life (each step journaled, so a restart resumes at the step it was in):
//!
//! 1. [`Engine::submit`] writes the job (and the page HTML, if any) and returns its id — nothing
//!    slow happens before the caller hears `accepted`;
//! 2. the job waits for one of `max_jobs` slots, then is *planned*: the page is read and its media
//!    become items (a plain URL list becomes items directly) — see [`plan`];
//! 3. every item downloads, resuming and retrying ([`crate::fetch`]), and as soon as its bytes are
//!    in it is cleaned and measured on the blocking pool ([`crate::process`]) while other items
//!    keep downloading;
//! 4. when every item has ended the package is written and published ([`crate::package`]);
//! 5. the job ends `complete`, `partial`, `failed` or `cancelled`, and a `finished` event goes out.
//!
//! One cancellation token, a child of the daemon's shutdown token, reaches every task of a job.
//! A user's cancel ends the job as `cancelled`; a shutdown leaves it as it was, to be resumed.

mod manage;
mod plan;
mod run;

pub use manage::{DeleteReport, Expiry, ManageError, RetryReport};
pub use run::finished_of;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use haul_protocol::message::{Finished, Grab, JobId, PackageMode, Progress};
use haul_protocol::paths::Paths;
use thiserror::Error;
use tokio::sync::{Semaphore, broadcast};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::fetch::Fetcher;
use crate::journal::{InputJobs, Journal, JournalError, NewJob};
use crate::media::Include;
use crate::naming::Naming;
use crate::process::StripOptions;
use crate::request::{JobRequest, LocalFile, RequestedMedia};

/// What happened to a job, for subscribers (the IPC connections, the CLI, the status page).
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    Progress(Progress),
    Finished(Finished),
    /// An ended job's package is gone from the output folder — deleted by the user, or by
    /// `retention_days` — or, deleted by hand, is back; the journal says so
    /// ([`crate::outputs`]).
    PackageChanged {
        job: JobId,
        present: bool,
    },
}

impl JobEvent {
    pub fn job(&self) -> JobId {
        match self {
            JobEvent::Progress(p) => p.job,
            JobEvent::Finished(f) => f.job,
            JobEvent::PackageChanged { job, .. } => *job,
        }
    }
}

/// A grab to run.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// The product page: its URL, title and (when the browser or a saved file provided it) HTML.
    pub page_url: Option<String>,
    pub page_title: Option<String>,
    pub page_html: Option<String>,
    /// Fetch `page_url` and extract it (a product page listed in an inbox URL list).
    pub fetch_page: bool,
    /// Media URLs to save.
    pub media: Vec<RequestedMedia>,
    /// Package name when there is no product to name it after.
    pub name: Option<String>,
    /// Output folder for this job (default: the config's).
    pub out_dir: Option<PathBuf>,
    pub package: Option<PackageMode>,
    /// Processing preset (default: the config's `preset`).
    pub preset: Option<String>,
    /// The user's own files to store (set by the inbox only).
    pub local_files: Vec<LocalFile>,
    /// How entries are named (default: the config's `naming`).
    pub naming: Option<Naming>,
    /// The product's SKU or ASIN (set by the inbox only, from a spreadsheet row).
    pub sku: Option<String>,
    /// Save listed links exactly as given (default: the config's `keep_links_as_given`).
    pub as_given: Option<bool>,
    /// The roles to save (default: the config's `include`).
    pub include: Option<Include>,
}

/// A wire grab's option that this haul cannot use.
#[derive(Debug, Error)]
pub enum GrabError {
    #[error(transparent)]
    Naming(#[from] crate::naming::NamingError),
    #[error(transparent)]
    Include(#[from] crate::media::IncludeError),
}

impl Submission {
    /// The one conversion of a wire [`Grab`] — from the socket, the status page's API or `haul
    /// grab` — into a submission. A grab never names local files, a SKU or a preset: those come
    /// from the inbox only.
    pub fn from_grab(grab: Grab) -> Result<Submission, GrabError> {
        let naming = grab
            .options
            .naming
            .as_deref()
            .map(str::parse::<Naming>)
            .transpose()?;
        let include = grab.options.include.map(Include::try_from).transpose()?;
        let page = grab.page.unwrap_or_default();
        Ok(Submission {
            page_url: Some(page.url.trim().to_string()).filter(|u| !u.is_empty()),
            page_title: page.title,
            page_html: page.html,
            media: grab
                .media
                .into_iter()
                .map(|m| RequestedMedia {
                    kind: m.kind,
                    chosen: m.chosen,
                    ..RequestedMedia::link(m.url.trim())
                })
                .collect(),
            name: grab.options.name,
            out_dir: grab.options.out_dir.map(Into::into),
            package: grab.options.package,
            naming,
            as_given: grab.options.as_given,
            include,
            // A product page's address alone is fetched all the same: the engine decides.
            ..Default::default()
        })
    }
}

/// The product page a grab asks for by its address alone — its page address without HTML or
/// media, or its one media URL — when it names a page ([`crate::extract::names_a_page`]: a
/// product page of a shop haul reads, or a page address of any shop). Such a grab fetches the page and extracts it, whoever
/// sent it: `haul grab <address>`, the status page's form, a socket client. A browser always
/// sends the HTML it has.
fn lone_product_address(submission: &Submission) -> Option<String> {
    let address = match (submission.page_url.as_deref(), submission.media.as_slice()) {
        (Some(url), []) => url,
        (None, [only]) => &only.url,
        _ => return None,
    };
    let address = address.trim();
    crate::extract::names_a_page(address).then(|| address.to_string())
}

/// Engine failures (per-item failures are not errors: they end up in the manifest).
#[derive(Debug, Error)]
pub enum EngineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Client(#[from] crate::fetch::client::ClientError),
    #[error("nothing to grab: give media URLs or a page with its HTML")]
    NothingToGrab,
    /// More media than one job may hold ([`haul_protocol::message::MAX_GRAB_MEDIA`]).
    #[error("{}", haul_protocol::message::too_many_media())]
    TooManyMedia,
    #[error("cannot save the page for the job in {}: {source}", path.display())]
    SavePage {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("haul is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Preset(#[from] crate::process::preset::PresetError),
}

/// The job engine (cheap to clone).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    paths: Paths,
    journal: Arc<Journal>,
    fetcher: Fetcher,
    strip: StripOptions,
    events: broadcast::Sender<JobEvent>,
    job_slots: Semaphore,
    /// Cleaning and hashing run on the blocking pool; this keeps them to one per core so they
    /// never starve the downloads of CPU.
    cpu_slots: Arc<Semaphore>,
    running: Mutex<HashMap<JobId, RunningJob>>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    page_counter: AtomicU64,
}

struct RunningJob {
    cancel: CancellationToken,
    /// Set when the user (not a shutdown) cancelled.
    by_user: Arc<std::sync::atomic::AtomicBool>,
}

impl Engine {
    /// An engine over `journal`, stopped by `shutdown`.
    pub fn new(
        config: Config,
        paths: Paths,
        journal: Arc<Journal>,
        shutdown: CancellationToken,
    ) -> Result<Engine, EngineError> {
        let fetcher = Fetcher::new(&config)?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (events, _) = broadcast::channel(4096);
        Ok(Engine {
            inner: Arc::new(Inner {
                strip: StripOptions {
                    strip_icc: config.strip_icc,
                },
                job_slots: Semaphore::new(config.max_jobs),
                config,
                paths,
                journal,
                fetcher,
                events,
                cpu_slots: Arc::new(Semaphore::new(cores)),
                running: Mutex::new(HashMap::new()),
                shutdown,
                tasks: TaskTracker::new(),
                page_counter: AtomicU64::new(0),
            }),
        })
    }

    /// The journal the engine writes.
    pub fn journal(&self) -> &Arc<Journal> {
        &self.inner.journal
    }

    /// The config the engine runs with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The paths the engine runs with.
    pub fn paths(&self) -> &Paths {
        &self.inner.paths
    }

    /// Events of every job from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.inner.events.subscribe()
    }

    /// Tells subscribers that `job`'s package is gone, or back when `present` (the journal
    /// already records it).
    pub fn announce_package(&self, job: JobId, present: bool) {
        // No subscribers is fine: the journal has everything.
        let _ = self
            .inner
            .events
            .send(JobEvent::PackageChanged { job, present });
    }

    /// Journals a grab and starts it; returns as soon as the job is journaled.
    pub fn submit(&self, submission: Submission) -> Result<JobId, EngineError> {
        let ids = self.submit_all(vec![submission], None)?;
        ids.first()
            .copied()
            .ok_or_else(|| EngineError::Journal(JournalError::Corrupt("no job id".into())))
    }

    /// Journals several grabs in one transaction (recorded as the jobs of an inbox input when
    /// given) and starts them. Either every job is journaled or none is.
    pub fn submit_all(
        &self,
        submissions: Vec<Submission>,
        input: Option<InputJobs<'_>>,
    ) -> Result<Vec<JobId>, EngineError> {
        if self.inner.shutdown.is_cancelled() {
            return Err(EngineError::ShuttingDown);
        }
        // Each submission becomes its job as it is journaled, and is freed then: a 10,000-row
        // spreadsheet never holds its submissions and their jobs at once.
        let jobs = submissions.into_iter().map(|s| self.new_job(s));
        let ids = self.inner.journal.create_jobs_from(jobs, input)?;
        for &id in &ids {
            self.start(id);
        }
        if ids.len() >= LARGE_BATCH {
            // The batch's submissions are freed; give their pages back now rather than when
            // every job has ended, hours later perhaps.
            return_freed_memory();
        }
        Ok(ids)
    }

    /// Checks a grab and turns it into the job to journal (saving the page HTML beside it).
    fn new_job(&self, mut submission: Submission) -> Result<NewJob, EngineError> {
        // Whoever sent it (socket, status page, inbox list): one job's items are bounded.
        if submission.media.len() > haul_protocol::message::MAX_GRAB_MEDIA {
            return Err(EngineError::TooManyMedia);
        }
        let has_page_html = submission
            .page_html
            .as_deref()
            .is_some_and(|h| !h.trim().is_empty());
        if !has_page_html
            && submission.local_files.is_empty()
            && let Some(address) = lone_product_address(&submission)
        {
            submission.page_url = Some(address);
            submission.media.clear();
            submission.fetch_page = true;
        }
        let page_to_fetch = submission.fetch_page && submission.page_url.is_some();
        if submission.media.is_empty()
            && submission.local_files.is_empty()
            && !has_page_html
            && !page_to_fetch
        {
            return Err(EngineError::NothingToGrab);
        }
        // Every choice is fixed now, so a job resumed after the config changed is finished as
        // it was asked for: the preset by its name and its settings.
        let preset = submission
            .preset
            .clone()
            .unwrap_or_else(|| self.inner.config.preset.clone());
        self.inner.config.resolve_preset(&preset)?;
        let preset_settings = crate::process::preset::settings(&preset, &self.inner.config.presets);
        let page_file = match submission.page_html.filter(|_| has_page_html) {
            Some(html) => Some(self.save_page(&html)?),
            None => None,
        };
        let label = submission
            .page_title
            .clone()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| submission.name.clone())
            .or_else(|| submission.page_url.clone())
            .or_else(|| submission.media.first().map(|m| m.url.clone()))
            .unwrap_or_default();
        Ok(NewJob {
            label,
            request: JobRequest {
                page_url: submission.page_url,
                page_title: submission.page_title,
                page_file,
                fetch_page: page_to_fetch,
                media: submission.media,
                name: submission.name,
                preset: Some(preset),
                preset_settings,
                local_files: submission.local_files,
                naming: Some(
                    submission
                        .naming
                        .unwrap_or_else(|| self.inner.config.naming.clone()),
                ),
                sku: submission.sku,
                as_given: submission
                    .as_given
                    .unwrap_or(self.inner.config.keep_links_as_given),
                include: Some(submission.include.unwrap_or(self.inner.config.include)),
            },
            out_dir: submission
                .out_dir
                .unwrap_or_else(|| self.inner.config.output_dir(&self.inner.paths)),
            package_mode: submission.package.unwrap_or(self.inner.config.package),
        })
    }

    /// Restarts every job the journal holds as unfinished (after a crash or a shutdown).
    pub fn resume_unfinished(&self) -> Result<Vec<JobId>, EngineError> {
        let ids = self.inner.journal.unfinished_jobs()?;
        self.remove_partial_packages(&ids)?;
        for &id in &ids {
            self.start(id);
        }
        Ok(ids)
    }

    /// Removes the hidden partial packages a failed write or a killed haul left in the output
    /// folders (the default one and every unfinished job's own), keeping only those an
    /// unfinished job has journaled as written in full (its staging, renamed when it resumes).
    fn remove_partial_packages(&self, unfinished: &[JobId]) -> Result<(), EngineError> {
        let mut staged = Vec::new();
        let mut dirs = vec![self.inner.config.output_dir(&self.inner.paths)];
        for &id in unfinished {
            let job = self.inner.journal.job(id)?;
            if let Some(staging) = &job.staging {
                staged.extend(staging.paths.iter().map(|p| (id, p.temp.clone())));
            }
            if !dirs.contains(&job.out_dir) {
                dirs.push(job.out_dir);
            }
        }
        for dir in dirs {
            let keep = |job: JobId, path: &std::path::Path| {
                staged.iter().any(|(j, p)| *j == job && p == path)
            };
            for path in crate::package::remove_partials(&dir, keep) {
                tracing::info!(path = %path.display(), "removed a partial package left behind");
            }
        }
        Ok(())
    }

    /// Cancels a running or queued job. `false` when it is not running here.
    pub fn cancel(&self, job: JobId) -> bool {
        let running = self.inner.running.lock().unwrap_or_else(|p| p.into_inner());
        match running.get(&job) {
            Some(r) => {
                r.by_user.store(true, Ordering::SeqCst);
                r.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Waits until every started job has stopped (finished, or halted by the shutdown token).
    pub async fn wait(&self) {
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
        self.inner.tasks.reopen();
    }

    fn start(&self, id: JobId) {
        let cancel = self.inner.shutdown.child_token();
        let by_user = Arc::new(std::sync::atomic::AtomicBool::new(false));
        {
            let mut running = self.inner.running.lock().unwrap_or_else(|p| p.into_inner());
            if running.contains_key(&id) {
                return;
            }
            running.insert(
                id,
                RunningJob {
                    cancel: cancel.clone(),
                    by_user: by_user.clone(),
                },
            );
        }
        let inner = self.inner.clone();
        self.inner.tasks.spawn(async move {
            run::run_job(&inner, id, &cancel, &by_user).await;
            let idle = {
                let mut running = inner.running.lock().unwrap_or_else(|p| p.into_inner());
                running.remove(&id);
                running.is_empty()
            };
            if idle {
                return_freed_memory();
            }
        });
    }

    fn save_page(&self, html: &str) -> Result<PathBuf, EngineError> {
        let dir = self.inner.paths.data_dir.join("pages");
        let n = self.inner.page_counter.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(
            "{}-{}-{n}.html",
            crate::journal::now_ms(),
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, html))
            .map_err(|source| EngineError::SavePage {
                path: path.clone(),
                source,
            })?;
        Ok(path)
    }
}

/// Batches of this many jobs or more give their memory back once journaled.
const LARGE_BATCH: usize = 1000;

/// Gives the memory jobs freed back to the system once none runs. glibc keeps freed memory in
/// its arenas for reuse; after a 200,000-item grab the daemon stayed at 3.37 GB resident although
/// nothing was in use. `malloc_trim` hands the free pages back (other allocators need nothing).
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer; it only releases the allocator's own free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(urls: &[&str]) -> Vec<RequestedMedia> {
        urls.iter().map(|u| RequestedMedia::link(*u)).collect()
    }

    /// The one conversion of a wire grab: every option carried, nothing the wire may not name.
    #[test]
    fn a_grab_becomes_a_submission_in_one_place() {
        use haul_protocol::message::{GrabOptions, MediaKind, MediaRef, Page};
        let grab = Grab {
            id: None,
            page: Some(Page {
                url: " https://shop.example/p/1 ".into(),
                title: Some("Lamp".into()),
                html: Some("<html></html>".into()),
            }),
            media: vec![MediaRef {
                url: " https://cdn.example/1.jpg".into(),
                kind: Some(MediaKind::Image),
                chosen: true,
            }],
            options: GrabOptions {
                out_dir: Some("/out".into()),
                name: Some("lamp".into()),
                package: Some(PackageMode::Both),
                naming: Some("amazon-upload".into()),
                as_given: Some(true),
                include: Some(vec!["main".into(), "video".into()]),
            },
        };
        let s = Submission::from_grab(grab.clone()).unwrap();
        assert_eq!(s.page_url.as_deref(), Some("https://shop.example/p/1"));
        assert_eq!(s.page_title.as_deref(), Some("Lamp"));
        assert_eq!(s.media[0].url, "https://cdn.example/1.jpg");
        assert!(s.media[0].chosen && s.media[0].kind == Some(MediaKind::Image));
        assert_eq!(s.out_dir, Some(PathBuf::from("/out")));
        assert_eq!(s.package, Some(PackageMode::Both));
        assert_eq!(s.naming, Some(Naming::AmazonUpload));
        assert_eq!(s.as_given, Some(true));
        assert_eq!(
            s.include.map(|i| i.to_string()).as_deref(),
            Some("main,video")
        );
        assert!(s.local_files.is_empty() && s.sku.is_none() && s.preset.is_none());
        let mut bad = grab;
        bad.options.naming = Some("{nonsense".into());
        assert!(matches!(
            Submission::from_grab(bad),
            Err(GrabError::Naming(_))
        ));
    }

    #[test]
    fn a_product_address_alone_is_a_page_to_fetch() {
        const PAGE: &str = "https://www.amazon.com/dp/B0BRZXRBZL";
        let alone = |submission: Submission| lone_product_address(&submission);
        assert_eq!(
            alone(Submission {
                page_url: Some(PAGE.into()),
                ..Default::default()
            })
            .as_deref(),
            Some(PAGE)
        );
        assert_eq!(
            alone(Submission {
                media: media(&[&format!(" {PAGE} ")]),
                ..Default::default()
            })
            .as_deref(),
            Some(PAGE)
        );
        for not_alone in [
            Submission {
                media: media(&[PAGE, "https://m.media-amazon.com/images/I/81abc.jpg"]),
                ..Default::default()
            },
            Submission {
                page_url: Some(PAGE.into()),
                media: media(&["https://m.media-amazon.com/images/I/81abc.jpg"]),
                ..Default::default()
            },
            Submission {
                media: media(&["https://m.media-amazon.com/images/I/81abc.jpg"]),
                ..Default::default()
            },
        ] {
            assert_eq!(alone(not_alone), None);
        }
    }
}
