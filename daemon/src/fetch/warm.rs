//! Opening a media host's connection while the page is still being read. After a click the
//! daemon reads the page (tens of milliseconds for a real product page) before it knows what to
//! download, and a new connection to a media host takes two round trips (TCP, then TLS: 80 ms
//! on a 40 ms path). So when a job starts, the connection to the host the page's media come from
//! is opened at once, and the host's first download finds it ready.
//!
//! reqwest opens connections only inside its pool, and only for a request. A warm-up is a
//! request that is never sent: it runs inside [`warming`]'s scope, where the connector layer
//! ([`WarmLayer`]) keeps the connection it opened, fails the request before a byte of it is
//! written ([`Kept`]), and hands the connection to the next connection the client opens to the
//! same destination — the host's first download. The server sees a TCP and TLS handshake and no
//! request the job does not make. A kept connection no download took within [`KEEP`] is closed.
//!
//! A request on a connection the pool already holds would be sent, so [`Fetcher::warm_up`]
//! (the only caller) warms no host a download used while the pool may still hold its
//! connection. The layer sees a destination only through its `Debug` form (reqwest keeps the
//! type private); one destination always gives the same form, which is all a key needs.
//!
//! [`Fetcher::warm_up`]: super::Fetcher::warm_up

use std::any::Any;
use std::collections::HashMap;
use std::fmt::Debug;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::sync::oneshot;
use tower_layer::Layer;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a kept connection waits for its first download before it is closed (a queued job
/// plans later; servers close connections that stay silent).
pub const KEEP: Duration = Duration::from_secs(5);

tokio::task_local! {
    static WARMING: ();
}

/// Runs `request` as a warm-up: the connection it opens is kept, and it never sends.
pub async fn warming<F: Future>(request: F) -> F::Output {
    WARMING.scope((), request).await
}

/// The warm-up's request failed on purpose: its connection waits for the host's first download.
#[derive(Debug, Error)]
#[error("the connection was opened ahead of its first download")]
pub struct Kept;

type Opened = Box<dyn Any + Send>;

/// Connections opened ahead of their first request, by destination.
#[derive(Clone, Default)]
pub struct Warm {
    kept: Arc<Mutex<HashMap<String, Pending>>>,
}

struct Pending {
    opened: oneshot::Receiver<Opened>,
    at: Instant,
}

impl Warm {
    fn kept(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|_, p| p.at.elapsed() < KEEP);
        kept
    }

    /// Where a warm-up to `key` puts its connection.
    fn keep(&self, key: String) -> oneshot::Sender<Opened> {
        let (tx, opened) = oneshot::channel();
        let at = Instant::now();
        self.kept().insert(key, Pending { opened, at });
        tx
    }

    /// The warm-up's connection to `key`, when one is kept or on its way.
    fn take(&self, key: &str) -> Option<oneshot::Receiver<Opened>> {
        self.kept().remove(key).map(|p| p.opened)
    }
}

/// The connector layer that keeps warm-ups' connections and hands them out.
#[derive(Clone)]
pub struct WarmLayer(pub Warm);

impl<S> Layer<S> for WarmLayer {
    type Service = WarmService<S>;

    fn layer(&self, inner: S) -> WarmService<S> {
        WarmService {
            inner,
            warm: self.0.clone(),
        }
    }
}

/// A connector that keeps warm-ups' connections and gives each to the next connect to its
/// destination.
#[derive(Clone)]
pub struct WarmService<S> {
    inner: S,
    warm: Warm,
}

impl<S, D> Service<D> for WarmService<S>
where
    S: Service<D, Error = BoxError> + Clone + Send + 'static,
    S::Response: Send + 'static,
    S::Future: Send + 'static,
    D: Debug + Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, dst: D) -> Self::Future {
        let key = format!("{dst:?}");
        // The service polled ready serves this call; a clone takes its place.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        if WARMING.try_with(|()| ()).is_ok() {
            let keep = self.warm.keep(key);
            // The connection is made on its own task, and the warm-up's request ends at once:
            // a request still waiting would be sent on the first connection to its host that
            // the pool gets (a download's), and the warm-up must never send.
            tokio::spawn(async move {
                if let Ok(conn) = inner.call(dst).await {
                    // No receiver: the kept connection expired unused; it closes here.
                    let _ = keep.send(Box::new(conn));
                }
            });
            return Box::pin(std::future::ready(Err(Box::new(Kept) as BoxError)));
        }
        let kept = self.warm.take(&key);
        Box::pin(async move {
            if let Some(opened) = kept
                && let Ok(conn) = opened.await
                && let Ok(conn) = conn.downcast::<S::Response>()
            {
                return Ok(*conn);
            }
            // No warm-up, or it failed: connect as always.
            inner.call(dst).await
        })
    }
}
