//! Install, uninstall and doctor against temporary homes (never the real one): every OS's table
//! is exercised on any OS, because planning and file writing take the OS as a value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use haul_protocol::install::{HostManifest, InstallRecord, chrome_origin};
use haul_protocol::{DEV_EXTENSION_ID, FIREFOX_ADDON_ID, HOST_NAME};
use serde_json::{Value, json};

use super::doctor::{DoctorOptions, Severity, browser_error, check_install, check_manifest_file};
use super::*;

struct Fixture {
    dir: tempfile::TempDir,
    env: InstallEnv,
    host: PathBuf,
}

impl Fixture {
    /// Every browser installed (its program on the `PATH`, or its app bundle on macOS).
    fn new(os: Os) -> Fixture {
        Fixture::with_browsers(os, &Browser::ALL)
    }

    /// Only `browsers` installed.
    fn with_browsers(os: Os, browsers: &[Browser]) -> Fixture {
        let mut f = Fixture::bare(os);
        let path_dir = f.dir.path().join("path");
        std::fs::create_dir_all(&path_dir).unwrap();
        for &b in browsers {
            write_executable(&path_dir.join(linux::executables(b)[0]));
            let app = f
                .env
                .system_root
                .join("Applications")
                .join(macos::app_bundle(b));
            std::fs::create_dir_all(app).unwrap();
        }
        f.env.search_path = vec![path_dir];
        f
    }

    /// No browser installed.
    fn bare(os: Os) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let host = bin.join("haul-native-host");
        write_executable(&host);
        let env = InstallEnv::for_test(
            os,
            &home,
            &dir.path().join("haul-home"),
            &dir.path().join("root"),
        );
        Fixture { dir, env, host }
    }

    fn home(&self) -> &Path {
        &self.env.dirs.home
    }

    fn opts(&self) -> InstallOptions {
        InstallOptions {
            host_path: self.host.clone(),
            haul_path: self.dir.path().join("bin").join("haul"),
            ..InstallOptions::default()
        }
    }

    fn linux_manifest(&self, config_dir: &str) -> PathBuf {
        self.home()
            .join(".config")
            .join(config_dir)
            .join("NativeMessagingHosts")
            .join("haul.native_host.json")
    }
}

