//! # trace_bootstrap — from `gort::run` to the main G's first poll
//!
//! Run: `cargo run --release --example trace_bootstrap`
//! Look: the example prints the trace's first events; open `trace_bootstrap.json` in
//!       https://ui.perfetto.dev for the picture.
//!
//! What to look for, in order (runtime/proc.go's bootstrap: `schedinit`, `newproc`, `mstart`,
//! `schedule`):
//! 1. `Builder::build` (`schedinit`) creates the Ps, all idle, and starts sysmon — nothing runs yet:
//!    no M exists until there is work.
//! 2. `block_on` (`runtime.main`) makes the main G: a `GoCreate` of G1 on the track of the thread
//!    `main`, `by: thread main`, `runnext: false` — that thread is not an M and has no P, so G1 goes
//!    to the global queue, and `wakep` starts the first M.
//! 3. M0's thread starts (`MStart`) with the idle P it was handed (the `M0` slice on P0 begins):
//!    `mstart` → `schedule` → `findRunnable`, which takes G1 from the global queue.
//! 4. G1's first slice on P0 — the flow arrow from the `GoCreate` ends there. Before running it,
//!    M0 stopped spinning and called `wakep` once more, so a second M may appear for P1.
//! 5. G1 spawns G2 onto P0's `runnext`, parks on the join (`wait: join`), G2 runs next on the same P
//!    and wakes G1 (`GoUnblock by: G2`); G1 returns and the runtime shuts down: `MStop` on every M.
//!
//! Chapter: the bootstrap — what happens between `main` and the first line of the main goroutine.

fn main() {
    let trace = examples::trace_start("bootstrap");
    let v = examples::bootstrap();
    println!("the main G returned {v}");
    if let Some(t) = trace.finish() {
        println!();
        println!("the first events:");
        print!("{}", gort_trace::events::listing(&t, 25));
    }
}
