//! Go's `sudog` and `waitq` (runtime/runtime2.go: `sudog`; runtime/chan.go: `waitq.enqueue`,
//! `waitq.dequeue`): a parked channel operation, and the FIFO of them a channel keeps per direction.
//!
//! A `Sudog` is one parked send or receive: the value it carries (a sender's value, or the slot a
//! sender fills for a receiver), who to wake, its links in the queue, and `success` (did a counterpart
//! complete it, or did `close` wake it). A plain `send`/`recv` owns its sudog alone; a parked `select!`
//! owns one sudog per case, on as many channels, all pointing at one shared `SelectWaiter` (Go's
//! `g.selectDone`). `dequeue` skips the sudog of a select that has already fired elsewhere: it claims the
//! select with a CAS on that shared state first, exactly as Go's `dequeue` does.
//!
//! Differences from Go, and why:
//! - Go takes sudogs from a per-P cache and links them with raw pointers. Here the sudogs of a channel
//!   live in a `slab::Slab` owned by that channel, linked by slab keys, and the parked future keeps its
//!   key. The same O(1) unlink as Go's doubly linked list, with no `unsafe`.
//! - In Go the woken G itself is the sudog's owner and the runtime frees the sudog. Here a counterpart
//!   only *unlinks* a sudog; the owning future frees it (on its next poll, or when dropped). So a key is
//!   never freed or reused behind its owner's back, and whatever the counterpart left in it (a value, the
//!   `success` flag) waits there, under the channel lock, until the owner picks it up.
//!
//! Everything here runs under the lock of the channel that owns the slab.

use std::task::Waker;

use slab::Slab;

use crate::chan::select::SelectWaiter;
use crate::util::loom::sync::Arc;

/// Who a sudog wakes when a counterpart (or `close`) completes it. Go's `sudog.g` plus `isSelect`.
pub(crate) enum Waiter {
    /// A plain `send`/`recv` future. The waker is refreshed, under the channel lock, on every poll.
    Op(Option<Waker>),
    /// Case `case` of a parked select. Completing it needs the select's consent: `SelectWaiter::try_fire`.
    Select { sel: Arc<SelectWaiter>, case: usize },
}

impl Waiter {
    /// The waker to call once the channel lock is released.
    fn wake_handle(&mut self) -> Option<Waker> {
        match self {
            Waiter::Op(w) => w.take(),
            Waiter::Select { sel, .. } => sel.waker(),
        }
    }
}

pub(crate) struct Sudog<T> {
    /// Go's `sudog.elem`. A parked sender's value (until a receiver takes it, or after `close`, when the
    /// sender takes it back). A parked receiver's slot (filled by the sender that completes it).
    pub(crate) elem: Option<T>,
    pub(crate) waiter: Waiter,
    /// Go's `sudog.success`: meaningful once unlinked. `true`: a counterpart completed the operation.
    /// `false`: `close` woke it, or (for a select) the select fired on another case and this was skipped.
    pub(crate) success: bool,
    /// Links while queued (Go's `prev`/`next`), `None` once unlinked.
    links: Option<Links>,
}

#[derive(Clone, Copy)]
struct Links {
    prev: Option<usize>,
    next: Option<usize>,
}

impl<T> Sudog<T> {
    pub(crate) fn new(elem: Option<T>, waiter: Waiter) -> Self {
        Sudog {
            elem,
            waiter,
            success: false,
            links: None,
        }
    }

    /// Still waiting in its queue: nobody has completed, closed or skipped it.
    pub(crate) fn is_queued(&self) -> bool {
        self.links.is_some()
    }

    /// Mark this (already dequeued) sudog done and collect the waker to call after unlocking.
    pub(crate) fn complete(&mut self, success: bool, wake: &mut WakeList) {
        debug_assert!(!self.is_queued());
        self.success = success;
        wake.push(self.waiter.wake_handle());
    }
}

/// Go's `waitq`: a FIFO of sudogs, threaded through the channel's slab.
#[derive(Default)]
pub(crate) struct WaitQ {
    first: Option<usize>,
    last: Option<usize>,
}

impl WaitQ {
    /// Append `key` (a fresh, unlinked sudog in `sudogs`) at the back.
    pub(crate) fn enqueue<T>(&mut self, sudogs: &mut Slab<Sudog<T>>, key: usize) {
        debug_assert!(!sudogs[key].is_queued());
        sudogs[key].links = Some(Links {
            prev: self.last,
            next: None,
        });
        match self.last {
            Some(last) => link_mut(sudogs, last).next = Some(key),
            None => self.first = Some(key),
        }
        self.last = Some(key);
    }

    /// Pop the first sudog that may still be completed. A sudog of a select that has already fired
    /// (or been cancelled) is unlinked and passed over; it stays in the slab for its owner to free.
    /// For a select sudog that is returned, this call has just fired the select on that case, so the
    /// caller must now complete it.
    pub(crate) fn dequeue<T>(&mut self, sudogs: &mut Slab<Sudog<T>>) -> Option<usize> {
        loop {
            let key = self.first?;
            self.unlink(sudogs, key);
            if let Waiter::Select { sel, case } = &sudogs[key].waiter {
                if !sel.try_fire(*case) {
                    continue;
                }
            }
            return Some(key);
        }
    }

    /// Take `key` out of this queue if it is still in it. Returns whether it was.
    pub(crate) fn remove<T>(&mut self, sudogs: &mut Slab<Sudog<T>>, key: usize) -> bool {
        if !sudogs[key].is_queued() {
            return false;
        }
        self.unlink(sudogs, key);
        true
    }

    fn unlink<T>(&mut self, sudogs: &mut Slab<Sudog<T>>, key: usize) {
        let Links { prev, next } = match sudogs[key].links.take() {
            Some(l) => l,
            None => panic!("chan: unlinking a sudog that is not queued"),
        };
        match prev {
            Some(p) => link_mut(sudogs, p).next = next,
            None => self.first = next,
        }
        match next {
            Some(n) => link_mut(sudogs, n).prev = prev,
            None => self.last = prev,
        }
    }

    /// Every key in the queue, front to back (for invariant checks in tests).
    #[cfg(test)]
    pub(crate) fn keys<T>(&self, sudogs: &Slab<Sudog<T>>) -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = self.first;
        while let Some(k) = at {
            out.push(k);
            at = sudogs[k].links.and_then(|l| l.next);
        }
        out
    }
}

fn link_mut<T>(sudogs: &mut Slab<Sudog<T>>, key: usize) -> &mut Links {
    match sudogs[key].links.as_mut() {
        Some(l) => l,
        None => panic!("chan: a queued sudog's neighbour is not queued"),
    }
}

/// Wakers collected under a channel lock, called after it is released (Go readies Gs after unlocking,
/// too: a woken task would otherwise run straight into the lock its waker still holds). Holds one
/// waker inline, which is all a send or receive ever produces; only `close` needs the vector.
#[derive(Default)]
pub struct WakeList {
    one: Option<Waker>,
    more: Vec<Waker>,
}

impl WakeList {
    pub(crate) fn new() -> Self {
        WakeList::default()
    }

    pub(crate) fn push(&mut self, w: Option<Waker>) {
        let Some(w) = w else { return };
        match self.one {
            None => self.one = Some(w),
            Some(_) => self.more.push(w),
        }
    }

    /// Call every collected waker. Must run with no channel lock held.
    pub(crate) fn wake_all(self) {
        if let Some(w) = self.one {
            w.wake();
        }
        for w in self.more {
            w.wake();
        }
    }
}
