//! The JSON API under `/api/v1`: jobs (list, detail, create, cancel, retry, delete, open the
//! result), thumbnails, folders with free space, health, version and the redacted config.
//! Every handler is annotated for the OpenAPI document ([`super::openapi`]), which is built
//! from these same annotations together with the router, so the two cannot disagree.
//!
//! Times are seconds since the Unix epoch; sizes are bytes. Errors are [`ErrorBody`]s.

use std::path::{Path, PathBuf};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use haul_protocol::message::{
    Grab, GrabOptions, ItemState, JobId, JobState, JobSummary, PackageMode, Page, ProductBrief,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use super::open::{self, Show};
use super::thumbs;
use crate::export::{self, ExportError};
use crate::failure::FailureKind;
use crate::input::url_list;
use crate::jobs::{EngineError, ManageError, Submission};
use crate::journal::{ItemRecord, JobRecord};

/// Jobs listed when the request does not say.
pub const DEFAULT_LIMIT: usize = 50;
/// Most jobs listed at once.
pub const MAX_LIMIT: usize = 200;
/// Most URLs in one created job.
pub const MAX_URLS: usize = 10_000;

/// A job's state. Only for the OpenAPI document: the wire type is `haul_protocol`'s `JobState`,
/// which carries no OpenAPI derive (the contract crate stays free of server dependencies).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum JobStateDoc {
    Queued,
    Running,
    Packaging,
    Complete,
    Partial,
    Failed,
    Cancelled,
}

/// An item's state (for the OpenAPI document only, like [`JobStateDoc`]).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ItemStateDoc {
    Pending,
    Downloading,
    Downloaded,
    Saved,
    Failed,
}

/// What kind of failure it is: a stable name scripts may rely on (`docs/protocol.md`).
pub struct FailureKindDoc;

impl utoipa::PartialSchema for FailureKindDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "What kind of failure it is: a stable, append-only name (docs/protocol.md); \
                 `other` for a kind this version does not know.",
            ))
            .enum_values(Some(FailureKind::ALL.iter().map(|k| k.as_str())))
            .into()
    }
}

impl ToSchema for FailureKindDoc {}

/// How a job is packaged.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PackageDoc {
    Zip,
    Folder,
    Both,
}

impl From<PackageDoc> for PackageMode {
    fn from(p: PackageDoc) -> PackageMode {
        match p {
            PackageDoc::Zip => PackageMode::Zip,
            PackageDoc::Folder => PackageMode::Folder,
            PackageDoc::Both => PackageMode::Both,
        }
    }
}

fn package_doc(mode: PackageMode) -> PackageDoc {
    match mode {
        PackageMode::Zip => PackageDoc::Zip,
        PackageMode::Folder => PackageDoc::Folder,
        PackageMode::Both => PackageDoc::Both,
    }
}

/// What the product page said the product is and costs; each absent when the page did not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProductView {
    #[schema(example = "Linen Tee")]
    pub name: Option<String>,
    /// The price a buyer pays now, a decimal string.
    #[schema(example = "39.00")]
    pub price: Option<String>,
    /// ISO 4217.
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    /// schema.org's short name: `InStock`, `OutOfStock`, `PreOrder`, `BackOrder`,
    /// `Discontinued` or `LimitedAvailability`.
    #[schema(example = "InStock")]
    pub availability: Option<String>,
}

impl From<ProductBrief> for ProductView {
    fn from(b: ProductBrief) -> ProductView {
        ProductView {
            name: b.name,
            price: b.price,
            currency: b.currency,
            availability: b.availability,
        }
    }
}

/// One job in the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobListEntry {
    pub job: JobId,
    #[schema(value_type = JobStateDoc)]
    pub state: JobState,
    /// What the job is about: product title, list name or first URL.
    pub label: String,
    /// The package written (ZIP or folder), if any.
    pub output: Option<String>,
    /// Whether that package is still where haul put it.
    pub output_exists: bool,
    /// When haul noticed that the package is gone from the output folder.
    pub removed_at: Option<i64>,
    /// Why it is gone: `deleted from the output folder` (by hand), or `removed after N days
    /// (retention_days = N)`.
    pub removed_note: Option<String>,
    pub saved: u64,
    pub failed: u64,
    pub total: u64,
    /// Bytes saved so far.
    pub bytes: u64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// The product's name, price and availability, when its page stated any of them.
    pub product: Option<ProductView>,
}

