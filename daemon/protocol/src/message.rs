//! The messages: what the extension (through the native host), the CLI and the daemon say to each
//! other. `docs/protocol.md` is the prose reference; this module is the code of record.
//!
//! A conversation on the local socket goes:
//!
//! 1. the client sends `hello` (the native host adds who called it); the daemon answers `hello`
//!    with its protocol number, version and status page URL;
//! 2. the client sends `grab`; the daemon journals the job and answers `accepted` with the job id
//!    at once, then streams `progress` events and one `finished` while the connection is open (the
//!    job goes on if it closes);
//! 3. `status`, `cancel` and `status_link` (a one-time link into the status page) may be sent
//!    at any time; every failure is an `error` with a stable numeric [`ErrorCode`] and a message
//!    a person can act on.
//!
//! Decoding tells three cases apart (as pueue does): a frame that is not a JSON object with a
//! `type` ([`DecodeError::Corrupt`]), a well-formed message of a type this side does not know —
//! maybe from a newer version — ([`DecodeError::UnknownType`]), and a known type with bad fields
//! ([`DecodeError::Invalid`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// A job's id in the journal.
pub type JobId = i64;

/// A request to the daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    Hello(HelloRequest),
    Grab(Grab),
    Status(StatusRequest),
    Cancel(CancelRequest),
    StatusLink(StatusLinkRequest),
    Open(OpenRequest),
}

impl Request {
    /// The `type` values this version understands.
    pub const TYPES: &'static [&'static str] =
        &["hello", "grab", "status", "cancel", "status_link", "open"];

    /// Parses a frame body into a request.
    pub fn decode(body: &[u8]) -> Result<Request, DecodeError> {
        decode_tagged(body, Self::TYPES)
    }

    /// The request id the client chose, echoed in the reply.
    pub fn id(&self) -> Option<&Value> {
        match self {
            Request::Hello(_) => None,
            Request::Grab(g) => g.id.as_ref(),
            Request::Status(s) => s.id.as_ref(),
            Request::Cancel(c) => c.id.as_ref(),
            Request::StatusLink(l) => l.id.as_ref(),
            Request::Open(o) => o.id.as_ref(),
        }
    }
}

/// `{"type":"hello"}` — opens a conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HelloRequest {
    /// The sender's [`crate::PROTOCOL_VERSION`]; absent from the extension's own hello.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u32>,
    /// The sender's haul version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Who is talking: filled in by the native host (the browser's caller) or the CLI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
}

/// The identity of a client, as far as it can be known locally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientInfo {
    pub kind: ClientKind,
    /// For the native host: the extension origin (`chrome-extension://<id>/`) or Firefox add-on id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
}

/// What kind of program is on the other end of the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    NativeHost,
    Cli,
}

/// `{"type":"grab", …}` — save a product (or a plain list of media).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Grab {
    /// The client's request id, echoed in `accepted` and `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// The page the media come from. Without `html` the page URL is not fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<Page>,
    /// Media URLs to save (for the extension: the ones the DOM showed).
    #[serde(default)]
    pub media: Vec<MediaRef>,
    #[serde(default)]
    pub options: GrabOptions,
}

/// A product page as the browser saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// The page's address; empty when unknown (a page saved to a file), and then the page's own
    /// canonical / `og:url` address is used.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

/// One media URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaRef {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<MediaKind>,
    /// The user pointed at this medium (the context menu on an image or video): it is saved
    /// whatever the page says. Other media a browser lists are evidence of what the page shows,
    /// not an order: the page's extraction decides which of them are the product's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chosen: bool,
}

/// Image or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
        }
    }
}

/// How a grab is packaged and named. Every field is optional; the daemon's config fills the gaps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GrabOptions {
    /// Output folder for this job (CLI only; refused from the browser).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_dir: Option<String>,
    /// Base name of the package when there is no product to name it after (e.g. a list file's
    /// name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `zip`, `folder` or `both`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageMode>,
    /// How the entries are named: `default`, `amazon-upload`, or a template such as
    /// `{product_id}_{role}_{index}.{ext}` (default: the daemon's config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub naming: Option<String>,
    /// Save listed links exactly as given instead of in the largest size their CDN serves
    /// (default: the daemon's config, `keep_links_as_given`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_given: Option<bool>,
    /// The roles to save (`main`, `gallery`, `variant`, `video`, `description`, `review`);
    /// the page's media in other roles are left out and listed in the manifest (default: the
    /// daemon's config, `include`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
}

