//! W3, 10,000 products (issue 18): the real release `haul daemon` on loopback, fed through its
//! watched inbox as a user would — `--lists` URL lists (`pNNNNN.txt`, 5–20 small JPEGs each,
//! dropped one by one) and then one spreadsheet of `--rows` rows (5–10 images a row) — from a
//! local HTTPS media server with a test CA. Run by `bench/w3.sh`, which records nothing itself:
//! docs/benchmarks.md ("W3") holds the figures.
//!
//! It prints, for each phase, products/s and images/s (from the first drop to the last job's
//! end), the time per 1,000 jobs for the first and last thousand (from the journal's `finished_at`,
//! so a per-item cost that grows with the history shows as a slower last thousand), and the
//! daemon's resident memory after each thousand and its peak (`VmHWM`); then, with every job in
//! the history, `GET /api/v1/jobs` (median and p95 of 50) and the status page's first paint as
//! the page's own script does it (the HTML, then `/api/v1/jobs` and `/api/v1/folders`, then each
//! listed job's detail; median of 10); then the daemon's restart time (SIGTERM, start, until the
//! socket answers `hello` and the API its first list; median of 3).
//!
//! Options: `--lists N` (default 10000), `--rows N` (default 10000).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "bench code: a failed unwrap is a failed run"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use haul_tests::ca::TestCa;
use haul_tests::daemon::{DaemonProcess, wait_until_up};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{MediaServer, Route};
use haul_tests::rss::{self, mib};
use haul_tests::status_client::StatusClient;

/// Distinct pictures served (a product's images must differ, or haul keeps one of each).
const PICTURES: usize = 20;
/// W2's median on loopback (docs/benchmarks.md): 200 products, 2,000 JPEGs in 3.70 s.
const W2_PRODUCTS_PER_S: u32 = 54;
const W2_IMAGES_PER_S: u32 = 540;
const TERMINAL: &str = "('complete', 'partial', 'failed', 'cancelled')";

struct Options {
    lists: usize,
    rows: usize,
}

fn options() -> Options {
    let mut o = Options {
        lists: 10_000,
        rows: 10_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--lists" => o.lists = args.next().unwrap().parse().unwrap(),
            "--rows" => o.rows = args.next().unwrap().parse().unwrap(),
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    o
}

/// A small product picture per index (~320×240 JPEG with metadata to strip).
fn pictures() -> Vec<Bytes> {
    (0..PICTURES)
        .map(|i| Bytes::from(images::jpeg_with_metadata(320, 240, i as u8 + 1)))
        .collect()
}

/// How many images product `n` has: 5 to `max`, spread evenly.
fn images_of(n: usize, max: usize) -> usize {
    5 + (n * 7919) % (max - 4)
}

fn kib(pid: u32, field: &str) -> u64 {
    rss::status_kib(pid, field).unwrap_or(0)
}

fn journal(home: &TestHome) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        home.paths.journal_file(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
}

fn ended_jobs(home: &TestHome) -> usize {
    let Ok(db) = std::panic::catch_unwind(|| journal(home)) else {
        return 0;
    };
    db.query_row(
        &format!("SELECT COUNT(*) FROM jobs WHERE state IN {TERMINAL}"),
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap_or(0) as usize
}

fn returned(dir: &Path) -> usize {
    ["done", "failed"]
        .iter()
        .filter_map(|d| std::fs::read_dir(dir.join(d)).ok())
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().ends_with(".error.txt"))
                .count()
        })
        .sum()
}

