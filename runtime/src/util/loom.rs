//! The loom shim: every concurrent structure in this crate imports its atomics, locks, cells and threads
//! from here, never from `std` directly.
//!
//! Built normally, these are `std`'s types. Built with `RUSTFLAGS="--cfg loom"`, they are loom's, which
//! explore every interleaving of a small model. So the code that ships is exactly the code that is model
//! checked (the approach of tokio's `src/loom/`). Constants that size structures shrink under loom (see
//! `runq::LEN`) so models reach the edge cases (a full ring, an overflow) in a handful of steps.
//!
//! The atomics, locks, cells and [`lock`] are the netpoller's shim (`netpoll/src/loom.rs`), re-exported:
//! the netpoller sits below the scheduler and needs them too, and one definition means both crates are
//! model-checked against the same types. What only the scheduler needs, threads for its Ms, is here.

pub(crate) use netpoll::loom::{cell, lock, sync};

/// Go's runtime lock (runtime/lock_futex.go: `lock2`), for the lock every channel operation takes
/// when it cannot use the lock-free ring. `lock2` spins a little, then yields the CPU, and only then
/// sleeps in the kernel; `std`'s `Mutex` goes to sleep after a short spin, so on a channel that both
/// cores hammer, waiters keep falling asleep and every contended unlock pays a futex wake.
/// parking_lot's `Mutex` spins and yields before it parks, as `lock2` does: on the contended channel
/// shapes it halves the time (design.md, Measurements, "the channel lock"). Under loom, loom's
/// `Mutex`, so the models check the same code.
pub(crate) mod golock {
    #[cfg(loom)]
    pub(crate) use super::lock;
    #[cfg(loom)]
    pub(crate) use loom::sync::{Mutex, MutexGuard};
    #[cfg(not(loom))]
    pub(crate) use parking_lot::{Mutex, MutexGuard};

    /// Take `m` (parking_lot's locks are not poisoned by a panic).
    #[cfg(not(loom))]
    #[inline]
    pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock()
    }
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
