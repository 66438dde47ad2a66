//! Every place a page names a medium: an `<img>`'s attributes, a `<picture>`'s sources, a link
//! to an image file, a background image, a `<video>`, the product's structured data (JSON-LD,
//! microdata, OpenGraph, Twitter cards), image addresses inside the page's scripts, and the URLs
//! a browser showed ([`Page::shown`]).
//!
//! A mention knows where it is (its element in the [`Layout`]) and which other mentions name the
//! same picture in another size: the attributes of one `<img>`, an `<a href="large.jpg">` around
//! a single thumbnail, a `<picture>`'s sources share a *slot*, and within a slot the
//! [`Mention::weight`] says which is larger where the URLs do not (`data-zoom-image` over `src`,
//! the link over the image it wraps).
//!
//! Players of a video platform (a YouTube `<iframe>`, a lazy player's `data-embed` id, the
//! platform's still in a gallery) are not media of the page but [`Player`]s: the page decides
//! whether one is the product's ([`super::decide`]), and it becomes a link, never a download.

use std::collections::HashMap;
use std::sync::LazyLock;

use scraper::Selector;
use serde_json::Value;

use super::super::etsy::image_urls;
use super::super::page::{Page, is_placeholder, selector, srcset_candidates};
use super::super::video_platform;
use super::layout::Layout;
use crate::media::{Link, MediaKind};

/// Where a mention comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Source {
    /// A JSON-LD `Product` (or a microdata `itemprop=image` inside a product) names it: the
    /// shop's own statement of the product's pictures.
    ProductData,
    /// `og:image`, `twitter:image`, `<link rel=image_src>`: the picture the page is shared with.
    ShareImage,
    /// The page's markup.
    Dom,
    /// A string in one of the page's scripts (state JSON).
    Script,
    /// A URL the browser showed (the extension's media list).
    Shown,
}

/// One mention of a medium.
#[derive(Debug, Clone)]
pub(super) struct Mention {
    /// Absolute http(s) URL.
    pub url: String,
    pub kind: MediaKind,
    pub source: Source,
    /// The element it is on ([`Layout`] index), for DOM mentions.
    pub element: Option<usize>,
    /// Mentions with the same slot are one picture in several sizes.
    pub slot: Option<usize>,
    /// The width the context states (a `srcset` `w` descriptor, a `width` attribute).
    pub width: Option<u32>,
    /// How large its attribute says it is, within a slot: 3 zoom/large/original, 2 a link or a
    /// data attribute, 1 `src`/`srcset`, 0 thumbnail.
    pub weight: u8,
    /// The attributes around it name shop furniture (logo, icon, sprite, badge, …).
    pub furniture: bool,
    /// Its `alt` text (DOM images).
    pub alt: Option<String>,
}

/// A video platform's player on the page, or its still.
#[derive(Debug, Clone)]
pub(super) struct Player {
    /// The element that names it ([`Layout`] index).
    pub element: usize,
    /// Its page on the platform.
    pub link: Link,
    /// Not shown as the page opens: it or an element around it is `hidden` or `display: none`
    /// (a dialog's player, a financing plan's explainer).
    pub hidden: bool,
}

/// Attributes that hold a bare YouTube video id on an element named for YouTube
/// (`<div class="youtube" data-embed="…">`, `<lite-youtube videoid="…">`).
const YOUTUBE_ID_ATTRIBUTES: &[&str] = &[
    "data-embed",
    "data-video-id",
    "data-videoid",
    "data-youtube-id",
    "data-youtube",
    "data-id",
    "videoid",
];

/// Image and video file extensions (lower-case, without the dot).
const MEDIA_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "webp", "gif", "avif", "bmp", "tif", "tiff", "mp4", "webm", "m3u8",
    "mov", "m4v",
];

