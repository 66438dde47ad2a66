//! A spreadsheet of SKUs and image URLs (`.csv` or `.xlsx`) into one job per row, each named
//! for Seller Central's bulk image upload (`amazon-upload`: `SKU.MAIN.jpg`, `SKU.PT01.jpg`, …,
//! `SKU.SWCH.jpg`) and processed with the config's `seller_preset`.
//!
//! The columns are found by their header: a `sku` column (`sku`, `seller_sku`, `item_sku`,
//! `asin`, Amazon's `contribution_sku…`) and image URL columns — Amazon's flat-file
//! `main_image_url`, `other_image_url1`…`8`, `swatch_image_url` (and the newer templates'
//! `main_product_image_locator…`, `other_product_image_locator_N…`,
//! `swatch_product_image_locator…`), or plain `image_url`, `image1`, `image_2`, …. Amazon's
//! templates put explanation rows above the header and a second header row (labels, then
//! attribute names) — so the header is the first row, within the first [`HEADER_SEARCH_ROWS`],
//! that names a SKU column and an image URL column, and rows after it that are headers too are
//! skipped.
//!
//! Every row is checked on its own: a row without a SKU, with a SKU Seller Central refuses, with
//! no image URL or with a cell that is not an http(s) URL is reported by its row number and left
//! out whole (its other images would otherwise land in the wrong slots); the other rows run.

use std::collections::HashMap;

use super::reading::{Context, InputError, Reading, package_name};
use super::table::{HEADER_SEARCH_ROWS, MAX_PRODUCT_ROWS, Row, Sheet};
use crate::jobs::Submission;
use crate::media::Role;
use crate::naming::{self, Naming};
use crate::request::RequestedMedia;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    Sku,
    Main,
    /// One of Amazon's other-image columns, by its number in the header (`other_image_url3`
    /// → 3): Seller Central's `PT03`.
    Other(u32),
    /// A plainly numbered image column (`image3`, `image_url_3`): an other image, in the order
    /// of the numbers.
    Numbered(u32),
    Swatch,
}

impl Column {
    /// The Seller Central code the column's image keeps: Amazon's `other_image_url5` is `PT05`,
    /// whatever columns before it are empty — so a row that fills only `other_image_url3`
    /// replaces PT03, not the main image. `MAIN` and `SWCH` follow from the role; plainly
    /// numbered columns take the free `PTnn` in order.
    fn code(self) -> Option<String> {
        match self {
            Column::Other(n) if (1..=99).contains(&n) => Some(format!("PT{n:02}")),
            _ => None,
        }
    }

    /// The column a header cell names, if any.
    fn of(cell: &str) -> Option<Column> {
        let key = super::text::header_key(cell);
        let key = key.as_str();
        if ["sku", "seller_sku", "item_sku", "asin", "sku_asin"].contains(&key)
            || key.starts_with("contribution_sku")
        {
            return Some(Column::Sku);
        }
        if [
            "main_image_url",
            "main_image",
            "image_url",
            "main_image_link",
        ]
        .contains(&key)
            || key.starts_with("main_product_image_locator")
        {
            return Some(Column::Main);
        }
        if ["swatch_image_url", "swatch_image"].contains(&key)
            || key.starts_with("swatch_product_image_locator")
        {
            return Some(Column::Swatch);
        }
        [
            ("other_product_image_locator", true),
            ("other_image_url", true),
            ("other_image", true),
            ("image_url", false),
            ("image", false),
        ]
        .iter()
        .find_map(|(prefix, amazon)| key.strip_prefix(prefix).map(|rest| (rest, *amazon)))
        .and_then(|(rest, amazon)| {
            let rest = rest.trim_start_matches('_');
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let after = &rest[digits.len()..];
            // `other_product_image_locator_1_marketplace_id_…` carries more after the number.
            let n: u32 = (after.is_empty() || after.starts_with('_'))
                .then(|| digits.parse().ok())
                .flatten()?;
            Some(if amazon {
                Column::Other(n)
            } else {
                Column::Numbered(n)
            })
        })
    }
}

/// Where the columns are: `(index, column)` pairs of a header row.
struct Header {
    columns: Vec<(usize, Column)>,
    sku: usize,
}

impl Header {
    /// The header `cells` make, if they name a SKU column and an image URL column.
    fn find(cells: &[String]) -> Option<Header> {
        let columns: Vec<(usize, Column)> = cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Column::of(c).map(|col| (i, col)))
            .collect();
        let sku = columns.iter().find(|(_, c)| *c == Column::Sku)?.0;
        columns
            .iter()
            .any(|(_, c)| *c != Column::Sku)
            .then_some(Header { columns, sku })
    }
}

