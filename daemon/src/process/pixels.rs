//! Pixels as they arrive, row by row, made into what a converting preset writes: transparency
//! flattened onto white, grey kept grey, and the image scaled down — so the memory a
//! conversion needs follows the size it *writes*, not the size it reads.
//!
//! Why rows: a 432 KB PNG can be 20000 × 20000 pixels. Decoded whole and widened to RGBA, then
//! resampled through a floating-point copy (what `image`'s `resize` does), it took 4.4 GiB. Here
//! every decoded row passes through three steps and is dropped:
//!
//! 1. **Flatten** to 8-bit grey or RGB, alpha composited over white (16-bit and float samples
//!    are narrowed).
//! 2. **Box-reduce** by a whole factor `k` (the mean of each `k × k` block, accumulated over `k`
//!    rows), so what is kept is at most about twice the target size.
//! 3. **Resample horizontally** (Lanczos3) to the target width.
//!
//! [`Scaler::finish`] resamples the kept rows vertically to the target height. The memory is
//! [`ScalePlan::kept_bytes`] plus [`ScalePlan::output_bytes`], known before the first row is
//! decoded, which is what the conversion reserves from the budget ([`super::budget`]).
//!
//! Every step is integer or fixed-order float arithmetic, so the result is deterministic.

/// How the samples of a decoded row are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    L8,
    La8,
    Rgb8,
    Rgba8,
    L16,
    La16,
    Rgb16,
    Rgba16,
    Rgb32F,
    Rgba32F,
}

impl Layout {
    /// The layout of a decoded `image` colour type (`None` for one haul does not handle).
    pub fn of(color: image::ColorType) -> Option<Layout> {
        use image::ColorType as C;
        Some(match color {
            C::L8 => Layout::L8,
            C::La8 => Layout::La8,
            C::Rgb8 => Layout::Rgb8,
            C::Rgba8 => Layout::Rgba8,
            C::L16 => Layout::L16,
            C::La16 => Layout::La16,
            C::Rgb16 => Layout::Rgb16,
            C::Rgba16 => Layout::Rgba16,
            C::Rgb32F => Layout::Rgb32F,
            C::Rgba32F => Layout::Rgba32F,
            _ => return None,
        })
    }

    /// Samples a pixel has.
    fn samples(self) -> usize {
        match self {
            Layout::L8 | Layout::L16 => 1,
            Layout::La8 | Layout::La16 => 2,
            Layout::Rgb8 | Layout::Rgb16 | Layout::Rgb32F => 3,
            Layout::Rgba8 | Layout::Rgba16 | Layout::Rgba32F => 4,
        }
    }

    /// Bytes a sample takes.
    fn sample_bytes(self) -> usize {
        match self {
            Layout::L8 | Layout::La8 | Layout::Rgb8 | Layout::Rgba8 => 1,
            Layout::L16 | Layout::La16 | Layout::Rgb16 | Layout::Rgba16 => 2,
            Layout::Rgb32F | Layout::Rgba32F => 4,
        }
    }

    /// Bytes a pixel takes.
    pub fn pixel_bytes(self) -> usize {
        self.samples() * self.sample_bytes()
    }

    /// Whether the flattened pixels are grey (one channel) rather than RGB.
    pub fn is_grey(self) -> bool {
        matches!(self, Layout::L8 | Layout::La8 | Layout::L16 | Layout::La16)
    }

    /// Channels after flattening: 1 (grey) or 3 (RGB).
    pub fn channels(self) -> usize {
        if self.is_grey() { 1 } else { 3 }
    }

    /// The `i`-th sample of `row` as 8 bits (16-bit samples are native-endian, as `image`
    /// decodes them; floats are 0.0–1.0).
    fn sample(self, row: &[u8], i: usize) -> u8 {
        match self.sample_bytes() {
            1 => row[i],
            2 => (u16::from_ne_bytes([row[2 * i], row[2 * i + 1]]) >> 8) as u8,
            _ => {
                let b = [row[4 * i], row[4 * i + 1], row[4 * i + 2], row[4 * i + 3]];
                (f32::from_ne_bytes(b).clamp(0.0, 1.0) * 255.0).round() as u8
            }
        }
    }

