//! A local HTTPS media server (HTTP/2 and HTTP/1.1, the test CA's certificate) on
//! `127.0.0.1:0`, with routes that misbehave on purpose: statuses with `Retry-After`, bodies cut
//! mid-way, redirects, a slow drip. It honours `Range` (`bytes=N-` and `bytes=N-M`) and
//! `If-Range` like a CDN and logs every request so tests can assert what haul asked for (ranges,
//! no cookies, no requests at all).
//!
//! A [`Generated`] route makes its body on demand, a block at a time, so a file of gigabytes is
//! served without being held; the bytes each path's answers actually sent are counted
//! ([`MediaServer::served`]), so a resume can be measured instead of assumed.
//!
//! For pages whose media live at a real CDN's address (`https://m.media-amazon.com/…`, port
//! 443), [`MediaServer::start_at`] listens on a chosen loopback address and
//! [`MediaServer::set_fallback`] answers every path that has no route of its own.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::ca::TestCa;

type Body = BoxBody<Bytes, std::io::Error>;

/// How a route answers.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// 200 with the body (206 for ranges).
    Ok,
    /// The first `times` requests get `status` (with `Retry-After` when given), then `Ok`.
    FailFirst {
        times: usize,
        status: u16,
        retry_after: Option<String>,
    },
    /// The first request's body breaks off after `after` bytes; later requests are `Ok`.
    CutFirst { after: usize },
    /// Every response breaks off after `after` bytes and ranges are ignored.
    AlwaysCut { after: usize },
    /// Every request is redirected (302) to this location.
    Redirect(String),
    /// Every request gets this status.
    Status(u16),
    /// The body is sent `chunk` bytes at a time, one chunk per `every`.
    Slow { chunk: usize, every: Duration },
    /// The headers come only after `delay` (a server that holds the request).
    LateHeaders(Duration),
    /// The body (no `Content-Length`) never ends: the route's body, then zeros for ever.
    Endless,
    /// `Content-Length` announces `announced` bytes; the body is the route's, then the
    /// connection ends.
    LyingLength { announced: usize },
}

/// Writes a generated body's bytes from an offset into a buffer.
pub type Fill = Arc<dyn Fn(u64, &mut [u8]) + Send + Sync>;

/// A body made on demand: `fill(offset, buf)` writes the body's bytes from `offset` into `buf`
/// (always the same bytes for the same offset).
#[derive(Clone)]
pub struct Generated {
    pub len: u64,
    pub fill: Fill,
}

impl std::fmt::Debug for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Generated({} bytes)", self.len)
    }
}

impl Generated {
    pub fn new(len: u64, fill: impl Fn(u64, &mut [u8]) + Send + Sync + 'static) -> Generated {
        Generated {
            len,
            fill: Arc::new(fill),
        }
    }

    /// Bytes `offset..offset + len` (for bodies small enough to hold).
    pub fn bytes(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0; len];
        (self.fill)(offset, &mut buf);
        buf
    }

    /// The SHA-256 of the whole body, made a block at a time.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        let mut hash = sha2::Sha256::new();
        let mut buf = vec![0; GENERATED_BLOCK];
        let mut offset = 0;
        while offset < self.len {
            let n = (self.len - offset).min(buf.len() as u64) as usize;
            (self.fill)(offset, &mut buf[..n]);
            hash.update(&buf[..n]);
            offset += n as u64;
        }
        hex::encode(hash.finalize())
    }
}

/// The block a generated body is made and sent in.
const GENERATED_BLOCK: usize = 256 * 1024;

/// A file the server serves.
#[derive(Debug, Clone)]
pub struct Route {
    pub body: Bytes,
    /// Made on demand instead of `body` (only [`Behavior::Ok`]).
    pub generated: Option<Generated>,
    pub content_type: String,
    pub behavior: Behavior,
    /// Strong ETag sent with every answer (and checked against `If-Range`).
    pub etag: Option<String>,
    /// Headers added to every answer (`Content-Encoding: gzip`, a `Retry-After`).
    pub headers: Vec<(String, String)>,
}

