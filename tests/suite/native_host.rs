//! The real `haul-native-host` binary driven through its stdio exactly as a browser drives it
//! (framed JSON in, frames out), relaying to the real `haul daemon` process over its real socket:
//! `hello`, a `grab` against the local HTTPS media server through to the ZIP, every malformed
//! frame, and the host starting the daemon itself — once, even when two hosts race.
//!
//! Every host runs in a process group of its own and is killed by it when the test ends; a
//! daemon a host started leads its own session and is found and killed by its `HAUL_HOME`.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use haul_protocol::frame::{MAX_FROM_BROWSER, MAX_TO_BROWSER};
use haul_protocol::install::{HAUL_BIN_ENV, chrome_origin};
use haul_protocol::message::ErrorCode;
use haul_protocol::paths::HAUL_HOME_ENV;
use haul_protocol::{DEV_EXTENSION_ID, PROTOCOL_VERSION, VERSION};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{DaemonProcess, connect, haul_bin, native_host_bin};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{MediaServer, Route};
use haul_tests::process::{DaemonsReaper, GroupGuard, alive, daemons_of, session_of};
use haul_tests::zipfile::{manifest, read_zip, saved_urls};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::grab::fake_mp4;

/// Longest wait for any one frame or exit.
const LIMIT: Duration = Duration::from_secs(30);

/// A frame as a browser writes it: native-endian u32 length, then the body.
fn frame(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_ne_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

fn json_frame(v: &Value) -> Vec<u8> {
    frame(v.to_string().as_bytes())
}

/// One running `haul-native-host`, launched as Chrome launches it (caller origin first).
struct Host {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    _group: GroupGuard,
}

impl Host {
    /// A host for `home` that starts the real `haul` when no daemon answers.
    fn start(home: &Path) -> Host {
        Host::start_with(&[(HAUL_HOME_ENV, home)])
    }

    /// A host with `env` (and no `HAUL_HOME` unless `env` sets it), as a browser started from
    /// the desktop launches it.
    fn start_with(env: &[(&str, &Path)]) -> Host {
        let mut command = Command::new(native_host_bin());
        command
            .arg(chrome_origin(DEV_EXTENSION_ID))
            .arg("--parent-window=0")
            .env_remove(HAUL_HOME_ENV)
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .env(HAUL_BIN_ENV, haul_bin())
            .env_remove("HAUL_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command.spawn().expect("start haul-native-host");
        let group = GroupGuard::new(child.id().expect("host pid"));
        Host {
            stdin: child.stdin.take(),
            stdout: child.stdout.take().expect("host stdout"),
            child,
            _group: group,
        }
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        // The host may stop reading after a bad frame: a broken pipe here is not the test's
        // concern, the frames it answered are.
        let _ = stdin.write_all(bytes).await;
        let _ = stdin.flush().await;
    }

    async fn send(&mut self, message: &Value) {
        self.send_raw(&json_frame(message)).await;
    }

    /// Closes stdin: the browser closing the port.
    fn close(&mut self) {
        self.stdin = None;
    }

    /// The next frame on stdout, checked to be a whole, well-formed frame to the browser.
    async fn recv(&mut self) -> Value {
        tokio::time::timeout(LIMIT, read_browser_frame(&mut self.stdout))
            .await
            .expect("a frame from the host in time")
            .expect("the host wrote a frame before closing stdout")
    }

    /// Waits for the host to exit and checks that nothing but whole frames followed; returns
    /// the exit code and those frames.
    async fn finish(mut self) -> (Option<i32>, Vec<Value>) {
        self.close();
        let mut rest = Vec::new();
        tokio::time::timeout(LIMIT, self.stdout.read_to_end(&mut rest))
            .await
            .expect("the host closes stdout")
            .expect("read the host's stdout");
        let status = tokio::time::timeout(LIMIT, self.child.wait())
            .await
            .expect("the host exits by itself")
            .expect("wait for the host");
        (status.code(), parse_frames(&rest))
    }
}

/// Reads one frame; `None` at a clean end of stdout. Panics on anything that is not a frame a
/// browser would accept (short header, over 1 MiB, short body, not a JSON object with a type).
async fn read_browser_frame(stdout: &mut ChildStdout) -> Option<Value> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = stdout.read(&mut header[got..]).await.expect("read stdout");
        if n == 0 {
            assert_eq!(got, 0, "stdout ended inside a frame header");
            return None;
        }
        got += n;
    }
    let len = u32::from_ne_bytes(header) as usize;
    assert!(
        len <= MAX_TO_BROWSER,
        "a frame of {len} bytes to the browser"
    );
    let mut body = vec![0u8; len];
    stdout
        .read_exact(&mut body)
        .await
        .expect("a whole frame body");
    Some(checked_message(&body))
}

