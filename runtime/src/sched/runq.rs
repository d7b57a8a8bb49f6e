//! A P's local run queue: a fixed ring of 256 Gs plus the `runnext` slot.
//!
//! Mirrors runtime/proc.go: `runqput`, `runqputslow`, `runqget`, `runqgrab`, `runqsteal`, `runqempty`.
//!
//! The ring is single-producer, multi-consumer. Only the M that owns the P pushes (advances `tail`);
//! the owner pops and any thief steals from the front by compare-and-swapping `head`. A consumer
//! first reads the slots it wants, then claims them with one CAS on `head`; if the CAS fails, someone
//! else took them and the reads are discarded. The producer only writes a slot after seeing `head` move
//! past it, so a slot is never overwritten while a successful claim of it is possible.
//!
//! `runnext` holds the G that the running G just made ready (a channel partner, a freshly spawned
//! child). It runs next, ahead of the ring, and inherits the remaining time slice (see
//! `proc.rs: execute`), which is what makes a producer/consumer pair cheap: they hand off on one P
//! without touching the shared ring. Only the owner fills `runnext`; a thief may empty it.
//!
//! # Differences from Go
//! - Slots are `AtomicPtr`s read and written with relaxed ordering. Go reads a slot that may be
//!   concurrently overwritten and relies on the CAS to discard it; in Rust that read would be a data
//!   race (undefined behaviour) on a plain cell, while a relaxed atomic access is defined and costs the
//!   same plain `mov` on x86 and ARM.
//! - Under loom the ring has 4 slots, so models reach "full" and "overflow" in a few steps.

use std::ptr::{self, NonNull};

use crate::sched::g::{GRef, Header};
use crate::util::loom::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

/// Ring capacity (Go: `len(p.runq)` = 256).
#[cfg(not(loom))]
pub(crate) const LEN: usize = 256;
#[cfg(loom)]
pub(crate) const LEN: usize = 4;

const MASK: u32 = LEN as u32 - 1;

pub(crate) struct RunQ {
    /// Next slot to consume. Advanced by the owner and by thieves (CAS).
    head: AtomicU32,
    /// Next slot to fill. Written only by the owner.
    tail: AtomicU32,
    buf: Box<[AtomicPtr<Header>]>,
    /// The G to run next, ahead of the ring. Filled only by the owner; emptied by owner or thief.
    runnext: AtomicPtr<Header>,
}

/// A batch that overflowed the ring and must go to the global run queue (Go's `runqputslow`).
pub(crate) type Overflow = Vec<GRef>;

impl RunQ {
    pub(crate) fn new() -> RunQ {
        RunQ {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            buf: (0..LEN).map(|_| AtomicPtr::new(ptr::null_mut())).collect(),
            runnext: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Go's `runqput`. Owner only. With `next`, `g` goes to `runnext` and the G it displaces goes to
    /// the ring's tail. If the ring is full, half of it plus the G move out as an [`Overflow`] batch
    /// that the caller must put on the global queue (the caller holds no lock here).
    pub(crate) fn put(&self, g: GRef, next: bool) -> Option<Overflow> {
        let mut g = g.into_raw();
        if next {
            let old = self.runnext.swap(g.as_ptr(), Ordering::AcqRel);
            match NonNull::new(old) {
                None => return None,
                Some(old) => g = old,
            }
        }
        loop {
            // Acquire: pairs with the consumers' CAS on head, so their reads of the slots we are about
            // to overwrite happened before.
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Relaxed); // we are the only writer
            if t.wrapping_sub(h) < LEN as u32 {
                self.buf[(t & MASK) as usize].store(g.as_ptr(), Ordering::Relaxed);
                // Release: publishes the slot to consumers that load tail with Acquire.
                self.tail.store(t.wrapping_add(1), Ordering::Release);
                return None;
            }
            // SAFETY: `g` carries the reference we were given; put_slow takes it over.
            if let Some(batch) = self.put_slow(unsafe { GRef::from_raw(g) }, h, t) {
                return Some(batch);
            }
            // A thief emptied part of the ring meanwhile: there is room again. `put_slow` handed the
            // reference back through `g` (it is unchanged), so retry.
        }
    }

    /// Go's `runqputslow`: take half the ring (the oldest Gs) plus `g`. Fails (returns None, and the
    /// caller retries the fast path) if a thief moved `head` in the meantime.
    fn put_slow(&self, g: GRef, h: u32, t: u32) -> Option<Overflow> {
        let n = t.wrapping_sub(h) / 2;
        debug_assert_eq!(n as usize, LEN / 2, "runq is not full");
        let mut batch = Vec::with_capacity(n as usize + 1);
        let ptrs: Vec<*mut Header> = (0..n)
            .map(|i| self.buf[(h.wrapping_add(i) & MASK) as usize].load(Ordering::Relaxed))
            .collect();
        if self
            .head
            .compare_exchange(h, h.wrapping_add(n), Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            // Keep our reference for the retry without touching the refcount.
            std::mem::forget(g);
            return None;
        }
        for p in ptrs {
            // SAFETY: the CAS claimed these slots; each holds one queue reference.
            batch.push(unsafe { GRef::from_raw(NonNull::new_unchecked(p)) });
        }
        batch.push(g);
        Some(batch)
    }

    /// Go's `runqget`. Owner only. Returns the G and whether it came from `runnext` (then it inherits
    /// the time slice).
    pub(crate) fn get(&self) -> Option<(GRef, bool)> {
        let next = self.runnext.load(Ordering::Relaxed);
        if !next.is_null()
            && self
                .runnext
                .compare_exchange(next, ptr::null_mut(), Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            // SAFETY: the CAS took the slot's reference.
            return Some((
                unsafe { GRef::from_raw(NonNull::new_unchecked(next)) },
                true,
            ));
        }
        loop {
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Relaxed);
            if t == h {
                return None;
            }
            let p = self.buf[(h & MASK) as usize].load(Ordering::Relaxed);
            if self
                .head
                .compare_exchange(h, h.wrapping_add(1), Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                // SAFETY: the CAS claimed slot h and its reference.
                return Some((unsafe { GRef::from_raw(NonNull::new_unchecked(p)) }, false));
            }
        }
    }

