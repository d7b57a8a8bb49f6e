//! `select!` and `chan::Select`: Go's `select` statement (runtime/select.go: `selectgo`, `sellock`,
//! `selunlock`) and `reflect.Select` (reflect/value.go, runtime/select.go: `reflect_rselect`).
//!
//! ```ignore
//! gort::select! {
//!     recv(rx) -> v => { /* v: Option<T>; None if rx's channel is closed */ },
//!     send(tx, value) -> res => { /* res: Result<(), SendError<T>> */ },
//!     send_from(tx, &mut slot) -> res => { /* sends slot's value; a losing arm leaves it there */ },
//!     fut(some_future) -> out => { /* any future; a losing one is dropped */ },
//!     default => { /* nothing was ready */ },
//! }
//! ```
//! The macro's documentation (select/walk.rs) is the user's guide; this header is the algorithm.
//! `chan::Select` (select/dynamic.rs) is the same engine over cases added at run time.
//!
//! # How it works: Go's `selectgo`, as a future
//! The macro turns each channel arm into a *case* (`RecvCase`, `SendCase`: Go's `scase`) in a local
//! variable, and awaits `SelectFuture` over them as `&mut dyn Case` (cases have different element
//! types). The engine (select/selectgo.rs):
//! 1. Draws a random `pollorder` (a permutation of the cases, `crate::util::rand`) and sorts it, with a
//!    *stable* sort, by channel address into `lockorder`. Cases on one channel therefore sit in
//!    `lockorder` in their (random) poll order, which matters in step 4.
//!    Before any lock (*pass 0*, not in Go) each live case's lock-free fast path is tried in
//!    `pollorder` (chan/ring.rs: a buffered channel with a value or room and nobody parked); the
//!    first that succeeds fires.
//! 2. `sellock`: locks every distinct channel, in address order. Any two selects take shared locks in
//!    the same order, so they cannot deadlock; a channel that appears in two cases is locked once.
//! 3. Pass 1: tries each case in pollorder; the first that can proceed completes (the same code as
//!    `try_send` / `try_recv`) and the select is done. The random order is what makes a select with
//!    several ready cases pick each with equal probability.
//! 4. Nothing ready: with `default`, done. Otherwise pass 2: park one sudog per case on its channel, in
//!    lockorder, all pointing at one fresh `SelectWaiter` (Go's `g.selectDone` plus the task's waker).
//!    Still under all the locks, so no case can become ready between pass 1 and pass 2. Unlock, return
//!    `Pending`. Two cases on one channel are queued in random order, so a counterpart that takes the
//!    queue's head fires either with equal probability (Go's TestPseudoRandomSend); queued in source
//!    order, the first arm would always win.
//! 5. A counterpart on any of these channels (or `close`) that dequeues one of the sudogs first claims
//!    the select with a CAS on `SelectWaiter::state`: WAITING -> FIRED(case). The winner completes its
//!    sudog and wakes the task; any other channel that later dequeues one of this select's sudogs sees
//!    the CAS fail and skips it (`Sudog::claim` in sudog.rs, called by `WaitList::dequeue`). So exactly
//!    one case fires.
//! 6. Pass 3, on the next poll after the wake: for the fired case, take the result from its sudog; for
//!    every other case, withdraw its sudog (locking one channel at a time; the state is final now, so
//!    the locks need not be held together). A send withdrawn this way gets its value back unsent.
//!
//! Why the all-locks step matters: a select only ever *completes* cases while it has no sudog queued
//! (pass 1), and is only ever *completed by others* while fully queued (after pass 2). With both
//! states separated by holding every lock, two selects never need to claim each other at once.
//!
//! # Nil cases
//! A case on a nil channel (`Sender::nil()`, `Receiver::nil()`, a `None` arm, a `send_from` whose
//! slot is empty) reports `is_nil`, and `selectgo` skips it entirely, as Go's does (`cas.c == nil`):
//! it takes no lock, is never tried, never parks. A select whose cases are all nil parks nothing and
//! stays `Pending` forever (no `default`), like Go's.
//!
//! # Future arms
//! `fut(f)` arms are polled by the same future, outside every channel lock (a future may itself use
//! one of these channels). The rule that keeps Go's exactly-once for the channel cases: **futures are
//! only polled while no sudog of this select is queued**, so no channel can fire a case while a
//! future is completing. On each poll:
//! - If parked: CAS WAITING -> CANCELLED first. If that fails, a channel case fired: it wins (a send
//!   that happened cannot be undone; a received value is the result), and the futures are not polled.
//!   If it succeeds, no channel can fire any more: withdraw every sudog (nothing to give back).
//! - Nothing is parked now. Pick the group to try first at random, weighted by its size (so that when
//!   everything is ready each arm wins with equal probability): channels (pass 1 only) or futures
//!   (each polled once, from a random start). The first ready arm wins; a ready future's output is
//!   the result and every other arm is dropped.
//! - Nothing ready: pass 1 and 2 again (a channel may have become ready while futures were polled),
//!   parking a fresh `SelectWaiter`. Every future has registered the waker, so a future becoming ready
//!   wakes the task, which then cancels and re-parks as above.
//!
//! A losing future arm is dropped (cancelled), as in tokio's `select!`: use futures that lose nothing
//! when dropped (a channel's `recv()` gives a taken value back; `accept()` does too).
//!
//! # Cancellation
//! Dropping a parked select first CASes its state WAITING -> CANCELLED so no channel can fire it any
//! more, then withdraws every sudog. If a case had already fired, the CAS fails and that case is
//! settled as if it had been polled: a send stays sent; a receive's value goes back to its channel
//! (`HChan::give_back`), so nothing is lost.
//!
//! # Differences from Go
//! - Go's selecting G blocks inside `selectgo`; here pass 3 runs on the poll after the wake, and a
//!   select may also be dropped while parked (see above).
//! - Go keeps `pollorder`/`lockorder` on the stack; `select!` does too, as const-generic arrays, so a
//!   select that does not park allocates nothing. Parking allocates the shared `SelectWaiter`.
//!   `chan::Select` keeps them in `Vec`s.
//! - Go sorts `lockorder` with a heap sort seeded by `pollorder`; here a stable sort of `pollorder`.
//!   Either way, cases of one channel are locked once and queued in a random order.
//! - Go's select on a closed channel's send case panics; here the arm gets the value back.
//! - Go has no future arms, and a losing send's value is just a copy there; here `send_from` leaves an
//!   unsent value in the caller's slot (and `chan::Select` hands it back).
//! - The cases must be `Send` (the macro's future is typically spawned), so element types must be too.
//! - Under loom, `pollorder` is the identity: loom needs every run of a model to be reproducible.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::chan::{Chan, Dir, Locked, SendError, TryRecvError, TrySendError, Waiter, WakeList};
use crate::util::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::util::loom::sync::{Arc, Mutex};

