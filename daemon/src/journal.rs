//! The job journal: every job and item in SQLite (bundled, WAL) in the data dir, so nothing is
//! lost when the daemon is killed.
//!
//! What is recorded and why:
//! - a job row as soon as a request is accepted (before any work), holding the request itself, so a
//!   restart can redo everything from the journal alone;
//! - one item row per media file once the job is planned, with its state, the server's validator
//!   (for `If-Range` on resume), size, hash, dimensions, error and timings;
//! - the package's temporary and final path before the rename, so a restart after a kill between
//!   rename and commit recognises the finished package instead of writing a second one.
//!
//! Writes are short transactions on one connection behind a mutex. In WAL mode with
//! `synchronous = NORMAL` a commit survives a killed process (only an OS crash can lose the last
//! ones), which is the failure haul promises to survive.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use haul_protocol::message::{
    ItemState, JobId, JobState, JobSummary, MediaKind, PackageMode, ProductBrief,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::extract::ProductFacts;
use crate::failure::{Failed, FailureKind};
use crate::media::{Link, Role};
pub use crate::process::SavedMedia;
use crate::request::JobRequest;

/// Schema version written to `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 9;

/// Changes after the first schema, applied in order to a journal whose `user_version` is lower.
/// Each only adds (columns, tables), so a journal of any earlier version upgrades in place.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        2,
        r#"
ALTER TABLE items ADD COLUMN warning TEXT;
ALTER TABLE jobs ADD COLUMN removed_at INTEGER;
ALTER TABLE jobs ADD COLUMN removed_note TEXT;
CREATE TABLE IF NOT EXISTS inbox_inputs (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    taken       TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    jobs        TEXT,
    report      TEXT,
    result      TEXT,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
);
"#,
    ),
    (
        3,
        r#"
ALTER TABLE jobs ADD COLUMN excluded TEXT;
"#,
    ),
    (
        4,
        r#"
ALTER TABLE jobs ADD COLUMN parent_id TEXT;
ALTER TABLE jobs ADD COLUMN other_ids TEXT;
ALTER TABLE items ADD COLUMN code TEXT;
"#,
    ),
    (
        5,
        r#"
ALTER TABLE jobs ADD COLUMN links TEXT;
"#,
    ),
    (
        6,
        r#"
ALTER TABLE jobs ADD COLUMN facts TEXT;
"#,
    ),
    (
        7,
        r#"
ALTER TABLE items ADD COLUMN entry TEXT;
"#,
    ),
    (
        8,
        r#"
ALTER TABLE items ADD COLUMN error_kind TEXT;
ALTER TABLE jobs ADD COLUMN error_kind TEXT;
"#,
    ),
    (
        9,
        // Each job names its inbox input, so a job's card finds it by the job's own row instead
        // of searching every input's list of jobs (10,000 inputs, or one of 10,000 jobs, made
        // that search the status page's slowest step); and packages are found by their path
        // (the output folder's events name one per package written: without the index, each
        // was a scan of every job).
        r#"
ALTER TABLE jobs ADD COLUMN input_id INTEGER;
CREATE INDEX IF NOT EXISTS jobs_output ON jobs(output);
UPDATE jobs SET input_id = m.input
    FROM (SELECT e.value AS job, MAX(i.id) AS input
          FROM inbox_inputs i, json_each(i.jobs) e GROUP BY e.value) AS m
    WHERE m.job = jobs.id;
"#,
    ),
];

/// Fills in what a migration's SQL cannot: each failure journaled before kinds existed gets the
/// kind its text names, once (`other` where the text does not say).
fn after_migration(tx: &rusqlite::Transaction<'_>, target: i64) -> rusqlite::Result<()> {
    if target != 8 {
        return Ok(());
    }
    for table in ["items", "jobs"] {
        let reasons: Vec<String> = tx
            .prepare(&format!(
                "SELECT DISTINCT error FROM {table} WHERE error IS NOT NULL AND error_kind IS NULL"
            ))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut update = tx.prepare(&format!(
            "UPDATE {table} SET error_kind = ?2 WHERE error = ?1 AND error_kind IS NULL"
        ))?;
        for reason in reasons {
            let kind = crate::failure::kind_of_old_reason(&reason);
            update.execute(params![reason, kind.as_str()])?;
        }
    }
    Ok(())
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS jobs (
    id           INTEGER PRIMARY KEY,
    state        TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    request      TEXT    NOT NULL,
    out_dir      TEXT    NOT NULL,
    package_mode TEXT    NOT NULL,
    planned      INTEGER NOT NULL DEFAULT 0,
    site         TEXT,
    product_id   TEXT,
    title        TEXT,
    page_url     TEXT,
    staging      TEXT,
    output       TEXT,
    error        TEXT,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE TABLE IF NOT EXISTS items (
    job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    url          TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    variant      TEXT,
    variant_id   TEXT,
    state        TEXT    NOT NULL,
    size         INTEGER,
    validator    TEXT,
    final_url    TEXT,
    bytes        INTEGER NOT NULL DEFAULT 0,
    content_type TEXT,
    ext          TEXT,
    width        INTEGER,
    height       INTEGER,
    sha256       TEXT,
    error        TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    started_at   INTEGER,
    finished_at  INTEGER,
    PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
"#;

/// A job's inbox input (see [`Journal::input_of`]): by the job's key, then the input's.
const INPUT_OF: &str = "SELECT i.id, i.name, i.report FROM jobs j
    JOIN inbox_inputs i ON i.id = j.input_id WHERE j.id = ?1";

/// The packages recorded at one path (see [`Journal::recorded_outputs`]), by the index.
const OUTPUTS_AT: &str = "SELECT id, output, removed_note FROM jobs WHERE output = ?1";

/// Journal failures. Each carries what was being done.
#[derive(Debug, Error)]
pub enum JournalError {
    #[error("cannot open the job journal {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create the data folder {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the job journal {} was written by a newer haul (schema {found}, this haul knows {SCHEMA_VERSION}); update haul", path.display())]
    TooNew { path: PathBuf, found: i64 },
    #[error("job journal error while {doing}: {source}")]
    Sql {
        doing: &'static str,
        source: rusqlite::Error,
    },
    #[error("the journal holds a value this haul cannot read ({0}); was it edited by hand?")]
    Corrupt(String),
    #[error("no job {0}")]
    NoSuchJob(JobId),
    #[error("the job journal {why}; `haul daemon` sets it aside and starts a new one")]
    Unusable { why: String },
}

impl JournalError {
    /// The kind of failure a job ended by this error shows: a full disk is told apart, so the
    /// person knows to free space.
    pub fn kind(&self) -> FailureKind {
        match self {
            JournalError::Sql { source, .. } | JournalError::Open { source, .. }
                if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) =>
            {
                FailureKind::DiskFull
            }
            JournalError::CreateDir { source, .. } => crate::failure::of_write(source),
            _ => FailureKind::Internal,
        }
    }
}

type Result<T> = std::result::Result<T, JournalError>;

trait Doing<T> {
    fn doing(self, what: &'static str) -> Result<T>;
}

impl<T> Doing<T> for rusqlite::Result<T> {
    fn doing(self, doing: &'static str) -> Result<T> {
        self.map_err(|source| JournalError::Sql { doing, source })
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A job to create.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub label: String,
    pub request: JobRequest,
    pub out_dir: PathBuf,
    pub package_mode: PackageMode,
}

/// A job as journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: JobId,
    pub state: JobState,
    pub label: String,
    pub request: JobRequest,
    pub out_dir: PathBuf,
    pub package_mode: PackageMode,
    /// Items have been created (the page was read).
    pub planned: bool,
    pub product: ProductInfo,
    /// The package being written (temporary path, and the final path it will be renamed to).
    pub staging: Option<Staging>,
    pub output: Option<PathBuf>,
    pub error: Option<String>,
    /// The kind of `error`.
    pub error_kind: Option<FailureKind>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// When haul noticed that the package is gone from disk (ms since the epoch), and why
    /// (deleted by the user, or removed by `retention_days`).
    pub removed_at: Option<i64>,
    pub removed_note: Option<String>,
    /// What the page offered in roles the request's `include` leaves out: never downloaded,
    /// listed in the manifest.
    pub excluded: Vec<ExcludedItem>,
}

/// A medium of the page the user chose not to save (its role is not in `include`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedItem {
    pub url: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// What the page said about the product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductInfo {
    pub site: Option<String>,
    pub product_id: Option<String>,
    /// The product's variation family (Amazon's parent ASIN), when it has one.
    pub parent_id: Option<String>,
    /// Other ids the page gives the same product.
    pub other_ids: Vec<String>,
    pub title: Option<String>,
    pub page_url: Option<String>,
    /// The product's videos on a video platform: the pages that play them, never downloaded,
    /// listed in the manifest.
    pub links: Vec<Link>,
    /// What the page says the product is and costs (`product.json` in the package).
    pub facts: ProductFacts,
}

/// Packages on their way into the output folder (a ZIP, a folder, or both): each is complete
/// under its temporary name when this is recorded, so after a crash every temporary that still
/// exists only needs its rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staging {
    pub paths: Vec<StagedPath>,
}

/// One package: where it was written and the name it is renamed to (`base` and `ext` give the
/// next free name should that one be taken meanwhile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedPath {
    pub temp: PathBuf,
    pub target: PathBuf,
    pub base: String,
    pub ext: String,
}