/// Waits until `target` jobs have ended and `inputs` inputs came back; prints RSS per thousand.
async fn run_until(home: &TestHome, pid: u32, target: usize, inputs: usize, start: Instant) {
    let mut next = (ended_jobs(home) / 1000 + 1) * 1000;
    loop {
        let ended = ended_jobs(home);
        while ended >= next && next <= target {
            println!(
                "  {next:>6} jobs ended at {:>7.1} s, RSS {:.1} MiB (peak {:.1})",
                start.elapsed().as_secs_f64(),
                mib(kib(pid, "VmRSS")),
                mib(kib(pid, "VmHWM"))
            );
            next += 1000;
        }
        if ended >= target && returned(&home.paths.inbox_dir) >= inputs {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Throughput and the first/last thousand, from the journal's own timestamps (ms).
fn phase_report(home: &TestHome, name: &str, first_job: i64, images: usize, start_ms: i64) {
    let db = journal(home);
    let mut stmt = db
        .prepare(&format!(
            "SELECT finished_at FROM jobs WHERE id >= ?1 AND state IN {TERMINAL} ORDER BY finished_at"
        ))
        .unwrap();
    let ends: Vec<i64> = stmt
        .query_map([first_job], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let failed: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM jobs WHERE id >= ?1 AND state <> 'complete'",
            [first_job],
            |r| r.get(0),
        )
        .unwrap();
    let n = ends.len();
    let wall = (ends[n - 1] - start_ms) as f64 / 1000.0;
    println!(
        "{name}: {n} products ({failed} not complete), {images} images in {wall:.1} s: \
         {:.1} products/s, {:.0} images/s",
        n as f64 / wall,
        images as f64 / wall
    );
    println!(
        "  (W2 for comparison, docs/benchmarks.md: 200 products, 2,000 larger JPEGs in 3.70 s: \
         {W2_PRODUCTS_PER_S} products/s, {W2_IMAGES_PER_S} images/s)"
    );
    if n >= 2000 {
        let first = (ends[999] - ends[0]) as f64 / 1000.0;
        let last = (ends[n - 1] - ends[n - 1000]) as f64 / 1000.0;
        println!(
            "  per 1,000 jobs: first thousand {first:.1} s, last thousand {last:.1} s (×{:.2})",
            last / first
        );
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn max_job(home: &TestHome) -> i64 {
    journal(home)
        .query_row("SELECT COALESCE(MAX(id), 0) FROM jobs", [], |r| r.get(0))
        .unwrap()
}

fn stats(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    format!(
        "median {:.1} ms, p95 {:.1} ms, max {:.1} ms (n={})",
        p(0.5),
        p(0.95),
        p(1.0),
        ms.len()
    )
}

/// The page's first paint as its script does it: HTML, then the list and the folders, then
/// every listed job's detail (all at once, as `Promise.all` does).
async fn first_paint(client: &StatusClient) -> f64 {
    let start = Instant::now();
    let page = client.get("/").await;
    assert_eq!(page.status, 200, "the status page");
    let (list, folders) = tokio::join!(
        client.get("/api/v1/jobs?limit=50"),
        client.get("/api/v1/folders")
    );
    assert_eq!(list.status, 200);
    assert_eq!(folders.status, 200);
    let ids: Vec<u64> = list.json()["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job"].as_u64().unwrap())
        .collect();
    let details = futures_util::future::join_all(
        ids.iter()
            .map(|id| async move { client.get(&format!("/api/v1/jobs/{id}")).await }),
    )
    .await;
    assert!(details.iter().all(|d| d.status == 200));
    start.elapsed().as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let o = options();
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let pics = pictures();
    server.set_fallback(move |path| {
        // /p<n>/<i>.jpg: picture i.
        let i: usize = path
            .rsplit('/')
            .next()
            .and_then(|f| f.strip_suffix(".jpg"))
            .and_then(|i| i.parse().ok())
            .unwrap_or(0);
        Route::ok(pics[i % PICTURES].clone(), "image/jpeg")
    });
    let home = TestHome::new(&ca, "");
    let mut daemon = DaemonProcess::start(&home).await;
    let pid = daemon.child.id();
    println!(
        "daemon up: RSS {:.1} MiB; media at {}",
        mib(kib(pid, "VmRSS")),
        server.addr
    );
    let inbox = home.paths.inbox_dir.clone();
    let staging = home.root().join("staging");
    std::fs::create_dir_all(&staging).unwrap();

    // Phase 1: URL lists, dropped (written beside, renamed in) as fast as the disk takes them.
    let mut images = 0;
    let first_job = max_job(&home) + 1;
    let start = Instant::now();
    let start_ms = now_ms();
    for n in 0..o.lists {
        let count = images_of(n, 20);
        images += count;
        let text: String = (0..count)
            .map(|i| server.url(&format!("/p{n}/{i}.jpg")) + "\n")
            .collect();
        let name = format!("p{n:05}.txt");
        std::fs::write(staging.join(&name), text).unwrap();
        std::fs::rename(staging.join(&name), inbox.join(&name)).unwrap();
    }
    println!(
        "dropped {} lists in {:.1} s",
        o.lists,
        start.elapsed().as_secs_f64()
    );
    run_until(&home, pid, o.lists, o.lists, start).await;
    phase_report(&home, "URL lists", first_job, images, start_ms);

    // Phase 2: one spreadsheet of SKU rows.
    if o.rows > 0 {
        let mut sheet = String::from(
            "sku,main_image_url,other_image_url1,other_image_url2,other_image_url3,\
             other_image_url4,other_image_url5,other_image_url6,other_image_url7,\
             other_image_url8,swatch_image_url\n",
        );
        let mut images = 0;
        for n in 0..o.rows {
            let count = images_of(n, 10);
            images += count;
            sheet.push_str(&format!("SKU{n:05}"));
            for i in 0..10 {
                sheet.push(',');
                if i < count {
                    sheet.push_str(&server.url(&format!("/s{n}/{i}.jpg")));
                }
            }
            sheet.push('\n');
        }
        let first_job = max_job(&home) + 1;
        let before = returned(&inbox);
        let start = Instant::now();
        let start_ms = now_ms();
        std::fs::write(staging.join("sheet.csv"), sheet).unwrap();
        std::fs::rename(staging.join("sheet.csv"), inbox.join("sheet.csv")).unwrap();
        run_until(&home, pid, o.lists + o.rows, before + 1, start).await;
        phase_report(&home, "spreadsheet", first_job, images, start_ms);
    }
    println!(
        "daemon peak RSS (VmHWM) over both: {:.1} MiB (target < 64)",
        mib(kib(pid, "VmHWM"))
    );

    // The history: the API and the page with every job in it.
    let client = StatusClient::of(&home).await;
    let mut list = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let a = client.get("/api/v1/jobs").await;
        list.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(a.status, 200);
    }
    let total = client.get("/api/v1/jobs").await.json()["total"].clone();
    println!("GET /api/v1/jobs with {total} jobs: {}", stats(list));
    let mut paints = Vec::new();
    for _ in 0..10 {
        paints.push(first_paint(&client).await);
    }
    println!(
        "status page first paint (HTML + list + folders + 50 details): {}",
        stats(paints)
    );

    // Restart with every job finished.
    let mut restarts = Vec::new();
    for _ in 0..3 {
        assert!(daemon.terminate(), "the daemon stops cleanly");
        let _ = std::fs::remove_file(home.paths.status_file());
        let t = Instant::now();
        daemon = DaemonProcess::start(&home).await;
        wait_until_up(&home.paths, Duration::from_secs(30)).await;
        let up = t.elapsed().as_secs_f64() * 1000.0;
        let client = StatusClient::of(&home).await;
        assert_eq!(client.get("/api/v1/jobs").await.status, 200);
        let listed = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "  restart: socket answers after {up:.0} ms, first /api/v1/jobs after {listed:.0} ms"
        );
        restarts.push(listed);
    }
    println!(
        "restart with {total} finished jobs (to the first API answer): {}",
        stats(restarts)
    );
    drop(daemon);
}
