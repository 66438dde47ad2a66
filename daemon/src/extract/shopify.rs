//! Shopify stores: every shop that runs on Shopify, on whatever domain, recognised by its page
//! (a platform, see [`super::PLATFORMS`]) rather than by an address list.
//!
//! Shopify themes embed the product as Liquid's `{{ product | json }}` — in a
//! `<script type="application/json">`, or assigned in a script (`window.product = {…}`,
//! `new Shopify.OptionSelectors('productSelect', { product: {…} })`, an app's
//! `_BISConfig.product = {…}`). Whatever the theme calls it, the object opens with
//! `{"id":<number>,"title":"…","handle":"…"`, which is how it is found. A page that embeds several
//! (quick views of other products) names its own: in its address, `/products/<handle>`, or in
//! Shopify's analytics data (`"pageType":"product","resourceType":"product","resourceId":<id>`);
//! without either the first is the page's. A page that analytics data calls something other than
//! a product page (a collection, the home page) is not claimed, whatever products it embeds.
//! Sources, all from the page's product object:
//!
//! * **id, title** — its `id` and `title`;
//! * **gallery** — its `media` in order: pictures (`src`, at the address `images` gives the
//!   same file, which is the one the theme shows), videos (the largest MP4 of `sources`, else
//!   the HLS playlist) and a 3D model's rendered preview picture; a page without `media` (older
//!   themes) has its `images`. The first picture is `main`;
//! * **variants** — each variant's `featured_image` (or `featured_media`'s preview). The
//!   variant the page opens with (`?variant=<id>`, else the first available one) is the gallery
//!   as opened; a picture only other variants feature is a `variant` item, labelled with the
//!   option values those variants share ("Red" for "Red / S" and "Red / M",
//!   [`super::variant_pictures`]) and, when it is one variant's, that variant's id.
//!
//! Not saved: external videos (YouTube, Vimeo: players, not files) and 3D model files (GLB,
//! USDZ: not media haul stores; the page's product gets a warning naming them).
//!
//! The sizes Shopify's CDN renders (`_800x`, `_grande`, `_crop_center`, `?width=`) are dropped by
//! [`super::cdn`] on Shopify's CDN paths only; a store's own file names stay as uploaded
//! (mediamarkt's `81j_2BZhrlxkL._SL1000.jpg` is named like an Amazon rendition, and is a file).
//!
//! A Shopify page without the product object (themes that render only their gallery) is not
//! claimed: the generic extractor reads it, as any other shop's.
//!
//! **Facts** (the product object): `title`, `vendor` as the brand, `description` as text; the
//! opened variant's price (whole cents as Liquid writes them; never `compare_at_price`), SKU,
//! barcode (when a GTIN) and availability, in the store's active currency (`Shopify.currency`); and
//! every variant with its option values named by `options`, price, SKU, availability and featured
//! picture (a product with one variant lists none apart from itself).

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::embedded::{json_starting_at, text};
use super::facts::{Availability, ProductFacts, read};
use super::page::{Page, capture, regex};
use super::variant_pictures::VariantPictures;
use super::{Extractor, Found, cdn};
use crate::media::Role;

pub struct Shopify;

impl Extractor for Shopify {
    fn site(&self) -> &'static str {
        "shopify"
    }

    fn product_paths(&self) -> &'static [&'static str] {
        // Every store's product pages, also inside a collection.
        &["/products/*", "/collections/*/products/*"]
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        is_shopify(page)
            && capture(&PAGE_TYPE, page.raw()).is_none_or(|t| t == "product")
            && PRODUCT.is_match(page.raw())
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        let Some(product) = product(page) else {
            return;
        };
        if let Some(id) = product.get("id").and_then(text) {
            found.product_id(id);
        }
        if let Some(title) = product.get("title").and_then(text) {
            found.title(title);
        }
        let variants = Variants::of(page, &product);
        gallery(page, &product, &variants, found);
        variants.add(found);
        facts(page, &product, &variants, found);
        if let Some(t) = page.meta("og:title") {
            found.title(t);
        }
    }
}

/// Liquid's `{{ product | json }}` opens so; a variant's object has no `handle`.
static PRODUCT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"\{\s*"id"\s*:\s*\d+\s*,\s*"title"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*"handle"\s*:\s*""#)
});

