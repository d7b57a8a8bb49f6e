//! Go's runtime channel tests (golang/go `src/runtime/chan_test.go`), ported to gort: one `#[test]`
//! per Go test, each naming its original.
//!
//! Copyright 2009 The Go Authors. All rights reserved. Use of this source code is governed by a
//! BSD-style license that can be found in tests/LICENSE-GO. (The ports follow Go's structure; the
//! Rust is our own.)
//!
//! Differences the API imposes, written down where they apply:
//! - A receive yields `Option<T>`: Go's `v, ok := <-c` with `ok == false` is `None`.
//! - Go's tests share plain variables between goroutines (`recv1 = true`) and rely on Go's memory
//!   model being lenient in tests; here they are atomics.
//! - Counts Go runs in long mode are reduced (said where) to keep each test to seconds on a loaded
//!   2-core machine; `testing.Short()` values are used where Go has them, or more.
//! - `TestPseudoRandomSend` is in go_pseudo_random_send.rs, `TestSelectStress` with nil channels in
//!   go_select_stress_nil.rs. `TestSelectStress` here uses a channel nobody else holds where Go
//!   sets a case's channel to nil (never ready, like nil). `TestShrinkStackDuringBlockedSend` is
//!   left out: gort's Gs are futures without stacks to shrink. The benchmarks are left out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gort::chan::{channel, Receiver, Sender};
use gort::Builder;

fn rt(procs: usize) -> gort::Runtime {
    Builder::new().procs(procs).build().expect("runtime")
}

/// Port of TestChan: for every capacity 0..199 (Go's N = 200), a receive from an empty channel
/// blocks, a send to a full one blocks, a closed channel drains then yields `None`, close unblocks a
/// receiver, 100 values arrive in FIFO order (twice), 4 senders × 1000 values reach 4 receivers
/// exactly once each, and len/cap are right. GOMAXPROCS(4) as in Go. Go's "blocks" checks sleep
/// 1 ms and look; so do these (a check that can only miss, never falsely fail).
#[test]
fn test_chan_every_capacity_0_to_199() {
    rt(4).block_on(async {
        for cap in 0..200usize {
            test_chan_cap(cap).await;
        }
    });
}

