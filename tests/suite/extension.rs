//! The extension stub as shipped: its id is the one haul allows, both manifests agree, the
//! content script runs on every supported product URL (and only there), and the code makes no
//! requests of its own.

use std::path::PathBuf;

use base64::Engine;
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
        "content_scripts",
        "action",
    ] {
        assert_eq!(chrome[key], firefox[key], "{key}");
    }
    assert_eq!(chrome["version"], haul_protocol::VERSION);
    assert_eq!(chrome["background"]["service_worker"], "background.js");
    assert_eq!(firefox["background"]["scripts"][0], "background.js");
    assert_eq!(
        firefox["browser_specific_settings"]["gecko"]["id"],
        FIREFOX_ADDON_ID
    );
    assert!(firefox.get("key").is_none());
}

#[test]
fn permissions_are_the_minimum() {
    let m = json("manifest.json");
    let mut perms: Vec<&str> = m["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    perms.sort();
    assert_eq!(
        perms,
        ["activeTab", "contextMenus", "nativeMessaging", "scripting"]
    );
    for p in m["host_permissions"].as_array().unwrap() {
        let p = p.as_str().unwrap();
        let host = p
            .strip_prefix("https://")
            .and_then(|r| r.split('/').next())
            .unwrap_or_else(|| panic!("{p} is not an https pattern"));
        let host = host.trim_start_matches("*.");
        assert!(
            host.starts_with("amazon.")
                || host.starts_with("aliexpress.")
                || host == "alibaba.com"
                || host == "detail.1688.com",
            "{p} is not a supported marketplace"
        );
    }
}

/// Chrome's match patterns, enough for `https://HOST/PATH` patterns with `*.` hosts and `*`
/// paths.
fn matches(pattern: &str, url: &str) -> bool {
    let (Some(p), Some(u)) = (
        pattern.strip_prefix("https://"),
        url.strip_prefix("https://"),
    ) else {
        return false;
    };
    let (p_host, p_path) = p.split_at(p.find('/').unwrap());
    let (u_host, u_path) = u.split_at(u.find('/').unwrap_or(u.len()));
    let host_ok = match p_host.strip_prefix("*.") {
        Some(base) => u_host == base || u_host.ends_with(&format!(".{base}")),
        None => u_host == p_host,
    };
    host_ok && glob(p_path.as_bytes(), u_path.as_bytes())
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

fn content_matches() -> Vec<String> {
    json("manifest.json")["content_scripts"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn covered(url: &str) -> bool {
    content_matches().iter().any(|p| matches(p, url))
}

#[test]
fn the_button_appears_on_every_supported_product_page() {
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
    ] {
        assert!(!covered(url), "{url} must not get the button");
    }
}

#[test]
fn the_scripts_talk_only_to_the_native_host() {
    let background = text("background.js");
    let content = text("content.js");
    assert!(background.contains(&format!("const HOST = '{HOST_NAME}';")));
    assert!(background.contains("connectNative(HOST)"));
    for js in [&background, &content] {
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
}
