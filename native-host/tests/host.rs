//! The real `haul-native-host` binary driven through its stdio, as a browser drives it: framed
//! requests in, frames (and only frames) out. The daemon is either absent (with `HAUL_BIN`
//! pointing nowhere, so none can be started) or a scripted stand-in listening on the real socket
//! path of a temporary `HAUL_HOME`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use haul_protocol::frame::{FrameCodec, MAX_FROM_BROWSER, MAX_TO_BROWSER};
use haul_protocol::install::{HAUL_BIN_ENV, HostManifest, chrome_origin};
use haul_protocol::message::{ErrorCode, HelloReply, Reply};
use haul_protocol::paths::{HAUL_HOME_ENV, Paths};
use haul_protocol::{DEV_EXTENSION_ID, FIREFOX_ADDON_ID, HOST_NAME, PROTOCOL_VERSION};
use interprocess::local_socket::ListenerOptions;
use interprocess::local_socket::tokio::prelude::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio_util::codec::Framed;

const HOST: &str = env!("CARGO_BIN_EXE_haul-native-host");
const LIMIT: Duration = Duration::from_secs(20);

fn origin() -> String {
    chrome_origin(DEV_EXTENSION_ID)
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_ne_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// A host for a temporary HAUL_HOME, unable to start a daemon.
fn host(home: &Path, args: &[&str]) -> Child {
    Command::new(HOST)
        .args(args)
        .env(HAUL_HOME_ENV, home)
        .env(HAUL_BIN_ENV, home.join("no-such-haul"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start haul-native-host")
}

/// Splits stdout into frames, failing on anything that is not a whole frame.
fn frames(stdout: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = stdout;
    while !rest.is_empty() {
        assert!(rest.len() >= 4, "stray bytes on stdout: {rest:?}");
        let len = u32::from_ne_bytes(rest[..4].try_into().unwrap()) as usize;
        assert!(len <= MAX_TO_BROWSER, "frame of {len} bytes to the browser");
        assert!(rest.len() >= 4 + len, "truncated frame on stdout");
        out.push(serde_json::from_slice(&rest[4..4 + len]).expect("frame is JSON"));
        rest = &rest[4 + len..];
    }
    out
}

/// Writes `input`, closes stdin, waits; returns the exit code and the frames written.
async fn run(home: &Path, args: &[&str], input: &[u8]) -> (Option<i32>, Vec<Value>, String) {
    let mut child = host(home, args);
    let mut stdin = child.stdin.take().unwrap();
    // The host may exit before reading everything (e.g. after a bad header): ignore EPIPE.
    let _ = stdin.write_all(input).await;
    drop(stdin);
    let out = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .expect("host exits")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), frames(&out.stdout), stderr)
}

fn assert_error(frames: &[Value], code: ErrorCode) -> &Value {
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["type"], "error", "{frames:?}");
    assert_eq!(frames[0]["code"], code.0, "{frames:?}");
    &frames[0]
}

// ---- without a daemon ---------------------------------------------------------------------

#[tokio::test]
async fn eof_before_any_frame_exits_quietly() {
    let home = tempfile::tempdir().unwrap();
    let (code, frames, _) = run(home.path(), &[&origin()], b"").await;
    assert_eq!(code, Some(0));
    assert!(frames.is_empty());
}

