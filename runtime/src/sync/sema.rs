//! The runtime semaphore the sync package sleeps on: Go's runtime/sema.go (`semacquire1`,
//! `semrelease1`, `cansemacquire`). The same file's `notifyList`, for `sync.Cond`, is notify_list.rs.
//!
//! In Go, `sync.Mutex`, `sync.RWMutex` and `sync.WaitGroup` keep their whole state in one atomic word and
//! only call into the runtime to *sleep* (`runtime_Semacquire`) and to *wake a sleeper*
//! (`runtime_Semrelease`). `Sema` is that runtime service: a count of units plus a FIFO queue of waiting
//! futures. `acquire` takes a unit, waiting in the queue if there is none; `release` adds a unit and wakes
//! the first waiter. With `handoff`, the released unit goes straight to that waiter, so a newcomer cannot
//! take it first (the mutex's starvation mode relies on this).
//!
//! ```text
//!   count: 0 ──release──► 1 ──► queue head woken (Woken), takes it when polled, or
//!                             ──► queue head handed it directly (Granted, with handoff)
//! ```
//!
//! # Where this differs from Go, and why
//! - Go hashes the semaphore's address into a global table of treaps (`semtable`) of `sudog`s; here
//!   each `Sema` owns its queue, a `WaitList` (util/waitq.rs, shared with channels), so no table is
//!   needed.
//! - A Go goroutine cannot abandon `semacquire`; a future can be dropped at any `Pending`. Dropping an
//!   [`Acquire`] withdraws its waiter; a unit already handed to it is released again, so nothing is lost.
//!   That is the right rule for a plain semaphore, but not for the sync types: their own state word has
//!   already counted the waiter, and the unlocker that will pay it may be mid-way through its release.
//!   For them [`Acquire::abandon`] leaves an *abandoned waiter* behind: a count in the queue that the next
//!   release pays before anyone new, reporting it to the releaser (`release` returns `true`), which then
//!   finishes the abandoned operation (a mutex hands the lock on, a reader unlocks at once). So an
//!   abandoned waiter behaves like a goroutine that woke up and immediately left.
//! - Go's releaser `goyield`s after a handoff so the waiter runs at once; `release` is called from
//!   `Drop`s here and cannot yield. The woken G goes to its P's `runnext` instead, which is nearly as good.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::sched::g::{set_waitreason, WaitReason};
use crate::util::loom::sync::atomic::{fence, AtomicUsize, Ordering::SeqCst};
use crate::util::loom::sync::Mutex;
use crate::util::waitq::WaitList;

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

/// A counting semaphore whose waiters are futures: Go's `sema` plus its `semaRoot` queue.
pub(crate) struct Sema {
    /// Available units: Go's `*addr`.
    count: AtomicUsize,
    /// Queued plus abandoned waiters: Go's `semaRoot.nwait`, read without the lock by `release` to skip
    /// the lock when nobody waits. Changed only under the lock.
    nwait: AtomicUsize,
    queue: Mutex<SemaQueue>,
}

struct SemaQueue {
    waiters: WaitList<Waiter>,
    /// Waiters that gave up but whose claim on a unit their owner's protocol still counts
    /// (see `Acquire::abandon`). The next release with no queued waiter pays one of them.
    abandoned: usize,
}

/// A queued `Acquire`: the payload of the semaphore's `WaitList` (in Go, a `sudog` in the treap).
struct Waiter {
    waker: Option<Waker>,
    state: WaitState,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum WaitState {
    /// In the queue.
    Queued,
    /// Taken off the queue by a release without handing it the unit: it must compete for the unit (Go:
    /// `semacquire1` loops and re-queues if `cansemacquire` fails).
    Woken,
    /// Taken off the queue and handed the unit (Go: `s.ticket = 1`).
    Granted,
}

/// What became of a waiter that its owner gave up on (`Acquire::abandon`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Abandoned {
    /// It already had its unit: the owner now holds it and must act as if the acquire had completed.
    HadUnit,
    /// It is now an abandoned waiter: the releaser that pays it will be told and finishes its part.
    Deferred,
}

