//! What the page shows about its product where its data says nothing: its title as shown, the
//! price beside it and the buy button, and whether it can be bought.
//!
//! The price is the first element named for a price (`class`, `id` or `itemprop` holding
//! "price") after the product's title (`h1`) and inside the nearest container of the title that
//! holds one — not a struck-out or "was" price (`del`, `s`, names with old/was/regular/…), not
//! a unit price, not one inside a link to another page (a recommendation). Availability is
//! what the buy box says ("In stock", "Ausverkauft", "Agotado", …) or, failing that, a buy
//! button the page lets the user press.

use std::sync::LazyLock;

use scraper::{ElementRef, Selector};

use super::super::page::{Page, selector};
use super::{Availability, ProductFacts, country_of, price};

pub(super) fn facts(page: &Page<'_>, known: &ProductFacts) -> ProductFacts {
    let mut facts = ProductFacts::default();
    let Some(title) = title_element(page) else {
        return facts;
    };
    facts.name = super::clean(&title.text().collect::<String>()).filter(|n| n.len() <= 500);
    facts.sku = labelled_code(page, title);
    let Some(area) = buy_area(title) else {
        return facts;
    };
    if known.price.is_none()
        && let Some(text) = price_text(area, title)
    {
        facts.price = price::parse_amount(&text);
        let country = country_of(page);
        facts.currency = price::currency_in(&text, country.as_deref());
    }
    if known.availability.is_none() {
        facts.availability = availability_in(area);
    }
    facts
}

/// The product's title: of the `h1`s outside the header and navigation, the one sharing the
/// most words with the page's title and address (a section heading can come first), else the
/// first.
fn title_element<'p>(page: &'p Page<'_>) -> Option<ElementRef<'p>> {
    static H1: LazyLock<Selector> = LazyLock::new(|| selector("h1"));
    static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("title"));
    let words = |t: &str| -> Vec<String> {
        t.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() > 2)
            .map(str::to_string)
            .collect()
    };
    let page_title: Vec<String> = page
        .first(&TITLE)
        .map(|t| t.text().collect::<String>())
        .into_iter()
        .chain(page.meta("og:title"))
        .chain(page.url().map(|u| u.path().to_string()))
        .flat_map(|t| words(&t))
        .collect();
    let headings: Vec<ElementRef<'p>> = page
        .select(&H1)
        .filter(|h| {
            !h.ancestors()
                .filter_map(ElementRef::wrap)
                .any(|a| matches!(a.value().name(), "header" | "nav" | "footer"))
        })
        .take(16)
        .collect();
    let shared = |h: &ElementRef<'_>| {
        words(&h.text().collect::<String>())
            .iter()
            .filter(|w| page_title.contains(w))
            .count()
    };
    let best = headings
        .iter()
        .copied()
        .max_by_key(|h| (shared(h), std::cmp::Reverse(h.id())));
    best.filter(|h| shared(h) > 0)
        .or_else(|| headings.first().copied())
}

/// The nearest container of the title that also holds a price-named element (at most a few
/// levels up: the product's buy box, not the page).
fn buy_area(title: ElementRef<'_>) -> Option<ElementRef<'_>> {
    title
        .ancestors()
        .filter_map(ElementRef::wrap)
        .take(MAX_LEVELS)
        .find(|a| price_elements(*a).next().is_some())
}

/// How far above the title the buy box may start.
const MAX_LEVELS: usize = 8;

/// Words in a price element's name that make it not the price a buyer pays now.
const NOT_NOW: &[&str] = &[
    "old",
    "was",
    "strike",
    "regular",
    "original",
    "before",
    "list",
    "compare",
    "crossed",
    "rrp",
    "msrp",
    "uvp",
    "saving",
    "savings",
    "save",
    "discount",
    "unit",
    "per",
    "from",
    "instal",
    "installment",
    "monthly",
    "month",
    "shipping",
    "delivery",
    "range",
    "filter",
];

fn is_price_name(el: ElementRef<'_>) -> bool {
    let v = el.value();
    let names = [v.attr("class"), v.attr("id"), v.attr("itemprop")]
        .into_iter()
        .flatten()
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join(" ");
    let words: Vec<&str> = names
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    names.contains("price")
        && !words.iter().any(|w| NOT_NOW.contains(w))
        && !NOT_NOW
            .iter()
            .any(|n| names.contains(&format!("{n}price")) || names.contains(&format!("price{n}")))
}

fn price_elements<'a>(area: ElementRef<'a>) -> impl Iterator<Item = ElementRef<'a>> + 'a {
    static ANY: LazyLock<Selector> = LazyLock::new(|| selector("[class], [id], [itemprop]"));
    area.select(&ANY).take(20_000).filter(|el| {
        is_price_name(*el)
            && el.text().any(|t| t.chars().any(|c| c.is_ascii_digit()))
            && !el.ancestors().filter_map(ElementRef::wrap).any(|a| {
                matches!(
                    a.value().name(),
                    "del" | "s" | "strike" | "a" | "option" | "select"
                ) || (a.value().attr("class").is_some() && !is_price_name(a) && crossed(a))
            })
            && !matches!(el.value().name(), "del" | "s" | "strike")
    })
}

