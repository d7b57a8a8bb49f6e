//! The tracer's hooks: the calls the scheduler makes at its transitions (Go's `traceGoCreate`,
//! `traceGoStart`, ... in runtime/trace*.go), and what each records.
//!
//! Each hook is `#[inline(always)]` and is one relaxed load of the runtime's `TRACING` flag
//! ([`on`]) and a branch that is never taken while tracing is off; the recording sits
//! behind it in `rec`, in `#[cold]`, never-inlined functions, so the scheduler's fast paths stay
//! as they are. The hottest pair, a G run's start and end, are not even that: they are the
//! methods of [`Hooks`], and the scheduler loop runs in one of two copies, with [`On`] or with
//! [`Off`], which records nothing (`proc.rs`: `schedule_with`).
//!
//! Each event is recorded by the thread it happens on, with a reading of the clock — but a run's
//! end shares the next record's. The clock read is the larger part of an event's price, and a
//! switch from one G to the next on the same M (an end, then a start a few dozen nanoseconds later)
//! is the pair a scheduler records most. So [`Hooks::go_end`] hands the end to the thread's writer
//! to hold, and the writer stamps it with the time of whatever that thread records next: usually
//! the next run's start, and the two then take one 5–7 byte switch record (`gort-trace-format`:
//! `wire.rs`). The requeueing and the M's look at its own P's queue — a few dozen nanoseconds,
//! more when the requeue takes the global queue's lock or wakes an idle P — count as the ended
//! run's (Go's tracer, which divides its tick counter by 64, blurs the short ones too).
//! Where the M goes on to something slower (its P's queue was empty), the loop calls
//! [`Hooks::flush`], which writes the end with the time then; so does leaving the traced copy of
//! the loop, and `stop` waits until every held end is written (`buf.rs`). The scheduler keeps
//! nothing for the tracer: it reports the end where it happens, the writer decides.
//!
//! Under `cfg(loom)` and `cfg(gort_notrace)` `rec` is a module of empty functions, so every hook
//! compiles to nothing.

use gort_trace_format::Kind;

use super::on;
use crate::sched::g::PollResult;
use crate::sched::getg::{MCtx, Placed};
use crate::sched::{Sched, YieldReason};

#[inline(always)]
pub(crate) fn m_start(ctx: &MCtx) {
    if on(&ctx.sched) {
        rec::m_start(ctx);
    }
}

#[inline(always)]
pub(crate) fn m_stop(ctx: &MCtx) {
    if on(&ctx.sched) {
        rec::m_simple(Kind::MStop, ctx);
    }
}

#[inline(always)]
pub(crate) fn m_park(ctx: &MCtx) {
    if on(&ctx.sched) {
        rec::m_simple(Kind::MPark, ctx);
    }
}

#[inline(always)]
pub(crate) fn m_unpark(ctx: &MCtx) {
    if on(&ctx.sched) {
        rec::m_simple(Kind::MUnpark, ctx);
    }
}

#[inline(always)]
pub(crate) fn proc_start(ctx: &MCtx, p: usize) {
    if on(&ctx.sched) {
        rec::m_p(Kind::ProcStart, ctx, p);
    }
}

#[inline(always)]
pub(crate) fn proc_stop(ctx: &MCtx, p: usize) {
    if on(&ctx.sched) {
        rec::m_p(Kind::ProcStop, ctx, p);
    }
}

/// The hooks of a G's run, which the scheduler loop is generic over (`proc.rs`: `schedule_with`):
/// [`Off`] records nothing and costs nothing; [`On`] records. The loop runs in the copy that
/// matches the runtime's tracing switch and leaves it when the switch changes, which it sees as
/// `Sched::flags` no longer being [`Hooks::FLAGS`].
pub(crate) trait Hooks {
    /// The value of `Sched::flags` this copy of the loop runs under.
    const FLAGS: u8;
    /// A G's run begins on P `p`.
    fn go_start(ctx: &MCtx, p: usize, g: u64);
    /// The run of `g` that began on P `p` ended with `res` (for a requeue, because of `why`).
    /// Called before the G is queued anywhere; held, and stamped with the time of the M's next
    /// record or [`Hooks::flush`]. (Should another M start the G before that, the reader puts
    /// this end first: `gort-trace-format`, `order.rs`.)
    fn go_end(ctx: &MCtx, p: usize, g: u64, res: PollResult, why: YieldReason);
    /// Write what the tracer holds (a run's end) now. Called where the M's quick path ends (its
    /// own P's queue is empty, so a search follows) and when it leaves this copy of the loop
    /// (tracing switched off, or shutdown).
    fn flush(ctx: &MCtx);
}

/// Tracing off: no hooks.
pub(crate) enum Off {}

impl Hooks for Off {
    const FLAGS: u8 = 0;
    #[inline(always)]
    fn go_start(_: &MCtx, _: usize, _: u64) {}
    #[inline(always)]
    fn go_end(_: &MCtx, _: usize, _: u64, _: PollResult, _: YieldReason) {}
    #[inline(always)]
    fn flush(_: &MCtx) {}
}

