//! Benchmarks of gort against tokio, the comparison peer, and the tools around them.
//!
//! Every workload is written once, generic over [`Peer`] (a runtime under test), and runs
//! unchanged on both runtimes with the same number of workers, so a difference in the numbers is
//! a difference of the schedulers, not of the benchmark code. Where gort lacks a primitive tokio has
//! (a oneshot channel), the workloads use [`oneshot`], a small one written here on `std` that both
//! runtimes share.
//!
//! - `benches/rt_multi_threaded.rs`: the scheduler workloads of tokio's own
//!   `benches/rt_multi_threaded.rs` ([`workloads`]).
//! - `benches/timers.rs`: how late a sleep wakes ([`lateness`]), and many concurrent sleeps.
//! - `benches/preempt_check.rs`: the cost of a preemption point when no preemption is pending.
//! - `benches/net_echo.rs`: echo over loopback sockets, gort against tokio ([`echo`]).
//! - `benches/process.rs`: spawning and waiting for 100 `true` children, `gort::process` against
//!   `tokio::process`.
//! - `benches/trace_overhead.rs`: the execution tracer's cost, on [`workloads::EXECUTOR`] and an echo.
//! - `src/bin/run-workload.rs`: one workload by name, for instruction counting
//!   (`scripts/trace_disabled_cost.sh`).
//! - `src/bin/bench-report.rs`: criterion's results as one Markdown table, gort next to tokio.

pub mod echo;
pub mod lateness;
pub mod oneshot;
pub mod peer;
pub mod report;
pub mod workloads;

pub use peer::{Gort, Peer, Task, Tokio};

/// The worker count for every comparison: the machine's parallelism (one worker per core, as both
/// runtimes default to), used for both runtimes.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Run `fut` as a tokio task on a worker and wait for it. tokio's `block_on` polls its future on the
/// calling thread, which is not a worker; gort's runs it as a G on an M. Spawning puts both runtimes'
/// workloads on their workers, so the comparison is of the schedulers, not of where `block_on` runs.
pub async fn in_task<F: Task>(fut: F) -> F::Output {
    tokio::spawn(fut).await.expect("benchmark task")
}
