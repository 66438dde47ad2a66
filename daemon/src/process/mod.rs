//! Turning a downloaded file into what is stored, by the job's [`preset`]: with `keep`, metadata
//! removed losslessly (see [`strip`]); with a converting preset, decoded and encoded again (see
//! [`convert`]). Then measured (bytes, SHA-256, pixel size) for the manifest.
//!
//! With `keep`, a file the download holds in memory ([`crate::held`]) is cleaned and measured
//! from those bytes as soon as it arrives (so the work overlaps other downloads), and its cleaned
//! pieces — slices of the same buffer — are what packaging writes into the ZIP: the file is never
//! read back. A file that was not held (a video, a large image, a resumed download, one over the
//! memory budget, or any after a restart) is read from its partial file here and cleaned again
//! when packaging writes it — stripping is deterministic, so both give the same bytes. Images are
//! handled in memory (bounded by [`MAX_IMAGE_BYTES`]); videos and other files are streamed. A
//! converted image is the opposite case — decoding and encoding cost far more than a write — so
//! it is written once, beside the download ([`converted_path`]), and packaged from there.

pub mod budget;
pub mod complete;
pub mod convert;
pub mod pixels;
pub mod preset;
pub mod strip;

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::failure::FailureKind;
use crate::format::Format;
use crate::held::{Held, Kept};
pub use preset::Preset;
pub use strip::StripOptions;

/// Largest image that is cleaned in memory.
pub const MAX_IMAGE_BYTES: u64 = 256 << 20;

/// What is known about a saved (processed) file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMedia {
    pub content_type: String,
    pub ext: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub sha256: String,
    pub bytes: u64,
    /// What the user should know about the stored file (too small for zoom, border not white…).
    pub warnings: Vec<String>,
}

