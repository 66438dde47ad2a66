//! What keeps other web pages away from the status API. Any site the user visits can make the
//! browser send requests to `127.0.0.1`, so every request passes these checks, in order, before
//! it reaches a handler:
//!
//! 1. **Host** must be `127.0.0.1:PORT`, `localhost:PORT` or `[::1]:PORT` with this server's
//!    port, else `421 bad_host`: a DNS-rebinding page (`evil.example` or `127.0.0.1.nip.io`
//!    resolving to loopback) always sends its own name.
//! 2. **Fetch metadata**: a request the browser marks `Sec-Fetch-Site: cross-site` or
//!    `same-site` (another site, or another port on localhost) is refused with `403 cross_site`,
//!    except a top-level navigation to the page itself (a link to the status page still opens).
//! 3. **State-changing methods** (anything but GET/HEAD/OPTIONS) need an `Origin` that is the
//!    page itself or a trusted extension (`403 forbidden_origin`; a missing Origin is accepted
//!    only from non-browser clients, which never send Sec-Fetch headers).
//! 4. **Signed in**: every request but a one-time link (`/open?key=…`) needs the session cookie
//!    that link set, or the per-install token in `X-Haul-Token` (or `Authorization: Bearer`):
//!    `401 unauthorized` for a read without either, `403 missing_token` for a change,
//!    `403 bad_token` for a wrong token ([`super::access`]). The token lives in the data dir
//!    (0600) and is never sent by the server; a browser gets its cookie only through a link that
//!    the user-only local socket hands out, so another account on the machine, which can open a
//!    TCP connection but not the socket, gets nothing.
//! 5. **Body size**: a declared `Content-Length` over [`super::MAX_BODY_BYTES`] is refused with
//!    `413 too_large` before any byte of it is read (bodies without a length are capped while
//!    they are read).
//!
//! No CORS header is ever sent, so no other origin can read an answer. Every answer carries a
//! strict Content-Security-Policy (scripts and styles only from this origin, no inline code),
//! `frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`
//! and `Cross-Origin-Resource-Policy: same-origin`.

use std::io::{self, Write};
use std::path::Path;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::access::OPEN_PATH;
use super::clients::{Client, MAX_REQUESTS_PER_CLIENT};
use super::error::ApiError;

/// The header state-changing requests carry the token in.
pub const TOKEN_HEADER: &str = "x-haul-token";

/// The Content-Security-Policy of every answer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Reads the per-install API token at `path`, creating it (0600, 32 random bytes as hex) when
/// it is missing or unreadable as a token.
pub fn read_or_create_token(path: &Path) -> io::Result<String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let token = text.trim();
        if is_token(token) {
            tighten(path)?;
            return Ok(token.to_string());
        }
    }
    if let Some(dir) = path.parent() {
        haul_protocol::private::create_dir(dir)?;
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let token = hex::encode(bytes);
    // Written under a temporary name with its final mode from the start, then renamed, so the
    // token is never readable by others and never half-written.
    let temp = path.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let mut file = haul_protocol::private::options()
        .write(true)
        .create_new(true)
        .open(&temp)?;
    file.write_all(token.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, path)?;
    Ok(token)
}

/// Reads the token of an install (for the CLI and tests); `None` when there is none yet.
pub fn read_token(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let token = text.trim();
    is_token(token).then(|| token.to_string())
}

fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn tighten(path: &Path) -> io::Result<()> {
    haul_protocol::private::tighten_file(path)
}

/// The middleware: checks every request, then adds the security headers to every answer.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = match check(&state, &req) {
        Ok(None) => next.run(req).await,
        // Signed in: one more request of this client, held until its answer has been sent.
        Ok(Some(client)) => match state.clients().take(client) {
            Some(slot) => super::room::hold_until_sent(next.run(req).await, slot),
            None => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!(
                    "this client already has {MAX_REQUESTS_PER_CLIENT} requests open at haul's status server; close some of haul's status page tabs or end the script's other requests, then try again"
                ),
            )
            .into_response(),
        },
        // A person who opened the page's address without signing in is told how to, in a page.
        Err(e) if e.code == "unauthorized" && !req.uri().path().starts_with("/api/") => {
            super::page::signed_out()
        }
        Err(e) => e.into_response(),
    };
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"haul\""),
        );
    }
    add_headers(response.headers_mut());
    response
}

