//! 1688.com, Alibaba's domestic site (`extraction-rules.md` §3, C4). Sources, best first:
//!
//! * **id** — the canonical `/offer/<id>.html`, the page URL, the page data's `"offerId"`; the
//!   page address is rebuilt from the id when the saved page has none;
//! * **gallery** — the page data's `"offerImgList"` (originals), else the rendered gallery
//!   (`img.detail-gallery-img`, `img.od-gallery-img`, without the video cover);
//! * **variants** — `"skuProps"[].value[]` entries with an `imageUrl`, labelled with their `name`
//!   (1688 shows every SKU picture in the gallery too, so these are usually gallery items already;
//!   see the role rule in `extract`);
//! * **videos** — every `"videoUrl"` of the page data (the gallery video and the
//!   `industryVideo` list) and every `<video src>` (the description's video), one per Taobao
//!   video id;
//! * **description** — the rendered description's lazy images (`img[data-lazyload-src]`,
//!   `.html-description img`).
//!
//! **Facts** (the page data): `offerTitle`; the first tier of `priceModel.currentPrices`, in yuan
//! (1688 is mainland China's market, its `¥`); `featureAttributes` as specifications;
//! `companyName`; and every SKU of `skuInfoMap` (its key joins the `skuProps` values with `>`):
//! price where given, `canBookCount` as stock, its values' pictures.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Selector;
use serde_json::Value;

use super::embedded::{self, Ordered, blobs_after, json_string_values, text};
use super::facts::{Availability, ProductFacts, read};
use super::page::{Page, capture, regex, selector};
use super::{Extractor, Found};
use crate::media::Role;

pub struct Ali1688;

impl Extractor for Ali1688 {
    fn site(&self) -> &'static str {
        "1688"
    }

    fn domains(&self) -> &'static [&'static str] {
        &["1688.com"]
    }

    fn product_paths(&self) -> &'static [&'static str] {
        &["/offer/*"]
    }

    fn example(&self) -> &'static str {
        "https://detail.1688.com/offer/775610063728.html"
    }

    fn product_id_in(&self, address: &str) -> Option<String> {
        capture(&OFFER_URL, address)
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        page.has("\"offerImgList\"") || page.has("detail.1688.com/offer/")
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        ids(page, found);
        let raw = page.raw();
        for t in json_string_values(raw, "offerTitle")
            .into_iter()
            .chain(json_string_values(raw, "subject"))
        {
            found.title(t);
        }
        gallery(page, found);
        variants(page, found);
        videos(page, found);
        description(page, found);
        facts(page, found);
        if let Some(t) = page.meta("og:title") {
            found.title(t.trim_end_matches("- 阿里巴巴").trim());
        }
    }
}

/// A product page's address: `detail.1688.com/offer/<id>.html`.
static OFFER_URL: LazyLock<Regex> = LazyLock::new(|| regex(r"/offer/(\d{6,20})\.html"));

