//! `hchan`: the channel's state, and the parts of Go's `chansend`, `chanrecv` and `closechan`
//! (runtime/chan.go) that run under the channel lock.
//!
//! Nothing here blocks, wakes a task or drops a user's value. Wakers to call are collected in a
//! `WakeList` and values that must go away are handed back to the caller; both are dealt with after the
//! lock is released. Waking under the lock would make the woken task contend for the lock its waker
//! holds. Dropping a value under the lock could run a `Drop` that uses this same channel (think of a
//! channel of its own `Sender`s) and deadlock.
//!
//! Where this differs from Go: `recv` always takes from the buffer first and then refills it from one
//! parked sender. That is Go's "take the head, put the sender's value at the tail" for a full buffer,
//! and Go's direct take from a sender for an unbuffered channel (the buffer is empty there), written as
//! one rule. The one rule matters because of `give_back`, which Go does not need: a received value
//! whose receiver was cancelled before it could return it (see chan/mod.rs, "Cancel safety").
//!
//! The other difference: the buffer is a lock-free ring (ring.rs) that sends and receives use without
//! this lock while nobody is parked. Everything here is still the one truth about parking, hand-off,
//! close and give-back; before it parks a sudog, this code switches the fast paths off (the ring's
//! `SLOW` bit) and looks at the ring once more (`settle`), and once nothing is parked it switches them
//! back on (`update_mode`). A value given back goes to `front`, a short queue ahead of the ring.

use std::collections::VecDeque;
use std::task::Waker;

use super::ring::{Ring, RING_MAX};
use super::sudog::{Sudog, Waiter};
use super::{TryRecvError, TrySendError};
#[cfg(test)]
use crate::util::loom::sync::Arc;
use crate::util::waitq::{WaitList, WakeList};

/// Go's `hchan`, minus the lock (which sits beside it in `Chan`): the lock-free ring (ring.rs), which
/// `Chan` also reaches without the lock, and the state only the lock holder touches.
///
/// Invariants, where a *waiter* is a queued sudog whose select (if any) has not fired yet, and *the
/// buffer* is `front` followed by the ring:
/// 1. At least one of `sendq` and `recvq` has no waiter. (Exception: a single select that waits both
///    to send and to receive on this channel; a select cannot meet itself, so both of its sudogs wait
///    for a third party.)
/// 2. The buffer is non-empty ⇒ `recvq` has no waiter.
/// 3. The buffer has room (`has_room`) ⇒ `sendq` has no waiter.
/// 4. The buffer holds at most `cap` values, except right after `give_back` put a value at the front
///    of a full (or unbuffered) channel: the senders of all buffered values were already told their
///    send is done, so the value cannot be bounced back to anyone; it waits first in line.
/// 5. `closed` ⇒ no waiters in either queue.
/// 6. Either queue has a sudog linked, or `closed`, or `front` holds a given-back value ⇒ the ring's
///    `SLOW` bit is set, so every operation comes here (`slow` mirrors the bit).
pub(crate) struct HChan<'a, T> {
    pub(super) ring: &'a Ring<T>,
    pub(super) s: &'a mut Guarded<T>,
}

/// The part of `hchan` only the lock holder touches.
pub(crate) struct Guarded<T> {
    /// Values ahead of the ring: given back (`give_back`), or, for a channel too big for a ring
    /// (`cap > RING_MAX`), the whole buffer, grown as it fills.
    front: VecDeque<T>,
    /// `cap` if `front` is the buffer (no ring), else 0.
    front_cap: usize,
    closed: bool,
    /// Whether the ring's `SLOW` bit is set. Always true without a ring (no fast path to stop).
    slow: bool,
    has_ring: bool,
    /// Parked receivers (Go's `recvq`). Each queue also stores its sudogs, queued or dequeued and
    /// waiting for their owner to free them; a sudog's key is only meaningful with its `Dir`.
    recvq: WaitList<Sudog<T>>,
    /// Parked senders (Go's `sendq`).
    sendq: WaitList<Sudog<T>>,
}

