//! One direction's wait slot of a poll descriptor: Go's `pollDesc.rg` / `pollDesc.wg` and the two functions
//! that drive them, `netpollblock` and `netpollunblock` (runtime/netpoll.go).
//!
//! ## Go's version
//! Go calls rg and wg binary semaphores. Each word holds one of: nil; `pdReady` (an I/O event arrived while
//! nobody waited, so the next wait returns at once); `pdWait` (a goroutine decided to park but has not yet);
//! or the parked G itself. A waiter CASes nil→pdWait, re-checks the error state (closed? timed out?), parks,
//! and commits pdWait→G. An event swaps in pdReady and readies whatever G it displaced.
//!
//! ## Ours
//! A parked waiter is a [`Waker`] (two words, with clone and drop glue), so it cannot live inside the atomic
//! word the way Go's G pointer does. It lives in a slot beside a small state word:
//!
//! - `READY`: Go's pdReady. The next [`PollSema::block_with`] consumes it and returns [`Blocked::Ready`].
//! - `WAITING`: Go's "rg holds a G". The slot holds the Waker to wake, counted once in the poller's
//!   waiter count (Go's `netpollWaiters`).
//! - `LOCKED`: someone owns the slot right now: a waiter storing its Waker, or an unblocker taking it. For a
//!   waiter this is Go's pdWait: "between deciding to park and having parked".
//! - `NOTIFY`: an unblock that carries no I/O (close, a deadline change) arrived while the slot was LOCKED,
//!   so its owner must re-check the error state before parking.
//!
//! Invariants:
//! 1. The slot is read or written only by the thread that set LOCKED, until it clears it.
//! 2. WAITING ⇒ the slot holds a Waker, and the waiter count includes it. Whoever sets WAITING counted it
//!    first (so the count never underflows); whoever clears WAITING uncounts it.
//! 3. Every transition is a read-modify-write of the one state word, even an unblock that finds nothing to
//!    do (it writes the word back unchanged). The RMWs are therefore totally ordered, and each one reads the
//!    latest value. Against a waiter's two RMWs (lock, then publish WAITING) an unblock lands in one of
//!    three places: before the lock (the waiter then sees READY, or sees through acquire/release everything
//!    the unblocker stored first, such as `closing` or a deadline, when it re-checks the error state),
//!    between the two (it leaves READY or NOTIFY, which the waiter reads on release), or after the publish
//!    (it takes the Waker and wakes it). No wake-up is lost in any of them. Go gets the same guarantee from
//!    sequentially consistent loads and stores; making every step an RMW lets us use acquire/release only,
//!    which loom can check exactly.
//!
//! ## Where this differs from Go and why
//! - Go's `netpollblock` commits pdWait→G after `gopark` has switched away, because a G must not be readied
//!   while still running. A Waker may be woken before `poll` returns `Pending`, so we publish WAITING as soon
//!   as the Waker is stored; pdWait shrinks to the short LOCKED window.
//! - When an event finds a parked waiter, Go leaves pdReady behind and the woken G consumes it itself. Our
//!   woken task re-runs its future from the top and retries the syscall first, so the wake *is* the
//!   consumption: we leave nothing behind, which saves every parked reader one spurious retry.
//! - A waiter finding the slot LOCKED by an unblocker waits (yielding the CPU) for it to finish; the holder
//!   does O(1) work (an `Option::take`). Go never waits here because a G pointer fits in the word.
//! - Go throws on a second concurrent waiter ("double wait"). We keep the newest Waker and drop the old one:
//!   callers must serialise waiters per direction, as Go's `fdMutex` serialises Reads and Writes. A task that
//!   re-polls while parked is not a second waiter; its Waker is simply refreshed.

use std::task::Waker;

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use crate::loom::thread;

const READY: usize = 0b0001;
const WAITING: usize = 0b0010;
const LOCKED: usize = 0b0100;
const NOTIFY: usize = 0b1000;

/// What [`PollSema::block_with`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Blocked {
    /// Readiness had been recorded (pdReady) and is now consumed: retry the operation.
    Ready,
    /// The Waker is stored; an unblock will wake it.
    Parked,
    /// Not parked: the error state changed (or may have), so the caller must check it again.
    Recheck,
}

