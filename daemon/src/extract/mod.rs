//! Finding every media item of a product page. (Per-site extractors arrive with the extraction
//! work; the types here are what the rest of haul consumes.)

use serde::Serialize;

use crate::media::{MediaKind, Role};

/// What a page holds: the product and its media, best quality first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Extraction {
    /// `amazon`, `aliexpress`, `alibaba`, `1688`, `ebay`, `etsy` or `generic`.
    pub site: String,
    pub product_id: Option<String>,
    pub title: Option<String>,
    pub page_url: Option<String>,
    pub media: Vec<ExtractedMedia>,
    /// What could not be read, for the user (never fatal).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One media item found on a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtractedMedia {
    pub kind: MediaKind,
    pub role: Role,
    /// Already rewritten to the largest version the CDN serves.
    pub url: String,
    /// The variant's label (colour/size name), for `Role::Variant`.
    pub variant: Option<String>,
    /// The variant's own product id (Amazon: its ASIN).
    pub variant_id: Option<String>,
}
