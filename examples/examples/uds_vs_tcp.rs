//! # uds_vs_tcp — one request/response conversation over TCP and over a Unix socket, timed
//!
//! Run: `cargo run --release --example uds_vs_tcp -- --n 20000`
//! Bench: `cargo bench -p benches --bench uds_vs_tcp` (criterion, the two side by side).
//!
//! What to watch for: the same code (generic over the stream) makes `n` round trips of a 64-byte
//! request and its answer, first over TCP on 127.0.0.1, then over a Unix socket. The Unix socket
//! is usually the faster of the two — it skips the TCP/IP stack — but both pay the same runtime
//! costs per round trip (a park on the netpoller and a wake-up on each side), so the gap is
//! smaller than the kernel difference alone would suggest. Numbers vary with the machine and its
//! load; run it a few times.
//!
//! Chapter: Go book ch. 8 (Unix domain sockets vs TCP).

use examples::chapters::{arg, echo_unix, uds_vs_tcp};

fn main() {
    let n: u64 = arg("--n", 20_000);
    let path = echo_unix::temp_path("uds-vs-tcp");
    match gort::run(uds_vs_tcp::compare(n, path)) {
        Ok(r) => {
            println!("{n} round trips of {} bytes each way:", uds_vs_tcp::MSG);
            for (name, t) in [("TCP 127.0.0.1", r.tcp), ("Unix socket", r.uds)] {
                println!(
                    "  {name:<14} {:>9.1?} total, {:>6.2} µs per round trip",
                    t.elapsed,
                    t.per_round_trip().as_secs_f64() * 1e6
                );
            }
            let ratio = r.tcp.elapsed.as_secs_f64() / r.uds.elapsed.as_secs_f64().max(1e-9);
            println!("  TCP took {ratio:.2}x the Unix socket's time");
        }
        Err(e) => {
            eprintln!("uds_vs_tcp: {e}");
            std::process::exit(1);
        }
    }
}
