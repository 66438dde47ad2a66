//! `haul doctor`: checks every place a browser looks for haul's native host the way the browser
//! does, and names, for each problem, the message the extension shows (the browser's own error
//! string) and the command that fixes it.
//!
//! For each manifest location (every browser of this OS, each `--user-data-dir`, and whatever the
//! install record lists), in the order a browser fails:
//!
//! 1. the file exists (Windows: the registry key exists and names it);
//! 2. it is JSON of the manifest's shape;
//! 3. `name` is `haul.native_host`, the name of the file;
//! 4. `type` is `stdio`;
//! 5. `path` is absolute (Linux/macOS), exists and is an executable file;
//! 6. the allow-list names the development extension (`allowed_origins` with
//!    `chrome-extension://<id>/`, trailing slash included) or haul's Firefox add-on id.
//!
//! Where the user has no manifest, the browser's system-wide one (from the haul package) is
//! checked instead. A missing manifest is a problem only where it is expected: a browser asked
//! for with `--browser`, a location the install record lists, a `--user-data-dir`, or a browser
//! installed here ([`InstallEnv::browser_present`]); the browsers that are not installed are
//! named in one quiet line. Then the daemon: it must answer `hello` on its socket; when it is not
//! running that is fine as long as the native host can start it (a `haul` binary beside the
//! host, or `HAUL_BIN`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use haul_protocol::install::{
    HAUL_BIN_ENV, HAUL_EXE, HostManifest, InstallRecord, chrome_origin, parse_chrome_origin,
};
use haul_protocol::message::{ClientInfo, ClientKind, HelloRequest, Reply, Request};
use haul_protocol::paths::Paths;
use haul_protocol::{DEV_EXTENSION_ID, FIREFOX_ADDON_ID, HOST_NAME, PROTOCOL_VERSION, socket};

use super::{
    Browser, Family, InstallEnv, ManifestTarget, Os, is_executable, manifest_file_name,
    manifest_targets, windows,
};

/// The browsers' own error messages (Chromium's `native_message_host.cc`, Firefox's console).
pub mod browser_error {
    use haul_protocol::HOST_NAME;

    /// Missing manifest, invalid JSON, wrong name or type, relative or missing `path`.
    pub const NOT_FOUND: &str = "Specified native messaging host not found.";
    /// The extension's origin is not in `allowed_origins`.
    pub const FORBIDDEN: &str = "Access to the specified native messaging host is forbidden.";
    /// The host exited (seen for a host file that is not executable, too).
    pub const EXITED: &str = "Native host has exited.";
    /// The binary could not be started.
    pub const FAILED_TO_START: &str = "Failed to start native messaging host.";

    /// Windows: the registry key is missing.
    pub fn not_registered() -> String {
        format!("Native messaging host {HOST_NAME} is not registered.")
    }

    /// Firefox: no manifest (or an unreadable one).
    pub fn firefox_not_found() -> String {
        format!("No such native application {HOST_NAME}")
    }

    /// Firefox: the add-on id is not in `allowed_extensions`.
    pub fn firefox_forbidden() -> String {
        format!("This extension does not have permission to use native application {HOST_NAME}")
    }

    /// Firefox: `path` is missing or not executable.
    pub fn firefox_not_executable(path: &str) -> String {
        format!("File at path {path} does not exist, or is not executable")
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Ok,
    /// Worth knowing, nothing to fix.
    Note,
    /// The extension will fail: `haul doctor` exits nonzero.
    Problem,
}

/// One checked thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// What was checked ("Google Chrome", "daemon").
    pub subject: String,
    /// What was found, with the location.
    pub detail: String,
    /// What the extension shows because of it (the browser's own words).
    pub browser_says: Vec<String>,
    /// The command (or step) that fixes it.
    pub fix: Option<String>,
}