/// What a finished job leaves in the output folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageMode {
    #[default]
    Zip,
    Folder,
    Both,
}

/// `{"type":"status"}` — the daemon's state and its jobs (or one job).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobId>,
}

/// `{"type":"cancel","job":N}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    pub job: JobId,
}

/// `{"type":"open","job":N,"target":"file"|"folder"}`: ask the desktop to open a job's package
/// ("Open") or the folder holding it ("Show in folder"). The daemon looks the path up by job id;
/// a client never names a path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    pub job: JobId,
    pub target: OpenTarget,
}

/// What `open` opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenTarget {
    /// The package itself, with its default application.
    File,
    /// The folder holding it.
    Folder,
}

/// The desktop was asked to open `path`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    pub job: JobId,
    pub path: String,
}

/// A message from the daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    Hello(HelloReply),
    Accepted(Accepted),
    Progress(Progress),
    Finished(Finished),
    Status(StatusReply),
    Cancelled(Cancelled),
    StatusLink(StatusLink),
    Opened(Opened),
    Error(ErrorReply),
}

impl Reply {
    /// The `type` values this version understands.
    pub const TYPES: &'static [&'static str] = &[
        "hello",
        "accepted",
        "progress",
        "finished",
        "status",
        "cancelled",
        "status_link",
        "opened",
        "error",
    ];

    /// Parses a frame body into a reply.
    pub fn decode(body: &[u8]) -> Result<Reply, DecodeError> {
        decode_tagged(body, Self::TYPES)
    }

    /// The frame body for this reply, or — when it would exceed `limit` (the browser's 1 MiB) —
    /// the body of an [`ErrorCode::REPLY_TOO_LARGE`] error in its place, so the port survives.
    pub fn encode_within(&self, limit: usize) -> Vec<u8> {
        let body = self.encode();
        if body.len() <= limit {
            return body;
        }
        let id = match self {
            Reply::Accepted(a) => a.id.clone(),
            Reply::Status(s) => s.id.clone(),
            Reply::Cancelled(c) => c.id.clone(),
            Reply::StatusLink(l) => l.id.clone(),
            Reply::Opened(o) => o.id.clone(),
            Reply::Error(e) => e.id.clone(),
            _ => None,
        };
        Reply::error(
            id,
            ErrorCode::REPLY_TOO_LARGE,
            format!(
                "the reply ({} bytes) is larger than the browser accepts ({limit} bytes); open the status page for the full details",
                body.len()
            ),
        )
        .encode()
    }

    /// The frame body for this reply.
    pub fn encode(&self) -> Vec<u8> {
        // Serialising these plain data types cannot fail: no maps with non-string keys, no
        // custom serialisers.
        serde_json::to_vec(self).unwrap_or_else(|e| {
            format!(
                r#"{{"type":"error","code":{},"message":"could not encode a reply: {e}"}}"#,
                ErrorCode::INTERNAL.0
            )
            .into_bytes()
        })
    }

    /// An `error` reply.
    pub fn error(id: Option<Value>, code: ErrorCode, message: impl Into<String>) -> Reply {
        Reply::Error(ErrorReply {
            id,
            code,
            message: message.into(),
        })
    }
}

/// `{"type":"status_link"}` — a one-time link that opens the status page in a browser. Only
/// the socket hands these out, and the socket admits only the user who runs haul: following the
/// link is how a browser signs in to the page (docs/status-page.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusLinkRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
}

/// The answer to `status_link`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusLink {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// `http://127.0.0.1:PORT/open?key=…`: works once, within `expires_in` seconds.
    pub url: String,
    /// Seconds the link stays valid.
    pub expires_in: u64,
}

