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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
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
/// How often a waiting input looks at its jobs besides the ends it is told of.
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
        waiting: Arc::new(Waiting::default()),
    });
    service.tasks.spawn(Waiting::follow(
        service.waiting.clone(),
        service.engine.subscribe(),
        shutdown.clone(),
    ));

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
    waiting: Arc<Waiting>,
}

/// How much of the journal a waiting input reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Look {
    All,
    UntilRunning,
}

/// What a waiting input is told: one of its jobs ended, or events were missed (look again).
type Wake = Option<JobId>;

/// The inputs waiting for their jobs, by job. One task follows the engine's events and tells
/// the input whose job ended — so with 10,000 inputs waiting (or one spreadsheet of 10,000 jobs),
/// an event costs one lookup, not a wake-up and a journal read for every waiting input.
#[derive(Default)]
struct Waiting {
    by_job: Mutex<HashMap<JobId, mpsc::UnboundedSender<Wake>>>,
}

impl Waiting {
    fn jobs(&self) -> std::sync::MutexGuard<'_, HashMap<JobId, mpsc::UnboundedSender<Wake>>> {
        self.by_job
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers `jobs`; ends are sent to the returned receiver.
    fn register(&self, jobs: &[JobId]) -> mpsc::UnboundedReceiver<Wake> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut by_job = self.jobs();
        for &job in jobs {
            by_job.insert(job, tx.clone());
        }
        rx
    }

    fn forget(&self, jobs: impl IntoIterator<Item = JobId>) {
        let mut by_job = self.jobs();
        for job in jobs {
            by_job.remove(&job);
        }
    }

    /// Tells each job's end to its input; after missed events, every waiting input looks again.
    async fn follow(
        waiting: Arc<Waiting>,
        mut events: tokio::sync::broadcast::Receiver<crate::jobs::JobEvent>,
        shutdown: CancellationToken,
    ) {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                () = shutdown.cancelled() => return,
            };
            match event {
                Ok(crate::jobs::JobEvent::Finished(f)) => {
                    if let Some(tx) = waiting.jobs().remove(&f.job) {
                        let _ = tx.send(Some(f.job));
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    for tx in waiting.jobs().values() {
                        let _ = tx.send(None);
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    }
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
        let known: HashSet<PathBuf> = self
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
        let mut ends = self.waiting.register(jobs);
        let mut pending: HashSet<JobId> = jobs.iter().copied().collect();
        let result = self.wait_for(&mut pending, &mut ends).await;
        self.waiting.forget(pending);
        result
    }

    /// Takes ended jobs out of `pending` as they are told (and, now and then, as the journal
    /// says) until none is left.
    async fn wait_for(
        &self,
        pending: &mut HashSet<JobId>,
        ends: &mut mpsc::UnboundedReceiver<Wake>,
    ) -> Result<bool, JournalError> {
        let journal = self.engine.journal();
        // What to read in the journal before waiting: every pending job (at first, when the
        // jobs may have ended before they were registered, and after missed events), or only
        // until the first still running (the safety net beside the ends the follower tells).
        let mut look = Some(Look::All);
        let mut told = true;
        loop {
            if let Some(look) = look {
                let mut ended = Vec::new();
                for &job in pending.iter() {
                    if journal.job_state(job)?.is_terminal() {
                        ended.push(job);
                    } else if look == Look::UntilRunning {
                        break;
                    }
                }
                for job in ended {
                    pending.remove(&job);
                }
            }
            if pending.is_empty() {
                return Ok(true);
            }
            tokio::select! {
                wake = ends.recv(), if told => match wake {
                    Some(Some(job)) => {
                        pending.remove(&job);
                        look = None;
                    }
                    Some(None) => look = Some(Look::All),
                    // Nobody is left to tell (cannot happen while a job is pending): the
                    // journal, now and then, says the rest.
                    None => told = false,
                },
                () = tokio::time::sleep(JOB_CHECK) => look = Some(Look::UntilRunning),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobEvent;
    use haul_protocol::message::{Finished, JobState, Progress};

    fn finished(job: JobId) -> JobEvent {
        JobEvent::Finished(Finished {
            job,
            status: JobState::Complete,
            output: None,
            outputs: Vec::new(),
            saved: 0,
            left_out: 0,
            failed: 0,
            total: 0,
            failures: Vec::new(),
        })
    }

    /// A job's end reaches only the input waiting for it, once; other events reach nobody; after
    /// missed events every waiting input is told to look again.
    #[tokio::test]
    async fn an_end_is_told_to_its_own_input_only() {
        let waiting = Arc::new(Waiting::default());
        let (events, receiver) = tokio::sync::broadcast::channel(4);
        let stop = CancellationToken::new();
        let follower = tokio::spawn(Waiting::follow(waiting.clone(), receiver, stop.clone()));
        let mut first = waiting.register(&[1, 2]);
        let mut second = waiting.register(&[3]);

        events.send(finished(2)).unwrap();
        assert_eq!(first.recv().await, Some(Some(2)));
        events
            .send(JobEvent::Progress(Progress {
                job: 3,
                done: 0,
                total: 1,
                failed: 0,
                bytes: 0,
                bytes_total: None,
                item: None,
            }))
            .unwrap();
        events.send(finished(2)).unwrap(); // told already: nobody is told again
        events.send(finished(3)).unwrap();
        assert_eq!(second.recv().await, Some(Some(3)));
        assert!(
            first.try_recv().is_err(),
            "the first input heard nothing else"
        );
        assert_eq!(waiting.jobs().len(), 1, "only job 1 is still waited for");

        // More events than the channel holds: the follower missed some.
        for job in 10..20 {
            events.send(finished(job)).unwrap();
        }
        assert_eq!(first.recv().await, Some(None), "look again");
        stop.cancel();
        follower.await.unwrap();
    }
}