/// One direction's wait slot (Go's `rg` or `wg`).
pub(crate) struct PollSema {
    state: AtomicUsize,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the only non-Sync part is the Waker slot, and invariant 1 gives one thread at a time exclusive
// access to it, with acquire/release on `state` ordering each owner's accesses after the previous owner's.
// `Waker` is `Send + Sync`, so handing it between threads is fine.
unsafe impl Sync for PollSema {}

impl PollSema {
    pub(crate) fn new() -> PollSema {
        PollSema {
            state: AtomicUsize::new(0),
            waker: UnsafeCell::new(None),
        }
    }

    /// Go's `netpollblock`: consume recorded readiness, or park `waker`.
    ///
    /// `failed` is Go's re-check of `netpollcheckerr`, run after taking the slot: it must return true when
    /// the descriptor is closed or its deadline has passed. `waiters` is the poller's waiter count.
    #[cfg(test)]
    pub(crate) fn block(
        &self,
        waker: &Waker,
        waiters: &AtomicUsize,
        failed: impl FnOnce() -> bool,
    ) -> Blocked {
        self.block_with(waker, waiters, false, failed)
    }

    /// `block` for a waiter that parked before and was polled again for some other
    /// reason (its task had other work): with `still_parked`, if its Waker is no longer in the slot,
    /// an unblock took it (an event, a close, a deadline change) and that wake was the
    /// consumption, so this returns [`Blocked::Ready`] (retry the operation) instead of parking
    /// again, which would lose it. If the Waker is still there, nothing happened: it is refreshed and
    /// the result is `Parked`, without the caller trying an operation that would only say EAGAIN.
    /// The check and the park are one step under the slot's lock, so no unblock falls between them.
    pub(crate) fn block_with(
        &self,
        waker: &Waker,
        waiters: &AtomicUsize,
        still_parked: bool,
        failed: impl FnOnce() -> bool,
    ) -> Blocked {
        // Phase 1: take pdReady, or take the slot.
        let mut s = self.state.load(Acquire);
        loop {
            if s & READY != 0 {
                match self
                    .state
                    .compare_exchange_weak(s, s & !READY, AcqRel, Acquire)
                {
                    Ok(_) => return Blocked::Ready,
                    Err(now) => s = now,
                }
            } else if s & LOCKED != 0 {
                // An unblocker is taking the old Waker (or, misused, another waiter is storing one).
                thread::yield_now();
                s = self.state.load(Acquire);
            } else {
                // A stale NOTIFY is dropped here: we re-check the error state below anyway.
                match self
                    .state
                    .compare_exchange_weak(s, (s | LOCKED) & !NOTIFY, AcqRel, Acquire)
                {
                    Ok(_) => break,
                    Err(now) => s = now,
                }
            }
        }
        let was_waiting = s & WAITING != 0;
        // Expected to find our Waker parked, but an unblock took it: we were woken, retry.
        let woken = still_parked && !was_waiting;

        // Phase 2: we own the slot. Re-check errors only now: a closer that stored `closing` before our lock
        // RMW is visible to us; one that comes later finds LOCKED or WAITING and leaves NOTIFY or wakes us.
        let park = !woken && !failed();
        let mut replaced = None;
        if park {
            self.waker.with_mut(|slot| {
                // SAFETY: we hold LOCKED (invariant 1).
                let slot = unsafe { &mut *slot };
                match slot {
                    Some(old) if old.will_wake(waker) => {}
                    _ => replaced = slot.replace(waker.clone()),
                }
            });
            if !was_waiting {
                // Count before WAITING becomes visible, so an unblocker's decrement always follows it.
                waiters.fetch_add(1, Relaxed);
            }
        }

        // Phase 3: release the slot. Unblockers may OR in READY or NOTIFY while we hold it, nothing else.
        let mut s = self.state.load(Acquire);
        if park && s & (READY | NOTIFY) == 0 {
            match self
                .state
                .compare_exchange(s, (s | WAITING) & !LOCKED, AcqRel, Acquire)
            {
                Ok(_) => {
                    drop(replaced);
                    return Blocked::Parked;
                }
                Err(now) => s = now, // marked meanwhile: marks are never removed, so we will not park
            }
        }
        // Not parking: empty the slot so no stale Waker keeps its task alive, and uncount this slot.
        // SAFETY: we still hold LOCKED (invariant 1).
        let stale = self.waker.with_mut(|slot| unsafe { (*slot).take() });
        if park || was_waiting {
            waiters.fetch_sub(1, Relaxed);
        }
        let ready = loop {
            // READY is consumed only if we would have parked; after a failed re-check it stays for later.
            let ready = park && s & READY != 0;
            let clear = if ready { READY } else { 0 } | NOTIFY | WAITING | LOCKED;
            match self.state.compare_exchange(s, s & !clear, AcqRel, Acquire) {
                Ok(_) => break ready,
                Err(now) => s = now,
            }
        };
        // Waker drops run foreign code: only after the slot is released.
        drop(stale);
        drop(replaced);
        if ready || woken {
            Blocked::Ready
        } else {
            Blocked::Recheck
        }
    }