impl From<JobSummary> for JobListEntry {
    fn from(s: JobSummary) -> JobListEntry {
        JobListEntry {
            output_exists: s.output.as_deref().is_some_and(|p| Path::new(p).exists()),
            job: s.job,
            state: s.state,
            label: s.label,
            output: s.output,
            removed_at: s.removed_at,
            removed_note: s.removed_note,
            saved: s.saved,
            failed: s.failed,
            total: s.total,
            bytes: s.bytes,
            created_at: s.created_at,
            finished_at: s.finished_at,
            product: s.product.map(ProductView::from),
        }
    }
}

/// A page of jobs, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobListEntry>,
    /// Jobs matching the filter in all.
    pub total: u64,
    pub limit: usize,
    pub offset: usize,
}

/// Paging and filtering of the job list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Comma-separated states to keep (`queued,running,packaging,complete,partial,failed,cancelled`).
    pub state: Option<String>,
    /// Jobs per page (default 50, at most 200).
    pub limit: Option<usize>,
    /// Jobs to skip.
    pub offset: Option<usize>,
}

/// One media item of a job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    /// Position in the job, from 0.
    pub index: u32,
    pub url: String,
    /// `image` or `video`.
    pub kind: String,
    /// `main`, `gallery`, `variant`, `video`, `description` or `review`.
    pub role: String,
    pub variant: Option<String>,
    #[schema(value_type = ItemStateDoc)]
    pub state: ItemState,
    /// Bytes stored once saved.
    pub bytes: u64,
    /// Size the server announced.
    pub size: Option<u64>,
    pub content_type: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The precise reason it failed.
    pub error: Option<String>,
    #[schema(value_type = Option<FailureKindDoc>)]
    pub error_kind: Option<FailureKind>,
    /// What happened and what to do, in plain words (one per kind).
    pub explanation: Option<String>,
    pub attempts: u32,
    /// Where its thumbnail is, when it is a saved image.
    pub thumbnail: Option<String>,
    /// Its name in the package (`02.jpg`, `B0SKU123.PT01.jpg`), once packaged.
    pub entry: Option<String>,
    /// What is worth a look although it was saved (a picture smaller than its preset asks).
    pub notes: Vec<String>,
}

fn item_view(job: JobId, i: &ItemRecord) -> ItemView {
    ItemView {
        index: i.index,
        url: i.url.clone(),
        kind: i.kind.as_str().to_string(),
        role: i.role.as_str().to_string(),
        variant: i.variant.clone(),
        state: i.state,
        bytes: i.bytes,
        size: i.size,
        content_type: i.saved.as_ref().map(|s| s.content_type.clone()),
        width: i.saved.as_ref().and_then(|s| s.width),
        height: i.saved.as_ref().and_then(|s| s.height),
        explanation: explanation(i.error.as_deref(), i.error_kind),
        error: i.error.clone(),
        error_kind: i.error.as_ref().map(|_| i.error_kind.unwrap_or_default()),
        attempts: i.attempts,
        thumbnail: thumbs::previewable(i)
            .then(|| format!("/api/v1/jobs/{job}/items/{}/thumbnail", i.index)),
        entry: i.entry.clone(),
        notes: i
            .saved
            .as_ref()
            .map(|s| s.warnings.clone())
            .unwrap_or_default(),
    }
}

