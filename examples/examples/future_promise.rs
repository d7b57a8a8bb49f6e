//! # future_promise — a value computed now, delivered later on a 1-slot channel
//!
//! Run: `cargo run --release --example future_promise -- --n 30`
//!
//! What to watch for: the promises (one G each, computing fib(n-4), fib(n-2), fib(n)) start at once;
//! meanwhile the main G keeps doing its own work (the "other work" count) and only then collects
//! the values. Each promise's G has exited long before its value is read: the 1-slot buffer holds it.
//!
//! Chapter: Go book ch. 15, concurrency patterns.

use examples::chapters::{arg, future_promise};

fn main() {
    let n: u32 = arg("--n", 30);
    let ns = [n.saturating_sub(4), n.saturating_sub(2), n];
    let r = runtime::run(async move { future_promise::future_promise(&ns).await });
    println!(
        "main G did {} rounds of other work before the first promise delivered",
        r.other_work
    );
    for (n, v) in &r.values {
        println!("fib({n}) = {v}");
    }
}
