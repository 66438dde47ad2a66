//! Registering haul's native host with browsers: `haul install`, `haul uninstall`, `haul doctor`.
//!
//! An install goes:
//!
//! 1. check the host binary (absolute, an executable file) and collect the ids to allow: the
//!    development extension id and Firefox add-on id (always), the ids earlier installs stored,
//!    and the new `--extension-id`s;
//! 2. plan, as pure functions of [`InstallEnv`]: one host manifest per browser location of the
//!    OS (native-messaging.md's table: [`linux`], [`macos`], [`windows`]) for each browser
//!    named with `--browser`, else each browser installed here ([`InstallEnv::browser_present`]),
//!    or per `--user-data-dir`; the registry keys pointing at them on Windows; the autostart
//!    entry; and the home pointer, so the native host the browser starts uses the home
//!    (`HAUL_HOME` or the default) the user installed with ([`haul_protocol::user`]). Manifests
//!    that earlier installs wrote are refreshed too, so every allow-list agrees;
//! 3. apply: a file is written (atomically) only when its content differs; every file, created
//!    directory, link and registry value is listed with a digest in the install record
//!    ([`InstallRecord`], `install.json` in the data dir);
//! 4. report what changed — a second run changes nothing and says so.
//!
//! `uninstall` walks the record backwards and removes each entry only while it still holds what
//! haul wrote (a file edited since is left alone), then directories haul created if they are
//! empty. [`doctor`] checks every location the way the browsers do and names the browser's own
//! error message for each problem.
//!
//! The platform modules are compiled on every OS so their tables are tested everywhere; only the
//! registry access is Windows-only, and callers never see a `cfg`.

mod apply;
pub mod doctor;
pub mod linux;
pub mod macos;
pub mod packages;
mod uninstall;
pub mod windows;

use apply::{Step, apply, save_record};
pub use uninstall::{UninstallReport, uninstall};

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use haul_protocol::HOST_NAME;
use haul_protocol::install::{
    Artifact, FileRole, InstallRecord, RecordError, is_chrome_extension_id, is_firefox_addon_id,
    parse_chrome_origin,
};
use haul_protocol::paths::{Paths, PathsError};
use thiserror::Error;

/// A browser haul registers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Browser {
    Chrome,
    Chromium,
    Edge,
    Brave,
    Vivaldi,
    Firefox,
}

impl Browser {
    /// Every browser, in the order they are reported.
    pub const ALL: [Browser; 6] = [
        Browser::Chrome,
        Browser::Chromium,
        Browser::Edge,
        Browser::Brave,
        Browser::Vivaldi,
        Browser::Firefox,
    ];

    /// The name used on the command line and in the install record.
    pub fn as_str(self) -> &'static str {
        match self {
            Browser::Chrome => "chrome",
            Browser::Chromium => "chromium",
            Browser::Edge => "edge",
            Browser::Brave => "brave",
            Browser::Vivaldi => "vivaldi",
            Browser::Firefox => "firefox",
        }
    }

    /// The name people know it by.
    pub fn display_name(self) -> &'static str {
        match self {
            Browser::Chrome => "Google Chrome",
            Browser::Chromium => "Chromium",
            Browser::Edge => "Microsoft Edge",
            Browser::Brave => "Brave",
            Browser::Vivaldi => "Vivaldi",
            Browser::Firefox => "Firefox",
        }
    }

    /// Which manifest format it reads.
    pub fn family(self) -> Family {
        match self {
            Browser::Firefox => Family::Firefox,
            _ => Family::Chromium,
        }
    }
}

impl fmt::Display for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Browser {
    type Err = String;

    fn from_str(s: &str) -> Result<Browser, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "chrome" | "google-chrome" => Browser::Chrome,
            "chromium" => Browser::Chromium,
            "edge" | "msedge" | "microsoft-edge" => Browser::Edge,
            "brave" => Browser::Brave,
            "vivaldi" => Browser::Vivaldi,
            "firefox" => Browser::Firefox,
            _ => {
                return Err(format!(
                    "unknown browser {s:?}; expected one of: {}",
                    Browser::ALL.map(Browser::as_str).join(", ")
                ));
            }
        })
    }
}

/// The two host-manifest formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `allowed_origins` with `chrome-extension://<id>/`.
    Chromium,
    /// `allowed_extensions` with add-on ids.
    Firefox,
}

