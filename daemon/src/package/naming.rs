//! Names: of the package (`<site>-<product id>-<slug>.zip`) and of the entries inside it
//! (`01-main.jpg`, `02.jpg`, …, `variant-red-01.jpg`, `video-01.mp4`, `description-01.jpg`).
//!
//! Every name that reaches the file system goes through [`sanitize`]: no path separators, no
//! `..`, no control or Windows-forbidden characters, no Windows reserved device names, a length
//! cap — page titles and variant labels are outside input.

use std::collections::HashMap;

use crate::media::Role;

/// Longest name component written (bytes), well under every file system's 255.
const MAX_COMPONENT: usize = 120;

/// One entry to name: its role, variant label and file extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySpec<'a> {
    pub role: Role,
    pub variant: Option<&'a str>,
    pub ext: &'a str,
}

/// Entry names for `entries` (in package order), by the default scheme. Images of the product
/// (main, gallery) share one sequence so the gallery reads in order: `01-main.jpg`, `02.jpg`, …;
/// every other role counts on its own (`video-01.mp4`), variants per label.
pub fn entry_names(entries: &[EntrySpec<'_>]) -> Vec<String> {
    let gallery_count = entries
        .iter()
        .filter(|e| matches!(e.role, Role::Main | Role::Gallery))
        .count();
    let width = |count: usize| count.to_string().len().max(2);
    let mut counters: HashMap<String, usize> = HashMap::new();
    let mut totals: HashMap<String, usize> = HashMap::new();
    for e in entries {
        *totals.entry(group_key(e)).or_default() += 1;
    }
    let mut gallery_n = 0;
    let mut names: Vec<String> = entries
        .iter()
        .map(|e| {
            let ext = sanitize_ext(e.ext);
            match e.role {
                Role::Main | Role::Gallery => {
                    gallery_n += 1;
                    let n = format!("{gallery_n:0w$}", w = width(gallery_count));
                    if e.role == Role::Main {
                        format!("{n}-main.{ext}")
                    } else {
                        format!("{n}.{ext}")
                    }
                }
                _ => {
                    let key = group_key(e);
                    let total = totals.get(&key).copied().unwrap_or(1);
                    let n = counters.entry(key.clone()).or_default();
                    *n += 1;
                    format!("{key}-{:0w$}.{ext}", *n, w = width(total))
                }
            }
        })
        .collect();
    make_unique(&mut names);
    names
}

fn group_key(e: &EntrySpec<'_>) -> String {
    match (e.role, e.variant) {
        (Role::Variant, Some(label)) => {
            let label = slug(label, 40);
            if label.is_empty() {
                "variant".to_string()
            } else {
                format!("variant-{label}")
            }
        }
        (role, _) => role.as_str().to_string(),
    }
}

/// Appends ` (2)`, ` (3)`, … before the extension of repeated names.
fn make_unique(names: &mut [String]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for name in names.iter_mut() {
        let key = name.to_lowercase();
        let count = seen.entry(key).or_default();
        *count += 1;
        if *count > 1 {
            let (stem, ext) = split_ext(name);
            *name = format!("{stem} ({count}){ext}");
        }
    }
}

fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

/// The package's base name (without extension): `<site>-<product id>-<slug>` when the product is
/// known, else the request's name (a list file's name), else the first URL's host.
pub fn package_base_name(
    site: Option<&str>,
    product_id: Option<&str>,
    title: Option<&str>,
    name_hint: Option<&str>,
    first_url: Option<&str>,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let (Some(site), Some(id)) = (site, product_id) {
        parts.push(slug(site, 20));
        parts.push(sanitize(id));
        if let Some(title) = title {
            let s = slug(title, 60);
            if !s.is_empty() {
                parts.push(s);
            }
        }
    } else if let Some(hint) = name_hint
        .map(sanitize)
        .filter(|h| h.chars().any(char::is_alphanumeric))
    {
        parts.push(hint);
    } else if let Some(host) = first_url
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_string))
    {
        parts.push(sanitize(&host));
    }
    let name = parts.join("-");
    if name.is_empty() {
        "haul".to_string()
    } else {
        sanitize(&name)
    }
}

/// A lower-case, ASCII, dash-separated form of `text`, at most `max` bytes.
pub fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
        if out.len() >= max {
            break;
        }
    }
    out.truncate(max);
    out.trim_end_matches('-').to_string()
}

