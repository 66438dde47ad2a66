//! Registering haul's native host with browsers: `haul install`, `haul uninstall`, `haul doctor`.
//!
//! An install goes:
//!
//! 1. check the host binary (absolute, an executable file) and collect the ids to allow: the
//!    development extension id and Firefox add-on id (always), the ids earlier installs stored,
//!    and the new `--extension-id`s;
//! 2. plan, as pure functions of [`InstallEnv`]: one host manifest per browser location of the
//!    OS (native-messaging.md's table: [`linux`], [`macos`], [`windows`]) or per
//!    `--user-data-dir`, the registry keys pointing at them on Windows, and the autostart entry;
//!    manifests that earlier installs wrote are refreshed too, so every allow-list agrees;
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

pub mod doctor;
pub mod linux;
pub mod macos;
pub mod windows;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use haul_protocol::HOST_NAME;
use haul_protocol::install::{
    Artifact, FileRole, InstallRecord, RecordError, digest, is_chrome_extension_id,
    is_firefox_addon_id, parse_chrome_origin,
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
            FileRole::Autostart => None,
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
}

impl InstallEnv {
    /// This machine, this user, `HAUL_HOME` honoured.
    pub fn from_env() -> Result<InstallEnv, InstallError> {
        Ok(InstallEnv {
            os: Os::current(),
            dirs: HomeDirs::from_env()?,
            paths: Paths::from_env()?,
        })
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
        if let Some(b) = browser {
            if !t.browsers.contains(&b) {
                t.browsers.push(b);
            }
        }
        if let Some(k) = key {
            if !t.registry_keys.contains(&k) {
                t.registry_keys.push(k);
            }
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
    /// Browsers to register with; empty means every browser (or none with `user_data_dirs`).
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
    /// `HAUL_HOME` to carry into the autostart entry.
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
}

impl InstallReport {
    /// Whether anything on disk (or in the registry) changed.
    pub fn changed(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::Unchanged)
    }
}

/// One thing to put in place.
#[derive(Debug, Clone)]
enum Step {
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
    if opts.user_data_dirs.is_empty() {
        let wanted: &[Browser] = if opts.browsers.is_empty() {
            &Browser::ALL
        } else {
            &opts.browsers
        };
        for &b in wanted {
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

    let changes = apply(steps, &mut record)?;
    if record != old {
        save_record(&record_file, &record)?;
    }
    Ok(InstallReport {
        changes,
        record_file,
        allowed_origins: origins,
        allowed_extensions: firefox_ids,
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

/// Puts each step in place and records it.
fn apply(steps: Vec<Step>, record: &mut InstallRecord) -> Result<Vec<Change>, InstallError> {
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
                if let Some(parent) = path.parent() {
                    for dir in create_dirs(parent)? {
                        changes.push(Change {
                            action: Action::Created,
                            what: "folder".into(),
                            target: dir.display().to_string(),
                        });
                        upsert(record, Artifact::Dir { path: dir });
                    }
                }
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
                if let Some(parent) = path.parent() {
                    for dir in create_dirs(parent)? {
                        changes.push(Change {
                            action: Action::Created,
                            what: "folder".into(),
                            target: dir.display().to_string(),
                        });
                        upsert(record, Artifact::Dir { path: dir });
                    }
                }
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

fn save_record(path: &Path, record: &InstallRecord) -> Result<(), InstallError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err("create the folder", dir))?;
    }
    let mut body = serde_json::to_vec_pretty(record).map_err(|e| InstallError::Io {
        what: "encode",
        path: path.to_path_buf(),
        source: io::Error::other(e),
    })?;
    body.push(b'\n');
    write_atomic(path, &body)
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

/// What an uninstall did.
#[derive(Debug, Clone)]
pub struct UninstallReport {
    pub changes: Vec<Change>,
    /// There was no install record: haul had written nothing (that it knows of).
    pub nothing_recorded: bool,
    pub record_file: PathBuf,
}

/// Removes what `install` recorded — for `browsers` only when given (autostart entries and
/// `--user-data-dir` manifests go only with a full uninstall). An entry changed since haul wrote
/// it is left in place and forgotten.
pub fn uninstall(env: &InstallEnv, browsers: &[Browser]) -> Result<UninstallReport, InstallError> {
    let record_file = env.record_file();
    let Some(old) = InstallRecord::load(&record_file)? else {
        return Ok(UninstallReport {
            changes: Vec::new(),
            nothing_recorded: true,
            record_file,
        });
    };
    let full = browsers.is_empty();
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
                if !full && (list.is_empty() || !stays.is_empty()) {
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

#[cfg(test)]
mod tests;
