//! Downloading media: streaming straight to a partial file, resuming it, retrying what is worth
//! retrying, and refusing what is not media.
//!
//! One download goes:
//!
//! 1. wait for a slot for the host, then a global slot (the per-host cap keeps us polite to one
//!    CDN; the global cap bounds sockets, memory and disk traffic);
//! 2. check the URL against the address policy, then `GET` — with `Range: bytes=N-` and
//!    `If-Range: <validator>` when `N` bytes are already on disk from an earlier attempt or an
//!    earlier run;
//! 3. judge the status: 206 appends, 200 starts over (the server ignored the range or the file
//!    changed), 416 with our length means it was already complete; 408/429/5xx are retried after
//!    the `Retry-After` or a backoff; other statuses are final;
//! 4. stream the body to the partial file, checking the first bytes' magic number (an HTML error
//!    page served as `image/jpeg` stops here) and the per-file and per-job size limits as bytes
//!    arrive;
//! 5. a cut connection or a short body keeps what arrived and goes back to 1 (a retry);
//!    when the attempts run out the item fails with the last reason.
//!
//! The caller (the job runner) owns the partial file's path and records the validator in the
//! journal through [`Observer`], so a restarted daemon resumes where the killed one stopped.

pub mod client;
pub mod guard;
pub mod hls;
pub mod page;
pub mod playlist;
pub mod retry;
pub mod warm;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::Config;
use crate::failure::{Failed, FailureKind};
use crate::format::{Format, SNIFF_LEN, describe_non_media};
use crate::held::{Held, MemoryBudget, Room};
use crate::media::MediaKind;
use client::RedirectRefused;
use guard::{AddressPolicy, Refused};
use retry::Backoff;

/// Why a download failed.
#[derive(Debug, Error)]
pub enum FetchError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("{url:?} is not a valid URL: {reason}")]
    BadUrl { url: String, reason: String },
    /// The host name does not resolve: a verdict, not retried.
    #[error("could not connect: {0}")]
    NotResolved(String),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("the request failed: {0}")]
    Request(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("the server answered {status}")]
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
    #[error("the connection broke after {received} bytes: {detail}")]
    Interrupted { received: u64, detail: String },
    #[error("the server sent {received} of the {expected} bytes it announced")]
    Truncated { received: u64, expected: u64 },
    #[error("the server sent a range that does not continue the partial file ({0})")]
    BadRange(String),
    #[error("{0}")]
    Redirect(String),
    #[error("the file is larger than the {limit}-byte limit (max_file_bytes in the config)")]
    FileTooLarge { limit: u64 },
    #[error("the job passed its {limit}-byte limit (max_job_bytes in the config)")]
    JobTooLarge { limit: u64 },
    #[error("the server sent {what} instead of an image or video{}", content_type.as_ref().map(|t| format!(" (labelled {t})")).unwrap_or_default())]
    NotMedia {
        what: &'static str,
        content_type: Option<String>,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        attempts: u32,
        last: Box<FetchError>,
    },
    #[error(transparent)]
    Hls(#[from] playlist::PlaylistError),
    #[error(transparent)]
    PageNotServed(#[from] page::NotServed),
    /// The response is an HLS playlist: [`Fetcher::download`] fetches its stream instead.
    #[error("the server sent an HLS playlist")]
    IsPlaylist,
    /// A redirect from https to plain http (`allow_https_downgrade` is off).
    #[error("{0}")]
    InsecureRedirect(String),
    /// Fewer bytes came than `min_rate_bytes_per_sec` asks over its window (a server that
    /// drips the file, holding a download slot).
    #[error(
        "the server sent {received} bytes in {secs} s, slower than the minimum of {rate} bytes a second (min_rate_bytes_per_sec in the config)"
    )]
    TooSlow { received: u64, secs: u64, rate: u64 },
    /// The file took longer than `item_deadline_secs`, retries included.
    #[error("the file took longer than {secs} s to download (item_deadline_secs in the config)")]
    Deadline { secs: u64 },
    #[error("cancelled")]
    Cancelled,
}

impl FetchError {
    /// What kind of failure it is.
    pub fn kind(&self) -> FailureKind {
        match self {
            FetchError::Refused(refused) => refused.kind(),
            FetchError::BadUrl { .. } => FailureKind::NotWebAddress,
            FetchError::NotResolved(_) => FailureKind::NameNotResolved,
            FetchError::Connect(_) | FetchError::Request(_) => FailureKind::Unreachable,
            FetchError::Timeout(_) => FailureKind::Timeout,
            FetchError::Status { status, .. } => match status.as_u16() {
                404 | 410 => FailureKind::NotFound,
                401 | 403 => FailureKind::Forbidden,
                429 => FailureKind::RateLimited,
                500..=599 => FailureKind::ServerError,
                _ => FailureKind::HttpError,
            },
            FetchError::Interrupted { .. }
            | FetchError::Truncated { .. }
            | FetchError::BadRange(_) => FailureKind::Interrupted,
            FetchError::Redirect(_) => FailureKind::Redirects,
            FetchError::InsecureRedirect(_) => FailureKind::InsecureRedirect,
            FetchError::TooSlow { .. } => FailureKind::TooSlow,
            FetchError::Deadline { .. } => FailureKind::Deadline,
            FetchError::FileTooLarge { .. } => FailureKind::TooLarge,
            FetchError::JobTooLarge { .. } => FailureKind::JobTooLarge,
            FetchError::NotMedia { .. } | FetchError::IsPlaylist => FailureKind::NotMedia,
            FetchError::Write { source, .. } => crate::failure::of_write(source),
            FetchError::GaveUp { last, .. } => last.kind(),
            FetchError::Hls(_) => FailureKind::Unsupported,
            FetchError::PageNotServed(_) => FailureKind::PageWalled,
            FetchError::Cancelled => FailureKind::Cancelled,
        }
    }

