//! One connection: Go's net/http `conn.serve` (server.go), reshaped around pipelining.
//!
//! ```text
//!                 ┌──────────── queue: Sender<Slot> (the channel of channels) ──────────┐
//!   socket ──► reader G ── go ──► handler G ── Response ──► per-request channel ──┐     │
//!                 │       ── go ──► handler G ── Response ──► per-request channel ─┼──► writer ──► socket
//!                 │                                                               │   (this G)
//!                 └── parse, decode body, push each request's channel in order ───┘
//! ```
//!
//! The reader G parses requests out of its buffer as fast as they arrive, starts one handler G per
//! request, and pushes that request's result channel onto `queue`, a channel of channels. The writer
//! (the connection's own G) takes result channels off `queue` in order and waits on each in turn:
//! responses leave in request order however the handlers race, and a slow `/sleep` delays only
//! the responses pipelined behind it. `queue`'s capacity bounds the requests in flight on one
//! connection; when it is full the reader stops reading, and TCP flow control pushes back on the
//! client. The writer gathers every response that is already done into one buffer and writes when
//! it would otherwise wait, so a burst of pipelined requests costs one `write`.
//!
//! Who stops whom:
//! - The reader stops at end of input, at its read deadline (idle or stalled client), after a
//!   request that closes the connection, after refusing a bad request, or, while idle, when the
//!   server shuts down. It then drops its end of `queue`; the writer finishes what is queued and
//!   returns.
//! - The writer stops after a response that closes the connection, or when a write fails. It then
//!   drops `writer_gone`'s sender, which the reader watches whenever it waits, so neither G is
//!   left blocked on the other.
//! - After refusing a request, the reader *lingers*: it reads and discards what the client still
//!   sends, for a bounded time, until the client closes. Closing a socket that has unread input
//!   makes the kernel send RST, and an RST can destroy the error response before the client reads
//!   it (Go's `closeWriteAndWait` does the same dance).
//!
//! Differences from Go: Go's `conn.serve` handles one request at a time (it reads the next only
//! after the handler returns) and answers pipelined requests sequentially; here they run
//! concurrently. The body is read whole before the handler starts (see `body.rs`).

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gort::chan::{channel, Receiver, Sender, TryRecvError};
use gort::net::{Shutdown, TcpStream};

use super::body::BodyDecoder;
use super::buf::ReadBuf;
use super::chunked::{encode_chunk, LAST_CHUNK};
use super::error::HttpError;
use super::race::{first, First};
use super::request::{parse_head, Version};
use super::response::{encode_head, Body, Meta, Response};
use super::routes;
use super::server::Shared;

/// Initial size of a connection's input buffer; it grows up to the head limit.
const READ_BUF: usize = 4 * 1024;
/// Write when this much output has gathered, even if more responses are ready.
const WRITE_BATCH: usize = 64 * 1024;
/// How long, and how many bytes, a refused client is read from before the close.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 4 * 1024 * 1024;

/// One entry of the queue: what the writer sends next.
enum Slot {
    /// The response to one request, when its handler G delivers it.
    Response { meta: Meta, rx: Receiver<Response> },
    /// `100 Continue`: the client waits for it before sending its body.
    Continue,
}

/// Serve one accepted connection until it closes.
pub(super) async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let stream = Arc::new(stream);
    let (queue_tx, queue_rx) = channel::<Slot>(shared.config.max_pipeline.max(1));
    let (gone_tx, gone_rx) = channel::<()>(1);
    let reader = gort::go(read_loop(stream.clone(), queue_tx, gone_rx, shared.clone()));
    let wrote = write_loop(&stream, &queue_rx, &shared).await;
    drop(gone_tx); // wakes the reader if it still waits
    drop(queue_rx);
    match wrote {
        // Every response is out: send FIN, so the client sees the end after the last byte.
        Ok(()) => {
            let _ = stream.shutdown(Shutdown::Write);
        }
        Err(_) => stream.close(),
    }
    let _ = reader.await;
    // The last `Arc<TcpStream>` goes here (the reader's went with its G): the socket closes.
}

/// What a wait for input ended with.
enum Fill {
    Data,
    /// End of input, the read deadline (an idle or stalled client), a reset, a close.
    Done,
}

