//! `gort::sync::Mutex` under contention beside `tokio::sync::Mutex`, same worker count, same run.
//! 8 tasks each take the lock 10 000 times and bump a counter inside (a few ns of critical section,
//! so the cost measured is the lock's hand-off machinery).
//!
//! Run: `cargo bench -p benches --bench sync`.

use std::sync::Arc;
use std::time::Duration;

use benches::{in_task, workers};
use criterion::{criterion_group, criterion_main, Criterion};

const TASKS: usize = 8;
const LOCKS: usize = 10_000;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

fn mutex_contention(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex_contention");
    let rt = gort::Builder::new()
        .procs(workers())
        .build()
        .expect("gort runtime");
    g.bench_function("gort", |b| {
        b.iter(|| {
            rt.block_on(async {
                let m = Arc::new(gort::sync::Mutex::new(0usize));
                let hs: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let m = m.clone();
                        gort::go(async move {
                            for _ in 0..LOCKS {
                                *m.lock().await += 1;
                            }
                        })
                    })
                    .collect();
                for h in hs {
                    h.await.expect("task");
                }
                assert_eq!(*m.lock().await, TASKS * LOCKS);
            })
        })
    });
    drop(rt);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers())
        .enable_all()
        .build()
        .expect("tokio runtime");
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(in_task(async {
                let m = Arc::new(tokio::sync::Mutex::new(0usize));
                let hs: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let m = m.clone();
                        tokio::spawn(async move {
                            for _ in 0..LOCKS {
                                *m.lock().await += 1;
                            }
                        })
                    })
                    .collect();
                for h in hs {
                    h.await.expect("task");
                }
                assert_eq!(*m.lock().await, TASKS * LOCKS);
            }))
        })
    });
    g.finish();
}

criterion_group! {
    name = sync;
    config = config();
    targets = mutex_contention
}
criterion_main!(sync);