fn parse_frames(mut rest: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        assert!(rest.len() >= 4, "stray bytes on stdout: {rest:?}");
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        assert!(len <= MAX_TO_BROWSER, "a frame of {len} bytes");
        assert!(rest.len() >= 4 + len, "stdout ended inside a frame");
        out.push(checked_message(&rest[4..4 + len]));
        rest = &rest[4 + len..];
    }
    out
}

fn checked_message(body: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "a frame that is not JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    });
    assert!(v["type"].is_string(), "a frame without a type: {v}");
    v
}

fn assert_error(v: &Value, code: ErrorCode) {
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(v["code"], code.0, "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "an error says what is wrong: {v}");
}

/// Says hello through `host` and returns the daemon's answer.
async fn hello(host: &mut Host) -> Value {
    host.send(&json!({"type":"hello"})).await;
    let reply = host.recv().await;
    assert_eq!(reply["type"], "hello", "{reply}");
    reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_reaches_the_real_daemon_and_back() {
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "");
    let daemon = DaemonProcess::start(&home).await;

    let mut host = Host::start(home.root());
    let reply = hello(&mut host).await;
    assert_eq!(reply["protocol"], PROTOCOL_VERSION);
    assert_eq!(reply["version"], VERSION);
    assert!(
        reply
            .as_object()
            .is_some_and(|o| o.contains_key("status_url")),
        "status_url is always present (null until the status page is up): {reply}"
    );
    assert_eq!(
        reply["pid"],
        daemon.child.id(),
        "answered by the running daemon"
    );

    let (code, rest) = host.finish().await;
    assert_eq!(code, Some(0), "EOF on stdin ends the host cleanly");
    assert!(
        rest.is_empty(),
        "nothing after the browser hung up: {rest:?}"
    );
    assert!(
        alive(daemon.child.id() as i32),
        "the daemon outlives the host"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grab_through_the_host_ends_with_the_zip() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let _daemon = DaemonProcess::start(&home).await;
    let jpeg = images::jpeg_with_metadata(400, 300, 31);
    let png = images::png_with_metadata(200, 100, 32);
    let video = fake_mp4(200_000, 33);
    server.add("/p/main.jpg", Route::ok(jpeg.clone(), "image/jpeg"));
    server.add("/p/side.png", Route::ok(png, "image/png"));
    server.add("/p/clip.mp4", Route::ok(video.clone(), "video/mp4"));
    let media: Vec<Value> = [
        ("/p/main.jpg", "image"),
        ("/p/side.png", "image"),
        ("/p/clip.mp4", "video"),
    ]
    .iter()
    .map(|(path, kind)| json!({"url": server.url(path), "kind": kind}))
    .collect();

    let mut host = Host::start(home.root());
    hello(&mut host).await;
    // `page.html` absent: the page URL is not fetched, only `media` is saved.
    host.send(&json!({
        "type": "grab", "id": "r1",
        "page": {"url": "https://shop.test/item/42", "title": "Test lamp"},
        "media": media, "options": {}
    }))
    .await;

    let accepted = host.recv().await;
    assert_eq!(accepted["type"], "accepted", "{accepted}");
    assert_eq!(accepted["id"], "r1");
    let job = accepted["job"].as_i64().expect("a job id");
    let mut progress = Vec::new();
    let finished = loop {
        let event = host.recv().await;
        match event["type"].as_str() {
            Some("progress") => progress.push(event),
            Some("finished") => break event,
            _ => panic!("unexpected frame during the job: {event}"),
        }
    };
    assert!(!progress.is_empty(), "progress is streamed before finished");
    for p in &progress {
        assert_eq!(p["job"], job);
        assert_eq!(p["total"].as_u64().map(|t| t <= 3), Some(true), "{p}");
        assert!(p["done"].as_u64() <= p["total"].as_u64(), "{p}");
    }
    assert_eq!(finished["job"], job);
    assert_eq!(finished["status"], "complete", "{finished}");
    assert_eq!(
        (&finished["saved"], &finished["failed"], &finished["total"]),
        (&json!(3), &json!(0), &json!(3))
    );

    let output = Path::new(finished["output"].as_str().expect("an output path"));
    assert!(output.starts_with(&home.paths.output_dir), "{output:?}");
    assert_eq!(home.outputs(), vec![output.to_path_buf()]);
    let entries = read_zip(output);
    let m = manifest(&entries);
    assert_eq!(
        saved_urls(&m),
        [
            server.url("/p/main.jpg"),
            server.url("/p/side.png"),
            server.url("/p/clip.mp4")
        ]
    );
    assert_eq!(m["title"], "Test lamp");
    assert!(entries.iter().any(|e| e.data == video));

    let (code, rest) = host.finish().await;
    assert_eq!(code, Some(0));
    assert!(rest.is_empty(), "{rest:?}");
}

/// Bytes that break the framing or the message, each with the code it must be answered with.
fn malformed_inputs() -> Vec<(&'static str, Vec<u8>, ErrorCode)> {
    let mut truncated_body = 40u32.to_ne_bytes().to_vec();
    truncated_body.extend_from_slice(br#"{"type":"grab","#);
    vec![
        ("truncated header", vec![9, 0], ErrorCode::BAD_MESSAGE),
        ("truncated body", truncated_body, ErrorCode::BAD_MESSAGE),
        (
            "length over the 64 MiB limit",
            (MAX_FROM_BROWSER as u32 + 1).to_ne_bytes().to_vec(),
            ErrorCode::TOO_LARGE,
        ),
        (
            "length u32::MAX",
            u32::MAX.to_ne_bytes().to_vec(),
            ErrorCode::TOO_LARGE,
        ),
        (
            "invalid UTF-8",
            frame(b"{\"type\":\"hello\",\"x\":\"\xff\xfe\"}"),
            ErrorCode::BAD_MESSAGE,
        ),
        (
            "invalid JSON",
            frame(br#"{"type": grab}"#),
            ErrorCode::BAD_MESSAGE,
        ),
        (
            "not an object",
            frame(b"[\"grab\"]"),
            ErrorCode::BAD_MESSAGE,
        ),
        ("no type", frame(br#"{"id":"x"}"#), ErrorCode::BAD_MESSAGE),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_are_answered_with_an_error_and_the_host_exits_cleanly() {
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "");
    let daemon = DaemonProcess::start(&home).await;

    for (what, bytes, code) in malformed_inputs() {
        // Mid-conversation: the host is connected to the daemon when the bad bytes arrive.
        let mut host = Host::start(home.root());
        hello(&mut host).await;
        host.send_raw(&bytes).await;
        host.close();
        let (status, frames) = host.finish().await;
        assert_eq!(frames.len(), 1, "{what}: exactly one answer: {frames:?}");
        assert_error(&frames[0], code);
        assert_eq!(
            status,
            Some(1),
            "{what}: the host ends by itself, with status 1"
        );

        // As the very first frame: answered before the daemon is even asked.
        let mut host = Host::start(home.root());
        host.send_raw(&bytes).await;
        let (status, frames) = host.finish().await;
        assert_eq!(frames.len(), 1, "{what} (first frame): {frames:?}");
        assert_error(&frames[0], code);
        assert_eq!(status, Some(1), "{what} (first frame)");
    }

    // None of it reached or hurt the daemon: the same one still answers.
    let mut host = Host::start(home.root());
    let reply = hello(&mut host).await;
    assert_eq!(reply["pid"], daemon.child.id());
    assert_eq!(host.finish().await.0, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_invalid_messages_are_answered_by_the_daemon_and_the_port_stays_open() {
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "");
    let _daemon = DaemonProcess::start(&home).await;
    let mut host = Host::start(home.root());
    hello(&mut host).await;

    host.send(&json!({"type":"teleport","id":"t1"})).await;
    let reply = host.recv().await;
    assert_error(&reply, ErrorCode::UNKNOWN_TYPE);
    assert_eq!(reply["id"], "t1");
    assert!(
        reply["message"]
            .as_str()
            .unwrap_or_default()
            .contains("teleport"),
        "the error names the type: {reply}"
    );

    host.send(&json!({"type":"cancel","id":"c1"})).await;
    let reply = host.recv().await;
    assert_error(&reply, ErrorCode::INVALID_FIELDS);
    assert_eq!(reply["id"], "c1");

    host.send(&json!({"type":"grab","id":"g1","media":[]}))
        .await;
    let reply = host.recv().await;
    assert_error(&reply, ErrorCode::NOTHING_TO_GRAB);
    assert_eq!(reply["id"], "g1");

    // The browser may not pick where files go.
    host.send(
        &json!({"type":"grab","id":"g2","media":[{"url":"https://127.0.0.1:9/a.jpg"}],
        "options":{"out_dir":"/tmp"}}),
    )
    .await;
    let reply = host.recv().await;
    assert_error(&reply, ErrorCode::FORBIDDEN);
    assert_eq!(reply["id"], "g2");

    // Still the same conversation.
    host.send(&json!({"type":"status","id":"s1"})).await;
    let reply = host.recv().await;
    assert_eq!(reply["type"], "status", "{reply}");
    assert_eq!(reply["id"], "s1");

    let (code, rest) = host.finish().await;
    assert_eq!(code, Some(0));
    assert!(rest.is_empty(), "{rest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_starts_the_daemon_when_none_runs() {
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "");
    let _reaper = DaemonsReaper::new(home.root());
    assert!(daemons_of(home.root()).is_empty());

    let mut host = Host::start(home.root());
    let reply = hello(&mut host).await;
    let pid = reply["pid"].as_i64().expect("the daemon's pid") as i32;
    assert_eq!(
        daemons_of(home.root()),
        vec![pid],
        "the real haul daemon answered"
    );
    assert_eq!(
        session_of(pid),
        Some(pid),
        "the daemon leads its own session, outside the browser's process group"
    );
    let (code, _) = host.finish().await;
    assert_eq!(code, Some(0));

    // The daemon outlives the host, and the next host uses it.
    let (_, still) = connect(&home.paths)
        .await
        .expect("the daemon still answers");
    assert_eq!(still.pid, Some(pid as u32));
    let mut host = Host::start(home.root());
    assert_eq!(hello(&mut host).await["pid"], pid);
    host.finish().await;
    assert_eq!(daemons_of(home.root()), vec![pid]);
    assert_eq!(starts_logged(home.root()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_at_once_start_exactly_one_daemon() {
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "");
    let _reaper = DaemonsReaper::new(home.root());

    let mut first = Host::start(home.root());
    let mut second = Host::start(home.root());
    let hello_frame = json_frame(&json!({"type":"hello"}));
    tokio::join!(first.send_raw(&hello_frame), second.send_raw(&hello_frame));
    let (a, b) = tokio::join!(first.recv(), second.recv());
    assert_eq!(a["type"], "hello", "{a}");
    assert_eq!(b["type"], "hello", "{b}");
    assert_eq!(a["pid"], b["pid"], "both hosts reach the same daemon");
    let pid = a["pid"].as_i64().expect("pid") as i32;

    assert_eq!(daemons_of(home.root()), vec![pid], "one daemon runs");
    assert_eq!(starts_logged(home.root()), 1, "one host started a daemon");
    let (x, y) = tokio::join!(first.finish(), second.finish());
    assert_eq!((x.0, y.0), (Some(0), Some(0)));
    assert_eq!(daemons_of(home.root()), vec![pid]);
}

/// How many times a host of `home` started `haul daemon`, from the hosts' shared log.
fn starts_logged(home: &Path) -> usize {
    let log = haul_protocol::paths::Paths::under(home)
        .log_dir()
        .join("native-host.log");
    std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("no daemon answers; starting"))
        .count()
}

/// One haul per user: a browser's host (no `HAUL_HOME` in its environment) uses the home
/// `haul install` recorded; when no daemon runs there but one of another home does, it says so
/// instead of starting a second daemon. `haul status` and `haul doctor` name that daemon too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_finding_another_homes_daemon_says_so_instead_of_starting_a_second() {
    let ca = TestCa::new();
    let other = TestHome::new(&ca, "");
    let _other_daemons = DaemonsReaper::new(other.root());
    let other_daemon = DaemonProcess::start(&other).await;
    let registry = other.root().join("xdg-run");
    // The daemon lists itself once it answers.
    let listed = haul_tests::wait_for(Duration::from_secs(10), || {
        std::fs::read_dir(registry.join("haul").join("daemons"))
            .ok()
            .and_then(|mut d| d.next())
    })
    .await;
    assert!(
        listed.is_some(),
        "the daemon lists itself in the per-user registry"
    );

    // The user installed with another home (recorded in the pointer), where nothing runs.
    let mine = TestHome::new(&ca, "");
    let _my_daemons = DaemonsReaper::new(mine.root());
    let config_home = mine.root().join("xdg-config");
    let installed = tokio::process::Command::new(haul_bin())
        .args(["install", "--browser", "chromium"])
        .env(HAUL_HOME_ENV, mine.root())
        .env("HOME", mine.root())
        .env("XDG_CONFIG_HOME", &config_home)
        .env("XDG_RUNTIME_DIR", &registry)
        .output()
        .await
        .expect("haul install");
    assert!(installed.status.success(), "{installed:?}");
    let pointer = config_home.join("haul").join("home.json");
    assert!(pointer.is_file(), "install records the home");

    let mut host = Host::start_with(&[
        ("HOME", mine.root()),
        ("XDG_CONFIG_HOME", &config_home),
        ("XDG_RUNTIME_DIR", &registry),
    ]);
    host.send(&json!({"type": "hello"})).await;
    host.send(
        &json!({"type": "grab", "id": "g1", "media": [{"url": "https://example.test/a.jpg"}]}),
    )
    .await;
    let (code, frames) = host.finish().await;
    let error = frames
        .iter()
        .find(|f| f["type"] == "error")
        .unwrap_or_else(|| panic!("an error frame: {frames:?}"));
    assert_eq!(error["code"], ErrorCode::DAEMON_UNAVAILABLE.0, "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("another haul daemon")
            && message.contains(&format!("HAUL_HOME={}", other.root().display()))
            && message.contains(&mine.paths.data_dir.display().to_string()),
        "{message}"
    );
    assert_eq!(code, Some(1));
    assert!(
        daemons_of(mine.root()).is_empty(),
        "no second daemon was started"
    );

    // haul status and haul doctor, run as the browser's haul (the recorded home), say so too.
    let run = |args: &'static [&'static str]| {
        let (config_home, registry, root) = (
            config_home.clone(),
            registry.clone(),
            mine.root().to_path_buf(),
        );
        async move {
            tokio::process::Command::new(haul_bin())
                .args(args)
                .env_remove(HAUL_HOME_ENV)
                .env("HOME", &root)
                .env("XDG_CONFIG_HOME", &config_home)
                .env("XDG_RUNTIME_DIR", &registry)
                .output()
                .await
                .expect("run haul")
        }
    };
    let status = run(&["status"]).await;
    let said = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(
        said.contains("another: another haul daemon")
            && said.contains(&mine.paths.data_dir.display().to_string()),
        "{said}"
    );
    let doctor = run(&["doctor", "--timeout", "0.5"]).await;
    let said = String::from_utf8_lossy(&doctor.stdout).to_string();
    assert!(!doctor.status.success(), "{said}");
    assert!(
        said.lines()
            .any(|l| l.starts_with("PROBLEM  second daemon: another haul daemon")),
        "{said}"
    );
    assert!(other_daemon.terminate());
}
