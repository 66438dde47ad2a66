//! The watched inbox: what a user drops into it becomes jobs, and the input comes back in
//! `done/` or `failed/` with a report.
//!
//! An input's life (each step journaled, so a restart continues where it stopped):
//!
//! 1. **Settle.** The folder is watched (notify; a periodic scan where native events are not
//!    available, and a slow one beside them for events a network share never sends); an entry is
//!    taken once it stops changing ([`settle`]).
//! 2. **Take.** The input is recorded in the journal, then moved to `processing/<id>-<name>`, so
//!    a restart neither loses it nor takes it twice.
//! 3. **Read.** Its lines, rows or images become grabs ([`input`]); what cannot be used (a bad row,
//!    a line that is not a URL) is noted for the report and the rest goes on. Nothing is read
//!    through a link, symbolic or hard ([`crate::own_file`]): a link is refused, and the report says so.
//! 4. **Submit.** Every grab of the input is journaled in one transaction, together with the
//!    input's list of jobs; the engine runs them like any other grab (they show in `haul status`).
//! 5. **Return.** When every job has ended, the input moves to `done/` — or to `failed/` when
//!    nothing could be saved — and `<name>.error.txt` beside it says what went wrong and what to
//!    do ([`outcome`]). Nothing dropped is ever deleted or overwritten: a name already taken in
//!    `done/` or `failed/` gets a ` (2)` suffix.
//!
//! On start, inputs left in `processing/` are continued first; files that arrived while the
//! daemon was down are simply in the inbox and are taken by the first scan.

mod outcome;
pub mod settle;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use haul_protocol::message::JobId;
use notify::{EventKind, RecursiveMode};
use thiserror::Error;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::input;
use crate::jobs::Engine;
use crate::journal::{InboxInput, InputJobs, InputState, JournalError};

use settle::{DONE, FAILED, PROCESSING, Settler};

/// Scan interval when no native file events are available.
const POLL: Duration = Duration::from_secs(2);
/// Scan interval beside native events (network shares and some mounts send none).
const SAFETY_POLL: Duration = Duration::from_secs(30);
/// How often a waiting input looks at its jobs besides the engine's events.
const JOB_CHECK: Duration = Duration::from_secs(2);

/// Why the inbox cannot be watched.
#[derive(Debug, Error)]
pub enum InboxError {
    #[error("cannot create the inbox folder {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// The inbox's folders.
#[derive(Debug, Clone)]
struct Folders {
    inbox: PathBuf,
    processing: PathBuf,
    done: PathBuf,
    failed: PathBuf,
}

impl Folders {
    fn new(inbox: PathBuf) -> Folders {
        Folders {
            processing: inbox.join(PROCESSING),
            done: inbox.join(DONE),
            failed: inbox.join(FAILED),
            inbox,
        }
    }

    /// Creates the inbox and its own folders; those three are private to the user (0700, also
    /// when an older haul made them open): they hold the user's inputs and the reports on them.
    fn create(&self) -> Result<(), InboxError> {
        let err = |dir: &PathBuf| {
            let path = dir.clone();
            move |source| InboxError::CreateDir { path, source }
        };
        std::fs::create_dir_all(&self.inbox).map_err(err(&self.inbox))?;
        for dir in [&self.processing, &self.done, &self.failed] {
            haul_protocol::private::create_dir(dir).map_err(err(dir))?;
        }
        Ok(())
    }
}

/// Watches the inbox until `shutdown` fires, then waits for its own tasks (jobs keep running
/// under the engine, and their inputs are continued on the next start).
pub async fn run(engine: Engine, shutdown: CancellationToken) -> Result<(), InboxError> {
    let folders = Folders::new(engine.config().inbox_dir(engine.paths()));
    folders.create()?;
    let settle = Duration::from_millis(engine.config().inbox_settle_ms);
    let service = Arc::new(Service {
        engine,
        folders: folders.clone(),
        shutdown: shutdown.clone(),
        tasks: TaskTracker::new(),
    });

    // The sender kept here holds the channel open when there is no watcher (else `recv` would
    // return at once, forever).
    let (events_tx, mut events) = mpsc::channel::<Option<PathBuf>>(256);
    let watcher = start_watcher(&folders.inbox, events_tx.clone());
    let idle_poll = if watcher.is_some() { SAFETY_POLL } else { POLL };

    for input in service.engine.journal().unfinished_inputs()? {
        service.continue_input(input);
    }
    service.adopt_strays()?;

    let mut settler = Settler::new(folders.inbox.clone(), settle);
    loop {
        for path in settler.scan(Instant::now()) {
            service.take(path);
        }
        let wait = if settler.waiting() {
            (settle / 2).max(Duration::from_millis(50))
        } else {
            idle_poll
        };
        tokio::select! {
            event = events.recv() => {
                if let Some(Some(renamed)) = event {
                    settler.renamed_in(renamed);
                }
            }
            () = tokio::time::sleep(wait) => {}
            () = shutdown.cancelled() => break,
        }
    }
    drop(watcher);
    service.tasks.close();
    service.tasks.wait().await;
    Ok(())
}

/// Native events for the inbox (not its subfolders' contents beyond what a folder drop needs).
/// `None` when the platform or the file system offers none: the caller polls instead.
fn start_watcher(
    dir: &Path,
    events: mpsc::Sender<Option<PathBuf>>,
) -> Option<notify::RecommendedWatcher> {
    let inbox = dir.to_path_buf();
    let handler = move |result: notify::Result<notify::Event>| {
        let Ok(event) = result else {
            let _ = events.try_send(None);
            return;
        };
        // A rename whose target sits directly in the inbox put a finished file in place.
        let renamed = matches!(
            event.kind,
            EventKind::Modify(notify::event::ModifyKind::Name(
                notify::event::RenameMode::To | notify::event::RenameMode::Both
            ))
        );
        let target = event
            .paths
            .last()
            .filter(|p| renamed && p.parent() == Some(inbox.as_path()))
            .cloned();
        // A full channel already holds a wake-up; dropping this one loses nothing.
        let _ = events.try_send(target);
    };
    crate::watch::watch_folder(dir, RecursiveMode::Recursive, "the inbox", POLL, handler)
}

struct Service {
    engine: Engine,
    folders: Folders,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Service {
    /// Step 2: records `path` and moves it to `processing/`, then handles it in a task.
    fn take(self: &Arc<Self>, path: PathBuf) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let journal = self.engine.journal();
        let input = match journal.create_input(&name, &self.folders.processing) {
            Ok(input) => input,
            Err(e) => {
                tracing::error!(input = %path.display(), error = %e, "cannot record an inbox input");
                return;
            }
        };
        if let Err(e) = std::fs::rename(&path, &input.taken) {
            // Gone meanwhile, or not ours to move: it stays where the user put it.
            tracing::warn!(input = %path.display(), error = %e, "cannot take an inbox input");
            if let Err(e) = journal.forget_input(input.id) {
                tracing::error!(error = %e, "cannot forget an inbox input");
            }
            return;
        }
        tracing::info!(input = %name, id = input.id, "inbox input taken");
        self.continue_input(input);
    }

