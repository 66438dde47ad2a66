//! WooCommerce's product CSV, as its built-in importer (Products → Import) reads it: the
//! column names of its mapping (`plugins/woocommerce/includes/admin/importers/mappings/
//! default.php`, documented as the "Product CSV Import Schema" on WooCommerce's wiki,
//! <https://github.com/woocommerce/woocommerce/wiki/Product-CSV-Import-Schema>).
//!
//! A product without variants is one `simple` row. A product with variants is a `variable`
//! row — its attributes with every value — followed by one `variation` row per variant whose
//! `Parent` is the variable product's SKU (the importer resolves it, so the parent comes
//! first), with its own attribute values, price, stock status and picture. Products are drafts
//! (`Published` -1). Lists inside a cell (images, attribute values, categories) are
//! comma-separated, a comma inside a value escaped as `\,`, as the importer splits them; a
//! category path is written `Clothing > Tees`. Pictures are their original addresses, which the
//! importer downloads; the package's file names follow in a column of haul's own, which the
//! importer leaves unmapped.

use super::{Cell, Product, Table, UniqueNames, features_html, handle_of};
use crate::extract::facts::Availability;

/// The importer's columns this export fills (the attribute columns follow, then haul's).
const FIXED: [&str; 17] = [
    "ID",
    "Type",
    "SKU",
    "GTIN, UPC, EAN, or ISBN",
    "Name",
    "Published",
    "Is featured?",
    "Visibility in catalog",
    "Short description",
    "Description",
    "In stock?",
    "Regular price",
    "Categories",
    "Tags",
    "Images",
    "Parent",
    "Position",
];

/// haul's column: the package's files of the row's `Images`, in the same order.
pub const IMAGE_FILES: &str = "Image files (haul)";

/// The products as WooCommerce's import sheet.
pub fn table(products: &[Product]) -> Table {
    let attributes = products
        .iter()
        .map(|p| p.option_names().len())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut header: Vec<String> = FIXED.iter().map(|h| h.to_string()).collect();
    for n in 1..=attributes {
        for part in ["name", "value(s)", "visible", "global"] {
            header.push(format!("Attribute {n} {part}"));
        }
    }
    header.push(IMAGE_FILES.to_string());
    let mut table = Table {
        header,
        rows: Vec::new(),
    };
    let mut skus = UniqueNames::default();
    for product in products {
        add_product(&mut table, &mut skus, product);
    }
    table
}

