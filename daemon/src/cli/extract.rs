//! `haul extract PAGE [--url URL] [--json]`: what a grab of a saved product page would save,
//! read from the file alone (no network).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use haul::extract::{self, Extraction};
use haul::media::{MediaKind, Role};

/// Print every photo and video a saved product page holds, in its best quality and with its role
/// (main, gallery, variant, video, description, review), and the links to videos the page embeds
/// from a video platform (YouTube, Vimeo), which a grab lists but does not download. Reads the
/// file only: nothing is downloaded and no network is used. Gzip-compressed pages (`.html.gz`) are read directly.
#[derive(Debug, Parser)]
pub struct Args {
    /// The saved page (`.html`, `.htm` or `.html.gz`).
    #[arg(value_name = "PAGE")]
    pub page: PathBuf,

    /// Where the page came from; without it the page's canonical or og:url address is used.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Print JSON: {"site", "product_id", "title", "page_url", "media": [{"kind", "role", "url",
    /// "variant", "variant_id"}], "links": [{"url", "role", "platform"}], …}.
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
    print!("{out}");
    Ok(ExitCode::SUCCESS)
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
