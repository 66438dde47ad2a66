//! Processing presets: what happens to an image between download and package.
//!
//! - `keep` (the default) stores the bytes as received, minus metadata ([`super::strip`]);
//! - every other preset *converts*: decode (bounded), turn by the EXIF orientation, flatten
//!   transparency onto white, convert to sRGB, scale the longest side down to `max_side`, and
//!   encode as JPEG or WebP at `quality` ([`super::convert`]). Converting drops every piece of
//!   metadata by construction.
//!
//! Built in: `keep`, `amazon-listing` (JPEG, quality 92, longest side at most 10000 px with a
//! warning under 1000 px — Amazon cannot zoom smaller images — and a warning when the main
//! image's border is not pure white) and `web` (JPEG, quality 82, longest side at most 2000 px).
//! `[presets.NAME]` tables in the config define more, or override `amazon-listing` and `web`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The default preset's name.
pub const KEEP: &str = "keep";
/// The preset for Seller Central listing images.
pub const AMAZON_LISTING: &str = "amazon-listing";
/// The preset for images on a web page.
pub const WEB: &str = "web";

/// What a converting preset writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Jpeg,
    Webp,
}

/// A preset as written in the config (`[presets.NAME]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetConfig {
    /// `jpeg` or `webp`.
    pub format: OutputFormat,
    /// Encoder quality, 1–100.
    #[serde(default = "default_quality")]
    pub quality: u8,
    /// Longest side in pixels; larger images are scaled down.
    #[serde(default)]
    pub max_side: Option<u32>,
    /// Images whose longest side is smaller get a warning (they are not scaled up).
    #[serde(default)]
    pub min_side: Option<u32>,
    /// Warn when a main image's outermost pixels are not all pure white (RGB 255).
    #[serde(default)]
    pub check_white_border: bool,
}

fn default_quality() -> u8 {
    90
}

/// A resolved preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preset {
    /// Bytes as received, metadata removed losslessly.
    Keep,
    /// Decoded, converted and encoded again.
    Convert(ConvertSpec),
}

/// What a converting preset does (every field checked by [`resolve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertSpec {
    pub name: String,
    pub format: OutputFormat,
    pub quality: u8,
    pub max_side: Option<u32>,
    pub min_side: Option<u32>,
    pub check_white_border: bool,
}

/// A preset name that neither haul nor the config defines, or a definition that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PresetError {
    #[error(
        "there is no processing preset {name:?}; use one of {known}, or define it as [presets.{name}] in config.toml"
    )]
    Unknown { name: String, known: String },
    #[error("preset {name:?}: {problem}")]
    Invalid { name: String, problem: String },
}

fn builtin(name: &str) -> Option<PresetConfig> {
    match name {
        AMAZON_LISTING => Some(PresetConfig {
            format: OutputFormat::Jpeg,
            quality: 92,
            max_side: Some(10_000),
            min_side: Some(1_000),
            check_white_border: true,
        }),
        WEB => Some(PresetConfig {
            format: OutputFormat::Jpeg,
            quality: 82,
            max_side: Some(2_000),
            min_side: None,
            check_white_border: false,
        }),
        _ => None,
    }
}

/// Checks the config's own presets (at load time, so a typo stops haul with the key's name).
pub fn validate(defined: &BTreeMap<String, PresetConfig>) -> Result<(), PresetError> {
    for name in defined.keys() {
        resolve(name, defined)?;
    }
    Ok(())
}

/// The preset called `name`: the config's definition first, then the built-ins.
/// The settings of the converting preset `name` as `defined` (or built in) now; `None` for
/// `keep` and for a name nothing defines. A job keeps them from the moment it is accepted.
pub fn settings(name: &str, defined: &BTreeMap<String, PresetConfig>) -> Option<PresetConfig> {
    if name == KEEP {
        return None;
    }
    defined.get(name).cloned().or_else(|| builtin(name))
}

pub fn resolve(
    name: &str,
    defined: &BTreeMap<String, PresetConfig>,
) -> Result<Preset, PresetError> {
    if name == KEEP {
        if defined.contains_key(KEEP) {
            return Err(PresetError::Invalid {
                name: KEEP.into(),
                problem:
                    "`keep` is built in and cannot be redefined; give your preset another name"
                        .into(),
            });
        }
        return Ok(Preset::Keep);
    }
    let Some(config) = defined.get(name).cloned().or_else(|| builtin(name)) else {
        let mut known: Vec<&str> = vec![KEEP, AMAZON_LISTING, WEB];
        known.extend(defined.keys().map(String::as_str));
        known.sort_unstable();
        known.dedup();
        return Err(PresetError::Unknown {
            name: name.to_string(),
            known: known.join(", "),
        });
    };
    let invalid = |problem: &str| PresetError::Invalid {
        name: name.to_string(),
        problem: problem.to_string(),
    };
    if !(1..=100).contains(&config.quality) {
        return Err(invalid("`quality` must be between 1 and 100"));
    }
    if config.max_side == Some(0) {
        return Err(invalid("`max_side` must be at least 1"));
    }
    if let (Some(min), Some(max)) = (config.min_side, config.max_side)
        && min > max
    {
        return Err(invalid("`min_side` is larger than `max_side`"));
    }
    Ok(Preset::Convert(ConvertSpec {
        name: name.to_string(),
        format: config.format,
        quality: config.quality,
        max_side: config.max_side,
        min_side: config.min_side,
        check_white_border: config.check_white_border,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_resolve_and_config_overrides_them() {
        let none = BTreeMap::new();
        assert_eq!(resolve("keep", &none), Ok(Preset::Keep));
        let Ok(Preset::Convert(amazon)) = resolve("amazon-listing", &none) else {
            panic!("amazon-listing converts");
        };
        assert_eq!(amazon.format, OutputFormat::Jpeg);
        assert_eq!(
            (amazon.min_side, amazon.max_side),
            (Some(1000), Some(10_000))
        );
        assert!(amazon.check_white_border);

        let mut defined = BTreeMap::new();
        defined.insert(
            "web".to_string(),
            PresetConfig {
                format: OutputFormat::Webp,
                quality: 70,
                max_side: Some(800),
                min_side: None,
                check_white_border: false,
            },
        );
        let Ok(Preset::Convert(web)) = resolve("web", &defined) else {
            panic!("web converts");
        };
        assert_eq!(
            (web.format, web.quality, web.max_side),
            (OutputFormat::Webp, 70, Some(800))
        );
    }

    #[test]
    fn unknown_and_impossible_presets_say_what_to_do() {
        let err = resolve("amazon", &BTreeMap::new()).unwrap_err().to_string();
        assert!(
            err.contains("amazon-listing") && err.contains("[presets.amazon]"),
            "{err}"
        );

        let mut defined = BTreeMap::new();
        let mut bad = PresetConfig {
            format: OutputFormat::Jpeg,
            quality: 0,
            max_side: None,
            min_side: None,
            check_white_border: false,
        };
        defined.insert("mine".to_string(), bad.clone());
        assert!(
            validate(&defined)
                .unwrap_err()
                .to_string()
                .contains("quality")
        );
        bad.quality = 80;
        bad.min_side = Some(500);
        bad.max_side = Some(100);
        defined.insert("mine".to_string(), bad.clone());
        assert!(
            validate(&defined)
                .unwrap_err()
                .to_string()
                .contains("min_side")
        );
        defined.clear();
        bad.min_side = None;
        defined.insert("keep".to_string(), bad);
        assert!(validate(&defined).is_err());
    }
}
