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

pub(crate) mod loom;
pub(crate) mod rand;

// The scheduler (Go's runtime/proc.go and runtime2.go).
pub(crate) mod allgs;
mod boot;
mod coop;
pub(crate) mod g;
pub(crate) mod getg;
pub(crate) mod note;
pub(crate) mod proc;
pub(crate) mod runq;
pub(crate) mod sched;
mod schedtrace;
mod stats;
mod syscall;
mod sysmon;
pub(crate) mod timer;

// Channels and select (Go's runtime/chan.go, runtime/select.go).
pub mod chan;
mod select;
#[doc(hidden)]
pub use select::__private;

// Around the scheduler.
pub(crate) mod netpoll;
pub mod signal;
pub mod time;
pub mod trace;

// I/O on the netpoller and in blocking sections (Go's net, io, bufio, os).
pub mod fs;
pub mod io;
pub mod net;

// Synchronisation (Go's sync and context packages, over runtime/sema.go).
pub mod context;
mod sema;
pub mod sync;

pub use boot::{go, run, Builder, Runtime};
pub use coop::{coop, yield_now, Coop, YieldNow};
pub use g::{JoinError, JoinHandle, WaitReason};
pub use getg::{current_g, current_p};
pub use stats::{stats, Stats};
pub use syscall::{blocking, spawn_blocking};

/// The README's code runs as a doctest, so the first thing a reader copies always compiles and works.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
