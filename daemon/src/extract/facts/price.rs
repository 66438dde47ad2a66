//! Prices as pages write them, made into a decimal amount and an ISO 4217 currency.
//!
//! Pages write `1.299,00 €`, `€ 1 299,00`, `R$ 1.299`, `¥1,299`, `CHF 12.–`, `$1,299.99`,
//! `Rs 23,450`. [`parse_amount`] reads the number: with both `.` and `,` the last one is the
//! decimal mark; with one of them repeated, it groups thousands; with one of them once, it is the
//! decimal mark unless exactly three digits follow it (`1.299`, `23,450`), as in most shops'
//! thousands grouping. `.–`/`,-` end a whole amount. [`currency_in`] reads the currency: an ISO
//! code or a symbol that names one currency (`€`, `£`, `₹`, `R$`, `zł`, …); a symbol shared by
//! several (`$`, `¥`, `kr`) only when the page's own country settles it, and otherwise none —
//! a wrong currency is worse than none.

/// A price as a decimal string without grouping (`"1299.00"`, `"12.5"` → `"12.50"`): the whole
/// number and at least two decimals. `None` when `text` holds no number.
pub fn parse_amount(text: &str) -> Option<String> {
    let number = first_number(text)?;
    let (whole, fraction) = split_decimal(&number);
    let whole: String = whole.chars().filter(char::is_ascii_digit).collect();
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    if whole.len() > 15 {
        return None;
    }
    let mut fraction: String = fraction
        .chars()
        .filter(char::is_ascii_digit)
        .take(4)
        .collect();
    while fraction.len() < 2 {
        fraction.push('0');
    }
    Some(format!("{whole}.{fraction}"))
}

/// A machine-written amount (`1299.5`, `"1299.50"`; a human-written one as a fallback).
pub fn machine_amount(value: &str) -> Option<String> {
    let v = value.trim();
    let plain = !v.is_empty()
        && v.bytes().filter(|b| *b == b'.').count() <= 1
        && v.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if plain {
        let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
        let whole = whole.trim_start_matches('0');
        let whole = if whole.is_empty() { "0" } else { whole };
        let mut fraction: String = fraction.chars().take(4).collect();
        while fraction.len() < 2 {
            fraction.push('0');
        }
        return Some(format!("{whole}.{fraction}"));
    }
    parse_amount(v)
}

/// The first run of digits and grouping marks in `text`, with a trailing `.–`/`,-` dropped.
fn first_number(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let start = chars.iter().position(char::is_ascii_digit)?;
    let mut out = String::new();
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        let next_is_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        match c {
            '0'..='9' => out.push(c),
            // A grouping or decimal mark only between digits (`1 299`, `1'299`, `1.299,00`).
            '.' | ',' | '\'' | '’' | ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' if next_is_digit => {
                out.push(c)
            }
            _ => break,
        }
        i += 1;
    }
    Some(out)
}

/// The whole and fractional parts of a number written with grouping marks (module doc).
fn split_decimal(number: &str) -> (&str, &str) {
    let last_dot = number.rfind('.');
    let last_comma = number.rfind(',');
    let mark = match (last_dot, last_comma) {
        (Some(d), Some(c)) => Some(d.max(c)),
        (Some(at), None) | (None, Some(at)) => {
            let sep = number[at..].chars().next().unwrap_or('.');
            let repeated = number.matches(sep).count() > 1;
            let digits_after = number[at + 1..]
                .chars()
                .filter(char::is_ascii_digit)
                .count();
            (!repeated && digits_after != 3).then_some(at)
        }
        (None, None) => None,
    };
    match mark {
        Some(at) => (&number[..at], &number[at + 1..]),
        None => (number, ""),
    }
}

/// Symbols and names that stand for exactly one currency, longest first where one contains
/// another (`R$` before `$`).
const UNAMBIGUOUS: &[(&str, &str)] = &[
    ("R$", "BRL"),
    ("A$", "AUD"),
    ("AU$", "AUD"),
    ("C$", "CAD"),
    ("CA$", "CAD"),
    ("NZ$", "NZD"),
    ("HK$", "HKD"),
    ("NT$", "TWD"),
    ("US$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₹", "INR"),
    ("₽", "RUB"),
    ("₺", "TRY"),
    ("₩", "KRW"),
    ("₪", "ILS"),
    ("₫", "VND"),
    ("₱", "PHP"),
    ("฿", "THB"),
    ("₴", "UAH"),
    ("GH₵", "GHS"),
    ("zł", "PLN"),
    ("Kč", "CZK"),
    ("lei", "RON"),
    ("Ft", "HUF"),
    ("kn", "HRK"),
    ("ر.س", "SAR"),
    ("د.إ", "AED"),
    ("元", "CNY"),
    ("円", "JPY"),
];

