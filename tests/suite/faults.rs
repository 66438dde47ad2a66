//! Faults of the machine rather than of the server: a full output disk, a full data disk, a
//! read-only output folder, an empty or damaged journal. Each must end visibly — the job failed
//! with its reason, nothing half-written left behind, the daemon still serving — and never lose
//! what was already saved. The disks are small tmpfs mounts (`haul_tests::disk`), so these tests
//! run where the suite may mount (CI runs as root) and say `SKIPPED` elsewhere.

use std::time::Duration;

use haul_protocol::message::{FailureKind, Finished, JobState, Reply, Request};
use haul_protocol::socket;
use haul_tests::ca::TestCa;
use haul_tests::daemon::{InProcessDaemon, connect, grab_and_wait, media_grab, run_haul};
use haul_tests::disk::{SmallDisk, all_entries};
use haul_tests::home::TestHome;
use haul_tests::media_server::{Behavior, MediaServer, Route};

use crate::grab::fake_mp4;

const JOB_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends `grab`, calls `once_running` at its first progress event, and returns its `finished`.
async fn grab_then(
    home: &TestHome,
    grab: haul_protocol::message::Grab,
    once_running: impl FnOnce(),
) -> Finished {
    let (mut conn, _) = connect(&home.paths).await.expect("connect");
    socket::send(&mut conn, &Request::Grab(grab))
        .await
        .expect("send");
    let mut once_running = Some(once_running);
    let wait = async {
        loop {
            match socket::recv(&mut conn).await.expect("reply").expect("open") {
                Reply::Progress(p) if p.item.is_some() => {
                    if let Some(f) = once_running.take() {
                        f();
                    }
                }
                Reply::Finished(f) => return f,
                Reply::Error(e) => panic!("refused: {e:?}"),
                _ => {}
            }
        }
    };
    tokio::time::timeout(JOB_TIMEOUT, wait)
        .await
        .expect("the job ended in time (never `running` for ever)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_output_disk_fails_the_job_and_leaves_no_partial_package() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let Some(_disk) = SmallDisk::mount(&home.paths.output_dir, 1 << 20, false) else {
        return;
    };
    // What an earlier run left: removed when the daemon starts.
    let stale = home
        .paths
        .output_dir
        .join(".old-product.zip.haul-42.partial");
    std::fs::write(&stale, vec![7u8; 100_000]).unwrap();
    let daemon = InProcessDaemon::start(&home).await;
    assert!(
        !stale.exists(),
        "a partial package left by an earlier run is removed at start"
    );

    for i in 0..3u8 {
        server.add(
            &format!("/v/{i}.mp4"),
            Route::ok(fake_mp4(500_000, i), "video/mp4"),
        );
    }
    let urls: Vec<String> = (0..3).map(|i| server.url(&format!("/v/{i}.mp4"))).collect();
    let (_, finished) = grab_and_wait(&home.paths, media_grab(&urls, "big"), JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Failed, "{finished:?}");
    let reason = &finished.failures[0].reason;
    assert!(reason.contains("No space left"), "{reason}");
    assert_eq!(finished.failures[0].kind, FailureKind::DiskFull, "{reason}");
    assert_eq!(
        all_entries(&home.paths.output_dir),
        Vec::<String>::new(),
        "nothing half-written stays in the output folder"
    );

    // The space was given back: the next job fits.
    server.add("/v/small.mp4", Route::ok(fake_mp4(10_000, 9), "video/mp4"));
    let (_, next) = grab_and_wait(
        &home.paths,
        media_grab(&[server.url("/v/small.mp4")], "small"),
        JOB_TIMEOUT,
    )
    .await;
    assert_eq!(next.status, JobState::Complete, "{next:?}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_data_disk_ends_the_job_visibly() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let Some(disk) = SmallDisk::mount(&home.paths.data_dir, 8 << 20, false) else {
        return;
    };
    let daemon = InProcessDaemon::start(&home).await;
    server.add(
        "/v/slow.mp4",
        Route::ok(fake_mp4(300_000, 1), "video/mp4").with(Behavior::Slow {
            chunk: 30_000,
            every: Duration::from_millis(100),
        }),
    );
    let finished = grab_then(
        &home,
        media_grab(&[server.url("/v/slow.mp4")], "slow"),
        || {
            disk.fill();
        },
    )
    .await;
    assert_eq!(finished.status, JobState::Failed, "{finished:?}");
    let reason = &finished.failures[0].reason;
    assert!(
        reason.contains("No space left") || reason.contains("full"),
        "{reason}"
    );
    assert_eq!(finished.failures[0].kind, FailureKind::DiskFull, "{reason}");
    // The API says the same, and the daemon still answers.
    let (mut conn, _) = connect(&home.paths)
        .await
        .expect("the daemon still answers");
    socket::send(&mut conn, &Request::Status(Default::default()))
        .await
        .unwrap();
    let status = socket::recv(&mut conn).await.unwrap().unwrap();
    let Reply::Status(status) = status else {
        panic!("{status:?}")
    };
    let job = status.jobs.iter().find(|j| j.job == finished.job).unwrap();
    assert_eq!(job.state, JobState::Failed);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_output_folder_is_explained_as_such() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let Some(_disk) = SmallDisk::mount(&home.paths.output_dir, 1 << 20, true) else {
        return;
    };
    let daemon = InProcessDaemon::start(&home).await;
    server.add("/v/a.mp4", Route::ok(fake_mp4(10_000, 1), "video/mp4"));
    let (_, finished) = grab_and_wait(
        &home.paths,
        media_grab(&[server.url("/v/a.mp4")], "a"),
        JOB_TIMEOUT,
    )
    .await;
    assert_eq!(finished.status, JobState::Failed, "{finished:?}");
    let failure = &finished.failures[0];
    assert_eq!(failure.kind, FailureKind::ReadOnly, "{}", failure.reason);
    let said = haul::failure::explain(failure.kind, &failure.reason);
    assert!(
        said.contains("read-only") && !said.contains("free space"),
        "{said} ({})",
        failure.reason
    );
    daemon.stop().await;
}

/// `haul grab` with no daemon over an empty and over a damaged journal: the journal is set aside
/// beside itself with a message, and the grab saves its file (exit 0 only when it did).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_or_damaged_journal_is_set_aside_and_the_grab_still_saves() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    server.add("/v/a.mp4", Route::ok(fake_mp4(10_000, 1), "video/mp4"));
    for (case, contents) in [
        ("empty", Vec::new()),
        ("damaged", b"not a database at all ".repeat(400)),
    ] {
        let home = TestHome::new(&ca, "");
        let journal = home.paths.journal_file();
        std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
        std::fs::write(&journal, &contents).unwrap();
        let out = run_haul(&home, &["grab", &server.url("/v/a.mp4")]).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{case}: {stderr}");
        assert!(stderr.contains("set aside"), "{case}: {stderr}");
        assert_eq!(home.outputs().len(), 1, "{case}: the file is saved");
        let aside: Vec<String> = all_entries(journal.parent().unwrap())
            .into_iter()
            .filter(|n| n.contains(".set-aside-") && !n.ends_with("-wal") && !n.ends_with("-shm"))
            .collect();
        assert_eq!(aside.len(), 1, "{case}: {aside:?}");
        let kept = std::fs::read(journal.parent().unwrap().join(&aside[0])).unwrap();
        assert_eq!(kept, contents, "{case}: the old journal is kept as it was");
    }
}
