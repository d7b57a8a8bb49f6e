//! The M:P:G executor: spawning, joining, stealing, panics, abort, shutdown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gort::{Builder, JoinHandle};

fn rt(procs: usize) -> gort::Runtime {
    Builder::new().procs(procs).build().expect("runtime")
}

fn spawn_100k_parents_each_awaiting_a_child(procs: usize) {
    let rt = rt(procs);
    let total = rt.block_on(async {
        let handles: Vec<JoinHandle<u64>> = (0..100_000u64)
            .map(|i| gort::go(async move { gort::go(async move { i * 2 }).await.unwrap() + 1 }))
            .collect();
        let mut total = 0u64;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    });
    let n = 100_000u64;
    assert_eq!(total, n * (n - 1) + n);
    assert_eq!(rt.stats().spawned, 200_001);
}

#[test]
fn spawn_100k_gs_each_awaiting_a_child_on_one_p() {
    spawn_100k_parents_each_awaiting_a_child(1);
}

#[test]
fn spawn_100k_gs_each_awaiting_a_child_on_two_ps() {
    spawn_100k_parents_each_awaiting_a_child(2);
}

fn tree(depth: u32) -> std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            return 1;
        }
        let l = gort::go(tree(depth - 1));
        let r = gort::go(tree(depth - 1));
        l.await.unwrap() + r.await.unwrap()
    })
}

#[test]
fn nested_spawn_tree_counts_every_leaf() {
    let leaves = rt(2).block_on(tree(12));
    assert_eq!(leaves, 4096);
}

#[test]
fn wakes_from_foreign_threads_run_the_g() {
    use std::sync::Mutex;
    use std::task::{Poll, Waker};
    // A future completed by a plain OS thread, the way a callback-based library would.
    struct Shared {
        done: bool,
        waker: Option<Waker>,
    }
    let rt = rt(2);
    let sum = rt.block_on(async {
        let mut hs = Vec::new();
        for i in 0..200u64 {
            let shared = Arc::new(Mutex::new(Shared {
                done: false,
                waker: None,
            }));
            let s2 = shared.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_micros(50 * (i % 7)));
                let mut g = s2.lock().unwrap();
                g.done = true;
                if let Some(w) = g.waker.take() {
                    w.wake();
                }
            });
            hs.push(gort::go(async move {
                std::future::poll_fn(|cx| {
                    let mut g = shared.lock().unwrap();
                    if g.done {
                        Poll::Ready(i)
                    } else {
                        g.waker = Some(cx.waker().clone());
                        Poll::Pending
                    }
                })
                .await
            }));
        }
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..200u64).sum::<u64>());
}

#[test]
fn idle_ps_steal_from_a_p_that_spawns_cpu_heavy_children() {
    let rt = rt(2);
    let results = rt.block_on(async {
        let hs: Vec<_> = (0..64u64)
            .map(|i| {
                gort::go(async move {
                    // ~1 ms of arithmetic: long enough that the spawning P cannot drain its queue
                    // before the idle P comes looking.
                    let mut x = i;
                    for k in 0..300_000u64 {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(k);
                    }
                    std::hint::black_box(x)
                })
            })
            .collect();
        let mut v = Vec::new();
        for h in hs {
            v.push(h.await.unwrap());
        }
        v
    });
    assert_eq!(results.len(), 64);
    let st = rt.stats();
    assert!(st.steals > 0, "no G was stolen: {st:?}");
}

#[test]
fn a_panicking_g_reports_through_its_handle_and_others_keep_running() {
    let rt = rt(2);
    rt.block_on(async {
        let bad = gort::go(async {
            if std::hint::black_box(true) {
                panic!("boom in a G");
            }
            1
        });
        let good = gort::go(async { 41 + 1 });
        let err = bad.await.unwrap_err();
        assert!(err.is_panic() && !err.is_cancelled());
        assert!(err.to_string().contains("boom in a G"), "{err}");
        assert_eq!(good.await.unwrap(), 42);
        // The runtime still serves new Gs after the panic.
        assert_eq!(gort::go(async { 7 }).await.unwrap(), 7);
    });
}

