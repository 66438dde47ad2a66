//! A folder of the seller's own images, with an optional `skus.csv` (`file,sku,slot`): one job
//! whose entries are named `SKU.SLOT.<ext>` for Seller Central, processed with the config's
//! `seller_preset` (`amazon-listing` by default). Without `skus.csv` the folder's name is the
//! SKU; files without a slot take `MAIN`, `PT01`, `PT02`, … in name order. Nothing in it is read
//! through a link ([`crate::own_file`]).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::reading::{
    Context, InputError, MAX_FOLDER_IMAGES, MAX_LIST_BYTES, Reading, display_name, open_own,
    read_capped,
};
use super::text;
use crate::jobs::Submission;
use crate::naming::{self, SellerSlot};
use crate::own_file::{self, Entry};
use crate::request::LocalFile;

/// Image files a seller's folder may hold (by extension; the bytes are checked when stored).
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "webp", "tif", "tiff", "bmp", "heic", "heif",
];
/// The optional mapping of a seller's folder.
const SKUS_FILE: &str = "skus.csv";

/// One image of a seller's folder and where it goes.
struct Assigned {
    path: PathBuf,
    sku: String,
    slot: Option<SellerSlot>,
}

/// A folder of the seller's own images: one job, entries `SKU.SLOT.<ext>`.
pub fn read(dir: &Path, context: &Context<'_>) -> Result<Reading, InputError> {
    let mut reading = Reading::default();
    let mut images: Vec<(String, PathBuf)> = Vec::new();
    let mut skus_file = None;
    for entry in std::fs::read_dir(dir)?.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // Looked at without following links; a link is reported and never read (the image
        // itself is read later through own_file::open, which refuses one swapped in).
        let entry = match own_file::look(&path) {
            Ok(Ok(entry)) => entry,
            Ok(Err(refusal)) => {
                if name.eq_ignore_ascii_case(SKUS_FILE) {
                    return Err(InputError::Refused(refusal.explain(&name)));
                }
                reading
                    .problems
                    .push(format!("{}; left out", refusal.explain(&name)));
                continue;
            }
            Err(e) => {
                reading
                    .problems
                    .push(format!("cannot read {name}: {e}; left out"));
                continue;
            }
        };
        if entry == Entry::Folder {
            reading.problems.push(format!(
                "{name}/: folders inside the folder are not read; put the images directly in it"
            ));
        } else if name.eq_ignore_ascii_case(SKUS_FILE) {
            skus_file = Some(path);
        } else if is_image_name(&name) {
            images.push((name, path));
        } else {
            reading.problems.push(format!(
                "{name}: not an image file (JPEG, PNG, WebP, TIFF); left out"
            ));
        }
    }
    if images.len() > MAX_FOLDER_IMAGES {
        return Err(InputError::TooManyImages);
    }
    images.sort();
    let assigned = match skus_file {
        Some(csv) => assign_by_skus_csv(&csv, &images, &mut reading.problems)?,
        None => {
            let sku = naming::amazon_identifier(context.name)
                .map_err(|_| InputError::FolderSku(context.name.to_string()))?;
            images
                .into_iter()
                .map(|(_, path)| Assigned {
                    path,
                    sku: sku.clone(),
                    slot: None,
                })
                .collect()
        }
    };
    let local_files = slot_files(assigned, &mut reading.problems);
    if !local_files.is_empty() {
        reading.submissions.push(Submission {
            name: Some(context.name.to_string()),
            preset: Some(context.config.seller_preset.clone()),
            local_files,
            ..Default::default()
        });
    }
    Ok(reading)
}

fn is_image_name(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Reads `skus.csv` (`file`, `sku` or `asin`, optional `slot`); rows that cannot be used, and
/// images it does not list, become problems.
fn assign_by_skus_csv(
    csv: &Path,
    images: &[(String, PathBuf)],
    problems: &mut Vec<String>,
) -> Result<Vec<Assigned>, InputError> {
    let rows = text::csv_rows(
        &text::decode(&read_capped(open_own(csv)?, MAX_LIST_BYTES)?),
        super::table::MAX_ROWS,
    )
    .map_err(InputError::Skus)?;
    let Some(((_, header), rows)) = rows.split_first() else {
        return Err(InputError::Skus(
            "it is empty; its first line must be file,sku,slot".into(),
        ));
    };
    let keys: Vec<String> = header.iter().map(|h| text::header_key(h)).collect();
    let column = |names: &[&str]| keys.iter().position(|k| names.contains(&k.as_str()));
    let (Some(file_col), Some(sku_col)) = (
        column(&["file", "filename", "file_name", "image", "photo"]),
        column(&["sku", "seller_sku", "asin", "item_sku"]),
    ) else {
        return Err(InputError::Skus(
            "its first line must name the columns file and sku (and optionally slot)".into(),
        ));
    };
    let slot_col = column(&["slot", "position", "image_slot"]);
    let by_name: BTreeMap<String, &PathBuf> = images
        .iter()
        .map(|(name, path)| (name.to_lowercase(), path))
        .collect();
    let mut listed = HashSet::new();
    // Images whose row was refused: left out because of that row, not because it is missing.
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut assigned = Vec::new();
    for (line, cells) in rows {
        let cell = |i: usize| cells.get(i).map_or("", String::as_str);
        let file = cell(file_col);
        let Some(path) = by_name.get(&file.to_lowercase()) else {
            problems.push(format!(
                "skus.csv line {line}: there is no image {file:?} in the folder"
            ));
            continue;
        };
        let sku = match naming::amazon_identifier(cell(sku_col)) {
            Ok(sku) => sku,
            Err(e) => {
                problems.push(format!("skus.csv line {line}: {e}"));
                refused.entry(file.to_lowercase()).or_insert(*line);
                continue;
            }
        };
        let slot = match slot_col.map(cell).filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => match SellerSlot::parse(text) {
                Some(slot) => Some(slot),
                None => {
                    problems.push(format!(
                        "skus.csv line {line}: slot {text:?} is not a Seller Central image code (MAIN, PT01–PT99, SWCH, FRNT, FACT, INGR, …)"
                    ));
                    refused.entry(file.to_lowercase()).or_insert(*line);
                    continue;
                }
            },
        };
        listed.insert(file.to_lowercase());
        assigned.push(Assigned {
            path: (*path).clone(),
            sku,
            slot,
        });
    }
    for (name, _) in images {
        let key = name.to_lowercase();
        if listed.contains(&key) {
            continue;
        }
        match refused.get(&key) {
            Some(line) => problems.push(format!(
                "{name}: left out, because its row in skus.csv (line {line}) could not be used"
            )),
            None => problems.push(format!("{name}: not listed in skus.csv; left out")),
        }
    }
    Ok(assigned)
}

