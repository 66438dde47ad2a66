//! What `haul install` writes and what the native host and `haul doctor` read back: the host
//! manifest browsers load, the extension ids haul trusts, and the install record.
//!
//! - [`HostManifest`] is the native-messaging host manifest (`haul.native_host.json`). The Chromium
//!   family reads `allowed_origins` (`chrome-extension://<id>/`, trailing slash required); Firefox
//!   reads `allowed_extensions` (add-on ids). One file cannot serve both families.
//! - [`InstallRecord`] (`install.json` in the data dir, [`Paths::install_record_file`]) lists every
//!   file, symlink and registry value `haul install` wrote, with a digest of what was written, so
//!   `haul uninstall` removes exactly those and never a file haul did not write. It also keeps the
//!   extension ids the user added with `--extension-id`; the native host reads it to decide which
//!   Chrome callers it serves (Chrome, unlike Firefox, does not tell the host which manifest it
//!   used).
//!
//! [`Paths::install_record_file`]: crate::paths::Paths::install_record_file

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The extension id of the development build (`extension-stub/`): the first 32 hex digits of the
/// SHA-256 of the DER public key committed as the manifest's `key`, with `0-9a-f` mapped to
/// `a-p`. Always allowed, beside the ids given with `haul install --extension-id`.
pub const DEV_EXTENSION_ID: &str = "aeiomeebenanmmejecnkplfcfnolnnan";

/// The Firefox add-on id of the extension (`browser_specific_settings.gecko.id` in
/// `extension-stub/manifest.firefox.json`).
pub const FIREFOX_ADDON_ID: &str = "haul@haul.local";

/// File name of the native host binary.
pub const NATIVE_HOST_EXE: &str = if cfg!(windows) {
    "haul-native-host.exe"
} else {
    "haul-native-host"
};

/// File name of the `haul` binary (the daemon and CLI).
pub const HAUL_EXE: &str = if cfg!(windows) { "haul.exe" } else { "haul" };

/// Environment variable naming the `haul` binary the native host starts when no daemon answers
/// (default: the `haul` next to the host binary). Tests point it elsewhere.
pub const HAUL_BIN_ENV: &str = "HAUL_BIN";

/// Prefix of a Chromium-family extension origin.
pub const CHROME_ORIGIN_PREFIX: &str = "chrome-extension://";

/// `chrome-extension://<id>/` — the exact form `allowed_origins` needs (trailing slash included).
pub fn chrome_origin(id: &str) -> String {
    format!("{CHROME_ORIGIN_PREFIX}{id}/")
}

/// The extension id of an origin in the exact `chrome-extension://<id>/` form, else `None`.
pub fn parse_chrome_origin(origin: &str) -> Option<&str> {
    let id = origin
        .strip_prefix(CHROME_ORIGIN_PREFIX)?
        .strip_suffix('/')?;
    is_chrome_extension_id(id).then_some(id)
}

/// 32 letters `a`–`p`: the shape of every Chromium extension id.
pub fn is_chrome_extension_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

/// An add-on id Firefox accepts: email-like (`name@domain`) or a `{GUID}`.
pub fn is_firefox_addon_id(id: &str) -> bool {
    let email_like = match id.split_once('@') {
        Some((local, domain)) => {
            !domain.is_empty()
                && local
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        }
        None => false,
    };
    let guid = id.len() == 38
        && id.starts_with('{')
        && id.ends_with('}')
        && id[1..37].bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    email_like || guid
}

/// A native-messaging host manifest, as browsers read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostManifest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Absolute path of the host binary (on Windows it may be relative to the manifest).
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Chromium family: `chrome-extension://<id>/` origins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// Firefox: add-on ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_extensions: Option<Vec<String>>,
}

/// What a recorded file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileRole {
    /// A host manifest with `allowed_origins`.
    ChromiumManifest,
    /// A host manifest with `allowed_extensions`.
    FirefoxManifest,
    /// A systemd user unit or LaunchAgent that runs `haul daemon`.
    Autostart,
    /// The home pointer ([`crate::user::home_pointer_file`]).
    HomePointer,
}

/// One thing `haul install` wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Artifact {
    /// A file, with the [`digest`] of the bytes haul wrote.
    File {
        path: PathBuf,
        role: FileRole,
        /// The browsers this file serves (`chrome`, `firefox`, …); empty for autostart.
        #[serde(default)]
        browsers: Vec<String>,
        digest: String,
    },
    /// A directory haul created (removed on uninstall only if empty).
    Dir { path: PathBuf },
    /// A symbolic link (the systemd `default.target.wants` entry).
    Symlink { path: PathBuf, target: PathBuf },
    /// A registry value under `HKEY_CURRENT_USER` (Windows); `name` empty means the key's
    /// default value.
    RegistryValue {
        key: String,
        name: String,
        data: String,
        /// `None` for the autostart Run entry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<FileRole>,
        #[serde(default)]
        browsers: Vec<String>,
    },
}

