//! The Debian package as a user meets it: `cargo deb` packs the suite's own binaries (no second,
//! release build), `dpkg -i` installs it, `haul doctor` — for a user who never ran
//! `haul install` — finds Chromium served by the package's system-wide manifest and reports no
//! problem, and `dpkg -r` then `dpkg -P` leave none of the package's files, folders or links.
//!
//! It changes the machine (system folders, the package database), so it runs only when
//! `HAUL_TEST_DEB=1` (CI's own step, `.ci/run`); it needs `cargo-deb`, `dpkg` and root.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the checkout")
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The paths `dpkg-deb -c` lists (without the leading `.`), files and folders.
fn contents(deb: &Path) -> Vec<String> {
    run(Command::new("dpkg-deb").arg("-c").arg(deb))
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(|p| p.trim_start_matches('.').trim_end_matches('/').to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

#[test]
fn the_debian_package_installs_passes_doctor_and_removes_cleanly() {
    if std::env::var("HAUL_TEST_DEB").ok().as_deref() != Some("1") {
        eprintln!(
            "the_debian_package_installs_passes_doctor_and_removes_cleanly: skipped — it installs a package on this machine; run with HAUL_TEST_DEB=1 (as root, with cargo-deb)"
        );
        return;
    }
    let haul = haul_tests::daemon::haul_bin();
    let bin_dir = haul.parent().expect("the binaries' folder").to_path_buf();
    let profile = bin_dir
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a profile folder")
        .to_string();
    let target_dir = bin_dir.parent().expect("the target folder").to_path_buf();
    let out = tempfile::tempdir().expect("a folder for the .deb");
    // The suite's own binaries: `--no-build`, from the profile the suite was built with.
    run(Command::new("cargo")
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", &target_dir)
        // Stripped, gzip, fast: the suite's debug binary is large and the package is thrown
        // away (about 75 s on a busy 2-core machine; unstripped xz took 8 minutes).
        .args(["deb", "-p", "haul", "--no-build", "--fast", "-Z", "gz"])
        .arg("--profile")
        .arg(if profile == "debug" { "dev" } else { &profile })
        .arg("--output")
        .arg(out.path()));
    let deb = std::fs::read_dir(out.path())
        .expect("read the output folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .expect("cargo deb wrote a .deb");
    let listed = contents(&deb);
    for want in [
        "/usr/bin/haul",
        "/usr/bin/haul-native-host",
        "/etc/chromium/native-messaging-hosts/haul.native_host.json",
        "/etc/opt/chrome/native-messaging-hosts/haul.native_host.json",
        "/usr/lib/mozilla/native-messaging-hosts/haul.native_host.json",
        "/usr/lib/systemd/user/haul.service",
    ] {
        assert!(listed.iter().any(|p| p == want), "{want} in {listed:#?}");
    }
    let files: Vec<&String> = listed
        .iter()
        .filter(|p| Path::new(p).extension().is_some() || p.starts_with("/usr/bin/"))
        .collect();
    for f in &files {
        assert!(
            !Path::new(f).exists(),
            "{f} is not there before the install"
        );
    }

    run(Command::new("dpkg").arg("-i").arg(&deb));
    let result = std::panic::catch_unwind(|| {
        for f in &files {
            assert!(Path::new(f).exists(), "{f} installed");
        }
        let login_link = Path::new("/etc/systemd/user/default.target.wants/haul.service");
        assert_eq!(
            std::fs::read_link(login_link).ok().as_deref(),
            Some(Path::new("/usr/lib/systemd/user/haul.service")),
            "the daemon starts at every user's login"
        );
        // A user who never ran `haul install`: a fresh home, haul from the PATH.
        let home = tempfile::tempdir().expect("a home");
        let doctor = Command::new("/usr/bin/haul")
            .args(["doctor", "--browser", "chromium", "--timeout", "0.5"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", home.path())
            .output()
            .expect("run haul doctor");
        let said = String::from_utf8_lossy(&doctor.stdout).to_string();
        assert!(doctor.status.success(), "haul doctor:\n{said}");
        assert!(
            said.lines().any(|l| l.starts_with("ok")
                && l.contains("Chromium (system-wide)")
                && l.contains("/etc/chromium/native-messaging-hosts/haul.native_host.json")),
            "{said}"
        );
    });
    run(Command::new("dpkg").args(["-r", "haul"]));
    run(Command::new("dpkg").args(["-P", "haul"]));
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    for p in &listed {
        let path = Path::new(p);
        // Shared system folders (/usr, /etc, …) stay; everything haul brought goes.
        if p.contains("haul") || path.extension().is_some() {
            assert!(!path.exists(), "{p} is left after dpkg -r");
        }
    }
    assert!(
        std::fs::symlink_metadata("/etc/systemd/user/default.target.wants/haul.service").is_err(),
        "the login link is gone"
    );
    let status = Command::new("dpkg")
        .args(["-s", "haul"])
        .output()
        .expect("dpkg -s");
    assert!(
        !status.status.success(),
        "dpkg knows no haul package any more"
    );
}
