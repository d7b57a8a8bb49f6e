//! # prime_sieve — Go's daisy chain of filter Gs
//!
//! Run: `cargo run --release --example prime_sieve -- --n 100`
//!
//! What to watch for: the primes, found by a pipeline that grows one G per prime (`n` filters plus
//! the generator, all talking over unbuffered channels); and, at the end, that the whole chain has
//! shut itself down — the live G count falls back to 1 (the main G).
//!
//! Chapter: Go book ch. 15, concurrency patterns (the sieve from the Go tour); runtime story: a
//! rendezvous on an unbuffered channel hands the value straight from sender to receiver.

use std::time::{Duration, Instant};

use examples::chapters::{arg, prime_sieve::prime_sieve};

fn main() {
    let n: usize = arg("--n", 100);
    let (primes, peak, after) = gort::run(async move {
        let primes = prime_sieve(n).await;
        let peak = gort::stats().goroutines;
        // The stages see `done` close and return on their own schedule; give them a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        while gort::stats().goroutines > 1 && Instant::now() < deadline {
            gort::time::sleep(Duration::from_millis(1)).await;
        }
        (primes, peak, gort::stats().goroutines)
    });
    for row in primes.chunks(10) {
        let row: Vec<String> = row.iter().map(|p| format!("{p:>5}")).collect();
        println!("{}", row.join(""));
    }
    println!(
        "{} primes; Gs alive when done: {peak}; after the shutdown: {after}",
        primes.len()
    );
}
