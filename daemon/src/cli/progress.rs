//! What `haul grab` shows while it works: a total bar (files and bytes) and a bar per file being
//! downloaded (indicatif; drawn only when stderr is a terminal), then a summary of where each
//! result is and what failed — or, with `--json`, one JSON document for scripts.

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
    jobs: HashMap<JobId, (u64, u64, u64)>,
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
        total.set_style(
            ProgressStyle::with_template("{spinner} {pos}/{len} files  {msg}  [{elapsed_precise}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
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
        self.jobs.insert(p.job, (p.done, p.total, p.bytes));
        let (done, total, bytes) = self
            .jobs
            .values()
            .fold((0, 0, 0), |(d, t, b), (jd, jt, jb)| {
                (d + jd, t + jt, b + jb)
            });
        self.total.set_length(total);
        self.total.set_position(done);
        self.total
            .set_message(indicatif::HumanBytes(bytes).to_string());
        let Some(item) = &p.item else { return };
        let key = (p.job, item.index);
        match item.state {
            ItemState::Downloading => {
                let bar = self.files.entry(key).or_insert_with(|| {
                    let bar = self.multi.add(ProgressBar::new(item.size.unwrap_or(0)));
                    bar.set_style(
                        ProgressStyle::with_template(
                            "  {bar:30} {bytes:>10}/{total_bytes:<10} {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.set_message(short_name(&item.url));
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
        let all_complete = self.finished.iter().all(|f| f.status == JobState::Complete);
        if self.json {
            let doc = serde_json::json!({ "jobs": self.finished });
            println!("{doc}");
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
    let output = f.output.as_deref().unwrap_or("(nothing written)");
    match f.status {
        JobState::Complete => println!("saved {} file(s) -> {output}", f.saved),
        JobState::Partial => println!("saved {} of {} file(s) -> {output}", f.saved, f.total),
        JobState::Cancelled => println!("job {} was cancelled; saved nothing", f.job),
        _ => println!("job {} failed: saved nothing", f.job),
    }
    for failure in &f.failures {
        println!("  failed: {}", failure.url);
        // One explanation per kind (what happened, what to do), the precise reason beneath.
        if failure.explanation.is_empty() {
            println!("    {}", failure.reason);
        } else {
            println!("    {}", failure.explanation);
            println!("    ({})", failure.reason);
        }
    }
}

/// The last path segment of a URL, for a bar's label.
fn short_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or(path);
    name.chars().take(48).collect()
}
