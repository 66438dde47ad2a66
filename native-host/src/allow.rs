//! Which callers the host serves.
//!
//! The browser already checked its manifest's allow-list before launching the host; the host
//! checks again so that a manifest edited by hand, or a host launched by something else, does
//! not hand the daemon to an unknown extension.
//!
//! - **Chromium family.** Chrome does not tell the host which manifest it read, so the host
//!   allows: the development extension ([`DEV_EXTENSION_ID`]), the ids `haul install
//!   --extension-id` stored in the install record, and the `allowed_origins` of every Chromium
//!   manifest the install record lists. The origin must match exactly (`chrome-extension://<id>/`).
//! - **Firefox** passes the manifest's path: the host reads that file and allows the add-on only
//!   if the manifest is haul's (`name` is `haul.native_host`) and lists the add-on id in
//!   `allowed_extensions`.
//!
//! The install record is found through `Paths` (`HAUL_HOME` or the OS default), the same way
//! `haul install` wrote it.

use std::path::Path;

use haul_protocol::install::{Artifact, FileRole, HostManifest, InstallRecord, chrome_origin};
use haul_protocol::paths::Paths;
use haul_protocol::{DEV_EXTENSION_ID, HOST_NAME};

use crate::args::Caller;

/// The Chromium origins allowed for these paths.
pub fn chrome_origins(paths: &Paths) -> Vec<String> {
    let mut allowed = vec![chrome_origin(DEV_EXTENSION_ID)];
    let mut add = |o: &str| {
        if !allowed.iter().any(|a| a == o) {
            allowed.push(o.to_string());
        }
    };
    if let Ok(Some(record)) = InstallRecord::load(&paths.install_record_file()) {
        for o in record.chrome_origins() {
            add(&o);
        }
        for a in &record.artifacts {
            if let Artifact::File {
                path,
                role: FileRole::ChromiumManifest,
                ..
            } = a
                && let Some(m) = read_manifest(path)
            {
                for o in m.allowed_origins.unwrap_or_default() {
                    add(&o);
                }
            }
        }
    }
    allowed
}

fn read_manifest(path: &Path) -> Option<HostManifest> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// `Ok` when the caller may use haul, else why not (with the fix).
pub fn check(caller: &Caller, paths: &Paths) -> Result<(), String> {
    match caller {
        Caller::Chrome { origin, id } => {
            if chrome_origins(paths).iter().any(|o| o == origin) {
                Ok(())
            } else {
                Err(format!(
                    "the extension {origin} is not allowed to use haul; to allow it run `haul install --extension-id {id}`, then `haul doctor`"
                ))
            }
        }
        Caller::Firefox { manifest, addon_id } => {
            let bytes = std::fs::read(manifest).map_err(|e| {
                format!(
                    "cannot read the host manifest {} that Firefox named: {e}; run `haul install --browser firefox`",
                    manifest.display()
                )
            })?;
            let m: HostManifest = serde_json::from_slice(&bytes).map_err(|e| {
                format!(
                    "the host manifest {} is not valid: {e}; run `haul install --browser firefox`",
                    manifest.display()
                )
            })?;
            if m.name != HOST_NAME {
                return Err(format!(
                    "{} is not haul's host manifest (its name is {:?})",
                    manifest.display(),
                    m.name
                ));
            }
            if m.allowed_extensions
                .unwrap_or_default()
                .iter()
                .any(|a| a == addon_id)
            {
                Ok(())
            } else {
                Err(format!(
                    "the add-on {addon_id} is not allowed to use haul; to allow it run `haul install --extension-id {addon_id}`, then `haul doctor`"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_protocol::FIREFOX_ADDON_ID;
    use haul_protocol::install::digest;

    fn chrome(id: &str) -> Caller {
        Caller::Chrome {
            origin: chrome_origin(id),
            id: id.into(),
        }
    }

    #[test]
    fn dev_id_is_always_allowed_and_others_need_the_record() {
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under(home.path());
        assert!(check(&chrome(DEV_EXTENSION_ID), &paths).is_ok());
        let other = "b".repeat(32);
        let err = check(&chrome(&other), &paths).unwrap_err();
        assert!(
            err.contains(&format!("haul install --extension-id {other}")),
            "{err}"
        );

        // An id stored by `haul install --extension-id`.
        std::fs::create_dir_all(&paths.data_dir).unwrap();
        let mut record = InstallRecord::new();
        record.extension_ids.push(other.clone());
        std::fs::write(
            paths.install_record_file(),
            serde_json::to_vec(&record).unwrap(),
        )
        .unwrap();
        assert!(check(&chrome(&other), &paths).is_ok());

        // An origin added by hand to a manifest the record lists.
        let third = "c".repeat(32);
        assert!(check(&chrome(&third), &paths).is_err());
        let manifest = home.path().join("haul.native_host.json");
        let m = HostManifest {
            name: HOST_NAME.into(),
            description: String::new(),
            path: "/x".into(),
            kind: "stdio".into(),
            allowed_origins: Some(vec![chrome_origin(&third)]),
            allowed_extensions: None,
        };
        std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
        record.artifacts.push(Artifact::File {
            path: manifest,
            role: FileRole::ChromiumManifest,
            browsers: vec![],
            digest: digest(b""),
        });
        std::fs::write(
            paths.install_record_file(),
            serde_json::to_vec(&record).unwrap(),
        )
        .unwrap();
        assert!(check(&chrome(&third), &paths).is_ok());
    }

    #[test]
    fn firefox_reads_the_manifest_it_was_given() {
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under(home.path());
        let manifest = home.path().join("haul.native_host.json");
        let caller = |id: &str| Caller::Firefox {
            manifest: manifest.clone(),
            addon_id: id.into(),
        };
        assert!(
            check(&caller(FIREFOX_ADDON_ID), &paths).is_err(),
            "no manifest"
        );
        let mut m = HostManifest {
            name: HOST_NAME.into(),
            description: String::new(),
            path: "/x".into(),
            kind: "stdio".into(),
            allowed_origins: None,
            allowed_extensions: Some(vec![FIREFOX_ADDON_ID.into()]),
        };
        std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
        assert!(check(&caller(FIREFOX_ADDON_ID), &paths).is_ok());
        assert!(check(&caller("evil@example.com"), &paths).is_err());
        m.name = "other.host".into();
        std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
        assert!(check(&caller(FIREFOX_ADDON_ID), &paths).is_err());
    }
}
