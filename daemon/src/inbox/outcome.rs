//! Giving an input back: the report of what went wrong (`<name>.error.txt`) and the move to
//! `done/` or `failed/` under a name nobody has taken.
//!
//! The report is for a person who dropped a file and walked away: it names the line, row or file
//! that failed, says why in plain words and ends with what to do. It is written only when
//! something went wrong; an input whose every file was saved comes back alone.

use std::io::Write;
use std::path::{Path, PathBuf};

use haul_protocol::message::{ItemState, JobState};

use crate::failure::FailureKind;
use crate::journal::{InboxInput, Journal, JournalError};

/// How an input ended, and what to tell its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Nothing was saved: the input goes to `failed/`.
    pub failed: bool,
    /// The body of `<name>.error.txt`; `None` when nothing went wrong.
    pub text: Option<String>,
}

/// Notes listed one by one in a report; past them, only their number. A 10,000-row sheet of
/// small pictures has a note for each picture (75,000 in the W3 benchmark): listed whole, the
/// report was unreadable and took 44 MiB to write.
const MAX_LISTED_NOTES: usize = 200;

const RETRY_HINT: &str =
    "To try again, fix what is listed above and drop the file (or folder) into the inbox again.";

impl Report {
    /// The input could not be read at all.
    pub fn unreadable(name: &str, reason: &str) -> Report {
        Report {
            failed: true,
            text: Some(format!(
                "haul could not use \"{name}\":\n\n{reason}\n\n{RETRY_HINT}\n"
            )),
        }
    }

    /// The input was read, but nothing in it could become a job.
    pub fn nothing_to_do(name: &str, problems: &[String]) -> Report {
        let mut text = format!("haul found nothing it could save in \"{name}\".\n\n");
        if problems.is_empty() {
            text.push_str("It holds no URLs or images.\n");
        }
        for p in problems {
            text.push_str(&format!("- {p}\n"));
        }
        text.push('\n');
        text.push_str(RETRY_HINT);
        text.push('\n');
        Report {
            failed: true,
            text: Some(text),
        }
    }

