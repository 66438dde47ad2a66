//! Putting planned files, links and registry values in place, and recording each in the install
//! record: a file is written only when its content differs, atomically (`name.haul-partial`,
//! synced, renamed), so a browser never reads half a manifest; each folder haul had to create
//! is recorded too, so uninstall can take it away again if it is left empty.

use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use haul_protocol::install::{Artifact, FileRole, InstallRecord, digest};

use super::{Action, Browser, Change, InstallError, io_err, windows};

/// One thing to put in place.
#[derive(Debug, Clone)]
pub(super) enum Step {
    File {
        path: PathBuf,
        contents: String,
        role: FileRole,
        browsers: Vec<String>,
        what: String,
    },
    Link {
        path: PathBuf,
        target: PathBuf,
    },
    Registry {
        key: String,
        name: String,
        data: String,
        role: Option<FileRole>,
        browsers: Vec<String>,
        what: String,
    },
}

/// Puts each step in place and records it.
pub(super) fn apply(
    steps: Vec<Step>,
    record: &mut InstallRecord,
) -> Result<Vec<Change>, InstallError> {
    let mut changes = Vec::new();
    for step in steps {
        match step {
            Step::File {
                path,
                contents,
                role,
                browsers,
                what,
            } => {
                create_parent(&path, &mut changes, record)?;
                let action = match std::fs::read(&path) {
                    Ok(existing) if existing == contents.as_bytes() => Action::Unchanged,
                    Ok(_) => Action::Updated,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Action::Created,
                    Err(e) => return Err(io_err("read", &path)(e)),
                };
                if action != Action::Unchanged {
                    write_atomic(&path, contents.as_bytes())?;
                }
                changes.push(Change {
                    action,
                    what,
                    target: path.display().to_string(),
                });
                upsert(
                    record,
                    Artifact::File {
                        path,
                        role,
                        browsers,
                        digest: digest(contents.as_bytes()),
                    },
                );
            }
            Step::Link { path, target } => {
                create_parent(&path, &mut changes, record)?;
                let action = match std::fs::symlink_metadata(&path) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        if std::fs::read_link(&path).ok().as_deref() == Some(target.as_path()) {
                            Action::Unchanged
                        } else {
                            return Err(InstallError::Occupied(path));
                        }
                    }
                    Ok(_) => return Err(InstallError::Occupied(path)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        make_symlink(&target, &path).map_err(io_err("link", &path))?;
                        Action::Created
                    }
                    Err(e) => return Err(io_err("read", &path)(e)),
                };
                changes.push(Change {
                    action,
                    what: "link enabling the unit at login".into(),
                    target: path.display().to_string(),
                });
                upsert(record, Artifact::Symlink { path, target });
            }
            Step::Registry {
                key,
                name,
                data,
                role,
                browsers,
                what,
            } => {
                let reg = |what: &'static str, key: &str| {
                    let key = key.to_string();
                    move |source| InstallError::Registry { what, key, source }
                };
                let action = match windows::registry::get(&key, &name).map_err(reg("read", &key))? {
                    Some(existing) if existing == data => Action::Unchanged,
                    Some(_) => Action::Updated,
                    None => Action::Created,
                };
                if action != Action::Unchanged {
                    windows::registry::set(&key, &name, &data).map_err(reg("write", &key))?;
                }
                let artifact = Artifact::RegistryValue {
                    key,
                    name,
                    data,
                    role,
                    browsers,
                };
                changes.push(Change {
                    action,
                    what,
                    target: artifact.target(),
                });
                upsert(record, artifact);
            }
        }
    }
    Ok(changes)
}

/// Adds `new` to the record, or replaces the entry for the same target (merging the browsers).
fn upsert(record: &mut InstallRecord, mut new: Artifact) {
    let target = new.target();
    let Some(i) = record.artifacts.iter().position(|a| a.target() == target) else {
        record.artifacts.push(new);
        return;
    };
    if let Artifact::Dir { .. } = new {
        return; // already recorded as haul's
    }
    if let (
        Artifact::File { browsers: old, .. } | Artifact::RegistryValue { browsers: old, .. },
        Artifact::File { browsers, .. } | Artifact::RegistryValue { browsers, .. },
    ) = (&record.artifacts[i], &mut new)
    {
        for b in old {
            if !browsers.contains(b) {
                browsers.push(b.clone());
            }
        }
        browsers.sort_by_key(|b| Browser::from_str(b).ok());
    }
    record.artifacts[i] = new;
}

/// Creates `dir` and its missing parents; returns the ones created, outermost first.
/// Creates the missing folders above `path`, reporting and recording each one.
fn create_parent(
    path: &Path,
    changes: &mut Vec<Change>,
    record: &mut InstallRecord,
) -> Result<(), InstallError> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    for dir in create_dirs(parent)? {
        changes.push(Change {
            action: Action::Created,
            what: "folder".into(),
            target: dir.display().to_string(),
        });
        upsert(record, Artifact::Dir { path: dir });
    }
    Ok(())
}

fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>, InstallError> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    missing.reverse();
    let mut created = Vec::new();
    for d in missing {
        match std::fs::create_dir(&d) {
            Ok(()) => created.push(d),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err("create the folder", &d)(e)),
        }
    }
    Ok(created)
}

/// Writes `name.haul-partial`, syncs it and renames it over `path`: a browser never reads half a
/// manifest.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), InstallError> {
    use std::io::Write;
    let mut partial = path.as_os_str().to_owned();
    partial.push(".haul-partial");
    let partial = PathBuf::from(partial);
    let result = (|| {
        let mut f = std::fs::File::create(&partial)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&partial, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        io_err("write", path)(e)
    })
}

pub(super) fn save_record(path: &Path, record: &InstallRecord) -> Result<(), InstallError> {
    if let Some(dir) = path.parent() {
        // The data folder: private to the user (haul_protocol::private).
        haul_protocol::private::create_dir(dir).map_err(io_err("create the folder", dir))?;
    }
    let mut body = serde_json::to_vec_pretty(record).map_err(|e| InstallError::Io {
        what: "encode",
        path: path.to_path_buf(),
        source: io::Error::other(e),
    })?;
    body.push(b'\n');
    write_atomic(path, &body)?;
    haul_protocol::private::tighten_file(path).map_err(io_err("make private", path))
}

fn make_symlink(target: &Path, link: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, link)
    }
    #[cfg(not(unix))]
    {
        let _ = (target, link);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "symbolic links are only made on Unix",
        ))
    }
}