/// An input taken from the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxInput {
    pub id: i64,
    /// Its name in the inbox.
    pub name: String,
    /// Where it waits while its jobs run (`inbox/processing/<id>-<name>`).
    pub taken: PathBuf,
    pub state: InputState,
    pub jobs: Vec<JobId>,
    /// Problems found while reading it (bad lines and rows), for its report.
    pub report: Vec<String>,
}

/// How far an inbox input has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputState {
    /// Moved to `processing/`; its jobs are not journaled yet.
    Taken,
    /// Its jobs are journaled.
    Submitted,
}

/// The inbox input a batch of new jobs comes from, and what reading it found wrong.
#[derive(Debug, Clone, Copy)]
pub struct InputJobs<'a> {
    pub input: i64,
    pub report: &'a [String],
}

/// An item to create when planning a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub url: String,
    pub kind: MediaKind,
    pub role: Role,
    pub variant: Option<String>,
    pub variant_id: Option<String>,
    /// The picture's code on its page or spreadsheet (Amazon's `PT05`, …).
    pub code: Option<String>,
}

/// An item as journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRecord {
    pub job_id: JobId,
    pub index: u32,
    pub url: String,
    pub kind: MediaKind,
    pub role: Role,
    pub variant: Option<String>,
    pub variant_id: Option<String>,
    /// The picture's code on its page or spreadsheet (Amazon's `PT05`, …).
    pub code: Option<String>,
    pub state: ItemState,
    /// Full size announced by the server.
    pub size: Option<u64>,
    /// `ETag` (strong) or `Last-Modified`, for `If-Range`.
    pub validator: Option<String>,
    pub final_url: Option<String>,
    /// Bytes stored (after processing) once saved.
    pub bytes: u64,
    pub saved: Option<SavedMedia>,
    pub error: Option<String>,
    /// The kind of `error`.
    pub error_kind: Option<FailureKind>,
    pub attempts: u32,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Its name in the package (`02.jpg`, `review/01.jpg`), recorded when the job is packaged;
    /// `None` before that, for an item the naming left out, and for jobs packaged before the
    /// journal recorded names (their `manifest.json` has them).
    pub entry: Option<String>,
}

/// Creates the journal file 0600 when missing; tightens it and its -wal/-shm files otherwise.
fn private_journal(path: &Path) -> std::io::Result<()> {
    match haul_protocol::private::options()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for suffix in ["", "-wal", "-shm"] {
                let mut name = path.as_os_str().to_owned();
                name.push(suffix);
                match haul_protocol::private::tighten_file(Path::new(&name)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The SQLite journal.
pub struct Journal {
    conn: Mutex<Connection>,
    /// Ends of jobs that could not be written (a full disk, a failing drive): kept here so
    /// every reader of this journal — the API, the socket, the `finished` event — sees the job
    /// ended, with its reason, instead of `running` for ever. The journal still says the job
    /// is unfinished, so it resumes on the next start, once the disk takes writes again.
    unrecorded: Mutex<HashMap<JobId, (JobState, Failed)>>,
    set_aside: Option<SetAside>,
}

/// A journal found empty or damaged when opened, renamed beside itself (never deleted, never
/// silently replaced) before a new one was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// Where the old journal is now.
    pub moved_to: PathBuf,
    /// What was wrong with it.
    pub why: String,
}

impl std::fmt::Display for SetAside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the job journal {}; it was set aside as {} and a new, empty journal started \
             (the jobs it recorded are not in the history; keep the file to recover them)",
            self.why,
            self.moved_to.display()
        )
    }
}

/// Whether an error of SQLite says the file is not (or no longer) a sound database.
fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// Why the journal at `path` cannot be used as it is: empty (0 bytes, with no write-ahead log
/// that holds its contents) or damaged (SQLite's `quick_check`). `None` when it is sound or
/// does not exist yet.
fn unusable(path: &Path) -> Option<String> {
    let size = std::fs::metadata(path).ok()?.len();
    if size == 0 {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal_size = std::fs::metadata(Path::new(&wal)).map_or(0, |m| m.len());
        // In WAL mode a young journal can be 0 bytes with everything in its -wal file.
        return (wal_size == 0).then(|| format!("{} was empty (0 bytes)", path.display()));
    }
    let check = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
        .and_then(|conn| {
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            let mut stmt = conn.prepare("PRAGMA quick_check")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
        });
    match check {
        Ok(rows) if rows.iter().all(|r| r == "ok") => None,
        Ok(rows) => Some(format!(
            "{} is damaged ({})",
            path.display(),
            rows.into_iter().take(3).collect::<Vec<_>>().join("; ")
        )),
        Err(e) if is_damage(&e) => Some(format!("{} is damaged ({e})", path.display())),
        // Anything else (a locked or unreadable file) is reported by the open itself.
        Err(_) => None,
    }
}

/// Renames the journal and its -wal/-shm files to `<name>.set-aside-<ms>[-wal|-shm]`.
fn set_aside(path: &Path, why: String) -> Result<SetAside> {
    let mut moved_to = path.as_os_str().to_owned();
    moved_to.push(format!(".set-aside-{}", now_ms()));
    let moved_to = PathBuf::from(moved_to);
    for suffix in ["", "-wal", "-shm"] {
        let (mut from, mut to) = (path.as_os_str().to_owned(), moved_to.as_os_str().to_owned());
        from.push(suffix);
        to.push(suffix);
        match std::fs::rename(&from, &to) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound || suffix.is_empty() => {
                return Err(JournalError::CreateDir {
                    path: PathBuf::from(from),
                    source: e,
                });
            }
            _ => {}
        }
    }
    Ok(SetAside { moved_to, why })
}

impl Journal {
    /// Opens (creating when needed) the journal at `path` to read it beside the engine
    /// (`haul status`, `haul export`): a journal that is empty or damaged is an error, left as
    /// it is for the engine to set aside.
    pub fn open(path: &Path) -> Result<Journal> {
        if let Some(why) = unusable(path) {
            return Err(JournalError::Unusable { why });
        }
        Journal::open_sound(path)
    }

    /// Opens the journal for the engine, which holds the engine lock (so nobody else writes
    /// it). A journal that is empty or damaged is renamed beside itself and a new one started;
    /// [`Journal::set_aside`] says so, for the caller to tell the user.
    pub fn open_for_engine(path: &Path) -> Result<Journal> {
        let aside = match unusable(path) {
            Some(why) => Some(set_aside(path, why)?),
            None => None,
        };
        let mut journal = Journal::open_sound(path)?;
        journal.set_aside = aside;
        Ok(journal)
    }

    /// The journal found empty or damaged by [`Journal::open`], and where it went.
    pub fn set_aside(&self) -> Option<&SetAside> {
        self.set_aside.as_ref()
    }

