//! The hand-written HTTP/1.1 server (`examples/src/http`, run by `examples/http_server.rs`), tested
//! as a client sees it: over loopback sockets, with a small blocking client written here (so the
//! client shares no code with the server under test).
//!
//! Most tests run the server in-process: a std thread runs `gort::run(server.serve(..))` on an
//! ephemeral port, and a `Shutdown` handle stops it at the end. The SIGTERM test needs a process
//! of its own, since a signal goes to a whole process. It re-runs this very test binary as the
//! child — `current_exe()` with `--exact child_http_server_process`, an `#[ignore]`d test that,
//! when `GORT_HTTP_CHILD` is set, calls `examples::http::cli::run`, the function the example's
//! `main` calls. That needs no cargo invocation from inside a test (which could deadlock on the
//! build lock) and no guess about where cargo put the example binary (profiles, target dirs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use examples::http::{Config, Server, Shutdown, HELLO};

/// Every client read gives up after this, so a broken server fails a test instead of hanging it.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

struct TestServer {
    addr: SocketAddr,
    conns: Arc<AtomicUsize>,
    stop: Shutdown,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl TestServer {
    fn start(mut cfg: Config) -> TestServer {
        cfg.addr = "127.0.0.1:0".into();
        let (stop, stop_rx) = Shutdown::new();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            gort::run(async move {
                let server = Server::bind(cfg).expect("bind loopback");
                tx.send((server.local_addr().expect("addr"), server.conns()))
                    .expect("test waits for the address");
                server.serve(stop_rx).await
            })
        });
        let (addr, conns) = rx.recv_timeout(IO_TIMEOUT).expect("server started");
        TestServer {
            addr,
            conns,
            stop,
            thread: Some(thread),
        }
    }

    fn default() -> TestServer {
        TestServer::start(Config::default())
    }

    fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Stop the server; returns the connections it had to abandon.
    fn shutdown(mut self) -> usize {
        self.stop.shutdown();
        self.thread
            .take()
            .expect("running")
            .join()
            .expect("server thread")
    }

    /// Wait (bounded) until the server counts `n` open connections.
    fn wait_conns(&self, n: usize) {
        let deadline = Instant::now() + IO_TIMEOUT;
        while self.conns.load(Ordering::SeqCst) != n {
            assert!(
                Instant::now() < deadline,
                "open connections stuck at {}, expected {n}",
                self.conns.load(Ordering::SeqCst)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.shutdown();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct Client {
    r: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).expect("connect to loopback");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client {
            r: BufReader::new(s),
        }
    }

    fn send(&mut self, raw: &[u8]) {
        self.r.get_mut().write_all(raw).expect("write request");
    }

    fn get(&mut self, target: &str) -> Resp {
        self.send(format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        self.response()
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.r.read_line(&mut line).expect("read line");
        assert!(line.ends_with("\r\n"), "line not CRLF-terminated: {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    /// Read one response: Content-Length, chunked, or (for a close-delimited body) to EOF.
    fn response(&mut self) -> Resp {
        let status_line = self.line();
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(
            parts.next(),
            Some("HTTP/1.1"),
            "status line {status_line:?}"
        );
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .expect("status code");
        let mut headers = Vec::new();
        loop {
            let line = self.line();
            if line.is_empty() {
                break;
            }
            let (n, v) = line.split_once(':').expect("header line");
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
        let mut resp = Resp {
            status,
            headers,
            body: Vec::new(),
        };
        if status == 100 {
            return resp;
        }
        if let Some(len) = resp.header("content-length") {
            let mut body = vec![0; len.parse().expect("length")];
            self.r.read_exact(&mut body).expect("body");
            resp.body = body;
        } else if resp.header("transfer-encoding") == Some("chunked") {
            loop {
                let size = usize::from_str_radix(&self.line(), 16).expect("chunk size");
                if size == 0 {
                    assert_eq!(self.line(), "", "no trailers expected");
                    break;
                }
                let mut chunk = vec![0; size];
                self.r.read_exact(&mut chunk).expect("chunk");
                resp.body.extend_from_slice(&chunk);
                assert_eq!(self.line(), "");
            }
        } else {
            self.r.read_to_end(&mut resp.body).expect("body to EOF");
        }
        resp
    }

    /// The server closed the connection: the next read sees end of stream (or a reset).
    fn assert_closed(&mut self) {
        let mut b = [0u8; 1];
        match self.r.read(&mut b) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("expected the server to close, got {other:?}"),
        }
    }
}

fn gunzip(data: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(data)
        .read_to_string(&mut out)
        .expect("valid gzip");
    out
}

#[test]
fn keep_alive_connection_serves_100_requests() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    for i in 0..100 {
        let r = c.get("/");
        assert_eq!((r.status, r.text().as_str()), (200, HELLO), "request {i}");
        assert_eq!(
            r.header("connection"),
            None,
            "keep-alive is HTTP/1.1's default"
        );
    }
    assert_eq!(c.get("/debug/conns").text(), "1\n", "all on one connection");
}

#[test]
fn gzip_is_used_when_accepted_and_decodes_to_the_text() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    c.send(b"GET /?repeat=100 HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip, br\r\n\r\n");
    let r = c.response();
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert!(
        r.body.len() < HELLO.len() * 100 / 4,
        "compressed: {} bytes",
        r.body.len()
    );
    assert_eq!(gunzip(&r.body), HELLO.repeat(100));
    // Without Accept-Encoding, and for a tiny body, the text goes as it is.
    let r = c.get("/?repeat=100");
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.text(), HELLO.repeat(100));
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
    let r = c.response();
    assert_eq!(
        r.header("content-encoding"),
        None,
        "tiny bodies are not compressed"
    );
    assert_eq!(r.text(), HELLO);
}

#[test]
fn stream_is_chunked_and_decodes_in_order() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    let r = c.get("/stream?n=50");
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    let want: String = (0..50).map(|i| format!("chunk {i}\n")).collect();
    assert_eq!(r.text(), want);
    // The connection is still usable after the stream.
    assert_eq!(c.get("/").text(), HELLO);
}