/// The daemon's answer to `hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelloReply {
    pub protocol: u32,
    pub version: String,
    /// `http://127.0.0.1:PORT/` once the status page is up, else `null`.
    pub status_url: Option<String>,
    /// The daemon's process id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
}

/// A grab was journaled as `job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accepted {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    pub job: JobId,
}

/// How far a job has got. Sent at most a few times a second per job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub job: JobId,
    /// Items that reached an end state (saved or failed).
    pub done: u64,
    /// Items in the job (0 until the page has been read).
    pub total: u64,
    /// Items that failed so far.
    #[serde(default)]
    pub failed: u64,
    /// Bytes received so far.
    #[serde(default)]
    pub bytes: u64,
    /// Bytes expected, when every item's size is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_total: Option<u64>,
    /// The item this event is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemProgress>,
}

/// One item's progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemProgress {
    /// Position in the job, from 0.
    pub index: u32,
    pub url: String,
    /// Its place in the product, as a person reads it: its number and role, and its variant
    /// (`#1 main`, `#7 variant · Red`); what `haul grab` names its bar by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    pub state: ItemState,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failure's kind, with `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<FailureKind>,
}

/// The life of one media item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Waiting for a download slot.
    Pending,
    /// Bytes are arriving (possibly resumed).
    Downloading,
    /// All bytes are on disk; metadata not yet removed.
    Downloaded,
    /// Processed and ready to package.
    Saved,
    /// Ended with an error.
    Failed,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Downloading => "downloading",
            ItemState::Downloaded => "downloaded",
            ItemState::Saved => "saved",
            ItemState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ItemState> {
        Some(match s {
            "pending" => ItemState::Pending,
            "downloading" => ItemState::Downloading,
            "downloaded" => ItemState::Downloaded,
            "saved" => ItemState::Saved,
            "failed" => ItemState::Failed,
            _ => return None,
        })
    }

    /// Saved or failed.
    pub fn is_terminal(self) -> bool {
        matches!(self, ItemState::Saved | ItemState::Failed)
    }
}

/// The life of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Journaled, not started.
    Queued,
    /// Reading the page / downloading / processing.
    Running,
    /// Writing the package.
    Packaging,
    /// Every item saved.
    Complete,
    /// Packaged, but some items failed.
    Partial,
    /// Nothing could be saved.
    Failed,
    /// Stopped by the user.
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Packaging => "packaging",
            JobState::Complete => "complete",
            JobState::Partial => "partial",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "packaging" => JobState::Packaging,
            "complete" => JobState::Complete,
            "partial" => JobState::Partial,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => return None,
        })
    }

    /// No more work will happen.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Complete | JobState::Partial | JobState::Failed | JobState::Cancelled
        )
    }
}

/// A job ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    pub job: JobId,
    /// `complete`, `partial`, `failed` or `cancelled`.
    pub status: JobState,
    /// The ZIP (or folder) written, if any.
    pub output: Option<String>,
    /// Every package written: `output`, and for `package = both` the folder beside the ZIP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    /// Files in the package.
    pub saved: u64,
    /// Files saved but left out of the package by its naming scheme (`amazon-upload` names one
    /// main picture and eight others); the manifest lists them under `left_out`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub left_out: u64,
    pub failed: u64,
    pub total: u64,
    /// What failed and why.
    #[serde(default)]
    pub failures: Vec<Failure>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One failed item (or, when a job failed before it had items, the job).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub url: String,
    /// The precise, technical reason ("the server answered 404 Not Found").
    pub reason: String,
    /// What kind of failure it is: a stable name scripts may rely on (`other` from a daemon
    /// older than kinds).
    #[serde(default)]
    pub kind: FailureKind,
    /// What happened and what to do, in plain words, for the kind.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub explanation: String,
}

