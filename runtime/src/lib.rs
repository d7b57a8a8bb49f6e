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

// Synchronisation (Go's sync and context packages, over runtime/sema.go).
pub mod context;
pub mod sync;

pub use sched::boot::{go, run, Builder, Go, Runtime};
pub use sched::coop::{coop, yield_now, Coop, YieldNow};
pub use sched::g::{JoinError, JoinHandle, WaitReason};
pub use sched::getg::{current_g, current_p};
pub use sched::stats::{stats, Stats};
pub use sched::syscall::{blocking, spawn_blocking};

/// The README's code runs as a doctest, so the first thing a reader copies always compiles and works.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
