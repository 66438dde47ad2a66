//! haul's end-to-end suite: one test binary, one module per area, fixtures from `haul_tests`.
//! Every test runs real components — the daemon, its socket, HTTPS over loopback, the extension's
//! files — in a temporary `HAUL_HOME`.

#[cfg(unix)]
mod browser_handoff;
mod cli;
mod export;
mod extension;
#[cfg(unix)]
mod extension_app;
mod extension_icons;
#[cfg(target_os = "linux")]
mod faults;
mod grab;
mod grab_page;
mod hls;
mod hostile;
mod inbox;
mod ipc;
#[cfg(unix)]
mod large_resume;
mod memory;
#[cfg(unix)]
mod native_host;
mod output_folder;
#[cfg(unix)]
mod package;
mod privacy;
mod privacy_capture;
mod protocol_doc;
mod restart;
mod status_api;
mod status_page;
mod status_security;
#[cfg(unix)]
mod terminal;
