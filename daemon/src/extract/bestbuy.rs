//! Best Buy, in the United States (`bestbuy.com`) and Canada (`bestbuy.ca`): two different
//! storefronts under one name. Sources, best first:
//!
//! **Canada** (`/<lang>/product/<slug>/<sku>`; a rendered page with its state in
//! `window.__INITIAL_STATE__`):
//!
//! * **id, title** — the state's `product.product.sku` and `name`, then the SKU at the end of the
//!   address;
//! * **images** — `product.product.media.images`, an object whose keys are the pictures' order
//!   (`"0"`, `"1"`, …: `<sku>.jpg`, `<sku>_1.jpg`, …), each listing the picture in several sizes
//!   (`"32x32"` … `"500x500"`, and `"1500x1500"` for most): the largest size listed is taken, since
//!   not every picture has a 1500×1500 one (the saved Belkin page lists 500×500 at most for four
//!   of its eight). Then `additionalImages` (500×500), then `productImage`;
//! * **videos** — `media.videos` (and `productVideos`): `{"id", "source": "YouTube"}`, recorded as
//!   links to the watch page ([`super::video_platform`]), never downloaded.
//!
//! **United States** (`/product/<slug>/<bsin>/sku/<sku>`; the saved page has its scripts
//! emptied, so only its markup is read):
//!
//! * **id, title** — `skuId` in the `analytics-metadata` meta's JSON (the BSIN is kept as the
//!   other id), then the SKU in the address; the `h1`;
//! * **images** — the pictures inside `data-component-name="MediaGallery"` (its thumbnails and
//!   its slides: the same six pictures), not the comparison table's or the recommendation
//!   carousels' product tiles (about eleven other products' pictures on the saved page). A tile
//!   of the gallery that carries a caption ("Customer Images") opens something else and is
//!   skipped. [`cdn::largest`](super::cdn::largest) drops the `;maxHeight=…;maxWidth=…`
//!   parameters that ask `pisces.bbystatic.com` for a smaller rendition;
//! * **videos** — a video platform's player or still inside the gallery, as a link.
//!
//! The classic US addresses (`/site/<slug>/<sku>.p?skuId=<sku>`) are not claimed: no saved page
//! shows one, and `/site/` also holds the category pages.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Selector};
use serde_json::Value;

use super::embedded::{json_after, number, path, text};
use super::page::{Page, capture, regex, selector, text_of};
use super::{Extractor, Found, video_platform};
use crate::media::Role;

pub struct BestBuy;

impl Extractor for BestBuy {
    fn site(&self) -> &'static str {
        "bestbuy"
    }

    fn domains(&self) -> &'static [&'static str] {
        &["bestbuy.com", "bestbuy.ca"]
    }

    fn product_paths(&self) -> &'static [&'static str] {
        // The US store's `/product/…`, and Canada's under a language (`/en-ca/product/…`).
        &["/product/*", "/*/product/*"]
    }

    /// Each store's own form only: `bestbuy.com/product/…` and `bestbuy.ca/<lang>/product/…`.
    fn match_patterns(&self) -> Vec<String> {
        vec![
            "https://*.bestbuy.com/product/*".to_string(),
            "https://*.bestbuy.ca/*/product/*".to_string(),
        ]
    }

    fn example(&self) -> &'static str {
        "https://www.bestbuy.com/product/anker-power-bank-20k-87w-built-in-usb-c-cable-black/JJ858RL86Q/sku/6644753"
    }

    fn product_id_in(&self, address: &str) -> Option<String> {
        [&*US_SKU, &*CA_SKU, &*US_BSIN]
            .iter()
            .find_map(|re| capture(re, address))
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        (page.has("bbystatic.com") && page.has("data-component-name=\"MediaGallery\""))
            || (page.has("bbycastatic.ca") && page.has("__INITIAL_STATE__"))
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        match canada_product(page) {
            Some(product) => canada(page, &product, found),
            None => united_states(page, found),
        }
    }
}

/// A US product address with its SKU: `/product/<slug>/<bsin>/sku/<sku>`.
static US_SKU: LazyLock<Regex> =
    LazyLock::new(|| regex(r"/product/[^/?#]+/[A-Za-z0-9]{10}/sku/(\d{5,10})(?:[/?#]|$)"));
/// A Canadian product address: `/<lang>/product/<slug>/<sku>`.
static CA_SKU: LazyLock<Regex> = LazyLock::new(|| regex(r"/product/[^/?#]+/(\d{5,10})(?:[/?#]|$)"));
/// A US product address without a SKU: `/product/<slug>/<bsin>`.
static US_BSIN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"/product/[^/?#]+/([A-Z0-9]{10})(?:[/?#]|$)"));

// ---- Canada -------------------------------------------------------------------------------------

/// The state's product (`product.product` of `window.__INITIAL_STATE__`).
fn canada_product(page: &Page<'_>) -> Option<Value> {
    static STATE: LazyLock<Regex> = LazyLock::new(|| regex(r"window\.__INITIAL_STATE__\s*=\s*"));
    if !page.has("__INITIAL_STATE__") {
        return None;
    }
    json_after(page.raw(), &STATE)
        .into_iter()
        .find_map(|state| path(&state, &["product", "product"]).cloned())
        .filter(Value::is_object)
}

