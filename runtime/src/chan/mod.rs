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
//! very channel's lock. The lock is Go's kind of runtime lock, which spins and yields before it
//! sleeps (`util::loom::golock`), not `std`'s, which sleeps sooner: a channel both cores hammer
//! hands it back and forth without the kernel.
//!
//! # The fast path: what Go does, what it could do
//! Go's `chansend`/`chanrecv` take `c.lock` for every operation. Here a buffered send that finds room,
//! or a receive that finds a value, *with nobody parked*, uses the lock-free ring (ring.rs: one CAS on
//! its own end of the ring, Vyukov's bounded queue, as in his 2014 lock-free channel proposal for Go,
//! golang/go#8899). Everything else (unbuffered channels, parking, hand-off to a parked receiver,
//! close, give-back) takes the lock exactly as in Go, and while any of it is going on the ring's
//! `SLOW` bit sends every operation to the lock, so the locked code stays the one truth about who
//! waits (hchan.rs). The wins, measured in design.md:
//! - a producer and a consumer on two Ms no longer fight over one lock per message: each CASes its
//!   own end of the ring, on its own cache line, and they share only the slots they hand over;
//! - one G sending into and receiving from its own buffer (`seq`) costs one CAS per operation, no
//!   lock/unlock pair;
//! - `select!` tries each case's fast path, in its random poll order, before it locks anything
//!   (select.rs, "pass 0"): a select over buffered channels with a value waiting takes no lock.
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
//! # Nil channels
//! Go's zero-value `chan T` is `nil`: sends and receives on it block forever, and a `select` case on it
//! is never chosen, which is how Go code switches a case off. Here `Sender::nil()` and
//! `Receiver::nil()` (also their `Default`) are ends of no channel: `chan` is `None`. `send`/`recv`
//! futures on them stay `Pending` forever (wait reasons `chan send (nil chan)` / `chan receive (nil
//! chan)`), `try_send` reports `Full` and `try_recv` `Empty` (never ready, as a Go `select` with
//! `default` sees them), `len` and `cap` are 0, `is_closed` is false, and `close` does nothing and
//! returns false (Go panics on `close(nil)`; here closing is already allowed twice, so a no-op fits).
//! `select!` skips a nil case entirely: no lock, never fires, never parks (chan/select.rs).
//!
//! # Runtime hooks
//! Each `poll` of a send or receive starts with `coop::poll_preempt` (a preemption point, like Go's
//! stack-check preemption) and, before returning `Pending` on a parked operation, records the G's wait
//! reason (`chan send` / `chan receive`) for the scheduler's trace and `scheddetail` dumps.

mod error;
mod hchan;
mod op;
mod ring;
pub(crate) mod select;
mod sudog;

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::sched::g::{set_waitreason, WaitReason};
use crate::util::loom::cell::UnsafeCell;
use crate::util::loom::golock::{self, Mutex, MutexGuard};
use crate::util::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::util::loom::sync::Arc;

#[doc(hidden)]
pub use crate::util::waitq::WakeList;
pub use error::{SendError, TryRecvError, TrySendError};
use hchan::{ring_cap, Guarded};
pub(crate) use hchan::{Dir, HChan};
use op::RecvWait;
pub use op::{RecvFuture, SendFuture};
use ring::Ring;
pub use select::{AsReceiver, AsSender, Select, SelectRecv, SelectSend, SelectWait};
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
        #[cfg(loom)]
        seq: loom_seq(),
    });
    let rx = Receiver {
        chan: Some(chan.clone()),
        next: RecvWait::default(),
    };
    (Sender { chan: Some(chan) }, rx)
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
    /// Under loom: this channel's place in creation order, its identity instead of its address.
    #[cfg(loom)]
    seq: usize,
}

/// Channels' creation order under loom. A model must behave the same in every run, and addresses
/// do not: two channels can swap their address order from one run of a model to the next (other
/// tests allocate on other threads meanwhile), which changes select's lock order and makes loom
/// report an impossible exploration state. Creation order within one run never changes. (A plain
/// `std` counter: it is bookkeeping outside the model.)
#[cfg(loom)]
fn loom_seq() -> usize {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

// SAFETY: the only shared state that is not already thread-safe is `hchan` (`ring` is Sync by its own
// protocol), and every access to it goes through `with`, which requires this channel's lock to be held. Values of `T` move between the
// threads that send and receive them, hence `T: Send`; no `&T` is ever shared, so no `T: Sync`.
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Chan<T> {}

/// Proof that one channel's lock is held: only `Chan::lock` makes one, and dropping it unlocks.
#[doc(hidden)]
pub struct Locked<'a> {
    _guard: MutexGuard<'a, ()>,
    chan: usize,
}

