//! The listening server: Go's net/http `Server.Serve` (accept loop, one goroutine per connection)
//! and `Server.Shutdown` (stop accepting, close idle connections, wait for busy ones).
//!
//! ```text
//!   serve ── accept ──► go conn::serve ──► go conn::serve ...
//!     │  (stop fires)
//!     ├─ stop accepting (the listener is dropped: new connections are refused)
//!     ├─ close `shutdown`: idle connections see it and end; busy ones finish their requests,
//!     │  answer them with `Connection: close`, and end
//!     └─ wait until every connection G is gone (a channel that closes when its last sender —
//!        one per connection — is dropped: Go's WaitGroup, made of a channel), at most `grace`
//! ```
//!
//! Open connections are counted (`/debug/conns` shows the count), and the count goes down in a
//! guard's `Drop`, so a connection G that ends any way at all — even by panicking — is accounted
//! for, and its socket closed.
//!
//! Accept errors such as running out of file descriptors are temporary: like Go, the loop sleeps
//! (5 ms, doubling up to 1 s) and tries again instead of spinning or giving up.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gort::chan::{channel, Receiver, Sender};
use gort::net::TcpListener;

use super::conn;
use super::race::{first, First};
use super::request::Limits;
use super::routes::Ctx;

/// How the server behaves; `Config::default()` is what `examples/http_server.rs` runs with.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one.
    pub addr: String,
    /// How long a connection may sit idle between requests, and how long a request (head and
    /// body) may take to arrive. A stalled client is closed at this deadline.
    pub idle_timeout: Duration,
    /// How long one write may wait for a client that does not read.
    pub write_timeout: Duration,
    pub limits: Limits,
    /// Requests in flight (read, not yet answered) per connection; the reader waits beyond that.
    pub max_pipeline: usize,
    /// On shutdown, how long to wait for busy connections before giving up on them.
    pub grace: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            addr: "127.0.0.1:8080".to_owned(),
            idle_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            limits: Limits::default(),
            max_pipeline: 16,
            grace: Duration::from_secs(10),
        }
    }
}

/// What every connection shares.
pub(super) struct Shared {
    pub(super) config: Config,
    pub(super) ctx: Ctx,
    /// Closed when the server shuts down; never sent on. Idle readers wait on it.
    pub(super) shutdown: Receiver<()>,
    shutting_down: AtomicBool,
}

impl Shared {
    pub(super) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}

/// A bound, not yet serving, server.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown_tx: Sender<()>,
}

/// A handle that stops a serving [`Server`] from anywhere, even outside the runtime (a test's
/// thread): closing the channel is a broadcast.
#[derive(Clone, Debug)]
pub struct Shutdown(Sender<()>);

impl Shutdown {
    /// A handle and the receiver to give to [`Server::serve`].
    pub fn new() -> (Shutdown, Receiver<()>) {
        let (tx, rx) = channel(1);
        (Shutdown(tx), rx)
    }

    /// Ask the server to shut down gracefully.
    pub fn shutdown(&self) {
        self.0.close();
    }
}

impl Server {
    /// Bind the listener. Call inside the runtime (a socket belongs to the runtime that made it).
    pub fn bind(config: Config) -> io::Result<Server> {
        let listener = TcpListener::bind(config.addr.as_str())?;
        let (shutdown_tx, shutdown) = channel(1);
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                config,
                ctx: Ctx::default(),
                shutdown,
                shutting_down: AtomicBool::new(false),
            }),
            shutdown_tx,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The live count of open connections.
    pub fn conns(&self) -> Arc<AtomicUsize> {
        self.shared.ctx.conns.clone()
    }

    /// Accept and serve connections until `stop` receives a value or closes, then shut down
    /// gracefully. Returns how many connections were still open when the grace period ran out
    /// (0 after a clean shutdown).
    pub async fn serve(self, stop: Receiver<()>) -> usize {
        let Server {
            listener,
            shared,
            shutdown_tx,
        } = self;
        let (wg_tx, wg_rx) = channel::<()>(1);
        let mut backoff = Duration::ZERO;
        loop {
            let (stream, _peer) = match first(stop.recv(), listener.accept()).await {
                First::A(_) => break,
                First::B(Ok(conn)) => {
                    backoff = Duration::ZERO;
                    conn
                }
                First::B(Err(e)) => {
                    backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                    eprintln!("http: accept: {e}; retrying in {backoff:?}");
                    // Still a stop point: a shutdown must not wait out the backoff.
                    if let First::A(_) = first(stop.recv(), gort::time::sleep(backoff)).await {
                        break;
                    }
                    continue;
                }
            };
            let guard = ConnGuard::new(&shared.ctx, wg_tx.clone());
            let shared = shared.clone();
            gort::go(async move {
                let _guard = guard;
                conn::serve(stream, shared).await;
            });
        }
        // Shutdown, in Go's order: stop accepting, then wake the idle, then wait for the busy.
        shared.shutting_down.store(true, Ordering::Release);
        drop(listener);
        shutdown_tx.close();
        drop(wg_tx);
        let _ = gort::time::timeout(shared.config.grace, wg_rx.recv()).await;
        shared.ctx.conns.load(Ordering::SeqCst)
    }
}

/// Counts a connection while it lives, and holds a sender of the server's wait group.
struct ConnGuard {
    conns: Arc<AtomicUsize>,
    _wg: Sender<()>,
}

impl ConnGuard {
    fn new(ctx: &Ctx, wg: Sender<()>) -> ConnGuard {
        ctx.conns.fetch_add(1, Ordering::SeqCst);
        ConnGuard {
            conns: ctx.conns.clone(),
            _wg: wg,
        }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.conns.fetch_sub(1, Ordering::SeqCst);
    }
}
