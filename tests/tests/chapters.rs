//! The chapter programs (`examples/src/chapters/`), run small: each test runs one program's library
//! function and checks what it reports. Bounded by data and by a watchdog; no assertion depends on
//! how fast anything runs. The signals program has its own binary
//! (`chapter_signals.rs`): signals are process-wide.

use std::future::Future;
use std::time::Duration;

use examples::chapters::{
    actor, backpressure, channel_of_channels, command_context, echo_tcp, echo_unix, exec_pipeline,
    future_promise, parallel_for, prime_sieve, producer_consumer, select_timeout, sync_primitives,
    udp_multicast, uds_vs_tcp, watch_dir, worker_pool,
};
use tests::run_within;

/// A hang is a failure, not a stuck test run.
const LIMIT: Duration = Duration::from_secs(60);

/// Run `fut` as the main G of a fresh runtime with `procs` Ps, failing the test if it has not
/// finished within `LIMIT` (see `tests::run_within`). A panic inside the program fails the test with
/// its message.
fn run<F>(procs: usize, fut: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    run_within(procs, LIMIT, fut)
}

#[test]
fn producer_consumer_delivers_every_value_exactly_once() {
    for (procs, cap) in [(1, 0), (1, 8), (2, 0), (2, 8)] {
        let r = run(procs, producer_consumer::producer_consumer(3, 4, 500, cap));
        assert!(
            r.values.iter().copied().eq(0..1500),
            "procs {procs} cap {cap}: values lost or duplicated"
        );
        assert_eq!(r.received.len(), 4);
        assert_eq!(r.received.iter().map(Vec::len).sum::<usize>(), 1500);
    }
}

#[test]
fn channel_of_channels_answers_each_request_on_its_own_reply_channel() {
    let r = run(2, channel_of_channels::channel_of_channels(5, 40));
    assert_eq!(r.served, 200);
    assert_eq!(r.answers.len(), 200);
    for (i, &(n, answer)) in r.answers.iter().enumerate() {
        assert_eq!(n, i as u64);
        assert_eq!(answer, Some(n * n), "request {n} got someone else's answer");
    }
}

#[test]
fn backpressure_blocks_the_producer_once_the_buffer_is_full() {
    // One P: the consumer cannot run while the producer fills the buffer, so the first `cap` sends
    // find room and the next one must park.
    let r = run(
        1,
        backpressure::backpressure(12, 4, Duration::from_millis(1)),
    );
    let blocked: Vec<bool> = r.sends.iter().map(|s| s.blocked).collect();
    assert_eq!(blocked[..4], [false; 4], "a send blocked with room left");
    assert!(blocked[4], "the fifth send found room in a full buffer");
    assert!(r.received.iter().copied().eq(0..12));
}

#[test]
fn backpressure_keeps_the_producer_within_the_buffer_of_its_consumer() {
    let r = run(
        2,
        backpressure::backpressure(24, 4, Duration::from_millis(2)),
    );
    assert_eq!(r.sends.len(), 24);
    assert!(r.sends.iter().all(|s| s.buffered <= 4));
    // 24 values through 4 slots to a consumer that sleeps before each receive: the producer must
    // have found the buffer full at least once.
    assert!(r.blocked() >= 1, "the producer never blocked");
    assert!(r.received.iter().copied().eq(0..24));
}

#[test]
fn parallel_for_chunks_cover_the_range_in_order_without_gaps() {
    for (n, parts) in [(0, 3), (10, 3), (10, 10), (7, 20), (1000, 1)] {
        let c = parallel_for::chunks(n, parts);
        assert_eq!(c.first().map(|r| r.0), Some(0));
        assert_eq!(c.last().map(|r| r.1), Some(n));
        assert!(c.windows(2).all(|w| w[0].1 == w[1].0));
    }
}

#[test]
fn parallel_for_sums_the_same_as_a_sequential_loop() {
    let n = 20_000;
    let seq = (0..n).fold(0u64, |s, i| s.wrapping_add(parallel_for::work(i)));
    for procs in [1, 2] {
        let r = run(procs, parallel_for::parallel_for(n, 7));
        assert_eq!(r.sum, seq, "procs {procs}");
        let ranges: Vec<_> = r.chunks.iter().map(|c| c.0).collect();
        assert_eq!(ranges, parallel_for::chunks(n, 7));
    }
}

