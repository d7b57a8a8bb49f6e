//! `JoinHandle` and `JoinError`: how a G's output, or its panic, reaches whoever awaits it.
//!
//! Go has nothing to mirror here: `go f()` discards `f`'s results, a goroutine is waited for with a
//! `sync.WaitGroup` or a channel, and a panic that escapes a goroutine ends the process
//! (runtime/panic.go: `fatalpanic`). An async runtime is expected to hand a task's output back, so
//! `go` returns a `JoinHandle`: awaiting it yields `Ok(output)`, or a `JoinError` if the G panicked
//! (the panic is caught around each poll, see `raw.rs`) or was aborted. Dropping the handle detaches
//! the G, which is the Go behaviour.
//!
//! The output lives in the G's own block until the handle reads it; who drops an output nobody reads
//! (the completer or the handle, whichever comes second) is decided by the `JOIN_INTEREST` bit of the
//! state word (`state.rs`).

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::raw::GRef;
use super::wait_reason::{set_waitreason, WaitReason};

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
                crate::sched::wakep::ready(&h.sched, q);
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
            // A G of another runtime is finished by that runtime's Ms, which this runtime's
            // `checkdead` cannot see: give no reason (a foreign wait) rather than `join`.
            let h = g.header();
            let same = crate::sched::getg::with_curm(|ctx| {
                crate::util::loom::sync::Arc::ptr_eq(&ctx.sched, &h.sched)
            });
            if same == Some(true) {
                set_waitreason(WaitReason::JoinWait);
            }
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
    pub(super) fn cancelled(id: u64) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(super) fn panic(id: u64, payload: Box<dyn Any + Send + 'static>) -> JoinError {
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
