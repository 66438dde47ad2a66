//! The inbox's reader of dropped `.txt` files, on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("haul-fuzz-inbox-txt-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let _ = haul::input::readers::file(&dir, "dropped.txt", data);
});
