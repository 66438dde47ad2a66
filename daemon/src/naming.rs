//! Names: of the package (`<site>-<product id>-<slug>.zip`) and of the entries inside it, by one
//! of three schemes ([`Naming`]):
//!
//! * `default` — the product's own pictures at the top (`01-main.jpg`, `02.jpg`, …) and every
//!   other role in a folder of its own: `variant/red-01.jpg`, `swatch/01.jpg`, `video/01.mp4`,
//!   `description/01.jpg`, `review/01.jpg` — so the listing reads first and A+ pictures and
//!   customer photos never mix with it;
//! * `amazon-upload` — Seller Central's bulk image upload: a flat set of
//!   `<ASIN or SKU>.<code>.jpg` — `MAIN`, `PT01`…, `SWCH` — because that upload reads the
//!   identifier and code from the file name and wants nothing else in the ZIP. A picture whose
//!   page or spreadsheet gives it a code keeps it (`PT12`, `FRNT`, `FACT`, `INGR`, …: see
//!   [`SellerSlot`]); the others take `MAIN` and the free `PTnn` in order ([`seller_slots`]).
//!   Images after `PT08` are noted (a listing shows eight). Variants with their own ASIN get their
//!   own set. Only listing images belong in such an upload, so videos, description and review
//!   images are left out (with a note; the manifest lists them);
//! * a user template such as `{product_id}_{role}_{index}.{ext}` ([`Template`]): flat, as the
//!   user wrote it.
//!
//! Every name that reaches the file system goes through [`sanitize`]: no path separators, no
//! `..`, no control or Windows-forbidden characters, no Windows reserved device names, a length
//! cap, and unique within the package (case-insensitively, for case-insensitive file systems) —
//! page titles, variant labels, SKUs and templates are outside input. The one `/` a name may
//! hold is the default scheme's own role folder, which is haul's text, never the page's.

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
        "{0:?} cannot name Seller Central images: use an ASIN or a SKU of letters and digits only (no spaces, dashes or dots), not a name Windows reserves (CON, NUL, COM1, …)"
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
    /// The picture's code where its page or spreadsheet gives one (Amazon's `PT05`, `FACT`, …):
    /// `amazon-upload` keeps it ([`seller_slots`]).
    pub code: Option<&'a str>,
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

/// Entry names by the default scheme. Images of the product (main, gallery) are the package's
/// top level and share one sequence so the gallery reads in order: `01-main.jpg`, `02.jpg`, …;
/// every other role has its own folder and counts on its own (`video/01.mp4`,
/// `description/01.jpg`, `review/01.jpg`), variants per label (`variant/red-01.jpg`).
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
                Role::Variant => {
                    let label = variant_label(e);
                    let n = counter.next(e);
                    if label.is_empty() {
                        format!("{}/{n}.{ext}", e.role.as_str())
                    } else {
                        format!("{}/{label}-{n}.{ext}", e.role.as_str())
                    }
                }
                _ => format!("{}/{}.{ext}", e.role.as_str(), counter.next(e)),
            }
        })
        .collect()
}

/// A variant's label as it appears in names (`Red / XL` → `red-xl`; empty when nothing of it
/// is ASCII).
fn variant_label(e: &EntrySpec<'_>) -> String {
    e.variant.map(|l| slug(l, 40)).unwrap_or_default()
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
    match e.role {
        Role::Variant => {
            let label = variant_label(e);
            if label.is_empty() {
                "variant".to_string()
            } else {
                format!("variant-{label}")
            }
        }
        role => role.as_str().to_string(),
    }
}

