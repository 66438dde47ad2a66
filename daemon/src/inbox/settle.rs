//! Deciding when something dropped into the inbox is complete.
//!
//! A browser or a file manager writes a file over seconds, and a folder fills file by file; taking
//! an entry too early would read half of it. An entry is *ready* once its fingerprint — size and
//! modification time, for a folder those of every file in it — has not changed for the settle
//! interval. An entry renamed into place (how careful programs publish a file) is complete at
//! once and skips the wait.
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
            if self.renamed_in.remove(&path) {
                self.seen.remove(&path);
                ready.push(path);
                continue;
            }
            match self.seen.get_mut(&path) {
                Some(seen) if seen.fingerprint == fingerprint => {
                    if now.duration_since(seen.since) >= self.settle {
                        self.seen.remove(&path);
                        ready.push(path);
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
