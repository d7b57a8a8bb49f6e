//! # future_promise — a value computed now, delivered later on a 1-slot channel
//!
//! Run: `cargo run --release --example future_promise -- --n 30`
//!
//! What to watch for: the promises (one G each, computing fib(n-4), fib(n-2), fib(n)) start at once;
//! meanwhile the main G computes fib(n-1) itself, and only then collects the values. With several
//! Ps some promises have delivered before the main G is done (with `GORTMAXPROCS=1`, none: they
//! run when the main G waits). A promise's G exits as soon as its value is in the 1-slot buffer.
//!
//! Chapter: Go book ch. 15, concurrency patterns.

use examples::chapters::{arg, future_promise};

fn main() {
    let n: u32 = arg("--n", 30);
    let ns = [n.saturating_sub(4), n.saturating_sub(2), n];
    let own = n.saturating_sub(1);
    let r = gort::run(async move { future_promise::future_promise(&ns, own).await });
    println!(
        "main G computed fib({}) = {} itself; by then {} of {} promises had delivered",
        r.own.0,
        r.own.1,
        r.ready_early,
        ns.len()
    );
    for (n, v) in &r.values {
        println!("promise: fib({n}) = {v}");
    }
}