/// A job with its items.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobDetail {
    pub job: JobId,
    #[schema(value_type = JobStateDoc)]
    pub state: JobState,
    pub label: String,
    pub title: Option<String>,
    pub site: Option<String>,
    pub product_id: Option<String>,
    pub page_url: Option<String>,
    /// The folder the package goes to.
    pub out_dir: String,
    pub package: PackageDoc,
    pub output: Option<String>,
    pub output_exists: bool,
    /// When haul noticed that the package is gone from the output folder.
    pub removed_at: Option<i64>,
    /// Why it is gone (as in the job list).
    pub removed_note: Option<String>,
    /// Why the whole job failed, if it did.
    pub error: Option<String>,
    #[schema(value_type = Option<FailureKindDoc>)]
    pub error_kind: Option<FailureKind>,
    /// What happened and what to do, in plain words (one per kind).
    pub explanation: Option<String>,
    /// Whether a task is working on it now.
    pub active: bool,
    pub saved: u64,
    pub failed: u64,
    pub total: u64,
    pub bytes: u64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The product's name, price and availability (as in the list).
    pub product: Option<ProductView>,
    /// Everything the page said about the product (`product.json` in the package): name, brand,
    /// price, currency, availability, sku, gtin, mpn, description, features, specs,
    /// categories, rating, review_count, seller, variants. `null` when it said nothing.
    #[schema(value_type = Option<Object>)]
    pub facts: Option<serde_json::Value>,
    /// The inbox file or folder the job came from, when it came from the inbox.
    pub input: Option<String>,
    /// What is worth a look although the job went through: the inbox input's refused lines and
    /// rows, and each saved picture's notes (named by its entry).
    pub notes: Vec<String>,
    pub items: Vec<ItemView>,
}

/// Where an inbox job came from, and what reading it found wrong.
type InputNotes = Option<(String, Vec<String>)>;

fn job_detail(
    state: &AppState,
    job: &JobRecord,
    items: &[ItemRecord],
    input: InputNotes,
) -> JobDetail {
    let (input, mut notes) = match input {
        Some((name, report)) => (Some(name), report),
        None => (None, Vec::new()),
    };
    for item in items {
        for warning in item.saved.iter().flat_map(|s| &s.warnings) {
            let name = item.entry.as_deref().unwrap_or(&item.url);
            notes.push(format!("{name}: {warning}"));
        }
    }
    let count = |s: ItemState| items.iter().filter(|i| i.state == s).count() as u64;
    let facts = &job.product.facts;
    JobDetail {
        job: job.id,
        state: job.state,
        label: job.label.clone(),
        title: job.product.title.clone(),
        site: job.product.site.clone(),
        product_id: job.product.product_id.clone(),
        page_url: job
            .product
            .page_url
            .clone()
            .or(job.request.page_url.clone()),
        out_dir: job.out_dir.display().to_string(),
        package: package_doc(job.package_mode),
        output: job.output.as_ref().map(|p| p.display().to_string()),
        output_exists: job.output.as_ref().is_some_and(|p| p.exists()),
        removed_at: job.removed_at.map(|t| t / 1000),
        removed_note: job.removed_note.clone(),
        explanation: explanation(job.error.as_deref(), job.error_kind),
        error: job.error.clone(),
        error_kind: job
            .error
            .as_ref()
            .map(|_| job.error_kind.unwrap_or_default()),
        active: state.engine().is_active(job.id),
        saved: count(ItemState::Saved),
        failed: count(ItemState::Failed),
        total: items.len() as u64,
        bytes: items
            .iter()
            .filter(|i| i.state == ItemState::Saved)
            .map(|i| i.bytes)
            .sum(),
        created_at: job.created_at / 1000,
        started_at: job.started_at.map(|t| t / 1000),
        finished_at: job.finished_at.map(|t| t / 1000),
        product: ProductBrief::of(
            facts.name.clone(),
            facts.price.clone(),
            facts.currency.clone(),
            facts.availability.map(|a| a.as_str().to_string()),
        )
        .map(ProductView::from),
        facts: (!facts.is_empty())
            .then(|| serde_json::to_value(facts).ok())
            .flatten(),
        input,
        notes,
        items: items.iter().map(|i| item_view(job.id, i)).collect(),
    }
}

/// A page as the browser saw it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageInput {
    pub url: String,
    pub title: Option<String>,
    /// The page's HTML (`document.documentElement.outerHTML`).
    pub html: Option<String>,
}

