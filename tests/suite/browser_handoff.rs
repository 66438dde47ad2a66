//! The whole handoff in a real headless Chromium, the way a user meets it: `haul install
//! --browser chromium --user-data-dir <profile>` registers the native host, Chromium loads
//! `extension-stub/` unpacked, opens a saved real product page at its real address, and a
//! trusted mouse click on "Save with haul" goes content script → service worker → native host
//! (which starts the daemon) → daemon → HTTPS downloads → the ZIP in the output folder, while the
//! button shows the progress and the result.
//!
//! Addresses: one local HTTPS server listens on port 443 of a loopback address of its own. Chromium
//! reaches it as the marketplace and its CDN through `--host-resolver-rules` (every other name
//! resolves to nothing) and trusts its key through `--ignore-certificate-errors-spki-list`; the
//! daemon, which does not see the browser's rules, reaches the same names (the CDN's, and the
//! page's own for images a saved page references by relative path) through the config's
//! `[resolve]` table and trusts the test CA through `extra_ca_file`, with
//! `allow_private_networks = false` so nothing but the pinned names can reach loopback. The server
//! answers the page's own path with the saved page and every other path with a distinct test
//! JPEG, so whatever image the page or haul asks for exists.
//!
//! What is asserted is what the product must do: the page's main and gallery images — as haul's
//! extractor reads them from the same page, in their largest CDN version — are in the ZIP. Two
//! more tests click the button where a newcomer's setup is incomplete (no `haul install`; no
//! daemon and none to start) and check that the button says what to run.
//!
//! Skips (with a message) when Chromium is absent, and the saved-page tests also when the pages
//! (`../shared/fixtures`) are absent or port 443 cannot be bound; with `HAUL_REQUIRE_BROWSER=1`
//! a missing Chromium or port fails instead.

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use haul::media::Role;
use haul_protocol::HOST_NAME;
use haul_protocol::install::HAUL_BIN_ENV;
use haul_protocol::paths::HAUL_HOME_ENV;
use haul_tests::browser::{self, Browser, Launch};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{haul_bin, run_haul};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{MediaServer, Route};
use haul_tests::process::{DaemonsReaper, daemons_of};
use haul_tests::zipfile::{manifest, read_zip, saved_urls};

/// A saved product page and where it lives on the web.
struct Site {
    /// Under `../shared/fixtures/pages/`.
    fixture: &'static str,
    /// The address Chromium opens (the page's canonical URL).
    page_url: &'static str,
    /// The image hosts the page uses, pinned to the local server for both browser and daemon.
    media_hosts: &'static [&'static str],
}

/// A 2021 amazon.com product page with a title slug before `/dp/` and a 7-image gallery.
const AMAZON: Site = Site {
    fixture: "amazon/com-duct-tape-B00N150YS4.html",
    page_url: "https://www.amazon.com/Gorilla-6012110-Black-2-Pack-Piece/dp/B00N150YS4",
    media_hosts: &["m.media-amazon.com", "images-na.ssl-images-amazon.com"],
};

/// A 2023 www.aliexpress.com item page (`window.runParams` format) with a 6-image gallery.
const ALIEXPRESS: Site = Site {
    fixture: "aliexpress/com-heated-insoles-1005003340501584.html",
    page_url: "https://www.aliexpress.com/item/1005003340501584.html",
    media_hosts: &["ae01.alicdn.com"],
};

/// Longest wait for the job to end after the click.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amazon_page_saved_with_the_button() {
    save_with_the_button("amazon_page_saved_with_the_button", &AMAZON).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliexpress_page_saved_with_the_button() {
    save_with_the_button("aliexpress_page_saved_with_the_button", &ALIEXPRESS).await;
}

/// `<workspace>/../shared/fixtures/pages`.
fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
        .join("fixtures")
        .join("pages")
}

fn extension_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("extension-stub")
        .canonicalize()
        .expect("extension-stub/ beside tests/")
}

