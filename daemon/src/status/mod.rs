//! The status page and JSON API on `http://127.0.0.1:PORT/` — what a person who never opened a
//! terminal looks at to see what haul is saving, what failed and why, and where the files are.
//! `docs/status-page.md` describes the page, every route and the security model.
//!
//! The server, in order:
//!
//! 1. binds `127.0.0.1` and `[::1]` on the same port — `status_port` from the config, `0` for a
//!    free one; when the configured port is taken a free one is used instead, because the page
//!    matters less than the jobs and the address actually bound is reported everywhere — and
//!    never any other interface;
//! 2. writes that address to `status.json` in the runtime dir (the daemon also gives it to the
//!    extension in `hello` and to `haul status --json`);
//! 3. accepts connections (HTTP/1.1, at most [`MAX_CONNECTIONS`], a header deadline against
//!    slow clients) and runs each through [`security::guard`] and the router — every request
//!    but a one-time link needs the session cookie or the token ([`access`]), and one client
//!    (a session or the token) has at most a share of the slots in flight ([`clients`]). When
//!    every slot is taken, the oldest idle connection is closed to make room (`room`): clients that hold
//!    connections open without asking anything (slow headers, idle, reconnecting in a loop)
//!    cannot keep the page from the person who opens it;
//! 4. on the daemon's shutdown token: stops accepting, ends every event stream, lets requests
//!    in flight finish (briefly), removes `status.json`.
//!
//! Modules: [`access`] (one-time links, session cookies, the token), [`security`]
//! (Host/Origin/sign-in checks and headers), [`api`] (the JSON handlers),
//! [`sse`] (the event stream), [`thumbs`] (thumbnails, by job and item id only), [`open`]
//! (asking the desktop to open a result; failures in plain words are
//! [`crate::failure::explain`]'s, by kind), [`openapi`] (the router and the OpenAPI document generated from the same handlers) and
//! [`page`] (the page's embedded HTML, CSS and JS).

pub mod access;
pub mod api;
pub mod clients;
pub mod error;
pub mod open;
pub mod openapi;
pub mod page;
mod room;
pub mod security;
pub mod sse;
pub mod thumbs;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use haul_protocol::install::InstallRecord;
use haul_protocol::message::JobId;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::Serialize;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::jobs::Engine;

pub use security::{TOKEN_HEADER, read_or_create_token, read_token};

/// Largest request body accepted (a saved product page with its HTML fits many times over).
pub const MAX_BODY_BYTES: usize = 16 << 20;

/// Connections served at once; one more is closed at once.
pub const MAX_CONNECTIONS: usize = 512;

/// Event streams open at once; one more is answered `503 busy`. Each costs a few KiB (a
/// broadcast receiver and the connection's buffers), so this bounds their memory.
pub const MAX_EVENT_STREAMS: usize = 256;

/// Time a client has to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Time requests in flight get to finish once the daemon stops.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the status server could not start.
#[derive(Debug, Error)]
pub enum StatusError {
    #[error("cannot listen on 127.0.0.1:{port} for the status page: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot create the status page token {}: {source}", path.display())]
    Token {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// A change event-stream clients should hear about: one the API made, or a package removed
/// from the output folder (jobs the engine runs announce their progress through the engine's
/// own events).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobsChanged {
    /// The job concerned.
    pub job: JobId,
    /// `created`, `retried` or `deleted` (through the API), `removed` (its package is gone
    /// from the output folder; the job's `removed_note` says why) or `returned` (a package
    /// deleted by hand is back).
    #[schema(example = "deleted")]
    pub change: String,
}

/// What every handler shares (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

struct Shared {
    engine: Engine,
    access: Arc<access::Access>,
    port: u16,
    started: Instant,
    /// `chrome-extension://<id>` origins trusted for state-changing calls.
    extension_origins: Vec<String>,
    changes: broadcast::Sender<JobsChanged>,
    event_streams: Arc<Semaphore>,
    clients: crate::shares::Shares<clients::Client>,
    thumb_slots: Semaphore,
    shutdown: CancellationToken,
    openapi_json: OnceLock<String>,
}

impl AppState {
    fn new(
        engine: Engine,
        access: Arc<access::Access>,
        port: u16,
        shutdown: CancellationToken,
    ) -> AppState {
        let record = InstallRecord::load(&engine.paths().install_record_file())
            .ok()
            .flatten();
        let mut extension_origins = vec![format!(
            "{}{}",
            haul_protocol::install::CHROME_ORIGIN_PREFIX,
            haul_protocol::DEV_EXTENSION_ID
        )];
        for id in record.map(|r| r.extension_ids).unwrap_or_default() {
            if haul_protocol::install::is_chrome_extension_id(&id) {
                extension_origins.push(format!(
                    "{}{id}",
                    haul_protocol::install::CHROME_ORIGIN_PREFIX
                ));
            }
        }
        AppState(Arc::new(Shared {
            engine,
            access,
            port,
            started: Instant::now(),
            extension_origins,
            changes: broadcast::channel(256).0,
            event_streams: Arc::new(Semaphore::new(MAX_EVENT_STREAMS)),
            clients: clients::shares(),
            thumb_slots: Semaphore::new(1),
            shutdown,
            openapi_json: OnceLock::new(),
        }))
    }

