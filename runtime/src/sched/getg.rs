//! How code finds "where am I": Go's `getg()` and `g.m.p`.
//!
//! In Go, every function can reach the running G through a register, and from it the M and the P.
//! Here an M thread keeps its private state in an [`MCtx`] on its own stack and points a thread-local
//! at it for its whole life. Runtime code running inside a G's poll (spawning, waking, arming a timer,
//! the preemption check) reads it to find the current runtime, M and P. A thread that is not an M
//! (the thread in `block_on`, a foreign thread holding a waker) has no context and goes through the
//! global run queue instead.

use std::cell::Cell;
use std::ptr;

use crate::sched::g::{GRef, Header};
use crate::sched::{Sched, YieldReason, M};
use crate::util::loom::sync::Arc;

/// An M's private state. Only its own thread touches the `Cell`s.
pub(crate) struct MCtx {
    pub(crate) sched: Arc<Sched>,
    pub(crate) m: Arc<M>,
    /// The P this M holds (index into `allp`), if any.
    pub(crate) p: Cell<Option<usize>>,
    /// True while inside a G's poll: pushes onto the P must use the ownership handshake.
    pub(crate) in_poll: Cell<bool>,
    /// The G being polled.
    pub(crate) curg: Cell<*const Header>,
    /// Set by `yield_now`/preemption points during a poll; read by `execute` afterwards.
    pub(crate) yield_reason: Cell<YieldReason>,
    /// The last G this M ran yielded (`yield_now`): `find_runnable` looks at the global queue
    /// first, once (proc.rs, step 2).
    pub(crate) after_yield: Cell<bool>,
    /// Set while the scheduler wakes a batch (expired timers, a netpoll result): readied Gs then go
    /// to the ring's tail in order, like Go's `injectglist`, instead of each displacing the last from
    /// `runnext`, so Gs woken together run in the order they were woken.
    pub(crate) batch: Cell<Batch>,
    /// The wait reason the current G gave before returning `Pending` (for the tracer).
    pub(crate) waitreason: Cell<crate::sched::g::WaitReason>,
    /// Batch of G ids (Go's `p.goidcache`, kept per M here: an M never shares it).
    goid_next: Cell<u64>,
    goid_end: Cell<u64>,
}

#[cfg(not(loom))]
thread_local! {
    static CURM: Cell<*const MCtx> = const { Cell::new(ptr::null()) };
}

// loom runs its threads as coroutines on one OS thread, so the M context must be loom's
// thread-local or every modelled M would see the others' context.
#[cfg(loom)]
loom::thread_local! {
    static CURM: Cell<*const MCtx> = Cell::new(ptr::null());
}

impl MCtx {
    pub(crate) fn new(sched: Arc<Sched>, m: Arc<M>) -> MCtx {
        MCtx {
            sched,
            m,
            p: Cell::new(None),
            in_poll: Cell::new(false),
            curg: Cell::new(ptr::null()),
            yield_reason: Cell::new(YieldReason::None),
            after_yield: Cell::new(false),
            batch: Cell::new(Batch::None),
            waitreason: Cell::new(crate::sched::g::WaitReason::None),
            goid_next: Cell::new(0),
            goid_end: Cell::new(0),
        }
    }

    /// Next G id from this M's batch.
    pub(crate) fn goid(&self) -> u64 {
        if self.goid_next.get() == self.goid_end.get() {
            let (a, b) = self.sched.goid_batch();
            self.goid_next.set(a);
            self.goid_end.set(b);
        }
        let id = self.goid_next.get();
        self.goid_next.set(id + 1);
        id
    }

    /// Go's `runqput` from wherever this M is. Returns the G back if this M holds no P it may push to
    /// (it has none, its P was taken by sysmon mid-poll, or it is inside a blocking section); the
    /// caller then uses the global queue.
    ///
    /// Inside a poll this is the owner's half of the revocation handshake (see `p.rs`): lock the
    /// P by moving its status `IN_POLL → IN_POLL_LOCKED` (fails if sysmon took it), push, unlock.
    pub(crate) fn runqput(&self, g: GRef, next: bool) -> Result<(), GRef> {
        let Some(pid) = self.p.get() else {
            return Err(g);
        };
        let p = &self.sched.allp[pid];
        let overflow = if self.in_poll.get() {
            if !p.lock_in_poll(self.m.id) {
                return Err(g);
            }
            let overflow = p.runq.put(g, next);
            p.unlock_in_poll(self.m.id);
            overflow
        } else {
            p.runq.put(g, next)
        };
        if let Some(batch) = overflow {
            self.sched.globrunqputbatch(batch);
        }
        Ok(())
    }
}

