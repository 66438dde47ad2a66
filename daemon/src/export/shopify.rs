//! Shopify's product import CSV, in the column set of Shopify's current sample file and column
//! table (<https://help.shopify.com/en/manual/products/import-export/using-csv>: `URL handle`,
//! `Description`, `Product image URL`…, the names that replaced `Handle`, `Body (HTML)`,
//! `Image Src`…), without the optional Google Shopping and metafield columns.
//!
//! Layout, as Shopify's own export writes it: the rows of one product share its `URL handle`;
//! the first row carries the product's fields (title, description, vendor, status `draft` so
//! nothing goes on sale unchecked) and the option names; row N carries variant N (its option
//! values, SKU, price, picture) and picture N (`Product image URL`, `Image position`), so a
//! product has a row per variant and one per picture beyond those. A product without variants
//! has Shopify's `Title` / `Default Title` option. Pictures are the original addresses, which
//! Shopify fetches; the package's file names follow in two columns of haul's own at the end,
//! which Shopify's importer does not read.

use super::{Product, Table, UniqueNames, handle_of};
use crate::extract::facts::{Availability, VariantFacts};

/// Shopify's columns, in its sample file's order, then haul's two.
pub const HEADER: [&str; 45] = [
    "Title",
    "URL handle",
    "Description",
    "Vendor",
    "Product category",
    "Type",
    "Tags",
    "Published on online store",
    "Status",
    "SKU",
    "Barcode",
    "Option1 name",
    "Option1 value",
    "Option1 Linked To",
    "Option2 name",
    "Option2 value",
    "Option2 Linked To",
    "Option3 name",
    "Option3 value",
    "Option3 Linked To",
    "Price",
    "Compare-at price",
    "Cost per item",
    "Charge tax",
    "Tax code",
    "Unit price total measure",
    "Unit price total measure unit",
    "Unit price base measure",
    "Unit price base measure unit",
    "Inventory tracker",
    "Inventory quantity",
    "Continue selling when out of stock",
    "Weight value (grams)",
    "Weight unit for display",
    "Requires shipping",
    "Fulfillment service",
    "Product image URL",
    "Image position",
    "Image alt text",
    "Variant image URL",
    "Gift card",
    "SEO title",
    "SEO description",
    IMAGE_FILE,
    VARIANT_IMAGE_FILE,
];

/// haul's column: the package's file of the row's `Product image URL`.
pub const IMAGE_FILE: &str = "Product image file (haul)";
/// haul's column: the package's file of the row's `Variant image URL`.
pub const VARIANT_IMAGE_FILE: &str = "Variant image file (haul)";

/// Shopify takes at most three options.
const MAX_OPTIONS: usize = 3;

/// One variant as a row needs it.
struct VariantRow {
    values: Vec<String>,
    sku: Option<String>,
    barcode: Option<String>,
    price: Option<String>,
    availability: Option<Availability>,
    picture: Option<(String, Option<String>)>,
}

/// The products as Shopify's import sheet.
pub fn table(products: &[Product]) -> Table {
    let mut table = Table::new(&HEADER);
    let mut handles = UniqueNames::default();
    for product in products {
        let handle = handles.claim(&handle_of(product));
        let (axes, variants) = variants_of(product);
        let pictures = product.listing_pictures();
        let rows = variants.len().max(pictures.len()).max(1);
        for n in 0..rows {
            let mut row = table.row();
            row.set("URL handle", handle.as_str());
            if n == 0 {
                let facts = &product.facts;
                row.set("Title", product.name.as_str())
                    .set("Description", product.description_html())
                    // Shopify wants a vendor of two characters or more.
                    .set(
                        "Vendor",
                        facts.brand.clone().filter(|b| b.chars().count() >= 2),
                    )
                    .set("Type", facts.categories.last())
                    .set("Tags", tags(&facts.categories))
                    .set("Published on online store", "FALSE")
                    .set("Status", "draft")
                    .set("Gift card", "FALSE");
                for (i, axis) in axes.iter().enumerate() {
                    row.set(&format!("Option{} name", i + 1), axis.as_str());
                }
            }
            if let Some(v) = variants.get(n) {
                for (i, value) in v.values.iter().enumerate() {
                    row.set(&format!("Option{} value", i + 1), value.as_str());
                }
                row.set("SKU", v.sku.clone())
                    .set("Barcode", v.barcode.clone())
                    .set("Price", v.price.clone())
                    .set(
                        "Continue selling when out of stock",
                        match v.availability {
                            Some(Availability::BackOrder | Availability::PreOrder) => "continue",
                            _ => "deny",
                        },
                    )
                    .set("Requires shipping", "TRUE")
                    .set("Fulfillment service", "manual");
                if let Some((url, file)) = &v.picture {
                    row.set("Variant image URL", url.as_str())
                        .set(VARIANT_IMAGE_FILE, file.clone());
                }
            }
            if let Some(picture) = pictures.get(n) {
                let alt = picture.variant.as_deref().map_or_else(
                    || product.name.clone(),
                    |v| format!("{} — {v}", product.name),
                );
                row.set("Product image URL", picture.url.as_str())
                    .set("Image position", (n + 1).to_string())
                    .set("Image alt text", alt)
                    .set(IMAGE_FILE, picture.file.clone());
            }
            let cells = row.cells();
            table.rows.push(cells);
        }
    }
    table
}

