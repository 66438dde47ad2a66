//! The extension as a user gets it, in a real headless Chromium: packed by
//! `extension-stub/pack.sh`, unpacked from its `.zip` and loaded with the native host registered
//! by `haul install`. A trusted click on the in-page **Save with haul** saves a product page;
//! the popup lists the finished grab and its **Open** asks haul — through the native host, by job
//! id — to open the package (the config's `open_command` records what it was asked to open); the
//! in-page result offers the same. The popup and the options page pass axe-core with no serious
//! or critical violation, and every resource the extension's pages and service worker loaded is
//! one of its own files: it makes no network request.
//!
//! axe-core comes from npm (`haul_tests::axe`: `.ci/run` installs it into `target/axe/`); without
//! it the accessibility check says so and is skipped, unless `HAUL_REQUIRE_BROWSER=1`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use haul_protocol::DEV_EXTENSION_ID;
use haul_protocol::install::HAUL_BIN_ENV;
use haul_protocol::paths::HAUL_HOME_ENV;
use haul_tests::browser::{self, Browser, Launch};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{haul_bin, run_haul};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{MediaServer, Route};
use haul_tests::process::DaemonsReaper;

const WAIT: Duration = Duration::from_secs(60);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the checkout")
}

/// Runs `extension-stub/pack.sh OUT` and unzips `haul-extension.zip` into `OUT/unpacked`.
fn packed_extension(out: &Path) -> PathBuf {
    let status = std::process::Command::new("bash")
        .arg(repo().join("extension-stub").join("pack.sh"))
        .arg(out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run extension-stub/pack.sh");
    assert!(status.success(), "pack.sh failed");
    assert!(out.join("haul-extension.xpi").is_file(), "the Firefox .xpi");
    // Unpacked as a user unpacks it (the suite's zip reader has no deflate).
    let unpacked = out.join("unpacked");
    let status = std::process::Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(out.join("haul-extension.zip"))
        .arg(&unpacked)
        .status()
        .expect("unzip with python3");
    assert!(status.success(), "unzip haul-extension.zip");
    unpacked
}

/// Resources the open page loaded that are not the extension's own files.
const FOREIGN_RESOURCES: &str = "performance.getEntriesByType('resource').map(e => e.name) \
     .filter(n => !n.startsWith(location.origin + '/'))";

const PAGE_URL: &str = "https://www.amazon.com/dp/B000APP001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_packed_extension_saves_and_its_popup_opens_the_result() {
    let test = "the_packed_extension_saves_and_its_popup_opens_the_result";
    let Some(exe) = browser::find_or_skip(test) else {
        return;
    };
    let ca = TestCa::new();
    // The CDN's addresses carry no port: the server is on 443 of a loopback address.
    let Some(server) = MediaServer::on_port_443_or_skip(test, &ca).await else {
        return;
    };
    let ip = server.addr.ip();
    let picture = "https://m.media-amazon.com/images/I/app01.jpg";
    let page = format!(
        "<!doctype html><html><head><title>Test lamp B000APP001</title></head><body>\
         <h1 id=\"productTitle\">Test lamp</h1>\
         <div id=\"imgTagWrapperId\"><img id=\"landingImage\" src=\"{picture}\" \
         data-old-hires=\"{picture}\" width=\"500\" height=\"500\"></div></body></html>"
    );
    server.add("/dp/B000APP001", Route::ok(page, "text/html"));
    server.add(
        "/images/I/app01.jpg",
        Route::ok(images::jpeg_with_metadata(640, 480, 7), "image/jpeg"),
    );
    let opened = tempfile::NamedTempFile::new().expect("a file for open_command");
    let home = TestHome::new(
        &ca,
        &format!(
            "open_command = [\"/bin/sh\", \"-c\", \"printf '%s\\\\n' \\\"$0\\\" >> '{}'\"]\n\
             [resolve]\n\"m.media-amazon.com\" = \"{ip}\"\n",
            opened.path().display()
        ),
    );
    let _daemons = DaemonsReaper::new(home.root());
    let profile = home.root().join("chromium-profile");
    std::fs::create_dir_all(&profile).expect("profile");
    let installed = run_haul(
        &home,
        &[
            "install",
            "--browser",
            "chromium",
            "--user-data-dir",
            profile.to_str().expect("UTF-8"),
        ],
    )
    .await;
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let packed = tempfile::tempdir().expect("a folder for the packed extension");
    let unpacked = packed_extension(packed.path());
    let launch = Launch {
        profile: Some(profile),
        extension: Some(unpacked),
        resolver_rules: Some(format!(
            "MAP www.amazon.com {ip}, MAP m.media-amazon.com {ip}, MAP * ~NOTFOUND"
        )),
        trusted_spki: vec![ca.server_spki_sha256_base64()],
        env: vec![
            (HAUL_HOME_ENV.into(), OsString::from(home.root())),
            (HAUL_BIN_ENV.into(), OsString::from(haul_bin())),
        ],
        extension_debugging: false,
    };
    let origin = format!("chrome-extension://{DEV_EXTENSION_ID}");
    tokio::task::block_in_place(|| {
        let mut chrome = Browser::launch_with(&exe, &launch).expect("start Chromium");
        // 1. The in-page button, pressed as a person presses it.
        chrome.open(PAGE_URL, 1280, 900);
        assert!(
            chrome
                .wait_until("document.querySelector('#haul-save') !== null", WAIT)
                .is_some(),
            "{test}: the packed extension shows its button"
        );
        chrome.click("#haul-save");
        let ended =
            "['done', 'error'].includes(document.querySelector('#haul-save')?.dataset.haulState)";
        assert!(
            chrome.wait_until(ended, WAIT).is_some(),
            "{test}: the grab ends"
        );
        let result = chrome.eval(
            "(() => { const b = document.querySelector('#haul-save'); const s = document.querySelector('#haul-status'); \
             return { state: b.dataset.haulState, status: b.dataset.haulStatus || '', output: b.dataset.haulOutput || '', \
             job: b.dataset.haulJob || '', text: s.textContent, wbr: s.querySelectorAll('wbr').length, \
             actions: [...s.querySelectorAll('button')].map(x => x.textContent) }; })()",
        );
        assert_eq!(result["status"], "complete", "{test}: {result}");
        let output = result["output"].as_str().unwrap_or_default().to_string();
        assert!(output.ends_with(".zip"), "{result}");
        assert!(
            result["wbr"].as_u64().unwrap_or(0) >= 2,
            "the path wraps at its separators: {result}"
        );
        assert_eq!(
            result["actions"],
            serde_json::json!(["Open", "Show in folder", "haul's status page"]),
            "{result}"
        );
        let job: i64 = result["job"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .expect("job id");

        // 2. The popup: the finished grab, and its Open.
        chrome.open(&format!("{origin}/popup.html"), 360, 600);
        let row = format!("document.querySelector('li[data-job=\"{job}\"]')");
        assert!(
            chrome
                .wait_until(&format!("{row}?.dataset.state === 'complete'"), WAIT)
                .is_some(),
            "{test}: the popup lists job {job} as complete: {}",
            chrome.eval("document.body.innerText")
        );
        let shown = chrome.eval(&format!("{row}.innerText"));
        assert!(
            shown.as_str().is_some_and(|t| t.contains("Test lamp")),
            "{shown}"
        );
        chrome.click(&format!("li[data-job=\"{job}\"] .actions button"));
        let asked = haul_tests::wait_for_blocking(Duration::from_secs(20), || {
            std::fs::read_to_string(opened.path())
                .ok()
                .filter(|t| t.lines().any(|l| l == output))
        });
        assert!(
            asked.is_some(),
            "{test}: Open asked the desktop to open {output}; popup says {}",
            chrome.eval("document.querySelector('#message').textContent")
        );
        assert_eq!(
            chrome.eval(FOREIGN_RESOURCES),
            serde_json::json!([]),
            "the popup loads nothing from the network"
        );
        if let Some(problems) = haul_tests::axe::serious_violations(&mut chrome, "the popup") {
            assert!(problems.is_empty(), "{test}: the popup: {problems:#?}");
        }

        // 3. The options page: the output folder as haul reports it.
        chrome.open(&format!("{origin}/options.html"), 900, 700);
        let out_dir = home.paths.output_dir.display().to_string();
        let reported = chrome.wait_until(
            &format!(
                "document.querySelector('#output-dir').textContent === {}",
                serde_json::to_string(&out_dir).expect("JSON")
            ),
            WAIT,
        );
        assert!(
            reported.is_some(),
            "{test}: the options page shows {out_dir}: {}",
            chrome.eval("document.querySelector('#output-dir').textContent")
        );
        assert_eq!(chrome.eval(FOREIGN_RESOURCES), serde_json::json!([]));
        if let Some(problems) = haul_tests::axe::serious_violations(&mut chrome, "the options page")
        {
            assert!(
                problems.is_empty(),
                "{test}: the options page: {problems:#?}"
            );
        }

        // 4. Nor does the service worker load anything.
        let worker = chrome
            .eval_in_extension(
                DEV_EXTENSION_ID,
                "performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(chrome.runtime.getURL('')))",
            )
            .unwrap_or_else(|e| panic!("{test}: {e}"));
        assert_eq!(
            worker,
            serde_json::json!([]),
            "the service worker's requests"
        );
    });
    // Every request the server saw is the page, its picture (the browser's and haul's) or the
    // browser's own favicon look-up.
    for logged in server.log() {
        assert!(
            ["/dp/B000APP001", "/images/I/app01.jpg", "/favicon.ico"]
                .contains(&logged.path.as_str()),
            "unexpected request {}",
            logged.path
        );
    }
}
