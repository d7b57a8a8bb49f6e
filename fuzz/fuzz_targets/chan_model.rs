//! Fuzz target: gort's channels and `select!` against a sequential model. The input is a program of
//! operations on three channels (capacities 0–2, chosen by the input): try_send, try_recv, close,
//! blocking send and receive (each in its own G, which may park), non-blocking selects, blocking
//! selects (in a G, with two receive arms or a receive and a send arm), dropping the driver's own
//! sender (the channel closes when the parked Gs' clones go too), cancelling a parked G, and cancelling a G that a send has just served but that
//! has not run yet (the value it was handed must go back to the channel). The model is Go's `hchan` written plainly: a
//! `VecDeque` buffer, a FIFO of parked senders and one of parked receivers per channel, and a
//! select parked on several queues at once that the first counterpart claims. After every operation
//! the real result must be one the model allows (a select with several ready cases may pick any;
//! the model then follows the real choice); at the end every channel is closed, every G must finish
//! with the result the model gave it, and every value sent must have been received exactly once or
//! handed back.
//!
//! Determinism: the runtime has one P and no sysmon (which could hand the P to a second M while the
//! driver is slow), so a G spawned by the driver runs (until it parks or ends)
//! only while the driver yields, and the driver yields until each G it woke has recorded its result.
#![no_main]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use gort::chan::{channel, Receiver, Sender, TryRecvError, TrySendError};
use gort::JoinHandle;
use libfuzzer_sys::fuzz_target;

const CHANS: usize = 3;
/// Bound on the driver's yields while waiting for Gs to settle: with one P a handful suffice, so
/// reaching it means a G that should have finished did not (a lost wake-up).
const SETTLE: usize = 10_000;

/// What a parked operation ended with, as the model and the G record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// A receive got this value (`None`: the channel was closed).
    Recv(usize, Option<u32>),
    /// A send completed (`true`) or got its value back at close (`false`).
    Sent(usize, bool),
    /// Cancelled while parked.
    Cancelled,
}

/// One parked operation of the model: a plain send/receive, or a select's case.
#[derive(Clone, Copy, Debug)]
struct Wait {
    /// Index into `Model::waiters`.
    w: usize,
    /// The value a parked send offers.
    value: u32,
}

#[derive(Default)]
struct ChanModel {
    cap: usize,
    buf: VecDeque<u32>,
    closed: bool,
    recvq: VecDeque<Wait>,
    sendq: VecDeque<Wait>,
}

#[derive(Default)]
struct Model {
    chans: Vec<ChanModel>,
    /// Per waiter: `None` while parked, then its outcome.
    waiters: Vec<Option<Outcome>>,
    /// The parked receiver the last `send` handed its value to, if any.
    last_served: Option<usize>,
}

impl Model {
    /// The first parked waiter on `q` that is still parked (a select's other cases were claimed
    /// when one fired: skip them, as `WaitList::dequeue` does).
    fn dequeue(waiters: &[Option<Outcome>], q: &mut VecDeque<Wait>) -> Option<Wait> {
        while let Some(w) = q.pop_front() {
            if waiters[w.w].is_none() {
                return Some(w);
            }
        }
        None
    }

    /// A send of `v` on channel `c` that does not wait: `Ok` if done, `Err(v)` if it would block,
    /// `None` if the channel is closed.
    fn send(&mut self, c: usize, v: u32) -> Option<Result<(), u32>> {
        let ch = &mut self.chans[c];
        if ch.closed {
            return None;
        }
        if let Some(r) = Self::dequeue(&self.waiters, &mut ch.recvq) {
            self.waiters[r.w] = Some(Outcome::Recv(c, Some(v)));
            self.last_served = Some(r.w);
            return Some(Ok(()));
        }
        if ch.buf.len() < ch.cap {
            ch.buf.push_back(v);
            return Some(Ok(()));
        }
        Some(Err(v))
    }

