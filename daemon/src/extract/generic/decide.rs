//! Which of the pictures a page of any shop mentions are the product's own.
//!
//! 1. **Pictures.** Mentions are grouped into pictures: by their picture key ([`cdn::asset_id`],
//!    which sets sizes, formats and mirrors aside) and by their slot (the attributes of one
//!    `<img>`, a link around one thumbnail).
//! 2. **Seeds.** The pictures the shop itself names as the product's: its structured data
//!    (JSON-LD `Product.image`, microdata), else the picture it shares the page with
//!    (`og:image`, `twitter:image`). Shop furniture (logos, icons, sprites) never seeds.
//! 3. **Gallery.** From every place a seed is shown on the page, the surrounding container is
//!    widened as long as it holds neither a link to another page with a picture in it (a
//!    recommendation tile) nor the product's title, buying controls or description (`h1`, a
//!    form, an option list, paragraphs of text: where the gallery ends and the product details
//!    begin). The pictures shown inside — the gallery's other views, its thumbnails, its
//!    zoom links — are the product's.
//! 4. **Largest rendition.** Each picture is given at the largest rendition the page mentions
//!    anywhere (markup, scripts, structured data, what the browser showed): a stated width, a size
//!    in the URL ([`rendition::size_of`]), the bare file beside its resized copies, and within
//!    one slot the attribute that says larger (a zoom attribute, the link around a thumbnail).
//!
//! A page that plays a single video file plays the product's, wherever it is.
//!
//! 5. **Players.** A video platform's player (or its still) inside the gallery is the product's
//!    video, recorded as a link to its page on the platform, never downloaded. Where the gallery
//!    only holds a button for its video (a "Video" tile that scrolls to the player further down)
//!    and the page shows one player, that one is the gallery's; a player the page hides (a
//!    dialog's, a financing plan's explainer), or in its header or footer, is not.
//!
//! Pictures that only appear inside links to other pages, in the header, navigation or footer,
//! or whose names say they are shop furniture, are never the product's. When a page names no
//! seed, nothing is taken and the result says why: a short, right answer beats the page's clutter.

use std::collections::{HashMap, HashSet};

use super::super::{cdn, rendition};
use super::layout::Layout;
use super::mentions::{Mention, Player, Source, path_names_furniture};
use crate::media::{Link, MediaKind};

/// What the product's media are.
#[derive(Debug, Default)]
pub(super) struct Decision {
    /// The product's pictures, main first, each at its largest rendition.
    pub pictures: Vec<String>,
    /// The product's videos.
    pub videos: Vec<String>,
    /// The product's videos on a video platform (step 5).
    pub links: Vec<Link>,
    /// Why nothing (or less than the page shows) was taken, for the user.
    pub note: Option<String>,
}

/// A picture: the mentions that name it.
#[derive(Debug, Default)]
struct Picture {
    mentions: Vec<usize>,
    /// A lazy-loading stand-in shared by many pictures.
    stand_in: bool,
}

/// What the page says about the product, besides its pictures.
#[derive(Debug, Default)]
pub(super) struct Hints {
    /// The product's names as the page states them (its data, its title, its heading),
    /// normalised by [`normalize_name`].
    pub names: Vec<String>,
    /// Its ids: numbers and codes in the page's address, its SKU (lower-case).
    pub ids: Vec<String>,
}