#[test]
fn stream_to_http10_is_raw_and_closes() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    c.send(b"GET /stream?n=3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let r = c.response();
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.text(), "chunk 0\nchunk 1\nchunk 2\n");
}

#[test]
fn ten_pipelined_requests_are_answered_in_order() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    // Earlier requests sleep longer, so handlers finish in reverse order; the responses must not.
    let mut burst = String::new();
    for i in 0..10 {
        let ms = (10 - i) * 15;
        if i % 3 == 2 {
            burst.push_str(&format!("GET /?repeat={} HTTP/1.1\r\nHost: t\r\n\r\n", i));
        } else {
            burst.push_str(&format!("GET /sleep?ms={ms} HTTP/1.1\r\nHost: t\r\n\r\n"));
        }
    }
    c.send(burst.as_bytes());
    for i in 0..10 {
        let r = c.response();
        assert_eq!(r.status, 200);
        let want = if i % 3 == 2 {
            HELLO.repeat(i)
        } else {
            format!("slept {} ms\n", (10 - i) * 15)
        };
        assert_eq!(r.text(), want, "response {i} out of order");
    }
}

#[test]
fn pipelined_requests_run_concurrently() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    // A request that cannot finish before the second one has run: the first handler is still
    // asleep when `/debug/requests` (pipelined behind it) counts the requests in flight.
    c.send(
        b"GET /sleep?ms=2000 HTTP/1.1\r\nHost: t\r\n\r\nGET /debug/requests HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(c.response().text(), "slept 2000 ms\n");
    assert_eq!(c.response().text(), "1\n", "the sleep was in flight");
}

