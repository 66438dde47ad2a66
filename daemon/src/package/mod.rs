//! Packaging a finished job into the output folder: one ZIP per product (or a plain folder, or
//! both), entries named by role, media stored without recompression, `manifest.json` plus
//! `manifest.csv` describing every file and every failure, and `product.json`: what the page
//! says the product is and costs (the extraction's `product`, variant pictures by their URLs,
//! which `manifest.json` maps to the entries).
//!
//! A package appears in the output folder only when complete:
//!
//! 1. it is written under a hidden temporary name in the output folder itself (so the final rename
//!    never crosses file systems), then flushed and synced;
//! 2. the caller journals the temporary and final names ([`Staging`](crate::journal::Staging));
//! 3. [`publish`] renames it to a name nobody has taken (`x.zip`, `x (2).zip`, …) — never over an
//!    existing file — and syncs the folder.
//!
//! ZIPs are deterministic — fixed entry order, every entry dated when the job was made, no
//! per-run data in the manifest — so a job resumed after a crash produces the same bytes as one
//! that ran straight through.

pub mod deleted;
mod reader;
mod writeback;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::extract::ProductFacts;
use crate::failure::FailureKind;
use crate::format::Format;
use crate::held::Kept;
use crate::media::Link;
use crate::process::strip::Stripped;
use crate::process::{self, ProcessError, StripOptions};
pub use reader::PackageReader;
use writeback::Writeback;

/// Packaging failures.
#[derive(Debug, Error)]
pub enum PackageError {
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("cannot write the ZIP {}: {source}", path.display())]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    #[error("cannot store {name}: {source}")]
    Entry { name: String, source: ProcessError },
    #[error("the output folder {} already has 10000 packages named {base}; move some away", dir.display())]
    NoFreeName { dir: PathBuf, base: String },
}

impl PackageError {
    /// What kind of failure it is.
    pub fn kind(&self) -> FailureKind {
        match self {
            PackageError::Io { source, .. } => crate::failure::of_write(source),
            PackageError::Zip {
                source: zip::result::ZipError::Io(source),
                ..
            } => crate::failure::of_write(source),
            PackageError::Zip { .. } => FailureKind::CannotWrite,
            PackageError::Entry { source, .. } => source.kind(),
            PackageError::NoFreeName { .. } => FailureKind::CannotWrite,
        }
    }
}

/// One media file to store.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Name inside the package.
    pub name: String,
    /// The downloaded file.
    pub source: PathBuf,
    pub format: Format,
    /// The stored form already in memory ([`process::process_held`]): written from here
    /// instead of reading and cleaning `source` again.
    pub held: Option<Kept<Stripped>>,
}

impl Entry {
    /// Writes the entry's stored form to `out`.
    fn write(&self, strip: StripOptions, out: &mut dyn Write) -> Result<(), PackageError> {
        match &self.held {
            Some(held) => process::write_pieces(&held.value, out),
            None => process::write_stored(&self.source, self.format, strip, out),
        }
        .map(|_| ())
        .map_err(|source| PackageError::Entry {
            name: self.name.clone(),
            source,
        })
    }

    /// Whether the entry needs ZIP64 (only where needed, so ordinary packages open in every
    /// unzip tool).
    fn large(&self) -> bool {
        let size = match &self.held {
            Some(held) => held.value.size(),
            None => std::fs::metadata(&self.source).map_or(0, |m| m.len()),
        };
        size >= u32::MAX as u64 - (1 << 20)
    }
}

