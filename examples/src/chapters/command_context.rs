//! A child process bounded by a deadline: Go's `exec.CommandContext` (Go book, processes chapter;
//! os/exec/exec.go: `CommandContext`, `Cmd.Wait`).
//!
//! The program starts two children under contexts with the same timeout: one finishes in time and
//! exits normally; the other would run far longer and is killed with SIGKILL when its context's
//! deadline passes. The G waiting for it is parked on the child's pidfd and on the context's done
//! channel at once; whichever fires first wakes it — the deadline, here — and it kills the child
//! and goes on waiting for the killed status.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use gort::context::{self, ContextError};
use gort::process::Command;

/// One child's fate.
#[derive(Debug)]
pub struct Run {
    /// What it was asked to do (`sleep <secs>`).
    pub sleep: Duration,
    pub status: ExitStatus,
    /// The signal that ended it, if one did (9 = SIGKILL).
    pub signal: Option<i32>,
    /// How long after the context's deadline its wait returned (zero if before).
    pub after_deadline: Duration,
    /// The context's error once the wait returned (`DeadlineExceeded` if it fired).
    pub ctx_err: Option<ContextError>,
}

/// Run `sleep quick` and `sleep slow`, each under a context that times out after `limit`.
pub async fn command_context(
    limit: Duration,
    quick: Duration,
    slow: Duration,
) -> io::Result<[Run; 2]> {
    let a = gort::go(one(limit, quick));
    let b = gort::go(one(limit, slow));
    let a = a.await.map_err(io::Error::other)??;
    let b = b.await.map_err(io::Error::other)??;
    Ok([a, b])
}

async fn one(limit: Duration, sleep: Duration) -> io::Result<Run> {
    let (ctx, _cancel) = context::with_timeout(&context::background(), limit);
    let deadline = ctx.deadline().unwrap_or_else(Instant::now);
    let mut child = Command::new("sleep")
        .arg(format!("{:.3}", sleep.as_secs_f64()))
        .context(ctx.clone())
        .spawn()?;
    let status = child.wait().await?;
    Ok(Run {
        sleep,
        status,
        signal: status.signal(),
        after_deadline: Instant::now().saturating_duration_since(deadline),
        ctx_err: ctx.err(),
    })
}
