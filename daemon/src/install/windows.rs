//! Windows: the manifests live under `%LOCALAPPDATA%\haul\NativeMessagingHosts\` (one for the
//! Chromium family, one for Firefox, each named `haul.native_host.json` in its own folder) and
//! each browser finds them through a key under `HKEY_CURRENT_USER` whose default value is the
//! manifest's absolute path; `--autostart` is a value under the `Run` key.
//!
//! The tables are pure and tested on every OS. The registry access ([`registry`]) is compiled
//! only on Windows and has **not been run** on this project's machines (Linux); it follows
//! native-messaging.md and the `winreg` documentation.

use std::path::{Path, PathBuf};

use haul_protocol::HOST_NAME;

use super::{Browser, Family};

/// Where the manifest for `family` is written, under the local app-data dir.
pub fn manifest_file(family: Family, local_app_data: &Path) -> PathBuf {
    let folder = match family {
        Family::Chromium => "chromium",
        Family::Firefox => "firefox",
    };
    local_app_data
        .join("haul")
        .join("NativeMessagingHosts")
        .join(folder)
        .join(format!("{HOST_NAME}.json"))
}

/// The `HKEY_CURRENT_USER` key `browser` looks up (Brave and Vivaldi read Google Chrome's key).
pub fn registry_key(browser: Browser) -> String {
    let base = match browser {
        Browser::Chrome | Browser::Brave | Browser::Vivaldi => r"Software\Google\Chrome",
        Browser::Chromium => r"Software\Chromium",
        Browser::Edge => r"Software\Microsoft\Edge",
        Browser::Firefox => r"Software\Mozilla",
    };
    format!(r"{base}\NativeMessagingHosts\{HOST_NAME}")
}

/// The key holding per-user autostart commands.
pub const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";

/// The value name of haul's autostart entry.
pub const RUN_VALUE: &str = "haul";

/// The Run entry's command line: `"<haul.exe>" daemon`.
pub fn run_command(haul: &Path) -> String {
    format!("\"{}\" daemon", haul.display())
}

/// `HKEY_CURRENT_USER` access (Windows only; untested here).
#[cfg(windows)]
pub mod registry {
    use std::io;

    use winreg::RegKey;
    use winreg::enums::{HKEY_CURRENT_USER, KEY_READ, KEY_WRITE};

    /// A string value, `None` when the key or value does not exist.
    pub fn get(key: &str, name: &str) -> io::Result<Option<String>> {
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        let k = match hkcu.open_subkey_with_flags(key, KEY_READ) {
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match k.get_value::<String, _>(name) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets a string value, creating the key.
    pub fn set(key: &str, name: &str, data: &str) -> io::Result<()> {
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        let (k, _) = hkcu.create_subkey_with_flags(key, KEY_WRITE)?;
        k.set_value(name, &data)
    }

    /// Deletes a value; then the key itself when `delete_key` and it is left empty.
    pub fn delete(key: &str, name: &str, delete_key: bool) -> io::Result<()> {
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        match hkcu.open_subkey_with_flags(key, KEY_READ | KEY_WRITE) {
            Ok(k) => match k.delete_value(name) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
        if delete_key {
            let k = hkcu.open_subkey_with_flags(key, KEY_READ)?;
            let info = k.query_info()?;
            if info.sub_keys == 0 && info.values == 0 {
                hkcu.delete_subkey(key)?;
            }
        }
        Ok(())
    }
}

/// Stand-in on other systems: the registry does not exist there.
#[cfg(not(windows))]
pub mod registry {
    use std::io;

    fn unsupported() -> io::Error {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "the Windows registry exists only on Windows",
        )
    }

    pub fn get(_key: &str, _name: &str) -> io::Result<Option<String>> {
        Err(unsupported())
    }

    pub fn set(_key: &str, _name: &str, _data: &str) -> io::Result<()> {
        Err(unsupported())
    }

    pub fn delete(_key: &str, _name: &str, _delete_key: bool) -> io::Result<()> {
        Err(unsupported())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let lad = Path::new("/lad");
        assert_eq!(
            manifest_file(Family::Chromium, lad),
            Path::new("/lad/haul/NativeMessagingHosts/chromium/haul.native_host.json")
        );
        assert_eq!(
            manifest_file(Family::Firefox, lad),
            Path::new("/lad/haul/NativeMessagingHosts/firefox/haul.native_host.json")
        );
        assert_eq!(
            registry_key(Browser::Chrome),
            r"Software\Google\Chrome\NativeMessagingHosts\haul.native_host"
        );
        assert_eq!(registry_key(Browser::Brave), registry_key(Browser::Chrome));
        assert_eq!(
            registry_key(Browser::Vivaldi),
            registry_key(Browser::Chrome)
        );
        assert_eq!(
            registry_key(Browser::Chromium),
            r"Software\Chromium\NativeMessagingHosts\haul.native_host"
        );
        assert_eq!(
            registry_key(Browser::Edge),
            r"Software\Microsoft\Edge\NativeMessagingHosts\haul.native_host"
        );
        assert_eq!(
            registry_key(Browser::Firefox),
            r"Software\Mozilla\NativeMessagingHosts\haul.native_host"
        );
        assert_eq!(
            run_command(Path::new(r"C:\Program Files\haul\haul.exe")),
            r#""C:\Program Files\haul\haul.exe" daemon"#
        );
    }
}
