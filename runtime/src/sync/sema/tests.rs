//! Unit tests of the runtime semaphore, polling `Acquire` by hand (`crate::util::test_util`). The sync
//! types built on it have their own tests; loom models of the races are in loom_tests.rs.

use super::*;
use crate::util::test_util::{block_on, poll_noop};
use std::sync::Arc;
use std::task::Poll;
use std::thread;

#[test]
fn acquire_takes_an_available_unit_without_waiting() {
    let s = Sema::new(1);
    assert_eq!(
        poll_noop(&mut s.acquire(false, WaitReason::Semacquire)),
        Poll::Ready(())
    );
    assert_eq!(s.units(), 0);
    assert!(!s.try_acquire());
}

#[test]
fn release_wakes_waiters_in_fifo_order() {
    let s = Sema::new(0);
    let mut a = s.acquire(false, WaitReason::Semacquire);
    let mut b = s.acquire(false, WaitReason::Semacquire);
    assert!(poll_noop(&mut a).is_pending());
    assert!(poll_noop(&mut b).is_pending());
    assert!(!s.release(false));
    // b was not woken, so it cannot take the unit meant for a, even though it is free.
    assert!(poll_noop(&mut b).is_pending());
    assert!(poll_noop(&mut a).is_ready());
}

#[test]
fn lifo_waiter_goes_to_the_front() {
    let s = Sema::new(0);
    let mut a = s.acquire(false, WaitReason::Semacquire);
    let mut b = s.acquire(true, WaitReason::Semacquire);
    assert!(poll_noop(&mut a).is_pending());
    assert!(poll_noop(&mut b).is_pending());
    let _ = s.release(true);
    assert!(poll_noop(&mut a).is_pending());
    assert!(poll_noop(&mut b).is_ready());
}

#[test]
fn handoff_gives_the_unit_to_the_waiter_not_to_a_newcomer() {
    let s = Sema::new(0);
    let mut a = s.acquire(false, WaitReason::Semacquire);
    assert!(poll_noop(&mut a).is_pending());
    let _ = s.release(true);
    assert!(!s.try_acquire(), "the unit was handed to the waiter");
    assert!(poll_noop(&mut a).is_ready());
}

#[test]
fn woken_waiter_that_lost_the_race_queues_again() {
    let s = Sema::new(0);
    let mut a = s.acquire(false, WaitReason::Semacquire);
    assert!(poll_noop(&mut a).is_pending());
    let _ = s.release(false);
    assert!(
        s.try_acquire(),
        "without handoff a newcomer may take the unit"
    );
    assert!(poll_noop(&mut a).is_pending());
    assert_eq!(s.waiters(), 1);
    let _ = s.release(false);
    assert!(poll_noop(&mut a).is_ready());
    assert_eq!(s.waiters(), 0);
}

#[test]
fn dropping_a_queued_acquire_withdraws_it() {
    let s = Sema::new(0);
    let mut a = s.acquire(false, WaitReason::Semacquire);
    assert!(poll_noop(&mut a).is_pending());
    drop(a);
    assert_eq!(s.waiters(), 0);
    let _ = s.release(false);
    assert_eq!(s.units(), 1);
}

#[test]
fn dropping_a_granted_acquire_passes_the_unit_to_the_next_waiter() {
    let s = Sema::new(0);
    let mut a = s.acquire(false, WaitReason::Semacquire);
    let mut b = s.acquire(false, WaitReason::Semacquire);
    assert!(poll_noop(&mut a).is_pending());
    assert!(poll_noop(&mut b).is_pending());
    let _ = s.release(true);
    drop(a);
    assert!(poll_noop(&mut b).is_ready());
}

#[test]
fn dropping_a_woken_acquire_passes_the_wake_up_on() {
    let s = Sema::new(0);
    let mut a = s.acquire(false, WaitReason::Semacquire);
    let mut b = s.acquire(false, WaitReason::Semacquire);
    assert!(poll_noop(&mut a).is_pending());
    assert!(poll_noop(&mut b).is_pending());
    let _ = s.release(false);
    drop(a);
    assert!(poll_noop(&mut b).is_ready());
    assert_eq!(s.units(), 0);
}

#[test]
fn abandoned_waiter_is_paid_by_the_next_release_after_queued_ones() {
    let s = Sema::new(0);
    let mut a = s.acquire(false, WaitReason::Semacquire);
    let mut b = s.acquire(false, WaitReason::Semacquire);
    assert!(poll_noop(&mut a).is_pending());
    assert!(poll_noop(&mut b).is_pending());
    assert_eq!(a.abandon(), Abandoned::Deferred);
    assert!(!s.release(false), "b is queued, so it gets the unit");
    assert!(poll_noop(&mut b).is_ready());
    assert!(s.release(false), "then the abandoned waiter is paid");
    assert_eq!(s.units(), 0);
    assert_eq!(s.waiters(), 0);
    assert!(!s.release(false));
    assert_eq!(s.units(), 1);
}

#[test]
fn abandoning_a_granted_acquire_reports_the_unit() {
    let s = Sema::new(0);
    let mut a = s.acquire(false, WaitReason::Semacquire);
    assert!(poll_noop(&mut a).is_pending());
    let _ = s.release(true);
    assert_eq!(a.abandon(), Abandoned::HadUnit);
    assert_eq!(s.waiters(), 0);
}

#[test]
fn blocked_acquire_completes_when_another_thread_releases() {
    let s = Arc::new(Sema::new(0));
    let t = {
        let s = s.clone();
        thread::spawn(move || block_on(s.acquire(false, WaitReason::Semacquire)))
    };
    while s.waiters() == 0 {
        thread::yield_now();
    }
    let _ = s.release(false);
    t.join().unwrap();
    assert_eq!(s.units(), 0);
}

#[test]
fn many_threads_acquire_and_release_without_losing_units() {
    let s = Arc::new(Sema::new(2));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            thread::spawn(move || {
                for i in 0..500 {
                    block_on(s.acquire(i % 2 == 0, WaitReason::Semacquire));
                    let _ = s.release(i % 3 == 0);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.units(), 2);
    assert_eq!(s.waiters(), 0);
}