/// The jobs of the sheets' rows (the first sheet with a header is read), and the rows that
/// cannot be used.
pub fn read(sheets: Vec<Sheet>, context: &Context<'_>) -> Result<Reading, InputError> {
    let found = sheets.into_iter().find_map(|sheet| {
        let at = sheet
            .rows
            .iter()
            .take(HEADER_SEARCH_ROWS)
            .position(|(_, cells)| Header::find(cells).is_some())?;
        let header = Header::find(&sheet.rows[at].1)?;
        Some((sheet, at, header))
    });
    let Some((mut sheet, at, header)) = found else {
        return Err(InputError::Sheet(format!(
            "no header row with a sku (or asin) column and image URL columns (main_image_url, other_image_url1…) in its first {HEADER_SEARCH_ROWS} rows"
        )));
    };
    // Taken out of the sheet, so each row is freed as soon as it has become its job.
    let rows: Vec<Row> = sheet
        .rows
        .drain(at + 1..)
        .filter(|(_, cells)| Header::find(cells).is_none())
        .collect();
    drop(sheet.rows);
    if rows.len() > MAX_PRODUCT_ROWS {
        return Err(InputError::Sheet(format!(
            "it has {} product rows; haul reads up to {MAX_PRODUCT_ROWS} at a time — split it",
            rows.len()
        )));
    }
    let base = package_name(context.name);
    let where_ = |line: usize| match &sheet.name {
        Some(name) => format!("sheet {name:?} row {line}"),
        None => format!("row {line}"),
    };
    let mut reading = Reading::default();
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    for (line, cells) in rows {
        match product(&header, &cells) {
            Ok((sku, media)) => {
                if let Some(first) = first_row_of.get(&sku) {
                    reading.problems.push(format!(
                        "{}: SKU {sku} is already on row {first}; left out",
                        where_(line)
                    ));
                    continue;
                }
                first_row_of.insert(sku.clone(), line);
                reading.submissions.push(Submission {
                    media,
                    name: Some(format!("{base}-{sku}")),
                    preset: Some(context.config.seller_preset.clone()),
                    naming: Some(Naming::AmazonUpload),
                    sku: Some(sku),
                    ..Default::default()
                });
            }
            Err(problem) => reading
                .problems
                .push(format!("{}: {problem}; the row is left out", where_(line))),
        }
    }
    Ok(reading)
}

