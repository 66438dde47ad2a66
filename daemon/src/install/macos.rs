//! macOS: per-user host-manifest directories under `~/Library/Application Support`, and a
//! LaunchAgent for `--autostart`. Pure functions of the home directory, tested on any OS.

use std::path::{Path, PathBuf};

use super::{Browser, InstallError, fill, utf8};

const NMH: &str = "NativeMessagingHosts";

/// The directories `browser` reads per-user host manifests from (native-messaging.md's table).
/// Brave gets two: its own and Google Chrome's, which some Brave versions read instead.
pub fn manifest_dirs(browser: Browser, home: &Path) -> Vec<PathBuf> {
    let support = home.join("Library").join("Application Support");
    let chrome = support.join("Google").join("Chrome").join(NMH);
    match browser {
        Browser::Chrome => vec![chrome],
        Browser::Chromium => vec![support.join("Chromium").join(NMH)],
        Browser::Edge => vec![support.join("Microsoft Edge").join(NMH)],
        Browser::Brave => vec![
            support
                .join("BraveSoftware")
                .join("Brave-Browser")
                .join(NMH),
            chrome,
        ],
        Browser::Vivaldi => vec![support.join("Vivaldi").join(NMH)],
        Browser::Firefox => vec![support.join("Mozilla").join(NMH)],
    }
}

/// The application bundle a browser installs (in `/Applications` or `~/Applications`).
pub fn app_bundle(browser: Browser) -> &'static str {
    match browser {
        Browser::Chrome => "Google Chrome.app",
        Browser::Chromium => "Chromium.app",
        Browser::Edge => "Microsoft Edge.app",
        Browser::Brave => "Brave Browser.app",
        Browser::Vivaldi => "Vivaldi.app",
        Browser::Firefox => "Firefox.app",
    }
}

/// The system-wide manifest directories a browser reads (native-messaging.md's table), where
/// the `.pkg` puts its manifests.
pub fn system_manifest_dirs(browser: Browser, root: &Path) -> Vec<PathBuf> {
    let at = |p: &str| root.join(p);
    match browser {
        Browser::Chrome => vec![at("Library/Google/Chrome/NativeMessagingHosts")],
        Browser::Chromium => vec![at(
            "Library/Application Support/Chromium/NativeMessagingHosts",
        )],
        Browser::Edge => vec![at("Library/Microsoft/Edge/NativeMessagingHosts")],
        Browser::Brave => Vec::new(),
        Browser::Vivaldi => vec![at(
            "Library/Application Support/Vivaldi/NativeMessagingHosts",
        )],
        Browser::Firefox => vec![at(
            "Library/Application Support/Mozilla/NativeMessagingHosts",
        )],
    }
}

/// The LaunchAgent's label (and file name without `.plist`).
pub const AGENT_LABEL: &str = "haul.daemon";

/// The LaunchAgent `--autostart` writes.
pub fn autostart_plist(home: &Path) -> PathBuf {
    home.join("Library")
        .join("LaunchAgents")
        .join(format!("{AGENT_LABEL}.plist"))
}

const PLIST_TEMPLATE: &str = include_str!("../../../installers/haul.daemon.plist");

/// The LaunchAgent: runs `haul daemon` at login, restarts it if it fails, `HAUL_HOME` carried
/// over when it was set; the daemon's stderr goes to `log`.
pub fn render_plist(
    haul: &Path,
    haul_home: Option<&Path>,
    log: &Path,
) -> Result<String, InstallError> {
    render_plist_by(haul, haul_home, log, super::linux::WRITTEN_BY_INSTALL)
}

/// [`render_plist`], saying who wrote it (`origin`).
pub fn render_plist_by(
    haul: &Path,
    haul_home: Option<&Path>,
    log: &Path,
    origin: &str,
) -> Result<String, InstallError> {
    let environment = match haul_home {
        Some(home) => format!(
            "  <key>EnvironmentVariables</key>\n  <dict>\n    <key>HAUL_HOME</key>\n    <string>{}</string>\n  </dict>\n",
            xml_escape(utf8(home)?)
        ),
        None => String::new(),
    };
    Ok(fill(
        PLIST_TEMPLATE,
        &[
            ("label", AGENT_LABEL),
            ("haul", &xml_escape(utf8(haul)?)),
            ("environment", &environment),
            ("log", &xml_escape(utf8(log)?)),
            ("origin", &xml_escape(origin)),
        ],
    ))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let home = Path::new("/Users/u");
        let s = "/Users/u/Library/Application Support";
        let dirs = |b| manifest_dirs(b, home);
        let p = |rest: &str| PathBuf::from(format!("{s}/{rest}/NativeMessagingHosts"));
        assert_eq!(dirs(Browser::Chrome), [p("Google/Chrome")]);
        assert_eq!(dirs(Browser::Chromium), [p("Chromium")]);
        assert_eq!(dirs(Browser::Edge), [p("Microsoft Edge")]);
        assert_eq!(
            dirs(Browser::Brave),
            [p("BraveSoftware/Brave-Browser"), p("Google/Chrome")]
        );
        assert_eq!(dirs(Browser::Vivaldi), [p("Vivaldi")]);
        assert_eq!(dirs(Browser::Firefox), [p("Mozilla")]);
        assert_eq!(
            autostart_plist(home),
            Path::new("/Users/u/Library/LaunchAgents/haul.daemon.plist")
        );
    }

    #[test]
    fn plist_runs_haul_daemon() {
        let plist = render_plist(
            Path::new("/Applications/A&B/haul"),
            Some(Path::new("/tmp/h")),
            Path::new("/tmp/h/data/logs/daemon-console.log"),
        )
        .unwrap();
        assert!(
            plist.contains(
                "<string>/Applications/A&amp;B/haul</string>\n    <string>daemon</string>"
            )
        );
        assert!(plist.contains("<key>HAUL_HOME</key>\n    <string>/tmp/h</string>"));
        assert!(plist.contains("<key>Label</key>\n  <string>haul.daemon</string>"));
        assert!(!plist.contains("{{"));
    }
}
