//! Real JPEG, PNG and WebP files (encoded by the `image` crate) carrying the metadata haul must
//! remove — EXIF with a GPS position, XMP, IPTC, comments, PNG text chunks, a trailer after the
//! JPEG — each marked with [`CANARY`], plus an ICC profile marked with [`ICC_MARK`] that haul
//! must keep. A test can then assert "the canary is gone, the ICC mark is there, the pixels are
//! the same".

use bytes::Bytes;
use image::ImageEncoder;
use img_parts::png::{Png, PngChunk};
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::{CHUNK_VP8X, CHUNK_XMP, WebP};
use img_parts::{ImageEXIF, ImageICC};

/// Text planted in every piece of metadata that must disappear.
pub const CANARY: &str = "HaulCanaryLocation";

/// Text planted in the ICC profile, which must survive.
pub const ICC_MARK: &str = "HaulIccProfileMark";

/// A gradient test picture, different for each `seed`.
pub fn picture(width: u32, height: u32, seed: u8) -> image::RgbImage {
    image::RgbImage::from_fn(width, height, |x, y| {
        let r = (x * 255 / width.max(1)) as u8;
        let g = (y * 255 / height.max(1)) as u8;
        image::Rgb([
            r,
            g,
            seed.wrapping_mul(37).wrapping_add((x ^ y) as u8 & 0x1f),
        ])
    })
}

/// A TIFF (EXIF) block with camera fields and a GPS IFD (latitude/longitude), all marked.
pub fn exif_tiff() -> Vec<u8> {
    let make = format!("{CANARY}-Make\0");
    let software = format!("{CANARY}-Software\0");
    // Layout: header (8) | IFD0: 2 + 3*12 + 4 = 42 | make | software | GPS IFD: 2 + 4*12 + 4 = 54 | rationals
    let ifd0 = 8u32;
    let make_at = ifd0 + 42;
    let software_at = make_at + make.len() as u32;
    let gps_at = software_at + software.len() as u32;
    let lat_at = gps_at + 54;
    let lon_at = lat_at + 24;
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&ifd0.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    t.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut t, 0x010F, 2, make.len() as u32, make_at);
    entry(&mut t, 0x0131, 2, software.len() as u32, software_at);
    entry(&mut t, 0x8825, 4, 1, gps_at);
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(make.as_bytes());
    t.extend_from_slice(software.as_bytes());
    t.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from_le_bytes(*b"N\0\0\0"));
    entry(&mut t, 0x0002, 5, 3, lat_at);
    entry(&mut t, 0x0003, 2, 2, u32::from_le_bytes(*b"E\0\0\0"));
    entry(&mut t, 0x0004, 5, 3, lon_at);
    t.extend_from_slice(&0u32.to_le_bytes());
    for (deg, min, sec) in [(52u32, 31u32, 1234u32), (13, 24, 5678)] {
        for (num, den) in [(deg, 1u32), (min, 1), (sec, 100)] {
            t.extend_from_slice(&num.to_le_bytes());
            t.extend_from_slice(&den.to_le_bytes());
        }
    }
    t
}

fn xmp() -> Vec<u8> {
    format!(
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="52,31.2N" exif:UserComment="{CANARY}"/></rdf:RDF></x:xmpmeta>"#
    )
    .into_bytes()
}

/// A fake-but-well-formed ICC profile carrying [`ICC_MARK`].
fn icc_profile() -> Vec<u8> {
    let mut p = vec![0u8; 128];
    p[36..40].copy_from_slice(b"acsp");
    p.extend_from_slice(ICC_MARK.as_bytes());
    let len = p.len() as u32;
    p[..4].copy_from_slice(&len.to_be_bytes());
    p
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A baseline JPEG with EXIF+GPS, XMP, ICC, IPTC, a comment and a trailer after its end.
pub fn jpeg_with_metadata(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&picture(width, height, seed))
        .expect("encode JPEG");
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(exif_tiff());
    let mut xmp_body = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    xmp_body.extend(xmp());
    let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
    icc.extend(icc_profile());
    let mut iptc = b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x20".to_vec();
    iptc.extend(format!("\x1c\x02\x78\0\x18{CANARY}-Caption").as_bytes());
    let mut out = plain[..2].to_vec();
    out.extend(segment(0xE1, &exif));
    out.extend(segment(0xE1, &xmp_body));
    out.extend(segment(0xE2, &icc));
    out.extend(segment(0xED, &iptc));
    out.extend(segment(0xFE, format!("{CANARY}-Comment").as_bytes()));
    out.extend_from_slice(&plain[2..]);
    // What phones append after the image: a preview or motion-photo video with its own data.
    out.extend_from_slice(format!("MotionPhoto_Data{CANARY}-Trailer").as_bytes());
    out
}

/// A PNG with eXIf (GPS), tEXt, iTXt (XMP) and tIME chunks.
pub fn png_with_metadata(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let mut plain = Vec::new();
    image::codecs::png::PngEncoder::new(&mut plain)
        .write_image(
            picture(width, height, seed).as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .expect("encode PNG");
    let mut png = Png::from_bytes(Bytes::from(plain)).expect("parse PNG");
    let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    itxt.extend(xmp());
    let chunks = [
        PngChunk::new(*b"eXIf", Bytes::from(exif_tiff())),
        PngChunk::new(*b"tEXt", Bytes::from(format!("Comment\0{CANARY}-Text"))),
        PngChunk::new(*b"iTXt", Bytes::from(itxt)),
        PngChunk::new(*b"tIME", Bytes::from_static(&[0x07, 0xE9, 1, 2, 3, 4, 5])),
    ];
    for (i, chunk) in chunks.into_iter().enumerate() {
        png.chunks_mut().insert(1 + i, chunk);
    }
    png.encoder().bytes().to_vec()
}

/// A lossless WebP in the extended format with EXIF (GPS), XMP and ICC chunks.
pub fn webp_with_metadata(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let mut plain = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut plain)
        .encode(
            picture(width, height, seed).as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .expect("encode WebP");
    let mut webp = WebP::from_bytes(Bytes::from(plain)).expect("parse WebP");
    webp.set_icc_profile(Some(Bytes::from(icc_profile())));
    webp.set_exif(Some(Bytes::from(exif_tiff())));
    webp.chunks_mut().push(RiffChunk::new(
        CHUNK_XMP,
        RiffContent::Data(Bytes::from(xmp())),
    ));
    for chunk in webp
        .chunks_mut()
        .iter_mut()
        .filter(|c| c.id() == CHUNK_VP8X)
    {
        if let RiffContent::Data(data) = chunk.content_mut() {
            let mut v = data.to_vec();
            v[0] |= 0b0000_0100; // XMP present
            *data = Bytes::from(v);
        }
    }
    webp.encoder().bytes().to_vec()
}

/// Decodes any of the formats above to RGBA pixels.
pub fn decode_rgba(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let img = image::load_from_memory(bytes)
        .expect("decode image")
        .to_rgba8();
    (img.width(), img.height(), img.into_raw())
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The JPEG's entropy-coded image data: from the first SOS marker to the end-of-image marker.
pub fn jpeg_scan_data(bytes: &[u8]) -> &[u8] {
    let sos = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xDA])
        .expect("SOS marker");
    let eoi = bytes
        .windows(2)
        .rposition(|w| w == [0xFF, 0xD9])
        .expect("EOI marker");
    &bytes[sos..eoi + 2]
}
