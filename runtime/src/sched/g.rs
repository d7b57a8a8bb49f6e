//! The G: a spawned future and everything the scheduler needs to run it.
//!
//! Mirrors Go's `g` struct (runtime/runtime2.go) and the parts of runtime/proc.go that change a G's
//! status (`newproc1`, `ready`, `goexit`). In Go a G is a stack plus saved registers; here it is a future,
//! so "running a G" means calling `poll` once, and "parking" means `poll` returned `Pending` after
//! handing a `Waker` to whatever will wake it.
//!
//! # One allocation
//! A G is a single heap block, `Cell<F>`: a type-erased [`Header`] followed by the future (later its
//! output). The header holds the state word, a vtable for the typed operations, the G's id and the
//! status fields that schedtrace and the tracer print. A `Waker` is just a pointer to the header, so
//! waking a G never allocates, and a run queue slot is one pointer.
//!
//! # The state word
//! Flags in the low bits, a reference count above them, all in one `AtomicUsize` so every transition
//! is a single compare-and-swap:
//!
//! | bit | meaning |
//! |---|---|
//! | `NOTIFIED` | the G must run (again). While idle, a run queue entry exists and owns one reference. While `RUNNING`, it only records "woken during the poll" and owns nothing: the M re-queues the G with the reference it polled with. |
//! | `RUNNING` | an M is inside `poll`. Only the M that set it touches the future. |
//! | `COMPLETE` | the future is gone; its output (or the error) is stored. Wakes are ignored from now on. |
//! | `CANCELLED` | `abort` was called: the next time an M takes the G it drops the future instead of polling it. |
//! | `JOIN_INTEREST` | a `JoinHandle` exists and will read the output. |
//!
//! References are held by: the `allgs` registry (until the G completes), the `JoinHandle`, each
//! `Waker`, and the run queue entry of a `NOTIFIED` idle G. The block is freed when the count reaches 0.
//!
//! Transitions (each is one CAS; "idle" = none of NOTIFIED, RUNNING, COMPLETE):
//! - wake: idle → NOTIFIED and +1 reference, then the G goes on a run queue (Go's `ready`);
//!   RUNNING → RUNNING|NOTIFIED (so a wake during a poll is neither lost nor a second concurrent run);
//!   NOTIFIED or COMPLETE → unchanged.
//! - run: NOTIFIED → RUNNING (the queue's reference becomes the M's).
//! - after a `Pending` poll: RUNNING → idle, dropping the M's reference; or RUNNING|NOTIFIED → NOTIFIED,
//!   and the M puts the G back on a run queue with that reference.
//! - complete: RUNNING → COMPLETE (NOTIFIED cleared).
//!
//! # Where this differs from Go
//! Go's G has ~10 statuses because it also tracks stacks, GC scanning and preemption states. The
//! executor only needs the five bits above; Go's status numbers survive in `Header::status` purely for
//! observability (scheddetail prints them), and are written by the M, never used for synchronization.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::sched::Sched;
use crate::util::loom::cell::UnsafeCell;
use crate::util::loom::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use crate::util::loom::sync::{Arc, Mutex};

const NOTIFIED: usize = 1 << 0;
const RUNNING: usize = 1 << 1;
const COMPLETE: usize = 1 << 2;
const CANCELLED: usize = 1 << 3;
const JOIN_INTEREST: usize = 1 << 4;
const REF_SHIFT: usize = 6;
const REF_ONE: usize = 1 << REF_SHIFT;

/// Why a G is waiting: Go's `waitReason` words (runtime2.go), printed by scheddetail and the tracer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum WaitReason {
    None = 0,
    ChanReceive,
    ChanSend,
    Select,
    IoWait,
    Sleep,
    MutexLock,
    RwLockRLock,
    RwLockWLock,
    Semacquire,
    CondWait,
    WaitGroupWait,
    ChanReceiveNilChan,
    Syscall,
    JoinWait,
}

