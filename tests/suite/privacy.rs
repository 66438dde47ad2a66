//! What haul keeps from everyone but the user who runs it, against the real daemon: the status
//! page and API answer nothing without the session a one-time link sets or the token from the
//! user-only token file, the link works once, the token is in no answer; the inbox reads no link
//! (symbolic or hard) out of itself, in no report and no ZIP; the files haul writes are private
//! (0700/0600), corrected at start and checked by `haul doctor`; and — when the suite runs as
//! root, as CI does — a throw-away second account gets nothing from the socket, the page, the
//! API or any file haul wrote.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use haul_tests::ca::TestCa;
use haul_tests::daemon::{DaemonProcess, InProcessDaemon, grab_and_wait, media_grab, run_haul};
use haul_tests::home::{TestHome, returned_from_inbox};
use haul_tests::images;
use haul_tests::media_server::{MediaServer, Route};
use haul_tests::status_client::{Answer, StatusClient, one_time_link, path_of};
use haul_tests::wait_for;
use haul_tests::zipfile::read_zip;
use http_body_util::Full;
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(60);

/// The report line for a link, as the brief words it.
const LINK_LINE: &str =
    "is a link to somewhere outside the inbox; haul reads only files you put in the inbox itself";

/// A media server with one picture, `/p/chair.jpg`.
async fn chair_server(ca: &TestCa) -> MediaServer {
    let server = MediaServer::start(ca).await;
    server.add(
        "/p/chair.jpg",
        Route::ok(images::jpeg_with_metadata(400, 300, 1), "image/jpeg"),
    );
    server
}

/// Grabs the chair through the daemon of `home` and returns the job's id (it has a thumbnail).
async fn grab_chair(home: &TestHome, server: &MediaServer) -> i64 {
    let grab = media_grab(&[server.url("/p/chair.jpg")], "chair");
    grab_and_wait(&home.paths, grab, DEADLINE).await.1.job
}

/// A daemon with one saved picture (so there is a real thumbnail); returns the job id.
async fn daemon_with_a_saved_picture(
    ca: &TestCa,
    extra: &str,
) -> (MediaServer, TestHome, InProcessDaemon, StatusClient, i64) {
    let server = chair_server(ca).await;
    let home = TestHome::new(ca, extra);
    let daemon = InProcessDaemon::start(&home).await;
    let api = StatusClient::of(&home).await;
    let job = grab_chair(&home, &server).await;
    (server, home, daemon, api, job)
}

/// `path?query` of a link `http://127.0.0.1:PORT/path?query`.
/// Follows `link` (or any address on the status server) as a stranger: no token, no cookie.
async fn follow(api: &StatusClient, link: &str) -> Answer {
    api.send(
        api.anonymous("GET", &path_of(link))
            .body(Full::default())
            .unwrap(),
    )
    .await
}

fn get_with_cookie(api: &StatusClient, path: &str, cookie: &str) -> hyper::Request<Full<Bytes>> {
    api.anonymous("GET", path)
        .header("cookie", cookie)
        .body(Full::default())
        .unwrap()
}