/// Whether a URL path ends in an image or video file extension.
pub(super) fn has_media_extension(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or("");
    let file = file.split(';').next().unwrap_or(file);
    file.rsplit_once('.')
        .is_some_and(|(_, ext)| MEDIA_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

fn kind_of(url: &str) -> MediaKind {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if [".mp4", ".webm", ".m3u8", ".mov", ".m4v"]
        .iter()
        .any(|e| path.ends_with(e))
    {
        MediaKind::Video
    } else {
        MediaKind::Image
    }
}

/// Words in an element's class, id, alt or file name that mark shop furniture.
const FURNITURE: &[&str] = &[
    "logo",
    "icon",
    "icons",
    "sprite",
    "banner",
    "badge",
    "flag",
    "flags",
    "payment",
    "payments",
    "paypal",
    "visa",
    "mastercard",
    "avatar",
    "placeholder",
    "spinner",
    "loader",
    "loading",
    "blank",
    "spacer",
    "pixel",
    "rating",
    "stars",
    "social",
    "facebook",
    "twitter",
    "pinterest",
    "instagram",
    "whatsapp",
    "trustpilot",
    "trustmark",
    "arrow",
    "close",
    "btn",
    "button",
    "transparent",
    "noimage",
    "1x1",
];

/// Whether `text` (a class list, an id, an alt text or a file name) names shop furniture, word
/// by word (`nav-logo` yes, `logotype-tee` no).
pub(super) fn names_furniture(text: &str) -> bool {
    text.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| FURNITURE.contains(&w))
}

/// Whether an attribute of an `<img>`/`<source>` (or, with `holder`, of an element around one)
/// names a rendition of the image shown: `src`, `srcset` and the lazy loaders' copies of them,
/// a link's `href`, and attributes named for a larger size. Other attributes that hold an image
/// URL (a swatch's `role`, a `data-name`) may name another picture.
fn is_rendition_attribute(name: &str, holder: bool) -> bool {
    let n = name.to_ascii_lowercase();
    let sized = [
        "zoom", "large", "big", "full", "orig", "hires", "hi-res", "max", "super", "retina",
    ]
    .iter()
    .any(|w| n.contains(w));
    sized
        || if holder {
            n == "href" || n == "rel"
        } else {
            matches!(
                n.as_str(),
                "src"
                    | "data-src"
                    | "data-lazy"
                    | "data-lazy-src"
                    | "data-lazyload"
                    | "data-original"
            ) || n.contains("srcset")
        }
}

/// The weight an attribute's name gives its URL (see [`Mention::weight`]).
fn attribute_weight(name: &str) -> u8 {
    let n = name.to_ascii_lowercase();
    // jqzoom and lightboxes keep the zoom image in a link's `rel`.
    if n == "rel"
        || [
            "zoom", "large", "big", "full", "orig", "hires", "hi-res", "hd", "max", "super",
        ]
        .iter()
        .any(|w| n.contains(w))
    {
        3
    } else if ["thumb", "small", "mini", "preview", "low", "placeholder"]
        .iter()
        .any(|w| n.contains(w))
    {
        0
    } else if matches!(
        n.as_str(),
        "src" | "srcset" | "data-src" | "data-srcset" | "poster"
    ) {
        1
    } else {
        2
    }
}

/// Where and how a URL is mentioned: a [`Mention`] but for its URL.
#[derive(Debug, Clone, Copy)]
struct Context<'a> {
    source: Source,
    element: Option<usize>,
    slot: Option<usize>,
    width: Option<u32>,
    weight: u8,
    furniture: bool,
    alt: Option<&'a str>,
}

impl Context<'_> {
    /// A mention from `source` outside the markup, of the given weight.
    fn of(source: Source, weight: u8) -> Context<'static> {
        Context {
            source,
            element: None,
            slot: None,
            width: None,
            weight,
            furniture: false,
            alt: None,
        }
    }
}

/// Collects the mentions of media on a page.
pub(super) struct Collector<'l, 'p, 'h> {
    page: &'p Page<'h>,
    layout: &'l Layout<'p>,
    pub mentions: Vec<Mention>,
    pub players: Vec<Player>,
    slots: usize,
    per_source: HashMap<Source, usize>,
}

impl<'l, 'p, 'h> Collector<'l, 'p, 'h> {
    pub fn new(page: &'p Page<'h>, layout: &'l Layout<'p>) -> Self {
        Collector {
            page,
            layout,
            mentions: Vec::new(),
            players: Vec::new(),
            slots: 0,
            per_source: HashMap::new(),
        }
    }

    fn new_slot(&mut self) -> usize {
        self.slots += 1;
        self.slots
    }

    fn push(&mut self, raw: &str, at: Context<'_>) {
        // Each source has a budget of its own, so product data listing thousands of pictures
        // cannot crowd out the page's markup.
        let used = self.per_source.entry(at.source).or_insert(0);
        if *used >= MAX_MENTIONS {
            return;
        }
        *used += 1;
        // `href="href=https://…"`: a broken attribute, not a path on this site.
        let trimmed = raw.trim_start();
        if trimmed.contains("://") && !trimmed.starts_with("http") {
            return;
        }
        let Some(url) = self.page.absolute(raw) else {
            return;
        };
        self.mentions.push(Mention {
            kind: kind_of(&url),
            url,
            source: at.source,
            element: at.element,
            slot: at.slot,
            width: at.width,
            weight: at.weight,
            furniture: at.furniture,
            alt: at.alt.map(str::to_string),
        });
    }

