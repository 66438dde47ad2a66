//! Text files as spreadsheet programs save them: UTF-8 with or without a byte-order mark,
//! UTF-16 (Excel's "Unicode text") and Windows-1252 (Excel's "CSV" on Western Windows) — and
//! CSV rows split by whichever of `,`, `;` or tab the header uses (`;` where the decimal
//! separator is a comma).

use encoding_rs::{Encoding, WINDOWS_1252};

/// Decodes `bytes`: a byte-order mark decides; else valid UTF-8 is UTF-8; else Windows-1252.
pub fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return encoding
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The delimiter of a CSV whose first line is `header`.
fn delimiter(header: &str) -> u8 {
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

/// The rows of a CSV text (the header first), each with its 1-based line number. Cells are
/// trimmed; ragged rows are kept as they are (the caller reports missing cells). More than
/// `max_rows` rows with text are refused as soon as the next one is read, so a file of a million
/// short rows never becomes a million rows in memory.
pub fn csv_rows(text: &str, max_rows: usize) -> Result<Vec<(usize, Vec<String>)>, String> {
    let header = text.lines().next().unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(header))
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // Newlines before `counted_to`, counted once as the records go forward (not from the start
    // for every record: that was quadratic in the file's size).
    let (mut counted_to, mut newlines) = (0usize, 0usize);
    for record in reader.records() {
        let record = record.map_err(|e| format!("the CSV cannot be read: {e}"))?;
        // The reader's line count skips blank lines; its byte offset (which points before the
        // blank lines ahead of the record) does not.
        let line = record.position().map_or(rows.len() + 1, |p| {
            let mut start = (p.byte() as usize).min(text.len());
            while matches!(text.as_bytes().get(start), Some(b'\n' | b'\r')) {
                start += 1;
            }
            if start >= counted_to {
                newlines += memchr::memchr_iter(b'\n', &text.as_bytes()[counted_to..start]).count();
                counted_to = start;
            }
            newlines + 1
        });
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if rows.len() == max_rows {
            return Err(too_many_rows(max_rows));
        }
        rows.push((line, cells));
    }
    Ok(rows)
}

/// Why a table with more than `max_rows` rows is refused.
pub fn too_many_rows(max_rows: usize) -> String {
    format!("it has more than {max_rows} rows; haul reads up to {max_rows} at a time — split it")
}

/// A header cell made comparable: lower case, BOM, spaces, dashes and dots folded to `_`
/// (`Main Image URL` → `main_image_url`).
pub fn header_key(cell: &str) -> String {
    let mut key = String::new();
    for c in cell.trim_start_matches('\u{feff}').trim().chars() {
        if c.is_alphanumeric() {
            key.extend(c.to_lowercase());
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
    }
    key.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_a_spreadsheet_saves() {
        let text = "file;sku;slot\nfoto-é.jpg;ABC;MAIN\n";
        let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
        utf8_bom.extend_from_slice(text.as_bytes());
        let mut utf16le = vec![0xFF, 0xFE];
        utf16le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut utf16be = vec![0xFE, 0xFF];
        utf16be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        let (cp1252, _, _) = WINDOWS_1252.encode(text);
        assert!(std::str::from_utf8(&cp1252).is_err());
        for bytes in [text.as_bytes(), &utf8_bom, &utf16le, &utf16be, &cp1252] {
            assert_eq!(decode(bytes), text);
        }
        let rows = csv_rows(&decode(&utf16le), 10).unwrap();
        assert_eq!(
            rows[1],
            (2, vec!["foto-é.jpg".into(), "ABC".into(), "MAIN".into()])
        );
    }

    #[test]
    fn delimiters_and_headers_vary() {
        let rows = csv_rows("SKU\tMain Image URL\n\nA1\thttps://x/a.jpg\n", 2).unwrap();
        assert_eq!(rows.len(), 2);
        let err = csv_rows("SKU\tMain Image URL\n\nA1\thttps://x/a.jpg\n", 1).unwrap_err();
        assert!(err.contains("more than 1 rows"), "{err}");
        assert_eq!(rows[1].0, 3, "line numbers count blank lines");
        assert_eq!(header_key(" Main Image-URL "), "main_image_url");
        assert_eq!(header_key("\u{feff}SKU"), "sku");
        assert_eq!(header_key("other_image_url1"), "other_image_url1");
    }
}
