//! Crash safety with the real `haul daemon` process: SIGKILL mid-job, restart, and the job
//! finishes — finished items are not fetched again, partial files are resumed with `Range`, the
//! ZIP is byte-identical to an uninterrupted run's, and no partial `.zip` is ever visible in the
//! output folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use haul::journal::Journal;
use haul_protocol::message::{ItemState, JobId, JobState};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{DaemonProcess, InProcessDaemon, grab_and_wait, media_grab};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{Behavior, MediaServer, Route};

use crate::grab::fake_mp4;

const FAST: &[&str] = &["/fast/a.jpg", "/fast/b.png"];
const SLOW: &[&str] = &["/slow/1.mp4", "/slow/2.mp4", "/slow/3.mp4", "/slow/4.mp4"];

/// Two quick images and four videos that trickle in over about a second each.
fn serve_product(server: &MediaServer) -> Vec<String> {
    server.add(
        FAST[0],
        Route::ok(images::jpeg_with_metadata(200, 150, 21), "image/jpeg"),
    );
    server.add(
        FAST[1],
        Route::ok(images::png_with_metadata(120, 90, 22), "image/png"),
    );
    for (i, path) in SLOW.iter().enumerate() {
        let slow = Behavior::Slow {
            chunk: 16 * 1024,
            every: Duration::from_millis(25),
        };
        server.add(
            path,
            Route::ok(fake_mp4(600_000, 30 + i as u8), "video/mp4").with(slow),
        );
    }
    FAST.iter().chain(SLOW).map(|p| server.url(p)).collect()
}

