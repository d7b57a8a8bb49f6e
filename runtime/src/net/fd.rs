//! A socket registered with the runtime's netpoller: Go's `internal/poll.FD` and `net.netFD`
//! (internal/poll/fd_unix.go: `FD.Read`, `FD.Write`, `FD.Accept`, `FD.Close`; fd_poll_runtime.go:
//! `pollDesc.prepare`, `pollDesc.wait`; net/fd_unix.go: `netFD.connect`).
//!
//! Every socket type in `gort::net` is a thin wrapper around a [`NetFd`]. It holds the OS socket
//! (a non-blocking mio type), the [`PollDesc`] it got when it was registered — once, for both
//! directions, at creation — the per-direction operation lock ([`FdMutex`]) and the runtime it belongs
//! to. Its one algorithm, [`NetFd::poll_io`], is Go's I/O loop:
//!
//! ```text
//!   prepare: closed? deadline passed?      -> error
//!   loop:
//!     try the system call                  -> done, unless it says EAGAIN
//!     poll_wait(dir): closed / timed out   -> error
//!                     readiness recorded   -> retry the call
//!                     parked               -> arm a timer for the deadline, return Pending
//! ```
//!
//! The system call always comes first: the poller is edge-triggered, so readiness is a hint to
//! retry, never a promise, and the call itself is the source of truth.
//!
//! ## Deadlines: the poll descriptor stores them, the runtime times them
//! `set_read_deadline` stores the deadline in the descriptor and wakes the direction's waiter. A
//! waiter that parks reads the current deadline and arms (or moves, or drops) a runtime [`Sleep`]
//! for it, so its G also wakes when the deadline comes. Whatever woke it, it retries the call, and
//! `poll_wait` reports `TimedOut` once the deadline has passed. Go's pollDesc owns one timer per
//! direction whose callback unblocks the waiter; ours lives with the waiting operation instead,
//! because timers belong to the scheduler's Ps and the netpoll crate knows nothing of them.
//! A waiter whose future is dropped while parked (by `time::timeout`, or a `select!` that chose
//! another case) withdraws its Waker from the descriptor (`PollDesc::cancel_wait`, through
//! [`Abandon`]); otherwise it would stay there until the next event, keeping the abandoned task
//! alive and counted as a network waiter. A wait that ends because a runtime timer woke it, not
//! the descriptor, withdraws it the same way.
//!
//! ## Stream reads: the drained rule
//! Go tries the read first, every time. Under HTTP keep-alive that costs a read per request that
//! returns EAGAIN: the request is read, the response written, and the next read finds nothing yet.
//! tokio avoids it by remembering readiness, and so do we, for stream sockets only: a read that
//! returned fewer bytes than the buffer holds has drained the socket (a stream read takes all
//! that is there, up to the buffer's size), so the next read waits for an event before trying
//! the call (`read_drained`). Any byte that arrives later brings a new edge-triggered event, so
//! nothing is missed. A read that parked and is polled again before anything woke it (hyper polls
//! its read again after each write) keeps waiting without trying the call
//! (`PollDesc::poll_wait_again`, which checks "still parked?" and parks in one step). One case brings no new event: the peer's EOF or an error that arrived
//! together with the data just read. The netpoller therefore keeps a sticky "read side finished"
//! flag from such events (`PollDesc::read_final`, tokio's closed readiness), and the rule is
//! skipped once it is set. Datagram sockets never use the rule: a short datagram says nothing
//! about the next one.
//!
//! ## Closing
//! [`NetFd::close`] (Go's `FD.Close`) marks the descriptor closed, which wakes the waiter of each
//! direction with "use of closed network connection", fails everything queued on the operation
//! lock, and removes the socket from the poller. The OS socket itself is closed when the last
//! handle is dropped (an `Arc`), which is also the moment Go closes it: when no operation still
//! uses it. Dropping the last handle without `close` does both.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use mio::event::Source;
use mio::unix::SourceFd;
use netpoll::{Direction, PollDesc};

