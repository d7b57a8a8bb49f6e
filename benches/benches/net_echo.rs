//! Echo ping-pong over one connection: gort's netpoller path against tokio's, same worker count.
//!
//! Each iteration is `ROUND_TRIPS` round trips of a 64-byte message: the client writes it, the
//! server G/task reads it whole and writes it back, the client reads it whole. Both runtimes run
//! with 2 workers (gort: 2 Ps), the client runs as a G/task on a worker (not on the benchmark
//! thread), and only the round trips are timed (`iter_custom`). TCP sets `TCP_NODELAY` on both
//! ends. `cargo bench -p benches --bench net_echo`.

use benches::echo::{gort, tok};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const ROUND_TRIPS: u64 = 100;
const WORKERS: usize = 2;

fn gort_rt() -> ::gort::Runtime {
    ::gort::Builder::new()
        .procs(WORKERS)
        .build()
        .expect("gort runtime")
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn tcp_echo(c: &mut Criterion) {
    let mut g = c.benchmark_group("tcp_echo_64B");
    g.throughput(Throughput::Elements(ROUND_TRIPS));

    let rt = gort_rt();
    let mut stream = Some(gort::tcp_pair(&rt));
    g.bench_function("gort", |b| {
        b.iter_custom(|iters| {
            let s = stream.take().expect("stream");
            let (s, d) = gort::tcp_round_trips(&rt, s, iters * ROUND_TRIPS);
            stream = Some(s);
            d
        })
    });
    drop(stream);
    drop(rt);

    let rt = tokio_rt();
    let mut stream = Some(tok::tcp_pair(&rt));
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            let s = stream.take().expect("stream");
            let (s, d) = tok::round_trips(&rt, s, iters * ROUND_TRIPS);
            stream = Some(s);
            d
        })
    });
    g.finish();
}

fn unix_echo(c: &mut Criterion) {
    let mut g = c.benchmark_group("unix_echo_64B");
    g.throughput(Throughput::Elements(ROUND_TRIPS));

    let rt = gort_rt();
    let mut stream = Some(gort::unix_pair(&rt));
    g.bench_function("gort", |b| {
        b.iter_custom(|iters| {
            let s = stream.take().expect("stream");
            let (s, d) = gort::unix_round_trips(&rt, s, iters * ROUND_TRIPS);
            stream = Some(s);
            d
        })
    });
    drop(stream);
    drop(rt);

    let rt = tokio_rt();
    let mut stream = Some(tok::unix_pair(&rt));
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            let s = stream.take().expect("stream");
            let (s, d) = tok::round_trips(&rt, s, iters * ROUND_TRIPS);
            stream = Some(s);
            d
        })
    });
    g.finish();
}

criterion_group!(benches, tcp_echo, unix_echo);
criterion_main!(benches);
