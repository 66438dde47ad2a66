//! The cells of a spreadsheet dropped into the inbox, as text rows with the row numbers the
//! seller sees: a CSV (decoded by [`super::text`], whatever program saved it) or an `.xlsx`
//! workbook (read with calamine, every sheet, so a template whose data is not on the first sheet
//! still works).
//!
//! An `.xlsx` is a ZIP of XML: a small file can declare gigabytes of XML. The declared sizes of
//! its parts are checked against [`MAX_XLSX_UNPACKED`] before calamine opens it.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::text;

/// Most bytes the parts of an `.xlsx` may declare, unpacked.
const MAX_XLSX_UNPACKED: u64 = 256 << 20;

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
pub fn xlsx(bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    check_unpacked_size(bytes)?;
    let not_xlsx = |e: calamine::XlsxError| {
        format!("it is not an Excel workbook haul can read ({e}); save it again as .xlsx or .csv")
    };
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(not_xlsx)?;
    let mut sheets = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).map_err(not_xlsx)?;
        let first_row = range.start().map_or(0, |(row, _)| row as usize);
        let rows = range
            .rows()
            .enumerate()
            .filter_map(|(i, cells)| {
                let cells: Vec<String> = cells.iter().map(cell_text).collect();
                (!cells.iter().all(String::is_empty)).then_some((first_row + i + 1, cells))
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
