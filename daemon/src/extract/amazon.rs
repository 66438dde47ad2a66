//! Amazon, every locale (`extraction-rules.md` §1). Sources, best first:
//!
//! * **id** — the page's own ASIN: the address the user opened, the image block's
//!   `mediaAsin`/`landingAsin`, the canonical link's `/dp/<ASIN>` (`/product-reviews/<ASIN>` on
//!   a reviews page), `<input id="ASIN">` — never the variation family's `parentAsin`, which is
//!   recorded as the parent ([`ids`]);
//! * **main + gallery** — ImageBlockATF `'colorImages': {'initial': [...]}` (each entry's
//!   `hiRes`, else its biggest `main` rendition by area, else `large`); else ImageBlockBTF's
//!   `colorImages` for the landing variant; else the old book layout's `'imageGalleryData'`;
//!   else the DOM: `#landingImage`/`#imgBlkFront` (`data-old-hires`, the biggest
//!   `data-a-dynamic-image` entry, `src`) and the `#altImages` thumbnails after the first (the
//!   landing image's own thumbnail) — they name smaller uploads than the hi-res images (§A3.4),
//!   so they are the last resort;
//! * **variants** — ImageBlockBTF (`jQuery.parseJSON('…')`, JS-decoded then JSON) `colorImages`,
//!   one key per variation; the label is the variation's colour (from `"dimensions"` and
//!   `"dimensionValuesDisplayData"`), or the whole key when the page has no colour dimension;
//!   `variant_id` is the key's ASIN from `colorToAsin`. Every image-block entry's `"variant"`
//!   (`MAIN`, `PT01`…, `FRNT`, `PS01`) is kept as the picture's code, Seller Central's name for
//!   its place in the set;
//! * **videos** — `videos[]` of the parseJSON blobs with a `url`, kept when `groupType` is absent
//!   or `IB_G1` ("videos for this product"; `IB_G2` are related/influencer videos) — unless the
//!   carousel card of the same video lists products and none of them is this one; the video
//!   carousel's `[data-video-url]` cards and `data-video-items` lists, kept when they are the
//!   seller's/vendor's and about this product (`data-related-products` names its ASIN, an alias
//!   or its parent); customer videos from reviews become `review` items; influencer videos are
//!   skipped. One video linked as MP4 here and as HLS there is one item (`cdn::asset_id`);
//! * **description** — images inside the A+ / brand story / product description blocks, except the
//!   comparison table's pictures of other products;
//! * **review** — review image tiles and the customer-image carousel, on the product page and on
//!   its reviews page (`/product-reviews/<ASIN>`, which holds nothing else of the product).
//!
//! **Facts** (`found.facts()`): the name `#productTitle`; the buy box's price — the twister's
//! `.twister-plus-buying-options-price-data`, else its price elements, deal and sale price before
//! the regular one, a book's selected (`a-accordion-active`) buying option — in the storefront's
//! currency (`$` is the dollar of amazon.com, the Canadian dollar of amazon.ca); a buy box without
//! an offer of its own ("See all buying options") makes price and availability absent, since the
//! page's other prices are other products'; `#availability`'s words; the ASIN as the SKU; the
//! overview, technical details and detail-bullet tables as specifications (their brand, part or
//! model number, ISBN-13 as brand, MPN, GTIN; else the byline's brand filter or brand store);
//! `#feature-bullets`; the wayfinding breadcrumbs; `#acrPopover` and `#acrCustomerReviewText`; the
//! seller's profile link or the buy box's "sold by Amazon…"; the book or product description; and
//! the variation family from `dimensionValuesDisplayData` (each ASIN's values, named by
//! `variationDisplayLabels`) with the `colorImages` of its `colorToAsin` key — only the page's own
//! ASIN has its price on the page.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Selector};
use serde_json::{Map, Value};

use super::embedded::{self, blobs_after, json_in_js_strings_after, number, text, truthy};
use super::facts::{Availability, Fact, ProductFacts, Spec, VariantFacts, price, read};
use super::page::{Page, capture, regex, selector, text_of};
use super::{Extractor, Found};
use crate::media::Role;

pub struct Amazon;

/// Amazon's storefronts, one per country.
const DOMAINS: &[&str] = &[
    "amazon.com",
    "amazon.ca",
    "amazon.com.mx",
    "amazon.com.br",
    "amazon.co.uk",
    "amazon.ie",
    "amazon.de",
    "amazon.fr",
    "amazon.it",
    "amazon.es",
    "amazon.nl",
    "amazon.se",
    "amazon.pl",
    "amazon.com.be",
    "amazon.com.tr",
    "amazon.ae",
    "amazon.sa",
    "amazon.eg",
    "amazon.in",
    "amazon.co.jp",
    "amazon.cn",
    "amazon.com.au",
    "amazon.sg",
    "amazon.co.za",
];

impl Extractor for Amazon {
    fn site(&self) -> &'static str {
        "amazon"
    }

    fn domains(&self) -> &'static [&'static str] {
        DOMAINS
    }

    fn product_paths(&self) -> &'static [&'static str] {
        // `/<title slug>/dp/…` is how search results link; `/gp/aw/d/` is the phone layout;
        // `/product-reviews/…` is a product's reviews, with its customers' photos.
        &[
            "/dp/*",
            "/*/dp/*",
            "/gp/product/*",
            "/gp/aw/d/*",
            "/product-reviews/*",
            "/*/product-reviews/*",
        ]
    }

    fn example(&self) -> &'static str {
        "https://www.amazon.com/Gorilla-6012110-Black-2-Pack-Piece/dp/B00N150YS4"
    }

    fn product_id_in(&self, address: &str) -> Option<String> {
        capture(&ASIN_IN_URL, address)
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        page.has("ImageBlockATF")
            || (page.has("ue_sn") && page.has("www.amazon."))
            || (page.has("id=\"ASIN\"") && page.has("/images/I/"))
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        let ours = ids(page, found);
        let btf = Btf::read(page, found);
        let twister = Twister::read(page);
        title(page, &btf, found);
        gallery(page, &btf, found);
        variants(page, &btf, &twister, found);
        facts(page, &btf, &twister, found);
        videos(page, &btf, &ours, found);
        description(page, found);
        reviews(page, found);
    }
}

static ASIN_IN_URL: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"/(?:dp|gp/product|gp/aw/d|o/ASIN|product-reviews)/([A-Z0-9]{10})(?:[/?#]|$)")
});
static ASIN: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Z0-9]{10}$"));

static ASIN_INPUT: LazyLock<Selector> = LazyLock::new(|| selector("input#ASIN[value]"));

fn asin_in(url: &str) -> Option<String> {
    capture(&ASIN_IN_URL, url)
}