    /// Go's `netpollunblock`: returns the parked Waker, if there was one, for the caller to wake.
    ///
    /// `ioready` records readiness (pdReady) when nobody is parked; without it (close, deadline change) an
    /// unparked slot is left as it was, since the next wait re-checks the error state anyway.
    pub(crate) fn unblock(&self, ioready: bool, waiters: &AtomicUsize) -> Option<Waker> {
        let mark = if ioready { READY } else { NOTIFY };
        let mut s = self.state.load(Acquire);
        loop {
            let next = if s & LOCKED != 0 {
                s | mark // the owner reads it when releasing
            } else if s & WAITING != 0 {
                (s & !WAITING) | LOCKED // take the parked Waker
            } else if ioready {
                s | READY
            } else {
                s // nothing to do, but still an RMW (invariant 3)
            };
            match self.state.compare_exchange_weak(s, next, AcqRel, Acquire) {
                Ok(_) if s & LOCKED == 0 && next & LOCKED != 0 => break,
                Ok(_) => return None,
                Err(now) => s = now,
            }
        }
        // SAFETY: we set LOCKED above (invariant 1).
        let waker = self.waker.with_mut(|slot| unsafe { (*slot).take() });
        self.state.fetch_and(!LOCKED, Release);
        waiters.fetch_sub(1, Relaxed);
        waker
    }

