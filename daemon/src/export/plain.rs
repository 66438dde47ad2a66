//! Everything haul knows of each product, for a spreadsheet: one `product` row per job (every
//! fact of `product.json`, where it came from, its package, and all its saved media) and one
//! `variant` row per variant (its own facts and pictures). Lists inside a cell are one item a
//! line; specifications are `name: value` lines. A fact the page did not state is an empty
//! cell — a variant's price is its own, never the product's. `--format csv` writes this table
//! as CSV, `--format xlsx` as a workbook.

use haul_protocol::message::MediaKind;

use super::{Cell, Medium, Product, Table};
use crate::extract::facts::Spec;

/// The columns, in order.
pub const HEADER: [&str; 30] = [
    "job",
    "row",
    "site",
    "product_id",
    "parent_id",
    "page_url",
    "package",
    "name",
    "brand",
    "price",
    "currency",
    "availability",
    "sku",
    "gtin",
    "mpn",
    "rating",
    "review_count",
    "seller",
    "categories",
    "description",
    "features",
    "specs",
    "variant_id",
    "variant_label",
    "variant_attributes",
    "image_urls",
    "image_files",
    "video_urls",
    "video_files",
    "video_links",
];

/// The products as one table.
pub fn table(products: &[Product]) -> Table {
    let mut table = Table::new(&HEADER);
    for p in products {
        let facts = &p.facts;
        let images: Vec<&Medium> = p
            .media
            .iter()
            .filter(|m| m.kind == MediaKind::Image)
            .collect();
        let videos: Vec<&Medium> = p
            .media
            .iter()
            .filter(|m| m.kind == MediaKind::Video)
            .collect();
        let mut row = table.row();
        row.set("job", Cell::Number(p.job.to_string()))
            .set("row", "product")
            .set("site", p.site.clone())
            .set("product_id", p.product_id.clone())
            .set("parent_id", p.parent_id.clone())
            .set("page_url", p.page_url.clone())
            .set(
                "package",
                p.package.as_ref().map(|p| p.display().to_string()),
            )
            .set("name", p.name.as_str())
            .set("brand", facts.brand.clone())
            .set("price", number(facts.price.as_deref()))
            .set("currency", facts.currency.clone())
            .set(
                "availability",
                facts.availability.map(|a| a.as_str().to_string()),
            )
            .set("sku", facts.sku.clone())
            .set("gtin", facts.gtin.clone())
            .set("mpn", facts.mpn.clone())
            .set("rating", number(facts.rating.as_deref()))
            .set(
                "review_count",
                number(facts.review_count.map(|n| n.to_string()).as_deref()),
            )
            .set("seller", facts.seller.clone())
            .set("categories", facts.categories.join(" > "))
            .set("description", facts.description.clone())
            .set("features", lines(facts.features.iter()))
            .set("specs", specs(&facts.specs))
            .set("image_urls", lines(images.iter().map(|m| &m.url)))
            .set("image_files", files(&images))
            .set("video_urls", lines(videos.iter().map(|m| &m.url)))
            .set("video_files", files(&videos))
            .set("video_links", lines(p.links.iter().map(|l| &l.url)));
        let cells = row.cells();
        table.rows.push(cells);
        for v in &facts.variants {
            let pictures = p.variant_pictures(v);
            let mut row = table.row();
            row.set("job", Cell::Number(p.job.to_string()))
                .set("row", "variant")
                .set("site", p.site.clone())
                .set("product_id", p.product_id.clone())
                .set("name", p.name.as_str())
                .set("price", number(v.price.as_deref()))
                .set("currency", v.price.as_ref().and(facts.currency.clone()))
                .set(
                    "availability",
                    v.availability.map(|a| a.as_str().to_string()),
                )
                .set("sku", v.sku.clone())
                .set("variant_id", v.id.clone())
                .set("variant_label", v.label.clone())
                .set("variant_attributes", specs(&v.attributes))
                .set("image_urls", lines(pictures.iter().map(|m| &m.url)))
                .set("image_files", files(&pictures));
            let cells = row.cells();
            table.rows.push(cells);
        }
    }
    table
}

/// A number as the page wrote it (a number in a workbook), empty when absent.
fn number(value: Option<&str>) -> Cell {
    Cell::Number(value.unwrap_or_default().to_string())
}

fn lines<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items.map(String::as_str).collect::<Vec<_>>().join("\n")
}

fn files(media: &[&Medium]) -> String {
    lines(media.iter().filter_map(|m| m.file.as_ref()))
}

fn specs(specs: &[Spec]) -> String {
    specs
        .iter()
        .map(|s| format!("{}: {}", s.name, s.value))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::{bare, tee};

    #[test]
    fn a_row_per_product_and_per_variant_with_every_fact() {
        let t = table(&[tee(), bare()]);
        assert_eq!(t.header, HEADER);
        let cell = |r: usize, name: &str| t.rows[r][t.column(name)].text().to_string();
        assert_eq!(
            t.rows.len(),
            5,
            "tee, its three variants, the list of links"
        );
        assert_eq!(
            (1..5).map(|r| cell(r, "row")).collect::<Vec<_>>(),
            ["variant", "variant", "variant", "product"]
        );
        assert_eq!(cell(0, "name"), "Linen Tee");
        assert_eq!(t.rows[0][t.column("price")], Cell::Number("39.00".into()));
        assert_eq!(cell(0, "availability"), "InStock");
        assert_eq!(cell(0, "categories"), "Clothing > Tees, tops");
        assert_eq!(cell(0, "features"), "Washed linen\nRelaxed, \"long\" fit");
        assert_eq!(cell(0, "specs"), "Material: Linen");
        assert_eq!(cell(0, "review_count"), "12");
        assert_eq!(
            cell(0, "image_files"),
            "01-main.jpg\n02.jpg\nvariant/sand.jpg\nvariant/moss.jpg"
        );
        assert_eq!(cell(0, "video_urls"), "https://cdn.example/v/clip.mp4");
        assert_eq!(cell(0, "video_files"), "video/01.mp4");
        assert_eq!(cell(0, "package"), "/out/generic-TEE-linen-tee.zip");
        assert_eq!(cell(3, "variant_attributes"), "color: Moss\nsize: M");
        assert_eq!(cell(3, "price"), "42.00");
        assert_eq!(cell(3, "currency"), "EUR");
        assert_eq!(cell(3, "availability"), "BackOrder");
        assert_eq!(cell(3, "image_urls"), "https://cdn.example/p/moss.jpg");
        assert_eq!(cell(4, "name"), "things", "no facts: the name and pictures");
        assert_eq!(cell(4, "price"), "");
        assert_eq!(
            cell(4, "image_urls"),
            "https://img.example/0.jpg\nhttps://img.example/1.jpg"
        );
    }
}
