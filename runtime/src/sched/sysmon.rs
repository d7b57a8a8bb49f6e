//! sysmon: the thread with no P that keeps the scheduler honest (runtime/proc.go: `sysmon`,
//! `retake`, `preemptone`, `handoffp`).
//!
//! Every round sysmon:
//! 1. sleeps — 20 µs while it is being useful, doubling after 50 useless rounds up to 10 ms, and
//!    sleeping until woken (or the next timer) when every P is idle (Go's `sysmonwait`);
//! 2. polls the network if nobody has for 10 ms, and makes the woken Gs runnable;
//! 3. starts an M if a timer is overdue and nobody is running it;
//! 4. `retake`s: for each P
//!    - running the same G time slice for 10 ms (`schedtick` unchanged; Go's `forcePreemptNS`):
//!      set the P's `preempt` flag, which the G honours at its next preemption point (`coop.rs`);
//!    - in a blocking section (`SYSCALL`) for over one sysmon tick while other work waits, or for
//!      10 ms regardless: take the P and `handoffp` it;
//!    - inside one poll for `rescue_threshold` (20 ms) while other work waits — a *runaway poll*: a G
//!      that blocks its thread without `gort::blocking` (a `std::thread::sleep`, a blocking library
//!      call, a loop with no preemption point). Go cannot have this problem (it preempts with
//!      signals); a future cannot be interrupted, so we treat the stuck M as if it were in a system
//!      call: take the P (`IN_POLL → IDLE`, a CAS that the M's own handshake makes safe, see
//!      `p.rs`) and hand it to another M, so the Gs queued behind the runaway one run. When the
//!      poll finally returns, its M takes the `exitsyscall` path (`proc.rs: execute`) and prints a
//!      one-line warning, once per G;
//! 5. prints the schedtrace line every `schedtrace` ms (`schedtrace.rs`).

use std::collections::HashSet;
use std::io;
use std::time::Duration;

use crate::sched::getg::MCtx;
use crate::sched::p::PState;
use crate::sched::Sched;
use crate::util::loom::sync::atomic::Ordering;
use crate::util::loom::sync::{Arc, Mutex};

/// Go's `forcePreemptNS`: the longest time slice.
pub(crate) const FORCE_PREEMPT_NS: u64 = 10_000_000;
/// Poll the network if nobody has for this long.
const NETPOLL_PERIOD_NS: u64 = 10_000_000;
/// A blocking section is taken away after this long even if no work waits.
const SYSCALL_RETAKE_NS: u64 = 10_000_000;

/// What sysmon remembers about each P between rounds (Go's `sysmontick`).
#[derive(Clone, Copy, Default)]
struct PTick {
    schedtick: u32,
    schedwhen: u64,
    syscalltick: u32,
    syscallwhen: u64,
    pollseq: u64,
    pollwhen: u64,
}

/// A rescue, reported by the stuck M when its poll returns.
pub(crate) struct Rescues {
    /// M id → (P taken, nanotime sysmon first saw the poll).
    pending: Mutex<Vec<(usize, usize, u64)>>,
    /// Gs already warned about (the warning is printed once per G).
    warned: Mutex<HashSet<u64>>,
}

impl Rescues {
    pub(crate) fn new() -> Rescues {
        Rescues {
            pending: Mutex::new(Vec::new()),
            warned: Mutex::new(HashSet::new()),
        }
    }
}

/// Start sysmon's thread (unless disabled).
pub(crate) fn start(
    sched: &Arc<Sched>,
) -> io::Result<Option<crate::util::loom::thread::JoinHandle<()>>> {
    if !sched.config.sysmon {
        return Ok(None);
    }
    let s = sched.clone();
    crate::util::loom::thread::spawn_named("gort-sysmon".into(), move || {
        // A panic here is a broken invariant of the runtime's own. Unwinding would end the thread
        // quietly and leave a runtime with no preemption, hand-off or rescue; Go's sysmon would
        // `throw` (a fatal error), and so does this, after the panic hook has printed the cause.
        let run = std::panic::AssertUnwindSafe(|| sysmon(&s));
        if std::panic::catch_unwind(run).is_err() {
            eprintln!(
                "fatal error: gort's sysmon panicked (above); the runtime cannot go on without it"
            );
            std::process::abort();
        }
    })
    .map(Some)
}

