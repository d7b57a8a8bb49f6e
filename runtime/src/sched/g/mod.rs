//! The G: a spawned future and everything the scheduler needs to run it.
//!
//! Mirrors Go's `g` struct (runtime/runtime2.go) and the parts of runtime/proc.go that create a G,
//! make it runnable and end it (`newproc1`, `ready`, `goexit`). In Go a G is a stack plus saved
//! registers; here it is a future, so "running a G" means calling `poll` once, and "parking" means
//! `poll` returned `Pending` after handing a `Waker` to whatever will wake it.
//!
//! # One allocation
//! A G is a single heap block, `Cell<F>`: a type-erased [`Header`] followed by the future (later its
//! output). The header holds the state word, a vtable for the typed operations, the G's id and the
//! status fields that schedtrace and the tracer print. A `Waker` is just a pointer to the header, so
//! waking a G never allocates, and a run queue slot is one pointer.
//!
//! # The files, in reading order
//! - `state.rs` — the state word: flags plus a reference count, every transition one compare-and-swap;
//!   Go's status numbers, kept for observability.
//! - `raw.rs` — the heap block (`Header`, `Cell<F>`, the vtable), [`GRef`] (the pointer run queues
//!   hold) and one run of a G (`GRef::run`: poll, then park, requeue or finish).
//! - `waker.rs` — the `Waker` whose data is the header; waking is Go's `ready`.
//! - `join.rs` — [`JoinHandle`] and [`JoinError`]: the G's output, or its panic, for whoever awaits it.
//! - `wait_reason.rs` — [`WaitReason`], Go's `waitReason` words, and [`set_waitreason`].
//! - `tests.rs` (also run under Miri) and `loom_tests.rs` (loom models of the races between a wake,
//!   a poll, a join and an abort).
//!
//! # Where this differs from Go
//! Go's `g` also carries a stack, scheduling context (saved registers), GC and preemption state, and
//! dead Gs are recycled. Here the future is the stack, `poll` is the context switch, preemption is
//! cooperative (`coop.rs`), and the block is freed when its last reference goes. Each file says where
//! its part differs.

mod join;
mod raw;
mod state;
mod wait_reason;
mod waker;

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

pub use join::{JoinError, JoinHandle};
pub(crate) use raw::{gflags, GRef, Header, Origin, PollResult};
pub(crate) use state::status;
pub(crate) use wait_reason::set_waitreason;
pub use wait_reason::WaitReason;
