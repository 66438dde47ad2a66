//! What a person sees at the terminal: `haul grab` in a real pseudo-terminal draws one overall
//! bar with the time left above bars named by each file's place in the product, and no library's
//! log lines; `haul daemon` greets with where files go, the inbox and the status page; a mistyped
//! flag gets the flag meant; a missing file is called missing; an error is said once; a closed
//! pipe ends a command quietly; `--package both` names both packages.

use std::process::{Command, Stdio};
use std::time::Duration;

use haul_tests::ca::TestCa;
use haul_tests::daemon::{haul_bin, run_haul};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{Behavior, MediaServer, Route};
use haul_tests::terminal::Terminal;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `haul` with `args`, for `home`, as a person would type it (no `HAUL_LOG`).
fn haul(home: &TestHome, args: &[&str]) -> Command {
    let mut command = Command::new(haul_bin());
    command
        .args(args)
        .env("HAUL_HOME", home.root())
        .env("TERM", "xterm-256color")
        .env_remove("HAUL_CONFIG")
        .env_remove("HAUL_LOG");
    command
}

/// A shop's product page written for this test: JSON-LD names three pictures on the local
/// server, and a table holds stray text, which makes the HTML parser warn ("foster parenting").
fn product_page(server: &MediaServer) -> String {
    format!(
        r#"<!doctype html><html><head><title>Desk lamp</title>
        <script type="application/ld+json">{{"@context": "https://schema.org", "@type": "Product",
          "name": "Desk lamp", "image": ["{a}", "{b}", "{c}"]}}</script></head>
        <body><h1>Desk lamp</h1>
        <table>stray text<tr><td>Colour</td><td>Brass</td></tr>more stray text</table>
        <img src="{a}" alt="Desk lamp"></body></html>"#,
        a = server.url("/lamp/a.jpg"),
        b = server.url("/lamp/b.jpg"),
        c = server.url("/lamp/c.jpg"),
    )
}

#[test]
fn a_grab_in_a_terminal_shows_the_overall_bar_and_no_log_noise() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ca = TestCa::new();
    let server = runtime.block_on(MediaServer::start(&ca));
    let home = TestHome::new(&ca, "");
    for (i, path) in ["/lamp/a.jpg", "/lamp/b.jpg", "/lamp/c.jpg"]
        .iter()
        .enumerate()
    {
        // Slow enough that the bars are drawn: about a second a picture.
        server.add(
            path,
            Route::ok(
                images::jpeg_with_metadata(480, 360, 60 + i as u8),
                "image/jpeg",
            )
            .with(Behavior::Slow {
                chunk: 2048,
                every: Duration::from_millis(60),
            }),
        );
    }
    let page = home.root().join("desk-lamp.html");
    std::fs::write(&page, product_page(&server)).unwrap();

    let term = Terminal::spawn(&mut haul(
        &home,
        &[
            "grab",
            page.to_str().unwrap(),
            "--url",
            "https://lamps.example/products/desk-lamp",
        ],
    ));
    let (status, transcript) = term.finish(Duration::from_secs(60));
    assert!(status.success(), "{transcript}");
    assert!(
        transcript.contains("3/3 files") || transcript.contains("2/3 files"),
        "the overall bar counts the product's files: {transcript}"
    );
    assert!(
        transcript.contains(" left"),
        "the overall bar says the time left: {transcript}"
    );
    assert!(
        transcript.contains("#1 main") && transcript.contains("#2 gallery"),
        "each file's bar is named by its place in the product: {transcript}"
    );
    for noise in ["foster parenting", "html5ever", "WARN", "ERROR", "INFO"] {
        assert!(
            !transcript.contains(noise),
            "no log line ({noise}) among the bars: {transcript}"
        );
    }
    assert!(transcript.contains("saved 3 file(s) -> "), "{transcript}");

    // The same page with logging asked for (`HAUL_LOG=warn`), into a pipe: the parser's warning
    // shows, so the page does make the noise the terminal was spared, and no colour codes go into
    // the pipe.
    let out = haul(
        &home,
        &[
            "grab",
            page.to_str().unwrap(),
            "--url",
            "https://lamps.example/products/desk-lamp-2",
        ],
    )
    .env("HAUL_LOG", "warn")
    .stdin(Stdio::null())
    .output()
    .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("foster parenting"),
        "HAUL_LOG shows the log: {stderr}"
    );
    assert!(
        !stderr.contains('\x1b'),
        "no colour into a pipe: {stderr:?}"
    );
}

