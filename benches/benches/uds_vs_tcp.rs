//! The `uds_vs_tcp` chapter program (Go book ch. 8) as a benchmark: one request/response
//! conversation, gort over TCP on 127.0.0.1 beside gort over a Unix-domain socket.
//!
//! Each element is one round trip: the client G writes a 64-byte request carrying a number, the
//! server G reads it whole and answers with the number plus one, the client reads the answer whole
//! and checks it. Both connections go through a real listener (`bind`, `connect`, `accept`), as in
//! the chapter; TCP has `TCP_NODELAY` on both ends (Go's default). The runtime has 2 Ps and the
//! client runs as a G, so both sides pay the netpoller's park and wake-up; only the round trips are
//! timed (`iter_custom`). `cargo bench -p benches --bench uds_vs_tcp`; the chapter's example
//! (`cargo run --release --example uds_vs_tcp`) prints the same comparison in one run.
//! (`net_echo` compares gort with tokio on an echo over a socket pair instead.)

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gort::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream, UnixListener, UnixStream};

const MSG: usize = 64;
const ROUND_TRIPS: u64 = 100;

fn encode(n: u64) -> [u8; MSG] {
    let mut m = [0u8; MSG];
    m[..8].copy_from_slice(&n.to_be_bytes());
    m
}

fn number(m: &[u8; MSG]) -> u64 {
    u64::from_be_bytes(m[..8].try_into().expect("8 bytes"))
}

/// The server G: answer every request with its number plus one, until the client hangs up.
async fn answer<S: AsyncRead + AsyncWrite + Unpin>(mut conn: S) {
    let mut buf = [0u8; MSG];
    while conn.read_exact(&mut buf).await.is_ok() {
        if conn.write_all(&encode(number(&buf) + 1)).await.is_err() {
            break;
        }
    }
}

/// `n` round trips in a G on `rt`; returns the stream and the time they took.
fn round_trips<S>(rt: &gort::Runtime, mut s: S, n: u64) -> (S, Duration)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    rt.block_on(async move {
        let mut buf = [0u8; MSG];
        let start = Instant::now();
        for i in 0..n {
            s.write_all(&encode(i)).await.expect("request");
            s.read_exact(&mut buf).await.expect("answer");
            assert_eq!(number(&buf), i + 1, "wrong answer");
        }
        (s, start.elapsed())
    })
}

fn tcp_client(rt: &gort::Runtime) -> TcpStream {
    rt.block_on(async {
        let ln = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = ln.local_addr().expect("addr");
        let server = gort::go(async move {
            let (conn, _) = ln.accept().await.expect("accept");
            conn.set_nodelay(true).expect("nodelay");
            drop(gort::go(answer(conn)));
        });
        let client = TcpStream::connect(addr).await.expect("connect");
        client.set_nodelay(true).expect("nodelay");
        server.await.expect("accepted");
        client
    })
}

fn uds_client(rt: &gort::Runtime, path: PathBuf) -> UnixStream {
    rt.block_on(async move {
        let _ = std::fs::remove_file(&path);
        let ln = UnixListener::bind(&path).expect("bind");
        let server = gort::go(async move {
            let (conn, _) = ln.accept().await.expect("accept");
            drop(gort::go(answer(conn)));
        });
        let client = UnixStream::connect(&path).await.expect("connect");
        server.await.expect("accepted");
        let _ = std::fs::remove_file(&path); // connected: the name is no longer needed
        client
    })
}

fn uds_vs_tcp(c: &mut Criterion) {
    let mut g = c.benchmark_group("uds_vs_tcp_64B");
    g.throughput(Throughput::Elements(ROUND_TRIPS));
    let rt = gort::Builder::new().procs(2).build().expect("gort runtime");

    let mut stream = Some(tcp_client(&rt));
    g.bench_function("gort_tcp", |b| {
        b.iter_custom(|iters| {
            let s = stream.take().expect("stream");
            let (s, d) = round_trips(&rt, s, iters * ROUND_TRIPS);
            stream = Some(s);
            d
        })
    });
    drop(stream);

    let path = std::env::temp_dir().join(format!("gort-bench-uds-{}.sock", std::process::id()));
    let mut stream = Some(uds_client(&rt, path));
    g.bench_function("gort_uds", |b| {
        b.iter_custom(|iters| {
            let s = stream.take().expect("stream");
            let (s, d) = round_trips(&rt, s, iters * ROUND_TRIPS);
            stream = Some(s);
            d
        })
    });
    g.finish();
}

criterion_group!(benches, uds_vs_tcp);
criterion_main!(benches);