async fn test_chan_cap(cap: usize) {
    let ms = || gort::time::sleep(Duration::from_millis(1));
    {
        // Ensure that receive from empty chan blocks.
        let (c, cr) = channel::<i32>(cap);
        let recv1 = Arc::new(AtomicBool::new(false));
        let recv2 = Arc::new(AtomicBool::new(false));
        for flag in [recv1.clone(), recv2.clone()] {
            let cr = cr.clone();
            gort::go(async move {
                cr.recv().await;
                flag.store(true, Ordering::SeqCst);
            });
        }
        ms().await;
        assert!(
            !recv1.load(Ordering::SeqCst) && !recv2.load(Ordering::SeqCst),
            "chan[{cap}]: receive from empty chan"
        );
        // Ensure that non-blocking receive does not block.
        gort::select! {
            recv(cr) -> _ => panic!("chan[{cap}]: receive from empty chan"),
            default => {}
        }
        c.send(0).await.unwrap();
        c.send(0).await.unwrap();
    }
    {
        // Ensure that send to full chan blocks.
        let (c, cr) = channel::<i32>(cap);
        for i in 0..cap as i32 {
            c.send(i).await.unwrap();
        }
        let sent = Arc::new(AtomicU32::new(0));
        let (c2, s2) = (c.clone(), sent.clone());
        gort::go(async move {
            c2.send(0).await.unwrap();
            s2.store(1, Ordering::SeqCst);
        });
        ms().await;
        assert_eq!(
            sent.load(Ordering::SeqCst),
            0,
            "chan[{cap}]: send to full chan"
        );
        // Ensure that non-blocking send does not block.
        gort::select! {
            send(c, 0) -> _ => panic!("chan[{cap}]: send to full chan"),
            default => {}
        }
        cr.recv().await.unwrap();
    }
    {
        // Ensure that we receive 0 (here: None) from closed chan.
        let (c, cr) = channel::<i32>(cap);
        for i in 0..cap as i32 {
            c.send(i).await.unwrap();
        }
        c.close();
        for i in 0..cap as i32 {
            assert_eq!(cr.recv().await, Some(i), "chan[{cap}]");
        }
        assert_eq!(cr.recv().await, None, "chan[{cap}]");
        assert_eq!(cr.recv().await, None, "chan[{cap}]");
    }
    {
        // Ensure that close unblocks receive.
        let (c, cr) = channel::<i32>(cap);
        let (done, done_r) = channel::<bool>(0);
        gort::go(async move {
            let v = cr.recv().await;
            done.send(v.is_none()).await.unwrap();
        });
        ms().await;
        c.close();
        assert!(
            done_r.recv().await.unwrap(),
            "chan[{cap}]: received a value from closed chan"
        );
    }
    {
        // Send 100 integers, ensure that we receive them non-corrupted in FIFO order (Go does it
        // twice, with `v := <-c` and `v, ok := <-c`; one receive form here, so twice the same).
        let (c, cr) = channel::<i32>(cap);
        for _ in 0..2 {
            let c2 = c.clone();
            gort::go(async move {
                for i in 0..100 {
                    c2.send(i).await.unwrap();
                }
            });
            for i in 0..100 {
                assert_eq!(cr.recv().await, Some(i), "chan[{cap}]");
            }
        }
        // Send 1000 integers in 4 goroutines, ensure that we receive what we send.
        const P: usize = 4;
        const L: i32 = 1000;
        for _ in 0..P {
            let c2 = c.clone();
            gort::go(async move {
                for i in 0..L {
                    c2.send(i).await.unwrap();
                }
            });
        }
        let (done, done_r) = channel::<HashMap<i32, usize>>(0);
        for _ in 0..P {
            let (cr, done) = (cr.clone(), done.clone());
            gort::go(async move {
                let mut recv = HashMap::new();
                for _ in 0..L {
                    *recv.entry(cr.recv().await.unwrap()).or_insert(0) += 1;
                }
                done.send(recv).await.unwrap();
            });
        }
        let mut recv = HashMap::new();
        for _ in 0..P {
            for (k, v) in done_r.recv().await.unwrap() {
                *recv.entry(k).or_insert(0) += v;
            }
        }
        assert_eq!(recv.len(), L as usize, "chan[{cap}]: distinct values");
        assert!(
            recv.values().all(|&v| v == P),
            "chan[{cap}]: a value not received {P} times"
        );
    }
    {
        // Test len/cap.
        let (c, cr) = channel::<i32>(cap);
        assert_eq!((c.len(), c.cap()), (0, cap), "chan[{cap}]: bad len/cap");
        for i in 0..cap as i32 {
            c.send(i).await.unwrap();
        }
        assert_eq!((cr.len(), cr.cap()), (cap, cap), "chan[{cap}]: bad len/cap");
    }
}

/// Port of TestNonblockRecvRace: a non-blocking receive racing a close on a channel holding a value
/// must still find the value (or the close) ready, never take `default`. Go's n = 10 000 (100 in
/// short mode); 2 000 here.
#[test]
fn test_nonblock_recv_race() {
    rt(2).block_on(async {
        for _ in 0..2_000 {
            let (c, cr) = channel::<i32>(1);
            c.send(1).await.unwrap();
            let cr2 = cr.clone();
            let h = gort::go(async move {
                gort::select! {
                    recv(cr2) -> _ => {}
                    default => panic!("chan is not ready"),
                }
            });
            c.close();
            cr.recv().await;
            h.await.unwrap();
        }
    });
}

/// Port of TestNonblockSelectRace: "select acts on the state of the channels at one moment in the
/// execution, not over a smeared time window." From the time the second G is created, at least one
/// of c1 and c2 is ready, so its non-blocking select must never take `default`. Go's n = 100 000
/// (1000 in short mode); 5 000 here.
#[test]
fn test_nonblock_select_race() {
    nonblock_select_race(false);
}