    /// The failure to journal.
    pub fn failed(&self) -> Failed {
        Failed::new(self.kind(), self.to_string())
    }

    /// Worth another attempt? Never for a verdict: a name that does not resolve, a 404, a web
    /// page instead of media.
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Connect(_)
            | FetchError::Request(_)
            | FetchError::Timeout(_)
            | FetchError::Interrupted { .. }
            | FetchError::Truncated { .. }
            | FetchError::BadRange(_) => true,
            FetchError::Status { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS
                    || *status == StatusCode::REQUEST_TIMEOUT
                    || (status.is_server_error()
                        && *status != StatusCode::NOT_IMPLEMENTED
                        && *status != StatusCode::HTTP_VERSION_NOT_SUPPORTED)
            }
            _ => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Hears about a download's progress (the job runner journals and reports it).
pub trait Observer: Send + Sync {
    /// A response is streaming: its full size when known, its validator, the URL after redirects.
    fn started(&self, size: Option<u64>, validator: Option<&str>, final_url: &str);
    /// `received` bytes of the file are in (on disk or held in memory, including resumed ones).
    fn progress(&self, received: u64);
}

/// Bytes a job may still download (`max_job_bytes`), shared by its items.
#[derive(Debug)]
pub struct ByteBudget {
    used: AtomicU64,
    limit: u64,
}

impl ByteBudget {
    pub fn new(limit: u64, already_used: u64) -> ByteBudget {
        ByteBudget {
            used: AtomicU64::new(already_used),
            limit,
        }
    }

    fn take(&self, n: u64) -> Result<(), FetchError> {
        let before = self.used.fetch_add(n, Ordering::Relaxed);
        if before.saturating_add(n) > self.limit {
            return Err(FetchError::JobTooLarge { limit: self.limit });
        }
        Ok(())
    }
}

/// One file to download.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    /// The partial file: appended to when it exists (resume), created otherwise.
    pub part: PathBuf,
    /// The validator an earlier run saw, for `If-Range`.
    pub validator: Option<String>,
    /// The size an earlier run saw.
    pub size: Option<u64>,
    /// What the plan says the file is: a video downloads on a connection of its own
    /// ([`Fetcher`]'s `video_client`).
    pub kind: MediaKind,
}

/// A finished download. The file is always whole on disk at the target's `part`.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub size: u64,
    pub format: Format,
    pub final_url: String,
    /// The same file in memory, when it was received in one piece within the engine's memory
    /// budget ([`crate::held`]): cleaned and packaged from here, never read back.
    pub body: Option<Held>,
    /// The file's SHA-256, when it was hashed as it arrived: a video (stored as downloaded)
    /// received whole in one attempt. Its stored form is then measured without reading it back.
    pub sha256: Option<[u8; 32]>,
}

/// The attempts at one file: how many retries so far, and when its deadline
/// (`item_deadline_secs`) passes — counted from the first attempt holding a download slot, so
/// time spent queued behind other downloads does not count.
pub(crate) struct Attempts {
    tries: u32,
    limit: Option<Duration>,
    deadline: Option<tokio::time::Instant>,
}

impl Attempts {
    fn new(limit: Option<Duration>) -> Attempts {
        Attempts {
            tries: 0,
            limit,
            deadline: None,
        }
    }

    /// The deadline, starting the clock at the first call.
    fn deadline(&mut self) -> Option<tokio::time::Instant> {
        if self.deadline.is_none() {
            self.deadline = self.limit.map(|l| tokio::time::Instant::now() + l);
        }
        self.deadline
    }

    /// The next piece of a stream: its own retries, the same deadline.
    pub(crate) fn next_piece(&mut self) {
        self.tries = 0;
    }

    fn passed(&self) -> FetchError {
        FetchError::Deadline {
            secs: self.limit.map_or(0, |l| l.as_secs()),
        }
    }
}

/// The downloader of one configuration: clients, address policy, limits.
pub struct Fetcher {
    /// Pictures and pages: every download to a host shares its connection (HTTP/2 streams).
    client: reqwest::Client,
    /// Videos, with a pool of their own: a video downloads on a second connection to its host
    /// instead of sharing the pictures'. One TCP connection carries at most a window per round
    /// trip; W1 (twelve pictures and a 20 MB video on one host, 40 ms away) moved all 25.8 MB at
    /// one connection's rate, where a product page whose video is on another host (the click)
    /// moves both at once. Two connections per host at most: still fewer than a browser opens.
    video_client: reqwest::Client,
    policy: AddressPolicy,
    backoff: Backoff,
    retries: u32,
    /// `min_rate_bytes_per_sec` and its window.
    min_rate: Option<(u64, Duration)>,
    item_deadline: Option<Duration>,
    max_file_bytes: u64,
    /// Files held in memory between the download and the package.
    memory: MemoryBudget,
    global: Arc<Semaphore>,
    per_host_limit: usize,
    per_host: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// When each host was last used (a download's slot taken or given back, a warm-up): a host
    /// used within the pool's idle time may still have a connection there.
    used: Mutex<HashMap<String, Instant>>,
}