    /// Appends `row` (`width` pixels of this layout) to `out` as 8-bit grey or RGB, alpha
    /// composited over white.
    pub fn flatten_into(self, row: &[u8], width: usize, out: &mut Vec<u8>) {
        let samples = self.samples();
        let colour = self.channels();
        let alpha = samples > colour;
        for px in 0..width {
            let base = px * samples;
            let a = if alpha {
                u32::from(self.sample(row, base + colour))
            } else {
                255
            };
            for c in 0..colour {
                let v = u32::from(self.sample(row, base + c));
                out.push(((v * a + 255 * (255 - a) + 127) / 255) as u8);
            }
        }
    }
}

/// The sizes of one scaling: the source, the whole factor of the box reduction, the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalePlan {
    pub in_width: u32,
    pub in_height: u32,
    /// Box reduction factor (1: none).
    pub factor: u32,
    pub out_width: u32,
    pub out_height: u32,
    /// Channels kept: 1 (grey) or 3 (RGB).
    pub channels: usize,
}

impl ScalePlan {
    /// Scaling `width × height` so that its longest side is at most `max_side` (never up).
    pub fn new(width: u32, height: u32, max_side: Option<u32>, channels: usize) -> ScalePlan {
        let longest = width.max(height).max(1);
        let (out_width, out_height) = match max_side {
            Some(max) if longest > max && max > 0 => {
                let scale = f64::from(max) / f64::from(longest);
                (
                    ((f64::from(width) * scale).round() as u32).clamp(1, max),
                    ((f64::from(height) * scale).round() as u32).clamp(1, max),
                )
            }
            _ => (width, height),
        };
        // The largest whole factor that keeps the reduced image at least as large as the
        // target, so the Lanczos step only ever scales down by less than 2.
        let factor = (width / out_width.max(1))
            .min(height / out_height.max(1))
            .max(1);
        ScalePlan {
            in_width: width,
            in_height: height,
            factor,
            out_width,
            out_height,
            channels,
        }
    }

    fn reduced(&self) -> (u32, u32) {
        (
            self.in_width.div_ceil(self.factor),
            self.in_height.div_ceil(self.factor),
        )
    }

    /// Bytes held while rows arrive: the reduced rows at the target width (and one row of
    /// sums).
    pub fn kept_bytes(&self) -> u64 {
        let (rw, rh) = self.reduced();
        let rows = u64::from(rh) * u64::from(self.out_width) * self.channels as u64;
        rows + u64::from(rw) * self.channels as u64 * 4
    }

    /// Bytes of the scaled image.
    pub fn output_bytes(&self) -> u64 {
        u64::from(self.out_width) * u64::from(self.out_height) * self.channels as u64
    }
}

/// Scaled 8-bit pixels, grey or RGB, row after row.
#[derive(Debug)]
pub struct Pixels {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub channels: usize,
}

/// Lanczos3 taps: for each output position, the first input position and the weights.
struct Taps {
    taps: Vec<(usize, Vec<f32>)>,
}

impl Taps {
    fn new(in_len: u32, out_len: u32) -> Taps {
        let scale = f64::from(in_len) / f64::from(out_len.max(1));
        let stretch = scale.max(1.0);
        let support = 3.0 * stretch;
        let taps = (0..out_len)
            .map(|i| {
                let center = (f64::from(i) + 0.5) * scale;
                let left = ((center - support).floor().max(0.0)) as usize;
                let right = ((center + support).ceil() as usize).min(in_len as usize);
                let mut weights: Vec<f64> = (left..right)
                    .map(|j| lanczos3((j as f64 + 0.5 - center) / stretch))
                    .collect();
                let sum: f64 = weights.iter().sum();
                if sum.abs() < 1e-9 {
                    // Cannot happen for a downscale; nearest neighbour keeps it defined.
                    let nearest = (center as usize).min(in_len as usize - 1);
                    return (nearest, vec![1.0]);
                }
                weights.iter_mut().for_each(|w| *w /= sum);
                (left, weights.into_iter().map(|w| w as f32).collect())
            })
            .collect();
        Taps { taps }
    }
}

