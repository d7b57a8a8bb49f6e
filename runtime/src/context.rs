//! Cancellation, deadlines and request-scoped values across Gs: Go's `context` package
//! (context/context.go: `Background`, `WithCancel`, `WithDeadline`, `WithTimeout`, `WithValue`,
//! `propagateCancel`, `cancelCtx.cancel`).
//!
//! A [`Context`] is an immutable node in a tree. `with_cancel`, `with_deadline`/`with_timeout` and
//! `with_value` each derive a child from a parent. Cancelling a node (its [`CancelFunc`], its deadline
//! passing, or its parent being cancelled) closes its `done()` channel, sets `err()`, and cancels every
//! cancelable descendant, at once and before `cancel` returns. Cancelling a child never affects its
//! parent.
//!
//! ```text
//!   background ── with_cancel (A) ──┬── with_value ── with_timeout (B)
//!                                   └── with_cancel (C)
//!   cancel(A) ⇒ A, B, C done (Canceled)        B's timer ⇒ B done (DeadlineExceeded), A and C not
//! ```
//!
//! `done()` is a `chan::Receiver<()>` that is *closed* on cancellation, so it is a `select!` arm that fires
//! with `None`, exactly like `<-ctx.Done()` in Go:
//!
//! ```
//! use gort::{chan, context, select};
//! gort::run(async {
//!     let (ctx, cancel) = context::with_cancel(&context::background());
//!     let (_tx, work) = chan::channel::<u32>(0); // nothing will arrive
//!     cancel.cancel();
//!     select! {
//!         recv(work) -> _ => unreachable!(),
//!         recv(ctx.done()) -> v => assert_eq!(v, None),
//!     }
//!     assert_eq!(ctx.err(), Some(context::ContextError::Canceled));
//! });
//! ```
//!
//! # The tree
//! Each cancelable node has a *core* (`CancelCore`): the error, the done channel, its registered
//! children's cores, and its deadline timer. A new cancelable node registers its core with the nearest
//! cancelable ancestor (Go's `propagateCancel`; value nodes are skipped), or is cancelled at once if that
//! ancestor already is. Parents hold their children's cores strongly and children hold their parents'
//! nodes strongly, but nothing points from a core back up, so there are no reference cycles.
//!
//! # Where this differs from Go, and why
//! - Go leaks a child in its parent's table until `cancel` is called (hence `go vet`'s "the cancel
//!   function should be called"). Here dropping every handle of a cancelable context (its `Context`
//!   clones and its `CancelFunc`) cancels it and unregisters it from its parent, like a deferred
//!   `cancel()`; a `done()` receiver still held elsewhere then reads as closed.
//! - Values are keyed by any `PartialEq + Send + Sync + 'static` key, compared by type and value (Go
//!   compares `any` keys with `==`); use a private key type to avoid collisions, as in Go.
//! - No `WithCancelCause`, `AfterFunc` or `WithoutCancel` yet.
//! - Deadlines are armed with `time::after_func`, so contexts with a deadline must be made inside the
//!   runtime (a clear panic says so otherwise).

use std::any::Any;
use std::fmt;
use std::time::{Duration, Instant};

use slab::Slab;

use crate::chan::{self, Receiver, Sender};
use crate::time::Timer;
use crate::util::loom::sync::atomic::{AtomicU8, Ordering::Acquire, Ordering::Release};
use crate::util::loom::sync::{Arc, Mutex};

/// Why a context is done: Go's `context.Canceled` and `context.DeadlineExceeded`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContextError {
    /// Cancelled by a `CancelFunc`, by dropping the context, or because its parent was cancelled.
    Canceled,
    /// Its deadline (or an ancestor's) passed.
    DeadlineExceeded,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContextError::Canceled => "context canceled",
            ContextError::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl std::error::Error for ContextError {}

impl ContextError {
    fn code(self) -> u8 {
        match self {
            ContextError::Canceled => 1,
            ContextError::DeadlineExceeded => 2,
        }
    }

