//! JD (`item.jd.com/<skuId>.html`). Server HTML whose product data is `var pageConfig = {
//! product: {…} }`, a JavaScript object (unquoted keys, single-quoted strings) with JSON values
//! inside. Sources, best first:
//!
//! * **id** — the canonical `item.jd.com/<skuId>.html`, the page URL, then `product.skuid`;
//! * **title** — `product.name`, else the rendered `.sku-name`, else `<title>` without its
//!   "【行情 报价 价格 评测】-京东" tail;
//! * **gallery** — `product.imageList`: paths in JD's file system with neither host nor size
//!   (`jfs/t1/…/0083320320d894cc.jpg.avif`). They are joined to [`IMAGE_BASE`], JD's picture
//!   host and its unscaled path `/img/` — the path the page itself uses for a full-size picture
//!   (`//img11.360buyimg.com/img/jfs/…`), and the one JD's own front-end prefixes to a bare
//!   `jfs/` path before it asks for a size (`/s<W>x<H>_jfs/…`) or a format (`.avif`, `.webp`).
//!   The sized paths `/n0/`–`/n12/` are fixed renditions (`n1` 350 px, `n5` 50 px), and the
//!   `.avif` ending the page adds (`imgSuffix`) only converts, so `cdn::largest` drops it and
//!   keeps the stored `.jpg`. Without `imageList`, the rendered gallery (`#spec-list img`,
//!   `#spec-img`) in whatever size it shows, which `cdn::largest` maps the same way;
//! * **variants** — `product.colorSize` names every SKU of the product (`{"版本":"【标准版】",
//!   "skuId":100121438395,"款式":"双排冷凝器 大1.5匹 PRO"}`): the values in the page's order make
//!   the SKU's name. A swatch with a picture in the rendered colour/size chooser
//!   (`[id^=choose-attr] [data-sku] img`; the page's own script reads `#choose-attr-1 img`) is
//!   that SKU's picture, labelled with its name and with the SKU id as the variant id. The saved
//!   server page has no rendered chooser, so it has no variant pictures.
//!
//! Videos: `imageAndVideoJson.mainVideoId` names a video, but its address comes from another
//! request, so none is extracted. Description images load from `product.desc`, another request.
//!
//! **Facts**: `product.name`; the price shown as the buyer's (`#J_FinalPrice`, beside JD's own
//! price struck out) in yuan (mainland China's market, its `￥`); the page's SKU id as the SKU; the
//! breadcrumbs; and every SKU of `colorSize` by its dimensions' names — only the page's own has its
//! price on the page; stock and other prices load by other requests.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Selector;
use serde_json::Value;

use super::embedded::{Ordered, blobs_after, js_string_at, parsed_after, text};
use super::facts::{ProductFacts, price, read};
use super::page::{Page, capture, regex, selector, text_of};
use super::{Extractor, Found};

/// Where a bare `jfs/…` path of `imageList` is served in full size (see the module doc).
const IMAGE_BASE: &str = "https://img14.360buyimg.com/img/";

pub struct Jd;

impl Extractor for Jd {
    fn site(&self) -> &'static str {
        "jd"
    }

    fn domains(&self) -> &'static [&'static str] {
        &["item.jd.com"]
    }

    fn product_paths(&self) -> &'static [&'static str] {
        &["/*.html*"]
    }

    fn example(&self) -> &'static str {
        "https://item.jd.com/100121438395.html"
    }

    fn product_id_in(&self, address: &str) -> Option<String> {
        capture(&ITEM_URL, address)
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        page.has("pageConfig") && page.has("imageList")
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        static SKU_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"\bskuid\s*:\s*'?(\d{4,20})"));
        static SKU_NAME: LazyLock<Selector> = LazyLock::new(|| selector(".sku-name"));

        for id in page.address_ids(&ITEM_URL) {
            found.product_id(id);
        }
        if let Some(id) = capture(&SKU_ID, page.raw()) {
            found.page_url(format!("https://item.jd.com/{id}.html"));
            found.product_id(id);
        }
        if let Some(name) = product_name(page.raw()) {
            found.title(name);
        }
        if let Some(name) = page.first(&SKU_NAME).map(text_of) {
            found.title(name);
        }
        gallery(page, found);
        variants(page, found);
        if let Some(t) = page_title(page) {
            found.title(t);
        }
        facts(page, found);
    }
}

