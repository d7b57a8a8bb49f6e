//! The execution tracer: Go's `runtime/trace` (runtime/trace.go `StartTrace`/`StopTrace`,
//! traceevent.go, tracebuf.go) and the part of `go tool trace` that draws it (cmd/trace).
//!
//! Turn it on with `GORTTRACE=trace.json` (the file is written when the runtime is dropped) or from
//! code with [`start`] / [`stop`]. Open the file in <https://ui.perfetto.dev> or chrome://tracing, or
//! run `gort-trace summary trace.json` / `gort-trace html trace.json` (the `gort-trace` package).
//!
//! It records what Go's tracer records about the scheduler: G create / start / end (and why it
//! ended: parked with Go's wait reason, yield, preempted, requeued, complete), unblock (and by whom:
//! a G, the timer or netpoll batch of an M, sysmon, a foreign thread; and whether the G went to the
//! waker's `runnext`), P start/stop, M start/park/unpark/stop, work steals, blocking-section enter
//! and exit (fast or slow path), sysmon's preemption requests, hand-offs and runaway-poll rescues,
//! and netpoll batches. `chrome.rs` says what the output looks like.
//!
//! # Cost
//! Off: each hook is `#[inline(always)]` and is one relaxed load of the runtime's `TRACING` flag
//! ([`on`]; `Sched::flags`, which says why a per-runtime copy) and a branch that is never taken while
//! tracing is off; the recording code sits behind it in a `#[cold]`, never-inlined function. The
//! hottest pair, a G run's start and end, costs not even that: `schedule` runs one of two copies
//! of its loop, with or without those hooks, and an M moves between them when the flag changes,
//! which `find_runnable` notices with the test of the shutdown flag it makes anyway (`proc.rs`).
//! `scripts/trace_disabled_cost.sh` counts what is left against a build with every hook compiled
//! out (`--cfg gort_notrace`): +0.02 % (`yield_many`) to +0.8 % more instructions on the
//! scheduler-only microbenchmarks — the hooks at G creation and wake-up.
//!
//! On: an event is a read of the CPU's tick counter (`clock.rs`) and a few bytes appended to the
//! thread's own buffer (`event.rs`, `buf.rs`) — no lock, no shared cache line. Three things keep
//! both down where a scheduler spends its time. When an M goes straight from one G's run to the
//! next G on its own P's queue (a *quick switch*, `proc.rs`: `schedule_rounds`), the run's end and
//! the next run's start are recorded together, with one clock reading, as one 5–7 byte record.
//! That record, and those of Gs created or woken by the running G, leave the M, the P and the
//! running G implied by the last run start in the buffer. And the recording is inlined into each
//! hook, so that the fields an event does not use cost nothing. A yield then adds ~124
//! instructions and one tick-counter read (~10 ns on the development VM, about half of the
//! ~20 ns a switch costs traced). Workloads whose Gs do real work barely notice (a loopback TCP
//! echo: 1.0x); the scheduler-only microbenchmarks, where a G's whole run takes 30–150 ns, run
//! 1.0–1.3x slower traced (`benches/trace_overhead.rs`). Go's tracer has the same shape: it too
//! reads the tick counter and writes a few bytes per event.
//!
//! # Differences from Go
//! - Go streams a compact binary format to the writer while tracing runs, and `go tool trace`
//!   converts it afterwards. We keep the events in memory (bounded, `buf.rs`) and write Chrome Trace
//!   Event JSON at `stop`, so the file opens in a browser with no extra tool.
//! - Buffers are per thread (per M), not per P: a P can be revoked while its M is still inside a
//!   poll, so a per-P buffer could have two writers.
//! - Tracing is process-wide, like Go's: every runtime's events go into the one trace. Trace one
//!   runtime at a time, or their P and M tracks (same ids) merge.
//! - `GORTTRACE` traces the process once: from the first `Builder::build` to the next drop of a
//!   runtime, which writes the file. A program with one runtime (`gort::run`) is traced whole.
//!   A process that exits without dropping its runtime writes nothing.
//! - Under `cfg(loom)` and `cfg(gort_notrace)` the tracer is compiled out (hooks are empty, [`start`]
//!   fails, `GORTTRACE` is reported and ignored). `gort_notrace` exists to measure the hooks.

use std::io::{self, Write};

use crate::sched::g::PollResult;
use crate::sched::getg::{MCtx, Placed};
use crate::sched::{Sched, YieldReason};

#[cfg(not(any(loom, gort_notrace)))]
mod buf;
#[cfg(not(any(loom, gort_notrace)))]
mod chrome;
#[cfg(not(any(loom, gort_notrace)))]
mod clock;
mod event;