fn lanczos3(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        return 1.0;
    }
    if x.abs() >= 3.0 {
        return 0.0;
    }
    let px = std::f64::consts::PI * x;
    3.0 * px.sin() * (px / 3.0).sin() / (px * px)
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// Takes flattened rows ([`Layout::flatten_into`]) of the source, top to bottom, and keeps them
/// reduced and resampled to the target width; [`Scaler::finish`] gives the scaled image.
pub struct Scaler {
    plan: ScalePlan,
    reduced_width: u32,
    /// Sums of the current band of `factor` rows, per reduced pixel and channel.
    sums: Vec<u32>,
    band_rows: u32,
    /// Rows of the source seen so far.
    rows_seen: u32,
    horizontal: Option<Taps>,
    /// The reduced rows, each resampled to the target width.
    kept: Vec<u8>,
    kept_rows: u32,
    /// Scratch: one reduced row.
    row: Vec<u8>,
    /// Whether every pixel on the source's outermost rows and columns so far is pure white.
    border_white: bool,
}

impl Scaler {
    pub fn new(plan: ScalePlan) -> Scaler {
        let (reduced_width, reduced_height) = plan.reduced();
        let horizontal =
            (reduced_width != plan.out_width).then(|| Taps::new(reduced_width, plan.out_width));
        let mut kept = Vec::new();
        kept.reserve_exact(reduced_height as usize * plan.out_width as usize * plan.channels);
        Scaler {
            plan,
            reduced_width,
            sums: vec![0; reduced_width as usize * plan.channels],
            band_rows: 0,
            rows_seen: 0,
            horizontal,
            kept,
            kept_rows: 0,
            row: Vec::with_capacity(reduced_width as usize * plan.channels),
            border_white: true,
        }
    }

    /// Adds the next source row (`in_width` flattened pixels); rows past the declared height are
    /// ignored.
    pub fn push(&mut self, row: &[u8]) {
        let ch = self.plan.channels;
        let width = self.plan.in_width as usize;
        if self.rows_seen >= self.plan.in_height || row.len() < width * ch {
            return;
        }
        let edge = self.rows_seen == 0 || self.rows_seen + 1 == self.plan.in_height;
        if self.border_white {
            let white = |px: &[u8]| px.iter().all(|&v| v == 255);
            self.border_white = if edge {
                white(&row[..width * ch])
            } else {
                white(&row[..ch]) && white(&row[(width - 1) * ch..width * ch])
            };
        }
        self.rows_seen += 1;
        let k = self.plan.factor as usize;
        if k == 1 {
            self.row.clear();
            self.row.extend_from_slice(&row[..width * ch]);
            self.keep_row();
            return;
        }
        for (x, px) in row[..width * ch].chunks_exact(ch).enumerate() {
            let at = (x / k) * ch;
            for (c, &v) in px.iter().enumerate() {
                self.sums[at + c] += u32::from(v);
            }
        }
        self.band_rows += 1;
        if self.band_rows == self.plan.factor || self.rows_seen == self.plan.in_height {
            self.end_band();
        }
    }

    /// Turns the summed band into one reduced row.
    fn end_band(&mut self) {
        let ch = self.plan.channels;
        let k = self.plan.factor;
        let width = self.plan.in_width;
        self.row.clear();
        for rx in 0..self.reduced_width {
            // The last block of a row may be narrower than `k`.
            let columns = (width - rx * k).min(k);
            let count = columns * self.band_rows;
            for c in 0..ch {
                let at = rx as usize * ch + c;
                self.row.push(((self.sums[at] + count / 2) / count) as u8);
                self.sums[at] = 0;
            }
        }
        self.band_rows = 0;
        self.keep_row();
    }

    /// Resamples the reduced row in `self.row` to the target width and keeps it.
    fn keep_row(&mut self) {
        let ch = self.plan.channels;
        match &self.horizontal {
            None => self.kept.extend_from_slice(&self.row),
            Some(taps) => {
                for (start, weights) in &taps.taps {
                    for c in 0..ch {
                        let mut acc = 0f32;
                        for (j, w) in weights.iter().enumerate() {
                            acc += w * f32::from(self.row[(start + j) * ch + c]);
                        }
                        self.kept.push(to_u8(acc));
                    }
                }
            }
        }
        self.kept_rows += 1;
    }

