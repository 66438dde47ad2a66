//! HLS playlists, read into what a download needs: for a master playlist its variants, for a
//! media playlist the list of byte pieces that, joined in order, are the video.
//!
//! The syntax is parsed by `m3u8-rs`; this module applies the rules that decide what to fetch:
//!
//! 1. every URI is resolved against the playlist's own address (relative URIs are the norm);
//! 2. `EXT-X-KEY` and `EXT-X-MAP` hold until the next tag of their kind (the parser attaches
//!    them to the first segment after the tag only), so the key and init segment in effect are
//!    tracked through the list;
//! 3. a key with a `METHOD` other than `NONE` (AES-128, SAMPLE-AES, …) — or a master playlist's
//!    `EXT-X-SESSION-KEY` — means the stream is encrypted, which haul does not support: the
//!    item fails saying so, instead of saving ciphertext;
//! 4. `EXT-X-BYTERANGE:<n>[@<o>]` without `@<o>` continues where the previous segment of the
//!    same resource ended;
//! 5. the init segment (`EXT-X-MAP`, fMP4/CMAF) comes first, once; a stream that switches init
//!    segments part-way is refused (joining it would not play);
//! 6. the best variant of a master playlist is the one with the most pixels, then the highest
//!    bandwidth (I-frame-only variants are trick-play tracks, never chosen).

use m3u8_rs::{KeyMethod, MediaSegment, Playlist as Parsed};
use thiserror::Error;
use url::Url;

/// Most pieces one stream may have (a 10-hour video of 2-second segments has 18 000).
pub const MAX_PIECES: usize = 50_000;

/// Why a playlist cannot be downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlaylistError {
    #[error("the HLS playlist cannot be read: {0}")]
    Malformed(String),
    #[error("encrypted HLS is not supported (the stream uses METHOD={0})")]
    Encrypted(String),
    #[error("the HLS playlist lists no segments")]
    Empty,
    #[error("the HLS master playlist lists no playable variant")]
    NoVariant,
    #[error("the HLS stream changes its init segment part-way; such streams cannot be joined")]
    InitChanges,
    #[error("the HLS playlist lists more than {MAX_PIECES} segments")]
    TooManySegments,
    #[error("the HLS playlist has a segment without an offset after a different file ({0})")]
    RangeWithoutOffset(String),
    #[error("the HLS playlist names {uri:?}, which is not a valid address: {reason}")]
    BadUri { uri: String, reason: String },
}

/// A parsed playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playlist {
    /// A master playlist: the renditions of one video.
    Master(Vec<Variant>),
    /// A media playlist: the pieces of one rendition, in order.
    Media(Vec<Piece>),
}

/// One rendition of a master playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub url: Url,
    pub bandwidth: u64,
    /// Width × height, when the playlist says.
    pub pixels: Option<u64>,
}

/// A run of bytes to fetch: a whole resource, or a part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub url: Url,
    pub range: Option<ByteRange>,
}

/// `length` bytes from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub offset: u64,
    pub length: u64,
}

impl ByteRange {
    /// The HTTP `Range` header value.
    pub fn header(&self) -> String {
        format!(
            "bytes={}-{}",
            self.offset,
            self.offset + self.length.saturating_sub(1)
        )
    }
}

/// Whether `head` (the first bytes of a response) is an HLS playlist.
pub fn is_playlist(head: &[u8]) -> bool {
    without_bom(head).starts_with(b"#EXTM3U")
}

fn without_bom(text: &[u8]) -> &[u8] {
    let text = text.trim_ascii_start();
    text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text)
}

/// Parses `text`, fetched from `base`.
pub fn parse(text: &[u8], base: &Url) -> Result<Playlist, PlaylistError> {
    if !is_playlist(text) {
        return Err(PlaylistError::Malformed(
            "it does not start with #EXTM3U".into(),
        ));
    }
    match m3u8_rs::parse_playlist_res(without_bom(text)) {
        Ok(Parsed::MasterPlaylist(master)) => {
            if let Some(key) = master
                .session_key
                .iter()
                .find(|k| k.0.method != KeyMethod::None)
            {
                return Err(PlaylistError::Encrypted(key.0.method.to_string()));
            }
            let variants = master
                .variants
                .iter()
                .filter(|v| !v.is_i_frame)
                .map(|v| {
                    Ok(Variant {
                        url: resolve(base, &v.uri)?,
                        bandwidth: v.bandwidth,
                        pixels: v.resolution.map(|r| r.width.saturating_mul(r.height)),
                    })
                })
                .collect::<Result<Vec<_>, PlaylistError>>()?;
            Ok(Playlist::Master(variants))
        }
        Ok(Parsed::MediaPlaylist(media)) => {
            media_pieces(&media.segments, base).map(Playlist::Media)
        }
        Err(e) => Err(PlaylistError::Malformed(short_error(&e))),
    }
}

