//! A saved page, ready for the extractors: its raw text (for embedded script data), its DOM (for
//! attributes and `<img>`s) and its address (to resolve relative URLs and choose the site).
//!
//! Parsing is bounded so a hostile or broken page cannot stall a job: before html5ever sees the
//! text, a linear pre-scan finds where the markup stops being reasonable — more than
//! [`MAX_DOM_BYTES`] bytes, [`MAX_TAGS`] start tags, nesting deeper than [`MAX_DEPTH`] or a tag
//! with more than [`MAX_ATTRS`] attributes (html5ever's work per tag grows with each of these) —
//! and only the part before that point is parsed, with a warning. The raw text, which only the
//! linear-time `regex` crate and the bounded scanners in `embedded` read, is kept up to
//! [`MAX_PAGE_BYTES`].
//!
//! [`read_page_file`] is how the CLI (and the inbox) load a page: `.html`, `.htm` or gzip
//! (`.html.gz`, recognised by its magic bytes), capped, and decoded by [`decode_page`] — the one
//! place a page's bytes become text, for saved files and fetched pages alike. Taobao and Tmall
//! serve GBK; a page read as UTF-8 regardless would lose every Chinese character of its title.
//! (Pages from the browser arrive as text already: the browser decoded them.)

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use encoding_rs::{Encoding, UTF_8};
use regex::Regex;
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use url::Url;

/// Largest page (after decompression) that is read at all.
pub const MAX_PAGE_BYTES: usize = 64 << 20;
/// Largest prefix of a page handed to the HTML parser (real product pages are 0.1–3 MB).
pub const MAX_DOM_BYTES: usize = 16 << 20;
/// Most start tags parsed (the biggest fixture has about 9 000).
pub const MAX_TAGS: usize = 200_000;
/// Deepest nesting parsed (real pages stay well under 100).
pub const MAX_DEPTH: usize = 512;
/// Most attributes on one tag.
pub const MAX_ATTRS: usize = 1_000;
/// Most elements one selector query yields.
pub const MAX_MATCHES: usize = 5_000;

/// Compiles a regex written in this crate's source. Panics only on a typo in a constant pattern,
/// which every extractor's tests exercise.
#[expect(clippy::expect_used, reason = "a constant pattern, not outside data")]
pub(crate) fn regex(pattern: &'static str) -> Regex {
    Regex::new(pattern).expect("constant regex pattern is valid")
}

/// Compiles a CSS selector written in this crate's source (see [`regex()`]).
#[expect(clippy::expect_used, reason = "a constant selector, not outside data")]
pub(crate) fn selector(css: &'static str) -> Selector {
    Selector::parse(css).expect("constant CSS selector is valid")
}

