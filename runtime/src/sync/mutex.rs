//! The mutual-exclusion lock: Go's sync/mutex.go (`Lock`, `lockSlow`, `Unlock`, `unlockSlow`, `TryLock`).
//!
//! The whole state is one atomic word; the sema (sema.rs) is used only to sleep and to wake a sleeper.
//!
//! ```text
//!   state = waiters << 3 | STARVING | WOKEN | LOCKED
//! ```
//!
//! - `LOCKED`: someone holds the lock.
//! - `WOKEN`: an unlocker has woken a waiter that is on its way, so further unlocks need not wake another.
//! - `STARVING`: the lock is in starvation mode (below).
//! - `waiters`: futures that registered as waiting and have not been woken yet.
//!
//! **Normal mode.** Waiters queue in FIFO order, but a woken waiter does not own the lock: it competes
//! for it with newcomers, which usually win (they are already running), so throughput is high. A woken
//! waiter that loses goes back to the *front* of the queue.
//!
//! **Starvation mode.** A waiter that failed to get the lock for more than 1 ms switches the mutex to
//! starvation mode. Then an unlock hands ownership directly to the waiter at the head of the queue
//! (`Sema::release` with `handoff`), and newcomers neither take the lock nor spin: they queue at the tail.
//! The waiter that receives the lock switches back to normal mode if it waited less than 1 ms or is the
//! last waiter. Normal mode is much faster; starvation mode bounds the tail latency.
//!
//! # Where this differs from Go, and why
//! - No active spinning before sleeping: Go spins a few times when other Ps are running and the local run
//!   queue is empty. A future cannot tell that from here, and the runtime's wake path is cheap, so it
//!   goes straight to the sema.
//! - Cancellation: a `Lock` future dropped while asleep is still counted in `waiters`, and an unlocker may
//!   be paying its wake-up at that very moment. It therefore leaves through `Acquire::abandon`: if it
//!   already holds a wake-up it plays its part at once (`finish_abandoned`: give up the `WOKEN` role and
//!   wake another waiter, or, in starvation mode, take the lock and unlock it again); otherwise the sema
//!   keeps it as an abandoned waiter and whichever unlock pays it does the same on its behalf.
//! - Under loom every waiter counts as starved once it has slept, so models reach starvation mode
//!   without real time passing.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::sched::coop::poll_preempt;
use crate::sched::g::{set_waitreason, WaitReason};
use crate::sync::sema::{Abandoned, Acquire, Sema};
use crate::util::loom::cell::UnsafeCell;
use crate::util::loom::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};

const LOCKED: u32 = 1;
const WOKEN: u32 = 2;
const STARVING: u32 = 4;
const WAITER_SHIFT: u32 = 3;
/// One waiter in the count.
const WAITER: u32 = 1 << WAITER_SHIFT;

/// How long a waiter may fail to get the lock before it switches the mutex to starvation mode (Go's
/// `starvationThresholdNs`).
#[cfg(not(loom))]
const STARVATION_THRESHOLD: Duration = Duration::from_millis(1);

#[cfg(not(loom))]
fn starved(waited: Duration) -> bool {
    waited > STARVATION_THRESHOLD
}

#[cfg(loom)]
fn starved(_waited: Duration) -> bool {
    true
}

/// The lock without data: the state word, the sema its waiters sleep on, and a statistic. `Mutex<T>`,
/// `RwLock` (its writers' lock) and `Once` are built on it.
pub(crate) struct RawMutex {
    state: AtomicU32,
    sema: Sema,
    /// Unlocks that handed the lock to a waiter in starvation mode.
    handoffs: AtomicU64,
}

impl RawMutex {
    pub(crate) fn new() -> RawMutex {
        RawMutex {
            state: AtomicU32::new(0),
            sema: Sema::new(0),
            handoffs: AtomicU64::new(0),
        }
    }

