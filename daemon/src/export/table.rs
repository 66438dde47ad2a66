//! The one shape every export takes before it is written: a header and rows of cells. The CSV
//! is written by `manifest.csv`'s own writer ([`crate::package::push_csv_row`]: RFC 4180
//! quoting, and a `'` before a leading `=`, `+`, `-` or `@` so a spreadsheet never runs a page's
//! text as a formula — WooCommerce's importer takes that `'` off again, as its own exporter
//! writes it); the workbook by [`super::xlsx`].

/// A table: what a sheet holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A number as written (`"39.00"`): a number in a workbook, the same text in CSV.
    Number(String),
}

impl Cell {
    /// The cell as text.
    pub fn text(&self) -> &str {
        match self {
            Cell::Text(t) | Cell::Number(t) => t,
        }
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Cell {
        Cell::Text(s.unwrap_or_default())
    }
}

impl From<Option<&String>> for Cell {
    fn from(s: Option<&String>) -> Cell {
        Cell::Text(s.cloned().unwrap_or_default())
    }
}

impl Table {
    /// An empty table with these column names.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Where column `name` is. Columns are named by the formats' own code, so a name that is
    /// not in the header is a bug, caught by each format's tests.
    pub fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name:?} in the export's header"))
    }

    /// A row of empty cells, to fill by column name with [`Row::set`].
    pub fn row(&self) -> Row<'_> {
        Row {
            table: self,
            cells: vec![Cell::Text(String::new()); self.header.len()],
        }
    }

    /// The table as CSV (CRLF line ends, UTF-8, no byte-order mark).
    pub fn csv(&self) -> Vec<u8> {
        let mut out = String::new();
        crate::package::push_csv_row(&mut out, &self.header);
        for row in &self.rows {
            let fields: Vec<String> = row.iter().map(|c| c.text().to_string()).collect();
            crate::package::push_csv_row(&mut out, &fields);
        }
        out.into_bytes()
    }
}

/// A row being filled.
pub struct Row<'t> {
    table: &'t Table,
    cells: Vec<Cell>,
}

impl Row<'_> {
    /// Sets the cell of column `name`.
    pub fn set(&mut self, name: &str, value: impl Into<Cell>) -> &mut Self {
        let at = self.table.column(name);
        self.cells[at] = value.into();
        self
    }

    pub fn cells(self) -> Vec<Cell> {
        self.cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_is_quoted_and_formula_safe() {
        let mut t = Table::new(&["a", "b, c"]);
        let mut row = t.row();
        row.set("a", "=HYPERLINK(\"x\")")
            .set("b, c", Cell::Number("-1".into()));
        let cells = row.cells();
        t.rows.push(cells);
        assert_eq!(
            String::from_utf8(t.csv()).unwrap(),
            "a,\"b, c\"\r\n\"'=HYPERLINK(\"\"x\"\")\",'-1\r\n"
        );
    }
}
