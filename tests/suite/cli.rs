//! The `haul` command line as a user runs it: the real binary, a temporary `HAUL_HOME`, the local
//! HTTPS media server.

use std::time::Duration;

use haul_tests::ca::TestCa;
use haul_tests::daemon::{DaemonProcess, run_haul, status_jobs};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{MediaServer, Route};
use haul_tests::zipfile::{manifest, read_zip};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn every_command_explains_itself() {
    let home = TestHome::bare();
    for command in [
        &[][..],
        &["daemon"],
        &["grab"],
        &["status"],
        &["install"],
        &["uninstall"],
        &["doctor"],
        &["export"],
    ] {
        let mut args: Vec<&str> = command.to_vec();
        args.push("--help");
        let out = run_haul(&home, &args).await;
        assert!(out.status.success(), "haul {args:?}");
        let help = text(&out.stdout);
        let first = help.lines().next().unwrap_or_default();
        assert!(
            first.split_whitespace().count() >= 4,
            "haul {args:?} --help starts with a sentence: {help}"
        );
        assert!(help.contains("Usage:"), "{help}");
    }
}

async fn serve_three(server: &MediaServer) -> Vec<String> {
    server.add(
        "/p/1.jpg",
        Route::ok(images::jpeg_with_metadata(320, 240, 41), "image/jpeg"),
    );
    server.add(
        "/p/2.jpg",
        Route::ok(images::jpeg_with_metadata(240, 320, 42), "image/jpeg"),
    );
    server.add(
        "/p/3.webp",
        Route::ok(images::webp_with_metadata(64, 64, 43), "image/webp"),
    );
    ["/p/1.jpg", "/p/2.jpg", "/p/3.webp"]
        .iter()
        .map(|p| server.url(p))
        .collect()
}

