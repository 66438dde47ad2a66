//! The facts a page states as data about its own product: its JSON-LD `Product` (offers,
//! brand, identifiers, rating, variants of a `ProductGroup`), the microdata of its product item,
//! and OpenGraph / product meta tags (`product:price:amount`, `og:availability`, …).
//!
//! Values written for machines (JSON numbers, `content` attributes) have a decimal point;
//! values written for people (an element's text) are read as shops write prices
//! ([`price::parse_amount`]).

use std::sync::LazyLock;

use scraper::{ElementRef, Selector};
use serde_json::Value;

use super::super::embedded::text;
use super::super::page::{Page, selector};
use super::{Availability, ProductFacts, Spec, VariantFacts, clean, country_of, price};

/// Everything the page's structured data says about its product.
pub(super) fn facts(page: &Page<'_>) -> ProductFacts {
    let country = country_of(page);
    let country = country.as_deref();
    let mut facts = ProductFacts::default();
    if let Some(product) = page.json_ld_product() {
        facts.fill(from_json_ld(&product, country));
    }
    if facts.categories.is_empty() {
        facts.categories = breadcrumbs(page, facts.name.as_deref());
    }
    facts.fill(from_microdata(page, country));
    facts.fill(from_meta(page, country));
    facts
}

/// A JSON value as text: strings as they are, numbers as written.
fn value_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        other => text(other),
    }
}

/// A name: a string, or an object's `name` (a `Brand`, an `Organization`).
fn named(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Object(o) => value_text(o.get("name")),
        Value::Array(list) => list.iter().find_map(|v| named(Some(v))),
        other => value_text(Some(other)),
    }
    .and_then(|n| clean(&n))
}

fn from_json_ld(product: &Value, country: Option<&str>) -> ProductFacts {
    let get = |k: &str| value_text(product.get(k)).and_then(|v| clean(&v));
    let mut facts = ProductFacts {
        name: get("name"),
        brand: named(product.get("brand")).or_else(|| named(product.get("manufacturer"))),
        sku: get("sku").or_else(|| get("productID")),
        gtin: ["gtin13", "gtin12", "gtin14", "gtin8", "gtin", "isbn"]
            .iter()
            .find_map(|k| get(k)),
        mpn: get("mpn"),
        description: get("description"),
        categories: match product.get("category") {
            Some(Value::Array(list)) => list.iter().filter_map(|v| value_text(Some(v))).collect(),
            Some(v) => value_text(Some(v))
                .map(|c| {
                    c.split(['>', '/', '|'])
                        .filter_map(clean)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
            None => Vec::new(),
        },
        ..Default::default()
    };
    if let Some(rating) = product.get("aggregateRating") {
        facts.rating = value_text(rating.get("ratingValue"));
        facts.review_count = value_text(rating.get("reviewCount"))
            .or_else(|| value_text(rating.get("ratingCount")))
            .and_then(|n| n.trim().parse().ok());
    }
    let offer = offer_of(product.get("offers"));
    if let Some(o) = &offer {
        facts.price = o.price.clone();
        facts.currency = o
            .currency
            .as_deref()
            .and_then(|c| price::currency_code(c, country));
        facts.availability = o.availability;
        facts.seller = o.seller.clone();
    }
    if let Some(Value::Array(variants)) = product.get("hasVariant") {
        facts.variants = variants
            .iter()
            .take(super::super::MAX_ITEMS)
            .map(|v| variant_of(v, product))
            .collect();
    }
    facts
}

/// The page's JSON-LD breadcrumbs, broadest first, without the home page and the product itself.
fn breadcrumbs(page: &Page<'_>, product: Option<&str>) -> Vec<String> {
    let Some(list) = page
        .json_ld()
        .into_iter()
        .find(|v| value_text(v.get("@type")).is_some_and(|t| t.ends_with("BreadcrumbList")))
    else {
        return Vec::new();
    };
    let mut items: Vec<(i64, String)> = match list.get("itemListElement") {
        Some(Value::Array(items)) => items
            .iter()
            .take(32)
            .enumerate()
            .filter_map(|(i, item)| {
                let position = item
                    .get("position")
                    .and_then(Value::as_i64)
                    .unwrap_or(i as i64);
                let name = named(item.get("item"))
                    .or_else(|| value_text(item.get("name")).and_then(|n| clean(&n)))?;
                Some((position, name))
            })
            .collect(),
        _ => Vec::new(),
    };
    items.sort_by_key(|(p, _)| *p);
    let product = product.map(str::to_lowercase);
    items
        .into_iter()
        .map(|(_, n)| n)
        .filter(|n| {
            let lower = n.to_lowercase();
            !matches!(
                lower.as_str(),
                "home" | "start" | "startseite" | "accueil" | "inicio"
            ) && product.as_deref() != Some(lower.as_str())
        })
        .collect()
}

/// What one offer says.
#[derive(Debug, Default)]
struct Offer {
    price: Option<String>,
    currency: Option<String>,
    availability: Option<Availability>,
    seller: Option<String>,
}

/// The product's offer among `offers` (one per size or seller, often): the price of the first
/// offer one can buy (else of the first with a price); in stock when any offer is.
fn offer_of(offers: Option<&Value>) -> Option<Offer> {
    // An `AggregateOffer` may list its offers: those are the ones to read.
    let mut list: Vec<&Value> = Vec::new();
    let mut stack: Vec<&Value> = vec![offers?];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items.iter().rev()),
            one => {
                list.push(one);
                if let Some(inner) = one.get("offers") {
                    stack.push(inner);
                }
            }
        }
        if list.len() > 256 {
            break;
        }
    }
    let read = |o: &Value| -> Offer {
        let spec = o.get("priceSpecification").and_then(|s| match s {
            Value::Array(list) => list.first(),
            one => Some(one),
        });
        let price = value_text(o.get("price"))
            .or_else(|| spec.and_then(|s| value_text(s.get("price"))))
            .or_else(|| value_text(o.get("lowPrice")))
            .and_then(|p| price::machine_amount(&p));
        let currency = value_text(o.get("priceCurrency"))
            .or_else(|| spec.and_then(|s| value_text(s.get("priceCurrency"))));
        Offer {
            price,
            currency,
            availability: value_text(o.get("availability")).and_then(|a| Availability::parse(&a)),
            seller: named(o.get("seller")),
        }
    };
    let offers: Vec<Offer> = list.into_iter().take(256).map(read).collect();
    let buyable = |o: &Offer| {
        matches!(
            o.availability,
            None | Some(Availability::InStock | Availability::LimitedAvailability)
        )
    };
    let any_in_stock = offers
        .iter()
        .any(|o| o.availability == Some(Availability::InStock));
    let chosen = offers
        .iter()
        .position(|o| o.price.is_some() && buyable(o))
        .or_else(|| offers.iter().position(|o| o.price.is_some()))
        .unwrap_or(0);
    let mut offer = offers.into_iter().nth(chosen)?;
    if any_in_stock {
        offer.availability = Some(Availability::InStock);
    }
    Some(offer)
}

