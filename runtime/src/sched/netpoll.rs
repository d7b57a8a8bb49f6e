//! The scheduler's side of the netpoller: Go's `netpoll(delay)`, `netpollBreak`, `netpollAnyWaiters`
//! as the scheduler loop calls them (runtime/proc.go: findRunnable, sysmon).
//!
//! The poller itself lives in the `netpoll` crate and knows nothing of Gs: it returns the `Waker`s of
//! the waiters that became ready. Waking them here goes through `wakep::ready` like any other wake-up:
//! onto this M's P if it holds one, else onto the global queue with a `wakep`.

use std::task::Waker;
use std::time::Duration;

use crate::sched::Sched;
use crate::util::loom::sync::Arc;

/// Go's `netpoll(delay)`: wait for I/O up to `delay` (None = until woken), then make the Gs whose
/// I/O is ready runnable. Returns how many were woken.
pub(crate) fn netpoll(sched: &Arc<Sched>, delay: Option<Duration>) -> usize {
    let mut ready: Vec<Waker> = Vec::new();
    if let Err(e) = sched.poller.poll(delay, &mut ready) {
        // A failing epoll_wait is not something a G can act on; report it and carry on, the next
        // round will poll again.
        eprintln!("gort: netpoll failed: {e}");
    }
    let n = ready.len();
    if n > 0 {
        crate::trace::netpoll_batch(sched, n);
    }
    crate::sched::getg::batch_wake(crate::sched::getg::Batch::Netpoll, || {
        for w in ready {
            w.wake();
        }
    });
    n
}

/// Go's `netpollBreak`: interrupt an M blocked in `netpoll`.
pub(crate) fn netpoll_break(sched: &Sched) {
    if let Err(e) = sched.poller.wake() {
        eprintln!("gort: cannot wake the netpoller: {e}");
    }
}

/// Go's `netpollAnyWaiters`.
pub(crate) fn netpoll_any_waiters(sched: &Sched) -> bool {
    sched.poller.waiters() > 0
}
