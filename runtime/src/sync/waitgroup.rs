//! Waiting for a collection of Gs to finish: Go's sync/waitgroup.go (`Add`, `Done`, `Wait`).
//!
//! One 64-bit atomic word holds both halves of the state, so `add` and `wait` never need a lock:
//!
//! ```text
//!   state = counter << 32 | waiters
//! ```
//!
//! `add` changes the counter; the `add` that brings it to zero with waiters present resets the word to
//! zero and releases one sema unit per waiter. `wait` returns at once on a zero counter, otherwise
//! registers as a waiter (CAS `waiters + 1`) and sleeps on the sema.
//!
//! # Where this differs from Go, and why
//! - The handle is `Clone` (an `Arc` inside) so each G can own one; Go passes `*WaitGroup`.
//! - A dropped `wait` future stays counted in `waiters` until the counter next reaches zero: it leaves
//!   through `Acquire::abandon`, and the unit released for it then goes to the sema's abandoned count
//!   instead of to a later waiter.
//! - Go's `WaitGroup.Go` helper is not here: spawning belongs to the executor (`gort::go`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::sched::coop::poll_preempt;
use crate::sched::g::{set_waitreason, WaitReason};
use crate::sync::sema::{Acquire, Sema};
use crate::util::loom::sync::atomic::{AtomicU64, Ordering::SeqCst};
use crate::util::loom::sync::Arc;

/// Waits for a counter of outstanding tasks to reach zero: Go's `sync.WaitGroup`. Clones share one
/// counter.
#[derive(Clone)]
pub struct WaitGroup {
    inner: Arc<Inner>,
}

struct Inner {
    state: AtomicU64,
    sema: Sema,
}

impl WaitGroup {
    pub fn new() -> WaitGroup {
        WaitGroup {
            inner: Arc::new(Inner {
                state: AtomicU64::new(0),
                sema: Sema::new(0),
            }),
        }
    }

    /// Add `delta` (possibly negative) to the counter; when it reaches zero every `wait` returns.
    ///
    /// # Panics
    /// Like Go, on a negative counter ("sync: negative WaitGroup counter") and on detectable misuse: a
    /// positive `add` from zero racing with `wait`, or reuse before the previous waits have returned.
    /// These are programming errors. Also if `delta` does not fit the 32-bit counter.
    pub fn add(&self, delta: isize) {
        let Ok(delta) = i32::try_from(delta) else {
            panic!("sync: WaitGroup delta out of range");
        };
        // The counter lives in the high half: adding `delta << 32` (two's complement) adds to it alone.
        let step = (i64::from(delta) as u64) << 32;
        let state = self.inner.state.fetch_add(step, SeqCst).wrapping_add(step);
        let v = (state >> 32) as i32;
        let w = state as u32;
        if v < 0 {
            panic!("sync: negative WaitGroup counter");
        }
        if w != 0 && delta > 0 && v == delta {
            panic!("sync: WaitGroup misuse: Add called concurrently with Wait");
        }
        if v > 0 || w == 0 {
            return;
        }
        // Counter zero with waiters: nobody may change the state now (a concurrent `add` from zero or a
        // new `wait` here is misuse). Reset it and wake them all.
        if self.inner.state.load(SeqCst) != state {
            panic!("sync: WaitGroup misuse: Add called concurrently with Wait");
        }
        self.inner.state.store(0, SeqCst);
        for _ in 0..w {
            // A unit that goes to an abandoned (dropped) wait needs no follow-up.
            let _ = self.inner.sema.release(false);
        }
    }

    /// `add(-1)`: one task finished.
    pub fn done(&self) {
        self.add(-1);
    }

    /// Wait until the counter is zero. Dropping the future gives up the wait.
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            inner: &self.inner,
            sleep: None,
        }
    }

    /// The counter now.
    #[doc(hidden)]
    pub fn count(&self) -> isize {
        (self.inner.state.load(SeqCst) >> 32) as i32 as isize
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

/// A pending `WaitGroup::wait`.
#[must_use = "futures do nothing unless polled"]
pub struct Wait<'a> {
    inner: &'a Inner,
    sleep: Option<Acquire<'a>>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if poll_preempt(cx).is_pending() {
            return Poll::Pending;
        }
        let sleep = match &mut this.sleep {
            Some(sleep) => sleep,
            None => {
                let mut state = this.inner.state.load(SeqCst);
                loop {
                    if state >> 32 == 0 {
                        return Poll::Ready(());
                    }
                    match this
                        .inner
                        .state
                        .compare_exchange(state, state + 1, SeqCst, SeqCst)
                    {
                        Ok(_) => break,
                        Err(now) => state = now,
                    }
                }
                this.sleep
                    .insert(this.inner.sema.acquire(false, WaitReason::WaitGroupWait))
            }
        };
        if Pin::new(sleep).poll(cx).is_pending() {
            set_waitreason(WaitReason::WaitGroupWait);
            return Poll::Pending;
        }
        this.sleep = None;
        if this.inner.state.load(SeqCst) != 0 {
            panic!("sync: WaitGroup is reused before previous Wait has returned");
        }
        Poll::Ready(())
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        // Counted in `waiters` either way: with its unit already in hand there is nothing to undo;
        // without, the next reset pays it through the sema's abandoned count.
        if let Some(sleep) = self.sleep.take() {
            let _ = sleep.abandon();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::util::test_util::{block_on, poll_noop};
    use std::thread;

    #[test]
    fn wait_on_zero_counter_returns_at_once() {
        let wg = WaitGroup::new();
        assert!(poll_noop(&mut wg.wait()).is_ready());
    }

    #[test]
    fn wait_returns_when_the_counter_reaches_zero() {
        let wg = WaitGroup::new();
        wg.add(2);
        let mut w = wg.wait();
        assert!(poll_noop(&mut w).is_pending());
        wg.done();
        assert!(poll_noop(&mut w).is_pending());
        wg.done();
        assert!(poll_noop(&mut w).is_ready());
        assert_eq!(wg.inner.state.load(SeqCst), 0);
    }

    #[test]
    #[should_panic(expected = "sync: negative WaitGroup counter")]
    fn negative_counter_panics() {
        WaitGroup::new().done();
    }

    #[test]
    fn dropped_wait_does_not_steal_a_later_wake_up() {
        let wg = WaitGroup::new();
        wg.add(1);
        let mut a = wg.wait();
        assert!(poll_noop(&mut a).is_pending());
        drop(a);
        wg.done(); // pays the abandoned waiter
        assert_eq!(wg.inner.sema.waiters(), 0);
        assert_eq!(wg.inner.sema.units(), 0);
        // Reuse: a new round's waiter must really wait.
        wg.add(1);
        let mut b = wg.wait();
        assert!(poll_noop(&mut b).is_pending());
        wg.done();
        assert!(poll_noop(&mut b).is_ready());
    }

    #[test]
    fn threads_finish_and_wake_every_waiter() {
        let wg = WaitGroup::new();
        wg.add(8);
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let wg = wg.clone();
                thread::spawn(move || block_on(wg.wait()))
            })
            .collect();
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let wg = wg.clone();
                thread::spawn(move || wg.done())
            })
            .collect();
        for t in workers.into_iter().chain(waiters) {
            t.join().unwrap();
        }
        assert_eq!(wg.count(), 0);
    }
}