/// A product page's address: `item.jd.com/<skuId>.html`.
static ITEM_URL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)item\.jd\.com/(\d{4,20})\.html(?:[?#]|$)"));

/// `product.name: '…'` (a JavaScript string) in `pageConfig`.
fn product_name(raw: &str) -> Option<String> {
    static PRODUCT: LazyLock<Regex> = LazyLock::new(|| regex(r"\bproduct\s*:\s*\{"));
    static NAME: LazyLock<Regex> = LazyLock::new(|| regex(r#"\bname\s*:\s*['"]"#));
    // The name comes a few hundred bytes into `product`; look no further than that.
    const WITHIN: usize = 16 << 10;
    let start = PRODUCT.find(raw)?.end();
    let block = super::page::prefix(raw.get(start..)?, WITHIN);
    let quote = NAME.find(block)?.end() - 1;
    js_string_at(raw, start + quote).map(|(name, _)| name)
}

/// `<title>` without the shop's tail (`【行情 报价 价格 评测】-京东`).
fn page_title(page: &Page<'_>) -> Option<String> {
    static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("head title"));
    let title = text_of(page.first(&TITLE)?);
    let title = title.trim_end_matches("-京东");
    let title = title.trim_end_matches("【行情 报价 价格 评测】").trim();
    (!title.is_empty()).then(|| title.to_string())
}

fn gallery(page: &Page<'_>, found: &mut Found) {
    static IMAGE_LIST: LazyLock<Regex> = LazyLock::new(|| regex(r"\bimageList\s*:\s*"));
    static RENDERED: LazyLock<Selector> = LazyLock::new(|| selector("#spec-list img"));
    static MAIN: LazyLock<Selector> = LazyLock::new(|| selector("img#spec-img"));
    let blobs = blobs_after(page.raw(), &IMAGE_LIST);
    if let Some(list) = blobs.first_strings() {
        for path in list {
            if let Some(url) = image_url(page, &path) {
                found.product_image(url);
            }
        }
        return;
    }
    if blobs.seen {
        found.warn("JD's imageList could not be parsed; using the rendered gallery");
    }
    for img in page.select(&MAIN).chain(page.select(&RENDERED)) {
        if let Some(url) = page.img_url(img) {
            found.product_image(url);
        }
    }
}

/// A picture of `imageList` or a swatch: a bare `jfs/…` path joined to [`IMAGE_BASE`], an
/// address (`//img14.360buyimg.com/n1/jfs/…`) as it is.
fn image_url(page: &Page<'_>, path: &str) -> Option<String> {
    let path = path.trim();
    if path.starts_with("jfs/") {
        return Some(format!("{IMAGE_BASE}{path}"));
    }
    page.absolute(path)
}

/// Every SKU of `colorSize`: its id and its values named by their dimensions, in the page's
/// order (`版本`: `【标准版】`, `款式`: `双排冷凝器 大1.5匹 PRO`).
fn skus(raw: &str) -> Vec<(String, Vec<(String, String)>)> {
    static COLOR_SIZE: LazyLock<Regex> = LazyLock::new(|| regex(r"\bcolorSize\s*:\s*"));
    let skus: Vec<Ordered> = parsed_after(raw, &COLOR_SIZE).unwrap_or_default();
    skus.into_iter()
        .take(super::MAX_ITEMS)
        .filter_map(|Ordered(entries)| {
            let id = entries
                .iter()
                .find(|(k, _)| k == "skuId")
                .and_then(|(_, v)| text(v))?;
            let values: Vec<(String, String)> = entries
                .iter()
                .filter(|(k, _)| k != "skuId")
                .filter_map(|(k, v)| match v {
                    Value::String(_) | Value::Number(_) => Some((k.clone(), text(v)?)),
                    _ => None,
                })
                .collect();
            Some((id, values))
        })
        .collect()
}

/// Every SKU's name: its values in the page's order, without the id.
fn sku_names(raw: &str) -> Vec<(String, String)> {
    skus(raw)
        .into_iter()
        .map(|(id, values)| {
            let name: Vec<String> = values.into_iter().map(|(_, v)| v).collect();
            (id, name.join(" "))
        })
        .collect()
}

/// The product's facts (module doc, "facts"). JD is mainland China's market: its prices are
/// yuan, shown as `￥`.
fn facts(page: &Page<'_>, found: &mut Found) {
    // The price shown as the buyer's (`J_FinalPrice`), beside JD's own price struck out.
    static PRICE: LazyLock<Selector> = LazyLock::new(|| selector("#J_FinalPrice .price"));
    static CRUMBS: LazyLock<Selector> = LazyLock::new(|| selector("#crumb-wrap .item a"));
    let mut f = ProductFacts {
        name: product_name(page.raw()),
        categories: read::categories(page.select(&CRUMBS).map(text_of), None),
        ..Default::default()
    };
    let price = page
        .first(&PRICE)
        .and_then(|p| price::parse_amount(&text_of(p)));
    read::set_price(&mut f, price, Some("CNY".to_string()));
    // The page is one SKU's: its id is the product's (`pageConfig.product.skuid`).
    let own = found.known_product_id().map(str::to_string);
    f.sku = own.clone();
    let pictured = swatches(page);
    let variants = skus(page.raw())
        .into_iter()
        .map(|(id, values)| {
            let mut v = read::variant(values);
            // Only the SKU the page shows has its price on the page.
            if own.as_deref() == Some(id.as_str()) {
                v.price = f.price.clone();
            }
            v.pictures = pictured
                .iter()
                .filter(|(sku, _, _)| *sku == id)
                .map(|(_, url, _)| url.clone())
                .collect();
            v.sku = Some(id.clone());
            v.id = Some(id);
            v
        })
        .collect();
    read::set_variants(&mut f, variants);
    *found.facts() = f;
}

/// The rendered chooser's swatches that show a picture: each the picture of the SKU it
/// selects, with the swatch's own name for it (`data-value`, else its text).
fn swatches(page: &Page<'_>) -> Vec<(String, String, String)> {
    static SWATCHES: LazyLock<Selector> =
        LazyLock::new(|| selector("[id^=choose-attr] [data-sku]"));
    static IMG: LazyLock<Selector> = LazyLock::new(|| selector("img"));
    page.select(&SWATCHES)
        .filter_map(|swatch| {
            let sku = swatch.value().attr("data-sku")?.trim().to_string();
            let url = swatch
                .select(&IMG)
                .next()
                .and_then(|img| page.img_url(img))?;
            let name = swatch
                .value()
                .attr("data-value")
                .map(str::to_string)
                .unwrap_or_else(|| text_of(swatch));
            Some((sku, url, name))
        })
        .collect()
}

/// Each swatch's picture as its SKU's, labelled with the SKU's name.
fn variants(page: &Page<'_>, found: &mut Found) {
    let names = sku_names(page.raw());
    for (sku, url, shown) in swatches(page) {
        let label = names
            .iter()
            .find(|(id, _)| *id == sku)
            .map(|(_, name)| name.clone())
            .unwrap_or(shown);
        found.variant_image(url, &label, Some(&sku));
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::cdn;
    use crate::media::Role;

    /// A rendered chooser, authored after the saved page's own script (which reads
    /// `#choose-attr-1 img`) — no saved page shows one rendered: each swatch names its SKU, and
    /// the SKU's name comes from `colorSize` in the page's order.
    #[test]
    fn swatches_are_their_sku_s_pictures_named_by_color_size() {
        let html = r##"<html><head><title>x</title></head><body>
            <script>var pageConfig = { product: { skuid: 100000000001,
                name: '\u7a7a\u8c03 Air',
                imageList: ["jfs/t1/1/2/3/4/aaa.jpg.avif"],
                colorSize: [{"颜色":"白色","skuId":100000000001,"尺寸":"大"},
                            {"颜色":"黑色","skuId":100000000002,"尺寸":"大"}] } };</script>
            <div id="choose-attr-1"><div class="item" data-sku="100000000002" data-value="黑色">
              <a href="#"><img src="//img14.360buyimg.com/n9/s40x40_jfs/t1/9/9/9/9/bbb.jpg.avif"></a>
            </div><div class="item" data-sku="100000000003" data-value="红色">
              <a href="#"><img src="//img13.360buyimg.com/n9/s40x40_jfs/t1/8/8/8/8/ccc.png"></a>
            </div></div></body></html>"##;
        let e = crate::extract::extract(html, None);
        assert_eq!(e.site, "jd");
        assert_eq!(e.product_id.as_deref(), Some("100000000001"));
        assert_eq!(e.title.as_deref(), Some("空调 Air"));
        assert_eq!(
            e.by_file(),
            vec![
                (Role::Main, "aaa.jpg", None, None),
                (
                    Role::Variant,
                    "bbb.jpg",
                    Some("黑色 大"),
                    Some("100000000002")
                ),
                (Role::Variant, "ccc.png", Some("红色"), Some("100000000003")),
            ]
        );
        // On JD's picture hosts, at the unscaled path, without size, format or quality.
        let urls: Vec<&str> = e.media.iter().map(|m| m.url.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "https://img14.360buyimg.com/img/jfs/t1/1/2/3/4/aaa.jpg",
                "https://img14.360buyimg.com/img/jfs/t1/9/9/9/9/bbb.jpg",
                "https://img13.360buyimg.com/img/jfs/t1/8/8/8/8/ccc.png",
            ]
        );
        assert_eq!(cdn::asset_id(&e.media[1].url), "jd:jfs/t1/9/9/9/9/bbb.jpg");
    }

    #[test]
    fn the_rendered_gallery_when_the_data_is_missing() {
        let html = r#"<html><body><img id="spec-img" src="//img14.360buyimg.com/n1/jfs/t1/1/a.jpg.avif">
            <div id="spec-list"><ul><li><img src="//img14.360buyimg.com/n5/jfs/t1/1/a.jpg"></li>
            <li><img src="//img12.360buyimg.com/n5/s54x54_jfs/t1/2/b.jpg.webp"></li></ul></div></body></html>"#;
        let e = crate::extract::extract(html, Some("https://item.jd.com/100121438395.html"));
        let urls: Vec<&str> = e.media.iter().map(|m| m.url.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "https://img14.360buyimg.com/img/jfs/t1/1/a.jpg",
                "https://img12.360buyimg.com/img/jfs/t1/2/b.jpg"
            ]
        );
        assert_eq!(e.product_id.as_deref(), Some("100121438395"));
    }
}