    /// A future that locks. Not a preemption point itself: the public future that wraps it is.
    pub(crate) fn lock(&self) -> RawLock<'_> {
        RawLock {
            m: self,
            wait_start: None,
            starving: false,
            awoke: false,
            sleep: None,
        }
    }

    /// Go's `TryLock`: take the lock only if it is free and nobody is owed it.
    pub(crate) fn try_lock(&self) -> bool {
        let old = self.state.load(Relaxed);
        if old & (LOCKED | STARVING) != 0 {
            return false;
        }
        self.state
            .compare_exchange(old, old | LOCKED, SeqCst, Relaxed)
            .is_ok()
    }

    /// Go's `Unlock`. The caller must hold the lock.
    pub(crate) fn unlock(&self) {
        // Fast path: drop the lock bit; anything left means someone may need waking.
        let new = self.state.fetch_sub(LOCKED, SeqCst).wrapping_sub(LOCKED);
        if new != 0 {
            if new.wrapping_add(LOCKED) & LOCKED == 0 {
                panic!("sync: unlock of unlocked mutex");
            }
            self.wake_after_unlock(new);
        }
    }

    /// Go's `unlockSlow`, given the state right after the lock bit was cleared. Loops only when the
    /// wake-up went to an abandoned waiter, whose part it then plays.
    fn wake_after_unlock(&self, mut new: u32) {
        loop {
            let paid_abandoned = if new & STARVING == 0 {
                // Normal mode: wake one waiter, unless nobody waits or someone else already will
                // (the lock was taken again, a waiter is already woken, or starvation mode began).
                let mut old = new;
                loop {
                    if old >> WAITER_SHIFT == 0 || old & (LOCKED | WOKEN | STARVING) != 0 {
                        return;
                    }
                    let woken = (old - WAITER) | WOKEN;
                    match self.state.compare_exchange(old, woken, SeqCst, SeqCst) {
                        Ok(_) => break,
                        Err(now) => old = now,
                    }
                }
                self.sema.release(false)
            } else {
                // Starvation mode: hand the lock to the first waiter. LOCKED stays clear: the new owner
                // sets it, and newcomers do not take a starving mutex meanwhile.
                self.handoffs.fetch_add(1, Relaxed);
                self.sema.release(true)
            };
            if !paid_abandoned {
                return;
            }
            new = self.finish_abandoned();
        }
    }

    /// A waiter that gave up received its wake-up: do what it would have done on waking, except keep
    /// the lock. Returns the state afterwards, from which the caller continues as an unlocker.
    fn finish_abandoned(&self) -> u32 {
        let old = self.state.load(SeqCst);
        if old & STARVING != 0 {
            // The lock was handed to it: it takes the lock and releases it at once, so only its waiter
            // count goes. Starvation mode stays unless it was the last waiter: those behind it have waited
            // at least as long.
            if old & (LOCKED | WOKEN) != 0 || old >> WAITER_SHIFT == 0 {
                panic!("sync: inconsistent mutex state");
            }
            let mut delta = WAITER.wrapping_neg();
            if old >> WAITER_SHIFT == 1 {
                delta = delta.wrapping_sub(STARVING);
            }
            return self.state.fetch_add(delta, SeqCst).wrapping_add(delta);
        }
        // Normal mode: it holds the WOKEN role. Give the role up; the caller then wakes another waiter if
        // the lock is free. Only the holder of WOKEN can set STARVING, so the mode cannot change here.
        let mut old = old;
        loop {
            if old & WOKEN == 0 {
                panic!("sync: inconsistent mutex state");
            }
            debug_assert!(old & STARVING == 0);
            match self
                .state
                .compare_exchange(old, old & !WOKEN, SeqCst, SeqCst)
            {
                Ok(_) => return old & !WOKEN,
                Err(now) => old = now,
            }
        }
    }

    fn is_starving(&self) -> bool {
        self.state.load(Relaxed) & STARVING != 0
    }
}

/// A pending `RawMutex::lock`: Go's `lockSlow` turned inside out, one loop iteration per wake-up.
#[must_use = "futures do nothing unless polled"]
pub(crate) struct RawLock<'a> {
    m: &'a RawMutex,
    /// When this waiter first went to sleep (Go's `waitStartTime`); also marks it as a re-waiter, which
    /// queues at the front.
    wait_start: Option<Instant>,
    starving: bool,
    /// Woken by an unlocker: this waiter holds the WOKEN role and must clear the flag.
    awoke: bool,
    sleep: Option<Acquire<'a>>,
}

