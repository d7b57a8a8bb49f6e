//! The scheduler loop: Go's runtime/proc.go, the part that decides which G runs where.
//!
//! Every M runs [`schedule`]: find a runnable G ([`find_runnable`]), run one poll of it
//! ([`execute`]), repeat. `find_runnable` looks, in order:
//!
//! 1. at expired timers of its own P (they make Gs runnable);
//! 2. every 61st schedtick, at the global queue first, so Gs there cannot starve behind two Gs that
//!    keep handing off to each other locally;
//! 3. at its P's `runnext`, then its local ring;
//! 4. at the global queue, taking a fair batch;
//! 5. at the network, without blocking, if any G waits on I/O;
//! 6. at other Ps: steal half of a victim's queue (4 rounds over the Ps in random order; the last
//!    round also takes `runnext` and runs overdue timers) — but only if few enough Ms are already
//!    spinning (searching), so idle Ms do not burn every core looking for one G;
//! 7. if all that fails: give up the P, check everything once more (the "delicate dance" that closes
//!    the window where work arrives while the M is going idle), then either block in the netpoller
//!    until the next timer (one M at a time) or park on the idle M list (`stopm`).
//!
//! # The spinning protocol (Go's "worker thread parking/unparking")
//! An M is *spinning* while it looks for work without having found any (`nmspinning` counts them).
//! Whoever makes a G runnable calls [`wakep`] afterwards: if nobody spins and a P is idle, it
//! starts one spinning M. A spinning M that finds work stops spinning and calls `wakep` itself, so
//! there is one more searcher while work keeps appearing. The rule that prevents lost wake-ups:
//! *submit the work, then a StoreLoad fence, then check `nmspinning`*; and on the other side, *stop
//! spinning (decrement), then a fence, then re-check every queue*. One of the two sides always sees
//! the other.
//!
//! # Differences from Go
//! - A G is a future: "running" it is one `poll`. Go switches stacks; we return to `schedule`.
//! - The thread calling `block_on` is not M0: it waits for the main G like a process waiting for
//!   `main` to return, and every M is a thread the runtime started (see `boot.rs`).
//! - Gs woken in a batch by the netpoller go through the same `ready` path as any wake-up, instead
//!   of Go's `injectglist` that spreads them over idle Ps in one go.

use std::time::Duration;

