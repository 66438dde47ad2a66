//! The cells of a spreadsheet dropped into the inbox, as text rows with the row numbers the
//! seller sees: a CSV (decoded by [`super::text`], whatever program saved it) or an `.xlsx`
//! workbook (read with calamine, every sheet, so a template whose data is not on the first sheet
//! still works).
//!
//! An `.xlsx` is a ZIP of XML: a small file can unpack to gigabytes of XML — its ZIP directory
//! can even state small sizes and lie (a 2 MB workbook did, and took 2.64 GB) — or hold one cell
//! far away from the others. So before calamine opens it, every part is unpacked into nothing and
//! the bytes *actually* produced are counted against [`MAX_XLSX_UNPACKED`] (and the shared
//! strings, which calamine holds whole, against [`MAX_SHARED_STRINGS`]), whatever the directory
//! says; then its cells are read one by one, never as a dense grid, up to [`MAX_CELLS`] and
//! [`MAX_ROWS`]. A CSV is refused at its row after [`MAX_ROWS`], while it is read.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};

use super::text;

/// Most bytes the parts of an `.xlsx` may unpack to, together (counted, not declared).
const MAX_XLSX_UNPACKED: u64 = 64 << 20;
/// Most bytes the shared strings part may unpack to (calamine keeps every string in memory).
const MAX_SHARED_STRINGS: u64 = 16 << 20;
/// Most filled cells read from a workbook (a 5,000-product flat file fills about 300,000).
const MAX_CELLS: usize = 600_000;
/// Most product rows a spreadsheet may hold (each becomes a job).
pub const MAX_PRODUCT_ROWS: usize = 10_000;
/// How far down a sheet its header row is looked for (Amazon's flat files have rows of
/// instructions above it).
pub const HEADER_SEARCH_ROWS: usize = 20;
/// Most rows with text read from one sheet or CSV: the product rows a sheet may hold under a
/// header as far down as it is looked for.
pub const MAX_ROWS: usize = MAX_PRODUCT_ROWS + HEADER_SEARCH_ROWS;
/// Columns read per row (Amazon's flat files have a few hundred).
const MAX_COLUMNS: u32 = 2_048;

/// One row: its 1-based number as the spreadsheet program shows it, and its cells, trimmed.
pub type Row = (usize, Vec<String>);

/// One sheet of a workbook (a CSV is one sheet without a name).
pub struct Sheet {
    pub name: Option<String>,
    pub rows: Vec<Row>,
}

/// The rows of a CSV file's bytes.
pub fn csv(bytes: &[u8]) -> Result<Sheet, String> {
    Ok(Sheet {
        name: None,
        rows: text::csv_rows(&text::decode(bytes), MAX_ROWS)?,
    })
}

/// The sheets of an `.xlsx` file's bytes, in workbook order; rows without any text are left out.
///
/// Cells are read one by one and only the ones holding something are kept: a workbook with a
/// cell in A1 and one in XFD1048576 is two cells here, not the 17-billion-cell grid a dense
/// range of it would allocate.
pub fn xlsx(bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    check_unpacked_size(bytes, MAX_XLSX_UNPACKED, MAX_SHARED_STRINGS)?;
    let not_xlsx = |e: calamine::XlsxError| {
        format!("it is not an Excel workbook haul can read ({e}); save it again as .xlsx or .csv")
    };
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(not_xlsx)?;
    let mut sheets = Vec::new();
    let mut cells_read = 0usize;
    for name in workbook.sheet_names() {
        let mut reader = match workbook.worksheet_cells_reader(&name) {
            Ok(reader) => reader,
            // A chart sheet or a macro sheet: nothing to read there.
            Err(calamine::XlsxError::NotAWorksheet(_)) => continue,
            Err(e) => return Err(not_xlsx(e)),
        };
        let mut rows: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
        while let Some(cell) = reader.next_cell().map_err(not_xlsx)? {
            let text = cell_text(&Data::from(cell.get_value().clone()));
            if text.is_empty() {
                continue;
            }
            let (row, column) = cell.get_position();
            if column >= MAX_COLUMNS {
                return Err(format!(
                    "sheet {name:?} has text in column {} of row {}; haul reads the first {MAX_COLUMNS} columns — delete what is beyond them or save the sheet as .csv",
                    column + 1,
                    row + 1
                ));
            }
            cells_read += 1;
            if cells_read > MAX_CELLS {
                return Err(format!(
                    "the workbook has more than {MAX_CELLS} filled cells; split it into smaller files"
                ));
            }
            if rows.len() == MAX_ROWS && !rows.contains_key(&row) {
                return Err(format!("sheet {name:?}: {}", text::too_many_rows(MAX_ROWS)));
            }
            rows.entry(row).or_default().push((column, text));
        }
        let rows = rows
            .into_iter()
            .map(|(row, cells)| {
                let width = cells
                    .iter()
                    .map(|(c, _)| *c as usize + 1)
                    .max()
                    .unwrap_or(0);
                let mut line = vec![String::new(); width];
                for (column, text) in cells {
                    line[column as usize] = text;
                }
                (row as usize + 1, line)
            })
            .collect();
        sheets.push(Sheet {
            name: Some(name),
            rows,
        });
    }
    Ok(sheets)
}

/// A cell as the seller typed it: numbers without a trailing `.0` (a numeric SKU stays `12345`).
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        other => other.to_string().trim().to_string(),
    }
}

