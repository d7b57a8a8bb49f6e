//! Shared code of the examples, as a library so the tests run the same code small:
//! - `trace_chapters`: the workloads of the tracer chapter examples (`trace_*.rs`), re-exported at the
//!   crate root (`examples::gmp`, ...);
//! - `chapters`: the programs of the Go systems-programming chapters (`producer_consumer.rs`, ...);
//! - `http`: the HTTP/1.1 server of `examples/http_server.rs`;
//! - `hyper_rt`: hyper's runtime traits on gort (`examples/hyper_server.rs`);
//! - [`Rng`]: the seeded generator of the randomized programs (`soak.rs`, and `tests/stress.rs`);
//! - [`addr_flag`]: the command line of the two hyper servers (`hyper_server.rs` on gort and its
//!   peer `hyper_tokio_server.rs` on tokio), so they take the same one.

pub mod chapters;
pub mod http;
pub mod hyper_rt;
pub mod trace_chapters;

pub use trace_chapters::*;

use std::process::ExitCode;

/// A small deterministic generator (xorshift64*), so a seed replays a randomized program's choices.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

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
