//! `gort::select!` on the real runtime. Bounded by data, asserting outcomes, never speed.

use std::time::Duration;

use gort::chan::{channel, Receiver, SendError, TryRecvError};
use gort::Builder;

fn rt(procs: usize) -> gort::Runtime {
    Builder::new().procs(procs).build().expect("runtime")
}

#[test]
fn select_fairness_two_always_ready_arms_each_chosen_45_to_55_percent() {
    const N: u32 = 100_000;
    let (a, b) = gort::run(async {
        let (ta, ra) = channel::<()>(1);
        let (tb, rb) = channel::<()>(1);
        ta.send(()).await.unwrap();
        tb.send(()).await.unwrap();
        let (mut a, mut b) = (0u32, 0u32);
        for _ in 0..N {
            gort::select! {
                recv(ra) -> v => { v.unwrap(); a += 1; ta.send(()).await.unwrap(); }
                recv(rb) -> v => { v.unwrap(); b += 1; tb.send(()).await.unwrap(); }
            }
        }
        (a, b)
    });
    assert_eq!(a + b, N);
    for (arm, n) in [("a", a), ("b", b)] {
        assert!(
            (N * 45 / 100..=N * 55 / 100).contains(&n),
            "arm {arm} chosen {n} of {N} times"
        );
    }
}

#[test]
fn default_fires_only_when_nothing_is_ready() {
    gort::run(async {
        let (ta, ra) = channel::<u32>(1);
        let (tb, rb) = channel::<u32>(0);
        for round in 0..100u32 {
            let ready = round % 2 == 1;
            if ready {
                ta.send(round).await.unwrap();
            }
            let got = gort::select! {
                recv(ra) -> v => Some(v.unwrap()),
                recv(rb) -> _ => panic!("nothing was sent on b"),
                default => None,
            };
            assert_eq!(got, ready.then_some(round), "round {round}");
        }
        drop(tb);
    });
}

#[test]
fn a_losing_send_never_delivers() {
    // Two receiver Gs wait on two unbuffered channels; a select offers a value to each. Exactly one
    // receiver gets its value; the other channel is then closed, and its receiver must see `None`.
    // Depending on timing the receivers park before the select (both cases ready in pass 1) or after
    // it (the select parks and the first receiver fires it); the outcome must be the same.
    gort::run(async {
        for round in 0..300 {
            let (ta, ra) = channel::<u32>(0);
            let (tb, rb) = channel::<u32>(0);
            let ha = gort::go(async move { ra.recv().await });
            let hb = gort::go(async move { rb.recv().await });
            if round % 2 == 0 {
                gort::time::sleep(Duration::from_micros(200)).await;
            }
            let arm = gort::select! {
                send(ta, 1) -> r => { r.unwrap(); 0 }
                send(tb, 2) -> r => { r.unwrap(); 1 }
            };
            drop((ta, tb)); // close both
            let (a, b) = (ha.await.unwrap(), hb.await.unwrap());
            if arm == 0 {
                assert_eq!((a, b), (Some(1), None), "the losing send on b delivered");
            } else {
                assert_eq!((a, b), (None, Some(2)), "the losing send on a delivered");
            }
        }
    });
}

#[test]
fn a_losing_recv_consumes_nothing() {
    gort::run(async {
        for _ in 0..300 {
            let (ta, ra) = channel::<u32>(0);
            let (tb, rb) = channel::<u32>(0);
            let ha = gort::go(async move { ta.send(1).await.is_ok() });
            let hb = gort::go(async move { tb.send(2).await.is_ok() });
            let got = gort::select! {
                recv(ra) -> v => v.unwrap(),
                recv(rb) -> v => v.unwrap(),
            };
            // The other value is still there for a plain receive.
            let other = if got == 1 {
                rb.recv().await
            } else {
                ra.recv().await
            };
            assert_eq!(got + other.unwrap(), 3);
            assert!(ha.await.unwrap() && hb.await.unwrap());
            assert_eq!(ra.try_recv(), Err(TryRecvError::Closed));
            assert_eq!(rb.try_recv(), Err(TryRecvError::Closed));
        }
    });
}

