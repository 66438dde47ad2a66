//! The status page in real headless Chromium against the real `haul daemon` process and the
//! local HTTPS media server: the bare address says how to open the page and shows nothing else;
//! the page is entered through a one-time link from the daemon's socket (as `haul status --open`
//! does), which leaves an HttpOnly session the script cannot read; a job started from the page's own form shows a progress bar that
//! advances, ends with thumbnails and a failure explained in plain words; "Try again" on the
//! failed file saves it; the page shows that haul stopped and recovers when it starts again, and
//! that the package was deleted from the output folder; it has no horizontal scrolling at phone
//! width. A product page's job shows its price and availability, every control has an
//! accessible name, and its Export menu and the group export bar download what
//! `GET /api/v1/export` serves. Screenshots go to `target/status-page/`
//! (`docs/status-page.md`).
//!
//! Skips with a message when Chromium is not installed, unless `HAUL_REQUIRE_BROWSER=1`.

use std::time::Duration;

use haul_tests::browser::{Browser, target_dir};
use haul_tests::ca::TestCa;
use haul_tests::daemon::DaemonProcess;
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{Behavior, MediaServer, Route};
use haul_tests::status_client::{StatusClient, one_time_link};

const WAIT: Duration = Duration::from_secs(60);

/// A port free right now, so the daemon can be restarted on the same address.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// JavaScript: the state of the only job on the page.
const JOB_STATE: &str = "(document.querySelector('.job')?.dataset.state ?? '')";