    fn from_code(c: u8) -> Option<ContextError> {
        match c {
            1 => Some(ContextError::Canceled),
            2 => Some(ContextError::DeadlineExceeded),
            _ => None,
        }
    }
}

/// A context: cancellation signal, optional deadline and values, shared by cloning. Go's
/// `context.Context`.
#[derive(Clone)]
pub struct Context {
    node: Arc<Node>,
}

struct Node {
    /// `None` only for the root.
    parent: Option<Context>,
    kind: Kind,
}

impl Drop for Node {
    /// Unlink the ancestors this was the last handle to one at a time: the default drop would recurse
    /// once per link and overflow the stack on a long chain (`ctx = with_value(&ctx, ..)` in a loop).
    /// An ancestor someone else still holds stops the walk; its own drop will continue it.
    fn drop(&mut self) {
        let mut next = self.parent.take();
        while let Some(ctx) = next {
            next = match Arc::try_unwrap(ctx.node) {
                Ok(mut node) => node.parent.take(), // `node` drops here, with no parent left
                Err(_shared) => None,
            };
        }
    }
}

enum Kind {
    Background,
    Cancel(CancelNode),
    Value {
        key: Box<dyn Any + Send + Sync>,
        val: Box<dyn Any + Send + Sync>,
    },
}

/// The cancelable node's own part: Go's `cancelCtx` (and `timerCtx` when `deadline` is set).
struct CancelNode {
    core: Arc<CancelCore>,
    deadline: Option<Instant>,
    /// Where our core is registered: in the nearest cancelable ancestor's children.
    reg: Option<(Arc<CancelCore>, usize)>,
}

/// What a cancellation reaches: owned by its node, and by its parent core while registered.
struct CancelCore {
    /// `ContextError::code`, 0 while not cancelled; set (once) before `done` closes.
    err: AtomicU8,
    done: Receiver<()>,
    state: Mutex<CoreState>,
}

struct CoreState {
    /// Closing it (dropping it) closes `done`.
    done_tx: Option<Sender<()>>,
    children: Slab<Arc<CancelCore>>,
    timer: Option<Timer>,
}

impl CancelCore {
    fn new() -> Arc<CancelCore> {
        let (tx, rx) = chan::channel(0);
        Arc::new(CancelCore {
            err: AtomicU8::new(0),
            done: rx,
            state: Mutex::new(CoreState {
                done_tx: Some(tx),
                children: Slab::new(),
                timer: None,
            }),
        })
    }

    fn err(&self) -> Option<ContextError> {
        ContextError::from_code(self.err.load(Acquire))
    }

    /// Go's `cancelCtx.cancel`: record `err`, close `done`, stop the timer, cancel the children. Only
    /// the first call does anything. The descendants are cancelled from a work list, not by
    /// recursion as in Go (whose stacks grow), so a long chain of contexts cannot overflow the stack.
    fn cancel(&self, err: ContextError) {
        let mut pending = self.cancel_self(err);
        while let Some(child) = pending.pop() {
            pending.extend(child.cancel_self(err));
        }
    }

    /// Cancel this core alone, and hand back its children for the caller to cancel.
    fn cancel_self(&self, err: ContextError) -> Vec<Arc<CancelCore>> {
        let (tx, children, timer) = {
            let mut st = crate::util::loom::lock(&self.state);
            if self.err.load(Acquire) != 0 {
                return Vec::new();
            }
            // Release before the close: whoever sees `done` closed also sees `err`.
            self.err.store(err.code(), Release);
            (
                st.done_tx.take(),
                std::mem::take(&mut st.children),
                st.timer.take(),
            )
        };
        if let Some(t) = timer {
            t.stop();
        }
        if let Some(tx) = tx {
            tx.close();
        }
        // Cancelled outside our lock: each child takes its own. They inherit the reason, as in Go.
        children.into_iter().map(|(_, child)| child).collect()
    }

    /// Register `child` (Go's `propagateCancel`), or cancel it at once if we already are. Returns its key.
    fn add_child(&self, child: &Arc<CancelCore>) -> Option<usize> {
        let mut st = crate::util::loom::lock(&self.state);
        match self.err() {
            Some(err) => {
                drop(st);
                child.cancel(err);
                None
            }
            None => Some(st.children.insert(child.clone())),
        }
    }

