//! Spawning and waiting for child processes: gort::process against tokio::process, same worker
//! count (2). One iteration spawns 100 `true` children, each from its own G/task, and waits for
//! all of them. gort waits on each child's pidfd through its netpoller; tokio (1.x) reaps on
//! SIGCHLD through its signal driver (or a pidfd where its build uses one). Most of the time is the
//! kernel's fork/exec, the same for both, so the ratio shows what the runtimes add around it.
//!
//! Run: `cargo bench -p benches --bench process`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const CHILDREN: u64 = 100;
const WORKERS: usize = 2;

fn gort_round(rt: &gort::Runtime) {
    rt.block_on(async {
        let handles: Vec<_> = (0..CHILDREN)
            .map(|_| {
                gort::go(async {
                    let mut child = gort::process::Command::new("true").spawn().expect("spawn");
                    assert!(child.wait().await.expect("wait").success());
                })
            })
            .collect();
        for h in handles {
            h.await.expect("child G");
        }
    })
}

fn tokio_round(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let handles: Vec<_> = (0..CHILDREN)
            .map(|_| {
                tokio::spawn(async {
                    let mut child = tokio::process::Command::new("true").spawn().expect("spawn");
                    assert!(child.wait().await.expect("wait").success());
                })
            })
            .collect();
        for h in handles {
            h.await.expect("child task");
        }
    })
}

fn process(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_wait_100_true");
    g.throughput(Throughput::Elements(CHILDREN));
    g.sample_size(20);

    let rt = gort::Builder::new()
        .procs(WORKERS)
        .build()
        .expect("gort runtime");
    g.bench_function("gort", |b| b.iter(|| gort_round(&rt)));
    drop(rt);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("tokio runtime");
    g.bench_function("tokio", |b| b.iter(|| tokio_round(&rt)));
    g.finish();
}

criterion_group!(benches, process);
criterion_main!(benches);
