//! Loom models of `select!`: two threads, capacity 0 and 1. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p gort --release --lib select`.

use std::pin::pin;
use std::task::Poll;

use loom::thread;

use crate::chan::{channel, Receiver, Sender, TryRecvError};
use crate::util::test_util::{block_on, poll_noop};

/// A thread that sends `v` on `tx` (parking until it is taken, if it must) and ends.
fn spawn_send(tx: Sender<u32>, v: u32) -> thread::JoinHandle<()> {
    thread::spawn(move || block_on(tx.send(v)).unwrap())
}

/// A select took `first`, one of 1 (sent on `ra`) and 2 (sent on `rb`): the other value must still be
/// in its channel, so both arrive exactly once.
fn recv_the_other(first: Option<u32>, ra: &Receiver<u32>, rb: &Receiver<u32>) {
    let second = match first {
        Some(1) => block_on(rb.recv()),
        Some(2) => block_on(ra.recv()),
        other => panic!("select got {other:?}"),
    };
    assert_eq!(first.unwrap() + second.unwrap(), 3);
}

#[test]
fn select_loom_recv_meets_plain_send() {
    for cap in [0, 1] {
        loom::model(move || {
            let (ta, ra) = channel::<u32>(cap);
            let (_tb, rb) = channel::<u32>(cap);
            let t = spawn_send(ta, 1);
            let got = block_on(async {
                crate::select! {
                    recv(ra) -> v => v,
                    recv(rb) -> v => v.map(|x| x + 100),
                }
            });
            assert_eq!(got, Some(1));
            t.join().unwrap();
        });
    }
}

#[test]
fn select_loom_two_selects_exactly_one_case_each() {
    // A select of two sends against a select of two receives: exactly one value crosses.
    for cap in [0, 1] {
        loom::model(move || {
            let (ta, ra) = channel::<u32>(cap);
            let (tb, rb) = channel::<u32>(cap);
            // Keep the channels open after the sending thread ends.
            let _keep = (ta.clone(), tb.clone());
            let t = thread::spawn(move || {
                block_on(async {
                    crate::select! {
                        send(ta, 1) -> r => r.unwrap(),
                        send(tb, 2) -> r => r.unwrap(),
                    }
                });
            });
            let got = block_on(async {
                crate::select! {
                    recv(ra) -> v => v,
                    recv(rb) -> v => v,
                }
            });
            t.join().unwrap();
            let got = got.unwrap();
            assert!(got == 1 || got == 2);
            // Nothing else crossed: the losing send was withdrawn or never parked.
            assert_eq!(ra.try_recv(), Err(TryRecvError::Empty));
            assert_eq!(rb.try_recv(), Err(TryRecvError::Empty));
        });
    }
}

#[test]
fn select_loom_withdrawal_on_drop_loses_nothing() {
    for cap in [0, 1] {
        loom::model(move || {
            let (ta, ra) = channel::<u32>(cap);
            let (_tb, rb) = channel::<u32>(cap);
            let _keep = ta.clone(); // the channel must not close when the thread ends
            let t = thread::spawn(move || ta.try_send(1).is_ok());
            let mut got = 0;
            {
                let mut fut = pin!(async {
                    crate::select! {
                        recv(ra) -> v => v,
                        recv(rb) -> v => v,
                    }
                });
                if let Poll::Ready(v) = poll_noop(&mut fut.as_mut()) {
                    assert_eq!(v, Some(1));
                    got += 1;
                }
                // Dropped here, possibly after the send fired the parked select.
            }
            let sent = t.join().unwrap();
            while let Ok(v) = ra.try_recv() {
                assert_eq!(v, 1);
                got += 1;
            }
            assert_eq!(got, usize::from(sent));
            ra.chan().check_invariants();
            rb.chan().check_invariants();
        });
    }
}

#[test]
fn select_loom_close_fires_parked_select() {
    loom::model(|| {
        let (ta, ra) = channel::<u32>(0);
        let (tb, rb) = channel::<u32>(0);
        let t = thread::spawn(move || {
            ta.close();
        });
        let got = block_on(async {
            crate::select! {
                recv(ra) -> v => v,
                send(tb, 5) -> r => { r.unwrap(); Some(5) }
            }
        });
        assert_eq!(got, None);
        t.join().unwrap();
        assert_eq!(rb.try_recv(), Err(TryRecvError::Empty));
    });
}

