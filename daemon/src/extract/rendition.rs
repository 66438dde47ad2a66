//! One picture, many renditions: how the URLs of CDNs that [`super::cdn`] has no rules for name a
//! picture's size.
//!
//! Shops serve each picture in several sizes and formats — `?imwidth=156` / `?imwidth=1800`,
//! `?f=xxs` / `?f=xxxl`, `/products/100x100/…` / `/products/1500x1500/…`, `…_340x340.jpg`,
//! Magento's `/cache/<hash>/`, `img01.` / `img02.` mirrors, `.jpg` / `.webp`. [`picture_key`]
//! names the picture the same for all of them, so that one picture is one item, and [`size_of`]
//! reads the size a rendition asks for, so that the largest one a page references is kept. Both
//! are pure string work.
//!
//! Only what is unambiguously a size is set aside: a number with a unit (`500x500`, `w_500`,
//! `1600w`), a size word (`thumb`, `large`, `xxl`; single letters only as the value of a size
//! parameter), a parameter named for a size or a rendering option (`width`, `imwidth`, `sw`,
//! `quality`, `format`). Ids are never touched: `12222651_1.jpg` and `12222651.jpg` stay two
//! pictures, and a query that names the file (`image.php?id=7`) stays part of its name.
//! Where a shop writes sizes as bare numbers, the page itself shows which numbers are sizes
//! ([`numbered_renditions`]).

use std::collections::HashMap;

/// Query (and `;` path) parameters that ask for a size; their value is a number, `WxH` or a
/// size word.
const SIZE_PARAMS: &[&str] = &[
    "w",
    "width",
    "wid",
    "sw",
    "imwidth",
    "maxwidth",
    "max_width",
    "mw",
    "h",
    "height",
    "hei",
    "sh",
    "imheight",
    "maxheight",
    "max_height",
    "mh",
    "size",
    "sz",
    "s",
    "res",
    "resolution",
    "dim",
    "f",
];

/// Parameters that change how a picture is rendered, not which picture it is.
const RENDER_PARAMS: &[&str] = &[
    "q",
    "quality",
    "qlt",
    "fmt",
    "format",
    "fm",
    "auto",
    "fit",
    "crop",
    "dpr",
    "resize",
    "scale",
    "impolicy",
    "imformat",
    "filter",
    "bg",
    "bgcolor",
    "trim",
    "sharpen",
    "op_sharpen",
    "mode",
    "anchor",
    "align",
    "rect",
    "compress",
    "progressive",
    "strip",
    "v",
    "ver",
    "version",
    "cb",
    "ts",
    "t",
    // Adobe Dynamic Media (Scene7): `?$pdp$&wid=1000&resMode=sharp2&scl=1&bgc=255,255,255`.
    "resmode",
    "scl",
    "bgc",
    "layer",
];

/// Words a path or file name uses for a rendition's size, with the longest side they stand for
/// (roughly: only their order matters).
fn word_size(word: &str) -> Option<u32> {
    Some(match word {
        "xxxs" => 40,
        "xxs" => 80,
        "thumb" | "thumbs" | "thumbnail" | "thumbnails" | "mini" | "tiny" | "icon" => 100,
        "xs" => 160,
        "small" => 300,
        "medium" | "normal" | "std" | "standard" => 600,
        "large" | "big" => 1000,
        "xl" => 1400,
        "xxl" => 1800,
        "zoom" | "hd" | "popup" | "hires" => 2000,
        "xxxl" => 2400,
        "full" | "fullsize" | "original" | "orig" | "master" => 10_000,
        _ => return None,
    })
}

/// Single letters that are sizes only as a size parameter's value (`?f=s`, `?size=l`).
fn letter_size(value: &str) -> Option<u32> {
    Some(match value {
        "s" => 300,
        "m" => 600,
        "l" => 1000,
        _ => return None,
    })
}