fn add_product(table: &mut Table, skus: &mut UniqueNames, product: &Product) {
    let facts = &product.facts;
    let axes = product.option_names();
    let pictures = product.listing_pictures();
    // Variants' own SKUs first, so the parent's made-up one gives way when they meet.
    let variant_skus: Vec<Option<String>> = facts
        .variants
        .iter()
        .map(|v| v.sku.as_deref().map(|s| skus.claim(s)))
        .collect();
    let variable = !facts.variants.is_empty();
    let sku = if variable {
        let base = facts
            .sku
            .clone()
            .or_else(|| product.product_id.clone())
            .unwrap_or_else(|| handle_of(product));
        Some(skus.claim(&base))
    } else {
        facts.sku.as_deref().map(|s| skus.claim(s))
    };

    let mut row = table.row();
    row.set("Type", if variable { "variable" } else { "simple" })
        .set("SKU", sku.clone())
        .set("Name", product.name.as_str())
        .set("Published", "-1")
        .set("Is featured?", "0")
        .set("Visibility in catalog", "visible")
        .set("Short description", features_html(&facts.features))
        .set("Description", description(product))
        .set("Categories", list(&[facts.categories.join(" > ")]))
        .set(
            "Images",
            list(&pictures.iter().map(|m| m.url.clone()).collect::<Vec<_>>()),
        )
        .set(
            IMAGE_FILES,
            list(
                &pictures
                    .iter()
                    .filter_map(|m| m.file.clone())
                    .collect::<Vec<_>>(),
            ),
        );
    if variable {
        for (i, axis) in axes.iter().enumerate() {
            let mut values: Vec<String> = Vec::new();
            for (n, v) in facts.variants.iter().enumerate() {
                let value = product.option_values(n, v, &axes).swap_remove(i);
                if !values.contains(&value) {
                    values.push(value);
                }
            }
            row.set(&format!("Attribute {} name", i + 1), axis.as_str())
                .set(&format!("Attribute {} value(s)", i + 1), list(&values))
                .set(&format!("Attribute {} visible", i + 1), "1")
                .set(&format!("Attribute {} global", i + 1), "0");
        }
    } else {
        row.set("GTIN, UPC, EAN, or ISBN", facts.gtin.clone())
            .set("Regular price", price(facts.price.as_deref()))
            .set("In stock?", in_stock(facts.availability));
    }
    let cells = row.cells();
    table.rows.push(cells);

    for (n, variant) in facts.variants.iter().enumerate() {
        let values = product.option_values(n, variant, &axes);
        let picture = product.variant_pictures(variant).first().copied();
        let mut row = table.row();
        row.set("Type", "variation")
            .set("SKU", variant_skus[n].clone())
            .set("Name", format!("{} - {}", product.name, values.join(", ")))
            .set("Published", "1")
            .set(
                "Regular price",
                price(variant.price.as_deref().or(facts.price.as_deref())),
            )
            .set(
                "In stock?",
                in_stock(variant.availability.or(facts.availability)),
            )
            .set(
                "Images",
                picture.map(|m| list(std::slice::from_ref(&m.url))),
            )
            .set(IMAGE_FILES, picture.and_then(|m| m.file.clone()))
            .set("Parent", sku.clone())
            .set("Position", (n + 1).to_string());
        for (i, (axis, value)) in axes.iter().zip(&values).enumerate() {
            row.set(&format!("Attribute {} name", i + 1), axis.as_str())
                .set(
                    &format!("Attribute {} value(s)", i + 1),
                    list(std::slice::from_ref(value)),
                );
        }
        let cells = row.cells();
        table.rows.push(cells);
    }
}

/// The long description: the page's text as HTML (its bullet points are the short one).
fn description(product: &Product) -> String {
    product
        .facts
        .description
        .as_deref()
        .map(|d| format!("<p>{}</p>", super::escape_html(d).replace('\n', "<br>")))
        .unwrap_or_default()
}

/// The importer's stock status: `1` in stock, `0` out of stock, `backorder`; empty when the
/// page did not say (the importer's default, in stock).
fn in_stock(a: Option<Availability>) -> &'static str {
    match a {
        Some(Availability::InStock | Availability::LimitedAvailability) => "1",
        Some(Availability::OutOfStock | Availability::Discontinued) => "0",
        Some(Availability::BackOrder | Availability::PreOrder) => "backorder",
        None => "",
    }
}

fn price(p: Option<&str>) -> Cell {
    Cell::Number(p.unwrap_or_default().to_string())
}

