//! The workloads of the tracer chapter examples (`trace_*.rs`), as functions with a size parameter, so each example runs its workload at full size and
//! `tests/tests/trace.rs` runs the same code small and checks that the trace shows the phenomenon
//! the chapter is about.
//!
//! Each workload builds the runtime its chapter needs (the number of Ps is part of the story) and
//! drops it before returning, so a trace started around the call covers the runtime's whole life.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gort::{Builder, Runtime};

/// Burn CPU for about `d` without a preemption point (a G that computes).
pub fn spin(d: Duration) {
    let start = Instant::now();
    let mut x = 1u64;
    while start.elapsed() < d {
        for _ in 0..64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

/// Ps for the multi-P chapters: one per core, at least 2 (to have someone to steal) and at most 4
/// (to keep the picture readable). More Ps than cores would show Ms fighting for CPUs instead.
pub fn demo_procs() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 4)
}

fn build(procs: usize) -> Runtime {
    match Builder::new().procs(procs).build() {
        Ok(rt) => rt,
        Err(e) => panic!("cannot start the runtime: {e}"),
    }
}

/// Where an example's trace goes: `GORTTRACE` if set (the runtime writes it when dropped), else
/// `trace_<name>.json`, recorded with `gort::trace::start`/`stop`.
pub struct TraceFile {
    pub path: String,
    api: bool,
}

/// Start tracing for the example `name` (call before building the runtime).
pub fn trace_start(name: &str) -> TraceFile {
    if let Some(p) = std::env::var_os("GORTTRACE").filter(|p| !p.is_empty()) {
        return TraceFile {
            path: p.to_string_lossy().into_owned(),
            api: false,
        };
    }
    let path = format!("trace_{name}.json");
    let file = match std::fs::File::create(&path) {
        Ok(f) => f,
        Err(e) => panic!("cannot create {path}: {e}"),
    };
    if let Err(e) = gort::trace::start(std::io::BufWriter::new(file)) {
        panic!("cannot start tracing: {e}");
    }
    TraceFile { path, api: true }
}

impl TraceFile {
    /// Stop tracing (the runtime must be gone), say where the trace is, and read it back for the
    /// example to print what it shows. None if it cannot be read (the message says why).
    pub fn finish(self) -> Option<gort_trace::Trace> {
        if self.api {
            if let Err(e) = gort::trace::stop() {
                eprintln!("writing the trace failed: {e}");
                return None;
            }
        }
        println!();
        println!("trace: {}", self.path);
        println!("  open it in https://ui.perfetto.dev (or chrome://tracing), or run");
        println!(
            "  cargo run --release --bin gort-trace -- summary {}",
            self.path
        );
        println!(
            "  cargo run --release --bin gort-trace -- html {} -o trace.html",
            self.path
        );
        match gort_trace::Trace::load(&self.path) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("cannot read the trace back: {e}");
                None
            }
        }
    }
}

/// Print the scheduler counters, like a one-shot `GORTDEBUG=schedtrace` line.
pub fn print_stats(label: &str, s: &gort::Stats) {
    println!(
        "{label}: gomaxprocs={} threads={} idleprocs={} runqueue={} local={:?} spawned={} steals={} handoffs={} preemptions={} rescues={}",
        s.gomaxprocs,
        s.threads,
        s.idle_procs,
        s.global_runq,
        s.local_runq,
        s.spawned,
        s.steals,
        s.handoffs,
        s.preemptions,
        s.rescues
    );
}

// ---- chapter: G, M, P ------------------------------------------------------------------------------

/// What `gmp` saw.
#[derive(Clone, Debug, Default)]
pub struct GmpReport {
    /// How many Gs ran (finished) on each P.
    pub per_p: Vec<usize>,
    /// Children that ran on their parent's P (runnext keeps them there unless stolen).
    pub child_on_parent_p: usize,
    pub children: usize,
    pub stats: gort::Stats,
}

/// `procs` Ps; the main G spawns `n` Gs, each does ~`work` of CPU and spawns one child, which goes
/// to its P's `runnext` and runs right after it on the same P.
pub fn gmp(procs: usize, n: usize, work: Duration) -> GmpReport {
    let rt = build(procs);
    let report = rt.block_on(async move {
        let hs: Vec<_> = (0..n)
            .map(|_| {
                gort::go(async move {
                    spin(work);
                    let parent_p = gort::current_p();
                    let child = gort::go(async move {
                        spin(work / 4);
                        gort::current_p()
                    });
                    let child_p = child.await.ok().flatten();
                    (parent_p, child_p)
                })
            })
            .collect();
        let mut r = GmpReport {
            per_p: vec![0; procs],
            ..GmpReport::default()
        };
        for h in hs {
            let Ok((pp, cp)) = h.await else { continue };
            for p in [pp, cp].into_iter().flatten() {
                r.per_p[p] += 1;
            }
            r.children += 1;
            if pp.is_some() && pp == cp {
                r.child_on_parent_p += 1;
            }
        }
        r.stats = gort::stats();
        r
    });
    drop(rt);
    report
}

