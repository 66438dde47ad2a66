//! AliExpress: `.com`, `.us`, `.ru` and the language subdomains (`he.`, `de.`, `m.` …)
//! (`extraction-rules.md` §2). Sources, best first:
//!
//! * **id** — the canonical `/item/<id>.html` (the key the job is filed under), the page URL,
//!   then `pageModule.productId`/`actionModule.productId`/`productInfoComponent.id`; ids that
//!   disagree with the canonical one are kept as `other_ids` (one real page carries two);
//! * **data** — `window.runParams = { data: {…} }`: the ≤2023 "Module" format
//!   (`imageModule.imagePathList`, `skuModule.productSKUPropertyList`, `titleModule.subject`) and
//!   the 2023 "Component" format (`imageComponent`, `skuComponent`, `productInfoComponent`);
//!   2024+ `window._d_c_.DCData.imagePathList` and mtop results (`HEADER_IMAGE_PC`, `SKU`);
//! * **variants** — every SKU property value with a `skuPropertyImagePath`, labelled with its
//!   display name; `variant_id` is `<skuPropertyId>:<propertyValueId>`, how AliExpress names a
//!   SKU property (`skuAttr`);
//! * **video** — `imageModule.videoUid` + `videoId` → the Taobao CDN mp4;
//! * **DOM fallback** — the 2024+ rendered gallery (`[class*=magnifier--image]`,
//!   `[class*=slider--img] img`), then `og:image`.
//!
//! * **description** — the seller's description as the page rendered it (`#product-description`,
//!   the 2024 `.detail-desc-decorate-richtext`): its pictures, except those linking to other
//!   items (the "related products" strips sellers put above and below).
//!
//! A page saved before the description loaded has it only behind `descriptionUrl` (another
//! request, not made), and reviews live in an iframe: neither is extracted then.
//!
//! **Facts** (runParams' modules): `titleModule.subject`; the sale (`minActivityAmount`) while one
//! runs, else `minAmount`, with its currency code — the lowest of a range; `totalAvailQuantity`;
//! `feedbackRating`; `storeModule.storeName`; the breadcrumb steps with a category id;
//! `specsModule.props` (a name listed once per value joined); and every SKU of `skuPriceList`: its
//! values (`skuAttr`, named by `productSKUPropertyList`), sale or regular price, stock and its
//! values' pictures.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Selector};
use serde_json::Value;

use super::embedded::{self, blobs_after, find_all, path, text};
use super::facts::{Availability, ProductFacts, Spec, VariantFacts, price, read};
use super::page::{Page, capture, regex, selector};
use super::{Extractor, Found};
use crate::media::Role;

pub struct AliExpress;

impl Extractor for AliExpress {
    fn site(&self) -> &'static str {
        "aliexpress"
    }

    fn domains(&self) -> &'static [&'static str] {
        &["aliexpress.com", "aliexpress.us", "aliexpress.ru"]
    }

    fn product_paths(&self) -> &'static [&'static str] {
        &["/item/*"]
    }

    fn example(&self) -> &'static str {
        "https://www.aliexpress.com/item/1005003340501584.html"
    }

    fn product_id_in(&self, address: &str) -> Option<String> {
        capture(&ITEM_ID, address)
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        (page.has("window.runParams") && page.has("imagePathList"))
            || page.has("aliexpress.com/item/")
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        static RUN_PARAMS: LazyLock<Regex> =
            LazyLock::new(|| regex(r#"runParams\s*=\s*\{\s*"?data"?\s*:\s*"#));
        static DC_DATA: LazyLock<Regex> = LazyLock::new(|| regex(r"DCData\s*=\s*"));

        ids_from_urls(page, found);
        let run = blobs_after(page.raw(), &RUN_PARAMS);
        if run.seen && run.values.is_empty() {
            found.warn("AliExpress's runParams data could not be parsed; using the page's images");
        }
        let mut data: Vec<Value> = run.values;
        data.extend(blobs_after(page.raw(), &DC_DATA).values);

        for d in &data {
            for keys in [
                &["pageModule", "productId"][..],
                &["actionModule", "productId"],
                &["productInfoComponent", "id"],
                &["productId"],
            ] {
                if let Some(id) = path(d, keys).and_then(text) {
                    found.product_id(id);
                }
            }
            for keys in [
                &["titleModule", "subject"][..],
                &["productInfoComponent", "subject"],
                &["pageModule", "title"],
            ] {
                if let Some(t) = path(d, keys).and_then(text) {
                    found.title(t);
                }
            }
        }

        let gallery = data.iter().find_map(|d| {
            [
                &["imageModule", "imagePathList"][..],
                &["imageComponent", "imagePathList"],
                &["imagePathList"],
            ]
            .iter()
            .find_map(|keys| path(d, keys))
            .or_else(|| {
                find_all(d, "HEADER_IMAGE_PC")
                    .into_iter()
                    .find_map(|h| h.get("imagePathList"))
            })
            .map(embedded::strings)
            .filter(|l| !l.is_empty())
        });
        match gallery {
            Some(list) => {
                for url in list.iter().filter_map(|u| page.absolute(u)) {
                    found.product_image(url);
                }
            }
            None => dom_gallery(page, found),
        }

        for d in &data {
            variants(page, d, found);
            video(d, found);
        }
        description(page, found);
        facts(&data, found);
        if let Some(t) = page.meta("og:title") {
            found.title(clean_og_title(&t));
        }
    }
}

static ITEM_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"/item/(?:[^/?#]+/)?(\d{6,20})\.html"));