impl Future for RawLock<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let m = this.m;
        loop {
            if let Some(sleep) = &mut this.sleep {
                if Pin::new(sleep).poll(cx).is_pending() {
                    set_waitreason(WaitReason::MutexLock);
                    return Poll::Pending;
                }
                this.sleep = None;
                let waited = this.wait_start.map_or(Duration::ZERO, |t| t.elapsed());
                this.starving = this.starving || starved(waited);
                let old = m.state.load(SeqCst);
                if old & STARVING != 0 {
                    // The unlocker handed the lock to us: take it, leave the waiter count, and end
                    // starvation mode if we did not really starve or nobody is left behind us.
                    if old & (LOCKED | WOKEN) != 0 || old >> WAITER_SHIFT == 0 {
                        panic!("sync: inconsistent mutex state");
                    }
                    let mut delta = LOCKED.wrapping_sub(WAITER);
                    if !this.starving || old >> WAITER_SHIFT == 1 {
                        delta = delta.wrapping_sub(STARVING);
                    }
                    m.state.fetch_add(delta, SeqCst);
                    return Poll::Ready(());
                }
                this.awoke = true;
            }

            // One pass of Go's lockSlow: compute the next state from the current one and CAS it in.
            let mut old = m.state.load(Relaxed);
            loop {
                let mut new = old;
                // A starving mutex belongs to the queue: newcomers must not take it.
                if old & STARVING == 0 {
                    new |= LOCKED;
                }
                if old & (LOCKED | STARVING) != 0 {
                    new += WAITER;
                }
                // Switch to starvation mode only if the lock is held: an unlocked starving mutex with
                // nobody to hand it to would stay stuck.
                if this.starving && old & LOCKED != 0 {
                    new |= STARVING;
                }
                if this.awoke {
                    if new & WOKEN == 0 {
                        panic!("sync: inconsistent mutex state");
                    }
                    new &= !WOKEN;
                }
                match m.state.compare_exchange_weak(old, new, SeqCst, Relaxed) {
                    Ok(_) => break,
                    Err(now) => old = now,
                }
            }
            if old & (LOCKED | STARVING) == 0 {
                return Poll::Ready(()); // we set LOCKED
            }
            // We are a registered waiter now. A waiter that already slept once goes to the front.
            let lifo = this.wait_start.is_some();
            this.wait_start.get_or_insert_with(Instant::now);
            this.sleep = Some(m.sema.acquire(lifo, WaitReason::MutexLock));
        }
    }
}

impl Drop for RawLock<'_> {
    fn drop(&mut self) {
        let Some(sleep) = self.sleep.take() else {
            return;
        };
        if sleep.abandon() == Abandoned::HadUnit {
            let new = self.m.finish_abandoned();
            self.m.wake_after_unlock(new);
        }
    }
}

/// A mutual-exclusion lock whose `lock` is a future: Go's `sync.Mutex`, holding the data it protects.
///
/// Fair under contention: a waiter kept out for more than 1 ms switches the mutex to starvation mode,
/// where the lock passes in FIFO order (see the module docs).
pub struct Mutex<T> {
    raw: RawMutex,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached through a guard, and at most one guard exists at a time (the state
// word's LOCKED bit), so a `Mutex` shared between threads hands `&mut T` to one thread at a time. That
// moves `T` between threads (T: Send) but never shares it (no T: Sync needed).
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            raw: RawMutex::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// Lock, waiting while someone else holds the lock. Dropping the future gives up the wait and loses
    /// no wake-up.
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            raw: self.raw.lock(),
        }
    }

    /// Lock if that needs no waiting. Like Go's `TryLock`, fails in starvation mode even if the lock is
    /// momentarily free: it is owed to the first waiter.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.raw.try_lock().then(|| MutexGuard::new(self))
    }

    /// The data, through exclusive access to the mutex itself: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no guard exists.
        self.data.with_mut(|p| unsafe { &mut *p })
    }

    /// Whether the mutex is in starvation mode now.
    #[doc(hidden)]
    pub fn is_starving(&self) -> bool {
        self.raw.is_starving()
    }

    /// How many unlocks have handed the lock directly to a waiter in starvation mode.
    #[doc(hidden)]
    pub fn starvation_handoffs(&self) -> u64 {
        self.raw.handoffs.load(Relaxed)
    }

    pub(crate) fn raw(&self) -> &RawMutex {
        &self.raw
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("starving", &self.is_starving())
            .finish_non_exhaustive()
    }
}