use crate::sched::g::{status, GRef, PollResult};
use crate::sched::getg::{self, MCtx, Placed};
use crate::sched::p::PState;
use crate::sched::{Sched, YieldReason, M};
use crate::trace::Hooks;
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
/// caller is an M with a P, else the global queue; then `wakep`. Returns where the G went.
pub(crate) fn put_runnable(sched: &Arc<Sched>, g: GRef) -> Placed {
    let placed = match getg::local_runqput(sched, g, true) {
        Ok(placed) => placed,
        Err(g) => {
            let mut l = sched.lock();
            sched.globrunqput(&mut l, g);
            Placed::Global
        }
    };
    wakep(sched);
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
    let res =
        crate::util::loom::thread::spawn_named(format!("gort-m{id}"), move || mstart(sched2, m));
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
    let gs = sched.allp[pid].runq.drain(); // the yielded batch too
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

/// An M's life (Go's `mstart` → `schedule`): take the P `startm` gave us and run the loop until the
/// runtime shuts down.
pub(crate) fn mstart(sched: Arc<Sched>, m: Arc<M>) {
    let ctx = MCtx::new(sched, m);
    getg::enter(&ctx, || {
        let pid = ctx.m.nextp.swap(usize::MAX, Ordering::Relaxed);
        if pid != usize::MAX {
            acquirep(&ctx, pid);
        }
        crate::trace::m_start(&ctx);
        schedule(&ctx);
        crate::trace::m_stop(&ctx);
    });
}

/// Go's `schedule`: find a runnable G, run it, repeat, until the runtime shuts down.
///
/// The loop is generic over the tracer's hooks ([`Hooks`]): `schedule_with::<trace::Off>` has
/// no hook at all, `schedule_with::<trace::On>` records every run, and an M moves to the other
/// copy when tracing is switched on or off (`find_runnable` returns to let it). Clever for speed:
/// a hook that is off would still be a load and a branch per event, and the opaque call behind it
/// would make the compiler keep values alive across it; with a copy of the loop per mode, the
/// hooks cost nothing while tracing is off, and the switch shares the byte (and the test) of the
/// shutdown flag (`Sched::flags`).
fn schedule(ctx: &MCtx) {
    while !ctx.sched.shutting_down(Ordering::Acquire) {
        if crate::trace::on(&ctx.sched) {
            schedule_with::<crate::trace::On>(ctx);
        } else {
            schedule_with::<crate::trace::Off>(ctx);
        }
    }
    // Shutdown: leave the P as it is; `Runtime::drop` drains every queue once all Ms are gone.
    ctx.p.set(None);
}

/// Rounds of `schedule` with hooks `T`, until shutdown or until tracing is switched.
fn schedule_with<T: Hooks>(ctx: &MCtx) {
    while let Some((g, inherit_time)) = find_runnable::<T>(ctx) {
        if ctx.m.spinning.load(Ordering::Relaxed) {
            resetspinning(ctx);
        }
        execute::<T>(ctx, g, inherit_time);
    }
    T::flush(ctx);
}

/// Step 1 of `find_runnable`: the time now, if one of P's timers is due. `when0` is one load; the
/// clock is read only if something is armed.
#[inline(always)]
fn timers_due(sched: &Sched, p: &crate::sched::P) -> Option<u64> {
    let w0 = p.timers.when0();
    if w0 == 0 {
        return None;
    }
    let now = sched.nanotime();
    (w0 <= now).then_some(now)
}

/// Step 2 of `find_runnable`: is it this P's turn (every 61st schedtick) to look at the global
/// queue before its own, and is there anything there?
#[inline(always)]
fn global_first(sched: &Sched, p: &crate::sched::P) -> bool {
    p.schedtick.load(Ordering::Relaxed) % 61 == 0 && sched.global_work(p)
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
fn releasep(ctx: &MCtx) -> usize {
    let pid = ctx.p.take().expect("releasep without a P");
    ctx.m.p.store(usize::MAX, Ordering::Relaxed);
    crate::trace::proc_stop(ctx, pid);
    pid
}

fn become_spinning(ctx: &MCtx) {
    ctx.m.spinning.store(true, Ordering::Relaxed);
    ctx.sched.nmspinning.fetch_add(1, Ordering::SeqCst);
}

/// Go's `resetspinning`: this M found work. Stop spinning, and since work is evidently appearing,
/// maybe start another spinner to look for more.
fn resetspinning(ctx: &MCtx) {
    ctx.m.spinning.store(false, Ordering::Relaxed);
    let prev = ctx.sched.nmspinning.fetch_sub(1, Ordering::SeqCst);
    debug_assert!(prev > 0, "negative nmspinning");
    wakep(&ctx.sched);
}

/// Go's `stopm`: park this M on the idle list until `startm` hands it a P. Returns with a P, or
/// without one if the runtime is shutting down.
fn stopm(ctx: &MCtx) {
    let sched = &ctx.sched;
    {
        let mut l = sched.lock();
        // Checked under the lock: `Runtime::drop` sets `shutdown` and then wakes the idle list under
        // the lock, so we either see the flag here or are on the list when it wakes it.
        if sched.shutting_down(Ordering::Acquire) {
            return;
        }
        sched.mput(&mut l, ctx.m.clone());
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

/// Go's `findRunnable`. Blocks until a G is found, and returns it with whether it inherits the
/// time slice (it came from `runnext`). Returns None when the M must leave this copy of its loop:
/// at shutdown, or when tracing was switched on or off (`T` is the copy's hooks).
#[inline(always)]
fn find_runnable<T: Hooks>(ctx: &MCtx) -> Option<(GRef, bool)> {
    let sched = &ctx.sched;
    'top: loop {
        if sched.flags.load(Ordering::Acquire) != T::FLAGS {
            return None;
        }
        let Some(pid) = ctx.p.get() else {
            stopm(ctx);
            continue 'top;
        };
        let p = &sched.allp[pid];

        // 1. Timers of our own P.
        if let Some(now) = timers_due(sched, p) {
            p.timers.run_expired(now);
        }

        // 2. Fairness: now and then, the global queue first.
        if global_first(sched, p) {
            let mut l = sched.lock();
            sched.gosched_flush(&mut l, p);
            if let Some(g) = sched.globrunqget(&mut l, p, 1) {
                return Some((g, false));
            }
        }

        // 3. Local: runnext, then the ring.
        if let Some(next) = p.runq.get() {
            return Some(next);
        }
        // The quick part is over: what the tracer holds back to stamp with the next record's
        // time (the end of the run before) is written now (`trace::Hooks::flush`).
        T::flush(ctx);

        // 4. Global, a fair batch (after publishing this P's yielded Gs behind what is there).
        if sched.global_work(p) {
            let mut l = sched.lock();
            sched.gosched_flush(&mut l, p);
            if let Some(g) = sched.globrunqget(&mut l, p, 0) {
                return Some((g, false));
            }
        }

        // 5. The network, without blocking, if anyone waits on it and no M is blocked in it already
        //    (that M will deliver the events itself).
        if crate::sched::netpoll::netpoll_any_waiters(sched)
            && sched.lastpoll.load(Ordering::SeqCst) != 0
        {
            let woke = crate::sched::netpoll::netpoll(sched, Some(Duration::ZERO));
            if woke > 0 {
                if let Some(next) = p.runq.get() {
                    return Some(next);
                }
            }
        }

        // 6. Steal, unless enough Ms already spin: at most half the busy Ps' worth.
        let procs = sched.gomaxprocs;
        let busy = procs - sched.npidle.load(Ordering::SeqCst).min(procs);
        if ctx.m.spinning.load(Ordering::Relaxed)
            || 2 * sched.nmspinning.load(Ordering::SeqCst) < busy
        {
            if !ctx.m.spinning.load(Ordering::Relaxed) {
                become_spinning(ctx);
            }
            if let Some(next) = steal_work(ctx) {
                return Some(next);
            }
        }

        // 7. Nothing anywhere. Give up the P, but check the global queue under the same lock that
        //    makes the P idle, so a G put there concurrently is either seen now or sees our idle P.
        {
            let mut l = sched.lock();
            // Yielded Gs held by this P go to the global queue before the P goes idle.
            sched.gosched_flush(&mut l, p);
            if sched.runqsize.load(Ordering::SeqCst) != 0 {
                if let Some(g) = sched.globrunqget(&mut l, p, 0) {
                    return Some((g, false));
                }
            }
            let pid = releasep(ctx);
            sched.pidleput(&mut l, pid);
        }

        // The delicate dance: a spinning M stops spinning, then re-checks every queue. Work submitted
        // just before our decrement was either seen by its submitter's `wakep` (which saw us
        // spinning and did nothing) or is seen by us now.
        let was_spinning = ctx.m.spinning.load(Ordering::Relaxed);
        if was_spinning {
            ctx.m.spinning.store(false, Ordering::Relaxed);
            sched.nmspinning.fetch_sub(1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            let work = sched.runqsize.load(Ordering::SeqCst) > 0
                || sched.allp.iter().any(|p2| !p2.runq.is_empty());
            if work {
                let got = {
                    let mut l = sched.lock();
                    sched.pidleget(&mut l)
                };
                if let Some(pid) = got {
                    acquirep(ctx, pid);
                    become_spinning(ctx);
                    continue 'top;
                }
            }
        }

        // Block in the netpoller until the next timer, if there is anything to wait for and no other
        // M is already doing so (the `lastpoll` swap elects one).
        let poll_until = time_sleep_until(sched);
        if (crate::sched::netpoll::netpoll_any_waiters(sched) || poll_until != 0)
            && sched.lastpoll.swap(0, Ordering::SeqCst) != 0
        {
            // Shutdown breaks the netpoller once. The M that polled before us may have consumed that
            // break; our SeqCst swap above is ordered after its poll, so either the shutdown flag is
            // visible now or the break is still pending for our own poll. Without this check we could
            // sleep until the next timer (possibly hours) while `Runtime::drop` waits to join us.
            if sched.shutting_down(Ordering::SeqCst) {
                sched.lastpoll.store(sched.nanotime(), Ordering::SeqCst);
                return None;
            }
            sched.poll_until.store(poll_until, Ordering::SeqCst);
            let now = sched.nanotime();
            let delay = match poll_until {
                0 => None,
                t => Some(Duration::from_nanos(t.saturating_sub(now))),
            };
            ctx.m.blocked.store(true, Ordering::Relaxed);
            crate::sched::netpoll::netpoll(sched, delay);
            ctx.m.blocked.store(false, Ordering::Relaxed);
            sched.poll_until.store(0, Ordering::SeqCst);
            sched.lastpoll.store(sched.nanotime(), Ordering::SeqCst);
            // The Gs the poll readied went to the global queue (we hold no P). Get a P to run them, or
            // to run the timer we slept until.
            let got = {
                let mut l = sched.lock();
                sched.pidleget(&mut l)
            };
            if let Some(pid) = got {
                acquirep(ctx, pid);
                if was_spinning {
                    become_spinning(ctx);
                }
                // Another P's timer may be the one due: run every P's overdue timers from here.
                let now = sched.nanotime();
                for p2 in sched.allp.iter() {
                    let w = p2.timers.when0();
                    if w != 0 && w <= now {
                        p2.timers.run_expired(now);
                    }
                }
                continue 'top;
            }
            // No P: whatever became runnable is on the global queue and `ready` called `wakep`.
        } else if poll_until != 0 {
            // Someone else sleeps in the netpoller: make sure it wakes for our earliest timer.
            let until = sched.poll_until.load(Ordering::SeqCst);
            if until == 0 || until > poll_until {
                crate::sched::netpoll::netpoll_break(sched);
            }
        }

        stopm(ctx);
    }
}

/// Go's `stealWork`: up to 4 rounds over every other P in a random order; the last round may also
/// take a victim's `runnext` and runs its overdue timers.
fn steal_work(ctx: &MCtx) -> Option<(GRef, bool)> {
    let sched = &ctx.sched;
    let n = sched.gomaxprocs as u32;
    let me = ctx.p.get()?;
    let p = &sched.allp[me];
    if n == 1 {
        return None;
    }
    const STEAL_TRIES: usize = 4;
    for i in 0..STEAL_TRIES {
        let last = i == STEAL_TRIES - 1;
        // A random start and a random stride coprime with n visit every P exactly once.
        let mut pos = crate::util::rand::fastrand_n(n);
        let inc =
            sched.coprimes[crate::util::rand::fastrand_n(sched.coprimes.len() as u32) as usize];
        for _ in 0..n {
            let vid = pos as usize;
            pos = (pos + inc) % n;
            if vid == me {
                continue;
            }
            let victim = &sched.allp[vid];
            if last {
                let w = victim.timers.when0();
                if w != 0 {
                    let now = sched.nanotime();
                    if w <= now && victim.timers.run_expired(now) > 0 {
                        // The timers readied Gs onto our own queue.
                        if let Some(x) = p.runq.get() {
                            return Some(x);
                        }
                    }
                }
            }
            let running = match victim.state() {
                PState::Idle => continue, // an idle P's queue is empty by invariant
                PState::InPoll | PState::InPollLocked => true,
                PState::Running | PState::Syscall => false,
            };
            if let Some((g, k)) = p.runq.steal_from(&victim.runq, last, running) {
                sched.counters.steals.fetch_add(k as u64, Ordering::Relaxed);
                crate::trace::steal(ctx, vid, me, k);
                return Some((g, false));
            }
        }
    }
    None
}

/// Go's `execute` + the return path of `gopark`/`gosched`/`goexit`: run one poll of `g` on this M's
/// P, then deal with the outcome. `T` records the run's start and end.
fn execute<T: Hooks>(ctx: &MCtx, g: GRef, inherit_time: bool) {
    let sched = &ctx.sched;
    let pid = ctx.p.get().expect("execute without a P");
    let p = &sched.allp[pid];
    if !inherit_time {
        // A new time slice: sysmon measures slices by watching schedtick change.
        p.schedtick.store(
            p.schedtick.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
        p.preempt.store(false, Ordering::Relaxed);
    }
    let h = g.header();
    let gid = h.id;
    h.status.store(status::RUNNING, Ordering::Relaxed);
    h.waitreason.store(0, Ordering::Relaxed);
    p.curg.store(gid, Ordering::Relaxed);
    ctx.m.curg.store(gid, Ordering::Relaxed);
    ctx.curg.set(h as *const _);
    ctx.waitreason.set(crate::sched::g::WaitReason::None);
    p.pollseq.store(
        p.pollseq.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
    T::go_start(ctx, pid, gid);
    // Enter the poll: from here until `end_poll`, sysmon may take the P away (see `p.rs`).
    p.begin_poll(ctx.m.id);
    ctx.in_poll.set(true);

    let (res, g) = g.run();

    ctx.in_poll.set(false);
    ctx.curg.set(std::ptr::null());
    ctx.m.curg.store(0, Ordering::Relaxed);
    let reason = ctx.yield_reason.replace(YieldReason::None);
    // Leave the poll: do we still own a P? (A blocking section may have swapped it for another.)
    let owned = match ctx.p.get() {
        Some(cur) => {
            let ok = sched.allp[cur].end_poll(ctx.m.id);
            if ok {
                sched.allp[cur].curg.store(0, Ordering::Relaxed);
            }
            ok
        }
        None => false,
    };
    if !owned {
        // Sysmon took the P while we were stuck (Go's exitsyscall slow path).
        ctx.p.set(None);
        ctx.m.p.store(usize::MAX, Ordering::Relaxed);
        crate::sched::sysmon::report_rescued(ctx, gid);
    }
    T::go_end(ctx, pid, gid, res, reason);
    match (res, g) {
        (PollResult::Requeue, Some(g)) => {
            g.header().status.store(status::RUNNABLE, Ordering::Relaxed);
            match reason {
                YieldReason::Preempt => {
                    // Go's gopreempt_m: straight to the global queue.
                    sched.counters.preemptions.fetch_add(1, Ordering::Relaxed);
                    let mut l = sched.lock();
                    sched.globrunqput(&mut l, g);
                    drop(l);
                    if !owned {
                        wakep(sched);
                    }
                }
                YieldReason::Gosched if owned && sched.npidle.load(Ordering::SeqCst) == 0 => {
                    // Go's Gosched: to the global queue — batched through this P's run queue
                    // (`RunQ::put_yielded`): every P is busy, so nobody could run it sooner.
                    let p = &sched.allp[ctx.p.get().expect("owned implies a P")];
                    p.runq.put_yielded(g);
                }
                YieldReason::Gosched => {
                    // A P is idle: publish at once and make sure an M comes for it.
                    let mut l = sched.lock();
                    sched.globrunqput(&mut l, g);
                    drop(l);
                    wakep(sched);
                }
                YieldReason::None => {
                    if let Err(g) = ctx.runqput(g, false) {
                        let mut l = sched.lock();
                        sched.globrunqput(&mut l, g);
                        drop(l);
                        wakep(sched);
                    }
                }
            }
        }
        (_, g) => drop(g),
    }

    if !owned {
        // Go's exitsyscall0: take any idle P, else park this M.
        let got = {
            let mut l = sched.lock();
            sched.pidleget(&mut l)
        };
        match got {
            Some(pid) => acquirep(ctx, pid),
            None => stopm(ctx),
        }
    }
}

/// loom model of the spinning/parking protocol (run with `scripts/loom.sh`). The real runtime runs
/// under loom: `startm` spawns loom threads as Ms, and every atomic and lock of the scheduler loop is
/// a point where loom may switch threads.
#[cfg(all(test, loom))]
mod loom_tests {
    use crate::util::loom::sync::Arc;
    use loom::sync::Notify;

    /// One P. A first G runs; while its M is somewhere on the way to idle (finishing the G, failing to
    /// find work, dropping its P, parking), a second G is made runnable from a thread with no P. In
    /// every interleaving the second G must run: either the M sees it before parking (the re-check
    /// after releasing the P), or the submitter's `wakep` sees the idle P and starts/wakes an M. A lost
    /// wake-up leaves `wait()` blocked forever, which loom reports as a deadlock. Catches: removing
    /// the StoreLoad fence or the post-release re-check, checking `npidle` before pushing, an M that
    /// parks without being on the idle list.
    #[test]
    fn g_made_runnable_while_the_last_m_goes_idle_is_still_run() {
        loom::model(|| {
            let rt = crate::Builder::new()
                .procs(1)
                .sysmon(false)
                .build()
                .expect("runtime");
            let first = Arc::new(Notify::new());
            let second = Arc::new(Notify::new());
            let f = first.clone();
            drop(rt.go(async move { f.notify() }));
            first.wait();
            let s = second.clone();
            drop(rt.go(async move { s.notify() }));
            second.wait();
            drop(rt);
        });
    }
}
