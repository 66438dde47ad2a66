//! Deciding when something dropped into the inbox is complete.
//!
//! A browser or a file manager writes a file over seconds, and a folder fills file by file; taking
//! an entry too early would read half of it. An entry is *ready* once its fingerprint — size and
//! modification time, for a folder those of every file in it — has not changed for the settle
//! interval. An entry renamed into place (how careful programs publish a file) is complete at
//! once and skips the wait.
//!
//! A settled size is not enough: a program that writes a line now and then (a script logging
//! URLs, an editor's autosave) leaves the file unchanged for longer than any interval. So an
//! entry is taken only when, besides, no process holds one of its files open for writing
//! ([`held_for_writing`]: on Linux, every process's open files in `/proc`; elsewhere the settle
//! interval alone decides) — a renamed-in file too.
//!
//! What is never taken: hidden entries (a leading dot), the reserved folders `done`, `failed` and
//! `processing`, and names of downloads in progress (`.part`, `.crdownload`, `.tmp`, `.download`,
//! a trailing `~`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// The inbox's own folders.
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";
pub const PROCESSING: &str = "processing";

/// Suffixes of files still being written by browsers and copy tools.
const IN_PROGRESS: &[&str] = &[".part", ".crdownload", ".tmp", ".download", ".partial", "~"];

/// What an entry looked like at one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint(Vec<(PathBuf, u64, Option<SystemTime>)>);

struct Seen {
    fingerprint: Fingerprint,
    since: Instant,
}

/// Tracks the inbox's entries from scan to scan.
pub struct Settler {
    dir: PathBuf,
    settle: Duration,
    seen: HashMap<PathBuf, Seen>,
    renamed_in: HashSet<PathBuf>,
}

impl Settler {
    pub fn new(dir: PathBuf, settle: Duration) -> Settler {
        Settler {
            dir,
            settle,
            seen: HashMap::new(),
            renamed_in: HashSet::new(),
        }
    }

    /// Marks `path` as renamed into place: it is taken at the next scan without waiting.
    pub fn renamed_in(&mut self, path: PathBuf) {
        self.renamed_in.insert(path);
    }

    /// Whether an entry is waiting to settle (the caller then scans again soon).
    pub fn waiting(&self) -> bool {
        !self.seen.is_empty()
    }

    /// Looks at the inbox; returns the entries that are ready, forgetting them.
    pub fn scan(&mut self, now: Instant) -> Vec<PathBuf> {
        let entries: Vec<PathBuf> = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| takeable(p))
                .collect(),
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot read the inbox");
                Vec::new()
            }
        };
        self.seen.retain(|p, _| entries.contains(p));
        let mut ready = Vec::new();
        for path in entries {
            let Some(fingerprint) = fingerprint(&path) else {
                continue;
            };
            if self.renamed_in.remove(&path) && !held_for_writing(&fingerprint) {
                self.seen.remove(&path);
                ready.push(path);
                continue;
            }
            match self.seen.get_mut(&path) {
                Some(seen) if seen.fingerprint == fingerprint => {
                    if now.duration_since(seen.since) >= self.settle {
                        if held_for_writing(&fingerprint) {
                            // Still being written: the wait starts again once it is closed.
                            seen.since = now;
                        } else {
                            self.seen.remove(&path);
                            ready.push(path);
                        }
                    }
                }
                Some(seen) => {
                    seen.fingerprint = fingerprint;
                    seen.since = now;
                }
                None => {
                    self.seen.insert(
                        path,
                        Seen {
                            fingerprint,
                            since: now,
                        },
                    );
                }
            }
        }
        self.renamed_in.clear();
        ready.sort();
        ready
    }
}

/// Whether any process holds one of the entry's files open for writing.
fn held_for_writing(fingerprint: &Fingerprint) -> bool {
    let files: HashSet<PathBuf> = fingerprint
        .0
        .iter()
        .map(|(path, _, _)| canonical_parent(path))
        .collect();
    writers::any_holds(&files)
}

