//! gort: Go's runtime — the M:P:G scheduler, the netpoller, sysmon, channels and select — rebuilt
//! in Rust as an async runtime. `design.md` at the repository root is the map; each module's header
//! names the Go source it mirrors.
//!
//! ```
//! let sum = gort::run(async {
//!     let handles: Vec<_> = (1..=10u64).map(|i| gort::go(async move { i * i })).collect();
//!     let mut sum = 0;
//!     for h in handles {
//!         sum += h.await.expect("G panicked");
//!     }
//!     sum
//! });
//! assert_eq!(sum, 385);
//! ```

// Shared building blocks: the loom shim, cheap random numbers, the one list of waiters, test helpers.
pub(crate) mod util;

// The scheduler core, Go's runtime/proc.go and runtime2.go, in reading order (see `sched/mod.rs`).
pub(crate) mod sched;

// Channels and select (Go's runtime/chan.go, runtime/select.go).
pub mod chan;
#[doc(hidden)]
pub use chan::select::__private;

// Around the scheduler.
pub mod debug;
pub mod signal;
pub mod time;
pub mod trace;

// I/O on the netpoller and in blocking sections (Go's net, io, bufio, os).
pub mod fs;
pub mod io;
pub mod net;
pub mod process;

// Synchronisation (Go's sync and context packages, over runtime/sema.go).
pub mod context;
pub mod sync;

pub use sched::boot::{go, run, Builder, Go, Runtime};

/// `#[gort::main]`: run an `async fn main` as the main G of a fresh runtime (`procs = N` sets the
/// number of Ps). It may return anything `main` may, including a non-`Send`
/// `Result<(), Box<dyn Error>>`: the result is turned into the exit code inside the main G.
///
/// ```no_run
/// use gort::io::AsyncWriteExt;
///
/// #[gort::main(procs = 2)]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let mut conn = gort::net::TcpStream::connect("127.0.0.1:7").await?;
///     conn.write_all(b"hello\n").await?;
///     Ok(())
/// }
/// ```
///
/// Mistakes are compile errors at the offending code: a function without `async`, arguments,
/// generics, an unknown option, `procs = 0`. (`MacroErrors` in the source checks each as a `compile_fail` doctest.)
pub use gort_macros::main;

/// `#[gort::test]`: an `async fn` test run as the main G of its own runtime (`procs = N` as for
/// [`main`]). `#[should_panic]` and `#[ignore]` go below it.
///
/// ```
/// #[gort::test(procs = 2)]
/// async fn ping_pong() {
///     let (tx, rx) = gort::chan::channel(0);
///     gort::go(async move { tx.send(1).await.unwrap() });
///     assert_eq!(rx.recv().await, Some(1));
/// }
/// ```
pub use gort_macros::test;
pub use sched::coop::{coop, yield_now, Coop, YieldNow};
pub use sched::g::{JoinError, JoinHandle, WaitReason};
pub use sched::getg::{current_g, current_p};
pub use sched::stats::{stats, Stats};
pub use sched::syscall::{blocking, spawn_blocking};

/// The compile errors of `#[gort::main]` and `#[gort::test]`, checked as doctests: each must fail to
/// compile (with a message at the user's code, which the macro crate's spans ensure).
///
/// Not `async`:
/// ```compile_fail
/// #[gort::main]
/// fn main() {}
/// ```
/// Arguments:
/// ```compile_fail
/// #[gort::test]
/// async fn t(x: u32) {}
/// ```
/// An unknown option, and zero Ps:
/// ```compile_fail
/// #[gort::main(threads = 4)]
/// async fn main() {}
/// ```
/// ```compile_fail
/// #[gort::main(procs = 0)]
/// async fn main() {}
/// ```
/// And the working forms, for contrast (a non-`Send` error type is fine):
/// ```
/// #[gort::main(procs = 1)]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let n: u32 = "42".parse()?;
///     assert_eq!(gort::go(async move { n + 1 }).await?, 43);
///     Ok(())
/// }
/// ```
#[cfg(doctest)]
pub struct MacroErrors;

/// The README's code runs as a doctest, so the first thing a reader copies always compiles and works.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
