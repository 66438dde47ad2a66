//! The extension stub as shipped: its id is the one haul allows, both manifests agree, the
//! content script runs on the product pages of exactly the sites in haul's registry (and only
//! there, by the browser's own match rule), other shops get the button only per shop and on
//! request, and the code makes no requests of its own.

use std::collections::BTreeSet;
use std::path::PathBuf;

use base64::Engine;
use haul::extract::match_pattern;
use haul_protocol::{DEV_EXTENSION_ID, FIREFOX_ADDON_ID, HOST_NAME};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("extension-stub")
}

fn json(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir().join(name)).unwrap()).unwrap()
}

fn text(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap()
}

#[test]
fn the_committed_key_gives_the_dev_extension_id() {
    let manifest = json("manifest.json");
    let key = manifest["key"].as_str().expect("manifest has a key");
    let der = base64::engine::general_purpose::STANDARD
        .decode(key)
        .expect("key is base64");
    let hash = Sha256::digest(&der);
    // First 32 hex digits, 0-9a-f mapped to a-p.
    let id: String = hash
        .iter()
        .take(16)
        .flat_map(|b| [b >> 4, b & 0xf])
        .map(|n| (b'a' + n) as char)
        .collect();
    assert_eq!(id, DEV_EXTENSION_ID);
    assert!(!text("manifest.json").contains("PRIVATE"), "no private key");
}

