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
//!
//! **Facts**: in Canada the state's product — name, `brandName`, `sku`, `modelNumber`, `upcs`, the
//! shelf price `priceWithoutEhf` (the environmental fee depends on the province) in the state's
//! `intl` currency, the shipping availability, rating and count, `shortDescription`,
//! `longDescription`'s bullet points, the grouped `specs`, the category breadcrumb; in the United
//! States the markup — the header's title, model and SKU, the price block's customer price (`$`: US
//! dollars), the key specifications, the features, the review stats, the breadcrumbs after the
//! store's home, the add-to-cart button's state, and a one-dimension variation chooser's values.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Selector};
use serde_json::Value;

use super::embedded::{self, json_after, number, path, text};
use super::facts::{Availability, ProductFacts, VariantFacts, price, read};
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
        match canada_state(page) {
            Some((state, product)) => {
                canada(page, &product, found);
                canada_facts(&state, &product, found);
            }
            None => {
                united_states(page, found);
                us_facts(page, found);
            }
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

/// The state (`window.__INITIAL_STATE__`) and its product (`product.product`).
fn canada_state(page: &Page<'_>) -> Option<(Value, Value)> {
    static STATE: LazyLock<Regex> = LazyLock::new(|| regex(r"window\.__INITIAL_STATE__\s*=\s*"));
    if !page.has("__INITIAL_STATE__") {
        return None;
    }
    json_after(page.raw(), &STATE)
        .into_iter()
        .find_map(|state| {
            let product = path(&state, &["product", "product"])
                .filter(|p| p.is_object())?
                .clone();
            Some((state, product))
        })
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

// ---- Facts --------------------------------------------------------------------------------------

/// The store's country by the page's host: `bestbuy.ca` sells in Canadian dollars, `bestbuy.com`
/// in US dollars — what a `$` means there.
fn store_country(page: &Page<'_>) -> Option<&'static str> {
    let host = page.host()?;
    if super::host_is(&host, "bestbuy.ca") {
        Some("ca")
    } else if super::host_is(&host, "bestbuy.com") {
        Some("us")
    } else {
        None
    }
}

/// The Canadian state's facts (module doc, "facts").
fn canada_facts(state: &Value, product: &Value, found: &mut Found) {
    let get = |k: &str| product.get(k).and_then(text);
    let mut f = ProductFacts {
        name: get("name"),
        brand: get("brandName"),
        sku: get("sku"),
        mpn: get("modelNumber"),
        gtin: product
            .get("upcs")
            .map(embedded::strings)
            .and_then(|u| u.into_iter().find_map(|c| read::gtin(&c))),
        description: get("shortDescription").and_then(|d| read::plain_text(&d)),
        rating: get("customerRating"),
        review_count: product.get("customerRatingCount").and_then(Value::as_u64),
        ..Default::default()
    };
    // The shelf price; the environmental handling fee depends on the buyer's province.
    let price = ["priceWithoutEhf", "priceWithEhf"]
        .iter()
        .find_map(|k| product.get(*k).and_then(read::amount));
    let currency = path(state, &["intl", "formats", "number", "price", "currency"])
        .and_then(text)
        .and_then(|c| price::currency_code(&c, None));
    read::set_price(&mut f, price, currency);
    // The long description is the product's bullet points.
    if let Some(html) = get("longDescription") {
        f.features = bullets(&html);
    }
    if let Some(Value::Object(groups)) = product.get("specs") {
        for spec in groups.values().filter_map(Value::as_array).flatten() {
            if let (Some(name), Some(value)) = (
                spec.get("name").and_then(text),
                spec.get("value").and_then(text),
            ) {
                read::add_spec(&mut f.specs, &name, &value);
            }
        }
    }
    let shipping = path(state, &["product", "availability", "shipping"]);
    f.availability = shipping.and_then(|s| {
        s.get("status")
            .and_then(text)
            .and_then(|st| Availability::parse(&st))
            .or_else(|| {
                s.get("purchasable").and_then(Value::as_bool).map(|yes| {
                    if yes {
                        Availability::InStock
                    } else {
                        Availability::OutOfStock
                    }
                })
            })
    });
    // "All Categories" is the store's root, not a category (its id is `Departments`).
    let crumbs = path(state, &["product", "category", "categoryBreadcrumb"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| {
            c.get("categoryId")
                .and_then(text)
                .is_some_and(|id| id.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|c| c.get("name").and_then(text));
    f.categories = read::categories(crumbs, None);
    read::ids_from_specs(&mut f);
    *found.facts() = f;
}

/// The list items of an HTML list (a description written as bullet points).
fn bullets(html: &str) -> Vec<String> {
    static ITEMS: LazyLock<Selector> = LazyLock::new(|| selector("li"));
    scraper::Html::parse_fragment(html)
        .select(&ITEMS)
        .filter_map(read::inline_text)
        .take(64)
        .collect()
}

/// The US page's facts, from its markup (module doc, "facts").
fn us_facts(page: &Page<'_>, found: &mut Found) {
    static TITLE: LazyLock<Selector> =
        LazyLock::new(|| selector("[data-component-name=ProductHeader] h1"));
    static HEADER_FIELDS: LazyLock<Selector> =
        LazyLock::new(|| selector("[data-component-name=ProductHeader] div div"));
    static PRICE: LazyLock<Selector> = LazyLock::new(|| {
        selector("[data-component-name=LargePrice] [data-testid=price-block-customer-price] span")
    });
    static SPECS: LazyLock<Selector> = LazyLock::new(|| selector("#key-specs-list li > div"));
    static FEATURES: LazyLock<Selector> =
        LazyLock::new(|| selector("[data-component-name=ProductFeatures] li"));
    static RATING: LazyLock<Selector> = LazyLock::new(|| {
        selector("[data-component-name=ReviewStatsContextualized] span[aria-hidden]")
    });
    static CRUMBS: LazyLock<Selector> =
        LazyLock::new(|| selector("nav[aria-label=pdp-breadcrumb] a[href]"));
    static CART: LazyLock<Selector> = LazyLock::new(|| {
        selector("[data-component-name=AddToCart] button[data-testid^=pdp-add-to-cart]")
    });
    let mut f = ProductFacts {
        name: page.first(&TITLE).map(text_of).filter(|t| !t.is_empty()),
        ..Default::default()
    };
    // "Model: A1383H11-1", "SKU: 6644753" under the title.
    for field in page.select(&HEADER_FIELDS).map(text_of) {
        match field.split_once(':') {
            Some(("Model", model)) => f.mpn = f.mpn.take().or(Some(model.trim().to_string())),
            Some(("SKU", sku)) => f.sku = f.sku.take().or(Some(sku.trim().to_string())),
            _ => {}
        }
    }
    if let Some(shown) = page.first(&PRICE).map(text_of) {
        let (price, currency) = read::money(&shown, store_country(page));
        read::set_price(&mut f, price, currency);
    }
    for row in page.select(&SPECS) {
        let cells: Vec<String> = row
            .children()
            .filter_map(ElementRef::wrap)
            .map(text_of)
            .collect();
        if let [name, value] = cells.as_slice() {
            read::add_spec(&mut f.specs, name, value);
        }
    }
    read::ids_from_specs(&mut f);
    f.features = page
        .select(&FEATURES)
        .filter_map(read::inline_text)
        .collect();
    for shown in page.select(&RATING).map(text_of) {
        if shown.starts_with('(') {
            f.review_count = f.review_count.or(read::count_in(&shown));
        } else if f.rating.is_none() {
            f.rating = read::rating_in(&shown);
        }
    }
    // The store's home page is the first crumb, not a category.
    let crumbs = page
        .select(&CRUMBS)
        .filter(|a| {
            a.value()
                .attr("href")
                .and_then(|h| url::Url::parse(h).ok())
                .is_none_or(|u| u.path() != "/")
        })
        .map(text_of);
    f.categories = read::categories(crumbs, None);
    f.availability = page.first(&CART).map(|b| {
        if b.value().attr("disabled").is_some() {
            Availability::OutOfStock
        } else {
            Availability::InStock
        }
    });
    let variants = variations(page, &f);
    read::set_variants(&mut f, variants);
    *found.facts() = f;
}

/// The variation chooser's values when it offers one dimension (`Capacity`): the page names
/// them, and which is this product's, but not the SKUs of the others.
fn variations(page: &Page<'_>, product: &ProductFacts) -> Vec<VariantFacts> {
    static SECTIONS: LazyLock<Selector> =
        LazyLock::new(|| selector("[data-component-name=ProductVariations] section"));
    static NAME: LazyLock<Selector> = LazyLock::new(|| selector("h2"));
    static VALUES: LazyLock<Selector> = LazyLock::new(|| selector("li button[aria-label]"));
    let sections: Vec<ElementRef<'_>> = page.select(&SECTIONS).collect();
    let [section] = sections.as_slice() else {
        return Vec::new();
    };
    let Some(dimension) = section
        .select(&NAME)
        .next()
        .map(|h| text_of(h).trim_end_matches([':', ' ']).to_string())
    else {
        return Vec::new();
    };
    let choices = section
        .select(&VALUES)
        .filter_map(|b| {
            let label = b.value().attr("aria-label")?;
            let value = read::inline_text(b)?;
            Some(read::Choice {
                id: None,
                selected: label.ends_with(" selected"),
                value,
                pictures: Vec::new(),
            })
        })
        .collect();
    read::choices(&dimension, choices, product)
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