/// ISO 4217 codes haul recognises written out in a page (`EUR 12.00`, `12 CHF`).
const CODES: &[&str] = &[
    "EUR", "USD", "GBP", "CHF", "CAD", "AUD", "NZD", "JPY", "CNY", "HKD", "TWD", "SGD", "INR",
    "BRL", "MXN", "CLP", "ARS", "COP", "PEN", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON",
    "BGN", "HRK", "RUB", "UAH", "TRY", "ILS", "SAR", "AED", "QAR", "KWD", "EGP", "ZAR", "KRW",
    "THB", "VND", "PHP", "IDR", "MYR", "PKR", "NGN", "GHS",
];

/// The currency `text` names: an ISO code, or a symbol of one currency, or a shared symbol
/// (`$`, `¥`, `kr`, `Rs`) that `country` (the page's, ISO 3166 alpha-2, lower-case) settles.
pub fn currency_in(text: &str, country: Option<&str>) -> Option<String> {
    let upper = text.to_uppercase();
    for code in CODES {
        if contains_word(&upper, code) {
            return Some((*code).to_string());
        }
    }
    for (symbol, code) in UNAMBIGUOUS {
        let found = if symbol.chars().all(char::is_alphabetic) {
            contains_word(&text.to_lowercase(), &symbol.to_lowercase())
        } else {
            text.contains(symbol)
        };
        if found {
            return Some((*code).to_string());
        }
    }
    let shared = |symbol: &str| {
        if symbol.chars().all(char::is_alphabetic) {
            contains_word(&text.to_lowercase(), symbol)
        } else {
            text.contains(symbol)
        }
    };
    let by_country = |pairs: &[(&str, &str)]| -> Option<String> {
        let country = country?;
        pairs
            .iter()
            .find(|(c, _)| *c == country)
            .map(|(_, code)| (*code).to_string())
    };
    if shared("$") {
        return by_country(&[
            ("us", "USD"),
            ("ca", "CAD"),
            ("au", "AUD"),
            ("nz", "NZD"),
            ("mx", "MXN"),
            ("cl", "CLP"),
            ("ar", "ARS"),
            ("co", "COP"),
            ("sg", "SGD"),
            ("hk", "HKD"),
            ("tw", "TWD"),
        ]);
    }
    if shared("¥") || shared("￥") {
        return by_country(&[("jp", "JPY"), ("cn", "CNY")]);
    }
    if shared("kr") {
        return by_country(&[("se", "SEK"), ("no", "NOK"), ("dk", "DKK")]);
    }
    if shared("rs") {
        return by_country(&[("pk", "PKR"), ("in", "INR"), ("lk", "LKR")]);
    }
    None
}

/// `word` in `text` with no letter right before or after it.
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphabetic) && !after.is_some_and(char::is_alphabetic)
    })
}

/// The ISO 4217 code for what a page's data writes as its currency (`EUR`, `eur`, `€`).
pub fn currency_code(value: &str, country: Option<&str>) -> Option<String> {
    let v = value.trim();
    if v.len() == 3 && v.chars().all(|c| c.is_ascii_alphabetic()) {
        return Some(v.to_ascii_uppercase());
    }
    currency_in(v, country)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_every_way_shops_write_them() {
        for (text, want) in [
            ("1.299,00 €", Some("1299.00")),
            ("€ 1 299,00", Some("1299.00")),
            ("R$ 1.299", Some("1299.00")),
            ("¥1,299", Some("1299.00")),
            ("CHF 12.–", Some("12.00")),
            ("12,- €", Some("12.00")),
            ("$1,299.99", Some("1299.99")),
            ("Rs 23,450", Some("23450.00")),
            ("23.450", Some("23450.00")),
            ("49.10", Some("49.10")),
            ("36,99 €", Some("36.99")),
            ("1'299.50", Some("1299.50")),
            ("£3", Some("3.00")),
            ("0.5", Some("0.50")),
            ("1.234.567", Some("1234567.00")),
            ("Price: 229.99 ", Some("229.99")),
            ("no price", None),
        ] {
            assert_eq!(parse_amount(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn currencies_only_where_the_page_settles_them() {
        assert_eq!(currency_in("1.299,00 €", None).as_deref(), Some("EUR"));
        assert_eq!(currency_in("R$ 1.299", None).as_deref(), Some("BRL"));
        assert_eq!(currency_in("CHF 12.–", None).as_deref(), Some("CHF"));
        assert_eq!(currency_in("12.00 lei", None).as_deref(), Some("RON"));
        assert_eq!(currency_in("GH₵80.51", None).as_deref(), Some("GHS"));
        assert_eq!(currency_in("$19.99", None), None, "which dollar?");
        assert_eq!(currency_in("$19.99", Some("ca")).as_deref(), Some("CAD"));
        assert_eq!(currency_in("¥1,299", Some("jp")).as_deref(), Some("JPY"));
        assert_eq!(currency_in("¥1,299", None), None);
        assert_eq!(currency_in("199 kr", Some("se")).as_deref(), Some("SEK"));
        assert_eq!(currency_in("Rs 23,450", Some("pk")).as_deref(), Some("PKR"));
        assert_eq!(currency_in("dollars", None), None);
        assert_eq!(currency_code("eur", None).as_deref(), Some("EUR"));
        assert_eq!(currency_code("€", None).as_deref(), Some("EUR"));
    }
}
