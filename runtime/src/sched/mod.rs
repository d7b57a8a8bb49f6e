//! The scheduler core: Go's runtime/proc.go and runtime2.go. Read the files in this order (design.md's
//! "Reading order" walks the same path):
//!
//! 1. `g/` — the G: a spawned future in one allocation, its state word, its waker, its `JoinHandle`.
//! 2. `getg.rs` — how running code finds its M and P (Go's `getg()`).
//! 3. `runq.rs` — a P's local run queue (`runqput`, `runqget`, `runqsteal`).
//! 4. `p.rs` — the P and its status (`_Pidle`, `_Prunning`, `_Psyscall`) with named transitions.
//! 5. `schedt.rs` — the M and the global state (`schedt`, the global queue, the idle lists).
//! 6. `proc.rs` — `schedule`, `findRunnable`, `stealWork`, `execute`: the scheduler loop.
//! 7. `wakep.rs` — `ready`, `wakep`, `startm`, `stopm`, `handoffp`: Ms and Ps changing hands.
//! 8. `note.rs` — where an idle M sleeps.
//! 9. `coop.rs` — preemption points and `yield_now` (Go's `goyield`).
//! 10. `timer.rs` — a P's timer heap (`checkTimers`).
//! 11. `netpoll.rs` — the scheduler's side of the netpoller.
//! 12. `syscall.rs` — blocking sections (`entersyscall`/`exitsyscall`).
//! 13. `sysmon.rs` — the monitor thread: preemption, retaking Ps, polling the network.
//! 14. `boot.rs` — starting and stopping a runtime (`schedinit`, `runtime.main`).
//! 15. `allgs.rs`, `stats.rs`, `schedtrace.rs` — the list of all Gs, counters, `GODEBUG=schedtrace`.
//! 16. `traceback.rs`, `checkdead.rs` — goroutine dumps (`GOTRACEBACK`) and deadlock detection.

pub(crate) mod allgs;
pub(crate) mod boot;
pub(crate) mod checkdead;
pub(crate) mod coop;
pub(crate) mod g;
pub(crate) mod getg;
pub(crate) mod netpoll;
pub(crate) mod note;
pub(crate) mod p;
pub(crate) mod proc;
pub(crate) mod runq;
pub(crate) mod schedt;
pub(crate) mod schedtrace;
pub(crate) mod stats;
pub(crate) mod syscall;
pub(crate) mod sysmon;
pub(crate) mod timer;
pub(crate) mod traceback;
pub(crate) mod wakep;

pub(crate) use p::P;
pub(crate) use schedt::*;