/// Tracing on: record every run.
pub(crate) enum On {}

impl Hooks for On {
    const FLAGS: u8 = crate::sched::flags::TRACING;
    #[inline(always)]
    fn go_start(ctx: &MCtx, p: usize, g: u64) {
        rec::go_start(ctx, p, g);
    }
    #[inline(always)]
    fn go_end(ctx: &MCtx, p: usize, g: u64, res: PollResult, why: YieldReason) {
        use gort_trace_format::Outcome;
        let outcome = match (res, why) {
            (PollResult::Parked, _) => Outcome::Parked,
            (PollResult::Requeue, YieldReason::Goyield) => Outcome::Yield,
            (PollResult::Requeue, YieldReason::Preempt) => Outcome::Preempted,
            (PollResult::Requeue, YieldReason::None) => Outcome::Requeued,
            (PollResult::Complete, _) => Outcome::Complete,
        };
        // Go's wait reason, for a G that parked.
        let wait = match outcome {
            Outcome::Parked => ctx.waitreason.get() as u8,
            _ => 0,
        };
        rec::go_end(ctx, p, g, outcome as u8, wait);
    }
    #[inline(always)]
    fn flush(_: &MCtx) {
        rec::flush();
    }
}

#[inline(always)]
pub(crate) fn steal(ctx: &MCtx, victim: usize, thief: usize, n: usize) {
    if on(&ctx.sched) {
        rec::steal(ctx, victim, thief, n);
    }
}

#[inline(always)]
pub(crate) fn netpoll_batch(sched: &Sched, n: usize) {
    if on(sched) {
        rec::netpoll_batch(n);
    }
}

/// A new G was queued where `placed` says (`newproc`).
#[inline(always)]
pub(crate) fn go_create(sched: &Sched, g: u64, placed: Placed) {
    if on(sched) {
        rec::go_create(g, placed);
    }
}

#[inline(always)]
pub(crate) fn syscall_enter(ctx: &MCtx, p: usize) {
    if on(&ctx.sched) {
        rec::syscall_enter(ctx, p);
    }
}

#[inline(always)]
pub(crate) fn syscall_exit(ctx: &MCtx, p: usize, fast: bool) {
    if on(&ctx.sched) {
        rec::syscall_exit(ctx, p, fast);
    }
}

#[inline(always)]
pub(crate) fn preempt_request(sched: &Sched, p: usize) {
    if on(sched) {
        rec::sysmon(Kind::PreemptRequest, p, usize::MAX, 0);
    }
}

#[inline(always)]
pub(crate) fn handoff(sched: &Sched, p: usize, m: usize) {
    if on(sched) {
        rec::sysmon(Kind::Handoff, p, m, 0);
    }
}

#[inline(always)]
pub(crate) fn rescue(sched: &Sched, p: usize, m: usize, g: u64) {
    if on(sched) {
        rec::sysmon(Kind::Rescue, p, m, g);
    }
}

/// A G became runnable and was queued where `placed` says (`proc.rs`: `ready`). The unblocker is
/// found from the thread's context: the G being polled, the timer or netpoll batch, sysmon, or a
/// foreign thread. Recorded after the queueing, so another M may have started the G already; the
/// reader puts the wake back before that start (`gort-trace-format`: `order.rs`).
#[inline(always)]
pub(crate) fn go_unblock(sched: &Sched, g: u64, placed: Placed) {
    if on(sched) {
        rec::go_unblock(g, placed);
    }
}

/// The recording side of the hooks: out of line and marked cold, so that the disabled path in the
/// scheduler is only the test of `on()`.
#[cfg(not(any(loom, gort_notrace)))]
mod rec {
    use gort_trace_format::event::{id32, Event, Kind, Source, FLAG_RUNNEXT, NONE};

    use super::super::buf::{self, emit, hold, End};
    use crate::sched::getg::{self, Batch, MCtx, Placed};

