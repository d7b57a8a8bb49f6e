//! # hello — Gs spread over Ps
//!
//! Run: `cargo run --release --example hello`
//! Try: `GORTMAXPROCS=1 cargo run --release --example hello`, and
//!      `GORTDEBUG=schedtrace=5 cargo run --release --example hello` to see Go's SCHED lines.
//!
//! What to watch for: the main G spawns 16 Gs with `gort::go`. Each one does a little work and
//! reports which P ran it. With one P everything runs on P0; with more, idle Ps steal work from the
//! spawning P's run queue, so the Gs spread out. The stats at the end show how many Gs were stolen.
//!
//! Chapter: the runtime — G, M, P, and how Gs find their way onto Ps.

use std::time::Duration;

fn main() {
    gort::run(async {
        let st = gort::stats();
        println!("gort: {} Ps (set GORTMAXPROCS to change)", st.gomaxprocs);
        let handles: Vec<_> = (0..16u64)
            .map(|i| {
                gort::go(async move {
                    // A bit of CPU work, then a short sleep: the G parks on a timer and is woken by
                    // whichever M runs that P's timers.
                    let mut x = i;
                    for k in 0..200_000u64 {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(k);
                    }
                    gort::time::sleep(Duration::from_millis(1)).await;
                    (
                        gort::current_g().unwrap_or(0),
                        gort::current_p(),
                        std::hint::black_box(x),
                    )
                })
            })
            .collect();
        for h in handles {
            match h.await {
                Ok((g, p, _)) => match p {
                    Some(p) => println!("hello from G{g} on P{p}"),
                    None => println!("hello from G{g} (its P was taken mid-poll)"),
                },
                Err(e) => eprintln!("a G failed: {e}"),
            }
        }
        let st = gort::stats();
        println!(
            "done: {} Gs spawned, {} stolen by idle Ps, {} threads",
            st.spawned, st.steals, st.threads
        );
    });
}