/// Refuses a workbook whose parts unpack to more than [`MAX_XLSX_UNPACKED`] bytes (or whose
/// shared strings unpack to more than [`MAX_SHARED_STRINGS`]), counting what the decompressor
/// produces — a ZIP directory's sizes are the workbook's own claim. Each part is unpacked
/// through a small buffer and dropped, so checking costs time, not memory.
fn check_unpacked_size(bytes: &[u8], max_total: u64, max_shared: u64) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        format!("it is not an Excel workbook ({e}); save it again as .xlsx or .csv")
    })?;
    let damaged =
        |e: &dyn std::fmt::Display| format!("the workbook is damaged ({e}); save it again");
    let too_large = || {
        format!(
            "the workbook unpacks to more than the {} MiB haul reads; split it or save it as .csv",
            max_total >> 20
        )
    };
    let mut total = 0u64;
    for i in 0..archive.len() {
        let part = archive.by_index(i).map_err(|e| damaged(&e))?;
        let shared_strings = part
            .name()
            .is_ok_and(|name| name.eq_ignore_ascii_case("xl/sharedStrings.xml"));
        let allowed = if shared_strings {
            max_shared.min(max_total - total)
        } else {
            max_total - total
        };
        let unpacked = std::io::copy(&mut part.take(allowed + 1), &mut std::io::sink())
            .map_err(|e| damaged(&e))?;
        if unpacked > allowed {
            if shared_strings && allowed == max_shared {
                return Err(format!(
                    "its shared strings unpack to more than the {} MiB haul reads; split it or save it as .csv",
                    max_shared >> 20
                ));
            }
            return Err(too_large());
        }
        total += unpacked;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workbook of `cells` filled cells, ten to a row.
    fn workbook(cells: u32) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for i in 0..cells {
            sheet
                .write_number(i / 10, (i % 10) as u16, f64::from(i))
                .unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    /// The same workbook, its ZIP directory stating every part as 100 bytes.
    fn lying_workbook(cells: u32) -> Vec<u8> {
        let mut bytes = workbook(cells);
        let mut at = 0;
        while let Some(found) = bytes[at..].windows(4).position(|w| w == b"PK\x01\x02") {
            let entry = at + found;
            bytes[entry + 24..entry + 28].copy_from_slice(&100u32.to_le_bytes());
            at = entry + 4;
        }
        bytes
    }

    #[test]
    fn a_workbook_is_measured_by_what_it_unpacks_to_not_what_it_says() {
        let bytes = lying_workbook(40_000);
        assert!(bytes.len() < 400_000, "{}", bytes.len());
        // Every part claims 100 bytes; the sheet really unpacks to about a megabyte. The lie is
        // found as the part unpacks past what it said, long before the cap.
        let err = check_unpacked_size(&bytes, 64 << 20, 16 << 20).unwrap_err();
        assert!(err.contains("larger than its declared"), "{err}");
        // The same sheet, honest, is measured against the cap as it unpacks.
        let honest = workbook(40_000);
        let err = check_unpacked_size(&honest, 512 << 10, 512 << 10).unwrap_err();
        assert!(err.contains("unpacks to more than"), "{err}");
        check_unpacked_size(&honest, 64 << 20, 16 << 20).unwrap();
    }

    #[test]
    fn rows_past_the_cap_are_refused_while_reading() {
        let mut csv_text = String::from("sku,main_image_url\n");
        for i in 0..=MAX_ROWS {
            csv_text.push_str(&format!("S{i},https://media.test/{i}.jpg\n"));
        }
        let err = csv(csv_text.as_bytes()).err().unwrap();
        assert!(err.contains("more than 10020 rows"), "{err}");

        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for row in 0..=MAX_ROWS as u32 {
            sheet.write_string(row, 0, "x").unwrap();
        }
        let err = xlsx(&book.save_to_buffer().unwrap()).err().unwrap();
        assert!(err.contains("more than 10020 rows"), "{err}");
    }

    #[test]
    fn a_far_away_cell_is_one_cell_not_a_grid() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "sku").unwrap();
        sheet.write_string(0, 1, "main_image_url").unwrap();
        sheet.write_number(1, 0, 12345.0).unwrap();
        sheet
            .write_string(1, 1, "https://media.test/a.jpg")
            .unwrap();
        // The last cell Excel has: a dense range of this sheet would be 17 billion cells.
        sheet.write_string(1_048_575, 2_000, "far").unwrap();
        let bytes = book.save_to_buffer().unwrap();

        let sheets = xlsx(&bytes).unwrap();
        let rows = &sheets[0].rows;
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            (1, vec!["sku".to_string(), "main_image_url".into()])
        );
        assert_eq!(
            rows[1],
            (
                2,
                vec!["12345".to_string(), "https://media.test/a.jpg".into()]
            )
        );
        assert_eq!(rows[2].0, 1_048_576, "the row number Excel shows");
        assert_eq!(rows[2].1.len(), 2_001);

        let mut book = rust_xlsxwriter::Workbook::new();
        book.add_worksheet()
            .write_string(3, MAX_COLUMNS as u16, "too far")
            .unwrap();
        let err = xlsx(&book.save_to_buffer().unwrap()).err().unwrap();
        assert!(err.contains("column 2049 of row 4"), "{err}");
    }
}
