//! Shared code of the examples, as a library so the tests run the same code small:
//! - `trace_chapters`: the workloads of the tracer chapter examples (`trace_*.rs`), re-exported at the
//!   crate root (`examples::gmp`, ...);
//! - `chapters`: the programs of the Go systems-programming chapters (`producer_consumer.rs`, ...);
//! - `http`: the HTTP/1.1 server of `examples/http_server.rs`;
//! - `hyper_rt`: hyper's runtime traits on gort (`examples/hyper_server.rs`).

pub mod chapters;
pub mod http;
pub mod hyper_rt;
pub mod trace_chapters;

pub use trace_chapters::*;
