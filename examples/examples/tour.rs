//! # tour — the whole runtime in one run
//!
//! Run: `cargo run --release --example tour` (about 5 seconds).
//!
//! Four acts on one runtime with GORTMAXPROCS Ps, traced from start to end:
//! 1. **Network I/O through the netpoller**: the example HTTP/1.1 server on a loopback port and 16
//!    client Gs doing keep-alive requests. Every read that would block parks its G on the netpoller;
//!    the M that polls epoll makes it runnable again.
//! 2. **A channel pipeline**: generate → square → sum over unbuffered channels, so each value is a
//!    rendezvous: the sender parks, the receiver takes the value straight from it, and the partner
//!    runs next on the same P (`runnext`).
//! 3. **Preemption**: more CPU-bound Gs than Ps, each calling `gort::coop()` in its loop. sysmon
//!    sees a time slice pass 10 ms and asks the G to yield; it goes to the global run queue and the
//!    others get the P.
//! 4. **A blocking section handed off**: a G sleeps 200 ms inside `gort::blocking` while small Gs
//!    queue behind it. sysmon takes its P away and hands it to another M.
//!
//! While it runs, sysmon prints Go's `SCHED` line every 100 ms (the same as
//! `GORTDEBUG=schedtrace=100`). At the end it prints the goroutine analysis of the trace and writes
//! `trace.json` (open it in https://ui.perfetto.dev or chrome://tracing) and `trace.html` (a
//! self-contained timeline of the Ps; open it in any browser).
//!
//! Chapter: all of them — this is the map; the `trace_*` examples zoom into one chapter each.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use examples::http::{Config, Server, Shutdown};
use gort::chan::channel;
use gort::net::TcpStream;

const TRACE_JSON: &str = "trace.json";
const TRACE_HTML: &str = "trace.html";

