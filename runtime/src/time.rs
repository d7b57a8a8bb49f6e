//! `gort::time`: sleeping, timeouts and tickers on the per-P timer heaps (`timer.rs`), like Go's
//! `time` package on Go 1.14+ timers.
//!
//! A [`Sleep`] arms its timer on the P of the M that first polls it; the timer wakes the G through
//! its `Waker`, and dropping the `Sleep` cancels the timer. A sleep never completes early: readiness is
//! decided by comparing the clock with the deadline, the timer only says when to look.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::sched::timer::{Action, Entry, SendTime};
use crate::sched::Sched;
use crate::util::loom::sync::atomic::Ordering;
use crate::util::loom::sync::Arc;

/// The runtime the caller runs in, or a clear panic naming the fix.
fn sched_for(what: &str) -> Arc<Sched> {
    match crate::sched::boot::current() {
        Some(s) => s,
        None => panic!(
            "gort::time::{what} used outside a gort runtime: timers run on the runtime's Ps, so \
             create and await them inside gort::run(...) or a G"
        ),
    }
}

/// Arm a timer on the current M's P (any P if this thread holds none) and make sure the netpoller
/// will not sleep past it.
fn arm(sched: &Arc<Sched>, when: u64, action: Action) -> Arc<Entry> {
    let p = crate::sched::getg::with_curm(|ctx| ctx.p.get())
        .flatten()
        .unwrap_or(0);
    let entry = Entry::new(p, when, action);
    if sched.allp[p].timers.add(entry.clone()) {
        crate::sched::wakep::wake_netpoller(sched, when);
    }
    entry
}

fn disarm(sched: &Sched, entry: &Entry) -> bool {
    if entry.cancel() {
        sched.allp[entry.p].timers.note_deleted();
        true
    } else {
        false
    }
}

/// How far away "never" is: a duration too large to add to the clock (`Duration::MAX`, the usual
/// "no timeout") is cut to this. Go saturates a timer's `when` at the largest int64 the same way.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// The instant `d` from now, saturating at [`FOREVER`]: `Instant + Duration` panics on overflow, and
/// a user's duration must never panic the runtime.
pub(crate) fn after_now(d: Duration) -> Instant {
    Instant::now() + d.min(FOREVER)
}

/// Wait until `d` has passed (Go's `time.Sleep`). A huge `d` (`Duration::MAX`) sleeps forever.
pub fn sleep(d: Duration) -> Sleep {
    sleep_until(after_now(d))
}

/// Wait until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

/// Future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    timer: Option<(Arc<Sched>, Arc<Entry>)>,
}

impl Sleep {
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Move the deadline (Go's `Timer.Reset`); the old timer is cancelled.
    pub fn reset(&mut self, deadline: Instant) {
        if let Some((s, e)) = self.timer.take() {
            disarm(&s, &e);
        }
        self.deadline = deadline;
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            if let Some((s, e)) = self.timer.take() {
                disarm(&s, &e);
            }
            return Poll::Ready(());
        }
        // A timer armed on a runtime that has shut down will never fire: arm anew where we run.
        let live = |s: &Sched| !s.shutting_down(Ordering::Acquire);
        match &self.timer {
            Some((s, e)) if !e.is_fired() && live(s) => e.set_waker(cx.waker()),
            _ => {
                // Not armed yet, fired a hair early for the clock, or orphaned: arm (again).
                let sched = match &self.timer {
                    Some((s, _)) if live(s) => s.clone(),
                    _ => sched_for("sleep"),
                };
                let when = sched.nanos_of(self.deadline);
                let e = arm(&sched, when, Action::Wake(Some(cx.waker().clone())));
                self.timer = Some((sched, e));
            }
        }
        crate::sched::g::set_waitreason(crate::sched::g::WaitReason::Sleep);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((s, e)) = self.timer.take() {
            disarm(&s, &e);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, "deadline has elapsed")
    }
}

/// Run `fut`, giving up after `d`: `Err(Elapsed)` if the time ran out first (the future is dropped).
pub fn timeout<F: Future>(d: Duration, fut: F) -> Timeout<F> {
    Timeout {
        fut,
        sleep: sleep(d),
    }
}

/// Future returned by [`timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    fut: F,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: we never move `fut` out of the pinned struct; `sleep` is Unpin and not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: `fut` is structurally pinned: it lives as long as `this` and is never moved.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        if let Poll::Ready(v) = fut.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A periodic tick (Go's `time.Ticker`): a `Stream` of the instants it fired at. If the consumer
/// falls behind, missed ticks are dropped, not delivered in a burst, as Go's ticker does.
pub struct Ticker {
    period: Duration,
    next: Instant,
    sleep: Sleep,
}

