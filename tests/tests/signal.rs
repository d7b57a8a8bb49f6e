//! gort::signal: signals delivered through the netpoller as channel values. Signals are
//! process-wide, so this is its own test binary and the tests take turns (SERIAL).

use std::sync::Mutex;
use std::time::Duration;

use gort::signal::{self, Signal};
use gort::time::timeout;
use gort::Builder;
use tests::{is_default, raise};

static SERIAL: Mutex<()> = Mutex::new(());

fn rt() -> gort::Runtime {
    Builder::new().procs(2).build().unwrap()
}

#[test]
fn notify_delivers_a_signal_sent_to_this_process() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    rt().block_on(async {
        let rx = signal::notify(&[Signal::User1]);
        raise(libc::SIGUSR1);
        let got = timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("delivered");
        assert_eq!(got, Some(Signal::User1));
        signal::stop(&rx);
    });
}

#[test]
fn every_listener_of_a_signal_receives_it_and_others_do_not() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    rt().block_on(async {
        let a = signal::notify(&[Signal::User2]);
        let b = signal::notify(&[Signal::User2, Signal::Hangup]);
        let other = signal::notify(&[Signal::Hangup]);
        raise(libc::SIGUSR2);
        for rx in [&a, &b] {
            let got = timeout(Duration::from_secs(10), rx.recv())
                .await
                .expect("delivered");
            assert_eq!(got, Some(Signal::User2));
        }
        // Give the reader time to have delivered anything it would have delivered.
        gort::time::sleep(Duration::from_millis(20)).await;
        assert!(
            other.try_recv().is_err(),
            "a SIGHUP listener received SIGUSR2"
        );
        for rx in [&a, &b, &other] {
            signal::stop(rx);
        }
    });
}

#[test]
fn the_last_listener_leaving_restores_the_default_disposition() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    assert!(is_default(libc::SIGUSR1));
    rt().block_on(async {
        let a = signal::notify(&[Signal::User1]);
        let b = signal::notify(&[Signal::User1]);
        assert!(!is_default(libc::SIGUSR1));
        signal::stop(&a);
        assert!(!is_default(libc::SIGUSR1), "b still listens");
        // Dropping the receiver without `stop` is noticed lazily: at the next delivery, or the next
        // `notify`/`stop` (the reader no longer wakes periodically to look).
        drop(b);
        let c = signal::notify(&[Signal::User2]);
        assert!(
            is_default(libc::SIGUSR1),
            "dropping the last listener did not restore SIG_DFL"
        );
        signal::stop(&c);
        assert!(is_default(libc::SIGUSR2));
    });
}

#[test]
fn ctrl_c_returns_on_sigint_and_a_signal_is_a_select_arm() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    rt().block_on(async {
        let c = signal::ctrl_c();
        raise(libc::SIGINT);
        timeout(Duration::from_secs(10), c)
            .await
            .expect("ctrl_c returned");
        assert!(
            is_default(libc::SIGINT),
            "ctrl_c restores SIGINT's disposition when done"
        );

        let term = signal::notify(&[Signal::Terminate]);
        let (_work_tx, work) = gort::chan::channel::<u32>(0);
        raise(libc::SIGTERM);
        let stopped = gort::select! {
            recv(work) -> _ => false,
            recv(term) -> s => s == Some(Signal::Terminate),
        };
        assert!(stopped);
        signal::stop(&term);
    });
}

#[test]
fn a_runtime_dropped_before_its_signal_reader_ran_does_not_stop_later_delivery() {
    // Regression: the reading G's "I am gone" guard lived inside its body, so a G dropped before
    // its first poll left the registry believing a reader was running, and no later `notify` in the
    // process ever started one.
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..150 {
        let first = rt();
        first.block_on(async {
            let rx = signal::notify(&[Signal::User2]);
            signal::stop(&rx);
        });
        drop(first); // its reader G may not have run yet
        rt().block_on(async {
            let rx = signal::notify(&[Signal::User1]);
            raise(libc::SIGUSR1);
            let got = timeout(Duration::from_secs(10), rx.recv()).await;
            assert_eq!(
                got.expect("signal delivered after an earlier runtime was dropped"),
                Some(Signal::User1)
            );
            signal::stop(&rx);
        });
    }
}
