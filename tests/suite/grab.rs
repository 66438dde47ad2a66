//! Grabs through the real daemon (in-process, over its real socket) against the local HTTPS media
//! server: the package, the manifest, the metadata, and every way a server can misbehave.

use std::time::Duration;

use haul_protocol::message::{FailureKind, JobState, Reply};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{InProcessDaemon, grab_and_wait, media_grab};
use haul_tests::home::TestHome;
use haul_tests::images::{self, CANARY, ICC_MARK};
use haul_tests::media_server::{Behavior, MediaServer, Route};
use haul_tests::zipfile::{manifest, read_zip};
use sha2::{Digest, Sha256};

const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// Bytes that look like an MP4 (an `ftyp` box) followed by filler.
pub fn fake_mp4(len: usize, seed: u8) -> Vec<u8> {
    let mut v = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    v.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    v
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

struct Setup {
    _ca: TestCa,
    server: MediaServer,
    home: TestHome,
    daemon: InProcessDaemon,
}

async fn setup(config: &str) -> Setup {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, config);
    let daemon = InProcessDaemon::start(&home).await;
    Setup {
        _ca: ca,
        server,
        home,
        daemon,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grab_packages_every_file_stripped_named_and_described() {
    let s = setup("").await;
    let jpeg = images::jpeg_with_metadata(640, 480, 1);
    let png = images::png_with_metadata(300, 200, 2);
    let webp = images::webp_with_metadata(120, 90, 3);
    let video = fake_mp4(300_000, 4);
    s.server
        .add("/img/a.jpg", Route::ok(jpeg.clone(), "image/jpeg"));
    s.server
        .add("/img/b.png", Route::ok(png.clone(), "image/png"));
    s.server
        .add("/img/c.webp", Route::ok(webp.clone(), "image/webp"));
    s.server
        .add("/v/clip.mp4", Route::ok(video.clone(), "video/mp4"));
    let urls: Vec<String> = ["/img/a.jpg", "/img/b.png", "/img/c.webp", "/v/clip.mp4"]
        .iter()
        .map(|p| s.server.url(p))
        .collect();

    let (replies, finished) =
        grab_and_wait(&s.home.paths, media_grab(&urls, "product"), JOB_TIMEOUT).await;
    assert!(
        matches!(&replies[0], Reply::Accepted(a) if a.id == Some(serde_json::json!("t1"))),
        "{:?}",
        replies[0]
    );
    assert!(
        replies
            .iter()
            .any(|r| matches!(r, Reply::Progress(p) if p.total == 4)),
        "progress events with the total"
    );
    assert_eq!(finished.status, JobState::Complete, "{finished:?}");
    assert_eq!((finished.saved, finished.failed, finished.total), (4, 0, 4));
    let output = std::path::PathBuf::from(finished.output.expect("output path"));
    assert_eq!(output, s.home.paths.output_dir.join("product.zip"));

    let entries = read_zip(&output);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "01-main.jpg",
            "02.png",
            "03.webp",
            "video/01.mp4",
            "manifest.json",
            "manifest.csv"
        ]
    );
    assert!(
        entries.iter().all(|e| e.stored),
        "media are stored without recompression"
    );

    // Metadata gone, ICC kept, pixels (and the JPEG's scan bytes) unchanged.
    for (entry, original) in entries.iter().zip([&jpeg, &png, &webp]) {
        assert!(
            !images::contains(&entry.data, CANARY),
            "{} still carries metadata",
            entry.name
        );
        assert_eq!(
            images::decode_rgba(&entry.data),
            images::decode_rgba(original),
            "{} pixels changed",
            entry.name
        );
    }
    assert!(
        images::contains(&entries[0].data, ICC_MARK),
        "the JPEG's ICC profile is kept"
    );
    assert!(
        images::contains(&entries[2].data, ICC_MARK),
        "the WebP's ICC profile is kept"
    );
    assert_eq!(
        images::jpeg_scan_data(&entries[0].data),
        images::jpeg_scan_data(&jpeg)
    );
    assert!(entries[0].data.len() < jpeg.len());
    assert_eq!(entries[3].data, video, "videos are stored as downloaded");

    let m = manifest(&entries);
    let files = m["files"].as_array().expect("files");
    assert_eq!(files.len(), 4);
    for (file, entry) in files.iter().zip(&entries) {
        assert_eq!(file["name"], entry.name.as_str());
        assert_eq!(file["bytes"], entry.data.len() as u64);
        assert_eq!(file["sha256"], sha256_hex(&entry.data));
    }
    assert_eq!(files[0]["url"], urls[0].as_str());
    assert_eq!(files[0]["role"], "main");
    assert_eq!(files[1]["role"], "gallery");
    assert_eq!(files[3]["role"], "video");
    assert_eq!(
        (files[0]["width"].as_u64(), files[0]["height"].as_u64()),
        (Some(640), Some(480))
    );
    assert_eq!(
        (files[1]["width"].as_u64(), files[1]["height"].as_u64()),
        (Some(300), Some(200))
    );
    assert_eq!(files[0]["content_type"], "image/jpeg");
    assert_eq!(files[2]["content_type"], "image/webp");
    assert_eq!(files[3]["content_type"], "video/mp4");
    assert!(m["failed"].as_array().expect("failed").is_empty());
    let csv = String::from_utf8(entries[5].data.clone()).expect("CSV is UTF-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("\u{feff}name,url,role,"),
        "a BOM, then the header"
    );
    assert_eq!(lines.len(), 5);
    assert!(lines[1].starts_with(&format!("01-main.jpg,{},main,", urls[0])));

    // No cookies, ever; and a second grab of the same product never overwrites the first.
    assert!(s.server.log().iter().all(|r| r.cookie.is_none()));
    let first = std::fs::read(&output).expect("first ZIP");
    let (_, again) = grab_and_wait(&s.home.paths, media_grab(&urls, "product"), JOB_TIMEOUT).await;
    assert_eq!(
        again.output.as_deref().map(std::path::PathBuf::from),
        Some(s.home.paths.output_dir.join("product (2).zip"))
    );
    assert_eq!(std::fs::read(&output).expect("first ZIP"), first);
    // Deterministic packaging: the same content gives the same bytes, but for the date each
    // job was made.
    let undated = |zip: &[u8]| haul_tests::zipfile::undated(zip).0;
    let second =
        std::fs::read(s.home.paths.output_dir.join("product (2).zip")).expect("second ZIP");
    assert!(
        undated(&second) == undated(&first),
        "the same bytes but for the date"
    );
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_on_429_is_honoured() {
    let s = setup("").await;
    let jpeg = images::jpeg_with_metadata(64, 64, 5);
    s.server.add(
        "/busy.jpg",
        Route::ok(jpeg, "image/jpeg").with(Behavior::FailFirst {
            times: 1,
            status: 429,
            retry_after: Some("1".into()),
        }),
    );
    let (_, finished) = grab_and_wait(
        &s.home.paths,
        media_grab(&[s.server.url("/busy.jpg")], "busy"),
        JOB_TIMEOUT,
    )
    .await;
    assert_eq!(finished.status, JobState::Complete, "{finished:?}");
    let log: Vec<_> = s
        .server
        .log()
        .into_iter()
        .filter(|r| r.path == "/busy.jpg")
        .collect();
    assert_eq!(log.len(), 2);
    let waited = log[1].at - log[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "retried after {waited:?}, before the server's Retry-After: 1"
    );
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_until_success() {
    let s = setup("").await;
    s.server.add(
        "/flaky.png",
        Route::ok(images::png_with_metadata(32, 32, 6), "image/png").with(Behavior::FailFirst {
            times: 2,
            status: 500,
            retry_after: None,
        }),
    );
    s.server.add(
        "/gone.png",
        Route::ok(Vec::new(), "image/png").with(Behavior::Status(404)),
    );
    let urls = [s.server.url("/flaky.png"), s.server.url("/gone.png")];
    let (_, finished) = grab_and_wait(&s.home.paths, media_grab(&urls, "flaky"), JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Partial, "{finished:?}");
    assert_eq!(s.server.hits("/flaky.png"), 3);
    assert_eq!(s.server.hits("/gone.png"), 1, "a 404 is final, not retried");
    assert_eq!(finished.failures.len(), 1);
    assert!(
        finished.failures[0].reason.contains("404"),
        "{:?}",
        finished.failures
    );
    let entries = read_zip(std::path::Path::new(
        finished.output.as_deref().expect("output"),
    ));
    let m = manifest(&entries);
    assert_eq!(m["failed"][0]["url"], urls[1].as_str());
    assert!(
        m["failed"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("404"))
    );
    // The kind travels beside the reason: in the protocol's failure and in the manifest.
    assert_eq!(finished.failures[0].kind, FailureKind::NotFound);
    assert_eq!(
        finished.failures[0].explanation,
        FailureKind::NotFound.explanation().unwrap_or_default()
    );
    assert_eq!(m["failed"][0]["kind"], "not_found");
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_body_is_resumed_with_range() {
    let s = setup("").await;
    let video = fake_mp4(400_000, 7);
    let route = Route::ok(video.clone(), "video/mp4").with(Behavior::CutFirst { after: 150_000 });
    let etag = route.etag.clone();
    s.server.add("/cut.mp4", route);
    let (_, finished) = grab_and_wait(
        &s.home.paths,
        media_grab(&[s.server.url("/cut.mp4")], "cut"),
        JOB_TIMEOUT,
    )
    .await;
    assert_eq!(finished.status, JobState::Complete, "{finished:?}");
    let log: Vec<_> = s
        .server
        .log()
        .into_iter()
        .filter(|r| r.path == "/cut.mp4")
        .collect();
    assert_eq!(log.len(), 2, "{log:?}");
    let range = log[1].range.as_deref().expect("the retry asks for a range");
    let offset: usize = range
        .trim_start_matches("bytes=")
        .trim_end_matches('-')
        .parse()
        .expect("bytes=N-");
    assert!(offset > 0 && offset <= 150_000, "resumed from {offset}");
    assert_eq!(
        log[1].if_range, etag,
        "the range is conditional on the ETag"
    );
    let entries = read_zip(std::path::Path::new(
        finished.output.as_deref().expect("output"),
    ));
    assert_eq!(
        entries[0].data, video,
        "the resumed file is whole and correct"
    );
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_always_breaks_off_fails_with_the_reason() {
    let s = setup("retries = 2").await;
    s.server.add(
        "/short.mp4",
        Route::ok(fake_mp4(100_000, 8), "video/mp4").with(Behavior::AlwaysCut { after: 5_000 }),
    );
    s.server.add(
        "/fine.jpg",
        Route::ok(images::jpeg_with_metadata(40, 40, 8), "image/jpeg"),
    );
    let urls = [s.server.url("/fine.jpg"), s.server.url("/short.mp4")];
    let (_, finished) = grab_and_wait(&s.home.paths, media_grab(&urls, "short"), JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Partial);
    assert_eq!(
        s.server.hits("/short.mp4"),
        3,
        "first attempt plus two retries"
    );
    let reason = &finished.failures[0].reason;
    assert!(
        reason.contains("gave up after 3 attempts") && reason.contains("broke"),
        "{reason}"
    );
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_served_as_jpeg_is_a_failed_item_not_a_jpg() {
    let s = setup("").await;
    s.server.add(
        "/ok.jpg",
        Route::ok(images::jpeg_with_metadata(50, 50, 9), "image/jpeg"),
    );
    s.server.add(
        "/trap.jpg",
        Route::ok(
            b"<!DOCTYPE html><html><body>Sorry, robot check</body></html>".to_vec(),
            "image/jpeg",
        ),
    );
    s.server.add(
        "/json.jpg",
        Route::ok(br#"{"error":"expired"}"#.to_vec(), "image/jpeg"),
    );
    let urls = [
        s.server.url("/ok.jpg"),
        s.server.url("/trap.jpg"),
        s.server.url("/json.jpg"),
    ];
    let (_, finished) = grab_and_wait(&s.home.paths, media_grab(&urls, "trap"), JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Partial);
    assert_eq!(
        s.server.hits("/trap.jpg"),
        1,
        "wrong content is not retried"
    );
    let reasons: Vec<&str> = finished
        .failures
        .iter()
        .map(|f| f.reason.as_str())
        .collect();
    assert!(
        reasons[0].contains("HTML page") && reasons[0].contains("image/jpeg"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("JSON"), "{reasons:?}");
    let entries = read_zip(std::path::Path::new(
        finished.output.as_deref().expect("output"),
    ));
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["01-main.jpg", "manifest.json", "manifest.csv"]);
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loops_end_with_a_clear_error() {
    let s = setup("").await;
    let loop_url = s.server.url("/loop.jpg");
    s.server.add(
        "/loop.jpg",
        Route::ok(Vec::new(), "image/jpeg").with(Behavior::Redirect(loop_url.clone())),
    );
    s.server.add(
        "/a.jpg",
        Route::ok(Vec::new(), "image/jpeg").with(Behavior::Redirect(s.server.url("/b.jpg"))),
    );
    s.server.add(
        "/b.jpg",
        Route::ok(Vec::new(), "image/jpeg").with(Behavior::Redirect(s.server.url("/a.jpg"))),
    );
    let (_, finished) = grab_and_wait(
        &s.home.paths,
        media_grab(&[loop_url, s.server.url("/a.jpg")], "loops"),
        JOB_TIMEOUT,
    )
    .await;
    assert_eq!(finished.status, JobState::Failed);
    for failure in &finished.failures {
        assert!(failure.reason.contains("redirect loop"), "{failure:?}");
    }
    assert!(s.home.outputs().is_empty(), "nothing saved, no package");
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_directly_and_after_redirects() {
    // Only the pinned CDN name may reach loopback; everything else local is refused.
    let s =
        setup("allow_private_networks = false\n[resolve]\n\"media.test\" = \"127.0.0.1\"").await;
    s.server.add(
        "/secret.jpg",
        Route::ok(images::jpeg_with_metadata(30, 30, 10), "image/jpeg"),
    );
    s.server.add(
        "/pub.jpg",
        Route::ok(images::jpeg_with_metadata(30, 30, 11), "image/jpeg"),
    );
    s.server.add(
        "/hop.jpg",
        Route::ok(Vec::new(), "image/jpeg").with(Behavior::Redirect(s.server.url("/secret.jpg"))),
    );
    let localhost = format!("https://localhost:{}/secret.jpg", s.server.addr.port());
    let urls = [
        s.server.url_via("media.test", "/pub.jpg"),
        s.server.url_via("media.test", "/hop.jpg"),
        s.server.url("/secret.jpg"),
        localhost,
    ];
    let (_, finished) =
        grab_and_wait(&s.home.paths, media_grab(&urls, "private"), JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Partial, "{finished:?}");
    assert_eq!(finished.saved, 1, "only the pinned host's own file");
    assert_eq!(finished.failures.len(), 3);
    for failure in &finished.failures {
        assert!(
            failure.reason.contains("refused") && failure.reason.contains("allow_private_networks"),
            "{failure:?}"
        );
    }
    assert_eq!(s.server.hits("/hop.jpg"), 1);
    assert_eq!(
        s.server.hits("/secret.jpg"),
        0,
        "no request ever reached a refused target"
    );
    assert!(s.server.log().iter().all(|r| {
        r.host
            .as_deref()
            .is_some_and(|h| h.starts_with("media.test"))
    }));
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_over_the_size_limit_fail_without_being_kept() {
    let s = setup("max_file_bytes = 50000").await;
    s.server
        .add("/big.mp4", Route::ok(fake_mp4(120_000, 12), "video/mp4"));
    s.server.add(
        "/small.jpg",
        Route::ok(images::jpeg_with_metadata(20, 20, 12), "image/jpeg"),
    );
    let urls = [s.server.url("/small.jpg"), s.server.url("/big.mp4")];
    let (_, finished) =
        grab_and_wait(&s.home.paths, media_grab(&urls, "limits"), JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Partial);
    assert!(
        finished.failures[0].reason.contains("max_file_bytes"),
        "{:?}",
        finished.failures
    );
    assert_eq!(
        s.server.hits("/big.mp4"),
        1,
        "a size verdict is not retried"
    );
    let work = s.home.paths.work_dir();
    assert!(
        haul_tests::home::list_visible(&work).is_empty(),
        "working files are cleaned up"
    );
    s.daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_links_are_saved_at_their_largest_or_exactly_as_given() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let port = server.addr.port();
    let mut pins = String::from("allow_private_networks = false\n[connect_to]\n");
    for host in ["m.media-amazon.com", "i.ebayimg.com", "ae01.alicdn.com"] {
        pins.push_str(&format!("\"{host}\" = \"127.0.0.1:{port}\"\n"));
    }
    let home = TestHome::new(&ca, &pins);
    let daemon = InProcessDaemon::start(&home).await;
    // Each link as a shop's page shows it, and the largest form its CDN serves.
    let links = [
        (
            "/images/I/81abcDEF12L._AC_SX679_.jpg",
            "/images/I/81abcDEF12L.jpg",
            "m.media-amazon.com",
        ),
        (
            "/images/g/AbCdEfGh/s-l500.jpg",
            "/images/g/AbCdEfGh/s-l1600.jpg",
            "i.ebayimg.com",
        ),
        (
            "/kf/Sabc123.jpg_640x640.jpg",
            "/kf/Sabc123.jpg",
            "ae01.alicdn.com",
        ),
    ];
    for (i, (small, large, _)) in links.iter().enumerate() {
        for (path, seed) in [(small, i as u8), (large, 100 + i as u8)] {
            server.add(
                path,
                Route::ok(images::jpeg_with_metadata(64, 48, seed), "image/jpeg"),
            );
        }
    }
    let urls: Vec<String> = links
        .iter()
        .map(|(small, _, host)| format!("https://{host}{small}"))
        .collect();

    let (_, finished) = grab_and_wait(&home.paths, media_grab(&urls, "largest"), JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Complete, "{finished:?}");
    for (small, large, _) in &links {
        assert_eq!(server.hits(large), 1, "{large} is what is saved");
        assert_eq!(server.hits(small), 0, "{small} is never asked for");
    }

    let mut grab = media_grab(&urls, "as-given");
    grab.options.as_given = Some(true);
    let (_, finished) = grab_and_wait(&home.paths, grab, JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Complete, "{finished:?}");
    let saved = manifest(&read_zip(std::path::Path::new(
        finished.output.as_deref().expect("a package"),
    )));
    let sources: Vec<&str> = saved["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["url"].as_str())
        .collect();
    assert_eq!(sources, urls.iter().map(String::as_str).collect::<Vec<_>>());
    for (small, large, _) in &links {
        assert_eq!(server.hits(small), 1, "{small} kept as given");
        assert_eq!(server.hits(large), 1, "{large} not asked for again");
    }
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_left_out_by_choice_are_never_downloaded_and_listed_in_the_manifest() {
    let s = setup("").await;
    s.server.add(
        "/shop/lamp-a.jpg",
        Route::ok(images::jpeg_with_metadata(64, 48, 1), "image/jpeg"),
    );
    s.server.add(
        "/shop/lamp-b.jpg",
        Route::ok(images::jpeg_with_metadata(64, 48, 2), "image/jpeg"),
    );
    s.server.add(
        "/shop/lamp.mp4",
        Route::ok(fake_mp4(20_000, 3), "video/mp4"),
    );
    let html = format!(
        r#"<html><head><title>Lamp</title><script type="application/ld+json">{{"@type":"Product",
        "name":"Brass Lamp","sku":"LAMP7","image":["{a}","{b}"]}}</script></head>
        <body><video src="{v}"></video></body></html>"#,
        a = s.server.url("/shop/lamp-a.jpg"),
        b = s.server.url("/shop/lamp-b.jpg"),
        v = s.server.url("/shop/lamp.mp4"),
    );
    let mut grab = media_grab(&[], "lamp");
    grab.page = Some(haul_protocol::message::Page {
        url: "https://shop.example/products/lamp".into(),
        title: Some("Lamp".into()),
        html: Some(html),
    });
    grab.options.include = Some(vec!["video".into()]);
    let (_, finished) = grab_and_wait(&s.home.paths, grab, JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Complete, "{finished:?}");
    assert_eq!(finished.total, 1, "only the video is planned");
    assert_eq!(s.server.hits("/shop/lamp-a.jpg"), 0);
    assert_eq!(s.server.hits("/shop/lamp-b.jpg"), 0);
    let entries = read_zip(std::path::Path::new(
        finished.output.as_deref().expect("a package"),
    ));
    let m = manifest(&entries);
    let files = m["files"].as_array().expect("files");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["role"], "video");
    let not_included: Vec<(&str, &str)> = m["not_included"]
        .as_array()
        .expect("not_included")
        .iter()
        .map(|x| {
            (
                x["role"].as_str().unwrap_or_default(),
                x["url"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        not_included,
        [
            ("main", s.server.url("/shop/lamp-a.jpg").as_str()),
            ("gallery", s.server.url("/shop/lamp-b.jpg").as_str()),
        ]
    );
    assert!(
        m["notes"].as_array().is_some_and(|n| n
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.contains("include")))),
        "{m}"
    );

    // An unknown role is refused before anything runs, naming it.
    let mut bad = media_grab(&[s.server.url("/shop/lamp-a.jpg")], "bad");
    bad.options.include = Some(vec!["photos".into()]);
    let (mut conn, _) = haul_tests::daemon::connect(&s.home.paths)
        .await
        .expect("connect to the daemon");
    haul_protocol::socket::send(&mut conn, &haul_protocol::message::Request::Grab(bad))
        .await
        .expect("send grab");
    let reply = haul_protocol::socket::recv(&mut conn)
        .await
        .expect("a reply");
    assert!(
        matches!(&reply, Some(Reply::Error(e)) if e.message.contains("photos")),
        "{reply:?}"
    );
    s.daemon.stop().await;
}