impl Route {
    /// A well-behaved file.
    pub fn ok(body: impl Into<Bytes>, content_type: &str) -> Route {
        let body = body.into();
        let etag = Some(format!("\"{}\"", hex::encode(&sha256(&body)[..8])));
        Route {
            body,
            generated: None,
            content_type: content_type.to_string(),
            behavior: Behavior::Ok,
            etag,
            headers: Vec::new(),
        }
    }

    /// A well-behaved file made on demand (ranges and `If-Range` honoured, never held whole).
    pub fn generated(body: Generated, content_type: &str) -> Route {
        Route {
            body: Bytes::new(),
            etag: Some(format!("\"gen-{}\"", body.len)),
            generated: Some(body),
            content_type: content_type.to_string(),
            behavior: Behavior::Ok,
            headers: Vec::new(),
        }
    }

    /// The body's length.
    fn len(&self) -> usize {
        self.generated
            .as_ref()
            .map_or(self.body.len(), |g| g.len as usize)
    }

    pub fn with(mut self, behavior: Behavior) -> Route {
        self.behavior = behavior;
        self
    }

    /// Adds a header to every answer.
    pub fn header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub path: String,
    pub host: Option<String>,
    pub range: Option<String>,
    pub if_range: Option<String>,
    pub cookie: Option<String>,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
    /// Every header's name, lower-case, in the order sent.
    pub header_names: Vec<String>,
    pub version: String,
    /// When the request arrived.
    pub at: std::time::Instant,
}

/// Makes the route for a path that has none.
pub type Fallback = Arc<dyn Fn(&str) -> Route + Send + Sync>;

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    fallback: Option<Fallback>,
    hits: HashMap<String, usize>,
    /// Body bytes sent per path, for generated routes.
    served: HashMap<String, Arc<AtomicU64>>,
    log: Vec<Logged>,
    /// The server name (TLS SNI) of every connection accepted, in order (`None`: no SNI).
    connections: Vec<Option<String>>,
}

/// The running server; stops when dropped.
pub struct MediaServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: CancellationToken,
}

