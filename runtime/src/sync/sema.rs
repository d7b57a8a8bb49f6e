//! Semaphores for the sync package: Go's runtime/sema.go (`semacquire1`, `semrelease1`, `cansemacquire`,
//! and `notifyList` for `sync.Cond`).
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
//! - Go hashes the semaphore's address into a global table of treaps (`semtable`); here each `Sema` owns
//!   its queue, so no table is needed.
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
//! - `notifyList` hands out tickets lock-free and lists the waiter later, so a `Signal` in between is
//!   remembered by ticket number. Here the ticket is taken and the waiter listed in one step under the
//!   list's lock, before the caller unlocks its `Mutex`, so the list order *is* the ticket order: a
//!   signal still wakes the oldest waiter that was waiting when it was sent, and a cancelled wait can
//!   simply unlink itself (with Go's free-floating tickets a withdrawn ticket would swallow a later signal).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use slab::Slab;

use crate::sched::g::{set_waitreason, WaitReason};
use crate::util::loom::sync::atomic::{fence, AtomicUsize, Ordering::SeqCst};
use crate::util::loom::sync::Mutex;

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
                q.waiters.link(key, this.lifo);
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
        let state = q.waiters.get(key).state;
        q.waiters.remove(key);
        Some(state)
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

/// Go's `notifyList`: the waiters of a `sync.Cond`, in ticket (arrival) order.
pub(crate) struct NotifyList {
    /// Listed waiters, read without the lock so `notify_one`/`notify_all` skip the lock when nobody
    /// waits (Go's `wait == notify` fast path). Changed only under the lock.
    len: AtomicUsize,
    list: Mutex<WaitList<Notifyee>>,
}

struct Notifyee {
    waker: Option<Waker>,
    notified: Option<Notified>,
}

/// How a listed waiter was woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Notified {
    /// By `notify_one`: it was the one chosen, so if it gives up it must pass the signal on.
    One,
    /// By `notify_all`.
    All,
}

/// A waiter's place in a `NotifyList` (Go: the ticket from `notifyListAdd`).
#[derive(Debug)]
pub(crate) struct Ticket(usize);

impl NotifyList {
    pub(crate) fn new() -> NotifyList {
        NotifyList {
            len: AtomicUsize::new(0),
            list: Mutex::new(WaitList::new()),
        }
    }

    /// Join the list: Go's `notifyListAdd`. From here on a `notify_one` or `notify_all` counts this waiter,
    /// even before it first polls `poll_wait`; call it before unlocking the condition's mutex.
    pub(crate) fn add(&self, waker: &Waker) -> Ticket {
        let mut list = crate::util::loom::lock(&self.list);
        let key = list.push(
            Notifyee {
                waker: Some(waker.clone()),
                notified: None,
            },
            false,
        );
        self.len.fetch_add(1, SeqCst);
        Ticket(key)
    }

