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
        let listed = tokio::spawn(list_when_up(ctx.paths.clone(), shutdown.clone()));
        let result = haul::daemon::run(config, ctx.paths.clone(), shutdown.clone()).await;
        shutdown.cancel();
        if let Ok(Some(file)) = listed.await {
            haul_protocol::user::unregister(&file, std::process::id());
        }
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Lists this daemon in the per-user registry ([`haul_protocol::user`]) once its socket answers
/// with this process's pid — a second daemon of the same home, which exits for want of the lock,
/// never overwrites the running one's entry. Returns the entry file to remove at the end.
async fn list_when_up(
    paths: haul_protocol::paths::Paths,
    shutdown: CancellationToken,
) -> Option<std::path::PathBuf> {
    use haul_protocol::message::{ClientInfo, ClientKind};
    let registry = haul_protocol::user::registry_dir()?;
    let pid = std::process::id();
    for _ in 0..600 {
        let client = ClientInfo {
            kind: ClientKind::Cli,
            caller: Some("haul daemon (registry)".into()),
        };
        let greeted = haul_protocol::socket::connect_and_greet(
            &paths,
            client,
            std::time::Duration::from_secs(2),
        )
        .await;
        match greeted {
            Ok((_, hello)) if hello.pid == Some(pid) => {
                let entry = haul_protocol::user::DaemonEntry::new(&paths, pid, hello.status_url);
                return match haul_protocol::user::register(&registry, &entry) {
                    Ok(file) => Some(file),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot list this daemon for other haul programs");
                        None
                    }
                };
            }
            // Another daemon answers for this home: this one is about to exit.
            Ok(_) => return None,
            Err(_) => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
        }
    }
    None
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
