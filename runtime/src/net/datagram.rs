//! Datagram sockets, written once for UDP and Unix: Go's `net.PacketConn` and the `conn` methods
//! `UDPConn` and a "unixgram" `UnixConn` both embed (net/net.go; net/udpsock.go, unixsock.go:
//! `ReadFrom`, `Read`, `Write`).
//!
//! [`datagram_socket!`] defines, in the module that invokes it (`udp.rs`, `unix.rs`), a datagram
//! socket type with every method that does not depend on the family: `recv_from`, `send`, `recv`,
//! `peer_addr`, `local_addr`, deadlines, `close`, `take_error`. The invoking module adds the rest:
//! binding, `connect` and `send_to` (their address arguments differ), socket options.
//!
//! Every operation is on `&self` and takes its direction's turn, so one socket can be shared
//! (`Arc<UdpSocket>`) by a receiving G and any number of sending Gs. The socket owns its
//! [`NetFd`] directly: unlike a stream it never splits.
//!
//! ## Where this differs from Go and why
//! Go writes these methods once, on `conn`, and embeds it; Rust has no embedding, and mio's
//! `UdpSocket` and `UnixDatagram` have the same methods but no trait in common, so the macro calls
//! them by name (see `stream.rs`).
//!
//! [`NetFd`]: super::fd::NetFd

/// A datagram socket type in the invoking module:
///
/// ```text
/// datagram_socket! {
///     /// docs
///     socket UdpSocket(mio::net::UdpSocket);
///     addr std::net::SocketAddr;
/// }
/// ```
macro_rules! datagram_socket {
    (
        $(#[$doc:meta])*
        socket $Socket:ident($Sock:ty);
        addr $Addr:ty;
    ) => {
        $(#[$doc])*
        pub struct $Socket {
            fd: $crate::net::fd::NetFd<$Sock>,
        }

        impl $Socket {
            /// Register a new socket with the current runtime's netpoller.
            fn register(sock: $Sock, what: &str) -> std::io::Result<$Socket> {
                Ok($Socket {
                    fd: $crate::net::fd::NetFd::new(sock, what)?,
                })
            }

            /// Receive one datagram (Go's `ReadFrom`): its length and sender. A datagram longer
            /// than `buf` is truncated.
            pub async fn recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $Addr)> {
                self.fd
                    .locked_io(netpoll::Direction::Read, |s| s.recv_from(buf))
                    .await
            }

            /// Send one datagram to the connected peer (Go's `Write` on a dialed connection).
            pub async fn send(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.fd
                    .locked_io(netpoll::Direction::Write, |s| s.send(buf))
                    .await
            }

            /// Receive one datagram from the connected peer (Go's `Read`). With UDP, an ICMP "port
            /// unreachable" for an earlier `send` may surface here as `ConnectionRefused`.
            pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.fd
                    .locked_io(netpoll::Direction::Read, |s| s.recv(buf))
                    .await
            }

            /// This socket's address.
            pub fn local_addr(&self) -> std::io::Result<$Addr> {
                self.fd.sock().local_addr()
            }

            /// The connected peer's address.
            pub fn peer_addr(&self) -> std::io::Result<$Addr> {
                self.fd.sock().peer_addr()
            }

            $crate::net::fd::deadline_methods!();

            /// Go's `Close`: Gs waiting on the socket wake with an error, as does every later
            /// operation.
            pub fn close(&self) {
                self.fd.close();
            }

            /// The pending socket error (`SO_ERROR`), cleared by reading it.
            pub fn take_error(&self) -> std::io::Result<Option<std::io::Error>> {
                self.fd.sock().take_error()
            }
        }

        $crate::net::fd::fd_traits!($Socket);
    };
}
pub(crate) use datagram_socket;
