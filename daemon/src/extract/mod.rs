//! Finding every media item of a saved product page, in its best quality, with roles.
//!
//! [`extract`] is pure (no I/O, no network) and never fails: what it cannot read becomes a
//! warning in the result. The steps, in order:
//!
//! 1. **Parse** the page, bounded ([`page`]): the raw text for embedded script data, the DOM for
//!    attributes. The page address is the URL given, else the canonical link, else `og:url`.
//! 2. **Choose the extractor**: the site whose domain the address's host is ([`SITES`],
//!    [`Extractor::handles`]); when the page has no address at all, the site whose page it looks
//!    like ([`Extractor::recognizes`]); when no site claims it, the shop platform whose store it
//!    comes from, known by the page itself ([`PLATFORMS`]: Shopify, WooCommerce); else the
//!    generic extractor.
//! 3. **Extract**: the site's [`Extractor`] reads the page's embedded JSON first, DOM attributes
//!    next and plain `<img>`s last, each source falling through to the next when it is missing
//!    or malformed, and reports candidates to a [`Found`]. When a site extractor finds no image
//!    at all (an unknown layout), the generic extractor runs on the same page too.
//! 4. **Finish** (`Found::finish`): every URL is rewritten to the largest version its CDN
//!    serves ([`cdn::largest`]), non-media and non-http URLs are dropped, items are ordered by
//!    role and de-duplicated by asset id ([`cdn::asset_id`]).
//!
//! Roles, and the package order of `media`:
//!
//! * `main` — the first product image (exactly one when the page has any product image);
//! * `gallery` — the other images of the product as the page was opened;
//! * `variant` — images of the other colour/size variants, grouped by variant, each labelled
//!   (`variant`, e.g. `"Red"`) and, where the site has one, with the variant's own id
//!   (`variant_id`: the ASIN on Amazon, `propertyId:valueId` on AliExpress);
//! * `video` — the product's own videos (seller/vendor), not influencer or related-product ones;
//! * `description` — A+ / description images;
//! * `review` — images (and videos) customers posted with reviews.
//!
//! **One asset, one item.** The same picture at several sizes, formats or CDN mirrors is one
//! item, and it keeps the *first* role it has in the order above: an image that is both in the
//! gallery and one variant's set is listed once, as gallery. So `variant` lists what the
//! variants add to the page as opened, and a grab never downloads a file twice. (1688 shows every
//! SKU picture in its main gallery, so its variant pictures are gallery items.)
//!
//! **Links, not files.** A product video the page embeds from a video platform (a YouTube
//! player) is not a file haul downloads: it is reported in `links`, the address of the video's
//! page on the platform ([`video_platform`]), and listed in the package's manifest.

pub mod cdn;
pub mod embedded;
pub mod facts;
pub mod match_pattern;
pub mod page;
pub mod rendition;
pub mod video_platform;

mod ali1688;
mod alibaba;
mod aliexpress;
mod amazon;
mod bestbuy;
mod ebay;
mod etsy;
mod generic;
mod jd;
mod shopify;
mod taobao;
mod tmall;
mod variant_pictures;
mod wayfair;
mod woocommerce;

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::media::{Link, MediaKind, Role};

pub use facts::ProductFacts;
pub(crate) use generic::is_shop_furniture;
pub use page::{Page, PageReadError, read_page_file, read_page_from};

/// What a page holds: the product and its media, best quality first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Extraction {
    /// The site (`amazon`, `aliexpress`, `alibaba`, `1688`, `ebay`, `etsy`, `taobao`, `tmall`,
    /// `jd`, `wayfair`, `bestbuy`), the shop platform (`shopify`, `woocommerce`) or `generic`.
    pub site: String,
    pub product_id: Option<String>,
    pub title: Option<String>,
    /// The title made safe for a file name: lower-case letters and digits (any script) joined by
    /// `-`, at most 60 characters; `None` without a title.
    pub slug: Option<String>,
    pub page_url: Option<String>,
    pub media: Vec<ExtractedMedia>,
    /// The product's media that live on a video platform: the pages that play them, recorded
    /// instead of downloaded ([`video_platform`]), each once.
    pub links: Vec<Link>,
    /// Other ids the page gives the same product (AliExpress pages can carry two; an Amazon page
    /// whose hidden ASIN field disagrees with the address opened), after `product_id`, which is
    /// the one the package is named by.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_ids: Vec<String>,
    /// The product's variation family, where the site has one that is not itself a product
    /// (Amazon's parent ASIN: nobody can buy it, so it never names the package).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// What the page says the product is and costs ([`facts`]); absent facts are `null`.
    pub product: ProductFacts,
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
    /// The variant's own product id (Amazon: its ASIN), for `Role::Variant`.
    pub variant_id: Option<String>,
    /// The picture's code in the page's own image set, where the site names one: Amazon's image
    /// variant code (`MAIN`, `PT01`…, `FRNT`, `PS01`), which Seller Central uses too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Extraction {
    /// How many items have `role`.
    pub fn count(&self, role: Role) -> usize {
        self.media.iter().filter(|m| m.role == role).count()
    }

    /// Each item's role, file name (the URL's last segment), variant label and id: what an
    /// extractor's unit test compares.
    #[cfg(test)]
    pub(crate) fn by_file(&self) -> Vec<(Role, &str, Option<&str>, Option<&str>)> {
        self.media
            .iter()
            .map(|m| {
                let file = m.url.rsplit('/').next().unwrap_or("");
                (m.role, file, m.variant.as_deref(), m.variant_id.as_deref())
            })
            .collect()
    }
}