/// The option names and the variant rows of `product`: its variants, or Shopify's single
/// `Default Title` variant carrying the product's own SKU, barcode and price.
fn variants_of(product: &Product) -> (Vec<String>, Vec<VariantRow>) {
    let facts = &product.facts;
    if facts.variants.is_empty() {
        let only = VariantRow {
            values: vec!["Default Title".into()],
            sku: facts.sku.clone(),
            barcode: facts.gtin.clone(),
            price: facts.price.clone(),
            availability: facts.availability,
            picture: None,
        };
        return (vec!["Title".into()], vec![only]);
    }
    let mut axes = product.option_names();
    axes.truncate(MAX_OPTIONS);
    let mut combos = UniqueNames::default();
    let rows = facts
        .variants
        .iter()
        .enumerate()
        .map(|(n, v)| {
            let mut values = product.option_values(n, v, &axes);
            // Shopify refuses two variants with the same options (a fourth axis cut off, or a
            // page listing one twice): the last value tells them apart.
            let combo = values.join("\u{1f}");
            let unique = combos.claim(&combo);
            if unique != combo
                && let Some(last) = values.last_mut()
            {
                last.push_str(&format!(" ({})", v.sku.as_deref().unwrap_or(&unique)));
            }
            VariantRow {
                values,
                sku: v.sku.clone(),
                barcode: None,
                price: v.price.clone().or_else(|| facts.price.clone()),
                availability: v.availability.or(facts.availability),
                picture: picture_of(product, v),
            }
        })
        .collect();
    (axes, rows)
}

/// The variant's first saved picture: its address and its file.
fn picture_of(product: &Product, variant: &VariantFacts) -> Option<(String, Option<String>)> {
    product
        .variant_pictures(variant)
        .first()
        .map(|m| (m.url.clone(), m.file.clone()))
}