/// Records the product's ASIN, its aliases and its variation family's parent ASIN, and returns
/// them all: what "about this product" means for videos.
///
/// The package is named by the page's own ASIN — the one a customer buys and Seller Central
/// files the pictures under. In order: the address the user opened (the browser's address bar
/// follows the variant picked on the page), the image block's own `mediaAsin` / `landingAsin`
/// / `currentAsin`, the canonical link, `og:url`, the hidden `<input id="ASIN">`. The first
/// names the package; the others that differ are kept as aliases. The variation family's
/// parent ASIN (`"parentAsin"`) is nobody's product: it never names the package while another
/// ASIN is known (a page opened at the parent's address shows one of its children), and is
/// recorded as the parent.
fn ids(page: &Page<'_>, found: &mut Found) -> HashSet<String> {
    static OWN: LazyLock<Regex> = LazyLock::new(|| {
        regex(r#""(?:mediaAsin|landingAsin|currentAsin)"\s*:\s*"([A-Z0-9]{10})""#)
    });
    let parent = parent_asin(page);
    let mut candidates: Vec<String> = page
        .opened()
        .and_then(|u| asin_in(u.as_str()))
        .into_iter()
        .collect();
    candidates.extend(
        OWN.captures_iter(page.raw())
            .take(8)
            .filter_map(|c| Some(c.get(1)?.as_str().to_string())),
    );
    candidates.extend(page.canonical().and_then(|u| asin_in(&u)));
    candidates.extend(page.meta("og:url").and_then(|u| asin_in(&u)));
    candidates.extend(page.attr(&ASIN_INPUT, "value").filter(|a| ASIN.is_match(a)));
    let is_parent = |a: &String| parent.as_ref() == Some(a);
    let only_the_parent = candidates.iter().all(is_parent);
    for asin in &candidates {
        if only_the_parent || !is_parent(asin) {
            found.product_id(asin);
        }
    }
    if let Some(p) = &parent {
        found.parent_id(p);
    }
    candidates.into_iter().chain(parent).collect()
}

/// The product's parent ASIN (its variation family), when the page names one.
fn parent_asin(page: &Page<'_>) -> Option<String> {
    static PARENT: LazyLock<Regex> =
        LazyLock::new(|| regex(r#""parent_?[aA]sin"\s*:\s*"([A-Z0-9]{10})""#));
    capture(&PARENT, page.raw())
}

fn title(page: &Page<'_>, btf: &Btf, found: &mut Found) {
    static TITLE: LazyLock<Selector> =
        LazyLock::new(|| selector("#productTitle, #ebooksProductTitle, #btAsinTitle"));
    // A reviews page names its product in the link back to it.
    static REVIEWED: LazyLock<Selector> = LazyLock::new(|| selector("a[data-hook=product-link]"));
    static STRIP: LazyLock<Regex> = LazyLock::new(|| {
        regex(r"(?i)^\s*amazon\.[a-z.]+\s*:\s*|\s*:\s*amazon\.[a-z.]+(?:\s*:.*)?$")
    });
    if let Some(t) = page.first(&TITLE).map(text_of) {
        found.title(t);
    }
    if let Some(t) = page.first(&REVIEWED).map(text_of) {
        found.title(t);
    }
    if let Some(t) = &btf.title {
        found.title(decode_entities(t));
    }
    for t in page.meta("title").into_iter().chain(page.meta("og:title")) {
        found.title(STRIP.replace_all(&t, ""));
    }
}

/// The few HTML entities Amazon leaves in its JSON strings (`"title":"1.88&quot; x 12 yd"`).
fn decode_entities(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// What the ImageBlockBTF/video `parseJSON('…')` blobs say, merged.
#[derive(Default)]
struct Btf {
    color_images: Map<String, Value>,
    color_to_asin: Map<String, Value>,
    landing: Option<String>,
    videos: Vec<Value>,
    title: Option<String>,
}

impl Btf {
    fn read(page: &Page<'_>, found: &mut Found) -> Btf {
        static PARSE_JSON: LazyLock<Regex> = LazyLock::new(|| regex(r"parseJSON\("));
        let blobs = json_in_js_strings_after(page.raw(), &PARSE_JSON);
        if blobs.seen && blobs.values.is_empty() {
            found.warn("Amazon's image-block data (parseJSON) could not be decoded");
        }
        let mut btf = Btf::default();
        for v in &blobs.values {
            let object = |key: &str| {
                v.get(key)
                    .and_then(Value::as_object)
                    .filter(|m| !m.is_empty())
            };
            if btf.color_images.is_empty()
                && let Some(m) = object("colorImages")
            {
                btf.color_images = m.clone();
            }
            if btf.color_to_asin.is_empty()
                && let Some(m) = object("colorToAsin")
            {
                btf.color_to_asin = m.clone();
            }
            if btf.landing.is_none() {
                btf.landing = v.get("landingAsinColor").and_then(text);
            }
            if btf.title.is_none() {
                btf.title = v.get("title").and_then(text);
            }
            if let Some(list) = v.get("videos").and_then(Value::as_array) {
                btf.videos.extend(list.iter().cloned());
            }
        }
        btf
    }
}

/// The best URL of one `colorImages`/`imageGalleryData` entry: `hiRes`, else the biggest `main`
/// rendition (by area — the order of the two numbers varies between page generations), else
/// `large`/`mainUrl`, else `thumb`. Each is rewritten to its original later; the choice matters
/// because `large`/`thumb` are a smaller, different upload than `hiRes`.
fn entry_url(entry: &Value) -> Option<String> {
    if let Some(hi) = entry.get("hiRes").and_then(text) {
        return Some(hi);
    }
    let biggest = entry
        .get("main")
        .and_then(Value::as_object)
        .and_then(|main| {
            main.iter()
                .filter_map(|(url, dims)| {
                    let d = dims.as_array()?;
                    let area = number(d.first()?)? * number(d.get(1)?)?;
                    Some((area, url))
                })
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, url)| url.clone())
        });
    biggest.or_else(|| {
        ["large", "mainUrl", "thumb", "thumbUrl"]
            .iter()
            .find_map(|k| entry.get(*k).and_then(text))
    })
}

fn push_gallery(page: &Page<'_>, entries: &[Value], found: &mut Found) {
    for entry in entries {
        if let Some(url) = entry_url(entry).and_then(|u| page.absolute(&u)) {
            found.product_image_coded(url, entry_code(entry).as_deref());
        }
    }
}

/// The entry's image variant code (`"variant": "PT05"`): its place in its set, which Seller
/// Central names the same way.
fn entry_code(entry: &Value) -> Option<String> {
    entry.get("variant").and_then(text)
}

fn gallery(page: &Page<'_>, btf: &Btf, found: &mut Found) {
    static ATF: LazyLock<Regex> =
        LazyLock::new(|| regex(r"'colorImages'\s*:\s*\{\s*'initial'\s*:\s*"));
    static GALLERY_DATA: LazyLock<Regex> =
        LazyLock::new(|| regex(r#"['"]imageGalleryData['"]\s*:\s*"#));

    let atf = blobs_after(page.raw(), &ATF);
    if let Some(entries) = atf.first_array() {
        push_gallery(page, entries, found);
        return;
    }
    if atf.seen {
        found.warn("Amazon's ImageBlockATF image list could not be parsed; using other sources");
    }
    let landing = btf
        .color_images
        .get("initial")
        .or_else(|| btf.landing.as_ref().and_then(|l| btf.color_images.get(l)))
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty());
    if let Some(entries) = landing {
        push_gallery(page, entries, found);
        return;
    }
    let books = blobs_after(page.raw(), &GALLERY_DATA);
    if let Some(entries) = books.first_array() {
        push_gallery(page, entries, found);
        return;
    }
    if books.seen {
        found.warn("Amazon's imageGalleryData could not be parsed; using the page's images");
    }
    dom_gallery(page, found);
}

/// No script data (a page saved without scripts, or an old layout): the landing image and the
/// thumbnail strip.
fn dom_gallery(page: &Page<'_>, found: &mut Found) {
    static LANDING: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "#landingImage, #imgBlkFront, #ebooksImgBlkFront, #main-image, #imgTagWrapperId img",
        )
    });
    static ALT: LazyLock<Selector> =
        LazyLock::new(|| selector("#altImages li img, #altImages img"));

    if let Some(el) = page.first(&LANDING) {
        let hires = el
            .value()
            .attr("data-old-hires")
            .and_then(|u| page.absolute(u));
        let dynamic = el
            .value()
            .attr("data-a-dynamic-image")
            .and_then(|j| biggest_dynamic_image(page, j));
        if dynamic.is_none() && el.value().attr("data-a-dynamic-image").is_some() {
            found.warn(
                "Amazon's data-a-dynamic-image attribute is malformed; using the image's src",
            );
        }
        if let Some(url) = hires.or(dynamic).or_else(|| page.img_url(el)) {
            found.image(Role::Main, url);
        }
    }
    // The strip starts with the landing image itself (as a smaller upload, so it cannot be
    // matched by id): with a landing image found, that first thumbnail is skipped.
    let mut skip_first = found.count(Role::Main) > 0;
    let mut thumbs = 0;
    for el in page.select(&ALT) {
        let class = el.value().attr("class").unwrap_or("");
        let Some(url) = page.img_url(el) else {
            continue;
        };
        // Video thumbnails and sprites are not gallery pictures.
        if class.contains("video") || url.contains("play-icon") || !url.contains("/images/I/") {
            continue;
        }
        if std::mem::take(&mut skip_first) {
            continue;
        }
        found.image(Role::Gallery, url);
        thumbs += 1;
    }
    if thumbs > 0 {
        found.warn(
            "Amazon's gallery came from the page's thumbnails only; those name ~500 px uploads, not the hi-res images",
        );
    }
}