/// Is this runtime recording a trace? The single test every hook makes: its `Sched`'s copy of the
/// process-wide switch (`sched::flags::TRACING`, which says why a copy). `Relaxed`: a thread that
/// sees tracing switch on or off a little late records a few events more or less, which the
/// session boundary absorbs.
///
/// Built with `RUSTFLAGS="--cfg gort_notrace"` this is the constant `false`, so every hook compiles
/// to nothing: the build `scripts/trace_disabled_cost.sh` compares against to measure what the
/// hooks cost while tracing is off.
#[inline(always)]
pub(crate) fn on(_sched: &Sched) -> bool {
    #[cfg(not(any(loom, gort_notrace)))]
    {
        _sched.flags.load(std::sync::atomic::Ordering::Relaxed) & crate::sched::flags::TRACING != 0
    }
    #[cfg(any(loom, gort_notrace))]
    {
        false
    }
}

/// Called by `Sched::new`: put the runtime on the list whose switches `start` and `stop` set.
pub(crate) fn register(_sched: &crate::util::loom::sync::Arc<crate::sched::Sched>) {
    #[cfg(not(any(loom, gort_notrace)))]
    buf::register(_sched);
}

/// Was the tracer compiled in? False under `cfg(loom)` and `cfg(gort_notrace)`, where [`start`]
/// fails with `ErrorKind::Unsupported`.
pub const fn compiled_in() -> bool {
    !cfg!(any(loom, gort_notrace))
}

#[cfg(any(loom, gort_notrace))]
fn compiled_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "gort: the tracer is compiled out (built with cfg(loom) or cfg(gort_notrace))",
    )
}

/// Start recording an execution trace of every runtime in the process; [`stop`] writes it to
/// `writer` as Chrome Trace Event JSON. Fails if a trace is already being recorded (by an earlier
/// `start` or by `GORTTRACE`).
///
/// ```
/// let mut path = std::env::temp_dir();
/// path.push(format!("gort-doc-trace-{}.json", std::process::id()));
/// gort::trace::start(std::fs::File::create(&path).unwrap()).unwrap();
/// gort::run(async {
///     gort::go(async { 6 * 7 }).await.unwrap();
/// });
/// gort::trace::stop().unwrap();
/// let json = std::fs::read_to_string(&path).unwrap();
/// assert!(json.starts_with("{\"traceEvents\":["));
/// # std::fs::remove_file(&path).ok();
/// ```
pub fn start(writer: impl Write + Send + 'static) -> io::Result<()> {
    #[cfg(not(any(loom, gort_notrace)))]
    {
        buf::start(buf::Owner::Api, Box::new(writer))
    }
    #[cfg(any(loom, gort_notrace))]
    {
        drop(writer);
        Err(compiled_out())
    }
}

/// Stop the trace begun by [`start`] and write it out (then flush the writer). Errors: no trace is
/// being recorded, the trace was started by `GORTTRACE` (it is written when the runtime is dropped),
/// or writing failed.
pub fn stop() -> io::Result<()> {
    #[cfg(not(any(loom, gort_notrace)))]
    {
        let mut c = buf::stop(|owner| {
            match owner {
            buf::Owner::Api => Ok(()),
            buf::Owner::Env(path) => Err(io::Error::other(format!(
                "gort: this trace was started by GORTTRACE={path}; it is written when the runtime is \
                 dropped"
            ))),
        }
        })?;
        let mut sink = std::mem::replace(&mut c.sink, Box::new(io::sink()));
        report_dropped(&c);
        chrome::write(&c, &mut sink)
    }
    #[cfg(any(loom, gort_notrace))]
    {
        Err(compiled_out())
    }
}

/// Is an execution trace being recorded right now?
#[inline(always)]
pub fn is_enabled() -> bool {
    #[cfg(not(any(loom, gort_notrace)))]
    {
        buf::ENABLED.load(std::sync::atomic::Ordering::Relaxed)
    }
    #[cfg(any(loom, gort_notrace))]
    {
        false
    }
}

#[cfg(not(any(loom, gort_notrace)))]
fn report_dropped(c: &buf::Collected) {
    if c.dropped > 0 {
        eprintln!(
            "gort: the trace reached its limit of {} MiB of events; {} later events were dropped",
            buf::MAX_BYTES >> 20,
            c.dropped
        );
    }
}

