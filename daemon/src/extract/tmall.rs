//! Tmall (`detail.tmall.com/item.htm?id=<id>`, also `tmall.hk`), Taobao's mall. Server HTML,
//! GBK-encoded (decoded before it gets here: `page::decode_page`). Sources, best first:
//!
//! * **id** — `id=` of the canonical `item.htm` address, the page URL, then
//!   `TShop.Setup({…})`'s `itemDO.itemId`;
//! * **title** — `itemDO.title`, else `<title>` without "-tmall.com天猫";
//! * **gallery** — `TShop.Setup`'s `propertyPics.default` (the originals, first the main
//!   picture), else the thumbnail strip `#J_UlThumb img` (`_60x60q90.jpg`);
//! * **variants** — the other keys of `propertyPics`, `;<propertyId>:<valueId>;` (`;1627207:28341;`
//!   is the colour 黑色): each value's pictures, labelled with the value's name as the page's
//!   sale properties show it (`.J_TSaleProp li[data-value="1627207:28341"]`), with
//!   `<propertyId>:<valueId>` as the variant id; then the swatches themselves
//!   (`background:url(…_40x40q90.jpg)`), as on Taobao.
//!
//! The alicdn size suffixes are removed by `cdn::largest`. Description images are not in the
//! page (a separate `descUrl` request).
//!
//! **Facts**: Taobao's ([`taobao::facts`]) with `valItemInfo.skuMap` and each value's
//! `propertyPics`; the title, brand and stock (`quantity`) from `itemDO`; the review count
//! `#J_ItemRates`.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Selector;
use serde_json::Value;

use super::embedded::{blobs_after, path, strings, text};
use super::facts::read;
use super::page::{Page, regex, selector, text_of};
use super::taobao;
use super::{Extractor, Found};

pub struct Tmall;

impl Extractor for Tmall {
    fn site(&self) -> &'static str {
        "tmall"
    }

    fn domains(&self) -> &'static [&'static str] {
        &["tmall.com", "tmall.hk"]
    }

    fn product_paths(&self) -> &'static [&'static str] {
        // Tmall Global (`detail.tmall.hk`) keeps its items under `/hk/`.
        &["/item.htm*", "/hk/item.htm*"]
    }

    fn example(&self) -> &'static str {
        "https://detail.tmall.com/item.htm?id=605258110430"
    }

    fn product_id_in(&self, address: &str) -> Option<String> {
        taobao::item_id_in(address)
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        page.has("TShop.Setup") && page.has("propertyPics")
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        static SETUP: LazyLock<Regex> = LazyLock::new(|| regex(r"TShop\.Setup\(\s*"));
        static REVIEWS: LazyLock<Selector> = LazyLock::new(|| selector("#J_ItemRates .tm-count"));

        taobao::item_ids(page, found);
        let blobs = blobs_after(page.raw(), &SETUP);
        if blobs.seen && blobs.values.is_empty() {
            found.warn("Tmall's TShop.Setup data could not be parsed; using the thumbnails");
        }
        let setup = blobs.values.first();
        if let Some(setup) = setup {
            if let Some(id) = path(setup, &["itemDO", "itemId"]).and_then(text) {
                found.product_id(id);
            }
            if let Some(t) = path(setup, &["itemDO", "title"]).and_then(text) {
                found.title(t);
            }
        }
        let pictures = setup
            .and_then(|s| s.get("propertyPics"))
            .and_then(Value::as_object);
        let gallery = pictures
            .and_then(|p| p.get("default"))
            .map(strings)
            .filter(|l| !l.is_empty());
        match gallery {
            Some(list) => {
                for url in list.iter().filter_map(|u| page.absolute(u)) {
                    found.product_image(url);
                }
            }
            None => taobao::thumbnails(page, found),
        }
        let names = taobao::value_names(page);
        // `;1627207:28341;` → `1627207:28341`, in the order the page shows the values (the
        // object's own order is not kept), values the page does not show last.
        let mut values: Vec<(&str, &Value)> = pictures
            .into_iter()
            .flatten()
            .filter(|(key, _)| key.as_str() != "default")
            .map(|(key, urls)| (key.trim_matches(';'), urls))
            .filter(|(id, _)| !id.is_empty())
            .collect();
        values.sort_by_key(|(id, _)| names.position(id).unwrap_or(usize::MAX));
        for (id, urls) in values {
            let label = names.name(id).unwrap_or(id);
            for url in strings(urls).iter().filter_map(|u| page.absolute(u)) {
                found.variant_image(url, label, Some(id));
            }
        }
        taobao::swatches(page, found);
        if let Some(t) = taobao::page_title(page, "-tmall.com天猫") {
            found.title(t);
        }
        let sku_map = setup
            .and_then(|s| path(s, &["valItemInfo", "skuMap"]))
            .and_then(Value::as_object);
        let mut f = taobao::facts(page, sku_map, &|id| {
            let key = format!(";{id};");
            pictures
                .and_then(|p| p.get(&key))
                .map(strings)
                .unwrap_or_default()
        });
        if let Some(item) = setup.and_then(|s| s.get("itemDO")) {
            f.name = item.get("title").and_then(text);
            f.brand = item.get("brand").and_then(text);
            if f.availability.is_none() {
                f.availability = item
                    .get("quantity")
                    .and_then(Value::as_u64)
                    .map(|n| taobao::in_stock(n > 0));
            }
        }
        f.review_count = page
            .first(&REVIEWS)
            .and_then(|r| read::count_in(&text_of(r)));
        *found.facts() = f;
    }
}