/// `manifest.json`: what the package holds and what could not be saved. Written and read back
/// ([`PackageReader::manifest`]) by these same structs; what a package written by an older haul
/// lacks reads as empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub generator: String,
    pub site: Option<String>,
    /// The product the package is named by: the page's own (on Amazon the ASIN of the variant
    /// the page shows, never its variation family's).
    pub product_id: Option<String>,
    /// The product's variation family (Amazon's parent ASIN), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Other ids the page gives the same product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_ids: Vec<String>,
    pub title: Option<String>,
    pub page_url: Option<String>,
    pub files: Vec<ManifestFile>,
    #[serde(default)]
    pub failed: Vec<ManifestFailure>,
    /// Saved items the naming scheme leaves out of the package (`amazon-upload` holds listing
    /// images only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<ManifestLeftOut>,
    /// The product's videos on a video platform (a YouTube player the page embeds): the pages
    /// that play them, listed instead of downloaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// What the page offered in roles the user chose not to save (`include`); never downloaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_included: Vec<ManifestNotIncluded>,
    /// What the user should know about the package (limits, conversions, fallbacks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Written beside the manifest as `product.json` (when not empty).
    #[serde(skip)]
    pub product: ProductFacts,
    /// When the job was made (milliseconds since the epoch): every ZIP entry is dated so, in the
    /// user's local time — the same on a job resumed after a crash.
    #[serde(skip)]
    pub created_ms: i64,
}

/// A stored file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// The entry's path inside the package (`02.jpg`, `review/01.jpg`).
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub role: String,
    pub variant: Option<String>,
    pub variant_id: Option<String>,
    /// The picture's code on its page or spreadsheet (Amazon's `PT05`, `FRNT`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default)]
    pub bytes: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    #[serde(default)]
    pub content_type: String,
    pub sha256: String,
    /// What the user should know about the file (listed only when there is something).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The downloaded file's content type when the stored file was converted from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converted_from: Option<String>,
}

/// A saved item that is not in the package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestLeftOut {
    pub url: String,
    pub role: String,
    pub variant: Option<String>,
    pub variant_id: Option<String>,
    pub content_type: String,
}

/// A medium of the page the user chose not to save.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestNotIncluded {
    pub url: String,
    pub role: String,
    pub variant: Option<String>,
}

/// An item that could not be saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFailure {
    pub url: String,
    pub role: String,
    pub variant: Option<String>,
    pub reason: String,
    /// What kind of failure it is (`not_found`, `timeout`, …: `docs/protocol.md`).
    #[serde(default)]
    pub kind: FailureKind,
}

/// The files that describe a package, stored after its media. `product.json` is there when a
/// page said something about the product (not for a list of links or a spreadsheet's rows, nor
/// in packages written before it existed).
pub const DOCUMENTS: [&str; 3] = ["manifest.json", "manifest.csv", "product.json"];

impl Manifest {
    /// The [`DOCUMENTS`] this package has, with their contents.
    fn documents(&self) -> Vec<(&'static str, Vec<u8>)> {
        let [json, csv, product] = DOCUMENTS;
        let mut documents = vec![(json, pretty_json(self)), (csv, self.csv())];
        if !self.product.is_empty() {
            documents.push((product, pretty_json(&self.product)));
        }
        documents
    }

