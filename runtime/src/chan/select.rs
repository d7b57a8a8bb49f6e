//! `select!`: Go's `select` statement (runtime/select.go: `selectgo`, `sellock`, `selunlock`).
//!
//! ```ignore
//! gort::select! {
//!     recv(rx) -> v => { /* v: Option<T>; None if rx's channel is closed */ },
//!     send(tx, value) -> res => { /* res: Result<(), SendError<T>> */ },
//!     default => { /* nothing was ready */ },
//! }
//! ```
//! Exactly one arm runs. Without `default` the macro awaits until some case can proceed; with it, it
//! never waits (and also works outside async code). A case on a closed channel is ready: a receive
//! yields `None`, a send yields its value back in the `SendError`. Arms that lose take nothing: a
//! losing receive consumes nothing and a losing send delivers nothing (its value is dropped with the
//! select's state), on unbuffered channels too. `select! {}` waits forever, like Go's `select {}`.
//!
//! # How it works: Go's `selectgo`, as a future
//! The macro (select/walk.rs) turns each arm into a *case* (`RecvCase`, `SendCase`: Go's `scase`) in a
//! local variable, and awaits `Select` over them as `&mut dyn Case` (cases have different element
//! types). `Select`:
//! 1. Draws a random `pollorder` (a permutation of the cases, `crate::util::rand`) and, before any lock
//!    (*pass 0*, not in Go), tries each case's lock-free fast path in that order (chan/ring.rs: a
//!    buffered channel with a value or room and nobody parked); the first that succeeds fires. Then it
//!    sorts the cases by channel address into `lockorder`.
//! 2. `sellock`: locks every distinct channel, in address order. Any two selects take shared locks in
//!    the same order, so they cannot deadlock; a channel that appears in two cases is locked once.
//! 3. Pass 1: tries each case in pollorder; the first that can proceed completes (the same code as
//!    `try_send` / `try_recv`) and the select is done. The random order is what makes a select with
//!    several ready cases pick each with equal probability.
//! 4. Nothing ready: with `default`, done. Otherwise pass 2: park one sudog per case on its channel, all
//!    pointing at one fresh `SelectWaiter` (Go's `g.selectDone` plus the task's waker). Still under
//!    all the locks, so no case can become ready between pass 1 and pass 2. Unlock, return `Pending`.
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
//! # Cancellation
//! Dropping a parked `Select` first CASes its state WAITING -> CANCELLED so no channel can fire it any
//! more, then withdraws every sudog. If a case had already fired, the CAS fails and that case is
//! settled as if it had been polled: a send stays sent; a receive's value goes back to its channel
//! (`HChan::give_back`), so nothing is lost.
//!
//! # Differences from Go
//! - Go's selecting G blocks inside `selectgo`; here pass 3 runs on the poll after the wake, and a
//!   `Select` may also be dropped while parked (see above).
//! - Go keeps `pollorder`/`lockorder` on the stack; so do we, as const-generic arrays, so a select that
//!   does not park allocates nothing. Parking allocates the shared `SelectWaiter`.
//! - Go's select on a closed channel's send case panics; here the arm gets the value back.
//! - The cases must be `Send` (the macro's future is typically spawned), so element types must be too.
//! - Under loom, `pollorder` is the identity: loom needs every run of a model to be reproducible.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::chan::{
    Chan, Dir, Locked, Receiver, SendError, Sender, TryRecvError, TrySendError, Waiter, WakeList,
};
use crate::sched::coop::poll_preempt;
use crate::sched::g::{set_waitreason, WaitReason};
use crate::util::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::util::loom::sync::{Arc, Mutex};

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;
mod walk;

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
    /// the waker, so either it reads the waker stored here, or this load sees its CAS.
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
    chan: &'a Chan<T>,
    key: Option<usize>,
    out: Option<Option<T>>,
}

impl<'a, T> RecvCase<'a, T> {
    pub fn new(rx: &'a Receiver<T>) -> Self {
        RecvCase {
            chan: rx.chan(),
            key: None,
            out: None,
        }
    }

    /// The received value (`None`: closed) if this case fired.
    pub fn take_fired(&mut self) -> Option<Option<T>> {
        self.out.take()
    }
}

