//! haul: saves every photo and video of a marketplace product to the user's own disk.
//!
//! This library is the whole product; the `haul` binary only parses flags and sets up logging.
//! `docs/architecture.md` maps the modules and how a job flows through them.

pub mod config;
pub mod daemon;
pub mod export;
pub mod extract;
pub mod failure;
pub mod fetch;
pub mod format;
pub mod held;
pub mod inbox;
pub mod input;
pub mod install;
pub mod ipc;
pub mod jobs;
pub mod journal;
#[cfg(test)]
mod layers;
pub mod media;
pub mod memory;
pub mod naming;
pub mod outputs;
pub mod own_file;
pub mod package;
pub mod privacy;
pub mod process;
pub mod request;
pub mod shares;
pub mod status;
pub mod watch;
