//! Channels on the real runtime: Gs blocking and waking through `gort::chan`. Every test is
//! bounded by its data (no open-ended waits) and asserts values and order, never speed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use examples::chapters::producer_consumer::producer_consumer;
use gort::chan::{channel, Receiver, SendError, Sender, TryRecvError, TrySendError};
use gort::Builder;

fn rt(procs: usize) -> gort::Runtime {
    Builder::new().procs(procs).build().expect("runtime")
}

/// Let other Gs run for a while (they may be on other Ps, hence the short sleeps too).
async fn settle() {
    for _ in 0..20 {
        gort::yield_now().await;
    }
    gort::time::sleep(Duration::from_millis(5)).await;
}

#[test]
fn unbuffered_send_blocks_until_received() {
    gort::run(async {
        let (tx, rx) = channel::<u32>(0);
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let sender = gort::go(async move {
            tx.send(42).await.unwrap();
            d.store(true, Ordering::SeqCst);
        });
        settle().await;
        // Nobody has received, so the send cannot have completed, whatever the scheduling.
        assert!(
            !done.load(Ordering::SeqCst),
            "an unbuffered send completed without a receiver"
        );
        assert_eq!(rx.recv().await, Some(42));
        sender.await.unwrap();
        assert!(done.load(Ordering::SeqCst));
    });
}

#[test]
fn buffered_fills_then_blocks() {
    gort::run(async {
        let (tx, rx) = channel::<u32>(3);
        let sent = Arc::new(AtomicUsize::new(0));
        let s = sent.clone();
        let sender = gort::go(async move {
            for i in 0..10 {
                tx.send(i).await.unwrap();
                s.fetch_add(1, Ordering::SeqCst);
            }
        });
        // Wait (bounded) for the buffer to fill and the sender to count its three sends.
        for _ in 0..1_000 {
            if rx.len() == 3 && sent.load(Ordering::SeqCst) == 3 {
                break;
            }
            settle().await;
        }
        assert_eq!(rx.len(), 3, "the buffer did not fill");
        settle().await;
        // Nobody has received, so the fourth send cannot have completed, whatever the scheduling.
        assert_eq!(
            sent.load(Ordering::SeqCst),
            3,
            "a send completed on a full buffer"
        );
        assert_eq!(rx.len(), 3);
        let mut got = Vec::new();
        for _ in 0..10 {
            got.push(rx.recv().await.unwrap());
        }
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        sender.await.unwrap();
    });
}

#[test]
fn close_drains_then_none() {
    gort::run(async {
        let (tx, rx) = channel::<u32>(4);
        for i in 0..4 {
            tx.send(i).await.unwrap();
        }
        tx.close();
        for i in 0..4 {
            assert_eq!(rx.recv().await, Some(i));
        }
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

#[test]
fn send_after_close_errors_with_the_value_back() {
    gort::run(async {
        let (tx, rx) = channel::<Vec<u8>>(1);
        drop(rx); // receivers going away does not close; closing does
        assert!(!tx.is_closed());
        tx.close();
        let SendError(v) = tx.send(vec![1, 2, 3]).await.unwrap_err();
        assert_eq!(v, vec![1, 2, 3]);
        assert_eq!(tx.try_send(vec![4]), Err(TrySendError::Closed(vec![4])));
    });
}

#[test]
fn close_wakes_all_waiters() {
    gort::run(async {
        let (tx, rx) = channel::<u32>(0);
        let (ftx, frx) = channel::<u32>(1);
        ftx.send(0).await.unwrap(); // full
        let receivers: Vec<_> = (0..10)
            .map(|_| {
                let rx = rx.clone();
                gort::go(async move { rx.recv().await })
            })
            .collect();
        let senders: Vec<_> = (1..=10)
            .map(|i| {
                let ftx = ftx.clone();
                gort::go(async move { ftx.send(i).await.map_err(SendError::into_inner) })
            })
            .collect();
        settle().await;
        tx.close();
        ftx.close();
        for r in receivers {
            assert_eq!(r.await.unwrap(), None);
        }
        let mut returned: Vec<u32> = Vec::new();
        for s in senders {
            match s.await.unwrap() {
                Err(v) => returned.push(v),
                Ok(()) => panic!("a send completed on a full channel nobody read"),
            }
        }
        returned.sort_unstable();
        assert_eq!(returned, (1..=10).collect::<Vec<_>>());
        assert_eq!(frx.recv().await, Some(0));
        assert_eq!(frx.recv().await, None);
    });
}

#[test]
fn len_and_cap() {
    gort::run(async {
        let (tx, rx) = channel::<u8>(5);
        assert_eq!((tx.cap(), rx.cap(), tx.len()), (5, 5, 0));
        for i in 0..4 {
            tx.send(i).await.unwrap();
        }
        assert_eq!((tx.len(), rx.len()), (4, 4));
        rx.recv().await.unwrap();
        assert_eq!(rx.len(), 3);
        let (tx0, rx0) = channel::<u8>(0);
        assert_eq!((tx0.cap(), rx0.len()), (0, 0));
    });
}

#[test]
fn dropped_recv_future_loses_nothing() {
    // The consumer abandons a parked receive every 50 µs (a timeout), racing the producer's sends.
    // Each value must still arrive exactly once, in order.
    const N: u32 = 1_000;
    for cap in [0, 2] {
        rt(2).block_on(async move {
            let (tx, rx) = channel::<u32>(cap);
            let producer = gort::go(async move {
                for i in 0..N {
                    tx.send(i).await.unwrap();
                    // Pauses longer than the consumer's timeout, so it abandons many receives.
                    if i % 4 == 0 {
                        gort::time::sleep(Duration::from_micros(200)).await;
                    } else if i % 3 == 0 {
                        gort::yield_now().await;
                    }
                }
            });
            let mut got = Vec::with_capacity(N as usize);
            let mut timeouts = 0u32;
            loop {
                match gort::time::timeout(Duration::from_micros(50), rx.recv()).await {
                    Ok(Some(v)) => got.push(v),
                    Ok(None) => break,
                    Err(_) => timeouts += 1,
                }
            }
            producer.await.unwrap();
            assert_eq!(
                got,
                (0..N).collect::<Vec<_>>(),
                "cap {cap}, {timeouts} timeouts"
            );
        });
    }
}

#[test]
fn dropped_send_future_delivers_at_most_once() {
    // The producer abandons parked sends (a timeout) and moves on. A send that completed must be
    // received; an abandoned one may have been taken just before it was dropped (then it counts as
    // sent, the future simply never said so) or not at all; none arrives twice or out of order.
    const N: u32 = 2_000;
    rt(2).block_on(async {
        let (tx, rx) = channel::<u32>(0);
        let producer = gort::go(async move {
            let mut completed = Vec::new();
            for i in 0..N {
                if let Ok(res) = gort::time::timeout(Duration::from_micros(30), tx.send(i)).await {
                    res.unwrap();
                    completed.push(i);
                }
            }
            completed
        });
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
            if v % 5 == 0 {
                gort::time::sleep(Duration::from_micros(100)).await;
            }
        }
        let completed = producer.await.unwrap();
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "a value arrived twice or out of order"
        );
        let mut at = got.iter().peekable();
        for c in &completed {
            while at.next_if(|&&g| g < *c).is_some() {}
            assert_eq!(at.next(), Some(c), "a completed send was not received");
        }
        assert!(!completed.is_empty());
    });
}

/// The producer-consumer chapter program (`examples/src/chapters/producer_consumer.rs`), run big:
/// every value arrives exactly once, and each consumer sees each producer's values in send order.
fn producers_consumers(procs: usize, cap: usize) {
    const PRODUCERS: u64 = 8;
    const CONSUMERS: usize = 6;
    const PER: u64 = 5_000;
    let r = rt(procs).block_on(producer_consumer(PRODUCERS as usize, CONSUMERS, PER, cap));
    assert_eq!(r.received.len(), CONSUMERS);
    for got in &r.received {
        for p in 0..PRODUCERS {
            let mine: Vec<_> = got.iter().filter(|&&v| v / PER == p).collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "producer {p}'s values reordered"
            );
        }
    }
    assert_eq!(
        r.values,
        (0..PRODUCERS * PER).collect::<Vec<_>>(),
        "a value lost or duplicated"
    );
}

