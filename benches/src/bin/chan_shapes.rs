//! `chan_shapes`: gort's channels on the workloads of the Go program in `benches/go/` (the same
//! shapes, the same message counts), so that `scripts/bench_chan_go.sh` can time the two side by
//! side and print gort/Go ratios.
//!
//! Usage: `chan_shapes [shape cap]` (no arguments: every shape at caps 0, 1 and 1000). Prints one
//! line per run, `<shape> <cap> <seconds>`, like the Go program. The runtime has 2 Ps (the Go
//! program runs with `GOMAXPROCS=2`); `GORT_PROCS` overrides it, and `GORT_ROUNDS=<k>` repeats each
//! shape k times (for instruction counting under valgrind, where one run is the unit).
//!
//! Shapes (N = 1 000 000 messages, T = 4):
//! - `seq`: one G sends N values into a channel of capacity N, then receives them (cap ignored);
//! - `spsc`: one sender G, one receiver G;
//! - `mpsc`: T senders (N/T each), one receiver;
//! - `mpmc`: T senders (N/T each), T receivers (N/T each);
//! - `select_rx`: T senders, each on its own channel; one receiver selecting over the T channels;
//! - `select_both`: T senders and T receivers over T channels, every operation a T-way `select!`.

use std::process::ExitCode;
use std::time::Instant;

use gort::chan::{channel, Receiver, Sender};
use gort::JoinHandle;

const N: usize = 1_000_000;
const T: usize = 4;

type Shape = fn(usize) -> Vec<JoinHandle<()>>;

async fn seq() {
    let (tx, rx) = channel::<usize>(N);
    for i in 0..N {
        tx.send(i).await.expect("open");
    }
    for _ in 0..N {
        rx.recv().await.expect("buffered");
    }
}

/// `gs` Gs, each sending `per` values on `tx`.
fn senders(out: &mut Vec<JoinHandle<()>>, tx: &Sender<usize>, gs: usize, per: usize) {
    for _ in 0..gs {
        let tx = tx.clone();
        out.push(gort::go(async move {
            for i in 0..per {
                tx.send(i).await.expect("receivers alive");
            }
        }));
    }
}

/// `gs` Gs, each receiving `per` values from `rx`.
fn receivers(out: &mut Vec<JoinHandle<()>>, rx: &Receiver<usize>, gs: usize, per: usize) {
    for _ in 0..gs {
        let rx = rx.clone();
        out.push(gort::go(async move {
            for _ in 0..per {
                rx.recv().await.expect("senders alive");
            }
        }));
    }
}

fn pipe(cap: usize, s: usize, r: usize) -> Vec<JoinHandle<()>> {
    let (tx, rx) = channel::<usize>(cap);
    let mut gs = Vec::new();
    senders(&mut gs, &tx, s, N / s);
    receivers(&mut gs, &rx, r, N / r);
    gs
}

fn spsc(cap: usize) -> Vec<JoinHandle<()>> {
    pipe(cap, 1, 1)
}

fn mpsc(cap: usize) -> Vec<JoinHandle<()>> {
    pipe(cap, T, 1)
}

fn mpmc(cap: usize) -> Vec<JoinHandle<()>> {
    pipe(cap, T, T)
}

fn select_rx(cap: usize) -> Vec<JoinHandle<()>> {
    let mut gs = Vec::new();
    let mut txs = Vec::new();
    let [a, b, c, d] = std::array::from_fn(|_| {
        let (tx, rx) = channel::<usize>(cap);
        senders(&mut gs, &tx, 1, N / T);
        txs.push(tx);
        rx
    });
    gs.push(gort::go(async move {
        // Go's channels stay open when their senders finish; so do these, while the receiver runs
        // (a closed channel would make its arm ready with `None`).
        let _open = txs;
        for _ in 0..N {
            gort::select! {
                recv(a) -> v => v,
                recv(b) -> v => v,
                recv(c) -> v => v,
                recv(d) -> v => v,
            }
            .expect("senders alive");
        }
    }));
    gs
}

fn select_both(cap: usize) -> Vec<JoinHandle<()>> {
    let chans: Vec<_> = (0..T).map(|_| channel::<usize>(cap)).collect();
    let mut gs = Vec::new();
    for _ in 0..T {
        let [a, b, c, d] = std::array::from_fn(|i| chans[i].0.clone());
        gs.push(gort::go(async move {
            for i in 0..N / T {
                gort::select! {
                    send(a, i) -> r => r,
                    send(b, i) -> r => r,
                    send(c, i) -> r => r,
                    send(d, i) -> r => r,
                }
                .expect("receivers alive");
            }
        }));
        let [a, b, c, d] = std::array::from_fn(|i| chans[i].1.clone());
        let open: Vec<_> = chans.iter().map(|(tx, _)| tx.clone()).collect();
        gs.push(gort::go(async move {
            let _open = open; // as in select_rx
            for _ in 0..N / T {
                gort::select! {
                    recv(a) -> v => v,
                    recv(b) -> v => v,
                    recv(c) -> v => v,
                    recv(d) -> v => v,
                }
                .expect("senders alive");
            }
        }));
    }
    gs
}

const SHAPES: [(&str, Shape); 5] = [
    ("spsc", spsc),
    ("mpsc", mpsc),
    ("mpmc", mpmc),
    ("select_rx", select_rx),
    ("select_both", select_both),
];

fn usage() -> ExitCode {
    eprintln!(
        "usage: chan_shapes [shape cap]   shapes: seq, spsc, mpsc, mpmc, select_rx, select_both"
    );
    ExitCode::from(2)
}

fn env_num(name: &str, default: usize) -> Option<usize> {
    match std::env::var(name) {
        Err(_) => Some(default),
        Ok(v) => v.parse().ok().filter(|&n| n > 0),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only: Option<(&str, usize)> = match args.as_slice() {
        [] => None,
        [shape, cap] => match cap.parse() {
            Ok(cap) => Some((shape.as_str(), cap)),
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    let (Some(procs), Some(rounds)) = (env_num("GORT_PROCS", 2), env_num("GORT_ROUNDS", 1)) else {
        eprintln!("chan_shapes: GORT_PROCS and GORT_ROUNDS must be positive integers");
        return ExitCode::from(2);
    };
    let rt = match gort::Builder::new().procs(procs).build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chan_shapes: cannot build the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let wanted = |name: &str, cap: usize| match only {
        None => true,
        Some((s, c)) => s == name && (c == cap || name == "seq"),
    };
    let mut found = false;
    for _ in 0..rounds {
        if wanted("seq", N) {
            found = true;
            let start = Instant::now();
            rt.block_on(seq());
            println!("seq {N} {:.6}", start.elapsed().as_secs_f64());
        }
        for (name, shape) in SHAPES {
            for cap in [0, 1, 1000] {
                if !wanted(name, cap) {
                    continue;
                }
                found = true;
                let start = Instant::now();
                rt.block_on(async move {
                    for g in shape(cap) {
                        g.await.expect("shape G");
                    }
                });
                println!("{name} {cap} {:.6}", start.elapsed().as_secs_f64());
            }
        }
    }
    if !found {
        return usage();
    }
    ExitCode::SUCCESS
}
