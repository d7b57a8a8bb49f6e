//! Test helpers for unit tests (and loom models) that poll futures without the executor: a one-future
//! `block_on` (thread park/unpark; a loom `Notify` under loom), a waker that counts its wakes, for
//! polling futures by hand, and a value that counts its drops. The executor's own tests live elsewhere.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
#[cfg(not(loom))]
use std::thread::{self, Thread};

#[cfg(not(loom))]
struct ThreadWaker(Thread);

#[cfg(not(loom))]
impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Run `fut` to completion on this thread, parking the thread while it is pending.
#[cfg(not(loom))]
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

/// Under loom: sleep on a loom `Notify` that only this future's waker wakes.
/// Not `thread::park`: loom 0.7's `unpark` makes the target runnable even while it is blocked in a
/// loom `Mutex::lock` (rt/thread.rs: `set_unparked` treats every blocked state alike), and the woken
/// thread then fails loom's "expected to be able to acquire lock" assertion. Real threads have no
/// such problem (an unpark cannot end a mutex wait), so with `park` a model that wakes a thread while
/// it waits for a lock reports a bug that is loom's, not ours.
#[cfg(loom)]
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    struct NotifyWaker(loom::sync::Notify);
    impl Wake for NotifyWaker {
        fn wake(self: Arc<Self>) {
            self.0.notify();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.notify();
        }
    }
    let mut fut = pin!(fut);
    let notify = Arc::new(NotifyWaker(loom::sync::Notify::new()));
    let waker = Waker::from(notify.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        notify.0.wait();
    }
}

/// A waker that counts how often it was woken.
#[cfg_attr(loom, allow(dead_code))]
#[derive(Default)]
pub(crate) struct CountWaker(AtomicUsize);

#[cfg_attr(loom, allow(dead_code))]
impl CountWaker {
    pub(crate) fn new() -> (Arc<CountWaker>, Waker) {
        let c = Arc::new(CountWaker::default());
        (c.clone(), Waker::from(c))
    }

    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A value that counts its drops, to prove values are neither lost nor duplicated: `Counted(n, drops)`
/// adds one to `drops` when it is dropped; `n` tells the values apart.
#[cfg(not(loom))]
pub(crate) struct Counted(pub(crate) u32, pub(crate) Arc<AtomicUsize>);

#[cfg(not(loom))]
impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

/// Poll `fut` once with `waker`.
pub(crate) fn poll_once<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    std::pin::Pin::new(fut).poll(&mut Context::from_waker(waker))
}

struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// A waker that does nothing.
pub(crate) fn noop_waker() -> Waker {
    Waker::from(Arc::new(Noop))
}

/// Poll `fut` once with a waker that does nothing.
pub(crate) fn poll_noop<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_once(fut, &noop_waker())
}