/// Why a page file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PageReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is larger than {limit} bytes; haul reads saved pages up to that size")]
    TooLarge { path: PathBuf, limit: usize },
    #[error("{path} looks gzip-compressed but cannot be decompressed: {source}")]
    Gzip {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Reads a saved page: plain or gzip-compressed (by content, whatever the name), at most
/// [`MAX_PAGE_BYTES`] after decompression, decoded by its declared charset ([`decode_page`]).
pub fn read_page_file(path: &Path) -> Result<String, PageReadError> {
    let file = std::fs::File::open(path).map_err(|source| PageReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_page_from(file, path)
}

/// [`read_page_file`] from a file already open (the inbox opens its own without following
/// links); `path` names it in errors.
pub fn read_page_from(file: impl Read, path: &Path) -> Result<String, PageReadError> {
    let io = |source| PageReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let too_large = || PageReadError::TooLarge {
        path: path.to_path_buf(),
        limit: MAX_PAGE_BYTES,
    };
    let mut raw = Vec::new();
    // Read one byte past the cap so "exactly at the cap" and "over it" differ.
    file.take(MAX_PAGE_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(io)?;
    if raw.len() > MAX_PAGE_BYTES {
        return Err(too_large());
    }
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .take(MAX_PAGE_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|source| PageReadError::Gzip {
                path: path.to_path_buf(),
                source,
            })?;
        if out.len() > MAX_PAGE_BYTES {
            return Err(too_large());
        }
        out
    } else {
        raw
    };
    Ok(decode_page(&bytes, None))
}

/// How far into a page its `<meta charset>` is looked for. Browsers switch encodings when the
/// parser meets the tag, wherever it is; Tmall's comes after 150 KB of injected scripts, so the
/// standard's 1 024-byte pre-scan would miss it.
const CHARSET_SCAN_BYTES: usize = 1 << 20;

/// A page's bytes as text, in the encoding a browser would pick, in this order:
///
/// 1. a byte-order mark;
/// 2. the charset the server declared (`declared`: the `Content-Type` header, if any);
/// 3. the page's own `<meta charset>` or `<meta http-equiv="Content-Type" content="…;
///    charset=…">` (a UTF-16 label there means UTF-8, as the HTML standard says);
/// 4. else UTF-8.
///
/// One exception to 2 and 3: bytes that are valid UTF-8 and not plain ASCII are read as UTF-8
/// whatever is declared. A page re-saved as UTF-8 keeps its old `<meta charset="gbk">` — the
/// saved Taobao page is one, and so is haul's own copy of every page it was handed as text —
/// while GBK or Latin-1 text is practically never valid UTF-8. (Plain ASCII still follows the
/// declaration: ISO-2022-JP is written in ASCII bytes.) Bytes the encoding cannot decode become
/// U+FFFD.
pub fn decode_page(bytes: &[u8], declared: Option<&str>) -> String {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let body = bytes.get(bom..).unwrap_or_default();
        return encoding.decode_without_bom_handling(body).0.into_owned();
    }
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text.is_ascii()
    {
        return text.to_string();
    }
    let encoding = declared
        .and_then(charset_in)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .or_else(|| meta_charset(bytes))
        .unwrap_or(UTF_8);
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// The `charset=` parameter of a `Content-Type` value (or of a `<meta>` tag's text).
fn charset_in(text: &str) -> Option<&str> {
    static CHARSET: LazyLock<Regex> =
        LazyLock::new(|| regex(r#"(?i)charset\s*=\s*["']?\s*([a-z0-9_:.+-]+)"#));
    Some(CHARSET.captures(text)?.get(1)?.as_str())
}

/// The encoding the first `<meta>` tag naming a charset declares, within
/// [`CHARSET_SCAN_BYTES`].
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    #[expect(clippy::expect_used, reason = "a constant pattern, not outside data")]
    static META: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r#"(?i-u)<meta\s[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.+-]+)"#)
            .expect("constant regex pattern is valid")
    });
    let head = bytes.get(..CHARSET_SCAN_BYTES).unwrap_or(bytes);
    let label = META.captures(head)?.get(1)?.as_bytes();
    // A page cannot be UTF-16 if an ASCII `<meta>` was read from it.
    Encoding::for_label(label).map(Encoding::output_encoding)
}

/// A page being extracted.
pub struct Page<'a> {
    raw: &'a str,
    dom: Html,
    url: Option<Url>,
    /// `url` is the address the caller gave (where the user opened the page), not one the page
    /// names itself.
    opened: bool,
    /// Media URLs a browser showed on the page, absolute (see [`super::extract_shown`]).
    shown: Vec<String>,
}

impl<'a> Page<'a> {
    /// Parses `html` (bounded, see the module doc). `url` is where the page came from; without
    /// it the page's canonical link or `og:url` is used. Problems are appended to `warnings`.
    pub fn parse(html: &'a str, url: Option<&str>, warnings: &mut Vec<String>) -> Page<'a> {
        let raw = prefix(html, MAX_PAGE_BYTES);
        if raw.len() < html.len() {
            warnings.push(format!(
                "the page is larger than {MAX_PAGE_BYTES} bytes; only the beginning was read"
            ));
        }
        let (dom_len, reason) = dom_budget(raw);
        if let Some(reason) = reason {
            warnings.push(format!(
                "the page's markup is {reason}; only its first {dom_len} bytes were parsed as HTML"
            ));
        }
        let dom = Html::parse_document(prefix(raw, dom_len));
        let mut page = Page {
            raw,
            dom,
            url: None,
            opened: false,
            shown: Vec::new(),
        };
        let given = url.and_then(|u| {
            let u = u.trim();
            // `www.amazon.de/dp/…` as typed: assume https.
            Url::parse(u)
                .or_else(|_| Url::parse(&format!("https://{u}")))
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        });
        if let (Some(raw), None) = (url, &given) {
            warnings.push(format!(
                "the page address {raw:?} is not an http(s) URL; using the page's own address"
            ));
        }
        page.opened = given.is_some();
        page.url = given.or_else(|| {
            let found = page
                .canonical()
                .or_else(|| page.meta("og:url").and_then(|u| page.absolute(&u)))?;
            Url::parse(&found).ok()
        });
        page
    }

    /// The page with the media URLs a browser showed on it (those that are absolute http(s)
    /// URLs, at most [`super::MAX_ITEMS`]).
    pub fn with_shown(mut self, shown: &[&str]) -> Page<'a> {
        self.shown = shown
            .iter()
            .filter_map(|u| self.absolute(u))
            .take(super::MAX_ITEMS)
            .collect();
        self
    }