fn ids(page: &Page<'_>, found: &mut Found) {
    static OFFER_ID: LazyLock<Regex> = LazyLock::new(|| regex(r#""offerId"\s*:\s*"?(\d{6,20})"#));
    for id in page.address_ids(&OFFER_URL) {
        found.product_id(id);
    }
    if let Some(id) = capture(&OFFER_ID, page.raw()) {
        found.page_url(format!("https://detail.1688.com/offer/{id}.html"));
        found.product_id(id);
    }
}

fn gallery(page: &Page<'_>, found: &mut Found) {
    static OFFER_IMAGES: LazyLock<Regex> = LazyLock::new(|| regex(r#""offerImgList"\s*:\s*"#));
    static DOM: LazyLock<Selector> =
        LazyLock::new(|| selector("img.detail-gallery-img, img.od-gallery-img"));
    let blobs = blobs_after(page.raw(), &OFFER_IMAGES);
    let urls: Vec<String> = match blobs.first_strings() {
        Some(list) => list.iter().filter_map(|u| page.absolute(u)).collect(),
        None => {
            if blobs.seen {
                found.warn("1688's offerImgList could not be parsed; using the rendered gallery");
            }
            page.select(&DOM)
                .filter_map(|e| page.img_url(e))
                // The gallery's first slide can be the video's cover picture.
                .filter(|u| !u.contains("tbvideo"))
                .collect()
        }
    };
    for url in urls {
        found.product_image(url);
    }
}

fn variants(page: &Page<'_>, found: &mut Found) {
    let props = sku_props(page);
    for prop in props {
        for value in prop
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(url) = value
                .get("imageUrl")
                .and_then(text)
                .and_then(|u| page.absolute(&u))
            else {
                continue;
            };
            let label = value.get("name").and_then(text).unwrap_or_default();
            found.variant_image(url, &label, None);
        }
    }
}

/// The offer's facts from the page data (module doc, "facts"). 1688 is mainland China's
/// wholesale market: its prices are yuan, shown as `¥`.
fn facts(page: &Page<'_>, found: &mut Found) {
    static PRICES: LazyLock<Regex> = LazyLock::new(|| regex(r#""currentPrices"\s*:\s*"#));
    static SKUS: LazyLock<Regex> = LazyLock::new(|| regex(r#""skuInfoMap"\s*:\s*"#));
    static ATTRIBUTES: LazyLock<Regex> = LazyLock::new(|| regex(r#""featureAttributes"\s*:\s*"#));
    let raw = page.raw();
    let mut f = ProductFacts {
        name: json_string_values(raw, "offerTitle").into_iter().next(),
        seller: json_string_values(raw, "companyName").into_iter().next(),
        ..Default::default()
    };
    // The price tiers by quantity: the first is what the smallest order pays.
    let first_tier = blobs_after(raw, &PRICES)
        .first_array()
        .and_then(|tiers| tiers.first())
        .and_then(|t| t.get("price"))
        .and_then(read::amount);
    read::set_price(&mut f, first_tier, Some("CNY".to_string()));
    if let Some(attributes) = blobs_after(raw, &ATTRIBUTES).first_array() {
        for a in attributes {
            if let (Some(name), Some(value)) = (
                a.get("name").and_then(text),
                a.get("values")
                    .map(embedded::strings)
                    .filter(|v| !v.is_empty())
                    .map(|v| v.join(", "))
                    .or_else(|| a.get("value").and_then(text)),
            ) {
                read::add_spec(&mut f.specs, &name, &value);
            }
        }
    }
    read::ids_from_specs(&mut f);
    let props = sku_props(page);
    let skus: Vec<(String, Value)> = embedded::parsed_after::<Ordered>(raw, &SKUS)
        .map(|o| o.0)
        .unwrap_or_default();
    let stock: Vec<u64> = skus
        .iter()
        .filter_map(|(_, s)| s.get("canBookCount").and_then(Value::as_u64))
        .collect();
    if !stock.is_empty() {
        f.availability = Some(if stock.iter().any(|n| *n > 0) {
            Availability::InStock
        } else {
            Availability::OutOfStock
        });
    }
    let variants = skus
        .iter()
        .take(super::MAX_ITEMS)
        .map(|(key, sku)| {
            // `颜色>尺码` values, joined by `>` (escaped as `&gt;` in the page data).
            let values: Vec<&str> = key.split("&gt;").flat_map(|k| k.split('>')).collect();
            let mut attributes = Vec::new();
            let mut pictures = Vec::new();
            for (i, value) in values.iter().enumerate() {
                let prop = props.get(i);
                attributes.push((
                    prop.and_then(|p| p.get("prop"))
                        .and_then(text)
                        .unwrap_or_default(),
                    (*value).to_string(),
                ));
                pictures.extend(
                    prop.and_then(|p| p.get("value"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter(|v| v.get("name").and_then(text).as_deref() == Some(value))
                        .filter_map(|v| v.get("imageUrl").and_then(text)),
                );
            }
            let mut v = read::variant(attributes);
            v.id = sku.get("skuId").and_then(text);
            v.sku = v.id.clone();
            v.pictures = pictures;
            v.price = ["discountPrice", "price"]
                .iter()
                .find_map(|k| sku.get(*k).and_then(read::amount));
            v.availability = sku.get("canBookCount").and_then(Value::as_u64).map(|n| {
                if n > 0 {
                    Availability::InStock
                } else {
                    Availability::OutOfStock
                }
            });
            v
        })
        .collect();
    read::set_variants(&mut f, variants);
    *found.facts() = f;
}

/// `"skuProps"`: the SKU properties (`颜色`, `尺码`) in order, each with its values and their
/// pictures.
fn sku_props(page: &Page<'_>) -> Vec<Value> {
    static SKU_PROPS: LazyLock<Regex> = LazyLock::new(|| regex(r#""skuProps"\s*:\s*"#));
    blobs_after(page.raw(), &SKU_PROPS)
        .first_array()
        .cloned()
        .unwrap_or_default()
}

fn videos(page: &Page<'_>, found: &mut Found) {
    static VIDEO_TAGS: LazyLock<Selector> =
        LazyLock::new(|| selector("video[src], video source[src]"));
    let from_data = json_string_values(page.raw(), "videoUrl");
    let from_dom = page
        .select(&VIDEO_TAGS)
        .filter_map(|v| v.value().attr("src").map(str::to_string))
        .collect::<Vec<_>>();
    for url in from_data.into_iter().chain(from_dom) {
        if let Some(url) = page.absolute(&url).filter(|u| is_video(u)) {
            found.video(Role::Video, url);
        }
    }
}

fn is_video(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or("");
    path.ends_with(".mp4") || path.ends_with(".m3u8")
}

fn description(page: &Page<'_>, found: &mut Found) {
    static DESCRIPTION: LazyLock<Selector> = LazyLock::new(|| {
        selector("img[data-lazyload-src], .html-description img, #detailContentContainer img")
    });
    for img in page.select(&DESCRIPTION) {
        if let Some(url) = page.img_url(img) {
            found.image(Role::Description, url);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::media::Role;

    #[test]
    fn rendered_gallery_when_the_data_is_missing() {
        let html = r#"<html><body>
            <img class="od-gallery-img" src="https://cbu01.alicdn.com/img/ibank/O1CN01v_!!6000-0-tbvideo.jpg_b.jpg">
            <img class="od-gallery-img" src="https://cbu01.alicdn.com/img/ibank/O1CN01a_!!22-0-cib.jpg_b.jpg">
            <img class="od-gallery-img" src="https://cbu01.alicdn.com/img/ibank/O1CN01b_!!22-0-cib.310x310.jpg">
            <video src="//cloud.video.taobao.com/play/u/22/p/2/e/6/t/1/777.mp4"></video>
            </body></html>"#;
        let e = crate::extract::extract(html, Some("https://detail.1688.com/offer/123456789.html"));
        assert_eq!(e.site, "1688");
        assert_eq!(e.product_id.as_deref(), Some("123456789"));
        let got: Vec<(Role, &str)> = e.media.iter().map(|m| (m.role, m.url.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (
                    Role::Main,
                    "https://cbu01.alicdn.com/img/ibank/O1CN01a_!!22-0-cib.jpg"
                ),
                (
                    Role::Gallery,
                    "https://cbu01.alicdn.com/img/ibank/O1CN01b_!!22-0-cib.jpg"
                ),
                (
                    Role::Video,
                    "https://cloud.video.taobao.com/play/u/22/p/2/e/6/t/1/777.mp4"
                ),
            ]
        );
    }
}
