//! # producer_consumer — many producers, many consumers, one channel
//!
//! Run: `cargo run --release --example producer_consumer -- --producers 4 --consumers 3 --n 100000`
//! (also `--cap N`, the channel's buffer; try `--cap 0` for an unbuffered channel).
//!
//! What to watch for: every value is received exactly once, however the runtime splits them among
//! the consumers (the split changes from run to run, and with `GORTMAXPROCS`). Nobody counts the
//! producers: the channel closes when the last producer drops its `Sender`, and that ends every
//! consumer's `while let Some(v) = rx.recv().await`.
//!
//! Chapter: Go book ch. 15, concurrency patterns; runtime story: channels (`runtime/src/chan/`).

use examples::chapters::{arg, producer_consumer::producer_consumer};

fn main() {
    let producers: usize = arg("--producers", 4);
    let consumers: usize = arg("--consumers", 3);
    let n: u64 = arg("--n", 100_000);
    let cap: usize = arg("--cap", 64);
    let r = gort::run(producer_consumer(producers, consumers, n, cap));
    println!("{producers} producers x {n} values -> {consumers} consumers (channel cap {cap})");
    for (c, got) in r.received.iter().enumerate() {
        println!("  consumer {c}: {} values", got.len());
    }
    let expected = producers as u64 * n;
    let exactly_once = r.values.iter().copied().eq(0..expected);
    println!(
        "received {} of {expected}; each exactly once: {}",
        r.values.len(),
        if exactly_once { "yes" } else { "NO" }
    );
}