/// The longest side a dimension token asks for: `500x500`, `500x`, `x500`, `w500`, `w_500`,
/// `h600`, `1600w`, `500px`.
fn dims(token: &str) -> Option<u32> {
    let number = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    if let Some((w, h)) = token.split_once('x') {
        return match (number(w), number(h)) {
            (Some(w), Some(h)) => Some(w.max(h)),
            (Some(w), None) if h.is_empty() => Some(w),
            (None, Some(h)) if w.is_empty() => Some(h),
            _ => None,
        };
    }
    for prefix in ["w_", "h_", "w", "h"] {
        if let Some(n) = token.strip_prefix(prefix).and_then(number) {
            return (n >= 10).then_some(n);
        }
    }
    for suffix in ["px", "w"] {
        if let Some(n) = token.strip_suffix(suffix).and_then(number) {
            return (n >= 10).then_some(n);
        }
    }
    None
}

/// Words that may stand beside a size in a path segment that only describes a rendition
/// (`img-500`, `resize-h600-w600^compr-r85`, `w_500,h_500,c_fill`, `fit-in`).
fn is_render_word(token: &str) -> bool {
    matches!(
        token,
        "img"
            | "image"
            | "resize"
            | "resized"
            | "crop"
            | "cropped"
            | "fit"
            | "fill"
            | "in"
            | "scale"
            | "scaled"
            | "compr"
            | "auto"
            | "c"
            | "f"
            | "q"
            | "webp"
            | "jpg"
            | "png"
    ) || token
        .strip_prefix(['q', 'r'])
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        || token.starts_with("c_")
        || token.starts_with("q_")
        || token.starts_with("f_")
}

fn tokens(segment: &str) -> impl Iterator<Item = &str> {
    segment
        .split(['-', '_', ',', '^', '.', '='])
        .filter(|t| !t.is_empty())
}

/// The size a whole path segment stands for, when it only describes a rendition
/// (`/500x500/`, `/img-large/`, `/resize-h600-w600^compr-r85/`); `None` for every other segment.
fn segment_size(segment: &str) -> Option<u32> {
    let mut size: Option<u32> = None;
    let mut bare: Option<u32> = None;
    let mut words = false;
    for token in tokens(segment) {
        if let Some(n) = dims(token).or_else(|| word_size(token)) {
            size = Some(size.map_or(n, |s| s.max(n)));
        } else if is_render_word(token) {
            words = true;
        } else if let Some(n) = token
            .parse::<u32>()
            .ok()
            .filter(|n| (10..=10_000).contains(n))
        {
            // `img-500`: a bare number is a size only beside a rendering word.
            bare = Some(bare.map_or(n, |b| b.max(n)));
        } else {
            return None;
        }
    }
    match (size, bare) {
        (Some(s), Some(b)) => Some(s.max(b)),
        (Some(s), None) => Some(s),
        (None, Some(b)) if words => Some(b),
        _ => None,
    }
}

/// `photo_500x500` → (`photo`, 500); `photo-300x300` → (`photo`, 300); `mug_large@2x` →
/// (`mug`, 2000). Size words count only after `_` or `@` (`t-shirt-large` names a product).
fn split_stem_size(stem: &str) -> (&str, Option<u32>) {
    let mut rest = stem;
    let mut size: Option<u32> = None;
    let mut scale = 1;
    while let Some(cut) = rest.rfind(['_', '-', '@']) {
        // The separators are ASCII, so both sides are on character boundaries.
        let (head, tail) = (&rest[..cut], &rest[cut + 1..]);
        let separator = rest.as_bytes().get(cut).copied().unwrap_or(b'_');
        if head.is_empty() {
            break;
        }
        let found = if separator == b'@' && tail.len() == 2 && tail.ends_with('x') {
            scale = tail[..1].parse().unwrap_or(1);
            Some(None)
        } else if let Some(n) = dims(tail) {
            Some(Some(n))
        } else if separator != b'-' {
            word_size(tail).map(Some)
        } else {
            None
        };
        match found {
            Some(n) => {
                if let Some(n) = n {
                    size = Some(size.map_or(n, |s| s.max(n)));
                }
                rest = head;
            }
            None => break,
        }
    }
    (rest, size.map(|s| s.saturating_mul(scale)))
}

