//! TCP: Go's `net.TCPListener` and `net.TCPConn` (net/tcpsock.go, tcpsock_posix.go; the listen
//! backlog of net/sock_linux.go: `maxListenerBacklog`).
//!
//! ## Where this differs from Go and why
//! - `into_split` gives two owned halves that can live in different Gs, in the style of Rust's async
//!   ecosystem; Go shares one `net.Conn` instead (here: share an `Arc<TcpStream>`, whose `&self`
//!   methods queue per direction as Go's do). Dropping the write half shuts down the write
//!   direction, so the peer reads EOF while this side can still read; `close` on either half closes
//!   the whole connection, like Go's `Close`.
//! - `write` may write part of the buffer, as `std::io::Write` does; Go's `Write` always writes all
//!   of it, which is our `write_all`.

use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use netpoll::Direction::{Read, Write};

use super::fd::{fd_traits, NetFd};
use super::{each_addr, resolve};
use crate::time::Sleep;
use crate::util::loom::sync::Arc;

type Fd = NetFd<mio::net::TcpStream>;

/// A TCP listener: Go's `net.Listen("tcp", addr)`.
///
/// `accept` may be called from several Gs at once; they take turns. [`close`](Self::close) from
/// another G wakes a G waiting in `accept` with an error.
pub struct TcpListener {
    fd: NetFd<mio::net::TcpListener>,
}

impl TcpListener {
    /// Bind and listen (Go's `net.Listen`): synchronous, like Go's. Tries each address `addr`
    /// resolves to, in order. The listen backlog is the system's maximum (Linux:
    /// `net.core.somaxconn`), as Go sets it, rather than the 128 of `std`.
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let sock = each_addr(resolve(addr)?, |a| {
            let l = mio::net::TcpListener::bind(a)?;
            relisten(l.as_raw_fd())?;
            Ok(l)
        })?;
        Ok(TcpListener {
            fd: NetFd::new(sock, "TcpListener::bind")?,
        })
    }

    /// Adopt a listening std socket (made non-blocking here).
    pub fn from_std(l: std::net::TcpListener) -> io::Result<TcpListener> {
        l.set_nonblocking(true)?;
        Ok(TcpListener {
            fd: NetFd::new(mio::net::TcpListener::from_std(l), "TcpListener::from_std")?,
        })
    }

    /// Wait for a connection (Go's `Accept`). Errors, including running out of file descriptors
    /// (EMFILE/ENFILE), are returned to the caller, who decides whether to retry; the listener stays
    /// usable. A connection aborted while it sat in the queue is skipped, as Go does.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (sock, addr) = self
            .fd
            .locked_io(Read, |l| loop {
                match l.accept() {
                    Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                    r => return r,
                }
            })
            .await?;
        // Go turns Nagle's algorithm off on every TCP connection (`setNoDelay(fd, true)` in
        // newTCPConn): small request/response messages go out at once. `set_nodelay(false)` restores
        // it. A failure here only loses that tuning, so it does not fail the accept.
        let _ = sock.set_nodelay(true);
        let fd = NetFd::with_sched(sock, self.fd.sched().clone())?;
        Ok((TcpStream::from_fd(Arc::new(fd)), addr))
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().local_addr()
    }

    /// Go's `TCPListener.SetDeadline`: `accept` fails with `TimedOut` once `deadline` has passed.
    pub fn set_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(Read, deadline)
    }

    /// The same as [`set_deadline`](Self::set_deadline): accepting is the listener's read.
    pub fn set_read_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(Read, deadline)
    }

    /// Stored for symmetry with the other socket types; no listener operation writes.
    pub fn set_write_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(Write, deadline)
    }

    /// Go's `Close`: a G waiting in `accept` wakes with an error, as does every later `accept`.
    /// The port is released when the listener is dropped.
    pub fn close(&self) {
        self.fd.close();
    }

    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.fd.sock().set_ttl(ttl)
    }

    pub fn ttl(&self) -> io::Result<u32> {
        self.fd.sock().ttl()
    }
}

