//! Exports through the real daemon and the local HTTPS media server. An authored variant product
//! page — a JSON-LD `ProductGroup` of three variants (two colours, two sizes), each with its
//! own offer and picture, the form a shop's structured data takes — is grabbed, then exported:
//! `haul export` in every format, with the daemon running and after it stopped, checked against
//! the package's own `manifest.json`; `GET /api/v1/export` (what the status page's export
//! buttons fetch) gives the same bytes; an inbox file's jobs make one sheet; and each refusal
//! (unknown job, job still running, a place that cannot be written) says what to do.

use std::collections::HashMap;
use std::time::Duration;

use calamine::{Data, Reader, Xlsx};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{DaemonProcess, InProcessDaemon, run_haul, status_jobs};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{Behavior, MediaServer, Route};
use haul_tests::status_client::StatusClient;
use haul_tests::wait_for;
use haul_tests::zipfile::{manifest, read_zip};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(60);

/// Where the authored page says it lives.
const PAGE_URL: &str = "https://shop.test/products/linen-tee";

/// The pictures of the page: path, seed.
const PICTURES: [(&str, u8); 4] = [
    ("/p/tee-main.jpg", 1),
    ("/p/tee-back.jpg", 2),
    ("/p/tee-sand.jpg", 3),
    ("/p/tee-moss.jpg", 4),
];

fn serve_tee(server: &MediaServer) {
    for (path, seed) in PICTURES {
        server.add(
            path,
            Route::ok(images::jpeg_with_metadata(64, 48, seed), "image/jpeg"),
        );
    }
}

/// The variant product page, its pictures on `server`. Its JSON-LD is the product's data, as a
/// shop's page carries it; the visible price is what a reader sees.
fn tee_page(server: &MediaServer) -> String {
    let [main, back, sand, moss] = PICTURES.map(|(path, _)| server.url(path));
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Linen Tee | Northwind Goods</title>
<link rel="canonical" href="{PAGE_URL}">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"ProductGroup",
 "name":"Linen Tee","brand":{{"@type":"Brand","name":"Northwind"}},"productGroupID":"TEE",
 "description":"A loose tee of washed linen, cut long.",
 "variesBy":["https://schema.org/color","https://schema.org/size"],
 "image":["{main}","{back}"],
 "hasVariant":[
  {{"@type":"Product","sku":"TEE-SAND-M","name":"Linen Tee Sand M","color":"Sand","size":"M",
   "image":"{sand}","offers":{{"@type":"Offer","price":"39.00","priceCurrency":"EUR",
   "availability":"https://schema.org/InStock"}}}},
  {{"@type":"Product","sku":"TEE-SAND-L","name":"Linen Tee Sand L","color":"Sand","size":"L",
   "image":"{sand}","offers":{{"@type":"Offer","price":"39.00","priceCurrency":"EUR",
   "availability":"https://schema.org/OutOfStock"}}}},
  {{"@type":"Product","sku":"TEE-MOSS-M","name":"Linen Tee Moss M","color":"Moss","size":"M",
   "image":"{moss}","offers":{{"@type":"Offer","price":"42.00","priceCurrency":"EUR",
   "availability":"https://schema.org/BackOrder"}}}}
 ]}}</script></head><body><main>
<div class="gallery"><img src="{main}" alt="Linen Tee"><img src="{back}" alt="Linen Tee"></div>
<h1>Linen Tee</h1><p class="price">€39.00</p>
<form><button>Add to basket</button></form></main></body></html>"#
    )
}

