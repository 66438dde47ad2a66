//! The HLS playlist reader: any text parses to a playlist or a typed error, and every address
//! it yields is absolute.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(base) = url::Url::parse("https://media.test/v/master.m3u8") else {
        return;
    };
    let _ = haul::fetch::playlist::is_playlist(data);
    let _ = haul::fetch::playlist::parse(data, &base);
});
