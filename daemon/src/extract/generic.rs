//! Any other page, and the fallback when a site extractor finds nothing. Sources, best first:
//!
//! * JSON-LD `Product` (also inside `@graph`): `image` (string, `ImageObject` or a list),
//!   `video` (`VideoObject.contentUrl`), `name`, `sku`/`productID`;
//! * `og:image`/`og:image:secure_url`, `twitter:image`; `og:video`;
//! * `<video src>` and `<video><source src>`;
//! * prominent images — `<img>` inside `main`, `article`, `[itemprop=image]` or a product/gallery
//!   container — each at its largest `srcset` candidate (or zoom/lazy attribute), skipping
//!   images the page declares smaller than 100 px.
//!
//! Shopify stores need nothing special: their CDN URLs are rewritten by `cdn`.

use std::sync::LazyLock;

use scraper::Selector;
use serde_json::Value;

use super::embedded::text;
use super::etsy::image_urls;
use super::page::{Page, selector};
use super::{Extractor, Found};
use crate::media::Role;

pub struct Generic;

/// Most prominent `<img>`s taken from one page.
const MAX_PROMINENT: usize = 40;

impl Extractor for Generic {
    fn site(&self) -> &'static str {
        "generic"
    }

    fn handles(&self, _host: &str) -> bool {
        false
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        for product in page
            .json_ld()
            .into_iter()
            .filter(|v| is_product(v.get("@type")))
        {
            if let Some(name) = product.get("name").and_then(text) {
                found.title(name);
            }
            if let Some(id) = ["sku", "productID", "mpn"]
                .iter()
                .find_map(|k| product.get(*k).and_then(text))
            {
                found.product_id(id);
            }
            for url in image_urls(product.get("image")) {
                if let Some(url) = page.absolute(&url) {
                    found.product_image(url);
                }
            }
            for url in image_urls(product.get("video")) {
                if let Some(url) = page.absolute(&url) {
                    found.video(Role::Video, url);
                }
            }
        }

        for key in [
            "og:image:secure_url",
            "og:image",
            "twitter:image",
            "twitter:image:src",
        ] {
            for url in page.metas(key) {
                if let Some(url) = page.absolute(&url) {
                    found.product_image(url);
                }
            }
        }
        for key in ["og:video:secure_url", "og:video:url", "og:video"] {
            for url in page.metas(key) {
                if let Some(url) = page.absolute(&url).filter(|u| is_video_file(u)) {
                    found.video(Role::Video, url);
                }
            }
        }

        static VIDEOS: LazyLock<Selector> =
            LazyLock::new(|| selector("video[src], video source[src]"));
        for v in page.select(&VIDEOS) {
            if let Some(url) = v.value().attr("src").and_then(|u| page.absolute(u)) {
                found.video(Role::Video, url);
            }
        }

        static PROMINENT: LazyLock<Selector> = LazyLock::new(|| {
            selector(
                "main img, article img, img[itemprop=image], [itemprop=image] img, \
                 [class*=product] img, [class*=gallery] img, [id*=product] img, [id*=gallery] img",
            )
        });
        let mut taken = 0;
        for img in page.select(&PROMINENT) {
            if taken >= MAX_PROMINENT {
                break;
            }
            if is_small(img.value().attr("width")) || is_small(img.value().attr("height")) {
                continue;
            }
            if let Some(url) = page.img_url(img) {
                found.product_image(url);
                taken += 1;
            }
        }

        if let Some(t) = page.meta("og:title") {
            found.title(t);
        }
        static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("title"));
        if let Some(t) = page.first(&TITLE) {
            found.title(t.text().collect::<String>());
        }
    }
}

fn is_product(kind: Option<&Value>) -> bool {
    match kind {
        Some(Value::String(s)) => s == "Product" || s.ends_with("/Product"),
        Some(Value::Array(kinds)) => kinds.iter().any(|k| is_product(Some(k))),
        _ => false,
    }
}

/// A declared size under 100 px (icons, avatars, tracking pixels).
fn is_small(size: Option<&str>) -> bool {
    size.and_then(|s| s.trim().trim_end_matches("px").parse::<f64>().ok())
        .is_some_and(|n| n < 100.0)
}

fn is_video_file(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    [".mp4", ".m3u8", ".webm", ".mov", ".mpd"]
        .iter()
        .any(|e| path.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract;

    #[test]
    fn json_ld_og_video_and_srcset() {
        let html = r#"<html><head>
            <title>Mug | Shop</title>
            <meta property="og:image" content="https://cdn.shopify.com/s/files/1/1/products/mug_600x.jpg?v=3">
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
              {"@type":"Product","name":"Blue Mug","sku":"MUG-1",
               "image":["https://cdn.shopify.com/s/files/1/1/products/mug.jpg?v=3",{"@type":"ImageObject","url":"/img/side.jpg"}],
               "video":{"@type":"VideoObject","contentUrl":"https://v.example/mug.mp4"}}]}</script>
            </head><body><main>
              <img src="/img/a-small.jpg" srcset="/img/a-400.jpg 400w, /img/a-1600.jpg 1600w">
              <img src="/icons/cart.png" width="24" height="24">
              <video><source src="/media/spin.webm" type="video/webm"></video>
            </main></body></html>"#;
        let e = extract(html, Some("https://shop.example/products/mug"));
        assert_eq!(e.site, "generic");
        assert_eq!(e.title.as_deref(), Some("Blue Mug"));
        assert_eq!(e.product_id.as_deref(), Some("MUG-1"));
        let urls: Vec<(Role, &str)> = e.media.iter().map(|m| (m.role, m.url.as_str())).collect();
        assert_eq!(
            urls,
            vec![
                (
                    Role::Main,
                    "https://cdn.shopify.com/s/files/1/1/products/mug.jpg?v=3"
                ),
                (Role::Gallery, "https://shop.example/img/side.jpg"),
                (Role::Gallery, "https://shop.example/img/a-1600.jpg"),
                (Role::Video, "https://v.example/mug.mp4"),
                (Role::Video, "https://shop.example/media/spin.webm"),
            ]
        );
    }
}