fn write_executable(path: &Path) {
    std::fs::write(path, "#!/bin/sh\nexit 0\n").unwrap();
    set_mode(path, 0o755);
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// Every file, link and folder under `root`, with file contents.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let ty = entry.file_type().unwrap();
            if ty.is_dir() {
                out.insert(path.clone(), None);
                stack.push(path);
            } else if ty.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(path, Some(target.to_string_lossy().as_bytes().to_vec()));
            } else {
                out.insert(path.clone(), Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

fn manifest_at(path: &Path) -> HostManifest {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

// ---- manifests and tables -----------------------------------------------------------------

#[test]
fn chromium_manifest_is_exactly_this_json() {
    let text = render_host_manifest(
        Family::Chromium,
        Path::new("/opt/haul/haul-native-host"),
        &[chrome_origin(DEV_EXTENSION_ID)],
    )
    .unwrap();
    assert_eq!(
        text,
        r#"{
  "name": "haul.native_host",
  "description": "haul: saves every photo and video of a product page to your own disk",
  "path": "/opt/haul/haul-native-host",
  "type": "stdio",
  "allowed_origins": ["chrome-extension://aeiomeebenanmmejecnkplfcfnolnnan/"]
}
"#
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v,
        json!({
            "name": "haul.native_host",
            "description": "haul: saves every photo and video of a product page to your own disk",
            "path": "/opt/haul/haul-native-host",
            "type": "stdio",
            "allowed_origins": ["chrome-extension://aeiomeebenanmmejecnkplfcfnolnnan/"]
        })
    );
}

#[test]
fn firefox_manifest_lists_add_on_ids() {
    let text = render_host_manifest(
        Family::Firefox,
        Path::new("/opt/haul/haul-native-host"),
        &[FIREFOX_ADDON_ID.into(), "other@example.org".into()],
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v,
        json!({
            "name": "haul.native_host",
            "description": "haul: saves every photo and video of a product page to your own disk",
            "path": "/opt/haul/haul-native-host",
            "type": "stdio",
            "allowed_extensions": ["haul@haul.local", "other@example.org"]
        })
    );
    assert!(v.get("allowed_origins").is_none());
}

#[test]
fn manifest_values_are_json_escaped() {
    let text = render_host_manifest(
        Family::Chromium,
        Path::new(r#"/odd "dir" {{allow_key}}\x/host"#),
        &[],
    )
    .unwrap();
    let m: HostManifest = serde_json::from_str(&text).unwrap();
    assert_eq!(m.path, r#"/odd "dir" {{allow_key}}\x/host"#);
    assert_eq!(m.allowed_origins, Some(vec![]));
}

#[test]
fn every_browser_has_a_place_on_every_os() {
    let dirs = HomeDirs::for_home(Path::new("/h"));
    for os in [Os::Linux, Os::Macos, Os::Windows] {
        let env = InstallEnv {
            dirs: dirs.clone(),
            ..InstallEnv::for_test(os, Path::new("/h"), Path::new("/hh"), Path::new("/r"))
        };
        let targets = manifest_targets(&env, &Browser::ALL, &[]);
        for b in Browser::ALL {
            assert!(
                targets.iter().any(|t| t.browsers.contains(&b)),
                "{b} on {os:?}"
            );
        }
        for t in &targets {
            assert_eq!(
                t.file.file_name().unwrap(),
                "haul.native_host.json",
                "{os:?}"
            );
        }
    }
}

#[test]
fn macos_brave_shares_the_chrome_manifest() {
    let env = InstallEnv::for_test(
        Os::Macos,
        Path::new("/Users/u"),
        Path::new("/hh"),
        Path::new("/r"),
    );
    let targets = manifest_targets(&env, &[Browser::Chrome, Browser::Brave], &[]);
    let support = "/Users/u/Library/Application Support";
    let chrome = format!("{support}/Google/Chrome/NativeMessagingHosts/haul.native_host.json");
    let brave =
        format!("{support}/BraveSoftware/Brave-Browser/NativeMessagingHosts/haul.native_host.json");
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0].file, PathBuf::from(&chrome));
    assert_eq!(targets[0].browsers, [Browser::Chrome, Browser::Brave]);
    assert_eq!(targets[1].file, PathBuf::from(&brave));
    assert_eq!(targets[1].browsers, [Browser::Brave]);
}

#[test]
fn windows_targets_are_two_files_and_one_key_per_browser() {
    let env = InstallEnv {
        os: Os::Windows,
        dirs: HomeDirs {
            home: "/u".into(),
            config_home: "/u/.config".into(),
            local_app_data: "/lad".into(),
        },
        ..InstallEnv::for_test(
            Os::Windows,
            Path::new("/u"),
            Path::new("/hh"),
            Path::new("/r"),
        )
    };
    let targets = manifest_targets(&env, &Browser::ALL, &[]);
    assert_eq!(targets.len(), 2);
    let chromium = &targets[0];
    assert_eq!(chromium.family, Family::Chromium);
    assert_eq!(
        chromium.file,
        Path::new("/lad/haul/NativeMessagingHosts/chromium/haul.native_host.json")
    );
    assert_eq!(
        chromium.registry_keys,
        [
            r"Software\Google\Chrome\NativeMessagingHosts\haul.native_host",
            r"Software\Chromium\NativeMessagingHosts\haul.native_host",
            r"Software\Microsoft\Edge\NativeMessagingHosts\haul.native_host",
        ]
    );
    assert_eq!(targets[1].family, Family::Firefox);
    assert_eq!(
        targets[1].registry_keys,
        [r"Software\Mozilla\NativeMessagingHosts\haul.native_host"]
    );
}

#[test]
fn extension_ids_are_classified() {
    let c = "b".repeat(32);
    assert_eq!(
        ExtensionId::parse(&c).unwrap(),
        ExtensionId::Chrome(c.clone())
    );
    assert_eq!(
        ExtensionId::parse(&format!("chrome-extension://{c}/")).unwrap(),
        ExtensionId::Chrome(c.clone())
    );
    assert_eq!(
        ExtensionId::parse(&format!("chrome-extension://{c}")).unwrap(),
        ExtensionId::Chrome(c.clone())
    );
    assert_eq!(
        ExtensionId::parse("x@example.org").unwrap(),
        ExtensionId::Firefox("x@example.org".into())
    );
    assert!(ExtensionId::parse("not an id").is_err());
    assert!(ExtensionId::parse(&"z".repeat(32)).is_err());
}

#[test]
fn browser_names_parse() {
    for b in Browser::ALL {
        assert_eq!(b.as_str().parse::<Browser>().unwrap(), b);
    }
    assert_eq!("Google-Chrome".parse::<Browser>().unwrap(), Browser::Chrome);
    assert!("netscape".parse::<Browser>().is_err());
}

// ---- install and uninstall ----------------------------------------------------------------

#[test]
fn install_writes_every_linux_location_and_is_idempotent() {
    let f = Fixture::new(Os::Linux);
    let report = install(&f.env, &f.opts()).unwrap();
    assert!(report.changed());
    for dir in [
        "google-chrome",
        "chromium",
        "microsoft-edge",
        "BraveSoftware/Brave-Browser",
        "vivaldi",
    ] {
        let m = manifest_at(&f.linux_manifest(dir));
        assert_eq!(m.name, HOST_NAME);
        assert_eq!(m.kind, "stdio");
        assert_eq!(m.path, f.host.to_str().unwrap());
        assert_eq!(
            m.allowed_origins,
            Some(vec![chrome_origin(DEV_EXTENSION_ID)])
        );
        assert_eq!(m.allowed_extensions, None);
    }
    let ff = manifest_at(
        &f.home()
            .join(".mozilla/native-messaging-hosts/haul.native_host.json"),
    );
    assert_eq!(ff.allowed_extensions, Some(vec![FIREFOX_ADDON_ID.into()]));
    assert_eq!(ff.allowed_origins, None);

    let before = snapshot(f.dir.path());
    let again = install(&f.env, &f.opts()).unwrap();
    assert!(!again.changed(), "{:?}", again.changes);
    assert!(again.changes.iter().all(|c| c.action == Action::Unchanged));
    assert_eq!(
        snapshot(f.dir.path()),
        before,
        "a second install changes nothing"
    );
}

#[test]
fn uninstall_removes_exactly_what_install_wrote() {
    let f = Fixture::new(Os::Linux);
    // Things that were there before haul: a Chrome profile with a file, another host's manifest.
    let chrome_profile = f.home().join(".config/google-chrome");
    std::fs::create_dir_all(chrome_profile.join("NativeMessagingHosts")).unwrap();
    std::fs::write(chrome_profile.join("Local State"), "{}").unwrap();
    std::fs::write(
        chrome_profile.join("NativeMessagingHosts/other.host.json"),
        "{}",
    )
    .unwrap();
    let before = snapshot(f.home());

    let mut opts = f.opts();
    opts.autostart = true;
    install(&f.env, &opts).unwrap();
    assert!(f.env.record_file().is_file());
    assert!(
        f.home()
            .join(".config/systemd/user/default.target.wants/haul.service")
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink()
    );

    let report = uninstall(&f.env, &[], &[]).unwrap();
    assert!(!report.nothing_recorded);
    assert!(
        report.changes.iter().all(|c| c.action == Action::Removed),
        "{:?}",
        report.changes
    );
    assert_eq!(snapshot(f.home()), before, "back to what was there before");
    assert!(!f.env.record_file().exists(), "the record goes too");

    let nothing = uninstall(&f.env, &[], &[]).unwrap();
    assert!(nothing.nothing_recorded);
}

#[test]
fn uninstall_keeps_a_file_changed_since_install_and_folders_in_use() {
    let f = Fixture::new(Os::Linux);
    install(&f.env, &f.opts()).unwrap();
    let edited = f.linux_manifest("chromium");
    std::fs::write(&edited, "{\"mine\": true}").unwrap();
    let vivaldi_dir = f.home().join(".config/vivaldi");
    std::fs::write(vivaldi_dir.join("Preferences"), "{}").unwrap();

    let report = uninstall(&f.env, &[], &[]).unwrap();
    let kept: Vec<&Change> = report
        .changes
        .iter()
        .filter(|c| c.action == Action::Kept)
        .collect();
    assert_eq!(
        std::fs::read_to_string(&edited).unwrap(),
        "{\"mine\": true}"
    );
    assert!(
        kept.iter()
            .any(|c| c.target == edited.display().to_string())
    );
    assert!(vivaldi_dir.join("Preferences").is_file());
    assert!(!f.linux_manifest("vivaldi").exists());
    assert!(!f.linux_manifest("google-chrome").exists());
    assert!(!f.linux_manifest("google-chrome").parent().unwrap().exists());
}

#[test]
fn install_for_some_browsers_and_uninstall_one() {
    let f = Fixture::new(Os::Linux);
    let mut opts = f.opts();
    opts.browsers = vec![Browser::Chrome, Browser::Firefox];
    let report = install(&f.env, &opts).unwrap();
    assert!(f.linux_manifest("google-chrome").is_file());
    assert!(!f.linux_manifest("chromium").exists());
    assert!(
        report
            .changes
            .iter()
            .filter(|c| c.what.starts_with("host manifest"))
            .count()
            == 2
    );

    uninstall(&f.env, &[Browser::Firefox], &[]).unwrap();
    assert!(f.linux_manifest("google-chrome").is_file());
    assert!(!f.home().join(".mozilla").exists());
    let record = InstallRecord::load(&f.env.record_file()).unwrap().unwrap();
    assert!(
        record
            .artifacts
            .iter()
            .all(|a| !a.target().contains(".mozilla"))
    );
    uninstall(&f.env, &[], &[]).unwrap();
    assert!(!f.home().join(".config").exists());
}

#[test]
fn user_data_dir_only_writes_into_the_profile() {
    let f = Fixture::new(Os::Linux);
    let udd = f.dir.path().join("profile");
    let mut opts = f.opts();
    opts.user_data_dirs = vec![udd.clone()];
    install(&f.env, &opts).unwrap();
    let m = manifest_at(&udd.join("NativeMessagingHosts/haul.native_host.json"));
    assert_eq!(
        m.allowed_origins,
        Some(vec![chrome_origin(DEV_EXTENSION_ID)])
    );
    let config: Vec<_> = std::fs::read_dir(f.home().join(".config"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        config,
        ["haul"],
        "no browser folders touched, only the home pointer"
    );
    assert!(!f.home().join(".mozilla").exists());

    opts.browsers = vec![Browser::Firefox];
    assert!(matches!(
        install(&f.env, &opts),
        Err(InstallError::UserDataDirFirefox)
    ));
    opts.browsers.clear();
    opts.user_data_dirs = vec![PathBuf::from("relative/profile")];
    assert!(matches!(
        install(&f.env, &opts),
        Err(InstallError::RelativeUserDataDir(_))
    ));

    uninstall(&f.env, &[], &[]).unwrap();
    assert!(!udd.exists(), "the profile folder haul created is gone");
}

#[test]
fn extension_ids_are_stored_and_every_recorded_manifest_gets_them() {
    let f = Fixture::new(Os::Linux);
    let udd = f.dir.path().join("profile");
    let mut opts = f.opts();
    opts.user_data_dirs = vec![udd.clone()];
    install(&f.env, &opts).unwrap();

    let store_id = "c".repeat(32);
    let mut opts = f.opts();
    opts.browsers = vec![Browser::Chrome, Browser::Firefox];
    opts.extension_ids = vec![store_id.clone(), "other@example.org".into()];
    install(&f.env, &opts).unwrap();
    let expected = vec![chrome_origin(DEV_EXTENSION_ID), chrome_origin(&store_id)];
    assert_eq!(
        manifest_at(&f.linux_manifest("google-chrome")).allowed_origins,
        Some(expected.clone())
    );
    assert_eq!(
        manifest_at(&udd.join("NativeMessagingHosts/haul.native_host.json")).allowed_origins,
        Some(expected.clone()),
        "the earlier --user-data-dir manifest is refreshed"
    );
    assert_eq!(
        manifest_at(
            &f.home()
                .join(".mozilla/native-messaging-hosts/haul.native_host.json")
        )
        .allowed_extensions,
        Some(vec![FIREFOX_ADDON_ID.into(), "other@example.org".into()])
    );

    // Later installs keep the stored ids without repeating the flag.
    let mut opts = f.opts();
    opts.browsers = vec![Browser::Chromium];
    install(&f.env, &opts).unwrap();
    assert_eq!(
        manifest_at(&f.linux_manifest("chromium")).allowed_origins,
        Some(expected)
    );

    let mut bad = f.opts();
    bad.extension_ids = vec!["nope".into()];
    assert!(matches!(
        install(&f.env, &bad),
        Err(InstallError::BadExtensionId(_))
    ));
}

#[test]
fn host_path_must_be_absolute_existing_and_executable() {
    let f = Fixture::new(Os::Linux);
    let mut opts = f.opts();
    opts.host_path = PathBuf::from("bin/haul-native-host");
    assert!(matches!(
        install(&f.env, &opts),
        Err(InstallError::RelativeHostPath(_))
    ));
    opts.host_path = f.dir.path().join("missing");
    assert!(matches!(
        install(&f.env, &opts),
        Err(InstallError::HostNotFound(_))
    ));
    if cfg!(unix) {
        let plain = f.dir.path().join("plain");
        std::fs::write(&plain, "").unwrap();
        set_mode(&plain, 0o644);
        opts.host_path = plain;
        assert!(matches!(
            install(&f.env, &opts),
            Err(InstallError::HostNotExecutable(_))
        ));
    }
    assert!(!f.env.record_file().exists(), "nothing written on refusal");
    assert!(!f.home().join(".config").exists());
}

#[test]
fn linux_autostart_unit_and_link() {
    let f = Fixture::new(Os::Linux);
    let mut opts = f.opts();
    opts.browsers = vec![Browser::Chrome];
    opts.autostart = true;
    opts.haul_home = Some(PathBuf::from("/data/haul"));
    install(&f.env, &opts).unwrap();
    let unit_path = f.home().join(".config/systemd/user/haul.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    assert!(unit.contains(&format!(
        "ExecStart=\"{}\" daemon",
        opts.haul_path.display()
    )));
    assert!(unit.contains("Environment=\"HAUL_HOME=/data/haul\""));
    let link = f
        .home()
        .join(".config/systemd/user/default.target.wants/haul.service");
    assert_eq!(std::fs::read_link(&link).unwrap(), unit_path);
    assert!(!install(&f.env, &opts).unwrap().changed());
}

#[test]
fn macos_install_writes_brave_twice_and_a_launch_agent() {
    let f = Fixture::new(Os::Macos);
    let mut opts = f.opts();
    opts.browsers = vec![Browser::Brave];
    opts.autostart = true;
    install(&f.env, &opts).unwrap();
    let support = f.home().join("Library/Application Support");
    for dir in ["BraveSoftware/Brave-Browser", "Google/Chrome"] {
        let m = manifest_at(
            &support
                .join(dir)
                .join("NativeMessagingHosts/haul.native_host.json"),
        );
        assert_eq!(
            m.allowed_origins,
            Some(vec![chrome_origin(DEV_EXTENSION_ID)])
        );
    }
    let plist =
        std::fs::read_to_string(f.home().join("Library/LaunchAgents/haul.daemon.plist")).unwrap();
    assert!(plist.contains("<string>daemon</string>"));

    // Removing Brave removes both of its files; Chrome was never asked for.
    uninstall(&f.env, &[Browser::Brave], &[]).unwrap();
    assert!(!support.join("Google").exists());
    assert!(
        f.home()
            .join("Library/LaunchAgents/haul.daemon.plist")
            .is_file(),
        "autostart goes only with a full uninstall"
    );
    uninstall(&f.env, &[], &[]).unwrap();
    assert!(!f.home().join("Library").exists());
}

#[test]
fn macos_chrome_and_brave_share_a_file_until_both_are_removed() {
    let f = Fixture::new(Os::Macos);
    let mut opts = f.opts();
    opts.browsers = vec![Browser::Chrome, Browser::Brave];
    install(&f.env, &opts).unwrap();
    let chrome = f.home().join(
        "Library/Application Support/Google/Chrome/NativeMessagingHosts/haul.native_host.json",
    );
    uninstall(&f.env, &[Browser::Brave], &[]).unwrap();
    assert!(chrome.is_file(), "Chrome still uses it");
    uninstall(&f.env, &[Browser::Chrome], &[]).unwrap();
    assert!(!chrome.exists());
}

// ---- doctor -------------------------------------------------------------------------------

fn chromium_check(path: &Path) -> super::doctor::Finding {
    check_manifest_file(
        path,
        Family::Chromium,
        Os::Linux,
        "Chromium",
        "run `haul install --browser chromium`",
    )
}

fn write_manifest(path: &Path, value: serde_json::Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
}

fn good_manifest(host: &Path) -> serde_json::Value {
    json!({
        "name": HOST_NAME,
        "description": "x",
        "path": host.to_str().unwrap(),
        "type": "stdio",
        "allowed_origins": [chrome_origin(DEV_EXTENSION_ID)],
    })
}

#[test]
fn doctor_accepts_what_install_wrote() {
    let f = Fixture::new(Os::Linux);
    install(&f.env, &f.opts()).unwrap();
    let check = check_install(&f.env, &DoctorOptions::default());
    assert!(
        check.findings.iter().all(|x| x.severity == Severity::Ok),
        "{:#?}",
        check.findings
    );
    assert_eq!(check.findings.len(), 6);
    assert_eq!(check.host_paths, std::slice::from_ref(&f.host));
}

#[test]
fn doctor_missing_manifest() {
    let f = Fixture::bare(Os::Linux);
    let finding = chromium_check(&f.linux_manifest("chromium"));
    assert_eq!(finding.severity, Severity::Problem);
    assert_eq!(finding.browser_says, [browser_error::NOT_FOUND]);
    assert_eq!(
        finding.fix.as_deref(),
        Some("run `haul install --browser chromium`")
    );

    // Nothing installed and no browser profile: one problem saying to run `haul install`.
    let check = check_install(&f.env, &DoctorOptions::default());
    let problems: Vec<_> = check
        .findings
        .iter()
        .filter(|x| x.severity == Severity::Problem)
        .collect();
    assert_eq!(problems.len(), 1, "{:#?}", check.findings);
    assert_eq!(problems[0].fix.as_deref(), Some("run `haul install`"));
    assert!(
        problems[0]
            .browser_says
            .contains(&browser_error::NOT_FOUND.to_string())
    );

    // A browser in use (its profile folder exists) without the manifest is a problem.
    std::fs::create_dir_all(f.home().join(".config/vivaldi")).unwrap();
    let check = check_install(&f.env, &DoctorOptions::default());
    let vivaldi = check
        .findings
        .iter()
        .find(|x| x.subject == "Vivaldi")
        .unwrap();
    assert_eq!(vivaldi.severity, Severity::Problem);
    assert_eq!(
        vivaldi.fix.as_deref(),
        Some("run `haul install --browser vivaldi`")
    );
    // The browsers that are not installed: one quiet line.
    let absent: Vec<_> = check
        .findings
        .iter()
        .filter(|x| x.subject == "browsers")
        .collect();
    assert_eq!(absent.len(), 1, "{:#?}", check.findings);
    assert_eq!(absent[0].severity, Severity::Note);
    assert_eq!(
        absent[0].detail,
        "not installed here: Google Chrome, Chromium, Microsoft Edge, Brave, Firefox"
    );
    assert!(!check.findings.iter().any(|x| x.subject == "Google Chrome"));

    // Asked for explicitly: a problem too.
    let check = check_install(
        &f.env,
        &DoctorOptions {
            browsers: vec![Browser::Firefox],
            ..DoctorOptions::default()
        },
    );
    let ff = check
        .findings
        .iter()
        .find(|x| x.subject == "Firefox")
        .unwrap();
    assert_eq!(ff.severity, Severity::Problem);
    assert_eq!(ff.browser_says, [browser_error::firefox_not_found()]);
}

#[test]
fn doctor_invalid_json() {
    let f = Fixture::new(Os::Linux);
    let path = f.linux_manifest("chromium");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{ \"name\": \"haul.native_host\", ").unwrap();
    let finding = chromium_check(&path);
    assert_eq!(finding.severity, Severity::Problem);
    assert!(finding.detail.contains("not a valid host manifest"));
    assert_eq!(finding.browser_says, [browser_error::NOT_FOUND]);
}

#[test]
fn doctor_wrong_name() {
    let f = Fixture::new(Os::Linux);
    let path = f.linux_manifest("chromium");
    let mut m = good_manifest(&f.host);
    m["name"] = json!("com.example.other");
    write_manifest(&path, m);
    let finding = chromium_check(&path);
    assert_eq!(finding.severity, Severity::Problem);
    assert!(
        finding.detail.contains("com.example.other"),
        "{}",
        finding.detail
    );
    assert_eq!(finding.browser_says, [browser_error::NOT_FOUND]);

    // The right name in a file of another name is not found either.
    let other = path.with_file_name("haul.json");
    write_manifest(&other, good_manifest(&f.host));
    let finding = chromium_check(&other);
    assert_eq!(finding.severity, Severity::Problem);
    assert_eq!(finding.browser_says, [browser_error::NOT_FOUND]);
}

#[test]
fn doctor_relative_path() {
    let f = Fixture::new(Os::Linux);
    let path = f.linux_manifest("chromium");
    let mut m = good_manifest(&f.host);
    m["path"] = json!("bin/haul-native-host");
    write_manifest(&path, m);
    let finding = chromium_check(&path);
    assert_eq!(finding.severity, Severity::Problem);
    assert!(finding.detail.contains("relative"), "{}", finding.detail);
    assert_eq!(finding.browser_says, [browser_error::NOT_FOUND]);
}

#[test]
fn doctor_missing_host_binary() {
    let f = Fixture::new(Os::Linux);
    let path = f.linux_manifest("chromium");
    write_manifest(&path, good_manifest(&f.dir.path().join("gone")));
    let finding = chromium_check(&path);
    assert_eq!(finding.severity, Severity::Problem);
    assert!(finding.detail.contains("does not exist"));
    assert_eq!(finding.browser_says, [browser_error::NOT_FOUND]);
    assert!(finding.fix.unwrap().contains("--host-path"));
}

#[cfg(unix)]
#[test]
fn doctor_non_executable_host() {
    let f = Fixture::new(Os::Linux);
    set_mode(&f.host, 0o644);
    let path = f.linux_manifest("chromium");
    write_manifest(&path, good_manifest(&f.host));
    let finding = chromium_check(&path);
    assert_eq!(finding.severity, Severity::Problem);
    assert!(finding.detail.contains("not executable"));
    assert_eq!(
        finding.browser_says,
        [browser_error::EXITED, browser_error::FAILED_TO_START]
    );
    assert_eq!(
        finding.fix.unwrap(),
        format!("run `chmod +x {}`", f.host.display())
    );

    let ff_path = f
        .home()
        .join(".mozilla/native-messaging-hosts/haul.native_host.json");
    let mut m = good_manifest(&f.host);
    m.as_object_mut().unwrap().remove("allowed_origins");
    m["allowed_extensions"] = json!([FIREFOX_ADDON_ID]);
    write_manifest(&ff_path, m);
    let finding = check_manifest_file(&ff_path, Family::Firefox, Os::Linux, "Firefox", "x");
    assert_eq!(
        finding.browser_says,
        [browser_error::firefox_not_executable(
            f.host.to_str().unwrap()
        )]
    );
}

#[test]
fn doctor_missing_dev_id() {
    let f = Fixture::new(Os::Linux);
    let path = f.linux_manifest("chromium");
    let mut m = good_manifest(&f.host);
    m["allowed_origins"] = json!([chrome_origin(&"b".repeat(32))]);
    write_manifest(&path, m.clone());
    let finding = chromium_check(&path);
    assert_eq!(finding.severity, Severity::Problem);
    assert_eq!(finding.browser_says, [browser_error::FORBIDDEN]);
    assert!(finding.fix.unwrap().contains("haul install"));

    // Without the trailing slash Chrome does not match it either, and doctor says why.
    m["allowed_origins"] = json!([format!("chrome-extension://{DEV_EXTENSION_ID}")]);
    write_manifest(&path, m);
    let finding = chromium_check(&path);
    assert_eq!(finding.browser_says, [browser_error::FORBIDDEN]);
    assert!(
        finding.detail.contains("trailing slash"),
        "{}",
        finding.detail
    );

    let ff_path = f
        .home()
        .join(".mozilla/native-messaging-hosts/haul.native_host.json");
    let mut m = good_manifest(&f.host);
    m.as_object_mut().unwrap().remove("allowed_origins");
    m["allowed_extensions"] = json!(["someone@else.org"]);
    write_manifest(&ff_path, m);
    let finding = check_manifest_file(&ff_path, Family::Firefox, Os::Linux, "Firefox", "x");
    assert_eq!(finding.severity, Severity::Problem);
    assert_eq!(finding.browser_says, [browser_error::firefox_forbidden()]);
}

#[test]
fn doctor_wrong_type() {
    let f = Fixture::new(Os::Linux);
    let path = f.linux_manifest("chromium");
    let mut m = good_manifest(&f.host);
    m["type"] = json!("socket");
    write_manifest(&path, m);
    let finding = chromium_check(&path);
    assert_eq!(finding.severity, Severity::Problem);
    assert_eq!(finding.browser_says, [browser_error::NOT_FOUND]);
}

#[test]
fn doctor_checks_recorded_and_given_profiles() {
    let f = Fixture::new(Os::Linux);
    let udd = f.dir.path().join("profile");
    let mut opts = f.opts();
    opts.user_data_dirs = vec![udd.clone()];
    install(&f.env, &opts).unwrap();
    // Recorded: checked without being named again.
    let check = check_install(&f.env, &DoctorOptions::default());
    let profile = check
        .findings
        .iter()
        .find(|x| x.subject.contains("profile"))
        .unwrap();
    assert_eq!(profile.severity, Severity::Ok, "{:#?}", check.findings);

    std::fs::remove_file(udd.join("NativeMessagingHosts/haul.native_host.json")).unwrap();
    let check = check_install(&f.env, &DoctorOptions::default());
    let profile = check
        .findings
        .iter()
        .find(|x| x.subject.contains("profile"))
        .unwrap();
    assert_eq!(profile.severity, Severity::Problem);
    assert_eq!(
        profile.fix.as_deref(),
        Some(format!("run `haul install --user-data-dir {}`", udd.display()).as_str())
    );

    // A profile named on the command line must have it.
    let other = f.dir.path().join("other-profile");
    let check = check_install(
        &f.env,
        &DoctorOptions {
            user_data_dirs: vec![other.clone()],
            ..DoctorOptions::default()
        },
    );
    assert!(check.findings.iter().any(
        |x| x.severity == Severity::Problem && x.detail.contains(&other.display().to_string())
    ));
}

#[tokio::test]
async fn doctor_daemon_not_running() {
    let f = Fixture::new(Os::Linux);
    let timeout = std::time::Duration::from_millis(500);
    // No daemon, and no haul beside the host: the host cannot start one.
    let finding =
        super::doctor::check_daemon(&f.env.paths, std::slice::from_ref(&f.host), timeout).await;
    if std::env::var_os(haul_protocol::install::HAUL_BIN_ENV).is_none() {
        assert_eq!(finding.severity, Severity::Problem, "{finding:?}");
        assert!(finding.fix.unwrap().contains("haul daemon"));
    }
    // With haul beside the host, not running is fine: the host starts it.
    write_executable(
        &f.dir
            .path()
            .join("bin")
            .join(haul_protocol::install::HAUL_EXE),
    );
    let finding =
        super::doctor::check_daemon(&f.env.paths, std::slice::from_ref(&f.host), timeout).await;
    assert_eq!(finding.severity, Severity::Note, "{finding:?}");
}

/// A stand-in daemon answering one `hello` with `protocol`.
async fn answer_hello_once(paths: &Paths, protocol: u32) -> tokio::task::JoinHandle<Value> {
    use futures_util::{SinkExt, StreamExt};
    use interprocess::local_socket::ListenerOptions;
    use interprocess::local_socket::tokio::prelude::*;
    paths.ensure_runtime_dir().unwrap();
    let name = haul_protocol::socket::socket_name(paths).unwrap();
    let listener = ListenerOptions::new().name(name).create_tokio().unwrap();
    tokio::spawn(async move {
        let stream = listener.accept().await.unwrap();
        let mut conn = tokio_util::codec::Framed::new(
            stream,
            haul_protocol::frame::FrameCodec::local_socket(),
        );
        let hello: Value = serde_json::from_slice(&conn.next().await.unwrap().unwrap()).unwrap();
        let reply = json!({"type":"hello","protocol":protocol,"version":"9.9.9","status_url":null,"pid":42});
        conn.send(reply.to_string().as_bytes()).await.unwrap();
        hello
    })
}

#[tokio::test]
async fn doctor_daemon_answers() {
    let f = Fixture::new(Os::Linux);
    let server = answer_hello_once(&f.env.paths, haul_protocol::PROTOCOL_VERSION).await;
    let finding =
        super::doctor::check_daemon(&f.env.paths, &[], std::time::Duration::from_secs(5)).await;
    assert_eq!(finding.severity, Severity::Ok, "{finding:?}");
    assert!(finding.detail.contains("9.9.9") && finding.detail.contains("pid 42"));
    let hello = server.await.unwrap();
    assert_eq!(hello["client"]["kind"], "cli");
    assert_eq!(hello["protocol"], haul_protocol::PROTOCOL_VERSION);
}

#[tokio::test]
async fn doctor_daemon_speaking_another_protocol() {
    let f = Fixture::new(Os::Linux);
    let _server = answer_hello_once(&f.env.paths, haul_protocol::PROTOCOL_VERSION + 1).await;
    let finding =
        super::doctor::check_daemon(&f.env.paths, &[], std::time::Duration::from_secs(5)).await;
    assert_eq!(finding.severity, Severity::Problem, "{finding:?}");
    assert!(finding.fix.unwrap().contains("haul daemon"));
}

// ---- only what exists, one haul per user ----------------------------------------------------

#[test]
fn install_writes_only_for_installed_browsers_and_records_the_home() {
    let f = Fixture::with_browsers(Os::Linux, &[Browser::Chromium]);
    let report = install(&f.env, &f.opts()).unwrap();
    assert!(f.linux_manifest("chromium").is_file());
    for absent in [
        "google-chrome",
        "microsoft-edge",
        "vivaldi",
        "BraveSoftware",
    ] {
        assert!(
            !f.home().join(".config").join(absent).exists(),
            "no folder for {absent}, which is not installed"
        );
    }
    assert!(!f.home().join(".mozilla").exists());
    assert_eq!(
        report.absent,
        [
            Browser::Chrome,
            Browser::Edge,
            Browser::Brave,
            Browser::Vivaldi,
            Browser::Firefox
        ]
    );
    // The home the browser's native host will use: the defaults (no HAUL_HOME given) …
    let pointer = f.env.home_pointer.clone().unwrap();
    assert_eq!(
        haul_protocol::user::HomePointer::read(&pointer),
        Some(haul_protocol::user::HomePointer { haul_home: None })
    );
    // … or the HAUL_HOME the user installs with.
    let mut opts = f.opts();
    opts.haul_home = Some(f.dir.path().join("my-haul"));
    install(&f.env, &opts).unwrap();
    assert_eq!(
        haul_protocol::user::HomePointer::read(&pointer)
            .unwrap()
            .haul_home,
        opts.haul_home
    );
    // A browser named on the command line is registered even when absent.
    opts.browsers = vec![Browser::Vivaldi];
    install(&f.env, &opts).unwrap();
    assert!(f.linux_manifest("vivaldi").is_file());
    uninstall(&f.env, &[], &[]).unwrap();
    assert!(!pointer.exists(), "uninstall removes the pointer");
    assert!(!f.home().join(".config/haul").exists());
}

#[test]
fn uninstall_one_profile_keeps_the_rest() {
    let f = Fixture::new(Os::Linux);
    let (a, b) = (
        f.dir.path().join("profile-a"),
        f.dir.path().join("profile-b"),
    );
    let mut opts = f.opts();
    opts.user_data_dirs = vec![a.clone(), b.clone()];
    install(&f.env, &opts).unwrap();
    let (ma, mb) = (user_data_dir_manifest(&a), user_data_dir_manifest(&b));
    assert!(ma.is_file() && mb.is_file());
    uninstall(&f.env, &[], std::slice::from_ref(&a)).unwrap();
    assert!(!ma.exists(), "the named profile's manifest goes");
    assert!(mb.is_file(), "the other profile's stays");
    assert!(
        f.env.home_pointer.as_ref().unwrap().is_file(),
        "and so does the home"
    );
    uninstall(&f.env, &[], &[]).unwrap();
    assert!(!mb.exists());
}

#[test]
fn doctor_accepts_the_packages_system_wide_manifest() {
    let f = Fixture::with_browsers(Os::Linux, &[Browser::Chromium]);
    let system = f.env.system_manifest_files(Browser::Chromium)[0].clone();
    assert!(system.ends_with("etc/chromium/native-messaging-hosts/haul.native_host.json"));
    write_manifest(&system, good_manifest(&f.host));
    let check = check_install(&f.env, &DoctorOptions::default());
    let chromium = check
        .findings
        .iter()
        .find(|x| x.subject == "Chromium (system-wide)")
        .unwrap_or_else(|| panic!("{:#?}", check.findings));
    assert_eq!(chromium.severity, Severity::Ok, "{chromium:?}");
    assert!(
        !check
            .findings
            .iter()
            .any(|x| x.severity == Severity::Problem),
        "{:#?}",
        check.findings
    );
    assert_eq!(check.host_paths, std::slice::from_ref(&f.host));
}