#[test]
fn abort_cancels_a_parked_g_and_runs_its_destructors() {
    struct Flag(Arc<AtomicUsize>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicUsize::new(0));
    let d2 = dropped.clone();
    rt(2).block_on(async move {
        let h = gort::go(async move {
            let _f = Flag(d2);
            std::future::pending::<()>().await;
        });
        gort::yield_now().await;
        h.abort();
        let err = h.await.unwrap_err();
        assert!(err.is_cancelled(), "{err}");
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[test]
fn abort_after_completion_keeps_the_output() {
    rt(1).block_on(async {
        let h = gort::go(async { 5 });
        while !h.is_finished() {
            gort::yield_now().await;
        }
        h.abort();
        assert_eq!(h.await.unwrap(), 5);
    });
}

#[test]
fn run_returning_drops_every_pending_g() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let out = gort::run(async move {
        for _ in 0..1000 {
            let c = Counted(d.clone());
            gort::go(async move {
                let _c = c;
                std::future::pending::<()>().await;
            });
        }
        "main done"
    });
    assert_eq!(out, "main done");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1000,
        "every pending G's future must be dropped"
    );
}

#[test]
fn dropped_join_handle_detaches_the_g() {
    let rt = rt(2);
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    rt.block_on(async move {
        let (tx, rx) = std::sync::mpsc::channel();
        drop(gort::go(async move {
            d.fetch_add(1, Ordering::SeqCst);
            tx.send(()).unwrap();
        }));
        gort::blocking(|| rx.recv_timeout(Duration::from_secs(10))).unwrap();
    });
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

#[test]
fn creating_and_dropping_100_runtimes_in_a_loop() {
    for i in 0..100u64 {
        let rt = rt(1 + (i as usize % 2));
        let v = rt.block_on(async move { gort::go(async move { i + 1 }).await.unwrap() });
        assert_eq!(v, i + 1);
    }
}

#[test]
fn go_outside_a_runtime_panics_naming_the_fix() {
    let err = std::panic::catch_unwind(|| {
        drop(gort::go(async {}));
    })
    .unwrap_err();
    let msg = err
        .downcast_ref::<&str>()
        .copied()
        .map(String::from)
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(
        msg.contains("outside a gort runtime") && msg.contains("gort::run"),
        "{msg}"
    );
}

#[test]
fn main_g_panic_is_reraised_by_block_on() {
    let rt = rt(1);
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            if std::hint::black_box(true) {
                panic!("main G failed");
            }
        })
    }))
    .unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"main G failed"));
    // The runtime is still usable afterwards.
    assert_eq!(rt.block_on(async { 3 }), 3);
}

#[test]
fn yield_now_lets_other_gs_run_on_one_p() {
    let order = rt(1).block_on(async {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let l2 = log.clone();
        let other = gort::go(async move { l2.lock().unwrap().push("other") });
        // The child sits in runnext; a yield puts us on the local queue behind it.
        gort::yield_now().await;
        log.lock().unwrap().push("main");
        other.await.unwrap();
        let v = log.lock().unwrap().clone();
        v
    });
    assert_eq!(order, vec!["other", "main"]);
}

#[test]
fn stats_reports_procs_and_live_goroutines() {
    let rt = rt(2);
    rt.block_on(async {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let parked: Vec<_> = (0..10)
            .map(|_| gort::go(std::future::pending::<()>()))
            .collect();
        let st = gort::stats();
        assert_eq!(st.gomaxprocs, 2);
        assert_eq!(st.local_runq.len(), 2);
        assert!(st.goroutines >= 11, "{st:?}");
        assert!(st.threads >= 1);
        for h in &parked {
            h.abort();
        }
        drop(tx);
        let _ = rx.try_recv();
    });
}

#[test]
fn procs_zero_is_a_clear_error() {
    let err = Builder::new()
        .procs(0)
        .build()
        .err()
        .expect("procs(0) must fail");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn join_error_is_send_sync_and_converts_to_io_error() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<gort::JoinError>();
    let err = rt(1).block_on(async {
        gort::go(async {
            if std::hint::black_box(true) {
                panic!("converted");
            }
        })
        .await
        .unwrap_err()
    });
    let io = std::io::Error::other(err);
    assert!(io.to_string().contains("converted"), "{io}");
}

