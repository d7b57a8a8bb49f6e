//! The G's state word: who may touch the G right now, and how many pointers to it exist.
//!
//! Mirrors Go's `g.atomicstatus` and the status constants (runtime/runtime2.go: `_Grunnable`,
//! `_Grunning`, ...) with their transitions (runtime/proc.go: `casgstatus`, `ready`).
//!
//! Flags in the low bits, a reference count above them, all in one `AtomicUsize` so every transition
//! is a single compare-and-swap:
//!
//! | bit | meaning |
//! |---|---|
//! | `NOTIFIED` | the G must run (again). While idle, a run queue entry exists and owns one reference. While `RUNNING`, it only records "woken during the poll" and owns nothing: the M re-queues the G with the reference it polled with. |
//! | `RUNNING` | an M is inside `poll`. Only the M that set it touches the future. |
//! | `COMPLETE` | the future is gone; its output (or the error) is stored. Wakes are ignored from now on. |
//! | `CANCELLED` | `abort` was called: the next time an M takes the G it drops the future instead of polling it. |
//! | `JOIN_INTEREST` | a `JoinHandle` exists and will read the output. |
//!
//! References are held by: the `allgs` registry (until the G completes), the `JoinHandle`, each
//! `Waker`, and the run queue entry of a `NOTIFIED` idle G. The block is freed when the count reaches 0.
//!
//! Transitions (each is one CAS; "idle" = none of NOTIFIED, RUNNING, COMPLETE):
//! - wake: idle → NOTIFIED and +1 reference, then the G goes on a run queue (Go's `ready`);
//!   RUNNING → RUNNING|NOTIFIED (so a wake during a poll is neither lost nor a second concurrent run);
//!   NOTIFIED or COMPLETE → unchanged.
//! - run: NOTIFIED → RUNNING (the queue's reference becomes the M's).
//! - after a `Pending` poll: RUNNING → idle, dropping the M's reference; or RUNNING|NOTIFIED → NOTIFIED,
//!   and the M puts the G back on a run queue with that reference.
//! - complete: RUNNING → COMPLETE (NOTIFIED cleared).
//!
//! # Where this differs from Go
//! Go's G has ~10 statuses because it also tracks stacks, GC scanning and preemption states, and its
//! status word carries no reference count: a dead G goes back to a free list, never to the allocator.
//! The executor only needs the five bits above, plus the count that decides when the block is freed.
//! Go's status numbers survive in [`status`], stored in `Header::status` purely for observability
//! (scheddetail prints them); the M writes them, and nothing synchronizes on them.

use std::ptr::NonNull;

use super::raw::{Header, PollResult};
use crate::util::loom::sync::atomic::Ordering;

pub(super) const NOTIFIED: usize = 1 << 0;
pub(super) const RUNNING: usize = 1 << 1;
pub(super) const COMPLETE: usize = 1 << 2;
pub(super) const CANCELLED: usize = 1 << 3;
pub(super) const JOIN_INTEREST: usize = 1 << 4;
const REF_SHIFT: usize = 6;
pub(super) const REF_ONE: usize = 1 << REF_SHIFT;

/// Go's G status numbers (runtime2.go `_Grunnable` ...), kept for schedtrace/scheddetail only.
pub(crate) mod status {
    pub(crate) const RUNNABLE: u8 = 1;
    pub(crate) const RUNNING: u8 = 2;
    pub(crate) const SYSCALL: u8 = 3;
    pub(crate) const WAITING: u8 = 4;
    pub(crate) const DEAD: u8 = 6;
}

/// Release one reference; free the block if it was the last.
///
/// # Safety
/// The caller owns the reference it releases.
pub(super) unsafe fn drop_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller owns a reference, so the header is alive until we release it.
    let h = unsafe { ptr.as_ref() };
    let prev = h.state.fetch_sub(REF_ONE, Ordering::AcqRel);
    debug_assert!(prev >> REF_SHIFT >= 1, "G refcount underflow");
    if prev >> REF_SHIFT == 1 {
        // SAFETY: that was the last reference; nobody else can reach the block.
        unsafe { (h.vtable.dealloc)(ptr) }
    }
}

