//! Exports: the products of finished jobs as one sheet a shop imports — `haul export` and the
//! status page's `GET /api/v1/export` both come here.
//!
//! Why: a seller who saved a product's pictures needs its listing too, in the form their shop's
//! importer reads, without copying it by hand or uploading it to somebody else's service.
//!
//! How, in order:
//!
//! 1. [`load`] reads each job from the journal (never from the package, which the user may have
//!    moved): the product's facts (`product.json`), and every saved medium with its original
//!    address — the importers fetch pictures by URL — and its entry name in the package
//!    (journaled at packaging; from the package's `manifest.json` for jobs packaged before
//!    that). Only ended jobs export; a job with no facts still exports its name and pictures.
//! 2. One module per format turns the products into a [`Table`] — [`shopify`] (Shopify's
//!    product CSV: a row per variant and per further picture), [`woocommerce`] (WooCommerce's
//!    built-in importer: a `variable` product and its `variation` rows) and [`plain`] (every
//!    fact, a row per product and per variant) — all from this module's shared [`Product`].
//! 3. [`render`] writes the table as CSV (formula-safe like `manifest.csv`, through the same
//!    writer) or, for `xlsx`, as a workbook ([`xlsx`]).
//!
//! Several jobs — an inbox file's, a batch grab's, or any ids — make one sheet.

pub mod plain;
pub mod shopify;
pub mod table;
pub mod woocommerce;
pub mod xlsx;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use haul_protocol::message::{ItemState, JobId, JobState, MediaKind};
use thiserror::Error;

use crate::extract::ProductFacts;
use crate::extract::facts::{Availability, VariantFacts};
use crate::journal::{ItemRecord, JobRecord, Journal, JournalError};
use crate::media::{Link, Role};

pub use table::{Cell, Table};

/// The formats haul exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Shopify's product import CSV.
    Shopify,
    /// WooCommerce's built-in product CSV importer.
    WooCommerce,
    /// Every fact, as CSV.
    Csv,
    /// Every fact, as an Excel workbook.
    Xlsx,
}

impl Format {
    /// Every format, in the order the docs list them.
    pub const ALL: [Format; 4] = [
        Format::Shopify,
        Format::WooCommerce,
        Format::Csv,
        Format::Xlsx,
    ];