impl Fetcher {
    pub fn new(config: &Config) -> Result<Fetcher, client::ClientError> {
        let policy = AddressPolicy::new(
            config.allow_private_networks,
            &config.resolve,
            &config.connect_to,
        );
        Ok(Fetcher {
            // Connections opened ahead of their first download ([`warm`]) are kept in the
            // client's connector.
            client: client::build(config, &policy, &warm::Warm::default())?,
            // Never warmed: a warm-up opens the pictures' connection.
            video_client: client::build(config, &policy, &warm::Warm::default())?,
            policy,
            backoff: Backoff::new(
                Duration::from_millis(config.retry_base_ms),
                Duration::from_millis(config.retry_max_ms),
            ),
            retries: config.retries,
            min_rate: config.min_rate(),
            item_deadline: config.item_deadline(),
            max_file_bytes: config.max_file_bytes,
            memory: MemoryBudget::new(crate::held::DEFAULT_BUDGET),
            global: Arc::new(Semaphore::new(config.max_downloads)),
            per_host_limit: config.max_downloads_per_host,
            per_host: Mutex::new(HashMap::new()),
            used: Mutex::new(HashMap::new()),
        })
    }

    /// Opens the connection to `origin`'s host now, so that its first download finds it open
    /// ([`warm`]) — unless the address policy refuses the URL, or the host was used within the
    /// pool's idle time (its connection may be in the pool, where the warm-up's request would be
    /// sent). Returns at once; a warm-up that fails is silent (the download connects as always).
    pub fn warm_up(&self, origin: &Url) {
        let Some(host) = origin.host_str().map(str::to_ascii_lowercase) else {
            return;
        };
        if self.policy.check_url(origin).is_err() || !self.touch(&host) {
            return;
        }
        tracing::debug!(%host, "opening the connection ahead of the first download");
        // HTTP/2 only: should the pool hold an HTTP/1.1 connection after all, the client refuses
        // the request instead of sending it.
        let request = self
            .client
            .head(origin.clone())
            .version(reqwest::Version::HTTP_2)
            .send();
        tokio::spawn(warm::warming(async move {
            let _ = request.await;
        }));
    }

    /// The client a file of `kind` downloads with ([`Fetcher`]'s `video_client`).
    fn client_for(&self, kind: MediaKind) -> &reqwest::Client {
        match kind {
            MediaKind::Video => &self.video_client,
            MediaKind::Image => &self.client,
        }
    }

    /// Records a use of `host`; whether it had been unused for longer than the pool keeps an idle
    /// connection.
    fn touch(&self, host: &str) -> bool {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        used.retain(|_, at| now.duration_since(*at) < client::POOL_IDLE * 2);
        used.insert(host.to_string(), now)
            .is_none_or(|at| now.duration_since(at) > client::POOL_IDLE + Duration::from_secs(5))
    }

    /// Downloads `target`, retrying and resuming as needed. An HLS playlist (a `.m3u8` address,
    /// or a response that turns out to be one) is downloaded as its joined stream ([`hls`]).
    pub async fn download(
        &self,
        target: &Target,
        observer: &dyn Observer,
        budget: &ByteBudget,
        cancel: &CancellationToken,
    ) -> Result<Fetched, FetchError> {
        let url = Url::parse(&target.url).map_err(|e| FetchError::BadUrl {
            url: target.url.clone(),
            reason: e.to_string(),
        })?;
        self.policy.check_url(&url)?;
        if hls::is_playlist_url(&url) {
            return self
                .download_hls(&url, target, observer, budget, cancel)
                .await;
        }
        let mut state = Resume {
            validator: target.validator.clone(),
            size: target.size,
        };
        let mut tries = self.attempts();
        let plain = loop {
            let attempt = self.attempt(&url, target, &mut state, observer, budget);
            let result = self.in_slot(&url, cancel, &mut tries, attempt).await;
            if let Some(done) = self
                .settle(&mut tries, &url, result, cancel)
                .await
                .transpose()
            {
                break done;
            }
        };
        match plain {
            Err(FetchError::IsPlaylist) => {
                truncate(&target.part)
                    .await
                    .map_err(|source| FetchError::Write {
                        path: target.part.clone(),
                        source,
                    })?;
                self.download_hls(&url, target, observer, budget, cancel)
                    .await
            }
            other => other,
        }
    }

    /// The attempts at one file, with this configuration's deadline.
    pub(crate) fn attempts(&self) -> Attempts {
        Attempts::new(self.item_deadline)
    }

