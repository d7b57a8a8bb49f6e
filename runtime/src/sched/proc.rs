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
//! # Differences from Go
//! - A G is a future: "running" it is one `poll`. Go switches stacks; we return to `schedule`.
//! - The thread calling `block_on` is not M0: it waits for the main G like a process waiting for
//!   `main` to return, and every M is a thread the runtime started (see `boot.rs`).
//! - Gs woken in a batch by the netpoller go through the same `ready` path as any wake-up, instead
//!   of Go's `injectglist` that spreads them over idle Ps in one go.
use std::time::Duration;

use crate::sched::g::{status, GRef, PollResult};
use crate::sched::getg::{self, MCtx};
use crate::sched::p::PState;
use crate::sched::wakep::{
    acquirep, become_spinning, releasep, resetspinning, stopm, time_sleep_until, wakep,
};
use crate::sched::{Sched, YieldReason, M};
use crate::trace::Hooks;
use crate::util::loom::sync::atomic::{fence, Ordering};
use crate::util::loom::sync::Arc;

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
    // Leaving this copy (tracing switched, or shutdown): the tracer writes what it holds.
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
    p.schedtick.load(Ordering::Relaxed) % 61 == 0 && sched.global_work()
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

        // 2. Fairness: now and then, the global queue first. Also right after a yield: the
        //    yielder went to the local tail (Go's goyield), so the Gs waiting on the global queue
        //    get their turn too, a fair batch of them, before it comes back.
        let after_yield = ctx.after_yield.replace(false);
        if global_first(sched, p) || (after_yield && sched.global_work()) {
            let mut l = sched.lock();
            let max = if after_yield { 0 } else { 1 };
            if let Some(g) = sched.globrunqget(&mut l, p, max) {
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

        // 4. Global, a fair batch.
        if sched.global_work() {
            let mut l = sched.lock();
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
            if poll_until == 0 && crate::signal::reader_alive() {
                // Blocking with no timer to end it, and the signal reader may be all that waits
                // on I/O: if this M is the last one awake, is the program deadlocked?
                crate::sched::checkdead::checkdead(sched, &sched.lock(), true);
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
                    if p2.timers.due(now) {
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
                // Go's goyield (`yield_now`), or a G that woke itself during its poll: the tail
                // of this P's local queue, behind the Gs already waiting there.
                YieldReason::Goyield | YieldReason::None => {
                    ctx.after_yield.set(reason == YieldReason::Goyield);
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
