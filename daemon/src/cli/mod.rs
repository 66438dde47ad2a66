//! Subcommands. Each module has an `Args` (clap) and a `run`; this one parses the common flags,
//! finds the paths and sets up logging.

/// `println!` for a command's output, ending quietly when the reader has gone away
/// ([`terminal::say`]).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::terminal::say(format_args!($($arg)*))
    };
}

mod daemon;
mod doctor;
mod export;
mod extract;
mod grab;
mod install;
mod progress;
mod status;
pub mod terminal;
mod uninstall;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use haul_protocol::paths::Paths;

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
    Daemon(daemon::Args),
    Grab(grab::Args),
    Status(status::Args),
    /// Register haul with your browsers so the extension can reach it (per user, no admin rights).
    Install(install::Args),
    /// Remove exactly what `haul install` wrote.
    Uninstall(uninstall::Args),
    /// Check that browsers can reach haul, and say how to fix what is wrong.
    Doctor(doctor::Args),
    /// Print the media a saved product page holds (what a grab would save), without any network.
    Extract(extract::Args),
    Export(export::Args),
}

/// What every subcommand gets.
pub struct Context {
    pub paths: Paths,
    pub config_file: Option<PathBuf>,
}

impl Context {
    /// The config in effect (defaults when there is no file).
    pub fn config(&self) -> anyhow::Result<haul::config::Config> {
        Ok(haul::config::Config::load(
            &self.paths,
            self.config_file.as_deref(),
        )?)
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = Paths::from_env().context("cannot work out where haul keeps its files")?;
    let ctx = Context {
        paths,
        config_file: cli.config,
    };
    match cli.command {
        Command::Daemon(args) => daemon::run(args, &ctx),
        Command::Grab(args) => grab::run(args, &ctx),
        Command::Status(args) => status::run(args, &ctx),
        Command::Install(args) => install::run(args),
        Command::Uninstall(args) => uninstall::run(args),
        Command::Doctor(args) => doctor::run(args, &ctx),
        Command::Extract(args) => extract::run(args),
        Command::Export(args) => export::run(args, &ctx),
    }
}

/// Makes a path given on the command line absolute against the current directory.
fn absolute(path: PathBuf) -> anyhow::Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path);
    }
    Ok(std::env::current_dir()
        .context("cannot read the current directory")?
        .join(path))
}

/// Prints what `haul install` / `haul uninstall` did, one aligned line a change.
fn print_changes(changes: &[haul::install::Change]) {
    let width = changes.iter().map(|c| c.what.len()).max().unwrap_or(0);
    for c in changes {
        let why = match c.action {
            haul::install::Action::Kept => "  (changed since haul wrote it: left in place)",
            _ => "",
        };
        say!(
            "  {:<12} {:<width$}  {}{why}",
            c.action.as_str(),
            c.what,
            c.target
        );
    }
}

/// A multi-threaded tokio runtime for a subcommand.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
