//! Each client's share of a server: how many of its slots one client holds at once, so one
//! client — a runaway script, a browser with a hundred tabs, a process opening connections in a
//! loop — can never take them all from the others. The daemon's socket counts connections per
//! client process ([`crate::ipc`]); the status server counts requests in flight per signed-in
//! client ([`crate::status::clients`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Slots held per client, each client at most `max`.
pub struct Shares<K: Eq + Hash> {
    held: Arc<Mutex<HashMap<K, usize>>>,
    max: usize,
}

/// One slot of one client; given back when dropped.
pub struct Share<K: Eq + Hash> {
    held: Arc<Mutex<HashMap<K, usize>>>,
    client: K,
}

impl<K: Eq + Hash> Clone for Shares<K> {
    fn clone(&self) -> Shares<K> {
        Shares {
            held: self.held.clone(),
            max: self.max,
        }
    }
}

impl<K: Eq + Hash + Clone> Shares<K> {
    /// Every client may hold up to `max` slots.
    pub fn new(max: usize) -> Shares<K> {
        Shares {
            held: Arc::default(),
            max,
        }
    }

    /// A slot for `client`, or `None` when it holds its `max` already.
    pub fn take(&self, client: K) -> Option<Share<K>> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let count = held.entry(client.clone()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Share {
            held: self.held.clone(),
            client,
        })
    }

    /// Slots `client` holds now.
    #[cfg(test)]
    fn held_by(&self, client: &K) -> usize {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.get(client).copied().unwrap_or(0)
    }

    /// Clients holding a slot now.
    #[cfg(test)]
    fn clients(&self) -> usize {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl<K: Eq + Hash> Drop for Share<K> {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = held.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // Only clients holding a slot are remembered: the map stays as small as the
                // server's slots, however many clients come and go.
                held.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_share_is_refused_and_others_are_not() {
        let shares = Shares::new(3);
        let mut script: Vec<Share<&str>> = (0..3).map(|_| shares.take("script").unwrap()).collect();
        assert!(shares.take("script").is_none(), "one over its share");
        let tab = shares.take("browser");
        assert!(tab.is_some(), "another client still gets in");
        script.pop();
        let again = shares.take("script");
        assert!(again.is_some(), "a slot is given back when it is dropped");
        assert!(shares.take("script").is_none(), "and only that one");
        assert_eq!(shares.held_by(&"script"), 3);
        drop(tab);
        assert_eq!(shares.held_by(&"browser"), 0);
        assert_eq!(shares.clients(), 1, "a client holding nothing is forgotten");
    }
}
