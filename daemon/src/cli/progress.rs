//! What `haul grab` shows while it works: one overall bar (files, bytes and the time left) above
//! a bar per file being downloaded, named by its place in the product (`#3 gallery`, `#7 variant
//! · Red`) — indicatif, drawn only when stderr is a terminal — then a summary of where each
//! result is and what failed, or, with `--json`, one JSON document for scripts.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use haul_protocol::message::{Finished, ItemState, JobId, JobState, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shows progress events and the final summary.
pub struct Reporter {
    json: bool,
    multi: MultiProgress,
    total: ProgressBar,
    /// Per job: items done, items, bytes, bytes expected (when every size is known).
    jobs: HashMap<JobId, (u64, u64, u64, Option<u64>)>,
    files: HashMap<(JobId, u32), ProgressBar>,
    finished: Vec<Finished>,
}

impl Reporter {
    pub fn new(json: bool) -> Reporter {
        let target = if json || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let multi = MultiProgress::with_draw_target(target);
        let total = multi.add(ProgressBar::new(0));
        total.set_style(style("{spinner} {msg}"));
        total.set_message("reading the product page…");
        total.enable_steady_tick(Duration::from_millis(120));
        Reporter {
            json,
            multi,
            total,
            jobs: HashMap::new(),
            files: HashMap::new(),
            finished: Vec::new(),
        }
    }

    pub fn progress(&mut self, p: &Progress) {
        self.jobs
            .insert(p.job, (p.done, p.total, p.bytes, p.bytes_total));
        self.show_total();
        let Some(item) = &p.item else { return };
        let key = (p.job, item.index);
        match item.state {
            ItemState::Downloading => {
                let bar = self.files.entry(key).or_insert_with(|| {
                    let bar = self.multi.add(ProgressBar::new(item.size.unwrap_or(0)));
                    bar.set_style(style("  {bar:30} {bytes:>10}/{total_bytes:<10} {msg}"));
                    bar.set_message(item.place.clone().unwrap_or_else(|| short_name(&item.url)));
                    bar
                });
                if let Some(size) = item.size {
                    bar.set_length(size);
                }
                bar.set_position(item.bytes);
            }
            ItemState::Saved | ItemState::Failed => {
                if let Some(bar) = self.files.remove(&key) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
            }
            ItemState::Pending | ItemState::Downloaded => {}
        }
    }

    /// The overall bar: by bytes with the time left once every file's size is known, by files
    /// (with the bytes so far) before that.
    fn show_total(&self) {
        let (done, total, bytes, bytes_total) =
            self.jobs
                .values()
                .fold((0, 0, 0, Some(0)), |(d, t, b, bt), (jd, jt, jb, jbt)| {
                    (d + jd, t + jt, b + jb, bt.zip(*jbt).map(|(x, y)| x + y))
                });
        if total == 0 {
            return;
        }
        let files = format!("{done}/{total} files");
        match bytes_total {
            Some(bytes_total) if bytes_total > 0 => {
                self.total.set_style(style(
                    "{spinner} {bar:30} {bytes}/{total_bytes}  {msg}  {eta} left",
                ));
                self.total.set_length(bytes_total);
                self.total.set_position(bytes.min(bytes_total));
                self.total.set_message(files);
            }
            _ => {
                self.total
                    .set_style(style("{spinner} {bar:30} {msg}  {eta} left"));
                self.total.set_length(total);
                self.total.set_position(done);
                self.total
                    .set_message(format!("{files}  {}", indicatif::HumanBytes(bytes)));
            }
        }
    }

    pub fn finished(&mut self, f: Finished) {
        self.finished.push(f);
    }

    /// A line for the user outside the bars.
    pub fn note(&self, text: &str) {
        if !self.json {
            let _ = self.multi.println(text);
        }
    }

    /// Clears the bars, prints the summary and returns the exit code: success only when every
    /// job saved every item.
    pub fn summary(mut self) -> ExitCode {
        self.total.finish_and_clear();
        for bar in self.files.values() {
            bar.finish_and_clear();
        }
        self.finished.sort_by_key(|f| f.job);
        // No job reported at all is no success: nothing was saved.
        let all_complete = !self.finished.is_empty()
            && self.finished.iter().all(|f| f.status == JobState::Complete);
        if self.json {
            let doc = serde_json::json!({ "jobs": self.finished });
            say!("{doc}");
        } else {
            for f in &self.finished {
                print_job(f);
            }
        }
        if all_complete {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

fn print_job(f: &Finished) {
    let outputs = if f.outputs.is_empty() {
        f.output.iter().cloned().collect()
    } else {
        f.outputs.clone()
    };
    let output = if outputs.is_empty() {
        "(nothing written)".to_string()
    } else {
        outputs.join("\n   and ")
    };
    match f.status {
        JobState::Complete => say!("saved {} file(s) -> {output}", f.saved),
        JobState::Partial => say!(
            "saved {} of {} file(s) -> {output}",
            f.saved,
            f.total - f.left_out
        ),
        JobState::Cancelled => say!("job {} was cancelled; saved nothing", f.job),
        _ => say!("job {} failed: saved nothing", f.job),
    }
    if f.left_out > 0 {
        say!(
            "  {} more file(s) saved but left out by the naming scheme (listed in the manifest's left_out)",
            f.left_out
        );
    }
    for failure in &f.failures {
        say!("  failed: {}", failure.url);
        // One explanation per kind (what happened, what to do), the precise reason beneath.
        if failure.explanation.is_empty() {
            say!("    {}", failure.reason);
        } else {
            say!("    {}", failure.explanation);
            say!("    ({})", failure.reason);
        }
    }
}

/// A bar style from a constant template.
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// The last path segment of a URL, for a bar's label when the daemon names no place.
fn short_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or(path);
    name.chars().take(48).collect()
}
