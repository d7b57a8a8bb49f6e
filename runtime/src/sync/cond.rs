//! Condition variables: Go's sync/cond.go (`Wait`, `Signal`, `Broadcast`) over the runtime's
//! `notifyList` (notify_list.rs: `NotifyList`).
//!
//! `wait(guard)` joins the condition's waiter list *while still holding the mutex*, then unlocks it and
//! sleeps; once notified it locks the mutex again and returns the new guard. Joining before unlocking is
//! what makes a signal reliable: a signaller that changes the condition under the mutex and then calls
//! `signal` is guaranteed to find this waiter listed. `signal` wakes the longest-waiting waiter,
//! `broadcast` all current waiters; neither needs the mutex held. As in Go, wake-ups can come for other
//! reasons than the condition you wait for, so wait in a loop:
//!
//! ```ignore
//! let mut g = m.lock().await;
//! while !ready(&g) {
//!     g = cond.wait(g).await;
//! }
//! ```
//!
//! # Where this differs from Go, and why
//! - Go's `Cond` carries its `Locker`; here the guard passed to `wait` names the mutex, so the borrow
//!   checker ties them together and Go's `copyChecker` is unnecessary.
//! - Cancellation: a `wait` dropped after `signal` chose it passes the signal to the next waiter (at any
//!   point before it returns, including while relocking), so a cancelled waiter never swallows a signal.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::mutex::{MutexGuard, RawLock};
use super::Mutex;
use crate::sched::coop::poll_preempt;
use crate::sched::g::{set_waitreason, WaitReason};
use crate::sync::notify_list::{Notified, NotifyList, Ticket};

/// A condition variable for use with [`Mutex`]: Go's `sync.Cond`.
pub struct Cond {
    notify: NotifyList,
}

impl Cond {
    pub fn new() -> Cond {
        Cond {
            notify: NotifyList::new(),
        }
    }

    /// Unlock `guard`'s mutex, wait for `signal` or `broadcast`, lock the mutex again and return the new
    /// guard.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> CondWait<'a, '_, T> {
        CondWait {
            cond: self,
            stage: Stage::Start(guard),
            signalled: false,
        }
    }

    /// Wake the waiter that has waited longest, if any: Go's `Signal`.
    pub fn signal(&self) {
        self.notify.notify_one();
    }

    /// Wake every current waiter: Go's `Broadcast`.
    pub fn broadcast(&self) {
        self.notify.notify_all();
    }
}

impl Default for Cond {
    fn default() -> Self {
        Cond::new()
    }
}

impl std::fmt::Debug for Cond {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cond").finish_non_exhaustive()
    }
}

/// A pending `Cond::wait`.
#[must_use = "futures do nothing unless polled"]
pub struct CondWait<'a, 'c, T> {
    cond: &'c Cond,
    stage: Stage<'a, T>,
    /// `signal` chose this waiter: if it is dropped before returning, the signal goes to another one.
    signalled: bool,
}

enum Stage<'a, T> {
    /// Not polled yet: still holding the lock.
    Start(MutexGuard<'a, T>),
    /// Listed, mutex unlocked, waiting for a notify.
    Listed(&'a Mutex<T>, Ticket),
    /// Notified, locking the mutex again.
    Relock(&'a Mutex<T>, RawLock<'a>),
    Done,
}

impl<'a, T> Future for CondWait<'a, '_, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        if poll_preempt(cx).is_pending() {
            return Poll::Pending;
        }
        loop {
            match std::mem::replace(&mut this.stage, Stage::Done) {
                Stage::Start(guard) => {
                    let ticket = this.cond.notify.add(cx.waker());
                    let mutex = guard.mutex();
                    drop(guard);
                    this.stage = Stage::Listed(mutex, ticket);
                }
                Stage::Listed(mutex, ticket) => match this.cond.notify.poll_wait(&ticket, cx) {
                    Poll::Pending => {
                        this.stage = Stage::Listed(mutex, ticket);
                        set_waitreason(WaitReason::CondWait);
                        return Poll::Pending;
                    }
                    Poll::Ready(how) => {
                        this.signalled = how == Notified::One;
                        this.stage = Stage::Relock(mutex, mutex.raw().lock());
                    }
                },
                Stage::Relock(mutex, mut lock) => match Pin::new(&mut lock).poll(cx) {
                    Poll::Pending => {
                        this.stage = Stage::Relock(mutex, lock);
                        return Poll::Pending;
                    }
                    Poll::Ready(()) => {
                        this.signalled = false;
                        return Poll::Ready(MutexGuard::from_locked(mutex));
                    }
                },
                Stage::Done => panic!("Cond wait future polled after completion"),
            }
        }
    }
}