/// JavaScript: how many item thumbnails have loaded (decoded, not broken).
const THUMBS_LOADED: &str = "([...document.querySelectorAll('.item .thumb img')]\
    .filter(i => !i.hidden && i.complete && i.naturalWidth > 0).length)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_follows_a_job_explains_a_failure_retries_it_and_survives_a_restart() {
    let Some(mut browser) = Browser::launch_or_skip("status_page") else {
        return;
    };
    let shots = target_dir().join("status-page");
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let big = images::png_with_metadata(900, 700, 1);
    server.add(
        "/shop/chair-main.png",
        Route::ok(big.clone(), "image/png").with(Behavior::Slow {
            chunk: big.len() / 40,
            every: Duration::from_millis(80),
        }),
    );
    server.add(
        "/shop/chair-side.jpg",
        Route::ok(images::jpeg_with_metadata(800, 600, 2), "image/jpeg"),
    );
    // Missing the first time, there when the person presses "Try again".
    server.add(
        "/shop/chair-back.jpg",
        Route::ok(images::jpeg_with_metadata(640, 640, 3), "image/jpeg").with(
            Behavior::FailFirst {
                times: 1,
                status: 404,
                retry_after: None,
            },
        ),
    );
    let port = free_port();
    let home = TestHome::new(
        &ca,
        &format!("status_port = {port}\nopen_command = [\"true\"]\n"),
    );
    let daemon = DaemonProcess::start(&home).await;
    let api = StatusClient::of(&home).await;
    assert_eq!(api.port, port);
    let url = format!("http://127.0.0.1:{port}/");

    // The bare address, without a session: how to open the page, and nothing of haul's.
    browser.open(&url, 1280, 800);
    let refused = browser.wait_until(
        "(document.body?.innerText ?? '').includes('haul status --open') && document.getElementById('jobs') === null",
        WAIT,
    );
    assert!(
        refused.is_some(),
        "the bare address says how to open the page"
    );
    let html = browser
        .eval("document.documentElement.outerHTML")
        .to_string();
    assert!(!html.contains(&api.token), "{html}");

    // Entered through a one-time link: the browser lands on the page itself, signed in by a
    // cookie its script cannot read.
    let link = one_time_link(&home).await;
    browser.open(&link, 1280, 800);
    let landed = browser.wait_until("location.pathname === '/' && !location.search", WAIT);
    assert!(landed.is_some(), "the link goes on to the page");
    assert_eq!(
        browser.eval("document.cookie"),
        "",
        "the session cookie is HttpOnly"
    );
    let html = browser
        .eval("document.documentElement.outerHTML")
        .to_string();
    assert!(!html.contains(&api.token), "the token is not in the page");

    // The empty page says how to start.
    let empty = browser.wait_until(
        "!document.getElementById('empty').hidden && document.getElementById('conn').dataset.state === 'live'",
        WAIT,
    );
    assert!(empty.is_some(), "the empty state shows, live");
    let text = browser
        .eval("document.getElementById('empty').innerText")
        .to_string();
    assert!(
        text.contains("haul grab") && text.contains("inbox"),
        "{text}"
    );
    assert!(
        browser
            .eval("document.getElementById('output-path').textContent")
            .as_str()
            .is_some_and(|p| p == home.paths.output_dir.display().to_string())
    );
    browser.screenshot(&shots.join("empty-1280.png"));

    // Start a job from the page's own form (the browser's own Origin, its session).
    browser.click(".add summary");
    let links = [
        server.url("/shop/chair-main.png"),
        server.url("/shop/chair-side.jpg"),
        server.url("/shop/chair-back.jpg"),
    ]
    .join(" ");
    browser.type_into("#add-urls", &links);
    browser.type_into("#add-name", "Garden chair");
    browser.click("#add-form button[type=submit]");

    // The bar advances while the slow picture arrives.
    let mut seen: Vec<f64> = Vec::new();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let now = browser.eval(&format!(
            "[{JOB_STATE}, Number(document.querySelector('.job .progress')?.getAttribute('aria-valuenow') ?? -1)]"
        ));
        let state = now[0].as_str().unwrap_or_default().to_string();
        if let Some(v) = now[1].as_f64().filter(|v| *v >= 0.0)
            && seen.last() != Some(&v)
        {
            seen.push(v);
        }
        if ["complete", "partial", "failed"].contains(&state.as_str()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the job did not end: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let between: Vec<f64> = seen
        .iter()
        .copied()
        .filter(|v| *v > 0.0 && *v < 100.0)
        .collect();
    assert!(
        between.len() >= 3 && between.windows(2).all(|w| w[0] < w[1]),
        "the progress bar advanced step by step: {seen:?}"
    );

    // It ends partial: two thumbnails, and the missing file explained in plain words.
    assert_eq!(browser.eval(JOB_STATE), "partial");
    assert!(
        browser
            .wait_until(&format!("{THUMBS_LOADED} === 2"), WAIT)
            .is_some()
    );
    let reason = browser
        .eval("document.querySelector('.item[data-state=failed] .item-reason')?.textContent ?? ''");
    assert!(
        reason
            .as_str()
            .is_some_and(|r| r.contains("no longer on the shop's server")),
        "{reason}"
    );
    let badge = browser.eval("document.querySelector('.job .badge').textContent");
    assert!(
        badge
            .as_str()
            .is_some_and(|b| b.contains("some files failed")),
        "{badge}"
    );
    assert!(
        browser
            .eval("document.querySelector('.job .job-thumb img')?.naturalWidth ?? 0")
            .as_u64()
            .is_some_and(|w| w > 0),
        "the job shows its first picture"
    );
    browser.screenshot(&shots.join("partial-1280.png"));

    // "Try again" on the failed file: the server has it now. The ended job's saved files are
    // folded; opened, all three show.
    browser.click(".item[data-state=failed] .act-item-retry");
    assert!(
        browser
            .wait_until(&format!("{JOB_STATE} === 'complete'"), WAIT)
            .is_some()
    );
    let folded = browser.eval(
        "document.querySelector('.job .items').hidden && document.querySelector('.job .attention-items').hidden",
    );
    assert_eq!(
        folded, true,
        "nothing needs attention, the saved files are folded"
    );
    browser.click(".job .act-toggle");
    let done = browser.wait_until(
        &format!("!document.querySelector('.job .items').hidden && {THUMBS_LOADED} === 3"),
        WAIT,
    );
    assert!(
        done.is_some(),
        "after Try again the job is complete with 3 thumbnails"
    );
    assert_eq!(server.hits("/shop/chair-back.jpg"), 2);
    let counts = browser.eval("document.querySelector('.job .counts').textContent");
    assert!(
        counts
            .as_str()
            .is_some_and(|c| c.starts_with("3 of 3 files saved")),
        "{counts}"
    );
    let output = api.get("/api/v1/jobs?limit=1").await.json()["jobs"][0]["output"].clone();
    assert!(
        output
            .as_str()
            .is_some_and(|o| o.contains("Garden") && o.ends_with(".zip")),
        "{output}"
    );
    browser.screenshot(&shots.join("status-page-1280.png"));

    // Phone width: everything fits, nothing scrolls sideways.
    browser.set_viewport(390, 844, true);
    let fits = browser.wait_until(FITS, Duration::from_secs(5));
    assert!(fits.is_some(), "no horizontal scrolling at 390 px");
    browser.screenshot(&shots.join("status-page-phone.png"));
    browser.set_viewport(1280, 800, false);

    // haul stops: the page says so. haul starts again: the page comes back by itself.
    assert!(daemon.terminate(), "the daemon stops cleanly");
    let down = browser.wait_until(
        "!document.getElementById('offline').hidden && document.getElementById('conn').dataset.state === 'down'",
        WAIT,
    );
    assert!(down.is_some(), "the page shows that haul is not running");
    browser.screenshot(&shots.join("offline-1280.png"));
    let daemon = DaemonProcess::start(&home).await;
    let back = browser.wait_until(
        &format!(
            "document.getElementById('offline').hidden && document.getElementById('conn').dataset.state === 'live' && {JOB_STATE} === 'complete'"
        ),
        WAIT,
    );
    assert!(back.is_some(), "the page reconnects after the restart");

    // The package is deleted by hand: the page says so by itself, with the journal's note.
    std::fs::remove_file(output.as_str().unwrap_or_default()).expect("delete the package");
    let noted = browser.wait_until(
        "(document.querySelector('.job .meta')?.textContent ?? '').includes('Deleted from the output folder') \
            && document.querySelector('.job .act-open').hidden",
        Duration::from_secs(10),
    );
    assert!(
        noted.is_some(),
        "the page shows the package as deleted: {}",
        browser.eval("document.querySelector('.job .meta')?.textContent ?? ''")
    );

    // The form's choice of what to save: only the main picture of the next links.
    let side_hits = server.hits("/shop/chair-side.jpg");
    browser.eval("document.querySelector('.add').open = true");
    browser.type_into(
        "#add-urls",
        &format!(
            "{} {}",
            server.url("/shop/chair-main.png"),
            server.url("/shop/chair-side.jpg")
        ),
    );
    browser.type_into("#add-name", "Only the main picture");
    browser.click("#add-roles input[value=gallery]");
    browser.click("#add-form button[type=submit]");
    let only_main = browser.wait_until(
        &format!(
            "(document.querySelector('.job .label')?.textContent ?? '').includes('Only the main') && {JOB_STATE} === 'complete'"
        ),
        WAIT,
    );
    assert!(only_main.is_some(), "the second job ends complete");
    let newest = api.get("/api/v1/jobs?limit=1").await.json()["jobs"][0].clone();
    assert_eq!(
        newest["total"], 1,
        "only the main picture was planned: {newest}"
    );
    assert_eq!(
        server.hits("/shop/chair-side.jpg"),
        side_hits,
        "the left-out picture was not downloaded"
    );

    let errors = browser.page_errors();
    assert!(
        errors.is_empty(),
        "the page ran without errors: {errors:#?}"
    );
    assert!(daemon.terminate());
    eprintln!("status page screenshots: {}", shots.display());
}

