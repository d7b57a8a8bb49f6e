//! The loom shim: every concurrent structure in this crate, and in the runtime crate (gort, through its
//! `util::loom`), imports its atomics, locks and cells from here, never from `std` directly.
//!
//! Built normally these are `std`'s types. Built with `RUSTFLAGS="--cfg loom"` they are loom's, which explore
//! every interleaving of a small model, so the wait-slot protocol that ships (`pollsema.rs`) is exactly the one
//! that is model-checked (the approach of tokio's `src/loom/`). It lives in this crate because this crate
//! sits below the scheduler and must stay usable (and testable) without it; gort's `util::loom` re-exports
//! `sync`, `cell` and `lock` from here and adds only the thread helpers the scheduler's Ms need. So it is
//! public, but hidden from the docs: it is plumbing shared by two crates of one workspace, not an API.

#[cfg(not(loom))]
pub mod sync {
    pub use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};

    pub mod atomic {
        pub use std::sync::atomic::{
            fence, AtomicBool, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize,
            Ordering,
        };
    }
}

#[cfg(loom)]
pub mod sync {
    pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
    pub use std::sync::TryLockError;

    pub mod atomic {
        pub use loom::sync::atomic::{
            fence, AtomicBool, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize,
            Ordering,
        };
    }
}

/// Lock a mutex, ignoring poisoning. Neither this crate nor the runtime runs user code (a `Waker`'s clone,
/// wake or drop, a task's poll) while holding one of its own locks, so a poisoned lock means a panic in
/// their own bookkeeping; the data is still consistent, and refusing the lock would turn one panic into a
/// cascade.
pub fn lock<T>(m: &sync::Mutex<T>) -> sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// `UnsafeCell` with loom's closure API (`with`, `with_mut`), so loom can check every access for races.
#[cfg(not(loom))]
pub mod cell {
    #[derive(Debug)]
    pub struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub const fn new(data: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(data))
        }

        #[inline(always)]
        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline(always)]
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(loom)]
pub mod cell {
    pub use loom::cell::UnsafeCell;
}

/// `yield_now`, for the spin in `pollsema.rs` (gort's scheduler has its own `thread` module for its Ms).
pub(crate) mod thread {
    #[cfg(loom)]
    pub(crate) use loom::thread::yield_now;
    #[cfg(not(loom))]
    pub(crate) use std::thread::yield_now;
}