/// A pending `Mutex::lock`.
#[must_use = "futures do nothing unless polled"]
pub struct Lock<'a, T> {
    mutex: &'a Mutex<T>,
    raw: RawLock<'a>,
}

impl<'a, T> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        if poll_preempt(cx).is_pending() {
            return Poll::Pending;
        }
        match Pin::new(&mut this.raw).poll(cx) {
            Poll::Ready(()) => Poll::Ready(MutexGuard::new(this.mutex)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Proof of holding a `Mutex`; gives access to the data and unlocks when dropped. It may be sent to and
/// dropped on another thread (a Go mutex may be unlocked by another goroutine).
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    /// Sends and shares like `&mut T`: `Send` needs `T: Send`, `Sync` needs `T: Sync`.
    _data: PhantomData<&'a mut T>,
}

impl<'a, T> MutexGuard<'a, T> {
    fn new(mutex: &'a Mutex<T>) -> Self {
        MutexGuard {
            mutex,
            _data: PhantomData,
        }
    }

    /// The mutex this guard locks (for `Cond::wait`, which unlocks and relocks it).
    pub(crate) fn mutex(&self) -> &'a Mutex<T> {
        self.mutex
    }

    /// Build the guard for a lock the caller has just taken through `mutex.raw()`.
    pub(crate) fn from_locked(mutex: &'a Mutex<T>) -> Self {
        MutexGuard::new(mutex)
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held, so no `&mut T` exists elsewhere.
        self.mutex.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the lock is held and `&mut self` makes this the only access through this guard.
        self.mutex.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.raw.unlock();
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::util::test_util::{block_on, poll_noop};
    use std::sync::Arc;
    use std::thread;

    fn state(m: &Mutex<()>) -> u32 {
        m.raw.state.load(SeqCst)
    }

    /// A `lock()` of the held mutex `m`, polled once: it is queued behind the holder.
    fn parked_lock(m: &Mutex<()>) -> Lock<'_, ()> {
        let mut l = m.lock();
        assert!(poll_noop(&mut l).is_pending());
        l
    }

    #[test]
    fn lock_is_exclusive_and_unlock_frees_it() {
        let m = Mutex::new(5);
        let mut g = block_on(m.lock());
        *g += 1;
        assert!(m.try_lock().is_none());
        drop(g);
        assert_eq!(*m.try_lock().unwrap(), 6);
    }

    #[test]
    fn waiter_gets_the_lock_after_unlock() {
        let m = Mutex::new(());
        let g = m.try_lock().unwrap();
        let mut l = parked_lock(&m);
        assert_eq!(state(&m), LOCKED | WAITER);
        drop(g);
        assert_eq!(
            state(&m),
            WOKEN,
            "unlock wakes the waiter and marks it woken"
        );
        assert!(poll_noop(&mut l).is_ready());
    }

    #[test]
    fn newcomer_may_barge_ahead_of_a_woken_waiter_in_normal_mode() {
        let m = Mutex::new(());
        let g = m.try_lock().unwrap();
        let mut l = parked_lock(&m);
        drop(g);
        let barger = m
            .try_lock()
            .expect("normal mode lets a newcomer take a free lock");
        // The woken waiter finds it taken and goes back to sleep, at the front of the queue. (If
        // this thread was descheduled for over 1 ms since the waiter first queued — a loaded machine,
        // or Miri's simulated clock — the waiter has also switched the mutex to starvation mode;
        // either way it is the one owed the lock next.)
        assert!(poll_noop(&mut l).is_pending());
        assert_eq!(state(&m) & !STARVING, LOCKED | WAITER);
        drop(barger);
        assert!(poll_noop(&mut l).is_ready());
    }

    #[test]
    fn starved_waiter_switches_to_starvation_mode_and_is_handed_the_lock() {
        let m = Mutex::new(());
        let g = m.try_lock().unwrap();
        let mut l = parked_lock(&m);
        thread::sleep(Duration::from_millis(3));
        drop(g);
        let barger = m.try_lock().unwrap();
        // Woken after >1 ms and beaten again: it marks the mutex starving and sleeps at the front.
        assert!(poll_noop(&mut l).is_pending());
        assert!(m.is_starving());
        let mut late = m.lock();
        drop(barger);
        assert_eq!(m.starvation_handoffs(), 1);
        assert!(
            m.try_lock().is_none(),
            "a starving mutex is owed to the waiter"
        );
        // A newcomer queues behind it instead of taking the lock.
        assert!(poll_noop(&mut late).is_pending());
        let g = match poll_noop(&mut l) {
            Poll::Ready(g) => g,
            Poll::Pending => panic!("the handed-off lock must be ready"),
        };
        // It starved but was not the last waiter, so starvation mode stays.
        assert!(m.is_starving());
        drop(g);
        assert_eq!(m.starvation_handoffs(), 2);
        let g = match poll_noop(&mut late) {
            Poll::Ready(g) => g,
            Poll::Pending => panic!("handed off to the second waiter"),
        };
        assert!(!m.is_starving(), "the last waiter ends starvation mode");
        drop(g);
        assert_eq!(state(&m), 0);
    }

    #[test]
    fn dropped_waiter_passes_on_its_wake_up() {
        let m = Mutex::new(());
        let g = m.try_lock().unwrap();
        let a = parked_lock(&m);
        let mut b = parked_lock(&m);
        drop(g); // wakes a
        drop(a); // a leaves holding the wake-up: it must wake b
        assert!(poll_noop(&mut b).is_ready());
    }

    #[test]
    fn dropped_queued_waiter_is_paid_later_without_losing_the_lock() {
        let m = Mutex::new(());
        let g = m.try_lock().unwrap();
        let a = parked_lock(&m);
        drop(a); // abandoned: still counted as a waiter
        drop(g); // pays the abandoned waiter, which leaves the lock free
        assert_eq!(state(&m), 0);
        assert!(m.try_lock().is_some());
    }

    #[test]
    fn dropped_waiter_in_starvation_mode_hands_the_lock_on() {
        let m = Mutex::new(());
        let g = m.try_lock().unwrap();
        let mut a = parked_lock(&m);
        let mut b = parked_lock(&m);
        thread::sleep(Duration::from_millis(3));
        drop(g);
        let barger = m.try_lock().unwrap();
        assert!(poll_noop(&mut a).is_pending());
        assert!(m.is_starving());
        drop(barger); // hands the lock to a
        drop(a); // a takes it and hands it to b
        assert!(poll_noop(&mut b).is_ready());
    }

    #[test]
    fn threads_increment_a_counter_exactly() {
        let m = Arc::new(Mutex::new(0u64));
        let ts: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                thread::spawn(move || {
                    for _ in 0..2_000 {
                        *block_on(m.lock()) += 1;
                    }
                })
            })
            .collect();
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(*m.try_lock().unwrap(), 8_000);
        assert_eq!(m.raw.state.load(SeqCst), 0);
    }

    #[test]
    fn threads_dropping_lock_futures_leave_the_mutex_consistent() {
        let m = Arc::new(Mutex::new(0u64));
        let ts: Vec<_> = (0..4)
            .map(|i| {
                let m = m.clone();
                thread::spawn(move || {
                    for j in 0..2_000 {
                        if (i + j) % 3 == 0 {
                            let mut l = m.lock();
                            let _ = poll_noop(&mut l); // maybe acquired (guard dropped), maybe abandoned
                        } else {
                            *block_on(m.lock()) += 1;
                        }
                    }
                })
            })
            .collect();
        for t in ts {
            t.join().unwrap();
        }
        assert!(m.try_lock().is_some());
        assert_eq!(m.raw.state.load(SeqCst), 0, "no waiter or flag left behind");
        assert_eq!(m.raw.sema.waiters(), 0, "every abandoned waiter was paid");
    }
}