    /// Withdraw a parked Waker whose wait was abandoned (its future dropped, e.g. by a timeout or a
    /// select that chose another case). Returns it for the caller to drop. Go has no counterpart: a Go
    /// read cannot be abandoned, only timed out, and the timeout unblocks the slot itself.
    ///
    /// Only the direction's one waiter calls this (the caller that parked). If an unblocker holds the
    /// slot right now (LOCKED), it is taking the Waker to wake it: a spurious wake of the abandoned
    /// task, which is harmless, so we leave it. Readiness (READY) is left as it is for the next wait.
    pub(crate) fn cancel(&self, waiters: &AtomicUsize) -> Option<Waker> {
        let mut s = self.state.load(Acquire);
        loop {
            if s & WAITING == 0 || s & LOCKED != 0 {
                return None;
            }
            match self
                .state
                .compare_exchange_weak(s, (s & !WAITING) | LOCKED, AcqRel, Acquire)
            {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        // SAFETY: we set LOCKED above (invariant 1).
        let waker = self.waker.with_mut(|slot| unsafe { (*slot).take() });
        // Unblockers may have ORed in READY or NOTIFY meanwhile; keep them, clear only our LOCKED.
        self.state.fetch_and(!LOCKED, Release);
        waiters.fetch_sub(1, Relaxed);
        waker
    }

    /// Whether a Waker is parked here (tests check it against the waiter count).
    #[cfg(test)]
    pub(crate) fn is_parked(&self) -> bool {
        self.state.load(Acquire) & WAITING != 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::testwaker::counting_waker;

    #[test]
    fn readiness_without_waiter_is_consumed_by_next_block() {
        let sema = PollSema::new();
        let waiters = AtomicUsize::new(0);
        let (_, waker) = counting_waker();
        assert!(sema.unblock(true, &waiters).is_none());
        assert_eq!(sema.block(&waker, &waiters, || false), Blocked::Ready);
        assert_eq!(sema.block(&waker, &waiters, || false), Blocked::Parked);
        assert_eq!(waiters.load(SeqCst), 1);
    }

    #[test]
    fn unblock_hands_out_the_parked_waker_and_leaves_nothing_behind() {
        let sema = PollSema::new();
        let waiters = AtomicUsize::new(0);
        let (count, waker) = counting_waker();
        assert_eq!(sema.block(&waker, &waiters, || false), Blocked::Parked);
        sema.unblock(true, &waiters).expect("parked waker").wake();
        assert_eq!(count.get(), 1);
        assert_eq!(waiters.load(SeqCst), 0);
        // The wake was the consumption: the next wait parks instead of returning a spurious Ready.
        assert_eq!(sema.block(&waker, &waiters, || false), Blocked::Parked);
    }

    #[test]
    fn still_parked_reports_a_wake_it_missed_instead_of_parking_again() {
        let sema = PollSema::new();
        let waiters = AtomicUsize::new(0);
        let (count, waker) = counting_waker();
        assert_eq!(sema.block(&waker, &waiters, || false), Blocked::Parked);
        // Polled again with nothing new: stays parked, no retry.
        assert_eq!(
            sema.block_with(&waker, &waiters, true, || false),
            Blocked::Parked
        );
        assert_eq!(waiters.load(SeqCst), 1);
        // An event takes the Waker and wakes it; the next poll must retry, not park.
        sema.unblock(true, &waiters).expect("parked").wake();
        assert_eq!(count.get(), 1);
        assert_eq!(
            sema.block_with(&waker, &waiters, true, || false),
            Blocked::Ready
        );
        assert_eq!(waiters.load(SeqCst), 0);
    }

    #[test]
    fn cancel_withdraws_the_parked_waker_and_uncounts_it() {
        let sema = PollSema::new();
        let waiters = AtomicUsize::new(0);
        let (count, waker) = counting_waker();
        assert!(sema.cancel(&waiters).is_none(), "nothing parked yet");
        assert_eq!(sema.block(&waker, &waiters, || false), Blocked::Parked);
        assert!(sema.cancel(&waiters).is_some());
        assert_eq!(waiters.load(SeqCst), 0);
        assert!(!sema.is_parked());
        // An event now finds nobody to wake: it is recorded for the next wait instead.
        assert!(sema.unblock(true, &waiters).is_none());
        assert_eq!(sema.block(&waker, &waiters, || false), Blocked::Ready);
        assert_eq!(count.get(), 0);
    }

    #[test]
    fn repoll_while_parked_refreshes_the_waker_without_double_counting() {
        let sema = PollSema::new();
        let waiters = AtomicUsize::new(0);
        let (first, w1) = counting_waker();
        let (second, w2) = counting_waker();
        assert_eq!(sema.block(&w1, &waiters, || false), Blocked::Parked);
        assert_eq!(sema.block(&w2, &waiters, || false), Blocked::Parked);
        assert_eq!(waiters.load(SeqCst), 1);
        sema.unblock(true, &waiters).expect("parked waker").wake();
        assert_eq!((first.get(), second.get()), (0, 1));
        assert_eq!(waiters.load(SeqCst), 0);
    }

    #[test]
    fn failed_recheck_unparks_and_keeps_readiness() {
        let sema = PollSema::new();
        let waiters = AtomicUsize::new(0);
        let (_, waker) = counting_waker();
        assert_eq!(sema.block(&waker, &waiters, || false), Blocked::Parked);
        assert_eq!(sema.block(&waker, &waiters, || true), Blocked::Recheck);
        assert!(!sema.is_parked());
        assert_eq!(waiters.load(SeqCst), 0);
        assert!(sema.unblock(false, &waiters).is_none());
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! Each model races one wait against unblocks and checks the one property that matters: a waiter that
    //! returned `Parked` is woken, and the waiter count matches the slot.
    use super::*;
    use crate::loom::sync::Arc;
    use crate::testwaker::counting_waker;

    struct Slot {
        sema: PollSema,
        waiters: AtomicUsize,
    }

    fn slot() -> Arc<Slot> {
        Arc::new(Slot {
            sema: PollSema::new(),
            waiters: AtomicUsize::new(0),
        })
    }

    impl Slot {
        /// What an event (`ioready`) or a close does to the slot: unblock it and wake whoever was
        /// parked.
        fn unblock(&self, ioready: bool) {
            if let Some(w) = self.sema.unblock(ioready, &self.waiters) {
                w.wake();
            }
        }
    }

    /// A thread that races the model's own: `unblock(ioready)` on `s`.
    fn spawn_unblock(s: &Arc<Slot>, ioready: bool) -> loom::thread::JoinHandle<()> {
        let s = s.clone();
        loom::thread::spawn(move || s.unblock(ioready))
    }

    fn check_count(slot: &Slot) {
        let parked = usize::from(slot.sema.is_parked());
        assert_eq!(
            slot.waiters.load(Acquire),
            parked,
            "waiter count out of step"
        );
    }

    /// A waiter abandons its parked wait while an event or a close unblocks the slot: the count ends
    /// in step with the slot, the Waker is handed out at most once, and an event the cancel beat is
    /// kept (READY) for the next wait rather than lost.
    #[test]
    fn cancel_racing_unblock_keeps_count_and_readiness() {
        for ioready in [true, false] {
            loom::model(move || {
                let s = slot();
                let (count, waker) = counting_waker();
                assert_eq!(s.sema.block(&waker, &s.waiters, || false), Blocked::Parked);
                let unblocker = spawn_unblock(&s, ioready);
                let cancelled = s.sema.cancel(&s.waiters).is_some();
                unblocker.join().unwrap();
                check_count(&s);
                assert!(!s.sema.is_parked());
                // Exactly one of the two took the Waker.
                assert_eq!(
                    usize::from(cancelled) + count.get(),
                    1,
                    "waker taken twice or never"
                );
                if ioready && cancelled {
                    let (_, w2) = counting_waker();
                    assert_eq!(
                        s.sema.block(&w2, &s.waiters, || false),
                        Blocked::Ready,
                        "an event after the cancel was lost"
                    );
                }
            });
        }
    }

    /// A waiter parked, then polled again for another reason while an event races it: asking to stay
    /// parked (`still_parked`) must either find the Waker still there (and then the event wakes it)
    /// or report the wake it missed as `Ready`: never park again with the wake gone.
    #[test]
    fn still_parked_racing_unblock_is_never_lost() {
        loom::model(|| {
            let s = slot();
            let (count, waker) = counting_waker();
            assert_eq!(s.sema.block(&waker, &s.waiters, || false), Blocked::Parked);
            let event = spawn_unblock(&s, true);
            let got = s.sema.block_with(&waker, &s.waiters, true, || false);
            event.join().unwrap();
            match got {
                Blocked::Ready => {}
                Blocked::Parked => assert!(count.get() >= 1, "lost wake-up"),
                Blocked::Recheck => panic!("no error state changed"),
            }
            check_count(&s);
        });
    }

    #[test]
    fn event_racing_block_is_never_lost() {
        loom::model(|| {
            let s = slot();
            let (count, waker) = counting_waker();
            let event = spawn_unblock(&s, true);
            let got = s.sema.block(&waker, &s.waiters, || false);
            event.join().unwrap();
            match got {
                Blocked::Ready => {}
                Blocked::Parked => assert_eq!(count.get(), 1, "lost wake-up"),
                Blocked::Recheck => panic!("no error state changed"),
            }
            check_count(&s);
        });
    }

    #[test]
    fn event_racing_repoll_of_a_parked_waiter_is_never_lost() {
        loom::model(|| {
            let s = slot();
            let (count, waker) = counting_waker();
            assert_eq!(s.sema.block(&waker, &s.waiters, || false), Blocked::Parked);
            let event = spawn_unblock(&s, true);
            let got = s.sema.block(&waker, &s.waiters, || false);
            event.join().unwrap();
            // The event either woke the task (which will poll again) or made this re-poll return Ready.
            assert!(got == Blocked::Ready || count.get() == 1, "lost wake-up");
            assert_ne!(got, Blocked::Recheck);
            check_count(&s);
        });
    }

    #[test]
    fn close_racing_block_is_never_lost() {
        loom::model(|| {
            let s = slot();
            let closing = Arc::new(crate::loom::sync::atomic::AtomicBool::new(false));
            let (count, waker) = counting_waker();
            let (s2, closing2) = (s.clone(), closing.clone());
            let closer = loom::thread::spawn(move || {
                // Go's poll_runtime_pollUnblock: store the error state, then unblock without I/O.
                closing2.store(true, Release);
                s2.unblock(false);
            });
            // poll_wait's first check may see either value; the re-check under the slot must not miss it.
            let got = if closing.load(Acquire) {
                Blocked::Recheck
            } else {
                s.sema.block(&waker, &s.waiters, || closing.load(Acquire))
            };
            closer.join().unwrap();
            match got {
                Blocked::Recheck => {}
                Blocked::Parked => assert_eq!(count.get(), 1, "lost wake-up"),
                Blocked::Ready => panic!("no readiness was recorded"),
            }
            check_count(&s);
        });
    }

    #[test]
    fn event_and_close_racing_a_parked_waiter_wake_it_exactly_once() {
        loom::model(|| {
            let s = slot();
            let (count, waker) = counting_waker();
            assert_eq!(s.sema.block(&waker, &s.waiters, || false), Blocked::Parked);
            let racers: Vec<_> = [true, false]
                .into_iter()
                .map(|ioready| spawn_unblock(&s, ioready))
                .collect();
            for r in racers {
                r.join().unwrap();
            }
            assert_eq!(count.get(), 1);
            check_count(&s);
        });
    }
}
