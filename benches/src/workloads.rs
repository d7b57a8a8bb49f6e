//! The scheduler workloads of tokio's `benches/rt_multi_threaded.rs`, written once for any
//! [`Peer`].
//!
//! Each function runs one complete round of its workload and returns when the last task is done,
//! so a benchmark iteration is one call. The sizes are parameters so the tests can run small
//! rounds; the benchmark uses tokio's sizes (the `*_N` constants).
//!
//! A round whose end is signalled by a task ends on a `std` channel received by the calling
//! (benchmark) thread, which is outside both runtimes: blocking it costs neither runtime a worker
//! (see `peer.rs` for why `block_on` is not used for this on gort).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{self, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::oneshot;
use crate::peer::{Gort, Peer, Tokio};

/// Tasks spawned per round by the `spawn_many_*` workloads.
pub const SPAWN_N: usize = 10_000;
/// Tasks and yields per task of `yield_many`.
pub const YIELD_TASKS: usize = 200;
pub const YIELD_N: usize = 1_000;
/// Pairs of `ping_pong`.
pub const PING_PONG_N: usize = 1_000;
/// Depth of `chained_spawn`.
pub const CHAIN_N: usize = 1_000;
/// How long a busy task of `spawn_many_remote_busy1` stalls between yields.
pub const STALL: Duration = Duration::from_micros(10);

/// Wait for the end-of-round signal. The workloads' tasks cannot fail (they only count), so a
/// closed channel means a task was dropped unrun: a runtime bug worth a loud stop.
fn wait_done(rx: &mpsc::Receiver<()>) {
    if rx.recv().is_err() {
        panic!("the round's last task never signalled: a task was dropped without running");
    }
}

/// A countdown shared by the tasks of a round: the task that brings it to zero signals the end.
struct Countdown {
    left: AtomicUsize,
    done: SyncSender<()>,
}

impl Countdown {
    fn new(n: usize) -> (Arc<Countdown>, mpsc::Receiver<()>) {
        let (done, rx) = mpsc::sync_channel(1);
        (
            Arc::new(Countdown {
                left: AtomicUsize::new(n),
                done,
            }),
            rx,
        )
    }

    fn count(&self) {
        if self.left.fetch_sub(1, Relaxed) == 1 {
            // Capacity 1 and a single sender of the signal: never blocks a worker.
            let _ = self.done.try_send(());
        }
    }
}

/// A workload by name, with one round of it at the benchmark's size on each runtime.
pub struct Named {
    pub name: &'static str,
    pub gort: fn(&Gort),
    pub tokio: fn(&Tokio),
}

/// The executor workloads without background load, at tokio's sizes: the set
/// `benches/trace_overhead.rs` and the `run-workload` tool run by name.
pub const EXECUTOR: &[Named] = &[
    Named {
        name: "spawn_many_local",
        gort: |rt| spawn_many_local(rt, SPAWN_N),
        tokio: |rt| spawn_many_local(rt, SPAWN_N),
    },
    Named {
        name: "spawn_many_remote_idle",
        gort: |rt| spawn_many_remote(rt, SPAWN_N),
        tokio: |rt| spawn_many_remote(rt, SPAWN_N),
    },
    Named {
        name: "yield_many",
        gort: |rt| yield_many(rt, YIELD_TASKS, YIELD_N),
        tokio: |rt| yield_many(rt, YIELD_TASKS, YIELD_N),
    },
    Named {
        name: "ping_pong",
        gort: |rt| ping_pong(rt, PING_PONG_N),
        tokio: |rt| ping_pong(rt, PING_PONG_N),
    },
    Named {
        name: "chained_spawn",
        gort: |rt| chained_spawn(rt, CHAIN_N),
        tokio: |rt| chained_spawn(rt, CHAIN_N),
    },
];

/// Look up a workload of [`EXECUTOR`] by name.
pub fn executor(name: &str) -> Option<&'static Named> {
    EXECUTOR.iter().find(|w| w.name == name)
}

/// `spawn_many_local`: one task spawns `n` tasks from inside the runtime (the local queue path);
/// each decrements a counter and the last signals.
pub fn spawn_many_local<R: Peer>(rt: &R, n: usize) {
    let (cd, rx) = Countdown::new(n);
    drop(rt.spawn(async move {
        for _ in 0..n {
            let cd = cd.clone();
            drop(R::go(async move { cd.count() }));
        }
    }));
    wait_done(&rx);
}

/// `spawn_many_remote_idle`: spawn `n` empty tasks from outside the runtime, then await every
/// handle inside `block_on`.
pub fn spawn_many_remote<R: Peer>(rt: &R, n: usize) {
    let handles: Vec<_> = (0..n).map(|_| rt.spawn(async {})).collect();
    rt.block_on(async move {
        for h in handles {
            h.await;
        }
    });
}

