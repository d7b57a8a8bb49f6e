//! Stream sockets, written once for TCP and Unix: Go's `conn` (net/net.go: the `Read`, `Write`,
//! `Close`, `LocalAddr`, `RemoteAddr` and `SetDeadline` that `TCPConn` and `UnixConn` both embed)
//! and the listener's `Accept` (net/tcpsock_posix.go, unixsock_posix.go: `accept`).
//!
//! [`stream_socket!`] defines, in the module that invokes it (`tcp.rs`, `unix.rs`), the four types
//! of a stream family with every method that does not depend on the family:
//!
//! - the listener: `from_std`, `accept`, `local_addr`, deadlines, `close`;
//! - the connection: `from_std`, `read`, `write`, `read_exact`, `write_all`, `shutdown`,
//!   `into_split`, `peer_addr`, `local_addr`, deadlines, `close`, `AsyncRead` and `AsyncWrite`;
//! - `OwnedReadHalf` and `OwnedWriteHalf`, the halves of a split connection, each with its
//!   direction's operations, the addresses, `close`, and `AsyncRead` or `AsyncWrite`.
//!
//! The invoking module adds what is its family's own: binding, connecting, socket options, pairs.
//!
//! A connection holds its [`NetFd`] in an `Arc`, which its halves share once split. Its `&self`
//! operations take the direction's turn ([`NetFd::locked_io`], [`NetFd::lock`]); `&mut self`
//! operations (the `AsyncRead`/`AsyncWrite` impls and the halves) own their direction and skip it.
//!
//! ## Where this differs from Go and why
//! - Go writes these methods once, on `conn`, and embeds it in each connection type. Rust has no
//!   embedding, and mio's `TcpStream` and `UnixStream` have the same methods but no trait in
//!   common, so a generic type would need a trait restating each method for each family. The macro
//!   calls them by name instead, and each family keeps its own named types with their own docs.
//! - `into_split` gives two owned halves that can live in different Gs, in the style of Rust's async
//!   ecosystem; Go shares one `net.Conn` instead (here: share an `Arc<TcpStream>`, whose `&self`
//!   methods queue per direction as Go's do). Dropping the write half shuts down the write
//!   direction, so the peer reads EOF while this side can still read; `close` on either half closes
//!   the whole connection, like Go's `Close`.
//! - `write` may write part of the buffer, as `std::io::Write` does; Go's `Write` always writes all
//!   of it, which is our `write_all`.
//!
//! [`NetFd`]: super::fd::NetFd
//! [`NetFd::locked_io`]: super::fd::NetFd::locked_io
//! [`NetFd::lock`]: super::fd::NetFd::lock

