//! The prime sieve (Go book, chapter 15; the classic from Go's tour and talks): a daisy chain of Gs.
//!
//! A generator G sends 2, 3, 4, ... down a channel. The main G takes the first number from the end
//! of the chain — it is prime — and appends a filter G that passes on only numbers not divisible by
//! it. Every number flows through one filter per prime found so far, each filter a G of its own,
//! each link an unbuffered channel: a pipeline of `n` concurrent stages handing values along by
//! rendezvous.
//!
//! Shutting the chain down is the part Go's short version leaves out (its goroutines stay blocked
//! until the program exits). Dropping the last receiver does not help: as in Go, a send on a channel
//! nobody reads simply waits. So every stage sends inside a `select!` that also watches a `done`
//! channel, and the main G closes `done` when it has its primes (Go's "pipelines and cancellation"):
//! each stage returns, dropping its sender, which ends the receive loop of the stage after it.

use gort::chan::{channel, Receiver};

/// The first `n` primes.
pub async fn prime_sieve(n: usize) -> Vec<u64> {
    // Nothing is ever sent on `done`; dropping `stop` closes it, and a closed channel is ready for
    // every receiver at once: a broadcast.
    let (stop, done) = channel::<()>(0);
    let (tx, mut rx) = channel::<u64>(0);
    let gen_done = done.clone();
    drop(gort::go(async move {
        for i in 2.. {
            gort::select! {
                send(tx, i) -> r => if r.is_err() { return },
                recv(gen_done) -> _ => return,
            }
        }
    }));
    let mut primes = Vec::with_capacity(n);
    while primes.len() < n {
        let Some(p) = rx.recv().await else { break };
        primes.push(p);
        rx = filter(rx, p, done.clone());
    }
    drop(stop);
    primes
}

/// A filter G: copy from `input` to the returned channel every value not divisible by `p`, until the
/// input ends or `done` is closed.
fn filter(input: Receiver<u64>, p: u64, done: Receiver<()>) -> Receiver<u64> {
    let (tx, rx) = channel(0);
    drop(gort::go(async move {
        while let Some(i) = input.recv().await {
            if i % p != 0 {
                gort::select! {
                    send(tx, i) -> r => if r.is_err() { return },
                    recv(done) -> _ => return,
                }
            }
        }
    }));
    rx
}
