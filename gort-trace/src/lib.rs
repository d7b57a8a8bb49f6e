//! gort-trace: reading gort's execution traces offline — the part of Go's `go tool trace` that
//! works on a trace file (cmd/trace).
//!
//! gort's tracer (`gort::trace`, or `GORTTRACE=trace.json`) writes Chrome Trace Event JSON, which
//! Perfetto and chrome://tracing open directly. This crate reads the same file and answers the
//! questions Go's trace tool answers without a browser:
//!
//! - [`analysis`]: Go's "goroutine analysis" — per G, execution time, scheduler wait, block time by
//!   reason — and scheduler-latency percentiles (`gort-trace summary trace.json`);
//! - [`html`]: one self-contained HTML page with an SVG timeline of the Ps
//!   (`gort-trace html trace.json -o trace.html`);
//! - [`events`]: the trace as a chronological listing (`gort-trace events trace.json`).
//!
//! A gort built without its `trace-json` feature writes the raw trace instead; [`Trace::load`]
//! converts it on the way in (with `gort-trace-format`, the crate that defines the format and the
//! JSON the runtime writes), and `gort-trace json trace.bin` writes the JSON file.
//!
//! It is a separate package, with `serde_json`, so the runtime itself stays dependency-free
//! (but for `gort-trace-format`, which has no dependencies).

pub mod analysis;
pub mod events;
pub mod html;
pub mod model;

pub use analysis::{analyze, summary_text, Analysis};
pub use model::{Error, Trace};