/// The ZIP an uninterrupted run produces for the same product.
async fn reference_zip(ca: &TestCa, urls: &[String]) -> Vec<u8> {
    let home = TestHome::new(ca, "");
    let daemon = InProcessDaemon::start(&home).await;
    let (_, finished) = grab_and_wait(
        &home.paths,
        media_grab(urls, "product"),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(finished.status, JobState::Complete, "{finished:?}");
    let zip = std::fs::read(finished.output.expect("output")).expect("reference ZIP");
    daemon.stop().await;
    zip
}

/// The package at `output` is byte for byte the `reference` package, but for the date each job
/// was made, which dates every entry.
fn assert_same_package(output: &std::path::Path, reference: &[u8]) {
    let (zip, dated) = haul_tests::zipfile::undated(&std::fs::read(output).expect("ZIP"));
    assert!(dated.is_some_and(|d| d.year() >= 2026), "{dated:?}");
    assert!(
        zip == haul_tests::zipfile::undated(reference).0,
        "the resumed job's ZIP is byte-identical to an uninterrupted run's"
    );
}

/// Submits the grab and returns its job id without waiting for the job.
async fn submit(home: &TestHome, urls: &[String]) -> JobId {
    haul_tests::daemon::submit(&home.paths, media_grab(urls, "product")).await
}

/// Watches the output folder on a thread, recording every size seen for every `.zip` name.
struct OutputWatcher {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<HashMap<PathBuf, Vec<u64>>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OutputWatcher {
    fn start(dir: &Path) -> OutputWatcher {
        let (stop, seen) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(Mutex::new(HashMap::new())),
        );
        let (dir, thread_stop, thread_seen) = (dir.to_path_buf(), stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            while !thread_stop.load(Ordering::Relaxed) {
                if let Ok(entries) = std::fs::read_dir(&dir) {
                    for entry in entries.flatten() {
                        let path = entry.path();
                        if path.extension().is_some_and(|e| e == "zip")
                            && let Ok(meta) = entry.metadata()
                        {
                            let mut seen = thread_seen.lock().unwrap();
                            let sizes: &mut Vec<u64> = seen.entry(path).or_default();
                            if sizes.last() != Some(&meta.len()) {
                                sizes.push(meta.len());
                            }
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        OutputWatcher {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    /// Stops watching; asserts every `.zip` ever seen had only its final size.
    fn assert_never_partial(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("watcher thread");
        }
        let seen = self.seen.lock().unwrap();
        assert!(!seen.is_empty(), "the watcher saw the ZIP appear");
        for (path, sizes) in seen.iter() {
            let final_size = std::fs::metadata(path)
                .map(|m| m.len())
                .expect("the ZIP is still there");
            assert_eq!(
                sizes,
                &vec![final_size],
                "{} was visible before it was complete",
                path.display()
            );
        }
    }
}

fn items_state(journal: &Journal, job: JobId) -> Vec<ItemState> {
    journal
        .items(job)
        .map(|items| items.iter().map(|i| i.state).collect())
        .unwrap_or_default()
}

fn part_bytes(home: &TestHome, job: JobId) -> u64 {
    let dir = home.paths.work_dir().join(job.to_string());
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

async fn wait_for_output(home: &TestHome) -> PathBuf {
    haul_tests::wait_for(Duration::from_secs(60), || {
        home.outputs()
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "zip"))
    })
    .await
    .expect("the ZIP appears after the restart")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_job_then_restart_finishes_with_an_identical_zip() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let urls = serve_product(&server);
    let reference = reference_zip(&ca, &urls).await;

    let home = TestHome::new(&ca, "");
    std::fs::create_dir_all(&home.paths.output_dir).expect("output dir");
    let watcher = OutputWatcher::start(&home.paths.output_dir);
    let daemon = DaemonProcess::start(&home).await;
    let fast_hits_before: Vec<usize> = FAST.iter().map(|p| server.hits(p)).collect();
    let job = submit(&home, &urls).await;

    // Kill once the quick images are saved and the videos are part-way in.
    let journal = Journal::open(&home.paths.journal_file()).expect("journal");
    let ready = haul_tests::wait_for(Duration::from_secs(30), || {
        let states = items_state(&journal, job);
        let fast_saved = states.len() == 6 && states[..2].iter().all(|s| *s == ItemState::Saved);
        (fast_saved && part_bytes(&home, job) > 100_000).then_some(())
    })
    .await;
    assert!(
        ready.is_some(),
        "the job got under way: {:?}",
        items_state(&journal, job)
    );
    daemon.kill();
    assert!(home.outputs().is_empty(), "no package yet");
    let states = items_state(&journal, job);
    assert!(
        states[2..].iter().any(|s| *s != ItemState::Saved),
        "killed before the videos finished: {states:?}"
    );

    let daemon = DaemonProcess::start(&home).await;
    let output = wait_for_output(&home).await;
    assert_same_package(&output, &reference);
    // The ZIP is published before the journal records the end and the working files go: wait
    // for both rather than racing the daemon.
    let work = home.paths.work_dir().join(job.to_string());
    let settled = haul_tests::wait_for(Duration::from_secs(20), || {
        let state = journal.job(job).ok()?.state;
        (state.is_terminal() && !work.exists()).then_some(state)
    })
    .await;
    assert_eq!(
        settled,
        Some(JobState::Complete),
        "the job ends complete and its working files are gone ({} exists: {})",
        work.display(),
        work.exists()
    );
    let fast_hits_after: Vec<usize> = FAST.iter().map(|p| server.hits(p)).collect();
    let fast_downloads: Vec<usize> = fast_hits_after
        .iter()
        .zip(&fast_hits_before)
        .map(|(a, b)| a - b)
        .collect();
    assert_eq!(
        fast_downloads,
        [1, 1],
        "finished items are not downloaded again"
    );
    let resumed = server
        .log()
        .iter()
        .filter(|r| SLOW.contains(&r.path.as_str()))
        .filter(|r| r.range.is_some())
        .count();
    assert!(resumed > 0, "partial videos were resumed with Range");
    assert!(daemon.terminate(), "the daemon stops cleanly on SIGTERM");
    watcher.assert_never_partial();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_kills_at_varied_moments_still_end_with_the_same_zip() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let urls = serve_product(&server);
    let reference = reference_zip(&ca, &urls).await;

    let home = TestHome::new(&ca, "");
    std::fs::create_dir_all(&home.paths.output_dir).expect("output dir");
    let watcher = OutputWatcher::start(&home.paths.output_dir);
    let daemon = DaemonProcess::start(&home).await;
    let job = submit(&home, &urls).await;
    let journal = Journal::open(&home.paths.journal_file()).expect("journal");
    let mut daemon = Some(daemon);
    // Fixed, varied delays: right after start-up, mid-download, later on.
    for delay_ms in [10u64, 180, 60, 400, 250] {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        if let Some(d) = daemon.take() {
            d.kill();
        }
        if journal.job(job).is_ok_and(|j| j.state.is_terminal()) {
            break;
        }
        daemon = Some(DaemonProcess::start(&home).await);
    }
    if daemon.is_none() && !journal.job(job).is_ok_and(|j| j.state.is_terminal()) {
        daemon = Some(DaemonProcess::start(&home).await);
    }
    let output = wait_for_output(&home).await;
    assert_same_package(&output, &reference);
    let zips: Vec<_> = home.outputs();
    assert_eq!(
        zips.len(),
        1,
        "exactly one package, however often the daemon died: {zips:?}"
    );
    drop(daemon);
    watcher.assert_never_partial();
}

/// Every choice of a job — naming, preset, package kind, output folder — is fixed when it is
/// accepted: a config edited while the job runs, and a restart, change nothing about its package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_resumed_after_the_config_changed_is_packaged_as_it_was_asked() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let png = images::png_with_metadata(400, 300, 41);
    let png_len = png.len();
    // About two seconds to send, in 40 pieces.
    server.add(
        "/slow/photo.png",
        Route::ok(png, "image/png").with(Behavior::Slow {
            chunk: png_len.div_ceil(40),
            every: Duration::from_millis(50),
        }),
    );
    let urls = vec![server.url("/slow/photo.png")];

    // Accepted with a preset of the config's own: JPEG, at most 300 px a side.
    let home = TestHome::new(
        &ca,
        "preset = \"shop\"\n[presets.shop]\nformat = \"jpeg\"\nmax_side = 300\n",
    );
    let daemon = DaemonProcess::start(&home).await;
    let job = submit(&home, &urls).await;
    let journal = Journal::open(&home.paths.journal_file()).expect("journal");
    let under_way = haul_tests::wait_for(Duration::from_secs(30), || {
        (items_state(&journal, job) == [ItemState::Downloading]).then_some(())
    })
    .await;
    assert!(under_way.is_some(), "the download started");
    daemon.kill();
    assert_eq!(
        items_state(&journal, job),
        [ItemState::Downloading],
        "killed before the picture was in"
    );

    // Every per-job setting changes while haul is down — the preset's own table too.
    let elsewhere = home.root().join("elsewhere");
    home.write_config(&format!(
        "preset = \"web\"\npackage = \"folder\"\nnaming = \"x_{{index}}.{{ext}}\"\noutput_dir = {:?}\n[presets.shop]\nformat = \"webp\"\nmax_side = 100\n",
        elsewhere.display().to_string()
    ));
    let daemon = DaemonProcess::start(&home).await;
    let output = wait_for_output(&home).await;
    assert!(
        output.extension().is_some_and(|e| e == "zip"),
        "a ZIP, as accepted: {}",
        output.display()
    );
    let entries = haul_tests::zipfile::read_zip(&output);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names[0], "01-main.jpg", "named as accepted: {names:?}");
    let picture = image::load_from_memory(&entries[0].data).expect("a picture");
    assert_eq!(
        (picture.width(), picture.height()),
        (300, 225),
        "converted by the preset's settings when the job was accepted (400 × 300 → 300 px)"
    );
    assert!(
        entries[0].data.starts_with(&[0xff, 0xd8]),
        "JPEG, as accepted"
    );
    assert!(
        !elsewhere.exists() || haul_tests::home::list_visible(&elsewhere).is_empty(),
        "nothing went to the new output folder"
    );
    let settled = haul_tests::wait_for(Duration::from_secs(20), || {
        let state = journal.job(job).ok()?.state;
        state.is_terminal().then_some(state)
    })
    .await;
    assert_eq!(settled, Some(JobState::Complete));
    assert!(daemon.terminate(), "the daemon stops cleanly on SIGTERM");
}

/// A daemon started while the previous one still holds the engine lock (it is stopping) waits
/// a moment for it instead of exiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_started_while_the_last_one_stops_waits_for_the_lock() {
    let ca = haul_tests::ca::TestCa::new();
    let home = haul_tests::home::TestHome::new(&ca, "");
    let held = haul::daemon::EngineLock::acquire(&home.paths).expect("the lock");
    let stop = tokio_util::sync::CancellationToken::new();
    let daemon = tokio::spawn(haul::daemon::run(
        home.config(),
        home.paths.clone(),
        stop.clone(),
        |_| {},
    ));
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(!daemon.is_finished(), "it did not give up at once");
    drop(held);
    haul_tests::daemon::wait_until_up(&home.paths, std::time::Duration::from_secs(5)).await;
    stop.cancel();
    daemon.await.unwrap().expect("ran cleanly");
}