    /// A receive on `c` that does not wait: `Some(Some(v))` a value, `Some(None)` closed and
    /// drained, `None` would block.
    fn recv(&mut self, c: usize) -> Option<Option<u32>> {
        let ch = &mut self.chans[c];
        if let Some(v) = ch.buf.pop_front() {
            // Refill from a parked sender only while below cap: a given-back value (below) may
            // have put the buffer past it.
            if ch.buf.len() < ch.cap {
                if let Some(s) = Self::dequeue(&self.waiters, &mut ch.sendq) {
                    ch.buf.push_back(s.value);
                    self.waiters[s.w] = Some(Outcome::Sent(c, true));
                }
            }
            return Some(Some(v));
        }
        if let Some(s) = Self::dequeue(&self.waiters, &mut ch.sendq) {
            self.waiters[s.w] = Some(Outcome::Sent(c, true));
            return Some(Some(s.value));
        }
        ch.closed.then_some(None)
    }

    /// A receive that was handed `v` but cancelled before it returned it gives it back: to the next
    /// parked receiver, or to the front of the buffer (even past cap), as `HChan::give_back` does.
    fn give_back(&mut self, c: usize, v: u32) {
        let ch = &mut self.chans[c];
        if let Some(r) = Self::dequeue(&self.waiters, &mut ch.recvq) {
            self.waiters[r.w] = Some(Outcome::Recv(c, Some(v)));
        } else {
            ch.buf.push_front(v);
        }
    }

    fn close(&mut self, c: usize) -> bool {
        let ch = &mut self.chans[c];
        if ch.closed {
            return false;
        }
        ch.closed = true;
        while let Some(r) = Self::dequeue(&self.waiters, &mut ch.recvq) {
            self.waiters[r.w] = Some(Outcome::Recv(c, None));
        }
        while let Some(s) = Self::dequeue(&self.waiters, &mut ch.sendq) {
            self.waiters[s.w] = Some(Outcome::Sent(c, false));
        }
        true
    }

    fn ready_recv(&self, c: usize) -> bool {
        let ch = &self.chans[c];
        !ch.buf.is_empty() || ch.closed || ch.sendq.iter().any(|s| self.waiters[s.w].is_none())
    }

    fn ready_send(&self, c: usize) -> bool {
        let ch = &self.chans[c];
        ch.closed || ch.buf.len() < ch.cap || ch.recvq.iter().any(|r| self.waiters[r.w].is_none())
    }
}

/// A G the driver started, with what it records when it ends.
struct Spawned {
    handle: JoinHandle<()>,
    /// Its waiter index in the model (every spawned G has one).
    w: usize,
    result: Arc<Mutex<Option<Outcome>>>,
    /// The channel whose `Sender` clone it holds (a send, or a select with a send arm), if any:
    /// the clone keeps that channel open until the G's future is dropped.
    holds: Option<usize>,
}

/// Dropping the last `Sender` closes a channel. After the driver dropped its own sender of a
/// channel, the clones left are those of Gs still parked (a G that finished or was aborted has
/// dropped its future, and its clone with it, by the time the driver runs again on its one P): when
/// none is left, the real channel has closed, so the model closes it too. Returns whether it did.
fn close_dropped(model: &mut Model, driver_holds: &[bool], gs: &[Spawned]) -> bool {
    let mut any = false;
    for c in 0..CHANS {
        let held = driver_holds[c]
            || gs
                .iter()
                .any(|g| g.holds == Some(c) && model.waiters[g.w].is_none());
        if !held && !model.chans[c].closed {
            model.close(c);
            any = true;
        }
    }
    any
}

fn runtime() -> &'static gort::Runtime {
    static RT: OnceLock<gort::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        gort::Builder::new()
            .procs(1)
            .sysmon(false)
            .build()
            .expect("runtime")
    })
}

/// Yield until every spawned G whose outcome the model has decided has recorded it (with one P the
/// woken Gs run while the driver yields). Panics if that never happens: a lost wake-up.
async fn settle(model: &Model, gs: &[Spawned]) {
    for _ in 0..SETTLE {
        let pending = gs.iter().any(|g| {
            model.waiters[g.w].is_some_and(|o| o != Outcome::Cancelled)
                && g.result.lock().unwrap().is_none()
        });
        if !pending {
            return;
        }
        gort::yield_now().await;
    }
    panic!("a G the model completed never ran: a lost wake-up");
}

