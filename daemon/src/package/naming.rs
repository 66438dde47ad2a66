//! Names: of the package (`<site>-<product id>-<slug>.zip`) and of the entries inside it, by one
//! of three schemes ([`Naming`]):
//!
//! * `default` — roles in the names: `01-main.jpg`, `02.jpg`, …, `variant-red-01.jpg`,
//!   `swatch-01.jpg`, `video-01.mp4`, `description-01.jpg`, `review-01.jpg`;
//! * `amazon-upload` — Seller Central's bulk image upload: a flat set of
//!   `<ASIN or SKU>.MAIN.jpg`, `.PT01.jpg`–`.PT08.jpg` (more continue as `.PT09`…, with a note
//!   that Seller Central shows eight), `.SWCH.jpg`; variants with their own ASIN get their own
//!   `MAIN`/`PTnn` set. Only listing images belong in such an upload, so videos, description and
//!   review images are left out (with a note). The slot rules are [`seller_slots`], usable on
//!   their own for a SKU and a list of images;
//! * a user template such as `{product_id}_{role}_{index}.{ext}` ([`Template`]).
//!
//! Every name that reaches the file system goes through [`sanitize`]: no path separators, no
//! `..`, no control or Windows-forbidden characters, no Windows reserved device names, a length
//! cap, and unique within the package (case-insensitively, for case-insensitive file systems) —
//! page titles, variant labels, SKUs and templates are outside input.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::media::Role;

/// Longest name component written (bytes), well under every file system's 255.
const MAX_COMPONENT: usize = 120;

/// How many other images (`PT01`–`PT08`) Seller Central shows on a listing.
pub const SELLER_CENTRAL_SHOWN: u16 = 8;

/// A naming scheme that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NamingError {
    #[error(
        "the naming {0:?} is neither `default`, `amazon-upload` nor a template with {{placeholders}}"
    )]
    Unknown(String),
    #[error(
        "the naming template {template:?} uses {{{field}}}, which is not one of {{site}} {{product_id}} {{role}} {{index}} {{variant}} {{ext}}"
    )]
    UnknownField { template: String, field: String },
    #[error("the naming template {0:?} has an unbalanced `{{` or `}}`")]
    Unbalanced(String),
    #[error(
        "{0:?} cannot name Seller Central images: use an ASIN or a SKU of letters and digits only (no spaces, dashes or dots)"
    )]
    BadIdentifier(String),
    #[error(
        "the amazon-upload naming needs the product's ASIN or SKU, and this job has none; it was packaged with the default names"
    )]
    NoIdentifier,
}

/// How the entries of a package are named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Naming {
    /// `01-main.jpg`, `02.jpg`, `variant-red-01.jpg`, `video-01.mp4`, …
    #[default]
    Default,
    /// `<ASIN>.MAIN.jpg`, `<ASIN>.PT01.jpg`, …, `<ASIN>.SWCH.jpg`.
    AmazonUpload,
    /// A user template.
    Template(Template),
}

impl FromStr for Naming {
    type Err = NamingError;

    fn from_str(s: &str) -> Result<Naming, NamingError> {
        match s.trim() {
            "default" => Ok(Naming::Default),
            "amazon-upload" => Ok(Naming::AmazonUpload),
            t if t.contains('{') || t.contains('}') => Template::parse(t).map(Naming::Template),
            _ => Err(NamingError::Unknown(s.to_string())),
        }
    }
}

impl fmt::Display for Naming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Naming::Default => f.write_str("default"),
            Naming::AmazonUpload => f.write_str("amazon-upload"),
            Naming::Template(t) => f.write_str(&t.source),
        }
    }
}