#[test]
fn chrome_and_firefox_manifests_agree() {
    let chrome = json("manifest.json");
    let firefox = json("manifest.firefox.json");
    for key in [
        "manifest_version",
        "name",
        "version",
        "description",
        "permissions",
        "host_permissions",
        "optional_host_permissions",
        "content_scripts",
        "action",
        "icons",
        "options_ui",
    ] {
        assert_eq!(chrome[key], firefox[key], "{key}");
    }
    assert_eq!(chrome["version"], haul_protocol::VERSION);
    assert_eq!(chrome["background"]["service_worker"], "background.js");
    assert_eq!(firefox["background"]["scripts"][0], "background.js");
    let gecko = &firefox["browser_specific_settings"]["gecko"];
    assert_eq!(gecko["id"], FIREFOX_ADDON_ID);
    // Firefox reads `optional_host_permissions` from 128 on (earlier ones ignore the key, so
    // the per-shop request could not be granted); from 127 on it grants the manifest's host
    // permissions and content-script matches at install, so product pages get the button
    // without a visit to the add-ons manager. 128 is also an ESR.
    assert_eq!(gecko["strict_min_version"], "128.0");
    assert!(firefox.get("key").is_none());
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn permissions_are_the_minimum() {
    let m = json("manifest.json");
    let mut perms = strings(&m["permissions"]);
    perms.sort();
    // notifications: "saved" when a grab ends; storage: the options page's choices. Neither
    // reaches the network.
    assert_eq!(
        perms,
        [
            "activeTab",
            "contextMenus",
            "nativeMessaging",
            "notifications",
            "scripting",
            "storage"
        ]
    );
    // Any other shop: the toolbar button and the context menu work through activeTab; the
    // button on a shop's pages is asked for per shop, when the user chooses it, never up front.
    assert_eq!(
        strings(&m["optional_host_permissions"]),
        ["https://*/*", "http://*/*"]
    );
    for p in strings(&m["host_permissions"]) {
        assert!(
            p.starts_with("https://*.") && p.ends_with("/*"),
            "{p} is a marketplace's origin"
        );
    }
}

/// `"key": [..]` as JSON to paste into both manifests.
fn paste(key: &str, values: &[String]) -> String {
    let list = serde_json::to_string_pretty(values).unwrap_or_default();
    format!("\"{key}\": {list}")
}

/// The manifests list exactly the product pages (content script) and origins (host
/// permissions) of haul's site registry, so a site added to haul gets the button and a site
/// removed loses it.
#[test]
fn the_manifests_list_exactly_the_registry_s_sites() {
    let sites = haul::extract::sites();
    let patterns: Vec<String> = sites.iter().flat_map(|s| s.patterns.clone()).collect();
    let origins: Vec<String> = sites.iter().flat_map(|s| s.origins.clone()).collect();
    for name in ["manifest.json", "manifest.firefox.json"] {
        let m = json(name);
        let scripts = m["content_scripts"].as_array().expect("content_scripts");
        assert_eq!(scripts.len(), 1, "{name}: one content script");
        let listed: BTreeSet<&str> = strings(&scripts[0]["matches"]).into_iter().collect();
        let wanted: BTreeSet<&str> = patterns.iter().map(String::as_str).collect();
        assert!(
            listed == wanted,
            "{name}: the content script's matches differ from haul's site registry \
             (haul::extract::sites)\n  missing: {:?}\n  not a site's: {:?}\nPaste this as the \
             content script's \"matches\" in both manifests:\n{}",
            wanted.difference(&listed).collect::<Vec<_>>(),
            listed.difference(&wanted).collect::<Vec<_>>(),
            paste("matches", &patterns)
        );
        let listed: BTreeSet<&str> = strings(&m["host_permissions"]).into_iter().collect();
        let wanted: BTreeSet<&str> = origins.iter().map(String::as_str).collect();
        assert!(
            listed == wanted,
            "{name}: host_permissions differ from haul's site registry (haul::extract::sites)\n  \
             missing: {:?}\n  not a site's: {:?}\nPaste this into both manifests:\n{}",
            wanted.difference(&listed).collect::<Vec<_>>(),
            listed.difference(&wanted).collect::<Vec<_>>(),
            paste("host_permissions", &origins)
        );
    }
}

/// Whether the manifest's content script runs on `url`, by the browser's rule.
fn covered(url: &str) -> bool {
    strings(&json("manifest.json")["content_scripts"][0]["matches"])
        .iter()
        .any(|p| match_pattern::matches(p, url))
}

#[test]
fn the_button_appears_on_every_supported_product_page() {
    for site in haul::extract::sites() {
        assert!(covered(site.example), "{}: {}", site.name, site.example);
    }
    let amazon = [
        "com", "co.uk", "de", "fr", "it", "es", "nl", "se", "pl", "com.tr", "ae", "sa", "in",
        "co.jp", "com.au", "sg", "ca", "com.mx", "com.br", "eg", "com.be",
    ];
    for tld in amazon {
        for path in [
            "/dp/B000TEST01",
            "/dp/B000TEST01?th=1",
            "/Some-Product-Title/dp/B000TEST01/ref=sr_1_1",
            "/gp/product/B000TEST01",
            // A product's reviews: its customers' photos.
            "/Some-Product-Title/product-reviews/B000TEST01?pageNumber=2",
        ] {
            let url = format!("https://www.amazon.{tld}{path}");
            assert!(covered(&url), "{url}");
        }
    }
    for url in [
        "https://www.aliexpress.com/item/1005001234567890.html",
        "https://de.aliexpress.com/item/1005001234567890.html",
        "https://www.aliexpress.us/item/3256801234567890.html",
        "https://aliexpress.ru/item/1005001234567890.html",
        "https://www.alibaba.com/product-detail/Some-Thing_1600123456789.html",
        "https://detail.1688.com/offer/123456789.html",
        "https://www.ebay.com/itm/123456789012",
        "https://www.ebay.co.uk/itm/Some-Title/123456789012?hash=item1",
        "https://www.ebay.de/p/12345678",
        "https://www.etsy.com/listing/1234567/brass-lamp",
        "https://www.etsy.com/de-en/listing/1234567/brass-lamp",
        "https://item.taobao.com/item.htm?spm=a1z10&id=562283240178",
        "https://detail.tmall.com/item.htm?id=605258110430&skuId=4241372909671",
        "https://detail.tmall.hk/hk/item.htm?id=605258110430",
        "https://item.jd.com/100121438395.html",
    ] {
        assert!(covered(url), "{url}");
    }
    for url in [
        "https://www.amazon.com/s?k=shoes",
        "https://www.amazon.com/",
        "https://www.aliexpress.com/category/100003109/women-clothing.html",
        "https://www.example.com/dp/B000TEST01",
        "https://www.amazon.com.evil.example/dp/B000TEST01",
        "https://s.1688.com/selloffer/offer_search.htm",
        "https://www.ebay.com/sch/i.html?_nkw=lamp",
        "https://www.etsy.com/shop/SomeShop",
        "https://shop.example/products/lamp",
        "https://s.taobao.com/search?q=keyboard",
        "https://list.tmall.com/search_product.htm?q=iphone",
        "https://www.jd.com/",
        "https://search.jd.com/Search?keyword=aircon",
    ] {
        assert!(!covered(url), "{url} must not get the button");
    }
}

/// Shop platforms' stores (Shopify, WooCommerce) live on their own domains: no match pattern
/// could list them, so the manifest shows them no button and asks for no access to them; the
/// toolbar button and "Show the haul button on this shop" (below) reach them, and haul reads
/// their pages with the platform's extractor (`haul::extract::platforms`).
#[test]
fn platform_stores_get_the_button_per_shop_not_from_the_manifest() {
    assert_eq!(haul::extract::platforms(), ["shopify", "woocommerce"]);
    let manifest = json("manifest.json");
    let origins = strings(&manifest["host_permissions"]);
    for url in [
        "https://mediamarkt.pt/products/micro-ondas-panasonic-nn-k35hwmebg-800w-23l",
        "https://totes.example/collections/bags/products/canvas-tote?variant=22",
        "https://woo-demo.example/product/hoodie/",
    ] {
        assert!(!covered(url), "{url}: no in-page button from the manifest");
        assert!(
            !origins.iter().any(|o| match_pattern::matches(o, url)),
            "{url}: no host permission in the manifest"
        );
        assert!(
            haul::extract::names_a_page(url),
            "{url}: haul grab reads it as a page"
        );
    }
    for platform_host in ["*.myshopify.com", "cdn.shopify.com", "*.shopify.com"] {
        assert!(
            !origins.iter().any(|o| o.contains(platform_host)),
            "{platform_host}"
        );
    }
}

/// What "Show the haul button on this shop" rests on, named where a reader of the manifest
/// test looks: the per-shop permission is asked for in the click's handler, the script is
/// registered for that origin only and persists, and taking either back removes it.
#[test]
fn the_button_on_another_shop_is_asked_for_per_shop() {
    let background = text("background.js");
    for needed in [
        "contexts: ['action']",
        "Show the haul button on this shop",
        "Stop showing the haul button on this shop",
        ".request({ origins: [pattern] })",
        "if (granted) return buttonOnShop(tab, pattern);",
        "registerContentScripts([",
        "matches: [pattern]",
        "persistAcrossSessions: true",
        "unregisterContentScripts({ ids: [id] })",
        ".remove({ origins: [pattern] })",
        "permissions.onRemoved",
    ] {
        assert!(background.contains(needed), "background.js: {needed}");
    }
    assert!(text("content.js").contains("'haul-hide'"));
}

#[test]
fn the_scripts_talk_only_to_the_native_host() {
    let background = text("background.js");
    let content = text("content.js");
    assert!(background.contains(&format!("const HOST = '{HOST_NAME}';")));
    assert!(background.contains("connectNative(HOST)"));
    let pages: Vec<String> = ["popup.js", "options.js", "wrap.js"]
        .iter()
        .map(|f| text(f))
        .collect();
    for js in [&background, &content].into_iter().chain(&pages) {
        for banned in [
            "fetch(",
            "XMLHttpRequest",
            "WebSocket",
            "sendBeacon",
            "eval(",
            "new Function",
            "import(",
            "importScripts",
        ] {
            assert!(!js.contains(banned), "{banned} in the extension");
        }
    }
    // What the page shows for each way the host can be missing.
    for s in [
        "not found",
        "forbidden",
        "exited",
        "Failed to start",
        "No such native application",
        "haul install",
        "haul doctor",
        "haul daemon",
    ] {
        assert!(background.contains(s), "background.js handles {s:?}");
    }
    for state in ["'idle'", "'working'", "'done'", "'error'"] {
        assert!(content.contains(state), "content.js sets {state}");
    }
    // The pages load only the extension's own files: no remote script, style or image.
    for page in ["popup.html", "options.html"] {
        let html = text(page);
        for attr in [
            "src=\"http",
            "href=\"http",
            "src=\"//",
            "href=\"//",
            "url(http",
        ] {
            assert!(!html.contains(attr), "{page}: {attr}");
        }
    }
    assert!(!text("ui.css").contains("url("), "ui.css loads nothing");
}
