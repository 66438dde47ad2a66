//! The readers of JSON and JavaScript strings embedded in pages, at every position a marker
//! could leave them.
#![no_main]

use haul::extract::embedded;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let starts: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| matches!(c, '{' | '[' | '"' | '\''))
        .map(|(i, _)| i)
        .take(64)
        .collect();
    for start in starts {
        if let Some(end) = embedded::balanced_end(&text, start) {
            assert!(end <= text.len());
        }
        if let Some((_, end)) = embedded::json_at(&text, start) {
            assert!(end <= text.len());
        }
        let _ = embedded::js_string_at(&text, start);
    }
    let _ = embedded::json_string_values(&text, "url");
});
