//! Memory under attack: the real daemon process is given decompression bombs and huge grabs, and
//! its peak resident memory (`VmHWM` in `/proc/PID/status`, reset through `clear_refs` before
//! each case) must stay under 128 MiB in every case — what the red-team pass measured at 4.4 GiB
//! (a 20000 × 20000 PNG), 2.64 GB (an `.xlsx` lying about its sizes), 3.5 GB (a grab of 400,000
//! URLs) and 206 MB (a 1,000,000-row CSV).
#![cfg(target_os = "linux")]

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use haul_protocol::message::{ErrorCode, JobState, Reply, Request};
use haul_protocol::socket;
use haul_tests::ca::TestCa;
use haul_tests::daemon::{DaemonProcess, connect, grab_and_wait, media_grab};
use haul_tests::home::{TestHome, returned_from_inbox};
use haul_tests::media_server::{MediaServer, Route};
use haul_tests::rss;

/// The quality bar: peak resident memory of the daemon in every case.
const PEAK_LIMIT_KIB: u64 = 128 * 1024;

/// How much more than before a big job the daemon may hold once the job has ended.
const RETURNED_SLACK_KIB: u64 = 8 * 1024;

/// A field of `/proc/PID/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    rss::status_kib(pid, field).unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Runs `case` against the daemon and asserts its peak resident memory stayed under the bar.
async fn measured<F: std::future::Future<Output = ()>>(pid: u32, name: &str, case: F) {
    rss::reset_peak(pid).expect("reset VmHWM");
    let started = std::time::Instant::now();
    case.await;
    let peak = status_kib(pid, "VmHWM");
    let now = status_kib(pid, "VmRSS");
    eprintln!(
        "memory case {name}: peak {} MiB, after {} MiB, {:.1} s",
        peak / 1024,
        now / 1024,
        started.elapsed().as_secs_f64()
    );
    assert!(
        peak < PEAK_LIMIT_KIB,
        "{name}: the daemon's peak resident memory was {} MiB, over 128 MiB",
        peak / 1024
    );
}

/// Waits (a few seconds at most) for the daemon's resident memory to come back to within
/// [`RETURNED_SLACK_KIB`] of `before`, what it held before a big job.
async fn assert_returned(pid: u32, before: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now = status_kib(pid, "VmRSS");
        if now <= before + RETURNED_SLACK_KIB {
            eprintln!(
                "memory returned: {} MiB before the job, {} MiB after it",
                before / 1024,
                now / 1024
            );
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon held {} MiB after the job ended, {} MiB before it",
            now / 1024,
            before / 1024
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A legal 20000 × 20000 grayscale PNG of about 400 KB, written row by row.
fn grey_png_bomb() -> Vec<u8> {
    const SIDE: u32 = 20_000;
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, SIDE, SIDE);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().expect("PNG header");
        let mut stream = writer.stream_writer().expect("PNG stream");
        let row = vec![200u8; SIDE as usize];
        for _ in 0..SIDE {
            stream.write_all(&row).expect("PNG row");
        }
        stream.finish().expect("PNG end");
    }
    out
}

/// A ZIP in the shape of an `.xlsx` whose sheet unpacks to 512 MiB while its directory says
/// 1 KB.
fn lying_xlsx() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("[Content_Types].xml", deflated)
        .expect("part");
    zip.write_all(b"<?xml version=\"1.0\"?><Types/>")
        .expect("write");
    zip.start_file("xl/worksheets/sheet1.xml", deflated)
        .expect("part");
    zip.write_all(b"<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>")
        .expect("write");
    let block = vec![b'a'; 1 << 20];
    for _ in 0..512 {
        zip.write_all(&block).expect("write");
    }
    zip.write_all(b"</t></is></c></row></sheetData></worksheet>")
        .expect("write");
    let mut bytes = zip.finish().expect("zip").into_inner();
    // The central directory's uncompressed sizes (offset 24 of each entry) now say 1 KB.
    let mut at = 0;
    while let Some(found) = bytes[at..].windows(4).position(|w| w == b"PK\x01\x02") {
        let entry = at + found;
        bytes[entry + 24..entry + 28].copy_from_slice(&1024u32.to_le_bytes());
        at = entry + 4;
    }
    bytes
}

/// Drops `bytes` into the inbox as `name` (written beside it, then renamed in).
fn drop_into(inbox: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(inbox).expect("inbox");
    let staging = inbox.parent().expect("inbox parent").join(name);
    std::fs::write(&staging, bytes).expect("write input");
    std::fs::rename(&staging, inbox.join(name)).expect("drop input");
}

