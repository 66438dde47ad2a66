//! Output folder care through the real daemon: packages the user deletes show as removed in the
//! status API — noticed at start and, while the daemon runs, through the folder's file events —
//! and `retention_days` removes old packages that haul wrote, saying so in the journal.

use std::path::PathBuf;
use std::time::Duration;

use haul_tests::ca::TestCa;
use haul_tests::daemon::{InProcessDaemon, grab_and_wait, media_grab};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{MediaServer, Route};
use haul_tests::status_client::{EventStream, StatusClient};
use serde_json::Value;

const JOB_TIMEOUT: Duration = Duration::from_secs(60);
const DELETED: &str = "deleted from the output folder";

struct Setup {
    _ca: TestCa,
    server: MediaServer,
    home: TestHome,
}

async fn setup() -> Setup {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    server.add(
        "/a.jpg",
        Route::ok(images::jpeg_with_metadata(120, 90, 7), "image/jpeg"),
    );
    server.add(
        "/b.jpg",
        Route::ok(images::jpeg_with_metadata(90, 120, 8), "image/jpeg"),
    );
    let home = TestHome::new(&ca, "");
    Setup {
        _ca: ca,
        server,
        home,
    }
}

impl Setup {
    /// Saves both pictures as the package `name`; returns the job and its ZIP.
    async fn finished_job(&self, name: &str) -> (i64, PathBuf) {
        let urls = [self.server.url("/a.jpg"), self.server.url("/b.jpg")];
        let (_, finished) =
            grab_and_wait(&self.home.paths, media_grab(&urls, name), JOB_TIMEOUT).await;
        let zip = PathBuf::from(finished.output.expect("a package"));
        assert!(zip.is_file(), "{}", zip.display());
        (finished.job, zip)
    }
}

/// The job as `GET /api/v1/jobs` lists it.
async fn listed(api: &StatusClient, job: i64) -> Value {
    let list = api.get("/api/v1/jobs").await.json();
    list["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|j| j["job"] == job).cloned())
        .unwrap_or_else(|| panic!("job {job} is listed: {list:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_deleted_while_the_daemon_was_down_shows_removed_at_start() {
    let s = setup().await;
    let daemon = InProcessDaemon::start(&s.home).await;
    let (job, zip) = s.finished_job("gone").await;
    let api = StatusClient::of(&s.home).await;
    let before = listed(&api, job).await;
    assert_eq!(
        (&before["removed_at"], &before["removed_note"]),
        (&Value::Null, &Value::Null),
        "{before:#}"
    );
    daemon.stop().await;

    std::fs::remove_file(&zip).unwrap();
    let _daemon = InProcessDaemon::start(&s.home).await;
    let api = StatusClient::of(&s.home).await;

    // No `haul status` ran: the daemon's own start-up check recorded it before serving.
    let entry = listed(&api, job).await;
    assert_eq!(entry["removed_note"], DELETED, "{entry:#}");
    assert!(entry["removed_at"].as_i64().is_some_and(|t| t > 0));
    assert_eq!(entry["output_exists"], false);
    let detail = api.get(&format!("/api/v1/jobs/{job}")).await.json();
    assert_eq!(detail["removed_note"], DELETED, "{detail:#}");
    assert_eq!(detail["removed_at"], entry["removed_at"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_moved_away_and_back_while_the_daemon_runs_shows_at_once() {
    let s = setup().await;
    // The output folder exists when the daemon starts, so it is watched from the start and the
    // periodic check is minutes away: only the folder's events can be this quick.
    std::fs::create_dir_all(&s.home.paths.output_dir).unwrap();
    let _daemon = InProcessDaemon::start(&s.home).await;
    let (job, zip) = s.finished_job("thrown-away").await;
    let (kept_job, kept_zip) = s.finished_job("kept").await;
    let api = StatusClient::of(&s.home).await;
    let mut events = api.events().await;

    // Moved out of the folder, as a file manager moves it to the trash.
    let aside = s.home.root().join("aside.zip");
    std::fs::rename(&zip, &aside).unwrap();

    let detail = api
        .wait_for_job(job as u64, Duration::from_secs(4), |d| {
            d["removed_note"] == DELETED && d["removed_at"].as_i64().is_some()
        })
        .await;
    assert_eq!(detail["output_exists"], false);
    assert_eq!(listed(&api, job).await["removed_note"], DELETED);
    assert!(kept_zip.is_file());
    assert_eq!(listed(&api, kept_job).await["removed_note"], Value::Null);
    // The page hears of it (and reloads its list).
    next_jobs_change(&mut events, "removed", job).await;

    // Put back from the trash: present again, and the page hears of that too.
    std::fs::rename(&aside, &zip).unwrap();
    api.wait_for_job(job as u64, Duration::from_secs(4), |d| {
        d["removed_note"].is_null() && d["removed_at"].is_null() && d["output_exists"] == true
    })
    .await;
    next_jobs_change(&mut events, "returned", job).await;
}

/// Waits (4 s at most) for the `jobs` event saying `change` about `job`, skipping others.
async fn next_jobs_change(events: &mut EventStream, change: &str, job: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let event = events
            .next(left)
            .await
            .unwrap_or_else(|| panic!("a `jobs` event saying {change:?} for job {job}"));
        if event.name == "jobs" && event.data["change"] == change {
            assert_eq!(event.data["job"], job);
            return;
        }
    }
}

/// Sets a job's end time `days` days back, as if it had ended then.
fn backdate(home: &TestHome, job: i64, days: i64) {
    let journal = rusqlite::Connection::open(home.paths.journal_file()).expect("open the journal");
    let changed = journal
        .execute(
            "UPDATE jobs SET finished_at = finished_at - ?2 WHERE id = ?1",
            rusqlite::params![job, days * 86_400_000],
        )
        .expect("backdate the job");
    assert_eq!(changed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_old_packages_haul_wrote_and_says_so() {
    let s = setup().await;
    let daemon = InProcessDaemon::start(&s.home).await;
    let (old_job, old_zip) = s.finished_job("old").await;
    let (recent_job, recent_zip) = s.finished_job("recent").await;
    daemon.stop().await;
    backdate(&s.home, old_job, 2);
    // Something the inbox gave back long ago: retention never looks there.
    let done = s.home.paths.inbox_dir.join("done");
    std::fs::create_dir_all(&done).unwrap();
    std::fs::write(done.join("list.txt"), "https://example.com/a.jpg\n").unwrap();
    s.home.write_config("retention_days = 1");

    let _daemon = InProcessDaemon::start(&s.home).await;
    let api = StatusClient::of(&s.home).await;
    let note = "removed after 1 day (retention_days = 1)";
    let detail = api
        .wait_for_job(old_job as u64, Duration::from_secs(10), |d| {
            d["removed_note"] == note
        })
        .await;
    assert!(detail["removed_at"].as_i64().is_some(), "{detail:#}");
    assert!(!old_zip.exists(), "the old package is gone");
    assert_eq!(listed(&api, old_job).await["removed_note"], note);

    assert!(recent_zip.is_file(), "a recent package stays");
    assert_eq!(listed(&api, recent_job).await["removed_note"], Value::Null);
    assert!(
        done.join("list.txt").is_file(),
        "the inbox is never touched"
    );
    assert_eq!(
        s.home.outputs(),
        [recent_zip],
        "nothing else was removed or left behind"
    );
}
