//! Blocking sections: Go's `entersyscall` / `exitsyscall` (runtime/proc.go).
//!
//! A G that must make a blocking call (a file read, a DNS lookup, a C library) wraps it in
//! [`blocking`]. On entry the M marks its P `SYSCALL` instead of giving it up: most calls are short,
//! and handing a P to another M costs a thread wake-up. Sysmon watches `SYSCALL` Ps and takes one away
//! (`retake` + `handoffp`) if the call outlasts one sysmon tick while other work waits, or 10 ms in
//! any case. On exit the M tries, in order (Go's `exitsyscallfast`, `exitsyscall0`):
//! 1. its old P, if sysmon has not taken it — one compare-and-swap;
//! 2. any idle P;
//! 3. no P: it finishes the G's poll P-less (anything the G readies goes to the global queue), and
//!    then parks on the idle M list.
//!
//! In every path the G is run by exactly one M and nothing it made runnable is lost.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use crate::sched::g::status;
use crate::sched::getg::{self, MCtx};
use crate::util::loom::sync::atomic::Ordering;

/// Run a blocking function on this M without stalling the Gs queued on its P: Go's
/// `entersyscall`/`exitsyscall`. Outside a G it just calls `f`.
///
/// ```
/// gort::run(async {
///     let n = gort::blocking(|| std::fs::read_dir(".").map(|d| d.count()).unwrap_or(0));
///     assert!(n > 0);
/// });
/// ```
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    let entered = getg::with_curm(entersyscall).unwrap_or(false);
    let res = catch_unwind(AssertUnwindSafe(f));
    if entered {
        getg::with_curm(exitsyscall);
    }
    match res {
        Ok(v) => v,
        Err(p) => resume_unwind(p),
    }
}

/// Start a G that runs `f` in a blocking section: `go(async { blocking(f) })`.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> crate::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    crate::go(async move { blocking(f) })
}

/// Go's `entersyscall`. Returns false if this M holds no P to mark (not in a poll, or already P-less).
fn entersyscall(ctx: &MCtx) -> bool {
    if !ctx.in_poll.get() {
        return false;
    }
    let Some(pid) = ctx.p.get() else { return false };
    let p = &ctx.sched.allp[pid];
    p.syscalltick.store(
        p.syscalltick.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
    if !p.enter_syscall(ctx.m.id) {
        return false; // sysmon already took it (runaway poll); we are P-less already
    }
    getg::with_curg(|g| g.status.store(status::SYSCALL, Ordering::Relaxed));
    crate::trace::syscall_enter(ctx, pid);
    crate::sched::sysmon::wake_if_sleeping(&ctx.sched);
    true
}

/// Go's `exitsyscall`.
fn exitsyscall(ctx: &MCtx) {
    getg::with_curg(|g| g.status.store(status::RUNNING, Ordering::Relaxed));
    let sched = &ctx.sched;
    if let Some(pid) = ctx.p.get() {
        // Fast path: our P is still ours.
        if sched.allp[pid].exit_syscall(ctx.m.id) {
            crate::trace::syscall_exit(ctx, pid, true);
            return;
        }
    }
    // Sysmon handed our P to someone else. Any idle P will do.
    ctx.p.set(None);
    ctx.m.p.store(usize::MAX, Ordering::Relaxed);
    let got = {
        let mut l = sched.lock();
        sched.pidleget(&mut l)
    };
    if let Some(pid) = got {
        // The G's poll goes on, now on this P.
        crate::sched::wakep::acquirep(ctx, pid);
        sched.allp[pid].begin_poll(ctx.m.id);
        crate::trace::syscall_exit(ctx, pid, false);
    } else {
        // No P: finish this poll P-less; `execute` parks the M afterwards (exitsyscall0).
        crate::trace::syscall_exit(ctx, usize::MAX, false);
    }
}