/// An ancestor named like a struck-out price (`old-price` around the amount).
fn crossed(el: ElementRef<'_>) -> bool {
    let class = el
        .value()
        .attr("class")
        .unwrap_or_default()
        .to_ascii_lowercase();
    class.contains("price")
        && NOT_NOW.iter().any(|n| {
            class
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| w == *n)
        })
}

/// How many different current prices make a buy box ambiguous (a price per size or per plan,
/// a grid of offers): then the page does not say which one the buyer pays, and no price is
/// given rather than a guess.
const AMBIGUOUS_PRICES: usize = 3;

/// The text of the price element nearest after the title (else the first one of the area).
fn price_text(area: ElementRef<'_>, title: ElementRef<'_>) -> Option<String> {
    let after_title = |el: &ElementRef<'_>| el.id() > title.id();
    let candidates: Vec<ElementRef<'_>> = price_elements(area).collect();
    let mut amounts: Vec<String> = candidates
        .iter()
        .filter(|el| price_elements(**el).next().is_none() && !is_hidden(**el))
        .filter_map(|el| price::parse_amount(&el.text().collect::<String>()))
        .collect();
    amounts.sort();
    amounts.dedup();
    if amounts.len() >= AMBIGUOUS_PRICES {
        return None;
    }
    let chosen = candidates
        .iter()
        .find(|el| after_title(el))
        .or_else(|| candidates.first())?;
    // The innermost price-named element holding the amount (a wrapper may hold two prices).
    let inner = price_elements(*chosen).next().unwrap_or(*chosen);
    let text = inner.text().collect::<String>();
    let text = text.trim();
    (!text.is_empty() && text.len() < 200).then(|| text.to_string())
}

/// Phrases of a buy box that say whether the product can be bought, in the languages of the
/// shops haul meets, lower-case.
const OUT_OF_STOCK: &[&str] = &[
    "out of stock",
    "sold out",
    "currently unavailable",
    "not available",
    "no longer available",
    "ausverkauft",
    "nicht verfügbar",
    "nicht lieferbar",
    "épuisé",
    "rupture de stock",
    "indisponible",
    "agotado",
    "no disponible",
    "sin stock",
    "esaurito",
    "non disponibile",
    "esgotado",
    "indisponível",
    "uitverkocht",
    "niet beschikbaar",
    "slutsåld",
    "wyprzedany",
    "niedostępny",
    "nema na zalihi",
    "ni na zalogi",
    "rasprodano",
    "stoc epuizat",
    "indisponibil",
    "売り切れ",
    "在庫切れ",
    "缺货",
    "無貨",
    "نفذت الكمية",
    "غير متوفر",
];

const IN_STOCK: &[&str] = &[
    "in stock",
    "available now",
    "auf lager",
    "sofort lieferbar",
    "en stock",
    "disponible",
    "en existencia",
    "disponibile",
    "em estoque",
    "disponível",
    "op voorraad",
    "i lager",
    "na stanie",
    "dostępny",
    "na zalihi",
    "na zalogi",
    "în stoc",
    "在庫あり",
    "有货",
    "有貨",
    "متوفر",
];

/// Buttons that put the product in a basket.
const BUY: &[&str] = &[
    "add to cart",
    "add to bag",
    "add to basket",
    "buy now",
    "in den warenkorb",
    "kaufen",
    "ajouter au panier",
    "aggiungi al carrello",
    "añadir al carrito",
    "agregar al carro",
    "agregar al carrito",
    "comprar",
    "adicionar ao carrinho",
    "in winkelwagen",
    "lägg i varukorgen",
    "dodaj do koszyka",
    "dodaj u košaricu",
    "v košarico",
    "naroči",
    "naruči",
    "kupi",
    "bestellen",
    "acheter",
    "order now",
    "adaugă în coș",
    "カートに入れる",
    "加入购物车",
    "加入購物車",
    "立即购买",
    "أضف إلى",
];

