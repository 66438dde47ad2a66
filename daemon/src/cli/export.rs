//! `haul export JOB… --format shopify|woocommerce|csv|xlsx [--out FILE]`: the products of ended
//! jobs as one sheet, read from the journal. Reading is all it does, so it works the same with
//! the daemon running or not (SQLite lets the daemon write while this reads), like
//! `haul status`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use haul::export::{self, Format};
use haul::journal::Journal;
use haul_protocol::message::JobId;

use super::Context;

/// Write the products of ended jobs as one sheet for Shopify, WooCommerce or a spreadsheet.
///
/// Shopify's product import CSV, WooCommerce's product CSV, or everything haul knows of each
/// product as CSV or an Excel workbook. Name, price, SKUs, description, variants and pictures
/// come from what each product page said; pictures are their original addresses (shops fetch
/// them from there), and the file names in the package follow in a column of their own.
/// Several jobs make one sheet. Products are drafts in the shop until you publish them.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Job ids as `haul status` lists them, or ranges such as `12-18`.
    #[arg(value_name = "JOB")]
    jobs: Vec<String>,
    /// Also every job of a file dropped into the inbox, by its name (`urls.txt`; the latest
    /// one of that name).
    #[arg(long, value_name = "NAME")]
    inbox: Option<String>,
    /// shopify (Shopify's product CSV), woocommerce (WooCommerce's product CSV), csv or xlsx
    /// (every fact of every product and variant).
    #[arg(long, value_enum)]
    format: FormatArg,
    /// Write here (`-` for standard output). Default: a new file in the output folder, named
    /// after the format and the jobs (`haul-shopify-12.csv`).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Shopify,
    Woocommerce,
    Csv,
    Xlsx,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Shopify => Format::Shopify,
            FormatArg::Woocommerce => Format::WooCommerce,
            FormatArg::Csv => Format::Csv,
            FormatArg::Xlsx => Format::Xlsx,
        }
    }
}

/// Most jobs one range may name, so a typo (`1-100000000`) is an error, not a long wait.
const MAX_RANGE: JobId = 10_000;

pub fn run(args: Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let format = Format::from(args.format);
    let mut jobs = parse_jobs(&args.jobs)?;
    let journal_file = ctx.paths.journal_file();
    if !journal_file.exists() {
        bail!(
            "haul has no jobs yet (no journal at {}); grab something first",
            journal_file.display()
        );
    }
    let journal = Journal::open(&journal_file)?;
    if let Some(name) = &args.inbox {
        // A path to the file in `inbox/done/` names the same input.
        let name = Path::new(name)
            .file_name()
            .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
        match journal.inbox_jobs(&name)? {
            Some(ids) => jobs.extend(ids),
            None => bail!(
                "no file named {name:?} made jobs in the inbox; give its name as it was dropped (`urls.txt`), or the job ids `haul status` lists"
            ),
        }
    }
    if jobs.is_empty() {
        bail!(
            "name the jobs to export: `haul export 12 13 --format {format}` (`haul status` lists them), or `--inbox FILE`"
        );
    }
    let products = export::load(&journal, &jobs)?;
    let bytes = export::render(format, &products)?;
    let rows = products.len();
    match args.out.as_deref() {
        Some(path) if path == Path::new("-") => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .context("cannot write to standard output")?;
        }
        Some(path) => {
            let path = super::absolute(path.to_path_buf())?;
            save(&path, &bytes)?;
            say!("{}", summary(rows, format, &path));
        }
        None => {
            let dir = ctx.config()?.output_dir(&ctx.paths);
            std::fs::create_dir_all(&dir).with_context(|| {
                format!(
                    "cannot create the output folder {}; choose where to write with --out FILE",
                    dir.display()
                )
            })?;
            let name = format.file_name(&jobs);
            let (base, ext) = name.rsplit_once('.').unwrap_or((name.as_str(), ""));
            let path = haul::package::free_target(&dir, base, &format!(".{ext}"))?;
            save(&path, &bytes)?;
            say!("{}", summary(rows, format, &path));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(products: usize, format: Format, path: &Path) -> String {
    let what = if products == 1 { "product" } else { "products" };
    format!("{products} {what} exported ({format}): {}", path.display())
}

/// Job ids from `12`, `12-18` (and `12..18`).
fn parse_jobs(args: &[String]) -> anyhow::Result<Vec<JobId>> {
    let mut jobs = Vec::new();
    for arg in args {
        let number = |s: &str| -> anyhow::Result<JobId> {
            s.trim()
                .parse::<JobId>()
                .ok()
                .filter(|n| *n > 0)
                .with_context(|| format!("{arg:?} is not a job id; give ids as `haul status` lists them (12), or ranges (12-18)"))
        };
        match arg.split_once("..").or_else(|| arg.split_once('-')) {
            Some((from, to)) => {
                let (from, to) = (number(from)?, number(to)?);
                if to < from || to - from >= MAX_RANGE {
                    bail!(
                        "{arg:?} is not a range of jobs; write it low-high (12-18), at most {MAX_RANGE} jobs"
                    );
                }
                jobs.extend(from..=to);
            }
            None => jobs.push(number(arg)?),
        }
    }
    Ok(jobs)
}

/// Writes `bytes` to `path` whole or not at all: into a hidden file beside it, then renamed over
/// it (the user named the file, so an older one of that name is replaced).
fn save(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let fix = "choose a folder you can write to with --out FILE";
    let dir = path.parent().unwrap_or(Path::new("."));
    if !dir.is_dir() {
        bail!(
            "cannot write {}: the folder {} does not exist; {fix}",
            path.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        bail!(
            "cannot write {}: it is a folder; give a file name, such as {}",
            path.display(),
            path.join("products.csv").display()
        );
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let temp = dir.join(format!(".{name}.haul-{}.partial", std::process::id()));
    let written = std::fs::File::create(&temp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        bail!("cannot write {}: {e}; {fix}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_ranges() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_jobs(&args(&["3", "7-9", "12..13"])).unwrap(),
            [3, 7, 8, 9, 12, 13]
        );
        for bad in ["x", "0", "9-7", "1-99999999", "-3"] {
            let e = parse_jobs(&args(&[bad])).unwrap_err().to_string();
            assert!(e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn an_unwritable_place_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let e = save(&dir.path().join("missing/x.csv"), b"a")
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist") && e.contains("--out"), "{e}");
        let e = save(dir.path(), b"a").unwrap_err().to_string();
        assert!(e.contains("is a folder"), "{e}");
        let file = dir.path().join("x.csv");
        std::fs::write(&file, "old").unwrap();
        save(&file, b"new").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }
}
