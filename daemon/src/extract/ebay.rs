//! eBay, every country site (`extraction-rules.md` §4). Sources, best first:
//!
//! * **id** — `/itm/(<slug>/)?<itemId>` in the canonical link or page URL, then the page data's
//!   `"itemId"`; catalogue pages `/p/<ePID>` use the ePID;
//! * **images** — the ~2016 View Item carousel `enImgCarousel({… "imgArr": [...]})` (or
//!   `fsImgList`): each entry's `maxImageUrl`, else `displayImgUrl`; the 2026 carousel
//!   `.ux-image-carousel-item img` (`data-zoom-src`, `data-src`, `src`) — it appears twice (page
//!   and dialog), which asset de-duplication absorbs; then `og:image`;
//! * **videos** — `playlistMap` (HLS preferred, else DASH) and `imgArr` entries with a
//!   `videoUrl`.
//!
//! Where multi-variation listings keep per-variation pictures is not known from any source or
//! fixture, so eBay yields no `variant` items.
//!
//! **Facts** (the 2016 View Item page): the title without its hidden "Details about"; the sale
//! price `#mm-saleDscPrc`, else `#prcIsum` (`content` for machines; `#orgPrc` is the struck-out
//! one) in `[itemprop=priceCurrency]`; the item number as the SKU; "Item specifics" (Brand, MPN,
//! UPC); the breadcrumbs; the seller's name.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Selector;

use super::embedded::{blobs_after, text, truthy};
use super::facts::{ProductFacts, price, read};
use super::page::{Page, capture, regex, selector, text_of};
use super::{Extractor, Found};
use crate::media::Role;

pub struct Ebay;

impl Extractor for Ebay {
    fn site(&self) -> &'static str {
        "ebay"
    }

    fn domains(&self) -> &'static [&'static str] {
        DOMAINS
    }

    fn product_paths(&self) -> &'static [&'static str] {
        &["/itm/*", "/p/*"]
    }

    fn example(&self) -> &'static str {
        "https://www.ebay.com/itm/Outdoor-Wicker-Patio-Furniture-Sofa-3-Seater-Luxury-Comfort-Brown-Wicker-Couch-/381228738769"
    }

    fn product_id_in(&self, address: &str) -> Option<String> {
        capture(&ITEM, address).or_else(|| capture(&CATALOGUE, address))
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        page.has("enImgCarousel") || page.has("ux-image-carousel")
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        ids(page, found);
        title(page, found);
        images(page, found);
        videos(page, found);
        facts(page, found);
    }
}

/// eBay's country sites, each with its subdomains (`www.`, `m.`, `cgi.`, Belgium's `befr.` and
/// `benl.`).
const DOMAINS: &[&str] = &[
    "ebay.com",
    "ebay.ca",
    "ebay.co.uk",
    "ebay.ie",
    "ebay.de",
    "ebay.at",
    "ebay.ch",
    "ebay.fr",
    "ebay.be",
    "ebay.nl",
    "ebay.it",
    "ebay.es",
    "ebay.pl",
    "ebay.com.au",
    "ebay.com.hk",
    "ebay.com.sg",
    "ebay.com.my",
    "ebay.ph",
];

/// A listing's address: `/itm/<id>` or `/itm/<slug>/<id>`.
static ITEM: LazyLock<Regex> = LazyLock::new(|| regex(r"/itm/(?:[^/?#]+/)?(\d{9,15})(?:[/?#]|$)"));
/// A catalogue product's address: `/p/<id>`.
static CATALOGUE: LazyLock<Regex> = LazyLock::new(|| regex(r"/p/(\d{5,15})(?:[/?#]|$)"));

