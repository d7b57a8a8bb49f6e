//! hyper 1.x on gort (`examples/src/hyper_rt.rs`, run by `examples/hyper_server.rs`): the hello
//! server, in-process on an ephemeral loopback port, driven by a plain blocking client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use examples::http::HELLO;
use gort::chan::channel;
use gort::net::TcpListener;

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Start the hyper hello server; returns its address, a stop handle and the server's thread.
fn start() -> (
    SocketAddr,
    gort::chan::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (stop_tx, stop_rx) = channel::<()>(1);
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        gort::run(async move {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
            tx.send(listener.local_addr().expect("addr"))
                .expect("test waits");
            examples::hyper_rt::serve_hello(listener, stop_rx).await;
        })
    });
    let addr = rx.recv_timeout(IO_TIMEOUT).expect("server started");
    (addr, stop_tx, thread)
}

/// Read one response with a Content-Length body; returns (status line, headers, body).
fn response(r: &mut BufReader<TcpStream>) -> (String, Vec<String>, String) {
    let mut status = String::new();
    r.read_line(&mut status).expect("status line");
    let mut headers = Vec::new();
    let mut len = 0;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).expect("header");
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().expect("length");
            }
        }
        headers.push(line);
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).expect("body");
    (
        status.trim_end().to_owned(),
        headers,
        String::from_utf8(body).expect("utf-8"),
    )
}

#[test]
fn hello_over_20_keep_alive_requests_on_one_connection() {
    let (addr, stop, thread) = start();
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut r = BufReader::new(s);
    for i in 0..20 {
        r.get_mut()
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .expect("write");
        let (status, headers, body) = response(&mut r);
        assert_eq!(status, "HTTP/1.1 200 OK", "request {i}");
        assert_eq!(body, HELLO, "request {i}");
        assert!(
            !headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case("connection: close")),
            "the connection stays open"
        );
    }
    drop(r);
    stop.close();
    thread.join().expect("server thread");
}

#[test]
fn pipelined_hello_requests_are_all_answered() {
    let (addr, stop, thread) = start();
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut r = BufReader::new(s);
    r.get_mut()
        .write_all(&b"GET / HTTP/1.1\r\nHost: t\r\n\r\n".repeat(5))
        .expect("write");
    for _ in 0..5 {
        assert_eq!(response(&mut r).2, HELLO);
    }
    drop(r);
    stop.close();
    thread.join().expect("server thread");
}
