//! Run an initialisation exactly once: Go's sync/once.go (`Do`, `doSlow`).
//!
//! A `done` flag answers the common case without locking. Callers that find it unset take a mutex, check
//! again, run the function and set the flag before unlocking, so concurrent callers wait until the first
//! call has *finished*, not merely started (why a bare compare-and-swap on `done` would be wrong: a second
//! caller would return before the initialisation it depends on is complete).
//!
//! # Where this differs from Go, and why
//! - Waiting for the first call is asynchronous, so the calls are `async`: `call_once(f).await`.
//! - `call_once_async` also accepts an async initialiser. If that future is dropped part-way (the caller
//!   was cancelled), the initialisation did not happen and the next caller runs its own. If it panics,
//!   Go's rule holds: the `Once` counts as done.

use std::future::{poll_fn, Future};
use std::pin::pin;

use super::mutex::Mutex;
use crate::util::loom::sync::atomic::{
    AtomicBool, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};

/// Runs one function at most once, however many callers race: Go's `sync.Once`.
pub struct Once {
    /// Set after the function has returned; read without the lock by the fast path.
    done: AtomicBool,
    m: Mutex<()>,
}

impl Once {
    pub fn new() -> Once {
        Once {
            done: AtomicBool::new(false),
            m: Mutex::new(()),
        }
    }

    /// Call `f` if no call on this `Once` has completed yet; otherwise do nothing. Concurrent callers wait
    /// until the running call returns. If `f` panics the `Once` counts as done (as in Go).
    pub async fn call_once<F: FnOnce()>(&self, f: F) {
        // Acquire pairs with the Release store below: seeing `done` means seeing what `f` wrote.
        if self.done.load(Acquire) {
            return;
        }
        let _g = self.m.lock().await;
        if !self.done.load(Relaxed) {
            let _mark = MarkDone {
                done: &self.done,
                finished: true,
                running: true,
            };
            f();
        }
    }

    /// Like `call_once`, for an asynchronous initialiser. If this call is dropped while `f`'s future is
    /// running, the `Once` is not done and the next caller runs its function.
    pub async fn call_once_async<F, Fut>(&self, f: F)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ()>,
    {
        if self.done.load(Acquire) {
            return;
        }
        let _g = self.m.lock().await;
        if !self.done.load(Relaxed) {
            let mut mark = MarkDone {
                done: &self.done,
                finished: false,
                running: true, // a panic in `f` itself is the initialiser's
            };
            let mut init = pin!(f());
            mark.running = false;
            poll_fn(|cx| {
                mark.running = true;
                let r = init.as_mut().poll(cx);
                mark.running = false;
                r
            })
            .await;
            mark.finished = true;
        }
    }

    /// Whether a call has completed.
    pub fn is_done(&self) -> bool {
        self.done.load(Acquire)
    }
}

impl Default for Once {
    fn default() -> Self {
        Once::new()
    }
}

impl std::fmt::Debug for Once {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Once")
            .field("done", &self.is_done())
            .finish()
    }
}

/// Sets `done` on the way out, including by a panic of the initialiser (Go's
/// `defer o.done.Store(1)`), but not when an unfinished async initialiser is dropped — by a
/// cancellation, or by a panic elsewhere in the G that unwinds through it while it waits.
struct MarkDone<'a> {
    done: &'a AtomicBool,
    finished: bool,
    /// The initialiser is running right now, so a panic seen on the way out is its own.
    running: bool,
}

impl Drop for MarkDone<'_> {
    fn drop(&mut self) {
        if self.finished || (self.running && std::thread::panicking()) {
            self.done.store(true, Release);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::util::test_util::{block_on, poll_noop};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn runs_the_function_once() {
        let once = Once::new();
        let n = AtomicUsize::new(0);
        for _ in 0..3 {
            block_on(once.call_once(|| {
                n.fetch_add(1, Ordering::SeqCst);
            }));
        }
        assert_eq!(n.load(Ordering::SeqCst), 1);
        assert!(once.is_done());
    }

    #[test]
    fn concurrent_callers_run_it_once_and_all_see_its_effect() {
        let once = Arc::new(Once::new());
        let n = Arc::new(AtomicUsize::new(0));
        let ts: Vec<_> = (0..8)
            .map(|_| {
                let (once, n) = (once.clone(), n.clone());
                thread::spawn(move || {
                    block_on(once.call_once(|| {
                        thread::sleep(std::time::Duration::from_millis(2));
                        n.fetch_add(1, Ordering::SeqCst);
                    }));
                    assert_eq!(
                        n.load(Ordering::SeqCst),
                        1,
                        "returns only after the call finished"
                    );
                })
            })
            .collect();
        for t in ts {
            t.join().unwrap();
        }
    }

    #[test]
    fn panicking_function_counts_as_done() {
        let once = Once::new();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            block_on(once.call_once(|| panic!("boom")));
        }));
        assert!(r.is_err());
        assert!(once.is_done());
        assert!(
            once.m.try_lock().is_some(),
            "the lock was released while unwinding"
        );
    }

    #[test]
    fn cancelled_async_initialiser_lets_the_next_caller_run() {
        let once = Once::new();
        let mut first = Box::pin(once.call_once_async(std::future::pending::<()>));
        assert!(poll_noop(&mut first).is_pending());
        drop(first);
        assert!(!once.is_done());
        let ran = AtomicUsize::new(0);
        block_on(once.call_once_async(|| async {
            ran.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert!(once.is_done());
    }

    #[test]
    fn async_initialiser_dropped_by_an_unrelated_panic_is_not_done() {
        // Another part of the G panics while the initialiser waits: unwinding drops it unfinished.
        let once = Once::new();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut first = Box::pin(once.call_once_async(std::future::pending::<()>));
            assert!(poll_noop(&mut first).is_pending());
            panic!("unrelated");
        }));
        assert!(r.is_err());
        assert!(
            !once.is_done(),
            "an initialisation that never finished counts as done"
        );
    }

    #[test]
    fn call_once_async_is_send() {
        fn send<T: Send>(_: T) {}
        let once = Once::new();
        send(once.call_once_async(|| async {}));
    }

    #[test]
    fn async_initialiser_that_panics_counts_as_done() {
        let once = Once::new();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            block_on(once.call_once_async(|| async { panic!("boom") }));
        }));
        assert!(r.is_err());
        assert!(once.is_done());
    }

    /// `f` panics before it returns its future: that is the initialiser's own panic too.
    #[test]
    fn async_initialiser_whose_function_panics_counts_as_done() {
        fn boom() -> std::future::Ready<()> {
            panic!("boom before the future")
        }
        let once = Once::new();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            block_on(once.call_once_async(boom));
        }));
        assert!(r.is_err());
        assert!(once.is_done());
    }
}
