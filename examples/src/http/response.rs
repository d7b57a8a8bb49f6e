//! Writing a response: Go's net/http `response` and `chunkWriter.writeHeader` (server.go), which
//! decide the framing headers a handler did not set.
//!
//! A handler returns a [`Response`]: a status, its own headers, and a [`Body`] — nothing, bytes, or
//! a stream of chunks arriving on a channel from the handler's G. [`encode_head`] adds what depends
//! on the connection rather than the handler (the [`Meta`] of the request it answers):
//! - `Content-Length` for a known body; `Transfer-Encoding: chunked` for a stream to an HTTP/1.1
//!   client. An HTTP/1.0 client cannot take chunks, so a stream goes raw and the connection closes
//!   to mark its end, as Go does.
//! - `Connection: close` when the connection ends after this response; `Connection: keep-alive`
//!   to an HTTP/1.0 client that asked for it (1.0 closes by default).
//! - `Date`.
//!
//! The status line always says HTTP/1.1, as Go's does: a server announces the highest version it
//! speaks (RFC 9110 §6.2), and framing for 1.0 clients is handled above.

use super::date;
use super::gzip::{gzip, MIN_GZIP_LEN};
use super::request::Version;
use gort::chan::{channel, Receiver, RecvFuture, Sender, TryRecvError};

/// A response body.
#[derive(Debug)]
pub enum Body {
    Empty,
    Full(Vec<u8>),
    /// Chunks sent by a producer G; the stream ends when the producer drops its [`ChunkSender`].
    /// Empty chunks are skipped.
    Stream(ChunkStream),
}

/// A channel of body chunks that the consumer can walk away from.
///
/// A Go handler that streams writes to the `ResponseWriter` and gets an error once the client is
/// gone. Here the producer is a G sending on a channel, and a send on a channel nobody reads any
/// more blocks forever (Go's rule, which gort keeps): a leaked G. So the stream carries a second
/// channel that is never sent on, only closed — when the consumer drops the stream — and the
/// producer selects on both, Go's `ctx.Done()` pattern.
pub fn chunk_stream(cap: usize) -> (ChunkSender, ChunkStream) {
    let (tx, rx) = channel(cap);
    let (gone_tx, gone_rx) = channel(1);
    (
        ChunkSender {
            chunks: tx,
            gone: gone_rx,
        },
        ChunkStream {
            chunks: rx,
            _gone: gone_tx,
        },
    )
}

/// The producing end of a [`chunk_stream`].
#[derive(Debug)]
pub struct ChunkSender {
    chunks: Sender<Vec<u8>>,
    gone: Receiver<()>,
}

impl ChunkSender {
    /// Send one chunk; `false` once the consumer is gone (stop producing).
    pub async fn send(&self, chunk: Vec<u8>) -> bool {
        gort::select! {
            send(self.chunks, chunk) -> r => r.is_ok(),
            recv(self.gone) -> _ => false,
        }
    }
}

/// The consuming end of a [`chunk_stream`]; dropping it stops the producer.
#[derive(Debug)]
pub struct ChunkStream {
    chunks: Receiver<Vec<u8>>,
    /// Closed (by being dropped) when the stream is: the producer's signal to stop.
    _gone: Sender<()>,
}

impl ChunkStream {
    /// The next chunk, or `None` at the end of the stream.
    pub fn recv(&self) -> RecvFuture<'_, Vec<u8>> {
        self.chunks.recv()
    }

    pub fn try_recv(&self) -> Result<Vec<u8>, TryRecvError> {
        self.chunks.try_recv()
    }
}

/// What a handler returns.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Headers set by the handler. Framing headers (`Content-Length`, `Transfer-Encoding`,
    /// `Connection`) are the connection's business and are added by [`encode_head`].
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
}

impl Response {
    /// A `text/plain` response.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", "text/plain; charset=utf-8".to_owned())],
            body: Body::Full(body.into().into_bytes()),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Compress a full body with gzip if the client accepts it and the body is worth it. Sets
    /// `Vary: Accept-Encoding` on any body that could have been compressed, so a cache keeps the
    /// two variants apart.
    pub fn gzip_if_accepted(&mut self, accept_gzip: bool) {
        let Body::Full(data) = &self.body else { return };
        if data.len() < MIN_GZIP_LEN || self.header("Content-Encoding").is_some() {
            return;
        }
        self.headers.push(("Vary", "Accept-Encoding".to_owned()));
        if !accept_gzip {
            return;
        }
        if let Ok(packed) = gzip(data) {
            self.body = Body::Full(packed);
            self.headers.push(("Content-Encoding", "gzip".to_owned()));
        }
    }
}

/// What the connection knows about the request a response answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    pub version: Version,
    /// The connection stays open after this response (unless the response's framing forbids it).
    pub keep_alive: bool,
    /// A HEAD request: headers as for GET, no body.
    pub head: bool,
}

