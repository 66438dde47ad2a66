//! The daemon's local socket server: where the native host (for the browser) and `haul grab`
//! hand over work.
//!
//! Modelled on mini-redis: an accept loop in `select!` against the shutdown token, a semaphore
//! capping connections (one over the cap is told `busy` and closed), and one task per
//! connection, each stopped by the same token. A connection goes:
//!
//! 1. the client must send `hello` within [`HANDSHAKE_TIMEOUT`]; a client speaking a newer
//!    protocol is told so — and the daemon, now outdated, shuts down so the client can start the
//!    upgraded one (jobs resume there);
//! 2. then any number of requests; each `grab` is journaled and answered `accepted` at once, and
//!    that job's `progress`/`finished` events are streamed on this connection while it is open.
//!    Closing the connection never stops a job. `status_link` hands out a one-time link into the
//!    status page: the socket (mode 0600, in a 0700 folder) admits only the user who runs haul,
//!    which makes it the one way in to the page ([`crate::status::access`]).
//!
//! Every malformed frame or message is answered with an `error` (stable code, human message);
//! a frame error, and a message that is not a JSON object with a `type` (code 1), also end the
//! connection, since the stream can no longer be trusted.
//!
//! No one client can take every slot: one process may hold at most [`MAX_PER_CLIENT`]
//! connections (by the peer's process id), and a frame once begun must arrive whole within
//! [`FRAME_TIMEOUT`] — so half-sent frames cannot hold slots for ever.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use haul_protocol::frame::{FrameCodec, FrameError};
use haul_protocol::message::{
    Accepted, Cancelled, ClientKind, ErrorCode, Grab, HelloReply, JobId, OpenRequest, OpenTarget,
    Opened, Reply, Request, StatusLink, StatusLinkRequest, StatusReply, StatusRequest,
};
use haul_protocol::paths::Paths;
use haul_protocol::socket::socket_name;
use haul_protocol::{PROTOCOL_VERSION, VERSION};
use interprocess::local_socket::ListenerOptions;
use interprocess::local_socket::tokio::{Listener, Stream};
use interprocess::local_socket::traits::tokio::Listener as _;
use tokio::sync::{Semaphore, broadcast};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

use crate::jobs::{Engine, EngineError, JobEvent, Submission};
use crate::status::StatusHandle;

/// Time a client has to say `hello`.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 64;

/// Connections one client process may hold at once (a native host or a CLI needs one).
pub const MAX_PER_CLIENT: usize = 16;

/// Time the rest of a frame has to arrive once its first byte has.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// The process at the other end of a connection, where the platform says.
fn peer_pid(stream: &Stream) -> Option<u32> {
    use interprocess::local_socket::traits::StreamCommon as _;
    let pid = stream.peer_creds().ok()?.pid()?;
    u32::try_from(pid).ok()
}

/// Jobs listed in a `status` reply.
const STATUS_JOBS: usize = 50;

/// Binds the daemon's socket (mode 0600 on Unix; a stale socket left by a killed daemon is
/// replaced — the caller holds the daemon lock, so no live daemon owns it).
pub fn bind(paths: &Paths) -> std::io::Result<Listener> {
    let options = ListenerOptions::new()
        .name(socket_name(paths)?)
        .try_overwrite(true);
    #[cfg(unix)]
    let options = {
        use interprocess::os::unix::local_socket::ListenerOptionsExt;
        options.mode(0o600)
    };
    options.create_tokio()
}