/// A file name's stem and extension when the extension is a media one.
fn split_media_ext(file: &str) -> Option<(&str, &str)> {
    let (stem, ext) = file.rsplit_once('.')?;
    let known = [
        "jpg", "jpeg", "png", "webp", "gif", "avif", "bmp", "tif", "tiff", "heic", "mp4", "webm",
        "m3u8", "mov", "m4v",
    ];
    known.contains(&ext).then_some((stem, ext))
}

/// The site a host serves for: `img01.ztat.net`, `img02.ztat.net` and `www.kiabi.com` /
/// `static.kiabi.com` are mirrors of one store of files, so the first label of a host of three
/// labels or more is not part of the picture's name (the path is).
fn host_key(host: &str) -> &str {
    match host.split_once('.') {
        Some((_, rest)) if rest.contains('.') => rest,
        _ => host,
    }
}

/// Splits `name;k=v;k2=v2` (path parameters) into the name and its parameters.
fn path_params(segment: &str) -> (&str, impl Iterator<Item = (&str, &str)>) {
    let mut parts = segment.split(';');
    let name = parts.next().unwrap_or("");
    (
        name,
        parts.filter_map(|kv| kv.split_once('=').or(Some((kv, "")))),
    )
}

fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
}

/// The size a size parameter's value asks for.
fn param_size(key: &str, value: &str) -> Option<u32> {
    if !SIZE_PARAMS.contains(&key) {
        return None;
    }
    let value = value.trim().to_ascii_lowercase();
    let value = value.trim_end_matches("p").trim_end_matches("px");
    let number = value
        .parse::<f64>()
        .ok()
        .filter(|n| *n >= 10.0 && *n < 100_000.0);
    number
        .map(|n| n as u32)
        .or_else(|| dims(value))
        .or_else(|| word_size(value))
        .or_else(|| letter_size(value))
}

/// The name of the picture behind `host` + `path` (+ `query`) on a CDN without rules of its own:
/// the same for every rendition of one picture (module doc).
pub fn picture_key(host: &str, path: &str, query: Option<&str>) -> String {
    let path = path.to_ascii_lowercase().replace("%5e", "^");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut key = host_key(host).to_string();
    let last = segments.len().saturating_sub(1);
    let mut has_media_ext = false;
    let mut skip_next_hash = false;
    for (i, segment) in segments.iter().enumerate() {
        let (name, _) = path_params(segment);
        if skip_next_hash {
            skip_next_hash = false;
            if name.len() >= 16 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
        }
        // Magento: `/media/catalog/product/cache/<hash>/9/7/x.jpg` is a resized `/9/7/x.jpg`.
        if name == "cache" {
            skip_next_hash = true;
            continue;
        }
        if i == last {
            let (stem, ext) = match split_media_ext(name) {
                Some((stem, _ext)) => {
                    has_media_ext = true;
                    (split_stem_size(stem).0, "")
                }
                None => (name, ""),
            };
            key.push('/');
            key.push_str(stem);
            key.push_str(ext);
        } else if segment_size(name).is_none() {
            key.push('/');
            key.push_str(name);
        }
    }
    // A file with a media extension is named by its path; a query can only render it
    // differently. Elsewhere the query may name the file: keep all but rendering parameters.
    if !has_media_ext && let Some(query) = query {
        let mut kept: Vec<(&str, &str)> = query_pairs(query)
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                // `$pdp_zoom$`: a Scene7 preset, a named rendition.
                let preset = k.starts_with('$') && k.ends_with('$');
                !preset
                    && !SIZE_PARAMS.contains(&k.as_str())
                    && !RENDER_PARAMS.contains(&k.as_str())
            })
            .collect();
        kept.sort_unstable();
        for (n, (k, v)) in kept.into_iter().enumerate() {
            key.push(if n == 0 { '?' } else { '&' });
            key.push_str(k);
            key.push('=');
            key.push_str(v);
        }
    }
    key
}

