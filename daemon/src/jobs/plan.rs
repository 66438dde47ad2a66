//! Planning a job: turning its request into the ordered list of items to save.
//!
//! 1. When the request carries the page's HTML (the extension sends it; `haul grab PAGE.html`
//!    reads it from a file), the page is extracted ([`crate::extract`]): the site, product id
//!    and title name the package, and every media item comes with its role, variant label and
//!    variant id, already rewritten to the largest version its CDN serves. The product's videos on
//!    a video platform (a YouTube player the page embeds) are not items: extraction reports them
//!    as links (`Extraction::links`), which go with the product into the journal and the
//!    manifest and are never requested.
//! 2. Media URLs the request lists beside a page (what the browser's DOM showed) are evidence,
//!    not an order: extraction decides which media are the product's, and a listed URL only
//!    replaces an extracted one where it is the same picture in a larger size
//!    ([`extract::extract_shown`]). The page's sprites, banners, beacons and other products'
//!    thumbnails are left out, and nothing is ever requested from their hosts (the one
//!    connection opened while the page is read, [`likely_media_origin`], asks for nothing and
//!    goes only to the known CDN most of them come from). The one exception
//!    is a medium the user pointed at (`chosen`: the context menu on an image), which is added
//!    when extraction did not already find the same asset.
//! 3. A plain list (no page) is saved as listed, each URL in the largest size its CDN serves
//!    ([`cdn::largest`]) unless the request asks for links as given; roles follow the order: the
//!    first image is the main image, the other images the gallery. The same asset listed twice
//!    is saved once.
//! 4. Items are ordered by role (main, gallery, variants grouped by label, …), the package order.
//! 5. Items (and links) in roles the request's `include` leaves out (the user's choice) are set
//!    aside: never downloaded, listed in the manifest.

use std::collections::HashSet;
use std::path::Path;

use crate::extract::{self, Extraction, cdn};
use crate::journal::{ExcludedItem, NewItem, ProductInfo};
use crate::media::{Link, MediaKind, Role};
use crate::naming::SellerSlot;
use crate::request::{JobRequest, LocalFile, RequestedMedia};
use url::Url;

/// The origin (`https://host/`) that most of the media the browser showed come from, in their
/// largest sizes, when it is a media CDN haul knows: the host a page's downloads will most
/// likely use, whose connection the job opens while the page is read ([`crate::fetch::warm`]).
/// Only a known CDN, and only the one most media name, so that no connection goes where the job
/// is not about to download from (a shop's own host serves its scripts and pages as well; a
/// second CDN may carry only the page's sprites).
pub(super) fn likely_media_origin(media: &[RequestedMedia]) -> Option<Url> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for m in media {
        let url = cdn::largest(&m.url);
        if !cdn::is_known_media_host(&url) || !cdn::is_probably_media(&url) {
            continue;
        }
        let Ok(parsed) = Url::parse(&url) else {
            continue;
        };
        let origin = parsed.origin().ascii_serialization();
        match counts.iter_mut().find(|(o, _)| *o == origin) {
            Some((_, n)) => *n += 1,
            None => counts.push((origin, 1)),
        }
    }
    // The first of the most named, in the order the browser listed them.
    let (origin, _) = counts.into_iter().rev().max_by_key(|(_, n)| *n)?;
    Url::parse(&origin).ok()
}

/// What a job will save.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Plan {
    pub product: ProductInfo,
    pub items: Vec<NewItem>,
    /// What the page offered in roles the request's `include` leaves out.
    pub excluded: Vec<ExcludedItem>,
    /// What the page extraction could not read (for the log).
    pub warnings: Vec<String>,
}

/// Plans `request` with the page `fetched` for it, else its saved page, if any (reading and
/// extracting are CPU and disk work: call it on the blocking pool). Media in roles the request's
/// `include` leaves out become [`Plan::excluded`] (step 5).
pub(super) fn plan(request: &JobRequest, fetched: Option<&str>) -> Plan {
    let mut plan = plan_every_role(request, fetched);
    let include = request.include.unwrap_or_default();
    if !include.is_all() {
        let (items, excluded): (Vec<NewItem>, Vec<NewItem>) = std::mem::take(&mut plan.items)
            .into_iter()
            .partition(|i| include.contains(i.role));
        plan.items = items;
        plan.excluded = excluded
            .into_iter()
            .map(|i| ExcludedItem {
                url: i.url,
                role: i.role,
                variant: i.variant,
            })
            .collect();
        let (links, left_out) = std::mem::take(&mut plan.product.links)
            .into_iter()
            .partition(|l| include.contains(l.role));
        plan.product.links = links;
        plan.excluded
            .extend(left_out.into_iter().map(|l: Link| ExcludedItem {
                url: l.url,
                role: l.role,
                variant: None,
            }));
    }
    plan
}

