//! The status server's JSON API against the real daemon (in-process, status page on
//! `127.0.0.1:0`) and real jobs from the local HTTPS media server: every endpoint's happy path
//! and errors, the event stream during a job, and the OpenAPI document against the routes.

use std::time::Duration;

use haul_tests::ca::TestCa;
use haul_tests::daemon::{InProcessDaemon, run_haul};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{Behavior, MediaServer, Route};
use haul_tests::status_client::StatusClient;
use serde_json::{Value, json};

const JOB_TIMEOUT: Duration = Duration::from_secs(60);

struct Setup {
    _ca: TestCa,
    server: MediaServer,
    home: TestHome,
    daemon: InProcessDaemon,
    api: StatusClient,
    /// Where the test's `open_command` writes the paths it was asked to open.
    opened: std::path::PathBuf,
}

async fn setup(extra: &str) -> Setup {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let probe = TestHome::new(&ca, "");
    let opened = probe.root().join("opened.txt");
    // The "open" buttons run a recorder instead of the desktop's opener.
    let config = format!(
        "open_command = [\"/bin/sh\", \"-c\", \"printf '%s\\\\n' \\\"$0\\\" >> '{}'\"]\n{extra}",
        opened.display()
    );
    probe.write_config(&config);
    let home = probe;
    let daemon = InProcessDaemon::start(&home).await;
    let api = StatusClient::of(&home).await;
    Setup {
        _ca: ca,
        server,
        home,
        daemon,
        api,
        opened,
    }
}

