//! What haul writes about its user stays that user's: the data folder (journal, logs, the
//! status API's token, thumbnails, partial downloads), the runtime folder (socket, lock) and the
//! inbox's own folders with their reports. New ones are created private
//! ([`haul_protocol::private`]: folders 0700, files 0600); this module finds the ones an older
//! haul (or a umask) left open to others, so the daemon can correct them when it starts
//! ([`tighten`]) and `haul doctor` can say so ([`check`]). Off Unix both find nothing: the
//! per-user profile folders are private there already.
//!
//! The output folder is not among them: packages are the user's downloads, with the modes their
//! other downloads have.

use std::path::{Path, PathBuf};

use haul_protocol::paths::Paths;
use haul_protocol::private::{DIR_MODE, FILE_MODE, is_open_to_others, mode};

/// Something haul wrote that others may open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loose {
    pub path: PathBuf,
    /// Its permission bits now.
    pub mode: u32,
    /// What haul gives it: 0700 for a folder, 0600 for a file.
    pub wanted: u32,
}

impl Loose {
    /// The command that makes it private.
    pub fn fix(&self) -> String {
        format!("chmod {:o} '{}'", self.wanted, self.path.display())
    }
}

/// Haul's private folders and files that exist now, each with the mode it should have.
fn private_entries(paths: &Paths, inbox: &Path) -> Vec<(PathBuf, u32)> {
    let mut entries = Vec::new();
    let mut dir = |p: PathBuf| entries.push((p, DIR_MODE));
    dir(paths.data_dir.clone());
    dir(paths.log_dir());
    dir(paths.work_dir());
    dir(paths.thumbs_dir());
    dir(paths.runtime_dir.clone());
    for name in [
        super::inbox::settle::DONE,
        super::inbox::settle::FAILED,
        super::inbox::settle::PROCESSING,
    ] {
        dir(inbox.join(name));
    }
    let mut files = vec![
        paths.api_token_file(),
        paths.install_record_file(),
        paths.journal_file(),
    ];
    for suffix in ["-wal", "-shm"] {
        let mut name = paths.journal_file().into_os_string();
        name.push(suffix);
        files.push(name.into());
    }
    files.extend(files_in(&paths.log_dir(), |_| true));
    for name in [super::inbox::settle::DONE, super::inbox::settle::FAILED] {
        files.extend(files_in(&inbox.join(name), |n| n.ends_with(".error.txt")));
    }
    entries.extend(files.into_iter().map(|f| (f, FILE_MODE)));
    entries
}

/// The regular files (not links) directly in `dir` whose names pass `keep`.
fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| keep(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect()
}

/// What is open to others now (links are not followed, and never count).
pub fn check(paths: &Paths, inbox: &Path) -> Vec<Loose> {
    private_entries(paths, inbox)
        .into_iter()
        .filter_map(|(path, wanted)| {
            let meta = std::fs::symlink_metadata(&path).ok()?;
            if meta.file_type().is_symlink() {
                return None;
            }
            let mode = mode(&path).ok()??;
            is_open_to_others(mode).then_some(Loose {
                path,
                mode: mode & 0o777,
                wanted,
            })
        })
        .collect()
}

/// Makes everything [`check`] finds private; returns what it corrected, and logs what it could
/// not.
pub fn tighten(paths: &Paths, inbox: &Path) -> Vec<Loose> {
    let mut corrected = Vec::new();
    for loose in check(paths, inbox) {
        match set_mode(&loose.path, loose.wanted) {
            Ok(()) => corrected.push(loose),
            Err(e) => tracing::warn!(
                path = %loose.path.display(),
                error = %e,
                "cannot make this private to you; run: {}",
                loose.fix()
            ),
        }
    }
    corrected
}

fn set_mode(path: &Path, wanted: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, wanted);
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn an_older_install_is_found_and_corrected() {
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under(home.path());
        let inbox = paths.inbox_dir.clone();
        let open = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        for d in [paths.log_dir(), inbox.join("failed"), inbox.join("done")] {
            std::fs::create_dir_all(&d).unwrap();
        }
        std::fs::write(paths.journal_file(), "").unwrap();
        std::fs::write(paths.log_dir().join("daemon.log"), "").unwrap();
        std::fs::write(inbox.join("failed/list.txt.error.txt"), "").unwrap();
        std::fs::write(inbox.join("failed/list.txt"), "").unwrap();
        let outside = home.path().join("outside.txt");
        std::fs::write(&outside, "").unwrap();
        std::os::unix::fs::symlink(&outside, inbox.join("done/link.error.txt")).unwrap();
        for p in [&paths.data_dir, &paths.log_dir(), &inbox.join("failed")] {
            open(p, 0o755);
        }
        for p in [
            paths.journal_file(),
            paths.log_dir().join("daemon.log"),
            inbox.join("failed/list.txt.error.txt"),
            inbox.join("failed/list.txt"),
            outside.clone(),
        ] {
            open(&p, 0o644);
        }
        let found: Vec<PathBuf> = check(&paths, &inbox).into_iter().map(|l| l.path).collect();
        for wanted in [
            paths.data_dir.clone(),
            paths.log_dir(),
            paths.journal_file(),
            paths.log_dir().join("daemon.log"),
            inbox.join("failed"),
            inbox.join("failed/list.txt.error.txt"),
        ] {
            assert!(found.contains(&wanted), "{wanted:?} in {found:?}");
        }
        // The user's own input and whatever a link points at are not haul's to change.
        assert!(!found.contains(&inbox.join("failed/list.txt")));
        assert!(!found.iter().any(|p| p.ends_with("link.error.txt")));
        assert_eq!(tighten(&paths, &inbox).len(), found.len());
        assert!(check(&paths, &inbox).is_empty());
        assert_eq!(mode(&paths.journal_file()).unwrap(), Some(0o600));
        assert_eq!(
            std::fs::metadata(&outside).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
}
