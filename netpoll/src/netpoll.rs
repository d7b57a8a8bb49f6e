//! The poller: one OS event queue per runtime, and the calls the scheduler makes on it. Mirrors Go's
//! runtime/netpoll.go and netpoll_epoll.go: `netpollinit`, `netpollopen`, `netpollclose`, `netpoll(delay)`,
//! `netpollBreak` (with `netpollWakeSig`) and `netpollWaiters`.
//!
//! The scheduler calls [`Poller::poll`] from its search for work (Go's `findRunnable`): non-blocking while
//! other work may exist, blocking when the thread would otherwise sleep. It gets back the Wakers of the
//! waiters that became ready (Go's `gList`) and wakes them itself, since making a task runnable is the
//! scheduler's business. [`Poller::wake`] interrupts a blocked poll when the scheduler needs that thread.
//!
//! Locks, in the order they may nest: the selector (held for a whole `poll`), then the descriptor table
//! (held while one batch of events is dispatched, and briefly by register and free). Neither is held while
//! a Waker is cloned, woken or dropped: that is foreign code, which may drop a descriptor and so free it.
//!
//! ## Where this differs from Go and why
//! - Go lets several threads call `netpoll` at once and relies on `sched.lastpoll` to keep one blocked
//!   poller. mio's `Poll::poll` needs `&mut`, so the selector sits behind a mutex taken with `try_lock`: a
//!   second poller returns `Ok(0)` at once instead of waiting, which is what the scheduler wants (it has
//!   nothing to gain from a second thread in the kernel's wait queue).
//! - Go's eventfd is level-triggered and only a blocking `netpoll` drains it, so a break aimed at a blocked
//!   poller survives non-blocking polls. mio's waker is edge-triggered, so a non-blocking poll would eat the
//!   edge; instead the `wake_sig` flag itself is the pending break: a non-blocking poll leaves it set, and a
//!   blocking poll that finds it set clears it and does not block.
//! - Registration goes through a clone of mio's `Registry` (a `dup` of the epoll fd), so registering never
//!   waits for a thread blocked in `poll`.

use std::fmt;
use std::io;
use std::task::Waker;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Registry, Token};

use crate::loom::lock;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use crate::loom::sync::{Arc, Mutex, TryLockError};
use crate::pollcache::{PollCache, WAKE_TOKEN};
use crate::polldesc::{PdCore, PollDesc};
use crate::sys;

/// Go's `epoll_wait` batch: at most this many events per OS call; the rest wait for the next poll.
const MAX_EVENTS: usize = 128;

/// The part of the poller that descriptor handles keep alive.
pub(crate) struct Shared {
    cache: Mutex<PollCache>,
    /// Go's `netpollWaiters`: how many `PollSema`s hold a parked Waker.
    pub(crate) waiters: AtomicUsize,
}

impl Shared {
    /// Free a descriptor's slot (see `PollCache::free`), dropping it outside the lock.
    pub(crate) fn free(&self, token: Token) {
        let freed = lock(&self.cache).free(token);
        drop(freed);
    }
}

struct Selector {
    poll: mio::Poll,
    events: Events,
}

/// The network poller: Go's netpoll state plus its epoll (or kqueue) fd. One per runtime.
pub struct Poller {
    /// Exclusive use of the OS poller and its event buffer; `try_lock` makes "one poller at a time".
    selector: Mutex<Selector>,
    registry: Registry,
    waker: mio::Waker,
    /// Go's `netpollWakeSig`: a break is pending, so further `wake`s need not write again.
    wake_sig: AtomicBool,
    shared: Arc<Shared>,
    /// Origin of the descriptors' deadline encoding.
    epoch: Instant,
}