// ---- chapter: findRunnable -------------------------------------------------------------------------

/// What `find_runnable` saw: the order the Gs ran in (each logs after its last step). `L<i>` came
/// from the local run queue, `E<i>` from the global queue (each was woken by a plain thread, which
/// holds no P and so readies Gs onto the global queue), `T` was woken by a timer.
#[derive(Clone, Debug, Default)]
pub struct FindReport {
    pub order: Vec<String>,
    /// For each `E` that ran while `L`s were still queued: its position in `order`.
    pub interleaved: Vec<usize>,
    pub stats: gort::Stats,
}

/// One P. A G spawns `global` Gs that each wait on a channel, a G that wakes them all from a plain
/// OS thread (so they go to the global queue), one G that sleeps 1 ms, and `local` Gs of ~`work`
/// CPU each (the local queue). `findRunnable` takes one G from the global queue every 61st
/// schedtick even though local work remains; the rest wait until the local queue is empty. The
/// sleeper is woken by the P's timers and goes to the tail of the local queue. Everything happens
/// on one P in an order the scheduler alone decides, so the run order is the same every time
/// (unless the OS stalls a poll for 20 ms and sysmon rescues the P).
pub fn find_runnable(local: usize, global: usize, work: Duration) -> FindReport {
    assert!(
        local + global < 250,
        "keep the local queue under its 256 slots"
    );
    let rt = build(1);
    let order = Arc::new(Mutex::new(Vec::new()));
    let log = |order: &Arc<Mutex<Vec<String>>>, s: String| {
        order.lock().unwrap_or_else(|e| e.into_inner()).push(s);
    };
    let o = order.clone();
    let stats = rt.block_on(async move {
        let (es, wakers): (Vec<_>, Vec<_>) = (0..global)
            .map(|i| {
                let o = o.clone();
                let (tx, rx) = gort::chan::channel::<()>(1);
                let h = gort::go(async move {
                    let _ = rx.recv().await;
                    log(&o, format!("E{i}"));
                });
                (h, tx)
            })
            .unzip();
        // Runs after every E has parked (the local queue is FIFO). The sends come from a thread
        // outside the runtime, so the Gs they wake go to the global queue (Go: a goroutine readied
        // without a P). Joining it holds the P for a moment, which is what we want here.
        let kicker = gort::go(async move {
            let t = std::thread::spawn(move || {
                for tx in wakers {
                    let _ = tx.try_send(());
                }
            });
            let _ = t.join();
        });
        let t = o.clone();
        let sleeper = gort::go(async move {
            gort::time::sleep(Duration::from_millis(1)).await;
            log(&t, "T".into());
        });
        let ls: Vec<_> = (0..local)
            .map(|i| {
                let o = o.clone();
                gort::go(async move {
                    spin(work);
                    log(&o, format!("L{i}"));
                })
            })
            .collect();
        for h in ls.into_iter().chain(es).chain([sleeper, kicker]) {
            let _ = h.await;
        }
        gort::stats()
    });
    drop(rt);
    let order = std::mem::take(&mut *order.lock().unwrap_or_else(|e| e.into_inner()));
    let last_l = order.iter().rposition(|s| s.starts_with('L')).unwrap_or(0);
    let interleaved = order
        .iter()
        .enumerate()
        .filter(|(i, s)| s.starts_with('E') && *i < last_l)
        .map(|(i, _)| i)
        .collect();
    FindReport {
        order,
        interleaved,
        stats,
    }
}

// ---- chapter: work stealing ------------------------------------------------------------------------

/// What `work_stealing` saw.
#[derive(Clone, Debug, Default)]
pub struct StealReport {
    /// How many of the flood's Gs ran on each P.
    pub per_p: Vec<usize>,
    pub stats: gort::Stats,
}

/// `procs` Ps. One G floods its own P with `n` Gs of ~`work` CPU each; the other Ps, idle, are
/// started by `wakep` as spinning Ms and steal half of the flooded queue at a time.
pub fn work_stealing(procs: usize, n: usize, work: Duration) -> StealReport {
    let rt = build(procs);
    let report = rt.block_on(async move {
        let flood = gort::go(async move {
            let hs: Vec<_> = (0..n)
                .map(|_| {
                    gort::go(async move {
                        spin(work);
                        gort::current_p()
                    })
                })
                .collect();
            let mut per_p = vec![0; procs];
            for h in hs {
                if let Ok(Some(p)) = h.await {
                    per_p[p] += 1;
                }
            }
            per_p
        });
        let per_p = flood.await.unwrap_or_default();
        StealReport {
            per_p,
            stats: gort::stats(),
        }
    });
    drop(rt);
    report
}