    fn open_sound(path: &Path) -> Result<Journal> {
        if let Some(dir) = path.parent() {
            haul_protocol::private::create_dir(dir).map_err(|source| JournalError::CreateDir {
                path: dir.into(),
                source,
            })?;
        }
        // The journal records every address the user saved: created 0600 before SQLite opens
        // it (SQLite gives its -wal and -shm files the database's mode), and tightened when an
        // older haul left it open to others.
        private_journal(path).map_err(|source| JournalError::CreateDir {
            path: path.into(),
            source,
        })?;
        let open_err = |source| JournalError::Open {
            path: path.into(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(open_err)?;
        if version > SCHEMA_VERSION {
            return Err(JournalError::TooNew {
                path: path.into(),
                found: version,
            });
        }
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        for (target, migration) in MIGRATIONS {
            if version >= *target {
                continue;
            }
            // Another process (the daemon and `haul status` starting together) may be migrating
            // the same file: take the write lock first, then look at the version again.
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(open_err)?;
            let now: i64 = tx
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(open_err)?;
            if now < *target {
                tx.execute_batch(migration).map_err(open_err)?;
                after_migration(&tx, *target).map_err(open_err)?;
                tx.pragma_update(None, "user_version", target)
                    .map_err(open_err)?;
            }
            tx.commit().map_err(open_err)?;
        }
        Ok(Journal {
            conn: Mutex::new(conn),
            unrecorded: Mutex::new(HashMap::new()),
            set_aside: None,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (every change is a
        // transaction), so a poisoned lock is still usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Journals a new job in state `queued` and returns its id.
    pub fn create_job(&self, job: &NewJob) -> Result<JobId> {
        let ids = self.create_jobs(std::slice::from_ref(job), None)?;
        ids.first()
            .copied()
            .ok_or_else(|| JournalError::Corrupt("no job id".into()))
    }

    /// Journals new jobs in one transaction; with `input`, also records them as the jobs of that
    /// inbox input (so a restart never submits an input's jobs twice).
    pub fn create_jobs(&self, jobs: &[NewJob], input: Option<InputJobs<'_>>) -> Result<Vec<JobId>> {
        self.create_jobs_from(jobs.iter().map(Ok), input)
    }

    /// [`Journal::create_jobs`] for jobs made one by one as they are journaled, so a
    /// 10,000-row spreadsheet never holds 10,000 of them at once; the first `Err` rolls every
    /// one back and is returned.
    pub fn create_jobs_from<J, E>(
        &self,
        jobs: impl Iterator<Item = std::result::Result<J, E>>,
        input: Option<InputJobs<'_>>,
    ) -> std::result::Result<Vec<JobId>, E>
    where
        J: std::borrow::Borrow<NewJob>,
        E: From<JournalError>,
    {
        let mut conn = self.conn();
        let tx = conn.transaction().doing("creating jobs")?;
        let mut ids = Vec::with_capacity(jobs.size_hint().0);
        for job in jobs {
            let job = job?;
            let job = job.borrow();
            let request = serde_json::to_string(&job.request)
                .map_err(|e| JournalError::Corrupt(e.to_string()))?;
            tx.execute(
                "INSERT INTO jobs (state, label, request, out_dir, package_mode, created_at, input_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    JobState::Queued.as_str(),
                    job.label,
                    request,
                    path_text(&job.out_dir),
                    package_mode_str(job.package_mode),
                    now_ms(),
                    input.as_ref().map(|i| i.input)
                ],
            )
            .doing("creating a job")?;
            ids.push(tx.last_insert_rowid());
        }
        if let Some(input) = input {
            let jobs =
                serde_json::to_string(&ids).map_err(|e| JournalError::Corrupt(e.to_string()))?;
            let report = serde_json::to_string(input.report)
                .map_err(|e| JournalError::Corrupt(e.to_string()))?;
            tx.execute(
                "UPDATE inbox_inputs SET state = 'submitted', jobs = ?2, report = ?3 WHERE id = ?1",
                params![input.input, jobs, report],
            )
            .doing("recording an inbox input's jobs")?;
        }
        tx.commit().doing("creating jobs")?;
        Ok(ids)
    }

    /// Records an input taken from the inbox; it is moved to `processing/<id>-<name>` in
    /// `processing_dir` (returned) right after.
    pub fn create_input(&self, name: &str, processing_dir: &Path) -> Result<InboxInput> {
        let mut conn = self.conn();
        let tx = conn.transaction().doing("recording an inbox input")?;
        tx.execute(
            "INSERT INTO inbox_inputs (name, taken, state, created_at) VALUES (?1, '', 'taken', ?2)",
            params![name, now_ms()],
        )
        .doing("recording an inbox input")?;
        let id = tx.last_insert_rowid();
        let taken = processing_dir.join(format!("{id}-{name}"));
        tx.execute(
            "UPDATE inbox_inputs SET taken = ?2 WHERE id = ?1",
            params![id, path_text(&taken)],
        )
        .doing("recording an inbox input")?;
        tx.commit().doing("recording an inbox input")?;
        Ok(InboxInput {
            id,
            name: name.to_string(),
            taken,
            state: InputState::Taken,
            jobs: Vec::new(),
            report: Vec::new(),
        })
    }

    /// The inbox input a job came from — its name and what reading it found wrong (refused
    /// lines and rows) — for the job's card on the status page; `None` for a job from anywhere
    /// else.
    pub fn input_of(&self, job: JobId) -> Result<Option<(String, Vec<String>)>> {
        let conn = self.conn();
        let row = conn
            .query_row(INPUT_OF, params![job], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .optional()
            .doing("finding a job's inbox input")?;
        let Some((id, name, report)) = row else {
            return Ok(None);
        };
        let report: Vec<String> = report
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| JournalError::Corrupt(format!("inbox input {id}: {e}")))?
            .unwrap_or_default();
        Ok(Some((name, report)))
    }

    /// Inputs taken from the inbox and not yet moved to `done/` or `failed/`, oldest first.
    pub fn unfinished_inputs(&self) -> Result<Vec<InboxInput>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id, name, taken, state, jobs, report FROM inbox_inputs
                 WHERE state IN ('taken', 'submitted') ORDER BY id",
            )
            .doing("listing inbox inputs")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .doing("listing inbox inputs")?;
        let mut inputs = Vec::new();
        for row in rows {
            let (id, name, taken, state, jobs, report) = row.doing("listing inbox inputs")?;
            fn parse_list<T: serde::de::DeserializeOwned>(
                id: i64,
                text: Option<String>,
            ) -> Result<Vec<T>> {
                text.map(|t| serde_json::from_str(&t))
                    .transpose()
                    .map_err(|e| JournalError::Corrupt(format!("inbox input {id}: {e}")))
                    .map(Option::unwrap_or_default)
            }
            inputs.push(InboxInput {
                id,
                name,
                taken: PathBuf::from(taken),
                state: if state == "submitted" {
                    InputState::Submitted
                } else {
                    InputState::Taken
                },
                jobs: parse_list(id, jobs)?,
                report: parse_list(id, report)?,
            });
        }
        Ok(inputs)
    }

    /// An input is back in the user's hands: moved to `result` (in `done/` or `failed/`).
    pub fn finish_input(&self, input: i64, failed: bool, result: &Path) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE inbox_inputs SET state = ?2, result = ?3, finished_at = ?4 WHERE id = ?1",
                params![
                    input,
                    if failed { "failed" } else { "done" },
                    path_text(result),
                    now_ms()
                ],
            )
            .doing("finishing an inbox input")?;
        Ok(())
    }

    /// The jobs of the latest inbox input named `name` (as it was dropped: `urls.txt`), or
    /// `None` when no input of that name made jobs.
    pub fn inbox_jobs(&self, name: &str) -> Result<Option<Vec<JobId>>> {
        let jobs: Option<Option<String>> = self
            .conn()
            .query_row(
                "SELECT jobs FROM inbox_inputs WHERE name = ?1 AND jobs IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .doing("reading an inbox input")?;
        jobs.flatten()
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| JournalError::Corrupt(format!("inbox input {name:?}: {e}")))
    }

    /// Forgets an input that was recorded but never moved (the move failed, or a crash came
    /// first): it is still in the inbox and is taken again from there.
    pub fn forget_input(&self, input: i64) -> Result<()> {
        self.conn()
            .execute("DELETE FROM inbox_inputs WHERE id = ?1", [input])
            .doing("forgetting an inbox input")?;
        Ok(())
    }

    /// Records what the page said and creates the job's items, in one transaction.
    pub fn plan_job(
        &self,
        job: JobId,
        product: &ProductInfo,
        items: &[NewItem],
        excluded: &[ExcludedItem],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().doing("planning a job")?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT OR REPLACE INTO items (job_id, idx, url, kind, role, variant, variant_id, state, code)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .doing("planning a job")?;
            for (idx, item) in items.iter().enumerate() {
                insert
                    .execute(params![
                        job,
                        idx as i64,
                        item.url,
                        item.kind.as_str(),
                        item.role.as_str(),
                        item.variant,
                        item.variant_id,
                        ItemState::Pending.as_str(),
                        item.code
                    ])
                    .doing("planning a job")?;
            }
        }
        let changed = tx
            .execute(
                "UPDATE jobs SET planned = 1, site = ?2, product_id = ?3, title = ?4, page_url = ?5,
                    excluded = ?6, parent_id = ?7, other_ids = ?8, links = ?9, facts = ?10
                 WHERE id = ?1",
                params![
                    job,
                    product.site,
                    product.product_id,
                    product.title,
                    product.page_url,
                    (!excluded.is_empty())
                        .then(|| serde_json::to_string(excluded).unwrap_or_default()),
                    product.parent_id,
                    (!product.other_ids.is_empty()).then(|| product.other_ids.join("\n")),
                    (!product.links.is_empty())
                        .then(|| serde_json::to_string(&product.links).unwrap_or_default()),
                    (!product.facts.is_empty())
                        .then(|| serde_json::to_string(&product.facts).unwrap_or_default())
                ],
            )
            .doing("planning a job")?;
        if changed == 0 {
            return Err(JournalError::NoSuchJob(job));
        }
        tx.commit().doing("planning a job")
    }

