//! # deadlock — the classic mistakes, and what the runtime says about them
//!
//! Run one of:
//! - `cargo run -p examples --example deadlock -- close`
//! - `cargo run -p examples --example deadlock -- send`
//! - `cargo run -p examples --example deadlock -- wg`
//! - `cargo run -p examples --example deadlock -- quit` (then press Ctrl-\ or `kill -QUIT <pid>`)
//!
//! Each deadlocked program ends, as a Go program does, with
//! `fatal error: all goroutines are asleep - deadlock!`, a dump of every goroutine, and exit
//! status 2 (`echo $?`). The runtime notices when its last M goes idle with nothing left that could
//! wake a G: no timer, no socket, no signal listener, no blocking section (design.md, "When a
//! program goes wrong"). What to watch for in each dump:
//!
//! 1. `close` — ranging over a channel nobody closes. Three workers each send a result and finish,
//!    but `main` still holds a `Sender` (gort closes a channel when its last sender is dropped; here
//!    one never is), so `while let Some(..) = rx.recv().await` waits for a fourth value forever:
//!    ```text
//!    goroutine 1 [chan receive]:
//!    name: main
//!    created by examples/examples/deadlock.rs:…
//!    ```
//!    The workers are gone from the dump: they finished. The fix: `drop(tx)` before the loop.
//! 2. `send` — an unbuffered send with no receiver. A named G, `reporter`, sends on a channel of
//!    capacity 0 whose receiver `main` never reads (it waits for the reporter instead): the send
//!    waits for a receiver that never comes, and `main` waits for the sender.
//!    ```text
//!    goroutine 1 [join]:          (main, awaiting the reporter's JoinHandle)
//!    goroutine 2 [chan send]:
//!    name: reporter
//!    created by examples/examples/deadlock.rs:… in goroutine 1
//!    ```
//!    The fix: a buffer (`channel(1)`), or receive before joining.
//! 3. `wg` — a `WaitGroup` never done. `add(3)` but only two workers call `done()`; `main` waits in
//!    `sync.WaitGroup.Wait`, the words Go prints for the same mistake. The fix: one `add` per
//!    `done`, made before the spawn.
//! 4. `quit` — not a deadlock: a G waits on a channel while `main` sleeps, so the runtime stays
//!    quiet (a timer is pending). SIGQUIT (Ctrl-\) prints `SIGQUIT: quit` and the same dump, and
//!    exits 2: how to see what a stuck server is doing. `GORTTRACEBACK=none` prints the message
//!    alone; `GORTDEBUG=checkdead=0` turns the detector off (the `send` program then hangs, as it
//!    would without one).

use std::time::Duration;

use gort::chan::channel;
use gort::sync::WaitGroup;

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    match which.as_str() {
        "close" => gort::run(forgot_to_close()),
        "send" => gort::run(send_without_receiver()),
        "wg" => gort::run(waitgroup_never_done()),
        "quit" => gort::run(wait_for_sigquit()),
        _ => {
            eprintln!("usage: deadlock close|send|wg|quit");
            std::process::exit(64);
        }
    }
}

async fn forgot_to_close() {
    let (tx, rx) = channel::<u32>(0);
    for i in 1..=3 {
        let tx = tx.clone();
        gort::go(async move {
            let _ = tx.send(i * i).await;
        });
    }
    // Mistake: `tx` is still alive here, so the channel never closes.
    while let Some(v) = rx.recv().await {
        println!("result {v}");
    }
    println!("unreachable: the channel never closes");
}

async fn send_without_receiver() {
    let (tx, rx) = channel::<&str>(0);
    let reporter = gort::Go::new().name("reporter").spawn(async move {
        let _ = tx.send("done").await;
    });
    // Mistake: wait for the sender before receiving what it sends.
    let _ = reporter.await;
    println!("unreachable: {:?}", rx.recv().await);
}

async fn waitgroup_never_done() {
    let wg = WaitGroup::new();
    wg.add(3);
    for i in 0..2 {
        let wg = wg.clone();
        gort::Go::new()
            .name(format!("worker {i}"))
            .spawn(async move { wg.done() });
    }
    // Mistake: three adds, two dones.
    wg.wait().await;
    println!("unreachable: the WaitGroup never reaches zero");
}

async fn wait_for_sigquit() {
    let (_tx, rx) = channel::<()>(0);
    gort::Go::new()
        .name("idle listener")
        .spawn(async move { rx.recv().await });
    println!(
        "pid {}: press Ctrl-\\ (or kill -QUIT {}) for a goroutine dump",
        std::process::id(),
        std::process::id()
    );
    gort::time::sleep(Duration::from_secs(600)).await;
}