impl Serialize for Naming {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Naming {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Naming, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A parsed user template: literal text and `{field}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Site,
    ProductId,
    Role,
    Index,
    Variant,
    Ext,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(Field),
}

impl Template {
    /// Parses `{site} {product_id} {role} {index} {variant} {ext}` placeholders; `{{` and `}}`
    /// are literal braces. Without `{ext}`, `.{ext}` is appended so every file keeps its type.
    pub fn parse(source: &str) -> Result<Template, NamingError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('{') | None => {
                                return Err(NamingError::Unbalanced(source.to_string()));
                            }
                            Some(c) => name.push(c),
                        }
                    }
                    let field = match name.trim() {
                        "site" => Field::Site,
                        "product_id" => Field::ProductId,
                        "role" => Field::Role,
                        "index" => Field::Index,
                        "variant" => Field::Variant,
                        "ext" => Field::Ext,
                        _ => {
                            return Err(NamingError::UnknownField {
                                template: source.to_string(),
                                field: name,
                            });
                        }
                    };
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Field(field));
                }
                '}' => return Err(NamingError::Unbalanced(source.to_string())),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        if !pieces.contains(&Piece::Field(Field::Ext)) {
            pieces.push(Piece::Text(".".to_string()));
            pieces.push(Piece::Field(Field::Ext));
        }
        Ok(Template {
            source: source.to_string(),
            pieces,
        })
    }

    fn render(&self, product: &ProductNames<'_>, entry: &EntrySpec<'_>, index: &str) -> String {
        let ext = sanitize_ext(entry.ext);
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(Field::Site) => out.push_str(&slug(product.site.unwrap_or(""), 20)),
                Piece::Field(Field::ProductId) => {
                    out.push_str(&sanitize(product.product_id.unwrap_or("")))
                }
                Piece::Field(Field::Role) => out.push_str(entry.role.as_str()),
                Piece::Field(Field::Index) => out.push_str(index),
                Piece::Field(Field::Variant) => {
                    out.push_str(&slug(entry.variant.unwrap_or(""), 40))
                }
                Piece::Field(Field::Ext) => out.push_str(&ext),
            }
        }
        out
    }
}

/// What the package is of, for names that carry it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProductNames<'a> {
    pub site: Option<&'a str>,
    /// The ASIN / item id (for `amazon-upload`, the ASIN or SKU).
    pub product_id: Option<&'a str>,
}

/// One entry to name: its role, variant and file extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySpec<'a> {
    pub role: Role,
    pub variant: Option<&'a str>,
    /// The variant's own product id (an Amazon child ASIN).
    pub variant_id: Option<&'a str>,
    pub ext: &'a str,
}

/// The names of a package's entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryNames {
    /// One per entry, in order; `None` for an entry the scheme leaves out of the package.
    pub names: Vec<Option<String>>,
    /// What the user should know (entries left out, Seller Central limits, a fallback).
    pub notes: Vec<String>,
}

/// Names `entries` (in package order) by `naming`.
pub fn name_entries(
    naming: &Naming,
    product: &ProductNames<'_>,
    entries: &[EntrySpec<'_>],
) -> EntryNames {
    let mut named = match naming {
        Naming::Default => EntryNames {
            names: default_names(entries).into_iter().map(Some).collect(),
            notes: Vec::new(),
        },
        Naming::Template(t) => EntryNames {
            names: template_names(t, product, entries)
                .into_iter()
                .map(Some)
                .collect(),
            notes: Vec::new(),
        },
        Naming::AmazonUpload => match amazon_upload_names(product, entries) {
            Ok(named) => named,
            Err(e) => EntryNames {
                names: default_names(entries).into_iter().map(Some).collect(),
                notes: vec![e.to_string()],
            },
        },
    };
    make_unique(&mut named.names);
    named
}

/// Entry names by the default scheme. Images of the product (main, gallery) share one sequence
/// so the gallery reads in order: `01-main.jpg`, `02.jpg`, …; every other role counts on its own
/// (`video-01.mp4`), variants per label.
fn default_names(entries: &[EntrySpec<'_>]) -> Vec<String> {
    let gallery_count = entries
        .iter()
        .filter(|e| matches!(e.role, Role::Main | Role::Gallery))
        .count();
    let mut gallery_n = 0;
    let mut counter = GroupCounter::new(entries);
    entries
        .iter()
        .map(|e| {
            let ext = sanitize_ext(e.ext);
            match e.role {
                Role::Main | Role::Gallery => {
                    gallery_n += 1;
                    let n = format!("{gallery_n:0w$}", w = pad_width(gallery_count));
                    if e.role == Role::Main {
                        format!("{n}-main.{ext}")
                    } else {
                        format!("{n}.{ext}")
                    }
                }
                _ => format!("{}-{}.{ext}", group_key(e), counter.next(e)),
            }
        })
        .collect()
}

fn template_names(
    template: &Template,
    product: &ProductNames<'_>,
    entries: &[EntrySpec<'_>],
) -> Vec<String> {
    let mut counter = GroupCounter::new(entries);
    let fallback = default_names(entries);
    entries
        .iter()
        .zip(fallback)
        .map(|(e, fallback)| {
            let rendered = template.render(product, e, &counter.next(e));
            let name = sanitize_file_name(&rendered);
            // A template whose fields were all empty (no product id, …) names nothing.
            let ext = sanitize_ext(e.ext);
            if name
                .replacen(&ext, "", 1)
                .chars()
                .any(char::is_alphanumeric)
            {
                name
            } else {
                fallback
            }
        })
        .collect()
}

/// Numbers entries within their group (role, and label for variants), zero-padded to the
/// group's size: `01`, `02`, …
struct GroupCounter {
    totals: HashMap<String, usize>,
    seen: HashMap<String, usize>,
}

impl GroupCounter {
    fn new(entries: &[EntrySpec<'_>]) -> GroupCounter {
        let mut totals: HashMap<String, usize> = HashMap::new();
        for e in entries {
            *totals.entry(group_key(e)).or_default() += 1;
        }
        GroupCounter {
            totals,
            seen: HashMap::new(),
        }
    }

    fn next(&mut self, e: &EntrySpec<'_>) -> String {
        let key = group_key(e);
        let total = self.totals.get(&key).copied().unwrap_or(1);
        let n = self.seen.entry(key).or_default();
        *n += 1;
        format!("{:0w$}", *n, w = pad_width(total))
    }
}

fn pad_width(count: usize) -> usize {
    count.to_string().len().max(2)
}

fn group_key(e: &EntrySpec<'_>) -> String {
    match (e.role, e.variant) {
        (Role::Variant, Some(label)) => {
            let label = slug(label, 40);
            if label.is_empty() {
                "variant".to_string()
            } else {
                format!("variant-{label}")
            }
        }
        (role, _) => role.as_str().to_string(),
    }
}

/// A Seller Central image slot: `MAIN`, `PT01`…, `SWCH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SellerSlot {
    Main,
    /// `PTnn`, from 1. Seller Central shows 1–8 ([`SELLER_CENTRAL_SHOWN`]).
    Other(u16),
    Swatch,
}

impl SellerSlot {
    /// The slot's code in a file name.
    pub fn code(self) -> String {
        match self {
            SellerSlot::Main => "MAIN".to_string(),
            SellerSlot::Other(n) => format!("PT{n:02}"),
            SellerSlot::Swatch => "SWCH".to_string(),
        }
    }
}

/// Seller Central slots for the images of one product (one ASIN or SKU), in order: the first
/// `Main` image gets `MAIN` (the first gallery image when there is no `Main`), the other product
/// images `PT01`, `PT02`, … in order, the first `Swatch` image `SWCH`. Images that have no slot
/// (a second swatch; videos and other roles) get `None`.
///
/// A SKU package (a spreadsheet row of `main_image_url`, `other_image_url1`…, `swatch_image_url`)
/// maps its columns to `Main`, `Gallery`… and `Swatch` and calls this directly.
pub fn seller_slots(roles: &[Role]) -> Vec<Option<SellerSlot>> {
    let is_product_image = |r: &Role| matches!(r, Role::Main | Role::Gallery | Role::Variant);
    let main_at = roles
        .iter()
        .position(|r| *r == Role::Main)
        .or_else(|| roles.iter().position(is_product_image));
    let mut others = 0u16;
    let mut swatch_taken = false;
    roles
        .iter()
        .enumerate()
        .map(|(i, role)| match role {
            _ if Some(i) == main_at => Some(SellerSlot::Main),
            r if is_product_image(r) => {
                others = others.saturating_add(1);
                Some(SellerSlot::Other(others))
            }
            Role::Swatch if !swatch_taken => {
                swatch_taken = true;
                Some(SellerSlot::Swatch)
            }
            _ => None,
        })
        .collect()
}

/// An identifier fit for Seller Central image names: an ASIN or SKU of ASCII letters and digits
/// (Seller Central reads everything up to the first dot as the identifier, and rejects spaces and
/// dashes). ASINs are upper-cased; anything else is refused, never silently changed — a changed
/// SKU would put the images on another product.
pub fn amazon_identifier(raw: &str) -> Result<String, NamingError> {
    let id = raw.trim();
    if id.is_empty() || id.len() > 40 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(NamingError::BadIdentifier(raw.to_string()));
    }
    Ok(id.to_string())
}

/// `<identifier>.<SLOT>.<ext>`, the Seller Central bulk-upload name (the identifier from
/// [`amazon_identifier`]).
pub fn amazon_upload_name(identifier: &str, slot: SellerSlot, ext: &str) -> String {
    format!("{identifier}.{}.{}", slot.code(), sanitize_ext(ext))
}

/// File types Seller Central's image upload accepts (by extension); others must be converted.
pub fn amazon_accepts_ext(ext: &str) -> bool {
    matches!(
        ext.to_ascii_lowercase().as_str(),
        "jpg" | "jpeg" | "png" | "tif" | "tiff" | "gif"
    )
}

fn amazon_upload_names(
    product: &ProductNames<'_>,
    entries: &[EntrySpec<'_>],
) -> Result<EntryNames, NamingError> {
    let parent = amazon_identifier(product.product_id.ok_or(NamingError::NoIdentifier)?)?;
    let mut names: Vec<Option<String>> = vec![None; entries.len()];
    let mut notes = Vec::new();
    let mut left_out: Vec<&'static str> = Vec::new();
    // Every identifier's images, in order: the product's own, then each variant's.
    let mut groups: Vec<(String, Vec<usize>)> = vec![(parent.clone(), Vec::new())];
    for (i, e) in entries.iter().enumerate() {
        let group = match e.role {
            Role::Main | Role::Gallery | Role::Swatch => 0,
            Role::Variant => match e.variant_id.map(amazon_identifier) {
                Some(Ok(child)) if child != parent => {
                    match groups.iter().position(|(id, _)| *id == child) {
                        Some(g) => g,
                        None => {
                            groups.push((child, Vec::new()));
                            groups.len() - 1
                        }
                    }
                }
                Some(Ok(_)) => 0,
                _ => {
                    left_out.push("variant images without their own ASIN");
                    continue;
                }
            },
            Role::Video => {
                left_out.push("videos");
                continue;
            }
            Role::Description => {
                left_out.push("description (A+) images");
                continue;
            }
            Role::Review => {
                left_out.push("review images");
                continue;
            }
        };
        if !amazon_accepts_ext(e.ext) {
            left_out.push("images in a format Seller Central does not accept");
            continue;
        }
        groups[group].1.push(i);
    }
    for (id, members) in &groups {
        let roles: Vec<Role> = members.iter().map(|&i| entries[i].role).collect();
        let slots = seller_slots(&roles);
        let mut shown_beyond = 0;
        for (&i, slot) in members.iter().zip(slots) {
            match slot {
                Some(slot) => {
                    if matches!(slot, SellerSlot::Other(n) if n > SELLER_CENTRAL_SHOWN) {
                        shown_beyond += 1;
                    }
                    names[i] = Some(amazon_upload_name(id, slot, entries[i].ext));
                }
                None => left_out.push("extra swatch images"),
            }
        }
        if shown_beyond > 0 {
            notes.push(format!(
                "{id} has {shown_beyond} image(s) after PT{SELLER_CENTRAL_SHOWN:02}; they are named PT{:02} onwards, but Seller Central shows only eight other images",
                SELLER_CENTRAL_SHOWN + 1
            ));
        }
    }
    left_out.sort_unstable();
    left_out.dedup();
    if !left_out.is_empty() {
        notes.push(format!(
            "left out of the Seller Central upload (listed in the manifest, not in the package): {}",
            left_out.join(", ")
        ));
    }
    Ok(EntryNames { names, notes })
}

/// Appends ` (2)`, ` (3)`, … before the extension of repeated names (compared without case).
fn make_unique(names: &mut [Option<String>]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for name in names.iter_mut().flatten() {
        let count = seen.entry(name.to_lowercase()).or_default();
        *count += 1;
        if *count > 1 {
            let (stem, ext) = split_ext(name);
            *name = format!("{stem} ({count}){ext}");
        }
    }
}

fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

/// The package's base name (without extension): `<site>-<product id>-<slug>` when the product is
/// known, else the request's name (a list file's name), else the first URL's host.
pub fn package_base_name(
    site: Option<&str>,
    product_id: Option<&str>,
    title: Option<&str>,
    name_hint: Option<&str>,
    first_url: Option<&str>,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let (Some(site), Some(id)) = (site, product_id) {
        parts.push(slug(site, 20));
        parts.push(sanitize(id));
        if let Some(s) = title.and_then(crate::extract::slug) {
            parts.push(s);
        }
    } else if let Some(hint) = name_hint
        .map(sanitize)
        .filter(|h| h.chars().any(char::is_alphanumeric))
    {
        parts.push(hint);
    } else if let Some(host) = first_url
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_string))
    {
        parts.push(sanitize(&host));
    }
    let name = parts.join("-");
    if name.is_empty() {
        "haul".to_string()
    } else {
        sanitize(&name)
    }
}