use super::fd_mutex::{closed_error, FdGuard, FdMutex};
use crate::sched::g::{set_waitreason, WaitReason};
use crate::sched::Sched;
use crate::time::Sleep;
use crate::util::loom::sync::atomic::{AtomicBool, Ordering};
use crate::util::loom::sync::Arc;

/// Go's `netFD`: one registered, non-blocking socket.
pub(crate) struct NetFd<S: Source + AsRawFd> {
    sock: S,
    pd: PollDesc,
    mu: FdMutex,
    closed: AtomicBool,
    /// The last stream read returned less than it asked for, or parked: the socket is drained, so
    /// the next read waits for an event first (see "Stream reads: the drained rule").
    read_drained: AtomicBool,
    /// ... and that read parked, so a poll that is not its wake-up need not try the call again.
    read_parked: AtomicBool,
    sched: Arc<Sched>,
}

/// The runtime the caller runs in, or an error naming the fix. An error, not a panic (unlike
/// `gort::go`, which has no `Result` to return): every socket constructor returns `io::Result`
/// already, as `process::Command::spawn` does for the same mistake.
pub(crate) fn current_sched(what: &str) -> io::Result<Arc<Sched>> {
    crate::sched::boot::current().ok_or_else(|| {
        io::Error::other(format!(
            "gort::net::{what} used outside a gort runtime: sockets are registered with the \
             runtime's netpoller, so create them inside gort::run(...), Runtime::block_on(...) \
             or a G"
        ))
    })
}

impl<S: Source + AsRawFd> NetFd<S> {
    /// Go's `netFD.init` / `pollDesc.init`: register `sock` with the current runtime's poller.
    pub(crate) fn new(sock: S, what: &str) -> io::Result<NetFd<S>> {
        NetFd::with_sched(sock, current_sched(what)?)
    }

    /// Register both ends of a socket pair (`socketpair(2)`) with the current runtime.
    pub(crate) fn new_pair((a, b): (S, S), what: &str) -> io::Result<(NetFd<S>, NetFd<S>)> {
        let sched = current_sched(what)?;
        Ok((
            NetFd::with_sched(a, sched.clone())?,
            NetFd::with_sched(b, sched)?,
        ))
    }

    /// Register `sock` with `sched`'s poller (an accepted socket joins its listener's runtime).
    pub(crate) fn with_sched(mut sock: S, sched: Arc<Sched>) -> io::Result<NetFd<S>> {
        // On failure `sock` is dropped here, which closes it.
        let pd = sched.poller.register(&mut sock)?;
        Ok(NetFd {
            sock,
            pd,
            mu: FdMutex::new(),
            closed: AtomicBool::new(false),
            read_drained: AtomicBool::new(false),
            read_parked: AtomicBool::new(false),
            sched,
        })
    }

    pub(crate) fn sock(&self) -> &S {
        &self.sock
    }

    pub(crate) fn sched(&self) -> &Arc<Sched> {
        &self.sched
    }

    /// Has the runtime this socket is registered with shut down, while a G of another runtime uses
    /// it? Then nothing will ever poll for its events, and a wait would never end. (A G of the
    /// dying runtime itself just parks: it is about to be dropped.)
    fn orphaned(&self) -> bool {
        self.sched.shutting_down(Ordering::Acquire)
            && !crate::sched::boot::current().is_some_and(|s| Arc::ptr_eq(&s, &self.sched))
    }

    /// Go's `pollDesc.prepare`: fail at once if closed or past the direction's deadline, even if
    /// the call would succeed (Go's rule: an expired deadline fails every operation until reset).
    fn prepare(&self, dir: Direction) -> io::Result<()> {
        if self.pd.is_closed() {
            return Err(closed_error());
        }
        match self.pd.deadline(dir) {
            Some(d) if d <= Instant::now() => Err(timeout_error()),
            _ => Ok(()),
        }
    }

