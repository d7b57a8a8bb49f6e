//! UDP: Go's `net.UDPConn` (net/udpsock.go, udpsock_posix.go) and the multicast options of
//! net/sockoptip_posix.go.
//!
//! The type and what it shares with Unix datagram sockets (`recv_from`, `send`, `recv`, deadlines,
//! `close`) come from `datagram.rs`. This file holds what is UDP's own: binding and connecting to
//! resolved addresses, `send_to` an IP address, broadcast, TTL and multicast.
//!
//! ## Where this differs from Go and why
//! Go's `ListenUDP` and `DialUDP` are one type created two ways; here `bind` creates the socket and
//! [`UdpSocket::connect`] sets its default peer afterwards, as `std::net::UdpSocket` does.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use netpoll::Direction::Write;

use super::datagram::datagram_socket;
use super::{each_addr, resolve, ToSocketAddrs};

datagram_socket! {
    /// A UDP socket.
    ///
    /// Every operation is on `&self`, so one socket can be shared (`Arc<UdpSocket>`) by a
    /// receiving G and any number of sending Gs; each direction runs one operation at a time, the
    /// rest queue.
    socket UdpSocket(mio::net::UdpSocket);
    addr SocketAddr;
}

impl UdpSocket {
    /// Bind to the first address `addr` resolves to that can be bound (Go's `ListenUDP`).
    /// Synchronous. Port 0 picks a free port.
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let sock = each_addr(resolve(&addr)?, mio::net::UdpSocket::bind)?;
        UdpSocket::register(sock, "UdpSocket::bind")
    }

    /// Adopt a bound std socket (made non-blocking here).
    pub fn from_std(s: std::net::UdpSocket) -> io::Result<UdpSocket> {
        s.set_nonblocking(true)?;
        UdpSocket::register(mio::net::UdpSocket::from_std(s), "UdpSocket::from_std")
    }

    /// Send one datagram to `target` (Go's `WriteTo`). Returns the bytes sent.
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.fd.locked_io(Write, |s| s.send_to(buf, target)).await
    }

    /// Set the default peer: `send` goes there and `recv` accepts only its datagrams. Synchronous
    /// (no packet is sent).
    pub fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        each_addr(resolve(&addr)?, |a| self.fd.sock().connect(a))
    }

    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.fd.sock().set_broadcast(on)
    }

    pub fn broadcast(&self) -> io::Result<bool> {
        self.fd.sock().broadcast()
    }

    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.fd.sock().set_ttl(ttl)
    }

    pub fn ttl(&self) -> io::Result<u32> {
        self.fd.sock().ttl()
    }

    /// Join an IPv4 multicast group on the interface with address `interface`
    /// (`Ipv4Addr::UNSPECIFIED`: the system's choice).
    pub fn join_multicast_v4(&self, group: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.fd.sock().join_multicast_v4(group, interface)
    }

    pub fn leave_multicast_v4(&self, group: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.fd.sock().leave_multicast_v4(group, interface)
    }

    /// Join an IPv6 multicast group on the interface with index `interface` (0: the system's
    /// choice).
    pub fn join_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.fd.sock().join_multicast_v6(group, interface)
    }

    pub fn leave_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.fd.sock().leave_multicast_v6(group, interface)
    }

    /// Whether this host receives its own multicast datagrams (default on).
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.fd.sock().set_multicast_loop_v4(on)
    }

    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.fd.sock().multicast_loop_v4()
    }

    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.fd.sock().set_multicast_loop_v6(on)
    }

    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.fd.sock().multicast_loop_v6()
    }

    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.fd.sock().set_multicast_ttl_v4(ttl)
    }
}