/// A `ProductGroup`'s variant: its SKU, what it varies by, its offer.
fn variant_of(variant: &Value, group: &Value) -> VariantFacts {
    let varies_by: Vec<String> = match group.get("variesBy") {
        Some(Value::Array(v)) => v.iter().filter_map(|v| value_text(Some(v))).collect(),
        Some(v) => value_text(Some(v)).into_iter().collect(),
        None => vec!["color".into(), "size".into()],
    };
    let attributes: Vec<Spec> = varies_by
        .iter()
        .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
        .filter_map(|p| {
            let value = value_text(variant.get(p.as_str())).and_then(|v| clean(&v))?;
            Some(Spec { name: p, value })
        })
        .collect();
    let offer = offer_of(variant.get("offers")).unwrap_or_default();
    let sku = value_text(variant.get("sku"));
    VariantFacts {
        id: sku.clone(),
        label: value_text(variant.get("name")).and_then(|n| clean(&n)),
        attributes,
        price: offer.price,
        sku,
        availability: offer.availability,
        pictures: super::super::etsy::image_urls(variant.get("image")),
    }
}

/// The page's microdata product item: the one holding the page's title, else the first that
/// is not inside a link (a product tile).
fn product_item<'p>(page: &'p Page<'_>) -> Option<ElementRef<'p>> {
    static ITEMS: LazyLock<Selector> =
        LazyLock::new(|| selector("[itemscope][itemtype*=Product i]"));
    static H1: LazyLock<Selector> = LazyLock::new(|| selector("h1"));
    let items: Vec<ElementRef<'p>> = page
        .select(&ITEMS)
        .filter(|e| {
            e.value()
                .attr("itemtype")
                .is_some_and(|t| t.trim_end_matches('/').rsplit('/').next() == Some("Product"))
        })
        .filter(|e| {
            !e.ancestors()
                .filter_map(ElementRef::wrap)
                .any(|a| a.value().name() == "a")
        })
        .collect();
    items
        .iter()
        .copied()
        .find(|i| i.select(&H1).next().is_some())
        .or_else(|| items.first().copied())
}

