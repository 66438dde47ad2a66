//! What leaves the machine during a job: every connection haul opens, and every header it sends.
//!
//! The page names its product's pictures on one CDN and, like any shop, also an analytics
//! script, a tracking pixel, an ad banner and an ad frame on other hosts. Every one of those
//! hosts is pinned (`[connect_to]`) to the one local HTTPS server, which records the server name
//! (TLS SNI) of every connection and every request's headers — so any connection haul made, to
//! whichever host, would be seen here. A job must connect only to the hosts of the media it
//! saves, and send no cookie, no referrer and nothing that tells who the user is.

use std::collections::BTreeSet;
use std::time::Duration;

use haul_protocol::message::{Grab, GrabOptions, JobState, Page};
use haul_tests::ca::TestCa;
use haul_tests::daemon::{InProcessDaemon, grab_and_wait};
use haul_tests::home::TestHome;
use haul_tests::images;
use haul_tests::media_server::{MediaServer, Route};
use haul_tests::zipfile::{manifest, read_zip, saved_urls};

const HOSTS: [&str; 4] = ["shop.test", "cdn.test", "tracker.test", "ads.test"];

/// Headers a download may carry: what HTTP needs, resuming, and haul's own product name.
const ALLOWED_HEADERS: [&str; 6] = [
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
    "range",
    "if-range",
];

const PAGE: &str = r#"<!doctype html><html><head><title>Oak chair | Shop</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product",
"name":"Oak chair","sku":"OAK-1","image":["https://cdn.test/img/oak-chair-1.jpg",
"https://cdn.test/img/oak-chair-2.jpg"],"offers":{"@type":"Offer","price":"99.00",
"priceCurrency":"EUR","availability":"https://schema.org/InStock"}}</script>
<script src="https://tracker.test/analytics.js"></script>
<link rel="stylesheet" href="https://ads.test/ads.css">
</head><body>
<header><a href="/"><img src="https://ads.test/logo-partner.png" alt="partner"></a></header>
<main><h1>Oak chair</h1>
<div class="gallery"><img src="https://cdn.test/img/oak-chair-1.jpg" alt="Oak chair">
<img src="https://cdn.test/img/oak-chair-2.jpg" alt="Oak chair, side"></div>
<p class="price">99,00 €</p><button>Add to cart</button></main>
<aside><img src="https://ads.test/banner-728x90.jpg" width="728" height="90" alt="ad">
<iframe src="https://ads.test/frame.html"></iframe></aside>
<img src="https://tracker.test/pixel.gif?u=123" width="1" height="1" alt="">
</body></html>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_connects_only_to_its_media_hosts_and_sends_nothing_about_the_user() {
    let ca = TestCa::with_names(&HOSTS);
    let server = MediaServer::start(&ca).await;
    // Every address the page names answers, so a request to any of them would succeed.
    server.set_fallback(|path| {
        let seed = path.len() as u8;
        Route::ok(images::jpeg_with_metadata(200, 150, seed), "image/jpeg")
    });
    let port = server.addr.port();
    let pins: String = HOSTS
        .iter()
        .map(|h| format!("{h:?} = \"127.0.0.1:{port}\"\n"))
        .collect();
    let home = TestHome::new(
        &ca,
        &format!("allow_private_networks = false\n[connect_to]\n{pins}"),
    );
    let daemon = InProcessDaemon::start(&home).await;
    let grab = Grab {
        id: Some(serde_json::json!("p")),
        page: Some(Page {
            url: "https://shop.test/products/oak-chair".into(),
            title: Some("Oak chair".into()),
            html: Some(PAGE.into()),
        }),
        media: Vec::new(),
        options: GrabOptions::default(),
    };
    let (_, finished) = grab_and_wait(&home.paths, grab, Duration::from_secs(60)).await;
    assert_eq!(finished.status, JobState::Complete, "{finished:?}");
    let entries = read_zip(std::path::Path::new(finished.output.as_deref().unwrap()));
    let manifest = manifest(&entries);
    let saved = saved_urls(&manifest);
    assert_eq!(saved.len(), 2, "{saved:?}");
    let media_hosts: BTreeSet<String> = saved
        .iter()
        .filter_map(|u| url::Url::parse(u).ok()?.host_str().map(str::to_string))
        .collect();
    assert_eq!(media_hosts, BTreeSet::from(["cdn.test".to_string()]));

    // Connections: only to the media's hosts (the page was handed over, so not even the shop).
    let connected: BTreeSet<String> = server
        .connections()
        .into_iter()
        .map(|sni| sni.unwrap_or_else(|| "(no server name)".into()))
        .collect();
    assert_eq!(connected, media_hosts, "every connection the job opened");

    // Requests: only the saved media, with nothing about the user.
    let log = server.log();
    let asked: BTreeSet<String> = log
        .iter()
        .map(|l| format!("https://{}{}", l.host.clone().unwrap_or_default(), l.path))
        .map(|u| u.replace(&format!(":{port}"), ""))
        .collect();
    let saved: BTreeSet<String> = saved.iter().map(|u| u.to_string()).collect();
    assert_eq!(asked, saved, "every request is for a saved medium");
    for l in &log {
        assert_eq!(l.cookie, None, "{}: no cookie", l.path);
        assert_eq!(l.referer, None, "{}: no referrer", l.path);
        for name in &l.header_names {
            assert!(
                ALLOWED_HEADERS.contains(&name.as_str()),
                "{}: sent the header {name}",
                l.path
            );
        }
        let agent = l.user_agent.clone().unwrap_or_default();
        assert!(
            agent.starts_with("haul/") && !agent.contains(' '),
            "{}: the user agent names haul only: {agent}",
            l.path
        );
    }
    daemon.stop().await;
}