/// The biggest entry of a `data-a-dynamic-image` map (`{"url": [w, h], …}`) whose key is a real
/// URL (one fixture's attribute is mangled: lower-cased, slashes lost).
fn biggest_dynamic_image(page: &Page<'_>, json: &str) -> Option<String> {
    let map: Map<String, Value> = serde_json::from_str(json).ok()?;
    map.iter()
        .filter_map(|(url, dims)| {
            let d = dims.as_array()?;
            let area = number(d.first()?)? * number(d.get(1)?)?;
            let url = page.absolute(url)?;
            url.contains("/images/").then_some((area, url))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, u)| u)
}

/// The variation family as the twister (the size/colour chooser) describes it: its
/// dimensions (`size_name`, `color_name`), their names as shown (`Size`, `Color`), their values
/// in the chooser's order, and each member ASIN's values.
#[derive(Default)]
struct Twister {
    dimensions: Vec<String>,
    shown_names: Map<String, Value>,
    values: Map<String, Value>,
    display: Map<String, Value>,
}

impl Twister {
    fn read(page: &Page<'_>) -> Twister {
        static DIMENSIONS: LazyLock<Regex> = LazyLock::new(|| regex(r#""dimensions"\s*:\s*"#));
        static DISPLAY: LazyLock<Regex> =
            LazyLock::new(|| regex(r#""dimensionValuesDisplayData"\s*:\s*"#));
        static NAMES: LazyLock<Regex> =
            LazyLock::new(|| regex(r#""variationDisplayLabels"\s*:\s*"#));
        static VALUES: LazyLock<Regex> = LazyLock::new(|| regex(r#""variationValues"\s*:\s*"#));
        let raw = page.raw();
        let object = |re: &Regex| -> Map<String, Value> {
            blobs_after(raw, re)
                .values
                .into_iter()
                .find_map(|v| match v {
                    Value::Object(m) if !m.is_empty() => Some(m),
                    _ => None,
                })
                .unwrap_or_default()
        };
        Twister {
            dimensions: blobs_after(raw, &DIMENSIONS)
                .first_strings()
                .unwrap_or_default(),
            shown_names: object(&NAMES),
            values: object(&VALUES),
            display: object(&DISPLAY),
        }
    }
}

fn variants(page: &Page<'_>, btf: &Btf, twister: &Twister, found: &mut Found) {
    if btf.color_images.is_empty() {
        return;
    }
    let labels = Labels::new(&twister.dimensions, &twister.display);

    for (key, entries) in &btf.color_images {
        if key == "initial" {
            continue;
        }
        let asin = btf
            .color_to_asin
            .get(key)
            .and_then(|v| v.get("asin"))
            .and_then(text);
        let label = labels.label(key, asin.as_deref());
        for entry in entries.as_array().into_iter().flatten() {
            if let Some(url) = entry_url(entry).and_then(|u| page.absolute(&u)) {
                found.variant_image_coded(
                    url,
                    &label,
                    asin.as_deref(),
                    entry_code(entry).as_deref(),
                );
            }
        }
    }
}

/// Names a `colorImages` key by its colour: keys join every dimension's value
/// (`"XXL NewRed"` for `["size_name", "color_name"]`) and sizes of one colour share pictures.
struct Labels<'a> {
    color: Option<usize>,
    last: bool,
    display: &'a Map<String, Value>,
    known: Vec<String>,
}

impl<'a> Labels<'a> {
    fn new(dimensions: &[String], display: &'a Map<String, Value>) -> Labels<'a> {
        let color = dimensions.iter().position(|d| d == "color_name");
        let mut known: Vec<String> = color
            .map(|i| {
                display
                    .values()
                    .filter_map(|v| v.get(i).and_then(text))
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .collect()
            })
            .unwrap_or_default();
        // Longest first, so "Royal Blue" wins over "Blue".
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
        Labels {
            color,
            last: color.is_some_and(|i| i + 1 == dimensions.len()),
            display,
            known,
        }
    }

    fn label(&self, key: &str, asin: Option<&str>) -> String {
        let Some(i) = self.color else {
            return key.to_string();
        };
        if let Some(c) = asin
            .and_then(|a| self.display.get(a))
            .and_then(|v| v.get(i))
            .and_then(text)
        {
            return c;
        }
        // The display data misses a few ASINs: find the colour inside the key instead.
        self.known
            .iter()
            .find(|c| {
                key == c.as_str()
                    || if self.last {
                        key.ends_with(&format!(" {c}"))
                    } else {
                        key.starts_with(&format!("{c} "))
                    }
            })
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }
}

fn videos(page: &Page<'_>, btf: &Btf, ours: &HashSet<String>, found: &mut Found) {
    let cards = carousel(page, ours);
    for v in &btf.videos {
        let Some(url) = v.get("url").and_then(text).and_then(|u| page.absolute(&u)) else {
            continue;
        };
        if v.get("isVideo").is_some_and(|f| !truthy(f)) {
            continue;
        }
        // The image block lists "videos for this product" (`IB_G1`) with the carousel's
        // videos of other products among them (the duct-tape page's second video is a wider
        // tape's); the carousel card of the same video (`mediaObjectId` = its `data-asin`)
        // says which products it is about.
        let id = v.get("mediaObjectId").and_then(text);
        let another_products = cards
            .iter()
            .any(|c| c.id.is_some() && c.id == id && c.about_this == Some(false));
        match v.get("groupType").and_then(text).as_deref() {
            None | Some("IB_G1") if !another_products => found.video(Role::Video, url),
            _ => {}
        }
    }
    for card in cards {
        match card.creator {
            Creator::Customer if card.about_this != Some(false) => {
                found.video(Role::Review, card.url)
            }
            Creator::Product if card.about_this == Some(true) => found.video(Role::Video, card.url),
            _ => {}
        }
    }
    video_items(page, found);
}

/// Who made a video, as the carousel attributes say.
#[derive(Debug, PartialEq)]
enum Creator {
    Product,
    Customer,
    Other,
}

/// One card of the video carousel (`[data-video-url]`).
struct Card {
    url: String,
    /// The video's id (`data-asin`, despite its name: the `mediaObjectId` of the image block's
    /// `videos[]`).
    id: Option<String>,
    creator: Creator,
    /// Whether its related-products list names this product (its ASIN, an alias or its
    /// parent); `None` when the card lists no products.
    about_this: Option<bool>,
}

/// The carousel's cards. It mixes this product's videos with other products' (review sites'
/// and merchants' videos of competing products, each card naming the products it shows).
fn carousel(page: &Page<'_>, ours: &HashSet<String>) -> Vec<Card> {
    static CARDS: LazyLock<Selector> = LazyLock::new(|| selector("[data-video-url]"));
    page.select(&CARDS)
        .filter_map(|card| {
            let a = |name: &str| card.value().attr(name).unwrap_or("").trim();
            let url = page.absolute(a("data-video-url"))?;
            let related: Vec<&str> = [a("data-related-products"), a("data-related-products-asins")]
                .into_iter()
                .flat_map(|list| list.split(','))
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .collect();
            Some(Card {
                url,
                id: Some(a("data-asin").to_string()).filter(|id| !id.is_empty()),
                creator: classify(
                    a("data-creator-type"),
                    a("data-vendor-code"),
                    a("data-reference-url"),
                ),
                about_this: (!related.is_empty())
                    .then(|| related.iter().any(|r| ours.contains(*r))),
            })
        })
        .collect()
}

/// The `data-video-items` widget of pages saved without scripts: a JSON list of videos with
/// their creators (no product lists).
fn video_items(page: &Page<'_>, found: &mut Found) {
    static ITEMS: LazyLock<Selector> = LazyLock::new(|| selector("[data-video-items]"));
    for el in page.select(&ITEMS) {
        let Some(items) = el
            .value()
            .attr("data-video-items")
            .and_then(|j| serde_json::from_str::<Value>(j).ok())
        else {
            found.warn("an Amazon data-video-items list could not be parsed");
            continue;
        };
        for item in items.as_array().into_iter().flatten() {
            let s = |k: &str| item.get(k).and_then(text).unwrap_or_default();
            let Some(url) = ["videoURL", "videoUrl", "url"]
                .iter()
                .find_map(|k| item.get(*k).and_then(text))
                .and_then(|u| page.absolute(&u))
            else {
                continue;
            };
            match classify(&s("creatorType"), &s("vendorCode"), &s("referenceUrl")) {
                Creator::Customer => found.video(Role::Review, url),
                Creator::Product => found.video(Role::Video, url),
                Creator::Other => {}
            }
        }
    }
}

fn classify(creator_type: &str, vendor_code: &str, reference_url: &str) -> Creator {
    let creator = creator_type.to_ascii_lowercase();
    if creator == "customer" || reference_url.contains("customer-reviews") {
        Creator::Customer
    } else if creator == "influencer"
        || vendor_code.ends_with(":shop")
        || vendor_code.starts_with("influencer-")
    {
        Creator::Other
    } else {
        Creator::Product
    }
}

fn description(page: &Page<'_>, found: &mut Found) {
    static APLUS: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "#aplus_feature_div img, #aplus img, #aplusBrandStory_feature_div img, \
             #aplus3p_feature_div img, #aplusSustainabilityStory_feature_div img, \
             #productDescription img, #bookDescription_feature_div img",
        )
    });
    for img in page.select(&APLUS) {
        if pictures_products(img) {
            continue;
        }
        if let Some(url) = page.img_url(img).filter(|u| is_amazon_media(u)) {
            found.image(Role::Description, url);
        }
    }
}

/// A+ also shows product pictures that are not description: comparison charts (standard
/// `apm-tablemodule`, premium `aplus-data-column`, the `comparison_image` table) and the brand
/// story's tiles linking to the brand's listings (this one included — the tile is a catalogue
/// thumbnail, a smaller upload of a gallery image).
fn pictures_products(img: ElementRef<'_>) -> bool {
    if img
        .value()
        .attr("id")
        .is_some_and(|id| id.starts_with("comparison_image"))
    {
        return true;
    }
    img.ancestors()
        .filter_map(ElementRef::wrap)
        .take(16)
        .any(|e| {
            let v = e.value();
            let class = v.attr("class").unwrap_or("");
            let links_to_a_listing = v.name() == "a" && v.attr("href").and_then(asin_in).is_some();
            links_to_a_listing
                || class.contains("tablemodule")
                || class.contains("comparison")
                || class.contains("aplus-data-column")
        })
}

fn is_amazon_media(url: &str) -> bool {
    url.contains("/images/I/") || url.contains("/images/S/aplus-")
}

fn reviews(page: &Page<'_>, found: &mut Found) {
    static TILES: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "img[data-hook=review-image-tile], img.review-image-tile, \
             img.linkless-review-image-tile, img.cr-lightbox-image-thumbnail, \
             img.cr-customer-image-thumbnail, img[class*=media-thumbnail-image], \
             img[class*=media-popover-thumbnail]",
        )
    });
    for img in page.select(&TILES) {
        if let Some(url) = page.img_url(img).filter(|u| u.contains("/images/I/")) {
            found.image(Role::Review, url);
        }
    }
}

// ---- Facts ---------------------------------------------------------------------------------

/// The product's facts as the detail page shows them (module doc, "facts").
fn facts(page: &Page<'_>, btf: &Btf, twister: &Twister, found: &mut Found) {
    static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("#productTitle"));
    static RATING: LazyLock<Selector> = LazyLock::new(|| selector("#acrPopover[title]"));
    static REVIEWS: LazyLock<Selector> = LazyLock::new(|| selector("#acrCustomerReviewText"));
    static FEATURES: LazyLock<Selector> = LazyLock::new(|| selector("#feature-bullets li"));
    static CRUMBS: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "#wayfinding-breadcrumbs_feature_div li:not(.a-breadcrumb-divider) a:not(#breadcrumb-back-link)",
        )
    });
    static DESCRIPTION: LazyLock<Selector> =
        LazyLock::new(|| selector("#bookDescription_feature_div, #productDescription"));
    static BUY_BOX: LazyLock<Selector> = LazyLock::new(|| selector("#buybox, #desktop_buybox"));

    let country = storefront_country(page);
    let mut f = ProductFacts {
        name: page.first(&TITLE).map(text_of).filter(|t| !t.is_empty()),
        sku: found.known_product_id().map(str::to_string),
        ..Default::default()
    };
    match buy_box_price(page, country) {
        Some((price, currency)) => read::set_price(&mut f, Some(price), currency),
        // A buy box without a price of its own ("See all buying options"): the page's other
        // prices are other products'.
        None if page.first(&BUY_BOX).is_some() => {
            found.fact_absent(Fact::Price);
            found.fact_absent(Fact::Availability);
        }
        None => {}
    }
    f.availability = availability(page);
    f.rating = page
        .attr(&RATING, "title")
        .and_then(|t| read::rating_in(&t));
    f.review_count = page
        .first(&REVIEWS)
        .and_then(|e| read::count_in(&text_of(e)));
    f.features = page
        .select(&FEATURES)
        .filter(|li| !li.value().classes().any(|c| c == "aok-hidden"))
        .filter_map(read::inline_text)
        .take(64)
        .collect();
    f.specs = specs(page);
    read::ids_from_specs(&mut f);
    if f.brand.is_none() {
        f.brand = byline_brand(page);
    }
    f.categories = read::categories(page.select(&CRUMBS).map(text_of), f.name.as_deref());
    f.description = page.select(&DESCRIPTION).find_map(description_text);
    f.seller = seller(page);
    let variants = family(page, btf, twister, &f);
    read::set_variants(&mut f, variants);
    *found.facts() = f;
}

