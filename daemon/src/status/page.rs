//! The status page: one HTML file, one script, one stylesheet and an icon, all compiled into
//! the binary (`page/`), nothing loaded from anywhere else. The script talks to `/api/v1` and
//! follows `/api/v1/events`; the HTML carries the install's token in a `<meta>` tag (only this
//! origin can read the page, and the CSP allows no inline script), which the script sends with
//! every change it asks for.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::AppState;

const INDEX: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const APP_CSS: &str = include_str!("page/app.css");
const ICON: &str = include_str!("page/icon.svg");

/// The page.
#[utoipa::path(get, path = "/", tag = "page",
    responses((status = 200, content_type = "text/html", body = String,
        description = "The status page")))]
pub async fn index(State(state): State<AppState>) -> Html<String> {
    Html(
        INDEX
            .replace("{{TOKEN}}", state.token())
            .replace("{{VERSION}}", haul_protocol::VERSION),
    )
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
