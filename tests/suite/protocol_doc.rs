//! `docs/protocol.md` stays true to the contract crate: every JSON example decodes as the message
//! it shows, the error-code and failure-kind tables are the crate's, the framing example is the codec's exact
//! bytes, and the version it names is `PROTOCOL_VERSION`.

use std::path::Path;

use haul_protocol::PROTOCOL_VERSION;
use haul_protocol::frame::{MAX_FROM_BROWSER, encode_header};
use haul_protocol::message::{ErrorCode, FailureKind, Reply, Request};
use serde_json::Value;

fn doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
        .join("protocol.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The bodies of the doc's fenced blocks of `lang`.
fn blocks(doc: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}");
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match &mut current {
            None if line.trim_end() == fence => current = Some(String::new()),
            Some(body) if line.trim_end() == "```" => {
                out.push(std::mem::take(body));
                current = None;
            }
            Some(body) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn every_json_example_is_a_message_this_version_decodes() {
    let doc = doc();
    let mut seen = Vec::new();
    for block in blocks(&doc, "json") {
        for value in serde_json::Deserializer::from_str(&block).into_iter::<Value>() {
            let value = value.unwrap_or_else(|e| panic!("an example is not JSON ({e}):\n{block}"));
            let body = value.to_string();
            let kind = value["type"].as_str().unwrap_or_default().to_string();
            let as_request = Request::decode(body.as_bytes());
            let as_reply = Reply::decode(body.as_bytes());
            assert!(
                as_request.is_ok() || as_reply.is_ok(),
                "{body}\n as a request: {as_request:?}\n as a reply: {as_reply:?}"
            );
            seen.push(kind);
        }
    }
    for kind in Request::TYPES.iter().chain(Reply::TYPES) {
        assert!(
            seen.iter().any(|k| k == kind),
            "docs/protocol.md has no example of {kind:?}"
        );
    }
}

#[test]
fn the_error_code_table_is_the_crates() {
    let crate_codes = [
        (ErrorCode::BAD_MESSAGE, "BAD_MESSAGE"),
        (ErrorCode::UNKNOWN_TYPE, "UNKNOWN_TYPE"),
        (ErrorCode::INVALID_FIELDS, "INVALID_FIELDS"),
        (ErrorCode::TOO_LARGE, "TOO_LARGE"),
        (ErrorCode::REPLY_TOO_LARGE, "REPLY_TOO_LARGE"),
        (ErrorCode::VERSION_MISMATCH, "VERSION_MISMATCH"),
        (ErrorCode::DAEMON_UNAVAILABLE, "DAEMON_UNAVAILABLE"),
        (ErrorCode::NOT_FOUND, "NOT_FOUND"),
        (ErrorCode::FORBIDDEN, "FORBIDDEN"),
        (ErrorCode::BUSY, "BUSY"),
        (ErrorCode::SHUTTING_DOWN, "SHUTTING_DOWN"),
        (ErrorCode::NOTHING_TO_GRAB, "NOTHING_TO_GRAB"),
        (ErrorCode::INTERNAL, "INTERNAL"),
    ];
    let documented: Vec<(u32, String)> = doc()
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let code = cells.get(1)?.parse::<u32>().ok()?;
            let name = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((code, name.to_string()))
        })
        .collect();
    let expected: Vec<(u32, String)> = crate_codes
        .iter()
        .map(|(code, name)| (code.0, name.to_string()))
        .collect();
    assert_eq!(documented, expected);
}

/// The failure-kind table lists every kind, in order, with whether it is final and the very
/// words haul shows for it.
#[test]
fn the_failure_kind_table_is_the_crates() {
    let documented: Vec<(String, bool, String)> = doc()
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let final_ = match *cells.get(2)? {
                "final" => true,
                "" => false,
                _ => return None,
            };
            Some((name.to_string(), final_, cells.get(3)?.to_string()))
        })
        .collect();
    let expected: Vec<(String, bool, String)> = FailureKind::ALL
        .iter()
        .map(|k| {
            let words = k
                .explanation()
                .unwrap_or_else(|| documented_other(&documented));
            (k.as_str().to_string(), !k.may_pass(), words.to_string())
        })
        .collect();
    assert_eq!(documented, expected);
}

fn documented_other(documented: &[(String, bool, String)]) -> &str {
    documented
        .iter()
        .find(|(name, ..)| name == "other")
        .map_or("", |(.., words)| words.as_str())
}

#[test]
fn the_framing_example_and_the_version_are_exact() {
    let doc = doc();
    let header = encode_header(r#"{"type":"hello"}"#.len(), MAX_FROM_BROWSER).expect("header");
    if cfg!(target_endian = "little") {
        assert!(doc.contains("10 00 00 00 7b 22 74 79 70 65"));
        assert_eq!(header, [0x10, 0, 0, 0]);
    }
    assert!(
        doc.contains(&format!("`PROTOCOL_VERSION` (now **{PROTOCOL_VERSION}**)")),
        "the doc names the current protocol version"
    );
}
