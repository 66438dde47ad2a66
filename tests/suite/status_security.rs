//! Attacks on the status server, as any web page the user visits (or any local program) could
//! make them: DNS rebinding, foreign origins, missing or foreign tokens, path traversal in every
//! path parameter, a 100 MB body and 1,000 event streams at once. Each runs against the real
//! daemon; each asserts what the attacker gets (nothing) and that the server still answers.

use std::time::Duration;

use haul_tests::ca::TestCa;
use haul_tests::daemon::{DaemonProcess, InProcessDaemon};
use haul_tests::home::TestHome;
use haul_tests::status_client::{Answer, StatusClient};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn daemon() -> (TestCa, TestHome, InProcessDaemon, StatusClient) {
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "");
    let daemon = InProcessDaemon::start(&home).await;
    let api = StatusClient::of(&home).await;
    (ca, home, daemon, api)
}

/// A request carrying the right token and Origin but `host` as its Host header.
async fn with_host(api: &StatusClient, method: &str, path: &str, host: &str) -> Answer {
    api.send(
        hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", host)
            .header("origin", api.origin())
            .header("x-haul-token", &api.token)
            .header("content-type", "application/json")
            .body(r#"{"urls":["https://a.example/x.jpg"]}"#.into())
            .unwrap(),
    )
    .await
}

fn assert_security_headers(answer: &Answer) {
    let csp = answer.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(answer.header("referrer-policy"), Some("no-referrer"));
    assert!(answer.header("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_rebinding_hosts_are_refused() {
    let (_ca, _home, daemon, api) = daemon().await;
    let port = api.port;
    for host in [
        "evil.example".to_string(),
        format!("evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        "127.0.0.1.nip.io".to_string(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.1".to_string(),
        format!("localhost.evil.example:{port}"),
        format!("0.0.0.0:{port}"),
        String::new(),
    ] {
        for (method, path) in [
            ("GET", "/"),
            ("GET", "/api/v1/jobs"),
            ("POST", "/api/v1/jobs"),
        ] {
            let answer = with_host(&api, method, path, &host).await;
            assert_eq!(
                (answer.status, answer.code().as_str()),
                (421, "bad_host"),
                "{method} {path} with Host {host:?}"
            );
            assert_security_headers(&answer);
            assert!(!String::from_utf8_lossy(&answer.body).contains(&api.token));
        }
    }
    // The loopback names with the right port are the page itself.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("[::1]:{port}"),
    ] {
        let answer = with_host(&api, "GET", "/api/v1/health", &host).await;
        assert_eq!(answer.status, 200, "Host {host}");
    }
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_need_the_page_origin_and_this_installs_token() {
    let (ca, _home, daemon, api) = daemon().await;
    let post = |origin: Option<&str>, token: Option<&str>, site: Option<&str>| {
        let mut req = api
            .anonymous("POST", "/api/v1/jobs")
            .header("content-type", "application/json");
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(t) = token {
            req = req.header("x-haul-token", t);
        }
        if let Some(s) = site {
            req = req
                .header("sec-fetch-site", s)
                .header("sec-fetch-mode", "cors");
        }
        req.body(r#"{"urls":["https://a.example/x.jpg"]}"#.into())
            .unwrap()
    };
    let other = TestHome::new(&ca, "");
    let other_token = haul::status::read_or_create_token(&other.paths.api_token_file()).unwrap();
    assert_ne!(other_token, api.token);
    let own = api.origin();
    let token = api.token.clone();
    let cases = [
        (
            Some("https://evil.example"),
            Some(token.as_str()),
            Some("cross-site"),
            "cross_site",
        ),
        (
            Some("https://evil.example"),
            Some(token.as_str()),
            None,
            "forbidden_origin",
        ),
        (
            Some("http://127.0.0.1:1"),
            Some(token.as_str()),
            None,
            "forbidden_origin",
        ),
        (Some("null"), Some(token.as_str()), None, "forbidden_origin"),
        (
            Some("chrome-extension://abcdefghijklmnopabcdefghijklmnop"),
            Some(token.as_str()),
            None,
            "forbidden_origin",
        ),
        (
            None,
            Some(token.as_str()),
            Some("same-origin"),
            "forbidden_origin",
        ),
        (
            Some(own.as_str()),
            None,
            Some("same-origin"),
            "missing_token",
        ),
        (None, None, None, "missing_token"),
        (
            Some(own.as_str()),
            Some(other_token.as_str()),
            Some("same-origin"),
            "bad_token",
        ),
        (Some(own.as_str()), Some(""), None, "bad_token"),
    ];
    for (origin, token, site, code) in cases {
        let answer = api.send(post(origin, token, site)).await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (403, code),
            "origin {origin:?} token {token:?} site {site:?}"
        );
        assert_security_headers(&answer);
    }
    let jobs = api.get("/api/v1/jobs").await.json();
    assert_eq!(jobs["total"], 0, "no refused request created a job");

    // The page itself, and the extension, may.
    let ok = api
        .send(post(
            Some(own.as_str()),
            Some(api.token.as_str()),
            Some("same-origin"),
        ))
        .await;
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    let extension = haul_protocol::install::chrome_origin(haul_protocol::DEV_EXTENSION_ID);
    let ok = api
        .send(post(
            Some(extension.trim_end_matches('/')),
            Some(api.token.as_str()),
            Some("cross-site"),
        ))
        .await;
    assert_eq!(ok.status, 201, "the extension's origin: {:?}", ok.body);

    // Reading from another site is refused too, and no CORS preflight is ever granted.
    let read = api
        .send(
            api.request("GET", "/api/v1/jobs")
                .header("origin", "https://evil.example")
                .header("sec-fetch-site", "cross-site")
                .header("sec-fetch-mode", "cors")
                .body(Default::default())
                .unwrap(),
        )
        .await;
    assert_eq!((read.status, read.code().as_str()), (403, "cross_site"));
    let preflight = api
        .send(
            api.request("OPTIONS", "/api/v1/jobs")
                .header("origin", "https://evil.example")
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "x-haul-token")
                .body(Default::default())
                .unwrap(),
        )
        .await;
    assert!(preflight.status >= 400, "{}", preflight.status);
    assert_security_headers(&preflight);
    // A link from elsewhere is not refused as cross-site (a top-level navigation), but it
    // carries no session (SameSite=Strict): the page says how to open it, and nothing more.
    let navigate = api
        .send(
            api.anonymous("GET", "/")
                .header("sec-fetch-site", "cross-site")
                .header("sec-fetch-mode", "navigate")
                .body(Default::default())
                .unwrap(),
        )
        .await;
    assert_eq!(navigate.status, 401);
    let body = String::from_utf8_lossy(&navigate.body);
    assert!(
        body.contains("haul status --open") && !body.contains(&api.token),
        "{body}"
    );
    assert_security_headers(&navigate);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_traversal_in_every_path_parameter_is_refused() {
    let (_ca, home, daemon, api) = daemon().await;
    std::fs::write(home.root().join("secret.txt"), "TOP-SECRET").unwrap();
    let secret = home.root().join("secret.txt").display().to_string();
    let encoded_secret = secret.replace('/', "%2F");
    let evil = [
        "..%2f..%2f..%2fsecret.txt".to_string(),
        "..%2F..%2Fdata%2Fjournal.sqlite3".to_string(),
        "%2e%2e%2f%2e%2e%2fsecret.txt".to_string(),
        "..".to_string(),
        "%2e%2e".to_string(),
        encoded_secret.clone(),
        "%2Fetc%2Fpasswd".to_string(),
        "1%00".to_string(),
        "%00".to_string(),
        "1%2F..%2F..".to_string(),
        "C:%5CWindows%5Cwin.ini".to_string(),
        "-1".to_string(),
        "99999999999999999999999".to_string(),
    ];
    for bad in &evil {
        let paths = [
            ("GET", format!("/api/v1/jobs/{bad}")),
            ("DELETE", format!("/api/v1/jobs/{bad}")),
            ("POST", format!("/api/v1/jobs/{bad}/cancel")),
            ("POST", format!("/api/v1/jobs/{bad}/retry")),
            ("POST", format!("/api/v1/jobs/{bad}/open")),
            ("GET", format!("/api/v1/jobs/{bad}/items/0/thumbnail")),
            ("GET", format!("/api/v1/jobs/1/items/{bad}/thumbnail")),
            ("POST", format!("/api/v1/folders/{bad}/open")),
        ];
        for (method, path) in paths {
            let body = (path.ends_with("/open") && path.contains("/jobs/"))
                .then(|| json!({"target": "file"}));
            let answer = api.change(method, &path, body).await;
            assert!(
                matches!(answer.status, 400 | 404),
                "{method} {path}: {} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
            let text = String::from_utf8_lossy(&answer.body);
            assert!(
                !text.contains("TOP-SECRET") && !text.contains("root:"),
                "{path}: {text}"
            );
            answer.json(); // always a JSON error
        }
    }
    // Un-normalised paths never reach a file either.
    for path in [
        "/../../../etc/passwd",
        "/api/v1/../../secret.txt",
        "/%2e%2e/%2e%2e/etc/passwd",
    ] {
        let answer = api.get(path).await;
        assert_eq!(answer.status, 404, "{path}");
    }
    // A NUL byte in the request line itself: the HTTP parser refuses it; the server lives on.
    let mut raw = tokio::net::TcpStream::connect(("127.0.0.1", api.port))
        .await
        .unwrap();
    raw.write_all(
        format!(
            "GET /api/v1/jobs/1\0/x HTTP/1.1\r\nHost: {}\r\n\r\n",
            api.host()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 400"),
        "{reply}"
    );
    assert_eq!(api.get("/api/v1/health").await.status, 200);
    daemon.stop().await;
}

/// Sends `len` bytes of body after `head`, as fast as the server takes them, and returns the
/// status line it answers with (the server may answer, and close, before the body is sent).
async fn send_big_body(api: &StatusClient, head: String, len: usize, chunked: bool) -> String {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", api.port))
        .await
        .unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await?;
        let block = vec![b'x'; 1 << 20];
        let mut sent = 0;
        while sent < len {
            if chunked {
                write
                    .write_all(format!("{:x}\r\n", block.len()).as_bytes())
                    .await?;
                write.write_all(&block).await?;
                write.write_all(b"\r\n").await?;
            } else {
                write.write_all(&block).await?;
            }
            sent += block.len();
        }
        if chunked {
            write.write_all(b"0\r\n\r\n").await?;
        }
        Ok::<usize, std::io::Error>(sent)
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let status = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
            if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    assert!(status.is_ok(), "an answer to the big body in time");
    writer.abort();
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_body_is_refused_without_being_read() {
    let (_ca, _home, daemon, api) = daemon().await;
    let len = 100 << 20;
    let head = |extra: &str| {
        format!(
            "POST /api/v1/jobs HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nX-Haul-Token: {}\r\nContent-Type: application/json\r\n{extra}\r\n",
            api.host(),
            api.origin(),
            api.token
        )
    };
    let declared = send_big_body(
        &api,
        head(&format!("Content-Length: {len}\r\n")),
        len,
        false,
    )
    .await;
    assert!(declared.starts_with("HTTP/1.1 413"), "{declared}");
    let chunked = send_big_body(&api, head("Transfer-Encoding: chunked\r\n"), len, true).await;
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    // Without the token the body is not even considered.
    let no_token = send_big_body(
        &api,
        format!(
            "POST /api/v1/jobs HTTP/1.1\r\nHost: {}\r\nContent-Length: {len}\r\n\r\n",
            api.host()
        ),
        len,
        false,
    )
    .await;
    assert!(no_token.starts_with("HTTP/1.1 403"), "{no_token}");
    assert_eq!(api.get("/api/v1/health").await.status, 200);
    daemon.stop().await;
}

/// Resident memory of a process, from /proc (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Opens `/api/v1/events` on a raw connection signed in by the header `auth` and reads nothing
/// more than the answer's status line; the connection stays open with it.
async fn open_event_stream(
    port: u16,
    host: String,
    auth: String,
) -> Option<(String, tokio::net::TcpStream)> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    s.write_all(
        format!(
            "GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\n{auth}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .ok()?;
    let mut head = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut head))
        .await
        .ok()?
        .ok()?;
    let line = String::from_utf8_lossy(&head[..n])
        .lines()
        .next()?
        .to_string();
    Some((line, s))
}

/// Opens `count` event streams at once, each signed in by one of `auths` in turn; returns the
/// streams that opened, with the index of their `auth`, and the status lines of the rest
/// (empty when the connection was closed).
async fn open_event_streams(
    api: &StatusClient,
    auths: &[String],
    count: usize,
) -> (Vec<(usize, tokio::net::TcpStream)>, Vec<String>) {
    let attempts: Vec<_> = (0..count)
        .map(|i| {
            let auth = i % auths.len();
            let opened = open_event_stream(api.port, api.host(), auths[auth].clone());
            tokio::spawn(async move { (auth, opened.await) })
        })
        .collect();
    let (mut streaming, mut others) = (Vec::new(), Vec::new());
    for attempt in attempts {
        match attempt.await.unwrap() {
            (auth, Some((line, s))) if line.starts_with("HTTP/1.1 200") => {
                streaming.push((auth, s))
            }
            (_, Some((line, _))) => others.push(line),
            (_, None) => others.push(String::new()),
        }
    }
    (streaming, others)
}

/// 900 event streams, held open and never read: one client (the token, or one browser's
/// session) gets at most its share of the server, every client together at most
/// `MAX_EVENT_STREAMS`, memory stays bounded, and a browser signed in afterwards is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_are_shared_out_per_client_and_bounded() {
    use haul::status::MAX_EVENT_STREAMS;
    use haul::status::clients::MAX_REQUESTS_PER_CLIENT;
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: measures the daemon's memory through /proc");
        return;
    }
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "");
    let daemon = DaemonProcess::start(&home).await;
    let pid = daemon.child.id();
    let api = StatusClient::of(&home).await;
    assert_eq!(api.get("/api/v1/health").await.status, 200);
    let before = rss_kib(pid).expect("the daemon's RSS");

    // A script opens 100 streams at once: its share opens, the rest are told at once.
    let token = vec![format!("X-Haul-Token: {}", api.token)];
    let (script, over) = open_event_streams(&api, &token, 100).await;
    eprintln!(
        "one script, 100 streams: {} open, the rest answered {:?}",
        script.len(),
        over.first()
    );
    assert_eq!(script.len(), MAX_REQUESTS_PER_CLIENT);
    assert!(
        over.iter().all(|l| l.starts_with("HTTP/1.1 429")),
        "{over:?}"
    );
    let refused = api.get("/api/v1/health").await;
    assert_eq!(refused.status, 429, "the script has its share in flight");
    assert_eq!(refused.code(), "too_many_requests");

    // Two browsers open 100 streams each at once: each gets its share, like the script.
    let mut browsers = Vec::new();
    for _ in 0..5 {
        browsers.push(format!("Cookie: {}", api.sign_in(&home).await));
    }
    let (two, over) = open_event_streams(&api, &browsers[..2], 200).await;
    for browser in 0..2 {
        let open = two.iter().filter(|(b, _)| *b == browser).count();
        assert_eq!(open, MAX_REQUESTS_PER_CLIENT, "browser {browser}");
    }
    assert!(
        over.iter().all(|l| l.starts_with("HTTP/1.1 429")),
        "{over:?}"
    );

    // Three more open 600 at once: more than the server's streams. What is left of them opens;
    // the rest are told the server is busy.
    let (three, others) = open_event_streams(&api, &browsers[2..], 600).await;
    let told = |code: &str| {
        others
            .iter()
            .filter(|l| l.starts_with(&format!("HTTP/1.1 {code}")))
            .count()
    };
    eprintln!(
        "three browsers, 600 streams: {} open, {} told busy (503), {} over their share (429), {} closed",
        three.len(),
        told("503"),
        told("429"),
        others.iter().filter(|l| l.is_empty()).count()
    );
    assert_eq!(
        script.len() + two.len() + three.len(),
        MAX_EVENT_STREAMS,
        "every stream the server has is open"
    );
    assert!(told("503") > 0, "{others:?}");

    // The server still answers a browser signed in now, and says how many streams are open.
    let latecomer = api.sign_in(&home).await;
    let health = api
        .send(
            api.anonymous("GET", "/api/v1/health")
                .header("cookie", &latecomer)
                .body(Default::default())
                .unwrap(),
        )
        .await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["event_streams"], MAX_EVENT_STREAMS);
    let during = rss_kib(pid).expect("the daemon's RSS");
    eprintln!("daemon RSS: {before} KiB before, {during} KiB with the streams open");
    assert!(
        during < before + 64 * 1024,
        "memory stays bounded: {before} KiB -> {during} KiB"
    );

    // Once they go, their slots come back.
    drop((script, two, three));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let health = api.get("/api/v1/health").await;
        if health.status == 200 && health.json()["event_streams"] == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still open: {}",
            String::from_utf8_lossy(&health.body)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut events = api.events().await;
    assert_eq!(
        events.next(Duration::from_secs(5)).await.map(|e| e.name),
        Some("hello".to_string())
    );
    assert!(
        daemon.terminate(),
        "the daemon stops cleanly with streams open"
    );
}

/// Sends `request` as raw bytes and returns the status line of the answer (empty when closed).
async fn raw_status_line(port: u16, request: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut reply)).await;
    String::from_utf8_lossy(&reply)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_host_headers_and_absolute_targets_are_refused() {
    let (_ca, _home, daemon, api) = daemon().await;
    let (host, token) = (api.host(), api.token.clone());
    let two_hosts = format!(
        "GET /api/v1/jobs HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\nX-Haul-Token: {token}\r\nConnection: close\r\n\r\n"
    );
    assert!(
        raw_status_line(api.port, &two_hosts)
            .await
            .starts_with("HTTP/1.1 400"),
        "two Host headers"
    );
    for target in [
        format!("http://{host}/api/v1/jobs"),
        "http://evil.example/api/v1/jobs".to_string(),
    ] {
        let absolute = format!(
            "GET {target} HTTP/1.1\r\nHost: {host}\r\nX-Haul-Token: {token}\r\nConnection: close\r\n\r\n"
        );
        let line = raw_status_line(api.port, &absolute).await;
        assert!(line.starts_with("HTTP/1.1 400"), "{target}: {line}");
    }
    // The same request in origin form is answered.
    let fine = format!(
        "GET /api/v1/jobs HTTP/1.1\r\nHost: {host}\r\nX-Haul-Token: {token}\r\nConnection: close\r\n\r\n"
    );
    assert!(
        raw_status_line(api.port, &fine)
            .await
            .starts_with("HTTP/1.1 200")
    );
    daemon.stop().await;
}

/// 600 connections that never finish their headers or sit idle after one request (more than
/// the server's slots) cannot keep the page from its user: each new connection takes the slot
/// of the oldest idle one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_cannot_starve_the_page() {
    let (_ca, _home, daemon, api) = daemon().await;
    let mut slow = Vec::new();
    let idle = format!(
        "GET /api/v1/health HTTP/1.1\r\nHost: {}\r\n\r\n",
        api.host()
    );
    for i in 0..600 {
        if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", api.port)).await {
            if i % 6 == 0 {
                // Some send their headers a little at a time…
                let _ = s.write_all(b"GET /api/v1/health HTTP/1.1\r\nHo").await;
            } else {
                // …most ask once, read the answer and then keep the connection, idle.
                let _ = s.write_all(idle.as_bytes()).await;
                let mut answer = [0u8; 256];
                let _ = tokio::time::timeout(Duration::from_secs(2), s.read(&mut answer)).await;
            }
            slow.push(s);
        }
    }
    let started = std::time::Instant::now();
    for _ in 0..20 {
        assert_eq!(api.get("/api/v1/health").await.status, 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "20 requests took {:?}",
        started.elapsed()
    );
    drop(slow);
    daemon.stop().await;
}