#[test]
fn select_loom_crossed_selects_meet_once() {
    // Each thread offers to send on one channel or receive on the other: exactly one pairing happens,
    // whichever select parks first is completed by the other, and neither waits forever.
    for cap in [0, 1] {
        loom::model(move || {
            let (ta, ra) = channel::<u32>(cap);
            let (tb, rb) = channel::<u32>(cap);
            let _keep = (ta.clone(), tb.clone());
            let (ra2, rb2) = (ra.clone(), rb.clone());
            let t = thread::spawn(move || {
                block_on(async {
                    crate::select! {
                        send(ta, 1) -> r => { r.unwrap(); None }
                        recv(rb2) -> v => v,
                    }
                })
            });
            let mine = block_on(async {
                crate::select! {
                    send(tb, 2) -> r => { r.unwrap(); None }
                    recv(ra2) -> v => v,
                }
            });
            let theirs = t.join().unwrap();
            // What was sent but not received by the other select is still buffered (cap 1 only).
            let left_a = ra.try_recv().ok();
            let left_b = rb.try_recv().ok();
            let sent_a = mine == Some(1) || left_a == Some(1);
            let sent_b = theirs == Some(2) || left_b == Some(2);
            assert!(
                sent_a || sent_b,
                "nothing crossed: mine {mine:?} theirs {theirs:?}"
            );
            if cap == 0 {
                assert!(sent_a != sent_b, "both unbuffered sends happened");
                assert_eq!((left_a, left_b), (None, None));
            }
        });
    }
}

#[test]
fn select_loom_two_senders_fire_a_parked_select_once() {
    // Two senders race to complete one select's two cases: one wins the select, the other's value
    // stays with its channel (a sudog of a fired select must be skipped, never filled).
    loom::model(|| {
        let (ta, ra) = channel::<u32>(0);
        let (tb, rb) = channel::<u32>(0);
        let t1 = spawn_send(ta, 1);
        let t2 = spawn_send(tb, 2);
        let first = block_on(async {
            crate::select! {
                recv(ra) -> v => v,
                recv(rb) -> v => v,
            }
        });
        recv_the_other(first, &ra, &rb);
        t1.join().unwrap();
        t2.join().unwrap();
    });
}

#[test]
fn select_loom_future_arm_races_a_channel_case() {
    // The future arm is another channel's receive. Both senders run while the select is parked: the
    // future may complete (its receive handed a value) while the channel case fires. Whichever wins,
    // the other value must still be there: a fired channel case wins (the futures are only polled
    // after a successful cancel), and the dropped recv() future gives its value back.
    for cap in [0, 1] {
        loom::model(move || {
            let (ta, ra) = channel::<u32>(cap);
            let (tb, rb) = channel::<u32>(cap);
            let t1 = spawn_send(ta, 1);
            let t2 = spawn_send(tb, 2);
            let first = block_on(async {
                crate::select! {
                    recv(ra) -> v => v,
                    fut(rb.recv()) -> v => v,
                }
            });
            recv_the_other(first, &ra, &rb);
            t1.join().unwrap();
            t2.join().unwrap();
            ra.chan().check_invariants();
            rb.chan().check_invariants();
        });
    }
}

#[test]
fn select_loom_nil_case_is_skipped() {
    // A nil case takes no lock and never parks; the live case beside it is fired by a sender.
    loom::model(|| {
        let (ta, ra) = channel::<u32>(0);
        let nil = crate::chan::Receiver::<u32>::nil();
        let t = spawn_send(ta, 1);
        let got = block_on(async {
            crate::select! {
                recv(nil) -> _ => panic!("a nil case fired"),
                recv(ra) -> v => v,
            }
        });
        assert_eq!(got, Some(1));
        t.join().unwrap();
    });
}

#[test]
fn select_loom_dynamic_select_fires_once() {
    // chan::Select over two receives, one sender each: one case fires, the other value stays.
    loom::model(|| {
        let (ta, ra) = channel::<u32>(0);
        let (tb, rb) = channel::<u32>(1);
        let t1 = spawn_send(ta, 1);
        let t2 = thread::spawn(move || tb.try_send(2).unwrap());
        let first = {
            let mut sel = crate::chan::Select::new();
            let a = sel.recv(&ra);
            let b = sel.recv(&rb);
            let i = block_on(sel.wait());
            let (ha, hb) = (a.received(), b.received());
            match i {
                0 => {
                    assert!(hb.is_none());
                    ha
                }
                _ => {
                    assert!(ha.is_none());
                    hb
                }
            }
        };
        // A case that did not fire, or fired on a closed channel, flattens to None: rejected below.
        recv_the_other(first.flatten(), &ra, &rb);
        t1.join().unwrap();
        t2.join().unwrap();
    });
}