#[test]
fn worker_pool_runs_every_job_exactly_once() {
    for workers in [1, 3, 8] {
        let done = run(2, worker_pool::worker_pool(300, workers));
        assert!(
            done.iter().map(|d| d.job).eq(0..300),
            "{workers} workers: a job was lost or run twice"
        );
        assert!(done.iter().all(|d| d.worker < workers));
        assert!(done
            .iter()
            .all(|d| d.answer == worker_pool::digit_sum(d.job)));
    }
}

#[test]
fn worker_pool_digit_sum_is_right() {
    assert_eq!(worker_pool::digit_sum(0), 0);
    assert_eq!(worker_pool::digit_sum(9), 9);
    assert_eq!(worker_pool::digit_sum(1234), 10);
}

#[test]
fn future_promise_delivers_each_value_to_its_caller() {
    let r = run(2, async {
        future_promise::future_promise(&[10, 15, 20], 12).await
    });
    assert_eq!(r.values, [(10, 55), (15, 610), (20, 6765)]);
    assert_eq!(r.own, (12, 144));
    assert!(r.ready_early <= 3);
}

#[test]
fn a_promise_keeps_its_value_after_its_g_has_exited() {
    let v = run(1, async {
        let rx = future_promise::promise(|| 7u32);
        // Wait until the computing G is gone (its sender dropped) before receiving.
        while !rx.is_closed() {
            gort::yield_now().await;
        }
        rx.recv().await
    });
    assert_eq!(v, Some(7));
}

#[test]
fn actor_books_match_the_clients_tally() {
    let r = run(2, actor::actor(6, 200, 50));
    let b = r.books;
    assert_eq!(b.deposited, r.deposited);
    assert_eq!(b.withdrawn, r.withdrawn);
    assert_eq!(b.rejected, r.rejected);
    assert_eq!(b.balance, r.initial + r.deposited - r.withdrawn);
    assert_eq!(r.last_balance, b.balance);
    // The mix is 2 deposits of 10 for each withdrawal of 25, starting low: some must be refused.
    assert!(r.rejected > 0, "no withdrawal was ever refused");
}

#[test]
fn actor_refuses_an_overdraft_and_keeps_the_balance() {
    let (ok, refused, balance) = run(1, async {
        let (account, g) = actor::Account::spawn(30);
        let ok = account.withdraw(20).await;
        let refused = account.withdraw(20).await;
        let balance = account.balance().await;
        drop(account);
        let _ = g.await;
        (ok, refused, balance)
    });
    assert_eq!(ok, Some(Ok(10)));
    assert_eq!(refused, Some(Err(actor::Insufficient(10))));
    assert_eq!(balance, Some(10));
}

fn first_primes(n: usize) -> Vec<u64> {
    (2u64..)
        .filter(|&k| (2..k).take_while(|d| d * d <= k).all(|d| k % d != 0))
        .take(n)
        .collect()
}

#[test]
fn prime_sieve_finds_the_first_100_primes() {
    for procs in [1, 2] {
        let primes = run(procs, prime_sieve::prime_sieve(100));
        assert_eq!(primes, first_primes(100), "procs {procs}");
        assert_eq!(primes[99], 541);
    }
}

#[test]
fn prime_sieve_leaves_no_g_behind() {
    let alive = run(2, async {
        let primes = prime_sieve::prime_sieve(50).await;
        assert_eq!(primes.len(), 50);
        // The stages return on their own schedule after `done` closes: wait, boundedly.
        for _ in 0..5000 {
            if gort::stats().goroutines == 1 {
                break;
            }
            gort::time::sleep(Duration::from_millis(1)).await;
        }
        gort::stats().goroutines
    });
    assert_eq!(alive, 1, "filter Gs still alive after the sieve returned");
}

#[test]
fn select_takes_the_first_replica_that_answers() {
    use select_timeout::{first_answer, Outcome};
    let slow = Some(Duration::from_secs(2));
    let out = run(
        2,
        first_answer(
            vec![slow, Some(Duration::ZERO), None],
            Duration::from_secs(10),
        ),
    );
    assert!(
        matches!(out, Outcome::Answered { replica: 1, .. }),
        "{out:?}"
    );
}

