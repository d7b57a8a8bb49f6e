//! Go's channel test programs (golang/go `test/chan/*.go`), ported to gort: one `#[test]` per Go
//! program, each naming its original. They check gort's channels and `select!` against suites
//! written by people who did not write gort.
//!
//! Copyright 2009 The Go Authors. All rights reserved. Use of this source code is governed by a
//! BSD-style license that can be found in tests/LICENSE-GO. (The ports follow Go's structure; the
//! Rust is our own.)
//!
//! Differences the API imposes, written down where they apply:
//! - A receive yields `Option<T>`: Go's zero value plus `ok == false` on a closed channel is `None`.
//! - A send on a closed channel returns the value (`Err(SendError(v))`) instead of panicking, so Go's
//!   `testPanic(always, ...)` cases check for that error.
//! - The nil-channel versions are in their own files (go_select_nil.rs, go_select3_nil.rs);
//!   `select.go` here uses a channel nobody else holds in place of `nil`, which is never ready
//!   either — for a send on a cap-0 channel without receivers, exactly nil's behaviour.
//! - Go's programs run to completion once; message counts are kept or reduced (said where) so every
//!   test ends in seconds on a loaded 2-core machine.
//! - The one Go program left out is `select5.go`, which is a generator of programs, not a test; the
//!   issue does not list it either. `select2.go` (memory must not grow) is its own binary,
//!   go_select2.rs, because it counts the bytes the whole process has allocated; `powser1.go` (power
//!   series as demand channels, ~400 lines) is go_powser.rs.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use gort::chan::{channel, Receiver, Sender, TryRecvError, TrySendError};
use gort::Builder;
use tests::blocks; // Go's testBlock

fn rt(procs: usize) -> gort::Runtime {
    Builder::new().procs(procs).build().expect("runtime")
}

/// Port of test/chan/doubleselect.go: "Test the situation in which two cases of a select can both
/// end up running." A sender offers each value to four unbuffered channels in one select; four
/// muxers copy them to one channel; the receiver must never see a value twice. Go's n = 10 000,
/// kept. Go checks only for duplicates; this port also checks that every value arrived.
#[test]
fn doubleselect_no_value_is_delivered_twice() {
    const N: u32 = 10_000;
    rt(2).block_on(async {
        let (c1, r1) = channel::<u32>(0);
        let (c2, r2) = channel::<u32>(0);
        let (c3, r3) = channel::<u32>(0);
        let (c4, r4) = channel::<u32>(0);
        gort::go(async move {
            for i in 0..N {
                gort::select! {
                    send(c1, i) -> r => r.unwrap(),
                    send(c2, i) -> r => r.unwrap(),
                    send(c3, i) -> r => r.unwrap(),
                    send(c4, i) -> r => r.unwrap(),
                }
            }
            // Dropping c1..c4 closes them, Go's close(c1) ... close(c4).
        });
        let (cmux, rmux) = channel::<u32>(0);
        let (done_tx, done_rx) = channel::<bool>(0);
        for input in [r1, r2, r3, r4] {
            let (out, done) = (cmux.clone(), done_tx.clone());
            gort::go(async move {
                while let Some(v) = input.recv().await {
                    out.send(v).await.unwrap();
                }
                done.send(true).await.unwrap();
            });
        }
        drop(done_tx);
        gort::go(async move {
            for _ in 0..4 {
                done_rx.recv().await.unwrap();
            }
            drop(cmux); // close(cmux)
        });
        let mut seen = HashSet::new();
        while let Some(v) = rmux.recv().await {
            assert!(seen.insert(v), "got duplicate value {v}");
        }
        assert_eq!(seen.len(), N as usize, "values lost");
    });
}

