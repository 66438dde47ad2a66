//! The watched inbox through the real daemon and its real watcher on a temporary `HAUL_HOME`:
//! files are dropped into `inbox/`, and the test waits (by deadline, never a fixed sleep) for the
//! package in `output/` and the input in `inbox/done/` or `inbox/failed/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use haul_protocol::message::FailureKind;
use haul_tests::ca::TestCa;
use haul_tests::daemon::{InProcessDaemon, status_jobs};
use haul_tests::home::{TestHome, returned_from_inbox};
use haul_tests::images::{self, CANARY};
use haul_tests::media_server::{Behavior, MediaServer, Route};
use haul_tests::wait_for;
use haul_tests::zipfile::{manifest, read_zip};

/// Long enough for a job over loopback; a test that needs longer has a bug.
const DEADLINE: Duration = Duration::from_secs(60);

/// Only the pinned name reaches the local server; every other local address is refused.
const CONFIG: &str = "allow_private_networks = false\ninbox_settle_ms = 300\n[resolve]\n\"media.test\" = \"127.0.0.1\"";

struct Setup {
    _ca: TestCa,
    server: MediaServer,
    home: TestHome,
}

async fn setup(config: &str) -> Setup {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(&ca, config);
    Setup {
        _ca: ca,
        server,
        home,
    }
}

impl Setup {
    fn inbox(&self) -> PathBuf {
        self.home.paths.inbox_dir.clone()
    }

    fn media_url(&self, path: &str) -> String {
        self.server.url_via("media.test", path)
    }

    /// Waits until `name` is back in `done/` or `failed/`; returns its folder's name.
    async fn returned(&self, name: &str) -> &'static str {
        returned(&self.inbox(), name).await
    }

    fn error_report(&self, dir: &str, name: &str) -> Option<String> {
        std::fs::read_to_string(self.inbox().join(dir).join(format!("{name}.error.txt"))).ok()
    }

    /// The only ZIP in the output folder.
    fn single_zip(&self) -> PathBuf {
        let outputs = self.home.outputs();
        assert_eq!(outputs.len(), 1, "one package: {outputs:?}");
        outputs[0].clone()
    }
}

/// Waits until `name` is back in `inbox/done/` or `inbox/failed/`; returns that folder's name.
async fn returned(inbox: &Path, name: &str) -> &'static str {
    returned_from_inbox(inbox, name, DEADLINE).await
}

/// Writes `path` atomically from the inbox's point of view: hidden name, then rename.
fn drop_file(dir: &Path, name: &str, data: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    let temp = dir.join(format!(".{name}.writing"));
    std::fs::write(&temp, data).unwrap();
    std::fs::rename(&temp, dir.join(name)).unwrap();
}

