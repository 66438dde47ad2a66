//! Converting an image by a preset ([`ConvertSpec`]): decode with hard limits, turn it upright,
//! flatten transparency onto white, convert to sRGB, scale down, encode.
//!
//! Why each step:
//! 1. **Bounded decoding.** An image's header can declare 100000 × 100000 pixels in a few hundred
//!    bytes (a decompression bomb). The declared size is read first and refused above
//!    [`MAX_SIDE`]. Then what the conversion will really allocate — the decoded image when it
//!    is read whole, the scaled image, the encoder's buffers — is worked out from the header and
//!    reserved from one budget all conversions share ([`super::budget`]) before a pixel is
//!    decoded: an image that needs more than the whole budget is refused, others wait their turn.
//!    PNGs are read row by row and scaled as the rows arrive ([`super::pixels`]), so a
//!    20000 × 20000 PNG scaled to 2000 px holds 2000 × 2000 pixels, never 400 million; other
//!    formats are decoded whole at their own colour type (grey stays one byte a pixel).
//! 2. **Upright.** Phones store pictures sideways with an EXIF orientation tag; the tag is dropped
//!    with the rest of the metadata, so the pixels are turned first.
//! 3. **White behind transparency.** JPEG has no alpha, and marketplaces want white, not the
//!    black that dropping the channel gives.
//! 4. **sRGB.** Browsers and marketplaces assume sRGB when no profile is attached; a photo shot in
//!    Display P3 or Adobe RGB is converted (moxcms) and written without a profile. A profile that
//!    cannot be read is reported and the pixels are taken as sRGB.
//! 5. **Size.** The longest side is scaled down to `max_side` — a whole-factor box reduction,
//!    then Lanczos3, row by row ([`super::pixels`]); a smaller image than `min_side` is kept and
//!    reported, since scaling up only adds blur.
//! 6. **Encode.** JPEG (image crate) or lossy WebP (libwebp) at the preset's quality. Nothing but
//!    pixels is written: no EXIF, no XMP, no profile.
//!
//! Besides the presets, [`to_jpeg`] serves targets that take only some formats — Seller Central's
//! image upload accepts JPEG, PNG, TIFF and GIF, so the `amazon-upload` naming converts WebP and
//! BMP — with the same steps and no scaling. Every step is deterministic, so a job resumed after
//! a crash packages the same bytes.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};
use thiserror::Error;

use super::budget;
use super::pixels::{Layout, Pixels, ScalePlan, Scaler};
use super::preset::{ConvertSpec, OutputFormat};
use crate::failure::FailureKind;
use crate::format::Format;

/// Longest side haul decodes. Above every camera and Amazon's own 10000 px limit.
pub const MAX_SIDE: u32 = 20_000;

