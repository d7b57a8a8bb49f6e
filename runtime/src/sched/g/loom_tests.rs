//! loom models of the G state machine (run with `scripts/loom.sh`). The Gs are driven by hand: the
//! test scheduler never starts an M, so a wake from outside puts the G on the global queue, where the
//! model picks it up.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::thread;

use super::*;
use crate::sched::Sched;
use crate::util::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::util::loom::sync::{Arc, Mutex};

/// Take a G that a wake put on the global queue.
fn take_global(sched: &Sched) -> Option<GRef> {
    let mut l = sched.lock();
    let g = l.runq.pop_front();
    sched.publish_runqsize(&l);
    g
}

/// A future that parks once, handing its waker to `slot`, and completes on its second poll.
struct ParkOnce {
    polls: Arc<AtomicUsize>,
    slot: Arc<Mutex<Option<Waker>>>,
}

impl Future for ParkOnce {
    type Output = usize;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let n = self.polls.fetch_add(1, Ordering::SeqCst);
        if n == 0 {
            *crate::util::loom::lock(&self.slot) = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(n)
        }
    }
}

/// A value (a G's future or its output) that counts its drops, to prove it is dropped exactly once.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Run `g` until it parks or completes; keep running it while it is requeued.
fn run_until_parked(mut g: GRef) -> bool {
    loop {
        match g.run() {
            (PollResult::Complete, _) => return true,
            (PollResult::Parked, _) => return false,
            (PollResult::Requeue, Some(again)) => g = again,
            (PollResult::Requeue, None) => unreachable!(),
        }
    }
}

/// A wake races the G's own poll (it may land before the poll starts, during it, or after it
/// parked). In every interleaving the G runs again exactly once more and completes; it is never
/// polled by two threads at once (loom checks the stage cell) and the wake is never lost.
/// Catches: dropping the NOTIFIED bit on a wake during poll (design.md's injected-bug experiment),
/// a wake that submits a second queue entry while the G runs.
#[test]
fn wake_racing_the_poll_is_neither_lost_nor_doubled() {
    loom::model(|| {
        let sched = Sched::new_for_test();
        let polls = Arc::new(AtomicUsize::new(0));
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let fut = ParkOnce {
            polls: polls.clone(),
            slot: slot.clone(),
        };
        let (q, join, reg) = GRef::new(fut, 1, sched.clone(), crate::sched::g::Origin::here());
        sched.allgs.insert(reg).ok().expect("registry open");
        let slot2 = slot.clone();
        let waker_thread = thread::spawn(move || loop {
            if let Some(w) = crate::util::loom::lock(&slot2).take() {
                w.wake();
                return;
            }
            thread::yield_now();
        });
        let mut done = run_until_parked(q);
        waker_thread.join().unwrap();
        while !done {
            let g = take_global(&sched).expect("the wake was lost: parked G not requeued");
            done = run_until_parked(g);
        }
        assert!(take_global(&sched).is_none(), "the G was queued twice");
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        assert!(join.header().is_complete());
        drop(join);
    });
}

/// The JoinHandle is polled on another thread while the G completes. The joiner either sees the
/// output at once, or registers its waker and is woken — never both missed. Catches: the
/// completer reading the join waker before the joiner stored it (lost join wake-up).
#[test]
fn join_racing_completion_always_gets_the_output() {
    loom::model(|| {
        let sched = Sched::new_for_test();
        let (q, join, reg) = GRef::new(
            async { 7u32 },
            1,
            sched.clone(),
            crate::sched::g::Origin::here(),
        );
        sched.allgs.insert(reg).ok().expect("registry open");
        let joiner = thread::spawn(move || {
            let notify = Arc::new(loom::sync::Notify::new());
            let waker = notify_waker(notify.clone());
            let mut cx = Context::from_waker(&waker);
            let mut jh = JoinHandle::<u32>::new(join);
            loop {
                if let Poll::Ready(v) = Pin::new(&mut jh).poll(&mut cx) {
                    return v.expect("G succeeded");
                }
                notify.wait();
            }
        });
        assert!(run_until_parked(q));
        assert_eq!(joiner.join().unwrap(), 7);
    });
}

