//! `haul doctor`: checks every piece the extension needs and prints, for each problem, what the
//! extension shows and the command that fixes it. Exits nonzero when something is wrong.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use haul::install::doctor::{
    DoctorOptions, Finding, Severity, check_daemon, check_install, check_other_daemons,
    check_privacy, check_recorded_home,
};
use haul::install::{Browser, InstallEnv};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Require this browser to be set up (repeatable). Default: check every browser; a missing
    /// one counts only if the browser is used here.
    #[arg(long = "browser", value_name = "NAME")]
    pub browsers: Vec<Browser>,
    /// Also check DIR/NativeMessagingHosts/ (a browser profile started with --user-data-dir).
    #[arg(long = "user-data-dir", value_name = "DIR")]
    pub user_data_dirs: Vec<PathBuf>,
    /// How long to wait for the daemon's answer, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub timeout: f64,
}

pub fn run(args: Args, ctx: &super::Context) -> anyhow::Result<ExitCode> {
    let env = InstallEnv::from_env()?;
    let opts = DoctorOptions {
        browsers: args.browsers,
        user_data_dirs: args
            .user_data_dirs
            .into_iter()
            .map(super::absolute)
            .collect::<anyhow::Result<Vec<_>>>()?,
    };
    let check = check_install(&env, &opts);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let timeout = Duration::from_secs_f64(args.timeout.clamp(0.05, 60.0));
    let daemon = runtime.block_on(check_daemon(&env.paths, &check.host_paths, timeout));
    let chosen =
        std::env::var_os(haul_protocol::paths::HAUL_HOME_ENV).is_some_and(|v| !v.is_empty());
    let others = runtime.block_on(check_other_daemons(&env.paths, chosen));

    let mut findings = check.findings;
    findings.extend(check_recorded_home(&env));
    findings.push(daemon);
    findings.extend(others);
    // A config that cannot be read is reported elsewhere; the default inbox is checked then.
    let inbox = ctx
        .config()
        .map(|c| c.inbox_dir(&env.paths))
        .unwrap_or_else(|_| env.paths.inbox_dir.clone());
    findings.push(check_privacy(&env.paths, &inbox));
    for f in &findings {
        print_finding(f);
    }
    let problems = findings
        .iter()
        .filter(|f| f.severity == Severity::Problem)
        .count();
    if problems == 0 {
        say!("No problems found.");
        Ok(ExitCode::SUCCESS)
    } else {
        say!(
            "{problems} problem{} found.",
            if problems == 1 { "" } else { "s" }
        );
        Ok(ExitCode::FAILURE)
    }
}

fn print_finding(f: &Finding) {
    let tag = match f.severity {
        Severity::Ok => "ok",
        Severity::Note => "note",
        Severity::Problem => "PROBLEM",
    };
    say!("{tag:<8} {}: {}", f.subject, f.detail);
    for says in &f.browser_says {
        say!("         the extension shows: \"{says}\"");
    }
    if let Some(fix) = &f.fix {
        let lead = if f.severity == Severity::Problem {
            "fix"
        } else {
            "hint"
        };
        say!("         {lead}: {fix}");
    }
}