/// Read more input into `buf`.
async fn fill(stream: &TcpStream, buf: &mut ReadBuf) -> Fill {
    let Some(spare) = buf.spare() else {
        return Fill::Done; // cannot happen: oversized heads are refused before the buffer fills
    };
    match stream.read(spare).await {
        Ok(0) | Err(_) => Fill::Done,
        Ok(n) => {
            buf.filled(n);
            Fill::Data
        }
    }
}

/// Parse requests, start their handlers, queue their result channels in order.
async fn read_loop(
    stream: Arc<TcpStream>,
    queue: Sender<Slot>,
    writer_gone: Receiver<()>,
    shared: Arc<Shared>,
) {
    let cfg = &shared.config;
    let mut buf = ReadBuf::new(READ_BUF, cfg.limits.max_head);
    loop {
        // Each request must arrive in full within `idle_timeout` of the previous one's end: one
        // deadline covers the idle wait, the head and the body (Go's ReadTimeout).
        if stream
            .set_read_deadline(Some(Instant::now() + cfg.idle_timeout))
            .is_err()
        {
            return;
        }
        // The head.
        let head = loop {
            match parse_head(buf.data(), &cfg.limits) {
                Ok(Some((head, n))) => {
                    buf.consume(n);
                    break head;
                }
                Ok(None) => {}
                Err(e) => return refuse(e, &stream, &queue, &writer_gone).await,
            }
            // Idle between requests, the server's shutdown ends the wait (Go's Shutdown closes
            // idle connections); a request in progress is read to the end. A gone writer ends
            // any wait.
            let idle = buf.is_empty();
            let shutdown = async {
                match idle {
                    true => shared.shutdown.recv().await,
                    false => std::future::pending().await,
                }
            };
            let stop = first(writer_gone.recv(), shutdown);
            match first(stop, fill(&stream, &mut buf)).await {
                First::B(Fill::Data) => continue,
                // Told to stop; or an idle client left, or a client stalled mid-head until the
                // deadline: close without an answer, as Go does.
                First::A(_) | First::B(Fill::Done) => return,
            }
        };
        let version = head.request.version;
        // The body.
        let mut decoder = match BodyDecoder::new(head.framing, cfg.limits.max_body) {
            Ok(d) => d,
            Err(e) => return refuse_as(e, version, &stream, &queue, &writer_gone).await,
        };
        let mut body = Vec::new();
        let wants_continue = !decoder.is_done() && head.expect_continue && buf.is_empty();
        if wants_continue && !push(&queue, &writer_gone, Slot::Continue).await {
            return;
        }
        while !decoder.is_done() {
            match decoder.decode(buf.data(), &mut body) {
                Ok(n) => buf.consume(n),
                Err(e) => return refuse_as(e, version, &stream, &queue, &writer_gone).await,
            }
            if decoder.is_done() {
                break;
            }
            match first(writer_gone.recv(), fill(&stream, &mut buf)).await {
                First::B(Fill::Data) => {}
                First::A(_) | First::B(Fill::Done) => return,
            }
        }
        // Dispatch: one G per request, its result channel queued in request order.
        let closing = !head.keep_alive || shared.is_shutting_down();
        let meta = Meta {
            version,
            keep_alive: !closing,
            head: head.request.method == "HEAD",
        };
        let mut request = head.request;
        request.body = body;
        let (tx, rx) = channel(1);
        // Queue the result channel first, then start the handler: the writer, readied by the
        // push, then runs after the handler (the G started last runs next, as in Go), finds the
        // response already there, and does not park on it.
        if !push(&queue, &writer_gone, Slot::Response { meta, rx }).await {
            return;
        }
        let ctx = shared.ctx.clone();
        let accept_gzip = head.accept_gzip;
        let in_flight = InFlight::new(&ctx.in_flight);
        gort::go(async move {
            let _in_flight = in_flight;
            let mut resp = routes::handle(request, &ctx).await;
            resp.gzip_if_accepted(accept_gzip);
            // The buffer has room for this one response, so this never waits; an error means the
            // connection is gone, and the response with it.
            let _ = tx.send(resp).await;
        });
        if closing {
            return;
        }
    }
}

/// Counts a request from its dispatch until its handler G ends (however it ends).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(count: &Arc<AtomicUsize>) -> InFlight {
        count.fetch_add(1, Ordering::SeqCst);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Queue a slot for the writer; `false` if the writer is gone.
async fn push(queue: &Sender<Slot>, writer_gone: &Receiver<()>, slot: Slot) -> bool {
    gort::select! {
        send(queue, slot) -> r => r.is_ok(),
        recv(writer_gone) -> _ => false,
    }
}

