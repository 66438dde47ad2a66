//! Thumbnails of saved images, addressed by job id and item index only.
//!
//! A thumbnail is made the first time the page asks for it, from the bytes haul itself holds
//! for that item — the download in the job's work folder while the job runs, the entry of the
//! package (found through the package's `manifest.json`, by the item's URL) once it has ended —
//! and cached as `thumbs/<job>/<index>-<hash>.jpg` in the data dir (the hash is the item's, so
//! a stale thumbnail can never be served). Removing a job from the history removes its cache.
//!
//! Decoding is bounded: images over [`MAX_SOURCE_BYTES`], [`MAX_SIDE`] pixels a side or
//! [`MAX_DECODE_BYTES`] of decoded pixels are refused, and one thumbnail is made at a time, so a
//! hostile image or a page full of them cannot exhaust the machine.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use haul_protocol::message::{ItemState, JobId};

use crate::journal::{ItemRecord, JobRecord};
use crate::package::PackageReader;

/// Longest side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 320;
/// Largest source file a thumbnail is made from.
pub const MAX_SOURCE_BYTES: u64 = 64 << 20;
/// Largest width or height decoded.
pub const MAX_SIDE: u32 = 12_000;
/// Largest allocation the decoder may make.
pub const MAX_DECODE_BYTES: u64 = 96 << 20;

/// Why there is no thumbnail.
#[derive(Debug, thiserror::Error)]
pub enum ThumbError {
    #[error("item {index} of job {job} is not a saved image")]
    NotAnImage { job: JobId, index: u32 },
    #[error("the saved file is no longer where haul put it (moved or deleted)")]
    SourceGone,
    #[error("the image cannot be previewed: {0}")]
    Decode(String),
    #[error("cannot cache the thumbnail: {0}")]
    Io(#[from] std::io::Error),
}

/// The cache file of an item's thumbnail.
pub fn cache_path(thumbs_dir: &Path, job: JobId, index: u32, sha256: &str) -> PathBuf {
    let short = sha256.get(..16).unwrap_or(sha256);
    thumbs_dir
        .join(job.to_string())
        .join(format!("{index}-{short}.jpg"))
}

/// Whether an item can have a thumbnail (a saved image in a format the decoder reads).
pub fn previewable(item: &ItemRecord) -> bool {
    item.state == ItemState::Saved
        && item.saved.as_ref().is_some_and(|s| {
            matches!(
                s.content_type.as_str(),
                "image/jpeg" | "image/png" | "image/webp" | "image/gif"
            )
        })
}

/// The JPEG thumbnail of `item`, from the cache or made now (blocking: decoding takes a while).
pub fn thumbnail(
    thumbs_dir: &Path,
    work_dir: &Path,
    job: &JobRecord,
    item: &ItemRecord,
) -> Result<Vec<u8>, ThumbError> {
    let not_image = || ThumbError::NotAnImage {
        job: job.id,
        index: item.index,
    };
    if !previewable(item) {
        return Err(not_image());
    }
    let sha = item
        .saved
        .as_ref()
        .map(|s| s.sha256.as_str())
        .ok_or_else(not_image)?;
    let cached = cache_path(thumbs_dir, job.id, item.index, sha);
    if let Ok(bytes) = std::fs::read(&cached) {
        return Ok(bytes);
    }
    let source = source_bytes(work_dir, job, item)?;
    let jpeg = make(&source)?;
    if let Some(dir) = cached.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temp = cached.with_extension("jpg.partial");
    std::fs::write(&temp, &jpeg)?;
    std::fs::rename(&temp, &cached)?;
    Ok(jpeg)
}

/// The item's bytes: the download while the job's work folder still has it, else the package.
fn source_bytes(
    work_dir: &Path,
    job: &JobRecord,
    item: &ItemRecord,
) -> Result<Vec<u8>, ThumbError> {
    let part = work_dir
        .join(job.id.to_string())
        .join(format!("{}.part", item.index));
    if let Ok(file) = std::fs::File::open(&part) {
        return read_capped(file);
    }
    let output = job.output.as_ref().ok_or(ThumbError::SourceGone)?;
    let mut package = PackageReader::open(output).map_err(|_| ThumbError::SourceGone)?;
    let listed = package
        .manifest()
        .map_err(|_| ThumbError::SourceGone)?
        .files;
    let sha = item.saved.as_ref().map(|s| s.sha256.as_str());
    let file = listed
        .iter()
        .find(|f| f.url == item.url && Some(f.sha256.as_str()) == sha)
        .ok_or(ThumbError::SourceGone)?;
    package
        .with_entry(&file.name, |r| {
            read_capped(r).map_err(|e| std::io::Error::other(e.to_string()))
        })
        .map_err(|_| ThumbError::SourceGone)
}

fn read_capped(r: impl Read) -> Result<Vec<u8>, ThumbError> {
    let mut bytes = Vec::new();
    r.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(ThumbError::Decode(format!(
            "the file is larger than {MAX_SOURCE_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

/// Decodes `source` within the limits and encodes a small JPEG.
pub fn make(source: &[u8]) -> Result<Vec<u8>, ThumbError> {
    let decode = |e: image::ImageError| ThumbError::Decode(e.to_string());
    let mut reader = image::ImageReader::new(Cursor::new(source))
        .with_guessed_format()
        .map_err(|e| ThumbError::Decode(e.to_string()))?;
    reader.limits(crate::process::convert::decode_limits(
        MAX_SIDE,
        MAX_DECODE_BYTES,
    ));
    let picture = reader.decode().map_err(decode)?;
    let small = picture.thumbnail(THUMB_SIDE, THUMB_SIDE).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82)
        .encode_image(&small)
        .map_err(decode)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 128]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn thumbnails_are_small_jpegs() {
        let jpeg = make(&png(1000, 500)).unwrap();
        assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (THUMB_SIDE, THUMB_SIDE / 2));
    }

    #[test]
    fn huge_dimensions_are_refused_before_decoding() {
        // A PNG header claiming 100000 x 100000 pixels: refused by the limits, not decoded.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(matches!(make(&bomb), Err(ThumbError::Decode(_))));
        assert!(matches!(make(b"not an image"), Err(ThumbError::Decode(_))));
    }
}
