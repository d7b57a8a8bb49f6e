//! The P: Go's `p` (runtime/runtime2.go) and its status, `_Pidle`, `_Prunning`, `_Psyscall`
//! (runtime/proc.go: `acquirep`, `releasep`, `entersyscall`, `exitsyscallfast`, `retake`).
//!
//! A **P** (processor) is the right to run Gs. It owns a local run queue (`runq.rs`) and a timer
//! heap (`timer.rs`). There are exactly `gomaxprocs` Ps, created at start and never resized (Go can
//! resize with `GOMAXPROCS()`; we do not, which keeps `allp` a plain slice).
//!
//! # A P's status
//! [`PStatus`] is Go's P status together with the M that owns the P. Carrying the owner makes every
//! transition an exact compare-and-swap, so an M that lost its P while stuck cannot mistake the P's
//! new life with another M for its own (the ABA problem).
//!
//! | [`PState`] | Go | meaning | who may take the P away |
//! |---|---|---|---|
//! | `Idle` | `_Pidle` | on the idle list, no M | `pidleget` |
//! | `Running` | `_Prunning` | its M is in scheduler code | nobody |
//! | `InPoll` | (`_Prunning`) | its M is inside a G's `poll` | sysmon, after `rescue_threshold` (runaway poll) |
//! | `InPollLocked` | (`_Prunning`) | ... and is pushing onto the P's run queue right now | nobody (sysmon retries later) |
//! | `Syscall` | `_Psyscall` | its M is in `gort::blocking` | sysmon, after one tick if there is other work |
//!
//! The transitions are the methods of [`P`]:
//!
//! ```text
//!   Idle ──acquire──► Running ──begin_poll──► InPoll ──end_poll──► Running ──release──► Idle
//!                                             │  ▲ ╲
//!                             lock_in_poll ◄──┘  │  ╲──enter_syscall──► Syscall ──exit_syscall──► InPoll
//!                             unlock_in_poll ────┘
//!   InPoll, Syscall ──revoke (sysmon)──► Idle
//! ```
//!
//! Code running inside a poll touches its P only through the `InPoll → InPollLocked → InPoll`
//! handshake (see `getg.rs: MCtx::runqput`), so when sysmon revokes the P (`InPoll → Idle`) the
//! stuck M can no longer write to the P it lost: its later pushes fail the handshake and go to the
//! global queue instead, exactly where Go puts the work of an M that has no P.
//!
//! # Where this differs from Go
//! Go's G is preempted by a signal and its M is never "inside" a G from the scheduler's point of
//! view; a future's `poll` can block its thread, so `InPoll` (and the lock that keeps a push
//! atomic with respect to revocation) are ours.

use crate::sched::runq::RunQ;
use crate::sched::timer::Timers;
use crate::util::loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Go's P states, plus the two that say the M is inside a poll. The numbers of the first three are
/// Go's, which schedtrace prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum PState {
    Idle = 0,
    Running = 1,
    Syscall = 2,
    InPoll = 5,
    InPollLocked = 6,
}

/// A P's status: its [`PState`] and the M that owns it (none when idle), as one word so that a
/// transition is one compare-and-swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PStatus(u64);

impl PStatus {
    /// On the idle list, owned by no M.
    pub(crate) const IDLE: PStatus = PStatus(0);

    /// State `state`, owned by M `m`.
    #[inline]
    pub(crate) fn new(m: usize, state: PState) -> PStatus {
        PStatus(((m as u64 + 1) << 8) | state as u64)
    }

    #[inline]
    pub(crate) fn state(self) -> PState {
        match self.0 & 0xff {
            0 => PState::Idle,
            1 => PState::Running,
            2 => PState::Syscall,
            5 => PState::InPoll,
            6 => PState::InPollLocked,
            s => unreachable!("P status word with state {s}"),
        }
    }

    /// The owning M, if any.
    #[inline]
    pub(crate) fn owner(self) -> Option<usize> {
        (self.0 >> 8).checked_sub(1).map(|m| m as usize)
    }
}

