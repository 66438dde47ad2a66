//! The daemon's local socket, spoken to directly: the handshake, every kind of bad input, the
//! requests, and that a grab is journaled before it is answered.

use std::time::Duration;

use futures_util::SinkExt;
use haul_protocol::message::{
    CancelRequest, ClientInfo, ClientKind, ErrorCode, Grab, GrabOptions, HelloRequest, JobState,
    Reply, Request, StatusRequest,
};
use haul_protocol::socket::{self, Connection};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{InProcessDaemon, connect, media_grab};
use haul_tests::home::TestHome;
use haul_tests::media_server::{Behavior, MediaServer, Route};
use tokio::io::AsyncWriteExt;

use crate::grab::fake_mp4;

async fn recv(conn: &mut Connection) -> Reply {
    tokio::time::timeout(Duration::from_secs(20), socket::recv(conn))
        .await
        .expect("a reply in time")
        .expect("a well-formed reply")
        .expect("the connection is open")
}

async fn raw(conn: &mut Connection, body: &[u8]) {
    conn.send(body).await.expect("send frame");
}

fn error_code(reply: &Reply) -> ErrorCode {
    match reply {
        Reply::Error(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_get_precise_errors_and_the_daemon_keeps_serving() {
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "");
    let daemon = InProcessDaemon::start(&home).await;

    // Unknown type: named in the error, connection still usable.
    let (mut conn, _) = connect(&home.paths).await.expect("connect");
    raw(&mut conn, br#"{"type":"teleport","id":"x1"}"#).await;
    let reply = recv(&mut conn).await;
    assert_eq!(error_code(&reply), ErrorCode::UNKNOWN_TYPE);
    let Reply::Error(e) = &reply else {
        unreachable!()
    };
    assert!(e.message.contains("teleport"));
    assert_eq!(e.id, Some(serde_json::json!("x1")));
    socket::send(&mut conn, &Request::Status(StatusRequest::default()))
        .await
        .expect("send status");
    assert!(matches!(recv(&mut conn).await, Reply::Status(_)));

    // Known type, bad fields; not JSON at all; nothing to grab; cancel of an unknown job.
    raw(&mut conn, br#"{"type":"cancel","id":"c"}"#).await;
    assert_eq!(
        error_code(&recv(&mut conn).await),
        ErrorCode::INVALID_FIELDS
    );
    socket::send(&mut conn, &Request::Grab(Grab::default()))
        .await
        .expect("send");
    assert_eq!(
        error_code(&recv(&mut conn).await),
        ErrorCode::NOTHING_TO_GRAB
    );
    socket::send(
        &mut conn,
        &Request::Cancel(CancelRequest { id: None, job: 999 }),
    )
    .await
    .expect("send");
    assert_eq!(error_code(&recv(&mut conn).await), ErrorCode::NOT_FOUND);
    raw(&mut conn, b"this is not json").await;
    assert_eq!(error_code(&recv(&mut conn).await), ErrorCode::BAD_MESSAGE);
    // Code 1 ends the conversation, as docs/protocol.md says.
    assert!(
        tokio::time::timeout(Duration::from_secs(5), socket::recv(&mut conn))
            .await
            .expect("closed in time")
            .expect("clean end")
            .is_none(),
        "the connection is closed after a code-1 error"
    );

    // A frame header announcing more than the limit: refused before any body is read.
    let (mut conn, _) = connect(&home.paths).await.expect("connect");
    conn.get_mut()
        .write_all(&(200u32 << 20).to_ne_bytes())
        .await
        .expect("write header");
    assert_eq!(error_code(&recv(&mut conn).await), ErrorCode::TOO_LARGE);
    assert!(
        socket::recv(&mut conn).await.expect("clean end").is_none(),
        "the connection is closed after it"
    );

    // The first message must be hello.
    let mut conn = socket::connect(&home.paths).await.expect("connect");
    socket::send(&mut conn, &Request::Status(StatusRequest::default()))
        .await
        .expect("send");
    assert_eq!(error_code(&recv(&mut conn).await), ErrorCode::BAD_MESSAGE);

    // A truncated frame then EOF: the daemon just drops the connection and keeps serving.
    let mut conn = socket::connect(&home.paths).await.expect("connect");
    conn.get_mut()
        .write_all(&[10, 0, 0, 0, b'{'])
        .await
        .expect("write");
    conn.get_mut().shutdown().await.expect("shutdown");
    drop(conn);
    let (_, hello) = connect(&home.paths).await.expect("still serving");
    assert_eq!(hello.protocol, haul_protocol::PROTOCOL_VERSION);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_may_not_pick_the_output_folder() {
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "");
    let daemon = InProcessDaemon::start(&home).await;
    let client = ClientInfo {
        kind: ClientKind::NativeHost,
        caller: Some("chrome-extension://x/".into()),
    };
    let (mut conn, _) = socket::connect_and_greet(&home.paths, client, Duration::from_secs(5))
        .await
        .expect("connect");
    let grab = Grab {
        id: Some(serde_json::json!(7)),
        media: media_grab(&["https://example.com/a.jpg".to_string()], "x").media,
        options: GrabOptions {
            out_dir: Some("/tmp".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    socket::send(&mut conn, &Request::Grab(grab))
        .await
        .expect("send");
    let reply = recv(&mut conn).await;
    assert_eq!(error_code(&reply), ErrorCode::FORBIDDEN);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grab_is_journaled_before_accepted_and_can_be_cancelled() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let daemon = InProcessDaemon::start(&home).await;
    let slow = Behavior::Slow {
        chunk: 4096,
        every: Duration::from_millis(50),
    };
    server.add(
        "/slow.mp4",
        Route::ok(fake_mp4(2_000_000, 1), "video/mp4").with(slow),
    );

    let (mut conn, _) = connect(&home.paths).await.expect("connect");
    socket::send(
        &mut conn,
        &Request::Grab(media_grab(&[server.url("/slow.mp4")], "slow")),
    )
    .await
    .expect("send");
    let Reply::Accepted(accepted) = recv(&mut conn).await else {
        panic!("accepted first")
    };
    let journal = haul::journal::Journal::open(&home.paths.journal_file()).expect("journal");
    assert!(
        journal.job(accepted.job).is_ok(),
        "the job is in the journal when accepted arrives"
    );

    // Wait until bytes flow, then cancel from a second connection.
    loop {
        if let Reply::Progress(p) = recv(&mut conn).await
            && p.bytes > 0
        {
            break;
        }
    }
    let (mut other, _) = connect(&home.paths).await.expect("connect");
    socket::send(
        &mut other,
        &Request::Cancel(CancelRequest {
            id: Some("c".into()),
            job: accepted.job,
        }),
    )
    .await
    .expect("send");
    assert!(matches!(recv(&mut other).await, Reply::Cancelled(c) if c.job == accepted.job));
    let finished = loop {
        if let Reply::Finished(f) = recv(&mut conn).await {
            break f;
        }
    };
    assert_eq!(finished.status, JobState::Cancelled);
    assert!(home.outputs().is_empty());
    assert_eq!(
        journal.job(accepted.job).expect("job").state,
        JobState::Cancelled
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_client_makes_an_older_daemon_step_aside() {
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "");
    let daemon = InProcessDaemon::start(&home).await;
    let mut conn = socket::connect(&home.paths).await.expect("connect");
    let hello = HelloRequest {
        protocol: Some(haul_protocol::PROTOCOL_VERSION + 1),
        version: Some("99.0.0".into()),
        client: None,
    };
    socket::send(&mut conn, &Request::Hello(hello))
        .await
        .expect("send");
    assert_eq!(
        error_code(&recv(&mut conn).await),
        ErrorCode::VERSION_MISMATCH
    );
    let mut gone = false;
    for _ in 0..250 {
        if socket::connect(&home.paths).await.is_err() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        gone,
        "the daemon shut itself down so the newer version can start"
    );
    daemon.stop().await;
}

/// One process sending half frames on 64 connections takes at most its share of the slots,
/// and each half frame is given up after a few seconds: another program still gets in at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_frames_hold_neither_every_slot_nor_their_own_for_long() {
    let ca = TestCa::new();
    let home = TestHome::new(&ca, "");
    let daemon = InProcessDaemon::start(&home).await;
    let mut hogs = Vec::new();
    for _ in 0..64 {
        let mut conn = socket::connect(&home.paths).await.expect("connect");
        // A header announcing 100 bytes, and 3 of them.
        let _ = conn
            .get_mut()
            .write_all(&[100, 0, 0, 0, b'{', b'"', b't'])
            .await;
        hogs.push(conn);
    }
    // Another process (the CLI) gets in at once.
    let started = std::time::Instant::now();
    let out = haul_tests::daemon::run_haul(&home, &["status", "--json"]).await;
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert_eq!(doc["daemon"]["running"], true, "{doc}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // The half frames are given up (no hello within 5 s): this process gets its slots back.
    let mut conn = loop {
        match haul_tests::daemon::connect(&home.paths).await {
            Ok((conn, _)) => break conn,
            Err(_) => {
                assert!(
                    started.elapsed() < Duration::from_secs(9),
                    "slots never freed"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    // After hello, a frame begun and not finished is given up within a few seconds too.
    conn.get_mut()
        .write_all(&[100, 0, 0, 0, b'{'])
        .await
        .expect("write");
    let reply = tokio::time::timeout(Duration::from_secs(9), socket::recv(&mut conn))
        .await
        .expect("answered in time")
        .expect("a frame")
        .expect("open");
    assert_eq!(error_code(&reply), ErrorCode::BAD_MESSAGE);
    drop(hogs);
    daemon.stop().await;
}
