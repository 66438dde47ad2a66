//! Whether an image file is whole: a download the server cut short, or a file damaged at its
//! end, can still start like a picture — and a lenient decoder fills what is missing with grey
//! (which `amazon-listing` would then save), while `keep` would store the stump. Every preset
//! checks this first, from the file's own structure, without decoding a pixel:
//!
//! - JPEG: its segments are walked to the first scan (`SOS`), and an end-of-image marker
//!   (`FF D9`) must follow it. Inside a scan `FF` is always followed by `00` or a restart marker,
//!   so `FF D9` there is the real end; bytes after it (an MPF preview, a motion photo's video)
//!   are allowed.
//! - PNG: its chunks are walked from the signature to `IEND`, each length checked against the
//!   file.
//! - WebP: the RIFF header's size must fit in the file.
//! - GIF: the trailer byte (`3B`) must end the file (trailing zero padding allowed).
//!
//! Other formats are stored as downloaded, or decoded by a converting preset, whose decoder
//! reports a file that ends early.

use crate::format::Format;

/// Why an image is not whole, or `None` when it is (or is of a format not checked here).
pub fn damage(data: &[u8], format: Format) -> Option<&'static str> {
    match format {
        Format::Jpeg => jpeg(data),
        Format::Png => png(data),
        Format::Webp => webp(data),
        Format::Gif => gif(data),
        _ => None,
    }
}

fn jpeg(data: &[u8]) -> Option<&'static str> {
    let mut at = 2; // after SOI
    loop {
        // Markers may be preceded by fill bytes (FF FF …).
        while data.get(at) == Some(&0xFF) && data.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (data.get(at), data.get(at + 1)) else {
            return Some("its JPEG segments end before the picture data");
        };
        at += 2;
        match marker {
            // Standalone markers: no length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 => return Some("it ends before its picture data"),
            _ => {}
        }
        let (Some(&hi), Some(&lo)) = (data.get(at), data.get(at + 1)) else {
            return Some("a JPEG segment is cut short");
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if len < 2 || at + len > data.len() {
            return Some("a JPEG segment is cut short");
        }
        at += len;
        if marker == 0xDA {
            break;
        }
    }
    let scan = &data[at..];
    let ended = memchr::memmem::find(scan, &[0xFF, 0xD9]).is_some();
    (!ended).then_some("its picture data is cut short (no end-of-image marker)")
}

fn png(data: &[u8]) -> Option<&'static str> {
    let mut at = 8; // after the signature
    loop {
        let Some(header) = data.get(at..at + 8) else {
            return Some("its PNG chunks are cut short (no IEND)");
        };
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let end = at.saturating_add(12).saturating_add(len);
        if end > data.len() {
            return Some("a PNG chunk is cut short");
        }
        if &header[4..8] == b"IEND" {
            return None;
        }
        at = end;
    }
}

fn webp(data: &[u8]) -> Option<&'static str> {
    let size = data
        .get(4..8)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)?;
    (size.saturating_add(8) > data.len()).then_some("the WebP file is shorter than it says")
}

fn gif(data: &[u8]) -> Option<&'static str> {
    let end = data.iter().rposition(|&b| b != 0)?;
    (data[end] != 0x3B).then_some("the GIF has no trailer (cut short)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(format: image::ImageFormat) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 7]));
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, format)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn whole_images_pass_and_cut_ones_are_named() {
        for (format, ours) in [
            (image::ImageFormat::Jpeg, Format::Jpeg),
            (image::ImageFormat::Png, Format::Png),
            (image::ImageFormat::Gif, Format::Gif),
        ] {
            let whole = encoded(format);
            assert_eq!(damage(&whole, ours), None, "{ours:?}");
            let cut = &whole[..whole.len() * 6 / 10];
            assert!(damage(cut, ours).is_some(), "{ours:?} cut at 60 %");
            assert!(
                damage(&whole[..whole.len() - 1], ours).is_some(),
                "{ours:?} minus one byte"
            );
        }
        // A JPEG with a trailer after its end (a motion photo's video) is whole.
        let mut motion = encoded(image::ImageFormat::Jpeg);
        motion.extend_from_slice(b"\0\0\0\x18ftypmp42 a video follows");
        assert_eq!(damage(&motion, Format::Jpeg), None);
        // RIFF size larger than the file.
        let mut webp = b"RIFF".to_vec();
        webp.extend_from_slice(&1000u32.to_le_bytes());
        webp.extend_from_slice(b"WEBPVP8 ");
        assert!(damage(&webp, Format::Webp).is_some());
        webp.resize(1008, 0);
        assert_eq!(damage(&webp, Format::Webp), None);
        // Formats not checked here.
        assert_eq!(damage(b"whatever", Format::Mp4), None);
    }
}