    /// Runs one attempt at `url` holding a slot for its host and a global one, unless `cancel`
    /// fires or the file's deadline passes first.
    async fn in_slot<T>(
        &self,
        url: &Url,
        cancel: &CancellationToken,
        tries: &mut Attempts,
        attempt: impl Future<Output = Result<T, FetchError>>,
    ) -> Result<T, FetchError> {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let _slots = tokio::select! {
            slots = self.slots(&host) => slots.ok_or(FetchError::Cancelled)?,
            () = cancel.cancelled() => return Err(FetchError::Cancelled),
        };
        self.touch(&host);
        let deadline = tries.deadline();
        let passed = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            r = attempt => r,
            () = passed => Err(tries.passed()),
            () = cancel.cancelled() => Err(FetchError::Cancelled),
        };
        self.touch(&host);
        result
    }

    /// Judges an attempt: its value (`Some`), a final error, or — for a retryable failure with
    /// attempts left — `None` after the backoff, to try again. `tries` counts the retries.
    async fn settle<T>(
        &self,
        attempts: &mut Attempts,
        url: &Url,
        result: Result<T, FetchError>,
        cancel: &CancellationToken,
    ) -> Result<Option<T>, FetchError> {
        let tries = attempts.tries;
        match result {
            Ok(value) => Ok(Some(value)),
            Err(e) if !e.is_retryable() => Err(e),
            Err(e) if tries >= self.retries => Err(if tries == 0 {
                e
            } else {
                FetchError::GaveUp {
                    attempts: tries + 1,
                    last: Box::new(e),
                }
            }),
            Err(e) => {
                let wait = self.backoff.delay(tries, e.retry_after());
                // A wait that would end past the deadline (a huge `Retry-After`) is not waited.
                if let Some(at) = attempts.deadline()
                    && tokio::time::Instant::now() + wait > at
                {
                    return Err(FetchError::GaveUp {
                        attempts: tries + 1,
                        last: Box::new(attempts.passed()),
                    });
                }
                tracing::debug!(%url, attempt = tries, ?wait, error = %e, "retrying");
                attempts.tries += 1;
                tokio::select! {
                    () = tokio::time::sleep(wait) => Ok(None),
                    () = cancel.cancelled() => Err(FetchError::Cancelled),
                }
            }
        }
    }

    /// A slot for `host` and a global one (`None` only if the semaphores were closed, which
    /// never happens).
    async fn slots(&self, host: &str) -> Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)> {
        let host_slots = {
            let mut map = self.per_host.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(host.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host_limit)))
                .clone()
        };
        // Host first, then global: every download takes them in this order, so none can hold a
        // global slot while waiting for a host slot another one holds.
        let host_permit = host_slots.acquire_owned().await.ok()?;
        let global_permit = self.global.clone().acquire_owned().await.ok()?;
        Some((host_permit, global_permit))
    }

    /// One request: resume or start, stream to the partial file.
    async fn attempt(
        &self,
        url: &Url,
        target: &Target,
        state: &mut Resume,
        observer: &dyn Observer,
        budget: &ByteBudget,
    ) -> Result<Fetched, FetchError> {
        let write_err = |source| FetchError::Write {
            path: target.part.clone(),
            source,
        };
        let have = match tokio::fs::metadata(&target.part).await {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(write_err(e)),
        };
        if have > 0 && state.size == Some(have) {
            // Complete from an earlier run that stopped before recording it.
            let format = sniff_file(&target.part).await?;
            return Ok(Fetched {
                size: have,
                format,
                final_url: target.url.clone(),
                body: None,
                sha256: None,
            });
        }

        let mut request = self.client_for(target.kind).get(url.clone());
        if have > 0 {
            request = request.header(header::RANGE, format!("bytes={have}-"));
            if let Some(v) = &state.validator {
                request = request.header(header::IF_RANGE, v);
            }
        }
        // Headers must come within the rate's window: a server dripping them holds a slot too.
        let mut response = match self.min_rate {
            Some((_, window)) => tokio::time::timeout(window, request.send())
                .await
                .map_err(|_| FetchError::Timeout("waiting for the response headers".into()))?,
            None => request.send().await,
        }
        .map_err(classify)?;
        let status = response.status();
        let final_url = response.url().to_string();
        let headers = response.headers().clone();

        let (offset, total) = match status {
            StatusCode::PARTIAL_CONTENT if have > 0 => {
                let range = content_range(&headers)
                    .ok_or_else(|| FetchError::BadRange("no Content-Range".into()))?;
                if range.start != have {
                    truncate(&target.part).await.map_err(write_err)?;
                    return Err(FetchError::BadRange(format!(
                        "starts at {} instead of {have}",
                        range.start
                    )));
                }
                (have, range.total)
            }
            StatusCode::RANGE_NOT_SATISFIABLE if have > 0 => {
                let total = content_range(&headers).and_then(|r| r.total);
                if total == Some(have) {
                    let format = sniff_file(&target.part).await?;
                    return Ok(Fetched {
                        size: have,
                        format,
                        final_url,
                        body: None,
                        sha256: None,
                    });
                }
                truncate(&target.part).await.map_err(write_err)?;
                return Err(FetchError::BadRange(format!(
                    "416 for a partial file of {have} bytes"
                )));
            }
            s if s.is_success() && s != StatusCode::PARTIAL_CONTENT => {
                (0, response.content_length())
            }
            s if s.is_success() => {
                // 206 to a request without Range: take it only if it is the whole file.
                match content_range(&headers) {
                    Some(r) if r.start == 0 => (0, r.total),
                    _ => return Err(FetchError::BadRange("unrequested partial content".into())),
                }
            }
            s => return Err(status_error(s, &headers)),
        };
        if let Some(total) = total
            && total > self.max_file_bytes
        {
            return Err(FetchError::FileTooLarge {
                limit: self.max_file_bytes,
            });
        }
        let validator = validator(&headers);
        if validator.is_some() {
            state.validator = validator.clone();
        }
        state.size = total;
        observer.started(total, state.validator.as_deref(), &final_url);

        // A fresh file of known, small size is received in memory and written in one piece;
        // anything else streams to the partial file.
        let room = match (offset, total) {
            (0, Some(total)) => self.memory.try_take(total),
            _ => None,
        };
        let mut sink = match room {
            Some(room) => Sink::Memory(Vec::with_capacity(total.unwrap_or(0) as usize), room),
            None => {
                let file = if offset > 0 {
                    tokio::fs::OpenOptions::new()
                        .append(true)
                        .open(&target.part)
                        .await
                } else {
                    tokio::fs::File::create(&target.part).await
                }
                .map_err(write_err)?;
                Sink::File(BufWriter::with_capacity(256 * 1024, file))
            }
        };
        let received = match self
            .receive(
                &mut response,
                &mut sink,
                target,
                offset,
                total,
                &headers,
                observer,
                budget,
            )
            .await
        {
            Ok(received) => received,
            Err(e) => {
                // What arrived stays on disk, so the next attempt resumes after it.
                sink.keep(&target.part).await.map_err(write_err)?;
                return Err(e);
            }
        };
        let (format, body) = match sink {
            Sink::Memory(data, room) => {
                let data = bytes::Bytes::from(data);
                let format = check_media(&data[..data.len().min(SNIFF_LEN)], &None)?;
                let on_disk = data.clone();
                let part = target.part.clone();
                tokio::task::spawn_blocking(move || std::fs::write(&part, &on_disk))
                    .await
                    .map_err(|e| write_err(std::io::Error::other(e)))?
                    .map_err(write_err)?;
                (format, Some(Held::new(data, room)))
            }
            Sink::File(mut out) => {
                out.flush().await.map_err(write_err)?;
                let format = match received.format {
                    Some(format) => format,
                    // Resumed: the head was checked by an earlier attempt, or run.
                    None => sniff_file(&target.part).await?,
                };
                (format, None)
            }
        };
        Ok(Fetched {
            size: received.size,
            format,
            final_url,
            body,
            sha256: received.sha256,
        })
    }

    /// Streams the response's body into `sink` from `offset`, checking the magic number, the
    /// limits and the rate as bytes arrive, and hashing a fresh video as it arrives.
    #[allow(clippy::too_many_arguments)]
    async fn receive(
        &self,
        response: &mut reqwest::Response,
        sink: &mut Sink,
        target: &Target,
        offset: u64,
        total: Option<u64>,
        headers: &HeaderMap,
        observer: &dyn Observer,
        budget: &ByteBudget,
    ) -> Result<Received, FetchError> {
        let mut received = offset;
        let mut format = None;
        let mut hasher: Option<Sha256> = None;
        // The magic number is checked on the first bytes of a fresh download, before the rest
        // of a possibly large error page is written.
        let mut head: Option<Vec<u8>> = (offset == 0).then(Vec::new);
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut rate = self
            .min_rate
            .map(|(rate, window)| RateCheck::new(rate, window));
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => return Err(body_error(e, received)),
            };
            if let Some(h) = head.as_mut() {
                // What the earlier chunks brought: all of it is in the head so far.
                let before = h.len();
                let wanted = SNIFF_LEN.saturating_sub(h.len());
                h.extend_from_slice(&chunk[..chunk.len().min(wanted)]);
                if h.len() >= SNIFF_LEN {
                    let detected = check_media(h, &content_type)?;
                    if detected.kind() == MediaKind::Video {
                        // A video's partial file is what a restart resumes: on disk from here.
                        sink.spill(&target.part)
                            .await
                            .map_err(|source| FetchError::Write {
                                path: target.part.clone(),
                                source,
                            })?;
                        // It is stored as downloaded: hashed now, while it arrives, instead of
                        // read back once whole.
                        let mut digest = Sha256::new();
                        digest.update(&h[..before]);
                        hasher = Some(digest);
                    }
                    format = Some(detected);
                    head = None;
                }
            }
            let n = chunk.len() as u64;
            if received + n > self.max_file_bytes {
                return Err(FetchError::FileTooLarge {
                    limit: self.max_file_bytes,
                });
            }
            budget.take(n)?;
            sink.write(&chunk)
                .await
                .map_err(|source| FetchError::Write {
                    path: target.part.clone(),
                    source,
                })?;
            if let Some(digest) = hasher.as_mut() {
                digest.update(&chunk);
            }
            received += n;
            observer.progress(received);
            if let Some(rate) = rate.as_mut() {
                rate.check(n)?;
            }
        }
        if let Some(h) = head {
            format = Some(check_media(&h, &content_type)?);
        }
        if let Some(total) = total
            && received != total
        {
            return Err(FetchError::Truncated {
                received,
                expected: total,
            });
        }
        Ok(Received {
            size: received,
            format,
            sha256: hasher.map(|digest| digest.finalize().into()),
        })
    }
}