/// Shopify's analytics data on every store page: `"page":{"pageType":"product",…}`.
static PAGE_TYPE: LazyLock<Regex> = LazyLock::new(|| regex(r#""pageType"\s*:\s*"(\w+)""#));

/// The product the analytics data says the page is about.
static RESOURCE: LazyLock<Regex> =
    LazyLock::new(|| regex(r#""resourceType"\s*:\s*"product"\s*,\s*"resourceId"\s*:\s*(\d+)"#));

/// Whether the page comes from a Shopify store: its scripts, its CDN or its own `/cdn/shop/`
/// path (newer stores serve their files from their own domain).
fn is_shopify(page: &Page<'_>) -> bool {
    [
        "cdn.shopify.com",
        "Shopify.shop",
        "ShopifyAnalytics",
        "shopify-features",
        "/cdn/shop/",
    ]
    .iter()
    .any(|mark| page.has(mark))
}

/// The page's product object: the one whose handle the page's address names, else the one the
/// analytics data names, else the first.
fn product(page: &Page<'_>) -> Option<Value> {
    let all: Vec<Value> = json_starting_at(page.raw(), &PRODUCT)
        .into_iter()
        .filter(|p| p.get("variants").is_some_and(Value::is_array))
        .collect();
    let handle = page_handle(page);
    let resource = capture(&RESOURCE, page.raw());
    let by = |key: &str, wanted: &Option<String>| {
        let wanted = wanted.as_deref()?;
        all.iter()
            .position(|p| p.get(key).and_then(text).as_deref() == Some(wanted))
    };
    let index = by("handle", &handle)
        .or_else(|| by("id", &resource))
        .unwrap_or(0);
    all.into_iter().nth(index)
}

/// `<handle>` of a `/products/<handle>` address (also `/collections/<c>/products/<handle>`),
/// decoded as the product object writes it.
fn page_handle(page: &Page<'_>) -> Option<String> {
    let url = page.url()?;
    let mut segments = url.path_segments()?;
    segments.find(|s| *s == "products")?;
    let encoded = segments.next().filter(|s| !s.is_empty())?;
    // The path is percent-encoded (`%C3%A9t%C3%A9`); the product object is not (`été`).
    let decoded: String = url::form_urlencoded::parse(format!("h={encoded}").as_bytes())
        .find(|(k, _)| k == "h")
        .map(|(_, v)| v.into_owned())?;
    Some(decoded)
}

/// A picture of a `media` entry or an `images` string: its URL.
fn picture_url(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(_) => value
            .get("src")
            .and_then(text)
            .or_else(|| value.get("preview_image")?.get("src").and_then(text)),
        _ => None,
    }
}

/// The gallery as the page opens: `media` (or `images`) in order, without the pictures only
/// other variants feature, which [`Variants::add`] adds as theirs.
fn gallery(page: &Page<'_>, product: &Value, variants: &Variants, found: &mut Found) {
    let media = product
        .get("media")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty());
    let images = product.get("images").and_then(Value::as_array);
    let Some(entries) = media.or(images) else {
        return;
    };
    // `media` names the same files as `images` with a later cache-buster (`?v=`); the theme
    // renders the `images` addresses, so those are the ones asked for.
    let listed: HashMap<String, String> = images
        .into_iter()
        .flatten()
        .filter_map(|i| picture_url(i).and_then(|u| page.absolute(&u)))
        .map(|u| (cdn::asset_id(&u), u))
        .collect();
    let picture = |entry: &Value| {
        let url = picture_url(entry).and_then(|u| page.absolute(&u))?;
        Some(listed.get(&cdn::asset_id(&url)).cloned().unwrap_or(url))
    };
    let mut models = Vec::new();
    for entry in entries {
        let kind = entry
            .get("media_type")
            .and_then(Value::as_str)
            .unwrap_or("image");
        match kind {
            "image" => {
                let Some(url) = picture(entry) else {
                    continue;
                };
                // The first picture is the product's, whichever variant features it.
                if found.count(Role::Main) > 0 && variants.belongs_to_others(&url) {
                    continue;
                }
                found.product_image(url);
            }
            "video" => {
                if let Some(url) = video_source(entry).and_then(|u| page.absolute(&u)) {
                    found.video(Role::Video, url);
                }
            }
            "model" => {
                // The model file is not media haul saves; its rendered preview is a picture of
                // the product.
                models.extend(
                    sources(entry)
                        .filter_map(|s| s.get("format").and_then(text))
                        .take(1),
                );
                if let Some(url) = picture(entry) {
                    found.product_image(url);
                }
            }
            // `external_video` (YouTube, Vimeo): a player, not a file.
            _ => {}
        }
    }
    if !models.is_empty() {
        found.warn(format!(
            "the product has {} 3D model{} ({}); haul saves pictures and videos, not models",
            models.len(),
            if models.len() == 1 { "" } else { "s" },
            models.join(", ")
        ));
    }
}

/// A media entry's `sources`.
fn sources(entry: &Value) -> impl Iterator<Item = &Value> {
    entry
        .get("sources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A video's largest MP4, else its HLS playlist (which haul joins into one file), else any.
fn video_source(entry: &Value) -> Option<String> {
    let format = |s: &Value| s.get("format").and_then(Value::as_str).map(str::to_string);
    let height = |s: &Value| s.get("height").and_then(Value::as_u64).unwrap_or(0);
    let url = |s: &Value| s.get("url").and_then(text);
    let mp4 = sources(entry)
        .filter(|s| format(s).as_deref() == Some("mp4"))
        .max_by_key(|s| height(s))
        .and_then(url);
    mp4.or_else(|| {
        sources(entry)
            .find(|s| format(s).as_deref() == Some("m3u8"))
            .and_then(url)
    })
    .or_else(|| sources(entry).find_map(url))
}

/// One variant: its id, its option values, its picture.
struct Variant {
    id: Option<String>,
    values: Vec<String>,
    picture: Option<String>,
}

/// The product's variants and the pictures they feature.
struct Variants {
    all: Vec<Variant>,
    /// Index into `all` of the variant the page opens with.
    opened: Option<usize>,
    /// Asset id of each featured picture → the variants featuring it, in variant order.
    by_picture: HashMap<String, Vec<usize>>,
}

impl Variants {
    fn of(page: &Page<'_>, product: &Value) -> Variants {
        let list = product
            .get("variants")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let all: Vec<Variant> = list
            .iter()
            .map(|v| Variant {
                id: v.get("id").and_then(text),
                values: option_values(v),
                picture: v
                    .get("featured_image")
                    .and_then(picture_url)
                    .or_else(|| v.get("featured_media").and_then(picture_url))
                    .and_then(|u| page.absolute(&u)),
            })
            .collect();
        let asked = page.url().and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "variant")
                .map(|(_, v)| v.into_owned())
        });
        let available = |i: &usize| {
            list.get(*i)
                .and_then(|v| v.get("available"))
                .and_then(Value::as_bool)
                .unwrap_or(true)
        };
        let opened = asked
            .and_then(|id| {
                all.iter()
                    .position(|v| v.id.as_deref() == Some(id.as_str()))
            })
            .or_else(|| (0..all.len()).find(available))
            .or_else(|| (!all.is_empty()).then_some(0));
        let mut by_picture: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, v) in all.iter().enumerate() {
            if let Some(url) = &v.picture {
                by_picture.entry(cdn::asset_id(url)).or_default().push(i);
            }
        }
        Variants {
            all,
            opened,
            by_picture,
        }
    }

    /// Whether `url` is featured by variants, none of them the one the page opens with.
    fn belongs_to_others(&self, url: &str) -> bool {
        self.by_picture
            .get(&cdn::asset_id(url))
            .is_some_and(|owners| !owners.iter().any(|i| Some(*i) == self.opened))
    }

    /// The pictures only variants other than the one opened feature, each once, labelled.
    fn add(&self, found: &mut Found) {
        let mut pictures = VariantPictures::default();
        for v in &self.all {
            if let Some(url) = v.picture.as_deref().filter(|u| self.belongs_to_others(u)) {
                pictures.add(url, v.values.clone(), v.id.clone());
            }
        }
        pictures.add_to(found);
    }
}

