//! Echo ping-pong over one connection, on gort and on tokio: the server G/task reads each
//! [`MSG`]-byte message whole and writes it back. Used by `benches/net_echo.rs` (gort's netpoller
//! path against tokio's) and by `benches/trace_overhead.rs` (a workload whose Gs make syscalls).
//! TCP sets `TCP_NODELAY` on both ends; the client runs as a G/task on a worker.
//!
//! The echo and the timed client loop are written once, over [`Conn`]; only making a connected
//! pair differs between the runtimes.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

/// Bytes per message.
pub const MSG: usize = 64;

/// A connected stream of either runtime, by its own whole-buffer read and write: gort's
/// `read_exact`/`write_all` methods (the netpoller path), tokio's `AsyncReadExt`/`AsyncWriteExt`.
pub trait Conn: Send + 'static {
    fn read_exact<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;

    fn write_all<'a>(
        &'a mut self,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

/// The echo side: read a whole message, write it back, until the client goes away.
pub async fn echo<S: Conn>(mut s: S) {
    let mut buf = [0u8; MSG];
    while s.read_exact(&mut buf).await.is_ok() {
        if s.write_all(&buf).await.is_err() {
            break;
        }
    }
}

/// The client side: `n` round trips on `s`; returns the stream and the time they took.
pub async fn timed_round_trips<S: Conn>(mut s: S, n: u64) -> (S, Duration) {
    let msg = [7u8; MSG];
    let mut buf = [0u8; MSG];
    let start = Instant::now();
    for _ in 0..n {
        s.write_all(&msg).await.unwrap();
        s.read_exact(&mut buf).await.unwrap();
    }
    (s, start.elapsed())
}

pub mod gort {
    use super::*;
    use ::gort::net::{TcpListener, TcpStream, UnixStream};

    /// [`Conn`] for gort stream types, by their own methods.
    macro_rules! conn_by_own_methods {
        ($($t:ty),*) => {$(
            impl Conn for $t {
                fn read_exact<'a>(
                    &'a mut self,
                    buf: &'a mut [u8],
                ) -> impl Future<Output = io::Result<()>> + Send + 'a {
                    <$t>::read_exact(self, buf)
                }

                fn write_all<'a>(
                    &'a mut self,
                    buf: &'a [u8],
                ) -> impl Future<Output = io::Result<()>> + Send + 'a {
                    <$t>::write_all(self, buf)
                }
            }
        )*};
    }

    conn_by_own_methods!(TcpStream, UnixStream);

    pub fn tcp_pair(rt: &::gort::Runtime) -> TcpStream {
        rt.block_on(async {
            let ln = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = ln.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = ln.accept().await.unwrap();
            client.set_nodelay(true).unwrap();
            server.set_nodelay(true).unwrap();
            ::gort::go(echo(server));
            client
        })
    }

    pub fn unix_pair(rt: &::gort::Runtime) -> UnixStream {
        rt.block_on(async {
            let (client, server) = UnixStream::pair().unwrap();
            ::gort::go(echo(server));
            client
        })
    }

    /// Run `n` round trips on `s` in a G (gort's `block_on` runs its future as a G on an M);
    /// return the stream and the time they took.
    pub fn round_trips<S: Conn>(rt: &::gort::Runtime, s: S, n: u64) -> (S, Duration) {
        rt.block_on(timed_round_trips(s, n))
    }
}

pub mod tok {
    use super::*;
    use crate::in_task;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream, UnixStream};

    /// [`Conn`] for tokio stream types, by `AsyncReadExt`/`AsyncWriteExt`.
    macro_rules! conn_by_ext_traits {
        ($($t:ty),*) => {$(
            impl Conn for $t {
                async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
                    AsyncReadExt::read_exact(self, buf).await.map(drop)
                }

                fn write_all<'a>(
                    &'a mut self,
                    buf: &'a [u8],
                ) -> impl Future<Output = io::Result<()>> + Send + 'a {
                    AsyncWriteExt::write_all(self, buf)
                }
            }
        )*};
    }

    conn_by_ext_traits!(TcpStream, UnixStream);

    pub fn tcp_pair(rt: &tokio::runtime::Runtime) -> TcpStream {
        rt.block_on(async {
            let ln = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = ln.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = ln.accept().await.unwrap();
            client.set_nodelay(true).unwrap();
            server.set_nodelay(true).unwrap();
            tokio::spawn(echo(server));
            client
        })
    }

    pub fn unix_pair(rt: &tokio::runtime::Runtime) -> UnixStream {
        rt.block_on(async {
            let (client, server) = UnixStream::pair().unwrap();
            tokio::spawn(echo(server));
            client
        })
    }

    /// Run `n` round trips on `s` in a task on a worker (as gort's G runs on an M).
    pub fn round_trips<S: Conn>(rt: &tokio::runtime::Runtime, s: S, n: u64) -> (S, Duration) {
        rt.block_on(in_task(timed_round_trips(s, n)))
    }
}