/// Wake sysmon from its deep sleep (it sleeps while every P is idle). Called when a P becomes busy
/// and when an M enters a blocking section, whose P sysmon may have to retake.
pub(crate) fn wake_if_sleeping(sched: &Sched) {
    if sched.sysmon_wait.load(Ordering::Relaxed)
        && sched
            .sysmon_wait
            .compare_exchange(true, false, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        // The coarse clock stood still while sysmon slept: bring it up to date before Gs park.
        sched.tick_coarse(sched.nanotime());
        sched.sysmon_note.wakeup();
    }
}

fn sysmon(sched: &Arc<Sched>) {
    let mut ticks = vec![PTick::default(); sched.gomaxprocs];
    let mut idle = 0u32;
    let mut delay_us = 20u64;
    let mut lasttrace = 0u64;
    // Saturating: `GORTDEBUG=schedtrace=` takes any u64, and a huge period means "never".
    let trace_ns = sched.config.schedtrace_ms.saturating_mul(1_000_000);
    while !sched.shutting_down(Ordering::Acquire) {
        delay_us = if idle == 0 {
            20
        } else if idle > 50 {
            (delay_us * 2).min(10_000)
        } else {
            delay_us
        };
        std::thread::sleep(Duration::from_micros(delay_us));
        let mut now = sched.nanotime();
        sched.tick_coarse(now);

        // Deep sleep while every P is idle (unless schedtrace wants its lines).
        if trace_ns == 0 && sched.npidle.load(Ordering::SeqCst) == sched.gomaxprocs {
            sched.sysmon_wait.store(true, Ordering::SeqCst);
            if sched.npidle.load(Ordering::SeqCst) == sched.gomaxprocs
                && !sched.shutting_down(Ordering::Acquire)
            {
                let next = crate::sched::wakep::time_sleep_until(sched);
                let sleep = if next == 0 {
                    Duration::from_secs(60)
                } else {
                    Duration::from_nanos(next.saturating_sub(now).max(1))
                };
                sched.sysmon_note.sleep_timeout(sleep);
            }
            sched.sysmon_wait.store(false, Ordering::SeqCst);
            now = sched.nanotime();
            sched.tick_coarse(now);
            idle = 0;
        }

        // Poll the network if nobody has for 10 ms.
        let lastpoll = sched.lastpoll.load(Ordering::SeqCst);
        if lastpoll != 0
            && lastpoll + NETPOLL_PERIOD_NS < now
            && crate::sched::netpoll::netpoll_any_waiters(sched)
            && sched
                .lastpoll
                .compare_exchange(lastpoll, now, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            && crate::sched::netpoll::netpoll(sched, Some(Duration::ZERO)) > 0
        {
            idle = 0;
        }

        // A timer is overdue and every M is asleep: start one to run it. (Saturating: a far
        // timer's `when` is near u64::MAX.)
        let next = crate::sched::wakep::time_sleep_until(sched);
        if next != 0
            && next.saturating_add(FORCE_PREEMPT_NS / 10) < now
            && sched.npidle.load(Ordering::SeqCst) > 0
        {
            crate::sched::wakep::startm(sched, None, false);
        }

        if retake(sched, &mut ticks, now) > 0 {
            idle = 0;
        } else {
            idle += 1;
        }

        if trace_ns > 0 && lasttrace.saturating_add(trace_ns) <= now {
            lasttrace = now;
            crate::sched::schedtrace::schedtrace(sched, sched.config.scheddetail);
        }
    }
}

/// Go's `retake`. Returns how many Ps were taken away.
fn retake(sched: &Arc<Sched>, ticks: &mut [PTick], now: u64) -> usize {
    let mut n = 0;
    for (i, p) in sched.allp.iter().enumerate() {
        let pd = &mut ticks[i];
        let seen = p.status.load(Ordering::Acquire);
        let state = seen.state();
        if state == PState::Idle {
            continue;
        }
        // Not idle, so owned (`PStatus::IDLE` is the only status without an owner).
        let owner = seen.owner().unwrap_or(usize::MAX);

        // A G running too long: ask it to yield.
        let t = p.schedtick.load(Ordering::Relaxed);
        let mut slice_over = false;
        if pd.schedtick != t {
            pd.schedtick = t;
            pd.schedwhen = now;
        } else if pd.schedwhen + FORCE_PREEMPT_NS <= now {
            slice_over = true;
            if matches!(state, PState::InPoll | PState::InPollLocked) {
                // Trace first, so the request is never stamped after the yield it causes.
                crate::trace::preempt_request(sched, i);
                p.preempt.store(true, Ordering::Relaxed);
            }
        }

        // Work waiting on this P: runnable Gs (its own or the global queue's), or a timer of its own
        // that is due, which only an M holding the P runs (or a thief, if some M is spinning).
        let other_work =
            !p.runq.is_empty() || sched.runqsize.load(Ordering::SeqCst) > 0 || p.timers.due(now);

        if state == PState::Syscall {
            let t = p.syscalltick.load(Ordering::Relaxed);
            if !slice_over && pd.syscalltick != t {
                // A new blocking section since last round: give it at least one tick.
                pd.syscalltick = t;
                pd.syscallwhen = now;
                continue;
            }
            let helpers =
                sched.nmspinning.load(Ordering::SeqCst) + sched.npidle.load(Ordering::SeqCst);
            if !other_work && helpers > 0 && pd.syscallwhen + SYSCALL_RETAKE_NS > now {
                continue;
            }
            if p.revoke(seen) {
                n += 1;
                sched.counters.handoffs.fetch_add(1, Ordering::Relaxed);
                crate::trace::handoff(sched, i, owner);
                crate::sched::wakep::handoffp(sched, i);
            }
            continue;
        }

        if state == PState::InPoll {
            let seq = p.pollseq.load(Ordering::Relaxed);
            if pd.pollseq != seq {
                pd.pollseq = seq;
                pd.pollwhen = now;
                continue;
            }
            // `rescue_threshold(Duration::MAX)` is "never": saturate, never wrap.
            let threshold =
                u64::try_from(sched.config.rescue_threshold.as_nanos()).unwrap_or(u64::MAX);
            if now < pd.pollwhen.saturating_add(threshold) || !other_work {
                // Nothing is stuck behind it: a long poll alone harms nobody.
                continue;
            }
            if p.revoke(seen) {
                n += 1;
                sched.counters.rescues.fetch_add(1, Ordering::Relaxed);
                crate::util::loom::lock(&sched.rescues.pending).push((owner, i, pd.pollwhen));
                crate::trace::rescue(sched, i, owner, p.curg.load(Ordering::Relaxed));
                crate::sched::wakep::handoffp(sched, i);
            }
        }
    }
    n
}

/// Called by an M whose P was taken during a poll: if it was a runaway-poll rescue, print the
/// warning (once per G).
pub(crate) fn report_rescued(ctx: &MCtx, gid: u64) {
    let sched = &ctx.sched;
    let rescue = {
        let mut pending = crate::util::loom::lock(&sched.rescues.pending);
        let pos = pending.iter().position(|&(m, _, _)| m == ctx.m.id);
        pos.map(|i| pending.swap_remove(i))
    };
    let Some((_, pid, since)) = rescue else {
        return;
    };
    let first = {
        let mut warned = crate::util::loom::lock(&sched.rescues.warned);
        // Bound the memory spent on remembering: after 10 000 distinct Gs, stop warning.
        warned.len() < 10_000 && warned.insert(gid)
    };
    if first {
        let ms = (sched.nanotime().saturating_sub(since)) as f64 / 1e6;
        eprintln!(
            "gort: G{gid} did not return from one poll for {ms:.0} ms (a blocking call, a loop with no \
             preemption point, or its thread descheduled by an overloaded OS); sysmon handed P{pid} to \
             another M after {:?}. Wrap blocking calls in gort::blocking, or call \
             gort::coop().await in long loops.",
            sched.config.rescue_threshold
        );
    }
}
