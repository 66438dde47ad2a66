//! Per-CDN knowledge shared by every site: how to turn any size of an image into the largest one
//! the CDN serves ([`largest`]) and how to tell that two URLs are the same picture ([`asset_id`]).
//!
//! Both functions are pure string work (no network) and hold these properties, which the
//! property tests below check on generated URLs:
//!
//! 1. `largest` is idempotent: `largest(largest(u)) == largest(u)`;
//! 2. `largest` never changes what picture a URL names: `asset_id(largest(u)) == asset_id(u)`.
//!    The rewrite only ever drops size/format directives of *this* asset's URL; it never derives
//!    one asset's URL from another's (an Amazon thumbnail is a different, smaller upload than the
//!    hi-res image — see `docs/extraction-rules.md` §0.4).
//!
//! Rules, per host family (evidence in `extraction-rules.md`, quick-reference table):
//!
//! | host | small → largest |
//! |---|---|
//! | Amazon (`m.media-amazon.com`, `*.ssl-images-amazon.com`, `*.images-amazon.com`) | `/images/I/<id>.<directives>.<ext>` → `https://m.media-amazon.com/images/I/<id>.<ext>`; a `/images/W/<weblab>/` prefix and the query are dropped; A+ `/images/S/aplus-…/<uuid>.<directives>.<ext>` → `<uuid>.<ext>` |
//! | alicdn / aliexpress-media (AliExpress, Alibaba, 1688) | cut after the first image extension followed by `_` (`.jpg_640x640.jpg`, `.jpg_Q90.jpg_.webp`, `.jpg_960x960q80.jpg`, `-cib.jpg_b.jpg`), drop 1688's `.220x220`/`.search`/`.summ` before the extension, drop the query |
//! | `i.ebayimg.com` | `/thumbs/images/g/<id>/s-l<N>` and `/images/g/<id>/s-l<N>` → `/images/g/<id>/s-l1600` (sizes above 1600 are kept); old `…/z/<id>/$_<N>.JPG` → `/images/g/<id>/s-l1600.jpg` |
//! | `*.etsystatic.com` | `il_<W>x<H>.` → `il_fullxfull.` (listing photos), `iap_<W>x<H>.` → `iap_fullxfull.` (review photos, the size Etsy's API calls `image_url_fullxfull`) |
//! | Shopify (`cdn.shopify.com/s/files/…`, `<store>/cdn/shop/…`) | drop `_<size>[@2x][_crop_<pos>][.progressive]` before the extension, a `.webp` after it, and the `width`/`height`/`crop` query parameters |
//! | `*.walmartimages.com`, `*.kwcdn.com` (Temu) | drop the query (it only asks for a smaller rendition) |
//! | JD (`img<N>.360buyimg.com`, `m.360buyimg.com`) | `/<path>/[s<W>x<H>_]jfs/….<ext>[.avif\|.webp\|!q70…]` → `/<path>/jfs/….<ext>`, and the fixed-size paths `/n0/`–`/n12/` → `/img/` (the unscaled path the page itself and JD's own front-end use); one picture whatever the host or path |
//! | `*.wfcdn.com/im/` (Wayfair) | `/im/<n>/<steps>/<dir>/<imageId>/<name>`: steps made only of `resize-…`, `scale-…` and `compr-r<q>` → `compr-r85` (the form Wayfair's own pages give the picture with no size step: `wayfair.rs` has the evidence); the picture is its `imageId` |
//! | `*.bbystatic.com/image2/` (Best Buy US) | drop the `;maxHeight=…;maxWidth=…` path parameters and the `?format=` query |
//!
//! Every other URL is returned unchanged: guessing at unknown hosts could only break links.

use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use super::{host_is, rendition};

/// The largest version of the media at `url` that its CDN serves. Unknown hosts and unparsable
/// input come back unchanged.
pub fn largest(url: &str) -> String {
    let Some(parts) = Parts::parse(url) else {
        return url.to_string();
    };
    let rewritten = match parts.family {
        Family::Amazon => amazon_largest(&parts),
        Family::Alicdn => Some(alicdn_largest(&parts)),
        Family::Ebay => ebay_largest(&parts),
        Family::Etsy => Some(etsy_largest(&parts)),
        Family::Shopify => shopify_largest(&parts),
        Family::Wayfair => wayfair_largest(&parts),
        Family::BestBuy => Some(format!("https://{}{}", parts.host, bestbuy_path(&parts))),
        Family::QueryOnly => Some(format!("https://{}{}", parts.host, parts.path)),
        Family::Jd => jd_largest(&parts),
        Family::Other => None,
    };
    rewritten.unwrap_or_else(|| url.to_string())
}

/// A stable name for the picture (or video) at `url`, the same for every size and format the CDN
/// renders of it, and for the same file behind several CDN host names. Two URLs with the same
/// asset id are one media item.
pub fn asset_id(url: &str) -> String {
    let Some(parts) = Parts::parse(url) else {
        return url.trim().to_string();
    };
    let specific = match parts.family {
        Family::Amazon => amazon_asset(&parts),
        Family::Alicdn => Some(format!(
            "alicdn:{}",
            alicdn_key_path(&alicdn_path(&parts.path))
        )),
        Family::Ebay => ebay_asset(&parts),
        Family::Etsy => etsy_asset(&parts),
        Family::Shopify => shopify_path(&parts.path).map(|p| format!("shopify:{p}")),
        Family::Wayfair => wayfair_image(&parts.path).map(|w| format!("wfcdn:{}", w.id)),
        Family::BestBuy => Some(format!("bbystatic:{}", bestbuy_path(&parts))),
        Family::QueryOnly => Some(format!("{}{}", parts.host, parts.path)),
        Family::Jd => jd_asset(&parts),
        Family::Other => None,
    };
    if let Some(id) = specific {
        return id;
    }
    if let Some(id) = taobao_video_id(&parts) {
        return format!("taobao-video:{id}");
    }
    if let Some(id) = amazon_video_id(&parts) {
        return format!("amazon-video:{id}");
    }
    // Unknown host: the address without what only picks a rendition (sizes, formats, mirrors —
    // `rendition`). Signed CDN URLs (CloudFront) keep their identity in the path; the query is
    // a signature that changes with every page load.
    let query = parts.query.as_deref();
    if parts.host.ends_with(".cloudfront.net") {
        format!("{}{}", parts.host, parts.path)
    } else {
        rendition::picture_key(&parts.host, &parts.path, query)
    }
}

/// Whether `url` is on a media CDN these rules know (Amazon's, alicdn, eBay's, Etsy's, Shopify's
/// files, Walmart's, Temu's): a file there is media, never a page.
pub fn is_known_media_host(url: &str) -> bool {
    Parts::parse(url).is_some_and(|p| p.family != Family::Other)
}

