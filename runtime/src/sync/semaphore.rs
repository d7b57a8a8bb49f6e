//! A weighted semaphore: golang.org/x/sync/semaphore (`Weighted`: `Acquire`, `TryAcquire`, `Release`).
//!
//! `size` units in total; `acquire(n)` waits until `n` are free. Waiters are served strictly in FIFO
//! order: a large request at the head blocks smaller ones behind it even when they would fit, so large
//! requests cannot be starved by a stream of small ones.
//!
//! # Where this differs from Go, and why
//! - It is not built on `Sema`, exactly as x/sync's is not built on the runtime semaphore: its waiters
//!   want different amounts, so the queue must know each one's weight. It keeps a short internal lock
//!   around the count and the list, as x/sync does with its `sync.Mutex`. The list itself is the
//!   runtime's `WaitList` (util/waitq.rs), the one channels and `Sema` use, where x/sync has a
//!   `container/list`.
//! - Go's `Acquire` takes a `context.Context` to give up; here the future is simply dropped (for example
//!   by a `select!` arm on `ctx.done()`). Dropping it returns units already granted to it, and if it was
//!   the head, lets the waiters behind it try again.
//! - Acquiring returns a [`Permit`] that releases on drop; [`Permit::forget`] plus
//!   [`Semaphore::release`] gives Go's manual style.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::sched::coop::poll_preempt;
use crate::sched::g::{set_waitreason, WaitReason};
use crate::util::loom::sync::Mutex;
use crate::util::waitq::{WaitList, WakeList};

/// A semaphore with `size` units that are acquired in any amount: Go's `semaphore.Weighted`.
pub struct Semaphore {
    size: usize,
    state: Mutex<State>,
}

struct State {
    /// Units held.
    cur: usize,
    waiters: WaitList<Waiter>,
}

struct Waiter {
    n: usize,
    waker: Option<Waker>,
    /// Its units were taken for it (added to `cur`) by `notify_waiters`.
    granted: bool,
}

impl Semaphore {
    pub fn new(size: usize) -> Semaphore {
        Semaphore {
            size,
            state: Mutex::new(State {
                cur: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Acquire `n` units, waiting in FIFO order. A request for more than the semaphore's size can never
    /// succeed and waits until dropped (Go: until its context is done).
    pub fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            sem: self,
            n,
            key: None,
        }
    }

    /// Acquire `n` units only if they are free now and nobody is queued.
    pub fn try_acquire(&self, n: usize) -> Option<Permit<'_>> {
        let mut s = crate::util::loom::lock(&self.state);
        if self.size - s.cur >= n && s.waiters.is_empty() {
            s.cur += n;
            return Some(Permit { sem: self, n });
        }
        None
    }

    /// Give back `n` units acquired earlier and kept with `Permit::forget`.
    ///
    /// # Panics
    /// If more units are released than are held ("semaphore: released more than held"), a programming
    /// error as in Go.
    pub fn release(&self, n: usize) {
        let mut wake = WakeList::new();
        {
            let mut s = crate::util::loom::lock(&self.state);
            if n > s.cur {
                drop(s);
                panic!("semaphore: released more than held");
            }
            s.cur -= n;
            self.notify_waiters(&mut s, &mut wake);
        }
        wake.wake_all();
    }

    /// Units not held right now.
    pub fn available(&self) -> usize {
        self.size - crate::util::loom::lock(&self.state).cur
    }

    /// Grant waiters from the head for as long as their requests fit. Collects their wakers in `wake`,
    /// to be woken after unlocking.
    fn notify_waiters(&self, s: &mut State, wake: &mut WakeList) {
        while let Some(key) = s.waiters.front() {
            let n = s.waiters.get(key).n;
            if self.size - s.cur < n {
                // Not enough for the head. Serving smaller waiters behind it instead would starve large
                // requests, so stop here.
                break;
            }
            s.cur += n;
            s.waiters.pop_front();
            let w = s.waiters.get_mut(key);
            w.granted = true;
            wake.push(w.waker.take());
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("size", &self.size)
            .field("available", &self.available())
            .finish()
    }
}

/// A pending `Semaphore::acquire`.
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a> {
    sem: &'a Semaphore,
    n: usize,
    /// Our node in the waiter list once queued; it stays ours until we remove it.
    key: Option<usize>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Permit<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let this = self.get_mut();
        if poll_preempt(cx).is_pending() {
            return Poll::Pending;
        }
        let sem = this.sem;
        let mut s = crate::util::loom::lock(&sem.state);
        match this.key {
            None => {
                if sem.size - s.cur >= this.n && s.waiters.is_empty() {
                    s.cur += this.n;
                    return Poll::Ready(Permit { sem, n: this.n });
                }
                if this.n > sem.size {
                    // Can never be satisfied; do not queue, or it would block everyone behind it.
                    set_waitreason(WaitReason::Semacquire);
                    return Poll::Pending;
                }
                let w = Waiter {
                    n: this.n,
                    waker: Some(cx.waker().clone()),
                    granted: false,
                };
                this.key = Some(s.waiters.push_back(w));
            }
            Some(key) => {
                let w = s.waiters.get_mut(key);
                if w.granted {
                    s.waiters.remove(key);
                    this.key = None;
                    return Poll::Ready(Permit { sem, n: this.n });
                }
                if !w
                    .waker
                    .as_ref()
                    .is_some_and(|old| old.will_wake(cx.waker()))
                {
                    w.waker = Some(cx.waker().clone());
                }
            }
        }
        set_waitreason(WaitReason::Semacquire);
        Poll::Pending
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut wake = WakeList::new();
        {
            let mut s = crate::util::loom::lock(&self.sem.state);
            let was_head = s.waiters.front() == Some(key);
            let w = s.waiters.remove(key);
            if w.granted {
                // Granted after we gave up: give the units back.
                s.cur -= self.n;
                self.sem.notify_waiters(&mut s, &mut wake);
            } else if was_head && self.sem.size > s.cur {
                // We were blocking the queue; the waiters behind us may fit now.
                self.sem.notify_waiters(&mut s, &mut wake);
            }
        }
        wake.wake_all();
    }
}

/// Units held from a `Semaphore`; released when dropped.
#[must_use = "dropping the permit releases its units at once"]
pub struct Permit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl Permit<'_> {
    /// How many units this permit holds.
    pub fn units(&self) -> usize {
        self.n
    }

