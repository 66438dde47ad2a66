//! The frame codec: any byte stream is read as frames (length, cap, body) without panicking,
//! and every frame read writes back to the same bytes.
#![no_main]

use haul_protocol::frame::{MAX_FROM_BROWSER, read_frame, write_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A small cap as well as the real one, so "too large" is reached too.
    for limit in [64, MAX_FROM_BROWSER] {
        let mut reader = data;
        while let Ok(Some(body)) = read_frame(&mut reader, limit) {
            let mut again = Vec::new();
            write_frame(&mut again, &body, limit).expect("a frame read can be written");
            let back = read_frame(&mut again.as_slice(), limit)
                .expect("a written frame can be read")
                .expect("one frame");
            assert_eq!(back, body);
        }
    }
});
