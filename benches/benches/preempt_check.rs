//! The cost of a preemption point when no preemption is pending.
//!
//! One task runs a tight loop of `n` iterations, once with a preemption point awaited in every
//! iteration and once without (the baseline: one point per 2^20 iterations only, so that a long
//! criterion sample is not a runaway poll); the difference is the price of the point.
//! gort's point is `gort::coop()` (a thread-local read and a relaxed load of the P's flag; it
//! yields only when sysmon asked). tokio's nearest equivalent is
//! `tokio::task::coop::consume_budget()`, which also yields — every 128 calls, when the task's coop
//! budget is spent — so its number includes one trip through the scheduler per 128 calls.
//!
//! Printed (and saved for `bench-report` as `preempt-check.md`): ns per call over 1 000 000 calls,
//! best of 5. Criterion groups `preempt_check` (with the point) and `preempt_baseline` (without),
//! one function per runtime, in ns per iteration.
//!
//! Run: `cargo bench -p benches --bench preempt_check`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::{report, workers, Gort, Peer, Tokio};
use criterion::Criterion;

const CALLS: u64 = 1_000_000;
const BASELINE_CHUNK: u64 = 1 << 20;

/// Time `n` iterations of the loop in one task, with or without the preemption point.
fn run_loop<R: Peer>(rt: &R, n: u64, with_point: bool) -> Duration {
    rt.block_on(async move {
        let start = Instant::now();
        if with_point {
            for i in 0..n {
                R::preempt_point().await;
                black_box(i);
            }
        } else {
            // One point per 2^20 iterations keeps a long criterion sample from being a runaway
            // poll (which sysmon would rescue and warn about); the inner loop has no await.
            let mut i = 0;
            while i < n {
                let end = n.min(i + BASELINE_CHUNK);
                for j in i..end {
                    black_box(j);
                }
                i = end;
                R::preempt_point().await;
            }
        }
        start.elapsed()
    })
}

fn per_call(d: Duration, n: u64) -> f64 {
    d.as_nanos() as f64 / n as f64
}

/// ns per iteration, with and without the point: the best of `rounds` runs of `n`.
fn table_row<R: Peer>(rt: &R, n: u64, rounds: usize) -> String {
    let best = |with_point| {
        (0..rounds)
            .map(|_| per_call(run_loop(rt, n, with_point), n))
            .fold(f64::INFINITY, f64::min)
    };
    let (with, without) = (best(true), best(false));
    format!(
        "| {} | {} | {with:.2} | {without:.2} | {:.2} |\n",
        R::NAME,
        point_name::<R>(),
        with - without
    )
}

fn point_name<R: Peer>() -> &'static str {
    if R::NAME == Gort::NAME {
        "`gort::coop()`"
    } else {
        "`tokio::task::coop::consume_budget()`"
    }
}

fn bench_group<R: Peer>(c: &mut Criterion, rt: &R, group: &str, with_point: bool) {
    let mut g = c.benchmark_group(group);
    g.bench_function(R::NAME, |b| {
        b.iter_custom(|iters| run_loop(rt, iters, with_point))
    });
    g.finish();
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (n, rounds) = if full { (CALLS, 5) } else { (10_000, 1) };
    let mut table = format!(
        "Preemption point with nothing pending ({} workers; {n} calls in one task, best of \
         {rounds}; ns per iteration)\n\n\
         | runtime | point | loop with point | loop without | cost of the point |\n\
         |---|---|---:|---:|---:|\n",
        workers()
    );
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    {
        let rt = Gort::build(workers()).expect("gort runtime");
        table.push_str(&table_row(&rt, n, rounds));
        bench_group(&mut c, &rt, "preempt_check", true);
        bench_group(&mut c, &rt, "preempt_baseline", false);
    }
    {
        let rt = Tokio::build(workers()).expect("tokio runtime");
        table.push_str(&table_row(&rt, n, rounds));
        bench_group(&mut c, &rt, "preempt_check", true);
        bench_group(&mut c, &rt, "preempt_baseline", false);
    }
    println!("\n{table}");
    if full {
        match report::save_table("preempt-check", &table) {
            Ok(p) => println!("(saved to {})", p.display()),
            Err(e) => eprintln!("cannot save the preemption-point table: {e}"),
        }
    }
    c.final_summary();
}
