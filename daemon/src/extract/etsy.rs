//! Etsy (`extraction-rules.md` §5). Sources, best first:
//!
//! * **id** — `/listing/<id>` in the canonical link or page URL, then `"listing_id"`;
//! * **images** — ~2015 `Etsy.Context` `"all_image_urls"` (already `il_fullxfull`); ~2020+ the
//!   listing carousel `[data-carousel-pane] img` (`data-src-zoom-image` = `il_fullxfull`, else
//!   the biggest `srcset`); then JSON-LD `Product.image`, then `og:image`;
//! * **videos** — `<video>`/`<source>` in the listing carousel, JSON-LD `Product.video`;
//! * **review** — buyers' photos of this listing (`/iap/` images, rewritten to `iap_fullxfull`).
//!
//! Etsy maps variation values to pictures in `image_ids_by_listing_variation_ids`, empty in the
//! only fixture that has the key, so Etsy yields no `variant` items yet.
//!
//! **Facts**: the buy box's price in the shopper's currency (taxes included where they apply; the
//! listing's data may state it before tax), where its currency is plain, else the 2015 page's
//! `#listing-price` meta; the buy box's stock words; the shop; the description.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Selector};
use serde_json::Value;

use super::embedded::{blobs_after, text};
use super::facts::{ProductFacts, read};
use super::page::{Page, capture, regex, selector, text_of};
use super::{Extractor, Found};
use crate::media::Role;

pub struct Etsy;

impl Extractor for Etsy {
    fn site(&self) -> &'static str {
        "etsy"
    }

    fn domains(&self) -> &'static [&'static str] {
        &["etsy.com"]
    }

    fn product_paths(&self) -> &'static [&'static str] {
        // Localised listings live under a language or region prefix: `/es/listing/…`.
        &["/listing/*", "/*/listing/*"]
    }

    fn example(&self) -> &'static str {
        "https://www.etsy.com/es/listing/550571276/el-original-he-y-hay-calabaza-decoracion"
    }

    fn product_id_in(&self, address: &str) -> Option<String> {
        capture(&LISTING, address)
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        page.has("Etsy.Context") || page.has("data-palette-listing-id")
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        ids(page, found);
        title(page, found);
        images(page, found);
        videos(page, found);
        reviews(page, found);
        facts(page, found);
    }
}

/// A listing's address: `/listing/<id>/<slug>`.
static LISTING: LazyLock<Regex> = LazyLock::new(|| regex(r"/listing/(\d{4,15})(?:[/?#]|$)"));

fn ids(page: &Page<'_>, found: &mut Found) {
    static DATA: LazyLock<Regex> = LazyLock::new(|| regex(r#""listing_id"\s*:\s*"?(\d{4,15})"#));
    for id in page.address_ids(&LISTING) {
        found.product_id(id);
    }
    if let Some(id) = capture(&DATA, page.raw()) {
        found.product_id(id);
    }
}

fn title(page: &Page<'_>, found: &mut Found) {
    static TITLE: LazyLock<Selector> = LazyLock::new(|| {
        selector("h1[data-buy-box-listing-title], h1 [itemprop=name], h1[itemprop=name]")
    });
    if let Some(h1) = page.first(&TITLE) {
        found.title(text_of(h1));
    }
    for p in products(page) {
        if let Some(name) = p.get("name").and_then(text) {
            found.title(name);
        }
    }
    if let Some(t) = page.meta("og:title") {
        found.title(t.trim_end_matches("| Etsy").trim());
    }
}

/// JSON-LD `Product` objects.
fn products(page: &Page<'_>) -> Vec<Value> {
    page.json_ld()
        .into_iter()
        .filter(|v| v.get("@type").and_then(Value::as_str) == Some("Product"))
        .collect()
}

fn images(page: &Page<'_>, found: &mut Found) {
    static ALL_IMAGES: LazyLock<Regex> = LazyLock::new(|| regex(r#""all_image_urls"\s*:\s*"#));
    static CAROUSEL: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "[data-carousel-pane] img, [data-component=listing-page-image-carousel] li[data-image-id] img",
        )
    });

    let blobs = blobs_after(page.raw(), &ALL_IMAGES);
    if let Some(list) = blobs.first_strings() {
        for url in list.iter().filter_map(|u| page.absolute(u)) {
            found.product_image(url);
        }
        return;
    }
    for img in page.select(&CAROUSEL) {
        if let Some(url) = page.img_url(img) {
            found.product_image(url);
        }
    }
    if found.has_images() {
        return;
    }
    for p in products(page) {
        for url in image_urls(p.get("image")) {
            if let Some(url) = page.absolute(&url) {
                found.product_image(url);
            }
        }
    }
    if !found.has_images()
        && let Some(url) = page.meta("og:image").and_then(|u| page.absolute(&u))
    {
        found.product_image(url);
    }
}

/// URLs of a JSON-LD `image` value: a string, an `ImageObject`, or a list of either.
pub(crate) fn image_urls(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().flat_map(|i| image_urls(Some(i))).collect(),
        Some(obj @ Value::Object(_)) => ["contentUrl", "url"]
            .iter()
            .find_map(|k| obj.get(*k).and_then(text))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

fn videos(page: &Page<'_>, found: &mut Found) {
    static VIDEO: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "[data-component=listing-page-image-carousel] video[src], \
             [data-component=listing-page-image-carousel] video source[src], \
             .listing-page-image-carousel-component video source[src]",
        )
    });
    for v in page.select(&VIDEO) {
        if let Some(url) = v.value().attr("src").and_then(|u| page.absolute(u)) {
            found.video(Role::Video, url);
        }
    }
    for p in products(page) {
        for url in image_urls(p.get("video")) {
            if let Some(url) = page.absolute(&url) {
                found.video(Role::Video, url);
            }
        }
    }
}