    /// Steps 3–5 for an input, in a task of the inbox.
    fn continue_input(self: &Arc<Self>, input: InboxInput) {
        let service = self.clone();
        self.tasks.spawn(async move {
            if let Err(e) = service.handle(input).await {
                tracing::error!(error = %e, "an inbox input stopped");
            }
        });
    }

    /// Files in `processing/` that the journal does not know (a crash came between the move and
    /// the journal's commit cannot happen — the record comes first — but a user may put files
    /// there): they are taken like new inputs.
    fn adopt_strays(self: &Arc<Self>) -> Result<(), InboxError> {
        let known: Vec<PathBuf> = self
            .engine
            .journal()
            .unfinished_inputs()?
            .into_iter()
            .map(|i| i.taken)
            .collect();
        let Ok(entries) = std::fs::read_dir(&self.folders.processing) else {
            return Ok(());
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if !known.contains(&path) {
                self.take(path);
            }
        }
        Ok(())
    }

    async fn handle(&self, mut input: InboxInput) -> Result<(), JournalError> {
        let journal = self.engine.journal();
        if input.state == InputState::Taken {
            if std::fs::symlink_metadata(&input.taken).is_err() {
                // Recorded, but the move never happened: the file is still in the inbox.
                return journal.forget_input(input.id);
            }
            let context = input::Context {
                config: self.engine.config(),
                name: &input.name,
            };
            let reading = match input::read(&input.taken, &context) {
                Ok(reading) => reading,
                Err(e) => {
                    let report = outcome::Report::unreadable(&input.name, &e.to_string());
                    return self.give_back(&input, report);
                }
            };
            if reading.submissions.is_empty() {
                let report = outcome::Report::nothing_to_do(&input.name, &reading.problems);
                return self.give_back(&input, report);
            }
            match self.engine.submit_all(
                reading.submissions,
                Some(InputJobs {
                    input: input.id,
                    report: &reading.problems,
                }),
            ) {
                Ok(jobs) => {
                    input.jobs = jobs;
                    input.report = reading.problems;
                }
                Err(crate::jobs::EngineError::ShuttingDown) => return Ok(()),
                Err(e) => {
                    let report = outcome::Report::unreadable(&input.name, &e.to_string());
                    return self.give_back(&input, report);
                }
            }
        }
        if !self.wait_for_jobs(&input.jobs).await? {
            return Ok(()); // Shutting down: continued on the next start.
        }
        let report = outcome::Report::of_jobs(journal, &input)?;
        self.give_back(&input, report)
    }

    /// Waits until every job has ended; `false` when the daemon is shutting down first.
    async fn wait_for_jobs(&self, jobs: &[JobId]) -> Result<bool, JournalError> {
        let mut events = self.engine.subscribe();
        loop {
            let mut ended = true;
            for &job in jobs {
                ended &= self.engine.journal().job(job)?.state.is_terminal();
            }
            if ended {
                return Ok(true);
            }
            tokio::select! {
                _ = events.recv() => {}
                () = tokio::time::sleep(JOB_CHECK) => {}
                () = self.shutdown.cancelled() => return Ok(false),
            }
        }
    }

    /// Step 5: moves the input to `done/` or `failed/` with its report.
    fn give_back(&self, input: &InboxInput, report: outcome::Report) -> Result<(), JournalError> {
        let dir = if report.failed {
            &self.folders.failed
        } else {
            &self.folders.done
        };
        match outcome::return_input(&input.taken, &input.name, dir, &report) {
            Ok(result) => {
                tracing::info!(input = %input.name, to = %result.display(), failed = report.failed, "inbox input returned");
                self.engine
                    .journal()
                    .finish_input(input.id, report.failed, &result)
            }
            Err(e) => {
                // It stays in processing/ and is tried again on the next start.
                tracing::error!(input = %input.name, error = %e, "cannot return an inbox input");
                Ok(())
            }
        }
    }
}
