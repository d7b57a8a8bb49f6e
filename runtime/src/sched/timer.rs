//! Per-P timer heaps: Go 1.14's timers (runtime/time.go: addtimer, deltimer, checkTimers,
//! runtimer; runtime/proc.go: timeSleepUntil, wakeNetPoller).
//!
//! Before Go 1.14 all timers lived in a few global heaps serviced by a dedicated goroutine; every
//! `time.Sleep` cost two context switches. Since 1.14 each P owns a heap and the scheduler itself runs
//! expired timers: `find_runnable` checks its own P's heap on every round, thieves run other Ps'
//! expired timers in their last stealing round, and an M that is about to block in the netpoller
//! sleeps only until the earliest timer of any P. This file is that design.
//!
//! A timer is an `Arc<Entry>` in the heap plus the same `Arc` in the `Sleep` (or `Timer`) that owns it.
//! Its state moves once: `PENDING → FIRED` (by whoever runs the heap) or `PENDING → CANCELLED` (by
//! the owner, on drop or reset). The CAS decides the race between firing and cancelling: exactly one
//! of them wins, so a cancelled timer never fires and a fired one is never "cancelled" after the fact.
//! Cancelled entries stay in the heap until they reach the top (Go's `timerDeleted`); when more than a
//! quarter of a heap is dead, it is compacted (Go's `clearDeletedTimers`), so dropping many pending
//! sleeps does not leak memory.
//!
//! A `time::after` timer has no owner to cancel it: it sends on a channel (`Action::SendTime`, Go's
//! `sendTime`), and once every receiver of that channel is gone nobody can see it fire. Go until 1.22
//! kept such timers until they fired (an `After(time.Hour)` in a `select` loop piled up an hour's
//! worth); Go 1.23 lets them go. Here a heap that has doubled since it was last swept drops them
//! (`sweep`, from `add`): a `select!` loop over `recv(time::after(..))` keeps only the timers whose
//! receivers still exist, at an amortised O(1) cost per timer added.
//!
//! # Differences from Go
//! Go's heap is 4-ary and lock-free on the owner's fast path; ours is `std`'s binary heap under a
//! per-P mutex. Any M may add to or run any P's heap, so the lock is needed, and a P's heap lock is
//! only ever contended by a thief that found the P's timers overdue.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::task::Waker;