impl<'a, T> Case<'a> for RecvCase<'a, T> {
    fn chan_id(&self) -> usize {
        self.chan.id()
    }

    fn lock(&self) -> Locked<'a> {
        self.chan.lock()
    }

    fn try_fast(&mut self) -> bool {
        let Some(v) = self.chan.try_pop_fast() else {
            return false;
        };
        self.out = Some(Some(v));
        true
    }

    fn try_fire(&mut self, locked: &Locked<'a>, wake: &mut WakeList) -> bool {
        match self.chan.with(locked, |h| h.recv(wake)) {
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
        self.key = Some(self.chan.with(locked, |h| h.park_recv(waiter)));
    }

    fn unpark(&mut self, fired: bool, keep: bool, wake: &mut WakeList) {
        let Some(key) = self.key.take() else { return };
        let retired = {
            let l = self.chan.lock();
            self.chan.with(&l, |h| {
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
    chan: &'a Chan<T>,
    /// The value while it is not parked in a sudog (and after a losing case got it back).
    value: Option<T>,
    key: Option<usize>,
    out: Option<Result<(), SendError<T>>>,
}

impl<'a, T> SendCase<'a, T> {
    pub fn new(tx: &'a Sender<T>, value: T) -> Self {
        SendCase {
            chan: tx.chan(),
            value: Some(value),
            key: None,
            out: None,
        }
    }

    /// The send's outcome if this case fired.
    pub fn take_fired(&mut self) -> Option<Result<(), SendError<T>>> {
        self.out.take()
    }
}

impl<'a, T> Case<'a> for SendCase<'a, T> {
    fn chan_id(&self) -> usize {
        self.chan.id()
    }

    fn lock(&self) -> Locked<'a> {
        self.chan.lock()
    }

    fn try_fast(&mut self) -> bool {
        let Some(v) = self.value.take() else {
            panic!("select: send case without a value")
        };
        match self.chan.try_push_fast(v) {
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
        match self.chan.with(locked, |h| h.send(v, wake)) {
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
        self.key = Some(self.chan.with(locked, |h| h.park_send(v, waiter)));
    }

    fn unpark(&mut self, fired: bool, _keep: bool, _wake: &mut WakeList) {
        let Some(key) = self.key.take() else { return };
        let r = {
            let l = self.chan.lock();
            self.chan.with(&l, |h| h.retire(key, Dir::Send))
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

/// The select future: passes 1 and 2 on its first poll, pass 3 once a case has fired. Its output is
/// `()`; the fired case holds the result (`take_fired`).
#[must_use = "futures do nothing unless polled"]
pub struct Select<'s, 'a, const N: usize> {
    cases: [&'s mut (dyn Case<'a> + Send + 's); N],
    /// Set while parked (after pass 2, before pass 3).
    parked: Option<Arc<SelectWaiter>>,
    done: bool,
}

/// A select without `default`.
pub fn select<'s, 'a, const N: usize>(
    cases: [&'s mut (dyn Case<'a> + Send + 's); N],
) -> Select<'s, 'a, N> {
    Select {
        cases,
        parked: None,
        done: false,
    }
}

/// A select with `default`: passes 1 only. Returns whether a case fired.
pub fn try_select<'s, 'a, const N: usize>(
    mut cases: [&'s mut (dyn Case<'a> + Send + 's); N],
) -> bool {
    matches!(selectgo(&mut cases, None), Polled::Fired)
}

enum Polled {
    Fired,
    NotReady,
    Parked(Arc<SelectWaiter>),
}

/// Passes 1 and 2 of Go's `selectgo`, under the locks of all the cases' channels. With `park`, a select
/// that finds nothing ready parks a sudog per case; without it (`default`), it just reports that.
fn selectgo<'a, const N: usize>(
    cases: &mut [&mut (dyn Case<'a> + Send + '_); N],
    park: Option<&Waker>,
) -> Polled {
    let pollorder = pollorder::<N>();
    // Pass 0 (not in Go): each case's lock-free fast path, in pollorder, before taking any lock. A
    // buffered case that can proceed with nobody parked completes here; anything else (unbuffered,
    // closed, someone parked) falls through to Go's passes.
    for &i in &pollorder {
        if cases[i].try_fast() {
            return Polled::Fired;
        }
    }
    let mut lockorder: [usize; N] = std::array::from_fn(|i| i);
    lockorder.sort_unstable_by_key(|&i| cases[i].chan_id());

    // sellock: each distinct channel once, in address order. `lock_of[case]` indexes its lock.
    let mut locks: [Option<Locked<'a>>; N] = std::array::from_fn(|_| None);
    let mut lock_of = [0usize; N];
    let mut last: Option<(usize, usize)> = None; // (channel id, index in `locks`)
    for (pos, &i) in lockorder.iter().enumerate() {
        let id = cases[i].chan_id();
        lock_of[i] = match last {
            Some((prev, at)) if prev == id => at,
            _ => {
                locks[pos] = Some(cases[i].lock());
                last = Some((id, pos));
                pos
            }
        };
    }
    let locked = |i: usize| match &locks[lock_of[i]] {
        Some(l) => l,
        None => panic!("select: case {i} has no lock"),
    };

    let mut wake = WakeList::new();
    let mut out = Polled::NotReady;
    for &i in &pollorder {
        if cases[i].try_fire(locked(i), &mut wake) {
            out = Polled::Fired;
            break;
        }
    }
    if let (Polled::NotReady, Some(waker)) = (&out, park) {
        let sel = Arc::new(SelectWaiter::new(waker.clone()));
        for &i in &lockorder {
            cases[i].park(locked(i), &sel, i);
        }
        out = Polled::Parked(sel);
    }
    drop(locks); // selunlock
    wake.wake_all();
    out
}

/// Pass 3: settle every case once the select has fired (`fired`) or been cancelled.
fn unpark_all<const N: usize>(
    cases: &mut [&mut (dyn Case<'_> + Send + '_); N],
    fired: Option<usize>,
    keep: bool,
) {
    let mut wake = WakeList::new();
    for (i, c) in cases.iter_mut().enumerate() {
        c.unpark(fired == Some(i), keep, &mut wake);
    }
    wake.wake_all();
}

/// Go's `pollorder`: a uniformly random permutation of the cases (inside-out Fisher-Yates).
#[cfg(not(loom))]
fn pollorder<const N: usize>() -> [usize; N] {
    let mut order = [0usize; N];
    for i in 1..N {
        let j = crate::util::rand::fastrand_n((i + 1) as u32) as usize;
        order[i] = order[j];
        order[j] = i;
    }
    order
}

#[cfg(loom)]
fn pollorder<const N: usize>() -> [usize; N] {
    std::array::from_fn(|i| i)
}

impl<const N: usize> Future for Select<'_, '_, N> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        if poll_preempt(cx).is_pending() {
            return Poll::Pending;
        }
        let fired = match &this.parked {
            None => match selectgo(&mut this.cases, Some(cx.waker())) {
                Polled::Fired => {
                    this.done = true;
                    return Poll::Ready(());
                }
                Polled::Parked(sel) => {
                    // A case may have fired while it parked: a lock-free send or receive that got in
                    // before the channel's fast path was switched off (chan/hchan.rs: `settle`).
                    let fired = sel.poll_fired(cx.waker());
                    this.parked = Some(sel);
                    fired
                }
                Polled::NotReady => panic!("select: a parking select did not park"),
            },
            Some(sel) => sel.poll_fired(cx.waker()),
        };
        if let Some(i) = fired {
            this.parked = None;
            this.done = true;
            unpark_all(&mut this.cases, Some(i), true);
            return Poll::Ready(());
        }
        set_waitreason(WaitReason::Select);
        Poll::Pending
    }
}

impl<const N: usize> Drop for Select<'_, '_, N> {
    fn drop(&mut self) {
        if let Some(sel) = self.parked.take() {
            let fired = sel.cancel();
            unpark_all(&mut self.cases, fired, false);
        }
    }
}

/// What the macro expansion names. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use super::{case, select, try_select, Case, RecvCase, Select, SelectWaiter, SendCase};
    pub use crate::chan::{Locked, WakeList};
}
