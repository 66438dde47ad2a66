//! Converting an image to JPEG, for targets that take only some formats — Seller Central's image
//! upload accepts JPEG, PNG, TIFF and GIF, so the `amazon-upload` naming converts WebP and BMP.
//!
//! A page's images are outside input, so decoding is bounded ([`MAX_SIDE`] pixels a side,
//! [`MAX_DECODE_BYTES`] of memory): a hostile "decompression bomb" fails with an error instead
//! of exhausting the machine. Transparent pixels are laid on white (Amazon's listing background)
//! and the ICC colour profile is carried over, so colours stay as the source defines them. The
//! output is deterministic, so a job resumed after a crash packages the same bytes.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageReader, Limits, RgbImage};
use thiserror::Error;

use crate::format::Format;

/// Longest side decoded.
pub const MAX_SIDE: u32 = 20_000;
/// Most memory one decode may allocate.
pub const MAX_DECODE_BYTES: u64 = 512 << 20;
/// JPEG quality of converted images: visually lossless for product photos.
const JPEG_QUALITY: u8 = 92;

/// A conversion that could not be done.
#[derive(Debug, Error)]
pub enum ConvertError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot convert the {from} image to JPEG: {source}")]
    Image {
        from: &'static str,
        source: image::ImageError,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Decoder limits: at most `max_side` pixels a side and `max_alloc` bytes allocated, so a
/// hostile image fails instead of exhausting memory.
pub fn decode_limits(max_side: u32, max_alloc: u64) -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(max_side);
    limits.max_image_height = Some(max_side);
    limits.max_alloc = Some(max_alloc);
    limits
}

/// Whether [`to_jpeg`] can read `format`.
pub fn can_convert(format: Format) -> bool {
    matches!(
        format,
        Format::Webp | Format::Png | Format::Bmp | Format::Jpeg
    )
}

/// Decodes `source` (of `format`) within the bounds and writes it as a JPEG to `target`
/// (through a temporary file beside it, renamed when complete).
pub fn to_jpeg(source: &Path, format: Format, target: &Path) -> Result<(), ConvertError> {
    let image_err = |source| ConvertError::Image {
        from: format.content_type(),
        source,
    };
    let file = File::open(source).map_err(|e| ConvertError::Read {
        path: source.to_path_buf(),
        source: e,
    })?;
    let mut reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| ConvertError::Read {
            path: source.to_path_buf(),
            source: e,
        })?;
    reader.limits(decode_limits(MAX_SIDE, MAX_DECODE_BYTES));
    let mut decoder = reader.into_decoder().map_err(image_err)?;
    let icc = decoder.icc_profile().ok().flatten();
    let image = DynamicImage::from_decoder(decoder).map_err(image_err)?;
    let rgb = on_white(image);

    let temp = target.with_extension("converting");
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ConvertError::Write { path, source }
    };
    let out = File::create(&temp).map_err(write_err(&temp))?;
    let mut out = BufWriter::new(out);
    let mut encoder = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
    if let Some(icc) = icc {
        // A profile the encoder cannot embed only costs colour accuracy, not the image.
        let _ = encoder.set_icc_profile(icc);
    }
    encoder
        .write_image(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(image_err)?;
    out.flush().map_err(write_err(&temp))?;
    let file = out
        .into_inner()
        .map_err(|e| write_err(&temp)(e.into_error()))?;
    file.sync_all().map_err(write_err(&temp))?;
    std::fs::rename(&temp, target).map_err(write_err(target))
}

/// The image as 8-bit RGB, transparent pixels blended onto white.
fn on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend = |c: u8| ((c as u16 * a as u16 + 255 * (255 - a as u16) + 127) / 255) as u8;
        image::Rgb([blend(r), blend(g), blend(b)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webp(w: u32, h: u32, alpha: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let image = if alpha {
            DynamicImage::ImageRgba8(image::RgbaImage::from_fn(w, h, |x, _| {
                image::Rgba([200, 10, 10, if x < w / 2 { 0 } else { 255 }])
            }))
        } else {
            DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, image::Rgb([10, 200, 10])))
        };
        image
            .write_to(&mut io::Cursor::new(&mut out), image::ImageFormat::WebP)
            .unwrap();
        out
    }

    #[test]
    fn webp_becomes_a_jpeg_of_the_same_size_deterministically() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.part");
        std::fs::write(&src, webp(64, 48, true)).unwrap();
        let (one, two) = (dir.path().join("1.jpg"), dir.path().join("2.jpg"));
        to_jpeg(&src, Format::Webp, &one).unwrap();
        to_jpeg(&src, Format::Webp, &two).unwrap();
        let bytes = std::fs::read(&one).unwrap();
        assert_eq!(Format::detect(&bytes), Some(Format::Jpeg));
        assert_eq!(bytes, std::fs::read(&two).unwrap(), "deterministic");
        let decoded = image::load_from_memory(&bytes).unwrap().into_rgb8();
        assert_eq!(decoded.dimensions(), (64, 48));
        // The transparent half is white, the opaque half red.
        let left = decoded.get_pixel(2, 20).0;
        let right = decoded.get_pixel(60, 20).0;
        assert!(left.iter().all(|&c| c > 240), "{left:?}");
        assert!(right[0] > 150 && right[1] < 60, "{right:?}");
        assert!(!dir.path().join("1.converting").exists());
    }

    #[test]
    fn hostile_images_fail_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("bad.part");
        let mut truncated = webp(64, 48, false);
        truncated.truncate(truncated.len() / 2);
        std::fs::write(&src, &truncated).unwrap();
        let out = dir.path().join("bad.jpg");
        assert!(to_jpeg(&src, Format::Webp, &out).is_err());
        assert!(!out.exists());

        // A PNG header announcing 100000 × 100000 pixels: refused before any allocation.
        let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bomb.extend_from_slice(&100_000u32.to_be_bytes());
        bomb.extend_from_slice(&100_000u32.to_be_bytes());
        bomb.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        std::fs::write(&src, &bomb).unwrap();
        let err = to_jpeg(&src, Format::Png, &out).unwrap_err();
        assert!(matches!(err, ConvertError::Image { .. }), "{err}");
    }
}
