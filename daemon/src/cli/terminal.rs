//! What haul says at the terminal, apart from each command's own output: a mistyped flag gets the
//! flag that was meant, an error is printed once (not its cause again after it), output into a
//! pipe that closes early (`haul status --json | head`) ends quietly instead of with a panic, and
//! logs carry only haul's own lines — the HTML parser's "foster parenting" warnings and other
//! libraries' chatter stay out — with colour only when a person is watching.

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::CommandFactory;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use tracing_subscriber::EnvFilter;

/// Prints a parse error and exits: clap's own message, except that an unknown long flag close to
/// a real one names it ("did you mean --out?") where clap would only suggest `-- --ouput`.
pub fn exit(error: clap::Error) -> ! {
    if let Some(message) = unknown_flag_message(&error) {
        eprint!("{message}");
        std::process::exit(2);
    }
    error.exit()
}

/// "error: haul grab has no option '--ouput'; did you mean '--out'?" and the usage, when clap
/// gave no suggestion of its own and one of the command's long flags is a typo away.
fn unknown_flag_message(error: &clap::Error) -> Option<String> {
    if error.kind() != ErrorKind::UnknownArgument || error.get(ContextKind::SuggestedArg).is_some()
    {
        return None;
    }
    let Some(ContextValue::String(given)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let flag = given.strip_prefix("--")?.split('=').next()?;
    let mut root = super::Cli::command();
    root.build();
    let words: Vec<String> = std::env::args().skip(1).collect();
    let mut command = match words
        .iter()
        .find_map(|w| root.find_subcommand(w).map(|c| c.get_name().to_string()))
    {
        Some(name) => root.find_subcommand_mut(name)?.clone(),
        None => root.clone(),
    };
    let longs: Vec<&str> = command
        .get_arguments()
        .chain(root.get_arguments())
        .filter_map(|a| a.get_long())
        .chain(["help", "version"])
        .collect();
    let meant = closest(flag, &longs)?.to_string();
    let name = command
        .get_bin_name()
        .unwrap_or(command.get_name())
        .to_string();
    Some(format!(
        "error: {name} has no option '--{flag}'; did you mean '--{meant}'?\n\n{}\n\nFor more information, try '{name} --help'.\n",
        command.render_usage()
    ))
}

/// The flag among `longs` within two edits of `typed` (and not shorter than three letters),
/// the nearest first.
fn closest<'a>(typed: &str, longs: &[&'a str]) -> Option<&'a str> {
    longs
        .iter()
        .map(|long| (strsim::damerau_levenshtein(typed, long), *long))
        .filter(|(distance, long)| *distance <= 2 && long.len() >= 3 && *distance < typed.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, long)| long)
}

/// An error and its causes in one line, each said once: a message that already quotes its
/// cause ("cannot read x: No such file…") is not followed by the cause again.
pub fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Writes one line of a command's output to stdout (see [`say!`](crate::say)). A reader that
/// has gone away (`| head`) ends the command quietly, as it ends `ls` or `grep`; any other
/// failure to write is reported and fails the command.
pub fn say(line: fmt::Arguments<'_>) {
    write_out(|out| out.write_fmt(line).and_then(|()| out.write_all(b"\n")));
}

/// Writes text as it is (no newline added) to stdout, like [`say`].
pub fn say_raw(text: &str) {
    write_out(|out| out.write_all(text.as_bytes()));
}

fn write_out(write: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) {
    let mut out = io::stdout().lock();
    if let Err(e) = write(&mut out).and_then(|()| out.flush()) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("haul: cannot write the output: {e}");
        std::process::exit(1);
    }
}

/// The log filter: `HAUL_LOG` when set (e.g. `HAUL_LOG=debug`), else haul's own lines at
/// `level` and only other crates' errors.
fn filter(level: &str) -> EnvFilter {
    EnvFilter::try_from_env("HAUL_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("error,haul={level},haul_protocol={level}")))
}

/// Logs to stderr at `stderr_level` (colour only on a terminal), and to `file` at its level
/// when given (never coloured). Levels as in [`filter`]; `off` shows nothing.
pub fn init_logging(stderr_level: &str, file: Option<(PathBuf, &str)>) -> anyhow::Result<()> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(io::stderr().is_terminal())
        .with_writer(io::stderr)
        .with_filter(filter(stderr_level));
    let file_layer = match file {
        Some((path, level)) => {
            // The log names every page and file saved: private to the user, like its folder.
            if let Some(dir) = path.parent() {
                haul_protocol::private::create_dir(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let file = haul_protocol::private::append(&path)
                .with_context(|| format!("cannot open the log file {}", path.display()))?;
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file));
            Some(layer.with_filter(filter(level)))
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init()
        .context("cannot set up logging")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_names_the_flag_meant() {
        let longs = ["out", "list", "package", "naming", "json", "url"];
        assert_eq!(closest("ouput", &longs), Some("out"));
        assert_eq!(closest("pakage", &longs), Some("package"));
        assert_eq!(closest("lsit", &longs), Some("list"));
        assert_eq!(closest("colour", &longs), None);
        assert_eq!(closest("x", &longs), None);
    }

    #[test]
    fn a_cause_already_quoted_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let error = anyhow::Error::new(io)
            .context("cannot read page.html: No such file or directory")
            .context("cannot extract page.html");
        assert_eq!(
            describe(&error),
            "cannot extract page.html: cannot read page.html: No such file or directory"
        );
        let plain = anyhow::anyhow!("disk full").context("cannot save");
        assert_eq!(describe(&plain), "cannot save: disk full");
    }
}
