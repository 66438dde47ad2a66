//! `haul status`: the daemon's state and the jobs in the journal; `--open` opens the status
//! page in the browser through a one-time link the daemon's user-only socket hands out
//! (`--link` prints one instead, for a desktop launcher or another browser).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use haul::journal::Journal;
use haul_protocol::message::{ClientInfo, ClientKind, Reply, Request, StatusLinkRequest};
use haul_protocol::socket;
use serde_json::json;

use super::Context;

/// Show whether the haul daemon is running, where files go, and the recent jobs with their
/// state and result.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON (output_dir, inbox_dir, data_dir, daemon, other_daemons, jobs) for scripts.
    #[arg(long)]
    json: bool,
    /// How many jobs to list, newest first.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Open the status page in the browser (signed in by a link that works once, for a minute).
    #[arg(long, conflicts_with_all = ["json", "link"])]
    open: bool,
    /// Print a link that opens the status page once, within a minute (for a desktop launcher
    /// or a browser the desktop does not open by itself).
    #[arg(long, conflicts_with = "json")]
    link: bool,
}

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?;
    let runtime = super::runtime()?;
    if args.open || args.link {
        let url = runtime.block_on(one_time_link(ctx))?;
        if args.link {
            say!("{url}");
            return Ok(ExitCode::SUCCESS);
        }
        let argv = haul::status::open::command_for_link(&config, &url);
        std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start {} to open the status page; open this link in your browser within a minute instead: {url}",
                    argv[0]
                )
            })?;
        say!("opening haul's status page in your browser");
        return Ok(ExitCode::SUCCESS);
    }
    let client = ClientInfo {
        kind: ClientKind::Cli,
        caller: None,
    };
    let hello = runtime
        .block_on(socket::connect_and_greet(
            &ctx.paths,
            client,
            Duration::from_secs(2),
        ))
        .map(|(_, hello)| hello)
        .ok();
    // Every other daemon of this user (another HAUL_HOME): its jobs are not listed here.
    let others = match haul_protocol::user::registry_dir() {
        Some(registry) => {
            runtime.block_on(haul_protocol::user::other_daemons(&registry, &ctx.paths))
        }
        None => Vec::new(),
    };
    let journal = Journal::open(&ctx.paths.journal_file())?;
    haul::package::deleted::note_deleted_packages(&journal, &haul::package::deleted::Scope::All)?;
    let jobs = journal.list_jobs(args.limit, 0)?;
    let output_dir = config.output_dir(&ctx.paths);
    let inbox_dir = config.inbox_dir(&ctx.paths);
    if args.json {
        let doc = json!({
            "version": haul_protocol::VERSION,
            "output_dir": output_dir,
            "inbox_dir": inbox_dir,
            "data_dir": ctx.paths.data_dir,
            "config_file": ctx.config_file.clone().unwrap_or_else(|| ctx.paths.config_file.clone()),
            "daemon": {
                "running": hello.is_some(),
                "pid": hello.as_ref().and_then(|h| h.pid),
                "version": hello.as_ref().map(|h| h.version.clone()),
                "socket": socket::socket_display(&ctx.paths),
            },
            "status_url": hello.as_ref().and_then(|h| h.status_url.clone()),
            "other_daemons": others,
            // Scripts send the token in this file with every status API request (docs/status-page.md).
            "api_token_file": ctx.paths.api_token_file(),
            "jobs": jobs,
        });
        say!("{doc:#}");
        return Ok(ExitCode::SUCCESS);
    }
    match &hello {
        Some(h) => say!(
            "daemon:  running (pid {}, version {})",
            h.pid.map_or("?".into(), |p| p.to_string()),
            h.version
        ),
        None => say!("daemon:  not running (start it with `haul daemon`)"),
    }
    if let Some(url) = hello.as_ref().and_then(|h| h.status_url.as_deref()) {
        say!("status:  {url} (open it with `haul status --open`)");
    }
    for other in &others {
        say!(
            "another: {} (its jobs are not listed here; `haul doctor` says what to do)",
            haul_protocol::user::describe_other(other)
        );
    }
    say!("output:  {}", output_dir.display());
    say!("inbox:   {}", inbox_dir.display());
    say!("data:    {}", ctx.paths.data_dir.display());
    if jobs.is_empty() {
        say!("\nno jobs yet: run `haul grab URL…` or press the haul button on a product page");
        return Ok(ExitCode::SUCCESS);
    }
    say!(
        "\n{:>5}  {:<10} {:>9}  {:<40}  result",
        "job",
        "state",
        "files",
        "what"
    );
    for j in &jobs {
        let files = if j.failed > 0 {
            format!("{}/{}!", j.saved, j.total)
        } else {
            format!("{}/{}", j.saved, j.total)
        };
        let label: String = j.label.chars().take(40).collect();
        let result = match (&j.output, &j.removed_note) {
            (Some(output), Some(note)) => format!("{output} ({note})"),
            (Some(output), None) => output.clone(),
            (None, _) => "-".to_string(),
        };
        say!(
            "{:>5}  {:<10} {:>9}  {:<40}  {}",
            j.job,
            j.state.as_str(),
            files,
            label,
            result
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks the running daemon, over its user-only socket, for a one-time link into the status page.
async fn one_time_link(ctx: &Context) -> anyhow::Result<String> {
    let client = ClientInfo {
        kind: ClientKind::Cli,
        caller: None,
    };
    let (mut conn, _) = socket::connect_and_greet(&ctx.paths, client, Duration::from_secs(3))
        .await
        .context("haul is not running; start it with `haul daemon`, then open the page again")?;
    let request = Request::StatusLink(StatusLinkRequest { id: None });
    socket::send(&mut conn, &request).await?;
    let reply = tokio::time::timeout(Duration::from_secs(5), socket::recv(&mut conn))
        .await
        .context("haul did not answer in time")??;
    match reply {
        Some(Reply::StatusLink(link)) => Ok(link.url),
        Some(Reply::Error(e)) => bail!("{}", e.message),
        Some(other) => bail!("haul answered {other:?} instead of a link"),
        None => bail!("haul closed the connection without a link"),
    }
}
