//! `chan::Select`: a select over cases added at run time, Go's `reflect.Select` (reflect/value.go:
//! `Select`, `SelectCase`; runtime/select.go: `reflect_rselect`, which calls the same `selectgo`).
//!
//! Each `recv`/`send` call adds a case (any number, element types may differ) and returns a typed
//! handle; `wait().await` (or `try_wait()`, Go's `SelectDefault` case) runs the same engine as
//! `select!` (select/selectgo.rs) and returns the index of the case that fired, whose handle then
//! yields the result. Fairness, exactly-once, cancel safety and the same-channel order are therefore
//! those of `select!`.
//!
//! Where this differs from Go: `reflect.Select` takes a slice of `SelectCase` values and returns
//! `(chosen, recv, recvOK)` with the received value as a `reflect.Value`. Rust has no dynamic values,
//! so the builder returns a typed handle per case instead, shared with the builder (an `Arc<Mutex>`
//! per case: the engine holds every case while it runs, the handle reads the result afterwards).
//! A send case that did not fire gives its value back (`SelectSend::unsent`); in Go it was a copy.
//! Once a case has fired the select is over: `wait` and `try_wait` return that index again.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use super::selectgo::{self, Engine, Scratch, Won};
use super::{AsReceiver, AsSender, Case, RecvCase, SendCase};
use crate::chan::{Locked, SendError};

type SharedCase<'a> = Arc<Mutex<dyn Case<'a> + Send + 'a>>;

fn lock<C: ?Sized>(m: &Mutex<C>) -> MutexGuard<'_, C> {
    // A panic while a case was held (a user's `Drop` in the middle of a channel operation) leaves the
    // case as consistent as the channel; keep going.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A select over cases added at run time (Go's `reflect.Select`).
///
/// ```
/// use gort::chan::{channel, Select};
///
/// gort::run(async {
///     let inputs: Vec<_> = (0..4).map(|_| channel::<u32>(1)).collect();
///     inputs[2].0.try_send(7).unwrap();
///     let (out_tx, out_rx) = channel::<String>(0);
///
///     let mut sel = Select::new();
///     let recvs: Vec<_> = inputs.iter().map(|(_, rx)| sel.recv(rx)).collect();
///     let send = sel.send(&out_tx, "hello".to_string()); // nobody receives: never ready
///     let fired = sel.wait().await;
///     assert_eq!(fired, recvs[2].index());
///     assert_eq!(recvs[2].received(), Some(Some(7)));
///     assert_eq!(send.unsent().as_deref(), Some("hello")); // the losing send gives its value back
///     drop(out_rx);
/// });
/// ```
#[derive(Default)]
pub struct Select<'a> {
    cases: Vec<SharedCase<'a>>,
    fired: Option<usize>,
}

/// The handle of a receive case of a `Select`.
pub struct SelectRecv<'a, T> {
    index: usize,
    case: Arc<Mutex<RecvCase<'a, T>>>,
}

/// The handle of a send case of a `Select`.
pub struct SelectSend<'a, T> {
    index: usize,
    case: Arc<Mutex<SendCase<'a, T>>>,
}

impl<'a> Select<'a> {
    pub fn new() -> Self {
        Select {
            cases: Vec::new(),
            fired: None,
        }
    }

    /// Number of cases added.
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// Add a receive case on `rx` (a `Receiver`, or an `Option` of one: `None` is a nil channel, a
    /// case that never fires).
    pub fn recv<T: Send + 'a, R: AsReceiver<T> + ?Sized>(
        &mut self,
        rx: &'a R,
    ) -> SelectRecv<'a, T> {
        let case = Arc::new(Mutex::new(RecvCase::new(rx)));
        let index = self.push(case.clone());
        SelectRecv { index, case }
    }

    /// Add a send case of `value` on `tx` (a `Sender`, or an `Option` of one: `None` is a nil
    /// channel). If another case fires, the value is not sent and `SelectSend::unsent` returns it.
    pub fn send<T: Send + 'a, S: AsSender<T> + ?Sized>(
        &mut self,
        tx: &'a S,
        value: T,
    ) -> SelectSend<'a, T> {
        let case = Arc::new(Mutex::new(SendCase::new(tx, Some(value))));
        let index = self.push(case.clone());
        SelectSend { index, case }
    }

    fn push(&mut self, case: SharedCase<'a>) -> usize {
        self.cases.push(case);
        self.cases.len() - 1
    }

    /// Wait until a case can proceed, complete it, and return its index. Several ready cases: one is
    /// chosen uniformly at random. No cases, or only nil ones: waits forever (Go's `select {}`).
    /// Dropping the future before it completes withdraws every case, losing nothing: if a case had
    /// already fired, the select is over with that case (its handle has the result, and `wait` and
    /// `try_wait` return its index); otherwise it can be waited on again.
    pub fn wait(&mut self) -> SelectWait<'_, 'a> {
        SelectWait {
            sel: self,
            engine: Engine::new(),
        }
    }

    /// Complete a case that can proceed now and return its index; `None` if none can (Go's `select`
    /// with `default`).
    pub fn try_wait(&mut self) -> Option<usize> {
        if self.fired.is_some() {
            return self.fired;
        }
        let mut guards: Vec<_> = self.cases.iter().map(|c| lock(c)).collect();
        let mut cases: Vec<&mut (dyn Case<'a> + Send)> =
            guards.iter_mut().map(|g| &mut **g).collect();
        let fired = with_scratch(cases.len(), |s| selectgo::try_select(&mut cases, s));
        self.fired = fired;
        fired
    }
}