/// Why a file or a job failed: stable, append-only names (documented in `docs/protocol.md`),
/// set where the error is made and carried beside its message through the journal, the
/// manifest, the protocol and the API. Never rename one; a kind this side does not know (from a
/// newer haul) reads as [`FailureKind::Other`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The server answered 404 or 410: the file is gone.
    NotFound,
    /// The host name does not resolve.
    NameNotResolved,
    /// No connection to the server could be made (or the request failed on the way).
    Unreachable,
    /// The address is inside the user's own network (`allow_private_networks`).
    RefusedPrivateAddress,
    /// Not an http(s) address haul can download.
    NotWebAddress,
    /// The server answered 401 or 403.
    Forbidden,
    /// The server answered 429.
    RateLimited,
    /// The server answered 5xx.
    ServerError,
    /// Any other error status.
    HttpError,
    /// The server stopped answering.
    Timeout,
    /// The connection broke, or the server sent less than it announced.
    Interrupted,
    /// Redirects that loop or never end.
    Redirects,
    /// A web page (or other non-media) instead of an image or video; a file that is no image.
    NotMedia,
    /// The shop kept its product page from haul (a robot check, a sign-in).
    PageWalled,
    /// The file is larger than `max_file_bytes`.
    TooLarge,
    /// The job's files together passed `max_job_bytes`.
    JobTooLarge,
    /// The image has more pixels, or needs more memory, than haul decodes.
    ImageTooLarge,
    /// The file is damaged.
    Damaged,
    /// A kind of file haul cannot store (an encrypted HLS stream, an image it cannot convert).
    Unsupported,
    /// The disk is full.
    DiskFull,
    /// A file could not be written (other than a full disk).
    CannotWrite,
    /// An inbox file reached through a link, which haul never follows.
    LinkRefused,
    /// The page had nothing haul saves.
    NothingToSave,
    /// Every file of the job failed.
    NothingSaved,
    /// The user stopped it.
    Cancelled,
    /// A bug or an unexpected local failure.
    Internal,
    /// The output folder (or haul's data folder) is on a read-only disk.
    ReadOnly,
    /// The server sent the file slower than `min_rate_bytes_per_sec`.
    TooSlow,
    /// The file took longer than `item_deadline_secs`, retries included.
    Deadline,
    /// A redirect from https to plain http (`allow_https_downgrade` is off).
    InsecureRedirect,
    /// Anything else: a kind from a newer haul, or a failure journaled before kinds existed
    /// that its text did not place.
    #[default]
    #[serde(other)]
    Other,
}