/// JavaScript, axe-style: the page's problems for a screen reader or a keyboard — a visible
/// control or group with no accessible name, an image with no `alt`, two elements with one id.
const ACCESSIBILITY_PROBLEMS: &str = r#"(() => {
  const problems = [];
  const shown = (e) => !e.closest('[hidden]') && e.getClientRects().length > 0;
  const nameOf = (e) => {
    if (e.getAttribute('aria-label')) return e.getAttribute('aria-label');
    const by = e.getAttribute('aria-labelledby');
    if (by) return by.split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent || '').join(' ');
    if (e.labels && e.labels.length) return [...e.labels].map((l) => l.textContent).join(' ');
    return e.textContent;
  };
  const controls = 'button, a[href], input, select, textarea, summary, [role=group], [role=progressbar]';
  for (const e of document.querySelectorAll(controls)) {
    if (shown(e) && !(nameOf(e) || '').trim()) problems.push(`no accessible name: ${e.outerHTML.slice(0, 90)}`);
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push(`no alt: ${img.outerHTML.slice(0, 90)}`);
  }
  const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
  for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`id used twice: ${id}`);
  return problems;
})()"#;

/// A product page grabbed through the API: its job shows the price (in the reader's way of
/// writing money) and availability beside its name; every control has a name a screen reader
/// says; the job's own Export menu downloads exactly what the API serves, and the group bar
/// downloads the ticked jobs as one workbook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_what_a_product_costs_and_exports_jobs() {
    let Some(mut browser) = Browser::launch_or_skip("status_page export") else {
        return;
    };
    let shots = target_dir().join("status-page");
    let downloads = tempfile::tempdir().expect("a download folder");
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    for (path, seed) in [("/shop/kettle-1.jpg", 1), ("/shop/kettle-2.jpg", 2)] {
        server.add(
            path,
            Route::ok(images::jpeg_with_metadata(320, 240, seed), "image/jpeg"),
        );
    }
    let home = TestHome::new(&ca, "open_command = [\"true\"]\n");
    let daemon = DaemonProcess::start(&home).await;
    let api = StatusClient::of(&home).await;
    let (one, two) = (
        server.url("/shop/kettle-1.jpg"),
        server.url("/shop/kettle-2.jpg"),
    );
    let page = format!(
        r#"<!doctype html><html lang="en"><head><title>Copper Kettle | Shop</title>
        <script type="application/ld+json">{{"@context":"https://schema.org","@type":"Product",
          "name":"Copper Kettle","sku":"KET-1","brand":"Hearth","image":["{one}","{two}"],
          "offers":{{"@type":"Offer","price":"1299.00","priceCurrency":"EUR",
          "availability":"https://schema.org/InStock"}}}}</script></head><body>
        <div class="gallery"><img src="{one}" alt="Copper Kettle"><img src="{two}" alt="Copper Kettle"></div>
        <h1>Copper Kettle</h1></body></html>"#
    );
    let mut jobs = Vec::new();
    for body in [
        serde_json::json!({"page": {"url": "https://shop.test/products/kettle", "html": page}}),
        serde_json::json!({"urls": [one.clone()], "name": "Loose picture"}),
    ] {
        let job = api.create_job(body).await;
        api.wait_until_ended(job, WAIT).await;
        jobs.push(job);
    }
    let (kettle, loose) = (jobs[0], jobs[1]);

    browser.open(&one_time_link(&home).await, 1280, 900);
    browser.allow_downloads(downloads.path());
    let kettle_el = format!("document.querySelector('.job[data-job=\"{kettle}\"]')");
    let shown = browser.wait_until(
        &format!("{kettle_el} && !{kettle_el}.querySelector('.product-facts').hidden"),
        WAIT,
    );
    assert!(shown.is_some(), "the kettle's price shows");
    let facts = browser.eval(&format!(
        "[{kettle_el}.querySelector('.label').textContent, \
          {kettle_el}.querySelector('.product-facts .price').textContent, \
          new Intl.NumberFormat(undefined, {{style: 'currency', currency: 'EUR'}}).format(1299), \
          {kettle_el}.querySelector('.product-facts .price').title, \
          {kettle_el}.querySelector('.product-facts .availability').textContent, \
          {kettle_el}.querySelector('.product-facts').innerText]"
    ));
    assert_eq!(facts[0], "Copper Kettle");
    assert_eq!(facts[1], facts[2], "the price as the reader writes money");
    assert!(
        facts[1].as_str().is_some_and(|p| p.contains("1,299.00")
            || p.contains("1.299,00")
            || p.contains("1 299,00")),
        "{facts}"
    );
    assert_eq!(facts[3], "1299.00 EUR");
    assert_eq!(facts[4], "In stock");
    let loose_facts = browser.eval(&format!(
        "document.querySelector('.job[data-job=\"{loose}\"] .product-facts').hidden"
    ));
    assert_eq!(loose_facts, true, "a list of links states no price");
    let problems = browser.eval(ACCESSIBILITY_PROBLEMS);
    assert_eq!(problems, serde_json::json!([]), "accessibility");
    browser.screenshot(&shots.join("product-facts-1280.png"));

    // One job's own menu: Shopify CSV.
    browser.click(&format!(".job[data-job=\"{kettle}\"] .export summary"));
    browser.click(&format!(
        ".job[data-job=\"{kettle}\"] .export-menu button[data-format=shopify]"
    ));
    let file = downloads.path().join(format!("haul-shopify-{kettle}.csv"));
    let got =
        haul_tests::wait_for(WAIT, || std::fs::read(&file).ok().filter(|b| !b.is_empty())).await;
    let served = api
        .get(&format!("/api/v1/export?jobs={kettle}&format=shopify"))
        .await;
    assert_eq!(
        got.as_deref(),
        Some(served.body.as_ref()),
        "the download is the API's export"
    );
    let csv = String::from_utf8_lossy(served.body.as_ref()).into_owned();
    assert!(
        csv.contains("Copper Kettle") && csv.contains("1299.00") && csv.contains(&one),
        "{csv}"
    );

    // The group bar: both jobs, ticked together, as one workbook.
    browser.click("#select-all");
    let count = browser.eval("document.getElementById('bulk-count').textContent");
    assert_eq!(count, "2 of 2 finished selected");
    browser.eval("document.getElementById('bulk-format').value = 'xlsx'");
    browser.click("#bulk-export");
    let book = downloads
        .path()
        .join(format!("haul-xlsx-{kettle}-{loose}.xlsx"));
    let got =
        haul_tests::wait_for(WAIT, || std::fs::read(&book).ok().filter(|b| !b.is_empty())).await;
    let got = got.expect("the workbook was downloaded");
    use calamine::Reader as _;
    let mut workbook: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(got)).expect("an xlsx workbook");
    let range = workbook.worksheet_range("Products").expect("its sheet");
    let name = haul::export::plain::HEADER
        .iter()
        .position(|h| *h == "name")
        .expect("a name column");
    let names: Vec<String> = range.rows().skip(1).map(|r| r[name].to_string()).collect();
    assert_eq!(names, ["Copper Kettle", "Loose picture"], "oldest first");
    let toast = browser.eval("document.getElementById('toast').textContent");
    assert_eq!(toast, "Exported 2 products as Excel workbook.");
    assert_eq!(browser.eval(ACCESSIBILITY_PROBLEMS), serde_json::json!([]));

    let errors = browser.page_errors();
    assert!(
        errors.is_empty(),
        "the page ran without errors: {errors:#?}"
    );
    assert!(daemon.terminate());
}