/// `entry` is a JPEG with none of the test image's metadata left.
fn assert_clean_jpeg(entry: &haul_tests::zipfile::ZipEntry) {
    assert!(
        entry.data.starts_with(&[0xFF, 0xD8, 0xFF]),
        "{} is a JPEG",
        entry.name
    );
    assert!(
        !images::contains(&entry.data, CANARY),
        "{} has no metadata left",
        entry.name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_list_saves_the_good_lines_and_reports_the_rest() {
    let s = setup(CONFIG).await;
    s.server.add(
        "/a.jpg",
        Route::ok(images::jpeg_with_metadata(64, 48, 1), "image/jpeg"),
    );
    s.server.add(
        "/b.png",
        Route::ok(images::png_with_metadata(40, 30, 2), "image/png"),
    );
    let private = s.server.url("/a.jpg"); // 127.0.0.1 without the pin: a private address
    let list = format!(
        "# supplier photos\n{}\n\n{}\n{}\n{private}\nnot a url\n",
        s.media_url("/a.jpg"),
        s.media_url("/missing.jpg"),
        s.media_url("/b.png"),
    );
    let daemon = InProcessDaemon::start(&s.home).await;
    drop_file(&s.inbox(), "supplier.txt", list.as_bytes());

    assert_eq!(
        s.returned("supplier.txt").await,
        "done",
        "something was saved"
    );
    let zip = s.single_zip();
    assert!(zip.ends_with("supplier.zip"), "{zip:?}");
    let entries = read_zip(&zip);
    let files = manifest(&entries)["files"].as_array().unwrap().len();
    assert_eq!(files, 2, "the two good lines");
    for e in &entries {
        assert!(
            !images::contains(&e.data, CANARY),
            "{} still has metadata",
            e.name
        );
    }
    let report = s.error_report("done", "supplier.txt").expect("a report");
    assert!(
        report.contains("missing.jpg") && report.contains("404"),
        "{report}"
    );
    // Each failure is told by its kind's explanation, the precise reason after it.
    for kind in [FailureKind::NotFound, FailureKind::RefusedPrivateAddress] {
        let explained = kind.explanation().unwrap_or_default();
        assert!(report.contains(explained), "{kind}: {report}");
    }
    assert!(report.contains("allow_private_networks"), "{report}");
    assert!(
        report.contains("line 7") && report.contains("not a url"),
        "{report}"
    );
    assert_eq!(
        s.server
            .log()
            .iter()
            .filter(|l| l
                .host
                .as_deref()
                .is_some_and(|h| h.starts_with("127.0.0.1")))
            .count(),
        0,
        "the private address was never contacted"
    );
    // The job went through the engine: it is in the journal and `haul status`.
    let jobs = status_jobs(&s.home).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["state"], "partial");
    daemon.stop().await;
}

/// The config for lists naming product pages: the shops' names pinned to the local server.
fn shops_config(port: u16) -> String {
    format!(
        "allow_private_networks = false\ninbox_settle_ms = 300\n[resolve]\n\"media.test\" = \"127.0.0.1\"\n[connect_to]\n\"www.amazon.com\" = \"127.0.0.1:{port}\"\n\"www.aliexpress.com\" = \"127.0.0.1:{port}\"\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_pages_in_a_url_list_are_fetched_or_sent_to_the_browser_button() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let s = Setup {
        home: TestHome::new(&ca, &shops_config(server.addr.port())),
        _ca: ca,
        server,
    };
    for (path, seed) in [("/lamp-a.jpg", 1), ("/lamp-b.jpg", 2), ("/loose.jpg", 3)] {
        s.server.add(
            path,
            Route::ok(images::jpeg_with_metadata(64, 48, seed), "image/jpeg"),
        );
    }
    // A shop page that serves: its photos are named in its product data.
    let served = "/item/1005001234567890.html";
    let page = format!(
        r#"<!doctype html><html><head><title>Brass Lamp - AliExpress</title>
        <script type="application/ld+json">{{"@type": "Product", "name": "Brass Lamp",
          "image": ["{}", "{}"]}}</script></head><body><h1>Brass Lamp</h1></body></html>"#,
        s.media_url("/lamp-a.jpg"),
        s.media_url("/lamp-b.jpg"),
    );
    s.server
        .add(served, Route::ok(page, "text/html; charset=utf-8"));
    // Three pages kept from programs: a robot 503, a redirect to sign in, a captcha page.
    let robot = "/dp/B0ROBOT503";
    s.server.add(
        robot,
        Route::ok("", "text/html").with(Behavior::Status(503)),
    );
    let signin = "/item/1005009999999999.html";
    s.server.add(
        signin,
        Route::ok("", "text/html").with(Behavior::Redirect(
            "https://www.aliexpress.com/login.htm?return_url=item".into(),
        )),
    );
    s.server.add(
        "/login.htm",
        Route::ok(
            "<html><body><form><input type=\"password\"></form></body></html>",
            "text/html",
        ),
    );
    let captcha = "/dp/B0CAPTCHA1";
    s.server.add(
        captcha,
        Route::ok(
            "<html><head><title>Robot Check</title></head><body><form action=\"/errors/validateCaptcha\">Type the characters you see</form></body></html>",
            "text/html",
        ),
    );
    let list = [
        format!("https://www.aliexpress.com{served}?spm=a2g0o.home"),
        format!("https://www.amazon.com{robot}"),
        format!("https://www.aliexpress.com{signin}"),
        format!("https://www.amazon.com{captcha}"),
        s.media_url("/loose.jpg"),
    ]
    .join("\n");
    let daemon = InProcessDaemon::start(&s.home).await;
    drop_file(&s.inbox(), "shops.txt", list.as_bytes());
    assert_eq!(s.returned("shops.txt").await, "done", "something was saved");

    let outputs = outputs_by_name(&s);
    let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        outputs.len(),
        2,
        "the served page and the loose photo: {names:?}"
    );
    let (page_zip, page_entries) = outputs
        .iter()
        .find(|(n, _)| n.starts_with("aliexpress-1005001234567890"))
        .unwrap_or_else(|| panic!("a package named after the fetched product: {names:?}"));
    assert_eq!(
        page_entries,
        &["01-main.jpg", "02.jpg", "product.json"],
        "{page_zip}: a fetched page tells the product's facts"
    );
    assert!(names.contains(&"shops.zip"), "{names:?}");
    assert_eq!(s.server.hits("/lamp-a.jpg"), 1);

    let report = s.error_report("done", "shops.txt").expect("a report");
    for (line, says) in [
        (robot, "503"),
        (signin, "/login.htm"),
        (captcha, "robot check"),
    ] {
        let entry = report
            .lines()
            .find(|l| l.contains(line))
            .unwrap_or_else(|| panic!("{line} is reported: {report}"));
        assert!(
            entry.contains("did not give haul the product page")
                && entry.contains(says)
                && entry.contains("press the haul button"),
            "{entry}"
        );
    }
    // The pages were asked for as a program that keeps nothing: no cookies, once each (a wall
    // is not hammered with retries).
    let log = s.server.log();
    assert!(log.iter().all(|l| l.cookie.is_none()), "no cookies sent");
    assert_eq!(s.server.hits(robot), 1, "a robot 503 is not retried");
    daemon.stop().await;
}

