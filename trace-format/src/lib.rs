//! gort's execution-trace format: what the runtime's tracer records (`gort::trace`, Go's
//! runtime/trace) and what reads it back (Go's internal/trace), and the conversion of a trace into
//! Chrome Trace Event JSON for Perfetto and chrome://tracing (the part of Go's cmd/trace that
//! feeds its viewer).
//!
//! - [`event`]: what is recorded — one [`Event`] per scheduler transition.
//! - [`wire`]: how events are laid out in the tracer's per-thread buffers: the [`Encoder`] the
//!   runtime runs on its hot path and the [`Decoder`], defined side by side.
//! - [`file`](mod@file): a whole trace — every thread's buffers, thread names, the clock
//!   calibration — as the tracer hands it over ([`RawTrace`]), the raw trace file written from
//!   it, and its decoding into one time-ordered list of events ([`Trace`]); `order.rs` puts each
//!   wake (and run end) before the start that follows it where the timestamps say otherwise.
//! - [`chrome`] (feature `chrome`, on by default): a [`Trace`] as Chrome Trace Event JSON.
//! - [`perfetto`] (feature `chrome`): the same tracks as Perfetto's protobuf trace format,
//!   smaller and faster to load, for long traces.
//!
//! The runtime depends on this crate for the layout alone; its `trace-json` feature (on by
//! default) turns on `chrome` and converts at `trace::stop`, so that `GORTTRACE=trace.json`
//! writes a file a browser opens. Without it the runtime writes the raw file, and `gort-trace
//! json` converts it.
//!
//! # Differences from Go
//! Go's runtime streams its binary trace while tracing runs and `go tool trace` does all the
//! reading. gort streams too (the raw file is framed so that a cut file still reads), and, by
//! default, also converts the stream to JSON right at the end (the format is small enough to
//! live in a crate the runtime links), so small programs need no second tool.

pub mod event;
pub mod file;
mod order;
pub mod wire;

/// The tests' seeded xorshift generator (the same sequence in every run).
#[cfg(test)]
pub(crate) fn test_rng() -> impl FnMut() -> u64 {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    }
}

#[cfg(feature = "chrome")]
pub mod chrome;
#[cfg(feature = "chrome")]
pub mod perfetto;

pub use event::{Event, Kind, Outcome, Source};
pub use file::{ClockPair, Error, RawTrace, Trace};
pub use wire::{Decoder, Encoder};
