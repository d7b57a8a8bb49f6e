//! # backpressure — a bounded channel slows a fast producer to its consumer's pace
//!
//! Run: `cargo run --release --example backpressure -- --n 16 --cap 4 --delay-ms 5`
//!
//! What to watch for: the first `cap` sends go straight into the buffer. From then on the buffer is
//! full and every send parks the producer's G until the slow consumer (one value per `delay-ms`)
//! takes a value: the "blocked" lines, each waiting about one consumer delay. The producer never
//! gets more than `cap` values ahead, so memory stays bounded without anyone checking a size.
//!
//! Chapter: Go book ch. 15, concurrency patterns; runtime story: channels — a parked sender waits on
//! the channel's `sendq` (`runtime/src/chan/hchan.rs`).

use std::time::Duration;

use examples::chapters::{arg, backpressure::backpressure};

fn main() {
    let n: u64 = arg("--n", 16);
    let cap: usize = arg("--cap", 4);
    let delay = Duration::from_millis(arg("--delay-ms", 5));
    let r = gort::run(backpressure(n, cap, delay));
    println!("producer -> channel(cap {cap}) -> consumer taking one value every {delay:?}");
    for s in &r.sends {
        if s.blocked {
            println!(
                "send {:>3}: buffer {}/{cap} full, producer blocked {:.1} ms",
                s.item,
                s.buffered,
                s.waited.as_secs_f64() * 1e3
            );
        } else {
            println!("send {:>3}: buffer {}/{cap}, no wait", s.item, s.buffered);
        }
    }
    println!(
        "{} sends, {} of them blocked; consumer received {} values in order: {}",
        r.sends.len(),
        r.blocked(),
        r.received.len(),
        if r.received.iter().copied().eq(0..n) {
            "yes"
        } else {
            "NO"
        }
    );
}
