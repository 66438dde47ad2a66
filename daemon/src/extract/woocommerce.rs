//! WooCommerce stores: every WordPress shop that sells with WooCommerce, on whatever domain,
//! recognised by its page (a platform, see [`super::PLATFORMS`]) rather than by an address list.
//!
//! What a product page holds is what WooCommerce's own templates print (the plugin's
//! `templates/` and `includes/`; `woocommerce-hoodie.authored.html` beside this file is a page
//! written from them, and its header says which files and versions). Sources, best first:
//!
//! * **gallery** — `div.woocommerce-product-gallery` (`single-product/product-image.php`, then
//!   `product-thumbnails.php`): one `div.woocommerce-product-gallery__image` per picture, the
//!   product's image first, each `<img>` carrying `data-large_image`, the upload at full size
//!   (`wc_get_gallery_image_html`); else the link around it, else the `<img>`'s own best
//!   source. A theme's extra navigation strip repeats the same pictures (one item each);
//! * **variants** — the variations form's `data-product_variations`
//!   (`single-product/add-to-cart/variable.php`): each variation as
//!   `WC_Product_Variable::get_available_variation` gives it, its picture in `image.full_src`
//!   (`wc_get_product_attachment_props`), its values in `attributes`
//!   (`{"attribute_pa_color": "blue", "attribute_logo": ""}`: a global attribute's term slug,
//!   which the form's `<select name="attribute_pa_color">` shows as "Blue"; `""` for any
//!   value). A variation's picture the gallery does not show is a `variant` item labelled with
//!   those values as the form shows them, in the form's order, and with the variation's id
//!   (pictures several variations share: [`super::variant_pictures`]). A product with more
//!   variations than the store's threshold (30 by default) prints `false` there and loads them
//!   on demand, so its page has none;
//! * **id** — the variations form's `data-product_id`, the add-to-cart button's value, the
//!   product wrapper's `id="product-<id>"` (`content-single-product.php`);
//! * **title** — `h1.product_title` (`single-product/title.php`), the JSON-LD `Product`'s name,
//!   `og:title`.
//!
//! Uploads are saved as WordPress stores them: the full-size file is the largest there is, and
//! its smaller copies (`-600x600.jpg`) are not asked for.
//!
//! **Facts** (as the templates print them): `h1.product_title`; `.summary .price` — the sale price
//! in `<ins>`, never the `<del>` one — in the currency its symbol and the page's country name; the
//! stock class `wc_product_class()` puts on the product's wrapper; `.product_meta`'s SKU and
//! categories; the description tab (else the short description); the attributes table; the rating;
//! and every variation with its form labels and values, `display_price`, SKU, stock and picture.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Selector};
use serde_json::Value;

use super::embedded::text;
use super::facts::{Availability, ProductFacts, read};
use super::page::{Page, capture, regex, selector, text_of};
use super::variant_pictures::VariantPictures;
use super::{Extractor, Found};

pub struct WooCommerce;

impl Extractor for WooCommerce {
    fn site(&self) -> &'static str {
        "woocommerce"
    }

    fn recognizes(&self, page: &Page<'_>) -> bool {
        page.has("woocommerce-product-gallery") && page.has("data-large_image")
    }

    fn extract(&self, page: &Page<'_>, found: &mut Found) {
        id(page, found);
        title(page, found);
        gallery(page, found);
        let list = variation_list(page, found);
        let form = Form::read(page);
        variations(page, &list, &form, found);
        facts(page, &list, &form, found);
    }
}

