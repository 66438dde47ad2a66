//! Reaching the daemon, starting it when none answers.
//!
//! 1. Connect to the socket; done if a daemon answers.
//! 2. Unless `HAUL_HOME` was set on purpose, look in the per-user daemon registry
//!    ([`haul_protocol::user`]): a daemon running there for another home means the user runs haul
//!    differently from how it was installed — say so ([`StartError::OtherDaemon`]) instead of
//!    starting a second daemon whose jobs the user would never see.
//! 3. Otherwise take the spawn lock (`spawn.lock` in the private runtime dir). While another host
//!    holds it, that host is starting the daemon: keep trying to connect until it answers.
//! 4. With the lock: connect once more (the daemon may have come up meanwhile), else start
//!    `haul daemon` — the `haul` next to this binary, or `HAUL_BIN` — detached from the
//!    browser's process group and session (Unix: `setsid`; Windows: breakaway from the
//!    browser's job, no console, own process group) with stdin from null and output appended to
//!    `daemon-console.log`, then connect with backoff (20 ms doubling, about 5 s in all).
//!
//! The daemon itself holds an exclusive lock for as long as it runs and exits when another
//! daemon has it, so even a spawn the lock did not prevent cannot leave two daemons; the spawn
//! lock only keeps hosts from starting daemons that would exit at once.

use std::fs::OpenOptions;
use std::io;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use haul_protocol::install::{HAUL_BIN_ENV, HAUL_EXE};
use haul_protocol::paths::Paths;
use haul_protocol::socket::{self, Connection};
use haul_protocol::user::{self, DaemonEntry};

use crate::log::Logger;

/// How long a host waits for a daemon it (or another host) started.
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a host waits for another host's spawn lock.
const LOCK_TIMEOUT: Duration = Duration::from_secs(8);

/// Why no daemon could be reached.
#[derive(Debug)]
pub enum StartError {
    /// The runtime dir or the spawn lock could not be used.
    Lock(io::Error),
    /// `haul daemon` could not be started.
    Spawn { bin: PathBuf, source: io::Error },
    /// `haul daemon` started but exited without answering.
    Exited { bin: PathBuf, status: String },
    /// Nothing answered in time.
    Timeout { waited: Duration },
    /// No daemon runs for this home, but one runs for another home of the same user.
    OtherDaemon {
        own: Box<Paths>,
        others: Vec<DaemonEntry>,
    },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Lock(e) => write!(f, "cannot use haul's runtime folder: {e}"),
            StartError::Spawn { bin, source } => {
                write!(f, "cannot start {} daemon: {source}", bin.display())
            }
            StartError::Exited { bin, status } => write!(
                f,
                "{} daemon exited ({status}) without answering (its output is in daemon-console.log in haul's log folder)",
                bin.display()
            ),
            StartError::Timeout { waited } => write!(
                f,
                "the daemon did not answer within {:.1} s",
                waited.as_secs_f32()
            ),
            StartError::OtherDaemon { own, others } => {
                let lines: Vec<String> = others.iter().map(user::describe_other).collect();
                let home = others
                    .first()
                    .map(DaemonEntry::describe_home)
                    .unwrap_or_default();
                write!(
                    f,
                    "haul is installed for the browser with its files in {}, where no haul is running, but {}. The browser starts no second haul: stop that one (the browser then starts its own), or make the browser use it by running `{}haul install` again",
                    own.data_dir.display(),
                    lines.join("; "),
                    if home.starts_with("HAUL_HOME=") {
                        format!("{home} ")
                    } else {
                        "HAUL_HOME= ".to_string()
                    }
                )
            }
        }
    }
}