#[test]
fn same_channel_in_two_arms() {
    gort::run(async {
        // Two receive arms on one channel: every value exactly once. (Which arm fires depends on
        // timing: random when the sender is parked first, the first-queued sudog otherwise.)
        let (tx, rx) = channel::<u32>(0);
        gort::go(async move {
            for i in 0..2_000 {
                tx.send(i).await.unwrap();
            }
        });
        let mut got = Vec::new();
        loop {
            let v = gort::select! {
                recv(rx) -> v => v,
                recv(rx) -> v => v,
            };
            match v {
                Some(v) => got.push(v),
                None => break,
            }
        }
        assert_eq!(got, (0..2_000).collect::<Vec<_>>());

        // A send and a receive on one unbuffered channel: the select cannot meet itself; a partner
        // G meets it, once per round, in either direction.
        let (tx, rx) = channel::<u32>(0);
        let (ptx, prx) = (tx.clone(), rx.clone());
        let partner = gort::go(async move {
            let mut taken = Vec::new();
            for i in 0..500u32 {
                if i % 2 == 0 {
                    ptx.send(1_000 + i).await.unwrap();
                } else {
                    taken.push(prx.recv().await.unwrap());
                }
            }
            taken
        });
        let (mut sent, mut received) = (0u32, Vec::new());
        for _ in 0..500 {
            gort::select! {
                send(tx, sent) -> r => { r.unwrap(); sent += 1; }
                recv(rx) -> v => received.push(v.unwrap()),
            }
        }
        let taken = partner.await.unwrap();
        assert_eq!(taken, (0..sent).collect::<Vec<_>>());
        assert_eq!(
            received,
            (0..250).map(|i| 1_000 + 2 * i).collect::<Vec<_>>()
        );
    });
}

#[test]
fn mixed_element_types_and_a_closed_channel_as_a_done_signal() {
    // Go's `case <-ctx.Done()`: a closed channel is always ready and yields None.
    gort::run(async {
        let (done_tx, done) = channel::<()>(0);
        let (work_tx, work) = channel::<String>(4);
        let (nums_tx, nums) = channel::<u64>(4);
        let worker = gort::go(async move {
            let (mut words, mut sum) = (Vec::new(), 0u64);
            loop {
                gort::select! {
                    recv(done) -> v => { assert!(v.is_none()); break; }
                    recv(work) -> w => words.extend(w),
                    recv(nums) -> n => sum += n.unwrap_or(0),
                }
            }
            (words, sum)
        });
        for i in 0..10u64 {
            work_tx.send(format!("w{i}")).await.unwrap();
            nums_tx.send(i).await.unwrap();
        }
        // Wait (bounded) until the worker has taken everything, then signal done.
        for _ in 0..2_000 {
            if work_tx.is_empty() && nums_tx.is_empty() {
                break;
            }
            gort::time::sleep(Duration::from_millis(1)).await;
        }
        drop(done_tx);
        let (words, sum) = worker.await.unwrap();
        assert_eq!(words, (0..10).map(|i| format!("w{i}")).collect::<Vec<_>>());
        assert_eq!(sum, 45);
    });
}

#[test]
fn select_send_on_closed_channel_gets_the_value_back() {
    // Whether the select parks before the close (and is woken by it) or runs after it, the send arm
    // fires with its value back; nobody ever receives it.
    gort::run(async {
        for _ in 0..100 {
            let (tx, rx) = channel::<String>(0);
            let (_keep, never) = channel::<u8>(0);
            let closer = tx.clone();
            let h = gort::go(async move {
                gort::select! {
                    send(tx, "hello".to_string()) -> r => r.map_err(SendError::into_inner),
                    recv(never) -> _ => unreachable!(),
                }
            });
            gort::yield_now().await;
            closer.close();
            assert_eq!(h.await.unwrap(), Err("hello".to_string()));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        }
    });
}

fn selects_on_both_sides(procs: usize) {
    // Producers select over two channels to send; consumers select over both to receive; plain
    // senders and receivers join in. Every value exactly once.
    const PER: u64 = 3_000;
    let mut all = rt(procs).block_on(async {
        let (ta, ra) = channel::<u64>(0);
        let (tb, rb) = channel::<u64>(3);
        for p in 0..3u64 {
            let (ta, tb) = (ta.clone(), tb.clone());
            gort::go(async move {
                for i in 0..PER {
                    let v = p * PER + i;
                    gort::select! {
                        send(ta, v) -> r => r.unwrap(),
                        send(tb, v) -> r => r.unwrap(),
                    }
                }
            });
        }
        {
            let ta = ta.clone();
            gort::go(async move {
                for i in 0..PER {
                    ta.send(3 * PER + i).await.unwrap();
                }
            });
        }
        drop((ta, tb));
        let mut consumers = Vec::new();
        for _ in 0..3 {
            let (ra, rb) = (ra.clone(), rb.clone());
            consumers.push(gort::go(async move { drain_both(ra, rb).await }));
        }
        let rb2 = rb.clone();
        consumers.push(gort::go(async move {
            let mut got = Vec::new();
            while let Some(v) = rb2.recv().await {
                got.push(v);
            }
            got
        }));
        let mut all = Vec::new();
        for c in consumers {
            all.extend(c.await.unwrap());
        }
        all
    });
    all.sort_unstable();
    assert_eq!(all, (0..4 * PER).collect::<Vec<_>>());
}

