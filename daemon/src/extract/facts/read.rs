//! What the site extractors share to read a product's facts from their marketplaces' own data
//! ([`super::super::Found::facts`]): amounts written for machines or for people, description
//! text out of HTML, name/value tables, the identifiers such tables name (brand, MPN, GTIN),
//! ratings and counts as pages write them, breadcrumbs, and variants built from their option
//! values. Every site reads its own shapes; these are the shapes several of them repeat, so
//! each rule lives once.

use scraper::{ElementRef, Html, Node, Selector};
use serde_json::Value;

use super::super::embedded::text;
use super::{Availability, ProductFacts, Spec, VariantFacts, clean, price};

/// An amount a page's data gives: a JSON number (`13.5`) or a string written for machines
/// (`"13.50"`), else one written for people (`"1.299,00 €"`).
pub(crate) fn amount(value: &Value) -> Option<String> {
    text(value).and_then(|v| price::machine_amount(&v))
}

/// The amount and the currency a price written for people names (`$13.50`, `EUR 109,00`): the
/// currency only where the text settles it, with the page's `country` for a shared symbol
/// ([`price::currency_in`]).
pub(crate) fn money(text: &str, country: Option<&str>) -> (Option<String>, Option<String>) {
    match price::parse_amount(text) {
        Some(amount) => (Some(amount), price::currency_in(text, country)),
        None => (None, None),
    }
}

/// Sets the product's price and its currency, from one source, when no price is set yet.
pub(crate) fn set_price(facts: &mut ProductFacts, price: Option<String>, currency: Option<String>) {
    if facts.price.is_none() && price.is_some() {
        facts.price = price;
        facts.currency = currency;
    }
}

/// The availability a buy box's words state ("In Stock.", "Auf Lager", "Currently
/// unavailable"), in the languages [`super::visible`] knows.
pub(crate) fn availability_said(text: &str) -> Option<Availability> {
    super::visible::availability_said(text)
}

/// Elements whose text starts a new line of a description.
const BLOCKS: &[&str] = &[
    "p",
    "br",
    "div",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "table",
    "section",
    "dd",
    "dt",
    "blockquote",
];

/// The text of an HTML fragment (a description a shop stores as HTML), one line per paragraph,
/// list item or row; `None` when it holds no text.
pub(crate) fn plain_text(html: &str) -> Option<String> {
    let fragment = Html::parse_fragment(html);
    element_text(fragment.root_element())
}