/// Port of TestNonblockSelectRace2: the same, with `close(c2)` in place of `c2 <- 1`.
#[test]
fn test_nonblock_select_race2() {
    nonblock_select_race(true);
}

fn nonblock_select_race(close_c2: bool) {
    rt(2).block_on(async move {
        let (done, done_r) = channel::<bool>(1);
        for _ in 0..5_000 {
            let (c1, c1r) = channel::<i32>(1);
            let (c2, c2r) = channel::<i32>(if close_c2 { 0 } else { 1 });
            c1.send(1).await.unwrap();
            let (d, r1, r2) = (done.clone(), c1r.clone(), c2r.clone());
            gort::go(async move {
                let ok = gort::select! {
                    recv(r1) -> _ => true,
                    recv(r2) -> _ => true,
                    default => false,
                };
                d.send(ok).await.unwrap();
            });
            if close_c2 {
                c2.close();
            } else {
                c2.send(1).await.unwrap();
            }
            gort::select! {
                recv(c1r) -> _ => {}
                default => {}
            }
            assert!(done_r.recv().await.unwrap(), "no chan is ready");
        }
    });
}

/// Port of TestSelfSelect: "Ensure that send/recv on the same chan in select does not crash nor
/// deadlock" — and, unbuffered, a select never receives its own value. GOMAXPROCS(2), 1000 rounds
/// per G, caps 0 and 10, as in Go. Bounded by a timeout: a deadlock fails instead of hanging.
#[test]
fn test_self_select() {
    rt(2).block_on(async {
        for cap in [0usize, 10] {
            let (c, cr) = channel::<i32>(cap);
            let mut hs = Vec::new();
            for p in 0..2 {
                let (c, cr) = (c.clone(), cr.clone());
                hs.push(gort::go(async move {
                    for i in 0..1000 {
                        let got = if p == 0 || i % 2 == 0 {
                            gort::select! {
                                send(c, p) -> r => { r.unwrap(); None }
                                recv(cr) -> v => v,
                            }
                        } else {
                            gort::select! {
                                recv(cr) -> v => v,
                                send(c, p) -> r => { r.unwrap(); None }
                            }
                        };
                        if cap == 0 && got == Some(p) {
                            panic!("self receive");
                        }
                    }
                }));
            }
            for h in hs {
                let r = gort::time::timeout(Duration::from_secs(60), h).await;
                r.expect("deadlock").unwrap();
            }
        }
    });
}

