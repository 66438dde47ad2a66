//! Taobao (`item.taobao.com/item.htm?id=<id>`). The page is server HTML, often GBK-encoded
//! (decoded before it gets here: `page::decode_page`). Sources, best first:
//!
//! * **id** — `id=` of the canonical `item.htm` address, the page URL, then `g_config`'s
//!   `itemId: '<id>'`;
//! * **title** — the heading's `data-title` (`h3.tb-main-title`), else `<title>` without
//!   "-淘宝网";
//! * **gallery** — `g_config.idata.item.auctionImages` (the originals, first the main
//!   picture), else the thumbnail strip `#J_UlThumb img` (`_50x50.jpg`, `_50x50.jpg_.webp`);
//! * **variants** — the sale properties' swatches (`.J_TSaleProp li[data-value]`, the picture
//!   as the link's `background:url(…_30x30.jpg)`), labelled with the value's name and with
//!   `<propertyId>:<valueId>` (`1627207:12178081`) as the variant id.
//!
//! Every size suffix (`_50x50.jpg`, `_400x400.jpg`, `_.webp`) is alicdn's and is removed by
//! `cdn::largest`. Description images are not in the page (a separate `descUrl` request).
//! Tmall (`tmall.rs`) is Taobao's mall and shares the swatch markup, read here.
//!
//! **Facts** (shared with Tmall, [`facts`]): the promotion price where shown, else the price
//! panel's (the lowest of a range), in yuan (mainland China's market, its `¥`); the attribute list
//! (`品牌: …`) as specifications; the shop's name; every SKU of `skuMap`
//! (`;<propertyId>:<valueId>;…`: price, stock, skuId), named by the sale properties the page shows
//! (`ul.J_TSaleProp[data-property]`) and pictured by its values' swatches. Taobao's own: the
//! title's `data-title`, the stock count `#J_SpanStock`.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Selector;

use serde_json::{Map, Value};

use super::embedded::{blobs_after, text};
use super::facts::{Availability, ProductFacts, VariantFacts, price, read};
use super::page::{Page, capture, clean_text, regex, selector, text_of};
use super::{Extractor, Found};

pub struct Taobao;

impl Extractor for Taobao {
    fn site(&self) -> &'static str {
        "taobao"
    }

    fn domains(&self) -> &'static [&'static str] {
        &["taobao.com"]
    }

    fn product_paths(&self) -> &'static [&'static str] {
        &["/item.htm*"]
    }

    fn example(&self) -> &'static str {
        "https://item.taobao.com/item.htm?id=562283240178"
    }

    fn product_id_in(&self, address: &str) -> Option<String> {
        item_id_in(address)
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        page.has("g_config") && page.has("auctionImages")
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        static ITEM_ID: LazyLock<Regex> =
            LazyLock::new(|| regex(r#"\bitemId\s*:\s*['"](\d{6,20})['"]"#));
        static TITLE: LazyLock<Selector> =
            LazyLock::new(|| selector("h3.tb-main-title[data-title]"));
        static AUCTION_IMAGES: LazyLock<Regex> = LazyLock::new(|| regex(r"\bauctionImages\s*:\s*"));
        static SKU_MAP: LazyLock<Regex> = LazyLock::new(|| regex(r#"\bskuMap\s*:\s*"#));
        static STOCK: LazyLock<Selector> = LazyLock::new(|| selector("#J_SpanStock"));

        item_ids(page, found);
        if let Some(id) = capture(&ITEM_ID, page.raw()) {
            found.product_id(id);
        }
        if let Some(t) = page.attr(&TITLE, "data-title") {
            found.title(t);
        }
        let blobs = blobs_after(page.raw(), &AUCTION_IMAGES);
        match blobs.first_strings() {
            Some(list) => {
                for url in list.iter().filter_map(|u| page.absolute(u)) {
                    found.product_image(url);
                }
            }
            None => {
                if blobs.seen {
                    found.warn("Taobao's auctionImages could not be parsed; using the thumbnails");
                }
                thumbnails(page, found);
            }
        }
        swatches(page, found);
        if let Some(t) = page_title(page, "-淘宝网") {
            found.title(t);
        }
        let sku_map = blobs_after(page.raw(), &SKU_MAP)
            .values
            .into_iter()
            .find_map(|v| match v {
                Value::Object(m) if !m.is_empty() => Some(m),
                _ => None,
            });
        let swatches = swatch_pictures(page);
        let mut f = facts(page, sku_map.as_ref(), &|id| {
            swatches
                .iter()
                .filter(|(v, _)| v == id)
                .map(|(_, url)| url.clone())
                .collect()
        });
        f.name = page.attr(&TITLE, "data-title").map(|t| clean_text(&t));
        if f.availability.is_none() {
            f.availability = page
                .first(&STOCK)
                .and_then(|s| text_of(s).parse::<u64>().ok())
                .map(|n| in_stock(n > 0));
        }
        *found.facts() = f;
    }
}

/// The item id in a Taobao or Tmall product address: `item.htm?id=<id>` (other parameters may
/// come first).
pub(super) fn item_id_in(address: &str) -> Option<String> {
    capture(&ITEM_URL, address)
}

static ITEM_URL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"/item\.htm\?(?:[^#]*&)?id=(\d{6,20})(?:[&#]|$)"));

/// The ids of the page's own addresses (canonical first).
pub(super) fn item_ids(page: &Page<'_>, found: &mut Found) {
    for id in page.address_ids(&ITEM_URL) {
        found.product_id(id);
    }
}

/// `<title>` without the marketplace's suffix (`-淘宝网`, `-tmall.com天猫`).
pub(super) fn page_title(page: &Page<'_>, suffix: &str) -> Option<String> {
    static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("head title"));
    let title = text_of(page.first(&TITLE)?);
    let title = title.trim_end_matches(suffix).trim();
    (!title.is_empty()).then(|| title.to_string())
}