impl FailureKind {
    /// Every kind, in the order they were added.
    pub const ALL: &'static [FailureKind] = &[
        FailureKind::NotFound,
        FailureKind::NameNotResolved,
        FailureKind::Unreachable,
        FailureKind::RefusedPrivateAddress,
        FailureKind::NotWebAddress,
        FailureKind::Forbidden,
        FailureKind::RateLimited,
        FailureKind::ServerError,
        FailureKind::HttpError,
        FailureKind::Timeout,
        FailureKind::Interrupted,
        FailureKind::Redirects,
        FailureKind::NotMedia,
        FailureKind::PageWalled,
        FailureKind::TooLarge,
        FailureKind::JobTooLarge,
        FailureKind::ImageTooLarge,
        FailureKind::Damaged,
        FailureKind::Unsupported,
        FailureKind::DiskFull,
        FailureKind::CannotWrite,
        FailureKind::LinkRefused,
        FailureKind::NothingToSave,
        FailureKind::NothingSaved,
        FailureKind::Cancelled,
        FailureKind::Internal,
        FailureKind::ReadOnly,
        FailureKind::TooSlow,
        FailureKind::Deadline,
        FailureKind::InsecureRedirect,
        FailureKind::Other,
    ];

    /// Its stable name (`not_found`).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::NotFound => "not_found",
            FailureKind::NameNotResolved => "name_not_resolved",
            FailureKind::Unreachable => "unreachable",
            FailureKind::RefusedPrivateAddress => "refused_private_address",
            FailureKind::NotWebAddress => "not_web_address",
            FailureKind::Forbidden => "forbidden",
            FailureKind::RateLimited => "rate_limited",
            FailureKind::ServerError => "server_error",
            FailureKind::HttpError => "http_error",
            FailureKind::Timeout => "timeout",
            FailureKind::Interrupted => "interrupted",
            FailureKind::Redirects => "redirects",
            FailureKind::NotMedia => "not_media",
            FailureKind::PageWalled => "page_walled",
            FailureKind::TooLarge => "too_large",
            FailureKind::JobTooLarge => "job_too_large",
            FailureKind::ImageTooLarge => "image_too_large",
            FailureKind::Damaged => "damaged",
            FailureKind::Unsupported => "unsupported",
            FailureKind::DiskFull => "disk_full",
            FailureKind::CannotWrite => "cannot_write",
            FailureKind::LinkRefused => "link_refused",
            FailureKind::NothingToSave => "nothing_to_save",
            FailureKind::NothingSaved => "nothing_saved",
            FailureKind::Cancelled => "cancelled",
            FailureKind::Internal => "internal",
            FailureKind::ReadOnly => "read_only",
            FailureKind::TooSlow => "too_slow",
            FailureKind::Deadline => "deadline",
            FailureKind::InsecureRedirect => "insecure_redirect",
            FailureKind::Other => "other",
        }
    }

    /// The kind named `name`; [`FailureKind::Other`] for a name this side does not know.
    pub fn parse(name: &str) -> FailureKind {
        FailureKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == name)
            .unwrap_or(FailureKind::Other)
    }

    /// Can trying again later help? `false` for verdicts: the file is gone, the name does not
    /// resolve, the address or the content is one haul refuses.
    pub fn may_pass(self) -> bool {
        !matches!(
            self,
            FailureKind::NotFound
                | FailureKind::NameNotResolved
                | FailureKind::RefusedPrivateAddress
                | FailureKind::NotWebAddress
                | FailureKind::NotMedia
                | FailureKind::Unsupported
                | FailureKind::LinkRefused
                | FailureKind::NothingToSave
                | FailureKind::InsecureRedirect
        )
    }

    /// What happened and what to do, in plain words; `None` for [`FailureKind::Other`], whose
    /// reason is shown as it is.
    pub fn explanation(self) -> Option<&'static str> {
        Some(match self {
            FailureKind::NotFound => {
                "The file is no longer on the shop's server (it was removed or the link is out of date). Open the product page in your browser and press the haul button to save what it shows now."
            }
            FailureKind::NameNotResolved => {
                "haul could not find the server's name. Check that this computer is online and that the address is spelled right."
            }
            FailureKind::Unreachable => {
                "haul could not reach the server. Check that this computer is online, then press Try again."
            }
            FailureKind::RefusedPrivateAddress => {
                "haul does not download from addresses inside your own network, for your safety (set allow_private_networks = true in the config to allow it)."
            }
            FailureKind::NotWebAddress => {
                "This is not a web address haul can download: give an http:// or https:// address."
            }
            FailureKind::Forbidden => {
                "The shop's server refused to hand out this file. Try again from the product page in your browser."
            }
            FailureKind::RateLimited => {
                "The shop's server asked haul to slow down. Wait a few minutes, then press Try again."
            }
            FailureKind::ServerError => {
                "The shop's server had a problem. This is usually temporary — press Try again later."
            }
            FailureKind::HttpError => {
                "The shop's server answered with an error instead of the file. Press Try again; if it fails again, save the product page from your browser."
            }
            FailureKind::Timeout => {
                "The server stopped answering. Press Try again; it usually works the second time."
            }
            FailureKind::Interrupted => {
                "The download was cut off before it finished. Press Try again."
            }
            FailureKind::Redirects => {
                "The link kept sending haul somewhere else, so haul stopped following it. Save the product page from your browser instead."
            }
            FailureKind::NotMedia => {
                "The server sent a web page instead of a picture or video — usually an expired or blocked link. If the address is a shop's product page, open it in your browser and press the haul button."
            }
            FailureKind::PageWalled => {
                "The shop would not show its product page to haul (shops keep pages from programs). Open the page in your browser and press the haul button."
            }
            FailureKind::TooLarge => {
                "The file is bigger than the largest file haul is set to save (max_file_bytes in the config)."
            }
            FailureKind::JobTooLarge => {
                "This product's files together are bigger than haul is set to save (max_job_bytes in the config)."
            }
            FailureKind::ImageTooLarge => {
                "The picture is too large for haul to open safely. Scale it down and save it again."
            }
            FailureKind::Damaged => "The file is damaged, so haul could not clean it.",
            FailureKind::Unsupported => {
                "haul cannot store this kind of file (an encrypted video stream, or an image format it cannot convert)."
            }
            FailureKind::DiskFull => "The disk is full. Free some space, then press Try again.",
            FailureKind::CannotWrite => {
                "haul could not write to the disk. Check that the output folder exists and that you may write to it."
            }
            FailureKind::LinkRefused => {
                "haul does not follow links in the inbox, for your safety. Drop the file itself."
            }
            FailureKind::NothingToSave => "The page had no pictures or videos to save.",
            FailureKind::NothingSaved => {
                "None of the files could be saved. The reason for each is shown with it."
            }
            FailureKind::Cancelled => "You stopped this.",
            FailureKind::Internal => {
                "Something went wrong inside haul. Press Try again; if it keeps failing, report it with the details below."
            }
            FailureKind::ReadOnly => {
                "The folder haul saves to is on a read-only disk. Choose another output folder, or make the disk writable, then press Try again."
            }
            FailureKind::TooSlow => {
                "The server sent the file so slowly that haul gave up (min_rate_bytes_per_sec in the config). Press Try again later."
            }
            FailureKind::Deadline => {
                "The file took too long to download, so haul stopped (item_deadline_secs in the config). Press Try again later."
            }
            FailureKind::InsecureRedirect => {
                "The server sent haul from a secure (https) address to an insecure (http) one, where anyone on the way could change the file, so haul did not follow (allow_https_downgrade in the config)."
            }
            FailureKind::Other => return None,
        })
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The daemon's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    pub version: String,
    pub pid: Option<u32>,
    pub status_url: Option<String>,
    pub output_dir: String,
    pub inbox_dir: String,
    pub data_dir: String,
    pub jobs: Vec<JobSummary>,
}