/// The variant to download: most pixels, then highest bandwidth.
pub fn best_variant(variants: &[Variant]) -> Option<&Variant> {
    variants
        .iter()
        .max_by_key(|v| (v.pixels.unwrap_or(0), v.bandwidth))
}

fn media_pieces(segments: &[MediaSegment], base: &Url) -> Result<Vec<Piece>, PlaylistError> {
    if segments.is_empty() {
        return Err(PlaylistError::Empty);
    }
    if segments.len() >= MAX_PIECES {
        return Err(PlaylistError::TooManySegments);
    }
    let mut pieces = Vec::with_capacity(segments.len() + 1);
    let mut init: Option<Piece> = None;
    // Where the previous segment ended, per resource, for ranges without an offset.
    let mut previous_end: Option<(Url, u64)> = None;
    for segment in segments {
        if let Some(key) = &segment.key
            && key.method != KeyMethod::None
        {
            return Err(PlaylistError::Encrypted(key.method.to_string()));
        }
        if let Some(map) = &segment.map {
            let piece = Piece {
                url: resolve(base, &map.uri)?,
                range: map.byte_range.as_ref().map(|r| ByteRange {
                    offset: r.offset.unwrap_or(0),
                    length: r.length,
                }),
            };
            match &init {
                None => {
                    pieces.push(piece.clone());
                    init = Some(piece);
                }
                Some(same) if *same == piece => {}
                Some(_) => return Err(PlaylistError::InitChanges),
            }
        }
        let url = resolve(base, &segment.uri)?;
        let range = match &segment.byte_range {
            None => None,
            Some(r) => {
                let offset = match (r.offset, &previous_end) {
                    (Some(o), _) => o,
                    (None, Some((last, end))) if *last == url => *end,
                    (None, _) => {
                        return Err(PlaylistError::RangeWithoutOffset(segment.uri.clone()));
                    }
                };
                Some(ByteRange {
                    offset,
                    length: r.length,
                })
            }
        };
        previous_end = range.map(|r| (url.clone(), r.offset.saturating_add(r.length)));
        pieces.push(Piece { url, range });
    }
    Ok(pieces)
}

fn resolve(base: &Url, uri: &str) -> Result<Url, PlaylistError> {
    let bad = |reason: String| PlaylistError::BadUri {
        uri: uri.chars().take(200).collect(),
        reason,
    };
    let url = base.join(uri.trim()).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https addresses are fetched".into()));
    }
    Ok(url)
}