fn assert_says_nothing(answer: &Answer, token: &str, what: &str) {
    let body = String::from_utf8_lossy(&answer.body);
    assert!(!body.contains(token), "{what}: the token leaked: {body}");
    assert!(
        answer.header("set-cookie").is_none(),
        "{what}: a cookie was set"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_api_answer_nothing_without_a_session_or_the_token() {
    let ca = TestCa::new();
    let (_server, _home, daemon, api, job) = daemon_with_a_saved_picture(&ca, "").await;
    let thumb = format!("/api/v1/jobs/{job}/items/0/thumbnail");
    assert_eq!(
        api.get(&thumb).await.status,
        200,
        "the owner's script gets it"
    );

    for path in [
        "/",
        "/app.js",
        "/api/v1/jobs",
        &format!("/api/v1/jobs/{job}"),
        thumb.as_str(),
        "/api/v1/events",
        "/api/v1/config",
        "/api/v1/folders",
        "/api/v1/health",
        "/api/v1/openapi.json",
    ] {
        let answer = api
            .send(api.anonymous("GET", path).body(Full::default()).unwrap())
            .await;
        assert_eq!(answer.status, 401, "GET {path}");
        assert_says_nothing(&answer, &api.token, path);
        if path.starts_with("/api/") {
            assert_eq!(answer.code(), "unauthorized", "{path}");
        } else {
            let body = String::from_utf8_lossy(&answer.body);
            assert!(body.contains("haul status --open"), "{path}: {body}");
        }
        // A cookie that is not a session of this daemon is no better.
        let forged = api
            .send(get_with_cookie(
                &api,
                path,
                &format!("haul_session_{}=v1.1.00.00", api.port),
            ))
            .await;
        assert_eq!(forged.status, 401, "forged cookie, GET {path}");
    }
    for (method, path) in [
        ("POST", "/api/v1/jobs".to_string()),
        ("DELETE", format!("/api/v1/jobs/{job}?delete_files=true")),
        ("POST", format!("/api/v1/jobs/{job}/retry")),
    ] {
        let answer = api
            .send(
                api.anonymous(method, &path)
                    .header("origin", api.origin())
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(
                        json!({"urls": ["https://a.example/x.jpg"]}).to_string(),
                    )))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (403, "missing_token"),
            "{method} {path}"
        );
    }
    let jobs = api.get("/api/v1/jobs").await.json();
    assert_eq!(jobs["total"], 1, "nothing was created or deleted: {jobs}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_time_link_signs_a_browser_in_once_and_the_token_is_in_no_answer() {
    let ca = TestCa::new();
    let (_server, home, daemon, api, job) = daemon_with_a_saved_picture(&ca, "").await;
    let link = one_time_link(&home).await;
    assert!(
        link.starts_with(&format!("http://127.0.0.1:{}/open?key=", api.port)),
        "{link}"
    );
    let first = follow(&api, &link).await;
    assert_eq!(first.status, 303);
    assert_eq!(first.header("location"), Some("/"));
    let set_cookie = first
        .header("set-cookie")
        .expect("a session cookie")
        .to_string();
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    for wanted in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&wanted), "{wanted} in {set_cookie}");
    }
    assert!(
        !set_cookie.to_ascii_lowercase().contains("expires")
            && !set_cookie.to_ascii_lowercase().contains("max-age"),
        "a session cookie: {set_cookie}"
    );
    let cookie = attributes[0].to_string();
    assert!(cookie.starts_with(&format!("haul_session_{}=", api.port)));
    assert!(!cookie.contains(&api.token));

    // Used once: never again, and a key nobody was given does nothing either.
    for (what, path) in [
        ("the same link again", path_of(&link)),
        ("a made-up key", format!("/open?key={}", "0".repeat(64))),
        ("no key", "/open".to_string()),
    ] {
        let again = api
            .send(api.anonymous("GET", &path).body(Full::default()).unwrap())
            .await;
        assert_eq!(again.status, 403, "{what}");
        assert_says_nothing(&again, &api.token, what);
    }

    // The session reads the page and the API, and changes things from the page's own Origin.
    for path in [
        "/",
        "/app.js",
        "/app.css",
        "/icon.svg",
        "/api/v1/jobs",
        &format!("/api/v1/jobs/{job}"),
        "/api/v1/health",
        "/api/v1/version",
        "/api/v1/config",
        "/api/v1/folders",
        "/api/v1/openapi.json",
    ] {
        let answer = api.send(get_with_cookie(&api, path, &cookie)).await;
        assert_eq!(answer.status, 200, "GET {path} with the session");
        assert_says_nothing(&answer, &api.token, path);
    }
    let page = api.send(get_with_cookie(&api, "/", &cookie)).await;
    let html = String::from_utf8_lossy(&page.body);
    assert!(
        html.contains("<title>haul") && !html.contains("haul-token"),
        "{html}"
    );
    let thumb = api
        .send(get_with_cookie(
            &api,
            &format!("/api/v1/jobs/{job}/items/0/thumbnail"),
            &cookie,
        ))
        .await;
    assert_eq!(thumb.header("content-type"), Some("image/jpeg"));
    let events = api
        .open(get_with_cookie(&api, "/api/v1/events", &cookie))
        .await;
    assert_eq!(events.status(), 200);
    drop(events);
    let change = |origin: &str| {
        api.anonymous("POST", "/api/v1/jobs")
            .header("cookie", &cookie)
            .header("origin", origin)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                json!({"urls": ["https://a.example/x.jpg"]}).to_string(),
            )))
            .unwrap()
    };
    assert_eq!(api.send(change(&api.origin())).await.status, 201);
    let foreign = api.send(change("http://127.0.0.1:1")).await;
    assert_eq!(
        (foreign.status, foreign.code().as_str()),
        (403, "forbidden_origin")
    );
    // The cookie of a haul on another port is not this one's session.
    let elsewhere = cookie.replacen(&format!("_{}=", api.port), "_1=", 1);
    assert_eq!(
        api.send(get_with_cookie(&api, "/api/v1/jobs", &elsewhere))
            .await
            .status,
        401
    );

    // The CLI: `--link` prints a link, `--open` hands one to the desktop's opener.
    let printed = run_haul(&home, &["status", "--link"]).await;
    assert!(printed.status.success(), "{printed:?}");
    let printed = String::from_utf8_lossy(&printed.stdout).trim().to_string();
    let answer = follow(&api, &printed).await;
    assert_eq!(answer.status, 303, "the printed link works: {printed}");
    let opened = home.root().join("opened.txt");
    home.write_config(&format!(
        "open_command = [\"sh\", \"-c\", \"printf %s \\\"$0\\\" > '{}'\"]",
        opened.display()
    ));
    let out = run_haul(&home, &["status", "--open"]).await;
    assert!(out.status.success(), "{out:?}");
    let handed = wait_for(Duration::from_secs(10), || {
        std::fs::read_to_string(&opened)
            .ok()
            .filter(|s| !s.is_empty())
    })
    .await
    .expect("the opener got a link");
    let answer = follow(&api, &handed).await;
    assert_eq!(answer.status, 303, "the opened link works: {handed}");
    daemon.stop().await;
}