#[tokio::test]
async fn malformed_frames_get_an_error_frame_and_a_clean_exit() {
    let home = tempfile::tempdir().unwrap();
    let over = (MAX_FROM_BROWSER as u32 + 1).to_ne_bytes().to_vec();
    let mut truncated_body = 20u32.to_ne_bytes().to_vec();
    truncated_body.extend_from_slice(b"{\"type\":");
    let cases: Vec<(&str, Vec<u8>, ErrorCode)> = vec![
        ("truncated header", vec![7, 0], ErrorCode::BAD_MESSAGE),
        ("truncated body", truncated_body, ErrorCode::BAD_MESSAGE),
        ("over 64 MiB", over, ErrorCode::TOO_LARGE),
        (
            "invalid UTF-8",
            frame(&[b'"', 0xff, 0xfe, b'"']),
            ErrorCode::BAD_MESSAGE,
        ),
        (
            "invalid JSON",
            frame(b"{\"type\": hello}"),
            ErrorCode::BAD_MESSAGE,
        ),
        ("not an object", frame(b"[1,2,3]"), ErrorCode::BAD_MESSAGE),
        ("no type", frame(b"{\"id\":1}"), ErrorCode::BAD_MESSAGE),
    ];
    for (what, input, code) in cases {
        let (status, frames, stderr) = run(home.path(), &[&origin()], &input).await;
        assert_error(&frames, code);
        assert_eq!(status, Some(1), "{what}: exit status (stderr: {stderr})");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
}

#[tokio::test]
async fn no_daemon_and_nothing_to_start_is_daemon_unavailable() {
    let home = tempfile::tempdir().unwrap();
    let grab = json!({"type":"grab","id":"g1","page":{"url":"https://www.amazon.com/dp/B000TEST01","title":"T","html":"<html></html>"},"media":[],"options":{}});
    let (status, frames, stderr) = run(
        home.path(),
        &[&origin()],
        &frame(grab.to_string().as_bytes()),
    )
    .await;
    let err = assert_error(&frames, ErrorCode::DAEMON_UNAVAILABLE);
    assert_eq!(err["id"], "g1", "the error answers the request");
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("haul daemon"), "{message}");
    assert!(message.contains("haul doctor"), "{message}");
    assert_eq!(status, Some(1));
    assert!(stderr.contains("daemon unavailable"), "{stderr}");
    let log = std::fs::read_to_string(Paths::under(home.path()).log_dir().join("native-host.log"))
        .unwrap();
    assert!(log.contains("daemon unavailable"), "{log}");
}