/// The longest side (roughly, in pixels) the rendition at `url` asks for, from its size
/// parameters, size path segments and file-name size suffix; `None` when the URL names no size
/// (often the original, but not always: only the page can tell).
pub fn size_of(url: &str) -> Option<u32> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    let mut best: Option<u32> = None;
    let mut take = |n: Option<u32>| {
        if let Some(n) = n {
            best = Some(best.map_or(n, |b| b.max(n)));
        }
    };
    let path = parsed.path().to_ascii_lowercase().replace("%5e", "^");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        let (name, params) = path_params(segment);
        for (k, v) in params {
            take(param_size(k, v));
        }
        if i == last {
            if let Some((stem, _)) = split_media_ext(name) {
                take(split_stem_size(stem).1);
            }
        } else {
            take(segment_size(name));
        }
    }
    if let Some(query) = parsed.query() {
        for (k, v) in query_pairs(query) {
            take(param_size(&k.to_ascii_lowercase(), v));
        }
    }
    best
}

/// Whether the rendition at `url` asks for a particular size or rendering preset (a size
/// parameter, a size in its path or name, `impolicy`, `fit`, `resize`…). One that does not — only a
/// format, quality or version at most — is the file as uploaded.
pub fn asks_for_a_size(url: &str) -> bool {
    const PRESETS: &[&str] = &[
        "impolicy", "fit", "crop", "resize", "scale", "dpr", "mode", "rect", "trim",
    ];
    size_of(url).is_some()
        || url::Url::parse(url).is_ok_and(|u| {
            u.query_pairs().any(|(k, _)| {
                let k = k.to_ascii_lowercase();
                PRESETS.contains(&k.as_str()) || (k.starts_with('$') && k.ends_with('$'))
            }) || u.path().contains(';')
        })
}

/// A media file's folder (on its site, mirrors as one), name and extension, lower-case.
struct FolderFile {
    folder: String,
    stem: String,
    ext: String,
}

impl FolderFile {
    fn of(url: &str) -> Option<FolderFile> {
        let parsed = url::Url::parse(url).ok()?;
        let host = parsed.host_str()?;
        let path = parsed.path().to_ascii_lowercase();
        let (dir, file) = path.rsplit_once('/')?;
        let (stem, ext) = split_media_ext(file)?;
        Some(FolderFile {
            folder: format!("{}{dir}", host_key(host)),
            stem: stem.to_string(),
            ext: ext.to_string(),
        })
    }
}

/// Renditions a page names by a number no rule knows: files of one folder whose names differ
/// only in one number, where the numbers seen there are sizes — between 32 and 4096, and not a
/// run of consecutive numbers, which is a sequence of views (`_1`, `_2`, `_3`). Spartoo's
/// `3410048_40_A.jpg` / `_500_A` / `_1200_A` and used.ca's `93261690_114.jpg` / `_614` / `_934`
/// are one picture each. Returns groups of (index into `urls`, the size its number says).
pub fn numbered_renditions<'u>(urls: impl IntoIterator<Item = &'u str>) -> Vec<Vec<(usize, u32)>> {
    let mut by_pattern: HashMap<String, Vec<(usize, u32)>> = HashMap::new();
    for (index, url) in urls.into_iter().enumerate() {
        let Some(FolderFile { folder, stem, ext }) = FolderFile::of(url) else {
            continue;
        };
        let tokens: Vec<&str> = stem.split(['_', '-', '.']).collect();
        if tokens.len() < 2 {
            continue;
        }
        for (j, token) in tokens.iter().enumerate() {
            let Some(n) = token
                .parse::<u32>()
                .ok()
                .filter(|n| (32..=4096).contains(n) && !token.starts_with('0'))
            else {
                continue;
            };
            let mut pattern = format!("{folder}/");
            for (k, t) in tokens.iter().enumerate() {
                pattern.push_str(if k == j { "#" } else { t });
                pattern.push('|');
            }
            pattern.push_str(&ext);
            by_pattern.entry(pattern).or_default().push((index, n));
        }
    }
    by_pattern
        .into_values()
        .filter_map(|members| {
            let mut sizes: Vec<u32> = members.iter().map(|(_, n)| *n).collect();
            sizes.sort_unstable();
            sizes.dedup();
            let (first, last) = (*sizes.first()?, *sizes.last()?);
            let run = (last - first) as usize + 1 == sizes.len();
            (sizes.len() >= 2 && sizes.len() <= MAX_SIZES && !run).then_some(members)
        })
        .collect()
}

