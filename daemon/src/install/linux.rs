//! Linux (and other XDG desktops): per-user host-manifest directories under the XDG config dir
//! (`~/.config` unless `XDG_CONFIG_HOME` says otherwise — Chrome, Chromium, Edge, Brave and
//! Vivaldi all follow it), Firefox under `~/.mozilla`, and a systemd user unit for `--autostart`.
//! Pure functions of the home directories, so every OS's table is tested on any OS.

use std::path::{Path, PathBuf};

use super::{Browser, InstallError, fill, utf8};

const NMH: &str = "NativeMessagingHosts";

/// The directories `browser` reads per-user host manifests from (native-messaging.md's table).
pub fn manifest_dirs(browser: Browser, home: &Path, config_home: &Path) -> Vec<PathBuf> {
    let dir = match browser {
        Browser::Chrome => config_home.join("google-chrome").join(NMH),
        Browser::Chromium => config_home.join("chromium").join(NMH),
        Browser::Edge => config_home.join("microsoft-edge").join(NMH),
        Browser::Brave => config_home
            .join("BraveSoftware")
            .join("Brave-Browser")
            .join(NMH),
        Browser::Vivaldi => config_home.join("vivaldi").join(NMH),
        Browser::Firefox => home.join(".mozilla").join("native-messaging-hosts"),
    };
    vec![dir]
}

/// The programs a browser installs on the `PATH` (its packages' names for it): one of them on
/// the `PATH` means the browser is installed here, even before its first start.
pub fn executables(browser: Browser) -> &'static [&'static str] {
    match browser {
        Browser::Chrome => &[
            "google-chrome",
            "google-chrome-stable",
            "google-chrome-beta",
            "google-chrome-unstable",
        ],
        Browser::Chromium => &["chromium", "chromium-browser"],
        Browser::Edge => &[
            "microsoft-edge",
            "microsoft-edge-stable",
            "microsoft-edge-beta",
            "microsoft-edge-dev",
        ],
        Browser::Brave => &["brave-browser", "brave", "brave-browser-stable"],
        Browser::Vivaldi => &["vivaldi", "vivaldi-stable"],
        Browser::Firefox => &["firefox", "firefox-esr"],
    }
}

/// The system-wide manifest directories a browser reads (native-messaging.md's table), where
/// the haul package puts its manifests. Brave has none it is known to read: its users install
/// per user.
pub fn system_manifest_dirs(browser: Browser, root: &Path) -> Vec<PathBuf> {
    let at = |p: &str| root.join(p);
    match browser {
        Browser::Chrome => vec![at("etc/opt/chrome/native-messaging-hosts")],
        Browser::Chromium => vec![at("etc/chromium/native-messaging-hosts")],
        Browser::Edge => vec![at("etc/opt/edge/native-messaging-hosts")],
        Browser::Brave => Vec::new(),
        Browser::Vivaldi => vec![at("etc/opt/vivaldi/native-messaging-hosts")],
        Browser::Firefox => vec![
            at("usr/lib/mozilla/native-messaging-hosts"),
            at("usr/lib64/mozilla/native-messaging-hosts"),
        ],
    }
}

/// Unit name of the autostart service.
pub const UNIT_NAME: &str = "haul.service";

/// The systemd user unit `--autostart` writes.
pub fn autostart_unit(config_home: &Path) -> PathBuf {
    config_home.join("systemd").join("user").join(UNIT_NAME)
}

/// The link `systemctl --user enable haul.service` would make; haul makes it itself so the
/// daemon starts at the next login without running systemctl.
pub fn autostart_wants_link(config_home: &Path) -> PathBuf {
    config_home
        .join("systemd")
        .join("user")
        .join("default.target.wants")
        .join(UNIT_NAME)
}

const UNIT_TEMPLATE: &str = include_str!("../../../installers/haul.service");