/// `GORTTRACE=path`: called by `Builder::build`. Starts a trace into `path` once per process.
pub(crate) fn start_from_env() {
    #[cfg(not(any(loom, gort_notrace)))]
    {
        static CLAIMED: crate::util::loom::sync::atomic::AtomicBool =
            crate::util::loom::sync::atomic::AtomicBool::new(false);
        let Some(path) = std::env::var_os("GORTTRACE") else {
            return;
        };
        if path.is_empty() || CLAIMED.swap(true, crate::util::loom::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        let shown = path.to_string_lossy().into_owned();
        let file = match std::fs::File::create(&path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!(
                    "gort: GORTTRACE={shown}: cannot create the trace file: {e}; not tracing"
                );
                return;
            }
        };
        let sink = Box::new(io::BufWriter::new(file));
        if let Err(e) = buf::start(buf::Owner::Env(shown.clone()), sink) {
            eprintln!("gort: GORTTRACE={shown} ignored: {e}");
        }
    }
    #[cfg(all(gort_notrace, not(loom)))]
    {
        if let Some(path) = std::env::var_os("GORTTRACE") {
            eprintln!(
                "gort: GORTTRACE={} ignored: {}",
                path.to_string_lossy(),
                compiled_out()
            );
        }
    }
}

/// Called at the end of `Runtime::drop`, once every M has exited: write a `GORTTRACE` trace. A
/// trace begun by [`start`] is left running for [`stop`].
pub(crate) fn flush_on_shutdown(_s: &crate::sched::Sched) {
    #[cfg(not(any(loom, gort_notrace)))]
    {
        if !is_enabled() || !matches!(buf::owner(), Some(buf::Owner::Env(_))) {
            return;
        }
        let Ok(mut c) = buf::stop(|owner| match owner {
            buf::Owner::Env(_) => Ok(()),
            buf::Owner::Api => Err(io::Error::other("started by the API")),
        }) else {
            return;
        };
        let path = match &c.owner {
            buf::Owner::Env(p) => p.clone(),
            buf::Owner::Api => String::new(),
        };
        let mut sink = std::mem::replace(&mut c.sink, Box::new(io::sink()));
        report_dropped(&c);
        match chrome::write(&c, &mut sink) {
            Ok(()) => eprintln!(
                "gort: wrote the execution trace ({} events) to {path}; open it in \
                 https://ui.perfetto.dev or run `gort-trace summary {path}`",
                c.events.len()
            ),
            Err(e) => eprintln!("gort: GORTTRACE={path}: writing the trace failed: {e}"),
        }
    }
}

// ---- the hooks -------------------------------------------------------------------------------------
// Each is one load and a branch (`on`); the recording is out of line in `rec`.

#[inline(always)]
pub(crate) fn m_start(ctx: &MCtx) {
    if on(&ctx.sched) {
        rec::m_start(ctx);
    }
}

#[inline(always)]
pub(crate) fn m_stop(ctx: &MCtx) {
    if on(&ctx.sched) {
        rec::m_simple(event::Kind::MStop, ctx);
    }
}

#[inline(always)]
pub(crate) fn m_park(ctx: &MCtx) {
    if on(&ctx.sched) {
        rec::m_simple(event::Kind::MPark, ctx);
    }
}

#[inline(always)]
pub(crate) fn m_unpark(ctx: &MCtx) {
    if on(&ctx.sched) {
        rec::m_simple(event::Kind::MUnpark, ctx);
    }
}

#[inline(always)]
pub(crate) fn proc_start(ctx: &MCtx, p: usize) {
    if on(&ctx.sched) {
        rec::m_p(event::Kind::ProcStart, ctx, p);
    }
}

#[inline(always)]
pub(crate) fn proc_stop(ctx: &MCtx, p: usize) {
    if on(&ctx.sched) {
        rec::m_p(event::Kind::ProcStop, ctx, p);
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
    /// Called before the G is queued anywhere, so no other M can start it before this is
    /// recorded.
    fn go_end(ctx: &MCtx, p: usize, g: u64, res: PollResult, why: YieldReason);
}

/// Tracing off: no hooks.
pub(crate) enum Off {}

impl Hooks for Off {
    const FLAGS: u8 = 0;
    #[inline(always)]
    fn go_start(_: &MCtx, _: usize, _: u64) {}
    #[inline(always)]
    fn go_end(_: &MCtx, _: usize, _: u64, _: PollResult, _: YieldReason) {}
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
        rec::go_end(ctx, RunEnd::new(ctx, p, g, res, why));
    }
}

/// The end of a G's run, as the scheduler saw it when the poll returned, kept until it is
/// recorded.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(any(loom, gort_notrace), allow(dead_code))]
pub(crate) struct RunEnd {
    /// The P the run started on.
    p: usize,
    g: u64,
    /// An [`event::Outcome`].
    outcome: u8,
    /// Go's wait reason if the G parked (`g::WaitReason`), else 0.
    wait: u8,
}

