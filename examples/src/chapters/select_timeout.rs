//! Timing out, moving on (Go book, chapter 15; the Go blog post of that name): `select!` with a timer
//! arm, and a done channel to tell a G to stop.
//!
//! 1. `first_answer`: ask several replicas the same question and take whichever answers first, but
//!    wait no longer than a limit. The timeout is just another channel (`time::after`), so "first
//!    answer or timeout" is one `select!`. The answers channel has room for every replica: the
//!    replicas that lose the race can still send their late answer and exit, instead of blocking
//!    forever on a channel nobody reads (the leak the blog post warns about).
//! 2. `work_until_done`: a worker G loops on a `select!` between its input and a `done` channel.
//!    Nothing is ever sent on `done`; closing it makes its receive ready for every G watching it, so
//!    one close is a broadcast "stop" — the idea that Go's `context.Context` packages as `Done()`.
//! 3. `work_until_deadline`: the same worker, stopped by a `gort::context` with a timeout
//!    instead (Go's `context.WithTimeout`): `ctx.done()` is such a channel, closed by the deadline's
//!    timer, and `ctx.err()` then says why.

use std::time::{Duration, Instant};

use gort::chan::channel;
use gort::context::{self, ContextError};
use gort::time::{after, sleep};

/// How a `first_answer` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Replica `replica` answered first, after `after`.
    Answered { replica: usize, after: Duration },
    /// The limit passed first.
    TimedOut,
    /// Every replica failed without answering.
    NoAnswer,
}

/// Ask one replica per entry of `replicas`: `Some(d)` answers after `d`, `None` fails at once. Wait
/// at most `limit` for the first answer.
pub async fn first_answer(replicas: Vec<Option<Duration>>, limit: Duration) -> Outcome {
    let start = Instant::now();
    let (tx, answers) = channel::<usize>(replicas.len());
    for (replica, delay) in replicas.into_iter().enumerate() {
        let tx = tx.clone();
        drop(gort::go(async move {
            if let Some(d) = delay {
                sleep(d).await;
                // Never blocks: there is a slot for every replica.
                let _ = tx.try_send(replica);
            }
        }));
    }
    drop(tx); // if every replica fails, the channel closes and the receive below sees `None`
    gort::select! {
        recv(answers) -> a => match a {
            Some(replica) => Outcome::Answered { replica, after: start.elapsed() },
            None => Outcome::NoAnswer,
        },
        recv(after(limit)) -> _ => Outcome::TimedOut,
    }
}

/// Hand `items` values, one at a time, to a worker G that stops when `done` is closed; returns how
/// many it processed and how it stopped. The input channel itself is never closed: only `done`
/// stops the worker.
pub async fn work_until_done(items: u64) -> (u64, &'static str) {
    let (stop, done) = channel::<()>(0);
    let (input, work) = channel::<u64>(0);
    let worker = gort::go(async move {
        let mut processed = 0;
        loop {
            gort::select! {
                recv(work) -> v => if v.is_some() { processed += 1 },
                recv(done) -> _ => return (processed, "done was closed"),
            }
        }
    });
    for i in 0..items {
        // Unbuffered: each send completes only when the worker has taken the value.
        if input.send(i).await.is_err() {
            break;
        }
    }
    drop(stop); // close `done`: the broadcast "stop"
    let r = worker.await.unwrap_or((0, "the worker failed"));
    drop(input);
    r
}

/// A worker does one job of `job` after another until the context's deadline, `limit` from now,
/// passes; returns how many jobs it finished and the context's error.
pub async fn work_until_deadline(limit: Duration, job: Duration) -> (u64, Option<ContextError>) {
    let (ctx, _cancel) = context::with_timeout(&context::background(), limit);
    let worker = gort::go(async move {
        let done = ctx.done();
        let mut jobs = 0;
        loop {
            gort::select! {
                recv(done) -> _ => return (jobs, ctx.err()),
                recv(after(job)) -> _ => jobs += 1,
            }
        }
    });
    worker.await.unwrap_or((0, None))
}