use crate::util::loom::sync::atomic::{AtomicIsize, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use crate::util::loom::sync::{Arc, Mutex};

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

/// What firing a timer does.
pub(crate) enum Action {
    /// Wake a parked G (`sleep`, deadlines).
    Wake(Option<Waker>),
    /// Run a short callback on the scheduler's timer path, like Go's `sendTime` (`after`, `Ticker`).
    /// It must not block; `after_func` spawns a G for user code instead.
    Func(Option<Box<dyn FnOnce() + Send>>),
    /// Send the time it fired at, without blocking (Go's `sendTime`, for `time::after`). Dropped
    /// unfired once the channel has no receiver left (`sweep`).
    SendTime(Option<Box<dyn SendTime>>),
}

/// The channel end a `SendTime` timer sends on. time.rs implements it for `Sender<Instant>`; the
/// trait keeps the scheduler's layer free of the channel's.
pub(crate) trait SendTime: Send {
    /// Send the current time without blocking; a full channel misses it, as in Go.
    fn send_time(&self);
    /// Whether anyone can still receive from the channel.
    fn has_receivers(&self) -> bool;
}

pub(crate) struct Entry {
    state: AtomicU8,
    /// Which P's heap holds it (so cancel can count a dead entry there).
    pub(crate) p: usize,
    pub(crate) when: u64,
    action: Mutex<Action>,
}

impl Entry {
    pub(crate) fn new(p: usize, when: u64, action: Action) -> Arc<Entry> {
        Arc::new(Entry {
            state: AtomicU8::new(PENDING),
            p,
            when,
            action: Mutex::new(action),
        })
    }

    pub(crate) fn is_fired(&self) -> bool {
        self.state.load(Ordering::Acquire) == FIRED
    }

    /// Replace the waker to wake (a `Sleep` polled again from a different task).
    pub(crate) fn set_waker(&self, w: &Waker) {
        let mut a = crate::util::loom::lock(&self.action);
        if let Action::Wake(slot) = &mut *a {
            if !slot.as_ref().is_some_and(|old| old.will_wake(w)) {
                *slot = Some(w.clone());
            }
        }
    }

    /// PENDING → CANCELLED. Returns true if this call cancelled it (it will never fire).
    pub(crate) fn cancel(&self) -> bool {
        self.state
            .compare_exchange(PENDING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn take_action(&self) -> Action {
        let mut a = crate::util::loom::lock(&self.action);
        match &mut *a {
            Action::Wake(w) => Action::Wake(w.take()),
            Action::Func(f) => Action::Func(f.take()),
            Action::SendTime(tx) => Action::SendTime(tx.take()),
        }
    }

    /// Still worth keeping: pending, and not a `SendTime` whose channel nobody can receive from any
    /// more (receivers only come from cloning receivers, so once gone they stay gone).
    fn wanted(&self) -> bool {
        if self.state.load(Ordering::Acquire) != PENDING {
            return false;
        }
        match &*crate::util::loom::lock(&self.action) {
            Action::SendTime(Some(tx)) => tx.has_receivers(),
            _ => true,
        }
    }
}

struct HeapItem {
    when: u64,
    seq: u64,
    entry: Arc<Entry>,
}

impl PartialEq for HeapItem {
    fn eq(&self, other: &Self) -> bool {
        (self.when, self.seq) == (other.when, other.seq)
    }
}
impl Eq for HeapItem {}
impl PartialOrd for HeapItem {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeapItem {
    /// Reversed, so `BinaryHeap` (a max-heap) pops the earliest timer; `seq` keeps equal deadlines
    /// in the order they were added.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.when, other.seq).cmp(&(self.when, self.seq))
    }
}

struct Heap {
    items: BinaryHeap<HeapItem>,
    seq: u64,
    /// `add` sweeps the heap when it reaches this many entries (twice its size after the last sweep).
    sweep_at: usize,
}

/// The smallest heap `add` sweeps.
const SWEEP_MIN: usize = 64;

pub(crate) struct Timers {
    heap: Mutex<Heap>,
    /// Go's `timer0When`: the earliest `when` in the heap, 0 if empty. Read without the lock on the
    /// scheduler's hot path to skip the heap entirely when nothing is due.
    when0: AtomicU64,
    /// Entries in the heap, live or dead; and how many of them are cancelled (Go's `timersLen` and
    /// `deletedTimers`). `deleted` is signed because an owner counts its cancellation just after
    /// making it (`note_deleted`), and a sweep may remove the entry, and subtract it, in between: the
    /// count dips below its true value for a moment and never drifts.
    len: AtomicUsize,
    deleted: AtomicIsize,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            heap: Mutex::new(Heap {
                items: BinaryHeap::new(),
                seq: 0,
                sweep_at: SWEEP_MIN,
            }),
            when0: AtomicU64::new(0),
            len: AtomicUsize::new(0),
            deleted: AtomicIsize::new(0),
        }
    }

    /// Go's `addtimer`. Returns true if the new timer is now this heap's earliest (the caller then
    /// wakes the netpoller if it sleeps past it: `wakeNetPoller`).
    pub(crate) fn add(&self, entry: Arc<Entry>) -> bool {
        let mut h = crate::util::loom::lock(&self.heap);
        h.seq += 1;
        let when = entry.when;
        let seq = h.seq;
        h.items.push(HeapItem { when, seq, entry });
        self.len.fetch_add(1, Ordering::Relaxed);
        let swept = if h.items.len() >= h.sweep_at {
            self.sweep(&mut h)
        } else {
            Vec::new()
        };
        let w0 = self.when0.load(Ordering::Relaxed);
        let earliest = w0 == 0 || when < w0;
        if earliest {
            self.when0.store(when, Ordering::Release);
        }
        drop(h);
        drop(swept); // user values (a stopped `after_func`'s closure) are dropped without the lock
        earliest
    }

    /// Go's `deltimer` bookkeeping: the caller cancelled an entry living in this heap.
    pub(crate) fn note_deleted(&self) {
        self.deleted.fetch_add(1, Ordering::Relaxed);
    }

    /// The earliest deadline (nanotime), 0 if none.
    pub(crate) fn when0(&self) -> u64 {
        self.when0.load(Ordering::Acquire)
    }

    /// Is a timer of this heap due at `now`? (A snapshot, like `when0`.)
    pub(crate) fn due(&self, now: u64) -> bool {
        let w = self.when0();
        w != 0 && w <= now
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed).saturating_sub(self.dead())
    }

    /// How many entries are cancelled but still in the heap (0 while the count dips; see `deleted`).
    fn dead(&self) -> usize {
        usize::try_from(self.deleted.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Go's `checkTimers`: run every timer due at `now`. Returns how many fired. Cheap when nothing is
    /// due: one atomic load.
    pub(crate) fn run_expired(&self, now: u64) -> usize {
        let w0 = self.when0.load(Ordering::Acquire);
        let dead = self.dead();
        let compact = dead > 0 && dead * 4 > self.len.load(Ordering::Relaxed);
        if (w0 == 0 || w0 > now) && !compact {
            return 0;
        }
        let mut due = Vec::new();
        // Entries removed here are dropped after the lock is released: a cancelled `after_func`'s
        // closure is a user value.
        let mut garbage = Vec::new();
        {
            let mut h = crate::util::loom::lock(&self.heap);
            if compact {
                garbage = self.sweep(&mut h);
            }
            while let Some(top) = h.items.peek() {
                let state = top.entry.state.load(Ordering::Acquire);
                if state == PENDING && top.when > now {
                    break;
                }
                let Some(item) = h.items.pop() else { break };
                self.len.fetch_sub(1, Ordering::Relaxed);
                if state != PENDING {
                    if state == CANCELLED {
                        self.deleted.fetch_sub(1, Ordering::Relaxed);
                    }
                    garbage.push(item);
                    continue;
                }
                if item
                    .entry
                    .state
                    .compare_exchange(PENDING, FIRED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    due.push(item.entry);
                } else {
                    // Cancelled between our load and the CAS: it was counted as deleted.
                    self.deleted.fetch_sub(1, Ordering::Relaxed);
                    garbage.push(item);
                }
            }
            let next = h.items.peek().map_or(0, |i| i.when);
            self.when0.store(next, Ordering::Release);
            // A heap that shrank a lot is swept again at twice its size now, not at twice the
            // largest it ever was.
            if h.items.len() * 4 < h.sweep_at {
                h.sweep_at = (2 * h.items.len()).max(SWEEP_MIN);
            }
        }
        drop(garbage);
        // Run the actions without the heap lock: a callback may add a timer to this very heap.
        let n = due.len();
        crate::sched::getg::batch_wake(crate::sched::getg::Batch::Timers, || {
            for e in due {
                match e.take_action() {
                    Action::Wake(Some(w)) => w.wake(),
                    Action::Func(Some(f)) => f(),
                    Action::SendTime(Some(tx)) => tx.send_time(),
                    _ => {}
                }
            }
        });
        n
    }

    /// Drop every entry not [`wanted`](Entry::wanted) any more: cancelled ones (Go's
    /// `clearDeletedTimers`) and `SendTime`s nobody can receive. `when0` stays a lower bound (an
    /// earliest entry swept away leaves it early, which costs one look at the heap). The next sweep
    /// comes when the heap has doubled. Returns the removed entries, for the caller to drop once it
    /// has released the lock.
    fn sweep(&self, h: &mut Heap) -> Vec<HeapItem> {
        let items = std::mem::take(&mut h.items).into_vec();
        let before = items.len();
        let mut cancelled = 0;
        let (kept, removed): (Vec<_>, Vec<_>) = items.into_iter().partition(|i| i.entry.wanted());
        for i in &removed {
            if !i.entry.cancel() {
                // Already cancelled by its owner, who counted it in `deleted`. (`cancel` succeeding
                // is an abandoned `SendTime`: never counted, and now it can never fire.)
                cancelled += 1;
            }
        }
        h.items = BinaryHeap::from(kept);
        h.sweep_at = (2 * h.items.len()).max(SWEEP_MIN);
        self.len
            .fetch_sub(before - h.items.len(), Ordering::Relaxed);
        self.deleted.fetch_sub(cancelled, Ordering::Relaxed);
        removed
    }

    /// Drop every entry (runtime shutdown). Their wakers hold references to Gs, which hold the
    /// runtime: leaving them would be a reference cycle.
    pub(crate) fn clear(&self) {
        let items = {
            let mut h = crate::util::loom::lock(&self.heap);
            std::mem::take(&mut h.items)
        };
        self.when0.store(0, Ordering::Release);
        for i in items {
            i.entry.cancel();
            drop(i.entry.take_action());
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize as StdAtomic;
    use std::sync::Arc as StdArc;

    fn counter_entry(p: usize, when: u64, hits: &StdArc<StdAtomic>) -> Arc<Entry> {
        let hits = hits.clone();
        Entry::new(
            p,
            when,
            Action::Func(Some(Box::new(move || {
                hits.fetch_add(1, Ordering::SeqCst);
            }))),
        )
    }

    /// What a `select!` loop over `recv(time::after(1h))` leaves behind: one timer per round whose
    /// receiver is gone. The heap must not keep them; the ones still received from must fire.
    #[test]
    fn send_time_timers_nobody_can_receive_are_swept_and_the_others_fire() {
        let t = Timers::new();
        let mut kept = Vec::new();
        for i in 0..2000u64 {
            let (tx, rx) = crate::chan::channel::<std::time::Instant>(1);
            t.add(Entry::new(
                0,
                1000 + i,
                Action::SendTime(Some(Box::new(tx))),
            ));
            if i % 200 == 0 {
                kept.push(rx); // 10 receivers stay
            } // the others are dropped at once, like a select's losing `after`
        }
        let in_heap = crate::util::loom::lock(&t.heap).items.len();
        assert!(
            in_heap < 4 * SWEEP_MIN,
            "{in_heap} timers kept for 10 receivers"
        );
        assert_eq!(
            t.len(),
            in_heap,
            "no entry counted as deleted: none was cancelled"
        );
        assert_eq!(t.run_expired(u64::MAX), in_heap); // the kept ones, and the few not swept yet
        for rx in &kept {
            assert!(
                rx.try_recv().is_ok(),
                "a timer someone receives from did not fire"
            );
        }
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn a_sweep_also_removes_cancelled_entries_and_keeps_the_count_of_dead_ones() {
        let t = Timers::new();
        let hits = StdArc::new(StdAtomic::new(0));
        let mut owned = Vec::new();
        for i in 0..SWEEP_MIN as u64 - 1 {
            let e = counter_entry(0, 10 + i, &hits);
            t.add(e.clone());
            owned.push(e);
        }
        for e in &owned[..40] {
            assert!(e.cancel());
            t.note_deleted();
        }
        assert_eq!(t.len(), SWEEP_MIN - 1 - 40);
        t.add(counter_entry(0, 5, &hits)); // reaches SWEEP_MIN: sweeps
        assert_eq!(crate::util::loom::lock(&t.heap).items.len(), SWEEP_MIN - 40);
        assert_eq!(t.len(), SWEEP_MIN - 40);
        assert_eq!(t.run_expired(u64::MAX), SWEEP_MIN - 40);
        assert_eq!(hits.load(Ordering::SeqCst), SWEEP_MIN - 40);
    }

    /// The owner counts a cancellation just after making it; a sweep in between removes the entry
    /// and subtracts it first. The count of dead entries must come back to the truth, not stay one
    /// too high (which made `len` read low and every check sweep the heap).
    #[test]
    fn a_cancellation_swept_before_it_is_counted_leaves_the_counts_true() {
        let t = Timers::new();
        let hits = StdArc::new(StdAtomic::new(0));
        let e = counter_entry(0, 1, &hits);
        t.add(e.clone());
        assert!(e.cancel()); // the owner cancels ...
        for i in 0..SWEEP_MIN as u64 {
            t.add(counter_entry(0, 10 + i, &hits)); // ... another thread's add sweeps ...
        }
        t.note_deleted(); // ... and only then does the owner count it
        assert_eq!(t.deleted.load(Ordering::Relaxed), 0);
        assert_eq!(t.len(), SWEEP_MIN);
        assert_eq!(t.run_expired(u64::MAX), SWEEP_MIN);
        assert_eq!(t.len(), 0);
        assert_eq!(t.deleted.load(Ordering::Relaxed), 0);
    }

    /// After a heap that was once large has emptied, abandoned `time::after` timers are swept at
    /// the small heap's pace again, not left to pile up to twice the old size.
    #[test]
    fn the_sweep_threshold_comes_back_down_when_the_heap_shrinks() {
        let t = Timers::new();
        let hits = StdArc::new(StdAtomic::new(0));
        for i in 0..4000 {
            t.add(counter_entry(0, 10 + i, &hits));
        }
        assert_eq!(t.run_expired(u64::MAX), 4000);
        for i in 0..3000u64 {
            let (tx, _) = crate::chan::channel::<std::time::Instant>(1);
            t.add(Entry::new(
                0,
                1_000_000 + i,
                Action::SendTime(Some(Box::new(tx))),
            ));
            let in_heap = crate::util::loom::lock(&t.heap).items.len();
            assert!(in_heap <= SWEEP_MIN, "{in_heap} abandoned timers kept");
        }
    }

    /// A removed entry may hold the last reference to a user's closure (a stopped `after_func`
    /// whose handle is gone). It is dropped after the heap lock is released: its `Drop` may arm a
    /// timer on the same P, which would otherwise wait for a lock its own thread holds.
    #[test]
    fn removed_entries_are_dropped_outside_the_heap_lock() {
        struct ArmsOnDrop(StdArc<Timers>, StdArc<StdAtomic>);
        impl Drop for ArmsOnDrop {
            fn drop(&mut self) {
                assert!(
                    self.0.heap.try_lock().is_ok(),
                    "a user value was dropped under the heap lock"
                );
                self.1.fetch_add(1, Ordering::SeqCst);
            }
        }
        let dropped = StdArc::new(StdAtomic::new(0));
        // Once by a sweep from `add`, once when a cancelled entry reaches the top in `run_expired`.
        for by_sweep in [true, false] {
            let t = StdArc::new(Timers::new());
            let guard = ArmsOnDrop(t.clone(), dropped.clone());
            let e = Entry::new(0, 1, Action::Func(Some(Box::new(move || drop(guard)))));
            t.add(e.clone());
            assert!(e.cancel());
            t.note_deleted();
            drop(e);
            if by_sweep {
                let hits = StdArc::new(StdAtomic::new(0));
                for i in 0..SWEEP_MIN as u64 {
                    t.add(counter_entry(0, 10 + i, &hits));
                }
            } else {
                t.run_expired(u64::MAX);
            }
        }
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            2,
            "the closures were not dropped"
        );
    }

    #[test]
    fn timers_fire_in_deadline_order_and_only_when_due() {
        let t = Timers::new();
        let order = StdArc::new(std::sync::Mutex::new(Vec::new()));
        for when in [30u64, 10, 20] {
            let order = order.clone();
            t.add(Entry::new(
                0,
                when,
                Action::Func(Some(Box::new(move || order.lock().unwrap().push(when)))),
            ));
        }
        assert_eq!(t.when0(), 10);
        assert_eq!(t.run_expired(5), 0);
        assert_eq!(t.run_expired(20), 2);
        assert_eq!(*order.lock().unwrap(), vec![10, 20]);
        assert_eq!(t.when0(), 30);
        assert_eq!(t.run_expired(100), 1);
        assert_eq!(t.when0(), 0);
    }

    #[test]
    fn cancelled_timer_never_fires_and_is_compacted_away() {
        let t = Timers::new();
        let hits = StdArc::new(StdAtomic::new(0));
        let entries: Vec<_> = (0..100)
            .map(|i| counter_entry(0, 1_000 + i, &hits))
            .collect();
        for e in &entries {
            t.add(e.clone());
        }
        for e in &entries[..90] {
            assert!(e.cancel());
            t.note_deleted();
        }
        assert_eq!(t.len(), 10);
        // Nothing is due, but the heap is mostly dead: the check compacts it.
        assert_eq!(t.run_expired(1), 0);
        assert_eq!(t.len.load(Ordering::Relaxed), 10);
        assert_eq!(t.run_expired(u64::MAX), 10);
        assert_eq!(hits.load(Ordering::SeqCst), 10);
    }

    #[test]
    fn fire_and_cancel_race_has_one_winner() {
        let t = Timers::new();
        let hits = StdArc::new(StdAtomic::new(0));
        let e = counter_entry(0, 1, &hits);
        t.add(e.clone());
        assert_eq!(t.run_expired(10), 1);
        assert!(!e.cancel(), "a fired timer cannot be cancelled");
        assert!(e.is_fired());
    }
}

/// loom models of the timer state machine (run with `scripts/loom.sh`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::util::loom::sync::atomic::AtomicUsize;

    /// A timer's owner cancels it while an M runs the heap with the timer due. Exactly one side
    /// wins: either the action ran and `cancel` reports false, or the action never runs and `cancel`
    /// reports true. Catches: a cancelled timer firing, a fired timer reported as stopped (Go's
    /// `Timer.Stop` contract), the `deleted` count going wrong.
    #[test]
    fn cancel_racing_fire_has_exactly_one_winner() {
        loom::model(|| {
            let timers = Arc::new(Timers::new());
            let hits = Arc::new(AtomicUsize::new(0));
            let h2 = hits.clone();
            let e = Entry::new(
                0,
                10,
                Action::Func(Some(Box::new(move || {
                    h2.fetch_add(1, Ordering::SeqCst);
                }))),
            );
            timers.add(e.clone());
            let t2 = timers.clone();
            let runner = loom::thread::spawn(move || t2.run_expired(100));
            let cancelled = e.cancel();
            if cancelled {
                timers.note_deleted();
            }
            let fired = runner.join().unwrap();
            assert_eq!(cancelled, fired == 0);
            assert_eq!(hits.load(Ordering::SeqCst), fired);
            assert_eq!(timers.len(), 0);
            assert_eq!(
                timers.deleted.load(Ordering::SeqCst),
                0,
                "the dead count drifted"
            );
        });
    }
}