/// Decides which of `mentions` are the product's media (module doc).
pub(super) fn decide(
    layout: &Layout<'_>,
    mentions: &[Mention],
    players: &[Player],
    hints: &Hints,
) -> Decision {
    let names = hints.names.as_slice();
    let clean = |m: usize| is_clean_dom(layout, mentions, names, m);
    let (pictures, learned) = group(mentions);
    let furniture: Vec<bool> = pictures.iter().map(|p| is_furniture(p, mentions)).collect();

    let ordered =
        |position: &dyn Fn(usize) -> Option<usize>| in_order(&pictures, &furniture, position);

    // 2. Seeds, in the order the shop lists them.
    let listed =
        |source: Source| ordered(&|m| mentions.get(m).filter(|x| x.source == source).map(|_| m));
    // Shown pictures the page labels with the product's name, or (`by_id`) files named by its
    // id (`/services/380/1.jpg` on the page of offer 380), in page order.
    let labelled = |by_id: bool| {
        ordered(&|m| {
            let x = mentions.get(m)?;
            let labelled =
                names_the_product(x, names) || (by_id && url_names_id(&x.url, &hints.ids));
            (clean(m) && labelled).then_some(x.element).flatten()
        })
    };
    let mut seeds = listed(Source::ProductData);
    if seeds.is_empty() {
        seeds = listed(Source::ShareImage);
    }
    // Without data, or when the page shows none of the pictures its data names (its data names
    // another rendition than the page shows, under another name), the page's labels — never
    // beside data the page shows: a description's photos are labelled with the product's name
    // too.
    let shown = |i: &usize| {
        pictures
            .get(*i)
            .is_some_and(|p| p.mentions.iter().any(|&m| clean(m)))
    };
    if !seeds.iter().any(shown) {
        let by_label = labelled(seeds.is_empty());
        if !by_label.is_empty() {
            seeds = by_label;
        }
    }
    if seeds.is_empty() {
        return Decision {
            note: Some(
                "the page does not say which pictures are the product's (no product data, no \
                 shared image); nothing was taken rather than the page's other pictures — press \
                 the haul button on one of the product's pictures to save it"
                    .to_string(),
            ),
            ..Decision::default()
        };
    }

    // 3. Galleries around the seeds.
    let galleries = galleries(layout, mentions, names, &pictures, &seeds);
    let shown_in_gallery = ordered(&|m| {
        let element = mentions.get(m)?.element?;
        (clean(m) && galleries.iter().any(|&g| layout.contains(g, element))).then_some(element)
    });
    // A page that plays one video file, outside any gallery, plays the product's; of several,
    // only the gallery's are known to be.
    let video = |m: usize| mentions.get(m).is_some_and(|x| x.kind == MediaKind::Video);
    let videos_shown = ordered(&|m| {
        (clean(m) && video(m))
            .then(|| mentions.get(m)?.element)
            .flatten()
    });
    let lone_video = match videos_shown.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    // The main picture first, then the gallery in the page's order, then seeds it does not show.
    let mut ordered: Vec<usize> = Vec::new();
    let mut placed = HashSet::new();
    for i in seeds
        .first()
        .copied()
        .into_iter()
        .chain(shown_in_gallery)
        .chain(seeds.iter().copied())
        .chain(lone_video)
    {
        if placed.insert(i) {
            ordered.push(i);
        }
    }

    let (mut images, mut videos) = (Vec::new(), Vec::new());
    for i in ordered {
        let Some(p) = pictures.get(i) else { continue };
        let url = largest(p, mentions, &learned);
        let kind = p
            .mentions
            .first()
            .and_then(|&m| mentions.get(m))
            .map_or(MediaKind::Image, |m| m.kind);
        match kind {
            MediaKind::Image => images.push(url),
            MediaKind::Video => videos.push(url),
        }
    }
    Decision {
        pictures: images,
        videos,
        links: gallery_players(layout, players, &galleries),
        note: None,
    }
}