    /// One row per file and per failure, for spreadsheets.
    fn csv(&self) -> Vec<u8> {
        // A byte-order mark, so spreadsheet programs read the file as UTF-8.
        let mut out = String::from(
            "\u{feff}name,url,role,variant,variant_id,bytes,width,height,content_type,sha256,status,\
             reason,product_id,title,page_url,failure_kind\r\n",
        );
        // Every row names its product, so rows of several packages can be pasted together.
        let product = [
            self.product_id.clone().unwrap_or_default(),
            self.title.clone().unwrap_or_default(),
            self.page_url.clone().unwrap_or_default(),
        ];
        let opt = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
        for f in &self.files {
            let row = [
                f.name.clone(),
                f.url.clone(),
                f.role.clone(),
                f.variant.clone().unwrap_or_default(),
                f.variant_id.clone().unwrap_or_default(),
                f.bytes.to_string(),
                opt(f.width),
                opt(f.height),
                f.content_type.clone(),
                f.sha256.clone(),
                "saved".into(),
                f.warnings.join("; "),
            ];
            push_csv_row(
                &mut out,
                &[&row[..], &product[..], &[String::new()]].concat(),
            );
        }
        // Media that are not in the package: only their address, role, status and why.
        let mut unsaved = |url: &str,
                           role: &str,
                           variant: &Option<String>,
                           status: &str,
                           why: &str,
                           kind: &str| {
            let none = String::new;
            let row = [
                none(),
                url.to_string(),
                role.to_string(),
                variant.clone().unwrap_or_default(),
                none(),
                none(),
                none(),
                none(),
                none(),
                none(),
                status.to_string(),
                why.to_string(),
            ];
            push_csv_row(
                &mut out,
                &[&row[..], &product[..], &[kind.to_string()]].concat(),
            );
        };
        for f in &self.failed {
            unsaved(
                &f.url,
                &f.role,
                &f.variant,
                "failed",
                &f.reason,
                f.kind.as_str(),
            );
        }
        for n in &self.not_included {
            unsaved(
                &n.url,
                &n.role,
                &n.variant,
                "not included",
                "left out by choice (include)",
                "",
            );
        }
        for l in &self.links {
            unsaved(
                &l.url,
                l.role.as_str(),
                &None,
                "link",
                &format!(
                    "a {} video: its page is listed and never downloaded",
                    platform_name(&l.platform)
                ),
                "",
            );
        }
        out.into_bytes()
    }
}

fn pretty_json(value: &impl Serialize) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(value).unwrap_or_default();
    v.push(b'\n');
    v
}

/// A video platform's name as people write it.
fn platform_name(platform: &str) -> &str {
    match platform {
        "youtube" => "YouTube",
        "vimeo" => "Vimeo",
        other => other,
    }
}

/// RFC 4180: quote fields holding a comma, quote or line break; a leading `=`, `+`, `-` or `@`
/// is prefixed with `'` so a spreadsheet does not run a hostile page's text as a formula.
pub(crate) fn push_csv_row(out: &mut String, fields: &[String]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let field = if field.starts_with(['=', '+', '-', '@']) {
            format!("'{field}")
        } else {
            field.clone()
        };
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push_str("\r\n");
}

/// Timestamps of every entry: the ZIP epoch (1980-01-01 00:00), so output is reproducible.
fn entry_options(large: bool, dated: DateTime) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(dated)
        .unix_permissions(0o644)
        .large_file(large)
}

/// A moment (milliseconds since the epoch) as a ZIP entry's date: local time, as unzip tools
/// show it; ZIP's first date (1980) for a moment it cannot hold.
fn zip_date(ms: i64) -> DateTime {
    use chrono::{Datelike, TimeZone, Timelike};
    let Some(local) = chrono::Local.timestamp_millis_opt(ms).single() else {
        return DateTime::default();
    };
    let (Ok(year), Ok(month), Ok(day), Ok(hour), Ok(minute), Ok(second)) = (
        u16::try_from(local.year()),
        u8::try_from(local.month()),
        u8::try_from(local.day()),
        u8::try_from(local.hour()),
        u8::try_from(local.minute()),
        u8::try_from(local.second()),
    ) else {
        return DateTime::default();
    };
    DateTime::from_date_and_time(year, month, day, hour, minute, second).unwrap_or_default()
}

/// The buffer of a package's writes: larger writes go past it to the file in one call.
const WRITE_BUFFER: usize = 64 << 10;