/// One row's SKU and its images (main first, others by their number, swatch last).
fn product(header: &Header, cells: &[String]) -> Result<(String, Vec<RequestedMedia>), String> {
    let cell = |i: usize| cells.get(i).map_or("", String::as_str);
    let raw_sku = cell(header.sku);
    if raw_sku.is_empty() {
        return Err("there is no SKU".to_string());
    }
    let sku = naming::amazon_identifier(raw_sku).map_err(|e| e.to_string())?;
    let mut images: Vec<(Column, usize, &str)> = header
        .columns
        .iter()
        .filter(|(_, c)| *c != Column::Sku)
        .map(|&(i, c)| (c, i, cell(i)))
        .filter(|(_, _, url)| !url.is_empty())
        .collect();
    if images.is_empty() {
        return Err(format!("SKU {sku} has no image URL"));
    }
    images.sort();
    let mut media = Vec::with_capacity(images.len());
    for (column, _, url) in images {
        let parsed = url::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"));
        if parsed.is_none() {
            return Err(format!("{url:?} is not an http(s) image URL"));
        }
        media.push(RequestedMedia {
            url: url.to_string(),
            kind: None,
            chosen: false,
            role: Some(match column {
                Column::Main => Role::Main,
                Column::Swatch => Role::Swatch,
                Column::Other(_) | Column::Numbered(_) | Column::Sku => Role::Gallery,
            }),
            code: column.code(),
        });
    }
    Ok((sku, media))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(texts: &[&str]) -> Vec<String> {
        texts.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn amazon_and_plain_headers() {
        assert_eq!(Column::of("item_sku"), Some(Column::Sku));
        assert_eq!(Column::of("Seller SKU"), Some(Column::Sku));
        assert_eq!(Column::of("Main Image URL"), Some(Column::Main));
        assert_eq!(Column::of("other_image_url8"), Some(Column::Other(8)));
        assert_eq!(Column::of("Other Image URL 2"), Some(Column::Other(2)));
        assert_eq!(Column::of("image3"), Some(Column::Numbered(3)));
        assert_eq!(Column::of("image_url_2"), Some(Column::Numbered(2)));
        assert_eq!(Column::Other(5).code().as_deref(), Some("PT05"));
        assert_eq!(Column::Numbered(5).code(), None);
        assert_eq!(Column::of("swatch_image_url"), Some(Column::Swatch));
        assert_eq!(
            Column::of("other_product_image_locator_3[marketplace_id=X]#1.media_location"),
            Some(Column::Other(3))
        );
        assert_eq!(Column::of("item_name"), None);
        assert_eq!(Column::of("imagery"), None);
        assert!(Header::find(&cells(&["TemplateType=fptcustom", "Version=2021"])).is_none());
        assert!(Header::find(&cells(&["sku", "title"])).is_none());
    }

    #[test]
    fn a_row_is_used_whole_or_not_at_all() {
        let header = Header::find(&cells(&[
            "sku",
            "swatch_image_url",
            "other_image_url2",
            "main_image_url",
            "other_image_url1",
        ]))
        .unwrap();
        let (sku, media) = product(
            &header,
            &cells(&[
                "A1",
                "https://x/s.jpg",
                "https://x/2.jpg",
                "https://x/m.jpg",
                "https://x/1.jpg",
            ]),
        )
        .unwrap();
        assert_eq!(sku, "A1");
        let got: Vec<(&str, Option<Role>)> =
            media.iter().map(|m| (m.url.as_str(), m.role)).collect();
        assert_eq!(
            got,
            [
                ("https://x/m.jpg", Some(Role::Main)),
                ("https://x/1.jpg", Some(Role::Gallery)),
                ("https://x/2.jpg", Some(Role::Gallery)),
                ("https://x/s.jpg", Some(Role::Swatch)),
            ]
        );
        let codes: Vec<Option<&str>> = media.iter().map(|m| m.code.as_deref()).collect();
        assert_eq!(codes, [None, Some("PT01"), Some("PT02"), None]);
        assert!(
            product(&header, &cells(&["", "https://x/s.jpg"]))
                .unwrap_err()
                .contains("no SKU")
        );
        assert!(product(&header, &cells(&["A-1", "https://x/s.jpg"])).is_err());
        assert!(
            product(&header, &cells(&["A1"]))
                .unwrap_err()
                .contains("no image URL")
        );
        assert!(
            product(
                &header,
                &cells(&["A1", "", "file:///etc/passwd", "https://x/m.jpg"])
            )
            .unwrap_err()
            .contains("file:///etc/passwd")
        );
    }

    #[test]
    fn a_full_sheet_is_read_under_a_header_and_one_row_more_is_refused() {
        let config = crate::config::Config::default();
        let context = Context {
            config: &config,
            name: "flat.csv",
        };
        let sheet_of = |products: usize| {
            let mut csv = String::from("TemplateType=fptcustom,Version=2023\nsku,main_image_url\n");
            for n in 0..products {
                csv.push_str(&format!("S{n},https://x/{n}.jpg\n"));
            }
            super::super::table::csv(csv.as_bytes()).unwrap()
        };
        let full = read(vec![sheet_of(MAX_PRODUCT_ROWS)], &context).unwrap();
        assert_eq!(full.submissions.len(), MAX_PRODUCT_ROWS);
        let Err(InputError::Sheet(over)) = read(vec![sheet_of(MAX_PRODUCT_ROWS + 1)], &context)
        else {
            panic!("one row over is refused");
        };
        assert!(over.contains("it has 10001 product rows"), "{over}");
    }

    #[test]
    fn the_header_is_found_below_a_title_and_repeated_skus_are_reported() {
        let config = crate::config::Config::default();
        let context = Context {
            config: &config,
            name: "flat.csv",
        };
        let csv = "TemplateType=fptcustom,Version=2023\n\
                   Seller SKU,Main Image URL,Other Image URL1\n\
                   item_sku,main_image_url,other_image_url1\n\
                   A1,https://x/a.jpg,https://x/b.jpg\n\
                   A1,https://x/c.jpg,\n";
        let sheet = super::super::table::csv(csv.as_bytes()).unwrap();
        let reading = read(vec![sheet], &context).unwrap();
        assert_eq!(reading.submissions.len(), 1);
        let job = &reading.submissions[0];
        assert_eq!(job.sku.as_deref(), Some("A1"));
        assert_eq!(job.name.as_deref(), Some("flat-A1"));
        assert_eq!(job.naming, Some(Naming::AmazonUpload));
        assert_eq!(job.preset.as_deref(), Some(config.seller_preset.as_str()));
        assert_eq!(
            reading.problems,
            ["row 5: SKU A1 is already on row 4; left out"]
        );

        let no_header = super::super::table::csv(b"sku,title\nA1,x\n").unwrap();
        assert!(matches!(
            read(vec![no_header], &context),
            Err(InputError::Sheet(_))
        ));
        assert!(super::super::table::xlsx(b"not a workbook").is_err());
    }
}
