//! The arms `select!` has beyond Go's two: channel ends given as `Option`s (Go's nil channel as a
//! value), a send that takes its value from a slot only when it fires (`send_from`), and any future as
//! an arm (`fut`). Go's compiler only knows `recv` and `send` cases (cmd/compile/internal/walk/
//! select.go); these are the Rust idioms for what Go programmers do with nil channels, with a value
//! that a losing send case simply never used, and with `ctx.Done()`-like channels.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Case, SendCase, SendError, WakeList};
use crate::chan::select::SelectWaiter;
use crate::chan::{Locked, Receiver, Sender};
use crate::util::loom::sync::Arc;

/// What a `recv` arm (or `chan::Select::recv`) accepts: a `Receiver<T>`, or an `Option` of one, where
/// `None` is a nil channel (the arm is never chosen). References to these work too.
pub trait AsReceiver<T> {
    /// The receiver, `None` for a nil channel.
    fn as_receiver(&self) -> Option<&Receiver<T>>;
}

impl<T> AsReceiver<T> for Receiver<T> {
    fn as_receiver(&self) -> Option<&Receiver<T>> {
        Some(self)
    }
}

impl<T> AsReceiver<T> for Option<Receiver<T>> {
    fn as_receiver(&self) -> Option<&Receiver<T>> {
        self.as_ref()
    }
}

impl<T> AsReceiver<T> for Option<&Receiver<T>> {
    fn as_receiver(&self) -> Option<&Receiver<T>> {
        *self
    }
}

impl<T, R: AsReceiver<T> + ?Sized> AsReceiver<T> for &R {
    fn as_receiver(&self) -> Option<&Receiver<T>> {
        (**self).as_receiver()
    }
}

impl<T, R: AsReceiver<T> + ?Sized> AsReceiver<T> for &mut R {
    fn as_receiver(&self) -> Option<&Receiver<T>> {
        (**self).as_receiver()
    }
}

/// What a `send`/`send_from` arm (or `chan::Select::send`) accepts: a `Sender<T>`, or an `Option` of
/// one, where `None` is a nil channel (the arm is never chosen). References to these work too.
pub trait AsSender<T> {
    /// The sender, `None` for a nil channel.
    fn as_sender(&self) -> Option<&Sender<T>>;
}

impl<T> AsSender<T> for Sender<T> {
    fn as_sender(&self) -> Option<&Sender<T>> {
        Some(self)
    }
}

impl<T> AsSender<T> for Option<Sender<T>> {
    fn as_sender(&self) -> Option<&Sender<T>> {
        self.as_ref()
    }
}

impl<T> AsSender<T> for Option<&Sender<T>> {
    fn as_sender(&self) -> Option<&Sender<T>> {
        *self
    }
}

impl<T, S: AsSender<T> + ?Sized> AsSender<T> for &S {
    fn as_sender(&self) -> Option<&Sender<T>> {
        (**self).as_sender()
    }
}

impl<T, S: AsSender<T> + ?Sized> AsSender<T> for &mut S {
    fn as_sender(&self) -> Option<&Sender<T>> {
        (**self).as_sender()
    }
}

/// `send_from(tx, &mut slot) -> res`: sends the value in `slot` and takes it only if the arm fires.
/// An empty slot switches the arm off (a nil case). When the select is over (or dropped), a value that
/// was not sent is back in `slot`.
pub struct SendFromCase<'a, 's, T> {
    inner: SendCase<'a, T>,
    slot: &'s mut Option<T>,
}

impl<'a, 's, T> SendFromCase<'a, 's, T> {
    pub fn new<S: AsSender<T> + ?Sized>(tx: &'a S, slot: &'s mut Option<T>) -> Self {
        SendFromCase {
            inner: SendCase::new(tx, slot.take()),
            slot,
        }
    }

    /// The send's outcome if this case fired.
    pub fn take_fired(&mut self) -> Option<Result<(), SendError<T>>> {
        self.inner.take_fired()
    }
}

impl<T> Drop for SendFromCase<'_, '_, T> {
    fn drop(&mut self) {
        if let Some(v) = self.inner.take_unsent() {
            *self.slot = Some(v);
        }
    }
}

impl<'a, T> Case<'a> for SendFromCase<'a, '_, T> {
    fn is_nil(&self) -> bool {
        self.inner.is_nil()
    }
    fn chan_id(&self) -> usize {
        self.inner.chan_id()
    }
    fn lock(&self) -> Locked<'a> {
        self.inner.lock()
    }
    fn try_fire(&mut self, locked: &Locked<'a>, wake: &mut WakeList) -> bool {
        self.inner.try_fire(locked, wake)
    }
    fn park(&mut self, locked: &Locked<'a>, sel: &Arc<SelectWaiter>, index: usize) {
        self.inner.park(locked, sel, index)
    }
    fn unpark(&mut self, fired: bool, keep: bool, wake: &mut WakeList) {
        self.inner.unpark(fired, keep, wake)
    }
}

/// A future arm as the engine sees it: poll it once; `true` once it completed (its output is kept
/// for `take_fired`).
pub trait FutArm {
    fn poll_arm(&mut self, cx: &mut Context<'_>) -> bool;
}

/// `fut(f) -> out`: any future as an arm. The macro pins `f` on its own stack frame (`pin!`), so `f`
/// need not be `Unpin`; it is dropped with the select's other arms, before the winning arm's body
/// runs.
pub struct FutCase<'s, F: Future> {
    fut: Pin<&'s mut F>,
    out: Option<F::Output>,
}

impl<'s, F: Future> FutCase<'s, F> {
    pub fn new(fut: Pin<&'s mut F>) -> Self {
        FutCase { fut, out: None }
    }

    /// The future's output if this arm won.
    pub fn take_fired(&mut self) -> Option<F::Output> {
        self.out.take()
    }
}

impl<F: Future> FutArm for FutCase<'_, F> {
    fn poll_arm(&mut self, cx: &mut Context<'_>) -> bool {
        if self.out.is_some() {
            return true;
        }
        match self.fut.as_mut().poll(cx) {
            Poll::Ready(v) => {
                self.out = Some(v);
                true
            }
            Poll::Pending => false,
        }
    }
}