/// The listing's facts from its buy box (module doc, "facts").
fn facts(page: &Page<'_>, found: &mut Found) {
    static SHOWN_PRICE: LazyLock<Selector> =
        LazyLock::new(|| selector("[data-buy-box-region=price] p"));
    static STOCK: LazyLock<Selector> = LazyLock::new(|| selector("[data-buy-box-region=price]"));
    static OLD_PRICE: LazyLock<Selector> =
        LazyLock::new(|| selector("#listing-price meta[itemprop=price][content]"));
    static OLD_CURRENCY: LazyLock<Selector> =
        LazyLock::new(|| selector("#listing-price meta[itemprop=currency][content]"));
    static SHOP: LazyLock<Selector> = LazyLock::new(|| {
        selector("#listing-page-cart a[href*='/shop/'], #ask-a-question[data-to_username]")
    });
    static DESCRIPTION: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "[data-product-details-description-text-content], \
             #wt-content-toggle-product-details-read-more, #description-text",
        )
    });
    let country = super::facts::country_of(page);
    let mut f = ProductFacts::default();
    // The buy box shows the price in the shopper's currency, taxes included where they apply
    // ("53,11 € IVA incluido"); the listing's data may give it in the shop's currency before
    // tax. The buy box's is what the buyer pays, where its currency is plain.
    if let Some((price, Some(currency))) = page
        .select(&SHOWN_PRICE)
        .map(|p| read::money(&text_of(p), country.as_deref()))
        .find(|(price, _)| price.is_some())
    {
        read::set_price(&mut f, price, Some(currency));
    }
    if let Some(price) = page.attr(&OLD_PRICE, "content") {
        let currency = page
            .attr(&OLD_CURRENCY, "content")
            .and_then(|c| super::facts::price::currency_code(&c, None));
        read::set_price(
            &mut f,
            super::facts::price::machine_amount(&price),
            currency,
        );
    }
    f.availability = page
        .first(&STOCK)
        .and_then(|e| read::availability_said(&text_of(e)));
    f.seller = page.first(&SHOP).and_then(|e| {
        e.value()
            .attr("data-to_username")
            .map(str::to_string)
            .or_else(|| Some(text_of(e)))
            .filter(|s| !s.trim().is_empty())
    });
    f.description = page.select(&DESCRIPTION).find_map(read::element_text);
    *found.facts() = f;
}

/// Buyers' photos of this listing. The shop-wide "photos from reviews" carousel
/// (`data-customer-photos-section=shop`) and the shop reviews tab picture the shop's other
/// listings too, so they are left out.
fn reviews(page: &Page<'_>, found: &mut Found) {
    static PHOTOS: LazyLock<Selector> =
        LazyLock::new(|| selector("img[src*='/iap/'], img[data-src*='/iap/']"));
    for img in page.select(&PHOTOS) {
        let shop_wide = img.ancestors().filter_map(ElementRef::wrap).any(|e| {
            let v = e.value();
            v.id() == Some("shop-reviews-panel")
                || v.attr("data-customer-photos-section") == Some("shop")
        });
        if shop_wide {
            continue;
        }
        if let Some(url) = page.img_url(img) {
            found.image(Role::Review, url);
        }
    }
}
