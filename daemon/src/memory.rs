//! Keeping the daemon's resident memory close to what it actually uses. glibc's allocator gives
//! every thread that allocates an arena of its own (up to eight per core) and keeps the memory
//! freed in each for reuse, so a long-running daemon with a few dozen tokio and blocking threads
//! holds pages nothing uses: after a 200,000-item grab it stayed at 3.37 GB resident, and W3's
//! 10,000 URL lists plateaued over 64 MiB. Two arenas, and handing free pages back when a large
//! piece of work ends, keep it flat (other allocators need neither).

/// Limits the allocator to two arenas; called once, before the runtime starts its threads.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes no pointer; it changes a setting of the allocator, and is called
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Gives the pages freed so far back to the system.
pub fn give_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer; it only releases the allocator's own free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}