    /// Whether every source pixel on the outermost rows and columns was pure white.
    pub fn border_white(&self) -> bool {
        self.border_white && self.rows_seen == self.plan.in_height
    }

    /// Rows of the source received so far.
    pub fn rows_seen(&self) -> u32 {
        self.rows_seen
    }

    /// The scaled image. Rows the source never delivered stay white.
    pub fn finish(mut self) -> Pixels {
        let ch = self.plan.channels;
        if self.band_rows > 0 {
            self.end_band();
        }
        let (_, reduced_height) = self.plan.reduced();
        let row_len = self.plan.out_width as usize * ch;
        self.kept.resize(reduced_height as usize * row_len, 255);
        let data = if reduced_height == self.plan.out_height {
            self.kept
        } else {
            let taps = Taps::new(reduced_height, self.plan.out_height);
            let mut out = Vec::with_capacity(self.plan.out_height as usize * row_len);
            let mut acc = vec![0f32; row_len];
            for (start, weights) in &taps.taps {
                acc.iter_mut().for_each(|a| *a = 0.0);
                for (j, w) in weights.iter().enumerate() {
                    let row = &self.kept[(start + j) * row_len..(start + j + 1) * row_len];
                    for (a, &v) in acc.iter_mut().zip(row) {
                        *a += w * f32::from(v);
                    }
                }
                out.extend(acc.iter().map(|&a| to_u8(a)));
            }
            out
        };
        Pixels {
            data,
            width: self.plan.out_width,
            height: self.plan.out_height,
            channels: ch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_reduce_by_whole_factors_and_never_scale_up() {
        let plan = ScalePlan::new(20_000, 20_000, Some(2_000), 1);
        assert_eq!(
            (plan.factor, plan.out_width, plan.out_height),
            (10, 2000, 2000)
        );
        assert_eq!(plan.kept_bytes(), 2000 * 2000 + 2000 * 4);
        let plan = ScalePlan::new(3000, 2000, Some(2000), 3);
        assert_eq!(
            (plan.factor, plan.out_width, plan.out_height),
            (1, 2000, 1333)
        );
        let plan = ScalePlan::new(400, 300, Some(1000), 3);
        assert_eq!(
            (plan.factor, plan.out_width, plan.out_height),
            (1, 400, 300)
        );
    }

    #[test]
    fn flat_colours_stay_flat_and_alpha_goes_white() {
        let plan = ScalePlan::new(301, 203, Some(100), 3);
        let mut scaler = Scaler::new(plan);
        let source = [10u8, 200, 30, 255].repeat(301);
        let mut row = Vec::new();
        for _ in 0..203 {
            row.clear();
            Layout::Rgba8.flatten_into(&source, 301, &mut row);
            scaler.push(&row);
        }
        assert!(!scaler.border_white());
        let out = scaler.finish();
        assert_eq!((out.width, out.height), (100, 67));
        assert!(out.data.chunks(3).all(|p| p == [10, 200, 30]));

        let mut row = Vec::new();
        Layout::La8.flatten_into(&[0, 0, 0, 255], 2, &mut row);
        assert_eq!(row, [255, 0], "transparent black is white");
        row.clear();
        Layout::L16.flatten_into(&0xABCDu16.to_ne_bytes(), 1, &mut row);
        assert_eq!(row, [0xAB]);
    }

    #[test]
    fn a_white_border_is_seen_on_the_source() {
        let plan = ScalePlan::new(10, 4, None, 1);
        let mut scaler = Scaler::new(plan);
        let white = [255u8; 10];
        let mut inner = [255u8; 10];
        inner[5] = 0;
        for row in [&white, &inner, &inner, &white] {
            scaler.push(row);
        }
        assert!(scaler.border_white());
        let out = scaler.finish();
        assert_eq!(out.data[15], 0, "unscaled pixels are kept as they are");
    }
}