/// A new job: media URLs, a page, or both.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJob {
    /// Media URLs to save (http or https).
    #[serde(default)]
    pub urls: Vec<String>,
    pub page: Option<PageInput>,
    /// Package name when there is no product to name it after.
    pub name: Option<String>,
    /// `zip`, `folder` or `both` (default: the config's).
    pub package: Option<PackageDoc>,
    /// How files inside the package are named: `default`, `amazon-upload`, or a template such
    /// as `{product_id}_{role}_{index}.{ext}` (default: the config's).
    pub naming: Option<String>,
    /// The roles to save: some of `main`, `gallery`, `variant`, `video`, `description`,
    /// `review` (default: the config's `include`, every role).
    pub include: Option<Vec<String>>,
    /// Save the URLs exactly as given instead of at the largest size their CDN serves (default:
    /// the config's `keep_links_as_given`).
    pub as_given: Option<bool>,
}

/// A job was created.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Created {
    pub job: JobId,
    #[schema(value_type = JobStateDoc)]
    pub state: JobState,
    /// The job's detail in this API.
    pub url: String,
}

/// A cancel was requested.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cancelling {
    pub job: JobId,
}

/// What a retry did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Retried {
    pub job: JobId,
    /// Items downloaded again.
    pub retried: u64,
    /// Saved items taken back from the old package (checked by SHA-256).
    pub restored: u64,
    /// The old package(s), removed because haul wrote them and they were unchanged; the new
    /// package takes the same name.
    pub replaced: Vec<String>,
}

/// Whether to remove the job's package from disk too.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// `true` also removes the package(s) haul wrote for this job. Default `false`: only the
    /// history entry goes.
    pub delete_files: Option<bool>,
}

/// A job was removed from the history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Deleted {
    pub job: JobId,
    /// Files removed from disk (empty unless asked).
    pub files_deleted: Vec<String>,
}

/// What to open.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OpenTarget {
    /// The package itself, with its default application.
    File,
    /// The folder holding it.
    Folder,
}

/// An open request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    pub target: OpenTarget,
}

/// The desktop was asked to open something.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Opened {
    /// What was opened.
    pub path: String,
}

/// One of haul's folders.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FolderInfo {
    pub path: String,
    pub exists: bool,
    /// Free space for this user on its file system.
    pub free_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
}

/// The output and inbox folders.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Folders {
    /// Where finished packages go.
    pub output: FolderInfo,
    /// The watched folder: files dropped here become jobs.
    pub inbox: FolderInfo,
}

/// Which folder.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FolderName {
    Output,
    Inbox,
}

/// The server is up.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
    pub version: String,
    pub uptime_secs: u64,
    /// Jobs being worked on now.
    pub active_jobs: u64,
    /// Event streams open now.
    pub event_streams: u64,
}

/// Versions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    /// haul's version.
    pub version: String,
    /// The socket protocol's version.
    pub protocol: u32,
    /// This API's version (the `v1` in its paths).
    pub api: u32,
}

/// The settings in effect, secrets hidden.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfigView {
    /// Every key of the config (`docs/configuration.md`), with secrets (a proxy's user name and
    /// password) replaced by `REDACTED`.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Keys whose values were hidden.
    pub redacted: Vec<String>,
    pub data_dir: String,
    pub config_file: String,
}

fn no_job(job: JobId) -> ApiError {
    ApiError::not_found(format!("there is no job {job}"))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("a worker stopped: {e}")))
}

fn load_job(state: &AppState, job: JobId) -> Result<(JobRecord, Vec<ItemRecord>), ApiError> {
    let journal = state.engine().journal();
    let record = journal.job(job).map_err(|e| match e {
        crate::journal::JournalError::NoSuchJob(_) => no_job(job),
        other => ApiError::internal(other.to_string()),
    })?;
    let items = journal.items(job)?;
    Ok((record, items))
}

fn parse_states(text: Option<&str>) -> Result<Vec<JobState>, ApiError> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(|s| {
            JobState::parse(s.trim()).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown state {s:?}; use queued, running, packaging, complete, partial, failed or cancelled"
                ))
            })
        })
        .collect()
}