/// A description block's text. A book's description is kept in a `<noscript>` for pages read
/// without scripts, beside the "Read more" widget that shows it otherwise.
fn description_text(block: ElementRef<'_>) -> Option<String> {
    static NOSCRIPT: LazyLock<Selector> = LazyLock::new(|| selector("noscript"));
    match block.select(&NOSCRIPT).next() {
        Some(n) => read::plain_text(&n.text().collect::<String>()),
        None => read::element_text(block),
    }
}

/// The country whose storefront the page is (`amazon.co.uk` → `gb`, `amazon.com` → `us`): what
/// settles a shared currency symbol (`$`, `¥`), since each storefront sells in its own currency.
fn storefront_country(page: &Page<'_>) -> Option<&'static str> {
    let host = page.host()?;
    let domain: &'static str = DOMAINS.iter().copied().find(|d| super::host_is(&host, d))?;
    Some(match domain.rsplit('.').next()? {
        "com" => "us",
        "uk" => "gb",
        tld => tld,
    })
}

/// The price the buy box asks for now, and its currency: the twister's price data of the
/// featured offer, else the buy box's price elements, newest layouts first — the deal or sale
/// price before the regular one, the selected buying option (new, used) of a book.
fn buy_box_price(page: &Page<'_>, country: Option<&str>) -> Option<(String, Option<String>)> {
    static DATA: LazyLock<Selector> =
        LazyLock::new(|| selector(".twister-plus-buying-options-price-data"));
    static PRICES: LazyLock<Vec<Selector>> = LazyLock::new(|| {
        [
            "#corePrice_feature_div .a-price .a-offscreen",
            "#corePriceDisplay_desktop_feature_div .priceToPay .a-offscreen",
            "#corePriceDisplay_desktop_feature_div .apexPriceToPay .a-offscreen",
            "#priceblock_dealprice",
            "#priceblock_saleprice",
            "#priceblock_ourprice",
            "#price_inside_buybox",
            "#newBuyBoxPrice",
            "#kindle-price",
            ".a-accordion-active .header-price",
            ".a-accordion-active .offer-price",
            "#buyNewSection .offer-price",
            "#buybox .offer-price",
        ]
        .into_iter()
        .map(selector)
        .collect()
    });
    let from_data = page.first(&DATA).and_then(|el| {
        let data: Value = serde_json::from_str(&el.text().collect::<String>()).ok()?;
        let offer = data
            .as_object()?
            .values()
            .find_map(|group| group.as_array()?.first())?;
        let price = offer.get("priceAmount").and_then(read::amount)?;
        let shown = ["displayPrice", "currencySymbol"]
            .iter()
            .find_map(|k| offer.get(*k).and_then(text))
            .unwrap_or_default();
        Some((price, price::currency_in(&shown, country)))
    });
    from_data.or_else(|| {
        PRICES.iter().find_map(|sel| {
            page.select(sel)
                .find_map(|el| match read::money(&text_of(el), country) {
                    (Some(price), currency) => Some((price, currency)),
                    _ => None,
                })
        })
    })
}

/// What `#availability` says ("In Stock.", "Auf Lager.", "Currently unavailable."), or the
/// out-of-stock buy box.
fn availability(page: &Page<'_>) -> Option<Availability> {
    static SAID: LazyLock<Selector> = LazyLock::new(|| selector("#availability"));
    static OUT: LazyLock<Selector> = LazyLock::new(|| selector("#outOfStock"));
    page.first(&SAID)
        .and_then(|e| read::availability_said(&text_of(e)))
        .or_else(|| page.first(&OUT).map(|_| Availability::OutOfStock))
}

/// The name/value tables of the detail page: the overview above the bullets, the technical
/// details and additional information tables, and the detail bullets ("Publisher : …") of
/// other layouts. Rows that are widgets — the star rating, the best-sellers rank — are not
/// specifications.
fn specs(page: &Page<'_>) -> Vec<Spec> {
    static ROWS: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "#productOverview_feature_div tr, #productDetails_techSpec_section_1 tr, \
             #productDetails_techSpec_section_2 tr, #productDetails_detailBullets_sections1 tr, \
             #prodDetails tr, #technicalSpecifications_section_1 tr",
        )
    });
    static BULLETS: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "#detailBullets_feature_div li, #detail-bullets .content li, #detail_bullets_id li",
        )
    });
    static LABEL: LazyLock<Selector> = LazyLock::new(|| selector("span.a-text-bold, b"));
    static WHOLE: LazyLock<Selector> = LazyLock::new(|| selector(".a-truncate-full"));
    static WIDGET: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "tr tr, ul, i[class*=a-icon-star], #acrPopover, a[href*=bestsellers], \
             a[href*=product-reviews], .zg_hrsr_item",
        )
    });
    let is_widget = |el: ElementRef<'_>| {
        el.select(&WIDGET).next().is_some()
            || el.value().id() == Some("SalesRank")
            || el
                .value()
                .classes()
                .any(|c| c == "average_customer_reviews")
    };
    let mut specs = Vec::new();
    for row in page.select(&ROWS).filter(|r| !is_widget(*r)) {
        let cells: Vec<ElementRef<'_>> = row
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|c| matches!(c.value().name(), "th" | "td"))
            .collect();
        if let [name, value] = cells.as_slice()
            && let (Some(name), Some(value)) = (
                read::inline_text(*name),
                // A long value is there twice: cut short, and whole behind "See more".
                read::inline_text(value.select(&WHOLE).next().unwrap_or(*value)),
            )
        {
            read::add_spec(&mut specs, &name, &value);
        }
    }
    for li in page.select(&BULLETS).filter(|l| !is_widget(*l)) {
        let Some(label) = li.select(&LABEL).next().map(text_of) else {
            continue;
        };
        let all = read::inline_text(li).unwrap_or_default();
        if let Some(value) = all.strip_prefix(label.as_str()) {
            read::add_spec(&mut specs, &label, value);
        }
    }
    specs
}

