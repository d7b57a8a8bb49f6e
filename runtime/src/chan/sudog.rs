//! Go's `sudog` as a channel uses it (runtime/runtime2.go: `sudog`; runtime/chan.go: the `isSelect`
//! check in `waitq.dequeue`): one parked send or receive, the payload of a channel's wait queues.
//!
//! A `Sudog` carries the value (a sender's value, or the slot a sender fills for a receiver), who to
//! wake, and `success` (did a counterpart complete it, or did `close` wake it). It sits in the channel's
//! `sendq` or `recvq`, a `WaitList<Sudog<T>>` (util/waitq.rs), which holds the links and the key. A
//! plain `send`/`recv` owns its sudog alone; a parked `select!` owns one sudog per case, on as many
//! channels, all pointing at one shared `SelectWaiter` (Go's `g.selectDone`). `claim` is the check Go's
//! `dequeue` makes before handing out a select's sudog: it claims the select with a CAS on that shared
//! state, and a sudog whose select already fired elsewhere is skipped.
//!
//! Differences from Go, and why:
//! - Go's `sudog` is also the semaphore's waiter and carries fields for both (`ticket`, `parent`,
//!   `waitlink`, ...). Here the list is generic over its payload, so each user keeps only what it needs:
//!   this type is the channel's, the semaphore has its own (sync/sema.rs).
//! - No `g` pointer: a parked future is woken through its `Waker` (`Waiter::Op`), or through its
//!   select's shared state (`Waiter::Select`).
//!
//! Everything here runs under the lock of the channel that owns the queue.

use std::task::Waker;

use crate::chan::select::SelectWaiter;
use crate::util::loom::sync::Arc;
use crate::util::waitq::WakeList;

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
    /// Go's `sudog.success`: meaningful once dequeued. `true`: a counterpart completed the operation.
    /// `false`: `close` woke it, or (for a select) the select fired on another case and this was skipped.
    pub(crate) success: bool,
}

impl<T> Sudog<T> {
    pub(crate) fn new(elem: Option<T>, waiter: Waiter) -> Self {
        Sudog {
            elem,
            waiter,
            success: false,
        }
    }

    /// Whether a counterpart that dequeues this sudog may complete it, for `WaitList::dequeue`. A plain
    /// operation always may. For a select's sudog this *fires* the select on this case (a CAS that only
    /// one channel can win), so the caller must then complete it; `false` means the select already
    /// fired elsewhere or was cancelled, and the sudog is skipped.
    pub(crate) fn claim(&self) -> bool {
        match &self.waiter {
            Waiter::Op(_) => true,
            Waiter::Select { sel, case } => sel.try_fire(*case),
        }
    }

    /// Mark this (already dequeued and claimed) sudog done and collect the waker to call after
    /// unlocking.
    pub(crate) fn complete(&mut self, success: bool, wake: &mut WakeList) {
        self.success = success;
        wake.push(self.waiter.wake_handle());
    }
}