    /// Every DOM mention, in document order.
    pub fn dom(&mut self) {
        let layout = self.layout;
        // Elements that hold renditions of the one image inside them (a `<picture>`, a link to
        // the large file around a thumbnail, a slide with a zoom attribute), and their slot.
        // Holders come before what they hold in document order.
        let mut holders: HashMap<usize, usize> = HashMap::new();
        for (index, el) in layout.refs.iter().enumerate() {
            let Some(meta) = layout.elements.get(index) else {
                continue;
            };
            let value = el.value();
            self.player(index);
            let own_words = [value.attr("class"), value.attr("id")]
                .into_iter()
                .flatten()
                .any(names_furniture);
            match meta.tag.as_str() {
                "img" | "source" => {
                    let alt = value.attr("alt");
                    // An image's wrappers name it too (`<div id="…_badge_…"><img>`).
                    let wrapped = layout.ancestors(index).take(2).any(|a| {
                        layout.refs.get(a).is_some_and(|e| {
                            [e.value().attr("class"), e.value().attr("id")]
                                .into_iter()
                                .flatten()
                                .any(names_furniture)
                        })
                    });
                    let furniture = own_words || wrapped || alt.is_some_and(names_furniture);
                    let slot = match self.holder_of(index, &holders) {
                        Some(s) => s,
                        None => self.new_slot(),
                    };
                    let declared = value
                        .attr("width")
                        .and_then(|w| w.trim().trim_end_matches("px").parse::<u32>().ok());
                    let here = Context {
                        element: Some(index),
                        slot: Some(slot),
                        furniture,
                        alt,
                        ..Context::of(Source::Dom, 1)
                    };
                    for (name, raw) in value.attrs() {
                        let lower = name.to_ascii_lowercase();
                        if lower.contains("srcset") {
                            for (url, width) in srcset_candidates(raw)
                                .into_iter()
                                .take(64)
                                .map(|(u, d)| (u, d.and_then(width_of_descriptor)))
                            {
                                self.push(url, Context { width, ..here });
                            }
                        } else if (lower == "src" || looks_like_media_url(raw))
                            && !is_placeholder(raw)
                        {
                            let width = (lower == "src").then_some(declared).flatten();
                            let weight = attribute_weight(&lower);
                            let slot = if is_rendition_attribute(&lower, false) {
                                slot
                            } else {
                                self.new_slot()
                            };
                            self.push(
                                raw,
                                Context {
                                    slot: Some(slot),
                                    width,
                                    weight,
                                    ..here
                                },
                            );
                        }
                    }
                }
                "video" | "audio" => {
                    if let Some(src) = value.attr("src") {
                        self.push(
                            src,
                            Context {
                                element: Some(index),
                                ..Context::of(Source::Dom, 1)
                            },
                        );
                    }
                }
                _ => {
                    // A `<picture>` always holds its image's renditions; a nested holder shares
                    // the slot of the one around it.
                    let mut slot = self.holder_of(index, &holders);
                    if meta.tag == "picture" {
                        let s = slot.unwrap_or_else(|| self.new_slot());
                        holders.insert(index, s);
                        slot = Some(s);
                    }
                    for (name, raw) in value.attrs() {
                        let lower = name.to_ascii_lowercase();
                        let url = if lower == "style" {
                            background_url(raw)
                        } else if (lower == "href" || lower == "rel" || lower.starts_with("data-"))
                            && looks_like_media_url(raw)
                        {
                            Some(raw.to_string())
                        } else {
                            None
                        };
                        let Some(url) = url else { continue };
                        let s = if !is_rendition_attribute(&lower, true) {
                            self.new_slot()
                        } else if let Some(s) = slot {
                            s
                        } else {
                            let s = self.new_slot();
                            // One image inside: this element holds its larger renditions.
                            if layout.images_inside(index) == 1 {
                                holders.insert(index, s);
                            }
                            slot = Some(s);
                            s
                        };
                        let weight = if lower == "style" {
                            1
                        } else {
                            attribute_weight(&lower).max(2)
                        };
                        self.push(
                            &url,
                            Context {
                                element: Some(index),
                                slot: Some(s),
                                furniture: own_words,
                                ..Context::of(Source::Dom, weight)
                            },
                        );
                    }
                }
            }
        }
    }

