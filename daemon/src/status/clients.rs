//! Requests in flight per client. Every connection to `127.0.0.1` comes from the same address,
//! so a client is known by what it signed in with: its session cookie (one browser, however many
//! tabs) or this install's token (scripts). One client may have at most
//! [`MAX_REQUESTS_PER_CLIENT`] requests in flight — event streams included, which stay in flight
//! as long as they are open — so a runaway script or a browser with a hundred haul tabs cannot
//! take every slot of the server (`MAX_CONNECTIONS`) from the others; the one over is answered
//! `429 too_many_requests` at once. Requests that are not signed in hold no slot for long:
//! they are answered at once, and their idle connections make room (`room`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
#[derive(Clone, Default)]
pub struct Clients(Arc<Mutex<HashMap<Client, usize>>>);

/// One request in flight of one client; the slot is given back when it is dropped (with the
/// response's body).
pub struct ClientSlot {
    clients: Clients,
    client: Client,
}

impl Clients {
    /// Takes a slot for one more request of `client`; `None` when it has
    /// [`MAX_REQUESTS_PER_CLIENT`] in flight already.
    pub fn enter(&self, client: Client) -> Option<ClientSlot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(client.clone()).or_insert(0);
        if *count >= MAX_REQUESTS_PER_CLIENT {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            clients: self.clone(),
            client,
        })
    }

    /// Requests of `client` in flight now.
    #[cfg(test)]
    fn in_flight(&self, client: &Client) -> usize {
        let counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        counts.get(client).copied().unwrap_or(0)
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut counts = self.clients.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // Only clients with a request in flight are remembered: the map stays as small
                // as the server's connections, however many sessions come and go.
                counts.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_share_is_refused_and_others_are_not() {
        let clients = Clients::default();
        let mut script: Vec<ClientSlot> = (0..MAX_REQUESTS_PER_CLIENT)
            .map(|_| clients.enter(Client::Token).unwrap())
            .collect();
        assert!(clients.enter(Client::Token).is_none(), "one over its share");
        let browser = Client::Session("v1.1.aa".into());
        let tab = clients.enter(browser.clone());
        assert!(tab.is_some(), "another client still gets in");
        script.pop();
        let again = clients.enter(Client::Token);
        assert!(again.is_some(), "a slot is given back when a request ends");
        assert!(clients.enter(Client::Token).is_none(), "and only that one");
        assert_eq!(clients.in_flight(&Client::Token), MAX_REQUESTS_PER_CLIENT);
        drop(tab);
        assert_eq!(clients.in_flight(&browser), 0);
        assert!(
            !clients.0.lock().unwrap().contains_key(&browser),
            "a client with nothing in flight is forgotten"
        );
    }
}