    /// One I/O operation in direction `dir`, waiting for readiness as often as needed (Go's
    /// `FD.Read` loop). `op` is the non-blocking system call; `timer` keeps the deadline's timer
    /// across polls and is emptied when the operation completes.
    ///
    /// The caller must be the only waiter in `dir`: it holds the direction's [`FdMutex`] lock or a
    /// `&mut` to a handle that owns the direction.
    pub(crate) fn poll_io<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        timer: &mut Option<Sleep>,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_with(dir, cx, timer, WaitFirst::No, op)
    }

    /// [`poll_io`](Self::poll_io), optionally waiting for readiness before the first try (for a
    /// drained stream).
    fn poll_io_with<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        timer: &mut Option<Sleep>,
        mut wait_first: WaitFirst,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(crate::sched::coop::poll_preempt(cx));
        let res = 'io: {
            if let Err(e) = self.prepare(dir) {
                break 'io Err(e);
            }
            loop {
                if wait_first == WaitFirst::No {
                    match self.syscall(dir, &mut op) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        res => break 'io res,
                    }
                }
                let waited = match wait_first {
                    WaitFirst::Again => self.pd.poll_wait_again(dir, cx),
                    WaitFirst::No | WaitFirst::Yes => self.pd.poll_wait(dir, cx),
                };
                wait_first = WaitFirst::No;
                match waited {
                    Poll::Ready(Ok(())) => continue,
                    Poll::Ready(Err(e)) => break 'io Err(e),
                    Poll::Pending => {}
                }
                if self.orphaned() {
                    break 'io Err(orphaned_error());
                }
                // Parked. Make sure the G also wakes at the deadline, whatever it is now: a change
                // made after this read wakes us through the descriptor, and we come back here.
                if arm_deadline(self.pd.deadline(dir), timer, cx).is_ready() {
                    continue; // already passed: the next poll_wait reports it
                }
                set_waitreason(WaitReason::IoWait);
                return Poll::Pending;
            }
        };
        *timer = None;
        Poll::Ready(res)
    }

    /// The system call of one try: `op` on the socket. In gort's own test build a test may have
    /// planned a fault for it instead (fault.rs).
    fn syscall<R>(
        &self,
        dir: Direction,
        op: &mut impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        #[cfg(all(test, not(loom)))]
        if let Some(e) = super::fault::take(&self.sched, self.sock.as_raw_fd(), dir) {
            return Err(e);
        }
        let _ = dir; // read only by the test build's hook above
        op(&self.sock)
    }

    /// [`poll_io`](Self::poll_io) as a future, for a caller that owns the direction. However it
    /// ends (done, or dropped while parked: a timeout, a select that chose another case), it leaves
    /// no Waker in the descriptor ([`Abandon`]).
    pub(crate) async fn io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let _abandon = Abandon { pd: &self.pd, dir };
        let mut timer = None;
        poll_fn(|cx| self.poll_io(dir, cx, &mut timer, &mut op)).await
    }

    /// Go's `FD.readLock` / `writeLock`: become the only user of `dir` for as long as the guard
    /// lives. Shared (`&self`) operations take it around their whole operation.
    pub(crate) async fn lock(&self, dir: Direction) -> io::Result<FdGuard<'_>> {
        PreemptPoint.await;
        self.mu.lock(dir).await
    }

    /// A locked operation: [`lock`](Self::lock) then [`io`](Self::io).
    pub(crate) async fn locked_io<R>(
        &self,
        dir: Direction,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let _guard = self.lock(dir).await?;
        self.io(dir, op).await
    }

    /// Go's `SetReadDeadline` / `SetWriteDeadline`. A G waiting in that direction re-reads it now.
    pub(crate) fn set_deadline(&self, dir: Direction, deadline: Option<Instant>) -> io::Result<()> {
        if self.pd.is_closed() {
            return Err(closed_error());
        }
        self.pd.set_deadline(dir, deadline);
        Ok(())
    }

    /// Go's `netFD.connect` wait: after a non-blocking `connect` returned (EINPROGRESS is hidden by
    /// mio), wait until the socket is writable, then ask it whether the connection succeeded.
    pub(crate) async fn connected(
        &self,
        take_error: impl Fn(&S) -> io::Result<Option<io::Error>>,
        is_connected: impl Fn(&S) -> io::Result<()>,
    ) -> io::Result<()> {
        self.io(Direction::Write, |s| {
            if let Some(e) = take_error(s)? {
                return Err(e);
            }
            match is_connected(s) {
                // Not yet: wait for the next writable edge, as Go does on EINPROGRESS.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    Err(io::ErrorKind::WouldBlock.into())
                }
                r => r,
            }
        })
        .await
    }

    /// Go's `FD.Close`: evict every waiter with the closed error and leave the poller. Idempotent.
    /// The OS socket stays open until the last handle drops (so no fd number can be reused while a
    /// handle could still name it).
    pub(crate) fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        // Marks the descriptor closed (waking both directions' waiters), frees its poller slot so
        // late events are dropped, and removes the fd from the OS queue. Failing to remove it is
        // harmless: closing the fd removes it too.
        let fd = self.sock.as_raw_fd();
        let _ = self.sched.poller.deregister(&self.pd, &mut SourceFd(&fd));
        for w in self.mu.close() {
            w.wake();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.pd.is_closed()
    }
}