impl Sema {
    pub(crate) fn new(units: usize) -> Sema {
        Sema {
            count: AtomicUsize::new(units),
            nwait: AtomicUsize::new(0),
            queue: Mutex::new(SemaQueue {
                waiters: WaitList::new(),
                abandoned: 0,
            }),
        }
    }

    /// Take a unit if one is available, without waiting: Go's `cansemacquire`.
    pub(crate) fn try_acquire(&self) -> bool {
        let mut v = self.count.load(SeqCst);
        loop {
            if v == 0 {
                return false;
            }
            match self.count.compare_exchange_weak(v, v - 1, SeqCst, SeqCst) {
                Ok(_) => return true,
                Err(now) => v = now,
            }
        }
    }

    /// Take a unit, waiting for one if needed: Go's `semacquire1`. `lifo` queues at the front (the mutex
    /// uses it for waiters that already waited once). `reason` is recorded while the G waits.
    pub(crate) fn acquire(&self, lifo: bool, reason: WaitReason) -> Acquire<'_> {
        Acquire {
            sema: self,
            lifo,
            reason,
            key: None,
        }
    }

    /// Add a unit and wake the first waiter: Go's `semrelease1`. With `handoff` the waiter is handed the
    /// unit itself (if no newcomer took it first). Returns `true` if the unit went to an abandoned waiter:
    /// the caller must then do what that waiter would have done with it.
    #[must_use]
    pub(crate) fn release(&self, handoff: bool) -> bool {
        // A Dekker pair with `Acquire::poll`, which bumps nwait and then re-checks count: we bump count
        // and then check nwait. The SeqCst fences on both sides guarantee that at least one of us sees
        // the other's write, so no waiter sleeps next to a free unit. (The fences also make the pairing
        // visible to loom, which models SeqCst loads and stores only as acquire/release.)
        self.count.fetch_add(1, SeqCst);
        fence(SeqCst);
        if self.nwait.load(SeqCst) == 0 {
            return false;
        }
        let mut q = crate::util::loom::lock(&self.queue);
        if self.nwait.load(SeqCst) == 0 {
            return false;
        }
        // Queued waiters first: this unit was released for them, in FIFO order.
        if let Some(key) = q.waiters.pop_front() {
            self.nwait.fetch_sub(1, SeqCst);
            let w = q.waiters.get_mut(key);
            w.state = if handoff && self.try_acquire() {
                WaitState::Granted
            } else {
                WaitState::Woken
            };
            let waker = w.waker.take();
            drop(q);
            if let Some(waker) = waker {
                waker.wake();
            }
            return false;
        }
        if q.abandoned > 0 && self.try_acquire() {
            q.abandoned -= 1;
            self.nwait.fetch_sub(1, SeqCst);
            return true;
        }
        false
    }

    #[cfg(test)]
    pub(crate) fn units(&self) -> usize {
        self.count.load(SeqCst)
    }

    #[cfg(test)]
    pub(crate) fn waiters(&self) -> usize {
        self.nwait.load(SeqCst)
    }
}

/// A pending `Sema::acquire`. Dropping it withdraws the waiter (passing on a unit it was already handed);
/// the sync types use `abandon` instead.
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Acquire<'a> {
    sema: &'a Sema,
    lifo: bool,
    reason: WaitReason,
    /// Our node in `queue.waiters` once we have waited. The node stays in the slab, queued or not, until
    /// this future removes it, so the key stays ours.
    key: Option<usize>,
}

