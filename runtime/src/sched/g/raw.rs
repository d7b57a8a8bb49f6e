//! The G's heap block: a type-erased [`Header`] followed by the future (later its output), the vtable
//! that knows the future's type, and [`GRef`], the owned pointer that run queues hold.
//!
//! Mirrors Go's `g` struct (runtime/runtime2.go) and the parts of runtime/proc.go that create a G and
//! end it: `newproc1` (`GRef::new`), the switch into a G in `execute`/`gogo` (`GRef::run`: one poll),
//! and `goexit1`/`goexit0` (`finish`: store the result, leave `allgs`, tell the joiner).
//!
//! # Where this differs from Go
//! - A Go G is a stack plus saved registers, of one type. Here it is a future of any type `F`, so the
//!   block is `Cell<F>` and everything that needs `F` (poll, drop, read the output, free) goes through
//!   a per-`F` vtable, while the scheduler only ever sees `NonNull<Header>`.
//! - Go recycles dead Gs through free lists (`gfput`/`gfget`) because a stack is costly to allocate.
//!   A G here is one `Box`, freed when the last reference goes (see `state.rs`).
//! - A Go G returns nothing and a panic kills the process. Here the output, or the caught panic, is
//!   kept in the block for the `JoinHandle` (`join.rs`).

use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, Waker};

use super::join::JoinError;
use super::state::{
    drop_ref, status, CANCELLED, COMPLETE, JOIN_INTEREST, NOTIFIED, REF_ONE, RUNNING,
};
use super::waker::WAKER_VTABLE;
use crate::sched::Sched;
use crate::util::loom::cell::UnsafeCell;
use crate::util::loom::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};
use crate::util::loom::sync::{Arc, Mutex};

/// The type-erased part of every G. `#[repr(C)]` and first in `Cell<F>`, so a `*Header` is also a
/// `*Cell<F>` for the vtable functions that know `F`.
#[repr(C)]
pub(crate) struct Header {
    /// The state word: flags and reference count (`state.rs`).
    pub(super) state: AtomicUsize,
    pub(super) vtable: &'static Vtable,
    /// Go's goid. 1 is the main G of the first runtime in the process.
    pub(crate) id: u64,
    /// The runtime this G belongs to; wakes submit to it. Dropped with the G.
    pub(crate) sched: Arc<Sched>,
    /// Go's status (observability only, see `status`).
    pub(crate) status: AtomicU8,
    pub(crate) waitreason: AtomicU8,
    /// [`gflags`]: a system G, a named G. Fixed at creation.
    pub(crate) gflags: u8,
    /// Go's `gp.waitsince`: when the G last parked, in the runtime's coarse seconds
    /// (`Sched::coarse_secs`, 0 = unknown). Shares the word with the status bytes, so it is free.
    pub(crate) waitsince: AtomicU32,
    /// Go's `gp.gopc`: where the G was spawned (the `go` call's `file:line`, `#[track_caller]`).
    pub(crate) site: &'static Location<'static>,
    /// Go's `gp.parentGoid`: the G that spawned this one (0 = spawned from outside any G).
    pub(crate) parent: u64,
    /// Index of this G in its `allgs` shard; written once before the G is shared.
    pub(crate) allg_key: UnsafeCell<usize>,
    /// The waker of the task awaiting the `JoinHandle`. A lock, not a state-bit protocol: it is touched
    /// once per join, and a lock makes the no-lost-wake-up argument one line (see `read_output`).
    join_waker: Mutex<Option<Waker>>,
}

/// Bits of `Header::gflags`.
pub(crate) mod gflags {
    /// A runtime-internal G (Go's `isSystemGoroutine`): the signal reader, a context's deadline.
    /// Left out of deadlock counting and listed after the user's Gs in dumps.
    pub(crate) const SYSTEM: u8 = 1;
    /// Spawned with a name (`gort::Go::name`); the name is in `AllGs`' side table, not here.
    pub(crate) const NAMED: u8 = 2;
    /// The main G of a `block_on` (`gort::run`): while it lives, a program waits for this runtime,
    /// and `checkdead` may judge it.
    pub(crate) const ROOT: u8 = 4;
}

