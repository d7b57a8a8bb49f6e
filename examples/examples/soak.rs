//! # soak — a bounded, randomized stress run of the whole runtime, with its books checked at the end
//!
//! Run:
//! - `cargo run --release --example soak` — 200 rounds (about a minute on 2 cores);
//! - `cargo run --release --example soak -- --rounds 5000 --procs 4 --seed 42` — the long run by
//!   hand; `--seed` replays a run's random choices (the schedule itself still varies);
//! - CI runs `--rounds 30` (`.ci/run`).
//!
//! Each round starts a random batch of Gs, each doing one kind of work: producer/consumer channel
//! traffic (unbuffered and buffered), a `select!` racing a late value against a timeout, a G
//! cancelled while parked on a channel send (its value must be withdrawn, never delivered), a
//! blocking section (`gort::blocking`), a G that panics, a TCP echo over loopback (random sizes, every
//! byte compared), a timer (it must not fire early), and spawn trees.
//!
//! What to watch for: the report at the end and the exit status. It checks the books: every value
//! sent was received exactly once or withdrawn, every G finished (`stats().goroutines` is back to
//! its start), no file descriptor leaked (`/proc/self/fd`), and the resident set is back near where
//! it was after the first round (`/proc/self/statm`; the first round warms the allocator and the
//! runtime up). Any violation is printed and the exit status is 1.
//!
//! Chapter: none — this is the runtime's own check (design.md, "Checking").

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use examples::chapters::arg;
use examples::Rng;
use gort::chan::{channel, TryRecvError};
use gort::net::{TcpListener, TcpStream};

/// The books every kind of work keeps.
#[derive(Default)]
struct Books {
    sent: AtomicU64,
    received: AtomicU64,
    withdrawn: AtomicU64,
    spawned: AtomicU64,
    panics: AtomicU64,
    cancels: AtomicU64,
    timeouts: AtomicU64,
    echoed_bytes: AtomicU64,
    blocking: AtomicU64,
    timers: AtomicU64,
    violations: std::sync::Mutex<Vec<String>>,
}

impl Books {
    fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
    fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
    fn violation(&self, what: String) {
        eprintln!("soak: VIOLATION: {what}");
        self.violations.lock().unwrap().push(what);
    }
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

const DELIBERATE: &str = "soak: a deliberate panic";

fn main() {
    let rounds: u64 = arg("--rounds", 200);
    let procs: usize = arg("--procs", 2);
    let seed: u64 = arg("--seed", 0x9e37_79b9_7f4a_7c15);
    // The deliberate panics are counted, not printed.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload().downcast_ref::<&str>().copied().unwrap_or("");
        if msg != DELIBERATE {
            default_hook(info);
        }
    }));
    let start = Instant::now();
    let rt = gort::Builder::new()
        .procs(procs)
        .build()
        .expect("soak: runtime");
    let books = Arc::new(Books::default());
    let b = books.clone();
    let report = rt.block_on(async move { soak(rounds, seed.max(1), b).await });
    let books = &*books;
    let n = |c: &AtomicU64| Books::get(c);
    println!(
        "soak: {rounds} rounds on {procs} Ps in {:.1}s (seed {seed}): {} Gs spawned, {} values sent, \
         {} received, {} withdrawn by cancelled sends, {} panics caught, {} cancellations, {} select \
         timeouts, {} bytes echoed over TCP, {} blocking sections, {} timers",
        start.elapsed().as_secs_f64(),
        n(&books.spawned),
        n(&books.sent),
        n(&books.received),
        n(&books.withdrawn),
        n(&books.panics),
        n(&books.cancels),
        n(&books.timeouts),
        n(&books.echoed_bytes),
        n(&books.blocking),
        n(&books.timers),
    );
    println!("soak: {report}");
    if n(&books.sent) != n(&books.received) + n(&books.withdrawn) {
        books.violation(format!(
            "values: {} sent != {} received + {} withdrawn",
            n(&books.sent),
            n(&books.received),
            n(&books.withdrawn)
        ));
    }
    let violations = books.violations.lock().unwrap();
    if violations.is_empty() {
        println!("soak: OK");
    } else {
        println!("soak: {} violation(s)", violations.len());
        std::process::exit(1);
    }
}