/// The text of an element as a reader sees it: scripts and styles left out, one line per
/// block, whitespace collapsed; `None` when nothing is left.
pub(crate) fn element_text(el: ElementRef<'_>) -> Option<String> {
    let mut out = String::new();
    for edge in el.traverse() {
        let (node, opening) = match edge {
            ego_tree::iter::Edge::Open(n) => (n, true),
            ego_tree::iter::Edge::Close(n) => (n, false),
        };
        match node.value() {
            Node::Text(t) if opening => {
                let hidden = node.ancestors().any(|a| {
                    a.value().as_element().is_some_and(|e| {
                        matches!(e.name(), "script" | "style" | "noscript" | "template")
                    })
                });
                if !hidden {
                    out.push_str(t);
                }
            }
            Node::Element(e) if BLOCKS.contains(&e.name()) => out.push('\n'),
            _ => {}
        }
        if out.len() > MAX_TEXT {
            break;
        }
    }
    let lines: Vec<String> = out
        .lines()
        .map(super::super::page::clean_text)
        .filter(|l| !l.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// [`element_text`] on one line: a table cell's or a bullet's text, without its scripts.
pub(crate) fn inline_text(el: ElementRef<'_>) -> Option<String> {
    element_text(el).map(|t| t.replace('\n', " "))
}

/// Longest description kept (a page can hold a novel).
const MAX_TEXT: usize = 64 << 10;

/// Adds the specification `name`: `value` once (the first of a name wins), cleaned of the
/// marks tables put around them (`Brand :`, direction marks).
pub(crate) fn add_spec(specs: &mut Vec<Spec>, name: &str, value: &str) {
    let tidy = |s: &str| {
        let s: String = s
            .chars()
            .filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{200b}'))
            .collect();
        clean(s.trim().trim_end_matches(':').trim_start_matches(':'))
    };
    let (Some(name), Some(value)) = (tidy(name), tidy(value)) else {
        return;
    };
    if specs.len() < MAX_SPECS && !specs.iter().any(|s| s.name.eq_ignore_ascii_case(&name)) {
        specs.push(Spec { name, value });
    }
}

/// Adds each row's specification: the text of its first `name` element and of its first
/// `value` element (a table's `th`/`td`, a list's label/value).
pub(crate) fn add_row_specs<'a>(
    specs: &mut Vec<Spec>,
    rows: impl Iterator<Item = ElementRef<'a>>,
    name: &Selector,
    value: &Selector,
) {
    for row in rows {
        if let (Some(n), Some(v)) = (
            row.select(name).next().and_then(inline_text),
            row.select(value).next().and_then(inline_text),
        ) {
            add_spec(specs, &n, &v);
        }
    }
}

/// Most specifications kept.
const MAX_SPECS: usize = 500;

/// Specification names that state the product's brand, MPN or GTIN, lower-case, in the
/// languages of the marketplaces haul reads.
const BRAND: &[&str] = &[
    "brand",
    "brand name",
    "marke",
    "marca",
    "marque",
    "marchio",
    "merk",
    "märke",
    "marka",
    "ブランド",
    "品牌",
    "שם מותג",
    "מותג",
];
const MPN: &[&str] = &[
    "mpn",
    "manufacturer part number",
    "part number",
    "item model number",
    "model number",
    "modellnummer",
    "número de modelo",
    "numéro du modèle de l'article",
    "numero modello",
    "型号",
    "型番",
];
/// What tables write where a product has no brand ("Other", `其他`).
const NO_BRAND: &[&str] = &[
    "other",
    "others",
    "none",
    "n/a",
    "na",
    "no brand",
    "unbranded",
    "generic",
    "does not apply",
    "其他",
    "无",
    "无品牌",
];
const GTIN: &[&str] = &["gtin", "ean", "upc", "isbn-13", "ean-13", "jan"];

/// Fills the brand, MPN and GTIN from the specifications that name them, where still absent.
/// A GTIN is kept as its digits (`978-1937785734` → `9781937785734`) and only when it is one
/// (8 to 14 digits).
pub(crate) fn ids_from_specs(facts: &mut ProductFacts) {
    let find = |names: &[&str]| {
        names.iter().find_map(|n| {
            facts
                .specs
                .iter()
                .find(|s| s.name.to_lowercase() == *n)
                .map(|s| s.value.clone())
        })
    };
    if facts.brand.is_none() {
        facts.brand = find(BRAND).filter(|b| !NO_BRAND.contains(&b.to_lowercase().as_str()));
    }
    if facts.mpn.is_none() {
        facts.mpn = find(MPN);
    }
    if facts.gtin.is_none() {
        facts.gtin = find(GTIN).and_then(|g| gtin(&g));
    }
}

/// A GTIN (EAN, UPC, ISBN-13) as its digits (`978-1937785734` → `9781937785734`): 8 to 14
/// digits, written with nothing but digits, hyphens and spaces; anything else is a store's own
/// code or "Does not apply".
pub(crate) fn gtin(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    let only_digits = code
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
    (only_digits && (8..=14).contains(&digits.len())).then_some(digits)
}

/// The rating a text states first (`4.4 out of 5 stars`, `4,1 de 5 estrellas`), with a decimal
/// point.
pub(crate) fn rating_in(text: &str) -> Option<String> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let number: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
        .collect();
    let number = number.trim_end_matches(['.', ',']).replace(',', ".");
    (number.matches('.').count() <= 1).then_some(number)
}

/// The count a text states first (`3,238 ratings`, `5.182 valoraciones`): its digits, grouping
/// marks dropped.
pub(crate) fn count_in(text: &str) -> Option<u64> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' ' | '\u{a0}' | '\''))
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Breadcrumbs as a product's categories: each once, broadest first, without the shop's home
/// and "all categories" steps and without the product itself.
pub(crate) fn categories(
    names: impl IntoIterator<Item = String>,
    product: Option<&str>,
) -> Vec<String> {
    const NOT_CATEGORIES: &[&str] = &[
        "home",
        "start",
        "startseite",
        "accueil",
        "inicio",
        "all categories",
        "首页",
        "淘宝网",
        "天猫",
        "京东",
    ];
    let product = product.map(str::to_lowercase);
    let mut out: Vec<String> = Vec::new();
    for name in names.into_iter().take(32) {
        let Some(name) = clean(&name) else { continue };
        let lower = name.to_lowercase();
        let separator = name.chars().all(|c| !c.is_alphanumeric());
        if separator
            || NOT_CATEGORIES.contains(&lower.as_str())
            || product.as_deref() == Some(lower.as_str())
            || out.contains(&name)
        {
            continue;
        }
        out.push(name);
    }
    out
}

/// A variant that `attributes` (name, value — `Color`, `Red`) set apart, labelled with its
/// values (`Red / M`).
pub(crate) fn variant(attributes: Vec<(String, String)>) -> VariantFacts {
    let mut specs = Vec::new();
    for (name, value) in attributes {
        if let Some(value) = clean(&value) {
            specs.push(Spec {
                name: clean(&name).unwrap_or_default(),
                value,
            });
        }
    }
    let label = specs
        .iter()
        .map(|s| s.value.as_str())
        .collect::<Vec<_>>()
        .join(" / ");
    VariantFacts {
        label: clean(&label),
        attributes: specs,
        ..Default::default()
    }
}

