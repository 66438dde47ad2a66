//! Reading the data pages embed in scripts: JSON values inside JavaScript
//! (`var data = {'colorImages': {'initial': [ … ]}}`), JSON inside JavaScript string literals
//! (`jQuery.parseJSON('{…}')`), and `"key": "value"` pairs anywhere in the text.
//!
//! Every site extractor uses these and nothing else to read blobs, so the decoding rules live in
//! one place: JS escapes (`\'`, `\\`, `\xHH`, `\uHHHH`, `\u{…}`) are undone before JSON parsing,
//! JSON escapes (`\/`, `\u002F`) by `serde_json`. All scanning is bounded: a value longer than
//! [`MAX_BLOB`] or a marker that matches more than [`MAX_MARKERS`] times is not followed further,
//! so a hostile page costs linear time.

use regex::Regex;
use serde_json::Value;

/// Longest embedded value we try to parse (the largest real blob, Amazon's ImageBlockBTF on the
/// dog-vest page, is about 0.4 MB).
pub const MAX_BLOB: usize = 8 << 20;
/// How many matches of one marker are followed.
pub const MAX_MARKERS: usize = 64;
/// How many bytes the scanners may walk for all matches of one marker together: a page of
/// unterminated blobs would otherwise cost `MAX_MARKERS × MAX_BLOB`.
pub const SCAN_BUDGET: usize = 2 * MAX_BLOB;

