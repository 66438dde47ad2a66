//! Native file events for a folder, where the platform and the file system offer them.
//!
//! Both watched folders — the inbox ([`crate::inbox`]) and the output folder
//! ([`crate::outputs`]) — treat events only as a hint to look sooner: a network share or
//! some mounts send none, and a platform may offer no watcher at all. So a folder that cannot be
//! watched is not an error; the caller is told (`None`) and looks at the folder on a timer
//! instead, and the reason is logged once here.

use std::path::Path;
use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

/// Starts watching `dir`, calling `handler` for every event that may mean a change. `None` when
/// no native events are available: the caller then looks at `what` every `fallback` instead.
///
/// Access events (a file or the folder itself opened, read or closed unchanged) are dropped
/// here: the callers look at the folder when woken, and on Linux looking — opening the folder to
/// list it — is itself an event, so passing them on would wake the caller forever.
pub fn watch_folder(
    dir: &Path,
    mode: RecursiveMode,
    what: &str,
    fallback: Duration,
    mut handler: impl notify::EventHandler,
) -> Option<RecommendedWatcher> {
    let changes_only = move |result: notify::Result<notify::Event>| {
        if let Ok(event) = &result
            && matches!(event.kind, EventKind::Access(_))
        {
            return;
        }
        handler.handle_event(result);
    };
    // Links are not followed: a link into another folder must not make haul watch it.
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher = match <RecommendedWatcher as notify::Watcher>::new(changes_only, config) {
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use super::*;

    /// Looking at a watched folder must not wake its watcher (that was a busy loop: the inbox
    /// listed its folder on every event, and listing it was an event).
    #[test]
    fn looking_at_the_folder_is_not_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let seen: Arc<Mutex<Vec<notify::Event>>> = Arc::default();
        let sink = seen.clone();
        let Some(_watcher) = watch_folder(
            dir.path(),
            RecursiveMode::Recursive,
            "a test folder",
            Duration::from_secs(1),
            move |e: notify::Result<notify::Event>| sink.lock().unwrap().extend(e.ok()),
        ) else {
            eprintln!("skipping: no native file events here");
            return;
        };
        std::fs::write(dir.path().join("before"), b"x").unwrap();
        let _ = std::fs::read(dir.path().join("before")).unwrap();
        for _ in 0..5 {
            let _ = std::fs::read_dir(dir.path()).unwrap().count();
        }
        std::fs::write(dir.path().join("marker"), b"x").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let has_marker = |events: &[notify::Event]| {
            events
                .iter()
                .any(|e| e.paths.iter().any(|p| p.ends_with("marker")))
        };
        while !has_marker(&seen.lock().unwrap()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let events = seen.lock().unwrap();
        assert!(has_marker(&events), "the new file is seen: {events:?}");
        assert!(
            events
                .iter()
                .all(|e| !matches!(e.kind, EventKind::Access(_))),
            "{events:?}"
        );
        assert!(
            events
                .iter()
                .all(|e| e.paths.iter().all(|p| p != dir.path())),
            "nothing about the folder itself: {events:?}"
        );
    }
}