impl<T> Chan<T> {
    /// This channel's identity and its place in select's lock order (Go sorts by `hchan` address).
    pub(crate) fn id(&self) -> usize {
        #[cfg(loom)]
        return self.seq;
        #[cfg(not(loom))]
        {
            self as *const Self as *const () as usize
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> Locked<'_> {
        Locked {
            _guard: golock::lock(&self.lock),
            chan: self.id(),
        }
    }

    /// Run `f` on the channel state. `locked` must be this channel's token. Afterwards, switch the
    /// fast paths back on if nothing needs the lock any more (`HChan::update_mode`).
    #[inline]
    pub(crate) fn with<R>(&self, locked: &Locked<'_>, f: impl FnOnce(&mut HChan<'_, T>) -> R) -> R {
        assert_eq!(
            locked.chan,
            self.id(),
            "chan: lock token of another channel"
        );
        self.hchan.with_mut(|p| {
            let mut h = HChan {
                ring: &self.ring,
                // SAFETY: `locked` proves this thread holds `self.lock` (a `Locked` for this channel
                // can only come from `Chan::lock`, and the mutex admits one holder), so no other
                // thread is inside `with` for this channel. Within the crate, `with` is never nested
                // for one channel, so this is the only reference to the state while `f` runs.
                s: unsafe { &mut *p },
            };
            let r = f(&mut h);
            h.update_mode();
            r
        })
    }

    /// The lock-free send (ring.rs): `Err` gives the value back when the lock is needed.
    #[inline]
    pub(crate) fn try_push_fast(&self, v: T) -> Result<(), T> {
        self.ring.try_push(v)
    }

    /// The lock-free receive (ring.rs): `None` when the lock is needed.
    #[inline]
    pub(crate) fn try_pop_fast(&self) -> Option<T> {
        self.ring.try_pop()
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
/// `Sender::nil()` (or `default()`) is Go's nil channel: see "Nil channels" above.
pub struct Sender<T> {
    /// `None`: a nil channel.
    chan: Option<Arc<Chan<T>>>,
}

/// The receiving end. Clone it for more consumers. Also a `Stream` of the values, ending at close.
/// `Receiver::nil()` (or `default()`) is Go's nil channel: see "Nil channels" above.
pub struct Receiver<T> {
    /// `None`: a nil channel.
    chan: Option<Arc<Chan<T>>>,
    /// The receive in progress when used as a `Stream` (each clone has its own).
    next: RecvWait,
}

impl<T> Sender<T> {
    /// Go's nil channel, sending end: a send waits forever and a `select!` arm on it is never chosen.
    pub fn nil() -> Self {
        Sender { chan: None }
    }

    /// Whether this is a nil channel's end (`Sender::nil()`).
    pub fn is_nil(&self) -> bool {
        self.chan.is_none()
    }

    /// Send `value`, waiting for a receiver (unbuffered) or for room (buffered). Fails, handing the
    /// value back, if the channel is or becomes closed before the value is taken. On a nil channel it
    /// waits forever (dropping the future drops the value).
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            chan: self.chan.as_deref(),
            value: Some(value),
            key: None,
        }
    }