/// An extractor: one per marketplace (listed in [`SITES`]) or shop platform (listed in
/// [`PLATFORMS`]), one file each.
///
/// Besides reading pages, each site extractor says where its product pages live ([`domains`],
/// [`product_paths`]) and gives one [`example`] of them. That is all the browser extension and
/// the registry's self-test need ([`sites`]): the extension's manifests list exactly these
/// sites' product pages, checked by the suite, so a new site cannot be forgotten there. A
/// platform extractor has no domains and no example — its stores live on any domain, so it
/// has no browser match patterns either — and [`recognizes`] its stores' product pages; its
/// `product_paths`, where it has fixed ones (Shopify's `/products/*`), tell a product page's
/// address on any store ([`names_a_page`]).
///
/// [`recognizes`]: Extractor::recognizes
/// [`domains`]: Extractor::domains
/// [`product_paths`]: Extractor::product_paths
/// [`example`]: Extractor::example
pub trait Extractor: Sync {
    /// The `site` name reported in [`Extraction::site`].
    fn site(&self) -> &'static str;

    // The next three describe where the site's product pages are. Every extractor in `SITES`
    // gives all three (the registry's tests fail on an empty one); platforms and the generic
    // extractor, which belong to no domain, keep the empty `domains` and `example` (the tests
    // fail otherwise), and a platform's `product_paths` hold on every host.

    /// The domains this site's pages live on, each with all its subdomains (`amazon.co.uk`
    /// covers `www.amazon.co.uk` and `smile.amazon.co.uk`).
    fn domains(&self) -> &'static [&'static str] {
        &[]
    }

    /// The paths of this site's product pages as browser match-pattern globs (`*` is any run
    /// of characters; the query string is part of what they match), e.g. `/dp/*`.
    fn product_paths(&self) -> &'static [&'static str] {
        &[]
    }

    /// The address of one real product page of this site: the registry's self-test checks it is
    /// this site's and no other's, and the suite's real-browser test serves the site's saved
    /// page there.
    fn example(&self) -> &'static str {
        ""
    }

    /// Browser match patterns (Chrome's and Firefox's syntax, [`match_pattern`]) of this site's
    /// product pages: `https://*.<domain><path>` for each of its domains and product paths.
    fn match_patterns(&self) -> Vec<String> {
        self.domains()
            .iter()
            .flat_map(|domain| {
                self.product_paths()
                    .iter()
                    .map(move |path| format!("https://*.{domain}{path}"))
            })
            .collect()
    }

    /// Whether pages from `host` (lower-case, without `www.`) are this site's.
    fn handles(&self, host: &str) -> bool {
        self.domains().iter().any(|domain| host_is(host, domain))
    }

    /// For a site: whether a page with no address looks like this site's (a saved fragment, a
    /// page saved without its URL), checked only when neither a URL nor the page names an
    /// address. For a platform: whether the page is a product page of one of its stores,
    /// checked for every page no site claims — so it must hold the platform's own marks and the
    /// product data it reads, not just mention the platform.
    fn recognizes(&self, _page: &Page<'_>) -> bool {
        false
    }

    /// The product id when `address` (an address of this site) is one of its product pages
    /// rather than a search, a store front or a media file.
    fn product_id_in(&self, _address: &str) -> Option<String> {
        None
    }

    /// Reads everything the page offers into `found`.
    fn extract(&self, page: &Page<'_>, found: &mut Found);
}

/// The site extractors, tried in order: the single list of the sites haul knows. Adding a site
/// is one file (plus its `mod` line) and one line here; `docs/architecture.md` ("Adding a
/// site") lists what else follows from it.
static SITES: &[&dyn Extractor] = &[
    &amazon::Amazon,
    &aliexpress::AliExpress,
    &alibaba::Alibaba,
    &ali1688::Ali1688,
    &ebay::Ebay,
    &etsy::Etsy,
    &taobao::Taobao,
    &tmall::Tmall,
    &jd::Jd,
    &wayfair::Wayfair,
    &bestbuy::BestBuy,
];

/// The shop platforms haul reads, tried in order for a page no site claims: any store running
/// one, on any domain, known by its page ([`Extractor::recognizes`]), not by an address list.
/// They have no browser match patterns: the extension's toolbar button and its per-shop "Show
/// the haul button on this shop" reach their stores. Adding one is, as for a site, one file, its
/// table and one line here (`docs/architecture.md`, "Adding a site or a platform").
static PLATFORMS: &[&dyn Extractor] = &[&shopify::Shopify, &woocommerce::WooCommerce];

/// The names of the shop platforms of [`PLATFORMS`], in order (as in [`Extraction::site`]).
pub fn platforms() -> Vec<&'static str> {
    PLATFORMS.iter().map(|p| p.site()).collect()
}

/// A site haul has an extractor for, as the browser extension and the docs see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// As in [`Extraction::site`].
    pub name: &'static str,
    /// The address of one real product page of the site.
    pub example: &'static str,
    /// Browser match patterns of the site's product pages ([`Extractor::match_patterns`]):
    /// where the extension's content script shows the button.
    pub patterns: Vec<String>,
    /// The host permissions those pages need: `https://*.<domain>/*` for each domain, in
    /// order (browsers ignore the path of a host permission).
    pub origins: Vec<String>,
}

/// Every site of [`SITES`], in order, with its example and the match patterns of its product
/// pages (what the extension's content script and host permissions must list).
pub fn sites() -> Vec<Site> {
    SITES
        .iter()
        .map(|site| Site {
            name: site.site(),
            example: site.example(),
            patterns: site.match_patterns(),
            origins: site
                .domains()
                .iter()
                .map(|domain| format!("https://*.{domain}/*"))
                .collect(),
        })
        .collect()
}

