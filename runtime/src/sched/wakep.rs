//! Waking and parking Ms, handing Ps around: Go's runtime/proc.go `ready`, `wakep`, `startm`,
//! `newm`, `stopm`, `handoffp`, `acquirep`, `releasep`, `resetspinning`, `wakeNetPoller`.
//!
//! The scheduler loop (`proc.rs`) asks one question, "which G next?"; this file answers the
//! other, "which M runs, and with which P?". A G made runnable (`ready`, `newproc`) goes on a run
//! queue, then `wakep` makes sure some M will look for it: it starts one *spinning* M if a P is
//! idle and nobody spins. An M that finds nothing gives its P back and parks (`stopm`); a P whose
//! M is stuck in a blocking section or a runaway poll is handed to another M (`handoffp`).
//!
//! # The spinning protocol (Go's "worker thread parking/unparking")
//! An M is *spinning* while it looks for work without having found any (`nmspinning` counts them).
//! Whoever makes a G runnable calls [`wakep`] afterwards: if nobody spins and a P is idle, it
//! starts one spinning M. A spinning M that finds work stops spinning and calls `wakep` itself, so
//! there is one more searcher while work keeps appearing. The rule that prevents lost wake-ups:
//! *submit the work, then a StoreLoad fence, then check `nmspinning`*; and on the other side, *stop
//! spinning (decrement), then a fence, then re-check every queue*. One of the two sides always sees
//! the other.

use crate::sched::g::GRef;
use crate::sched::getg::{self, MCtx, Placed};
use crate::sched::{Sched, M};
use crate::util::loom::sync::atomic::{fence, Ordering};
use crate::util::loom::sync::Arc;

/// Go's `ready`: a parked G became runnable. From an M holding a P, it goes to that P's `runnext`
/// (the waker runs on, the wakee runs next and inherits the time slice); from anywhere else, to
/// the global queue. Then make sure some M will look (`wakep`).
///
/// Never inlined: its callers (a waker's `wake`, above all) have a fast path that does not call
/// it, and inlined, its body makes that fast path save and restore more registers. For the same
/// reason the tracer's hook is in a copy of its own, so that with tracing off `ready` is one test
/// and a jump.
#[inline(never)]
pub(crate) fn ready(sched: &Arc<Sched>, g: GRef) {
    if crate::trace::on(sched) {
        ready_traced(sched, g);
    } else {
        put_runnable(sched, g);
    }
}

#[cold]
#[inline(never)]
fn ready_traced(sched: &Arc<Sched>, g: GRef) {
    let gid = g.id();
    let placed = put_runnable(sched, g);
    crate::trace::go_unblock(sched, gid, placed);
}

/// The queueing half of [`ready`], also used by `newproc` for a new G: this P's `runnext` if the
/// caller is an M with a P, else the global queue; then `wakep`, unless the G is the only one
/// queued on this P. Returns where the G went.
///
/// Where this differs from Go: Go's `ready` always calls `wakep`. A G that is the only one queued
/// on its P runs there the moment the running G's poll ends (the usual case: the waker is about to
/// park, as in a request handed from a reader to a handler, or a netpoll that found one ready
/// socket), so waking an idle M for it costs two futex calls and a spin that finds nothing (a thief
/// may take `runnext` only after ~3 µs). If the waker keeps running instead, sysmon's rescue bounds
/// the wait. From the second queued G on there is work for another M, and `wakep` runs as in Go.
/// tokio has the same rule (it notifies another worker only when more than one task is queued).
pub(crate) fn put_runnable(sched: &Arc<Sched>, g: GRef) -> Placed {
    let (placed, shareable) = match getg::local_runqput(sched, g, true) {
        Ok(put) => put,
        Err(g) => {
            let mut l = sched.lock();
            sched.globrunqput(&mut l, g);
            (Placed::Global, true)
        }
    };
    if shareable {
        wakep(sched);
    }
    placed
}

/// Go's `wakep`: start one spinning M if there is an idle P and nobody is spinning already.
pub(crate) fn wakep(sched: &Arc<Sched>) {
    // The StoreLoad barrier of the spinning protocol: our queue push must be visible to an M
    // that is about to stop spinning before we read that it is still spinning.
    fence(Ordering::SeqCst);
    if sched.nmspinning.load(Ordering::SeqCst) != 0 || sched.npidle.load(Ordering::SeqCst) == 0 {
        return;
    }
    if sched
        .nmspinning
        .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return;
    }
    startm(sched, None, true);
}

