//! Any shop haul has no extractor for, and the fallback when a site extractor finds nothing:
//! the product's own pictures, each once, at their largest — not the page's.
//!
//! A product page shows far more pictures than the product's: the shop's logo, icons and
//! payment marks, banners, and above all other products (recommendations, "complete the look",
//! recently viewed), often more of them than of the product. Saving them all gives the user a
//! pile to sort by hand. So the generic extractor reads the page the way a person does:
//!
//! 1. [`layout`] maps the page: each element, what it is inside (a link to another page, the
//!    header or footer).
//! 2. [`mentions`] finds every place the page names a medium: markup, structured data
//!    (JSON-LD, microdata, OpenGraph), scripts, and what the browser showed.
//! 3. [`decide`] groups the mentions into pictures and keeps the product's: those the shop's
//!    structured data names, and those shown beside them in the product's gallery; each at the
//!    largest rendition the page mentions; a video platform's player in the gallery is a link
//!    to the video's page there.
//!
//! The product's name and id come from its JSON-LD (`name`, `sku`/`productID`/`mpn`), else
//! `og:title` and the page title. A JSON-LD `ProductGroup` also names its variants' pictures,
//! which become labelled variant pictures.

mod decide;
mod layout;
mod mentions;

pub(crate) use decide::is_shop_furniture;

use std::sync::LazyLock;

use scraper::Selector;
use serde_json::Value;

use super::embedded::text;
use super::etsy::image_urls;
use super::page::{Page, selector};
use super::{Extractor, Found};
use crate::media::Role;

pub struct Generic;

impl Extractor for Generic {
    fn site(&self) -> &'static str {
        super::GENERIC_SITE
    }

    fn handles(&self, _host: &str) -> bool {
        false
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        let products: Vec<Value> = page.json_ld_product().into_iter().collect();
        for product in &products {
            if let Some(name) = product.get("name").and_then(text) {
                found.title(name);
            }
            if let Some(id) = ["sku", "productID", "productGroupID", "mpn"]
                .iter()
                .find_map(|k| product.get(*k).and_then(text))
            {
                found.product_id(id);
            }
        }

        let layout = layout::Layout::of(page);
        let mut collector = mentions::Collector::new(page, &layout);
        collector.structured(&products);
        collector.dom();
        collector.scripts();
        collector.shown();
        let hints = decide::Hints {
            names: product_names(products.first(), page),
            ids: product_ids(products.first(), page),
        };
        let decision = decide::decide(&layout, &collector.mentions, &collector.players, &hints);
        for url in decision.pictures {
            found.product_image(url);
        }
        for url in decision.videos {
            found.video(Role::Video, url);
        }
        for link in decision.links {
            found.add_link(link);
        }
        if let Some(note) = decision.note {
            found.warn(note);
        }
        for product in &products {
            data_variants(product, page, found);
        }

        if let Some(t) = page.meta("og:title") {
            found.title(t);
        }
        if let Some(t) = page.first(&TITLE) {
            found.title(t.text().collect::<String>());
        }
    }
}

static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("title"));

/// The product's ids: the numbers and codes in the page's address (`…-380`, `…-60347102/`,
/// `iid-1024643167`) and its data's SKU and product id, lower-case.
fn product_ids(product: Option<&Value>, page: &Page<'_>) -> Vec<String> {
    let from_data = product.into_iter().flat_map(|p| {
        ["sku", "productID", "mpn", "gtin13", "gtin"]
            .iter()
            .filter_map(|k| p.get(*k).and_then(text))
            .collect::<Vec<_>>()
    });
    let from_address = page
        .url()
        .map(|u| u.path().to_string())
        .into_iter()
        .flat_map(|path| {
            path.split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|t| {
                    let digits = t.bytes().filter(u8::is_ascii_digit).count();
                    digits >= 3 && (digits == t.len() || t.len() >= 5)
                })
                .map(str::to_string)
                .collect::<Vec<_>>()
        });
    let mut ids: Vec<String> = from_data
        .chain(from_address)
        .map(|id| id.trim().to_ascii_lowercase())
        .filter(|id| id.len() >= 3)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The product's names as the page states them: its data's `name`, its `og:title` and
