//! Channels: Go's `chan T` (runtime/chan.go: `hchan`, `makechan`, `chansend`, `chanrecv`, `closechan`)
//! as an async, multi-producer multi-consumer channel.
//!
//! ```text
//!   Sender ──┐                      ┌── Receiver
//!   Sender ──┼──► Chan { lock, hchan: { buf, sendq, recvq, closed } } ◄──┼── Receiver
//!            (clones share one Arc<Chan>)
//! ```
//!
//! `channel(cap)` makes a channel; `cap == 0` is unbuffered: a send completes only when a receiver has
//! taken its value (a rendezvous). Otherwise `buf` is a ring of `cap` values. A send that finds a
//! parked receiver hands its value straight into that receiver's slot, skipping the buffer, as in Go.
//! An operation that cannot proceed parks a `Sudog` (sudog.rs) on `sendq` or `recvq` (each a
//! `WaitList`, util/waitq.rs) and returns `Pending`; the counterpart that later completes it fills in
//! the sudog and wakes its task. The state and its invariants are in hchan.rs, next to the data.
//!
//! Closing (`Sender::close`, or dropping the last `Sender`) wakes everybody: receivers drain the buffer
//! and then get `None`; senders, parked or new, get their value back in a `SendError`. That error is
//! Rust's answer to Go's "send on closed channel" panic. As in Go, dropping every `Receiver` does not
//! close anything: senders then wait forever, like goroutines leaked on a channel nobody reads.
//!
//! # The lock
//! Go's `hchan` carries a plain lock and `select` holds the locks of all its channels at once, taken in
//! address order (`sellock`). The channels of one select have different element types, so a
//! `Mutex<HChan<T>>` per channel would not do: the select could not hold their guards side by side.
//! So, like Go, a `Chan` is a `Mutex<()>` beside an `UnsafeCell<HChan<T>>`. Locking yields a `Locked`
//! token, and `Chan::with` (the one `unsafe` block here) only opens the cell for the token of that
//! very channel's lock.
//!
//! # Cancel safety
//! Go cannot abandon a blocked channel operation; a Rust future can be dropped at any `Pending`.
//! Dropping a send or receive future withdraws its sudog under the lock, so nothing is lost or
//! duplicated:
//! - a parked send whose value nobody took yet: withdrawn, the value is dropped with the future;
//! - a parked send whose value a receiver already took: the send has happened, nothing to undo;
//! - a parked receive that nobody served: withdrawn;
//! - a parked receive that a sender already served (the value sits in its sudog, but the future never
//!   returned it): the value goes back to the channel, to the next parked receiver or to the *front* of
//!   the buffer (`HChan::give_back`). The sender was already told its send completed, so this may put
//!   one value past `cap`, or into an unbuffered channel's otherwise empty buffer, where it waits first
//!   in line.
//!
//! # Runtime hooks
//! Each `poll` of a send or receive starts with `coop::poll_preempt` (a preemption point, like Go's
//! stack-check preemption) and, before returning `Pending` on a parked operation, records the G's wait
//! reason (`chan send` / `chan receive`) for the scheduler's trace and `scheddetail` dumps.

mod error;
mod hchan;
mod ring;
pub(crate) mod select;
mod sudog;

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::sched::coop::poll_preempt;
use crate::sched::g::{set_waitreason, WaitReason};
use crate::util::loom::cell::UnsafeCell;
use crate::util::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::util::loom::sync::{Arc, Mutex, MutexGuard};

#[doc(hidden)]
pub use crate::util::waitq::WakeList;
pub use error::{SendError, TryRecvError, TrySendError};
pub(crate) use hchan::{Dir, HChan};
use hchan::{ring_cap, Guarded};
use ring::Ring;
pub(crate) use sudog::Waiter;

/// Make a channel with room for `cap` buffered values (`0`: unbuffered). Go's `make(chan T, cap)`.
///
/// ```
/// use gort::chan::channel;
///
/// let sum = gort::run(async {
///     let (tx, rx) = channel::<u64>(0);
///     for w in 0..4 {
///         let tx = tx.clone();
///         gort::go(async move {
///             for i in 0..10 {
///                 tx.send(w * 10 + i).await.unwrap();
///             }
///         });
///     }
///     drop(tx); // the channel closes when the last worker's sender is dropped
///     let mut sum = 0;
///     while let Some(v) = rx.recv().await {
///         sum += v;
///     }
///     sum
/// });
/// assert_eq!(sum, (0..40).sum());
/// ```
pub fn channel<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan {
        ring: Ring::new(ring_cap(cap)),
        lock: Mutex::new(()),
        hchan: UnsafeCell::new(Guarded::new(cap)),
        cap,
        senders: AtomicUsize::new(1),
    });
    let rx = Receiver {
        chan: chan.clone(),
        next: RecvWait::default(),
    };
    (Sender { chan }, rx)
}

