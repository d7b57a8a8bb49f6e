//! UDP multicast (Go book, chapter 7): a tick server sends a timestamp to a multicast group every
//! period, and every listener that joined the group receives it — one send, any number of
//! receivers, and the sender does not know or care who they are.
//!
//! - The listener binds the group's address and port, then *joins* the group on an interface
//!   (`IP_ADD_MEMBERSHIP`): that is what makes the host accept the group's datagrams. It sets
//!   `SO_REUSEADDR` first, as Go's `net.ListenMulticastUDP` does, so several listeners on one host
//!   can share the port, each getting its own copy.
//! - The sender is an ordinary UDP socket; it picks the outgoing interface (`IP_MULTICAST_IF`), keeps
//!   the datagrams on this host (TTL 1) and asks for its own host's members to get a copy
//!   (`IP_MULTICAST_LOOP`).
//!
//! The default group is 239.0.0.1 (administratively scoped) on the loopback interface, so nothing
//! leaves the machine. Some hosts cannot do multicast at all (no interface or route for it, or a
//! sandbox that filters it): those failures are reported as [`McError::Unavailable`], so the example
//! can say so plainly instead of failing.
//!
//! The socket options Go sets through `syscall` are set here through `libc` on the socket's file
//! descriptor: the only `unsafe` code in the chapter programs.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gort::net::UdpSocket;

/// The default group: in 239.0.0.0/8, the block reserved for use inside one organisation.
pub const GROUP: Ipv4Addr = Ipv4Addr::new(239, 0, 0, 1);
/// The default interface: loopback, so the datagrams stay on this host.
pub const IFACE: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Why multicast failed.
#[derive(Debug)]
pub enum McError {
    /// This host cannot do multicast here: no interface or route for it, or the datagrams never
    /// come back. Not a bug in the program.
    Unavailable(String),
    /// Anything else.
    Other(io::Error),
}

impl fmt::Display for McError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            McError::Unavailable(why) => {
                write!(f, "multicast is not available on this host: {why}")
            }
            McError::Other(e) => write!(f, "{e}"),
        }
    }
}

/// Sort an OS error: the errors a host without multicast support gives are `Unavailable`.
fn classify(what: &str, e: io::Error) -> McError {
    let unavailable = [
        libc::ENODEV,
        libc::EADDRNOTAVAIL,
        libc::ENETUNREACH,
        libc::EHOSTUNREACH,
        libc::ENOPROTOOPT,
        libc::EPERM,
    ];
    match e.raw_os_error() {
        Some(code) if unavailable.contains(&code) => McError::Unavailable(format!("{what}: {e}")),
        _ => McError::Other(io::Error::new(e.kind(), format!("{what}: {e}"))),
    }
}

fn os<T>(r: libc::c_int, ok: T) -> io::Result<T> {
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ok)
    }
}

