//! A hostile server: one local HTTPS server whose routes misbehave in every way a CDN (or
//! someone posing as one) can — resets, lies about lengths, bodies that never end or drip,
//! headers that never come, `Retry-After` of a day, redirect loops and downgrades, gzip bombs,
//! the wrong content type, truncated, malformed and decompression-bomb images. For each: the
//! item's end state and reason, a time bound, the daemon still answering, and nothing partial
//! left in the output folder.

use std::io::Write;
use std::time::{Duration, Instant};

use haul_protocol::message::{Finished, JobState};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{InProcessDaemon, connect, grab_and_wait, media_grab};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{Behavior, MediaServer, Route};

/// Limits small enough that every case ends in seconds: a minimum of 2000 bytes a second over
/// 1 s windows, 4 s per file, 2 MB per file, one retry, and retry waits up to a minute (so a
/// huge `Retry-After` is not capped below the deadline).
const CONFIG: &str = "min_rate_bytes_per_sec = 2000\nmin_rate_window_secs = 1\nitem_deadline_secs = 4\n\
max_file_bytes = 2000000\nretries = 1\nretry_max_ms = 60000\nmax_jobs = 32\nmax_downloads = 32\n\
max_downloads_per_host = 32";

/// One misbehaviour and what haul must make of it.
struct Case {
    path: &'static str,
    route: Route,
    /// The job's end state.
    state: JobState,
    /// Words the item's failure reason must hold (none for a saved file).
    reason: &'static str,
    /// Longest the job may take.
    within: Duration,
}

fn case(path: &'static str, route: Route, reason: &'static str, within_secs: u64) -> Case {
    Case {
        path,
        route,
        state: JobState::Failed,
        reason,
        within: Duration::from_secs(within_secs),
    }
}