    /// The report of an input whose jobs have all ended.
    pub fn of_jobs(journal: &Journal, input: &InboxInput) -> Result<Report, JournalError> {
        let mut problems: Vec<String> = input.report.clone();
        let mut saved_somewhere = Vec::new();
        let mut notes = Vec::new();
        let mut unlisted_notes = 0usize;
        for &id in &input.jobs {
            let job = journal.job(id)?;
            let items = journal.items(id)?;
            let label = job
                .request
                .name
                .clone()
                .unwrap_or_else(|| job.label.clone());
            match job.state {
                JobState::Complete | JobState::Partial => {
                    if let Some(output) = &job.output {
                        saved_somewhere.push(output.display().to_string());
                    }
                }
                JobState::Cancelled => problems.push(format!("{label}: cancelled")),
                _ => problems.push(format!(
                    "{label}: nothing saved — {}",
                    explained(
                        job.error.as_deref(),
                        job.error_kind,
                        "no file could be saved"
                    )
                )),
            }
            for item in &items {
                match item.state {
                    ItemState::Failed if job.state != JobState::Failed => problems.push(format!(
                        "{label}: {} — {}",
                        shown_name(&item.url),
                        explained(item.error.as_deref(), item.error_kind, "failed")
                    )),
                    ItemState::Saved => {
                        for warning in item.saved.iter().flat_map(|s| &s.warnings) {
                            if notes.len() < MAX_LISTED_NOTES {
                                notes
                                    .push(format!("{label}: {}: {warning}", shown_name(&item.url)));
                            } else {
                                unlisted_notes += 1;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let failed = saved_somewhere.is_empty();
        if problems.is_empty() && notes.is_empty() {
            return Ok(Report { failed, text: None });
        }
        let mut text = if failed {
            format!("haul could not save anything from \"{}\".\n", input.name)
        } else {
            format!(
                "haul saved part of \"{}\"; some things went wrong.\n",
                input.name
            )
        };
        if !problems.is_empty() {
            text.push_str("\nWhat failed:\n");
            for p in &problems {
                text.push_str(&format!("- {p}\n"));
            }
        }
        if !notes.is_empty() {
            text.push_str("\nSaved, but worth a look:\n");
            for n in &notes {
                text.push_str(&format!("- {n}\n"));
            }
            if unlisted_notes > 0 {
                text.push_str(&format!(
                    "- … and {unlisted_notes} more; every job's notes are on its card on the status page (`haul status --open`)\n"
                ));
            }
        }
        if !saved_somewhere.is_empty() {
            text.push_str("\nSaved:\n");
            for s in &saved_somewhere {
                text.push_str(&format!("- {s}\n"));
            }
        }
        text.push('\n');
        text.push_str(RETRY_HINT);
        text.push('\n');
        Ok(Report {
            failed,
            text: Some(text),
        })
    }
}

/// A failure for the report: what happened and what to do, then the precise reason.
fn explained(reason: Option<&str>, kind: Option<FailureKind>, otherwise: &str) -> String {
    crate::failure::with_reason(kind.unwrap_or_default(), reason.unwrap_or(otherwise))
}

/// How a report names an item: a web address as it is; one of the user's own photos by its file
/// name, not by the `inbox/processing/…` path it had while its job ran (gone once the input is
/// moved to `done/` or `failed/`).
fn shown_name(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .filter(|u| u.scheme() == "file")
        .and_then(|u| u.to_file_path().ok())
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| url.to_string())
}

/// Moves `taken` into `dir` as `name` — or `name (2)`, `name (3)`, … when taken — writing the
/// report beside it as `<final name>.error.txt`. Never replaces anything. Returns the new path.
pub fn return_input(
    taken: &Path,
    name: &str,
    dir: &Path,
    report: &Report,
) -> std::io::Result<PathBuf> {
    let (stem, ext) = split_name(name);
    for n in 1..10_000u32 {
        let candidate = if n == 1 {
            name.to_string()
        } else {
            format!("{stem} ({n}){ext}")
        };
        let target = dir.join(&candidate);
        let error_file = dir.join(format!("{candidate}.error.txt"));
        if std::fs::symlink_metadata(&target).is_ok()
            || std::fs::symlink_metadata(&error_file).is_ok()
        {
            continue;
        }
        if let Some(text) = &report.text {
            // 0600: a report quotes the input's lines, which are the user's business alone.
            match haul_protocol::private::options()
                .write(true)
                .create_new(true)
                .open(&error_file)
            {
                Ok(mut file) => file.write_all(text.as_bytes())?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        match crate::package::publish(taken, &target) {
            Ok(()) => return Ok(target),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if report.text.is_some() {
                    let _ = std::fs::remove_file(&error_file);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!(
            "{} holds 10000 inputs named {name}; move some away",
            dir.display()
        ),
    ))
}

/// `page.html.gz` → (`page`, `.html.gz`); `SKU-1` → (`SKU-1`, ``). A leading dot is part of the
/// stem.
fn split_name(name: &str) -> (&str, &str) {
    match name.char_indices().skip(1).find(|&(_, c)| c == '.') {
        Some((i, _)) => (&name[..i], &name[i..]),
        None => (name, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sheet whose every picture has a note: the first notes are listed, the rest counted.
    #[test]
    fn a_report_lists_the_first_notes_and_counts_the_rest() {
        use crate::journal::{InputJobs, NewItem, NewJob, SavedMedia};
        use crate::media::Role;
        use haul_protocol::message::MediaKind;

        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("j.sqlite3")).unwrap();
        let mut input = journal
            .create_input("skus.csv", &dir.path().join("processing"))
            .unwrap();
        let job = NewJob {
            label: "skus-A1".into(),
            request: Default::default(),
            out_dir: dir.path().into(),
            package_mode: Default::default(),
        };
        input.jobs = journal
            .create_jobs(
                &[job],
                Some(InputJobs {
                    input: input.id,
                    report: &[],
                }),
            )
            .unwrap();
        let pictures = MAX_LISTED_NOTES + 50;
        let items: Vec<NewItem> = (0..pictures)
            .map(|n| NewItem {
                url: format!("https://media.example/{n}.jpg"),
                kind: MediaKind::Image,
                role: Role::Gallery,
                variant: None,
                variant_id: None,
                code: None,
            })
            .collect();
        let id = input.jobs[0];
        journal
            .plan_job(id, &Default::default(), &items, &[])
            .unwrap();
        for n in 0..pictures {
            let saved = SavedMedia {
                content_type: "image/jpeg".into(),
                ext: "jpg".into(),
                width: Some(320),
                height: Some(240),
                sha256: "ab".into(),
                bytes: 9,
                warnings: vec!["its longest side is 320 px".into()],
            };
            journal.item_saved(id, n as u32, &saved).unwrap();
        }
        let zip = dir.path().join("skus-A1.zip");
        journal
            .finish_job(id, JobState::Complete, Some(&zip), None)
            .unwrap();

        let text = Report::of_jobs(&journal, &input).unwrap().text.unwrap();
        let listed = text.matches("its longest side is 320 px").count();
        assert_eq!(listed, MAX_LISTED_NOTES, "{text}");
        assert!(
            text.contains("- skus-A1: https://media.example/0.jpg: its longest side is 320 px\n"),
            "{text}"
        );
        assert!(
            text.contains("… and 50 more; every job's notes are on its card"),
            "{text}"
        );
        assert!(text.contains(&zip.display().to_string()), "what was saved");
    }

    #[test]
    fn a_photo_is_named_by_its_file_not_its_passing_path() {
        let url = url::Url::from_file_path("/home/me/haul/inbox/processing/12-shoes/side view.jpg")
            .unwrap();
        assert_eq!(shown_name(url.as_str()), "side view.jpg");
        let web = "https://img.example/a.jpg";
        assert_eq!(shown_name(web), web);
    }

    #[test]
    fn clashing_names_get_a_suffix_and_nothing_is_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let done = dir.path().join("done");
        std::fs::create_dir(&done).unwrap();
        std::fs::write(done.join("list.txt"), "first").unwrap();
        let taken = dir.path().join("7-list.txt");
        std::fs::write(&taken, "second").unwrap();
        let report = Report::unreadable("list.txt", "line 2 is not a URL");
        let result = return_input(&taken, "list.txt", &done, &report).unwrap();
        assert_eq!(result, done.join("list (2).txt"));
        assert_eq!(
            std::fs::read_to_string(done.join("list.txt")).unwrap(),
            "first"
        );
        assert_eq!(std::fs::read_to_string(&result).unwrap(), "second");
        let error = std::fs::read_to_string(done.join("list (2).txt.error.txt")).unwrap();
        assert!(
            error.contains("line 2 is not a URL") && error.contains("drop the file"),
            "{error}"
        );

        let folder = dir.path().join("8-SKU-1");
        std::fs::create_dir(&folder).unwrap();
        let ok = Report {
            failed: false,
            text: None,
        };
        let result = return_input(&folder, "SKU-1", &done, &ok).unwrap();
        assert_eq!(result, done.join("SKU-1"));
        assert!(
            !done.join("SKU-1.error.txt").exists(),
            "no report when all went well"
        );
        assert_eq!(split_name("page.html.gz"), ("page", ".html.gz"));
        assert_eq!(split_name(".hidden"), (".hidden", ""));
    }
}