/// `setsockopt(fd, level, name, &value)`.
fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` is a valid, initialised `T` for the duration of the call, and its size is
    // passed with it; the kernel copies it and keeps no pointer.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    os(r, ())
}

fn in_addr(ip: Ipv4Addr) -> libc::in_addr {
    libc::in_addr {
        s_addr: u32::from(ip).to_be(),
    }
}

/// A UDP socket with `SO_REUSEADDR` set *before* it is bound to `addr` (std's `bind` leaves no
/// moment to set it).
fn bind_reuse(addr: SocketAddrV4) -> io::Result<std::net::UdpSocket> {
    // SAFETY: plain system call; a negative result is handled below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0) };
    os(fd, ())?;
    // SAFETY: `fd` is a fresh socket that nothing else owns; from here `sock` closes it, on every
    // path.
    let sock = unsafe { std::net::UdpSocket::from_raw_fd(fd) };
    setsockopt(
        fd,
        libc::SOL_SOCKET,
        libc::SO_REUSEADDR,
        &(1 as libc::c_int),
    )?;
    // SAFETY: all-zero is a valid `sockaddr_in` (and sets BSD's `sin_len` to 0, which the kernel
    // replaces with the length argument).
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = addr.port().to_be();
    sa.sin_addr = in_addr(*addr.ip());
    // SAFETY: `sa` is a valid `sockaddr_in` and its exact size is passed; bind copies it.
    let r = unsafe {
        libc::bind(
            fd,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    os(r, sock)
}

/// A listener: bound to `group:port` with `SO_REUSEADDR`, member of `group` on the interface with
/// address `iface`. Port 0 picks a free port (see `local_addr`).
pub fn listener(group: Ipv4Addr, port: u16, iface: Ipv4Addr) -> Result<UdpSocket, McError> {
    if !group.is_multicast() {
        return Err(McError::Other(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{group} is not a multicast group (224.0.0.0/4)"),
        )));
    }
    let std_sock = bind_reuse(SocketAddrV4::new(group, port))
        .map_err(|e| classify(&format!("bind {group}:{port}"), e))?;
    let sock = UdpSocket::from_std(std_sock).map_err(McError::Other)?;
    sock.join_multicast_v4(&group, &iface)
        .map_err(|e| classify(&format!("join {group} on {iface}"), e))?;
    Ok(sock)
}

/// A sender: multicast goes out of the interface with address `iface`, stays on this host's
/// network (TTL 1), and is looped back to this host's members.
pub fn sender(iface: Ipv4Addr) -> Result<UdpSocket, McError> {
    let sock = UdpSocket::bind((iface, 0)).map_err(|e| classify(&format!("bind {iface}"), e))?;
    setsockopt(
        sock.as_raw_fd(),
        libc::IPPROTO_IP,
        libc::IP_MULTICAST_IF,
        &in_addr(iface),
    )
    .map_err(|e| classify(&format!("IP_MULTICAST_IF {iface}"), e))?;
    sock.set_multicast_ttl_v4(1).map_err(McError::Other)?;
    sock.set_multicast_loop_v4(true)
        .map_err(|e| classify("IP_MULTICAST_LOOP", e))?;
    Ok(sock)
}

/// One tick as sent: a sequence number and the sender's wall clock, as text
/// (`"tick <seq> <unix micros>"`), so `tcpdump -A` shows it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub seq: u64,
    pub unix_micros: u64,
}

impl Tick {
    pub fn now(seq: u64) -> Tick {
        Tick {
            seq,
            unix_micros: unix_micros(),
        }
    }

    pub fn encode(&self) -> String {
        format!("tick {} {}", self.seq, self.unix_micros)
    }

    /// `None` for anything that is not a tick (anyone may send to a group).
    pub fn parse(datagram: &[u8]) -> Option<Tick> {
        let text = std::str::from_utf8(datagram).ok()?;
        let mut words = text.split(' ');
        if words.next()? != "tick" {
            return None;
        }
        let seq = words.next()?.parse().ok()?;
        let unix_micros = words.next()?.parse().ok()?;
        words.next().is_none().then_some(Tick { seq, unix_micros })
    }

    /// How long ago it was sent, by this host's clock (meaningful when sender and receiver share
    /// a clock, as on loopback).
    pub fn age(&self) -> Duration {
        Duration::from_micros(unix_micros().saturating_sub(self.unix_micros))
    }
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The tick server: send a tick to `to` every `every` (Go's `time.NewTicker` loop), `count` times
/// or forever. Returns how many it sent.
pub async fn tick_server(
    sock: &UdpSocket,
    to: SocketAddr,
    every: Duration,
    count: Option<u64>,
) -> io::Result<u64> {
    let mut ticker = gort::time::tick(every);
    let mut seq = 0;
    while Some(seq) != count {
        ticker.tick().await;
        sock.send_to(Tick::now(seq).encode().as_bytes(), to).await?;
        seq += 1;
    }
    Ok(seq)
}

/// A tick as received.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub tick: Tick,
    pub from: SocketAddr,
    /// How long after it was sent it arrived (both clocks are this host's).
    pub age: Duration,
}

/// Receive ticks on `sock` until `count` have arrived or none has for `patience` (a read deadline,
/// Go's `SetReadDeadline`). Datagrams that are not ticks are skipped.
pub async fn listen(
    sock: &UdpSocket,
    count: usize,
    patience: Duration,
) -> io::Result<Vec<Received>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while got.len() < count {
        sock.set_read_deadline(Some(Instant::now() + patience))?;
        match sock.recv_from(&mut buf).await {
            Ok((n, from)) => {
                if let Some(tick) = Tick::parse(&buf[..n]) {
                    let age = tick.age();
                    got.push(Received { tick, from, age });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => break,
            Err(e) => return Err(e),
        }
    }
    sock.set_read_deadline(None)?;
    Ok(got)
}

/// Both ends in one program: a listener joins `group` on `iface` (a free port), a tick server sends
/// `count` ticks to it `every` apart; returns what the listener received. If nothing arrives the
/// host does not deliver multicast here: `Unavailable`.
pub async fn demo(
    group: Ipv4Addr,
    iface: Ipv4Addr,
    every: Duration,
    count: u64,
) -> Result<Vec<Received>, McError> {
    let rx = listener(group, 0, iface)?;
    let port = rx.local_addr().map_err(McError::Other)?.port();
    let tx = sender(iface)?;
    let to = SocketAddr::from((group, port));
    let server = gort::go(async move { tick_server(&tx, to, every, Some(count)).await });
    let patience = every + Duration::from_secs(2);
    let got = listen(&rx, count as usize, patience).await;
    let sent = server
        .await
        .map_err(|e| McError::Other(io::Error::other(e)))?;
    let sent = sent.map_err(|e| classify(&format!("send to {to}"), e))?;
    let got = got.map_err(McError::Other)?;
    if got.is_empty() {
        return Err(McError::Unavailable(format!(
            "sent {sent} datagrams to {to} via {iface}, none came back within {patience:?}"
        )));
    }
    Ok(got)
}
