//! The execution tracer: Go's `runtime/trace` (runtime/trace.go `StartTrace`/`StopTrace`,
//! traceevent.go, tracebuf.go). It only records; reading a trace — decoding, ordering, drawing —
//! is the `gort-trace-format` crate's business, as it is cmd/trace's in Go.
//!
//! Turn it on with `GORTTRACE=trace.json` (the file is written when the runtime is dropped) or from
//! code with [`start`] / [`stop`]. By default the file is Chrome Trace Event JSON: open it in
//! <https://ui.perfetto.dev> or chrome://tracing, or run `gort-trace summary trace.json` /
//! `gort-trace html trace.json` (the `gort-trace` package). As in Go, the tracer streams a compact
//! binary trace while it runs (`session.rs`), so memory stays bounded however long the run;
//! for JSON it streams to a side file and converts it at the end, in `gort-trace-format`'s
//! `chrome` module, which gort's `trace-json` cargo feature (on by default) pulls in.
//! `GORTTRACE=trace.bin`, [`start_raw`], or a build without that feature write the raw trace
//! itself, which `gort-trace json|perfetto|summary|html` read; [`writes_json`] says which.
//! `GORTTRACE=flight:trace.json` and [`FlightRecorder`] keep only the last seconds (`flight.rs`).
//!
//! The trace is written however the process ends (`output.rs`, `survive.rs`): at the runtime's
//! drop, on SIGINT/SIGTERM/SIGQUIT that the program does not handle itself, on a panic that ends
//! the process, at `exit`, and before `checkdead` ends a deadlocked program (`flush_for_exit`).
//!
//! It records what Go's tracer records about the scheduler: G create / start / end (and why it
//! ended: parked with Go's wait reason, yield, preempted, requeued, complete), unblock (and by whom:
//! a G, the timer or netpoll batch of an M, sysmon, a foreign thread; and whether the G went to the
//! waker's `runnext`), P start/stop, M start/park/unpark/stop, work steals, blocking-section enter
//! and exit (fast or slow path), sysmon's preemption requests, hand-offs and runaway-poll rescues,
//! and netpoll batches (`hooks.rs`); and the program's own annotations — tasks, regions, log
//! messages (Go's `trace.NewTask`, `WithRegion`, `Log`) — and G labels (`user.rs`).
//!
//! # Files
//! - `hooks.rs`: the calls at the scheduler's transitions and what each records.
//! - `buf.rs`: each thread's buffer, appended to without a lock, and the run end it holds.
//! - `session.rs`: start and stop; the switch the hooks test; the writer thread that streams
//!   full chunks out, or the flight recorder's ring.
//! - `output.rs`: where a trace goes (raw, JSON through a side file, a flight recorder's file),
//!   `GORTTRACE`, and the one way every ending writes it out.
//! - `survive.rs`: the signal handlers, panic hook and `atexit` that write it before the process
//!   ends.
//! - `flight.rs`: [`FlightRecorder`].
//! - `user.rs`: [`Task`], [`region`], [`log`]; G labels.
//! - `clock.rs`: the tick counter events are stamped with.
//!
//! # Cost
//! Off: each hook is `#[inline(always)]` and is one relaxed load of the runtime's `TRACING` flag
//! (`on`; `Sched::flags`, which says why a per-runtime copy) and a branch that is never taken while
//! tracing is off; the recording code sits behind it in a `#[cold]`, never-inlined function. The
//! hottest pair, a G run's start and end, costs not even that: `schedule` runs one of two copies
//! of its loop, with or without those hooks, and an M moves between them when the flag changes,
//! which `find_runnable` notices with the test of the shutdown flag it makes anyway (`proc.rs`).
//! `scripts/trace_disabled_cost.sh` counts what is left against a build with every hook compiled
//! out (`--cfg gort_notrace`): the tests at G creation and wake-up.
//!
//! On: an event is a read of the CPU's tick counter (`clock.rs`) and a few bytes appended to the
//! thread's own buffer (`buf.rs`) — no lock, no shared cache line. Three things keep both down
//! where a scheduler spends its time. A run's end takes no clock reading of its own: the thread's
//! writer holds it and stamps it with the time of its next record, usually the next run's start,
//! and the two take one 5–7 byte switch record (`hooks.rs` says where the end's time could be
//! off and how it is kept close). That record, and those of Gs created or woken by the running G,
//! leave the M, the P and the running G implied by the last run start in the buffer. And the
//! recording is inlined into each hook, so that the fields an event does not use cost nothing.
//! Workloads whose Gs do real work barely notice; the scheduler-only microbenchmarks, where a G's
//! whole run takes tens of nanoseconds, notice the clock read per switch
//! (`benches/trace_overhead.rs`). Go's tracer has the same shape: it too reads the tick counter
//! and writes a few bytes per event.
//!
//! # Differences from Go
//! - Like Go, we stream a compact binary format while tracing runs, and the reader converts it
//!   afterwards; by default the conversion to Chrome Trace Event JSON also runs at the end, so
//!   the file opens in a browser with no extra tool. The raw file is framed per buffer so that a
//!   file cut by a killed process still reads.
//! - Go's runtime loses the trace when the process is killed or exits; here it is written first.
//! - Buffers are per thread (per M), not per P: a P can be revoked while its M is still inside a
//!   poll, so a per-P buffer could have two writers.
//! - Go orders events by per-G sequence numbers. Here a wake is recorded once the G is queued,
//!   and a run's end with its M's next record, so another M may stamp the G's next start first;
//!   the reader puts them back in causal order (`gort-trace-format`: `order.rs`).
//! - Tracing is process-wide, like Go's: every runtime's events go into the one trace. Trace one
//!   runtime at a time, or their P and M tracks (same ids) merge.
//! - `GORTTRACE` traces the process once: from the first `Builder::build` to the next drop of a
//!   runtime, which writes the file. A program with one runtime (`gort::run`) is traced whole.
//! - Under `cfg(loom)` and `cfg(gort_notrace)` the tracer is compiled out (hooks are empty, [`start`]
//!   fails, `GORTTRACE` is reported and ignored). `gort_notrace` exists to measure the hooks.