async fn soak(rounds: u64, seed: u64, books: Arc<Books>) -> String {
    let fds_before = fds();
    let gs_before = gort::stats().goroutines;
    let ln = TcpListener::bind("127.0.0.1:0").expect("soak: bind");
    let addr = ln.local_addr().expect("soak: local_addr");
    let server = gort::go(async move {
        let mut conns = Vec::new();
        while let Ok((conn, _)) = ln.accept().await {
            conns.push(gort::go(async move {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if conn.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }));
            conns.retain(|h| !h.is_finished());
        }
        for h in conns {
            let _ = h.await;
        }
    });
    let mut rng = Rng(seed);
    let mut rss_after_warmup = 0;
    for round in 0..rounds {
        let batch = 5 + rng.below(40);
        let mut hs = Vec::new();
        for _ in 0..batch {
            let kind = rng.below(9);
            let r = rng.next_u64();
            Books::add(&books.spawned, 1);
            hs.push(gort::go(work(kind, r, books.clone(), addr)));
        }
        for h in hs {
            match h.await {
                Ok(()) => {}
                Err(e) if e.is_panic() => Books::add(&books.panics, 1),
                Err(e) => books.violation(format!("a worker ended badly: {e}")),
            }
        }
        if round == 0 {
            rss_after_warmup = rss_bytes();
        }
    }
    // The server G holds the listener: aborting it closes the listener; its connection Gs have
    // all seen their client close by now.
    server.abort();
    let _ = server.await;
    // Every G ends (the aborted ones are dropped when an M next takes them): wait a little.
    let deadline = Instant::now() + Duration::from_secs(10);
    while gort::stats().goroutines > gs_before && Instant::now() < deadline {
        gort::time::sleep(Duration::from_millis(10)).await;
    }
    let gs_after = gort::stats().goroutines;
    if gs_after != gs_before {
        books.violation(format!("Gs: {gs_before} before, {gs_after} after"));
    }
    let fds_after = fds();
    if fds_after != fds_before {
        books.violation(format!("fds: {fds_before} before, {fds_after} after"));
    }
    let rss_end = rss_bytes();
    // "Near": within 64 MiB or half again of the warmed-up size, whichever is more. The allocator
    // keeps freed pages for reuse, so equality is not the test; steady growth is.
    let slack = (64 << 20).max(rss_after_warmup / 2);
    if rss_end > rss_after_warmup + slack {
        books.violation(format!(
            "RSS grew from {} KiB after the first round to {} KiB",
            rss_after_warmup >> 10,
            rss_end >> 10
        ));
    }
    format!(
        "Gs {gs_before} -> {gs_after}, fds {fds_before} -> {fds_after}, RSS {} KiB after round 1 -> {} KiB at the end",
        rss_after_warmup >> 10,
        rss_end >> 10
    )
}