/// Writes the ZIP to `temp` and syncs it.
pub fn write_zip(
    temp: &Path,
    entries: &[Entry],
    manifest: &Manifest,
    strip: StripOptions,
) -> Result<(), PackageError> {
    let io_err = |source| PackageError::Io {
        path: temp.to_path_buf(),
        source,
    };
    let zip_err = |source| PackageError::Zip {
        path: temp.to_path_buf(),
        source,
    };
    let file = Writeback::new(File::create(temp).map_err(io_err)?);
    // Small enough that an image's picture data (one piece of hundreds of KB) goes to the file
    // in one write, past the buffer, instead of being copied into it first.
    let mut zip = ZipWriter::new(BufWriter::with_capacity(WRITE_BUFFER, file));
    let dated = zip_date(manifest.created_ms);
    for entry in entries {
        zip.start_file(entry.name.as_str(), entry_options(entry.large(), dated))
            .map_err(zip_err)?;
        entry.write(strip, &mut zip)?;
    }
    for (name, body) in manifest.documents() {
        zip.start_file(name, entry_options(false, dated))
            .map_err(zip_err)?;
        zip.write_all(&body).map_err(io_err)?;
    }
    let writer = zip.finish().map_err(zip_err)?;
    let file = writer.into_inner().map_err(|e| io_err(e.into_error()))?;
    file.into_inner().sync_all().map_err(io_err)
}

/// Writes the package as a folder at `temp` (created here, with the role folders its entry names
/// hold: `review/01.jpg`) and syncs its files and folders.
pub fn write_folder(
    temp: &Path,
    entries: &[Entry],
    manifest: &Manifest,
    strip: StripOptions,
) -> Result<(), PackageError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PackageError::Io { path, source }
    };
    std::fs::create_dir(temp).map_err(io_err(temp))?;
    let mut folders: Vec<PathBuf> = Vec::new();
    for entry in entries {
        if let Some((folder, _)) = entry.name.rsplit_once('/') {
            let path = temp.join(folder);
            if !folders.contains(&path) {
                std::fs::create_dir_all(&path).map_err(io_err(&path))?;
                folders.push(path);
            }
        }
    }
    let write_one =
        |name: &str,
         fill: &mut dyn FnMut(&mut BufWriter<Writeback>) -> Result<(), PackageError>| {
            let path = temp.join(name);
            let file = Writeback::new(File::create(&path).map_err(io_err(&path))?);
            let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
            fill(&mut out)?;
            let file = out.into_inner().map_err(|e| PackageError::Io {
                path: path.clone(),
                source: e.into_error(),
            })?;
            file.into_inner().sync_all().map_err(io_err(&path))
        };
    for entry in entries {
        write_one(&entry.name, &mut |out| entry.write(strip, out))?;
    }
    for (name, body) in manifest.documents() {
        write_one(name, &mut |out| {
            out.write_all(&body).map_err(io_err(&temp.join(name)))
        })?;
    }
    for folder in &folders {
        sync_dir(folder).map_err(io_err(folder))?;
    }
    sync_dir(temp).map_err(io_err(temp))
}

/// The hidden name a package is written under before it is published.
pub fn temp_path(out_dir: &Path, base: &str, ext: &str, job: i64) -> PathBuf {
    out_dir.join(format!(".{base}{ext}.haul-{job}.partial"))
}

/// The job a hidden partial package belongs to, by its name (`.x.zip.haul-7.partial` → 7).
pub fn partial_job(name: &str) -> Option<i64> {
    let inner = name.strip_prefix('.')?.strip_suffix(".partial")?;
    let (_, job) = inner.rsplit_once(".haul-")?;
    job.parse().ok()
}

/// Removes the hidden partial packages in `out_dir` that `keep` says to keep (by job id and
/// path): what a write that failed (a full disk) or a killed haul left behind. A partial file
/// left there takes space the next package needs, so none outlives its job. Returns what was
/// removed.
pub fn remove_partials(out_dir: &Path, keep: impl Fn(i64, &Path) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(out_dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(job) = name.to_str().and_then(partial_job) else {
            continue;
        };
        let path = entry.path();
        if keep(job, &path) {
            continue;
        }
        let gone = match entry.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        match gone {
            Ok(()) => removed.push(path),
            Err(e) => tracing::warn!(path = %path.display(), error = %e,
                "cannot remove a partial package"),
        }
    }
    removed
}