/// Most media items one page yields (a real page has at most a few hundred).
pub const MAX_ITEMS: usize = 2_000;

/// The site name of pages no site or platform extractor claims (`Extraction::site`).
pub const GENERIC_SITE: &str = "generic";

/// Finds every media item of the saved product page `html`. `page_url` is where it came from;
/// without it the page's canonical/`og:url` address is used.
pub fn extract(html: &str, page_url: Option<&str>) -> Extraction {
    extract_shown(html, page_url, &[])
}

/// [`extract`], given also the media URLs a browser showed on the page (what the extension's
/// content script saw in the DOM). They are evidence, not an order: the page's extraction
/// decides which media are the product's, and a shown URL replaces an extracted one only where
/// it is the same picture in a larger size ([`rendition::size_of`]). On a shop without an
/// extractor of its own they join the page's candidates and go through the same decision.
pub fn extract_shown(html: &str, page_url: Option<&str>, shown: &[&str]) -> Extraction {
    let mut warnings = Vec::new();
    if html.trim().is_empty() {
        warnings.push("the page is empty".to_string());
    } else if looks_cut_short(html) {
        warnings.push(
            "the page looks cut short (it opens <html> but never closes it); only what it holds was read"
                .to_string(),
        );
    }
    let page = Page::parse(html, page_url, &mut warnings).with_shown(shown);
    let extractor = choose(&page);
    let mut found = Found::default();
    extractor.extract(&page, &mut found);
    if extractor.site() != generic::Generic.site() && !found.has_images() {
        found.warn(format!(
            "no {} product images found; falling back to the page's generic metadata",
            extractor.site()
        ));
        generic::Generic.extract(&page, &mut found);
    }
    let from_site = std::mem::take(&mut found.facts);
    let absent = std::mem::take(&mut found.absent_facts);
    let mut extraction = found.finish(extractor.site(), &page);
    enlarge(&mut extraction.media, &page);
    let mut product = facts::of_page(&page, from_site, &absent);
    product.finish(&extraction);
    extraction.product = product;
    warnings.append(&mut extraction.warnings);
    extraction.warnings = warnings;
    if extraction.media.is_empty() && extraction.links.is_empty() {
        extraction
            .warnings
            .push("no media found on the page".to_string());
    }
    extraction
}

/// Swaps each item's URL for a larger rendition of the same picture that the browser showed.
fn enlarge(media: &mut [ExtractedMedia], page: &Page<'_>) {
    if page.shown().is_empty() {
        return;
    }
    let mut larger: HashMap<String, (u32, String)> = HashMap::new();
    for url in page.shown() {
        let url = cdn::largest(url);
        if let Some(size) = rendition::size_of(&url) {
            let entry = larger
                .entry(cdn::asset_id(&url))
                .or_insert_with(|| (size, url.clone()));
            if size > entry.0 {
                *entry = (size, url);
            }
        }
    }
    for m in media.iter_mut() {
        if let Some((size, url)) = larger.get(&cdn::asset_id(&m.url))
            && rendition::size_of(&m.url).is_none_or(|have| *size > have)
        {
            m.url = url.clone();
        }
    }
}

/// A whole saved document that lost its end (a download or save interrupted). Fragments (no
/// `<html>`) are not documents and are not judged.
fn looks_cut_short(html: &str) -> bool {
    let head = page::prefix(html, 64 << 10).to_ascii_lowercase();
    page::contains(&head, "<html")
        && !page::contains(html, "</html>")
        && !page::contains(html, "</HTML>")
}

fn choose(page: &Page<'_>) -> &'static dyn Extractor {
    let site = match page.host() {
        Some(host) => site_of(&host),
        // A site's content decides only when nothing names the page: any shop's page may
        // mention another marketplace.
        None => SITES.iter().copied().find(|s| s.recognizes(page)),
    };
    // No site claims the page: a platform's store is known by its own page, on any domain.
    site.or_else(|| PLATFORMS.iter().copied().find(|p| p.recognizes(page)))
        .unwrap_or(&generic::Generic)
}

/// The site extractor for pages from `host` (lower-case, without `www.`).
fn site_of(host: &str) -> Option<&'static dyn Extractor> {
    SITES.iter().copied().find(|s| s.handles(host))
}

/// Whether `url` names a web page to fetch and read rather than a media file: a product page of
/// a site haul knows ([`product_page`]), or on any shop an address whose path ends as pages do —
/// in `/`, or in `.html`, `.htm`, `.php`, `.asp`, `.aspx`, `.jsp`, `.shtml` — or is a product
/// path of a platform ([`PLATFORMS`]: a Shopify store's `/products/<handle>`), outside the media
/// CDNs [`cdn`] knows. Any other address without an extension (`…/image`,
/// `…/is/image/Shop/123`) is taken as media, as a file server's may be.
pub fn names_a_page(url: &str) -> bool {
    if product_page(url).is_some() {
        return true;
    }
    let Ok(parsed) = url::Url::parse(url.trim()) else {
        return false;
    };
    if !matches!(parsed.scheme(), "http" | "https") || cdn::is_known_media_host(url) {
        return false;
    }
    let path = parsed.path().to_ascii_lowercase();
    let file = path.rsplit('/').next().unwrap_or("");
    let page_ext = [".html", ".htm", ".php", ".asp", ".aspx", ".jsp", ".shtml"];
    // A platform's product path names a page on every store, unless it names a file there
    // (Shopify's `/products/<handle>.js` is the product's JSON).
    let platform_page = !file.contains('.')
        && PLATFORMS
            .iter()
            .flat_map(|p| p.product_paths())
            .any(|glob| match_pattern::matches(&format!("*://*{glob}"), url.trim()));
    (path.len() > 1 && path.ends_with('/'))
        || page_ext.iter().any(|e| file.ends_with(e))
        || platform_page
}