#[test]
fn the_daemon_greets_with_where_files_go_and_which_page_to_open() {
    let home = TestHome::bare();
    let term = Terminal::spawn(&mut haul(&home, &["daemon"]));
    assert!(
        term.wait_for("Ctrl-C", Duration::from_secs(20)),
        "the greeting: {}",
        term.text()
    );
    let greeting = term.text();
    let config = home.config();
    for expected in [
        format!("Saves to      {}", config.output_dir(&home.paths).display()),
        format!("Inbox         {}", config.inbox_dir(&home.paths).display()),
        "Status page   http://127.0.0.1:".to_string(),
        "haul status --open".to_string(),
    ] {
        assert!(greeting.contains(&expected), "{expected:?} in {greeting}");
    }
    assert!(
        !greeting.contains("INFO"),
        "the terminal gets the greeting, not the log: {greeting}"
    );
    // SIGTERM, as Ctrl-C's twin: a clean stop.
    // SAFETY: kill(2) with a child's pid and a signal number has no memory effects.
    unsafe { libc::kill(term.pid() as libc::pid_t, libc::SIGTERM) };
    let (status, _) = term.finish(Duration::from_secs(20));
    assert!(status.success());
    let log = std::fs::read_to_string(home.paths.log_dir().join("daemon.log")).unwrap();
    assert!(
        log.contains("status page running"),
        "the log keeps every step: {log}"
    );
    assert!(!log.contains('\x1b'), "no colour codes in the log file");
}

#[tokio::test]
async fn mistakes_are_named_and_said_once() {
    let home = TestHome::bare();
    let out = run_haul(
        &home,
        &["grab", "--ouput", "x", "https://example.com/a.jpg"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("did you mean '--out'?") && stderr.contains("Usage: haul grab"),
        "{stderr}"
    );

    let missing = home.root().join("no-such-page.html");
    let out = run_haul(&home, &["grab", missing.to_str().unwrap()]).await;
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cannot find the file") && !stderr.contains("not an http(s) URL"),
        "a missing file is called missing: {stderr}"
    );

    let out = run_haul(&home, &["extract", missing.to_str().unwrap()]).await;
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("No such file").count(),
        1,
        "the cause is said once: {stderr}"
    );
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let home = TestHome::bare();
    // A reader that is gone before anything is written, as `| head -0` leaves it.
    let mut child = haul(&home, &["status", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?} {stderr}", out.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_both_names_the_zip_and_the_folder() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    server.add(
        "/p/1.jpg",
        Route::ok(images::jpeg_with_metadata(64, 48, 70), "image/jpeg"),
    );
    let list = home.root().join("lamp.txt");
    std::fs::write(&list, format!("{}\n", server.url("/p/1.jpg"))).unwrap();
    let out = run_haul(
        &home,
        &[
            "grab",
            "--package",
            "both",
            "--list",
            list.to_str().unwrap(),
        ],
    )
    .await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let zip = home.paths.output_dir.join("lamp.zip");
    let folder = home.paths.output_dir.join("lamp");
    assert!(zip.is_file() && folder.is_dir());
    assert!(
        stdout.contains(&zip.display().to_string())
            && stdout.contains(&format!("and {}", folder.display())),
        "both packages are named: {stdout}"
    );
}
