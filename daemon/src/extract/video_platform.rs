//! Product videos that live on a video platform: recorded as a link to the video's page there,
//! never downloaded.
//!
//! A shop that shows a YouTube player in its gallery does not hold the video: the platform
//! streams it, in formats and under terms of its own, through a player page. What haul can
//! rightly save is where the video is — so an extractor reports the player as a [`Link`] (role
//! `video`, the platform's watch page), the job journals it, and the package's manifest lists it;
//! no request is ever made for it.
//!
//! Which platforms, and why:
//!
//! * **YouTube** — the platform the saved pages embed (Best Buy Canada's `media.videos`, the
//!   players in strumentimusicali's and other shops' pages). Every form a page uses names the
//!   video's 11-character id: the player (`youtube.com/embed/<id>`, `youtube-nocookie.com/embed/
//!   <id>`), the watch and share addresses (`watch?v=<id>`, `youtu.be/<id>`, `/shorts/<id>`,
//!   `/v/<id>`, `/live/<id>`) and the player's still (`i.ytimg.com/vi/<id>/…`,
//!   `img.youtube.com/vi/<id>/…`). The link is `https://www.youtube.com/watch?v=<id>`.
//! * **Vimeo** — the other platform whose stills the generic extractor already sets aside as
//!   "not a photo" (`vimeocdn.com`), because shops embed its player the same way. Its player
//!   address (`player.vimeo.com/video/<number>`, Vimeo's published embed code) names the video's
//!   number; an unlisted video adds its hash (`?h=<hash>`), which its page address needs too. The
//!   link is `https://vimeo.com/<number>` (or `…/<number>/<hash>`). Vimeo's stills do not name the
//!   video, so only its player counts.
//!
//! Other players are not links: a shop's own player plays a file haul downloads (a `<video>`, an
//! HLS playlist), and third-party players with no public page of the video (currys's iSiteTV
//! frame) give nothing to link to.

use url::Url;

use crate::media::{Link, Role};

/// The link to the page of the video `url` names — a player, a watch or share address, or a
/// player's still — when it is on a platform this module knows.
pub fn link_of(url: &str) -> Option<Link> {
    let raw = url.trim();
    let parsed = Url::parse(raw)
        .or_else(|_| Url::parse(&format!("https:{raw}")))
        .ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let segments: Vec<&str> = parsed.path_segments()?.filter(|s| !s.is_empty()).collect();
    let query = |key: &str| {
        parsed
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    match (host, segments.as_slice()) {
        ("youtube.com" | "m.youtube.com" | "youtube-nocookie.com", ["watch"]) => {
            youtube(&query("v")?)
        }
        (
            "youtube.com" | "m.youtube.com" | "youtube-nocookie.com",
            ["embed" | "v" | "shorts" | "live", id, ..],
        ) => youtube(id),
        ("youtu.be", [id, ..]) => youtube(id),
        (still, ["vi" | "vi_webp", id, ..])
            if still == "img.youtube.com" || super::host_is(still, "ytimg.com") =>
        {
            youtube(id)
        }
        ("player.vimeo.com", ["video", id, ..]) => vimeo(id, query("h").as_deref()),
        ("vimeo.com", [id]) => vimeo(id, None),
        ("vimeo.com", [id, hash]) => vimeo(id, Some(hash)),
        _ => None,
    }
}

/// The link to the YouTube video `id` (an 11-character video id; a page's `data-embed` value
/// may carry the player's parameters after it: `aqatM2FT0hc?rel=0`).
pub fn youtube(id: &str) -> Option<Link> {
    let id = id.trim().split(['?', '&', '#']).next().unwrap_or("");
    let valid = id.len() == 11
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then(|| Link {
        url: format!("https://www.youtube.com/watch?v={id}"),
        role: Role::Video,
        platform: "youtube".to_string(),
    })
}

/// The link to the Vimeo video `number`, with the hash an unlisted video's address carries.
fn vimeo(number: &str, hash: Option<&str>) -> Option<Link> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(number) {
        return None;
    }
    let url = match hash
        .filter(|h| !h.is_empty() && h.len() <= 32 && h.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        Some(hash) => format!("https://vimeo.com/{number}/{hash}"),
        None => format!("https://vimeo.com/{number}"),
    };
    Some(Link {
        url,
        role: Role::Video,
        platform: "vimeo".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> Option<String> {
        link_of(raw).map(|l| l.url)
    }

    #[test]
    fn every_youtube_form_a_page_uses_names_one_watch_page() {
        let watch = Some("https://www.youtube.com/watch?v=i7pXJC8wwLE".to_string());
        for form in [
            "https://www.youtube.com/embed/i7pXJC8wwLE?showinfo=0&autoplay=0&rel=0",
            "//www.youtube-nocookie.com/embed/i7pXJC8wwLE",
            "https://youtube.com/watch?v=i7pXJC8wwLE&t=30s",
            "https://m.youtube.com/watch?feature=share&v=i7pXJC8wwLE",
            "https://youtu.be/i7pXJC8wwLE?si=abc",
            "https://www.youtube.com/shorts/i7pXJC8wwLE",
            "http://www.youtube.com/v/i7pXJC8wwLE",
            "https://i1.ytimg.com/vi/i7pXJC8wwLE/default.jpg",
            "https://i.ytimg.com/vi_webp/i7pXJC8wwLE/hqdefault.webp",
            "https://img.youtube.com/vi/i7pXJC8wwLE/0.jpg",
        ] {
            assert_eq!(url(form), watch, "{form}");
        }
        assert_eq!(
            link_of("https://youtu.be/i7pXJC8wwLE").map(|l| (l.role, l.platform)),
            Some((Role::Video, "youtube".to_string()))
        );
        assert_eq!(youtube("aqatM2FT0hc?rel=0").map(|l| l.url).as_deref(), {
            Some("https://www.youtube.com/watch?v=aqatM2FT0hc")
        });
    }

    #[test]
    fn vimeo_players_name_their_page() {
        assert_eq!(
            url("https://player.vimeo.com/video/76979871?h=8272103f6e&badge=0").as_deref(),
            Some("https://vimeo.com/76979871/8272103f6e")
        );
        assert_eq!(
            url("https://player.vimeo.com/video/76979871").as_deref(),
            Some("https://vimeo.com/76979871")
        );
        assert_eq!(
            url("https://vimeo.com/76979871").as_deref(),
            Some("https://vimeo.com/76979871")
        );
    }

    #[test]
    fn other_addresses_are_not_video_pages() {
        for other in [
            "https://www.youtube.com/",
            "https://www.youtube.com/channel/UC123",
            "https://www.youtube.com/watch?v=short",
            "https://www.youtube.com/embed/i7pXJC8wwLE%22x",
            "https://i.ytimg.com/an_webp/i7pXJC8wwLE/mqdefault_6s.webp",
            "https://notyoutube.com/embed/i7pXJC8wwLE",
            "https://i.vimeocdn.com/video/123456_640.jpg",
            "https://vimeo.com/channels/staffpicks",
            "https://shop.example/videos/lamp.mp4",
            "javascript:void(0)",
            "not a url",
        ] {
            assert_eq!(url(other), None, "{other}");
        }
    }
}
