//! Unit tests of `select!`: by-hand polling for the exact interleavings, plain threads for races.
//! End-to-end tests on the real executor are in tests/tests/select.rs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc as StdArc;
use std::task::Poll;

use crate::chan::tests::check;
use crate::chan::{channel, Receiver, SendError, TryRecvError, TrySendError};
use crate::util::test_util::{block_on, poll_once, CountWaker, Counted};

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

// ---- Nil channels and `Option` arms (issue 15, item 4) ----

#[test]
fn nil_ends_wait_forever_and_report_sane_values() {
    let tx = crate::chan::Sender::<u32>::nil();
    let rx = Receiver::<u32>::default();
    assert!(tx.is_nil() && rx.is_nil());
    assert_eq!((tx.len(), tx.cap(), rx.len(), rx.cap()), (0, 0, 0, 0));
    assert!(!tx.is_closed() && !rx.is_closed());
    assert!(!tx.close(), "closing a nil channel closed something");
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(format!("{tx:?} {rx:?}"), "Sender(nil) Receiver(nil)");
    let (wc, w) = CountWaker::new();
    let mut send = tx.send(2);
    let mut recv = rx.recv();
    for _ in 0..3 {
        assert!(poll_once(&mut send, &w).is_pending());
        assert!(poll_once(&mut recv, &w).is_pending());
    }
    let clone = tx.clone();
    drop((send, recv, clone));
    assert_eq!(wc.count(), 0);
}

#[test]
fn nil_arms_are_never_chosen() {
    let nil_rx = Receiver::<u32>::nil();
    let nil_tx = crate::chan::Sender::<u32>::nil();
    let (tx, rx) = channel::<u32>(1);
    let none_rx: Option<&Receiver<u32>> = None;
    let none_tx: Option<crate::chan::Sender<u32>> = None;
    for i in 0..200 {
        tx.try_send(i).unwrap();
        let got = block_on(async {
            crate::select! {
                recv(nil_rx) -> _ => panic!("a nil receive fired"),
                send(nil_tx, 1) -> _ => panic!("a nil send fired"),
                recv(none_rx) -> _ => panic!("a None receive fired"),
                send(none_tx, 2) -> _ => panic!("a None send fired"),
                recv(Some(&rx)) -> v => v,
            }
        });
        assert_eq!(got, Some(i));
    }
    // Only nil arms and nothing else ready: `default`.
    let d = crate::select! {
        recv(nil_rx) -> _ => 1,
        send(nil_tx, 1) -> _ => 2,
        default => 3,
    };
    assert_eq!(d, 3);
}

#[test]
fn all_nil_select_waits_forever() {
    let nil_rx = Receiver::<u32>::nil();
    let nil_tx = crate::chan::Sender::<u32>::nil();
    let (wc, w) = CountWaker::new();
    let mut fut = Box::pin(async {
        crate::select! {
            recv(nil_rx) -> _ => {},
            send(nil_tx, 1) -> _ => {},
        }
    });
    for _ in 0..3 {
        assert!(poll_once(&mut fut, &w).is_pending());
    }
    drop(fut);
    assert_eq!(wc.count(), 0);
}

#[test]
fn a_nil_arm_beside_a_parked_arm_stays_off() {
    // The select parks on `rx` only; a send on it fires that arm.
    let (tx, rx) = channel::<u32>(0);
    let nil_rx = Receiver::<u32>::nil();
    let (wc, w) = CountWaker::new();
    let mut fut = Box::pin(async {
        crate::select! {
            recv(nil_rx) -> _ => None,
            recv(rx) -> v => v,
        }
    });
    assert!(poll_once(&mut fut, &w).is_pending());
    tx.try_send(4).unwrap();
    assert_eq!(wc.count(), 1);
    assert_eq!(poll_once(&mut fut, &w), Poll::Ready(Some(4)));
    check(&rx);
}

// ---- Same-channel cases queue in random order (issue 15, item 8) ----

/// Go's TestPseudoRandomSend with the select parked: two sends of 0 and 1 on one unbuffered channel,
/// then a receive takes the head of the send queue. Queued in source order, it would always be 0.
#[test]
fn parked_sends_on_one_channel_fire_in_random_order() {
    const N: usize = if cfg!(miri) { 100 } else { 1_000 };
    let (tx, rx) = channel::<u32>(0);
    let (_wc, w) = CountWaker::new();
    let mut ones = 0;
    for _ in 0..N {
        let mut fut = Box::pin(async {
            crate::select! {
                send(tx, 0) -> r => r.unwrap(),
                send(tx, 1) -> r => r.unwrap(),
            }
        });
        assert!(poll_once(&mut fut, &w).is_pending());
        ones += rx.try_recv().unwrap();
        assert_eq!(poll_once(&mut fut, &w), Poll::Ready(()));
        assert_eq!(
            rx.try_recv(),
            Err(TryRecvError::Empty),
            "both sends delivered"
        );
    }
    let ones = ones as usize;
    assert!(
        ones > N / 10 && N - ones > N / 10,
        "want pseudorandom, got {} zeros and {ones} ones",
        N - ones
    );
}

