//! Subcommands. Each module has an `Args` (clap) and a `run`.

mod doctor;
mod install;
mod uninstall;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// haul saves every photo and video of a marketplace product (Amazon, AliExpress, Alibaba, …) to
/// your own disk — no account, no cloud, no tracking.
#[derive(Debug, Parser)]
#[command(name = "haul", version, propagate_version = true)]
pub struct Cli {
    /// Read settings from this file instead of the default config.toml.
    #[arg(long, global = true, value_name = "FILE", env = "HAUL_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register haul with your browsers so the extension can reach it (per user, no admin rights).
    Install(install::Args),
    /// Remove exactly what `haul install` wrote.
    Uninstall(uninstall::Args),
    /// Check that browsers can reach haul, and say how to fix what is wrong.
    Doctor(doctor::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Install(args) => install::run(args),
        Command::Uninstall(args) => uninstall::run(args),
        Command::Doctor(args) => doctor::run(args),
    }
}

/// Makes a path given on the command line absolute against the current directory.
fn absolute(path: PathBuf) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    if path.is_absolute() {
        return Ok(path);
    }
    Ok(std::env::current_dir()
        .context("cannot read the current directory")?
        .join(path))
}
