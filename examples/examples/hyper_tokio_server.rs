//! # hyper_tokio_server — the comparison peer: hyper 1.x's HTTP/1 server on tokio
//!
//! Run: `cargo run --release --example hyper_tokio_server -- --addr 127.0.0.1:8082`
//! then `cargo run --release --example loadgen -- -u http://127.0.0.1:8082/`
//! (or `scripts/bench_http.sh`, which runs all three servers one after another).
//!
//! What to watch for: nothing gort-specific — this is the yardstick. It is the same hello server as
//! `hyper_server.rs`, with hyper's I/O and timer traits implemented over tokio instead of gort, on
//! tokio's multi-threaded runtime with one worker per core (tokio's default), so a benchmark compares
//! the runtimes and nothing else. Its `Read`/`Write` adapter is the usual one (what `hyper-util`'s
//! `TokioIo` does), written out here because this example may depend only on hyper and tokio (and
//! on this package's std-only `examples::addr_flag`, so both servers take the same command line).
//!
//! Chapter: network I/O through the netpoller — the same chapter, on the runtime gort is measured
//! against.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use tokio::io::{AsyncRead, AsyncWrite};

const HELLO: &str = "Hello, World!\n";

/// hyper's I/O traits over a tokio stream.
struct Io<T>(T);

impl<T: AsyncRead + Unpin> hyper::rt::Read for Io<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: tokio's ReadBuf over the cursor's unfilled memory never de-initializes bytes
        // (it only writes into them), which is `as_mut`'s contract.
        let n = unsafe {
            let mut tbuf = tokio::io::ReadBuf::uninit(buf.as_mut());
            match Pin::new(&mut self.0).poll_read(cx, &mut tbuf) {
                Poll::Ready(Ok(())) => tbuf.filled().len(),
                other => return other,
            }
        };
        // SAFETY: tokio's ReadBuf reported these `n` bytes as filled, so they are initialized.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for Io<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// hyper's timer over tokio's.
#[derive(Clone, Copy)]
struct TokioTimer;

struct TokioSleep(Pin<Box<tokio::time::Sleep>>);

impl Future for TokioSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for TokioSleep {}

impl hyper::rt::Timer for TokioTimer {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(TokioSleep(Box::pin(tokio::time::sleep(d))))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(TokioSleep(Box::pin(tokio::time::sleep_until(
            deadline.into(),
        ))))
    }
}

async fn hello(_req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut resp = Response::new(Full::new(Bytes::from_static(HELLO.as_bytes())));
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(resp)
}

fn main() -> std::process::ExitCode {
    // The same command line as hyper_server's (the flag parser is plain std, nothing of gort's).
    let addr = match examples::addr_flag("hyper_tokio_server", "127.0.0.1:8080") {
        Ok(addr) => addr,
        Err(usage) => return usage,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hyper_tokio_server: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("hyper_tokio_server: bind {addr}: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(a) => println!("listening on {a}"),
            Err(e) => eprintln!("hyper_tokio_server: {e}"),
        }
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return std::process::ExitCode::SUCCESS,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(async move {
                        let _ = http1::Builder::new()
                            .timer(TokioTimer)
                            .serve_connection(Io(stream), service_fn(hello))
                            .await;
                    });
                }
            }
        }
    })
}