/// A Seller Central image slot: the four-character "variant code" between the identifier and
/// the extension (`B000123456.PT02.jpg`), which says what the picture is.
///
/// The codes are Seller Central's own, from its help pages "Image variants" (the table of
/// codes, e.g. sellercentral.amazon.ae help item 8HQAHPDXA9ANPH4) and "Name your image files"
/// (sellercentral.amazon.com.au help item JV4FNMT7563SF5F): `MAIN`; `SWCH`; part shots `PT01`
/// "and so on until `PT99`"; interior shots (book pages) `IN01`–`IN99`; angle shots `TOPP`,
/// `BOTT`, `LEFT`, `RGHT`, `FRNT`, `BACK`, `SIDE`; `PAIR`; fact shots `FACT` (nutrition facts);
/// the energy guide `EEGL`; and, in the table's newer versions, product safety and compliance
/// `PS01`–`PS06`, ingredients `INGR` and multipacks `DTLS`. Amazon's product pages name each
/// picture by the same codes (`"variant": "PT05"` in the image block), which is how a grabbed
/// page's pictures keep their places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SellerSlot {
    Main,
    /// `PTnn`, 1–99. Seller Central shows 1–8 on a listing ([`SELLER_CENTRAL_SHOWN`]).
    Other(u16),
    Swatch,
    /// `INnn`, 1–99: interior shots (sample pages of a book).
    Interior(u16),
    /// `PSnn`, 1–6: product safety and compliance images.
    Safety(u16),
    /// One of [`NAMED_CODES`]: angles (`FRNT`, `BACK`, …), `PAIR`, `FACT`, `INGR`, `EEGL`, `DTLS`.
    Named(&'static str),
}

/// The codes of [`SellerSlot::Named`] (see [`SellerSlot`] for where they come from).
pub const NAMED_CODES: &[&str] = &[
    "TOPP", "BOTT", "LEFT", "RGHT", "FRNT", "BACK", "SIDE", "PAIR", "FACT", "INGR", "EEGL", "DTLS",
];

impl SellerSlot {
    /// The slot's code in a file name.
    pub fn code(self) -> String {
        match self {
            SellerSlot::Main => "MAIN".to_string(),
            SellerSlot::Other(n) => format!("PT{n:02}"),
            SellerSlot::Swatch => "SWCH".to_string(),
            SellerSlot::Interior(n) => format!("IN{n:02}"),
            SellerSlot::Safety(n) => format!("PS{n:02}"),
            SellerSlot::Named(code) => code.to_string(),
        }
    }

    /// The slot a Seller Central code names (`MAIN`, `PT05`, `pt5`, `FACT`, …; any case), or
    /// `None` for a code Seller Central does not know (`PT00`, `PS07`, `XXXX`).
    pub fn parse(text: &str) -> Option<SellerSlot> {
        let upper = text.trim().to_ascii_uppercase();
        let numbered = |prefix: &str, max: u16| {
            upper
                .strip_prefix(prefix)
                .filter(|n| !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<u16>().ok())
                .filter(|n| (1..=max).contains(n))
        };
        match upper.as_str() {
            "MAIN" => Some(SellerSlot::Main),
            "SWCH" => Some(SellerSlot::Swatch),
            code => {
                if let Some(named) = NAMED_CODES.iter().find(|c| **c == code) {
                    Some(SellerSlot::Named(named))
                } else if let Some(n) = numbered("PT", 99) {
                    Some(SellerSlot::Other(n))
                } else if let Some(n) = numbered("IN", 99) {
                    Some(SellerSlot::Interior(n))
                } else {
                    numbered("PS", 6).map(SellerSlot::Safety)
                }
            }
        }
    }
}

/// Seller Central slots for the images of one product (one ASIN or SKU), in order. Each image
/// comes with its role and the code it already has, if any — the code the page gave it, or a
/// spreadsheet's column (`other_image_url5` is `PT05`):
///
/// 1. a code an image carries keeps its meaning (`PT12` stays `PT12`, `FACT` stays `FACT`); when
///    two images claim one code, the first keeps it and the other is placed as if it had none;
/// 2. when no image claimed `MAIN`, the first `Main` image without a code gets it (the first
///    product image without one when there is no `Main`);
/// 3. the other product images without a code take the free `PTnn` in order, and the first
///    `Swatch` image `SWCH` when it is free.
///
/// Images that get no slot (a second swatch, images past `PT99`, videos and other roles) get
/// `None`.
pub fn seller_slots(images: &[(Role, Option<SellerSlot>)]) -> Vec<Option<SellerSlot>> {
    let is_product_image = |r: Role| matches!(r, Role::Main | Role::Gallery | Role::Variant);
    let may_have_a_slot = |r: Role| is_product_image(r) || r == Role::Swatch;
    let mut slots: Vec<Option<SellerSlot>> = vec![None; images.len()];
    let mut taken = std::collections::HashSet::new();
    for (slot, (role, code)) in slots.iter_mut().zip(images) {
        if let Some(code) = code
            && may_have_a_slot(*role)
            && taken.insert(*code)
        {
            *slot = Some(*code);
        }
    }
    if !taken.contains(&SellerSlot::Main) {
        let free = |want: &dyn Fn(Role) -> bool| {
            (0..images.len()).find(|&i| slots[i].is_none() && want(images[i].0))
        };
        if let Some(i) = free(&|r| r == Role::Main).or_else(|| free(&is_product_image)) {
            slots[i] = Some(SellerSlot::Main);
            taken.insert(SellerSlot::Main);
        }
    }
    let mut next = 1u16;
    for (slot, (role, _)) in slots.iter_mut().zip(images) {
        if slot.is_some() {
            continue;
        }
        if is_product_image(*role) {
            while taken.contains(&SellerSlot::Other(next)) {
                next += 1;
            }
            if next <= 99 {
                *slot = Some(SellerSlot::Other(next));
                taken.insert(SellerSlot::Other(next));
            }
        } else if *role == Role::Swatch && taken.insert(SellerSlot::Swatch) {
            *slot = Some(SellerSlot::Swatch);
        }
    }
    slots
}