    /// Moves a job to `state`, stamping the start or end time.
    pub fn set_job_state(&self, job: JobId, state: JobState) -> Result<()> {
        let now = now_ms();
        let changed = self
            .conn()
            .execute(
                "UPDATE jobs SET state = ?2, error = NULL, error_kind = NULL,
                    started_at = CASE WHEN ?2 = 'running' AND started_at IS NULL THEN ?3 ELSE started_at END,
                    finished_at = CASE WHEN ?4 THEN ?3 ELSE NULL END
                 WHERE id = ?1",
                params![job, state.as_str(), now, state.is_terminal()],
            )
            .doing("updating a job")?;
        if changed == 0 {
            return Err(JournalError::NoSuchJob(job));
        }
        // Written: the journal says it again, so what only memory held is dropped.
        self.unrecorded().remove(&job);
        Ok(())
    }

    /// Records the package about to be renamed into place (or clears it).
    pub fn set_staging(&self, job: JobId, staging: Option<&Staging>) -> Result<()> {
        let text = staging
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| JournalError::Corrupt(e.to_string()))?;
        self.conn()
            .execute(
                "UPDATE jobs SET staging = ?2 WHERE id = ?1",
                params![job, text],
            )
            .doing("recording a package")?;
        Ok(())
    }

    /// Ends a job: its final state, output and error, and clears the staging record.
    pub fn finish_job(
        &self,
        job: JobId,
        state: JobState,
        output: Option<&Path>,
        error: Option<&Failed>,
    ) -> Result<()> {
        let written = self
            .conn()
            .execute(
                "UPDATE jobs SET state = ?2, output = ?3, error = ?4, error_kind = ?6, staging = NULL,
                    finished_at = ?5, removed_at = NULL, removed_note = NULL
                 WHERE id = ?1",
                params![
                    job,
                    state.as_str(),
                    output.map(path_text),
                    error.map(|e| e.reason.as_str()),
                    now_ms(),
                    error.map(|e| e.kind.as_str())
                ],
            )
            .doing("finishing a job");
        let mut unrecorded = self.unrecorded();
        match written {
            Ok(_) => {
                unrecorded.remove(&job);
                Ok(())
            }
            Err(e) => {
                // Readers see the end anyway; the reason says why it is not in the journal.
                let failed = match error {
                    Some(why) if why.reason.contains(&e.to_string()) => why.clone(),
                    Some(why) => Failed::new(
                        why.kind,
                        format!("{} (and the end could not be recorded: {e})", why.reason),
                    ),
                    None => Failed::new(
                        e.kind(),
                        format!("the end of the job could not be recorded: {e}"),
                    ),
                };
                let state = if state.is_terminal() && error.is_none() {
                    JobState::Failed
                } else {
                    state
                };
                unrecorded.insert(job, (state, failed));
                Err(e)
            }
        }
    }

    fn unrecorded(&self) -> MutexGuard<'_, HashMap<JobId, (JobState, Failed)>> {
        self.unrecorded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One job's state alone (what a waiter looks at, without reading the job's request).
    pub fn job_state(&self, job: JobId) -> Result<JobState> {
        if let Some((state, _)) = self.unrecorded().get(&job) {
            return Ok(*state);
        }
        let state: String = self
            .conn()
            .query_row("SELECT state FROM jobs WHERE id = ?1", [job], |r| r.get(0))
            .optional()
            .doing("reading a job's state")?
            .ok_or(JournalError::NoSuchJob(job))?;
        JobState::parse(&state).ok_or_else(|| JournalError::Corrupt(format!("job state {state:?}")))
    }

    /// One job.
    pub fn job(&self, job: JobId) -> Result<JobRecord> {
        let mut record = self
            .conn()
            .query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
                [job],
                job_from_row,
            )
            .optional()
            .doing("reading a job")?
            .ok_or(JournalError::NoSuchJob(job))??;
        if let Some((state, failed)) = self.unrecorded().get(&job) {
            record.state = *state;
            record.error = Some(failed.reason.clone());
            record.error_kind = Some(failed.kind);
        }
        Ok(record)
    }

    /// Jobs that have not ended, oldest first (to resume after a restart).
    pub fn unfinished_jobs(&self) -> Result<Vec<JobId>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id FROM jobs WHERE state IN ('queued', 'running', 'packaging') ORDER BY id",
            )
            .doing("listing unfinished jobs")?;
        let ids = stmt
            .query_map([], |r| r.get(0))
            .doing("listing unfinished jobs")?;
        ids.collect::<rusqlite::Result<Vec<JobId>>>()
            .doing("listing unfinished jobs")
    }

    /// The items of a job, in package order.
    pub fn items(&self, job: JobId) -> Result<Vec<ItemRecord>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE job_id = ?1 ORDER BY idx"
            ))
            .doing("reading items")?;
        let rows = stmt
            .query_map([job], item_from_row)
            .doing("reading items")?;
        let mut items = Vec::new();
        for row in rows {
            items.push(row.doing("reading items")??);
        }
        Ok(items)
    }

    /// A download started (or resumed): the size and validator the server announced.
    pub fn item_downloading(
        &self,
        job: JobId,
        index: u32,
        size: Option<u64>,
        validator: Option<&str>,
        final_url: &str,
    ) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE items SET state = 'downloading', size = ?3, validator = ?4, final_url = ?5,
                    attempts = attempts + 1, started_at = COALESCE(started_at, ?6)
                 WHERE job_id = ?1 AND idx = ?2",
                params![
                    job,
                    index,
                    size.map(|s| s as i64),
                    validator,
                    final_url,
                    now_ms()
                ],
            )
            .doing("updating an item")?;
        Ok(())
    }

    /// Every byte of an item is on disk, not yet processed.
    pub fn item_downloaded(&self, job: JobId, index: u32, size: u64) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE items SET state = 'downloaded', size = ?3 WHERE job_id = ?1 AND idx = ?2",
                params![job, index, size as i64],
            )
            .doing("updating an item")?;
        Ok(())
    }

    /// An item is processed and ready to package.
    pub fn item_saved(&self, job: JobId, index: u32, saved: &SavedMedia) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE items SET state = 'saved', content_type = ?3, ext = ?4, width = ?5, height = ?6,
                    sha256 = ?7, bytes = ?8, error = NULL, error_kind = NULL, finished_at = ?9, warning = ?10
                 WHERE job_id = ?1 AND idx = ?2",
                params![
                    job,
                    index,
                    saved.content_type,
                    saved.ext,
                    saved.width,
                    saved.height,
                    saved.sha256,
                    saved.bytes as i64,
                    now_ms(),
                    (!saved.warnings.is_empty()).then(|| saved.warnings.join("\n"))
                ],
            )
            .doing("updating an item")?;
        Ok(())
    }

    /// An item failed for good.
    pub fn item_failed(&self, job: JobId, index: u32, error: &Failed) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE items SET state = 'failed', error = ?3, error_kind = ?5, finished_at = ?4
                 WHERE job_id = ?1 AND idx = ?2",
                params![job, index, error.reason, now_ms(), error.kind.as_str()],
            )
            .doing("updating an item")?;
        Ok(())
    }

    /// Records each saved item's name in the job's package (`None`: left out of it), in one
    /// transaction, as packaging names them.
    pub fn set_entries(&self, job: JobId, entries: &[(u32, Option<&str>)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().doing("recording entry names")?;
        {
            let mut stmt = tx
                .prepare("UPDATE items SET entry = ?3 WHERE job_id = ?1 AND idx = ?2")
                .doing("recording entry names")?;
            for (index, name) in entries {
                stmt.execute(params![job, index, name])
                    .doing("recording entry names")?;
            }
        }
        tx.commit().doing("recording entry names")
    }

    /// Jobs for `haul status`, newest first.
    pub fn list_jobs(&self, limit: usize, offset: usize) -> Result<Vec<JobSummary>> {
        Ok(self.list_jobs_filtered(&[], limit, offset)?.0)
    }
}

