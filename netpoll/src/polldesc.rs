//! The poll descriptor: what the poller knows about one registered fd. Mirrors Go's `pollDesc` and the
//! `poll_runtime_poll*` functions behind `internal/poll.FD` (runtime/netpoll.go: `poll_runtime_pollWait`,
//! `netpollcheckerr`, `poll_runtime_pollSetDeadline`, `poll_runtime_pollUnblock`).
//!
//! A descriptor has a wait slot per direction ([`PollSema`], Go's `rg`/`wg`), a `closing` flag and a
//! deadline per direction. [`PollDesc::poll_wait`] is the whole protocol a caller needs after an operation
//! returned `WouldBlock`: check the error state, then consume recorded readiness or park.
//!
//! ## Where this differs from Go and why
//! - Deadlines are *stored and checked* here but *timed* by the runtime. Go's pollDesc owns a timer per
//!   direction whose callback sets `rd = -1` and unblocks the waiter. Timers belong to the scheduler
//!   (Go keeps them on each P), and this crate knows nothing of it. So a wait checks `deadline <= now`
//!   itself, and a deadline change wakes the current waiter so its task re-checks and re-arms its timer.
//!   When that timer fires it just wakes the task, whose next wait finds the deadline passed.
//! - Deadlines are atomics holding nanoseconds since the poller's creation plus one (0 = none), because an
//!   `Instant` cannot be stored atomically; Go stores `int64` nanotime for the same reason.
//! - Go frees a pollDesc explicitly (`poll_runtime_pollClose`); ours is freed when the last handle drops.

use std::fmt;
use std::io;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use mio::Token;

use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use crate::loom::sync::Arc;
use crate::netpoll::Shared;
use crate::pollsema::{Blocked, PollSema};

/// Which half of a full-duplex descriptor an operation waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Readable: data, EOF (the peer shut down its half) or an error. Go's `'r'` mode.
    Read,
    /// Writable: buffer space, a hang-up or an error. Go's `'w'` mode.
    Write,
}

/// The state the poller and the waiters share for one fd. The poller's table and every [`PollDesc`] handle
/// point at it.
pub(crate) struct PdCore {
    rg: PollSema,
    wg: PollSema,
    closing: AtomicBool,
    /// An event said the read side is finished (EOF or error): sticky, like tokio's closed
    /// readiness. A caller that skips a read until the next event must not skip this one.
    read_final: AtomicBool,
    /// Read and write deadlines, encoded by [`encode`].
    rd: AtomicU64,
    wd: AtomicU64,
    /// Origin of the deadline encoding: the poller's creation.
    epoch: Instant,
}

impl PdCore {
    pub(crate) fn new(epoch: Instant) -> PdCore {
        PdCore {
            rg: PollSema::new(),
            wg: PollSema::new(),
            closing: AtomicBool::new(false),
            read_final: AtomicBool::new(false),
            rd: AtomicU64::new(0),
            wd: AtomicU64::new(0),
            epoch,
        }
    }

    fn sema(&self, dir: Direction) -> &PollSema {
        match dir {
            Direction::Read => &self.rg,
            Direction::Write => &self.wg,
        }
    }

    fn deadline_word(&self, dir: Direction) -> &AtomicU64 {
        match dir {
            Direction::Read => &self.rd,
            Direction::Write => &self.wd,
        }
    }

