//! A 2 GiB video and a 2 GiB HLS stream of 2,000 segments through the real release
//! `haul daemon` (issue 18, item 4), each killed with SIGKILL half-way and resumed. Run by
//! `bench/big.sh`, which records nothing itself: docs/benchmarks.md ("Large video and HLS")
//! holds the figures.
//!
//! The media server (the suite's, HTTPS on loopback with the test CA) makes both bodies on
//! demand ([`big_media`]): an MP4 (`ftyp`, then one `mdat` of noise) and MPEG-TS segments,
//! never held whole, with `Range` honoured, and counts the body bytes it sends per path — so
//! what the restarted daemon downloads again is measured, not assumed. Each body's SHA-256 is
//! computed from the same generator before the job starts.
//!
//! For each case: a `grab` of the one URL to the daemon (in a throw-away `HAUL_HOME`, as
//! `bench/w3.sh` runs it); its resident memory sampled every 20 ms from `/proc`; SIGKILL once
//! the server has sent half the bytes; a new daemon on the same home, until the job ends; then
//! the ZIP's video entry is read back, a block at a time, and its SHA-256 compared with the
//! served body's (and the manifest's). It prints per phase the peak RSS (`VmHWM` and the
//! sampled `VmRSS`), the download rate and the bytes served before the kill and after the
//! restart, and for HLS which segments the restarted daemon asked for.
//!
//! Options: `--mib N` (each body's size, default 2048), `--segments N` (default 2000),
//! `--only video|hls`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "bench code: a failed unwrap is a failed run"
)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use haul_protocol::message::JobId;
use haul_tests::big_media::{self, HlsStream};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{DaemonProcess, media_grab, submit};
use haul_tests::home::TestHome;
use haul_tests::media_server::{Generated, MediaServer, Route};
use haul_tests::rss::{self, mib};
use sha2::Digest;

/// The quality bar: the daemon's peak resident memory.
const RSS_TARGET_MIB: f64 = 64.0;

struct Options {
    mib: u64,
    segments: usize,
    video: bool,
    hls: bool,
}

fn options() -> Options {
    let mut o = Options {
        mib: 2048,
        segments: 2000,
        video: true,
        hls: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mib" => o.mib = args.next().unwrap().parse().unwrap(),
            "--segments" => o.segments = args.next().unwrap().parse().unwrap(),
            "--only" => match args.next().as_deref() {
                Some("video") => o.hls = false,
                Some("hls") => o.video = false,
                other => panic!("--only video|hls, not {other:?}"),
            },
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    o
}

/// Free bytes on the file system holding `path` (`df`).
fn free_bytes(path: &Path) -> u64 {
    let out = std::process::Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(path)
        .output()
        .expect("run df");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("df's answer")
}

fn job_row(home: &TestHome, job: JobId) -> Option<(String, Option<String>)> {
    let db = rusqlite::Connection::open_with_flags(
        home.paths.journal_file(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .ok()?;
    db.query_row("SELECT state, output FROM jobs WHERE id = ?1", [job], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .ok()
}

fn ended(state: &str) -> bool {
    matches!(state, "complete" | "partial" | "failed" | "cancelled")
}

/// The daemon's memory through one phase: the sampled `VmRSS` maximum and the last `VmHWM`.
#[derive(Default)]
struct Memory {
    rss_max: u64,
    hwm: u64,
}

impl Memory {
    fn sample(&mut self, pid: u32) {
        if let Some(now) = rss::status_kib(pid, "VmRSS") {
            self.rss_max = self.rss_max.max(now);
        }
        if let Some(hwm) = rss::status_kib(pid, "VmHWM") {
            self.hwm = self.hwm.max(hwm);
        }
    }

    fn peak_mib(&self) -> f64 {
        mib(self.hwm.max(self.rss_max))
    }

    fn line(&self) -> String {
        let verdict = if self.peak_mib() < RSS_TARGET_MIB {
            "under"
        } else {
            "OVER"
        };
        format!(
            "peak RSS {:.1} MiB (VmHWM {:.1}, sampled VmRSS max {:.1}) — {verdict} {RSS_TARGET_MIB} MiB",
            self.peak_mib(),
            mib(self.hwm),
            mib(self.rss_max)
        )
    }
}

/// The SHA-256 of the ZIP entry whose name ends with `suffix`, read a block at a time; and
/// the entry's name.
fn entry_sha256(zip: &Path, suffix: &str) -> (String, String) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let name = archive
        .file_names()
        .filter_map(Result::ok)
        .find(|n| n.ends_with(suffix))
        .unwrap_or_else(|| panic!("no *{suffix} entry in {}", zip.display()))
        .to_string();
    let mut entry = archive.by_name(&name).unwrap();
    let mut hash = sha2::Sha256::new();
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = entry.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    (name, hex::encode(hash.finalize()))
}

/// The SHA-256 the manifest records for the entry `name`.
fn manifest_sha256(zip: &Path, name: &str) -> Option<String> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).ok()?).ok()?;
    let mut text = String::new();
    archive
        .by_name("manifest.json")
        .ok()?
        .read_to_string(&mut text)
        .ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    manifest["files"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == name)
        .and_then(|f| f["sha256"].as_str())
        .map(str::to_string)
}

fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

/// One case of the bench.
struct Case<'a> {
    name: &'static str,
    url: String,
    /// The paths the server counts the case's bytes under.
    prefix: &'static str,
    body: Generated,
    suffix: &'static str,
    hls: Option<&'a HlsStream>,
}

/// Segments asked for in `log` (as `(index, range)`), in order.
fn segments_asked(log: &[haul_tests::media_server::Logged]) -> Vec<usize> {
    log.iter()
        .filter_map(|l| HlsStream::index_of(&l.path))
        .collect()
}

async fn run_case(
    case: Case<'_>,
    server: &MediaServer,
    home: &TestHome,
    daemon: DaemonProcess,
) -> DaemonProcess {
    let size = case.body.len;
    let t = Instant::now();
    let body = case.body.clone();
    let expected = tokio::task::spawn_blocking(move || body.sha256())
        .await
        .unwrap();
    println!(
        "\n== {}: {size} bytes ({:.2} GiB), sha256 {}… (made and hashed in {:.1} s)",
        case.name,
        size as f64 / (1u64 << 30) as f64,
        &expected[..16],
        t.elapsed().as_secs_f64()
    );
    let pid = daemon.child.id();
    let _ = rss::reset_peak(pid);
    let mut before_kill = Memory::default();
    before_kill.sample(pid);
    let idle = before_kill.rss_max;
    let log_start = server.log().len();
    let start = Instant::now();
    let job = submit(
        &home.paths,
        media_grab(std::slice::from_ref(&case.url), case.name),
    )
    .await;

    // Phase 1: until the server has sent half the bytes.
    loop {
        before_kill.sample(pid);
        if server.served_under(case.prefix) >= size / 2 {
            break;
        }
        if let Some((state, _)) = job_row(home, job)
            && ended(&state)
        {
            panic!("the job ended ({state}) before the kill");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    before_kill.sample(pid);
    daemon.kill();
    let phase1 = start.elapsed();
    let served_before = server.served_under(case.prefix);
    let work = home.paths.work_dir().join(job.to_string());
    let on_disk = std::fs::metadata(work.join("0.part")).map_or(0, |m| m.len());
    let checkpoint = std::fs::read_to_string(work.join("0.hls")).ok();
    let log_at_kill = server.log().len();
    println!(
        "before the kill: {served_before} bytes served ({:.1} %) in {:.1} s, {:.0} MB/s; \
         {on_disk} bytes in the partial file; idle RSS {:.1} MiB, {}",
        100.0 * served_before as f64 / size as f64,
        phase1.as_secs_f64(),
        mb_per_s(served_before, phase1),
        mib(idle),
        before_kill.line()
    );
    if let Some(c) = &checkpoint {
        let pieces: Vec<&str> = c.lines().skip(2).collect();
        println!(
            "  HLS checkpoint: {} pieces, {} bytes",
            pieces[0], pieces[1]
        );
    }

    // Phase 2: a new daemon on the same home, until the job ends.
    let restart = Instant::now();
    let daemon = DaemonProcess::start(home).await;
    let up = restart.elapsed();
    let pid = daemon.child.id();
    let mut after_restart = Memory::default();
    let mut downloaded_at = None;
    let output = loop {
        after_restart.sample(pid);
        if downloaded_at.is_none() && server.served_under(case.prefix) >= size {
            downloaded_at = Some(restart.elapsed());
        }
        if let Some((state, output)) = job_row(home, job)
            && ended(&state)
        {
            assert_eq!(state, "complete", "the resumed job completes");
            break PathBuf::from(output.expect("the job's package"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    after_restart.sample(pid);
    let phase2 = restart.elapsed();
    let served_total = server.served_under(case.prefix);
    let served_after = served_total - served_before;
    let downloaded_at = downloaded_at.unwrap_or(phase2);
    println!(
        "after the restart: daemon up in {:.2} s; {served_after} bytes served ({:.1} % of the \
         file) at {:.0} MB/s, the last byte {:.1} s after the restart; the job ended {:.1} s \
         after the restart; {}",
        up.as_secs_f64(),
        100.0 * served_after as f64 / size as f64,
        mb_per_s(served_after, downloaded_at.saturating_sub(up)),
        downloaded_at.as_secs_f64(),
        phase2.as_secs_f64(),
        after_restart.line()
    );
    println!(
        "served in all: {served_total} bytes = {:.4} × the file ({} bytes more than it)",
        served_total as f64 / size as f64,
        served_total as i64 - size as i64
    );
    if case.hls.is_some() {
        let log = server.log();
        let before = segments_asked(&log[log_start..log_at_kill]);
        let after = segments_asked(&log[log_at_kill..]);
        let again: Vec<&usize> = after.iter().filter(|i| before.contains(i)).collect();
        println!(
            "  segments asked for: {} before the kill (0..={}), {} after the restart (from {}); \
             asked for again: {:?}",
            before.len(),
            before.iter().max().copied().unwrap_or(0),
            after.len(),
            after.iter().min().copied().unwrap_or(0),
            again
        );
    }

    let t = Instant::now();
    let (name, got) = tokio::task::spawn_blocking({
        let (output, suffix) = (output.clone(), case.suffix);
        move || entry_sha256(&output, suffix)
    })
    .await
    .unwrap();
    let in_manifest = manifest_sha256(&output, &name);
    let same = got == expected && in_manifest.as_deref() == Some(expected.as_str());
    println!(
        "ZIP entry {name}: sha256 {} the served body's ({}…; the manifest's {}), read back in \
         {:.1} s",
        if same { "EQUALS" } else { "DIFFERS FROM" },
        &got[..16],
        if in_manifest.as_deref() == Some(expected.as_str()) {
            "equal"
        } else {
            "differs"
        },
        t.elapsed().as_secs_f64()
    );
    println!(
        "{}: whole download {:.0} MB/s (both phases' transfer time, restart excluded); peak RSS \
         {:.1} MiB before the kill, {:.1} MiB after the restart",
        case.name,
        mb_per_s(served_total, phase1 + downloaded_at.saturating_sub(up)),
        before_kill.peak_mib(),
        after_restart.peak_mib()
    );
    assert!(same, "the saved video is the served one");
    // Room for the next case.
    std::fs::remove_file(&output).unwrap();
    daemon
}

#[tokio::main]
async fn main() {
    let o = options();
    let size = o.mib << 20;
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    // The partial file and the ZIP of one case at a time (the ZIP is removed after each).
    let needed = 2 * size + (512 << 20);
    let free = free_bytes(home.root());
    println!(
        "disk: {:.1} GiB free where HAUL_HOME is, {:.1} GiB needed",
        free as f64 / (1u64 << 30) as f64,
        needed as f64 / (1u64 << 30) as f64
    );
    assert!(free >= needed, "not enough free disk for the bench");

    let video = big_media::mp4(size, 1);
    server.add(
        "/big/video.mp4",
        Route::generated(video.clone(), "video/mp4"),
    );
    let packets = size / o.segments as u64 / big_media::TS_PACKET;
    let hls = HlsStream::new(o.segments, packets, 2);
    let hls_url = hls.serve(&server, "hls");
    let mut daemon = DaemonProcess::start(&home).await;
    println!(
        "daemon up: RSS {:.1} MiB; media at {}",
        mib(rss::status_kib(daemon.child.id(), "VmRSS").unwrap_or(0)),
        server.addr
    );
    if o.video {
        let case = Case {
            name: "video",
            url: server.url("/big/video.mp4"),
            prefix: "/big/",
            body: video,
            suffix: ".mp4",
            hls: None,
        };
        daemon = run_case(case, &server, &home, daemon).await;
    }
    if o.hls {
        let case = Case {
            name: "hls",
            url: hls_url,
            prefix: "/hls/",
            body: hls.joined.clone(),
            suffix: ".ts",
            hls: Some(&hls),
        };
        println!(
            "HLS: {} segments of {} bytes ({packets} TS packets)",
            hls.segments, hls.segment_len
        );
        daemon = run_case(case, &server, &home, daemon).await;
    }
    assert!(daemon.terminate(), "the daemon stops cleanly");
}
