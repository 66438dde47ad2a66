//! What a product page says the product is and costs: its name, brand, price and currency,
//! availability, SKU, GTIN and MPN, description, bullet points, specifications, categories,
//! rating, seller and variants — `product` in every extraction, `product.json` in every package.
//!
//! A fact the page does not state is absent, never guessed. Sources, best first; each fills
//! only what the ones before left empty:
//!
//! 1. the site extractor, from its marketplace's own state data ([`super::Found::facts`]; the
//!    shapes several sites share are in [`read`]); a fact its data proves absent (a buy box
//!    without an offer, [`Fact`]) stays absent whatever the later sources say;
//! 2. the page's structured data ([`structured`]): JSON-LD, microdata and RDFa of the page's own
//!    product, then OpenGraph and product meta tags;
//! 3. what the page shows ([`visible`]): the price and availability beside the product's title
//!    and buy button, and an identifier in the page's own address.
//!
//! Prices are decimal strings without grouping, the price a buyer pays now (`"1299.00"`;
//! [`price::parse_amount`] reads `1.299,00 €` and the like); currencies are ISO 4217 codes, from
//! a symbol only where it names one currency or the page's country settles it.

pub mod price;
pub(crate) mod read;
mod structured;
mod visible;

use serde::{Deserialize, Serialize};

use super::page::Page;

/// The product as its page describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductFacts {
    pub name: Option<String>,
    pub brand: Option<String>,
    /// The price a buyer pays now, as a decimal string (`"1299.00"`).
    pub price: Option<String>,
    /// ISO 4217 (`"EUR"`).
    pub currency: Option<String>,
    pub availability: Option<Availability>,
    pub sku: Option<String>,
    pub gtin: Option<String>,
    pub mpn: Option<String>,
    pub description: Option<String>,
    /// The bullet points.
    pub features: Vec<String>,
    pub specs: Vec<Spec>,
    /// From the broadest to the narrowest (breadcrumbs), or as the data lists them.
    pub categories: Vec<String>,
    /// The average rating as written (`"4.6"`), on the page's own scale.
    pub rating: Option<String>,
    pub review_count: Option<u64>,
    pub seller: Option<String>,
    pub variants: Vec<VariantFacts>,
}

/// A specification: a name and its value (`Weight`, `1.2 kg`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub value: String,
}

/// One variant of the product (a colour, a size, a combination).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VariantFacts {
    /// The variant's own id (its SKU on most shops, an ASIN on Amazon).
    pub id: Option<String>,
    pub label: Option<String>,
    /// What sets it apart: name/value pairs such as `color` / `Red`.
    pub attributes: Vec<Spec>,
    pub price: Option<String>,
    pub sku: Option<String>,
    pub availability: Option<Availability>,
    /// The URLs of its pictures among the extraction's media.
    pub pictures: Vec<String>,
}

/// Whether the product can be bought, as schema.org names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Availability {
    InStock,
    OutOfStock,
    PreOrder,
    BackOrder,
    Discontinued,
    LimitedAvailability,
}

impl Availability {
    /// The availability a schema.org value (`https://schema.org/InStock`, `InStock`) or an
    /// OpenGraph one (`in stock`, `oos`, `preorder`) names.
    pub fn parse(value: &str) -> Option<Availability> {
        let v = value.trim();
        let last = v.rsplit(['/', ':']).next().unwrap_or(v);
        let key: String = last
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        Some(match key.as_str() {
            // Classifieds say "not sold" and "sold".
            "instock" | "instoreonly" | "onlineonly" | "available" | "availablefororder"
            | "notsold" => Availability::InStock,
            "outofstock" | "oos" | "soldout" | "unavailable" | "notavailable" | "sold" => {
                Availability::OutOfStock
            }
            "preorder" | "presale" => Availability::PreOrder,
            "backorder" => Availability::BackOrder,
            "discontinued" => Availability::Discontinued,
            "limitedavailability" => Availability::LimitedAvailability,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Availability::InStock => "InStock",
            Availability::OutOfStock => "OutOfStock",
            Availability::PreOrder => "PreOrder",
            Availability::BackOrder => "BackOrder",
            Availability::Discontinued => "Discontinued",
            Availability::LimitedAvailability => "LimitedAvailability",
        }
    }
}

impl ProductFacts {
    /// Whether the page stated nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == ProductFacts::default()
    }