/// A product page of a site haul knows, found by its address alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPage {
    /// As in [`Extraction::site`].
    pub site: &'static str,
    pub product_id: String,
}

/// Whether `url` is the address of a product page of a site haul knows (an Amazon `/dp/ASIN`,
/// an AliExpress `/item/ID.html`, …) — a page to fetch and extract, not a media file. Search
/// pages, store fronts, media files and unknown shops are `None`.
pub fn product_page(url: &str) -> Option<ProductPage> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?.to_ascii_lowercase();
    let site = site_of(host.strip_prefix("www.").unwrap_or(&host))?;
    let product_id = site.product_id_in(url)?;
    Some(ProductPage {
        site: site.site(),
        product_id,
    })
}

/// `host` is `domain` or one of its subdomains.
pub(crate) fn host_is(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// What an extractor has found so far; `extract` turns it into an [`Extraction`].
#[derive(Debug, Default)]
pub struct Found {
    product_id: Option<String>,
    other_ids: Vec<String>,
    parent_id: Option<String>,
    title: Option<String>,
    page_url: Option<String>,
    items: Vec<ExtractedMedia>,
    links: Vec<Link>,
    /// Candidates per role, so role checks stay O(1) per push.
    per_role: HashMap<Role, usize>,
    warnings: Vec<String>,
    facts: ProductFacts,
    absent_facts: Vec<facts::Fact>,
}

impl Found {
    /// The product's facts as the site's own data gives them; [`facts`] fills the rest from
    /// the page's structured data and what it shows.
    pub fn facts(&mut self) -> &mut ProductFacts {
        &mut self.facts
    }

    /// Records that the site's own data shows the page does not state `fact` (a buy box with no
    /// offer): it stays absent, whatever the page's other prices say ([`facts::Fact`]).
    pub fn fact_absent(&mut self, fact: facts::Fact) {
        if !self.absent_facts.contains(&fact) {
            self.absent_facts.push(fact);
        }
    }

    /// The product id recorded so far (the one the package is named by).
    pub fn known_product_id(&self) -> Option<&str> {
        self.product_id.as_deref()
    }

    /// Records a product id. The first one recorded wins (extractors offer the canonical id
    /// first); different later ones are kept as [`Extraction::other_ids`].
    pub fn product_id(&mut self, id: impl AsRef<str>) {
        let id = id.as_ref().trim();
        if id.is_empty() {
            return;
        }
        match &self.product_id {
            None => self.product_id = Some(id.to_string()),
            Some(first) if first != id && !self.other_ids.iter().any(|o| o == id) => {
                self.other_ids.push(id.to_string());
            }
            Some(_) => {}
        }
    }

    /// Records the product's variation family (the first one recorded wins; never the product
    /// id itself).
    pub fn parent_id(&mut self, id: impl AsRef<str>) {
        let id = id.as_ref().trim();
        if self.parent_id.is_none() && !id.is_empty() && self.product_id.as_deref() != Some(id) {
            self.parent_id = Some(id.to_string());
        }
    }

    /// Records the title (the first non-empty one wins).
    pub fn title(&mut self, title: impl AsRef<str>) {
        let t = page::clean_text(title.as_ref());
        if self.title.is_none() && !t.is_empty() {
            self.title = Some(t);
        }
    }

    /// Records the page's canonical address when the page itself names none.
    pub fn page_url(&mut self, url: impl Into<String>) {
        if self.page_url.is_none() {
            self.page_url = Some(url.into());
        }
    }

    /// Adds an image (an absolute URL; anything else is dropped when finishing).
    pub fn image(&mut self, role: Role, url: impl Into<String>) {
        self.push(MediaKind::Image, role, url.into(), None, None, None);
    }

    /// Adds an image of the product as opened: the first one becomes `main`, the rest `gallery`.
    pub fn product_image(&mut self, url: impl Into<String>) {
        self.product_image_coded(url, None);
    }

    /// [`Found::product_image`] with the picture's code in the page's image set
    /// ([`ExtractedMedia::code`]).
    pub fn product_image_coded(&mut self, url: impl Into<String>, code: Option<&str>) {
        let role = if self.count(Role::Main) == 0 {
            Role::Main
        } else {
            Role::Gallery
        };
        self.push(MediaKind::Image, role, url.into(), None, None, code);
    }

    /// Adds a video.
    pub fn video(&mut self, role: Role, url: impl Into<String>) {
        self.push(MediaKind::Video, role, url.into(), None, None, None);
    }

    /// Adds an image of the variant labelled `label` (with its own id, if the site has one).
    pub fn variant_image(&mut self, url: impl Into<String>, label: &str, id: Option<&str>) {
        self.variant_image_coded(url, label, id, None);
    }

    /// [`Found::variant_image`] with the picture's code in the variant's image set.
    pub fn variant_image_coded(
        &mut self,
        url: impl Into<String>,
        label: &str,
        id: Option<&str>,
        code: Option<&str>,
    ) {
        let label = page::clean_text(label);
        let id = id
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(str::to_string);
        self.push(
            MediaKind::Image,
            Role::Variant,
            url.into(),
            (!label.is_empty()).then_some(label),
            id,
            code,
        );
    }

    /// Records a medium of the product on a video platform — a player, a watch address or a
    /// player's still ([`video_platform::link_of`]) — as a link to its page there. Other
    /// addresses are not links and are dropped.
    pub fn link(&mut self, role: Role, url: &str) {
        if let Some(link) = video_platform::link_of(url) {
            self.add_link(Link { role, ..link });
        }
    }

    /// Records a link an extractor has built itself (from a platform's video id).
    pub fn add_link(&mut self, link: Link) {
        if self.links.len() < MAX_ITEMS && !self.links.iter().any(|l| l.url == link.url) {
            self.links.push(link);
        }
    }

    /// Notes something the user should know (a source that was present but unreadable, …).
    pub fn warn(&mut self, message: impl Into<String>) {
        let message = message.into();
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    /// How many candidates with `role` were added so far (before de-duplication).
    pub fn count(&self, role: Role) -> usize {
        self.per_role.get(&role).copied().unwrap_or(0)
    }

    /// Whether any image was added.
    pub fn has_images(&self) -> bool {
        self.items.iter().any(|m| m.kind == MediaKind::Image)
    }

    fn push(
        &mut self,
        kind: MediaKind,
        role: Role,
        url: String,
        variant: Option<String>,
        variant_id: Option<String>,
        code: Option<&str>,
    ) {
        // A code is a short token (`PT05`); anything else the page put there is not one.
        let code = code
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| (1..=8).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric()));
        // Bound memory on hostile pages; `finish` reports the cut.
        if self.items.len() <= MAX_ITEMS * 4 {
            *self.per_role.entry(role).or_insert(0) += 1;
            self.items.push(ExtractedMedia {
                kind,
                role,
                url,
                variant,
                variant_id,
                code,
            });
        }
    }

    /// Rewrites, orders and de-duplicates the candidates (module doc, step 4).
    fn finish(self, site: &str, page: &Page<'_>) -> Extraction {
        let mut warnings = self.warnings;
        let mut items: Vec<ExtractedMedia> = self
            .items
            .into_iter()
            .filter_map(|mut m| {
                let url = page.absolute(&m.url)?;
                if !cdn::is_probably_media(&url) {
                    return None;
                }
                m.url = cdn::largest(&url);
                Some(m)
            })
            .collect();

        // At most one main image: it is the first product image; any other becomes gallery.
        let mut has_main = false;
        for m in items.iter_mut().filter(|m| m.role == Role::Main) {
            if has_main {
                m.role = Role::Gallery;
            }
            has_main = true;
        }
        // Package order: by role, variants grouped by label in order of first appearance.
        let mut groups: HashMap<Option<String>, usize> = HashMap::new();
        for m in items.iter().filter(|m| m.role == Role::Variant) {
            let next = groups.len();
            groups.entry(m.variant.clone()).or_insert(next);
        }
        items.sort_by_key(|m| {
            let group = match m.role {
                Role::Variant => groups.get(&m.variant).copied().unwrap_or(0),
                _ => 0,
            };
            (m.role, group)
        });
        let mut seen = HashSet::new();
        items.retain(|m| seen.insert(cdn::asset_id(&m.url)));
        if !has_main {
            if let Some(first) = items
                .iter_mut()
                .find(|m| m.role == Role::Gallery && m.kind == MediaKind::Image)
            {
                first.role = Role::Main;
            }
            // Stable: the variant grouping within `Role::Variant` survives.
            items.sort_by_key(|m| m.role);
        }
        if items.len() > MAX_ITEMS {
            warnings.push(format!(
                "the page lists more than {MAX_ITEMS} media items; only the first {MAX_ITEMS} are kept"
            ));
            items.truncate(MAX_ITEMS);
        }
        let page_url = page.url().map(|u| u.to_string()).or(self.page_url);
        // A family is never its own member: a page whose only id is the parent's names itself.
        let parent_id = self
            .parent_id
            .filter(|p| self.product_id.as_ref() != Some(p));
        let slug = self.title.as_deref().and_then(slug);
        Extraction {
            site: site.to_string(),
            product_id: self.product_id,
            title: self.title,
            slug,
            page_url,
            media: items,
            links: self.links,
            other_ids: self.other_ids,
            parent_id,
            product: ProductFacts::default(),
            warnings,
        }
    }
}

