//! Bounded decoding and conversion (the converting presets): any bytes convert or fail with a
//! typed error, within the conversion budget.
#![no_main]

use haul::format::Format;
use haul::process::convert::{can_convert, convert};
use haul::process::preset::{ConvertSpec, OutputFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(format) = Format::detect(data).filter(|f| can_convert(*f)) else {
        return;
    };
    let spec = ConvertSpec {
        name: "fuzz".into(),
        format: OutputFormat::Jpeg,
        quality: 80,
        max_side: Some(64),
        min_side: None,
        check_white_border: true,
    };
    if let Ok(out) = convert(data, format, &spec, true) {
        assert!(out.width <= 64 && out.height <= 64);
    }
});
