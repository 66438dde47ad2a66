//! The import rule, enforced: the library's top-level modules sit in layers (the table of
//! `docs/architecture.md`, "Layers"), and a module may use only modules of *lower* layers — never
//! one of its own layer, never one above, so no module imports its caller and no change can tie
//! two layers into a knot. The test reads every `crate::<module>` path outside comments and tests
//! in each module's files and checks it against [`LAYERS`]; a new module must be given its place
//! here and in the document, which the test compares.

/// The layers, lowest first.
const LAYERS: &[&[&str]] = &[
    &["failure", "media", "memory"],
    &["format", "held", "own_file", "privacy", "shares", "watch"],
    &["extract", "process"],
    &["naming"],
    &["config", "request"],
    &["journal"],
    &["fetch", "package"],
    &["jobs"],
    &["export", "input", "outputs"],
    &["inbox", "status"],
    &["install", "ipc"],
    &["daemon"],
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use super::LAYERS;

    fn src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    fn layer_of(module: &str) -> Option<usize> {
        LAYERS.iter().position(|layer| layer.contains(&module))
    }

    /// The Rust files of a top-level module: `x.rs`, or everything under `x/`.
    fn files_of(module: &str) -> Vec<PathBuf> {
        let single = src().join(format!("{module}.rs"));
        let mut files = Vec::new();
        if single.is_file() {
            files.push(single);
        }
        let mut dirs = vec![src().join(module)];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        files
    }

    /// The top-level modules `text` names as `crate::<module>`, outside comments and outside its
    /// `#[cfg(test)]` module (tests may reach anywhere).
    fn uses(text: &str) -> BTreeSet<String> {
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
        let mut found = BTreeSet::new();
        for line in code.lines() {
            let line = line.trim_start();
            if line.starts_with("//") {
                continue;
            }
            for (at, _) in line.match_indices("crate::") {
                let rest = &line[at + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                // `haul_protocol::…` and `$crate::` are not this crate's modules.
                let before = &line[..at];
                if !name.is_empty() && !before.ends_with('_') && !before.ends_with('$') {
                    found.insert(name);
                }
            }
        }
        found
    }

    /// The top-level modules `lib.rs` declares.
    fn declared() -> Vec<String> {
        let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
        lib.lines()
            .filter_map(|l| l.trim().strip_prefix("pub mod "))
            .map(|m| m.trim_end_matches(';').to_string())
            .collect()
    }

    #[test]
    fn every_module_has_a_layer_and_imports_only_lower_ones() {
        let mut broken = Vec::new();
        for module in declared() {
            let Some(own) = layer_of(&module) else {
                broken.push(format!("{module} has no layer in LAYERS (src/layers.rs)"));
                continue;
            };
            for file in files_of(&module) {
                let text = std::fs::read_to_string(&file).unwrap();
                for used in uses(&text) {
                    if used == module {
                        continue;
                    }
                    match layer_of(&used) {
                        Some(layer) if layer < own => {}
                        Some(layer) => broken.push(format!(
                            "{} (layer {own}) uses crate::{used} (layer {layer})",
                            file.strip_prefix(src()).unwrap_or(&file).display()
                        )),
                        None => {}
                    }
                }
            }
        }
        assert!(
            broken.is_empty(),
            "imports against the layers:\n{}",
            broken.join("\n")
        );
    }

    /// `docs/architecture.md` shows the same layers.
    #[test]
    fn the_document_shows_these_layers() {
        let doc = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/architecture.md"),
        )
        .unwrap();
        let documented: Vec<Vec<String>> = doc
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                cells.get(1)?.parse::<usize>().ok()?;
                let mut modules: Vec<String> = cells
                    .get(2)?
                    .split(',')
                    .map(|m| m.trim().trim_matches('`').to_string())
                    .collect();
                modules.sort();
                Some(modules)
            })
            .collect();
        let expected: Vec<Vec<String>> = LAYERS
            .iter()
            .map(|layer| {
                let mut modules: Vec<String> = layer.iter().map(|m| m.to_string()).collect();
                modules.sort();
                modules
            })
            .collect();
        assert_eq!(documented, expected);
    }

    /// The check finds an upward import (the journal naming the engine, say).
    #[test]
    fn an_upward_import_is_seen() {
        let used = uses(
            "use crate::jobs::Engine;\n// crate::status in a comment\nlet x = haul_protocol::x; crate::naming::slug(a);\n#[cfg(test)]\nmod tests {\n use crate::daemon;\n}",
        );
        assert_eq!(
            used.into_iter().collect::<Vec<_>>(),
            ["jobs".to_string(), "naming".to_string()]
        );
    }
}
