//! The metadata strippers (JPEG, PNG, WebP): any bytes are cleaned or refused, and what is
//! cleaned is no larger than the input and cleans to itself again.
#![no_main]

use bytes::Bytes;
use haul::format::Format;
use haul::process::strip::{StripOptions, strip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, image)) = data.split_first() else {
        return;
    };
    let format = [Format::Jpeg, Format::Png, Format::Webp][usize::from(pick) % 3];
    let options = StripOptions {
        strip_icc: pick & 0x80 != 0,
    };
    if let Ok(stripped) = strip(format, Bytes::copy_from_slice(image), options) {
        let once: Vec<u8> = stripped.pieces().concat();
        assert!(once.len() <= image.len() + 64, "cleaning only removes");
        if let Ok(again) = strip(format, Bytes::from(once.clone()), options) {
            assert_eq!(
                again.pieces().concat(),
                once,
                "cleaning twice changes nothing"
            );
        }
    }
});