// ---- chapter: blocking sections and hand-off -------------------------------------------------------

/// What `syscall_handoff` saw.
#[derive(Clone, Debug, Default)]
pub struct HandoffReport {
    /// Small Gs that finished while the long blocking section was still running.
    pub finished_during_block: usize,
    pub small: usize,
    pub stats: gort::Stats,
}

/// One P. A G makes a few short blocking calls (they return on the fast path: the P is still
/// theirs) and then one that blocks for `block`; `small` Gs wait on the same P. sysmon sees the P
/// stuck in a blocking section with work queued and hands it to another M, which runs the small Gs.
/// When the long call returns, its M finds its P gone and takes an idle one, or parks.
pub fn syscall_handoff(small: usize, block: Duration) -> HandoffReport {
    let rt = build(1);
    let report = rt.block_on(async move {
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let blocker = gort::go(async move {
            for _ in 0..3 {
                gort::blocking(|| spin(Duration::from_micros(5)));
            }
            gort::blocking(|| std::thread::sleep(block));
            d.store(true, Ordering::SeqCst);
        });
        gort::yield_now().await; // let the blocker start its blocking calls
        let hs: Vec<_> = (0..small)
            .map(|_| {
                let done = done.clone();
                gort::go(async move {
                    spin(Duration::from_micros(50));
                    !done.load(Ordering::SeqCst)
                })
            })
            .collect();
        let mut during = 0;
        for h in hs {
            if h.await.unwrap_or(false) {
                during += 1;
            }
        }
        let _ = blocker.await;
        HandoffReport {
            finished_during_block: during,
            small,
            stats: gort::stats(),
        }
    });
    drop(rt);
    report
}

// ---- chapter: preemption ---------------------------------------------------------------------------

/// What `preemption` saw.
#[derive(Clone, Debug, Default)]
pub struct PreemptReport {
    /// How late each of the ticker's 1 ms sleeps woke up.
    pub ticker_late: Vec<Duration>,
    pub stats: gort::Stats,
}

/// One P. A CPU-bound G computes for `cpu`, calling `gort::coop()` in its loop (a preemption
/// point); a ticker G sleeps 1 ms at a time. sysmon sees the same time slice for 10 ms, asks the G
/// to yield, and it does at its next `coop()`: it goes to the global queue and the ticker runs.
pub fn preemption(cpu: Duration) -> PreemptReport {
    let rt = build(1);
    let report = rt.block_on(async move {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let cruncher = gort::go(async move {
            let start = Instant::now();
            while start.elapsed() < cpu {
                spin(Duration::from_micros(20));
                gort::coop().await;
            }
            s.store(true, Ordering::SeqCst);
        });
        // Spawned last, the ticker takes `runnext` and runs first, so it is asleep on its timer —
        // not queued — while the cruncher computes: what stops the cruncher is preemption, not
        // sysmon's runaway-poll rescue (which a queued G would trigger after 20 ms).
        let ticker = gort::go(async move {
            let mut late = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let t = Instant::now();
                gort::time::sleep(Duration::from_millis(1)).await;
                late.push(t.elapsed().saturating_sub(Duration::from_millis(1)));
            }
            late
        });
        let _ = cruncher.await;
        let ticker_late = ticker.await.unwrap_or_default();
        PreemptReport {
            ticker_late,
            stats: gort::stats(),
        }
    });
    drop(rt);
    report
}

// ---- chapter: bootstrap ----------------------------------------------------------------------------

/// `gort::run` with a main G that spawns one G and returns: the whole life of a runtime, from
/// `schedinit` to exit. Returns the main G's result.
pub fn bootstrap() -> u64 {
    gort::run(async {
        let child = gort::go(async { 6 * 7 });
        child.await.unwrap_or(0)
    })
}

/// Print what a trace shows, in a few lines: G runs per P, the scheduler events, the latency.
pub fn print_trace_facts(t: &gort_trace::Trace) {
    let a = gort_trace::analyze(t);
    let per_p: Vec<String> = t
        .procs()
        .iter()
        .map(|(tid, name)| {
            let n = t.slices_of("g").filter(|s| s.tid == *tid).count();
            format!("{name}: {n}")
        })
        .collect();
    println!("G runs per P        {}", per_p.join(", "));
    let c = &a.counts;
    println!(
        "scheduler events    {} steals ({} Gs moved), {} runnext hand-offs, {} preemption requests, \
         {} preemptions, {} hand-offs, {} rescues, {} blocking sections",
        c.steals,
        c.stolen,
        c.runnext,
        c.preempt_requests,
        c.preemptions,
        c.handoffs,
        c.rescues,
        c.syscalls
    );
    if a.latency.n > 0 {
        println!(
            "unblock → start     p50 {}  p99 {}  max {} ({} samples)",
            gort_trace::analysis::fmt_ns(a.latency.p50),
            gort_trace::analysis::fmt_ns(a.latency.p99),
            gort_trace::analysis::fmt_ns(a.latency.max),
            a.latency.n
        );
    }
}