use std::io::{self, Write};

use crate::sched::Sched;

#[cfg(not(any(loom, gort_notrace)))]
mod buf;
#[cfg(not(any(loom, gort_notrace)))]
mod clock;
mod flight;
mod hooks;
#[cfg(not(any(loom, gort_notrace)))]
mod output;
#[cfg(not(any(loom, gort_notrace)))]
mod session;
#[cfg(not(any(loom, gort_notrace)))]
mod survive;
mod user;

pub use flight::{FlightConfig, FlightRecorder};
pub(crate) use hooks::*;
pub use user::{log, region, start_region, Region, Task};

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
    session::register(_sched);
}

/// Was the tracer compiled in? False under `cfg(loom)` and `cfg(gort_notrace)`, where [`start`]
/// fails with `ErrorKind::Unsupported`.
pub const fn compiled_in() -> bool {
    !cfg!(any(loom, gort_notrace))
}

/// Does a trace come out as Chrome Trace Event JSON? True with the `trace-json` feature (the
/// default); without it, [`stop`] and `GORTTRACE` write the raw trace, which `gort-trace json`
/// converts.
pub const fn writes_json() -> bool {
    cfg!(feature = "trace-json")
}

#[cfg(any(loom, gort_notrace))]
fn compiled_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "gort: the tracer is compiled out (built with cfg(loom) or cfg(gort_notrace))",
    )
}

/// Start recording an execution trace of every runtime in the process; [`stop`] finishes it in
/// `writer` — as Chrome Trace Event JSON, or raw without the `trace-json` feature
/// ([`writes_json`]). The events are streamed as they are recorded: the raw trace goes straight
/// to `writer` (raw), or to a temporary file that [`stop`] converts into `writer` (JSON), so
/// memory stays bounded however long the trace. Fails if a trace is already being recorded (by
/// an earlier `start`, by `GORTTRACE` or by a [`FlightRecorder`]).
///
/// ```
/// let mut path = std::env::temp_dir();
/// path.push(format!("gort-doc-trace-{}.json", std::process::id()));
/// gort::trace::start(std::fs::File::create(&path).unwrap()).unwrap();
/// gort::run(async {
///     gort::go(async { 6 * 7 }).await.unwrap();
/// });
/// gort::trace::stop().unwrap();
/// let trace = std::fs::read(&path).unwrap();
/// if gort::trace::writes_json() {
///     assert!(trace.starts_with(b"{\"traceEvents\":["));
/// }
/// # std::fs::remove_file(&path).ok();
/// ```
pub fn start(writer: impl Write + Send + 'static) -> io::Result<()> {
    #[cfg(not(any(loom, gort_notrace)))]
    {
        output::start_api(Box::new(writer), writes_json())
    }
    #[cfg(any(loom, gort_notrace))]
    {
        drop(writer);
        Err(compiled_out())
    }
}

