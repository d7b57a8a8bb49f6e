//! The channel's buffer: Go's `hchan.buf` ring (runtime/chan.go: `buf`, `sendx`, `recvx`, `qcount`),
//! made lock-free for the common case. The design follows Dmitry Vyukov's bounded MPMC queue, the
//! queue behind his 2014 lock-free channel proposal for Go (golang/go#8899) and crossbeam-channel's
//! array flavour; the code is written for gort.
//!
//! # What Go does
//! Every `chansend` and `chanrecv` takes `c.lock`, even when it only copies one value into or out of
//! the ring and nobody is parked. With a sender and a receiver running at once on two Ms, the two
//! fight over that lock for every message, and the lock's cache line (with `sendx`, `recvx`,
//! `qcount` beside it) bounces between their cores.
//!
//! # What this does
//! Each slot carries a *stamp*, and the two ends are separate positions on separate cache lines:
//! `tail` (Go's `sendx`) and `head` (Go's `recvx`). A position is a lap and an index (`lap | index`,
//! the lap a multiple of `one_lap`, the next power of two above `cap`), so it never repeats within a
//! lap and no modulo is needed.
//! - a slot whose stamp equals the tail position is free for the sender at that position; the
//!   sender claims it with one CAS on `tail`, writes its value and publishes it with
//!   `stamp = pos + 1` (Release);
//! - a slot whose stamp is `pos + 1` holds the value for the receiver at position `pos`; the
//!   receiver claims it with one CAS on `head`, reads the value and frees the slot for the next lap
//!   with `stamp = pos + one_lap`.
//!
//! So a buffered send or receive that finds room or a value costs one CAS on its own end and two
//! accesses to its slot, and a producer and a consumer touch different lines except for the slots
//! they hand over. Nothing waits for anybody: a sender that meets a slot still being read (or a
//! receiver one still being written) just takes the slow path.
//!
//! # The SLOW bit: when the lock is the truth
//! Parking, hand-off to a parked receiver, close and the cancel-safety give-back stay exactly as in
//! Go, under the channel lock (hchan.rs). The fast path may only run while nothing of that is going
//! on, and bit 0 of *both* `head` and `tail` (`SLOW`) says so: while it is set, the CASes above fail
//! and every operation takes the lock. The lock holder sets it (`set_slow`) before it parks a sudog,
//! when it closes the channel, and when it gives a value back; it clears it (`clear_slow`) once no
//! sudog is queued and the channel is open with nothing given back (`HChan::update_mode`).
//!
//! Why no wake-up is lost at the empty/full boundary: a receiver that is about to park first sets
//! `SLOW` with a `fetch_or` on `tail`, and then looks at the ring again (`HChan::settle`). The
//! `fetch_or` and every sender's CAS are read-modify-writes of one location, so they are totally
//! ordered: a sender whose CAS came first has claimed its slot, and the receiver sees the claim and
//! waits for the value (`pop` spins until the stamp is published, a matter of a few instructions
//! on the other core); a sender whose CAS came after fails, takes the lock and finds the parked
//! receiver. The full end is the mirror image (a parking sender sets `SLOW` on `head`).
//!
//! Under the lock the holder uses `push` and `pop`, which ignore `SLOW` (they keep it) and wait out a
//! peer that claimed a slot and has not finished with it, so they answer "full" and "empty" exactly;
//! they still use the CAS protocol, since `SLOW` may be clear and fast operations running.
//!
//! Where this differs from Go: Go's buffer is `cap` values; this one adds a stamp per slot (8 bytes),
//! and rings are only built up to [`RING_MAX`] slots (Go allocates any `cap` up front); a channel
//! above that keeps its buffer in a `VecDeque` under the lock, grown as it fills, so
//! `channel(usize::MAX)` stays a (practically) unbounded channel.

use std::mem::MaybeUninit;
use std::ops::Deref;

use crate::util::loom::cell::UnsafeCell;
use crate::util::loom::sync::atomic::{AtomicUsize, Ordering};

/// The largest capacity that gets a lock-free ring (16 MiB of slots for `usize` values).
pub(crate) const RING_MAX: usize = 1 << 20;

/// Bit 0 of `head` and `tail`: every operation must take the lock.
const SLOW: usize = 1;
/// Positions live in 63 bits (the word is `pos << 1 | SLOW`); laps wrap within them.
const POS_MASK: usize = usize::MAX >> 1;

/// Keeps `head`, `tail` and the slots off each other's cache lines (128: adjacent-line prefetch).
#[repr(align(128))]
struct Padded<T>(T);

impl<T> Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