/// Processing failures.
#[derive(Debug, Error)]
pub enum ProcessError {
    #[error("cannot read the downloaded file {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write the stored file: {0}")]
    Write(io::Error),
    #[error(transparent)]
    Strip(#[from] strip::StripError),
    #[error(
        "the image is {size} bytes, more than the {MAX_IMAGE_BYTES} bytes haul cleans of metadata"
    )]
    TooLarge { size: u64 },
    #[error(transparent)]
    Convert(#[from] convert::ConvertError),
    #[error("the image is damaged: {0}")]
    Damaged(&'static str),
}

/// Refuses an image that is not whole ([`complete`]), in every preset.
fn check_whole(data: &[u8], format: Format) -> Result<(), ProcessError> {
    match complete::damage(data, format) {
        Some(why) => Err(ProcessError::Damaged(why)),
        None => Ok(()),
    }
}

impl ProcessError {
    /// What kind of failure it is.
    pub fn kind(&self) -> FailureKind {
        match self {
            ProcessError::Read { .. } => FailureKind::Internal,
            ProcessError::Write(e) => crate::failure::of_write(e),
            ProcessError::Strip(_) => FailureKind::Damaged,
            ProcessError::TooLarge { .. } => FailureKind::ImageTooLarge,
            ProcessError::Convert(e) => e.kind(),
            ProcessError::Damaged(_) => FailureKind::Damaged,
        }
    }
}

/// The stored form of a downloaded file.
enum Stored {
    /// A cleaned image, and the pixel size read from the downloaded bytes (cleaning keeps the
    /// image data as it is).
    Memory(strip::Stripped, Option<imagesize::ImageSize>),
    /// A file stored as downloaded (videos, formats without metadata handling).
    AsDownloaded(PathBuf),
}

fn stored(part: &Path, format: Format, options: StripOptions) -> Result<Stored, ProcessError> {
    if !matches!(format, Format::Jpeg | Format::Png | Format::Webp) {
        if format == Format::Gif {
            // A GIF's end is its last bytes: read only those (an animation can be large).
            check_whole(&read_tail(part, 64)?, format)?;
        }
        return Ok(Stored::AsDownloaded(part.to_path_buf()));
    }
    in_memory(Bytes::from(read_image(part)?), format, options)
}

/// The stored form of a whole file in memory: cleaned when its format can be, else as it is.
fn in_memory(data: Bytes, format: Format, options: StripOptions) -> Result<Stored, ProcessError> {
    check_whole(&data, format)?;
    let dimensions = match format.kind() {
        crate::media::MediaKind::Image => imagesize::blob_size(&data).ok(),
        crate::media::MediaKind::Video => None,
    };
    Ok(Stored::Memory(
        strip::strip(format, data, options)?,
        dimensions,
    ))
}

/// The last `n` bytes of a file.
fn read_tail(part: &Path, n: u64) -> Result<Vec<u8>, ProcessError> {
    use std::io::{Read, Seek, SeekFrom};
    let read_err = |source| ProcessError::Read {
        path: part.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(part).map_err(read_err)?;
    let size = file.metadata().map_err(read_err)?.len();
    file.seek(SeekFrom::Start(size.saturating_sub(n)))
        .map_err(read_err)?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).map_err(read_err)?;
    Ok(tail)
}

/// Reads an image into memory, refusing files over [`MAX_IMAGE_BYTES`].
fn read_image(part: &Path) -> Result<Vec<u8>, ProcessError> {
    let read_err = |source| ProcessError::Read {
        path: part.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(part).map_err(read_err)?.len();
    if size > MAX_IMAGE_BYTES {
        return Err(ProcessError::TooLarge { size });
    }
    std::fs::read(part).map_err(read_err)
}

/// Where the converted form of the download `part` is written (`3.part` → `3.out`).
pub fn converted_path(part: &Path) -> PathBuf {
    part.with_extension("out")
}

/// Processes the download `part` by `preset` and measures the result. A converting preset writes
/// the converted image to [`converted_path`] (videos and formats that do not convert are stored
/// as `keep` stores them); `main` marks the product's main image, whose border the preset may
/// check. `downloaded_sha256` is the file's hash when the download computed it as the bytes
/// arrived ([`crate::fetch::Fetched::sha256`]): a file stored as downloaded is then not read.
pub fn process(
    part: &Path,
    format: Format,
    preset: &Preset,
    options: StripOptions,
    main: bool,
    downloaded_sha256: Option<[u8; 32]>,
) -> Result<SavedMedia, ProcessError> {
    let spec = match preset {
        Preset::Convert(spec) if format.kind() == crate::media::MediaKind::Image => spec,
        _ => return measure_stored(part, format, options, downloaded_sha256),
    };
    convert_to_file(&read_image(part)?, part, format, spec, main)
}

/// [`process`] for a download held in memory ([`crate::held`]), whose bytes are also on disk at
/// `part`. With `keep` it returns the cleaned pieces too, to be packaged without reading the file
/// again; they keep the download's share of the memory budget while they live.
pub fn process_held(
    held: &Held,
    part: &Path,
    format: Format,
    preset: &Preset,
    options: StripOptions,
    main: bool,
) -> Result<(SavedMedia, Option<Kept<strip::Stripped>>), ProcessError> {
    match preset {
        Preset::Convert(spec) if format.kind() == crate::media::MediaKind::Image => {
            Ok((convert_to_file(&held.data, part, format, spec, main)?, None))
        }
        _ => {
            let (saved, pieces) =
                measured(in_memory(held.data.clone(), format, options)?, format, None)?;
            Ok((saved, pieces.map(|p| held.keep(p))))
        }
    }
}

/// Converts the downloaded image `data` by `spec`, writes it to [`converted_path`] and measures it.
fn convert_to_file(
    data: &[u8],
    part: &Path,
    format: Format,
    spec: &preset::ConvertSpec,
    main: bool,
) -> Result<SavedMedia, ProcessError> {
    check_whole(data, format)?;
    let converted = convert::convert(data, format, spec, main)?;
    let out = converted_path(part);
    std::fs::write(&out, &converted.data).map_err(ProcessError::Write)?;
    Ok(SavedMedia {
        content_type: converted.format.content_type().to_string(),
        ext: converted.format.ext().to_string(),
        width: Some(converted.width),
        height: Some(converted.height),
        sha256: hex::encode(Sha256::digest(&converted.data)),
        bytes: converted.data.len() as u64,
        warnings: converted.warnings,
    })
}

/// Measures the stored form of `part`: what the manifest and the journal record.
pub fn inspect(
    part: &Path,
    format: Format,
    options: StripOptions,
) -> Result<SavedMedia, ProcessError> {
    measure_stored(part, format, options, None)
}

/// [`inspect`], given the hash of the download when it is known ([`process`]).
fn measure_stored(
    part: &Path,
    format: Format,
    options: StripOptions,
    downloaded_sha256: Option<[u8; 32]>,
) -> Result<SavedMedia, ProcessError> {
    measured(stored(part, format, options)?, format, downloaded_sha256).map(|(saved, _)| saved)
}

/// Measures a stored form; returns its pieces too when it is in memory. `downloaded_sha256`, when
/// known, is the hash of a form stored as downloaded.
fn measured(
    stored: Stored,
    format: Format,
    downloaded_sha256: Option<[u8; 32]>,
) -> Result<(SavedMedia, Option<strip::Stripped>), ProcessError> {
    let (bytes, dimensions, pieces, digest) = match stored {
        Stored::Memory(stripped, dimensions) => {
            let mut hasher = Sha256::new();
            for piece in stripped.pieces() {
                hasher.update(piece);
            }
            (
                stripped.size(),
                dimensions,
                Some(stripped),
                hasher.finalize().into(),
            )
        }
        Stored::AsDownloaded(path) => {
            let (bytes, digest) = match downloaded_sha256 {
                Some(digest) => {
                    let size = std::fs::metadata(&path).map_err(|source| ProcessError::Read {
                        path: path.clone(),
                        source,
                    })?;
                    (size.len(), digest)
                }
                None => {
                    let mut hasher = Sha256::new();
                    let bytes = copy_file(&path, &mut HashWriter(&mut hasher))?;
                    (bytes, hasher.finalize().into())
                }
            };
            let dimensions = match format.kind() {
                crate::media::MediaKind::Image => imagesize::size(&path).ok(),
                crate::media::MediaKind::Video => None,
            };
            (bytes, dimensions, None, digest)
        }
    };
    let to_u32 = |v: usize| u32::try_from(v).ok();
    let saved = SavedMedia {
        content_type: format.content_type().to_string(),
        ext: format.ext().to_string(),
        width: dimensions.and_then(|d| to_u32(d.width)),
        height: dimensions.and_then(|d| to_u32(d.height)),
        sha256: hex::encode(digest),
        bytes,
        warnings: Vec::new(),
    };
    Ok((saved, pieces))
}

/// Writes the stored form of `part` to `out`; returns the bytes written.
pub fn write_stored(
    part: &Path,
    format: Format,
    options: StripOptions,
    out: &mut dyn Write,
) -> Result<u64, ProcessError> {
    match stored(part, format, options)? {
        Stored::Memory(stripped, _) => write_pieces(&stripped, out),
        Stored::AsDownloaded(path) => copy_file(&path, out),
    }
}

/// Writes a stored form held in memory ([`process_held`]) to `out`; returns the bytes written.
pub fn write_pieces(stripped: &strip::Stripped, out: &mut dyn Write) -> Result<u64, ProcessError> {
    for piece in stripped.pieces() {
        out.write_all(piece).map_err(ProcessError::Write)?;
    }
    Ok(stripped.size())
}

fn copy_file(path: &Path, out: &mut dyn Write) -> Result<u64, ProcessError> {
    let file = File::open(path).map_err(|source| ProcessError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(ProcessError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        out.write_all(&buf[..n]).map_err(ProcessError::Write)?;
        total += n as u64;
    }
}

/// Feeds everything written to a SHA-256 hasher.
pub struct HashWriter<'a>(pub &'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::held::MemoryBudget;

    /// A real JPEG carrying an EXIF segment (camera serial and GPS) after its start.
    pub(crate) fn jpeg_with_exif() -> Vec<u8> {
        let image =
            image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
        let mut plain = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
            .encode_image(&image)
            .unwrap();
        let exif = b"Exif\0\0serial 123 GPS 48.85N 2.35E";
        let mut data = plain[..2].to_vec();
        data.extend_from_slice(&[0xFF, 0xE1]);
        data.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        data.extend_from_slice(exif);
        data.extend_from_slice(&plain[2..]);
        data
    }

    /// Cleaning and measuring from the download held in memory gives what reading the partial
    /// file gives — the same record, and pieces that are the very bytes packaging writes from the
    /// file — and the recorded SHA-256 is that of those bytes.
    #[test]
    fn a_held_download_is_stored_and_measured_as_the_file_on_disk_is() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("1.part");
        let data = jpeg_with_exif();
        std::fs::write(&part, &data).unwrap();
        let options = StripOptions::default();

        let from_disk = process(&part, Format::Jpeg, &Preset::Keep, options, true, None).unwrap();
        let mut written = Vec::new();
        write_stored(&part, Format::Jpeg, options, &mut written).unwrap();

        let budget = MemoryBudget::new(1 << 20);
        let room = budget.try_take(data.len() as u64).unwrap();
        let held = Held::new(Bytes::from(data.clone()), room);
        let (saved, pieces) =
            process_held(&held, &part, Format::Jpeg, &Preset::Keep, options, true).unwrap();
        let pieces = pieces.expect("a kept image is held in pieces");
        let mut from_memory = Vec::new();
        write_pieces(&pieces.value, &mut from_memory).unwrap();

        assert_eq!(saved, from_disk);
        assert_eq!(from_memory, written, "the same stored bytes");
        assert!(written.len() < data.len(), "the EXIF segment is gone");
        assert!(!written.windows(4).any(|w| w == b"Exif"));
        assert_eq!(saved.sha256, hex::encode(Sha256::digest(&from_memory)));
        assert_eq!(saved.bytes, from_memory.len() as u64);
        assert_eq!((saved.width, saved.height), (Some(64), Some(48)));

        drop(held);
        assert!(
            budget.available() < 1 << 20,
            "the pieces keep the download's share of the budget"
        );
        drop(pieces);
        assert_eq!(budget.available(), 1 << 20);
    }
}
