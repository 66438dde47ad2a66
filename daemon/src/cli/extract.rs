//! `haul extract PAGE [--url URL] [--json]`: what a grab of a saved product page would save,
//! read from the file alone (no network).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use haul::extract::{self, Extraction, ProductFacts};
use haul::media::{MediaKind, Role};

/// Print what the page says the product is and costs (name, brand, price, availability, codes,
/// bullet points, specifications, variants), every photo and video it holds, in its best quality
/// and with its role (main, gallery, variant, video, description, review), and the links to
/// videos the page embeds from a video platform (YouTube, Vimeo), which a grab lists but does not
/// download. Reads the
/// file only: nothing is downloaded and no network is used. Gzip-compressed pages (`.html.gz`) are read directly.
#[derive(Debug, Parser)]
pub struct Args {
    /// The saved page (`.html`, `.htm` or `.html.gz`).
    #[arg(value_name = "PAGE")]
    pub page: PathBuf,

    /// Where the page came from; without it the page's canonical or og:url address is used.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Print JSON: {"site", "product_id", "title", "page_url", "product": {"name", "brand",
    /// "price", "currency", "availability", "sku", "gtin", "mpn", "description", "features",
    /// "specs", "categories", "rating", "review_count", "seller", "variants"}, "media": [{"kind",
    /// "role", "url", "variant", "variant_id"}], "links": [{"url", "role", "platform"}], …}.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let html = extract::read_page_file(&args.page)
        .with_context(|| format!("cannot extract {}", args.page.display()))?;
    let found = extract::extract(&html, args.url.as_deref());
    let out = if args.json {
        let mut s = serde_json::to_string_pretty(&found).context("cannot print the result")?;
        s.push('\n');
        s
    } else {
        human(&found)
    };
    super::terminal::say_raw(&out);
    Ok(ExitCode::SUCCESS)
}

/// How many of a long list's entries are shown before "… and N more".
const SHOWN: usize = 8;

/// The product's facts for people: what the page states, nothing for what it does not.
fn product(p: &ProductFacts) -> String {
    let mut s = String::new();
    let mut line = |label: &str, value: Option<String>| {
        if let Some(v) = value {
            let _ = writeln!(s, "  {label:<13} {v}");
        }
    };
    line("name:", p.name.clone());
    line("brand:", p.brand.clone());
    line(
        "price:",
        p.price.as_ref().map(|price| match &p.currency {
            Some(c) => format!("{price} {c}"),
            None => format!("{price} (currency not stated)"),
        }),
    );
    line(
        "availability:",
        p.availability.map(|a| a.as_str().to_string()),
    );
    for (label, code) in [("sku:", &p.sku), ("gtin:", &p.gtin), ("mpn:", &p.mpn)] {
        line(label, code.clone());
    }
    line(
        "rating:",
        p.rating.as_ref().map(|r| match p.review_count {
            Some(n) => format!("{r} ({n} reviews)"),
            None => r.clone(),
        }),
    );
    line("seller:", p.seller.clone());
    line(
        "categories:",
        (!p.categories.is_empty()).then(|| p.categories.join(" › ")),
    );
    line(
        "description:",
        p.description.as_ref().map(|d| {
            let short: String = d.chars().take(160).collect();
            if short.len() < d.len() {
                format!("{short}…")
            } else {
                short
            }
        }),
    );
    let mut list = |title: &str, items: Vec<String>| {
        if items.is_empty() {
            return;
        }
        let _ = writeln!(s, "  {title} ({}):", items.len());
        for item in items.iter().take(SHOWN) {
            let _ = writeln!(s, "    - {item}");
        }
        if items.len() > SHOWN {
            let _ = writeln!(s, "    … and {} more", items.len() - SHOWN);
        }
    };
    list("features", p.features.clone());
    list(
        "specs",
        p.specs
            .iter()
            .map(|spec| format!("{}: {}", spec.name, spec.value))
            .collect(),
    );
    list(
        "variants",
        p.variants
            .iter()
            .map(|v| {
                let mut parts: Vec<String> = Vec::new();
                let named = v.label.clone().or_else(|| {
                    (!v.attributes.is_empty()).then(|| {
                        v.attributes
                            .iter()
                            .map(|a| a.value.as_str())
                            .collect::<Vec<_>>()
                            .join(" / ")
                    })
                });
                parts.push(named.unwrap_or_else(|| "(unnamed)".into()));
                if let Some(id) = v.sku.as_ref().or(v.id.as_ref()) {
                    parts.push(format!("[{id}]"));
                }
                if let Some(price) = &v.price {
                    parts.push(price.clone());
                }
                if let Some(a) = v.availability {
                    parts.push(a.as_str().to_string());
                }
                if !v.pictures.is_empty() {
                    parts.push(format!("{} pictures", v.pictures.len()));
                }
                parts.join("  ")
            })
            .collect(),
    );
    if !s.is_empty() {
        s.insert_str(0, "\nproduct\n");
        s.push('\n');
    }
    s
}

/// The result as a list for people, grouped by role.
fn human(e: &Extraction) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {}",
        e.site,
        e.product_id.as_deref().unwrap_or("(no product id)")
    );
    if let Some(t) = &e.title {
        let _ = writeln!(s, "title: {t}");
    }
    if let Some(u) = &e.page_url {
        let _ = writeln!(s, "page:  {u}");
    }
    if !e.other_ids.is_empty() {
        let _ = writeln!(s, "also known as: {}", e.other_ids.join(", "));
    }
    if let Some(parent) = &e.parent_id {
        let _ = writeln!(s, "variation family: {parent}");
    }
    s.push_str(&product(&e.product));
    let images = e
        .media
        .iter()
        .filter(|m| m.kind == MediaKind::Image)
        .count();
    let _ = writeln!(
        s,
        "{} media: {} images, {} videos",
        e.media.len(),
        images,
        e.media.len() - images
    );
    // `media` is in package order (by role, variants grouped), so headers go where the role or
    // the variant changes.
    let mut last_role = None;
    let mut last_variant = None;
    for m in &e.media {
        if last_role != Some(m.role) {
            let _ = writeln!(s, "\n{} ({})", m.role.as_str(), e.count(m.role));
            last_role = Some(m.role);
        }
        let variant = (m.role == Role::Variant).then_some((&m.variant, &m.variant_id));
        if variant.is_some() && variant != last_variant {
            let label = m.variant.as_deref().unwrap_or("(unnamed)");
            let _ = match &m.variant_id {
                Some(id) => writeln!(s, "  {label} [{id}]"),
                None => writeln!(s, "  {label}"),
            };
        }
        last_variant = variant;
        let indent = if variant.is_some() { "    " } else { "  " };
        let _ = match &m.code {
            Some(code) => writeln!(s, "{indent}{:<5}  {code:<4}  {}", m.kind.as_str(), m.url),
            None => writeln!(s, "{indent}{:<5}  {}", m.kind.as_str(), m.url),
        };
    }
    // A video platform's pages: listed in the manifest, never downloaded.
    if !e.links.is_empty() {
        let _ = writeln!(s, "\nlinks ({}), not downloaded", e.links.len());
        for l in &e.links {
            let _ = writeln!(s, "  {:<5}  {}  ({})", l.role.as_str(), l.url, l.platform);
        }
    }
    if !e.warnings.is_empty() {
        let _ = writeln!(s, "\nwarnings:");
        for w in &e.warnings {
            let _ = writeln!(s, "  - {w}");
        }
    }
    s
}