    /// Go's `netpollcheckerr`: closed beats timed out, as in Go.
    fn check_err(&self, dir: Direction) -> io::Result<()> {
        if self.closing.load(Acquire) {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "use of closed network connection",
            ));
        }
        let d = self.deadline_word(dir).load(Acquire);
        if d != 0 && d <= encode(self.epoch, Instant::now()) {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "i/o timeout"));
        }
        Ok(())
    }

    /// Go's `poll_runtime_pollWait`: the loop runs again only after a `Recheck`, which means the error state
    /// changed (so the next check returns it) or a deadline moved while we were parking.
    pub(crate) fn wait(
        &self,
        dir: Direction,
        waker: &Waker,
        waiters: &AtomicUsize,
        still_parked: bool,
    ) -> Poll<io::Result<()>> {
        loop {
            if let Err(e) = self.check_err(dir) {
                return Poll::Ready(Err(e));
            }
            match self.sema(dir).block_with(waker, waiters, still_parked, || {
                self.check_err(dir).is_err()
            }) {
                Blocked::Ready => return Poll::Ready(Ok(())),
                Blocked::Parked => return Poll::Pending,
                Blocked::Recheck => continue,
            }
        }
    }

    pub(crate) fn set_read_final(&self) {
        self.read_final.store(true, Release);
    }

    /// Withdraw the direction's parked Waker after its wait was abandoned.
    pub(crate) fn cancel_wait(&self, dir: Direction, waiters: &AtomicUsize) -> Option<Waker> {
        self.sema(dir).cancel(waiters)
    }

    /// Go's `netpollready`: an event made the fd readable and/or writable.
    pub(crate) fn ready(
        &self,
        readable: bool,
        writable: bool,
        waiters: &AtomicUsize,
        out: &mut Vec<Waker>,
    ) -> usize {
        let mut n = 0;
        for (yes, sema) in [(readable, &self.rg), (writable, &self.wg)] {
            if yes {
                if let Some(w) = sema.unblock(true, waiters) {
                    out.push(w);
                    n += 1;
                }
            }
        }
        n
    }

    /// Store the deadline first, then unblock: the unblock's RMW publishes the store to any waiter that
    /// takes the slot after it (see `pollsema.rs`, invariant 3).
    pub(crate) fn set_deadline(
        &self,
        dir: Direction,
        deadline: Option<Instant>,
        waiters: &AtomicUsize,
    ) -> Option<Waker> {
        let word = deadline.map_or(0, |d| encode(self.epoch, d));
        self.deadline_word(dir).store(word, Release);
        self.sema(dir).unblock(false, waiters)
    }

    fn deadline(&self, dir: Direction) -> Option<Instant> {
        decode(self.epoch, self.deadline_word(dir).load(Acquire))
    }

    /// Go's `poll_runtime_pollUnblock`: mark closing, then take both waiters for the caller to wake.
    pub(crate) fn close(&self, waiters: &AtomicUsize) -> [Option<Waker>; 2] {
        self.closing.store(true, Release);
        self.notify(waiters)
    }

    /// Wake both waiters without readiness or an error, so each runs its wait again and re-checks
    /// whatever its caller checks (an unblock like a deadline change's, whose RMW publishes what the
    /// caller stored before it).
    pub(crate) fn notify(&self, waiters: &AtomicUsize) -> [Option<Waker>; 2] {
        [
            self.rg.unblock(false, waiters),
            self.wg.unblock(false, waiters),
        ]
    }

    #[cfg(test)]
    pub(crate) fn is_parked(&self, dir: Direction) -> bool {
        self.sema(dir).is_parked()
    }
}

/// A deadline as nanoseconds since `epoch`, plus one so that 0 can mean "none". Deadlines before the epoch
/// become 1 (long passed, as they are); ones beyond ~584 years saturate. Monotone, so comparing encodings
/// compares instants.
fn encode(epoch: Instant, at: Instant) -> u64 {
    let nanos = at.saturating_duration_since(epoch).as_nanos();
    u64::try_from(nanos).unwrap_or(u64::MAX).min(u64::MAX - 1) + 1
}

fn decode(epoch: Instant, word: u64) -> Option<Instant> {
    match word {
        0 => None,
        // A deadline too far to represent as an `Instant` is, in effect, none.
        w => epoch.checked_add(Duration::from_nanos(w - 1)),
    }
}

/// A handle to one registered fd, Go's `*pollDesc` as `internal/poll.FD` holds it. Cloning is cheap; the
/// descriptor's slot in the poller is freed when the last handle is dropped.
///
/// Use it only after an operation on the fd returned `WouldBlock` (the fd is edge-triggered: readiness is
/// reported once per change, so the operation itself is the source of truth). One task at a time may wait
/// in each direction.
#[derive(Clone)]
pub struct PollDesc {
    inner: Arc<Handle>,
}

struct Handle {
    core: Arc<PdCore>,
    token: Token,
    shared: Arc<Shared>,
}

impl PollDesc {
    pub(crate) fn new(core: Arc<PdCore>, token: Token, shared: Arc<Shared>) -> PollDesc {
        PollDesc {
            inner: Arc::new(Handle {
                core,
                token,
                shared,
            }),
        }
    }

