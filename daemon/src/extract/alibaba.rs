//! Alibaba.com (`extraction-rules.md` §3, C1–C3). Sources, best first:
//!
//! * **id** — `product-detail/<Slug>_<id>.html` in the canonical link or page URL, then the DOM's
//!   `data-product-id`, then any `productId=<id>` link;
//! * **`window.detailData`** — `globalData.product.mediaItems[]` (`type` image/video; the video's
//!   best `videoUrl` by resolution), `globalData.product.subject`;
//! * **rendered DOM** (2026): the gallery slides `[data-testid=product-image-view] img`
//!   (`_960x960q80.jpg`), else the thumbnail strip's `background-image`s (`_80x80.jpg`); colour
//!   swatches `[data-testid=sku-list] img[alt]` (label = `alt`); the video slot
//!   `[data-module-name=module_detail_video]` and any `<video>` in the image module. Everything
//!   else at `_350x350`/`_220x220` is recommendations (the review module's pictures are the
//!   "see product" cards of reviewed listings) and is not read.
//!
//! **Facts** (the rendered page): the `h1`'s title; the first tier of the price ladder (what the
//! smallest order pays) in the currency its symbol names; the key attributes
//! (`module-attribute-row`); the breadcrumbs; the supplier's name (`module_company`); and the
//! pictured values of the first variation list, one dimension's values (the page lists no SKUs).

use std::sync::LazyLock;

use regex::Regex;
use scraper::Selector;
use serde_json::Value;

use super::embedded::{blobs_after, path, text};
use super::facts::{ProductFacts, VariantFacts, read};
use super::page::{Page, capture, regex, selector, text_of};
use super::{Extractor, Found};
use crate::media::Role;

pub struct Alibaba;

impl Extractor for Alibaba {
    fn site(&self) -> &'static str {
        "alibaba"
    }

    fn domains(&self) -> &'static [&'static str] {
        &["alibaba.com"]
    }

    fn product_paths(&self) -> &'static [&'static str] {
        &["/product-detail/*"]
    }

    fn example(&self) -> &'static str {
        "https://www.alibaba.com/product-detail/Wholesale-Custom-New-Design-Luxury-Sneakers_1600691082191.html"
    }

    fn product_id_in(&self, address: &str) -> Option<String> {
        capture(&URL_ID, address)
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        page.has("window.detailData") || page.has("data-module-name=\"module_productImage\"")
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        ids(page, found);
        detail_data(page, found);
        dom(page, found);
        facts(page, found);
    }
}

/// A product page's address: `/product-detail/<slug>_<id>.html`.
static URL_ID: LazyLock<Regex> =
    LazyLock::new(|| regex(r"/product-detail/[^/?#]*?_(\d{6,20})\.html"));

fn ids(page: &Page<'_>, found: &mut Found) {
    static ATTR: LazyLock<Selector> = LazyLock::new(|| selector("[data-product-id]"));
    static LINK: LazyLock<Regex> = LazyLock::new(|| regex(r"[?&]productId=(\d{6,20})"));
    for id in page.address_ids(&URL_ID) {
        found.product_id(id);
    }
    if let Some(id) = page
        .attr(&ATTR, "data-product-id")
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
    {
        found.product_id(id);
    }
    if let Some(id) = capture(&LINK, page.raw()) {
        found.product_id(id);
    }
}

/// `window.detailData = {…}` (yt-dlp's alibaba extractor; no complete page is among the
/// fixtures, so this follows the public description of its shape).
fn detail_data(page: &Page<'_>, found: &mut Found) {
    static DETAIL: LazyLock<Regex> = LazyLock::new(|| regex(r"window\.detailData\s*=\s*"));
    let blobs = blobs_after(page.raw(), &DETAIL);
    if blobs.seen && blobs.values.is_empty() {
        found.warn("Alibaba's detailData could not be parsed; using the page's images");
    }
    for d in &blobs.values {
        let product = path(d, &["globalData", "product"]).unwrap_or(d);
        if let Some(t) = product.get("subject").and_then(text) {
            found.title(t);
        }
        if let Some(id) = product.get("productId").and_then(text) {
            found.product_id(id);
        }
        for item in product
            .get("mediaItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match item.get("type").and_then(text).as_deref() {
                Some("video") => {
                    if let Some(url) = best_video(item).and_then(|u| page.absolute(&u)) {
                        found.video(Role::Video, url);
                    }
                }
                _ => {
                    let url = item
                        .get("imageUrl")
                        .and_then(|i| {
                            ["big", "original", "normal"]
                                .iter()
                                .find_map(|k| i.get(*k).and_then(text))
                                .or_else(|| text(i))
                        })
                        .or_else(|| item.get("url").and_then(text));
                    if let Some(url) = url.and_then(|u| page.absolute(&u)) {
                        found.product_image(url);
                    }
                }
            }
        }
    }
}

