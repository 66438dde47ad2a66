//! The whole handoff in a real headless Chromium, the way a user meets it: `haul install
//! --browser chromium --user-data-dir <profile>` registers the native host, Chromium loads
//! `extension-stub/` unpacked, opens saved real product pages at their real addresses, and a
//! trusted mouse click on "Save with haul" (or the toolbar button) goes content script → service
//! worker → native host (which starts the daemon) → daemon → HTTPS downloads → the ZIP in the
//! output folder, while the button shows the progress and the result.
//!
//! What is asserted is what the product promises: **the button saves what `haul extract` finds
//! on the same page, and nothing else is asked of anyone.** For a saved page of every site in
//! haul's registry (`haul::extract::sites`, each served at the site's example address), one
//! after another in one browser with one daemon:
//!
//! 1. the in-page button appears (the manifest's content script runs there);
//! 2. the ZIP's media — the source URLs its manifest lists as saved plus those it lists as
//!    failed — are exactly the media `haul::extract::extract` finds in the saved page;
//! 3. the media server saw no request (host and path) that is not one of those media: no page
//!    chrome, beacon, icon or other product.
//!
//! A second test saves pages of shops no site extractor claims through the toolbar button
//! (activeTab, no content script in the manifest), with the same two checks: one the generic
//! extractor reads and one a Shopify store's, which the Shopify platform extractor reads — each
//! checked to be read by the extractor it names, so the button is seen to save what that
//! extractor finds. A third turns the
//! button on and off for a shop of the user's choice. Two more click the button where a
//! newcomer's setup is incomplete (no `haul install`; no daemon and none to start) and check
//! that the button says what to run. Another opens haul's status page from the toolbar button's
//! menu: a one-time link from the daemon, through the native host, lands signed in.
//!
//! Addresses: two local HTTPS servers, each on port 443 of a loopback address of its own. The
//! *web* server is what Chromium reaches, as the shop and its CDNs, through
//! `--host-resolver-rules` (every other name resolves to nothing); it answers each page's path
//! with the saved page and every other path with a test JPEG, so the page renders as it would.
//! The *media* server is what the daemon reaches, as the same names (the CDNs', and the page's
//! own for images a saved page references by relative path), through the config's `[resolve]`
//! table, with `allow_private_networks = false` so nothing but the pinned names can reach
//! loopback; it answers every path with a distinct test JPEG and records every request, so
//! check 3 sees haul's requests alone. Both trust the test CA (Chromium through
//! `--ignore-certificate-errors-spki-list`, the daemon through `extra_ca_file`). A request the
//! daemon made to a name outside the pins would not reach the media server, but it would be an
//! item of the ZIP and fail check 2.
//!
//! Skips (with a message) when Chromium is absent, and the saved-page tests also when the pages
//! (`../shared/fixtures`) are absent or port 443 cannot be bound; with `HAUL_REQUIRE_BROWSER=1`
//! a missing Chromium or port fails instead.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use haul_protocol::install::HAUL_BIN_ENV;
use haul_protocol::paths::HAUL_HOME_ENV;
use haul_protocol::{DEV_EXTENSION_ID, HOST_NAME};
use haul_tests::browser::{self, Browser, Launch};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{haul_bin, run_haul};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{MediaServer, Route};
use haul_tests::process::{DaemonsReaper, daemons_of};
use haul_tests::zipfile::{failed_urls, manifest, read_zip, saved_urls};