/// Renditions a page names by a size word no rule knows: the files of one folder form a grid of
/// views × sizes — `1-zoom-desktop.jpg`, `1-cart.jpg`, `2-zoom-desktop.jpg`, `2-cart.jpg`;
/// `m_10134622_001.jpg`, `l_10134622_001.jpg`; `ab01gra-…-pdfds.jpg`, `ab01gra-…-pdhdr.jpg`,
/// `ab12avd-…-pdhdr.jpg` — where the size side is written in letters and the view side carries
/// digits (a view number, an id). Files that differ only on the size side are one picture.
/// Returns groups of indices into `urls`.
pub fn grid_renditions<'u>(urls: impl IntoIterator<Item = &'u str>) -> Vec<Vec<usize>> {
    // Folder → (index, stem tokens) of each distinct file.
    let mut folders: HashMap<String, Vec<(usize, Vec<String>)>> = HashMap::new();
    for (index, url) in urls.into_iter().enumerate() {
        let Some(FolderFile { folder, stem, .. }) = FolderFile::of(url) else {
            continue;
        };
        let tokens: Vec<String> = split_stem_size(&stem)
            .0
            .split(['_', '-', '.'])
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if tokens.len() >= 2 {
            folders.entry(folder).or_default().push((index, tokens));
        }
    }
    let mut groups = Vec::new();
    for files in folders.into_values() {
        if files.len() < 4 || files.len() > MAX_GRID_FILES {
            continue;
        }
        for cut in [Cut::Left(1), Cut::Left(2), Cut::Right(1), Cut::Right(2)] {
            if let Some(found) = grid(&files, cut) {
                groups.extend(found);
                break;
            }
        }
    }
    groups
}

/// Where a file name is cut into its two sides: after the first `n` tokens, or before the last.
#[derive(Clone, Copy)]
enum Cut {
    Left(usize),
    Right(usize),
}

/// The views of a views × sizes grid cut at `cut`, as groups of file indices.
fn grid(files: &[(usize, Vec<String>)], cut: Cut) -> Option<Vec<Vec<usize>>> {
    let sides: Vec<(usize, String, String)> = files
        .iter()
        .filter_map(|(index, tokens)| {
            let at = match cut {
                Cut::Left(n) => n,
                Cut::Right(n) => tokens.len().checked_sub(n)?,
            };
            (at > 0 && at < tokens.len())
                .then(|| (*index, tokens[..at].join("-"), tokens[at..].join("-")))
        })
        .collect();
    let mut by_left: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut by_right: HashMap<&str, Vec<&str>> = HashMap::new();
    for (_, left, right) in &sides {
        by_left.entry(left).or_default().push(right);
        by_right.entry(right).or_default().push(left);
    }
    let spread = |m: &HashMap<&str, Vec<&str>>| {
        m.values()
            .filter(|others| {
                let mut o = (*others).clone();
                o.sort_unstable();
                o.dedup();
                o.len() >= 2
            })
            .count()
    };
    if spread(&by_left) < 2 || spread(&by_right) < 2 {
        return None;
    }
    let has_digit = |v: &str| v.bytes().any(|b| b.is_ascii_digit());
    let words = |m: &HashMap<&str, Vec<&str>>| {
        let letters = m.keys().filter(|v| !has_digit(v)).count();
        letters * 3 >= m.len() * 2
    };
    let numbered = |m: &HashMap<&str, Vec<&str>>| m.keys().all(|v| has_digit(v));
    // Views carry digits; sizes are words.
    let view_is_left = if numbered(&by_left) && words(&by_right) {
        true
    } else if numbered(&by_right) && words(&by_left) {
        false
    } else {
        return None;
    };
    let mut views: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, left, right) in &sides {
        let view = if view_is_left { left } else { right };
        views.entry(view).or_default().push(*index);
    }
    Some(views.into_values().filter(|v| v.len() >= 2).collect())
}

/// Largest folder a grid is looked for in (a shop's whole catalogue folder is not a grid).
const MAX_GRID_FILES: usize = 400;