/// Port of test/chan/fifo.go: "Test that unbuffered channels act as pure fifos." `AsynchFifo` (a
/// buffered channel is FIFO) and `SynchFifo` (a chain of N Gs, each receiving the next value only
/// after its predecessor did, sees the values of an unbuffered channel in order). Go's N = 10.
#[test]
fn fifo_buffered_and_unbuffered_channels_are_fifo() {
    const N: i32 = 10;
    rt(2).block_on(async {
        // AsynchFifo
        let (tx, rx) = channel::<i32>(N as usize);
        for i in 0..N {
            tx.send(i).await.unwrap();
        }
        for i in 0..N {
            assert_eq!(rx.recv().await, Some(i), "AsynchFifo");
        }
        // SynchFifo
        let (ch, chr) = channel::<i32>(0);
        let (start, mut input) = channel::<i32>(0);
        let mut chain = Vec::new();
        for i in 0..N {
            let (out_tx, out_rx) = channel::<i32>(0);
            let chr = chr.clone();
            let prev = std::mem::replace(&mut input, out_rx);
            chain.push(gort::go(async move {
                // Chain: wait for the predecessor, take one value, pass the baton on.
                prev.recv().await.unwrap();
                assert_eq!(chr.recv().await, Some(i), "SynchFifo");
                out_tx.send(1).await.unwrap();
            }));
        }
        start.send(0).await.unwrap();
        for i in 0..N {
            ch.send(i).await.unwrap();
        }
        assert_eq!(input.recv().await, Some(1));
        for h in chain {
            h.await.unwrap();
        }
    });
}

/// Port of test/chan/goroutines.go: "Torture test for goroutines. Make a lot of goroutines,
/// threaded together, and tear them down." A chain of n Gs, each passing one value from its right
/// to its left neighbour. Go's default n = 10 000, kept.
#[test]
fn goroutines_a_chain_of_ten_thousand_gs_passes_one_value() {
    const N: usize = 10_000;
    rt(2).block_on(async {
        let (leftmost_tx, leftmost) = channel::<i32>(0);
        let mut left_tx = leftmost_tx;
        for _ in 0..N {
            let (right_tx, right_rx) = channel::<i32>(0);
            let left = std::mem::replace(&mut left_tx, right_tx);
            gort::go(async move {
                // f(left, right): left <- <-right
                let v = right_rx.recv().await.unwrap();
                left.send(v).await.unwrap();
            });
        }
        let right = left_tx;
        gort::go(async move { right.send(1).await.unwrap() });
        assert_eq!(leftmost.recv().await, Some(1));
    });
}

/// Port of test/chan/nonblock.go: "Test channel operations that test for blocking." For element
/// types int32, int64, bool and string and buffers 0 and 1 (Go's `for buffer := 0; buffer < 2`): a
/// non-blocking receive on an empty channel does not proceed; a non-blocking send (retried, as Go
/// retries with a sleep) eventually meets a receiver G, and a non-blocking receive a sender G.
/// Go's maxTries = 10 000 with a ~10 µs sleep; here 10 000 tries with a yield and, every 100 tries, a
/// 1 ms sleep (up to ~100 ms per case, as in Go).
#[test]
fn nonblock_select_with_default_neither_blocks_nor_misses() {
    rt(2).block_on(async {
        for buffer in 0..2 {
            nonblock_case(buffer, 123i32, 234567i32).await;
            nonblock_case(buffer, 123i64, 234567i64).await;
            nonblock_case(buffer, true, false).await;
            nonblock_case(buffer, "hello".to_string(), "hello again".to_string()).await;
        }
    });
}