/// What [`Fetcher::receive`] learned about the file it completed.
struct Received {
    /// The file's size.
    size: u64,
    /// Its format, from its first bytes when this attempt received them.
    format: Option<Format>,
    /// Its SHA-256, when this attempt received it whole and hashed it ([`Fetched::sha256`]).
    sha256: Option<[u8; 32]>,
}

/// Where a response's body goes: the partial file, or memory (written to the partial file
/// once whole).
enum Sink {
    File(BufWriter<tokio::fs::File>),
    Memory(Vec<u8>, Room),
}

impl Sink {
    async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::File(out) => out.write_all(chunk).await,
            Sink::Memory(data, _) => {
                data.extend_from_slice(chunk);
                Ok(())
            }
        }
    }

    /// Streams to the partial file at `part` from here on, with what is in memory so far.
    async fn spill(&mut self, part: &Path) -> std::io::Result<()> {
        if let Sink::Memory(data, _) = self {
            let mut out =
                BufWriter::with_capacity(256 * 1024, tokio::fs::File::create(part).await?);
            out.write_all(data).await?;
            *self = Sink::File(out);
        }
        Ok(())
    }

    /// Puts what was received on disk at `part`, after a failed attempt (replacing what an
    /// earlier attempt left there, as a fresh download does).
    async fn keep(&mut self, part: &Path) -> std::io::Result<()> {
        match self {
            Sink::File(out) => out.flush().await,
            Sink::Memory(data, _) => tokio::fs::write(part, std::mem::take(data)).await,
        }
    }
}

