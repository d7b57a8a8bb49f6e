//! Shared code for the examples: the HTTP/1.1 server of `examples/http_server.rs` (a library so
//! the tests can run it in-process) and hyper's runtime traits on gort (`examples/hyper_server.rs`).
pub mod http;
pub mod hyper_rt;