/// What a G records about its birth (Go's `newproc1` arguments): the spawn site, the parent and the
/// flags.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin {
    pub(crate) site: &'static Location<'static>,
    pub(crate) parent: u64,
    pub(crate) gflags: u8,
}

impl Origin {
    /// An ordinary G spawned at the caller's location with no parent (tests build Gs by hand).
    #[cfg(test)]
    #[track_caller]
    pub(crate) fn here() -> Origin {
        Origin {
            site: Location::caller(),
            parent: 0,
            gflags: 0,
        }
    }
}

// SAFETY: the header's fields are atomics, a Mutex, an Arc, and `allg_key`, which is written once
// before the G is published and only read afterwards under the allgs shard lock.
unsafe impl Send for Header {}
// SAFETY: as above; every field shared between threads is either atomic or lock-protected.
unsafe impl Sync for Header {}

pub(super) struct Vtable {
    /// Run one poll (or the cancellation) of a G whose `RUNNING` bit the caller just set.
    poll: unsafe fn(NonNull<Header>) -> PollResult,
    /// Free the block. Called exactly once, when the reference count reaches zero.
    pub(super) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: write `Poll<Result<T, JoinError>>` into `dst`.
    pub(super) read_output: unsafe fn(NonNull<Header>, dst: *mut (), waker: &Waker),
    /// Drop the stored output (the `JoinHandle` is gone or the G was never joined).
    pub(super) drop_output: unsafe fn(NonNull<Header>),
    /// Drop the future without polling it (abort, runtime shutdown).
    cancel: unsafe fn(NonNull<Header>) -> PollResult,
}

/// What became of a G after one turn on an M.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PollResult {
    /// Returned `Pending` and nobody woke it during the poll: parked, a `Waker` will bring it back.
    Parked,
    /// Woken during its own poll (a yield, a preemption, or a wake that raced the poll): the caller
    /// must put it back on a run queue, using the reference it polled with.
    Requeue,
    /// Finished (or cancelled); the caller drops its reference.
    Complete,
}

#[repr(C)]
struct Cell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// An owned reference to a G (one count of the state word's refcount). This is what run queues hold.
pub(crate) struct GRef {
    pub(super) ptr: NonNull<Header>,
}

// SAFETY: a G may be polled by any M; `go` requires the future and its output to be Send.
unsafe impl Send for GRef {}
// SAFETY: all shared access goes through the header's atomics and locks.
unsafe impl Sync for GRef {}

impl GRef {
    /// Allocate a G for `future`. Returns two references: one for the run queue and one for the
    /// `JoinHandle`; a third, for the `allgs` registry, is held inside the count and released when the
    /// G completes. State: NOTIFIED | JOIN_INTEREST with 3 references.
    pub(crate) fn new<F>(
        future: F,
        id: u64,
        sched: Arc<Sched>,
        origin: Origin,
    ) -> (GRef, GRef, GRef)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let cell = Box::new(Cell {
            header: Header {
                state: AtomicUsize::new(NOTIFIED | JOIN_INTEREST | (3 * REF_ONE)),
                vtable: vtable::<F>(),
                id,
                sched,
                status: AtomicU8::new(status::RUNNABLE),
                waitreason: AtomicU8::new(0),
                gflags: origin.gflags,
                waitsince: AtomicU32::new(0),
                site: origin.site,
                parent: origin.parent,
                allg_key: UnsafeCell::new(usize::MAX),
                join_waker: Mutex::new(None),
            },
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        (GRef { ptr }, GRef { ptr }, GRef { ptr })
    }

    #[inline]
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: we own a reference, so the block is alive.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn id(&self) -> u64 {
        self.header().id
    }

    pub(crate) fn into_raw(self) -> NonNull<Header> {
        ManuallyDrop::new(self).ptr
    }

    /// # Safety
    /// `ptr` must carry a reference previously released with `into_raw`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> GRef {
        GRef { ptr }
    }

