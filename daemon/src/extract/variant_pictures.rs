//! Variant pictures where shops let several variants share one picture (Shopify's
//! `featured_image`, WooCommerce's variation `image`): "Red / S", "Red / M" and "Red / L" all
//! show the red one. A picture is saved once, so its label is what those variants have in
//! common — "Red" — not whichever of them came first.

use super::{Found, cdn};

/// Variant pictures collected one variant at a time, added to a [`Found`] grouped by picture.
#[derive(Default)]
pub(crate) struct VariantPictures {
    /// In first-seen order.
    pictures: Vec<Picture>,
}

/// One picture and the variants that show it.
struct Picture {
    url: String,
    /// [`cdn::asset_id`] of `url`: the same picture at another size or address is this one.
    asset: String,
    /// Each variant's option values and its id.
    variants: Vec<(Vec<String>, Option<String>)>,
}

impl VariantPictures {
    /// A variant with option `values` (in the shop's option order) and its own `id` shows `url`.
    pub(crate) fn add(&mut self, url: &str, values: Vec<String>, id: Option<String>) {
        let asset = cdn::asset_id(url);
        match self.pictures.iter_mut().find(|p| p.asset == asset) {
            Some(picture) => picture.variants.push((values, id)),
            None => self.pictures.push(Picture {
                url: url.to_string(),
                asset,
                variants: vec![(values, id)],
            }),
        }
    }

    /// Each picture once, as a variant item: labelled with the values its variants share at
    /// the same position (all of one variant's values; the first variant's when they share
    /// none; its id when it has no values), with the variant's id when it is one variant's.
    pub(crate) fn add_to(self, found: &mut Found) {
        for Picture { url, variants, .. } in self.pictures {
            let Some(((first, first_id), rest)) = variants.split_first() else {
                continue;
            };
            let shared: Vec<&str> = first
                .iter()
                .enumerate()
                .filter(|(i, value)| rest.iter().all(|(v, _)| v.get(*i) == Some(value)))
                .map(|(_, value)| value.as_str())
                .collect();
            let values: Vec<&str> = if shared.is_empty() {
                first.iter().map(String::as_str).collect()
            } else {
                shared
            };
            let id = if rest.is_empty() {
                first_id.as_deref()
            } else {
                None
            };
            let label = if values.is_empty() {
                first_id.clone().unwrap_or_else(|| "variant".to_string())
            } else {
                values.join(" / ")
            };
            found.variant_image(url, &label, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::page::Page;

    fn labelled(pictures: VariantPictures) -> Vec<(String, Option<String>, Option<String>)> {
        let mut found = Found::default();
        pictures.add_to(&mut found);
        let mut w = Vec::new();
        let page = Page::parse("", Some("https://shop.example/p"), &mut w);
        found
            .finish("test", &page)
            .media
            .into_iter()
            .map(|m| (m.url, m.variant, m.variant_id))
            .collect()
    }

    #[test]
    fn a_shared_picture_is_labelled_with_what_its_variants_share() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let mut p = VariantPictures::default();
        p.add(
            "https://x.example/red.jpg",
            v(&["Red", "S"]),
            Some("1".into()),
        );
        p.add(
            "https://x.example/blue.jpg",
            v(&["Blue", "S"]),
            Some("2".into()),
        );
        p.add(
            "https://x.example/red.jpg",
            v(&["Red", "M"]),
            Some("3".into()),
        );
        p.add(
            "https://x.example/odd.jpg",
            v(&["Green", "S"]),
            Some("4".into()),
        );
        p.add(
            "https://x.example/odd.jpg",
            v(&["Pink", "M"]),
            Some("5".into()),
        );
        p.add("https://x.example/any.jpg", v(&[]), Some("6".into()));
        let s = |u: &str, l: &str, id: Option<&str>| {
            (
                format!("https://x.example/{u}"),
                Some(l.to_string()),
                id.map(str::to_string),
            )
        };
        assert_eq!(
            labelled(p),
            vec![
                s("red.jpg", "Red", None),
                s("blue.jpg", "Blue / S", Some("2")),
                s("odd.jpg", "Green / S", None),
                s("any.jpg", "6", Some("6")),
            ]
        );
    }
}
