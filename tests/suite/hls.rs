//! HLS videos through the real daemon and the local HTTPS media server: a master playlist's best
//! variant is joined into one file — fMP4 (init segment + segments, byte ranges, relative URIs)
//! into an `.mp4`, MPEG-TS into a `.ts` — with the same retries as any download; encrypted
//! streams fail with a clear reason; a download stopped part-way — or a daemon killed with
//! SIGKILL mid-stream — resumes from its checkpoint without fetching whole segments again.

use std::time::Duration;

use haul::config::Config;
use haul::fetch::{ByteBudget, FetchError, Fetcher, Observer, Target};
use haul::format::Format;
use haul::media::MediaKind;
use haul_protocol::message::{JobState, Request};
use haul_protocol::socket;
use haul_tests::ca::TestCa;
use haul_tests::daemon::{DaemonProcess, InProcessDaemon, connect, grab_and_wait, media_grab};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{Behavior, MediaServer, Route};
use haul_tests::zipfile::{manifest, read_zip};
use tokio_util::sync::CancellationToken;

const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// An ISO-BMFF box of `kind` with `len` bytes of payload.
fn mp4_box(kind: &[u8; 4], len: usize, seed: u8) -> Vec<u8> {
    let mut b = ((len + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend((0..len).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed)));
    b
}

/// An fMP4 init segment: `ftyp` + `moov`.
fn init_segment() -> Vec<u8> {
    let mut v = b"\0\0\0\x18ftypiso6\0\0\x02\0iso6mp41".to_vec();
    v.extend(mp4_box(b"moov", 600, 1));
    v
}

/// An fMP4 media segment: `moof` + `mdat`.
fn media_segment(len: usize, seed: u8) -> Vec<u8> {
    let mut v = mp4_box(b"moof", 100, seed);
    v.extend(mp4_box(b"mdat", len, seed));
    v
}

/// `packets` MPEG-TS packets (188 bytes, sync byte 0x47).
pub fn ts_segment(packets: usize, seed: u8) -> Vec<u8> {
    (0..packets)
        .flat_map(|p| {
            let mut packet = vec![0x47];
            packet.extend((1..188).map(move |i| (i as u8) ^ (p as u8) ^ seed));
            packet
        })
        .collect()
}