#[test]
fn producers_times_consumers_unbuffered_every_value_once() {
    producers_consumers(1, 0);
    producers_consumers(2, 0);
}

#[test]
fn producers_times_consumers_buffered_every_value_once() {
    producers_consumers(1, 16);
    producers_consumers(2, 16);
}

/// Go's concurrent prime sieve: a generator G, then one filter G per prime found, daisy-chained by
/// unbuffered channels.
async fn sieve(n: usize) -> Vec<u64> {
    async fn generate(tx: Sender<u64>) {
        let mut i = 2;
        while tx.send(i).await.is_ok() {
            i += 1;
        }
    }
    async fn filter(rx: Receiver<u64>, tx: Sender<u64>, prime: u64) {
        while let Some(i) = rx.recv().await {
            if i % prime != 0 && tx.send(i).await.is_err() {
                return;
            }
        }
    }
    let (tx, mut rx) = channel(0);
    gort::go(generate(tx));
    let mut primes = Vec::with_capacity(n);
    for _ in 0..n {
        let Some(prime) = rx.recv().await else {
            panic!("the sieve ran dry")
        };
        primes.push(prime);
        let (tx1, rx1) = channel(0);
        gort::go(filter(rx, tx1, prime));
        rx = rx1;
    }
    primes
}

fn simple_sieve(n: usize) -> Vec<u64> {
    let limit = 8_000; // the 1000th prime is 7919
    let mut composite = vec![false; limit];
    let mut primes = Vec::new();
    for i in 2..limit {
        if !composite[i] {
            primes.push(i as u64);
            let mut j = i * i;
            while j < limit {
                composite[j] = true;
                j += i;
            }
        }
    }
    primes.truncate(n);
    primes
}

#[test]
fn prime_sieve_daisy_chain_finds_the_first_1000_primes() {
    let want = simple_sieve(1_000);
    assert_eq!(want.len(), 1_000);
    let got = gort::run(sieve(1_000));
    assert_eq!(got, want);
}

#[test]
fn receiver_is_a_stream() {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    struct Next<'a>(&'a mut Receiver<u32>);
    impl Future for Next<'_> {
        type Output = Option<u32>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
            futures_core::Stream::poll_next(Pin::new(&mut *self.0), cx)
        }
    }

    gort::run(async {
        let (tx, mut rx) = channel::<u32>(0);
        gort::go(async move {
            for i in 0..100 {
                tx.send(i).await.unwrap();
            }
        });
        let mut got = Vec::new();
        while let Some(v) = Next(&mut rx).await {
            got.push(v);
        }
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn a_channel_of_capacity_usize_max_allocates_on_demand_and_works() {
    rt(1).block_on(async {
        let (tx, rx) = channel::<u32>(usize::MAX);
        assert_eq!(tx.cap(), usize::MAX);
        for i in 0..1000 {
            tx.try_send(i).expect("room in an unbounded-size buffer");
        }
        assert_eq!(rx.len(), 1000);
        for i in 0..1000 {
            assert_eq!(rx.recv().await, Some(i));
        }
        drop(tx);
        assert_eq!(rx.recv().await, None);
    });
}
