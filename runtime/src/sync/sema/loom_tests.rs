//! Loom models of the runtime semaphore, and of the sync types that sleep on it (mutex, WaitGroup,
//! RwLock) where cancellation races with a release. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p gort --release --lib sema`.

use super::*;
use crate::util::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::util::loom::sync::Arc;

use crate::util::test_util::{block_on, poll_noop};

#[test]
fn sema_acquire_and_release_race_loses_no_wakeup() {
    loom::model(|| {
        let s = Arc::new(Sema::new(0));
        let t = {
            let s = s.clone();
            loom::thread::spawn(move || {
                let _ = s.release(false);
            })
        };
        block_on(s.acquire(false, WaitReason::Semacquire));
        t.join().unwrap();
        assert_eq!(s.units(), 0);
    });
}

#[test]
fn sema_handoff_release_races_with_a_cancelled_acquire() {
    loom::model(|| {
        let s = Arc::new(Sema::new(0));
        let t = {
            let s = s.clone();
            loom::thread::spawn(move || {
                let mut a = s.acquire(false, WaitReason::Semacquire);
                if poll_noop(&mut a).is_pending() {
                    drop(a); // withdraw, passing on a unit it may have been handed
                    false
                } else {
                    true
                }
            })
        };
        let _ = s.release(true);
        let took = t.join().unwrap();
        // The unit is either consumed by the acquire that completed, or back in the count.
        assert_eq!(s.units(), if took { 0 } else { 1 });
        assert_eq!(s.waiters(), 0);
    });
}

#[test]
fn sema_cancelled_waiter_passes_the_wakeup_to_the_other_waiter() {
    loom::model(|| {
        let s = Arc::new(Sema::new(0));
        let mut a = s.acquire(false, WaitReason::Semacquire);
        assert!(poll_noop(&mut a).is_pending());
        let t = {
            let s = s.clone();
            loom::thread::spawn(move || block_on(s.acquire(false, WaitReason::Semacquire)))
        };
        let r = {
            let s = s.clone();
            loom::thread::spawn(move || {
                let _ = s.release(false);
            })
        };
        drop(a);
        r.join().unwrap();
        t.join().unwrap();
        assert_eq!(s.units(), 0);
    });
}

#[test]
fn sema_abandoned_waiter_is_paid_exactly_once() {
    loom::model(|| {
        let s = Arc::new(Sema::new(0));
        let paid = Arc::new(AtomicUsize::new(0));
        let mut a = s.acquire(false, WaitReason::Semacquire);
        assert!(poll_noop(&mut a).is_pending());
        let r = {
            let (s, paid) = (s.clone(), paid.clone());
            loom::thread::spawn(move || {
                if s.release(false) {
                    paid.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        match a.abandon() {
            Abandoned::HadUnit => paid.fetch_add(1, Ordering::SeqCst),
            Abandoned::Deferred => 0,
        };
        r.join().unwrap();
        assert_eq!(paid.load(Ordering::SeqCst), 1);
        assert_eq!(s.units(), 0);
        assert_eq!(s.waiters(), 0);
    });
}

#[test]
fn sema_mutex_hands_off_under_contention() {
    loom::model(|| {
        let m = Arc::new(crate::sync::Mutex::new(0u32));
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let m = m.clone();
                loom::thread::spawn(move || {
                    let mut g = block_on(m.lock());
                    *g += 1;
                })
            })
            .collect();
        {
            let mut g = block_on(m.lock());
            *g += 1;
        }
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(*block_on(m.lock()), 3);
        assert!(!m.is_starving());
    });
}

#[test]
fn sema_mutex_cancelled_lock_loses_no_wakeup() {
    loom::model(|| {
        let m = Arc::new(crate::sync::Mutex::new(()));
        let g = block_on(m.lock());
        let t = {
            let m = m.clone();
            loom::thread::spawn(move || drop(block_on(m.lock())))
        };
        let c = {
            let m = m.clone();
            loom::thread::spawn(move || {
                let mut l = m.lock();
                let _ = poll_noop(&mut l);
            })
        };
        drop(g);
        c.join().unwrap();
        t.join().unwrap();
        assert!(m.try_lock().is_some());
    });
}

#[test]
fn sema_waitgroup_wait_returns_after_done() {
    loom::model(|| {
        let wg = crate::sync::WaitGroup::new();
        wg.add(2);
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let wg = wg.clone();
                loom::thread::spawn(move || wg.done())
            })
            .collect();
        block_on(wg.wait());
        assert_eq!(wg.count(), 0);
        for t in ts {
            t.join().unwrap();
        }
    });
}

#[test]
fn sema_waitgroup_cancelled_wait_does_not_block_another() {
    loom::model(|| {
        let wg = crate::sync::WaitGroup::new();
        wg.add(1);
        let w = {
            let wg = wg.clone();
            loom::thread::spawn(move || block_on(wg.wait()))
        };
        let c = {
            let wg = wg.clone();
            loom::thread::spawn(move || {
                let mut f = wg.wait();
                let _ = poll_noop(&mut f);
            })
        };
        wg.done();
        c.join().unwrap();
        w.join().unwrap();
    });
}

#[test]
fn sema_rwlock_cancelled_blocked_reader_is_released_by_the_writer() {
    loom::model(|| {
        let rw = Arc::new(crate::sync::RwLock::new(0u32));
        let w = rw.try_write().unwrap();
        let c = {
            let rw = rw.clone();
            loom::thread::spawn(move || {
                let mut r = rw.read();
                let _ = poll_noop(&mut r); // blocked behind the writer, or admitted; then dropped
            })
        };
        let r = {
            let rw = rw.clone();
            loom::thread::spawn(move || *block_on(rw.read()))
        };
        drop(w);
        c.join().unwrap();
        assert_eq!(r.join().unwrap(), 0);
        assert!(
            rw.try_write().is_some(),
            "every reader, cancelled or not, has left"
        );
    });
}

#[test]
fn sema_rwlock_cancelled_writer_is_finished_by_the_last_reader() {
    loom::model(|| {
        let rw = Arc::new(crate::sync::RwLock::new(0u32));
        let r = rw.try_read().unwrap();
        let w = {
            let rw = rw.clone();
            loom::thread::spawn(move || {
                let mut w = rw.write();
                let _ = poll_noop(&mut w); // waits for the reader, or got in; then dropped
            })
        };
        drop(r);
        w.join().unwrap();
        assert!(rw.try_write().is_some());
    });
}