/// The gallery's thumbnail strip, when the page data is missing.
pub(super) fn thumbnails(page: &Page<'_>, found: &mut Found) {
    static THUMBS: LazyLock<Selector> = LazyLock::new(|| selector("#J_UlThumb img"));
    for img in page.select(&THUMBS) {
        if let Some(url) = page.img_url(img) {
            found.product_image(url);
        }
    }
}

/// Every sale-property value the page shows, in page order, with its name
/// (`1627207:28341` → `黑色`): the swatch's text, else its `title`.
pub(super) fn value_names(page: &Page<'_>) -> ValueNames {
    let mut names = ValueNames::default();
    for li in page.select(&SALE_VALUES) {
        let Some(id) = li.value().attr("data-value").map(str::trim) else {
            continue;
        };
        let name = li
            .select(&NAME)
            .next()
            .map(text_of)
            .filter(|n| !n.is_empty())
            .or_else(|| li.value().attr("title").map(str::to_string));
        if let Some(name) = name
            && names.position(id).is_none()
        {
            names.0.push((id.to_string(), name));
        }
    }
    names
}

/// Sale-property values (`<propertyId>:<valueId>`) and their names, in page order.
#[derive(Debug, Default)]
pub(super) struct ValueNames(Vec<(String, String)>);

impl ValueNames {
    /// The name of the value `id`.
    pub(super) fn name(&self, id: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(v, _)| v == id)
            .map(|(_, n)| n.as_str())
    }

    /// Where the value `id` is in the page's order.
    pub(super) fn position(&self, id: &str) -> Option<usize> {
        self.0.iter().position(|(v, _)| v == id)
    }
}

static SALE_VALUES: LazyLock<Selector> = LazyLock::new(|| selector(".J_TSaleProp li[data-value]"));
static NAME: LazyLock<Selector> = LazyLock::new(|| selector("span"));

/// Variant pictures from the sale properties' swatches: each value whose link shows a picture
/// ([`swatch_pictures`]), labelled with its name and identified by its `data-value`.
pub(super) fn swatches(page: &Page<'_>, found: &mut Found) {
    let names = value_names(page);
    for (id, url) in swatch_pictures(page) {
        let label = names.name(&id).unwrap_or(&id).to_string();
        found.variant_image(url, &label, Some(&id));
    }
}

