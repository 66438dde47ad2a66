//! The inbox's reader of a seller folder's `skus.csv`, on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("haul-fuzz-inbox-skus-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let _ = haul::input::readers::seller_folder(&dir, data);
});