/// The minimum transfer rate, measured over consecutive windows of a response's body.
struct RateCheck {
    rate: u64,
    window: Duration,
    since: tokio::time::Instant,
    bytes: u64,
}

impl RateCheck {
    fn new(rate: u64, window: Duration) -> RateCheck {
        RateCheck {
            rate,
            window,
            since: tokio::time::Instant::now(),
            bytes: 0,
        }
    }

    /// Counts `n` more bytes; at the end of each window, fails when too few came in it.
    fn check(&mut self, n: u64) -> Result<(), FetchError> {
        self.bytes += n;
        let elapsed = self.since.elapsed();
        if elapsed < self.window {
            return Ok(());
        }
        let wanted = (self.rate as f64 * elapsed.as_secs_f64()) as u64;
        if self.bytes < wanted {
            return Err(FetchError::TooSlow {
                received: self.bytes,
                secs: elapsed.as_secs(),
                rate: self.rate,
            });
        }
        self.since = tokio::time::Instant::now();
        self.bytes = 0;
        Ok(())
    }
}

/// A whole response body held in memory (a playlist, a page), or `None` when it is longer than
/// `max` bytes — stopped as soon as it passes the limit, so a hostile server cannot fill memory.
async fn read_body(
    response: &mut reqwest::Response,
    max: usize,
) -> Result<Option<Vec<u8>>, FetchError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| body_error(e, body.len() as u64))?
    {
        if body.len() + chunk.len() > max {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// A response body that broke off after `received` bytes of the file.
fn body_error(e: reqwest::Error, received: u64) -> FetchError {
    match classify(e) {
        FetchError::Timeout(detail) => FetchError::Timeout(detail),
        other => FetchError::Interrupted {
            received,
            detail: other.to_string(),
        },
    }
}

/// A failed status, with the server's `Retry-After` when it sent one.
fn status_error(status: StatusCode, headers: &HeaderMap) -> FetchError {
    let retry_after = headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
    FetchError::Status {
        status,
        retry_after,
    }
}

/// What the previous attempts learned about the file.
struct Resume {
    validator: Option<String>,
    size: Option<u64>,
}

fn check_media(head: &[u8], content_type: &Option<String>) -> Result<Format, FetchError> {
    if playlist::is_playlist(head) {
        return Err(FetchError::IsPlaylist);
    }
    Format::detect(head).ok_or_else(|| FetchError::NotMedia {
        what: describe_non_media(head),
        content_type: content_type.clone(),
    })
}

/// The format of a file on disk, or `NotMedia` saying what it looks like instead.
pub(crate) async fn sniff_file(path: &Path) -> Result<Format, FetchError> {
    let write_err = |source| FetchError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = tokio::fs::File::open(path).await.map_err(write_err)?;
    let mut head = Vec::with_capacity(SNIFF_LEN);
    (&mut file)
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut head)
        .await
        .map_err(write_err)?;
    check_media(&head, &None)
}

async fn truncate(path: &Path) -> std::io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A strong `ETag`, else `Last-Modified`: what `If-Range` may carry.
fn validator(headers: &HeaderMap) -> Option<String> {
    let etag = headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.starts_with("W/"));
    etag.or_else(|| {
        headers
            .get(header::LAST_MODIFIED)
            .and_then(|v| v.to_str().ok())
    })
    .map(str::to_string)
}

struct ContentRange {
    start: u64,
    total: Option<u64>,
}

/// Parses `Content-Range: bytes START-END/TOTAL` (or `bytes */TOTAL`).
fn content_range(headers: &HeaderMap) -> Option<ContentRange> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let total = total.trim().parse().ok();
    let start = match range.trim() {
        "*" => 0,
        r => r.split_once('-')?.0.trim().parse().ok()?,
    };
    Some(ContentRange { start, total })
}

