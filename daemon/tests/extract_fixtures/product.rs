//! The `[page.product]` table of a page: the product's facts ([`Extraction::product`]) that
//! the saved page states, read from the page by hand (its `evidence` says where). Every key is
//! optional and checked only when given; a fact given as `"absent"` must be absent (`null`):
//! the page does not state it, so nothing may have guessed one.
//!
//! | key | checks |
//! |---|---|
//! | `name`, `brand`, `price`, `currency`, `availability`, `sku`, `gtin`, `mpn`, `rating`, `seller` | equals the text (`price = "13.50"`, `availability = "InStock"`), or `"absent"` |
//! | `review_count` | equals the number, or `"absent"` |
//! | `name_prefix`, `description_prefix` | how the name, the description start |
//! | `features` | how many bullet points; `first_feature_prefix`: how the first starts |
//! | `specs` | how many specifications; `specs_include`: name → value pairs among them |
//! | `categories` | the categories, exactly and in order |
//! | `variants` | how many variants |
//! | `[[page.product.variant]]` | one variant, found by its `id` (or, without one, its `label`): its `label`, `price`, `sku`, `availability` (each text or `"absent"`) and how many `pictures` |

use std::collections::BTreeMap;

use haul::extract::facts::VariantFacts;
use haul::extract::{Extraction, ProductFacts};
use serde::Deserialize;

/// A fact as a table states it: its value, or `"absent"`.
#[derive(Debug, Clone, PartialEq)]
pub enum Stated {
    Absent,
    Is(String),
}

impl<'de> Deserialize<'de> for Stated {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Stated, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(u64),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Text(t) if t == "absent" => Stated::Absent,
            Raw::Text(t) => Stated::Is(t),
            Raw::Number(n) => Stated::Is(n.to_string()),
        })
    }
}

/// What a page's product must be (module doc).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductExpect {
    name: Option<Stated>,
    name_prefix: Option<String>,
    brand: Option<Stated>,
    price: Option<Stated>,
    currency: Option<Stated>,
    availability: Option<Stated>,
    sku: Option<Stated>,
    gtin: Option<Stated>,
    mpn: Option<Stated>,
    rating: Option<Stated>,
    review_count: Option<Stated>,
    seller: Option<Stated>,
    description_prefix: Option<String>,
    features: Option<usize>,
    first_feature_prefix: Option<String>,
    specs: Option<usize>,
    #[serde(default)]
    specs_include: BTreeMap<String, String>,
    categories: Option<Vec<String>>,
    variants: Option<usize>,
    #[serde(default, rename = "variant")]
    variant_checks: Vec<VariantExpect>,
}

/// One variant that must be there (module doc).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantExpect {
    id: Option<String>,
    label: Option<String>,
    price: Option<Stated>,
    sku: Option<Stated>,
    availability: Option<Stated>,
    pictures: Option<usize>,
}

/// Compares a stated fact with what extraction found.
fn stated(out: &mut Vec<String>, what: &str, expected: &Option<Stated>, got: Option<String>) {
    let ok = match (expected, &got) {
        (None, _) => true,
        (Some(Stated::Absent), None) => true,
        (Some(Stated::Is(want)), Some(got)) => want == got,
        _ => false,
    };
    if !ok {
        out.push(format!(
            "product.{what}: expected {expected:?}, got {got:?}"
        ));
    }
}

fn starts(out: &mut Vec<String>, what: &str, prefix: &Option<String>, got: Option<&str>) {
    if let Some(prefix) = prefix
        && !got.is_some_and(|g| g.starts_with(prefix.as_str()))
    {
        out.push(format!(
            "product.{what}: expected to start with {prefix:?}, got {got:?}"
        ));
    }
}

fn count(out: &mut Vec<String>, what: &str, expected: Option<usize>, got: usize) {
    if let Some(expected) = expected
        && expected != got
    {
        out.push(format!("product.{what}: expected {expected}, got {got}"));
    }
}

/// How the extraction's product differs from the page's `[page.product]` table.
pub fn check(p: &ProductExpect, e: &Extraction, out: &mut Vec<String>) {
    let f: &ProductFacts = &e.product;
    let availability =
        |a: Option<haul::extract::facts::Availability>| a.map(|a| a.as_str().to_string());
    stated(out, "name", &p.name, f.name.clone());
    starts(out, "name_prefix", &p.name_prefix, f.name.as_deref());
    stated(out, "brand", &p.brand, f.brand.clone());
    stated(out, "price", &p.price, f.price.clone());
    stated(out, "currency", &p.currency, f.currency.clone());
    stated(
        out,
        "availability",
        &p.availability,
        availability(f.availability),
    );
    stated(out, "sku", &p.sku, f.sku.clone());
    stated(out, "gtin", &p.gtin, f.gtin.clone());
    stated(out, "mpn", &p.mpn, f.mpn.clone());
    stated(out, "rating", &p.rating, f.rating.clone());
    stated(
        out,
        "review_count",
        &p.review_count,
        f.review_count.map(|n| n.to_string()),
    );
    stated(out, "seller", &p.seller, f.seller.clone());
    starts(
        out,
        "description_prefix",
        &p.description_prefix,
        f.description.as_deref(),
    );
    count(out, "features", p.features, f.features.len());
    starts(
        out,
        "first_feature_prefix",
        &p.first_feature_prefix,
        f.features.first().map(String::as_str),
    );
    count(out, "specs", p.specs, f.specs.len());
    for (name, value) in &p.specs_include {
        if !f.specs.iter().any(|s| s.name == *name && s.value == *value) {
            out.push(format!(
                "product.specs_include: no {name:?} = {value:?} among {:?}",
                f.specs
            ));
        }
    }
    if let Some(categories) = &p.categories
        && *categories != f.categories
    {
        out.push(format!(
            "product.categories: expected {categories:?}, got {:?}",
            f.categories
        ));
    }
    count(out, "variants", p.variants, f.variants.len());
    for want in &p.variant_checks {
        let found: Option<&VariantFacts> = f.variants.iter().find(|v| match &want.id {
            Some(id) => v.id.as_deref() == Some(id.as_str()),
            None => v.label.is_some() && v.label == want.label,
        });
        let Some(v) = found else {
            out.push(format!("product.variant: none is {want:?}"));
            continue;
        };
        let mut problems = Vec::new();
        if want.label.is_some() && want.label != v.label {
            problems.push(format!("label {:?}", v.label));
        }
        stated(&mut problems, "price", &want.price, v.price.clone());
        stated(&mut problems, "sku", &want.sku, v.sku.clone());
        stated(
            &mut problems,
            "availability",
            &want.availability,
            availability(v.availability),
        );
        count(&mut problems, "pictures", want.pictures, v.pictures.len());
        if !problems.is_empty() {
            out.push(format!("product.variant {want:?}: {}", problems.join("; ")));
        }
    }
}