    /// The name on the command line and in the API (`shopify`, `woocommerce`, `csv`, `xlsx`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Shopify => "shopify",
            Format::WooCommerce => "woocommerce",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// The file's extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            _ => "csv",
        }
    }

    /// The file's media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            _ => "text/csv; charset=utf-8",
        }
    }

    /// A file name for the export of `jobs`: `haul-shopify-12.csv`, `haul-csv-12-13-14.xlsx`,
    /// `haul-woocommerce-12-and-9-more.csv`.
    pub fn file_name(self, jobs: &[JobId]) -> String {
        let ids: Vec<String> = jobs.iter().map(JobId::to_string).collect();
        let which = if ids.len() <= 3 {
            ids.join("-")
        } else {
            format!("{}-and-{}-more", ids[0], ids.len() - 1)
        };
        format!("haul-{}-{which}.{}", self.as_str(), self.extension())
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an export could not be made. Each message says what to do.
#[derive(Debug, Error)]
pub enum ExportError {
    #[error("there is no job {0}; `haul status` lists the jobs haul knows")]
    NoSuchJob(JobId),
    #[error("job {job} is still {state}; export it once it has ended")]
    NotFinished { job: JobId, state: &'static str },
    #[error("no jobs to export: name them by id (`haul status` lists them)")]
    NoJobs,
    #[error("cannot write the workbook: {0}")]
    Workbook(String),
    #[error(transparent)]
    Journal(JournalError),
}

impl From<JournalError> for ExportError {
    fn from(e: JournalError) -> ExportError {
        match e {
            JournalError::NoSuchJob(job) => ExportError::NoSuchJob(job),
            other => ExportError::Journal(other),
        }
    }
}

/// One product as every format sees it: a job's facts and its saved media.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub job: JobId,
    /// The product's name: the page's, else the job's title or label.
    pub name: String,
    pub site: Option<String>,
    pub product_id: Option<String>,
    pub parent_id: Option<String>,
    pub page_url: Option<String>,
    /// The package on disk (as recorded; it may have been moved since).
    pub package: Option<PathBuf>,
    pub facts: ProductFacts,
    /// The saved media, in package order.
    pub media: Vec<Medium>,
    /// Videos on a video platform: listed, never downloaded.
    pub links: Vec<Link>,
}

/// A saved medium: where it came from and what it is called in the package.
#[derive(Debug, Clone, PartialEq)]
pub struct Medium {
    /// Its original address (what importers fetch).
    pub url: String,
    /// Its entry name in the package (`02.jpg`); `None` when the naming left it out.
    pub file: Option<String>,
    pub kind: MediaKind,
    pub role: Role,
    pub variant: Option<String>,
    pub variant_id: Option<String>,
}

impl Product {
    /// The pictures a shop lists the product with: its main, gallery and variant images (not
    /// description or customers' pictures, nor videos), each once.
    pub fn listing_pictures(&self) -> Vec<&Medium> {
        let mut seen = HashSet::new();
        self.media
            .iter()
            .filter(|m| {
                m.kind == MediaKind::Image
                    && matches!(m.role, Role::Main | Role::Gallery | Role::Variant)
            })
            .filter(|m| seen.insert(m.url.as_str()))
            .collect()
    }

    /// The saved pictures of `variant`: those its facts name (by address, or the same picture
    /// in another size), else those the extraction labelled with its id or label.
    pub fn variant_pictures(&self, variant: &VariantFacts) -> Vec<&Medium> {
        let images = || self.media.iter().filter(|m| m.kind == MediaKind::Image);
        let wanted: HashSet<String> = variant.pictures.iter().map(|u| same_picture(u)).collect();
        let named: Vec<&Medium> = images()
            .filter(|m| wanted.contains(&same_picture(&m.url)))
            .collect();
        if !named.is_empty() || !variant.pictures.is_empty() {
            return named;
        }
        images()
            .filter(|m| {
                (m.variant_id.is_some() && m.variant_id == variant.id)
                    || (m.variant.is_some() && m.variant == variant.label)
            })
            .collect()
    }

    /// The option axes its variants vary by (`color`, `size`), in the order first seen; `Option`
    /// when variants carry labels only.
    pub fn option_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for v in &self.facts.variants {
            for a in &v.attributes {
                if !names.iter().any(|n| n.eq_ignore_ascii_case(&a.name)) {
                    names.push(a.name.clone());
                }
            }
        }
        if names.is_empty() && !self.facts.variants.is_empty() {
            names.push("Option".into());
        }
        names
    }

    /// A variant's value on each of `axes`: its attribute, else its label (or its number) —
    /// importers refuse a variant without a value.
    pub fn option_values(&self, n: usize, variant: &VariantFacts, axes: &[String]) -> Vec<String> {
        axes.iter()
            .map(|axis| {
                variant
                    .attributes
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(axis))
                    .map(|a| a.value.clone())
                    .or_else(|| variant.label.clone())
                    .unwrap_or_else(|| format!("Variant {}", n + 1))
            })
            .collect()
    }

    /// The description as HTML: the page's text (escaped, line breaks kept) and its bullet
    /// points as a list.
    pub fn description_html(&self) -> String {
        let mut html = String::new();
        if let Some(text) = &self.facts.description {
            html.push_str("<p>");
            html.push_str(&escape_html(text).replace('\n', "<br>"));
            html.push_str("</p>");
        }
        html.push_str(&features_html(&self.facts.features));
        html
    }
}

/// The bullet points as an HTML list (empty when there are none).
pub fn features_html(features: &[String]) -> String {
    if features.is_empty() {
        return String::new();
    }
    let items: String = features
        .iter()
        .map(|f| format!("<li>{}</li>", escape_html(f)))
        .collect();
    format!("<ul>{items}</ul>")
}

/// Text made safe inside HTML.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What identifies a picture whatever size its address names.
fn same_picture(url: &str) -> String {
    crate::extract::cdn::asset_id(&crate::extract::cdn::largest(url))
}

/// Names no two products of a sheet share: the first keeps `base`, later ones get `-2`, `-3`…
#[derive(Debug, Default)]
pub struct UniqueNames(HashSet<String>);

impl UniqueNames {
    /// `base`, or `base-N` for the first N that is free (compared without case).
    pub fn claim(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut n = 1;
        while !self.0.insert(name.to_lowercase()) {
            n += 1;
            name = format!("{base}-{n}");
        }
        name
    }
}

/// A URL-safe name for the product (`linen-tee`), from its name, else its id, else its job.
pub fn handle_of(product: &Product) -> String {
    let from_name = crate::naming::slug(&product.name, 80);
    if !from_name.is_empty() {
        return from_name;
    }
    product
        .product_id
        .as_deref()
        .map(|id| crate::naming::slug(id, 80))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("product-{}", product.job))
}

