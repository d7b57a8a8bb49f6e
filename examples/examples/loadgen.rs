//! # loadgen — a closed-loop HTTP/1.1 load generator
//!
//! Run: `cargo run --release --example loadgen -- -c 50 -d 5 -u http://127.0.0.1:8080/`
//!
//! What to watch for: requests/s and the latency percentiles (p50/p90/p99/max) of `-c` keep-alive
//! connections, each sending one GET, waiting for the whole response, and sending the next, for
//! `-d` seconds. The last line (`RESULT rps=… p99_us=…`) is for scripts (`scripts/bench_http.sh`).
//!
//! Built on plain std threads and blocking sockets, one thread per connection, on purpose: the
//! generator must not share code with the runtimes it measures (gort and tokio), or a scheduler
//! quirk would show up on both sides of the measurement. Latency is measured per request, from
//! just before the write to the last byte of the response.
//!
//! Chapter: network I/O through the netpoller — this is the client side that drives it.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

struct Args {
    conns: usize,
    secs: f64,
    host: String,
    addr: String,
    path: String,
}

fn usage() -> ExitCode {
    eprintln!("usage: loadgen [-c CONNECTIONS] [-d SECONDS] [-u http://HOST:PORT/PATH]");
    ExitCode::from(2)
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        conns: 50,
        secs: 5.0,
        host: String::new(),
        addr: String::new(),
        path: String::new(),
    };
    let mut url = "http://127.0.0.1:8080/".to_owned();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "-c" => a.conns = val()?.parse().map_err(|e| format!("-c: {e}"))?,
            "-d" => a.secs = val()?.parse().map_err(|e| format!("-d: {e}"))?,
            "-u" => url = val()?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if a.conns == 0 || a.secs <= 0.0 {
        return Err("need -c >= 1 and -d > 0".into());
    }
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    a.host = hostport.to_owned();
    a.addr = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:80")
    };
    a.path = path.to_owned();
    Ok(a)
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    reconnects: u64,
}

/// One connection's loop: request, full response, repeat until `end`.
fn worker(
    addr: std::net::SocketAddr,
    request: Arc<Vec<u8>>,
    start: Arc<Barrier>,
    secs: f64,
) -> Tally {
    let mut t = Tally::default();
    let mut buf = vec![0u8; 64 * 1024];
    start.wait();
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut conn: Option<TcpStream> = None;
    while Instant::now() < end {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match TcpStream::connect(addr) {
                Ok(c) => {
                    let _ = c.set_nodelay(true);
                    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
                    t.reconnects += 1;
                    conn.insert(c)
                }
                Err(_) => {
                    t.errors += 1;
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            },
        };
        let t0 = Instant::now();
        match c
            .write_all(&request)
            .and_then(|()| read_response(c, &mut buf))
        {
            Ok(keep) => {
                let us = t0.elapsed().as_micros().min(u32::MAX as u128) as u32;
                t.latencies_us.push(us);
                if !keep {
                    conn = None;
                }
            }
            Err(_) => {
                t.errors += 1;
                conn = None;
            }
        }
    }
    t
}

/// Read one response with a `Content-Length` body. Returns whether the connection stays open.
fn read_response(c: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<bool> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
    let mut have = 0;
    loop {
        if have == buf.len() {
            return Err(bad("response head too large"));
        }
        let n = c.read(&mut buf[have..])?;
        if n == 0 {
            return Err(bad("connection closed mid-response"));
        }
        have += n;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        let head_len = match resp.parse(&buf[..have]) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => continue,
            Err(_) => return Err(bad("malformed response")),
        };
        if resp.code != Some(200) {
            return Err(bad("status is not 200"));
        }
        let mut len = None;
        let mut keep = true;
        for h in resp.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                len = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<usize>().ok());
            } else if h.name.eq_ignore_ascii_case("connection") {
                keep = !h.value.eq_ignore_ascii_case(b"close");
            }
        }
        let len = len.ok_or_else(|| bad("no Content-Length"))?;
        // The rest of the body: what is buffered, then reads. A closed loop never pipelines, so
        // nothing after the body can be in the buffer.
        let mut left = (head_len + len).saturating_sub(have);
        while left > 0 {
            let room = left.min(buf.len());
            let n = c.read(&mut buf[..room])?;
            if n == 0 {
                return Err(bad("connection closed mid-body"));
            }
            left -= n;
        }
        return Ok(keep);
    }
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return usage();
        }
    };
    let addr = match args.addr.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => a,
        _ => {
            eprintln!("loadgen: cannot resolve {}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let request = Arc::new(
        format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: gort-loadgen\r\n\r\n",
            args.path, args.host
        )
        .into_bytes(),
    );
    let start = Arc::new(Barrier::new(args.conns + 1));
    let threads: Vec<_> = (0..args.conns)
        .map(|_| {
            let (request, start, secs) = (request.clone(), start.clone(), args.secs);
            std::thread::spawn(move || worker(addr, request, start, secs))
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    let mut all = Vec::new();
    let (mut errors, mut reconnects) = (0, 0);
    for th in threads {
        match th.join() {
            Ok(t) => {
                all.extend(t.latencies_us);
                errors += t.errors;
                reconnects += t.reconnects;
            }
            Err(_) => errors += 1,
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    all.sort_unstable();
    let rps = all.len() as f64 / elapsed;
    let (p50, p90, p99) = (
        percentile(&all, 0.50),
        percentile(&all, 0.90),
        percentile(&all, 0.99),
    );
    let max = all.last().copied().unwrap_or(0);
    println!(
        "{} requests in {elapsed:.2}s over {} connections ({} connects), {errors} errors",
        all.len(),
        args.conns,
        reconnects
    );
    println!("requests/s: {rps:.0}");
    println!("latency: p50 {p50} us, p90 {p90} us, p99 {p99} us, max {max} us");
    println!(
        "RESULT rps={rps:.0} p50_us={p50} p90_us={p90} p99_us={p99} max_us={max} errors={errors}"
    );
    if all.is_empty() {
        eprintln!("loadgen: no request succeeded");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