async fn nonblock_case<T>(buffer: usize, sent: T, back: T)
where
    T: Clone + PartialEq + std::fmt::Debug + Send + 'static,
{
    const MAX_TRIES: u32 = 10_000;
    async fn sleep(attempt: u32) {
        if attempt % 100 == 0 {
            gort::time::sleep(Duration::from_millis(1)).await;
        } else {
            gort::yield_now().await;
        }
    }
    let (tx, rx) = channel::<T>(buffer);
    let (sync_tx, sync_rx) = channel::<bool>(0);
    // A receive on an empty channel is not ready.
    gort::select! {
        recv(rx) -> v => panic!("buffer {buffer}: received {v:?} from an empty channel"),
        default => {}
    }
    // receiver G; our non-blocking send retries until it is there (unbuffered) or goes at once.
    let (r, s, want) = (rx.clone(), sync_tx.clone(), sent.clone());
    gort::go(async move {
        assert_eq!(r.recv().await, Some(want));
        s.send(true).await.unwrap();
    });
    let mut tries = 0;
    loop {
        let done = gort::select! {
            send(tx, sent.clone()) -> r => { r.unwrap(); true }
            default => false,
        };
        if done {
            break;
        }
        tries += 1;
        assert!(tries <= MAX_TRIES, "buffer {buffer}: receiver never ready");
        sleep(tries).await;
    }
    sync_rx.recv().await.unwrap();
    // sender G; our non-blocking receive retries until its value is there.
    let (t, s, v) = (tx.clone(), sync_tx.clone(), back.clone());
    gort::go(async move {
        t.send(v).await.unwrap();
        s.send(true).await.unwrap();
    });
    if buffer > 0 {
        sync_rx.recv().await.unwrap();
    }
    let mut tries = 0;
    loop {
        let got = gort::select! {
            recv(rx) -> v => Some(v),
            default => None,
        };
        if let Some(v) = got {
            assert_eq!(v, Some(back.clone()), "buffer {buffer}");
            break;
        }
        tries += 1;
        assert!(tries <= MAX_TRIES, "buffer {buffer}: sender never ready");
        sleep(tries).await;
    }
    if buffer == 0 {
        sync_rx.recv().await.unwrap();
    }
}

/// Port of test/chan/select.go: "Test simple select." `Send(a, b)` loops a select over two sends
/// (each value computed by `GetValue`, which Go evaluates for every case on every iteration) and a
/// default, disabling a case once it has sent (Go: `a = nil`). Go expects 2 sends, the two values
/// OR-ing to 3, then `Send(a, nil)` = 1, and `GetValue` called 10 times in all.
/// Here a disabled case is a fresh unbuffered channel nobody receives from (never ready, like
/// nil); go_select_nil.rs is the version with nil channels.
#[test]
fn select_simple_send_loop_matches_go_counts() {
    rt(1).block_on(async {
        let counter = AtomicU32::new(0);
        let shift = AtomicU32::new(0);
        let get_value = || {
            counter.fetch_add(1, Ordering::Relaxed);
            1u32 << shift.load(Ordering::Relaxed)
        };
        let send = |a: Option<Sender<u32>>, b: Option<Sender<u32>>| {
            // `never()` stands for Go's nil channel.
            let never = || channel::<u32>(0).0;
            let (mut a, mut b) = (a.unwrap_or_else(never), b.unwrap_or_else(never));
            let mut i = 0;
            loop {
                let fired = gort::select! {
                    send(a, get_value()) -> r => { r.unwrap(); Some(0) }
                    send(b, get_value()) -> r => { r.unwrap(); Some(1) }
                    default => None,
                };
                match fired {
                    Some(0) => a = never(),
                    Some(_) => b = never(),
                    None => break,
                }
                i += 1;
                shift.fetch_add(1, Ordering::Relaxed);
            }
            i
        };
        let (a, ar) = channel::<u32>(1);
        let (b, br) = channel::<u32>(1);
        assert_eq!(send(Some(a.clone()), Some(b.clone())), 2, "Send(a, b)");
        let (av, bv) = (ar.recv().await.unwrap(), br.recv().await.unwrap());
        assert_eq!(av | bv, 3, "bad values {av} {bv}");
        assert_eq!(send(Some(a.clone()), None), 1, "Send(a, nil)");
        assert_eq!(counter.load(Ordering::Relaxed), 10, "GetValue calls");
    });
}

macro_rules! test_block {
    (always, $what:expr, $f:expr) => {
        assert!(blocks(true, $f).await, "{} did not block", $what)
    };
    (never, $what:expr, $f:expr) => {
        assert!(!blocks(false, $f).await, "{} blocked", $what)
    };
}

