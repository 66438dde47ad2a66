//! The cells of a spreadsheet dropped into the inbox, as text rows with the row numbers the
//! seller sees: a CSV (decoded by [`super::text`], whatever program saved it) or an `.xlsx`
//! workbook (read with calamine, every sheet, so a template whose data is not on the first sheet
//! still works).
//!
//! An `.xlsx` is a ZIP of XML: a small file can declare gigabytes of XML, or one cell far away
//! from the others. The declared sizes of its parts are checked against [`MAX_XLSX_UNPACKED`]
//! before calamine opens it, and its cells are read one by one, never as a dense grid.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::text;

/// Most bytes the parts of an `.xlsx` may declare, unpacked.
const MAX_XLSX_UNPACKED: u64 = 256 << 20;
/// Most filled cells read from a workbook (a 10,000-product flat file has about a million).
const MAX_CELLS: usize = 2_000_000;
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
        rows: text::csv_rows(&text::decode(bytes))?,
    })
}

/// The sheets of an `.xlsx` file's bytes, in workbook order; rows without any text are left out.
///
/// Cells are read one by one and only the ones holding something are kept: a workbook with a
/// cell in A1 and one in XFD1048576 is two cells here, not the 17-billion-cell grid a dense
/// range of it would allocate.
pub fn xlsx(bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    check_unpacked_size(bytes)?;
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

/// Refuses a workbook whose parts declare more than [`MAX_XLSX_UNPACKED`] bytes unpacked.
fn check_unpacked_size(bytes: &[u8]) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        format!("it is not an Excel workbook ({e}); save it again as .xlsx or .csv")
    })?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let part = archive
            .by_index_raw(i)
            .map_err(|e| format!("the workbook is damaged ({e}); save it again"))?;
        total = total.saturating_add(part.size());
    }
    if total > MAX_XLSX_UNPACKED {
        return Err(format!(
            "the workbook unpacks to {total} bytes, more than the {MAX_XLSX_UNPACKED} haul reads; split it or save it as .csv"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