struct Slot<T> {
    /// `pos`: free for the sender at `pos`; `pos + 1`: holds the value for the receiver at `pos`.
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

pub(crate) struct Ring<T> {
    /// Go's `recvx`: `pos << 1 | SLOW`.
    head: Padded<AtomicUsize>,
    /// Go's `sendx`: `pos << 1 | SLOW`.
    tail: Padded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    /// `(cap + 1).next_power_of_two()`: the position step from one lap to the next.
    one_lap: usize,
}

// SAFETY: a slot's value is only touched by the one thread whose CAS on `head` or `tail` claimed it,
// and the stamp's Release/Acquire hands it from writer to reader. Values move between threads, hence
// `T: Send`; no `&T` is shared.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// A ring of `cap` slots (`0`: no ring; every operation reports full / empty).
    pub(crate) fn new(cap: usize) -> Self {
        let slots = (0..cap)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ring {
            head: Padded(AtomicUsize::new(0)),
            tail: Padded(AtomicUsize::new(0)),
            slots,
            one_lap: (cap + 1).next_power_of_two(),
        }
    }

    pub(crate) fn cap(&self) -> usize {
        self.slots.len()
    }

    fn slot(&self, pos: usize) -> &Slot<T> {
        &self.slots[pos & (self.one_lap - 1)]
    }

    /// The position after `pos`: the next index, or index 0 of the next lap.
    fn next(&self, pos: usize) -> usize {
        if (pos & (self.one_lap - 1)) + 1 < self.slots.len() {
            pos + 1
        } else {
            ((pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)) & POS_MASK
        }
    }

    /// The fast send: claim the tail slot unless `SLOW` is set, the slot is not free (full, or its
    /// reader is not done with it), or there is no ring. `Err` gives the value back for the slow path.
    #[inline]
    pub(crate) fn try_push(&self, v: T) -> Result<(), T> {
        self.push_inner(v, false)
    }

    /// The fast receive: claim the head slot unless `SLOW` is set or the slot holds no published value
    /// (empty, or its writer is not done with it).
    #[inline]
    pub(crate) fn try_pop(&self) -> Option<T> {
        self.pop_inner(false)
    }

    /// Send under the channel lock: whatever `SLOW` says, and waiting for a receiver that claimed the
    /// tail slot to finish reading it. `Err` means the ring is really full.
    #[inline]
    pub(crate) fn push(&self, v: T) -> Result<(), T> {
        self.push_inner(v, true)
    }

    /// Receive under the channel lock: whatever `SLOW` says, and waiting for a sender that claimed the
    /// head slot to finish writing it. `None` means the ring is really empty.
    #[inline]
    pub(crate) fn pop(&self) -> Option<T> {
        self.pop_inner(true)
    }