// ---- chapter: the netpoller ------------------------------------------------------------------------

/// What `netpoller` saw.
#[derive(Clone, Debug, Default)]
pub struct NetpollReport {
    /// Round trips completed by the clients.
    pub round_trips: usize,
    pub stats: gort::Stats,
}

/// `procs` Ps. An echo server G per connection and `conns` client Gs on loopback TCP; each client
/// sends `rounds` small messages and waits for each echo. Every read that finds no data parks its G
/// on the netpoller (`IO wait`); when the peer writes, epoll reports the socket and the M that polls
/// makes the G runnable again — the trace shows those wake-ups as `by: netpoll`, often several in one
/// `Netpoll` batch.
pub fn netpoller(procs: usize, conns: usize, rounds: usize) -> NetpollReport {
    use gort::net::{TcpListener, TcpStream};
    let rt = build(procs);
    let report = rt.block_on(async move {
        let listener = match TcpListener::bind("127.0.0.1:0") {
            Ok(l) => l,
            Err(e) => panic!("bind a loopback port: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("local address: {e}"),
        };
        let server = gort::go(async move {
            for _ in 0..conns {
                let Ok((s, _)) = listener.accept().await else {
                    return;
                };
                gort::go(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let clients: Vec<_> = (0..conns)
            .map(|c| {
                gort::go(async move {
                    let Ok(s) = TcpStream::connect(addr).await else {
                        return 0;
                    };
                    let mut done = 0;
                    let mut buf = [0u8; 8];
                    for r in 0..rounds {
                        let msg = ((c * 1000 + r) as u64).to_le_bytes();
                        if s.write_all(&msg).await.is_err() || s.read_exact(&mut buf).await.is_err()
                        {
                            break;
                        }
                        if buf == msg {
                            done += 1;
                        }
                    }
                    done
                })
            })
            .collect();
        let mut round_trips = 0;
        for h in clients {
            round_trips += h.await.unwrap_or(0);
        }
        let _ = server.await;
        NetpollReport {
            round_trips,
            stats: gort::stats(),
        }
    });
    drop(rt);
    report
}

// ---- chapter: channel internals --------------------------------------------------------------------

/// What `channels` saw: the three cases of Go's `chansend`, counted by the producer.
#[derive(Clone, Debug, Default)]
pub struct ChanReport {
    /// Values received by the consumers, in order, per channel.
    pub unbuffered: Vec<u64>,
    pub buffered: Vec<u64>,
    pub stats: gort::Stats,
}

/// One P, three scenes of `runtime/chan.go`:
/// 1. **direct hand-off**: a receiver parks on an unbuffered channel first (`chan receive`); the
///    sender finds it in `recvq` and copies the value straight to it, then readies it into `runnext`;
/// 2. **buffered send**: sends into a channel with free slots complete at once, no G parks;
/// 3. **sender parked on a full channel**: a producer outruns a slow consumer on a 2-slot channel,
///    parks in `sendq` (`chan send`), and is readied by the receive that makes room.
pub fn channels(n: u64) -> ChanReport {
    use gort::chan::channel;
    let rt = build(1);
    let report = rt.block_on(async move {
        // 1. direct hand-off: the receiver is spawned first and parks before anything is sent.
        let (tx, rx) = channel::<u64>(0);
        let receiver = gort::go(async move {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        });
        gort::yield_now().await; // let it park in recvq
        for i in 0..n {
            let _ = tx.send(i).await;
        }
        drop(tx);
        let unbuffered = receiver.await.unwrap_or_default();

        // 2 and 3. a 2-slot channel: the first sends fill the buffer; then the producer parks on
        // the full channel until the (deliberately slow) consumer makes room.
        let (tx, rx) = channel::<u64>(2);
        let producer = gort::go(async move {
            for i in 0..n {
                let _ = tx.send(i).await;
            }
        });
        let mut buffered = Vec::new();
        while let Some(v) = rx.recv().await {
            buffered.push(v);
            gort::yield_now().await; // slow consumer: let the producer fill the buffer again
        }
        let _ = producer.await;
        ChanReport {
            unbuffered,
            buffered,
            stats: gort::stats(),
        }
    });
    drop(rt);
    report
}
