//! `mem-per-g`: how much memory one parked G costs, measured as the growth of the process's resident
//! set while `N` Gs sit parked in a channel receive, divided by `N`.
//!
//! Usage: `mem-per-g gort|tokio [N]` (N defaults to 1 000 000). Prints one line:
//! `<runtime> <N> parked: <bytes> B per task (RSS +<KiB> KiB)`.
//!
//! - gort: every G holds a clone of one unbuffered channel's `Receiver` and awaits `recv()`: its
//!   cost is the G's allocation (header + future) plus its sudog in the channel's wait queue.
//! - tokio: every task awaits `Notify::notified()` on one shared `Notify`, tokio's closest
//!   "wait on a shared primitive" (its waiter node lives inside the task's future).
//! - Go: `benches/go/memperg/main.go` does the same with `<-ch` (`go run` it beside this).
//!
//! The Gs are released at the end (the channel closed, the `Notify` notified) and the process
//! exits. RSS is read from `/proc/self/status`, so this is Linux-only. One worker thread each, so
//! the numbers are of the tasks, not of per-thread caches.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn report(name: &str, n: usize, before: u64, after: u64) {
    let grown = after.saturating_sub(before);
    println!(
        "{name} {n} parked: {} B per task (RSS +{grown} KiB)",
        grown * 1024 / n as u64
    );
}

fn gort_run(n: usize) -> Option<(u64, u64)> {
    let rt = gort::Builder::new().procs(1).build().ok()?;
    rt.block_on(async move {
        let before = rss_kib()?;
        let parked = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = gort::chan::channel::<u64>(0);
        for i in 0..n {
            if i % 1024 == 0 {
                gort::coop().await; // a preemption point in a long spawning loop
            }
            let rx = rx.clone();
            let parked = parked.clone();
            // The JoinHandle is dropped: the G is detached, as a server's connection Gs are.
            drop(gort::go(async move {
                parked.fetch_add(1, Ordering::Relaxed);
                let _ = rx.recv().await;
            }));
        }
        while parked.load(Ordering::Relaxed) < n {
            gort::time::sleep(Duration::from_millis(1)).await;
        }
        let after = rss_kib()?;
        tx.close();
        Some((before, after))
    })
}

fn tokio_run(n: usize) -> Option<(u64, u64)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async move {
        let before = rss_kib()?;
        let parked = Arc::new(AtomicUsize::new(0));
        let notify = Arc::new(tokio::sync::Notify::new());
        for _ in 0..n {
            let notify = notify.clone();
            let parked = parked.clone();
            drop(tokio::spawn(async move {
                let notified = notify.notified();
                parked.fetch_add(1, Ordering::Relaxed);
                notified.await;
            }));
        }
        while parked.load(Ordering::Relaxed) < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Let every task reach its await (the counter is bumped just before it).
        tokio::time::sleep(Duration::from_millis(50)).await;
        let after = rss_kib()?;
        notify.notify_waiters();
        Some((before, after))
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = match args.get(1).map(|s| s.parse::<usize>()) {
        None => 1_000_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("mem-per-g: N must be a positive number");
            return ExitCode::from(2);
        }
    };
    let got = match args.first().map(String::as_str) {
        Some("gort") => gort_run(n),
        Some("tokio") => tokio_run(n),
        _ => {
            eprintln!("usage: mem-per-g gort|tokio [N]");
            return ExitCode::from(2);
        }
    };
    match got {
        Some((before, after)) => {
            report(&args[0], n, before, after);
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("mem-per-g: could not start the runtime or read /proc/self/status");
            ExitCode::FAILURE
        }
    }
}
