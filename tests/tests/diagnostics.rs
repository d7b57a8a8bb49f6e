//! When a program goes wrong (design.md): deadlock detection (Go's `checkdead`), goroutine dumps
//! (on a deadlock, on SIGQUIT, `gort::debug::dump`), `GORTTRACEBACK`, panics that name their G, and
//! named and system Gs.
//!
//! A deadlock or a SIGQUIT ends the process, so each program runs as a child: this test binary run
//! again with `--exact diag_child --ignored` and `GORT_DIAG_CASE=<case>`; the parent asserts the
//! exit status, the message and the dump. A child prints `SITE <file>:<line>` for the spawn whose
//! `created by` line the parent checks.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use gort::chan::channel;
use gort::sync::WaitGroup;

const CASE: &str = "GORT_DIAG_CASE";

fn child(case: &str) -> Command {
    let mut c = Command::new(std::env::current_exe().expect("test binary"));
    c.args([
        "--exact",
        "diag_child",
        "--ignored",
        "--test-threads=1",
        "--nocapture",
    ])
    .env(CASE, case)
    .env_remove("GORTDEBUG")
    .env_remove("GORTTRACEBACK");
    c
}

/// Run a child to its end, killing it (and failing) after 60 s.
fn wait_bounded(mut c: Command) -> Output {
    let p = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child");
    tests::wait_child_within(p, Duration::from_secs(60))
}

fn run_case(case: &str) -> (Option<i32>, String, String) {
    run_with(child(case))
}

fn run_with(c: Command) -> (Option<i32>, String, String) {
    let out = wait_bounded(c);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `SITE file:line` the child printed.
fn site(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.split_once("SITE ").map(|(_, s)| s))
        .unwrap_or_else(|| panic!("the child printed no SITE line: {stdout}"))
        .to_string()
}

const DEADLOCK: &str = "fatal error: all goroutines are asleep - deadlock!";

// ---- deadlocks are reported ----------------------------------------------------------------------

#[test]
fn an_unbuffered_send_with_no_receiver_is_a_deadlock_with_exit_status_2() {
    let (code, out, err) = run_case("unbuffered_send");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with(DEADLOCK), "{err}");
    // The main G, named and with the `run` call as its spawn site; no parent.
    assert!(
        err.contains("\ngoroutine 1 [chan send]:\nname: main\n"),
        "{err}"
    );
    assert!(
        err.contains(&format!("created by {}:", site(&out))),
        "the main G's site: {err}"
    );
}

/// A deadlocked program traced with `GORTTRACE` leaves a whole trace of the moment it stopped: the
/// exit-2 path writes the trace before the process ends.
#[test]
fn a_deadlock_leaves_a_loadable_trace() {
    let path = std::env::temp_dir().join(format!("gort-deadlock-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut c = child("unbuffered_send");
    c.env("GORTTRACE", &path);
    let (code, _, err) = run_with(c);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with(DEADLOCK), "{err}");
    let text = std::fs::read_to_string(&path).expect("the trace file");
    let _ = std::fs::remove_file(&path);
    let v: serde_json::Value = serde_json::from_str(&text).expect("the trace is whole JSON");
    let events = v["traceEvents"]
        .as_array()
        .or(v.as_array())
        .expect("events");
    assert!(
        events.iter().any(|e| e["cat"] == "g"),
        "no G ran in the trace: {} events",
        events.len()
    );
}

#[test]
fn a_channel_nobody_closes_shows_the_receiver_and_its_named_producers_are_gone() {
    let (code, out, err) = run_case("forgot_close");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with(DEADLOCK), "{err}");
    assert!(err.contains("[chan receive]:\nname: main\n"), "{err}");
    // The named G that still waits, with its spawn site and parent.
    let want = format!(
        "[chan receive]:\nname: stuck worker\ncreated by {}:",
        site(&out)
    );
    assert!(err.contains(&want), "{want:?} in {err}");
    assert!(err.contains(" in goroutine 1\n"), "{err}");
}

#[test]
fn a_waitgroup_never_done_is_a_deadlock_in_sync_waitgroup_wait() {
    let (code, _, err) = run_case("waitgroup");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("goroutine 1 [sync.WaitGroup.Wait]:\nname: main\n"),
        "{err}"
    );
}

#[test]
fn a_waker_carried_to_a_std_thread_is_not_seen_as_go_does_not_see_c_threads() {
    // The rule (design.md): a gort channel's sender moved to a plain thread is invisible, so the
    // receiver is reported even though the thread would send later.
    let (code, _, err) = run_case("foreign_sender");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("[chan receive]:"), "{err}");
}