impl Finding {
    fn ok(subject: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Ok,
            subject: subject.into(),
            detail: detail.into(),
            browser_says: Vec::new(),
            fix: None,
        }
    }

    fn note(subject: impl Into<String>, detail: impl Into<String>, fix: Option<String>) -> Finding {
        Finding {
            severity: Severity::Note,
            subject: subject.into(),
            detail: detail.into(),
            browser_says: Vec::new(),
            fix,
        }
    }

    fn problem(
        subject: impl Into<String>,
        detail: impl Into<String>,
        browser_says: Vec<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            severity: Severity::Problem,
            subject: subject.into(),
            detail: detail.into(),
            browser_says,
            fix: Some(fix.into()),
        }
    }
}

/// Whether haul's data, logs, token and inbox reports are private to the user
/// ([`crate::privacy`]).
pub fn check_privacy(paths: &Paths, inbox: &Path) -> Finding {
    let loose = crate::privacy::check(paths, inbox);
    if loose.is_empty() {
        return Finding::ok(
            "privacy",
            format!(
                "haul's data ({}), logs, token and inbox reports can be opened only by you",
                paths.data_dir.display()
            ),
        );
    }
    const SHOWN: usize = 8;
    let mut detail = format!(
        "{} of haul's files and folders can be opened by other users of this computer:",
        loose.len()
    );
    for l in loose.iter().take(SHOWN) {
        detail.push_str(&format!(
            "\n           {} (mode {:o}, should be {:o})",
            l.path.display(),
            l.mode,
            l.wanted
        ));
    }
    if loose.len() > SHOWN {
        detail.push_str(&format!("\n           … and {} more", loose.len() - SHOWN));
    }
    let commands: Vec<String> = loose
        .iter()
        .take(SHOWN)
        .map(crate::privacy::Loose::fix)
        .collect();
    Finding::problem(
        "privacy",
        detail,
        Vec::new(),
        format!(
            "start haul (`haul daemon`, or press the haul button): it makes them private when it starts; or run: {}",
            commands.join("; ")
        ),
    )
}

/// What to check besides the defaults.
#[derive(Debug, Clone, Default)]
pub struct DoctorOptions {
    /// Browsers that must be set up (default: every browser, each expected only if used here).
    pub browsers: Vec<Browser>,
    /// Profiles (`--user-data-dir`) that must have a manifest.
    pub user_data_dirs: Vec<PathBuf>,
}

/// The result of the manifest checks.
#[derive(Debug, Clone, Default)]
pub struct InstallCheck {
    pub findings: Vec<Finding>,
    /// The host binaries the valid manifests name (to see whether they can start the daemon).
    pub host_paths: Vec<PathBuf>,
}