/// Sorts a client error into what haul does about it.
fn classify(e: reqwest::Error) -> FetchError {
    if let Some(refused) = find_source::<Refused>(&e) {
        return FetchError::Refused(refused.clone());
    }
    if let Some(redirect) = find_source::<RedirectRefused>(&e) {
        return match redirect {
            RedirectRefused::Address(refused) => FetchError::Refused(refused.clone()),
            RedirectRefused::Downgrade(_) => FetchError::InsecureRedirect(redirect.to_string()),
            other => FetchError::Redirect(other.to_string()),
        };
    }
    let detail = error_chain(&e);
    if find_source::<guard::NotResolved>(&e).is_some() {
        FetchError::NotResolved(detail)
    } else if e.is_timeout() {
        FetchError::Timeout(detail)
    } else if e.is_connect() {
        FetchError::Connect(detail)
    } else if e.is_body() || e.is_decode() {
        FetchError::Interrupted {
            received: 0,
            detail,
        }
    } else {
        // Request-level failures (HTTP/2 stream resets, protocol errors) are usually passing.
        FetchError::Request(detail)
    }
}

fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        current = err.source();
    }
    None
}

/// An error and its causes on one line: "a: b: c".
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(e);
    while let Some(err) = current {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn content_range_forms() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes 100-199/1000"),
        );
        let r = content_range(&h).unwrap();
        assert_eq!((r.start, r.total), (100, Some(1000)));
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes */1000"),
        );
        assert_eq!(content_range(&h).unwrap().total, Some(1000));
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes 5-9/*"),
        );
        let r = content_range(&h).unwrap();
        assert_eq!((r.start, r.total), (5, None));
        h.insert(header::CONTENT_RANGE, HeaderValue::from_static("garbage"));
        assert!(content_range(&h).is_none());
    }

    #[test]
    fn weak_etags_are_not_validators() {
        let mut h = HeaderMap::new();
        h.insert(header::ETAG, HeaderValue::from_static("W/\"x\""));
        assert_eq!(validator(&h), None);
        h.insert(
            header::LAST_MODIFIED,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(
            validator(&h).as_deref(),
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        );
        h.insert(header::ETAG, HeaderValue::from_static("\"strong\""));
        assert_eq!(validator(&h).as_deref(), Some("\"strong\""));
    }

    #[test]
    fn what_is_retried() {
        let status = |s: u16| FetchError::Status {
            status: StatusCode::from_u16(s).unwrap(),
            retry_after: None,
        };
        assert!(status(429).is_retryable());
        assert!(status(503).is_retryable());
        assert!(status(500).is_retryable());
        assert!(!status(404).is_retryable());
        assert!(!status(501).is_retryable());
        assert!(
            FetchError::Interrupted {
                received: 1,
                detail: String::new()
            }
            .is_retryable()
        );
        assert!(
            !FetchError::NotMedia {
                what: "x",
                content_type: None
            }
            .is_retryable()
        );
        assert!(!FetchError::FileTooLarge { limit: 1 }.is_retryable());
        assert!(!FetchError::NotResolved("x".into()).is_retryable());
    }

    struct Quiet;
    impl Observer for Quiet {
        fn started(&self, _: Option<u64>, _: Option<&str>, _: &str) {}
        fn progress(&self, _: u64) {}
    }

    /// A name that does not resolve will not on a second try: one attempt, its own kind.
    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_not_retried() {
        let config = Config {
            retries: 5,
            retry_base_ms: 2_000,
            retry_max_ms: 2_000,
            ..Config::default()
        };
        let fetcher = Fetcher::new(&config).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let target = Target {
            url: "https://no-such-host.invalid/a.jpg".into(),
            part: dir.path().join("0.part"),
            validator: None,
            size: None,
            kind: MediaKind::Image,
        };
        let started = std::time::Instant::now();
        let err = fetcher
            .download(
                &target,
                &Quiet,
                &ByteBudget::new(u64::MAX, 0),
                &CancellationToken::new(),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::NotResolved(_)), "{err:?}");
        assert_eq!(err.kind(), FailureKind::NameNotResolved);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "it waited to retry"
        );
    }

    /// A downloader that may reach loopback servers, and does not retry.
    fn loopback_fetcher() -> Fetcher {
        let config = Config {
            allow_private_networks: true,
            retries: 0,
            ..Config::default()
        };
        Fetcher::new(&config).unwrap()
    }

    /// A plain-HTTP server on loopback: it serves `body` as `content_type` to every request, in
    /// pieces that do not line up with the sniffed head, honouring `Range: bytes=N-` with a 206;
    /// and it counts its connections and records each request line.
    struct TestServer {
        addr: std::net::SocketAddr,
        connections: Arc<AtomicU64>,
        requests: Arc<Mutex<Vec<String>>>,
    }

    async fn serve(body: Vec<u8>, content_type: &'static str) -> TestServer {
        use tokio::io::AsyncBufReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (count, log) = (connections.clone(), requests.clone());
        let body = Arc::new(body);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (log, body) = (log.clone(), body.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = tokio::io::BufReader::new(read).lines();
                    let mut from = 0;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(n) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                            from = n.trim_end_matches('-').parse().unwrap();
                        }
                        if !line.is_empty() {
                            if !line.contains(':') {
                                log.lock().unwrap().push(line);
                            }
                            continue;
                        }
                        let rest = &body[from..];
                        let status = match from {
                            0 => "200 OK".to_string(),
                            _ => format!(
                                "206 Partial Content\r\ncontent-range: bytes {from}-{}/{}",
                                body.len() - 1,
                                body.len()
                            ),
                        };
                        let head = format!(
                            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
                            rest.len()
                        );
                        write.write_all(head.as_bytes()).await.unwrap();
                        for piece in [&rest[..rest.len().min(100)], &rest[rest.len().min(100)..]] {
                            write.write_all(piece).await.unwrap();
                            write.flush().await.unwrap();
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        from = 0;
                    }
                });
            }
        });
        TestServer {
            addr,
            connections,
            requests,
        }
    }

    /// A small JPEG: the bytes [`serve`] answers with where the file's content does not matter.
    fn tiny_jpeg() -> Vec<u8> {
        [&b"\xff\xd8\xff\xe0"[..], &[7u8; 5000], b"\xff\xd9"].concat()
    }

    /// A warm-up opens the host's connection and sends nothing on it; the host's first download
    /// then uses that connection: one connection, one request, the download's.
    #[tokio::test]
    async fn a_warm_up_opens_the_connection_the_first_download_uses_and_asks_nothing() {
        let server = serve(tiny_jpeg(), "image/jpeg").await;
        let fetcher = loopback_fetcher();
        let origin = Url::parse(&format!("http://{}/", server.addr)).unwrap();
        fetcher.warm_up(&origin);
        let opened = tokio::time::Instant::now();
        while server.connections.load(Ordering::SeqCst) == 0 {
            assert!(
                opened.elapsed() < Duration::from_secs(5),
                "no connection was opened"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            server.requests.lock().unwrap().is_empty(),
            "the warm-up sent a request: {:?}",
            server.requests.lock().unwrap()
        );
        // A second warm-up of the same host opens nothing more.
        fetcher.warm_up(&origin);

        let dir = tempfile::tempdir().unwrap();
        let target = Target {
            url: format!("http://{}/a.jpg", server.addr),
            part: dir.path().join("0.part"),
            validator: None,
            size: None,
            kind: MediaKind::Image,
        };
        let budget = ByteBudget::new(u64::MAX, 0);
        fetcher
            .download(&target, &Quiet, &budget, &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(server.connections.load(Ordering::SeqCst), 1);
        assert_eq!(
            *server.requests.lock().unwrap(),
            ["GET /a.jpg HTTP/1.1".to_string()]
        );
    }

    /// A video is hashed as it arrives, whatever the pieces it comes in: the digest is the whole
    /// file's. An image (stored cleaned, hashed after) and a resumed video (its first bytes came
    /// in an earlier attempt) are not, and are measured from their stored form instead.
    #[tokio::test]
    async fn a_fresh_video_is_hashed_as_it_arrives_and_nothing_else_is() {
        let mut video = b"\0\0\0\x1cftypisom\0\0\x02\0isomiso2mp41".to_vec();
        video.extend((0..300_000u32).map(|i| (i % 251) as u8));
        let fetcher = loopback_fetcher();
        let dir = tempfile::tempdir().unwrap();
        let budget = ByteBudget::new(u64::MAX, 0);
        let get = async |server: &TestServer, part: &str, kind: MediaKind| {
            let target = Target {
                url: format!("http://{}/file", server.addr),
                part: dir.path().join(part),
                validator: None,
                size: None,
                kind,
            };
            fetcher
                .download(&target, &Quiet, &budget, &CancellationToken::new())
                .await
                .unwrap()
        };

        let video_server = serve(video.clone(), "video/mp4").await;
        let fetched = get(&video_server, "0.part", MediaKind::Video).await;
        assert_eq!(fetched.format, Format::Mp4);
        assert_eq!(fetched.sha256, Some(Sha256::digest(&video).into()));
        assert_eq!(std::fs::read(dir.path().join("0.part")).unwrap(), video);

        let image_server = serve(tiny_jpeg(), "image/jpeg").await;
        let image = get(&image_server, "1.part", MediaKind::Image).await;
        assert_eq!(image.sha256, None);

        std::fs::write(dir.path().join("2.part"), &video[..1000]).unwrap();
        let resumed = get(&video_server, "2.part", MediaKind::Video).await;
        assert_eq!(resumed.sha256, None);
        assert_eq!(std::fs::read(dir.path().join("2.part")).unwrap(), video);
    }

    /// Pictures share their host's connection, and videos have one of their own beside it:
    /// two connections to a host however many files of each kind come one after another.
    #[tokio::test]
    async fn videos_download_on_a_connection_of_their_own() {
        let server = serve(tiny_jpeg(), "image/jpeg").await;
        let fetcher = loopback_fetcher();
        let dir = tempfile::tempdir().unwrap();
        let budget = ByteBudget::new(u64::MAX, 0);
        let kinds = [
            MediaKind::Image,
            MediaKind::Video,
            MediaKind::Image,
            MediaKind::Video,
        ];
        for (index, kind) in kinds.into_iter().enumerate() {
            let target = Target {
                url: format!("http://{}/{index}", server.addr),
                part: dir.path().join(format!("{index}.part")),
                validator: None,
                size: None,
                kind,
            };
            fetcher
                .download(&target, &Quiet, &budget, &CancellationToken::new())
                .await
                .unwrap();
        }
        assert_eq!(server.requests.lock().unwrap().len(), 4);
        assert_eq!(server.connections.load(Ordering::SeqCst), 2);
    }
}
