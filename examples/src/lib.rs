//! Shared code of the examples, as a library so the tests run the same code small:
//! - `trace_chapters`: the workloads of the tracer chapter examples (`trace_*.rs`), re-exported at the
//!   crate root (`examples::gmp`, ...);
//! - `chapters`: the programs of the Go systems-programming chapters (`producer_consumer.rs`, ...);
//! - `http`: the HTTP/1.1 server of `examples/http_server.rs`;
//! - `hyper_rt`: hyper's runtime traits on gort (`examples/hyper_server.rs`);
//! - [`addr_flag`]: the command line of the two hyper servers (`hyper_server.rs` on gort and its
//!   peer `hyper_tokio_server.rs` on tokio), so they take the same one.

pub mod chapters;
pub mod http;
pub mod hyper_rt;
pub mod trace_chapters;

pub use trace_chapters::*;

use std::process::ExitCode;

/// The hyper servers' one flag, `--addr HOST:PORT` (`default` when absent). Anything else on the
/// command line prints `usage: PROGRAM [--addr HOST:PORT]` and gives the exit status 2 as the error.
pub fn addr_flag(program: &str, default: &str) -> Result<String, ExitCode> {
    let mut addr = default.to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--addr", Some(v)) => addr = v,
            _ => {
                eprintln!("usage: {program} [--addr HOST:PORT]");
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(addr)
}
