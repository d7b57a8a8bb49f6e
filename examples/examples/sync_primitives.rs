//! # sync_primitives — Mutex, WaitGroup, Once and Cond in one small race
//!
//! Run: `cargo run --release --example sync_primitives -- --gs 16 --iters 10000`
//!
//! What to watch for: the configuration is initialised once however many Gs ask (`Once`); every
//! runner is waiting at the starting gate when the main G opens it, and one `broadcast` wakes them
//! all (`Cond`); the shared counter ends at exactly `gs x iters` although every runner increments
//! it at the same time (`Mutex`); and the main G knows when everybody is done without polling
//! (`WaitGroup`).
//!
//! Chapter: Go book ch. 15, the `sync` package; runtime story: Gs parking on the runtime semaphore
//! (`runtime/src/sync/sema.rs`, `runtime/src/sync/`).

use examples::chapters::{arg, sync_primitives::sync_primitives};

fn main() {
    let gs: usize = arg("--gs", 16);
    let iters: u64 = arg("--iters", 10_000);
    let r = gort::run(sync_primitives(gs, iters));
    println!("{gs} runners x {iters} increments");
    println!(
        "Once:      the configuration was initialised {} time(s)",
        r.inits
    );
    println!(
        "Cond:      {} of {gs} runners were waiting at the gate when one broadcast opened it",
        r.woken_at_gate
    );
    println!(
        "Mutex:     counter = {} (expected {}): {}",
        r.counter,
        gs as u64 * iters,
        if r.counter == gs as u64 * iters {
            "no increment lost"
        } else {
            "INCREMENTS LOST"
        }
    );
    println!("WaitGroup: the main G woke once, when the last runner said done");
}
