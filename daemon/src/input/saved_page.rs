//! A saved product page (`.html`, `.htm`, `.html.gz`, `.htm.gz`): one grab of the page, extracted
//! when the job is planned, as the browser button's grab is — for `haul grab PAGE.html` and for
//! a page dropped into the inbox alike.

use std::io::Read;
use std::path::Path;

use haul_protocol::message::{Grab, GrabOptions, Page};

use super::reading::{InputError, package_name};

/// The grab of the page read from `file` (named `name`; `path` names it in errors). Its address
/// is empty: the page's own canonical address is used unless the caller knows better.
pub fn grab(file: impl Read, path: &Path, name: &str) -> Result<Grab, InputError> {
    let html =
        crate::extract::read_page_from(file, path).map_err(|e| InputError::Page(e.to_string()))?;
    Ok(Grab {
        id: None,
        page: Some(Page {
            url: String::new(),
            title: None,
            html: Some(html),
        }),
        media: Vec::new(),
        options: GrabOptions {
            name: Some(package_name(name).to_string()),
            ..Default::default()
        },
    })
}