    pub(crate) fn token(&self) -> Token {
        self.inner.token
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    #[cfg(all(test, not(loom)))]
    pub(crate) fn core(&self) -> &PdCore {
        &self.inner.core
    }

    /// Go's `netpollblock` + `netpollcheckerr`, for use after an operation returned `WouldBlock`:
    ///
    /// - closed ([`close`](Self::close)): `Ready(Err)` of kind `NotConnected`, "use of closed network
    ///   connection";
    /// - the direction's deadline has passed: `Ready(Err)` of kind `TimedOut`, "i/o timeout";
    /// - readiness was recorded since the last wait: it is consumed and the result is `Ready(Ok(()))`, so
    ///   retry the operation;
    /// - otherwise `cx`'s waker is stored and the result is `Pending`. It is woken by the next event in that
    ///   direction, by `close`, or by `set_deadline`; an event racing this call is never lost.
    pub fn poll_wait(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner
            .core
            .wait(dir, cx.waker(), &self.inner.shared.waiters, false)
    }

    /// [`poll_wait`](Self::poll_wait) for a caller whose previous `poll_wait` in `dir` returned
    /// `Pending` and that is polled again without having tried its operation since: `Pending` if
    /// its Waker is still parked (nothing happened, and trying the operation would only give
    /// EAGAIN), `Ready(Ok(()))` if an event, a close or a deadline change has woken it since (retry
    /// the operation). Errors as for `poll_wait`.
    pub fn poll_wait_again(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner
            .core
            .wait(dir, cx.waker(), &self.inner.shared.waiters, true)
    }

    /// Withdraw the Waker a `poll_wait` in `dir` parked, when the wait is abandoned (the waiting
    /// future was dropped: a timeout, a lost select). Without it the Waker would stay until the next
    /// event, close or deadline change, keeping its task alive and counted as a network waiter. Only
    /// the direction's one waiter may call it. Does nothing if nothing is parked.
    pub fn cancel_wait(&self, dir: Direction) {
        let inner = &self.inner;
        drop(inner.core.cancel_wait(dir, &inner.shared.waiters));
    }

    /// Go's `SetReadDeadline` / `SetWriteDeadline` (`poll_runtime_pollSetDeadline`): store `deadline`
    /// (`None` clears it) and wake the direction's current waiter, which then either times out or must
    /// re-arm its timer for the new deadline. The timer itself is the runtime's job.
    pub fn set_deadline(&self, dir: Direction, deadline: Option<Instant>) {
        let inner = &self.inner;
        if let Some(w) = inner
            .core
            .set_deadline(dir, deadline, &inner.shared.waiters)
        {
            w.wake();
        }
    }

    /// The direction's current deadline, if any.
    pub fn deadline(&self, dir: Direction) -> Option<Instant> {
        self.inner.core.deadline(dir)
    }

    /// Go's `pollErrClosing` (`poll_runtime_pollUnblock`): mark the descriptor closed and wake both
    /// waiters, whose next `poll_wait` returns the error. Idempotent.
    pub fn close(&self) {
        let inner = &self.inner;
        for w in inner
            .core
            .close(&inner.shared.waiters)
            .into_iter()
            .flatten()
        {
            w.wake();
        }
    }

    /// Whether an event has reported the read side finished (the peer's EOF, or an error): from
    /// then on a read returns at once, so it must not wait for another event, which may never come.
    pub fn read_final(&self) -> bool {
        self.inner.core.read_final.load(Acquire)
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.inner.core.closing.load(Acquire)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // Nobody can wait on this descriptor any more. A Waker still parked belongs to a future that was
        // dropped mid-wait; waking it is harmless, and keeps the waiter count exact.
        for w in self.core.close(&self.shared.waiters).into_iter().flatten() {
            w.wake();
        }
        self.shared.free(self.token);
    }
}

impl fmt::Debug for PollDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollDesc")
            .field("token", &self.inner.token)
            .field("closed", &self.is_closed())
            .field("read_deadline", &self.deadline(Direction::Read))
            .field("write_deadline", &self.deadline(Direction::Write))
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! `poll_wait`'s whole loop (error check, block, re-check) against the unblocks that carry no I/O.
    use super::*;
    use crate::testwaker::counting_waker;

    struct Fd {
        core: PdCore,
        waiters: AtomicUsize,
    }

    /// `other` runs on a second thread while the main thread waits to read; a waiter left parked must
    /// have been woken, and once woken its next wait must return what `expect` says.
    fn race(other: fn(&Fd), expect: io::ErrorKind) {
        loom::model(move || {
            let fd = Arc::new(Fd {
                core: PdCore::new(Instant::now()),
                waiters: AtomicUsize::new(0),
            });
            let (count, waker) = counting_waker();
            let fd2 = fd.clone();
            let t = loom::thread::spawn(move || other(&fd2));
            let got = fd.core.wait(Direction::Read, &waker, &fd.waiters, false);
            t.join().unwrap();
            let got = match got {
                Poll::Pending => {
                    assert_eq!(count.get(), 1, "lost wake-up");
                    fd.core.wait(Direction::Read, &waker, &fd.waiters, false)
                }
                ready => ready,
            };
            match got {
                Poll::Ready(Err(e)) => assert_eq!(e.kind(), expect),
                other => panic!("expected {expect:?}, got {other:?}"),
            }
            assert!(!fd.core.is_parked(Direction::Read));
            assert_eq!(fd.waiters.load(Acquire), 0);
        });
    }

    #[test]
    fn close_racing_poll_wait_is_never_lost() {
        race(
            |fd| {
                for w in fd.core.close(&fd.waiters).into_iter().flatten() {
                    w.wake();
                }
            },
            io::ErrorKind::NotConnected,
        );
    }

    #[test]
    fn past_deadline_racing_poll_wait_is_never_lost() {
        race(
            |fd| {
                // The epoch itself is already in the past.
                if let Some(w) =
                    fd.core
                        .set_deadline(Direction::Read, Some(fd.core.epoch), &fd.waiters)
                {
                    w.wake();
                }
            },
            io::ErrorKind::TimedOut,
        );
    }
}
