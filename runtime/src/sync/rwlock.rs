//! The reader/writer lock: Go's sync/rwmutex.go (`RLock`, `RUnlock`, `rUnlockSlow`, `Lock`, `Unlock`).
//!
//! Many readers or one writer. Writers are preferred: once a writer is waiting, new readers wait behind
//! it, so a steady stream of readers cannot starve writers.
//!
//! - `w` (a mutex) is held by the writer that is waiting or writing, so writers queue on it one at a time.
//! - `reader_count` counts readers, active or blocked. A writer announces itself by subtracting
//!   `MAX_READERS`: a negative count then tells every new reader to sleep on `reader_sem`.
//! - `reader_wait` counts the readers that were already inside when the writer announced itself; the
//!   last of them to leave wakes the writer through `writer_sem`.
//! - The writer's unlock adds `MAX_READERS` back and releases one `reader_sem` unit per reader that
//!   arrived while it held the lock.
//!
//! # Where this differs from Go, and why
//! Cancellation (Go cannot abandon `RLock` or `Lock`). A dropped read or write future is still counted by
//! the state above, so it leaves through `Acquire::abandon`:
//! - A reader dropped while blocked behind a writer is admitted when that writer unlocks (the unlock
//!   counted it), and leaves at once: if it already had its unit it unlocks itself, otherwise the
//!   writer's unlock finds it among the sema's abandoned waiters and read-unlocks for it.
//! - A writer dropped while waiting for readers to leave holds `w` and has announced itself. It gets the
//!   lock when the last reader leaves and unlocks at once: itself if it had already been woken,
//!   otherwise that last reader does it (`writer_sem.release` reports the abandoned writer).
//! - A writer dropped while waiting for `w` simply leaves the mutex (see mutex.rs).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::mutex::{RawLock, RawMutex};
use crate::sched::coop::poll_preempt;
use crate::sched::g::{set_waitreason, WaitReason};
use crate::sync::sema::{Abandoned, Acquire, Sema};
use crate::util::loom::cell::UnsafeCell;
use crate::util::loom::sync::atomic::{AtomicU32, Ordering::SeqCst};

/// More readers than this at once is unsupported (Go's `rwmutexMaxReaders`).
const MAX_READERS: i32 = 1 << 30;

/// Go's `atomic.Int32.Add`: add `delta` to a counter kept as the bits of an `i32` and return the new value.
fn add(a: &AtomicU32, delta: i32) -> i32 {
    (a.fetch_add(delta as u32, SeqCst) as i32).wrapping_add(delta)
}