    /// Records the video platform's player or still that element `index` names, if any: an
    /// address of the platform in any attribute (an `<iframe>`'s `src` or `data-src`, a still's
    /// `src`, a lazy player's `data-src_screen`), or a bare YouTube id on an element named for
    /// YouTube.
    fn player(&mut self, index: usize) {
        let Some(el) = self.layout.refs.get(index) else {
            return;
        };
        if self.players.len() >= MAX_PLAYERS {
            return;
        }
        let value = el.value();
        let names_youtube = value.name().to_ascii_lowercase().contains("youtube")
            || value
                .attr("class")
                .is_some_and(|c| c.to_ascii_lowercase().contains("youtube"));
        let link = value.attrs().find_map(|(name, raw)| {
            let lower = raw.to_ascii_lowercase();
            if ["youtu", "ytimg", "vimeo"]
                .iter()
                .any(|p| lower.contains(p))
            {
                video_platform::link_of(raw)
            } else if names_youtube && YOUTUBE_ID_ATTRIBUTES.contains(&name) {
                video_platform::youtube(raw)
            } else {
                None
            }
        });
        if let Some(link) = link {
            let hidden = std::iter::once(index)
                .chain(self.layout.ancestors(index))
                .filter_map(|i| self.layout.refs.get(i))
                .any(|e| {
                    let v = e.value();
                    v.attr("hidden").is_some()
                        || v.attr("style").is_some_and(|s| {
                            s.to_ascii_lowercase()
                                .split(';')
                                .any(|d| d.replace(char::is_whitespace, "") == "display:none")
                        })
                });
            self.players.push(Player {
                element: index,
                link,
                hidden,
            });
        }
    }

    /// The slot of the nearest element around image `index` that holds its renditions, looking
    /// no further than the first element around it with other images inside.
    fn holder_of(&self, index: usize, holders: &HashMap<usize, usize>) -> Option<usize> {
        let layout = self.layout;
        let mut at = layout.elements.get(index)?.parent;
        while let Some(i) = at {
            if layout.images_inside(i) > 1 {
                return None;
            }
            if let Some(&s) = holders.get(&i) {
                return Some(s);
            }
            at = layout.elements.get(i)?.parent;
        }
        None
    }

    /// The product's structured data: JSON-LD `Product` `image`/`video`, microdata
    /// `itemprop=image`, OpenGraph and Twitter images, `<link rel=image_src>`.
    pub fn structured(&mut self, products: &[Value]) {
        for product in products {
            for url in image_urls(product.get("image")) {
                self.push(&url, Context::of(Source::ProductData, 2));
            }
            for url in image_urls(product.get("video")) {
                self.push(&url, Context::of(Source::ProductData, 2));
            }
        }
        // Microdata: `itemprop=image` of the page's product item (not of its video, brand or
        // reviews, nor of the product tiles that carry items of their own).
        if let Some(item) = self.main_product_item() {
            for (index, el) in self.layout.refs.iter().enumerate().skip(item) {
                if !self.layout.contains(item, index) {
                    break;
                }
                let v = el.value();
                let is_image = v
                    .attr("itemprop")
                    .is_some_and(|p| p.split_whitespace().any(|p| p == "image"));
                if is_image
                    && self.item_of(index) == Some(item)
                    && let Some(url) = v.attr("content").or(v.attr("href")).or(v.attr("src"))
                {
                    self.push(url, Context::of(Source::ProductData, 2));
                }
            }
        }
        for key in [
            "og:image:secure_url",
            "og:image",
            "og:image:url",
            "twitter:image",
            "twitter:image:src",
        ] {
            for url in self.page.metas(key) {
                self.push(&url, Context::of(Source::ShareImage, 2));
            }
        }
        for key in ["og:video:secure_url", "og:video:url", "og:video"] {
            for url in self.page.metas(key) {
                if kind_of(&url) == MediaKind::Video {
                    self.push(&url, Context::of(Source::ShareImage, 2));
                }
            }
        }
        static IMAGE_SRC: LazyLock<Selector> =
            LazyLock::new(|| selector("link[rel=image_src][href]"));
        if let Some(url) = self.page.attr(&IMAGE_SRC, "href") {
            self.push(&url, Context::of(Source::ShareImage, 2));
        }
    }