    /// Set RUNNING (the caller took this G from a run queue, so NOTIFIED is set) and poll it once.
    /// The caller keeps this reference in all outcomes and must: on `Parked` drop it (done here: the
    /// reference is consumed by the state transition, see below); on `Requeue` put it on a run queue;
    /// on `Complete` drop it.
    pub(crate) fn run(self) -> (PollResult, Option<GRef>) {
        let h = self.header();
        let cancelled = h.transition_to_running();
        // SAFETY: we hold RUNNING, so no other thread touches the stage.
        let result = unsafe {
            if cancelled {
                (h.vtable.cancel)(self.ptr)
            } else {
                (h.vtable.poll)(self.ptr)
            }
        };
        match result {
            // The idle transition already released the reference we ran with.
            PollResult::Parked => {
                std::mem::forget(self);
                (PollResult::Parked, None)
            }
            r => (r, Some(self)),
        }
    }

    /// Runtime shutdown: drop the future of a G that no M will ever run again (all Ms have exited).
    pub(crate) fn shutdown(&self) {
        let h = self.header();
        let mut cur = h.state.load(Ordering::Acquire);
        loop {
            if cur & (COMPLETE | RUNNING) != 0 {
                return;
            }
            match h.state.compare_exchange_weak(
                cur,
                cur | RUNNING | CANCELLED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        // SAFETY: we set RUNNING, so we have exclusive access to the stage.
        unsafe {
            (h.vtable.cancel)(self.ptr);
        }
    }
}

impl Drop for GRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { drop_ref(self.ptr) }
    }
}

// ---- the typed operations ---------------------------------------------------------------------------

fn vtable<F>() -> &'static Vtable
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    &Vtable {
        poll: poll::<F>,
        dealloc: dealloc::<F>,
        read_output: read_output::<F>,
        drop_output: drop_output::<F>,
        cancel: cancel::<F>,
    }
}

/// # Safety
/// `ptr` points at a live `Cell<F>` whose RUNNING bit the caller set.
unsafe fn poll<F: Future>(ptr: NonNull<Header>) -> PollResult {
    // SAFETY: the header is the first field of the repr(C) Cell<F>.
    let cell = unsafe { ptr.cast::<Cell<F>>().as_ref() };
    // The waker borrows our reference: no refcount traffic unless the future clones it.
    // SAFETY: the data pointer is a live header; ManuallyDrop keeps us from releasing a reference
    // we did not add.
    let waker = ManuallyDrop::new(unsafe {
        Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &WAKER_VTABLE))
    });
    let mut cx = Context::from_waker(&waker);
    let res = cell.stage.with_mut(|stage| {
        // SAFETY: RUNNING gives us exclusive access to the stage.
        let stage = unsafe { &mut *stage };
        let Stage::Running(fut) = stage else {
            unreachable!("polled a G whose future is gone");
        };
        // SAFETY: the future is never moved out of the heap block while in `Running` (`finish`
        // drops it in place), so pinning it in place is sound.
        let fut = unsafe { Pin::new_unchecked(fut) };
        catch_unwind(AssertUnwindSafe(|| fut.poll(&mut cx)))
    });
    let output = match res {
        Ok(Poll::Pending) => {
            // Before the transition: once idle, a waker may free the G at any moment.
            cell.header.status.store(status::WAITING, Ordering::Relaxed);
            let since = cell.header.sched.coarse_secs();
            cell.header.waitsince.store(since, Ordering::Relaxed);
            return cell.header.transition_to_idle();
        }
        Ok(Poll::Ready(v)) => Ok(v),
        Err(payload) => {
            // Go's `fatalpanic`, when the program asked for it (`panicexit`): dump and exit 2.
            crate::sched::traceback::g_panicked(&cell.header);
            Err(JoinError::panic(cell.header.id, payload))
        }
    };
    // SAFETY: still RUNNING, still exclusive.
    unsafe { finish(cell, output) };
    PollResult::Complete
}