/// What the status page and API need beyond the engine's own use: paging and filtering the
/// history, removing a job from it, and putting a finished job back in the queue to retry.
impl Journal {
    /// One page of jobs, newest first, limited to `states` when it is not empty; also returns
    /// how many jobs match in all.
    pub fn list_jobs_filtered(
        &self,
        states: &[JobState],
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<JobSummary>, u64)> {
        // The states come from a fixed enum, so they can be inlined as literals safely.
        let filter = if states.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
            format!("WHERE j.state IN ({})", list.join(", "))
        };
        let conn = self.conn();
        let total: i64 = conn
            .query_row(&format!("SELECT COUNT(*) FROM jobs j {filter}"), [], |r| {
                r.get(0)
            })
            .doing("counting jobs")?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT j.id, j.state, COALESCE(j.title, j.label), j.output, j.created_at, j.finished_at,
                        COALESCE(SUM(i.state = 'saved'), 0), COALESCE(SUM(i.state = 'failed'), 0),
                        COUNT(i.idx), COALESCE(SUM(CASE WHEN i.state = 'saved' THEN i.bytes ELSE 0 END), 0),
                        j.removed_at, j.removed_note,
                        json_extract(j.facts, '$.name'), json_extract(j.facts, '$.price'),
                        json_extract(j.facts, '$.currency'), json_extract(j.facts, '$.availability')
                 FROM jobs j LEFT JOIN items i ON i.job_id = j.id
                 {filter}
                 GROUP BY j.id ORDER BY j.id DESC LIMIT ?1 OFFSET ?2"
            ))
            .doing("listing jobs")?;
        let rows = stmt
            .query_map(params![limit as i64, offset as i64], |r| {
                let state: String = r.get(1)?;
                Ok((
                    state,
                    JobSummary {
                        job: r.get(0)?,
                        state: JobState::Queued,
                        label: r.get(2)?,
                        output: r.get(3)?,
                        created_at: r.get::<_, i64>(4)? / 1000,
                        finished_at: r.get::<_, Option<i64>>(5)?.map(|t| t / 1000),
                        saved: r.get::<_, i64>(6)? as u64,
                        failed: r.get::<_, i64>(7)? as u64,
                        total: r.get::<_, i64>(8)? as u64,
                        bytes: r.get::<_, i64>(9)? as u64,
                        removed_at: r.get::<_, Option<i64>>(10)?.map(|t| t / 1000),
                        removed_note: r.get(11)?,
                        // What the page said, read out of the journaled facts by SQLite itself,
                        // so listing never parses whole descriptions.
                        product: ProductBrief::of(r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?),
                    },
                ))
            })
            .doing("listing jobs")?;
        let mut jobs = Vec::new();
        for row in rows {
            let (state, mut summary) = row.doing("listing jobs")?;
            summary.state = JobState::parse(&state)
                .ok_or_else(|| JournalError::Corrupt(format!("job state {state:?}")))?;
            if let Some((state, _)) = self.unrecorded().get(&summary.job) {
                summary.state = *state;
            }
            jobs.push(summary);
        }
        Ok((jobs, total as u64))
    }

    /// The packages recorded for jobs — every one, or only those at `at` —: `(job, output path,
    /// removal note)`; the note is `None` while the package is not known to be removed.
    pub fn recorded_outputs(
        &self,
        at: Option<&Path>,
    ) -> Result<Vec<(JobId, String, Option<String>)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(if at.is_some() {
                OUTPUTS_AT
            } else {
                "SELECT id, output, removed_note FROM jobs WHERE output IS NOT NULL"
            })
            .doing("listing packages")?;
        let at = at.map(|p| p.display().to_string());
        // The one parameter of `OUTPUTS_AT`, or none.
        let rows = stmt
            .query_map(rusqlite::params_from_iter(at.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .doing("listing packages")?;
        rows.collect::<rusqlite::Result<_>>()
            .doing("listing packages")
    }

    /// Ended jobs that finished before `cutoff_ms` (ms since the epoch) and whose package is
    /// recorded and not known to be removed, oldest first (for `retention_days`).
    pub fn packages_finished_before(&self, cutoff_ms: i64) -> Result<Vec<JobId>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id FROM jobs WHERE output IS NOT NULL AND removed_at IS NULL
                    AND finished_at IS NOT NULL AND finished_at < ?1 ORDER BY id",
            )
            .doing("listing old packages")?;
        let ids = stmt
            .query_map([cutoff_ms], |r| r.get(0))
            .doing("listing old packages")?;
        ids.collect::<rusqlite::Result<Vec<JobId>>>()
            .doing("listing old packages")
    }

    /// Records that `job`'s package is gone from disk, and why.
    pub fn mark_removed(&self, job: JobId, note: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE jobs SET removed_at = ?2, removed_note = ?3 WHERE id = ?1",
                params![job, now_ms(), note],
            )
            .doing("recording a removed package")?;
        Ok(())
    }

    /// Records that `job`'s package, once noted as removed, is back on disk.
    pub fn clear_removed(&self, job: JobId) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE jobs SET removed_at = NULL, removed_note = NULL WHERE id = ?1",
                params![job],
            )
            .doing("recording a package put back")?;
        Ok(())
    }

    /// Removes a job and its items from the journal (nothing on disk). `false` when there was
    /// no such job.
    pub fn delete_job(&self, job: JobId) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction().doing("deleting a job")?;
        tx.execute("DELETE FROM items WHERE job_id = ?1", [job])
            .doing("deleting a job")?;
        let changed = tx
            .execute("DELETE FROM jobs WHERE id = ?1", [job])
            .doing("deleting a job")?;
        tx.commit().doing("deleting a job")?;
        self.unrecorded().remove(&job);
        Ok(changed > 0)
    }

    /// Puts an ended job back in the queue, in one transaction: the items at `reset` go back to
    /// `pending` with everything learnt about them forgotten (they are downloaded afresh), and
    /// the job loses its output, error and end time.
    pub fn requeue_job(&self, job: JobId, reset: &[u32]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().doing("requeueing a job")?;
        {
            let mut stmt = tx
                .prepare(
                    "UPDATE items SET state = 'pending', size = NULL, validator = NULL, final_url = NULL,
                        bytes = 0, content_type = NULL, ext = NULL, width = NULL, height = NULL,
                        sha256 = NULL, error = NULL, error_kind = NULL, attempts = 0, started_at = NULL, finished_at = NULL
                     WHERE job_id = ?1 AND idx = ?2",
                )
                .doing("requeueing a job")?;
            for &index in reset {
                stmt.execute(params![job, index])
                    .doing("requeueing a job")?;
            }
        }
        // The package is written afresh, and names its entries again.
        tx.execute("UPDATE items SET entry = NULL WHERE job_id = ?1", [job])
            .doing("requeueing a job")?;
        let changed = tx
            .execute(
                "UPDATE jobs SET state = 'queued', output = NULL, error = NULL, error_kind = NULL, staging = NULL,
                    finished_at = NULL
                 WHERE id = ?1",
                [job],
            )
            .doing("requeueing a job")?;
        if changed == 0 {
            return Err(JournalError::NoSuchJob(job));
        }
        tx.commit().doing("requeueing a job")?;
        drop(conn);
        self.unrecorded().remove(&job);
        Ok(())
    }
}