fn jpeg() -> Vec<u8> {
    images::jpeg_with_metadata(320, 240, 3)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// A PNG of one chunk list: IHDR declaring `width` × `height` grey pixels, a little image
/// data, IEND. Small on the wire, huge when decoded.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey
    chunk(&mut png, b"IHDR", &ihdr);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; 1 << 20]).unwrap();
    chunk(&mut png, b"IDAT", &z.finish().unwrap());
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Grabs each case's URL as its own job, all at once, and checks every outcome.
async fn run_cases(home: &TestHome, server: &MediaServer, cases: Vec<Case>) {
    for c in &cases {
        server.add(c.path, c.route.clone());
    }
    let runs = cases.iter().map(|c| {
        let grab = media_grab(&[server.url(c.path)], c.path.trim_start_matches('/'));
        async move {
            let started = Instant::now();
            let (_, finished) =
                grab_and_wait(&home.paths, grab, c.within + Duration::from_secs(20)).await;
            (c, started.elapsed(), finished)
        }
    });
    let mut problems = Vec::new();
    for (c, took, finished) in futures_util::future::join_all(runs).await {
        if let Some(problem) = judge(c, took, &finished) {
            problems.push(problem);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Still serving, and nothing half-written in the output folder.
    connect(&home.paths)
        .await
        .expect("the daemon still answers");
    let hidden: Vec<String> = haul_tests::disk::all_entries(&home.paths.output_dir)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "partial files left: {hidden:?}");
}

fn judge(c: &Case, took: Duration, f: &Finished) -> Option<String> {
    let reason = f
        .failures
        .first()
        .map(|x| x.reason.clone())
        .unwrap_or_default();
    let wrong = if f.status != c.state {
        format!("ended {:?}", f.status)
    } else if !reason.contains(c.reason) {
        format!("reason {reason:?} lacks {:?}", c.reason)
    } else if took > c.within {
        format!("took {took:?}, more than {:?}", c.within)
    } else if c.state == JobState::Failed && f.output.is_some() {
        format!("wrote {:?}", f.output)
    } else {
        return None;
    };
    Some(format!("{}: {wrong} ({reason})", c.path))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_misbehaving_server_ends_its_item_in_time_with_a_reason() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, CONFIG);
    let daemon = InProcessDaemon::start(&home).await;
    let jpeg = jpeg();
    let big = grab_mp4(300_000);
    let downgrade = format!("http://127.0.0.1:{}/plain.jpg", server.addr.port());
    let ok = |body: &[u8], ty: &str| Route::ok(body.to_vec(), ty);
    let cases = vec![
        case(
            "/reset.mp4",
            ok(&big, "video/mp4").with(Behavior::AlwaysCut { after: 20_000 }),
            "broke",
            5,
        ),
        case(
            "/lying-length.mp4",
            ok(&big, "video/mp4").with(Behavior::LyingLength {
                announced: big.len() * 2,
            }),
            "gave up",
            5,
        ),
        case(
            "/endless.jpg",
            ok(&jpeg, "image/jpeg").with(Behavior::Endless),
            "max_file_bytes",
            8,
        ),
        case(
            "/drip.mp4",
            ok(&big, "video/mp4").with(Behavior::Slow {
                chunk: 20,
                every: Duration::from_millis(50),
            }),
            "slower than the minimum",
            4,
        ),
        case(
            "/too-long.mp4",
            ok(&big, "video/mp4").with(Behavior::Slow {
                chunk: 5_000,
                every: Duration::from_millis(500),
            }),
            "item_deadline_secs",
            6,
        ),
        case(
            "/slow-headers.jpg",
            ok(&jpeg, "image/jpeg").with(Behavior::LateHeaders(Duration::from_secs(60))),
            "response headers",
            5,
        ),
        case(
            "/429-a-day.jpg",
            ok(&jpeg, "image/jpeg").with(Behavior::FailFirst {
                times: 1000,
                status: 429,
                retry_after: Some("86400".into()),
            }),
            "item_deadline_secs",
            2,
        ),
        case(
            "/503-a-day.jpg",
            ok(&jpeg, "image/jpeg").with(Behavior::FailFirst {
                times: 1000,
                status: 503,
                retry_after: Some("86400".into()),
            }),
            "item_deadline_secs",
            2,
        ),
        case(
            "/loop.jpg",
            ok(&jpeg, "image/jpeg").with(Behavior::Redirect("/loop.jpg".into())),
            "redirect loop",
            3,
        ),
        case(
            "/downgrade.jpg",
            ok(&jpeg, "image/jpeg").with(Behavior::Redirect(downgrade)),
            "https to plain http",
            3,
        ),
        case(
            "/gzip-bomb.jpg",
            ok(&gzip(&vec![0u8; 50 << 20]), "image/jpeg").header("content-encoding", "gzip"),
            "instead of an image",
            3,
        ),
        case(
            "/html-as-jpeg.jpg",
            ok(
                b"<!doctype html><html><body>sign in</body></html>",
                "image/jpeg",
            ),
            "instead of an image",
            3,
        ),
        Case {
            state: JobState::Complete,
            ..case(
                "/jpeg-as-html.jpg",
                ok(&jpeg, "text/html; charset=utf-8"),
                "",
                3,
            )
        },
    ];
    run_cases(&home, &server, cases).await;
    daemon.stop().await;
}

/// Damaged images fail in every preset: stored as they are (`keep`) or converted
/// (`amazon-listing`, whose decoder would fill a cut picture with grey).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_image_fails_in_every_preset() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let jpeg = jpeg();
    let png = images::png_with_metadata(200, 150, 4);
    let mut malformed = jpeg[..400].to_vec();
    malformed.extend((0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    for preset in ["keep", "amazon-listing"] {
        let home = TestHome::new(&ca, &format!("{CONFIG}\npreset = {preset:?}"));
        let daemon = InProcessDaemon::start(&home).await;
        let ok = |body: &[u8], ty: &str| Route::ok(body.to_vec(), ty);
        let mut cases = vec![
            case(
                "/truncated.jpg",
                ok(&jpeg[..jpeg.len() * 6 / 10], "image/jpeg"),
                "damaged",
                5,
            ),
            case(
                "/truncated.png",
                ok(&png[..png.len() * 6 / 10], "image/png"),
                "damaged",
                5,
            ),
            case("/malformed.jpg", ok(&malformed, "image/jpeg"), "", 5),
        ];
        if preset != "keep" {
            // `keep` never decodes, so only a converting preset meets the bomb.
            cases.push(case(
                "/bomb.png",
                ok(&png_declaring(30_000, 30_000), "image/png"),
                "",
                5,
            ));
        }
        run_cases(&home, &server, cases).await;
        daemon.stop().await;
    }
}

fn grab_mp4(len: usize) -> Vec<u8> {
    crate::grab::fake_mp4(len, 7)
}
