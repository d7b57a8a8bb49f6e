//! A TCP echo server and its client (the network chapters of the Go book: `net.Listen`, `Accept`,
//! a goroutine per connection).
//!
//! The server is Go's canonical loop: accept a connection, start a G for it, go back to accepting.
//! Each G reads whatever has arrived and writes it back, in plain sequential code; when a read
//! finds nothing, the G parks on the netpoller and its P runs other connections' Gs. Thousands of
//! connections cost thousands of small Gs, not threads.
//!
//! `echo` and `exchange` are generic over the stream (`AsyncRead + AsyncWrite`, Go's `io.Reader`
//! and `io.Writer`), and `serve` over the listener ([`Listener`], Go's `net.Listener`), so
//! `echo_unix` and `uds_vs_tcp` use them unchanged over Unix sockets.

use std::future::Future;
use std::io;

use gort::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream, UnixListener, UnixStream};

/// Echo everything read from `conn` back to it until the peer closes its side; returns how many
/// bytes went round.
pub async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut conn: S) -> io::Result<u64> {
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0;
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(total); // end of stream: the client is done
        }
        conn.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

/// The client's side of one round trip: send `msg`, read back exactly as many bytes. The whole
/// message is written before anything is read, so it must fit in the two sockets' buffers (many
/// kilobytes on any system); a client streaming more would read and write in two Gs.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut S,
    msg: &[u8],
) -> io::Result<Vec<u8>> {
    conn.write_all(msg).await?;
    let mut back = vec![0u8; msg.len()];
    conn.read_exact(&mut back).await?;
    Ok(back)
}

/// Go's `net.Listener`, the part the accept loop needs: one loop serves every kind of listener
/// (`echo_unix` passes a `UnixListener`).
pub trait Listener: Send + Sync + 'static {
    type Conn: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Wait for the next connection (the peer's address is left out: not every kind has one).
    fn accept(&self) -> impl Future<Output = io::Result<Self::Conn>> + Send;
}

impl Listener for TcpListener {
    type Conn = TcpStream;

    async fn accept(&self) -> io::Result<TcpStream> {
        Ok(TcpListener::accept(self).await?.0)
    }
}

impl Listener for UnixListener {
    type Conn = UnixStream;

    async fn accept(&self) -> io::Result<UnixStream> {
        Ok(UnixListener::accept(self).await?.0)
    }
}

/// The accept loop: a G per connection. Serves `max` connections (then returns), or forever.
pub async fn serve<L: Listener>(ln: L, max: Option<usize>) -> io::Result<()> {
    let mut accepted = 0;
    while Some(accepted) != max {
        let conn = ln.accept().await?;
        accepted += 1;
        // A connection's failure (a reset, say) ends that connection only.
        drop(gort::go(echo(conn)));
    }
    Ok(())
}

/// The message client `c` sends as its `i`th: `size` bytes, a pattern particular to both, so a
/// reply that went to the wrong client or lost its order would not match.
pub fn message(c: usize, i: usize, size: usize) -> Vec<u8> {
    (0..size)
        .map(|k| (c.wrapping_mul(31) ^ i.wrapping_mul(7) ^ k) as u8)
        .collect()
}

/// What a demo run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub round_trips: usize,
    pub bytes: u64,
    /// Round trips whose reply differed from the request.
    pub mismatches: usize,
}

/// Start an echo server on `127.0.0.1:0` and `clients` client Gs, each making `msgs` round trips
/// of `size` bytes on its own connection.
pub async fn demo(clients: usize, msgs: usize, size: usize) -> io::Result<Report> {
    let ln = TcpListener::bind("127.0.0.1:0")?;
    let addr = ln.local_addr()?;
    let server = gort::go(serve(ln, Some(clients)));
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            gort::go(async move {
                let mut conn = TcpStream::connect(addr).await?;
                run_client(&mut conn, c, msgs, size).await
            })
        })
        .collect();
    finish(server, collect(handles).await).await
}

/// One client's round trips, checked.
pub async fn run_client<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut S,
    c: usize,
    msgs: usize,
    size: usize,
) -> io::Result<Report> {
    let mut r = Report::default();
    for i in 0..msgs {
        let msg = message(c, i, size);
        let back = exchange(conn, &msg).await?;
        r.round_trips += 1;
        r.bytes += back.len() as u64;
        r.mismatches += usize::from(back != msg);
    }
    Ok(r)
}

/// Wait for the server after its clients: if a client failed, the server may still be waiting to
/// accept a connection that will never come, so it is aborted instead.
pub async fn finish(
    server: gort::JoinHandle<io::Result<()>>,
    clients: io::Result<Report>,
) -> io::Result<Report> {
    if clients.is_err() {
        server.abort();
        return clients;
    }
    server.await.map_err(io::Error::other)??;
    clients
}

/// Add up the clients' reports; the first error, if any, wins.
pub async fn collect(handles: Vec<gort::JoinHandle<io::Result<Report>>>) -> io::Result<Report> {
    let mut total = Report::default();
    for h in handles {
        let r = h.await.map_err(io::Error::other)??;
        total.round_trips += r.round_trips;
        total.bytes += r.bytes;
        total.mismatches += r.mismatches;
    }
    Ok(total)
}
