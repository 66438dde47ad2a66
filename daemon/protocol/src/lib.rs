//! The contract every part of haul links: the extension's native host, the daemon, the `haul` CLI
//! and the tests all take their message types, frame codec, size limits, names and socket location
//! from here, so no two sides can drift apart (the failure a duplicated pipe name caused in
//! KeePassXC's proxy).
//!
//! - [`frame`]: the length-prefixed JSON framing used on stdio (browser ↔ host) and on the local
//!   socket (host/CLI ↔ daemon), with the limits checked before any allocation.
//! - [`message`]: the requests and replies, their stable error codes, and decoding that tells a
//!   corrupt frame apart from a well-formed message of a type this side does not know.
//! - [`paths`]: where config, data, the runtime socket, output and inbox live, per OS or under
//!   `HAUL_HOME`.
//! - [`private`]: creating haul's folders and files so only the user who runs it can open them.
//! - [`socket`]: connecting to and naming the daemon's local socket.
//! - [`install`]: the host manifest, the extension ids haul trusts and the install record that
//!   `haul install` writes and the native host and `haul doctor` read.
//! - [`user`]: one haul per user — the home `haul install` recorded and the registry of running
//!   daemons.

pub mod frame;
pub mod install;
pub mod message;
pub mod paths;
pub mod private;
pub mod socket;
pub mod user;

/// Version of the message protocol spoken between host/CLI and daemon, sent in every `hello`.
/// Bump it when a change is not backwards compatible; additive fields do not need a bump.
pub const PROTOCOL_VERSION: u32 = 1;

/// The version of this build of haul (all parts share one version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The native-messaging host name registered with browsers (`[a-z0-9_.]`, no leading, trailing or
/// double dots, so the same name works in the Chromium family and Firefox).
pub const HOST_NAME: &str = "haul.native_host";

pub use install::{DEV_EXTENSION_ID, FIREFOX_ADDON_ID};