/// List jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(ListQuery),
    responses((status = 200, body = JobList), (status = 400, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<JobList>, ApiError> {
    let states = parse_states(q.state.as_deref())?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let offset = q.offset.unwrap_or(0);
    let journal = state.engine().journal().clone();
    let (jobs, total) =
        blocking(move || journal.list_jobs_filtered(&states, limit, offset)).await??;
    Ok(Json(JobList {
        jobs: jobs.into_iter().map(JobListEntry::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// Create a job from media URLs and/or a page. The output folder is always the config's: no
/// request may choose where files are written.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", request_body = CreateJob,
    security(("token" = [])),
    responses((status = 201, body = Created), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn create_job(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateJob>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    if body.urls.len() > MAX_URLS {
        return Err(ApiError::bad_request(format!(
            "{} URLs in one job; at most {MAX_URLS}",
            body.urls.len()
        )));
    }
    let web = |u: &str| {
        url::Url::parse(u.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
    };
    for u in &body.urls {
        if web(u).is_none() {
            return Err(ApiError::bad_request(format!(
                "{u:?} is not a web address (http:// or https://)"
            )));
        }
    }
    if let Some(page) = &body.page
        && web(&page.url).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "the page URL {:?} is not a web address",
            page.url
        )));
    }
    // The links are a list's media: the same grab `haul grab URL…` makes.
    let grab = Grab {
        page: body.page.map(|p| Page {
            url: p.url,
            title: p.title,
            html: p.html,
        }),
        options: GrabOptions {
            // No request may choose where files are written.
            out_dir: None,
            name: body.name,
            package: body.package.map(Into::into),
            naming: body.naming,
            as_given: body.as_given,
            include: body.include,
        },
        ..url_list::media_grab(body.urls, None)
    };
    let submission =
        Submission::from_grab(grab).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let engine = state.engine().clone();
    let job = blocking(move || engine.submit(submission))
        .await?
        .map_err(|e| match e {
            EngineError::NothingToGrab => ApiError::new(
                StatusCode::BAD_REQUEST,
                "nothing_to_grab",
                "nothing to save: give media URLs in \"urls\", or a page with its HTML",
            ),
            EngineError::ShuttingDown => ApiError::shutting_down(),
            other => ApiError::internal(other.to_string()),
        })?;
    state.announce(job, "created");
    Ok((
        StatusCode::CREATED,
        Json(Created {
            job,
            state: JobState::Queued,
            url: format!("/api/v1/jobs/{job}"),
        }),
    ))
}

/// A job with every item, its state and the reason for each failure.
#[utoipa::path(get, path = "/api/v1/jobs/{job}", tag = "jobs",
    params(("job" = i64, Path, description = "Job id")),
    responses((status = 200, body = JobDetail), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn job_detail_handler(
    State(state): State<AppState>,
    ApiPath(job): ApiPath<JobId>,
) -> Result<Json<JobDetail>, ApiError> {
    let s = state.clone();
    let (record, items, input) = blocking(move || {
        let (record, items) = load_job(&s, job)?;
        let input = s.engine().journal().input_of(job)?;
        Ok::<_, ApiError>((record, items, input))
    })
    .await??;
    Ok(Json(job_detail(&state, &record, &items, input)))
}

/// Remove a job from the history. Its package stays on disk unless `delete_files=true`.
#[utoipa::path(delete, path = "/api/v1/jobs/{job}", tag = "jobs",
    params(("job" = i64, Path, description = "Job id"), DeleteQuery),
    security(("token" = [])),
    responses((status = 200, body = Deleted), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_job(
    State(state): State<AppState>,
    ApiPath(job): ApiPath<JobId>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> Result<Json<Deleted>, ApiError> {
    let engine = state.engine().clone();
    let delete_files = q.delete_files.unwrap_or(false);
    let report = blocking(move || engine.delete_job(job, delete_files))
        .await?
        .map_err(manage_error)?;
    let thumbs = state.engine().paths().thumbs_dir().join(job.to_string());
    let _ = blocking(move || std::fs::remove_dir_all(thumbs)).await;
    state.announce(job, "deleted");
    Ok(Json(Deleted {
        job,
        files_deleted: report
            .files_deleted
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    }))
}

fn manage_error(e: ManageError) -> ApiError {
    match e {
        ManageError::NoSuchJob(job) => no_job(job),
        ManageError::Active { .. } => ApiError::conflict(e.to_string()),
        ManageError::NothingToRetry(_) => {
            ApiError::new(StatusCode::CONFLICT, "nothing_to_retry", e.to_string())
        }
        ManageError::ShuttingDown => ApiError::shutting_down(),
        other => ApiError::internal(other.to_string()),
    }
}

/// Stop a queued or running job (it ends `cancelled`).
#[utoipa::path(post, path = "/api/v1/jobs/{job}/cancel", tag = "jobs",
    params(("job" = i64, Path, description = "Job id")),
    security(("token" = [])),
    responses((status = 202, body = Cancelling), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn cancel_job(
    State(state): State<AppState>,
    ApiPath(job): ApiPath<JobId>,
) -> Result<(StatusCode, Json<Cancelling>), ApiError> {
    if state.engine().cancel(job) {
        return Ok((StatusCode::ACCEPTED, Json(Cancelling { job })));
    }
    let s = state.clone();
    let (record, _) = blocking(move || load_job(&s, job)).await??;
    Err(ApiError::conflict(format!(
        "job {job} is not running (it is {})",
        record.state.as_str()
    )))
}

/// Download a job's failed items again and package it afresh. Files already saved are taken
/// back from the old package when it is unchanged (which is then replaced under the same
/// name); otherwise they are downloaded again and the old package is left alone.
#[utoipa::path(post, path = "/api/v1/jobs/{job}/retry", tag = "jobs",
    params(("job" = i64, Path, description = "Job id")),
    security(("token" = [])),
    responses((status = 202, body = Retried), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn retry_job(
    State(state): State<AppState>,
    ApiPath(job): ApiPath<JobId>,
) -> Result<(StatusCode, Json<Retried>), ApiError> {
    let engine = state.engine().clone();
    let report = blocking(move || engine.retry_failed(job))
        .await?
        .map_err(manage_error)?;
    state.announce(job, "retried");
    Ok((
        StatusCode::ACCEPTED,
        Json(Retried {
            job,
            retried: report.retried,
            restored: report.restored,
            replaced: report
                .replaced
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        }),
    ))
}

/// Ask the desktop to open the job's package, or the folder holding it.
#[utoipa::path(post, path = "/api/v1/jobs/{job}/open", tag = "jobs",
    params(("job" = i64, Path, description = "Job id")),
    request_body = OpenRequest, security(("token" = [])),
    responses((status = 202, body = Opened), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 410, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "The desktop could not open it")))]
pub async fn open_job(
    State(state): State<AppState>,
    ApiPath(job): ApiPath<JobId>,
    ApiJson(body): ApiJson<OpenRequest>,
) -> Result<(StatusCode, Json<Opened>), ApiError> {
    let s = state.clone();
    let (record, _) = blocking(move || load_job(&s, job)).await??;
    let want = match body.target {
        OpenTarget::File => Show::Open,
        OpenTarget::Folder => Show::Reveal,
    };
    let (path, show) = open::job_target(&record, want)
        .map_err(|message| ApiError::new(StatusCode::GONE, "gone", message))?;
    run_opener(&state, &path, show).await
}

/// Opens `path` on the desktop; a desktop that cannot is an error the page shows (502: the
/// opener, not haul, failed).
async fn run_opener(
    state: &AppState,
    path: &Path,
    show: Show,
) -> Result<(StatusCode, Json<Opened>), ApiError> {
    open::open(state.engine().config(), path, show)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "open_failed",
                format!("the desktop did not open {}: {e}", path.display()),
            )
        })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Opened {
            path: path.display().to_string(),
        }),
    ))
}

/// A JPEG thumbnail of a saved image (by job id and item index only).
#[utoipa::path(get, path = "/api/v1/jobs/{job}/items/{index}/thumbnail", tag = "jobs",
    params(("job" = i64, Path, description = "Job id"),
        ("index" = u32, Path, description = "Item index, from 0")),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>,
            description = "The thumbnail (longest side 320 px)"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn thumbnail(
    State(state): State<AppState>,
    ApiPath((job, index)): ApiPath<(JobId, u32)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let s = state.clone();
    let (record, items) = blocking(move || load_job(&s, job)).await??;
    let item = items
        .into_iter()
        .find(|i| i.index == index)
        .ok_or_else(|| ApiError::not_found(format!("job {job} has no item {index}")))?;
    if !thumbs::previewable(&item) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_thumbnail",
            format!("item {index} of job {job} is not a saved picture"),
        ));
    }
    let sha = item
        .saved
        .as_ref()
        .map(|s| s.sha256.clone())
        .unwrap_or_default();
    let etag = format!("\"{}\"", sha.get(..32).unwrap_or(&sha));
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let _slot = state
        .thumb_slots()
        .acquire()
        .await
        .map_err(|_| ApiError::shutting_down())?;
    let paths = state.engine().paths().clone();
    let made =
        blocking(move || thumbs::thumbnail(&paths.thumbs_dir(), &paths.work_dir(), &record, &item))
            .await?
            .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "no_thumbnail", e.to_string()))?;
    let mut response = made.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(response)
}

