//! Unit tests of channels, polling futures by hand (deterministic) or driving them from plain threads
//! with a one-future `block_on`. End-to-end tests on the real executor are in tests/tests/chan.rs.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc as StdArc;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::*;
use crate::util::test_util::{block_on, poll_once, CountWaker, Counted};

/// Check the channel's internal invariants (shared with select's tests).
pub(super) fn check<T>(rx: &Receiver<T>) {
    rx.chan().check_invariants();
}

#[test]
fn unbuffered_send_blocks_until_received() {
    let (tx, rx) = channel::<u32>(0);
    let (wc, w) = CountWaker::new();
    let mut send = tx.send(7);
    assert!(poll_once(&mut send, &w).is_pending());
    assert!(
        poll_once(&mut send, &w).is_pending(),
        "an unbuffered send completed without a receiver"
    );
    assert_eq!(rx.len(), 0);
    check(&rx);
    assert_eq!(rx.try_recv(), Ok(7));
    assert_eq!(wc.count(), 1, "the receiver did not wake the sender");
    assert_eq!(poll_once(&mut send, &w), Poll::Ready(Ok(())));
    check(&rx);
}

#[test]
fn unbuffered_try_send_without_receiver_is_full() {
    let (tx, rx) = channel::<u32>(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn send_to_parked_receiver_hands_value_over_without_buffering() {
    for cap in [0, 3] {
        let (tx, rx) = channel::<u32>(cap);
        let (wc, w) = CountWaker::new();
        let mut recv = rx.recv();
        assert!(poll_once(&mut recv, &w).is_pending());
        assert_eq!(tx.try_send(5), Ok(()));
        assert_eq!(tx.len(), 0, "the value went through the buffer");
        assert_eq!(wc.count(), 1);
        assert_eq!(poll_once(&mut recv, &w), Poll::Ready(Some(5)));
        check(&rx);
    }
}

#[test]
fn buffered_fills_then_blocks() {
    let (tx, rx) = channel::<u32>(2);
    assert_eq!(tx.try_send(1), Ok(()));
    assert_eq!(tx.try_send(2), Ok(()));
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
    let (wc, w) = CountWaker::new();
    let mut send = tx.send(3);
    assert!(poll_once(&mut send, &w).is_pending());
    check(&rx);
    assert_eq!(rx.try_recv(), Ok(1));
    // Go's "take the head, put the parked sender's value at the tail".
    assert_eq!(wc.count(), 1);
    assert_eq!(rx.len(), 2);
    assert_eq!(poll_once(&mut send, &w), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    check(&rx);
}

#[test]
fn len_and_cap() {
    let (tx, rx) = channel::<u32>(4);
    assert_eq!((tx.cap(), rx.cap()), (4, 4));
    assert!(tx.is_empty() && rx.is_empty());
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!((tx.len(), rx.len()), (2, 2));
    rx.try_recv().unwrap();
    assert_eq!(rx.len(), 1);
    let (tx0, rx0) = channel::<u32>(0);
    assert_eq!((tx0.cap(), rx0.cap(), rx0.len()), (0, 0, 0));
}

#[test]
fn close_drains_then_none() {
    let (tx, rx) = channel::<u32>(3);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert!(tx.close());
    assert!(!tx.close(), "second close reported closing");
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(block_on(rx.recv()), Some(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(block_on(rx.recv()), None);
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn send_after_close_returns_the_value() {
    let (tx, rx) = channel::<String>(1);
    tx.close();
    assert_eq!(
        tx.try_send("a".into()),
        Err(TrySendError::Closed("a".into()))
    );
    let err = block_on(tx.send("b".into())).unwrap_err();
    assert_eq!(err.into_inner(), "b");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn close_wakes_all_waiters() {
    let (tx, rx) = channel::<u32>(0);
    let (wc, w) = CountWaker::new();
    let mut recvs: Vec<_> = (0..3).map(|_| rx.recv()).collect();
    for r in &mut recvs {
        assert!(poll_once(r, &w).is_pending());
    }
    let (stx, srx) = channel::<u32>(1);
    stx.try_send(0).unwrap();
    let mut sends: Vec<_> = (1..3).map(|i| stx.send(i)).collect();
    for s in &mut sends {
        assert!(poll_once(s, &w).is_pending());
    }
    tx.close();
    assert_eq!(wc.count(), 3);
    stx.close();
    assert_eq!(wc.count(), 5);
    for r in &mut recvs {
        assert_eq!(poll_once(r, &w), Poll::Ready(None));
    }
    for (i, s) in sends.iter_mut().enumerate() {
        assert_eq!(poll_once(s, &w), Poll::Ready(Err(SendError(i as u32 + 1))));
    }
    // The buffered value survives the close.
    assert_eq!(srx.try_recv(), Ok(0));
    check(&rx);
    check(&srx);
}

#[test]
fn last_sender_drop_closes_and_clones_keep_it_open() {
    let (tx, rx) = channel::<u32>(1);
    let tx2 = tx.clone();
    drop(tx);
    assert!(!rx.is_closed());
    tx2.try_send(9).unwrap();
    let (wc, w) = CountWaker::new();
    let rx2 = rx.clone();
    assert_eq!(rx2.try_recv(), Ok(9));
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv, &w).is_pending());
    drop(tx2);
    assert_eq!(wc.count(), 1);
    assert_eq!(poll_once(&mut recv, &w), Poll::Ready(None));
}

#[test]
fn dropped_recv_future_loses_nothing() {
    // Withdrawn before any sender came: the sender finds nobody.
    let (tx, rx) = channel::<u32>(0);
    let (_wc, w) = CountWaker::new();
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv, &w).is_pending());
    drop(recv);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    check(&rx);

    // Served but dropped before returning the value: the value goes back, first in line.
    for cap in [0, 1] {
        let (tx, rx) = channel::<u32>(cap);
        let mut recv = rx.recv();
        assert!(poll_once(&mut recv, &w).is_pending());
        tx.try_send(1).unwrap(); // handed to the parked receiver
        if cap == 1 {
            tx.try_send(2).unwrap(); // buffered behind it
        }
        drop(recv);
        check(&rx);
        assert_eq!(rx.try_recv(), Ok(1));
        if cap == 1 {
            assert_eq!(rx.try_recv(), Ok(2));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        check(&rx);
    }
}

#[test]
fn dropped_recv_future_passes_its_value_to_the_next_parked_receiver() {
    let (tx, rx) = channel::<u32>(0);
    let (wc1, w1) = CountWaker::new();
    let (wc2, w2) = CountWaker::new();
    let mut first = rx.recv();
    let mut second = rx.recv();
    assert!(poll_once(&mut first, &w1).is_pending());
    assert!(poll_once(&mut second, &w2).is_pending());
    tx.try_send(4).unwrap();
    assert_eq!((wc1.count(), wc2.count()), (1, 0));
    drop(first);
    assert_eq!(wc2.count(), 1);
    assert_eq!(poll_once(&mut second, &w2), Poll::Ready(Some(4)));
    check(&rx);
}

/// Found by the chan_model fuzzer: a value given back to an empty buffered channel sits ahead of the
/// ring and must count toward `cap`, or the ring takes `cap` more values behind it.
#[test]
fn a_given_back_value_counts_toward_the_capacity() {
    for cap in [1, 2, 3] {
        let (tx, rx) = channel::<usize>(cap);
        let (_wc, w) = CountWaker::new();
        let mut recv = rx.recv();
        assert!(poll_once(&mut recv, &w).is_pending());
        tx.try_send(0).unwrap(); // handed to the parked receiver
        drop(recv); // cancelled before it returned 0: given back, to the front
        for v in 1..cap {
            tx.try_send(v).unwrap();
        }
        assert_eq!(tx.len(), cap);
        assert!(
            matches!(tx.try_send(cap), Err(TrySendError::Full(_))),
            "cap {cap}: a send past cap was accepted"
        );
        check(&rx);
        for v in 0..cap {
            assert_eq!(rx.try_recv(), Ok(v), "cap {cap}");
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        check(&rx);
    }
}

#[test]
fn value_given_back_to_a_closed_channel_is_still_received() {
    let (tx, rx) = channel::<u32>(0);
    let (_wc, w) = CountWaker::new();
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv, &w).is_pending());
    tx.try_send(3).unwrap();
    tx.close();
    drop(recv);
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn dropped_parked_send_withdraws_its_value() {
    let drops = StdArc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::<Counted>(0);
    let (_wc, w) = CountWaker::new();
    let mut send = tx.send(Counted(1, drops.clone()));
    assert!(poll_once(&mut send, &w).is_pending());
    drop(send);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the withdrawn value was not dropped"
    );
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    check(&rx);
}

#[test]
fn dropped_send_after_a_receiver_took_the_value_counts_as_sent() {
    let drops = StdArc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::<Counted>(0);
    let (_wc, w) = CountWaker::new();
    let mut send = tx.send(Counted(1, drops.clone()));
    assert!(poll_once(&mut send, &w).is_pending());
    let got = rx.try_recv().ok().map(|c| c.0);
    assert_eq!(got, Some(1));
    assert_eq!(drops.load(Ordering::SeqCst), 1); // the received value, dropped above
    drop(send);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the send future dropped a value it had sent"
    );
    check(&rx);
}

#[test]
fn repolling_a_parked_op_with_a_new_waker_wakes_the_new_one() {
    let (tx, rx) = channel::<u32>(0);
    let (wc1, w1) = CountWaker::new();
    let (wc2, w2) = CountWaker::new();
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv, &w1).is_pending());
    assert!(poll_once(&mut recv, &w2).is_pending());
    tx.try_send(1).unwrap();
    assert_eq!((wc1.count(), wc2.count()), (0, 1));
}

