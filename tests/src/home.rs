//! A temporary `HAUL_HOME` with a config made for tests: local addresses allowed, the test CA
//! trusted, retries quick, the status page on a free port.

use std::path::{Path, PathBuf};

use haul_protocol::paths::Paths;
use tempfile::TempDir;

use crate::ca::TestCa;

/// A throw-away haul home; removed when dropped.
pub struct TestHome {
    pub dir: TempDir,
    pub paths: Paths,
    pub ca_file: PathBuf,
}

impl TestHome {
    /// A home whose config trusts `ca`, allows loopback downloads and retries after ~20 ms,
    /// plus `extra` TOML lines.
    pub fn new(ca: &TestCa, extra: &str) -> TestHome {
        let dir = tempfile::Builder::new()
            .prefix("haul-test-")
            .tempdir()
            .expect("temp HAUL_HOME");
        let ca_file = ca.write_ca_pem(dir.path());
        let home = TestHome {
            paths: Paths::under(dir.path()),
            dir,
            ca_file,
        };
        home.write_config(extra);
        home
    }

    /// A home with no config file at all (every setting at its default).
    pub fn bare() -> TestHome {
        let dir = tempfile::Builder::new()
            .prefix("haul-test-")
            .tempdir()
            .expect("temp HAUL_HOME");
        let ca_file = dir.path().join("no-ca.pem");
        TestHome {
            paths: Paths::under(dir.path()),
            dir,
            ca_file,
        }
    }

    /// Rewrites config.toml: the test defaults, then `extra` (whose keys must not repeat them).
    pub fn write_config(&self, extra: &str) {
        let mut text = String::new();
        if !extra.contains("allow_private_networks") {
            text.push_str("allow_private_networks = true\n");
        }
        if !extra.contains("retry_base_ms") {
            text.push_str("retry_base_ms = 20\n");
        }
        if !extra.contains("retry_max_ms") {
            text.push_str("retry_max_ms = 2000\n");
        }
        // A free port for the status page: tests run side by side and never take a fixed one.
        if !extra.contains("status_port") {
            text.push_str("status_port = 0\n");
        }
        text.push_str(&format!(
            "extra_ca_file = {:?}\n",
            self.ca_file.display().to_string()
        ));
        // Tables must come last in TOML: `extra` may hold a [resolve] table.
        text.push_str(extra);
        text.push('\n');
        std::fs::write(&self.paths.config_file, text).expect("write config.toml");
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The config as haul reads it.
    pub fn config(&self) -> haul::config::Config {
        haul::config::Config::load(&self.paths, None).expect("test config loads")
    }

    /// Files (not hidden) in the output folder, sorted.
    pub fn outputs(&self) -> Vec<PathBuf> {
        list_visible(&self.paths.output_dir)
    }
}

/// Entries of `dir` whose names do not start with a dot, sorted; empty when `dir` is missing.
pub fn list_visible(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Waits (up to `deadline`) until the inbox input `name` is back in `inbox/done/` or
/// `inbox/failed/` — a link counts as itself, never followed — and returns that folder's name.
pub async fn returned_from_inbox(
    inbox: &Path,
    name: &str,
    deadline: std::time::Duration,
) -> &'static str {
    crate::wait_for(deadline, || {
        ["done", "failed"]
            .into_iter()
            .find(|dir| std::fs::symlink_metadata(inbox.join(dir).join(name)).is_ok())
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "{name} did not come back from the inbox; inbox: {:?}, processing: {:?}",
            list_visible(inbox),
            list_visible(&inbox.join("processing"))
        )
    })
}
