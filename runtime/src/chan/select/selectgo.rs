//! The select engine: Go's `selectgo` (runtime/select.go: `selectgo`, `sellock`, `selunlock`), split
//! into the passes a future can run one poll at a time, plus the future arms Go does not have.
//!
//! `selectgo` runs passes 1 and 2 under the locks of every case's channel; `unpark_all` is pass 3;
//! `Engine` is the state a select keeps between polls (its parked `SelectWaiter`) and the poll loop
//! that interleaves the channel cases with the future arms. The algorithm, and the argument for why
//! every case fires at most once and no value is lost, are in chan/select.rs's header.
//!
//! Where this differs from Go: Go's `selectgo` keeps its orders in one stack array and heap-sorts the
//! lock order; here the caller hands in `Scratch` (stack arrays for `select!`, `Vec`s for
//! `chan::Select`) and `lockorder` is `pollorder` stably sorted by channel, so that cases of one
//! channel are queued in random order (Go gets the same effect from its heap sort seeded by
//! `pollorder`).

use std::task::{Context, Poll, Waker};

use super::{Case, FutArm, SelectWaiter};
use crate::chan::{Locked, WakeList};
use crate::sched::coop::poll_preempt;
use crate::sched::g::{set_waitreason, WaitReason};
use crate::util::loom::sync::Arc;

/// Room for one run of `selectgo`, one slot per case. `locks` must be all `None` on entry; `selectgo`
/// leaves it so, so one `Scratch` serves several runs.
pub(crate) struct Scratch<'s, 'a> {
    pub(crate) pollorder: &'s mut [usize],
    pub(crate) lockorder: &'s mut [usize],
    /// For each case, the index in `locks` of its channel's lock (`NIL` for a nil case).
    pub(crate) lock_of: &'s mut [usize],
    pub(crate) locks: &'s mut [Option<Locked<'a>>],
}

/// The result of passes 1 and 2.
enum Polled {
    /// Case `i` completed in pass 1.
    Fired(usize),
    /// Nothing was ready, and nothing was parked (no waker given, or every case is nil).
    NotReady,
    /// Nothing was ready; every live case parked a sudog pointing at this waiter.
    Parked(Arc<SelectWaiter>),
}

/// The arm that won a select.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Won {
    Case(usize),
    Future(usize),
}

/// Passes 1 and 2 of Go's `selectgo`, under the locks of all the live cases' channels. With `park`, a
/// select that finds nothing ready parks a sudog per live case; without it (`default`), it just
/// reports that.
#[inline]
fn selectgo<'a>(
    cases: &mut [&mut (dyn Case<'a> + Send + '_)],
    s: &mut Scratch<'_, 'a>,
    park: Option<&Waker>,
) -> Polled {
    fill_pollorder(s.pollorder);
    // Pass 0 (not in Go): each live case's lock-free fast path, in pollorder, before taking any
    // lock. A buffered case that can proceed with nobody parked completes here; anything else
    // (unbuffered, closed, someone parked) falls through to Go's passes.
    for &i in s.pollorder.iter() {
        if !cases[i].is_nil() && cases[i].try_fast() {
            return Polled::Fired(i);
        }
    }
    // Each case's channel id, once (`NIL` for a nil case), kept in `lock_of` until the locks replace
    // it below; a channel id is an address, never `NIL`.
    for (i, key) in s.lock_of.iter_mut().enumerate() {
        *key = if cases[i].is_nil() {
            NIL
        } else {
            cases[i].chan_id()
        };
    }
    // lockorder: pollorder sorted by channel, stably, so cases of one channel keep their (random)
    // poll order, which is the order they queue in.
    for (lo, &po) in s.lockorder.iter_mut().zip(s.pollorder.iter()) {
        *lo = po;
    }
    sort_stable_by_key(s.lockorder, s.lock_of);

    // sellock: each distinct channel once, in address order. Nil cases take no lock.
    let mut last: Option<(usize, usize)> = None; // (channel id, index in `locks`)
    for (pos, &i) in s.lockorder.iter().enumerate() {
        let id = s.lock_of[i];
        if id == NIL {
            continue;
        }
        s.lock_of[i] = match last {
            Some((prev, at)) if prev == id => at,
            _ => {
                s.locks[pos] = Some(cases[i].lock());
                last = Some((id, pos));
                pos
            }
        };
    }
    let Some(_) = last else {
        return Polled::NotReady; // every case is nil: nothing to lock, try or park
    };

    let mut wake = WakeList::new();
    let mut out = Polled::NotReady;
    {
        let locks = &*s.locks;
        let lock_of = &*s.lock_of;
        let locked = |i: usize| match &locks[lock_of[i]] {
            Some(l) => l,
            None => panic!("select: case {i} has no lock"),
        };
        for &i in s.pollorder.iter() {
            if lock_of[i] != NIL && cases[i].try_fire(locked(i), &mut wake) {
                out = Polled::Fired(i);
                break;
            }
        }
        if let (Polled::NotReady, Some(waker)) = (&out, park) {
            let sel = Arc::new(SelectWaiter::new(waker.clone()));
            for &i in s.lockorder.iter() {
                if lock_of[i] != NIL {
                    cases[i].park(locked(i), &sel, i);
                }
            }
            out = Polled::Parked(sel);
        }
    }
    // selunlock
    for l in s.locks.iter_mut() {
        *l = None;
    }
    wake.wake_all();
    out
}

