//! Output folder care, while the daemon runs: the journal keeps saying what is really in the
//! output folder, and — only when the user asks for it with `retention_days` — old packages are
//! removed.
//!
//! Why a service of its own, beside the inbox (and not part of [`crate::package`], which the
//! engine uses to write packages — the service uses the engine): the deleted-package check
//! ([`crate::package::deleted`]) at start-up and in
//! `haul status` leaves the status page pointing at a ZIP the user threw away minutes ago, and
//! retention has to run on a timer. Both are about the same folder and the same journal columns
//! (`removed_at`, `removed_note`), so one task of the daemon does both:
//!
//! 1. **Deleted packages.** The output folder is watched ([`crate::watch`], not recursively: a
//!    package is a ZIP or a folder directly in it); a removal, a rename or a creation there runs
//!    the check once [`DEBOUNCE`] has passed — on the packages recorded at the paths the events
//!    named ([`Pending`]), so deleting a hundred ZIPs is one check and haul's own writes during a
//!    batch never cost a `stat` of the whole history. It also runs every
//!    [`SWEEP`] beside the events — for jobs whose `--out` folder is elsewhere and for file
//!    systems that send no events — and every [`POLL`] while the folder cannot be watched (it
//!    does not exist yet, or the platform has no events); it is watched as soon as it can be.
//! 2. **Retention.** With `retention_days = N`, at start and then every [`RETENTION_EVERY`], each
//!    job that ended more than N days ago loses its package(s) — only those still exactly as
//!    haul wrote them ([`Engine::expire_packages`]). A package the user changed is kept and
//!    logged (once per run). Only the package paths the journal records are ever removed: never
//!    the inbox's `done/` and `failed/`, never anything else in the output folder.
//! 3. Either way the journal records the removal and [`Engine::announce_package`] tells the
//!    event stream's clients (the status page reloads its list).
//!
//! Every failure is logged and the service goes on: it must never stop the daemon.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use haul_protocol::message::JobId;
use notify::event::ModifyKind;
use notify::{EventKind, RecommendedWatcher, RecursiveMode};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::jobs::{Engine, ManageError};
use crate::journal::now_ms;
use crate::package::deleted::{self, Scope};

/// Quiet time after a removal event before the check runs.
const DEBOUNCE: Duration = Duration::from_millis(500);
/// How often the check runs beside the folder's events.
const SWEEP: Duration = Duration::from_secs(180);
/// How often the check runs while the output folder cannot be watched.
const POLL: Duration = Duration::from_secs(5);
/// How often retention looks for old packages.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

const DAY_MS: i64 = 86_400_000;