/// The desktop and phone sizes every state of the page is looked at in.
const WIDTHS: [(u32, u32, bool); 2] = [(1280, 800, false), (390, 844, true)];

/// JavaScript: no horizontal scrolling.
const FITS: &str = "document.documentElement.scrollWidth <= window.innerWidth";

/// JavaScript: the first job's title has most of its card's width (not a column of syllables
/// beside the badge).
const TITLE_HAS_ROOM: &str = "(() => { const job = document.querySelector('.job'); \
    const label = job.querySelector('.label'); const style = getComputedStyle(job); \
    const inner = job.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight); \
    return label.getBoundingClientRect().width >= 0.6 * inner; })()";

/// Looks at the page as it is now at each width: scrolled to the top, it fits, `check` (a
/// JavaScript expression) holds, axe-core finds no serious violation; a screenshot
/// `<state>-<width>.png` is kept in `shots`.
fn look(browser: &mut Browser, shots: &std::path::Path, state: &str, check: &str) {
    for (width, height, mobile) in WIDTHS {
        browser.set_viewport(width, height, mobile);
        browser.eval("window.scrollTo(0, 0); true");
        let held = browser
            .wait_until(&format!("({FITS}) && ({check})"), Duration::from_secs(10))
            .is_some();
        browser.screenshot(&shots.join(format!("{state}-{width}.png")));
        assert!(
            held,
            "{state} at {width} px (see its screenshot): fits {} · {check} {}",
            browser.eval(FITS),
            browser.eval(check)
        );
        if let Some(violations) = haul_tests::axe::serious_violations(browser, "the status page") {
            assert!(
                violations.is_empty(),
                "{state} at {width} px: {violations:#?}"
            );
        }
    }
    browser.set_viewport(1280, 800, false);
}

