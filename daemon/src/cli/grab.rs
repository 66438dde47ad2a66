//! `haul grab`: save media now — through the running daemon when there is one, otherwise with an
//! engine in this process (same journal, same rules).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use haul::daemon::{DaemonError, EngineLock};
use haul::input::{reading, saved_page, url_list};
use haul::jobs::{Engine, JobEvent, Submission};
use haul::journal::Journal;
use haul::media::{Include, IncludeError};
use haul::naming::Naming;
use haul_protocol::message::{
    ClientInfo, ClientKind, Grab, GrabOptions, PackageMode, Reply, Request,
};
use haul_protocol::socket::{self, Connection, ExchangeError};
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::Context;
use super::progress::Reporter;

/// Save the photos and videos of a saved product page, behind media URLs, or behind URL-list
/// files (one URL a line; blank lines and `#` comments are ignored). A saved page (`.html`,
/// `.htm`, `.html.gz`) is read like the browser button's grab: every image and video it holds,
/// in its best quality, named by role. Media URLs given on the command line form one product;
/// each page and each list file is a product of its own, and several run at once. The address of
/// a product page (Amazon, AliExpress, Wayfair, Best Buy, … any shop haul reads) is fetched and
/// read like a saved page — shops often refuse their pages to programs, and then the browser
/// button is the way. The result is a ZIP per product in the output folder, with a manifest; metadata (EXIF,
/// GPS, XMP, IPTC) is removed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Media URLs to save together as one product, or saved product pages.
    #[arg(value_name = "URL|PAGE")]
    urls: Vec<String>,
    /// Where the saved page came from (with one page); without it the page's own canonical or
    /// og:url address is used.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// A URL-list file, or a folder of them (`*.txt`); each file is one product. Repeatable.
    #[arg(long = "list", value_name = "FILE")]
    lists: Vec<PathBuf>,
    /// Write the result into DIR instead of the configured output folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Package as a ZIP (default), a plain folder, or both.
    #[arg(long, value_enum)]
    package: Option<PackageArg>,
    /// How files inside the package are named: `default` (01-main.jpg, 02.jpg, …, then a folder
    /// per role: video/01.mp4, review/01.jpg, …), `amazon-upload` (Seller Central's
    /// <ASIN>.MAIN.jpg, .PT01.jpg, …, the page's own codes kept), or a template such as
    /// '{product_id}_{role}_{index}.{ext}' (fields: {site} {product_id} {role} {index} {variant}
    /// {ext}). Default: `naming` in the config.
    #[arg(long, value_name = "NAMING", value_parser = parse_naming)]
    naming: Option<Naming>,
    /// Save only media of these roles, e.g. `main,gallery,video` (any of main, gallery, variant,
    /// video, description, review); the page's other media are left out and listed in the
    /// manifest. Default: `include` in the config (every role).
    #[arg(long, value_name = "ROLES", value_parser = parse_include)]
    include: Option<Include>,
    /// Save the media URLs exactly as given. Without it, each is saved in the largest size its
    /// CDN serves (an Amazon `…_AC_SX679_.jpg` as `….jpg`, an eBay `s-l500` as `s-l1600`).
    /// Default: `keep_links_as_given` in the config.
    #[arg(long)]
    as_given: bool,
    /// Print the result as one JSON document instead of progress bars and a summary.
    #[arg(long)]
    json: bool,
}

fn parse_include(text: &str) -> Result<Include, String> {
    text.parse().map_err(|e: IncludeError| e.to_string())
}

fn parse_naming(text: &str) -> Result<Naming, String> {
    text.parse()
        .map_err(|e: haul::naming::NamingError| e.to_string())
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum PackageArg {
    Zip,
    Folder,
    Both,
}

impl From<PackageArg> for PackageMode {
    fn from(p: PackageArg) -> PackageMode {
        match p {
            PackageArg::Zip => PackageMode::Zip,
            PackageArg::Folder => PackageMode::Folder,
            PackageArg::Both => PackageMode::Both,
        }
    }
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    // The bars and the summary say what happened; log lines (HAUL_LOG=warn) only on request.
    super::terminal::init_logging("off", None)?;
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let mut reporter = Reporter::new(args.json);
        // Said before any bar is drawn, on stderr: the summary's lines stay on stdout.
        let submissions = grabs(&args, &mut |line| eprintln!("{line}"))?;
        let client = ClientInfo {
            kind: ClientKind::Cli,
            caller: None,
        };
        match socket::connect_and_greet(&ctx.paths, client, Duration::from_secs(3)).await {
            Ok((conn, _hello)) => via_daemon(conn, submissions, &mut reporter).await?,
            Err(ExchangeError::NotRunning(_)) => {
                in_process(ctx, submissions, &mut reporter).await?
            }
            Err(e) => {
                bail!("{e}; check it with `haul status`, or stop it and run `haul daemon` again")
            }
        }
        Ok(reporter.summary())
    })
}

