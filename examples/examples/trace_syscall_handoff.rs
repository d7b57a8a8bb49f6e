//! # trace_syscall_handoff — a blocking section; sysmon hands the P away
//!
//! Run: `cargo run --release --example trace_syscall_handoff`
//! Look: open `trace_syscall_handoff.json` in https://ui.perfetto.dev (the M tracks matter here), or
//!       `cargo run --release --bin gort-trace -- html trace_syscall_handoff.json -o trace_syscall_handoff.html`.
//!
//! What to look for: one P. A G makes three short `gort::blocking` calls — each a `syscall`
//! slice on its M track whose `exit` is `fast: own P`: the call was over before sysmon looked, and
//! Go's `exitsyscallfast` took the P straight back. Then it blocks for 200 ms while 100 small Gs
//! wait on the same P. sysmon sees the P in `SYSCALL` for more than one tick with work queued: the
//! `Handoff` mark on P0 — the G's slice on P0 ends there (`end: handoff`), and a new M takes P0 and
//! runs the small Gs, while the first M is still inside the call (its M track shows the G's run and
//! the `syscall` slice going on). When the call returns, the M finds its P gone (`exit: P taken;
//! ...`): it takes an idle P if there is one and the G's run continues there, or it finishes the
//! poll with no P and parks (Go's `exitsyscall0`).
//!
//! Chapter: system calls — `entersyscall`/`exitsyscall`, sysmon's `retake` and `handoffp`.

use std::time::Duration;

fn main() {
    let trace = examples::trace_start("syscall_handoff");
    let r = examples::syscall_handoff(100, Duration::from_millis(200));
    println!(
        "{} of {} small Gs finished while the 200 ms blocking call was still running",
        r.finished_during_block, r.small
    );
    examples::print_stats("stats", &r.stats);
    if let Some(t) = trace.finish() {
        examples::print_trace_facts(&t);
        for s in t.slices_of("syscall") {
            println!(
                "  blocking section of G{} on {}: {} ({})",
                gort_trace::model::arg_u64(&s.args, "g").unwrap_or(0),
                t.track_name(s.tid),
                gort_trace::analysis::fmt_ns(s.dur),
                gort_trace::model::arg_str(&s.args, "exit").unwrap_or("?")
            );
        }
    }
}