/// The shared channel: Go's `hchan` with its lock.
pub(crate) struct Chan<T> {
    /// The buffer, lock-free while nothing is parked (ring.rs).
    ring: Ring<T>,
    lock: Mutex<()>,
    /// Only reached through `with`, with `lock` held.
    hchan: UnsafeCell<Guarded<T>>,
    cap: usize,
    /// Live `Sender`s; the last one to go closes the channel.
    senders: AtomicUsize,
}

// SAFETY: the only shared state that is not already thread-safe is `hchan` (`ring` is Sync by its own
// protocol), and every access to it goes through `with`, which requires this channel's lock to be held. Values of `T` move between the
// threads that send and receive them, hence `T: Send`; no `&T` is ever shared, so no `T: Sync`.
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Chan<T> {}

/// Proof that one channel's lock is held: only `Chan::lock` makes one, and dropping it unlocks, then
/// calls the wakers a park collected for its own task (`HChan::settle`).
#[doc(hidden)]
pub struct Locked<'a> {
    guard: Option<MutexGuard<'a, ()>>,
    chan: usize,
    later: RefCell<WakeList>,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        std::mem::take(self.later.get_mut()).wake_all();
    }
}

impl<T> Chan<T> {
    /// This channel's identity and its place in select's lock order (Go sorts by `hchan` address).
    pub(crate) fn id(&self) -> usize {
        self as *const Self as *const () as usize
    }

    pub(crate) fn lock(&self) -> Locked<'_> {
        Locked {
            guard: Some(crate::util::loom::lock(&self.lock)),
            chan: self.id(),
            later: RefCell::new(WakeList::new()),
        }
    }

    /// Run `f` on the channel state. `locked` must be this channel's token. Afterwards, switch the
    /// fast paths back on if nothing needs the lock any more (`HChan::update_mode`).
    pub(crate) fn with<R>(&self, locked: &Locked<'_>, f: impl FnOnce(&mut HChan<'_, T>) -> R) -> R {
        assert_eq!(
            locked.chan,
            self.id(),
            "chan: lock token of another channel"
        );
        let mut later = locked.later.borrow_mut();
        self.hchan.with_mut(|p| {
            let mut h = HChan {
                ring: &self.ring,
                // SAFETY: `locked` proves this thread holds `self.lock` (a `Locked` for this channel
                // can only come from `Chan::lock`, and the mutex admits one holder), so no other
                // thread is inside `with` for this channel. Within the crate, `with` is never nested
                // for one channel, so this is the only reference to the state while `f` runs.
                s: unsafe { &mut *p },
                later: &mut later,
            };
            let r = f(&mut h);
            h.update_mode();
            r
        })
    }

    /// `closechan`. Returns false if it was already closed.
    fn close(&self) -> bool {
        let mut wake = WakeList::new();
        let closed = {
            let l = self.lock();
            self.with(&l, |h| h.close(&mut wake))
        };
        wake.wake_all();
        closed
    }

    fn len(&self) -> usize {
        let l = self.lock();
        self.with(&l, |h| h.len())
    }

    fn is_closed(&self) -> bool {
        let l = self.lock();
        self.with(&l, |h| h.is_closed())
    }

    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let l = self.lock();
        self.with(&l, |h| h.check_invariants())
    }
}

/// The sending end. Clone it for more producers; the channel closes when the last clone is dropped.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiving end. Clone it for more consumers. Also a `Stream` of the values, ending at close.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
    /// The receive in progress when used as a `Stream` (each clone has its own).
    next: RecvWait,
}

