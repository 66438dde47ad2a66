//! Requests in flight per client. Every connection to `127.0.0.1` comes from the same address,
//! so a client is known by what it signed in with: its session cookie (one browser, however many
//! tabs) or this install's token (scripts). One client may have at most
//! [`MAX_REQUESTS_PER_CLIENT`] requests in flight ([`crate::shares`]) — event streams included,
//! which stay in flight as long as they are open — so a runaway script or a browser with a
//! hundred haul tabs cannot take every slot of the server (`MAX_CONNECTIONS`) from the others;
//! the one over is answered `429 too_many_requests` at once. Requests that are not signed in
//! hold no slot for long: they are answered at once, and their idle connections make room
//! (`room`).

use crate::shares::Shares;

/// Requests one client may have in flight at once.
pub const MAX_REQUESTS_PER_CLIENT: usize = 64;

/// Who a signed-in request comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Client {
    /// A script with this install's token.
    Token,
    /// A browser with this session cookie (its signed body).
    Session(String),
}

/// The requests in flight of every client.
pub fn shares() -> Shares<Client> {
    Shares::new(MAX_REQUESTS_PER_CLIENT)
}
