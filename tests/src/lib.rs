//! Fixtures shared by haul's end-to-end suites: a test CA and a local HTTPS media server with
//! programmable misbehaviour, images that carry EXIF/GPS/XMP/IPTC, a temporary `HAUL_HOME`,
//! daemons (in-process, or the real binary for signals and restarts), ZIP readers, and guards that
//! kill what a test started by its process group.
//!
//! Everything listens on loopback only.

pub mod axe;
pub mod big_media;
pub mod browser;
pub mod ca;
pub mod daemon;
pub mod disk;
pub mod home;
pub mod images;
pub mod media_server;
#[cfg(unix)]
pub mod process;
pub mod rss;
pub mod status_client;
#[cfg(unix)]
pub mod terminal;
pub mod zipfile;

/// Polls `check` every 20 ms until it returns `Some` or `timeout` passes (deadline-based waiting,
/// never a fixed sleep).
pub async fn wait_for<T>(
    timeout: std::time::Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The blocking form of [`wait_for`].
pub fn wait_for_blocking<T>(
    timeout: std::time::Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A binary of this workspace (`haul`, `haul-native-host`), built into the same
/// `target/<profile>/` as the running test (the test executable lives in its `deps/`).
pub fn workspace_bin(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}
