//! Native file events for a folder, where the platform and the file system offer them.
//!
//! Both watched folders — the inbox ([`crate::inbox`]) and the output folder
//! ([`crate::package::upkeep`]) — treat events only as a hint to look sooner: a network share or
//! some mounts send none, and a platform may offer no watcher at all. So a folder that cannot be
//! watched is not an error; the caller is told (`None`) and looks at the folder on a timer
//! instead, and the reason is logged once here.

use std::path::Path;
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

/// Starts watching `dir`, calling `handler` for every event. `None` when no native events are
/// available: the caller then looks at `what` every `fallback` instead.
pub fn watch_folder(
    dir: &Path,
    mode: RecursiveMode,
    what: &str,
    fallback: Duration,
    handler: impl notify::EventHandler,
) -> Option<RecommendedWatcher> {
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "no file events for {what}; looking at it every {fallback:?}");
            return None;
        }
    };
    match watcher.watch(dir, mode) {
        Ok(()) => Some(watcher),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot watch {what}; looking at it every {fallback:?}");
            None
        }
    }
}