    /// Go's `runqgrab`: claim half (rounded up) of this queue's Gs for a thief. Returns the raw
    /// pointers; each carries one reference. If the ring is empty and `steal_runnext` is set, take
    /// `runnext` instead, after a short pause if the victim is running (`victim_running`), since the
    /// victim's G is probably about to block and run it itself (see `proc.rs: steal_work`).
    fn grab(&self, out: &mut Vec<NonNull<Header>>, steal_runnext: bool, victim_running: bool) {
        loop {
            let h = self.head.load(Ordering::Acquire);
            // Acquire: pairs with the owner's Release store, so the slots below are filled.
            let t = self.tail.load(Ordering::Acquire);
            let n = t.wrapping_sub(h);
            let n = n - n / 2;
            if n == 0 {
                if steal_runnext {
                    let next = self.runnext.load(Ordering::Acquire);
                    if !next.is_null() {
                        if victim_running {
                            // Go sleeps ~3µs here: a sync channel op takes ~50ns, so this is a
                            // generous window for the victim to finish and run `next` itself.
                            pause_us(3);
                        }
                        if self
                            .runnext
                            .compare_exchange(
                                next,
                                ptr::null_mut(),
                                Ordering::AcqRel,
                                Ordering::Relaxed,
                            )
                            .is_ok()
                        {
                            // SAFETY: the CAS took runnext's reference.
                            out.push(unsafe { NonNull::new_unchecked(next) });
                            return;
                        }
                        continue;
                    }
                }
                return;
            }
            if n > LEN as u32 / 2 {
                // h and t were read at different times and are inconsistent; retry.
                continue;
            }
            let start = out.len();
            for i in 0..n {
                let p = self.buf[(h.wrapping_add(i) & MASK) as usize].load(Ordering::Relaxed);
                // SAFETY: slots between head and tail are non-null (they were filled before tail
                // was published). If a concurrent claim made our view stale the CAS below fails
                // and these copies are discarded.
                out.push(unsafe { NonNull::new_unchecked(p) });
            }
            if self
                .head
                .compare_exchange(h, h.wrapping_add(n), Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
            out.truncate(start);
        }
    }

    /// Go's `runqsteal`: move half of `victim`'s Gs into this (the thief's own, empty-ish) queue and
    /// return one of them to run. Owner of `self` only.
    pub(crate) fn steal_from(
        &self,
        victim: &RunQ,
        steal_runnext: bool,
        victim_running: bool,
    ) -> Option<(GRef, usize)> {
        let mut got = Vec::with_capacity(LEN / 2);
        victim.grab(&mut got, steal_runnext, victim_running);
        let n = got.len();
        let last = got.pop()?;
        if !got.is_empty() {
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Relaxed);
            assert!(
                t.wrapping_sub(h) as usize + got.len() <= LEN,
                "runqsteal: thief's queue overflow"
            );
            for (i, p) in got.into_iter().enumerate() {
                self.buf[(t.wrapping_add(i as u32) & MASK) as usize]
                    .store(p.as_ptr(), Ordering::Relaxed);
            }
            self.tail
                .store(t.wrapping_add(n as u32 - 1), Ordering::Release);
        }
        // SAFETY: grab transferred one reference per pointer.
        Some((unsafe { GRef::from_raw(last) }, n))
    }