/// The jobs the arguments ask for, as the grabs a client sends: each list and saved page is
/// read by the same reader as the inbox's ([`haul::input`]); a list's lines that are not URLs
/// are reported (through `note`) and left out, and the rest is saved.
fn grabs(args: &Args, note: &mut dyn FnMut(&str)) -> anyhow::Result<Vec<Grab>> {
    let out_dir = match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
            Some(
                std::fs::canonicalize(dir)
                    .with_context(|| format!("cannot resolve {}", dir.display()))?,
            )
        }
        None => None,
    };
    let options = |name: Option<String>| GrabOptions {
        out_dir: out_dir.as_ref().map(|d| d.display().to_string()),
        name,
        package: args.package.map(PackageMode::from),
        naming: args.naming.as_ref().map(ToString::to_string),
        as_given: args.as_given.then_some(true),
        include: args.include.map(Vec::<String>::from),
    };
    let with_options = |grab: Grab| Grab {
        options: options(grab.options.name.clone()),
        ..grab
    };
    let mut jobs = Vec::new();
    let (pages, urls): (Vec<&String>, Vec<&String>) =
        args.urls.iter().partition(|a| is_page_file(a));
    if args.url.is_some() && pages.len() != 1 {
        bail!("--url names the address of one saved page; give exactly one page with it");
    }
    if let Some(url) = &args.url {
        check_url(url).context("--url")?;
    }
    for page in pages {
        let path = Path::new(page);
        let read = || -> anyhow::Result<Grab> {
            let file = std::fs::File::open(path)?;
            Ok(saved_page::grab(file, path, &reading::display_name(path))?)
        };
        let mut grab =
            read().with_context(|| format!("cannot grab the saved page {}", path.display()))?;
        if let (Some(url), Some(page)) = (&args.url, grab.page.as_mut()) {
            page.url.clone_from(url);
        }
        jobs.push(with_options(grab));
    }
    for (position, url) in args.urls.iter().enumerate() {
        if urls.contains(&url)
            && let Err(e) = check_url(url)
        {
            bail!("{}", not_grabbable(position, url, &e));
        }
    }
    // Product pages of shops haul reads are products of their own: their pages are fetched.
    let (pages, media) = url_list::split_product_pages(urls.into_iter().cloned());
    jobs.extend(pages.into_iter().map(url_list::page_grab).map(with_options));
    if !media.is_empty() {
        jobs.push(with_options(url_list::media_grab(media, None)));
    }
    for list in list_files(&args.lists)? {
        let file = std::fs::File::open(&list)
            .with_context(|| format!("cannot read the URL list {}", list.display()))?;
        let bytes = reading::read_capped(file, reading::MAX_LIST_BYTES)
            .with_context(|| format!("cannot read the URL list {}", list.display()))?;
        let (grabs, bad) = url_list::grabs(
            &String::from_utf8_lossy(&bytes),
            &reading::display_name(&list),
        );
        for line in &bad {
            note(&format!("{}, {line}; left out", list.display()));
        }
        if grabs.is_empty() {
            bail!("{} holds no URLs", list.display());
        }
        jobs.extend(grabs.into_iter().map(with_options));
    }
    if jobs.is_empty() {
        bail!(
            "nothing to grab: give media URLs, a saved page, or --list FILE (see `haul grab --help`)"
        );
    }
    Ok(jobs)
}

/// Whether a command-line argument names a saved page: an existing file whose name ends like
/// one ([`reading::SAVED_PAGE_SUFFIXES`]).
fn is_page_file(arg: &str) -> bool {
    let lower = arg.to_ascii_lowercase();
    reading::is_saved_page_name(&lower)
        && !lower.starts_with("http://")
        && !lower.starts_with("https://")
        && Path::new(arg).is_file()
}

/// The list files named, with folders expanded to their `*.txt` files (sorted).
fn list_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read the folder {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt"))
                })
                .collect();
            inside.sort();
            if inside.is_empty() {
                bail!("the folder {} has no .txt URL lists", path.display());
            }
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Why argument `position` (from 0) is neither a web address nor a saved page, in the words of
/// what it most likely is: a file that is not there, a file of another kind, or a mistyped
/// address.
fn not_grabbable(position: usize, arg: &str, url_error: &anyhow::Error) -> String {
    let path = Path::new(arg);
    let looks_like_address = arg.contains("://") || arg.starts_with("www.");
    if path.is_dir() {
        format!("{arg} is a folder: to save the lists in it, give it with --list")
    } else if path.is_file() {
        format!(
            "{arg} is not a saved page (.html, .htm, .html.gz): give a URL list with --list {arg}"
        )
    } else if looks_like_address {
        format!(
            "argument {} is not a web address haul can open: {url_error}",
            position + 1
        )
    } else {
        format!("cannot find the file {arg} (a web address starts with https:// or http://)")
    }
}

