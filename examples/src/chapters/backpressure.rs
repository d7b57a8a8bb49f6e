//! Backpressure (Go book, chapter 15): a bounded channel between a fast producer and a slow consumer.
//!
//! The buffer absorbs bursts; once it is full, the producer's send parks its G until the consumer
//! takes a value, so the producer runs exactly as fast as the consumer — nothing piles up in memory
//! and nobody has to poll. In Go this is just `ch <- v` on a `make(chan T, n)`; to *show* it, each
//! send here first tries `try_send` (Go's `select { case ch <- v: default: }`), and records whether
//! it found the buffer full and had to wait.

use std::time::{Duration, Instant};

use gort::chan::{channel, TrySendError};

/// One send of the producer.
#[derive(Debug, Clone, Copy)]
pub struct Send {
    pub item: u64,
    /// Values in the buffer just before the send.
    pub buffered: usize,
    /// Whether the buffer was full, so that the producer's G parked until the consumer made room.
    pub blocked: bool,
    /// How long the send took (about zero unless `blocked`).
    pub waited: Duration,
}

/// What happened.
#[derive(Debug)]
pub struct Report {
    pub sends: Vec<Send>,
    /// What the consumer received, in order.
    pub received: Vec<u64>,
}

impl Report {
    /// How many sends found the buffer full.
    pub fn blocked(&self) -> usize {
        self.sends.iter().filter(|s| s.blocked).count()
    }
}

/// Send `items` values through a channel of capacity `cap` to a consumer that sleeps `delay` before
/// each receive.
pub async fn backpressure(items: u64, cap: usize, delay: Duration) -> Report {
    let (tx, rx) = channel::<u64>(cap);
    let consumer = gort::go(async move {
        let mut received = Vec::new();
        loop {
            gort::time::sleep(delay).await; // the slow part: "processing" the previous value
            match rx.recv().await {
                Some(v) => received.push(v),
                None => return received,
            }
        }
    });

    let mut sends = Vec::new();
    for item in 0..items {
        let buffered = tx.len();
        let start = Instant::now();
        let blocked = match tx.try_send(item) {
            Ok(()) => false,
            Err(TrySendError::Full(v)) => {
                // The buffer is full: this send parks the G until the consumer receives.
                if tx.send(v).await.is_err() {
                    break;
                }
                true
            }
            Err(TrySendError::Closed(_)) => break,
        };
        sends.push(Send {
            item,
            buffered,
            blocked,
            waited: start.elapsed(),
        });
    }
    drop(tx); // close: the consumer drains the buffer and stops
    Report {
        sends,
        received: consumer.await.unwrap_or_default(),
    }
}