/// Run `f` with a `Scratch` for `n` cases.
fn with_scratch<'a, R>(n: usize, f: impl FnOnce(&mut Scratch<'_, 'a>) -> R) -> R {
    let (mut poll, mut lock, mut lock_of) = (vec![0; n], vec![0; n], vec![0; n]);
    let mut locks: Vec<Option<Locked<'a>>> = (0..n).map(|_| None).collect();
    f(&mut Scratch {
        pollorder: &mut poll,
        lockorder: &mut lock,
        lock_of: &mut lock_of,
        locks: &mut locks,
    })
}

/// The future of `Select::wait`: the index of the case that fired.
#[must_use = "futures do nothing unless polled"]
pub struct SelectWait<'s, 'a> {
    sel: &'s mut Select<'a>,
    engine: Engine,
}

impl Future for SelectWait<'_, '_> {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let this = self.get_mut();
        if let Some(i) = this.sel.fired {
            return Poll::Ready(i);
        }
        let mut guards: Vec<_> = this.sel.cases.iter().map(|c| lock(c)).collect();
        let mut cases: Vec<&mut (dyn Case<'_> + Send)> =
            guards.iter_mut().map(|g| &mut **g).collect();
        let won = with_scratch(cases.len(), |s| {
            this.engine.poll(&mut cases, &mut [], s, cx)
        });
        match won {
            Poll::Ready(Won::Case(i)) => {
                this.sel.fired = Some(i);
                Poll::Ready(i)
            }
            Poll::Ready(Won::Future(_)) => unreachable!("select: a future arm in chan::Select"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for SelectWait<'_, '_> {
    fn drop(&mut self) {
        if !self.engine.is_parked() {
            return;
        }
        let mut guards: Vec<_> = self.sel.cases.iter().map(|c| lock(c)).collect();
        let mut cases: Vec<&mut (dyn Case<'_> + Send)> =
            guards.iter_mut().map(|g| &mut **g).collect();
        // A case that fired before the drop keeps its result (the handles outlive this future), so
        // the select is over with that case, as if this future had returned it.
        if let Some(i) = self.engine.cancel(&mut cases, true) {
            self.sel.fired = Some(i);
        }
    }
}

impl<T> SelectRecv<'_, T> {
    /// This case's index, as `wait` and `try_wait` return it.
    pub fn index(&self) -> usize {
        self.index
    }

    /// What this case received, if it fired: `Some(Some(v))` a value, `Some(None)` the channel was
    /// closed. `None`: this case did not fire (or its result was already taken).
    pub fn received(&self) -> Option<Option<T>> {
        lock(&self.case).take_fired()
    }
}

impl<T> SelectSend<'_, T> {
    /// This case's index, as `wait` and `try_wait` return it.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The send's outcome, if this case fired: `Ok(())` sent, `Err` the channel was closed (holding
    /// the value). `None`: this case did not fire (or its result was already taken).
    pub fn result(&self) -> Option<Result<(), SendError<T>>> {
        lock(&self.case).take_fired()
    }

    /// The value, if it was not sent: this case lost, or the select never ran or was dropped. `None`
    /// if it was sent (or already taken back, or the select is waiting).
    pub fn unsent(&self) -> Option<T> {
        lock(&self.case).take_unsent()
    }
}
