//! haul's product facts on the any-shop pages, scored exactly as the product-extraction
//! benchmark's `evaluate.py` scores the systems it publishes, and printed beside them.
//!
//! The benchmark's ground truth for these pages (`facts-ground-truth.json`) and what its three
//! systems returned for them (`facts-peer-systems.json`) sit beside the pages. Each page counts
//! once per attribute: no prediction where the truth has a value is a false negative; a
//! prediction among the true values a true positive; any other prediction a false positive, and
//! also a false negative when the truth has a value. `price` compares as a decimal (`259` equals
//! `259.0`), `sku` and `availability` as exact strings. F1 is the harmonic mean of precision and
//! recall over all pages, 1.0 when nothing was to be found and nothing was predicted.
//!
//! `cargo test -p haul --test extract_fixtures anyshop_facts -- --nocapture` prints the table
//! and every miss; the test fails where haul scores below Zyte's (the commercial service) F1 on
//! the same pages, or states a currency that contradicts the page's own symbol.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use haul::extract::{self, ProductFacts};
use serde::Deserialize;

use super::fixtures_dir;

/// The attributes the benchmark scores.
const ATTRIBUTES: [&str; 3] = ["price", "sku", "availability"];

/// The system whose F1 haul must reach on every attribute.
const BAR_SYSTEM: &str = "Zyte";

/// One page's values, as the benchmark's JSON files write them: lists of accepted values in the
/// ground truth, single values in a system's output.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Values {
    Many(Vec<String>),
    One(String),
}

type PageValues = BTreeMap<String, BTreeMap<String, Values>>;

fn read_json<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = fixtures_dir().join("anyshop").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A decimal number written as a string, in one form for comparison: `259`, `259.0` and
/// `259.00` are all `259`. `None` for what is not a decimal number.
fn decimal(text: &str) -> Option<String> {
    let t = text.trim();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let sign = if int == "0" && frac.is_empty() {
        ""
    } else {
        sign
    };
    Some(match frac {
        "" => format!("{sign}{int}"),
        _ => format!("{sign}{int}.{frac}"),
    })
}

/// Whether `predicted` is one of the `truths` for `attribute`.
fn matches(attribute: &str, predicted: &str, truths: &[String]) -> bool {
    if attribute == "price" {
        let Some(p) = decimal(predicted) else {
            return false;
        };
        truths.iter().any(|t| decimal(t).as_ref() == Some(&p))
    } else {
        truths.iter().any(|t| t == predicted)
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    r#fn: usize,
}

impl Counts {
    /// The benchmark's F1 (its `precision_score` and `recall_score`).
    fn f1(&self) -> f64 {
        if self.fp == 0 && self.r#fn == 0 {
            return 1.0;
        }
        let precision = if self.tp + self.fp == 0 {
            0.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        };
        let recall = if self.tp + self.r#fn == 0 {
            0.0
        } else {
            self.tp as f64 / (self.tp + self.r#fn) as f64
        };
        if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        }
    }
}

/// Scores one system's predictions (page → attribute → value) on one attribute; the misses go to
/// `misses` when given.
fn score(
    truth: &PageValues,
    predicted: &dyn Fn(&str) -> Option<String>,
    attribute: &str,
    mut misses: Option<&mut String>,
) -> Counts {
    let mut c = Counts::default();
    for (page, values) in truth {
        let truths: Vec<String> = match values.get(attribute) {
            Some(Values::Many(v)) => v.clone(),
            Some(Values::One(v)) => vec![v.clone()],
            None => Vec::new(),
        };
        match predicted(page) {
            None if truths.is_empty() => {}
            None => {
                c.r#fn += 1;
                if let Some(m) = misses.as_deref_mut() {
                    let _ = writeln!(m, "  {attribute:<12} {page}: none, truth {truths:?}");
                }
            }
            Some(p) if !truths.is_empty() && matches(attribute, &p, &truths) => c.tp += 1,
            Some(p) => {
                c.fp += 1;
                if !truths.is_empty() {
                    c.r#fn += 1;
                }
                if let Some(m) = misses.as_deref_mut() {
                    let _ = writeln!(m, "  {attribute:<12} {page}: {p:?}, truth {truths:?}");
                }
            }
        }
    }
    c
}

/// The ISO 4217 codes a currency sign the truth records can stand for (`None`: a sign this
/// check does not know).
fn codes_of_sign(sign: &str) -> Option<&'static [&'static str]> {
    Some(match sign.trim() {
        "€" | "EUR" => &["EUR"],
        "£" | "GBP" => &["GBP"],
        "CHF" => &["CHF"],
        "Kn" | "kn" => &["HRK"],
        "Lei" | "lei" => &["RON"],
        "Rs" => &["PKR", "INR", "LKR", "NPR"],
        "ر.س" => &["SAR"],
        "$" => &[
            "USD", "CAD", "AUD", "NZD", "SGD", "HKD", "TWD", "MXN", "CLP", "ARS", "COP",
        ],
        _ => return None,
    })
}

