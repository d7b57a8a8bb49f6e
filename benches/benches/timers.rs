//! Timers on gort and tokio, with the same number of workers.
//!
//! 1. Sleep lateness (printed, and saved for `bench-report` as `sleep-lateness.md`): on an idle
//!    runtime, one task sleeps 1 ms (then 5 ms) many times in a row; lateness is the actual
//!    duration minus the requested one. p50 / p99 / max per runtime.
//! 2. Throughput (criterion, group `sleep_1000x1ms`): 1 000 tasks each sleeping 1 ms at once,
//!    spawned from a task and joined; one iteration is the whole round.
//!
//! Under `cargo bench` the lateness sample is large (200 × 1 ms, 100 × 5 ms); under `cargo test`
//! (no `--bench` argument) it is a quick smoke run.
//!
//! Run: `cargo bench -p benches --bench timers`.

use std::fmt::Write as _;
use std::time::Duration;

use benches::lateness::{self, fmt_ms};
use benches::{report, workers, Gort, Peer, Tokio};
use criterion::Criterion;

const CONCURRENT: usize = 1_000;

fn lateness_rows<R: Peer>(table: &mut String, full: bool) {
    let rt = match R::build(workers()) {
        Ok(rt) => rt,
        Err(e) => panic!("cannot build the {} runtime: {e}", R::NAME),
    };
    // A few sleeps first, so the sample does not include starting the worker threads.
    lateness::measure(&rt, Duration::from_millis(1), 3);
    for (ms, n) in [
        (1, if full { 200 } else { 10 }),
        (5, if full { 100 } else { 4 }),
    ] {
        let late = lateness::measure(&rt, Duration::from_millis(ms), n);
        if let Some((p50, p99, max)) = lateness::summary(&late) {
            let _ = writeln!(
                table,
                "| {} | {ms} ms × {n} | {} | {} | {} |",
                R::NAME,
                fmt_ms(p50),
                fmt_ms(p99),
                fmt_ms(max)
            );
        }
    }
}

fn lateness_table(full: bool) {
    let mut table = format!(
        "Sleep lateness on an idle runtime ({} workers; actual − requested)\n\n\
         | runtime | sleeps | p50 | p99 | max |\n|---|---|---:|---:|---:|\n",
        workers()
    );
    lateness_rows::<Gort>(&mut table, full);
    lateness_rows::<Tokio>(&mut table, full);
    println!("\n{table}");
    if full {
        match report::save_table("sleep-lateness", &table) {
            Ok(p) => println!("(saved to {})\n", p.display()),
            Err(e) => eprintln!("cannot save the lateness table: {e}"),
        }
    }
}

/// 1 000 concurrent 1 ms sleeps, spawned from one task and joined.
fn concurrent_sleeps<R: Peer>(rt: &R) {
    rt.block_on(async {
        let handles: Vec<_> = (0..CONCURRENT)
            .map(|_| R::go(R::sleep(Duration::from_millis(1))))
            .collect();
        for h in handles {
            h.await;
        }
    });
}

fn throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("sleep_1000x1ms");
    {
        let rt = Gort::build(workers()).expect("gort runtime");
        g.bench_function(Gort::NAME, |b| b.iter(|| concurrent_sleeps(&rt)));
    }
    {
        let rt = Tokio::build(workers()).expect("tokio runtime");
        g.bench_function(Tokio::NAME, |b| b.iter(|| concurrent_sleeps(&rt)));
    }
    g.finish();
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    lateness_table(full);
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    throughput(&mut c);
    c.final_summary();
}
