//! # trace_gmp — Gs spread over the Ps' run queues, and `runnext`
//!
//! Run: `cargo run --release --example trace_gmp`
//!      (`GORTDEBUG=schedtrace=5 cargo run --release --example trace_gmp` adds Go's SCHED lines)
//! Look: open `trace_gmp.json` in https://ui.perfetto.dev, or
//!       `cargo run --release --bin gort-trace -- html trace_gmp.json -o trace_gmp.html`.
//!
//! What to look for: a P track per core (2 to 4). The main G (G1) runs on one P and spawns 48 Gs with
//! `gort::go`; each `GoCreate` says `runnext: true` — a G made by a G goes to its P's `runnext`
//! slot, pushing the previous occupant to the tail of the local ring. `wakep` starts spinning Ms for
//! the idle Ps, which steal half of that ring (the `Steal` marks), so the Gs spread over all the
//! Ps. Each G then spawns one child: the child sits in `runnext` and runs right after its parent, on
//! the same P, inheriting the parent's time slice (follow the flow arrow from the parent's slice to
//! the child's). The M tracks show the threads: an M holds a P while it runs Gs, and parks when it
//! finds nothing.
//!
//! Chapter: G, M and P — the three objects of Go's scheduler (runtime/proc.go, runtime2.go) and how a
//! new G finds its way onto a P.

use std::time::{Duration, Instant};

fn main() {
    let trace = examples::trace_start("gmp");
    let t0 = Instant::now();
    let r = examples::gmp(examples::demo_procs(), 48, Duration::from_micros(300));
    println!(
        "48 Gs and their 48 children ran in {:?}; finished per P: {:?}",
        t0.elapsed(),
        r.per_p
    );
    println!(
        "{} of {} children ran on their parent's P (runnext), the rest were stolen",
        r.child_on_parent_p, r.children
    );
    examples::print_stats("stats", &r.stats);
    if let Some(t) = trace.finish() {
        examples::print_trace_facts(&t);
    }
}