/// The description's pictures (module doc). Only AliExpress's own CDN: a description can embed
/// counters and badges from anywhere.
fn description(page: &Page<'_>, found: &mut Found) {
    static PICTURES: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "#product-description img, .product-description img, \
             .detail-desc-decorate-richtext img",
        )
    });
    for img in page.select(&PICTURES) {
        let links_to_an_item = img
            .ancestors()
            .filter_map(ElementRef::wrap)
            .take(8)
            .any(|e| {
                e.value().name() == "a"
                    && e.value().attr("href").is_some_and(|h| ITEM_ID.is_match(h))
            });
        if links_to_an_item {
            continue;
        }
        let Some(url) = page.img_url(img) else {
            continue;
        };
        let host = url::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        if super::host_is(&host, "alicdn.com") || super::host_is(&host, "aliexpress-media.com") {
            found.image(Role::Description, url);
        }
    }
}

fn ids_from_urls(page: &Page<'_>, found: &mut Found) {
    for id in page.address_ids(&ITEM_ID) {
        found.product_id(id);
    }
}

/// Variant pictures: SKU property values that carry an image.
fn variants(page: &Page<'_>, data: &Value, found: &mut Found) {
    let lists = [
        path(data, &["skuModule", "productSKUPropertyList"]),
        path(data, &["skuComponent", "productSKUPropertyList"]),
    ]
    .into_iter()
    .flatten()
    .chain(find_all(data, "skuProperties"));
    for list in lists {
        for prop in list.as_array().into_iter().flatten() {
            let prop_id = prop.get("skuPropertyId").and_then(text);
            for value in prop
                .get("skuPropertyValues")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(url) = value
                    .get("skuPropertyImagePath")
                    .and_then(text)
                    .and_then(|u| page.absolute(&u))
                else {
                    continue;
                };
                let label = [
                    "propertyValueDisplayName",
                    "propertyValueName",
                    "propertyValueDefinitionName",
                ]
                .iter()
                .find_map(|k| value.get(*k).and_then(text))
                .unwrap_or_default();
                let id = match (&prop_id, value.get("propertyValueId").and_then(text)) {
                    (Some(p), Some(v)) => Some(format!("{p}:{v}")),
                    _ => None,
                };
                found.variant_image(url, &label, id.as_deref());
            }
        }
    }
}

/// `imageModule.videoUid` + `videoId` → `cloud.video.taobao.com/play/u/<uid>/p/1/e/6/t/10301/<id>.mp4`
/// (epicdrop's AliexpressParser; no fixture has a video).
fn video(data: &Value, found: &mut Found) {
    for module in ["imageModule", "imageComponent"] {
        let uid = path(data, &[module, "videoUid"]).and_then(text);
        let id = path(data, &[module, "videoId"]).and_then(text);
        if let (Some(uid), Some(id)) = (uid, id) {
            found.video(
                Role::Video,
                format!("https://cloud.video.taobao.com/play/u/{uid}/p/1/e/6/t/10301/{id}.mp4"),
            );
        }
    }
}