    /// Go's `runqempty`: no G in the ring or in runnext. Racy by nature (a snapshot), used for "is
    /// there work anywhere" checks that are re-validated later.
    pub(crate) fn is_empty(&self) -> bool {
        // Go reads head, tail, runnext, then re-reads tail to get a consistent picture: a G moving
        // from runnext to the ring between the reads must not make us report "empty".
        loop {
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Acquire);
            let next = self.runnext.load(Ordering::Acquire);
            if self.tail.load(Ordering::Acquire) == t {
                return h == t && next.is_null();
            }
        }
    }

    /// Number of Gs in the ring and runnext (a snapshot, for stats and schedtrace).
    pub(crate) fn len(&self) -> usize {
        let h = self.head.load(Ordering::Acquire);
        let t = self.tail.load(Ordering::Acquire);
        let ring = t.wrapping_sub(h).min(LEN as u32) as usize;
        ring + usize::from(!self.runnext.load(Ordering::Acquire).is_null())
    }

    /// Take every G out (runtime shutdown or P teardown). Owner only.
    pub(crate) fn drain(&self) -> Vec<GRef> {
        let mut out = Vec::new();
        while let Some((g, _)) = self.get() {
            out.push(g);
        }
        out
    }
}

impl Drop for RunQ {
    fn drop(&mut self) {
        drop(self.drain());
    }
}

/// Spin for about `us` microseconds. A sleep would overshoot: nanosleep of 3µs takes ~50µs on Linux
/// because of timer slack.
fn pause_us(us: u64) {
    #[cfg(not(loom))]
    {
        let end = std::time::Instant::now() + std::time::Duration::from_micros(us);
        while std::time::Instant::now() < end {
            std::hint::spin_loop();
        }
    }
    #[cfg(loom)]
    {
        let _ = us;
        crate::util::loom::thread::yield_now();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sched::g::GRef;
    use crate::sched::Sched;

    fn gs(n: usize) -> Vec<GRef> {
        let sched = Sched::new_for_test();
        (0..n)
            .map(|i| {
                let (q, j, reg) = GRef::new(
                    async {},
                    i as u64 + 1,
                    sched.clone(),
                    crate::sched::g::Origin::here(),
                );
                drop((j, reg));
                q
            })
            .collect()
    }

    fn ids(v: &[GRef]) -> Vec<u64> {
        v.iter().map(|g| g.id()).collect()
    }

    #[test]
    fn put_get_is_fifo_and_runnext_jumps_the_line() {
        let q = RunQ::new();
        let mut v = gs(3);
        let c = v.pop().unwrap();
        let b = v.pop().unwrap();
        let a = v.pop().unwrap();
        assert!(q.put(a, false).is_none());
        assert!(q.put(b, false).is_none());
        assert!(q.put(c, true).is_none());
        assert_eq!(q.len(), 3);
        let (g, inherit) = q.get().unwrap();
        assert_eq!((g.id(), inherit), (3, true));
        let (g, inherit) = q.get().unwrap();
        assert_eq!((g.id(), inherit), (1, false));
        assert_eq!(q.get().unwrap().0.id(), 2);
        assert!(q.get().is_none());
        assert!(q.is_empty());
    }

    #[test]
    fn runnext_displaces_its_old_occupant_to_the_tail() {
        let q = RunQ::new();
        let mut v = gs(2);
        let b = v.pop().unwrap();
        let a = v.pop().unwrap();
        q.put(a, true);
        q.put(b, true);
        assert_eq!(q.get().unwrap().0.id(), 2);
        assert_eq!(q.get().unwrap().0.id(), 1);
    }

    #[test]
    fn full_ring_overflows_half_plus_one_in_order() {
        let q = RunQ::new();
        let mut all = gs(LEN + 1);
        let last = all.pop().unwrap();
        for g in all {
            assert!(q.put(g, false).is_none());
        }
        let batch = q.put(last, false).expect("ring is full");
        assert_eq!(batch.len(), LEN / 2 + 1);
        let mut want: Vec<u64> = (1..=(LEN as u64 / 2)).collect();
        want.push(LEN as u64 + 1);
        assert_eq!(ids(&batch), want);
        assert_eq!(q.len(), LEN / 2);
        assert_eq!(q.get().unwrap().0.id(), LEN as u64 / 2 + 1);
    }

    #[test]
    fn steal_takes_half_rounded_up_and_returns_the_last() {
        let victim = RunQ::new();
        let thief = RunQ::new();
        for g in gs(5) {
            victim.put(g, false);
        }
        let (g, n) = thief.steal_from(&victim, false, false).unwrap();
        assert_eq!(n, 3);
        assert_eq!(g.id(), 3);
        assert_eq!(ids(&thief.drain()), vec![1, 2]);
        assert_eq!(ids(&victim.drain()), vec![4, 5]);
    }

    #[test]
    fn steal_takes_runnext_only_when_asked_and_ring_empty() {
        let victim = RunQ::new();
        let thief = RunQ::new();
        victim.put(gs(1).pop().unwrap(), true);
        assert!(thief.steal_from(&victim, false, false).is_none());
        let (g, n) = thief.steal_from(&victim, true, false).unwrap();
        assert_eq!((g.id(), n), (1, 1));
        assert!(victim.is_empty());
    }

    #[test]
    fn concurrent_stealers_take_every_g_exactly_once() {
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc as StdArc;
        // Miri interprets every step; a few hundred Gs still wrap the ring and overflow it.
        const N: usize = if cfg!(miri) { 600 } else { 20_000 };
        let q = StdArc::new(RunQ::new());
        let done = StdArc::new(AtomicBool::new(false));
        let stealers: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    let mine = RunQ::new();
                    let mut seen = Vec::new();
                    loop {
                        let finished = done.load(Ordering::Acquire);
                        if let Some((g, _)) = mine.steal_from(&q, true, false) {
                            seen.push(g.id());
                            seen.extend(mine.drain().iter().map(|g| g.id()));
                        } else if finished {
                            return seen;
                        }
                    }
                })
            })
            .collect();
        let mut owner_seen = Vec::new();
        let mut overflowed = Vec::new();
        let mut pending = gs(N);
        pending.reverse();
        while let Some(g) = pending.pop() {
            if let Some(batch) = q.put(g, pending.len() % 7 == 0) {
                overflowed.extend(ids(&batch));
            }
            if pending.len() % 3 == 0 {
                if let Some((g, _)) = q.get() {
                    owner_seen.push(g.id());
                }
            }
        }
        owner_seen.extend(ids(&q.drain()));
        done.store(true, Ordering::Release);
        let mut all = owner_seen;
        all.extend(overflowed);
        for s in stealers {
            all.extend(s.join().unwrap());
        }
        all.sort_unstable();
        let want: Vec<u64> = (1..=N as u64).collect();
        assert_eq!(all.len(), N, "a G was lost or duplicated");
        assert_eq!(all, want);
    }
}

