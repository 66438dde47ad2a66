//! Making room on a full status server. The server serves at most
//! [`MAX_CONNECTIONS`](super::MAX_CONNECTIONS) connections; a local program that opens that many
//! and then asks nothing (sends its headers a byte at a time, or sits idle after one request,
//! reconnecting as it is dropped) would keep the page from the person who opens it. So when the
//! server is full, a new connection takes the slot of the oldest connection that is *idle* —
//! no request in flight: still waiting for its first headers, or between requests — and only
//! when every connection is busy answering (an event stream, a request being served) is the new
//! one turned away.
//!
//! Each connection is registered with [`Room::admit`]; its service marks each request in
//! flight with [`Busy::enter`] until the response's body has been sent or dropped.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

/// The connections, oldest first.
#[derive(Clone, Default)]
pub(super) struct Room(Arc<Mutex<VecDeque<Occupant>>>);

struct Occupant {
    busy: Busy,
    ended: Arc<AtomicBool>,
    close: CancellationToken,
}

/// Requests in flight on one connection.
#[derive(Clone, Default)]
pub(super) struct Busy(Arc<AtomicUsize>);

/// One request in flight; dropped with the response's body.
pub(super) struct InFlight(Busy);

impl Busy {
    pub(super) fn enter(&self) -> InFlight {
        self.0.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    fn idle(&self) -> bool {
        self.0.load(Ordering::Relaxed) == 0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's place in the [`Room`]: ends its registration when dropped.
pub(super) struct Seat {
    pub(super) busy: Busy,
    pub(super) close: CancellationToken,
    ended: Arc<AtomicBool>,
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.ended.store(true, Ordering::Relaxed);
    }
}

/// `response`, holding `held` until its body has been sent or dropped (an event stream holds it
/// for as long as it is open).
pub(super) fn hold_until_sent<T: Send + Sync + 'static>(
    response: axum::response::Response,
    held: T,
) -> axum::response::Response {
    response.map(|body| {
        axum::body::Body::new(http_body_util::BodyExt::map_frame(body, move |frame| {
            let _held = &held;
            frame
        }))
    })
}

impl Room {
    /// Registers a new connection.
    pub(super) fn admit(&self) -> Seat {
        let (busy, ended, close) = (
            Busy::default(),
            Arc::new(AtomicBool::new(false)),
            CancellationToken::new(),
        );
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if list.len() >= super::MAX_CONNECTIONS {
            list.retain(|o| !o.ended.load(Ordering::Relaxed));
        }
        list.push_back(Occupant {
            busy: busy.clone(),
            ended: ended.clone(),
            close: close.clone(),
        });
        Seat { busy, close, ended }
    }

    /// Closes the oldest idle connection; `false` when every connection is busy.
    pub(super) fn evict_oldest_idle(&self) -> bool {
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|o| !o.ended.load(Ordering::Relaxed));
        match list.iter().position(|o| o.busy.idle()) {
            Some(at) => {
                if let Some(occupant) = list.remove(at) {
                    occupant.close.cancel();
                }
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_idle_connection_makes_room_and_busy_ones_never() {
        let room = Room::default();
        let first = room.admit();
        let second = room.admit();
        let third = room.admit();
        let streaming = first.busy.enter();
        assert!(room.evict_oldest_idle());
        assert!(!first.close.is_cancelled(), "busy: an event stream");
        assert!(second.close.is_cancelled(), "the oldest idle one");
        drop(second);
        drop(streaming);
        assert!(room.evict_oldest_idle());
        assert!(
            first.close.is_cancelled(),
            "idle again once its stream ended"
        );
        drop(first);
        let _busy = third.busy.enter();
        assert!(!room.evict_oldest_idle(), "nothing idle is left");
    }
}
