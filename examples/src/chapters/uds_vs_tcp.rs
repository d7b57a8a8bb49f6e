//! TCP or a Unix socket? (Go book, chapter 8): the same request/response conversation over both,
//! timed.
//!
//! A client sends a small request — a number, padded to `MSG` bytes — and waits for the answer, the
//! number plus one; `n` times in a row on one connection, so each round trip pays the full cost of
//! a message going to the server and back: two system calls on each side, a wake-up through each
//! side's netpoller, and the kernel's path in between. That last part is what differs: TCP on
//! loopback still runs the whole TCP/IP stack (segments, ACKs, windows, congestion state), a Unix
//! socket just moves the bytes into the peer's receive buffer. Everything else — the code
//! included — is identical, which is the point of Go's `net.Conn` and of the generic functions
//! below.
//!
//! TCP gets `TCP_NODELAY`, as Go sets by default: with small messages Nagle's algorithm would
//! otherwise hold a write back waiting for an ACK, and the test would measure that instead.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use gort::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream, UnixStream};

use super::echo_unix::listen;

/// Size of a request and of an answer.
pub const MSG: usize = 64;

/// `n` round trips and how long they took.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub round_trips: u64,
    pub elapsed: Duration,
}

impl Timing {
    pub fn per_round_trip(&self) -> Duration {
        self.elapsed / self.round_trips.max(1) as u32
    }
}

/// Both transports, same conversation.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub tcp: Timing,
    pub uds: Timing,
}

/// The server: answer every request with its number plus one, until the client hangs up.
pub async fn answer<S: AsyncRead + AsyncWrite + Unpin>(mut conn: S) -> io::Result<u64> {
    let mut buf = [0u8; MSG];
    let mut answered = 0;
    loop {
        match conn.read_exact(&mut buf).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(answered),
            Err(e) => return Err(e),
        }
        let n = number(&buf);
        conn.write_all(&encode(n.wrapping_add(1))).await?;
        answered += 1;
    }
}

/// The client: `n` request/response round trips, each answer checked, timed together.
pub async fn ask<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut S, n: u64) -> io::Result<Timing> {
    let mut buf = [0u8; MSG];
    let start = Instant::now();
    for i in 0..n {
        conn.write_all(&encode(i)).await?;
        conn.read_exact(&mut buf).await?;
        if number(&buf) != i.wrapping_add(1) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("request {i} got answer {}", number(&buf)),
            ));
        }
    }
    Ok(Timing {
        round_trips: n,
        elapsed: start.elapsed(),
    })
}

fn encode(n: u64) -> [u8; MSG] {
    let mut m = [0u8; MSG];
    m[..8].copy_from_slice(&n.to_be_bytes());
    m
}

fn number(m: &[u8; MSG]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&m[..8]);
    u64::from_be_bytes(b)
}

/// `n` round trips over TCP on 127.0.0.1.
pub async fn over_tcp(n: u64) -> io::Result<Timing> {
    let ln = TcpListener::bind("127.0.0.1:0")?;
    let addr = ln.local_addr()?;
    let server = gort::go(async move {
        let (conn, _) = ln.accept().await?;
        conn.set_nodelay(true)?;
        answer(conn).await
    });
    let mut conn = TcpStream::connect(addr).await?;
    conn.set_nodelay(true)?;
    let timing = ask(&mut conn, n).await;
    drop(conn); // hang up: the server's read sees end of stream
    finish(server, timing).await
}

/// `n` round trips over a Unix socket at `path` (removed afterwards).
pub async fn over_uds(path: PathBuf, n: u64) -> io::Result<Timing> {
    let ln = listen(&path)?;
    let server = gort::go(async move {
        let (conn, _) = ln.accept().await?;
        answer(conn).await
    });
    let timing = match UnixStream::connect(&path).await {
        Ok(mut conn) => ask(&mut conn, n).await,
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_file(&path);
    finish(server, timing).await
}

/// The client is done (or failed): check the server answered every request.
async fn finish(
    server: gort::JoinHandle<io::Result<u64>>,
    timing: io::Result<Timing>,
) -> io::Result<Timing> {
    let timing = match timing {
        Ok(t) => t,
        Err(e) => {
            server.abort(); // it may still be waiting for a connection
            return Err(e);
        }
    };
    let answered = server.await.map_err(io::Error::other)??;
    if answered != timing.round_trips {
        return Err(io::Error::other(format!(
            "the server answered {answered} requests, the client made {}",
            timing.round_trips
        )));
    }
    Ok(timing)
}

/// The same `n` round trips over TCP, then over a Unix socket at `path`.
pub async fn compare(n: u64, path: PathBuf) -> io::Result<Report> {
    Ok(Report {
        tcp: over_tcp(n).await?,
        uds: over_uds(path, n).await?,
    })
}