/// One job, as listed by `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    pub job: JobId,
    pub state: JobState,
    /// What the job is about: product title, list name or first URL.
    pub label: String,
    pub output: Option<String>,
    pub saved: u64,
    pub failed: u64,
    pub total: u64,
    pub bytes: u64,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// When haul noticed that the package is no longer on disk (seconds since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<i64>,
    /// How it went (for instance deleted from the output folder by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_note: Option<String>,
    /// What the product page said the product is and costs, when it said any of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductBrief>,
}

/// A product in a word: its name, price and availability as its page stated them (each absent
/// when the page did not say).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductBrief {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The price a buyer pays now, a decimal string (`"1299.00"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// ISO 4217 (`"EUR"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// schema.org's short name (`InStock`, `OutOfStock`, `PreOrder`, `BackOrder`,
    /// `Discontinued`, `LimitedAvailability`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<String>,
}

impl ProductBrief {
    /// `None` when nothing is known.
    pub fn of(
        name: Option<String>,
        price: Option<String>,
        currency: Option<String>,
        availability: Option<String>,
    ) -> Option<ProductBrief> {
        let brief = ProductBrief {
            name,
            price,
            currency,
            availability,
        };
        (brief != ProductBrief::default()).then_some(brief)
    }
}

/// A cancel took effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cancelled {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    pub job: JobId,
}

/// An error with a stable code and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    pub code: ErrorCode,
    pub message: String,
}