async fn returned(inbox: &Path, name: &str) -> &'static str {
    returned_from_inbox(inbox, name, DEADLINE).await
}

fn report(inbox: &Path, dir: &str, name: &str) -> String {
    std::fs::read_to_string(inbox.join(dir).join(format!("{name}.error.txt")))
        .unwrap_or_else(|e| panic!("a report for {name} in {dir}/: {e}"))
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_follows_no_link_out_of_itself() {
    use std::os::unix::fs::symlink;
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    server.add(
        "/secret.jpg",
        Route::ok(images::jpeg_with_metadata(1200, 1000, 9), "image/jpeg"),
    );
    let home = TestHome::new(
        &ca,
        "inbox_settle_ms = 300\n[resolve]\n\"media.test\" = \"127.0.0.1\"",
    );
    // What lives outside the inbox: a secret list (whose URL would be downloaded if read), a
    // folder of private photos.
    let outside = home.root().join("outside");
    let photos = outside.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let secret_url = server.url_via("media.test", "/secret.jpg");
    let secret = outside.join("secret.txt");
    std::fs::write(&secret, format!("SECRET-LINE-1\n{secret_url}\n")).unwrap();
    std::fs::write(
        photos.join("private.jpg"),
        images::jpeg_with_metadata(1200, 1000, 7),
    )
    .unwrap();
    std::fs::write(
        photos.join("other.jpg"),
        images::jpeg_with_metadata(1200, 1000, 8),
    )
    .unwrap();

    let daemon = InProcessDaemon::start(&home).await;
    let inbox = home.paths.inbox_dir.clone();
    // A seller folder of one real photo, a link to a private one and a hard link to another;
    // prepared beside the inbox and moved in at once.
    let drop = home.root().join("SKU2");
    std::fs::create_dir(&drop).unwrap();
    std::fs::write(
        drop.join("a.jpg"),
        images::jpeg_with_metadata(1200, 1000, 1),
    )
    .unwrap();
    symlink(photos.join("private.jpg"), drop.join("b.jpg")).unwrap();
    std::fs::hard_link(photos.join("other.jpg"), drop.join("c.jpg")).unwrap();
    std::fs::rename(&drop, inbox.join("SKU2")).unwrap();
    // A link to a file, a link to a folder, a hard link to a file.
    symlink(&secret, inbox.join("shadow.txt")).unwrap();
    symlink(&photos, inbox.join("SKULINK")).unwrap();
    std::fs::hard_link(&secret, inbox.join("hard.txt")).unwrap();

    assert_eq!(returned(&inbox, "shadow.txt").await, "failed");
    assert_eq!(returned(&inbox, "SKULINK").await, "failed");
    assert_eq!(returned(&inbox, "hard.txt").await, "failed");
    assert_eq!(returned(&inbox, "SKU2").await, "done");

    let shadow = report(&inbox, "failed", "shadow.txt");
    assert!(
        shadow.contains(&format!("shadow.txt {LINK_LINE}")),
        "{shadow}"
    );
    let folder = report(&inbox, "failed", "SKULINK");
    assert!(folder.contains(&format!("SKULINK {LINK_LINE}")), "{folder}");
    let hard = report(&inbox, "failed", "hard.txt");
    assert!(
        hard.contains("hard.txt is a hard link") && hard.contains("inbox itself"),
        "{hard}"
    );
    let seller = report(&inbox, "done", "SKU2");
    assert!(seller.contains(&format!("b.jpg {LINK_LINE}")), "{seller}");
    assert!(seller.contains("c.jpg is a hard link"), "{seller}");
    for text in [&shadow, &folder, &hard, &seller] {
        assert!(
            !text.contains("SECRET")
                && !text.contains("secret")
                && !text.contains(&outside.display().to_string()),
            "nothing of what lies outside: {text}"
        );
    }
    // Nothing from outside in any package, and the secret list's URL was never requested.
    let outputs = home.outputs();
    assert_eq!(
        outputs.len(),
        1,
        "only the seller folder's package: {outputs:?}"
    );
    let entries = read_zip(&outputs[0]);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["SKU2.MAIN.jpg", "manifest.json", "manifest.csv"]);
    assert_eq!(server.hits("/secret.jpg"), 0);
    // The reports and their folders are the user's alone.
    for (dir, name) in [
        ("failed", "shadow.txt"),
        ("failed", "SKULINK"),
        ("failed", "hard.txt"),
        ("done", "SKU2"),
    ] {
        assert_eq!(
            mode(&inbox.join(dir).join(format!("{name}.error.txt"))),
            0o600
        );
    }
    for dir in ["done", "failed", "processing"] {
        assert_eq!(mode(&inbox.join(dir)), 0o700, "{dir}/");
    }
    daemon.stop().await;
}