    /// Fills what is still absent from `other` (the earlier source wins every field).
    pub fn fill(&mut self, other: ProductFacts) {
        fn opt<T>(mine: &mut Option<T>, theirs: Option<T>) {
            if mine.is_none() {
                *mine = theirs;
            }
        }
        fn list<T>(mine: &mut Vec<T>, theirs: Vec<T>) {
            if mine.is_empty() {
                *mine = theirs;
            }
        }
        opt(&mut self.name, other.name);
        opt(&mut self.brand, other.brand);
        // A price and its currency come from one source, or the currency could be another's.
        if self.price.is_none() {
            self.price = other.price;
            if self.currency.is_none() {
                self.currency = other.currency;
            }
        }
        opt(&mut self.availability, other.availability);
        opt(&mut self.sku, other.sku);
        opt(&mut self.gtin, other.gtin);
        opt(&mut self.mpn, other.mpn);
        opt(&mut self.description, other.description);
        list(&mut self.features, other.features);
        list(&mut self.specs, other.specs);
        list(&mut self.categories, other.categories);
        opt(&mut self.rating, other.rating);
        opt(&mut self.review_count, other.review_count);
        opt(&mut self.seller, other.seller);
        list(&mut self.variants, other.variants);
    }
}

impl ProductFacts {
    /// Ties the facts to the extraction they belong to: the product's name is its title where
    /// no source named it, and a variant's pictures are the extraction's own media URLs.
    pub fn finish(&mut self, extraction: &super::Extraction) {
        if self.name.is_none() {
            self.name = extraction.title.clone();
        }
        let known: std::collections::HashMap<String, &str> = extraction
            .media
            .iter()
            .map(|m| (super::cdn::asset_id(&m.url), m.url.as_str()))
            .collect();
        for variant in &mut self.variants {
            variant.pictures = std::mem::take(&mut variant.pictures)
                .iter()
                .filter_map(|u| known.get(&super::cdn::asset_id(&super::cdn::largest(u))))
                .map(|u| (*u).to_string())
                .collect();
        }
    }
}

/// A fact the site's own data shows the page does not state, so that no later source may fill
/// it with another product's (Amazon's buy box without an offer of its own, where the only
/// prices on the page are the recommendations').
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    /// The price and its currency.
    Price,
    Availability,
}

/// The facts of `page`, the site extractor's first (module doc); the facts in `absent` stay
/// absent, whatever later sources say.
pub fn of_page(page: &Page<'_>, from_site: ProductFacts, absent: &[Fact]) -> ProductFacts {
    let mut facts = from_site;
    let shown = visible::facts(page, &ProductFacts::default());
    // The code a shop shows its customers under a label ("Product code: 141677") is its SKU
    // as the shop means it, even where its data carries another one for search engines.
    if facts.sku.is_none() {
        facts.sku = shown.sku.clone();
    }
    facts.fill(structured::facts(page));
    facts.fill(shown);
    if facts.sku.is_none() {
        facts.sku = address_code(page);
    }
    facts.sku = facts.sku.map(|sku| code_without_words(&sku));
    for fact in absent {
        match fact {
            Fact::Price => {
                facts.price = None;
                facts.currency = None;
            }
            Fact::Availability => facts.availability = None,
        }
    }
    facts
}

/// The product's code as its page address names it in a query parameter (`?pid=260591`,
/// `&sku=AB-12`): the last source for a SKU.
fn address_code(page: &Page<'_>) -> Option<String> {
    const NAMES: [&str; 8] = [
        "pid",
        "sku",
        "productid",
        "product_id",
        "itemid",
        "item_id",
        "articleid",
        "article_id",
    ];
    let addresses = [
        page.canonical(),
        page.url().map(|u| u.to_string()),
        page.meta("og:url"),
    ];
    addresses.into_iter().flatten().find_map(|address| {
        let url = url::Url::parse(&address).ok()?;
        url.query_pairs().find_map(|(name, value)| {
            let code = value.trim();
            let is_code = (3..=40).contains(&code.len())
                && code.chars().any(|c| c.is_ascii_digit())
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
            (NAMES.contains(&name.to_ascii_lowercase().as_str()) && is_code)
                .then(|| code.to_string())
        })
    })
}

/// A SKU as a code: a value that is a code followed by words (`TE502955-1293415 Housse de
/// canapé`, the shop's data gluing the name on) keeps its code; anything else stays as it is.
fn code_without_words(sku: &str) -> String {
    let Some((head, tail)) = sku.trim().split_once(char::is_whitespace) else {
        return sku.trim().to_string();
    };
    let is_code = head.chars().count() >= 4 && head.chars().any(|c| c.is_ascii_digit());
    let next = tail.split_whitespace().next().unwrap_or_default();
    let is_word = next.chars().count() >= 4
        && next.chars().all(char::is_alphabetic)
        && next.chars().any(char::is_lowercase);
    if is_code && is_word {
        head.to_string()
    } else {
        sku.trim().to_string()
    }
}