/// The players of the product's gallery (module doc, step 5), each link once.
fn gallery_players(layout: &Layout<'_>, players: &[Player], galleries: &[usize]) -> Vec<Link> {
    let in_gallery = |e: usize| galleries.iter().any(|&g| layout.contains(g, e));
    let outside_chrome = |p: &&Player| layout.elements.get(p.element).is_some_and(|e| !e.chrome);
    let add = |link: &Link, links: &mut Vec<Link>| {
        if !links.iter().any(|l| l.url == link.url) {
            links.push(link.clone());
        }
    };
    let mut links: Vec<Link> = Vec::new();
    for p in players.iter().filter(outside_chrome) {
        if in_gallery(p.element) {
            add(&p.link, &mut links);
        }
    }
    if !links.is_empty() {
        return links;
    }
    // A button for a video inside the gallery: an element named for one.
    let has_video_button = galleries.iter().any(|&g| {
        let end = layout.elements.get(g).map_or(g, |e| e.end);
        layout.refs.get(g..end).is_some_and(|inside| {
            inside.iter().any(|el| {
                [el.value().attr("class"), el.value().attr("id")]
                    .into_iter()
                    .flatten()
                    .any(|w| {
                        let w = w.to_ascii_lowercase();
                        w.contains("video") || w.contains("youtube")
                    })
            })
        })
    });
    let mut shown: Vec<Link> = Vec::new();
    for p in players
        .iter()
        .filter(outside_chrome)
        .filter(|p| !p.hidden && layout.elements.get(p.element).is_some_and(|e| !e.away))
    {
        add(&p.link, &mut shown);
    }
    match shown.as_slice() {
        [one] if has_video_button => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// The pictures that are not furniture and have a mention `position` places, in the order of
/// their first place.
fn in_order(
    pictures: &[Picture],
    furniture: &[bool],
    position: &dyn Fn(usize) -> Option<usize>,
) -> Vec<usize> {
    let mut placed: Vec<(usize, usize)> = pictures
        .iter()
        .enumerate()
        .filter(|(i, _)| !furniture.get(*i).copied().unwrap_or(true))
        .filter_map(|(i, p)| {
            p.mentions
                .iter()
                .filter_map(|&m| position(m))
                .min()
                .map(|first| (first, i))
        })
        .collect();
    placed.sort_unstable();
    placed.into_iter().map(|(_, i)| i).collect()
}

/// Groups mentions into pictures (module doc, step 1). A file that shares slots with many
/// different pictures is a lazy-loading stand-in (`default-lazy.png`, a spacer), not a
/// rendition of any of them: it joins no slot, else it would chain every picture into one.
fn group(mentions: &[Mention]) -> (Vec<Picture>, HashMap<usize, u32>) {
    let keys: Vec<String> = mentions
        .iter()
        .map(|m| cdn::asset_id(&cdn::largest(&m.url)))
        .collect();
    let mut slot_keys: HashMap<usize, HashSet<&str>> = HashMap::new();
    for (m, key) in mentions.iter().zip(&keys) {
        if let Some(slot) = m.slot {
            slot_keys.entry(slot).or_default().insert(key);
        }
    }
    let mut partners: HashMap<&str, HashSet<&str>> = HashMap::new();
    for set in slot_keys.values() {
        for &k in set {
            partners
                .entry(k)
                .or_default()
                .extend(set.iter().filter(|&&o| o != k));
        }
    }
    let stand_in = |key: &str| partners.get(key).is_some_and(|p| p.len() > MAX_RENDITIONS);

    let mut parent: Vec<usize> = (0..mentions.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while let Some(&p) = parent.get(x) {
            if p == x {
                break;
            }
            let grand = parent.get(p).copied().unwrap_or(p);
            if let Some(slot) = parent.get_mut(x) {
                *slot = grand;
            }
            x = p;
        }
        x
    }
    let union = |parent: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (find(parent, a), find(parent, b));
        if ra != rb
            && let Some(slot) = parent.get_mut(ra.max(rb))
        {
            *slot = ra.min(rb);
        }
    };
    let urls = || mentions.iter().map(|m| m.url.as_str());
    let mut numbered_size: HashMap<usize, u32> = HashMap::new();
    let numbered: Vec<Vec<usize>> = rendition::numbered_renditions(urls())
        .into_iter()
        .map(|cluster| {
            numbered_size.extend(cluster.iter().copied());
            cluster.into_iter().map(|(i, _)| i).collect()
        })
        .collect();
    for cluster in numbered.iter().chain(&rendition::grid_renditions(urls())) {
        if let Some((&first, rest)) = cluster.split_first() {
            for &other in rest {
                union(&mut parent, first, other);
            }
        }
    }
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    let mut by_slot: HashMap<usize, usize> = HashMap::new();
    for (i, (m, key)) in mentions.iter().zip(&keys).enumerate() {
        match by_key.get(key.as_str()) {
            Some(&first) => union(&mut parent, first, i),
            None => {
                by_key.insert(key, i);
            }
        }
        if let Some(slot) = m.slot.filter(|_| !stand_in(key)) {
            match by_slot.get(&slot) {
                Some(&first) => union(&mut parent, first, i),
                None => {
                    by_slot.insert(slot, i);
                }
            }
        }
    }
    let mut index_of_root: HashMap<usize, usize> = HashMap::new();
    let mut pictures: Vec<Picture> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let root = find(&mut parent, i);
        let at = *index_of_root.entry(root).or_insert_with(|| {
            pictures.push(Picture::default());
            pictures.len() - 1
        });
        if let Some(p) = pictures.get_mut(at) {
            p.mentions.push(i);
            p.stand_in |= stand_in(key);
        }
    }
    (pictures, numbered_size)
}

/// Most other files one picture's renditions are seen with (its sizes and formats); a file seen
/// beside more is a stand-in shared by many pictures.
const MAX_RENDITIONS: usize = 8;

/// Whether a picture is the shop's furniture: an SVG, or named so in its file name or
/// attributes — unless the product's data names it.
fn is_furniture(picture: &Picture, mentions: &[Mention]) -> bool {
    let all = || picture.mentions.iter().filter_map(|&m| mentions.get(m));
    if picture.stand_in || all().any(|m| is_not_a_photo(&m.url, false)) {
        return true;
    }
    if all().any(|m| m.source == Source::ProductData) {
        return false;
    }
    let tiny = all()
        .map(|m| m.width.or_else(|| rendition::size_of(&m.url)))
        .try_fold(0, |most, w| w.map(|w| most.max(w)))
        .is_some_and(|most| most < TINY);
    tiny || all()
        .any(|m| m.furniture || path_names_furniture(&m.url) || is_not_a_photo(&m.url, true))
}