/// A converted image.
#[derive(Debug, Clone)]
pub struct Converted {
    pub data: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// What the user should know about the result (too small, border not white, profile ignored).
    pub warnings: Vec<String>,
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

/// Why an image could not be converted.
#[derive(Debug, Error)]
pub enum ConvertError {
    #[error(
        "the image declares {width} × {height} pixels, more than the {MAX_SIDE} px a side haul decodes; it may be a decompression bomb — if it is a real photo, scale it down and drop it again"
    )]
    TooLarge { width: u64, height: u64 },
    #[error(
        "converting the image needs about {} MiB, more than the {} MiB haul sets aside for converting images; scale it down and drop it again",
        needed.div_ceil(1 << 20),
        total >> 20
    )]
    OverBudget { needed: u64, total: u64 },
    #[error(
        "the image needs more memory to decode than haul allows ({} MiB); scale it down and drop it again",
        budget::CONVERT_MEMORY >> 20
    )]
    TooMuchMemory,
    #[error(
        ".{0} images cannot be converted by haul; export the picture as JPEG or PNG and drop it again"
    )]
    Unsupported(&'static str),
    #[error("the image cannot be read: {0}; is the file damaged?")]
    Decode(String),
    #[error("cannot encode the converted image: {0}")]
    Encode(String),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ConvertError {
    /// What kind of failure it is.
    pub fn kind(&self) -> FailureKind {
        match self {
            ConvertError::TooLarge { .. }
            | ConvertError::OverBudget { .. }
            | ConvertError::TooMuchMemory => FailureKind::ImageTooLarge,
            ConvertError::Unsupported(_) => FailureKind::Unsupported,
            ConvertError::Decode(_) => FailureKind::Damaged,
            ConvertError::Encode(_) | ConvertError::Read { .. } => FailureKind::Internal,
            ConvertError::Write { source, .. } => crate::failure::of_write(source),
        }
    }
}

/// JPEG quality of [`to_jpeg`]: visually lossless for product photos.
const TO_JPEG_QUALITY: u8 = 92;

/// Whether [`convert`] and [`to_jpeg`] can read `format`.
pub fn can_convert(format: Format) -> bool {
    matches!(
        format,
        Format::Jpeg | Format::Png | Format::Webp | Format::Tiff | Format::Bmp
    )
}

/// Converts the image file `source` (of `format`) to an sRGB JPEG of the same size at `target`
/// (through a temporary file beside it, synced and renamed when complete).
pub fn to_jpeg(source: &Path, format: Format, target: &Path) -> Result<(), ConvertError> {
    let data = std::fs::read(source).map_err(|e| ConvertError::Read {
        path: source.to_path_buf(),
        source: e,
    })?;
    let spec = ConvertSpec {
        name: "jpeg".into(),
        format: OutputFormat::Jpeg,
        quality: TO_JPEG_QUALITY,
        max_side: None,
        min_side: None,
        check_white_border: false,
    };
    let converted = convert(&data, format, &spec, false)?;
    let temp = target.with_extension("converting");
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ConvertError::Write { path, source }
    };
    let mut file = std::fs::File::create(&temp).map_err(write_err(&temp))?;
    file.write_all(&converted.data).map_err(write_err(&temp))?;
    file.sync_all().map_err(write_err(&temp))?;
    std::fs::rename(&temp, target).map_err(write_err(target))
}

/// Converts `data` (an image in `format`) by `spec`. `main` marks the product's main image,
/// whose border is checked when the preset asks.
///
/// What the conversion will allocate is worked out from the header and reserved from the
/// process's conversion budget ([`budget::CONVERSIONS`]) before any pixel is decoded.
pub fn convert(
    data: &[u8],
    format: Format,
    spec: &ConvertSpec,
    main: bool,
) -> Result<Converted, ConvertError> {
    if !can_convert(format) {
        return Err(ConvertError::Unsupported(format.ext()));
    }
    check_declared_size(data)?;
    let mut warnings = Vec::new();
    let wants_rgb = spec.format == OutputFormat::Webp;
    let source = Source::open(data, format)?;
    let (width, height) = source.dimensions();
    let plan = ScalePlan::new(width, height, spec.max_side, source.layout.channels());
    let needed = source.cost(&plan, wants_rgb, spec.format);
    let _reservation =
        budget::CONVERSIONS
            .reserve(needed)
            .map_err(|over| ConvertError::OverBudget {
                needed: over.needed,
                total: over.total,
            })?;
    let icc = source.icc.clone();
    let orientation = source.orientation;
    let (mut pixels, border_white) = source.decode(&plan)?;
    if let Some(icc) = icc {
        expand_to_rgb(&mut pixels);
        if let Err(problem) = to_srgb(&mut pixels.data, &icc) {
            warnings.push(format!(
                "its colour profile could not be applied ({problem}); the colours were taken as sRGB"
            ));
        }
    }
    if wants_rgb {
        expand_to_rgb(&mut pixels);
    }
    if main && spec.check_white_border && !border_white {
        warnings.push(
            "the main image's border is not pure white (RGB 255, 255, 255), which Amazon requires for main images"
                .to_string(),
        );
    }
    let longest = width.max(height);
    if let Some(min) = spec.min_side
        && longest < min
    {
        warnings.push(format!(
            "its longest side is {longest} px, under the {min} px preset `{}` asks for (Amazon cannot zoom such images); use a larger original",
            spec.name
        ));
    }
    let image = upright(pixels, orientation)?;
    let (width, height) = (image.width(), image.height());
    let (data, format) = encode(&image, spec)?;
    Ok(Converted {
        data,
        format,
        width,
        height,
        warnings,
    })
}