const JOB_COLUMNS: &str =
    "id, state, label, request, out_dir, package_mode, planned, site, product_id, title, page_url,
    staging, output, error, created_at, started_at, finished_at, removed_at, removed_note,
    excluded, parent_id, other_ids, links, facts, error_kind";

fn job_from_row(r: &Row<'_>) -> rusqlite::Result<Result<JobRecord>> {
    let state: String = r.get(1)?;
    let request: String = r.get(3)?;
    let mode: String = r.get(5)?;
    let staging: Option<String> = r.get(11)?;
    let output: Option<String> = r.get(12)?;
    let excluded: Option<String> = r.get(19)?;
    let links: Option<String> = r.get(22)?;
    let facts: Option<String> = r.get(23)?;
    let build = || -> Result<JobRecord> {
        Ok(JobRecord {
            id: r.get(0).doing("reading a job")?,
            state: JobState::parse(&state)
                .ok_or_else(|| JournalError::Corrupt(format!("job state {state:?}")))?,
            label: r.get(2).doing("reading a job")?,
            request: serde_json::from_str(&request)
                .map_err(|e| JournalError::Corrupt(format!("job request: {e}")))?,
            out_dir: PathBuf::from(r.get::<_, String>(4).doing("reading a job")?),
            package_mode: parse_package_mode(&mode)?,
            planned: r.get(6).doing("reading a job")?,
            product: ProductInfo {
                site: r.get(7).doing("reading a job")?,
                product_id: r.get(8).doing("reading a job")?,
                parent_id: r.get(20).doing("reading a job")?,
                other_ids: r
                    .get::<_, Option<String>>(21)
                    .doing("reading a job")?
                    .map(|ids| ids.lines().map(str::to_string).collect())
                    .unwrap_or_default(),
                title: r.get(9).doing("reading a job")?,
                page_url: r.get(10).doing("reading a job")?,
                links: links
                    .map(|s| serde_json::from_str(&s))
                    .transpose()
                    .map_err(|e| JournalError::Corrupt(format!("job links: {e}")))?
                    .unwrap_or_default(),
                facts: facts
                    .map(|s| serde_json::from_str(&s))
                    .transpose()
                    .map_err(|e| JournalError::Corrupt(format!("job facts: {e}")))?
                    .unwrap_or_default(),
            },
            staging: staging
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(|e| JournalError::Corrupt(format!("job staging: {e}")))?,
            output: output.map(PathBuf::from),
            error: r.get(13).doing("reading a job")?,
            error_kind: r
                .get::<_, Option<String>>(24)
                .doing("reading a job")?
                .map(|k| FailureKind::parse(&k)),
            created_at: r.get(14).doing("reading a job")?,
            started_at: r.get(15).doing("reading a job")?,
            finished_at: r.get(16).doing("reading a job")?,
            removed_at: r.get(17).doing("reading a job")?,
            removed_note: r.get(18).doing("reading a job")?,
            excluded: excluded
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(|e| JournalError::Corrupt(format!("job excluded: {e}")))?
                .unwrap_or_default(),
        })
    };
    Ok(build())
}

const ITEM_COLUMNS: &str =
    "job_id, idx, url, kind, role, variant, variant_id, state, size, validator, final_url,
    bytes, content_type, ext, width, height, sha256, error, attempts, started_at, finished_at,
    warning, code, entry, error_kind";

fn item_from_row(r: &Row<'_>) -> rusqlite::Result<Result<ItemRecord>> {
    let kind: String = r.get(3)?;
    let role: String = r.get(4)?;
    let state: String = r.get(7)?;
    let sha256: Option<String> = r.get(16)?;
    let content_type: Option<String> = r.get(12)?;
    let ext: Option<String> = r.get(13)?;
    let bytes = r.get::<_, i64>(11)? as u64;
    let saved = match (content_type, ext, sha256) {
        (Some(content_type), Some(ext), Some(sha256)) => Some(SavedMedia {
            content_type,
            ext,
            width: r.get(14)?,
            height: r.get(15)?,
            sha256,
            bytes,
            warnings: r
                .get::<_, Option<String>>(21)?
                .map(|w| w.lines().map(str::to_string).collect())
                .unwrap_or_default(),
        }),
        _ => None,
    };
    let item = ItemRecord {
        job_id: r.get(0)?,
        index: r.get(1)?,
        url: r.get(2)?,
        kind: match kind.as_str() {
            "image" => MediaKind::Image,
            "video" => MediaKind::Video,
            other => return Ok(Err(JournalError::Corrupt(format!("item kind {other:?}")))),
        },
        role: match Role::parse(&role) {
            Some(role) => role,
            None => return Ok(Err(JournalError::Corrupt(format!("item role {role:?}")))),
        },
        variant: r.get(5)?,
        variant_id: r.get(6)?,
        code: r.get(22)?,
        state: match ItemState::parse(&state) {
            Some(state) => state,
            None => return Ok(Err(JournalError::Corrupt(format!("item state {state:?}")))),
        },
        size: r.get::<_, Option<i64>>(8)?.map(|s| s as u64),
        validator: r.get(9)?,
        final_url: r.get(10)?,
        bytes,
        saved,
        error: r.get(17)?,
        error_kind: r
            .get::<_, Option<String>>(24)?
            .map(|k| FailureKind::parse(&k)),
        attempts: r.get(18)?,
        started_at: r.get(19)?,
        finished_at: r.get(20)?,
        entry: r.get(23)?,
    };
    Ok(Ok(item))
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn package_mode_str(mode: PackageMode) -> &'static str {
    match mode {
        PackageMode::Zip => "zip",
        PackageMode::Folder => "folder",
        PackageMode::Both => "both",
    }
}