fn id(page: &Page<'_>, found: &mut Found) {
    static FORM: LazyLock<Selector> =
        LazyLock::new(|| selector("form.variations_form[data-product_id]"));
    static ADD_TO_CART: LazyLock<Selector> =
        LazyLock::new(|| selector("[name=add-to-cart][value]"));
    static WRAPPER: LazyLock<Regex> = LazyLock::new(|| regex(r#"\bid="product-(\d{1,20})""#));
    let ids = [
        page.attr(&FORM, "data-product_id"),
        page.attr(&ADD_TO_CART, "value"),
        capture(&WRAPPER, page.raw()),
    ];
    for id in ids.into_iter().flatten() {
        if id.bytes().all(|b| b.is_ascii_digit()) {
            found.product_id(id);
        }
    }
}

fn title(page: &Page<'_>, found: &mut Found) {
    static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("h1.product_title"));
    if let Some(h1) = page.first(&TITLE) {
        found.title(text_of(h1));
    }
    for p in page.json_ld() {
        if p.get("@type").and_then(Value::as_str) == Some("Product")
            && let Some(name) = p.get("name").and_then(text)
        {
            found.title(name);
        }
    }
    if let Some(t) = page.meta("og:title") {
        found.title(t);
    }
}

fn gallery(page: &Page<'_>, found: &mut Found) {
    static PICTURES: LazyLock<Selector> = LazyLock::new(|| {
        selector(".woocommerce-product-gallery .woocommerce-product-gallery__image")
    });
    static IMG: LazyLock<Selector> = LazyLock::new(|| selector("img"));
    static LINK: LazyLock<Selector> = LazyLock::new(|| selector("a[href]"));
    for picture in page.select(&PICTURES) {
        let img = picture.select(&IMG).next();
        let large = img
            .and_then(|i| i.value().attr("data-large_image"))
            .and_then(|u| page.absolute(u));
        let link = || {
            picture
                .select(&LINK)
                .next()
                .and_then(|a| a.value().attr("href"))
                .and_then(|u| page.absolute(u))
                .filter(|u| looks_like_a_picture(u))
        };
        let url = large
            .or_else(link)
            .or_else(|| img.and_then(|i| page.img_url(i)));
        if let Some(url) = url {
            found.product_image(url);
        }
    }
}

/// A link to a picture file, not to a page (themes link the gallery to attachment pages too).
fn looks_like_a_picture(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// The variations form's `data-product_variations`: none when the form is absent or leaves
/// them to be loaded on demand.
fn variation_list(page: &Page<'_>, found: &mut Found) -> Vec<Value> {
    static FORM: LazyLock<Selector> =
        LazyLock::new(|| selector("form.variations_form[data-product_variations]"));
    let Some(raw) = page.attr(&FORM, "data-product_variations") else {
        return Vec::new();
    };
    match serde_json::from_str::<Value>(&raw) {
        Ok(Value::Array(list)) => list,
        // `false`: more variations than the store prints; they load when a shopper chooses.
        Ok(Value::Bool(false)) => Vec::new(),
        _ => {
            found.warn("the variations form's data-product_variations could not be read");
            Vec::new()
        }
    }
}

/// A variation's picture at full size.
fn picture(page: &Page<'_>, variation: &Value) -> Option<String> {
    let image = variation.get("image");
    ["full_src", "url", "src"]
        .iter()
        .find_map(|k| image.and_then(|i| i.get(*k)).and_then(text))
        .and_then(|u| page.absolute(&u))
}

fn variations(page: &Page<'_>, list: &[Value], form: &Form, found: &mut Found) {
    let mut pictures = VariantPictures::default();
    for v in list {
        let Some(url) = picture(page, v) else {
            continue;
        };
        let id = v.get("variation_id").and_then(text);
        pictures.add(&url, form.values(v.get("attributes")), id);
    }
    pictures.add_to(found);
}

/// The product's facts as WooCommerce's templates print them (module doc, "facts").
fn facts(page: &Page<'_>, variations: &[Value], form: &Form, found: &mut Found) {
    static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("h1.product_title"));
    static PRICE: LazyLock<Selector> = LazyLock::new(|| selector(".summary .price"));
    static SALE: LazyLock<Selector> = LazyLock::new(|| selector("ins .woocommerce-Price-amount"));
    static AMOUNT: LazyLock<Selector> = LazyLock::new(|| selector(".woocommerce-Price-amount"));
    static SKU: LazyLock<Selector> = LazyLock::new(|| selector(".product_meta .sku"));
    static CATEGORIES: LazyLock<Selector> =
        LazyLock::new(|| selector(".product_meta .posted_in a"));
    // The description tab, else the short description beside the price.
    static DESCRIPTION: LazyLock<[Selector; 2]> = LazyLock::new(|| {
        [
            selector("#tab-description"),
            selector(".woocommerce-product-details__short-description"),
        ]
    });
    static HEADING: LazyLock<Selector> = LazyLock::new(|| selector("h2"));
    static ATTRIBUTES: LazyLock<Selector> =
        LazyLock::new(|| selector(".woocommerce-product-attributes tr"));
    static LABEL: LazyLock<Selector> = LazyLock::new(|| selector("th"));
    static VALUE: LazyLock<Selector> = LazyLock::new(|| selector("td"));
    static RATING: LazyLock<Selector> =
        LazyLock::new(|| selector(".woocommerce-product-rating .rating"));
    static REVIEWS: LazyLock<Selector> =
        LazyLock::new(|| selector(".woocommerce-product-rating .count"));
    static WRAPPER: LazyLock<Selector> = LazyLock::new(|| selector("div[id^=product-].product"));

    let country = super::facts::country_of(page);
    let mut f = ProductFacts {
        name: page.first(&TITLE).map(text_of).filter(|t| !t.is_empty()),
        sku: page.first(&SKU).map(text_of).filter(|t| !t.is_empty()),
        categories: read::categories(page.select(&CATEGORIES).map(text_of), None),
        rating: page
            .first(&RATING)
            .and_then(|r| read::rating_in(&text_of(r))),
        review_count: page
            .first(&REVIEWS)
            .and_then(|r| read::count_in(&text_of(r))),
        ..Default::default()
    };
    // `price.php`: a sale shows the regular price in `<del>` and the sale price in `<ins>`; a
    // variable product shows its range, lowest first.
    if let Some(price) = page.first(&PRICE) {
        let amount = price
            .select(&SALE)
            .next()
            .or_else(|| price.select(&AMOUNT).find(|a| !in_del(*a)));
        if let Some(amount) = amount {
            let (price, currency) = read::money(&text_of(amount), country.as_deref());
            read::set_price(&mut f, price, currency);
        }
    }
    // `wc_product_class()` marks the product's wrapper with its stock status.
    f.availability = page.first(&WRAPPER).and_then(|w| {
        let classes: Vec<&str> = w.value().classes().collect();
        [
            ("instock", Availability::InStock),
            ("outofstock", Availability::OutOfStock),
            ("onbackorder", Availability::BackOrder),
        ]
        .into_iter()
        .find(|(c, _)| classes.contains(c))
        .map(|(_, a)| a)
    });
    // The description tab opens with its own heading ("Description").
    f.description = DESCRIPTION
        .iter()
        .flat_map(|sel| page.select(sel))
        .find_map(|d| {
            let text = read::element_text(d)?;
            let heading = d.select(&HEADING).next().map(text_of);
            match text.split_once('\n') {
                Some((first, rest)) if heading.as_deref() == Some(first) => Some(rest.to_string()),
                _ if heading.as_deref() == Some(text.as_str()) => None,
                _ => Some(text),
            }
        });
    read::add_row_specs(&mut f.specs, page.select(&ATTRIBUTES), &LABEL, &VALUE);
    read::ids_from_specs(&mut f);
    let all = variations
        .iter()
        .take(super::MAX_ITEMS)
        .map(|v| {
            let mut facts = read::variant(form.named_values(v.get("attributes")));
            facts.id = v.get("variation_id").and_then(text);
            facts.sku = v.get("sku").and_then(text);
            facts.price = v.get("display_price").and_then(read::amount);
            facts.availability = v.get("is_in_stock").and_then(Value::as_bool).map(|s| {
                if s {
                    Availability::InStock
                } else {
                    Availability::OutOfStock
                }
            });
            facts.pictures = picture(page, v).into_iter().collect();
            facts
        })
        .collect();
    read::set_variants(&mut f, all);
    *found.facts() = f;
}

/// Whether a price sits in a `<del>`: the regular price a sale strikes out.
fn in_del(el: ElementRef<'_>) -> bool {
    el.ancestors()
        .filter_map(ElementRef::wrap)
        .any(|a| a.value().name() == "del")
}

/// The variations form's attributes: their order, their labels and how it shows their values.
struct Form {
    /// `attribute_pa_color`, … in the form's order.
    order: Vec<String>,
    /// attribute → the text of its `<label>` ("attribute_pa_color" → "Color").
    labels: HashMap<String, String>,
    /// (attribute, value) → the text of its `<option>` ("blue" → "Blue").
    shown: HashMap<(String, String), String>,
}

impl Form {
    fn read(page: &Page<'_>) -> Form {
        static SELECTS: LazyLock<Selector> =
            LazyLock::new(|| selector("form.variations_form select[name^=attribute_]"));
        static OPTIONS: LazyLock<Selector> = LazyLock::new(|| selector("option[value]"));
        static LABELS: LazyLock<Selector> =
            LazyLock::new(|| selector("form.variations_form label[for]"));
        let label_of: HashMap<String, String> = page
            .select(&LABELS)
            .filter_map(|l| Some((l.value().attr("for")?.to_string(), text_of(l))))
            .collect();
        let mut order = Vec::new();
        let mut labels = HashMap::new();
        let mut shown = HashMap::new();
        for select in page.select(&SELECTS) {
            let Some(name) = select.value().attr("name") else {
                continue;
            };
            order.push(name.to_string());
            if let Some(label) = select.value().id().and_then(|id| label_of.get(id)) {
                labels.insert(name.to_string(), label.clone());
            }
            for option in select.select(&OPTIONS) {
                let value = option.value().attr("value").unwrap_or_default();
                let text = text_of(option);
                if !value.is_empty() && !text.is_empty() {
                    shown.insert((name.to_string(), value.to_string()), text);
                }
            }
        }
        Form {
            order,
            labels,
            shown,
        }
    }

    /// A variation's attributes as the form shows them — its label and the value's text
    /// (`Color`, `Blue`) — in the form's order (attributes the form does not list after them);
    /// "any value" (`""`) is no value.
    fn named_values(&self, attributes: Option<&Value>) -> Vec<(String, String)> {
        let Some(map) = attributes.and_then(Value::as_object) else {
            return Vec::new();
        };
        let rank = |name: &str| {
            self.order
                .iter()
                .position(|o| o == name)
                .unwrap_or(self.order.len())
        };
        let mut named: Vec<(&String, String)> = map
            .iter()
            .filter_map(|(name, value)| Some((name, text(value)?)))
            .collect();
        named.sort_by_key(|(name, _)| rank(name));
        named
            .into_iter()
            .map(|(name, value)| {
                let label = self.labels.get(name).cloned().unwrap_or_else(|| {
                    name.trim_start_matches("attribute_")
                        .trim_start_matches("pa_")
                        .to_string()
                });
                let shown = self
                    .shown
                    .get(&(name.clone(), value.clone()))
                    .cloned()
                    .unwrap_or(value);
                (label, shown)
            })
            .collect()
    }

    /// [`Form::named_values`]' values alone.
    fn values(&self, attributes: Option<&Value>) -> Vec<String> {
        self.named_values(attributes)
            .into_iter()
            .map(|(_, value)| value)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract;
    use crate::media::Role;

    /// The authored page of this extractor's table, read where the crate keeps it.
    const HOODIE: &str = include_str!("woocommerce-hoodie.authored.html");

    #[test]
    fn the_authored_page_gives_gallery_and_the_variations_own_pictures() {
        let e = extract(HOODIE, None);
        assert_eq!(e.site, "woocommerce");
        assert_eq!(e.product_id.as_deref(), Some("42"));
        assert_eq!(e.title.as_deref(), Some("Hoodie"));
        assert_eq!(
            e.by_file(),
            vec![
                (Role::Main, "hoodie-2.jpg", None, None),
                (Role::Gallery, "hoodie-back.jpg", None, None),
                (Role::Variant, "hoodie-green-1.jpg", Some("Green"), None),
                (
                    Role::Variant,
                    "hoodie-blue-1.jpg",
                    Some("Blue / No"),
                    Some("46")
                ),
                (
                    Role::Variant,
                    "hoodie-with-logo-2.jpg",
                    Some("Blue / Yes"),
                    Some("47")
                ),
            ]
        );
        assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    }

    #[test]
    fn variations_loaded_on_demand_and_unreadable_ones() {
        let gallery = r#"<div class="woocommerce-product-gallery"><div class="woocommerce-product-gallery__image"><a href="https://w.example/wp-content/uploads/a.jpg"><img src="https://w.example/wp-content/uploads/a-600x600.jpg" data-large_image="https://w.example/wp-content/uploads/a.jpg"></a></div></div><h1 class="product_title">A</h1>"#;
        let lazy = format!(
            r#"{gallery}<form class="variations_form cart" data-product_id="7" data-product_variations="false"></form>"#
        );
        let e = extract(&lazy, Some("https://w.example/product/a/"));
        assert_eq!(e.site, "woocommerce");
        assert_eq!(e.product_id.as_deref(), Some("7"));
        assert_eq!(e.media.len(), 1);
        assert!(e.warnings.is_empty(), "{:?}", e.warnings);
        let broken = format!(
            r#"{gallery}<form class="variations_form cart" data-product_variations="[{{&quot;image"></form>"#
        );
        let e = extract(&broken, Some("https://w.example/product/a/"));
        assert_eq!(e.media.len(), 1);
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("data-product_variations")),
            "{:?}",
            e.warnings
        );
    }

    #[test]
    fn a_page_is_woocommerce_s_with_the_gallery_and_its_large_images() {
        let mut w = Vec::new();
        for (html, yes) in [
            (
                r#"<div class="woocommerce-product-gallery"><img data-large_image="x.jpg"></div>"#,
                true,
            ),
            (r#"<div class="woocommerce-product-gallery"></div>"#, false),
            (r#"<p>Powered by WooCommerce</p>"#, false),
        ] {
            assert_eq!(
                WooCommerce.recognizes(&Page::parse(html, None, &mut w)),
                yes,
                "{html}"
            );
        }
    }

    /// A sale prints the regular price struck out (`<del>`) and the sale price (`<ins>`): the
    /// buyer pays the sale price.
    #[test]
    fn the_sale_price_not_the_struck_out_one() {
        let html = r#"<html lang="en-GB"><body><div id="product-9" class="product type-product outofstock">
            <div class="woocommerce-product-gallery"><div class="woocommerce-product-gallery__image"><img src="https://w.example/wp-content/uploads/a.jpg" data-large_image="https://w.example/wp-content/uploads/a.jpg"></div></div>
            <div class="summary"><h1 class="product_title">Scarf</h1>
            <p class="price"><del><span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">&pound;</span>20.00</bdi></span></del>
            <ins><span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">&pound;</span>15.00</bdi></span></ins></p>
            <div class="product_meta"><span class="sku_wrapper">SKU: <span class="sku">SC-1</span></span></div></div></div></body></html>"#;
        let f = extract(html, Some("https://w.example/product/scarf/")).product;
        assert_eq!(
            (f.price.as_deref(), f.currency.as_deref()),
            (Some("15.00"), Some("GBP"))
        );
        assert_eq!(f.sku.as_deref(), Some("SC-1"));
        assert_eq!(f.availability, Some(Availability::OutOfStock));
    }
}
