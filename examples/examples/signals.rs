//! # signals — wait for SIGINT/SIGTERM, then stop gracefully
//!
//! Run: `cargo run --release --example signals`, then press Ctrl-C (or `kill -TERM <pid>` from
//! another terminal). Unattended: `cargo run --release --example signals -- --after-ms 300` sends
//! itself SIGTERM after 300 ms.
//!
//! What to watch for: the signal cancels a context (Go's `signal.NotifyContext`), and the workers,
//! which check it between jobs, do not die mid-job: each finishes the job in hand (every worker's
//! "started" equals its "finished") and returns; then the program exits 0. Once it has stopped
//! listening, the default disposition is back: a second Ctrl-C during the grace period would kill
//! it outright.
//!
//! Chapter: Go book ch. 13, signals (`os/signal.Notify`, `signal.NotifyContext`); runtime story:
//! signals delivered through the netpoller (`runtime/src/signal.rs`), `gort::context`.

use std::time::Duration;

use examples::chapters::{arg, signals};

fn main() {
    let workers: usize = arg("--workers", 3);
    let after_ms: u64 = arg("--after-ms", 0);
    let r = gort::run(async move {
        // Listen before anything can send the signal.
        let sigs = gort::signal::notify(&signals::STOP_SIGNALS);
        println!(
            "pid {}: {workers} workers running; Ctrl-C or `kill -TERM {}` to stop",
            std::process::id(),
            std::process::id()
        );
        if after_ms > 0 {
            gort::time::after_func(Duration::from_millis(after_ms), || {
                // SAFETY: sending SIGTERM to our own process; its handler is installed above.
                unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
            });
        }
        let job = Duration::from_millis(20);
        signals::serve_until_signal(sigs, workers, job, Duration::from_secs(2)).await
    });
    match r.signal {
        Some(s) => println!("got {s:?}: stopping"),
        None => println!("signal channel closed: stopping"),
    }
    for (i, w) in r.workers.iter().enumerate() {
        println!(
            "  worker {i}: started {} jobs, finished {}",
            w.started, w.finished
        );
    }
    if r.abandoned > 0 {
        println!(
            "{} workers did not stop within the grace period",
            r.abandoned
        );
    } else {
        println!("all workers stopped cleanly");
    }
}