impl Artifact {
    /// Where it is, for people and for matching two records' entries.
    pub fn target(&self) -> String {
        match self {
            Artifact::File { path, .. }
            | Artifact::Dir { path }
            | Artifact::Symlink { path, .. } => path.display().to_string(),
            Artifact::RegistryValue { key, name, .. } => {
                format!(
                    r"HKCU\{key}\{}",
                    if name.is_empty() { "(default)" } else { name }
                )
            }
        }
    }
}

/// The install record (`install.json`). Its fields are additive: an older haul ignores new ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallRecord {
    /// Format of this file.
    #[serde(default = "InstallRecord::format")]
    pub format: u32,
    /// The host binary the manifests point to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<PathBuf>,
    /// Chromium extension ids allowed besides [`DEV_EXTENSION_ID`].
    #[serde(default)]
    pub extension_ids: Vec<String>,
    /// Firefox add-on ids allowed besides [`FIREFOX_ADDON_ID`].
    #[serde(default)]
    pub firefox_ids: Vec<String>,
    /// Everything written, in the order it was written.
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
}

/// The install record could not be read.
#[derive(Debug, Error)]
pub enum RecordError {
    #[error("cannot read the install record {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("the install record {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl InstallRecord {
    /// The current format number.
    pub const FORMAT: u32 = 1;

    fn format() -> u32 {
        Self::FORMAT
    }

    /// An empty record.
    pub fn new() -> InstallRecord {
        InstallRecord {
            format: Self::FORMAT,
            ..InstallRecord::default()
        }
    }

    /// Reads the record; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<InstallRecord>, RecordError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(RecordError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| RecordError::Parse {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Every Chromium origin this install allows: the development id, then the added ids.
    pub fn chrome_origins(&self) -> Vec<String> {
        let mut ids = vec![DEV_EXTENSION_ID.to_string()];
        for id in &self.extension_ids {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        ids.iter().map(|id| chrome_origin(id)).collect()
    }

    /// Every Firefox add-on id this install allows: haul's own, then the added ids.
    pub fn firefox_ids(&self) -> Vec<String> {
        let mut ids = vec![FIREFOX_ADDON_ID.to_string()];
        for id in &self.firefox_ids {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        ids
    }
}

/// A short, stable digest of file contents (FNV-1a, 64 bit), enough to notice that a file was
/// changed after haul wrote it. Not a security measure.
pub fn digest(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chrome_origin_round_trip() {
        let origin = chrome_origin(DEV_EXTENSION_ID);
        assert_eq!(
            origin,
            "chrome-extension://aeiomeebenanmmejecnkplfcfnolnnan/"
        );
        assert_eq!(parse_chrome_origin(&origin), Some(DEV_EXTENSION_ID));
        // No trailing slash, wrong scheme, wrong letters, wrong length: not an origin.
        for bad in [
            "chrome-extension://aeiomeebenanmmejecnkplfcfnolnnan",
            "moz-extension://aeiomeebenanmmejecnkplfcfnolnnan/",
            "chrome-extension://aeiomeebenanmmejecnkplfcfnolnnaz/",
            "chrome-extension://aeiomeeb/",
            "chrome-extension://aeiomeebenanmmejecnkplfcfnolnnan/x/",
        ] {
            assert_eq!(parse_chrome_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn firefox_ids() {
        assert!(is_firefox_addon_id(FIREFOX_ADDON_ID));
        assert!(is_firefox_addon_id(
            "{12345678-abcd-ef01-2345-6789abcdef01}"
        ));
        assert!(!is_firefox_addon_id("no-at-sign"));
        assert!(!is_firefox_addon_id("a@b c"));
        assert!(!is_firefox_addon_id("{1234}"));
        assert!(!is_firefox_addon_id(DEV_EXTENSION_ID));
    }

    #[test]
    fn record_allow_lists_start_with_the_built_in_ids() {
        let mut r = InstallRecord::new();
        r.extension_ids = vec!["b".repeat(32), DEV_EXTENSION_ID.into()];
        assert_eq!(
            r.chrome_origins(),
            vec![
                chrome_origin(DEV_EXTENSION_ID),
                chrome_origin(&"b".repeat(32))
            ]
        );
        assert_eq!(r.firefox_ids(), vec![FIREFOX_ADDON_ID.to_string()]);
    }

    #[test]
    fn record_json_shape() {
        let mut r = InstallRecord::new();
        r.artifacts.push(Artifact::File {
            path: "/h/x.json".into(),
            role: FileRole::ChromiumManifest,
            browsers: vec!["chrome".into()],
            digest: digest(b"{}"),
        });
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["format"], 1);
        assert_eq!(v["artifacts"][0]["kind"], "file");
        assert_eq!(v["artifacts"][0]["role"], "chromium-manifest");
        let back: InstallRecord = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
        assert_ne!(digest(b"a"), digest(b"b"));
    }
}