/// Port of test/chan/select3.go: "Tests verifying the semantics of the select statement for basic
/// empty/non-empty cases" — the whole block/proceed table except the nil-channel rows (those are in
/// go_select3_nil.rs). Go's `testPanic(always, ...)` for a send
/// on a closed channel becomes "returns the value in `SendError`"; that such a send never blocks is
/// checked too. A blocked G is left parked, as Go leaves its goroutine; the runtime drops it at exit.
#[test]
fn select3_block_and_proceed_table() {
    rt(2).block_on(async {
        let closed = || {
            let (tx, rx) = channel::<i32>(0);
            tx.close();
            (tx, rx)
        };
        test_block!(never, "send to a channel with free buffer space", async {
            let (tx, _rx) = channel::<i32>(1);
            tx.send(7).await.unwrap();
        });
        test_block!(never, "receive from a closed channel", async move {
            let (_tx, rx) = closed();
            for _ in 0..10 {
                assert_eq!(rx.recv().await, None, "expected None from a closed channel");
            }
        });
        // Go panics; gort returns the value.
        test_block!(never, "send to a closed channel", async move {
            let (tx, _rx) = closed();
            assert_eq!(tx.send(7).await.unwrap_err().into_inner(), 7);
        });
        test_block!(always, "receive from a non-ready channel", async {
            let (_tx, rx) = channel::<i32>(0);
            rx.recv().await;
        });
        test_block!(always, "empty select", async {
            gort::select! {}
        });
        test_block!(always, "select on a non-ready channel", async {
            let (_tx, rx) = channel::<i32>(0);
            gort::select! { recv(rx) -> _ => unreachable!() }
        });
        test_block!(never, "select with only default", async {
            gort::select! { default => {} }
        });
        test_block!(never, "select sending to a ready channel", async {
            let (tx, _rx) = channel::<i32>(1);
            gort::select! {
                send(tx, 7) -> r => r.unwrap(),
                default => unreachable!(),
            }
        });
        test_block!(never, "select receiving from a ready channel", async {
            let (tx, rx) = channel::<i32>(1);
            tx.send(7).await.unwrap();
            gort::select! {
                recv(rx) -> v => assert_eq!(v, Some(7)),
                default => unreachable!(),
            }
        });
        test_block!(
            never,
            "select receiving from a closed channel",
            async move {
                let (_tx, rx) = closed();
                gort::select! { recv(rx) -> v => assert_eq!(v, None) }
            }
        );
        // Go: testPanic(always, select { case closedch <- 7: }).
        test_block!(never, "select sending to a closed channel", async move {
            let (tx, _rx) = closed();
            gort::select! { send(tx, 7) -> r => assert_eq!(r.unwrap_err().into_inner(), 7) }
        });
        test_block!(
            always,
            "select that sees itself (send and receive on one channel)",
            async {
                let (tx, rx) = channel::<i32>(0);
                gort::select! {
                    send(tx, 1) -> _ => unreachable!("sent to itself"),
                    recv(rx) -> _ => unreachable!("received from itself"),
                }
            }
        );
    });
}

/// Port of test/chan/select4.go: "Test that a select statement proceeds when a value is ready." and
/// that the losing case's assignment (Go: `*f() = <-c1`, where calling `f` is the bug) never runs.
#[test]
fn select4_proceeds_when_a_value_is_ready_and_runs_only_its_arm() {
    rt(1).block_on(async {
        let (c, cr) = channel::<i32>(1);
        let (_c1, c1r) = channel::<i32>(0);
        c.send(42).await.unwrap();
        let called_f = AtomicU32::new(0);
        let mut x = [0i32; 1];
        gort::select! {
            recv(c1r) -> v => { called_f.fetch_add(1, Ordering::Relaxed); let _ = v; }
            recv(cr) -> v => { x[0] = v.unwrap(); }
        }
        assert_eq!(called_f.load(Ordering::Relaxed), 0, "BUG: called f");
        assert_eq!(x[0], 42);
    });
}