fn plan_every_role(request: &JobRequest, fetched: Option<&str>) -> Plan {
    if !request.local_files.is_empty() {
        return Plan {
            product: ProductInfo {
                title: request.page_title.clone(),
                ..Default::default()
            },
            items: local_items(&request.local_files),
            excluded: Vec::new(),
            warnings: Vec::new(),
        };
    }
    let mut warnings = Vec::new();
    let page_url = request.page_url.as_deref();
    let shown: Vec<&str> = request.media.iter().map(|m| m.url.as_str()).collect();
    let extraction = match fetched {
        Some(html) => Some(extract::extract_shown(html, page_url, &shown)),
        None => request
            .page_file
            .as_deref()
            .and_then(|path| match read_saved_page(path) {
                Ok(html) => Some(extract::extract_shown(&html, page_url, &shown)),
                Err(e) => {
                    warnings.push(e);
                    None
                }
            }),
    };
    match extraction {
        Some(mut e) => {
            warnings.append(&mut e.warnings);
            let product = ProductInfo {
                site: Some(e.site.clone()),
                product_id: e.product_id.clone(),
                parent_id: e.parent_id.clone(),
                other_ids: e.other_ids.clone(),
                title: e.title.clone().or_else(|| request.page_title.clone()),
                page_url: e.page_url.clone().or_else(|| request.page_url.clone()),
                links: e.links.clone(),
                facts: std::mem::take(&mut e.product),
            };
            let (items, left_out) = merge(&e, &request.media);
            if left_out > 0 {
                warnings.push(format!(
                    "{left_out} of the {} media the browser listed are not this product's (the \
                     page's layout, icons, other products); they are left out",
                    request.media.len()
                ));
            }
            Plan {
                product,
                items,
                excluded: Vec::new(),
                warnings,
            }
        }
        None => {
            // A browser's media list without its page (too large to send, or unreadable) has no
            // page to tell the product's media from the page's: what the URLs alone give away as
            // the shop's furniture (icons, logos, sprites, GIFs, drawings) is left out.
            let from_browser = request.page_url.is_some() && !request.fetch_page;
            let listed: Vec<RequestedMedia> = request
                .media
                .iter()
                .filter(|m| !from_browser || m.chosen || !extract::is_shop_furniture(&m.url))
                .cloned()
                .collect();
            Plan {
                product: ProductInfo {
                    site: None,
                    product_id: request.sku.clone(),
                    title: request.page_title.clone(),
                    page_url: request.page_url.clone(),
                    ..Default::default()
                },
                items: list_items(&listed, request.as_given),
                excluded: Vec::new(),
                warnings,
            }
        }
    }
}

fn read_saved_page(path: &Path) -> Result<String, String> {
    extract::read_page_file(path).map_err(|e| format!("the saved page cannot be read: {e}"))
}

/// The extracted media, then the listed media the user pointed at that extraction did not find
/// (module doc, step 2); also how many listed media were left out.
fn merge(extraction: &Extraction, listed: &[RequestedMedia]) -> (Vec<NewItem>, usize) {
    let mut seen = HashSet::new();
    let mut items: Vec<NewItem> = extraction
        .media
        .iter()
        .filter(|m| seen.insert(cdn::asset_id(&m.url)))
        .map(|m| NewItem {
            url: m.url.clone(),
            kind: m.kind,
            role: m.role,
            variant: m.variant.clone(),
            variant_id: m.variant_id.clone(),
            code: m.code.clone(),
        })
        .collect();
    let mut roles = RolesByOrder {
        have_main: items.iter().any(|i| i.role == Role::Main),
    };
    let mut left_out = 0;
    for m in listed {
        let url = cdn::largest(m.url.trim());
        if !is_http(&url) || !seen.insert(cdn::asset_id(&url)) {
            continue;
        }
        if !m.chosen {
            left_out += 1;
            continue;
        }
        let kind = m.kind.unwrap_or_else(|| guess_kind(&url));
        items.push(NewItem {
            url,
            kind,
            role: roles.next(kind),
            variant: None,
            variant_id: None,
            code: None,
        });
    }
    // Stable: the extraction's order within a role (variants grouped by label) is kept, and
    // the chosen media follow the extracted items of their role.
    items.sort_by_key(|i| i.role);
    (items, left_out)
}