/// One G's work, chosen by `kind`; `r` supplies its random sizes.
async fn work(kind: u64, r: u64, books: Arc<Books>, addr: std::net::SocketAddr) {
    let small = (r % 97) as usize;
    match kind {
        // Producer/consumer over a channel of cap 0..=3.
        0 | 1 => {
            let (tx, rx) = channel::<u64>((r % 4) as usize);
            let n = 1 + (r >> 8) % 500;
            let b = books.clone();
            let producer = gort::go(async move {
                for i in 0..n {
                    tx.send(i).await.expect("soak: receiver alive");
                    Books::add(&b.sent, 1);
                }
            });
            let mut sum = 0;
            while let Some(v) = rx.recv().await {
                sum += v;
                Books::add(&books.received, 1);
            }
            producer.await.expect("soak: producer");
            if sum != n * (n - 1) / 2 {
                books.violation(format!("channel sum {sum}, expected {}", n * (n - 1) / 2));
            }
        }
        // A select racing a late value against a timeout; a value that loses is drained later.
        2 => {
            let (tx, rx) = channel::<u64>(1);
            let late = Duration::from_micros(r % 3000);
            let b = books.clone();
            let sender = gort::go(async move {
                gort::time::sleep(late).await;
                tx.try_send(1)
                    .expect("soak: a cap-1 channel with one value has room");
                Books::add(&b.sent, 1);
            });
            let got = gort::select! {
                recv(rx) -> v => v,
                recv(gort::time::after(Duration::from_micros((r >> 16) % 3000))) -> _ => None,
            };
            if got.is_none() {
                Books::add(&books.timeouts, 1);
            }
            sender.await.expect("soak: sender");
            let rest = rx.recv().await;
            let total = u64::from(got.is_some()) + u64::from(rest.is_some());
            Books::add(&books.received, total);
            if total != 1 {
                books.violation(format!("select/timeout: {total} values for 1 sent"));
            }
        }
        // A G cancelled while parked on a send nobody receives: its value must not be delivered.
        3 => {
            let (tx, rx) = channel::<u64>(0);
            // Counted here: the G may be cancelled before it first runs.
            Books::add(&books.sent, 1);
            let h = gort::go(async move {
                let _ = tx.send(7).await;
                unreachable!("soak: nobody receives");
            });
            gort::time::sleep(Duration::from_micros(small as u64 * 10)).await;
            h.abort();
            match h.await {
                Err(e) if e.is_cancelled() => {
                    Books::add(&books.cancels, 1);
                    Books::add(&books.withdrawn, 1);
                }
                other => books.violation(format!("an aborted G ended with {other:?}")),
            }
            // The sender is gone with its G: the channel is closed and holds nothing.
            if rx.try_recv() != Err(TryRecvError::Closed) {
                books.violation("a cancelled send was delivered".to_string());
            }
        }
        // A blocking section.
        4 => {
            gort::blocking(|| std::thread::sleep(Duration::from_micros(small as u64 * 20)));
            Books::add(&books.blocking, 1);
        }
        // A G that panics (counted by the round's join).
        5 => {
            if small % 2 == 0 {
                gort::yield_now().await;
            }
            std::panic::panic_any(DELIBERATE);
        }
        // TCP echo over loopback.
        6 => {
            let size = 1 + (r >> 4) as usize % (64 * 1024);
            let data: Vec<u8> = (0..size).map(|i| (i as u64 ^ r) as u8).collect();
            let conn = match TcpStream::connect(addr).await {
                Ok(c) => c,
                Err(e) => return books.violation(format!("connect: {e}")),
            };
            let (rd, wr) = conn.into_split();
            let out = data.clone();
            let writer = gort::go(async move {
                let mut wr = wr;
                wr.write_all(&out).await
            });
            let mut back = vec![0u8; size];
            let mut rd = rd;
            let read = rd.read_exact(&mut back).await;
            let wrote = writer.await.expect("soak: writer");
            if read.is_err() || wrote.is_err() || back != data {
                books.violation(format!("echo of {size} bytes: {read:?} {wrote:?}"));
            } else {
                Books::add(&books.echoed_bytes, size as u64);
            }
        }
        // A timer must not fire early.
        7 => {
            let d = Duration::from_micros(r % 2000);
            let t = Instant::now();
            gort::time::sleep(d).await;
            if t.elapsed() < d {
                books.violation(format!("a {d:?} sleep ended after {:?}", t.elapsed()));
            }
            Books::add(&books.timers, 1);
        }
        // A spawn tree: each node starts up to 3 children and waits for them.
        _ => {
            fn tree(depth: u32, books: Arc<Books>) -> gort::JoinHandle<u64> {
                gort::go(async move {
                    let mut n = 1;
                    if depth > 0 {
                        let kids: Vec<_> = (0..3).map(|_| tree(depth - 1, books.clone())).collect();
                        for k in kids {
                            n += k.await.expect("soak: tree");
                        }
                    }
                    n
                })
            }
            let depth = (r % 5) as u32;
            let n = tree(depth, books.clone()).await.expect("soak: tree");
            let want = (3u64.pow(depth + 1) - 1) / 2;
            Books::add(&books.spawned, n);
            if n != want {
                books.violation(format!(
                    "spawn tree of depth {depth}: {n} Gs, expected {want}"
                ));
            }
        }
    }
}
