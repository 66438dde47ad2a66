//! The page's layout, as the generic extractor needs it: every element in document order, with
//! its parent, the extent of its subtree, and what surrounds it.
//!
//! Where a picture sits says whose it is. A picture inside a link to another page is that page's
//! (a recommendation tile, a category, a banner); one in the header, navigation or footer belongs
//! to the shop. Elements are numbered in document order, so an element's subtree is the range
//! `index..end`, and "is this mention inside that container" is two comparisons.

use scraper::{ElementRef, Node};
use url::Url;

use super::super::page::Page;

/// One element of the page.
#[derive(Debug, Clone)]
pub(super) struct Element {
    /// The element's tag name, lower-case.
    pub tag: String,
    /// The enclosing element (`None` for the root).
    pub parent: Option<usize>,
    /// One past the last element of this element's subtree.
    pub end: usize,
    /// Inside an `<a href>` that leads to another page (not this one, not an image file, not a
    /// script or fragment link).
    pub away: bool,
    /// Inside the page's header, navigation, footer or side menu (by tag or ARIA role).
    pub chrome: bool,
}

/// The elements of a page in document order, with the scraper element of each.
pub(super) struct Layout<'p> {
    pub elements: Vec<Element>,
    pub refs: Vec<ElementRef<'p>>,
    /// `images_before[i]`: how many `<img>` elements come before element `i`.
    images_before: Vec<usize>,
    /// `text_before[i]`: how many characters of visible text come before element `i`.
    text_before: Vec<usize>,
}

impl<'p> Layout<'p> {
    /// Maps `page`'s DOM in one walk (bounded by the page's own parsing limits).
    pub fn of(page: &'p Page<'_>) -> Layout<'p> {
        let mut elements: Vec<Element> = Vec::new();
        let mut refs = Vec::new();
        // The open elements, innermost last.
        let mut open: Vec<usize> = Vec::new();
        // Visible text directly inside each element (not in scripts or styles).
        let mut own_text: Vec<usize> = Vec::new();
        for edge in page.root().traverse() {
            match edge {
                ego_tree::iter::Edge::Open(node) if node.value().is_text() => {
                    if let (Some(&inner), Some(text)) = (open.last(), node.value().as_text()) {
                        let hidden = elements.get(inner).is_some_and(|e| {
                            matches!(e.tag.as_str(), "script" | "style" | "noscript")
                        });
                        if !hidden && let Some(n) = own_text.get_mut(inner) {
                            *n += text.trim().chars().count();
                        }
                    }
                }
                ego_tree::iter::Edge::Open(node) => {
                    let Some(el) = ElementRef::wrap(node) else {
                        continue;
                    };
                    let value = el.value();
                    let tag = value.name().to_ascii_lowercase();
                    let parent = open.last().copied();
                    let inherited = parent.and_then(|p| elements.get(p));
                    let away = inherited.is_some_and(|p| p.away)
                        || (tag == "a" && value.attr("href").is_some_and(|h| leads_away(page, h)));
                    let chrome = inherited.is_some_and(|p| p.chrome) || is_chrome(&tag, value);
                    open.push(elements.len());
                    own_text.push(0);
                    elements.push(Element {
                        tag,
                        parent,
                        end: 0,
                        away,
                        chrome,
                    });
                    refs.push(el);
                }
                ego_tree::iter::Edge::Close(node) => {
                    if matches!(node.value(), Node::Element(_))
                        && let Some(index) = open.pop()
                        && let Some(e) = elements.get_mut(index)
                    {
                        e.end = refs.len();
                    }
                }
            }
        }
        let mut images_before = Vec::with_capacity(elements.len() + 1);
        let mut n = 0;
        for e in &elements {
            images_before.push(n);
            if e.tag == "img" {
                n += 1;
            }
        }
        images_before.push(n);
        let mut text_before = Vec::with_capacity(elements.len() + 1);
        let mut t = 0;
        for n in &own_text {
            text_before.push(t);
            t += n;
        }
        text_before.push(t);
        Layout {
            elements,
            refs,
            images_before,
            text_before,
        }
    }

    /// How many characters of visible text element `outer` holds.
    pub fn text_inside(&self, outer: usize) -> usize {
        let Some(o) = self.elements.get(outer) else {
            return 0;
        };
        let before = |i: usize| self.text_before.get(i).copied().unwrap_or(0);
        before(o.end).saturating_sub(before(outer))
    }

    /// How many `<img>` elements are inside element `outer` (itself included).
    pub fn images_inside(&self, outer: usize) -> usize {
        let Some(o) = self.elements.get(outer) else {
            return 0;
        };
        let before = |i: usize| self.images_before.get(i).copied().unwrap_or(0);
        before(o.end).saturating_sub(before(outer))
    }

    /// Whether element `inner` is `outer` or inside it.
    pub fn contains(&self, outer: usize, inner: usize) -> bool {
        self.elements
            .get(outer)
            .is_some_and(|o| outer <= inner && inner < o.end)
    }

    /// The elements around element `index`, innermost first (not `index` itself).
    pub fn ancestors(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.elements.get(index).and_then(|e| e.parent), |&i| {
            self.elements.get(i).and_then(|e| e.parent)
        })
    }
}

/// Landmarks that hold the shop's own furniture, not the product.
fn is_chrome(tag: &str, el: &scraper::node::Element) -> bool {
    matches!(tag, "header" | "nav" | "footer" | "aside")
        || el.attr("role").is_some_and(|r| {
            matches!(
                r.trim().to_ascii_lowercase().as_str(),
                "banner" | "navigation" | "contentinfo" | "complementary" | "menu" | "menubar"
            )
        })
}

/// Whether a link to `href` leaves this page for another one. Links to image files (a
/// gallery's large version), to a fragment or script of this page, and to this page's own
/// address (with another query: a variant of this product) stay.
fn leads_away(page: &Page<'_>, href: &str) -> bool {
    let href = href.trim();
    if href.is_empty()
        || href.starts_with('#')
        || href.to_ascii_lowercase().starts_with("javascript:")
    {
        return false;
    }
    let Some(target) = page.absolute(href).and_then(|u| Url::parse(&u).ok()) else {
        return false;
    };
    if super::mentions::has_media_extension(target.path()) {
        return false;
    }
    match page.url() {
        Some(here) => {
            !(target.host_str() == here.host_str()
                && target.path().trim_end_matches('/') == here.path().trim_end_matches('/'))
        }
        None => true,
    }
}