impl<T> Drop for CondWait<'_, '_, T> {
    fn drop(&mut self) {
        let pass_on = match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Listed(_, ticket) => self.cond.notify.cancel(ticket) == Some(Notified::One),
            // Dropping the RawLock leaves the mutex cleanly; the signal it consumed must not be lost.
            Stage::Relock(..) => self.signalled,
            _ => false,
        };
        if pass_on {
            self.cond.notify.notify_one();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::util::test_util::{block_on, poll_noop};
    use std::sync::Arc;
    use std::thread;

    /// Lock `m` and wait on `c`; the wait is polled once, so it is parked on `c` and `m` is free again.
    fn parked_wait<'a, 'c>(c: &'c Cond, m: &'a Mutex<()>) -> CondWait<'a, 'c, ()> {
        let mut w = c.wait(block_on(m.lock()));
        assert!(poll_noop(&mut w).is_pending());
        w
    }

    #[test]
    fn wait_unlocks_and_relocks_after_signal() {
        let m = Mutex::new(0);
        let c = Cond::new();
        let g = block_on(m.lock());
        let mut w = c.wait(g);
        assert!(poll_noop(&mut w).is_pending());
        *m.try_lock().expect("wait released the mutex") = 7;
        c.signal();
        match poll_noop(&mut w) {
            Poll::Ready(g) => assert_eq!(*g, 7),
            Poll::Pending => panic!("signalled and the mutex is free"),
        };
    }

    #[test]
    fn signal_wakes_only_the_oldest_waiter() {
        let m = Mutex::new(());
        let c = Cond::new();
        let mut a = parked_wait(&c, &m);
        let mut b = parked_wait(&c, &m);
        c.signal();
        assert!(poll_noop(&mut b).is_pending());
        let ga = match poll_noop(&mut a) {
            Poll::Ready(g) => g,
            Poll::Pending => panic!("a waited longest"),
        };
        drop(ga);
        assert!(poll_noop(&mut b).is_pending(), "one signal, one waiter");
    }

    #[test]
    fn broadcast_wakes_every_waiter() {
        let m = Mutex::new(());
        let c = Cond::new();
        let mut ws = Vec::new();
        for _ in 0..3 {
            // Each wait must be parked (unlocking the mutex) before the next one can lock.
            ws.push(parked_wait(&c, &m));
        }
        c.broadcast();
        for w in &mut ws {
            assert!(poll_noop(w).is_ready()); // the guard is dropped at once, freeing the mutex
        }
    }

    #[test]
    fn signal_before_waiting_is_not_remembered() {
        let m = Mutex::new(());
        let c = Cond::new();
        c.signal();
        let mut w = c.wait(block_on(m.lock()));
        assert!(poll_noop(&mut w).is_pending());
    }

    #[test]
    fn dropped_signalled_waiter_passes_the_signal_on() {
        let m = Mutex::new(());
        let c = Cond::new();
        let a = parked_wait(&c, &m);
        let mut b = parked_wait(&c, &m);
        c.signal();
        drop(a);
        assert!(poll_noop(&mut b).is_ready());
    }

    #[test]
    fn dropped_waiter_while_relocking_passes_the_signal_on() {
        let m = Mutex::new(());
        let c = Cond::new();
        let mut a = parked_wait(&c, &m);
        let mut b = parked_wait(&c, &m);
        let held = m.try_lock().unwrap();
        c.signal();
        assert!(
            poll_noop(&mut a).is_pending(),
            "signalled but the mutex is held"
        );
        drop(a);
        drop(held);
        assert!(poll_noop(&mut b).is_ready());
    }

    #[test]
    fn producer_and_consumers_on_threads_see_every_item() {
        let state = Arc::new((Mutex::new((0u32, false)), Cond::new()));
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let state = state.clone();
                thread::spawn(move || {
                    let (m, c) = &*state;
                    let mut taken = 0;
                    block_on(async {
                        loop {
                            let mut g = m.lock().await;
                            while g.0 == 0 && !g.1 {
                                g = c.wait(g).await;
                            }
                            if g.0 == 0 {
                                return;
                            }
                            g.0 -= 1;
                            taken += 1;
                        }
                    });
                    taken
                })
            })
            .collect();
        for _ in 0..300 {
            block_on(state.0.lock()).0 += 1;
            state.1.signal();
        }
        block_on(state.0.lock()).1 = true;
        state.1.broadcast();
        let total: u32 = consumers.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(total, 300);
    }
}
