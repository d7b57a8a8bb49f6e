//! # hyper_server — hyper 1.x's HTTP/1 server running on gort
//!
//! Run: `cargo run --release --example hyper_server -- --addr 127.0.0.1:8081`
//! then `curl localhost:8081/`, or load it: `cargo run --release --example loadgen -- -u http://127.0.0.1:8081/`.
//! `scripts/bench_http.sh` compares it with `http_server` and with the same server on tokio
//! (`hyper_tokio_server`).
//!
//! What to watch for: hyper knows nothing of gort. It asks for I/O, a spawner and a timer through
//! its `rt` traits, and `examples/src/hyper_rt.rs` answers with a gort `TcpStream` (reads and
//! writes park the connection's G on the netpoller), `gort::go` and `gort::time::sleep`.
//! Every connection is one G running hyper's state machine. Ctrl-C or SIGTERM stops it.
//!
//! Chapter: network I/O through the netpoller — a production HTTP stack on the Go-style runtime.

use std::process::ExitCode;

use gort::chan::channel;
use gort::net::TcpListener;
use gort::signal::{notify, Signal};

fn main() -> ExitCode {
    let addr = match examples::addr_flag("hyper_server", "127.0.0.1:8080") {
        Ok(addr) => addr,
        Err(usage) => return usage,
    };
    gort::run(async move {
        let signals = notify(&[Signal::Interrupt, Signal::Terminate]);
        let listener = match TcpListener::bind(addr.as_str()) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("hyper_server: bind {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(a) => println!("listening on {a}"),
            Err(e) => eprintln!("hyper_server: {e}"),
        }
        let (stop_tx, stop_rx) = channel(1);
        gort::go(async move {
            let _ = signals.recv().await;
            stop_tx.close();
        });
        examples::hyper_rt::serve_hello(listener, stop_rx).await;
        ExitCode::SUCCESS
    })
}
