//! What a job saves: media items with a kind and a role. Extraction assigns roles from the page;
//! a plain URL list gets them from its order (first image main, the rest gallery, videos video).
//! Packaging names entries by role (`01-main.jpg`, `02.jpg`, `video/01.mp4`, `review/01.jpg`, …).
//!
//! A product video a page embeds from a video platform (a YouTube player) is not a file haul
//! downloads: it is a [`Link`] to its page there, journaled with the job and listed in the
//! manifest.

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

/// A medium of the product that lives on a video platform: its page there, recorded (in the
/// extraction, the journal and the package's manifest) instead of downloaded. The platform's
/// player streams it under terms of its own, and haul asks nothing of the platform's servers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Link {
    /// The page that plays the medium (`https://www.youtube.com/watch?v=…`).
    pub url: String,
    /// What it is to the product (`video`).
    pub role: Role,
    /// The platform, lower-case (`youtube`, `vimeo`).
    pub platform: String,
}

/// The roles a job saves — `include` in the config, `haul grab --include`, the grab option
/// `include`, the status page's form. What a page offers in the other roles is left out by the
/// user's choice (never downloaded) and the manifest lists it. A spreadsheet's colour chips
/// (`swatch`) go with the variants. Written as a list of role names: `main,gallery,video`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Include(u8);

/// The roles `include` names, in the order they are written.
const CHOOSABLE: [Role; 6] = [
    Role::Main,
    Role::Gallery,
    Role::Variant,
    Role::Video,
    Role::Description,
    Role::Review,
];

impl Include {
    /// Every role (the default).
    pub const ALL: Include = Include(0b11_1111);

    fn bit(role: Role) -> u8 {
        let role = if role == Role::Swatch {
            Role::Variant
        } else {
            role
        };
        CHOOSABLE
            .iter()
            .position(|r| *r == role)
            .map_or(0, |i| 1 << i)
    }

    /// Whether media of `role` are saved.
    pub fn contains(self, role: Role) -> bool {
        self.0 & Self::bit(role) != 0
    }

    /// Whether every role is saved.
    pub fn is_all(self) -> bool {
        self == Self::ALL
    }
}

impl Default for Include {
    fn default() -> Include {
        Include::ALL
    }
}

/// Why an `include` list cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncludeError {
    #[error(
        "{0:?} is not a role haul saves; include any of main, gallery, variant, video, description, review"
    )]
    Unknown(String),
    #[error(
        "include names no role; name at least one of main, gallery, variant, video, description, review"
    )]
    Empty,
}

impl TryFrom<Vec<String>> for Include {
    type Error = IncludeError;

    fn try_from(names: Vec<String>) -> Result<Include, IncludeError> {
        let mut bits = 0;
        for name in &names {
            let name = name.trim();
            let role = Role::parse(&name.to_ascii_lowercase())
                .filter(|r| *r != Role::Swatch)
                .ok_or_else(|| IncludeError::Unknown(name.to_string()))?;
            bits |= Include::bit(role);
        }
        if bits == 0 {
            return Err(IncludeError::Empty);
        }
        Ok(Include(bits))
    }
}

impl From<Include> for Vec<String> {
    fn from(include: Include) -> Vec<String> {
        CHOOSABLE
            .iter()
            .filter(|r| include.contains(**r))
            .map(|r| r.as_str().to_string())
            .collect()
    }
}

impl std::str::FromStr for Include {
    type Err = IncludeError;

    /// `main,gallery,video`.
    fn from_str(s: &str) -> Result<Include, IncludeError> {
        Include::try_from(
            s.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>(),
        )
    }
}

impl std::fmt::Display for Include {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Vec::<String>::from(*self).join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_reads_and_writes_role_lists() {
        let some: Include = " main, Video ".parse().unwrap();
        assert!(some.contains(Role::Main) && some.contains(Role::Video));
        assert!(!some.contains(Role::Gallery) && !some.contains(Role::Review));
        assert_eq!(some.to_string(), "main,video");
        let variants: Include = "variant".parse().unwrap();
        assert!(
            variants.contains(Role::Swatch),
            "chips go with the variants"
        );
        assert!(Include::ALL.is_all());
        assert_eq!(
            Include::ALL.to_string(),
            "main,gallery,variant,video,description,review"
        );
        assert_eq!(
            "main,photos".parse::<Include>(),
            Err(IncludeError::Unknown("photos".into()))
        );
        assert_eq!("".parse::<Include>(), Err(IncludeError::Empty));
        assert_eq!(
            "swatch".parse::<Include>(),
            Err(IncludeError::Unknown("swatch".into()))
        );
        let json = serde_json::to_string(&some).unwrap();
        assert_eq!(json, r#"["main","video"]"#);
        assert_eq!(serde_json::from_str::<Include>(&json).unwrap(), some);
    }
}