/// A name safe as one path component on Linux, macOS and Windows.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    // Leading dots would hide the file (and `..` would climb); trailing dots and spaces are
    // dropped by Windows.
    out = out
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
        .to_string();
    if out.len() > MAX_COMPONENT {
        let mut cut = MAX_COMPONENT;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out = out.trim_end_matches(['.', ' ']).to_string();
    }
    let stem = out
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    const RESERVED: &[&str] = &["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];
    let numbered = (stem.starts_with("COM") || stem.starts_with("LPT"))
        && stem.len() == 4
        && stem.as_bytes()[3].is_ascii_digit();
    if RESERVED.contains(&stem.as_str()) || numbered {
        out.insert(0, '_');
    }
    out
}

fn sanitize_ext(ext: &str) -> String {
    let e: String = ext
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    if e.is_empty() {
        "bin".to_string()
    } else {
        e.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(role: Role, variant: Option<&'static str>, ext: &'static str) -> EntrySpec<'static> {
        EntrySpec { role, variant, ext }
    }

    #[test]
    fn entries_are_named_by_role_and_order() {
        let names = entry_names(&[
            spec(Role::Main, None, "jpg"),
            spec(Role::Gallery, None, "jpg"),
            spec(Role::Gallery, None, "png"),
            spec(Role::Variant, Some("Red / XL"), "jpg"),
            spec(Role::Variant, Some("Red / XL"), "jpg"),
            spec(Role::Variant, Some("Blue"), "webp"),
            spec(Role::Video, None, "mp4"),
            spec(Role::Description, None, "jpg"),
            spec(Role::Review, None, "jpg"),
        ]);
        assert_eq!(
            names,
            [
                "01-main.jpg",
                "02.jpg",
                "03.png",
                "variant-red-xl-01.jpg",
                "variant-red-xl-02.jpg",
                "variant-blue-01.webp",
                "video-01.mp4",
                "description-01.jpg",
                "review-01.jpg"
            ]
        );
    }

    #[test]
    fn wide_galleries_pad_to_the_count() {
        let specs: Vec<_> = (0..120)
            .map(|i| spec(if i == 0 { Role::Main } else { Role::Gallery }, None, "jpg"))
            .collect();
        let names = entry_names(&specs);
        assert_eq!(names[0], "001-main.jpg");
        assert_eq!(names[119], "120.jpg");
    }

    #[test]
    fn labels_that_slug_alike_stay_unique() {
        let names = entry_names(&[
            spec(Role::Variant, Some("Red!"), "jpg"),
            spec(Role::Variant, Some("red?"), "jpg"),
        ]);
        assert_eq!(names, ["variant-red-01.jpg", "variant-red-02.jpg"]);
        let names = entry_names(&[spec(Role::Variant, Some("红色"), "jpg")]);
        assert_eq!(names, ["variant-01.jpg"]);
    }

    #[test]
    fn package_names() {
        assert_eq!(
            package_base_name(
                Some("amazon"),
                Some("B0BRZXRBZL"),
                Some("Dog Life Jacket, Ripstop!"),
                None,
                None
            ),
            "amazon-B0BRZXRBZL-dog-life-jacket-ripstop"
        );
        assert_eq!(
            package_base_name(
                None,
                None,
                None,
                Some("p0001"),
                Some("https://x.example/a.jpg")
            ),
            "p0001"
        );
        assert_eq!(
            package_base_name(
                None,
                None,
                None,
                None,
                Some("https://cdn.example:8443/a.jpg")
            ),
            "cdn.example"
        );
        assert_eq!(package_base_name(None, None, None, None, None), "haul");
    }

    #[test]
    fn hostile_names_are_made_safe() {
        assert_eq!(sanitize("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitize(".."), "");
        assert_eq!(sanitize("a\0b\nc"), "a_b_c");
        assert_eq!(sanitize("CON"), "_CON");
        assert_eq!(sanitize("com1.txt"), "_com1.txt");
        assert_eq!(sanitize("C:\\x"), "C__x");
        assert!(sanitize(&"é".repeat(200)).len() <= MAX_COMPONENT);
        assert_eq!(
            package_base_name(None, None, None, Some("../.."), Some("https://h.example/")),
            "h.example"
        );
    }
}
