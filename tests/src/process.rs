//! Processes a test starts and must not leave behind: a guard that kills a whole process group
//! when dropped (the native host, Chromium with its zygotes, renderers and native hosts), and a
//! look at `/proc` for every `haul daemon` of one `HAUL_HOME` — the daemon a native host starts
//! leads a session of its own, so the test that caused it finds and kills it by its home.
//!
//! Unix only: the suites that use these run on Linux (CI) and macOS.

use std::path::Path;

/// Kills the process group `pgid` with SIGKILL when dropped.
#[derive(Debug)]
pub struct GroupGuard {
    pgid: i32,
}

impl GroupGuard {
    /// Guards the group led by `pid` (a child started with `process_group(0)` or `setsid`).
    pub fn new(pid: u32) -> GroupGuard {
        GroupGuard { pgid: pid as i32 }
    }

    /// The group's id (its leader's pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.pgid);
    }
}

/// SIGKILL to every process of the group `pgid` (ignored when the group is gone).
pub fn kill_group(pgid: i32) {
    if pgid > 1 {
        // SAFETY: killpg(2) with a group id this test created; no memory is shared.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}

/// Whether `pid` is a live process (a zombie counts as gone).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat_field(&stat, 2).is_some_and(|state| state != "Z" && state != "X"),
        // No /proc (macOS): ask kill(2).
        Err(_) if !Path::new("/proc/self").exists() => {
            // SAFETY: signal 0 only checks that the process exists.
            unsafe { libc::kill(pid, 0) == 0 }
        }
        Err(_) => false,
    }
}

/// The session id of `pid`, from `/proc/<pid>/stat` (Linux).
pub fn session_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_field(&stat, 5)?.parse().ok()
}

/// Field `n` (0-based, `pid` is 0) of a `/proc/<pid>/stat` line; the command name may hold
/// spaces and parentheses, so fields after it are counted from its closing parenthesis.
fn stat_field(stat: &str, n: usize) -> Option<&str> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(n.checked_sub(2)?)
}

/// Live `haul daemon` processes whose `HAUL_HOME` is `home` (Linux: read from `/proc`).
pub fn daemons_of(home: &Path) -> Vec<i32> {
    let wanted = format!("HAUL_HOME={}", home.display()).into_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<i32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let mut args = cmdline.split(|b| *b == 0);
            let is_haul = args
                .next()
                .is_some_and(|exe| exe.ends_with(b"haul") || exe.ends_with(b"haul.exe"));
            is_haul && args.next() == Some(&b"daemon"[..])
        })
        .filter(|pid| {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            environ.split(|b| *b == 0).any(|var| var == wanted)
        })
        .filter(|pid| alive(*pid))
        .collect();
    found.sort_unstable();
    found
}

/// Kills, when dropped, every `haul daemon` of a home — each by its process group, since a
/// daemon started by the native host leads its own session.
#[derive(Debug)]
pub struct DaemonsReaper {
    home: std::path::PathBuf,
}

impl DaemonsReaper {
    pub fn new(home: &Path) -> DaemonsReaper {
        DaemonsReaper {
            home: home.to_path_buf(),
        }
    }
}

impl Drop for DaemonsReaper {
    fn drop(&mut self) {
        for pid in daemons_of(&self.home) {
            kill_group(pid);
            // Its group may differ if something else started it: the pid itself goes too.
            // SAFETY: kill(2) on a pid found under this test's HAUL_HOME.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_a_command_with_spaces() {
        let stat = "4242 (haul (x) y) S 1 4242 4242 0 -1";
        assert_eq!(stat_field(stat, 2), Some("S"));
        assert_eq!(stat_field(stat, 3), Some("1"));
        assert_eq!(stat_field(stat, 5), Some("4242"));
    }

    #[test]
    fn this_process_is_alive() {
        assert!(alive(std::process::id() as i32));
    }
}
