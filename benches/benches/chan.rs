//! Channels: gort's Go-style channels and `select!` beside tokio's `mpsc` and `tokio::select!`, same
//! worker count, same run (issue: "Channels and select").
//!
//! tokio has no unbuffered (rendezvous) channel; its closest peer is `mpsc::channel(1)`, which lets a
//! sender run one value ahead. So `unbuffered_ping_pong` compares gort's rendezvous with tokio's
//! one-slot channel: gort does strictly more synchronisation there.
//!
//! Run: `cargo bench -p benches --bench chan`.

use std::future::Future;
use std::time::Duration;

use benches::{in_task, workers, Gort, Peer, Tokio};
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

/// The channel operations the ping-pong and buffered workloads need, on each runtime: gort's
/// channels, and tokio's `mpsc`. Each is a direct forward, so a workload written once measures each
/// runtime's own channel.
trait Chan: Peer {
    /// The capacity standing for "unbuffered": gort's rendezvous, 0; tokio has none, and its closest
    /// peer is one slot (see the module header).
    const UNBUFFERED: usize;
    type Tx: Clone + Send + 'static;
    type Rx: Send + 'static;

    fn channel(cap: usize) -> (Self::Tx, Self::Rx);

    /// Send `v`; false if every receiver is gone.
    fn send(tx: &Self::Tx, v: usize) -> impl Future<Output = bool> + Send;

    /// The next value, or `None` once every sender is gone and the buffer is empty.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<usize>> + Send;
}

impl Chan for Gort {
    const UNBUFFERED: usize = 0;
    type Tx = gort::chan::Sender<usize>;
    type Rx = gort::chan::Receiver<usize>;

    fn channel(cap: usize) -> (Self::Tx, Self::Rx) {
        gort::chan::channel(cap)
    }

    async fn send(tx: &Self::Tx, v: usize) -> bool {
        tx.send(v).await.is_ok()
    }

    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await
    }
}

impl Chan for Tokio {
    const UNBUFFERED: usize = 1;
    type Tx = tokio::sync::mpsc::Sender<usize>;
    type Rx = tokio::sync::mpsc::Receiver<usize>;

    fn channel(cap: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(cap)
    }

    async fn send(tx: &Self::Tx, v: usize) -> bool {
        tx.send(v).await.is_ok()
    }

    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await
    }
}

/// Two tasks exchange a value back and forth `ROUND_TRIPS` times over unbuffered channels.
async fn ping_pong<C: Chan>() {
    let (ping_tx, mut ping_rx) = C::channel(C::UNBUFFERED);
    let (pong_tx, mut pong_rx) = C::channel(C::UNBUFFERED);
    let echo = C::go(async move {
        while let Some(v) = C::recv(&mut ping_rx).await {
            if !C::send(&pong_tx, v).await {
                break;
            }
        }
    });
    for i in 0..ROUND_TRIPS {
        assert!(C::send(&ping_tx, i).await, "echo alive");
        assert_eq!(C::recv(&mut pong_rx).await, Some(i));
    }
    drop(ping_tx);
    echo.await;
}

/// `producers` tasks push `per` values each through a 1024-slot channel to one consumer.
async fn producers_to_one<C: Chan>(producers: usize, per: usize) {
    let (tx, mut rx) = C::channel(1024);
    for _ in 0..producers {
        let tx = tx.clone();
        drop(C::go(async move {
            for i in 0..per {
                assert!(C::send(&tx, i).await, "consumer alive");
            }
        }));
    }
    drop(tx);
    let mut n = 0;
    while C::recv(&mut rx).await.is_some() {
        n += 1;
    }
    assert_eq!(n, per * producers);
}

fn unbuffered_ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("chan_unbuffered_ping_pong");
    let rt = gort_rt();
    g.bench_function("gort", |b| b.iter(|| rt.block_on(ping_pong::<Gort>())));
    drop(rt);
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| rt.block_on(in_task(ping_pong::<Tokio>())))
    });
    g.finish();
}

/// `producers` tasks push `VALUES` values in total through a 1024-slot channel to one consumer.
fn buffered(c: &mut Criterion, producers: usize) {
    let mut g = c.benchmark_group(format!("chan_buffered_1024_{producers}p"));
    let per = VALUES / producers;
    let rt = gort_rt();
    g.bench_function("gort", |b| {
        b.iter(|| rt.block_on(producers_to_one::<Gort>(producers, per)))
    });
    drop(rt);
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| rt.block_on(in_task(producers_to_one::<Tokio>(producers, per))))
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
/// are closed. A closed channel's arm is always ready (Go's semantics), so once a producer is done
/// the gort consumer swaps its channel for one that never fires (Go: set it to nil); tokio's
/// `select!` disables a branch whose pattern fails and waits on the rest. Before, gort's consumer
/// kept firing the closed arm in a busy loop while tokio's parked, and each round's time depended on
/// when sysmon preempted that loop.
fn select_4(c: &mut Criterion) {
    let mut g = c.benchmark_group("select_4_channels");
    let per = VALUES / 4;
    let rt = gort_rt();
    g.bench_function("gort", |b| {
        b.iter(|| {
            rt.block_on(async move {
                let mut rxs: [_; 4] = std::array::from_fn(|_| {
                    let (tx, rx) = gort::chan::channel::<usize>(64);
                    gort::go(async move {
                        for i in 0..per {
                            tx.send(i).await.expect("consumer alive");
                        }
                    });
                    rx
                });
                // Go's idiom for a finished channel in a select loop: set it to nil, so its arm
                // never fires again. Here: an open channel nobody sends on.
                let (_never_tx, never) = gort::chan::channel::<usize>(0);
                let (mut n, mut open, mut done) = (0, 4, [false; 4]);
                while open > 0 {
                    let got = gort::select! {
                        recv(rxs[0]) -> v => v,
                        recv(rxs[1]) -> v => v,
                        recv(rxs[2]) -> v => v,
                        recv(rxs[3]) -> v => v,
                    };
                    match got {
                        Some(_) => n += 1,
                        None => {
                            for (rx, done) in rxs.iter_mut().zip(&mut done) {
                                if !*done && rx.is_closed() && rx.is_empty() {
                                    *rx = never.clone();
                                    *done = true;
                                    open -= 1;
                                }
                            }
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

criterion_group! {
    name = chan;
    config = config();
    targets = unbuffered_ping_pong, buffered_1p, buffered_4p, select_4
}
criterion_main!(chan);