/// The highest-resolution format of a detailData video item (`videoUrl` is a list of formats).
fn best_video(item: &Value) -> Option<String> {
    match item.get("videoUrl")? {
        Value::Array(formats) => formats
            .iter()
            .filter_map(|f| {
                let url = f.get("videoUrl").and_then(text)?;
                let dim = |k: &str| f.get(k).and_then(Value::as_f64).unwrap_or(0.0);
                let score = dim("width") * dim("height") + dim("bitrate") / 1e6;
                Some((score, url))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, u)| u),
        other => text(other),
    }
}

fn dom(page: &Page<'_>, found: &mut Found) {
    static SLIDES: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "[data-testid=product-image-view] img, #ProductImageMain img, .current-main-image img",
        )
    });
    static THUMBS: LazyLock<Selector> = LazyLock::new(|| {
        selector("[data-submodule=ProductImageThumbsList] [style*=background-image]")
    });
    static BACKGROUND: LazyLock<Regex> =
        LazyLock::new(|| regex(r#"url\(\s*["']?([^"')]+)["']?\s*\)"#));
    static SKU_LISTS: LazyLock<Selector> = LazyLock::new(|| selector("[data-testid=sku-list]"));
    static SKU_IMAGES: LazyLock<Selector> = LazyLock::new(|| selector("img[alt]"));
    static VIDEOS: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "[data-module-name=module_detail_video] video, [data-module-name=module_detail_video] source, \
             [data-module-name=module_productImage] video, [data-module-name=module_productImage] source",
        )
    });
    static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("h1"));

    if let Some(h1) = page.first(&TITLE) {
        match h1.value().attr("title") {
            Some(t) if !t.trim().is_empty() => found.title(t),
            _ => found.title(text_of(h1)),
        }
    }

    if !found.has_images() {
        // Seller uploads live under `/kf/`; the slides also hold UI icons
        // (`imgextra/…-tps-60-60.png`).
        let slides: Vec<String> = page
            .select(&SLIDES)
            .filter_map(|e| page.img_url(e))
            .filter(|u| u.contains("/kf/"))
            .collect();
        let urls = if slides.is_empty() {
            page.select(&THUMBS)
                .filter_map(|e| e.value().attr("style"))
                .filter_map(|s| {
                    BACKGROUND
                        .captures(s)?
                        .get(1)
                        .map(|m| m.as_str().to_string())
                })
                .filter_map(|u| page.absolute(&u))
                .filter(|u| u.contains("/kf/"))
                .collect()
        } else {
            slides
        };
        for url in urls {
            found.product_image(url);
        }
    }

    for list in page.select(&SKU_LISTS) {
        for img in list.select(&SKU_IMAGES) {
            let label = img.value().attr("alt").unwrap_or("");
            if let Some(url) = page.img_url(img).filter(|u| u.contains("/kf/")) {
                found.variant_image(url, label, None);
            }
        }
    }

    for v in page.select(&VIDEOS) {
        if let Some(url) = v.value().attr("src").and_then(|u| page.absolute(u)) {
            found.video(Role::Video, url);
        }
    }
    if let Some(t) = page.meta("og:title") {
        found.title(t);
    }
}