/// Abort a G and yield until its future has been dropped.
async fn abort(g: &Spawned) {
    g.handle.abort();
    for _ in 0..SETTLE {
        if g.handle.is_finished() {
            return;
        }
        gort::yield_now().await;
    }
    panic!("an aborted G was never dropped");
}

/// Yield until a freshly spawned G has run to its first park (or its end).
async fn let_run(started: &Arc<Mutex<bool>>) {
    for _ in 0..SETTLE {
        if *started.lock().unwrap() {
            // The G set the flag and then tried its operation in the same poll: one more
            // yield is not needed on one P, as the driver only runs again once it parked.
            return;
        }
        gort::yield_now().await;
    }
    panic!("a spawned G never ran");
}

async fn drive(data: Vec<u8>) {
    let mut bytes = data.iter().copied();
    let mut model = Model::default();
    // The driver's own senders; `None` once it dropped one (op 2).
    let (mut txs, mut rxs): (Vec<Option<Sender<u32>>>, Vec<Receiver<u32>>) =
        (Vec::new(), Vec::new());
    for _ in 0..CHANS {
        let cap = usize::from(bytes.next().unwrap_or(0) % 3);
        let (tx, rx) = channel::<u32>(cap);
        txs.push(Some(tx));
        rxs.push(rx);
        model.chans.push(ChanModel {
            cap,
            ..ChanModel::default()
        });
    }
    let mut gs: Vec<Spawned> = Vec::new();
    let mut next_value = 0u32;
    let mut received: Vec<u32> = Vec::new();
    let mut gs_spawned = 0;
    while let Some(op) = bytes.next() {
        let c = usize::from(op >> 4) % CHANS;
        let d = usize::from((op >> 6) ^ (op >> 4)) % CHANS;
        match op % 8 {
            0 if txs[c].is_some() => {
                let v = next_value;
                next_value += 1;
                model.last_served = None;
                let real = txs[c].as_ref().expect("held").try_send(v);
                match (model.send(c, v), real) {
                    (Some(Ok(())), Ok(())) => {}
                    (Some(Err(_)), Err(TrySendError::Full(x)))
                    | (None, Err(TrySendError::Closed(x))) => {
                        assert_eq!(x, v, "try_send gave back another value");
                    }
                    (m, r) => panic!("try_send on {c}: model {m:?}, real {r:?}"),
                }
                // With the top bit set: cancel the G this send just served, before it runs. Its
                // receive (or select) was handed the value but never returned it: the value must go
                // back to the channel, not be lost.
                if let (true, Some(w)) = (op & 0x80 != 0, model.last_served.take()) {
                    if let Some(g) = gs.iter().find(|g| g.w == w) {
                        abort(g).await;
                        assert!(g.result.lock().unwrap().is_none(), "an aborted G ran");
                        let Some(Outcome::Recv(k, Some(v))) = model.waiters[w] else {
                            unreachable!("a served receiver holds a value")
                        };
                        model.waiters[w] = Some(Outcome::Cancelled);
                        model.give_back(k, v);
                    }
                }
            }
            1 => {
                let real = rxs[c].try_recv();
                match (model.recv(c), real) {
                    (Some(Some(m)), Ok(r)) => {
                        assert_eq!(m, r, "try_recv on {c}");
                        received.push(r);
                    }
                    (Some(None), Err(TryRecvError::Closed)) | (None, Err(TryRecvError::Empty)) => {}
                    (m, r) => panic!("try_recv on {c}: model {m:?}, real {r:?}"),
                }
            }
            2 => {
                // Close only now and then: a closed channel ends most of the interesting cases.
                // As often, the driver drops its own sender instead: the channel closes when the
                // last clone (a parked G's) goes too.
                match (bytes.next().unwrap_or(0) % 4, &txs[c]) {
                    (0, Some(tx)) => assert_eq!(tx.close(), model.close(c), "close of {c}"),
                    (1, Some(_)) => txs[c] = None,
                    _ => {}
                }
            }
            3 | 4 if gs_spawned < 64 && (op % 8 == 4 || txs[c].is_some()) => {
                // A blocking send (3) or receive (4) in its own G.
                gs_spawned += 1;
                let w = model.waiters.len();
                model.waiters.push(None);
                let result = Arc::new(Mutex::new(None));
                let started = Arc::new(Mutex::new(false));
                let (res, st) = (result.clone(), started.clone());
                let holds = (op % 8 == 3).then_some(c);
                let handle = if op % 8 == 3 {
                    let v = next_value;
                    next_value += 1;
                    match model.send(c, v) {
                        Some(Ok(())) => model.waiters[w] = Some(Outcome::Sent(c, true)),
                        None => model.waiters[w] = Some(Outcome::Sent(c, false)),
                        Some(Err(v)) => model.chans[c].sendq.push_back(Wait { w, value: v }),
                    }
                    let tx = txs[c].clone().expect("held");
                    gort::go(async move {
                        *st.lock().unwrap() = true;
                        let ok = tx.send(v).await.is_ok();
                        *res.lock().unwrap() = Some(Outcome::Sent(c, ok));
                    })
                } else {
                    match model.recv(c) {
                        Some(v) => model.waiters[w] = Some(Outcome::Recv(c, v)),
                        None => model.chans[c].recvq.push_back(Wait { w, value: 0 }),
                    }
                    let rx = rxs[c].clone();
                    gort::go(async move {
                        *st.lock().unwrap() = true;
                        let v = rx.recv().await;
                        *res.lock().unwrap() = Some(Outcome::Recv(c, v));
                    })
                };
                let_run(&started).await;
                gs.push(Spawned {
                    handle,
                    w,
                    result,
                    holds,
                });
            }
            5 if txs[d].is_some() => {
                // A non-blocking select: receive from c or send to d, else default.
                let v = next_value;
                next_value += 1;
                let (rc, sd) = (model.ready_recv(c), model.ready_send(d));
                let fired = gort::select! {
                    recv(rxs[c]) -> r => Some(Ok(r)),
                    send(txs[d].as_ref().expect("held"), v) -> r => Some(Err(r.is_ok())),
                    default => None,
                };
                match fired {
                    None => assert!(
                        !rc && !sd,
                        "select took default with recv {c} {rc} / send {d} {sd} ready"
                    ),
                    Some(Ok(r)) => {
                        assert!(rc, "select received from {c}, which was not ready");
                        let m = model.recv(c).expect("ready");
                        assert_eq!(m, r, "select's receive from {c}");
                        received.extend(r);
                    }
                    Some(Err(ok)) => {
                        assert!(sd, "select sent to {d}, which was not ready");
                        match model.send(d, v) {
                            Some(Ok(())) => assert!(ok, "select's send to {d} failed"),
                            None => assert!(!ok, "select's send to closed {d} succeeded"),
                            Some(Err(_)) => unreachable!("ready"),
                        }
                    }
                }
            }
            6 if gs_spawned < 64 => {
                // A blocking select in its own G: receive from c, and receive from d (bit 3 clear)
                // or send a new value to d (bit 3 set).
                gs_spawned += 1;
                let w = model.waiters.len();
                model.waiters.push(None);
                let result = Arc::new(Mutex::new(None));
                let started = Arc::new(Mutex::new(false));
                let (res, st) = (result.clone(), started.clone());
                let rxc = rxs[c].clone();
                // (A send arm needs the driver's sender of d to clone.)
                let sends = op & 0x08 != 0 && txs[d].is_some();
                let v = next_value;
                let (rc, rd) = if sends {
                    next_value += 1;
                    (model.ready_recv(c), model.ready_send(d))
                } else {
                    (model.ready_recv(c), model.ready_recv(d))
                };
                let handle = if sends {
                    let txd = txs[d].clone().expect("held");
                    gort::go(async move {
                        *st.lock().unwrap() = true;
                        let o = gort::select! {
                            recv(rxc) -> r => Outcome::Recv(c, r),
                            send(txd, v) -> r => Outcome::Sent(d, r.is_ok()),
                        };
                        *res.lock().unwrap() = Some(o);
                    })
                } else {
                    let rxd = rxs[d].clone();
                    gort::go(async move {
                        *st.lock().unwrap() = true;
                        let o = gort::select! {
                            recv(rxc) -> r => Outcome::Recv(c, r),
                            recv(rxd) -> r => Outcome::Recv(d, r),
                        };
                        *res.lock().unwrap() = Some(o);
                    })
                };
                let_run(&started).await;
                if rc || rd {
                    // It completed in its first poll; the model follows its choice.
                    let got = result
                        .lock()
                        .unwrap()
                        .expect("a ready select completes at once");
                    match got {
                        Outcome::Recv(k, r) => {
                            assert!(
                                (k == c && rc) || (!sends && k == d && rd),
                                "select received from {k}, which was not ready"
                            );
                            assert_eq!(model.recv(k), Some(r), "select's receive from {k}");
                        }
                        Outcome::Sent(k, ok) => {
                            assert!(sends && k == d && rd, "select sent to {k}, not ready");
                            model.last_served = None;
                            match model.send(d, v) {
                                Some(Ok(())) => assert!(ok, "select's send to {d} failed"),
                                None => assert!(!ok, "select's send to closed {d} succeeded"),
                                Some(Err(_)) => unreachable!("ready"),
                            }
                        }
                        Outcome::Cancelled => unreachable!("nobody cancelled it"),
                    }
                    model.waiters[w] = Some(got);
                } else {
                    model.chans[c].recvq.push_back(Wait { w, value: 0 });
                    if sends {
                        model.chans[d].sendq.push_back(Wait { w, value: v });
                    } else {
                        model.chans[d].recvq.push_back(Wait { w, value: 0 });
                    }
                }
                gs.push(Spawned {
                    handle,
                    w,
                    result,
                    holds: sends.then_some(d),
                });
            }
            7 => {
                // Cancel the k-th G if it is still parked in the model.
                let k = usize::from(bytes.next().unwrap_or(0));
                if let Some(g) = gs.get(k % gs.len().max(1)) {
                    if model.waiters[g.w].is_none() {
                        model.waiters[g.w] = Some(Outcome::Cancelled);
                        abort(g).await;
                    }
                }
            }
            _ => {}
        }
        settle(&model, &gs).await;
        let driver_holds: Vec<bool> = txs.iter().map(Option::is_some).collect();
        while close_dropped(&mut model, &driver_holds, &gs) {
            settle(&model, &gs).await;
        }
    }
    // Close everything: every parked G must end with the model's outcome. A channel whose sender
    // the driver dropped closes once the parked Gs holding clones of it are aborted.
    for (c, tx) in txs.iter().enumerate() {
        if let Some(tx) = tx {
            assert_eq!(tx.close(), model.close(c), "final close of {c}");
        }
    }
    settle(&model, &gs).await;
    for g in &gs {
        if g.holds.is_some_and(|c| txs[c].is_none()) && model.waiters[g.w].is_none() {
            model.waiters[g.w] = Some(Outcome::Cancelled);
            abort(g).await;
        }
    }
    while close_dropped(&mut model, &[false; CHANS], &gs) {
        settle(&model, &gs).await;
    }
    for g in &gs {
        let want = model.waiters[g.w].expect("every waiter ends at close");
        if want == Outcome::Cancelled {
            continue;
        }
        let got = g.result.lock().unwrap().expect("settled");
        assert_eq!(got, want, "G {}", g.w);
        if let Outcome::Recv(_, Some(v)) = got {
            received.push(v);
        }
    }
    // Drain: what is left in each buffer is exactly the model's.
    for (c, rx) in rxs.iter().enumerate() {
        let mut left = Vec::new();
        while let Ok(v) = rx.try_recv() {
            left.push(v);
        }
        assert_eq!(
            left,
            Vec::from(model.chans[c].buf.clone()),
            "left in channel {c}"
        );
        received.extend(left);
    }
    // No value twice.
    received.sort_unstable();
    let n = received.len();
    received.dedup();
    assert_eq!(received.len(), n, "a value was received twice");
    for g in gs {
        let _ = g.handle.await;
    }
}

fuzz_target!(|data: &[u8]| {
    runtime().block_on(drive(data.to_vec()));
});