/// The brand the byline links to: its brand filter (`field-lbr_brands_browse-bin=Cecotec`) or
/// its brand store (`/stores/Gorilla/page/…`). A book's byline names its author instead, with
/// neither.
fn byline_brand(page: &Page<'_>) -> Option<String> {
    static BYLINE: LazyLock<Selector> = LazyLock::new(|| selector("a#bylineInfo[href]"));
    static STORE: LazyLock<Regex> = LazyLock::new(|| regex(r"^/stores/([^/?#]+)/page/"));
    let href = page.attr(&BYLINE, "href")?;
    let url = page
        .absolute(&href)
        .and_then(|u| url::Url::parse(&u).ok())?;
    url.query_pairs()
        .find(|(k, _)| k == "field-lbr_brands_browse-bin")
        .map(|(_, v)| v.into_owned())
        .or_else(|| {
            let segment = capture(&STORE, url.path())?;
            let decoded: String = url::form_urlencoded::parse(format!("s={segment}").as_bytes())
                .find(|(k, _)| k == "s")
                .map(|(_, v)| v.into_owned())?;
            Some(decoded)
        })
        .and_then(|b| read::categories([b], None).pop())
}

/// Who sells the featured offer: the seller's profile link, else Amazon itself as the buy box
/// names it ("Ships from and sold by Amazon.com.").
fn seller(page: &Page<'_>) -> Option<String> {
    static PROFILE: LazyLock<Selector> = LazyLock::new(|| selector("#sellerProfileTriggerId"));
    static SOLD_BY: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "#merchant-info, #merchantInfoFeature_feature_div .offer-display-feature-text-message",
        )
    });
    static AMAZON: LazyLock<Regex> = LazyLock::new(|| regex(r"\bAmazon(?:\.[a-z]+[a-z.]*[a-z])?"));
    page.first(&PROFILE)
        .map(text_of)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            page.select(&SOLD_BY)
                .find_map(|e| AMAZON.find(&text_of(e)).map(|m| m.as_str().to_string()))
        })
}