async fn save_with_the_button(test: &str, site: &Site) {
    let fixture = fixtures_dir().join(site.fixture);
    if !fixture.is_file() {
        eprintln!(
            "skipping {test}: the saved page {} is absent",
            fixture.display()
        );
        return;
    }
    let Some(browser) = browser::find_or_skip(test) else {
        return;
    };
    let html = haul::extract::read_page_file(&fixture).expect("the saved page reads");
    let expected = gallery_of(&html, site.page_url);

    let ca = TestCa::new();
    let Some(server) = serve_on_port_443(test, &ca).await else {
        return;
    };
    let (page_host, page_path) = host_and_path(site.page_url);
    server.add(page_path, Route::ok(html, "text/html; charset=utf-8"));
    serve_any_path_as_a_jpeg(&server);
    let ip = server.addr.ip();

    // The page's own host too: images a saved page references by relative path live there.
    let mut pins = String::from("allow_private_networks = false\n[resolve]\n");
    for host in std::iter::once(&page_host).chain(site.media_hosts) {
        pins.push_str(&format!("{host:?} = \"{ip}\"\n"));
    }
    let home = TestHome::new(&ca, &pins);
    // The native host starts the daemon; it leads its own session, so it is found by its home.
    let _daemons = DaemonsReaper::new(home.root());

    // 1. Register the host where a Chromium with this profile looks.
    let profile = home.root().join("chromium-profile");
    install_host(&home, &profile).await;

    // 2. The browser: the marketplace and its CDN are the local server, nothing else resolves.
    let hosts: Vec<&str> = std::iter::once(page_host)
        .chain(site.media_hosts.iter().copied())
        .collect();
    let launch = browser_launch(&home, profile, &server, &hosts, &ca);

    // 3. Open the page, click the button, wait for the result it shows.
    let shown = click_in_browser(test, &browser, &launch, site.page_url, &home);
    assert_eq!(
        shown.get("state").map(String::as_str),
        Some("done"),
        "{test}: the button shows the job done: {shown:?}\n--- native host log ---\n{}\n--- daemon output ---\n{}",
        read(&home.paths.log_dir().join("native-host.log")),
        read(&home.paths.log_dir().join("daemon-console.log")),
    );

    // 4. The ZIP the button names is in the output folder and holds the gallery.
    let output = PathBuf::from(shown.get("output").cloned().unwrap_or_default());
    assert!(
        output.starts_with(&home.paths.output_dir) && output.is_file(),
        "{test}: the button names the saved ZIP in the output folder: {shown:?}"
    );
    assert_eq!(home.outputs(), vec![output.clone()]);
    let entries = read_zip(&output);
    let m = manifest(&entries);
    let saved = saved_urls(&m);
    let missing: Vec<&String> = expected
        .iter()
        .filter(|url| !saved.contains(&url.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{test}: the ZIP lacks {} of the page's {} main/gallery images (largest versions):\n  {}\nit holds:\n  {}",
        missing.len(),
        expected.len(),
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
        saved.join("\n  ")
    );
    // Every listed file is really in the archive, as the bytes the server sent (minus metadata).
    for f in m["files"].as_array().expect("files") {
        let name = f["name"].as_str().unwrap_or_default();
        assert!(
            entries.iter().any(|e| e.name == name && !e.data.is_empty()),
            "{name} listed but not stored"
        );
    }
}

/// A tiny product page at an address the content script runs on.
const TEST_PAGE_URL: &str = "https://www.amazon.com/dp/B000TEST01";
const TEST_PAGE: &str = "<!doctype html><html><head><title>Test product B000TEST01</title></head>\
    <body><h1 id=\"productTitle\">Test product</h1>\
    <img src=\"https://m.media-amazon.com/images/I/test01.jpg\" width=\"500\" height=\"500\"></body></html>";

/// A browser, the tiny page served on loopback, and a home, for the tests of what the button
/// says when the setup is incomplete.
struct Incomplete {
    browser: PathBuf,
    ca: TestCa,
    server: MediaServer,
    home: TestHome,
    profile: PathBuf,
    _daemons: DaemonsReaper,
}

impl Incomplete {
    async fn new(test: &str) -> Option<Incomplete> {
        let browser = browser::find_or_skip(test)?;
        let ca = TestCa::new();
        let server = MediaServer::start(&ca).await;
        server.add(
            host_and_path(TEST_PAGE_URL).1,
            Route::ok(TEST_PAGE, "text/html"),
        );
        let home = TestHome::new(&ca, "");
        let daemons = DaemonsReaper::new(home.root());
        let profile = home.root().join("chromium-profile");
        std::fs::create_dir_all(&profile).expect("profile dir");
        Some(Incomplete {
            browser,
            ca,
            server,
            home,
            profile,
            _daemons: daemons,
        })
    }

    fn launch(&self) -> Launch {
        browser_launch(
            &self.home,
            self.profile.clone(),
            &self.server,
            &["www.amazon.com"],
            &self.ca,
        )
    }

    /// Clicks the button and returns the message of the error it must end in.
    fn click_to_error(&self, test: &str, launch: &Launch) -> String {
        let shown = click_in_browser(test, &self.browser, launch, TEST_PAGE_URL, &self.home);
        assert_eq!(
            shown.get("state").map(String::as_str),
            Some("error"),
            "{test}: {shown:?}"
        );
        shown.get("message").cloned().unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_haul_install_the_button_says_to_run_it() {
    let test = "without_haul_install_the_button_says_to_run_it";
    let Some(setup) = Incomplete::new(test).await else {
        return;
    };
    // No `haul install`: the profile has no host manifest.
    let message = setup.click_to_error(test, &setup.launch());
    assert!(
        message.contains("not found") && message.contains("`haul install`"),
        "the button says what to run: {message}"
    );
    assert!(
        daemons_of(setup.home.root()).is_empty(),
        "nothing was started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_daemon_cannot_start_the_button_says_what_to_run() {
    let test = "when_the_daemon_cannot_start_the_button_says_what_to_run";
    let Some(setup) = Incomplete::new(test).await else {
        return;
    };
    install_host(&setup.home, &setup.profile).await;
    let mut launch = setup.launch();
    // The host finds no daemon and has no `haul` to start.
    for (name, value) in &mut launch.env {
        if name == HAUL_BIN_ENV {
            *value = setup.home.root().join("no-such-haul").into_os_string();
        }
    }
    let message = setup.click_to_error(test, &launch);
    assert!(
        message.contains("`haul daemon`") && message.contains("`haul doctor`"),
        "the button says what to run: {message}"
    );
    let log = read(&setup.home.paths.log_dir().join("native-host.log"));
    assert!(log.contains("daemon unavailable"), "{log}");
}

/// `haul install --browser chromium --user-data-dir PROFILE`, checked to have written the host
/// manifest where a Chromium with that profile looks.
async fn install_host(home: &TestHome, profile: &Path) {
    std::fs::create_dir_all(profile).expect("profile dir");
    let profile_arg = profile.to_str().expect("UTF-8 temp path");
    let installed = run_haul(
        home,
        &[
            "install",
            "--browser",
            "chromium",
            "--user-data-dir",
            profile_arg,
        ],
    )
    .await;
    assert!(
        installed.status.success(),
        "haul install failed: {}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let host_manifest = profile
        .join("NativeMessagingHosts")
        .join(format!("{HOST_NAME}.json"));
    assert!(
        host_manifest.is_file(),
        "{} written",
        host_manifest.display()
    );
}

/// Chromium with `extension-stub/` and `profile`, where `hosts` are `server` and nothing else
/// resolves, trusting `server`'s key; `HAUL_HOME` (and `HAUL_BIN`) reach the native host.
fn browser_launch(
    home: &TestHome,
    profile: PathBuf,
    server: &MediaServer,
    hosts: &[&str],
    ca: &TestCa,
) -> Launch {
    let mut rules: Vec<String> = hosts
        .iter()
        .map(|host| format!("MAP {host} {}", server.addr))
        .collect();
    rules.push("MAP * ~NOTFOUND".into());
    Launch {
        profile: Some(profile),
        extension: Some(extension_dir()),
        resolver_rules: Some(rules.join(", ")),
        trusted_spki: vec![ca.server_spki_sha256_base64()],
        env: vec![
            (HAUL_HOME_ENV.into(), OsString::from(home.root())),
            (HAUL_BIN_ENV.into(), OsString::from(haul_bin())),
        ],
    }
}

/// Starts Chromium, opens `url`, clicks the button like a person and waits for the end state
/// it shows; returns the button's `data-haul-*` values (`state`, `status`, `output`,
/// `message`). When the button does not appear or never ends, panics with the native host's log
/// and the end of Chromium's.
fn click_in_browser(
    test: &str,
    browser: &Path,
    launch: &Launch,
    url: &str,
    home: &TestHome,
) -> HashMap<String, String> {
    tokio::task::block_in_place(|| {
        let mut chrome = Browser::launch_with(browser, launch).expect("start Chromium");
        let fail = |chrome: &Browser, what: &str| -> ! {
            panic!(
                "{test}: {what}\n--- native host log ---\n{}\n--- Chromium log (tail) ---\n{}",
                read(&home.paths.log_dir().join("native-host.log")),
                tail(&chrome.log(), 40)
            )
        };
        chrome.open(url, 1280, 900);
        let button = "document.querySelector('#haul-save') !== null";
        if chrome.wait_until(button, Duration::from_secs(60)).is_none() {
            fail(&chrome, "the Save with haul button did not appear");
        }
        chrome.click("#haul-save");
        let ended =
            "['done', 'error'].includes(document.querySelector('#haul-save').dataset.haulState)";
        if chrome.wait_until(ended, JOB_TIMEOUT).is_none() {
            fail(&chrome, "the button did not show an end state in time");
        }
        let data = chrome.eval(
            "(() => { const d = document.querySelector('#haul-save').dataset; return { \
             state: d.haulState || '', status: d.haulStatus || '', output: d.haulOutput || '', \
             message: d.haulMessage || '' }; })()",
        );
        data.as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// The page's main and gallery image URLs as haul's extractor reads them (largest versions).
fn gallery_of(html: &str, page_url: &str) -> Vec<String> {
    let found = haul::extract::extract(html, Some(page_url));
    let urls: Vec<String> = found
        .media
        .iter()
        .filter(|m| matches!(m.role, Role::Main | Role::Gallery))
        .map(|m| m.url.clone())
        .collect();
    assert!(
        urls.len() >= 2,
        "the saved page has a gallery to check: {found:?}"
    );
    urls
}

/// The media server on port 443 of a loopback address of its own (127.x.y.z, so parallel
/// tests never collide), or `None` after saying why the test skips.
async fn serve_on_port_443(test: &str, ca: &TestCa) -> Option<MediaServer> {
    let seed = std::process::id()
        ^ (std::time::UNIX_EPOCH
            .elapsed()
            .unwrap_or_default()
            .subsec_nanos());
    let mut last_error = None;
    for attempt in 0..16u32 {
        let n = seed.wrapping_add(attempt.wrapping_mul(7919));
        // 127.0.0.1 stays free for everything else; 127.x.y.z with x, y, z in 2..=251.
        let octets = [
            127,
            2 + (n % 250) as u8,
            2 + ((n >> 8) % 250) as u8,
            2 + ((n >> 16) % 250) as u8,
        ];
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(octets)), 443);
        match MediaServer::start_at(ca, addr).await {
            Ok(server) => return Some(server),
            Err(e) => last_error = Some(e),
        }
    }
    let why = format!(
        "cannot listen on port 443 of a loopback address ({}); the CDN's URLs carry no port, so \
         the server must be on 443 (run as root or grant CAP_NET_BIND_SERVICE)",
        last_error.map(|e| e.to_string()).unwrap_or_default()
    );
    if std::env::var("HAUL_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("{test}: {why}");
    }
    eprintln!("skipping {test}: {why}");
    None
}

/// Every path without a route gets a JPEG of its own (distinct pixels per path, with EXIF/GPS
/// for haul to strip), the same bytes each time it is asked for.
fn serve_any_path_as_a_jpeg(server: &MediaServer) {
    let count = Arc::new(Mutex::new(0u8));
    server.set_fallback(move |_path| {
        let seed = {
            let mut n = count.lock().unwrap();
            *n = n.wrapping_add(1);
            *n
        };
        Route::ok(images::jpeg_with_metadata(320, 240, seed), "image/jpeg")
    });
}

/// `("www.amazon.com", "/x/dp/B0…")` of `https://www.amazon.com/x/dp/B0…`.
fn host_and_path(url: &str) -> (&str, &str) {
    let rest = url.strip_prefix("https://").expect("an https page URL");
    let slash = rest.find('/').expect("a path after the host");
    rest.split_at(slash)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