/// Checks every manifest location; see the module docs.
pub fn check_install(env: &InstallEnv, opts: &DoctorOptions) -> InstallCheck {
    let mut out = InstallCheck::default();
    let record = match InstallRecord::load(&env.record_file()) {
        Ok(r) => r,
        Err(e) => {
            out.findings.push(Finding::problem(
                "install record",
                e.to_string(),
                Vec::new(),
                format!(
                    "move {} away, then run `haul install`",
                    env.record_file().display()
                ),
            ));
            None
        }
    };
    let recorded: Vec<PathBuf> = record
        .iter()
        .flat_map(|r| &r.artifacts)
        .filter_map(|a| match a {
            haul_protocol::install::Artifact::File { path, role, .. }
                if Family::of_role(*role).is_some() =>
            {
                Some(path.clone())
            }
            haul_protocol::install::Artifact::RegistryValue {
                data,
                role: Some(_),
                ..
            } => Some(PathBuf::from(data)),
            _ => None,
        })
        .collect();

    let browsers: &[Browser] = if opts.browsers.is_empty() {
        &Browser::ALL
    } else {
        &opts.browsers
    };
    let mut targets = manifest_targets(env, browsers, &opts.user_data_dirs);
    // Manifests an install wrote elsewhere (another --user-data-dir) are checked too.
    if let Some(r) = &record {
        for a in &r.artifacts {
            if let haul_protocol::install::Artifact::File {
                path,
                role: haul_protocol::install::FileRole::ChromiumManifest,
                browsers,
                ..
            } = a
                && browsers.is_empty()
                && !targets.iter().any(|t| &t.file == path)
            {
                targets.push(ManifestTarget {
                    file: path.clone(),
                    family: Family::Chromium,
                    browsers: Vec::new(),
                    registry_keys: Vec::new(),
                    user_data_dir: true,
                });
            }
        }
    }

    let mut installed_somewhere = false;
    let mut absent: Vec<Browser> = Vec::new();
    for target in &targets {
        let expected = target.user_data_dir
            || recorded.contains(&target.file)
            || target
                .browsers
                .iter()
                .any(|b| opts.browsers.contains(b) || env.browser_present(*b));
        let fix = fix_command(target);
        if env.os == Os::Windows && !target.registry_keys.is_empty() {
            for key in &target.registry_keys {
                let users: Vec<Browser> = target
                    .browsers
                    .iter()
                    .copied()
                    .filter(|b| &windows::registry_key(*b) == key)
                    .collect();
                let subject = users
                    .iter()
                    .map(|b| b.display_name())
                    .collect::<Vec<_>>()
                    .join(", ");
                let expected = expected || recorded.contains(&target.file);
                match windows::registry::get(key, "") {
                    Ok(Some(file)) => {
                        let f = check_manifest_file(
                            Path::new(&file),
                            target.family,
                            env.os,
                            &subject,
                            &fix,
                        );
                        installed_somewhere |= f.severity != Severity::Problem;
                        note_host(&mut out, &f, Path::new(&file));
                        out.findings.push(f);
                    }
                    Ok(None) if expected => out.findings.push(Finding::problem(
                        subject,
                        format!(r"the registry key HKCU\{key} is missing"),
                        vec![
                            browser_error::not_registered(),
                            browser_error::NOT_FOUND.to_string(),
                        ],
                        fix.clone(),
                    )),
                    Ok(None) => out.findings.push(Finding::note(
                        subject,
                        "not set up".to_string(),
                        Some(fix.clone()),
                    )),
                    Err(e) => out.findings.push(Finding::problem(
                        subject,
                        format!(r"cannot read HKCU\{key}: {e}"),
                        Vec::new(),
                        fix.clone(),
                    )),
                }
            }
            continue;
        }
        if !target.file.exists() {
            // The browser reads the system-wide manifest an OS package (the .deb, the .pkg)
            // installed when it has none of the user's.
            let system = target
                .browsers
                .iter()
                .flat_map(|b| env.system_manifest_files(*b))
                .find(|f| f.exists());
            if let Some(file) = system {
                let subject = format!("{} (system-wide)", target.label());
                let f = check_manifest_file(&file, target.family, env.os, &subject, &fix);
                installed_somewhere |= f.severity != Severity::Problem;
                note_host(&mut out, &f, &file);
                out.findings.push(f);
                continue;
            }
            if !expected {
                for b in &target.browsers {
                    if !absent.contains(b) {
                        absent.push(*b);
                    }
                }
                continue;
            }
        }
        let f = check_manifest_file(&target.file, target.family, env.os, &target.label(), &fix);
        installed_somewhere |= f.severity != Severity::Problem;
        note_host(&mut out, &f, &target.file);
        out.findings.push(f);
    }
    if !absent.is_empty() {
        absent.sort();
        out.findings.push(Finding::note(
            "browsers",
            format!(
                "not installed here: {}",
                absent
                    .iter()
                    .map(|b| b.display_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None,
        ));
    }
    if !installed_somewhere && !out.findings.iter().any(|f| f.severity == Severity::Problem) {
        out.findings.push(Finding::problem(
            "browsers",
            "haul's native host is not registered with any browser",
            vec![
                browser_error::NOT_FOUND.to_string(),
                browser_error::firefox_not_found(),
            ],
            "run `haul install`",
        ));
    }
    out
}

/// Remembers the host binary of a manifest that checked out.
fn note_host(out: &mut InstallCheck, f: &Finding, manifest: &Path) {
    if f.severity != Severity::Ok {
        return;
    }
    let Some(m) = read_manifest(manifest) else {
        return;
    };
    let p = PathBuf::from(m.path);
    if !out.host_paths.contains(&p) {
        out.host_paths.push(p);
    }
}

fn read_manifest(path: &Path) -> Option<HostManifest> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn fix_command(target: &ManifestTarget) -> String {
    if target.browsers.is_empty() {
        let dir = target
            .file
            .parent()
            .and_then(Path::parent)
            .unwrap_or(&target.file);
        format!("run `haul install --user-data-dir {}`", dir.display())
    } else {
        let flags: Vec<String> = target
            .browsers
            .iter()
            .map(|b| format!("--browser {b}"))
            .collect();
        format!("run `haul install {}`", flags.join(" "))
    }
}

/// Checks one manifest file as the browser reads it (steps 1–6 of the module docs).
pub fn check_manifest_file(
    file: &Path,
    family: Family,
    os: Os,
    subject: &str,
    fix: &str,
) -> Finding {
    let not_found = || match family {
        Family::Chromium => vec![browser_error::NOT_FOUND.to_string()],
        Family::Firefox => vec![browser_error::firefox_not_found()],
    };
    let at = file.display();
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Finding::problem(subject, format!("no manifest at {at}"), not_found(), fix);
        }
        Err(e) => {
            return Finding::problem(subject, format!("cannot read {at}: {e}"), not_found(), fix);
        }
    };
    let manifest: HostManifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => {
            return Finding::problem(
                subject,
                format!("{at} is not a valid host manifest: {e}"),
                not_found(),
                fix,
            );
        }
    };
    let expected_file = manifest_file_name();
    let file_name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if manifest.name != HOST_NAME {
        return Finding::problem(
            subject,
            format!(
                "{at} names the host {:?}; it must be {HOST_NAME:?}",
                manifest.name
            ),
            not_found(),
            fix,
        );
    }
    if os != Os::Windows && file_name != expected_file {
        return Finding::problem(
            subject,
            format!("{at}: the file must be called {expected_file} to match its name"),
            not_found(),
            fix,
        );
    }
    if manifest.kind != "stdio" {
        return Finding::problem(
            subject,
            format!(
                "{at}: \"type\" is {:?}; it must be \"stdio\"",
                manifest.kind
            ),
            not_found(),
            fix,
        );
    }
    let host = PathBuf::from(&manifest.path);
    let host = if host.is_absolute() {
        host
    } else if os == Os::Windows {
        // Windows resolves a relative path against the manifest's folder.
        file.parent().unwrap_or(Path::new("")).join(host)
    } else {
        return Finding::problem(
            subject,
            format!(
                "{at}: \"path\" {:?} is relative; browsers need an absolute path",
                manifest.path
            ),
            not_found(),
            fix,
        );
    };
    let not_executable = |what: &str| match family {
        Family::Chromium => vec![
            browser_error::EXITED.to_string(),
            browser_error::FAILED_TO_START.to_string(),
        ],
        Family::Firefox => vec![browser_error::firefox_not_executable(what)],
    };
    match std::fs::metadata(&host) {
        Err(_) => {
            let says = match family {
                Family::Chromium => vec![browser_error::NOT_FOUND.to_string()],
                Family::Firefox => vec![browser_error::firefox_not_executable(&manifest.path)],
            };
            return Finding::problem(
                subject,
                format!("{at}: the host {} does not exist", host.display()),
                says,
                format!(
                    "reinstall haul, or {} --host-path /absolute/path/to/haul-native-host",
                    fix.trim_end_matches('`')
                ) + "`",
            );
        }
        Ok(meta) if !meta.is_file() || !is_executable(&meta) => {
            return Finding::problem(
                subject,
                format!("{at}: the host {} is not executable", host.display()),
                not_executable(&manifest.path),
                format!("run `chmod +x {}`", host.display()),
            );
        }
        Ok(_) => {}
    }
    match family {
        Family::Chromium => {
            let origins = manifest.allowed_origins.unwrap_or_default();
            let dev = chrome_origin(DEV_EXTENSION_ID);
            if !origins.contains(&dev) {
                let near_miss = origins
                    .iter()
                    .any(|o| o.trim_end_matches('/') == dev.trim_end_matches('/'));
                let why = if near_miss {
                    format!(
                        "\"allowed_origins\" lists the extension without the trailing slash; it must be exactly {dev:?}"
                    )
                } else {
                    format!("\"allowed_origins\" does not contain the haul extension ({dev})")
                };
                return Finding::problem(
                    subject,
                    format!("{at}: {why}"),
                    vec![browser_error::FORBIDDEN.to_string()],
                    "run `haul install` (add another extension's id with `--extension-id ID`)",
                );
            }
            let malformed: Vec<&String> = origins
                .iter()
                .filter(|o| parse_chrome_origin(o).is_none())
                .collect();
            if !malformed.is_empty() {
                return Finding::note(
                    subject,
                    format!("{at}: ok, but these allowed_origins can never match: {malformed:?}"),
                    Some("run `haul install` to rewrite the manifest".into()),
                );
            }
        }
        Family::Firefox => {
            let ids = manifest.allowed_extensions.unwrap_or_default();
            if !ids.iter().any(|i| i == FIREFOX_ADDON_ID) {
                return Finding::problem(
                    subject,
                    format!(
                        "{at}: \"allowed_extensions\" does not contain the haul add-on ({FIREFOX_ADDON_ID})"
                    ),
                    vec![browser_error::firefox_forbidden()],
                    "run `haul install --browser firefox`",
                );
            }
        }
    }
    Finding::ok(subject, format!("{at} → {}", host.display()))
}

