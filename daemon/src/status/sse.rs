//! `GET /api/v1/events`: a server-sent event stream of what jobs do, for the page (and any
//! script). Events, each a JSON `data:` line:
//!
//! - `hello` first: `{version, started}` — `started` changes when the daemon restarts, so a
//!   client that reconnects knows to reload everything;
//! - `progress`: a job's counts (files done/total, failures, bytes) and, when it is about one
//!   item, that item's state, bytes and failure reason (with a plain-words explanation);
//! - `finished`: a job ended (`complete`, `partial`, `failed`, `cancelled`), with its package;
//! - `jobs`: a job was created, retried or deleted through the API, or its package was removed
//!   from the output folder (by the user, or by `retention_days`);
//! - `resync`: this client fell behind and missed events — reload the job list.
//!
//! Each client holds one receiver of the engine's broadcast channel (a fixed ring shared by
//! all), so a slow client costs no memory: when it falls behind, it gets `resync` instead of a
//! backlog. At most [`super::MAX_EVENT_STREAMS`] streams are open; one more is answered `503
//! busy` (and closed). Every stream ends when the daemon shuts down.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use haul_protocol::message::{Finished, ItemState, JobId, JobState, Progress};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;

use super::api::{ItemStateDoc, JobStateDoc};
use super::error::{ApiError, ErrorBody};
use super::{AppState, JobsChanged};
use crate::failure::FailureKind;
use crate::jobs::JobEvent;

/// How often a quiet stream sends a comment, so proxies and browsers keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The `hello` event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HelloEvent {
    pub version: String,
    /// When this daemon started (seconds since the epoch); changes on restart.
    pub started: i64,
}

/// The `progress` event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressEvent {
    pub job: JobId,
    /// Items that ended (saved or failed).
    pub done: u64,
    /// Items in the job (0 until the page has been read).
    pub total: u64,
    pub failed: u64,
    /// Bytes received so far.
    pub bytes: u64,
    pub bytes_total: Option<u64>,
    pub item: Option<ItemEvent>,
}

/// One item in a `progress` event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemEvent {
    pub index: u32,
    pub url: String,
    #[schema(value_type = ItemStateDoc)]
    pub state: ItemState,
    pub bytes: u64,
    pub size: Option<u64>,
    pub error: Option<String>,
    #[schema(value_type = Option<super::api::FailureKindDoc>)]
    pub error_kind: Option<FailureKind>,
    /// What happened and what to do, in plain words (one per kind).
    pub explanation: Option<String>,
}

/// The `finished` event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FinishedEvent {
    pub job: JobId,
    #[schema(value_type = JobStateDoc)]
    pub status: JobState,
    pub output: Option<String>,
    pub saved: u64,
    pub failed: u64,
    pub total: u64,
}

/// The `resync` event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResyncEvent {
    /// Events this client missed.
    pub missed: u64,
}

impl From<Progress> for ProgressEvent {
    fn from(p: Progress) -> ProgressEvent {
        ProgressEvent {
            job: p.job,
            done: p.done,
            total: p.total,
            failed: p.failed,
            bytes: p.bytes,
            bytes_total: p.bytes_total,
            item: p.item.map(|i| ItemEvent {
                explanation: super::api::explanation(i.error.as_deref(), i.error_kind),
                error_kind: i.error_kind,
                index: i.index,
                url: i.url,
                state: i.state,
                bytes: i.bytes,
                size: i.size,
                error: i.error,
            }),
        }
    }
}

impl From<Finished> for FinishedEvent {
    fn from(f: Finished) -> FinishedEvent {
        FinishedEvent {
            job: f.job,
            status: f.status,
            output: f.output,
            saved: f.saved,
            failed: f.failed,
            total: f.total,
        }
    }
}

fn event(name: &str, data: &impl Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event(name).data("{}"))
}

/// The event stream.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    responses((status = 200, content_type = "text/event-stream",
            description = "Server-sent events `hello` (HelloEvent), `progress` (ProgressEvent), `finished` (FinishedEvent), `jobs` (JobsChanged) and `resync` (ResyncEvent), each with a JSON `data` line",
            body = String),
        (status = 503, body = ErrorBody, description = "Too many event streams are open")))]
pub async fn events(
    State(state): State<AppState>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let permit = state
        .event_streams()
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                format!(
                    "{} event streams are open already; close some status pages",
                    super::MAX_EVENT_STREAMS
                ),
            )
            .closing()
        })?;
    // Subscribe before the hello goes out, so nothing that happens after it can be missed.
    let jobs = state.engine().subscribe();
    let changes = state.subscribe_changes();
    let started = crate::journal::now_ms() / 1000 - state.uptime().as_secs() as i64;
    let hello = event(
        "hello",
        &HelloEvent {
            version: haul_protocol::VERSION.into(),
            started,
        },
    )
    .retry(Duration::from_secs(2));
    let shutdown = state.shutdown().clone();

    struct Client {
        jobs: tokio::sync::broadcast::Receiver<JobEvent>,
        changes: tokio::sync::broadcast::Receiver<JobsChanged>,
        shutdown: tokio_util::sync::CancellationToken,
        hello: Option<Event>,
        _permit: tokio::sync::OwnedSemaphorePermit,
    }
    let client = Client {
        jobs,
        changes,
        shutdown,
        hello: Some(hello),
        _permit: permit,
    };
    let stream = futures_util::stream::unfold(client, |mut c| async move {
        if let Some(hello) = c.hello.take() {
            return Some((Ok(hello), c));
        }
        let next = tokio::select! {
            received = c.jobs.recv() => match received {
                Ok(JobEvent::Progress(p)) => event("progress", &ProgressEvent::from(p)),
                Ok(JobEvent::Finished(f)) => event("finished", &FinishedEvent::from(f)),
                Ok(JobEvent::PackageChanged { job, present }) => event("jobs", &JobsChanged {
                    job,
                    change: if present { "returned" } else { "removed" }.into(),
                }),
                Err(RecvError::Lagged(missed)) => event("resync", &ResyncEvent { missed }),
                Err(RecvError::Closed) => return None,
            },
            received = c.changes.recv() => match received {
                Ok(change) => event("jobs", &change),
                Err(RecvError::Lagged(missed)) => event("resync", &ResyncEvent { missed }),
                Err(RecvError::Closed) => return None,
            },
            () = c.shutdown.cancelled() => return None,
        };
        Some((Ok(next), c))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
