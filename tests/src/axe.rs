//! axe-core — the accessibility engine behind the browsers' own audits — run inside a page the
//! suite has open in Chromium. It is not part of the repository: `.ci/run` installs it from the
//! npm registry into `target/axe/` (`npm install --prefix target/axe axe-core@4`), or
//! `HAUL_AXE_JS` names an `axe.min.js`. Without it a test says so and skips the check, unless
//! `HAUL_REQUIRE_BROWSER=1` (as in CI), where its absence fails the test.

use std::path::PathBuf;

use crate::browser::{Browser, target_dir};

/// Where axe-core's script is, if installed.
pub fn script_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HAUL_AXE_JS") {
        return Some(PathBuf::from(path));
    }
    let installed = target_dir().join("axe/node_modules/axe-core/axe.min.js");
    installed.is_file().then_some(installed)
}

/// The serious and critical violations axe-core finds in the page `browser` shows, one line
/// each (rule, what it means, the first offending element); `None` when axe-core is not
/// installed and the browser is not required.
pub fn serious_violations(browser: &mut Browser, what: &str) -> Option<Vec<String>> {
    let Some(path) = script_path() else {
        assert!(
            std::env::var_os("HAUL_REQUIRE_BROWSER").is_none(),
            "axe-core is not installed: run `npm install --prefix target/axe axe-core@4` (or set HAUL_AXE_JS)"
        );
        eprintln!(
            "skipping the axe-core check of {what}: axe-core is not installed (npm install --prefix target/axe axe-core@4)"
        );
        return None;
    };
    let script = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    browser.eval(&format!("{script}\n;true"));
    let found = browser.eval(
        r#"axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} element(s), first ${v.nodes[0] ? v.nodes[0].html.slice(0, 120) : ''}`))"#,
    );
    Some(
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    )
}
