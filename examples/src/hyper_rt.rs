//! hyper on gort: hyper 1.x is runtime-agnostic, and asks its runtime for exactly three things,
//! its `rt` traits. This file gives it gort's:
//!
//! | hyper wants                 | gort gives                                                   |
//! |-----------------------------|--------------------------------------------------------------|
//! | `rt::Read` + `rt::Write`    | [`GortIo`]: a `gort::net::TcpStream`, parked on the netpoller |
//! | `rt::Executor` (spawn)      | [`GortExecutor`]: `gort::go`, a new G                       |
//! | `rt::Timer` (sleep)         | [`GortTimer`]: `gort::time::sleep`, a timer on a P's heap    |
//!
//! With these, hyper's whole HTTP/1 state machine runs as one G per connection, and every read
//! or write that would block parks that G on the netpoller, as a Go `net/http` goroutine does.
//! [`serve_hello`] is the accept loop of `examples/hyper_server.rs`.
//!
//! Where this differs from the tokio glue (`hyper-util`'s `TokioIo`): hyper reads into
//! uninitialized memory, and gort's sockets implement `futures_io::AsyncRead`, which takes an
//! initialized `&mut [u8]`. Rather than reach for `unsafe`, [`GortIo`] reads into its own
//! buffer (zeroed once, when the connection starts) and copies what arrived into hyper's.
//! Requests are small, so the copy costs far less than the system call that produced the bytes.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gort::chan::Receiver;
use gort::io::{AsyncRead, AsyncWrite};
use gort::net::{TcpListener, TcpStream};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;

use crate::http::race::{first, First};
use crate::http::HELLO;

/// How much one read may bring in.
const SCRATCH: usize = 8 * 1024;

/// A gort socket as hyper's I/O.
pub struct GortIo {
    stream: TcpStream,
    scratch: Box<[u8]>,
}

impl GortIo {
    pub fn new(stream: TcpStream) -> GortIo {
        GortIo {
            stream,
            scratch: vec![0; SCRATCH].into_boxed_slice(),
        }
    }
}

impl hyper::rt::Read for GortIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let want = buf.remaining().min(this.scratch.len());
        let n = ready!(Pin::new(&mut this.stream).poll_read(cx, &mut this.scratch[..want]))?;
        buf.put_slice(&this.scratch[..n]);
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for GortIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_close(cx)
    }
}

/// hyper's spawner: a new G. (HTTP/1 servers spawn nothing; HTTP/2 and upgrades would.)
#[derive(Clone, Copy, Debug, Default)]
pub struct GortExecutor;

impl<F> hyper::rt::Executor<F> for GortExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        // A dropped JoinHandle detaches the G, like a `go` statement.
        drop(gort::go(fut));
    }
}

/// hyper's timers (header-read timeouts, keep-alive): gort's.
#[derive(Clone, Copy, Debug, Default)]
pub struct GortTimer;

/// A gort `Sleep` that hyper can hold as a `dyn hyper::rt::Sleep`.
pub struct GortSleep(gort::time::Sleep);

impl Future for GortSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}

impl hyper::rt::Sleep for GortSleep {}

impl hyper::rt::Timer for GortTimer {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(GortSleep(gort::time::sleep(d)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(GortSleep(gort::time::sleep_until(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        // Move our own timer in place (Go's Timer.Reset) instead of allocating a new one.
        match sleep.as_mut().downcast_mut_pin::<GortSleep>() {
            Some(s) => s.get_mut().0.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// The hello service: [`HELLO`] for every request, as in `http_server`'s `GET /`.
pub async fn hello(
    _req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let mut resp = hyper::Response::new(Full::new(Bytes::from_static(HELLO.as_bytes())));
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(resp)
}

/// Accept connections and serve [`hello`] over HTTP/1.1 on each, one G per connection, until
/// `stop` receives a value or closes. Connections still open then are left to the runtime's end.
pub async fn serve_hello(listener: TcpListener, stop: Receiver<()>) {
    loop {
        let stream = match first(stop.recv(), listener.accept()).await {
            First::A(_) => return,
            First::B(Ok((stream, _))) => stream,
            First::B(Err(e)) => {
                eprintln!("hyper_server: accept: {e}");
                gort::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        gort::go(async move {
            let conn = http1::Builder::new()
                .timer(GortTimer)
                .serve_connection(GortIo::new(stream), service_fn(hello));
            if let Err(e) = conn.await {
                // Clients that vanish mid-request are routine; anything else is worth a line.
                if !e.is_incomplete_message() {
                    eprintln!("hyper_server: connection: {e}");
                }
            }
        });
    }
}