/// A [`PStatus`] shared between the owning M and sysmon.
pub(crate) struct AtomicPStatus(AtomicU64);

impl AtomicPStatus {
    fn new(s: PStatus) -> AtomicPStatus {
        AtomicPStatus(AtomicU64::new(s.0))
    }

    #[inline]
    pub(crate) fn load(&self, order: Ordering) -> PStatus {
        PStatus(self.0.load(order))
    }

    #[inline]
    fn store(&self, s: PStatus, order: Ordering) {
        self.0.store(s.0, order)
    }

    /// `from → to` if nothing changed; `success` orders the transition, failures are relaxed.
    #[inline]
    fn transition(&self, from: PStatus, to: PStatus, success: Ordering) -> bool {
        self.0
            .compare_exchange(from.0, to.0, success, Ordering::Relaxed)
            .is_ok()
    }
}

pub(crate) struct P {
    pub(crate) id: usize,
    pub(crate) runq: RunQ,
    /// See the module header. Changed only through the transition methods below.
    pub(crate) status: AtomicPStatus,
    /// Incremented each time a G starts a new time slice on this P (Go's `schedtick`). Written only by
    /// the owning M; read by sysmon to notice a G running too long.
    pub(crate) schedtick: AtomicU32,
    /// Incremented on every blocking section (Go's `syscalltick`); sysmon uses it the same way.
    pub(crate) syscalltick: AtomicU32,
    /// Incremented on every poll; sysmon compares it to spot a runaway poll.
    pub(crate) pollseq: AtomicU64,
    /// Set by sysmon (Go's `preemptone`): the running G should yield at its next preemption point.
    pub(crate) preempt: AtomicBool,
    /// Id of the G being polled (0 = none), for schedtrace and sysmon's warning.
    pub(crate) curg: AtomicU64,
    /// Id of the owning M, or `usize::MAX`, for scheddetail.
    pub(crate) m: AtomicUsize,
    /// Go 1.14's per-P timer heap.
    pub(crate) timers: Timers,
}

impl P {
    pub(crate) fn new(id: usize) -> P {
        P {
            id,
            runq: RunQ::new(),
            status: AtomicPStatus::new(PStatus::IDLE),
            schedtick: AtomicU32::new(0),
            syscalltick: AtomicU32::new(0),
            pollseq: AtomicU64::new(0),
            preempt: AtomicBool::new(false),
            curg: AtomicU64::new(0),
            m: AtomicUsize::new(usize::MAX),
            timers: Timers::new(),
        }
    }

    /// The state right now (a relaxed snapshot, for decisions that are re-validated later).
    #[inline]
    pub(crate) fn state(&self) -> PState {
        self.status.load(Ordering::Relaxed).state()
    }

    // ---- the transitions (see the module header) ----

    /// `acquirep`: M `m` now owns this P, which it took off the idle list (`Idle → Running`).
    pub(crate) fn acquire(&self, m: usize) {
        self.status
            .store(PStatus::new(m, PState::Running), Ordering::Release);
        self.m.store(m, Ordering::Relaxed);
    }

    /// `pidleput`: the P goes on the idle list (`→ Idle`). Caller holds `sched.lock`.
    pub(crate) fn release(&self) {
        self.status.store(PStatus::IDLE, Ordering::Release);
        self.m.store(usize::MAX, Ordering::Relaxed);
    }

    /// Owner M `m`, about to poll a G: from here sysmon may revoke the P (`Running → InPoll`).
    pub(crate) fn begin_poll(&self, m: usize) {
        self.status
            .store(PStatus::new(m, PState::InPoll), Ordering::Release);
    }

    /// Owner M `m`, the poll returned: do we still own the P? (`InPoll → Running`.)
    pub(crate) fn end_poll(&self, m: usize) -> bool {
        self.status.transition(
            PStatus::new(m, PState::InPoll),
            PStatus::new(m, PState::Running),
            Ordering::AcqRel,
        )
    }

