//! The loom shim: every concurrent structure in this crate imports its atomics, locks, cells and `yield_now`
//! from here, never from `std` directly.
//!
//! Built normally these are `std`'s types. Built with `RUSTFLAGS="--cfg loom"` they are loom's, which explore
//! every interleaving of a small model, so the wait-slot protocol that ships (`pollsema.rs`) is exactly the one
//! that is model-checked. The runtime crate has a larger shim of its own; this crate keeps a separate one so
//! it stays usable (and testable) without the scheduler.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
    pub(crate) use std::sync::TryLockError;

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    }
}

/// Lock a mutex, ignoring poisoning. This crate never runs user code (a `Waker`'s clone, wake or drop)
/// while holding one of its locks, so a poisoned lock means a panic in this crate's own bookkeeping; the
/// data is still consistent, and refusing the lock would turn one panic into a cascade.
pub(crate) fn lock<T>(m: &sync::Mutex<T>) -> sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// `UnsafeCell` with loom's closure API (`with_mut`), so loom can check every access for races.
#[cfg(not(loom))]
pub(crate) mod cell {
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(data: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(data))
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(loom)]
pub(crate) mod cell {
    pub(crate) use loom::cell::UnsafeCell;
}

pub(crate) mod thread {
    #[cfg(loom)]
    pub(crate) use loom::thread::yield_now;
    #[cfg(not(loom))]
    pub(crate) use std::thread::yield_now;
}