/// Stable, append-only error codes (documented in `docs/protocol.md`). Never renumber; a code from
/// a newer version is carried as its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    /// The frame was not a JSON object with a string `type`.
    pub const BAD_MESSAGE: ErrorCode = ErrorCode(1);
    /// The `type` is not one this daemon knows (maybe the sender is newer).
    pub const UNKNOWN_TYPE: ErrorCode = ErrorCode(2);
    /// A known message with missing or wrong fields.
    pub const INVALID_FIELDS: ErrorCode = ErrorCode(3);
    /// A frame over the size limit.
    pub const TOO_LARGE: ErrorCode = ErrorCode(4);
    /// The reply would exceed what the browser accepts.
    pub const REPLY_TOO_LARGE: ErrorCode = ErrorCode(5);
    /// Client and daemon speak different protocol versions.
    pub const VERSION_MISMATCH: ErrorCode = ErrorCode(6);
    /// The daemon could not be reached or started.
    pub const DAEMON_UNAVAILABLE: ErrorCode = ErrorCode(7);
    /// No such job.
    pub const NOT_FOUND: ErrorCode = ErrorCode(8);
    /// The caller may not do this.
    pub const FORBIDDEN: ErrorCode = ErrorCode(9);
    /// Too many connections or jobs at once.
    pub const BUSY: ErrorCode = ErrorCode(10);
    /// The daemon is shutting down.
    pub const SHUTTING_DOWN: ErrorCode = ErrorCode(11);
    /// The grab has nothing to save (no media, no page HTML).
    pub const NOTHING_TO_GRAB: ErrorCode = ErrorCode(12);
    /// A bug or an unexpected local failure (disk, database).
    pub const INTERNAL: ErrorCode = ErrorCode(13);
}

/// Why a frame body is not a usable message.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// Not JSON, not an object, or no string `type`.
    #[error("not a haul message: {0}")]
    Corrupt(String),
    /// A well-formed message of a type this side does not know.
    #[error("unknown message type {0:?}")]
    UnknownType(String, Option<Value>),
    /// A known type with missing or malformed fields.
    #[error("invalid {kind:?} message: {reason}")]
    Invalid {
        kind: String,
        reason: String,
        id: Option<Value>,
    },
}

impl DecodeError {
    /// The error code this decode failure is answered with.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::Corrupt(_) => ErrorCode::BAD_MESSAGE,
            DecodeError::UnknownType(..) => ErrorCode::UNKNOWN_TYPE,
            DecodeError::Invalid { .. } => ErrorCode::INVALID_FIELDS,
        }
    }

    /// The request id, when the message had one.
    pub fn id(&self) -> Option<Value> {
        match self {
            DecodeError::Corrupt(_) => None,
            DecodeError::UnknownType(_, id) => id.clone(),
            DecodeError::Invalid { id, .. } => id.clone(),
        }
    }

    /// The `error` reply for this failure.
    pub fn to_reply(&self) -> Reply {
        let message = match self {
            DecodeError::UnknownType(kind, _) => format!(
                "unknown message type {kind:?}; this haul (version {}) understands {}. If the extension is newer than haul, update haul.",
                crate::VERSION,
                Request::TYPES.join(", ")
            ),
            other => other.to_string(),
        };
        Reply::error(self.id(), self.code(), message)
    }
}

