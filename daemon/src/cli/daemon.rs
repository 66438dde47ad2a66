//! `haul daemon`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use super::Context;

/// Run the haul service in the foreground: take grabs from the browser extension and `haul grab`,
/// resume unfinished jobs, and stop cleanly on Ctrl-C / SIGTERM (jobs resume on the next start).
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    // A process that runs for weeks: its memory stays close to what it uses (`memory`).
    haul::memory::limit_arenas();
    let config = ctx.config()?;
    let log = ctx.paths.log_dir().join("daemon.log");
    // The terminal gets the greeting and what goes wrong; the log file keeps every step.
    super::terminal::init_logging("warn", Some((log.clone(), "info")))?;
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        tokio::spawn(stop_on_signal(shutdown.clone()));
        let mut listed = None;
        let result = haul::daemon::run(config, ctx.paths.clone(), shutdown, |ready| {
            for line in greeting(ready, &log) {
                say!("{line}");
            }
            listed = list(&ctx.paths, ready);
        })
        .await;
        if let Some(file) = listed {
            haul_protocol::user::unregister(&file, std::process::id());
        }
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Lists this daemon in the per-user registry ([`haul_protocol::user`]) once it serves (so it
/// holds the lock: a second daemon of the same home never gets here), for the native host,
/// `haul status` and `haul doctor` of another home to find. Returns the entry to remove at the
/// end.
fn list(paths: &haul_protocol::paths::Paths, ready: &haul::daemon::Ready) -> Option<PathBuf> {
    let registry = haul_protocol::user::registry_dir()?;
    let entry =
        haul_protocol::user::DaemonEntry::new(paths, std::process::id(), ready.status_url.clone());
    match haul_protocol::user::register(&registry, &entry) {
        Ok(file) => Some(file),
        Err(e) => {
            tracing::warn!(error = %e, "cannot list this daemon for other haul programs");
            None
        }
    }
}

/// What a person starting `haul daemon` needs to know: that it runs, where files go, where to
/// drop lists, which page to open, and how to stop it.
fn greeting(ready: &haul::daemon::Ready, log: &Path) -> Vec<String> {
    let mut lines = vec![
        format!("haul {} is running.", haul_protocol::VERSION),
        format!("  Saves to      {}", ready.output_dir.display()),
        format!(
            "  Inbox         {}  (drop URL lists, spreadsheets, saved pages or seller folders here)",
            ready.inbox_dir.display()
        ),
    ];
    lines.push(match &ready.status_url {
        Some(url) => format!("  Status page   {url}  (open it signed in: haul status --open)"),
        None => format!("  Status page   not available (see {})", log.display()),
    });
    if ready.resumed > 0 {
        lines.push(format!(
            "  Resumed       {} unfinished job(s)",
            ready.resumed
        ));
    }
    lines.push(format!("  Log           {}", log.display()));
    lines.push(
        "Press the Save with haul button on a product page, or run haul grab. Stop with Ctrl-C; \
         unfinished jobs resume on the next start."
            .to_string(),
    );
    lines
}

/// Cancels `shutdown` on SIGINT or SIGTERM (Ctrl-C / Ctrl-Break on Windows).
pub async fn stop_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping (signal)");
    shutdown.cancel();
}
