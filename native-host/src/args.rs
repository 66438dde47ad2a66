//! Who launched the host, from its arguments.
//!
//! - Chromium family: `argv[1]` is the caller origin `chrome-extension://<id>/`. Windows adds
//!   `--parent-window=<HWND>`; newer Chromium may add `--reconnect-command=…` and
//!   `--native-messaging-connect-id=…` for native-initiated connections. Unknown `--flags` are
//!   ignored wherever they appear.
//! - Firefox: `argv[1]` is the full path of the host manifest it used, `argv[2]` the add-on id.

use std::ffi::OsString;
use std::path::PathBuf;

use haul_protocol::install::{CHROME_ORIGIN_PREFIX, parse_chrome_origin};

/// The extension on the other end of stdio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A Chromium-family browser: the exact origin and its extension id.
    Chrome { origin: String, id: String },
    /// Firefox: the manifest it read and the add-on id.
    Firefox { manifest: PathBuf, addon_id: String },
}

impl Caller {
    /// The identity passed to the daemon in `hello` (`client.caller`).
    pub fn identity(&self) -> &str {
        match self {
            Caller::Chrome { origin, .. } => origin,
            Caller::Firefox { addon_id, .. } => addon_id,
        }
    }
}

/// Arguments that name no caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsError {
    /// No arguments: not launched by a browser.
    NoCaller,
    /// A `chrome-extension://` argument of the wrong shape.
    BadOrigin(String),
    /// Firefox's manifest path without an add-on id (Firefox before 55).
    NoAddonId(PathBuf),
    /// An argument that is not valid Unicode where text is expected.
    NotUnicode,
}

impl std::fmt::Display for ArgsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArgsError::NoCaller => f.write_str(
                "haul-native-host is started by the browser for haul's extension; it was started without a caller (run `haul doctor` to check the setup)",
            ),
            ArgsError::BadOrigin(o) => write!(
                f,
                "the caller origin {o:?} is not of the form chrome-extension://<id>/"
            ),
            ArgsError::NoAddonId(m) => write!(
                f,
                "started with the manifest {} but no add-on id (Firefox 55 or newer is needed)",
                m.display()
            ),
            ArgsError::NotUnicode => f.write_str("an argument is not valid Unicode"),
        }
    }
}

/// Reads the caller from the arguments after the program name.
pub fn parse(args: &[OsString]) -> Result<Caller, ArgsError> {
    let positional: Vec<&OsString> = args
        .iter()
        .filter(|a| !a.to_string_lossy().starts_with("--"))
        .collect();
    let first = positional.first().ok_or(ArgsError::NoCaller)?;
    if first.to_string_lossy().starts_with(CHROME_ORIGIN_PREFIX) {
        let origin = first.to_str().ok_or(ArgsError::NotUnicode)?;
        let id = parse_chrome_origin(origin).ok_or_else(|| ArgsError::BadOrigin(origin.into()))?;
        return Ok(Caller::Chrome {
            origin: origin.to_string(),
            id: id.to_string(),
        });
    }
    let manifest = PathBuf::from(first);
    let addon_id = positional
        .get(1)
        .ok_or_else(|| ArgsError::NoAddonId(manifest.clone()))?
        .to_str()
        .ok_or(ArgsError::NotUnicode)?
        .to_string();
    Ok(Caller::Firefox { manifest, addon_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "chrome-extension://aeiomeebenanmmejecnkplfcfnolnnan/";

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn chrome() -> Caller {
        Caller::Chrome {
            origin: ORIGIN.into(),
            id: "aeiomeebenanmmejecnkplfcfnolnnan".into(),
        }
    }

    #[test]
    fn chrome_origin_alone() {
        assert_eq!(parse(&args(&[ORIGIN])), Ok(chrome()));
        assert_eq!(chrome().identity(), ORIGIN);
    }

    #[test]
    fn chrome_with_parent_window_and_unknown_flags() {
        assert_eq!(parse(&args(&[ORIGIN, "--parent-window=0"])), Ok(chrome()));
        assert_eq!(
            parse(&args(&[
                ORIGIN,
                "--parent-window=1234",
                "--reconnect-command=eyJhIjoxfQ==",
                "--native-messaging-connect-id=abc",
                "--some-future-flag",
            ])),
            Ok(chrome())
        );
        // Unknown flags before the origin do not hide it either.
        assert_eq!(parse(&args(&["--new-thing=1", ORIGIN])), Ok(chrome()));
    }

    #[test]
    fn chrome_origin_must_be_exact() {
        for bad in [
            "chrome-extension://aeiomeebenanmmejecnkplfcfnolnnan",
            "chrome-extension://short/",
            "chrome-extension://AEIOMEEBENANMMEJECNKPLFCFNOLNNAN/",
        ] {
            assert_eq!(
                parse(&args(&[bad])),
                Err(ArgsError::BadOrigin(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn firefox_manifest_and_addon_id() {
        let got = parse(&args(&[
            "/home/u/.mozilla/native-messaging-hosts/haul.native_host.json",
            "haul@haul.local",
        ]))
        .unwrap();
        assert_eq!(
            got,
            Caller::Firefox {
                manifest: "/home/u/.mozilla/native-messaging-hosts/haul.native_host.json".into(),
                addon_id: "haul@haul.local".into(),
            }
        );
        assert_eq!(got.identity(), "haul@haul.local");
        assert!(matches!(
            parse(&args(&["/x/haul.native_host.json"])),
            Err(ArgsError::NoAddonId(_))
        ));
    }

    #[test]
    fn nothing_or_only_flags_is_no_caller() {
        assert_eq!(parse(&[]), Err(ArgsError::NoCaller));
        assert_eq!(
            parse(&args(&["--parent-window=0"])),
            Err(ArgsError::NoCaller)
        );
    }
}