/// The first free name for a package: `base.ext`, `base (2).ext`, …
pub fn free_target(out_dir: &Path, base: &str, ext: &str) -> Result<PathBuf, PackageError> {
    (1..10_000)
        .map(|n| {
            if n == 1 {
                out_dir.join(format!("{base}{ext}"))
            } else {
                out_dir.join(format!("{base} ({n}){ext}"))
            }
        })
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .ok_or_else(|| PackageError::NoFreeName {
            dir: out_dir.to_path_buf(),
            base: base.to_string(),
        })
}

/// Renames `temp` to `target` unless `target` exists (then `AlreadyExists`), and syncs the folder.
pub fn publish(temp: &Path, target: &Path) -> io::Result<()> {
    rename_noreplace(temp, target)?;
    if let Some(dir) = target.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    };
    let (from_c, to_c) = (c(from)?, c(to)?);
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them like rename(2).
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from_c.as_ptr(),
            libc::AT_FDCWD,
            to_c.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        // File systems without RENAME_NOREPLACE support (some network and FUSE mounts).
        Some(libc::EINVAL) | Some(libc::ENOSYS) => rename_if_absent(from, to),
        _ => Err(err),
    }
}

#[cfg(not(target_os = "linux"))]
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    rename_if_absent(from, to)
}

fn rename_if_absent(from: &Path, to: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists", to.display()),
        ));
    }
    std::fs::rename(from, to)
}