/// Records packages in `scope` gone from disk (or back) and tells the event stream; logs what
/// goes wrong. Blocking (a `stat` per package looked at).
pub fn note_deleted(engine: &Engine, scope: &Scope) {
    match deleted::note_deleted_packages(engine.journal(), scope) {
        Ok(changes) => {
            if !changes.deleted.is_empty() {
                tracing::info!(jobs = ?changes.deleted, "packages deleted from the output folder");
            }
            if !changes.returned.is_empty() {
                tracing::info!(jobs = ?changes.returned, "packages put back into the output folder");
            }
            for &job in &changes.deleted {
                engine.announce_package(job, false);
            }
            for &job in &changes.returned {
                engine.announce_package(job, true);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot check the output folder for deleted packages"),
    }
}

/// Looks after the output folder until `shutdown` fires (the daemon has already run
/// [`note_deleted`] once before serving).
pub async fn run(engine: Engine, shutdown: CancellationToken) {
    let dir = engine.config().output_dir(engine.paths());
    let days = engine.config().retention_days;
    let mut retention = (days > 0).then(|| Retention::new(days));
    // The sender kept here holds the channel open while nothing is watched.
    let (wake_tx, mut wake) = mpsc::channel::<()>(1);
    let pending = Arc::new(Mutex::new(Pending::default()));
    let watch = || watch_output(&dir, pending.clone(), wake_tx.clone());
    let mut watcher = dir.is_dir().then(watch).flatten();
    // Cleared when the folder exists but cannot be watched (the platform or file system sends
    // no events): tried again only once the folder has gone and come back, so the reason is
    // logged once, not at every poll.
    let mut can_watch = watcher.is_some() || !dir.is_dir();
    let mut check_due: Option<Instant> = None;
    let mut next_sweep = Instant::now() + if watcher.is_some() { SWEEP } else { POLL };
    let mut next_retention = Instant::now();
    loop {
        if watcher.is_none() && can_watch && dir.is_dir() {
            watcher = watch();
            can_watch = watcher.is_some();
        }
        let now = Instant::now();
        let swept = next_sweep <= now;
        if check_due.is_some_and(|due| due <= now) || swept {
            check_due = None;
            // What the events named since the last check: only those packages, unless it is
            // time for the sweep (or an event named nothing).
            let named = pending.lock().unwrap_or_else(|p| p.into_inner()).take();
            let scope = if swept { Scope::All } else { named };
            let e = engine.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || note_deleted(&e, &scope)).await {
                tracing::error!(error = %e, "the deleted-package check stopped");
            }
            if !dir.is_dir() {
                // The folder went, and its watch with it: watched again once it is back.
                watcher = None;
                can_watch = true;
            }
            if swept {
                next_sweep = now + if watcher.is_some() { SWEEP } else { POLL };
            }
        }
        if let Some(pass) = retention.take_if(|_| next_retention <= now) {
            let e = engine.clone();
            retention = match tokio::task::spawn_blocking(move || pass.run(&e, now_ms())).await {
                Ok(pass) => Some(pass),
                Err(e) => {
                    tracing::error!(error = %e, "a retention pass stopped");
                    Some(Retention::new(days))
                }
            };
            next_retention = now + RETENTION_EVERY;
        }
        let mut wake_at = check_due.map_or(next_sweep, |due| due.min(next_sweep));
        if retention.is_some() {
            wake_at = wake_at.min(next_retention);
        }
        tokio::select! {
            Some(()) = wake.recv() => {
                // The first event of a burst sets the time; later ones do not postpone it, so
                // a folder that never stops changing is still checked.
                check_due.get_or_insert(Instant::now() + DEBOUNCE);
            }
            () = tokio::time::sleep_until(wake_at) => {}
            () = shutdown.cancelled() => break,
        }
    }
}

/// The paths the output folder's events named since the last check. The check then looks only
/// at the packages recorded there — haul's own writes into the folder during a batch are events
/// too, and must not cost a `stat` of every package in the history each time.
#[derive(Debug, Default)]
struct Pending {
    paths: HashSet<PathBuf>,
    /// An event without paths (lost events, a platform that cannot say), or too many paths.
    everything: bool,
}

/// More named paths than this before a check: it looks at every package instead.
const MAX_PENDING_PATHS: usize = 1_000;

impl Pending {
    fn add(&mut self, paths: Vec<PathBuf>) {
        if paths.is_empty() || self.paths.len() + paths.len() > MAX_PENDING_PATHS {
            self.everything = true;
            self.paths.clear();
        } else if !self.everything {
            self.paths.extend(paths);
        }
    }

    /// What to look at now; empties the list.
    fn take(&mut self) -> Scope {
        let all = std::mem::take(&mut self.everything);
        let paths = std::mem::take(&mut self.paths);
        if all {
            Scope::All
        } else {
            Scope::At(paths.into_iter().collect())
        }
    }
}

/// Events of the output folder that may mean a package went or came back: removals, renames,
/// creations (a package copied back), and anything the platform could not describe (including
/// lost events). Their paths go to `pending`; `wake` says there is something to look at.
fn watch_output(
    dir: &Path,
    pending: Arc<Mutex<Pending>>,
    wake: mpsc::Sender<()>,
) -> Option<RecommendedWatcher> {
    let handler = move |result: notify::Result<notify::Event>| {
        let named = match result {
            Ok(event)
                if matches!(
                    event.kind,
                    EventKind::Remove(_)
                        | EventKind::Create(_)
                        | EventKind::Modify(ModifyKind::Name(_))
                        | EventKind::Any
                        | EventKind::Other
                ) =>
            {
                event.paths
            }
            Ok(_) => return,
            Err(_) => Vec::new(),
        };
        pending.lock().unwrap_or_else(|p| p.into_inner()).add(named);
        // A full channel already holds a wake-up; dropping this one loses nothing.
        let _ = wake.try_send(());
    };
    crate::watch::watch_folder(
        dir,
        RecursiveMode::NonRecursive,
        "the output folder",
        POLL,
        handler,
    )
}

/// `retention_days`: removing the packages of jobs that ended long enough ago.
struct Retention {
    days: u32,
    /// Jobs whose package the user changed: kept, and logged once per run rather than every
    /// hour.
    left_alone: HashSet<JobId>,
}

impl Retention {
    fn new(days: u32) -> Retention {
        Retention {
            days,
            left_alone: HashSet::new(),
        }
    }

    /// What the journal says about a package removed by this setting.
    fn note(&self) -> String {
        let days = self.days;
        let unit = if days == 1 { "day" } else { "days" };
        format!("removed after {days} {unit} (retention_days = {days})")
    }

    /// One pass at `now_ms`: removes what is due, announces it, and returns itself for the next.
    fn run(mut self, engine: &Engine, now_ms: i64) -> Retention {
        let cutoff = now_ms.saturating_sub(i64::from(self.days) * DAY_MS);
        let due = match engine.journal().packages_finished_before(cutoff) {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot look for packages to remove (retention_days)");
                return self;
            }
        };
        let note = self.note();
        for job in due {
            if self.left_alone.contains(&job) {
                continue;
            }
            match engine.expire_packages(job, &note) {
                Ok(expiry) => {
                    if !expiry.removed.is_empty() {
                        tracing::info!(job, removed = ?expiry.removed, "{note}");
                        engine.announce_package(job, false);
                    }
                    if !expiry.kept.is_empty() {
                        tracing::warn!(job, kept = ?expiry.kept, "an old package was changed after haul wrote it; it is kept (retention_days)");
                        self.left_alone.insert(job);
                    }
                }
                // Running again (a retry): it ends anew, with a new end time.
                Err(ManageError::Active { .. }) => {}
                Err(ManageError::ShuttingDown) => break,
                Err(e) => tracing::warn!(job, error = %e, "cannot remove an old package"),
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use haul_protocol::message::JobState;
    use haul_protocol::paths::Paths;

    use super::*;
    use crate::config::Config;
    use crate::jobs::{JobEvent, Submission};
    use crate::journal::{JobRecord, Journal};
    use crate::naming::Naming;
    use crate::request::LocalFile;

    struct Home {
        _dir: tempfile::TempDir,
        paths: Paths,
        engine: Engine,
        photo: PathBuf,
    }

    fn home() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let journal = Arc::new(Journal::open(&paths.journal_file()).unwrap());
        let engine = Engine::new(
            Config::default(),
            paths.clone(),
            journal,
            CancellationToken::new(),
        )
        .unwrap();
        let photo = dir.path().join("photo.jpg");
        let pixels = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 90]));
        pixels.save(&photo).unwrap();
        Home {
            _dir: dir,
            paths,
            engine,
            photo,
        }
    }

    /// Runs a job of the user's own photo through the real engine; returns it once ended.
    async fn finished_job(home: &Home, name: &str) -> JobRecord {
        finished_job_of(home, name, &home.photo, None).await
    }

    async fn finished_job_of(
        home: &Home,
        name: &str,
        photo: &Path,
        naming: Option<Naming>,
    ) -> JobRecord {
        let mut events = home.engine.subscribe();
        let job = home
            .engine
            .submit(Submission {
                name: Some(name.into()),
                local_files: vec![LocalFile {
                    path: photo.to_path_buf(),
                    name: format!("{name}.MAIN"),
                    main: true,
                }],
                naming,
                ..Default::default()
            })
            .unwrap();
        let wait = async {
            loop {
                if let Ok(JobEvent::Finished(f)) = events.recv().await
                    && f.job == job
                {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .expect("the job ends");
        home.engine.wait().await;
        let record = home.engine.journal().job(job).unwrap();
        assert_eq!(record.state, JobState::Complete, "{record:?}");
        assert!(record.output.as_ref().is_some_and(|o| o.is_file()));
        record
    }

    fn removal(home: &Home, job: JobId) -> (Option<i64>, Option<String>) {
        let record = home.engine.journal().job(job).unwrap();
        (record.removed_at, record.removed_note)
    }

    #[tokio::test]
    async fn old_packages_go_and_recent_or_changed_ones_stay() {
        let home = home();
        let old = finished_job(&home, "old").await;
        let changed = finished_job(&home, "changed").await;
        // A job that ends later is younger than the cut-off below, whatever the clock's step.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let recent = finished_job(&home, "recent").await;
        let cutoff = changed.finished_at.unwrap() + 1;
        assert!(recent.finished_at.unwrap() >= cutoff);
        let changed_zip = changed.output.clone().unwrap();
        std::fs::write(&changed_zip, b"the user's own archive").unwrap();
        let mut events = home.engine.subscribe();

        let pass = Retention::new(30).run(&home.engine, cutoff + 30 * DAY_MS);

        assert!(
            !old.output.as_ref().unwrap().exists(),
            "old package removed"
        );
        let (at, note) = removal(&home, old.id);
        assert!(at.is_some());
        assert_eq!(
            note.as_deref(),
            Some("removed after 30 days (retention_days = 30)")
        );
        assert_eq!(
            events.try_recv().ok(),
            Some(JobEvent::PackageChanged {
                job: old.id,
                present: false
            })
        );
        assert!(events.try_recv().is_err(), "nothing else was removed");

        assert!(recent.output.as_ref().unwrap().is_file(), "recent kept");
        assert_eq!(removal(&home, recent.id), (None, None));
        assert_eq!(
            std::fs::read(&changed_zip).unwrap(),
            b"the user's own archive",
            "a package the user replaced is kept"
        );
        assert_eq!(removal(&home, changed.id), (None, None));
        assert!(pass.left_alone.contains(&changed.id), "and logged once");
        assert!(
            home.paths.output_dir.is_dir(),
            "only the packages go, never the folder"
        );
    }

    #[tokio::test]
    async fn a_package_with_converted_files_haul_wrote_goes_too() {
        let home = home();
        let webp = home.photo.with_extension("webp");
        image::open(&home.photo).unwrap().save(&webp).unwrap();
        let job = finished_job_of(&home, "listing", &webp, Some(Naming::AmazonUpload)).await;
        let zip = job.output.clone().unwrap();
        let mut package = crate::package::PackageReader::open(&zip).unwrap();
        let files = package.manifest().unwrap().files;
        assert!(
            files[0].converted_from.is_some(),
            "stored as JPEG: {files:?}"
        );

        Retention::new(7).run(&home.engine, now_ms() + 8 * DAY_MS);

        assert!(!zip.exists());
        assert_eq!(
            removal(&home, job.id).1.as_deref(),
            Some("removed after 7 days (retention_days = 7)")
        );
    }

    #[tokio::test]
    async fn a_missing_output_folder_changes_nothing() {
        let home = home();
        let job = finished_job(&home, "away").await;
        let unplugged = home.paths.output_dir.with_file_name("unplugged");
        std::fs::rename(&home.paths.output_dir, &unplugged).unwrap();

        Retention::new(1).run(&home.engine, now_ms() + 2 * DAY_MS);
        note_deleted(&home.engine, &Scope::All);

        assert_eq!(removal(&home, job.id), (None, None));
        std::fs::rename(&unplugged, &home.paths.output_dir).unwrap();
        assert!(job.output.as_ref().unwrap().is_file());
    }

    #[test]
    fn events_narrow_the_check_to_the_packages_they_name() {
        let mut pending = Pending::default();
        pending.add(vec![PathBuf::from("/out/a.zip")]);
        pending.add(vec![
            PathBuf::from("/out/a.zip"),
            PathBuf::from("/out/b.zip"),
        ]);
        let Scope::At(mut paths) = pending.take() else {
            panic!("named paths are looked at alone")
        };
        paths.sort();
        assert_eq!(
            paths,
            [PathBuf::from("/out/a.zip"), PathBuf::from("/out/b.zip")]
        );
        assert_eq!(pending.take(), Scope::At(Vec::new()), "taken once");

        pending.add(vec![PathBuf::from("/out/a.zip")]);
        pending.add(Vec::new());
        pending.add(vec![PathBuf::from("/out/c.zip")]);
        assert_eq!(pending.take(), Scope::All, "an event that names nothing");

        pending.add(
            (0..=MAX_PENDING_PATHS)
                .map(|n| PathBuf::from(format!("/out/{n}.zip")))
                .collect(),
        );
        assert_eq!(pending.take(), Scope::All, "too many to look at one by one");
    }

    #[test]
    fn the_note_says_how_long() {
        assert_eq!(
            Retention::new(1).note(),
            "removed after 1 day (retention_days = 1)"
        );
    }
}