/// A variant's option values (`option1`–`option3`, or `options`), without Shopify's
/// placeholder for a product that has no options.
fn option_values(variant: &Value) -> Vec<String> {
    let numbered: Vec<String> = ["option1", "option2", "option3"]
        .iter()
        .filter_map(|k| variant.get(*k).and_then(text))
        .collect();
    let values = if numbered.is_empty() {
        variant
            .get("options")
            .and_then(Value::as_array)
            .map(|o| o.iter().filter_map(text).collect())
            .unwrap_or_default()
    } else {
        numbered
    };
    if values == ["Default Title"] {
        Vec::new()
    } else {
        values
    }
}

/// The product's facts from its product object (module doc, "facts"): the variant the page
/// opens with gives the price, SKU, barcode and availability; the store's active currency
/// (`Shopify.currency = {"active":"EUR",…}`) names the currency its prices are in.
fn facts(page: &Page<'_>, product: &Value, variants: &Variants, found: &mut Found) {
    static CURRENCY: LazyLock<Regex> =
        LazyLock::new(|| regex(r#"Shopify\.currency\s*=\s*\{\s*"active"\s*:\s*"([A-Za-z]{3})""#));
    let list = product
        .get("variants")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let currency = capture(&CURRENCY, page.raw()).map(|c| c.to_ascii_uppercase());
    let mut f = ProductFacts {
        name: product.get("title").and_then(text),
        brand: product.get("vendor").and_then(text),
        description: product
            .get("description")
            .or_else(|| product.get("content"))
            .and_then(text)
            .and_then(|html| read::plain_text(&html)),
        ..Default::default()
    };
    if let Some(opened) = variants.opened.and_then(|i| list.get(i)) {
        read::set_price(
            &mut f,
            opened.get("price").and_then(amount),
            currency.clone(),
        );
        f.sku = opened.get("sku").and_then(text);
        f.gtin = opened
            .get("barcode")
            .and_then(text)
            .and_then(|b| read::gtin(&b));
        f.availability = opened
            .get("available")
            .and_then(Value::as_bool)
            .map(in_stock);
    }
    let names: Vec<String> = product
        .get("options")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|o| {
            text(o)
                .or_else(|| o.get("name").and_then(text))
                .unwrap_or_default()
        })
        .collect();
    let all = list
        .iter()
        .zip(&variants.all)
        .map(|(json, v)| {
            let mut facts = read::variant(names.iter().cloned().zip(v.values.clone()).collect());
            facts.id = v.id.clone();
            facts.sku = json.get("sku").and_then(text);
            facts.price = json.get("price").and_then(amount);
            facts.availability = json.get("available").and_then(Value::as_bool).map(in_stock);
            facts.pictures = v.picture.iter().cloned().collect();
            facts
        })
        .collect();
    read::set_variants(&mut f, all);
    *found.facts() = f;
}

/// A price of the product object: whole cents as Liquid's `json` filter writes them (`10900` is
/// 109.00), or a decimal amount where a theme wrote one (`"109.00"`).
fn amount(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => {
            let cents = n.as_u64()?;
            Some(format!("{}.{:02}", cents / 100, cents % 100))
        }
        Value::String(s) if s.contains('.') => super::facts::price::machine_amount(s),
        Value::String(s) => amount(&Value::Number(s.trim().parse::<u64>().ok()?.into())),
        _ => None,
    }
}