/// Makes a rename or new files in `dir` durable (a no-op where directories cannot be synced).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_packages_are_known_by_name_and_removed_unless_kept() {
        assert_eq!(partial_job(".amazon-B0X-vest.zip.haul-7.partial"), Some(7));
        assert_eq!(partial_job(".x.haul-12.partial"), Some(12));
        assert_eq!(partial_job("x.zip"), None);
        assert_eq!(partial_job(".x.zip.partial"), None);
        let dir = tempfile::tempdir().unwrap();
        for name in [".a.zip.haul-1.partial", ".b.zip.haul-2.partial", "a.zip"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join(".c.haul-3.partial")).unwrap();
        let removed = remove_partials(dir.path(), |job, _| job == 2);
        assert_eq!(removed.len(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".b.zip.haul-2.partial", "a.zip"]);
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut out = String::new();
        push_csv_row(
            &mut out,
            &[
                "a,b".into(),
                "say \"hi\"".into(),
                "=HYPERLINK(1)".into(),
                "plain".into(),
            ],
        );
        assert_eq!(out, "\"a,b\",\"say \"\"hi\"\"\",'=HYPERLINK(1),plain\r\n");
    }

    fn manifest_of(files: &[&str]) -> Manifest {
        Manifest {
            generator: "haul test".into(),
            site: Some("amazon".into()),
            product_id: Some("B0BRZXRBZL".into()),
            parent_id: Some("B08SC8HR3V".into()),
            other_ids: Vec::new(),
            title: None,
            page_url: None,
            files: files
                .iter()
                .map(|name| ManifestFile {
                    name: name.to_string(),
                    url: format!("https://x.example/{name}"),
                    role: "review".into(),
                    variant: None,
                    variant_id: None,
                    code: None,
                    bytes: 4,
                    width: None,
                    height: None,
                    content_type: "video/mp4".into(),
                    sha256: String::new(),
                    warnings: Vec::new(),
                    converted_from: None,
                })
                .collect(),
            failed: Vec::new(),
            left_out: Vec::new(),
            links: Vec::new(),
            not_included: Vec::new(),
            notes: Vec::new(),
            product: ProductFacts {
                name: Some("Dog vest".into()),
                price: Some("23.99".into()),
                currency: Some("USD".into()),
                ..Default::default()
            },
            // 2026-12-07 10:30:00 UTC.
            created_ms: 1_796_639_400_000,
        }
    }

    /// A video platform's page is listed in both manifests, as a link and not as a file.
    #[test]
    fn links_are_listed_not_stored() {
        let mut manifest = manifest_of(&["01-main.mp4"]);
        manifest.links.push(Link {
            url: "https://www.youtube.com/watch?v=i7pXJC8wwLE".into(),
            role: crate::media::Role::Video,
            platform: "youtube".into(),
        });
        let json: serde_json::Value = serde_json::from_slice(&pretty_json(&manifest)).unwrap();
        assert_eq!(
            json["links"],
            serde_json::json!([{
                "url": "https://www.youtube.com/watch?v=i7pXJC8wwLE",
                "role": "video",
                "platform": "youtube"
            }])
        );
        assert_eq!(json["files"].as_array().map(Vec::len), Some(1));
        let csv = String::from_utf8(manifest.csv()).unwrap();
        assert!(
            csv.ends_with(
                ",https://www.youtube.com/watch?v=i7pXJC8wwLE,video,,,,,,,,link,\
                 a YouTube video: its page is listed and never downloaded,B0BRZXRBZL,,,\r\n"
            ),
            "{csv}"
        );
        assert!(
            pretty_json(&manifest_of(&[]))
                .windows(7)
                .all(|w| w != b"\"links\""),
            "no links, no key"
        );
    }

    /// The CSV opens as UTF-8 in spreadsheet programs and every row names its product.
    #[test]
    fn csv_rows_name_their_product() {
        let mut manifest = manifest_of(&["01-main.jpg"]);
        manifest.title = Some("Dog vest, \"XS\"".into());
        manifest.page_url = Some("https://www.amazon.com/dp/B0BRZXRBZL".into());
        manifest.failed.push(ManifestFailure {
            url: "https://x.example/2.jpg".into(),
            role: "gallery".into(),
            variant: None,
            reason: "the server answered 404 Not Found".into(),
            kind: FailureKind::NotFound,
        });
        let csv = String::from_utf8(manifest.csv()).unwrap();
        assert!(csv.starts_with("\u{feff}name,url,"), "{csv}");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].ends_with(",reason,product_id,title,page_url,failure_kind"));
        for (row, kind) in lines[1..].iter().zip(["", "not_found"]) {
            assert!(
                row.ends_with(&format!(
                    ",B0BRZXRBZL,\"Dog vest, \"\"XS\"\"\",https://www.amazon.com/dp/B0BRZXRBZL,{kind}"
                )),
                "{row}"
            );
        }
        let json: serde_json::Value = serde_json::from_slice(&pretty_json(&manifest)).unwrap();
        assert_eq!(json["failed"][0]["kind"], "not_found");
    }

    #[test]
    fn role_folders_inside_zips_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("1.part");
        std::fs::write(&source, b"clip").unwrap();
        let names = [
            "01-main.mp4",
            "review/01.mp4",
            "review/02.mp4",
            "video/01.mp4",
        ];
        let entries: Vec<Entry> = names
            .iter()
            .map(|name| Entry {
                name: name.to_string(),
                source: source.clone(),
                format: Format::Mp4,
                held: None,
            })
            .collect();
        let manifest = manifest_of(&names);
        let zip = dir.path().join("p.zip");
        write_zip(&zip, &entries, &manifest, StripOptions::default()).unwrap();
        let mut archive = zip::ZipArchive::new(File::open(&zip).unwrap()).unwrap();
        let dated = zip_date(manifest.created_ms);
        assert!(dated.year() >= 2026, "{dated:?}");
        for i in 0..archive.len() {
            let entry = archive.by_index(i).unwrap();
            assert_eq!(
                entry.last_modified(),
                Some(dated),
                "{:?}: dated by the job",
                entry.name()
            );
        }
        let in_zip: Vec<String> = archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect();
        assert_eq!(
            in_zip,
            [
                "01-main.mp4",
                "review/01.mp4",
                "review/02.mp4",
                "video/01.mp4",
                "manifest.json",
                "manifest.csv",
                "product.json"
            ]
        );
        let folder = dir.path().join("p");
        write_folder(&folder, &entries, &manifest, StripOptions::default()).unwrap();
        assert_eq!(
            std::fs::read(folder.join("review/02.mp4")).unwrap(),
            b"clip"
        );
        assert_eq!(std::fs::read(folder.join("video/01.mp4")).unwrap(), b"clip");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(json["parent_id"], "B08SC8HR3V");
        assert_eq!(json["files"][1]["name"], "review/01.mp4");
        assert!(json.get("other_ids").is_none(), "empty lists are left out");
        assert!(
            json.get("product").is_none(),
            "the facts have their own file"
        );
        let product: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join("product.json")).unwrap()).unwrap();
        assert_eq!(product["price"], "23.99");
        assert_eq!(product["currency"], "USD");
        assert_eq!(product["gtin"], serde_json::Value::Null, "absent is null");
    }

    /// A package written from stored forms held in memory is byte for byte the one written by
    /// reading and cleaning the downloaded files.
    #[test]
    fn held_entries_make_the_same_package_as_files() {
        let dir = tempfile::tempdir().unwrap();
        let data = crate::process::tests::jpeg_with_exif();
        let budget = crate::held::MemoryBudget::new(1 << 20);
        let names = ["01-main.jpg", "02.jpg", "review/01.jpg"];
        let mut from_files = Vec::new();
        let mut from_memory = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let source = dir.path().join(format!("{i}.part"));
            std::fs::write(&source, &data).unwrap();
            let room = budget.try_take(data.len() as u64).unwrap();
            let held = crate::held::Held::new(bytes::Bytes::from(data.clone()), room);
            let (_, pieces) = process::process_held(
                &held,
                &source,
                Format::Jpeg,
                &process::Preset::Keep,
                StripOptions::default(),
                i == 0,
            )
            .unwrap();
            let entry = Entry {
                name: name.to_string(),
                source,
                format: Format::Jpeg,
                held: None,
            };
            from_memory.push(Entry {
                held: pieces,
                ..entry.clone()
            });
            from_files.push(entry);
        }
        let manifest = manifest_of(&names);
        let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
        write_zip(&a, &from_files, &manifest, StripOptions::default()).unwrap();
        write_zip(&b, &from_memory, &manifest, StripOptions::default()).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let (fa, fb) = (dir.path().join("a"), dir.path().join("b"));
        write_folder(&fa, &from_files, &manifest, StripOptions::default()).unwrap();
        write_folder(&fb, &from_memory, &manifest, StripOptions::default()).unwrap();
        let stored = std::fs::read(fb.join("review/01.jpg")).unwrap();
        assert_eq!(std::fs::read(fa.join("review/01.jpg")).unwrap(), stored);
        assert!(stored.len() < data.len(), "cleaned");
    }

    #[test]
    fn free_names_and_noreplace_publish() {
        let dir = tempfile::tempdir().unwrap();
        let first = free_target(dir.path(), "p", ".zip").unwrap();
        assert_eq!(first, dir.path().join("p.zip"));
        std::fs::write(&first, b"one").unwrap();
        let second = free_target(dir.path(), "p", ".zip").unwrap();
        assert_eq!(second, dir.path().join("p (2).zip"));

        let temp = temp_path(dir.path(), "p", ".zip", 7);
        std::fs::write(&temp, b"two").unwrap();
        let err = publish(&temp, &first).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            std::fs::read(&first).unwrap(),
            b"one",
            "an existing package is never replaced"
        );
        publish(&temp, &second).unwrap();
        assert_eq!(std::fs::read(&second).unwrap(), b"two");
        assert!(!temp.exists());
    }
}