/// Serves connections until `shutdown` fires.
pub async fn serve(
    listener: Listener,
    engine: Engine,
    shutdown: CancellationToken,
    status: Option<StatusHandle>,
) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    // Connections per client process, each given back as its connection ends.
    let clients = crate::shares::Shares::new(MAX_PER_CLIENT);
    let status = Arc::new(status);
    let tracker = tokio_util::task::TaskTracker::new();
    let mut backoff = Duration::from_millis(10);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(stream) => {
                    backoff = Duration::from_millis(10);
                    stream
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let pid = peer_pid(&stream);
        let mut framed = Framed::new(stream, FrameCodec::local_socket());
        let client_slot = match pid {
            Some(pid) => clients.take(pid).map(Some),
            None => Some(None),
        };
        let (Some(client_slot), Ok(permit)) = (client_slot, limit.clone().try_acquire_owned())
        else {
            let reply = Reply::error(
                None,
                ErrorCode::BUSY,
                "haul is serving too many connections (of this program, or in all); try again in a moment",
            );
            tracker.spawn(async move {
                let _ = tokio::time::timeout(FRAME_TIMEOUT, framed.send(&reply.encode()[..])).await;
            });
            continue;
        };
        let connection = Connection {
            engine: engine.clone(),
            shutdown: shutdown.clone(),
            status: status.clone(),
            watched: HashSet::new(),
            from_browser: false,
        };
        tracker.spawn(async move {
            connection.run(framed).await;
            drop((permit, client_slot));
        });
    }
    tracker.close();
    tracker.wait().await;
}

struct Connection {
    engine: Engine,
    shutdown: CancellationToken,
    status: Arc<Option<StatusHandle>>,
    /// Jobs submitted on this connection, whose events it streams.
    watched: HashSet<JobId>,
    /// The client is the native host (a browser extension): it may not choose output folders.
    from_browser: bool,
}

type Conn = Framed<Stream, FrameCodec>;