/// A text with runs of whitespace made one space, trimmed; `None` when nothing is left.
fn clean(text: &str) -> Option<String> {
    let t = super::page::clean_text(text);
    (!t.is_empty()).then_some(t)
}

/// The page's country as its address or language gives it (ISO 3166 alpha-2, lower-case):
/// the address's country-code top-level domain (`.ca`, `.com.au`), else the region of its
/// `<html lang>` (`en-CA`).
pub(crate) fn country_of(page: &Page<'_>) -> Option<String> {
    let host = page.host()?;
    let tld = host.rsplit('.').next()?;
    if tld.len() == 2 && tld != "co" && tld != "io" && tld != "tv" && tld != "me" {
        return Some(if tld == "uk" {
            "gb".into()
        } else {
            tld.to_string()
        });
    }
    static HTML: std::sync::LazyLock<scraper::Selector> =
        std::sync::LazyLock::new(|| super::page::selector("html[lang]"));
    let lang = page.attr(&HTML, "lang")?;
    let region = lang.split(['-', '_']).nth(1)?;
    (region.len() == 2).then(|| region.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_in_schema_and_opengraph_words() {
        for (v, want) in [
            ("https://schema.org/InStock", Some(Availability::InStock)),
            (
                "http://schema.org/OutOfStock",
                Some(Availability::OutOfStock),
            ),
            ("InStock", Some(Availability::InStock)),
            ("in stock", Some(Availability::InStock)),
            ("oos", Some(Availability::OutOfStock)),
            ("schema:PreOrder", Some(Availability::PreOrder)),
            ("SoldOut", Some(Availability::OutOfStock)),
            ("maybe", None),
        ] {
            assert_eq!(Availability::parse(v), want, "{v}");
        }
    }

    #[test]
    fn a_sku_is_a_code_from_the_data_or_the_address() {
        assert_eq!(
            code_without_words("TE502955-1293415 Housse de canapé, chaise"),
            "TE502955-1293415"
        );
        assert_eq!(code_without_words("Ca304103-0000 Montre"), "Ca304103-0000");
        for kept in ["AB 1234", "12345 XL", "SKU-9 BLUE", "Blue chair 12", "77"] {
            assert_eq!(code_without_words(kept), kept, "{kept}");
        }
        let of = |html: &str, url: &str| {
            let mut warnings = Vec::new();
            of_page(
                &Page::parse(html, Some(url), &mut warnings),
                ProductFacts::default(),
                &[],
            )
        };
        let bare = "<html><head><title>Pizza</title></head><body><h1>Pizza</h1></body></html>";
        assert_eq!(
            of(bare, "https://shop.example/store/122725?pid=260591")
                .sku
                .as_deref(),
            Some("260591")
        );
        assert_eq!(
            of(bare, "https://shop.example/p?productId=A-17&ref=mail")
                .sku
                .as_deref(),
            Some("A-17")
        );
        assert_eq!(
            of(bare, "https://shop.example/p?id=260591&pid=home").sku,
            None,
            "`id` is anything; `home` is no code"
        );
        let stated = r#"<html><head><script type="application/ld+json">
            {"@type":"Product","name":"Pizza","sku":"P-1"}</script></head><body></body></html>"#;
        assert_eq!(
            of(stated, "https://shop.example/p?pid=260591")
                .sku
                .as_deref(),
            Some("P-1"),
            "the page's own SKU first"
        );
    }

    #[test]
    fn the_first_source_wins_and_a_price_keeps_its_currency() {
        let mut a = ProductFacts {
            name: Some("From the site".into()),
            price: Some("10.00".into()),
            ..Default::default()
        };
        a.fill(ProductFacts {
            name: Some("From data".into()),
            brand: Some("Acme".into()),
            price: Some("12.00".into()),
            currency: Some("USD".into()),
            ..Default::default()
        });
        assert_eq!(a.name.as_deref(), Some("From the site"));
        assert_eq!(a.brand.as_deref(), Some("Acme"));
        assert_eq!(a.price.as_deref(), Some("10.00"));
        assert_eq!(
            a.currency, None,
            "another source's currency is not this price's"
        );
    }
}
