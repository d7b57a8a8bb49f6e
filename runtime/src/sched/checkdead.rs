//! Deadlock detection: Go's `checkdead` (runtime/proc.go).
//!
//! Go checks, each time an M goes idle (`mput`), whether the program can still make progress: if no
//! M is running, no G is runnable and no timer is pending, nothing can ever wake a G again, so it
//! prints `fatal error: all goroutines are asleep - deadlock!` with every goroutine, and exits 2.
//! Here the same question is asked when the last M goes idle (`stopm`), or is about to block in the
//! netpoller with no timer to wake it (`find_runnable`), and answered under `sched.lock` (an M
//! blocked in the netpoller with no timer, while only the signal reader can be waiting on I/O,
//! counts as idle):
//!
//! 1. Is a program waiting for this runtime? (The main G of a `block_on` — `gort::run` — is alive.
//!    A runtime driven only through `Runtime::go` is idle, not dead: its owner may spawn more; and
//!    once the main G has finished, `block_on` is returning.)
//! 2. Is every M idle (the caller counts itself), none being started?
//! 3. Are the run queues empty and no P's timer armed?
//! 4. Does no one listen for a signal through `gort::signal`?
//! 5. Is every user G parked — not queued, not being polled — on one of gort's own primitives? A
//!    G parked on I/O, a sleep or a blocking section, or on a future gort did not write (no wait
//!    reason), may be woken by something this runtime cannot see: then there is no proof.
//!
//! Runtime-internal Gs (`gflags::SYSTEM`, Go's `isSystemGoroutine`) are left out of step 5:
//! the signal reader parked on its pipe must not hide a deadlock when nobody listens any more.
//!
//! # Where this differs from Go
//! - **Wakers held outside the runtime.** A Rust program can hand a waker to any thread; Go's only
//!   analogue is a cgo callback. The rule: a G parked on a future that is not gort's (no wait reason)
//!   counts as wakeable from outside, and silences the check (a missed deadlock, never a false one).
//!   A gort primitive (a channel, a `WaitGroup`...) whose other end was carried to a thread that is
//!   not an M — a `std::thread`, another runtime — is not seen, as Go does not see C threads: that
//!   program is reported, and `GORTDEBUG=checkdead=0` / `Builder::checkdead(false)` is the way out.
//! - Go holds `sched.lock` while it scans `allgs`; here the scan takes the registry's shard locks
//!   inside `sched.lock` (the only place both are held, so there is no lock-order cycle). It runs only
//!   when the runtime is otherwise idle, so its cost is off every hot path.

use crate::sched::g::{gflags, status, WaitReason};
use crate::sched::{Locked, Sched};
use crate::util::loom::sync::atomic::Ordering;

/// Go's `checkdead`. `l` is `sched.lock`; `me_idle` says the calling M counts as idle although it
/// is not on the idle list (it is about to block in the netpoller). Does not return if the
/// program is deadlocked.
pub(crate) fn checkdead(sched: &Sched, l: &Locked, me_idle: bool) {
    if !sched.config.checkdead || cfg!(loom) {
        return;
    }
    if sched.shutting_down(Ordering::SeqCst) {
        return;
    }
    // 2. Every M idle. `nmidle` is written under the lock we hold; an M still being started is
    //    counted in `mcount` from before its thread exists, so it counts as running. An M blocked
    //    in the netpoller with no timer (`lastpoll == 0`, `poll_until == 0`; the caller itself, if
    //    `me_idle`) while a signal reader lives counts as idle: if no user G waits on I/O (step 5),
    //    the reader's pipe is all it waits for, and that wakes no one unless someone listens
    //    (step 4).
    let in_netpoll = me_idle
        || (crate::signal::reader_alive()
            && sched.lastpoll.load(Ordering::SeqCst) == 0
            && sched.poll_until.load(Ordering::SeqCst) == 0);
    let idle = sched.nmidle.load(Ordering::SeqCst) + usize::from(in_netpoll);
    if sched.mcount.load(Ordering::SeqCst) > idle {
        return;
    }
    // 3. Nothing runnable, no timer.
    if !l.runq.is_empty()
        || sched.allp.iter().any(|p| !p.runq.is_empty())
        || crate::sched::wakep::time_sleep_until(sched) != 0
    {
        return;
    }
    // 4. A signal may come.
    if crate::signal::listening() {
        return;
    }
    // 1, 5 and 6. Every user G parked on a gort primitive, one of them a `block_on`'s main G.
    let mut root = false;
    let provable = sched.allgs.all(|h| {
        if h.gflags & gflags::SYSTEM != 0 {
            return true;
        }
        root |= h.gflags & gflags::ROOT != 0;
        h.is_parked()
            && h.status.load(Ordering::Relaxed) == status::WAITING
            && stuck_on_gort(WaitReason::from_u8(h.waitreason.load(Ordering::Relaxed)))
    });
    if !provable || !root {
        return;
    }
    crate::sched::traceback::fatal(sched, "all goroutines are asleep - deadlock!");
}

/// Is a G parked for this reason woken only by another G of the runtime? I/O, sleeps and blocking
/// sections are woken by the world (and are also counted by steps 2 and 3); no reason means a
/// future gort did not write, whose waker anything may hold.
fn stuck_on_gort(r: WaitReason) -> bool {
    !matches!(
        r,
        WaitReason::None | WaitReason::IoWait | WaitReason::Sleep | WaitReason::Syscall
    )
}