/// `abort` races the G's first run. Either the G completes normally and the handle gets its output,
/// or it is cancelled and the future is dropped without finishing; the future is dropped exactly
/// once either way. Catches: a cancelled G polled anyway, a double drop of the future, an abort of
/// a running G that is never acted on.
#[test]
fn abort_racing_the_first_run_cancels_or_completes_exactly_once() {
    loom::model(|| {
        let sched = Sched::new_for_test();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = DropCount(drops.clone());
        let (q, join, reg) = GRef::new(
            async move {
                let _d = d;
                1u8
            },
            1,
            sched.clone(),
            crate::sched::g::Origin::here(),
        );
        sched.allgs.insert(reg).ok().expect("registry open");
        let jh = JoinHandle::<u8>::new(join);
        let aborter = thread::spawn(move || {
            jh.abort();
            jh
        });
        let mut done = run_until_parked(q);
        let jh = aborter.join().unwrap();
        while !done {
            done = run_until_parked(take_global(&sched).expect("aborted G never requeued"));
        }
        while let Some(g) = take_global(&sched) {
            assert!(run_until_parked(g));
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        let waker = notify_waker(Arc::new(loom::sync::Notify::new()));
        let mut cx = Context::from_waker(&waker);
        let mut jh = jh;
        match Pin::new(&mut jh).poll(&mut cx) {
            Poll::Ready(Ok(1)) => {}
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            other => panic!("unexpected join result: {:?}", other.map(|r| r.is_ok())),
        }
    });
}

/// The JoinHandle is dropped on another thread while the G completes: the output (with a
/// destructor) is dropped exactly once, by whichever side comes second, and the G's memory is
/// freed (the last reference drop runs once). Catches: both sides dropping the output, or neither.
#[test]
fn join_handle_drop_racing_completion_drops_the_output_once() {
    loom::model(|| {
        let sched = Sched::new_for_test();
        let drops = Arc::new(AtomicUsize::new(0));
        let d2 = drops.clone();
        let (q, join, reg) = GRef::new(
            async move { DropCount(d2) },
            1,
            sched.clone(),
            crate::sched::g::Origin::here(),
        );
        sched.allgs.insert(reg).ok().expect("registry open");
        let jh = JoinHandle::<DropCount>::new(join);
        let dropper = thread::spawn(move || drop(jh));
        assert!(run_until_parked(q));
        dropper.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// A waker that signals a loom `Notify`, so a lost wake-up shows up as a loom deadlock.
fn notify_waker(n: Arc<loom::sync::Notify>) -> Waker {
    use std::task::{RawWaker, RawWakerVTable};
    // Built by hand because loom's Arc is not std's (std::task::Wake needs a std Arc).
    unsafe fn clone(p: *const ()) -> RawWaker {
        // SAFETY: p came from Arc::into_raw below; we add one strong count for the clone.
        unsafe { Arc::increment_strong_count(p as *const loom::sync::Notify) };
        RawWaker::new(p, &VTABLE)
    }
    unsafe fn wake(p: *const ()) {
        // SAFETY: consumes the reference this waker holds.
        let a = unsafe { Arc::from_raw(p as *const loom::sync::Notify) };
        a.notify();
    }
    unsafe fn wake_by_ref(p: *const ()) {
        // SAFETY: the waker holds a reference, so the Notify is alive.
        unsafe { &*(p as *const loom::sync::Notify) }.notify();
    }
    unsafe fn drop_w(p: *const ()) {
        // SAFETY: releases the reference this waker holds.
        drop(unsafe { Arc::from_raw(p as *const loom::sync::Notify) });
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_w);
    let p = Arc::into_raw(n) as *const ();
    // SAFETY: the vtable keeps the Arc's count balanced.
    unsafe { Waker::from_raw(RawWaker::new(p, &VTABLE)) }
}