/// The byte-stream operations shared by TCP and Unix streams (Go's `FD.Read`, `FD.Write` and the
/// `io.ReadFull` / write-all loops built on them).
impl<S: Source + AsRawFd> NetFd<S>
where
    for<'a> &'a S: io::Read + io::Write,
{
    /// One stream read (Go's `FD.Read`), with the drained rule: after a read that returned less
    /// than `buf` holds, the next one waits for an event before trying the call.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        timer: &mut Option<Sleep>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let (drained, parked) = (&self.read_drained, &self.read_parked);
        let wait_first = if !drained.load(Ordering::Relaxed) || self.pd.read_final() {
            WaitFirst::No
        } else if parked.load(Ordering::Relaxed) {
            WaitFirst::Again // parked before: retry only if something has woken us since
        } else {
            WaitFirst::Yes
        };
        let res = self.poll_io_with(Direction::Read, cx, timer, wait_first, |mut s| {
            let n = io::Read::read(&mut s, buf)?;
            drained.store(n > 0 && n < buf.len(), Ordering::Relaxed);
            parked.store(false, Ordering::Relaxed);
            Ok(n)
        });
        if res.is_pending() {
            // Nothing to read, and the Waker is in the descriptor.
            drained.store(true, Ordering::Relaxed);
            parked.store(true, Ordering::Relaxed);
        }
        res
    }

    /// [`poll_read`](Self::poll_read) as a future, for a caller that owns the read direction.
    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let _abandon = Abandon {
            pd: &self.pd,
            dir: Direction::Read,
        };
        let mut timer = None;
        poll_fn(|cx| self.poll_read(cx, &mut timer, buf)).await
    }

    pub(crate) fn poll_write(
        &self,
        cx: &mut Context<'_>,
        timer: &mut Option<Sleep>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(Direction::Write, cx, timer, |mut s| {
            io::Write::write(&mut s, buf)
        })
    }

    /// Read until `buf` is full; `UnexpectedEof` if the stream ends first. The caller owns the
    /// read direction.
    pub(crate) async fn read_full(&self, buf: &mut [u8]) -> io::Result<()> {
        let mut filled = 0;
        while filled < buf.len() {
            let n = self.read(&mut buf[filled..]).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "stream ended before the buffer was filled",
                ));
            }
            filled += n;
        }
        Ok(())
    }

    /// Write all of `buf`. The caller owns the write direction.
    pub(crate) async fn write_full(&self, buf: &[u8]) -> io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let rest = &buf[done..];
            let n = self
                .io(Direction::Write, |mut s| io::Write::write(&mut s, rest))
                .await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            done += n;
        }
        Ok(())
    }
}

impl<S: Source + AsRawFd> Drop for NetFd<S> {
    fn drop(&mut self) {
        // No operation can be in flight: each holds a reference to this NetFd. Deregister before
        // `sock` is dropped (and its fd closed), as Go's `netpollclose` precedes `close`.
        self.close();
    }
}

impl<S: Source + AsRawFd> AsRawFd for NetFd<S> {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl<S: Source + AsRawFd + fmt::Debug> fmt::Debug for NetFd<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetFd")
            .field("sock", &self.sock)
            .field("pd", &self.pd)
            .finish()
    }
}

