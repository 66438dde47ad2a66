//! `haul daemon`: the long-running service. [`run`] does all the work so tests can start a daemon
//! in-process from a temporary `HAUL_HOME`; the binary only parses flags, sets up logging and
//! turns SIGINT/SIGTERM into the shutdown token.
//!
//! Start-up, in order:
//! 1. take the engine lock ([`EngineLock`]): at most one process runs jobs for a set of paths
//!    (a daemon started while the previous one is still stopping waits [`LOCK_PATIENCE`] for it);
//!    then make private what an older haul left open to other users ([`crate::privacy`]);
//! 2. open the journal, resume every unfinished job and note packages deleted from the output
//!    folder meanwhile ([`crate::package::deleted`]);
//! 3. watch the inbox ([`crate::inbox`]), continuing inputs a previous run left unfinished, and
//!    the output folder ([`crate::outputs`]: packages deleted while it runs, and
//!    `retention_days`) — neither can stop the daemon: a failure there is logged;
//! 4. start the status page and JSON API on loopback ([`crate::status`]) — a failure there is
//!    logged, not fatal: the jobs matter more than the page;
//! 5. bind the local socket and serve until the shutdown token fires (the `hello` reply carries
//!    the status page's address, `status_link` a one-time link into it);
//! 6. on shutdown: stop accepting, let every task see the token, wait for them — running jobs
//!    and inbox inputs stay journaled as they are and resume on the next start.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use haul_protocol::paths::Paths;
use thiserror::Error;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::jobs::{Engine, EngineError};
use crate::journal::{Journal, JournalError};

/// Why the daemon could not run.
#[derive(Debug, Error)]
pub enum DaemonError {
    #[error("another haul daemon (or an in-process `haul grab`) is already running jobs for {}", data_dir.display())]
    AlreadyRunning { data_dir: PathBuf },
    #[error("cannot create or lock {}: {source}", path.display())]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on the local socket {socket}: {source}")]
    Bind {
        socket: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// How long a starting daemon waits for the engine lock.
pub const LOCK_PATIENCE: Duration = Duration::from_secs(5);

/// The exclusive lock of the process that runs jobs (the daemon, or `haul grab` when no daemon
/// runs). Released when dropped or when the process dies, however it dies.
pub struct EngineLock {
    _lock: Box<fd_lock::RwLockWriteGuard<'static, File>>,
}

impl EngineLock {
    /// Takes the lock, waiting up to `patience` for a daemon that is stopping (it still holds
    /// the lock while it finishes writing) — or `AlreadyRunning`.
    pub async fn acquire_waiting(
        paths: &Paths,
        patience: Duration,
    ) -> Result<EngineLock, DaemonError> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            match EngineLock::acquire(paths) {
                Err(DaemonError::AlreadyRunning { .. })
                    if tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    /// Takes the lock, or `AlreadyRunning`.
    pub fn acquire(paths: &Paths) -> Result<EngineLock, DaemonError> {
        let path = paths.daemon_lock_file();
        paths
            .ensure_runtime_dir()
            .map_err(|source| DaemonError::Lock {
                path: path.clone(),
                source,
            })?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| DaemonError::Lock {
                path: path.clone(),
                source,
            })?;
        // The lock lives as long as the process needs it; leaking one small allocation per
        // lock lets the guard be 'static without self-referential structs.
        let lock: &'static mut fd_lock::RwLock<File> =
            Box::leak(Box::new(fd_lock::RwLock::new(file)));
        match lock.try_write() {
            Ok(guard) => Ok(EngineLock {
                _lock: Box::new(guard),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                Err(DaemonError::AlreadyRunning {
                    data_dir: paths.data_dir.clone(),
                })
            }
            Err(source) => Err(DaemonError::Lock { path, source }),
        }
    }
}

/// What a daemon that has come up serves, for its greeting (`haul daemon` prints it).
#[derive(Debug, Clone)]
pub struct Ready {
    /// Where packages go.
    pub output_dir: PathBuf,
    /// The folder it watches for dropped lists, spreadsheets and pages.
    pub inbox_dir: PathBuf,
    /// The status page's address (`http://127.0.0.1:PORT/`), when it is up.
    pub status_url: Option<String>,
    /// Unfinished jobs taken up again.
    pub resumed: usize,
}

/// Runs the daemon until `shutdown` fires; `on_ready` is called once, when it serves.
pub async fn run(
    config: Config,
    paths: Paths,
    shutdown: CancellationToken,
    on_ready: impl FnOnce(&Ready) + Send,
) -> Result<(), DaemonError> {
    // A daemon started while the previous one is still stopping (a restart, an upgrade) waits
    // for it instead of giving up.
    let _lock = EngineLock::acquire_waiting(&paths, LOCK_PATIENCE).await?;
    let (output_dir, inbox_dir) = (config.output_dir(&paths), config.inbox_dir(&paths));
    for loose in crate::privacy::tighten(&paths, &config.inbox_dir(&paths)) {
        tracing::info!(path = %loose.path.display(), was = format!("{:o}", loose.mode),
            now = format!("{:o}", loose.wanted), "made private to you");
    }
    let journal = Arc::new(Journal::open_for_engine(&paths.journal_file())?);
    if let Some(aside) = journal.set_aside() {
        tracing::error!("{aside}");
    }
    let engine = Engine::new(config, paths.clone(), journal, shutdown.clone())?;
    let listener = crate::ipc::bind(&paths).map_err(|source| DaemonError::Bind {
        socket: haul_protocol::socket::socket_display(&paths),
        source,
    })?;
    let resumed = engine.resume_unfinished()?;
    crate::outputs::note_deleted(&engine, &crate::package::deleted::Scope::All);
    tracing::info!(
        socket = %haul_protocol::socket::socket_display(&paths),
        resumed = resumed.len(),
        "haul daemon {} running",
        haul_protocol::VERSION
    );
    // A broken inbox (say, a Downloads folder that cannot be written) must not stop the daemon
    // from serving the browser: it is logged and the rest runs.
    let inbox = tokio::spawn({
        let (engine, shutdown) = (engine.clone(), shutdown.clone());
        async move {
            if let Err(e) = crate::inbox::run(engine, shutdown).await {
                tracing::error!(error = %e, "the inbox is not watched");
            }
        }
    });
    let upkeep = tokio::spawn(crate::outputs::run(engine.clone(), shutdown.clone()));
    let status = match crate::status::start(engine.clone(), shutdown.clone()).await {
        Ok(server) => {
            tracing::info!(url = %server.url, "status page running");
            Some(server)
        }
        Err(e) => {
            tracing::error!(error = %e, "the status page is not available");
            None
        }
    };
    on_ready(&Ready {
        output_dir,
        inbox_dir,
        status_url: status.as_ref().map(|s| s.url.clone()),
        resumed: resumed.len(),
    });
    let handle = status.as_ref().map(crate::status::StatusServer::handle);
    crate::ipc::serve(listener, engine.clone(), shutdown.clone(), handle).await;
    if let Err(e) = inbox.await {
        tracing::error!(error = %e, "the inbox watcher stopped unexpectedly");
    }
    if let Err(e) = upkeep.await {
        tracing::error!(error = %e, "the output folder's upkeep stopped unexpectedly");
    }
    engine.wait().await;
    if let Some(status) = status {
        status.wait().await;
    }
    tracing::info!("haul daemon stopped");
    Ok(())
}