impl Poller {
    /// Go's `netpollinit`: create the OS event queue and the wake-up event registered on it.
    pub fn new() -> io::Result<Poller> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        Ok(Poller {
            selector: Mutex::new(Selector {
                poll,
                events: Events::with_capacity(MAX_EVENTS),
            }),
            registry,
            waker,
            wake_sig: AtomicBool::new(false),
            shared: Arc::new(Shared {
                cache: Mutex::new(PollCache::new()),
                waiters: AtomicUsize::new(0),
            }),
            epoch: Instant::now(),
        })
    }

    /// Go's `poll_runtime_pollOpen` + `netpollopen`: register `source` once, for both directions,
    /// edge-triggered, and return its descriptor. The source must be non-blocking.
    pub fn register<S: Source + ?Sized>(&self, source: &mut S) -> io::Result<PollDesc> {
        let core = Arc::new(PdCore::new(self.epoch));
        let token = lock(&self.shared.cache).alloc(core.clone())?;
        // From here the handle owns the slot: if registration fails, dropping it frees the slot.
        let pd = PollDesc::new(core, token, self.shared.clone());
        self.registry
            .register(source, token, Interest::READABLE | Interest::WRITABLE)?;
        Ok(pd)
    }

    /// Go's `netpollclose`, best effort, before the source is closed (closing it also removes it from the
    /// OS queue, unless the fd was duplicated). Also closes `pd`: once deregistered no event can arrive, so
    /// a later wait must fail rather than hang. Frees the descriptor's slot at once, so events still queued
    /// for it are dropped.
    pub fn deregister<S: Source + ?Sized>(&self, pd: &PollDesc, source: &mut S) -> io::Result<()> {
        if !Arc::ptr_eq(pd.shared(), &self.shared) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "netpoll: descriptor belongs to another poller",
            ));
        }
        pd.close();
        self.shared.free(pd.token());
        self.registry.deregister(source)
    }

    /// Wake every task parked on any descriptor of this poller, without readiness: each re-runs its
    /// wait and, finding nothing changed, parks again. For the runtime that owns the poller, when it
    /// shuts down: a task of another runtime waiting on one of its sockets would otherwise never be
    /// woken again (no thread polls any more); woken, it re-checks and finds the runtime gone. Store
    /// what the woken tasks must see before calling this. Returns how many were woken.
    pub fn unblock_all(&self) -> usize {
        let cores = lock(&self.shared.cache).all();
        let mut n = 0;
        for core in cores {
            for w in core.notify(&self.shared.waiters).into_iter().flatten() {
                w.wake();
                n += 1;
            }
        }
        n
    }

    /// Go's `netpoll(delay)`: wait up to `timeout` for I/O events (`None` blocks until an event or a
    /// [`wake`](Self::wake); `Some(Duration::ZERO)` does not block; shorter waits than 1 ms round up to
    /// 1 ms). The Wakers of the waiters made ready are pushed onto `ready`, for the caller to wake; returns
    /// how many. At most 128 events are taken per call.
    ///
    /// Only one thread polls at a time: if another thread is inside `poll`, this returns `Ok(0)` at once.
    /// An interrupted wait (EINTR) also returns `Ok(0)`.
    pub fn poll(&self, timeout: Option<Duration>, ready: &mut Vec<Waker>) -> io::Result<usize> {
        let mut guard = match self.selector.try_lock() {
            Ok(g) => g,
            Err(TryLockError::WouldBlock) => return Ok(0),
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
        };
        let sel = &mut *guard;
        let mut timeout = sys::wait_timeout(timeout);
        let blocking = timeout != Some(Duration::ZERO);
        if blocking && self.wake_sig.swap(false, AcqRel) {
            // A break is pending: deliver it by not blocking. Its edge may still arrive later and end a
            // future wait early, which costs the scheduler one extra loop and loses nothing.
            timeout = Some(Duration::ZERO);
        }
        match sel.poll.poll(&mut sel.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(0),
            Err(e) => return Err(e),
        }

        let mut n = 0;
        let cache = lock(&self.shared.cache);
        for ev in sel.events.iter() {
            if ev.token() == WAKE_TOKEN {
                if blocking {
                    self.wake_sig.store(false, Release);
                }
                continue;
            }
            // Stale events (the descriptor was freed, maybe its slot reused) find no descriptor.
            if let Some(core) = cache.get(ev.token()) {
                let (r, w) = sys::readiness(ev);
                if sys::read_final(ev) {
                    core.set_read_final(); // before the unblock, whose RMW publishes it
                }
                n += core.ready(r, w, &self.shared.waiters, ready);
            }
        }
        Ok(n)
    }

    /// Go's `netpollBreak`: interrupt a blocked [`poll`](Self::poll), or make the next blocking one return
    /// at once. Coalesced: while a break is pending, further calls do nothing.
    pub fn wake(&self) -> io::Result<()> {
        if self
            .wake_sig
            .compare_exchange(false, true, AcqRel, Acquire)
            .is_err()
        {
            return Ok(());
        }
        self.waker.wake().inspect_err(|_| {
            // Nothing was written, so nothing is pending: let the next call try again.
            self.wake_sig.store(false, Release);
        })
    }

    /// Go's `netpollWaiters`: how many waiters are parked right now. The scheduler polls only if this is
    /// non-zero. A waiter is counted before its Waker becomes visible, so the count never reads low for a
    /// waiter that an event could wake.
    pub fn waiters(&self) -> usize {
        self.shared.waiters.load(Acquire)
    }
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("descriptors", &lock(&self.shared.cache).len())
            .field("waiters", &self.waiters())
            .field("wake_pending", &self.wake_sig.load(Relaxed))
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::mpsc;
    use std::task::Context;

    use crate::pollcache::split;
    use crate::testwaker::counting_waker;
    use crate::Direction;

    #[test]
    fn stale_event_for_reused_slot_wakes_nobody() {
        let poller = Poller::new().unwrap();
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        // A duplicate of `a`'s fd keeps the open file, and so its epoll registration under the old token,
        // alive after `a` is closed: the kernel goes on reporting events with a token we freed.
        let dup = a.try_clone().unwrap();
        let mut a = mio::net::UnixStream::from_std(a);
        let old = poller.register(&mut a).unwrap();
        let old_token = old.token();
        drop(old);
        drop(a);

        let (mut c, _d) = mio::net::UnixStream::pair().unwrap();
        let new = poller.register(&mut c).unwrap();
        assert_eq!(
            split(new.token()).0,
            split(old_token).0,
            "the slot is reused"
        );
        assert_ne!(new.token(), old_token);

        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(new.poll_wait(Direction::Read, &mut cx).is_pending());

        b.write_all(b"x").unwrap();
        let mut ready = Vec::new();
        let mut saw_stale = false;
        for _ in 0..50 {
            assert_eq!(
                poller
                    .poll(Some(Duration::from_millis(100)), &mut ready)
                    .unwrap(),
                0
            );
            let sel = lock(&poller.selector);
            if sel
                .events
                .iter()
                .any(|e| e.token() == old_token && e.is_readable())
            {
                saw_stale = true;
                break;
            }
        }
        assert!(saw_stale, "the kernel did deliver the stale event");
        assert!(ready.is_empty());
        assert_eq!(count.get(), 0);
        assert_eq!(poller.waiters(), 1);
        assert!(new.core().is_parked(Direction::Read));
        drop(dup);
    }

    /// `unblock_all` wakes the parked waiter of every descriptor, once, without recording
    /// readiness: the woken waiter's next wait parks again.
    #[test]
    fn unblock_all_wakes_every_parked_waiter_without_readiness() {
        let poller = Poller::new().unwrap();
        let (mut a, _b) = mio::net::UnixStream::pair().unwrap();
        let (mut c, _d) = mio::net::UnixStream::pair().unwrap();
        let (pa, pc) = (
            poller.register(&mut a).unwrap(),
            poller.register(&mut c).unwrap(),
        );
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(pa.poll_wait(Direction::Read, &mut cx).is_pending());
        assert!(pc.poll_wait(Direction::Read, &mut cx).is_pending());
        assert_eq!(poller.waiters(), 2);
        assert_eq!(poller.unblock_all(), 2);
        assert_eq!(count.get(), 2);
        assert_eq!(poller.waiters(), 0);
        assert_eq!(poller.unblock_all(), 0, "nobody is parked any more");
        assert!(
            pa.poll_wait(Direction::Read, &mut cx).is_pending(),
            "no readiness was recorded"
        );
    }

    #[test]
    fn concurrent_poll_returns_zero_for_second_thread() {
        let poller = std::sync::Arc::new(Poller::new().unwrap());
        // A readable fd with a parked reader: a second poll that really waited would find its event.
        let (mut a, mut b) = mio::net::UnixStream::pair().unwrap();
        let pd = poller.register(&mut a).unwrap();
        let (_count, waker) = counting_waker();
        assert!(pd
            .poll_wait(Direction::Read, &mut Context::from_waker(&waker))
            .is_pending());
        // Drain the registration's initial write event so the first poller blocks.
        let mut ready = Vec::new();
        poller.poll(Some(Duration::ZERO), &mut ready).unwrap();

        let first = {
            let poller = poller.clone();
            std::thread::spawn(move || poller.poll(None, &mut Vec::new()))
        };
        // Wait (bounded) until the first thread holds the selector.
        let mut inside = false;
        for _ in 0..10_000 {
            if matches!(poller.selector.try_lock(), Err(TryLockError::WouldBlock)) {
                inside = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(inside, "first poller never started");

        // Run the second poll on its own thread so a regression fails the test instead of hanging it.
        let (tx, rx) = mpsc::channel();
        let second = {
            let poller = poller.clone();
            std::thread::spawn(move || {
                let mut ready = Vec::new();
                let r = poller.poll(None, &mut ready);
                tx.send((r.map_err(|e| e.kind()), ready.len())).unwrap();
            })
        };
        let got = rx.recv_timeout(Duration::from_secs(10));
        poller.wake().unwrap();
        b.write_all(b"unblock").unwrap(); // frees a second poller that did block, on a regression
        assert_eq!(got, Ok((Ok(0), 0)));
        second.join().unwrap();
        first.join().unwrap().unwrap();
        drop(pd);
    }
}