/// A saved product page of each site in haul's registry, under `../shared/fixtures/pages/`
/// (see its PROVENANCE.md). Each is served at its site's example address, which is this page's.
const SAVED_PAGES: &[(&str, &str)] = &[
    // 2021 amazon.com: a title slug before `/dp/`, 7 gallery images, variants, videos.
    ("amazon", "amazon/com-duct-tape-B00N150YS4.html"),
    // 2023 www.aliexpress.com, `window.runParams`: a 6-image gallery.
    (
        "aliexpress",
        "aliexpress/com-heated-insoles-1005003340501584.html",
    ),
    // 2026 alibaba.com: only the rendered `<main>` (no head, no scripts).
    (
        "alibaba",
        "alibaba/com-sneakers-1600691082191.dom-fragment.html",
    ),
    // 2025 detail.1688.com: 18 gallery images, SKU pictures, Taobao videos.
    ("1688", "alibaba/1688-buttons-775610063728.html"),
    // ~2016 ebay.com View Item: the `imgArr` carousel.
    ("ebay", "ebay/com-wicker-sofa-381228738769.html"),
    // ~2020 etsy.com/es listing.
    ("etsy", "etsy/es-pumpkin-mat-550571276.html"),
    // 2020 item.taobao.com: `auctionImages`, a colour swatch.
    ("taobao", "taobao/item-keyboard-case-562283240178.html"),
    // detail.tmall.com, GBK: `propertyPics`, six colours.
    ("tmall", "tmall/detail-iphone11-605258110430.html"),
    // 2026 item.jd.com: `imageList`'s bare paths on JD's picture host.
    ("jd", "jd/item-aircon-100121438395.html"),
    // 2021 wayfair.com: the image tray's ten pictures by id, JSON-LD names one.
    ("wayfair", "wayfair/armchair-w005759888.html"),
    // 2026 bestbuy.com, scripts emptied: the MediaGallery's six pictures among tiles.
    (
        "bestbuy",
        "bestbuy/us-anker-powerbank.scripts-stripped.html",
    ),
];

/// Pages of shops no site extractor claims, saved one after another through the toolbar button
/// in one browser: the extractor that must read each (as in `haul::extract::Extraction::site`)
/// and the saved page under `../shared/fixtures/pages/` (served at the address
/// `anyshop/pages.json` records for it).
const TOOLBAR_PAGES: &[(&str, &str)] = &[
    // An IKEA product page: the generic extractor.
    ("generic", "anyshop/ikea-4f29e8cc0803.html.gz"),
    // mediamarkt.pt, a Shopify store: the product JSON, 3 pictures.
    ("shopify", "anyshop/mediamarkt-4d2ce26fa4b8.html.gz"),
];

/// Longest wait for the job to end after the click.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