/// Whether a URL alone gives a medium away as the shop's furniture: an icon, logo, sprite or
/// badge by its path, a GIF, a vector drawing, a video platform's still.
pub(crate) fn is_shop_furniture(url: &str) -> bool {
    path_names_furniture(url) || is_not_a_photo(url, true)
}

/// Vector drawings (icons) and the stills video platforms serve for their embedded players are
/// never product photos; with `gifs`, GIFs (spinners, spacers) are not either.
fn is_not_a_photo(url: &str, gifs: bool) -> bool {
    let lower = url.to_ascii_lowercase();
    let path = lower.split(['?', '#']).next().unwrap_or("");
    let host = path
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    path.ends_with(".svg")
        || (gifs && path.ends_with(".gif"))
        || ["ytimg.com", "vimeocdn.com"]
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// Pictures no larger than this (in every rendition the page states a size for) are icons.
const TINY: u32 = 32;

/// A DOM mention outside the shop's header, navigation and footer, and outside links to other
/// pages — unless its `alt` text is the product's name: a gallery whose thumbnails open a
/// photo viewer page is still the product's gallery.
fn is_clean_dom(layout: &Layout<'_>, mentions: &[Mention], names: &[String], m: usize) -> bool {
    let Some(mention) = mentions.get(m) else {
        return false;
    };
    mention
        .element
        .and_then(|e| layout.elements.get(e))
        .is_some_and(|e| !e.chrome && (!e.away || names_the_product(mention, names)))
}

/// Whether a mention's `alt` text is the product's name (perhaps followed by a view number:
/// "Ghost costume view 2").
fn names_the_product(mention: &Mention, names: &[String]) -> bool {
    let Some(alt) = mention.alt.as_deref().map(normalize_name) else {
        return false;
    };
    names
        .iter()
        .filter(|n| n.split(' ').count() >= 2)
        .any(|name| {
            alt == *name
                || alt.strip_prefix(name.as_str()).is_some_and(|rest| {
                    let words: Vec<&str> = rest.split_whitespace().collect();
                    words.len() <= 2 && words.iter().any(|w| w.bytes().all(|b| b.is_ascii_digit()))
                })
        })
}

/// Whether a URL's path has one of the product's ids as a whole folder name or file-name part.
fn url_names_id(url: &str, ids: &[String]) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let path = path.split_once("://").map_or(path, |(_, r)| r);
    let path = path
        .split_once('/')
        .map_or("", |(_, p)| p)
        .to_ascii_lowercase();
    path.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| ids.iter().any(|id| id == part))
}

