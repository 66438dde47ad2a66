//! Reading an inbox input into grabs. The kind is decided by the name: `.txt` is a URL list.
//!
//! Inputs are outside data: each is read with a size cap, every line is checked, and what cannot
//! be used becomes a sentence for the report rather than an error that stops the rest.

use std::path::Path;

use thiserror::Error;

use crate::config::Config;
use crate::jobs::Submission;
use crate::journal::RequestedMedia;
use crate::url_list;

/// Largest list file read.
const MAX_LIST_BYTES: u64 = 16 << 20;

/// What reading needs to know.
pub struct Context<'a> {
    pub config: &'a Config,
    /// The input's name in the inbox (its path now is `processing/<id>-<name>`).
    pub name: &'a str,
}

/// The grabs an input asks for, and what in it could not be used.
#[derive(Debug, Default)]
pub struct Reading {
    pub submissions: Vec<Submission>,
    pub problems: Vec<String>,
}

/// The input cannot be used at all.
#[derive(Debug, Error)]
pub enum InputError {
    #[error(
        "haul does not read {what}. Drop a .txt file of URLs (one a line) or a folder of images instead."
    )]
    Unsupported { what: String },
    #[error(
        "the file is {size} bytes; haul reads lists of up to {max} bytes — split it into smaller files"
    )]
    TooLarge { size: u64, max: u64 },
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads the input at `path` (named `context.name` in the inbox).
pub fn read(path: &Path, context: &Context<'_>) -> Result<Reading, InputError> {
    let lower = context.name.to_ascii_lowercase();
    if path.is_dir() {
        return Err(InputError::Unsupported {
            what: "folders yet".into(),
        });
    }
    if lower.ends_with(".txt") {
        return url_list_file(path, context);
    }
    let what = match lower.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() => format!(".{ext} files"),
        _ => "files without an extension".to_string(),
    };
    Err(InputError::Unsupported { what })
}

/// Reads a file of at most `max` bytes.
fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, InputError> {
    let size = std::fs::metadata(path)?.len();
    if size > max {
        return Err(InputError::TooLarge { size, max });
    }
    Ok(std::fs::read(path)?)
}

/// `.txt`: one job of the listed media, named after the file.
fn url_list_file(path: &Path, context: &Context<'_>) -> Result<Reading, InputError> {
    let bytes = read_capped(path, MAX_LIST_BYTES)?;
    let (urls, bad) = url_list::parse(&String::from_utf8_lossy(&bytes));
    let mut reading = Reading {
        problems: bad.iter().map(ToString::to_string).collect(),
        ..Default::default()
    };
    if !urls.is_empty() {
        reading.submissions.push(Submission {
            media: urls
                .into_iter()
                .map(|u| RequestedMedia {
                    url: u.url,
                    kind: None,
                })
                .collect(),
            name: Some(stem(context.name).to_string()),
            preset: Some(context.config.preset.clone()),
            ..Default::default()
        });
    }
    Ok(reading)
}

/// The name without its extension(s): `list.txt` → `list`.
fn stem(name: &str) -> &str {
    name.split_once('.')
        .map(|(s, _)| s)
        .filter(|s| !s.is_empty())
        .unwrap_or(name)
}