/// How a test starts a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// The in-page "Save with haul" button the manifest's content script shows.
    Button,
    /// The toolbar button (the extension's action), on a page without the in-page button.
    Toolbar,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_button_on_every_site_saves_what_haul_extract_finds() {
    let test = "the_button_on_every_site_saves_what_haul_extract_finds";
    let mut pages = Vec::new();
    for site in haul::extract::sites() {
        let fixture = SAVED_PAGES
            .iter()
            .find(|(name, _)| *name == site.name)
            .map(|(_, fixture)| *fixture)
            .unwrap_or_else(|| {
                panic!(
                    "{test}: no saved page of {} — add one to SAVED_PAGES (a real page of {} \
                     saved from the site)",
                    site.name, site.example
                )
            });
        match SavedPage::read(test, site.name, fixture, site.example) {
            Some(page) => pages.push(page),
            None => return,
        }
    }
    let Some(mut stage) = Stage::new(test, &pages, false).await else {
        return;
    };
    let mut report = Vec::new();
    for page in &pages {
        let problems = stage.save(page, Via::Button);
        if !problems.is_empty() {
            report.push(format!("{}:\n    {}", page.name, problems.join("\n    ")));
        }
    }
    assert!(
        report.is_empty(),
        "{test}: {} of {} sites\n{}\n{}",
        report.len(),
        pages.len(),
        report.join("\n"),
        stage.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_toolbar_button_saves_other_shops_pages_as_haul_extract_does() {
    let test = "the_toolbar_button_saves_other_shops_pages_as_haul_extract_does";
    let mut pages = Vec::new();
    for (extractor, fixture) in TOOLBAR_PAGES {
        let Some(url) = any_shop_address(test, fixture) else {
            return;
        };
        assert!(
            haul::extract::product_page(&url).is_none(),
            "{url} is a shop no site extractor claims"
        );
        let Some(page) = SavedPage::read(test, extractor, fixture, &url) else {
            return;
        };
        let read_by = haul::extract::extract(&page.html, Some(&url)).site;
        assert_eq!(
            read_by, *extractor,
            "{test}: {fixture} is read by {extractor}"
        );
        pages.push(page);
    }
    let Some(mut stage) = Stage::new(test, &pages, true).await else {
        return;
    };
    let mut report = Vec::new();
    for page in &pages {
        let problems = stage.save(page, Via::Toolbar);
        if !problems.is_empty() {
            report.push(format!("{}:\n    {}", page.name, problems.join("\n    ")));
        }
    }
    assert!(
        report.is_empty(),
        "{test}: {} of {} pages\n{}\n{}",
        report.len(),
        pages.len(),
        report.join("\n"),
        stage.logs()
    );
}

/// A saved page, where it lives, and what `haul extract` finds there.
struct SavedPage {
    name: String,
    url: String,
    html: String,
    /// The media URLs `haul::extract::extract` finds (largest versions), in package order.
    media: Vec<String>,
}

impl SavedPage {
    /// `fixture` (under the fixtures folder) as served at `url`, or `None` after saying why the
    /// test skips (the fixtures are absent).
    fn read(test: &str, name: &str, fixture: &str, url: &str) -> Option<SavedPage> {
        let path = fixtures_dir().join(fixture);
        if !path.is_file() {
            eprintln!(
                "skipping {test}: the saved page {} is absent",
                path.display()
            );
            return None;
        }
        let html = haul::extract::read_page_file(&path).expect("the saved page reads");
        let found = haul::extract::extract(&html, Some(url));
        let media: Vec<String> = found.media.iter().map(|m| m.url.clone()).collect();
        assert!(
            !media.is_empty(),
            "{test}: `haul extract` finds media on {fixture}: {found:?}"
        );
        Some(SavedPage {
            name: name.to_string(),
            url: url.to_string(),
            html,
            media,
        })
    }

    /// The page's own host, then its media's hosts, once each: what Chromium reaches.
    fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = Vec::new();
        for url in std::iter::once(&self.url).chain(&self.media) {
            if let Some(host) = host_of(url)
                && !hosts.contains(&host)
            {
                hosts.push(host);
            }
        }
        hosts
    }

    /// [`SavedPage::hosts`], then every other host the page's text names (`//host`, also as
    /// `\/\/host` in its script data): what the daemon reaches, so that a request to any of
    /// them — a beacon, a sprite, another product — lands on the media server and is seen.
    fn mentioned_hosts(&self) -> Vec<String> {
        let mut hosts = self.hosts();
        for marker in ["//", "\\/\\/"] {
            for (at, _) in self.html.match_indices(marker) {
                let rest = &self.html[at + marker.len()..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                    .unwrap_or(rest.len());
                let host = rest[..end].trim_end_matches('.').to_ascii_lowercase();
                if is_host_name(&host) && !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
        }
        hosts
    }
}

/// A DNS name with a top-level domain of letters (`cdn.example.com`, not `1.5` or `a--`).
fn is_host_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'))
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

/// One browser, the web and media servers and a haul home (whose daemon the first save starts),
/// shared by the pages a test saves one after another.
struct Stage {
    chrome: Browser,
    web: MediaServer,
    media: MediaServer,
    home: TestHome,
    _daemons: DaemonsReaper,
}

impl Stage {
    /// Everything set up for `pages`, or `None` after saying why the test skips.
    /// `extension_debugging` lets the test press the toolbar button ([`Via::Toolbar`]).
    async fn new(test: &str, pages: &[SavedPage], extension_debugging: bool) -> Option<Stage> {
        let exe = browser::find_or_skip(test)?;
        let once = |hosts: Vec<String>| {
            let mut out: Vec<String> = Vec::new();
            for host in hosts {
                if !out.contains(&host) {
                    out.push(host);
                }
            }
            out
        };
        let browser_hosts = once(pages.iter().flat_map(SavedPage::hosts).collect());
        let daemon_hosts = once(pages.iter().flat_map(SavedPage::mentioned_hosts).collect());
        let names: Vec<&str> = daemon_hosts.iter().map(String::as_str).collect();
        let ca = TestCa::with_names(&names);
        let web = MediaServer::on_port_443_or_skip(test, &ca).await?;
        let media = MediaServer::on_port_443_or_skip(test, &ca).await?;
        for page in pages {
            let (_, path) = host_and_path(&page.url);
            web.add(
                path,
                Route::ok(page.html.clone(), "text/html; charset=utf-8"),
            );
        }
        serve_any_path_as_a_jpeg(&web);
        serve_any_path_as_a_jpeg(&media);

        let mut pins = String::from("allow_private_networks = false\n[resolve]\n");
        let ip = media.addr.ip();
        for host in &daemon_hosts {
            pins.push_str(&format!("{host:?} = \"{ip}\"\n"));
        }
        let home = TestHome::new(&ca, &pins);
        // The native host starts the daemon; it leads its own session, so it is found by its home.
        let daemons = DaemonsReaper::new(home.root());
        let profile = home.root().join("chromium-profile");
        install_host(&home, &profile).await;
        let browser_names: Vec<&str> = browser_hosts.iter().map(String::as_str).collect();
        let mut launch = browser_launch(&home, profile, &web, &browser_names, &ca);
        launch.extension_debugging = extension_debugging;
        let chrome = tokio::task::block_in_place(|| Browser::launch_with(&exe, &launch))
            .expect("start Chromium");
        Some(Stage {
            chrome,
            web,
            media,
            home,
            _daemons: daemons,
        })
    }

    /// Saves `page` `via` the button or the toolbar and returns what differs from the promise
    /// (module doc, checks 1–3); empty when it was kept.
    fn save(&mut self, page: &SavedPage, via: Via) -> Vec<String> {
        let requests_before = self.media.log().len();
        let outputs_before = self.home.outputs();
        let shown =
            match tokio::task::block_in_place(|| save_in_browser(&mut self.chrome, &page.url, via))
            {
                Ok(shown) => shown,
                Err(what) => return vec![what],
            };
        let mut problems = Vec::new();
        if shown.get("state").map(String::as_str) != Some("done") {
            problems.push(format!("the button shows no saved result: {shown:?}"));
        }
        let output = PathBuf::from(shown.get("output").cloned().unwrap_or_default());
        let new_outputs: Vec<PathBuf> = self
            .home
            .outputs()
            .into_iter()
            .filter(|o| !outputs_before.contains(o))
            .collect();
        if !(output.starts_with(&self.home.paths.output_dir) && output.is_file())
            || new_outputs != vec![output.clone()]
        {
            problems.push(format!(
                "the button names the one new ZIP in the output folder: {shown:?}, new: {new_outputs:?}"
            ));
            return problems;
        }

        // 2. The ZIP's media are `haul extract`'s.
        let entries = read_zip(&output);
        let m = manifest(&entries);
        let in_zip: BTreeSet<&str> = saved_urls(&m).into_iter().chain(failed_urls(&m)).collect();
        let expected: BTreeSet<&str> = page.media.iter().map(String::as_str).collect();
        if in_zip != expected {
            problems.push(format!(
                "the ZIP's media (saved + failed: {}) are not `haul extract`'s ({}):\n      \
                 not found by haul extract: {}\n      missing from the ZIP: {}",
                in_zip.len(),
                expected.len(),
                some(in_zip.difference(&expected)),
                some(expected.difference(&in_zip)),
            ));
        }
        for f in m["files"].as_array().into_iter().flatten() {
            let name = f["name"].as_str().unwrap_or_default();
            if !entries.iter().any(|e| e.name == name && !e.data.is_empty()) {
                problems.push(format!("{name} is listed but not stored"));
            }
        }

        // 3. haul asked the media hosts for these media and nothing else.
        let wanted: HashSet<(String, String)> = page
            .media
            .iter()
            .filter_map(|u| url::Url::parse(u).ok())
            .filter_map(|u| Some((u.host_str()?.to_ascii_lowercase(), u.path().to_string())))
            .collect();
        let strays: BTreeSet<String> = self.media.log()[requests_before..]
            .iter()
            .map(|r| {
                let host = r.host.clone().unwrap_or_default().to_ascii_lowercase();
                let host = host.strip_suffix(":443").unwrap_or(&host).to_string();
                (host, r.path.clone())
            })
            .filter(|request| !wanted.contains(request))
            .map(|(host, path)| format!("https://{host}{path}"))
            .collect();
        if !strays.is_empty() {
            problems.push(format!(
                "haul requested addresses that are not the page's media: {}",
                some(strays.iter())
            ));
        }
        problems
    }

    /// The native host's log, the daemon's output and the end of Chromium's, for a failure.
    fn logs(&self) -> String {
        let log_dir = self.home.paths.log_dir();
        format!(
            "--- native host log ---\n{}\n--- daemon output (tail) ---\n{}\n--- Chromium log (tail) ---\n{}\n(web server: {} requests)",
            tail(&read(&log_dir.join("native-host.log")), 40),
            tail(&read(&log_dir.join("daemon-console.log")), 60),
            tail(&self.chrome.log(), 40),
            self.web.log().len(),
        )
    }
}

/// Opens `url` and starts a save `via` the in-page button (a trusted mouse click) or the
/// toolbar button, then waits for the end state the in-page button shows; returns its
/// `data-haul-*` values (`state`, `status`, `output`, `message`), or what went wrong.
fn save_in_browser(
    chrome: &mut Browser,
    url: &str,
    via: Via,
) -> Result<HashMap<String, String>, String> {
    chrome.open(url, 1280, 900);
    let button = "document.querySelector('#haul-save') !== null";
    match via {
        Via::Button => {
            if chrome.wait_until(button, Duration::from_secs(60)).is_none() {
                return Err("the Save with haul button did not appear".into());
            }
            chrome.click("#haul-save");
        }
        Via::Toolbar => {
            let loaded = "document.readyState === 'complete'";
            if chrome.wait_until(loaded, Duration::from_secs(60)).is_none() {
                return Err("the page did not finish loading".into());
            }
            if chrome.try_eval(button) == Ok(serde_json::Value::Bool(true)) {
                return Err("the in-page button is on a page the manifest does not list".into());
            }
            // The toolbar button opens the popup (granting activeTab for the tab, as a click
            // does); its "Save this page" runs `startInTab` on the active tab, done here
            // through the service worker because headless Chromium draws no popup.
            chrome.click_extension_action(DEV_EXTENSION_ID);
            let save = format!(
                "chrome.tabs.query({{url: {}}}).then(([t]) => startInTab(t, null)).then(() => true)",
                serde_json::to_string(url).unwrap_or_default()
            );
            chrome.eval_in_extension(DEV_EXTENSION_ID, &save)?;
        }
    }
    let ended =
        "['done', 'error'].includes(document.querySelector('#haul-save')?.dataset.haulState)";
    if chrome.wait_until(ended, JOB_TIMEOUT).is_none() {
        return Err("the button did not show an end state in time".into());
    }
    let data = chrome.eval(
        "(() => { const d = document.querySelector('#haul-save').dataset; return { \
         state: d.haulState || '', status: d.haulStatus || '', output: d.haulOutput || '', \
         message: d.haulMessage || '' }; })()",
    );
    Ok(data
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default())
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

/// The address `anyshop/pages.json` records for `fixture` (`anyshop/<file>`), or `None` after
/// saying why the test skips.
fn any_shop_address(test: &str, fixture: &str) -> Option<String> {
    let index = fixtures_dir().join("anyshop").join("pages.json");
    let Ok(text) = std::fs::read_to_string(&index) else {
        eprintln!("skipping {test}: {} is absent", index.display());
        return None;
    };
    let pages: serde_json::Value = serde_json::from_str(&text).expect("pages.json is JSON");
    let file = fixture.trim_start_matches("anyshop/");
    let url = pages[file]["url"].as_str();
    Some(
        url.unwrap_or_else(|| panic!("pages.json has {file}'s address"))
            .to_string(),
    )
}

fn extension_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("extension-stub")
        .canonicalize()
        .expect("extension-stub/ beside tests/")
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
        let shown = tokio::task::block_in_place(|| {
            let mut chrome = Browser::launch_with(&self.browser, launch).expect("start Chromium");
            save_in_browser(&mut chrome, TEST_PAGE_URL, Via::Button).unwrap_or_else(|what| {
                panic!(
                    "{test}: {what}\n--- native host log ---\n{}\n--- Chromium log (tail) ---\n{}",
                    read(&self.home.paths.log_dir().join("native-host.log")),
                    tail(&chrome.log(), 40)
                )
            })
        });
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

/// A page of a marketplace that is not a product page: the manifest shows no button there.
const SEARCH_PAGE_URL: &str = "https://www.amazon.com/s?k=lamp";
const SEARCH_PAGE: &str = "<!doctype html><html><head><title>Amazon.com : lamp</title></head><body><h1>Results</h1></body></html>";

/// "Show the haul button on this shop" and "Stop showing it" in a real Chromium, through the
/// functions the toolbar button's menu calls: the button appears at once, comes back on every
/// load of the shop's pages, and is gone once turned off. What is not driven is the permission
/// request before it (`permissions.request` wants a real user gesture, which DevTools cannot
/// give, and a headless browser could not answer its prompt), so the shop is one whose access
/// the extension already holds: an Amazon search page, where the manifest shows no button.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_button_is_turned_on_and_off_for_a_shop_of_the_user_s_choice() {
    let test = "the_button_is_turned_on_and_off_for_a_shop_of_the_user_s_choice";
    let Some(setup) = Incomplete::new(test).await else {
        return;
    };
    setup.server.add(
        host_and_path(SEARCH_PAGE_URL).1.trim_end_matches("?k=lamp"),
        Route::ok(SEARCH_PAGE, "text/html"),
    );
    let launch = setup.launch();
    tokio::task::block_in_place(|| {
        let mut chrome = Browser::launch_with(&setup.browser, &launch).expect("start Chromium");
        let button = "document.querySelector('#haul-save') !== null";
        let loaded = "document.readyState === 'complete'";
        let in_extension = |chrome: &mut Browser, js: &str| {
            chrome
                .eval_in_extension(DEV_EXTENSION_ID, js)
                .unwrap_or_else(|e| panic!("{test}: {js}: {e}"))
        };
        let registered =
            "chrome.scripting.getRegisteredContentScripts().then(s => s.map(x => x.id))";
        let badge = "chrome.action.getTitle({tabId: globalThis.testTab.id})";

        chrome.open(SEARCH_PAGE_URL, 1280, 900);
        assert!(chrome.wait_until(loaded, Duration::from_secs(30)).is_some());
        assert_eq!(
            chrome.try_eval(button),
            Ok(serde_json::json!(false)),
            "{test}: no button yet"
        );
        // The tab, as the menu's click hands it to the handler.
        let find_tab = format!(
            "chrome.tabs.query({{url: '{SEARCH_PAGE_URL}'}}).then(t => {{ globalThis.testTab = t[0]; return t.length; }})"
        );
        assert_eq!(in_extension(&mut chrome, &find_tab), serde_json::json!(1));

        in_extension(
            &mut chrome,
            "buttonOnShop(globalThis.testTab, 'https://www.amazon.com/*')",
        );
        if chrome.wait_until(button, Duration::from_secs(10)).is_none() {
            let title = in_extension(&mut chrome, badge);
            panic!("{test}: the button did not appear; the toolbar button says {title}");
        }
        assert_eq!(
            in_extension(&mut chrome, registered),
            serde_json::json!(["haul-shop:https://www.amazon.com/*"])
        );
        // Every page of the shop, from now on.
        chrome.open(SEARCH_PAGE_URL, 1280, 900);
        assert!(
            chrome.wait_until(button, Duration::from_secs(30)).is_some(),
            "{test}: the registered content script shows the button on the next load"
        );

        // A new page is a new tab.
        assert_eq!(in_extension(&mut chrome, &find_tab), serde_json::json!(1));
        in_extension(&mut chrome, "hideOnShop(globalThis.testTab)");
        assert!(
            chrome
                .wait_until(
                    "document.querySelector('#haul-save') === null",
                    Duration::from_secs(10)
                )
                .is_some(),
            "{test}: the button leaves the open page; the toolbar button says {}",
            in_extension(&mut chrome, badge)
        );
        assert_eq!(in_extension(&mut chrome, registered), serde_json::json!([]));
        chrome.open(SEARCH_PAGE_URL, 1280, 900);
        assert!(chrome.wait_until(loaded, Duration::from_secs(30)).is_some());
        assert!(
            chrome.wait_until(button, Duration::from_secs(2)).is_none(),
            "{test}: no button on the next load"
        );
    });
}

/// "Open haul's status page" in the toolbar button's menu, through the function the menu calls:
/// the extension asks haul — through the native host, which starts the daemon — for a one-time
/// link, and the new tab lands on the page itself, signed in (not on the page that says how to
/// open it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_toolbar_menu_opens_the_status_page_signed_in() {
    let test = "the_toolbar_menu_opens_the_status_page_signed_in";
    let Some(setup) = Incomplete::new(test).await else {
        return;
    };
    install_host(&setup.home, &setup.profile).await;
    let mut launch = setup.launch();
    // The status page is on 127.0.0.1, which the test's rules would otherwise send nowhere.
    launch.resolver_rules = launch
        .resolver_rules
        .map(|rules| format!("EXCLUDE 127.0.0.1, {rules}"));
    tokio::task::block_in_place(|| {
        let mut chrome = Browser::launch_with(&setup.browser, &launch).expect("start Chromium");
        // A shop's page, as when a person right-clicks the button (it also gives the
        // extension's service worker time to start).
        chrome.open(TEST_PAGE_URL, 1280, 900);
        let loaded = "document.readyState === 'complete'";
        assert!(chrome.wait_until(loaded, Duration::from_secs(30)).is_some());
        chrome
            .eval_in_extension(DEV_EXTENSION_ID, "openStatusPage({}), true")
            .unwrap_or_else(|e| panic!("{test}: {e}"));
        let signed_in = haul_tests::wait_for_blocking(Duration::from_secs(30), || {
            chrome.pages().into_iter().find(|(url, title)| {
                url.starts_with("http://127.0.0.1:") && title == "haul — what is being saved"
            })
        });
        let Some((url, _)) = signed_in else {
            panic!(
                "{test}: no signed-in status page; pages: {:?}\n--- native host log ---\n{}",
                chrome.pages(),
                read(&setup.home.paths.log_dir().join("native-host.log"))
            );
        };
        assert!(url.ends_with('/') && !url.contains("key="), "{test}: {url}");
    });
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
        extension_debugging: false,
    }
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

/// How many items there are and the first few, for a failure message that stays readable.
fn some<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    const SHOWN: usize = 12;
    let items: Vec<String> = items.map(|i| i.to_string()).collect();
    let mut text = format!("{}", items.len());
    if !items.is_empty() {
        text.push_str(&format!(": {}", items[..items.len().min(SHOWN)].join(" ")));
    }
    if items.len() > SHOWN {
        text.push_str(" …");
    }
    text
}

/// The lower-case host of `url`, if it has one.
fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
