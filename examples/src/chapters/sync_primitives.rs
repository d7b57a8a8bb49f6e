//! The `sync` package (Go book, chapter 15): Mutex, WaitGroup, Once and Cond, in one small race.
//!
//! `gs` runner Gs each:
//! 1. initialise a shared configuration through a `Once` — every runner asks, the function runs
//!    once, and nobody proceeds before it has *finished*;
//! 2. wait at a starting gate: a `Mutex<bool>` and a `Cond`. The main G waits (a `WaitGroup`) until
//!    every runner is waiting, then opens the gate and `broadcast`s, waking them all at once;
//! 3. increment a shared counter `iters` times, each under the `Mutex`;
//! 4. say `done` on a `WaitGroup` the main G waits on.
//!
//! Each primitive parks the G, not the thread: a runner waiting for the lock or the gate costs a
//! few bytes, and the M that ran it goes on with other runners. (Channels could do all of this too;
//! Go's advice is to use whichever makes the program clearer, and a counter under a lock is clearer
//! than an actor for a counter.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gort::sync::{Cond, Mutex, Once, WaitGroup};

/// What the race left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// The counter after every runner's increments: `gs * iters` unless the mutex failed.
    pub counter: u64,
    /// How many times the `Once` ran its function: 1.
    pub inits: usize,
    /// Runners that were waiting on the `Cond` when the gate opened: all of them.
    pub woken_at_gate: usize,
}

struct Shared {
    config: Once,
    inits: AtomicUsize,
    gate: Mutex<bool>,
    opened: Cond,
    woken: AtomicUsize,
    counter: Mutex<u64>,
}

/// Run the race with `gs` runners of `iters` increments each.
pub async fn sync_primitives(gs: usize, iters: u64) -> Report {
    let s = Arc::new(Shared {
        config: Once::new(),
        inits: AtomicUsize::new(0),
        gate: Mutex::new(false),
        opened: Cond::new(),
        woken: AtomicUsize::new(0),
        counter: Mutex::new(0),
    });
    let at_gate = WaitGroup::new();
    let finished = WaitGroup::new();
    at_gate.add(gs as isize);
    finished.add(gs as isize);

    for _ in 0..gs {
        let (s, at_gate, finished) = (s.clone(), at_gate.clone(), finished.clone());
        drop(gort::go(async move {
            s.config
                .call_once(|| {
                    s.inits.fetch_add(1, Ordering::Relaxed);
                })
                .await;

            let mut open = s.gate.lock().await;
            // Counted while holding the gate's lock: the main G can only open the gate after we
            // are inside `wait`, which releases the lock only once we are on the waiter list.
            at_gate.done();
            let mut waited = false;
            while !*open {
                open = s.opened.wait(open).await;
                waited = true;
            }
            drop(open);
            if waited {
                s.woken.fetch_add(1, Ordering::Relaxed);
            }

            for _ in 0..iters {
                *s.counter.lock().await += 1;
            }
            finished.done();
        }));
    }

    at_gate.wait().await;
    *s.gate.lock().await = true;
    s.opened.broadcast();
    finished.wait().await;

    let counter = *s.counter.lock().await;
    Report {
        counter,
        inits: s.inits.load(Ordering::Relaxed),
        woken_at_gate: s.woken.load(Ordering::Relaxed),
    }
}