/// Values the importer splits at commas: each one's own commas escaped as `\,`, empty ones
/// left out.
fn list(values: &[String]) -> String {
    values
        .iter()
        .filter(|v| !v.is_empty())
        .map(|v| v.replace(',', "\\,"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::{bare, read_csv, tee};

    fn read(table: &Table) -> (Vec<String>, Vec<Vec<String>>) {
        read_csv(&table.csv())
    }

    #[test]
    fn a_variable_product_and_its_variations() {
        let (header, rows) = read(&table(&[tee()]));
        assert_eq!(
            &header[..FIXED.len()],
            FIXED,
            "the importer's own column names"
        );
        assert_eq!(
            &header[FIXED.len()..],
            [
                "Attribute 1 name",
                "Attribute 1 value(s)",
                "Attribute 1 visible",
                "Attribute 1 global",
                "Attribute 2 name",
                "Attribute 2 value(s)",
                "Attribute 2 visible",
                "Attribute 2 global",
                IMAGE_FILES
            ]
        );
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let cell = |r: usize, name: &str| rows[r][col(name)].as_str();
        assert_eq!(rows.len(), 4, "the product and its three variations");
        assert_eq!(
            [
                cell(0, "Type"),
                cell(0, "SKU"),
                cell(0, "Name"),
                cell(0, "Published")
            ],
            ["variable", "TEE", "Linen Tee", "'-1"],
            "a draft (its leading '-' defused the way WooCommerce's exporter does it)"
        );
        assert_eq!(cell(0, "Regular price"), "", "variations carry the prices");
        assert_eq!(cell(0, "Categories"), "Clothing > Tees\\, tops");
        assert_eq!(
            cell(0, "Images"),
            "https://cdn.example/p/01-main.jpg, https://cdn.example/p/02.jpg, \
             https://cdn.example/p/sand.jpg, https://cdn.example/p/moss.jpg"
        );
        assert_eq!(
            cell(0, IMAGE_FILES),
            "01-main.jpg, 02.jpg, variant/sand.jpg, variant/moss.jpg"
        );
        assert_eq!(
            cell(0, "Short description"),
            "<ul><li>Washed linen</li><li>Relaxed, &quot;long&quot; fit</li></ul>"
        );
        assert_eq!(
            [
                cell(0, "Attribute 1 name"),
                cell(0, "Attribute 1 value(s)"),
                cell(0, "Attribute 1 visible"),
                cell(0, "Attribute 1 global"),
                cell(0, "Attribute 2 value(s)")
            ],
            ["color", "Sand, Moss", "1", "0", "M, L"]
        );
        let variation = |r: usize| {
            [
                cell(r, "Type"),
                cell(r, "SKU"),
                cell(r, "Name"),
                cell(r, "Parent"),
                cell(r, "Regular price"),
                cell(r, "In stock?"),
                cell(r, "Attribute 1 value(s)"),
                cell(r, "Attribute 2 value(s)"),
                cell(r, "Images"),
                cell(r, IMAGE_FILES),
            ]
        };
        assert_eq!(
            variation(1),
            [
                "variation",
                "TEE-SAND-M",
                "Linen Tee - Sand, M",
                "TEE",
                "39.00",
                "1",
                "Sand",
                "M",
                "https://cdn.example/p/sand.jpg",
                "variant/sand.jpg"
            ]
        );
        assert_eq!(variation(2)[5], "0", "out of stock");
        assert_eq!(variation(3)[4..6], ["42.00", "backorder"]);
        assert_eq!(cell(3, "Position"), "3");
    }

    #[test]
    fn simple_products_and_skus_that_meet() {
        let mut with_own_sku = tee();
        with_own_sku.facts.variants.clear();
        let mut clash = tee();
        clash.facts.sku = Some("TEE-SAND-M".into()); // its group's SKU is a variant's
        let (header, rows) = read(&table(&[bare(), with_own_sku, clash]));
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(rows[0][col("Type")], "simple");
        assert_eq!(
            rows[0][col("SKU")],
            "",
            "no SKU is made up for a simple product"
        );
        assert_eq!(
            rows[0][col("Images")],
            "https://img.example/0.jpg, https://img.example/1.jpg"
        );
        assert_eq!(rows[0][col("In stock?")], "");
        assert_eq!(
            [
                rows[1][col("SKU")].as_str(),
                rows[1][col("GTIN, UPC, EAN, or ISBN")].as_str(),
                rows[1][col("Regular price")].as_str(),
                rows[1][col("In stock?")].as_str()
            ],
            ["TEE", "4006381333931", "39.00", "1"]
        );
        let parent = &rows[2][col("SKU")];
        assert_eq!(parent, "TEE-SAND-M-2", "the variant keeps its SKU");
        assert_eq!(rows[3][col("SKU")], "TEE-SAND-M");
        assert_eq!(&rows[3][col("Parent")], parent);
    }
}
