//! `haul install`: registers the native host with the browsers (see `haul::install`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use haul::install::{Action, Browser, InstallEnv, InstallOptions, Os, install};
use haul_protocol::install::NATIVE_HOST_EXE;
use haul_protocol::paths::HAUL_HOME_ENV;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Register with this browser only (repeatable): chrome, chromium, edge, brave, vivaldi,
    /// firefox. Default: every one of them that is installed here.
    #[arg(long = "browser", value_name = "NAME")]
    pub browsers: Vec<Browser>,
    /// Also allow this extension: a Chromium id (32 letters a-p) or a Firefox add-on id.
    /// Repeatable; remembered for later installs. The development extension is always allowed.
    #[arg(long = "extension-id", value_name = "ID")]
    pub extension_ids: Vec<String>,
    /// Write the manifest into DIR/NativeMessagingHosts/, where a Chromium-family browser started
    /// with --user-data-dir=DIR looks, instead of the browsers' own folders. Repeatable.
    #[arg(long = "user-data-dir", value_name = "DIR")]
    pub user_data_dirs: Vec<PathBuf>,
    /// Also start `haul daemon` at login (systemd user unit, LaunchAgent or HKCU Run entry).
    #[arg(long)]
    pub autostart: bool,
    /// The haul-native-host binary the manifests point to (absolute path). Default: the one next
    /// to this haul.
    #[arg(long, value_name = "PATH")]
    pub host_path: Option<PathBuf>,
}

/// What to do after an install: the README's steps after "Install", word for word (the test
/// below checks the README still says each one).
pub const NEXT_STEPS: [&str; 3] = [
    "1. Add the haul extension to your browser (see \"Add the extension\" in the README).",
    "2. Open a product page and press Save with haul.",
    "3. Press haul's toolbar button to see your grabs; if something does not work, run `haul doctor`.",
];

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let env = InstallEnv::from_env()?;
    let exe = std::env::current_exe().context("cannot tell where this haul binary is")?;
    let host_path = match args.host_path {
        Some(p) => p,
        None => exe
            .parent()
            .context("this haul binary has no folder")?
            .join(NATIVE_HOST_EXE),
    };
    let haul_home = match std::env::var_os(HAUL_HOME_ENV).filter(|v| !v.is_empty()) {
        Some(h) => Some(super::absolute(PathBuf::from(h))?),
        None => None,
    };
    let user_data_dirs = args
        .user_data_dirs
        .into_iter()
        .map(super::absolute)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let opts = InstallOptions {
        browsers: args.browsers,
        extension_ids: args.extension_ids,
        user_data_dirs,
        autostart: args.autostart,
        host_path,
        haul_path: exe,
        haul_home,
    };
    let report = install(&env, &opts)?;

    say!("haul install: native host {}", opts.host_path.display());
    super::print_changes(&report.changes);
    say!(
        "Allowed: {}",
        report
            .allowed_origins
            .iter()
            .chain(&report.allowed_extensions)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !report.absent.is_empty() {
        say!(
            "Not installed here (add one later with `haul install --browser NAME`): {}",
            report
                .absent
                .iter()
                .map(|b| b.display_name())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if report.changed() {
        say!("Recorded in {}.", report.record_file.display());
    } else {
        say!("Nothing to change: haul is already installed this way.");
    }
    let autostart_created = opts.autostart
        && report
            .changes
            .iter()
            .any(|c| c.action == Action::Created && c.what.contains("haul daemon"));
    if autostart_created {
        match env.os {
            Os::Linux => say!(
                "The daemon starts at your next login; to start it now: systemctl --user daemon-reload && systemctl --user start haul.service"
            ),
            Os::Macos => say!(
                "The daemon starts at your next login; to start it now: launchctl load ~/Library/LaunchAgents/haul.daemon.plist"
            ),
            Os::Windows => say!("The daemon starts at your next login."),
        }
    }
    say!("Next:");
    for line in NEXT_STEPS {
        say!("  {line}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_next_steps_are_the_readmes() {
        let readme = include_str!("../../../README.md");
        for step in super::NEXT_STEPS {
            assert!(
                readme.lines().any(|l| l.trim() == step),
                "README.md has no line {step:?}"
            );
        }
    }
}
