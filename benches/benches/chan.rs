//! Channels: gort's Go-style channels and `select!` beside tokio's `mpsc` and `tokio::select!`, same
//! worker count, same run (issue: "Channels and select").
//!
//! tokio has no unbuffered (rendezvous) channel; its closest peer is `mpsc::channel(1)`, which lets a
//! sender run one value ahead. So `unbuffered_ping_pong` compares gort's rendezvous with tokio's
//! one-slot channel: gort does strictly more synchronisation there.
//!
//! Run: `cargo bench -p benches --bench chan`.

use std::time::Duration;

use benches::workers;
use criterion::{criterion_group, criterion_main, Criterion};

const ROUND_TRIPS: usize = 10_000;
const VALUES: usize = 100_000;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

fn gort_rt() -> gort::Runtime {
    gort::Builder::new()
        .procs(workers())
        .build()
        .expect("gort runtime")
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers())
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Two Gs exchange a value back and forth `ROUND_TRIPS` times.
fn unbuffered_ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("chan_unbuffered_ping_pong");
    let rt = gort_rt();
    g.bench_function("gort", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (ping_tx, ping_rx) = gort::chan::channel::<usize>(0);
                let (pong_tx, pong_rx) = gort::chan::channel::<usize>(0);
                let echo = gort::go(async move {
                    while let Some(v) = ping_rx.recv().await {
                        if pong_tx.send(v).await.is_err() {
                            break;
                        }
                    }
                });
                for i in 0..ROUND_TRIPS {
                    ping_tx.send(i).await.expect("echo alive");
                    assert_eq!(pong_rx.recv().await, Some(i));
                }
                drop(ping_tx);
                echo.await.expect("echo G");
            })
        })
    });
    drop(rt);
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(in_task(async {
                let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<usize>(1);
                let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<usize>(1);
                let echo = tokio::spawn(async move {
                    while let Some(v) = ping_rx.recv().await {
                        if pong_tx.send(v).await.is_err() {
                            break;
                        }
                    }
                });
                for i in 0..ROUND_TRIPS {
                    ping_tx.send(i).await.expect("echo alive");
                    assert_eq!(pong_rx.recv().await, Some(i));
                }
                drop(ping_tx);
                echo.await.expect("echo task");
            }))
        })
    });
    g.finish();
}

/// `producers` tasks push `VALUES` values in total through a 1024-slot channel to one consumer.
fn buffered(c: &mut Criterion, producers: usize) {
    let mut g = c.benchmark_group(format!("chan_buffered_1024_{producers}p"));
    let per = VALUES / producers;
    let rt = gort_rt();
    g.bench_function("gort", |b| {
        b.iter(|| {
            rt.block_on(async move {
                let (tx, rx) = gort::chan::channel::<usize>(1024);
                for _ in 0..producers {
                    let tx = tx.clone();
                    gort::go(async move {
                        for i in 0..per {
                            tx.send(i).await.expect("consumer alive");
                        }
                    });
                }
                drop(tx);
                let mut n = 0;
                while rx.recv().await.is_some() {
                    n += 1;
                }
                assert_eq!(n, per * producers);
            })
        })
    });
    drop(rt);
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(in_task(async move {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<usize>(1024);
                for _ in 0..producers {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        for i in 0..per {
                            tx.send(i).await.expect("consumer alive");
                        }
                    });
                }
                drop(tx);
                let mut n = 0;
                while rx.recv().await.is_some() {
                    n += 1;
                }
                assert_eq!(n, per * producers);
            }))
        })
    });
    g.finish();
}

fn buffered_1p(c: &mut Criterion) {
    buffered(c, 1);
}

fn buffered_4p(c: &mut Criterion) {
    buffered(c, 4);
}

/// Four producers, each on its own 64-slot channel; one consumer selects over the four until all
/// are closed.
fn select_4(c: &mut Criterion) {
    let mut g = c.benchmark_group("select_4_channels");
    let per = VALUES / 4;
    let rt = gort_rt();
    g.bench_function("gort", |b| {
        b.iter(|| {
            rt.block_on(async move {
                let [a, b2, c2, d] = std::array::from_fn(|_| {
                    let (tx, rx) = gort::chan::channel::<usize>(64);
                    gort::go(async move {
                        for i in 0..per {
                            tx.send(i).await.expect("consumer alive");
                        }
                    });
                    rx
                });
                let (mut n, mut open) = (0, 4);
                while open > 0 {
                    let got = gort::select! {
                        recv(a) -> v => v,
                        recv(b2) -> v => v,
                        recv(c2) -> v => v,
                        recv(d) -> v => v,
                    };
                    match got {
                        Some(_) => n += 1,
                        None => {
                            open = [&a, &b2, &c2, &d]
                                .iter()
                                .filter(|r| !(r.is_closed() && r.is_empty()))
                                .count()
                        }
                    }
                }
                assert_eq!(n, per * 4);
            })
        })
    });
    drop(rt);
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(in_task(async move {
                let [mut a, mut b2, mut c2, mut d] = std::array::from_fn(|_| {
                    let (tx, rx) = tokio::sync::mpsc::channel::<usize>(64);
                    tokio::spawn(async move {
                        for i in 0..per {
                            tx.send(i).await.expect("consumer alive");
                        }
                    });
                    rx
                });
                let mut n = 0;
                loop {
                    let got = tokio::select! {
                        Some(v) = a.recv() => Some(v),
                        Some(v) = b2.recv() => Some(v),
                        Some(v) = c2.recv() => Some(v),
                        Some(v) = d.recv() => Some(v),
                        else => None,
                    };
                    match got {
                        Some(_) => n += 1,
                        None => break,
                    }
                }
                assert_eq!(n, per * 4);
            }))
        })
    });
    g.finish();
}

/// Run `fut` as a tokio task on a worker and wait for it. tokio's `block_on` polls its future on the
/// calling thread, which is not a worker; gort's runs it as a G on an M. Spawning puts both runtimes'
/// workloads on their workers, so the comparison is of the schedulers, not of where `block_on` runs.
async fn in_task<F>(fut: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(fut).await.expect("benchmark task")
}

criterion_group! {
    name = chan;
    config = config();
    targets = unbuffered_ping_pong, buffered_1p, buffered_4p, select_4
}
criterion_main!(chan);