/// Which jobs to export, and how.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Comma-separated ids of ended jobs (`12,13,14`): their products make one sheet, in this
    /// order.
    pub jobs: String,
    /// `shopify` (Shopify's product CSV), `woocommerce` (WooCommerce's product CSV), `csv` or
    /// `xlsx` (every fact of every product and variant).
    pub format: String,
}

/// Most jobs in one export.
pub const MAX_EXPORT_JOBS: usize = 1_000;

/// Download the products of ended jobs as one sheet — Shopify's or WooCommerce's product CSV,
/// or every fact as CSV or an Excel workbook — as `haul export` writes it. Pictures are their
/// original addresses, with the package's file names in a column of their own.
#[utoipa::path(get, path = "/api/v1/export", tag = "jobs", params(ExportQuery),
    responses(
        (status = 200, description = "The sheet, as a download (`Content-Disposition: attachment; \
            filename=\"haul-<format>-<jobs>.<csv|xlsx>\"`)",
            content(
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody,
            description = "A job has not ended yet (`not_finished`)")))]
pub async fn export_jobs(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = export::Format::parse(&q.format).ok_or_else(|| {
        ApiError::bad_request(format!(
            "unknown format {:?}; use shopify, woocommerce, csv or xlsx",
            q.format
        ))
    })?;
    let jobs = q
        .jobs
        .split(',')
        .map(str::trim)
        .filter(|j| !j.is_empty())
        .map(|j| {
            j.parse::<JobId>().map_err(|_| {
                ApiError::bad_request(format!("{j:?} is not a job id; give ids like jobs=12,13"))
            })
        })
        .collect::<Result<Vec<JobId>, ApiError>>()?;
    if jobs.is_empty() || jobs.len() > MAX_EXPORT_JOBS {
        return Err(ApiError::bad_request(format!(
            "give between 1 and {MAX_EXPORT_JOBS} job ids in jobs (jobs=12,13)"
        )));
    }
    let journal = state.engine().journal().clone();
    let which = jobs.clone();
    let bytes = blocking(move || {
        export::load(&journal, &which).and_then(|products| export::render(format, &products))
    })
    .await?
    .map_err(|e| match e {
        ExportError::NoSuchJob(job) => no_job(job),
        ExportError::NotFinished { .. } => {
            ApiError::new(StatusCode::CONFLICT, "not_finished", e.to_string())
        }
        ExportError::NoJobs => ApiError::bad_request(e.to_string()),
        other => ApiError::internal(other.to_string()),
    })?;
    let disposition = format!("attachment; filename=\"{}\"", format.file_name(&jobs));
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

fn folder_info(path: PathBuf) -> FolderInfo {
    // Free space of the file system the folder is (or will be) on: the nearest existing parent.
    let existing = path.ancestors().find(|p| p.exists()).map(Path::to_path_buf);
    let stats = existing.and_then(|p| fs4::statvfs(p).ok());
    FolderInfo {
        exists: path.is_dir(),
        free_bytes: stats.as_ref().map(|s| s.available_space()),
        total_bytes: stats.as_ref().map(|s| s.total_space()),
        path: path.display().to_string(),
    }
}

/// The output and inbox folders, with the free space on their disks.
#[utoipa::path(get, path = "/api/v1/folders", tag = "daemon",
    responses((status = 200, body = Folders)))]
