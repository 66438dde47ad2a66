//! What a job saves: media items with a kind and a role. Extraction assigns roles from the page;
//! a plain URL list gets them from its order (first image main, the rest gallery, videos video).
//! Packaging names entries by role (`01-main.jpg`, `02.jpg`, `video-01.mp4`, …).

use serde::{Deserialize, Serialize};

pub use haul_protocol::message::MediaKind;

/// What a media item is to its product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The product's main image.
    Main,
    /// Further gallery images of the product (as opened).
    Gallery,
    /// Images of one colour/size variant.
    Variant,
    /// A variant's colour chip (Seller Central's `SWCH`); from spreadsheets, not from pages.
    Swatch,
    /// Product videos.
    Video,
    /// Description / A+ content images.
    Description,
    /// Images from customer reviews.
    Review,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Main => "main",
            Role::Gallery => "gallery",
            Role::Variant => "variant",
            Role::Swatch => "swatch",
            Role::Video => "video",
            Role::Description => "description",
            Role::Review => "review",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "main" => Role::Main,
            "gallery" => Role::Gallery,
            "variant" => Role::Variant,
            "swatch" => Role::Swatch,
            "video" => Role::Video,
            "description" => Role::Description,
            "review" => Role::Review,
            _ => return None,
        })
    }
}