#[test]
fn checkdead_0_and_builder_checkdead_false_let_that_program_finish() {
    let mut c = child("foreign_sender");
    c.env("GORTDEBUG", "checkdead=0");
    let (code, out, err) = run_with(c);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("got 7"), "{out}");
    let (code, out, err) = run_case("foreign_sender_builder_off");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("got 7"), "{out}");
}

#[test]
fn gorttraceback_none_prints_the_message_without_goroutines() {
    let mut c = child("unbuffered_send");
    c.env("GORTTRACEBACK", "none");
    let (code, _, err) = run_with(c);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(DEADLOCK), "{err}");
    assert!(!err.contains("goroutine 1 ["), "{err}");
}

#[test]
fn the_signal_reader_left_parked_by_a_dropped_listener_does_not_hide_a_deadlock() {
    // The reader is a system G waiting on its pipe (I/O); nobody listens any more, so it cannot
    // wake anyone: the main G's wait is still a deadlock, and the dump leaves the reader out.
    let (code, _, err) = run_case("dropped_listener_deadlock");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with(DEADLOCK), "{err}");
    assert!(
        err.contains("goroutine 1 [chan receive]:\nname: main\n"),
        "{err}"
    );
    assert!(
        !err.contains("signal reader"),
        "system Gs are not in a crash dump: {err}"
    );
    // ... unless GORTTRACEBACK=system asks for them, after the user's Gs.
    let mut c = child("dropped_listener_deadlock");
    c.env("GORTTRACEBACK", "system");
    let (code, _, err) = run_with(c);
    assert_eq!(code, Some(2), "{err}");
    let user = err.find("name: main\n").expect("the main G");
    let system = err
        .find("[IO wait]:\nname: signal reader (system goroutine)\n")
        .unwrap_or_else(|| panic!("the reader with GORTTRACEBACK=system: {err}"));
    assert!(user < system, "{err}");
}

// ---- and what is not a deadlock ------------------------------------------------------------------

/// Each of these waits ~300 ms on something only the world can end, while another G waits on a
/// channel forever; then the main G returns. A false positive would exit 2.
#[test]
fn waits_on_a_timer_a_socket_a_signal_a_blocking_section_a_foreign_future_another_runtime_or_a_child_are_not_deadlocks(
) {
    for case in [
        "sleep",
        "accept",
        "signal",
        "blocking",
        "foreign_future",
        "other_runtime",
        "child_process",
    ] {
        let (code, out, err) = run_case(case);
        assert_eq!(code, Some(0), "{case}: {err}");
        assert!(out.contains("done"), "{case}: {out}");
        assert!(!err.contains("deadlock"), "{case}: {err}");
    }
}

// ---- SIGQUIT -------------------------------------------------------------------------------------

/// Start the `sigquit` child, wait for its READY line, send SIGQUIT, and collect the result.
fn sigquit(case: &str) -> (Option<i32>, String, String) {
    let mut p = child(case)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = BufReader::new(p.stdout.take().expect("stdout"));
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).expect("read") == 0 {
            break;
        }
        seen.push_str(&line);
        if line.contains("READY") {
            break;
        }
    }
    assert!(seen.contains("READY"), "the child never got ready: {seen}");
    // SAFETY: kill(2) with the child's pid and a valid signal.
    unsafe { libc::kill(p.id() as i32, libc::SIGQUIT) };
    let buffered = String::from_utf8_lossy(stdout.buffer()).into_owned();
    p.stdout = Some(stdout.into_inner());
    let out = tests::wait_child_within(p, Duration::from_secs(60));
    (
        out.status.code(),
        seen + &buffered + &String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sigquit_dumps_every_goroutine_and_exits_2() {
    let (code, out, err) = sigquit("sigquit");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with("SIGQUIT: quit\n\n"), "{err}");
    assert!(err.contains("goroutine 1 [sleep]:\nname: main\n"), "{err}");
    let want = format!(
        "[chan receive]:\nname: listener\ncreated by {}:",
        site(&out)
    );
    assert!(err.contains(&want), "{want:?} in {err}");
}

#[test]
fn a_program_listening_for_sigquit_gets_it_instead_of_a_dump() {
    let (code, out, err) = sigquit("sigquit_listened");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("got Quit"), "{out}");
    assert!(!err.contains("SIGQUIT: quit"), "{err}");
}

// ---- panics --------------------------------------------------------------------------------------