/// Everything haul wrote that must be private, with the mode it must have.
#[cfg(unix)]
fn private_files(home: &TestHome) -> Vec<(PathBuf, u32)> {
    let p = &home.paths;
    let inbox = &p.inbox_dir;
    let mut journal_wal = p.journal_file().into_os_string();
    journal_wal.push("-wal");
    vec![
        (p.data_dir.clone(), 0o700),
        (p.log_dir(), 0o700),
        (p.runtime_dir.clone(), 0o700),
        (inbox.join("failed"), 0o700),
        (inbox.join("done"), 0o700),
        (inbox.join("processing"), 0o700),
        (p.journal_file(), 0o600),
        (journal_wal.into(), 0o600),
        (p.api_token_file(), 0o600),
        (p.log_dir().join("daemon.log"), 0o600),
        (inbox.join("failed/bad.txt.error.txt"), 0o600),
    ]
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_haul_writes_is_private_corrected_at_start_and_checked_by_doctor() {
    use std::os::unix::fs::PermissionsExt;
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "inbox_settle_ms = 300");
    let daemon = DaemonProcess::start(&home).await;
    let inbox = home.paths.inbox_dir.clone();
    std::fs::write(inbox.join("bad.txt"), "this is not a link\n").unwrap();
    assert_eq!(returned(&inbox, "bad.txt").await, "failed");
    for (path, wanted) in private_files(&home) {
        assert_eq!(mode(&path), wanted, "{}", path.display());
    }
    let doctor = run_haul(&home, &["doctor", "--timeout", "1"]).await;
    let said = String::from_utf8_lossy(&doctor.stdout).to_string();
    assert!(
        said.lines()
            .any(|l| l.starts_with("ok") && l.contains("privacy:")),
        "{said}"
    );
    assert!(daemon.terminate());

    // An older haul's modes: open to everyone.
    for (path, wanted) in private_files(&home) {
        if path.exists() {
            let open = if wanted == 0o700 { 0o755 } else { 0o644 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(open)).unwrap();
        }
    }
    let doctor = run_haul(&home, &["doctor", "--timeout", "0.2"]).await;
    let said = String::from_utf8_lossy(&doctor.stdout).to_string();
    assert!(!doctor.status.success());
    let token = home.paths.api_token_file().display().to_string();
    assert!(
        said.contains("PROBLEM  privacy:")
            && said.contains("can be opened by other users")
            && said.contains(&format!("{token} (mode 644, should be 600)"))
            && said.contains(&format!("chmod 600 '{token}'")),
        "{said}"
    );
    let daemon = DaemonProcess::start(&home).await;
    for (path, wanted) in private_files(&home) {
        assert_eq!(
            mode(&path),
            wanted,
            "corrected at start: {}",
            path.display()
        );
    }
    assert!(daemon.terminate());
}