/// Byte index just past the JSON/JS object or array that starts at `start` (which must hold `{`
/// or `[`), or `None` when it is not closed within [`MAX_BLOB`] bytes. Brackets inside `"…"` and
/// `'…'` strings are skipped.
pub fn balanced_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes().get(start..)?;
    if !matches!(bytes.first(), Some(b'{' | b'[')) {
        return None;
    }
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate().take(MAX_BLOB) {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == q {
                quote = None;
            }
            continue;
        }
        match b {
            b'"' | b'\'' => quote = Some(b),
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(start + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses the object or array that starts at `pos` (after optional whitespace). Returns the value
/// and the index just past it.
pub fn json_at(text: &str, pos: usize) -> Option<(Value, usize)> {
    scan_json_at(text, pos).0
}

/// [`json_at`] for any shape `T`, also telling how many bytes were scanned to find out.
fn scan_json_at<T: serde::de::DeserializeOwned>(
    text: &str,
    pos: usize,
) -> (Option<(T, usize)>, usize) {
    let rest = text.get(pos..).unwrap_or("");
    let start = pos + (rest.len() - rest.trim_start().len());
    let Some(end) = balanced_end(text, start) else {
        return (None, text.len().saturating_sub(start).min(MAX_BLOB));
    };
    let value = text
        .get(start..end)
        .and_then(|s| serde_json::from_str(s).ok());
    (value.map(|v| (v, end)), end - start)
}

/// Every object/array that directly follows a match of `marker` and parses as JSON, in page
/// order (at most [`MAX_MARKERS`] matches and [`SCAN_BUDGET`] bytes are tried). The marker's
/// match must end where the value begins (whitespace allowed).
pub fn json_after(text: &str, marker: &Regex) -> Vec<Value> {
    json_at_matches(text, marker, |m| m.end())
}

/// Every object/array that a match of `marker` opens (the match starts at its `{` or `[`, as
/// `\{"id":\d+,"title":` opens a Shopify product) and that parses as JSON, in page order,
/// bounded like [`json_after`]. For values no fixed text precedes, only their own first keys.
pub fn json_starting_at(text: &str, marker: &Regex) -> Vec<Value> {
    json_at_matches(text, marker, |m| m.start())
}

/// The values (of shape `T`) at `at(match)` for the first [`MAX_MARKERS`] matches of `marker`, within
/// [`SCAN_BUDGET`].
fn json_at_matches<T: serde::de::DeserializeOwned>(
    text: &str,
    marker: &Regex,
    at: fn(&regex::Match<'_>) -> usize,
) -> Vec<T> {
    let mut spent = 0usize;
    let mut out = Vec::new();
    for m in marker.find_iter(text).take(MAX_MARKERS) {
        if spent > SCAN_BUDGET {
            break;
        }
        let (value, scanned) = scan_json_at(text, at(&m));
        spent += scanned;
        out.extend(value.map(|(v, _)| v));
    }
    out
}

/// How a marker's candidate values fared: whether the marker was on the page at all, and the
/// values that parsed. Lets an extractor tell "absent" (fall through quietly) from "present but
/// malformed" (fall through with a warning).
pub struct Blobs {
    pub seen: bool,
    pub values: Vec<Value>,
}

impl Blobs {
    /// The first value that is a non-empty array (pages repeat a marker in unrelated places).
    pub fn first_array(&self) -> Option<&Vec<Value>> {
        self.values
            .iter()
            .filter_map(Value::as_array)
            .find(|a| !a.is_empty())
    }

    /// The strings of the first value that is a non-empty array of strings.
    pub fn first_strings(&self) -> Option<Vec<String>> {
        self.values.iter().map(strings).find(|l| !l.is_empty())
    }
}

/// [`json_after`] that also reports whether the marker occurred.
pub fn blobs_after(text: &str, marker: &Regex) -> Blobs {
    let seen = marker.is_match(text);
    let values = if seen {
        json_after(text, marker)
    } else {
        Vec::new()
    };
    Blobs { seen, values }
}

/// Decodes the JavaScript string literal whose opening quote (`'` or `"`) is at `start`.
/// Returns the decoded text and the index just past the closing quote.
pub fn js_string_at(text: &str, start: usize) -> Option<(String, usize)> {
    let rest = text.get(start..)?;
    let mut chars = rest.char_indices();
    let (_, quote) = chars.next()?;
    if quote != '\'' && quote != '"' {
        return None;
    }
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if i > MAX_BLOB {
            return None;
        }
        if c == quote {
            return Some((out, start + i + c.len_utf8()));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let (_, e) = chars.next()?;
        match e {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '0' => out.push('\0'),
            // Line continuation: the escaped newline is not part of the string.
            '\n' => {}
            '\r' => {
                if rest.get(i + 2..)?.starts_with('\n') {
                    chars.next();
                }
            }
            'x' => {
                let hex = take_hex(&mut chars, 2)?;
                out.push(char::from_u32(hex)?);
            }
            'u' => {
                let code = if rest.get(i + 2..)?.starts_with('{') {
                    chars.next();
                    let mut v = 0u32;
                    loop {
                        let (_, h) = chars.next()?;
                        if h == '}' {
                            break;
                        }
                        v = v.checked_mul(16)?.checked_add(h.to_digit(16)?)?;
                    }
                    v
                } else {
                    take_hex(&mut chars, 4)?
                };
                push_utf16(&mut out, code, &mut chars);
            }
            other => out.push(other),
        }
    }
    None
}

fn take_hex(chars: &mut std::str::CharIndices<'_>, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for _ in 0..n {
        let (_, h) = chars.next()?;
        v = v * 16 + h.to_digit(16)?;
    }
    Some(v)
}

/// Pushes a `\u` code unit, pairing a high surrogate with a following `\uDCxx`; lone
/// surrogates become U+FFFD.
fn push_utf16(out: &mut String, code: u32, chars: &mut std::str::CharIndices<'_>) {
    if (0xD800..0xDC00).contains(&code) {
        let mut look = chars.clone();
        let low = match (look.next(), look.next()) {
            (Some((_, '\\')), Some((_, 'u'))) => take_hex(&mut look, 4),
            _ => None,
        };
        if let Some(low) = low.filter(|l| (0xDC00..0xE000).contains(l)) {
            *chars = look;
            let c = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
            return;
        }
    }
    out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
}

/// Every JSON value passed as a string literal right after a match of `marker`
/// (`jQuery.parseJSON('…')`): the literal is JS-decoded, then parsed as JSON. `seen` tells
/// whether any match was followed by a string literal at all (`parseJSON(json)` is not).
pub fn json_in_js_strings_after(text: &str, marker: &Regex) -> Blobs {
    let mut seen = false;
    let mut values = Vec::new();
    let mut spent = 0usize;
    for m in marker.find_iter(text).take(MAX_MARKERS) {
        if spent > SCAN_BUDGET {
            break;
        }
        let rest = text.get(m.end()..).unwrap_or("");
        let start = m.end() + (rest.len() - rest.trim_start().len());
        if !rest.trim_start().starts_with(['\'', '"']) {
            continue;
        }
        seen = true;
        match js_string_at(text, start) {
            Some((s, end)) => {
                spent += end - start;
                if let Ok(v) = serde_json::from_str::<Value>(&s) {
                    values.push(v);
                }
            }
            None => spent += text.len().saturating_sub(start).min(MAX_BLOB),
        }
    }
    Blobs { seen, values }
}

/// The decoded string values of every `"key": "…"` pair in `text`, in page order, at most
/// [`MAX_MARKERS`].
pub fn json_string_values(text: &str, key: &str) -> Vec<String> {
    let pattern = format!(r#""{}"\s*:\s*"((?:[^"\\]|\\.)*)""#, regex::escape(key));
    let Ok(re) = Regex::new(&pattern) else {
        return Vec::new();
    };
    re.captures_iter(text)
        .take(MAX_MARKERS)
        .filter_map(|c| {
            let inner = c.get(1)?.as_str();
            serde_json::from_str::<String>(&format!("\"{inner}\"")).ok()
        })
        .collect()
}

/// A JSON object's entries in the order the page wrote them. `serde_json::Value` sorts an
/// object's keys; where their order means something (JD's SKU dimensions: version, then
/// style), read the object as this.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ordered(pub Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ordered, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Entries)
    }
}

/// The first object/array right after a match of `marker` (as [`json_after`]) that parses as
/// `T` — for shapes whose order [`Value`] would lose (a list of [`Ordered`] objects).
pub fn parsed_after<T: serde::de::DeserializeOwned>(text: &str, marker: &Regex) -> Option<T> {
    json_at_matches(text, marker, |m| m.end())
        .into_iter()
        .next()
}

/// Every value stored under `key` anywhere inside `value` (depth-first, page order).
pub fn find_all<'a>(value: &'a Value, key: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    // Bounded by the value's size; serde_json already caps nesting depth while parsing.
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(hit) = map.get(key) {
                    out.push(hit);
                }
                stack.extend(map.values().rev());
            }
            Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    out
}