/// Answer a request that cannot be parsed (its version is unknown: answer as HTTP/1.1).
async fn refuse(e: HttpError, stream: &TcpStream, queue: &Sender<Slot>, gone: &Receiver<()>) {
    refuse_as(e, Version::Http11, stream, queue, gone).await
}

/// Queue an error response that closes the connection, then linger.
async fn refuse_as(
    e: HttpError,
    version: Version,
    stream: &TcpStream,
    queue: &Sender<Slot>,
    gone: &Receiver<()>,
) {
    let (tx, rx) = channel(1);
    if tx
        .try_send(Response::text(e.status(), format!("{e}\n")))
        .is_err()
    {
        return; // a fresh channel with room: cannot happen, but never panic on the input path
    }
    let meta = Meta {
        version,
        keep_alive: false,
        head: false,
    };
    if !push(queue, gone, Slot::Response { meta, rx }).await {
        return;
    }
    if stream
        .set_read_deadline(Some(Instant::now() + LINGER_TIME))
        .is_err()
    {
        return;
    }
    let mut sink = [0u8; 16 * 1024];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        match stream.read(&mut sink).await {
            Ok(0) | Err(_) => return,
            Ok(n) => drained += n,
        }
    }
}

/// Send responses in queue order. Returns `Ok` when the connection should end cleanly (the
/// queue ended, or a response closed the connection), `Err` when a write failed.
async fn write_loop(stream: &TcpStream, queue: &Receiver<Slot>, shared: &Shared) -> io::Result<()> {
    let timeout = shared.config.write_timeout;
    let mut out = Vec::with_capacity(8 * 1024);
    loop {
        let slot = match queue.try_recv() {
            Ok(slot) => slot,
            Err(_) => {
                flush(stream, &mut out, timeout).await?;
                match queue.recv().await {
                    Some(slot) => slot,
                    None => return Ok(()),
                }
            }
        };
        let (meta, rx) = match slot {
            Slot::Continue => {
                out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                flush(stream, &mut out, timeout).await?;
                continue;
            }
            Slot::Response { meta, rx } => (meta, rx),
        };
        let resp = match rx.try_recv() {
            Ok(resp) => Some(resp),
            Err(TryRecvError::Closed) => None,
            Err(TryRecvError::Empty) => {
                flush(stream, &mut out, timeout).await?;
                rx.recv().await
            }
        };
        // No response: the handler G panicked (its sender was dropped unsent).
        let resp = resp.unwrap_or_else(|| Response::text(500, "internal server error\n"));
        // Shutting down, and this is the last response (the reader has stopped and nothing is
        // queued behind it): say so, as Go's server does once Shutdown has begun.
        let last = shared.is_shutting_down() && queue.is_closed() && queue.is_empty();
        let meta = Meta {
            keep_alive: meta.keep_alive && !last,
            ..meta
        };
        let enc = encode_head(&resp, &meta, &mut out);
        match resp.body {
            Body::Full(b) if !meta.head => out.extend_from_slice(&b),
            Body::Stream(chunks) if !meta.head => loop {
                let chunk = match chunks.try_recv() {
                    Ok(c) => Some(c),
                    Err(TryRecvError::Closed) => None,
                    Err(TryRecvError::Empty) => {
                        flush(stream, &mut out, timeout).await?;
                        chunks.recv().await
                    }
                };
                match chunk {
                    Some(c) if enc.chunked => encode_chunk(&c, &mut out),
                    Some(c) => out.extend_from_slice(&c),
                    None => {
                        if enc.chunked {
                            out.extend_from_slice(LAST_CHUNK);
                        }
                        break;
                    }
                }
                if out.len() >= WRITE_BATCH {
                    flush(stream, &mut out, timeout).await?;
                }
            },
            _ => {}
        }
        if enc.close {
            return flush(stream, &mut out, timeout).await;
        }
        if out.len() >= WRITE_BATCH {
            flush(stream, &mut out, timeout).await?;
        }
    }
}

/// Write out what has gathered; a client that does not read for `timeout` is dropped.
async fn flush(stream: &TcpStream, out: &mut Vec<u8>, timeout: Duration) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    stream.set_write_deadline(Some(Instant::now() + timeout))?;
    stream.write_all(out).await?;
    out.clear();
    Ok(())
}