/// The ring that `Chan` builds for a channel of capacity `cap` (0: none).
pub(crate) fn ring_cap(cap: usize) -> usize {
    if cap <= RING_MAX {
        cap
    } else {
        0
    }
}

impl<T> Guarded<T> {
    pub(crate) fn new(cap: usize) -> Self {
        let has_ring = ring_cap(cap) > 0;
        Guarded {
            front: VecDeque::new(),
            front_cap: if has_ring { 0 } else { cap },
            closed: false,
            slow: !has_ring,
            has_ring,
            recvq: WaitList::new(),
            sendq: WaitList::new(),
        }
    }
}

/// Which queue a sudog was parked on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Dir {
    Send,
    Recv,
}

/// What the owner of a sudog finds when it retires it.
pub(crate) struct Retired<T> {
    /// The sudog was still queued, so nobody completed it; it has now been withdrawn.
    pub(crate) withdrawn: bool,
    /// See `Sudog::success`.
    pub(crate) success: bool,
    /// A sender's value (withdrawn, or returned by `close`), or a receiver's received value.
    pub(crate) elem: Option<T>,
    /// Drop outside the lock (it may hold a waker).
    pub(crate) waiter: Waiter,
}

impl<T> HChan<'_, T> {
    /// Values in the buffer (Go's `qcount`).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.s.front.len() + self.ring.len()
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.s.closed
    }

    /// Put `v` at the back of the buffer if it has room (`has_room`).
    #[inline]
    fn push(&mut self, v: T) -> Result<(), T> {
        if !self.has_room() {
            Err(v)
        } else if self.s.has_ring {
            self.ring.push(v)
        } else {
            self.s.front.push_back(v);
            Ok(())
        }
    }

    /// Take the value at the front of the buffer.
    #[inline]
    fn pop(&mut self) -> Option<T> {
        if !self.s.front.is_empty() {
            return self.s.front.pop_front();
        }
        if self.s.has_ring {
            self.ring.pop()
        } else {
            None
        }
    }

    /// Whether the buffer holds fewer than `cap` values. A given-back value in `front` counts like any
    /// other: it came in past `cap` only if the buffer was full (invariant 4), and the ring behind it
    /// must then not fill to `cap` as well, or the channel would hold more than `cap` values for good.
    #[inline]
    fn has_room(&self) -> bool {
        let cap = if self.s.has_ring {
            self.ring.cap()
        } else {
            self.s.front_cap
        };
        self.len() < cap
    }

    /// `chansend` up to the point where it would park. Order as in Go: closed, then a parked receiver
    /// (the value goes straight into its slot, no buffer trip), then buffer space.
    pub(crate) fn send(&mut self, v: T, wake: &mut WakeList) -> Result<(), TrySendError<T>> {
        if self.s.closed {
            return Err(TrySendError::Closed(v));
        }
        if let Some(key) = self.s.recvq.dequeue(Sudog::claim) {
            let sg = self.s.recvq.get_mut(key);
            sg.elem = Some(v);
            sg.complete(true, wake);
            return Ok(());
        }
        self.push(v).map_err(TrySendError::Full)
    }

    /// `chanrecv` up to the point where it would park: the buffer's head (refilled from one parked
    /// sender if that left room), else a parked sender's value (unbuffered), else closed, else empty.
    pub(crate) fn recv(&mut self, wake: &mut WakeList) -> Result<T, TryRecvError> {
        if let Some(v) = self.pop() {
            if !self.s.sendq.is_empty() && self.has_room() {
                self.refill(wake);
            }
            return Ok(v);
        }
        if let Some(key) = self.s.sendq.dequeue(Sudog::claim) {
            let sg = self.s.sendq.get_mut(key);
            let sent = take_sent(sg);
            sg.complete(true, wake);
            return Ok(sent);
        }
        if self.s.closed {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Move one parked sender's value into the buffer, which has room. Returns false if no sender
    /// was waiting.
    fn refill(&mut self, wake: &mut WakeList) -> bool {
        let Some(key) = self.s.sendq.dequeue(Sudog::claim) else {
            return false;
        };
        let sg = self.s.sendq.get_mut(key);
        let sent = take_sent(sg);
        sg.complete(true, wake);
        if self.push(sent).is_err() {
            panic!("chan: no room for a parked sender's value after checking for room");
        }
        true
    }

    /// Park a sender whose `send` found no receiver and no room. Returns its sudog's key. If a fast
    /// receive made room meanwhile, the sudog may already be completed when this returns (`settle`).
    #[inline]
    pub(crate) fn park_send(&mut self, v: T, waiter: Waiter) -> usize {
        debug_assert!(!self.s.closed);
        let key = self.s.sendq.push_back(Sudog::new(Some(v), waiter));
        self.settle();
        key
    }

    /// Park a receiver whose `recv` found nothing. Returns its sudog's key. If a fast send put a value
    /// in the ring meanwhile, the sudog may already be completed when this returns (`settle`).
    #[inline]
    pub(crate) fn park_recv(&mut self, waiter: Waiter) -> usize {
        debug_assert!(!self.s.closed && self.s.front.is_empty());
        let key = self.s.recvq.push_back(Sudog::new(None, waiter));
        self.settle();
        key
    }

    /// Stop the fast paths (ring.rs, "The SLOW bit"), then restore invariants 2 and 3, which a fast
    /// operation that ran before the bit was set may have broken: the lock holder's look at the
    /// buffer (before deciding to park) and the park itself are not one atomic step for the lock-free
    /// side.
    ///
    /// Only the sudog this very park queued can be served here: a waiter queued earlier was queued
    /// by a park that set the bit and settled, and from then on no fast operation could start, and
    /// the ones in flight were waited for (`Ring::pop`/`push`). So the sudog is completed without a
    /// wake: its owner is the caller of this park, which looks at it right after (op.rs:
    /// `is_parked`; select.rs: `poll_fired` after parking).
    #[inline]
    fn settle(&mut self) {
        if self.s.has_ring {
            self.settle_ring();
        } // else: no fast path to race with
    }

    #[inline(never)]
    fn settle_ring(&mut self) {
        self.set_slow();
        while !self.s.recvq.is_empty() {
            let Some(v) = self.pop() else { break };
            let Some(key) = self.s.recvq.dequeue(Sudog::claim) else {
                self.s.front.push_front(v);
                break;
            };
            let sg = self.s.recvq.get_mut(key);
            sg.elem = Some(v);
            sg.success = true;
        }
        while !self.s.sendq.is_empty() && self.has_room() {
            let Some(key) = self.s.sendq.dequeue(Sudog::claim) else {
                break;
            };
            let sg = self.s.sendq.get_mut(key);
            let sent = take_sent(sg);
            sg.success = true;
            if self.push(sent).is_err() {
                panic!("chan: no room for a parked sender's value after checking for room");
            }
        }
    }

    /// Invariant 6, the other way: once nothing needs the lock any more, let the fast paths run.
    /// `Chan::with` calls this after every locked operation.
    #[inline]
    pub(crate) fn update_mode(&mut self) {
        let s = &*self.s;
        if s.slow
            && s.has_ring
            && !s.closed
            && s.front.is_empty()
            && s.recvq.is_empty()
            && s.sendq.is_empty()
        {
            self.s.slow = false;
            self.ring.clear_slow();
        }
    }

    fn queue(&mut self, dir: Dir) -> &mut WaitList<Sudog<T>> {
        match dir {
            Dir::Send => &mut self.s.sendq,
            Dir::Recv => &mut self.s.recvq,
        }
    }

    /// Whether the sudog `key` is still waiting in its queue.
    pub(crate) fn is_parked(&self, key: usize, dir: Dir) -> bool {
        match dir {
            Dir::Send => self.s.sendq.is_linked(key),
            Dir::Recv => self.s.recvq.is_linked(key),
        }
    }

    /// Point a plain operation's sudog at the current waker. Returns the old waker, to be dropped
    /// outside the lock.
    pub(crate) fn set_waker(&mut self, key: usize, dir: Dir, waker: &Waker) -> Option<Waker> {
        match &mut self.queue(dir).get_mut(key).waiter {
            Waiter::Op(Some(w)) if w.will_wake(waker) => None,
            Waiter::Op(slot) => slot.replace(waker.clone()),
            Waiter::Select { .. } => panic!("chan: set_waker on a select's sudog"),
        }
    }

    /// The owner is done with its sudog (Go's `releaseSudog`, plus `dequeueSudoG` if it is still
    /// queued): withdraw it if nobody completed it, free it, and report what it held.
    pub(crate) fn retire(&mut self, key: usize, dir: Dir) -> Retired<T> {
        let queue = self.queue(dir);
        let withdrawn = queue.is_linked(key);
        let sg = queue.remove(key);
        Retired {
            withdrawn,
            success: sg.success,
            elem: sg.elem,
            waiter: sg.waiter,
        }
    }

    /// A value that a sender handed to a receiver, whose receive was then cancelled before it could
    /// return the value, goes back to the channel: to the next parked receiver if there is one, else to
    /// the front of the buffer (it is older than anything buffered), even past `cap` (invariant 4).
    pub(crate) fn give_back(&mut self, v: T, wake: &mut WakeList) {
        if let Some(key) = self.s.recvq.dequeue(Sudog::claim) {
            let sg = self.s.recvq.get_mut(key);
            sg.elem = Some(v);
            sg.complete(true, wake);
        } else {
            self.set_slow();
            self.s.front.push_front(v);
        }
    }

    #[inline]
    fn set_slow(&mut self) {
        if !self.s.slow {
            self.s.slow = true;
            self.ring.set_slow();
        }
    }

    /// `closechan`: mark closed and wake every parked receiver (they get `None`) and sender (they get
    /// their value back). Returns false if it was already closed.
    pub(crate) fn close(&mut self, wake: &mut WakeList) -> bool {
        if self.s.closed {
            return false;
        }
        self.set_slow();
        self.s.closed = true;
        for q in [&mut self.s.recvq, &mut self.s.sendq] {
            while let Some(key) = q.dequeue(Sudog::claim) {
                q.get_mut(key).complete(false, wake);
            }
        }
        true
    }

    /// Check the invariants above (tests only).
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        // The waiters of a queue, as the selects they belong to (`None`: a plain operation).
        let live = |q: &WaitList<Sudog<T>>| -> Vec<Option<*const _>> {
            q.keys()
                .into_iter()
                .filter_map(|k| match &q.get(k).waiter {
                    Waiter::Op(_) => Some(None),
                    Waiter::Select { sel, .. } => {
                        sel.is_waiting().then_some(Some(Arc::as_ptr(sel)))
                    }
                })
                .collect()
        };
        let (senders, receivers) = (live(&self.s.sendq), live(&self.s.recvq));
        if !senders.is_empty() && !receivers.is_empty() {
            // Only the exception: all of them belong to one select.
            let first = senders[0];
            assert!(
                first.is_some() && senders.iter().chain(&receivers).all(|&s| s == first),
                "both queues have waiters"
            );
        }
        assert!(
            self.len() == 0 || receivers.is_empty(),
            "buffered values with parked receivers"
        );
        assert!(
            !self.has_room() || senders.is_empty(),
            "room in the buffer with parked senders"
        );
        assert!(
            !self.s.closed || senders.len() + receivers.len() == 0,
            "closed with waiters"
        );
        let needs_lock = self.s.closed
            || !self.s.front.is_empty()
            || !self.s.recvq.is_empty()
            || !self.s.sendq.is_empty();
        assert!(
            !needs_lock || self.s.slow,
            "waiters, close or give-back with the fast paths on"
        );
    }
}

/// The value a parked sender carries. Every queued sender sudog holds one (`park_send` put it there and
/// only its completion takes it out).
fn take_sent<T>(sg: &mut Sudog<T>) -> T {
    match sg.elem.take() {
        Some(v) => v,
        None => panic!("chan: a parked sender without a value"),
    }
}