/// One value of a dimension the page lets the buyer choose (a colour, a capacity) where the
/// page lists the values but not the SKUs they lead to.
pub(crate) struct Choice {
    pub id: Option<String>,
    pub value: String,
    /// The value of the product the page shows.
    pub selected: bool,
    pub pictures: Vec<String>,
}

/// The variants of a product that varies along one `dimension` only: one per value, the one
/// the page shows with the product's own SKU, price and availability (the page states no
/// other's).
pub(crate) fn choices(
    dimension: &str,
    choices: Vec<Choice>,
    product: &ProductFacts,
) -> Vec<VariantFacts> {
    choices
        .into_iter()
        .take(super::super::MAX_ITEMS)
        .map(|c| {
            let mut v = variant(vec![(dimension.to_string(), c.value)]);
            v.id = c.id;
            v.pictures = c.pictures;
            if c.selected {
                v.sku = product.sku.clone();
                v.price = product.price.clone();
                v.availability = product.availability;
            }
            v
        })
        .collect()
}

/// The variants worth listing: a product with one variant has none apart from itself, so its
/// only variant's SKU and availability become the product's (where absent) instead (its price
/// is the product's price already, set with its currency by the caller).
pub(crate) fn set_variants(facts: &mut ProductFacts, mut variants: Vec<VariantFacts>) {
    variants.truncate(super::super::MAX_ITEMS);
    if variants.len() == 1 {
        let only = variants.remove(0);
        if facts.sku.is_none() {
            facts.sku = only.sku;
        }
        if facts.availability.is_none() {
            facts.availability = only.availability;
        }
    } else if facts.variants.is_empty() {
        facts.variants = variants;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_and_counts_as_pages_write_them() {
        assert_eq!(rating_in("4.4 out of 5 stars").as_deref(), Some("4.4"));
        assert_eq!(rating_in("4,1 de 5 estrellas").as_deref(), Some("4.1"));
        assert_eq!(rating_in("no stars"), None);
        assert_eq!(count_in("3,238 ratings"), Some(3238));
        assert_eq!(count_in("5.182 valoraciones"), Some(5182));
        assert_eq!(count_in("73 Kundenrezensionen"), Some(73));
        assert_eq!(count_in("none"), None);
    }

    #[test]
    fn descriptions_keep_their_paragraphs_not_their_markup() {
        let text = plain_text(
            "<p>Warm <b>and</b> dry.</p><ul><li>One</li><li>Two</li></ul><script>x()</script>",
        );
        assert_eq!(text.as_deref(), Some("Warm and dry.\nOne\nTwo"));
        assert_eq!(plain_text("<p> </p>"), None);
    }

    #[test]
    fn identifiers_named_in_a_specification_table() {
        let mut f = ProductFacts::default();
        for (n, v) in [
            ("Brand Name :", "EMUST"),
            ("\u{200e}Item model number", "6012110"),
            ("ISBN-13", "978-1937785734"),
            ("brand name", "Another"),
        ] {
            add_spec(&mut f.specs, n, v);
        }
        assert_eq!(f.specs.len(), 3, "{:?}", f.specs);
        ids_from_specs(&mut f);
        assert_eq!(f.brand.as_deref(), Some("EMUST"));
        assert_eq!(f.mpn.as_deref(), Some("6012110"));
        assert_eq!(f.gtin.as_deref(), Some("9781937785734"));
        let mut f = ProductFacts::default();
        add_spec(&mut f.specs, "UPC", "Does not apply");
        add_spec(&mut f.specs, "品牌", "其他");
        ids_from_specs(&mut f);
        assert_eq!(f.gtin, None, "not a GTIN");
        assert_eq!(f.brand, None, "\"other\" is no brand");
    }

    #[test]
    fn breadcrumbs_without_home_separators_or_the_product() {
        let got = categories(
            [
                "Home",
                "›",
                "Shoes",
                "Insoles",
                "Insoles",
                "Heated Insoles X",
            ]
            .map(String::from),
            Some("Heated insoles x"),
        );
        assert_eq!(got, ["Shoes", "Insoles"]);
    }

    #[test]
    fn one_variant_is_the_product_itself() {
        let mut f = ProductFacts::default();
        let mut v = variant(vec![("Color".into(), "Red".into())]);
        v.sku = Some("R-1".into());
        v.price = Some("9.00".into());
        set_variants(&mut f, vec![v.clone()]);
        assert!(f.variants.is_empty());
        assert_eq!(f.sku.as_deref(), Some("R-1"));
        assert_eq!(
            f.price, None,
            "a price comes with its currency, from the caller"
        );
        let mut w = variant(vec![
            ("Color".into(), "Blue".into()),
            ("Size".into(), "M".into()),
        ]);
        w.id = Some("2".into());
        assert_eq!(w.label.as_deref(), Some("Blue / M"));
        let mut f = ProductFacts::default();
        set_variants(&mut f, vec![v, w]);
        assert_eq!(f.variants.len(), 2);
    }
}
