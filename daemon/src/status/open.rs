//! Asking the desktop to open a result: the package itself ("Open") or the folder that holds
//! it ("Show in folder") — and, for `haul status --open`, the status page's one-time link. Only paths haul wrote reach here — the API looks them up by job id in
//! the journal, or takes the output and inbox folders from the config; never a path from a
//! request.
//!
//! The program is the desktop's own opener (`xdg-open` on Linux and the BSDs, `open` on macOS,
//! `explorer` on Windows) unless the config's `open_command` names another; tests set it to a
//! command that records its arguments, so nothing opens on a test machine.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use crate::config::Config;

/// What to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// Open the file or folder with its default application.
    Open,
    /// Open the folder holding it (selecting it where the desktop can).
    Reveal,
}

/// What to open for a job: its package (`Open`) or the folder holding it (`Reveal`); a job with
/// no package opens its output folder for "Show in folder". `Err` says why there is nothing to
/// open (the package was moved or deleted, or the job has none yet). Shared by the status API and
/// the socket's `open`, so the page, the popup and the in-page result open the same thing.
pub fn job_target(
    record: &crate::journal::JobRecord,
    want: Show,
) -> Result<(PathBuf, Show), String> {
    let output = record.output.clone().filter(|p| p.exists());
    match (want, output) {
        (Show::Open, Some(p)) => Ok((p, Show::Open)),
        (Show::Reveal, Some(p)) => Ok((p, Show::Reveal)),
        (Show::Reveal, None) if record.out_dir.is_dir() => Ok((record.out_dir.clone(), Show::Open)),
        (_, None) => Err(match &record.output {
            Some(p) => format!(
                "the package is no longer at {} — it was moved or deleted",
                p.display()
            ),
            None => format!("job {} has no package (yet)", record.id),
        }),
    }
}

/// How long an opener has to fail before it is taken to have worked: `xdg-open` hands the path
/// to the desktop and exits at once, with a non-zero code when nothing can open it; an opener
/// that keeps running (an editor in the foreground, say) is left to run.
const OPENER_VERDICT: Duration = Duration::from_secs(3);

/// Why the desktop did not open something.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "cannot start {program} ({source}); set open_command in haul's config to the program that opens files on this computer"
    )]
    Start {
        program: String,
        source: std::io::Error,
    },
    #[error(
        "{program} could not open it (it exited with {status}); is a file manager installed? Set open_command in haul's config to the program that opens files on this computer"
    )]
    Refused { program: String, status: ExitStatus },
}

/// Runs the opener for `path` and returns the command line run (for the API's answer), or why
/// the desktop did not open it: the program is missing, or it said it failed within
/// [`OPENER_VERDICT`]. A program still running then is left detached; a task reaps it.
pub async fn open(config: &Config, path: &Path, show: Show) -> Result<Vec<String>, OpenError> {
    let argv = command_for(config, path, show);
    let program = argv[0].clone();
    let mut command = tokio::process::Command::new(&program);
    command
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(false);
    let mut child = command.spawn().map_err(|source| OpenError::Start {
        program: program.clone(),
        source,
    })?;
    match tokio::time::timeout(OPENER_VERDICT, child.wait()).await {
        // Windows' explorer answers 1 whether it opened the folder or not: only a start
        // failure tells there.
        Ok(Ok(status)) if !status.success() && !cfg!(windows) => {
            Err(OpenError::Refused { program, status })
        }
        Ok(_) => Ok(argv),
        Err(_) => {
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
            Ok(argv)
        }
    }
}

/// The command line that opens `url` in the desktop's browser (the same opener, or the
/// config's `open_command`, with the address last).
pub fn command_for_link(config: &Config, url: &str) -> Vec<String> {
    command_for(config, Path::new(url), Show::Open)
}

fn command_for(config: &Config, path: &Path, show: Show) -> Vec<String> {
    let text = |p: &Path| p.display().to_string();
    let parent = || {
        path.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    };
    if let Some(custom) = &config.open_command {
        let mut argv = custom.clone();
        argv.push(match show {
            Show::Open => text(path),
            Show::Reveal => text(&parent()),
        });
        return argv;
    }
    if cfg!(target_os = "macos") {
        match show {
            Show::Open => vec!["open".into(), text(path)],
            Show::Reveal => vec!["open".into(), "-R".into(), text(path)],
        }
    } else if cfg!(windows) {
        match show {
            Show::Open => vec!["explorer".into(), text(path)],
            Show::Reveal => vec!["explorer".into(), format!("/select,{}", text(path))],
        }
    } else {
        match show {
            Show::Open => vec!["xdg-open".into(), text(path)],
            Show::Reveal => vec!["xdg-open".into(), text(&parent())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_command_gets_the_path_last() {
        let config = Config {
            open_command: Some(vec!["/bin/echo".into(), "-n".into()]),
            ..Config::default()
        };
        let p = Path::new("/out/x.zip");
        assert_eq!(
            command_for(&config, p, Show::Open),
            ["/bin/echo", "-n", "/out/x.zip"]
        );
        assert_eq!(
            command_for(&config, p, Show::Reveal),
            ["/bin/echo", "-n", "/out"]
        );
    }
}