/// A ticker firing every `period` (the first tick one period from now). Panics on a zero period,
/// as Go's `NewTicker` does.
pub fn tick(period: Duration) -> Ticker {
    Ticker::new(period)
}

impl Ticker {
    pub fn new(period: Duration) -> Ticker {
        assert!(
            !period.is_zero(),
            "gort::time::Ticker: non-positive interval"
        );
        let next = after_now(period);
        Ticker {
            period,
            next,
            sleep: sleep_until(next),
        }
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    /// Change the period; the next tick is one new period from now (Go's `Ticker.Reset`).
    pub fn reset(&mut self, period: Duration) {
        assert!(
            !period.is_zero(),
            "gort::time::Ticker: non-positive interval"
        );
        self.period = period;
        self.next = after_now(period);
        self.sleep.reset(self.next);
    }

    /// Wait for the next tick.
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let fired = self.next;
        let now = Instant::now();
        let mut next = fired + self.period.min(FOREVER);
        if next <= now {
            // Fell behind: skip to the first tick still in the future.
            let behind = now.duration_since(next).as_nanos();
            let period = self.period.as_nanos();
            let skip = (behind / period + 1) * period; // <= behind + period: fits in u64 nanos
            next += Duration::from_nanos(u64::try_from(skip).unwrap_or(u64::MAX));
        }
        self.next = next;
        self.sleep.reset(next);
        Poll::Ready(fired)
    }
}

impl futures_core::Stream for Ticker {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticker")
            .field("period", &self.period)
            .finish()
    }
}

/// A channel that receives the current time once `d` has passed (Go's `time.After`), so a timeout is
/// an ordinary `select!` arm:
///
/// ```
/// use std::time::Duration;
/// gort::run(async {
///     let (_tx, rx) = gort::chan::channel::<u32>(0); // nothing will ever be sent
///     let timed_out = gort::select! {
///         recv(rx) -> _ => false,
///         recv(gort::time::after(Duration::from_millis(5))) -> _ => true,
///     };
///     assert!(timed_out);
/// });
/// ```
///
/// The channel has capacity 1 and the timer sends without blocking, on the scheduler's timer path
/// (Go's `sendTime`). Once every receiver is dropped, the timer can go unfired: as in Go 1.23, a
/// `select!` loop over `recv(time::after(..))` does not pile up timers (sched/timer.rs: `sweep`).
pub fn after(d: Duration) -> crate::chan::Receiver<Instant> {
    let sched = sched_for("after");
    let (tx, rx) = crate::chan::channel(1);
    let when = sched.nanos_of(after_now(d));
    arm(&sched, when, Action::SendTime(Some(Box::new(tx))));
    rx
}

impl SendTime for crate::chan::Sender<Instant> {
    fn send_time(&self) {
        // Full (the value not taken yet) or closed: the tick is dropped, as Go's `sendTime` does.
        let _ = self.try_send(Instant::now());
    }

    fn has_receivers(&self) -> bool {
        crate::chan::Sender::has_receivers(self)
    }
}

/// A one-shot timer running a function (Go's `time.AfterFunc`); see [`after_func`].
pub struct Timer {
    sched: Arc<Sched>,
    entry: Arc<Entry>,
}

impl Timer {
    /// Prevent the timer from firing. Returns true if this call stopped it, false if it had already
    /// fired or been stopped (Go's `Timer.Stop`).
    pub fn stop(&self) -> bool {
        disarm(&self.sched, &self.entry)
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("fired", &self.entry.is_fired())
            .finish()
    }
}

/// Call `f` in its own G once `d` has passed (Go's `time.AfterFunc`). Dropping the returned
/// [`Timer`] does not stop it; call `stop`. The G's spawn site (in dumps) is this call.
#[track_caller]
pub fn after_func<F>(d: Duration, f: F) -> Timer
where
    F: FnOnce() + Send + 'static,
{
    after_func_spawn(d, crate::sched::boot::Spawn::here(), f)
}

/// [`after_func`] with the G's spawn record given (a runtime-internal G: a context's deadline).
pub(crate) fn after_func_spawn<F>(d: Duration, spawn: crate::sched::boot::Spawn, f: F) -> Timer
where
    F: FnOnce() + Send + 'static,
{
    let sched = sched_for("after_func");
    let s2 = sched.clone();
    let when = sched.nanos_of(after_now(d));
    let entry = arm(
        &sched,
        when,
        Action::Func(Some(Box::new(move || {
            drop(crate::sched::boot::newproc(&s2, async move { f() }, spawn));
        }))),
    );
    Timer { sched, entry }
}