/// The header's claim, read without decoding: cheap, and it names the size in the message.
fn check_declared_size(data: &[u8]) -> Result<(), ConvertError> {
    if let Ok(size) = imagesize::blob_size(data)
        && (size.width > MAX_SIDE as usize || size.height > MAX_SIDE as usize)
    {
        return Err(ConvertError::TooLarge {
            width: size.width as u64,
            height: size.height as u64,
        });
    }
    Ok(())
}

/// Decodes a whole image into the buffer it is given (an `image` decoder, boxed).
type ReadWhole<'a> = Box<dyn FnOnce(&mut [u8]) -> image::ImageResult<()> + 'a>;

/// How an image's pixels will be read.
enum Reading<'a> {
    /// A PNG, row by row: only the scaled image is ever held.
    PngRows(Box<png::Reader<Cursor<&'a [u8]>>>),
    /// Any other image, decoded whole at its own colour type (`image`'s decoders).
    /// Its decoder and the bytes it decodes to.
    Whole(ReadWhole<'a>, u64),
}

/// An image whose header has been read: its size, layout, profile and orientation.
struct Source<'a> {
    reading: Reading<'a>,
    width: u32,
    height: u32,
    layout: Layout,
    icc: Option<Vec<u8>>,
    orientation: Orientation,
}