/// Shopify's tags: a comma-separated list, so a category's own commas become spaces.
fn tags(categories: &[String]) -> String {
    categories
        .iter()
        .map(|c| c.replace(',', " "))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::{bare, read_csv as read, tee};

    /// Shopify's product CSV columns as its documentation lists them today, in the order of
    /// its sample file, copied from
    /// https://help.shopify.com/en/manual/products/import-export/using-csv (the "product CSV
    /// description table") and its sample
    /// https://help.shopify.com/cdn/shopifycloud/product-knowledge/production/csv/product_template.csv
    /// — up to `SEO description`; the Google Shopping and metafield columns after it are
    /// optional and not written.
    const DOCUMENTED: &str = "Title,URL handle,Description,Vendor,Product category,Type,Tags,\
        Published on online store,Status,SKU,Barcode,Option1 name,Option1 value,\
        Option1 Linked To,Option2 name,Option2 value,Option2 Linked To,Option3 name,\
        Option3 value,Option3 Linked To,Price,Compare-at price,Cost per item,Charge tax,\
        Tax code,Unit price total measure,Unit price total measure unit,Unit price base measure,\
        Unit price base measure unit,Inventory tracker,Inventory quantity,\
        Continue selling when out of stock,Weight value (grams),Weight unit for display,\
        Requires shipping,Fulfillment service,Product image URL,Image position,Image alt text,\
        Variant image URL,Gift card,SEO title,SEO description";

    #[test]
    fn a_variant_product_column_by_column() {
        let bytes = table(&[tee()]).csv();
        let (header, rows) = read(&bytes);
        let documented: Vec<&str> = DOCUMENTED.split(',').collect();
        assert_eq!(
            &header[..documented.len()],
            documented.as_slice(),
            "Shopify's columns, in its order"
        );
        assert_eq!(
            &header[documented.len()..],
            [IMAGE_FILE, VARIANT_IMAGE_FILE]
        );
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let cell = |row: usize, name: &str| rows[row][col(name)].as_str();

        // Three variants, four pictures: four rows, one handle.
        assert_eq!(rows.len(), 4);
        assert!((0..4).all(|r| cell(r, "URL handle") == "linen-tee"));
        // The product's fields on its first row only.
        assert_eq!(cell(0, "Title"), "Linen Tee");
        assert_eq!(
            cell(0, "Description"),
            "<p>A loose tee of washed linen, cut &lt;long&gt;.</p><ul><li>Washed linen</li>\
             <li>Relaxed, &quot;long&quot; fit</li></ul>"
        );
        assert_eq!(cell(0, "Vendor"), "Northwind");
        assert_eq!(cell(0, "Type"), "Tees, tops");
        assert_eq!(cell(0, "Tags"), "Clothing, Tees  tops");
        assert_eq!(
            cell(0, "Product category"),
            "",
            "Shopify's taxonomy, not the shop's"
        );
        assert_eq!(cell(0, "Published on online store"), "FALSE");
        assert_eq!(cell(0, "Status"), "draft");
        assert_eq!(cell(0, "Gift card"), "FALSE");
        assert_eq!(
            (cell(0, "Option1 name"), cell(0, "Option2 name")),
            ("color", "size")
        );
        assert_eq!(cell(0, "Option3 name"), "");
        assert_eq!(cell(1, "Title"), "");
        assert_eq!(cell(1, "Status"), "");
        assert_eq!(cell(1, "Option1 name"), "");
        // A row per variant: options, SKU, price, what to do when out of stock, its picture.
        let variant = |r: usize| {
            [
                cell(r, "Option1 value"),
                cell(r, "Option2 value"),
                cell(r, "SKU"),
                cell(r, "Price"),
                cell(r, "Continue selling when out of stock"),
                cell(r, "Variant image URL"),
                cell(r, VARIANT_IMAGE_FILE),
            ]
        };
        assert_eq!(
            variant(0),
            [
                "Sand",
                "M",
                "TEE-SAND-M",
                "39.00",
                "deny",
                "https://cdn.example/p/sand.jpg",
                "variant/sand.jpg"
            ]
        );
        assert_eq!(
            variant(1)[..5],
            ["Sand", "L", "TEE-SAND-L", "39.00", "deny"]
        );
        assert_eq!(
            variant(2),
            [
                "Moss",
                "M",
                "TEE-MOSS-M",
                "42.00",
                "continue",
                "https://cdn.example/p/moss.jpg",
                "variant/moss.jpg"
            ]
        );
        assert_eq!(
            variant(3),
            ["", "", "", "", "", "", ""],
            "a row for a picture only"
        );
        assert_eq!(cell(0, "Fulfillment service"), "manual");
        assert_eq!(cell(3, "Fulfillment service"), "");
        // A row per picture, in order, at its original address, with its file beside it.
        let picture = |r: usize| {
            [
                cell(r, "Product image URL"),
                cell(r, "Image position"),
                cell(r, "Image alt text"),
                cell(r, IMAGE_FILE),
            ]
        };
        assert_eq!(
            picture(0),
            [
                "https://cdn.example/p/01-main.jpg",
                "1",
                "Linen Tee",
                "01-main.jpg"
            ]
        );
        assert_eq!(
            picture(3),
            [
                "https://cdn.example/p/moss.jpg",
                "4",
                "Linen Tee — Moss",
                "variant/moss.jpg"
            ]
        );
        assert!(
            !String::from_utf8_lossy(&bytes).contains("clip.mp4"),
            "videos are not product images"
        );
        assert!(
            (0..4).all(|r| cell(r, "Barcode").is_empty()),
            "the GTIN is the product's"
        );
    }

    #[test]
    fn a_product_without_facts_or_variants() {
        let (header, rows) = read(&table(&[bare(), bare()]).csv());
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(rows.len(), 4, "two pictures each");
        assert_eq!(rows[0][col("Title")], "things");
        assert_eq!(rows[0][col("Option1 name")], "Title");
        assert_eq!(rows[0][col("Option1 value")], "Default Title");
        assert_eq!(rows[0][col("Price")], "");
        assert_eq!(
            rows[1][col("Option1 value")],
            "",
            "the second row is a picture"
        );
        assert_eq!(
            rows[1][col("Product image URL")],
            "https://img.example/1.jpg"
        );
        assert_eq!(
            rows[2][col("URL handle")],
            "things-2",
            "handles never collide"
        );
    }

    #[test]
    fn the_products_own_sku_barcode_and_price_without_variants() {
        let mut p = tee();
        p.facts.variants.clear();
        let (header, rows) = read(&table(&[p]).csv());
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(
            [
                rows[0][col("SKU")].as_str(),
                rows[0][col("Barcode")].as_str(),
                rows[0][col("Price")].as_str()
            ],
            ["TEE", "4006381333931", "39.00"]
        );
    }

    #[test]
    fn four_axes_and_twin_variants_stay_importable() {
        let mut p = tee();
        for v in &mut p.facts.variants {
            v.attributes.push(crate::extract::facts::Spec {
                name: "fit".into(),
                value: "regular".into(),
            });
            v.attributes.push(crate::extract::facts::Spec {
                name: "sleeve".into(),
                value: "short".into(),
            });
        }
        p.facts.variants[1].attributes[1].value = "M".into(); // now Sand/M twice
        let (header, rows) = read(&table(&[p]).csv());
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(
            rows[0][col("Option3 name")],
            "fit",
            "the fourth axis is left out"
        );
        assert_eq!(rows[1][col("Option2 value")], "M");
        assert_eq!(rows[0][col("Option3 value")], "regular");
        assert_eq!(
            rows[1][col("Option3 value")],
            "regular (TEE-SAND-L)",
            "no two variants with the same options"
        );
    }
}