impl MediaServer {
    /// Starts the server on `127.0.0.1:0` with `ca`'s certificate.
    pub async fn start(ca: &TestCa) -> MediaServer {
        MediaServer::start_at(ca, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind media server")
    }

    /// The media server on port 443 of a loopback address of its own (127.x.y.z, so parallel
    /// tests never collide), or `None` after saying why the test skips.
    pub async fn on_port_443_or_skip(test: &str, ca: &TestCa) -> Option<MediaServer> {
        let seed = std::process::id()
            ^ (std::time::UNIX_EPOCH
                .elapsed()
                .unwrap_or_default()
                .subsec_nanos());
        let mut last_error = None;
        for attempt in 0..16u32 {
            let n = seed.wrapping_add(attempt.wrapping_mul(7919));
            // 127.0.0.1 stays free for everything else; 127.x.y.z with x, y, z in 2..=251.
            let octets = [
                127,
                2 + (n % 250) as u8,
                2 + ((n >> 8) % 250) as u8,
                2 + ((n >> 16) % 250) as u8,
            ];
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(octets)), 443);
            match MediaServer::start_at(ca, addr).await {
                Ok(server) => return Some(server),
                Err(e) => last_error = Some(e),
            }
        }
        let why = format!(
            "cannot listen on port 443 of a loopback address ({}); the CDN's URLs carry no port, so \
             the server must be on 443 (run as root or grant CAP_NET_BIND_SERVICE)",
            last_error.map(|e| e.to_string()).unwrap_or_default()
        );
        if std::env::var("HAUL_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("{test}: {why}");
        }
        eprintln!("skipping {test}: {why}");
        None
    }

    /// Starts the server on `addr` (a loopback address; port 443 needs the right to bind it).
    pub async fn start_at(ca: &TestCa, addr: SocketAddr) -> std::io::Result<MediaServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(ca.server_config());
        let state = Arc::new(Mutex::new(State::default()));
        let stop = CancellationToken::new();
        let (serve_state, serve_stop) = (state.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let (tcp, _) = tokio::select! {
                    accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
                    () = serve_stop.cancelled() => return,
                };
                let (acceptor, state, stop) =
                    (acceptor.clone(), serve_state.clone(), serve_stop.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let sni = tls.get_ref().1.server_name().map(str::to_string);
                    state.lock().unwrap().connections.push(sni);
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let state = state.clone();
                        async move {
                            if let Some(delay) = late_headers(&state, req.uri().path()) {
                                tokio::time::sleep(delay).await;
                            }
                            Ok::<_, Infallible>(answer(&state, req))
                        }
                    });
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    tokio::select! {
                        _ = builder.serve_connection(TokioIo::new(tls), service) => {}
                        () = stop.cancelled() => {}
                    }
                });
            }
        });
        Ok(MediaServer { addr, state, stop })
    }

    /// Answers every path without a route with `make(path)` (called once per path; the route is
    /// kept, so the same path always gets the same bytes).
    pub fn set_fallback(&self, make: impl Fn(&str) -> Route + Send + Sync + 'static) {
        self.state.lock().unwrap().fallback = Some(Arc::new(make));
    }

    /// Adds (or replaces) a route at `path` (starting with `/`). A `path` with a query
    /// (`/item.htm?id=1`) answers that query only, before a route of the bare path: shops such
    /// as Taobao and Tmall name every product page `/item.htm`.
    pub fn add(&self, path: &str, route: Route) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), route);
    }

    /// `https://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    /// `https://HOST:PORT/path`, for a host pinned to loopback in haul's `[resolve]` table.
    pub fn url_via(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.addr.port())
    }

    /// Requests made to `path` so far.
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Body bytes the answers of `path` have sent so far (generated routes only; counted as
    /// each block is handed to the connection).
    pub fn served(&self, path: &str) -> u64 {
        self.state
            .lock()
            .unwrap()
            .served
            .get(path)
            .map_or(0, |n| n.load(Ordering::Relaxed))
    }

    /// Body bytes sent for every generated path whose name starts with `prefix`.
    pub fn served_under(&self, prefix: &str) -> u64 {
        self.state
            .lock()
            .unwrap()
            .served
            .iter()
            .filter(|(path, _)| path.starts_with(prefix))
            .map(|(_, n)| n.load(Ordering::Relaxed))
            .sum()
    }

    /// The server name (SNI) of every TLS connection made to the server so far.
    pub fn connections(&self) -> Vec<Option<String>> {
        self.state.lock().unwrap().connections.clone()
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }
}

impl Drop for MediaServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The delay of a [`Behavior::LateHeaders`] route at `path`.
fn late_headers(state: &Mutex<State>, path: &str) -> Option<Duration> {
    match state.lock().unwrap().routes.get(path)?.behavior {
        Behavior::LateHeaders(delay) => Some(delay),
        _ => None,
    }
}

fn answer(state: &Mutex<State>, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let mut r = answer_route(state, req);
    let extra = r.extensions_mut().remove::<ExtraHeaders>();
    if let Some(ExtraHeaders(extra)) = extra {
        for (name, value) in extra {
            if let (Ok(name), Ok(value)) = (
                header::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                r.headers_mut().insert(name, value);
            }
        }
    }
    r
}

/// A route's own headers, carried from [`answer_route`] to [`answer`].
#[derive(Clone)]
struct ExtraHeaders(Vec<(String, String)>);

fn answer_route(state: &Mutex<State>, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let with_query = req.uri().path_and_query().map(|p| p.as_str().to_string());
    let header = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let logged = Logged {
        path: path.clone(),
        host: header(header::HOST).or_else(|| req.uri().authority().map(|a| a.to_string())),
        range: header(header::RANGE),
        if_range: header(header::IF_RANGE),
        cookie: header(header::COOKIE),
        user_agent: header(header::USER_AGENT),
        referer: header(header::REFERER),
        header_names: req
            .headers()
            .keys()
            .map(|k| k.as_str().to_string())
            .collect(),
        version: format!("{:?}", req.version()),
        at: std::time::Instant::now(),
    };
    let (route, hit, served) = {
        let mut s = state.lock().unwrap();
        s.log.push(logged.clone());
        let hit = {
            let n = s.hits.entry(path.clone()).or_default();
            *n += 1;
            *n
        };
        let exact = with_query.as_ref().and_then(|p| s.routes.get(p));
        let route = match (
            exact.or_else(|| s.routes.get(&path)).cloned(),
            s.fallback.clone(),
        ) {
            (Some(route), _) => Some(route),
            (None, Some(make)) => {
                let route = make(&path);
                s.routes.insert(path.clone(), route.clone());
                Some(route)
            }
            (None, None) => None,
        };
        let served = route
            .as_ref()
            .filter(|r| r.generated.is_some())
            .map(|_| s.served.entry(path.clone()).or_default().clone());
        (route, hit, served)
    };
    let Some(route) = route else {
        return simple(
            StatusCode::NOT_FOUND,
            "text/html",
            "<!doctype html><title>404</title>not found",
        );
    };
    let mut r = match (&route.generated, served) {
        (Some(body), Some(served)) => generated_response(&route, body, &logged, served),
        _ => respond(&route, &logged, hit),
    };
    r.extensions_mut()
        .insert(ExtraHeaders(route.headers.clone()));
    r
}

