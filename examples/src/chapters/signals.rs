//! Graceful shutdown on a signal (Go book, chapter 13: `signal.Notify`, and Go 1.16's
//! `signal.NotifyContext`).
//!
//! A few worker Gs do jobs in a loop, all under one `gort::context::Context`. `notify_context`
//! turns the signals into that context's cancellation: a G waits on the signal channel
//! (`gort::signal::notify` for SIGINT and SIGTERM) and, when one arrives, cancels the context
//! and stops listening — which restores the default disposition, so a second Ctrl-C kills the
//! process the ordinary way. Each worker checks `ctx.done()` between jobs, finishes the job in
//! hand and returns. The main G waits for them, bounded by a grace period.
//!
//! Why a channel and not a flag: the signal arrives as a value on a channel, in a G, through the
//! netpoller (see `runtime/src/signal.rs`), so the program reacts to it with the same `recv` and
//! `select!` it uses for everything else; no code runs inside a signal handler. And why a context:
//! it is the one "stop" that every layer of a Go server already accepts (requests, queries, timers),
//! so a signal reaches all of them without any of them knowing about signals.

use std::time::Duration;

use gort::chan::Receiver;
use gort::context::{self, Context};
use gort::signal::{self, Signal};
use gort::time::{sleep, timeout};
use gort::JoinHandle;

/// One worker's account of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Worker {
    pub started: u64,
    pub finished: u64,
}

/// How the program ended.
#[derive(Debug)]
pub struct Report {
    /// The signal that stopped it (`None`: the signal channel closed).
    pub signal: Option<Signal>,
    /// Every worker that stopped within the grace period.
    pub workers: Vec<Worker>,
    /// Workers still busy when the grace period ran out.
    pub abandoned: usize,
}

/// The signals a server stops on.
pub const STOP_SIGNALS: [Signal; 2] = [Signal::Interrupt, Signal::Terminate];

/// Go's `signal.NotifyContext`: a child of `parent` that is cancelled when a signal arrives on
/// `signals` (from `signal::notify`). The handle yields that signal; listening stops (`signal::stop`)
/// once one has arrived or the context is done for another reason.
pub fn notify_context(
    parent: &Context,
    signals: Receiver<Signal>,
) -> (Context, JoinHandle<Option<Signal>>) {
    let (ctx, cancel) = context::with_cancel(parent);
    let done = ctx.done();
    let watcher = gort::go(async move {
        let got = gort::select! {
            recv(signals) -> s => s,
            recv(done) -> _ => None, // cancelled some other way: stop listening
        };
        cancel.cancel();
        signal::stop(&signals);
        got
    });
    (ctx, watcher)
}

/// Run `workers` workers doing jobs of `job` each until a signal arrives on `signals`, then stop
/// them, waiting at most `grace`. `signals` comes from `signal::notify`, made by the caller before
/// anything can send the signal.
pub async fn serve_until_signal(
    signals: Receiver<Signal>,
    workers: usize,
    job: Duration,
    grace: Duration,
) -> Report {
    let (ctx, watcher) = notify_context(&context::background(), signals);
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let ctx = ctx.clone();
            gort::go(async move {
                let done = ctx.done();
                let mut me = Worker::default();
                loop {
                    // Between jobs: stop if told to, else start the next one. `default` makes this
                    // a check, not a wait.
                    gort::select! {
                        recv(done) -> _ => return me,
                        default => {}
                    }
                    me.started += 1;
                    sleep(job).await; // the job: not interrupted half-way
                    me.finished += 1;
                }
            })
        })
        .collect();

    let _ = ctx.done().recv().await; // closed when the signal comes
    let mut report = Report {
        signal: watcher.await.ok().flatten(),
        workers: Vec::new(),
        abandoned: 0,
    };
    for h in handles {
        match timeout(grace, h).await {
            Ok(Ok(w)) => report.workers.push(w),
            _ => report.abandoned += 1,
        }
    }
    report
}
