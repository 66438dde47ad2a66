//! Reading an input — a file or folder given to `haul grab` or dropped into the inbox — into
//! grabs: one reader per kind, used by both, each with the same behaviour for what it cannot use
//! (the line, row or file is reported and left out; the rest is saved) and the same package
//! names ([`reading::package_name`]). The kind is decided by the name:
//!
//! - `.txt` — a URL list ([`url_list`]): one job of the listed media, named after the file, and
//!   one job per listed product page, which fetches the page and extracts it;
//! - `.html`, `.htm`, `.html.gz`, `.htm.gz` — a saved product page ([`saved_page`]), extracted
//!   like the browser button's grab;
//! - `.csv`, `.xlsx` — a spreadsheet of SKUs and image URLs ([`sku_sheet`], cells by [`table`]):
//!   one job a row, named for Seller Central's bulk upload;
//! - a folder — the seller's own images ([`seller_folder`]).
//!
//! URL lists and saved pages become wire [`Grab`](haul_protocol::message::Grab)s — what `haul
//! grab` hands the daemon — and reach the engine through the one conversion
//! ([`crate::jobs::Submission::from_grab`]); spreadsheets and folders carry SKUs and local files,
//! which only the inbox may name, and become submissions directly.
//!
//! Inputs are outside data: each is read with a size cap, every line is checked, and what cannot
//! be used becomes a sentence for the report rather than an error that stops the rest. In the
//! inbox nothing is read through a link ([`crate::own_file`]): a link dropped into the inbox, or
//! one inside a dropped folder, is refused and said so.

pub mod reading;
pub mod saved_page;
mod seller_folder;
mod sku_sheet;
mod table;
mod text;
pub mod url_list;

use std::path::Path;

pub use reading::{Context, InputError, Reading};

use crate::jobs::Submission;
use crate::own_file::{self, Entry};
use reading::{MAX_LIST_BYTES, open_own, read_capped};

/// The inbox's readers of dropped files, reachable from outside the crate for the fuzz targets
/// (`daemon/fuzz/`), which hand them arbitrary bytes: each writes the bytes where a user would
/// have dropped them and reads them as the inbox does. Not an API.
#[doc(hidden)]
pub mod readers {
    use std::path::Path;

    use crate::config::Config;

    /// Reads `bytes` as the inbox file `name` (`list.txt`, `sheet.csv`, `sheet.xlsx`) dropped
    /// into `dir`; returns whether it gave any grab.
    pub fn file(dir: &Path, name: &str, bytes: &[u8]) -> bool {
        let path = dir.join(name);
        if std::fs::write(&path, bytes).is_err() {
            return false;
        }
        read(&path, name)
    }

    /// Reads `bytes` as the `skus.csv` of a seller's folder in `dir` holding two images.
    pub fn seller_folder(dir: &Path, skus_csv: &[u8]) -> bool {
        let folder = dir.join("SKU1");
        let written = std::fs::create_dir_all(&folder)
            .and_then(|()| std::fs::write(folder.join("skus.csv"), skus_csv))
            .and_then(|()| std::fs::write(folder.join("a.jpg"), b"\xFF\xD8\xFF"))
            .and_then(|()| std::fs::write(folder.join("b.png"), b"\x89PNG"));
        written.is_ok() && read(&folder, "SKU1")
    }

    fn read(path: &Path, name: &str) -> bool {
        let config = Config::default();
        let context = super::Context {
            config: &config,
            name,
        };
        super::read(path, &context).is_ok_and(|r| !r.submissions.is_empty())
    }
}

/// Reads the inbox input at `path` (named `context.name`), never through a link.
pub fn read(path: &Path, context: &Context<'_>) -> Result<Reading, InputError> {
    let lower = context.name.to_ascii_lowercase();
    match own_file::look(path)? {
        Ok(Entry::Folder) => return seller_folder::read(path, context),
        Ok(Entry::File) => {}
        Err(refusal) => return Err(InputError::Refused(refusal.explain(context.name))),
    }
    if lower.ends_with(".txt") {
        let bytes = read_capped(open_own(path)?, MAX_LIST_BYTES)?;
        let (grabs, bad) = url_list::grabs(&String::from_utf8_lossy(&bytes), context.name);
        return Ok(Reading {
            submissions: grabs
                .into_iter()
                .map(Submission::from_grab)
                .collect::<Result<_, _>>()?,
            problems: bad.iter().map(ToString::to_string).collect(),
        });
    }
    if lower.ends_with(".csv") || lower.ends_with(".xlsx") {
        let bytes = read_capped(open_own(path)?, MAX_LIST_BYTES)?;
        let sheets = if lower.ends_with(".csv") {
            vec![table::csv(&bytes).map_err(InputError::Sheet)?]
        } else {
            table::xlsx(&bytes).map_err(InputError::Sheet)?
        };
        drop(bytes); // The file's bytes are not needed beside its cells.
        return sku_sheet::read(sheets, context);
    }
    if reading::is_saved_page_name(&lower) {
        let grab = saved_page::grab(open_own(path)?, path, context.name)?;
        return Ok(Reading {
            submissions: vec![Submission::from_grab(grab)?],
            problems: Vec::new(),
        });
    }
    let what = match lower.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() => format!(".{ext} files"),
        _ => "files without an extension".to_string(),
    };
    Err(InputError::Unsupported { what })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// The inbox named `spring.sale.html`'s package `spring` where `haul grab` named it
    /// `spring.sale`; both read it with [`saved_page`] now.
    #[test]
    fn a_saved_page_in_the_inbox_is_named_as_haul_grab_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spring.sale.html");
        std::fs::write(&path, "<html><body><p>a page</p></body></html>").unwrap();
        let config = Config::default();
        let context = Context {
            config: &config,
            name: "spring.sale.html",
        };
        let reading = read(&path, &context).unwrap();
        assert_eq!(reading.submissions.len(), 1);
        assert_eq!(reading.submissions[0].name.as_deref(), Some("spring.sale"));
        assert!(reading.submissions[0].page_html.is_some());
    }

    /// A list's bad line is reported and the rest is read.
    #[test]
    fn a_list_reports_its_bad_lines_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q3.txt");
        std::fs::write(
            &path,
            "https://a.example/1.jpg\nnot a url\nhttps://a.example/2.jpg\n",
        )
        .unwrap();
        let config = Config::default();
        let context = Context {
            config: &config,
            name: "q3.txt",
        };
        let reading = read(&path, &context).unwrap();
        assert_eq!(reading.submissions.len(), 1);
        assert_eq!(reading.submissions[0].media.len(), 2);
        assert_eq!(reading.submissions[0].name.as_deref(), Some("q3"));
        assert_eq!(reading.problems.len(), 1);
        assert!(
            reading.problems[0].starts_with("line 2"),
            "{:?}",
            reading.problems
        );
    }
}
