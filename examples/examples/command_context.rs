//! # command_context — a child process killed by its context's deadline
//!
//! Run: `cargo run --release --example command_context -- --limit-ms 300`
//!
//! What to watch for: two children (`sleep 0.05` and `sleep 10`), each under a context that times
//! out after `--limit-ms`. The quick one exits 0 before its deadline; the slow one is killed with
//! SIGKILL (signal 9) a few milliseconds after its deadline, and its context reports
//! `DeadlineExceeded`. The program takes `--limit-ms`, not ten seconds.
//!
//! Chapter: Go book, processes (`exec.CommandContext`); runtime story: the wait parks on the
//! child's pidfd and the context's done channel at once (`runtime/src/process/exit.rs`).

use std::error::Error;
use std::time::Duration;

use examples::chapters::{arg, command_context::command_context};

#[gort::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let limit = Duration::from_millis(arg("--limit-ms", 300));
    let runs = command_context(limit, Duration::from_millis(50), Duration::from_secs(10)).await?;
    for r in &runs {
        let how = match r.signal {
            Some(sig) => format!("killed by signal {sig}"),
            None => format!("exited {}", r.status.code().unwrap_or(-1)),
        };
        println!(
            "sleep {:?} under a {limit:?} deadline: {how}; {:?} after the deadline; ctx.err() = {:?}",
            r.sleep, r.after_deadline, r.ctx_err
        );
    }
    Ok(())
}