fn ids(page: &Page<'_>, found: &mut Found) {
    static DATA: LazyLock<Regex> = LazyLock::new(|| regex(r#""itemId"\s*:\s*"?(\d{9,15})"#));
    for id in page.address_ids(&ITEM) {
        found.product_id(id);
    }
    for id in page.address_ids(&CATALOGUE) {
        found.product_id(id);
    }
    if let Some(id) = capture(&DATA, page.raw()) {
        found.product_id(id);
    }
}

fn title(page: &Page<'_>, found: &mut Found) {
    static TITLE: LazyLock<Selector> =
        LazyLock::new(|| selector("h1.x-item-title__mainTitle, h1#itemTitle, h1[itemprop=name]"));
    static HIDDEN: LazyLock<Selector> = LazyLock::new(|| selector(".g-hdn"));
    if let Some(h1) = page.first(&TITLE) {
        // `<span class="g-hdn">Details about</span>` is screen-reader text inside the title.
        let hidden: String = h1.select(&HIDDEN).map(text_of).collect();
        let full = text_of(h1);
        let shown = full.strip_prefix(hidden.as_str()).unwrap_or(&full).trim();
        found.title(shown);
        if !shown.is_empty() {
            found.facts().name = Some(shown.to_string());
        }
    }
    if let Some(t) = page.meta("og:title") {
        found.title(t.trim_end_matches("| eBay").trim());
    }
}

fn images(page: &Page<'_>, found: &mut Found) {
    static IMG_ARR: LazyLock<Regex> = LazyLock::new(|| regex(r#""?(?:imgArr|fsImgList)"?\s*:\s*"#));
    static CAROUSEL: LazyLock<Selector> = LazyLock::new(|| {
        selector(".ux-image-carousel-item img, .ux-image-carousel-item.image img")
    });

    let blobs = blobs_after(page.raw(), &IMG_ARR);
    if let Some(list) = blobs.first_array() {
        for entry in list {
            if entry.get("video").is_some_and(truthy) {
                continue;
            }
            let url = ["maxImageUrl", "displayImgUrl", "thumbImgUrl"]
                .iter()
                .find_map(|k| entry.get(*k).and_then(text));
            if let Some(url) = url.and_then(|u| page.absolute(&u)) {
                found.product_image(url);
            }
        }
        return;
    }
    if blobs.seen {
        found.warn("eBay's image carousel data could not be parsed; using the page's images");
    }
    for img in page.select(&CAROUSEL) {
        if let Some(url) = page.img_url(img).filter(|u| u.contains("ebayimg.com")) {
            found.product_image(url);
        }
    }
    if !found.has_images()
        && let Some(url) = page.meta("og:image").and_then(|u| page.absolute(&u))
    {
        found.product_image(url);
    }
}

/// The listing's facts from the View Item page (module doc, "facts").
fn facts(page: &Page<'_>, found: &mut Found) {
    // The sale price first, wherever the page puts it.
    static PRICES: LazyLock<[Selector; 2]> =
        LazyLock::new(|| [selector("#mm-saleDscPrc"), selector("#prcIsum")]);
    static CURRENCY: LazyLock<Selector> =
        LazyLock::new(|| selector("[itemprop=priceCurrency][content]"));
    static ITEM_NUMBER: LazyLock<Selector> = LazyLock::new(|| selector("#descItemNumber"));
    static SPECIFICS: LazyLock<Selector> = LazyLock::new(|| selector(".itemAttr tr"));
    static CRUMBS: LazyLock<Selector> =
        LazyLock::new(|| selector("#vi-VR-brumb-lnkLst li a.thrd, #vi-VR-brumb-lnkLst li a.scnd"));
    static SELLER: LazyLock<Selector> = LazyLock::new(|| selector("#mbgLink .mbg-nw"));
    let mut f = ProductFacts {
        name: found.facts().name.take(),
        sku: page
            .first(&ITEM_NUMBER)
            .map(text_of)
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        seller: page.first(&SELLER).map(text_of).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    // The sale price (a struck-out `#orgPrc` beside it is the old one), else the price; its
    // `content` is written for machines.
    if let Some(el) = PRICES.iter().find_map(|sel| page.first(sel)) {
        let shown = text_of(el);
        let price = el
            .value()
            .attr("content")
            .and_then(price::machine_amount)
            .or_else(|| price::parse_amount(&shown));
        let currency = page
            .attr(&CURRENCY, "content")
            .and_then(|c| price::currency_code(&c, None))
            .or_else(|| price::currency_in(&shown, None));
        read::set_price(&mut f, price, currency);
    }
    // "Item specifics": rows of label, value, label, value (`Brand:`, `MPN:`, `UPC:`).
    for row in page.select(&SPECIFICS) {
        let cells: Vec<String> = row
            .children()
            .filter_map(scraper::ElementRef::wrap)
            .filter(|c| c.value().name() == "td")
            .map(|c| read::inline_text(c).unwrap_or_default())
            .collect();
        for pair in cells.chunks(2) {
            if let [name, value] = pair
                && name.ends_with(':')
            {
                read::add_spec(&mut f.specs, name, value);
            }
        }
    }
    read::ids_from_specs(&mut f);
    f.categories = read::categories(page.select(&CRUMBS).map(text_of), None);
    *found.facts() = f;
}

fn videos(page: &Page<'_>, found: &mut Found) {
    static PLAYLIST: LazyLock<Regex> = LazyLock::new(|| regex(r#""playlistMap"\s*:\s*"#));
    static IMG_ARR: LazyLock<Regex> = LazyLock::new(|| regex(r#""imgArr"\s*:\s*"#));
    for map in blobs_after(page.raw(), &PLAYLIST).values {
        if let Some(url) = ["HLS", "DASH"]
            .iter()
            .find_map(|k| map.get(*k).and_then(text))
            .and_then(|u| page.absolute(&u))
        {
            found.video(Role::Video, url);
        }
    }
    for list in blobs_after(page.raw(), &IMG_ARR).values {
        for entry in list.as_array().into_iter().flatten() {
            if let Some(url) = entry
                .get("videoUrl")
                .and_then(text)
                .and_then(|u| page.absolute(&u))
            {
                found.video(Role::Video, url);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carousel_2026_and_hls_playlist() {
        // The carousel appears twice (page and dialog); thumbnails are `s-l140` under
        // `/thumbs/`, the zoom source is `s-l1600.webp`.
        let slide = |id: &str| {
            format!(
                r#"<div class="ux-image-carousel-item image"><img data-zoom-src="https://i.ebayimg.com/images/g/{id}/s-l1600.webp" src="https://i.ebayimg.com/thumbs/images/g/{id}/s-l140.webp"></div>"#
            )
        };
        let html = format!(
            r#"<html><body><h1 class="x-item-title__mainTitle"><span>Vintage Lamp</span></h1>
            <div class="ux-image-carousel">{a}{b}</div><div class="dialog">{a}{b}</div>
            <script>$MC=[{{"video":{{"playlistMap":{{"HLS":"https://video.ebaycdn.net/videos/v1/abc/playlist.m3u8","DASH":"https://video.ebaycdn.net/videos/v1/abc/playlist.mpd"}}}}}}]</script>
            </body></html>"#,
            a = slide("AAAAAAAA~1"),
            b = slide("BBBBBBBB~2")
        );
        let e = crate::extract::extract(
            &html,
            Some("https://www.ebay.de/itm/Vintage-Lamp/123456789012?hash=x"),
        );
        assert_eq!(e.site, "ebay");
        assert_eq!(e.product_id.as_deref(), Some("123456789012"));
        assert_eq!(e.title.as_deref(), Some("Vintage Lamp"));
        let urls: Vec<(Role, &str)> = e.media.iter().map(|m| (m.role, m.url.as_str())).collect();
        assert_eq!(
            urls,
            vec![
                (
                    Role::Main,
                    "https://i.ebayimg.com/images/g/AAAAAAAA~1/s-l1600.webp"
                ),
                (
                    Role::Gallery,
                    "https://i.ebayimg.com/images/g/BBBBBBBB~2/s-l1600.webp"
                ),
                (
                    Role::Video,
                    "https://video.ebaycdn.net/videos/v1/abc/playlist.m3u8"
                ),
            ]
        );
    }

    #[test]
    fn ebay_hosts() {
        for h in [
            "ebay.com",
            "www.ebay.co.uk",
            "m.ebay.de",
            "cgi.ebay.com.au",
            "befr.ebay.be",
        ] {
            assert!(Ebay.handles(h), "{h}");
        }
        for h in [
            "ebayimg.com",
            "notebay.com",
            "ebay.example.co.uk.evil.com",
            "ebay.example",
        ] {
            assert!(!Ebay.handles(h), "{h}");
        }
    }
}