/// The availability in words importers and people read (`InStock` → `in stock`).
pub fn availability_words(a: Availability) -> &'static str {
    match a {
        Availability::InStock => "in stock",
        Availability::OutOfStock => "out of stock",
        Availability::PreOrder => "pre-order",
        Availability::BackOrder => "back order",
        Availability::Discontinued => "discontinued",
        Availability::LimitedAvailability => "limited availability",
    }
}

/// The products of `jobs`, in the order given (each once), read from the journal.
pub fn load(journal: &Journal, jobs: &[JobId]) -> Result<Vec<Product>, ExportError> {
    if jobs.is_empty() {
        return Err(ExportError::NoJobs);
    }
    let mut seen = HashSet::new();
    let mut products = Vec::new();
    for &id in jobs.iter().filter(|id| seen.insert(**id)) {
        let job = journal.job(id)?;
        if !job.state.is_terminal() {
            return Err(ExportError::NotFinished {
                job: id,
                state: job.state.as_str(),
            });
        }
        let items = journal.items(id)?;
        products.push(product_of(&job, &items));
    }
    Ok(products)
}

/// One job's product.
fn product_of(job: &JobRecord, items: &[ItemRecord]) -> Product {
    let saved: Vec<&ItemRecord> = items
        .iter()
        .filter(|i| i.state == ItemState::Saved)
        .collect();
    // Jobs packaged before the journal kept entry names: their package's manifest has them.
    let from_manifest: HashMap<String, String> = if !saved.is_empty()
        && saved.iter().all(|i| i.entry.is_none())
        && job.state != JobState::Failed
    {
        manifest_names(job)
    } else {
        HashMap::new()
    };
    let media = saved
        .iter()
        .map(|i| Medium {
            url: i.url.clone(),
            file: i
                .entry
                .clone()
                .or_else(|| from_manifest.get(&i.url).cloned()),
            kind: i.kind,
            role: i.role,
            variant: i.variant.clone(),
            variant_id: i.variant_id.clone(),
        })
        .collect();
    let facts = job.product.facts.clone();
    let name = facts
        .name
        .clone()
        .or_else(|| job.product.title.clone())
        .unwrap_or_else(|| job.label.clone());
    Product {
        job: job.id,
        name,
        site: job.product.site.clone(),
        product_id: job.product.product_id.clone(),
        parent_id: job.product.parent_id.clone(),
        page_url: job
            .product
            .page_url
            .clone()
            .or_else(|| job.request.page_url.clone()),
        package: job.output.clone(),
        facts,
        media,
        links: job.product.links.clone(),
    }
}

/// URL → entry name from the job's package's `manifest.json`, when the package is still there.
fn manifest_names(job: &JobRecord) -> HashMap<String, String> {
    let Some(package) = job.output.as_deref() else {
        return HashMap::new();
    };
    crate::package::PackageReader::open(package)
        .and_then(|mut p| p.manifest())
        .map(|manifest| {
            manifest
                .files
                .into_iter()
                .map(|f| (f.url, f.name))
                .collect()
        })
        .unwrap_or_default()
}

