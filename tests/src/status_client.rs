//! A client of the daemon's status server (the page and `/api/v1`), for tests: plain HTTP/1.1
//! over loopback with hyper, one connection per request, so a test controls every header —
//! `Host`, `Origin`, `Sec-Fetch-*`, the token, the session cookie — exactly as a browser or an
//! attacker would send it. [`StatusClient::request`] authenticates as a script does (the token
//! from `data/api-token`); [`StatusClient::anonymous`] sends nothing, as a stranger would.
//! [`one_time_link`] asks the daemon's socket for a link into the page, as `haul status --open`
//! does.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::home::TestHome;

/// How long a request may take before the test fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The `code` of an error answer.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The status server of one haul home.
#[derive(Debug, Clone)]
pub struct StatusClient {
    pub port: u16,
    /// This install's token (`data/api-token`).
    pub token: String,
}

impl StatusClient {
    /// The status server the daemon of `home` announced in `run/status.json` (waits for it).
    pub async fn of(home: &TestHome) -> StatusClient {
        let file = home.paths.status_file();
        let port = crate::wait_for(Duration::from_secs(10), || {
            let text = std::fs::read_to_string(&file).ok()?;
            let doc: Value = serde_json::from_str(&text).ok()?;
            doc["port"].as_u64().map(|p| p as u16)
        })
        .await
        .expect("the daemon wrote run/status.json");
        let token = std::fs::read_to_string(home.paths.api_token_file())
            .expect("the daemon wrote data/api-token")
            .trim()
            .to_string();
        StatusClient { port, token }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT` — the page's own origin.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A request to `path` with the right `Host` and this install's token, as a script sends.
    pub fn request(&self, method: &str, path: &str) -> hyper::http::request::Builder {
        self.anonymous(method, path)
            .header("x-haul-token", &self.token)
    }

    /// A request to `path` with the right `Host` and nothing else: no token, no cookie.
    pub fn anonymous(&self, method: &str, path: &str) -> hyper::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.host())
    }

    /// Sends `req` on a fresh connection and reads the whole answer.
    pub async fn send(&self, req: Request<Full<Bytes>>) -> Answer {
        let response = self.open(req).await;
        let (parts, body) = response.into_parts();
        let body = tokio::time::timeout(REQUEST_TIMEOUT, body.collect())
            .await
            .expect("the answer's body in time")
            .expect("read the answer's body")
            .to_bytes();
        Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    /// Sends `req` and returns the answer with its body still streaming.
    pub async fn open(&self, req: Request<Full<Bytes>>) -> hyper::Response<Incoming> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to the status server");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .expect("HTTP handshake");
        tokio::spawn(connection);
        tokio::time::timeout(REQUEST_TIMEOUT, sender.send_request(req))
            .await
            .expect("an answer in time")
            .expect("an HTTP answer")
    }

    /// Signs a browser in as a person does — a one-time link asked of the socket
    /// ([`one_time_link`]), followed without a token — and returns the session's `Cookie`
    /// pair (`haul_session_PORT=…`).
    pub async fn sign_in(&self, home: &TestHome) -> String {
        let link = one_time_link(home).await;
        let answer = self
            .send(
                self.anonymous("GET", &path_of(&link))
                    .body(Full::default())
                    .expect("a request"),
            )
            .await;
        assert_eq!(answer.status, 303, "the link signs in");
        let set_cookie = answer.header("set-cookie").expect("a session cookie");
        set_cookie
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.request("GET", path).body(Full::default()).unwrap())
            .await
    }

    /// A change with the token and the page's own Origin, a JSON body if any.
    pub async fn change(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let mut req = self.request(method, path).header("origin", self.origin());
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Full::new(Bytes::from(v.to_string()))
            }
            None => Full::default(),
        };
        self.send(req.body(body).unwrap()).await
    }

    /// `POST /api/v1/jobs` with `body`, which must be accepted; returns the new job's id.
    pub async fn create_job(&self, body: Value) -> u64 {
        let answer = self.change("POST", "/api/v1/jobs", Some(body)).await;
        assert_eq!(
            answer.status,
            201,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        answer.json()["job"].as_u64().expect("a job id")
    }

    /// Polls `GET /api/v1/jobs/{job}` until `done` holds for its detail (or `timeout` passes,
    /// which fails the test with the last detail seen).
    pub async fn wait_for_job(
        &self,
        job: u64,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let detail = self.get(&format!("/api/v1/jobs/{job}")).await.json();
            if done(&detail) {
                return detail;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {job} did not get there in {timeout:?}: {detail:#}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until job `job` has ended (`complete`, `partial`, `failed` or `cancelled`) and no
    /// task works on it any more; returns its detail.
    pub async fn wait_until_ended(&self, job: u64, timeout: Duration) -> Value {
        self.wait_for_job(job, timeout, |d| {
            matches!(
                d["state"].as_str(),
                Some("complete" | "partial" | "failed" | "cancelled")
            ) && d["active"] == false
        })
        .await
    }

    /// Opens `/api/v1/events`.
    pub async fn events(&self) -> EventStream {
        let response = self
            .open(
                self.request("GET", "/api/v1/events")
                    .header("accept", "text/event-stream")
                    .body(Full::default())
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status(), 200, "the event stream opens");
        EventStream {
            body: response.into_body(),
            buffer: String::new(),
        }
    }
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    pub data: Value,
}

/// A server-sent event stream being read.
pub struct EventStream {
    body: Incoming,
    buffer: String,
}

impl EventStream {
    /// The next event (comments and keep-alives skipped); `None` at the end of the stream or
    /// when `timeout` passes first.
    pub async fn next(&mut self, timeout: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = "message".to_string();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                return Some(Event { name, data });
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .ok()??
                .ok()?;
            if let Ok(bytes) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
}

/// The path and query of `link` (an address on the status server), as a request target.
pub fn path_of(link: &str) -> String {
    let url = url::Url::parse(link).expect("a link");
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// A one-time link into the status page of the daemon of `home`, asked of its local socket as
/// `haul status --open` and the extension do.
pub async fn one_time_link(home: &TestHome) -> String {
    use haul_protocol::message::{ClientInfo, ClientKind, Reply, Request, StatusLinkRequest};
    use haul_protocol::socket;
    let client = ClientInfo {
        kind: ClientKind::Cli,
        caller: None,
    };
    let (mut conn, _) = socket::connect_and_greet(&home.paths, client, Duration::from_secs(5))
        .await
        .expect("the daemon's socket");
    socket::send(
        &mut conn,
        &Request::StatusLink(StatusLinkRequest { id: None }),
    )
    .await
    .expect("ask for a link");
    match tokio::time::timeout(REQUEST_TIMEOUT, socket::recv(&mut conn)).await {
        Ok(Ok(Some(Reply::StatusLink(link)))) => {
            assert_eq!(link.expires_in, 60);
            link.url
        }
        other => panic!("no status_link answer: {other:?}"),
    }
}