fn video_entry(zip: &std::path::Path, name: &str) -> Vec<u8> {
    let entries = read_zip(zip);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    entries
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name} in {names:?}"))
        .data
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_fmp4_stream_is_joined_from_its_best_variant() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let daemon = InProcessDaemon::start(&home).await;

    server.add(
        "/v/master.m3u8",
        Route::ok(
            "#EXTM3U\n\
             #EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=480x270\nlow/index.m3u8\n\
             #EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1920x1080\nhd/index.m3u8?token=a\n",
            "application/vnd.apple.mpegurl",
        ),
    );
    server.add(
        "/v/low/index.m3u8",
        Route::ok(
            "#EXTM3U\n#EXTINF:4,\nx.m4s\n",
            "application/vnd.apple.mpegurl",
        ),
    );
    // Relative URIs (same folder, parent folder, absolute path), a segment whose first answer
    // breaks off, and two byte ranges of one file (the second without an offset).
    let init = init_segment();
    let seg1 = media_segment(20_000, 2);
    let seg2 = media_segment(30_000, 3);
    let packed = [media_segment(5_000, 4), media_segment(7_000, 5)].concat();
    let (first_len, second_len) = (5_000 + 116, 7_000 + 116);
    server.add(
        "/v/hd/index.m3u8",
        Route::ok(
            format!(
                "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n\
                 #EXT-X-MAP:URI=\"init.mp4\"\n\
                 #EXTINF:4.0,\nseg-1.m4s\n\
                 #EXTINF:4.0,\n../shared/seg-2.m4s\n\
                 #EXTINF:4.0,\n#EXT-X-BYTERANGE:{first_len}@0\n/packed/all.m4s\n\
                 #EXTINF:4.0,\n#EXT-X-BYTERANGE:{second_len}\n/packed/all.m4s\n\
                 #EXT-X-ENDLIST\n"
            ),
            "application/vnd.apple.mpegurl",
        ),
    );
    server.add("/v/hd/init.mp4", Route::ok(init.clone(), "video/mp4"));
    server.add(
        "/v/hd/seg-1.m4s",
        Route::ok(seg1.clone(), "video/iso.segment").with(Behavior::CutFirst { after: 5_000 }),
    );
    server.add(
        "/v/shared/seg-2.m4s",
        Route::ok(seg2.clone(), "video/iso.segment"),
    );
    server.add(
        "/packed/all.m4s",
        Route::ok(packed.clone(), "video/iso.segment"),
    );

    let urls = vec![server.url("/v/master.m3u8")];
    let (_, finished) = grab_and_wait(&home.paths, media_grab(&urls, "stream"), JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Complete, "{finished:?}");
    let zip = finished.output.as_deref().expect("a package");
    let video = video_entry(std::path::Path::new(zip), "video/01.mp4");
    let expected = [init.clone(), seg1, seg2, packed.clone()].concat();
    assert_eq!(
        &video[4..8],
        b"ftyp",
        "starts with the init segment's ftyp box"
    );
    assert_eq!(video.len(), expected.len(), "size = init + every segment");
    assert_eq!(video, expected, "joined in playlist order");
    assert_eq!(server.hits("/v/low/index.m3u8"), 0, "only the best variant");
    assert_eq!(server.hits("/v/hd/init.mp4"), 1, "the init segment once");
    assert_eq!(
        server.hits("/v/hd/seg-1.m4s"),
        2,
        "the cut segment was retried"
    );
    let ranges: Vec<String> = server
        .log()
        .iter()
        .filter(|l| l.path == "/packed/all.m4s")
        .filter_map(|l| l.range.clone())
        .collect();
    assert_eq!(
        ranges,
        [
            format!("bytes=0-{}", first_len - 1),
            format!("bytes={first_len}-{}", first_len + second_len - 1)
        ]
    );
    let m = manifest(&read_zip(std::path::Path::new(zip)));
    assert_eq!(m["files"][0]["content_type"], "video/mp4");
    assert_eq!(m["files"][0]["bytes"], expected.len());
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ts_stream_becomes_one_ts_file_and_encrypted_streams_fail_clearly() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let daemon = InProcessDaemon::start(&home).await;

    let segments: Vec<Vec<u8>> = (0..3).map(|i| ts_segment(40 + i * 7, i as u8)).collect();
    server.add(
        "/ts/index.m3u8",
        Route::ok(
            "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\n0.ts\n#EXTINF:6,\n1.ts\n#EXTINF:6,\n2.ts\n#EXT-X-ENDLIST\n",
            "application/x-mpegURL",
        ),
    );
    for (i, s) in segments.iter().enumerate() {
        let route = Route::ok(s.clone(), "video/mp2t");
        let route = if i == 1 {
            route.with(Behavior::FailFirst {
                times: 1,
                status: 503,
                retry_after: None,
            })
        } else {
            route
        };
        server.add(&format!("/ts/{i}.ts"), route);
    }
    server.add(
        "/enc/index.m3u8",
        Route::ok(
            "#EXTM3U\n#EXTINF:6,\nclear.ts\n#EXT-X-KEY:METHOD=AES-128,URI=\"key.bin\"\n#EXTINF:6,\nsecret.ts\n",
            "application/x-mpegURL",
        ),
    );
    server.add(
        "/img/a.jpg",
        Route::ok(images::jpeg_with_metadata(64, 48, 9), "image/jpeg"),
    );

    let urls = vec![
        server.url("/img/a.jpg"),
        server.url("/ts/index.m3u8"),
        server.url("/enc/index.m3u8"),
    ];
    let (_, finished) = grab_and_wait(&home.paths, media_grab(&urls, "streams"), JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Partial, "{finished:?}");
    assert_eq!(finished.failures.len(), 1, "{finished:?}");
    assert!(
        finished.failures[0]
            .reason
            .contains("encrypted HLS is not supported"),
        "{:?}",
        finished.failures
    );
    assert_eq!(
        server.hits("/enc/clear.ts") + server.hits("/enc/secret.ts"),
        0
    );
    assert_eq!(server.hits("/enc/key.bin"), 0);

    let zip = finished.output.as_deref().expect("a package");
    let video = video_entry(std::path::Path::new(zip), "video/01.ts");
    assert_eq!(video.len(), segments.iter().map(Vec::len).sum::<usize>());
    assert_eq!(video.len() % 188, 0);
    assert!(
        video.chunks(188).all(|p| p[0] == 0x47),
        "a sync byte every 188 bytes"
    );
    assert_eq!(video, segments.concat());
    let names: Vec<String> = read_zip(std::path::Path::new(zip))
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".m3u8")),
        "no playlist text saved: {names:?}"
    );
    daemon.stop().await;
}

/// Hears nothing: the resume test drives the fetcher directly.
struct Quiet;