#[test]
fn select_times_out_when_no_replica_answers_in_time() {
    use select_timeout::{first_answer, Outcome};
    let slow = Some(Duration::from_secs(2));
    let out = run(2, first_answer(vec![slow, slow], Duration::from_millis(1)));
    assert_eq!(out, Outcome::TimedOut);
}

#[test]
fn select_reports_no_answer_when_every_replica_fails() {
    use select_timeout::{first_answer, Outcome};
    let out = run(
        2,
        first_answer(vec![None, None, None], Duration::from_secs(10)),
    );
    assert_eq!(out, Outcome::NoAnswer);
}

#[test]
fn closing_done_stops_the_worker_after_exactly_the_items_it_was_handed() {
    for procs in [1, 2] {
        let (processed, why) = run(procs, select_timeout::work_until_done(100));
        assert_eq!(processed, 100);
        assert_eq!(why, "done was closed");
    }
}

#[test]
fn a_context_deadline_stops_the_worker_with_deadline_exceeded() {
    let (_jobs, err) = run(
        2,
        select_timeout::work_until_deadline(Duration::from_millis(20), Duration::from_millis(1)),
    );
    assert_eq!(err, Some(gort::context::ContextError::DeadlineExceeded));
}

#[test]
fn sync_primitives_initialise_once_wake_every_waiter_and_lose_no_increment() {
    for procs in [1, 2] {
        let r = run(procs, sync_primitives::sync_primitives(8, 500));
        assert_eq!(r.counter, 8 * 500, "procs {procs}: increments lost");
        assert_eq!(r.inits, 1, "procs {procs}: the Once ran {} times", r.inits);
        assert_eq!(
            r.woken_at_gate, 8,
            "procs {procs}: a runner was not waiting on the Cond when the gate opened"
        );
    }
}

#[test]
fn echo_tcp_returns_every_byte_exactly() {
    for size in [1, 1000, 32 * 1024] {
        let r = run(2, echo_tcp::demo(4, 10, size)).expect("echo over TCP");
        assert_eq!(r.round_trips, 40);
        assert_eq!(r.bytes, 40 * size as u64);
        assert_eq!(
            r.mismatches, 0,
            "size {size}: a reply differed from its request"
        );
    }
}

#[test]
fn echo_unix_returns_every_byte_exactly_and_removes_its_socket() {
    for size in [1, 1000, 32 * 1024] {
        let path = echo_unix::temp_path(&format!("test-echo-{size}"));
        let r = run(2, echo_unix::demo(path.clone(), 4, 10, size)).expect("echo over UDS");
        assert_eq!(r.round_trips, 40);
        assert_eq!(r.bytes, 40 * size as u64);
        assert_eq!(
            r.mismatches, 0,
            "size {size}: a reply differed from its request"
        );
        assert!(!path.exists(), "the socket file was left behind");
    }
}

#[test]
fn echo_unix_replaces_a_stale_socket_file_but_not_a_regular_file() {
    let path = echo_unix::temp_path("test-stale");
    let stale = std::os::unix::net::UnixListener::bind(&path).expect("stale socket");
    drop(stale); // the file stays, as after a crash
    let r = run(1, echo_unix::demo(path.clone(), 1, 1, 10)).expect("echo after a stale file");
    assert_eq!(r.mismatches, 0);

    let file = echo_unix::temp_path("test-regular");
    std::fs::write(&file, b"not a socket").expect("regular file");
    let f2 = file.clone();
    let bound = run(1, async move { echo_unix::listen(&f2).map(drop) });
    assert!(bound.is_err(), "bound over a regular file");
    assert_eq!(std::fs::read(&file).expect("file kept"), b"not a socket");
    let _ = std::fs::remove_file(&file);
}

#[test]
fn uds_vs_tcp_completes_every_round_trip_on_both() {
    let path = echo_unix::temp_path("test-uds-vs-tcp");
    let r = run(2, uds_vs_tcp::compare(300, path.clone())).expect("both transports");
    assert_eq!(r.tcp.round_trips, 300);
    assert_eq!(r.uds.round_trips, 300);
    assert!(!path.exists());
}

#[test]
fn multicast_tick_parses_what_it_encodes_and_nothing_else() {
    use udp_multicast::Tick;
    let t = Tick {
        seq: 42,
        unix_micros: 1_700_000_000_123_456,
    };
    assert_eq!(Tick::parse(t.encode().as_bytes()), Some(t));
    for junk in [
        "",
        "tick",
        "tick 1",
        "tock 1 2",
        "tick 1 2 3",
        "tick x 2",
        "\u{ff}",
    ] {
        assert_eq!(Tick::parse(junk.as_bytes()), None, "{junk:?}");
    }
}