/// `listen(2)` again on a listening socket only changes its backlog.
fn relisten(fd: RawFd) -> io::Result<()> {
    // Linux caps the backlog at net.core.somaxconn, and -1 is above any cap (it is compared
    // unsigned); elsewhere ask for SOMAXCONN.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const BACKLOG: libc::c_int = -1;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const BACKLOG: libc::c_int = libc::SOMAXCONN;
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the call; listen(2)
    // reads no memory of ours.
    if unsafe { libc::listen(fd, BACKLOG) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A TCP connection: Go's `net.TCPConn`.
///
/// The `&self` methods may be called from many Gs at once (one operation per direction at a time,
/// the others queue); the `AsyncRead`/`AsyncWrite` impls work through `&mut self`.
pub struct TcpStream {
    fd: Arc<Fd>,
    /// Deadline timers of the `AsyncRead`/`AsyncWrite` operations, kept across their polls.
    rtimer: Option<Sleep>,
    wtimer: Option<Sleep>,
}

impl TcpStream {
    fn from_fd(fd: Arc<Fd>) -> TcpStream {
        TcpStream {
            fd,
            rtimer: None,
            wtimer: None,
        }
    }

    /// Connect (Go's `net.Dial("tcp", addr)`): tries each address `addr` resolves to, in order.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let mut last = None;
        for a in resolve(addr)? {
            match TcpStream::connect_one(a).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::ErrorKind::InvalidInput.into()))
    }

    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        let fd = NetFd::new(mio::net::TcpStream::connect(addr)?, "TcpStream::connect")?;
        fd.connected(|s| s.take_error(), |s| s.peer_addr().map(drop))
            .await?;
        // As Go does for every TCP connection (see `accept`).
        let _ = fd.sock().set_nodelay(true);
        Ok(TcpStream::from_fd(Arc::new(fd)))
    }

    /// Adopt a connected std socket (made non-blocking here).
    pub fn from_std(s: std::net::TcpStream) -> io::Result<TcpStream> {
        s.set_nonblocking(true)?;
        let fd = NetFd::new(mio::net::TcpStream::from_std(s), "TcpStream::from_std")?;
        Ok(TcpStream::from_fd(Arc::new(fd)))
    }

    /// Read what is available, at least one byte, waiting if there is none; `Ok(0)` is end of
    /// stream. Concurrent reads take turns.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.fd
            .locked_io(Read, |mut s| io::Read::read(&mut s, buf))
            .await
    }

    /// Write some of `buf`, waiting for buffer space if there is none. Returns how much was written.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.fd
            .locked_io(Write, |mut s| io::Write::write(&mut s, buf))
            .await
    }

    /// Go's `io.ReadFull`: fill `buf`, or fail with `UnexpectedEof`. Holds the read turn throughout,
    /// so concurrent readers cannot interleave.
    pub async fn read_exact(&self, buf: &mut [u8]) -> io::Result<()> {
        let _g = self.fd.lock(Read).await?;
        self.fd.read_full(buf).await
    }

    /// Write all of `buf` (Go's `Write`). Holds the write turn throughout, so concurrent writes do
    /// not interleave.
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        let _g = self.fd.lock(Write).await?;
        self.fd.write_full(buf).await
    }

    /// Shut down one or both directions (Go's `CloseRead` / `CloseWrite`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.fd.sock().shutdown(how)
    }

    /// Split into a read half and a write half that can be used from different Gs.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (
            OwnedReadHalf {
                fd: self.fd.clone(),
                timer: None,
            },
            OwnedWriteHalf {
                fd: self.fd,
                timer: None,
            },
        )
    }

    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.fd.sock().set_nodelay(on)
    }

    pub fn nodelay(&self) -> io::Result<bool> {
        self.fd.sock().nodelay()
    }

    /// Go's `SetLinger`: `Some(Duration::ZERO)` makes closing send a reset (RST) and discard unsent
    /// data; `None` restores the default graceful close.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        set_linger(self.fd.as_raw_fd(), linger)
    }

    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.fd.sock().set_ttl(ttl)
    }

    pub fn ttl(&self) -> io::Result<u32> {
        self.fd.sock().ttl()
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().peer_addr()
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().local_addr()
    }

    /// Go's `SetReadDeadline`: reads fail with `TimedOut` once `deadline` has passed (`None` clears
    /// it). A G already waiting to read sees the new deadline at once.
    pub fn set_read_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(Read, deadline)
    }

    /// Go's `SetWriteDeadline`.
    pub fn set_write_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(Write, deadline)
    }

    /// Go's `SetDeadline`: both directions.
    pub fn set_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.set_read_deadline(deadline)?;
        self.set_write_deadline(deadline)
    }

    /// Go's `Close`: Gs waiting on this connection wake with an error, as does every later
    /// operation, and the peer sees the connection end.
    pub fn close(&self) {
        close_stream(&self.fd);
    }
}