/// `lock_of`'s mark for a nil case (before and after the locks are taken: a lock index is below the
/// number of cases, a channel id is an address).
const NIL: usize = usize::MAX;

/// Sort the case indices in `order` by `key[case]`, keeping equal keys in their order. Insertion sort
/// for the few cases a `select!` has (no allocation, no calls); the library's stable sort for the
/// many a `chan::Select` may have.
#[inline]
fn sort_stable_by_key(order: &mut [usize], key: &[usize]) {
    if order.len() > 32 {
        order.sort_by_key(|&i| key[i]);
        return;
    }
    for j in 1..order.len() {
        let x = order[j];
        let mut k = j;
        while k > 0 && key[order[k - 1]] > key[x] {
            order[k] = order[k - 1];
            k -= 1;
        }
        order[k] = x;
    }
}

/// A select with `default` (pass 1 only): the case that fired, if any.
#[inline]
pub(crate) fn try_select<'a>(
    cases: &mut [&mut (dyn Case<'a> + Send + '_)],
    s: &mut Scratch<'_, 'a>,
) -> Option<usize> {
    match selectgo(cases, s, None) {
        Polled::Fired(i) => Some(i),
        _ => None,
    }
}

/// Pass 3: settle every case once the select has fired (`fired`) or been cancelled (`keep`: the
/// result will be used; otherwise a fired receive gives its value back).
fn unpark_all(cases: &mut [&mut (dyn Case<'_> + Send + '_)], fired: Option<usize>, keep: bool) {
    let mut wake = WakeList::new();
    for (i, c) in cases.iter_mut().enumerate() {
        c.unpark(fired == Some(i), keep, &mut wake);
    }
    wake.wake_all();
}

/// Go's `pollorder`: a uniformly random permutation of the cases (inside-out Fisher-Yates).
#[cfg(not(loom))]
#[inline]
fn fill_pollorder(order: &mut [usize]) {
    for i in 0..order.len() {
        let j = random_below(i + 1);
        order[i] = order[j];
        order[j] = i;
    }
}

#[cfg(loom)]
fn fill_pollorder(order: &mut [usize]) {
    for (i, o) in order.iter_mut().enumerate() {
        *o = i;
    }
}

/// A random number in `0..n` (`n > 0`); 0 under loom, whose runs must be reproducible.
#[inline]
fn random_below(n: usize) -> usize {
    if cfg!(loom) || n <= 1 {
        return 0;
    }
    match u32::try_from(n) {
        Ok(n) => crate::util::rand::fastrand_n(n) as usize,
        Err(_) => (crate::util::rand::fastrand64() % n as u64) as usize,
    }
}

/// What a select keeps between polls: its parked waiter, if any (after pass 2, before pass 3).
pub(crate) struct Engine {
    parked: Option<Arc<SelectWaiter>>,
    done: bool,
}