/// Connects to the running daemon, starting one first if none answers. `chosen` says `HAUL_HOME`
/// was set on purpose: then daemons of other homes are none of this host's business.
pub async fn connect_or_start(
    paths: &Paths,
    chosen: bool,
    log: &Logger,
) -> Result<Connection, StartError> {
    if let Ok(conn) = socket::connect(paths).await {
        return Ok(conn);
    }
    if !chosen && let Some(registry) = user::registry_dir() {
        let others = user::other_daemons(&registry, paths).await;
        if !others.is_empty() {
            return Err(StartError::OtherDaemon {
                own: Box::new(paths.clone()),
                others,
            });
        }
    }
    paths.ensure_runtime_dir().map_err(StartError::Lock)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(paths.spawn_lock_file())
        .map_err(StartError::Lock)?;
    let mut lock = fd_lock::RwLock::new(file);
    let waited = Instant::now();
    loop {
        match lock.try_write() {
            // The guard is held until the started daemon answers (or we give up).
            Ok(_guard) => return start_locked(paths, log).await,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(StartError::Lock(e)),
        }
        // Another host is starting the daemon.
        if let Ok(conn) = socket::connect(paths).await {
            return Ok(conn);
        }
        if waited.elapsed() > LOCK_TIMEOUT {
            return Err(StartError::Timeout {
                waited: waited.elapsed(),
            });
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn start_locked(paths: &Paths, log: &Logger) -> Result<Connection, StartError> {
    if let Ok(conn) = socket::connect(paths).await {
        return Ok(conn);
    }
    let bin = haul_binary().map_err(|source| StartError::Spawn {
        bin: PathBuf::from(HAUL_EXE),
        source,
    })?;
    log.log(format!(
        "no daemon answers; starting {} daemon",
        bin.display()
    ));
    let mut child = spawn_daemon(&bin, paths).map_err(|source| StartError::Spawn {
        bin: bin.clone(),
        source,
    })?;
    let started = Instant::now();
    let mut delay = Duration::from_millis(20);
    loop {
        tokio::time::sleep(delay).await;
        if let Ok(conn) = socket::connect(paths).await {
            log.log(format!(
                "daemon answered after {} ms",
                started.elapsed().as_millis()
            ));
            return Ok(conn);
        }
        if let Ok(Some(status)) = child.try_wait() {
            // It may have exited because another daemon holds the lock: that one answers.
            tokio::time::sleep(Duration::from_millis(50)).await;
            if let Ok(conn) = socket::connect(paths).await {
                return Ok(conn);
            }
            return Err(StartError::Exited {
                bin,
                status: status.to_string(),
            });
        }
        if started.elapsed() >= START_TIMEOUT {
            return Err(StartError::Timeout {
                waited: started.elapsed(),
            });
        }
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}

/// `HAUL_BIN`, else the `haul` beside this binary.
fn haul_binary() -> io::Result<PathBuf> {
    if let Some(bin) = std::env::var_os(HAUL_BIN_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(bin));
    }
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or_else(|| io::Error::other("the host binary has no folder"))?;
    Ok(dir.join(HAUL_EXE))
}

fn spawn_daemon(bin: &PathBuf, paths: &Paths) -> io::Result<Child> {
    let output = || -> Stdio {
        let _ = paths.ensure_log_dir();
        haul_protocol::private::append(&paths.log_dir().join("daemon-console.log"))
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null())
    };
    let mut cmd = Command::new(bin);
    cmd.arg("daemon")
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output());
    detached::spawn(cmd)
}

#[cfg(unix)]
mod detached {
    use std::io;
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command};

    /// Starts `cmd` in a session of its own: the browser's signals to its process group (Firefox
    /// sends SIGTERM, then SIGKILL, to the host's group) do not reach the daemon.
    pub fn spawn(mut cmd: Command) -> io::Result<Child> {
        // SAFETY: setsid is async-signal-safe and touches no memory of the parent; it is the only
        // call made between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.spawn()
    }
}

#[cfg(windows)]
mod detached {
    use std::io;
    use std::os::windows::process::CommandExt;
    use std::process::{Child, Command};

    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    const CREATE_BREAKAWAY_FROM_JOB: u32 = 0x0100_0000;

    /// Starts `cmd` outside the browser's job object (Firefox kills the job when the port
    /// closes), without a console, in its own process group. A job that forbids breakaway makes
    /// CreateProcess fail; then the daemon starts inside the job (it lives as long as the
    /// browser). Untested here: this project's machines run Linux.
    pub fn spawn(mut cmd: Command) -> io::Result<Child> {
        cmd.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_BREAKAWAY_FROM_JOB);
        match cmd.spawn() {
            Ok(child) => Ok(child),
            Err(_) => {
                cmd.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
                cmd.spawn()
            }
        }
    }
}
