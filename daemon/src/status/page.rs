//! The status page: one HTML file, one script, one stylesheet and an icon, all compiled into
//! the binary (`page/`), nothing loaded from anywhere else. The script talks to `/api/v1` and
//! follows `/api/v1/events`, signed in by the session cookie that a one-time link set
//! ([`open_link`]; see [`super::access`]). The page holds no secret: the token is never in it.
//! Without a session, a person who opens the page's address gets [`signed_out`]: how to open
//! it from their own account.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::AppState;

const INDEX: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const APP_CSS: &str = include_str!("page/app.css");
const ICON: &str = include_str!("page/icon.svg");

/// The page.
#[utoipa::path(get, path = "/", tag = "page",
    responses((status = 200, content_type = "text/html", body = String,
        description = "The status page")))]
pub async fn index() -> Html<String> {
    Html(INDEX.replace("{{VERSION}}", haul_protocol::VERSION))
}

/// A one-time link's query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LinkKey {
    /// The key the local socket's `status_link` gave (64 hex digits).
    #[serde(default)]
    key: String,
}

/// A one-time link (from `status_link` on the local socket): spends its key, sets the session
/// cookie and sends the browser on to the page.
#[utoipa::path(get, path = "/open", tag = "page", params(LinkKey),
    responses(
        (status = 303, description = "Signed in: the session cookie is set and the browser goes on to `/`"),
        (status = 403, content_type = "text/html", body = String,
            description = "The link was used already, is older than a minute, or was never issued")))]
pub async fn open_link(State(state): State<AppState>, Query(link): Query<LinkKey>) -> Response {
    if state.access().redeem(&link.key) {
        return (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, "/".to_string()),
                (header::SET_COOKIE, state.access().new_session_cookie()),
            ],
        )
            .into_response();
    }
    explain_page(
        StatusCode::FORBIDDEN,
        "This link has been used already, or is more than a minute old.",
    )
}

/// The answer to a request for the page without a session.
pub fn signed_out() -> Response {
    explain_page(
        StatusCode::UNAUTHORIZED,
        "This page is only for the person who runs haul on this computer.",
    )
}

/// A small page that says why the status page did not open and how to open it.
fn explain_page(status: StatusCode, why: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>haul — open the status page</title></head><body>\
         <h1>haul</h1><p>{why}</p>\
         <p>Open haul's status page from your own account: run <code>haul status --open</code> \
         in a terminal, or choose <strong>Open haul's status page</strong> in the menu of haul's \
         button in your browser (right-click the toolbar button). Each of these makes a new link \
         that works once.</p></body></html>\n"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The page's script.
#[utoipa::path(get, path = "/app.js", tag = "page",
    responses((status = 200, content_type = "text/javascript", body = String)))]
pub async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

/// The page's stylesheet.
#[utoipa::path(get, path = "/app.css", tag = "page",
    responses((status = 200, content_type = "text/css", body = String)))]
pub async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

/// The page's icon.
#[utoipa::path(get, path = "/icon.svg", tag = "page",
    responses((status = 200, content_type = "image/svg+xml", body = String)))]
pub async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}