    /// Go's `notifyListWait`: `Ready` with how it was woken once a notify has reached `ticket`. The ticket
    /// is used up when this returns `Ready`.
    pub(crate) fn poll_wait(&self, ticket: &Ticket, cx: &mut Context<'_>) -> Poll<Notified> {
        let mut list = crate::util::loom::lock(&self.list);
        let n = list.get_mut(ticket.0);
        match n.notified {
            Some(how) => {
                list.remove(ticket.0);
                Poll::Ready(how)
            }
            None => {
                if !n
                    .waker
                    .as_ref()
                    .is_some_and(|old| old.will_wake(cx.waker()))
                {
                    n.waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }

    /// Leave the list without waiting for a notify. Returns how the waiter had been woken, if it had: a
    /// waiter chosen by `notify_one` that leaves must pass the signal on, or the signal is lost.
    pub(crate) fn cancel(&self, ticket: Ticket) -> Option<Notified> {
        let mut list = crate::util::loom::lock(&self.list);
        if list.is_linked(ticket.0) {
            self.len.fetch_sub(1, SeqCst);
        }
        list.remove(ticket.0).notified
    }

    /// Wake the longest-waiting waiter, if any: Go's `notifyListNotifyOne`.
    pub(crate) fn notify_one(&self) {
        // SeqCst with `add`: a waiter listed before this call is seen here.
        if self.len.load(SeqCst) == 0 {
            return;
        }
        let mut list = crate::util::loom::lock(&self.list);
        let Some(key) = list.pop_front() else { return };
        self.len.fetch_sub(1, SeqCst);
        let n = list.get_mut(key);
        n.notified = Some(Notified::One);
        let waker = n.waker.take();
        drop(list);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wake every waiter listed now: Go's `notifyListNotifyAll`.
    pub(crate) fn notify_all(&self) {
        if self.len.load(SeqCst) == 0 {
            return;
        }
        let mut wakers = Vec::new();
        {
            let mut list = crate::util::loom::lock(&self.list);
            while let Some(key) = list.pop_front() {
                self.len.fetch_sub(1, SeqCst);
                let n = list.get_mut(key);
                n.notified = Some(Notified::All);
                wakers.extend(n.waker.take());
            }
        }
        // Wake outside the lock, as Go readies the list after unlocking it.
        for w in wakers {
            w.wake();
        }
    }
}

/// A doubly linked FIFO of waiters kept in a slab: O(1) push at either end, pop at the front and unlink
/// by key, with no allocation per wait once the slab has grown. A node stays in the slab after it is
/// unlinked, until its owner removes it, so the key a waiting future holds is never reused under it.
pub(crate) struct WaitList<T> {
    nodes: Slab<Node<T>>,
    head: Option<usize>,
    tail: Option<usize>,
}

struct Node<T> {
    val: T,
    prev: Option<usize>,
    next: Option<usize>,
    linked: bool,
}

impl<T> WaitList<T> {
    pub(crate) fn new() -> WaitList<T> {
        WaitList {
            nodes: Slab::new(),
            head: None,
            tail: None,
        }
    }

    /// Add `val` at the back (or the front, with `front`) and return its key.
    pub(crate) fn push(&mut self, val: T, front: bool) -> usize {
        let key = self.nodes.insert(Node {
            val,
            prev: None,
            next: None,
            linked: false,
        });
        self.link(key, front);
        key
    }

    /// Put an unlinked node back in the list.
    pub(crate) fn link(&mut self, key: usize, front: bool) {
        debug_assert!(!self.nodes[key].linked);
        if front {
            self.nodes[key].next = self.head;
            self.nodes[key].prev = None;
            match self.head {
                Some(h) => self.nodes[h].prev = Some(key),
                None => self.tail = Some(key),
            }
            self.head = Some(key);
        } else {
            self.nodes[key].prev = self.tail;
            self.nodes[key].next = None;
            match self.tail {
                Some(t) => self.nodes[t].next = Some(key),
                None => self.head = Some(key),
            }
            self.tail = Some(key);
        }
        self.nodes[key].linked = true;
    }

    /// Unlink the first node and return its key; the node stays in the slab.
    pub(crate) fn pop_front(&mut self) -> Option<usize> {
        let key = self.head?;
        self.unlink(key);
        Some(key)
    }

    fn unlink(&mut self, key: usize) {
        let (prev, next) = {
            let n = &mut self.nodes[key];
            debug_assert!(n.linked);
            n.linked = false;
            (n.prev.take(), n.next.take())
        };
        match prev {
            Some(p) => self.nodes[p].next = next,
            None => self.head = next,
        }
        match next {
            Some(n) => self.nodes[n].prev = prev,
            None => self.tail = prev,
        }
    }

    /// The key of the first node, left in the list.
    pub(crate) fn front(&self) -> Option<usize> {
        self.head
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    pub(crate) fn is_linked(&self, key: usize) -> bool {
        self.nodes[key].linked
    }

    pub(crate) fn get(&self, key: usize) -> &T {
        &self.nodes[key].val
    }

    pub(crate) fn get_mut(&mut self, key: usize) -> &mut T {
        &mut self.nodes[key].val
    }

    /// Remove a node for good, unlinking it first if needed.
    pub(crate) fn remove(&mut self, key: usize) -> T {
        if self.nodes[key].linked {
            self.unlink(key);
        }
        self.nodes.remove(key).val
    }

    #[cfg(all(test, not(loom)))]
    fn keys(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = self.head;
        while let Some(k) = at {
            out.push(k);
            at = self.nodes[k].next;
        }
        out
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::util::test_util::{block_on, noop_waker, poll_noop};
    use std::sync::Arc;
    use std::task::Poll;
    use std::thread;

    #[test]
    fn wait_list_keeps_fifo_and_lifo_order_and_unlinks_from_the_middle() {
        let mut l = WaitList::new();
        let a = l.push('a', false);
        let b = l.push('b', false);
        let c = l.push('c', true);
        assert_eq!(l.keys(), vec![c, a, b]);
        l.remove(a);
        assert_eq!(l.keys(), vec![c, b]);
        assert_eq!(l.pop_front(), Some(c));
        assert!(!l.is_linked(c));
        l.link(c, false);
        assert_eq!(l.keys(), vec![b, c]);
        assert_eq!(l.remove(b), 'b');
        assert_eq!(l.remove(c), 'c');
        assert_eq!(l.pop_front(), None);
    }

    #[test]
    fn acquire_takes_an_available_unit_without_waiting() {
        let s = Sema::new(1);
        assert_eq!(
            poll_noop(&mut s.acquire(false, WaitReason::Semacquire)),
            Poll::Ready(())
        );
        assert_eq!(s.units(), 0);
        assert!(!s.try_acquire());
    }

    #[test]
    fn release_wakes_waiters_in_fifo_order() {
        let s = Sema::new(0);
        let mut a = s.acquire(false, WaitReason::Semacquire);
        let mut b = s.acquire(false, WaitReason::Semacquire);
        assert!(poll_noop(&mut a).is_pending());
        assert!(poll_noop(&mut b).is_pending());
        assert!(!s.release(false));
        // b was not woken, so it cannot take the unit meant for a, even though it is free.
        assert!(poll_noop(&mut b).is_pending());
        assert!(poll_noop(&mut a).is_ready());
    }

    #[test]
    fn lifo_waiter_goes_to_the_front() {
        let s = Sema::new(0);
        let mut a = s.acquire(false, WaitReason::Semacquire);
        let mut b = s.acquire(true, WaitReason::Semacquire);
        assert!(poll_noop(&mut a).is_pending());
        assert!(poll_noop(&mut b).is_pending());
        let _ = s.release(true);
        assert!(poll_noop(&mut a).is_pending());
        assert!(poll_noop(&mut b).is_ready());
    }

    #[test]
    fn handoff_gives_the_unit_to_the_waiter_not_to_a_newcomer() {
        let s = Sema::new(0);
        let mut a = s.acquire(false, WaitReason::Semacquire);
        assert!(poll_noop(&mut a).is_pending());
        let _ = s.release(true);
        assert!(!s.try_acquire(), "the unit was handed to the waiter");
        assert!(poll_noop(&mut a).is_ready());
    }

    #[test]
    fn woken_waiter_that_lost_the_race_queues_again() {
        let s = Sema::new(0);
        let mut a = s.acquire(false, WaitReason::Semacquire);
        assert!(poll_noop(&mut a).is_pending());
        let _ = s.release(false);
        assert!(
            s.try_acquire(),
            "without handoff a newcomer may take the unit"
        );
        assert!(poll_noop(&mut a).is_pending());
        assert_eq!(s.waiters(), 1);
        let _ = s.release(false);
        assert!(poll_noop(&mut a).is_ready());
        assert_eq!(s.waiters(), 0);
    }

    #[test]
    fn dropping_a_queued_acquire_withdraws_it() {
        let s = Sema::new(0);
        let mut a = s.acquire(false, WaitReason::Semacquire);
        assert!(poll_noop(&mut a).is_pending());
        drop(a);
        assert_eq!(s.waiters(), 0);
        let _ = s.release(false);
        assert_eq!(s.units(), 1);
    }

    #[test]
    fn dropping_a_granted_acquire_passes_the_unit_to_the_next_waiter() {
        let s = Sema::new(0);
        let mut a = s.acquire(false, WaitReason::Semacquire);
        let mut b = s.acquire(false, WaitReason::Semacquire);
        assert!(poll_noop(&mut a).is_pending());
        assert!(poll_noop(&mut b).is_pending());
        let _ = s.release(true);
        drop(a);
        assert!(poll_noop(&mut b).is_ready());
    }

    #[test]
    fn dropping_a_woken_acquire_passes_the_wake_up_on() {
        let s = Sema::new(0);
        let mut a = s.acquire(false, WaitReason::Semacquire);
        let mut b = s.acquire(false, WaitReason::Semacquire);
        assert!(poll_noop(&mut a).is_pending());
        assert!(poll_noop(&mut b).is_pending());
        let _ = s.release(false);
        drop(a);
        assert!(poll_noop(&mut b).is_ready());
        assert_eq!(s.units(), 0);
    }

    #[test]
    fn abandoned_waiter_is_paid_by_the_next_release_after_queued_ones() {
        let s = Sema::new(0);
        let mut a = s.acquire(false, WaitReason::Semacquire);
        let mut b = s.acquire(false, WaitReason::Semacquire);
        assert!(poll_noop(&mut a).is_pending());
        assert!(poll_noop(&mut b).is_pending());
        assert_eq!(a.abandon(), Abandoned::Deferred);
        assert!(!s.release(false), "b is queued, so it gets the unit");
        assert!(poll_noop(&mut b).is_ready());
        assert!(s.release(false), "then the abandoned waiter is paid");
        assert_eq!(s.units(), 0);
        assert_eq!(s.waiters(), 0);
        assert!(!s.release(false));
        assert_eq!(s.units(), 1);
    }

    #[test]
    fn abandoning_a_granted_acquire_reports_the_unit() {
        let s = Sema::new(0);
        let mut a = s.acquire(false, WaitReason::Semacquire);
        assert!(poll_noop(&mut a).is_pending());
        let _ = s.release(true);
        assert_eq!(a.abandon(), Abandoned::HadUnit);
        assert_eq!(s.waiters(), 0);
    }

    #[test]
    fn blocked_acquire_completes_when_another_thread_releases() {
        let s = Arc::new(Sema::new(0));
        let t = {
            let s = s.clone();
            thread::spawn(move || block_on(s.acquire(false, WaitReason::Semacquire)))
        };
        while s.waiters() == 0 {
            thread::yield_now();
        }
        let _ = s.release(false);
        t.join().unwrap();
        assert_eq!(s.units(), 0);
    }

    #[test]
    fn many_threads_acquire_and_release_without_losing_units() {
        let s = Arc::new(Sema::new(2));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || {
                    for i in 0..500 {
                        block_on(s.acquire(i % 2 == 0, WaitReason::Semacquire));
                        let _ = s.release(i % 3 == 0);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(s.units(), 2);
        assert_eq!(s.waiters(), 0);
    }

    #[test]
    fn notify_one_wakes_the_oldest_listed_waiter_only() {
        let l = NotifyList::new();
        let w = noop_waker();
        let a = l.add(&w);
        let b = l.add(&w);
        l.notify_one();
        let mut cx = Context::from_waker(&w);
        assert_eq!(l.poll_wait(&b, &mut cx), Poll::Pending);
        assert_eq!(l.poll_wait(&a, &mut cx), Poll::Ready(Notified::One));
        l.notify_all();
        assert_eq!(l.poll_wait(&b, &mut cx), Poll::Ready(Notified::All));
        l.notify_one(); // nobody left: a no-op
    }

    #[test]
    fn notify_reaches_only_waiters_listed_before_it() {
        let l = NotifyList::new();
        l.notify_one();
        l.notify_all();
        let w = noop_waker();
        let a = l.add(&w);
        let mut cx = Context::from_waker(&w);
        assert_eq!(l.poll_wait(&a, &mut cx), Poll::Pending);
        assert_eq!(l.cancel(a), None);
    }

    #[test]
    fn cancelled_waiter_reports_a_signal_it_received() {
        let l = NotifyList::new();
        let w = noop_waker();
        let a = l.add(&w);
        let b = l.add(&w);
        l.notify_one();
        assert_eq!(l.cancel(a), Some(Notified::One));
        assert_eq!(l.cancel(b), None);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Models of the races that matter, run with
    //! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p gort --release --lib sema`.

    use super::*;
    use crate::util::loom::sync::atomic::{AtomicUsize, Ordering};
    use crate::util::loom::sync::Arc;

    use crate::util::test_util::{block_on, poll_noop};

    #[test]
    fn sema_acquire_and_release_race_loses_no_wakeup() {
        loom::model(|| {
            let s = Arc::new(Sema::new(0));
            let t = {
                let s = s.clone();
                loom::thread::spawn(move || {
                    let _ = s.release(false);
                })
            };
            block_on(s.acquire(false, WaitReason::Semacquire));
            t.join().unwrap();
            assert_eq!(s.units(), 0);
        });
    }

    #[test]
    fn sema_handoff_release_races_with_a_cancelled_acquire() {
        loom::model(|| {
            let s = Arc::new(Sema::new(0));
            let t = {
                let s = s.clone();
                loom::thread::spawn(move || {
                    let mut a = s.acquire(false, WaitReason::Semacquire);
                    if poll_noop(&mut a).is_pending() {
                        drop(a); // withdraw, passing on a unit it may have been handed
                        false
                    } else {
                        true
                    }
                })
            };
            let _ = s.release(true);
            let took = t.join().unwrap();
            // The unit is either consumed by the acquire that completed, or back in the count.
            assert_eq!(s.units(), if took { 0 } else { 1 });
            assert_eq!(s.waiters(), 0);
        });
    }

    #[test]
    fn sema_cancelled_waiter_passes_the_wakeup_to_the_other_waiter() {
        loom::model(|| {
            let s = Arc::new(Sema::new(0));
            let mut a = s.acquire(false, WaitReason::Semacquire);
            assert!(poll_noop(&mut a).is_pending());
            let t = {
                let s = s.clone();
                loom::thread::spawn(move || block_on(s.acquire(false, WaitReason::Semacquire)))
            };
            let r = {
                let s = s.clone();
                loom::thread::spawn(move || {
                    let _ = s.release(false);
                })
            };
            drop(a);
            r.join().unwrap();
            t.join().unwrap();
            assert_eq!(s.units(), 0);
        });
    }

    #[test]
    fn sema_abandoned_waiter_is_paid_exactly_once() {
        loom::model(|| {
            let s = Arc::new(Sema::new(0));
            let paid = Arc::new(AtomicUsize::new(0));
            let mut a = s.acquire(false, WaitReason::Semacquire);
            assert!(poll_noop(&mut a).is_pending());
            let r = {
                let (s, paid) = (s.clone(), paid.clone());
                loom::thread::spawn(move || {
                    if s.release(false) {
                        paid.fetch_add(1, Ordering::SeqCst);
                    }
                })
            };
            match a.abandon() {
                Abandoned::HadUnit => paid.fetch_add(1, Ordering::SeqCst),
                Abandoned::Deferred => 0,
            };
            r.join().unwrap();
            assert_eq!(paid.load(Ordering::SeqCst), 1);
            assert_eq!(s.units(), 0);
            assert_eq!(s.waiters(), 0);
        });
    }

    #[test]
    fn sema_mutex_hands_off_under_contention() {
        loom::model(|| {
            let m = Arc::new(crate::sync::Mutex::new(0u32));
            let ts: Vec<_> = (0..2)
                .map(|_| {
                    let m = m.clone();
                    loom::thread::spawn(move || {
                        let mut g = block_on(m.lock());
                        *g += 1;
                    })
                })
                .collect();
            {
                let mut g = block_on(m.lock());
                *g += 1;
            }
            for t in ts {
                t.join().unwrap();
            }
            assert_eq!(*block_on(m.lock()), 3);
            assert!(!m.is_starving());
        });
    }

    #[test]
    fn sema_mutex_cancelled_lock_loses_no_wakeup() {
        loom::model(|| {
            let m = Arc::new(crate::sync::Mutex::new(()));
            let g = block_on(m.lock());
            let t = {
                let m = m.clone();
                loom::thread::spawn(move || drop(block_on(m.lock())))
            };
            let c = {
                let m = m.clone();
                loom::thread::spawn(move || {
                    let mut l = m.lock();
                    let _ = poll_noop(&mut l);
                })
            };
            drop(g);
            c.join().unwrap();
            t.join().unwrap();
            assert!(m.try_lock().is_some());
        });
    }

    #[test]
    fn sema_waitgroup_wait_returns_after_done() {
        loom::model(|| {
            let wg = crate::sync::WaitGroup::new();
            wg.add(2);
            let ts: Vec<_> = (0..2)
                .map(|_| {
                    let wg = wg.clone();
                    loom::thread::spawn(move || wg.done())
                })
                .collect();
            block_on(wg.wait());
            assert_eq!(wg.count(), 0);
            for t in ts {
                t.join().unwrap();
            }
        });
    }

    #[test]
    fn sema_waitgroup_cancelled_wait_does_not_block_another() {
        loom::model(|| {
            let wg = crate::sync::WaitGroup::new();
            wg.add(1);
            let w = {
                let wg = wg.clone();
                loom::thread::spawn(move || block_on(wg.wait()))
            };
            let c = {
                let wg = wg.clone();
                loom::thread::spawn(move || {
                    let mut f = wg.wait();
                    let _ = poll_noop(&mut f);
                })
            };
            wg.done();
            c.join().unwrap();
            w.join().unwrap();
        });
    }

    #[test]
    fn sema_rwlock_cancelled_blocked_reader_is_released_by_the_writer() {
        loom::model(|| {
            let rw = Arc::new(crate::sync::RwLock::new(0u32));
            let w = rw.try_write().unwrap();
            let c = {
                let rw = rw.clone();
                loom::thread::spawn(move || {
                    let mut r = rw.read();
                    let _ = poll_noop(&mut r); // blocked behind the writer, or admitted; then dropped
                })
            };
            let r = {
                let rw = rw.clone();
                loom::thread::spawn(move || *block_on(rw.read()))
            };
            drop(w);
            c.join().unwrap();
            assert_eq!(r.join().unwrap(), 0);
            assert!(
                rw.try_write().is_some(),
                "every reader, cancelled or not, has left"
            );
        });
    }

    #[test]
    fn sema_rwlock_cancelled_writer_is_finished_by_the_last_reader() {
        loom::model(|| {
            let rw = Arc::new(crate::sync::RwLock::new(0u32));
            let r = rw.try_read().unwrap();
            let w = {
                let rw = rw.clone();
                loom::thread::spawn(move || {
                    let mut w = rw.write();
                    let _ = poll_noop(&mut w); // waits for the reader, or got in; then dropped
                })
            };
            drop(r);
            w.join().unwrap();
            assert!(rw.try_write().is_some());
        });
    }

    #[test]
    fn sema_cond_signal_after_state_change_reaches_the_waiter() {
        loom::model(|| {
            let st = Arc::new((crate::sync::Mutex::new(false), crate::sync::Cond::new()));
            let t = {
                let st = st.clone();
                loom::thread::spawn(move || {
                    block_on(async {
                        let mut g = st.0.lock().await;
                        while !*g {
                            g = st.1.wait(g).await;
                        }
                    })
                })
            };
            *block_on(st.0.lock()) = true;
            st.1.signal();
            t.join().unwrap();
        });
    }
}