fn main() {
    let started = Instant::now();
    match std::fs::File::create(TRACE_JSON) {
        Ok(f) => {
            if let Err(e) = gort::trace::start(io::BufWriter::new(f)) {
                eprintln!("tour: tracing is off: {e}");
            }
        }
        Err(e) => eprintln!("tour: cannot create {TRACE_JSON} ({e}); running without a trace"),
    }
    let rt = match gort::Builder::new()
        .schedtrace(Duration::from_millis(100))
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tour: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    println!("gort tour: {} Ps (GORTMAXPROCS)\n", rt.stats().gomaxprocs);

    rt.block_on(async {
        act("1. HTTP over loopback (network I/O through the netpoller)");
        match http_load(16, 150).await {
            Ok(n) => println!("   {n} keep-alive requests answered"),
            Err(e) => println!("   skipped: {e}"),
        }

        act("2. a channel pipeline (unbuffered channels: every send is a rendezvous)");
        let sum = pipeline(20_000).await;
        println!("   sum of squares below 20000 = {sum}");

        act("3. preemption (more CPU-bound Gs than Ps; sysmon slices them at ~10 ms)");
        let before = gort::stats().preemptions;
        cpu_bound(gort::stats().gomaxprocs + 2, Duration::from_millis(300)).await;
        println!("   {} preemptions", gort::stats().preemptions - before);

        act("4. a blocking section (sysmon hands its P to another M)");
        let before = gort::stats().handoffs;
        let behind = blocking_handoff(Duration::from_millis(200)).await;
        println!(
            "   {behind} small Gs finished while the blocking section ran; {} hand-offs",
            gort::stats().handoffs - before
        );
    });

    let st = rt.stats();
    println!(
        "\nscheduler: {} Gs created, {} stolen, {} preemptions, {} hand-offs, {} rescues, {} threads",
        st.spawned, st.steals, st.preemptions, st.handoffs, st.rescues, st.threads
    );
    drop(rt);
    finish_trace();
    println!(
        "\ntour finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn act(title: &str) {
    println!("== {title}");
}

/// Act 1: the example HTTP server and `clients` Gs doing `per_client` keep-alive GETs each.
async fn http_load(clients: usize, per_client: usize) -> io::Result<usize> {
    let server = Server::bind(Config {
        addr: "127.0.0.1:0".into(),
        ..Config::default()
    })?;
    let addr = server.local_addr()?;
    let (stop, stop_rx) = Shutdown::new();
    let serving = gort::go(server.serve(stop_rx));
    let answered = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..clients)
        .map(|_| {
            let answered = answered.clone();
            gort::go(async move {
                let conn = TcpStream::connect(addr).await?;
                let mut buf = Vec::new();
                for _ in 0..per_client {
                    conn.write_all(b"GET / HTTP/1.1\r\nHost: tour\r\n\r\n")
                        .await?;
                    read_response(&conn, &mut buf).await?;
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                io::Result::Ok(())
            })
        })
        .collect();
    for h in hs {
        h.await.map_err(io::Error::other)??;
    }
    stop.shutdown();
    let _ = serving.await;
    Ok(answered.load(Ordering::Relaxed))
}

/// Read one HTTP/1.1 response with a Content-Length body (what the server's `/` sends).
async fn read_response(conn: &TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| io::Error::other("response without Content-Length"))?;
            let total = end + 4 + len;
            if buf.len() >= total {
                buf.drain(..total);
                return Ok(());
            }
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Act 2: generate → square → sum over unbuffered channels.
async fn pipeline(n: u64) -> u64 {
    let (nums_tx, nums) = channel::<u64>(0);
    let (squares_tx, squares) = channel::<u64>(0);
    gort::go(async move {
        for i in 0..n {
            if nums_tx.send(i).await.is_err() {
                return;
            }
        }
    });
    gort::go(async move {
        while let Some(i) = nums.recv().await {
            if squares_tx.send(i * i).await.is_err() {
                return;
            }
        }
    });
    let mut sum = 0;
    while let Some(sq) = squares.recv().await {
        sum += sq;
    }
    sum
}

/// Act 3: `n` Gs each computing for `d` with a preemption point in the loop.
async fn cpu_bound(n: usize, d: Duration) {
    let hs: Vec<_> = (0..n)
        .map(|_| {
            gort::go(async move {
                let t0 = Instant::now();
                let mut x = 1u64;
                while t0.elapsed() < d {
                    for _ in 0..2_000 {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                    gort::coop().await;
                }
            })
        })
        .collect();
    for h in hs {
        let _ = h.await;
    }
}

/// Act 4: one G in a long blocking section, small Gs queued behind it; returns how many small Gs
/// finished while it was still blocked.
async fn blocking_handoff(block: Duration) -> usize {
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d = done.clone();
    let blocker = gort::go(async move {
        gort::blocking(|| std::thread::sleep(block));
        d.store(true, Ordering::SeqCst);
    });
    gort::yield_now().await;
    let smalls: Vec<_> = (0..200)
        .map(|_| {
            let done = done.clone();
            gort::go(async move { !done.load(Ordering::SeqCst) })
        })
        .collect();
    let mut during = 0;
    for h in smalls {
        if h.await.unwrap_or(false) {
            during += 1;
        }
    }
    let _ = blocker.await;
    during
}

/// Stop the tracer, print the goroutine analysis, write the HTML timeline, and say what to open.
fn finish_trace() {
    if !gort::trace::is_enabled() {
        return;
    }
    if let Err(e) = gort::trace::stop() {
        eprintln!("tour: writing {TRACE_JSON} failed: {e}");
        return;
    }
    let trace = match gort_trace::Trace::load(TRACE_JSON) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tour: cannot read {TRACE_JSON} back: {e}");
            return;
        }
    };
    let analysis = gort_trace::analyze(&trace);
    println!("\n{}", gort_trace::summary_text(&analysis, 8));
    let html = gort_trace::html::render(&trace, &analysis, "gort tour");
    match std::fs::write(TRACE_HTML, html) {
        Ok(()) => {}
        Err(e) => eprintln!("tour: cannot write {TRACE_HTML}: {e}"),
    }
    println!("Open {TRACE_HTML} in a browser: one row per P. Look for the HTTP Gs parking on the");
    println!(
        "netpoller (short slices, 'IO wait'), the pipeline Gs handing off through runnext, the"
    );
    println!(
        "CPU-bound Gs cut into ~10 ms slices (preempt marks), and the hand-off mark where sysmon"
    );
    println!(
        "took the P of the blocking section. {TRACE_JSON} opens in https://ui.perfetto.dev or"
    );
    println!("chrome://tracing with flow arrows from each wake-up to the run it caused.");
}
