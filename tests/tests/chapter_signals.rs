//! The signals chapter program (`examples/src/chapters/signals.rs`): a signal sent to this very
//! process stops the workers gracefully. Signals are process-wide, so this is its own test binary
//! and its tests take turns (SERIAL).

use std::sync::Mutex;
use std::time::Duration;

use examples::chapters::signals::{serve_until_signal, STOP_SIGNALS};
use runtime::signal::{self, Signal};
use runtime::Builder;

static SERIAL: Mutex<()> = Mutex::new(());

fn raise(sig: i32) {
    // SAFETY: sending a signal to our own process; the test installed a handler for it first.
    assert_eq!(unsafe { libc::kill(libc::getpid(), sig) }, 0);
}

fn is_default(sig: i32) -> bool {
    // SAFETY: querying (not changing) the disposition with a valid out-pointer.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, std::ptr::null(), &mut old), 0);
        old.sa_sigaction == libc::SIG_DFL
    }
}

/// Listen for SIGINT and SIGTERM, send `sig` to ourselves once the workers are busy, and run the
/// program until it stops.
fn stop_with(sig: i32) -> examples::chapters::signals::Report {
    let rt = Builder::new().procs(2).build().expect("runtime");
    rt.block_on(async move {
        let sigs = signal::notify(&STOP_SIGNALS);
        runtime::time::after_func(Duration::from_millis(30), move || raise(sig));
        serve_until_signal(sigs, 3, Duration::from_millis(5), Duration::from_secs(5)).await
    })
}

#[test]
fn sigterm_stops_every_worker_after_its_current_job() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let r = stop_with(libc::SIGTERM);
    assert_eq!(r.signal, Some(Signal::Terminate));
    assert_eq!(r.abandoned, 0);
    assert_eq!(r.workers.len(), 3);
    for w in &r.workers {
        assert_eq!(w.started, w.finished, "a worker was stopped mid-job");
    }
    assert!(
        is_default(libc::SIGTERM),
        "SIGTERM's default disposition was not restored after the program stopped listening"
    );
}

#[test]
fn sigint_stops_the_program_the_same_way() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let r = stop_with(libc::SIGINT);
    assert_eq!(r.signal, Some(Signal::Interrupt));
    assert_eq!(r.abandoned, 0);
    assert!(r.workers.iter().all(|w| w.started == w.finished));
    assert!(is_default(libc::SIGINT));
}