async fn drain_both(ra: Receiver<u64>, rb: Receiver<u64>) -> Vec<u64> {
    let mut got = Vec::new();
    let (mut a_open, mut b_open) = (true, true);
    while a_open && b_open {
        gort::select! {
            recv(ra) -> v => match v { Some(v) => got.push(v), None => a_open = false },
            recv(rb) -> v => match v { Some(v) => got.push(v), None => b_open = false },
        }
    }
    // A closed channel is always ready: finish the other one with plain receives.
    let rest = if a_open { &ra } else { &rb };
    while let Some(v) = rest.recv().await {
        got.push(v);
    }
    got
}

#[test]
fn n_producers_m_consumers_through_selects_every_value_once() {
    selects_on_both_sides(1);
    selects_on_both_sides(2);
}

#[test]
fn dropped_select_loses_nothing() {
    // The consumer wraps its select in a short timeout, abandoning parked selects while the
    // producer sends: every value still arrives exactly once, in order per channel.
    const N: u32 = 1_000;
    rt(2).block_on(async {
        let (ta, ra) = channel::<u32>(0);
        let (tb, rb) = channel::<u32>(1);
        gort::go(async move {
            for i in 0..N {
                let tx = if i % 2 == 0 { &ta } else { &tb };
                tx.send(i).await.unwrap();
                if i % 4 == 0 {
                    gort::time::sleep(Duration::from_micros(200)).await;
                }
            }
        });
        let (mut got, mut open) = (Vec::new(), 2);
        while open > 0 {
            let r = gort::time::timeout(Duration::from_micros(50), async {
                gort::select! {
                    recv(ra) -> v => v,
                    recv(rb) -> v => v,
                }
            })
            .await;
            match r {
                Ok(Some(v)) => got.push(v),
                Ok(None) => {
                    // One channel closed: both close together (one producer), so drain the rest.
                    open = 0;
                    while let Some(v) = ra.recv().await {
                        got.push(v);
                    }
                    while let Some(v) = rb.recv().await {
                        got.push(v);
                    }
                }
                Err(_) => {}
            }
        }
        let evens: Vec<_> = got.iter().copied().filter(|v| v % 2 == 0).collect();
        let odds: Vec<_> = got.iter().copied().filter(|v| v % 2 == 1).collect();
        assert_eq!(evens, (0..N).filter(|v| v % 2 == 0).collect::<Vec<_>>());
        assert_eq!(odds, (0..N).filter(|v| v % 2 == 1).collect::<Vec<_>>());
    });
}

/// Go's TestPseudoRandomSend (runtime/chan_test.go): a select of two sends, of 0 and of 1, on one
/// channel; a receiver that yields before each receive. At cap 0 the select parks with both sends
/// queued on the channel, so which fires is decided by their order in the queue; at cap 100 both are
/// ready in pass 1. Either way neither value may be rare (at most n/10: chance ~1e-17 if fair).
#[test]
fn pseudo_random_send_on_one_channel_cap_0_and_100() {
    const N: usize = 100;
    for cap in [0, N] {
        let got = gort::run(async move {
            let (tx, rx) = channel::<u32>(cap);
            let reader = gort::go(async move {
                let mut l = Vec::with_capacity(N);
                for _ in 0..N {
                    gort::yield_now().await;
                    l.push(rx.recv().await.unwrap());
                }
                l
            });
            for _ in 0..N {
                gort::select! {
                    send(tx, 1) -> r => r.unwrap(),
                    send(tx, 0) -> r => r.unwrap(),
                }
            }
            reader.await.unwrap()
        });
        let n1 = got.iter().filter(|&&v| v == 1).count();
        let n0 = N - n1;
        assert!(
            n0 > N / 10 && n1 > N / 10,
            "want pseudorandom, got {n0} zeros and {n1} ones (chan cap {cap})"
        );
    }
}

#[test]
fn nil_channel_arm_with_a_timeout() {
    gort::run(async {
        let mut never = Receiver::<u32>::nil();
        let timed_out = gort::select! {
            recv(never) -> _ => false,
            recv(gort::time::after(Duration::from_millis(5))) -> _ => true,
        };
        assert!(timed_out);
        // A nil receive on its own waits forever; bounded by a timeout.
        let r = gort::time::timeout(Duration::from_millis(5), never.recv()).await;
        assert!(r.is_err(), "a receive on a nil channel completed");
        // A Go idiom: switch a closed input off and keep selecting on the other one.
        let (tx, rx) = channel::<u32>(0);
        never = rx;
        drop(tx);
        let mut closed = 0;
        for _ in 0..3 {
            gort::select! {
                recv(never) -> v => { assert_eq!(v, None); closed += 1; never = Receiver::nil(); }
                recv(gort::time::after(Duration::from_millis(2))) -> _ => {}
            }
        }
        assert_eq!(closed, 1);
    });
}