fn close_stream(fd: &Fd) {
    if !fd.is_closed() {
        fd.close();
        // The fd itself stays open while other handles exist; the peer should not have to wait.
        let _ = fd.sock().shutdown(Shutdown::Both);
    }
}

/// `SO_LINGER`, which `std` does not offer on stable.
pub(crate) fn set_linger(fd: RawFd, linger: Option<Duration>) -> io::Result<()> {
    let secs = linger.map_or(0, |d| {
        d.as_secs().min(libc::c_int::MAX as u64) as libc::c_int
    });
    let val = libc::linger {
        l_onoff: linger.is_some() as libc::c_int,
        l_linger: secs,
    };
    // SAFETY: `val` is a live `linger` and we pass its exact size; `fd` is an open socket owned by
    // the caller for the duration of the call.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &val as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if r == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `AsyncWrite::poll_close` and the write half's drop: shut down writing. A connection the peer
/// already tore down is closed enough.
fn shutdown_write(fd: &Fd) -> io::Result<()> {
    match fd.sock().shutdown(Shutdown::Write) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        r => r,
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.fd.poll_read(cx, &mut this.rtimer, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.fd.poll_write(cx, &mut this.wtimer, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // nothing is buffered in user space
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(shutdown_write(&self.fd))
    }
}

/// The read half of a [`TcpStream`], from [`TcpStream::into_split`].
pub struct OwnedReadHalf {
    fd: Arc<Fd>,
    timer: Option<Sleep>,
}

impl OwnedReadHalf {
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.fd.io(Read, |mut s| io::Read::read(&mut s, buf)).await
    }

    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.fd.read_full(buf).await
    }

    pub fn set_read_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(Read, deadline)
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().peer_addr()
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().local_addr()
    }

    /// Close the whole connection (both halves), like Go's `Close`: a G waiting on either half
    /// wakes with an error.
    pub fn close(&self) {
        close_stream(&self.fd);
    }
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.fd.poll_read(cx, &mut this.timer, buf)
    }
}

/// The write half of a [`TcpStream`], from [`TcpStream::into_split`]. Dropping it shuts down the
/// write direction (the peer reads EOF); the read half keeps working.
pub struct OwnedWriteHalf {
    fd: Arc<Fd>,
    timer: Option<Sleep>,
}

impl OwnedWriteHalf {
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.fd
            .io(Write, |mut s| io::Write::write(&mut s, buf))
            .await
    }

    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.fd.write_full(buf).await
    }

    pub fn set_write_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(Write, deadline)
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().peer_addr()
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().local_addr()
    }

    /// Close the whole connection (both halves), like Go's `Close`: a G waiting on either half
    /// wakes with an error.
    pub fn close(&self) {
        close_stream(&self.fd);
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.fd.poll_write(cx, &mut this.timer, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(shutdown_write(&self.fd))
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if !self.fd.is_closed() {
            let _ = shutdown_write(&self.fd);
        }
    }
}

fd_traits!(TcpListener, TcpStream, OwnedReadHalf, OwnedWriteHalf);
