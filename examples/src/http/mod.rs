//! A hand-written HTTP/1.1 server on gort: the server the Go systems-programming books build over a
//! raw TCP socket (`net.Listen`, one goroutine per connection, `bufio` and a request parser), done
//! properly. It is the application half of the runtime story's network chapter: every read and
//! write below parks its G on the netpoller, and its M goes on running other Gs.
//!
//! The code splits in two, so that everything about bytes can be tested without a socket:
//!
//! - the sans-I/O core, pure functions and state machines over byte slices:
//!   `buf.rs` (the connection's input buffer), `request.rs` (parse a request head with `httparse`,
//!   decide its framing and keep-alive), `body.rs` and `chunked.rs` (decode Content-Length and
//!   chunked request bodies, encode chunked responses), `response.rs` (serialize a response head),
//!   `gzip.rs` (negotiate and compress), `date.rs` (the `Date` header), `error.rs` (bad input as a
//!   status code);
//! - the I/O shell on `gort::net`: `conn.rs` (one connection: a reader G, one G per request, a
//!   writer G, the "channel of channels" that keeps pipelined responses in order), `server.rs`
//!   (accept loop, connection tracking, graceful shutdown), `routes.rs` (the handlers), `cli.rs`
//!   (flags and signals, what `examples/http_server.rs` runs).
//!
//! Go's `net/http` is the model for the behaviour (keep-alive rules, `Expect: 100-continue`,
//! lingering close after an error, shutdown that closes idle connections and lets busy ones
//! finish); the structure is the one a reader can hold in their head.

mod body;
mod buf;
mod chunked;
pub mod cli;
mod conn;
mod date;
mod error;
mod gzip;
pub(crate) mod race;
mod request;
mod response;
mod routes;
mod server;

pub use body::BodyDecoder;
pub use buf::ReadBuf;
pub use chunked::{encode_chunk, ChunkedDecoder, LAST_CHUNK};
pub use date::http_date;
pub use error::HttpError;
pub use gzip::{accepts_gzip, gzip, MIN_GZIP_LEN};
pub use request::{parse_head, Framing, Head, Limits, Request, Version, MAX_HEADERS};
pub use response::{
    chunk_stream, encode_head, reason, Body, ChunkSender, ChunkStream, Encoded, Meta, Response,
};
pub use routes::{handle, Ctx, HELLO};
pub use server::{Config, Server, Shutdown};