#[test]
fn dropping_a_runtime_never_waits_for_a_pending_timer() {
    // Regression: at shutdown a single netpoll break could be consumed by one M while another M went
    // on to block in the netpoller until the earliest timer (here an hour away). A liveness check,
    // not a speed one: the drop must not wait for the timer at all.
    for _ in 0..200 {
        let rt = Builder::new().procs(4).build().unwrap();
        rt.block_on(async {
            let done = Arc::new(AtomicUsize::new(0));
            let hs: Vec<_> = (0..2_000)
                .map(|_| {
                    let done = done.clone();
                    gort::go(async move {
                        gort::yield_now().await;
                        done.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            let all = async {
                for h in hs {
                    h.await.unwrap();
                }
            };
            gort::time::timeout(Duration::from_secs(3600), all)
                .await
                .expect("joined");
            // An armed timer an hour away, for the idle Ms to sleep towards.
            drop(gort::go(gort::time::sleep(Duration::from_secs(3600))));
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(rt);
            let _ = tx.send(());
        });
        rx.recv_timeout(Duration::from_secs(30))
            .expect("Runtime::drop waited for a timer an hour away");
    }
}

/// `yield_now` is Go's `goyield` (the yielder goes to its P's local tail), and a yield is also a
/// fairness point: the P then looks at the global queue first and takes a fair batch. On one P, a G
/// yielding in a loop waits for 200 Gs woken by a plain thread (so they are on the global queue):
/// they all run within a few of its yields. Without the fairness point the global queue would only
/// be looked at every 61st schedtick, one G at a time: thousands of yields.
#[test]
fn a_yield_lets_the_global_queue_in() {
    const N: usize = 200;
    let yields = rt(1).block_on(async {
        let ran = Arc::new(AtomicUsize::new(0));
        let mut wakers = Vec::new();
        let mut es = Vec::new();
        for _ in 0..N {
            let (tx, rx) = gort::chan::channel::<()>(1);
            let ran = ran.clone();
            es.push(gort::go(async move {
                let _ = rx.recv().await;
                ran.fetch_add(1, Ordering::SeqCst);
            }));
            wakers.push(tx);
        }
        // Let every E park (they are ahead of us on the local queue).
        gort::yield_now().await;
        // Wake them from outside the runtime: a thread with no P readies onto the global queue.
        std::thread::spawn(move || {
            for tx in wakers {
                tx.try_send(()).unwrap();
            }
        })
        .join()
        .unwrap();
        let r = ran.clone();
        let y = gort::go(async move {
            let mut yields = 0;
            while r.load(Ordering::SeqCst) < N && yields < 100_000 {
                yields += 1;
                gort::yield_now().await;
            }
            yields
        });
        let yields = y.await.unwrap();
        for e in es {
            e.await.unwrap();
        }
        yields
    });
    assert!(
        yields <= 8,
        "{yields} yields before the global queue drained"
    );
}

#[test]
fn absurd_procs_is_a_clear_error_not_an_allocation_failure() {
    for n in [usize::MAX, 1 << 40, Builder::MAX_PROCS + 1] {
        let err = Builder::new()
            .procs(n)
            .build()
            .err()
            .expect("a huge procs must fail");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("procs"), "{err}");
    }
    let rt = Builder::new().procs(3).build().expect("three Ps");
    assert_eq!(rt.stats().gomaxprocs, 3);
}

const ENV_CHILD: &str = "GORT_EXECUTOR_ENV_CHILD";
const ENV_TEST: &str = "bad_environment_settings_are_reported_and_the_runtime_still_starts";

#[test]
fn bad_environment_settings_are_reported_and_the_runtime_still_starts() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    if std::env::var_os(ENV_CHILD).is_some() {
        let rt = Builder::new()
            .build()
            .expect("a runtime despite bad settings");
        println!("gomaxprocs={}", rt.stats().gomaxprocs);
        return;
    }
    let default = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(Builder::MAX_PROCS);
    let not_utf8 = OsStr::from_bytes(b"4\xff");
    let cases: [(&str, &OsStr, &str, usize); 6] = [
        ("GORTMAXPROCS", OsStr::new("abc"), "GORTMAXPROCS", default),
        ("GORTMAXPROCS", OsStr::new("0"), "GORTMAXPROCS", default),
        (
            "GORTMAXPROCS",
            OsStr::new("999999999999"),
            "MAX_PROCS",
            Builder::MAX_PROCS,
        ),
        ("GORTMAXPROCS", not_utf8, "GORTMAXPROCS", default),
        (
            "GORTDEBUG",
            OsStr::new("schedtrace=soon,bogus=1"),
            "bogus",
            default,
        ),
        ("GORTDEBUG", not_utf8, "GORTDEBUG", default),
    ];
    for (var, val, complaint, procs) in cases {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([ENV_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(ENV_CHILD, "1")
            .env_remove("GORTMAXPROCS")
            .env_remove("GORTDEBUG")
            .env(var, val)
            .output()
            .expect("run the child");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{var}={val:?}: {stderr}");
        assert!(
            stdout.contains(&format!("gomaxprocs={procs}\n")),
            "{var}={val:?}: {stdout}"
        );
        assert!(
            stderr.contains(complaint),
            "{var}={val:?} was not reported: {stderr}"
        );
    }
}