    /// Unregister `child` if it is still registered under `key` (a cancel already emptied the table, and
    /// the key may have been reused since).
    fn remove_child(&self, key: usize, child: &Arc<CancelCore>) {
        let mut st = crate::util::loom::lock(&self.state);
        if st.children.get(key).is_some_and(|c| Arc::ptr_eq(c, child)) {
            st.children.remove(key);
        }
    }
}

impl CancelNode {
    fn cancel(&self, err: ContextError) {
        self.core.cancel(err);
        // Go's `removeFromParent`: a cancelled child needs no propagation any more.
        if let Some((parent, key)) = &self.reg {
            parent.remove_child(*key, &self.core);
        }
    }
}

impl Drop for CancelNode {
    fn drop(&mut self) {
        // The last handle is gone, so nobody can cancel this context any more: release it (see the
        // module docs).
        self.cancel(ContextError::Canceled);
    }
}

/// The root context: never cancelled, no deadline, no values. Go's `context.Background()`.
pub fn background() -> Context {
    Context {
        node: Arc::new(Node {
            parent: None,
            kind: Kind::Background,
        }),
    }
}

/// Same as `background`, for code that has not decided which context to use yet. Go's `context.TODO()`.
pub fn todo() -> Context {
    background()
}

/// Cancels its context. Calling it more than once does nothing more. Go's `context.CancelFunc`.
pub struct CancelFunc {
    ctx: Context,
}

impl CancelFunc {
    /// Cancel the context and all its descendants with `ContextError::Canceled` (unless it is already
    /// done), and unregister it from its parent.
    pub fn cancel(&self) {
        if let Kind::Cancel(c) = &self.ctx.node.kind {
            c.cancel(ContextError::Canceled);
        }
    }
}

impl fmt::Debug for CancelFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelFunc")
            .field("ctx", &self.ctx)
            .finish()
    }
}

/// A child of `parent` that is cancelled by the returned `CancelFunc` or when `parent` is. Go's
/// `context.WithCancel`.
pub fn with_cancel(parent: &Context) -> (Context, CancelFunc) {
    let ctx = new_cancel(parent, None);
    (ctx.clone(), CancelFunc { ctx })
}

/// A child of `parent` that is also cancelled, with `DeadlineExceeded`, once `deadline` passes. Go's
/// `context.WithDeadline`. Call inside the runtime (the deadline is a runtime timer).
pub fn with_deadline(parent: &Context, deadline: Instant) -> (Context, CancelFunc) {
    if parent.deadline().is_some_and(|d| d <= deadline) {
        // The parent's own deadline comes first and will cancel the child anyway.
        return with_cancel(parent);
    }
    let ctx = new_cancel(parent, Some(deadline));
    if let Kind::Cancel(c) = &ctx.node.kind {
        let now = Instant::now();
        if deadline <= now {
            c.cancel(ContextError::DeadlineExceeded);
        } else {
            let mut st = crate::util::loom::lock(&c.core.state);
            // Not if the parent cancelled us meanwhile (the timer would outlive the cancellation).
            if c.core.err().is_none() {
                let core = c.core.clone();
                st.timer = Some(crate::time::after_func_spawn(
                    deadline - now,
                    crate::sched::boot::Spawn::system("context deadline"),
                    move || core.cancel(ContextError::DeadlineExceeded),
                ));
            }
        }
    }
    (ctx.clone(), CancelFunc { ctx })
}

/// `with_deadline(parent, now + timeout)`. Go's `context.WithTimeout`.
pub fn with_timeout(parent: &Context, timeout: Duration) -> (Context, CancelFunc) {
    with_deadline(parent, crate::time::after_now(timeout))
}

