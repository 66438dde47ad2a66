//! The `haul` command line: parses flags, sets up logging and hands over to the library (the
//! daemon is `haul::daemon::run`). Each subcommand lives in its own module under `cli/`; this
//! file is the edge where a mistyped flag gets a suggestion and an error is printed once.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => cli::terminal::exit(e),
    };
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("haul: {}", cli::terminal::describe(&e));
            ExitCode::FAILURE
        }
    }
}