impl WaitReason {
    /// Go's wording, as `GODEBUG=scheddetail=1` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::None => "",
            WaitReason::ChanReceive => "chan receive",
            WaitReason::ChanSend => "chan send",
            WaitReason::Select => "select",
            WaitReason::IoWait => "IO wait",
            WaitReason::Sleep => "sleep",
            WaitReason::MutexLock => "sync.Mutex.Lock",
            WaitReason::RwLockRLock => "sync.RWMutex.RLock",
            WaitReason::RwLockWLock => "sync.RWMutex.Lock",
            WaitReason::Semacquire => "semacquire",
            WaitReason::CondWait => "sync.Cond.Wait",
            WaitReason::WaitGroupWait => "sync.WaitGroup.Wait",
            WaitReason::ChanReceiveNilChan => "chan receive (nil chan)",
            WaitReason::Syscall => "syscall",
            WaitReason::JoinWait => "join",
        }
    }

    /// The reason with this byte (`None` for an unknown one); the G header and the tracer keep
    /// the byte.
    pub(crate) fn from_u8(v: u8) -> WaitReason {
        const ALL: [WaitReason; 15] = [
            WaitReason::None,
            WaitReason::ChanReceive,
            WaitReason::ChanSend,
            WaitReason::Select,
            WaitReason::IoWait,
            WaitReason::Sleep,
            WaitReason::MutexLock,
            WaitReason::RwLockRLock,
            WaitReason::RwLockWLock,
            WaitReason::Semacquire,
            WaitReason::CondWait,
            WaitReason::WaitGroupWait,
            WaitReason::ChanReceiveNilChan,
            WaitReason::Syscall,
            WaitReason::JoinWait,
        ];
        ALL.get(v as usize).copied().unwrap_or(WaitReason::None)
    }
}

/// Go's G status numbers (runtime2.go `_Grunnable` ...), kept for schedtrace/scheddetail only.
pub(crate) mod status {
    pub(crate) const RUNNABLE: u8 = 1;
    pub(crate) const RUNNING: u8 = 2;
    pub(crate) const SYSCALL: u8 = 3;
    pub(crate) const WAITING: u8 = 4;
    pub(crate) const DEAD: u8 = 6;
}

/// Record why the running G is about to return `Pending`. Runtime primitives call this right before
/// returning `Pending`; it is a no-op outside a G.
#[inline]
pub(crate) fn set_waitreason(r: WaitReason) {
    crate::sched::getg::with_curm(|ctx| ctx.waitreason.set(r));
    crate::sched::getg::with_curg(|g| g.waitreason.store(r as u8, Ordering::Relaxed));
}

/// The type-erased part of every G. `#[repr(C)]` and first in `Cell<F>`, so a `*Header` is also a
/// `*Cell<F>` for the vtable functions that know `F`.
#[repr(C)]
pub(crate) struct Header {
    state: AtomicUsize,
    vtable: &'static Vtable,
    /// Go's goid. 1 is the main G of the first runtime in the process.
    pub(crate) id: u64,
    /// The runtime this G belongs to; wakes submit to it. Dropped with the G.
    pub(crate) sched: Arc<Sched>,
    /// Go's status (observability only, see `status`).
    pub(crate) status: AtomicU8,
    pub(crate) waitreason: AtomicU8,
    /// Set once the "runaway poll" warning was printed for this G, so it is printed once per G.
    pub(crate) warned: AtomicU8,
    /// Index of this G in its `allgs` shard; written once before the G is shared.
    pub(crate) allg_key: UnsafeCell<usize>,
    /// The waker of the task awaiting the `JoinHandle`. A lock, not a state-bit protocol: it is touched
    /// once per join, and a lock makes the no-lost-wake-up argument one line (see `read_output`).
    join_waker: Mutex<Option<Waker>>,
}

// SAFETY: the header's fields are atomics, a Mutex, an Arc, and `allg_key`, which is written once
// before the G is published and only read afterwards under the allgs shard lock.
unsafe impl Send for Header {}
// SAFETY: as above; every field shared between threads is either atomic or lock-protected.
unsafe impl Sync for Header {}

struct Vtable {
    /// Run one poll (or the cancellation) of a G whose `RUNNING` bit the caller just set.
    poll: unsafe fn(NonNull<Header>) -> PollResult,
    /// Free the block. Called exactly once, when the reference count reaches zero.
    dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: write `Poll<Result<T, JoinError>>` into `dst`.
    read_output: unsafe fn(NonNull<Header>, dst: *mut (), waker: &Waker),
    /// Drop the stored output (the `JoinHandle` is gone or the G was never joined).
    drop_output: unsafe fn(NonNull<Header>),
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
    ptr: NonNull<Header>,
}