/// Gives every image its slot: the ones `skus.csv` placed keep theirs; the rest of each SKU, in
/// file-name order, take `MAIN` when it is free, then the free `PTnn` in order. Two images for
/// one slot keep the first and report the second.
fn slot_files(assigned: Vec<Assigned>, problems: &mut Vec<String>) -> Vec<LocalFile> {
    let mut by_sku: BTreeMap<String, Vec<Assigned>> = BTreeMap::new();
    for a in assigned {
        by_sku.entry(a.sku.clone()).or_default().push(a);
    }
    let mut files = Vec::new();
    for (sku, mut images) in by_sku {
        images.sort_by(|a, b| a.path.cmp(&b.path));
        let mut taken: BTreeMap<SellerSlot, PathBuf> = BTreeMap::new();
        for image in images.iter().filter(|a| a.slot.is_some()) {
            let slot = image.slot.unwrap_or(SellerSlot::Main);
            if let Some(first) = taken.get(&slot) {
                problems.push(format!(
                    "{}: {sku}.{} is already {}; left out",
                    display_name(&image.path),
                    slot.code(),
                    display_name(first)
                ));
                continue;
            }
            taken.insert(slot, image.path.clone());
        }
        let mut next_other = 1u16;
        for image in images.iter().filter(|a| a.slot.is_none()) {
            let slot = if !taken.contains_key(&SellerSlot::Main) {
                SellerSlot::Main
            } else {
                while taken.contains_key(&SellerSlot::Other(next_other)) {
                    next_other += 1;
                }
                SellerSlot::Other(next_other)
            };
            taken.insert(slot, image.path.clone());
        }
        if taken
            .keys()
            .any(|s| matches!(s, SellerSlot::Other(n) if *n > naming::SELLER_CENTRAL_SHOWN))
        {
            problems.push(format!(
                "{sku}: images after PT{0:02}; Seller Central takes them, but a listing shows only PT01–PT{0:02}",
                naming::SELLER_CENTRAL_SHOWN
            ));
        }
        for (slot, path) in taken {
            files.push(LocalFile {
                path,
                name: format!("{sku}.{}", slot.code()),
                main: slot == SellerSlot::Main,
            });
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `skus.csv` names any Seller Central code; each image keeps the one it is given, the rest
    /// fill `MAIN` and the free `PTnn`.
    #[test]
    fn skus_csv_slots_keep_their_codes() {
        let dir = tempfile::tempdir().unwrap();
        let mut images = Vec::new();
        for name in ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"] {
            let path = dir.path().join(name);
            std::fs::write(&path, b"x").unwrap();
            images.push((name.to_string(), path));
        }
        let csv = dir.path().join(SKUS_FILE);
        std::fs::write(
            &csv,
            "file,sku,slot\na.jpg,BAR1,fact\nb.jpg,BAR1,PT12\nc.jpg,BAR1,\nd.jpg,BAR1,\ne.jpg,BAR1,PT00\n",
        )
        .unwrap();
        let mut problems = Vec::new();
        let assigned = assign_by_skus_csv(&csv, &images, &mut problems).unwrap();
        let files = slot_files(assigned, &mut problems);
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["BAR1.MAIN", "BAR1.PT01", "BAR1.PT12", "BAR1.FACT"]);
        assert!(files[0].main && !files[3].main);
        let problems = problems.join("\n");
        assert!(
            problems.contains("line 6")
                && problems.contains("\"PT00\" is not a Seller Central image code"),
            "{problems}"
        );
        // Its row was refused: it is left out for that, not as an image the sheet forgot.
        assert!(
            problems.contains("e.jpg: left out, because its row in skus.csv (line 6)")
                && !problems.contains("e.jpg: not listed"),
            "{problems}"
        );
        assert!(problems.contains("after PT08"), "{problems}");
    }
}
