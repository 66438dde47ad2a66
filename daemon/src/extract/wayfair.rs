//! Wayfair. Sources, best first:
//!
//! * **id** — the SKU at the end of the product address (`/pdp/<slug>-w005759888.html`), then
//!   JSON-LD `Product.sku`;
//! * **images** — the image tray the page's state carries, `"items":[{"imageId":…,"width":…,
//!   "height":…}, …]` (ten pictures of 1728–3717 px on the saved page), in its order; JSON-LD
//!   `Product.image` names only the first. Then JSON-LD `Product.image` and `og:image`.
//!
//! **Which address gives a picture at its largest.** Wayfair serves a picture at
//! `https://<host>/im/<number>/<steps>/<imageId / 10000>/<imageId>/<name>.jpg`. The saved page
//! (`wayfair/armchair-w005759888.html`) references its pictures in these forms, and this is what
//! they show:
//!
//! * *Evidenced:* the steps say what is done to the picture — `resize-h<N>-w<N>` (the main
//!   picture's `srcset`, 300 to 800 px; the tray's thumbnails, 40 and 56 px), `scale-w<N>` (the
//!   option swatches), `compr-r<q>` (85, or 50 for the thumbnails), joined by `^` (`%5E`) — and the
//!   JSON-LD image is the one address with no size step at all: `compr-r85` alone. The tray says
//!   that picture is 1728 px wide, where the largest `srcset` rendition is 800 px.
//! * *Evidenced:* `<number>` does not depend on the rest of the address: the page names the very
//!   same rendition (`resize-h600-w600%5Ecompr-r85/2779/27792084/Penhook+…jpg`) under two
//!   numbers (33755698 in `og:image`, 45125582 in the `srcset`), so the CDN cannot be checking it
//!   against the path. Neither does `<name>`: the page names picture 27792084 both
//!   `penhook-2047-wide-armchair.jpg` and `Penhook+20.47%27%27+Wide+Armchair.jpg`, and gives every
//!   picture the product's name. The folder is always `imageId / 10000` (2779/27792084,
//!   3086/30863898, 6259/62594766, 6266/62661329, 2894/28948221).
//! * *Inferred:* that every picture is served in the form the page uses for one — the JSON-LD
//!   address with the picture's own id and folder (`compr-r85`, no size step) — and that it is
//!   the picture at its full size. Eight of the ten pictures appear on the page only as 40/56 px
//!   thumbnails and two (27792086, 62594765) only as ids in the tray, so no larger form of them is
//!   on the page to compare with; nothing here was fetched to check.
//!
//! So each tray picture is the page's own full-form address (its JSON-LD image, else its
//! `og:image`, else any `/im/` address; its host, number and name) with the picture's id and
//! folder, and [`cdn::largest`] gives any other Wayfair address the same full form. No form the
//! page does not use is made up: no other number of steps, no larger `resize`.
//!
//! The option swatches (`scale-w55`, `scale-w88`) picture the other colours (27792083,
//! 28948221), but the page holds no gallery of those options, so Wayfair yields no `variant`
//! items yet; the page's `"videos"` list is empty, so no video form is known.
//!
//! **Facts** (the page's state): the `salePrice` (the `listPrice` is the struck-out one) in the
//! currency the JSON-LD offer names; `is_out_of_stock`; `manufacturerProductId` as the MPN; the
//! `breadcrumbs`; the overview's description; and, when the product has one option category
//! (`standardOptions`: Upholstery Color), each option as a variant, the `selectedOptions` one the
//! page's.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::cdn;
use super::embedded::{blobs_after, json_at, json_string_values, number, text};
use super::etsy::image_urls;
use super::facts::{Availability, ProductFacts, price, read};
use super::page::{Page, capture, regex};
use super::{Extractor, Found};

pub struct Wayfair;

impl Extractor for Wayfair {
    fn site(&self) -> &'static str {
        "wayfair"
    }

    fn domains(&self) -> &'static [&'static str] {
        &["wayfair.com"]
    }

    fn product_paths(&self) -> &'static [&'static str] {
        // `/furniture/pdp/<slug>-<sku>.html`: the department, then `pdp`.
        &["/*/pdp/*"]
    }

    fn example(&self) -> &'static str {
        "https://www.wayfair.com/furniture/pdp/wade-logan-penhook-2047-wide-armchair-w005759888.html"
    }

    fn product_id_in(&self, address: &str) -> Option<String> {
        capture(&PRODUCT, address).map(|id| id.to_ascii_uppercase())
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        page.has("wfcdn.com/im/") && TRAY.is_match(page.raw())
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        let products = products(page);
        for id in page.address_ids(&PRODUCT) {
            found.product_id(id.to_ascii_uppercase());
        }
        for p in &products {
            if let Some(sku) = p.get("sku").and_then(text) {
                found.product_id(sku);
            }
            if let Some(name) = p.get("name").and_then(text) {
                found.title(name);
            }
        }
        if let Some(t) = page.meta("og:title") {
            found.title(t);
        }
        images(page, &products, found);
        facts(page, &products, found);
    }
}