/// Port of test/chan/select6.go (Go issue 2075): "A bug in select corrupts channel queues of failed
/// cases if there are multiple waiters on those channels and the select is the last in the queue.
/// If further waits are made on the channel without draining it first then those waiters will
/// never wake up." Here a lost waiter shows as a hang; the test bounds it with a timeout.
#[test]
fn select6_failed_cases_leave_the_wait_queues_intact() {
    rt(2).block_on(async {
        let r = gort::time::timeout(Duration::from_secs(20), async {
            let (c1, c1r) = channel::<bool>(0);
            let (c2, c2r) = channel::<bool>(0);
            let (c3, c3r) = channel::<bool>(0);
            let r = c1r.clone();
            gort::go(async move {
                r.recv().await;
            });
            let r = c1r.clone();
            gort::go(async move {
                gort::select! {
                    recv(r) -> _ => panic!("dummy"),
                    recv(c2r) -> _ => { c3.send(true).await.unwrap(); }
                }
                r.recv().await;
            });
            gort::go(async move { c2.send(true).await.unwrap() });
            c3r.recv().await.unwrap();
            c1.send(true).await.unwrap();
            c1.send(true).await.unwrap();
        })
        .await;
        assert!(r.is_ok(), "a waiter on c1 was lost (Go issue 2075)");
    });
}

/// Port of test/chan/select7.go: "Test select when discarding a value." Every pairing of three
/// receivers (plain, one-case select, two-case select) with three senders (plain, one-case select,
/// two-case select), Go's `runtime.Gosched()` between starting the receiver and sending.
#[test]
fn select7_every_sender_reaches_every_receiver_kind() {
    async fn recv(kind: u8, c: Receiver<i32>) {
        match kind {
            0 => {
                c.recv().await;
            }
            1 => gort::select! { recv(c) -> _ => {} },
            _ => {
                let (_c2t, c2) = channel::<i32>(0);
                gort::select! {
                    recv(c) -> _ => {}
                    recv(c2) -> _ => unreachable!(),
                }
            }
        }
    }
    async fn send(kind: u8, recv_kind: u8) {
        let (c, cr) = channel::<i32>(0);
        let h = gort::go(recv(recv_kind, cr));
        gort::yield_now().await;
        match kind {
            0 => c.send(1).await.unwrap(),
            1 => gort::select! { send(c, 1) -> r => r.unwrap() },
            _ => {
                let (c2, _c2r) = channel::<i32>(0);
                gort::select! {
                    send(c, 1) -> r => r.unwrap(),
                    send(c2, 1) -> _ => unreachable!(),
                }
            }
        }
        h.await.unwrap();
    }
    rt(2).block_on(async {
        for r in 0..3 {
            for s in 0..3 {
                send(s, r).await;
            }
        }
    });
}

/// test/chan/sieve1.go's `Generate`: send 2, 3, 4, ... until the channel closes.
async fn generate(ch: Sender<u64>) {
    let mut i = 2;
    while ch.send(i).await.is_ok() {
        i += 1;
    }
}

/// test/chan/sieve1.go's `Filter`: copy values from `input` to `out`, removing multiples of `prime`.
async fn filter(input: Receiver<u64>, out: Sender<u64>, prime: u64) {
    while let Some(i) = input.recv().await {
        if i % prime != 0 && out.send(i).await.is_err() {
            return;
        }
    }
}

