//! Unix-domain sockets: Go's `net.UnixListener` and `net.UnixConn` (net/unixsock.go,
//! unixsock_posix.go), stream and datagram.
//!
//! They behave as their TCP and UDP counterparts do (see `tcp.rs`, `udp.rs`): `&self` operations
//! take turns per direction, streams split into owned halves, deadlines and `close` work the same.
//!
//! ## Where this differs from Go and why
//! - Go removes a listener's socket file when the listener closes (`SetUnlinkOnClose`); we leave it,
//!   as `std::os::unix::net::UnixListener` does, so the owner of the path decides.
//! - A connect to a listener whose backlog is full fails with `WouldBlock` (EAGAIN) instead of
//!   waiting, as in Go: unlike TCP there is no readiness event that says the backlog has room.

use std::io;
use std::net::Shutdown;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};
use netpoll::Direction::{Read, Write};

use super::fd::{fd_traits, NetFd};
use crate::time::Sleep;
use crate::util::loom::sync::Arc;

pub use std::os::unix::net::SocketAddr;

type Fd = NetFd<mio::net::UnixStream>;

/// A Unix-domain stream listener: Go's `net.Listen("unix", path)`.
pub struct UnixListener {
    fd: NetFd<mio::net::UnixListener>,
}

impl UnixListener {
    /// Create the socket file `path` and listen on it (synchronous, like Go's `Listen`). Fails if
    /// the file exists.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let sock = mio::net::UnixListener::bind(path)?;
        Ok(UnixListener {
            fd: NetFd::new(sock, "UnixListener::bind")?,
        })
    }

    /// Adopt a listening std socket (made non-blocking here).
    pub fn from_std(l: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        l.set_nonblocking(true)?;
        Ok(UnixListener {
            fd: NetFd::new(
                mio::net::UnixListener::from_std(l),
                "UnixListener::from_std",
            )?,
        })
    }

    /// Wait for a connection (Go's `Accept`); errors (EMFILE included) go to the caller and the
    /// listener stays usable.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (sock, addr) = self
            .fd
            .locked_io(Read, |l| loop {
                match l.accept() {
                    Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                    r => return r,
                }
            })
            .await?;
        let fd = NetFd::with_sched(sock, self.fd.sched().clone())?;
        Ok((UnixStream::from_fd(Arc::new(fd)), addr))
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().local_addr()
    }

    /// Go's `UnixListener.SetDeadline`: `accept` fails with `TimedOut` once `deadline` has passed.
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
    pub fn close(&self) {
        self.fd.close();
    }
}

/// A Unix-domain stream connection: Go's `net.UnixConn` of type "unix".
pub struct UnixStream {
    fd: Arc<Fd>,
    rtimer: Option<Sleep>,
    wtimer: Option<Sleep>,
}

impl UnixStream {
    fn from_fd(fd: Arc<Fd>) -> UnixStream {
        UnixStream {
            fd,
            rtimer: None,
            wtimer: None,
        }
    }

