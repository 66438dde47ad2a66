//! Every extractor on arbitrary HTML: the first byte picks the address the page claims (each
//! site's example, a platform store's, or none), the rest is the page.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, page)) = data.split_first() else {
        return;
    };
    let html = String::from_utf8_lossy(page);
    let sites = haul::extract::sites();
    let url = match usize::from(pick) % (sites.len() + 2) {
        i if i < sites.len() => Some(sites[i].example),
        i if i == sites.len() => Some("https://shop.example/products/thing"),
        _ => None,
    };
    let found = haul::extract::extract(&html, url);
    assert!(found.media.len() <= haul::extract::MAX_ITEMS);
});