/// Who wrote an autostart entry, for its first comment: `haul install` (per user). No `--` in
/// it: the plist carries it in an XML comment, where `--` may not appear.
pub const WRITTEN_BY_INSTALL: &str =
    "Written by `haul install` (its autostart option); `haul uninstall` removes it.";

/// Who wrote an autostart entry: an OS package (for every user of the machine).
pub const WRITTEN_BY_PACKAGE: &str =
    "Installed by the haul package for every user; removing the package removes it.";

/// The unit file: runs `haul daemon`, with `HAUL_HOME` carried over when it was set.
pub fn render_unit(haul: &Path, haul_home: Option<&Path>) -> Result<String, InstallError> {
    render_unit_by(haul, haul_home, WRITTEN_BY_INSTALL)
}

/// [`render_unit`], saying who wrote it (`origin`).
pub fn render_unit_by(
    haul: &Path,
    haul_home: Option<&Path>,
    origin: &str,
) -> Result<String, InstallError> {
    let exec_start = format!("{} daemon", systemd_quote(utf8(haul)?));
    let environment = match haul_home {
        Some(home) => format!(
            "Environment={}\n",
            systemd_quote(&format!("HAUL_HOME={}", utf8(home)?))
        ),
        None => String::new(),
    };
    Ok(fill(
        UNIT_TEMPLATE,
        &[
            ("exec_start", &exec_start),
            ("environment", &environment),
            ("origin", origin),
        ],
    ))
}

/// A double-quoted word for a systemd unit: backslash and quote escaped, `%` (specifiers) and `$`
/// (variable expansion) doubled.
fn systemd_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let home = Path::new("/home/u");
        let cfg = Path::new("/home/u/.config");
        let dir = |b| manifest_dirs(b, home, cfg);
        assert_eq!(
            dir(Browser::Chrome),
            [Path::new(
                "/home/u/.config/google-chrome/NativeMessagingHosts"
            )]
        );
        assert_eq!(
            dir(Browser::Chromium),
            [Path::new("/home/u/.config/chromium/NativeMessagingHosts")]
        );
        assert_eq!(
            dir(Browser::Edge),
            [Path::new(
                "/home/u/.config/microsoft-edge/NativeMessagingHosts"
            )]
        );
        assert_eq!(
            dir(Browser::Brave),
            [Path::new(
                "/home/u/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts"
            )]
        );
        assert_eq!(
            dir(Browser::Vivaldi),
            [Path::new("/home/u/.config/vivaldi/NativeMessagingHosts")]
        );
        assert_eq!(
            dir(Browser::Firefox),
            [Path::new("/home/u/.mozilla/native-messaging-hosts")]
        );
        // XDG_CONFIG_HOME moves the Chromium family, not Firefox.
        let moved = manifest_dirs(Browser::Chrome, home, Path::new("/x"));
        assert_eq!(moved, [Path::new("/x/google-chrome/NativeMessagingHosts")]);
        assert_eq!(
            autostart_unit(cfg),
            Path::new("/home/u/.config/systemd/user/haul.service")
        );
        assert_eq!(
            autostart_wants_link(cfg),
            Path::new("/home/u/.config/systemd/user/default.target.wants/haul.service")
        );
    }

    #[test]
    fn unit_runs_haul_daemon_with_quoting() {
        let unit = render_unit(
            Path::new("/opt/my apps/haul"),
            Some(Path::new("/data/100%/$x")),
        )
        .unwrap();
        assert!(
            unit.contains("\nExecStart=\"/opt/my apps/haul\" daemon\n"),
            "{unit}"
        );
        assert!(
            unit.contains("\nEnvironment=\"HAUL_HOME=/data/100%%/$$x\"\nRestart=on-failure\n"),
            "{unit}"
        );
        assert!(unit.contains("WantedBy=default.target"));
        let plain = render_unit(Path::new("/usr/bin/haul"), None).unwrap();
        assert!(plain.contains("ExecStart=\"/usr/bin/haul\" daemon\nRestart=on-failure"));
        assert!(!plain.contains("{{"));
    }
}
