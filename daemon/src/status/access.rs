//! Who may use the status page: only the user who runs haul. Anyone on the machine can open a
//! TCP connection to `127.0.0.1`, so nothing the server says over TCP may let them in; the
//! daemon's local socket, which admits only its own user, is where access starts:
//!
//! 1. the user's CLI (`haul status --open`), extension (through the native host) or desktop
//!    launcher asks the socket for `status_link` and gets `http://127.0.0.1:PORT/open?key=K`:
//!    K is 32 random bytes, valid once and for [`LINK_LIFETIME`];
//! 2. the browser follows the link; [`Access::redeem`] spends K and the answer sets the session
//!    cookie — `HttpOnly` (the page's script never sees it), `SameSite=Strict` (no other site's
//!    request carries it), `Path=/`, no `Expires` (gone when the browser closes) — and sends the
//!    browser on to `/`;
//! 3. every other request needs that cookie, or this install's token (the file `api-token` in
//!    the data folder, mode 0600) in `X-Haul-Token` or `Authorization: Bearer` — how scripts
//!    and the tests authenticate.
//!
//! The cookie is `v1.<issued>.<nonce>.<HMAC-SHA256(token, …)>`: nothing is stored, so a page
//! left open survives a daemon restart, and a new token (the file deleted) ends every session.
//! A session is honoured for [`SESSION_LIFETIME`] after it was issued. The token itself is never
//! sent by the server: not in the page, not in any answer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ring::hmac;

/// How long a one-time link can be used.
pub const LINK_LIFETIME: Duration = Duration::from_secs(60);

/// How long a session cookie is honoured after it was issued.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// One-time links waiting to be used at once; the oldest is dropped past this.
const MAX_PENDING_LINKS: usize = 64;

/// The path one-time links point at.
pub const OPEN_PATH: &str = "/open";

/// One-time links and session cookies of one status server.
pub struct Access {
    token: String,
    key: hmac::Key,
    port: u16,
    /// Unused links: the key (hex) and when it expires.
    pending: Mutex<HashMap<String, Instant>>,
}