#[test]
fn parked_receives_on_one_channel_fire_in_random_order() {
    const N: usize = if cfg!(miri) { 100 } else { 1_000 };
    let (tx, rx) = channel::<u32>(0);
    let (_wc, w) = CountWaker::new();
    let mut arms = [0usize; 2];
    for i in 0..N as u32 {
        let mut fut = Box::pin(async {
            crate::select! {
                recv(rx) -> v => (0, v),
                recv(rx) -> v => (1, v),
            }
        });
        assert!(poll_once(&mut fut, &w).is_pending());
        tx.try_send(i).unwrap();
        let Poll::Ready((arm, v)) = poll_once(&mut fut, &w) else {
            panic!("the send did not fire the select");
        };
        assert_eq!(v, Some(i));
        arms[arm] += 1;
    }
    assert!(arms.iter().all(|&n| n > N / 10), "arms chosen {arms:?}");
}

// ---- send_from: a losing send keeps its value (issue 15, item 6) ----

#[test]
fn send_from_takes_the_value_only_when_it_fires() {
    let (ta, ra) = channel::<String>(1);
    let (tb, rb) = channel::<String>(1);
    let (mut wins_a, mut wins_b) = (0, 0);
    for i in 0..200 {
        let mut a = Some(format!("a{i}"));
        let mut b = Some(format!("b{i}"));
        let arm = crate::select! {
            send_from(ta, &mut a) -> r => { r.unwrap(); 'a' }
            send_from(tb, &mut b) -> r => { r.unwrap(); 'b' }
            default => panic!("two ready sends"),
        };
        if arm == 'a' {
            wins_a += 1;
            assert_eq!((a, b.as_deref()), (None, Some(&*format!("b{i}"))));
            assert_eq!(ra.try_recv(), Ok(format!("a{i}")));
        } else {
            wins_b += 1;
            assert_eq!((a.as_deref(), b), (Some(&*format!("a{i}")), None));
            assert_eq!(rb.try_recv(), Ok(format!("b{i}")));
        }
        assert_eq!(ra.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(rb.try_recv(), Err(TryRecvError::Empty));
    }
    assert!(wins_a > 0 && wins_b > 0);
}

#[test]
fn send_from_an_empty_slot_is_off() {
    let (tx, rx) = channel::<u32>(1);
    let mut empty: Option<u32> = None;
    let got = crate::select! {
        send_from(tx, &mut empty) -> _ => "sent",
        default => "default",
    };
    assert_eq!(got, "default");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn send_from_gets_its_value_back_after_parking_losing_or_being_dropped() {
    let (ta, ra) = channel::<u32>(0);
    let (tb, rb) = channel::<u32>(0);
    let (_wc, w) = CountWaker::new();
    // Parked, then the other arm fires: the value is back in the slot.
    let mut slot = Some(7);
    {
        let mut fut = Box::pin(async {
            crate::select! {
                send_from(ta, &mut slot) -> _ => 'a',
                recv(rb) -> _ => 'b',
            }
        });
        assert!(poll_once(&mut fut, &w).is_pending());
        tb.try_send(1).unwrap();
        assert_eq!(poll_once(&mut fut, &w), Poll::Ready('b'));
    }
    assert_eq!(slot, Some(7));
    // Parked, then the select is dropped: the value is back too.
    {
        let mut fut = Box::pin(async {
            crate::select! {
                send_from(ta, &mut slot) -> _ => {},
            }
        });
        assert!(poll_once(&mut fut, &w).is_pending());
    }
    assert_eq!(slot, Some(7));
    assert_eq!(ra.try_recv(), Err(TryRecvError::Empty));
    // Parked, then a receiver takes it: sent, the slot is empty.
    {
        let mut fut = Box::pin(async {
            crate::select! {
                send_from(ta, &mut slot) -> r => r,
            }
        });
        assert!(poll_once(&mut fut, &w).is_pending());
        assert_eq!(ra.try_recv(), Ok(7));
        assert_eq!(poll_once(&mut fut, &w), Poll::Ready(Ok(())));
    }
    assert_eq!(slot, None);
    check(&ra);
}

// ---- Future arms (issue 15, item 7) ----

/// A future that completes with `value` once `open` is called, counting its polls and drops.
#[derive(Default)]
struct Gate {
    open: std::sync::atomic::AtomicBool,
    waker: std::sync::Mutex<Option<std::task::Waker>>,
    polls: AtomicUsize,
    drops: AtomicUsize,
}

impl Gate {
    fn wait(&self, value: u32) -> impl std::future::Future<Output = u32> + Send + '_ {
        struct OnDrop<'g>(&'g Gate);
        impl Drop for OnDrop<'_> {
            fn drop(&mut self) {
                self.0.drops.fetch_add(1, Ordering::SeqCst);
            }
        }
        let guard = OnDrop(self);
        std::future::poll_fn(move |cx| {
            let g = guard.0;
            g.polls.fetch_add(1, Ordering::SeqCst);
            if g.open.load(Ordering::SeqCst) {
                return Poll::Ready(value);
            }
            *g.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }
}

#[test]
fn a_future_arm_that_completes_while_parked_wins_and_withdraws_the_channels() {
    let gate = Gate::default();
    let (ta, ra) = channel::<u32>(0);
    let (tb, rb) = channel::<u32>(0);
    let (wc, w) = CountWaker::new();
    let mut fut = Box::pin(async {
        crate::select! {
            recv(ra) -> v => ('a', v),
            send(tb, 5) -> _ => ('b', None),
            fut(gate.wait(9)) -> x => ('f', Some(x)),
        }
    });
    assert!(poll_once(&mut fut, &w).is_pending());
    gate.open();
    assert_eq!(wc.count(), 1);
    assert_eq!(poll_once(&mut fut, &w), Poll::Ready(('f', Some(9))));
    // No sudog is left behind: nothing receives on b, nothing waits on a.
    assert_eq!(rb.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(ta.try_send(1), Err(TrySendError::Full(1)));
    check(&ra);
    check(&rb);
    drop(fut);
    assert_eq!(gate.drops.load(Ordering::SeqCst), 1);
}

#[test]
fn a_channel_arm_that_fires_while_parked_wins_and_the_future_is_dropped_unpolled() {
    let gate = Gate::default();
    let (ta, ra) = channel::<u32>(0);
    let (wc, w) = CountWaker::new();
    let mut fut = Box::pin(async {
        let v = crate::select! {
            recv(ra) -> v => v,
            fut(gate.wait(9)) -> _ => None,
        };
        // The losing future is dropped before the winning body's result is used.
        (v, gate.drops.load(Ordering::SeqCst))
    });
    assert!(poll_once(&mut fut, &w).is_pending());
    let polls = gate.polls.load(Ordering::SeqCst);
    ta.try_send(3).unwrap();
    gate.open(); // too late: the channel arm fired first
    assert!(wc.count() >= 1);
    assert_eq!(poll_once(&mut fut, &w), Poll::Ready((Some(3), 1)));
    assert_eq!(
        gate.polls.load(Ordering::SeqCst),
        polls,
        "the future was polled after the channel fired"
    );
}

#[test]
fn a_spurious_future_wake_reparks_the_channels() {
    // The future wakes the task without completing; the select re-parks, and a later send fires it.
    let (ta, ra) = channel::<u32>(0);
    let flips = AtomicUsize::new(0);
    let (wc, w) = CountWaker::new();
    let mut fut = Box::pin(async {
        crate::select! {
            recv(ra) -> v => v,
            fut(std::future::poll_fn(|cx| {
                flips.fetch_add(1, Ordering::SeqCst);
                cx.waker().wake_by_ref();
                Poll::<()>::Pending
            })) -> _ => None,
        }
    });
    for _ in 0..5 {
        assert!(poll_once(&mut fut, &w).is_pending());
        check(&ra);
    }
    assert_eq!(flips.load(Ordering::SeqCst), 5);
    assert!(wc.count() >= 5);
    ta.try_send(8).unwrap();
    assert_eq!(poll_once(&mut fut, &w), Poll::Ready(Some(8)));
    assert_eq!(
        ta.try_send(1),
        Err(TrySendError::Full(1)),
        "a sudog was left queued"
    );
}

#[test]
fn select_fairness_future_and_channel_arms_when_both_are_ready() {
    const N: usize = 4_000;
    let (tx, rx) = channel::<()>(1);
    let mut wins = [0usize; 3];
    for _ in 0..N {
        let _ = tx.try_send(());
        let arm = block_on(async {
            crate::select! {
                recv(rx) -> _ => 0,
                fut(std::future::ready(())) -> () => 1,
                fut(async {}) -> () => 2,
            }
        });
        wins[arm] += 1;
    }
    for (arm, &n) in wins.iter().enumerate() {
        assert!(
            (N * 23 / 100..=N * 43 / 100).contains(&n),
            "arm {arm} chosen {n} of {N} ({wins:?})"
        );
    }
}

#[test]
fn a_future_arm_alone_and_beside_nil_arms() {
    let nil = Receiver::<u32>::nil();
    let got = block_on(async {
        crate::select! {
            recv(nil) -> _ => 0,
            fut(async { 41 + 1 }) -> x => x,
        }
    });
    assert_eq!(got, 42);
}

// ---- chan::Select, the run-time builder (issue 15, item 5) ----

#[test]
fn select_fairness_dynamic_four_ready_cases_each_chosen_15_to_35_percent() {
    const N: usize = 4_000;
    let chans: Vec<_> = (0..4).map(|_| channel::<usize>(1)).collect();
    let mut wins = [0usize; 4];
    for _ in 0..N {
        for (i, (tx, _)) in chans.iter().enumerate() {
            let _ = tx.try_send(i);
        }
        let mut sel = crate::chan::Select::new();
        let handles: Vec<_> = chans.iter().map(|(_, rx)| sel.recv(rx)).collect();
        let i = sel.try_wait().expect("four ready cases");
        assert_eq!(handles[i].received(), Some(Some(i)));
        for (j, h) in handles.iter().enumerate() {
            if j != i {
                assert_eq!(h.received(), None, "case {j} fired besides {i}");
            }
        }
        wins[i] += 1;
    }
    for (i, &n) in wins.iter().enumerate() {
        assert!(
            (N * 15 / 100..=N * 35 / 100).contains(&n),
            "case {i} chosen {n} of {N} ({wins:?})"
        );
    }
}

#[test]
fn dynamic_select_mixed_types_parks_and_returns_unsent_values() {
    let (ts, rs) = channel::<String>(0);
    let (tn, rn) = channel::<Counted>(0);
    let nil = Receiver::<u8>::nil();
    let drops = StdArc::new(AtomicUsize::new(0));
    let (wc, w) = CountWaker::new();
    let mut sel = crate::chan::Select::new();
    let s = sel.recv(&rs);
    let n = sel.send(&tn, Counted(5, drops.clone()));
    let z = sel.recv(&nil);
    assert_eq!((s.index(), n.index(), z.index(), sel.len()), (0, 1, 2, 3));
    assert_eq!(sel.try_wait(), None);
    {
        let mut wait = sel.wait();
        assert!(poll_once(&mut wait, &w).is_pending());
        ts.try_send("hi".into()).unwrap();
        assert_eq!(wc.count(), 1);
        assert_eq!(poll_once(&mut wait, &w), Poll::Ready(0));
    }
    assert_eq!(s.received(), Some(Some("hi".to_string())));
    assert!(n.result().is_none() && z.received().is_none());
    assert_eq!(n.unsent().map(|c| c.0), Some(5));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // Over: waiting again returns the same case.
    assert_eq!(sel.try_wait(), Some(0));
    assert_eq!(block_on(sel.wait()), 0);
    drop(rn);
}

#[test]
fn dynamic_select_dropped_wait_withdraws_and_can_wait_again() {
    let (tx, rx) = channel::<u32>(0);
    let (out_tx, out_rx) = channel::<u32>(0);
    let (_wc, w) = CountWaker::new();
    let mut sel = crate::chan::Select::new();
    let r = sel.recv(&rx);
    let s = sel.send(&out_tx, 10);
    // Dropped with nothing fired: withdrawn, and it can wait again.
    {
        let mut wait = sel.wait();
        assert!(poll_once(&mut wait, &w).is_pending());
    }
    assert_eq!(
        tx.try_send(1),
        Err(TrySendError::Full(1)),
        "a receive stayed queued"
    );
    assert_eq!(
        out_rx.try_recv(),
        Err(TryRecvError::Empty),
        "a send stayed queued"
    );
    assert_eq!(sel.try_wait(), None);
    {
        let mut wait = sel.wait();
        assert!(poll_once(&mut wait, &w).is_pending());
        assert_eq!(out_rx.try_recv(), Ok(10)); // fires the send case
        assert_eq!(poll_once(&mut wait, &w), Poll::Ready(1));
    }
    assert_eq!(s.result(), Some(Ok(())));
    assert_eq!(s.unsent(), None);
    assert_eq!(r.received(), None);
    check(&rx);

    // Dropped after a case fired but before it returned: the select is over with that case, and the
    // received value is in its handle (not lost, not given back).
    let mut sel = crate::chan::Select::new();
    let r = sel.recv(&rx);
    {
        let mut wait = sel.wait();
        assert!(poll_once(&mut wait, &w).is_pending());
        tx.try_send(2).unwrap(); // fires the receive case
    }
    assert_eq!(sel.try_wait(), Some(0));
    assert_eq!(r.received(), Some(Some(2)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    check(&rx);
}

#[test]
fn dynamic_select_with_no_live_cases_waits_forever() {
    let nil = crate::chan::Sender::<u32>::nil();
    let none: Option<&Receiver<u32>> = None;
    let (wc, w) = CountWaker::new();
    let mut empty = crate::chan::Select::new();
    assert!(empty.is_empty());
    assert_eq!(empty.try_wait(), None);
    assert!(poll_once(&mut empty.wait(), &w).is_pending());
    let mut sel = crate::chan::Select::new();
    let h = sel.send(&nil, 1);
    sel.recv(&none);
    assert!(poll_once(&mut sel.wait(), &w).is_pending());
    assert_eq!(h.unsent(), Some(1));
    assert_eq!(wc.count(), 0);
}

#[test]
fn dynamic_selects_on_threads_every_value_once() {
    const PER: u32 = 1_000;
    let chans: Vec<_> = (0..3).map(|_| channel::<u32>(1)).collect();
    let mut producers = Vec::new();
    for (k, (tx, _)) in chans.iter().enumerate() {
        let tx = tx.clone();
        producers.push(std::thread::spawn(move || {
            block_on(async {
                for i in 0..PER {
                    tx.send(k as u32 * PER + i).await.unwrap();
                }
            })
        }));
    }
    let rxs: Vec<_> = chans.iter().map(|(_, rx)| rx.clone()).collect();
    drop(chans);
    let mut consumers = Vec::new();
    for _ in 0..2 {
        let mut rxs: Vec<Option<Receiver<u32>>> = rxs.iter().cloned().map(Some).collect();
        consumers.push(std::thread::spawn(move || {
            let mut got = Vec::new();
            block_on(async {
                while rxs.iter().any(Option::is_some) {
                    let mut sel = crate::chan::Select::new();
                    let hs: Vec<_> = rxs.iter().map(|rx| sel.recv(rx)).collect();
                    let i = sel.wait().await;
                    match hs[i].received() {
                        Some(Some(v)) => got.push(v),
                        Some(None) => {
                            drop(hs);
                            drop(sel);
                            rxs[i] = None; // closed: a nil case from now on
                        }
                        None => panic!("the fired case has no result"),
                    }
                }
            });
            got
        }));
    }
    drop(rxs);
    for p in producers {
        p.join().unwrap();
    }
    let mut all: Vec<u32> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..3 * PER).collect::<Vec<_>>());
}

#[test]
fn dynamic_select_many_cases_on_one_channel_queue_in_random_order() {
    // More cases than the insertion sort handles: the library's stable sort must keep the random
    // poll order among cases of one channel too. 40 parked receives, one send: which case fires is
    // spread over many cases (in source order it would always be case 0).
    let (tx, rx) = channel::<u32>(0);
    let (other_tx, other_rx) = channel::<u32>(0);
    let (_wc, w) = CountWaker::new();
    let mut winners = std::collections::BTreeSet::new();
    let rounds = if cfg!(miri) { 30 } else { 200 };
    for round in 0..rounds {
        let mut sel = crate::chan::Select::new();
        let hs: Vec<_> = (0..40).map(|_| sel.recv(&rx)).collect();
        let other = sel.recv(&other_rx);
        let mut wait = sel.wait();
        assert!(poll_once(&mut wait, &w).is_pending());
        tx.try_send(round).unwrap();
        let Poll::Ready(i) = poll_once(&mut wait, &w) else {
            panic!("the send did not fire the select");
        };
        drop(wait);
        assert_ne!(i, other.index());
        assert_eq!(hs[i].received(), Some(Some(round)));
        winners.insert(i);
    }
    assert!(winners.len() > 10, "only cases {winners:?} ever fired");
    assert_eq!(other_tx.try_send(1), Err(TrySendError::Full(1)));
    check(&rx);
}
