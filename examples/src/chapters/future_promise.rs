//! Futures and promises (Go book, chapter 15): start a computation in its own G now, take its value
//! later. The G is the promise (it will deliver); a 1-slot channel is the future (where the value
//! will be).
//!
//! The slot is what makes it a promise rather than a rendezvous: the computing G sends into the
//! buffer and exits, whether or not anyone is receiving yet. (A gort `JoinHandle` is a built-in
//! future of the same kind; the channel version is Go's idiom and can be handed around, put in a
//! `select!`, or received by whoever holds a clone.)

use gort::chan::{channel, Receiver};

/// Start computing `f()` in a new G; the returned receiver will hold the value.
pub fn promise<T, F>(f: F) -> Receiver<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = channel(1);
    drop(gort::go(async move {
        // `f` runs inside one poll, with no preemption point: fine for the few milliseconds these
        // examples compute. Anything longer belongs in `gort::blocking`, or should call
        // `gort::coop().await` now and then, or sysmon will report a runaway poll.
        let v = f();
        // Room for one: this never waits, so the G ends as soon as the value exists.
        let _ = tx.send(v).await;
    }));
    rx
}

/// Naive Fibonacci: slow on purpose, so the promises have something to do.
pub fn fib(n: u32) -> u64 {
    if n < 2 {
        n as u64
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

/// What happened.
#[derive(Debug)]
pub struct Report {
    /// `(n, fib(n))` as delivered by the promises, in the order asked.
    pub values: Vec<(u32, u64)>,
    /// `(n, fib(n))` computed by the caller itself meanwhile.
    pub own: (u32, u64),
    /// Promises that had already delivered when the caller finished its own work.
    pub ready_early: usize,
}

/// Promise `fib(n)` for each `n` in `ns`, compute `fib(own)` meanwhile, then collect.
pub async fn future_promise(ns: &[u32], own: u32) -> Report {
    let futures: Vec<_> = ns.iter().map(|&n| (n, promise(move || fib(n)))).collect();
    // Our own work, while the promises compute on other Ps (or after us, with one P).
    let own = (own, fib(own));
    let ready_early = futures.iter().filter(|(_, f)| !f.is_empty()).count();
    let mut values = Vec::new();
    for (n, f) in futures {
        // `None` would mean the promise's G died without delivering; `fib` cannot panic.
        if let Some(v) = f.recv().await {
            values.push((n, v));
        }
    }
    Report {
        values,
        own,
        ready_early,
    }
}