    /// Owner M `m`, inside a poll, about to push onto the run queue: lock out revocation
    /// (`InPoll → InPollLocked`). False if the P is no longer ours to push to.
    pub(crate) fn lock_in_poll(&self, m: usize) -> bool {
        self.status.transition(
            PStatus::new(m, PState::InPoll),
            PStatus::new(m, PState::InPollLocked),
            Ordering::Acquire,
        )
    }

    /// Owner M `m`: the push is done (`InPollLocked → InPoll`). Release: a sysmon that revokes the
    /// P afterwards sees everything pushed.
    pub(crate) fn unlock_in_poll(&self, m: usize) {
        self.status
            .store(PStatus::new(m, PState::InPoll), Ordering::Release);
    }

    /// `entersyscall`: owner M `m` enters a blocking section (`InPoll → Syscall`). False if sysmon
    /// took the P already (a runaway poll): the M is P-less.
    pub(crate) fn enter_syscall(&self, m: usize) -> bool {
        self.status.transition(
            PStatus::new(m, PState::InPoll),
            PStatus::new(m, PState::Syscall),
            Ordering::AcqRel,
        )
    }

    /// `exitsyscallfast`: M `m` is back from its blocking section and takes its P back if sysmon
    /// left it (`Syscall → InPoll`).
    pub(crate) fn exit_syscall(&self, m: usize) -> bool {
        self.status.transition(
            PStatus::new(m, PState::Syscall),
            PStatus::new(m, PState::InPoll),
            Ordering::AcqRel,
        )
    }

    /// `retake`: sysmon takes the P from its owner, whose status was `seen` (`InPoll` or `Syscall`).
    /// Fails if anything changed since, including a push in progress. On success the caller owns
    /// the P (it is `Idle` and on no list) and must `handoffp` it.
    pub(crate) fn revoke(&self, seen: PStatus) -> bool {
        debug_assert!(matches!(seen.state(), PState::InPoll | PState::Syscall));
        self.status
            .transition(seen, PStatus::IDLE, Ordering::AcqRel)
    }

    /// Does M `m` still own this P? (A relaxed snapshot, for the preemption check.)
    #[inline]
    pub(crate) fn owned_by(&self, m: usize) -> bool {
        self.status.load(Ordering::Relaxed).owner() == Some(m)
    }

    /// Go's P status number (0 idle, 1 running, 2 syscall) for schedtrace.
    pub(crate) fn go_status(&self) -> u8 {
        match self.state() {
            PState::Idle => 0,
            PState::Syscall => 2,
            PState::Running | PState::InPoll | PState::InPollLocked => 1,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn status_word_round_trips_state_and_owner() {
        for state in [
            PState::Idle,
            PState::Running,
            PState::Syscall,
            PState::InPoll,
            PState::InPollLocked,
        ] {
            for m in [0, 1, 7, 10_000] {
                let s = PStatus::new(m, state);
                assert_eq!(s.state(), state);
                assert_eq!(s.owner(), Some(m));
            }
        }
        assert_eq!(PStatus::IDLE.state(), PState::Idle);
        assert_eq!(PStatus::IDLE.owner(), None);
    }

    #[test]
    fn transitions_are_exact_about_the_owner() {
        let p = P::new(0);
        p.acquire(3);
        assert!(p.owned_by(3) && !p.owned_by(4));
        p.begin_poll(3);
        assert!(!p.end_poll(4), "another M cannot end M3's poll");
        assert!(p.lock_in_poll(3));
        assert!(!p.lock_in_poll(3), "locked already");
        let seen = p.status.load(Ordering::Relaxed);
        assert_eq!(seen.state(), PState::InPollLocked);
        p.unlock_in_poll(3);
        assert!(p.enter_syscall(3));
        assert_eq!(p.go_status(), 2);
        let seen = p.status.load(Ordering::Relaxed);
        assert!(p.revoke(seen));
        assert!(!p.exit_syscall(3), "sysmon took it");
        assert_eq!(p.state(), PState::Idle);
        // The P's next life with M4 is not M3's.
        p.acquire(4);
        p.begin_poll(4);
        assert!(!p.end_poll(3));
        assert!(p.end_poll(4));
    }
}
