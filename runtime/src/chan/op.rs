//! The blocking halves of Go's `chansend` and `chanrecv` (runtime/chan.go), as futures: `SendFuture`
//! and `RecvFuture` (and `RecvWait`, the receive shared with the `Stream` impl of `Receiver`).
//!
//! Each poll tries the lock-free ring first (ring.rs) while the operation has not parked; then, under
//! the lock, the operation proper (hchan.rs: `send`/`recv`), parking a sudog if it cannot proceed. A
//! later poll finds the sudog completed (retire it, return its result) or still queued (refresh the
//! waker). Dropping a parked future withdraws its sudog (chan/mod.rs, "Cancel safety").
//!
//! Where this differs from Go: Go's `chansend`/`chanrecv` block inside the call (`gopark`); here a
//! parked operation returns `Pending` and its sudog waits for the next poll or for the drop.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{nil_wait, Chan, Dir, SendError, TryRecvError, TrySendError, Waiter, WakeList};
use crate::sched::coop::poll_preempt;
use crate::sched::g::{set_waitreason, WaitReason};

/// A receive in progress: the key of its parked sudog, if it parked. Shared by `RecvFuture` and the
/// `Stream` impl.
#[derive(Default)]
pub(super) struct RecvWait {
    key: Option<usize>,
}

impl RecvWait {
    pub(super) fn poll<T>(&mut self, chan: &Chan<T>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if poll_preempt(cx).is_pending() {
            return Poll::Pending;
        }
        if self.key.is_none() {
            if let Some(v) = chan.try_pop_fast() {
                return Poll::Ready(Some(v));
            }
        }
        let mut wake = WakeList::new();
        let (out, garbage) = {
            let l = chan.lock();
            chan.with(&l, |h| match self.key {
                None => match h.recv(&mut wake) {
                    Ok(v) => (Poll::Ready(Some(v)), None),
                    Err(TryRecvError::Closed) => (Poll::Ready(None), None),
                    Err(TryRecvError::Empty) => {
                        let key = h.park_recv(Waiter::Op(Some(cx.waker().clone())));
                        if h.is_parked(key, Dir::Recv) {
                            self.key = Some(key);
                            (Poll::Pending, None)
                        } else {
                            // Served while parking (`HChan::settle`): a fast send got in first.
                            let r = h.retire(key, Dir::Recv);
                            (Poll::Ready(r.elem), Some(r.waiter))
                        }
                    }
                },
                Some(key) if h.is_parked(key, Dir::Recv) => (
                    Poll::Pending,
                    h.set_waker(key, Dir::Recv, cx.waker())
                        .map(|w| Waiter::Op(Some(w))),
                ),
                Some(key) => {
                    self.key = None;
                    let r = h.retire(key, Dir::Recv);
                    // success: a sender filled the slot; otherwise `close` woke us.
                    (
                        Poll::Ready(if r.success { r.elem } else { None }),
                        Some(r.waiter),
                    )
                }
            })
        };
        drop(garbage);
        wake.wake_all();
        if out.is_pending() {
            set_waitreason(WaitReason::ChanReceive);
        }
        out
    }

    /// Withdraw a parked receive; a value already handed to it goes back to the channel.
    pub(super) fn cancel<T>(&mut self, chan: &Chan<T>) {
        let Some(key) = self.key.take() else { return };
        let mut wake = WakeList::new();
        let retired = {
            let l = chan.lock();
            chan.with(&l, |h| {
                let mut r = h.retire(key, Dir::Recv);
                if r.success {
                    if let Some(v) = r.elem.take() {
                        h.give_back(v, &mut wake);
                    }
                }
                r
            })
        };
        drop(retired);
        wake.wake_all();
    }
}

/// Future of `Receiver::recv`. Dropping it while parked withdraws the receive (see "Cancel safety").
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a, T> {
    /// `None`: a nil channel.
    pub(super) chan: Option<&'a Chan<T>>,
    pub(super) wait: RecvWait,
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        match this.chan {
            Some(chan) => this.wait.poll(chan, cx),
            None => nil_wait(WaitReason::ChanReceiveNilChan),
        }
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(chan) = self.chan {
            self.wait.cancel(chan);
        }
    }
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture")
            .field("parked", &self.wait.key.is_some())
            .finish()
    }
}

/// Future of `Sender::send`. Dropping it while parked withdraws the send (see "Cancel safety").
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, T> {
    /// `None`: a nil channel.
    pub(super) chan: Option<&'a Chan<T>>,
    /// The value, until it is sent or parked in a sudog.
    pub(super) value: Option<T>,
    pub(super) key: Option<usize>,
}

// The value is only ever moved, never pinned, so the future can be `Unpin` whatever `T` is.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if poll_preempt(cx).is_pending() {
            return Poll::Pending;
        }
        let this = self.get_mut();
        let Some(chan) = this.chan else {
            return nil_wait(WaitReason::ChanSendNilChan);
        };
        if this.key.is_none() {
            let Some(v) = this.value.take() else {
                panic!("chan: SendFuture polled after completion");
            };
            match chan.try_push_fast(v) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(v) => this.value = Some(v),
            }
        }
        let mut wake = WakeList::new();
        let (out, garbage) = {
            let l = chan.lock();
            chan.with(&l, |h| match this.key {
                None => {
                    let Some(v) = this.value.take() else {
                        panic!("chan: SendFuture polled after completion");
                    };
                    match h.send(v, &mut wake) {
                        Ok(()) => (Poll::Ready(Ok(())), None),
                        Err(TrySendError::Closed(v)) => (Poll::Ready(Err(SendError(v))), None),
                        Err(TrySendError::Full(v)) => {
                            let waiter = Waiter::Op(Some(cx.waker().clone()));
                            let key = h.park_send(v, waiter);
                            if h.is_parked(key, Dir::Send) {
                                this.key = Some(key);
                                (Poll::Pending, None)
                            } else {
                                // Served while parking (`HChan::settle`): a fast receive made room.
                                let r = h.retire(key, Dir::Send);
                                debug_assert!(r.success, "chan: a send settled without success");
                                (Poll::Ready(Ok(())), Some(r.waiter))
                            }
                        }
                    }
                }
                Some(key) if h.is_parked(key, Dir::Send) => (
                    Poll::Pending,
                    h.set_waker(key, Dir::Send, cx.waker())
                        .map(|w| Waiter::Op(Some(w))),
                ),
                Some(key) => {
                    this.key = None;
                    let r = h.retire(key, Dir::Send);
                    let out = match (r.success, r.elem) {
                        (true, _) => Ok(()),
                        (false, Some(v)) => Err(SendError(v)),
                        (false, None) => panic!("chan: a closed sender lost its value"),
                    };
                    (Poll::Ready(out), Some(r.waiter))
                }
            })
        };
        drop(garbage);
        wake.wake_all();
        if out.is_pending() {
            set_waitreason(WaitReason::ChanSend);
        }
        out
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        let (Some(chan), Some(key)) = (self.chan, self.key.take()) else {
            return;
        };
        // Withdrawn or closed: the value comes back and is dropped here, outside the lock. Already
        // taken by a receiver: the send happened.
        let retired = {
            let l = chan.lock();
            chan.with(&l, |h| h.retire(key, Dir::Send))
        };
        drop(retired);
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("parked", &self.key.is_some())
            .finish()
    }
}