pub async fn folders(State(state): State<AppState>) -> Result<Json<Folders>, ApiError> {
    let config = state.engine().config().clone();
    let paths = state.engine().paths().clone();
    let folders = blocking(move || Folders {
        output: folder_info(config.output_dir(&paths)),
        inbox: folder_info(config.inbox_dir(&paths)),
    })
    .await?;
    Ok(Json(folders))
}

/// Open the output or inbox folder on the desktop (created first if it does not exist yet).
#[utoipa::path(post, path = "/api/v1/folders/{folder}/open", tag = "daemon",
    params(("folder" = FolderName, Path, description = "`output` or `inbox`")),
    security(("token" = [])),
    responses((status = 202, body = Opened), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "The desktop could not open it")))]
pub async fn open_folder(
    State(state): State<AppState>,
    ApiPath(folder): ApiPath<FolderName>,
) -> Result<(StatusCode, Json<Opened>), ApiError> {
    let config = state.engine().config();
    let paths = state.engine().paths();
    let path = match folder {
        FolderName::Output => config.output_dir(paths),
        FolderName::Inbox => config.inbox_dir(paths),
    };
    std::fs::create_dir_all(&path)
        .map_err(|e| ApiError::internal(format!("cannot create {}: {e}", path.display())))?;
    run_opener(&state, &path, Show::Open).await
}