fn is_http(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// A plain list: each URL in its largest size (or as given), roles as the request gives them,
/// else by order; the same asset listed twice saved once (with `as_given`, the same URL).
fn list_items(media: &[RequestedMedia], as_given: bool) -> Vec<NewItem> {
    let mut seen = HashSet::new();
    let mut roles = RolesByOrder {
        have_main: media.iter().any(|m| m.role == Some(Role::Main)),
    };
    media
        .iter()
        .map(|m| {
            let url = m.url.trim();
            let url = if as_given {
                url.to_string()
            } else {
                cdn::largest(url)
            };
            (m, url)
        })
        .filter(|(_, url)| {
            seen.insert(if as_given {
                url.clone()
            } else {
                cdn::asset_id(url)
            })
        })
        .map(|(m, url)| {
            let kind = m.kind.unwrap_or_else(|| guess_kind(&url));
            NewItem {
                url,
                kind,
                role: m.role.unwrap_or_else(|| roles.next(kind)),
                variant: None,
                variant_id: None,
                code: m.code.clone(),
            }
        })
        .collect()
}

/// The user's own files, one item each, in the request's order (the inbox named them already,
/// `SKU.SLOT`): the slot is the item's code, and a swatch (`SWCH`) is a swatch, not a gallery
/// picture.
fn local_items(files: &[LocalFile]) -> Vec<NewItem> {
    files
        .iter()
        .map(|f| {
            let slot = f
                .name
                .rsplit_once('.')
                .and_then(|(_, code)| SellerSlot::parse(code));
            NewItem {
                url: url::Url::from_file_path(&f.path)
                    .map_or_else(|()| f.path.display().to_string(), String::from),
                kind: MediaKind::Image,
                role: match slot {
                    _ if f.main => Role::Main,
                    Some(SellerSlot::Swatch) => Role::Swatch,
                    _ => Role::Gallery,
                },
                variant: None,
                variant_id: None,
                code: slot.map(SellerSlot::code),
            }
        })
        .collect()
}

/// Roles of listed media: the first image is the main one (unless there is one already), the
/// other images the gallery, videos videos.
struct RolesByOrder {
    have_main: bool,
}

impl RolesByOrder {
    fn next(&mut self, kind: MediaKind) -> Role {
        match kind {
            MediaKind::Video => Role::Video,
            MediaKind::Image if !self.have_main => {
                self.have_main = true;
                Role::Main
            }
            MediaKind::Image => Role::Gallery,
        }
    }
}

/// Video when the URL's path says so (`.mp4`, `.m3u8`, …); image otherwise. Only a default for
/// naming — the downloaded bytes decide the real format.
pub(super) fn guess_kind(url: &str) -> MediaKind {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let video = [".mp4", ".m4v", ".mov", ".webm", ".m3u8", ".ts", ".mpd"];
    if video.iter().any(|ext| path.ends_with(ext)) {
        MediaKind::Video
    } else {
        MediaKind::Image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(url: &str) -> RequestedMedia {
        RequestedMedia::link(url)
    }

    /// The connection opened while a page is read goes to the known CDN most of the shown media
    /// come from, never to a host the browser showed only a few of them from, or an unknown one.
    #[test]
    fn the_likely_media_origin_is_the_known_cdn_most_media_name() {
        let shown = [
            "https://images-na.ssl-images-amazon.com/images/G/01/nav/sprite.png",
            "https://m.media-amazon.com/images/I/41abc._AC_US40_.jpg",
            "https://shop.example/logo.png",
            "https://shop.example/banner.png",
            "https://shop.example/hero.png",
            "https://images-na.ssl-images-amazon.com/images/I/51def._SX38_.jpg",
            "https://m.media-amazon.com/images/I/61ghi._AC_SX679_.jpg",
            "https://m.media-amazon.com/images/I/app.js",
        ]
        .map(media);
        let origin = likely_media_origin(&shown).unwrap();
        assert_eq!(origin.as_str(), "https://m.media-amazon.com/");
        let unknown = ["https://shop.example/a.jpg", "https://shop.example/b.jpg"].map(media);
        assert_eq!(likely_media_origin(&unknown), None);
        assert_eq!(likely_media_origin(&[]), None);
    }

    /// A seller's photo keeps its slot as its code; its swatch is a swatch.
    #[test]
    fn local_files_take_their_slots_role_and_code() {
        let file = |name: &str, main: bool| LocalFile {
            path: std::path::PathBuf::from(format!("/inbox/processing/7-shoes/{name}.jpg")),
            name: name.to_string(),
            main,
        };
        let items = local_items(&[
            file("B0SHOE1.MAIN", true),
            file("B0SHOE1.PT01", false),
            file("B0SHOE1.SWCH", false),
        ]);
        let got: Vec<_> = items.iter().map(|i| (i.role, i.code.as_deref())).collect();
        assert_eq!(
            got,
            [
                (Role::Main, Some("MAIN")),
                (Role::Gallery, Some("PT01")),
                (Role::Swatch, Some("SWCH"))
            ]
        );
    }

    #[test]
    fn list_roles_follow_order_and_duplicates_go() {
        let items = list_items(
            &[
                media("https://c.example/v.mp4?sig=1"),
                media("https://c.example/a.jpg"),
                media("https://c.example/b.jpg"),
                media(" https://c.example/a.jpg "),
            ],
            false,
        );
        let roles: Vec<_> = items.iter().map(|i| (i.role, i.kind)).collect();
        assert_eq!(
            roles,
            [
                (Role::Video, MediaKind::Video),
                (Role::Main, MediaKind::Image),
                (Role::Gallery, MediaKind::Image)
            ]
        );
    }

    #[test]
    fn listed_links_are_saved_at_their_largest_unless_kept_as_given() {
        let listed = [
            media("https://m.media-amazon.com/images/I/81abc._AC_SX679_.jpg"),
            media("https://i.ebayimg.com/images/g/AbCdEf/s-l500.jpg"),
            media("https://ae01.alicdn.com/kf/Sabc123.jpg_640x640.jpg"),
            // The same picture as the first, in another size: saved once.
            media("https://m.media-amazon.com/images/I/81abc._AC_SL1500_.jpg"),
        ];
        let largest: Vec<String> = list_items(&listed, false)
            .into_iter()
            .map(|i| i.url)
            .collect();
        assert_eq!(
            largest,
            [
                "https://m.media-amazon.com/images/I/81abc.jpg",
                "https://i.ebayimg.com/images/g/AbCdEf/s-l1600.jpg",
                "https://ae01.alicdn.com/kf/Sabc123.jpg",
            ]
        );
        let as_given: Vec<String> = list_items(&listed, true)
            .into_iter()
            .map(|i| i.url)
            .collect();
        let listed: Vec<&str> = listed.iter().map(|m| m.url.as_str()).collect();
        assert_eq!(as_given, listed);
    }

    /// A page whose JSON-LD names the product, plus what the browser's DOM showed.
    const PAGE: &str = r#"<html><head>
        <link rel="canonical" href="https://shop.example/products/lamp">
        <script type="application/ld+json">{"@type": "Product", "name": "Brass Lamp",
          "sku": "LAMP1", "image": ["https://img.example/lamp-a.jpg?w=400", "https://img.example/lamp-b.jpg"]}</script>
        </head><body></body></html>"#;

    /// What a plan sets aside by choice: each medium's role and address.
    fn excluded(plan: &Plan) -> Vec<(Role, &str)> {
        plan.excluded
            .iter()
            .map(|i| (i.role, i.url.as_str()))
            .collect()
    }

    fn saved_request(dir: &Path, listed: Vec<RequestedMedia>) -> JobRequest {
        let page = dir.join("page.html");
        std::fs::write(&page, PAGE).unwrap();
        JobRequest {
            page_url: None,
            page_title: Some("from the tab".into()),
            page_file: Some(page),
            media: listed,
            ..Default::default()
        }
    }

    #[test]
    fn the_page_decides_and_dom_media_only_enlarge_or_are_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let request = saved_request(
            dir.path(),
            vec![
                // The same picture larger: replaces the page's size.
                media("https://img.example/lamp-a.jpg?w=1600"),
                media("https://img.example/lamp-b.jpg"),
                // What else the DOM showed: not the product's.
                media("https://img.example/sprite-nav.png"),
                media("https://fls-na.amazon.com/1/batch/1/OP/ATVPDKIKX0DER:1"),
                media("https://img.example/clip.mp4"),
                media("javascript:alert(1)"),
                // The user right-clicked this one.
                RequestedMedia {
                    chosen: true,
                    ..media("https://m.media-amazon.com/images/I/81abc._AC_SX300_.jpg")
                },
            ],
        );
        let plan = plan(&request, None);
        assert_eq!(plan.product.site.as_deref(), Some("generic"));
        assert_eq!(plan.product.title.as_deref(), Some("Brass Lamp"));
        assert_eq!(
            plan.product.page_url.as_deref(),
            Some("https://shop.example/products/lamp")
        );
        let got: Vec<(Role, &str)> = plan
            .items
            .iter()
            .map(|i| (i.role, i.url.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Role::Main, "https://img.example/lamp-a.jpg?w=1600"),
                (Role::Gallery, "https://img.example/lamp-b.jpg"),
                (
                    Role::Gallery,
                    "https://m.media-amazon.com/images/I/81abc.jpg"
                ),
            ]
        );
        assert!(
            plan.warnings
                .iter()
                .any(|w| w.starts_with("3 of the 7 media the browser listed")),
            "{:?}",
            plan.warnings
        );
    }

    #[test]
    fn roles_left_out_by_choice_are_set_aside_not_planned() {
        let dir = tempfile::tempdir().unwrap();
        let mut request = saved_request(dir.path(), vec![media("https://img.example/clip.mp4")]);
        request.media[0].chosen = true;
        request.include = Some("gallery,video".parse().unwrap());
        let plan = plan(&request, None);
        let kept: Vec<(Role, &str)> = plan
            .items
            .iter()
            .map(|i| (i.role, i.url.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                (Role::Gallery, "https://img.example/lamp-b.jpg"),
                (Role::Video, "https://img.example/clip.mp4"),
            ]
        );
        assert_eq!(
            excluded(&plan),
            [(Role::Main, "https://img.example/lamp-a.jpg?w=400")]
        );
    }

    /// A YouTube player in the gallery: a link of the product, never an item; left out by
    /// choice like the media of its role.
    #[test]
    fn a_player_is_a_link_of_the_product_not_an_item() {
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join("page.html");
        std::fs::write(
            &page,
            PAGE.replace(
                "<body></body>",
                r#"<body><div class="gallery"><img src="https://img.example/lamp-a.jpg?w=400">
                   <iframe src="https://www.youtube.com/embed/i7pXJC8wwLE"></iframe></div></body>"#,
            ),
        )
        .unwrap();
        let mut request = JobRequest {
            page_file: Some(page),
            ..Default::default()
        };
        let planned = plan(&request, None);
        let links: Vec<(&str, Role)> = planned
            .product
            .links
            .iter()
            .map(|l| (l.url.as_str(), l.role))
            .collect();
        assert_eq!(
            links,
            [("https://www.youtube.com/watch?v=i7pXJC8wwLE", Role::Video)]
        );
        assert!(
            planned.items.iter().all(|i| !i.url.contains("youtube")),
            "{:?}",
            planned.items
        );
        assert_eq!(planned.items.len(), 2);

        request.include = Some("main,gallery".parse().unwrap());
        let planned = plan(&request, None);
        assert!(planned.product.links.is_empty());
        assert_eq!(
            excluded(&planned),
            [(Role::Video, "https://www.youtube.com/watch?v=i7pXJC8wwLE")]
        );
    }

    #[test]
    fn an_unreadable_page_falls_back_to_the_listed_media() {
        let request = JobRequest {
            page_url: Some("https://shop.example/products/lamp".into()),
            page_file: Some("/nonexistent/haul-page.html".into()),
            page_title: Some("Tab".into()),
            media: vec![
                media("https://c.example/a.jpg"),
                media("https://c.example/static/icons/cart.png"),
                media("https://c.example/spinner.gif"),
                media("https://c.example/nav-sprite.png"),
            ],
            ..Default::default()
        };
        let plan = plan(&request, None);
        assert_eq!(plan.items.len(), 1);
        assert_eq!(plan.items[0].role, Role::Main);
        assert_eq!(plan.product.title.as_deref(), Some("Tab"));
        assert!(
            plan.warnings[0].contains("cannot be read"),
            "{:?}",
            plan.warnings
        );
    }
}