    /// Connect to the listener at `path` (Go's `net.Dial("unix", path)`).
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let fd = NetFd::new(mio::net::UnixStream::connect(path)?, "UnixStream::connect")?;
        fd.connected(|s| s.take_error(), |s| s.peer_addr().map(drop))
            .await?;
        Ok(UnixStream::from_fd(Arc::new(fd)))
    }

    /// A connected pair of sockets (`socketpair(2)`).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        let sched = super::fd::current_sched("UnixStream::pair");
        let a = NetFd::with_sched(a, sched.clone())?;
        let b = NetFd::with_sched(b, sched)?;
        Ok((
            UnixStream::from_fd(Arc::new(a)),
            UnixStream::from_fd(Arc::new(b)),
        ))
    }

    /// Adopt a connected std socket (made non-blocking here).
    pub fn from_std(s: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        s.set_nonblocking(true)?;
        let fd = NetFd::new(mio::net::UnixStream::from_std(s), "UnixStream::from_std")?;
        Ok(UnixStream::from_fd(Arc::new(fd)))
    }

    /// Read what is available, waiting if there is none; `Ok(0)` is end of stream.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.fd
            .locked_io(Read, |mut s| io::Read::read(&mut s, buf))
            .await
    }

    /// Write some of `buf`, waiting for buffer space if there is none.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.fd
            .locked_io(Write, |mut s| io::Write::write(&mut s, buf))
            .await
    }

    /// Fill `buf`, or fail with `UnexpectedEof`; concurrent readers cannot interleave.
    pub async fn read_exact(&self, buf: &mut [u8]) -> io::Result<()> {
        let _g = self.fd.lock(Read).await?;
        self.fd.read_full(buf).await
    }

    /// Write all of `buf`; concurrent writes do not interleave.
    pub async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        let _g = self.fd.lock(Write).await?;
        self.fd.write_full(buf).await
    }

    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.fd.sock().shutdown(how)
    }

    /// Split into halves usable from different Gs; see `TcpStream::into_split`.
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

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().local_addr()
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().peer_addr()
    }

    pub fn set_read_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(Read, deadline)
    }

    pub fn set_write_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(Write, deadline)
    }

    pub fn set_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.set_read_deadline(deadline)?;
        self.set_write_deadline(deadline)
    }

    /// Go's `Close`; see `TcpStream::close`.
    pub fn close(&self) {
        close_stream(&self.fd);
    }
}

fn close_stream(fd: &Fd) {
    if !fd.is_closed() {
        fd.close();
        let _ = fd.sock().shutdown(Shutdown::Both);
    }
}

fn shutdown_write(fd: &Fd) -> io::Result<()> {
    match fd.sock().shutdown(Shutdown::Write) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        r => r,
    }
}

impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.fd.poll_read(cx, &mut this.rtimer, buf)
    }
}

impl AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.fd.poll_write(cx, &mut this.wtimer, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(shutdown_write(&self.fd))
    }
}

/// The read half of a [`UnixStream`].
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

    /// Close the whole connection (both halves), like Go's `Close`.
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

/// The write half of a [`UnixStream`]. Dropping it shuts down the write direction.
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

    /// Close the whole connection (both halves), like Go's `Close`.
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

/// A Unix-domain datagram socket: Go's `net.UnixConn` of type "unixgram".
pub struct UnixDatagram {
    fd: NetFd<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Create the socket file `path` and bind to it.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::register(mio::net::UnixDatagram::bind(path)?, "UnixDatagram::bind")
    }

    /// A socket bound to no path (it can send, and receive once connected).
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::register(mio::net::UnixDatagram::unbound()?, "UnixDatagram::unbound")
    }

    /// A connected pair of datagram sockets.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        let sched = super::fd::current_sched("UnixDatagram::pair");
        Ok((
            UnixDatagram {
                fd: NetFd::with_sched(a, sched.clone())?,
            },
            UnixDatagram {
                fd: NetFd::with_sched(b, sched)?,
            },
        ))
    }

    fn register(sock: mio::net::UnixDatagram, what: &str) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            fd: NetFd::new(sock, what)?,
        })
    }

    /// Set the default peer for `send` / `recv` (synchronous).
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.fd.sock().connect(path)
    }

    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.fd.locked_io(Write, |s| s.send_to(buf, path)).await
    }

    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.fd.locked_io(Read, |s| s.recv_from(buf)).await
    }

    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.fd.locked_io(Write, |s| s.send(buf)).await
    }

    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.fd.locked_io(Read, |s| s.recv(buf)).await
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().local_addr()
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.fd.sock().peer_addr()
    }

    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.fd.sock().shutdown(how)
    }

    pub fn set_read_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(Read, deadline)
    }

    pub fn set_write_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.fd.set_deadline(Write, deadline)
    }

    pub fn set_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.set_read_deadline(deadline)?;
        self.set_write_deadline(deadline)
    }

    /// Go's `Close`: Gs waiting on the socket wake with an error, as does every later operation.
    pub fn close(&self) {
        self.fd.close();
    }

    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.fd.sock().take_error()
    }
}

fd_traits!(
    UnixListener,
    UnixStream,
    OwnedReadHalf,
    OwnedWriteHalf,
    UnixDatagram
);
