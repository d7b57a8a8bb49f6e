//! The flight recorder: Go 1.25's `runtime/trace.FlightRecorder` — the tracer runs all the
//! time, keeping only the last few seconds in a bounded ring of its chunks (`session.rs`:
//! `Ring`), and writes that window on demand: after a slow request, on an error, from a
//! debugging endpoint. `GORTTRACE=flight:path` runs one for the whole process and writes its
//! window to `path` when the process ends — at the runtime's drop, on SIGINT/SIGTERM/SIGQUIT, on
//! a deadlock, on a panic (`survive.rs`): the trace of the moment things went wrong.
//!
//! Differences from Go: a flight recorder is a tracing session like `trace::start`'s, so the
//! two do not run at once (Go lets a flight recorder and a trace share the tracer); and its
//! window is in chunks of 64 KiB per thread, so a thread that records little keeps its older
//! events in the chunk it is still filling.

use std::io::{self, Write};

#[cfg(not(any(loom, gort_notrace)))]
pub use super::session::FlightConfig;

/// How much a flight recorder keeps (Go's `FlightRecorderConfig`).
#[cfg(any(loom, gort_notrace))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlightConfig {
    /// Keep at least this much of the most recent history (Go's `MinAge`)...
    pub min_age: std::time::Duration,
    /// ...but no more than this many bytes of events (Go's `MaxBytes`), which wins.
    pub max_bytes: usize,
}

/// A flight recorder (Go's `trace.FlightRecorder`): [`start`](FlightRecorder::start) it, and
/// [`write_to`](FlightRecorder::write_to) writes the last window of the trace as a raw trace
/// file (`gort-trace json|html|summary|perfetto` read it).
///
/// ```
/// use gort::trace::{FlightConfig, FlightRecorder};
/// let fr = FlightRecorder::new(FlightConfig::default());
/// if fr.start().is_ok() {
///     gort::run(async { gort::go(async {}).await.unwrap() });
///     let mut window = Vec::new();
///     fr.write_to(&mut window).unwrap();
///     fr.stop();
///     assert!(window.starts_with(b"gorttrc"));
/// }
/// ```
#[derive(Debug)]
pub struct FlightRecorder {
    cfg: FlightConfig,
}

impl FlightRecorder {
    /// A flight recorder keeping what `cfg` says (not running yet).
    pub fn new(cfg: FlightConfig) -> FlightRecorder {
        FlightRecorder { cfg }
    }

    /// Start recording. Fails if a trace is being recorded already.
    pub fn start(&self) -> io::Result<()> {
        #[cfg(not(any(loom, gort_notrace)))]
        {
            super::survive::install();
            super::session::start(
                super::session::Owner::Flight,
                super::session::Sink::Flight(self.cfg),
                None,
            )
        }
        #[cfg(any(loom, gort_notrace))]
        {
            let _ = self.cfg;
            Err(super::compiled_out())
        }
    }

    /// Is a flight recorder recording?
    pub fn enabled(&self) -> bool {
        #[cfg(not(any(loom, gort_notrace)))]
        {
            super::session::owner() == Some(super::session::Owner::Flight)
        }
        #[cfg(any(loom, gort_notrace))]
        {
            false
        }
    }

    /// Write the window kept so far to `w` as a raw trace, without stopping; returns the bytes
    /// written. Fails if no flight recorder is running.
    pub fn write_to(&self, w: &mut dyn Write) -> io::Result<u64> {
        #[cfg(not(any(loom, gort_notrace)))]
        {
            match super::session::snapshot() {
                Some(s) => s.write(w),
                None => Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "gort: no flight recorder is running",
                )),
            }
        }
        #[cfg(any(loom, gort_notrace))]
        {
            let _ = w;
            Err(super::compiled_out())
        }
    }

    /// Stop recording (the window is gone). Does nothing if this is not recording.
    pub fn stop(&self) {
        #[cfg(not(any(loom, gort_notrace)))]
        {
            let _ = super::session::stop(|o| match o {
                super::session::Owner::Flight => Ok(()),
                _ => Err(io::Error::other("not a flight recorder")),
            });
        }
    }
}