/// Where `ready` or `newproc` put a G; the tracer records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placed {
    /// This M's P's `runnext`: it runs next, in the waker's time slice.
    RunNext,
    /// The tail of this M's P's ring (a batch wake-up: timers, netpoll).
    Ring,
    /// The global queue (the waker is not an M of this runtime holding a P).
    Global,
}

/// `runqput` onto the P of the current M, if this thread is an M of `sched` holding a P it may push
/// to (with `next`, to its `runnext`, unless the M is waking a batch); otherwise the G comes back
/// for the global queue. Also says whether the P now holds more than one runnable G: one G alone
/// will run on this P as soon as the running G's poll ends; only a second is work for another M.
pub(crate) fn local_runqput(
    sched: &Arc<Sched>,
    g: GRef,
    next: bool,
) -> Result<(Placed, bool), GRef> {
    let p = match CURM.try_with(|c| c.get()) {
        Ok(p) if !p.is_null() => p,
        _ => return Err(g),
    };
    // SAFETY: see `with_curm`.
    let ctx = unsafe { &*p };
    if !Arc::ptr_eq(&ctx.sched, sched) {
        return Err(g);
    }
    let next = next && ctx.batch.get() == Batch::None;
    ctx.runqput(g, next)?;
    // One queued G is the one this M runs next; only a second is work for another M.
    let shareable = match ctx.p.get() {
        Some(pid) => ctx.sched.allp[pid].runq.len() > 1,
        None => true,
    };
    Ok((if next { Placed::RunNext } else { Placed::Ring }, shareable))
}

/// Who is waking Gs in a batch right now (see `MCtx::batch`); the tracer reports it as the
/// unblocker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Batch {
    None,
    Timers,
    Netpoll,
}

/// Run `f` with this M (if it is one) in batch-wake mode (see `MCtx::batch`).
pub(crate) fn batch_wake<R>(kind: Batch, f: impl FnOnce() -> R) -> R {
    let prev = with_curm(|ctx| ctx.batch.replace(kind));
    let r = f();
    if let Some(prev) = prev {
        with_curm(|ctx| ctx.batch.set(prev));
    }
    r
}

/// Run `f` with `ctx` installed as this thread's M context (an M's whole life).
pub(crate) fn enter<R>(ctx: &MCtx, f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CURM.with(|c| c.set(ptr::null()));
        }
    }
    CURM.with(|c| c.set(ctx as *const MCtx));
    let _reset = Reset;
    f()
}

/// Call `f` with this thread's M context, if it is an M.
#[inline]
pub(crate) fn with_curm<R>(f: impl FnOnce(&MCtx) -> R) -> Option<R> {
    let p = CURM.try_with(|c| c.get()).ok()?;
    if p.is_null() {
        return None;
    }
    // SAFETY: `enter` keeps the MCtx alive (on the M's stack) for as long as the pointer is set,
    // and only this thread reads it.
    Some(f(unsafe { &*p }))
}

/// Call `f` with the G this M is polling, if any.
#[inline]
pub(crate) fn with_curg(f: impl FnOnce(&Header)) {
    with_curm(|ctx| {
        let g = ctx.curg.get();
        if !g.is_null() {
            // SAFETY: curg is set only for the duration of the G's poll, during which the M holds a
            // reference to it.
            f(unsafe { &*g });
        }
    });
}

/// The runtime this thread is an M of.
pub(crate) fn cur_sched() -> Option<Arc<Sched>> {
    with_curm(|ctx| ctx.sched.clone())
}

/// The P running the calling code, if it runs in a G that holds one (`None` on a thread that is not
/// an M, or in a G whose P was taken away mid-poll). For teaching and examples: Go hides this.
pub fn current_p() -> Option<usize> {
    with_curm(|ctx| if ctx.in_poll.get() { ctx.p.get() } else { None }).flatten()
}

/// The id (Go's goid) of the G running the calling code, if any. For teaching and examples.
pub fn current_g() -> Option<u64> {
    with_curm(|ctx| {
        let g = ctx.curg.get();
        // SAFETY: see `with_curg`.
        (!g.is_null()).then(|| unsafe { (*g).id })
    })
    .flatten()
}