/// The variation family's members: each ASIN with its dimension values (named as the chooser
/// names them) and the pictures `colorImages` lists for it. Only the ASIN the page shows has a
/// price and availability on the page: the product's.
fn family(
    page: &Page<'_>,
    btf: &Btf,
    twister: &Twister,
    product: &ProductFacts,
) -> Vec<VariantFacts> {
    let names: Vec<String> = twister
        .dimensions
        .iter()
        .map(|d| {
            twister
                .shown_names
                .get(d)
                .and_then(text)
                .unwrap_or_else(|| d.clone())
        })
        .collect();
    // The chooser's order: by each dimension's value position.
    let rank = |values: &[String]| -> Vec<usize> {
        twister
            .dimensions
            .iter()
            .zip(values)
            .map(|(d, v)| {
                twister
                    .values
                    .get(d)
                    .map(embedded::strings)
                    .and_then(|list| list.iter().position(|x| x == v))
                    .unwrap_or(usize::MAX)
            })
            .collect()
    };
    let mut members: Vec<(Vec<usize>, VariantFacts)> = twister
        .display
        .iter()
        .take(super::MAX_ITEMS)
        .filter(|(asin, _)| ASIN.is_match(asin))
        .map(|(asin, values)| {
            let values = embedded::strings(values);
            let mut v = read::variant(names.iter().cloned().zip(values.iter().cloned()).collect());
            v.id = Some(asin.clone());
            v.sku = Some(asin.clone());
            v.pictures = btf
                .color_to_asin
                .iter()
                .filter(|(_, to)| to.get("asin").and_then(text).as_deref() == Some(asin))
                .filter_map(|(key, _)| btf.color_images.get(key)?.as_array())
                .flatten()
                .filter_map(|entry| entry_url(entry).and_then(|u| page.absolute(&u)))
                .collect();
            if product.sku.as_deref() == Some(asin.as_str()) {
                v.price = product.price.clone();
                v.availability = product.availability;
            }
            (rank(&values), v)
        })
        .collect();
    members.sort_by(|a, b| a.0.cmp(&b.0));
    members.into_iter().map(|(_, v)| v).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_url_prefers_hires_then_the_biggest_rendition() {
        let e = serde_json::json!({"hiRes": null, "large": "L.jpg",
            "main": {"a._SX355_.jpg": [355, 148], "a.jpg": [500, 208], "a._SX466_.jpg": ["466", "194"]}});
        assert_eq!(entry_url(&e).as_deref(), Some("a.jpg"));
        let e = serde_json::json!({"hiRes": "H.jpg", "large": "L.jpg"});
        assert_eq!(entry_url(&e).as_deref(), Some("H.jpg"));
        let e = serde_json::json!({"mainUrl": "M.jpg", "thumbUrl": "T.jpg"});
        assert_eq!(entry_url(&e).as_deref(), Some("M.jpg"));
        assert_eq!(entry_url(&serde_json::json!({})), None);
    }

    #[test]
    fn variant_labels_use_the_colour_dimension() {
        let dims = vec!["size_name".to_string(), "color_name".to_string()];
        let display: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "B1": ["XXL", "NewRed"], "B2": ["XS", "Royal Blue"], "B3": ["L", "Blue"]
        }))
        .unwrap_or_default();
        let l = Labels::new(&dims, &display);
        assert_eq!(l.label("XXL NewRed", Some("B1")), "NewRed");
        assert_eq!(l.label("XL Royal Blue", Some("B9")), "Royal Blue");
        assert_eq!(l.label("XL Blue", None), "Blue");
        assert_eq!(l.label("Mystery", None), "Mystery");
        let none = Labels::new(&["pattern_name".to_string()], &display);
        assert_eq!(none.label("Module", Some("B1")), "Module");
    }

    #[test]
    fn scripts_stripped_page_uses_the_dom() {
        // No ImageBlock scripts (a page saved through a script stripper): the landing image's
        // `data-old-hires`, the thumbnail strip, and the `data-video-items` widget.
        let html = r#"<html><head><link rel="canonical" href="https://www.amazon.de/x/dp/B0PAGE0001"></head><body>
            <span id="productTitle"> Power Bank 10000 mAh </span>
            <img id="landingImage" src="data:image/gif;base64,R0lGOD"
                 data-old-hires="https://m.media-amazon.com/images/I/71Main0001L._AC_SL1500_.jpg"
                 data-a-dynamic-image="{&quot;https://m.media-amazon.com/images/I/71Main0001L._AC_SX679_.jpg&quot;:[679,679]}">
            <div id="altImages"><ul>
              <li><img src="https://m.media-amazon.com/images/I/41Main0001L._AC_US40_.jpg"></li>
              <li><img src="https://m.media-amazon.com/images/I/41Alt00002L._AC_SR38,50_.jpg"></li>
              <li class="videoThumbnail"><img class="videoThumb" src="https://m.media-amazon.com/images/I/21Vid00003L.SS40_BG85,85,85_BR-120_PKdp-play-icon-overlay__.jpg"></li>
            </ul></div>
            <div data-video-items='[{"videoURL":"https://m.media-amazon.com/images/S/vse/a/default.jobtemplate.hls.m3u8","creatorType":"Seller"},
                                    {"videoURL":"https://m.media-amazon.com/images/S/vse/b/default.jobtemplate.hls.m3u8","creatorType":"Influencer"},
                                    {"videoURL":"https://m.media-amazon.com/images/S/vse/c/default.jobtemplate.hls.m3u8","creatorType":"Customer"}]'></div>
            </body></html>"#;
        let e = crate::extract::extract(html, None);
        assert_eq!(e.site, "amazon");
        assert_eq!(e.product_id.as_deref(), Some("B0PAGE0001"));
        assert_eq!(e.title.as_deref(), Some("Power Bank 10000 mAh"));
        let got: Vec<(Role, &str)> = e.media.iter().map(|m| (m.role, m.url.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (
                    Role::Main,
                    "https://m.media-amazon.com/images/I/71Main0001L.jpg"
                ),
                (
                    Role::Gallery,
                    "https://m.media-amazon.com/images/I/41Alt00002L.jpg"
                ),
                (
                    Role::Video,
                    "https://m.media-amazon.com/images/S/vse/a/default.jobtemplate.hls.m3u8"
                ),
                (
                    Role::Review,
                    "https://m.media-amazon.com/images/S/vse/c/default.jobtemplate.hls.m3u8"
                ),
            ]
        );
        assert!(
            e.warnings.iter().any(|w| w.contains("thumbnails")),
            "{:?}",
            e.warnings
        );
    }

    #[test]
    fn malformed_image_block_falls_through_with_a_warning() {
        let html = r#"<html><body><input type="hidden" id="ASIN" value="B0PAGE0002">
            <script>var data = {'colorImages': { 'initial': [{"hiRes": oops}] }};</script>
            <img id="landingImage" data-a-dynamic-image="{&quot; https: images i 81x._sy450_.jpg&quot;:[450,450]}"
                 src="https://m.media-amazon.com/images/I/81Lnd0001L._SX300_.jpg">
            </body></html>"#;
        let e = crate::extract::extract(html, Some("https://www.amazon.com.tr/dp/B0PAGE0002"));
        assert_eq!(e.product_id.as_deref(), Some("B0PAGE0002"));
        assert_eq!(e.media.len(), 1);
        assert_eq!(
            e.media[0].url,
            "https://m.media-amazon.com/images/I/81Lnd0001L.jpg"
        );
        assert!(
            e.warnings.iter().any(|w| w.contains("ImageBlockATF")),
            "{:?}",
            e.warnings
        );
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("data-a-dynamic-image")),
            "{:?}",
            e.warnings
        );
    }

    /// A variation page: the hidden field, the canonical link and the image block each name an
    /// ASIN, and the family's parent is in the page data.
    fn variation_page(hidden: &str, canonical: &str, media: &str) -> String {
        format!(
            r#"<html><head><link rel="canonical" href="https://www.amazon.com/x/dp/{canonical}"></head>
            <body><input type="hidden" id="ASIN" value="{hidden}">
            <script>var a = {{"mediaAsin":"{media}","parentAsin":"B0PARENT00"}};
            var data = {{'colorImages': {{ 'initial': [{{"hiRes":"https://m.media-amazon.com/images/I/71Main0001L._AC_SL1500_.jpg","variant":"MAIN"}},
                {{"hiRes":"https://m.media-amazon.com/images/I/71Side0002L._AC_SL1500_.jpg","variant":"pt09"}}] }}}};</script>
            </body></html>"#
        )
    }

    #[test]
    fn the_package_is_named_by_the_page_s_own_asin_never_the_parent() {
        let ids = |html: &str, opened: Option<&str>| {
            let e = crate::extract::extract(html, opened);
            (e.product_id, e.other_ids, e.parent_id)
        };
        let page = variation_page("B0CHILD001", "B0CHILD001", "B0CHILD001");
        assert_eq!(
            ids(&page, None),
            (Some("B0CHILD001".into()), vec![], Some("B0PARENT00".into()))
        );
        // Opened at the family's address, the page shows (and is named by) a child.
        assert_eq!(
            ids(&page, Some("https://www.amazon.com/dp/B0PARENT00")),
            (Some("B0CHILD001".into()), vec![], Some("B0PARENT00".into()))
        );
        // The hidden field and the canonical address disagree: the address the user opened
        // wins and the others are aliases.
        let page = variation_page("B0HIDDEN01", "B0CANON001", "B0CANON001");
        assert_eq!(
            ids(
                &page,
                Some("https://www.amazon.com/Vest/dp/B0HIDDEN01?th=1")
            ),
            (
                Some("B0HIDDEN01".into()),
                vec!["B0CANON001".to_string()],
                Some("B0PARENT00".into())
            )
        );
        assert_eq!(
            ids(&page, Some("https://www.amazon.com/dp/B0CANON001")),
            (
                Some("B0CANON001".into()),
                vec!["B0HIDDEN01".to_string()],
                Some("B0PARENT00".into())
            )
        );
        // Without an opened address, the image block's own ASIN comes first.
        let page = variation_page("B0HIDDEN01", "B0CANON001", "B0MEDIA001");
        assert_eq!(
            ids(&page, None).0.as_deref(),
            Some("B0MEDIA001"),
            "the image block shows the media ASIN's pictures"
        );
        // A page whose only ASIN is its "parent" (a book, a Kindle edition) is that product.
        let book = r#"<html><head><link rel="canonical" href="https://www.amazon.com/x/dp/B0BOOK0001"></head>
            <script>var a = {"mediaAsin":"B0BOOK0001","parentAsin":"B0BOOK0001"};</script>
            <img id="landingImage" src="https://m.media-amazon.com/images/I/71Book001L._SX300_.jpg"></html>"#;
        assert_eq!(ids(book, None), (Some("B0BOOK0001".into()), vec![], None));
        // The gallery's codes, as the page writes them.
        let e = crate::extract::extract(&variation_page("B0C", "B0CHILD001", "B0CHILD001"), None);
        let codes: Vec<Option<&str>> = e.media.iter().map(|m| m.code.as_deref()).collect();
        assert_eq!(codes, [Some("MAIN"), Some("PT09")]);
    }

    #[test]
    fn other_products_videos_are_left_out_and_one_video_is_saved_once() {
        // The image block lists two "videos for this product"; the carousel says the second is
        // about other products. The first is also a carousel card, as HLS of the same job.
        let vse = "https://m.media-amazon.com/images/S/vse-vms-transcoding-artifact-us-east-1-prod";
        let html = format!(
            r#"<html><head><link rel="canonical" href="https://www.amazon.com/x/dp/B0OURS0001"></head><body>
            <img id="landingImage" data-old-hires="https://m.media-amazon.com/images/I/71Main0001L.jpg">
            <script>P.when('A').execute(function(){{ var obj = jQuery.parseJSON('{{"videos":[
              {{"groupType":"IB_G1","url":"{vse}/11111111-1111-4111-8111-111111111111/default.jobtemplate.mp4.480.mp4","mediaObjectId":"aaaa"}},
              {{"groupType":"IB_G1","url":"https://d2y5sgsy8bbmb8.cloudfront.net/v2/22222222-2222-4222-8222-222222222222/ShortForm-Generic-480p.mp4","mediaObjectId":"bbbb"}}
            ]}}'); }});</script>
            <div data-video-url="{vse}/11111111-1111-4111-8111-111111111111/default.jobtemplate.hls.m3u8" data-asin="aaaa"
                 data-creator-type="Seller" data-related-products="B0OTHER001,B0OURS0001"></div>
            <div data-video-url="https://d2y5sgsy8bbmb8.cloudfront.net/v2/22222222-2222-4222-8222-222222222222/ShortForm-Generic-480p.mp4"
                 data-asin="bbbb" data-vendor-code="137GO" data-related-products="B0OTHER001,B0OTHER002"></div>
            <div data-video-url="https://d2y5sgsy8bbmb8.cloudfront.net/v2/33333333-3333-4333-8333-333333333333/ShortForm-Generic-480p.mp4"
                 data-asin="cccc" data-creator-type="Customer" data-reference-url="/gp/customer-reviews/R1"
                 data-related-products-asins="B0OTHER003"></div>
            </body></html>"#
        );
        let e = crate::extract::extract(&html, None);
        let videos: Vec<(Role, &str)> = e
            .media
            .iter()
            .filter(|m| m.kind == crate::media::MediaKind::Video)
            .map(|m| (m.role, m.url.as_str()))
            .collect();
        assert_eq!(
            videos,
            [(
                Role::Video,
                format!(
                    "{vse}/11111111-1111-4111-8111-111111111111/default.jobtemplate.mp4.480.mp4"
                )
                .as_str()
            )],
            "the product's video once; the other product's and a customer's video of another product are left out"
        );
    }

    #[test]
    fn video_creators() {
        assert_eq!(classify("Seller", "Z7AX4", ""), Creator::Product);
        assert_eq!(classify("", "137GO", ""), Creator::Product);
        assert_eq!(classify("Influencer", "x:shop", ""), Creator::Other);
        assert_eq!(classify("", "followachilles:shop", ""), Creator::Other);
        assert_eq!(classify("Customer", "AOD60", ""), Creator::Customer);
        assert_eq!(
            classify("", "", "/gp/customer-reviews/R1?ref=x"),
            Creator::Customer
        );
    }

    /// The buy box's price: the deal price before the regular one; a book's selected buying
    /// option (new) before the used one; and, where the buy box has no offer of its own, no
    /// price and no availability at all — never a recommendation's.
    #[test]
    fn the_buyer_s_price_is_the_buy_box_s() {
        let facts = |body: &str| {
            let html = format!(
                r#"<html><body><span id="productTitle">Kettle</span>{body}
                <img id="landingImage" data-old-hires="https://m.media-amazon.com/images/I/71Kettle01L.jpg">
                <div id="sims"><span class="a-price"><span class="a-offscreen">$5.00</span></span>
                <a href="/dp/B0OTHER001">Add to Cart</a></div></body></html>"#
            );
            crate::extract::extract(&html, Some("https://www.amazon.com/dp/B0KETTLE01")).product
        };
        let f = facts(
            r#"<span id="priceblock_ourprice">$30.00</span><span id="priceblock_dealprice">$24.99</span>
            <div id="availability"><span>Currently unavailable.</span></div>"#,
        );
        assert_eq!(
            (f.price.as_deref(), f.currency.as_deref()),
            (Some("24.99"), Some("USD"))
        );
        assert_eq!(f.availability, Some(Availability::OutOfStock));
        let f = facts(
            r#"<div id="usedOfferAccordionRow" class="a-box accordion-row"><span class="a-color-price">$6.00</span></div>
            <div id="newOfferAccordionRow" class="a-box a-accordion-active accordion-row"><span class="header-price">$15.98</span></div>"#,
        );
        assert_eq!(
            f.price.as_deref(),
            Some("15.98"),
            "the selected (new) offer"
        );
        let f = facts(r#"<div id="buybox">See all buying options</div>"#);
        assert_eq!((f.price, f.currency, f.availability), (None, None, None));
        assert_eq!(f.sku.as_deref(), Some("B0KETTLE01"));
    }
}