/// Whether an element (or one around it) is hidden: `hidden`, `aria-hidden`, or an inline
/// `display: none` / `visibility: hidden` — text the user does not see ("this product is sold
/// out", kept in the page for when it is).
fn is_hidden(el: ElementRef<'_>) -> bool {
    std::iter::once(el)
        .chain(el.ancestors().filter_map(ElementRef::wrap))
        .any(|e| {
            let v = e.value();
            let style = v
                .attr("style")
                .unwrap_or_default()
                .to_ascii_lowercase()
                .replace(' ', "");
            v.attr("hidden").is_some()
                || v.attr("aria-hidden") == Some("true")
                || style.contains("display:none")
                || style.contains("visibility:hidden")
        })
}

/// Labels shops put before the product's own code ("Product code: 141677", "Šifra: 0638",
/// "Item # 418295"), lower-case.
const CODE_LABELS: &[&str] = &[
    "sku",
    "product code",
    "product no",
    "product number",
    "item #",
    "item no",
    "item number",
    "item code",
    "art.-nr",
    "artikelnummer",
    "artikel-nr",
    "artikelnr",
    "art. no",
    "réf",
    "référence",
    "ref.",
    "referencia",
    "código",
    "codigo",
    "cod produs",
    "codice",
    "šifra",
    "sifra",
    "id produto",
    "kod produktu",
    "numer katalogowy",
    "varenummer",
    "ad #",
    "ad id",
    "商品编号",
    "品番",
    "商品コード",
];

/// The code a label names after the product's title, in the page's visible text (not its
/// header, navigation or footer): the product's own code as the shop shows it.
fn labelled_code(page: &Page<'_>, title: ElementRef<'_>) -> Option<String> {
    let root = page.root();
    let mut seen_title = false;
    let mut text = String::new();
    for node in root.descendants() {
        if node.id() == title.id() {
            seen_title = true;
        }
        if !seen_title {
            continue;
        }
        let Some(t) = node.value().as_text() else {
            continue;
        };
        let hidden = node.ancestors().filter_map(ElementRef::wrap).any(|a| {
            matches!(
                a.value().name(),
                "script" | "style" | "noscript" | "header" | "nav" | "footer" | "a" | "option"
            )
        });
        if !hidden {
            text.push_str(t);
            text.push(' ');
        }
        if text.len() > MAX_CODE_TEXT {
            break;
        }
    }
    let lower = text.to_lowercase();
    CODE_LABELS
        .iter()
        .filter_map(|label| {
            lower
                .match_indices(label)
                .find(|(at, _)| {
                    !lower[..*at]
                        .chars()
                        .next_back()
                        .is_some_and(char::is_alphanumeric)
                })
                .map(|(at, _)| at + label.len())
        })
        .min()
        .and_then(|after| code_at(text.get(after..)?))
}

/// How much of the page's text after the title is searched for a labelled code.
const MAX_CODE_TEXT: usize = 64 << 10;

/// The code at the start of `rest` (after `:`, `#`, `.` and spaces): letters and digits with
/// `-`, `.`, `/` or `_` inside, at least one digit, at most 40 characters.
fn code_at(rest: &str) -> Option<String> {
    let rest =
        rest.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '#' | '.' | '：'));
    let code: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '/' | '_'))
        .collect();
    let code = code.trim_end_matches(['-', '.', '/', '_']);
    (code.chars().any(|c| c.is_ascii_digit()) && (3..=40).contains(&code.chars().count()))
        .then(|| code.to_string())
}

/// Longest label a button has (a link around a paragraph is not a button).
const MAX_BUTTON_LABEL: usize = 120;