/// A lower-case, ASCII, dash-separated form of `text`, at most `max` bytes.
pub fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
        if out.len() >= max {
            break;
        }
    }
    out.truncate(max);
    out.trim_end_matches('-').to_string()
}

/// A name safe as one path component on Linux, macOS and Windows.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    // Leading dots would hide the file (and `..` would climb); trailing dots and spaces are
    // dropped by Windows.
    out = out
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
        .to_string();
    if out.len() > MAX_COMPONENT {
        let mut cut = MAX_COMPONENT;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out = out.trim_end_matches(['.', ' ']).to_string();
    }
    let stem = out
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    const RESERVED: &[&str] = &["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];
    let numbered = (stem.starts_with("COM") || stem.starts_with("LPT"))
        && stem.len() == 4
        && stem.as_bytes()[3].is_ascii_digit();
    if RESERVED.contains(&stem.as_str()) || numbered {
        out.insert(0, '_');
    }
    out
}

/// [`sanitize`] for a file name with an extension: runs of dots become one (no `..` anywhere),
/// and the length cap cuts the stem, never the extension.
fn sanitize_file_name(name: &str) -> String {
    let mut collapsed = String::with_capacity(name.len());
    for c in name.chars() {
        if !(c == '.' && collapsed.ends_with('.')) {
            collapsed.push(c);
        }
    }
    let (stem, ext) = split_ext(&collapsed);
    let room = MAX_COMPONENT.saturating_sub(ext.len());
    let mut cut = stem.len().min(room);
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    sanitize(&format!("{}{ext}", &stem[..cut]))
}

