//! The workloads of tokio's `benches/rt_multi_threaded.rs`, each run on gort and on tokio's
//! multi-thread runtime with the same number of workers (the machine's parallelism), in the same
//! run. One criterion group per workload, one function per runtime (`gort`, `tokio`), so
//! `bench-report` can put them side by side.
//!
//! Each runtime is built once per workload, outside the measured loop, and dropped before the next
//! one is built, so only one runtime's threads exist at a time.
//!
//! `GORT_BENCH_STATS=1` prints gort's scheduler counters after each gort workload (steals, Ms,
//! preemptions...), for explaining a result.
//!
//! Run: `cargo bench -p benches --bench rt_multi_threaded`.

use std::time::Duration;

use benches::workloads::{self, Busy};
use benches::{workers, Gort, Peer, Tokio};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// Build `R`, start `busy_tasks` busy tasks on it (kept running for the whole measurement), and
/// measure `round`.
fn bench_on<R: Peer + MaybeStats>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    workload: &str,
    busy_tasks: usize,
    round: fn(&R),
) {
    let rt = match R::build(workers()) {
        Ok(rt) => rt,
        Err(e) => panic!("cannot build the {} runtime: {e}", R::NAME),
    };
    let busy = Busy::start(&rt, busy_tasks);
    g.bench_function(R::NAME, |b| b.iter(|| round(&rt)));
    drop(busy);
    rt.print_stats(workload);
}

/// Optional counters after a run (only gort has them).
trait MaybeStats {
    fn print_stats(&self, _workload: &str) {}
}

impl MaybeStats for Tokio {}

impl MaybeStats for Gort {
    fn print_stats(&self, workload: &str) {
        if std::env::var_os("GORT_BENCH_STATS").is_some() {
            eprintln!("gort stats after {workload}: {:?}", self.stats());
        }
    }
}

/// One workload on both runtimes, as one group with a `gort` and a `tokio` entry.
fn compare(c: &mut Criterion, name: &str, busy_tasks: usize, gort: fn(&Gort), tokio: fn(&Tokio)) {
    let mut g = c.benchmark_group(name);
    bench_on(&mut g, name, busy_tasks, gort);
    bench_on(&mut g, name, busy_tasks, tokio);
    g.finish();
}

fn spawn_many_local(c: &mut Criterion) {
    compare(
        c,
        "spawn_many_local",
        0,
        |rt| workloads::spawn_many_local(rt, workloads::SPAWN_N),
        |rt| workloads::spawn_many_local(rt, workloads::SPAWN_N),
    );
}

fn spawn_many_remote_idle(c: &mut Criterion) {
    compare(
        c,
        "spawn_many_remote_idle",
        0,
        |rt| workloads::spawn_many_remote(rt, workloads::SPAWN_N),
        |rt| workloads::spawn_many_remote(rt, workloads::SPAWN_N),
    );
}

/// As `spawn_many_remote_idle`, while 2 × workers tasks keep every worker busy yielding and
/// stalling.
fn spawn_many_remote_busy1(c: &mut Criterion) {
    compare(
        c,
        "spawn_many_remote_busy1",
        2 * workers(),
        |rt| workloads::spawn_many_remote(rt, workloads::SPAWN_N),
        |rt| workloads::spawn_many_remote(rt, workloads::SPAWN_N),
    );
}

fn yield_many(c: &mut Criterion) {
    compare(
        c,
        "yield_many",
        0,
        |rt| workloads::yield_many(rt, workloads::YIELD_TASKS, workloads::YIELD_N),
        |rt| workloads::yield_many(rt, workloads::YIELD_TASKS, workloads::YIELD_N),
    );
}

fn ping_pong(c: &mut Criterion) {
    compare(
        c,
        "ping_pong",
        0,
        |rt| workloads::ping_pong(rt, workloads::PING_PONG_N),
        |rt| workloads::ping_pong(rt, workloads::PING_PONG_N),
    );
}

fn chained_spawn(c: &mut Criterion) {
    compare(
        c,
        "chained_spawn",
        0,
        |rt| workloads::chained_spawn(rt, workloads::CHAIN_N),
        |rt| workloads::chained_spawn(rt, workloads::CHAIN_N),
    );
}

criterion_group! {
    name = scheduler;
    config = config();
    targets = spawn_many_local, spawn_many_remote_idle, spawn_many_remote_busy1, yield_many,
        ping_pong, chained_spawn
}
criterion_main!(scheduler);