/// A name as compared: lower-case words of letters and digits, one space apart.
pub(super) fn normalize_name(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The containers of the product's gallery (module doc, step 3).
fn galleries(
    layout: &Layout<'_>,
    mentions: &[Mention],
    names: &[String],
    pictures: &[Picture],
    seeds: &[usize],
) -> Vec<usize> {
    // Elements whose subtree a gallery must not reach: tiles (pictures inside links to other
    // pages), the product's title and the buying controls (forms, option lists).
    let mut stops: Vec<usize> = mentions
        .iter()
        .filter(|m| !names_the_product(m, names))
        .filter_map(|m| m.element)
        .filter(|&e| {
            layout
                .elements
                .get(e)
                .is_some_and(|el| el.away && !el.chrome)
        })
        .chain(
            layout
                .elements
                .iter()
                .enumerate()
                .filter(|(_, e)| matches!(e.tag.as_str(), "h1" | "form" | "select" | "textarea"))
                .map(|(i, _)| i),
        )
        .collect();
    stops.sort_unstable();
    stops.dedup();
    let holds_stop = |outer: usize| -> bool {
        let Some(o) = layout.elements.get(outer) else {
            return true;
        };
        let from = stops.partition_point(|&s| s < outer);
        stops.get(from).is_some_and(|&s| s < o.end)
    };
    let mut found = Vec::new();
    for &seed in seeds {
        let Some(p) = pictures.get(seed) else {
            continue;
        };
        for &m in &p.mentions {
            if !is_clean_dom(layout, mentions, names, m) {
                continue;
            }
            let Some(mut at) = mentions.get(m).and_then(|m| m.element) else {
                continue;
            };
            while let Some(parent) = layout.elements.get(at).and_then(|e| e.parent) {
                let Some(pe) = layout.elements.get(parent) else {
                    break;
                };
                if matches!(pe.tag.as_str(), "body" | "html")
                    || pe.chrome
                    || holds_stop(parent)
                    || layout.text_inside(parent) > MAX_GALLERY_TEXT
                {
                    break;
                }
                at = parent;
            }
            if !found.contains(&at) {
                found.push(at);
            }
        }
    }
    found
}

/// The weight of an attribute named for a large rendition (`data-zoom-image`, a link's `rel`).
const ZOOM_WEIGHT: u8 = 3;

/// Most visible text a gallery holds (captions, counters, buttons); a container with more is
/// the product's description or details.
const MAX_GALLERY_TEXT: usize = 400;

/// The URL of a picture's largest rendition (module doc, step 4). `learned` holds the sizes
/// the page's own file names showed for some mentions ([`rendition::numbered_renditions`]).
fn largest(picture: &Picture, mentions: &[Mention], learned: &HashMap<usize, u32>) -> String {
    /// One mention, weighed.
    struct Seen<'m> {
        mention: &'m Mention,
        /// Its URL at its CDN's largest.
        url: String,
        /// Its file, whatever size ([`cdn::asset_id`]).
        file: String,
        /// The size the page's file names showed for it.
        learned: Option<u32>,
    }
    // A hostile page can name one picture thousands of times; the first mentions decide.
    let seen: Vec<Seen<'_>> = picture
        .mentions
        .iter()
        .take(MAX_WEIGHED)
        .filter_map(|&m| {
            let mention = mentions.get(m)?;
            let url = cdn::largest(&mention.url);
            Some(Seen {
                file: cdn::asset_id(&url),
                url,
                mention,
                learned: learned.get(&m).copied(),
            })
        })
        .collect();
    let mut urls: Vec<&str> = Vec::new();
    for s in &seen {
        if !urls.contains(&s.url.as_str()) {
            urls.push(&s.url);
        }
    }
    let of_url = |url: &str| -> Vec<&Seen<'_>> { seen.iter().filter(|s| s.url == url).collect() };
    // Within a slot, an attribute that says larger beats one that says smaller — and every
    // copy of the smaller file with it (the same file on another host, in another size).
    let dominated = |url: &str| -> bool {
        let Some(own) = of_url(url).first().map(|s| s.file.as_str()) else {
            return false;
        };
        seen.iter().any(|small| {
            small.mention.slot.is_some()
                && small.file == own
                && seen.iter().any(|big| {
                    big.mention.slot == small.mention.slot
                        && big.mention.weight > small.mention.weight
                        && big.file != own
                })
        })
    };
    // A file's address without its query, its `;` parameters and its port.
    let bare_of = |u: &str| -> Option<String> {
        let parsed = url::Url::parse(u).ok()?;
        let path = parsed.path().split(';').next().unwrap_or("");
        Some(format!("{}{path}", parsed.host_str()?))
    };
    let size = |url: &str| -> u64 {
        let stated = of_url(url).iter().filter_map(|s| s.mention.width).max();
        let learned = of_url(url).iter().filter_map(|s| s.learned).max();
        match stated.or(learned).or_else(|| rendition::size_of(url)) {
            Some(n) => u64::from(n),
            // The file as uploaded beside resized copies of it (`x.jpg` beside `x.jpg?w=600`,
            // `…/image` beside `…/image;s=780x0`) is the largest.
            None if !rendition::asks_for_a_size(url)
                && urls.iter().any(|o| {
                    *o != url && bare_of(o) == bare_of(url) && rendition::size_of(o).is_some()
                }) =>
            {
                u64::MAX
            }
            None => 0,
        }
    };
    // Where sizes say nothing: a zoom attribute's rendition, then the product data's (shops list
    // large ones there), then the attribute that says larger.
    let weight = |url: &str| -> (bool, bool, u8) {
        let these = of_url(url);
        let most = these.iter().map(|s| s.mention.weight).max().unwrap_or(0);
        (
            most >= ZOOM_WEIGHT,
            these
                .iter()
                .any(|s| s.mention.source == Source::ProductData),
            most,
        )
    };
    let mut candidates: Vec<&str> = urls.iter().copied().filter(|u| !dominated(u)).collect();
    if candidates.is_empty() {
        candidates = urls.clone();
    }
    let mut best: Option<(&str, u64, (bool, bool, u8))> = None;
    for url in candidates {
        let (s, w) = (size(url), weight(url));
        if best.is_none_or(|(_, bs, bw)| (s, w) > (bs, bw)) {
            best = Some((url, s, w));
        }
    }
    best.map(|(u, _, _)| u.to_string()).unwrap_or_default()
}

/// Most mentions of one picture weighed for its largest rendition.
const MAX_WEIGHED: usize = 256;