/// Whether an element is a buy button: by what it says (its text, value, title, alt or
/// label) or by its name (`add-to-cart`, `button-cart`, `buy-now`).
fn is_buy_button(el: ElementRef<'_>) -> bool {
    let v = el.value();
    let label = format!(
        "{} {} {} {} {}",
        el.text().collect::<String>(),
        v.attr("value").unwrap_or_default(),
        v.attr("title").unwrap_or_default(),
        v.attr("alt").unwrap_or_default(),
        v.attr("aria-label").unwrap_or_default()
    )
    .to_lowercase();
    let names = format!(
        "{} {}",
        v.attr("id").unwrap_or_default(),
        v.attr("class").unwrap_or_default()
    )
    .to_ascii_lowercase()
    .replace(['-', '_'], "");
    let says_buy = label.chars().count() <= MAX_BUTTON_LABEL
        && BUY.iter().any(|p| {
            label.match_indices(p).any(|(at, _)| {
                let before = label[..at].chars().next_back();
                let after = label[at + p.len()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            })
        });
    says_buy
        || [
            "addtocart",
            "addtobag",
            "addtobasket",
            "buttoncart",
            "btncart",
            "buynow",
            "buybutton",
        ]
        .iter()
        .any(|n| names.contains(n))
}

/// A buy button the user can press says in stock, whatever a size list says of one size; else
/// the buy box's visible words; else a buy button the page has switched off says out of stock.
fn availability_in(area: ElementRef<'_>) -> Option<Availability> {
    static BUTTONS: LazyLock<Selector> = LazyLock::new(|| {
        selector(
            "button, input[type=submit], input[type=button], input[type=image], a, \
             img[id*=cart i], img[alt]",
        )
    });
    let buy_buttons: Vec<bool> = area
        .select(&BUTTONS)
        .filter(|b| is_buy_button(*b) && !is_hidden(*b))
        .map(|b| b.value().attr("disabled").is_none())
        .collect();
    if buy_buttons.contains(&true) {
        return Some(Availability::InStock);
    }
    // The buy box's own visible words, not a size list's ("M — sold out").
    let text: String =
        area.descendants()
            .filter_map(|n| n.value().as_text().map(|t| (n, t.to_lowercase())))
            .filter(|(n, _)| {
                n.parent()
                    .and_then(ElementRef::wrap)
                    .is_none_or(|p| !is_hidden(p))
                    && !n.ancestors().filter_map(ElementRef::wrap).any(|a| {
                        matches!(a.value().name(), "option" | "select" | "script" | "style")
                    })
            })
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join(" ");
    availability_said(&text).or((!buy_buttons.is_empty()).then_some(Availability::OutOfStock))
}

/// The availability a buy box's words state: sold out when they say so, else in stock when
/// they say that (lower-cased here, so any case is read).
pub(super) fn availability_said(text: &str) -> Option<Availability> {
    let text = text.to_lowercase();
    if OUT_OF_STOCK.iter().any(|p| text.contains(p)) {
        return Some(Availability::OutOfStock);
    }
    if IN_STOCK.iter().any(|p| text.contains(p)) {
        return Some(Availability::InStock);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(html: &str, url: &str) -> ProductFacts {
        let mut w = Vec::new();
        facts(
            &Page::parse(html, Some(url), &mut w),
            &ProductFacts::default(),
        )
    }

    #[test]
    fn the_price_beside_the_title_not_the_struck_out_one_nor_a_tiles() {
        let f = of(
            r#"<div class="product"><h1>Chair</h1>
              <div class="price-box"><span class="old-price">59,90 €</span>
                <span class="price">49,90 €</span><span class="unit-price">9,98 €/kg</span></div>
              <button>In den Warenkorb</button></div>
              <div class="related"><a href="/t"><span class="price">9,99 €</span></a></div>"#,
            "https://shop.example.de/chair",
        );
        assert_eq!(f.price.as_deref(), Some("49.90"));
        assert_eq!(f.currency.as_deref(), Some("EUR"));
        assert_eq!(f.availability, Some(Availability::InStock));
    }

    #[test]
    fn sold_out_said_in_the_buy_box() {
        let f = of(
            r#"<main><h1>Vase</h1><p class="price">$12.00</p><p>Sold out</p>
              <button disabled>Add to cart</button></main>"#,
            "https://shop.example.com/vase",
        );
        assert_eq!(f.price.as_deref(), Some("12.00"));
        assert_eq!(f.currency, None, "a dollar of which country?");
        assert_eq!(f.availability, Some(Availability::OutOfStock));
    }

    #[test]
    fn no_title_or_no_price_gives_nothing() {
        assert_eq!(
            of("<p class=price>12 €</p>", "https://s.example/"),
            ProductFacts::default()
        );
        let f = of("<h1>Lamp</h1><p>Call us</p>", "https://s.example/");
        assert_eq!(f.price, None);
    }

    #[test]
    fn five_prices_or_prices_in_scripts_only_give_no_price() {
        let five = of(
            r#"<main><h1>Hosting plan</h1>
              <div class="plans"><span class="price">5 €</span><span class="price">9 €</span>
              <span class="price">15 €</span><span class="price">29 €</span>
              <span class="price">49 €</span></div><button>Buy now</button></main>"#,
            "https://shop.example.de/plan",
        );
        assert_eq!((five.price, five.currency), (None, None), "which one?");
        assert_eq!(five.availability, Some(Availability::InStock));
        let scripts = of(
            r#"<main><h1>Lamp</h1><script>var price = "12,99 €";
              dataLayer.push({"price": 12.99, "currency": "EUR"})</script></main>"#,
            "https://shop.example.de/lamp",
        );
        assert_eq!((scripts.price, scripts.currency), (None, None));
        let two = of(
            r#"<main><h1>Lamp</h1><span class="price">12 €</span>
              <span class="price">4 x 3 €</span></main>"#,
            "https://shop.example.de/lamp",
        );
        assert_eq!(two.price.as_deref(), Some("12.00"), "two are not ambiguous");
    }
}
