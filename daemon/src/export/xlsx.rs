//! A [`Table`] as an Excel workbook (`rust_xlsxwriter`): one sheet, `Products`, the header in
//! bold and frozen with a filter on it, numbers as numbers, every other cell as text — text is
//! stored as a string cell, never as a formula, so a page's `=…` cannot run. Excel keeps at
//! most 32,767 characters in a cell; a longer text is cut there, ending in `…`.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::{Cell, ExportError, Table};

/// Excel's limit for the characters in one cell.
const MAX_CELL_CHARS: usize = 32_767;

/// Widest column, in characters; longer texts wrap inside it.
const MAX_WIDTH: usize = 60;

/// The workbook's bytes.
pub fn workbook(table: &Table) -> Result<Vec<u8>, ExportError> {
    write(table).map_err(|e| ExportError::Workbook(e.to_string()))
}

fn write(table: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Products")?;
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let mut widths: Vec<usize> = table.header.iter().map(|h| h.chars().count()).collect();
    for (c, name) in table.header.iter().enumerate() {
        sheet.write_string_with_format(0, col(c), name, &bold)?;
    }
    for (r, cells) in table.rows.iter().enumerate() {
        let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, cell) in cells.iter().enumerate() {
            let text = cell.text();
            if text.is_empty() {
                continue;
            }
            let longest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(longest);
            }
            match cell {
                Cell::Number(n) if n.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
                    let value: f64 = n.trim().parse().unwrap_or_default();
                    let places = n.trim().split_once('.').map_or(0, |(_, d)| d.len());
                    let format = Format::new().set_num_format(if places == 0 {
                        "0".to_string()
                    } else {
                        format!("0.{}", "0".repeat(places.min(10)))
                    });
                    sheet.write_number_with_format(row, col(c), value, &format)?;
                }
                _ if text.contains('\n') => {
                    sheet.write_string_with_format(row, col(c), fit(text), &wrap)?;
                }
                _ => {
                    sheet.write_string(row, col(c), fit(text))?;
                }
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(col(c), (*w).clamp(6, MAX_WIDTH) as f64 + 1.0)?;
    }
    if !table.header.is_empty() {
        let last_row = u32::try_from(table.rows.len()).unwrap_or(u32::MAX);
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofilter(0, 0, last_row, col(table.header.len() - 1))?;
    }
    book.save_to_buffer()
}

/// A column number as the workbook counts them (tables are far narrower than Excel's 16,384).
fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// The text, cut to what one cell holds.
fn fit(text: &str) -> String {
    if text.chars().count() <= MAX_CELL_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_CELL_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use crate::export::tests::{bare, tee};
    use crate::export::{Format as ExportFormat, plain, render};

    #[test]
    fn the_workbook_opens_with_calamine_and_holds_the_table() {
        let mut long = tee();
        long.facts.description = Some("x".repeat(40_000));
        long.facts.brand = Some("=HYPERLINK(\"http://evil.example\")".into());
        let products = [long, bare()];
        let bytes = render(ExportFormat::Xlsx, &products).unwrap();
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("an xlsx file");
        assert_eq!(book.sheet_names(), ["Products"]);
        let range = book.worksheet_range("Products").unwrap();
        let table = plain::table(&products);
        assert_eq!(range.height(), table.rows.len() + 1);
        let header: Vec<String> = range
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(header, plain::HEADER);
        let at = |r: usize, name: &str| {
            range
                .get((r, table.column(name)))
                .cloned()
                .unwrap_or(Data::Empty)
        };
        assert_eq!(at(1, "name"), Data::String("Linen Tee".into()));
        assert_eq!(at(1, "price"), Data::Float(39.0), "a number");
        assert_eq!(at(1, "job"), Data::Float(7.0));
        assert_eq!(
            at(1, "brand"),
            Data::String("=HYPERLINK(\"http://evil.example\")".into()),
            "text, not a formula"
        );
        assert!(
            book.worksheet_formula("Products")
                .unwrap()
                .used_cells()
                .next()
                .is_none(),
            "no formulas anywhere"
        );
        let Data::String(description) = at(1, "description") else {
            panic!("the description is text");
        };
        assert_eq!(description.chars().count(), MAX_CELL_CHARS);
        assert!(description.ends_with('…'));
        assert_eq!(
            at(1, "image_files"),
            Data::String("01-main.jpg\n02.jpg\nvariant/sand.jpg\nvariant/moss.jpg".into())
        );
        assert_eq!(at(4, "row"), Data::String("variant".into()));
        assert_eq!(at(4, "price"), Data::Float(42.0));
        assert_eq!(at(5, "name"), Data::String("things".into()));
        assert_eq!(at(5, "price"), Data::Empty, "absent stays empty");
    }
}