/// A reader/writer lock whose `read` and `write` are futures: Go's `sync.RWMutex`, holding its data.
pub struct RwLock<T> {
    w: RawMutex,
    writer_sem: Sema,
    reader_sem: Sema,
    /// Readers inside or blocked, minus `MAX_READERS` while a writer is pending (an `i32`, as in Go).
    reader_count: AtomicU32,
    /// Readers the pending writer still waits for (an `i32`).
    reader_wait: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: readers share `&T` across threads (T: Sync) and a writer gets `&mut T`, possibly on another
// thread than the last (T: Send); the state word guarantees the two never overlap.
unsafe impl<T: Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            w: RawMutex::new(),
            writer_sem: Sema::new(0),
            reader_sem: Sema::new(0),
            reader_count: AtomicU32::new(0),
            reader_wait: AtomicU32::new(0),
            data: UnsafeCell::new(value),
        }
    }

    /// Lock for reading, waiting while a writer holds or waits for the lock (Go's `RLock`).
    pub fn read(&self) -> Read<'_, T> {
        Read {
            rw: self,
            stage: ReadStage::Start,
        }
    }

    /// Lock for writing, waiting for other writers and for the readers inside (Go's `Lock`).
    pub fn write(&self) -> Write<'_, T> {
        Write {
            rw: self,
            stage: WriteStage::Lock(self.w.lock()),
        }
    }

    /// Go's `TryRLock`.
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let mut c = self.reader_count.load(SeqCst);
        loop {
            if (c as i32) < 0 {
                return None; // a writer holds or waits
            }
            match self.reader_count.compare_exchange(c, c + 1, SeqCst, SeqCst) {
                Ok(_) => return Some(RwLockReadGuard::new(self)),
                Err(now) => c = now,
            }
        }
    }

    /// Go's `TryLock`.
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        if !self.w.try_lock() {
            return None;
        }
        if self
            .reader_count
            .compare_exchange(0, MAX_READERS.wrapping_neg() as u32, SeqCst, SeqCst)
            .is_err()
        {
            self.w.unlock();
            return None;
        }
        Some(RwLockWriteGuard::new(self))
    }

    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no guard exists.
        self.data.with_mut(|p| unsafe { &mut *p })
    }

    /// Go's `RUnlock`.
    fn read_unlock(&self) {
        let r = add(&self.reader_count, -1);
        if r < 0 {
            self.read_unlock_slow(r);
        }
    }

    /// A writer is waiting or writing: if it waits for us, count ourselves out (Go's `rUnlockSlow`).
    fn read_unlock_slow(&self, r: i32) {
        if r + 1 == 0 || r + 1 == -MAX_READERS {
            panic!("sync: RUnlock of unlocked RWMutex");
        }
        if add(&self.reader_wait, -1) == 0 {
            // The last reader the writer waited for: let it in.
            if self.writer_sem.release(false) {
                // The writer gave up while waiting for us: it holds the lock now, so unlock for it.
                self.write_unlock();
            }
        }
    }

    /// Go's `Unlock`.
    fn write_unlock(&self) {
        // Announce to readers that no writer is active any more.
        let r = add(&self.reader_count, MAX_READERS);
        if r >= MAX_READERS {
            panic!("sync: Unlock of unlocked RWMutex");
        }
        // Wake the readers that arrived during the write, one unit each.
        let mut gave_up = 0;
        for _ in 0..r {
            if self.reader_sem.release(false) {
                gave_up += 1;
            }
        }
        // Readers that were dropped while blocked were admitted just now; they leave at once. `w` is still
        // held, so no writer can be waiting and these take RUnlock's fast path.
        for _ in 0..gave_up {
            self.read_unlock();
        }
        self.w.unlock();
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").finish_non_exhaustive()
    }
}

/// A pending `RwLock::read`.
#[must_use = "futures do nothing unless polled"]
pub struct Read<'a, T> {
    rw: &'a RwLock<T>,
    stage: ReadStage<'a>,
}

enum ReadStage<'a> {
    Start,
    /// Counted as a reader, blocked behind a writer.
    Blocked(Acquire<'a>),
    Done,
}

impl<'a, T> Future for Read<'a, T> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if poll_preempt(cx).is_pending() {
            return Poll::Pending;
        }
        let rw = this.rw;
        if let ReadStage::Start = this.stage {
            if add(&rw.reader_count, 1) >= 0 {
                this.stage = ReadStage::Done;
                return Poll::Ready(RwLockReadGuard::new(rw));
            }
            // A writer is pending: wait for its unlock to admit us.
            this.stage = ReadStage::Blocked(rw.reader_sem.acquire(false, WaitReason::RwLockRLock));
        }
        match &mut this.stage {
            ReadStage::Blocked(sleep) => {
                if Pin::new(sleep).poll(cx).is_pending() {
                    set_waitreason(WaitReason::RwLockRLock);
                    return Poll::Pending;
                }
                this.stage = ReadStage::Done;
                Poll::Ready(RwLockReadGuard::new(rw))
            }
            _ => panic!("RwLock read future polled after completion"),
        }
    }
}

impl<T> Drop for Read<'_, T> {
    fn drop(&mut self) {
        if let ReadStage::Blocked(sleep) = std::mem::replace(&mut self.stage, ReadStage::Done) {
            if sleep.abandon() == Abandoned::HadUnit {
                self.rw.read_unlock(); // admitted already: leave
            }
        }
    }
}

/// A pending `RwLock::write`.
#[must_use = "futures do nothing unless polled"]
pub struct Write<'a, T> {
    rw: &'a RwLock<T>,
    stage: WriteStage<'a>,
}