/// Sends a grab of `count` media URLs and returns the daemon's answer.
async fn grab_of(home: &TestHome, count: usize) -> Reply {
    let urls: Vec<String> = (0..count)
        .map(|i| format!("https://media.test/images/{i:07}-a-typical-product-picture.jpg"))
        .collect();
    let (mut conn, _) = connect(&home.paths).await.expect("connect");
    socket::send(&mut conn, &Request::Grab(media_grab(&urls, "big")))
        .await
        .expect("send grab");
    socket::recv(&mut conn)
        .await
        .expect("read reply")
        .expect("a reply")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bombs_and_huge_grabs_stay_under_128_mib() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(
        &ca,
        "preset = \"amazon-listing\"\nseller_preset = \"web\"\ninbox_settle_ms = 200",
    );
    let daemon = DaemonProcess::start(&home).await;
    let pid = daemon.child.id();
    let inbox = home.paths.inbox_dir.clone();
    let png = tokio::task::spawn_blocking(grey_png_bomb)
        .await
        .expect("make PNG");
    assert!(png.len() < 2 << 20, "a small file: {} bytes", png.len());
    server.add("/bomb-1.png", Route::ok(png.clone(), "image/png"));
    server.add("/bomb-2.png", Route::ok(png.clone(), "image/png"));

    // Two at once under `amazon-listing` (longest side 10000 px: 300 MB of output pixels): both
    // refused before decoding, by the shared conversion budget.
    measured(pid, "two 20000 px PNGs, amazon-listing", async {
        let urls = [server.url("/bomb-1.png"), server.url("/bomb-2.png")];
        let (replies, finished) = grab_and_wait(
            &home.paths,
            media_grab(&urls, "bombs"),
            Duration::from_secs(120),
        )
        .await;
        assert_eq!(finished.status, JobState::Failed, "{replies:?}");
        let reasons: Vec<String> = replies
            .iter()
            .filter_map(|r| match r {
                Reply::Progress(p) => p.item.as_ref().and_then(|i| i.error.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(reasons.len(), 2, "{replies:?}");
        assert!(
            reasons
                .iter()
                .all(|r| r.contains("sets aside for converting")),
            "{reasons:?}"
        );
    })
    .await;

    // The same image in a seller's folder under `web` (2000 px): converted, row by row.
    measured(pid, "a 20000 px PNG, web", async {
        let staging = home.root().join("SKU1");
        std::fs::create_dir_all(&staging).expect("folder");
        std::fs::write(staging.join("main.png"), &png).expect("image");
        std::fs::create_dir_all(&inbox).expect("inbox");
        std::fs::rename(&staging, inbox.join("SKU1")).expect("drop folder");
        assert_eq!(
            returned_from_inbox(&inbox, "SKU1", Duration::from_secs(120)).await,
            "done"
        );
    })
    .await;

    measured(pid, "an .xlsx lying about its sizes", async {
        drop_into(&inbox, "lying.xlsx", &lying_xlsx());
        assert_eq!(
            returned_from_inbox(&inbox, "lying.xlsx", Duration::from_secs(120)).await,
            "failed"
        );
        let report = std::fs::read_to_string(inbox.join("failed/lying.xlsx.error.txt"))
            .expect("error report");
        assert!(
            report.contains("larger than its declared") || report.contains("unpacks to more than"),
            "{report}"
        );
    })
    .await;

    measured(pid, "a 1,000,000-row CSV", async {
        let mut csv = String::from("sku,main_image_url\n");
        for i in 0..1_000_000 {
            csv.push_str(&format!("S{i},h\n"));
        }
        drop_into(&inbox, "rows.csv", csv.as_bytes());
        assert_eq!(
            returned_from_inbox(&inbox, "rows.csv", Duration::from_secs(120)).await,
            "failed"
        );
        let report =
            std::fs::read_to_string(inbox.join("failed/rows.csv.error.txt")).expect("error report");
        assert!(report.contains("more than 10020 rows"), "{report}");
    })
    .await;

    for count in [100_000, 200_000, 400_000] {
        measured(pid, &format!("a grab of {count} URLs"), async {
            match grab_of(&home, count).await {
                Reply::Error(e) => {
                    assert_eq!(e.code, ErrorCode::INVALID_FIELDS);
                    assert!(e.message.contains("at most 10000 media"), "{}", e.message);
                }
                other => panic!("a grab of {count} URLs was taken: {other:?}"),
            }
        })
        .await;
    }

    // The most one grab may list, run to its end (every URL is refused by the server at once);
    // what it took is handed back once no job runs.
    let before = status_kib(pid, "VmRSS");
    measured(pid, "a grab of 10000 URLs, run", async {
        let urls: Vec<String> = (0..haul_protocol::message::MAX_GRAB_MEDIA)
            .map(|i| server.url(&format!("/missing/{i}.jpg")))
            .collect();
        let (_, finished) = grab_and_wait(
            &home.paths,
            media_grab(&urls, "many"),
            Duration::from_secs(300),
        )
        .await;
        assert_eq!(finished.status, JobState::Failed);
    })
    .await;
    assert_returned(pid, before).await;
    drop(daemon);
}