/// A child of `parent` carrying `val` under `key`; everything else comes from `parent`. Go's
/// `context.WithValue`. Keys match by type and `==`.
pub fn with_value<K, V>(parent: &Context, key: K, val: V) -> Context
where
    K: PartialEq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    Context {
        node: Arc::new(Node {
            parent: Some(parent.clone()),
            kind: Kind::Value {
                key: Box::new(key),
                val: Box::new(val),
            },
        }),
    }
}

fn new_cancel(parent: &Context, deadline: Option<Instant>) -> Context {
    let core = CancelCore::new();
    let reg = parent
        .nearest_cancel()
        .and_then(|p| Some((p.clone(), p.add_child(&core)?)));
    Context {
        node: Arc::new(Node {
            parent: Some(parent.clone()),
            kind: Kind::Cancel(CancelNode {
                core,
                deadline,
                reg,
            }),
        }),
    }
}

/// The `done()` of a context that cannot be cancelled: a nil channel, as Go's `Background().Done()`
/// returns (a receive on it blocks forever; a `select!` arm on it is never chosen).
fn never() -> Receiver<()> {
    Receiver::nil()
}

impl Context {
    /// A channel that is closed when this context is cancelled: receiving from it (for instance as a
    /// `select!` arm) completes with `None` then. Never closes for a context that cannot be cancelled.
    /// Go's `Done`.
    pub fn done(&self) -> Receiver<()> {
        match self.nearest_cancel() {
            Some(core) => core.done.clone(),
            None => never(),
        }
    }

    /// `None` while the context is live; why it was cancelled once `done()` is closed. Go's `Err`.
    pub fn err(&self) -> Option<ContextError> {
        self.nearest_cancel().and_then(|c| c.err())
    }

    /// When the context will be cancelled by a deadline, if it has one. Go's `Deadline`.
    pub fn deadline(&self) -> Option<Instant> {
        let mut n = &*self.node;
        loop {
            if let Kind::Cancel(CancelNode {
                deadline: Some(d), ..
            }) = &n.kind
            {
                return Some(*d);
            }
            n = &n.parent.as_ref()?.node;
        }
    }

    /// The value stored under `key` by the nearest `with_value` with an equal key, if it has type `V`.
    /// Go's `Value` followed by a type assertion.
    pub fn value<K, V>(&self, key: &K) -> Option<&V>
    where
        K: PartialEq + 'static,
        V: 'static,
    {
        let mut n = &*self.node;
        loop {
            if let Kind::Value { key: k, val } = &n.kind {
                if k.downcast_ref::<K>() == Some(key) {
                    return val.downcast_ref::<V>();
                }
            }
            n = &n.parent.as_ref()?.node;
        }
    }

    /// The core of the nearest cancelable node, this one included (Go's `parentCancelCtx`).
    fn nearest_cancel(&self) -> Option<&Arc<CancelCore>> {
        let mut n = &*self.node;
        loop {
            if let Kind::Cancel(c) = &n.kind {
                return Some(&c.core);
            }
            n = &n.parent.as_ref()?.node;
        }
    }
}