#[tokio::test]
async fn chrome_flags_are_ignored() {
    let home = tempfile::tempdir().unwrap();
    let hello = frame(br#"{"type":"hello"}"#);
    for extra in [
        &["--parent-window=0"][..],
        &[
            "--parent-window=4242",
            "--reconnect-command=e30=",
            "--native-messaging-connect-id=7",
        ],
    ] {
        let mut args = vec![origin()];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (_, frames, _) = run(home.path(), &args, &hello).await;
        // Past the caller check: it is the daemon that is missing.
        assert_error(&frames, ErrorCode::DAEMON_UNAVAILABLE);
    }
}

#[tokio::test]
async fn unknown_callers_are_forbidden() {
    let home = tempfile::tempdir().unwrap();
    let hello = frame(br#"{"type":"hello"}"#);
    let stranger = chrome_origin(&"b".repeat(32));
    let (status, frames, _) = run(home.path(), &[&stranger], &hello).await;
    let err = assert_error(&frames, ErrorCode::FORBIDDEN);
    assert!(err["message"].as_str().unwrap().contains("--extension-id"));
    assert_eq!(status, Some(1));

    let (_, frames, _) = run(home.path(), &[], &hello).await;
    assert_error(&frames, ErrorCode::FORBIDDEN);
    let (_, frames, _) = run(home.path(), &["chrome-extension://nope/"], &hello).await;
    assert_error(&frames, ErrorCode::FORBIDDEN);
}

#[tokio::test]
async fn firefox_caller_is_checked_against_its_manifest() {
    let home = tempfile::tempdir().unwrap();
    let manifest = home.path().join("haul.native_host.json");
    let m = HostManifest {
        name: HOST_NAME.into(),
        description: String::new(),
        path: HOST.into(),
        kind: "stdio".into(),
        allowed_origins: None,
        allowed_extensions: Some(vec![FIREFOX_ADDON_ID.into()]),
    };
    std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
    let manifest = manifest.to_str().unwrap();
    let hello = frame(br#"{"type":"hello"}"#);
    let (_, frames, _) = run(home.path(), &[manifest, FIREFOX_ADDON_ID], &hello).await;
    assert_error(&frames, ErrorCode::DAEMON_UNAVAILABLE);
    let (_, frames, _) = run(home.path(), &[manifest, "evil@example.com"], &hello).await;
    assert_error(&frames, ErrorCode::FORBIDDEN);
}

#[cfg(unix)]
#[tokio::test]
async fn a_daemon_that_exits_at_once_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let marker = home.path().join("started");
    let fake = home.path().join("fake-haul");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\necho \"$@\" > '{}'\nexit 3\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = Command::new(HOST)
        .arg(origin())
        .env(HAUL_HOME_ENV, home.path())
        .env(HAUL_BIN_ENV, &fake)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(&frame(br#"{"type":"hello"}"#))
        .await
        .unwrap();
    drop(stdin);
    let out = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let frames = frames(&out.stdout);
    let err = assert_error(&frames, ErrorCode::DAEMON_UNAVAILABLE);
    assert!(err["message"].as_str().unwrap().contains("exited"), "{err}");
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), "daemon");
}

// ---- with a stand-in daemon on the real socket --------------------------------------------

type DaemonConn = Framed<LocalSocketStream, FrameCodec>;

/// Listens where the host looks for the daemon of `home`.
fn listen(home: &Path) -> LocalSocketListener {
    let paths = Paths::under(home);
    paths.ensure_runtime_dir().unwrap();
    let name = haul_protocol::socket::socket_name(&paths).unwrap();
    ListenerOptions::new().name(name).create_tokio().unwrap()
}

async fn accept(listener: &LocalSocketListener) -> DaemonConn {
    let stream = tokio::time::timeout(LIMIT, listener.accept())
        .await
        .expect("the host connects")
        .unwrap();
    Framed::new(stream, FrameCodec::local_socket())
}

async fn recv(conn: &mut DaemonConn) -> Value {
    let body = tokio::time::timeout(LIMIT, conn.next())
        .await
        .expect("a frame from the host")
        .expect("connection open")
        .unwrap();
    serde_json::from_slice(&body).unwrap()
}

async fn send(conn: &mut DaemonConn, reply: &Value) {
    conn.send(reply.to_string().as_bytes()).await.unwrap();
}

fn hello_reply(protocol: u32) -> Value {
    serde_json::to_value(Reply::Hello(HelloReply {
        protocol,
        version: "test".into(),
        status_url: None,
        pid: Some(1),
    }))
    .unwrap()
}

/// Reads one frame from the host's stdout.
async fn read_frame(stdout: &mut tokio::process::ChildStdout) -> Value {
    let mut header = [0u8; 4];
    tokio::time::timeout(LIMIT, stdout.read_exact(&mut header))
        .await
        .expect("a frame to the browser")
        .unwrap();
    let len = u32::from_ne_bytes(header) as usize;
    assert!(len <= MAX_TO_BROWSER);
    let mut body = vec![0u8; len];
    stdout.read_exact(&mut body).await.unwrap();
    serde_json::from_slice(&body).unwrap()
}

fn spawn_host(home: &Path) -> Child {
    host(home, &[&origin(), "--parent-window=0"])
}

#[tokio::test]
async fn relays_both_ways_and_exits_on_eof() {
    let home = tempfile::tempdir().unwrap();
    let listener = listen(home.path());
    let mut child = spawn_host(home.path());
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();

    // The extension's hello, trying to pass for the CLI.
    stdin
        .write_all(&frame(br#"{"type":"hello","client":{"kind":"cli"}}"#))
        .await
        .unwrap();
    let mut daemon = accept(&listener).await;

    // 1. The host's own hello, with the caller.
    let h = recv(&mut daemon).await;
    assert_eq!(h["type"], "hello");
    assert_eq!(h["protocol"], PROTOCOL_VERSION);
    assert_eq!(
        h["client"],
        json!({"kind":"native-host","caller": origin()})
    );
    send(&mut daemon, &hello_reply(PROTOCOL_VERSION)).await;

    // 2. The extension's hello, with the client set by the host.
    let h = recv(&mut daemon).await;
    assert_eq!(h["type"], "hello");
    assert_eq!(
        h["client"],
        json!({"kind":"native-host","caller": origin()})
    );
    send(&mut daemon, &hello_reply(PROTOCOL_VERSION)).await;
    let got = read_frame(&mut stdout).await;
    assert_eq!(
        got,
        hello_reply(PROTOCOL_VERSION),
        "the daemon's hello reaches the browser"
    );

    // 3. A grab passes byte for byte; replies come back, a too-large one as an error.
    let grab = json!({"type":"grab","id":"r1","page":{"url":"https://www.amazon.com/dp/B000TEST01","title":"T","html":"<p>x</p>"},"media":[{"url":"https://m.media-amazon.com/images/I/a.jpg","kind":"image"}],"options":{}});
    stdin
        .write_all(&frame(grab.to_string().as_bytes()))
        .await
        .unwrap();
    assert_eq!(recv(&mut daemon).await, grab);
    send(&mut daemon, &json!({"type":"accepted","id":"r1","job":5})).await;
    send(
        &mut daemon,
        &json!({"type":"progress","job":5,"done":1,"total":2}),
    )
    .await;
    let big = json!({"type":"status","id":"s1","version":"x","pid":null,"status_url":null,
        "output_dir":"o".repeat(MAX_TO_BROWSER),"inbox_dir":"","data_dir":"","jobs":[]});
    send(&mut daemon, &big).await;
    send(&mut daemon, &json!({"type":"finished","job":5,"status":"complete","output":"/out/x.zip","saved":2,"failed":0,"total":2})).await;
    assert_eq!(read_frame(&mut stdout).await["type"], "accepted");
    assert_eq!(read_frame(&mut stdout).await["done"], 1);
    let err = read_frame(&mut stdout).await;
    assert_eq!(err["type"], "error");
    assert_eq!(err["code"], ErrorCode::REPLY_TOO_LARGE.0);
    assert_eq!(err["id"], "s1");
    let fin = read_frame(&mut stdout).await;
    assert_eq!(fin["status"], "complete");
    assert_eq!(fin["output"], "/out/x.zip");

    // 4. The browser closes the port: the host exits at once, leaving the daemon alone.
    drop(stdin);
    let status = tokio::time::timeout(LIMIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let end = tokio::time::timeout(LIMIT, daemon.next()).await.unwrap();
    assert!(end.is_none(), "the host hung up");
}

#[tokio::test]
async fn malformed_frame_mid_conversation_ends_the_host() {
    let home = tempfile::tempdir().unwrap();
    let listener = listen(home.path());
    let mut child = spawn_host(home.path());
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin
        .write_all(&frame(br#"{"type":"hello"}"#))
        .await
        .unwrap();
    let mut daemon = accept(&listener).await;
    recv(&mut daemon).await;
    send(&mut daemon, &hello_reply(PROTOCOL_VERSION)).await;
    recv(&mut daemon).await;
    send(&mut daemon, &hello_reply(PROTOCOL_VERSION)).await;
    read_frame(&mut stdout).await;

    stdin.write_all(&frame(b"{oops")).await.unwrap();
    let err = read_frame(&mut stdout).await;
    assert_eq!(err["code"], ErrorCode::BAD_MESSAGE.0);
    let status = tokio::time::timeout(LIMIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[tokio::test]
async fn daemon_going_away_is_reported() {
    let home = tempfile::tempdir().unwrap();
    let listener = listen(home.path());
    let mut child = spawn_host(home.path());
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin
        .write_all(&frame(br#"{"type":"hello"}"#))
        .await
        .unwrap();
    let mut daemon = accept(&listener).await;
    recv(&mut daemon).await;
    send(&mut daemon, &hello_reply(PROTOCOL_VERSION)).await;
    recv(&mut daemon).await;
    drop(daemon);
    let err = read_frame(&mut stdout).await;
    assert_eq!(err["code"], ErrorCode::DAEMON_UNAVAILABLE.0, "{err}");
    let status = tokio::time::timeout(LIMIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[tokio::test]
async fn protocol_mismatch_is_reported() {
    let home = tempfile::tempdir().unwrap();
    let listener = listen(home.path());
    let mut child = spawn_host(home.path());
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin
        .write_all(&frame(br#"{"type":"hello"}"#))
        .await
        .unwrap();
    let mut daemon = accept(&listener).await;
    recv(&mut daemon).await;
    send(&mut daemon, &hello_reply(PROTOCOL_VERSION + 1)).await;
    let err = read_frame(&mut stdout).await;
    assert_eq!(err["code"], ErrorCode::VERSION_MISMATCH.0, "{err}");
}

// ---- starting the daemon ------------------------------------------------------------------

/// A stand-in for `haul daemon` (python3): records each start, takes the daemon lock like the
/// real one (exiting if another holds it), starts slowly so racing hosts overlap, then answers
/// `hello` on the socket. It exits by itself after a few idle seconds.
#[cfg(unix)]
const FAKE_DAEMON: &str = r#"#!/usr/bin/env python3
import fcntl, json, os, socket, struct, sys, threading, time
assert sys.argv[1:] == ["daemon"], sys.argv
home = os.environ["HAUL_HOME"]
run = os.path.join(home, "run")
with open(os.path.join(home, "spawns"), "a") as f:
    f.write("%d %d\n" % (os.getpid(), os.getsid(0)))
lock = open(os.path.join(run, "daemon.lock"), "w")
try:
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    sys.exit(0)
time.sleep(0.3)
path = os.path.join(run, "haul.sock")
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(16)
s.settimeout(5)
def exact(c, n):
    b = b""
    while len(b) < n:
        chunk = c.recv(n - len(b))
        if not chunk:
            return None
        b += chunk
    return b
def serve(c):
    while True:
        h = exact(c, 4)
        if h is None:
            return
        body = exact(c, struct.unpack("=I", h)[0])
        msg = json.loads(body)
        if msg["type"] == "hello":
            reply = {"type": "hello", "protocol": 1, "version": "fake", "status_url": None, "pid": os.getpid()}
        else:
            reply = {"type": "error", "code": 2, "message": "fake"}
        out = json.dumps(reply).encode()
        c.sendall(struct.pack("=I", len(out)) + out)
while True:
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

#[cfg(unix)]
fn fake_daemon(home: &Path) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let found = std::process::Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("python3 not found: skipping (the real daemon is tested in the shared suite)");
        return None;
    }
    let path = home.join("fake-haul");
    std::fs::write(&path, FAKE_DAEMON).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    Some(path)
}

/// (pid, session id) of each start the stand-in recorded.
#[cfg(unix)]
fn spawns(home: &Path) -> Vec<(i32, i32)> {
    std::fs::read_to_string(home.join("spawns"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let mut it = l.split_whitespace().map(|n| n.parse().unwrap());
            (it.next().unwrap(), it.next().unwrap())
        })
        .collect()
}

#[cfg(unix)]
fn stop(pid: i32) {
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
}

#[cfg(unix)]
fn alive(pid: i32) -> bool {
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(unix)]
fn host_with(home: &Path, haul: &Path) -> Child {
    Command::new(HOST)
        .arg(origin())
        .env(HAUL_HOME_ENV, home)
        .env(HAUL_BIN_ENV, haul)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[cfg(unix)]
#[tokio::test]
async fn host_starts_a_detached_daemon_that_outlives_it() {
    let home = tempfile::tempdir().unwrap();
    let Some(haul) = fake_daemon(home.path()) else {
        return;
    };
    let mut child = host_with(home.path(), &haul);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin
        .write_all(&frame(br#"{"type":"hello"}"#))
        .await
        .unwrap();
    let reply = read_frame(&mut stdout).await;
    assert_eq!(reply["type"], "hello", "{reply}");
    assert_eq!(reply["version"], "fake");
    let started = spawns(home.path());
    assert_eq!(started.len(), 1);
    let (pid, sid) = started[0];
    assert_eq!(pid, sid, "the daemon leads a session of its own (setsid)");

    drop(stdin);
    let status = tokio::time::timeout(LIMIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(alive(pid), "the daemon keeps running after the host exits");

    // A second host finds it running and starts nothing.
    let mut child = host_with(home.path(), &haul);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin
        .write_all(&frame(br#"{"type":"hello"}"#))
        .await
        .unwrap();
    assert_eq!(read_frame(&mut stdout).await["type"], "hello");
    drop(stdin);
    let status = tokio::time::timeout(LIMIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(spawns(home.path()).len(), 1);
    stop(pid);
}

#[cfg(unix)]
#[tokio::test]
async fn hosts_racing_start_one_daemon() {
    let home = tempfile::tempdir().unwrap();
    let Some(haul) = fake_daemon(home.path()) else {
        return;
    };
    let mut hosts = Vec::new();
    for _ in 0..3 {
        let mut child = host_with(home.path(), &haul);
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(&frame(br#"{"type":"hello"}"#))
            .await
            .unwrap();
        hosts.push((child, stdin));
    }
    for (child, _stdin) in &mut hosts {
        let reply = read_frame(child.stdout.as_mut().unwrap()).await;
        assert_eq!(reply["type"], "hello", "{reply}");
    }
    let started = spawns(home.path());
    assert_eq!(started.len(), 1, "one daemon for all hosts: {started:?}");
    for (mut child, stdin) in hosts {
        drop(stdin);
        let status = tokio::time::timeout(LIMIT, child.wait())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.code(), Some(0));
    }
    stop(started[0].0);
}
