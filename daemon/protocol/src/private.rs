//! Files and folders only the user who runs haul may open. The data folder holds the journal
//! (every address the user saved), the logs, the status API's token and thumbnails of what was
//! saved; the inbox's `done/`, `failed/` and `processing/` hold the user's inputs and reports
//! about them. On a machine with several accounts none of that is anyone else's business, so
//! haul creates these folders with mode 0700 and its files in them with mode 0600 (whatever the
//! umask says), and the daemon corrects older installs when it starts. On other systems the
//! per-user profile folders already keep them private and these helpers only create.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// The mode of haul's private folders.
pub const DIR_MODE: u32 = 0o700;
/// The mode of haul's private files.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and its missing parents) and makes `dir` itself 0700, tightening it when it
/// already exists. Parents haul did not create keep their mode.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, DIR_MODE)
}

/// Options that create a file with mode 0600 (an existing file keeps its mode: see
/// [`tighten_file`]).
pub fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options
}

/// Opens `path` for appending, creating it 0600 and tightening an existing one.
pub fn append(path: &Path) -> io::Result<File> {
    let file = options().create(true).append(true).open(path)?;
    tighten_open(&file)?;
    Ok(file)
}

/// Makes an existing file 0600 when it is more open than that (no effect off Unix).
pub fn tighten_file(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(path)?;
        if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
            set_mode(path, FILE_MODE)?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn tighten_open(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// The permission bits of `path` (without following a link); `None` off Unix.
pub fn mode(path: &Path) -> io::Result<Option<u32>> {
    let meta = std::fs::symlink_metadata(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(Some(meta.permissions().mode() & 0o7777))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(None)
    }
}

/// Whether `mode` lets anyone but the owner in.
pub fn is_open_to_others(mode: u32) -> bool {
    mode & 0o077 != 0
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = std::fs::symlink_metadata(path)?.permissions().mode() & 0o777;
        if current != mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn folders_and_files_are_created_and_tightened_private() {
        let home = std::env::temp_dir().join(format!("haul-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        let dir = home.join("data/logs");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir).unwrap(), Some(0o700));
        let log = dir.join("daemon.log");
        drop(append(&log).unwrap());
        assert_eq!(mode(&log).unwrap(), Some(0o600));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        drop(append(&log).unwrap());
        create_dir(&dir).unwrap();
        assert_eq!(mode(&log).unwrap(), Some(0o600));
        assert_eq!(mode(&dir).unwrap(), Some(0o700));
        assert!(is_open_to_others(0o644) && !is_open_to_others(0o600));
        std::fs::remove_dir_all(&home).unwrap();
    }
}
