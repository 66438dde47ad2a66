//! Downloaded files kept in memory from the last byte received to the package, so that a file is
//! written once (its partial file, for crash safety, as any downloader writes it) and never read
//! back: cleaning, hashing and packaging all work on the bytes the download already holds.
//!
//! Only images are held: a response whose first bytes say video goes to its partial file at once,
//! since a video's partial file is what a restart after a crash resumes with `Range` (a held
//! image cut off by a crash is fetched again, at most [`MAX_FILE`] bytes).
//!
//! Memory stays flat because every held file takes its size from one budget for the whole
//! engine ([`MemoryBudget`]). A file that does not fit — a video, a large image, or any file while
//! the budget is spent — takes the disk path instead (streamed to its partial file, read back to
//! clean and to package), which gives the same stored bytes; only its cost differs.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes the whole engine may hold in downloaded files at once.
pub const DEFAULT_BUDGET: usize = 24 << 20;

/// Largest file held in memory; larger ones stream to disk.
pub const MAX_FILE: u64 = 8 << 20;

/// The engine's budget of held bytes.
#[derive(Debug, Clone)]
pub struct MemoryBudget(Arc<Semaphore>);

impl MemoryBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> MemoryBudget {
        MemoryBudget(Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))))
    }

    /// Room for a file of `size` bytes, if it is small enough and the budget has it now (never
    /// waits: a file without room takes the disk path).
    pub fn try_take(&self, size: u64) -> Option<Room> {
        if size > MAX_FILE {
            return None;
        }
        let n = u32::try_from(size.max(1)).ok()?;
        self.0
            .clone()
            .try_acquire_many_owned(n)
            .ok()
            .map(|p| Room { _permit: p })
    }

    /// Bytes not held now.
    pub fn available(&self) -> usize {
        self.0.available_permits()
    }
}

/// A share of the budget; given back when dropped.
#[derive(Debug)]
pub struct Room {
    _permit: OwnedSemaphorePermit,
}

/// A whole downloaded file in memory, with the share of the budget it takes.
#[derive(Debug, Clone)]
pub struct Held {
    pub data: Bytes,
    _room: Arc<Room>,
}

impl Held {
    pub fn new(data: Bytes, room: Room) -> Held {
        Held {
            data,
            _room: Arc::new(room),
        }
    }

    /// `value` (what was made from the file: its cleaned pieces), keeping the file's share of
    /// the budget while it lives.
    pub fn keep<T>(&self, value: T) -> Kept<T> {
        Kept {
            value,
            _room: self._room.clone(),
        }
    }
}

/// Something made from a held file that keeps its share of the budget while it lives.
#[derive(Debug, Clone)]
pub struct Kept<T> {
    pub value: T,
    _room: Arc<Room>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_held_only_within_the_budget_and_give_it_back() {
        let budget = MemoryBudget::new(1000);
        let a = budget.try_take(600).expect("fits");
        assert!(budget.try_take(600).is_none(), "over the budget");
        assert!(
            MemoryBudget::new(100 << 20)
                .try_take(MAX_FILE + 1)
                .is_none()
        );
        let held = Held::new(Bytes::from_static(b"x"), a);
        let kept = held.keep(3);
        drop(held);
        assert_eq!(budget.available(), 400, "what is kept still counts");
        drop(kept);
        assert_eq!(budget.available(), 1000);
    }
}
