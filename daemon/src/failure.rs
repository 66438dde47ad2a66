//! What failed, as a kind and a message. A failure's kind ([`FailureKind`], stable names in the
//! protocol crate) is set where the error is made — each error type says its own kind — and
//! travels beside the message through the journal, the manifest, the protocol and the API, so
//! that nothing downstream guesses the kind back from English text and every place a person
//! reads a failure (the terminal, the inbox report, the status page, the button, the API) shows
//! the same explanation ([`explain`]).

use std::io;

pub use haul_protocol::message::FailureKind;

/// A failure as it is journaled: its kind and the precise, technical reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub kind: FailureKind,
    pub reason: String,
}

impl Failed {
    pub fn new(kind: FailureKind, reason: impl Into<String>) -> Failed {
        Failed {
            kind,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The kind of a failure to write a file: a full disk is told apart from the rest.
pub fn of_write(e: &io::Error) -> FailureKind {
    // ENOSPC (Linux, macOS) and ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL (Windows).
    let full_code = |code: i32| {
        if cfg!(windows) {
            code == 112 || code == 39
        } else {
            code == 28
        }
    };
    // EROFS (Linux, macOS) and ERROR_WRITE_PROTECT (Windows): not a full disk, not a
    // permission the user can grant — another folder or another disk.
    let read_only = |code: i32| {
        if cfg!(windows) {
            code == 19
        } else {
            code == 30
        }
    };
    if e.kind() == io::ErrorKind::StorageFull || e.raw_os_error().is_some_and(full_code) {
        FailureKind::DiskFull
    } else if e.kind() == io::ErrorKind::ReadOnlyFilesystem
        || e.raw_os_error().is_some_and(read_only)
    {
        FailureKind::ReadOnly
    } else {
        FailureKind::CannotWrite
    }
}

/// What happened and what to do, in plain words, for a failure of `kind`; the reason itself, as
/// a sentence, for a kind without an explanation.
pub fn explain(kind: FailureKind, reason: &str) -> String {
    match kind.explanation() {
        Some(text) => text.to_string(),
        None => sentence(reason),
    }
}

/// The explanation of `kind` followed by the precise reason in brackets (the reason alone for a
/// kind without one): for texts a person reads later, such as an inbox report.
pub fn with_reason(kind: FailureKind, reason: &str) -> String {
    match kind.explanation() {
        Some(text) => format!("{text} ({reason})"),
        None => reason.to_string(),
    }
}

/// The reason itself, as a sentence.
fn sentence(reason: &str) -> String {
    let reason = reason.trim();
    let mut chars = reason.chars();
    let mut s = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => return "Something went wrong.".to_string(),
    };
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}

/// The kind of a failure journaled before kinds existed, read once from its text when the
/// journal is upgraded (the messages of that haul are known); `Other` when the text does not
/// say. Nothing else reads a kind from text.
pub fn kind_of_old_reason(reason: &str) -> FailureKind {
    let r = reason.to_ascii_lowercase();
    if r.contains("did not give haul the product page") {
        return FailureKind::PageWalled;
    }
    if let Some(status) = old_http_status(&r) {
        return match status {
            404 | 410 => FailureKind::NotFound,
            401 | 403 => FailureKind::Forbidden,
            429 => FailureKind::RateLimited,
            500..=599 => FailureKind::ServerError,
            _ => FailureKind::HttpError,
        };
    }
    let has = |needle: &str| r.contains(needle);
    if has("instead of an image or video") || has("is not an image haul can store") {
        FailureKind::NotMedia
    } else if has("refused to download from") {
        FailureKind::RefusedPrivateAddress
    } else if has("only http and https") || has("is not a valid url") || has("has no host") {
        FailureKind::NotWebAddress
    } else if has("could not resolve") || has("dns error") {
        FailureKind::NameNotResolved
    } else if has("could not connect") {
        FailureKind::Unreachable
    } else if has("timed out") {
        FailureKind::Timeout
    } else if has("connection broke") || (has("of the") && has("bytes it announced")) {
        FailureKind::Interrupted
    } else if has("redirect") {
        FailureKind::Redirects
    } else if has("max_file_bytes") {
        FailureKind::TooLarge
    } else if has("max_job_bytes") {
        FailureKind::JobTooLarge
    } else if has("damaged") {
        FailureKind::Damaged
    } else if has("no space") {
        FailureKind::DiskFull
    } else if has("cannot write") {
        FailureKind::CannotWrite
    } else if r == "cancelled" || r == "stopped" {
        FailureKind::Cancelled
    } else if has("nothing could be saved") {
        FailureKind::NothingSaved
    } else if has("nothing to save") {
        FailureKind::NothingToSave
    } else {
        FailureKind::Other
    }
}

/// `Some(404)` for "… answered 404 Not Found …".
fn old_http_status(r: &str) -> Option<u16> {
    let after = r.split("answered ").nth(1)?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_explanation_and_other_shows_the_reason() {
        let mut seen = std::collections::HashSet::new();
        for &kind in FailureKind::ALL {
            let text = explain(kind, "the reason");
            assert!(seen.insert(text.clone()), "{kind} shares {text:?}");
        }
        assert_eq!(
            explain(FailureKind::Other, "something odd"),
            "Something odd."
        );
        assert_eq!(explain(FailureKind::Other, ""), "Something went wrong.");
        assert!(explain(FailureKind::NotFound, "whatever it says").contains("no longer"));
    }

    #[test]
    fn old_reasons_get_their_kind_once() {
        for (reason, kind) in [
            ("the server answered 404 Not Found", FailureKind::NotFound),
            (
                "gave up after 6 attempts: the server answered 503 Service Unavailable",
                FailureKind::ServerError,
            ),
            (
                "the server answered 429 Too Many Requests",
                FailureKind::RateLimited,
            ),
            (
                "the server sent an HTML page instead of an image or video",
                FailureKind::NotMedia,
            ),
            (
                "gave up after 3 attempts: timed out: reading",
                FailureKind::Timeout,
            ),
            (
                "gave up after 6 attempts: could not connect: dns error: could not resolve host name x",
                FailureKind::NameNotResolved,
            ),
            (
                "www.amazon.com did not give haul the product page: it answered 503",
                FailureKind::PageWalled,
            ),
            ("something odd", FailureKind::Other),
        ] {
            assert_eq!(kind_of_old_reason(reason), kind, "{reason}");
        }
    }

    #[test]
    fn a_full_disk_is_its_own_kind() {
        assert_eq!(
            of_write(&io::Error::from(io::ErrorKind::StorageFull)),
            FailureKind::DiskFull
        );
        assert_eq!(
            of_write(&io::Error::from(io::ErrorKind::PermissionDenied)),
            FailureKind::CannotWrite
        );
    }
}
