//! Grabbing a real saved product page end to end: the Amazon dog-life-vest page from
//! `../shared/fixtures/pages/` is extracted by the daemon, and every media URL it names on
//! `m.media-amazon.com` is served by the local HTTPS media server.
//!
//! The page's URLs carry no port (`https://m.media-amazon.com/images/I/…`), so the test home pins
//! the CDN's name to the server's loopback address *and port* with the `[connect_to]` config
//! table (curl's `--connect-to`; the certificate is still checked for `m.media-amazon.com`) —
//! the same thing a user does to point a CDN at a local mirror. `allow_private_networks` stays
//! off, so the pin alone lets the loopback address through.

use std::path::{Path, PathBuf};
use std::time::Duration;

use haul::extract::{self, Extraction};
use haul::media::{MediaKind, Role};
use haul::naming;
use haul_protocol::message::{Grab, GrabOptions, JobState, MediaRef, Page};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{InProcessDaemon, grab_and_wait, run_haul};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{MediaServer, Route};
use haul_tests::zipfile::{ZipEntry, manifest, read_zip};

use crate::grab::fake_mp4;
use crate::hls::ts_segment;

const JOB_TIMEOUT: Duration = Duration::from_secs(120);
const PAGE: &str = "amazon/com-dog-life-vest-B0BRZXRBZL.html.gz";
const PAGE_URL: &str = "https://www.amazon.com/dp/B0BRZXRBZL";
pub(crate) const CDN: &str = "m.media-amazon.com";

/// The saved page, or `None` (after saying so) when `../shared/fixtures` is absent.
pub(crate) fn fixture_page() -> Option<PathBuf> {
    fixture(PAGE)
}

/// The saved page `rel` under `../shared/fixtures/pages/`, or `None` (after saying so) when it
/// is absent.
pub(crate) fn fixture(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
        .join("fixtures")
        .join("pages")
        .join(rel);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipping: fixture page {} is absent", path.display());
        None
    }
}

/// A media server answering every media URL of `extraction` (small JPEGs, a WebP for the
/// gallery's second image, an MP4 for the video), and a home pinning the CDN to it.
pub(crate) struct Mirror {
    _ca: TestCa,
    pub server: MediaServer,
    pub home: TestHome,
}

pub(crate) async fn mirror(extraction: &Extraction) -> Mirror {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(
        &ca,
        &format!(
            "allow_private_networks = false\n[connect_to]\n\"{CDN}\" = \"127.0.0.1:{}\"\n",
            server.addr.port()
        ),
    );
    for (i, m) in extraction.media.iter().enumerate() {
        let url = url::Url::parse(&m.url).expect("extracted URLs are absolute");
        assert_eq!(
            url.host_str(),
            Some(CDN),
            "every medium of this page is on {CDN}"
        );
        let route = match m.kind {
            // The page's product video is an HLS stream: a playlist and its TS segments.
            MediaKind::Video if url.path().ends_with(".m3u8") => {
                let dir = url.path().rsplit_once('/').map_or("", |(d, _)| d);
                for n in 0..2 {
                    server.add(
                        &format!("{dir}/seg-{n}.ts"),
                        Route::ok(ts_segment(20, n), "video/mp2t"),
                    );
                }
                Route::ok(
                    "#EXTM3U\n#EXTINF:5,\nseg-0.ts\n#EXTINF:5,\nseg-1.ts\n#EXT-X-ENDLIST\n",
                    "application/x-mpegURL",
                )
            }
            MediaKind::Video => Route::ok(fake_mp4(50_000, i as u8), "video/mp4"),
            MediaKind::Image if i == 2 => {
                Route::ok(images::webp_with_metadata(40, 30, i as u8), "image/webp")
            }
            MediaKind::Image => {
                Route::ok(images::jpeg_with_metadata(40, 30, i as u8), "image/jpeg")
            }
        };
        server.add(url.path(), route);
    }
    Mirror {
        _ca: ca,
        server,
        home,
    }
}