fn fact(p: &ProductFacts, attribute: &str) -> Option<String> {
    match attribute {
        "price" => p.price.clone(),
        "sku" => p.sku.clone(),
        "availability" => p.availability.map(|a| a.as_str().to_string()),
        _ => None,
    }
}

#[test]
fn anyshop_facts() {
    if !fixtures_dir().join("anyshop").is_dir() {
        eprintln!(
            "skipping: fixture folder {} is absent",
            fixtures_dir().display()
        );
        return;
    }
    let truth: PageValues = read_json("facts-ground-truth.json");
    let peers: BTreeMap<String, PageValues> = read_json("facts-peer-systems.json");
    let pages: BTreeMap<String, BTreeMap<String, String>> = read_json("pages.json");
    assert_eq!(
        truth.keys().collect::<Vec<_>>(),
        pages.keys().collect::<Vec<_>>(),
        "the truth covers every page"
    );

    let mut haul: BTreeMap<String, ProductFacts> = BTreeMap::new();
    let mut wrong_currency = Vec::new();
    for (file, page) in &pages {
        let path = fixtures_dir().join("anyshop").join(file);
        let html =
            extract::read_page_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let product = extract::extract(&html, page.get("url").map(String::as_str)).product;
        let signs = match truth[file].get("currency") {
            Some(Values::Many(v)) => v.clone(),
            Some(Values::One(v)) => vec![v.clone()],
            None => Vec::new(),
        };
        if let Some(code) = &product.currency {
            let allowed: Vec<&str> = signs
                .iter()
                .filter_map(|s| codes_of_sign(s))
                .flatten()
                .copied()
                .collect();
            if !allowed.is_empty() && !allowed.contains(&code.as_str()) {
                wrong_currency.push(format!("{file}: {code}, the page says {signs:?}"));
            }
        }
        haul.insert(file.clone(), product);
    }

    let mut report = format!(
        "product facts on the {} any-shop pages, F1 as the benchmark's evaluate.py scores it\n\
         {:<10}{:>8}{:>8}{:>14}\n",
        pages.len(),
        "system",
        "price",
        "sku",
        "availability"
    );
    let mut misses = String::new();
    let mut row = |name: &str, f1: &[f64]| {
        let _ = writeln!(
            report,
            "{name:<10}{:>8.3}{:>8.3}{:>14.3}",
            f1[0], f1[1], f1[2]
        );
    };
    let haul_f1: Vec<f64> = ATTRIBUTES
        .iter()
        .map(|a| {
            score(
                &truth,
                &|page| haul.get(page).and_then(|p| fact(p, a)),
                a,
                Some(&mut misses),
            )
            .f1()
        })
        .collect();
    row("haul", &haul_f1);
    let mut bar = Vec::new();
    for (system, predictions) in &peers {
        let f1: Vec<f64> = ATTRIBUTES
            .iter()
            .map(|a| {
                score(
                    &truth,
                    &|page| match predictions.get(page).and_then(|p| p.get(*a)) {
                        Some(Values::One(v)) => Some(v.clone()),
                        Some(Values::Many(v)) => v.first().cloned(),
                        None => None,
                    },
                    a,
                    None,
                )
                .f1()
            })
            .collect();
        row(system, &f1);
        if system == BAR_SYSTEM {
            bar = f1;
        }
    }
    eprintln!("{report}\nhaul's misses:\n{misses}");
    assert_eq!(
        bar.len(),
        ATTRIBUTES.len(),
        "{BAR_SYSTEM} is among the peers"
    );
    for ((attribute, ours), theirs) in ATTRIBUTES.iter().zip(&haul_f1).zip(&bar) {
        assert!(
            ours >= theirs,
            "{attribute}: haul's F1 {ours:.3} is below {BAR_SYSTEM}'s {theirs:.3}\n{report}"
        );
    }
    assert!(
        wrong_currency.is_empty(),
        "currencies the page contradicts: {wrong_currency:#?}"
    );
}

#[test]
fn decimals_compare_as_numbers() {
    assert_eq!(decimal("259").as_deref(), Some("259"));
    assert_eq!(decimal("259.0").as_deref(), Some("259"));
    assert_eq!(decimal(" 229.99 ").as_deref(), Some("229.99"));
    assert_eq!(decimal("23.450").as_deref(), Some("23.45"));
    assert_eq!(decimal("0.50").as_deref(), Some("0.5"));
    assert_eq!(decimal("-0").as_deref(), Some("0"));
    assert_eq!(decimal("1,299.00"), None, "grouping is not a decimal");
    assert_eq!(decimal("."), None);
    assert_eq!(decimal(""), None);
    assert!(matches("price", "17.1", &["17.10".into()]));
    assert!(!matches("price", "17.1", &["18.00".into()]));
    assert!(!matches("sku", "abc ", &["abc".into()]), "exact strings");
    let none = Counts::default();
    assert_eq!(none.f1(), 1.0, "nothing to find, nothing predicted");
    let half = Counts {
        tp: 1,
        fp: 1,
        r#fn: 1,
    };
    assert!((half.f1() - 0.5).abs() < 1e-9);
}
