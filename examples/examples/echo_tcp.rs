//! # echo_tcp — an echo server with a G per connection, and its client
//!
//! Run:
//! - `cargo run --release --example echo_tcp` — a self-contained demo: a server on a free port and
//!   8 clients, each making 100 round trips of 1 KiB, every reply checked;
//! - `cargo run --release --example echo_tcp -- --serve --addr 127.0.0.1:7007` — just the server;
//! - `cargo run --release --example echo_tcp -- --client --addr 127.0.0.1:7007` — type lines, each
//!   comes back (or pipe them in: `seq 5 | cargo run ... -- --client`).
//!
//! What to watch for: the server is a plain accept loop that starts a G per connection, and each G
//! is sequential read-then-write code. While a G waits for bytes it is parked on the netpoller,
//! not holding a thread: the demo's 8 connections run on the runtime's few Ms.
//!
//! Chapter: the Go book's network chapters (TCP servers: `net.Listen`, `Accept`, `go handle(conn)`);
//! runtime story: the netpoller (`runtime/src/net/`, `netpoll/`).

use examples::chapters::{arg, echo_tcp, flag, stdin_line};
use gort::net::{TcpListener, TcpStream};

fn main() {
    let addr: String = arg("--addr", "127.0.0.1:7007".to_string());
    let result = if flag("--serve") {
        gort::run(serve(addr))
    } else if flag("--client") {
        gort::run(client(addr))
    } else {
        gort::run(demo())
    };
    if let Err(e) = result {
        eprintln!("echo_tcp: {e}");
        std::process::exit(1);
    }
}

async fn demo() -> std::io::Result<()> {
    let (clients, msgs, size) = (8, 100, 1024);
    let r = echo_tcp::demo(clients, msgs, size).await?;
    println!(
        "{clients} clients x {msgs} round trips of {size} bytes over TCP on 127.0.0.1: \
         {} round trips, {} bytes echoed, {} mismatches",
        r.round_trips, r.bytes, r.mismatches
    );
    println!("threads: {} (Ms + sysmon)", gort::stats().threads);
    Ok(())
}

async fn serve(addr: String) -> std::io::Result<()> {
    let ln = TcpListener::bind(addr.as_str())?;
    println!("echo server on {}", ln.local_addr()?);
    loop {
        let (conn, peer) = ln.accept().await?;
        println!("{peer}: connected");
        drop(gort::go(async move {
            match echo_tcp::echo(conn).await {
                Ok(n) => println!("{peer}: closed after {n} bytes"),
                Err(e) => println!("{peer}: {e}"),
            }
        }));
    }
}

async fn client(addr: String) -> std::io::Result<()> {
    let mut conn = TcpStream::connect(addr.as_str()).await?;
    println!(
        "connected to {}; type lines (Ctrl-D ends)",
        conn.peer_addr()?
    );
    // `stdin_line` waits for the terminal in a blocking section: the P is not held meanwhile.
    while let Some(line) = stdin_line()? {
        let back = echo_tcp::exchange(&mut conn, line.as_bytes()).await?;
        print!("echo: {}", String::from_utf8_lossy(&back));
    }
    Ok(()) // end of input
}