/// Whether `url` looks like a media file rather than a script, style sheet or document that
/// happens to live on a media host (Amazon serves JS bundles under `/images/I/`).
pub fn is_probably_media(url: &str) -> bool {
    let Some(parts) = Parts::parse(url) else {
        return false;
    };
    let last = parts
        .path
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let ext = last.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    !matches!(
        ext,
        "js" | "css"
            | "html"
            | "htm"
            | "pdf"
            | "svg"
            | "json"
            | "xml"
            | "txt"
            | "swf"
            | "woff"
            | "woff2"
            | "ttf"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Amazon,
    Alicdn,
    Ebay,
    Etsy,
    Shopify,
    Wayfair,
    BestBuy,
    QueryOnly,
    Jd,
    Other,
}

/// The pieces of an http(s) URL the rules look at.
struct Parts {
    family: Family,
    /// Lower-case host name.
    host: String,
    /// Percent-encoded path as `url` serialises it.
    path: String,
    query: Option<String>,
}

impl Parts {
    fn parse(raw: &str) -> Option<Parts> {
        let raw = raw.trim();
        let u = Url::parse(raw).ok()?;
        if !matches!(u.scheme(), "http" | "https") {
            return None;
        }
        let host = u.host_str()?.to_ascii_lowercase();
        let path = u.path().to_string();
        let family = family_of(&host, &path);
        Some(Parts {
            family,
            host,
            path,
            query: u.query().map(str::to_string),
        })
    }
}

fn family_of(host: &str, path: &str) -> Family {
    if host_is(host, "media-amazon.com")
        || host_is(host, "ssl-images-amazon.com")
        || host_is(host, "images-amazon.com")
    {
        Family::Amazon
    } else if host_is(host, "alicdn.com")
        || (host_is(host, "aliexpress-media.com") && !host.starts_with("video."))
    {
        Family::Alicdn
    } else if host_is(host, "ebayimg.com") {
        Family::Ebay
    } else if host_is(host, "etsystatic.com") {
        Family::Etsy
    } else if (host == "cdn.shopify.com" && path.starts_with("/s/files/"))
        || path.contains("/cdn/shop/products/")
        || path.contains("/cdn/shop/files/")
    {
        Family::Shopify
    } else if host_is(host, "wfcdn.com") && path.starts_with("/im/") {
        Family::Wayfair
    } else if host_is(host, "bbystatic.com") && path.starts_with("/image2/") {
        Family::BestBuy
    } else if host_is(host, "walmartimages.com") || host_is(host, "kwcdn.com") {
        Family::QueryOnly
    } else if is_jd_image_host(host) {
        Family::Jd
    } else {
        Family::Other
    }
}

// ---- Amazon ------------------------------------------------------------------------------------

/// `/images/W/<weblab>/images/I/…` → `/images/I/…` (2024 weblab prefix).
fn amazon_path(path: &str) -> &str {
    let mut p = path;
    // The weblab segment can in principle repeat; strip every one.
    while let Some(rest) = p.strip_prefix("/images/W/") {
        match rest.find('/') {
            Some(i) if rest[i..].starts_with("/images/") => p = &rest[i..],
            _ => break,
        }
    }
    p
}

/// `<id>.<directives>.<ext>` → (`id`, `ext`). The id runs to the first dot; the extension is
/// what follows the last one, so every directive shape seen (`._AC_SX679_`, `.__AC_SY445_`,
/// `._SY450`, `.SS40_BG85,85,85_`, `.jpg_SR247,139_`) disappears.
fn split_id_ext(file: &str) -> Option<(&str, &str)> {
    let (id, _) = file.split_once('.')?;
    let (_, ext) = file.rsplit_once('.')?;
    let ok_id = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'%' | b'-' | b'_'));
    let ok_ext = (2..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    (ok_id && ok_ext).then_some((id, ext))
}

/// Amazon writes `+` in image ids both raw and as `%2B`; they name the same file.
fn amazon_id(id: &str) -> String {
    id.replace("%2B", "+").replace("%2b", "+")
}

fn amazon_largest(parts: &Parts) -> Option<String> {
    let path = amazon_path(&parts.path);
    if let Some(file) = path.strip_prefix("/images/I/") {
        if file.contains('/') {
            return None;
        }
        let (id, ext) = split_id_ext(file)?;
        return Some(format!(
            "https://m.media-amazon.com/images/I/{}.{}",
            amazon_id(id),
            ext
        ));
    }
    if path.starts_with("/images/S/aplus-") {
        let (dir, file) = path.rsplit_once('/')?;
        let (id, ext) = split_id_ext(file)?;
        return Some(format!("https://m.media-amazon.com{dir}/{id}.{ext}"));
    }
    None
}

fn amazon_asset(parts: &Parts) -> Option<String> {
    let path = amazon_path(&parts.path);
    if let Some(file) = path.strip_prefix("/images/I/") {
        if !file.contains('/')
            && let Some((id, _)) = split_id_ext(file)
        {
            return Some(format!("amazon:I:{}", amazon_id(id)));
        }
        return None;
    }
    if path.starts_with("/images/S/aplus-") {
        let (_, file) = path.rsplit_once('/')?;
        let (id, _) = split_id_ext(file)?;
        return Some(format!("amazon:aplus:{id}"));
    }
    None
}

/// Amazon's video service keeps every rendition of one video — an MP4
/// (`default.jobtemplate.mp4.480.mp4`, `ShortForm-Generic-480p-….mp4`) and an HLS playlist
/// (`default.jobtemplate.hls.m3u8`) — in one job folder named by a UUID, under
/// `m.media-amazon.com/images/S/vse-vms-transcoding-artifact-<region>-prod/` (older pages: a
/// CloudFront host). One video, whichever rendition a page links: the es window-robot page links
/// `97cc908b-…/default.jobtemplate.mp4.480.mp4` in its image block and
/// `97cc908b-…/default.jobtemplate.hls.m3u8` in its player.
fn amazon_video_id(parts: &Parts) -> Option<String> {
    let vse = match parts.family {
        Family::Amazon => amazon_path(&parts.path).starts_with("/images/S/vse-vms-transcoding-"),
        Family::Other if parts.host.ends_with(".cloudfront.net") => {
            let file = parts.path.rsplit('/').next().unwrap_or("");
            file.starts_with("ShortForm-") || file.contains(".jobtemplate.")
        }
        _ => false,
    };
    if !vse {
        return None;
    }
    parts
        .path
        .split('/')
        .find(|segment| is_uuid(segment))
        .map(str::to_ascii_lowercase)
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

// ---- alicdn (AliExpress, Alibaba, 1688) --------------------------------------------------------

static ALI_EXT_THEN_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| crate::extract::page::regex(r"(?i)\.(?:jpe?g|png|webp|gif|avif|bmp)_"));
static ALI_1688_SIZE: LazyLock<Regex> = LazyLock::new(|| {
    crate::extract::page::regex(
        r"(?i)\.(?:\d{2,4}x\d{2,4}|search|summ)(\.(?:jpe?g|png|webp|gif|avif|bmp))$",
    )
});