/// An identifier fit for Seller Central image names: an ASIN or SKU of ASCII letters and digits
/// (Seller Central reads everything up to the first dot as the identifier, and rejects spaces and
/// dashes). ASINs are upper-cased; anything else is refused, never silently changed — a changed
/// SKU would put the images on another product.
pub fn amazon_identifier(raw: &str) -> Result<String, NamingError> {
    let id = raw.trim();
    // A device name (`CON.MAIN.jpg`) cannot be a file on Windows; changing it would change
    // the product, so it is refused like any other unusable identifier.
    if id.is_empty()
        || id.len() > 40
        || !id.chars().all(|c| c.is_ascii_alphanumeric())
        || is_windows_device(id)
    {
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
        let images: Vec<(Role, Option<SellerSlot>)> = members
            .iter()
            .map(|&i| (entries[i].role, entries[i].code.and_then(SellerSlot::parse)))
            .collect();
        let slots = seller_slots(&images);
        let mut shown_beyond = 0;
        for (&i, slot) in members.iter().zip(&slots) {
            match slot {
                Some(slot) => {
                    if matches!(slot, SellerSlot::Other(n) if *n > SELLER_CENTRAL_SHOWN) {
                        shown_beyond += 1;
                    }
                    names[i] = Some(amazon_upload_name(id, *slot, entries[i].ext));
                }
                None if entries[i].role == Role::Swatch => left_out.push("extra swatch images"),
                None => left_out.push("images past PT99"),
            }
        }
        if shown_beyond > 0 {
            notes.push(format!(
                "{id} has {shown_beyond} image(s) in PT{:02}–PT99; Seller Central takes them, but a listing shows only eight other images",
                SELLER_CENTRAL_SHOWN + 1
            ));
        }
        if !members.is_empty() && !slots.contains(&Some(SellerSlot::Main)) {
            notes.push(format!(
                "{id} has no MAIN image in this package; uploading it leaves {id}'s MAIN image on Amazon as it is"
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
/// known, else the request's name (a list file's name), else the product's title (after its
/// site, unless that is the generic reader: `shopify-brass-lamp`, `brass-lamp`), else the first
/// URL's host.
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
    } else if let Some(title) = title.and_then(crate::extract::slug) {
        if let Some(site) = site.filter(|s| *s != crate::extract::GENERIC_SITE) {
            parts.push(slug(site, 20));
        }
        parts.push(title);
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

/// Invisible characters that change how a name reads: bidirectional controls (the
/// right-to-left override makes `photo\u{202E}gpj.exe` show as `photoexe.jpg`), zero-width
/// characters and joiners, the byte-order mark, line and paragraph separators.
fn is_deceptive(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Whether Windows reserves `name` for a device whatever its extension: `CON`, `PRN`, `AUX`,
/// `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9` (also with ¹ ² ³), `CONIN$`, `CONOUT$`, in any case,
/// trailing spaces before the extension ignored (`con .txt` opens the console too).
pub fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end_matches(' ');
    let upper = stem.to_uppercase();
    const RESERVED: &[&str] = &["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];
    if RESERVED.contains(&upper.as_str()) {
        return true;
    }
    let mut chars = upper.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    (prefix == "COM" || prefix == "LPT")
        && matches!(rest.as_slice(), [d] if d.is_ascii_digit() || matches!(d, '¹' | '²' | '³'))
}

/// A name safe as one path component on Linux, macOS and Windows.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() || is_deceptive(c) => '_',
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
    if is_windows_device(&out) {
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
            code: None,
            ext,
        }
    }

    fn coded(role: Role, code: &'static str) -> EntrySpec<'static> {
        EntrySpec {
            code: Some(code),
            ..spec(role, None, "jpg")
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
            code: None,
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
                "variant/red-xl-01.jpg",
                "variant/red-xl-02.jpg",
                "variant/blue-01.webp",
                "swatch/01.jpg",
                "video/01.mp4",
                "description/01.jpg",
                "review/01.jpg"
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
        assert_eq!(got, ["variant/red-01.jpg", "variant/red-02.jpg"]);
        let got = names(
            &Naming::Default,
            &AMAZON,
            &[
                spec(Role::Variant, Some("红色"), "jpg"),
                spec(Role::Variant, Some("../.."), "jpg"),
            ],
        );
        assert_eq!(got, ["variant/01.jpg", "variant/02.jpg"]);
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
    fn amazon_upload_keeps_the_codes_a_page_gives() {
        // The duct-tape page's own codes: MAIN, PT01, FRNT, PT12 and a product-safety PS01; a
        // picture without a code fills the first free PTnn; a code twice keeps the first.
        let entries = [
            coded(Role::Main, "MAIN"),
            coded(Role::Gallery, "PT01"),
            coded(Role::Gallery, "FRNT"),
            spec(Role::Gallery, None, "jpg"),
            coded(Role::Gallery, "PT12"),
            coded(Role::Gallery, "PS01"),
            coded(Role::Gallery, "pt01"),
            coded(Role::Gallery, "XYZW"),
            coded(Role::Description, "PT03"),
        ];
        let named = name_entries(&Naming::AmazonUpload, &AMAZON, &entries);
        let expected: Vec<Option<String>> = [
            "MAIN", "PT01", "FRNT", "PT02", "PT12", "PS01", "PT03", "PT04",
        ]
        .iter()
        .map(|code| Some(format!("B0BRZXRBZL.{code}.jpg")))
        .chain([None])
        .collect();
        assert_eq!(named.names, expected);
        let notes = named.notes.join("\n");
        assert!(notes.contains("PT09–PT99"), "{notes}");
        // A variant set whose page gives no MAIN code keeps its codes and is noted.
        let child = [
            EntrySpec {
                code: Some("PT05"),
                ..with_id(Role::Variant, "Red", "B0RED00001", "jpg")
            },
            EntrySpec {
                code: Some("PT06"),
                ..with_id(Role::Variant, "Red", "B0RED00001", "jpg")
            },
        ];
        let named = name_entries(&Naming::AmazonUpload, &AMAZON, &child);
        assert_eq!(
            named.names,
            [
                Some("B0RED00001.PT05.jpg".to_string()),
                Some("B0RED00001.PT06.jpg".to_string())
            ]
        );
        assert!(
            named
                .notes
                .iter()
                .any(|n| n.contains("B0RED00001 has no MAIN")),
            "{:?}",
            named.notes
        );
    }

    #[test]
    fn seller_central_codes_parse() {
        use SellerSlot::*;
        for (text, slot) in [
            ("MAIN", Main),
            ("swch", Swatch),
            ("PT01", Other(1)),
            ("pt9", Other(9)),
            ("PT15", Other(15)),
            ("PT99", Other(99)),
            ("IN03", Interior(3)),
            ("PS06", Safety(6)),
            ("FACT", Named("FACT")),
            (" ingr ", Named("INGR")),
            ("RGHT", Named("RGHT")),
            ("DTLS", Named("DTLS")),
        ] {
            assert_eq!(SellerSlot::parse(text), Some(slot), "{text}");
            assert_eq!(SellerSlot::parse(&slot.code()), Some(slot), "{text}");
        }
        for bad in [
            "", "PT00", "PT100", "PT+1", "PS07", "IN0", "RIGHT", "PT1A", "pt 1",
        ] {
            assert_eq!(SellerSlot::parse(bad), None, "{bad:?}");
        }
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
        let plain = |roles: &[Role]| -> Vec<(Role, Option<SellerSlot>)> {
            roles.iter().map(|r| (*r, None)).collect()
        };
        assert_eq!(
            seller_slots(&plain(&[
                Role::Main,
                Role::Gallery,
                Role::Gallery,
                Role::Swatch
            ])),
            [Some(Main), Some(Other(1)), Some(Other(2)), Some(Swatch)]
        );
        // No main image: the first product image is the main one; a second swatch has no slot.
        assert_eq!(
            seller_slots(&plain(&[
                Role::Swatch,
                Role::Gallery,
                Role::Gallery,
                Role::Swatch,
                Role::Video
            ])),
            [Some(Swatch), Some(Main), Some(Other(1)), None, None]
        );
        // A flat-file row that fills only `other_image_url3` updates PT03, not MAIN.
        assert_eq!(
            seller_slots(&[(Role::Gallery, Some(Other(3)))]),
            [Some(Other(3))]
        );
        // Codes first, then MAIN, then the free PTnn around the codes.
        assert_eq!(
            seller_slots(&[
                (Role::Gallery, Some(Other(1))),
                (Role::Gallery, None),
                (Role::Main, None),
                (Role::Gallery, None),
                (Role::Video, Some(Other(4))),
            ]),
            [
                Some(Other(1)),
                Some(Other(2)),
                Some(Main),
                Some(Other(3)),
                None
            ]
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
        // A shop's page without a product id is named by its title, not a picture's host.
        assert_eq!(
            package_base_name(
                Some("generic"),
                None,
                Some("Brass desk lamp, large"),
                None,
                Some("https://cdn.example/a.jpg")
            ),
            "brass-desk-lamp-large"
        );
        assert_eq!(
            package_base_name(
                Some("shopify"),
                None,
                Some("Brass desk lamp"),
                None,
                Some("https://cdn.example/a.jpg")
            ),
            "shopify-brass-desk-lamp"
        );
    }

    #[test]
    fn hostile_names_are_made_safe() {
        assert_eq!(sanitize("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitize(".."), "");
        assert_eq!(sanitize("a\0b\nc"), "a_b_c");
        assert_eq!(sanitize("CON"), "_CON");
        for device in [
            "con",
            "Prn.txt",
            "AUX.tar.gz",
            "nul",
            "COM1.MAIN.jpg",
            "com9",
            "LPT1.x",
            "lpt0",
            "COM¹.jpg",
            "con .txt",
            "CONOUT$",
        ] {
            assert!(sanitize(device).starts_with('_'), "{device}");
        }
        for fine in ["CONSOLE.jpg", "COM10.jpg", "LPT.jpg", "NULL", "auxiliary"] {
            assert_eq!(sanitize(fine), fine);
        }
        assert!(amazon_identifier("CON").is_err());
        assert!(amazon_identifier("lpt1").is_err());
        assert!(amazon_identifier("B0CON12345").is_ok());
        // No bidirectional control or invisible character reaches a name.
        for sneaky in [
            "photo\u{202E}gpj.exe",
            "a\u{202A}b\u{202B}c\u{202C}d\u{202D}e",
            "x\u{2066}y\u{2067}z\u{2068}w\u{2069}",
            "l\u{200E}r\u{200F}",
            "zero\u{200B}width",
            "\u{FEFF}bom",
            "arabic\u{061C}mark",
        ] {
            let safe = sanitize(sneaky);
            assert!(!safe.chars().any(is_deceptive), "{safe:?}");
        }
        let base = package_base_name(None, None, None, Some("invoice\u{202E}gpj.exe"), None);
        assert_eq!(base, "invoice_gpj.exe");
        assert_eq!(sanitize("com1.txt"), "_com1.txt");
        assert_eq!(sanitize("C:\\x"), "C__x");
        assert!(sanitize(&"é".repeat(200)).len() <= MAX_COMPONENT);
        assert_eq!(
            package_base_name(None, None, None, Some("../.."), Some("https://h.example/")),
            "h.example"
        );
    }
}
