//! What every reader of an input shares: what reading needs to know ([`Context`]), what it gives
//! ([`Reading`]: the grabs, and what could not be used), why an input cannot be used at all
//! ([`InputError`]), the size cap, and how a file's name names its package. A leaf: the readers
//! import it, it imports none of them.

use std::io::Read;
use std::path::Path;

use thiserror::Error;

use crate::config::Config;
use crate::jobs::Submission;
use crate::own_file::{self, OpenError};

/// Largest list file or spreadsheet read.
pub const MAX_LIST_BYTES: u64 = 16 << 20;

/// Most images one folder may hold.
pub const MAX_FOLDER_IMAGES: usize = 5_000;

/// The name endings of a saved product page, written once: `haul grab PAGE` and the inbox tell a
/// saved page by them.
pub const SAVED_PAGE_SUFFIXES: [&str; 4] = [".html.gz", ".htm.gz", ".html", ".htm"];

/// The name endings of the other files read (URL lists and spreadsheets).
const LIST_SUFFIXES: [&str; 3] = [".txt", ".csv", ".xlsx"];

/// Whether `name` ends like a saved page (any case).
pub fn is_saved_page_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SAVED_PAGE_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// The package name a file gives its job when no product names it: the file's name without the
/// ending that made it read (`spring.sale.html` → `spring.sale`, `list.txt` → `list`), the same
/// from `haul grab` and from the inbox.
pub fn package_name(file_name: &str) -> &str {
    let lower = file_name.to_ascii_lowercase();
    let cut = SAVED_PAGE_SUFFIXES
        .iter()
        .chain(&LIST_SUFFIXES)
        .find(|s| lower.ends_with(*s))
        // ASCII lower-casing keeps every byte where it was.
        .map_or(file_name.len(), |s| file_name.len() - s.len());
    match &file_name[..cut] {
        "" => file_name,
        stem => stem,
    }
}

/// What reading needs to know.
pub struct Context<'a> {
    pub config: &'a Config,
    /// The input's name (in the inbox: its path now is `processing/<id>-<name>`).
    pub name: &'a str,
}

/// The grabs an input asks for, and what in it could not be used (each a sentence naming its
/// line, row or file).
#[derive(Debug, Default)]
pub struct Reading {
    pub submissions: Vec<Submission>,
    pub problems: Vec<String>,
}

/// The input cannot be used at all.
#[derive(Debug, Error)]
pub enum InputError {
    #[error(
        "haul does not read {what}. Drop a .txt file of URLs (one a line), a saved product page (.html), a .csv or .xlsx of SKUs and image URLs, or a folder of images instead."
    )]
    Unsupported { what: String },
    #[error(
        "the file is {size} bytes; haul reads lists of up to {max} bytes — split it into smaller files"
    )]
    TooLarge { size: u64, max: u64 },
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("the saved page cannot be read: {0}")]
    Page(String),
    #[error(
        "the folder's name {0:?} is not a SKU Seller Central accepts (letters and digits only); rename the folder to the SKU, or add a skus.csv with the columns file,sku,slot"
    )]
    FolderSku(String),
    #[error("the spreadsheet cannot be used: {0}")]
    Sheet(String),
    #[error("skus.csv: {0}")]
    Skus(String),
    /// A link, or something else that is not the inbox's own file (the sentence says which).
    #[error("{0}")]
    Refused(String),
    #[error("the folder holds more than {MAX_FOLDER_IMAGES} images; split it into smaller folders")]
    TooManyImages,
    #[error(transparent)]
    Grab(#[from] crate::jobs::GrabError),
}

/// Opens the inbox's own file at `path` (never through a link: [`own_file::open`]).
pub fn open_own(path: &Path) -> Result<std::fs::File, InputError> {
    own_file::open(path).map_err(|e| match e {
        OpenError::Io(e) => InputError::Io(e),
        refused => InputError::Refused(refused.explain(&display_name(path))),
    })
}

/// Reads at most `max` bytes of an open file; more is an error.
pub fn read_capped(file: std::fs::File, max: u64) -> Result<Vec<u8>, InputError> {
    let size = file.metadata()?.len();
    if size > max {
        return Err(InputError::TooLarge { size, max });
    }
    let mut bytes = Vec::new();
    // The size was checked on this handle; `take` holds a file that grows meanwhile to it.
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(InputError::TooLarge {
            size: bytes.len() as u64,
            max,
        });
    }
    Ok(bytes)
}

/// The last part of `path`, for messages.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI named `spring.sale.html`'s package `spring.sale`, the inbox `spring`: one name now.
    #[test]
    fn a_file_names_its_package_without_the_ending_that_made_it_read() {
        for (file, name) in [
            ("spring.sale.html", "spring.sale"),
            ("Spring.Sale.HTM.GZ", "Spring.Sale"),
            ("list.txt", "list"),
            ("q3.skus.xlsx", "q3.skus"),
            ("notes", "notes"),
            (".html", ".html"),
        ] {
            assert_eq!(package_name(file), name, "{file}");
        }
        assert!(is_saved_page_name("a.HTML.gz") && !is_saved_page_name("a.txt"));
    }
}