impl Header {
    pub(super) fn ref_inc(&self) {
        // Relaxed is enough: a new reference is only made from an existing one, which keeps the
        // block alive, and the decrement that frees it is AcqRel.
        let prev = self.state.fetch_add(REF_ONE, Ordering::Relaxed);
        if prev > usize::MAX / 2 {
            std::process::abort(); // refcount overflow: far more wakers than memory could hold
        }
    }

    /// NOTIFIED → RUNNING. Returns true if the G was cancelled and must be dropped, not polled.
    pub(super) fn transition_to_running(&self) -> bool {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            assert!(
                cur & NOTIFIED != 0 && cur & (RUNNING | COMPLETE) == 0,
                "G {} taken from a run queue in state {cur:#x}",
                self.id
            );
            let next = (cur & !NOTIFIED) | RUNNING;
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return cur & CANCELLED != 0,
                Err(actual) => cur = actual,
            }
        }
    }

    /// After a `Pending` poll. RUNNING → idle (releasing the M's reference) → `Parked`; or, if woken
    /// during the poll, RUNNING|NOTIFIED → NOTIFIED → `Requeue` (the M keeps the reference for the queue).
    pub(super) fn transition_to_idle(&self) -> PollResult {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            debug_assert!(cur & RUNNING != 0);
            let (next, res) = if cur & NOTIFIED != 0 {
                (cur & !RUNNING, PollResult::Requeue)
            } else {
                debug_assert!(
                    cur >> REF_SHIFT >= 2,
                    "a parked G must keep its allgs reference"
                );
                ((cur & !RUNNING) - REF_ONE, PollResult::Parked)
            };
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return res,
                Err(actual) => cur = actual,
            }
        }
    }

    /// RUNNING → COMPLETE. Returns whether a JoinHandle still wants the output.
    pub(super) fn transition_to_complete(&self) -> bool {
        let prev = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some((s & !(RUNNING | NOTIFIED)) | COMPLETE)
            })
            .unwrap_or_else(|s| s);
        prev & JOIN_INTEREST != 0
    }

    /// Go's `ready`: make the G runnable. Returns true if the caller must submit a new reference to a
    /// run queue (the idle → NOTIFIED case); the reference has already been counted.
    pub(super) fn transition_to_notified(&self) -> bool {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & (COMPLETE | NOTIFIED) != 0 {
                return false;
            }
            let (next, submit) = if cur & RUNNING != 0 {
                // The deliberately injected bug of design.md's loom experiment: forget the wake.
                #[cfg(gort_bug_drop_notified)]
                return false;
                #[cfg(not(gort_bug_drop_notified))]
                (cur | NOTIFIED, false)
            } else {
                (cur | NOTIFIED, true)
            };
            let next = if submit { next + REF_ONE } else { next };
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return submit,
                Err(actual) => cur = actual,
            }
        }
    }

    /// `abort`: set CANCELLED and make sure an M sees it. Returns true if the caller must submit.
    pub(super) fn transition_to_cancelled(&self) -> bool {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & (COMPLETE | CANCELLED) != 0 {
                return false;
            }
            let idle = cur & (RUNNING | NOTIFIED) == 0;
            let mut next = cur | CANCELLED | NOTIFIED;
            if idle {
                next += REF_ONE;
            }
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return idle,
                Err(actual) => cur = actual,
            }
        }
    }

    /// JoinHandle dropped: clear JOIN_INTEREST. Returns true if the G already completed, in which case
    /// the output is ours to drop.
    pub(super) fn unset_join_interest(&self) -> bool {
        let prev = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some(s & !JOIN_INTEREST)
            })
            .unwrap_or_else(|s| s);
        prev & COMPLETE != 0
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.state.load(Ordering::Acquire) & COMPLETE != 0
    }

    /// Parked: not queued (NOTIFIED), not being polled, not finished. Only a waker brings it back
    /// (`checkdead` asks this of every G).
    pub(crate) fn is_parked(&self) -> bool {
        self.state.load(Ordering::Acquire) & (NOTIFIED | RUNNING | COMPLETE) == 0
    }
}