/// Like [`start`], but `writer` gets the raw trace whatever the features: the compact binary
/// stream (Go's trace file), for long traces; `gort-trace json|html|summary|perfetto` read it.
pub fn start_raw(writer: impl Write + Send + 'static) -> io::Result<()> {
    #[cfg(not(any(loom, gort_notrace)))]
    {
        output::start_api(Box::new(writer), false)
    }
    #[cfg(any(loom, gort_notrace))]
    {
        drop(writer);
        Err(compiled_out())
    }
}

/// Stop the trace begun by [`start`] and finish writing it (then flush the writer). Errors: no
/// trace is being recorded, the trace was started by `GORTTRACE` (it is written when the runtime
/// is dropped) or by a [`FlightRecorder`], or writing failed.
pub fn stop() -> io::Result<()> {
    #[cfg(not(any(loom, gort_notrace)))]
    {
        output::stop_api()
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
        session::ENABLED.load(std::sync::atomic::Ordering::Relaxed)
    }
    #[cfg(any(loom, gort_notrace))]
    {
        false
    }
}

/// `GORTTRACE=path` or `GORTTRACE=flight:path`: called by `Builder::build`. Starts a trace into
/// `path` once per process.
pub(crate) fn start_from_env() {
    #[cfg(not(any(loom, gort_notrace)))]
    output::start_from_env();
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
    output::finish_env();
}

/// The process is about to end abnormally (`why`: a deadlock found by `checkdead`, a fatal
/// signal, a panic): stop whatever trace is running and write it out now — a `GORTTRACE` file
/// (converted to JSON if it is one), a trace begun by [`start`] into its writer, a flight
/// recorder's window into its `GORTTRACE=flight:` file. Waits for a trace that another thread is
/// writing out already. Call it before `std::process::exit` and the like; it never panics.
pub(crate) fn flush_for_exit(_why: &str) {
    #[cfg(not(any(loom, gort_notrace)))]
    output::flush_for_exit(_why);
}

/// The prefix of a runtime-internal G's label in the trace (`gort-trace` lists those Gs apart).
pub(crate) const SYSTEM_LABEL: &str = gort_trace_format::event::SYSTEM_LABEL;

/// `GoLabel`: G `goid` is called `label` from now on (its name, or where it was spawned); the
/// trace's slices of that G carry it.
pub(crate) fn go_label(_goid: u64, _label: &str) {
    #[cfg(not(any(loom, gort_notrace)))]
    user::label(_goid, _label);
}

#[cfg(test)]
mod tests {
    use gort_trace_format::event::wait_reason;

    use crate::sched::g::WaitReason;

    /// `stop` writes what it says it writes: JSON with the `trace-json` feature, else a raw
    /// trace that decodes.
    #[cfg(not(any(loom, gort_notrace)))]
    #[test]
    // The JSON goes through a side file, which Miri's isolation does not allow.
    #[cfg_attr(miri, ignore)]
    fn stop_writes_json_or_a_raw_trace() {
        use gort_trace_format::{Event, Kind};
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        let _serial = super::session::TEST_SERIAL
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let out = Shared::default();
        super::start(out.clone()).expect("start");
        super::buf::emit(Event::new(Kind::GoStart).m(9).p(0).g(4242));
        super::stop().expect("stop");
        let bytes = out.0.lock().unwrap().clone();
        if super::writes_json() {
            let text = String::from_utf8(bytes).expect("UTF-8");
            assert!(text.starts_with("{\"traceEvents\":["), "{text}");
            assert!(text.contains("\"name\":\"G4242\""), "{text}");
        } else {
            let raw = gort_trace_format::RawTrace::read(&bytes).expect("a raw trace");
            let t = raw.decode().expect("decode");
            assert!(t.events.iter().any(|(_, e)| e.g == 4242));
        }
    }

    /// The reader names wait reasons from its own table of Go's words, by the byte recorded.
    #[test]
    fn the_format_has_the_runtimes_wait_reason_words() {
        for v in 0..=u8::MAX {
            let r = WaitReason::from_u8(v);
            if r != WaitReason::None || v == 0 {
                assert_eq!(r as u8, v);
                assert_eq!(wait_reason(v), r.as_str(), "wait reason {v}");
            } else {
                assert_eq!(wait_reason(v), "", "no wait reason {v} in the runtime");
            }
        }
    }
}
