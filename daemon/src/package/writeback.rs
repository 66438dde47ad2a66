//! Handing a package's bytes to the disk while it is still being written. A package is synced
//! before it is published, and that sync waits for every byte to reach the disk: written first
//! and synced after, a 26 MB package (W1: twelve pictures and a 20 MB video) waited 15–17 ms at
//! the end of the job for writes that could have run beside the copying. So every
//! [`STEP`] bytes written, the file's new pages are queued for writing out (Linux's
//! `sync_file_range` with `SYNC_FILE_RANGE_WRITE`, which starts the writes and does not wait for
//! them); the final sync then waits only for what is left. It changes when bytes go to the disk,
//! never which bytes: the sync at the end is what makes the package durable, as before.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};

/// How many newly written bytes are queued for the disk at a time.
const STEP: u64 = 4 << 20;

/// A file being written whose pages go to the disk as it grows.
pub struct Writeback {
    file: File,
    /// Where the next write lands.
    position: u64,
    /// Everything before this offset has been queued for the disk.
    queued: u64,
}

impl Writeback {
    pub fn new(file: File) -> Writeback {
        Writeback {
            file,
            position: 0,
            queued: 0,
        }
    }

    /// The file, to be synced.
    pub fn into_inner(self) -> File {
        self.file
    }

    /// Queues the pages written since the last call, once there are [`STEP`] bytes of them.
    fn queue_written(&mut self) {
        if self.position >= self.queued + STEP {
            start_writing(&self.file, self.queued, self.position - self.queued);
            self.queued = self.position;
        }
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.position += n as u64;
        self.queue_written();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Seek for Writeback {
    /// A seek back (the ZIP writer filling in an entry's header) rewrites pages already queued;
    /// the final sync writes them again.
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.position = self.file.seek(pos)?;
        Ok(self.position)
    }
}

/// Starts writing `len` bytes of `file` from `offset` to the disk, without waiting. A failure is
/// left to the final sync, which reports it.
#[cfg(target_os = "linux")]
fn start_writing(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: the descriptor is open for as long as `file` is borrowed; the call takes no
    // pointer and only schedules writes of the file's own pages.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writing(_: &File, _: u64, _: u64) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes written through it, seeks back included, are the file's bytes, and what was
    /// queued never runs past what was written.
    #[test]
    fn the_file_gets_exactly_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.zip");
        let mut out = Writeback::new(File::create(&path).unwrap());
        let block: Vec<u8> = (0..STEP + 123).map(|i| (i % 253) as u8).collect();
        out.write_all(b"head").unwrap();
        out.write_all(&block).unwrap();
        assert_eq!(out.queued, 4 + STEP + 123, "a step's worth was queued");
        out.seek(SeekFrom::Start(0)).unwrap();
        out.write_all(b"HEAD").unwrap();
        assert_eq!(out.queued, 4 + STEP + 123, "a rewrite queues nothing new");
        out.seek(SeekFrom::End(0)).unwrap();
        out.write_all(b"tail").unwrap();
        out.into_inner().sync_all().unwrap();
        let expected = [&b"HEAD"[..], &block, b"tail"].concat();
        assert_eq!(std::fs::read(&path).unwrap(), expected);
    }
}