mod arms;
mod dynamic;
#[cfg(all(test, loom))]
mod loom_tests;
mod selectgo;
#[cfg(all(test, not(loom)))]
mod tests;
mod walk;

pub use arms::{AsReceiver, AsSender, FutArm, FutCase, SendFromCase};
pub use dynamic::{Select, SelectRecv, SelectSend, SelectWait};
use selectgo::{Engine, Scratch, Won};

const WAITING: usize = 0;
const CANCELLED: usize = 1;
/// `FIRED + i`: case `i` fired.
const FIRED: usize = 2;

/// What one parked select shares with every channel it waits on: Go's `g.selectDone` (here also
/// telling *which* case fired) and the task's waker.
pub struct SelectWaiter {
    /// WAITING, then exactly one transition: to FIRED + case (by a channel) or CANCELLED (by the owner).
    state: AtomicUsize,
    /// The waker to call when a case fires. Read by the firing channel after its CAS, written by the
    /// owner on each poll; the mutex orders the two (see `poll_fired`).
    waker: Mutex<Option<Waker>>,
}

impl SelectWaiter {
    fn new(waker: Waker) -> Self {
        SelectWaiter {
            state: AtomicUsize::new(WAITING),
            waker: Mutex::new(Some(waker)),
        }
    }

    /// Claim this select for `case`. Called by a channel, under its lock, just before it completes the
    /// select's sudog for `case`; `false` means the select already fired or was cancelled, and the
    /// caller must skip the sudog. AcqRel: the claim is the one decision every party agrees on.
    pub(crate) fn try_fire(&self, case: usize) -> bool {
        self.state
            .compare_exchange(WAITING, FIRED + case, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The waker to call after a successful `try_fire`.
    pub(crate) fn waker(&self) -> Option<Waker> {
        crate::util::loom::lock(&self.waker).clone()
    }

    #[cfg(test)]
    pub(crate) fn is_waiting(&self) -> bool {
        self.state.load(Ordering::Acquire) == WAITING
    }

    /// The owner's poll: the fired case, or `None` after making sure `waker` will be woken. The state
    /// is read while holding the waker lock: a channel does its CAS before it takes that lock to read
    /// the waker, so either it reads the waker stored here, or this load sees its CAS. Lock order: a
    /// channel takes this waker lock under its own lock (`Sudog::complete`), so nothing here may take
    /// a channel lock while holding it.
    fn poll_fired(&self, waker: &Waker) -> Option<usize> {
        let old = {
            let mut slot = crate::util::loom::lock(&self.waker);
            let s = self.state.load(Ordering::Acquire);
            if s >= FIRED {
                return Some(s - FIRED);
            }
            match slot.as_ref() {
                Some(w) if w.will_wake(waker) => None,
                _ => slot.replace(waker.clone()),
            }
        };
        drop(old);
        None
    }

    /// The owner gives up: after this no channel can fire the select. Returns the case that fired
    /// before that, if any.
    fn cancel(&self) -> Option<usize> {
        match self
            .state
            .compare_exchange(WAITING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => None,
            Err(s) if s >= FIRED => Some(s - FIRED),
            Err(_) => panic!("select: cancelled twice"),
        }
    }
}

/// One case of a select (Go's `scase`), type-erased so cases of different element types sit in one
/// array. Implemented by `RecvCase` and `SendCase`; the macro is the only intended caller.
pub trait Case<'a> {
    /// A case on no channel (Go's nil channel), skipped by the engine: none of the methods below is
    /// called on it. Only asked while the case has no sudog parked.
    fn is_nil(&self) -> bool {
        false
    }
    /// The channel's identity, which is also its place in the lock order.
    fn chan_id(&self) -> usize;
    /// Lock this case's channel.
    fn lock(&self) -> Locked<'a>;
    /// Pass 0 (no lock): complete the case through its channel's lock-free fast path (a value in the
    /// ring, or room in it, with nobody parked: chan/ring.rs). `false`: not possible without the
    /// lock, which passes 1 and 2 then take. A case without a fast path keeps the default.
    fn try_fast(&mut self) -> bool {
        false
    }
    /// Pass 1: complete the case now if it can proceed. `locked` is this case's channel lock.
    fn try_fire(&mut self, locked: &Locked<'a>, wake: &mut WakeList) -> bool;
    /// Pass 2: park a sudog for case `index` of the select `sel`. `locked` is this case's channel lock.
    fn park(&mut self, locked: &Locked<'a>, sel: &Arc<SelectWaiter>, index: usize);
    /// Pass 3 (locks by itself): retire the sudog. `fired`: this is the case that fired, so take its
    /// result; `keep == false` (the select was dropped): undo what can be undone (a received value goes
    /// back to the channel).
    fn unpark(&mut self, fired: bool, keep: bool, wake: &mut WakeList);
}

/// `recv(rx) -> v`.
pub struct RecvCase<'a, T> {
    /// `None`: a nil channel.
    chan: Option<&'a Chan<T>>,
    key: Option<usize>,
    out: Option<Option<T>>,
}

impl<'a, T> RecvCase<'a, T> {
    /// `rx`: a `Receiver`, or an `Option` of one (`None` is a nil channel).
    pub fn new<R: AsReceiver<T> + ?Sized>(rx: &'a R) -> Self {
        RecvCase {
            chan: rx.as_receiver().and_then(|rx| rx.raw_chan()),
            key: None,
            out: None,
        }
    }

    /// The channel; the engine never reaches a nil case's channel.
    fn ch(&self) -> &'a Chan<T> {
        match self.chan {
            Some(chan) => chan,
            None => panic!("select: the channel of a nil case"),
        }
    }

    /// The received value (`None`: closed) if this case fired.
    pub fn take_fired(&mut self) -> Option<Option<T>> {
        self.out.take()
    }
}

impl<'a, T> Case<'a> for RecvCase<'a, T> {
    fn is_nil(&self) -> bool {
        self.chan.is_none()
    }