/// The export of `products` in `format`, as the bytes of its file.
pub fn render(format: Format, products: &[Product]) -> Result<Vec<u8>, ExportError> {
    Ok(match format {
        Format::Shopify => shopify::table(products).csv(),
        Format::WooCommerce => woocommerce::table(products).csv(),
        Format::Csv => plain::table(products).csv(),
        Format::Xlsx => xlsx::workbook(&plain::table(products))?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::extract::facts::Spec;

    /// A product with three variants (two colours, two sizes) and four saved pictures, as the
    /// tests of every format use it.
    pub(crate) fn tee() -> Product {
        let picture = |name: &str, role: Role, variant: Option<&str>| Medium {
            url: format!("https://cdn.example/p/{name}.jpg"),
            file: Some(match role {
                Role::Variant => format!("variant/{name}.jpg"),
                _ => format!("{name}.jpg"),
            }),
            kind: MediaKind::Image,
            role,
            variant: variant.map(str::to_string),
            variant_id: None,
        };
        let variant =
            |sku: &str, color: &str, size: &str, price: &str, a, pic: &str| VariantFacts {
                id: Some(sku.into()),
                label: Some(format!("{color} {size}")),
                attributes: vec![
                    Spec {
                        name: "color".into(),
                        value: color.into(),
                    },
                    Spec {
                        name: "size".into(),
                        value: size.into(),
                    },
                ],
                price: Some(price.into()),
                sku: Some(sku.into()),
                availability: Some(a),
                pictures: vec![format!("https://cdn.example/p/{pic}.jpg")],
            };
        Product {
            job: 7,
            name: "Linen Tee".into(),
            site: Some("generic".into()),
            product_id: Some("TEE".into()),
            parent_id: None,
            page_url: Some("https://shop.example/products/linen-tee".into()),
            package: Some("/out/generic-TEE-linen-tee.zip".into()),
            facts: ProductFacts {
                name: Some("Linen Tee".into()),
                brand: Some("Northwind".into()),
                price: Some("39.00".into()),
                currency: Some("EUR".into()),
                availability: Some(Availability::InStock),
                sku: Some("TEE".into()),
                gtin: Some("4006381333931".into()),
                description: Some("A loose tee of washed linen, cut <long>.".into()),
                features: vec!["Washed linen".into(), "Relaxed, \"long\" fit".into()],
                specs: vec![Spec {
                    name: "Material".into(),
                    value: "Linen".into(),
                }],
                categories: vec!["Clothing".into(), "Tees, tops".into()],
                rating: Some("4.6".into()),
                review_count: Some(12),
                variants: vec![
                    variant(
                        "TEE-SAND-M",
                        "Sand",
                        "M",
                        "39.00",
                        Availability::InStock,
                        "sand",
                    ),
                    variant(
                        "TEE-SAND-L",
                        "Sand",
                        "L",
                        "39.00",
                        Availability::OutOfStock,
                        "sand",
                    ),
                    variant(
                        "TEE-MOSS-M",
                        "Moss",
                        "M",
                        "42.00",
                        Availability::BackOrder,
                        "moss",
                    ),
                ],
                ..Default::default()
            },
            media: vec![
                picture("01-main", Role::Main, None),
                picture("02", Role::Gallery, None),
                picture("sand", Role::Variant, Some("Sand")),
                picture("moss", Role::Variant, Some("Moss")),
                Medium {
                    url: "https://cdn.example/v/clip.mp4".into(),
                    file: Some("video/01.mp4".into()),
                    kind: MediaKind::Video,
                    role: Role::Video,
                    variant: None,
                    variant_id: None,
                },
            ],
            links: Vec::new(),
        }
    }

    /// A CSV export read back: its header and rows.
    pub(crate) fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
        let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
        let header = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        (header, rows)
    }

    /// A list of links: no facts at all, two pictures.
    pub(crate) fn bare() -> Product {
        Product {
            job: 8,
            name: "things".into(),
            site: None,
            product_id: None,
            parent_id: None,
            page_url: None,
            package: Some("/out/things.zip".into()),
            facts: ProductFacts::default(),
            media: ["01-main.jpg", "02.jpg"]
                .iter()
                .enumerate()
                .map(|(i, name)| Medium {
                    url: format!("https://img.example/{i}.jpg"),
                    file: Some(name.to_string()),
                    kind: MediaKind::Image,
                    role: if i == 0 { Role::Main } else { Role::Gallery },
                    variant: None,
                    variant_id: None,
                })
                .collect(),
            links: Vec::new(),
        }
    }

    /// A journal with one ended job of two saved pictures, packaged as a folder at `package`
    /// whose `manifest.json` names them; entry names journaled or not.
    fn journaled(dir: &std::path::Path, journal_names: bool) -> (Journal, JobId) {
        use crate::journal::{NewItem, NewJob, ProductInfo, SavedMedia};
        let journal = Journal::open(&dir.join("journal.sqlite3")).unwrap();
        let job = journal
            .create_job(&NewJob {
                label: "lamp".into(),
                request: Default::default(),
                out_dir: dir.into(),
                package_mode: haul_protocol::message::PackageMode::Folder,
            })
            .unwrap();
        let urls = ["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"];
        let items: Vec<NewItem> = urls
            .iter()
            .enumerate()
            .map(|(i, url)| NewItem {
                url: url.to_string(),
                kind: MediaKind::Image,
                role: if i == 0 { Role::Main } else { Role::Gallery },
                variant: None,
                variant_id: None,
                code: None,
            })
            .collect();
        let info = ProductInfo {
            title: Some("Brass Lamp | Shop".into()),
            facts: ProductFacts {
                name: Some("Brass Lamp".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        journal.plan_job(job, &info, &items, &[]).unwrap();
        for i in 0..2 {
            let saved = SavedMedia {
                content_type: "image/jpeg".into(),
                ext: "jpg".into(),
                width: None,
                height: None,
                sha256: "00".into(),
                bytes: 1,
                warnings: Vec::new(),
            };
            journal.item_saved(job, i, &saved).unwrap();
        }
        let package = dir.join("lamp");
        std::fs::create_dir_all(&package).unwrap();
        let manifest = serde_json::json!({"files": [
            {"name": "01-main.jpg", "url": urls[0], "sha256": "00"},
            {"name": "02.jpg", "url": urls[1], "sha256": "00"},
        ]});
        std::fs::write(package.join("manifest.json"), manifest.to_string()).unwrap();
        if journal_names {
            journal
                .set_entries(
                    job,
                    &[(0, Some("journaled-1.jpg")), (1, Some("journaled-2.jpg"))],
                )
                .unwrap();
        }
        journal
            .finish_job(job, JobState::Complete, Some(&package), None)
            .unwrap();
        (journal, job)
    }

    #[test]
    fn loads_from_the_journal_and_names_files_as_the_package_does() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, job) = journaled(dir.path(), true);
        let products = load(&journal, &[job, job]).unwrap();
        assert_eq!(products.len(), 1, "a job named twice is one product");
        let p = &products[0];
        assert_eq!(p.name, "Brass Lamp", "the page's name, not its title");
        let files: Vec<Option<&str>> = p.media.iter().map(|m| m.file.as_deref()).collect();
        assert_eq!(files, [Some("journaled-1.jpg"), Some("journaled-2.jpg")]);

        // Packaged before the journal kept names: the package's manifest has them.
        let older = tempfile::tempdir().unwrap();
        let (journal, job) = journaled(older.path(), false);
        let p = &load(&journal, &[job]).unwrap()[0];
        let files: Vec<Option<&str>> = p.media.iter().map(|m| m.file.as_deref()).collect();
        assert_eq!(files, [Some("01-main.jpg"), Some("02.jpg")]);

        assert!(matches!(load(&journal, &[]), Err(ExportError::NoJobs)));
        let missing = load(&journal, &[job, 424242]).unwrap_err();
        assert!(
            matches!(missing, ExportError::NoSuchJob(424242)),
            "{missing}"
        );
        let queued = journal
            .create_job(&crate::journal::NewJob {
                label: "later".into(),
                request: Default::default(),
                out_dir: older.path().into(),
                package_mode: haul_protocol::message::PackageMode::Zip,
            })
            .unwrap();
        let e = load(&journal, &[queued]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("job {queued} is still queued; export it once it has ended")
        );
    }

    #[test]
    fn names_formats_and_files() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
        assert_eq!(Format::parse(" Shopify "), Some(Format::Shopify));
        assert_eq!(Format::parse("pdf"), None);
        assert_eq!(Format::Shopify.file_name(&[12]), "haul-shopify-12.csv");
        assert_eq!(Format::Xlsx.file_name(&[1, 2, 3]), "haul-xlsx-1-2-3.xlsx");
        assert_eq!(
            Format::WooCommerce.file_name(&[4, 5, 6, 7]),
            "haul-woocommerce-4-and-3-more.csv"
        );
    }

    #[test]
    fn variant_pictures_by_address_then_by_label() {
        let tee = tee();
        let moss = &tee.facts.variants[2];
        let urls: Vec<&str> = tee
            .variant_pictures(moss)
            .iter()
            .map(|m| m.url.as_str())
            .collect();
        assert_eq!(urls, ["https://cdn.example/p/moss.jpg"]);
        let mut unnamed = moss.clone();
        unnamed.pictures.clear();
        unnamed.label = Some("Moss".into());
        assert_eq!(tee.variant_pictures(&unnamed).len(), 1, "by the label");
        assert_eq!(tee.listing_pictures().len(), 4, "no video");
    }

    #[test]
    fn handles_are_unique_and_html_is_escaped() {
        let mut names = UniqueNames::default();
        assert_eq!(names.claim("linen-tee"), "linen-tee");
        assert_eq!(names.claim("Linen-Tee"), "Linen-Tee-2");
        assert_eq!(names.claim("linen-tee"), "linen-tee-3");
        let mut p = bare();
        p.name = "茶".into();
        assert_eq!(handle_of(&p), "product-8");
        assert_eq!(
            tee().description_html(),
            "<p>A loose tee of washed linen, cut &lt;long&gt;.</p>\
             <ul><li>Washed linen</li><li>Relaxed, &quot;long&quot; fit</li></ul>"
        );
    }
}
