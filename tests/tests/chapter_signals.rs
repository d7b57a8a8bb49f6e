//! The signals chapter program (`examples/src/chapters/signals.rs`): a signal sent to this very
//! process stops the workers gracefully. Signals are process-wide, so this is its own test binary
//! and its tests take turns (SERIAL).

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use examples::chapters::signals::{notify_context, serve_until_signal, STOP_SIGNALS};
use gort::signal::{self, Signal};
use tests::{is_default, raise, run_within};

static SERIAL: Mutex<()> = Mutex::new(());

/// Run `fut` on a fresh 2-P runtime on a thread of its own, failing the test if it has not finished
/// within a minute (a lost signal would otherwise hang the test forever).
fn limited<F>(fut: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    run_within(2, Duration::from_secs(60), fut)
}

/// Listen for SIGINT and SIGTERM, send `sig` to ourselves once the workers are busy, and run the
/// program until it stops.
fn stop_with(sig: i32) -> examples::chapters::signals::Report {
    limited(async move {
        let sigs = signal::notify(&STOP_SIGNALS);
        gort::time::after_func(Duration::from_millis(30), move || raise(sig));
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

#[test]
fn notify_context_stops_listening_when_its_parent_is_cancelled() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (got, err) = limited(async {
        let (parent, cancel) = gort::context::with_cancel(&gort::context::background());
        let (ctx, watcher) = notify_context(&parent, signal::notify(&[Signal::User2]));
        assert!(!is_default(libc::SIGUSR2));
        // Make sure the runtime's signal-reading G has started before this runtime ends: one
        // delivery of another signal. (A reader G dropped before its first poll leaves the
        // registry believing a reader runs, and later runtimes then get no signals; reported.)
        let probe = signal::notify(&[Signal::User1]);
        raise(libc::SIGUSR1);
        let delivered = gort::time::timeout(Duration::from_secs(10), probe.recv()).await;
        assert_eq!(delivered, Ok(Some(Signal::User1)));
        signal::stop(&probe);

        cancel.cancel();
        let got = watcher.await.expect("watcher");
        (got, ctx.err())
    });
    assert_eq!(got, None, "a signal was reported though none was sent");
    assert_eq!(err, Some(gort::context::ContextError::Canceled));
    assert!(
        is_default(libc::SIGUSR2),
        "still listening for SIGUSR2 after the context was cancelled"
    );
}