impl<T> Sender<T> {
    /// Send `value`, waiting for a receiver (unbuffered) or for room (buffered). Fails, handing the
    /// value back, if the channel is or becomes closed before the value is taken.
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            chan: &self.chan,
            value: Some(value),
            key: None,
        }
    }

    /// Send without waiting: `Full` if no receiver is parked and the buffer has no room.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let Err(value) = self.chan.ring.try_push(value) else {
            return Ok(());
        };
        let mut wake = WakeList::new();
        let res = {
            let l = self.chan.lock();
            self.chan.with(&l, |h| h.send(value, &mut wake))
        };
        wake.wake_all();
        res
    }

    /// Close the channel (Go's `close(ch)`), waking every parked sender and receiver. Unlike Go,
    /// closing twice is allowed; returns whether this call closed it.
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Values in the buffer (Go's `len(ch)`).
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Buffer size given to `channel` (Go's `cap(ch)`).
    pub fn cap(&self) -> usize {
        self.chan.cap
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        // Relaxed: the new clone is made from a live one, so the count cannot be at zero here.
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // AcqRel: whichever drop takes the count to zero closes, after every other sender is gone.
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close();
        }
    }
}

impl<T> Receiver<T> {
    /// Receive the next value; `None` once the channel is closed and drained.
    pub fn recv(&self) -> RecvFuture<'_, T> {
        RecvFuture {
            chan: &self.chan,
            wait: RecvWait::default(),
        }
    }

    /// Receive without waiting: `Empty` if nothing is buffered and no sender is parked, `Closed` if the
    /// channel is closed and drained.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        if let Some(v) = self.chan.ring.try_pop() {
            return Ok(v);
        }
        let mut wake = WakeList::new();
        let res = {
            let l = self.chan.lock();
            self.chan.with(&l, |h| h.recv(&mut wake))
        };
        wake.wake_all();
        res
    }

    /// Whether the channel has been closed (values may still be buffered).
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Values in the buffer (Go's `len(ch)`).
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Buffer size given to `channel` (Go's `cap(ch)`).
    pub fn cap(&self) -> usize {
        self.chan.cap
    }

    pub(crate) fn chan(&self) -> &Chan<T> {
        &self.chan
    }
}

impl<T> Sender<T> {
    pub(crate) fn chan(&self) -> &Chan<T> {
        &self.chan
    }

    /// Whether any `Receiver` of this channel is still alive. Only `Sender`s and `Receiver`s hold the
    /// shared channel, so the receivers are the references that are not senders. A snapshot: used to
    /// prune listeners nobody reads any more (`signal.rs`).
    pub(crate) fn has_receivers(&self) -> bool {
        Arc::strong_count(&self.chan) > self.chan.senders.load(Ordering::Acquire)
    }

    /// Whether `rx` receives from this sender's channel.
    pub(crate) fn same_channel(&self, rx: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.chan, &rx.chan)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver {
            chan: self.chan.clone(),
            next: RecvWait::default(),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.next.cancel(&self.chan);
    }
}

impl<T> futures_core::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.next.poll(&this.chan, cx)
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("cap", &self.cap())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("cap", &self.cap())
            .finish_non_exhaustive()
    }
}

/// A receive in progress: the key of its parked sudog, if it parked. Shared by `RecvFuture` and the
/// `Stream` impl.
#[derive(Default)]
struct RecvWait {
    key: Option<usize>,
}

impl RecvWait {
    fn poll<T>(&mut self, chan: &Chan<T>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if poll_preempt(cx).is_pending() {
            return Poll::Pending;
        }
        if self.key.is_none() {
            if let Some(v) = chan.ring.try_pop() {
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
    fn cancel<T>(&mut self, chan: &Chan<T>) {
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
    chan: &'a Chan<T>,
    wait: RecvWait,
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.wait.poll(this.chan, cx)
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        self.wait.cancel(self.chan);
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
    chan: &'a Chan<T>,
    /// The value, until it is sent or parked in a sudog.
    value: Option<T>,
    key: Option<usize>,
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
        if this.key.is_none() {
            let Some(v) = this.value.take() else {
                panic!("chan: SendFuture polled after completion");
            };
            match this.chan.ring.try_push(v) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(v) => this.value = Some(v),
            }
        }
        let mut wake = WakeList::new();
        let (out, garbage) = {
            let l = this.chan.lock();
            this.chan.with(&l, |h| match this.key {
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
        let Some(key) = self.key.take() else { return };
        // Withdrawn or closed: the value comes back and is dropped here, outside the lock. Already
        // taken by a receiver: the send happened.
        let retired = {
            let l = self.chan.lock();
            self.chan.with(&l, |h| h.retire(key, Dir::Send))
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