/// Go's `os.ErrDeadlineExceeded`, "i/o timeout", as the poll descriptor reports it.
/// Whether [`NetFd::poll_io_with`] waits for readiness before trying the call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WaitFirst {
    /// Try the call first (Go's rule).
    No,
    /// Wait for an event first: the socket was drained.
    Yes,
    /// We parked before and are polled again: try the call only if we were woken since.
    Again,
}

/// Withdraws a direction's parked Waker when an operation ends, however it ends. Go needs no such
/// step: a Go read cannot be abandoned mid-wait, and its deadline timer unblocks the slot itself.
struct Abandon<'a> {
    pd: &'a PollDesc,
    dir: Direction,
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        self.pd.cancel_wait(self.dir);
    }
}

fn orphaned_error() -> io::Error {
    io::Error::other(
        "gort::net: the runtime this socket was created in has shut down, so nothing can wait \
         for its events; create sockets in the runtime that uses them",
    )
}

pub(crate) fn timeout_error() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "i/o timeout")
}

/// Keep `timer` armed for `deadline` (or drop it if there is none). Ready if the deadline has
/// already passed.
fn arm_deadline(
    deadline: Option<Instant>,
    timer: &mut Option<Sleep>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    let Some(d) = deadline else {
        *timer = None;
        return Poll::Pending;
    };
    let sleep = timer.get_or_insert_with(|| crate::time::sleep_until(d));
    if sleep.deadline() != d {
        sleep.reset(d);
    }
    Pin::new(sleep).poll(cx)
}

/// A preemption point as a future: every operation starts with one (see `sched/coop.rs`).
struct PreemptPoint;

impl Future for PreemptPoint {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        crate::sched::coop::poll_preempt(cx)
    }
}

/// `AsRawFd`, `AsFd` and `Debug` for a socket type whose `fd` field is a `NetFd` (or an `Arc` of
/// one).
macro_rules! fd_traits {
    ($($t:ty),*) => {$(
        impl std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(self.fd.sock())
            }
        }

        impl std::os::fd::AsFd for $t {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(self.fd.sock())
            }
        }

        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t)).field("fd", &self.fd).finish()
            }
        }
    )*};
}
pub(crate) use fd_traits;