/// Whether the daemon is up.
#[utoipa::path(get, path = "/api/v1/health", tag = "daemon",
    responses((status = 200, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: haul_protocol::VERSION.into(),
        uptime_secs: state.uptime().as_secs(),
        active_jobs: state.engine().active_jobs() as u64,
        event_streams: state.open_event_streams() as u64,
    })
}

/// haul's, the protocol's and this API's versions.
#[utoipa::path(get, path = "/api/v1/version", tag = "daemon",
    responses((status = 200, body = Version)))]
pub async fn version() -> Json<Version> {
    Json(Version {
        version: haul_protocol::VERSION.into(),
        protocol: haul_protocol::PROTOCOL_VERSION,
        api: 1,
    })
}

/// The settings in effect, with secrets hidden.
#[utoipa::path(get, path = "/api/v1/config", tag = "daemon",
    responses((status = 200, body = ConfigView)))]
pub async fn config(State(state): State<AppState>) -> Json<ConfigView> {
    let config = state.engine().config();
    let paths = state.engine().paths();
    let mut value = serde_json::to_value(config).unwrap_or_default();
    let mut redacted = Vec::new();
    if let Some(proxy) = config.proxy.as_deref()
        && let Ok(mut url) = url::Url::parse(proxy)
        && (!url.username().is_empty() || url.password().is_some())
    {
        let _ = url.set_username("REDACTED");
        let _ = url.set_password(Some("REDACTED"));
        value["proxy"] = serde_json::Value::String(url.to_string());
        redacted.push("proxy".to_string());
    }
    value["output_dir"] = config.output_dir(paths).display().to_string().into();
    value["inbox_dir"] = config.inbox_dir(paths).display().to_string().into();
    Json(ConfigView {
        config: value,
        redacted,
        data_dir: paths.data_dir.display().to_string(),
        config_file: paths.config_file.display().to_string(),
    })
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "daemon",
    responses((status = 200, content_type = "application/json", body = Object,
        description = "The OpenAPI 3 document of this API")))]
pub async fn openapi_json(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json().to_string(),
    )
        .into_response()
}

/// The plain words for a failure, when there is one.
pub(super) fn explanation(error: Option<&str>, kind: Option<FailureKind>) -> Option<String> {
    error.map(|reason| crate::failure::explain(kind.unwrap_or_default(), reason))
}
