//! Unit tests of the G state machine with real threads. They also run under Miri
//! (`scripts/miri.sh`), which checks the raw allocation, the vtable casts, the waker's reference
//! counting and, through its leak checker, that every G is freed exactly once.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Waker};

use super::*;
use crate::sched::Sched;
use crate::util::loom::sync::atomic::Ordering;
use crate::util::loom::sync::Arc;

fn take_global(sched: &Sched) -> Option<GRef> {
    let mut l = sched.lock();
    let g = l.runq.pop_front();
    sched.publish_runqsize(&l);
    g
}

fn spawn<F>(sched: &Arc<Sched>, fut: F) -> (GRef, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (q, join, reg) = GRef::new(fut, 1, sched.clone(), crate::sched::g::Origin::here());
    assert!(sched.allgs.insert(reg).is_ok());
    (q, JoinHandle::new(join))
}

fn poll_join<T>(jh: &mut JoinHandle<T>) -> Poll<Result<T, JoinError>> {
    let waker = Waker::noop();
    Pin::new(jh).poll(&mut Context::from_waker(waker))
}

/// Run until parked or complete; true if complete.
fn run(mut g: GRef) -> bool {
    loop {
        match g.run() {
            (PollResult::Complete, _) => return true,
            (PollResult::Parked, _) => return false,
            (PollResult::Requeue, Some(again)) => g = again,
            (PollResult::Requeue, None) => unreachable!(),
        }
    }
}

struct DropCount(StdArc<StdAtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_g_runs_to_completion_and_its_handle_gets_the_output() {
    let sched = Sched::new_for_test();
    let (q, mut jh) = spawn(&sched, async { 5u32 });
    assert!(poll_join(&mut jh).is_pending());
    assert!(run(q));
    assert!(jh.is_finished());
    assert!(matches!(poll_join(&mut jh), Poll::Ready(Ok(5))));
    assert_eq!(sched.allgs.len(), 0);
}

#[test]
fn a_wake_during_the_poll_requeues_instead_of_running_twice() {
    let sched = Sched::new_for_test();
    let polls = StdArc::new(StdAtomicUsize::new(0));
    let p2 = polls.clone();
    let (q, mut jh) = spawn(
        &sched,
        std::future::poll_fn(move |cx| {
            if p2.fetch_add(1, Ordering::SeqCst) == 0 {
                cx.waker().wake_by_ref(); // woken while RUNNING
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }),
    );
    let (res, again) = q.run();
    assert_eq!(res, PollResult::Requeue);
    assert!(
        take_global(&sched).is_none(),
        "a wake during the poll must not queue a second entry"
    );
    assert!(run(again.expect("requeued with its reference")));
    assert_eq!(polls.load(Ordering::SeqCst), 2);
    assert!(matches!(poll_join(&mut jh), Poll::Ready(Ok(()))));
}

#[test]
fn a_parked_g_woken_from_another_thread_is_queued_once_and_completes() {
    let sched = Sched::new_for_test();
    let slot = StdArc::new(std::sync::Mutex::new(None::<Waker>));
    let s2 = slot.clone();
    let mut first = true;
    let (q, mut jh) = spawn(
        &sched,
        std::future::poll_fn(move |cx| {
            if std::mem::take(&mut first) {
                *s2.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(7)
            }
        }),
    );
    assert!(!run(q));
    let w = slot
        .lock()
        .unwrap()
        .take()
        .expect("the G handed out its waker");
    let w2 = w.clone();
    std::thread::spawn(move || {
        w.wake();
        w2.wake(); // a second wake of a queued G is a no-op
    })
    .join()
    .unwrap();
    let g = take_global(&sched).expect("woken G queued");
    assert!(take_global(&sched).is_none());
    assert!(run(g));
    assert!(matches!(poll_join(&mut jh), Poll::Ready(Ok(7))));
}

#[test]
fn abort_of_a_parked_g_drops_its_future_and_reports_cancelled() {
    let sched = Sched::new_for_test();
    let drops = StdArc::new(StdAtomicUsize::new(0));
    let d = DropCount(drops.clone());
    let (q, mut jh) = spawn(&sched, async move {
        let _d = d;
        std::future::pending::<()>().await;
    });
    assert!(!run(q));
    jh.abort();
    let g = take_global(&sched).expect("abort queues the G");
    assert!(run(g));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    match poll_join(&mut jh) {
        Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
        _ => panic!("expected a cancelled JoinError"),
    }
}

#[test]
fn a_panic_is_caught_and_the_output_of_a_dropped_handle_is_freed_once() {
    let sched = Sched::new_for_test();
    let (q, mut jh) = spawn(&sched, async {
        if std::hint::black_box(true) {
            panic!("boom");
        }
    });
    assert!(run(q));
    match poll_join(&mut jh) {
        Poll::Ready(Err(e)) => assert!(e.is_panic() && e.to_string().contains("boom")),
        _ => panic!("expected a panic JoinError"),
    }
    // The handle is dropped before completion: the completer drops the output, exactly once.
    let drops = StdArc::new(StdAtomicUsize::new(0));
    let d2 = drops.clone();
    let (q, jh) = spawn(&sched, async move { DropCount(d2) });
    drop(jh);
    assert!(run(q));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // And dropped after completion: the handle drops it, exactly once.
    let d3 = drops.clone();
    let (q, jh) = spawn(&sched, async move { DropCount(d3) });
    assert!(run(q));
    drop(jh);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn shutdown_drops_an_unfinished_g_and_later_wakes_are_harmless() {
    let sched = Sched::new_for_test();
    let slot = StdArc::new(std::sync::Mutex::new(None::<Waker>));
    let s2 = slot.clone();
    let (q, mut jh) = spawn(
        &sched,
        std::future::poll_fn(move |cx| {
            *s2.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }),
    );
    assert!(!run(q));
    for g in sched.allgs.close_and_drain() {
        g.shutdown();
    }
    // The future (and the waker it stored in `slot`... which `slot` keeps) is gone from the G.
    let w = slot.lock().unwrap().take().expect("waker");
    w.wake(); // the G is COMPLETE: nothing is queued
    assert!(take_global(&sched).is_none());
    match poll_join(&mut jh) {
        Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
        _ => panic!("expected cancelled"),
    }
}

/// The header grew by the spawn site and the parent id (two words, for dumps); the flags and the
/// wait stamp sit in the padding after the status bytes. A parked G's memory is watched (the
/// target is 200 bytes per parked G): this fails if the header grows again unnoticed.
#[test]
#[cfg(target_pointer_width = "64")]
fn header_is_eleven_words() {
    assert_eq!(std::mem::size_of::<super::Header>(), 88);
}
