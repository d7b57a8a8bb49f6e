//! Preemption points and `yield_now`: how a G gives its P back (Go's `goyield`, `gopreempt_m`).
//!
//! Go preempts a goroutine by making its next function call trap into the scheduler (and, since 1.14,
//! with a signal). A future cannot be interrupted in the middle of `poll`, so preemption here is
//! cooperative: sysmon sets the P's `preempt` flag when one G has run for 10 ms (`sysmon.rs`), and the
//! G yields at its next *preemption point* — `yield_now`, `coop()`, and every channel, sync and I/O
//! operation, which call [`poll_preempt`] before doing anything. A preempted G goes to the global
//! queue, as `gopreempt_m` does, so the others on its P run first.
//!
//! The check costs a thread-local read and one relaxed load of the P's flag, then a branch that is
//! almost never taken (see the `preempt_check` benchmark).
//!
//! `yield_now` is Go's `goyield`, not `Gosched`: the G goes to the tail of its own P's *local*
//! queue, behind the Gs waiting there, and no lock is taken. Go has both; `Gosched` sends the G
//! to the global queue under `sched.lock`. We chose `goyield` because a yield is the hot path of
//! every cooperative loop: going through the global queue takes a shared lock per yield (or per
//! batch) and moves the G to whichever P takes the global queue next, so its memory follows it to
//! another core's cache. On its own P it stays warm, and work stealing still spreads Gs over idle
//! Ps. The global queue keeps its fairness role: every 61st schedtick a P looks there first, so a
//! yielding loop cannot starve it (design.md, "Differences from Go"; Measurements).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::sched::getg;
use crate::sched::YieldReason;
use crate::util::loom::sync::atomic::Ordering;

/// Should the running G yield now? Yes if sysmon asked (the P's `preempt` flag), and also if this M
/// no longer owns the P it ran the G on: sysmon rescued the P from a runaway poll and gave it to
/// another M, so this G is running without a P — beyond GORTMAXPROCS — and must go back to a queue
/// (the P's new owner clears `preempt`, so the flag alone would never tell it). Two relaxed loads of
/// the same P; no read-modify-write.
#[inline]
fn preempt_requested() -> bool {
    getg::with_curm(|ctx| {
        if !ctx.in_poll.get() {
            return false;
        }
        match ctx.p.get() {
            Some(p) => {
                let p = &ctx.sched.allp[p];
                p.preempt.load(Ordering::Relaxed) || !p.owned_by(ctx.m.id)
            }
            // Inside a poll without a P (a blocking section's exit found none): yield at once.
            None => true,
        }
    })
    .unwrap_or(false)
}

/// Give up the P: mark the reason for `execute` and wake ourselves so the G is requeued.
fn yield_with(cx: &mut Context<'_>, why: YieldReason) {
    getg::with_curm(|ctx| ctx.yield_reason.set(why));
    cx.waker().wake_by_ref();
}

/// A preemption point for runtime primitives: call at the top of every `poll` of a channel, sync or
/// I/O operation, before doing the operation. `Pending` means the G has been rescheduled and the
/// caller must return `Pending` at once.
#[inline]
pub(crate) fn poll_preempt(cx: &mut Context<'_>) -> Poll<()> {
    if preempt_requested() {
        yield_with(cx, YieldReason::Preempt);
        return Poll::Pending;
    }
    Poll::Ready(())
}

/// A preemption point for long computations: returns at once unless sysmon has asked this G to
/// yield, in which case the G goes to the back of the global queue and resumes later.
///
/// ```
/// gort::run(async {
///     let mut sum = 0u64;
///     for i in 0..1_000_000u64 {
///         sum += i;
///         if i % 1024 == 0 {
///             gort::coop().await; // lets sysmon preempt this loop
///         }
///     }
///     assert_eq!(sum, 499_999_500_000);
/// });
/// ```
pub fn coop() -> Coop {
    Coop { yielded: false }
}

/// Future returned by [`coop`].
#[must_use = "futures do nothing unless awaited"]
pub struct Coop {
    yielded: bool,
}

impl Future for Coop {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded || !preempt_requested() {
            return Poll::Ready(());
        }
        self.yielded = true;
        yield_with(cx, YieldReason::Preempt);
        Poll::Pending
    }
}

/// Yield the P (Go's `goyield`): this G goes to the tail of its P's local run queue, so every G
/// already waiting there runs first. See the module header for why not Go's `Gosched`.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future returned by [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        yield_with(cx, YieldReason::Goyield);
        Poll::Pending
    }
}