/// Whether a host at `host` could start the daemon: `HAUL_BIN` if set, else `haul` beside it.
pub fn daemon_binary_for(host: &Path) -> PathBuf {
    match std::env::var_os(HAUL_BIN_ENV).filter(|v| !v.is_empty()) {
        Some(bin) => PathBuf::from(bin),
        None => host
            .parent()
            .map(|d| d.join(HAUL_EXE))
            .unwrap_or_else(|| PathBuf::from(HAUL_EXE)),
    }
}

/// Asks the daemon for `hello` within `timeout`. Not running is fine when one of `host_paths`
/// can start it.
pub async fn check_daemon(paths: &Paths, host_paths: &[PathBuf], timeout: Duration) -> Finding {
    let where_ = socket::socket_display(paths);
    let answer = tokio::time::timeout(timeout, hello(paths)).await;
    match answer {
        Ok(Ok(reply)) => match reply {
            Reply::Hello(h) if h.protocol == PROTOCOL_VERSION => Finding::ok(
                "daemon",
                format!(
                    "answers on {where_} (version {}{})",
                    h.version,
                    h.pid.map(|p| format!(", pid {p}")).unwrap_or_default()
                ),
            ),
            Reply::Hello(h) => Finding::problem(
                "daemon",
                format!(
                    "the daemon on {where_} speaks protocol {} (version {}); this haul speaks {PROTOCOL_VERSION}",
                    h.protocol, h.version
                ),
                Vec::new(),
                "stop the old daemon and start this one: `haul daemon`",
            ),
            Reply::Error(e) => Finding::problem(
                "daemon",
                format!("the daemon on {where_} refused hello: {}", e.message),
                Vec::new(),
                "restart the daemon: `haul daemon`",
            ),
            other => Finding::problem(
                "daemon",
                format!("the daemon on {where_} answered hello with {other:?}"),
                Vec::new(),
                "restart the daemon: `haul daemon`",
            ),
        },
        Ok(Err(HelloError::NotRunning)) => {
            let starters: Vec<PathBuf> = host_paths
                .iter()
                .map(|h| daemon_binary_for(h))
                .filter(|b| b.is_file())
                .collect();
            if host_paths.is_empty() || !starters.is_empty() {
                Finding::note(
                    "daemon",
                    format!(
                        "not running (no answer on {where_}); the native host starts it when the extension needs it"
                    ),
                    Some("to run it now: `haul daemon`; to start it at login: `haul install --autostart`".into()),
                )
            } else {
                Finding::problem(
                    "daemon",
                    format!(
                        "not running, and the native host cannot start it: no {} at {}",
                        HAUL_EXE,
                        host_paths
                            .iter()
                            .map(|h| daemon_binary_for(h).display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Vec::new(),
                    "run `haul daemon` (or `haul install --autostart`); keep haul and haul-native-host in one folder",
                )
            }
        }
        Ok(Err(HelloError::Other(e))) => Finding::problem(
            "daemon",
            format!("cannot talk to the daemon on {where_}: {e}"),
            Vec::new(),
            "restart the daemon: `haul daemon`",
        ),
        Err(_) => Finding::problem(
            "daemon",
            format!(
                "no answer on {where_} within {} s (hung?)",
                timeout.as_secs_f32()
            ),
            Vec::new(),
            "restart the daemon: `haul daemon`",
        ),
    }
}

enum HelloError {
    NotRunning,
    Other(String),
}

async fn hello(paths: &Paths) -> Result<Reply, HelloError> {
    let mut conn = socket::connect(paths).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            HelloError::NotRunning
        }
        _ => HelloError::Other(e.to_string()),
    })?;
    let request = Request::Hello(HelloRequest {
        protocol: Some(PROTOCOL_VERSION),
        version: Some(haul_protocol::VERSION.to_string()),
        client: Some(ClientInfo {
            kind: ClientKind::Cli,
            caller: Some("haul doctor".into()),
        }),
    });
    socket::send(&mut conn, &request)
        .await
        .map_err(|e| HelloError::Other(e.to_string()))?;
    match socket::recv(&mut conn).await {
        Ok(Some(reply)) => Ok(reply),
        Ok(None) => Err(HelloError::Other(
            "the daemon closed the connection without answering".into(),
        )),
        Err(e) => Err(HelloError::Other(e.to_string())),
    }
}