impl Connection {
    async fn run(mut self, mut framed: Conn) {
        // Subscribe before anything is submitted, so no event of our jobs can be missed.
        let mut events = self.engine.subscribe();
        if !self.handshake(&mut framed).await {
            return;
        }
        // Looks, now and then, whether a frame has begun and not ended in FRAME_TIMEOUT.
        let mut tick = tokio::time::interval(FRAME_TIMEOUT / 5);
        let mut partial_since: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                frame = framed.next() => match frame {
                    None => break,
                    Some(Err(e)) => {
                        let _ = send(&mut framed, frame_error_reply(&e)).await;
                        break;
                    }
                    Some(Ok(body)) => {
                        partial_since = None;
                        let (reply, fatal) = match Request::decode(&body) {
                            Ok(request) => (self.handle(request).await, false),
                            // Not even an object with a type (code 1): the stream cannot be
                            // trusted, as docs/protocol.md says.
                            Err(e) => (e.to_reply(), e.code() == ErrorCode::BAD_MESSAGE),
                        };
                        if send(&mut framed, reply).await.is_err() || fatal {
                            break;
                        }
                    }
                },
                _ = tick.tick() => {
                    if framed.read_buffer().is_empty() {
                        partial_since = None;
                    } else if partial_since
                        .get_or_insert_with(tokio::time::Instant::now)
                        .elapsed() >= FRAME_TIMEOUT
                    {
                        let _ = send(&mut framed, Reply::error(None, ErrorCode::BAD_MESSAGE,
                            "a frame began but did not end within 5 seconds")).await;
                        break;
                    }
                }
                event = events.recv(), if !self.watched.is_empty() => {
                    let replies = match event {
                        Ok(event) => self.forward(event),
                        Err(broadcast::error::RecvError::Lagged(_)) => self.catch_up(),
                        Err(broadcast::error::RecvError::Closed) => break,
                    };
                    for reply in replies {
                        if send(&mut framed, reply).await.is_err() {
                            return;
                        }
                    }
                }
                () = self.shutdown.cancelled() => {
                    let _ = send(&mut framed, Reply::error(None, ErrorCode::SHUTTING_DOWN,
                        "haul is shutting down; running jobs continue when it starts again")).await;
                    break;
                }
            }
        }
    }

    /// Waits for `hello` and answers it. `false` ends the connection.
    async fn handshake(&mut self, framed: &mut Conn) -> bool {
        let first = match tokio::time::timeout(HANDSHAKE_TIMEOUT, framed.next()).await {
            Err(_) => {
                let reply = Reply::error(
                    None,
                    ErrorCode::BAD_MESSAGE,
                    "no hello within 5 seconds; a client must start with {\"type\":\"hello\"}",
                );
                let _ = send(framed, reply).await;
                return false;
            }
            Ok(None) => return false,
            Ok(Some(Err(e))) => {
                let _ = send(framed, frame_error_reply(&e)).await;
                return false;
            }
            Ok(Some(Ok(body))) => body,
        };
        let hello = match Request::decode(&first) {
            Ok(Request::Hello(hello)) => hello,
            Ok(other) => {
                let reply = Reply::error(
                    other.id().cloned(),
                    ErrorCode::BAD_MESSAGE,
                    "the first message must be {\"type\":\"hello\"}",
                );
                let _ = send(framed, reply).await;
                return false;
            }
            Err(e) => {
                let _ = send(framed, e.to_reply()).await;
                return false;
            }
        };
        self.from_browser = hello
            .client
            .as_ref()
            .is_none_or(|c| c.kind == ClientKind::NativeHost);
        if let Some(theirs) = hello.protocol
            && theirs != PROTOCOL_VERSION
        {
            let newer = theirs > PROTOCOL_VERSION;
            let message = if newer {
                format!(
                    "this haul daemon ({VERSION}, protocol {PROTOCOL_VERSION}) is older than its client (protocol {theirs}); it is restarting so the new version can start"
                )
            } else {
                format!(
                    "the client speaks protocol {theirs} but this haul daemon ({VERSION}) speaks {PROTOCOL_VERSION}; update the client (reinstall haul)"
                )
            };
            let _ = send(
                framed,
                Reply::error(None, ErrorCode::VERSION_MISMATCH, message),
            )
            .await;
            if newer {
                tracing::warn!(
                    theirs,
                    ours = PROTOCOL_VERSION,
                    "a newer client connected; shutting down for the upgrade"
                );
                self.shutdown.cancel();
            }
            return false;
        }
        send(framed, self.hello_reply()).await.is_ok()
    }

    fn hello_reply(&self) -> Reply {
        Reply::Hello(HelloReply {
            protocol: PROTOCOL_VERSION,
            version: VERSION.to_string(),
            status_url: self.status_url(),
            pid: Some(std::process::id()),
        })
    }

    async fn handle(&mut self, request: Request) -> Reply {
        match request {
            Request::Hello(_) => self.hello_reply(),
            Request::Grab(grab) => self.grab(grab),
            Request::Status(status) => self.status(status),
            Request::StatusLink(request) => self.status_link(request),
            Request::Open(request) => self.open(request).await,
            Request::Cancel(cancel) => {
                if self.engine.cancel(cancel.job) {
                    Reply::Cancelled(Cancelled {
                        id: cancel.id,
                        job: cancel.job,
                    })
                } else {
                    let message = match self.engine.journal().job(cancel.job) {
                        Ok(job) => format!(
                            "job {} is not running (it is {})",
                            cancel.job,
                            job.state.as_str()
                        ),
                        Err(_) => format!("there is no job {}", cancel.job),
                    };
                    Reply::error(cancel.id, ErrorCode::NOT_FOUND, message)
                }
            }
        }
    }

    fn grab(&mut self, grab: Grab) -> Reply {
        let id = grab.id.clone();
        if self.from_browser && grab.options.out_dir.is_some() {
            return Reply::error(
                id,
                ErrorCode::FORBIDDEN,
                "the browser may not choose the output folder; set output_dir in haul's config",
            );
        }
        let submission = match Submission::from_grab(grab) {
            Ok(submission) => submission,
            Err(e) => return Reply::error(id, ErrorCode::INVALID_FIELDS, e.to_string()),
        };
        match self.engine.submit(submission) {
            Ok(job) => {
                self.watched.insert(job);
                Reply::Accepted(Accepted { id, job })
            }
            Err(e) => {
                let code = match e {
                    EngineError::NothingToGrab => ErrorCode::NOTHING_TO_GRAB,
                    EngineError::TooManyMedia => ErrorCode::INVALID_FIELDS,
                    EngineError::ShuttingDown => ErrorCode::SHUTTING_DOWN,
                    _ => ErrorCode::INTERNAL,
                };
                Reply::error(id, code, e.to_string())
            }
        }
    }

    fn status(&self, request: StatusRequest) -> Reply {
        let jobs = match self.engine.journal().list_jobs(STATUS_JOBS, 0) {
            Ok(jobs) => jobs,
            Err(e) => return Reply::error(request.id, ErrorCode::INTERNAL, e.to_string()),
        };
        let jobs = match request.job {
            Some(wanted) => jobs.into_iter().filter(|j| j.job == wanted).collect(),
            None => jobs,
        };
        let paths = self.engine.paths();
        let config = self.engine.config();
        Reply::Status(StatusReply {
            id: request.id,
            version: VERSION.to_string(),
            pid: Some(std::process::id()),
            status_url: self.status_url(),
            output_dir: config.output_dir(paths).display().to_string(),
            inbox_dir: config.inbox_dir(paths).display().to_string(),
            data_dir: paths.data_dir.display().to_string(),
            jobs,
        })
    }

    fn status_url(&self) -> Option<String> {
        self.status.as_ref().as_ref().map(|s| s.url.clone())
    }

    fn status_link(&self, request: StatusLinkRequest) -> Reply {
        match self.status.as_ref() {
            Some(status) => {
                let (url, lifetime) = status.one_time_link();
                Reply::StatusLink(StatusLink {
                    id: request.id,
                    url,
                    expires_in: lifetime.as_secs(),
                })
            }
            None => Reply::error(
                request.id,
                ErrorCode::NOT_FOUND,
                "the status page is not running (daemon.log in haul's log folder says why)",
            ),
        }
    }

    /// `open`: the job's package or its folder, looked up by id (never a path from the client),
    /// opened with the same opener as the status page's buttons.
    async fn open(&self, request: OpenRequest) -> Reply {
        use crate::status::open::{Show, job_target, open};
        let record = match self.engine.journal().job(request.job) {
            Ok(record) => record,
            Err(_) => {
                let message = format!("there is no job {}", request.job);
                return Reply::error(request.id, ErrorCode::NOT_FOUND, message);
            }
        };
        let want = match request.target {
            OpenTarget::File => Show::Open,
            OpenTarget::Folder => Show::Reveal,
        };
        let (path, show) = match job_target(&record, want) {
            Ok(target) => target,
            Err(message) => return Reply::error(request.id, ErrorCode::NOT_FOUND, message),
        };
        match open(self.engine.config(), &path, show).await {
            Ok(_) => Reply::Opened(Opened {
                id: request.id,
                job: request.job,
                path: path.display().to_string(),
            }),
            Err(e) => Reply::error(request.id, ErrorCode::INTERNAL, e.to_string()),
        }
    }

    fn forward(&mut self, event: JobEvent) -> Vec<Reply> {
        if !self.watched.contains(&event.job()) {
            return Vec::new();
        }
        match event {
            JobEvent::Progress(p) => vec![Reply::Progress(p)],
            JobEvent::Finished(f) => {
                self.watched.remove(&f.job);
                vec![Reply::Finished(f)]
            }
            // A watched job has not ended, so it has no package to lose.
            JobEvent::PackageChanged { .. } => Vec::new(),
        }
    }

    /// After missing events: send `finished` for every watched job that ended meanwhile.
    fn catch_up(&mut self) -> Vec<Reply> {
        let journal = self.engine.journal();
        let ended: Vec<_> = self
            .watched
            .iter()
            .filter_map(|&id| {
                let job = journal.job(id).ok()?;
                if !job.state.is_terminal() {
                    return None;
                }
                let items = journal.items(id).ok()?;
                Some(crate::jobs::finished_of(&job, &items))
            })
            .collect();
        ended
            .into_iter()
            .map(|f| {
                self.watched.remove(&f.job);
                Reply::Finished(f)
            })
            .collect()
    }
}

async fn send(framed: &mut Conn, reply: Reply) -> Result<(), FrameError> {
    framed.send(&reply.encode()[..]).await
}

fn frame_error_reply(e: &FrameError) -> Reply {
    let code = match e {
        FrameError::TooLarge { .. } => ErrorCode::TOO_LARGE,
        _ => ErrorCode::BAD_MESSAGE,
    };
    Reply::error(None, code, format!("{e}; closing the connection"))
}