/// The 2024+ rendered gallery (class names carry build hashes, so prefixes are matched).
fn dom_gallery(page: &Page<'_>, found: &mut Found) {
    static MAIN: LazyLock<Selector> = LazyLock::new(|| selector("img[class*=magnifier--image]"));
    static THUMBS: LazyLock<Selector> =
        LazyLock::new(|| selector("[class*=slider--img] img, img[class*=slider--img]"));
    if let Some(url) = page.first(&MAIN).and_then(|e| page.img_url(e)) {
        found.image(Role::Main, url);
    }
    for el in page.select(&THUMBS) {
        if let Some(url) = page.img_url(el) {
            found.image(Role::Gallery, url);
        }
    }
    if !found.has_images()
        && let Some(url) = page.meta("og:image").and_then(|u| page.absolute(&u))
    {
        found.image(Role::Main, url);
    }
}

/// The product's facts from runParams' modules (module doc, "facts").
fn facts(data: &[Value], found: &mut Found) {
    let mut f = ProductFacts::default();
    for d in data {
        let at = |keys: &[&str]| path(d, keys);
        if f.name.is_none() {
            f.name = [
                &["titleModule", "subject"][..],
                &["productInfoComponent", "subject"],
            ]
            .iter()
            .find_map(|k| at(k).and_then(text));
        }
        if let Some(prices) = at(&["priceModule"]) {
            let (price, currency) = now_price(prices);
            read::set_price(&mut f, price, currency);
        }
        if f.availability.is_none()
            && let Some(n) = at(&["quantityModule", "totalAvailQuantity"]).and_then(Value::as_u64)
        {
            f.availability = Some(in_stock(n));
        }
        if let Some(rating) = at(&["titleModule", "feedbackRating"]) {
            let count = rating.get("totalValidNum").and_then(Value::as_u64);
            if count.is_some_and(|n| n > 0) {
                f.review_count = count;
                f.rating = rating.get("averageStar").and_then(text);
            }
        }
        if f.seller.is_none() {
            f.seller = at(&["storeModule", "storeName"]).and_then(text);
        }
        if f.categories.is_empty() {
            // The home page and "All Categories" are the steps without a category id.
            let crumbs = at(&["crossLinkModule", "breadCrumbPathList"])
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|c| {
                    c.get("cateId")
                        .and_then(Value::as_u64)
                        .is_some_and(|id| id > 0)
                })
                .filter_map(|c| c.get("name").and_then(text));
            f.categories = read::categories(crumbs, None);
        }
        if f.specs.is_empty() {
            f.specs = specs(at(&["specsModule", "props"]));
        }
        if f.variants.is_empty() {
            let variants = skus(d);
            read::set_variants(&mut f, variants);
        }
    }
    read::ids_from_specs(&mut f);
    *found.facts() = f;
}

/// The price a buyer pays now and its currency: the sale (`activity`) price while a sale runs,
/// else the regular one; the lowest of its range (the page shows "€ 97,39 - 128,72").
fn now_price(prices: &Value) -> (Option<String>, Option<String>) {
    let amount = ["minActivityAmount", "minAmount"]
        .iter()
        .find_map(|k| prices.get(*k).filter(|a| a.get("value").is_some()));
    match amount {
        Some(a) => (
            a.get("value").and_then(read::amount),
            a.get("currency")
                .and_then(text)
                .and_then(|c| price::currency_code(&c, None)),
        ),
        None => (None, None),
    }
}

fn in_stock(quantity: u64) -> Availability {
    if quantity > 0 {
        Availability::InStock
    } else {
        Availability::OutOfStock
    }
}

/// `specsModule.props`: name/value pairs, a name listed once per value (a phone's languages)
/// joined into one.
fn specs(props: Option<&Value>) -> Vec<Spec> {
    let mut joined: Vec<(String, Vec<String>)> = Vec::new();
    for prop in props.and_then(Value::as_array).into_iter().flatten() {
        let (Some(name), Some(value)) = (
            prop.get("attrName").and_then(text),
            prop.get("attrValue").and_then(text),
        ) else {
            continue;
        };
        match joined.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => joined.push((name, vec![value])),
        }
    }
    let mut specs = Vec::new();
    for (name, values) in joined {
        read::add_spec(&mut specs, &name, &values.join(", "));
    }
    specs
}