#[test]
fn multicast_listener_refuses_a_group_that_is_not_multicast() {
    let r = run(1, async {
        udp_multicast::listener("127.0.0.1".parse().expect("ip"), 0, udp_multicast::IFACE).map(drop)
    });
    assert!(matches!(r, Err(udp_multicast::McError::Other(_))), "{r:?}");
}

#[test]
fn multicast_ticks_reach_a_listener_on_loopback() {
    use udp_multicast::{demo, McError, GROUP, IFACE};
    match run(2, demo(GROUP, IFACE, Duration::from_millis(5), 5)) {
        Ok(got) => {
            assert!(!got.is_empty());
            assert!(got.len() <= 5);
            // In order, no duplicates, from the loopback interface.
            assert!(got.windows(2).all(|w| w[0].tick.seq < w[1].tick.seq));
            assert!(got.iter().all(|r| r.tick.seq < 5));
            assert!(got
                .iter()
                .all(|r| r.from.ip() == std::net::IpAddr::V4(IFACE)));
        }
        Err(McError::Unavailable(why)) => {
            eprintln!("SKIPPED multicast_ticks_reach_a_listener_on_loopback: {why}");
        }
        Err(McError::Other(e)) => panic!("multicast failed: {e}"),
    }
}

#[test]
fn exec_pipeline_wires_ls_sort_and_head_like_a_shell() {
    let dir = std::env::temp_dir().join(format!("gort-chapter-pipeline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..10 {
        std::fs::write(dir.join(format!("f{i:02}")), b"").unwrap();
    }
    let d = dir.clone();
    let p = run(2, async move {
        exec_pipeline::exec_pipeline(&d, 3).await.unwrap()
    });
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(p.lines, ["f09", "f08", "f07"]);
    let names: Vec<&str> = p.statuses.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["ls", "sort", "head"]);
    assert!(p.statuses[0].1.success() && p.statuses[2].1.success());
    // sort may be killed by SIGPIPE if head stops reading first, as in a shell.
    let sort = p.statuses[1].1;
    assert!(sort.success() || std::os::unix::process::ExitStatusExt::signal(&sort) == Some(13));
}

#[test]
fn command_context_kills_only_the_child_that_outlives_its_deadline() {
    let [quick, slow] = run(
        2,
        command_context::command_context(
            Duration::from_millis(300),
            Duration::from_millis(10),
            Duration::from_secs(10),
        ),
    )
    .unwrap();
    assert!(quick.status.success());
    assert_eq!(quick.ctx_err, None);
    assert_eq!(slow.signal, Some(9));
    assert_eq!(
        slow.ctx_err,
        Some(gort::context::ContextError::DeadlineExceeded)
    );
}

#[test]
fn watch_dir_reports_each_change_with_its_name() {
    use gort::fs::watch::EventKind::*;
    let dir = std::env::temp_dir().join(format!("gort-chapter-watch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.clone();
    let events = run(2, async move {
        let (tx, rx) = gort::chan::channel(64);
        let watcher = gort::go(watch_dir::watch_dir(d.clone(), Duration::from_secs(1), tx));
        gort::time::sleep(Duration::from_millis(50)).await; // let it add its watch
        watch_dir::make_changes(&d, Duration::from_millis(1))
            .await
            .unwrap();
        let mut events = Vec::new();
        while let Some(ev) = rx.recv().await {
            events.push((ev.kind, ev.name.unwrap().to_string_lossy().into_owned()));
        }
        assert_eq!(watcher.await.unwrap().unwrap(), events.len());
        events
    });
    std::fs::remove_dir_all(&dir).unwrap();
    let want = [
        (Create, "notes.txt"),
        (Modify, "notes.txt"),
        (CloseWrite, "notes.txt"),
        (MovedFrom, "notes.txt"),
        (MovedTo, "notes.old"),
        (Create, "tmp"),
        (Delete, "tmp"),
        (Delete, "notes.old"),
    ];
    let got: Vec<_> = events.iter().map(|(k, n)| (*k, n.as_str())).collect();
    assert_eq!(got, want);
}