impl Access {
    pub fn new(token: String, port: u16) -> Access {
        // The MAC key is the token itself: a session proves its holder once had a link that
        // only the token's owner could obtain, and a new token ends every session.
        let key = hmac::Key::new(hmac::HMAC_SHA256, token.as_bytes());
        Access {
            token,
            key,
            port,
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// The install's token (compared with what scripts send; never sent out).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A new one-time link: `http://127.0.0.1:PORT/open?key=…`.
    pub fn issue_link(&self) -> String {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let key = hex::encode(bytes);
        let now = Instant::now();
        if let Ok(mut pending) = self.pending.lock() {
            pending.retain(|_, expires| *expires > now);
            while pending.len() >= MAX_PENDING_LINKS {
                let oldest = pending
                    .iter()
                    .min_by_key(|(_, expires)| **expires)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => pending.remove(&k),
                    None => break,
                };
            }
            pending.insert(key.clone(), now + LINK_LIFETIME);
        }
        format!("http://127.0.0.1:{}{OPEN_PATH}?key={key}", self.port)
    }

    /// Spends a link's key: `true` once for a key issued less than [`LINK_LIFETIME`] ago.
    pub fn redeem(&self, key: &str) -> bool {
        let Ok(mut pending) = self.pending.lock() else {
            return false;
        };
        // Removed whether or not it is still valid: a key is never good twice.
        match pending.remove(key) {
            Some(expires) => expires > Instant::now(),
            None => false,
        }
    }

    /// The cookie's name; the port is part of it because browsers keep cookies per host, not
    /// per port, and two hauls (two `HAUL_HOME`s) on one machine must not overwrite each
    /// other's sessions.
    pub fn cookie_name(&self) -> String {
        format!("haul_session_{}", self.port)
    }

    /// A `Set-Cookie` value for a new session.
    pub fn new_session_cookie(&self) -> String {
        let issued = unix_now();
        let mut nonce = [0u8; 16];
        rand::fill(&mut nonce);
        let body = format!("v1.{issued}.{}", hex::encode(nonce));
        let tag = hmac::sign(&self.key, body.as_bytes());
        format!(
            "{}={body}.{}; Path=/; HttpOnly; SameSite=Strict",
            self.cookie_name(),
            hex::encode(tag.as_ref())
        )
    }

    /// The session the request's `Cookie` headers carry when one is valid and unexpired for
    /// this server: the cookie's value, which names the session (one browser).
    pub fn session<'a>(&self, cookie_headers: impl Iterator<Item = &'a str>) -> Option<&'a str> {
        let name = self.cookie_name();
        cookie_headers
            .flat_map(|h| h.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(n, _)| *n == name)
            .map(|(_, value)| value)
            .find(|value| self.valid_session(value))
    }

    fn valid_session(&self, value: &str) -> bool {
        let Some((body, tag)) = value.rsplit_once('.') else {
            return false;
        };
        let Ok(tag) = hex::decode(tag) else {
            return false;
        };
        if hmac::verify(&self.key, body.as_bytes(), &tag).is_err() {
            return false;
        }
        let mut parts = body.split('.');
        let (Some("v1"), Some(issued)) = (parts.next(), parts.next()) else {
            return false;
        };
        let Ok(issued) = issued.parse::<u64>() else {
            return false;
        };
        let now = unix_now();
        // A clock set back a little must not end sessions; one from the future is forged.
        issued <= now + 300 && now.saturating_sub(issued) < SESSION_LIFETIME.as_secs()
    }

    /// Whether `given` (a header's value) is this install's token, compared without an early
    /// exit so the time taken says nothing about the token.
    pub fn is_token(&self, given: &[u8]) -> bool {
        let ours = self.token.as_bytes();
        given.len() == ours.len()
            && given
                .iter()
                .zip(ours)
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Access {
        Access::new("ab".repeat(32), 24285)
    }

    #[test]
    fn a_link_works_once() {
        let a = access();
        let link = a.issue_link();
        let key = link.rsplit_once("key=").unwrap().1;
        assert!(link.starts_with("http://127.0.0.1:24285/open?key="));
        assert_eq!(key.len(), 64);
        assert!(a.redeem(key));
        assert!(!a.redeem(key), "spent");
        assert!(!a.redeem("00".repeat(32).as_str()), "never issued");
    }

    #[test]
    fn an_expired_link_is_refused() {
        let a = access();
        let link = a.issue_link();
        let key = link.rsplit_once("key=").unwrap().1.to_string();
        a.pending
            .lock()
            .unwrap()
            .insert(key.clone(), Instant::now() - Duration::from_secs(1));
        assert!(!a.redeem(&key));
    }

    #[test]
    fn pending_links_are_bounded() {
        let a = access();
        for _ in 0..MAX_PENDING_LINKS * 2 {
            a.issue_link();
        }
        assert_eq!(a.pending.lock().unwrap().len(), MAX_PENDING_LINKS);
    }

    #[test]
    fn sessions_are_signed_by_this_install() {
        let a = access();
        let set = a.new_session_cookie();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/")
        );
        assert!(!set.to_ascii_lowercase().contains("expires"));
        let pair = set.split(';').next().unwrap();
        assert!(a.session([pair].into_iter()).is_some());
        assert!(a.session(["other=1; ", pair].into_iter()).is_some());
        // Another install's cookie, a tampered one, one for another port, an old one.
        let other = Access::new("cd".repeat(32), 24285);
        let theirs = other.new_session_cookie();
        assert!(
            a.session([theirs.split(';').next().unwrap()].into_iter())
                .is_none()
        );
        let tampered = pair.replacen("v1.", "v1.9", 1);
        assert!(a.session([tampered.as_str()].into_iter()).is_none());
        let elsewhere = Access::new("ab".repeat(32), 1234);
        assert!(elsewhere.session([pair].into_iter()).is_none());
        let old = unix_now() - SESSION_LIFETIME.as_secs() - 1;
        let body = format!("v1.{old}.00");
        let tag = hex::encode(hmac::sign(&a.key, body.as_bytes()).as_ref());
        let stale = format!("{}={body}.{tag}", a.cookie_name());
        assert!(a.session([stale.as_str()].into_iter()).is_none());
        assert!(a.session(std::iter::empty()).is_none());
    }

    #[test]
    fn tokens_compare_by_value() {
        let a = access();
        assert!(a.is_token("ab".repeat(32).as_bytes()));
        assert!(!a.is_token("ab".repeat(31).as_bytes()));
        assert!(!a.is_token(b""));
    }
}