/// Port of test/chan/sieve1.go: "Test concurrency primitives: classical inefficient concurrent
/// prime sieve." A daisy chain of filter Gs; the first 25 primes (Go checks the primes below 100).
/// As in Go, the chain is left parked when the test has its primes (dropping a receiver does not
/// close a channel); the runtime drops those Gs when `block_on` returns, as Go's exit does.
#[test]
fn sieve1_daisy_chain_yields_the_primes_below_100() {
    const PRIMES: [u64; 25] = [
        2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97,
    ];
    rt(2).block_on(async {
        let (primes_tx, primes) = channel::<u64>(0);
        gort::go(async move {
            // Sieve
            let (tx, mut ch) = channel::<u64>(0);
            gort::go(generate(tx));
            loop {
                let Some(prime) = ch.recv().await else { return };
                if primes_tx.send(prime).await.is_err() {
                    return;
                }
                let (tx1, ch1) = channel::<u64>(0);
                gort::go(filter(std::mem::replace(&mut ch, ch1), tx1, prime));
            }
        });
        for want in PRIMES {
            assert_eq!(primes.recv().await, Some(want));
        }
    });
}

/// Port of test/chan/zerosize.go: "Test making channels of a zero-sized type." Go only makes them;
/// this port also moves a few values through each (a zero-sized value still counts in len()).
#[test]
fn zerosize_channels_of_zero_sized_types_work() {
    rt(1).block_on(async {
        let _ = channel::<[u8; 0]>(0);
        let (tx, rx) = channel::<[u8; 0]>(1);
        tx.send([]).await.unwrap();
        assert_eq!(rx.len(), 1);
        assert_eq!(rx.recv().await, Some([]));
        let _ = channel::<()>(0);
        let (tx, rx) = channel::<()>(3);
        for _ in 0..3 {
            tx.try_send(()).unwrap();
        }
        assert!(matches!(tx.try_send(()), Err(TrySendError::Full(()))));
        assert_eq!(rx.len(), 3);
        drop(tx);
        for _ in 0..3 {
            assert_eq!(rx.try_recv(), Ok(()));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// Port of test/chan/sieve2.go: "Test concurrency primitives: prime sieve of Eratosthenes. Generate
/// primes up to 100 using channels, checking the results. This sieve is Eratosthenesque and only
/// considers odd candidates." Go's version merges, with a heap, one G per prime that sends that
/// prime's odd multiples from its square on; a candidate is prime if it is below the smallest
/// pending multiple. This port keeps that structure (a G per prime feeding a channel of multiples, a
/// min-heap of the channels' heads) and drops Go's wheel and ring-buffered "peek" channels.
#[test]
fn sieve2_eratosthenes_with_a_g_per_prime_yields_the_primes_below_100() {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    const PRIMES: [u64; 25] = [
        2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97,
    ];
    rt(2).block_on(async {
        // multiples(p): p*p, p*p + 2p, ... on a channel (the G stays parked once nobody reads).
        let multiples = |p: u64| {
            let (tx, rx) = channel::<u64>(0);
            gort::go(async move {
                let mut m = p * p;
                while tx.send(m).await.is_ok() {
                    m += 2 * p;
                }
            });
            rx
        };
        let (primes_tx, primes) = channel::<u64>(0);
        gort::go(async move {
            primes_tx.send(2).await.unwrap();
            // heap of (next composite, index of its stream)
            let mut streams: Vec<Receiver<u64>> = Vec::new();
            let mut heap: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
            let mut n = 3;
            while n < 100 {
                while let Some(&Reverse((m, i))) = heap.peek() {
                    if m >= n {
                        break;
                    }
                    heap.pop();
                    if let Some(next) = streams[i].recv().await {
                        heap.push(Reverse((next, i)));
                    }
                }
                if heap.peek().is_some_and(|Reverse((m, _))| *m == n) {
                    n += 2; // composite
                    continue;
                }
                primes_tx.send(n).await.unwrap();
                let s = multiples(n);
                let first = s.recv().await.unwrap();
                heap.push(Reverse((first, streams.len())));
                streams.push(s);
                n += 2;
            }
            // Dropping `primes_tx` closes `primes`.
        });
        let mut got = Vec::new();
        while let Some(p) = primes.recv().await {
            got.push(p);
        }
        assert_eq!(got, PRIMES);
    });
}