/// Serves two pictures and a missing one; returns their URLs.
fn serve_pictures(server: &MediaServer) -> [String; 3] {
    server.add(
        "/p/a.jpg",
        Route::ok(images::jpeg_with_metadata(640, 480, 1), "image/jpeg"),
    );
    server.add(
        "/p/b.png",
        Route::ok(images::png_with_metadata(300, 200, 2), "image/png"),
    );
    server.add(
        "/p/gone.jpg",
        Route::ok(images::jpeg_with_metadata(10, 10, 3), "image/jpeg").with(Behavior::Status(404)),
    );
    [
        server.url("/p/a.jpg"),
        server.url("/p/b.png"),
        server.url("/p/gone.jpg"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_is_reported_in_hello_status_json_and_the_runtime_file() {
    let s = setup("").await;
    let url = format!("http://127.0.0.1:{}/", s.api.port);
    let (_, hello) = haul_tests::daemon::connect(&s.home.paths).await.unwrap();
    assert_eq!(hello.status_url.as_deref(), Some(url.as_str()));
    let file: Value =
        serde_json::from_slice(&std::fs::read(s.home.paths.status_file()).unwrap()).unwrap();
    assert_eq!(file["url"], url.as_str());
    assert_eq!(file["pid"], std::process::id());

    let out = run_haul(&s.home, &["status", "--json"]).await;
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["status_url"], url.as_str());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.home.paths.api_token_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the token is private");
    }
    // Loopback only: ::1 answers too when the machine has it; nothing else is bound.
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        assert!(
            tokio::net::TcpStream::connect(("::1", s.api.port))
                .await
                .is_ok()
        );
    }
    s.daemon.stop().await;
    assert!(
        !s.home.paths.status_file().exists(),
        "status.json is removed when the daemon stops"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_version_config_folders_and_the_page_answer() {
    let s = setup("proxy = \"http://someone:hunter2@127.0.0.1:9\"\n").await;
    let health = s.api.get("/api/v1/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(health.json()["version"], haul_protocol::VERSION);

    let version = s.api.get("/api/v1/version").await.json();
    assert_eq!(version["api"], 1);
    assert_eq!(version["protocol"], haul_protocol::PROTOCOL_VERSION);

    let config = s.api.get("/api/v1/config").await;
    assert_eq!(config.status, 200);
    let text = String::from_utf8_lossy(&config.body);
    assert!(
        !text.contains("hunter2") && !text.contains("someone"),
        "{text}"
    );
    assert_eq!(config.json()["redacted"], json!(["proxy"]));
    assert_eq!(config.json()["config"]["status_port"], 0);

    let folders = s.api.get("/api/v1/folders").await.json();
    assert_eq!(
        folders["output"]["path"],
        s.home.paths.output_dir.display().to_string()
    );
    assert!(folders["output"]["free_bytes"].as_u64().unwrap() > 0);
    assert_eq!(
        folders["inbox"]["path"],
        s.home.paths.inbox_dir.display().to_string()
    );

    let opened = s
        .api
        .change("POST", "/api/v1/folders/inbox/open", None)
        .await;
    assert_eq!(opened.status, 202, "{:?}", opened.body);
    assert!(s.home.paths.inbox_dir.is_dir(), "created before opening");
    let bad = s
        .api
        .change("POST", "/api/v1/folders/journal/open", None)
        .await;
    assert_eq!((bad.status, bad.code().as_str()), (400, "bad_request"));

    let page = s.api.get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let html = String::from_utf8_lossy(&page.body);
    assert!(
        !html.contains(&s.api.token),
        "the page never carries the token"
    );
    assert!(!html.contains("<script>"), "no inline script");
    for remote in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!html.contains(remote), "no remote assets: {remote}");
    }
    for (path, kind) in [
        ("/app.js", "text/javascript"),
        ("/app.css", "text/css"),
        ("/icon.svg", "image/svg+xml"),
    ] {
        let asset = s.api.get(path).await;
        assert_eq!(asset.status, 200, "{path}");
        assert!(asset.header("content-type").unwrap().starts_with(kind));
        assert!(!asset.body.is_empty());
        let text = String::from_utf8_lossy(&asset.body);
        for remote in ["url(http", "url(//", "import(", "fetch('http", "@import"] {
            assert!(
                !text.contains(remote),
                "{path} loads nothing remote: {remote}"
            );
        }
    }
    let missing = s.api.get("/nothing-here").await;
    assert_eq!((missing.status, missing.code().as_str()), (404, "no_route"));
    let wrong = s.api.change("PUT", "/api/v1/health", None).await;
    assert_eq!(
        (wrong.status, wrong.code().as_str()),
        (405, "method_not_allowed")
    );
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_created_listed_detailed_retried_opened_and_deleted() {
    let s = setup("").await;
    let urls = serve_pictures(&s.server);

    // Empty at first.
    let list = s.api.get("/api/v1/jobs").await.json();
    assert_eq!(
        (
            list["total"].as_u64(),
            list["jobs"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );

    let job = s
        .api
        .create_job(json!({"urls": urls, "name": "chair"}))
        .await;
    let detail = s.api.wait_until_ended(job, JOB_TIMEOUT).await;
    assert_eq!(detail["state"], "partial", "{detail:#}");
    assert_eq!(
        (detail["saved"].as_u64(), detail["failed"].as_u64()),
        (Some(2), Some(1))
    );
    let items = detail["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["state"], "saved");
    assert_eq!(items[0]["width"], 640);
    assert!(items[2]["error"].as_str().unwrap().contains("404"));
    assert!(
        items[2]["explanation"]
            .as_str()
            .unwrap()
            .contains("no longer on the shop's server")
    );
    assert_eq!(items[2]["error_kind"], "not_found");
    assert_eq!(items[0]["error_kind"], Value::Null);
    let output = detail["output"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&output).exists());

    // Thumbnails: saved pictures only, by job and item id.
    let thumb_url = items[0]["thumbnail"].as_str().unwrap();
    assert_eq!(thumb_url, format!("/api/v1/jobs/{job}/items/0/thumbnail"));
    let thumb = s.api.get(thumb_url).await;
    assert_eq!(thumb.status, 200);
    assert_eq!(thumb.header("content-type"), Some("image/jpeg"));
    let decoded = image::load_from_memory(&thumb.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 240));
    let etag = thumb.header("etag").unwrap().to_string();
    let again = s
        .api
        .send(
            s.api
                .request("GET", thumb_url)
                .header("if-none-match", &etag)
                .body(Default::default())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, 304);
    assert!(items[2]["thumbnail"].is_null());
    let none = s
        .api
        .get(&format!("/api/v1/jobs/{job}/items/2/thumbnail"))
        .await;
    assert_eq!((none.status, none.code().as_str()), (404, "no_thumbnail"));
    let no_item = s
        .api
        .get(&format!("/api/v1/jobs/{job}/items/9/thumbnail"))
        .await;
    assert_eq!(no_item.status, 404);

    // A second job, then paging and filters.
    let second = s.api.create_job(json!({"urls": [urls[0]]})).await;
    s.api.wait_until_ended(second, JOB_TIMEOUT).await;
    let page = s.api.get("/api/v1/jobs?limit=1").await.json();
    assert_eq!(page["total"], 2);
    assert_eq!(page["jobs"][0]["job"], second, "newest first");
    let page2 = s.api.get("/api/v1/jobs?limit=1&offset=1").await.json();
    assert_eq!(page2["jobs"][0]["job"], job);
    let partial = s.api.get("/api/v1/jobs?state=partial,failed").await.json();
    assert_eq!(partial["total"], 1);
    assert_eq!(partial["jobs"][0]["job"], job);
    let bad_filter = s.api.get("/api/v1/jobs?state=exploded").await;
    assert_eq!(
        (bad_filter.status, bad_filter.code().as_str()),
        (400, "bad_request")
    );
    let bad_limit = s.api.get("/api/v1/jobs?limit=lots").await;
    assert_eq!(bad_limit.status, 400);

    // Cancel: only running jobs.
    let cancel = s
        .api
        .change("POST", &format!("/api/v1/jobs/{second}/cancel"), None)
        .await;
    assert_eq!((cancel.status, cancel.code().as_str()), (409, "conflict"));
    let retry_done = s
        .api
        .change("POST", &format!("/api/v1/jobs/{second}/retry"), None)
        .await;
    assert_eq!(
        (retry_done.status, retry_done.code().as_str()),
        (409, "nothing_to_retry")
    );

    // Open the package and its folder (through the recorder).
    for (target, expect) in [
        ("file", output.clone()),
        (
            "folder",
            std::path::Path::new(&output)
                .parent()
                .unwrap()
                .display()
                .to_string(),
        ),
    ] {
        let opened = s
            .api
            .change(
                "POST",
                &format!("/api/v1/jobs/{job}/open"),
                Some(json!({"target": target})),
            )
            .await;
        assert_eq!(opened.status, 202);
        let seen = haul_tests::wait_for(Duration::from_secs(5), || {
            std::fs::read_to_string(&s.opened)
                .ok()
                .filter(|t| t.lines().any(|l| l == expect))
        })
        .await;
        assert!(seen.is_some(), "the opener was run with {expect}");
    }

    // Retry the failed file once the server has it.
    s.server.add(
        "/p/gone.jpg",
        Route::ok(images::jpeg_with_metadata(64, 48, 3), "image/jpeg"),
    );
    let retried = s
        .api
        .change("POST", &format!("/api/v1/jobs/{job}/retry"), None)
        .await;
    assert_eq!(retried.status, 202, "{:?}", retried.body);
    assert_eq!(retried.json()["retried"], 1);
    assert_eq!(
        retried.json()["restored"],
        2,
        "saved files come back from the package"
    );
    let detail = s.api.wait_until_ended(job, JOB_TIMEOUT).await;
    assert_eq!(detail["state"], "complete", "{detail:#}");
    let new_output = detail["output"].as_str().unwrap().to_string();
    assert_eq!(
        new_output, output,
        "the untouched old package was replaced under its name"
    );
    let outputs = s.home.outputs();
    assert_eq!(outputs.len(), 2, "{outputs:?}");

    // Delete from history: the package stays unless asked.
    let deleted = s
        .api
        .change("DELETE", &format!("/api/v1/jobs/{job}"), None)
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["files_deleted"], json!([]));
    assert!(
        std::path::Path::new(&new_output).exists(),
        "output is never deleted unasked"
    );
    let gone = s.api.get(&format!("/api/v1/jobs/{job}")).await;
    assert_eq!((gone.status, gone.code().as_str()), (404, "not_found"));
    let twice = s
        .api
        .change("DELETE", &format!("/api/v1/jobs/{job}"), None)
        .await;
    assert_eq!(twice.status, 404);

    let second_output = s.api.get(&format!("/api/v1/jobs/{second}")).await.json()["output"]
        .as_str()
        .unwrap()
        .to_string();
    let with_files = s
        .api
        .change(
            "DELETE",
            &format!("/api/v1/jobs/{second}?delete_files=true"),
            None,
        )
        .await;
    assert_eq!(with_files.status, 200);
    assert_eq!(with_files.json()["files_deleted"], json!([second_output]));
    assert!(!std::path::Path::new(&second_output).exists());
    assert_eq!(s.home.outputs(), [std::path::PathBuf::from(&new_output)]);
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_errors_with_stable_codes() {
    let s = setup("").await;
    let cases: [(Value, &str); 5] = [
        (json!({"urls": ["file:///etc/passwd"]}), "bad_request"),
        (json!({"urls": ["not a url"]}), "bad_request"),
        (json!({"urls": []}), "nothing_to_grab"),
        (
            json!({"urls": ["https://a.example/x.jpg"], "out_dir": "/tmp"}),
            "bad_request",
        ),
        (
            json!({"page": {"url": "javascript:alert(1)"}}),
            "bad_request",
        ),
    ];
    for (body, code) in cases {
        let answer = s
            .api
            .change("POST", "/api/v1/jobs", Some(body.clone()))
            .await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (400, code),
            "{body}"
        );
        assert!(!answer.json()["message"].as_str().unwrap().is_empty());
    }
    let not_json = s
        .api
        .send(
            s.api
                .request("POST", "/api/v1/jobs")
                .header("origin", s.api.origin())
                .header("x-haul-token", &s.api.token)
                .header("content-type", "application/json")
                .body("{not json".into())
                .unwrap(),
        )
        .await;
    assert_eq!(
        (not_json.status, not_json.code().as_str()),
        (400, "bad_request")
    );
    let no_type = s
        .api
        .send(
            s.api
                .request("POST", "/api/v1/jobs")
                .header("origin", s.api.origin())
                .header("x-haul-token", &s.api.token)
                .body("{}".into())
                .unwrap(),
        )
        .await;
    assert_eq!(
        (no_type.status, no_type.code().as_str()),
        (415, "unsupported_media_type")
    );
    let no_job = s.api.get("/api/v1/jobs/424242").await;
    assert_eq!((no_job.status, no_job.code().as_str()), (404, "not_found"));
    for (method, path) in [
        ("POST", "/api/v1/jobs/424242/cancel"),
        ("POST", "/api/v1/jobs/424242/retry"),
        ("DELETE", "/api/v1/jobs/424242"),
    ] {
        let answer = s.api.change(method, path, None).await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (404, "not_found"),
            "{method} {path}"
        );
    }
    let open = s
        .api
        .change(
            "POST",
            "/api/v1/jobs/424242/open",
            Some(json!({"target": "file"})),
        )
        .await;
    assert_eq!(open.status, 404);
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_can_be_cancelled_and_is_not_deleted_while_it_runs() {
    let s = setup("").await;
    s.server.add(
        "/slow.png",
        Route::ok(images::png_with_metadata(400, 400, 9), "image/png").with(Behavior::Slow {
            chunk: 256,
            every: Duration::from_millis(100),
        }),
    );
    let job = s
        .api
        .create_job(json!({"urls": [s.server.url("/slow.png")]}))
        .await;
    s.api
        .wait_for_job(job, JOB_TIMEOUT, |d| {
            d["items"][0]["state"] == "downloading"
        })
        .await;
    let busy = s
        .api
        .change("DELETE", &format!("/api/v1/jobs/{job}"), None)
        .await;
    assert_eq!((busy.status, busy.code().as_str()), (409, "conflict"));
    let cancel = s
        .api
        .change("POST", &format!("/api/v1/jobs/{job}/cancel"), None)
        .await;
    assert_eq!(cancel.status, 202);
    let detail = s.api.wait_until_ended(job, JOB_TIMEOUT).await;
    assert_eq!(detail["state"], "cancelled");
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_delivers_progress_during_a_real_job() {
    let s = setup("").await;
    let picture = images::png_with_metadata(500, 500, 7);
    s.server.add(
        "/drip.png",
        Route::ok(picture.clone(), "image/png").with(Behavior::Slow {
            chunk: picture.len() / 12,
            every: Duration::from_millis(60),
        }),
    );
    let mut events = s.api.events().await;
    let hello = events.next(Duration::from_secs(5)).await.expect("hello");
    assert_eq!(hello.name, "hello");
    assert_eq!(hello.data["version"], haul_protocol::VERSION);

    let job = s
        .api
        .create_job(json!({"urls": [s.server.url("/drip.png")]}))
        .await;
    let mut seen_bytes = Vec::new();
    let mut created = false;
    let finished = loop {
        let event = events
            .next(JOB_TIMEOUT)
            .await
            .expect("events until the job finishes");
        match event.name.as_str() {
            "jobs" if event.data["job"] == job => {
                assert_eq!(event.data["change"], "created");
                created = true;
            }
            "progress"
                if event.data["job"] == job && event.data["item"]["state"] == "downloading" =>
            {
                seen_bytes.push(event.data["item"]["bytes"].as_u64().unwrap());
            }
            "finished" if event.data["job"] == job => break event.data,
            _ => {}
        }
    };
    assert!(created, "the API's own change was announced");
    assert_eq!(finished["status"], "complete");
    assert_eq!(finished["saved"], 1);
    assert!(
        seen_bytes.len() >= 3 && seen_bytes.windows(2).all(|w| w[0] <= w[1]),
        "progress grew during the download: {seen_bytes:?}"
    );
    assert!(
        seen_bytes
            .iter()
            .any(|&b| b > 0 && b < picture.len() as u64)
    );

    // The stream ends when the daemon stops.
    s.daemon.stop().await;
    let mut ended = false;
    for _ in 0..10 {
        if events.next(Duration::from_secs(5)).await.is_none() {
            ended = true;
            break;
        }
    }
    assert!(ended, "the event stream closes on shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_validates_and_lists_every_route() {
    let s = setup("").await;
    let answer = s.api.get("/api/v1/openapi.json").await;
    assert_eq!(answer.status, 200);
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let doc = answer.json();
    let spec: oas3::Spec = oas3::from_json(String::from_utf8_lossy(&answer.body))
        .expect("the document parses as OpenAPI 3.1");
    assert!(spec.openapi.starts_with("3."), "{}", spec.openapi);
    assert_eq!(doc["info"]["version"], haul_protocol::VERSION);

    // Every route the server has, and only those.
    let expected = [
        ("get", "/"),
        ("get", "/open"),
        ("get", "/app.js"),
        ("get", "/app.css"),
        ("get", "/icon.svg"),
        ("get", "/api/v1/jobs"),
        ("post", "/api/v1/jobs"),
        ("get", "/api/v1/jobs/{job}"),
        ("delete", "/api/v1/jobs/{job}"),
        ("post", "/api/v1/jobs/{job}/cancel"),
        ("post", "/api/v1/jobs/{job}/retry"),
        ("post", "/api/v1/jobs/{job}/open"),
        ("get", "/api/v1/jobs/{job}/items/{index}/thumbnail"),
        ("get", "/api/v1/export"),
        ("get", "/api/v1/folders"),
        ("post", "/api/v1/folders/{folder}/open"),
        ("get", "/api/v1/events"),
        ("get", "/api/v1/health"),
        ("get", "/api/v1/version"),
        ("get", "/api/v1/config"),
        ("get", "/api/v1/openapi.json"),
    ];
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                documented.push((method.clone(), path.clone()));
            }
        }
    }
    documented.sort();
    let mut wanted: Vec<(String, String)> = expected
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    wanted.sort();
    assert_eq!(documented, wanted);

    // Each documented route is served: it never answers `no_route` / `method_not_allowed`, and
    // the changing ones are guarded by the token scheme the document declares.
    for (method, path) in &wanted {
        let concrete = path
            .replace("{job}", "424242")
            .replace("{index}", "0")
            .replace("{folder}", "output");
        let answer = if method == "get" {
            if concrete == "/api/v1/events" {
                continue; // a stream: covered by its own test
            }
            s.api.get(&concrete).await
        } else {
            s.api
                .send(
                    s.api
                        .anonymous(&method.to_uppercase(), &concrete)
                        .body(Default::default())
                        .unwrap(),
                )
                .await
        };
        // Nothing answers a stranger but a one-time link (which, made up, is refused).
        let stranger = s
            .api
            .send(
                s.api
                    .anonymous(&method.to_uppercase(), &concrete)
                    .body(Default::default())
                    .unwrap(),
            )
            .await;
        let wanted_status = match (method.as_str(), path.as_str()) {
            ("get", "/open") => 403,
            ("get", _) => 401,
            _ => 403,
        };
        assert_eq!(
            stranger.status, wanted_status,
            "{method} {path} without sign-in"
        );
        if answer.status == 404 || answer.status == 405 {
            assert_ne!(answer.code(), "no_route", "{method} {path}");
            assert_ne!(answer.code(), "method_not_allowed", "{method} {path}");
        }
        if method != "get" {
            assert_eq!(answer.status, 403, "{method} {path} needs the token");
            let op = &doc["paths"][path][method];
            assert_eq!(op["security"], json!([{"token": []}]), "{method} {path}");
        }
    }
    // Every $ref points at a schema that exists.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref to {name}");
    }
    // The failure kinds are documented as the protocol crate's, on items and jobs.
    let kinds: Vec<&str> = haul_protocol::message::FailureKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(schemas["FailureKindDoc"]["enum"], json!(kinds));
    for schema in ["ItemView", "JobDetail", "ItemEvent"] {
        let kind = schemas[schema]["properties"]["error_kind"].to_string();
        assert!(kind.contains("FailureKindDoc"), "{schema}: {kind}");
    }
    s.daemon.stop().await;
}