/// `value[k1][k2]…`, tolerating absent keys.
pub fn path<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(value, |v, k| v.get(k))
}

/// A string, or a number written as a string (ids are often either).
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The strings of an array value (non-strings are skipped).
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(text).collect())
        .unwrap_or_default()
}

/// A number, or a number written as a string (`"679"` in Amazon's BTF data).
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// JavaScript truthiness of the flags pages use: `true`, `"true"`, `"True"`, `1`.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true") || s == "1",
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::page::regex;

    #[test]
    fn balanced_skips_brackets_in_strings() {
        let t = r#"x = {"a": "}]", 'b': ['{', "\"]"]} tail"#;
        let start = t.find('{').unwrap_or(0);
        let end = balanced_end(t, start).unwrap_or(0);
        assert_eq!(&t[start..end], r#"{"a": "}]", 'b': ['{', "\"]"]}"#);
        assert_eq!(balanced_end("{ never closed", 0), None);
        assert_eq!(balanced_end("abc", 1), None);
        assert_eq!(balanced_end("", 5), None);
    }

    #[test]
    fn json_starting_at_a_marker_that_opens_it() {
        let t = r#"var a = {"id":1,"title":"A","handle":"a","variants":[{"id":2,"title":"B"}]}; b({"id":3,"title":"C","handle":"c"});"#;
        let re = regex(r#"\{"id":\d+,"title":"[^"]*","handle":"#);
        let v = json_starting_at(t, &re);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0]["handle"], "a");
        assert_eq!(v[0]["variants"][0]["id"], 2);
        assert_eq!(v[1]["id"], 3);
    }

    #[test]
    fn json_after_a_js_marker() {
        let t = "var data = {\n 'colorImages': { 'initial': [{\"hiRes\":\"x\"}] }, 'other': 1 };";
        let re = regex(r"'colorImages'\s*:\s*\{\s*'initial'\s*:\s*");
        let v = json_after(t, &re);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0][0]["hiRes"], "x");
        let none = blobs_after("nothing", &re);
        assert!(!none.seen && none.values.is_empty());
        let bad = blobs_after("'colorImages': { 'initial': [oops", &re);
        assert!(bad.seen && bad.values.is_empty());
    }

    #[test]
    fn js_strings_decode_before_json() {
        // JSON's `\"` is written `\\"` inside the JS literal; `\'` is a JS-only escape.
        let t = r#"var obj = jQuery.parseJSON('{"title":"Gorilla 1.88\\" x 12 yd","q":"it\'s","u":"a\\\\b","e":"\u00e9\x41"}');"#;
        let blobs = json_in_js_strings_after(t, &regex(r"parseJSON\("));
        assert!(blobs.seen);
        assert_eq!(blobs.values.len(), 1);
        let v = &blobs.values[0];
        assert_eq!(v["title"], "Gorilla 1.88\" x 12 yd");
        assert_eq!(v["q"], "it's");
        assert_eq!(v["u"], "a\\b");
        assert_eq!(v["e"], "éA");
    }

    #[test]
    fn js_string_edge_cases() {
        assert_eq!(js_string_at("'abc'", 0), Some(("abc".to_string(), 5)));
        assert_eq!(js_string_at("'unterminated", 0), None);
        assert_eq!(js_string_at("x'a'", 0), None);
        assert_eq!(
            js_string_at("'\\uD83D\\uDE00'", 0).map(|(s, _)| s),
            Some("😀".into())
        );
        assert_eq!(
            js_string_at("'\\uD83D'", 0).map(|(s, _)| s),
            Some("\u{FFFD}".into())
        );
        assert_eq!(
            js_string_at("'\\u{1F600}'", 0).map(|(s, _)| s),
            Some("😀".into())
        );
        assert_eq!(
            js_string_at("'a\\\nb'", 0).map(|(s, _)| s),
            Some("ab".into())
        );
        assert_eq!(js_string_at("'\\xZZ'", 0), None);
        assert_eq!(js_string_at("'\\u{FFFFFFFFFF}'", 0), None);
        assert_eq!(js_string_at("'é'", 0), Some(("é".into(), 4)));
    }

    #[test]
    fn string_values_are_json_decoded() {
        let t = r#"{"maxImageUrl":"http:\u002F\u002Fi.ebayimg.com\u002Fimages\u002Fg\u002Fx\u002Fs-l1600.jpg","maxImageUrl" : "b\/c"}"#;
        assert_eq!(
            json_string_values(t, "maxImageUrl"),
            vec![
                "http://i.ebayimg.com/images/g/x/s-l1600.jpg".to_string(),
                "b/c".to_string()
            ]
        );
    }

    #[test]
    fn ordered_objects_keep_the_page_s_order() {
        let t = r#"colorSize: [{"版本":"A","skuId":1,"款式":"B"}, {"z":"1","a":"2"}], x: 1"#;
        let list: Vec<Ordered> = parsed_after(t, &regex(r"colorSize\s*:\s*")).unwrap_or_default();
        let keys: Vec<Vec<&str>> = list
            .iter()
            .map(|o| o.0.iter().map(|(k, _)| k.as_str()).collect())
            .collect();
        assert_eq!(keys, vec![vec!["版本", "skuId", "款式"], vec!["z", "a"]]);
        // Not an array of objects: nothing, not a panic.
        assert_eq!(
            parsed_after::<Vec<Ordered>>("colorSize: [1, 2]", &regex("colorSize: ")),
            None
        );
        assert_eq!(
            parsed_after::<Vec<Ordered>>("colorSize: [", &regex("colorSize: ")),
            None
        );
    }

    #[test]
    fn finding_keys_in_nested_values() {
        let v: Value =
            serde_json::json!({"a": {"video": {"videoUrl": "1"}}, "b": [{"videoUrl": "2"}]});
        let hits: Vec<_> = find_all(&v, "videoUrl")
            .into_iter()
            .filter_map(text)
            .collect();
        assert_eq!(hits, vec!["1", "2"]);
        assert_eq!(
            path(&v, &["a", "video", "videoUrl"]).and_then(text),
            Some("1".into())
        );
        assert!(truthy(&serde_json::json!("True")) && !truthy(&Value::Null));
        assert_eq!(number(&serde_json::json!("679")), Some(679.0));
    }
}