impl Family {
    fn role(self) -> FileRole {
        match self {
            Family::Chromium => FileRole::ChromiumManifest,
            Family::Firefox => FileRole::FirefoxManifest,
        }
    }

    fn of_role(role: FileRole) -> Option<Family> {
        match role {
            FileRole::ChromiumManifest => Some(Family::Chromium),
            FileRole::FirefoxManifest => Some(Family::Firefox),
            FileRole::Autostart | FileRole::HomePointer => None,
        }
    }
}

/// The operating systems with a location table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// Linux and other XDG desktops.
    Linux,
    Macos,
    Windows,
}

impl Os {
    /// The OS this binary runs on.
    pub fn current() -> Os {
        if cfg!(target_os = "macos") {
            Os::Macos
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }
}

/// The user's directories that decide where browsers look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeDirs {
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME`, else `~/.config` (Linux).
    pub config_home: PathBuf,
    /// `%LOCALAPPDATA%` (Windows).
    pub local_app_data: PathBuf,
}

impl HomeDirs {
    /// From the environment (`HOME`, `XDG_CONFIG_HOME`, the known folders on Windows).
    pub fn from_env() -> Result<HomeDirs, InstallError> {
        let base = directories::BaseDirs::new().ok_or(InstallError::NoHome)?;
        let home = base.home_dir().to_path_buf();
        let config_home = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| home.join(".config"));
        Ok(HomeDirs {
            local_app_data: base.data_local_dir().to_path_buf(),
            config_home,
            home,
        })
    }

    /// The defaults for a home directory (for tests and tables).
    pub fn for_home(home: &Path) -> HomeDirs {
        HomeDirs {
            home: home.to_path_buf(),
            config_home: home.join(".config"),
            local_app_data: home.join("AppData").join("Local"),
        }
    }
}

/// Everything an install depends on outside its options.
#[derive(Debug, Clone)]
pub struct InstallEnv {
    pub os: Os,
    pub dirs: HomeDirs,
    /// haul's own locations (the install record lives in the data dir).
    pub paths: Paths,
    /// Where the home is recorded for the native host ([`haul_protocol::user`]); `None` without
    /// a home directory.
    pub home_pointer: Option<PathBuf>,
    /// The `PATH`'s folders: a browser's program there means the browser is installed.
    pub search_path: Vec<PathBuf>,
    /// `/`, under which the system-wide manifest folders and `/Applications` are (tests use a
    /// temporary folder).
    pub system_root: PathBuf,
}

impl InstallEnv {
    /// This machine, this user, `HAUL_HOME` honoured.
    pub fn from_env() -> Result<InstallEnv, InstallError> {
        Ok(InstallEnv {
            os: Os::current(),
            dirs: HomeDirs::from_env()?,
            paths: Paths::from_env()?,
            home_pointer: haul_protocol::user::home_pointer_file(),
            search_path: std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default(),
            system_root: PathBuf::from("/"),
        })
    }

    /// For tests: `os` with its user in `home`, haul's folders under `haul_home`, nothing on the
    /// `PATH`, and the system folders under `root`.
    pub fn for_test(os: Os, home: &Path, haul_home: &Path, root: &Path) -> InstallEnv {
        InstallEnv {
            os,
            dirs: HomeDirs::for_home(home),
            paths: Paths::under(haul_home),
            home_pointer: Some(home.join(".config").join("haul").join("home.json")),
            search_path: Vec::new(),
            system_root: root.to_path_buf(),
        }
    }

    /// Whether `browser` is installed or used here: its profile folder exists, or (Linux) one of
    /// its programs is on the `PATH`, or (macOS) its application bundle is in `/Applications` or
    /// `~/Applications`. On Windows every browser counts: its registry key costs nothing where
    /// the browser is absent.
    pub fn browser_present(&self, browser: Browser) -> bool {
        if self.profile_dir(browser).is_some_and(|d| d.is_dir()) {
            return true;
        }
        match self.os {
            Os::Linux => linux::executables(browser)
                .iter()
                .any(|exe| self.search_path.iter().any(|dir| dir.join(exe).is_file())),
            Os::Macos => {
                let app = macos::app_bundle(browser);
                self.system_root.join("Applications").join(app).is_dir()
                    || self.dirs.home.join("Applications").join(app).is_dir()
            }
            Os::Windows => true,
        }
    }

    /// The browsers [`InstallEnv::browser_present`] finds, in report order.
    pub fn present_browsers(&self) -> Vec<Browser> {
        Browser::ALL
            .into_iter()
            .filter(|b| self.browser_present(*b))
            .collect()
    }

    /// The system-wide manifest files `browser` reads (where an OS package puts them; none on
    /// Windows, where the registry decides).
    pub fn system_manifest_files(&self, browser: Browser) -> Vec<PathBuf> {
        let dirs = match self.os {
            Os::Linux => linux::system_manifest_dirs(browser, &self.system_root),
            Os::Macos => macos::system_manifest_dirs(browser, &self.system_root),
            Os::Windows => Vec::new(),
        };
        dirs.into_iter()
            .map(|d| d.join(manifest_file_name()))
            .collect()
    }

    /// Where the install record is.
    pub fn record_file(&self) -> PathBuf {
        self.paths.install_record_file()
    }

    /// The folder a browser keeps its profiles in (the parent of its manifest folder); its
    /// presence means the browser is used here. `None` on Windows, where the registry decides.
    pub fn profile_dir(&self, browser: Browser) -> Option<PathBuf> {
        self.manifest_dirs(browser)
            .first()
            .and_then(|d| d.parent())
            .map(Path::to_path_buf)
    }

    /// The per-user manifest directories of `browser` on this OS (empty on Windows).
    pub fn manifest_dirs(&self, browser: Browser) -> Vec<PathBuf> {
        match self.os {
            Os::Linux => linux::manifest_dirs(browser, &self.dirs.home, &self.dirs.config_home),
            Os::Macos => macos::manifest_dirs(browser, &self.dirs.home),
            Os::Windows => Vec::new(),
        }
    }
}

/// One manifest file to write or check, and who reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestTarget {
    pub file: PathBuf,
    pub family: Family,
    /// The browsers reading it; empty for a `--user-data-dir` manifest.
    pub browsers: Vec<Browser>,
    /// Windows: the `HKEY_CURRENT_USER` keys whose default value points at `file`.
    pub registry_keys: Vec<String>,
    /// Written into `<user-data-dir>/NativeMessagingHosts/`.
    pub user_data_dir: bool,
}

impl ManifestTarget {
    /// "Google Chrome, Brave" or "the profile in DIR".
    pub fn label(&self) -> String {
        if self.browsers.is_empty() {
            let dir = self
                .file
                .parent()
                .and_then(Path::parent)
                .unwrap_or(&self.file);
            format!("the browser profile {}", dir.display())
        } else {
            self.browsers
                .iter()
                .map(|b| b.display_name())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// The manifest files for `browsers` on `env.os`, merged where browsers share one (Brave and
/// Chrome on macOS; the Chromium family on Windows), followed by one per `user_data_dirs` entry.
pub fn manifest_targets(
    env: &InstallEnv,
    browsers: &[Browser],
    user_data_dirs: &[PathBuf],
) -> Vec<ManifestTarget> {
    let mut targets: Vec<ManifestTarget> = Vec::new();
    let mut add = |file: PathBuf, browser: Option<Browser>, key: Option<String>| {
        let family = browser.map_or(Family::Chromium, Browser::family);
        let i = match targets.iter().position(|t| t.file == file) {
            Some(i) => i,
            None => {
                targets.push(ManifestTarget {
                    file,
                    family,
                    browsers: Vec::new(),
                    registry_keys: Vec::new(),
                    user_data_dir: browser.is_none(),
                });
                targets.len() - 1
            }
        };
        let t = &mut targets[i];
        if let Some(b) = browser
            && !t.browsers.contains(&b)
        {
            t.browsers.push(b);
        }
        if let Some(k) = key
            && !t.registry_keys.contains(&k)
        {
            t.registry_keys.push(k);
        }
    };
    for &browser in browsers {
        match env.os {
            Os::Windows => add(
                windows::manifest_file(browser.family(), &env.dirs.local_app_data),
                Some(browser),
                Some(windows::registry_key(browser)),
            ),
            _ => {
                for dir in env.manifest_dirs(browser) {
                    add(dir.join(manifest_file_name()), Some(browser), None);
                }
            }
        }
    }
    for udd in user_data_dirs {
        add(user_data_dir_manifest(udd), None, None);
    }
    targets
}

/// `haul.native_host.json`.
pub fn manifest_file_name() -> String {
    format!("{HOST_NAME}.json")
}

/// Where a Chromium started with `--user-data-dir=DIR` looks first: `DIR/NativeMessagingHosts/`.
pub fn user_data_dir_manifest(dir: &Path) -> PathBuf {
    dir.join("NativeMessagingHosts").join(manifest_file_name())
}

const MANIFEST_TEMPLATE: &str = include_str!("../../../installers/host-manifest.json");

/// The host manifest for `family`: `allowed_origins` (Chromium) or `allowed_extensions`
/// (Firefox) set to `allow`.
pub fn render_host_manifest(
    family: Family,
    host_path: &Path,
    allow: &[String],
) -> Result<String, InstallError> {
    let allow_key = match family {
        Family::Chromium => "allowed_origins",
        Family::Firefox => "allowed_extensions",
    };
    let json = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let list = serde_json::Value::from(allow.to_vec()).to_string();
    Ok(fill(
        MANIFEST_TEMPLATE,
        &[
            ("name", &json(HOST_NAME)),
            ("path", &json(utf8(host_path)?)),
            ("allow_key", &json(allow_key)),
            ("allow_list", &list),
        ],
    ))
}

/// Replaces each `{{key}}` of `template` in one pass (a value is never scanned again).
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = &after[..end];
        match values.iter().find(|(k, _)| *k == key) {
            Some((_, v)) => out.push_str(v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

pub(crate) fn utf8(path: &Path) -> Result<&str, InstallError> {
    path.to_str()
        .ok_or_else(|| InstallError::NonUtf8Path(path.to_path_buf()))
}

/// An id given with `--extension-id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionId {
    /// A Chromium-family id (32 letters a–p).
    Chrome(String),
    /// A Firefox add-on id.
    Firefox(String),
}

impl ExtensionId {
    /// Accepts `ID`, `chrome-extension://ID/` or a Firefox add-on id.
    pub fn parse(raw: &str) -> Result<ExtensionId, InstallError> {
        let s = raw.trim();
        if is_chrome_extension_id(s) {
            return Ok(ExtensionId::Chrome(s.to_string()));
        }
        let with_slash = if s.ends_with('/') {
            s.to_string()
        } else {
            format!("{s}/")
        };
        if let Some(id) = parse_chrome_origin(&with_slash) {
            return Ok(ExtensionId::Chrome(id.to_string()));
        }
        if is_firefox_addon_id(s) {
            return Ok(ExtensionId::Firefox(s.to_string()));
        }
        Err(InstallError::BadExtensionId(raw.to_string()))
    }
}

/// What `haul install` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Browsers to register with; empty means every browser installed here (or none with
    /// `user_data_dirs`).
    pub browsers: Vec<Browser>,
    /// Extension ids to allow besides the development id (stored for later installs).
    pub extension_ids: Vec<String>,
    /// Write `DIR/NativeMessagingHosts/haul.native_host.json` instead of the browsers' own dirs.
    pub user_data_dirs: Vec<PathBuf>,
    /// Start `haul daemon` at login.
    pub autostart: bool,
    /// Absolute path of `haul-native-host`.
    pub host_path: PathBuf,
    /// Absolute path of `haul` (for the autostart entry).
    pub haul_path: PathBuf,
    /// `HAUL_HOME` to carry into the autostart entry and record for the native host (`None`:
    /// the default folders).
    pub haul_home: Option<PathBuf>,
}