/// # Safety
/// `ptr` points at a live `Cell<F>` whose RUNNING bit the caller set.
unsafe fn cancel<F: Future>(ptr: NonNull<Header>) -> PollResult {
    // SAFETY: see `poll`.
    let cell = unsafe { ptr.cast::<Cell<F>>().as_ref() };
    let err = JoinError::cancelled(cell.header.id);
    // SAFETY: RUNNING gives exclusive access.
    unsafe { finish(cell, Err(err)) };
    PollResult::Complete
}

/// Drop the future, store the output, set COMPLETE, and tell the joiner.
///
/// # Safety
/// The caller holds RUNNING.
unsafe fn finish<F: Future>(cell: &Cell<F>, output: Result<F::Output, JoinError>) {
    let id = cell.header.id;
    cell.stage.with_mut(|stage| {
        // Dropping the future runs user destructors, which may panic; the G's result then reports the
        // panic (unless it already holds one).
        // SAFETY: exclusive access (RUNNING).
        let dropped = catch_unwind(AssertUnwindSafe(|| unsafe { *stage = Stage::Consumed }));
        let output = match (output, dropped) {
            (Ok(_), Err(payload)) => Err(JoinError::panic(id, payload)),
            (output, _) => output,
        };
        // SAFETY: exclusive access (RUNNING).
        unsafe { *stage = Stage::Finished(output) };
    });
    cell.header.status.store(status::DEAD, Ordering::Relaxed);
    let joined = cell.header.transition_to_complete();
    // Leave the registry before waking the joiner, so that a joiner never sees its finished G still
    // counted as live. The M's and the JoinHandle's references keep the block alive meanwhile.
    cell.header.sched.allgs.remove(&cell.header);
    if joined {
        let waker = crate::util::loom::lock(&cell.header.join_waker).take();
        if let Some(w) = waker {
            w.wake();
        }
    } else {
        // SAFETY: no JoinHandle: after COMPLETE nobody else reads the output. The pointer is made
        // from the whole cell, not from `&cell.header`: `drop_output` reaches the stage through it,
        // and a pointer derived from the header field may only touch the header's bytes (Miri's
        // Stacked Borrows caught exactly that).
        unsafe { drop_output::<F>(NonNull::from(cell).cast::<Header>()) };
    }
}

/// # Safety
/// The reference count reached zero.
unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the block was allocated as Box<Cell<F>> in GRef::new and this is the last reference.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F>>().as_ptr()) });
}

/// # Safety
/// The caller owns the JoinHandle's reference; `dst` points at a `Poll<Result<F::Output, JoinError>>`.
unsafe fn read_output<F: Future>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: see `poll`.
    let cell = unsafe { ptr.cast::<Cell<F>>().as_ref() };
    // Check COMPLETE while holding the join-waker lock: the completer sets COMPLETE *before* taking
    // this lock, so either we see COMPLETE or it sees our waker. No lost wake-up.
    let mut slot = crate::util::loom::lock(&cell.header.join_waker);
    if !cell.header.is_complete() {
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
        return;
    }
    drop(slot);
    // SAFETY: COMPLETE with JOIN_INTEREST: the output belongs to the JoinHandle, which we are.
    let out = cell
        .stage
        .with_mut(|stage| std::mem::replace(unsafe { &mut *stage }, Stage::Consumed));
    let Stage::Finished(out) = out else {
        panic!("JoinHandle polled after it returned its output");
    };
    // SAFETY: the caller passes a pointer to the right type.
    unsafe { *(dst as *mut Poll<Result<F::Output, JoinError>>) = Poll::Ready(out) };
}

/// # Safety
/// The caller is the only one entitled to the output (see `unset_join_interest` / `finish`).
unsafe fn drop_output<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: see `poll`.
    let cell = unsafe { ptr.cast::<Cell<F>>().as_ref() };
    // SAFETY: the caller is entitled to the output, and no M touches the stage after COMPLETE.
    let old = cell
        .stage
        .with_mut(|stage| std::mem::replace(unsafe { &mut *stage }, Stage::Consumed));
    // The output's destructor is user code; a panic there must not unwind into the scheduler.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(old)));
}