/// The real saved Amazon page, served at its product address: a URL list naming the product
/// page gets the same package as the browser button would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_product_page_of_a_real_shop_is_fetched_and_extracted() {
    let Some(page) = crate::grab_page::fixture_page() else {
        return;
    };
    let e = crate::grab_page::extraction_of(&page);
    let m = crate::grab_page::mirror(&e).await;
    let port = m.server.addr.port();
    m.home.write_config(&format!(
        "{}\"{}\" = \"127.0.0.1:{port}\"\n",
        shops_config(port),
        crate::grab_page::CDN
    ));
    let html = haul::extract::read_page_file(&page).expect("fixture page reads");
    m.server
        .add("/dp/B0BRZXRBZL", Route::ok(html, "text/html;charset=UTF-8"));
    let daemon = InProcessDaemon::start(&m.home).await;
    let inbox = m.home.paths.inbox_dir.clone();
    drop_file(
        &inbox,
        "vest.txt",
        b"# the vest\nhttps://www.amazon.com/dp/B0BRZXRBZL\n",
    );
    assert_eq!(returned(&inbox, "vest.txt").await, "done");
    let entries = crate::grab_page::the_vest_package(&m.home, &e);
    assert!(entries.iter().any(|e| e.name == "01-main.jpg"));
    daemon.stop().await;
}

