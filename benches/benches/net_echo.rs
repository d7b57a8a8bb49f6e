//! Echo ping-pong over one connection: gort's netpoller path against tokio's, same worker count.
//!
//! Each iteration is `ROUND_TRIPS` round trips of a 64-byte message: the client writes it, the
//! server G/task reads it whole and writes it back, the client reads it whole. Both runtimes run
//! with 2 workers (gort: 2 Ps), the client runs as a G/task on a worker (not on the benchmark
//! thread), and only the round trips are timed (`iter_custom`). TCP sets `TCP_NODELAY` on both
//! ends. `cargo bench -p benches --bench net_echo`.

use benches::echo::{gort, tok, Conn};
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

/// One group: `ROUND_TRIPS` round trips on a stream from `gort_pair`, then on one from `tok_pair`.
fn echo<S, T>(
    c: &mut Criterion,
    group: &str,
    gort_pair: fn(&::gort::Runtime) -> S,
    tok_pair: fn(&tokio::runtime::Runtime) -> T,
) where
    S: Conn,
    T: Conn,
{
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(ROUND_TRIPS));

    let rt = gort_rt();
    let mut stream = Some(gort_pair(&rt));
    g.bench_function("gort", |b| {
        b.iter_custom(|iters| {
            let s = stream.take().expect("stream");
            let (s, d) = gort::round_trips(&rt, s, iters * ROUND_TRIPS);
            stream = Some(s);
            d
        })
    });
    drop(stream);
    drop(rt);

    let rt = tokio_rt();
    let mut stream = Some(tok_pair(&rt));
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

fn tcp_echo(c: &mut Criterion) {
    echo(c, "tcp_echo_64B", gort::tcp_pair, tok::tcp_pair);
}

fn unix_echo(c: &mut Criterion) {
    echo(c, "unix_echo_64B", gort::unix_pair, tok::unix_pair);
}

criterion_group!(benches, tcp_echo, unix_echo);
criterion_main!(benches);
