//! `gort::sync` on the real runtime: Gs contending for locks, waiting on groups and conditions.
//! Every test is bounded by its data and by a watchdog that turns a hang into a failure, and asserts
//! outcomes (counts, exclusion, who was woken), never speed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gort::sync::{Cond, Mutex, Once, RwLock, Semaphore, WaitGroup};
use gort::time::{sleep, timeout};
use tests::limited;

async fn yield_a_few() {
    for _ in 0..3 {
        gort::yield_now().await;
    }
}

#[test]
fn mutex_serialises_a_non_atomic_counter_under_contention() {
    limited(4, async {
        let m = Arc::new(Mutex::new(0u64));
        let gs: Vec<_> = (0..64)
            .map(|_| {
                let m = m.clone();
                gort::go(async move {
                    for _ in 0..100 {
                        let mut g = m.lock().await;
                        // Read, let others run, write back: any overlap would lose an increment.
                        let v = *g;
                        gort::yield_now().await;
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for g in gs {
            g.await.unwrap();
        }
        assert_eq!(*m.lock().await, 6_400);
    });
}

#[test]
fn rwlock_readers_share_the_lock() {
    limited(2, async {
        let rw = Arc::new(RwLock::new(5));
        let first = rw.read().await;
        // A second reader gets in while the first still holds its guard.
        let rw2 = rw.clone();
        let second = gort::go(async move { *rw2.read().await });
        let got = second.await;
        assert_eq!(got.unwrap(), 5);
        drop(first);
    });
}

#[test]
fn rwlock_writer_excludes_readers_and_writers() {
    limited(4, async {
        let rw = Arc::new(RwLock::new(0u64));
        // +1 per reader inside, +1000 per writer inside.
        let inside = Arc::new(AtomicUsize::new(0));
        let gs: Vec<_> = (0..32)
            .map(|i| {
                let (rw, inside) = (rw.clone(), inside.clone());
                gort::go(async move {
                    for _ in 0..50 {
                        if i % 4 == 0 {
                            let mut g = rw.write().await;
                            assert_eq!(
                                inside.fetch_add(1000, Ordering::SeqCst),
                                0,
                                "writer not alone"
                            );
                            yield_a_few().await;
                            *g += 1;
                            inside.fetch_sub(1000, Ordering::SeqCst);
                        } else {
                            let _g = rw.read().await;
                            assert!(
                                inside.fetch_add(1, Ordering::SeqCst) < 1000,
                                "reader beside a writer"
                            );
                            yield_a_few().await;
                            inside.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for g in gs {
            g.await.unwrap();
        }
        assert_eq!(*rw.read().await, 8 * 50);
    });
}

#[test]
fn rwlock_waiting_writer_blocks_new_readers() {
    limited(2, async {
        let rw = Arc::new(RwLock::new(()));
        let r1 = rw.read().await;
        let wrote = Arc::new(AtomicBool::new(false));
        let (rw2, w2) = (rw.clone(), wrote.clone());
        let writer = gort::go(async move {
            let _g = rw2.write().await;
            w2.store(true, Ordering::SeqCst);
        });
        // Wait (bounded) until the writer has announced itself: then a fresh try_read fails.
        let mut announced = false;
        for _ in 0..2_000 {
            if rw.try_read().is_none() {
                announced = true;
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        assert!(announced, "the writer never started waiting");
        let (rw3, w3) = (rw.clone(), wrote.clone());
        let reader = gort::go(async move {
            let _g = rw3.read().await;
            // Writer preference: this reader came after the writer, so it gets in only after it.
            assert!(
                w3.load(Ordering::SeqCst),
                "a new reader overtook a waiting writer"
            );
        });
        drop(r1);
        writer.await.unwrap();
        reader.await.unwrap();
    });
}

#[test]
fn waitgroup_waits_for_ten_thousand_gs() {
    limited(4, async {
        let wg = WaitGroup::new();
        let n = Arc::new(AtomicUsize::new(0));
        for _ in 0..10_000 {
            wg.add(1);
            let (wg, n) = (wg.clone(), n.clone());
            drop(gort::go(async move {
                gort::yield_now().await;
                n.fetch_add(1, Ordering::SeqCst);
                wg.done();
            }));
        }
        wg.wait().await;
        assert_eq!(n.load(Ordering::SeqCst), 10_000);
        assert_eq!(wg.count(), 0);
    });
}

#[test]
fn waitgroup_wakes_several_waiters() {
    limited(2, async {
        let wg = WaitGroup::new();
        wg.add(1);
        let woken = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..5)
            .map(|_| {
                let (wg, woken) = (wg.clone(), woken.clone());
                gort::go(async move {
                    wg.wait().await;
                    woken.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        sleep(Duration::from_millis(5)).await;
        assert_eq!(woken.load(Ordering::SeqCst), 0, "wait returned before done");
        wg.done();
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(woken.load(Ordering::SeqCst), 5);
    });
}

#[test]
fn negative_waitgroup_counter_panics_with_gos_message() {
    limited(2, async {
        let wg = WaitGroup::new();
        wg.add(1);
        let wg2 = wg.clone();
        let err = gort::go(async move {
            wg2.done();
            wg2.done();
        })
        .await
        .expect_err("the second done must panic");
        let payload = err.try_into_panic().expect("a panic, not a cancellation");
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert_eq!(msg, "sync: negative WaitGroup counter");
    });
}

#[test]
fn once_runs_exactly_once_under_concurrency() {
    limited(4, async {
        let once = Arc::new(Once::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let gs: Vec<_> = (0..100)
            .map(|_| {
                let (once, calls) = (once.clone(), calls.clone());
                gort::go(async move {
                    once.call_once_async(|| async {
                        sleep(Duration::from_millis(2)).await;
                        calls.fetch_add(1, Ordering::SeqCst);
                    })
                    .await;
                    // Every caller returns only after the one call finished.
                    assert_eq!(calls.load(Ordering::SeqCst), 1);
                })
            })
            .collect();
        for g in gs {
            g.await.unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(once.is_done());
    });
}

/// Gs that each wait once on the condition, counting wake-ups; returns once all are listed.
async fn spawn_cond_waiters(
    n: usize,
    state: &Arc<(Mutex<usize>, Cond)>,
    woken: &Arc<AtomicUsize>,
) -> Vec<gort::JoinHandle<()>> {
    let gs: Vec<_> = (0..n)
        .map(|_| {
            let (state, woken) = (state.clone(), woken.clone());
            gort::go(async move {
                let (m, c) = &*state;
                let mut g = m.lock().await;
                *g += 1; // "I am about to wait", under the mutex
                let _g = c.wait(g).await;
                woken.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    // A waiter joins the list before unlocking, so once we hold the mutex and count n, all n are listed.
    for _ in 0..10_000 {
        if *state.0.lock().await == n {
            return gs;
        }
        sleep(Duration::from_millis(1)).await;
    }
    panic!("the waiters never started waiting");
}

#[test]
fn cond_broadcast_wakes_all_waiters() {
    limited(2, async {
        let state = Arc::new((Mutex::new(0usize), Cond::new()));
        let woken = Arc::new(AtomicUsize::new(0));
        let gs = spawn_cond_waiters(8, &state, &woken).await;
        state.1.broadcast();
        for g in gs {
            g.await.unwrap();
        }
        assert_eq!(woken.load(Ordering::SeqCst), 8);
    });
}

#[test]
fn cond_signal_wakes_exactly_one_waiter() {
    limited(2, async {
        let state = Arc::new((Mutex::new(0usize), Cond::new()));
        let woken = Arc::new(AtomicUsize::new(0));
        let gs = spawn_cond_waiters(3, &state, &woken).await;
        state.1.signal();
        for _ in 0..10_000 {
            if woken.load(Ordering::SeqCst) >= 1 {
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        sleep(Duration::from_millis(10)).await;
        assert_eq!(woken.load(Ordering::SeqCst), 1, "one signal, one waiter");
        state.1.broadcast();
        for g in gs {
            g.await.unwrap();
        }
        assert_eq!(woken.load(Ordering::SeqCst), 3);
    });
}

#[test]
fn cond_cancelled_waiter_passes_its_signal_on() {
    limited(1, async {
        let state = Arc::new((Mutex::new(0usize), Cond::new()));
        let woken = Arc::new(AtomicUsize::new(0));
        // The oldest waiter gives up on its own after a while. If the signal below reaches it first (the
        // usual case), it is still relocking when it gives up, and must hand the signal on.
        let st = state.clone();
        let quitter = gort::go(async move {
            let g = st.0.lock().await;
            let _ = timeout(Duration::from_millis(100), st.1.wait(g)).await;
        });
        sleep(Duration::from_millis(1)).await;
        let gs = spawn_cond_waiters(1, &state, &woken).await;
        // Hold the mutex so the quitter, if signalled, is still relocking when its timeout drops it.
        let held = state.0.lock().await;
        state.1.signal(); // goes to the quitter, the oldest waiter
        drop(quitter.await);
        drop(held);
        for g in gs {
            g.await.unwrap();
        }
        assert_eq!(woken.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn mutex_starvation_mode_hands_the_lock_to_a_starved_waiter() {
    // One P: a woken waiter cannot run between the hog's unlock and its immediate relock, so in normal
    // mode the hog would always win.
    limited(1, async {
        let m = Arc::new(Mutex::new(0u32));
        let stop = Arc::new(AtomicBool::new(false));
        let (m2, stop2) = (m.clone(), stop.clone());
        let hog = gort::go(async move {
            for _ in 0..200 {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let g = m2.lock().await;
                sleep(Duration::from_millis(2)).await; // hold it long enough to starve a waiter
                drop(g);
            }
            panic!("the waiter never got the lock");
        });
        gort::yield_now().await; // let the hog take the lock first
        let got = m.lock().await;
        assert!(
            m.starvation_handoffs() >= 1,
            "the lock reached the waiter without a hand-off"
        );
        drop(got);
        stop.store(true, Ordering::SeqCst);
        hog.await.unwrap();
        assert!(
            !m.is_starving(),
            "starvation mode ends with the last waiter"
        );
    });
}

#[test]
fn semaphore_limits_concurrency() {
    limited(4, async {
        let sem = Arc::new(Semaphore::new(3));
        let inside = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let gs: Vec<_> = (0..50)
            .map(|i| {
                let (sem, inside, max) = (sem.clone(), inside.clone(), max.clone());
                gort::go(async move {
                    for _ in 0..20 {
                        let n = 1 + i % 2;
                        let _p = sem.acquire(n).await;
                        let now = inside.fetch_add(n, Ordering::SeqCst) + n;
                        max.fetch_max(now, Ordering::SeqCst);
                        yield_a_few().await;
                        inside.fetch_sub(n, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for g in gs {
            g.await.unwrap();
        }
        let max = max.load(Ordering::SeqCst);
        assert!((1..=3).contains(&max), "max in flight {max}");
        assert_eq!(sem.available(), 3);
    });
}

#[test]
fn dropped_lock_futures_lose_no_wake_up() {
    limited(4, async {
        let m = Arc::new(Mutex::new(0u64));
        let gs: Vec<_> = (0..40)
            .map(|i| {
                let m = m.clone();
                gort::go(async move {
                    let mut done = 0;
                    for j in 0..50 {
                        if (i + j) % 3 == 0 {
                            // Give up after a very short wait: the future is dropped mid-wait.
                            if let Ok(mut g) = timeout(Duration::from_micros(50), m.lock()).await {
                                *g += 1;
                                done += 1;
                            }
                        } else {
                            let mut g = m.lock().await;
                            let v = *g;
                            gort::yield_now().await;
                            *g = v + 1;
                            done += 1;
                        }
                    }
                    done
                })
            })
            .collect();
        let mut total = 0;
        for g in gs {
            total += g.await.unwrap();
        }
        assert_eq!(*m.lock().await, total);
        assert!(!m.is_starving());
    });
}

#[test]
fn dropped_rwlock_and_semaphore_waits_leave_them_usable() {
    limited(4, async {
        let rw = Arc::new(RwLock::new(0u64));
        let sem = Arc::new(Semaphore::new(2));
        let gs: Vec<_> = (0..24)
            .map(|i| {
                let (rw, sem) = (rw.clone(), sem.clone());
                gort::go(async move {
                    for j in 0..40 {
                        let short = Duration::from_micros(30);
                        match (i + j) % 4 {
                            0 => {
                                if let Ok(mut g) = timeout(short, rw.write()).await {
                                    *g += 1;
                                    gort::yield_now().await;
                                }
                            }
                            1 => drop(timeout(short, rw.read()).await),
                            2 => {
                                if let Ok(_p) = timeout(short, sem.acquire(2)).await {
                                    gort::yield_now().await;
                                }
                            }
                            _ => {
                                let _r = rw.read().await;
                                let _p = sem.acquire(1).await;
                                gort::yield_now().await;
                            }
                        }
                    }
                })
            })
            .collect();
        for g in gs {
            g.await.unwrap();
        }
        assert!(rw.try_write().is_some(), "no reader or writer left behind");
        assert_eq!(sem.available(), 2);
    });
}
