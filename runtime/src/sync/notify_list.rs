//! The waiter list of `sync.Cond`: Go's `notifyList` (runtime/sema.go: `notifyListAdd`,
//! `notifyListWait`, `notifyListNotifyOne`, `notifyListNotifyAll`). `Cond` (cond.rs) is built on it.
//!
//! A waiter joins the list (`add`, Go's `notifyListAdd`) while it still holds the condition's mutex,
//! then unlocks and waits (`poll_wait`, Go's `notifyListWait`). `notify_one` wakes the waiter that joined
//! first, `notify_all` every waiter listed at that moment; a notify reaches only waiters that joined
//! before it. The waiters sit in a `WaitList` (util/waitq.rs, the list channels and the semaphore use),
//! and a notified waiter's node stays there, marked with how it was woken, until its owner collects it.
//!
//! ```text
//!   add(a), add(b)   list: a b        both wait
//!   notify_one       list: b          a woken: Notified::One
//!   notify_all       list: (empty)    b woken: Notified::All
//!   add(c)           list: c          c waits for the next notify
//! ```
//!
//! # Where this differs from Go, and why
//! - Go hands out tickets lock-free (`notifyListAdd` is one atomic add) and lists the waiter later, in
//!   `notifyListWait`, so a notify in between is remembered by ticket number. Here the ticket is taken
//!   and the waiter listed in one step under the list's lock, before the caller unlocks its mutex, so
//!   the list order *is* the ticket order: a notify still wakes the oldest waiter that was waiting when
//!   it was sent, and a cancelled wait can simply unlink itself (with Go's free-floating tickets a
//!   withdrawn ticket would swallow a later signal).
//! - A goroutine cannot abandon `notifyListWait`; a future can be dropped. `cancel` withdraws a waiter
//!   and reports whether `notify_one` had already chosen it, so the caller can pass that signal on.

use std::task::{Context, Poll, Waker};

use crate::util::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::util::loom::sync::Mutex;
use crate::util::waitq::{WaitList, WakeList};

/// Go's `notifyList`: the waiters of a `sync.Cond`, in ticket (arrival) order.
pub(crate) struct NotifyList {
    /// Listed waiters, read without the lock so `notify_one`/`notify_all` skip the lock when nobody
    /// waits (Go's `wait == notify` fast path). Changed only under the lock.
    len: AtomicUsize,
    list: Mutex<WaitList<Notifyee>>,
}

/// A listed waiter: the payload of the `WaitList`.
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
        let key = list.push_back(Notifyee {
            waker: Some(waker.clone()),
            notified: None,
        });
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
        let mut wake = WakeList::new();
        {
            let mut list = crate::util::loom::lock(&self.list);
            while let Some(key) = list.pop_front() {
                self.len.fetch_sub(1, SeqCst);
                let n = list.get_mut(key);
                n.notified = Some(Notified::All);
                wake.push(n.waker.take());
            }
        }
        // Wake outside the lock, as Go readies the list after unlocking it.
        wake.wake_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::util::test_util::noop_waker;

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
    //! Models of a notify racing with the waiters, run with
    //! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p gort --release --lib cond`.

    use super::*;
    use crate::util::loom::sync::Arc;
    use crate::util::test_util::{block_on, noop_waker};

    /// `notify_one` races with the oldest waiter's cancel: whichever goes first, the signal ends up
    /// with the other waiter (passed on by the cancel if it had been chosen), never lost.
    #[test]
    fn cond_notify_one_racing_a_cancel_reaches_the_other_waiter() {
        loom::model(|| {
            let l = Arc::new(NotifyList::new());
            let w = noop_waker();
            let a = l.add(&w);
            let b = l.add(&w);
            let t = {
                let l = l.clone();
                loom::thread::spawn(move || l.notify_one())
            };
            if l.cancel(a) == Some(Notified::One) {
                l.notify_one();
            }
            t.join().unwrap();
            let mut cx = Context::from_waker(&w);
            assert_eq!(l.poll_wait(&b, &mut cx), Poll::Ready(Notified::One));
            assert_eq!(l.len.load(SeqCst), 0);
        });
    }

    #[test]
    fn cond_signal_after_state_change_reaches_the_waiter() {
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