/// Checks a request; `Some(client)` when it is signed in (every request but a one-time link).
fn check(state: &AppState, req: &Request) -> Result<Option<Client>, ApiError> {
    let headers = req.headers();
    // One Host, and the path alone as the target: a second Host header or an absolute-form
    // target (`GET http://evil.example/ HTTP/1.1`) leaves two answers to "which host is this
    // for", the ambiguity DNS rebinding and request smuggling live on.
    if headers.get_all(header::HOST).iter().count() > 1 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_host",
            "a request must have exactly one Host header",
        ));
    }
    if req.uri().scheme().is_some() || req.uri().authority().is_some() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_target",
            "haul's status server takes requests for a path (GET /api/v1/jobs), not a full address",
        ));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match host {
        Some(host) if state.is_own_host(&host) => {}
        other => {
            return Err(ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "bad_host",
                format!(
                    "this is haul's status server; it answers only to 127.0.0.1:{port}, localhost:{port} or [::1]:{port}, not {:?}",
                    other.unwrap_or_default(),
                    port = state.port()
                ),
            ));
        }
    }

    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    let trusted_origin = origin.is_some_and(|o| state.is_allowed_origin(o));
    let site = header_str(headers, "sec-fetch-site");
    if matches!(site, Some("cross-site" | "same-site")) && !trusted_origin {
        let navigation = req.method() == Method::GET
            && header_str(headers, "sec-fetch-mode") == Some("navigate")
            && !req.uri().path().starts_with("/api/");
        if !navigation {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "cross_site",
                "requests from other web sites are refused; open the status page itself",
            ));
        }
    }

    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        match origin {
            Some(o) if !state.is_allowed_origin(o) => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden_origin",
                    format!("requests from {o} may not change anything in haul"),
                ));
            }
            // Browsers always send Origin with these methods; without one, only a client that
            // is not a browser (no fetch metadata) is believed.
            None if site.is_some() => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden_origin",
                    "a browser request without an Origin may not change anything in haul",
                ));
            }
            _ => {}
        }
    }

    let link = req.uri().path() == OPEN_PATH && matches!(*req.method(), Method::GET | Method::HEAD);
    let client = if link {
        None
    } else {
        Some(signed_in(state, headers, safe)?)
    };

    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > super::MAX_BODY_BYTES as u64) {
        return Err(ApiError::too_large(super::MAX_BODY_BYTES));
    }
    Ok(client)
}

/// Step 4: the token (scripts) or the session cookie a one-time link set (browsers).
fn signed_in(state: &AppState, headers: &HeaderMap, safe: bool) -> Result<Client, ApiError> {
    let access = state.access();
    let given = headers
        .get(TOKEN_HEADER)
        .map(HeaderValue::as_bytes)
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        });
    if let Some(given) = given {
        return if access.is_token(given) {
            Ok(Client::Token)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "bad_token",
                "the token is not this install's (see the file api-token in haul's data folder)",
            ))
        };
    }
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    if let Some(session) = access.session(cookies) {
        return Ok(Client::Session(session.to_string()));
    }
    if safe {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!(
                "haul's status page is only for the user who runs haul: open it with `haul status --open` (or \"Open haul's status page\" in the haul button's menu); scripts send the token from the file api-token in haul's data folder in the {TOKEN_HEADER} header"
            ),
        ))
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "missing_token",
            format!(
                "changes need this install's token in the {TOKEN_HEADER} header (the file api-token in haul's data folder), or the status page opened with `haul status --open`"
            ),
        ))
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn add_headers(headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY,
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(
        headers,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    // Whatever a handler did, no CORS grant leaves this server.
    for name in [
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        header::ACCESS_CONTROL_ALLOW_METHODS,
    ] {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/api-token");
        let a = read_or_create_token(&path).unwrap();
        assert!(is_token(&a));
        assert_eq!(read_or_create_token(&path).unwrap(), a);
        assert_eq!(read_token(&path).as_deref(), Some(a.as_str()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        std::fs::write(&path, "garbage").unwrap();
        let b = read_or_create_token(&path).unwrap();
        assert_ne!(a, b);
    }
}