impl Engine {
    pub(crate) fn new() -> Self {
        Engine {
            parked: None,
            done: false,
        }
    }

    /// One poll of a select without `default` over channel `cases` and future arms `futs`: `Ready`
    /// with the arm that won, or `Pending` with every live case parked and every future holding the
    /// waker. See chan/select.rs, "Future arms", for why futures are only polled while nothing is
    /// parked. Polling again after `Ready` is a bug of the caller.
    pub(crate) fn poll<'a>(
        &mut self,
        cases: &mut [&mut (dyn Case<'a> + Send + '_)],
        futs: &mut [&mut (dyn FutArm + Send + '_)],
        s: &mut Scratch<'_, 'a>,
        cx: &mut Context<'_>,
    ) -> Poll<Won> {
        assert!(!self.done, "select: polled after it completed");
        if poll_preempt(cx).is_pending() {
            return Poll::Pending;
        }
        let won = self.poll_arms(cases, futs, s, cx);
        match won {
            Poll::Ready(_) => self.done = true,
            Poll::Pending => set_waitreason(WaitReason::Select),
        }
        won
    }

    fn poll_arms<'a>(
        &mut self,
        cases: &mut [&mut (dyn Case<'a> + Send + '_)],
        futs: &mut [&mut (dyn FutArm + Send + '_)],
        s: &mut Scratch<'_, 'a>,
        cx: &mut Context<'_>,
    ) -> Poll<Won> {
        if let Some(sel) = &self.parked {
            if futs.is_empty() {
                // Channels only: the wake came from the case that fired (or is spurious).
                let Some(i) = sel.poll_fired(cx.waker()) else {
                    return Poll::Pending;
                };
                self.parked = None;
                unpark_all(cases, Some(i), true);
                return Poll::Ready(Won::Case(i));
            }
            // Future arms: stop the channels before polling any future.
            let fired = sel.cancel();
            self.parked = None;
            unpark_all(cases, fired, true);
            if let Some(i) = fired {
                return Poll::Ready(Won::Case(i));
            }
        }
        // Nothing is parked, so no channel can fire a case behind our back from here on.
        if !futs.is_empty() {
            let live = cases.iter().filter(|c| !c.is_nil()).count();
            if random_below(live + futs.len()) < live {
                if let Polled::Fired(i) = selectgo(cases, s, None) {
                    return Poll::Ready(Won::Case(i));
                }
            }
            let start = random_below(futs.len());
            for k in 0..futs.len() {
                let j = (start + k) % futs.len();
                if futs[j].poll_arm(cx) {
                    return Poll::Ready(Won::Future(j));
                }
            }
        }
        match selectgo(cases, s, Some(cx.waker())) {
            Polled::Fired(i) => Poll::Ready(Won::Case(i)),
            Polled::Parked(sel) => {
                // A case may have fired while it parked: a lock-free send or receive that got in
                // before the channel's fast path was switched off (chan/hchan.rs: `settle`).
                if let Some(i) = sel.poll_fired(cx.waker()) {
                    unpark_all(cases, Some(i), true);
                    return Poll::Ready(Won::Case(i));
                }
                self.parked = Some(sel);
                Poll::Pending
            }
            // Every case is nil (or there are none): only a future arm can end this select.
            Polled::NotReady => Poll::Pending,
        }
    }

    /// The select is dropped: withdraw a parked select's sudogs so no channel can fire it, and settle a
    /// case that fired first, which is returned. `keep`: its result stays in the case (the cases
    /// outlive the select, as `chan::Select`'s do); otherwise what can be undone is (a received value
    /// goes back to its channel; a send that happened stays sent).
    pub(crate) fn cancel(
        &mut self,
        cases: &mut [&mut (dyn Case<'_> + Send + '_)],
        keep: bool,
    ) -> Option<usize> {
        let sel = self.parked.take()?;
        let fired = sel.cancel();
        unpark_all(cases, fired, keep);
        fired
    }

    /// Whether a sudog of this select may be queued on some channel.
    pub(crate) fn is_parked(&self) -> bool {
        self.parked.is_some()
    }
}