/// What needs attention comes first, at desktop and phone width, in every state — empty,
/// running, failed, a seller's folder: a running product is titled by its name as soon as its
/// page is read; a failed file is on the first screen above the saved files, which fold when
/// the job ends; a seller folder's job shows what its `skus.csv` refused and which photo is too
/// small, and each picture's SKU and slot; a desktop that cannot open a package says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_puts_what_needs_attention_first_at_desktop_and_phone_width() {
    let Some(mut browser) = Browser::launch_or_skip("status_page attention") else {
        return;
    };
    let shots = target_dir().join("status-page");
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    let home = TestHome::new(
        &ca,
        &format!(
            "status_port = {}\nopen_command = [\"false\"]\ninbox_settle_ms = 200\n",
            free_port()
        ),
    );
    let daemon = DaemonProcess::start(&home).await;
    let api = StatusClient::of(&home).await;
    browser.open(&one_time_link(&home).await, 1280, 800);

    // Empty: how to start, the form to save links above the list.
    assert!(
        browser
            .wait_until("!document.getElementById('empty').hidden", WAIT)
            .is_some()
    );
    let form_first = "document.querySelector('.add').getBoundingClientRect().top \
        < document.getElementById('jobs-title').getBoundingClientRect().top";
    look(&mut browser, &shots, "empty", form_first);

    // Running: a product page's job is titled by the product as soon as its page is read.
    let lamp = "Brass desk lamp with a linen shade and a dimmer, large";
    let slow: Vec<String> = (0..3)
        .map(|i| {
            let path = format!("/shop/lamp-{i}.jpg");
            let body = images::jpeg_with_metadata(640, 480, 20 + i);
            server.add(
                &path,
                Route::ok(body.clone(), "image/jpeg").with(Behavior::Slow {
                    chunk: body.len() / 20,
                    every: Duration::from_millis(150),
                }),
            );
            server.url(&path)
        })
        .collect();
    let images_json = serde_json::to_string(&slow).unwrap();
    let page = format!(
        r#"<!doctype html><html lang="en"><head><title>lamp-page.html</title>
        <script type="application/ld+json">{{"@context":"https://schema.org","@type":"Product",
          "name":"{lamp}","image":{images_json}}}</script></head>
        <body><h1>{lamp}</h1><img src="{first}" alt=""></body></html>"#,
        first = slow[0]
    );
    let running = api
        .create_job(serde_json::json!({"page": {"url": "https://shop.test/p/lamp", "html": page}}))
        .await;
    let titled = browser.wait_until(
        &format!(
            "{JOB_STATE} === 'running' && document.querySelector('.job .label').textContent === {}",
            serde_json::to_string(lamp).unwrap()
        ),
        WAIT,
    );
    assert!(
        titled.is_some(),
        "the running job is titled by its product: {}",
        browser.eval("document.querySelector('.job .label')?.textContent ?? ''")
    );
    look(&mut browser, &shots, "running", TITLE_HAS_ROOM);
    api.wait_until_ended(running, WAIT).await;

    // Failed: one missing picture among 24 saved ones is on the first screen, at both widths.
    let mut urls: Vec<String> = (0..24u8)
        .map(|i| {
            let path = format!("/shop/chair-{i}.jpg");
            server.add(
                &path,
                Route::ok(images::jpeg_with_metadata(400, 300, 40 + i), "image/jpeg"),
            );
            server.url(&path)
        })
        .collect();
    urls.push(server.url("/shop/chair-missing.jpg"));
    let chair = api
        .create_job(serde_json::json!({
            "urls": urls, "name": "Garden chair in weatherproof teak, set of two with cushions"
        }))
        .await;
    api.wait_until_ended(chair, WAIT).await;
    let failed_first = "(() => { const f = document.querySelector('.job .attention-items .item[data-state=failed] .item-reason'); \
        return !!f && f.getBoundingClientRect().bottom <= window.innerHeight \
          && document.querySelector('.job .items').hidden; })()";
    assert!(
        browser
            .wait_until(&format!("{JOB_STATE} === 'partial'"), WAIT)
            .is_some()
    );
    look(
        &mut browser,
        &shots,
        "failed",
        &format!("({failed_first}) && ({TITLE_HAS_ROOM})"),
    );
    // The saved pictures are one click away.
    browser.click(".job .act-toggle");
    assert!(
        browser
            .wait_until(&format!("{THUMBS_LOADED} >= 24"), WAIT)
            .is_some(),
        "the folded thumbnails open"
    );
    // The desktop cannot open the package here (open_command is `false`): the page says so.
    browser.click(".job .act-open");
    let said = browser.wait_until(
        "!document.getElementById('toast').hidden && document.getElementById('toast').textContent.includes('did not open')",
        Duration::from_secs(10),
    );
    assert!(
        said.is_some(),
        "a failed Open is shown: {}",
        browser.eval("document.getElementById('toast').textContent")
    );

    // A seller's folder: one refused row, a photo not listed, a photo too small for Amazon.
    let staging = tempfile::tempdir_in(home.root()).unwrap();
    let folder = staging.path().join("lamp-photos");
    std::fs::create_dir(&folder).unwrap();
    for (name, size, seed) in [
        ("front.jpg", 1200, 61),
        ("side.jpg", 600, 62),
        ("back.jpg", 1100, 63),
        ("unlisted.jpg", 1100, 64),
    ] {
        std::fs::write(
            folder.join(name),
            images::jpeg_with_metadata(size, size, seed),
        )
        .unwrap();
    }
    std::fs::write(
        folder.join("skus.csv"),
        "file,sku,slot\nfront.jpg,B0SELLER1,MAIN\nside.jpg,B0SELLER1,PT01\nback.jpg,not a sku!,PT02\n",
    )
    .unwrap();
    let inbox = home.config().inbox_dir(&home.paths);
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::rename(&folder, inbox.join("lamp-photos")).unwrap();
    let noted = browser.wait_until(
        "(() => { const n = document.querySelector('.job .job-notes'); \
           return n && !n.hidden && document.querySelector('.job').dataset.state !== 'running' \
             && n.textContent.includes('lamp-photos') && n.textContent.includes('unlisted.jpg: not listed in skus.csv') \
             && n.textContent.includes('back.jpg: left out, because its row in skus.csv (line 4)') \
             && n.textContent.includes('line 4') && n.textContent.includes('1000'); })()",
        WAIT,
    );
    assert!(
        noted.is_some(),
        "the seller folder's notes are on its card: {}",
        browser.eval("document.querySelector('.job .job-notes')?.innerText ?? ''")
    );
    browser.click(".job .act-toggle");
    let entries = browser.wait_until(
        "(() => { const e = [...document.querySelectorAll('.job:first-child .item-entry')].map((p) => p.textContent); \
           return e.includes('B0SELLER1.MAIN.jpg') && e.includes('B0SELLER1.PT01.jpg') ? e : null; })()",
        WAIT,
    );
    assert!(
        entries.is_some(),
        "each picture shows its SKU and slot: {}",
        browser.eval("[...document.querySelectorAll('.job:first-child .item-entry')].map((p) => p.textContent)")
    );
    look(&mut browser, &shots, "seller-folder", TITLE_HAS_ROOM);

    let errors = browser.page_errors();
    assert!(
        errors.is_empty(),
        "the page ran without errors: {errors:#?}"
    );
    assert!(daemon.terminate());
    eprintln!("status page screenshots: {}", shots.display());
}
