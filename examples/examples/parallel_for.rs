//! # parallel_for — one loop, split over N Gs
//!
//! Run: `cargo run --release --example parallel_for -- --n 1000000 --gs 16`
//! Try: `GORTMAXPROCS=1 cargo run --release --example parallel_for` (everything on P0, and slower).
//!
//! What to watch for: each chunk reports the P that ran it; with several Ps the chunks spread out
//! (idle Ps steal them from the spawning P's run queue) and the wall time drops. The parallel sum
//! always equals the sequential one. Each chunk is a few milliseconds of work: a loop in a G runs
//! inside one poll, and only yields at a preemption point (`gort::coop()` here) once sysmon asks.
//!
//! Chapter: Go book ch. 15, concurrency patterns; runtime story: work stealing (`runtime/src/sched/proc.rs`).

use std::time::Instant;

use examples::chapters::{arg, parallel_for};

fn main() {
    let n: u64 = arg("--n", 1_000_000);
    let gs: u64 = arg("--gs", 16);
    let (report, took, procs) = gort::run(async move {
        let t = Instant::now();
        let r = parallel_for::parallel_for(n, gs).await;
        (r, t.elapsed(), gort::stats().gomaxprocs)
    });
    println!("sum of work(i) for i < {n}, over {gs} Gs on {procs} Ps:");
    for ((lo, hi), p) in &report.chunks {
        match p {
            Some(p) => println!("  [{lo:>8}, {hi:>8}) on P{p}"),
            None => println!("  [{lo:>8}, {hi:>8})"),
        }
    }
    let t = Instant::now();
    let seq = (0..n).fold(0u64, |s, i| s.wrapping_add(parallel_for::work(i)));
    let seq_took = t.elapsed();
    println!(
        "parallel: {} in {took:.1?}; sequential: {seq} in {seq_took:.1?}; equal: {}",
        report.sum,
        if seq == report.sum { "yes" } else { "NO" }
    );
}