/// Every other live haul daemon of this user ([`haul_protocol::user`]): a problem when this
/// home was not chosen with `HAUL_HOME` (the browser's native host refuses to start a second
/// daemon beside it), a note otherwise (side-by-side runs are the point of `HAUL_HOME`).
pub async fn check_other_daemons(paths: &Paths, chosen: bool) -> Vec<Finding> {
    let Some(registry) = haul_protocol::user::registry_dir() else {
        return Vec::new();
    };
    haul_protocol::user::other_daemons(&registry, paths)
        .await
        .iter()
        .map(|other| {
            let detail = haul_protocol::user::describe_other(other);
            let fix = format!(
                "stop it (`kill {}`) so one haul serves the browser, the inbox and the terminal; or make it the browser's: `{} haul install`",
                other.pid,
                match &other.haul_home {
                    Some(h) => format!("HAUL_HOME={}", h.display()),
                    None => "env -u HAUL_HOME".into(),
                }
            );
            if chosen {
                Finding::note("second daemon", detail, Some(fix))
            } else {
                Finding::problem("second daemon", detail, Vec::new(), fix)
            }
        })
        .collect()
}

/// The home the browser's native host uses, when it is not the one checked here.
pub fn check_recorded_home(env: &InstallEnv) -> Option<Finding> {
    let file = env.home_pointer.as_ref()?;
    let pointer = haul_protocol::user::HomePointer::read(file)?;
    let recorded = match &pointer.haul_home {
        Some(h) => Paths::under(h),
        None => Paths::os_default().ok()?,
    };
    if recorded == env.paths {
        return None;
    }
    Some(Finding::note(
        "home",
        format!(
            "the browser's haul uses {} (recorded by `haul install` in {}); this check looks at {}",
            recorded.data_dir.display(),
            file.display(),
            env.paths.data_dir.display()
        ),
        Some("run `haul install` with the HAUL_HOME you mean to use".into()),
    ))
}