#[test]
fn a_panic_names_its_g_and_by_default_the_program_carries_on() {
    let (code, out, err) = run_case("panic");
    assert_eq!(code, Some(0), "{err}");
    let want = format!(
        "panic in goroutine 2 \"doomed\" (created at {}:",
        site(&out)
    );
    assert!(err.contains(&want), "{want:?} in {err}");
    assert!(err.contains("boom"), "{err}");
    assert!(
        out.contains("joined: true"),
        "the JoinHandle got the panic: {out}"
    );
}

#[test]
fn panicexit_1_dumps_the_g_and_exits_2_as_go_does() {
    let mut c = child("panic");
    c.env("GORTDEBUG", "panicexit=1");
    let (code, out, err) = run_with(c);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("boom"), "{err}");
    assert!(
        err.contains("\ngoroutine 2 [running]:\nname: doomed\n"),
        "{err}"
    );
    // GORTTRACEBACK=single (the default): only the G that panicked.
    assert!(!err.contains("goroutine 1 ["), "{err}");
    assert!(!out.contains("joined"), "{out}");
    // GORTTRACEBACK=all: the G that panicked first, then every other user G.
    let mut c = child("panic");
    c.env("GORTDEBUG", "panicexit=1")
        .env("GORTTRACEBACK", "all");
    let (code, _, err) = run_with(c);
    assert_eq!(code, Some(2), "{err}");
    let doomed = err.find("goroutine 2 [running]:").expect("the panicking G");
    // (main is joining the G, or still on its way to park: its status is not asserted)
    let main = err.find("goroutine 1 [").expect("main");
    assert!(doomed < main, "{err}");
}

#[test]
fn a_signal_whose_listener_was_dropped_does_what_it_would_have_done() {
    let out = wait_bounded(child("dropped_listener"));
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGUSR1),
        "SIGUSR1's default action should end the child: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- dump() --------------------------------------------------------------------------------------

#[test]
fn dump_lists_user_gs_then_the_runtimes_own() {
    let d = gort::run(async {
        let sigs = gort::signal::notify(&[gort::signal::Signal::User2]);
        let (_tx, rx) = channel::<u8>(0);
        let h = gort::Go::new()
            .name("waiter")
            .spawn(async move { rx.recv().await });
        gort::time::sleep(Duration::from_millis(30)).await;
        let d = gort::debug::dump();
        h.abort();
        gort::signal::stop(&sigs);
        d
    });
    let user = d.find("name: waiter\n").expect("the named G");
    let system = d
        .find("name: signal reader (system goroutine)\n")
        .expect("the signal reader");
    assert!(user < system, "system Gs come last: {d}");
    assert!(d.contains("[running]:\nname: main\n"), "{d}");
}

// ---- the child programs --------------------------------------------------------------------------

