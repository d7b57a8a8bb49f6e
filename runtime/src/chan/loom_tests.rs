//! Loom models of channels: two threads, capacity 0 and 1. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p gort --release --lib chan`.

use std::pin::pin;
use std::task::Poll;

use loom::thread;

use super::*;
use crate::util::test_util::{block_on, poll_noop};

#[test]
fn chan_loom_send_recv_rendezvous_and_buffered() {
    for cap in [0, 1] {
        loom::model(move || {
            let (tx, rx) = channel::<u32>(cap);
            let t = thread::spawn(move || {
                block_on(tx.send(1)).unwrap();
                block_on(tx.send(2)).unwrap();
                // tx dropped: closes the channel.
            });
            assert_eq!(block_on(rx.recv()), Some(1));
            assert_eq!(block_on(rx.recv()), Some(2));
            assert_eq!(block_on(rx.recv()), None);
            t.join().unwrap();
            rx.chan().check_invariants();
        });
    }
}

#[test]
fn chan_loom_close_wakes_parked_receiver_and_sender() {
    for cap in [0, 1] {
        loom::model(move || {
            let (tx, rx) = channel::<u32>(cap);
            let tx2 = tx.clone();
            let t = thread::spawn(move || {
                tx2.close();
            });
            // Either parks and is woken by close, or finds the channel closed.
            let mut sent = 0;
            loop {
                match block_on(tx.send(7)) {
                    Ok(()) => sent += 1,
                    Err(e) => {
                        assert_eq!(e.into_inner(), 7);
                        break;
                    }
                }
            }
            t.join().unwrap();
            assert!(sent <= cap);
            for _ in 0..sent {
                assert_eq!(block_on(rx.recv()), Some(7));
            }
            assert_eq!(block_on(rx.recv()), None);
        });
    }
}

#[test]
fn chan_loom_dropped_recv_future_loses_nothing() {
    for cap in [0, 1] {
        loom::model(move || {
            let (tx, rx) = channel::<u32>(cap);
            let t = thread::spawn(move || tx.try_send(1).is_ok());
            let mut got = 0;
            {
                let mut recv = pin!(rx.recv());
                if let Poll::Ready(Some(v)) = poll_noop(&mut recv.as_mut()) {
                    assert_eq!(v, 1);
                    got += 1;
                }
                // Dropped here: parked, served-but-unreturned, or finished.
            }
            let sent = t.join().unwrap();
            while let Ok(v) = rx.try_recv() {
                assert_eq!(v, 1);
                got += 1;
            }
            assert_eq!(got, usize::from(sent), "sent {sent}, received {got} times");
            rx.chan().check_invariants();
        });
    }
}

#[test]
fn chan_loom_dropped_send_future_sends_at_most_once() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(0);
        let t = thread::spawn(move || rx.try_recv().ok());
        let sent = {
            let mut send = pin!(tx.send(1));
            matches!(poll_noop(&mut send.as_mut()), Poll::Ready(Ok(())))
        };
        let got = t.join().unwrap();
        // A receiver that took the value may have done so before or after the first poll; either way
        // the value exists exactly once, and a completed send always means it was received.
        assert!(!sent || got == Some(1));
        assert!(got.is_none() || got == Some(1));
    });
}

// Models of the lock-free ring (ring.rs) and its hand-over to the lock (the SLOW bit). Each checks
// that no value is lost or duplicated and that nobody stays parked next to a value or a free slot.

/// The empty boundary: a receiver parks (or is about to) while a sender's fast push lands. The
/// receiver sets SLOW and looks again before it parks, so it either sees the value or the sender
/// finds it parked; a lost wake-up would hang `block_on` (loom reports the deadlock).
#[test]
fn chan_loom_ring_receiver_parking_at_empty_gets_a_fast_send() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(1);
        let t = thread::spawn(move || block_on(rx.recv()));
        assert!(tx.try_send(5).is_ok(), "an empty one-slot ring has room");
        assert_eq!(t.join().unwrap(), Some(5));
    });
}

/// The full boundary, the mirror image: a sender parks on a full ring while a receiver's fast pop
/// frees the slot; then the parked value must come through, in order.
#[test]
fn chan_loom_ring_sender_parking_at_full_gets_a_fast_receive() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(1);
        assert!(tx.try_send(1).is_ok());
        let t = thread::spawn(move || block_on(tx.send(2)).is_ok());
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert!(t.join().unwrap());
        assert_eq!(block_on(rx.recv()), None, "the sender is gone: closed");
        rx.chan().check_invariants();
    });
}

/// Two senders race for one slot (one of them parks), one receiver: each value exactly once.
#[test]
fn chan_loom_ring_two_senders_every_value_once() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(1);
        let tx2 = tx.clone();
        let a = thread::spawn(move || block_on(tx.send(1)).is_ok());
        let b = thread::spawn(move || block_on(tx2.send(2)).is_ok());
        let mut got = [block_on(rx.recv()), block_on(rx.recv())];
        got.sort();
        assert_eq!(got, [Some(1), Some(2)]);
        assert!(a.join().unwrap() && b.join().unwrap());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// Two receivers race for the values of one sender (one of them may park): each value exactly once.
#[test]
fn chan_loom_ring_two_receivers_every_value_once() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(1);
        let rx2 = rx.clone();
        let a = thread::spawn(move || block_on(rx.recv()));
        let b = thread::spawn(move || block_on(rx2.recv()));
        block_on(tx.send(1)).unwrap();
        block_on(tx.send(2)).unwrap();
        let mut got = [a.join().unwrap(), b.join().unwrap()];
        got.sort();
        assert_eq!(got, [Some(1), Some(2)]);
    });
}

/// `close` races a fast-path send: a send that succeeded is received before the end, one that failed
/// got its value back; nothing is received that was not sent.
#[test]
fn chan_loom_ring_close_racing_a_fast_send() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(1);
        let tx2 = tx.clone();
        let t = thread::spawn(move || match tx2.try_send(9) {
            Ok(()) => true,
            Err(TrySendError::Closed(9)) => false,
            Err(e) => panic!("unexpected {e:?}"),
        });
        tx.close();
        let sent = t.join().unwrap();
        let mut got = 0;
        while let Some(v) = block_on(rx.recv()) {
            assert_eq!(v, 9);
            got += 1;
        }
        assert_eq!(got, usize::from(sent));
        rx.chan().check_invariants();
    });
}