/// Port of TestSelectStress: 4 Gs send N values on each of 4 channels (two unbuffered, caps 2 and
/// 3), 4 Gs receive N from each, one G sends N on each in a single select and one receives N from
/// each in a single select; "all these sends, receives and selects interact chaotically at
/// runtime, but we are careful that this whole construct does not deadlock." Go's N = 100 000
/// (10 000 short) on GOMAXPROCS(10); here N = 5 000 on 4 Ps. Where Go sets a finished case's channel
/// to nil, this port swaps in a channel nobody else holds (never ready, as nil is).
#[test]
fn test_select_stress() {
    const N: usize = 5_000;
    rt(4).block_on(async {
        let caps = [0usize, 0, 2, 3];
        let (tx, rx): (Vec<Sender<i32>>, Vec<Receiver<i32>>) =
            caps.iter().map(|&c| channel::<i32>(c)).unzip();
        let mut hs = Vec::new();
        for k in 0..4 {
            let (t, r) = (tx[k].clone(), rx[k].clone());
            hs.push(gort::go(async move {
                for _ in 0..N {
                    t.send(0).await.unwrap();
                }
            }));
            hs.push(gort::go(async move {
                for _ in 0..N {
                    r.recv().await.unwrap();
                }
            }));
        }
        let mut c1: Vec<Sender<i32>> = tx.clone();
        hs.push(gort::go(async move {
            let mut n = [0usize; 4];
            for _ in 0..4 * N {
                let k = gort::select! {
                    send(c1[3], 0) -> r => { r.unwrap(); 3 }
                    send(c1[2], 0) -> r => { r.unwrap(); 2 }
                    send(c1[0], 0) -> r => { r.unwrap(); 0 }
                    send(c1[1], 0) -> r => { r.unwrap(); 1 }
                };
                n[k] += 1;
                if n[k] == N {
                    c1[k] = channel::<i32>(0).0; // Go: c1[k] = nil
                }
            }
        }));
        // The receiving select's stand-in for nil keeps its sender alive, so it never closes.
        let mut keep = Vec::new();
        let mut c2: Vec<Receiver<i32>> = rx.clone();
        hs.push(gort::go(async move {
            let mut n = [0usize; 4];
            for _ in 0..4 * N {
                let k = gort::select! {
                    recv(c2[0]) -> v => { v.unwrap(); 0 }
                    recv(c2[1]) -> v => { v.unwrap(); 1 }
                    recv(c2[2]) -> v => { v.unwrap(); 2 }
                    recv(c2[3]) -> v => { v.unwrap(); 3 }
                };
                n[k] += 1;
                if n[k] == N {
                    let (t, r) = channel::<i32>(0);
                    keep.push(t);
                    c2[k] = r; // Go: c1[k] = nil
                }
            }
        }));
        drop((tx, rx));
        for h in hs {
            let r = gort::time::timeout(Duration::from_secs(120), h).await;
            r.expect("select stress deadlocked").unwrap();
        }
    });
}

/// Port of TestChanSendInterface: sends of a pointer-like value (Go: `interface{}` holding `&mt{}`)
/// in selects with default on a full channel compile and do not block.
#[test]
fn test_chan_send_interface() {
    rt(1).block_on(async {
        #[derive(Debug)]
        struct Mt;
        let m: Arc<dyn std::any::Any + Send + Sync> = Arc::new(Mt);
        let (c, _cr) = channel::<Arc<dyn std::any::Any + Send + Sync>>(1);
        c.send(m.clone()).await.unwrap();
        gort::select! {
            send(c, m.clone()) -> _ => panic!("sent to a full channel"),
            default => {}
        }
        gort::select! {
            send(c, m.clone()) -> _ => panic!("sent to a full channel"),
            send(c, Arc::new(Mt)) -> _ => panic!("sent to a full channel"),
            default => {}
        }
    });
}

/// Port of TestMultiConsumer: 23 workers range over a work channel (some yielding, "to mess with
/// the fifo-ish nature of range"), forward each value to a results channel; a feeder sends niter
/// values then closes work, waits for the workers and closes results; the sum and count must match.
/// Go's niter = 271 828; 27 183 here.
#[test]
fn test_multi_consumer() {
    const NWORK: usize = 23;
    const NITER: usize = 27_183;
    const PN: [i64; 10] = [2, 3, 7, 11, 13, 17, 19, 23, 27, 31];
    let (n, s, expect) = rt(2).block_on(async {
        let (q, qr) = channel::<i64>(NWORK * 3);
        let (r, rr) = channel::<i64>(NWORK * 3);
        let mut workers = Vec::new();
        for w in 0..NWORK {
            let (qr, r) = (qr.clone(), r.clone());
            workers.push(gort::go(async move {
                while let Some(v) = qr.recv().await {
                    if PN[w % PN.len()] == v {
                        gort::yield_now().await;
                    }
                    r.send(v).await.unwrap();
                }
            }));
        }
        drop((qr, r));
        let feeder = gort::go(async move {
            let mut expect = 0;
            for i in 0..NITER {
                let v = PN[i % PN.len()];
                expect += v;
                q.send(v).await.unwrap();
            }
            drop(q); // close(q): no more work
            for w in workers {
                w.await.unwrap(); // wg.Wait(): workers done; their senders of r are gone, closing r
            }
            expect
        });
        let (mut n, mut s) = (0, 0);
        while let Some(v) = rr.recv().await {
            n += 1;
            s += v;
        }
        (n, s, feeder.await.unwrap())
    });
    assert_eq!(
        (n, s),
        (NITER, expect),
        "expected sum {expect} from {NITER} iter"
    );
}