    pub fn engine(&self) -> &Engine {
        &self.0.engine
    }

    pub fn access(&self) -> &access::Access {
        &self.0.access
    }

    pub fn port(&self) -> u16 {
        self.0.port
    }

    pub fn uptime(&self) -> Duration {
        self.0.started.elapsed()
    }

    pub fn shutdown(&self) -> &CancellationToken {
        &self.0.shutdown
    }

    /// Tells event-stream clients about a change made through the API.
    pub fn announce(&self, job: JobId, change: &str) {
        let _ = self.0.changes.send(JobsChanged {
            job,
            change: change.to_string(),
        });
    }

    pub fn subscribe_changes(&self) -> broadcast::Receiver<JobsChanged> {
        self.0.changes.subscribe()
    }

    pub fn event_streams(&self) -> &Arc<Semaphore> {
        &self.0.event_streams
    }

    /// Event streams open now.
    pub fn open_event_streams(&self) -> usize {
        MAX_EVENT_STREAMS - self.0.event_streams.available_permits()
    }

    /// Requests in flight per signed-in client.
    pub fn clients(&self) -> &crate::shares::Shares<clients::Client> {
        &self.0.clients
    }

    pub fn thumb_slots(&self) -> &Semaphore {
        &self.0.thumb_slots
    }

    pub fn openapi_json(&self) -> &str {
        self.0.openapi_json.get().map_or("{}", String::as_str)
    }

    /// `127.0.0.1:PORT`, `localhost:PORT` or `[::1]:PORT` (any case).
    pub fn is_own_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let port = self.0.port;
        [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ]
        .contains(&host)
    }

    /// The page itself (under any of its loopback names) or a trusted extension.
    pub fn is_allowed_origin(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        let port = self.0.port;
        [
            format!("http://127.0.0.1:{port}"),
            format!("http://localhost:{port}"),
            format!("http://[::1]:{port}"),
        ]
        .iter()
        .any(|o| o.eq_ignore_ascii_case(origin))
            || self.0.extension_origins.iter().any(|o| o == origin)
    }
}

/// The running status server.
pub struct StatusServer {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    access: Arc<access::Access>,
    task: JoinHandle<()>,
}

/// What the local socket needs of the status server: its address, and one-time links into it.
#[derive(Clone)]
pub struct StatusHandle {
    /// `http://127.0.0.1:PORT/` (opens only with a session: see [`access`]).
    pub url: String,
    access: Arc<access::Access>,
}

impl StatusHandle {
    /// A new one-time link that signs a browser in (see [`access`]), and how long it is valid.
    pub fn one_time_link(&self) -> (String, Duration) {
        (self.access.issue_link(), access::LINK_LIFETIME)
    }
}

impl StatusServer {
    /// The handle the local socket hands links out through.
    pub fn handle(&self) -> StatusHandle {
        StatusHandle {
            url: self.url.clone(),
            access: self.access.clone(),
        }
    }