    fn chan_id(&self) -> usize {
        self.ch().id()
    }

    fn lock(&self) -> Locked<'a> {
        self.ch().lock()
    }

    fn try_fast(&mut self) -> bool {
        let Some(v) = self.chan.and_then(Chan::try_pop_fast) else {
            return false;
        };
        self.out = Some(Some(v));
        true
    }

    fn try_fire(&mut self, locked: &Locked<'a>, wake: &mut WakeList) -> bool {
        match self.ch().with(locked, |h| h.recv(wake)) {
            Ok(v) => self.out = Some(Some(v)),
            Err(TryRecvError::Closed) => self.out = Some(None),
            Err(TryRecvError::Empty) => return false,
        }
        true
    }

    fn park(&mut self, locked: &Locked<'a>, sel: &Arc<SelectWaiter>, index: usize) {
        let waiter = Waiter::Select {
            sel: sel.clone(),
            case: index,
        };
        self.key = Some(self.ch().with(locked, |h| h.park_recv(waiter)));
    }

    fn unpark(&mut self, fired: bool, keep: bool, wake: &mut WakeList) {
        let Some(key) = self.key.take() else { return };
        let retired = {
            let l = self.ch().lock();
            self.ch().with(&l, |h| {
                let mut r = h.retire(key, Dir::Recv);
                debug_assert!(
                    fired || r.elem.is_none(),
                    "select: a losing receive got a value"
                );
                debug_assert!(
                    !(fired && r.withdrawn),
                    "select: the fired case was still queued"
                );
                if fired {
                    // success: a sender filled the slot; otherwise `close` fired the case.
                    let v = if r.success { r.elem.take() } else { None };
                    match v {
                        Some(v) if !keep => h.give_back(v, wake),
                        v => self.out = Some(v),
                    }
                }
                r
            })
        };
        drop(retired);
    }
}

