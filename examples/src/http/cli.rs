//! `examples/http_server.rs` as a function, so tests can run exactly what the example runs: flags,
//! the runtime, the startup line, and shutdown on SIGINT/SIGTERM (Go's `signal.Notify` plus
//! `srv.Shutdown(ctx)`).
//!
//! Flags: `--addr HOST:PORT` (default 127.0.0.1:8080), `--idle-timeout-ms N` (default 5000; also
//! the `GORT_HTTP_IDLE_MS` environment variable), `--max-body BYTES` (default 1 MiB),
//! `--grace-ms N` (default 10000). On startup it prints `listening on ADDR` with the bound address,
//! so `--addr 127.0.0.1:0` works and a script can read the port.

use std::process::ExitCode;
use std::time::Duration;

use gort::chan::channel;
use gort::signal::{notify, Signal};

use super::server::{Config, Server};

/// Parse flags into a [`Config`].
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Config, String> {
    let mut cfg = Config::default();
    if let Ok(ms) = std::env::var("GORT_HTTP_IDLE_MS") {
        cfg.idle_timeout =
            Duration::from_millis(ms.parse().map_err(|e| format!("GORT_HTTP_IDLE_MS: {e}"))?);
    }
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--addr" => cfg.addr = value()?,
            "--idle-timeout-ms" => cfg.idle_timeout = Duration::from_millis(num(value()?)?),
            "--grace-ms" => cfg.grace = Duration::from_millis(num(value()?)?),
            "--max-body" => cfg.limits.max_body = num(value()?)? as usize,
            "-h" | "--help" => return Err(String::new()),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(cfg)
}

const USAGE: &str =
    "usage: http_server [--addr HOST:PORT] [--idle-timeout-ms N] [--max-body BYTES] [--grace-ms N]";

/// The example's `main`.
pub fn main(args: impl IntoIterator<Item = String>) -> ExitCode {
    ExitCode::from(run(args))
}

/// Run the server until SIGINT or SIGTERM. Returns the process exit status: 0 after a graceful
/// shutdown, 1 if the address cannot be bound, 2 for bad flags.
pub fn run(args: impl IntoIterator<Item = String>) -> u8 {
    let cfg = match parse_args(args) {
        Ok(cfg) => cfg,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("http_server: {e}");
            }
            eprintln!("{USAGE}");
            return 2;
        }
    };
    gort::run(async move {
        // Listen for signals before announcing the address: a signal sent as soon as the line
        // appears must find its listener.
        let signals = notify(&[Signal::Interrupt, Signal::Terminate]);
        let server = match Server::bind(cfg.clone()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("http_server: bind {}: {e}", cfg.addr);
                return 1;
            }
        };
        match server.local_addr() {
            Ok(addr) => println!("listening on {addr}"),
            Err(e) => eprintln!("http_server: {e}"),
        }
        let conns = server.conns();
        let (stop_tx, stop_rx) = channel(1);
        gort::go(async move {
            if let Some(sig) = signals.recv().await {
                eprintln!(
                    "http_server: {sig:?}: shutting down, {} connections open",
                    conns.load(std::sync::atomic::Ordering::SeqCst)
                );
            }
            stop_tx.close();
        });
        let left = server.serve(stop_rx).await;
        if left > 0 {
            eprintln!("http_server: grace period over, dropping {left} connections");
        }
        eprintln!("http_server: bye");
        0
    })
}
