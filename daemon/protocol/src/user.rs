//! One haul per user: what every part of haul shares across homes, so the browser, the CLI and
//! the inbox reach the same daemon whatever starts first.
//!
//! `HAUL_HOME` moves all of haul's folders, but a browser starts the native host without the
//! user's shell environment. Two per-user places, outside any home, close that gap:
//!
//! 1. **The home pointer** (`home.json` in the OS's config folder for haul, e.g.
//!    `~/.config/haul/home.json`): `haul install` records the home it was run with (`HAUL_HOME`,
//!    or `null` for the OS defaults). [`crate::paths::Paths::from_env`] follows it whenever
//!    `HAUL_HOME` is not set, so a host the browser starts, a `haul status` typed in a terminal and
//!    the daemon systemd starts all find the same folders.
//! 2. **The daemon registry** (`daemons/` in the OS's runtime folder for haul): every `haul
//!    daemon` lists itself there (one [`DaemonEntry`] per home, named after a hash of its data
//!    folder) once it answers on its socket, and removes the entry when it stops. A native host
//!    whose own home has no daemon looks there before starting one: a daemon of another home
//!    means the user runs haul differently from how it was installed, and the host says so
//!    instead of starting a second daemon whose jobs nobody would see. `haul status` and
//!    `haul doctor` report every other live daemon the same way.
//!
//! An entry whose socket no longer answers (a daemon killed without cleaning up) is stale: readers
//! ignore it and remove it.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::paths::Paths;

/// The content of the home pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomePointer {
    /// The `HAUL_HOME` haul was installed with; `None` for the OS defaults.
    pub haul_home: Option<PathBuf>,
}

impl HomePointer {
    /// The file's bytes as `haul install` writes them.
    pub fn render(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// Reads a pointer; `None` when there is none or it cannot be read as one (then the OS
    /// defaults apply, as before any install).
    pub fn read(file: &Path) -> Option<HomePointer> {
        let bytes = std::fs::read(file).ok()?;
        let pointer: HomePointer = serde_json::from_slice(&bytes).ok()?;
        // A relative home would mean something different in every working directory.
        match &pointer.haul_home {
            Some(h) if !h.is_absolute() => None,
            _ => Some(pointer),
        }
    }
}

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "haul")
}

/// Where `haul install` records the home (`None` without a home directory).
pub fn home_pointer_file() -> Option<PathBuf> {
    project().map(|p| p.config_dir().join("home.json"))
}

/// The per-user folder daemons list themselves in (`None` without a home directory).
pub fn registry_dir() -> Option<PathBuf> {
    let p = project()?;
    let runtime = p
        .runtime_dir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| p.data_local_dir().join("run"));
    Some(runtime.join("daemons"))
}

/// Where a home's `HAUL_HOME` came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HomeSource {
    /// `HAUL_HOME` was set: the caller chose it on purpose (tests, portable use, side-by-side
    /// runs), so it is never second-guessed.
    Env,
    /// The home pointer `haul install` wrote (the file).
    Recorded(PathBuf),
    /// The OS defaults (no `HAUL_HOME`, no pointer).
    Default,
}

/// One running daemon, as it lists itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonEntry {
    pub pid: u32,
    pub version: String,
    /// Its `HAUL_HOME`; `None` for the OS defaults.
    pub haul_home: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub runtime_dir: PathBuf,
    pub output_dir: PathBuf,
    pub inbox_dir: PathBuf,
    pub config_file: PathBuf,
    /// Its status page, when it runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_url: Option<String>,
}

impl DaemonEntry {
    /// The entry of a daemon running with `paths`.
    pub fn new(paths: &Paths, pid: u32, status_url: Option<String>) -> DaemonEntry {
        let haul_home = paths
            .data_dir
            .parent()
            .filter(|home| Paths::under(home) == *paths)
            .map(Path::to_path_buf);
        DaemonEntry {
            pid,
            version: crate::VERSION.to_string(),
            haul_home,
            data_dir: paths.data_dir.clone(),
            runtime_dir: paths.runtime_dir.clone(),
            output_dir: paths.output_dir.clone(),
            inbox_dir: paths.inbox_dir.clone(),
            config_file: paths.config_file.clone(),
            status_url,
        }
    }

    /// The paths it runs with (to reach its socket).
    pub fn paths(&self) -> Paths {
        Paths {
            config_file: self.config_file.clone(),
            data_dir: self.data_dir.clone(),
            runtime_dir: self.runtime_dir.clone(),
            output_dir: self.output_dir.clone(),
            inbox_dir: self.inbox_dir.clone(),
        }
    }

