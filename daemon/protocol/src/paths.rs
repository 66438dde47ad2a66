//! Where haul keeps things. Every part resolves them here so the daemon, the native host, the CLI
//! and the tests agree on the socket, the journal and the folders.
//!
//! By default each OS's conventions apply (the `directories` crate): on Linux the XDG config, data
//! and runtime dirs, with output and inbox under the user's Downloads folder. `HAUL_HOME=DIR` puts
//! everything under one directory instead — how tests, portable installs and benchmarks run side
//! by side:
//!
//! ```text
//! $HAUL_HOME/config.toml   config (optional)
//! $HAUL_HOME/data/         journal, partial downloads, logs, install record, API token (0700)
//! $HAUL_HOME/run/          the daemon's socket, lock and status.json (0700)
//! $HAUL_HOME/output/       finished ZIPs and folders
//! $HAUL_HOME/inbox/        the watched inbox
//! ```
//!
//! Without `HAUL_HOME`, the home `haul install` recorded in the per-user home pointer applies
//! ([`crate::user`]), so a native host the browser starts without the user's environment finds
//! the same folders as the user's terminal.
//!
//! The config file may move `output_dir` and `inbox_dir`; the other locations are fixed so a
//! client can find the daemon without reading its config.

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

pub use crate::user::HomeSource;

/// The environment variable that relocates everything under one directory.
pub const HAUL_HOME_ENV: &str = "HAUL_HOME";

/// haul's locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The config file (it need not exist).
    pub config_file: PathBuf,
    /// Journal, partial downloads, logs.
    pub data_dir: PathBuf,
    /// Socket and lock; private to the user.
    pub runtime_dir: PathBuf,
    /// Default output folder (the config may override it).
    pub output_dir: PathBuf,
    /// Default inbox folder (the config may override it).
    pub inbox_dir: PathBuf,
}

/// The locations could not be determined.
#[derive(Debug, Error)]
pub enum PathsError {
    #[error("cannot find the home directory; set HAUL_HOME to a folder haul may use")]
    NoHome,
    #[error("cannot resolve HAUL_HOME={0:?} against the current directory: {1}")]
    RelativeHome(PathBuf, io::Error),
}

impl Paths {
    /// `HAUL_HOME` when set, else the home `haul install` recorded ([`crate::user`]), else the OS
    /// conventions.
    pub fn from_env() -> Result<Paths, PathsError> {
        Paths::resolve().map(|(paths, _)| paths)
    }

    /// [`Paths::from_env`], and where the home came from.
    pub fn resolve() -> Result<(Paths, HomeSource), PathsError> {
        if let Some(home) = std::env::var_os(HAUL_HOME_ENV).filter(|v| !v.is_empty()) {
            let home = PathBuf::from(home);
            let home = if home.is_absolute() {
                home
            } else {
                std::env::current_dir()
                    .map_err(|e| PathsError::RelativeHome(home.clone(), e))?
                    .join(home)
            };
            return Ok((Paths::under(&home), HomeSource::Env));
        }
        if let Some(file) = crate::user::home_pointer_file()
            && let Some(pointer) = crate::user::HomePointer::read(&file)
        {
            let paths = match &pointer.haul_home {
                Some(home) => Paths::under(home),
                None => Paths::os_default()?,
            };
            return Ok((paths, HomeSource::Recorded(file)));
        }
        Ok((Paths::os_default()?, HomeSource::Default))
    }

    /// Everything under one directory.
    pub fn under(home: &Path) -> Paths {
        Paths {
            config_file: home.join("config.toml"),
            data_dir: home.join("data"),
            runtime_dir: home.join("run"),
            output_dir: home.join("output"),
            inbox_dir: home.join("inbox"),
        }
    }

    /// The OS conventions (`directories`).
    pub fn os_default() -> Result<Paths, PathsError> {
        let project = directories::ProjectDirs::from("", "", "haul").ok_or(PathsError::NoHome)?;
        let user = directories::UserDirs::new().ok_or(PathsError::NoHome)?;
        let downloads = user
            .download_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| user.home_dir().join("Downloads"));
        let data_dir = project.data_local_dir().to_path_buf();
        // Linux has XDG_RUNTIME_DIR; macOS and Windows have no runtime dir, so the socket lives
        // beside the data (on Windows the socket is a named pipe anyway).
        let runtime_dir = project
            .runtime_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| data_dir.join("run"));
        Ok(Paths {
            config_file: project.config_dir().join("config.toml"),
            data_dir,
            runtime_dir,
            output_dir: downloads.join("haul"),
            inbox_dir: downloads.join("haul-inbox"),
        })
    }

    /// The SQLite journal.
    pub fn journal_file(&self) -> PathBuf {
        self.data_dir.join("journal.sqlite3")
    }

    /// Per-job working files (partial downloads, processed media before packaging).
    pub fn work_dir(&self) -> PathBuf {
        self.data_dir.join("work")
    }

    /// Log files of the daemon and the native host.
    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    /// What `haul install` wrote ([`crate::install::InstallRecord`]).
    pub fn install_record_file(&self) -> PathBuf {
        self.data_dir.join("install.json")
    }

    /// The per-install token state-changing status API requests must carry (0600; created by
    /// the daemon on first start, read by the CLI and tests).
    pub fn api_token_file(&self) -> PathBuf {
        self.data_dir.join("api-token")
    }

    /// Where the running daemon writes its status page address (`status.json`: `url`, `port`,
    /// `pid`); removed when it stops.
    pub fn status_file(&self) -> PathBuf {
        self.runtime_dir.join("status.json")
    }

    /// Cached thumbnails of saved images, per job (`<job>/<index>-<hash>.jpg`).
    pub fn thumbs_dir(&self) -> PathBuf {
        self.data_dir.join("thumbs")
    }

    /// Held briefly by a native host while it starts the daemon, so two hosts launched at once
    /// start one daemon between them.
    pub fn spawn_lock_file(&self) -> PathBuf {
        self.runtime_dir.join("spawn.lock")
    }

    /// Held (flock) by the running daemon: at most one daemon per set of paths.
    pub fn daemon_lock_file(&self) -> PathBuf {
        self.runtime_dir.join("daemon.lock")
    }

    /// Creates the runtime dir with mode 0700 (on Unix), tightening it if it already exists.
    pub fn ensure_runtime_dir(&self) -> io::Result<()> {
        crate::private::create_dir(&self.runtime_dir)
    }

    /// Creates the data dir with mode 0700 (on Unix), tightening it if it already exists.
    pub fn ensure_data_dir(&self) -> io::Result<()> {
        crate::private::create_dir(&self.data_dir)
    }

    /// Creates the log dir (in the data dir) with mode 0700, tightening both.
    pub fn ensure_log_dir(&self) -> io::Result<()> {
        self.ensure_data_dir()?;
        crate::private::create_dir(&self.log_dir())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haul_home_layout() {
        let p = Paths::under(Path::new("/h"));
        assert_eq!(p.config_file, Path::new("/h/config.toml"));
        assert_eq!(p.journal_file(), Path::new("/h/data/journal.sqlite3"));
        assert_eq!(p.daemon_lock_file(), Path::new("/h/run/daemon.lock"));
        assert_eq!(p.output_dir, Path::new("/h/output"));
        assert_eq!(p.inbox_dir, Path::new("/h/inbox"));
        assert_eq!(p.api_token_file(), Path::new("/h/data/api-token"));
        assert_eq!(p.status_file(), Path::new("/h/run/status.json"));
    }
}