    #[inline]
    fn push_inner(&self, v: T, locked: bool) -> Result<(), T> {
        if self.slots.is_empty() {
            return Err(v);
        }
        let mut spins = 0;
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & SLOW != 0 && !locked {
                return Err(v);
            }
            let pos = tail >> 1;
            let slot = self.slot(pos);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == pos {
                let new = self.next(pos) << 1 | (tail & SLOW);
                match self.tail.compare_exchange_weak(
                    tail,
                    new,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS made this thread the only one at `pos`; the stamp (Acquire
                        // above) says the previous lap's reader is done with the slot.
                        slot.value.with_mut(|p| unsafe { (*p).write(v) });
                        slot.stamp.store(pos + 1, Ordering::Release);
                        return Ok(());
                    }
                    Err(t) => tail = t,
                }
            } else if self.behind(stamp, pos) {
                // The slot is not free for this lap yet: it still holds the previous lap's value
                // (full, or its reader is mid-read).
                if !locked {
                    return Err(v);
                }
                let head = self.head.load(Ordering::Acquire) >> 1;
                if head.wrapping_add(self.one_lap) & POS_MASK == pos {
                    return Err(v); // really full
                }
                snooze(&mut spins);
                tail = self.tail.load(Ordering::Relaxed);
            } else {
                // Another sender moved `tail` on since we read it.
                spin_hint();
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    #[inline]
    fn pop_inner(&self, locked: bool) -> Option<T> {
        if self.slots.is_empty() {
            return None;
        }
        let mut spins = 0;
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            if head & SLOW != 0 && !locked {
                return None;
            }
            let pos = head >> 1;
            let slot = self.slot(pos);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == pos + 1 {
                let new = self.next(pos) << 1 | (head & SLOW);
                match self.head.compare_exchange_weak(
                    head,
                    new,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS made this thread the only one at `pos`; the stamp (Acquire
                        // above) says the writer at `pos` published its value, which nobody has taken.
                        let v = slot.value.with(|p| unsafe { (*p).assume_init_read() });
                        let free = pos.wrapping_add(self.one_lap) & POS_MASK;
                        slot.stamp.store(free, Ordering::Release);
                        return Some(v);
                    }
                    Err(h) => head = h,
                }
            } else if stamp == pos || self.behind(stamp, pos) {
                // Nothing published here: empty, or its writer is mid-write (or the previous lap's
                // reader is still mid-read, so no writer can have come yet).
                if !locked {
                    return None;
                }
                if self.tail.load(Ordering::Acquire) >> 1 == pos {
                    return None; // really empty
                }
                snooze(&mut spins);
                head = self.head.load(Ordering::Relaxed);
            } else {
                // Another receiver moved `head` on since we read it.
                spin_hint();
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// Whether `stamp` is a lap behind position `pos`: the slot still belongs to the previous lap
    /// (its value unread, or its reader not done).
    fn behind(&self, stamp: usize, pos: usize) -> bool {
        let next_lap = stamp.wrapping_add(self.one_lap) & POS_MASK;
        next_lap == pos + 1 || next_lap == pos
    }

    /// Values in the ring, claimed slots included (Go's `qcount`). A snapshot unless `SLOW` is set.
    pub(crate) fn len(&self) -> usize {
        loop {
            let tail = self.tail.load(Ordering::Acquire) >> 1;
            let head = self.head.load(Ordering::Acquire) >> 1;
            if self.tail.load(Ordering::Acquire) >> 1 != tail {
                continue;
            }
            let mask = self.one_lap - 1;
            let (hix, tix) = (head & mask, tail & mask);
            return if hix < tix {
                tix - hix
            } else if hix > tix {
                self.slots.len() - hix + tix
            } else if tail == head {
                0
            } else {
                self.slots.len()
            };
        }
    }

    /// Send every operation to the lock (under the lock, before parking, closing or giving back).
    pub(crate) fn set_slow(&self) {
        // AcqRel: ordered after (and so aware of) every fast CAS that came before; see the header.
        self.tail.fetch_or(SLOW, Ordering::AcqRel);
        self.head.fetch_or(SLOW, Ordering::AcqRel);
    }

    /// Let the fast paths run again (under the lock, once nothing is parked).
    pub(crate) fn clear_slow(&self) {
        self.tail.fetch_and(!SLOW, Ordering::AcqRel);
        self.head.fetch_and(!SLOW, Ordering::AcqRel);
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        let mut pos = self.head.load(Ordering::Relaxed) >> 1;
        let tail = self.tail.load(Ordering::Relaxed) >> 1;
        while pos != tail {
            let slot = self.slot(pos);
            // SAFETY: `&mut self`: no operation is in flight, so every slot from head to tail holds
            // a published value that nobody has read.
            slot.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
            pos = self.next(pos);
        }
    }
}

/// A position we read is stale; read it again (under loom: let the thread that moved it run).
fn spin_hint() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}

/// Wait a little for a peer that claimed a slot to finish with it: it is a few instructions away
/// unless its thread was descheduled, so spin briefly, then yield the thread.
fn snooze(spins: &mut u32) {
    #[cfg(loom)]
    {
        let _ = spins;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        if *spins < 6 {
            for _ in 0..1 << *spins {
                std::hint::spin_loop();
            }
            *spins += 1;
        } else {
            std::thread::yield_now();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc as StdArc;

    #[test]
    fn ring_keeps_fifo_order_over_many_laps() {
        let r = Ring::new(3);
        let mut next_out = 0;
        for i in 0..100u32 {
            r.try_push(i).unwrap();
            if i % 3 == 2 {
                assert_eq!(r.len(), 3);
                assert_eq!(r.try_push(999), Err(999), "a full ring took a value");
                while let Some(v) = r.try_pop() {
                    assert_eq!(v, next_out);
                    next_out += 1;
                }
                assert_eq!(r.len(), 0);
            }
        }
        assert_eq!(r.pop(), Some(99));
        assert_eq!(r.pop(), None);
    }

    #[test]
    fn slow_bit_stops_the_fast_paths_but_not_the_locked_ones() {
        let r = Ring::new(2);
        r.try_push(1).unwrap();
        r.set_slow();
        assert_eq!(r.try_push(2), Err(2));
        assert_eq!(r.try_pop(), None);
        r.push(2).unwrap();
        assert_eq!(r.push(3), Err(3), "really full");
        assert_eq!(r.pop(), Some(1));
        r.clear_slow();
        assert_eq!(r.try_pop(), Some(2));
        assert_eq!(r.try_pop(), None);
    }

    #[test]
    fn values_left_in_the_ring_are_dropped_with_it() {
        let v = StdArc::new(());
        let r = Ring::new(4);
        for _ in 0..3 {
            r.try_push(v.clone()).unwrap();
        }
        drop(r.try_pop());
        r.try_push(v.clone()).unwrap();
        r.try_push(v.clone()).unwrap(); // wraps around
        assert_eq!(StdArc::strong_count(&v), 5);
        drop(r);
        assert_eq!(StdArc::strong_count(&v), 1);
    }

    #[test]
    fn ring_of_zero_slots_is_always_full_and_empty() {
        let r = Ring::new(0);
        assert_eq!(r.try_push(1), Err(1));
        assert_eq!(r.push(1), Err(1));
        assert_eq!(r.pop(), None);
        assert_eq!(r.len(), 0);
    }

    #[test]
    fn threads_pass_every_value_once_through_a_small_ring() {
        const N: u64 = 20_000;
        let r = StdArc::new(Ring::new(4));
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for i in 0..N {
                        let mut v = p * N + i;
                        while let Err(back) = r.try_push(v) {
                            v = back;
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let mut sum = 0;
        for _ in 0..2 * N {
            loop {
                if let Some(v) = r.try_pop() {
                    sum += v;
                    break;
                }
                std::thread::yield_now();
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(sum, (0..2 * N).sum::<u64>());
    }
}