/// How the body follows the head that [`encode_head`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// Send a stream's chunks with the chunked coding (else raw).
    pub chunked: bool,
    /// Close the connection after the body.
    pub close: bool,
}

/// Append the status line and headers of `resp` to `out`.
pub fn encode_head(resp: &Response, meta: &Meta, out: &mut Vec<u8>) -> Encoded {
    use std::io::Write;
    let streamed = matches!(resp.body, Body::Stream(_));
    let chunked = streamed && meta.version == Version::Http11;
    // A raw stream ends only when the connection does.
    let close = !meta.keep_alive || (streamed && !chunked);
    // Writes into a Vec cannot fail.
    let _ = write!(out, "HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    out.extend_from_slice(b"Date: ");
    out.extend_from_slice(&date::now());
    out.extend_from_slice(b"\r\n");
    for (name, value) in &resp.headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    match &resp.body {
        Body::Empty => out.extend_from_slice(b"Content-Length: 0\r\n"),
        Body::Full(b) => {
            let _ = write!(out, "Content-Length: {}\r\n", b.len());
        }
        Body::Stream(_) if chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        Body::Stream(_) => {}
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if meta.version == Version::Http10 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Encoded { chunked, close }
}

/// The reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(version: Version, keep_alive: bool) -> Meta {
        Meta {
            version,
            keep_alive,
            head: false,
        }
    }

    fn head_text(resp: &Response, m: Meta) -> (String, Encoded) {
        let mut out = Vec::new();
        let e = encode_head(resp, &m, &mut out);
        (String::from_utf8(out).unwrap(), e)
    }

    #[test]
    fn full_body_gets_content_length_and_keep_alive_by_default() {
        let (h, e) = head_text(&Response::text(200, "hi"), meta(Version::Http11, true));
        assert!(h.starts_with("HTTP/1.1 200 OK\r\nDate: "));
        assert!(h.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"));
        assert!(h.contains("\r\nContent-Length: 2\r\n"));
        assert!(!h.contains("Connection"));
        assert!(h.ends_with("\r\n\r\n"));
        assert_eq!(
            e,
            Encoded {
                chunked: false,
                close: false
            }
        );
    }

    #[test]
    fn closing_and_http10_keep_alive_are_announced() {
        let (h, e) = head_text(&Response::text(400, "no"), meta(Version::Http11, false));
        assert!(h.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(h.contains("\r\nConnection: close\r\n"));
        assert!(e.close);
        let (h, _) = head_text(&Response::text(200, "ok"), meta(Version::Http10, true));
        assert!(h.contains("\r\nConnection: keep-alive\r\n"));
    }

    #[test]
    fn stream_is_chunked_for_http11_and_raw_then_close_for_http10() {
        let (_tx, rx) = chunk_stream(1);
        let resp = Response {
            status: 200,
            headers: vec![],
            body: Body::Stream(rx),
        };
        let (h, e) = head_text(&resp, meta(Version::Http11, true));
        assert!(h.contains("\r\nTransfer-Encoding: chunked\r\n"));
        assert!(!h.contains("Content-Length"));
        assert_eq!(
            e,
            Encoded {
                chunked: true,
                close: false
            }
        );
        let (h, e) = head_text(&resp, meta(Version::Http10, true));
        assert!(!h.contains("Transfer-Encoding"));
        assert!(h.contains("\r\nConnection: close\r\n"));
        assert_eq!(
            e,
            Encoded {
                chunked: false,
                close: true
            }
        );
    }

    #[test]
    fn gzip_applies_only_to_accepting_clients_and_big_bodies() {
        let big = "Hello from gort!\n".repeat(50);
        let mut r = Response::text(200, big.clone());
        r.gzip_if_accepted(true);
        assert_eq!(r.header("Content-Encoding"), Some("gzip"));
        assert_eq!(r.header("Vary"), Some("Accept-Encoding"));
        let mut r = Response::text(200, big);
        r.gzip_if_accepted(false);
        assert_eq!(r.header("Content-Encoding"), None);
        assert_eq!(r.header("Vary"), Some("Accept-Encoding"));
        let mut r = Response::text(200, "tiny");
        r.gzip_if_accepted(true);
        assert_eq!(r.header("Content-Encoding"), None);
        assert!(matches!(r.body, Body::Full(ref b) if b == b"tiny"));
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn dropping_the_stream_stops_a_blocked_producer() {
        gort::run(async {
            let (tx, rx) = chunk_stream(1);
            let producer = gort::go(async move {
                let mut sent = 0;
                while tx.send(b"x".to_vec()).await {
                    sent += 1;
                }
                sent
            });
            assert_eq!(rx.recv().await.as_deref(), Some(&b"x"[..]));
            drop(rx);
            // One chunk taken, at most one more buffered before the consumer left.
            let sent = producer.await.expect("producer G");
            assert!((1..=2).contains(&sent), "sent {sent}");
        });
    }
}