/// The `itemprop` elements that belong to `item` itself (not to an item nested in it), by
/// their names in lower case (shops write `pricecurrency` as often as `priceCurrency`).
fn props<'p>(item: ElementRef<'p>) -> Vec<(String, ElementRef<'p>)> {
    static PROPS: LazyLock<Selector> = LazyLock::new(|| selector("[itemprop]"));
    item.select(&PROPS)
        .take(2_000)
        .filter(|el| {
            el.ancestors()
                .filter_map(ElementRef::wrap)
                .find(|a| a.value().attr("itemscope").is_some())
                .is_some_and(|owner| owner.id() == item.id())
        })
        .flat_map(|el| {
            el.value()
                .attr("itemprop")
                .unwrap_or_default()
                .split_whitespace()
                .map(move |name| (name.to_ascii_lowercase(), el))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A property's value: its `content`, `href`, `src`, `value` or `datetime` attribute, else its
/// text; and whether it was written for machines (an attribute).
fn prop_value(el: ElementRef<'_>) -> Option<(String, bool)> {
    let v = el.value();
    ["content", "href", "src", "value", "datetime"]
        .iter()
        .find_map(|a| v.attr(a))
        .map(|a| (a.trim().to_string(), true))
        .or_else(|| clean(&el.text().collect::<String>()).map(|t| (t, false)))
}

fn from_microdata(page: &Page<'_>, country: Option<&str>) -> ProductFacts {
    let Some(item) = product_item(page) else {
        return ProductFacts::default();
    };
    let mut facts = ProductFacts::default();
    let mut offers: Vec<ElementRef<'_>> = Vec::new();
    let mut rating: Option<ElementRef<'_>> = None;
    for (name, el) in props(item) {
        let nested = el.value().attr("itemscope").is_some();
        let value = || prop_value(el).map(|(v, _)| v).and_then(|v| clean(&v));
        match name.as_str() {
            "offers" if nested => offers.push(el),
            "aggregaterating" if nested => rating = Some(el),
            "brand" | "manufacturer" if facts.brand.is_none() => {
                facts.brand = if nested {
                    props(el)
                        .into_iter()
                        .find(|(n, _)| n == "name")
                        .and_then(|(_, e)| prop_value(e))
                        .and_then(|(v, _)| clean(&v))
                } else {
                    value()
                };
            }
            "name" if facts.name.is_none() => facts.name = value(),
            "sku" | "productid" if facts.sku.is_none() => facts.sku = value(),
            "gtin13" | "gtin12" | "gtin14" | "gtin8" | "gtin" if facts.gtin.is_none() => {
                facts.gtin = value()
            }
            "mpn" if facts.mpn.is_none() => facts.mpn = value(),
            "description" if facts.description.is_none() => facts.description = value(),
            "category" if facts.categories.is_empty() => {
                facts.categories = value().into_iter().collect()
            }
            // Offer properties written directly on the product item.
            "price" | "lowprice" | "pricecurrency" | "availability" => offers.push(item),
            _ => {}
        }
    }
    offers.dedup_by_key(|e| e.id());
    let read: Vec<(Offer, bool)> = offers
        .into_iter()
        .map(|offer| {
            let own = if offer.id() == item.id() {
                props(item)
            } else {
                props(offer)
            };
            (microdata_offer(own, country), shows_text(offer))
        })
        .collect();
    // Of several offers, the one the page shows people (its price written out, not only in
    // `<meta>` tags a shop may leave stale) is the price a buyer pays.
    let chosen = read
        .iter()
        .position(|(o, shown)| o.price.is_some() && *shown)
        .or_else(|| read.iter().position(|(o, _)| o.price.is_some()));
    if let Some((offer, _)) = chosen.and_then(|i| read.get(i)) {
        facts.price = offer.price.clone();
        facts.currency = offer.currency.clone();
    }
    facts.availability = read.iter().find_map(|(o, _)| o.availability);
    if let Some(rating) = rating {
        for (name, el) in props(rating) {
            let value = prop_value(el).map(|(v, _)| v);
            match name.as_str() {
                "ratingvalue" => facts.rating = facts.rating.take().or(value),
                "reviewcount" | "ratingcount" if facts.review_count.is_none() => {
                    facts.review_count = value.and_then(|v| v.trim().parse().ok())
                }
                _ => {}
            }
        }
    }
    facts
}

/// One microdata offer from its own properties.
fn microdata_offer(own: Vec<(String, ElementRef<'_>)>, country: Option<&str>) -> Offer {
    let mut offer = Offer::default();
    for (name, el) in own {
        let Some((value, machine)) = prop_value(el) else {
            continue;
        };
        match name.as_str() {
            "price" | "lowprice" if offer.price.is_none() => {
                offer.price = if machine {
                    price::machine_amount(&value)
                } else {
                    price::parse_amount(&value)
                };
                if !machine {
                    offer.currency = offer
                        .currency
                        .take()
                        .or_else(|| price::currency_in(&value, country));
                }
            }
            "pricecurrency" => offer.currency = price::currency_code(&value, country),
            "availability" if offer.availability.is_none() => {
                offer.availability = Availability::parse(&value)
            }
            _ => {}
        }
    }
    offer
}

/// Whether an element has text for people (not only `<meta>` and `<link>` tags).
fn shows_text(el: ElementRef<'_>) -> bool {
    el.text().any(|t| t.chars().any(char::is_alphanumeric))
}

fn from_meta(page: &Page<'_>, country: Option<&str>) -> ProductFacts {
    let first = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| page.meta(k))
            .and_then(|v| clean(&v))
    };
    let price = first(&[
        "product:price:amount",
        "og:price:amount",
        "product:sale_price:amount",
    ])
    .and_then(|p| price::machine_amount(&p));
    let currency = price.as_ref().and_then(|_| {
        first(&[
            "product:price:currency",
            "og:price:currency",
            "product:sale_price:currency",
        ])
        .and_then(|c| price::currency_code(&c, country))
    });
    ProductFacts {
        price,
        currency,
        availability: first(&["product:availability", "og:availability"])
            .and_then(|a| Availability::parse(&a)),
        brand: first(&["product:brand", "og:brand"]),
        sku: first(&["product:retailer_item_id", "product:sku"]),
        gtin: first(&["product:gtin", "product:ean", "product:upc", "product:isbn"]),
        mpn: first(&["product:mfr_part_no"]),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(html: &str) -> ProductFacts {
        let mut w = Vec::new();
        facts(&Page::parse(html, Some("https://shop.example/p/1"), &mut w))
    }

    #[test]
    fn json_ld_offers_brand_ids_and_rating() {
        let f = of(
            r#"<script type="application/ld+json">{"@context":"https://schema.org",
            "@type":"Product","name":"Brass Lamp","brand":{"@type":"Brand","name":"Acme"},
            "sku":"L-1","gtin13":"4006381333931","mpn":"BL1","category":"Home > Lighting",
            "aggregateRating":{"ratingValue":4.6,"reviewCount":"128"},
            "offers":[{"@type":"Offer","priceCurrency":"eur","price":1299.5,
              "availability":"https://schema.org/InStock","seller":{"name":"Acme Store"}}]}</script>"#,
        );
        assert_eq!(f.name.as_deref(), Some("Brass Lamp"));
        assert_eq!(f.brand.as_deref(), Some("Acme"));
        assert_eq!(f.price.as_deref(), Some("1299.50"));
        assert_eq!(f.currency.as_deref(), Some("EUR"));
        assert_eq!(f.availability, Some(Availability::InStock));
        assert_eq!(f.sku.as_deref(), Some("L-1"));
        assert_eq!(f.gtin.as_deref(), Some("4006381333931"));
        assert_eq!(f.categories, ["Home", "Lighting"]);
        assert_eq!(f.rating.as_deref(), Some("4.6"));
        assert_eq!(f.review_count, Some(128));
        assert_eq!(f.seller.as_deref(), Some("Acme Store"));
    }

    #[test]
    fn microdata_of_the_product_not_of_its_tiles() {
        let f = of(
            r#"<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Chair</h1>
            <span itemprop="sku">C-9</span>
            <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
              <span itemprop="price" content="49.90">49,90 €</span>
              <meta itemprop="priceCurrency" content="EUR">
              <link itemprop="availability" href="https://schema.org/OutOfStock"></div></div>
            <a href="/other"><div itemscope itemtype="https://schema.org/Product">
              <span itemprop="name">Table</span><span itemprop="price" content="99"></span></div></a>"#,
        );
        assert_eq!(f.name.as_deref(), Some("Chair"));
        assert_eq!(f.sku.as_deref(), Some("C-9"));
        assert_eq!(f.price.as_deref(), Some("49.90"));
        assert_eq!(f.currency.as_deref(), Some("EUR"));
        assert_eq!(f.availability, Some(Availability::OutOfStock));
    }

    #[test]
    fn product_meta_tags() {
        let f = of(r#"<meta property="product:price:amount" content="23.5">
            <meta property="product:price:currency" content="CHF">
            <meta property="og:availability" content="in stock">
            <meta property="product:retailer_item_id" content="R-77">"#);
        assert_eq!(f.price.as_deref(), Some("23.50"));
        assert_eq!(f.currency.as_deref(), Some("CHF"));
        assert_eq!(f.availability, Some(Availability::InStock));
        assert_eq!(f.sku.as_deref(), Some("R-77"));
    }
}