fn decode_tagged<T: serde::de::DeserializeOwned>(
    body: &[u8],
    known: &[&str],
) -> Result<T, DecodeError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| DecodeError::Corrupt(format!("invalid JSON: {e}")))?;
    let Value::Object(map) = &value else {
        return Err(DecodeError::Corrupt("expected a JSON object".into()));
    };
    let id = map.get("id").cloned();
    let kind = match map.get("type") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(DecodeError::Corrupt("\"type\" must be a string".into())),
        None => return Err(DecodeError::Corrupt("missing \"type\"".into())),
    };
    if !known.contains(&kind.as_str()) {
        return Err(DecodeError::UnknownType(kind, id));
    }
    serde_json::from_value(value).map_err(|e| DecodeError::Invalid {
        kind,
        reason: e.to_string(),
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failure_kinds_are_stable_names_and_unknown_ones_read_as_other() {
        for &kind in FailureKind::ALL {
            assert_eq!(FailureKind::parse(kind.as_str()), kind);
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
            assert_eq!(
                serde_json::from_value::<FailureKind>(json!(kind.as_str())).unwrap(),
                kind
            );
            assert_eq!(kind.explanation().is_none(), kind == FailureKind::Other);
        }
        assert_eq!(
            serde_json::from_value::<FailureKind>(json!("from_a_newer_haul")).unwrap(),
            FailureKind::Other
        );
        let old: Failure = serde_json::from_value(json!({"url": "u", "reason": "r"})).unwrap();
        assert_eq!(old.kind, FailureKind::Other);
        assert!(!FailureKind::NotFound.may_pass() && FailureKind::Timeout.may_pass());
    }

    #[test]
    fn grab_in_the_documented_shape_decodes() {
        let body = json!({
            "type": "grab", "id": "r1",
            "page": {"url": "https://www.amazon.com/dp/B000TEST01", "title": "T", "html": "<html></html>"},
            "media": [{"url": "https://m.media-amazon.com/images/I/a.jpg", "kind": "image"}],
            "options": {}
        });
        let req = Request::decode(body.to_string().as_bytes()).unwrap();
        let Request::Grab(g) = req else {
            panic!("not a grab")
        };
        assert_eq!(g.id, Some(json!("r1")));
        assert_eq!(g.page.unwrap().html.as_deref(), Some("<html></html>"));
        assert_eq!(g.media[0].kind, Some(MediaKind::Image));
    }

    #[test]
    fn bare_hello_decodes() {
        assert!(matches!(
            Request::decode(br#"{"type":"hello"}"#).unwrap(),
            Request::Hello(_)
        ));
    }

    #[test]
    fn unknown_type_is_told_apart_from_corrupt() {
        let err = Request::decode(br#"{"type":"teleport","id":7}"#).unwrap_err();
        assert!(
            matches!(&err, DecodeError::UnknownType(t, Some(id)) if t == "teleport" && id == &json!(7))
        );
        let Reply::Error(e) = err.to_reply() else {
            panic!()
        };
        assert_eq!(e.code, ErrorCode::UNKNOWN_TYPE);
        assert!(e.message.contains("teleport"));

        for corrupt in [&b"not json"[..], b"[1,2]", br#"{"id":1}"#, br#"{"type":5}"#] {
            let err = Request::decode(corrupt).unwrap_err();
            assert_eq!(err.code(), ErrorCode::BAD_MESSAGE, "{err}");
        }
    }

    #[test]
    fn known_type_with_bad_fields_is_invalid_and_keeps_id() {
        let err = Request::decode(br#"{"type":"cancel","id":"c1"}"#).unwrap_err();
        assert_eq!(err.code(), ErrorCode::INVALID_FIELDS);
        assert_eq!(err.id(), Some(json!("c1")));
    }

    #[test]
    fn reply_shapes_match_the_documented_field_names() {
        let r = Reply::Accepted(Accepted {
            id: Some(json!("r1")),
            job: 3,
        });
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"type":"accepted","id":"r1","job":3})
        );
        let r = Reply::Finished(Finished {
            job: 3,
            status: JobState::Complete,
            output: Some("/x.zip".into()),
            outputs: vec!["/x.zip".into()],
            saved: 1,
            left_out: 0,
            failed: 0,
            total: 1,
            failures: vec![],
        });
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["type"], "finished");
        assert_eq!(v["status"], "complete");
        assert_eq!(v["output"], "/x.zip");
        assert_eq!(v["outputs"], json!(["/x.zip"]));
        assert!(
            v.get("left_out").is_none(),
            "nothing left out is not said: {v}"
        );
        let e = Reply::error(None, ErrorCode::NOT_FOUND, "no job 9");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"type":"error","code":8,"message":"no job 9"})
        );
    }

    #[test]
    fn oversized_reply_becomes_an_error_frame() {
        let huge = Reply::Status(StatusReply {
            id: Some(json!("s")),
            version: "x".into(),
            pid: None,
            status_url: None,
            output_dir: "o".repeat(2000),
            inbox_dir: String::new(),
            data_dir: String::new(),
            jobs: vec![],
        });
        let body = huge.encode_within(1000);
        assert!(body.len() <= 1000);
        let Reply::Error(e) = Reply::decode(&body).unwrap() else {
            panic!()
        };
        assert_eq!(e.code, ErrorCode::REPLY_TOO_LARGE);
        assert_eq!(e.id, Some(json!("s")));
    }
}