struct Next<'a, S>(&'a mut S);

impl<S: futures_core::Stream + Unpin> Future for Next<'_, S> {
    type Output = Option<S::Item>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.0).poll_next(cx)
    }
}

#[test]
fn receiver_stream_yields_values_until_closed() {
    let (tx, mut rx) = channel::<u32>(0);
    let producer = std::thread::spawn(move || {
        for i in 0..100 {
            block_on(tx.send(i)).unwrap();
        }
    });
    let mut got = Vec::new();
    while let Some(v) = block_on(Next(&mut rx)) {
        got.push(v);
    }
    producer.join().unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

#[test]
fn dropping_a_receiver_mid_stream_loses_nothing() {
    let (tx, mut rx) = channel::<u32>(0);
    let rx2 = rx.clone();
    let (_wc, w) = CountWaker::new();
    let mut cx = Context::from_waker(&w);
    assert!(Pin::new(&mut rx).poll_next(&mut cx).is_pending());
    tx.try_send(8).unwrap();
    drop(rx);
    assert_eq!(rx2.try_recv(), Ok(8));
}

#[test]
fn errors_display_and_debug_without_t_debug() {
    struct Opaque;
    assert_eq!(format!("{:?}", SendError(Opaque)), "SendError(..)");
    assert_eq!(SendError(Opaque).to_string(), "send on closed channel");
    assert_eq!(format!("{:?}", TrySendError::Full(Opaque)), "Full(..)");
    assert_eq!(
        TrySendError::Closed(Opaque).to_string(),
        "send on closed channel"
    );
    assert_eq!(TryRecvError::Empty.to_string(), "receive on empty channel");
    let e: Box<dyn std::error::Error> = Box::new(SendError(Opaque));
    assert!(!e.to_string().is_empty());
}

/// Producers and consumers on plain threads: every value arrives exactly once.
fn mpmc_threads(cap: usize) {
    const PRODUCERS: u64 = 3;
    const CONSUMERS: usize = 3;
    const PER: u64 = 2_000;
    let (tx, rx) = channel::<u64>(cap);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..PER {
                    block_on(tx.send(p * PER + i)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let rx = rx.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Some(v) = block_on(rx.recv()) {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let mut all: Vec<u64> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..PRODUCERS * PER).collect::<Vec<_>>());
    check(&rx);
}

#[test]
fn mpmc_threads_unbuffered_every_value_once() {
    mpmc_threads(0);
}

#[test]
fn mpmc_threads_buffered_every_value_once() {
    mpmc_threads(16);
}

#[test]
fn parked_receiver_sends_every_send_through_the_lock_until_it_is_served() {
    let (tx, rx) = channel::<u32>(4);
    let (_wc, w) = CountWaker::new();
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv, &w).is_pending());
    // Parked: the send must hand over, not buffer (a fast push would strand the receiver).
    tx.try_send(1).unwrap();
    assert_eq!(
        rx.len(),
        0,
        "the value went to the buffer past a parked receiver"
    );
    check(&rx);
    assert_eq!(poll_once(&mut recv, &w), Poll::Ready(Some(1)));
    drop(recv);
    // Nobody parked any more: buffered again.
    tx.try_send(2).unwrap();
    assert_eq!(rx.len(), 1);
    check(&rx);
}

#[test]
fn parked_sender_is_refilled_in_order_when_a_receive_makes_room() {
    let (tx, rx) = channel::<u32>(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let (_wc, w) = CountWaker::new();
    let mut send = tx.send(3);
    assert!(poll_once(&mut send, &w).is_pending());
    assert_eq!(
        tx.try_send(4),
        Err(TrySendError::Full(4)),
        "jumped the parked sender"
    );
    check(&rx);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(poll_once(&mut send, &w), Poll::Ready(Ok(())));
    assert_eq!([rx.try_recv(), rx.try_recv()], [Ok(2), Ok(3)]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    check(&rx);
}

#[test]
fn channel_above_the_ring_limit_buffers_under_the_lock() {
    let (tx, rx) = channel::<usize>(usize::MAX);
    for i in 0..1000 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(rx.len(), 1000);
    for i in 0..1000 {
        assert_eq!(rx.try_recv(), Ok(i));
    }
    check(&rx);
}
