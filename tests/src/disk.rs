//! Small disks for fault tests: a tmpfs of a chosen size (or read-only) mounted over a folder of
//! a test home, to make "the disk is full" and "the disk is read-only" real. Mounting needs root
//! (CI's containers run as root); elsewhere [`SmallDisk::mount`] says why the test is skipped
//! and returns `None`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted over a folder; unmounted when dropped.
pub struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `bytes` over `path` (created when missing), read-only when `read_only`.
    /// `None`, with a message on stderr, where this process may not mount.
    pub fn mount(path: &Path, bytes: u64, read_only: bool) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).expect("the folder to mount over");
        let mut options = format!("size={bytes},mode=0700");
        if read_only {
            options.push_str(",ro");
        }
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &options, "haul-test"])
            .arg(path)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(SmallDisk {
                path: path.to_path_buf(),
            }),
            Ok(out) => {
                eprintln!(
                    "SKIPPED: cannot mount a small disk (needs root): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount: {e}");
                None
            }
        }
    }

    /// Writes a file of zeros into the disk until it is full; returns its path.
    pub fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path.join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        let block = vec![0u8; 64 * 1024];
        // Whole blocks, then single bytes, until the disk takes no more.
        while file.write_all(&block).is_ok() {}
        while file.write_all(&[0]).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: a file a test left open must not keep the mount (and the temp folder) alive.
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Every entry of `dir`, hidden ones too, by name (sorted); empty when `dir` is missing.
pub fn all_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