fn respond(route: &Route, logged: &Logged, hit: usize) -> Response<Body> {
    match &route.behavior {
        Behavior::Endless => endless_response(route),
        Behavior::LyingLength { announced } => {
            let mut r = full_response(route, None);
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(*announced));
            r
        }
        Behavior::Status(code) => simple(
            status(*code),
            "text/html",
            "<!doctype html><title>error</title>",
        ),
        Behavior::Redirect(to) => {
            let mut r = simple(StatusCode::FOUND, "text/plain", "moved");
            r.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_str(to).expect("location"),
            );
            r
        }
        Behavior::FailFirst {
            times,
            status: code,
            retry_after,
        } if hit <= *times => {
            let mut r = simple(
                status(*code),
                "text/html",
                "<!doctype html><title>busy</title>",
            );
            if let Some(ra) = retry_after {
                r.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_str(ra).expect("retry-after"),
                );
            }
            r
        }
        Behavior::AlwaysCut { after } => cut_response(route, 0, *after),
        _ => {
            let range = requested_range(route, logged.range.as_deref(), logged.if_range.as_deref());
            let start = range.map(|(start, _)| start);
            match (&route.behavior, start) {
                (Behavior::CutFirst { after }, _) if hit == 1 => cut_response(route, 0, *after),
                (Behavior::Slow { chunk, every }, start) => {
                    slow_response(route, start.unwrap_or(0), *chunk, *every)
                }
                (_, Some(start)) if start >= route.body.len() => {
                    let mut r = simple(StatusCode::RANGE_NOT_SATISFIABLE, "text/plain", "");
                    let range = format!("bytes */{}", route.body.len());
                    r.headers_mut().insert(
                        header::CONTENT_RANGE,
                        HeaderValue::from_str(&range).expect("range"),
                    );
                    r
                }
                (_, _) => full_response(route, range),
            }
        }
    }
}

/// The first and (for `bytes=N-M`) last offset a `Range: bytes=N-` or `bytes=N-M` asks for,
/// when `If-Range` (if any) matches.
fn requested_range(
    route: &Route,
    range: Option<&str>,
    if_range: Option<&str>,
) -> Option<(usize, Option<usize>)> {
    let (first, last) = range?.strip_prefix("bytes=")?.split_once('-')?;
    let first = first.trim().parse().ok()?;
    let last = match last.trim() {
        "" => None,
        n => Some(n.parse().ok()?),
    };
    match (if_range, &route.etag) {
        (Some(given), Some(etag)) if given != etag => None,
        _ => Some((first, last)),
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).expect("status code")
}

fn simple(code: StatusCode, content_type: &str, body: &'static str) -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|e: Infallible| match e {})
            .boxed(),
    );
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).expect("content type"),
    );
    r
}

fn headers_for(route: &Route, r: &mut Response<Body>, start: usize) {
    headers_for_range(route, r, start, route.len(), start > 0);
}

/// Headers for bytes `start..end` of the route's body (`Content-Range` when `partial`).
fn headers_for_range(
    route: &Route,
    r: &mut Response<Body>,
    start: usize,
    end: usize,
    partial: bool,
) {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&route.content_type).expect("content type"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    if let Some(etag) = &route.etag {
        h.insert(header::ETAG, HeaderValue::from_str(etag).expect("etag"));
    }
    if partial {
        let range = format!("bytes {start}-{}/{}", end - 1, route.len());
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&range).expect("range"),
        );
    }
}

