//! haul: saves every photo and video of a marketplace product to the user's own disk.
//!
//! This library is the whole product; the `haul` binary only parses flags and sets up logging.
//! `docs/architecture.md` maps the modules and how a job flows through them.

pub mod extract;
pub mod install;
pub mod media;
