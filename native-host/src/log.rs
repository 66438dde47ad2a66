//! The host's log: stderr (Chrome copies it to its own log, Firefox to the browser console) and
//! `native-host.log` in haul's log folder. Never stdout, which carries only frames.

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use haul_protocol::paths::Paths;

/// A log file past this size is moved to `native-host.log.old` when a host starts.
const MAX_LOG_BYTES: u64 = 1024 * 1024;

/// Writes one line per event to stderr and the log file.
pub struct Logger {
    file: Mutex<Option<File>>,
}

impl Logger {
    /// Opens (creating) the log file under `paths`; a logger without a file when that fails.
    pub fn open(paths: Option<&Paths>) -> Logger {
        let file = paths.and_then(|p| {
            let dir = p.log_dir();
            // Private to the user: the log names the pages the browser sent.
            p.ensure_log_dir().ok()?;
            let path = dir.join("native-host.log");
            if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_LOG_BYTES) {
                let _ = std::fs::rename(&path, dir.join("native-host.log.old"));
            }
            haul_protocol::private::append(&path).ok()
        });
        Logger {
            file: Mutex::new(file),
        }
    }

    /// Logs one line.
    pub fn log(&self, message: impl std::fmt::Display) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let line = format!(
            "{}.{:03} haul-native-host[{}] {message}\n",
            now.as_secs(),
            now.subsec_millis(),
            std::process::id()
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
        if let Ok(mut guard) = self.file.lock()
            && let Some(f) = guard.as_mut()
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}
