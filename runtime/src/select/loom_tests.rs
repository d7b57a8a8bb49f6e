//! Loom models of `select!`: two threads, capacity 0 and 1. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p runtime --release --lib select`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::future::block_on;
use loom::thread;

use crate::chan::{channel, TryRecvError};

struct Noop;

impl Wake for Noop {
    fn wake(self: StdArc<Self>) {}
}

fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = Waker::from(StdArc::new(Noop));
    fut.poll(&mut Context::from_waker(&waker))
}

#[test]
fn select_loom_recv_meets_plain_send() {
    for cap in [0, 1] {
        loom::model(move || {
            let (ta, ra) = channel::<u32>(cap);
            let (_tb, rb) = channel::<u32>(cap);
            let t = thread::spawn(move || block_on(ta.send(1)).unwrap());
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
            let t = thread::spawn(move || ta.try_send(1).is_ok());
            let mut got = 0;
            {
                let mut fut = pin!(async {
                    crate::select! {
                        recv(ra) -> v => v,
                        recv(rb) -> v => v,
                    }
                });
                if let Poll::Ready(v) = poll_once(fut.as_mut()) {
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