/// Most sizes one picture is served in; more numbers than that in one place are not sizes.
const MAX_SIZES: usize = 12;

#[cfg(test)]
mod tests {
    use super::*;

    fn key(url: &str) -> String {
        let u = url::Url::parse(url).expect("test URL");
        picture_key(u.host_str().unwrap_or(""), u.path(), u.query())
    }

    #[test]
    fn renditions_of_one_picture_share_a_key() {
        for group in [
            &[
                "https://www.ikea.com/gb/en/images/products/fjantig-hook-black__0710517_PE727612_S5.JPG?f=xxs",
                "https://www.ikea.com/gb/en/images/products/fjantig-hook-black__0710517_pe727612_s5.jpg?f=xxxl",
                "https://www.ikea.com/gb/en/images/products/fjantig-hook-black__0710517_PE727612_S5.JPG",
            ][..],
            &[
                "https://img01.ztat.net/article/spp-media-p1/656e3a/d9e55f4f.jpg?imwidth=156&filter=packshot",
                "https://img02.ztat.net/article/spp-media-p1/656e3a/d9e55f4f.jpg?imwidth=1800",
            ],
            &[
                "https://multimedia.bbycastatic.ca/multimedia/products/100x100/122/12222/12222651_3.jpg",
                "https://multimedia.bbycastatic.ca/multimedia/products/1500x1500/122/12222/12222651_3.jpg",
            ],
            &[
                "https://almedinanet.b-cdn.net/media/catalog/product/cache/6b1c09900b407c50fce2db5e66ebc123/9/7/9789724084985_1590054222.jpg",
                "https://almedinanet.b-cdn.net/media/catalog/product/cache/10f519365b01716ddb90abc57de5a837/9/7/9789724084985_1590054222.jpg",
                "https://almedinanet.b-cdn.net/media/catalog/product/9/7/9789724084985_1590054222.jpg",
            ],
            &[
                "https://shop.example/media/robe-longue_1275949-9_340x340.jpg",
                "https://shop.example/media/robe-longue_1275949-9_500x500.jpg",
                "https://shop.example/media/robe-longue_1275949-9.webp",
            ],
            &[
                "https://shop.example/img-500/sofa.jpg",
                "https://shop.example/img-large/sofa.jpg",
            ],
            &[
                "https://img.shop.example/im/abc/resize-h600-w600%5Ecompr-r85/1234/sofa.jpg",
                "https://img.shop.example/im/abc/1234/sofa.jpg",
            ],
            &[
                "https://www.kiabi.com/images/robe-ve900_1_frf1.jpg",
                "https://static.kiabi.com/images/robe-ve900_1_frf1.jpg",
            ],
            &[
                "https://apollo.example.net/v1/files/hkvrcyj7vklz-PK/image;s=272x0",
                "https://apollo.example.net/v1/files/hkvrcyj7vklz-PK/image;s=780x0",
            ],
            &[
                "https://cdn.example/p.php?id=7&w=100",
                "https://cdn.example/p.php?w=1200&id=7&quality=80",
            ],
            &[
                "https://images.example.com/is/image/Shop/12345_A?$pdp_thumb$",
                "https://images.example.com/is/image/Shop/12345_A?$pdp_zoom$&wid=2000&resMode=sharp2",
            ],
        ] {
            let keys: Vec<String> = group.iter().map(|u| key(u)).collect();
            assert!(
                keys.windows(2).all(|w| w[0] == w[1]),
                "{group:?} → {keys:?}"
            );
        }
    }

    #[test]
    fn different_pictures_keep_different_keys() {
        for (a, b) in [
            (
                "https://m.example/products/500x500/122/12222/12222651.jpg",
                "https://m.example/products/500x500/122/12222/12222651_1.jpg",
            ),
            (
                "https://cdn.example/p.php?id=7",
                "https://cdn.example/p.php?id=8",
            ),
            (
                "https://shop.example/img/t-shirt-large.jpg",
                "https://shop.example/img/t-shirt-small.jpg",
            ),
            (
                "https://shop.example/2019/photo.jpg",
                "https://shop.example/2020/photo.jpg",
            ),
            ("https://a.example/x/1.jpg", "https://b.example/x/1.jpg"),
        ] {
            assert_ne!(key(a), key(b), "{a} / {b}");
        }
    }