/// The path with every size/format suffix removed from its last segment.
fn alicdn_path(path: &str) -> String {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let mut file = file.to_string();
    // Each pass either shortens the name or stops, so this reaches a fixed point (which is what
    // makes `largest` idempotent).
    loop {
        let before = file.len();
        if let Some(m) = ALI_EXT_THEN_SUFFIX.find(&file) {
            // Keep the extension, drop the `_…` that follows it.
            file.truncate(m.end() - 1);
        }
        if let Some(c) = ALI_1688_SIZE.captures(&file)
            && let (Some(whole), Some(ext)) = (c.get(0), c.get(1))
        {
            let ext = ext.as_str().to_string();
            file.truncate(whole.start());
            file.push_str(&ext);
        }
        if file.len() == before {
            break;
        }
    }
    format!("{dir}/{file}")
}

/// The part of an alicdn path that names the file on every mirror: `s.alicdn.com/@sc04/kf/X`,
/// `sc04.alicdn.com/kf/X` and `ae01.alicdn.com/kf/X` are one file.
fn alicdn_key_path(path: &str) -> String {
    let mut p = path;
    if let Some(rest) = p.strip_prefix("/@") {
        p = rest.find('/').map_or("", |i| &rest[i..]);
    }
    let mut key = String::with_capacity(p.len());
    for seg in p.split('/').filter(|s| !s.is_empty()) {
        key.push('/');
        key.push_str(seg);
    }
    key
}

fn alicdn_largest(parts: &Parts) -> String {
    format!("https://{}{}", parts.host, alicdn_path(&parts.path))
}

/// 1688/Taobao videos: `cloud.video.taobao.com/play/u/<uid>/p/<n>/e/6/t/<n>/<videoId>.mp4`.
fn taobao_video_id(parts: &Parts) -> Option<String> {
    if !(parts.host == "cloud.video.taobao.com" || host_is(&parts.host, "aliexpress-media.com")) {
        return None;
    }
    if !parts.path.starts_with("/play/u/") {
        return None;
    }
    let file = parts.path.rsplit('/').next()?;
    let id = file.strip_suffix(".mp4")?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_string())
}

// ---- JD (360buyimg) ----------------------------------------------------------------------------

/// JD's picture hosts: `img10.360buyimg.com` … `img30.360buyimg.com` (one pool: JD's own
/// front-end spreads files over them by name) and the mobile `m.360buyimg.com`. Not
/// `storage.`/`misc.`/`static.360buyimg.com`, which serve scripts and styles.
fn is_jd_image_host(host: &str) -> bool {
    let Some(name) = host.strip_suffix(".360buyimg.com") else {
        return false;
    };
    name == "m"
        || name
            .strip_prefix("img")
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
}

/// `/<path>/[s<W>x<H>_]jfs/<file>.<ext>[<format or quality>]`: the business path (`n1`, `img`,
/// `sku`, `cms`, …), a size request, the file in JD's file system, and what JD's front-end
/// appends to ask for another format or quality (`.avif`, `.webp`, `!q70.jpg`, `!cc_…`).
static JD_PATH: LazyLock<Regex> = LazyLock::new(|| {
    crate::extract::page::regex(
        r"^/([A-Za-z0-9_-]+)/(?:s\d+x\d+_)?(jfs/.+?\.(?i:jpe?g|png|gif|webp|bmp))(?:[.!][^/]*)?$",
    )
});
/// The fixed-size paths (`n1` is 350 px, `n5` 50 px, …); `img` serves the file unscaled.
static JD_SIZED_PATH: LazyLock<Regex> =
    LazyLock::new(|| crate::extract::page::regex(r"^n\d{1,2}$"));

fn jd_largest(parts: &Parts) -> Option<String> {
    let c = JD_PATH.captures(&parts.path)?;
    let biz = c.get(1)?.as_str();
    let file = c.get(2)?.as_str();
    let biz = if JD_SIZED_PATH.is_match(biz) {
        "img"
    } else {
        biz
    };
    Some(format!("https://{}/{biz}/{file}", parts.host))
}

fn jd_asset(parts: &Parts) -> Option<String> {
    let c = JD_PATH.captures(&parts.path)?;
    Some(format!("jd:{}", c.get(2)?.as_str()))
}

// ---- eBay --------------------------------------------------------------------------------------

static EBAY_SIZED: LazyLock<Regex> = LazyLock::new(|| {
    crate::extract::page::regex(
        r"^(?:/thumbs)?/images/([gi])/([^/]+)/s-l(\d{1,5})\.([A-Za-z0-9]{2,5})$",
    )
});
static EBAY_OLD: LazyLock<Regex> =
    LazyLock::new(|| crate::extract::page::regex(r"/z/([^/]+)/\$_\d+\.[A-Za-z]{2,5}$"));

/// eBay's largest rendition in both fixtures; maxurl's `s-l9999` is not checkable offline.
const EBAY_MAX: u32 = 1600;

fn ebay_largest(parts: &Parts) -> Option<String> {
    if let Some(c) = EBAY_SIZED.captures(&parts.path) {
        let kind = c.get(1)?.as_str();
        let id = c.get(2)?.as_str();
        let size: u32 = c.get(3)?.as_str().parse().ok()?;
        let ext = c.get(4)?.as_str();
        let size = size.max(EBAY_MAX);
        return Some(format!(
            "https://i.ebayimg.com/images/{kind}/{id}/s-l{size}.{ext}"
        ));
    }
    if let Some(c) = EBAY_OLD.captures(&parts.path) {
        let id = c.get(1)?.as_str();
        return Some(format!(
            "https://i.ebayimg.com/images/g/{id}/s-l{EBAY_MAX}.jpg"
        ));
    }
    None
}

fn ebay_asset(parts: &Parts) -> Option<String> {
    if let Some(c) = EBAY_SIZED.captures(&parts.path) {
        return Some(format!(
            "ebay:{}:{}",
            c.get(1)?.as_str(),
            c.get(2)?.as_str()
        ));
    }
    if let Some(c) = EBAY_OLD.captures(&parts.path) {
        return Some(format!("ebay:g:{}", c.get(1)?.as_str()));
    }
    None
}

// ---- Etsy --------------------------------------------------------------------------------------

static ETSY_FILE: LazyLock<Regex> = LazyLock::new(|| {
    crate::extract::page::regex(
        r"^(il|iap)_(?:\d+x\d+|\d+xN|Nx\d+|fullxfull|origxorig)\.(\d+)(_[^/]*)$",
    )
});

fn etsy_largest(parts: &Parts) -> String {
    let (dir, file) = parts.path.rsplit_once('/').unwrap_or(("", &parts.path));
    match ETSY_FILE.captures(file) {
        Some(c) => {
            let kind = c.get(1).map_or("", |m| m.as_str());
            let id = c.get(2).map_or("", |m| m.as_str());
            let rest = c.get(3).map_or("", |m| m.as_str());
            format!("https://{}{dir}/{kind}_fullxfull.{id}{rest}", parts.host)
        }
        // Avatars, shop icons and unknown shapes: keep the file, drop only the query.
        None => format!("https://{}{}", parts.host, parts.path),
    }
}