/// Go's `startm`: run an M with P `p` (or any idle P). Reuses an idle M or starts a thread.
/// If `spinning`, the caller already counted the new M in `nmspinning`.
pub(crate) fn startm(sched: &Arc<Sched>, p: Option<usize>, spinning: bool) {
    let mut l = sched.lock();
    let pid = match p {
        Some(p) => p,
        None => match sched.pidleget(&mut l) {
            Some(p) => p,
            None => {
                drop(l);
                if spinning {
                    sched.nmspinning.fetch_sub(1, Ordering::SeqCst);
                }
                return;
            }
        },
    };
    if let Some(m) = sched.mget(&mut l) {
        drop(l);
        m.spinning.store(spinning, Ordering::Relaxed);
        m.nextp.store(pid, Ordering::Relaxed);
        // The note's lock orders the stores above before the M reads them.
        m.park.wakeup();
        return;
    }
    newm(sched, l, pid, spinning);
}

/// Go's `newm`: start a thread for a new M that will run with P `pid`.
fn newm(
    sched: &Arc<Sched>,
    mut l: crate::util::loom::sync::MutexGuard<'_, crate::sched::Locked>,
    pid: usize,
    spinning: bool,
) {
    let count = sched.mcount.load(Ordering::Relaxed);
    let max = sched.config.max_threads;
    if sched.shutting_down(Ordering::Acquire) || count >= max {
        if count >= max && !l.warned_mcount {
            l.warned_mcount = true;
            eprintln!(
                "gort: program reached the {max}-thread limit (Go's maxmcount; see \
                 Builder::max_threads); not starting more Ms. Its Ps wait for a busy M instead. \
                 Too many Gs are stuck in blocking sections or runaway polls."
            );
        }
        give_back_p(sched, &mut l, pid);
        drop(l);
        if spinning {
            sched.nmspinning.fetch_sub(1, Ordering::SeqCst);
        }
        return;
    }
    let id = sched.mcount.fetch_add(1, Ordering::Relaxed);
    let m = Arc::new(M::new(id));
    m.spinning.store(spinning, Ordering::Relaxed);
    m.nextp.store(pid, Ordering::Relaxed);
    l.allm.push(m.clone());
    l.mstarting += 1;
    drop(l);
    let sched2 = sched.clone();
    let res = crate::util::loom::thread::spawn_named(format!("gort-m{id}"), move || {
        crate::sched::proc::mstart(sched2, m)
    });
    let mut l = sched.lock();
    l.mstarting -= 1;
    match res {
        Ok(h) => l.threads.push(h),
        Err(e) => {
            if !l.warned_mcount {
                l.warned_mcount = true;
                eprintln!("gort: cannot start a thread for M{id}: {e}; continuing with fewer Ms");
            }
            l.allm.retain(|m| m.id != id);
            sched.mcount.fetch_sub(1, Ordering::Relaxed);
            give_back_p(sched, &mut l, pid);
            drop(l);
            if spinning {
                sched.nmspinning.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
}

/// A P we meant to hand to a new M could not get one: move its Gs to the global queue (where any
/// M will find them) and put it back on the idle list. Caller holds the lock.
fn give_back_p(sched: &Sched, l: &mut crate::sched::Locked, pid: usize) {
    let gs = sched.allp[pid].runq.drain();
    for g in gs {
        sched.globrunqput(l, g);
    }
    sched.pidleput(l, pid);
}

/// Go's `handoffp`: P `pid` lost its M (blocking section, runaway poll). Start an M for it if there
/// is work it should do; otherwise put it on the idle list.
pub(crate) fn handoffp(sched: &Arc<Sched>, pid: usize) {
    let p = &sched.allp[pid];
    // Local or global work: start an M right away.
    if !p.runq.is_empty() || sched.runqsize.load(Ordering::SeqCst) != 0 {
        startm(sched, Some(pid), false);
        return;
    }
    // Nobody is spinning and no P is idle: this P is the only way new work gets picked up soon,
    // so start a spinning M for it.
    if sched.nmspinning.load(Ordering::SeqCst) + sched.npidle.load(Ordering::SeqCst) == 0
        && sched
            .nmspinning
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    {
        startm(sched, Some(pid), true);
        return;
    }
    let mut l = sched.lock();
    if sched.runqsize.load(Ordering::SeqCst) != 0 {
        drop(l);
        startm(sched, Some(pid), false);
        return;
    }
    // The last running P, and nobody is polling the network: someone must.
    if sched.npidle.load(Ordering::SeqCst) == sched.gomaxprocs - 1
        && sched.lastpoll.load(Ordering::SeqCst) != 0
    {
        drop(l);
        startm(sched, Some(pid), false);
        return;
    }
    let when = p.timers.when0();
    sched.pidleput(&mut l, pid);
    drop(l);
    if when != 0 {
        wake_netpoller(sched, when);
    }
}

/// Go's `wakeNetPoller`: a timer due at `when` was added. If an M sleeps in the netpoller past
/// `when`, interrupt it; if nobody sleeps there, make sure an M is around to notice the timer.
pub(crate) fn wake_netpoller(sched: &Arc<Sched>, when: u64) {
    if sched.lastpoll.load(Ordering::SeqCst) == 0 {
        let until = sched.poll_until.load(Ordering::SeqCst);
        if until == 0 || until > when {
            crate::sched::netpoll::netpoll_break(sched);
        }
    } else {
        wakep(sched);
    }
}

/// Go's `timeSleepUntil`: the earliest timer of any P (0 = none).
pub(crate) fn time_sleep_until(sched: &Sched) -> u64 {
    sched
        .allp
        .iter()
        .map(|p| p.timers.when0())
        .filter(|&w| w != 0)
        .min()
        .unwrap_or(0)
}

/// Go's `acquirep`: this M now owns P `pid`, which it took off the idle list.
pub(crate) fn acquirep(ctx: &MCtx, pid: usize) {
    ctx.sched.allp[pid].acquire(ctx.m.id);
    ctx.m.p.store(pid, Ordering::Relaxed);
    ctx.p.set(Some(pid));
    crate::sched::sysmon::wake_if_sleeping(&ctx.sched);
    crate::trace::proc_start(ctx, pid);
}

/// Go's `releasep`: this M gives up its P (the caller puts it somewhere).
pub(super) fn releasep(ctx: &MCtx) -> usize {
    let pid = ctx.p.take().expect("releasep without a P");
    ctx.m.p.store(usize::MAX, Ordering::Relaxed);
    crate::trace::proc_stop(ctx, pid);
    pid
}

pub(super) fn become_spinning(ctx: &MCtx) {
    ctx.m.spinning.store(true, Ordering::Relaxed);
    ctx.sched.nmspinning.fetch_add(1, Ordering::SeqCst);
}

/// Go's `resetspinning`: this M found work. Stop spinning, and since work is evidently appearing,
/// maybe start another spinner to look for more.
pub(super) fn resetspinning(ctx: &MCtx) {
    ctx.m.spinning.store(false, Ordering::Relaxed);
    let prev = ctx.sched.nmspinning.fetch_sub(1, Ordering::SeqCst);
    debug_assert!(prev > 0, "negative nmspinning");
    wakep(&ctx.sched);
}

/// Go's `stopm`: park this M on the idle list until `startm` hands it a P. Returns with a P, or
/// without one if the runtime is shutting down.
pub(super) fn stopm(ctx: &MCtx) {
    let sched = &ctx.sched;
    {
        let mut l = sched.lock();
        // Checked under the lock: `Runtime::drop` sets `shutdown` and then wakes the idle list under
        // the lock, so we either see the flag here or are on the list when it wakes it.
        if sched.shutting_down(Ordering::Acquire) {
            return;
        }
        sched.mput(&mut l, ctx.m.clone());
        // Go calls `checkdead` from `mput`: was this the last M to go idle, with nothing to wake?
        crate::sched::checkdead::checkdead(sched, &l, false);
    }
    ctx.m.blocked.store(true, Ordering::Relaxed);
    crate::trace::m_park(ctx);
    ctx.m.park.sleep();
    ctx.m.blocked.store(false, Ordering::Relaxed);
    crate::trace::m_unpark(ctx);
    let pid = ctx.m.nextp.swap(usize::MAX, Ordering::Relaxed);
    if pid != usize::MAX {
        acquirep(ctx, pid);
    }
}
