//! Unix-domain sockets: Go's `net.UnixListener` and `net.UnixConn` (net/unixsock.go,
//! unixsock_posix.go), stream and datagram.
//!
//! The types and what they share with their TCP and UDP counterparts come from `stream.rs` and
//! `datagram.rs`: `&self` operations take turns per direction, streams split into owned halves,
//! deadlines and `close` work the same. This file holds what is Unix's own: binding to and
//! connecting to paths, socket pairs, unbound datagram sockets.
//!
//! ## Where this differs from Go and why
//! - Go removes a listener's socket file when the listener closes (`SetUnlinkOnClose`); we leave it,
//!   as `std::os::unix::net::UnixListener` does, so the owner of the path decides.
//! - A connect to a listener whose backlog is full fails with `WouldBlock` (EAGAIN) instead of
//!   waiting, as in Go: unlike TCP there is no readiness event that says the backlog has room.

use std::io;
use std::net::Shutdown;
use std::path::Path;

use netpoll::Direction::Write;

use super::datagram::datagram_socket;
use super::fd::NetFd;
use super::stream::stream_socket;

pub use std::os::unix::net::SocketAddr;

stream_socket! {
    /// A Unix-domain stream listener: Go's `net.Listen("unix", path)`.
    ///
    /// `accept` may be called from several Gs at once; they take turns. [`close`](Self::close) from
    /// another G wakes a G waiting in `accept` with an error.
    listener UnixListener(mio::net::UnixListener, std::os::unix::net::UnixListener);

    /// A Unix-domain stream connection: Go's `net.UnixConn` of type "unix".
    ///
    /// The `&self` methods may be called from many Gs at once (one operation per direction at a
    /// time, the others queue); the `AsyncRead`/`AsyncWrite` impls work through `&mut self`.
    stream UnixStream(mio::net::UnixStream, std::os::unix::net::UnixStream);

    addr SocketAddr;
}

datagram_socket! {
    /// A Unix-domain datagram socket: Go's `net.UnixConn` of type "unixgram".
    ///
    /// Every operation is on `&self`; each direction runs one operation at a time, the rest queue.
    socket UnixDatagram(mio::net::UnixDatagram);
    addr SocketAddr;
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
}

impl UnixStream {
    /// Connect to the listener at `path` (Go's `net.Dial("unix", path)`).
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let fd = NetFd::new(mio::net::UnixStream::connect(path)?, "UnixStream::connect")?;
        fd.connected(|s| s.take_error(), |s| s.peer_addr().map(drop))
            .await?;
        Ok(UnixStream::from_fd(fd))
    }

    /// A connected pair of sockets (`socketpair(2)`).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = NetFd::new_pair(mio::net::UnixStream::pair()?, "UnixStream::pair")?;
        Ok((UnixStream::from_fd(a), UnixStream::from_fd(b)))
    }
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
        let (a, b) = NetFd::new_pair(mio::net::UnixDatagram::pair()?, "UnixDatagram::pair")?;
        Ok((UnixDatagram { fd: a }, UnixDatagram { fd: b }))
    }

    /// Set the default peer for `send` / `recv` (synchronous).
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.fd.sock().connect(path)
    }

    /// Send one datagram to the socket at `path` (Go's `WriteTo`). Returns the bytes sent.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.fd.locked_io(Write, |s| s.send_to(buf, path)).await
    }

    /// Shut down one or both directions.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.fd.sock().shutdown(how)
    }
}