/// loom models of the ring (run with `scripts/loom.sh`). The ring has 4 slots under loom.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sched::g::GRef;
    use crate::sched::Sched;
    use crate::util::loom::sync::Arc;

    fn gs(sched: &Arc<Sched>, n: u64) -> Vec<GRef> {
        (1..=n)
            .map(|i| {
                let (q, j, reg) =
                    GRef::new(async {}, i, sched.clone(), crate::sched::g::Origin::here());
                drop((j, reg));
                q
            })
            .collect()
    }

    fn ids(v: impl IntoIterator<Item = GRef>) -> Vec<u64> {
        v.into_iter().map(|g| g.id()).collect()
    }

    /// The owner pushes 5 Gs into the 4-slot ring (one `runnext` push, and a full ring that must
    /// overflow half to the "global queue") and pops one, while two thieves each steal once (the
    /// last-round kind, which may take `runnext`). Every interleaving must account for every G exactly
    /// once. Catches: a consumer using slots after losing the `head` CAS (double take), an overflow
    /// batch that races a thief (a G lost or taken twice), `runnext` taken by owner and thief.
    #[test]
    fn owner_push_pop_racing_two_stealers_takes_every_g_once() {
        loom::model(|| {
            let sched = Sched::new_for_test();
            let q = Arc::new(RunQ::new());
            let thieves: Vec<_> = (0..2)
                .map(|_| {
                    let q = q.clone();
                    loom::thread::spawn(move || {
                        let mine = RunQ::new();
                        match mine.steal_from(&q, true, false) {
                            Some((g, _)) => {
                                let mut v = vec![g.id()];
                                v.extend(ids(mine.drain()));
                                v
                            }
                            None => Vec::new(),
                        }
                    })
                })
                .collect();
            let mut seen = Vec::new();
            let mut global = Vec::new();
            for (i, g) in gs(&sched, 5).into_iter().enumerate() {
                if let Some(batch) = q.put(g, i == 4) {
                    global.extend(ids(batch));
                }
            }
            if let Some((g, _)) = q.get() {
                seen.push(g.id());
            }
            for t in thieves {
                seen.extend(t.join().unwrap());
            }
            seen.extend(ids(q.drain()));
            seen.extend(global);
            seen.sort_unstable();
            assert_eq!(seen, vec![1, 2, 3, 4, 5]);
        });
    }
}