    /// Waits until the server has stopped (after the shutdown token fired).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Binds, writes `status.json` and serves until `shutdown` fires.
pub async fn start(
    engine: Engine,
    shutdown: CancellationToken,
) -> Result<StatusServer, StatusError> {
    let paths = engine.paths().clone();
    let token_file = paths.api_token_file();
    let token = read_or_create_token(&token_file).map_err(|source| StatusError::Token {
        path: token_file,
        source,
    })?;
    let (v4, v6) = bind(engine.config().status_port).await?;
    let port = v4.local_addr().map(|a| a.port()).unwrap_or_default();
    let url = format!("http://127.0.0.1:{port}/");
    let access = Arc::new(access::Access::new(token, port));
    let state = AppState::new(engine, access.clone(), port, shutdown.clone());
    let (router, doc) = openapi::router(state.clone());
    let json = doc
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    let _ = state.0.openapi_json.set(json);

    write_status_file(&paths, &url, port);
    let status_file = paths.status_file();
    let task = tokio::spawn(async move {
        serve(v4, v6, router, shutdown).await;
        let _ = std::fs::remove_file(status_file);
    });
    Ok(StatusServer { url, access, task })
}

/// Binds 127.0.0.1 and ::1 on one port. `::1` is best effort: a machine without IPv6 loopback
/// still gets the page on 127.0.0.1.
async fn bind(wanted: u16) -> Result<(TcpListener, Option<TcpListener>), StatusError> {
    let v4_on = |port| TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    let v4 = match v4_on(wanted).await {
        Ok(l) => l,
        Err(e) if wanted != 0 && e.kind() == std::io::ErrorKind::AddrInUse => {
            tracing::warn!(
                port = wanted,
                "the status page's port is taken (another program, or another haul); using a free one"
            );
            v4_on(0)
                .await
                .map_err(|source| StatusError::Bind { port: 0, source })?
        }
        Err(source) => {
            return Err(StatusError::Bind {
                port: wanted,
                source,
            });
        }
    };
    let port = v4.local_addr().map(|a| a.port()).unwrap_or(wanted);
    let v6 = match TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))).await {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::info!(port, error = %e, "the status page is not on [::1] (IPv6 loopback unavailable)");
            None
        }
    };
    Ok((v4, v6))
}

fn write_status_file(paths: &haul_protocol::paths::Paths, url: &str, port: u16) {
    let body = serde_json::json!({ "url": url, "port": port, "pid": std::process::id() });
    let path = paths.status_file();
    let temp = path.with_extension("json.partial");
    let result = paths
        .ensure_runtime_dir()
        .and_then(|()| std::fs::write(&temp, format!("{body:#}\n")))
        .and_then(|()| std::fs::rename(&temp, &path));
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "cannot write the status page address");
    }
}

/// The accept loop (mini-redis style): both listeners in one `select!` with the shutdown token,
/// a semaphore capping connections (making room by closing the oldest idle one, `room`),
/// backoff on accept errors, and hyper's graceful shutdown.
async fn serve(
    v4: TcpListener,
    v6: Option<TcpListener>,
    router: axum::Router,
    shutdown: CancellationToken,
) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let room = room::Room::default();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let tracker = TaskTracker::new();
    let mut backoff = Duration::from_millis(10);
    loop {
        let accepted = tokio::select! {
            a = v4.accept() => a,
            a = async {
                match &v6 {
                    Some(l) => l.accept().await,
                    None => std::future::pending().await,
                }
            } => a,
            () = shutdown.cancelled() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff = Duration::from_millis(10);
                stream
            }
            Err(e) => {
                tracing::warn!(error = %e, "status page: accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let permit = match limit.clone().try_acquire_owned() {
            Ok(permit) => permit,
            // Full: close the oldest connection that has asked nothing yet, and take its slot
            // as soon as its task lets go.
            Err(_) if room.evict_oldest_idle() => {
                match tokio::time::timeout(Duration::from_secs(1), limit.clone().acquire_owned())
                    .await
                {
                    Ok(Ok(permit)) => permit,
                    _ => continue,
                }
            }
            Err(_) => {
                drop(stream); // Over the cap: closing costs nothing and frees the client at once.
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let seat = room.admit();
        let (router_of_connection, busy) = (router.clone(), seat.busy.clone());
        let service = TowerToHyperService::new(tower::service_fn(
            move |req: hyper::Request<hyper::body::Incoming>| {
                // In flight until the response's body is sent or dropped (an event stream).
                let in_flight = busy.enter();
                let answer = tower::ServiceExt::oneshot(router_of_connection.clone(), req);
                async move {
                    let response = answer.await?;
                    Ok::<_, std::convert::Infallible>(room::hold_until_sent(response, in_flight))
                }
            },
        ));
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .max_buf_size(64 << 10);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tracker.spawn(async move {
            tokio::select! {
                _ = connection => {}
                () = seat.close.cancelled() => {}
            }
            drop((seat, permit));
        });
    }
    drop(v4);
    drop(v6);
    tracker.close();
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::debug!("status page: some connections did not finish in time");
        }
    }
}