/// Tmall serves its pages in GBK. The saved Tmall page's own bytes, served at its product
/// address with no charset in the `Content-Type` (the page's `<meta charset="gbk">`, 155 KB in,
/// decides) for a URL list naming it: the package's manifest carries the page's Chinese title,
/// with no replacement character, and the package is named after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_gbk_page_keeps_its_chinese_title_in_the_manifest() {
    const PAGE: &str = "tmall/detail-iphone11-605258110430.html";
    const TITLE: &str =
        "【官网价直降】Apple/苹果 iPhone 11 4G全网通智能手机正品苏宁易购官方旗舰店苹果11";
    let Some(path) = crate::grab_page::fixture(PAGE) else {
        return;
    };
    let gbk = std::fs::read(&path).expect("fixture page reads");
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "the saved page is GBK, not UTF-8"
    );
    let ca = TestCa::with_names(&["detail.tmall.com", "img.alicdn.com"]);
    let server = MediaServer::start(&ca).await;
    let port = server.addr.port();
    let s = Setup {
        home: TestHome::new(
            &ca,
            &format!(
                "allow_private_networks = false\ninbox_settle_ms = 300\n[connect_to]\n\
                 \"detail.tmall.com\" = \"127.0.0.1:{port}\"\n\"img.alicdn.com\" = \"127.0.0.1:{port}\"\n"
            ),
        ),
        _ca: ca,
        server,
    };
    s.server.add("/item.htm", Route::ok(gbk, "text/html"));
    // Every picture of the page, each its own image.
    s.server.set_fallback(|path| {
        let seed = path
            .bytes()
            .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
        Route::ok(images::jpeg_with_metadata(40, 40, seed), "image/jpeg")
    });
    let daemon = InProcessDaemon::start(&s.home).await;
    drop_file(
        &s.inbox(),
        "iphone.txt",
        b"https://detail.tmall.com/item.htm?id=605258110430\n",
    );
    assert_eq!(
        s.returned("iphone.txt").await,
        "done",
        "{:?}",
        s.error_report("failed", "iphone.txt")
    );
    let zip = s.single_zip();
    let m = manifest(&read_zip(&zip));
    assert_eq!(m["site"], "tmall");
    assert_eq!(m["product_id"], "605258110430");
    assert_eq!(m["title"], TITLE);
    let title = m["title"].as_str().unwrap_or_default();
    assert!(!title.contains('\u{FFFD}'), "{title}");
    let name = zip.file_name().unwrap_or_default().to_string_lossy();
    assert!(
        name.starts_with("tmall-605258110430-官网价直降-apple-苹果-iphone-11"),
        "{name}"
    );
    assert_eq!(
        m["files"].as_array().map(Vec::len),
        Some(11),
        "5 gallery + 6 colours"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_written_slowly_is_taken_once_and_complete() {
    let s = setup(CONFIG).await;
    let urls: Vec<String> = (0..6)
        .map(|i| {
            let path = format!("/slow-{i}.jpg");
            s.server.add(
                &path,
                Route::ok(images::jpeg_with_metadata(32, 32, i), "image/jpeg"),
            );
            s.media_url(&path)
        })
        .collect();
    let daemon = InProcessDaemon::start(&s.home).await;
    // Written in place, one line at a time, each write well inside the settle interval.
    let path = s.inbox().join("slow.txt");
    let mut file = std::fs::File::create(&path).unwrap();
    for url in &urls {
        use std::io::Write;
        writeln!(file, "{url}").unwrap();
        file.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    drop(file);

    assert_eq!(s.returned("slow.txt").await, "done");
    let entries = read_zip(&s.single_zip());
    assert_eq!(
        manifest(&entries)["files"].as_array().unwrap().len(),
        urls.len(),
        "every line, including the last one written"
    );
    assert_eq!(status_jobs(&s.home).await.len(), 1, "taken once");
    assert!(
        s.error_report("done", "slow.txt").is_none(),
        "nothing went wrong"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_arrives_while_the_daemon_is_down_is_processed_at_start() {
    let s = setup(CONFIG).await;
    s.server.add(
        "/late.jpg",
        Route::ok(images::jpeg_with_metadata(32, 32, 9), "image/jpeg"),
    );
    // First run: creates the inbox, then stops.
    InProcessDaemon::start(&s.home).await.stop().await;
    drop_file(&s.inbox(), "late.txt", s.media_url("/late.jpg").as_bytes());
    // Same name already in done/: the new one must not replace it.
    drop_file(&s.inbox().join("done"), "late.txt", b"an earlier list");
    drop_file(&s.inbox(), "notes.docx", b"PK\x03\x04 not a list");

    let daemon = InProcessDaemon::start(&s.home).await;
    let inbox = s.inbox();
    wait_for(DEADLINE, || {
        inbox.join("done/late (2).txt").exists().then_some(())
    })
    .await
    .expect("late.txt processed after start");
    assert_eq!(
        std::fs::read(inbox.join("done/late.txt")).unwrap(),
        b"an earlier list",
        "the earlier file is untouched"
    );
    assert_eq!(s.home.outputs().len(), 1);
    assert_eq!(s.returned("notes.docx").await, "failed");
    let report = s.error_report("failed", "notes.docx").expect("a report");
    assert!(
        report.contains(".docx") && report.contains("drop"),
        "{report}"
    );
    daemon.stop().await;
}

/// A PNG whose header declares 100000 × 100000 pixels (a decompression bomb).
fn bomb_png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    // Whole (an empty IDAT, then IEND), so it is refused for its size, not as cut short.
    png.extend_from_slice(b"\0\0\0\0IDAT\0\0\0\0\0\0\0\0IEND\xaeB`\x82");
    png
}

/// A PNG whose left half is fully transparent and right half opaque red.
fn half_transparent_png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbaImage::from_fn(width, height, |x, _| {
        image::Rgba([220, 20, 20, if x < width / 2 { 0 } else { 255 }])
    });
    let mut out = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_phone_photos_becomes_a_seller_central_zip() {
    let s = setup(CONFIG).await;
    let daemon = InProcessDaemon::start(&s.home).await;
    // Prepared beside the inbox, then moved in at once (as a file manager's move does).
    let folder = s.home.root().join("seller-drop");
    std::fs::create_dir(&folder).unwrap();
    let photo = images::jpeg_with_metadata(1600, 1200, 1);
    assert!(
        images::contains(&photo, CANARY),
        "the photo carries GPS EXIF"
    );
    std::fs::write(folder.join("IMG_0001.jpg"), &photo).unwrap();
    std::fs::write(
        folder.join("IMG_0002.png"),
        half_transparent_png(1200, 1000),
    )
    .unwrap();
    std::fs::write(
        folder.join("wide.jpg"),
        images::jpeg_with_metadata(12_000, 800, 2),
    )
    .unwrap();
    std::fs::write(folder.join("bomb.png"), bomb_png()).unwrap();
    // Excel on Western Windows: Windows-1252, semicolons; one slot left empty.
    let skus = "file;sku;slot\r\nIMG_0001.jpg;SKU1;MAIN\r\nIMG_0002.png;SKU1;\r\nwide.jpg;SKU2;main\r\nbomb.png;SKU2;PT01\r\nnope.jpg;SKU3;\r\n";
    std::fs::write(folder.join("skus.csv"), skus.as_bytes()).unwrap();
    std::fs::rename(&folder, s.inbox().join("seller-drop")).unwrap();

    assert_eq!(s.returned("seller-drop").await, "done");
    let zip = s.single_zip();
    assert!(zip.ends_with("seller-drop.zip"), "{zip:?}");
    let entries = read_zip(&zip);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "SKU1.MAIN.jpg",
            "SKU1.PT01.jpg",
            "SKU2.MAIN.jpg",
            "manifest.json",
            "manifest.csv"
        ],
        "flat, named for Seller Central"
    );
    for e in entries.iter().filter(|e| e.name.ends_with(".jpg")) {
        assert_clean_jpeg(e);
        assert!(!images::contains(&e.data, "Exif"), "{} has no EXIF", e.name);
        assert!(
            !images::contains(&e.data, "ICC_PROFILE"),
            "{} is plain sRGB",
            e.name
        );
        let (w, h, rgba) = images::decode_rgba(&e.data);
        let longest = w.max(h);
        assert!((1000..=10_000).contains(&longest), "{}: {w}×{h}", e.name);
        if e.name == "SKU1.PT01.jpg" {
            let corner = &rgba[..3];
            assert!(
                corner.iter().all(|&c| c >= 250),
                "transparency is white: {corner:?}"
            );
        }
        if e.name == "SKU2.MAIN.jpg" {
            assert_eq!((w, h), (10_000, 667), "scaled down to Amazon's 10000 px");
        }
    }
    let report = s.error_report("done", "seller-drop").expect("a report");
    assert!(report.contains("decompression bomb"), "{report}");
    assert!(report.contains("nope.jpg"), "{report}");
    assert!(
        report.contains("not pure white"),
        "the grey-gradient main image is flagged: {report}"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_product_page_is_extracted_and_packaged() {
    let Some(page) = crate::grab_page::fixture_page() else {
        return;
    };
    let e = crate::grab_page::extraction_of(&page);
    let m = crate::grab_page::mirror(&e).await;
    let daemon = InProcessDaemon::start(&m.home).await;
    let inbox = m.home.paths.inbox_dir.clone();
    drop_file(&inbox, "dog-vest.html.gz", &std::fs::read(&page).unwrap());
    assert_eq!(returned(&inbox, "dog-vest.html.gz").await, "done");
    let entries = crate::grab_page::the_vest_package(&m.home, &e);
    assert!(
        entries.iter().any(|e| e.name == "01-main.jpg"),
        "roles from the page"
    );
    daemon.stop().await;
}

/// Entry names of the ZIP at `path`, sorted, without the manifests.
fn image_entries(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = read_zip(path)
        .into_iter()
        .map(|e| e.name)
        .filter(|n| !n.starts_with("manifest."))
        .collect();
    names.sort();
    names
}

/// The output ZIPs by file name, each with its image entries.
fn outputs_by_name(s: &Setup) -> Vec<(String, Vec<String>)> {
    s.home
        .outputs()
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, image_entries(p))
        })
        .collect()
}

