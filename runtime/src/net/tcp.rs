//! TCP: Go's `net.TCPListener` and `net.TCPConn` (net/tcpsock.go, tcpsock_posix.go; the listen
//! backlog of net/sock_linux.go: `maxListenerBacklog`; `setNoDelay` in net/tcpsock.go
//! `newTCPConn`).
//!
//! The types and what they share with Unix-domain streams (reads and writes, deadlines, `close`,
//! `into_split` and the halves, `accept`) come from `stream.rs`. This file holds what is TCP's own:
//! binding with Go's backlog, connecting to resolved addresses, Nagle's algorithm turned off on
//! every connection as Go does, and the TCP/IP options (`nodelay`, `linger`, `ttl`).
//!
//! ## Where this differs from Go and why
//! - `connect` tries the resolved addresses one after another. Go's dialer races an IPv6 attempt
//!   against an IPv4 one ("Happy Eyeballs", net/dial.go `dialParallel`); a teaching runtime keeps
//!   the simple loop.
//! - The differences shared with Unix streams (owned halves, partial `write`) are in `stream.rs`.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use super::fd::NetFd;
use super::stream::stream_socket;
use super::{each_addr, resolve, ToSocketAddrs};

stream_socket! {
    /// A TCP listener: Go's `net.Listen("tcp", addr)`.
    ///
    /// `accept` may be called from several Gs at once; they take turns. [`close`](Self::close) from
    /// another G wakes a G waiting in `accept` with an error.
    listener TcpListener(mio::net::TcpListener, std::net::TcpListener);

    /// A TCP connection: Go's `net.TCPConn`.
    ///
    /// The `&self` methods may be called from many Gs at once (one operation per direction at a
    /// time, the others queue); the `AsyncRead`/`AsyncWrite` impls work through `&mut self`.
    stream TcpStream(mio::net::TcpStream, std::net::TcpStream);

    addr SocketAddr;
    on_accept no_delay;
}

/// Go turns Nagle's algorithm off on every TCP connection (`setNoDelay(fd, true)` in newTCPConn):
/// small request/response messages go out at once. `set_nodelay(false)` restores it. A failure
/// only loses that tuning, so it fails neither the connect nor the accept.
fn no_delay(sock: &mio::net::TcpStream) {
    let _ = sock.set_nodelay(true);
}

impl TcpListener {
    /// Bind and listen (Go's `net.Listen`): synchronous, like Go's. Tries each address `addr`
    /// resolves to, in order. The listen backlog is the system's maximum (Linux:
    /// `net.core.somaxconn`), as Go sets it, rather than the 128 of `std`.
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let sock = each_addr(resolve(&addr)?, |a| {
            let l = mio::net::TcpListener::bind(a)?;
            relisten(l.as_raw_fd())?;
            Ok(l)
        })?;
        Ok(TcpListener {
            fd: NetFd::new(sock, "TcpListener::bind")?,
        })
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

impl TcpStream {
    /// Connect (Go's `net.Dial("tcp", addr)`): tries each address `addr` resolves to, in order.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let mut last = None;
        for a in resolve(&addr)? {
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
        no_delay(fd.sock());
        Ok(TcpStream::from_fd(fd))
    }

    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.fd.sock().set_nodelay(on)
    }

    pub fn nodelay(&self) -> io::Result<bool> {
        self.fd.sock().nodelay()
    }

    /// Go's `SetLinger`: `Some(Duration::ZERO)` makes closing send a reset (RST) and discard unsent
    /// data; `None` restores the default graceful close. The OS counts whole seconds: a fraction
    /// rounds up.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        set_linger(self.fd.as_raw_fd(), linger)
    }

    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.fd.sock().set_ttl(ttl)
    }

    pub fn ttl(&self) -> io::Result<u32> {
        self.fd.sock().ttl()
    }
}

/// `SO_LINGER`, which `std` does not offer on stable. It counts whole seconds, rounded up: a
/// truncated 0 would mean "reset", not "linger briefly" (Go's `SetKeepAlivePeriod` rounds up too).
pub(crate) fn set_linger(fd: RawFd, linger: Option<Duration>) -> io::Result<()> {
    let secs = linger.map_or(0, |d| {
        let up = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
        libc::c_int::try_from(up).unwrap_or(libc::c_int::MAX)
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