#[test]
fn echo_returns_content_length_and_chunked_bodies() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/x-test\r\nContent-Length: 11\r\n\r\nhello world");
    let r = c.response();
    assert_eq!((r.status, r.text().as_str()), (200, "hello world"));
    assert_eq!(r.header("content-type"), Some("text/x-test"));
    // Chunked, cut at awkward places across several writes.
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    std::thread::sleep(Duration::from_millis(20));
    c.send(b"lo\r\n7;ext=1\r\n, world\r");
    std::thread::sleep(Duration::from_millis(20));
    c.send(b"\n0\r\nX-Trailer: yes\r\n\r\n");
    assert_eq!(c.response().text(), "hello, world");
    // A big chunked body (many chunks) comes back byte for byte.
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut wire = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in payload.chunks(7_000) {
        wire.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        wire.extend_from_slice(part);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    c.send(&wire);
    assert_eq!(c.response().body, payload);
}

#[test]
fn expect_100_continue_gets_an_interim_response_first() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    assert_eq!(c.response().status, 100);
    c.send(b"ping");
    assert_eq!(c.response().text(), "ping");
}

#[test]
fn malformed_request_is_400_and_closes() {
    let srv = TestServer::default();
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ] {
        let mut c = srv.connect();
        c.send(raw);
        let r = c.response();
        assert_eq!(r.status, 400, "for {:?}", String::from_utf8_lossy(raw));
        assert_eq!(r.header("connection"), Some("close"));
        c.assert_closed();
    }
    srv.wait_conns(0);
}

#[test]
fn oversized_head_is_431() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    let mut raw = b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: ".to_vec();
    raw.resize(20 * 1024, b'a');
    c.send(&raw);
    let r = c.response();
    assert_eq!(r.status, 431);
    c.assert_closed();
}

#[test]
fn oversized_body_is_413_for_declared_and_chunked_lengths() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\nsome of it");
    assert_eq!(c.response().status, 413);
    c.assert_closed();
    let mut c = srv.connect();
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    let chunk = vec![b'x'; 64 * 1024];
    let mut wire = Vec::new();
    for _ in 0..20 {
        wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        wire.extend_from_slice(&chunk);
        wire.extend_from_slice(b"\r\n");
    }
    // The server may stop reading (and answer) before all of this is written.
    let _ = c.r.get_mut().write_all(&wire);
    assert_eq!(c.response().status, 413);
    c.assert_closed();
}

#[test]
fn stalled_and_idle_clients_are_closed_at_the_deadline() {
    let srv = TestServer::start(Config {
        idle_timeout: Duration::from_millis(500),
        ..Config::default()
    });
    let mut stalled = srv.connect();
    stalled.send(b"GET / HTTP/1.1\r\nHost: t\r\nX-Half: ");
    let mut idle = srv.connect();
    let mut used = srv.connect();
    assert_eq!(used.get("/").text(), HELLO);
    stalled.assert_closed();
    idle.assert_closed();
    used.assert_closed();
    srv.wait_conns(0);
}

#[test]
fn connection_close_and_http10_rules_are_honoured() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let r = c.response();
    assert_eq!(
        (r.text().as_str(), r.header("connection")),
        (HELLO, Some("close"))
    );
    c.assert_closed();
    let mut c = srv.connect();
    c.send(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(c.response().header("connection"), Some("close"));
    c.assert_closed();
    let mut c = srv.connect();
    for _ in 0..3 {
        c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let r = c.response();
        assert_eq!(
            (r.text().as_str(), r.header("connection")),
            (HELLO, Some("keep-alive"))
        );
    }
}

#[test]
fn head_gets_headers_without_a_body() {
    let srv = TestServer::default();
    let mut c = srv.connect();
    c.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
    let status = c.line();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let mut len = None;
    loop {
        let l = c.line();
        if l.is_empty() {
            break;
        }
        if let Some(v) = l.strip_prefix("Content-Length: ") {
            len = Some(v.to_owned());
        }
    }
    assert_eq!(len.as_deref(), Some("14"), "the length GET would send");
    // No body bytes: the next response starts right away.
    assert_eq!(c.get("/").text(), HELLO);
}

