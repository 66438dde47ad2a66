//! What a job is asked to do: the request as the journal keeps it (everything needed to plan the
//! job again after a restart), built by the engine from a grab or an inbox input. Its own module
//! below the journal and the engine, so that whoever builds one — the engine, the inbox's
//! readers — needs neither.

use std::path::PathBuf;

use haul_protocol::message::MediaKind;
use serde::{Deserialize, Serialize};

use crate::media::{Include, Role};
use crate::naming::Naming;
use crate::process::preset::PresetConfig;

/// What a job was asked to do: everything needed to (re)plan it after a restart. The page HTML,
/// which can be large, is kept in a file beside the journal (`page_file`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobRequest {
    /// The product page, when the job came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_title: Option<String>,
    /// The saved HTML of the page (a file in the data dir).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_file: Option<PathBuf>,
    /// Fetch `page_url` when planning, and extract it: a product page listed in an inbox URL
    /// list. Only the inbox sets it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fetch_page: bool,
    /// Media URLs handed over directly (URL list, or what the browser's DOM showed).
    #[serde(default)]
    pub media: Vec<RequestedMedia>,
    /// Base name of the package when there is no product to name it after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Processing preset, fixed when the job is accepted (jobs journaled before that use the
    /// config's `preset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// The converting preset's settings when the job was accepted (`[presets.NAME]` or built
    /// in), so an edit of its table does not change a job under way; `None` for `keep` and for
    /// jobs journaled before this existed, which resolve `preset` by the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset_settings: Option<PresetConfig>,
    /// The user's own files (a folder dropped into the inbox), one item each, in this order.
    /// Only the inbox sets them: nothing from the socket or a browser can name a local path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_files: Vec<LocalFile>,
    /// How the entries are named, fixed when the job is accepted (jobs journaled before this
    /// existed use the config's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub naming: Option<Naming>,
    /// The product's SKU or ASIN when the request names it (a spreadsheet row's `sku`): the
    /// product id that `amazon-upload` names the entries by. Only the inbox sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Save the listed media URLs exactly as given, not in the largest size their CDN serves;
    /// fixed when the job is accepted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub as_given: bool,
    /// The roles to save, fixed when the job is accepted (jobs journaled before this existed
    /// save every role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Include>,
}

/// One of the user's own image files, with the entry name the inbox chose for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalFile {
    pub path: PathBuf,
    /// The entry's name without its extension (`SKU.MAIN`); the stored format adds it.
    pub name: String,
    /// The product's main image (its border may be checked).
    #[serde(default)]
    pub main: bool,
}

/// One media URL of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestedMedia {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<MediaKind>,
    /// The role the request gives it (a spreadsheet's `main_image_url` column is the main
    /// image); `None` lets planning decide by order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The user pointed at it (the browser's context menu on an image): saved even where the
    /// page's extraction does not count it as the product's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chosen: bool,
    /// The Seller Central code its spreadsheet column gives it (`other_image_url5` → `PT05`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl RequestedMedia {
    /// A URL whose kind and role planning decides.
    pub fn link(url: impl Into<String>) -> RequestedMedia {
        RequestedMedia {
            url: url.into(),
            kind: None,
            role: None,
            chosen: false,
            code: None,
        }
    }
}
