//! Stress tests (bounded; each well under a minute on 2 cores in release, a few in debug).
//! Own test binary: the RSS measurement must not see other tests' memory.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use examples::Rng;
use gort::chan::{channel, Receiver, Sender};
use gort::time::{after, sleep};
use gort::Builder;

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn one_million_gs_spawned_and_joined() {
    const N: u64 = 1_000_000;
    let before = peak_rss_kib();
    let rt = Builder::new().procs(2).build().unwrap();
    let sum = rt.block_on(async {
        // All alive at once: spawn every G, then join them all.
        let hs: Vec<_> = (0..N).map(|i| gort::go(async move { i & 1 })).collect();
        let mut sum = 0u64;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, N / 2);
    let st = rt.stats();
    assert_eq!(st.goroutines, 0, "every G finished: {st:?}");
    drop(rt);
    if let (Some(b), Some(a)) = (before, peak_rss_kib()) {
        let per_g = (a.saturating_sub(b) as f64 * 1024.0) / N as f64;
        println!(
            "1M Gs: peak RSS grew {} KiB, {per_g:.0} bytes per G (G + JoinHandle + queue slot)",
            a - b
        );
    }
}

#[derive(Default)]
struct Ledger {
    sent: Mutex<Vec<u64>>,
    received: Mutex<Vec<u64>>,
    children_done: AtomicUsize,
    children_cancelled: AtomicUsize,
    children_spawned: AtomicUsize,
}

#[test]
fn randomized_schedule_keeps_every_invariant() {
    let seed = std::env::var("GORT_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    println!("randomized schedule: seed {seed} (rerun with GORT_STRESS_SEED={seed})");
    const ACTORS: u64 = 40;
    const OPS: u64 = 150;
    let rt = Builder::new().procs(2).build().unwrap();
    let ledger = Arc::new(Ledger::default());
    let l2 = ledger.clone();
    rt.block_on(async move {
        let ledger = l2;
        let chans: Vec<(Sender<u64>, Receiver<u64>)> = [0usize, 0, 1, 4, 16]
            .iter()
            .map(|&cap| channel(cap))
            .collect();
        let chans = Arc::new(chans);
        let next_token = Arc::new(AtomicU64::new(1));
        let mut actors = Vec::new();
        for a in 0..ACTORS {
            let chans = chans.clone();
            let ledger = ledger.clone();
            let next_token = next_token.clone();
            let mut rng = Rng(seed ^ (a + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            actors.push(gort::go(async move {
                let mut children = Vec::new();
                for _ in 0..OPS {
                    let (tx, rx) = &chans[rng.below(chans.len() as u64) as usize];
                    match rng.below(8) {
                        0 | 1 => {
                            let tok = next_token.fetch_add(1, Ordering::Relaxed);
                            gort::select! {
                                send(tx, tok) -> res => {
                                    res.expect("channels stay open");
                                    ledger.sent.lock().unwrap().push(tok);
                                },
                                recv(after(Duration::from_micros(200))) -> _ => {},
                            }
                        }
                        2 | 3 => gort::select! {
                            recv(rx) -> v => ledger.received.lock().unwrap().push(v.expect("open")),
                            recv(after(Duration::from_micros(200))) -> _ => {},
                        },
                        4 => sleep(Duration::from_micros(rng.below(300))).await,
                        5 => {
                            let us = rng.below(200);
                            gort::blocking(|| std::thread::sleep(Duration::from_micros(us)));
                        }
                        6 => {
                            let l = ledger.clone();
                            let park = rng.below(2) == 0;
                            ledger.children_spawned.fetch_add(1, Ordering::Relaxed);
                            let h = gort::go(async move {
                                if park {
                                    sleep(Duration::from_millis(50)).await;
                                }
                                l.children_done.fetch_add(1, Ordering::Relaxed);
                            });
                            children.push((h, rng.below(2) == 0));
                        }
                        _ => gort::yield_now().await,
                    }
                }
                for (h, abort) in children {
                    if abort {
                        h.abort();
                    }
                    match h.await {
                        Ok(()) => {}
                        Err(e) if e.is_cancelled() => {
                            ledger.children_cancelled.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("child failed: {e}"),
                    }
                }
            }));
        }
        for a in actors {
            a.await.expect("actor panicked");
        }
        // Drain what is still buffered.
        for (_, rx) in chans.iter() {
            while let Ok(v) = rx.try_recv() {
                ledger.received.lock().unwrap().push(v);
            }
        }
        // Only the main G is left.
        assert_eq!(gort::stats().goroutines, 1, "a G outlived its owner");
    });
    let sent = ledger.sent.lock().unwrap().clone();
    let received = ledger.received.lock().unwrap().clone();
    let sent_set: HashSet<u64> = sent.iter().copied().collect();
    let recv_set: HashSet<u64> = received.iter().copied().collect();
    assert_eq!(
        sent_set.len(),
        sent.len(),
        "a token was sent twice (seed {seed})"
    );
    assert_eq!(
        recv_set.len(),
        received.len(),
        "a token was received twice (seed {seed})"
    );
    assert_eq!(
        sent_set, recv_set,
        "sent and received tokens differ (seed {seed})"
    );
    let spawned = ledger.children_spawned.load(Ordering::Relaxed);
    let done = ledger.children_done.load(Ordering::Relaxed);
    let cancelled = ledger.children_cancelled.load(Ordering::Relaxed);
    assert_eq!(
        done + cancelled,
        spawned,
        "a child neither finished nor was cancelled (seed {seed})"
    );
    println!(
        "randomized schedule: {} tokens delivered, {spawned} children ({cancelled} cancelled)",
        sent.len()
    );
}
