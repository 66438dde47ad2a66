//! A process's resident memory, read from `/proc/PID/status` (Linux): what the memory suite and
//! the benches measure the daemon by — `VmRSS` now, `VmHWM` its peak (resettable through
//! `clear_refs`). Elsewhere than on Linux there is nothing to read: `None`.

/// A field of `/proc/PID/status` (`"VmRSS"`, `"VmHWM"`), in KiB; `None` when the process or the
/// field is not there.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Resets the process's peak resident memory (`VmHWM`) to what it holds now.
pub fn reset_peak(pid: u32) -> std::io::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
}

/// KiB as MiB.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