    /// Send without waiting: `Full` if no receiver is parked and the buffer has no room (always, on a
    /// nil channel).
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let Some(chan) = self.chan.as_deref() else {
            return Err(TrySendError::Full(value));
        };
        let Err(value) = chan.try_push_fast(value) else {
            return Ok(());
        };
        let mut wake = WakeList::new();
        let res = {
            let l = chan.lock();
            chan.with(&l, |h| h.send(value, &mut wake))
        };
        wake.wake_all();
        res
    }

    /// Close the channel (Go's `close(ch)`), waking every parked sender and receiver. Unlike Go,
    /// closing twice is allowed; returns whether this call closed it. On a nil channel (where Go
    /// panics) it does nothing and returns false.
    pub fn close(&self) -> bool {
        self.chan.as_deref().is_some_and(Chan::close)
    }

    /// Whether the channel is closed (false for a nil channel, which never closes).
    pub fn is_closed(&self) -> bool {
        self.chan.as_deref().is_some_and(Chan::is_closed)
    }

    /// Values in the buffer (Go's `len(ch)`; 0 for a nil channel).
    pub fn len(&self) -> usize {
        self.chan.as_deref().map_or(0, Chan::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Buffer size given to `channel` (Go's `cap(ch)`; 0 for a nil channel).
    pub fn cap(&self) -> usize {
        self.chan.as_deref().map_or(0, |c| c.cap)
    }
}

impl<T> Default for Sender<T> {
    /// A nil channel's end, like Go's zero-value `chan T`.
    fn default() -> Self {
        Sender::nil()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        if let Some(chan) = &self.chan {
            // Relaxed: the new clone is made from a live one, so the count cannot be at zero here.
            chan.senders.fetch_add(1, Ordering::Relaxed);
        }
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(chan) = &self.chan else { return };
        // AcqRel: whichever drop takes the count to zero closes, after every other sender is gone.
        if chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            chan.close();
        }
    }
}

impl<T> Receiver<T> {
    /// Go's nil channel, receiving end: a receive waits forever and a `select!` arm on it is never
    /// chosen.
    pub fn nil() -> Self {
        Receiver {
            chan: None,
            next: RecvWait::default(),
        }
    }

    /// Whether this is a nil channel's end (`Receiver::nil()`).
    pub fn is_nil(&self) -> bool {
        self.chan.is_none()
    }

    /// Receive the next value; `None` once the channel is closed and drained. On a nil channel it
    /// waits forever.
    pub fn recv(&self) -> RecvFuture<'_, T> {
        RecvFuture {
            chan: self.chan.as_deref(),
            wait: RecvWait::default(),
        }
    }

    /// Receive without waiting: `Empty` if nothing is buffered and no sender is parked (always, on a
    /// nil channel), `Closed` if the channel is closed and drained.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let Some(chan) = self.chan.as_deref() else {
            return Err(TryRecvError::Empty);
        };
        if let Some(v) = chan.try_pop_fast() {
            return Ok(v);
        }
        let mut wake = WakeList::new();
        let res = {
            let l = chan.lock();
            chan.with(&l, |h| h.recv(&mut wake))
        };
        wake.wake_all();
        res
    }

    /// Whether the channel has been closed (values may still be buffered; false for a nil channel).
    pub fn is_closed(&self) -> bool {
        self.chan.as_deref().is_some_and(Chan::is_closed)
    }

    /// Values in the buffer (Go's `len(ch)`; 0 for a nil channel).
    pub fn len(&self) -> usize {
        self.chan.as_deref().map_or(0, Chan::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Buffer size given to `channel` (Go's `cap(ch)`; 0 for a nil channel).
    pub fn cap(&self) -> usize {
        self.chan.as_deref().map_or(0, |c| c.cap)
    }

    /// The channel, `None` for a nil channel.
    pub(crate) fn raw_chan(&self) -> Option<&Chan<T>> {
        self.chan.as_deref()
    }

    #[cfg(test)]
    pub(crate) fn chan(&self) -> &Chan<T> {
        self.chan.as_deref().expect("chan: test on a nil channel")
    }
}

impl<T> Default for Receiver<T> {
    /// A nil channel's end, like Go's zero-value `chan T`.
    fn default() -> Self {
        Receiver::nil()
    }
}

impl<T> Sender<T> {
    /// The channel, `None` for a nil channel.
    pub(crate) fn raw_chan(&self) -> Option<&Chan<T>> {
        self.chan.as_deref()
    }

    /// Whether any `Receiver` of this channel is still alive. Only `Sender`s and `Receiver`s hold the
    /// shared channel, so the receivers are the references that are not senders. A snapshot: used to
    /// prune listeners nobody reads any more (`signal.rs`). False for a nil channel.
    pub(crate) fn has_receivers(&self) -> bool {
        self.chan
            .as_ref()
            .is_some_and(|chan| Arc::strong_count(chan) > chan.senders.load(Ordering::Acquire))
    }

    /// Whether `rx` receives from this sender's channel (never for nil channels).
    pub(crate) fn same_channel(&self, rx: &Receiver<T>) -> bool {
        match (&self.chan, &rx.chan) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
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
        if let Some(chan) = &self.chan {
            self.next.cancel(chan);
        }
    }
}

impl<T> futures_core::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        match &this.chan {
            Some(chan) => this.next.poll(chan, cx),
            None => nil_wait(WaitReason::ChanReceiveNilChan),
        }
    }
}

/// An operation on a nil channel: waits forever. Nothing will wake it; the G stays parked (and is
/// reported with `reason`) until its future is dropped.
pub(super) fn nil_wait<R>(reason: WaitReason) -> Poll<R> {
    set_waitreason(reason);
    Poll::Pending
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_nil() {
            return f.write_str("Sender(nil)");
        }
        f.debug_struct("Sender")
            .field("cap", &self.cap())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_nil() {
            return f.write_str("Receiver(nil)");
        }
        f.debug_struct("Receiver")
            .field("cap", &self.cap())
            .finish_non_exhaustive()
    }
}
