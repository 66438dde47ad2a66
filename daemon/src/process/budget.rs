//! One memory budget for every image conversion the process runs at a time: a semaphore
//! weighted by bytes.
//!
//! Why: limits per decode bound one image, not several. Two hostile images converted at once
//! each stayed within their own limit and together took 8.8 GiB. Each conversion works out what
//! it will allocate from the header alone ([`super::convert`]) and reserves that much before
//! decoding: more than the whole budget is refused with a clear error; otherwise it waits until
//! earlier conversions have given enough back. Conversions run on the blocking pool, so the wait
//! is a condition variable, not an async semaphore.

use std::sync::{Condvar, Mutex};

/// Bytes all conversions of the process may hold at once: enough for a 24-megapixel photo
/// converted at full size, while the daemon as a whole stays near 128 MiB.
pub const CONVERT_MEMORY: u64 = 88 << 20;

/// The budget every conversion of the process shares.
pub static CONVERSIONS: MemoryBudget = MemoryBudget::new(CONVERT_MEMORY);

/// A byte-weighted semaphore.
#[derive(Debug)]
pub struct MemoryBudget {
    total: u64,
    used: Mutex<u64>,
    returned: Condvar,
}

/// Bytes held from a [`MemoryBudget`] until dropped.
#[derive(Debug)]
pub struct Reservation<'a> {
    budget: &'a MemoryBudget,
    bytes: u64,
}

/// A reservation larger than the whole budget: it could never be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget {
    pub needed: u64,
    pub total: u64,
}

impl MemoryBudget {
    pub const fn new(total: u64) -> MemoryBudget {
        MemoryBudget {
            total,
            used: Mutex::new(0),
            returned: Condvar::new(),
        }
    }

    /// The budget's size.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Reserves `bytes`, waiting while other reservations hold too much of the budget.
    pub fn reserve(&self, bytes: u64) -> Result<Reservation<'_>, OverBudget> {
        if bytes > self.total {
            return Err(OverBudget {
                needed: bytes,
                total: self.total,
            });
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        while *used + bytes > self.total {
            used = self.returned.wait(used).unwrap_or_else(|p| p.into_inner());
        }
        *used += bytes;
        Ok(Reservation {
            budget: self,
            bytes,
        })
    }

    /// Bytes reserved now.
    pub fn in_use(&self) -> u64 {
        *self.used.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut used = self.budget.used.lock().unwrap_or_else(|p| p.into_inner());
        *used = used.saturating_sub(self.bytes);
        self.budget.returned.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn reservations_wait_for_each_other_and_the_impossible_is_refused() {
        let budget = Arc::new(MemoryBudget::new(100));
        assert_eq!(
            budget.reserve(101).err(),
            Some(OverBudget {
                needed: 101,
                total: 100
            })
        );
        let first = budget.reserve(70).unwrap();
        let waiting = {
            let budget = budget.clone();
            std::thread::spawn(move || {
                let _second = budget.reserve(60).unwrap();
                budget.in_use()
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            !waiting.is_finished(),
            "70 + 60 is over 100: the second waits"
        );
        drop(first);
        assert_eq!(waiting.join().unwrap(), 60);
        assert_eq!(budget.in_use(), 0);
    }
}
