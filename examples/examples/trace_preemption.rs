//! # trace_preemption — a CPU-bound G sliced at ~10 ms
//!
//! Run: `cargo run --release --example trace_preemption`
//!      (`GORTDEBUG=schedtrace=10 cargo run --release --example trace_preemption` for SCHED lines)
//! Look: open `trace_preemption.json` in https://ui.perfetto.dev, or
//!       `cargo run --release --bin gort-trace -- html trace_preemption.json -o trace_preemption.html`.
//!
//! What to look for: one P. A G computes for 100 ms, calling `gort::coop()` in its loop; a ticker
//! G wants to wake every 1 ms. The cruncher's slices on P0 are 10 to 20 ms long: sysmon sees P0's
//! `schedtick` unchanged for 10 ms (Go's `forcePreemptNS`) and sets the preempt flag (the
//! `PreemptRequest` mark) — up to 10 ms late, because a sysmon that finds nothing to retake backs
//! off to one look every 10 ms, as Go's does. At its next `coop()` the G yields (`GoPreempt`,
//! `end: preempted`) and goes to the global queue; the P runs its expired timers, the ticker runs
//! for a few µs and sleeps again, and the cruncher resumes with a new slice. So the ticker's
//! wake-ups come 10–20 ms late (printed below): the price of a G that computes, and why Go
//! preempts at all. Without the `coop()` call the ticker would wait the whole 100 ms.
//!
//! Chapter: preemption — sysmon's `retake`/`preemptone`, and cooperative preemption points.

use std::time::Duration;

fn main() {
    let trace = examples::trace_start("preemption");
    let r = examples::preemption(Duration::from_millis(100));
    let worst = r.ticker_late.iter().max().copied().unwrap_or_default();
    println!(
        "the ticker woke {} times during 100 ms of computation; the latest wake-up was {:?} late",
        r.ticker_late.len(),
        worst
    );
    examples::print_stats("stats", &r.stats);
    if let Some(t) = trace.finish() {
        examples::print_trace_facts(&t);
        let slices: Vec<String> = t
            .slices_of("g")
            .filter(|s| s.dur > 1_000_000)
            .map(|s| format!("{} {}", s.name, gort_trace::analysis::fmt_ns(s.dur)))
            .collect();
        println!("slices over 1 ms: {}", slices.join(", "));
    }
}