/// The one package in `home`'s output folder, which must be the vest's (named by the product the
/// page names, holding every medium of `extraction` plus the manifests and `product.json`): its entries.
pub(crate) fn the_vest_package(home: &TestHome, extraction: &Extraction) -> Vec<ZipEntry> {
    let outputs = home.outputs();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    let zip_name = outputs[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        zip_name,
        format!(
            "amazon-B0BRZXRBZL-{}.zip",
            extraction.slug.as_deref().expect("the page has a title")
        )
    );
    let entries = read_zip(&outputs[0]);
    assert_eq!(
        entries.len(),
        extraction.media.len() + 3,
        "every medium plus manifest.json, manifest.csv and product.json"
    );
    entries
}

pub(crate) fn extraction_of(path: &Path) -> Extraction {
    let html = extract::read_page_file(path).expect("fixture page reads");
    let e = extract::extract(&html, Some(PAGE_URL));
    assert!(e.media.len() > 100, "the page has {} media", e.media.len());
    e
}

/// The package a successful `haul grab` (`out`) left in `home`'s output folder, its only one.
fn the_one_package(home: &TestHome, out: &std::process::Output) -> PathBuf {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let outputs = home.outputs();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    outputs[0].clone()
}

fn names(entries: &[ZipEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haul_grab_of_a_saved_page_packages_roles_and_variants() {
    let Some(page) = fixture_page() else { return };
    let e = extraction_of(&page);
    let m = mirror(&e).await;

    let page_arg = page.display().to_string();
    let out = run_haul(&m.home, &["grab", &page_arg, "--url", PAGE_URL, "--json"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "haul grab failed: {stderr}");

    let entries = the_vest_package(&m.home, &e);
    let got = names(&entries);
    // The listing's own pictures at the top, in order; every other role in its own folder,
    // counting on its own; variants labelled.
    let galleries = e.count(Role::Main) + e.count(Role::Gallery);
    assert_eq!(got[0], "01-main.jpg");
    assert_eq!(got[1], "02.jpg");
    assert_eq!(got[2], "03.webp");
    assert_eq!(got[galleries - 1], format!("{galleries:02}.jpg"));
    assert!(got[..galleries].iter().all(|n| !n.contains('/')), "{got:?}");
    let first_variant = e.media.iter().find(|m| m.role == Role::Variant).unwrap();
    let label = naming::slug(first_variant.variant.as_deref().unwrap(), 40);
    assert_eq!(got[galleries], format!("variant/{label}-01.jpg"));
    // The HLS video came out as one MPEG-TS file of both segments.
    let video = entries
        .iter()
        .find(|z| z.name == "video/01.ts")
        .expect("video/01.ts");
    assert_eq!(video.data, [ts_segment(20, 0), ts_segment(20, 1)].concat());
    // A+ pictures and customers' photos, each role in its folder, numbered in page order.
    for (role, folder) in [(Role::Description, "description"), (Role::Review, "review")] {
        let count = e.count(role);
        assert!(count > 0, "the page has {folder} pictures");
        let in_folder: Vec<&str> = got
            .iter()
            .copied()
            .filter(|n| n.starts_with(&format!("{folder}/")))
            .collect();
        let expected: Vec<String> = (1..=count)
            .map(|n| format!("{folder}/{n:02}.jpg"))
            .collect();
        assert_eq!(in_folder, expected, "{got:?}");
    }
    let folders: std::collections::BTreeSet<&str> = got
        .iter()
        .filter_map(|n| n.split_once('/').map(|(folder, _)| folder))
        .collect();
    assert_eq!(
        folders.into_iter().collect::<Vec<_>>(),
        ["description", "review", "variant", "video"]
    );

    // The manifest: the product, and role, variant and variant id of every file.
    let manifest = manifest(&entries);
    assert_eq!(manifest["site"], "amazon");
    assert_eq!(manifest["product_id"], "B0BRZXRBZL");
    assert_eq!(manifest["parent_id"], "B08SC8HR3V", "the variation family");
    assert_eq!(manifest["page_url"], PAGE_URL);
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), e.media.len());
    for ((file, medium), entry) in files.iter().zip(&e.media).zip(&got) {
        assert_eq!(file["name"], *entry);
        assert_eq!(file["url"], medium.url.as_str());
        assert_eq!(file["role"], medium.role.as_str());
        assert_eq!(file["variant"].as_str(), medium.variant.as_deref());
        assert_eq!(file["variant_id"].as_str(), medium.variant_id.as_deref());
        assert_eq!(file["code"].as_str(), medium.code.as_deref());
    }
    assert_eq!(files[0]["code"], "MAIN");
    assert_eq!(
        files[galleries]["variant_id"].as_str(),
        first_variant.variant_id.as_deref()
    );
    assert!(manifest["failed"].as_array().unwrap().is_empty());

    // Each asset was fetched once, from the pinned CDN name.
    for medium in &e.media {
        let path = url::Url::parse(&medium.url).unwrap().path().to_string();
        assert_eq!(m.server.hits(&path), 1, "{path}");
    }
    assert!(
        m.server
            .log()
            .iter()
            .all(|l| l.host.as_deref().is_some_and(|h| h.starts_with(CDN))),
        "every request names the CDN host"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_grab_saves_the_page_product_and_names_for_seller_central() {
    let Some(page) = fixture_page() else { return };
    let e = extraction_of(&page);
    let m = mirror(&e).await;
    // What the DOM showed: the main image as a thumbnail (the same asset), a picture the page's
    // data does not list (a sprite, another product: not this product's), and one the user
    // right-clicked (chosen: saved whatever the page says).
    let main = url::Url::parse(&e.media[0].url).unwrap();
    let main_id = main
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".jpg");
    let thumbnail = format!("https://{CDN}/images/I/{main_id}._AC_SX300_SY300_.jpg");
    let dom_only = format!("https://{CDN}/images/I/91DomOnlyXyz._AC_SL1500_.jpg");
    let chosen = format!("https://{CDN}/images/I/91ChosenXyz._AC_SL1500_.jpg");
    for (path, seed) in [
        ("/images/I/91DomOnlyXyz.jpg", 250),
        ("/images/I/91ChosenXyz.jpg", 251),
    ] {
        m.server.add(
            path,
            Route::ok(images::jpeg_with_metadata(40, 30, seed), "image/jpeg"),
        );
    }
    let daemon = InProcessDaemon::start(&m.home).await;
    let html = extract::read_page_file(&page).unwrap();
    let grab = Grab {
        id: Some(serde_json::json!("page")),
        page: Some(Page {
            url: PAGE_URL.to_string(),
            title: Some("tab title".into()),
            html: Some(html),
        }),
        media: [
            (thumbnail.clone(), false),
            (dom_only, false),
            (chosen, true),
        ]
        .into_iter()
        .map(|(url, chosen)| MediaRef {
            url,
            kind: None,
            chosen,
        })
        .collect(),
        options: GrabOptions {
            naming: Some("amazon-upload".into()),
            ..Default::default()
        },
    };
    let (_, finished) = grab_and_wait(&m.home.paths, grab, JOB_TIMEOUT).await;
    assert_eq!(finished.status, JobState::Complete, "{finished:?}");
    assert_eq!(
        finished.total as usize,
        e.media.len() + 1,
        "the page's media and the chosen one"
    );
    assert_eq!(
        m.server
            .hits(&format!("/images/I/{main_id}._AC_SX300_SY300_.jpg")),
        0
    );
    assert_eq!(
        m.server.hits("/images/I/91DomOnlyXyz.jpg"),
        0,
        "a medium the page does not count as the product's is never asked for"
    );
    assert_eq!(m.server.hits("/images/I/91ChosenXyz.jpg"), 1);

    let entries = read_zip(Path::new(finished.output.as_deref().unwrap()));
    let got = names(&entries);
    // The page's own codes name its pictures — MAIN, PT01–PT03, PT05 and the product-safety
    // PS01 — and the chosen picture, which has none, takes the free PT04.
    let codes: Vec<&str> = e
        .media
        .iter()
        .filter(|m| matches!(m.role, Role::Main | Role::Gallery))
        .filter_map(|m| m.code.as_deref())
        .collect();
    assert_eq!(codes, ["MAIN", "PT01", "PT02", "PT03", "PT05", "PS01"]);
    assert_eq!(got[0], "B0BRZXRBZL.MAIN.jpg");
    for code in codes.iter().chain(&["PT04"]) {
        assert!(
            got.contains(&format!("B0BRZXRBZL.{code}.jpg").as_str()),
            "{code} in {got:?}"
        );
    }
    let manifest = manifest(&entries);
    let name_of = |url: &str| -> String {
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["url"] == url)
            .and_then(|f| f["name"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        name_of(&format!("https://{CDN}/images/I/91ChosenXyz.jpg")),
        "B0BRZXRBZL.PT04.jpg"
    );
    // Each variant with its own ASIN gets its own set, each picture under its page code.
    let mut children = 0;
    for m in e.media.iter().filter(|m| m.role == Role::Variant) {
        let (Some(child), Some(code)) = (m.variant_id.as_deref(), m.code.as_deref()) else {
            continue;
        };
        assert_eq!(name_of(&m.url), format!("{child}.{code}.jpg"), "{}", m.url);
        children += 1;
    }
    assert!(
        children > 50,
        "{children} variant pictures with their codes"
    );
    for name in &got[..got.len() - 3] {
        let parts: Vec<&str> = name.split('.').collect();
        assert_eq!(parts.len(), 3, "{name}");
        assert!(
            parts[0].chars().all(|c| c.is_ascii_alphanumeric()),
            "{name}"
        );
        assert!(
            naming::SellerSlot::parse(parts[1]).is_some(),
            "{name}: a Seller Central code"
        );
        assert!(["jpg", "png", "tif", "gif"].contains(&parts[2]), "{name}");
    }
    // The WebP gallery image was converted to JPEG.
    let converted: Vec<&serde_json::Value> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["converted_from"] == "image/webp")
        .collect();
    assert_eq!(converted.len(), 1, "{manifest:#}");
    assert_eq!(converted[0]["content_type"], "image/jpeg");
    let stored = entries
        .iter()
        .find(|z| z.name == converted[0]["name"].as_str().unwrap())
        .unwrap();
    assert!(stored.data.starts_with(&[0xFF, 0xD8, 0xFF]));
    // Videos, description and review images are listed, not packaged.
    let left_out = manifest["left_out"].as_array().unwrap();
    let expected = e.count(Role::Video) + e.count(Role::Description) + e.count(Role::Review);
    assert_eq!(left_out.len(), expected, "{left_out:?}");
    // What the job reports is what the ZIP holds: files in it, and files left out by the naming.
    assert_eq!(
        finished.saved as usize,
        manifest["files"].as_array().unwrap().len(),
        "{finished:?}"
    );
    assert_eq!(finished.left_out as usize, left_out.len(), "{finished:?}");
    let notes = manifest["notes"].to_string();
    assert!(notes.contains("videos"), "{notes}");
    daemon.stop().await;
}

/// A small page written for this test (no fixture needed): JSON-LD names the product and two
/// images on the local media server, plus a `<video>`.
fn author_page(server: &MediaServer) -> String {
    format!(
        r#"<!doctype html><html><head><title>Lamp</title>
        <link rel="canonical" href="https://shop.example/products/brass-lamp">
        <script type="application/ld+json">{{"@context": "https://schema.org", "@type": "Product",
          "name": "Brass Lamp, Large", "sku": "LAMP42", "brand": {{"name": "Lumen & Co"}},
          "offers": {{"@type": "Offer", "price": "1299.00", "priceCurrency": "EUR",
            "availability": "https://schema.org/InStock"}},
          "image": ["{a}", "{b}"]}}</script></head>
        <body><video src="{v}"></video></body></html>"#,
        a = server.url("/shop/lamp-a.jpg"),
        b = server.url("/shop/lamp-b.png"),
        v = server.url("/shop/lamp.mp4"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_page_goes_through_the_running_daemon_with_a_naming_template() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    server.add(
        "/shop/lamp-a.jpg",
        Route::ok(images::jpeg_with_metadata(64, 48, 1), "image/jpeg"),
    );
    server.add(
        "/shop/lamp-b.png",
        Route::ok(images::png_with_metadata(64, 48, 2), "image/png"),
    );
    server.add(
        "/shop/lamp.mp4",
        Route::ok(fake_mp4(10_000, 3), "video/mp4"),
    );
    let page = home.root().join("Brass Lamp.html");
    std::fs::write(&page, author_page(&server)).unwrap();

    let daemon = haul_tests::daemon::DaemonProcess::start(&home).await;
    let page_arg = page.display().to_string();
    let out = run_haul(
        &home,
        &["grab", &page_arg, "--naming", "{product_id}_{role}_{index}"],
    )
    .await;
    let package = the_one_package(&home, &out);
    assert_eq!(
        package.file_name().unwrap().to_string_lossy(),
        "generic-LAMP42-brass-lamp-large.zip"
    );
    let entries = read_zip(&package);
    assert_eq!(
        names(&entries),
        [
            "LAMP42_main_01.jpg",
            "LAMP42_gallery_01.png",
            "LAMP42_video_01.mp4",
            "manifest.json",
            "manifest.csv",
            "product.json"
        ]
    );
    let m = manifest(&entries);
    assert_eq!(m["page_url"], "https://shop.example/products/brass-lamp");
    let product: serde_json::Value = serde_json::from_slice(
        &entries
            .iter()
            .find(|e| e.name == "product.json")
            .expect("product.json")
            .data,
    )
    .expect("product.json is JSON");
    assert_eq!(product["name"], "Brass Lamp, Large");
    assert_eq!(product["brand"], "Lumen & Co");
    assert_eq!(product["price"], "1299.00");
    assert_eq!(product["currency"], "EUR");
    assert_eq!(product["availability"], "InStock");
    assert_eq!(product["gtin"], serde_json::Value::Null, "not on the page");

    // A bad template and --url without a page are refused before anything runs.
    let bad = run_haul(&home, &["grab", &page_arg, "--naming", "{sku}"]).await;
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("{sku}"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let lone_url = run_haul(
        &home,
        &["grab", "--url", PAGE_URL, &server.url("/shop/lamp-a.jpg")],
    )
    .await;
    assert!(!lone_url.status.success());
    assert!(String::from_utf8_lossy(&lone_url.stderr).contains("one saved page"));
    assert!(daemon.terminate());
}

/// `haul grab` of a product page's address: the page is fetched and extracted, in this process
/// and through the daemon alike; a shop that answers a robot 503 gets the browser-button message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haul_grab_of_a_product_address_fetches_the_page() {
    let Some(page) = fixture_page() else { return };
    let e = extraction_of(&page);
    let m = mirror(&e).await;
    let port = m.server.addr.port();
    m.home.write_config(&format!(
        "allow_private_networks = false\n[connect_to]\n\"{CDN}\" = \"127.0.0.1:{port}\"\n\"www.amazon.com\" = \"127.0.0.1:{port}\"\n"
    ));
    let html = extract::read_page_file(&page).expect("fixture page reads");
    m.server
        .add("/dp/B0BRZXRBZL", Route::ok(html, "text/html;charset=UTF-8"));
    m.server.add(
        "/dp/B0ROBOT503",
        Route::ok("", "text/html").with(haul_tests::media_server::Behavior::Status(503)),
    );

    // No daemon: the CLI runs the job itself.
    let out = run_haul(&m.home, &["grab", "https://www.amazon.com/dp/B0ROBOT503"]).await;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("did not give haul the product page") && said.contains("haul button"),
        "{said}"
    );
    assert!(m.home.outputs().is_empty());

    let daemon = InProcessDaemon::start(&m.home).await;
    let out = run_haul(&m.home, &["grab", PAGE_URL, "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    the_vest_package(&m.home, &e);
    assert_eq!(m.server.hits("/dp/B0BRZXRBZL"), 1);

    // The status page's form: a product address pasted alone is fetched the same way.
    let api = haul_tests::status_client::StatusClient::of(&m.home).await;
    let answer = api
        .change(
            "POST",
            "/api/v1/jobs",
            Some(serde_json::json!({"urls": ["https://www.amazon.com/dp/B0ROBOT503"]})),
        )
        .await;
    assert_eq!(answer.status, 201);
    let job = answer.json()["job"].as_u64().expect("a job id");
    let ended = api.wait_until_ended(job, JOB_TIMEOUT).await;
    assert_eq!(ended["state"], "failed");
    let error = ended["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("did not give haul the product page"),
        "{ended}"
    );
    assert_eq!(m.server.hits("/dp/B0ROBOT503"), 2, "fetched as a page");
    daemon.stop().await;
}

/// A page address of a shop haul has no extractor for, listed in a URL list: the page is fetched
/// and read by the generic extractor, and its product — not the page's other products — saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_page_of_any_shop_is_fetched_and_its_product_saved() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, "");
    for (path, seed) in [
        ("/img/lamp-a.jpg", 1),
        ("/img/lamp-b.jpg", 2),
        ("/img/desk.jpg", 3),
        ("/img/loose.jpg", 4),
    ] {
        server.add(
            path,
            Route::ok(images::jpeg_with_metadata(64, 48, seed), "image/jpeg"),
        );
    }
    let page = format!(
        r#"<!doctype html><html><head><title>Brass Lamp | Shop</title>
        <script type="application/ld+json">{{"@type":"Product","name":"Brass Lamp","sku":"LAMP9",
          "image":"{a}"}}</script></head><body>
        <div class="gallery"><img src="{a}" alt="Brass Lamp"><img src="{b}" alt="Brass Lamp"></div>
        <h1>Brass Lamp</h1>
        <div class="related"><a href="/shop/desk.html"><img src="{c}" alt="Oak Desk"></a></div>
        </body></html>"#,
        a = server.url("/img/lamp-a.jpg"),
        b = server.url("/img/lamp-b.jpg"),
        c = server.url("/img/desk.jpg"),
    );
    server.add(
        "/shop/lamp.html",
        Route::ok(page, "text/html; charset=utf-8"),
    );
    let list = home.root().join("things.txt");
    std::fs::write(
        &list,
        format!(
            "{}\n{}\n",
            server.url("/shop/lamp.html"),
            server.url("/img/loose.jpg")
        ),
    )
    .unwrap();

    let out = run_haul(&home, &["grab", "--list", &list.display().to_string()]).await;
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut outputs = home.outputs();
    outputs.sort();
    let names: Vec<String> = outputs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["generic-LAMP9-brass-lamp.zip", "things.zip"]);
    let product = manifest(&read_zip(&outputs[0]));
    let saved: Vec<&str> = product["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["url"].as_str())
        .collect();
    assert_eq!(
        saved,
        [
            server.url("/img/lamp-a.jpg").as_str(),
            server.url("/img/lamp-b.jpg").as_str()
        ]
    );
    assert_eq!(server.hits("/shop/lamp.html"), 1);
    assert_eq!(
        server.hits("/img/desk.jpg"),
        0,
        "the other product is not asked for"
    );
    assert_eq!(server.hits("/img/loose.jpg"), 1);
}

/// A product video a page embeds from YouTube is a link of the product, not a file: the grab's
/// manifests list its watch page, and no request is made for it — not for the player, not for
/// its still — although the test pins YouTube's names to the media server, where any request
/// would be seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_youtube_player_is_listed_in_the_manifest_and_never_requested() {
    const YOUTUBE: [&str; 2] = ["www.youtube.com", "i.ytimg.com"];
    let ca = TestCa::with_names(&YOUTUBE);
    let server = MediaServer::start(&ca).await;
    let pins: String = ["media.test", YOUTUBE[0], YOUTUBE[1]]
        .iter()
        .map(|host| format!("\"{host}\" = \"127.0.0.1:{}\"\n", server.addr.port()))
        .collect();
    let home = TestHome::new(
        &ca,
        &format!("allow_private_networks = false\n[connect_to]\n{pins}"),
    );
    for (path, seed) in [("/p/lamp-1.jpg", 1), ("/p/lamp-2.jpg", 2)] {
        server.add(
            path,
            Route::ok(images::jpeg_with_metadata(40, 30, seed), "image/jpeg"),
        );
    }
    // Were haul to ask YouTube for anything, it would get an answer and the log would show it.
    server.set_fallback(|_| Route::ok(images::jpeg_with_metadata(8, 8, 9), "image/jpeg"));
    let page = home.root().join("lamp.html");
    std::fs::write(
        &page,
        r#"<html><head><title>Brass Lamp | Shop</title>
        <script type="application/ld+json">{"@context":"https://schema.org","@type":"Product",
          "name":"Brass Lamp","sku":"LAMP-1","image":"https://media.test/p/lamp-1.jpg"}</script>
        </head><body><main><div class="gallery">
          <img src="https://media.test/p/lamp-1.jpg" alt="Brass Lamp">
          <img src="https://media.test/p/lamp-2.jpg" alt="Brass Lamp">
          <iframe src="https://www.youtube.com/embed/i7pXJC8wwLE?rel=0"></iframe>
          <img src="https://i.ytimg.com/vi/i7pXJC8wwLE/hqdefault.jpg" alt="">
        </div><h1>Brass Lamp</h1><form><button>Add to basket</button></form></main></body></html>"#,
    )
    .unwrap();

    let page_arg = page.display().to_string();
    let out = run_haul(
        &home,
        &[
            "grab",
            &page_arg,
            "--url",
            "https://shop.test/products/lamp",
        ],
    )
    .await;
    let entries = read_zip(&the_one_package(&home, &out));
    assert_eq!(
        names(&entries),
        [
            "01-main.jpg",
            "02.jpg",
            "manifest.json",
            "manifest.csv",
            "product.json"
        ],
        "the pictures are saved, the video is not a file"
    );
    let manifest = manifest(&entries);
    assert_eq!(
        manifest["links"],
        serde_json::json!([{
            "url": "https://www.youtube.com/watch?v=i7pXJC8wwLE",
            "role": "video",
            "platform": "youtube"
        }])
    );
    assert!(manifest["failed"].as_array().unwrap().is_empty());
    let csv = entries
        .iter()
        .find(|e| e.name == "manifest.csv")
        .map(|e| String::from_utf8_lossy(&e.data).into_owned())
        .unwrap();
    assert!(
        csv.lines().any(|row| row
            .starts_with(",https://www.youtube.com/watch?v=i7pXJC8wwLE,video,")
            && row.contains(",link,")),
        "{csv}"
    );

    let log = server.log();
    assert_eq!(log.len(), 2, "two pictures asked for: {log:?}");
    for request in &log {
        let host = request.host.as_deref().unwrap_or("");
        assert!(
            host.starts_with("media.test"),
            "a request to {host}: {request:?}"
        );
    }
}