    /// "HAUL_HOME=/x" or "the default folders", for messages.
    pub fn describe_home(&self) -> String {
        match &self.haul_home {
            Some(h) => format!("HAUL_HOME={}", h.display()),
            None => "the default folders".into(),
        }
    }
}

/// The entry file of the daemon with `paths` (FNV-1a of the data dir: stable across builds).
pub fn entry_file(registry: &Path, paths: &Paths) -> PathBuf {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in paths.data_dir.to_string_lossy().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    registry.join(format!("{hash:016x}.json"))
}

/// Lists `entry` in `registry` (a private folder; the entry written atomically). Returns the file.
pub fn register(registry: &Path, entry: &DaemonEntry) -> io::Result<PathBuf> {
    crate::private::create_dir(registry)?;
    let file = entry_file(registry, &entry.paths());
    let mut partial = file.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let body = serde_json::to_vec_pretty(entry).map_err(io::Error::other)?;
    std::fs::write(&partial, body)?;
    std::fs::rename(&partial, &file)?;
    Ok(file)
}

/// Removes `file` if it still names `pid` (a later daemon of the same home may have replaced it).
pub fn unregister(file: &Path, pid: u32) {
    if read_entry(file).is_some_and(|e| e.pid == pid) {
        let _ = std::fs::remove_file(file);
    }
}

fn read_entry(file: &Path) -> Option<DaemonEntry> {
    serde_json::from_slice(&std::fs::read(file).ok()?).ok()
}

/// The daemons listed in `registry` whose socket answers, other than the one of `own`; stale
/// entries are removed on the way.
pub async fn other_daemons(registry: &Path, own: &Paths) -> Vec<DaemonEntry> {
    let Ok(dir) = std::fs::read_dir(registry) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for item in dir.flatten() {
        let file = item.path();
        if file.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Some(entry) = read_entry(&file) else {
            continue;
        };
        let paths = entry.paths();
        if paths.data_dir == own.data_dir || paths.runtime_dir == own.runtime_dir {
            continue;
        }
        match tokio::time::timeout(Duration::from_millis(500), crate::socket::connect(&paths)).await
        {
            Ok(Ok(_)) => found.push(entry),
            // Nothing listens there any more: a daemon that died without cleaning up.
            Ok(Err(_)) => {
                let _ = std::fs::remove_file(&file);
            }
            // Busy, not gone: count it.
            Err(_) => found.push(entry),
        }
    }
    found.sort_by_key(|e| e.pid);
    found
}

/// One line about each other daemon, the same in the native host, `haul status` and `haul doctor`.
pub fn describe_other(entry: &DaemonEntry) -> String {
    format!(
        "another haul daemon (pid {}, version {}) runs for you with {}: its files go to {}",
        entry.pid,
        entry.version,
        entry.describe_home(),
        entry.output_dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(home: &Path, pid: u32) -> DaemonEntry {
        let e = DaemonEntry::new(&Paths::under(home), pid, None);
        assert_eq!(e.haul_home.as_deref(), Some(home));
        e
    }

    #[test]
    fn pointer_round_trips_and_refuses_relative_homes() {
        let dir = std::env::temp_dir().join(format!("haul-pointer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("home.json");
        let p = HomePointer {
            haul_home: Some(dir.join("h")),
        };
        std::fs::write(&file, p.render()).unwrap();
        assert_eq!(HomePointer::read(&file), Some(p));
        std::fs::write(&file, r#"{"haul_home": "relative/h"}"#).unwrap();
        assert_eq!(HomePointer::read(&file), None);
        std::fs::write(&file, r#"{"haul_home": null}"#).unwrap();
        assert_eq!(
            HomePointer::read(&file),
            Some(HomePointer { haul_home: None })
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn stale_entries_are_removed_and_own_one_skipped() {
        let dir = std::env::temp_dir().join(format!("haul-registry-{}", std::process::id()));
        let registry = dir.join("daemons");
        let a = entry(&dir.join("a"), 1);
        let b = entry(&dir.join("b"), 2);
        let fa = register(&registry, &a).unwrap();
        let fb = register(&registry, &b).unwrap();
        assert_ne!(fa, fb);
        // Neither socket answers: both are stale and go; a's own entry is skipped, not removed.
        assert!(other_daemons(&registry, &a.paths()).await.is_empty());
        assert!(fa.exists() && !fb.exists());
        // A later daemon of the same home owns the entry: the earlier one leaves it alone.
        unregister(&fa, 99);
        assert!(fa.exists());
        unregister(&fa, 1);
        assert!(!fa.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
