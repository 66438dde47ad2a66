//! `haul uninstall`: walks the install record backwards and removes each entry only while it
//! still holds what haul wrote (a file edited since is left in place and forgotten), then the
//! folders haul created, innermost first, if they are empty and nothing kept lives in them.

use std::io;
use std::path::PathBuf;

use haul_protocol::install::{Artifact, FileRole, InstallRecord, digest};

use super::apply::save_record;
use super::{
    Action, Browser, Change, InstallEnv, InstallError, io_err, user_data_dir_manifest, windows,
};

/// What an uninstall did.
#[derive(Debug, Clone)]
pub struct UninstallReport {
    pub changes: Vec<Change>,
    /// There was no install record: haul had written nothing (that it knows of).
    pub nothing_recorded: bool,
    pub record_file: PathBuf,
}

/// Removes what `install` recorded — for `browsers` and the profiles in `user_data_dirs` only
/// when either is given (autostart entries and the home pointer go only with a full uninstall).
/// An entry changed since haul wrote it is left in place and forgotten.
pub fn uninstall(
    env: &InstallEnv,
    browsers: &[Browser],
    user_data_dirs: &[PathBuf],
) -> Result<UninstallReport, InstallError> {
    let profile_manifests: Vec<PathBuf> = user_data_dirs
        .iter()
        .map(|d| user_data_dir_manifest(d))
        .collect();
    let record_file = env.record_file();
    let Some(old) = InstallRecord::load(&record_file)? else {
        return Ok(UninstallReport {
            changes: Vec::new(),
            nothing_recorded: true,
            record_file,
        });
    };
    let full = browsers.is_empty() && user_data_dirs.is_empty();
    let names: Vec<&str> = browsers.iter().map(|b| b.as_str()).collect();
    let mut record = old.clone();
    let mut kept: Vec<Artifact> = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut changes = Vec::new();

    for artifact in old.artifacts.iter().rev() {
        // Which of its browsers stay (for a partial uninstall).
        let remaining = |list: &[String]| -> Vec<String> {
            list.iter()
                .filter(|b| !names.contains(&b.as_str()))
                .cloned()
                .collect()
        };
        match artifact {
            Artifact::Dir { path } => dirs.push(path.clone()),
            Artifact::File {
                path,
                role,
                browsers: list,
                digest: want,
            } => {
                let stays = if full { Vec::new() } else { remaining(list) };
                let named_profile = *role == FileRole::ChromiumManifest
                    && list.is_empty()
                    && profile_manifests.contains(path);
                if !full && !named_profile && (list.is_empty() || !stays.is_empty()) {
                    let mut a = artifact.clone();
                    if let Artifact::File { browsers, .. } = &mut a {
                        *browsers = stays;
                    }
                    kept.push(a);
                    continue;
                }
                let action = match std::fs::read(path) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Action::AlreadyGone,
                    Err(e) => return Err(io_err("read", path)(e)),
                    Ok(bytes) if &digest(&bytes) == want => {
                        std::fs::remove_file(path).map_err(io_err("remove", path))?;
                        Action::Removed
                    }
                    Ok(_) => Action::Kept,
                };
                changes.push(Change {
                    action,
                    what: match role {
                        FileRole::Autostart => "autostart entry".into(),
                        FileRole::HomePointer => "the home the browser's haul uses".into(),
                        _ if list.is_empty() => "host manifest".into(),
                        _ => format!(
                            "host manifest for {}",
                            list.iter()
                                .map(|b| b
                                    .parse::<Browser>()
                                    .map_or(b.as_str(), |x| x.display_name()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    },
                    target: path.display().to_string(),
                });
            }
            Artifact::Symlink { path, target } => {
                if !full {
                    kept.push(artifact.clone());
                    continue;
                }
                let action = match std::fs::symlink_metadata(path) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Action::AlreadyGone,
                    Err(e) => return Err(io_err("read", path)(e)),
                    Ok(meta)
                        if meta.file_type().is_symlink()
                            && std::fs::read_link(path).ok().as_ref() == Some(target) =>
                    {
                        std::fs::remove_file(path).map_err(io_err("remove", path))?;
                        Action::Removed
                    }
                    Ok(_) => Action::Kept,
                };
                changes.push(Change {
                    action,
                    what: "link enabling the unit at login".into(),
                    target: path.display().to_string(),
                });
            }
            Artifact::RegistryValue {
                key,
                name,
                data,
                role,
                browsers: list,
            } => {
                let stays = if full { Vec::new() } else { remaining(list) };
                if !full && (role.is_none() || !stays.is_empty()) {
                    let mut a = artifact.clone();
                    if let Artifact::RegistryValue { browsers, .. } = &mut a {
                        *browsers = stays;
                    }
                    kept.push(a);
                    continue;
                }
                let reg = |what: &'static str| {
                    let key = key.clone();
                    move |source| InstallError::Registry { what, key, source }
                };
                let action = match windows::registry::get(key, name).map_err(reg("read"))? {
                    None => Action::AlreadyGone,
                    Some(existing) if &existing == data => {
                        windows::registry::delete(key, name, role.is_some())
                            .map_err(reg("delete"))?;
                        Action::Removed
                    }
                    Some(_) => Action::Kept,
                };
                changes.push(Change {
                    action,
                    what: "registry value".into(),
                    target: artifact.target(),
                });
            }
        }
    }

    // Folders last, innermost first, and only empty ones nothing recorded still lives in.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    let mut kept_dirs = Vec::new();
    for dir in dirs {
        let in_use = kept.iter().any(|a| match a {
            Artifact::File { path, .. } | Artifact::Symlink { path, .. } => path.starts_with(&dir),
            _ => false,
        });
        if in_use {
            kept_dirs.push(Artifact::Dir { path: dir });
            continue;
        }
        let action = match std::fs::remove_dir(&dir) {
            Ok(()) => Action::Removed,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Action::AlreadyGone,
            // Not empty (something else lives there now): not haul's to remove.
            Err(_) => Action::Kept,
        };
        if action != Action::AlreadyGone {
            changes.push(Change {
                action,
                what: "folder".into(),
                target: dir.display().to_string(),
            });
        }
    }

    kept.reverse();
    kept_dirs.reverse();
    let mut artifacts = kept_dirs;
    artifacts.extend(kept);
    // Dirs first again so a later uninstall sees them after their contents.
    record.artifacts = artifacts;
    if record.artifacts.is_empty() {
        match std::fs::remove_file(&record_file) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("remove", &record_file)(e)),
        }
    } else if record != old {
        save_record(&record_file, &record)?;
    }
    Ok(UninstallReport {
        changes,
        nothing_recorded: false,
        record_file,
    })
}