/// `path` with its folder resolved (as the kernel names open files), the file name kept as is.
fn canonical_parent(path: &Path) -> PathBuf {
    match (path.parent().map(std::fs::canonicalize), path.file_name()) {
        (Some(Ok(dir)), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

#[cfg(target_os = "linux")]
mod writers {
    //! Open files of every process this user may look at, from `/proc/<pid>/fd` (the link names
    //! the file) and `/proc/<pid>/fdinfo` (its `flags`, in octal, say how it was opened).

    use std::collections::HashSet;
    use std::path::PathBuf;

    pub(super) fn any_holds(files: &HashSet<PathBuf>) -> bool {
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return false;
        };
        for proc in procs.flatten() {
            let pid = proc.file_name();
            if !pid.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            // Another user's processes (or one that just ended) cannot be looked at: skipped.
            let Ok(fds) = std::fs::read_dir(proc.path().join("fd")) else {
                continue;
            };
            for fd in fds.flatten() {
                let Ok(target) = std::fs::read_link(fd.path()) else {
                    continue;
                };
                if files.contains(&target) && opened_for_writing(&proc.path(), &fd.file_name()) {
                    return true;
                }
            }
        }
        false
    }

    fn opened_for_writing(proc: &std::path::Path, fd: &std::ffi::OsStr) -> bool {
        let Ok(info) = std::fs::read_to_string(proc.join("fdinfo").join(fd)) else {
            return false;
        };
        info.lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .and_then(|flags| u32::from_str_radix(flags.trim(), 8).ok())
            // O_ACCMODE: O_WRONLY (1) or O_RDWR (2).
            .is_some_and(|flags| matches!(flags & 0o3, 1 | 2))
    }
}

#[cfg(not(target_os = "linux"))]
mod writers {
    //! No portable way to see other processes' open files: the settle interval decides.

    use std::collections::HashSet;
    use std::path::PathBuf;

    pub(super) fn any_holds(_files: &HashSet<PathBuf>) -> bool {
        false
    }
}

/// Whether the inbox entry at `path` is something a user dropped to be processed.
fn takeable(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        // Not UTF-8: still the user's; taken, and reported by name as well as it can be.
        return true;
    };
    if name.starts_with('.') {
        return false;
    }
    // Looked at without following a link: a link named `done` is an input (refused later).
    let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    if is_dir && [DONE, FAILED, PROCESSING].contains(&name) {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    !IN_PROGRESS.iter().any(|s| lower.ends_with(s))
}

/// Size and mtime of a file, or of every file in a folder (recursively, in name order).
/// A link is fingerprinted as itself, never followed: what it points at is not the inbox's.
fn fingerprint(path: &Path) -> Option<Fingerprint> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let mut parts = Vec::new();
    if meta.is_dir() {
        collect(path, &mut parts, 0);
        // An in-progress copy inside a folder keeps the whole folder waiting.
        if parts.iter().any(|(p, _, _)| {
            let name = p.to_string_lossy().to_ascii_lowercase();
            IN_PROGRESS.iter().any(|s| name.ends_with(s))
        }) {
            return None;
        }
    } else {
        parts.push((path.to_path_buf(), meta.len(), meta.modified().ok()));
    }
    Some(Fingerprint(parts))
}

fn collect(dir: &Path, parts: &mut Vec<(PathBuf, u64, Option<SystemTime>)>, depth: usize) {
    // Folders nest at most a few levels in practice; the cap keeps a link loop finite.
    if depth > 4 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => collect(&path, parts, depth + 1),
            Ok(m) => parts.push((path, m.len(), m.modified().ok())),
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_ready_once_it_stops_changing() {
        let dir = tempfile::tempdir().unwrap();
        let settle = Duration::from_millis(500);
        let mut settler = Settler::new(dir.path().to_path_buf(), settle);
        let t0 = Instant::now();
        let file = dir.path().join("list.txt");
        std::fs::write(&file, "a").unwrap();
        assert!(settler.scan(t0).is_empty());
        assert!(settler.waiting());
        std::fs::write(&file, "ab").unwrap();
        // Changed: the wait starts again.
        assert!(settler.scan(t0 + settle).is_empty());
        assert!(
            settler
                .scan(t0 + settle + Duration::from_millis(499))
                .is_empty()
        );
        assert_eq!(settler.scan(t0 + settle * 2), vec![file.clone()]);
        assert!(!settler.waiting());
    }

    #[test]
    fn renamed_entries_skip_the_wait_and_reserved_ones_are_never_taken() {
        let dir = tempfile::tempdir().unwrap();
        let mut settler = Settler::new(dir.path().to_path_buf(), Duration::from_secs(60));
        for reserved in [DONE, FAILED, PROCESSING, ".hidden"] {
            std::fs::create_dir(dir.path().join(reserved)).unwrap();
        }
        std::fs::write(dir.path().join("photo.jpg.crdownload"), "x").unwrap();
        std::fs::write(dir.path().join(".~lock.csv#"), "x").unwrap();
        let file = dir.path().join("skus.csv");
        std::fs::write(&file, "sku").unwrap();
        settler.renamed_in(file.clone());
        assert_eq!(settler.scan(Instant::now()), vec![file]);
        assert!(!settler.waiting(), "nothing else is a candidate");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_open_for_writing_is_not_taken_however_long_it_stays_the_same() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let settle = Duration::from_millis(100);
        let mut settler = Settler::new(dir.path().to_path_buf(), settle);
        let file = dir.path().join("urls.txt");
        let mut writer = std::fs::File::create(&file).unwrap();
        writer.write_all(b"https://a.example/1.jpg\n").unwrap();
        // Open only for reading: no obstacle.
        let reader = std::fs::File::open(dir.path().join("urls.txt")).unwrap();
        let t0 = Instant::now();
        settler.scan(t0);
        for step in 1..5 {
            assert!(
                settler.scan(t0 + settle * step).is_empty(),
                "held open for writing"
            );
        }
        settler.renamed_in(file.clone());
        assert!(
            settler.scan(t0 + settle * 6).is_empty(),
            "renamed in, still held"
        );
        drop(writer);
        drop(reader);
        // Closed, and unchanged for the settle interval: taken.
        assert_eq!(settler.scan(t0 + settle * 7), vec![file]);
    }

    #[test]
    fn a_folder_waits_for_every_file_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let settle = Duration::from_millis(100);
        let mut settler = Settler::new(dir.path().to_path_buf(), settle);
        let folder = dir.path().join("SKU-1");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("a.jpg"), "1").unwrap();
        let t0 = Instant::now();
        settler.scan(t0);
        std::fs::write(folder.join("b.jpg.part"), "2").unwrap();
        assert!(
            settler.scan(t0 + settle * 2).is_empty(),
            "a copy in progress"
        );
        std::fs::rename(folder.join("b.jpg.part"), folder.join("b.jpg")).unwrap();
        assert!(settler.scan(t0 + settle * 3).is_empty(), "changed");
        assert_eq!(settler.scan(t0 + settle * 5), vec![folder]);
    }
}