fn etsy_asset(parts: &Parts) -> Option<String> {
    let file = parts.path.rsplit('/').next().unwrap_or("");
    match ETSY_FILE.captures(file) {
        Some(c) => Some(format!(
            "etsy:{}:{}",
            c.get(1).map_or("", |m| m.as_str()),
            c.get(2).map_or("", |m| m.as_str())
        )),
        // `etsy_largest` drops the query of every Etsy URL, so the identity must ignore it too.
        None => Some(format!("{}{}", parts.host, parts.path)),
    }
}

// ---- Shopify -----------------------------------------------------------------------------------

static SHOPIFY_FILE: LazyLock<Regex> = LazyLock::new(|| {
    crate::extract::page::regex(
        r"(?i)^(.+?)(?:_(?:pico|icon|thumb|small|compact|medium|large|grande|original|master|\d+x\d*|x\d+))?(?:@\d+x)?(?:_crop_[a-z]+)?(?:\.progressive)?\.(jpe?g|png|gif|webp)(?:\.webp)?$",
    )
});

fn shopify_path(path: &str) -> Option<String> {
    let (dir, file) = path.rsplit_once('/')?;
    let c = SHOPIFY_FILE.captures(file)?;
    let name = c.get(1)?.as_str();
    let ext = c.get(2)?.as_str();
    Some(format!("{dir}/{name}.{ext}"))
}

fn shopify_largest(parts: &Parts) -> Option<String> {
    let path = shopify_path(&parts.path)?;
    // Keep the cache-busting `v=`; drop the parameters that ask for a smaller rendition.
    let kept: Vec<&str> = parts
        .query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|kv| {
            let key = kv.split('=').next().unwrap_or("");
            !kv.is_empty() && !matches!(key, "width" | "height" | "crop")
        })
        .collect();
    let query = if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    };
    Some(format!("https://{}{path}{query}", parts.host))
}

// ---- Wayfair -----------------------------------------------------------------------------------

static WAYFAIR_IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    crate::extract::page::regex(r"^/im/(\d{1,12})/([^/]+)/(\d{1,8})/(\d{1,12})/([^/]+)$")
});
static WAYFAIR_SIZE_STEP: LazyLock<Regex> = LazyLock::new(|| {
    crate::extract::page::regex(r"^(?:(?:resize|scale)(?:-[hwp]\d{1,5})+|compr-r\d{1,3})$")
});

/// The transformation Wayfair's pages give a picture with no size step (`wayfair.rs`).
pub(crate) const WAYFAIR_FULL: &str = "compr-r85";

/// A Wayfair image address, `/im/<number>/<steps>/<imageId / 10000>/<imageId>/<name>`.
pub(crate) struct WayfairImage<'a> {
    pub number: &'a str,
    pub steps: &'a str,
    pub dir: &'a str,
    pub id: &'a str,
    pub name: &'a str,
}

pub(crate) fn wayfair_image(path: &str) -> Option<WayfairImage<'_>> {
    let c = WAYFAIR_IMAGE.captures(path)?;
    Some(WayfairImage {
        number: c.get(1)?.as_str(),
        steps: c.get(2)?.as_str(),
        dir: c.get(3)?.as_str(),
        id: c.get(4)?.as_str(),
        name: c.get(5)?.as_str(),
    })
}

/// The `/im/…` path of Wayfair picture `id` at its largest, with a page's `number` and `name`.
pub(crate) fn wayfair_path(number: &str, id: u64, name: &str) -> String {
    format!("/im/{number}/{WAYFAIR_FULL}/{}/{id}/{name}", id / 10_000)
}

fn wayfair_largest(parts: &Parts) -> Option<String> {
    let image = wayfair_image(&parts.path)?;
    // Steps are joined by `^`, which pages write escaped.
    let only_sizes = image
        .steps
        .replace("%5E", "^")
        .replace("%5e", "^")
        .split('^')
        .all(|step| WAYFAIR_SIZE_STEP.is_match(step));
    let id: u64 = image.id.parse().ok()?;
    // The folder is the id's ten-thousands; a path whose folder says otherwise is not one we know.
    let dir_matches = image.dir.parse::<u64>().ok() == Some(id / 10_000);
    (only_sizes && dir_matches).then(|| {
        format!(
            "https://{}{}",
            parts.host,
            wayfair_path(image.number, id, image.name)
        )
    })
}

// ---- Best Buy ----------------------------------------------------------------------------------