/// `send(tx, value) -> res`.
pub struct SendCase<'a, T> {
    /// `None`: a nil channel.
    chan: Option<&'a Chan<T>>,
    /// The value while it is not parked in a sudog (and after a losing case got it back). `None`
    /// while not parked: nothing to send (a `send_from` arm with an empty slot), so the case is nil.
    value: Option<T>,
    key: Option<usize>,
    out: Option<Result<(), SendError<T>>>,
}

impl<'a, T> SendCase<'a, T> {
    /// `tx`: a `Sender`, or an `Option` of one (`None` is a nil channel). `value: None` is a case
    /// with nothing to send, which is off like a nil channel.
    pub fn new<S: AsSender<T> + ?Sized>(tx: &'a S, value: Option<T>) -> Self {
        SendCase {
            chan: tx.as_sender().and_then(|tx| tx.raw_chan()),
            value,
            key: None,
            out: None,
        }
    }

    /// The send's outcome if this case fired.
    pub fn take_fired(&mut self) -> Option<Result<(), SendError<T>>> {
        self.out.take()
    }

    /// The value, if it was not sent (the case lost, never ran, or was withdrawn); `None` while it is
    /// parked in a sudog.
    pub fn take_unsent(&mut self) -> Option<T> {
        self.value.take()
    }

    /// The channel; the engine never reaches a nil case's channel.
    fn ch(&self) -> &'a Chan<T> {
        match self.chan {
            Some(chan) => chan,
            None => panic!("select: the channel of a nil case"),
        }
    }
}