/// Keeps a runtime busy for `spawn_many_remote_busy1`: `tasks` tasks that each loop
/// `yield_now` + a [`STALL`]-long busy wait, until the guard is dropped.
pub struct Busy {
    running: Arc<AtomicBool>,
}

impl Busy {
    pub fn start<R: Peer>(rt: &R, tasks: usize) -> Busy {
        let running = Arc::new(AtomicBool::new(true));
        for _ in 0..tasks {
            let running = running.clone();
            drop(rt.spawn(async move {
                while running.load(Relaxed) {
                    R::yield_now().await;
                    stall(STALL);
                }
            }));
        }
        Busy { running }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.running.store(false, Relaxed);
    }
}

/// Occupy the calling thread for `d` without sleeping in the kernel. Like the stall in tokio's
/// benchmark, it offers the core to other threads between clock reads, so the benchmark thread
/// and the workers can make progress on a machine with few cores.
fn stall(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::thread::yield_now();
    }
}

/// `yield_many`: `tasks` tasks spawned from outside, each yielding `yields` times; each signals
/// when done and the benchmark thread waits for all the signals.
pub fn yield_many<R: Peer>(rt: &R, tasks: usize, yields: usize) {
    let (tx, rx) = mpsc::sync_channel(tasks);
    for _ in 0..tasks {
        let tx = tx.clone();
        drop(rt.spawn(async move {
            for _ in 0..yields {
                R::yield_now().await;
            }
            let _ = tx.try_send(());
        }));
    }
    drop(tx);
    for _ in 0..tasks {
        wait_done(&rx);
    }
}

/// `ping_pong`: one task spawns `pairs` tasks; each spawns a partner, sends it a ping on one
/// oneshot and waits for the pong on another. The last pair to finish signals.
pub fn ping_pong<R: Peer>(rt: &R, pairs: usize) {
    let (cd, rx) = Countdown::new(pairs);
    drop(rt.spawn(async move {
        for _ in 0..pairs {
            let cd = cd.clone();
            drop(R::go(async move {
                let (ping_tx, ping_rx) = oneshot::channel::<()>();
                let (pong_tx, pong_rx) = oneshot::channel::<()>();
                drop(R::go(async move {
                    if ping_rx.await.is_ok() {
                        let _ = pong_tx.send(());
                    }
                }));
                let _ = ping_tx.send(());
                if pong_rx.await.is_ok() {
                    cd.count();
                }
            }));
        }
    }));
    wait_done(&rx);
}

/// `chained_spawn`: each task spawns the next, `depth` deep; the last signals.
pub fn chained_spawn<R: Peer>(rt: &R, depth: usize) {
    fn link<R: Peer>(done: SyncSender<()>, left: usize) {
        if left == 0 {
            let _ = done.try_send(());
        } else {
            drop(R::go(async move { link::<R>(done, left - 1) }));
        }
    }
    let (done, rx) = mpsc::sync_channel(1);
    drop(rt.spawn(async move { link::<R>(done, depth) }));
    wait_done(&rx);
}

#[cfg(test)]
mod tests {
    //! Every workload completes on both runtimes: small rounds, a few times each, under a
    //! watchdog, so a lost wake-up fails the test instead of hanging it.

    use super::*;
    use crate::peer::{Gort, Tokio};

    /// Run `f` on its own thread; fail if it has not finished within `limit`. (A hung thread is
    /// left behind; the test process ends with the failure.)
    fn within(limit: Duration, f: impl FnOnce() + Send + 'static) {
        let (tx, rx) = mpsc::channel();
        let t = std::thread::spawn(move || {
            f();
            let _ = tx.send(());
        });
        match rx.recv_timeout(limit) {
            Ok(()) => t.join().expect("workload thread"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // The closure panicked: re-raise its panic.
                if let Err(p) = t.join() {
                    std::panic::resume_unwind(p);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("workloads did not finish in {limit:?}"),
        }
    }

    fn all_workloads_complete<R: Peer>() {
        within(Duration::from_secs(60), run_all::<R>);
    }

    fn run_all<R: Peer>() {
        let rt = R::build(2).expect("runtime");
        for _ in 0..3 {
            spawn_many_local(&rt, 500);
            spawn_many_remote(&rt, 500);
            yield_many(&rt, 20, 50);
            ping_pong(&rt, 100);
            chained_spawn(&rt, 100);
        }
        let busy = Busy::start(&rt, 4);
        spawn_many_remote(&rt, 500);
        drop(busy);
    }

    #[test]
    fn all_workloads_complete_on_gort() {
        all_workloads_complete::<Gort>();
    }

    #[test]
    fn all_workloads_complete_on_tokio() {
        all_workloads_complete::<Tokio>();
    }
}
