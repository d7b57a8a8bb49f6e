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

use std::collections::VecDeque;
use std::task::Waker;

use super::sudog::{Sudog, Waiter};
use super::{TryRecvError, TrySendError};
#[cfg(test)]
use crate::util::loom::sync::Arc;
use crate::util::waitq::{WaitList, WakeList};

/// Go's `hchan`, minus the lock (which sits beside it in `Chan`).
///
/// Invariants, where a *waiter* is a queued sudog whose select (if any) has not fired yet:
/// 1. At least one of `sendq` and `recvq` has no waiter. (Exception: a single select that waits both
///    to send and to receive on this channel; a select cannot meet itself, so both of its sudogs wait
///    for a third party.)
/// 2. `buf` is non-empty ⇒ `recvq` has no waiter.
/// 3. `buf.len() < cap` ⇒ `sendq` has no waiter.
/// 4. `buf.len() <= cap`, except right after `give_back` put a value at the front of a full (or
///    unbuffered) channel: the senders of all buffered values were already told their send is done,
///    so the value cannot be bounced back to anyone; it waits first in line.
/// 5. `closed` ⇒ no waiters in either queue.
pub(crate) struct HChan<T> {
    /// Go's ring buffer `buf`: `qcount` is `buf.len()`, `recvx` its front, `sendx` its back.
    buf: VecDeque<T>,
    /// Go's `dataqsiz`; 0 means unbuffered.
    cap: usize,
    closed: bool,
    /// Parked receivers (Go's `recvq`). Each queue also stores its sudogs, queued or dequeued and
    /// waiting for their owner to free them; a sudog's key is only meaningful with its `Dir`.
    recvq: WaitList<Sudog<T>>,
    /// Parked senders (Go's `sendq`).
    sendq: WaitList<Sudog<T>>,
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

/// Buffers larger than this are allocated as they fill rather than up front, so `channel(usize::MAX)`
/// is a (practically) unbounded channel instead of an allocation failure.
const PREALLOC_MAX: usize = 1024;

impl<T> HChan<T> {
    pub(crate) fn new(cap: usize) -> Self {
        HChan {
            buf: VecDeque::with_capacity(cap.min(PREALLOC_MAX)),
            cap,
            closed: false,
            recvq: WaitList::new(),
            sendq: WaitList::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// `chansend` up to the point where it would park. Order as in Go: closed, then a parked receiver
    /// (the value goes straight into its slot, no buffer trip), then buffer space.
    pub(crate) fn send(&mut self, v: T, wake: &mut WakeList) -> Result<(), TrySendError<T>> {
        if self.closed {
            return Err(TrySendError::Closed(v));
        }
        if let Some(key) = self.recvq.dequeue(Sudog::claim) {
            let sg = self.recvq.get_mut(key);
            sg.elem = Some(v);
            sg.complete(true, wake);
            return Ok(());
        }
        if self.buf.len() < self.cap {
            self.buf.push_back(v);
            return Ok(());
        }
        Err(TrySendError::Full(v))
    }

    /// `chanrecv` up to the point where it would park: the buffer's head (refilled from one parked
    /// sender if that left room), else a parked sender's value (unbuffered), else closed, else empty.
    pub(crate) fn recv(&mut self, wake: &mut WakeList) -> Result<T, TryRecvError> {
        if let Some(v) = self.buf.pop_front() {
            if self.buf.len() < self.cap {
                if let Some(key) = self.sendq.dequeue(Sudog::claim) {
                    let sg = self.sendq.get_mut(key);
                    let sent = take_sent(sg);
                    sg.complete(true, wake);
                    self.buf.push_back(sent);
                }
            }
            return Ok(v);
        }
        if let Some(key) = self.sendq.dequeue(Sudog::claim) {
            let sg = self.sendq.get_mut(key);
            let sent = take_sent(sg);
            sg.complete(true, wake);
            return Ok(sent);
        }
        if self.closed {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Park a sender whose `send` found no receiver and no room. Returns its sudog's key.
    pub(crate) fn park_send(&mut self, v: T, waiter: Waiter) -> usize {
        debug_assert!(!self.closed && self.buf.len() >= self.cap);
        self.sendq.push_back(Sudog::new(Some(v), waiter))
    }

    /// Park a receiver whose `recv` found nothing. Returns its sudog's key.
    pub(crate) fn park_recv(&mut self, waiter: Waiter) -> usize {
        debug_assert!(!self.closed && self.buf.is_empty());
        self.recvq.push_back(Sudog::new(None, waiter))
    }

    fn queue(&mut self, dir: Dir) -> &mut WaitList<Sudog<T>> {
        match dir {
            Dir::Send => &mut self.sendq,
            Dir::Recv => &mut self.recvq,
        }
    }

    /// Whether the sudog `key` is still waiting in its queue.
    pub(crate) fn is_parked(&self, key: usize, dir: Dir) -> bool {
        match dir {
            Dir::Send => self.sendq.is_linked(key),
            Dir::Recv => self.recvq.is_linked(key),
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
        if let Some(key) = self.recvq.dequeue(Sudog::claim) {
            let sg = self.recvq.get_mut(key);
            sg.elem = Some(v);
            sg.complete(true, wake);
        } else {
            self.buf.push_front(v);
        }
    }

    /// `closechan`: mark closed and wake every parked receiver (they get `None`) and sender (they get
    /// their value back). Returns false if it was already closed.
    pub(crate) fn close(&mut self, wake: &mut WakeList) -> bool {
        if self.closed {
            return false;
        }
        self.closed = true;
        for q in [&mut self.recvq, &mut self.sendq] {
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
        let (senders, receivers) = (live(&self.sendq), live(&self.recvq));
        if !senders.is_empty() && !receivers.is_empty() {
            // Only the exception: all of them belong to one select.
            let first = senders[0];
            assert!(
                first.is_some() && senders.iter().chain(&receivers).all(|&s| s == first),
                "both queues have waiters"
            );
        }
        assert!(
            self.buf.is_empty() || receivers.is_empty(),
            "buffered values with parked receivers"
        );
        assert!(
            self.buf.len() >= self.cap || senders.is_empty(),
            "room in the buffer with parked senders"
        );
        assert!(
            !self.closed || senders.len() + receivers.len() == 0,
            "closed with waiters"
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