impl<'a, T> Case<'a> for SendCase<'a, T> {
    fn is_nil(&self) -> bool {
        self.chan.is_none() || self.value.is_none()
    }

    fn chan_id(&self) -> usize {
        self.ch().id()
    }

    fn lock(&self) -> Locked<'a> {
        self.ch().lock()
    }

    fn try_fast(&mut self) -> bool {
        let Some(chan) = self.chan else {
            return false;
        };
        let Some(v) = self.value.take() else {
            return false; // an empty `send_from` slot: the case is off
        };
        match chan.try_push_fast(v) {
            Ok(()) => self.out = Some(Ok(())),
            Err(v) => {
                self.value = Some(v);
                return false;
            }
        }
        true
    }

    fn try_fire(&mut self, locked: &Locked<'a>, wake: &mut WakeList) -> bool {
        let Some(v) = self.value.take() else {
            panic!("select: send case without a value")
        };
        match self.ch().with(locked, |h| h.send(v, wake)) {
            Ok(()) => self.out = Some(Ok(())),
            Err(TrySendError::Closed(v)) => self.out = Some(Err(SendError(v))),
            Err(TrySendError::Full(v)) => {
                self.value = Some(v);
                return false;
            }
        }
        true
    }

    fn park(&mut self, locked: &Locked<'a>, sel: &Arc<SelectWaiter>, index: usize) {
        let Some(v) = self.value.take() else {
            panic!("select: send case without a value")
        };
        let waiter = Waiter::Select {
            sel: sel.clone(),
            case: index,
        };
        self.key = Some(self.ch().with(locked, |h| h.park_send(v, waiter)));
    }

    fn unpark(&mut self, fired: bool, _keep: bool, _wake: &mut WakeList) {
        let Some(key) = self.key.take() else { return };
        let r = {
            let l = self.ch().lock();
            self.ch().with(&l, |h| h.retire(key, Dir::Send))
        };
        debug_assert!(
            !(fired && r.withdrawn),
            "select: the fired case was still queued"
        );
        if !fired {
            // Withdrawn, or skipped after the select fired elsewhere: the value was never taken.
            debug_assert!(r.elem.is_some(), "select: a losing send lost its value");
            self.value = r.elem;
        } else if r.success {
            self.out = Some(Ok(()));
        } else {
            // Fired by `close`: the value comes back.
            match r.elem {
                Some(v) => self.out = Some(Err(SendError(v))),
                None => panic!("select: a closed send case lost its value"),
            }
        }
    }
}

/// Coerce a case to the trait object the engine takes (used by the macro).
pub fn case<'s, 'a, C: Case<'a> + Send + 's>(c: &'s mut C) -> &'s mut (dyn Case<'a> + Send + 's) {
    c
}

/// Coerce a future arm to the trait object the engine takes (used by the macro).
pub fn fut_arm<'s, A: FutArm + Send + 's>(a: &'s mut A) -> &'s mut (dyn FutArm + Send + 's) {
    a
}

/// The future of a `select!` without `default`: `N` channel cases and `F` future arms. Its output is
/// `()`; the arm that won holds the result (`take_fired`).
#[must_use = "futures do nothing unless polled"]
pub struct SelectFuture<'s, 'a, const N: usize, const F: usize> {
    cases: [&'s mut (dyn Case<'a> + Send + 's); N],
    futs: [&'s mut (dyn FutArm + Send + 's); F],
    engine: Engine,
}

/// A select without `default`.
pub fn select<'s, 'a, const N: usize, const F: usize>(
    cases: [&'s mut (dyn Case<'a> + Send + 's); N],
    futs: [&'s mut (dyn FutArm + Send + 's); F],
) -> SelectFuture<'s, 'a, N, F> {
    SelectFuture {
        cases,
        futs,
        engine: Engine::new(),
    }
}

/// A select with `default`: pass 1 only. Returns whether a case fired.
pub fn try_select<'s, 'a, const N: usize>(
    mut cases: [&'s mut (dyn Case<'a> + Send + 's); N],
) -> bool {
    let (mut poll, mut lock, mut lock_of) = ([0; N], [0; N], [0; N]);
    let mut locks: [Option<Locked<'a>>; N] = std::array::from_fn(|_| None);
    let mut scratch = Scratch {
        pollorder: &mut poll,
        lockorder: &mut lock,
        lock_of: &mut lock_of,
        locks: &mut locks,
    };
    selectgo::try_select(&mut cases, &mut scratch).is_some()
}

impl<const N: usize, const F: usize> Future for SelectFuture<'_, '_, N, F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let (mut poll, mut lock, mut lock_of) = ([0; N], [0; N], [0; N]);
        let mut locks: [Option<Locked<'_>>; N] = std::array::from_fn(|_| None);
        let mut scratch = Scratch {
            pollorder: &mut poll,
            lockorder: &mut lock,
            lock_of: &mut lock_of,
            locks: &mut locks,
        };
        this.engine
            .poll(&mut this.cases, &mut this.futs, &mut scratch, cx)
            .map(|_: Won| ())
    }
}

impl<const N: usize, const F: usize> Drop for SelectFuture<'_, '_, N, F> {
    fn drop(&mut self) {
        self.engine.cancel(&mut self.cases, false);
    }
}

/// What the macro expansion names. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use super::{
        case, fut_arm, select, try_select, Case, FutArm, FutCase, RecvCase, SelectFuture,
        SelectWaiter, SendCase, SendFromCase,
    };
    pub use crate::chan::{Locked, WakeList};
}