fn in_stock(available: bool) -> Availability {
    if available {
        Availability::InStock
    } else {
        Availability::OutOfStock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract;

    /// A product of a store on its own domain, as Liquid prints it: three colours in two sizes,
    /// each colour's picture featured by both its sizes, a video and a 3D model in `media`.
    fn store_page() -> String {
        let product = r#"{"id":7001,"title":"Canvas Tote","handle":"canvas-tote","variants":[
            {"id":11,"title":"Sand / S","option1":"Sand","option2":"S","option3":null,"available":false,"featured_image":{"id":1,"src":"\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/sand.jpg?v=1"}},
            {"id":12,"title":"Sand / L","option1":"Sand","option2":"L","option3":null,"available":true,"featured_image":{"id":1,"src":"\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/sand.jpg?v=1"}},
            {"id":21,"title":"Navy / S","option1":"Navy","option2":"S","option3":null,"available":true,"featured_image":{"id":2,"src":"\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/navy.jpg?v=1"}},
            {"id":22,"title":"Navy / L","option1":"Navy","option2":"L","option3":null,"available":true,"featured_image":{"id":2,"src":"\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/navy.jpg?v=1"}},
            {"id":31,"title":"Olive / S","option1":"Olive","option2":"S","option3":null,"available":true,"featured_media":{"id":53,"preview_image":{"src":"https:\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/olive.jpg?v=1"}}}],
          "images":["\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/front.jpg?v=0"],
          "media":[
            {"id":50,"media_type":"image","src":"https:\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/front.jpg?v=1"},
            {"id":51,"media_type":"image","src":"https:\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/sand.jpg?v=1"},
            {"id":52,"media_type":"image","src":"https:\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/navy.jpg?v=1"},
            {"id":53,"media_type":"image","src":"https:\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/olive.jpg?v=1"},
            {"id":54,"media_type":"video","preview_image":{"src":"https:\/\/cdn.shopify.com\/s\/files\/1\/0001\/preview_images\/poster.jpg"},"sources":[
              {"format":"m3u8","url":"https:\/\/cdn.shopify.com\/videos\/c\/vp\/abc\/abc.m3u8"},
              {"format":"mp4","height":480,"url":"https:\/\/cdn.shopify.com\/videos\/c\/vp\/abc\/abc.SD-480p.mp4"},
              {"format":"mp4","height":1080,"url":"https:\/\/cdn.shopify.com\/videos\/c\/vp\/abc\/abc.HD-1080p.mp4"}]},
            {"id":55,"media_type":"external_video","host":"youtube","external_id":"xyz"},
            {"id":56,"media_type":"model","preview_image":{"src":"https:\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/tote-3d.png?v=1"},"sources":[
              {"format":"glb","url":"https:\/\/cdn.shopify.com\/3d\/models\/o\/1\/tote.glb"}]}]}"#;
        let other = r#"{"id":9,"title":"Other","handle":"other","variants":[],"images":["\/\/cdn.shopify.com\/s\/files\/1\/0001\/products\/other.jpg"]}"#;
        format!(
            r#"<html><head><link rel="canonical" href="https://totes.example/products/canvas-tote">
            <script>Shopify.shop = "totes.myshopify.com";</script></head><body>
            <script type="application/json" data-quick-view>{other}</script>
            <script type="application/json" id="ProductJson-main">{product}</script>
            </body></html>"#
        )
    }

    #[test]
    fn the_product_json_gives_gallery_videos_and_each_other_variant_s_picture() {
        let html = store_page();
        let e = extract(&html, Some("https://totes.example/products/canvas-tote"));
        assert_eq!(e.site, "shopify");
        assert_eq!(e.product_id.as_deref(), Some("7001"));
        assert_eq!(e.title.as_deref(), Some("Canvas Tote"));
        // Opened with the first available variant, Sand / L: Sand's picture is the gallery's.
        assert_eq!(
            e.by_file(),
            vec![
                // The address `images` gives, not `media`'s later cache-buster.
                (Role::Main, "front.jpg?v=0", None, None),
                (Role::Gallery, "sand.jpg?v=1", None, None),
                (Role::Gallery, "tote-3d.png?v=1", None, None),
                (Role::Variant, "navy.jpg?v=1", Some("Navy"), None),
                (
                    Role::Variant,
                    "olive.jpg?v=1",
                    Some("Olive / S"),
                    Some("31")
                ),
                (Role::Video, "abc.HD-1080p.mp4", None, None),
            ]
        );
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("3D model") && w.contains("glb")),
            "{:?}",
            e.warnings
        );
    }

    #[test]
    fn the_variant_in_the_address_is_the_one_opened() {
        let html = store_page();
        let e = extract(
            &html,
            Some("https://totes.example/products/canvas-tote?variant=22"),
        );
        let variants: Vec<_> = e
            .by_file()
            .into_iter()
            .filter(|m| m.0 == Role::Variant)
            .map(|m| (m.1, m.2))
            .collect();
        assert_eq!(
            variants,
            [
                ("sand.jpg?v=1", Some("Sand")),
                ("olive.jpg?v=1", Some("Olive / S"))
            ]
        );
        assert_eq!(e.count(Role::Gallery), 2, "navy and the model's preview");
    }

    #[test]
    fn the_page_s_own_product_is_the_one_its_address_names() {
        let html = store_page();
        let e = extract(
            &html,
            Some("https://totes.example/collections/all/products/other"),
        );
        assert_eq!(e.product_id.as_deref(), Some("9"));
        // Without an address naming one, the one Shopify's analytics data names, else the first.
        let addressless = html.replace("canonical", "x");
        let e = extract(&addressless, None);
        assert_eq!(e.site, "shopify");
        assert_eq!(e.product_id.as_deref(), Some("9"));
        let analytics = r#"<script>var meta = {"page":{"pageType":"product","resourceType":"product","resourceId":7001}};</script>"#;
        let e = extract(&format!("{addressless}{analytics}"), None);
        assert_eq!(e.product_id.as_deref(), Some("7001"));
    }

    #[test]
    fn older_themes_images_and_a_non_ascii_handle() {
        let html = r#"<script src="//cdn.shopify.com/s/shopify/option_selection.js"></script><script>
            var product = {"id":5,"title":"Été","handle":"été","variants":[{"id":6,"title":"Default Title","option1":"Default Title","featured_image":null}],
            "images":["\/\/cdn.shopify.com\/s\/files\/1\/0002\/products\/a_1024x1024.jpg?v=3","\/\/cdn.shopify.com\/s\/files\/1\/0002\/products\/81j_2BZhrlxkL._SL1000.jpg?v=3"]};</script>"#;
        let e = extract(
            html,
            Some("https://boutique.example/products/%C3%A9t%C3%A9"),
        );
        assert_eq!(e.product_id.as_deref(), Some("5"));
        let urls: Vec<&str> = e.media.iter().map(|m| m.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://cdn.shopify.com/s/files/1/0002/products/a.jpg?v=3",
                // A file name, not Shopify's size: kept.
                "https://cdn.shopify.com/s/files/1/0002/products/81j_2BZhrlxkL._SL1000.jpg?v=3",
            ]
        );
        assert_eq!(e.count(Role::Variant), 0);
    }

    #[test]
    fn a_page_is_shopify_s_only_with_the_store_and_the_product() {
        let mut w = Vec::new();
        let product = r#"{"id":1,"title":"T","handle":"t","variants":[]}"#;
        let cases = [
            (
                format!("<script>Shopify.shop='s';var p={product};</script>"),
                true,
            ),
            (format!("<script>var p={product};</script>"), false),
            ("<script>Shopify.shop='s';</script>".to_string(), false),
            // A collection page embedding its products' objects is not a product page.
            (
                format!(
                    r#"<script>Shopify.shop='s';var p={product};var meta={{"page":{{"pageType":"collection","resourceType":"collection","resourceId":4}}}};</script>"#
                ),
                false,
            ),
            (
                format!(
                    r#"<script>Shopify.shop='s';var p={product};var meta={{"page":{{"pageType":"product"}}}};</script>"#
                ),
                true,
            ),
        ];
        for (html, yes) in cases {
            assert_eq!(
                Shopify.recognizes(&Page::parse(&html, None, &mut w)),
                yes,
                "{html}"
            );
        }
    }

    /// The variant the address asks for gives the price, in cents as Liquid writes them, not
    /// its struck-out `compare_at_price`; the store's active currency names it.
    #[test]
    fn the_opened_variant_s_price_in_the_store_s_currency() {
        let product = r#"{"id":5,"title":"Mug","handle":"mug","vendor":"Potter","options":["Color","Size"],
            "description":"<p>Stoneware.</p><p>Dishwasher safe.</p>",
            "variants":[
              {"id":51,"option1":"Red","option2":"S","price":1250,"compare_at_price":1900,"sku":"MUG-R-S","barcode":"4006381333931","available":true,
               "featured_image":{"src":"//cdn.shopify.com/s/files/1/0001/products/red.jpg?v=1"}},
              {"id":52,"option1":"Blue","option2":"S","price":"14.00","sku":"MUG-B-S","barcode":"MUG-B","available":false}],
            "images":["//cdn.shopify.com/s/files/1/0001/products/red.jpg?v=1"]}"#;
        let html = format!(
            r#"<html><head><script>Shopify.shop = "m.myshopify.com"; Shopify.currency = {{"active":"EUR","rate":"1.0"}};</script></head>
            <body><script type="application/json">{product}</script></body></html>"#
        );
        let f = extract(&html, Some("https://mugs.example/products/mug?variant=52")).product;
        assert_eq!(
            (f.price.as_deref(), f.currency.as_deref()),
            (Some("14.00"), Some("EUR"))
        );
        assert_eq!(f.sku.as_deref(), Some("MUG-B-S"));
        assert_eq!(f.gtin, None, "a store's own code is no GTIN");
        assert_eq!(f.availability, Some(Availability::OutOfStock));
        assert_eq!(f.brand.as_deref(), Some("Potter"));
        assert_eq!(
            f.description.as_deref(),
            Some("Stoneware.\nDishwasher safe.")
        );
        let red = &f.variants[0];
        assert_eq!(
            (
                red.label.as_deref(),
                red.price.as_deref(),
                red.sku.as_deref()
            ),
            (Some("Red / S"), Some("12.50"), Some("MUG-R-S"))
        );
        assert_eq!(red.attributes[0].name, "Color");
        assert_eq!(red.pictures.len(), 1);
        let f = extract(&html, Some("https://mugs.example/products/mug")).product;
        assert_eq!(
            f.price.as_deref(),
            Some("12.50"),
            "the first available variant"
        );
        assert_eq!(f.gtin.as_deref(), Some("4006381333931"));
    }
}