/// The product's facts from the page's state (module doc, "facts").
fn facts(page: &Page<'_>, products: &[Value], found: &mut Found) {
    static SALE_PRICE: LazyLock<Regex> =
        LazyLock::new(|| regex(r#""salePrice"\s*:\s*([0-9]+(?:\.[0-9]+)?)"#));
    static OUT_OF_STOCK: LazyLock<Regex> =
        LazyLock::new(|| regex(r#""is_out_of_stock"\s*:\s*(true|false)"#));
    static CRUMBS: LazyLock<Regex> =
        LazyLock::new(|| regex(r#""breadcrumbs"\s*:\s*\{\s*"breadcrumbs"\s*:\s*"#));
    static OVERVIEW: LazyLock<Regex> =
        LazyLock::new(|| regex(r#""productOverviewInformation"\s*:\s*"#));
    static OPTIONS: LazyLock<Regex> = LazyLock::new(|| regex(r#""standardOptions"\s*:\s*"#));
    static SELECTED: LazyLock<Regex> = LazyLock::new(|| regex(r#""selectedOptions"\s*:\s*"#));
    let raw = page.raw();
    let mut f = ProductFacts {
        mpn: json_string_values(raw, "manufacturerProductId")
            .into_iter()
            .next(),
        description: blobs_after(raw, &OVERVIEW)
            .values
            .iter()
            .find_map(|o| o.get("description").and_then(text)),
        ..Default::default()
    };
    // The sale price (the state's `listPrice` is the struck-out one), in the currency the
    // page's product data names.
    let currency = products
        .iter()
        .filter_map(|p| p.get("offers"))
        .find_map(|o| o.get("priceCurrency").and_then(text))
        .and_then(|c| price::currency_code(&c, None));
    if currency.is_some() {
        let sale = capture(&SALE_PRICE, raw).and_then(|p| price::machine_amount(&p));
        read::set_price(&mut f, sale, currency);
    }
    f.availability = capture(&OUT_OF_STOCK, raw).map(|out| {
        if out == "true" {
            Availability::OutOfStock
        } else {
            Availability::InStock
        }
    });
    let crumbs = blobs_after(raw, &CRUMBS);
    f.categories = read::categories(
        crumbs
            .first_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("title").and_then(text)),
        None,
    );
    // One option category (an upholstery colour): each option is a variant; only the one the
    // page opens with has its price on the page.
    let selected: Vec<String> = blobs_after(raw, &SELECTED)
        .first_strings()
        .unwrap_or_default();
    let categories = blobs_after(raw, &OPTIONS);
    if let Some([category]) = categories.first_array().map(Vec::as_slice) {
        let name = category
            .get("category_name")
            .and_then(text)
            .unwrap_or_default();
        let options = category
            .get("options")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|o| {
                let id = o.get("option_id").and_then(text);
                Some(read::Choice {
                    value: o.get("name").and_then(text)?,
                    selected: id.as_ref().is_some_and(|id| selected.contains(id)),
                    id,
                    pictures: Vec::new(),
                })
            })
            .collect();
        let variants = read::choices(&name, options, &f);
        read::set_variants(&mut f, variants);
    }
    *found.facts() = f;
}

/// A product page's address: `/pdp/<slug>-<sku>.html`.
static PRODUCT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)/pdp/(?:[^/?#]*-)?([a-z]{1,4}\d{3,12})\.html"));

/// The image tray: an `items` list whose entries have an `imageId`. Group 1 is its `[`.
static TRAY: LazyLock<Regex> = LazyLock::new(|| regex(r#""items"\s*:\s*(\[)\s*\{\s*"imageId""#));

/// JSON-LD `Product` objects.
fn products(page: &Page<'_>) -> Vec<Value> {
    page.json_ld()
        .into_iter()
        .filter(|v| v.get("@type").and_then(Value::as_str) == Some("Product"))
        .collect()
}

fn images(page: &Page<'_>, products: &[Value], found: &mut Found) {
    let named: Vec<String> = products
        .iter()
        .flat_map(|p| image_urls(p.get("image")))
        .chain(page.meta("og:image"))
        .filter_map(|u| page.absolute(&u))
        .collect();
    let tray = tray_ids(page);
    let template = named
        .iter()
        .cloned()
        .chain(page_addresses(page))
        .find_map(|u| Template::of(&u));
    match (tray.is_empty(), template) {
        (false, Some(template)) => {
            for id in tray {
                found.product_image(template.picture(id));
            }
        }
        (false, None) => found.warn(
            "the page's image tray names its pictures by id only, and no Wayfair image address \
             on the page shows how to fetch them; only the pictures its data names were taken",
        ),
        (true, _) => {}
    }
    if !found.has_images() {
        for url in named {
            found.product_image(url);
        }
    }
}

/// The ids of the image tray's pictures, in its order, its `topImageId` first.
fn tray_ids(page: &Page<'_>) -> Vec<u64> {
    let raw = page.raw();
    let Some(start) = TRAY.captures(raw).and_then(|c| c.get(1)).map(|m| m.start()) else {
        return Vec::new();
    };
    let Some((Value::Array(items), end)) = json_at(raw, start) else {
        return Vec::new();
    };
    let mut ids: Vec<u64> = items
        .iter()
        .filter_map(|i| i.get("imageId").and_then(number))
        .filter(|n| n.fract() == 0.0 && *n > 0.0 && *n < 1e15)
        .map(|n| n as u64)
        .take(super::MAX_ITEMS)
        .collect();
    static TOP: LazyLock<Regex> = LazyLock::new(|| regex(r#"^\s*,\s*"topImageId"\s*:\s*(\d+)"#));
    if let Some(top) = raw
        .get(end..)
        .and_then(|rest| capture(&TOP, rest))
        .and_then(|t| t.parse::<u64>().ok())
        && let Some(at) = ids.iter().position(|&i| i == top)
    {
        let top = ids.remove(at);
        ids.insert(0, top);
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|i| seen.insert(*i));
    ids
}

/// Every Wayfair image address in the page's text, in page order.
fn page_addresses<'p>(page: &'p Page<'_>) -> impl Iterator<Item = String> + 'p {
    static IM: LazyLock<Regex> =
        LazyLock::new(|| regex(r#"https://[a-z0-9.-]*wfcdn\.com/im/[^\s"'<>\\,)]+"#));
    IM.find_iter(page.raw())
        .take(super::embedded::MAX_MARKERS)
        .map(|m| m.as_str().to_string())
}

/// A Wayfair image address of the page, whose host, number and name every tray picture's
/// address takes (module doc).
struct Template {
    host: String,
    number: String,
    name: String,
}

impl Template {
    fn of(url: &str) -> Option<Template> {
        let parsed = url::Url::parse(url).ok()?;
        let host = parsed.host_str()?.to_ascii_lowercase();
        if !super::host_is(&host, "wfcdn.com") {
            return None;
        }
        let image = cdn::wayfair_image(parsed.path())?;
        Some(Template {
            number: image.number.to_string(),
            name: image.name.to_string(),
            host,
        })
    }

    fn picture(&self, id: u64) -> String {
        format!(
            "https://{}{}",
            self.host,
            cdn::wayfair_path(&self.number, id, &self.name)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract;
    use crate::media::Role;

    const PAGE: &str = r#"<html><head>
        <link rel="canonical" href="https://www.wayfair.com/furniture/pdp/shop-lamp-w000000042.html">
        <script type="application/ld+json">{"@context":"http://schema.org","@type":"Product",
          "name":"Brass Lamp","sku":"W000000042",
          "image":"https://secure.img1-fg.wfcdn.com/im/11111111/compr-r85/1234/12345678/brass-lamp.jpg"}</script>
        <meta property="og:image" content="https://secure.img1-fg.wfcdn.com/im/22222222/resize-h600-w600%5Ecompr-r85/1234/12345678/Brass+Lamp.jpg">
        </head><body><script>window.state = {"imageTray":{"items":[
          {"imageId":12345679,"width":1600,"height":1600},{"imageId":12345678,"width":2000,"height":2000},
          {"imageId":987654321,"width":3000,"height":3000}],"topImageId":12345678}};</script>
        <img src="https://secure.img1-fg.wfcdn.com/im/33333333/resize-h56-w56%5Ecompr-r50/1234/12345679/Brass+Lamp.jpg">
        </body></html>"#;

    #[test]
    fn every_tray_picture_in_the_pages_own_full_form() {
        let e = extract(PAGE, None);
        assert_eq!(e.site, "wayfair");
        assert_eq!(e.product_id.as_deref(), Some("W000000042"));
        assert_eq!(e.title.as_deref(), Some("Brass Lamp"));
        let got: Vec<(Role, &str)> = e.media.iter().map(|m| (m.role, m.url.as_str())).collect();
        let full = "https://secure.img1-fg.wfcdn.com/im/11111111/compr-r85";
        assert_eq!(
            got,
            [
                (
                    Role::Main,
                    format!("{full}/1234/12345678/brass-lamp.jpg").as_str()
                ),
                (
                    Role::Gallery,
                    format!("{full}/1234/12345679/brass-lamp.jpg").as_str()
                ),
                (
                    Role::Gallery,
                    format!("{full}/98765/987654321/brass-lamp.jpg").as_str()
                ),
            ]
        );
        assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    }

    #[test]
    fn without_the_tray_the_data_s_picture_is_taken() {
        let page = PAGE.replace("\"items\"", "\"other\"");
        let e = extract(&page, None);
        let urls: Vec<&str> = e.media.iter().map(|m| m.url.as_str()).collect();
        assert_eq!(
            urls,
            ["https://secure.img1-fg.wfcdn.com/im/11111111/compr-r85/1234/12345678/brass-lamp.jpg"]
        );
    }

    #[test]
    fn product_addresses() {
        assert_eq!(
            Wayfair
                .product_id_in(
                    "https://www.wayfair.com/furniture/pdp/wade-logan-penhook-2047-wide-armchair-w005759888.html?piid=1"
                )
                .as_deref(),
            Some("W005759888")
        );
        assert_eq!(
            Wayfair.product_id_in("https://www.wayfair.com/furniture/sb0/chairs-c1.html"),
            None
        );
    }
}