    /// Id of the G this M is polling (0 = none).
    fn curg(ctx: &MCtx) -> u64 {
        let g = ctx.curg.get();
        if g.is_null() {
            0
        } else {
            // SAFETY: `curg` is set only while the M polls that G and holds a reference to it.
            unsafe { (*g).id }
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn m_start(ctx: &MCtx) {
        emit(
            Event::new(Kind::MStart)
                .m(ctx.m.id)
                .p(ctx.p.get().unwrap_or(usize::MAX)),
        );
    }

    #[cold]
    #[inline(never)]
    pub(super) fn m_simple(kind: Kind, ctx: &MCtx) {
        emit(Event::new(kind).m(ctx.m.id));
    }

    #[cold]
    #[inline(never)]
    pub(super) fn m_p(kind: Kind, ctx: &MCtx, p: usize) {
        emit(Event::new(kind).m(ctx.m.id).p(p));
    }

    #[cold]
    #[inline(never)]
    pub(super) fn go_start(ctx: &MCtx, p: usize, g: u64) {
        emit(Event::new(Kind::GoStart).m(ctx.m.id).p(p).g(g));
    }

    /// `GoEnd`, held until the M's next record; its `arg` is the P the M owns now (the run's own
    /// P, another, or none).
    #[cold]
    #[inline(never)]
    pub(super) fn go_end(ctx: &MCtx, p: usize, g: u64, outcome: u8, wait: u8) {
        hold(End {
            g,
            now_p: ctx.p.get().map_or(NONE, id32),
            m: id32(ctx.m.id),
            p: id32(p),
            outcome,
            wait,
        });
    }

    #[cold]
    #[inline(never)]
    pub(super) fn flush() {
        buf::flush();
    }

    #[cold]
    #[inline(never)]
    pub(super) fn steal(ctx: &MCtx, victim: usize, thief: usize, n: usize) {
        emit(
            Event::new(Kind::Steal)
                .m(ctx.m.id)
                .p(thief)
                .arg(victim as u64)
                .g(n as u64),
        );
    }

    #[cold]
    #[inline(never)]
    pub(super) fn netpoll_batch(n: usize) {
        let m = getg::with_curm(|ctx| ctx.m.id).unwrap_or(usize::MAX);
        emit(Event::new(Kind::NetpollBatch).m(m).g(n as u64));
    }

    fn runnext(placed: Placed) -> u8 {
        if placed == Placed::RunNext {
            FLAG_RUNNEXT
        } else {
            0
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn go_create(g: u64, placed: Placed) {
        let ev = getg::with_curm(|ctx| {
            Event::new(Kind::GoCreate)
                .m(ctx.m.id)
                .p(ctx.p.get().unwrap_or(usize::MAX))
                .arg(curg(ctx))
                .aux(runnext(placed), 0)
        })
        .unwrap_or_else(|| Event::new(Kind::GoCreate));
        emit(ev.g(g));
    }

    #[cold]
    #[inline(never)]
    pub(super) fn go_unblock(g: u64, placed: Placed) {
        let ev = getg::with_curm(|ctx| {
            let by = curg(ctx);
            let source = match ctx.batch.get() {
                Batch::Timers => Source::Timers,
                Batch::Netpoll => Source::Netpoll,
                Batch::None if by != 0 => Source::G,
                Batch::None => Source::Sched,
            };
            Event::new(Kind::GoUnblock)
                .m(ctx.m.id)
                .p(ctx.p.get().unwrap_or(usize::MAX))
                .arg(if source == Source::G { by } else { 0 })
                .aux(source as u8, runnext(placed))
        })
        // Not an M: sysmon or a foreign thread; the reader tells them apart by the thread's name.
        .unwrap_or_else(|| Event::new(Kind::GoUnblock).aux(Source::External as u8, 0));
        emit(ev.g(g));
    }

    #[cold]
    #[inline(never)]
    pub(super) fn syscall_enter(ctx: &MCtx, p: usize) {
        emit(Event::new(Kind::SyscallEnter).m(ctx.m.id).p(p).g(curg(ctx)));
    }

    #[cold]
    #[inline(never)]
    pub(super) fn syscall_exit(ctx: &MCtx, p: usize, fast: bool) {
        emit(
            Event::new(Kind::SyscallExit)
                .m(ctx.m.id)
                .p(p)
                .g(curg(ctx))
                .aux(u8::from(fast), 0),
        );
    }

    #[cold]
    #[inline(never)]
    pub(super) fn sysmon(kind: Kind, p: usize, m: usize, g: u64) {
        emit(Event::new(kind).p(p).m(m).g(g));
    }
}

#[cfg(any(loom, gort_notrace))]
mod rec {
    use gort_trace_format::Kind;

    use crate::sched::getg::{MCtx, Placed};

    pub(super) fn m_start(_: &MCtx) {}
    pub(super) fn m_simple(_: Kind, _: &MCtx) {}
    pub(super) fn m_p(_: Kind, _: &MCtx, _: usize) {}
    pub(super) fn go_start(_: &MCtx, _: usize, _: u64) {}
    pub(super) fn go_end(_: &MCtx, _: usize, _: u64, _: u8, _: u8) {}
    pub(super) fn flush() {}
    pub(super) fn steal(_: &MCtx, _: usize, _: usize, _: usize) {}
    pub(super) fn netpoll_batch(_: usize) {}
    pub(super) fn go_create(_: u64, _: Placed) {}
    pub(super) fn go_unblock(_: u64, _: Placed) {}
    pub(super) fn syscall_enter(_: &MCtx, _: usize) {}
    pub(super) fn syscall_exit(_: &MCtx, _: usize, _: bool) {}
    pub(super) fn sysmon(_: Kind, _: usize, _: usize, _: u64) {}
}