/// `twitter:title`, its `h1`, and its title without the shop's name (`Blue Mug | Shop`),
/// normalised for comparison.
fn product_names(product: Option<&Value>, page: &Page<'_>) -> Vec<String> {
    static H1: LazyLock<Selector> = LazyLock::new(|| selector("h1"));
    let mut names: Vec<String> = product
        .and_then(|p| p.get("name"))
        .and_then(text)
        .into_iter()
        .chain(page.meta("og:title"))
        .chain(page.meta("twitter:title"))
        .chain(
            page.select(&H1)
                .take(4)
                .map(|h| h.text().collect::<String>()),
        )
        .collect();
    if let Some(title) = page.first(&TITLE).map(|t| t.text().collect::<String>()) {
        names.extend(
            title
                .split(" | ")
                .chain(title.split(" - "))
                .map(str::to_string),
        );
        names.push(title);
    }
    let mut out: Vec<String> = names
        .iter()
        .map(|n| decide::normalize_name(n))
        .filter(|n| !n.is_empty())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The variants a JSON-LD product lists as this page's (a `ProductGroup`'s `hasVariant`, as
/// Google documents them): each variant's pictures, labelled by what the group varies by
/// (`variesBy`: colour, size, …), else its colour, else its name, with its SKU as its id. A
/// picture that is also the product's own stays in the gallery (`Found` keeps its first role).
fn data_variants(product: &Value, page: &Page<'_>, found: &mut Found) {
    let Some(Value::Array(variants)) = product.get("hasVariant") else {
        return;
    };
    let varies_by: Vec<String> = match product.get("variesBy") {
        Some(Value::Array(v)) => v.iter().filter_map(text).collect(),
        Some(v) => text(v).into_iter().collect(),
        None => Vec::new(),
    }
    .into_iter()
    .map(|p| p.rsplit('/').next().unwrap_or(&p).to_string())
    .collect();
    for variant in variants.iter().take(super::MAX_ITEMS) {
        let by: Vec<String> = varies_by
            .iter()
            .filter_map(|p| variant.get(p.as_str()).and_then(text))
            .collect();
        let label = if by.is_empty() {
            ["color", "name"]
                .iter()
                .find_map(|k| variant.get(*k).and_then(text))
                .unwrap_or_default()
        } else {
            by.join(" / ")
        };
        let id = variant.get("sku").and_then(text);
        for url in image_urls(variant.get("image")) {
            if let Some(url) = page.absolute(&url) {
                found.variant_image(url, &label, id.as_deref());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract;

    fn media(e: &crate::extract::Extraction) -> Vec<(Role, &str)> {
        e.media.iter().map(|m| (m.role, m.url.as_str())).collect()
    }

    /// A shop page as they come: the product's data names its main picture; the gallery shows
    /// it with two more views, thumbnails linking to zoom sizes, one lazy-loaded, and a video;
    /// around it the shop's logo, payment marks, social icons, a tracking pixel, a lazy-loading
    /// stand-in shared by every image, and other products linking to their own pages.
    const SHOP_PAGE: &str = r##"<html><head><title>Brass Lamp | Shop</title>
        <script type="application/ld+json">{"@context":"https://schema.org","@type":"Product",
          "name":"Brass Lamp","sku":"LAMP-1","image":"https://img.shop.example/p/lamp-1.jpg?w=1200"}</script>
        </head><body>
        <header><a href="/"><img src="/static/shop.png" class="site-logo" alt="Shop"></a></header>
        <main><div class="product">
          <div class="gallery">
            <div class="stage"><a href="https://img.shop.example/p/lamp-1.jpg?w=2000">
              <img src="https://img.shop.example/p/lamp-1.jpg?w=600" alt="Brass Lamp"></a></div>
            <ul class="thumbs">
              <li><a href="https://img.shop.example/p/lamp-1.jpg?w=2000"><img src="/static/lazy.png" data-src="https://img.shop.example/p/lamp-1.jpg?w=80"></a></li>
              <li><a href="https://img.shop.example/p/lamp-2.jpg?w=2000"><img src="/static/lazy.png" data-src="https://img.shop.example/p/lamp-2.jpg?w=80"></a></li>
              <li><a href="#"><img src="/static/lazy.png" data-src="https://img.shop.example/p/lamp-3.jpg?w=80"
                  data-zoom-image="https://img.shop.example/p/lamp-3.jpg?w=2000"></a></li>
              <li><video src="https://img.shop.example/p/lamp-spin.mp4"></video></li>
            </ul>
          </div>
          <div class="details"><h1>Brass Lamp</h1>
            <form><select><option>Brass</option></select><button>Add to basket</button></form>
            <img src="/static/payment/visa.png" alt="Visa"></div>
        </div>
        <section class="related"><h2>You may also like</h2>
          <a href="/products/desk"><img src="/static/lazy.png" data-src="https://img.shop.example/p/desk-1.jpg?w=300" alt="Oak Desk"></a>
          <a href="/products/chair"><img src="/static/lazy.png" data-src="https://img.shop.example/p/chair-1.jpg?w=300" alt="Chair"></a>
          <a href="/products/shelf"><img src="/static/lazy.png" data-src="https://img.shop.example/p/shelf-1.jpg?w=300" alt="Shelf"></a>
          <a href="/products/rug"><img src="/static/lazy.png" data-src="https://img.shop.example/p/rug-1.jpg?w=300" alt="Rug"></a>
          <a href="/products/vase"><img src="/static/lazy.png" data-src="https://img.shop.example/p/vase-1.jpg?w=300" alt="Vase"></a>
          <a href="/products/bowl"><img src="/static/lazy.png" data-src="https://img.shop.example/p/bowl-1.jpg?w=300" alt="Bowl"></a>
        </section></main>
        <footer><a href="https://social.example/shop"><img src="/static/facebook.png"></a></footer>
        <img src="https://pixel.tracker.example/p?x=1" width="1" height="1">
        </body></html>"##;

    #[test]
    fn the_gallery_around_the_products_data_is_saved_and_nothing_else() {
        let e = extract(SHOP_PAGE, Some("https://shop.example/products/lamp"));
        assert_eq!(e.site, "generic");
        assert_eq!(e.title.as_deref(), Some("Brass Lamp"));
        assert_eq!(e.product_id.as_deref(), Some("LAMP-1"));
        assert_eq!(
            media(&e),
            vec![
                (Role::Main, "https://img.shop.example/p/lamp-1.jpg?w=2000"),
                (
                    Role::Gallery,
                    "https://img.shop.example/p/lamp-2.jpg?w=2000"
                ),
                (
                    Role::Gallery,
                    "https://img.shop.example/p/lamp-3.jpg?w=2000"
                ),
                (Role::Video, "https://img.shop.example/p/lamp-spin.mp4"),
            ]
        );
        assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    }

    #[test]
    fn what_the_browser_showed_joins_the_same_decision() {
        let shown = [
            "https://img.shop.example/p/lamp-2.jpg?w=3000",
            "https://img.shop.example/p/desk-1.jpg?w=300",
            "https://pixel.tracker.example/p?x=1",
        ];
        let e = crate::extract::extract_shown(
            SHOP_PAGE,
            Some("https://shop.example/products/lamp"),
            &shown,
        );
        let urls: Vec<&str> = e.media.iter().map(|m| m.url.as_str()).collect();
        assert!(
            urls.contains(&"https://img.shop.example/p/lamp-2.jpg?w=3000"),
            "{urls:?}"
        );
        assert!(
            !urls
                .iter()
                .any(|u| u.contains("desk") || u.contains("pixel")),
            "{urls:?}"
        );
        assert_eq!(urls.len(), 4, "{urls:?}");
    }

    #[test]
    fn without_data_the_products_name_or_id_points_at_its_pictures() {
        let named = r##"<html><head><title>Reading lenses STICK-ON - Optics shop</title></head><body>
            <h1>Reading lenses STICK-ON</h1>
            <div class="images"><img src="/image/lens-650x320.jpg" data-zoom-image="/image/lens-1100x540.jpg" alt="Reading lenses STICK-ON">
              <a href="#"><img src="/image/lens-on-glasses-650x320.jpg" alt="Reading lenses STICK-ON"></a></div>
            <div class="more"><a href="/other"><img src="/image/other-650x320.jpg" alt="Swimming mask"></a></div>
            </body></html>"##;
        let e = extract(named, Some("https://optics.example/lenses/stick-on"));
        assert_eq!(
            media(&e),
            vec![
                (Role::Main, "https://optics.example/image/lens-1100x540.jpg"),
                (
                    Role::Gallery,
                    "https://optics.example/image/lens-on-glasses-650x320.jpg"
                ),
            ]
        );

        let by_id = r#"<html><head><title>Clinic</title></head><body>
            <div class="slider"><img src="https://files.example.net/services/380/1.jpg"></div>
            <div class="offers"><img src="https://files.example.net/services/381/1.jpg"></div>
            </body></html>"#;
        let e = extract(
            by_id,
            Some("https://clinic.example/Insoles_made_to_measure-380"),
        );
        assert_eq!(
            media(&e),
            vec![(Role::Main, "https://files.example.net/services/380/1.jpg")]
        );
    }

    /// A `ProductGroup` as Google's structured-data documentation writes one: the page's product
    /// and its variants, each with its own pictures.
    #[test]
    fn a_product_groups_variants_are_labelled_variant_pictures() {
        let html = r#"<html><head><title>Wool coat</title><script type="application/ld+json">
            {"@context":"https://schema.org","@type":"ProductGroup","name":"Wool winter coat",
             "productGroupID":"44E01","variesBy":["https://schema.org/size","https://schema.org/color"],
             "image":"https://img.shop.example/coat.jpg",
             "hasVariant":[
               {"@type":"Product","sku":"44E01-M11000","name":"Small green coat","size":"small",
                "color":"green","image":"https://img.shop.example/coat_small_green.jpg"},
               {"@type":"Product","sku":"44E01-K11000","name":"Small dark blue coat","size":"small",
                "color":"dark blue","image":["https://img.shop.example/coat_small_blue.jpg",
                "https://img.shop.example/coat.jpg"]}]}
            </script></head><body></body></html>"#;
        let e = extract(html, Some("https://shop.example/coats/44E01"));
        assert_eq!(e.product_id.as_deref(), Some("44E01"));
        let got: Vec<(Role, &str, Option<&str>, Option<&str>)> = e
            .media
            .iter()
            .map(|m| {
                (
                    m.role,
                    m.url.as_str(),
                    m.variant.as_deref(),
                    m.variant_id.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (Role::Main, "https://img.shop.example/coat.jpg", None, None),
                (
                    Role::Variant,
                    "https://img.shop.example/coat_small_green.jpg",
                    Some("small / green"),
                    Some("44E01-M11000")
                ),
                (
                    Role::Variant,
                    "https://img.shop.example/coat_small_blue.jpg",
                    Some("small / dark blue"),
                    Some("44E01-K11000")
                ),
            ]
        );
    }

    /// A video platform's player in the gallery is a link to the video's page, never a download;
    /// one in the description is not the gallery's.
    #[test]
    fn a_player_in_the_gallery_is_a_link() {
        let page = SHOP_PAGE.replace(
            r#"<li><video src="https://img.shop.example/p/lamp-spin.mp4"></video></li>"#,
            r#"<li><iframe src="https://www.youtube-nocookie.com/embed/i7pXJC8wwLE?rel=0"></iframe>
               <img src="https://i.ytimg.com/vi/i7pXJC8wwLE/default.jpg"></li>"#,
        );
        let page = page.replace(
            "<button>Add to basket</button></form>",
            r#"<button>Add to basket</button></form><p>See it at work:
               <iframe src="https://player.vimeo.com/video/76979871"></iframe></p>"#,
        );
        let e = extract(&page, Some("https://shop.example/products/lamp"));
        let links: Vec<(&str, Role, &str)> = e
            .links
            .iter()
            .map(|l| (l.url.as_str(), l.role, l.platform.as_str()))
            .collect();
        assert_eq!(
            links,
            [(
                "https://www.youtube.com/watch?v=i7pXJC8wwLE",
                Role::Video,
                "youtube"
            )]
        );
        assert!(
            e.media
                .iter()
                .all(|m| !m.url.contains("youtu") && !m.url.contains("ytimg")),
            "{:?}",
            e.media
        );
        assert_eq!(e.count(Role::Video), 0);
    }

    /// A gallery whose "Video" tile scrolls to the player further down: the one player the page
    /// shows is the gallery's; a hidden dialog's player is not.
    #[test]
    fn a_gallery_s_video_button_points_at_the_page_s_one_shown_player() {
        let page = SHOP_PAGE.replace(
            r#"<li><video src="https://img.shop.example/p/lamp-spin.mp4"></video></li>"#,
            r#"<li><a href="javascript:void(0)" class="scrollToVideo">Video</a></li>"#,
        );
        let page = page.replace(
            r#"<section class="related">"#,
            r#"<div id="finance" style="display: none"><div class="youtube" data-embed="aqatM2FT0hc?rel=0"></div></div>
               <a id="video-gallery"></a><div class="youtube" data-embed="p6-oRDddNMI">
               <iframe data-src="https://www.youtube.com/embed/p6-oRDddNMI?showinfo=0"></iframe></div>
               <section class="related">"#,
        );
        let e = extract(&page, Some("https://shop.example/products/lamp"));
        let links: Vec<&str> = e.links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(links, ["https://www.youtube.com/watch?v=p6-oRDddNMI"]);

        // Without the gallery's button, a player elsewhere on the page is not known to be the
        // product's.
        let unannounced = page
            .replace("scrollToVideo", "more")
            .replace(">Video<", ">More<");
        let e = extract(&unannounced, Some("https://shop.example/products/lamp"));
        assert!(e.links.is_empty(), "{:?}", e.links);
    }

    #[test]
    fn a_page_that_names_nothing_gives_nothing_and_says_why() {
        let html = r#"<html><head><title>Home</title></head><body>
            <img src="https://cdn.example/banner.jpg"><img src="https://cdn.example/tile.jpg">
            </body></html>"#;
        let e = extract(html, Some("https://shop.example/"));
        assert!(e.media.is_empty(), "{:?}", e.media);
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("does not say which pictures are the product's")),
            "{:?}",
            e.warnings
        );
    }
}