#[test]
#[ignore = "run as a child process by the tests above"]
fn diag_child() {
    let case = std::env::var(CASE).unwrap_or_default();
    match case.as_str() {
        "unbuffered_send" => {
            println!("SITE {}:{}", file!(), line!() + 1);
            gort::run(async {
                let (tx, _rx) = channel::<u32>(0);
                let _ = tx.send(1).await; // nobody receives
            });
        }
        "forgot_close" => gort::run(async {
            // Workers each send one value; main ranges over the channel but still holds a sender,
            // so the channel never closes. One more worker waits on a channel of its own.
            let (tx, rx) = channel::<u32>(0);
            for i in 0..3 {
                let tx = tx.clone();
                gort::go(async move { tx.send(i).await.ok() });
            }
            let (_never, stuck) = channel::<()>(0);
            let named = gort::Go::new().name("stuck worker");
            println!("SITE {}:{}", file!(), line!() + 1);
            drop(named.spawn(async move { stuck.recv().await }));
            while let Some(v) = rx.recv().await {
                println!("got {v}");
            }
        }),
        "waitgroup" => gort::run(async {
            let wg = WaitGroup::new();
            wg.add(3);
            for _ in 0..2 {
                let wg = wg.clone();
                gort::go(async move { wg.done() });
            }
            wg.wait().await;
        }),
        "foreign_sender" => foreign_sender(gort::Builder::new()),
        "foreign_sender_builder_off" => foreign_sender(gort::Builder::new().checkdead(false)),
        "sleep" => gort::run(async {
            drop(forever());
            gort::time::sleep(Duration::from_millis(300)).await;
            println!("done");
        }),
        "accept" => gort::run(async {
            drop(forever());
            let l = gort::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = l.local_addr().expect("addr");
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                let _ = std::net::TcpStream::connect(addr);
            });
            let _ = l.accept().await.expect("accept");
            println!("done");
        }),
        "signal" => gort::run(async {
            drop(forever());
            let rx = gort::signal::notify(&[gort::signal::Signal::User1]);
            std::thread::spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                // SAFETY: kill(2) on our own pid with a valid signal.
                unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
            });
            let _ = rx.recv().await;
            println!("done");
        }),
        "blocking" => gort::run(async {
            drop(forever());
            let h = gort::spawn_blocking(|| std::thread::sleep(Duration::from_millis(300)));
            h.await.expect("blocking G");
            println!("done");
        }),
        "child_process" => gort::run(async {
            drop(forever());
            let status = gort::process::Command::new("sleep")
                .arg("0.3")
                .status()
                .await
                .expect("run sleep");
            assert!(status.success());
            println!("done");
        }),
        "foreign_future" => gort::run(async {
            drop(forever());
            let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
            let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let d2 = done.clone();
            std::thread::spawn(move || {
                let w = rx.recv().expect("waker");
                std::thread::sleep(Duration::from_millis(300));
                d2.store(true, std::sync::atomic::Ordering::SeqCst);
                w.wake();
            });
            let mut tx = Some(tx);
            std::future::poll_fn(|cx| {
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    return std::task::Poll::Ready(());
                }
                if let Some(tx) = tx.take() {
                    tx.send(cx.waker().clone()).expect("send the waker");
                }
                std::task::Poll::Pending
            })
            .await;
            println!("done");
        }),
        "sigquit" => gort::run(async {
            let (_tx, rx) = channel::<()>(0);
            let named = gort::Go::new().name("listener");
            println!("SITE {}:{}", file!(), line!() + 1);
            drop(named.spawn(async move { rx.recv().await }));
            // READY comes from another G once the main G sleeps, so the dump finds it parked.
            drop(gort::go(async {
                gort::time::sleep(Duration::from_millis(50)).await;
                println!("READY");
            }));
            gort::time::sleep(Duration::from_secs(30)).await;
        }),
        "sigquit_listened" => gort::run(async {
            let rx = gort::signal::notify(&[gort::signal::Signal::Quit]);
            println!("READY");
            let got = gort::time::timeout(Duration::from_secs(30), rx.recv()).await;
            println!("got {:?}", got.ok().flatten().expect("SIGQUIT delivered"));
        }),
        "panic" => gort::run(async {
            let named = gort::Go::new().name("doomed");
            println!("SITE {}:{}", file!(), line!() + 1);
            let h = named.spawn(async { panic!("boom") });
            let r: Result<(), _> = h.await;
            println!("joined: {}", r.is_err_and(|e| e.is_panic()));
        }),
        "dropped_listener" => gort::run(async {
            let rx = gort::signal::notify(&[gort::signal::Signal::User1]);
            drop(rx);
            // SAFETY: kill(2) on our own pid with a valid signal.
            unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
            gort::time::sleep(Duration::from_secs(10)).await;
            println!("survived");
        }),
        "dropped_listener_deadlock" => gort::run(async {
            let sigs = gort::signal::notify(&[gort::signal::Signal::User2]);
            // Let the reader park on its pipe, then drop the receiver without `stop`: the reader
            // stays parked (it notices at the next signal).
            gort::time::sleep(Duration::from_millis(50)).await;
            drop(sigs);
            let (_tx, rx) = channel::<()>(0);
            rx.recv().await;
        }),
        "other_runtime" => {
            // The main G joins a G of another runtime, which that runtime's Ms finish.
            let rt2 = gort::Builder::new().procs(1).build().expect("runtime");
            let h = rt2.go(async {
                gort::time::sleep(Duration::from_millis(300)).await;
                5
            });
            gort::run(async move {
                drop(forever());
                assert_eq!(h.await.expect("joined"), 5);
                println!("done");
            });
        }
        other => panic!("unknown {CASE}={other:?}"),
    }
}

/// A G that waits forever on a channel nobody else holds (beside the wait under test).
fn forever() -> gort::JoinHandle<Option<()>> {
    let (tx, rx) = channel::<()>(0);
    gort::go(async move {
        let _keep = tx;
        rx.recv().await
    })
}

/// The main G waits on a channel whose sender a plain thread holds and uses after 300 ms.
fn foreign_sender(b: gort::Builder) {
    let rt = b.build().expect("runtime");
    let (tx, rx) = channel::<u32>(1);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let _ = tx.try_send(7);
    });
    let v = rt.block_on(async move { rx.recv().await });
    println!("got {}", v.expect("a value"));
}