impl RunEnd {
    /// How the run of `g` on P `p` ended: `res` with `why` (for a requeue); the wait reason of a
    /// parked G is in `ctx`.
    #[inline(always)]
    pub(crate) fn new(ctx: &MCtx, p: usize, g: u64, res: PollResult, why: YieldReason) -> RunEnd {
        use event::Outcome;
        let outcome = match (res, why) {
            (PollResult::Parked, _) => Outcome::Parked,
            (PollResult::Requeue, YieldReason::Gosched) => Outcome::Yield,
            (PollResult::Requeue, YieldReason::Preempt) => Outcome::Preempted,
            (PollResult::Requeue, YieldReason::None) => Outcome::Requeued,
            (PollResult::Complete, _) => Outcome::Complete,
        };
        let wait = match outcome {
            Outcome::Parked => ctx.waitreason.get() as u8,
            _ => 0,
        };
        RunEnd {
            p,
            g,
            outcome: outcome as u8,
            wait,
        }
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
        rec::sysmon(event::Kind::PreemptRequest, p, usize::MAX, 0);
    }
}

#[inline(always)]
pub(crate) fn handoff(sched: &Sched, p: usize, m: usize) {
    if on(sched) {
        rec::sysmon(event::Kind::Handoff, p, m, 0);
    }
}

#[inline(always)]
pub(crate) fn rescue(sched: &Sched, p: usize, m: usize, g: u64) {
    if on(sched) {
        rec::sysmon(event::Kind::Rescue, p, m, g);
    }
}

/// A G became runnable and was queued where `placed` says (`proc.rs`: `ready`). The unblocker is
/// found from the thread's context: the G being polled, the timer or netpoll batch, sysmon, or a
/// foreign thread.
#[inline(always)]
pub(crate) fn go_unblock(sched: &Sched, g: u64, placed: Placed) {
    if on(sched) {
        rec::go_unblock(g, placed);
    }
}

/// The recording side of the hooks: out of line and marked cold, so that the disabled path in the
/// scheduler is only the test of `on()` (all but `go_switch`, which says why).
#[cfg(not(any(loom, gort_notrace)))]
mod rec {
    use super::buf::emit;
    use super::event::{Event, Kind, Source, FLAG_RUNNEXT};
    use super::RunEnd;
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

    /// `GoEnd` of `end`; `arg` is the P the M owns now (the run's own P, another, or none).
    #[inline(always)]
    fn end_event(ctx: &MCtx, end: RunEnd) -> Event {
        let now_p = ctx
            .p
            .get()
            .map_or(u64::from(super::event::NONE), |p| p as u64);
        Event::new(Kind::GoEnd)
            .m(ctx.m.id)
            .p(end.p)
            .g(end.g)
            .arg(now_p)
            .aux(end.outcome, end.wait)
    }

    #[cold]
    #[inline(never)]
    pub(super) fn go_end(ctx: &MCtx, end: RunEnd) {
        emit(end_event(ctx, end));
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

    #[cold]
    #[inline(never)]
    pub(super) fn go_create(g: u64, placed: Placed) {
        let runnext = if placed == Placed::RunNext {
            FLAG_RUNNEXT
        } else {
            0
        };
        let ev = getg::with_curm(|ctx| {
            Event::new(Kind::GoCreate)
                .m(ctx.m.id)
                .p(ctx.p.get().unwrap_or(usize::MAX))
                .arg(curg(ctx))
                .aux(runnext, 0)
        })
        .unwrap_or_else(|| Event::new(Kind::GoCreate));
        emit(ev.g(g));
    }

    #[cold]
    #[inline(never)]
    pub(super) fn go_unblock(g: u64, placed: Placed) {
        let runnext = if placed == Placed::RunNext {
            FLAG_RUNNEXT
        } else {
            0
        };
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
                .aux(source as u8, runnext)
        })
        // Not an M: sysmon or a foreign thread; the writer tells them apart by the thread's name.
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
    use super::event::Kind;
    use super::RunEnd;
    use crate::sched::getg::{MCtx, Placed};

    pub(super) fn m_start(_: &MCtx) {}
    pub(super) fn m_simple(_: Kind, _: &MCtx) {}
    pub(super) fn m_p(_: Kind, _: &MCtx, _: usize) {}
    pub(super) fn go_start(_: &MCtx, _: usize, _: u64) {}
    pub(super) fn go_end(_: &MCtx, _: RunEnd) {}
    pub(super) fn steal(_: &MCtx, _: usize, _: usize, _: usize) {}
    pub(super) fn netpoll_batch(_: usize) {}
    pub(super) fn go_create(_: u64, _: Placed) {}
    pub(super) fn go_unblock(_: u64, _: Placed) {}
    pub(super) fn syscall_enter(_: &MCtx, _: usize) {}
    pub(super) fn syscall_exit(_: &MCtx, _: usize, _: bool) {}
    pub(super) fn sysmon(_: Kind, _: usize, _: usize, _: u64) {}
}