impl Future for Acquire<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let sema = this.sema;
        let Some(key) = this.key else {
            if sema.try_acquire() {
                return Poll::Ready(());
            }
            let mut q = crate::util::loom::lock(&sema.queue);
            sema.nwait.fetch_add(1, SeqCst);
            fence(SeqCst); // the Dekker pair with `release`
            if sema.try_acquire() {
                sema.nwait.fetch_sub(1, SeqCst);
                return Poll::Ready(());
            }
            let w = Waiter {
                waker: Some(cx.waker().clone()),
                state: WaitState::Queued,
            };
            this.key = Some(q.waiters.push(w, this.lifo));
            set_waitreason(this.reason);
            return Poll::Pending;
        };

        let mut q = crate::util::loom::lock(&sema.queue);
        match q.waiters.get(key).state {
            WaitState::Queued => {
                let w = q.waiters.get_mut(key);
                if !w
                    .waker
                    .as_ref()
                    .is_some_and(|old| old.will_wake(cx.waker()))
                {
                    w.waker = Some(cx.waker().clone());
                }
                set_waitreason(this.reason);
                Poll::Pending
            }
            WaitState::Granted => {
                q.waiters.remove(key);
                this.key = None;
                Poll::Ready(())
            }
            WaitState::Woken => {
                // Compete for the unit like a newcomer; if one beat us to it, queue again.
                sema.nwait.fetch_add(1, SeqCst);
                fence(SeqCst); // the Dekker pair with `release`
                if sema.try_acquire() {
                    sema.nwait.fetch_sub(1, SeqCst);
                    q.waiters.remove(key);
                    this.key = None;
                    return Poll::Ready(());
                }
                let w = q.waiters.get_mut(key);
                w.state = WaitState::Queued;
                w.waker = Some(cx.waker().clone());
                q.waiters.relink(key, this.lifo);
                set_waitreason(this.reason);
                Poll::Pending
            }
        }
    }
}

impl Acquire<'_> {
    /// Give up a pending acquire whose claim the caller's protocol has already counted (a mutex's waiter
    /// count, a WaitGroup's waiters, a reader blocked behind a writer). Either the waiter already had its
    /// unit (`HadUnit`: the caller proceeds as if it had acquired, then undoes that), or it becomes an
    /// abandoned waiter (`Deferred`) that a later `release` pays, returning `true` to that releaser.
    /// Also valid on an acquire that was never polled: it is then abandoned at once.
    pub(crate) fn abandon(mut self) -> Abandoned {
        let sema = self.sema;
        // One critical section, so no release that takes the lock can slip between our leaving the
        // queue and our being counted as abandoned.
        let mut q = crate::util::loom::lock(&sema.queue);
        match self.withdraw(&mut q) {
            Some(WaitState::Granted) => Abandoned::HadUnit,
            Some(WaitState::Queued) => {
                // Already counted in nwait, and it must stay counted: a release reading nwait without
                // the lock right now has to come in and pay us.
                q.abandoned += 1;
                Abandoned::Deferred
            }
            Some(WaitState::Woken) | None => {
                // Not counted in nwait. Count ourselves before looking for a unit (the Dekker pair with
                // `release`), so a unit released meanwhile is either seen here or paid to us.
                sema.nwait.fetch_add(1, SeqCst);
                fence(SeqCst);
                if sema.try_acquire() {
                    sema.nwait.fetch_sub(1, SeqCst);
                    Abandoned::HadUnit
                } else {
                    q.abandoned += 1;
                    Abandoned::Deferred
                }
            }
        }
    }

    /// Take our node off the queue and out of the slab; returns the state it was in (`None`: never
    /// queued, or already completed). A `Queued` node is still counted in `nwait`: the caller decides.
    fn withdraw(&mut self, q: &mut SemaQueue) -> Option<WaitState> {
        let key = self.key.take()?;
        Some(q.waiters.remove(key).state)
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if self.key.is_none() {
            return;
        }
        let had_unit = {
            let mut q = crate::util::loom::lock(&self.sema.queue);
            match self.withdraw(&mut q) {
                Some(WaitState::Queued) => {
                    self.sema.nwait.fetch_sub(1, SeqCst);
                    false
                }
                Some(WaitState::Granted) => true,
                // Woken but not yet holding the unit: if it is still there it is ours, and taking it
                // before passing it on keeps the wake-up from being lost with us.
                Some(WaitState::Woken) => self.sema.try_acquire(),
                _ => false,
            }
        };
        if had_unit {
            // A plain semaphore has no abandoned waiters (only `abandon` makes them).
            let paid_abandoned = self.sema.release(true);
            debug_assert!(
                !paid_abandoned,
                "sema: dropped a plain acquire on a sema with abandoned waiters"
            );
        }
    }
}
