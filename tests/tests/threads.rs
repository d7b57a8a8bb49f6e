//! No thread is left behind once a runtime is dropped. Its own test binary: the thread count of the
//! process must not be disturbed by other tests running in parallel.

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn dropping_a_runtime_joins_every_thread_it_started() {
    if threads() == 0 {
        eprintln!("skipping: /proc/self/task is not available on this OS");
        return;
    }
    // The first runtime of a process starts the one process-wide thread that prints the SIGQUIT
    // dump (`gort::debug`), as the first `notify` makes the signal pipe: count from after it.
    drop(gort::Builder::new().procs(1).build().unwrap());
    let before = threads();
    for procs in [1, 2, 4] {
        let rt = gort::Builder::new().procs(procs).build().unwrap();
        rt.block_on(async {
            let hs: Vec<_> = (0..1000).map(|i| gort::go(async move { i })).collect();
            for h in hs {
                h.await.unwrap();
            }
            // A blocking section makes sysmon hand the P off, starting extra Ms.
            gort::blocking(|| std::thread::sleep(std::time::Duration::from_millis(30)));
        });
        assert!(rt.stats().threads >= 2, "sysmon and at least one M");
        drop(rt);
        assert_eq!(threads(), before, "threads leaked with procs={procs}");
    }
}