/// `set_read_deadline`, `set_write_deadline` and `set_deadline` (Go's `conn.SetReadDeadline`,
/// `SetWriteDeadline` and `SetDeadline`, net/net.go), inside the `impl` block of a connection type
/// whose `fd` field is a `NetFd` (or an `Arc` of one). A listener has its own: it only reads.
macro_rules! deadline_methods {
    () => {
        /// Go's `SetReadDeadline`: reads fail with `TimedOut` once `deadline` has passed (`None`
        /// clears it). A G already waiting to read sees the new deadline at once.
        pub fn set_read_deadline(
            &self,
            deadline: Option<std::time::Instant>,
        ) -> std::io::Result<()> {
            self.fd.set_deadline(netpoll::Direction::Read, deadline)
        }

        /// Go's `SetWriteDeadline`: writes fail with `TimedOut` once `deadline` has passed.
        pub fn set_write_deadline(
            &self,
            deadline: Option<std::time::Instant>,
        ) -> std::io::Result<()> {
            self.fd.set_deadline(netpoll::Direction::Write, deadline)
        }

        /// Go's `SetDeadline`: both directions.
        pub fn set_deadline(&self, deadline: Option<std::time::Instant>) -> std::io::Result<()> {
            self.set_read_deadline(deadline)?;
            self.set_write_deadline(deadline)
        }
    };
}
pub(crate) use deadline_methods;

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Duration;

    use crate::net::{TcpListener, TcpStream};

    /// Run `f` on a fresh one-P runtime with a loopback listener.
    fn on_one_p<F: std::future::Future<Output = ()> + Send + 'static>(
        f: impl FnOnce(TcpListener) -> F + Send + 'static,
    ) {
        let rt = crate::Builder::new().procs(1).build().unwrap();
        rt.block_on(async move {
            let ln = TcpListener::bind("127.0.0.1:0").unwrap();
            f(ln).await
        });
    }

    /// A read abandoned by a timeout (its future dropped while parked) leaves no Waker in the
    /// descriptor: the netpoller counts no waiter afterwards. Before `Abandon`, the count stayed
    /// at one until the next event on the socket.
    #[test]
    fn abandoned_wait_leaves_no_waiter_behind() {
        on_one_p(|ln| async move {
            let addr = ln.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (_server, _) = ln.accept().await.unwrap();
            let sched = super::current_sched("test").expect("in a runtime");
            let mut buf = [0u8; 8];
            // Nobody writes: the read parks and the timeout drops it.
            let r = crate::time::timeout(Duration::from_millis(20), client.read(&mut buf)).await;
            assert!(r.is_err(), "the read should have timed out");
            assert_eq!(
                sched.poller.waiters(),
                0,
                "the abandoned read is still counted"
            );
            // The socket still works afterwards.
            _server.write_all(b"x").await.unwrap();
            assert_eq!(client.read(&mut buf).await.unwrap(), 1);
        });
    }

    /// A G of another runtime that is already parked on a socket when the socket's runtime shuts
    /// down is woken and fails, like a wait that starts afterwards (`orphaned`), instead of waiting
    /// for a netpoller nobody polls any more. Nothing else may wake the reading G (a timeout's
    /// timer would re-poll the read, which then finds the runtime gone by itself), so the bound is
    /// the test's wait for its result; on failure the reader's thread is left behind, parked.
    #[test]
    fn a_wait_parked_when_the_sockets_runtime_shuts_down_ends_with_an_error() {
        let rt_a = crate::Builder::new().procs(1).build().unwrap();
        let (a, b) = rt_a.block_on(async { crate::net::UnixStream::pair().unwrap() });
        let sched_a = rt_a.block_on(async { super::current_sched("test").unwrap() });
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let rt_b = crate::Builder::new().procs(1).build().unwrap();
            let r = rt_b.block_on(async move {
                let mut buf = [0u8; 4];
                a.read(&mut buf).await
            });
            let _ = tx.send(r.map_err(|e| e.to_string()));
        });
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while sched_a.poller.waiters() == 0 {
            assert!(std::time::Instant::now() < until, "the read never parked");
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(rt_a);
        let r = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the parked read was never woken");
        reader.join().unwrap();
        match r {
            Err(e) => assert!(e.contains("shut down"), "{e}"),
            other => panic!("the parked read ended with {other:?}"),
        }
        drop(b); // kept open until now: its EOF would have woken the read
    }

    /// The drained rule must not wait for an event that never comes: data and the peer's EOF that
    /// arrive together make one event, which wakes the reader; the reader takes the data (a short
    /// read, so the socket is drained) and must then see the EOF without another event. The
    /// netpoller's sticky `read_final` covers it. The only P is kept busy while the peer writes and
    /// shuts down, so nobody polls the network in between and both land in one event.
    #[test]
    fn eof_arriving_with_the_last_data_is_not_missed() {
        on_one_p(|ln| async move {
            let addr = ln.local_addr().unwrap();
            let peer = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                std::thread::sleep(Duration::from_millis(50)); // the reader parks meanwhile
                std::io::Write::write_all(&mut s, b"hello").unwrap();
                s.shutdown(std::net::Shutdown::Write).unwrap();
                std::thread::sleep(Duration::from_millis(200));
            });
            let (conn, _) = ln.accept().await.unwrap();
            conn.set_read_deadline(Some(std::time::Instant::now() + Duration::from_secs(5)))
                .unwrap();
            let busy = crate::go(async {
                // Hold the P (no poll of the network) while the peer writes and shuts down.
                let until = std::time::Instant::now() + Duration::from_millis(120);
                while std::time::Instant::now() < until {
                    std::hint::spin_loop();
                }
            });
            let mut buf = [0u8; 64];
            assert_eq!(
                conn.read(&mut buf).await.unwrap(),
                5,
                "the data, a short read"
            );
            assert_eq!(
                conn.read(&mut buf).await.unwrap(),
                0,
                "then EOF, without a new event"
            );
            busy.await.unwrap();
            peer.join().unwrap();
        });
    }
}
