//! Timers: per-P heaps run by the scheduler (gort::time).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_core::Stream;
use gort::time::{self, sleep, timeout};
use gort::Builder;

fn rt(procs: usize) -> gort::Runtime {
    Builder::new().procs(procs).build().expect("runtime")
}

#[test]
fn sleep_never_wakes_early() {
    rt(2).block_on(async {
        for ms in [0u64, 1, 2, 3, 5, 10, 15] {
            let d = Duration::from_millis(ms);
            let t0 = Instant::now();
            sleep(d).await;
            assert!(
                t0.elapsed() >= d,
                "sleep({ms}ms) returned after {:?}",
                t0.elapsed()
            );
        }
    });
}

#[test]
fn timers_fire_in_deadline_order() {
    // One P, so the only ordering is the timers': Gs woken by one batch of expired timers are queued
    // in deadline order.
    let order = rt(1).block_on(async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut hs = Vec::new();
        for k in [7u64, 2, 9, 4, 1, 8, 3, 6, 5, 0] {
            let log = log.clone();
            hs.push(gort::go(async move {
                sleep(Duration::from_millis(3 * k)).await;
                log.lock().unwrap().push(k);
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
        let v = log.lock().unwrap().clone();
        v
    });
    assert_eq!(order, (0..10).collect::<Vec<_>>());
}

#[test]
fn ten_thousand_concurrent_sleeps_complete() {
    let done = rt(2).block_on(async {
        let done = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..10_000u64)
            .map(|i| {
                let done = done.clone();
                gort::go(async move {
                    let d = Duration::from_micros(100 + (i * 7919) % 30_000);
                    let t0 = Instant::now();
                    sleep(d).await;
                    assert!(t0.elapsed() >= d);
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        done.load(Ordering::SeqCst)
    });
    assert_eq!(done, 10_000);
}

#[test]
fn timeout_fires_on_a_pending_future_and_passes_a_ready_one() {
    rt(2).block_on(async {
        let r = timeout(Duration::from_millis(10), std::future::pending::<()>()).await;
        assert_eq!(r.unwrap_err().to_string(), "deadline has elapsed");
        let r = timeout(Duration::from_secs(10), async { 5 }).await;
        assert_eq!(r, Ok(5));
    });
}

#[test]
fn dropping_a_pending_sleep_cancels_it() {
    rt(1).block_on(async {
        // Many abandoned long sleeps, then a short one: the short one must still fire on time, and
        // the abandoned ones must not wake anything.
        for _ in 0..1000 {
            let _ = timeout(Duration::from_micros(10), sleep(Duration::from_secs(3600))).await;
        }
        let t0 = Instant::now();
        sleep(Duration::from_millis(2)).await;
        assert!(t0.elapsed() >= Duration::from_millis(2));
    });
}

#[test]
fn ticker_drops_missed_ticks_instead_of_bunching_them() {
    rt(1).block_on(async {
        let period = Duration::from_millis(10);
        let mut t = time::tick(period);
        let first = t.tick().await;
        // Fall five periods behind.
        gort::blocking(|| std::thread::sleep(period * 5 + Duration::from_millis(3)));
        let stalled_until = Instant::now();
        let late = t.tick().await; // the one overdue tick is delivered...
        assert!(late < stalled_until);
        let next = t.tick().await; // ...but the missed ones are skipped, not delivered in a burst
        assert!(
            next >= stalled_until,
            "ticks were bunched: {next:?} < {stalled_until:?}"
        );
        // Ticks stay on the original grid.
        let offset = next.duration_since(first).as_nanos() % period.as_nanos();
        assert_eq!(offset, 0);
    });
}

#[test]
fn ticker_is_a_stream() {
    rt(1).block_on(async {
        let mut t = time::tick(Duration::from_millis(1));
        let mut n = 0;
        while n < 3 {
            let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut t).poll_next(cx)).await;
            assert!(next.is_some());
            n += 1;
        }
    });
}

#[test]
fn after_func_runs_in_its_own_g_and_stop_prevents_it() {
    rt(2).block_on(async {
        let (tx, rx) = std::sync::mpsc::channel();
        let tx2 = tx.clone();
        let fired = time::after_func(Duration::from_millis(1), move || tx.send("fired").unwrap());
        let stopped = time::after_func(Duration::from_millis(1), move || {
            tx2.send("stopped").unwrap()
        });
        assert!(stopped.stop());
        assert!(
            !stopped.stop(),
            "second stop reports it was already stopped"
        );
        let got = gort::blocking(|| rx.recv_timeout(Duration::from_secs(10))).unwrap();
        assert_eq!(got, "fired");
        assert!(!fired.stop(), "a fired timer cannot be stopped");
        sleep(Duration::from_millis(5)).await;
        assert!(rx.try_recv().is_err(), "the stopped timer fired");
    });
}

#[test]
fn after_delivers_one_instant_no_earlier_than_its_deadline() {
    rt(2).block_on(async {
        let t0 = Instant::now();
        let rx = time::after(Duration::from_millis(3));
        let at = rx.recv().await.expect("after sends once");
        assert!(at.duration_since(t0) >= Duration::from_millis(3));
        assert!(t0.elapsed() >= Duration::from_millis(3));
        assert!(rx.try_recv().is_err(), "after sends exactly one value");
    });
}

#[test]
fn after_is_a_select_arm_that_times_out_a_silent_channel() {
    rt(1).block_on(async {
        let (tx, rx) = gort::chan::channel::<u8>(0);
        let mut timeouts = 0;
        for _ in 0..5 {
            gort::select! {
                recv(rx) -> _ => panic!("nothing was sent"),
                recv(time::after(Duration::from_millis(1))) -> _ => timeouts += 1,
            }
        }
        assert_eq!(timeouts, 5);
        drop(tx);
    });
}

#[test]
fn huge_durations_mean_never_instead_of_panicking() {
    // `Duration::MAX` is the natural "no timeout": Go saturates a timer's `when` the same way.
    rt(1).block_on(async {
        assert_eq!(timeout(Duration::MAX, async { 5 }).await, Ok(5));
        let never = sleep(Duration::MAX);
        assert!(!never.is_elapsed());
        let r = timeout(Duration::from_millis(2), never).await;
        assert!(r.is_err(), "a Duration::MAX sleep finished");
        let rx = time::after(Duration::MAX);
        assert!(rx.try_recv().is_err());
        let t = time::after_func(Duration::MAX, || panic!("a Duration::MAX timer fired"));
        assert!(t.stop());
        let mut ticker = time::tick(Duration::MAX);
        let r = timeout(Duration::from_millis(2), ticker.tick()).await;
        assert!(r.is_err(), "a Duration::MAX ticker ticked");
        ticker.reset(Duration::MAX);
        let (ctx, _cancel) =
            gort::context::with_timeout(&gort::context::background(), Duration::MAX);
        assert!(ctx.err().is_none());
    });
}

#[test]
fn a_deadline_past_the_timer_clock_range_parks_instead_of_spinning() {
    // 2^64 ns from now: a timer clock that wraps at 64 bits would read it as "now" and fire at once,
    // forever, because the sleep re-arms on every early wake-up.
    let wrap = Duration::new(18_446_744_073, 709_551_616);
    let polls = rt(1).block_on(async move {
        let polls = Arc::new(AtomicUsize::new(0));
        let counted = polls.clone();
        let mut far = Box::pin(time::sleep_until(Instant::now() + wrap));
        let g = gort::go(std::future::poll_fn(move |cx| {
            counted.fetch_add(1, Ordering::Relaxed);
            far.as_mut().poll(cx)
        }));
        sleep(Duration::from_millis(20)).await;
        g.abort();
        polls.load(Ordering::Relaxed)
    });
    assert!(
        polls <= 3,
        "the far sleep was polled {polls} times in 20 ms"
    );
}

#[test]
#[allow(clippy::async_yields_async)] // the armed sleep is handed out, to be awaited elsewhere
fn a_sleep_armed_in_a_runtime_that_is_gone_rearms_in_the_one_awaiting_it() {
    let mut armed = rt(1).block_on(async {
        let mut s = Box::pin(sleep(Duration::from_millis(30)));
        std::future::poll_fn(|cx| {
            assert!(s.as_mut().poll(cx).is_pending()); // arms the timer on this runtime's P
            std::task::Poll::Ready(())
        })
        .await;
        s
    });
    // That runtime is dropped with its timers: awaiting the sleep elsewhere must still end.
    rt(1).block_on(tests::bounded(5, async move { armed.as_mut().await }));
}

/// Go 1.23's fix for `time.After` in a loop: a `select!` that loses its `after(1h)` arm drops the
/// receiver, and that timer must not stay in the heap for the hour (sched/timer.rs: `sweep`).
#[test]
fn a_select_loop_over_time_after_does_not_pile_up_timers() {
    const ROUNDS: usize = 20_000;
    rt(2).block_on(async {
        let (tx, rx) = gort::chan::channel::<usize>(1);
        for i in 0..ROUNDS {
            tx.try_send(i).unwrap();
            let got = gort::select! {
                recv(rx) -> v => v,
                recv(time::after(Duration::from_secs(3600))) -> _ => None,
            };
            assert_eq!(got, Some(i));
        }
        let timers: usize = gort::stats().timers.iter().sum();
        // Without the sweep this is ROUNDS; with it, at most a heap's sweep threshold per P.
        assert!(timers < 1000, "{timers} timers left after {ROUNDS} rounds");
        // A timer whose receiver is kept still fires.
        let kept = time::after(Duration::from_millis(5));
        for _ in 0..200 {
            let _drop_me = time::after(Duration::from_secs(3600));
        }
        assert!(kept.recv().await.is_some());
    });
}
