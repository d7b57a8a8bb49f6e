//! gort's netpoller: Go's runtime/netpoll.go rebuilt over [`mio`], knowing nothing of the scheduler.
//!
//! Go parks a goroutine whose socket would block and lets the scheduler ask the OS, from time to time,
//! which sockets became ready. This crate is that machinery, with `std::task::Waker`s where Go has Gs:
//!
//! - [`Poller`] (`netpoll.rs`) owns the OS event queue (epoll or kqueue). The scheduler calls
//!   [`Poller::poll`] from its search for work (Go's `findRunnable`) and wakes the Wakers it returns;
//!   [`Poller::wake`] interrupts a blocked poll (Go's `netpollBreak`).
//! - [`PollDesc`] (`polldesc.rs`) is one registered fd (Go's `pollDesc`): after an operation returns
//!   `WouldBlock`, [`PollDesc::poll_wait`] either says "retry" or parks the task's Waker. It also holds the
//!   fd's deadlines and closed state.
//! - `pollsema.rs` is the lock-free wait slot behind each direction (Go's `rg`/`wg`), model-checked with
//!   loom; `pollcache.rs` stores descriptors and tags event tokens so stale events cannot wake a newer fd;
//!   `sys.rs` holds what differs between Linux and the BSDs.
//!
//! The OS queue is edge-triggered: an fd is reported when it *becomes* ready, once. So the operation
//! itself (read, write, accept) is always the source of truth, and waiting is only ever done after it
//! returned `WouldBlock`.
//!
//! The wait-slot protocol is model-checked with loom:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p netpoll --release --lib --target-dir target/loom`.
//!
//! ```
//! use std::io::{self, Read, Write};
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Arc;
//! use std::task::{Context, Wake, Waker};
//! use std::time::Duration;
//!
//! use netpoll::{Direction, Poller};
//!
//! /// A Waker that records that it was woken (a runtime's would make the task runnable).
//! struct Flag(AtomicBool);
//! impl Wake for Flag {
//!     fn wake(self: Arc<Self>) {
//!         self.0.store(true, Ordering::SeqCst);
//!     }
//! }
//!
//! # fn main() -> io::Result<()> {
//! let poller = Poller::new()?;
//! let (mut a, mut b) = mio::net::UnixStream::pair()?;
//! let pd = poller.register(&mut a)?;
//!
//! let flag = Arc::new(Flag(AtomicBool::new(false)));
//! let waker = Waker::from(flag.clone());
//! let mut cx = Context::from_waker(&waker);
//!
//! // A task reads, finds nothing, and parks.
//! let mut buf = [0u8; 5];
//! assert_eq!(a.read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
//! assert!(pd.poll_wait(Direction::Read, &mut cx).is_pending());
//! assert_eq!(poller.waiters(), 1);
//!
//! // Data arrives; the scheduler polls and wakes what became ready.
//! b.write_all(b"hello")?;
//! let mut ready = Vec::new();
//! for _ in 0..100 {
//!     if poller.poll(Some(Duration::from_millis(100)), &mut ready)? > 0 {
//!         break;
//!     }
//! }
//! ready.drain(..).for_each(Waker::wake);
//! assert!(flag.0.load(Ordering::SeqCst));
//!
//! // The woken task retries its read.
//! a.read_exact(&mut buf)?;
//! assert_eq!(&buf, b"hello");
//! # Ok(())
//! # }
//! ```

// The loom shim, shared with gort's `util::loom` (see its header); plumbing, not part of the API.
#[doc(hidden)]
pub mod loom;
mod netpoll;
mod pollcache;
mod polldesc;
mod pollsema;
mod sys;
#[cfg(test)]
mod testwaker;

pub use netpoll::Poller;
pub use polldesc::{Direction, PollDesc};

// The runtime shares the poller and descriptors across its threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Poller>();
    send_sync::<PollDesc>();
};