/// A throw-away account, removed when dropped.
#[cfg(unix)]
struct Stranger {
    name: String,
    uid: u32,
    gid: u32,
}

#[cfg(unix)]
impl Stranger {
    fn create() -> Stranger {
        let name = format!("haulx{}", std::process::id() % 100_000);
        let _ = std::process::Command::new("userdel").arg(&name).output();
        let made = std::process::Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                &name,
            ])
            .output()
            .expect("run useradd (Debian's passwd package)");
        assert!(made.status.success(), "useradd {name}: {made:?}");
        let id = |flag: &str| -> u32 {
            let out = std::process::Command::new("id")
                .args([flag, &name])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("an id")
        };
        let (uid, gid) = (id("-u"), id("-g"));
        Stranger { name, uid, gid }
    }

    /// Runs `argv` as this account (no supplementary groups); returns (exit code, stdout).
    fn run(&self, argv: &[&str]) -> (i32, String) {
        let out = std::process::Command::new("setpriv")
            .arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .arg("--clear-groups")
            .arg("--")
            .args(argv)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run setpriv (util-linux)");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

#[cfg(unix)]
impl Drop for Stranger {
    fn drop(&mut self) {
        let _ = std::process::Command::new("userdel")
            .arg(&self.name)
            .output();
    }
}

/// Every file and folder under `dir` (links not followed).
#[cfg(unix)]
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in rd.filter_map(Result::ok) {
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&entry.path(), out),
            Ok(_) => out.push(entry.path()),
            Err(_) => {}
        }
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_account_gets_nothing() {
    use std::os::unix::fs::PermissionsExt;
    if !is_root() {
        eprintln!(
            "skipped a_second_account_gets_nothing: it creates a throw-away account, which needs root (CI runs as root)"
        );
        return;
    }
    for tool in ["useradd", "setpriv", "curl"] {
        let found = std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(found, "{tool} is needed (.ci/run installs it)");
    }
    let ca = TestCa::new();
    let server = chair_server(&ca).await;
    let home = TestHome::new(&ca, "inbox_settle_ms = 300");
    // A home as open as a real one often is (0755): only haul's own modes may keep others out.
    std::fs::set_permissions(home.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let canary = home.root().join("canary.txt");
    std::fs::write(&canary, "readable").unwrap();
    std::fs::set_permissions(&canary, std::fs::Permissions::from_mode(0o644)).unwrap();

    let daemon = DaemonProcess::start(&home).await;
    let api = StatusClient::of(&home).await;
    let job = grab_chair(&home, &server).await;
    let thumb = format!("/api/v1/jobs/{job}/items/0/thumbnail");
    assert_eq!(api.get(&thumb).await.status, 200);
    let inbox = home.paths.inbox_dir.clone();
    std::fs::write(inbox.join("bad.txt"), "not a link\n").unwrap();
    assert_eq!(returned(&inbox, "bad.txt").await, "failed");

    let stranger = Stranger::create();
    // The control: the stranger can read what is open to everyone, so what follows is haul's
    // doing and not the test home's.
    let (code, text) = stranger.run(&["cat", &canary.display().to_string()]);
    assert_eq!((code, text.as_str()), (0, "readable"), "the control file");

    // The socket: not even a connection (curl's 7: could not connect).
    let socket = home.paths.runtime_dir.join("haul.sock");
    let (code, _) = stranger.run(&[
        "curl",
        "-s",
        "-m",
        "5",
        "--unix-socket",
        &socket.display().to_string(),
        "http://x/",
    ]);
    assert_eq!(code, 7, "the stranger connected to the socket");

    // The page, the API, the event stream, a thumbnail: nothing, and no token.
    let base = format!("http://127.0.0.1:{}", api.port);
    for (method, path, status) in [
        ("GET", "/", "401"),
        ("GET", "/api/v1/jobs", "401"),
        ("GET", "/api/v1/config", "401"),
        ("GET", "/api/v1/events", "401"),
        ("GET", thumb.as_str(), "401"),
        ("POST", "/api/v1/jobs", "403"),
        (
            "DELETE",
            &format!("/api/v1/jobs/{job}?delete_files=true"),
            "403",
        ),
    ] {
        let (code, body) = stranger.run(&[
            "curl",
            "-s",
            "-m",
            "10",
            "-X",
            method,
            "-H",
            "content-type: application/json",
            "--data-binary",
            if method == "POST" {
                r#"{"urls":["https://a.example/x.jpg"]}"#
            } else {
                ""
            },
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            &format!("{base}{path}"),
        ]);
        // curl sends the data only with POST; GET and DELETE carry none.
        assert_eq!(code, 0, "{method} {path}: curl failed");
        let (body, got) = body.rsplit_once('\n').unwrap_or(("", body.as_str()));
        assert_eq!(got, status, "{method} {path}: {body}");
        assert!(
            !body.contains(&api.token),
            "{method} {path}: the token leaked"
        );
    }
    let jobs = api.get("/api/v1/jobs").await.json();
    assert_eq!(jobs["total"], 1, "the stranger changed nothing: {jobs}");
    assert!(home.outputs().len() == 1, "the package is still there");

    // Every file and folder haul wrote outside the output folder: nothing to read or list.
    let mut written = Vec::new();
    for dir in [
        home.paths.data_dir.clone(),
        home.paths.runtime_dir.clone(),
        inbox.join("done"),
        inbox.join("failed"),
        inbox.join("processing"),
    ] {
        walk(&dir, &mut written);
    }
    assert!(written.len() > 10, "{written:?}");
    for path in &written {
        let shown = path.display().to_string();
        let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
        let (code, text) = if is_dir {
            stranger.run(&["ls", "-A", &shown])
        } else {
            stranger.run(&["cat", &shown])
        };
        assert!(
            code != 0 && text.is_empty(),
            "the stranger read {shown}: {text}"
        );
    }
    drop(stranger);
    assert!(daemon.terminate());
}

#[cfg(unix)]
fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