    /// The media URLs a browser showed on the page.
    pub fn shown(&self) -> &[String] {
        &self.shown
    }

    /// The document's root element, for walks over the whole DOM.
    pub fn root(&self) -> ElementRef<'_> {
        self.dom.root_element()
    }

    /// The page text (capped), for embedded script data.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether the page text contains `needle`.
    pub fn has(&self, needle: &str) -> bool {
        contains(self.raw, needle)
    }

    /// The page's address: the one given, else its canonical link, else `og:url`.
    pub fn url(&self) -> Option<&Url> {
        self.url.as_ref()
    }

    /// The page host, lower-case, without `www.`.
    pub fn host(&self) -> Option<String> {
        let host = self.url.as_ref()?.host_str()?.to_ascii_lowercase();
        Some(host.strip_prefix("www.").unwrap_or(&host).to_string())
    }

    /// Elements matching `sel`, in document order (at most [`MAX_MATCHES`]).
    pub fn select<'b>(&'b self, sel: &'b Selector) -> impl Iterator<Item = ElementRef<'b>> + 'b {
        self.dom.select(sel).take(MAX_MATCHES)
    }

    /// The first element matching `sel`.
    pub fn first<'b>(&'b self, sel: &'b Selector) -> Option<ElementRef<'b>> {
        self.dom.select(sel).next()
    }

    /// The first non-empty value of attribute `name` on an element matching `sel`.
    pub fn attr(&self, sel: &Selector, name: &str) -> Option<String> {
        self.select(sel)
            .filter_map(|e| e.value().attr(name))
            .map(str::trim)
            .find(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// `<meta property=key>` or `<meta name=key>` content.
    pub fn meta(&self, key: &str) -> Option<String> {
        self.metas(key).into_iter().next()
    }

    /// Every non-empty `<meta property=key>`/`<meta name=key>` content, in order.
    pub fn metas(&self, key: &str) -> Vec<String> {
        static META: std::sync::LazyLock<Selector> =
            std::sync::LazyLock::new(|| selector("meta[content]"));
        self.select(&META)
            .filter(|e| {
                let v = e.value();
                [v.attr("property"), v.attr("name"), v.attr("itemprop")]
                    .into_iter()
                    .flatten()
                    .any(|k| k.eq_ignore_ascii_case(key))
            })
            .filter_map(|e| e.value().attr("content"))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The address the user opened the page at, when the caller gave it (the browser's address
    /// bar, `haul extract --url`); `None` when only the page names its address.
    pub fn opened(&self) -> Option<&Url> {
        self.url.as_ref().filter(|_| self.opened)
    }

    /// Group 1 of `re` in the page's canonical link, its address and its `og:url`, in that order
    /// (the canonical id first: it is the one to prefer when a page's ids disagree).
    pub fn address_ids(&self, re: &Regex) -> Vec<String> {
        [
            self.canonical(),
            self.url.as_ref().map(|u| u.to_string()),
            self.meta("og:url"),
        ]
        .into_iter()
        .flatten()
        .filter_map(|u| capture(re, &u))
        .collect()
    }

    /// `<link rel=canonical href>`, made absolute.
    pub fn canonical(&self) -> Option<String> {
        static CANONICAL: std::sync::LazyLock<Selector> =
            std::sync::LazyLock::new(|| selector("link[rel=canonical][href]"));
        let href = self.attr(&CANONICAL, "href")?;
        self.absolute(&href)
    }

    /// `raw` as an absolute http(s) URL: protocol-relative `//…` gets `https:`, relative paths
    /// resolve against the page address. Inline `data:` images, `javascript:` and anything that
    /// does not parse give `None`.
    pub fn absolute(&self, raw: &str) -> Option<String> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 8192 {
            return None;
        }
        let parsed = if let Some(rest) = s.strip_prefix("//") {
            Url::parse(&format!("https://{rest}")).ok()
        } else {
            match Url::parse(s) {
                Ok(u) => Some(u),
                Err(url::ParseError::RelativeUrlWithoutBase) => {
                    self.url.as_ref().and_then(|base| base.join(s).ok())
                }
                Err(_) => None,
            }
        }?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return None;
        }
        Some(parsed.to_string())
    }

    /// The best URL an `<img>` (or `<source>`) offers: a zoom/hi-res attribute, else the largest
    /// `srcset` candidate, else the lazy-load or plain `src` — skipping inline `data:` images and
    /// 1-pixel placeholders.
    pub fn img_url(&self, el: ElementRef<'_>) -> Option<String> {
        let v = el.value();
        const FIRST: [&str; 6] = [
            "data-old-hires",
            "data-zoom-src",
            "data-src-zoom-image",
            "data-zoom-image",
            "data-a-hires",
            "data-large-image",
        ];
        const LAST: [&str; 5] = [
            "data-src",
            "data-lazy-src",
            "data-lazyload-src",
            "data-original",
            "src",
        ];
        let from = |names: &[&str]| {
            names
                .iter()
                .filter_map(|n| v.attr(n))
                .filter(|u| !is_placeholder(u))
                .find_map(|u| self.absolute(u))
        };
        from(&FIRST)
            .or_else(|| {
                ["srcset", "data-srcset"]
                    .iter()
                    .filter_map(|n| v.attr(n))
                    .find_map(|s| largest_srcset(s).and_then(|u| self.absolute(&u)))
            })
            .or_else(|| from(&LAST))
    }

    /// The page's own product in its JSON-LD (`Product`, or `ProductGroup` with its variants):
    /// where a page describes several (its recommendations too), the one whose address is the
    /// page's, else whose name the page's title holds, else the first.
    pub fn json_ld_product(&self) -> Option<Value> {
        let products: Vec<Value> = self
            .json_ld()
            .into_iter()
            .filter(|v| is_product(v.get("@type")))
            .collect();
        if products.len() < 2 {
            return products.into_iter().next();
        }
        static TITLE: std::sync::LazyLock<Selector> =
            std::sync::LazyLock::new(|| selector("title"));
        let path = |u: &str| {
            Url::parse(u)
                .ok()
                .map(|u| u.path().trim_end_matches('/').to_string())
        };
        let here = self
            .url()
            .map(|u| u.path().trim_end_matches('/').to_string());
        let title = self
            .meta("og:title")
            .into_iter()
            .chain(self.first(&TITLE).map(|t| t.text().collect::<String>()))
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let text_of = |v: Option<&Value>| v.and_then(super::embedded::text);
        let at_this_address = products.iter().position(|p| {
            ["url", "@id"]
                .iter()
                .filter_map(|k| text_of(p.get(*k)))
                .filter_map(|u| self.absolute(&u))
                .any(|u| here.is_some() && path(&u) == here)
        });
        let named_in_title = || {
            products.iter().position(|p| {
                text_of(p.get("name")).is_some_and(|n| {
                    !n.trim().is_empty() && title.contains(&n.trim().to_lowercase())
                })
            })
        };
        let at = at_this_address.or_else(named_in_title).unwrap_or(0);
        products.into_iter().nth(at)
    }

    /// Every parsed `<script type="application/ld+json">` value (arrays and `@graph` flattened).
    pub fn json_ld(&self) -> Vec<Value> {
        static LD: std::sync::LazyLock<Selector> =
            std::sync::LazyLock::new(|| selector(r#"script[type="application/ld+json"]"#));
        let mut out = Vec::new();
        for script in self.select(&LD).take(64) {
            let text: String = script.text().collect();
            let Ok(v) = serde_json::from_str::<Value>(text.trim()) else {
                continue;
            };
            let mut stack = vec![v];
            while let Some(v) = stack.pop() {
                match v {
                    Value::Array(items) => stack.extend(items.into_iter().rev()),
                    Value::Object(mut map) => {
                        if let Some(graph) = map.remove("@graph") {
                            stack.push(graph);
                        }
                        out.push(Value::Object(map));
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

/// Whether a JSON-LD `@type` is a product (`Product`, `ProductGroup`, or a list holding one).
fn is_product(kind: Option<&Value>) -> bool {
    match kind {
        Some(Value::String(s)) => {
            let s = s.rsplit('/').next().unwrap_or(s);
            s == "Product" || s == "ProductGroup"
        }
        Some(Value::Array(kinds)) => kinds.iter().any(|k| is_product(Some(k))),
        _ => false,
    }
}

/// Group 1 of the first match of `re` in `text`.
pub fn capture(re: &Regex, text: &str) -> Option<String> {
    Some(re.captures(text)?.get(1)?.as_str().to_string())
}

/// Substring search that stays fast on a 64 MB page in a debug build (`memchr` is compiled
/// optimised; `str::contains` would be instantiated in this crate).
pub fn contains(hay: &str, needle: &str) -> bool {
    memchr::memmem::find(hay.as_bytes(), needle.as_bytes()).is_some()
}

/// An element's text with whitespace collapsed.
pub fn text_of(el: ElementRef<'_>) -> String {
    clean_text(&el.text().collect::<String>())
}

/// `s` with runs of whitespace collapsed to one space and trimmed.
pub fn clean_text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Spacer GIFs, inline images and lazy-load stand-ins that name no product media (`//:0` and
/// `false` are what lazy loaders leave in `src`).
pub(crate) fn is_placeholder(u: &str) -> bool {
    let u = u.trim();
    let lower = u.to_ascii_lowercase();
    u.is_empty()
        || lower == "//:0"
        || lower == "false"
        || lower.starts_with("data:")
        || lower.starts_with("javascript:")
        || lower.contains("grey-pixel.gif")
        || lower.contains("transparent-pixel")
        || lower.contains("/lazyload.png")
        || lower.ends_with("/blank.gif")
        || lower.ends_with("/spacer.gif")
}

/// The candidate with the largest width (`800w`) or density (`2x`) descriptor in a `srcset`.
pub fn largest_srcset(srcset: &str) -> Option<String> {
    let mut best: Option<(f64, String)> = None;
    for (url, descriptor) in srcset_candidates(srcset).into_iter().take(64) {
        let score = descriptor
            .and_then(|d| {
                let (n, unit) = d.split_at(d.len().saturating_sub(1));
                let n: f64 = n.parse().ok()?;
                // Treat a density as a width of 1000 px per x: only comparable within one set.
                match unit {
                    "w" => Some(n),
                    "x" => Some(n * 1000.0),
                    _ => None,
                }
            })
            .unwrap_or(1000.0);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, url.to_string()));
        }
    }
    best.map(|(_, u)| u)
}

/// Splits a `srcset` into (URL, descriptor) candidates the way the HTML standard does: a URL is a
/// run of non-space characters (commas inside it are part of it — Amazon's `_UC154,154_`
/// directives have them), then descriptors up to the next comma.
pub(crate) fn srcset_candidates(srcset: &str) -> Vec<(&str, Option<&str>)> {
    let mut out = Vec::new();
    let mut rest = srcset;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.is_empty() {
            break;
        }
        let url_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (raw_url, after) = rest.split_at(url_end);
        let url = raw_url.trim_end_matches(',');
        if url.len() < raw_url.len() {
            // `url,` — no descriptor.
            out.push((url, None));
            rest = after;
            continue;
        }
        let desc_end = after.find(',').unwrap_or(after.len());
        let (desc, next) = after.split_at(desc_end);
        out.push((url, desc.split_whitespace().next()));
        rest = next;
    }
    out
}

/// The longest prefix of `s` that is at most `max` bytes and ends on a character boundary.
pub fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// Elements without content; they never raise the nesting depth.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];
/// Elements whose end tag is optional (closed implicitly by their next sibling), left out of the
/// depth count so pages that omit them are not mistaken for deep ones.
const OPTIONAL_END: [&str; 14] = [
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "rt",
    "rp",
];
/// Elements whose content is raw text: their `<` are not tags.
const RAW_TEXT: [&str; 9] = [
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// How many leading bytes of `html` the HTML parser may see, and why it was cut (if it was). A
/// single linear pass over the bytes: comments, declarations and raw-text elements are skipped,
/// start tags are counted with their attributes and approximate nesting depth.
fn dom_budget(html: &str) -> (usize, Option<String>) {
    let b = html.as_bytes();
    let mut i = 0usize;
    let mut tags = 0usize;
    let mut depth = 0usize;
    while let Some(off) = b.get(i..).and_then(|r| memchr::memchr(b'<', r)) {
        let lt = i + off;
        if lt >= MAX_DOM_BYTES {
            return (lt, Some(format!("over {MAX_DOM_BYTES} bytes long")));
        }
        let rest = b.get(lt..).unwrap_or(&[]);
        if rest.starts_with(b"<!--") {
            i = find(b, lt + 4, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        match rest.get(1) {
            Some(b'!' | b'?') => {
                i = find(b, lt + 1, b">").map_or(b.len(), |e| e + 1);
            }
            Some(b'/') => {
                let (name, after) = tag_name(b, lt + 2);
                if !name.is_empty()
                    && !VOID.contains(&name.as_str())
                    && !OPTIONAL_END.contains(&name.as_str())
                {
                    depth = depth.saturating_sub(1);
                }
                i = find(b, after, b">").map_or(b.len(), |e| e + 1);
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let (name, after) = tag_name(b, lt + 1);
                let (end, attrs, self_closing) = scan_attributes(b, after);
                tags += 1;
                if tags > MAX_TAGS {
                    return (lt, Some(format!("more than {MAX_TAGS} tags")));
                }
                if attrs > MAX_ATTRS {
                    return (
                        lt,
                        Some(format!("a tag with more than {MAX_ATTRS} attributes")),
                    );
                }
                let n = name.as_str();
                if !self_closing && !VOID.contains(&n) && !OPTIONAL_END.contains(&n) {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return (
                            lt,
                            Some(format!("nested more than {MAX_DEPTH} levels deep")),
                        );
                    }
                }
                i = end;
                if RAW_TEXT.contains(&n) {
                    i = find_end_tag(b, i, n).unwrap_or(b.len());
                }
            }
            _ => i = lt + 1,
        }
    }
    (html.len(), None)
}

/// Position of `needle` in `b` at or after `from`.
fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(b.get(from..)?, needle).map(|p| from + p)
}

/// The lower-case tag name starting at `at`, and the index after it.
fn tag_name(b: &[u8], at: usize) -> (String, usize) {
    let mut end = at;
    while b
        .get(end)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b':')
    {
        end += 1;
    }
    let name = b
        .get(at..end)
        .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase())
        .unwrap_or_default();
    (name, end)
}

/// Scans a tag's attributes from `at` to its `>`: (index after `>`, attribute count, `/>`).
fn scan_attributes(b: &[u8], at: usize) -> (usize, usize, bool) {
    let mut i = at;
    let mut attrs = 0usize;
    let mut in_name = false;
    let mut prev = 0u8;
    while let Some(&c) = b.get(i) {
        match c {
            b'>' => return (i + 1, attrs, prev == b'/'),
            b'"' | b'\'' => {
                i = b
                    .get(i + 1..)
                    .and_then(|r| memchr::memchr(c, r))
                    .map_or(b.len(), |p| i + 1 + p);
                in_name = false;
            }
            c if c.is_ascii_whitespace() || c == b'=' || c == b'/' => in_name = false,
            _ => {
                if !in_name {
                    attrs += 1;
                    in_name = true;
                }
            }
        }
        prev = c;
        i += 1;
    }
    (b.len(), attrs, false)
}

/// Where the end tag `</name` of a raw-text element starts, case-insensitively.
fn find_end_tag(b: &[u8], from: usize, name: &str) -> Option<usize> {
    let mut i = from;
    loop {
        let lt = find(b, i, b"</")?;
        let candidate = b.get(lt + 2..lt + 2 + name.len())?;
        if candidate.eq_ignore_ascii_case(name.as_bytes()) {
            return Some(lt);
        }
        i = lt + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srcset_picks_the_widest() {
        assert_eq!(
            largest_srcset("a.jpg 1x, b.jpg 2x").as_deref(),
            Some("b.jpg")
        );
        assert_eq!(
            largest_srcset("a.jpg 320w,\n b.jpg 1600w, c.jpg 800w").as_deref(),
            Some("b.jpg")
        );
        assert_eq!(largest_srcset("").as_deref(), None);
        assert_eq!(
            largest_srcset(
                "https://m.media-amazon.com/images/I/71iZ._AC_UC154,154_QL85_.jpg?a=b 1x,\n \
                 https://m.media-amazon.com/images/I/71iZ._AC_UC308,308_QL80_.jpg?a=b 2x"
            )
            .as_deref(),
            Some("https://m.media-amazon.com/images/I/71iZ._AC_UC308,308_QL80_.jpg?a=b")
        );
        assert_eq!(
            largest_srcset("a.jpg 1x,b.jpg 2x").as_deref(),
            Some("b.jpg")
        );
        assert_eq!(largest_srcset("a.jpg, b.jpg 2x").as_deref(), Some("b.jpg"));
        // Per the HTML standard a comma inside a URL is part of it.
        assert_eq!(
            largest_srcset("a.jpg,b.jpg 2x").as_deref(),
            Some("a.jpg,b.jpg")
        );
    }

    #[test]
    fn urls_are_made_absolute() {
        let mut w = Vec::new();
        let p = Page::parse("<p>x</p>", Some("https://shop.example/a/b.html"), &mut w);
        assert_eq!(
            p.absolute("//cdn.example/x.jpg").as_deref(),
            Some("https://cdn.example/x.jpg")
        );
        assert_eq!(
            p.absolute("img/x.jpg").as_deref(),
            Some("https://shop.example/a/img/x.jpg")
        );
        assert_eq!(p.absolute("data:image/png;base64,AA"), None);
        assert_eq!(p.absolute("javascript:void(0)"), None);
        let bare = Page::parse("<p>x</p>", None, &mut w);
        assert_eq!(bare.absolute("img/x.jpg"), None);
        assert!(w.is_empty());
    }

    #[test]
    fn page_address_falls_back_to_canonical_then_og() {
        let mut w = Vec::new();
        let html = r#"<head><meta property="og:url" content="//he.aliexpress.com/item/1.html?src=x"><link rel="canonical" href="https://he.aliexpress.com/item/1.html"></head>"#;
        let p = Page::parse(html, None, &mut w);
        assert_eq!(
            p.url().map(Url::as_str),
            Some("https://he.aliexpress.com/item/1.html")
        );
        assert_eq!(p.host().as_deref(), Some("he.aliexpress.com"));
        let given = Page::parse(html, Some("https://www.aliexpress.com/item/2.html"), &mut w);
        assert_eq!(given.host().as_deref(), Some("aliexpress.com"));
        let og_only = r#"<meta property="og:url" content="//de.aliexpress.com/item/3.html">"#;
        let p = Page::parse(og_only, None, &mut w);
        assert_eq!(
            p.url().map(Url::as_str),
            Some("https://de.aliexpress.com/item/3.html")
        );
        let typed = Page::parse("", Some("www.amazon.de/dp/B000LQXC2Q"), &mut w);
        assert_eq!(typed.host().as_deref(), Some("amazon.de"));
        assert!(w.is_empty(), "{w:?}");
        let bad = Page::parse(html, Some("ftp://x/y"), &mut w);
        assert_eq!(bad.host().as_deref(), Some("he.aliexpress.com"));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn the_dom_budget_stops_at_pathological_markup() {
        let deep = "<div>".repeat(MAX_DEPTH + 10);
        let (len, why) = dom_budget(&deep);
        assert_eq!(len, MAX_DEPTH * 5);
        assert!(why.is_some_and(|w| w.contains("nested")));

        let normal = "<html><body><p>a<p>b<ul><li>x<li>y</ul><img src=a><br/></body></html>";
        assert_eq!(dom_budget(normal), (normal.len(), None));

        let script = format!("<script>{}</script><div></div>", "<div>".repeat(10_000));
        assert_eq!(dom_budget(&script).1, None);

        let attrs = format!("<div {}>", "a ".repeat(MAX_ATTRS + 1));
        assert!(dom_budget(&attrs).1.is_some());

        let comment = format!("<!-- {} -->", "<div>".repeat(10_000));
        assert_eq!(dom_budget(&comment).1, None);
        assert_eq!(dom_budget("<").1, None);
        assert_eq!(dom_budget("<a href='unterminated").1, None);
    }

    #[test]
    fn prefix_respects_char_boundaries() {
        assert_eq!(prefix("héllo", 2), "h");
        assert_eq!(prefix("abc", 10), "abc");
    }

    #[test]
    fn pages_are_decoded_by_their_declared_charset() {
        let (gbk, _, _) = encoding_rs::GBK.encode("<title>苹果 iPhone 11-tmall.com天猫</title>");
        // Tmall's `<meta charset>` comes after 150 KB of injected scripts.
        let mut page = b"<html><head><script>".to_vec();
        page.extend(std::iter::repeat_n(b'x', 150_000));
        page.extend_from_slice(b"</script><meta charset=\"gbk\">");
        page.extend_from_slice(&gbk);
        let text = decode_page(&page, None);
        assert!(text.ends_with("<title>苹果 iPhone 11-tmall.com天猫</title>"));
        assert!(!text.contains('\u{FFFD}'));
        // `http-equiv`, and a label browsers know under another name.
        let mut equiv =
            b"<meta http-equiv=Content-Type content='text/html; charset=GB2312'>".to_vec();
        equiv.extend_from_slice(&gbk);
        assert!(decode_page(&equiv, None).contains("苹果"));
        // The server's charset comes before the page's.
        let mut declared = b"<meta charset=windows-1252>".to_vec();
        declared.extend_from_slice(&gbk);
        assert!(decode_page(&declared, Some("text/html; charset=GBK")).contains("天猫"));
        assert!(!decode_page(&declared, None).contains("天猫"));
        // A page re-saved as UTF-8 that still declares GBK (the saved Taobao page; haul's own
        // copy of a page it was given as text) is UTF-8.
        let resaved = "<meta charset=\"gbk\"><title>乳白亚克力外壳-淘宝网</title>";
        assert_eq!(decode_page(resaved.as_bytes(), None), resaved);
        assert_eq!(
            decode_page(resaved.as_bytes(), Some("text/html; charset=gbk")),
            resaved
        );
        // Plain ASCII follows its declaration: ISO-2022-JP is written in ASCII bytes.
        assert_eq!(
            decode_page(b"<meta charset=iso-2022-jp>\x1b$B$3$s\x1b(B", None),
            "<meta charset=iso-2022-jp>こん"
        );
        // A UTF-16 label in a `<meta>` read as ASCII means UTF-8; a BOM decides over everything.
        assert_eq!(
            decode_page(b"<meta charset=utf-16>caf\xc3\xa9", None),
            "<meta charset=utf-16>café"
        );
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<p>é</p>".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(
            decode_page(&utf16, Some("text/html; charset=gbk")),
            "<p>é</p>"
        );
        // Nothing declared, not UTF-8: UTF-8 with replacements, as before.
        assert_eq!(decode_page(b"caf\xe9", None), "caf\u{FFFD}");
        assert_eq!(decode_page(b"", None), "");
    }

    #[test]
    fn reading_plain_gzip_and_missing_files() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("haul-page-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let plain = dir.join("p.html");
        std::fs::write(&plain, b"\xef\xbb\xbf<p>caf\xc3\xa9 \xff</p>").ok();
        assert_eq!(
            read_page_file(&plain).ok().as_deref(),
            Some("<p>café \u{FFFD}</p>")
        );

        let gz = dir.join("p.html.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"<p>zipped</p>").ok();
        std::fs::write(&gz, enc.finish().unwrap_or_default()).ok();
        assert_eq!(read_page_file(&gz).ok().as_deref(), Some("<p>zipped</p>"));

        let broken = dir.join("broken.html.gz");
        std::fs::write(&broken, [0x1f, 0x8b, 0x08, 0x00, 0x01]).ok();
        assert!(matches!(
            read_page_file(&broken),
            Err(PageReadError::Gzip { .. })
        ));

        let missing = dir.join("missing.html");
        let err = read_page_file(&missing).err();
        assert!(matches!(err, Some(PageReadError::Io { .. })));
        assert!(err.is_some_and(|e| e.to_string().contains("missing.html")));
        std::fs::remove_dir_all(&dir).ok();
    }
}