enum WriteStage<'a> {
    /// Waiting for the other writers (the `w` mutex).
    Lock(RawLock<'a>),
    /// Holding `w`, announced, waiting for the readers that were inside to leave.
    Readers(Acquire<'a>),
    Done,
}

impl<'a, T> Future for Write<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if poll_preempt(cx).is_pending() {
            return Poll::Pending;
        }
        let rw = this.rw;
        if let WriteStage::Lock(lock) = &mut this.stage {
            if Pin::new(lock).poll(cx).is_pending() {
                set_waitreason(WaitReason::RwLockWLock);
                return Poll::Pending;
            }
            // Announce the writer; `r` is the number of readers inside.
            let r = add(&rw.reader_count, -MAX_READERS) + MAX_READERS;
            if r == 0 || add(&rw.reader_wait, r) == 0 {
                this.stage = WriteStage::Done;
                return Poll::Ready(RwLockWriteGuard::new(rw));
            }
            this.stage = WriteStage::Readers(rw.writer_sem.acquire(false, WaitReason::RwLockWLock));
        }
        match &mut this.stage {
            WriteStage::Readers(sleep) => {
                if Pin::new(sleep).poll(cx).is_pending() {
                    set_waitreason(WaitReason::RwLockWLock);
                    return Poll::Pending;
                }
                this.stage = WriteStage::Done;
                Poll::Ready(RwLockWriteGuard::new(rw))
            }
            _ => panic!("RwLock write future polled after completion"),
        }
    }
}

impl<T> Drop for Write<'_, T> {
    fn drop(&mut self) {
        if let WriteStage::Readers(sleep) = std::mem::replace(&mut self.stage, WriteStage::Done) {
            if sleep.abandon() == Abandoned::HadUnit {
                self.rw.write_unlock(); // the readers had left: we hold the lock, so release it
            }
        }
        // WriteStage::Lock: dropping the RawLock leaves the writers' mutex cleanly.
    }
}

/// Shared access to an `RwLock`'s data; read-unlocks when dropped.
#[must_use = "dropping the guard unlocks at once"]
pub struct RwLockReadGuard<'a, T> {
    rw: &'a RwLock<T>,
    /// Shares like `&T`.
    _data: PhantomData<&'a T>,
}