impl<'a> Source<'a> {
    fn open(data: &'a [u8], format: Format) -> Result<Source<'a>, ConvertError> {
        if format == Format::Png
            && let Some(source) = Source::png_rows(data)?
        {
            return Ok(source);
        }
        let mut reader = ImageReader::new(Cursor::new(data))
            .with_guessed_format()
            .map_err(|e| ConvertError::Decode(e.to_string()))?;
        reader.limits(decode_limits(MAX_SIDE, budget::CONVERSIONS.total()));
        let mut decoder = reader.into_decoder().map_err(decode_error)?;
        let (width, height) = decoder.dimensions();
        let layout = Layout::of(decoder.color_type()).ok_or_else(|| {
            ConvertError::Decode(format!(
                "its colour type {:?} is not one haul converts",
                decoder.color_type()
            ))
        })?;
        let icc = decoder.icc_profile().ok().flatten();
        let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
        let total = decoder.total_bytes();
        Ok(Source {
            reading: Reading::Whole(
                Box::new(move |buf: &mut [u8]| decoder.read_image(buf)),
                total,
            ),
            width,
            height,
            layout,
            icc,
            orientation,
        })
    }

    /// A non-interlaced PNG read row by row (`None` for an interlaced one, whose rows come in
    /// seven passes and are read whole).
    fn png_rows(data: &'a [u8]) -> Result<Option<Source<'a>>, ConvertError> {
        let mut decoder = png::Decoder::new_with_limits(
            Cursor::new(data),
            png::Limits {
                bytes: PNG_CHUNK_BYTES,
            },
        );
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let reader = decoder.read_info().map_err(png_error)?;
        let info = reader.info();
        if info.interlaced {
            return Ok(None);
        }
        let (width, height) = (info.width, info.height);
        if width > MAX_SIDE || height > MAX_SIDE {
            return Err(ConvertError::TooLarge {
                width: width.into(),
                height: height.into(),
            });
        }
        let icc = info.icc_profile.as_ref().map(|p| p.to_vec());
        let orientation = info
            .exif_metadata
            .as_ref()
            .and_then(|exif| Orientation::from_exif_chunk(exif))
            .unwrap_or(Orientation::NoTransforms);
        let layout = match reader.output_color_type().0 {
            png::ColorType::Grayscale => Layout::L8,
            png::ColorType::GrayscaleAlpha => Layout::La8,
            png::ColorType::Rgb => Layout::Rgb8,
            png::ColorType::Rgba => Layout::Rgba8,
            png::ColorType::Indexed => {
                return Err(ConvertError::Decode("an unexpanded palette".into()));
            }
        };
        Ok(Some(Source {
            reading: Reading::PngRows(Box::new(reader)),
            width,
            height,
            layout,
            icc,
            orientation,
        }))
    }

    fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Whether the whole decoded buffer can become the output in place (no scaling, 8 bits).
    fn in_place(&self, plan: &ScalePlan) -> bool {
        matches!(self.reading, Reading::Whole(..))
            && (plan.out_width, plan.out_height) == (self.width, self.height)
            && matches!(
                self.layout,
                Layout::L8 | Layout::La8 | Layout::Rgb8 | Layout::Rgba8
            )
    }

    /// Bytes the conversion will allocate, from the header alone: the decoded image when it is
    /// read whole, the kept rows and the scaled image, grey widened to RGB, a turned copy, and
    /// the encoder's buffers.
    fn cost(&self, plan: &ScalePlan, wants_rgb: bool, output: OutputFormat) -> u64 {
        let whole = match &self.reading {
            Reading::PngRows(_) => 0,
            Reading::Whole(_, total) => *total,
        };
        let scaling = if self.in_place(plan) {
            0
        } else {
            plan.kept_bytes() + plan.output_bytes()
        };
        let rgb_bytes = u64::from(plan.out_width) * u64::from(plan.out_height) * 3;
        let widened = if plan.channels == 1 && (wants_rgb || self.icc.is_some()) {
            rgb_bytes
        } else {
            0
        };
        let turned = if self.orientation == Orientation::NoTransforms {
            0
        } else {
            rgb_bytes
        };
        let encoder = match output {
            OutputFormat::Jpeg => rgb_bytes / 2,
            OutputFormat::Webp => rgb_bytes * 2,
        };
        whole + scaling + widened + turned + encoder
    }

    /// Decodes and scales by `plan`; returns the pixels and whether the source's border is
    /// pure white.
    fn decode(self, plan: &ScalePlan) -> Result<(Pixels, bool), ConvertError> {
        let in_place = self.in_place(plan);
        let (width, height, layout) = (self.width, self.height, self.layout);
        match self.reading {
            Reading::PngRows(mut reader) => {
                let mut scaler = Scaler::new(*plan);
                let mut row = Vec::with_capacity(width as usize * layout.channels());
                while let Some(decoded) = reader.next_row().map_err(png_error)? {
                    row.clear();
                    layout.flatten_into(decoded.data(), width as usize, &mut row);
                    scaler.push(&row);
                }
                if scaler.rows_seen() < height {
                    return Err(ConvertError::Decode("the image data ends early".into()));
                }
                let white = scaler.border_white();
                Ok((scaler.finish(), white))
            }
            Reading::Whole(read, total) => {
                let len = usize::try_from(total).map_err(|_| ConvertError::TooMuchMemory)?;
                let mut buf = vec![0u8; len];
                read(&mut buf).map_err(decode_error)?;
                if in_place {
                    let pixels = flatten_in_place(buf, width, height, layout);
                    let white = border_is_white(&pixels);
                    return Ok((pixels, white));
                }
                let mut scaler = Scaler::new(*plan);
                let stride = width as usize * layout.pixel_bytes();
                let mut row = Vec::with_capacity(width as usize * layout.channels());
                for source_row in buf.chunks_exact(stride.max(1)) {
                    row.clear();
                    layout.flatten_into(source_row, width as usize, &mut row);
                    scaler.push(&row);
                }
                drop(buf);
                let white = scaler.border_white();
                Ok((scaler.finish(), white))
            }
        }
    }
}

/// Most bytes the PNG decoder may allocate for chunks other than the pixels (profiles, text).
const PNG_CHUNK_BYTES: usize = 16 << 20;

fn png_error(e: png::DecodingError) -> ConvertError {
    match e {
        png::DecodingError::LimitsExceeded => ConvertError::TooMuchMemory,
        other => ConvertError::Decode(other.to_string()),
    }
}

/// 8-bit pixels, with alpha composited over white, made from the decoded buffer without a
/// second copy (each pixel is written at or before where it was read).
fn flatten_in_place(mut buf: Vec<u8>, width: u32, height: u32, layout: Layout) -> Pixels {
    let channels = layout.channels();
    let samples = layout.pixel_bytes();
    if samples != channels {
        let count = width as usize * height as usize;
        let mut px = Vec::with_capacity(channels);
        for i in 0..count {
            px.clear();
            layout.flatten_into(&buf[i * samples..(i + 1) * samples], 1, &mut px);
            buf[i * channels..(i + 1) * channels].copy_from_slice(&px);
        }
        buf.truncate(count * channels);
    }
    Pixels {
        data: buf,
        width,
        height,
        channels,
    }
}

/// Grey pixels widened to RGB (nothing to do for RGB).
fn expand_to_rgb(pixels: &mut Pixels) {
    if pixels.channels == 3 {
        return;
    }
    pixels.data = pixels.data.iter().flat_map(|&v| [v, v, v]).collect();
    pixels.channels = 3;
}

/// The pixels turned upright by the EXIF orientation, as an image to encode.
fn upright(pixels: Pixels, orientation: Orientation) -> Result<DynamicImage, ConvertError> {
    let (w, h) = (pixels.width, pixels.height);
    let odd = || ConvertError::Decode("the decoded pixels do not match the image's size".into());
    let mut image = if pixels.channels == 1 {
        DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, pixels.data).ok_or_else(odd)?)
    } else {
        DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels.data).ok_or_else(odd)?)
    };
    image.apply_orientation(orientation);
    Ok(image)
}

