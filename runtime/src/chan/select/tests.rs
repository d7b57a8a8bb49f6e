//! Unit tests of `select!`: by-hand polling for the exact interleavings, plain threads for races.
//! End-to-end tests on the real executor are in tests/tests/select.rs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc as StdArc;
use std::task::Poll;

use crate::chan::{channel, Receiver, SendError, TryRecvError, TrySendError};
use crate::util::test_util::{block_on, poll_once, CountWaker};

fn check<T>(rx: &Receiver<T>) {
    rx.chan().check_invariants();
}

struct Counted(u32, StdArc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn select_runs_the_arm_of_the_ready_case() {
    let (_ta, ra) = channel::<u32>(1);
    let (tb, rb) = channel::<&str>(1);
    tb.try_send("b").unwrap();
    let got = block_on(async {
        crate::select! {
            recv(ra) -> v => format!("a {v:?}"),
            recv(rb) -> v => format!("b {v:?}"),
        }
    });
    assert_eq!(got, "b Some(\"b\")");
}

#[test]
fn select_fairness_two_ready_arms_each_near_half() {
    const N: usize = 100_000;
    let (ta, ra) = channel::<()>(1);
    let (tb, rb) = channel::<()>(1);
    ta.try_send(()).unwrap();
    tb.try_send(()).unwrap();
    let a_wins = block_on(async {
        let mut a = 0;
        for _ in 0..N {
            crate::select! {
                recv(ra) -> _ => { a += 1; ta.try_send(()).unwrap(); }
                recv(rb) -> _ => { tb.try_send(()).unwrap(); }
            }
        }
        a
    });
    assert!(
        (N * 45 / 100..=N * 55 / 100).contains(&a_wins),
        "arm a won {a_wins} of {N}"
    );
}

#[test]
fn default_fires_only_when_nothing_is_ready() {
    let (ta, ra) = channel::<u32>(1);
    let (tb, _rb) = channel::<u32>(0);
    let pick = |ra: &Receiver<u32>| {
        crate::select! {
            recv(ra) -> v => v,
            send(tb, 1) -> _ => Some(100),
            default => None,
        }
    };
    assert_eq!(pick(&ra), None, "default with nothing ready");
    ta.try_send(5).unwrap();
    assert_eq!(
        pick(&ra),
        Some(5),
        "default taken although a case was ready"
    );
    ta.close();
    assert_eq!(pick(&ra), None);
    // A closed channel is ready: the recv arm fires with None rather than the default.
    let fired = crate::select! {
        recv(ra) -> v => v.is_none(),
        default => false,
    };
    assert!(fired);
}

#[test]
fn select_with_only_default_runs_it() {
    let x = crate::select! { default => 3 };
    assert_eq!(x, 3);
}

#[test]
fn empty_select_waits_forever() {
    let mut fut = Box::pin(async {
        crate::select! {}
    });
    let (_wc, w) = CountWaker::new();
    assert!(poll_once(&mut fut, &w).is_pending());
    assert!(poll_once(&mut fut, &w).is_pending());
}

#[test]
fn a_losing_send_never_delivers() {
    let drops = StdArc::new(AtomicUsize::new(0));
    let mut wins = [0; 2];
    for _ in 0..200 {
        let (ta, ra) = channel::<Counted>(0);
        let (tb, rb) = channel::<Counted>(0);
        let (_wc, w) = CountWaker::new();
        // Both cases ready: a receiver waits on each unbuffered channel.
        let mut recv_a = ra.recv();
        let mut recv_b = rb.recv();
        assert!(poll_once(&mut recv_a, &w).is_pending());
        assert!(poll_once(&mut recv_b, &w).is_pending());
        let arm = crate::select! {
            send(ta, Counted(1, drops.clone())) -> r => { assert!(r.is_ok()); 0 }
            send(tb, Counted(2, drops.clone())) -> r => { assert!(r.is_ok()); 1 }
            default => panic!("default with two ready cases"),
        };
        wins[arm] += 1;
        let (winner, loser) = if arm == 0 {
            (&mut recv_a, &mut recv_b)
        } else {
            (&mut recv_b, &mut recv_a)
        };
        match poll_once(winner, &w) {
            Poll::Ready(Some(c)) => assert_eq!(c.0, arm as u32 + 1),
            _ => panic!("the winning send did not deliver"),
        }
        assert!(
            poll_once(loser, &w).is_pending(),
            "the losing send delivered"
        );
        check(&ra);
        check(&rb);
    }
    assert!(wins[0] > 0 && wins[1] > 0, "one arm never won: {wins:?}");
    // Each of the 400 values was dropped exactly once: 200 received, 200 unsent.
    assert_eq!(drops.load(Ordering::SeqCst), 400);
}

#[test]
fn a_losing_send_withdrawn_after_parking_never_delivers() {
    let (ta, ra) = channel::<u32>(0);
    let (tb, rb) = channel::<u32>(0);
    let (wc, w) = CountWaker::new();
    let mut fut = Box::pin(async {
        crate::select! {
            send(ta, 1) -> r => ('a', r),
            send(tb, 2) -> r => ('b', r),
        }
    });
    assert!(poll_once(&mut fut, &w).is_pending());
    check(&ra);
    assert_eq!(ra.try_recv(), Ok(1));
    assert_eq!(wc.count(), 1);
    // The select fired on `a`; `b`'s sudog is still queued until the next poll, but dead.
    assert_eq!(rb.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(poll_once(&mut fut, &w), Poll::Ready(('a', Ok(()))));
    assert_eq!(rb.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tb.try_send(3), Err(TrySendError::Full(3)));
    check(&rb);
}

#[test]
fn a_losing_recv_consumes_nothing() {
    for _ in 0..100 {
        let (ta, ra) = channel::<u32>(0);
        let (tb, rb) = channel::<u32>(0);
        let (_wc, w) = CountWaker::new();
        let mut send_a = ta.send(1);
        let mut send_b = tb.send(2);
        assert!(poll_once(&mut send_a, &w).is_pending());
        assert!(poll_once(&mut send_b, &w).is_pending());
        let got = crate::select! {
            recv(ra) -> v => v,
            recv(rb) -> v => v,
            default => None,
        };
        let (won, lost, lost_rx, lost_val) = match got {
            Some(1) => (&mut send_a, &mut send_b, &rb, 2),
            Some(2) => (&mut send_b, &mut send_a, &ra, 1),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(poll_once(won, &w), Poll::Ready(Ok(())));
        assert!(
            poll_once(lost, &w).is_pending(),
            "the losing receive consumed"
        );
        assert_eq!(lost_rx.try_recv(), Ok(lost_val));
        assert_eq!(poll_once(lost, &w), Poll::Ready(Ok(())));
    }
}

#[test]
fn same_channel_in_two_arms() {
    // Two receives on one channel: one value, one arm.
    let (tx, rx) = channel::<u32>(1);
    tx.try_send(1).unwrap();
    let got = block_on(async {
        crate::select! {
            recv(rx) -> v => (0, v),
            recv(rx) -> v => (1, v),
        }
    });
    assert_eq!(got.1, Some(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    // Both ready in pass 1: either arm may fire (the chance that one of 200 picks never happens is
    // 2^-199).
    let mut arms = [0; 2];
    for i in 0..200 {
        tx.try_send(i).unwrap();
        let (arm, v) = crate::select! {
            recv(rx) -> v => (0, v),
            recv(rx) -> v => (1, v),
            default => panic!("a buffered value was not ready"),
        };
        assert_eq!(v, Some(i));
        arms[arm] += 1;
    }
    assert!(arms[0] > 0 && arms[1] > 0, "{arms:?}");

    // Send and receive on one unbuffered channel: the select cannot meet itself, so it parks, and a
    // third party's receive fires the send arm (or its send fires the receive arm).
    for third_party_sends in [false, true] {
        let (tx, rx) = channel::<u32>(0);
        let (wc, w) = CountWaker::new();
        let mut fut = Box::pin(async {
            crate::select! {
                send(tx, 10) -> r => { assert!(r.is_ok()); None }
                recv(rx) -> v => v,
            }
        });
        assert!(poll_once(&mut fut, &w).is_pending());
        check(&rx);
        if third_party_sends {
            tx.try_send(20).unwrap();
            assert_eq!(wc.count(), 1);
            assert_eq!(poll_once(&mut fut, &w), Poll::Ready(Some(20)));
        } else {
            assert_eq!(rx.try_recv(), Ok(10));
            assert_eq!(wc.count(), 1);
            assert_eq!(poll_once(&mut fut, &w), Poll::Ready(None));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
        check(&rx);
    }
}

#[test]
fn parked_select_fires_on_close_with_none() {
    let (ta, ra) = channel::<u32>(0);
    let (tb, rb) = channel::<String>(0);
    let (wc, w) = CountWaker::new();
    let mut fut = Box::pin(async {
        crate::select! {
            recv(ra) -> v => v.map(|x| x.to_string()),
            send(tb, "s".to_string()) -> r => r.err().map(SendError::into_inner),
        }
    });
    assert!(poll_once(&mut fut, &w).is_pending());
    ta.close();
    assert_eq!(wc.count(), 1);
    assert_eq!(poll_once(&mut fut, &w), Poll::Ready(None));
    // The losing send was withdrawn: nothing reaches rb.
    assert_eq!(rb.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn parked_select_send_on_closed_gets_its_value_back() {
    let (tb, rb) = channel::<String>(0);
    let (wc, w) = CountWaker::new();
    let mut fut = Box::pin(async {
        crate::select! {
            send(tb, "v".to_string()) -> r => r,
        }
    });
    assert!(poll_once(&mut fut, &w).is_pending());
    tb.close();
    assert_eq!(wc.count(), 1);
    assert_eq!(
        poll_once(&mut fut, &w),
        Poll::Ready(Err(SendError("v".to_string())))
    );
    drop(rb);
}

#[test]
fn dropped_parked_select_withdraws_every_case() {
    let drops = StdArc::new(AtomicUsize::new(0));
    let (ta, ra) = channel::<u32>(0);
    let (tb, rb) = channel::<Counted>(0);
    let (_wc, w) = CountWaker::new();
    let mut fut = Box::pin(async {
        crate::select! {
            recv(ra) -> _ => {},
            send(tb, Counted(1, drops.clone())) -> _ => {},
        }
    });
    assert!(poll_once(&mut fut, &w).is_pending());
    drop(fut);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the unsent value was not dropped once"
    );
    assert_eq!(ta.try_send(1), Err(TrySendError::Full(1)));
    assert!(matches!(rb.try_recv(), Err(TryRecvError::Empty)));
    check(&ra);
    check(&rb);
}

#[test]
fn dropped_select_after_its_recv_fired_gives_the_value_back() {
    let (ta, ra) = channel::<u32>(0);
    let (_tb, rb) = channel::<u32>(0);
    let (wc, w) = CountWaker::new();
    let mut fut = Box::pin(async {
        crate::select! {
            recv(ra) -> v => v,
            recv(rb) -> v => v,
        }
    });
    assert!(poll_once(&mut fut, &w).is_pending());
    ta.try_send(7).unwrap(); // handed to the select's sudog
    assert_eq!(wc.count(), 1);
    drop(fut); // before it could return the value
    assert_eq!(ra.try_recv(), Ok(7));
    check(&ra);
    check(&rb);
}

#[test]
fn dropped_select_after_its_send_fired_counts_as_sent() {
    let drops = StdArc::new(AtomicUsize::new(0));
    let (ta, ra) = channel::<Counted>(0);
    let (_wc, w) = CountWaker::new();
    let mut fut = Box::pin(async {
        crate::select! {
            send(ta, Counted(1, drops.clone())) -> _ => {},
        }
    });
    assert!(poll_once(&mut fut, &w).is_pending());
    let got = ra.try_recv().ok().map(|c| c.0);
    assert_eq!(got, Some(1));
    drop(fut);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn select_accepts_expressions_temporaries_and_mixed_types() {
    let (ti, ri) = channel::<i32>(1);
    let (ts, rs) = channel::<String>(1);
    ts.try_send("x".into()).unwrap();
    let rs_ref = &rs;
    let got = block_on(async {
        crate::select! {
            recv(ri) -> v => v.map(|i| i.to_string()),
            recv(rs_ref) -> v => v,
            send(ti.clone(), 1) -> _ => None,
        }
    });
    // Either the String arm or the send arm (the buffer has room) fired.
    match got {
        Some(s) => assert_eq!(s, "x"),
        None => assert_eq!(ri.try_recv(), Ok(1)),
    }
}

#[test]
fn crossed_selects_on_threads_rendezvous_every_value_once() {
    // Two threads each select over sending on one channel and receiving on the other: Go's classic
    // pairing of two selects, where each must be completed by the other.
    const ROUNDS: u32 = 2_000;
    for cap in [0, 1] {
        let (ta, ra) = channel::<u32>(cap);
        let (tb, rb) = channel::<u32>(cap);
        let side = |tx: crate::chan::Sender<u32>, rx: Receiver<u32>| {
            std::thread::spawn(move || {
                let (mut sent, mut got) = (0u32, Vec::new());
                block_on(async {
                    while sent < ROUNDS || got.len() < ROUNDS as usize {
                        if sent == ROUNDS {
                            got.push(rx.recv().await.unwrap());
                            continue;
                        }
                        crate::select! {
                            send(tx, sent) -> r => { r.unwrap(); sent += 1; }
                            recv(rx) -> v => got.push(v.unwrap()),
                        }
                    }
                });
                got
            })
        };
        let h1 = side(ta, rb);
        let h2 = side(tb, ra);
        for h in [h1, h2] {
            assert_eq!(h.join().unwrap(), (0..ROUNDS).collect::<Vec<_>>());
        }
    }
}

#[test]
fn many_selects_and_plain_ops_on_threads_every_value_once() {
    const PER: u64 = 1_500;
    let (ta, ra) = channel::<u64>(0);
    let (tb, rb) = channel::<u64>(2);
    // Producers: one selects over both channels, one sends plainly to each.
    let mut producers = Vec::new();
    {
        let (ta, tb) = (ta.clone(), tb.clone());
        producers.push(std::thread::spawn(move || {
            block_on(async {
                for i in 0..PER {
                    crate::select! {
                        send(ta, i) -> r => r.unwrap(),
                        send(tb, i) -> r => r.unwrap(),
                    }
                }
            })
        }));
    }
    for (k, tx) in [(1, ta), (2, tb)] {
        producers.push(std::thread::spawn(move || {
            block_on(async {
                for i in 0..PER {
                    tx.send(k * PER + i).await.unwrap();
                }
            })
        }));
    }
    // Consumers: two select over both channels, one receives plainly from `ra`.
    let mut consumers = Vec::new();
    for _ in 0..2 {
        let (ra, rb) = (ra.clone(), rb.clone());
        consumers.push(std::thread::spawn(move || {
            let mut got = Vec::new();
            block_on(async {
                let (mut a_open, mut b_open) = (true, true);
                while a_open || b_open {
                    // A closed channel is always ready: once one is drained, wait on the other alone.
                    if !a_open {
                        match rb.recv().await {
                            Some(v) => got.push(v),
                            None => b_open = false,
                        }
                        continue;
                    }
                    if !b_open {
                        match ra.recv().await {
                            Some(v) => got.push(v),
                            None => a_open = false,
                        }
                        continue;
                    }
                    crate::select! {
                        recv(ra) -> v => match v { Some(v) => got.push(v), None => a_open = false },
                        recv(rb) -> v => match v { Some(v) => got.push(v), None => b_open = false },
                    }
                }
            });
            got
        }));
    }
    {
        let ra = ra.clone();
        consumers.push(std::thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(v) = block_on(ra.recv()) {
                got.push(v);
            }
            got
        }));
    }
    for p in producers {
        p.join().unwrap();
    }
    let mut all: Vec<u64> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    let mut want: Vec<u64> = (0..3 * PER).collect();
    want.sort_unstable();
    assert_eq!(all, want);
    check(&ra);
    check(&rb);
}
