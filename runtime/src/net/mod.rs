//! `gort::net`: TCP, UDP and Unix-domain sockets on the netpoller, as Go's `net` package is
//! (net/tcpsock.go, udpsock.go, unixsock.go over internal/poll).
//!
//! A G that reads from a socket with nothing to read parks until the netpoller says the socket is
//! ready; its M and P go on running other Gs meanwhile. The code reads like blocking code with
//! `.await` at the points where Go's code would block:
//!
//! ```
//! use gort::net::{TcpListener, TcpStream};
//!
//! gort::run(async {
//!     let ln = TcpListener::bind("127.0.0.1:0").unwrap();
//!     let addr = ln.local_addr().unwrap();
//!     gort::go(async move {
//!         let (conn, _) = ln.accept().await.unwrap();
//!         let mut buf = [0u8; 5];
//!         conn.read_exact(&mut buf).await.unwrap();
//!         conn.write_all(&buf).await.unwrap(); // echo
//!     });
//!     let conn = TcpStream::connect(addr).await.unwrap();
//!     conn.write_all(b"hello").await.unwrap();
//!     let mut buf = [0u8; 5];
//!     conn.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"hello");
//! });
//! ```
//!
//! - `fd.rs` is the layer every socket shares (Go's `internal/poll.FD`): registration, the
//!   try-the-call-then-wait loop, deadlines, close. `fd_mutex.rs` serialises the operations of one
//!   direction (Go's `fdMutex`), because the netpoller has one waiter slot per direction.
//! - `stream.rs` and `datagram.rs` write once what the socket families share (Go's `conn`, which
//!   each of Go's connection types embeds): a macro each, which defines a family's types with
//!   their reads, writes, deadlines, `close` and, for streams, `accept` and the split halves.
//! - `tcp.rs`, `udp.rs`, `unix.rs` invoke them and add what is their family's own: binding,
//!   connecting, addresses, socket options.
//!
//! Conventions, all Go's:
//! - Creating a listener or a bound socket is synchronous (`net.Listen`); connecting and every
//!   transfer is async. A literal address is used as is; only a host name goes to the resolver,
//!   in a blocking section (`gort::blocking`), as Go's cgo resolver runs in a system call
//!   (addr.rs).
//! - Methods on `&self` may be called from many Gs at once: each direction runs one operation at a
//!   time, the others queue (Go's `fdMutex`). So a shared `Arc<TcpStream>` behaves like a Go
//!   `net.Conn`; `write_all` is atomic with respect to other writes. Methods on `&mut self` (the
//!   `AsyncRead`/`AsyncWrite` impls, the owned halves of a split stream) need no queue.
//! - Every type has `set_read_deadline` / `set_write_deadline` (Go's `SetReadDeadline`): once the
//!   deadline has passed, operations in that direction fail with `io::ErrorKind::TimedOut`
//!   ("i/o timeout") until it is moved or cleared. Changing it wakes a G already waiting.
//! - `close(&self)` is Go's `Close`: Gs waiting on the socket wake with an error of kind
//!   `NotConnected` ("use of closed network connection"), as does every later operation. Dropping the
//!   last handle closes too.
//! - A socket belongs to the runtime that created it (its netpoller reports its readiness); create
//!   sockets inside a runtime (`gort::run`, `Runtime::block_on`, or a G); outside one, constructors
//!   return an error naming the fix. Used from another runtime after its own has shut down, a wait
//!   fails with an error instead of hanging (one already waiting then is woken to fail too).

mod addr;
mod datagram;
#[cfg(all(test, not(loom)))]
mod fault;
pub(crate) mod fd;
mod fd_mutex;
pub(crate) mod fd_source;
mod stream;
pub mod tcp;
pub mod udp;
pub mod unix;

pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

pub use addr::ToSocketAddrs;
pub use std::net::{Shutdown, SocketAddr};

use std::io;

use addr::resolve;

/// Try `f` on each address in turn; the first success wins, else the last error is returned.
fn each_addr<T>(
    addrs: Vec<SocketAddr>,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in addrs {
        match f(a) {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}