fn decode_error(e: image::ImageError) -> ConvertError {
    match e {
        image::ImageError::Limits(limit) => match limit.kind() {
            image::error::LimitErrorKind::DimensionError => ConvertError::TooLarge {
                width: 0,
                height: 0,
            },
            _ => ConvertError::TooMuchMemory,
        },
        image::ImageError::Unsupported(u) => ConvertError::Decode(u.to_string()),
        other => ConvertError::Decode(other.to_string()),
    }
}

/// Converts RGB pixels from the colour space `icc` describes to sRGB, in place, a band of rows
/// at a time (so the scratch buffer stays small).
fn to_srgb(rgb: &mut [u8], icc: &[u8]) -> Result<(), String> {
    let source = moxcms::ColorProfile::new_from_slice(icc).map_err(|e| e.to_string())?;
    let transform = source
        .create_transform_8bit(
            moxcms::Layout::Rgb,
            &moxcms::ColorProfile::new_srgb(),
            moxcms::Layout::Rgb,
            moxcms::TransformOptions::default(),
        )
        .map_err(|e| e.to_string())?;
    const BAND: usize = 3 * 65_536;
    let mut converted = vec![0u8; BAND.min(rgb.len())];
    for band in rgb.chunks_mut(BAND) {
        let out = &mut converted[..band.len()];
        transform.transform(band, out).map_err(|e| e.to_string())?;
        band.copy_from_slice(out);
    }
    Ok(())
}

/// Whether every pixel of the outermost row and column on each side is pure white.
fn border_is_white(pixels: &Pixels) -> bool {
    let (w, h, ch) = (
        pixels.width as usize,
        pixels.height as usize,
        pixels.channels,
    );
    let white = |x: usize, y: usize| {
        let at = (y * w + x) * ch;
        pixels.data[at..at + ch].iter().all(|&v| v == 255)
    };
    w > 0
        && h > 0
        && (0..w).all(|x| white(x, 0) && white(x, h - 1))
        && (0..h).all(|y| white(0, y) && white(w - 1, y))
}