fn parse_package_mode(s: &str) -> Result<PackageMode> {
    Ok(match s {
        "zip" => PackageMode::Zip,
        "folder" => PackageMode::Folder,
        "both" => PackageMode::Both,
        other => return Err(JournalError::Corrupt(format!("package mode {other:?}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RequestedMedia;

    fn new_job() -> NewJob {
        NewJob {
            label: "list".into(),
            request: JobRequest {
                media: vec![RequestedMedia::link("https://a.example/1.jpg")],
                ..Default::default()
            },
            out_dir: "/out".into(),
            package_mode: PackageMode::Zip,
        }
    }

    #[test]
    fn an_empty_journal_is_set_aside_with_a_message_never_silently_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite3");
        std::fs::write(&path, b"").unwrap();
        // Readers beside the engine leave it alone and say why.
        let refused = Journal::open(&path)
            .err()
            .expect("an empty journal is refused");
        assert!(refused.to_string().contains("was empty"), "{refused}");
        let j = Journal::open_for_engine(&path).unwrap();
        let aside = j.set_aside().expect("set aside").clone();
        assert!(aside.to_string().contains("was empty (0 bytes)"), "{aside}");
        assert!(
            aside.moved_to.exists(),
            "the old file is kept beside the new one"
        );
        assert_eq!(aside.moved_to.parent(), path.parent());
        j.create_job(&new_job()).unwrap();
        drop(j);
        // The new journal is sound and opens quietly.
        let again = Journal::open_for_engine(&path).unwrap();
        assert_eq!(again.set_aside(), None);
        assert_eq!(again.list_jobs(10, 0).unwrap().len(), 1);
    }

    #[test]
    fn a_damaged_journal_is_set_aside_with_a_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite3");
        {
            let j = Journal::open(&path).unwrap();
            for _ in 0..50 {
                j.create_job(&new_job()).unwrap();
            }
            // Checkpointed into the main file, as after a clean stop.
            j.conn()
                .pragma_update(None, "wal_checkpoint", "TRUNCATE")
                .unwrap();
        }
        // Garbage over one page that is not the first (the header stays valid).
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() >= 3 * 4096, "{} bytes", bytes.len());
        for b in &mut bytes[4096..8192] {
            *b = 0xA5;
        }
        std::fs::write(&path, &bytes).unwrap();
        let j = Journal::open_for_engine(&path).unwrap();
        let aside = j.set_aside().expect("set aside");
        assert!(aside.why.contains("is damaged"), "{aside}");
        assert_eq!(std::fs::read(&aside.moved_to).unwrap(), bytes);
        assert!(j.list_jobs(10, 0).unwrap().is_empty());
    }

    #[test]
    fn an_end_that_cannot_be_written_is_still_seen_by_readers() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.sqlite3")).unwrap();
        let id = j.create_job(&new_job()).unwrap();
        j.set_job_state(id, JobState::Running).unwrap();
        // Every write fails from here, as on a full disk.
        j.conn().pragma_update(None, "query_only", true).unwrap();
        let full = Failed::new(FailureKind::DiskFull, "cannot write: disk full");
        let failed = j.finish_job(id, JobState::Failed, None, Some(&full));
        assert!(failed.is_err());
        let job = j.job(id).unwrap();
        assert_eq!(job.state, JobState::Failed);
        let error = job.error.unwrap();
        assert!(
            error.contains("disk full") && error.contains("could not be recorded"),
            "{error}"
        );
        assert_eq!(j.list_jobs(10, 0).unwrap()[0].state, JobState::Failed);
        // Still unfinished in the file: it resumes on the next start.
        assert_eq!(j.unfinished_jobs().unwrap(), [id]);
        j.conn().pragma_update(None, "query_only", false).unwrap();
        // Tried again once the disk takes writes: queued, as the journal now says.
        j.requeue_job(id, &[]).unwrap();
        assert_eq!(j.job(id).unwrap().state, JobState::Queued);
        j.finish_job(id, JobState::Complete, None, None).unwrap();
        assert_eq!(j.job(id).unwrap().state, JobState::Complete);
    }

    fn item(url: &str, role: Role) -> NewItem {
        NewItem {
            url: url.into(),
            kind: MediaKind::Image,
            role,
            variant: None,
            variant_id: None,
            code: None,
        }
    }

    #[test]
    fn a_job_survives_reopening_with_its_items_and_states() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite3");
        let id = {
            let j = Journal::open(&path).unwrap();
            let id = j.create_job(&new_job()).unwrap();
            j.plan_job(
                id,
                &ProductInfo {
                    site: Some("amazon".into()),
                    product_id: Some("B0CHILD001".into()),
                    parent_id: Some("B0PARENT01".into()),
                    other_ids: vec!["B0ALIAS001".into(), "B0ALIAS002".into()],
                    links: vec![Link {
                        url: "https://www.youtube.com/watch?v=i7pXJC8wwLE".into(),
                        role: Role::Video,
                        platform: "youtube".into(),
                    }],
                    facts: ProductFacts {
                        price: Some("1299.00".into()),
                        currency: Some("EUR".into()),
                        ..Default::default()
                    },
                    ..Default::default()
                },
                &[
                    NewItem {
                        code: Some("MAIN".into()),
                        ..item("https://a.example/1.jpg", Role::Main)
                    },
                    item("https://a.example/2.jpg", Role::Gallery),
                ],
                &[ExcludedItem {
                    url: "https://a.example/review-1.jpg".into(),
                    role: Role::Review,
                    variant: None,
                }],
            )
            .unwrap();
            j.set_job_state(id, JobState::Running).unwrap();
            j.item_downloading(id, 0, Some(10), Some("\"etag\""), "https://a.example/1.jpg")
                .unwrap();
            j.item_saved(
                id,
                0,
                &SavedMedia {
                    content_type: "image/jpeg".into(),
                    ext: "jpg".into(),
                    width: Some(3),
                    height: Some(2),
                    sha256: "ab".into(),
                    bytes: 9,
                    warnings: vec!["small".into(), "grey border".into()],
                },
            )
            .unwrap();
            j.item_failed(id, 1, &Failed::new(FailureKind::NotFound, "404 Not Found"))
                .unwrap();
            id
        };
        let j = Journal::open(&path).unwrap();
        let job = j.job(id).unwrap();
        assert_eq!(job.state, JobState::Running);
        assert!(job.planned);
        assert_eq!(job.product.site.as_deref(), Some("amazon"));
        assert_eq!(job.excluded.len(), 1);
        assert_eq!(job.excluded[0].role, Role::Review);
        assert_eq!(job.product.parent_id.as_deref(), Some("B0PARENT01"));
        assert_eq!(job.product.other_ids, ["B0ALIAS001", "B0ALIAS002"]);
        assert_eq!(
            job.product
                .links
                .iter()
                .map(|l| (l.url.as_str(), l.role))
                .collect::<Vec<_>>(),
            [("https://www.youtube.com/watch?v=i7pXJC8wwLE", Role::Video)]
        );
        assert_eq!(job.product.facts.price.as_deref(), Some("1299.00"));
        assert_eq!(job.product.facts.currency.as_deref(), Some("EUR"));
        assert!(job.started_at.is_some());
        assert_eq!(j.unfinished_jobs().unwrap(), vec![id]);
        let items = j.items(id).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].state, ItemState::Saved);
        assert_eq!(items[0].validator.as_deref(), Some("\"etag\""));
        assert_eq!(items[0].saved.as_ref().unwrap().width, Some(3));
        assert_eq!(
            items[0].saved.as_ref().unwrap().warnings,
            ["small", "grey border"]
        );
        assert_eq!(items[0].attempts, 1);
        assert_eq!(items[0].code.as_deref(), Some("MAIN"));
        assert_eq!(items[1].code, None);
        assert_eq!(items[1].state, ItemState::Failed);
        assert_eq!(items[1].error.as_deref(), Some("404 Not Found"));

        j.finish_job(id, JobState::Partial, Some(Path::new("/out/x.zip")), None)
            .unwrap();
        assert!(j.unfinished_jobs().unwrap().is_empty());
        let list = j.list_jobs(10, 0).unwrap();
        assert_eq!(list[0].state, JobState::Partial);
        assert_eq!(
            (list[0].saved, list[0].failed, list[0].total, list[0].bytes),
            (1, 1, 2, 9)
        );
        assert_eq!(list[0].output.as_deref(), Some("/out/x.zip"));
    }

    #[test]
    fn staging_round_trips_and_unknown_job_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.sqlite3")).unwrap();
        let id = j.create_job(&new_job()).unwrap();
        let staging = Staging {
            paths: vec![StagedPath {
                temp: "/out/.x.zip.partial".into(),
                target: "/out/x.zip".into(),
                base: "x".into(),
                ext: ".zip".into(),
            }],
        };
        j.set_staging(id, Some(&staging)).unwrap();
        assert_eq!(j.job(id).unwrap().staging, Some(staging));
        assert!(matches!(j.job(999), Err(JournalError::NoSuchJob(999))));
        assert!(matches!(
            j.set_job_state(999, JobState::Failed),
            Err(JournalError::NoSuchJob(999))
        ));
    }

    #[test]
    fn a_first_version_journal_upgrades_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO jobs (state, label, request, out_dir, package_mode, created_at)
                 VALUES ('complete', 'old', '{\"media\":[]}', '/out', 'zip', 1)",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO jobs (state, label, request, out_dir, package_mode, created_at, error)
                 VALUES ('failed', 'walled', '{\"media\":[]}', '/out', 'zip', 1,
                 'www.amazon.com did not give haul the product page: it answered 503')",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO items (job_id, idx, url, kind, role, state, error) VALUES
                 (1, 0, 'https://a.example/1.jpg', 'image', 'main', 'failed',
                  'gave up after 6 attempts: the server answered 503 Service Unavailable'),
                 (1, 1, 'https://a.example/2.jpg', 'image', 'gallery', 'failed', 'something odd'),
                 (1, 2, 'https://a.example/3.jpg', 'image', 'gallery', 'pending', NULL)",
                [],
            )
            .unwrap();
        }
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.job(1).unwrap().label, "old");
        // Failures journaled before kinds existed got theirs once, from their text.
        assert_eq!(j.job(1).unwrap().error_kind, None);
        assert_eq!(j.job(2).unwrap().error_kind, Some(FailureKind::PageWalled));
        let kinds: Vec<_> = j.items(1).unwrap().iter().map(|i| i.error_kind).collect();
        assert_eq!(
            kinds,
            [
                Some(FailureKind::ServerError),
                Some(FailureKind::Other),
                None
            ]
        );
        let version: i64 = j
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        drop(j);
        Journal::open(&path).expect("opening an upgraded journal again");
    }

    /// Asserts that SQLite runs `query` (with the one parameter `arg`) by searching indexes and
    /// keys, never scanning a table.
    fn assert_searches_only(j: &Journal, query: &str, arg: &str) {
        let plan: Vec<String> = j
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
            .unwrap()
            .query_map([arg], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter().all(|step| step.starts_with("SEARCH")),
            "{query} scans: {plan:?}"
        );
    }

    /// A package is found by its path through an index: the output folder names one per
    /// package written, so a scan of every job each time grew with the history.
    #[test]
    fn a_package_is_found_by_its_path_without_a_scan() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.sqlite3")).unwrap();
        assert_searches_only(&j, OUTPUTS_AT, "/out/a.zip");
    }

    /// A job's inbox input is found through the job's own row: the query reads two rows by
    /// their keys and scans no table, however many inputs and jobs the history holds; and a
    /// journal from before `input_id` learns each job's input when it is upgraded.
    #[test]
    fn a_jobs_input_is_found_by_key_also_after_an_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite3");
        let j = Journal::open(&path).unwrap();
        assert_searches_only(&j, INPUT_OF, "1");

        let processing = dir.path().join("processing");
        let input = j.create_input("list.txt", &processing).unwrap();
        let report = vec!["line 3 is not a URL".to_string()];
        let ids = j
            .create_jobs(
                &[new_job(), new_job()],
                Some(InputJobs {
                    input: input.id,
                    report: &report,
                }),
            )
            .unwrap();
        let lone = j.create_job(&new_job()).unwrap();
        let expected = Some(("list.txt".to_string(), report.clone()));
        assert_eq!(j.input_of(ids[1]).unwrap(), expected);
        assert_eq!(j.input_of(lone).unwrap(), None);

        // The same journal as version 8 wrote it: no input_id.
        j.conn()
            .execute_batch("ALTER TABLE jobs DROP COLUMN input_id; PRAGMA user_version = 8;")
            .unwrap();
        drop(j);
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.input_of(ids[0]).unwrap(), expected);
        assert_eq!(j.input_of(ids[1]).unwrap(), expected);
        assert_eq!(j.input_of(lone).unwrap(), None);
    }

    #[test]
    fn filtered_listing_deleting_and_requeueing() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.sqlite3")).unwrap();
        let a = j.create_job(&new_job()).unwrap();
        let b = j.create_job(&new_job()).unwrap();
        let c = j.create_job(&new_job()).unwrap();
        j.plan_job(
            b,
            &ProductInfo::default(),
            &[
                item("https://a.example/1.jpg", Role::Main),
                item("https://a.example/2.jpg", Role::Gallery),
            ],
            &[],
        )
        .unwrap();
        j.item_failed(
            b,
            1,
            &Failed::new(FailureKind::NotFound, "the server answered 404 Not Found"),
        )
        .unwrap();
        j.finish_job(b, JobState::Partial, Some(Path::new("/out/b.zip")), None)
            .unwrap();
        j.finish_job(
            c,
            JobState::Failed,
            None,
            Some(&Failed::new(FailureKind::NothingToSave, "nothing")),
        )
        .unwrap();

        let (all, total) = j.list_jobs_filtered(&[], 2, 0).unwrap();
        assert_eq!(total, 3);
        assert_eq!(all.iter().map(|s| s.job).collect::<Vec<_>>(), [c, b]);
        let (page2, _) = j.list_jobs_filtered(&[], 2, 2).unwrap();
        assert_eq!(page2[0].job, a);
        let (bad, total) = j
            .list_jobs_filtered(&[JobState::Partial, JobState::Failed], 10, 0)
            .unwrap();
        assert_eq!((bad.len(), total), (2, 2));
        let (queued, _) = j.list_jobs_filtered(&[JobState::Queued], 10, 0).unwrap();
        assert_eq!(queued[0].job, a);

        j.requeue_job(b, &[1]).unwrap();
        let job = j.job(b).unwrap();
        assert_eq!(
            (job.state, job.output, job.finished_at),
            (JobState::Queued, None, None)
        );
        let items = j.items(b).unwrap();
        assert_eq!(items[1].state, ItemState::Pending);
        assert_eq!(items[1].error, None);
        assert_eq!(
            items[0].state,
            ItemState::Pending,
            "untouched: it was pending"
        );
        assert!(matches!(
            j.requeue_job(999, &[]),
            Err(JournalError::NoSuchJob(999))
        ));

        assert!(j.delete_job(b).unwrap());
        assert!(!j.delete_job(b).unwrap());
        assert!(j.items(b).unwrap().is_empty());
        assert_eq!(j.list_jobs_filtered(&[], 10, 0).unwrap().1, 2);
    }

    #[test]
    fn the_list_says_what_the_product_costs_and_items_keep_their_entry_names() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.sqlite3")).unwrap();
        let plain = j.create_job(&new_job()).unwrap();
        let priced = j.create_job(&new_job()).unwrap();
        j.plan_job(
            priced,
            &ProductInfo {
                facts: ProductFacts {
                    name: Some("Linen Tee".into()),
                    price: Some("39.00".into()),
                    currency: Some("EUR".into()),
                    availability: Some(crate::extract::facts::Availability::BackOrder),
                    description: Some("long".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
            &[
                item("https://a.example/1.jpg", Role::Main),
                item("https://a.example/2.jpg", Role::Gallery),
            ],
            &[],
        )
        .unwrap();
        let (list, _) = j.list_jobs_filtered(&[], 10, 0).unwrap();
        assert_eq!(
            list[0].product,
            Some(ProductBrief {
                name: Some("Linen Tee".into()),
                price: Some("39.00".into()),
                currency: Some("EUR".into()),
                availability: Some("BackOrder".into()),
            })
        );
        assert_eq!(list[1].job, plain);
        assert_eq!(list[1].product, None, "a page that said nothing");

        j.set_entries(priced, &[(0, Some("01-main.jpg")), (1, None)])
            .unwrap();
        let items = j.items(priced).unwrap();
        assert_eq!(items[0].entry.as_deref(), Some("01-main.jpg"));
        assert_eq!(items[1].entry, None);
        j.finish_job(
            priced,
            JobState::Complete,
            Some(Path::new("/out/t.zip")),
            None,
        )
        .unwrap();
        j.requeue_job(priced, &[]).unwrap();
        assert_eq!(
            j.items(priced).unwrap()[0].entry,
            None,
            "a requeued job names its entries again"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite3");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            Journal::open(&path),
            Err(JournalError::TooNew { found: 99, .. })
        ));
    }
}
