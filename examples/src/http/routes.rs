//! The handlers (what a Go program registers with `http.HandleFunc`). Each runs in its own G,
//! started by the connection for its request, so a slow one (`/sleep`) holds up nobody but the
//! responses pipelined behind it on the same connection.
//!
//! | route               | answer                                                              |
//! |---------------------|---------------------------------------------------------------------|
//! | `GET /`             | [`HELLO`]; `?repeat=n` repeats it n times (to see gzip at work)     |
//! | `GET /stream?n=&ms=`| n chunks `chunk i\n`, ms apart, with `Transfer-Encoding: chunked`    |
//! | `POST /echo`        | the request body, with the request's `Content-Type`                 |
//! | `GET /sleep?ms=`    | waits ms on a runtime timer, then says so                           |
//! | `GET /debug/conns`  | the number of open connections                                      |
//! | `GET /debug/requests`| the number of other requests in flight (read, not yet answered)    |
//!
//! Query numbers are capped, so no request can ask for unbounded work.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::request::Request;
use super::response::{chunk_stream, Body, Response};

/// The body of `GET /`, shared with the hyper servers so all three answer the same bytes.
pub const HELLO: &str = "Hello, World!\n";

const MAX_REPEAT: u64 = 10_000;
const MAX_CHUNKS: u64 = 10_000;
const MAX_CHUNK_GAP_MS: u64 = 1_000;
const MAX_SLEEP_MS: u64 = 10_000;

/// What the handlers may look at besides the request.
#[derive(Clone, Debug, Default)]
pub struct Ctx {
    /// Open connections, kept by the server.
    pub conns: Arc<AtomicUsize>,
    /// Requests whose handler is running, kept by the connections.
    pub in_flight: Arc<AtomicUsize>,
}

/// Answer `req`. HEAD is answered as GET; the connection drops the body.
pub async fn handle(req: Request, ctx: &Ctx) -> Response {
    let get = matches!(req.method.as_str(), "GET" | "HEAD");
    match (req.path(), get) {
        ("/", true) => {
            let n = num(&req, "repeat", 1, MAX_REPEAT);
            Response::text(200, HELLO.repeat(n.max(1) as usize))
        }
        ("/stream", true) => stream(
            num(&req, "n", 5, MAX_CHUNKS),
            num(&req, "ms", 0, MAX_CHUNK_GAP_MS),
        ),
        ("/sleep", true) => {
            let ms = num(&req, "ms", 100, MAX_SLEEP_MS);
            gort::time::sleep(Duration::from_millis(ms)).await;
            Response::text(200, format!("slept {ms} ms\n"))
        }
        ("/debug/conns", true) => {
            Response::text(200, format!("{}\n", ctx.conns.load(Ordering::SeqCst)))
        }
        ("/debug/requests", true) => {
            // This request is in flight too; report the others.
            let n = ctx.in_flight.load(Ordering::SeqCst).saturating_sub(1);
            Response::text(200, format!("{n}\n"))
        }
        ("/echo", _) if req.method == "POST" => {
            let ctype = req
                .header("content-type")
                .and_then(|v| std::str::from_utf8(v).ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            Response {
                status: 200,
                headers: vec![("Content-Type", ctype)],
                body: Body::Full(req.body),
            }
        }
        ("/echo", _) => Response::text(405, "use POST\n").with_header("Allow", "POST"),
        ("/" | "/stream" | "/sleep" | "/debug/conns" | "/debug/requests", false) => {
            Response::text(405, "use GET\n").with_header("Allow", "GET, HEAD")
        }
        _ => Response::text(404, "not found\n"),
    }
}

/// A numeric query parameter, `default` if absent or not a number, at most `max`.
fn num(req: &Request, key: &str, default: u64, max: u64) -> u64 {
    req.query(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .min(max)
}

/// `/stream`: a producer G sends the chunks while the connection's writer forwards them, one at a
/// time (the channel holds one chunk, so a slow client slows the producer instead of filling
/// memory). If the client goes away, the writer drops the stream and the producer stops.
fn stream(n: u64, gap_ms: u64) -> Response {
    let (tx, rx) = chunk_stream(1);
    gort::go(async move {
        for i in 0..n {
            if i > 0 && gap_ms > 0 {
                gort::time::sleep(Duration::from_millis(gap_ms)).await;
            }
            if !tx.send(format!("chunk {i}\n").into_bytes()).await {
                return; // the connection is gone
            }
        }
    });
    Response {
        status: 200,
        headers: vec![("Content-Type", "text/plain; charset=utf-8".to_owned())],
        body: Body::Stream(rx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::Version;

    fn req(method: &str, target: &str) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            version: Version::Http11,
            headers: vec![],
            body: vec![],
        }
    }

    fn full(r: &Response) -> &[u8] {
        match &r.body {
            Body::Full(b) => b,
            other => panic!("expected a full body, got {other:?}"),
        }
    }

    #[test]
    fn routes_answer_as_documented() {
        gort::run(async {
            let ctx = Ctx::default();
            ctx.conns.store(3, Ordering::SeqCst);
            let r = handle(req("GET", "/"), &ctx).await;
            assert_eq!((r.status, full(&r)), (200, HELLO.as_bytes()));
            let r = handle(req("GET", "/?repeat=3"), &ctx).await;
            assert_eq!(full(&r), HELLO.repeat(3).as_bytes());
            let r = handle(req("GET", "/debug/conns"), &ctx).await;
            assert_eq!(full(&r), b"3\n");
            let r = handle(req("GET", "/sleep?ms=1"), &ctx).await;
            assert_eq!(full(&r), b"slept 1 ms\n");
            let mut post = req("POST", "/echo");
            post.body = b"abc".to_vec();
            let r = handle(post, &ctx).await;
            assert_eq!(full(&r), b"abc");
            assert_eq!(handle(req("GET", "/echo"), &ctx).await.status, 405);
            assert_eq!(handle(req("POST", "/"), &ctx).await.status, 405);
            assert_eq!(handle(req("GET", "/nope"), &ctx).await.status, 404);
        });
    }

    #[test]
    fn stream_sends_n_chunks_then_closes() {
        gort::run(async {
            let r = handle(req("GET", "/stream?n=3"), &Ctx::default()).await;
            let Body::Stream(rx) = r.body else {
                panic!("expected a stream")
            };
            let mut got = Vec::new();
            while let Some(c) = rx.recv().await {
                got.push(String::from_utf8(c).unwrap());
            }
            assert_eq!(got, ["chunk 0\n", "chunk 1\n", "chunk 2\n"]);
        });
    }

    #[test]
    fn query_numbers_are_capped() {
        assert_eq!(
            num(&req("GET", "/sleep?ms=999999999"), "ms", 1, MAX_SLEEP_MS),
            MAX_SLEEP_MS
        );
        assert_eq!(num(&req("GET", "/sleep?ms=-1"), "ms", 7, MAX_SLEEP_MS), 7);
    }
}