fn short_error(e: &nom::Err<nom::error::Error<&[u8]>>) -> String {
    match e {
        nom::Err::Incomplete(_) => "it ends too early".into(),
        nom::Err::Error(inner) | nom::Err::Failure(inner) => {
            let near = String::from_utf8_lossy(&inner.input[..inner.input.len().min(60)]);
            format!(
                "unexpected text near {:?}",
                near.lines().next().unwrap_or("")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://cdn.example/v/abc/master.m3u8?sig=1").unwrap()
    }

    fn media(text: &str) -> Result<Vec<Piece>, PlaylistError> {
        match parse(text.as_bytes(), &base())? {
            Playlist::Media(p) => Ok(p),
            other => panic!("not a media playlist: {other:?}"),
        }
    }

    #[test]
    fn master_variants_resolve_and_the_best_is_chosen() {
        let text = "#EXTM3U\n\
            #EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow/index.m3u8\n\
            #EXT-X-STREAM-INF:BANDWIDTH=5000000,RESOLUTION=1920x1080\n/abs/hd.m3u8\n\
            #EXT-X-STREAM-INF:BANDWIDTH=9000000,RESOLUTION=1280x720\nhttps://other.example/720.m3u8\n\
            #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=99000000,RESOLUTION=3840x2160,URI=\"iframes.m3u8\"\n";
        let Playlist::Master(variants) = parse(text.as_bytes(), &base()).unwrap() else {
            panic!("master expected")
        };
        assert_eq!(variants.len(), 3, "I-frame tracks are not variants");
        assert_eq!(
            variants[0].url.as_str(),
            "https://cdn.example/v/abc/low/index.m3u8"
        );
        let best = best_variant(&variants).unwrap();
        assert_eq!(best.url.as_str(), "https://cdn.example/abs/hd.m3u8");
        // Without resolutions, bandwidth decides.
        let text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n";
        let Playlist::Master(variants) = parse(text.as_bytes(), &base()).unwrap() else {
            panic!("master expected")
        };
        assert!(
            best_variant(&variants)
                .unwrap()
                .url
                .path()
                .ends_with("/b.m3u8")
        );
    }

    #[test]
    fn fmp4_media_playlist_puts_the_init_segment_first_once() {
        let pieces = media(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n\
             #EXT-X-MAP:URI=\"init.mp4\"\n\
             #EXTINF:4.0,\nseg-1.m4s\n#EXTINF:4.0,\nseg-2.m4s\n\
             #EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2.0,\n../seg-3.m4s?x=1\n#EXT-X-ENDLIST\n",
        )
        .unwrap();
        let urls: Vec<&str> = pieces.iter().map(|p| p.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://cdn.example/v/abc/init.mp4",
                "https://cdn.example/v/abc/seg-1.m4s",
                "https://cdn.example/v/abc/seg-2.m4s",
                "https://cdn.example/v/seg-3.m4s?x=1",
            ]
        );
        assert!(pieces.iter().all(|p| p.range.is_none()));
        assert_eq!(
            media(
                "#EXTM3U\n#EXT-X-MAP:URI=\"a.mp4\"\n#EXTINF:1,\n1.m4s\n#EXT-X-MAP:URI=\"b.mp4\"\n#EXTINF:1,\n2.m4s\n"
            ),
            Err(PlaylistError::InitChanges)
        );
    }

    #[test]
    fn byte_ranges_continue_from_the_previous_segment() {
        let pieces = media(
            "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-MAP:URI=\"all.mp4\",BYTERANGE=\"700@0\"\n\
             #EXTINF:4,\n#EXT-X-BYTERANGE:1000@700\nall.mp4\n\
             #EXTINF:4,\n#EXT-X-BYTERANGE:500\nall.mp4\n\
             #EXTINF:4,\n#EXT-X-BYTERANGE:20@5\nother.ts\n#EXT-X-ENDLIST\n",
        )
        .unwrap();
        let ranges: Vec<Option<(u64, u64)>> = pieces
            .iter()
            .map(|p| p.range.map(|r| (r.offset, r.length)))
            .collect();
        assert_eq!(
            ranges,
            [
                Some((0, 700)),
                Some((700, 1000)),
                Some((1700, 500)),
                Some((5, 20))
            ]
        );
        assert_eq!(pieces[2].range.unwrap().header(), "bytes=1700-2199");
        assert!(matches!(
            media("#EXTM3U\n#EXTINF:4,\n#EXT-X-BYTERANGE:500\na.ts\n"),
            Err(PlaylistError::RangeWithoutOffset(_))
        ));
    }

    #[test]
    fn encrypted_streams_are_refused_wherever_the_key_is() {
        let aes = "#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"k.bin\"\n#EXTINF:4,\n1.ts\n#EXTINF:4,\n2.ts\n";
        let err = media(aes).unwrap_err();
        assert_eq!(err, PlaylistError::Encrypted("AES-128".into()));
        assert!(err.to_string().contains("encrypted HLS is not supported"));
        // The key holds for later segments too, and NONE ends it.
        let later =
            "#EXTM3U\n#EXTINF:4,\n1.ts\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"k\"\n#EXTINF:4,\n2.ts\n";
        assert_eq!(
            media(later),
            Err(PlaylistError::Encrypted("SAMPLE-AES".into()))
        );
        let none = "#EXTM3U\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:4,\n1.ts\n";
        assert_eq!(media(none).unwrap().len(), 1);
        let session = "#EXTM3U\n#EXT-X-SESSION-KEY:METHOD=AES-128,URI=\"k\"\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n";
        assert!(matches!(
            parse(session.as_bytes(), &base()),
            Err(PlaylistError::Encrypted(_))
        ));
    }

    #[test]
    fn hostile_playlists_fail_cleanly() {
        for text in [
            &b""[..],
            b"<html>not a playlist</html>",
            b"#EXTM3U\n",
            b"#EXTM3U\n#EXTINF:4,\njavascript:alert(1)\n",
            b"#EXTM3U\n#EXTINF:4,\nfile:///etc/passwd\n",
            b"\xff\xfe\x00garbage",
        ] {
            assert!(
                parse(text, &base()).is_err(),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }
}