fn check_url(text: &str) -> anyhow::Result<()> {
    url_list::check_url(text).map_err(anyhow::Error::msg)
}

/// Hands the jobs to the running daemon and follows them on the connection.
async fn via_daemon(
    mut conn: Connection,
    jobs: Vec<Grab>,
    reporter: &mut Reporter,
) -> anyhow::Result<()> {
    let mut pending: HashMap<String, ()> = HashMap::new();
    for (i, mut grab) in jobs.into_iter().enumerate() {
        let id = format!("g{i}");
        grab.id = Some(Value::String(id.clone()));
        socket::send(&mut conn, &Request::Grab(grab)).await?;
        pending.insert(id, ());
    }
    let mut running = 0usize;
    while !pending.is_empty() || running > 0 {
        let Some(reply) = socket::recv(&mut conn).await? else {
            bail!(
                "the haul daemon stopped; unfinished jobs continue when it starts again (`haul status` shows them)"
            );
        };
        match reply {
            Reply::Accepted(a) => {
                if let Some(Value::String(id)) = &a.id {
                    pending.remove(id);
                }
                running += 1;
                reporter.note(&format!("job {} accepted by the haul daemon", a.job));
            }
            Reply::Progress(p) => reporter.progress(&p),
            Reply::Finished(f) => {
                running = running.saturating_sub(1);
                reporter.finished(f);
            }
            Reply::Error(e) => {
                if let Some(Value::String(id)) = &e.id {
                    pending.remove(id);
                }
                reporter.note(&format!("the daemon refused a job: {}", e.message));
                if e.id.is_none() {
                    bail!("the haul daemon ended the conversation: {}", e.message);
                }
            }
            // Replies to requests this command never sends.
            Reply::Hello(_)
            | Reply::Status(_)
            | Reply::Cancelled(_)
            | Reply::StatusLink(_)
            | Reply::Opened(_) => {}
        }
    }
    Ok(())
}

/// Runs the jobs here, with the journal and output folder a daemon would use.
async fn in_process(ctx: &Context, jobs: Vec<Grab>, reporter: &mut Reporter) -> anyhow::Result<()> {
    let _lock = match EngineLock::acquire(&ctx.paths) {
        Ok(lock) => lock,
        Err(DaemonError::AlreadyRunning { .. }) => {
            bail!(
                "a haul daemon is starting up (or another `haul grab` is running); try again in a moment"
            )
        }
        Err(e) => return Err(e.into()),
    };
    let journal = Arc::new(Journal::open_for_engine(&ctx.paths.journal_file())?);
    if let Some(aside) = journal.set_aside() {
        eprintln!("haul: {aside}");
    }
    let shutdown = CancellationToken::new();
    tokio::spawn(super::daemon::stop_on_signal(shutdown.clone()));
    let engine = Engine::new(ctx.config()?, ctx.paths.clone(), journal, shutdown.clone())?;
    let mut events = engine.subscribe();
    let mut waiting = std::collections::HashSet::new();
    for grab in jobs {
        waiting.insert(engine.submit(Submission::from_grab(grab)?)?);
    }
    while !waiting.is_empty() {
        let event = tokio::select! {
            event = events.recv() => event,
            () = shutdown.cancelled() => {
                engine.wait().await;
                bail!("interrupted; the unfinished jobs are journaled and finish when you run `haul daemon`");
            }
        };
        match event {
            Ok(JobEvent::Progress(p)) => reporter.progress(&p),
            Ok(JobEvent::PackageChanged { .. }) => {}
            Ok(JobEvent::Finished(f)) => {
                if waiting.remove(&f.job) {
                    reporter.finished(f);
                }
            }
            Err(RecvError::Lagged(_)) => {
                // Events were dropped: read what ended from the journal.
                for id in waiting.clone() {
                    let job = engine.journal().job(id)?;
                    if job.state.is_terminal() {
                        let items = engine.journal().items(id)?;
                        reporter.finished(haul::jobs::finished_of(&job, &items));
                        waiting.remove(&id);
                    }
                }
            }
            Err(RecvError::Closed) => break,
        }
    }
    shutdown.cancel();
    engine.wait().await;
    if !waiting.is_empty() {
        let mut ids: Vec<String> = waiting.iter().map(ToString::to_string).collect();
        ids.sort();
        bail!(
            "the engine stopped before job(s) {} ended; nothing more was saved (`haul status` shows them)",
            ids.join(", ")
        );
    }
    Ok(())
}
