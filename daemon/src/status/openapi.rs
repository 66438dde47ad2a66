//! The router and the OpenAPI 3 document, built together: every route is registered through
//! `utoipa-axum`'s `routes!`, which takes the method and path from the handler's
//! `#[utoipa::path]` annotation and adds the same operation to the document. A route cannot be
//! served without being documented, nor documented without being served.

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::{AppState, JobsChanged, api, page, security, sse};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "haul status API",
        description = "haul's local JSON API, on 127.0.0.1 (and ::1) only, for the user who runs \
            haul alone. Every request needs this install's token (the file `api-token` in haul's \
            data folder, readable only by that user) in the `X-Haul-Token` header, or the session \
            cookie a one-time link sets (`/open?key=…`, handed out only over haul's user-only \
            local socket). Changing anything from a browser also needs an Origin that is the \
            status page itself or haul's extension. See docs/status-page.md.",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(
        ErrorBody,
        JobsChanged,
        api::FolderName,
        sse::HelloEvent,
        sse::ProgressEvent,
        sse::ItemEvent,
        sse::FinishedEvent,
        sse::ResyncEvent
    )),
    modifiers(&TokenScheme),
    tags(
        (name = "jobs", description = "What haul saves: jobs, their items, thumbnails"),
        (name = "events", description = "Live progress as server-sent events"),
        (name = "daemon", description = "Health, versions, folders and settings"),
        (name = "page", description = "The status page and its assets")
    )
)]
struct ApiDoc;

struct TokenScheme;

impl Modify for TokenScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Haul-Token",
                "The per-install token from the file api-token in haul's data folder",
            ))),
        );
    }
}

/// The app: every route, the security middleware, the body limit and a JSON 404 for the rest.
pub fn router(state: AppState) -> (axum::Router, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(page::index))
        .routes(routes!(page::open_link))
        .routes(routes!(page::app_js))
        .routes(routes!(page::app_css))
        .routes(routes!(page::icon))
        .routes(routes!(api::list_jobs, api::create_job))
        .routes(routes!(api::job_detail_handler, api::delete_job))
        .routes(routes!(api::cancel_job))
        .routes(routes!(api::retry_job))
        .routes(routes!(api::open_job))
        .routes(routes!(api::thumbnail))
        .routes(routes!(api::export_jobs))
        .routes(routes!(api::folders))
        .routes(routes!(api::open_folder))
        .routes(routes!(sse::events))
        .routes(routes!(api::health))
        .routes(routes!(api::version))
        .routes(routes!(api::config))
        .routes(routes!(api::openapi_json))
        .split_for_parts();
    doc.info.version = haul_protocol::VERSION.to_string();
    let router = router
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(super::MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .with_state(state);
    (router, doc)
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        format!(
            "nothing here at {}; the API is described at /api/v1/openapi.json",
            uri.path()
        ),
    )
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not used at {}", uri.path()),
    )
}
