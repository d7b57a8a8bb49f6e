//! Echo ping-pong over one connection, on gort and on tokio: the server G/task reads each
//! [`MSG`]-byte message whole and writes it back. Used by `benches/net_echo.rs` (gort's netpoller
//! path against tokio's) and by `benches/trace_overhead.rs` (a workload whose Gs make syscalls).
//! TCP sets `TCP_NODELAY` on both ends; the client runs as a G/task on a worker.

use std::time::{Duration, Instant};

/// Bytes per message.
pub const MSG: usize = 64;

pub mod gort {
    use super::*;
    use ::gort::net::{TcpListener, TcpStream, UnixStream};

    /// The echo side: read a whole message, write it back, until the client goes away.
    pub async fn echo_tcp(s: TcpStream) {
        let mut buf = [0u8; MSG];
        while s.read_exact(&mut buf).await.is_ok() {
            if s.write_all(&buf).await.is_err() {
                break;
            }
        }
    }

    pub async fn echo_unix(s: UnixStream) {
        let mut buf = [0u8; MSG];
        while s.read_exact(&mut buf).await.is_ok() {
            if s.write_all(&buf).await.is_err() {
                break;
            }
        }
    }

    pub fn tcp_pair(rt: &::gort::Runtime) -> TcpStream {
        rt.block_on(async {
            let ln = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = ln.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = ln.accept().await.unwrap();
            client.set_nodelay(true).unwrap();
            server.set_nodelay(true).unwrap();
            ::gort::go(echo_tcp(server));
            client
        })
    }

    pub fn unix_pair(rt: &::gort::Runtime) -> UnixStream {
        rt.block_on(async {
            let (client, server) = UnixStream::pair().unwrap();
            ::gort::go(echo_unix(server));
            client
        })
    }

    /// Run `n` round trips on `s` in a G; return the stream and the time they took.
    pub fn tcp_round_trips(rt: &::gort::Runtime, s: TcpStream, n: u64) -> (TcpStream, Duration) {
        rt.block_on(async move {
            let msg = [7u8; MSG];
            let mut buf = [0u8; MSG];
            let start = Instant::now();
            for _ in 0..n {
                s.write_all(&msg).await.unwrap();
                s.read_exact(&mut buf).await.unwrap();
            }
            (s, start.elapsed())
        })
    }

    pub fn unix_round_trips(rt: &::gort::Runtime, s: UnixStream, n: u64) -> (UnixStream, Duration) {
        rt.block_on(async move {
            let msg = [7u8; MSG];
            let mut buf = [0u8; MSG];
            let start = Instant::now();
            for _ in 0..n {
                s.write_all(&msg).await.unwrap();
                s.read_exact(&mut buf).await.unwrap();
            }
            (s, start.elapsed())
        })
    }
}

pub mod tok {
    use super::*;
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream, UnixStream};

    pub async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) {
        let mut buf = [0u8; MSG];
        while s.read_exact(&mut buf).await.is_ok() {
            if s.write_all(&buf).await.is_err() {
                break;
            }
        }
    }

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
    pub fn round_trips<S>(rt: &tokio::runtime::Runtime, mut s: S, n: u64) -> (S, Duration)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        rt.block_on(async move {
            tokio::spawn(async move {
                let msg = [7u8; MSG];
                let mut buf = [0u8; MSG];
                let start = Instant::now();
                for _ in 0..n {
                    s.write_all(&msg).await.unwrap();
                    s.read_exact(&mut buf).await.unwrap();
                }
                (s, start.elapsed())
            })
            .await
            .unwrap()
        })
    }
}