#[test]
fn future_arms_sleep_join_handle_and_accept() {
    gort::run(async {
        let (_keep, rx) = channel::<u32>(0);
        // A sleep as an arm.
        let slept = gort::select! {
            recv(rx) -> _ => false,
            fut(gort::time::sleep(Duration::from_millis(5))) -> () => true,
        };
        assert!(slept);
        // A JoinHandle as an arm.
        let h = gort::go(async {
            gort::time::sleep(Duration::from_millis(2)).await;
            7u32
        });
        let joined = gort::select! {
            recv(rx) -> _ => None,
            fut(h) -> r => Some(r.unwrap()),
            fut(gort::time::sleep(Duration::from_secs(30))) -> () => None,
        };
        assert_eq!(joined, Some(7));
        // accept() beside a quit channel (loopback only).
        let ln = gort::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = ln.local_addr().unwrap();
        let (quit_tx, quit) = channel::<()>(0);
        let client = gort::go(async move {
            let c = gort::net::TcpStream::connect(addr).await.unwrap();
            c.write_all(b"hi").await.unwrap();
            c
        });
        let mut accepted = 0;
        loop {
            gort::select! {
                fut(ln.accept()) -> r => {
                    let (conn, _) = r.unwrap();
                    let mut buf = [0u8; 2];
                    conn.read_exact(&mut buf).await.unwrap();
                    assert_eq!(&buf, b"hi");
                    accepted += 1;
                    quit_tx.close();
                }
                recv(quit) -> _ => break,
            }
        }
        assert_eq!(accepted, 1);
        drop(client.await.unwrap());
    });
}

#[test]
fn a_future_arm_losing_to_a_channel_arm_is_dropped_and_loses_nothing() {
    // The losing arm is another channel's recv() future: whether it had already been handed a value
    // or not when it was dropped, that value is still there afterwards.
    gort::run(async {
        for round in 0..200u32 {
            let (ta, ra) = channel::<u32>(0);
            let (tb, rb) = channel::<u32>(0);
            let ha = gort::go(async move { ta.send(round).await.unwrap() });
            let hb = gort::go(async move { tb.send(1_000 + round).await.unwrap() });
            let first = gort::select! {
                recv(ra) -> v => v.unwrap(),
                fut(rb.recv()) -> v => v.unwrap(),
            };
            let second = if first == round {
                rb.recv().await.unwrap()
            } else {
                ra.recv().await.unwrap()
            };
            assert_eq!(first + second, 1_000 + 2 * round);
            ha.await.unwrap();
            hb.await.unwrap();
        }
    });
}

#[test]
fn send_from_never_loses_a_value() {
    // A producer offers each value with send_from against a quit channel; the consumer stops after a
    // while. Every value is either received or still with the producer, exactly once.
    gort::run(async {
        let (tx, rx) = channel::<u32>(0);
        let (quit_tx, quit) = channel::<()>(0);
        let consumer = gort::go(async move {
            let mut got = Vec::new();
            for _ in 0..50 {
                got.push(rx.recv().await.unwrap());
            }
            drop(quit_tx);
            got
        });
        let mut pending: Vec<u32> = (0..100).rev().collect();
        let mut next = pending.pop();
        while next.is_some() {
            gort::select! {
                send_from(tx, &mut next) -> r => { r.unwrap(); next = pending.pop(); }
                recv(quit) -> _ => break,
            }
        }
        let got = consumer.await.unwrap();
        let mut all: Vec<u32> = got.into_iter().chain(next).chain(pending).collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn dynamic_select_fan_in_on_the_runtime() {
    // reflect.Select's use: a fan-in over a list of channels known at run time; closed inputs become
    // nil cases.
    const PER: u64 = 500;
    let mut all = rt(2).block_on(async {
        let mut inputs = Vec::new();
        for k in 0..5u64 {
            let (tx, rx) = channel::<u64>(k as usize % 2);
            gort::go(async move {
                for i in 0..PER {
                    tx.send(k * PER + i).await.unwrap();
                }
            });
            inputs.push(rx);
        }
        let mut got = Vec::new();
        while inputs.iter().any(|rx| !rx.is_nil()) {
            let mut sel = gort::chan::Select::new();
            let cases: Vec<_> = inputs.iter().map(|rx| sel.recv(rx)).collect();
            let i = sel.wait().await;
            let r = cases[i].received();
            drop((cases, sel));
            match r {
                Some(Some(v)) => got.push(v),
                Some(None) => inputs[i] = Receiver::nil(),
                None => panic!("case {i} fired without a result"),
            }
        }
        got
    });
    all.sort_unstable();
    assert_eq!(all, (0..5 * PER).collect::<Vec<_>>());
}
