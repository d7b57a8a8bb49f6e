//! # http_server — a hand-written HTTP/1.1 server on gort's netpoller
//!
//! Run: `cargo run --release --example http_server -- --addr 127.0.0.1:8080`
//! Try: `curl -v localhost:8080/`, `curl --compressed 'localhost:8080/?repeat=100'`,
//!      `curl -N 'localhost:8080/stream?n=5&ms=300'` (chunks arrive 300 ms apart),
//!      `curl --data-binary @Cargo.toml localhost:8080/echo`, `curl 'localhost:8080/sleep?ms=500'`,
//!      `curl localhost:8080/debug/conns`, and pipelining:
//!      `printf 'GET /sleep?ms=300 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n' | nc localhost 8080`
//!      Load: `cargo run --release --example loadgen -- -c 50 -d 5 -u http://127.0.0.1:8080/`.
//!      Ctrl-C (or `kill -TERM`) shuts down gracefully: in-flight requests are answered first.
//!
//! What to watch for: every connection is a few Gs (a reader, a writer, one per request) that
//! look like blocking code; each read or write that would block parks its G on the netpoller, and
//! the M runs other Gs meanwhile. `GORTDEBUG=schedtrace=1000` shows how few threads that takes.
//! The pipelining example answers `/` only after the 300 ms sleep: responses go out in request
//! order although the second request finished first (the "channel of channels").
//!
//! Chapter: network I/O through the netpoller. The code is in `examples/src/http/`.

fn main() -> std::process::ExitCode {
    examples::http::cli::main(std::env::args().skip(1))
}