/// Port of TestSelectDuplicateChannel: "makes sure we can queue a G on the same channel multiple
/// times." G A selects on c, c, d; G B receives on c; a send on d wakes A, which must dequeue itself
/// from c (twice) without corrupting c's queue, so the later send on c wakes B.
#[test]
fn test_select_duplicate_channel() {
    rt(2).block_on(async {
        let r = gort::time::timeout(Duration::from_secs(20), async {
            let (c, cr) = channel::<i32>(0);
            let (d, dr) = channel::<i32>(0);
            let (e, er) = channel::<i32>(0);
            let ca = cr.clone();
            gort::go(async move {
                gort::select! {
                    recv(ca) -> _ => {}
                    recv(ca) -> _ => {}
                    recv(dr) -> _ => {}
                }
                e.send(9).await.unwrap();
            });
            gort::time::sleep(Duration::from_millis(1)).await; // A queues first on c
            let b = gort::go(async move { cr.recv().await });
            gort::time::sleep(Duration::from_millis(1)).await; // B queues on c
            d.send(7).await.unwrap(); // wake up A, it dequeues itself from c
            assert_eq!(er.recv().await, Some(9)); // A tells us it's done
            c.send(8).await.unwrap(); // wake up B
            assert_eq!(b.await.unwrap(), Some(8));
        })
        .await;
        assert!(r.is_ok(), "c's wait queue was corrupted: B never woke");
    });
}

/// Port of TestSelectFairness: a G selects over two always-ready buffered channels (values 1 and 2)
/// and two never-ready ones, forwarding each value; over 10 000 trials (Go's count) each ready
/// channel must be chosen within 10 standard deviations of half the time, Go's bound ("10 sigma is
/// a lot, but we're ok with some systematic bias as long as it isn't too severe").
#[test]
fn test_select_fairness() {
    const TRIALS: usize = 10_000;
    let (cnt1, cnt2) = rt(2).block_on(async {
        let (c1, c1r) = channel::<u8>(TRIALS + 1);
        let (c2, c2r) = channel::<u8>(TRIALS + 1);
        for _ in 0..=TRIALS {
            c1.send(1).await.unwrap();
            c2.send(2).await.unwrap();
        }
        let (_c3, c3r) = channel::<u8>(0);
        let (_c4, c4r) = channel::<u8>(0);
        let (out, outr) = channel::<u8>(0);
        let (done, doner) = channel::<u8>(0);
        let g = gort::go(async move {
            loop {
                let b = gort::select! {
                    recv(c3r) -> v => v,
                    recv(c4r) -> v => v,
                    recv(c1r) -> v => v,
                    recv(c2r) -> v => v,
                };
                let b = b.expect("a ready channel closed");
                gort::select! {
                    send(out, b) -> r => r.unwrap(),
                    recv(doner) -> _ => return,
                }
            }
        });
        let (mut cnt1, mut cnt2) = (0usize, 0usize);
        for _ in 0..TRIALS {
            match outr.recv().await {
                Some(1) => cnt1 += 1,
                Some(2) => cnt2 += 1,
                other => panic!("unexpected value {other:?} on channel"),
            }
        }
        drop(done); // close(done)
        g.await.unwrap();
        (cnt1, cnt2)
    });
    let mean = TRIALS as f64 * 0.5;
    let stddev = (TRIALS as f64 * 0.5 * 0.5).sqrt();
    assert!(
        (cnt1 as f64 - mean).abs() <= 10.0 * stddev,
        "unfair select: in {TRIALS} trials, results were {cnt1}, {cnt2}"
    );
}
