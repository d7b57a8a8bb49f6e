//! Graceful shutdown on a signal (Go book, chapter 13: `signal.Notify`, then stop cleanly).
//!
//! A few worker Gs do jobs in a loop. The main G waits on a signal channel (`runtime::signal::notify`
//! for SIGINT and SIGTERM); when a signal arrives it closes a `done` channel, and each worker, which
//! checks `done` between jobs, finishes the job in hand and returns. The main G waits for them,
//! bounded by a grace period, then stops listening — which restores the default disposition, so a
//! second Ctrl-C would kill the process the ordinary way.
//!
//! Why a channel and not a flag: the signal arrives as a value on a channel, in a G, through the
//! netpoller (see `runtime/src/signal.rs`), so the program reacts to it with the same `recv` and
//! `select!` it uses for everything else; no code runs inside a signal handler.

use std::time::Duration;

use runtime::chan::{channel, Receiver};
use runtime::signal::{self, Signal};
use runtime::time::{sleep, timeout};

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

/// Run `workers` workers doing jobs of `job` each until a signal arrives on `signals`, then stop
/// them, waiting at most `grace`. `signals` comes from `signal::notify`, made by the caller before
/// anything can send the signal; this function calls `signal::stop` on it when done.
pub async fn serve_until_signal(
    signals: Receiver<Signal>,
    workers: usize,
    job: Duration,
    grace: Duration,
) -> Report {
    let (stop, done) = channel::<()>(0);
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let done = done.clone();
            runtime::go(async move {
                let mut me = Worker::default();
                loop {
                    // Between jobs: stop if told to, else start the next one. `default` makes this
                    // a check, not a wait.
                    runtime::select! {
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

    let got = signals.recv().await;
    drop(stop); // close `done`: every worker sees it at its next check

    let mut report = Report {
        signal: got,
        workers: Vec::new(),
        abandoned: 0,
    };
    for h in handles {
        match timeout(grace, h).await {
            Ok(Ok(w)) => report.workers.push(w),
            _ => report.abandoned += 1,
        }
    }
    signal::stop(&signals);
    report
}

/// The signals a server stops on.
pub const STOP_SIGNALS: [Signal; 2] = [Signal::Interrupt, Signal::Terminate];
