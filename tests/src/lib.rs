//! Shared fixtures of the end-to-end suites.

use std::path::PathBuf;

/// A binary of this workspace (`haul`, `haul-native-host`), built into the same
/// `target/<profile>/` as the running test (the test executable lives in its `deps/`).
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}
