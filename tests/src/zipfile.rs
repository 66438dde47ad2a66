//! Reading haul's ZIPs back for assertions.

use std::io::Read;
use std::path::Path;

/// One entry: its name and bytes.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    pub name: String,
    pub data: Vec<u8>,
    pub stored: bool,
}

/// Every entry of the ZIP at `path`, in archive order.
pub fn read_zip(path: &Path) -> Vec<ZipEntry> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut archive = zip::ZipArchive::new(file)
        .unwrap_or_else(|e| panic!("read {} as ZIP: {e}", path.display()));
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).expect("ZIP entry");
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("read ZIP entry");
            ZipEntry {
                name: entry.name().map(|n| n.to_string()).unwrap_or_default(),
                data,
                stored: entry.compression() == zip::CompressionMethod::Stored,
            }
        })
        .collect()
}

/// The parsed `manifest.json` of a haul ZIP.
pub fn manifest(entries: &[ZipEntry]) -> serde_json::Value {
    let m = entries
        .iter()
        .find(|e| e.name == "manifest.json")
        .expect("manifest.json in the ZIP");
    serde_json::from_slice(&m.data).expect("manifest.json is JSON")
}

/// The source URL of every file a manifest lists, in package order.
pub fn saved_urls(manifest: &serde_json::Value) -> Vec<&str> {
    urls_of(manifest, "files")
}

/// The source URL of every item a manifest lists as not saved (`failed`), in order.
pub fn failed_urls(manifest: &serde_json::Value) -> Vec<&str> {
    urls_of(manifest, "failed")
}

fn urls_of<'a>(manifest: &'a serde_json::Value, list: &str) -> Vec<&'a str> {
    manifest[list]
        .as_array()
        .unwrap_or_else(|| panic!("manifest.json has its {list:?} list"))
        .iter()
        .filter_map(|f| f["url"].as_str())
        .collect()
}

/// A ZIP's bytes with every entry's date set to zero (in its local header and its central
/// directory record), and the one date all entries had, so that packages of two jobs — dated
/// when each was made — compare byte for byte.
pub fn undated(zip: &[u8]) -> (Vec<u8>, Option<zip::DateTime>) {
    let mut out = zip.to_vec();
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("the package reads as a ZIP");
    let mut dates = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).expect("ZIP entry");
        dates.push(entry.last_modified());
        // Modification time and date: bytes 10–13 of a local header, 12–15 of a central record.
        for at in [entry.header_start() + 10, entry.central_header_start() + 12] {
            let at = usize::try_from(at).expect("offset");
            out[at..at + 4].fill(0);
        }
    }
    dates.dedup();
    assert_eq!(dates.len(), 1, "every entry has the job's date: {dates:?}");
    (out, dates[0])
}
