//! What a file really is, by its first bytes. Servers lie: a CDN answers a missing image with an
//! HTML error page labelled `image/jpeg`, so haul never trusts `Content-Type` or the URL's
//! extension — the magic number decides the format, the saved extension and the manifest's
//! content type.

use crate::media::MediaKind;

/// Bytes needed to recognise every format below.
pub const SNIFF_LEN: usize = 512;

/// A media format haul saves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    Avif,
    Heic,
    Tiff,
    Bmp,
    Mp4,
    QuickTime,
    Webm,
    MpegTs,
}

impl Format {
    /// Recognises the format from the first bytes of a file ([`SNIFF_LEN`] suffice).
    pub fn detect(head: &[u8]) -> Option<Format> {
        let starts = |magic: &[u8]| head.starts_with(magic);
        if starts(&[0xFF, 0xD8, 0xFF]) {
            return Some(Format::Jpeg);
        }
        if starts(b"\x89PNG\r\n\x1a\n") {
            return Some(Format::Png);
        }
        if starts(b"GIF87a") || starts(b"GIF89a") {
            return Some(Format::Gif);
        }
        if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
            return Some(Format::Webp);
        }
        if starts(b"II*\0") || starts(b"MM\0*") {
            return Some(Format::Tiff);
        }
        if starts(b"BM") && head.len() >= 14 && head.get(6..10) == Some(&[0, 0, 0, 0]) {
            return Some(Format::Bmp);
        }
        if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
            return Some(Format::Webm);
        }
        if head.get(4..8) == Some(b"ftyp") {
            return Some(iso_bmff_format(head));
        }
        // MPEG-TS: 188-byte packets, each starting with the sync byte 0x47 ('G' — so three
        // packets are required, or any text starting with "G" would pass).
        if [0, 188, 376].iter().all(|&i| head.get(i) == Some(&0x47)) {
            return Some(Format::MpegTs);
        }
        None
    }

    /// The format a stored content type names (the inverse of [`Format::content_type`]).
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        ALL.iter()
            .copied()
            .find(|f| f.content_type() == content_type)
    }

    pub fn kind(self) -> MediaKind {
        match self {
            Format::Mp4 | Format::QuickTime | Format::Webm | Format::MpegTs => MediaKind::Video,
            _ => MediaKind::Image,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
            Format::Avif => "image/avif",
            Format::Heic => "image/heic",
            Format::Tiff => "image/tiff",
            Format::Bmp => "image/bmp",
            Format::Mp4 => "video/mp4",
            Format::QuickTime => "video/quicktime",
            Format::Webm => "video/webm",
            Format::MpegTs => "video/mp2t",
        }
    }

    /// The file extension the saved file gets.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Avif => "avif",
            Format::Heic => "heic",
            Format::Tiff => "tif",
            Format::Bmp => "bmp",
            Format::Mp4 => "mp4",
            Format::QuickTime => "mov",
            Format::Webm => "webm",
            Format::MpegTs => "ts",
        }
    }
}

const ALL: [Format; 12] = [
    Format::Jpeg,
    Format::Png,
    Format::Gif,
    Format::Webp,
    Format::Avif,
    Format::Heic,
    Format::Tiff,
    Format::Bmp,
    Format::Mp4,
    Format::QuickTime,
    Format::Webm,
    Format::MpegTs,
];

/// ISO base media files share `ftyp`; the major brand tells images from videos.
fn iso_bmff_format(head: &[u8]) -> Format {
    match head.get(8..12) {
        Some(b"avif") | Some(b"avis") => Format::Avif,
        Some(b"heic") | Some(b"heix") | Some(b"mif1") | Some(b"msf1") | Some(b"heim")
        | Some(b"heis") => Format::Heic,
        Some(b"qt  ") => Format::QuickTime,
        _ => Format::Mp4,
    }
}

/// For bytes that are not media: what they look like, in words for an error message.
pub fn describe_non_media(head: &[u8]) -> &'static str {
    let text = head
        .iter()
        .skip_while(|b| b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF);
    let lower: Vec<u8> = text.take(16).map(u8::to_ascii_lowercase).collect();
    if lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || lower.starts_with(b"<head")
        || lower.starts_with(b"<body")
    {
        "an HTML page (probably an error or login page)"
    } else if lower.starts_with(b"#extm3u") {
        "an HLS playlist, not a media file"
    } else if lower.starts_with(b"<?xml") || lower.starts_with(b"<svg") {
        "an XML/SVG document"
    } else if lower.starts_with(b"<") {
        "markup (HTML or XML)"
    } else if lower.starts_with(b"{") || lower.starts_with(b"[") {
        "JSON data"
    } else if head.is_empty() {
        "an empty file"
    } else if head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "plain text"
    } else {
        "data of an unknown format"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_media_by_magic() {
        assert_eq!(
            Format::detect(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some(Format::Jpeg)
        );
        assert_eq!(
            Format::detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(Format::Png)
        );
        assert_eq!(
            Format::detect(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(Format::Webp)
        );
        assert_eq!(
            Format::detect(b"\0\0\0\x20ftypisom\0\0\x02\0"),
            Some(Format::Mp4)
        );
        assert_eq!(
            Format::detect(b"\0\0\0\x1cftypavif\0\0\0\0"),
            Some(Format::Avif)
        );
        assert_eq!(Format::detect(b"GIF89a\x01\0"), Some(Format::Gif));
        assert_eq!(
            Format::detect(&[0x1A, 0x45, 0xDF, 0xA3, 1]),
            Some(Format::Webm)
        );
        let mut ts = vec![0u8; 188 * 3];
        for packet in ts.chunks_mut(188) {
            packet[0] = 0x47;
        }
        assert_eq!(Format::detect(&ts), Some(Format::MpegTs));
        assert_eq!(Format::detect(b"Gateway Timeout"), None);
        assert_eq!(Format::Jpeg.kind(), MediaKind::Image);
        assert_eq!(Format::Mp4.kind(), MediaKind::Video);
        for f in ALL {
            assert_eq!(Format::from_content_type(f.content_type()), Some(f));
        }
    }

    #[test]
    fn error_pages_are_not_media() {
        for body in [
            &b"<!DOCTYPE html><html>"[..],
            b"  <html><body>404",
            b"{\"error\":\"x\"}",
            b"#EXTM3U\n",
            b"",
        ] {
            assert_eq!(
                Format::detect(body),
                None,
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(describe_non_media(b"\n<!DOCTYPE html>").contains("HTML"));
        assert!(describe_non_media(b"{\"a\":1}").contains("JSON"));
        assert!(describe_non_media(b"#EXTM3U").contains("HLS"));
    }
}