/// The listener, connection and halves of one stream family, in the invoking module:
///
/// ```text
/// stream_socket! {
///     /// docs
///     listener TcpListener(mio::net::TcpListener, std::net::TcpListener);
///     /// docs
///     stream TcpStream(mio::net::TcpStream, std::net::TcpStream);
///     addr std::net::SocketAddr;
///     on_accept no_delay; // optional: a `fn(&mio socket)` applied to each accepted connection
/// }
/// ```
///
/// The rules starting with `@` are its parts, used only by the main rule (the last one).
macro_rules! stream_socket {
    // What the connection and both halves have: the addresses and `close`.
    (@conn $Addr:ty) => {
        /// The address of the other end.
        pub fn peer_addr(&self) -> std::io::Result<$Addr> {
            self.fd.sock().peer_addr()
        }

        /// This end's address.
        pub fn local_addr(&self) -> std::io::Result<$Addr> {
            self.fd.sock().local_addr()
        }

        /// Go's `Close`: Gs waiting on this connection (on either half of it) wake with an error,
        /// as does every later operation, and the peer sees the connection end.
        pub fn close(&self) {
            if !self.fd.is_closed() {
                self.fd.close();
                // The fd itself stays open while other handles exist; the peer should not have to
                // wait for them.
                let _ = self.fd.sock().shutdown(std::net::Shutdown::Both);
            }
        }
    };

    // `AsyncRead` for the connection or the read half; `$timer` keeps the deadline's timer.
    (@async_read $T:ident, $timer:ident) => {
        impl futures_io::AsyncRead for $T {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let this = self.get_mut();
                this.fd.poll_read(cx, &mut this.$timer, buf)
            }
        }
    };

    // `AsyncWrite` for the connection or the write half.
    (@async_write $T:ident, $timer:ident, $Stream:ident) => {
        impl futures_io::AsyncWrite for $T {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let this = self.get_mut();
                this.fd.poll_write(cx, &mut this.$timer, buf)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(())) // nothing is buffered in user space
            }

            // Shut down the write direction: the peer reads EOF, reading goes on.
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready($Stream::shutdown_write(&self.fd))
            }
        }
    };

    (
        $(#[$listener_doc:meta])*
        listener $Listener:ident($LSock:ty, $LStd:ty);
        $(#[$stream_doc:meta])*
        stream $Stream:ident($Sock:ty, $Std:ty);
        addr $Addr:ty;
        $(on_accept $on_accept:path;)?
    ) => {
        $(#[$listener_doc])*
        pub struct $Listener {
            fd: $crate::net::fd::NetFd<$LSock>,
        }

        impl $Listener {
            /// Adopt a listening std socket (made non-blocking here).
            pub fn from_std(l: $LStd) -> std::io::Result<$Listener> {
                l.set_nonblocking(true)?;
                let what = concat!(stringify!($Listener), "::from_std");
                let fd = $crate::net::fd::NetFd::new(<$LSock>::from_std(l), what)?;
                Ok($Listener { fd })
            }

            /// Wait for a connection (Go's `Accept`). Errors, including running out of file
            /// descriptors (EMFILE/ENFILE), are returned to the caller, who decides whether to
            /// retry; the listener stays usable. A connection aborted while it sat in the queue is
            /// skipped, as Go does.
            pub async fn accept(&self) -> std::io::Result<($Stream, $Addr)> {
                let (sock, addr) = loop {
                    match self
                        .fd
                        .locked_io(netpoll::Direction::Read, |l| l.accept())
                        .await
                    {
                        // The peer gave up while the connection sat in the queue: take the next.
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => continue,
                        r => break r?,
                    }
                };
                $($on_accept(&sock);)?
                // The connection joins its listener's runtime.
                let fd = $crate::net::fd::NetFd::with_sched(sock, self.fd.sched().clone())?;
                Ok(($Stream::from_fd(fd), addr))
            }

            /// The address the listener is bound to.
            pub fn local_addr(&self) -> std::io::Result<$Addr> {
                self.fd.sock().local_addr()
            }

            /// Go's `SetDeadline` on a listener: `accept` fails with `TimedOut` once `deadline`
            /// has passed.
            pub fn set_deadline(&self, deadline: Option<std::time::Instant>) -> std::io::Result<()> {
                self.fd.set_deadline(netpoll::Direction::Read, deadline)
            }

            /// The same as [`set_deadline`](Self::set_deadline): accepting is the listener's read.
            pub fn set_read_deadline(
                &self,
                deadline: Option<std::time::Instant>,
            ) -> std::io::Result<()> {
                self.set_deadline(deadline)
            }

            /// Stored for symmetry with the other socket types; no listener operation writes.
            pub fn set_write_deadline(
                &self,
                deadline: Option<std::time::Instant>,
            ) -> std::io::Result<()> {
                self.fd.set_deadline(netpoll::Direction::Write, deadline)
            }

            /// Go's `Close`: a G waiting in `accept` wakes with an error, as does every later
            /// `accept`. The socket itself (and a TCP port) is released when the listener is
            /// dropped.
            pub fn close(&self) {
                self.fd.close();
            }
        }

        $(#[$stream_doc])*
        pub struct $Stream {
            fd: $crate::util::loom::sync::Arc<$crate::net::fd::NetFd<$Sock>>,
            /// Deadline timers of the `AsyncRead`/`AsyncWrite` operations, kept across their polls.
            rtimer: Option<$crate::time::Sleep>,
            wtimer: Option<$crate::time::Sleep>,
        }

        impl $Stream {
            fn from_fd(fd: $crate::net::fd::NetFd<$Sock>) -> $Stream {
                $Stream {
                    fd: $crate::util::loom::sync::Arc::new(fd),
                    rtimer: None,
                    wtimer: None,
                }
            }

            /// Adopt a connected std socket (made non-blocking here).
            pub fn from_std(s: $Std) -> std::io::Result<$Stream> {
                s.set_nonblocking(true)?;
                let what = concat!(stringify!($Stream), "::from_std");
                let fd = $crate::net::fd::NetFd::new(<$Sock>::from_std(s), what)?;
                Ok($Stream::from_fd(fd))
            }

            /// Read what is available, at least one byte, waiting if there is none; `Ok(0)` is
            /// end of stream. Concurrent reads take turns.
            pub async fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                let _g = self.fd.lock(netpoll::Direction::Read).await?;
                self.fd.read(buf).await
            }

            /// Write some of `buf`, waiting for buffer space if there is none. Returns how much
            /// was written.
            pub async fn write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.fd
                    .locked_io(netpoll::Direction::Write, |mut s| {
                        std::io::Write::write(&mut s, buf)
                    })
                    .await
            }

            /// Go's `io.ReadFull`: fill `buf`, or fail with `UnexpectedEof`. Holds the read turn
            /// throughout, so concurrent readers cannot interleave.
            pub async fn read_exact(&self, buf: &mut [u8]) -> std::io::Result<()> {
                let _g = self.fd.lock(netpoll::Direction::Read).await?;
                self.fd.read_full(buf).await
            }

            /// Write all of `buf` (Go's `Write`). Holds the write turn throughout, so concurrent
            /// writes do not interleave.
            pub async fn write_all(&self, buf: &[u8]) -> std::io::Result<()> {
                let _g = self.fd.lock(netpoll::Direction::Write).await?;
                self.fd.write_full(buf).await
            }

            /// Shut down one or both directions (Go's `CloseRead` / `CloseWrite`).
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
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

            $crate::net::stream::stream_socket!(@conn $Addr);

            $crate::net::fd::deadline_methods!();

            /// `AsyncWrite::poll_close` and the write half's drop: shut down writing. A
            /// connection the peer already tore down is closed enough.
            fn shutdown_write(fd: &$crate::net::fd::NetFd<$Sock>) -> std::io::Result<()> {
                match fd.sock().shutdown(std::net::Shutdown::Write) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotConnected => Ok(()),
                    r => r,
                }
            }
        }

        $crate::net::stream::stream_socket!(@async_read $Stream, rtimer);
        $crate::net::stream::stream_socket!(@async_write $Stream, wtimer, $Stream);

        #[doc = concat!(
            "The read half of a [`", stringify!($Stream), "`], from [`",
            stringify!($Stream), "::into_split`]."
        )]
        pub struct OwnedReadHalf {
            fd: $crate::util::loom::sync::Arc<$crate::net::fd::NetFd<$Sock>>,
            timer: Option<$crate::time::Sleep>,
        }

        impl OwnedReadHalf {
            /// Read what is available, at least one byte, waiting if there is none; `Ok(0)` is
            /// end of stream.
            pub async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.fd.read(buf).await
            }

            /// Fill `buf`, or fail with `UnexpectedEof`.
            pub async fn read_exact(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
                self.fd.read_full(buf).await
            }

            /// Go's `SetReadDeadline`: reads fail with `TimedOut` once `deadline` has passed.
            pub fn set_read_deadline(
                &self,
                deadline: Option<std::time::Instant>,
            ) -> std::io::Result<()> {
                self.fd.set_deadline(netpoll::Direction::Read, deadline)
            }

            $crate::net::stream::stream_socket!(@conn $Addr);
        }

        $crate::net::stream::stream_socket!(@async_read OwnedReadHalf, timer);

        #[doc = concat!(
            "The write half of a [`", stringify!($Stream), "`], from [`",
            stringify!($Stream), "::into_split`]. Dropping it shuts down the write direction ",
            "(the peer reads EOF); the read half keeps working."
        )]
        pub struct OwnedWriteHalf {
            fd: $crate::util::loom::sync::Arc<$crate::net::fd::NetFd<$Sock>>,
            timer: Option<$crate::time::Sleep>,
        }

        impl OwnedWriteHalf {
            /// Write some of `buf`, waiting for buffer space if there is none. Returns how much
            /// was written.
            pub async fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.fd
                    .io(netpoll::Direction::Write, |mut s| {
                        std::io::Write::write(&mut s, buf)
                    })
                    .await
            }

            /// Write all of `buf`.
            pub async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
                self.fd.write_full(buf).await
            }

            /// Go's `SetWriteDeadline`: writes fail with `TimedOut` once `deadline` has passed.
            pub fn set_write_deadline(
                &self,
                deadline: Option<std::time::Instant>,
            ) -> std::io::Result<()> {
                self.fd.set_deadline(netpoll::Direction::Write, deadline)
            }

            $crate::net::stream::stream_socket!(@conn $Addr);
        }

        $crate::net::stream::stream_socket!(@async_write OwnedWriteHalf, timer, $Stream);

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if !self.fd.is_closed() {
                    let _ = $Stream::shutdown_write(&self.fd);
                }
            }
        }

        $crate::net::fd::fd_traits!($Listener, $Stream, OwnedReadHalf, OwnedWriteHalf);
    };
}
pub(crate) use stream_socket;
