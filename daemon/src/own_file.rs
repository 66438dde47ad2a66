//! Reading only what the user put in the inbox itself. A link in the inbox — a symbolic link to
//! a file or a folder, in the inbox or inside a dropped folder, or a hard link (a second name
//! of a file that lives elsewhere) — would make haul read, quote in a report or package a file
//! from anywhere its user can read: `/etc/shadow`, a private key, a private photo. So:
//!
//! 1. entries are looked at without following links (`symlink_metadata`, a folder listing's own
//!    file types) and a link is refused with a line saying so ([`Refusal`]), never read;
//! 2. a file is read only through [`open`]: its folder opened with `O_NOFOLLOW | O_DIRECTORY`,
//!    the file opened in it with `O_NOFOLLOW` (and `O_NONBLOCK`, so a pipe cannot hang haul),
//!    then checked on the open handle to be a regular file with one name. A link swapped in
//!    between the check and the read is refused as well, not followed.

use std::fs::File;
use std::io;
use std::path::Path;

use thiserror::Error;

/// Why an entry of the inbox is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A symbolic link (to a file or a folder).
    Link,
    /// A file with more than one name: a hard link to a file that lives elsewhere too.
    HardLink { names: u64 },
    /// A device, a pipe or a socket.
    NotAFile,
}

impl Refusal {
    /// The report's line about `name`.
    pub fn explain(self, name: &str) -> String {
        match self {
            Refusal::Link => format!(
                "{name} is a link to somewhere outside the inbox; haul reads only files you put in the inbox itself (copy the file in instead)"
            ),
            Refusal::HardLink { names } => format!(
                "{name} is a hard link: the same file has {names} names on this disk, so it also lives outside the inbox; haul reads only files you put in the inbox itself (copy the file in instead)"
            ),
            Refusal::NotAFile => format!(
                "{name} is not a file (a device, pipe or socket); haul reads only files you put in the inbox itself"
            ),
        }
    }
}

/// What an inbox entry is, looked at without following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    File,
    Folder,
}

/// A file that cannot be opened as the inbox's own.
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("{0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl OpenError {
    /// The failure of a file named `name` that the job could not copy.
    pub fn failed(&self, name: &str) -> crate::failure::Failed {
        use crate::failure::FailureKind;
        let kind = match self {
            OpenError::Refused(Refusal::NotAFile) => FailureKind::NotMedia,
            OpenError::Refused(_) => FailureKind::LinkRefused,
            OpenError::Io(_) => FailureKind::Other,
        };
        crate::failure::Failed::new(kind, self.explain(name))
    }

    /// The report's line about `name`.
    pub fn explain(&self, name: &str) -> String {
        match self {
            OpenError::Refused(r) => r.explain(name),
            OpenError::Io(e) => format!("cannot read {name}: {e}"),
        }
    }
}

/// What the entry at `path` is, or why it is not read.
pub fn look(path: &Path) -> io::Result<Result<Entry, Refusal>> {
    let meta = std::fs::symlink_metadata(path)?;
    let kind = meta.file_type();
    Ok(if kind.is_symlink() {
        Err(Refusal::Link)
    } else if kind.is_dir() {
        Ok(Entry::Folder)
    } else if !kind.is_file() {
        Err(Refusal::NotAFile)
    } else {
        match names(&meta) {
            n if n > 1 => Err(Refusal::HardLink { names: n }),
            _ => Ok(Entry::File),
        }
    })
}

#[cfg(unix)]
fn names(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.nlink()
}

#[cfg(not(unix))]
fn names(_meta: &std::fs::Metadata) -> u64 {
    1
}

/// Opens the regular file at `path` for reading without following a link at its last two
/// steps (its folder and itself), and checks the open handle: a regular file with one name.
#[cfg(unix)]
pub fn open(path: &Path) -> Result<File, OpenError> {
    use rustix::fs::{FileType, Mode, OFlags};
    use rustix::io::Errno;

    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let refused_link = |e: Errno| match e {
        // O_NOFOLLOW on a link: ELOOP (Linux, macOS) or EMLINK (FreeBSD); a link where a
        // folder was expected: ENOTDIR.
        Errno::LOOP | Errno::MLINK | Errno::NOTDIR => OpenError::Refused(Refusal::Link),
        e => OpenError::Io(e.into()),
    };
    let dir = rustix::fs::open(
        folder,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(refused_link)?;
    let fd = rustix::fs::openat(
        &dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
        Mode::empty(),
    )
    .map_err(refused_link)?;
    let stat = rustix::fs::fstat(&fd).map_err(io::Error::from)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(OpenError::Refused(Refusal::NotAFile));
    }
    #[allow(clippy::useless_conversion)] // nlink's width differs between platforms.
    let names = u64::from(stat.st_nlink);
    if names > 1 {
        return Err(OpenError::Refused(Refusal::HardLink { names }));
    }
    Ok(File::from(fd))
}

/// Elsewhere: the entry is looked at first, then opened.
#[cfg(not(unix))]
pub fn open(path: &Path) -> Result<File, OpenError> {
    match look(path)? {
        Ok(Entry::File) => Ok(File::open(path)?),
        Ok(Entry::Folder) => Err(OpenError::Refused(Refusal::NotAFile)),
        Err(refusal) => Err(OpenError::Refused(refusal)),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Read;
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn links_of_every_kind_are_refused_and_plain_files_read() {
        let home = tempfile::tempdir().unwrap();
        let outside = home.path().join("secret.txt");
        std::fs::write(&outside, "private").unwrap();
        let inbox = home.path().join("inbox");
        let folder = inbox.join("SKU1");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(inbox.join("list.txt"), "https://x.example/a.jpg").unwrap();
        symlink(&outside, inbox.join("shadow.txt")).unwrap();
        symlink(home.path(), inbox.join("photos")).unwrap();
        std::fs::hard_link(&outside, inbox.join("hard.txt")).unwrap();
        symlink(&outside, folder.join("a.jpg")).unwrap();

        let mut text = String::new();
        open(&inbox.join("list.txt"))
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.starts_with("https://"));
        assert_eq!(look(&inbox.join("list.txt")).unwrap(), Ok(Entry::File));
        assert_eq!(look(&folder).unwrap(), Ok(Entry::Folder));

        for link in ["shadow.txt", "photos", "SKU1/a.jpg"] {
            assert_eq!(
                look(&inbox.join(link)).unwrap(),
                Err(Refusal::Link),
                "{link}"
            );
            assert!(
                matches!(
                    open(&inbox.join(link)),
                    Err(OpenError::Refused(Refusal::Link))
                ),
                "{link}"
            );
        }
        // A file inside a folder that is a link: the folder is not followed.
        assert!(matches!(
            open(&inbox.join("photos/secret.txt")),
            Err(OpenError::Refused(Refusal::Link))
        ));
        assert_eq!(
            look(&inbox.join("hard.txt")).unwrap(),
            Err(Refusal::HardLink { names: 2 })
        );
        assert!(matches!(
            open(&inbox.join("hard.txt")),
            Err(OpenError::Refused(Refusal::HardLink { names: 2 }))
        ));
        let line = Refusal::Link.explain("shadow.txt");
        assert!(line.starts_with("shadow.txt is a link to somewhere outside the inbox; haul reads only files you put in the inbox itself"));
        assert!(!line.contains("secret"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_pipe_is_refused_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("list.txt");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert_eq!(look(&fifo).unwrap(), Err(Refusal::NotAFile));
        assert!(matches!(
            open(&fifo),
            Err(OpenError::Refused(Refusal::NotAFile))
        ));
    }
}