/// Why an install, uninstall or check could not be done.
#[derive(Debug, Error)]
pub enum InstallError {
    #[error(
        "the native host path {0} is relative; browsers need an absolute path (pass --host-path /absolute/path/haul-native-host)"
    )]
    RelativeHostPath(PathBuf),
    #[error(
        "the native host {0} does not exist; install haul-native-host next to haul or pass --host-path"
    )]
    HostNotFound(PathBuf),
    #[error("the native host {0} is not an executable file (try: chmod +x {0})")]
    HostNotExecutable(PathBuf),
    #[error("--user-data-dir {0} is relative; give an absolute path")]
    RelativeUserDataDir(PathBuf),
    #[error(
        "{0:?} is neither a Chromium extension id (32 letters a-p) nor a Firefox add-on id (name@domain or {{GUID}})"
    )]
    BadExtensionId(String),
    #[error(
        "--user-data-dir is for the Chromium family; Firefox reads host manifests only from its own folder (drop --browser firefox)"
    )]
    UserDataDirFirefox,
    #[error("{0} is not valid UTF-8; browsers read the manifest as UTF-8 JSON")]
    NonUtf8Path(PathBuf),
    #[error("cannot find the home directory (set HOME)")]
    NoHome,
    #[error("{0} exists and is not the link haul made; move it away and run again")]
    Occupied(PathBuf),
    #[error("cannot {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("cannot {what} the registry key HKCU\\{key}: {source}")]
    Registry {
        what: &'static str,
        key: String,
        source: io::Error,
    },
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Paths(#[from] PathsError),
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> InstallError {
    let path = path.to_path_buf();
    move |source| InstallError::Io { what, path, source }
}

/// What happened to one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Unchanged,
    Removed,
    /// Recorded, but no longer there.
    AlreadyGone,
    /// Changed since haul wrote it (or not empty, for a folder): left in place.
    Kept,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
            Action::Removed => "removed",
            Action::AlreadyGone => "already gone",
            Action::Kept => "kept",
        }
    }
}

