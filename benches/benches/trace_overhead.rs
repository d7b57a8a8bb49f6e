//! The execution tracer's cost: `yield_many` (200 Gs × 1 000 yields: a pure scheduler workload, two
//! trace events per poll) with tracing off and on, in the same run. "off" is the price of the hooks
//! alone (one relaxed load and a never-taken branch each); compare it with `rt_multi_threaded`'s
//! `yield_many/gort` from a build before the tracer for the "disabled costs nothing" claim.
//!
//! Run: `cargo bench -p benches --bench trace_overhead`.

use std::time::{Duration, Instant};

use benches::workers;
use criterion::{criterion_group, criterion_main, Criterion};

fn yield_many(rt: &runtime::Runtime) {
    rt.block_on(async {
        let hs: Vec<_> = (0..200)
            .map(|_| {
                runtime::go(async {
                    for _ in 0..1000 {
                        runtime::yield_now().await;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.expect("G");
        }
    });
}

fn trace_overhead(c: &mut Criterion) {
    let rt = runtime::Builder::new()
        .procs(workers())
        .build()
        .expect("gort runtime");
    let mut g = c.benchmark_group("trace_overhead_yield_many");
    // A traced iteration records ~400k events; a session holds 4M, so keep samples short and
    // restart the session per sample (the JSON is written outside the timed region, to a sink).
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    g.bench_function("off", |b| b.iter(|| yield_many(&rt)));
    g.bench_function("on", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                runtime::trace::start(std::io::sink()).expect("start tracing");
                let t = Instant::now();
                yield_many(&rt);
                total += t.elapsed();
                runtime::trace::stop().expect("stop tracing");
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, trace_overhead);
criterion_main!(benches);