/// The body, or the range asked for (`bytes=N-` or `bytes=N-M`) as 206.
fn full_response(route: &Route, range: Option<(usize, Option<usize>)>) -> Response<Body> {
    let len = route.body.len();
    let (start, end, partial) = match range {
        None => (0, len, false),
        Some((start, None)) => (start, len, start > 0),
        Some((start, Some(last))) => (start, (last + 1).min(len), true),
    };
    let body = route.body.slice(start..end);
    let mut r = Response::new(Full::new(body).map_err(|e: Infallible| match e {}).boxed());
    if partial {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    headers_for_range(route, &mut r, start, end, partial);
    r
}

/// A generated body (or the range asked for, as 206), made and sent a block at a time; every
/// block handed to the connection is counted in `served`.
fn generated_response(
    route: &Route,
    body: &Generated,
    logged: &Logged,
    served: Arc<AtomicU64>,
) -> Response<Body> {
    let len = body.len as usize;
    let range = requested_range(route, logged.range.as_deref(), logged.if_range.as_deref());
    let (start, end, partial) = match range {
        Some((start, _)) if start >= len => {
            let mut r = simple(StatusCode::RANGE_NOT_SATISFIABLE, "text/plain", "");
            let range = format!("bytes */{len}");
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&range).expect("range"),
            );
            return r;
        }
        None => (0, len, false),
        Some((start, None)) => (start, len, start > 0),
        Some((start, Some(last))) => (start, (last + 1).min(len), true),
    };
    let fill = body.fill.clone();
    let blocks = stream::unfold(start as u64, move |offset| {
        let (fill, served) = (fill.clone(), served.clone());
        async move {
            if offset >= end as u64 {
                return None;
            }
            let n = (end as u64 - offset).min(GENERATED_BLOCK as u64) as usize;
            let mut block = vec![0; n];
            fill(offset, &mut block);
            served.fetch_add(n as u64, Ordering::Relaxed);
            Some((Ok(Frame::data(Bytes::from(block))), offset + n as u64))
        }
    });
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(blocks)));
    if partial {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    headers_for_range(route, &mut r, start, end, partial);
    r
}

/// Announces the whole file, sends `after` bytes, then breaks the connection.
fn cut_response(route: &Route, start: usize, after: usize) -> Response<Body> {
    let sent = route
        .body
        .slice(start..(start + after).min(route.body.len()));
    // The break comes a moment after the data, so the data reaches the client first (as when a
    // connection dies mid-transfer) instead of the reset overtaking it.
    let frames = stream::unfold(Some(sent), |pending| async move {
        match pending {
            Some(data) => Some((Ok(Frame::data(data)), None)),
            None => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Some((
                    Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "cut on purpose",
                    )),
                    None,
                ))
            }
        }
    });
    let frames = frames.take(2);
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(frames)));
    headers_for(route, &mut r, start);
    r
}

/// The route's body, then 64 KiB blocks of zeros for ever, with no length announced.
fn endless_response(route: &Route) -> Response<Body> {
    let first = route.body.clone();
    let zeros = Bytes::from(vec![0u8; 64 * 1024]);
    let chunks = stream::once(async move { Ok(Frame::data(first)) })
        .chain(stream::repeat_with(move || Ok(Frame::data(zeros.clone()))));
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(chunks)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&route.content_type).expect("content type"),
    );
    r
}

fn slow_response(route: &Route, start: usize, chunk: usize, every: Duration) -> Response<Body> {
    let body = route.body.slice(start..);
    let chunks = stream::unfold(0usize, move |offset| {
        let body = body.clone();
        async move {
            if offset >= body.len() {
                return None;
            }
            tokio::time::sleep(every).await;
            let end = (offset + chunk).min(body.len());
            Some((Ok(Frame::data(body.slice(offset..end))), end))
        }
    });
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(chunks)));
    if start > 0 {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    headers_for(route, &mut r, start);
    r
}

fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(data).to_vec()
}