    /// Keep the units acquired without a permit; give them back later with `Semaphore::release`.
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.n);
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("units", &self.n).finish()
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
    fn acquire_within_size_is_immediate_and_permit_releases() {
        let s = Semaphore::new(3);
        let a = block_on(s.acquire(2));
        assert_eq!(s.available(), 1);
        assert!(s.try_acquire(2).is_none());
        drop(a);
        assert_eq!(s.available(), 3);
    }

    #[test]
    fn waiters_are_served_in_fifo_order_even_if_a_later_one_fits() {
        let s = Semaphore::new(3);
        let held = block_on(s.acquire(2));
        let mut big = s.acquire(3);
        let mut small = s.acquire(1);
        assert!(poll_noop(&mut big).is_pending());
        assert!(
            poll_noop(&mut small).is_pending(),
            "1 unit is free, but the head wants 3"
        );
        drop(held);
        let b = match poll_noop(&mut big) {
            Poll::Ready(p) => p,
            Poll::Pending => panic!("head granted"),
        };
        assert!(poll_noop(&mut small).is_pending());
        drop(b);
        assert!(poll_noop(&mut small).is_ready());
    }

    #[test]
    fn dropping_the_blocking_head_lets_smaller_waiters_through() {
        let s = Semaphore::new(3);
        let _held = block_on(s.acquire(2));
        let mut big = s.acquire(3);
        let mut small = s.acquire(1);
        assert!(poll_noop(&mut big).is_pending());
        assert!(poll_noop(&mut small).is_pending());
        drop(big);
        assert!(poll_noop(&mut small).is_ready());
    }

    #[test]
    fn dropping_a_granted_acquire_returns_its_units() {
        let s = Semaphore::new(1);
        let held = block_on(s.acquire(1));
        let mut a = s.acquire(1);
        assert!(poll_noop(&mut a).is_pending());
        drop(held); // grants a
        drop(a);
        assert_eq!(s.available(), 1);
    }

    #[test]
    fn oversized_request_waits_without_blocking_others() {
        let s = Semaphore::new(2);
        let mut huge = s.acquire(5);
        assert!(poll_noop(&mut huge).is_pending());
        assert!(s.try_acquire(2).is_some());
    }

    #[test]
    fn forget_and_release_by_hand() {
        let s = Semaphore::new(2);
        block_on(s.acquire(2)).forget();
        assert_eq!(s.available(), 0);
        s.release(2);
        assert_eq!(s.available(), 2);
    }

    #[test]
    #[should_panic(expected = "semaphore: released more than held")]
    fn releasing_more_than_held_panics() {
        Semaphore::new(2).release(1);
    }

    #[test]
    fn threads_never_exceed_the_size() {
        let s = Arc::new(Semaphore::new(3));
        let inside = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let ts: Vec<_> = (0..6)
            .map(|i| {
                let (s, inside, max) = (s.clone(), inside.clone(), max.clone());
                thread::spawn(move || {
                    for _ in 0..300 {
                        let n = 1 + i % 2;
                        let _p = block_on(s.acquire(n));
                        let now = inside.fetch_add(n, Ordering::SeqCst) + n;
                        max.fetch_max(now, Ordering::SeqCst);
                        inside.fetch_sub(n, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in ts {
            t.join().unwrap();
        }
        assert!(max.load(Ordering::SeqCst) <= 3);
        assert_eq!(s.available(), 3);
    }
}