fn sanitize_ext(ext: &str) -> String {
    let e: String = ext
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    if e.is_empty() {
        "bin".to_string()
    } else {
        e.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(role: Role, variant: Option<&'static str>, ext: &'static str) -> EntrySpec<'static> {
        EntrySpec {
            role,
            variant,
            variant_id: None,
            ext,
        }
    }

    fn with_id(
        role: Role,
        variant: &'static str,
        id: &'static str,
        ext: &'static str,
    ) -> EntrySpec<'static> {
        EntrySpec {
            role,
            variant: Some(variant),
            variant_id: Some(id),
            ext,
        }
    }

    const AMAZON: ProductNames<'static> = ProductNames {
        site: Some("amazon"),
        product_id: Some("B0BRZXRBZL"),
    };

    fn names(
        naming: &Naming,
        product: &ProductNames<'_>,
        entries: &[EntrySpec<'_>],
    ) -> Vec<String> {
        name_entries(naming, product, entries)
            .names
            .into_iter()
            .map(|n| n.unwrap_or_else(|| "<left out>".into()))
            .collect()
    }

    #[test]
    fn entries_are_named_by_role_and_order() {
        let names = names(
            &Naming::Default,
            &AMAZON,
            &[
                spec(Role::Main, None, "jpg"),
                spec(Role::Gallery, None, "jpg"),
                spec(Role::Gallery, None, "png"),
                spec(Role::Variant, Some("Red / XL"), "jpg"),
                spec(Role::Variant, Some("Red / XL"), "jpg"),
                spec(Role::Variant, Some("Blue"), "webp"),
                spec(Role::Swatch, None, "jpg"),
                spec(Role::Video, None, "mp4"),
                spec(Role::Description, None, "jpg"),
                spec(Role::Review, None, "jpg"),
            ],
        );
        assert_eq!(
            names,
            [
                "01-main.jpg",
                "02.jpg",
                "03.png",
                "variant-red-xl-01.jpg",
                "variant-red-xl-02.jpg",
                "variant-blue-01.webp",
                "swatch-01.jpg",
                "video-01.mp4",
                "description-01.jpg",
                "review-01.jpg"
            ]
        );
    }

    #[test]
    fn wide_galleries_pad_to_the_count() {
        let specs: Vec<_> = (0..120)
            .map(|i| spec(if i == 0 { Role::Main } else { Role::Gallery }, None, "jpg"))
            .collect();
        let names = names(&Naming::Default, &AMAZON, &specs);
        assert_eq!(names[0], "001-main.jpg");
        assert_eq!(names[119], "120.jpg");
    }

    #[test]
    fn labels_that_slug_alike_stay_unique() {
        let got = names(
            &Naming::Default,
            &AMAZON,
            &[
                spec(Role::Variant, Some("Red!"), "jpg"),
                spec(Role::Variant, Some("red?"), "jpg"),
            ],
        );
        assert_eq!(got, ["variant-red-01.jpg", "variant-red-02.jpg"]);
        let got = names(
            &Naming::Default,
            &AMAZON,
            &[spec(Role::Variant, Some("红色"), "jpg")],
        );
        assert_eq!(got, ["variant-01.jpg"]);
    }

    #[test]
    fn naming_parses_and_prints_back() {
        for text in [
            "default",
            "amazon-upload",
            "{product_id}_{role}_{index}.{ext}",
        ] {
            let naming: Naming = text.parse().unwrap();
            assert_eq!(naming.to_string(), text);
        }
        assert_eq!(" default ".parse::<Naming>().unwrap(), Naming::Default);
        assert!(matches!(
            "amazon".parse::<Naming>(),
            Err(NamingError::Unknown(_))
        ));
        assert!(matches!(
            "{sku}-{index}".parse::<Naming>(),
            Err(NamingError::UnknownField { field, .. }) if field == "sku"
        ));
        assert!(matches!(
            "{role".parse::<Naming>(),
            Err(NamingError::Unbalanced(_))
        ));
        assert!(matches!(
            "role}".parse::<Naming>(),
            Err(NamingError::Unbalanced(_))
        ));
    }

    #[test]
    fn amazon_upload_gives_seller_central_names() {
        let mut entries = vec![spec(Role::Main, None, "jpg")];
        entries.extend((0..9).map(|_| spec(Role::Gallery, None, "jpg")));
        entries.push(spec(Role::Gallery, None, "png"));
        entries.push(with_id(Role::Variant, "Red", "B0RED00001", "jpg"));
        entries.push(with_id(Role::Variant, "Red", "B0RED00001", "tif"));
        entries.push(spec(Role::Variant, Some("Blue"), "jpg"));
        entries.push(spec(Role::Swatch, None, "gif"));
        entries.push(spec(Role::Video, None, "mp4"));
        entries.push(spec(Role::Description, None, "jpg"));
        let named = name_entries(&Naming::AmazonUpload, &AMAZON, &entries);
        let got: Vec<Option<&str>> = named.names.iter().map(|n| n.as_deref()).collect();
        assert_eq!(
            got,
            [
                Some("B0BRZXRBZL.MAIN.jpg"),
                Some("B0BRZXRBZL.PT01.jpg"),
                Some("B0BRZXRBZL.PT02.jpg"),
                Some("B0BRZXRBZL.PT03.jpg"),
                Some("B0BRZXRBZL.PT04.jpg"),
                Some("B0BRZXRBZL.PT05.jpg"),
                Some("B0BRZXRBZL.PT06.jpg"),
                Some("B0BRZXRBZL.PT07.jpg"),
                Some("B0BRZXRBZL.PT08.jpg"),
                Some("B0BRZXRBZL.PT09.jpg"),
                Some("B0BRZXRBZL.PT10.png"),
                Some("B0RED00001.MAIN.jpg"),
                Some("B0RED00001.PT01.tif"),
                None,
                Some("B0BRZXRBZL.SWCH.gif"),
                None,
                None,
            ]
        );
        let notes = named.notes.join("\n");
        assert!(notes.contains("shows only eight"), "{notes}");
        assert!(notes.contains("PT09"), "{notes}");
        assert!(notes.contains("videos"), "{notes}");
        assert!(notes.contains("without their own ASIN"), "{notes}");
        assert!(notes.contains("description"), "{notes}");
    }

    #[test]
    fn amazon_upload_needs_a_clean_identifier() {
        let entries = [
            spec(Role::Main, None, "jpg"),
            spec(Role::Gallery, None, "jpg"),
        ];
        for bad in [None, Some("AB-12"), Some("a b"), Some("x.y"), Some("")] {
            let product = ProductNames {
                site: Some("amazon"),
                product_id: bad,
            };
            let named = name_entries(&Naming::AmazonUpload, &product, &entries);
            assert_eq!(
                named.names,
                [Some("01-main.jpg".to_string()), Some("02.jpg".to_string())],
                "{bad:?} falls back to the default names"
            );
            assert_eq!(named.notes.len(), 1, "{bad:?}");
        }
        assert_eq!(amazon_identifier(" SKU123 ").unwrap(), "SKU123");
        assert!(amazon_identifier("SKU-123").is_err());
    }

    #[test]
    fn seller_slots_for_a_sku_row() {
        use SellerSlot::*;
        assert_eq!(
            seller_slots(&[Role::Main, Role::Gallery, Role::Gallery, Role::Swatch]),
            [Some(Main), Some(Other(1)), Some(Other(2)), Some(Swatch)]
        );
        // No main image: the first product image is the main one; a second swatch has no slot.
        assert_eq!(
            seller_slots(&[
                Role::Swatch,
                Role::Gallery,
                Role::Gallery,
                Role::Swatch,
                Role::Video
            ]),
            [Some(Swatch), Some(Main), Some(Other(1)), None, None]
        );
        assert_eq!(Other(9).code(), "PT09");
        assert_eq!(amazon_upload_name("SKU1", Other(3), "JPG"), "SKU1.PT03.jpg");
    }

    #[test]
    fn templates_fill_fields_and_stay_safe() {
        let naming: Naming = "{site}_{product_id}_{role}_{index}{variant}"
            .parse()
            .unwrap();
        let got = names(
            &naming,
            &AMAZON,
            &[
                spec(Role::Main, None, "jpg"),
                spec(Role::Gallery, None, "jpg"),
                spec(Role::Variant, Some("Dark Red"), "webp"),
            ],
        );
        assert_eq!(
            got,
            [
                "amazon_B0BRZXRBZL_main_01.jpg",
                "amazon_B0BRZXRBZL_gallery_01.jpg",
                "amazon_B0BRZXRBZL_variant_01dark-red.webp"
            ]
        );
        // Separators, `..`, reserved names, length, and repeats.
        let hostile: Naming = "../{product_id}/..{role}..{{x}}".parse().unwrap();
        let product = ProductNames {
            site: None,
            product_id: Some("CON"),
        };
        let got = names(
            &hostile,
            &product,
            &[spec(Role::Main, None, "jpg"), spec(Role::Main, None, "jpg")],
        );
        assert_eq!(got, ["__CON_.main.{x}.jpg", "__CON_.main.{x} (2).jpg"]);
        for name in &got {
            assert!(!name.contains('/') && !name.contains(".."), "{name}");
        }
        let long: Naming = format!("{}{{index}}", "x".repeat(300)).parse().unwrap();
        let got = names(&long, &AMAZON, &[spec(Role::Gallery, None, "jpeg")]);
        assert!(got[0].len() <= MAX_COMPONENT, "{}", got[0]);
        assert!(got[0].ends_with(".jpeg"), "{}", got[0]);
        // Fields that are all empty fall back to the default name.
        let empty: Naming = "{product_id}{variant}".parse().unwrap();
        let got = names(
            &empty,
            &ProductNames::default(),
            &[spec(Role::Main, None, "jpg")],
        );
        assert_eq!(got, ["01-main.jpg"]);
        let reserved: Naming = "{variant}".parse().unwrap();
        let nul = names(
            &reserved,
            &AMAZON,
            &[spec(Role::Variant, Some("Nul"), "jpg")],
        );
        assert_eq!(nul, ["_nul.jpg"]);
    }

    #[test]
    fn package_names() {
        assert_eq!(
            package_base_name(
                Some("amazon"),
                Some("B0BRZXRBZL"),
                Some("Dog Life Jacket, Ripstop!"),
                None,
                None
            ),
            "amazon-B0BRZXRBZL-dog-life-jacket-ripstop"
        );
        assert_eq!(
            package_base_name(
                None,
                None,
                None,
                Some("p0001"),
                Some("https://x.example/a.jpg")
            ),
            "p0001"
        );
        assert_eq!(
            package_base_name(
                None,
                None,
                None,
                None,
                Some("https://cdn.example:8443/a.jpg")
            ),
            "cdn.example"
        );
        assert_eq!(package_base_name(None, None, None, None, None), "haul");
    }

    #[test]
    fn hostile_names_are_made_safe() {
        assert_eq!(sanitize("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitize(".."), "");
        assert_eq!(sanitize("a\0b\nc"), "a_b_c");
        assert_eq!(sanitize("CON"), "_CON");
        assert_eq!(sanitize("com1.txt"), "_com1.txt");
        assert_eq!(sanitize("C:\\x"), "C__x");
        assert!(sanitize(&"é".repeat(200)).len() <= MAX_COMPONENT);
        assert_eq!(
            package_base_name(None, None, None, Some("../.."), Some("https://h.example/")),
            "h.example"
        );
    }
}
