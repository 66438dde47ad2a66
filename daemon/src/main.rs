//! The `haul` command line: parses flags, sets up logging and hands over to the library (the
//! daemon is `haul::daemon::run`). Each subcommand lives in its own module under `cli/`.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("haul: {e:#}");
            ExitCode::FAILURE
        }
    }
}
