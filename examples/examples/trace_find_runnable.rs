//! # trace_find_runnable — where an M looks for work, in order
//!
//! Run: `cargo run --release --example trace_find_runnable`
//! Look: open `trace_find_runnable.json` in https://ui.perfetto.dev, or
//!       `cargo run --release --bin gort-trace -- html trace_find_runnable.json -o trace_find_runnable.html`.
//!
//! What to look for: one P. A G spawns 8 Gs that call `yield_now` at once (Go's `Gosched`: the G
//! goes to the global queue) — `E0`...`E7` —, one G that sleeps 1 ms, and 200 short Gs
//! (`L0`...`L199`) that fill its P's local queue. `findRunnable` (runtime/proc.go) looks, in order:
//! 1. at its P's expired timers — the sleeper's `GoUnblock` says `by: timer`; a timer batch puts
//!    the woken G at the tail of the local queue, so it runs after the `L`s;
//! 2. every 61st `schedtick`, at the global queue first — so one `E` runs after every 60 `L`s, even
//!    though local work remains (printed below: the positions of the `E`s);
//! 3. at `runnext`, then the local ring — the `L`s;
//! 4. at the global queue, a fair batch — the remaining `E`s, once the local queue is empty;
//! 5. the network, and 6. other Ps (steal) — nothing here with one P and no I/O: the netpoller has
//!    its own chapter and stealing is `trace_work_stealing`.
//!
//! Chapter: findRunnable — the scheduler's search order and the fairness rule behind "61".

use std::time::Duration;

fn main() {
    let trace = examples::trace_start("find_runnable");
    let r = examples::find_runnable(200, 8, Duration::from_micros(50));
    let shown: Vec<String> = r
        .order
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.starts_with('L'))
        .map(|(i, s)| format!("{s}@{i}"))
        .collect();
    println!(
        "run order (position of each non-local G among {} runs): {}",
        r.order.len(),
        shown.join(" ")
    );
    let gaps: Vec<usize> = r.interleaved.windows(2).map(|w| w[1] - w[0] - 1).collect();
    println!(
        "{} global Gs ran while local Gs were still queued; local runs between them: {:?} (the 61st tick)",
        r.interleaved.len(),
        gaps
    );
    if let Some(t) = trace.finish() {
        examples::print_trace_facts(&t);
    }
}