fn canada(page: &Page<'_>, product: &Value, found: &mut Found) {
    if let Some(sku) = product.get("sku").and_then(text) {
        found.product_id(sku);
    }
    for id in page.address_ids(&CA_SKU) {
        found.product_id(id);
    }
    if let Some(name) = product.get("name").and_then(text) {
        found.title(name);
    }
    match product.get("media").and_then(|m| m.get("images")) {
        Some(Value::Object(images)) => {
            let mut ordered: Vec<(u64, &Value)> = images
                .iter()
                .filter_map(|(k, v)| Some((k.trim().parse().ok()?, v)))
                .collect();
            ordered.sort_by_key(|(k, _)| *k);
            for (_, sizes) in ordered.into_iter().take(super::MAX_ITEMS) {
                if let Some(url) = largest_size(sizes).and_then(|u| page.absolute(&u)) {
                    found.product_image(url);
                }
            }
        }
        Some(_) => found.warn("the page's media.images is not a list of pictures by position"),
        None => {}
    }
    if !found.has_images() {
        let listed = product
            .get("additionalImages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(product.get("productImage"));
        for url in listed.filter_map(text).filter_map(|u| page.absolute(&u)) {
            found.product_image(url);
        }
    }
    let videos = [
        product.get("media").and_then(|m| m.get("videos")),
        product.get("productVideos"),
    ];
    for video in videos
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
    {
        let source = video.get("source").and_then(text).unwrap_or_default();
        let id = video.get("id").and_then(text).unwrap_or_default();
        if source.eq_ignore_ascii_case("youtube")
            && let Some(link) = video_platform::youtube(&id)
        {
            found.add_link(link);
        }
    }
}

/// The URL of the largest size a `media.images` entry lists (`{"1500x1500": {"size": {"width",
/// "height"}, "url"}, …}`).
fn largest_size(sizes: &Value) -> Option<String> {
    let area = |v: &Value| -> f64 {
        let size = v.get("size");
        let side = |k: &str| size.and_then(|s| s.get(k)).and_then(number).unwrap_or(0.0);
        side("width") * side("height")
    };
    sizes
        .as_object()?
        .values()
        .filter_map(|v| Some((area(v), v.get("url").and_then(text)?)))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, url)| url)
}

// ---- United States ------------------------------------------------------------------------------

fn united_states(page: &Page<'_>, found: &mut Found) {
    static ANALYTICS: LazyLock<Selector> =
        LazyLock::new(|| selector("meta[name=analytics-metadata][content]"));
    static H1: LazyLock<Selector> = LazyLock::new(|| selector("h1"));
    let analytics = page
        .attr(&ANALYTICS, "content")
        .and_then(|c| serde_json::from_str::<Value>(&c).ok());
    let product = analytics.as_ref().and_then(|a| a.get("product"));
    if let Some(sku) = product.and_then(|p| p.get("skuId")).and_then(text) {
        found.product_id(sku);
    }
    for id in page.address_ids(&US_SKU) {
        found.product_id(id);
    }
    if let Some(bsin) = product.and_then(|p| p.get("bsin")).and_then(text) {
        found.product_id(bsin);
    }
    if let Some(h1) = page.first(&H1) {
        found.title(text_of(h1));
    }
    if let Some(t) = page.meta("og:title") {
        found.title(t);
    }

    static GALLERY: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "[data-component-name=MediaGallery] img, [data-component-name=MediaGallery] iframe",
        )
    });
    for el in page.select(&GALLERY) {
        let link = ["src", "data-src"]
            .iter()
            .filter_map(|a| el.value().attr(a))
            .find_map(video_platform::link_of);
        if let Some(link) = link {
            found.add_link(link);
            continue;
        }
        if el.value().name() == "img"
            && !is_captioned(el)
            && let Some(url) = page.img_url(el)
        {
            found.product_image(url);
        }
    }
    if !found.has_images()
        && let Some(url) = page.meta("og:image").and_then(|u| page.absolute(&u))
    {
        found.image(Role::Main, url);
    }
}

/// Whether the gallery tile holding `img` carries a caption of its own ("Customer Images"): a
/// button to another view, not a picture of the gallery.
fn is_captioned(img: ElementRef<'_>) -> bool {
    img.ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| a.value().name() == "button")
        .is_some_and(|button| !text_of(button).trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_addresses_of_both_stores() {
        for (address, id) in [
            (
                "https://www.bestbuy.com/product/anker-power-bank-20k-87w-built-in-usb-c-cable-black/JJ858RL86Q/sku/6644753",
                Some("6644753"),
            ),
            (
                "https://www.bestbuy.com/product/anker-prime-power-bank-20k-220w-black/JJ858RGH26",
                Some("JJ858RGH26"),
            ),
            (
                "https://www.bestbuy.ca/en-ca/product/google-nest-hello-wi-fi-video-doorbell-black-white/12222651",
                Some("12222651"),
            ),
            (
                "https://www.bestbuy.com/site/electronics/mobile-cell-phones/abcat0800000.c?id=abcat0800000",
                None,
            ),
        ] {
            assert_eq!(BestBuy.product_id_in(address).as_deref(), id, "{address}");
        }
    }

    #[test]
    fn the_largest_size_listed_wins() {
        let sizes = serde_json::json!({
            "16x16": {"size": {"width": 16, "height": 16}, "url": "https://x.example/s.gif"},
            "500x500": {"size": {"width": 500, "height": 500}, "url": "https://x.example/500.jpg"},
            "55x55": {"size": {"width": 55, "height": 55}, "url": "https://x.example/55.jpg"},
        });
        assert_eq!(
            largest_size(&sizes).as_deref(),
            Some("https://x.example/500.jpg")
        );
        assert_eq!(largest_size(&serde_json::json!([])), None);
    }
}
