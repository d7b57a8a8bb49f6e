//! Producer–consumer (Go book, chapter 15): `P` producer Gs send on one buffered channel, `C` consumer
//! Gs receive from it until it is closed and drained.
//!
//! In Go the producers share a `sync.WaitGroup` and one extra goroutine calls `close(ch)` after
//! `wg.Wait()`. Here the channel closes itself when the last `Sender` clone is dropped, which is the
//! same signal — "no more values" — without the counter: each producer owns a clone and drops it when
//! its loop ends. The consumers are Go's `for v := range ch`.

use gort::chan::channel;

/// What the consumers saw.
#[derive(Debug)]
pub struct Report {
    /// What each consumer received, in the order it received them (the runtime decides the split).
    /// A channel is FIFO, so each producer's values reach any one consumer in the order it sent them.
    pub received: Vec<Vec<u64>>,
    /// Every value received, by anyone, sorted: each produced value exactly once.
    pub values: Vec<u64>,
}

/// Run `producers` producers of `per_producer` values each (producer `p` sends
/// `p * per_producer .. (p + 1) * per_producer`) and `consumers` consumers, over a channel of
/// capacity `cap`.
pub async fn producer_consumer(
    producers: usize,
    consumers: usize,
    per_producer: u64,
    cap: usize,
) -> Report {
    let (tx, rx) = channel::<u64>(cap);
    for p in 0..producers as u64 {
        let tx = tx.clone();
        // The handle is dropped: the producer runs detached, like `go produce(ch)`.
        drop(gort::go(async move {
            for v in p * per_producer..(p + 1) * per_producer {
                if tx.send(v).await.is_err() {
                    return; // closed under us: nobody wants more
                }
            }
        }));
    }
    // Our own sender must go too, or the channel would never close and the consumers never end.
    drop(tx);

    let handles: Vec<_> = (0..consumers)
        .map(|_| {
            let rx = rx.clone();
            gort::go(async move {
                let mut got = Vec::new();
                while let Some(v) = rx.recv().await {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    drop(rx);

    // A consumer cannot panic; if one did, its values are missing and the caller will see it.
    let mut received = Vec::new();
    for h in handles {
        received.push(h.await.unwrap_or_default());
    }
    let mut values: Vec<u64> = received.concat();
    values.sort_unstable();
    Report { received, values }
}