/// Every SKU of `skuModule.skuPriceList`: its id, its property values (`skuAttr`
/// `14:193;200000124:350697`, named by `productSKUPropertyList`), price, stock and pictures.
fn skus(data: &Value) -> Vec<VariantFacts> {
    let Some(module) = path(data, &["skuModule"]) else {
        return Vec::new();
    };
    let properties = module
        .get("productSKUPropertyList")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    // `pid:vid` → (property name, value name, picture).
    let named = |pid: &str, vid: &str| -> Option<(String, String, Option<String>)> {
        let prop = properties
            .iter()
            .find(|p| p.get("skuPropertyId").and_then(text).as_deref() == Some(pid))?;
        let value = prop
            .get("skuPropertyValues")?
            .as_array()?
            .iter()
            .find(|v| v.get("propertyValueId").and_then(text).as_deref() == Some(vid))?;
        let name = [
            "propertyValueDisplayName",
            "propertyValueName",
            "propertyValueDefinitionName",
        ]
        .iter()
        .find_map(|k| value.get(*k).and_then(text))?;
        Some((
            prop.get("skuPropertyName")
                .and_then(text)
                .unwrap_or_default(),
            name,
            value.get("skuPropertyImagePath").and_then(text),
        ))
    };
    module
        .get("skuPriceList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(super::MAX_ITEMS)
        .map(|sku| {
            let mut attributes = Vec::new();
            let mut pictures = Vec::new();
            let attr = sku.get("skuAttr").and_then(text).unwrap_or_default();
            for part in attr.split(';').filter(|p| !p.is_empty()) {
                let (ids, custom) = part.split_once('#').unwrap_or((part, ""));
                let Some((pid, vid)) = ids.split_once(':') else {
                    continue;
                };
                match named(pid, vid) {
                    Some((name, value, picture)) => {
                        attributes.push((name, value));
                        pictures.extend(picture);
                    }
                    None if !custom.is_empty() => attributes.push((String::new(), custom.into())),
                    None => {}
                }
            }
            let mut v = read::variant(attributes);
            v.id = ["skuIdStr", "skuId"]
                .iter()
                .find_map(|k| sku.get(*k).and_then(text));
            v.sku = v.id.clone();
            v.pictures = pictures;
            if let Some(val) = sku.get("skuVal") {
                let sale = val.get("isActivity").is_some_and(super::embedded::truthy);
                let keys: &[&str] = if sale {
                    &[
                        "skuActivityAmount",
                        "actSkuMultiCurrencyCalPrice",
                        "skuAmount",
                    ]
                } else {
                    &["skuAmount", "skuMultiCurrencyCalPrice"]
                };
                v.price = keys.iter().find_map(|k| {
                    let field = val.get(*k)?;
                    read::amount(field.get("value").unwrap_or(field))
                });
                v.availability = val
                    .get("availQuantity")
                    .and_then(Value::as_u64)
                    .map(in_stock);
            }
            v
        })
        .collect()
}

/// `og:title` is `"<price> <discount>|<title>|<category>| - AliExpress"`.
fn clean_og_title(t: &str) -> String {
    let parts: Vec<&str> = t.split('|').map(str::trim).collect();
    match parts.as_slice() {
        [_, title, ..] if !title.is_empty() => title.to_string(),
        _ => t.trim_end_matches("- AliExpress").trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::media::Role;

    #[test]
    fn component_format_with_two_ids_and_a_video() {
        // 2023 "Component" runParams; the canonical id and the data's id disagree (as on the
        // ski-goggles page of extraction-rules.md §B1): the canonical one is the product id.
        let html = r#"<html><head>
            <link rel="canonical" href="https://www.aliexpress.us/item/1005003568989271.html">
            <meta property="og:url" content="//www.aliexpress.us/item/3256803382674519.html?src=x"></head><body><script>
            window.runParams = {"data": {
              "productInfoComponent": {"id": 3256803382674519, "subject": "Ski Goggles UV400"},
              "imageComponent": {"imagePathList": ["//ae01.alicdn.com/kf/S1.jpg", "//ae01.alicdn.com/kf/S2.jpg_640x640.jpg"],
                                 "videoUid": "uid9", "videoId": "4242"},
              "skuComponent": {"productSKUPropertyList": [{"skuPropertyId": 14, "skuPropertyValues": [
                 {"propertyValueId": 29, "propertyValueDisplayName": "White", "skuPropertyImagePath": "https://ae01.alicdn.com/kf/S3.jpg_640x640.jpg"},
                 {"propertyValueId": 193, "propertyValueDisplayName": "Black", "skuPropertyImagePath": "https://ae01.alicdn.com/kf/S1.jpg_50x50.jpg"}]}]}
            }, csrfToken: 'x'};</script></body></html>"#;
        let e = crate::extract::extract(html, None);
        assert_eq!(e.site, "aliexpress");
        assert_eq!(e.product_id.as_deref(), Some("1005003568989271"));
        assert_eq!(e.other_ids, vec!["3256803382674519"]);
        assert_eq!(e.title.as_deref(), Some("Ski Goggles UV400"));
        let got: Vec<(Role, &str, Option<&str>)> = e
            .media
            .iter()
            .map(|m| (m.role, m.url.as_str(), m.variant_id.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Role::Main, "https://ae01.alicdn.com/kf/S1.jpg", None),
                (Role::Gallery, "https://ae01.alicdn.com/kf/S2.jpg", None),
                // Black's picture is the main image: one item per asset, the first role wins.
                (
                    Role::Variant,
                    "https://ae01.alicdn.com/kf/S3.jpg",
                    Some("14:29")
                ),
                (
                    Role::Video,
                    "https://cloud.video.taobao.com/play/u/uid9/p/1/e/6/t/10301/4242.mp4",
                    None
                ),
            ]
        );
    }

    #[test]
    fn rendered_2024_gallery_without_data() {
        let html = r#"<html><body>
            <div class="magnifier--wrap--x"><img class="magnifier--image--RM17RL2" src="https://ae-pic-a1.aliexpress-media.com/kf/Sa1.jpg_960x960q75.jpg_.avif"></div>
            <div class="slider--img--kD4mIg7"><img src="https://ae-pic-a1.aliexpress-media.com/kf/Sa1.jpg_220x220q75.jpg_.avif"></div>
            <div class="slider--img--kD4mIg7"><img src="https://ae-pic-a1.aliexpress-media.com/kf/Sa2.png_220x220q75.png_.avif"></div>
            </body></html>"#;
        let e = crate::extract::extract(html, Some("https://de.aliexpress.com/item/1005006.html"));
        assert_eq!(e.product_id.as_deref(), Some("1005006"));
        let urls: Vec<&str> = e.media.iter().map(|m| m.url.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "https://ae-pic-a1.aliexpress-media.com/kf/Sa1.jpg",
                "https://ae-pic-a1.aliexpress-media.com/kf/Sa2.png",
            ]
        );
    }

    #[test]
    fn og_titles_lose_price_and_category() {
        assert_eq!(
            clean_og_title("1.83₪ 89% OFF|Usb Heated Shoe Insoles|Insoles| - AliExpress"),
            "Usb Heated Shoe Insoles"
        );
        assert_eq!(clean_og_title("Plain title - AliExpress"), "Plain title");
    }

    /// While a sale runs the buyer pays its price, for the product and each SKU; the regular
    /// price is the struck-out one.
    #[test]
    fn the_sale_price_not_the_regular_one() {
        let html = r#"<html><body><script>window.runParams = {"data": {
            "titleModule": {"subject": "Insoles"},
            "priceModule": {"minActivityAmount": {"currency": "ILS", "value": 1.83},
                            "minAmount": {"currency": "ILS", "value": 17.92}},
            "quantityModule": {"totalAvailQuantity": 0},
            "imageModule": {"imagePathList": ["https://ae01.alicdn.com/kf/S1.jpg"]},
            "skuModule": {"productSKUPropertyList": [{"skuPropertyId": 14, "skuPropertyName": "Color",
                "skuPropertyValues": [{"propertyValueId": 193, "propertyValueDisplayName": "Black"},
                                      {"propertyValueId": 29, "propertyValueDisplayName": "White"}]}],
              "skuPriceList": [
                {"skuAttr": "14:193", "skuIdStr": "1201", "skuVal": {"isActivity": true, "availQuantity": 0,
                  "skuActivityAmount": {"value": 1.83}, "skuAmount": {"value": 17.92}}},
                {"skuAttr": "14:29", "skuIdStr": "1202", "skuVal": {"isActivity": false, "availQuantity": 4,
                  "skuAmount": {"value": 19.5}}}]}
            }};</script></body></html>"#;
        let f = crate::extract::extract(
            html,
            Some("https://www.aliexpress.com/item/1005003340501584.html"),
        )
        .product;
        assert_eq!(
            (f.price.as_deref(), f.currency.as_deref()),
            (Some("1.83"), Some("ILS"))
        );
        assert_eq!(
            f.availability,
            Some(crate::extract::facts::Availability::OutOfStock)
        );
        let v: Vec<(Option<&str>, Option<&str>, Option<&str>)> = f
            .variants
            .iter()
            .map(|v| (v.id.as_deref(), v.label.as_deref(), v.price.as_deref()))
            .collect();
        assert_eq!(
            v,
            [
                (Some("1201"), Some("Black"), Some("1.83")),
                (Some("1202"), Some("White"), Some("19.50"))
            ]
        );
    }
}