/// The product's facts as the rendered page shows them (module doc, "facts").
fn facts(page: &Page<'_>, found: &mut Found) {
    static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("h1"));
    static FIRST_TIER: LazyLock<Selector> =
        LazyLock::new(|| selector("[data-testid=ladder-price] .price-item"));
    static AMOUNT: LazyLock<Selector> = LazyLock::new(|| selector("span"));
    static ROWS: LazyLock<Selector> =
        LazyLock::new(|| selector("[data-testid=module-attribute-row]"));
    static NAME: LazyLock<Selector> =
        LazyLock::new(|| selector("[data-testid=module-attribute-name]"));
    static VALUE: LazyLock<Selector> =
        LazyLock::new(|| selector("[data-testid=module-attribute-value]"));
    static CRUMBS: LazyLock<Selector> =
        LazyLock::new(|| selector("[data-module-name=module_breadcrumbNew] li a"));
    static COMPANY: LazyLock<Selector> =
        LazyLock::new(|| selector("[data-module-name=module_company] a[title]"));
    let mut f = ProductFacts {
        name: page
            .first(&TITLE)
            .and_then(|h| {
                h.value()
                    .attr("title")
                    .map(str::to_string)
                    .or_else(|| Some(text_of(h)))
            })
            .filter(|t| !t.trim().is_empty()),
        seller: page.first(&COMPANY).map(text_of).filter(|t| !t.is_empty()),
        ..Default::default()
    };
    // Prices by quantity ("300 - 1000 pairs GH₵80.51", …): the first is what the smallest
    // order pays.
    if let Some(tier) = page.first(&FIRST_TIER) {
        let shown = tier.select(&AMOUNT).map(text_of).find(|t| !t.is_empty());
        if let Some(shown) = shown {
            let (price, currency) = read::money(&shown, None);
            read::set_price(&mut f, price, currency);
        }
    }
    read::add_row_specs(&mut f.specs, page.select(&ROWS), &NAME, &VALUE);
    read::ids_from_specs(&mut f);
    f.categories = read::categories(page.select(&CRUMBS).map(text_of), f.name.as_deref());
    let variants = pictured_values(page, &f);
    read::set_variants(&mut f, variants);
    *found.facts() = f;
}

/// The values of the first variation list that pictures its values (`Color: Blue`, `Black`,
/// …): each a choice with its picture. The page lists each dimension on its own, not the SKUs
/// they combine into, so these are one dimension's values, without prices.
fn pictured_values(page: &Page<'_>, product: &ProductFacts) -> Vec<VariantFacts> {
    static LISTS: LazyLock<Selector> = LazyLock::new(|| selector("[data-testid=sku-list]"));
    static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("[data-testid=sku-list-title]"));
    static PICTURED: LazyLock<Selector> = LazyLock::new(|| selector("img[alt]"));
    for list in page.select(&LISTS) {
        // "Color: Blue" names the dimension (and the value chosen, which is no SKU of its own).
        let dimension = list
            .select(&TITLE)
            .next()
            .map(text_of)
            .map(|t| t.split(':').next().unwrap_or_default().trim().to_string())
            .unwrap_or_default();
        let values: Vec<read::Choice> = list
            .select(&PICTURED)
            .filter_map(|img| {
                Some(read::Choice {
                    id: None,
                    value: img.value().attr("alt")?.trim().to_string(),
                    selected: false,
                    pictures: vec![page.img_url(img)?],
                })
            })
            .collect();
        if !values.is_empty() {
            return read::choices(&dimension, values, product);
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use crate::media::{MediaKind, Role};

    #[test]
    fn detail_data_media_items() {
        let html = r#"<html><body><script>
            window.detailData = {"globalData": {"product": {"productId": 1600000000001, "subject": "Trail Shoes",
              "mediaItems": [
                {"type": "image", "imageUrl": {"big": "//s.alicdn.com/@sc04/kf/Hmain.jpg_960x960.jpg", "small": "//s.alicdn.com/@sc04/kf/Hmain.jpg_80x80.jpg"}},
                {"type": "video", "videoUrl": [
                    {"videoUrl": "https://cloud.video.alibaba.com/v/sd.mp4", "width": 640, "height": 360},
                    {"videoUrl": "https://cloud.video.alibaba.com/v/hd.mp4", "width": 1280, "height": 720}]},
                {"type": "image", "imageUrl": {"big": "//s.alicdn.com/@sc04/kf/Hside.png_960x960.jpg"}}]}}};
            </script></body></html>"#;
        let e = crate::extract::extract(
            html,
            Some("https://www.alibaba.com/product-detail/Trail-Shoes_1600000000001.html"),
        );
        assert_eq!(e.site, "alibaba");
        assert_eq!(e.product_id.as_deref(), Some("1600000000001"));
        assert_eq!(e.title.as_deref(), Some("Trail Shoes"));
        let got: Vec<(Role, MediaKind, &str)> = e
            .media
            .iter()
            .map(|m| (m.role, m.kind, m.url.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Role::Main,
                    MediaKind::Image,
                    "https://s.alicdn.com/@sc04/kf/Hmain.jpg"
                ),
                (
                    Role::Gallery,
                    MediaKind::Image,
                    "https://s.alicdn.com/@sc04/kf/Hside.png"
                ),
                (
                    Role::Video,
                    MediaKind::Video,
                    "https://cloud.video.alibaba.com/v/hd.mp4"
                ),
            ]
        );
    }
}