// SAFETY: a G may be polled by any M; `go` requires the future and its output to be Send.
unsafe impl Send for GRef {}
// SAFETY: all shared access goes through the header's atomics and locks.
unsafe impl Sync for GRef {}

impl GRef {
    /// Allocate a G for `future`. Returns two references: one for the run queue and one for the
    /// `JoinHandle`; a third, for the `allgs` registry, is held inside the count and released when the
    /// G completes. State: NOTIFIED | JOIN_INTEREST with 3 references.
    pub(crate) fn new<F>(future: F, id: u64, sched: Arc<Sched>) -> (GRef, GRef, GRef)
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
                warned: AtomicU8::new(0),
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

/// Release one reference; free the block if it was the last.
///
/// # Safety
/// The caller owns the reference it releases.
unsafe fn drop_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller owns a reference, so the header is alive until we release it.
    let h = unsafe { ptr.as_ref() };
    let prev = h.state.fetch_sub(REF_ONE, Ordering::AcqRel);
    debug_assert!(prev >> REF_SHIFT >= 1, "G refcount underflow");
    if prev >> REF_SHIFT == 1 {
        // SAFETY: that was the last reference; nobody else can reach the block.
        unsafe { (h.vtable.dealloc)(ptr) }
    }
}

impl Header {
    fn ref_inc(&self) {
        // Relaxed is enough: a new reference is only made from an existing one, which keeps the
        // block alive, and the decrement that frees it is AcqRel.
        let prev = self.state.fetch_add(REF_ONE, Ordering::Relaxed);
        if prev > usize::MAX / 2 {
            std::process::abort(); // refcount overflow: far more wakers than memory could hold
        }
    }

    /// NOTIFIED → RUNNING. Returns true if the G was cancelled and must be dropped, not polled.
    fn transition_to_running(&self) -> bool {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            assert!(
                cur & NOTIFIED != 0 && cur & (RUNNING | COMPLETE) == 0,
                "G {} taken from a run queue in state {cur:#x}",
                self.id
            );
            let next = (cur & !NOTIFIED) | RUNNING;
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return cur & CANCELLED != 0,
                Err(actual) => cur = actual,
            }
        }
    }

    /// After a `Pending` poll. RUNNING → idle (releasing the M's reference) → `Parked`; or, if woken
    /// during the poll, RUNNING|NOTIFIED → NOTIFIED → `Requeue` (the M keeps the reference for the queue).
    fn transition_to_idle(&self) -> PollResult {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            debug_assert!(cur & RUNNING != 0);
            let (next, res) = if cur & NOTIFIED != 0 {
                (cur & !RUNNING, PollResult::Requeue)
            } else {
                debug_assert!(
                    cur >> REF_SHIFT >= 2,
                    "a parked G must keep its allgs reference"
                );
                ((cur & !RUNNING) - REF_ONE, PollResult::Parked)
            };
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return res,
                Err(actual) => cur = actual,
            }
        }
    }

    /// RUNNING → COMPLETE. Returns whether a JoinHandle still wants the output.
    fn transition_to_complete(&self) -> bool {
        let prev = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some((s & !(RUNNING | NOTIFIED)) | COMPLETE)
            })
            .unwrap_or_else(|s| s);
        prev & JOIN_INTEREST != 0
    }

    /// Go's `ready`: make the G runnable. Returns true if the caller must submit a new reference to a
    /// run queue (the idle → NOTIFIED case); the reference has already been counted.
    fn transition_to_notified(&self) -> bool {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & (COMPLETE | NOTIFIED) != 0 {
                return false;
            }
            let (next, submit) = if cur & RUNNING != 0 {
                // The deliberately injected bug of design.md's loom experiment: forget the wake.
                #[cfg(gort_bug_drop_notified)]
                return false;
                #[cfg(not(gort_bug_drop_notified))]
                (cur | NOTIFIED, false)
            } else {
                (cur | NOTIFIED, true)
            };
            let next = if submit { next + REF_ONE } else { next };
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return submit,
                Err(actual) => cur = actual,
            }
        }
    }

    /// `abort`: set CANCELLED and make sure an M sees it. Returns true if the caller must submit.
    fn transition_to_cancelled(&self) -> bool {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & (COMPLETE | CANCELLED) != 0 {
                return false;
            }
            let idle = cur & (RUNNING | NOTIFIED) == 0;
            let mut next = cur | CANCELLED | NOTIFIED;
            if idle {
                next += REF_ONE;
            }
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return idle,
                Err(actual) => cur = actual,
            }
        }
    }

    /// JoinHandle dropped: clear JOIN_INTEREST. Returns true if the G already completed, in which case
    /// the output is ours to drop.
    fn unset_join_interest(&self) -> bool {
        let prev = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some(s & !JOIN_INTEREST)
            })
            .unwrap_or_else(|s| s);
        prev & COMPLETE != 0
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.state.load(Ordering::Acquire) & COMPLETE != 0
    }
}

