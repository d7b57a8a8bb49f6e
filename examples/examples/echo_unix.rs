//! # echo_unix — the echo server and client of `echo_tcp`, over a Unix-domain socket
//!
//! Run:
//! - `cargo run --release --example echo_unix` — a self-contained demo (8 clients x 100 round trips
//!   of 1 KiB on a socket in the temporary directory, every reply checked);
//! - `cargo run --release --example echo_unix -- --serve --path /tmp/echo.sock` — just the server;
//! - `cargo run --release --example echo_unix -- --client --path /tmp/echo.sock` — type lines.
//!
//! What to watch for: the code is `echo_tcp`'s, line for line; only the listener (`UnixListener`,
//! a path instead of an address) differs. The socket is a file: `ls -l /tmp/echo.sock` shows an `s`
//! file while the server runs; the server removes a stale one when it starts.
//!
//! Chapter: the Go book's network chapters (Unix domain sockets: `net.Listen("unix", path)`).

use std::path::PathBuf;

use examples::chapters::{arg, echo_tcp, echo_unix, flag, stdin_line};
use gort::net::UnixStream;

fn main() {
    let path = PathBuf::from(arg("--path", "/tmp/gort-echo.sock".to_string()));
    let result = if flag("--serve") {
        gort::run(serve(path))
    } else if flag("--client") {
        gort::run(client(path))
    } else {
        gort::run(demo())
    };
    if let Err(e) = result {
        eprintln!("echo_unix: {e}");
        std::process::exit(1);
    }
}

async fn demo() -> std::io::Result<()> {
    let (clients, msgs, size) = (8, 100, 1024);
    let path = echo_unix::temp_path("echo-demo");
    let r = echo_unix::demo(path.clone(), clients, msgs, size).await?;
    println!(
        "{clients} clients x {msgs} round trips of {size} bytes over {}: \
         {} round trips, {} bytes echoed, {} mismatches",
        path.display(),
        r.round_trips,
        r.bytes,
        r.mismatches
    );
    Ok(())
}

async fn serve(path: PathBuf) -> std::io::Result<()> {
    let ln = echo_unix::listen(&path)?;
    println!("echo server on {}", path.display());
    let mut n = 0;
    loop {
        let (conn, _) = ln.accept().await?;
        n += 1;
        println!("connection {n}: connected");
        drop(gort::go(async move {
            match echo_tcp::echo(conn).await {
                Ok(bytes) => println!("connection {n}: closed after {bytes} bytes"),
                Err(e) => println!("connection {n}: {e}"),
            }
        }));
    }
}

async fn client(path: PathBuf) -> std::io::Result<()> {
    let mut conn = UnixStream::connect(&path).await?;
    println!("connected to {}; type lines (Ctrl-D ends)", path.display());
    while let Some(line) = stdin_line()? {
        let back = echo_tcp::exchange(&mut conn, line.as_bytes()).await?;
        print!("echo: {}", String::from_utf8_lossy(&back));
    }
    Ok(()) // end of input
}
