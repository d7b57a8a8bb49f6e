//! A runtime under test: the handful of operations the benchmarks need, implemented for gort
//! ([`Gort`]) and for tokio's multi-thread runtime ([`Tokio`]).
//!
//! The trait is the narrowest common shape of the two: spawning from outside the runtime and from
//! inside a task, waiting for a future from outside (`block_on`), yielding, sleeping, and a
//! preemption point. Both implementations are thin forwards, so a workload written against
//! [`Peer`] measures each runtime's own machinery.
//!
//! Two deliberate asymmetries, both inherent to the runtimes:
//! - gort's `block_on` runs its future as a G on a worker (Go's main goroutine); tokio's runs it on
//!   the calling thread. The workloads therefore never block inside `block_on`; they wait for the
//!   end of a run either by awaiting join handles there, or on a `std` channel from the benchmark's
//!   own thread, which is outside both runtimes.
//! - The preemption point is `gort::coop()` for gort (yields only when sysmon asked) and
//!   `tokio::task::coop::consume_budget()` for tokio (yields every 128 calls, when the task's coop
//!   budget runs out). They are each runtime's answer to the same question.

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A future a runtime can run as a task: `Send` and `'static`, with a `Send + 'static` output.
pub trait Task: Future<Output: Send + 'static> + Send + 'static {}

impl<F: Future<Output: Send + 'static> + Send + 'static> Task for F {}

/// A runtime under test.
pub trait Peer: Sized + Send + Sync + 'static {
    /// The name criterion and the report use for this runtime's entries.
    const NAME: &'static str;

    /// The handle `spawn`/`go` return. Resolves to the task's output; panics if the task did.
    type Join<T: Send + 'static>: Future<Output = T> + Send + Unpin + 'static;

    /// A multi-threaded runtime with `workers` worker threads (gort: Ps).
    fn build(workers: usize) -> io::Result<Self>;

    /// Run `fut` to completion, waiting on the calling thread (which must be outside the runtime).
    fn block_on<F: Task>(&self, fut: F) -> F::Output;

    /// Spawn from outside the runtime (the "remote" path: the global / inject queue).
    fn spawn<F: Task>(&self, fut: F) -> Self::Join<F::Output>;

    /// Spawn from inside a task (the "local" path: the current worker's queue).
    fn go<F: Task>(fut: F) -> Self::Join<F::Output>;

    /// Let every other runnable task run first.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Wait `d` on the runtime's timers.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;

    /// A preemption point that usually returns at once (see the module header).
    fn preempt_point() -> impl Future<Output = ()> + Send;
}

/// A join handle whose `Result` is unwrapped: a benchmark task that panics is a bug, so the
/// panic is surfaced rather than measured.
pub struct Joined<H>(H);

impl<H, T, E> Future for Joined<H>
where
    H: Future<Output = Result<T, E>> + Unpin,
    E: Debug,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Ready(Ok(v)) => Poll::Ready(v),
            Poll::Ready(Err(e)) => panic!("a benchmark task failed: {e:?}"),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// gort, with `procs(workers)`.
pub struct Gort(gort::Runtime);

impl Gort {
    /// A runtime built by the caller (for settings the benchmarks do not vary, such as sysmon).
    pub fn from_runtime(rt: gort::Runtime) -> Gort {
        Gort(rt)
    }

    /// The runtime itself, for workloads the [`Peer`] trait does not cover (sockets).
    pub fn runtime(&self) -> &gort::Runtime {
        &self.0
    }

    /// The scheduler's counters, for explaining a result.
    pub fn stats(&self) -> gort::Stats {
        self.0.stats()
    }
}

impl Peer for Gort {
    const NAME: &'static str = "gort";
    type Join<T: Send + 'static> = Joined<gort::JoinHandle<T>>;

    fn build(workers: usize) -> io::Result<Self> {
        gort::Builder::new().procs(workers).build().map(Gort)
    }

    fn block_on<F: Task>(&self, fut: F) -> F::Output {
        self.0.block_on(fut)
    }

    fn spawn<F: Task>(&self, fut: F) -> Self::Join<F::Output> {
        Joined(self.0.go(fut))
    }

    fn go<F: Task>(fut: F) -> Self::Join<F::Output> {
        Joined(gort::go(fut))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        gort::yield_now()
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        gort::time::sleep(d)
    }

    fn preempt_point() -> impl Future<Output = ()> + Send {
        gort::coop()
    }
}

/// tokio's multi-thread runtime with `worker_threads(workers)` and every driver enabled.
pub struct Tokio(tokio::runtime::Runtime);

impl Tokio {
    /// The runtime itself, for workloads the [`Peer`] trait does not cover (sockets).
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.0
    }
}

impl Peer for Tokio {
    const NAME: &'static str = "tokio";
    type Join<T: Send + 'static> = Joined<tokio::task::JoinHandle<T>>;

    fn build(workers: usize) -> io::Result<Self> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .map(Tokio)
    }

    fn block_on<F: Task>(&self, fut: F) -> F::Output {
        self.0.block_on(fut)
    }

    fn spawn<F: Task>(&self, fut: F) -> Self::Join<F::Output> {
        Joined(self.0.spawn(fut))
    }

    fn go<F: Task>(fut: F) -> Self::Join<F::Output> {
        Joined(tokio::spawn(fut))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }

    fn preempt_point() -> impl Future<Output = ()> + Send {
        tokio::task::coop::consume_budget()
    }
}