/// One line of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: Action,
    /// What the entry is ("host manifest for Google Chrome").
    pub what: String,
    /// Where it is.
    pub target: String,
}

/// What an install did.
#[derive(Debug, Clone)]
pub struct InstallReport {
    pub changes: Vec<Change>,
    pub record_file: PathBuf,
    /// The `allowed_origins` written.
    pub allowed_origins: Vec<String>,
    /// The `allowed_extensions` written.
    pub allowed_extensions: Vec<String>,
    /// Browsers left out because they are not installed here.
    pub absent: Vec<Browser>,
}

impl InstallReport {
    /// Whether anything on disk (or in the registry) changed.
    pub fn changed(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::Unchanged)
    }
}

/// Checks the host binary the manifests will name.
pub fn check_host_path(path: &Path) -> Result<(), InstallError> {
    if !path.is_absolute() {
        return Err(InstallError::RelativeHostPath(path.to_path_buf()));
    }
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(InstallError::HostNotFound(path.to_path_buf()))
        }
        Err(source) => Err(InstallError::Io {
            what: "read",
            path: path.to_path_buf(),
            source,
        }),
        Ok(meta) if !meta.is_file() || !is_executable(&meta) => {
            Err(InstallError::HostNotExecutable(path.to_path_buf()))
        }
        Ok(_) => Ok(()),
    }
}

