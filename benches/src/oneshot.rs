//! A one-value channel (tokio's `sync::oneshot`, Go's `make(chan T, 1)` used once) on a `std` Mutex
//! and a `Waker`.
//!
//! gort has no oneshot type yet, and tokio's is tuned for tokio (it takes part in tokio's coop
//! budget). The ping-pong benchmark uses this one on both runtimes, so that what differs between the
//! two runs is only how each scheduler wakes and runs the receiving task.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// A new channel: the [`Sender`] delivers at most one value to the [`Receiver`].
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        value: None,
        waker: None,
        sender_gone: false,
        receiver_gone: false,
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// The receiving side resolves to this when the sender was dropped without sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closed;

struct State<T> {
    value: Option<T>,
    /// The receiver's waker, while it waits.
    waker: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

fn lock<T>(m: &Mutex<State<T>>) -> MutexGuard<'_, State<T>> {
    // The state stays consistent even if a holder panicked: every critical section is a few
    // field writes that cannot panic half-way.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct Sender<T> {
    shared: Arc<Mutex<State<T>>>,
}

impl<T> Sender<T> {
    /// Deliver `value`, waking the receiver; `Err(value)` if the receiver is gone.
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut s = lock(&self.shared);
            if s.receiver_gone {
                return Err(value);
            }
            s.value = Some(value);
            s.waker.take()
        };
        // Wake outside the lock: the woken task may run at once on another thread and lock it.
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut s = lock(&self.shared);
            s.sender_gone = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

pub struct Receiver<T> {
    shared: Arc<Mutex<State<T>>>,
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = lock(&self.shared);
        if let Some(v) = s.value.take() {
            return Poll::Ready(Ok(v));
        }
        if s.sender_gone {
            return Poll::Ready(Err(Closed));
        }
        match &mut s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let value = {
            let mut s = lock(&self.shared);
            s.receiver_gone = true;
            s.waker = None;
            s.value.take()
        };
        // The value's destructor is the user's; run it outside the lock.
        drop(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct CountWaker(AtomicUsize);
    impl Wake for CountWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll_once<T>(rx: &mut Receiver<T>, w: &Arc<CountWaker>) -> Poll<Result<T, Closed>> {
        let waker = Waker::from(w.clone());
        Pin::new(rx).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn value_sent_before_poll_is_received_at_once() {
        let (tx, mut rx) = channel();
        tx.send(7).expect("receiver alive");
        let w = Arc::new(CountWaker(AtomicUsize::new(0)));
        assert_eq!(poll_once(&mut rx, &w), Poll::Ready(Ok(7)));
    }

    #[test]
    fn send_wakes_a_waiting_receiver_once() {
        let (tx, mut rx) = channel();
        let w = Arc::new(CountWaker(AtomicUsize::new(0)));
        assert_eq!(poll_once(&mut rx, &w), Poll::Pending);
        tx.send("hi").expect("receiver alive");
        assert_eq!(w.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll_once(&mut rx, &w), Poll::Ready(Ok("hi")));
    }

    #[test]
    fn dropped_sender_closes_the_receiver() {
        let (tx, mut rx) = channel::<u8>();
        let w = Arc::new(CountWaker(AtomicUsize::new(0)));
        assert_eq!(poll_once(&mut rx, &w), Poll::Pending);
        drop(tx);
        assert_eq!(w.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll_once(&mut rx, &w), Poll::Ready(Err(Closed)));
    }

    #[test]
    fn send_to_dropped_receiver_returns_the_value() {
        let (tx, rx) = channel();
        drop(rx);
        assert_eq!(tx.send(3), Err(3));
    }
}