/// Windows-1252 bytes of `text` (the few non-ASCII characters the tests use).
fn windows_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            'ü' => 0xFC,
            'ö' => 0xF6,
            '–' => 0x96,
            c if c.is_ascii() => c as u8,
            c => panic!("no Windows-1252 byte for {c:?} in this test"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sku_spreadsheets_in_every_encoding_become_seller_central_zips() {
    let s = setup(CONFIG).await;
    for (path, seed) in [
        ("/m.jpg", 1),
        ("/p1.jpg", 2),
        ("/p2.jpg", 3),
        ("/sw.jpg", 4),
    ] {
        s.server.add(
            path,
            Route::ok(images::jpeg_with_metadata(120, 90, seed), "image/jpeg"),
        );
    }
    let (m, p1, p2, sw) = (
        s.media_url("/m.jpg"),
        s.media_url("/p1.jpg"),
        s.media_url("/p2.jpg"),
        s.media_url("/sw.jpg"),
    );
    // UTF-8 with a BOM, commas; row 3 has a SKU Seller Central refuses.
    let mut utf8 = vec![0xEF, 0xBB, 0xBF];
    utf8.extend_from_slice(
        format!(
            "sku,title,main_image_url,other_image_url1,other_image_url2,swatch_image_url\r\n\
             VEST1,Dog vest,{m},{p1},{p2},{sw}\r\n\
             VEST-2,Dog vest,{m},,,\r\n"
        )
        .as_bytes(),
    );
    // UTF-16LE (Excel's "Unicode text"), tabs; row 3 has no image URL.
    let text16 = format!("SKU\tMain Image URL\tOther Image URL 1\nLEASH1\t{m}\t{p1}\nLEASH2\t\t\n");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text16.encode_utf16().flat_map(u16::to_le_bytes));
    // Windows-1252 (Excel's "CSV" on Western Windows), semicolons, a non-ASCII title; row 2
    // names no SKU, row 4 a URL that is not http(s).
    let cp1252 = windows_1252(&format!(
        "asin;Titel;main_image_url;other_image_url1\r\n\
         ;Hundeweste für Möpse – rot;{m};\r\n\
         B0TESTMOPS;Hundeweste für Möpse – rot;{m};{p1}\r\n\
         BOWL1;Napf – grün;{m};file:///etc/passwd\r\n"
    ));

    let daemon = InProcessDaemon::start(&s.home).await;
    drop_file(&s.inbox(), "utf8.csv", &utf8);
    drop_file(&s.inbox(), "utf16.csv", &utf16);
    drop_file(&s.inbox(), "cp1252.csv", &cp1252);
    for name in ["utf8.csv", "utf16.csv", "cp1252.csv"] {
        assert_eq!(
            s.returned(name).await,
            "done",
            "{name}: its good rows were saved"
        );
    }
    assert_eq!(
        outputs_by_name(&s),
        [
            (
                "cp1252-B0TESTMOPS.zip".to_string(),
                vec![
                    "B0TESTMOPS.MAIN.jpg".to_string(),
                    "B0TESTMOPS.PT01.jpg".into()
                ]
            ),
            (
                "utf16-LEASH1.zip".to_string(),
                vec!["LEASH1.MAIN.jpg".to_string(), "LEASH1.PT01.jpg".into()]
            ),
            (
                "utf8-VEST1.zip".to_string(),
                vec![
                    "VEST1.MAIN.jpg".to_string(),
                    "VEST1.PT01.jpg".into(),
                    "VEST1.PT02.jpg".into(),
                    "VEST1.SWCH.jpg".into()
                ]
            ),
        ],
        "one package a good row, named for Seller Central"
    );
    let vest = read_zip(&s.home.paths.output_dir.join("utf8-VEST1.zip"));
    for e in vest.iter().filter(|e| e.name.ends_with(".jpg")) {
        assert_clean_jpeg(e);
    }

    let report = s.error_report("done", "utf8.csv").expect("a report");
    assert!(
        report.contains("row 3") && report.contains("VEST-2"),
        "{report}"
    );
    let report = s.error_report("done", "utf16.csv").expect("a report");
    assert!(
        report.contains("row 3") && report.contains("no image URL"),
        "{report}"
    );
    let report = s.error_report("done", "cp1252.csv").expect("a report");
    assert!(
        report.contains("row 2") && report.contains("no SKU"),
        "{report}"
    );
    assert!(
        report.contains("row 4") && report.contains("file:///etc/passwd"),
        "{report}"
    );
    assert!(!report.contains("row 3"), "row 3 is good: {report}");
    daemon.stop().await;
}