/// Every sale-property value's swatch picture (`style="background:url(//…_30x30.jpg) …"`), by
/// its `data-value`, in page order.
fn swatch_pictures(page: &Page<'_>) -> Vec<(String, String)> {
    static LINK: LazyLock<Selector> = LazyLock::new(|| selector("a[style]"));
    static BACKGROUND: LazyLock<Regex> =
        LazyLock::new(|| regex(r#"url\(\s*['"]?([^'")\s]+)['"]?\s*\)"#));
    page.select(&SALE_VALUES)
        .filter_map(|li| {
            let id = li.value().attr("data-value")?.trim().to_string();
            let url = li
                .select(&LINK)
                .filter_map(|a| a.value().attr("style"))
                .find_map(|style| capture(&BACKGROUND, style))
                .and_then(|u| page.absolute(&u))?;
            Some((id, url))
        })
        .collect()
}

/// The facts Taobao's and Tmall's item pages share (module doc, "facts"): the price panel,
/// the attribute list, the shop, and the SKUs of `sku_map` (`";1627207:28341;…;": {"price",
/// "stock", "skuId"}`), each named by the sale properties the page shows and pictured by
/// `pictures` (the pictures of one `propertyId:valueId`). Both are mainland China's markets:
/// their prices are yuan, shown as `¥`.
pub(super) fn facts(
    page: &Page<'_>,
    sku_map: Option<&Map<String, Value>>,
    pictures: &dyn Fn(&str) -> Vec<String>,
) -> ProductFacts {
    // The promotion price where the page shows one, else the price (a range when SKUs differ,
    // lowest first).
    static PRICES: LazyLock<[Selector; 2]> = LazyLock::new(|| {
        [
            selector("#J_PromoPrice:not(.tb-hidden) .tb-rmb-num, #J_PromoPrice .tm-price"),
            selector("#J_StrPrice .tb-rmb-num, #J_StrPriceModBox .tm-price"),
        ]
    });
    static ATTRIBUTES: LazyLock<Selector> =
        LazyLock::new(|| selector("#attributes li, #J_AttrUL li"));
    static SHOP: LazyLock<Selector> = LazyLock::new(|| selector(".tb-shop-name, .slogo-shopname"));
    static PROPERTIES: LazyLock<Selector> =
        LazyLock::new(|| selector("ul.J_TSaleProp[data-property]"));
    static VALUES: LazyLock<Selector> = LazyLock::new(|| selector("li[data-value]"));
    let mut f = ProductFacts {
        seller: page.first(&SHOP).map(text_of).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    let price = PRICES
        .iter()
        .flat_map(|sel| page.select(sel))
        .find_map(|el| price::parse_amount(&text_of(el)));
    read::set_price(&mut f, price, Some("CNY".to_string()));
    for li in page.select(&ATTRIBUTES) {
        let text = text_of(li);
        if let Some((name, value)) = text.split_once([':', '：']) {
            read::add_spec(&mut f.specs, name, value);
        }
    }
    read::ids_from_specs(&mut f);
    let Some(skus) = sku_map else {
        return f;
    };
    // `propertyId` → the property's name (`1627207` → `颜色分类`).
    let property_names: Vec<(String, String)> = page
        .select(&PROPERTIES)
        .filter_map(|ul| {
            let name = ul.value().attr("data-property")?.trim().to_string();
            let pid = ul
                .select(&VALUES)
                .find_map(|li| li.value().attr("data-value")?.split(':').next())?
                .to_string();
            Some((pid, name))
        })
        .collect();
    let names = value_names(page);
    let stock = |sku: &Value| {
        sku.get("stock")
            .and_then(text)
            .and_then(|s| s.parse::<u64>().ok())
    };
    let counts: Vec<u64> = skus.values().filter_map(stock).collect();
    if !counts.is_empty() {
        f.availability = Some(in_stock(counts.iter().any(|n| *n > 0)));
    }
    // In the order the page shows the values (the object's own order is not kept).
    let mut keyed: Vec<(Vec<usize>, VariantFacts)> = skus
        .iter()
        .take(super::MAX_ITEMS)
        .map(|(key, sku)| {
            let ids: Vec<&str> = key.split(';').filter(|p| !p.is_empty()).collect();
            let attributes = ids
                .iter()
                .map(|id| {
                    let pid = id.split(':').next().unwrap_or_default();
                    let property = property_names
                        .iter()
                        .find(|(p, _)| p == pid)
                        .map(|(_, n)| n.clone())
                        .unwrap_or_default();
                    (property, names.name(id).unwrap_or(id).to_string())
                })
                .collect();
            let mut v = read::variant(attributes);
            v.id = sku.get("skuId").and_then(text);
            v.sku = v.id.clone();
            v.price = sku.get("price").and_then(read::amount);
            v.availability = stock(sku).map(|n| in_stock(n > 0));
            v.pictures = ids.iter().flat_map(|id| pictures(id)).collect();
            let order = ids
                .iter()
                .map(|id| names.position(id).unwrap_or(usize::MAX))
                .collect();
            (order, v)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    read::set_variants(&mut f, keyed.into_iter().map(|(_, v)| v).collect());
    f
}

pub(super) fn in_stock(yes: bool) -> Availability {
    if yes {
        Availability::InStock
    } else {
        Availability::OutOfStock
    }
}