/// The file's path without the `;maxHeight=…;maxWidth=…` parameters that ask for a smaller
/// rendition (the query, `?format=webp`, only asks for another format).
fn bestbuy_path(parts: &Parts) -> &str {
    parts.path.split(';').next().unwrap_or(&parts.path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[track_caller]
    fn big(input: &str, want: &str) {
        assert_eq!(largest(input), want, "largest({input})");
        assert_eq!(largest(want), want, "largest is idempotent on {want}");
        assert_eq!(asset_id(input), asset_id(want), "same asset: {input}");
    }

    #[test]
    fn amazon_directives_and_weblab_segments_are_dropped() {
        let want = "https://m.media-amazon.com/images/I/61KzQCwovrL.jpg";
        for input in [
            "https://m.media-amazon.com/images/I/61KzQCwovrL._AC_SL1001_.jpg",
            "https://m.media-amazon.com/images/I/61KzQCwovrL._AC_SX679_.jpg",
            "https://images-na.ssl-images-amazon.com/images/I/61KzQCwovrL.__AC_SY445_SX342_QL70_ML2_.jpg",
            "https://m.media-amazon.com/images/W/MEDIAX_792452-T2/images/I/61KzQCwovrL._SY450.jpg",
            "http://ecx.images-amazon.com/images/I/61KzQCwovrL._CR2,0,1276,720_SR684,386_.jpg",
            "https://m.media-amazon.com/images/I/61KzQCwovrL._AC_UC154,154_CACC,154,154_QL85_.jpg?aicid=community-reviews",
            "https://m.media-amazon.com/images/I/61KzQCwovrL.jpg",
        ] {
            big(input, want);
        }
        big(
            "https://m.media-amazon.com/images/I/81tbkq+elKL.SS40_BG85,85,85_BR-120_PKdp-play-icon-overlay__.jpg",
            "https://m.media-amazon.com/images/I/81tbkq+elKL.jpg",
        );
        big(
            "https://m.media-amazon.com/images/I/61i363hJpzL.jpg_SR247,139__BG0,0,0_.jpg",
            "https://m.media-amazon.com/images/I/61i363hJpzL.jpg",
        );
    }

    #[test]
    fn amazon_plus_is_one_id_raw_or_escaped() {
        let a = "https://images-na.ssl-images-amazon.com/images/I/81lde%2B541vL._SL1500_.jpg";
        let b = "https://m.media-amazon.com/images/I/81lde+541vL._AC_SL1500_.jpg";
        assert_eq!(asset_id(a), asset_id(b));
        assert_eq!(
            largest(a),
            "https://m.media-amazon.com/images/I/81lde+541vL.jpg"
        );
        assert_eq!(largest(a), largest(b));
    }

    #[test]
    fn amazon_thumbnail_of_another_upload_keeps_its_own_id() {
        // The `large`/`thumb` image of a gallery entry is a different upload than its `hiRes`.
        let hi = "https://m.media-amazon.com/images/I/61KzQCwovrL._AC_SL1001_.jpg";
        let thumb = "https://m.media-amazon.com/images/I/41SidoxMEVL._AC_US40_.jpg";
        assert_ne!(asset_id(hi), asset_id(thumb));
        assert_eq!(
            largest(thumb),
            "https://m.media-amazon.com/images/I/41SidoxMEVL.jpg"
        );
    }

    #[test]
    fn amazon_aplus_and_videos() {
        big(
            "https://m.media-amazon.com/images/S/aplus-media/vc/d972b9b7-b0f5-4d02-9980-5eb0daab5bca.__CR0,0,4042,1250_PT0_SX970_V1___.jpg",
            "https://m.media-amazon.com/images/S/aplus-media/vc/d972b9b7-b0f5-4d02-9980-5eb0daab5bca.jpg",
        );
        let hls = "https://m.media-amazon.com/images/S/vse-vms-transcoding-artifact-us-east-1-prod/6816d1a0-2caa-4593-96d3-8849666e4efb/default.jobtemplate.hls.m3u8";
        assert_eq!(largest(hls), hls);
        let signed = "https://d1y6jrbzotnyjg.cloudfront.net/Z7AX4/a4a2/V1/23ee/ShortForm-Generic-480p-16-9-1409173089793-rpcbe5.mp4?Expires=1576641602&Signature=abc";
        assert_eq!(largest(signed), signed);
        assert_eq!(
            asset_id(signed),
            asset_id(
                "https://d1y6jrbzotnyjg.cloudfront.net/Z7AX4/a4a2/V1/23ee/ShortForm-Generic-480p-16-9-1409173089793-rpcbe5.mp4?Expires=1&Signature=x"
            )
        );
    }

    #[test]
    fn alicdn_suffixes_are_cut_after_the_real_extension() {
        big(
            "https://ae01.alicdn.com/kf/HTB1.DiLM7voK1RjSZFDq6xY3pXam/Apple-iPhone-SE-A9-Dual-Core-2GB-RAM-16.jpg_640x640.jpg",
            "https://ae01.alicdn.com/kf/HTB1.DiLM7voK1RjSZFDq6xY3pXam/Apple-iPhone-SE-A9-Dual-Core-2GB-RAM-16.jpg",
        );
        big(
            "https://ae01.alicdn.com/kf/Sabc.jpg_Q90.jpg_.webp",
            "https://ae01.alicdn.com/kf/Sabc.jpg",
        );
        big(
            "https://s.alicdn.com/@sc04/kf/H16075ae9f15e41a29b34f9fd48776614F.jpg_960x960q80.jpg",
            "https://s.alicdn.com/@sc04/kf/H16075ae9f15e41a29b34f9fd48776614F.jpg",
        );
        big(
            "https://ae-pic-a1.aliexpress-media.com/kf/S1.jpg_220x220q75.jpg_.avif?x=1",
            "https://ae-pic-a1.aliexpress-media.com/kf/S1.jpg",
        );
        big(
            "https://s.alicdn.com/@sc04/kf/Hefe9a2c3c4ae4928a62c43c513313d96e.png_480x480.jpg",
            "https://s.alicdn.com/@sc04/kf/Hefe9a2c3c4ae4928a62c43c513313d96e.png",
        );
    }

    #[test]
    fn taobao_and_tmall_sizes_are_alicdn_s() {
        // Taobao's thumbnails, booth and swatches; Tmall's thumbnails and swatches.
        let taobao = "https://gd4.alicdn.com/imgextra/i4/134583372/TB2bje8gS_I8KJjy0FoXXaFnVXa_!!134583372.jpg";
        for suffix in [
            "_50x50.jpg",
            "_50x50.jpg_.webp",
            "_400x400.jpg",
            "_30x30.jpg",
            "",
        ] {
            big(&format!("{taobao}{suffix}"), taobao);
        }
        // The same file on another of Taobao's mirrors is the same picture.
        assert_eq!(asset_id(taobao), asset_id(&taobao.replace("gd4.", "gd1.")));
        let tmall = "https://img.alicdn.com/imgextra/i1/1917047079/O1CN01aeFudA22AEJ9sojJP_!!2-item_pic.png";
        big(&format!("{tmall}_40x40q90.jpg"), tmall);
        big(
            "https://img.alicdn.com/imgextra/i3/2616970884/O1CN01TOc9jZ1IOujNdnN64_!!2616970884.jpg_60x60q90.jpg",
            "https://img.alicdn.com/imgextra/i3/2616970884/O1CN01TOc9jZ1IOujNdnN64_!!2616970884.jpg",
        );
    }

    #[test]
    fn jd_sizes_formats_and_paths() {
        let want = "https://img14.360buyimg.com/img/jfs/t1/401590/30/16798/99164/69b3b0f8Fceed0c0d/0083320320d894cc.jpg";
        for input in [
            "https://img14.360buyimg.com/img/jfs/t1/401590/30/16798/99164/69b3b0f8Fceed0c0d/0083320320d894cc.jpg.avif",
            "https://img14.360buyimg.com/n1/jfs/t1/401590/30/16798/99164/69b3b0f8Fceed0c0d/0083320320d894cc.jpg",
            "https://img14.360buyimg.com/n0/jfs/t1/401590/30/16798/99164/69b3b0f8Fceed0c0d/0083320320d894cc.jpg.webp",
            "https://img14.360buyimg.com/n9/s40x40_jfs/t1/401590/30/16798/99164/69b3b0f8Fceed0c0d/0083320320d894cc.jpg!q70.jpg",
            "http://img14.360buyimg.com/img/s800x800_jfs/t1/401590/30/16798/99164/69b3b0f8Fceed0c0d/0083320320d894cc.jpg!cc_50x50.dpg",
        ] {
            big(input, want);
        }
        // Any host of the pool and any path: one picture.
        let other = "https://img30.360buyimg.com/jdg/jfs/t1/401590/30/16798/99164/69b3b0f8Fceed0c0d/0083320320d894cc.jpg";
        assert_eq!(
            largest(other),
            other,
            "a business path that is not a size stays"
        );
        assert_eq!(asset_id(other), asset_id(want));
        assert_ne!(
            asset_id(want),
            asset_id("https://img14.360buyimg.com/img/jfs/t1/1/2/3/4/other.jpg")
        );
        // Scripts and styles on JD's static hosts, and paths outside its file system, are left.
        for u in [
            "https://storage.360buyimg.com/retail-mall/x/n1/jfs/a.jpg",
            "https://img14.360buyimg.com/n1/g10/M00/a.jpg",
            "https://img14.360buyimg.com.example/n1/jfs/a.jpg.avif",
        ] {
            assert_eq!(largest(u), u);
        }
    }

    #[test]
    fn protocol_relative_urls_need_a_scheme_first() {
        // `largest` works on absolute URLs; the page layer adds `https:` to `//…`.
        let rel = "//s.alicdn.com/@sc04/kf/H1.jpg_80x80.jpg";
        assert_eq!(largest(rel), rel);
    }

    #[test]
    fn an_amazon_video_as_mp4_and_as_hls_is_one_asset() {
        let vse = "https://m.media-amazon.com/images/S/vse-vms-transcoding-artifact-eu-west-1-prod/97cc908b-62b3-41ef-82b0-fbe4971e597f";
        let mp4 = format!("{vse}/default.jobtemplate.mp4.480.mp4");
        let hls = format!("{vse}/default.jobtemplate.hls.m3u8");
        assert_eq!(asset_id(&mp4), asset_id(&hls));
        assert_eq!(largest(&hls), hls, "both renditions are kept as linked");
        let other = "https://m.media-amazon.com/images/S/vse-vms-transcoding-artifact-us-east-1-prod/6816d1a0-2caa-4593-96d3-8849666e4efb/default.jobtemplate.hls.m3u8";
        assert_ne!(asset_id(&hls), asset_id(other));
        let cf = "https://d2y5sgsy8bbmb8.cloudfront.net/v2/99a9b1d4-ba67-51ac-a9fc-03282acc46f5";
        assert_eq!(
            asset_id(&format!(
                "{cf}/ShortForm-Generic-480p-16-9-1409173089793-rpcbe5.mp4"
            )),
            asset_id(&format!("{cf}/default.jobtemplate.hls.m3u8"))
        );
        // Other CloudFront files keep their own identity.
        assert_ne!(
            asset_id("https://x.cloudfront.net/99a9b1d4-ba67-51ac-a9fc-03282acc46f5/a.mp4"),
            asset_id("https://x.cloudfront.net/99a9b1d4-ba67-51ac-a9fc-03282acc46f5/b.mp4")
        );
    }

    #[test]
    fn alicdn_mirrors_are_one_asset() {
        let a = "https://s.alicdn.com/@sc04/kf/H1.jpg_80x80.jpg";
        let b = "https://sc04.alicdn.com/kf/H1.jpg";
        let c = "https://ae01.alicdn.com/kf/H1.jpg_.webp";
        assert_eq!(asset_id(a), asset_id(b));
        assert_eq!(asset_id(a), asset_id(c));
        assert_ne!(asset_id(a), asset_id("https://ae01.alicdn.com/kf/H2.jpg"));
    }

    #[test]
    fn ali1688_size_forms() {
        let want =
            "https://cbu01.alicdn.com/img/ibank/O1CN01BgQGfv1kbZNm9IO1W_!!2219062844702-0-cib.jpg";
        for input in [
            "https://cbu01.alicdn.com/img/ibank/O1CN01BgQGfv1kbZNm9IO1W_!!2219062844702-0-cib.jpg_b.jpg",
            "https://cbu01.alicdn.com/img/ibank/O1CN01BgQGfv1kbZNm9IO1W_!!2219062844702-0-cib.jpg_.webp",
            "https://cbu01.alicdn.com/img/ibank/O1CN01BgQGfv1kbZNm9IO1W_!!2219062844702-0-cib.jpg_sum.jpg",
            "https://cbu01.alicdn.com/img/ibank/O1CN01BgQGfv1kbZNm9IO1W_!!2219062844702-0-cib.220x220.jpg",
            "https://cbu01.alicdn.com/img/ibank/O1CN01BgQGfv1kbZNm9IO1W_!!2219062844702-0-cib.search.jpg",
            "https://cbu01.alicdn.com/img/ibank/O1CN01BgQGfv1kbZNm9IO1W_!!2219062844702-0-cib.summ.jpg",
            "https://cbu01.alicdn.com/img/ibank/O1CN01BgQGfv1kbZNm9IO1W_!!2219062844702-0-cib.jpg_250x250.jpg",
            "https://cbu01.alicdn.com/img/ibank/O1CN01BgQGfv1kbZNm9IO1W_!!2219062844702-0-cib.jpg?__r__=1710908395944",
        ] {
            big(input, want);
        }
        let v1 = "https://cloud.video.taobao.com/play/u/1985689850/p/2/e/6/t/1/454246530183.mp4";
        let v2 = "//cloud.video.taobao.com/play/u/1985689850/p/1/e/6/t/10301/454246530183.mp4";
        assert_eq!(largest(v1), v1);
        assert_eq!(asset_id(v1), "taobao-video:454246530183");
        assert_eq!(asset_id(&format!("https:{v2}")), asset_id(v1));
    }

    #[test]
    fn ebay_sizes() {
        big(
            "http://i.ebayimg.com/images/g/xt0AAOSwfC9XOf8d/s-l64.jpg",
            "https://i.ebayimg.com/images/g/xt0AAOSwfC9XOf8d/s-l1600.jpg",
        );
        big(
            "https://i.ebayimg.com/thumbs/images/g/soUAAOSw~oFXKNL-/s-l96.webp",
            "https://i.ebayimg.com/images/g/soUAAOSw~oFXKNL-/s-l1600.webp",
        );
        big(
            "https://i.ebayimg.com/00/s/MTYwMFgxNjAw/z/xt0AAOSwfC9XOf8d/$_57.JPG",
            "https://i.ebayimg.com/images/g/xt0AAOSwfC9XOf8d/s-l1600.jpg",
        );
        // A larger size than ours is kept.
        let huge = "https://i.ebayimg.com/images/g/abc/s-l9999.jpg";
        assert_eq!(largest(huge), huge);
    }

    #[test]
    fn etsy_sizes() {
        big(
            "https://i.etsystatic.com/12418300/r/il/da5710/2446305498/il_794xN.2446305498_opq0.jpg",
            "https://i.etsystatic.com/12418300/r/il/da5710/2446305498/il_fullxfull.2446305498_opq0.jpg",
        );
        big(
            "https://img0.etsystatic.com/058/0/10499963/il_570xN.759424778_ojd8.jpg",
            "https://img0.etsystatic.com/058/0/10499963/il_fullxfull.759424778_ojd8.jpg",
        );
        big(
            "https://i.etsystatic.com/iap/e3aa37/2718396527/iap_300x300.2718396527_52o945fo.jpg?version=0",
            "https://i.etsystatic.com/iap/e3aa37/2718396527/iap_fullxfull.2718396527_52o945fo.jpg",
        );
    }

    #[test]
    fn shopify_sizes() {
        big(
            "https://cdn.shopify.com/s/files/1/0001/products/shirt_800x@2x.progressive.jpg?v=17",
            "https://cdn.shopify.com/s/files/1/0001/products/shirt.jpg?v=17",
        );
        big(
            "https://shop.example/cdn/shop/files/mug_grande_crop_center.png.webp?width=300&v=2",
            "https://shop.example/cdn/shop/files/mug.png?v=2",
        );
        big(
            "https://shop.example/cdn/shop/products/mug.jpg?width=100&height=100&crop=center",
            "https://shop.example/cdn/shop/products/mug.jpg",
        );
        // A store's own file name that looks like an Amazon rendition (mediamarkt.pt uploaded
        // Amazon's pictures under their Amazon names): only Shopify's own size goes.
        let named = "https://cdn.shopify.com/s/files/1/2700/1230/products/81j_2BZhrlxkL._SL1000.jpg?v=1553183235";
        big(
            "https://cdn.shopify.com/s/files/1/2700/1230/products/81j_2BZhrlxkL._SL1000_1024x1024.jpg?v=1553183235",
            named,
        );
        assert_eq!(largest(named), named);
        assert_ne!(
            asset_id(named),
            asset_id("https://cdn.shopify.com/s/files/1/2700/1230/products/81j_2BZhrlxkL.jpg")
        );
    }

    #[test]
    fn wayfair_size_steps_give_way_to_the_full_form() {
        // The forms of the saved Wayfair page: its thumbnails, srcset and swatches, and the
        // JSON-LD image (the full form).
        let want = "https://secure.img1-fg.wfcdn.com/im/08854362/compr-r85/2779/27792084/Penhook+20.47%27%27+Wide+Armchair.jpg";
        big(
            "https://secure.img1-fg.wfcdn.com/im/08854362/resize-h56-w56%5Ecompr-r50/2779/27792084/Penhook+20.47%27%27+Wide+Armchair.jpg",
            want,
        );
        big(
            "https://secure.img1-fg.wfcdn.com/im/08854362/scale-w88%5Ecompr-r85/2779/27792084/Penhook+20.47%27%27+Wide+Armchair.jpg",
            want,
        );
        let full = "https://secure.img1-fg.wfcdn.com/im/97173909/compr-r85/2779/27792084/penhook-2047-wide-armchair.jpg";
        assert_eq!(largest(full), full);
        // One picture, whatever the number, steps and name.
        assert_eq!(asset_id(full), asset_id(want));
        assert_ne!(
            asset_id(full),
            asset_id(
                "https://secure.img1-fg.wfcdn.com/im/97173909/compr-r85/2779/27792083/penhook-2047-wide-armchair.jpg"
            )
        );
        // Steps that are more than sizes, and folders that are not the id's, are left alone.
        for other in [
            "https://secure.img1-fg.wfcdn.com/im/1/crop-x10%5Ecompr-r85/2779/27792084/a.jpg",
            "https://secure.img1-fg.wfcdn.com/im/1/resize-h56-w56/2780/27792084/a.jpg",
            "https://secure.img1-fg.wfcdn.com/st4/stores/common/wayfair/favicon.ico",
        ] {
            assert_eq!(largest(other), other);
        }
    }

    #[test]
    fn best_buy_size_parameters_are_dropped() {
        big(
            "https://pisces.bbystatic.com/image2/BestBuy_US/images/products/f0ba9541-436b-4dbe-86aa-0d7ae6f0d757.jpg;maxHeight=1920;maxWidth=900?format=webp",
            "https://pisces.bbystatic.com/image2/BestBuy_US/images/products/f0ba9541-436b-4dbe-86aa-0d7ae6f0d757.jpg",
        );
        big(
            "https://pisces.bbystatic.com/image2/BestBuy_US/images/products/6535/6535192_sd.jpg;maxHeight=160;maxWidth=166",
            "https://pisces.bbystatic.com/image2/BestBuy_US/images/products/6535/6535192_sd.jpg",
        );
    }

    #[test]
    fn unknown_hosts_and_garbage_are_left_alone() {
        for u in [
            "https://example.com/a/b.jpg?w=100",
            "not a url",
            "",
            "data:image/png;base64,AAAA",
            "https://m.media-amazon.com/images/G/01/x-locale/common/grey-pixel.gif",
        ] {
            assert_eq!(largest(u), u);
        }
        assert_ne!(
            asset_id("https://example.com/p.php?id=1"),
            asset_id("https://example.com/p.php?id=2")
        );
    }

    #[test]
    fn scripts_on_media_hosts_are_not_media() {
        assert!(!is_probably_media(
            "https://m.media-amazon.com/images/I/11EIQ5IGqaL._RC|01ZTHTZObnL.js,61GQ9IdK7HL.js_.js"
        ));
        assert!(is_probably_media(
            "https://m.media-amazon.com/images/I/61KzQCwovrL.jpg"
        ));
        assert!(is_probably_media(
            "https://m.media-amazon.com/images/S/vse/default.jobtemplate.hls.m3u8"
        ));
    }

    // ---- property tests: idempotence and asset-id preservation ----------------------------------

    fn amazon_url() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec![
                "https://m.media-amazon.com",
                "https://images-na.ssl-images-amazon.com",
                "http://ecx.images-amazon.com",
                "https://images-eu.ssl-images-amazon.com",
            ]),
            prop::option::of("MEDIAX_[0-9]{3,6}-T[12]"),
            "[0-9A-Za-z]{2,6}(\\+|%2B|-)?[0-9A-Za-z]{2,6}",
            prop::collection::vec(
                "(_AC_|_|__)?(S[XYLSR]|U[XYSLC]|CR|QL|BO|FM)[0-9,]{0,12}[a-z]{0,4}_{0,3}",
                0..4,
            ),
            prop::sample::select(vec!["jpg", "png", "gif", "webp"]),
            prop::option::of("aicid=[a-z-]{1,20}"),
        )
            .prop_map(|(host, weblab, id, directives, ext, query)| {
                let mut u = host.to_string();
                if let Some(w) = weblab {
                    u.push_str(&format!("/images/W/{w}"));
                }
                u.push_str("/images/I/");
                u.push_str(&id);
                for d in directives {
                    u.push('.');
                    u.push_str(&d);
                }
                u.push('.');
                u.push_str(ext);
                if let Some(q) = query {
                    u.push('?');
                    u.push_str(&q);
                }
                u
            })
    }

    fn alicdn_url() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec![
                "https://ae01.alicdn.com/kf/",
                "https://s.alicdn.com/@sc04/kf/",
                "https://sc04.alicdn.com/kf/",
                "https://ae-pic-a1.aliexpress-media.com/kf/",
                "https://cbu01.alicdn.com/img/ibank/",
            ]),
            "[A-Za-z0-9]{1,12}(\\.[A-Za-z0-9]{1,8})?(/[A-Za-z0-9-]{1,20})?",
            prop::sample::select(vec!["jpg", "jpeg", "png", "webp"]),
            prop::collection::vec(
                prop::sample::select(vec![
                    "_640x640.jpg",
                    "_50x50.jpg",
                    "_Q90.jpg_.webp",
                    "_.webp",
                    "_960x960q80.jpg",
                    "_220x220q75.jpg_.avif",
                    "_b.jpg",
                    "_sum.jpg",
                ]),
                0..3,
            ),
            prop::option::of(prop::sample::select(vec![
                ".220x220", ".310x310", ".search", ".summ",
            ])),
            prop::option::of("__r__=[0-9]{1,13}"),
        )
            .prop_map(|(prefix, name, ext, suffixes, size1688, query)| {
                let mut u = format!("{prefix}{name}");
                if let Some(s) = size1688 {
                    u.push_str(s);
                }
                u.push('.');
                u.push_str(ext);
                for s in suffixes {
                    u.push_str(s);
                }
                if let Some(q) = query {
                    u.push('?');
                    u.push_str(&q);
                }
                u
            })
    }

    fn other_cdn_url() -> impl Strategy<Value = String> {
        prop_oneof![
            ("[A-Za-z0-9~-]{4,16}", 1u32..20000, prop::bool::ANY, prop::sample::select(vec!["jpg", "webp", "png"]))
                .prop_map(|(id, n, thumbs, ext)| format!(
                    "https://i.ebayimg.com/{}images/g/{id}/s-l{n}.{ext}",
                    if thumbs { "thumbs/" } else { "" }
                )),
            (
                prop::sample::select(vec!["il", "iap"]),
                "([0-9]{2,4}x[0-9N]{1,4}|fullxfull)",
                1u64..10_000_000_000,
                "[a-z0-9]{4,8}"
            )
                .prop_map(|(kind, size, id, hash)| format!(
                    "https://i.etsystatic.com/123/r/{kind}/abc/{id}/{kind}_{size}.{id}_{hash}.jpg?version=0"
                )),
            (
                "[a-z0-9-]{1,12}",
                prop::option::of("_(small|large|grande|[0-9]{2,4}x[0-9]{0,4}|x[0-9]{2,4})"),
                prop::option::of("@2x"),
                prop::option::of("_crop_center"),
                prop::sample::select(vec![".jpg", ".png", ".jpg.webp", ".progressive.jpg"]),
                prop::option::of("(width|height|v)=[0-9]{1,4}"),
            )
                .prop_map(|(name, size, x2, crop, ext, q)| {
                    let mut u = format!(
                        "https://cdn.shopify.com/s/files/1/0001/products/{name}{}{}{}{ext}",
                        size.unwrap_or_default(),
                        x2.unwrap_or_default(),
                        crop.unwrap_or_default()
                    );
                    if let Some(q) = q {
                        u.push('?');
                        u.push_str(&q);
                    }
                    u
                }),
            (
                1u64..100_000_000_000,
                prop::collection::vec(
                    "(resize|scale)(-[hw][0-9]{1,4}){1,2}|compr-r[0-9]{2}|crop-[a-z0-9]{1,6}",
                    1..3,
                ),
                "[A-Za-z0-9+%-]{1,20}",
            )
                .prop_map(|(id, steps, name)| format!(
                    "https://secure.img1-fg.wfcdn.com/im/{}/{}/{}/{id}/{name}.jpg",
                    id % 99_999_999,
                    steps.join("%5E"),
                    id / 10_000
                )),
            (
                "[a-f0-9-]{8,36}",
                prop::option::of(";maxHeight=[0-9]{2,4};maxWidth=[0-9]{2,4}"),
                prop::option::of("format=webp"),
            )
                .prop_map(|(uuid, size, q)| {
                    let mut u = format!(
                        "https://pisces.bbystatic.com/image2/BestBuy_US/images/products/{uuid}.jpg{}",
                        size.unwrap_or_default()
                    );
                    if let Some(q) = q {
                        u.push('?');
                        u.push_str(&q);
                    }
                    u
                }),
            (
                prop::sample::select(vec!["img10", "img14", "img30", "m"]),
                prop::sample::select(vec!["n0", "n1", "n5", "n12", "img", "sku", "cms"]),
                prop::option::of("s[0-9]{2,4}x[0-9]{2,4}_"),
                "[A-Za-z0-9]{1,16}",
                prop::sample::select(vec!["jpg", "png", "gif", "webp"]),
                prop::option::of(prop::sample::select(vec![".avif", ".webp", "!q70.jpg", "!cc_5x5", ".dpg"])),
            )
                .prop_map(|(host, path, size, name, ext, tail)| format!(
                    "https://{host}.360buyimg.com/{path}/{}jfs/t1/1/2/{name}.{ext}{}",
                    size.unwrap_or_default(),
                    tail.unwrap_or_default()
                )),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn amazon_rewrite_is_idempotent_and_keeps_the_asset(u in amazon_url()) {
            let once = largest(&u);
            prop_assert_eq!(largest(&once), once.clone());
            prop_assert_eq!(asset_id(&once), asset_id(&u));
            // The original form has no directives left.
            let file = once.rsplit('/').next().unwrap_or("");
            prop_assert_eq!(file.matches('.').count(), 1, "{}", once);
        }

        #[test]
        fn alicdn_rewrite_is_idempotent_and_keeps_the_asset(u in alicdn_url()) {
            let once = largest(&u);
            prop_assert_eq!(largest(&once), once.clone());
            prop_assert_eq!(asset_id(&once), asset_id(&u));
            prop_assert!(!once.contains('?'));
            prop_assert!(!once.contains("x640") && !once.contains("_.webp"), "{}", once);
        }

        #[test]
        fn other_cdn_rewrites_are_idempotent_and_keep_the_asset(u in other_cdn_url()) {
            let once = largest(&u);
            prop_assert_eq!(largest(&once), once.clone());
            prop_assert_eq!(asset_id(&once), asset_id(&u));
        }

        #[test]
        fn different_uploads_stay_different(
            a in "[0-9A-Za-z]{11}",
            b in "[0-9A-Za-z]{11}",
            dirs in "(\\._AC_S[XYL][0-9]{2,4}_)?",
        ) {
            prop_assume!(a != b);
            let ua = format!("https://m.media-amazon.com/images/I/{a}{dirs}.jpg");
            let ub = format!("https://m.media-amazon.com/images/I/{b}._AC_US40_.jpg");
            prop_assert_ne!(asset_id(&ua), asset_id(&ub));
            prop_assert_ne!(largest(&ua), largest(&ub));
            let ka = format!("https://ae01.alicdn.com/kf/{a}.jpg_640x640.jpg");
            let kb = format!("https://ae01.alicdn.com/kf/{b}.jpg");
            prop_assert_ne!(asset_id(&ka), asset_id(&kb));
        }

        #[test]
        fn any_input_is_safe(u in "\\PC{0,80}") {
            let once = largest(&u);
            prop_assert_eq!(largest(&once), once.clone());
            prop_assert_eq!(asset_id(&once), asset_id(&u));
        }

        #[test]
        fn any_path_on_a_known_host_is_safe(
            host in prop::sample::select(vec![
                "m.media-amazon.com", "ae01.alicdn.com", "cbu01.alicdn.com", "i.ebayimg.com",
                "i.etsystatic.com", "cdn.shopify.com", "i5.walmartimages.com",
                "secure.img1-fg.wfcdn.com", "pisces.bbystatic.com", "img14.360buyimg.com",
            ]),
            path in "(/[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,20}){0,5}",
            query in prop::option::of("[A-Za-z0-9=&_-]{0,20}"),
        ) {
            let mut u = format!("https://{host}{path}");
            if let Some(q) = query {
                u.push('?');
                u.push_str(&q);
            }
            let once = largest(&u);
            prop_assert_eq!(largest(&once), once.clone());
            prop_assert_eq!(asset_id(&once), asset_id(&u));
        }
    }
}