/// A CSV as its header and rows.
fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("a row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Looks cells up by column name.
struct Sheet {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Sheet {
    fn of(bytes: &[u8]) -> Sheet {
        let (header, rows) = read_csv(bytes);
        Sheet { header, rows }
    }

    fn cell(&self, row: usize, column: &str) -> &str {
        let at = self
            .header
            .iter()
            .position(|h| h == column)
            .unwrap_or_else(|| panic!("no column {column:?} in {:?}", self.header));
        &self.rows[row][at]
    }

    fn column(&self, column: &str) -> Vec<&str> {
        (0..self.rows.len()).map(|r| self.cell(r, column)).collect()
    }
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "haul failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `haul` failed with exit code 1 and said `what` (and `fix`) on stderr.
fn refused(out: &std::process::Output, what: &str, fix: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(what) && stderr.contains(fix),
        "expected {what:?} and {fix:?} in: {stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing written on a refusal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grabbed_variant_product_exports_in_every_format_with_or_without_the_daemon() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    serve_tee(&server);
    let home = TestHome::new(&ca, "");
    let page = home.root().join("linen-tee.html");
    std::fs::write(&page, tee_page(&server)).unwrap();
    let daemon = DaemonProcess::start(&home).await;

    let page_arg = page.display().to_string();
    ok(&run_haul(&home, &["grab", &page_arg, "--url", PAGE_URL]).await);
    let jobs = status_jobs(&home).await;
    let job = jobs[0]["job"].as_u64().expect("a job id").to_string();
    assert_eq!(
        jobs[0]["product"],
        json!({"name": "Linen Tee", "price": "39.00", "currency": "EUR", "availability": "InStock"}),
        "haul status --json says what the product costs"
    );
    let package = home.outputs().pop().expect("the package");
    // What the package calls each picture, by its address.
    let names: HashMap<String, String> = manifest(&read_zip(&package))["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["url"].as_str().unwrap().to_string(),
                f["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    let [main, back, sand, moss] = PICTURES.map(|(path, _)| server.url(path));

    let exports = home.root().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let export = |format: &str, ext: &str| {
        let out = exports.join(format!("tee-{format}.{ext}"));
        (out.clone(), format.to_string(), out.display().to_string())
    };
    let mut written: HashMap<String, Vec<u8>> = HashMap::new();
    for (format, ext) in [
        ("shopify", "csv"),
        ("woocommerce", "csv"),
        ("csv", "csv"),
        ("xlsx", "xlsx"),
    ] {
        let (path, format, arg) = export(format, ext);
        let stdout =
            ok(&run_haul(&home, &["export", &job, "--format", &format, "--out", &arg]).await);
        assert_eq!(
            stdout.trim(),
            format!("1 product exported ({format}): {arg}")
        );
        written.insert(format, std::fs::read(&path).expect("the export"));
    }

    // Shopify: a row per variant and per further picture, one handle, pictures at their
    // addresses with the package's names beside them.
    let shopify = Sheet::of(&written["shopify"]);
    assert_eq!(shopify.rows.len(), 4, "3 variants, 4 pictures");
    assert_eq!(shopify.column("URL handle"), ["linen-tee"; 4]);
    assert_eq!(shopify.cell(0, "Title"), "Linen Tee");
    assert_eq!(shopify.cell(0, "Vendor"), "Northwind");
    assert_eq!(shopify.cell(0, "Status"), "draft");
    assert_eq!(
        [
            shopify.cell(0, "Option1 name"),
            shopify.cell(0, "Option2 name")
        ],
        ["color", "size"]
    );
    assert_eq!(
        shopify.column("SKU"),
        ["TEE-SAND-M", "TEE-SAND-L", "TEE-MOSS-M", ""]
    );
    assert_eq!(shopify.column("Price"), ["39.00", "39.00", "42.00", ""]);
    assert_eq!(
        shopify.column("Continue selling when out of stock"),
        ["deny", "deny", "continue", ""]
    );
    assert_eq!(
        shopify.column("Variant image URL"),
        [sand.as_str(), sand.as_str(), moss.as_str(), ""]
    );
    assert_eq!(
        shopify.column("Product image URL"),
        [main.as_str(), back.as_str(), sand.as_str(), moss.as_str()]
    );
    assert_eq!(shopify.column("Image position"), ["1", "2", "3", "4"]);
    for r in 0..4 {
        let url = shopify.cell(r, "Product image URL");
        assert_eq!(
            shopify.cell(r, "Product image file (haul)"),
            names[url],
            "the package's own name for {url}"
        );
    }
    assert_eq!(shopify.cell(0, "Variant image file (haul)"), names[&sand]);

    // WooCommerce: the variable product, then its variations pointing at it.
    let woo = Sheet::of(&written["woocommerce"]);
    assert_eq!(
        woo.column("Type"),
        ["variable", "variation", "variation", "variation"]
    );
    let parent = woo.cell(0, "SKU").to_string();
    assert_eq!(parent, "TEE");
    assert_eq!(woo.column("Parent")[1..], [parent.as_str(); 3]);
    assert_eq!(woo.cell(0, "Attribute 1 value(s)"), "Sand, Moss");
    assert_eq!(woo.cell(0, "Attribute 2 value(s)"), "M, L");
    assert_eq!(woo.column("In stock?")[1..], ["1", "0", "backorder"]);
    assert_eq!(
        woo.column("Regular price")[1..],
        ["39.00", "39.00", "42.00"]
    );
    assert_eq!(
        woo.cell(0, "Images"),
        [main.as_str(), back.as_str(), sand.as_str(), moss.as_str()].join(", ")
    );
    assert_eq!(
        woo.cell(0, "Image files (haul)"),
        [&main, &back, &sand, &moss]
            .map(|u| names[u].as_str())
            .join(", ")
    );

    // Everything: the product row with every fact, a row per variant.
    let plain = Sheet::of(&written["csv"]);
    assert_eq!(
        plain.column("row"),
        ["product", "variant", "variant", "variant"]
    );
    assert_eq!(
        [
            plain.cell(0, "job"),
            plain.cell(0, "name"),
            plain.cell(0, "brand"),
            plain.cell(0, "price"),
            plain.cell(0, "currency"),
            plain.cell(0, "availability"),
            plain.cell(0, "page_url"),
            plain.cell(0, "description"),
        ],
        [
            job.as_str(),
            "Linen Tee",
            "Northwind",
            "39.00",
            "EUR",
            "InStock",
            PAGE_URL,
            "A loose tee of washed linen, cut long."
        ]
    );
    assert_eq!(plain.cell(0, "package"), package.display().to_string());
    let urls: Vec<&str> = plain.cell(0, "image_urls").lines().collect();
    let files: Vec<&str> = plain.cell(0, "image_files").lines().collect();
    assert_eq!(urls.len(), 4);
    assert_eq!(
        files,
        urls.iter().map(|u| names[*u].as_str()).collect::<Vec<_>>()
    );
    assert_eq!(plain.cell(3, "variant_attributes"), "color: Moss\nsize: M");
    assert_eq!(plain.cell(3, "availability"), "BackOrder");

    // The workbook opens and holds the same table.
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(written["xlsx"].clone())).expect("an xlsx workbook");
    let range = book
        .worksheet_range("Products")
        .expect("the Products sheet");
    assert_eq!(range.height(), 5, "header, product, three variants");
    let column = |name: &str| plain.header.iter().position(|h| h == name).unwrap();
    assert_eq!(
        range.get((1, column("name"))),
        Some(&Data::String("Linen Tee".into()))
    );
    assert_eq!(range.get((1, column("price"))), Some(&Data::Float(39.0)));
    assert_eq!(
        range.get((3, column("sku"))),
        Some(&Data::String("TEE-SAND-L".into()))
    );

    // To standard output, and into the output folder under a name that is never reused.
    let stdout = run_haul(&home, &["export", &job, "--format", "csv", "--out", "-"]).await;
    ok(&stdout);
    assert_eq!(stdout.stdout, written["csv"]);
    for expected in [
        format!("haul-shopify-{job}.csv"),
        format!("haul-shopify-{job} (2).csv"),
    ] {
        let said = ok(&run_haul(&home, &["export", &job, "--format", "shopify"]).await);
        let path = home.paths.output_dir.join(&expected);
        assert!(said.contains(&path.display().to_string()), "{said}");
        assert_eq!(std::fs::read(&path).unwrap(), written["shopify"]);
    }

    // The daemon stopped: the journal alone gives the same sheet.
    assert!(daemon.terminate(), "the daemon stops cleanly");
    let alone = run_haul(&home, &["export", &job, "--format", "csv", "--out", "-"]).await;
    ok(&alone);
    assert_eq!(
        alone.stdout, written["csv"],
        "the same with no daemon running"
    );

    // Refusals say what to do, and exit 1 like every other command's failure.
    refused(
        &run_haul(&home, &["export", "424242", "--format", "csv"]).await,
        "there is no job 424242",
        "haul status",
    );
    let nowhere = home.root().join("no-such-folder").join("tee.csv");
    refused(
        &run_haul(
            &home,
            &[
                "export",
                &job,
                "--format",
                "csv",
                "--out",
                &nowhere.display().to_string(),
            ],
        )
        .await,
        "does not exist",
        "--out",
    );
    assert!(!nowhere.exists());
    refused(
        &run_haul(&home, &["export", "--format", "csv"]).await,
        "name the jobs",
        "haul status",
    );
    refused(
        &run_haul(
            &home,
            &["export", "--inbox", "never-dropped.txt", "--format", "csv"],
        )
        .await,
        "never-dropped.txt",
        "haul status",
    );
}

/// `GET /api/v1/export` — the status page's export buttons — gives exactly what `haul export`
/// writes, as a download; several jobs, one with no facts at all, make one sheet; a running
/// job is refused with `409 not_finished` by the API and by the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_api_exports_ended_jobs_as_downloads() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    serve_tee(&server);
    let big = images::jpeg_with_metadata(400, 300, 9);
    server.add(
        "/p/slow.jpg",
        Route::ok(big.clone(), "image/jpeg").with(Behavior::Slow {
            chunk: 64,
            every: Duration::from_millis(200),
        }),
    );
    let home = TestHome::new(&ca, "");
    let daemon = InProcessDaemon::start(&home).await;
    let api = StatusClient::of(&home).await;

    let tee = api
        .create_job(json!({"page": {"url": PAGE_URL, "html": tee_page(&server)}}))
        .await;
    let links = api
        .create_job(json!({"urls": [server.url("/p/tee-back.jpg")], "name": "loose"}))
        .await;
    api.wait_until_ended(tee, DEADLINE).await;
    api.wait_until_ended(links, DEADLINE).await;

    // The list and the detail say what the product is and costs.
    let list = api.get("/api/v1/jobs").await.json();
    let listed = |job: u64| {
        list["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["job"] == job)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        listed(tee)["product"],
        json!({"name": "Linen Tee", "price": "39.00", "currency": "EUR", "availability": "InStock"})
    );
    assert_eq!(
        listed(links)["product"],
        Value::Null,
        "a list of links says nothing"
    );
    let detail = api.get(&format!("/api/v1/jobs/{tee}")).await.json();
    assert_eq!(detail["product"]["price"], "39.00");
    assert_eq!(detail["facts"]["brand"], "Northwind");
    assert_eq!(
        detail["facts"]["variants"].as_array().map(Vec::len),
        Some(3)
    );

    // A download of exactly what the CLI writes.
    for (format, content_type) in [
        ("shopify", "text/csv; charset=utf-8"),
        ("woocommerce", "text/csv; charset=utf-8"),
        ("csv", "text/csv; charset=utf-8"),
        (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ] {
        let answer = api
            .get(&format!(
                "/api/v1/export?jobs={tee},{links}&format={format}"
            ))
            .await;
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(answer.header("content-type"), Some(content_type));
        let ext = if format == "xlsx" { "xlsx" } else { "csv" };
        assert_eq!(
            answer.header("content-disposition"),
            Some(format!("attachment; filename=\"haul-{format}-{tee}-{links}.{ext}\"").as_str())
        );
        let jobs = format!("{tee},{links}");
        let (a, b) = (tee.to_string(), links.to_string());
        let cli = run_haul(&home, &["export", &a, &b, "--format", format, "--out", "-"]).await;
        ok(&cli);
        if format == "xlsx" {
            // Workbooks carry their time of writing: compare what they hold.
            let cells = |bytes: Vec<u8>| {
                let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
                book.worksheet_range("Products")
                    .unwrap()
                    .cells()
                    .map(|(r, c, d)| (r, c, d.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(cells(answer.body.to_vec()), cells(cli.stdout), "{jobs}");
        } else {
            assert_eq!(
                answer.body.as_ref(),
                cli.stdout.as_slice(),
                "{format} of {jobs}"
            );
        }
    }
    let both = Sheet::of(
        &api.get(&format!("/api/v1/export?jobs={tee},{links}&format=csv"))
            .await
            .body,
    );
    assert_eq!(
        both.column("row"),
        ["product", "variant", "variant", "variant", "product"]
    );
    assert_eq!(
        both.cell(4, "name"),
        "loose",
        "no facts: its name and picture"
    );
    assert_eq!(both.cell(4, "image_urls"), server.url("/p/tee-back.jpg"));
    assert_eq!(both.cell(4, "image_files"), "01-main.jpg");

    // Refusals.
    for (query, status, code) in [
        (format!("jobs={tee}&format=pdf"), 400, "bad_request"),
        ("jobs=abc&format=csv".to_string(), 400, "bad_request"),
        ("jobs=&format=csv".to_string(), 400, "bad_request"),
        ("format=csv".to_string(), 400, "bad_request"),
        (format!("jobs={tee},424242&format=csv"), 404, "not_found"),
    ] {
        let answer = api.get(&format!("/api/v1/export?{query}")).await;
        assert_eq!(
            (answer.status, answer.code()),
            (status, code.to_string()),
            "{query}"
        );
    }
    let slow = api
        .create_job(json!({"urls": [server.url("/p/slow.jpg")], "name": "slow"}))
        .await;
    api.wait_for_job(slow, DEADLINE, |d| d["state"] == "running")
        .await;
    let running = api
        .get(&format!("/api/v1/export?jobs={slow}&format=shopify"))
        .await;
    assert_eq!(
        (running.status, running.code().as_str()),
        (409, "not_finished")
    );
    assert!(
        running.json()["message"]
            .as_str()
            .unwrap()
            .contains(&format!("job {slow} is still running"))
    );
    refused(
        &run_haul(&home, &["export", &slow.to_string(), "--format", "shopify"]).await,
        &format!("job {slow} is still running"),
        "once it has ended",
    );
    let cancel = api
        .change("POST", &format!("/api/v1/jobs/{slow}/cancel"), None)
        .await;
    assert_eq!(cancel.status, 202);
    api.wait_until_ended(slow, DEADLINE).await;
    daemon.stop().await;
}

/// The jobs an inbox file made export as one sheet, by the file's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_files_jobs_export_as_one_sheet() {
    let ca = TestCa::new();
    let server = MediaServer::start(&ca).await;
    serve_tee(&server);
    server.add(
        "/shop/linen-tee.html",
        Route::ok(tee_page(&server), "text/html; charset=utf-8"),
    );
    server.add(
        "/shop/lamp.html",
        Route::ok(
            format!(
                r#"<!doctype html><html><head><title>Brass Lamp | Shop</title>
                <script type="application/ld+json">{{"@type":"Product","name":"Brass Lamp",
                "sku":"LAMP9","image":"{a}","offers":{{"@type":"Offer","price":"120.00",
                "priceCurrency":"USD","availability":"https://schema.org/PreOrder"}}}}</script>
                </head><body><div class="gallery"><img src="{a}" alt="Brass Lamp"></div>
                <h1>Brass Lamp</h1></body></html>"#,
                a = server.url("/p/tee-back.jpg")
            ),
            "text/html; charset=utf-8",
        ),
    );
    let home = TestHome::new(&ca, "inbox_settle_ms = 300");
    let daemon = InProcessDaemon::start(&home).await;
    let inbox = home.paths.inbox_dir.clone();
    std::fs::create_dir_all(&inbox).unwrap();
    let list = format!(
        "{}\n{}\n",
        server.url("/shop/linen-tee.html"),
        server.url("/shop/lamp.html")
    );
    std::fs::write(inbox.join(".shop.txt.writing"), list).unwrap();
    std::fs::rename(inbox.join(".shop.txt.writing"), inbox.join("shop.txt")).unwrap();
    let done = wait_for(DEADLINE, || {
        inbox.join("done/shop.txt").exists().then_some(())
    })
    .await;
    assert!(done.is_some(), "shop.txt came back to inbox/done/");

    let out = run_haul(
        &home,
        &[
            "export", "--inbox", "shop.txt", "--format", "csv", "--out", "-",
        ],
    )
    .await;
    ok(&out);
    let sheet = Sheet::of(&out.stdout);
    let products: Vec<(&str, &str, &str)> = (0..sheet.rows.len())
        .filter(|r| sheet.cell(*r, "row") == "product")
        .map(|r| {
            (
                sheet.cell(r, "name"),
                sheet.cell(r, "price"),
                sheet.cell(r, "availability"),
            )
        })
        .collect();
    assert_eq!(
        products,
        [
            ("Linen Tee", "39.00", "InStock"),
            ("Brass Lamp", "120.00", "PreOrder")
        ],
        "both products of the file, in its order"
    );
    // The file in done/ names the same input.
    let by_path = run_haul(
        &home,
        &[
            "export",
            "--inbox",
            &inbox.join("done/shop.txt").display().to_string(),
            "--format",
            "csv",
            "--out",
            "-",
        ],
    )
    .await;
    assert_eq!(ok(&by_path).as_bytes(), out.stdout.as_slice());
    daemon.stop().await;
}