/// An Amazon flat file as Seller Central hands it out: an instructions sheet first, then the
/// template with a title row and two header rows above the products.
fn amazon_flat_file(rows: &[Vec<String>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let intro = book.add_worksheet();
    intro.set_name("Instructions").unwrap();
    intro
        .write_string(0, 0, "Fill in the Template sheet")
        .unwrap();
    let sheet = book.add_worksheet();
    sheet.set_name("Template").unwrap();
    let head: [&[&str]; 3] = [
        &["TemplateType=fptcustom", "Version=2023.0718"],
        &[
            "Seller SKU",
            "Product Name",
            "Main Image URL",
            "Other Image URL1",
            "Other Image URL2",
            "Swatch Image URL",
        ],
        &[
            "item_sku",
            "item_name",
            "main_image_url",
            "other_image_url1",
            "other_image_url2",
            "swatch_image_url",
        ],
    ];
    let rows = head
        .iter()
        .map(|r| r.iter().map(ToString::to_string).collect::<Vec<_>>())
        .chain(rows.iter().cloned());
    for (r, cells) in rows.enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            if cell.is_empty() {
                continue;
            }
            // A numeric SKU is a number in the cell, as Excel stores it.
            match cell.parse::<f64>() {
                Ok(n) => sheet.write_number(r, c, n).unwrap(),
                Err(_) => sheet.write_string(r, c, cell).unwrap(),
            };
        }
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_amazon_flat_file_xlsx_saves_its_good_rows_and_reports_the_bad_one() {
    let s = setup(CONFIG).await;
    for (path, seed) in [("/m.jpg", 1), ("/p1.png", 2), ("/sw.jpg", 3)] {
        let data = if path.ends_with(".png") {
            images::png_with_metadata(100, 80, seed)
        } else {
            images::jpeg_with_metadata(100, 80, seed)
        };
        s.server.add(
            path,
            Route::ok(
                data,
                if path.ends_with(".png") {
                    "image/png"
                } else {
                    "image/jpeg"
                },
            ),
        );
    }
    let (m, p1, sw) = (
        s.media_url("/m.jpg"),
        s.media_url("/p1.png"),
        s.media_url("/sw.jpg"),
    );
    let row = |cells: &[&str]| cells.iter().map(ToString::to_string).collect::<Vec<_>>();
    let xlsx = amazon_flat_file(&[
        row(&["HARNESS1", "Harness", &m, &p1, "", &sw]),
        row(&[
            "HARNESS2",
            "Harness",
            "www.example.com/no-scheme.jpg",
            &p1,
            "",
            "",
        ]),
        row(&["12345", "Numeric SKU", &m, "", "", ""]),
    ]);
    let daemon = InProcessDaemon::start(&s.home).await;
    drop_file(&s.inbox(), "listing.xlsx", &xlsx);
    assert_eq!(s.returned("listing.xlsx").await, "done");
    assert_eq!(
        outputs_by_name(&s),
        [
            (
                "listing-12345.zip".to_string(),
                vec!["12345.MAIN.jpg".to_string()]
            ),
            (
                "listing-HARNESS1.zip".to_string(),
                vec![
                    "HARNESS1.MAIN.jpg".to_string(),
                    "HARNESS1.PT01.jpg".into(),
                    "HARNESS1.SWCH.jpg".into()
                ]
            ),
        ]
    );
    let report = s.error_report("done", "listing.xlsx").expect("a report");
    assert!(
        report.contains("sheet \"Template\" row 5") && report.contains("no-scheme.jpg"),
        "the bad row by the number Excel shows: {report}"
    );
    assert!(!report.contains("row 4"), "{report}");
    daemon.stop().await;
}

/// A program that writes a URL list a line a second, holding the file open: the list is taken
/// once it is closed, whole — not at the first pause longer than `inbox_settle_ms`.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_still_open_for_writing_is_taken_only_when_closed() {
    let s = setup(CONFIG).await;
    let urls: Vec<String> = (0..4u8)
        .map(|i| {
            let path = format!("/slowly/{i}.jpg");
            s.server.add(
                &path,
                Route::ok(images::jpeg_with_metadata(32, 24, i), "image/jpeg"),
            );
            s.media_url(&path)
        })
        .collect();
    let daemon = InProcessDaemon::start(&s.home).await;
    std::fs::create_dir_all(s.inbox()).unwrap();
    let path = s.inbox().join("written-slowly.txt");
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut file = std::fs::File::create(&path).unwrap();
        for url in urls {
            writeln!(file, "{url}").unwrap();
            file.flush().unwrap();
            std::thread::sleep(Duration::from_millis(1000));
        }
    });
    assert_eq!(s.returned("written-slowly.txt").await, "done");
    writer.join().unwrap();
    let entries = read_zip(&s.single_zip());
    assert_eq!(
        haul_tests::zipfile::saved_urls(&manifest(&entries)).len(),
        4,
        "every line the writer wrote"
    );
    daemon.stop().await;
}