/// A file-name-safe slug of `title`: letters and digits of any script, lower-cased, other runs
/// of characters turned into one `-`, at most 60 characters, cut at a word boundary when one is
/// near the end.
pub fn slug(title: &str) -> Option<String> {
    const MAX: usize = 60;
    let mut out = String::new();
    let mut dash = false;
    for c in title.chars() {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        } else {
            dash = true;
        }
    }
    if out.chars().count() > MAX {
        let cut: String = out.chars().take(MAX).collect();
        out = match cut.rfind('-') {
            Some(i) if i >= MAX / 2 => cut[..i].to_string(),
            _ => cut,
        };
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry checks itself: each site's example is its own product page, by the address
    /// rules haul uses ([`product_page`]) and by the browser's match patterns the extension
    /// uses — and nobody else's, so no two sites can claim one page.
    #[test]
    fn every_example_is_its_own_site_s_product_page_and_no_other_s() {
        let mut names = HashSet::new();
        for site in SITES {
            let (name, example) = (site.site(), site.example());
            assert!(names.insert(name), "{name} is listed twice");
            assert_eq!(
                product_page(example).map(|p| p.site),
                Some(name),
                "{name}'s example {example} is a {name} product page"
            );
            let host = url::Url::parse(example)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                .unwrap_or_default();
            let host = host.strip_prefix("www.").unwrap_or(&host);
            let claims = |other: &dyn Extractor| -> bool {
                other.handles(host) && other.product_id_in(example).is_some()
            };
            let matched = |other: &dyn Extractor| -> Vec<String> {
                other
                    .match_patterns()
                    .into_iter()
                    .filter(|p| match_pattern::matches(p, example))
                    .collect()
            };
            assert!(
                !matched(*site).is_empty(),
                "{name}'s example {example} matches none of its patterns {:?}",
                site.match_patterns()
            );
            for other in SITES.iter().filter(|o| o.site() != name) {
                assert!(
                    !claims(*other),
                    "{}'s address rules also claim {name}'s example {example}",
                    other.site()
                );
                assert_eq!(
                    matched(*other),
                    Vec::<String>::new(),
                    "{}'s patterns also match {name}'s example {example}",
                    other.site()
                );
            }
        }
    }

    /// Every domain a site's patterns name is read as that site's and no other's, so the
    /// button only appears where haul reads the page with the same site's extractor.
    #[test]
    fn every_domain_belongs_to_one_site() {
        for site in SITES {
            for domain in site.domains() {
                let owners: Vec<&str> = SITES
                    .iter()
                    .filter(|s| s.handles(domain) || s.handles(&format!("www.{domain}")))
                    .map(|s| s.site())
                    .collect();
                assert_eq!(owners, vec![site.site()], "{domain}");
            }
            assert!(!site.domains().is_empty(), "{} has domains", site.site());
            assert!(!site.product_paths().is_empty(), "{}", site.site());
            for path in site.product_paths() {
                assert!(path.starts_with('/') && path.ends_with('*'), "{path}");
            }
        }
    }

    /// A small product page of each platform's stores, as the platform prints it: every
    /// platform of the registry has one here, so the tests below cover a new one.
    const PLATFORM_PAGES: &[(&str, &str)] = &[
        (
            "shopify",
            r#"<script>Shopify.shop = "s.myshopify.com";</script><script type="application/json" id="ProductJson">{"id":1,"title":"Lamp","handle":"lamp","variants":[{"id":2,"title":"Default Title"}],"images":["//cdn.shopify.com/s/files/1/0001/products/lamp.jpg"]}</script>"#,
        ),
        (
            "woocommerce",
            r#"<div class="woocommerce-product-gallery"><div class="woocommerce-product-gallery__image"><a href="https://w.example/wp-content/uploads/lamp.jpg"><img src="https://w.example/wp-content/uploads/lamp-600x600.jpg" data-large_image="https://w.example/wp-content/uploads/lamp.jpg"></a></div></div><h1 class="product_title">Lamp</h1>"#,
        ),
    ];

    /// Platforms belong to no domain and have no browser match patterns (the extension's
    /// per-shop button serves their stores), and no name is both a site's and a platform's.
    #[test]
    fn every_platform_claims_no_address_and_has_a_page_here() {
        let mut names: HashSet<&str> = SITES.iter().map(|s| s.site()).collect();
        for platform in PLATFORMS {
            let name = platform.site();
            assert!(names.insert(name), "{name} is listed twice");
            assert_ne!(name, generic::Generic.site());
            assert!(platform.domains().is_empty(), "{name} has no domains");
            assert_eq!(platform.example(), "", "{name}");
            for path in platform.product_paths() {
                assert!(path.starts_with('/') && path.ends_with('*'), "{path}");
            }
            assert!(platform.match_patterns().is_empty(), "{name}");
            assert!(!platform.handles("shop.example"), "{name}");
            assert_eq!(
                platform.product_id_in("https://shop.example/products/lamp"),
                None,
                "{name}"
            );
            assert!(
                PLATFORM_PAGES.iter().any(|(n, _)| *n == name),
                "{name} has a page in PLATFORM_PAGES"
            );
        }
        assert_eq!(platforms(), ["shopify", "woocommerce"]);
    }

    /// A platform's page is chosen by what it holds when no site claims it — at any shop's
    /// address and with none — and only by its own platform; a site's address still wins.
    #[test]
    fn platforms_are_chosen_by_the_page_when_no_site_claims_it() {
        for (name, html) in PLATFORM_PAGES {
            let mut w = Vec::new();
            for url in [Some("https://lamps.example/products/lamp"), None] {
                let page = Page::parse(html, url, &mut w);
                assert_eq!(choose(&page).site(), *name, "{name} at {url:?}");
                let others: Vec<&str> = SITES
                    .iter()
                    .chain(PLATFORMS)
                    .filter(|e| e.site() != *name && e.recognizes(&page))
                    .map(|e| e.site())
                    .collect();
                assert_eq!(others, Vec::<&str>::new(), "{name}'s page is only {name}'s");
            }
            let at_amazon = Page::parse(html, Some("https://www.amazon.com/dp/B000000000"), &mut w);
            assert_eq!(
                choose(&at_amazon).site(),
                "amazon",
                "{name} at a site's address"
            );
            let e = extract(html, Some("https://lamps.example/products/lamp"));
            assert_eq!(
                (e.site.as_str(), e.title.as_deref(), e.media.len()),
                (*name, Some("Lamp"), 1),
                "{e:?}"
            );
        }
        // The generic extractor keeps every other shop's page.
        let mut w = Vec::new();
        let mention = Page::parse(
            "<p>We moved from Shopify (cdn.shopify.com) and WooCommerce.</p>",
            Some("https://lamps.example/p"),
            &mut w,
        );
        assert_eq!(choose(&mention).site(), "generic");
    }

    #[test]
    fn sites_describe_the_registry_for_the_extension() {
        let all = sites();
        let names: Vec<&str> = all.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "amazon",
                "aliexpress",
                "alibaba",
                "1688",
                "ebay",
                "etsy",
                "taobao",
                "tmall",
                "jd",
                "wayfair",
                "bestbuy"
            ]
        );
        let ebay = &all[4];
        assert!(
            ebay.patterns
                .contains(&"https://*.ebay.com/itm/*".to_string())
        );
        assert!(ebay.origins.contains(&"https://*.ebay.co.uk/*".to_string()));
        let amazon = &all[0];
        assert_eq!(amazon.origins.len() * 6, amazon.patterns.len());
        for pattern in [
            "https://*.amazon.co.jp/*/dp/*",
            "https://*.amazon.de/*/product-reviews/*",
        ] {
            assert!(amazon.patterns.contains(&pattern.to_string()), "{pattern}");
        }
    }

    #[test]
    fn page_addresses_of_any_shop_are_pages_media_files_are_not() {
        for page in [
            "https://www.amazon.com/dp/B0BRZXRBZL",
            "https://www.ikea.com/gb/en/p/fjantig-hook-black-60347102/",
            "https://www.zalando.ie/esprit-chinos-camel-es122e05o-b11.html",
            "https://www.spartoo.pt/Tommy-Jeans-OFLEKI-x3410048.php",
            "https://shop.example/product.aspx?id=7",
            // Shopify's product path, on any store.
            "https://mediamarkt.pt/products/aspirador-robot-roborock-s6-pure-preto",
            "https://totes.example/collections/bags/products/canvas-tote?variant=22",
        ] {
            assert!(names_a_page(page), "{page}");
        }
        for media in [
            "https://img.shop.example/p/lamp.jpg",
            "https://apollo.example.net/v1/files/hkvrcyj7vklz-PK/image",
            "https://images.shop.example/is/image/Shop/12345_A?$pdp$",
            "https://cdn.shopify.com/s/files/1/1/products/mug.html",
            "https://totes.example/cdn/shop/products/tote.jpg",
            "https://totes.example/products/canvas-tote.js",
            "https://totes.example/products",
            "https://m.media-amazon.com/images/I/81abc._AC_SX679_.jpg",
            "https://shop.example/",
            "ftp://shop.example/p/",
            "not a url",
        ] {
            assert!(!names_a_page(media), "{media}");
        }
    }

    #[test]
    fn product_pages_are_known_by_their_address() {
        let page = |url: &str| product_page(url).map(|p| (p.site, p.product_id));
        for (url, site, id) in [
            (
                "https://www.amazon.com/Dog-Vest/dp/B0BRZXRBZL?th=1",
                "amazon",
                "B0BRZXRBZL",
            ),
            (
                "https://amazon.co.uk/gp/product/B07PXGQC1Q",
                "amazon",
                "B07PXGQC1Q",
            ),
            (
                "https://www.amazon.com/EMUST-Adjustable/product-reviews/B0BRZXRBZL?pageNumber=2",
                "amazon",
                "B0BRZXRBZL",
            ),
            (
                "https://www.aliexpress.com/item/1005006127233431.html?spm=a2g0o",
                "aliexpress",
                "1005006127233431",
            ),
            (
                "https://www.alibaba.com/product-detail/Pet-Harness_1600123456789.html",
                "alibaba",
                "1600123456789",
            ),
            (
                "https://detail.1688.com/offer/712345678901.html",
                "1688",
                "712345678901",
            ),
            (
                "https://www.ebay.com/itm/123456789012",
                "ebay",
                "123456789012",
            ),
            (
                "https://www.etsy.com/listing/1234567/brass-lamp",
                "etsy",
                "1234567",
            ),
            (
                "https://item.taobao.com/item.htm?spm=a1z10&id=562283240178&ns=1",
                "taobao",
                "562283240178",
            ),
            (
                "https://detail.tmall.com/item.htm?id=605258110430",
                "tmall",
                "605258110430",
            ),
            (
                "https://detail.tmall.hk/hk/item.htm?id=605258110430#detail",
                "tmall",
                "605258110430",
            ),
            (
                "https://item.jd.com/100121438395.html?bbtf=1",
                "jd",
                "100121438395",
            ),
        ] {
            assert_eq!(page(url), Some((site, id.to_string())), "{url}");
        }
        for not_a_product_page in [
            "https://m.media-amazon.com/images/I/81abc._AC_SL1500_.jpg",
            "https://ae01.alicdn.com/kf/Sabc.jpg",
            "https://www.amazon.com/s?k=dog+vest",
            "https://www.aliexpress.com/store/123456",
            "https://s.taobao.com/search?q=keyboard",
            "https://item.taobao.com/item.htm?spm=a1z10&itemid=562283240178",
            "https://list.tmall.com/search_product.htm?q=iphone",
            "https://gd4.alicdn.com/imgextra/i4/134583372/TB2b.jpg",
            "https://www.jd.com/allSort.html",
            "https://item.jd.com/100121438395.html.bak",
            "https://img14.360buyimg.com/img/jfs/t1/1/a.jpg",
            "https://shop.example/products/lamp",
            "ftp://www.amazon.com/dp/B0BRZXRBZL",
            "not a url",
        ] {
            assert_eq!(page(not_a_product_page), None, "{not_a_product_page}");
        }
    }

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(
            slug("Gorilla Black Duct Tape, 1.88\" x 12 yd, Black, (Pack of 2)").as_deref(),
            Some("gorilla-black-duct-tape-1-88-x-12-yd-black-pack-of-2")
        );
        assert_eq!(slug("  ***  "), None);
        assert_eq!(
            slug("源头厂家 中式/国风").as_deref(),
            Some("源头厂家-中式-国风")
        );
        let long = slug(&"word ".repeat(40)).unwrap_or_default();
        assert!(long.chars().count() <= 60 && !long.ends_with('-'), "{long}");
        assert!(!long.contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|', ' ']));
    }

    #[test]
    fn finishing_orders_roles_dedupes_assets_and_keeps_one_main() {
        let mut w = Vec::new();
        let page = Page::parse("", Some("https://shop.example/p/1"), &mut w);
        let mut f = Found::default();
        f.video(Role::Video, "https://v.example/a.mp4");
        f.variant_image(
            "https://m.media-amazon.com/images/I/B1._AC_.jpg",
            "Blue",
            Some("B0B"),
        );
        f.image(
            Role::Gallery,
            "https://m.media-amazon.com/images/I/G1._SX300_.jpg",
        );
        f.variant_image(
            "https://m.media-amazon.com/images/I/R1._AC_.jpg",
            "Red",
            Some("B0R"),
        );
        f.variant_image(
            "https://m.media-amazon.com/images/I/G1._AC_.jpg",
            "Red",
            None,
        );
        f.image(
            Role::Main,
            "https://m.media-amazon.com/images/I/M1._SL1500_.jpg",
        );
        f.image(Role::Main, "https://m.media-amazon.com/images/I/M2.jpg");
        f.variant_image(
            "https://m.media-amazon.com/images/I/B2.jpg",
            "Blue",
            Some("B0B"),
        );
        f.image(Role::Gallery, "data:image/gif;base64,AAAA");
        f.image(
            Role::Gallery,
            "https://m.media-amazon.com/images/I/11x._RC|a.js_.js",
        );
        let e = f.finish("amazon", &page);
        let got: Vec<(Role, &str, Option<&str>)> = e
            .media
            .iter()
            .map(|m| (m.role, m.url.as_str(), m.variant.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Role::Main,
                    "https://m.media-amazon.com/images/I/M1.jpg",
                    None
                ),
                (
                    Role::Gallery,
                    "https://m.media-amazon.com/images/I/G1.jpg",
                    None
                ),
                (
                    Role::Gallery,
                    "https://m.media-amazon.com/images/I/M2.jpg",
                    None
                ),
                (
                    Role::Variant,
                    "https://m.media-amazon.com/images/I/B1.jpg",
                    Some("Blue")
                ),
                (
                    Role::Variant,
                    "https://m.media-amazon.com/images/I/B2.jpg",
                    Some("Blue")
                ),
                (
                    Role::Variant,
                    "https://m.media-amazon.com/images/I/R1.jpg",
                    Some("Red")
                ),
                (Role::Video, "https://v.example/a.mp4", None),
            ]
        );
    }

    #[test]
    fn first_gallery_image_becomes_main_when_none_is_named() {
        let mut w = Vec::new();
        let page = Page::parse("", None, &mut w);
        let mut f = Found::default();
        f.video(Role::Video, "https://v.example/a.mp4");
        f.image(Role::Gallery, "https://x.example/1.jpg");
        f.image(Role::Gallery, "https://x.example/2.jpg");
        let e = f.finish("generic", &page);
        assert_eq!(e.media[0].role, Role::Main);
        assert_eq!(e.media[0].url, "https://x.example/1.jpg");
        assert_eq!(e.media[1].role, Role::Gallery);
        assert_eq!(e.media[2].role, Role::Video);
    }

    #[test]
    fn ids_keep_the_first_and_alias_the_rest() {
        let mut f = Found::default();
        f.product_id("1005003568989271");
        f.product_id("3256803382674519");
        f.product_id("1005003568989271");
        f.product_id(" ");
        assert_eq!(f.product_id.as_deref(), Some("1005003568989271"));
        assert_eq!(f.other_ids, vec!["3256803382674519"]);
    }

    #[test]
    fn site_is_chosen_by_host_then_content() {
        let cases = [
            ("https://www.amazon.co.jp/dp/B000000000", "amazon"),
            ("https://smile.amazon.com/dp/B000000000", "amazon"),
            ("https://www.amazon.com.tr/dp/B000000000", "amazon"),
            ("https://he.aliexpress.com/item/1.html", "aliexpress"),
            ("https://aliexpress.ru/item/1.html", "aliexpress"),
            ("https://www.aliexpress.us/item/1.html", "aliexpress"),
            ("https://www.alibaba.com/product-detail/x_1.html", "alibaba"),
            ("https://detail.1688.com/offer/1.html", "1688"),
            ("https://www.ebay.co.uk/itm/1", "ebay"),
            ("https://www.etsy.com/listing/1/x", "etsy"),
            ("https://www.wayfair.com/furniture/pdp/x-w1.html", "wayfair"),
            ("https://www.bestbuy.com/product/x/JJ858RL86Q", "bestbuy"),
            ("https://www.bestbuy.ca/en-ca/product/x/12222651", "bestbuy"),
            ("https://item.taobao.com/item.htm?id=1", "taobao"),
            ("https://world.taobao.com/item/1.htm", "taobao"),
            ("https://detail.tmall.com/item.htm?id=1", "tmall"),
            ("https://item.jd.com/1.html", "jd"),
            ("https://www.jd.com/", "generic"),
            ("https://shop.example/products/x", "generic"),
            ("https://notamazon.com/dp/B000000000", "generic"),
        ];
        for (url, site) in cases {
            let mut w = Vec::new();
            let page = Page::parse("<p>", Some(url), &mut w);
            assert_eq!(choose(&page).site(), site, "{url}");
        }
        // Content decides only for pages without any address.
        let mentions = r#"<script>var runParams = {"imagePathList": []}; // aliexpress.com/item/1.html</script>"#;
        let mut w = Vec::new();
        assert_eq!(
            choose(&Page::parse(mentions, None, &mut w)).site(),
            "aliexpress"
        );
        let blog = Page::parse(mentions, Some("https://blog.example/post"), &mut w);
        assert_eq!(choose(&blog).site(), "generic");
    }
}