impl<'a, T> RwLockReadGuard<'a, T> {
    fn new(rw: &'a RwLock<T>) -> Self {
        RwLockReadGuard {
            rw,
            _data: PhantomData,
        }
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: a read guard exists only while the lock is read-held, which excludes any writer.
        self.rw.data.with(|p| unsafe { &*p })
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.rw.read_unlock();
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to an `RwLock`'s data; unlocks when dropped.
#[must_use = "dropping the guard unlocks at once"]
pub struct RwLockWriteGuard<'a, T> {
    rw: &'a RwLock<T>,
    /// Sends and shares like `&mut T`.
    _data: PhantomData<&'a mut T>,
}

impl<'a, T> RwLockWriteGuard<'a, T> {
    fn new(rw: &'a RwLock<T>) -> Self {
        RwLockWriteGuard {
            rw,
            _data: PhantomData,
        }
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the write lock excludes readers and other writers.
        self.rw.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the write lock excludes readers and other writers; `&mut self` excludes this guard.
        self.rw.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.rw.write_unlock();
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::util::test_util::{block_on, poll_noop};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::thread;

    fn idle<T>(rw: &RwLock<T>) -> bool {
        rw.reader_count.load(SeqCst) == 0
            && rw.reader_wait.load(SeqCst) == 0
            && rw.w.try_lock()
            && {
                rw.w.unlock();
                true
            }
    }

    #[test]
    fn readers_share_the_lock() {
        let rw = RwLock::new(1);
        let a = block_on(rw.read());
        let b = block_on(rw.read());
        assert_eq!(*a + *b, 2);
        assert!(rw.try_write().is_none());
        drop((a, b));
        assert!(rw.try_write().is_some());
    }

    #[test]
    fn writer_excludes_readers_and_writers() {
        let rw = RwLock::new(1);
        let mut w = block_on(rw.write());
        *w = 2;
        assert!(rw.try_read().is_none());
        assert!(rw.try_write().is_none());
        let mut r = rw.read();
        assert!(poll_noop(&mut r).is_pending());
        drop(w);
        match poll_noop(&mut r) {
            Poll::Ready(g) => assert_eq!(*g, 2),
            Poll::Pending => panic!("the writer's unlock admits the blocked reader"),
        };
    }

    #[test]
    fn waiting_writer_blocks_new_readers() {
        let rw = RwLock::new(0);
        let r1 = block_on(rw.read());
        let mut w = rw.write();
        assert!(
            poll_noop(&mut w).is_pending(),
            "waits for the reader inside"
        );
        let mut r2 = rw.read();
        assert!(
            poll_noop(&mut r2).is_pending(),
            "a new reader queues behind the writer"
        );
        drop(r1);
        let wg = match poll_noop(&mut w) {
            Poll::Ready(g) => g,
            Poll::Pending => panic!("the last reader lets the writer in"),
        };
        assert!(poll_noop(&mut r2).is_pending());
        drop(wg);
        assert!(poll_noop(&mut r2).is_ready());
    }

    #[test]
    fn dropped_blocked_reader_leaves_the_lock_usable() {
        let rw = RwLock::new(0);
        let w = block_on(rw.write());
        let mut r = rw.read();
        assert!(poll_noop(&mut r).is_pending());
        drop(r); // abandoned: admitted and released by the writer's unlock
        drop(w);
        assert!(idle(&rw));
        assert_eq!(rw.reader_sem.waiters(), 0);
        assert_eq!(rw.reader_sem.units(), 0);
    }

    #[test]
    fn dropped_reader_after_admission_unlocks_itself() {
        let rw = RwLock::new(0);
        let w = block_on(rw.write());
        let mut r = rw.read();
        assert!(poll_noop(&mut r).is_pending());
        drop(w); // wakes r
        drop(r); // it had its unit: it read-locked, so it read-unlocks
        assert!(idle(&rw));
    }

    #[test]
    fn dropped_writer_waiting_for_readers_is_unlocked_by_the_last_reader() {
        let rw = RwLock::new(0);
        let r1 = block_on(rw.read());
        let mut w = rw.write();
        assert!(poll_noop(&mut w).is_pending());
        let mut r2 = rw.read();
        assert!(poll_noop(&mut r2).is_pending());
        drop(w); // abandoned while holding `w` and announced
        drop(r1); // last reader out: finishes the writer, which admits r2
        assert!(poll_noop(&mut r2).is_ready());
        assert!(idle(&rw));
    }

    #[test]
    fn dropped_writer_that_was_already_woken_unlocks_itself() {
        let rw = RwLock::new(0);
        let r1 = block_on(rw.read());
        let mut w = rw.write();
        assert!(poll_noop(&mut w).is_pending());
        drop(r1);
        drop(w);
        assert!(idle(&rw));
    }

    #[test]
    fn threads_mix_readers_and_writers_without_overlap() {
        let rw = Arc::new(RwLock::new(0u64));
        let inside = Arc::new(AtomicUsize::new(0));
        let ts: Vec<_> = (0..4)
            .map(|i| {
                let (rw, inside) = (rw.clone(), inside.clone());
                thread::spawn(move || {
                    for j in 0..1_000 {
                        if (i + j) % 4 == 0 {
                            let mut g = block_on(rw.write());
                            assert_eq!(inside.fetch_add(1000, Ordering::SeqCst), 0, "writer alone");
                            *g += 1;
                            inside.fetch_sub(1000, Ordering::SeqCst);
                        } else if (i + j) % 7 == 0 {
                            let mut r = rw.read();
                            let _ = poll_noop(&mut r);
                        } else {
                            let _g = block_on(rw.read());
                            assert!(
                                inside.fetch_add(1, Ordering::SeqCst) < 1000,
                                "no writer inside"
                            );
                            inside.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(*rw.try_read().unwrap(), 1_000);
        assert!(idle(&rw));
    }
}
