//! `haul uninstall`: removes what `haul install` wrote, and nothing else.

use std::process::ExitCode;

use haul::install::{Browser, InstallEnv, uninstall};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Remove the registration for this browser only (repeatable). Default: everything haul
    /// installed, the autostart entry included.
    #[arg(long = "browser", value_name = "NAME")]
    pub browsers: Vec<Browser>,
    /// Remove only the manifest `haul install --user-data-dir DIR` wrote into
    /// DIR/NativeMessagingHosts/ (repeatable).
    #[arg(long = "user-data-dir", value_name = "DIR")]
    pub user_data_dirs: Vec<std::path::PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let env = InstallEnv::from_env()?;
    let user_data_dirs = args
        .user_data_dirs
        .into_iter()
        .map(super::absolute)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let report = uninstall(&env, &args.browsers, &user_data_dirs)?;
    if report.nothing_recorded {
        say!(
            "Nothing to remove: haul install has not written anything for this user (no {}).",
            report.record_file.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    say!("haul uninstall:");
    super::print_changes(&report.changes);
    if report.changes.is_empty() {
        say!("  nothing recorded for those browsers or profiles");
    }
    Ok(ExitCode::SUCCESS)
}