/// Like Go's `String`: the chain of constructors, e.g. `context.Background.WithCancel.WithValue`.
impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.node.parent {
            fmt::Debug::fmt(p, f)?;
        }
        match &self.node.kind {
            Kind::Background => f.write_str("context.Background"),
            Kind::Cancel(CancelNode { deadline: None, .. }) => f.write_str(".WithCancel"),
            Kind::Cancel(CancelNode {
                deadline: Some(_), ..
            }) => f.write_str(".WithDeadline"),
            Kind::Value { .. } => f.write_str(".WithValue"),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[derive(PartialEq)]
    struct RequestId;

    #[test]
    fn background_is_never_done() {
        let ctx = background();
        assert_eq!(ctx.err(), None);
        assert_eq!(ctx.deadline(), None);
        assert!(ctx.done().try_recv().is_err());
        assert!(!ctx.done().is_closed());
    }

    #[test]
    fn cancel_closes_done_and_sets_canceled() {
        let (ctx, cancel) = with_cancel(&background());
        assert_eq!(ctx.err(), None);
        assert!(!ctx.done().is_closed());
        cancel.cancel();
        cancel.cancel(); // idempotent
        assert!(ctx.done().is_closed());
        assert_eq!(ctx.err(), Some(ContextError::Canceled));
        assert_eq!(ContextError::Canceled.to_string(), "context canceled");
        assert_eq!(
            ContextError::DeadlineExceeded.to_string(),
            "context deadline exceeded"
        );
    }

    #[test]
    fn cancelling_a_parent_cancels_every_descendant_through_value_nodes() {
        let (a, cancel_a) = with_cancel(&background());
        let v = with_value(&a, RequestId, 7u64);
        let (b, _cb) = with_cancel(&v);
        let (c, _cc) = with_cancel(&b);
        let (d, _cd) = with_cancel(&a);
        cancel_a.cancel();
        for ctx in [&a, &v, &b, &c, &d] {
            assert!(ctx.done().is_closed(), "{ctx:?}");
            assert_eq!(ctx.err(), Some(ContextError::Canceled));
        }
    }

    #[test]
    fn cancelling_a_child_leaves_the_parent_and_siblings_alone() {
        let (a, _ca) = with_cancel(&background());
        let (b, cancel_b) = with_cancel(&a);
        let (c, _cc) = with_cancel(&a);
        cancel_b.cancel();
        assert_eq!(b.err(), Some(ContextError::Canceled));
        assert_eq!(a.err(), None);
        assert_eq!(c.err(), None);
    }

    #[test]
    fn child_of_a_cancelled_parent_is_born_cancelled() {
        let (a, cancel_a) = with_cancel(&background());
        cancel_a.cancel();
        let (b, _cb) = with_cancel(&a);
        assert_eq!(b.err(), Some(ContextError::Canceled));
        assert!(b.done().is_closed());
    }

    #[test]
    fn dropped_children_are_unregistered_from_the_parent() {
        let (a, _ca) = with_cancel(&background());
        let core = match &a.node.kind {
            Kind::Cancel(c) => c.core.clone(),
            _ => unreachable!(),
        };
        for _ in 0..100 {
            let (b, _cb) = with_cancel(&a);
            let _v = with_value(&b, RequestId, 1u8);
        }
        let (_b, cb) = with_cancel(&a);
        cb.cancel();
        assert_eq!(
            crate::util::loom::lock(&core.state).children.len(),
            0,
            "no child left registered"
        );
    }

    #[test]
    fn dropping_every_handle_cancels_the_context() {
        let (ctx, cancel) = with_cancel(&background());
        let done = ctx.done();
        drop((ctx, cancel));
        assert!(done.is_closed());
    }

    #[test]
    fn values_are_found_by_key_type_and_value_nearest_first() {
        #[derive(PartialEq)]
        struct Other;
        let root = background();
        let a = with_value(&root, "user", String::from("ann"));
        let b = with_value(&a, RequestId, 42u64);
        let (c, _cc) = with_cancel(&b);
        let d = with_value(&c, "user", String::from("bob"));
        assert_eq!(
            d.value::<_, String>(&"user").map(String::as_str),
            Some("bob")
        );
        assert_eq!(
            c.value::<_, String>(&"user").map(String::as_str),
            Some("ann")
        );
        assert_eq!(d.value::<_, u64>(&RequestId), Some(&42));
        assert_eq!(d.value::<_, u32>(&RequestId), None, "wrong value type");
        assert_eq!(d.value::<_, u64>(&Other), None);
        assert_eq!(d.value::<_, String>(&"nobody"), None);
        assert_eq!(
            format!("{d:?}"),
            "context.Background.WithValue.WithValue.WithCancel.WithValue"
        );
    }

    #[test]
    fn past_deadline_is_exceeded_at_once_without_a_timer() {
        let past = Instant::now();
        let (ctx, _c) = with_deadline(&background(), past);
        assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
        assert_eq!(ctx.deadline(), Some(past));
        // A later deadline under an earlier one keeps the earlier one, and needs no timer either.
        let (child, _cc) = with_deadline(&ctx, past + Duration::from_secs(60));
        assert_eq!(child.deadline(), Some(past));
        assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));
    }
}