/// A list's line that is not a URL is reported and left out, and the rest is saved — as the
/// inbox does with the same list (the CLI used to refuse the whole list).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grab_list_reports_a_bad_line_and_saves_the_rest() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let urls = serve_three(&server).await;
    let list = home.root().join("spring.sale.txt");
    std::fs::write(
        &list,
        format!(
            "{}
not a url
{}
{}
",
            urls[0], urls[1], urls[2]
        ),
    )
    .unwrap();
    let out = run_haul(&home, &["grab", "--list", list.to_str().unwrap()]).await;
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("line 2") && all.contains("not a url") && all.contains("left out"),
        "{all}"
    );
    // Named as the inbox names it: the list's name without `.txt`.
    let entries = read_zip(&home.paths.output_dir.join("spring.sale.zip"));
    assert_eq!(
        manifest(&entries)["files"].as_array().map(Vec::len),
        Some(3)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grab_list_without_a_daemon_writes_the_zip_and_says_where() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let urls = serve_three(&server).await;
    let list = home.root().join("urls.txt");
    std::fs::write(
        &list,
        format!("# my product\n{}\n\n  {}\n{}\n", urls[0], urls[1], urls[2]),
    )
    .unwrap();

    let out = run_haul(&home, &["grab", "--list", list.to_str().unwrap()]).await;
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let zip = home.paths.output_dir.join("urls.zip");
    assert!(
        text(&out.stdout).contains(&zip.display().to_string()),
        "{}",
        text(&out.stdout)
    );
    let entries = read_zip(&zip);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "01-main.jpg",
            "02.jpg",
            "03.webp",
            "manifest.json",
            "manifest.csv"
        ]
    );
    for e in &entries[..3] {
        assert!(
            !images::contains(&e.data, images::CANARY),
            "{} was stripped",
            e.name
        );
    }
    assert_eq!(manifest(&entries)["files"][2]["content_type"], "image/webp");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_items_make_a_nonzero_exit_with_a_per_file_summary() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let urls = serve_three(&server).await;
    let missing = server.url("/p/missing.jpg");
    let out = run_haul(&home, &["grab", &urls[0], &missing]).await;
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("saved 1 of 2"), "{stdout}");
    assert!(
        stdout.contains(&missing) && stdout.contains("404"),
        "{stdout}"
    );
    // What happened and what to do, in the words of the failure's kind.
    let explained = haul_protocol::message::FailureKind::NotFound
        .explanation()
        .unwrap_or_default();
    assert!(stdout.contains(explained), "{stdout}");
    // A plain URL grab is named after the first host.
    assert!(home.paths.output_dir.join("127.0.0.1.zip").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grab_json_and_a_folder_of_lists_make_one_package_each() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let urls = serve_three(&server).await;
    let lists = home.root().join("lists");
    std::fs::create_dir(&lists).unwrap();
    std::fs::write(
        lists.join("chair.txt"),
        format!("{}\n{}\n", urls[0], urls[1]),
    )
    .unwrap();
    std::fs::write(lists.join("table.txt"), format!("{}\n", urls[2])).unwrap();
    std::fs::write(lists.join("notes.md"), "not a list").unwrap();
    let out_dir = home.root().join("elsewhere");

    let out = run_haul(
        &home,
        &[
            "grab",
            "--json",
            "--out",
            out_dir.to_str().unwrap(),
            "--list",
            lists.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let jobs = doc["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 2);
    let mut outputs: Vec<&str> = jobs
        .iter()
        .map(|j| j["output"].as_str().expect("output"))
        .collect();
    outputs.sort();
    let expected = [out_dir.join("chair.zip"), out_dir.join("table.zip")];
    let canonical: Vec<String> = expected
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap().display().to_string())
        .collect();
    assert_eq!(
        outputs,
        canonical.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(jobs.iter().all(|j| j["status"] == "complete"));
    assert!(
        !home.paths.output_dir.join("chair.zip").exists(),
        "--out wins over the configured folder"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grab_goes_through_the_running_daemon_and_status_shows_it() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let urls = serve_three(&server).await;

    let out = run_haul(&home, &["status", "--json"]).await;
    assert!(out.status.success());
    let before: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert_eq!(before["daemon"]["running"], false);
    assert_eq!(
        before["output_dir"],
        home.paths.output_dir.display().to_string()
    );
    assert_eq!(
        before["inbox_dir"],
        home.paths.inbox_dir.display().to_string()
    );
    assert_eq!(
        before["data_dir"],
        home.paths.data_dir.display().to_string()
    );
    assert!(before["jobs"].as_array().expect("jobs").is_empty());

    let daemon = DaemonProcess::start(&home).await;
    // The daemon holds the engine lock, so this can only succeed through the daemon.
    let out = run_haul(&home, &["grab", &urls[0], &urls[1]]).await;
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out = run_haul(&home, &["status", "--json"]).await;
    let after: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert_eq!(after["daemon"]["running"], true);
    assert_eq!(after["daemon"]["pid"], daemon.child.id());
    let job = &after["jobs"][0];
    assert_eq!(job["state"], "complete");
    assert_eq!(
        (job["saved"].as_u64(), job["total"].as_u64()),
        (Some(2), Some(2))
    );
    assert!(
        job["output"]
            .as_str()
            .is_some_and(|o| o.ends_with("127.0.0.1.zip"))
    );

    let human = run_haul(&home, &["status"]).await;
    let human = text(&human.stdout);
    assert!(
        human.contains("running") && human.contains("complete"),
        "{human}"
    );
    assert!(daemon.terminate());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_runs_with_no_config_and_only_once() {
    let home = TestHome::bare();
    assert!(!home.paths.config_file.exists());
    let daemon = DaemonProcess::start(&home).await;
    let second = run_haul(&home, &["daemon"]).await;
    assert!(!second.status.success());
    assert!(
        text(&second.stderr).contains("already running"),
        "{}",
        text(&second.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&home.paths.runtime_dir)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700, "the runtime dir is private");
        let socket = home.paths.runtime_dir.join("haul.sock");
        let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "the socket is the user's only: {mode:o}");
    }
    assert!(daemon.terminate(), "SIGTERM stops it cleanly");
}

#[tokio::test]
async fn a_bad_config_is_named_by_file_line_and_key() {
    let home = TestHome::bare();
    std::fs::write(
        &home.paths.config_file,
        "retries = 3\nmax_downloads = \"lots\"\n",
    )
    .unwrap();
    for command in [
        &["daemon"][..],
        &["grab", "https://example.com/a.jpg"],
        &["status"],
    ] {
        let out = tokio::time::timeout(Duration::from_secs(20), run_haul(&home, command))
            .await
            .expect("exits");
        assert!(!out.status.success(), "haul {command:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(&home.paths.config_file.display().to_string()),
            "{err}"
        );
        assert!(
            err.contains("line 2") && err.contains("max_downloads"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_deleted_from_the_output_folder_shows_as_removed() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    let urls = serve_three(&server).await;
    let list = home.root().join("gone.txt");
    std::fs::write(&list, urls.join("\n")).unwrap();
    let out = run_haul(&home, &["grab", "--list", list.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let zip = home.paths.output_dir.join("gone.zip");
    assert!(zip.is_file());

    let jobs = status_jobs(&home).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert!(jobs[0].get("removed_at").is_none(), "still there: {jobs:?}");

    std::fs::remove_file(&zip).unwrap();
    let jobs = status_jobs(&home).await;
    assert_eq!(jobs[0]["removed_note"], "deleted from the output folder");
    assert!(
        jobs[0]["removed_at"].as_i64().is_some_and(|t| t > 0),
        "{jobs:?}"
    );
    let out = run_haul(&home, &["status"]).await;
    assert!(
        text(&out.stdout).contains("gone.zip (deleted from the output folder)"),
        "{}",
        text(&out.stdout)
    );
}
