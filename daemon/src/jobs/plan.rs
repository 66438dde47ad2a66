//! Planning a job: turning its request into the ordered list of items to save.
//!
//! A plain list of media URLs gets roles from its order: the first image is the main image, the
//! other images the gallery, videos are videos. The same URL listed twice is saved once.

use std::collections::HashSet;

use crate::journal::{JobRequest, NewItem, ProductInfo, RequestedMedia};
use crate::media::{MediaKind, Role};

/// What a job will save.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Plan {
    pub product: ProductInfo,
    pub items: Vec<NewItem>,
}

pub(super) fn plan(request: &JobRequest) -> Plan {
    let product = ProductInfo {
        site: None,
        product_id: None,
        title: request.page_title.clone(),
        page_url: request.page_url.clone(),
    };
    Plan {
        product,
        items: list_items(&request.media),
    }
}

fn list_items(media: &[RequestedMedia]) -> Vec<NewItem> {
    let mut seen = HashSet::new();
    let mut have_main = false;
    media
        .iter()
        .filter(|m| seen.insert(m.url.trim().to_string()))
        .map(|m| {
            let kind = m.kind.unwrap_or_else(|| guess_kind(&m.url));
            let role = match kind {
                MediaKind::Video => Role::Video,
                MediaKind::Image if !have_main => {
                    have_main = true;
                    Role::Main
                }
                MediaKind::Image => Role::Gallery,
            };
            NewItem {
                url: m.url.trim().to_string(),
                kind,
                role,
                variant: None,
                variant_id: None,
            }
        })
        .collect()
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
        RequestedMedia {
            url: url.into(),
            kind: None,
        }
    }

    #[test]
    fn list_roles_follow_order_and_duplicates_go() {
        let items = list_items(&[
            media("https://c.example/v.mp4?sig=1"),
            media("https://c.example/a.jpg"),
            media("https://c.example/b.jpg"),
            media(" https://c.example/a.jpg "),
        ]);
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
}