    #[test]
    fn bare_numbers_are_sizes_only_where_the_page_uses_them_so() {
        let urls = [
            "https://photos6.spartoo.pt/photos/341/3410048/3410048_40_A.jpg",
            "https://photos6.spartoo.pt/photos/341/3410048/3410048_500_A.jpg",
            "https://photos6.spartoo.pt/photos/341/3410048/3410048_1200_A.jpg",
            "https://photos6.spartoo.pt/photos/341/3410048/3410048_40_B.jpg",
            "https://s3.example.com/photos/93261690_114.jpg",
            "https://s3.example.com/photos/93261690_934.jpg",
            // Views, not sizes.
            "https://m.example/p/12222651_1.jpg",
            "https://m.example/p/12222651_2.jpg",
            "https://m.example/p/lot_40_x.jpg",
            "https://m.example/p/lot_41_x.jpg",
        ];
        let mut groups = numbered_renditions(urls);
        for g in &mut groups {
            g.sort_unstable();
        }
        groups.sort();
        assert_eq!(
            groups,
            vec![vec![(0, 40), (1, 500), (2, 1200)], vec![(4, 114), (5, 934)]]
        );
    }

    #[test]
    fn size_words_are_learned_from_a_grid_of_views_and_sizes() {
        let urls = [
            "https://pa.example.com/product/A0/55217W/v1/1-zoom-desktop.jpg",
            "https://pa.example.com/product/A0/55217W/v1/1-cart.jpg",
            "https://pa.example.com/product/A0/55217W/v1/2-zoom-desktop.jpg",
            "https://pa.example.com/product/A0/55217W/v1/2-cart.jpg",
            "https://pa.example.com/product/A0/55217W/v1/1-catalog.jpg",
            "https://b.example.com/2/2/10134622/m_10134622_001.jpg",
            "https://b.example.com/2/2/10134622/l_10134622_001.jpg",
            "https://b.example.com/2/2/10134622/m_10134622_002.jpg",
            "https://b.example.com/2/2/10134622/l_10134622_002.jpg",
            // One picture per name: no grid.
            "https://www.example.com/images/products/hook-black__0710517_pe727612_s5.jpg",
            "https://www.example.com/images/products/hook-black__0939774_ph171398_s5.jpg",
            "https://www.example.com/images/products/rack-white__0710492_pe727593_s5.jpg",
            "https://www.example.com/images/products/rack-white__0863273_pe654879_s5.jpg",
        ];
        let mut groups = grid_renditions(urls);
        for g in &mut groups {
            g.sort_unstable();
        }
        groups.sort();
        assert_eq!(
            groups,
            vec![vec![0, 1, 4], vec![2, 3], vec![5, 6], vec![7, 8]]
        );
    }

    #[test]
    fn sizes_are_read_from_parameters_segments_and_names() {
        for (url, size) in [
            (
                "https://x.example/a.jpg?imwidth=1800&filter=packshot",
                Some(1800),
            ),
            ("https://x.example/a.jpg?f=xxxl", Some(2400)),
            ("https://x.example/a.jpg?f=xxs", Some(80)),
            ("https://x.example/a.jpg?f=s", Some(300)),
            ("https://x.example/p/1500x1500/1/a.jpg", Some(1500)),
            ("https://x.example/a_340x340.jpg", Some(340)),
            ("https://x.example/a-1024x768.jpg", Some(1024)),
            ("https://x.example/mug_large@2x.jpg", Some(2000)),
            ("https://x.example/files/id/image;s=780x0", Some(780)),
            ("https://x.example/a.jpg?width=50p&quality=80", Some(50)),
            (
                "https://x.example/im/h/resize-h600-w600%5Ecompr-r85/1/a.jpg",
                Some(600),
            ),
            ("https://x.example/a.jpg", None),
            ("https://x.example/2019/12222651_1.jpg", None),
            ("not a url", None),
        ] {
            assert_eq!(size_of(url), size, "{url}");
        }
    }
}