/// Make a G runnable from a waker: Go's `ready(gp)`.
fn wake_by_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller (a Waker or JoinHandle) owns a reference, so the header is alive.
    let h = unsafe { ptr.as_ref() };
    if h.transition_to_notified() {
        h.status.store(status::RUNNABLE, Ordering::Relaxed);
        // SAFETY: transition_to_notified counted a new reference for the run queue.
        let g = unsafe { GRef::from_raw(ptr) };
        crate::sched::proc::ready(&h.sched, g);
    }
}

// ---- the Waker vtable -------------------------------------------------------------------------------

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

unsafe fn waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` is the header of a live G: the waker being cloned owns a reference.
    let h = unsafe { &*(data as *const Header) };
    h.ref_inc();
    RawWaker::new(data, &WAKER_VTABLE)
}

unsafe fn waker_wake(data: *const ()) {
    // SAFETY: a waker's data is a non-null header pointer carrying one reference.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    wake_by_ref(ptr);
    // SAFETY: wake consumes the waker, so its reference is released here.
    unsafe { drop_ref(ptr) }
}

unsafe fn waker_wake_by_ref(data: *const ()) {
    // SAFETY: as in waker_wake; the reference stays with the waker.
    wake_by_ref(unsafe { NonNull::new_unchecked(data as *mut Header) });
}

unsafe fn waker_drop(data: *const ()) {
    // SAFETY: dropping the waker releases the reference it carried.
    unsafe { drop_ref(NonNull::new_unchecked(data as *mut Header)) }
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
        // SAFETY: RUNNING gives us exclusive access to the stage; the future is never moved out of
        // the heap block while in `Running`, so pinning it in place is sound.
        let stage = unsafe { &mut *stage };
        let Stage::Running(fut) = stage else {
            unreachable!("polled a G whose future is gone");
        };
        let fut = unsafe { Pin::new_unchecked(fut) };
        catch_unwind(AssertUnwindSafe(|| fut.poll(&mut cx)))
    });
    let output = match res {
        Ok(Poll::Pending) => {
            // Before the transition: once idle, a waker may free the G at any moment.
            cell.header.status.store(status::WAITING, Ordering::Relaxed);
            return cell.header.transition_to_idle();
        }
        Ok(Poll::Ready(v)) => Ok(v),
        Err(payload) => Err(JoinError::panic(cell.header.id, payload)),
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
    let old = cell
        .stage
        .with_mut(|stage| std::mem::replace(unsafe { &mut *stage }, Stage::Consumed));
    // The output's destructor is user code; a panic there must not unwind into the scheduler.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(old)));
}

// ---- JoinHandle ---------------------------------------------------------------------------------------

/// Awaits a G's result: `Ok(output)`, or a [`JoinError`] if it panicked or was aborted.
/// Dropping a `JoinHandle` detaches the G; it keeps running.
pub struct JoinHandle<T> {
    g: Option<GRef>,
    _marker: std::marker::PhantomData<fn() -> T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(g: GRef) -> JoinHandle<T> {
        JoinHandle {
            g: Some(g),
            _marker: std::marker::PhantomData,
        }
    }

    /// Cancel the G: it is dropped (its destructors run) the next time an M takes it, instead of
    /// being polled, and the handle resolves to a cancelled `JoinError`. A G that already finished
    /// is unaffected.
    pub fn abort(&self) {
        if let Some(g) = &self.g {
            let h = g.header();
            if h.transition_to_cancelled() {
                // SAFETY: transition_to_cancelled counted a reference for the run queue.
                let q = unsafe { GRef::from_raw(g.ptr) };
                crate::sched::proc::ready(&h.sched, q);
            }
        }
    }

    /// True once the G has finished (its output is waiting to be read).
    pub fn is_finished(&self) -> bool {
        self.g.as_ref().is_some_and(|g| g.header().is_complete())
    }

    /// The G's id (Go's goid), as schedtrace and the tracer show it.
    pub fn id(&self) -> u64 {
        self.g.as_ref().map_or(0, |g| g.id())
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(g) = self.g.as_ref() else {
            panic!("JoinHandle polled after completion");
        };
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: `out` has the type the G's vtable writes (T is the G's output type: JoinHandle<T>
        // is only created by `go`, which ties T to F::Output).
        unsafe {
            (g.header().vtable.read_output)(g.ptr, &mut out as *mut _ as *mut (), cx.waker())
        };
        if out.is_ready() {
            // The output has been taken; dropping the handle now must not try to drop it again.
            if let Some(g) = self.g.take() {
                g.header().unset_join_interest();
            }
        } else {
            set_waitreason(WaitReason::JoinWait);
        }
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(g) = self.g.take() {
            if g.header().unset_join_interest() {
                // SAFETY: COMPLETE was set before we cleared JOIN_INTEREST, so the completer left
                // the output to us.
                unsafe { (g.header().vtable.drop_output)(g.ptr) };
            }
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("g", &self.id()).finish()
    }
}

/// Why a G produced no output: it panicked, or it was aborted (or dropped at runtime shutdown).
pub struct JoinError {
    id: u64,
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// Behind a mutex only so that `JoinError` is `Sync` (and fits `io::Error::other`, `anyhow`...):
    /// the payload is `Send` but not `Sync`, and `Display` reads it through `&self`.
    Panic(std::sync::Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    fn cancelled(id: u64) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    fn panic(id: u64, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panic(std::sync::Mutex::new(payload)),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload (e.g. to re-raise it with `std::panic::resume_unwind`).
    /// Returns `Err(self)` if the G was cancelled rather than panicking.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p.into_inner().unwrap_or_else(|e| e.into_inner())),
            Repr::Cancelled => Err(self),
        }
    }

    /// The id of the G that failed.
    pub fn id(&self) -> u64 {
        self.id
    }

    fn panic_message(&self) -> Option<String> {
        match &self.repr {
            Repr::Panic(p) => {
                let p = p.lock().unwrap_or_else(|e| e.into_inner());
                p.downcast_ref::<&'static str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
            }
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "G{} was cancelled", self.id),
            Repr::Panic(_) => match self.panic_message() {
                Some(m) => write!(f, "G{} panicked: {m}", self.id),
                None => write!(f, "G{} panicked", self.id),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for JoinError {}

/// Unit tests of the G state machine with real threads. They also run under Miri
/// (`scripts/miri.sh`), which checks the raw allocation, the vtable casts, the waker's reference
/// counting and, through its leak checker, that every G is freed exactly once.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sched::Sched;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::sync::Arc as StdArc;

    fn take_global(sched: &Sched) -> Option<GRef> {
        let mut l = sched.lock();
        let g = l.runq.pop_front();
        sched.publish_runqsize(&l);
        g
    }

    fn spawn<F>(sched: &Arc<Sched>, fut: F) -> (GRef, JoinHandle<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (q, join, reg) = GRef::new(fut, 1, sched.clone());
        assert!(sched.allgs.insert(reg).is_ok());
        (q, JoinHandle::new(join))
    }

    fn poll_join<T>(jh: &mut JoinHandle<T>) -> Poll<Result<T, JoinError>> {
        let waker = Waker::noop();
        Pin::new(jh).poll(&mut Context::from_waker(waker))
    }

    /// Run until parked or complete; true if complete.
    fn run(mut g: GRef) -> bool {
        loop {
            match g.run() {
                (PollResult::Complete, _) => return true,
                (PollResult::Parked, _) => return false,
                (PollResult::Requeue, Some(again)) => g = again,
                (PollResult::Requeue, None) => unreachable!(),
            }
        }
    }

    struct DropCount(StdArc<StdAtomicUsize>);
    impl Drop for DropCount {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_g_runs_to_completion_and_its_handle_gets_the_output() {
        let sched = Sched::new_for_test();
        let (q, mut jh) = spawn(&sched, async { 5u32 });
        assert!(poll_join(&mut jh).is_pending());
        assert!(run(q));
        assert!(jh.is_finished());
        assert!(matches!(poll_join(&mut jh), Poll::Ready(Ok(5))));
        assert_eq!(sched.allgs.len(), 0);
    }

    #[test]
    fn a_wake_during_the_poll_requeues_instead_of_running_twice() {
        let sched = Sched::new_for_test();
        let polls = StdArc::new(StdAtomicUsize::new(0));
        let p2 = polls.clone();
        let (q, mut jh) = spawn(
            &sched,
            std::future::poll_fn(move |cx| {
                if p2.fetch_add(1, Ordering::SeqCst) == 0 {
                    cx.waker().wake_by_ref(); // woken while RUNNING
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            }),
        );
        let (res, again) = q.run();
        assert_eq!(res, PollResult::Requeue);
        assert!(
            take_global(&sched).is_none(),
            "a wake during the poll must not queue a second entry"
        );
        assert!(run(again.expect("requeued with its reference")));
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        assert!(matches!(poll_join(&mut jh), Poll::Ready(Ok(()))));
    }

    #[test]
    fn a_parked_g_woken_from_another_thread_is_queued_once_and_completes() {
        let sched = Sched::new_for_test();
        let slot = StdArc::new(std::sync::Mutex::new(None::<Waker>));
        let s2 = slot.clone();
        let mut first = true;
        let (q, mut jh) = spawn(
            &sched,
            std::future::poll_fn(move |cx| {
                if std::mem::take(&mut first) {
                    *s2.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Pending
                } else {
                    Poll::Ready(7)
                }
            }),
        );
        assert!(!run(q));
        let w = slot
            .lock()
            .unwrap()
            .take()
            .expect("the G handed out its waker");
        let w2 = w.clone();
        std::thread::spawn(move || {
            w.wake();
            w2.wake(); // a second wake of a queued G is a no-op
        })
        .join()
        .unwrap();
        let g = take_global(&sched).expect("woken G queued");
        assert!(take_global(&sched).is_none());
        assert!(run(g));
        assert!(matches!(poll_join(&mut jh), Poll::Ready(Ok(7))));
    }

    #[test]
    fn abort_of_a_parked_g_drops_its_future_and_reports_cancelled() {
        let sched = Sched::new_for_test();
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let d = DropCount(drops.clone());
        let (q, mut jh) = spawn(&sched, async move {
            let _d = d;
            std::future::pending::<()>().await;
        });
        assert!(!run(q));
        jh.abort();
        let g = take_global(&sched).expect("abort queues the G");
        assert!(run(g));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        match poll_join(&mut jh) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            _ => panic!("expected a cancelled JoinError"),
        }
    }

    #[test]
    fn a_panic_is_caught_and_the_output_of_a_dropped_handle_is_freed_once() {
        let sched = Sched::new_for_test();
        let (q, mut jh) = spawn(&sched, async {
            if std::hint::black_box(true) {
                panic!("boom");
            }
        });
        assert!(run(q));
        match poll_join(&mut jh) {
            Poll::Ready(Err(e)) => assert!(e.is_panic() && e.to_string().contains("boom")),
            _ => panic!("expected a panic JoinError"),
        }
        // The handle is dropped before completion: the completer drops the output, exactly once.
        let drops = StdArc::new(StdAtomicUsize::new(0));
        let d2 = drops.clone();
        let (q, jh) = spawn(&sched, async move { DropCount(d2) });
        drop(jh);
        assert!(run(q));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        // And dropped after completion: the handle drops it, exactly once.
        let d3 = drops.clone();
        let (q, jh) = spawn(&sched, async move { DropCount(d3) });
        assert!(run(q));
        drop(jh);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn shutdown_drops_an_unfinished_g_and_later_wakes_are_harmless() {
        let sched = Sched::new_for_test();
        let slot = StdArc::new(std::sync::Mutex::new(None::<Waker>));
        let s2 = slot.clone();
        let (q, mut jh) = spawn(
            &sched,
            std::future::poll_fn(move |cx| {
                *s2.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            }),
        );
        assert!(!run(q));
        for g in sched.allgs.close_and_drain() {
            g.shutdown();
        }
        // The future (and the waker it stored in `slot`... which `slot` keeps) is gone from the G.
        let w = slot.lock().unwrap().take().expect("waker");
        w.wake(); // the G is COMPLETE: nothing is queued
        assert!(take_global(&sched).is_none());
        match poll_join(&mut jh) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            _ => panic!("expected cancelled"),
        }
    }
}

/// loom models of the G state machine (run with `scripts/loom.sh`). The Gs are driven by hand: the
/// test scheduler never starts an M, so a wake from outside puts the G on the global queue, where the
/// model picks it up.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sched::Sched;
    use crate::util::loom::sync::atomic::AtomicUsize;
    use loom::thread;

    /// Take a G that a wake put on the global queue.
    fn take_global(sched: &Sched) -> Option<GRef> {
        let mut l = sched.lock();
        let g = l.runq.pop_front();
        sched.publish_runqsize(&l);
        g
    }

    /// A future that parks once, handing its waker to `slot`, and completes on its second poll.
    struct ParkOnce {
        polls: Arc<AtomicUsize>,
        slot: Arc<Mutex<Option<Waker>>>,
    }

    impl Future for ParkOnce {
        type Output = usize;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            let n = self.polls.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                *crate::util::loom::lock(&self.slot) = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(n)
            }
        }
    }

    /// Run `g` until it parks or completes; keep running it while it is requeued.
    fn run_until_parked(mut g: GRef) -> bool {
        loop {
            match g.run() {
                (PollResult::Complete, _) => return true,
                (PollResult::Parked, _) => return false,
                (PollResult::Requeue, Some(again)) => g = again,
                (PollResult::Requeue, None) => unreachable!(),
            }
        }
    }

    /// A wake races the G's own poll (it may land before the poll starts, during it, or after it
    /// parked). In every interleaving the G runs again exactly once more and completes; it is never
    /// polled by two threads at once (loom checks the stage cell) and the wake is never lost.
    /// Catches: dropping the NOTIFIED bit on a wake during poll (design.md's injected-bug experiment),
    /// a wake that submits a second queue entry while the G runs.
    #[test]
    fn wake_racing_the_poll_is_neither_lost_nor_doubled() {
        loom::model(|| {
            let sched = Sched::new_for_test();
            let polls = Arc::new(AtomicUsize::new(0));
            let slot = Arc::new(Mutex::new(None::<Waker>));
            let fut = ParkOnce {
                polls: polls.clone(),
                slot: slot.clone(),
            };
            let (q, join, reg) = GRef::new(fut, 1, sched.clone());
            sched.allgs.insert(reg).ok().expect("registry open");
            let slot2 = slot.clone();
            let waker_thread = thread::spawn(move || loop {
                if let Some(w) = crate::util::loom::lock(&slot2).take() {
                    w.wake();
                    return;
                }
                thread::yield_now();
            });
            let mut done = run_until_parked(q);
            waker_thread.join().unwrap();
            while !done {
                let g = take_global(&sched).expect("the wake was lost: parked G not requeued");
                done = run_until_parked(g);
            }
            assert!(take_global(&sched).is_none(), "the G was queued twice");
            assert_eq!(polls.load(Ordering::SeqCst), 2);
            assert!(join.header().is_complete());
            drop(join);
        });
    }

    /// The JoinHandle is polled on another thread while the G completes. The joiner either sees the
    /// output at once, or registers its waker and is woken — never both missed. Catches: the
    /// completer reading the join waker before the joiner stored it (lost join wake-up).
    #[test]
    fn join_racing_completion_always_gets_the_output() {
        loom::model(|| {
            let sched = Sched::new_for_test();
            let (q, join, reg) = GRef::new(async { 7u32 }, 1, sched.clone());
            sched.allgs.insert(reg).ok().expect("registry open");
            let joiner = thread::spawn(move || {
                let notify = Arc::new(loom::sync::Notify::new());
                let waker = notify_waker(notify.clone());
                let mut cx = Context::from_waker(&waker);
                let mut jh = JoinHandle::<u32>::new(join);
                loop {
                    if let Poll::Ready(v) = Pin::new(&mut jh).poll(&mut cx) {
                        return v.expect("G succeeded");
                    }
                    notify.wait();
                }
            });
            assert!(run_until_parked(q));
            assert_eq!(joiner.join().unwrap(), 7);
        });
    }

    /// `abort` races the G's first run. Either the G completes normally and the handle gets its output,
    /// or it is cancelled and the future is dropped without finishing; the future is dropped exactly
    /// once either way. Catches: a cancelled G polled anyway, a double drop of the future, an abort of
    /// a running G that is never acted on.
    #[test]
    fn abort_racing_the_first_run_cancels_or_completes_exactly_once() {
        loom::model(|| {
            let sched = Sched::new_for_test();
            let drops = Arc::new(AtomicUsize::new(0));
            struct D(Arc<AtomicUsize>);
            impl Drop for D {
                fn drop(&mut self) {
                    self.0.fetch_add(1, Ordering::SeqCst);
                }
            }
            let d = D(drops.clone());
            let (q, join, reg) = GRef::new(
                async move {
                    let _d = d;
                    1u8
                },
                1,
                sched.clone(),
            );
            sched.allgs.insert(reg).ok().expect("registry open");
            let jh = JoinHandle::<u8>::new(join);
            let aborter = thread::spawn(move || {
                jh.abort();
                jh
            });
            let mut done = run_until_parked(q);
            let jh = aborter.join().unwrap();
            while !done {
                done = run_until_parked(take_global(&sched).expect("aborted G never requeued"));
            }
            while let Some(g) = take_global(&sched) {
                assert!(run_until_parked(g));
            }
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            let waker = notify_waker(Arc::new(loom::sync::Notify::new()));
            let mut cx = Context::from_waker(&waker);
            let mut jh = jh;
            match Pin::new(&mut jh).poll(&mut cx) {
                Poll::Ready(Ok(1)) => {}
                Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
                other => panic!("unexpected join result: {:?}", other.map(|r| r.is_ok())),
            }
        });
    }

    /// The JoinHandle is dropped on another thread while the G completes: the output (with a
    /// destructor) is dropped exactly once, by whichever side comes second, and the G's memory is
    /// freed (the last reference drop runs once). Catches: both sides dropping the output, or neither.
    #[test]
    fn join_handle_drop_racing_completion_drops_the_output_once() {
        loom::model(|| {
            let sched = Sched::new_for_test();
            let drops = Arc::new(AtomicUsize::new(0));
            struct D(Arc<AtomicUsize>);
            impl Drop for D {
                fn drop(&mut self) {
                    self.0.fetch_add(1, Ordering::SeqCst);
                }
            }
            let d2 = drops.clone();
            let (q, join, reg) = GRef::new(async move { D(d2) }, 1, sched.clone());
            sched.allgs.insert(reg).ok().expect("registry open");
            let jh = JoinHandle::<D>::new(join);
            let dropper = thread::spawn(move || drop(jh));
            assert!(run_until_parked(q));
            dropper.join().unwrap();
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        });
    }

    /// A waker that signals a loom `Notify`, so a lost wake-up shows up as a loom deadlock.
    fn notify_waker(n: Arc<loom::sync::Notify>) -> Waker {
        use std::task::{RawWaker, RawWakerVTable};
        // Built by hand because loom's Arc is not std's (std::task::Wake needs a std Arc).
        unsafe fn clone(p: *const ()) -> RawWaker {
            // SAFETY: p came from Arc::into_raw below; we add one strong count for the clone.
            unsafe { Arc::increment_strong_count(p as *const loom::sync::Notify) };
            RawWaker::new(p, &VTABLE)
        }
        unsafe fn wake(p: *const ()) {
            // SAFETY: consumes the reference this waker holds.
            let a = unsafe { Arc::from_raw(p as *const loom::sync::Notify) };
            a.notify();
        }
        unsafe fn wake_by_ref(p: *const ()) {
            // SAFETY: the waker holds a reference, so the Notify is alive.
            unsafe { &*(p as *const loom::sync::Notify) }.notify();
        }
        unsafe fn drop_w(p: *const ()) {
            // SAFETY: releases the reference this waker holds.
            drop(unsafe { Arc::from_raw(p as *const loom::sync::Notify) });
        }
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_w);
        let p = Arc::into_raw(n) as *const ();
        // SAFETY: the vtable keeps the Arc's count balanced.
        unsafe { Waker::from_raw(RawWaker::new(p, &VTABLE)) }
    }
}