#[test]
fn no_connection_is_leaked_by_clients_that_vanish() {
    let srv = TestServer::default();
    for i in 0..50 {
        let mut c = srv.connect();
        match i % 4 {
            0 => {}                                 // connect, say nothing, leave
            1 => c.send(b"GET / HTTP/1.1\r\nHost"), // half a head
            2 => c.send(b"GET /stream?n=10000 HTTP/1.1\r\nHost: t\r\n\r\n"), // leave mid-stream
            _ => assert_eq!(c.get("/").text(), HELLO),
        }
    }
    srv.wait_conns(0);
    assert_eq!(srv.shutdown(), 0);
}

#[test]
fn shutdown_lets_in_flight_requests_finish() {
    let srv = TestServer::default();
    let mut busy = srv.connect();
    busy.send(b"GET /sleep?ms=1000 HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut idle = srv.connect();
    assert_eq!(idle.get("/").text(), HELLO);
    // Wait until the sleep is surely in its handler.
    let mut probe = srv.connect();
    let deadline = Instant::now() + IO_TIMEOUT;
    while probe.get("/debug/requests").text() == "0\n" {
        assert!(Instant::now() < deadline, "the sleep never started");
    }
    drop(probe);
    let addr = srv.addr;
    let conns = srv.conns.clone();
    let left = srv.shutdown();
    assert_eq!(left, 0, "every connection ended within the grace period");
    assert_eq!(conns.load(Ordering::SeqCst), 0);
    let r = busy.response();
    assert_eq!((r.status, r.text().as_str()), (200, "slept 1000 ms\n"));
    assert_eq!(r.header("connection"), Some("close"));
    idle.assert_closed();
    assert!(TcpStream::connect(addr).is_err(), "the listener is closed");
}

#[test]
fn curl_agrees() {
    let Ok(out) = Command::new("curl").arg("--version").output() else {
        eprintln!("curl not found: skipping curl_agrees");
        return;
    };
    assert!(out.status.success());
    let srv = TestServer::default();
    let base = format!("http://{}", srv.addr);
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10"])
            .args(args)
            .output()
            .expect("run curl");
        assert!(
            out.status.success(),
            "curl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    assert_eq!(curl(&[&format!("{base}/")]), HELLO);
    assert_eq!(
        curl(&["--compressed", &format!("{base}/?repeat=200")]),
        HELLO.repeat(200)
    );
    assert_eq!(
        curl(&[&format!("{base}/stream?n=3")]),
        "chunk 0\nchunk 1\nchunk 2\n"
    );
    assert_eq!(
        curl(&[
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            "via curl",
            &format!("{base}/echo")
        ]),
        "via curl"
    );
    // Two URLs in one curl run reuse one connection.
    let both = curl(&[&format!("{base}/"), &format!("{base}/debug/conns")]);
    assert_eq!(both, format!("{HELLO}1\n"));
}

/// The child side of `sigterm_finishes_in_flight_requests_and_exits_0`: the example's `main`.
#[test]
#[ignore = "run as a child process by sigterm_finishes_in_flight_requests_and_exits_0"]
fn child_http_server_process() {
    if std::env::var_os("GORT_HTTP_CHILD").is_none() {
        return;
    }
    let args = std::env::var("GORT_HTTP_ARGS").unwrap_or_default();
    let code = examples::http::cli::run(args.split_whitespace().map(String::from));
    std::process::exit(i32::from(code));
}

/// Kills the child server if the test fails before the child is reaped, so a failed run leaves no
/// process behind.
struct KillOnPanic(Option<libc::pid_t>);

impl Drop for KillOnPanic {
    fn drop(&mut self) {
        if let (Some(pid), true) = (self.0, std::thread::panicking()) {
            // SAFETY: kill(2) on our own unreaped child's pid (so not reused) touches no memory.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

#[test]
fn sigterm_finishes_in_flight_requests_and_exits_0() {
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            "child_http_server_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("GORT_HTTP_CHILD", "1")
        .env("GORT_HTTP_ARGS", "--addr 127.0.0.1:0 --grace-ms 5000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the server process");
    let mut reaper = KillOnPanic(Some(child.id() as libc::pid_t));
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // libtest prints `test NAME ... ` without a newline before the child's own output.
            if let Some((_, a)) = line.split_once("listening on ") {
                let _ = tx.send(a.trim().to_owned());
            }
        }
    });
    let addr: SocketAddr = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(a) => a.parse().expect("address"),
        Err(_) => {
            let _ = child.kill();
            let out = child.wait_with_output().expect("child output");
            panic!(
                "server did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };

    // Load: a few keep-alive clients hammer `/` until the server goes away. A response they get
    // must be whole; the connection ending between responses is the normal end of keep-alive.
    let load: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let Ok(s) = TcpStream::connect(addr) else {
                    return 0;
                };
                s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                let mut c = Client {
                    r: BufReader::new(s),
                };
                let mut ok = 0;
                let t0 = Instant::now();
                while t0.elapsed() < Duration::from_secs(20) {
                    if c.r
                        .get_mut()
                        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                        .is_err()
                    {
                        break;
                    }
                    if c.r.fill_buf().map(|b| b.is_empty()).unwrap_or(true) {
                        break; // closed between responses
                    }
                    let r = c.response();
                    assert_eq!(r.text(), HELLO, "a whole response, or none");
                    ok += 1;
                    if r.header("connection") == Some("close") {
                        break;
                    }
                }
                ok
            })
        })
        .collect();

    // In flight when the signal comes: a sleeping handler, a stream, and a request whose body
    // has not been sent yet (the 100 Continue proves the server is reading it).
    let mut sleeper = Client::connect(addr);
    sleeper.send(b"GET /sleep?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut streamer = Client::connect(addr);
    streamer.send(b"GET /stream?n=4&ms=100 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(streamer.line(), "HTTP/1.1 200 OK", "the stream has started");
    let mut uploader = Client::connect(addr);
    uploader.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    );
    assert_eq!(uploader.response().status, 100);
    let mut probe = Client::connect(addr);
    let deadline = Instant::now() + IO_TIMEOUT;
    while probe.get("/debug/requests").text() == "0\n" {
        assert!(Instant::now() < deadline, "nothing in flight");
    }
    drop(probe);

    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) with a valid signal number on our own child's pid touches no memory.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    // The signal is handled asynchronously; once new connections are refused, shutdown has begun.
    let deadline = Instant::now() + IO_TIMEOUT;
    while TcpStream::connect(addr).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(5));
    }

    uploader.send(b"hello");
    let r = uploader.response();
    assert_eq!((r.status, r.text().as_str()), (200, "hello"));
    assert_eq!(
        r.header("connection"),
        Some("close"),
        "shutting down: no keep-alive"
    );
    let r = sleeper.response();
    assert_eq!((r.status, r.text().as_str()), (200, "slept 300 ms\n"));
    // The rest of the stream: the status line was read above, so read headers and chunks here.
    let mut body = String::new();
    loop {
        if streamer.line().is_empty() {
            break;
        }
    }
    loop {
        let size = usize::from_str_radix(&streamer.line(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        let mut chunk = vec![0; size];
        streamer.r.read_exact(&mut chunk).expect("chunk");
        body.push_str(&String::from_utf8_lossy(&chunk));
        assert_eq!(streamer.line(), "");
    }
    assert_eq!(body, "chunk 0\nchunk 1\nchunk 2\nchunk 3\n");

    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            reaper.0 = None; // reaped: the pid may be reused from here on
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("server did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert!(status.success(), "exit status {status:?}; stderr: {err}");
    assert!(err.contains("shutting down"), "stderr: {err}");
    for l in load {
        l.join().expect("load client saw only whole responses");
    }
}