fn encode(image: &DynamicImage, spec: &ConvertSpec) -> Result<(Vec<u8>, Format), ConvertError> {
    match spec.format {
        OutputFormat::Jpeg => {
            let mut out = Vec::new();
            let mut encoder =
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, spec.quality);
            match image {
                DynamicImage::ImageLuma8(grey) => encoder.encode_image(grey),
                other => encoder.encode_image(other),
            }
            .map_err(|e| ConvertError::Encode(e.to_string()))?;
            Ok((out, Format::Jpeg))
        }
        OutputFormat::Webp => {
            let rgb = image
                .as_rgb8()
                .ok_or_else(|| ConvertError::Encode("WebP needs RGB pixels".into()))?;
            let encoded = webp::Encoder::from_rgb(rgb.as_raw(), rgb.width(), rgb.height())
                .encode(f32::from(spec.quality));
            Ok((encoded.to_vec(), Format::Webp))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::preset::{self, Preset};
    use image::{ImageEncoder, Rgb, Rgba, RgbaImage};
    use img_parts::{ImageEXIF, ImageICC};
    use std::io::Cursor;

    fn spec(name: &str) -> ConvertSpec {
        match preset::resolve(name, &Default::default()) {
            Ok(Preset::Convert(spec)) => spec,
            other => panic!("{name} is a converting preset: {other:?}"),
        }
    }

    fn jpeg(image: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
            .encode_image(image)
            .unwrap();
        out
    }

    fn png_rgba(image: &RgbaImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                image.as_raw(),
                image.width(),
                image.height(),
                image::ExtendedColorType::Rgba8,
            )
            .unwrap();
        out
    }

    fn with_exif_and_icc(jpeg: Vec<u8>, icc: Option<Vec<u8>>) -> Vec<u8> {
        let mut parsed = img_parts::jpeg::Jpeg::from_bytes(jpeg.into()).unwrap();
        let mut exif = b"MM\0*\0\0\0\x08\0\x01\x88\x25\0\x04\0\0\0\x01\0\0\0\x1a\0\0\0\0".to_vec();
        exif.extend_from_slice(b"GPSCanary");
        parsed.set_exif(Some(exif.into()));
        parsed.set_icc_profile(icc.map(Into::into));
        parsed.encoder().bytes().to_vec()
    }

    fn decoded(data: &[u8]) -> RgbImage {
        image::load_from_memory(data).unwrap().into_rgb8()
    }

    #[test]
    fn amazon_listing_writes_a_bare_srgb_jpeg() {
        // A flat colour in Display P3, tagged with the P3 profile and carrying EXIF with GPS.
        let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
        let source = with_exif_and_icc(
            jpeg(&RgbImage::from_pixel(1200, 900, Rgb([200, 100, 100]))),
            Some(p3),
        );
        assert!(source.windows(9).any(|w| w == b"GPSCanary"));

        let out = convert(&source, Format::Jpeg, &spec("amazon-listing"), false).unwrap();
        assert_eq!(out.format, Format::Jpeg);
        assert_eq!((out.width, out.height), (1200, 900));
        let parsed = img_parts::jpeg::Jpeg::from_bytes(out.data.clone().into()).unwrap();
        assert!(parsed.exif().is_none(), "no EXIF");
        assert!(
            parsed.icc_profile().is_none(),
            "sRGB is written without a profile"
        );
        assert!(!out.data.windows(9).any(|w| w == b"GPSCanary"));
        // P3 (200, 100, 100) is sRGB (216, 93, 96) by the standard P3 → sRGB matrix.
        let px = decoded(&out.data).get_pixel(600, 450).0;
        let expected = [216i32, 93, 96];
        for (got, want) in px.iter().zip(expected) {
            assert!(
                (i32::from(*got) - want).abs() <= 3,
                "pixel {px:?}, expected about {expected:?}"
            );
        }
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }

    #[test]
    fn oversized_images_are_scaled_down_and_small_ones_reported() {
        let mut big = spec("amazon-listing");
        big.max_side = Some(1500);
        big.min_side = Some(200);
        let out = convert(&jpeg(&RgbImage::new(3000, 1000)), Format::Jpeg, &big, false).unwrap();
        assert_eq!((out.width, out.height), (1500, 500));

        let out = convert(
            &jpeg(&RgbImage::new(400, 300)),
            Format::Jpeg,
            &spec("amazon-listing"),
            false,
        )
        .unwrap();
        assert_eq!((out.width, out.height), (400, 300), "never scaled up");
        assert!(
            out.warnings
                .iter()
                .any(|w| w.contains("400 px") && w.contains("1000")),
            "{:?}",
            out.warnings
        );
    }

    #[test]
    fn transparency_becomes_white_not_black() {
        let mut rgba = RgbaImage::from_pixel(1000, 1000, Rgba([0, 0, 0, 0]));
        rgba.put_pixel(500, 500, Rgba([255, 0, 0, 255]));
        for x in 100..200 {
            for y in 100..200 {
                rgba.put_pixel(x, y, Rgba([0, 0, 255, 128]));
            }
        }
        let out = convert(&png_rgba(&rgba), Format::Png, &spec("amazon-listing"), true).unwrap();
        let img = decoded(&out.data);
        let corner = img.get_pixel(5, 5).0;
        assert!(
            corner.iter().all(|&c| c >= 250),
            "transparent → white, got {corner:?}"
        );
        let half = img.get_pixel(150, 150).0;
        assert!(
            half[0] > 110 && half[0] < 145 && half[2] > 245,
            "half-transparent blue over white, got {half:?}"
        );
        assert!(
            out.warnings.is_empty(),
            "a white border passes: {:?}",
            out.warnings
        );
    }

    #[test]
    fn a_main_image_without_a_white_border_is_reported() {
        let grey = jpeg(&RgbImage::from_pixel(1000, 1000, Rgb([128, 128, 128])));
        let out = convert(&grey, Format::Jpeg, &spec("amazon-listing"), true).unwrap();
        assert!(
            out.warnings.iter().any(|w| w.contains("not pure white")),
            "{:?}",
            out.warnings
        );
        let out = convert(&grey, Format::Jpeg, &spec("amazon-listing"), false).unwrap();
        assert!(out.warnings.is_empty(), "only the main image is checked");
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_decoding() {
        // A real PNG header declaring 100000 × 100000 pixels, with one tiny IDAT.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let chunk = |png: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]| {
            png.extend_from_slice(&(body.len() as u32).to_be_bytes());
            let mut crc_input = kind.to_vec();
            crc_input.extend_from_slice(body);
            png.extend_from_slice(&crc_input);
            png.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        };
        let mut ihdr = 100_000u32.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut png, b"IHDR", &ihdr);
        chunk(
            &mut png,
            b"IDAT",
            &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        );
        chunk(&mut png, b"IEND", &[]);
        let err = convert(&png, Format::Png, &spec("web"), false).unwrap_err();
        assert!(
            matches!(
                err,
                ConvertError::TooLarge {
                    width: 100_000,
                    height: 100_000
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("decompression bomb"), "{err}");

        // Past the header check (a size imagesize cannot read), the decoder's own limits hold.
        let err = decode_error(image::ImageError::Limits(
            image::error::LimitError::from_kind(image::error::LimitErrorKind::InsufficientMemory),
        ));
        assert!(matches!(err, ConvertError::TooMuchMemory));
    }

    #[test]
    fn webp_output_and_unsupported_inputs() {
        let mut web = spec("web");
        web.format = OutputFormat::Webp;
        web.quality = 60;
        let out = convert(
            &jpeg(&RgbImage::from_pixel(3000, 2000, Rgb([10, 200, 30]))),
            Format::Jpeg,
            &web,
            false,
        )
        .unwrap();
        assert_eq!(out.format, Format::Webp);
        assert_eq!((out.width, out.height), (2000, 1333));
        assert_eq!(
            image::guess_format(&out.data).unwrap(),
            image::ImageFormat::WebP
        );

        let err = convert(b"GIF89a", Format::Gif, &web, false).unwrap_err();
        assert!(err.to_string().contains("export the picture"), "{err}");
        let err = convert(b"\xFF\xD8\xFF\xE0 broken", Format::Jpeg, &web, false).unwrap_err();
        assert!(matches!(err, ConvertError::Decode(_)), "{err:?}");
    }

    fn webp(w: u32, h: u32, alpha: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let image = if alpha {
            DynamicImage::ImageRgba8(RgbaImage::from_fn(w, h, |x, _| {
                Rgba([200, 10, 10, if x < w / 2 { 0 } else { 255 }])
            }))
        } else {
            DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, Rgb([10, 200, 10])))
        };
        image
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::WebP)
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
    fn hostile_files_fail_cleanly_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("bad.part");
        let mut truncated = webp(64, 48, false);
        truncated.truncate(truncated.len() / 2);
        std::fs::write(&src, &truncated).unwrap();
        let out = dir.path().join("bad.jpg");
        assert!(to_jpeg(&src, Format::Webp, &out).is_err());
        assert!(!out.exists());
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