impl Observer for Quiet {
    fn started(&self, _: Option<u64>, _: Option<&str>, _: &str) {}
    fn progress(&self, _: u64) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_stream_resumes_after_its_last_whole_segment() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "retries = 0\n");
    let config: Config = home.config();
    let fetcher = Fetcher::new(&config).expect("fetcher");

    let segments: Vec<Vec<u8>> = (0..4).map(|i| ts_segment(30, i as u8)).collect();
    server.add(
        "/r/index.m3u8",
        Route::ok(
            "#EXTM3U\n#EXTINF:2,\n0.ts\n#EXTINF:2,\n1.ts\n#EXTINF:2,\n2.ts\n#EXTINF:2,\n3.ts\n#EXT-X-ENDLIST\n",
            "application/x-mpegURL",
        ),
    );
    for (i, s) in segments.iter().enumerate() {
        server.add(&format!("/r/{i}.ts"), Route::ok(s.clone(), "video/mp2t"));
    }
    // The third segment breaks off every time: the first run stops there, as a killed daemon
    // would, with half a segment on disk.
    server.add(
        "/r/2.ts",
        Route::ok(segments[2].clone(), "video/mp2t").with(Behavior::AlwaysCut { after: 1000 }),
    );
    let work = tempfile::tempdir().unwrap();
    let target = Target {
        url: server.url("/r/index.m3u8"),
        part: work.path().join("0.part"),
        validator: None,
        size: None,
        kind: MediaKind::Video,
    };
    let budget = ByteBudget::new(u64::MAX, 0);
    let cancel = CancellationToken::new();
    let first = fetcher.download(&target, &Quiet, &budget, &cancel).await;
    assert!(
        matches!(first, Err(FetchError::Interrupted { .. })),
        "{first:?}"
    );
    let on_disk = std::fs::metadata(&target.part).unwrap().len() as usize;
    assert!(on_disk > segments[0].len() + segments[1].len(), "{on_disk}");

    server.add("/r/2.ts", Route::ok(segments[2].clone(), "video/mp2t"));
    let fetched = fetcher
        .download(&target, &Quiet, &budget, &cancel)
        .await
        .expect("the resumed stream completes");
    assert_eq!(fetched.format, Format::MpegTs);
    assert_eq!(std::fs::read(&target.part).unwrap(), segments.concat());
    assert_eq!(
        server.hits("/r/0.ts"),
        1,
        "finished segments are not fetched again"
    );
    assert_eq!(server.hits("/r/1.ts"), 1);
    assert!(
        !work.path().join("0.hls").exists(),
        "the checkpoint goes with the finished download"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_then_restart_joins_the_same_video() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let segments: Vec<Vec<u8>> = (0..6).map(|i| ts_segment(200, i as u8)).collect();
    let list: String = (0..segments.len())
        .map(|i| format!("#EXTINF:2,\n{i}.ts\n"))
        .collect();
    server.add(
        "/k/index.m3u8",
        Route::ok(
            format!("#EXTM3U\n{list}#EXT-X-ENDLIST\n"),
            "application/x-mpegURL",
        ),
    );
    // Each segment trickles in over about 120 ms, so the kill lands mid-stream.
    for (i, s) in segments.iter().enumerate() {
        server.add(
            &format!("/k/{i}.ts"),
            Route::ok(s.clone(), "video/mp2t").with(Behavior::Slow {
                chunk: 8 * 1024,
                every: Duration::from_millis(25),
            }),
        );
    }
    let daemon = DaemonProcess::start(&home).await;
    let urls = vec![server.url("/k/index.m3u8")];
    let (mut conn, _) = connect(&home.paths).await.expect("connect");
    socket::send(&mut conn, &Request::Grab(media_grab(&urls, "stream")))
        .await
        .expect("send grab");
    // Segments are fetched in order: once the third is asked for, two are whole on disk.
    let under_way =
        haul_tests::wait_for(JOB_TIMEOUT, || (server.hits("/k/2.ts") > 0).then_some(())).await;
    assert!(under_way.is_some(), "the stream got under way");
    daemon.kill();
    assert!(home.outputs().is_empty(), "killed before the package");

    let daemon = DaemonProcess::start(&home).await;
    let zip = haul_tests::wait_for(JOB_TIMEOUT, || {
        home.outputs()
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "zip"))
    })
    .await
    .expect("the ZIP appears after the restart");
    assert_eq!(
        video_entry(&zip, "video/01.ts"),
        segments.concat(),
        "the resumed stream is exactly the joined segments"
    );
    assert_eq!(
        server.hits("/k/0.ts"),
        1,
        "whole segments are not fetched again"
    );
    assert_eq!(server.hits("/k/1.ts"), 1);
    assert!(daemon.terminate(), "the daemon stops cleanly");
}
