//! Echo ping-pong over one connection: gort's netpoller path against tokio's, same worker count.
//!
//! Each iteration is `ROUND_TRIPS` round trips of a 64-byte message: the client writes it, the
//! server G/task reads it whole and writes it back, the client reads it whole. Both runtimes run
//! with 2 workers (gort: 2 Ps), the client runs as a G/task on a worker (not on the benchmark
//! thread), and only the round trips are timed (`iter_custom`). TCP sets `TCP_NODELAY` on both
//! ends. `cargo bench -p benches --bench net_echo`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const MSG: usize = 64;
const ROUND_TRIPS: u64 = 100;
const WORKERS: usize = 2;

fn gort_rt() -> runtime::Runtime {
    runtime::Builder::new()
        .procs(WORKERS)
        .build()
        .expect("gort runtime")
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

mod gort {
    use super::*;
    use runtime::net::{TcpListener, TcpStream, UnixStream};

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

    pub fn tcp_pair(rt: &runtime::Runtime) -> TcpStream {
        rt.block_on(async {
            let ln = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = ln.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = ln.accept().await.unwrap();
            client.set_nodelay(true).unwrap();
            server.set_nodelay(true).unwrap();
            runtime::go(echo_tcp(server));
            client
        })
    }

    pub fn unix_pair(rt: &runtime::Runtime) -> UnixStream {
        rt.block_on(async {
            let (client, server) = UnixStream::pair().unwrap();
            runtime::go(echo_unix(server));
            client
        })
    }

    /// Run `n` round trips on `s` in a G; return the stream and the time they took.
    pub fn tcp_round_trips(rt: &runtime::Runtime, s: TcpStream, n: u64) -> (TcpStream, Duration) {
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

    pub fn unix_round_trips(
        rt: &runtime::Runtime,
        s: UnixStream,
        n: u64,
    ) -> (UnixStream, Duration) {
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

mod tok {
    use super::*;
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream, UnixStream};

    async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) {
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

fn tcp_echo(c: &mut Criterion) {
    let mut g = c.benchmark_group("tcp_echo_64B");
    g.throughput(Throughput::Elements(ROUND_TRIPS));

    let rt = gort_rt();
    let mut stream = Some(gort::tcp_pair(&rt));
    g.bench_function("gort", |b| {
        b.iter_custom(|iters| {
            let s = stream.take().expect("stream");
            let (s, d) = gort::tcp_round_trips(&rt, s, iters * ROUND_TRIPS);
            stream = Some(s);
            d
        })
    });
    drop(stream);
    drop(rt);

    let rt = tokio_rt();
    let mut stream = Some(tok::tcp_pair(&rt));
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            let s = stream.take().expect("stream");
            let (s, d) = tok::round_trips(&rt, s, iters * ROUND_TRIPS);
            stream = Some(s);
            d
        })
    });
    g.finish();
}

fn unix_echo(c: &mut Criterion) {
    let mut g = c.benchmark_group("unix_echo_64B");
    g.throughput(Throughput::Elements(ROUND_TRIPS));

    let rt = gort_rt();
    let mut stream = Some(gort::unix_pair(&rt));
    g.bench_function("gort", |b| {
        b.iter_custom(|iters| {
            let s = stream.take().expect("stream");
            let (s, d) = gort::unix_round_trips(&rt, s, iters * ROUND_TRIPS);
            stream = Some(s);
            d
        })
    });
    drop(stream);
    drop(rt);

    let rt = tokio_rt();
    let mut stream = Some(tok::unix_pair(&rt));
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            let s = stream.take().expect("stream");
            let (s, d) = tok::round_trips(&rt, s, iters * ROUND_TRIPS);
            stream = Some(s);
            d
        })
    });
    g.finish();
}

criterion_group!(benches, tcp_echo, unix_echo);
criterion_main!(benches);
