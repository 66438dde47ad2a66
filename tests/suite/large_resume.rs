//! A large video and a long HLS stream, the real `haul daemon` killed with SIGKILL half-way:
//! the restarted daemon finishes the same file without downloading the first half again —
//! measured by the bytes the media server sent, not by what haul says — and the ZIP holds
//! exactly the served bytes. The small twin of `bench/big.sh` (2 GiB each there, 64 MiB here).

use std::time::Duration;

use haul_tests::big_media::{self, HlsStream};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{DaemonProcess, media_grab, submit};
use haul_tests::home::TestHome;
use haul_tests::media_server::{Generated, MediaServer, Route};
use haul_tests::zipfile::{manifest, read_zip};
use sha2::Digest;

const SIZE: u64 = 64 << 20;
const TIMEOUT: Duration = Duration::from_secs(120);

/// What one kill-and-restart run saw.
struct Run {
    served_before: u64,
    served_total: u64,
    /// The paths asked for after the restart, in order.
    asked_after: Vec<String>,
    /// The HLS checkpoint the killed daemon left (`<index>.hls`), if any.
    checkpoint: Option<String>,
}

/// Submits `url` to the real daemon, kills it once the server has sent half of `body` (under
/// `prefix`), restarts it, and checks the ZIP's entry ending in `suffix` is `body`.
async fn kill_half_way(
    ca: &TestCa,
    server: &MediaServer,
    url: String,
    prefix: &str,
    body: &Generated,
    suffix: &str,
) -> Run {
    let home = TestHome::new(ca, "");
    let daemon = DaemonProcess::start(&home).await;
    let job = submit(&home.paths, media_grab(&[url], "large")).await;
    let half = haul_tests::wait_for(TIMEOUT, || {
        (server.served_under(prefix) >= body.len / 2).then_some(())
    })
    .await;
    assert!(half.is_some(), "half the file was sent");
    daemon.kill();
    let served_before = server.served_under(prefix);
    assert!(
        served_before < body.len,
        "killed before the whole file was sent ({served_before} bytes)"
    );
    let work = home.paths.work_dir().join(job.to_string());
    let checkpoint = std::fs::read_to_string(work.join("0.hls")).ok();
    let log_at_kill = server.log().len();

    let daemon = DaemonProcess::start(&home).await;
    let zip = haul_tests::wait_for(TIMEOUT, || {
        home.outputs()
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "zip"))
    })
    .await
    .expect("the ZIP appears after the restart");
    let entries = read_zip(&zip);
    let entry = entries
        .iter()
        .find(|e| e.name.ends_with(suffix))
        .expect("the video in the ZIP");
    let expected = body.sha256();
    assert!(
        hex::encode(sha2::Sha256::digest(&entry.data)) == expected,
        "the resumed video is the served one, byte for byte"
    );
    let files = manifest(&entries)["files"].clone();
    assert_eq!(files[0]["sha256"], expected.as_str());
    assert!(daemon.terminate(), "the daemon stops cleanly");
    Run {
        served_before,
        served_total: server.served_under(prefix),
        asked_after: server.log()[log_at_kill..]
            .iter()
            .map(|l| l.path.clone())
            .collect(),
        checkpoint,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_video_killed_half_way_resumes_from_where_it_stopped() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let video = big_media::mp4(SIZE, 11);
    server.add("/big/v.mp4", Route::generated(video.clone(), "video/mp4"));
    let run = kill_half_way(
        &ca,
        &server,
        server.url("/big/v.mp4"),
        "/big/",
        &video,
        ".mp4",
    )
    .await;
    let again = run.served_total.saturating_sub(SIZE);
    eprintln!(
        "video: {} bytes before the kill, {} in all ({again} sent twice)",
        run.served_before, run.served_total
    );
    // What was in flight at the kill (socket buffers, the unwritten tail of the file's buffer)
    // comes again; the first half must not.
    assert!(
        again < SIZE / 8,
        "{again} bytes were sent twice: the restart downloaded from the start"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_hls_stream_killed_half_way_resumes_after_its_last_whole_segment() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    // 64 segments of 1 MiB.
    let stream = HlsStream::new(64, (1 << 20) / big_media::TS_PACKET, 12);
    let url = stream.serve(&server, "hls");
    let size = stream.joined.len;
    let run = kill_half_way(&ca, &server, url, "/hls/", &stream.joined, ".ts").await;
    let whole: usize = run
        .checkpoint
        .as_deref()
        .and_then(|c| c.lines().nth(2))
        .and_then(|n| n.parse().ok())
        .expect("the killed daemon left a checkpoint");
    let asked: Vec<usize> = run
        .asked_after
        .iter()
        .filter_map(|p| HlsStream::index_of(p))
        .collect();
    eprintln!(
        "hls: {} bytes before the kill, {} in all; {whole} segments whole at the kill; asked \
         after the restart from {:?}",
        run.served_before,
        run.served_total,
        asked.first()
    );
    assert!(
        whole * 3 >= stream.segments,
        "most of the first half was whole"
    );
    assert_eq!(
        asked.first(),
        Some(&whole),
        "the restart continues with the first segment not yet whole"
    );
    assert_eq!(asked, (whole..stream.segments).collect::<Vec<_>>());
    assert!(run.served_total.saturating_sub(size) < size / 8);
}
