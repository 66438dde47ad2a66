//! `haul install`, `haul uninstall` and `haul doctor` as a user runs them, against a temporary
//! HOME, XDG_CONFIG_HOME and HAUL_HOME (never the real ones).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use haul_protocol::install::{HostManifest, chrome_origin};
use haul_protocol::{DEV_EXTENSION_ID, HOST_NAME};

const HAUL: &str = env!("CARGO_BIN_EXE_haul");

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        // The browsers "installed here": install registers only browsers it finds, so the test's
        // PATH holds exactly these two, whatever the machine has.
        for name in ["haul-native-host", "haul", "google-chrome", "chromium"] {
            let p = bin.join(name);
            std::fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        Home { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn host(&self) -> PathBuf {
        self.dir.path().join("bin").join("haul-native-host")
    }

    fn haul(&self, args: &[&str]) -> Output {
        Command::new(HAUL)
            .args(args)
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .env("HAUL_HOME", self.dir.path().join("haul-home"))
            .env("PATH", self.dir.path().join("bin"))
            .env_remove("HAUL_BIN")
            .output()
            .unwrap()
    }

    fn install(&self, extra: &[&str]) -> Output {
        let host = self.host();
        let mut args = vec!["install", "--host-path", host.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.haul(&args)
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn manifest(path: &Path) -> HostManifest {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn install_twice_doctor_break_fix_uninstall() {
    let h = Home::new();
    let out = h.install(&[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("created"), "{text}");
    let chrome = h
        .home()
        .join(".config/google-chrome/NativeMessagingHosts/haul.native_host.json");
    let m = manifest(&chrome);
    assert_eq!(m.name, HOST_NAME);
    assert_eq!(m.path, h.host().to_str().unwrap());
    assert_eq!(
        m.allowed_origins,
        Some(vec![chrome_origin(DEV_EXTENSION_ID)])
    );

    let again = h.install(&[]);
    assert!(again.status.success());
    assert!(
        stdout(&again).contains("Nothing to change"),
        "{}",
        stdout(&again)
    );

    let doctor = h.haul(&["doctor", "--timeout", "0.5"]);
    let report = stdout(&doctor);
    assert!(doctor.status.success(), "{report}{}", stderr(&doctor));
    assert!(report.contains("No problems found."), "{report}");
    assert!(report.contains("note     daemon: not running"), "{report}");

    // Break Chromium's manifest: a relative path.
    let chromium = h
        .home()
        .join(".config/chromium/NativeMessagingHosts/haul.native_host.json");
    let mut m = manifest(&chromium);
    m.path = "bin/haul-native-host".into();
    std::fs::write(&chromium, serde_json::to_vec(&m).unwrap()).unwrap();
    let doctor = h.haul(&["doctor", "--timeout", "0.5"]);
    let report = stdout(&doctor);
    assert_eq!(doctor.status.code(), Some(1), "{report}");
    assert!(report.contains("PROBLEM  Chromium"), "{report}");
    assert!(
        report.contains("the extension shows: \"Specified native messaging host not found.\""),
        "{report}"
    );
    assert!(
        report.contains("fix: run `haul install --browser chromium`"),
        "{report}"
    );
    assert!(report.contains("1 problem found."), "{report}");

    // The fix it names works.
    let fix = h.install(&["--browser", "chromium"]);
    assert!(fix.status.success());
    assert!(stdout(&fix).contains("updated"), "{}", stdout(&fix));
    assert!(h.haul(&["doctor", "--timeout", "0.5"]).status.success());

    let un = h.haul(&["uninstall"]);
    assert!(un.status.success(), "{}", stderr(&un));
    assert!(stdout(&un).contains("removed"));
    let left: Vec<_> = std::fs::read_dir(h.home()).unwrap().collect();
    assert!(left.is_empty(), "the home is as it was: {left:?}");
    let un = h.haul(&["uninstall"]);
    assert!(stdout(&un).contains("Nothing to remove"), "{}", stdout(&un));

    // With nothing installed, doctor fails and says what to run for each browser it finds.
    let doctor = h.haul(&["doctor", "--timeout", "0.5"]);
    assert_eq!(doctor.status.code(), Some(1));
    assert!(
        stdout(&doctor).contains("fix: run `haul install --browser chrome`"),
        "{}",
        stdout(&doctor)
    );
}

#[test]
fn user_data_dir_and_extension_ids() {
    let h = Home::new();
    let profile = h.dir.path().join("profile");
    let store = "d".repeat(32);
    let out = h.install(&[
        "--user-data-dir",
        profile.to_str().unwrap(),
        "--extension-id",
        &store,
    ]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let m = manifest(&profile.join("NativeMessagingHosts/haul.native_host.json"));
    assert_eq!(
        m.allowed_origins,
        Some(vec![chrome_origin(DEV_EXTENSION_ID), chrome_origin(&store)])
    );
    for browser in ["google-chrome", "chromium"] {
        assert!(
            !h.home().join(".config").join(browser).exists(),
            "only the profile named is registered"
        );
    }
    let doctor = h.haul(&[
        "doctor",
        "--timeout",
        "0.5",
        "--user-data-dir",
        profile.to_str().unwrap(),
    ]);
    assert!(
        stdout(&doctor).contains(&format!(
            "ok       the browser profile {}",
            profile.display()
        )),
        "{}",
        stdout(&doctor)
    );
}

#[test]
fn refusals_are_clear() {
    let h = Home::new();
    let out = h.haul(&["install", "--host-path", "bin/haul-native-host"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("relative"), "{}", stderr(&out));
    let out = h.install(&["--browser", "netscape"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown browser"), "{}", stderr(&out));
    let out = h.install(&["--extension-id", "xyz"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("extension id"), "{}", stderr(&out));
    assert!(!h.home().join(".config").exists(), "nothing written");
}
