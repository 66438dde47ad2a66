//! Subcommands. Each module has an `Args` (clap) and a `run`.

mod extract;

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
    /// Print the media a saved product page holds (what a grab would save), without any network.
    Extract(extract::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Extract(args) => extract::run(args),
    }
}
