//! The loom shim: every concurrent structure in this crate imports its atomics, locks, cells and threads
//! from here, never from `std` directly.
//!
//! Built normally, these are `std`'s types. Built with `RUSTFLAGS="--cfg loom"`, they are loom's, which
//! explore every interleaving of a small model. So the code that ships is exactly the code that is model
//! checked (the approach of tokio's `src/loom/`). Constants that size structures shrink under loom (see
//! `runq::LEN`) so models reach the edge cases (a full ring, an overflow) in a handful of steps.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{
            fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
        };
    }
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{
            fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
        };
    }
}

/// Lock a mutex, ignoring poisoning. The runtime's own locks never run user code while held, so a poisoned
/// lock can only mean a panic in the runtime itself, after which the data is still consistent enough to
/// shut down cleanly; refusing the lock would turn one panic into a cascade.
pub(crate) fn lock<T>(m: &sync::Mutex<T>) -> sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// `UnsafeCell` with loom's closure API (`with`, `with_mut`), so loom can track every access.
#[cfg(not(loom))]
pub(crate) mod cell {
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(data: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(data))
        }

        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
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

#[cfg(not(loom))]
pub(crate) mod thread {
    pub(crate) use std::thread::JoinHandle;

    pub(crate) fn current_id() -> std::thread::ThreadId {
        std::thread::current().id()
    }

    pub(crate) fn id_of<T>(h: &JoinHandle<T>) -> std::thread::ThreadId {
        h.thread().id()
    }

    pub(crate) fn spawn_named<F, T>(name: String, f: F) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        std::thread::Builder::new().name(name).spawn(f)
    }
}

#[cfg(loom)]
pub(crate) mod thread {
    pub(crate) use loom::thread::{yield_now, JoinHandle};

    /// loom's JoinHandle does not expose its thread; a runtime is never dropped from one of its own
    /// Ms in a model, so every M thread is "not us".
    pub(crate) fn current_id() -> u64 {
        0
    }

    pub(crate) fn id_of<T>(_h: &JoinHandle<T>) -> u64 {
        1
    }

    pub(crate) fn spawn_named<F, T>(_name: String, f: F) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Ok(loom::thread::spawn(f))
    }
}