/// Whether a file's mode lets its owner run it (always true off Unix).
pub fn is_executable(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        true
    }
}

/// Registers the native host: see the module docs for the steps.
pub fn install(env: &InstallEnv, opts: &InstallOptions) -> Result<InstallReport, InstallError> {
    check_host_path(&opts.host_path)?;
    for udd in &opts.user_data_dirs {
        if !udd.is_absolute() {
            return Err(InstallError::RelativeUserDataDir(udd.clone()));
        }
    }
    if !opts.user_data_dirs.is_empty() && opts.browsers.contains(&Browser::Firefox) {
        return Err(InstallError::UserDataDirFirefox);
    }
    let new_ids = opts
        .extension_ids
        .iter()
        .map(|raw| ExtensionId::parse(raw))
        .collect::<Result<Vec<_>, _>>()?;

    let record_file = env.record_file();
    let old = InstallRecord::load(&record_file)?.unwrap_or_else(InstallRecord::new);
    let mut record = old.clone();
    for id in new_ids {
        let (list, id) = match id {
            ExtensionId::Chrome(id) => (&mut record.extension_ids, id),
            ExtensionId::Firefox(id) => (&mut record.firefox_ids, id),
        };
        if !list.contains(&id) {
            list.push(id);
        }
    }
    record.host_path = Some(opts.host_path.clone());
    let origins = record.chrome_origins();
    let firefox_ids = record.firefox_ids();

    let mut browsers: Vec<Browser> = Vec::new();
    let mut absent: Vec<Browser> = Vec::new();
    if opts.user_data_dirs.is_empty() {
        // Unnamed browsers only where they are installed: no profile folders for browsers the
        // user does not have.
        let wanted: Vec<Browser> = if opts.browsers.is_empty() {
            let present = env.present_browsers();
            absent = Browser::ALL
                .into_iter()
                .filter(|b| !present.contains(b))
                .collect();
            present
        } else {
            opts.browsers.clone()
        };
        for b in wanted {
            if !browsers.contains(&b) {
                browsers.push(b);
            }
        }
    }
    let mut targets = manifest_targets(env, &browsers, &opts.user_data_dirs);
    // Manifests earlier installs wrote get the same allow-lists and host path.
    for artifact in &old.artifacts {
        let Artifact::File {
            path,
            role,
            browsers,
            ..
        } = artifact
        else {
            continue;
        };
        let Some(family) = Family::of_role(*role) else {
            continue;
        };
        if !targets.iter().any(|t| &t.file == path) {
            targets.push(ManifestTarget {
                file: path.clone(),
                family,
                browsers: browsers.iter().filter_map(|b| b.parse().ok()).collect(),
                registry_keys: Vec::new(),
                user_data_dir: browsers.is_empty(),
            });
        }
    }

    let mut steps = Vec::new();
    for t in &targets {
        let allow = match t.family {
            Family::Chromium => &origins,
            Family::Firefox => &firefox_ids,
        };
        let names: Vec<String> = t.browsers.iter().map(|b| b.as_str().to_string()).collect();
        steps.push(Step::File {
            path: t.file.clone(),
            contents: render_host_manifest(t.family, &opts.host_path, allow)?,
            role: t.family.role(),
            browsers: names.clone(),
            what: format!("host manifest for {}", t.label()),
        });
        for key in &t.registry_keys {
            let users: Vec<Browser> = t
                .browsers
                .iter()
                .copied()
                .filter(|b| &windows::registry_key(*b) == key)
                .collect();
            steps.push(Step::Registry {
                key: key.clone(),
                name: String::new(),
                data: utf8(&t.file)?.to_string(),
                role: Some(t.family.role()),
                browsers: users.iter().map(|b| b.as_str().to_string()).collect(),
                what: format!(
                    "registry key for {}",
                    users
                        .iter()
                        .map(|b| b.display_name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    if opts.autostart {
        steps.extend(autostart_steps(env, opts)?);
    }
    if let Some(pointer) = &env.home_pointer {
        steps.push(Step::File {
            path: pointer.clone(),
            contents: haul_protocol::user::HomePointer {
                haul_home: opts.haul_home.clone(),
            }
            .render(),
            role: FileRole::HomePointer,
            browsers: Vec::new(),
            what: match &opts.haul_home {
                Some(h) => format!(
                    "the home the browser's haul uses (HAUL_HOME={})",
                    h.display()
                ),
                None => "the home the browser's haul uses (the default folders)".into(),
            },
        });
    }

    let changes = apply(steps, &mut record)?;
    if record != old {
        save_record(&record_file, &record)?;
    }
    Ok(InstallReport {
        changes,
        record_file,
        allowed_origins: origins,
        allowed_extensions: firefox_ids,
        absent,
    })
}

fn autostart_steps(env: &InstallEnv, opts: &InstallOptions) -> Result<Vec<Step>, InstallError> {
    let haul_home = opts.haul_home.as_deref();
    Ok(match env.os {
        Os::Linux => {
            let unit = linux::autostart_unit(&env.dirs.config_home);
            vec![
                Step::File {
                    path: unit.clone(),
                    contents: linux::render_unit(&opts.haul_path, haul_home)?,
                    role: FileRole::Autostart,
                    browsers: Vec::new(),
                    what: "systemd user unit running `haul daemon`".into(),
                },
                Step::Link {
                    path: linux::autostart_wants_link(&env.dirs.config_home),
                    target: unit,
                },
            ]
        }
        Os::Macos => vec![Step::File {
            path: macos::autostart_plist(&env.dirs.home),
            contents: macos::render_plist(
                &opts.haul_path,
                haul_home,
                &env.paths.log_dir().join("daemon-console.log"),
            )?,
            role: FileRole::Autostart,
            browsers: Vec::new(),
            what: "LaunchAgent running `haul daemon`".into(),
        }],
        Os::Windows => vec![Step::Registry {
            key: windows::RUN_KEY.into(),
            name: windows::RUN_VALUE.into(),
            data: windows::run_command(&opts.haul_path),
            role: None,
            browsers: Vec::new(),
            what: "Run entry starting `haul daemon` at login".into(),
        }],
    })
}

#[cfg(test)]
mod tests;
