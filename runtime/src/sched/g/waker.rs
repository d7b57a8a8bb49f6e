//! The G's `Waker`: the data pointer is the G's header, and waking is Go's `ready`.
//!
//! Mirrors runtime/proc.go: `ready` (and `goready`, its caller from parking code): mark a waiting G
//! runnable and put it on a run queue, here `crate::sched::wakep::ready`, which also calls `wakep`.
//!
//! # Where this differs from Go
//! Go's parking code holds the `*g` it will wake (a sudog's `g` field) and calls `goready(gp)`
//! directly. Futures only hand out a `std::task::Waker`, so that is the G pointer here: a
//! `RawWaker` whose data is the `Header` and whose vtable counts references in the state word. Cloning
//! a waker adds a reference and never allocates; the waker `poll` builds for the running G borrows
//! the M's reference, so a future that does not clone it costs no refcount traffic at all. A wake
//! that finds the G already queued, running or finished changes nothing beyond the state word
//! (see `state.rs`).

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable};

use super::raw::{GRef, Header};
use super::state::{drop_ref, status};
use crate::util::loom::sync::atomic::Ordering;

/// Make a G runnable from a waker: Go's `ready(gp)`.
fn wake_by_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller (a Waker) owns a reference, so the header is alive.
    let h = unsafe { ptr.as_ref() };
    if h.transition_to_notified() {
        h.status.store(status::RUNNABLE, Ordering::Relaxed);
        // SAFETY: transition_to_notified counted a new reference for the run queue.
        let g = unsafe { GRef::from_raw(ptr) };
        crate::sched::wakep::ready(&h.sched, g);
    }
}

// ---- the Waker vtable -------------------------------------------------------------------------------

pub(super) static WAKER_VTABLE: RawWakerVTable =
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