    /// The page's microdata product: the `Product` item holding the page's title (`h1`), else
    /// the first one outside links to other pages and the header or footer.
    fn main_product_item(&self) -> Option<usize> {
        let layout = self.layout;
        let items: Vec<usize> = layout
            .refs
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                let v = e.value();
                v.attr("itemscope").is_some()
                    && v.attr("itemtype")
                        .is_some_and(|t| t.trim_end_matches('/').ends_with("/Product"))
            })
            .map(|(i, _)| i)
            .filter(|&i| layout.elements.get(i).is_some_and(|e| !e.away && !e.chrome))
            .collect();
        let holds_title = |item: usize| {
            layout
                .elements
                .get(item)
                .and_then(|e| layout.elements.get(item..e.end))
                .is_some_and(|inside| inside.iter().any(|d| d.tag == "h1"))
        };
        items
            .iter()
            .copied()
            .find(|&i| holds_title(i))
            .or(items.first().copied())
    }

    /// The microdata item element `index` belongs to: its nearest `itemscope` ancestor.
    fn item_of(&self, index: usize) -> Option<usize> {
        self.layout.ancestors(index).find(|&a| {
            self.layout
                .refs
                .get(a)
                .is_some_and(|e| e.value().attr("itemscope").is_some())
        })
    }

    /// Addresses in the page's inline scripts (state JSON): absolute or protocol-relative URLs,
    /// JSON escapes undone. They only ever add renditions of pictures the page shows or its
    /// data names (a zoom size the gallery loads on demand); never pictures of their own.
    pub fn scripts(&mut self) {
        static SCRIPT: LazyLock<Selector> = LazyLock::new(|| selector("script"));
        static URL: LazyLock<regex::Regex> = LazyLock::new(|| {
            super::super::page::regex(
                r#"(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}(?::\d+)?/[^\s"'<>\\]*"#,
            )
        });
        let mut budget = SCRIPT_BYTES;
        for script in self.page.select(&SCRIPT) {
            if script
                .value()
                .attr("type")
                .is_some_and(|t| t.contains("ld+json"))
            {
                continue;
            }
            for text in script.text() {
                if budget == 0 {
                    return;
                }
                let text = super::super::page::prefix(text, budget);
                budget -= text.len();
                let unescaped = text
                    .replace("\\/", "/")
                    .replace("\\u002F", "/")
                    .replace("\\u002f", "/");
                for m in URL.find_iter(&unescaped) {
                    self.push(m.as_str(), Context::of(Source::Script, 1));
                }
            }
        }
    }

    /// The URLs the browser showed.
    pub fn shown(&mut self) {
        for url in self.page.shown() {
            self.push(url, Context::of(Source::Shown, 1));
        }
    }
}

/// Most mentions read from one page per source (real pages have a few thousand).
const MAX_MENTIONS: usize = 50_000;
/// Most players read from one page (real pages have one or two).
const MAX_PLAYERS: usize = 1_000;
/// Most script text scanned for media addresses.
const SCRIPT_BYTES: usize = 8 << 20;

fn width_of_descriptor(d: &str) -> Option<u32> {
    let (n, unit) = d.split_at(d.len().saturating_sub(1));
    let n: f64 = n.parse().ok()?;
    match unit {
        "w" => Some(n as u32),
        "x" => Some((n * 1000.0) as u32),
        _ => None,
    }
}

/// A value that is a URL of an image or video file (absolute, protocol-relative or a path).
fn looks_like_media_url(raw: &str) -> bool {
    let v = raw.trim();
    if v.is_empty() || v.len() > 4096 || v.contains(char::is_whitespace) || v.starts_with("data:") {
        return false;
    }
    let path = v.split(['?', '#']).next().unwrap_or("");
    (v.starts_with("http") || v.starts_with('/') || path.contains('/')) && has_media_extension(path)
}

/// The URL in a `style` attribute's `background-image: url(…)`.
fn background_url(style: &str) -> Option<String> {
    let lower = style.to_ascii_lowercase();
    let at = lower.find("url(")?;
    let rest = style.get(at + 4..)?;
    let end = rest.find(')')?;
    let url = rest[..end].trim().trim_matches(['"', '\'']);
    // A background image is an image whatever its URL looks like (`…/image;s=82x0`).
    (!url.is_empty() && !url.starts_with("data:")).then(|| url.to_string())
}

/// Whether a URL's path names shop furniture (`/icons/`, `logo.png`, `trustmark_fr.png`).
pub(super) fn path_names_furniture(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    let path = path.split_once('/').map_or("", |(_, p)| p);
    names_furniture(path)
}
