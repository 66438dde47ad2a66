//! `haul daemon`.

use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use super::Context;

/// Run the haul service in the foreground: take grabs from the browser extension and `haul grab`,
/// resume unfinished jobs, and stop cleanly on Ctrl-C / SIGTERM (jobs resume on the next start).
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?;
    super::init_logging("info", Some(ctx.paths.log_dir().join("daemon.log")))?;
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        tokio::spawn(stop_on_signal(shutdown.clone()));
        haul::daemon::run(config, ctx.paths.clone(), shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
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
