//! The per-direction operation lock of a shared socket: Go's `fdMutex` (internal/poll/fd_mutex.go:
//! `rwlock`, `rwunlock`, `increfAndClose`).
//!
//! The netpoller keeps one waiter per direction (`pollDesc.rg` / `wg`), so two Gs must never wait to
//! read the same socket at once. Go guarantees that with `fdMutex`: `FD.Read` takes the read lock and
//! `FD.Write` the write lock for the whole operation, waiting included, so concurrent Reads on one
//! `net.Conn` run one after the other, and each Write is atomic with respect to other Writes.
//!
//! Here the lock is taken by every operation on a *shared* handle (`&self` methods such as
//! `TcpStream::read`, `TcpListener::accept`, `UdpSocket::recv_from`). Operations through `&mut self`
//! (`AsyncRead`/`AsyncWrite`, the owned halves of a split stream) skip it: the borrow already makes
//! them the only user of their direction.
//!
//! Waiters queue in FIFO order; `unlock` hands the lock straight to the first waiter (it cannot be
//! barged), and a waiter that is dropped while queued — or after being handed the lock but before
//! noticing — passes it on, so a cancelled G never strands the others. `close` fails every queued and
//! future acquisition with Go's `ErrNetClosing`; the current holder is woken by the poll descriptor.
//!
//! ## Where this differs from Go and why
//! Go's fdMutex is one atomic word (closed bit, reference count, lock bits, waiter counts) plus two
//! runtime semaphores, and its reference count decides when the fd may really be closed. Ours is a
//! small mutex-protected queue of Wakers: an uncontended acquisition is one lock/unlock of an
//! uncontended mutex, small next to the system call it guards. The reference count is not needed
//! because the socket is owned by an `Arc`: it is closed when the last handle (and so the last
//! operation) is gone.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use netpoll::Direction;

use crate::util::loom::lock;
use crate::util::loom::sync::Mutex;

/// Go's `fdMutex`: a FIFO lock per direction plus the closed flag.
pub(crate) struct FdMutex {
    state: Mutex<State>,
}

struct State {
    /// Read, write.
    dirs: [DirQueue; 2],
    closed: bool,
    /// Names each acquisition, so a handed-over lock and a queue entry know whose they are.
    next_ticket: u64,
}

#[derive(Default)]
struct DirQueue {
    /// The ticket holding the lock. A ticket can own the lock before its future notices (hand-off).
    owner: Option<u64>,
    waiters: VecDeque<(u64, Waker)>,
}

fn index(dir: Direction) -> usize {
    match dir {
        Direction::Read => 0,
        Direction::Write => 1,
    }
}

pub(crate) fn closed_error() -> io::Error {
    // The same error the poll descriptor returns once closed, so callers see one error for "closed".
    io::Error::new(
        io::ErrorKind::NotConnected,
        "use of closed network connection",
    )
}

impl FdMutex {
    pub(crate) fn new() -> FdMutex {
        FdMutex {
            state: Mutex::new(State {
                dirs: [DirQueue::default(), DirQueue::default()],
                closed: false,
                next_ticket: 0,
            }),
        }
    }

    /// Go's `rwlock`: wait for the direction's lock. Fails once the fd is closed.
    pub(crate) fn lock(&self, dir: Direction) -> Lock<'_> {
        Lock {
            mu: self,
            dir,
            ticket: None,
        }
    }

    /// Go's `increfAndClose`: fail every waiter and every later `lock`. Returns the Wakers of the
    /// queued waiters for the caller to wake (after the descriptor itself is marked closed).
    pub(crate) fn close(&self) -> Vec<Waker> {
        let mut s = lock(&self.state);
        s.closed = true;
        let mut woken = Vec::new();
        for q in &mut s.dirs {
            woken.extend(q.waiters.drain(..).map(|(_, w)| w));
        }
        woken
    }

    /// Go's `rwunlock`: hand the lock to the first waiter, if any.
    fn unlock(&self, dir: Direction, ticket: u64) {
        let next = {
            let mut s = lock(&self.state);
            let q = &mut s.dirs[index(dir)];
            if q.owner != Some(ticket) {
                return;
            }
            match q.waiters.pop_front() {
                Some((t, w)) => {
                    q.owner = Some(t);
                    Some(w)
                }
                None => {
                    q.owner = None;
                    None
                }
            }
        };
        // Wake outside the lock: waking runs scheduler code.
        if let Some(w) = next {
            w.wake();
        }
    }
}

/// Future returned by [`FdMutex::lock`].
pub(crate) struct Lock<'a> {
    mu: &'a FdMutex,
    dir: Direction,
    /// Set once queued; the queue entry (or, after a hand-off, the ownership) carries the same ticket.
    ticket: Option<u64>,
}

/// Holding a direction's lock; dropping it hands the lock on.
pub(crate) struct FdGuard<'a> {
    mu: &'a FdMutex,
    dir: Direction,
    ticket: u64,
}

impl<'a> Future for Lock<'a> {
    type Output = io::Result<FdGuard<'a>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut s = lock(&this.mu.state);
        if s.closed {
            this.ticket = None; // close emptied the queue; nothing to undo on drop
            return Poll::Ready(Err(closed_error()));
        }
        let ticket = match this.ticket {
            Some(t) => t,
            None => {
                let t = s.next_ticket;
                s.next_ticket += 1;
                t
            }
        };
        let q = &mut s.dirs[index(this.dir)];
        if q.owner.is_none() || q.owner == Some(ticket) {
            // Free (nobody queued, since unlock hands over to waiters) or handed to us.
            q.owner = Some(ticket);
            this.ticket = None;
            return Poll::Ready(Ok(FdGuard {
                mu: this.mu,
                dir: this.dir,
                ticket,
            }));
        }
        match q.waiters.iter_mut().find(|(t, _)| *t == ticket) {
            Some((_, w)) => {
                if !w.will_wake(cx.waker()) {
                    *w = cx.waker().clone();
                }
            }
            None => q.waiters.push_back((ticket, cx.waker().clone())),
        }
        this.ticket = Some(ticket);
        drop(s);
        crate::sched::g::set_waitreason(crate::sched::g::WaitReason::Semacquire);
        Poll::Pending
    }
}

impl Drop for Lock<'_> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket else { return };
        let handed = {
            let mut s = lock(&self.mu.state);
            let q = &mut s.dirs[index(self.dir)];
            if q.owner == Some(ticket) {
                true
            } else {
                q.waiters.retain(|(t, _)| *t != ticket);
                false
            }
        };
        if handed {
            // We were given the lock but never used it: pass it on.
            self.mu.unlock(self.dir, ticket);
        }
    }
}

impl Drop for FdGuard<'_> {
    fn drop(&mut self) {
        self.mu.unlock(self.dir, self.ticket);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    fn poll<'a>(l: &mut Lock<'a>, w: &Waker) -> Poll<io::Result<FdGuard<'a>>> {
        Pin::new(l).poll(&mut Context::from_waker(w))
    }

    #[test]
    fn waiters_get_the_lock_in_fifo_order() {
        let mu = FdMutex::new();
        let (_, w0) = waker();
        let (c1, w1) = waker();
        let (c2, w2) = waker();
        let mut l0 = mu.lock(Direction::Read);
        let g0 = match poll(&mut l0, &w0) {
            Poll::Ready(Ok(g)) => g,
            _ => panic!("free lock not taken"),
        };
        let mut l1 = mu.lock(Direction::Read);
        let mut l2 = mu.lock(Direction::Read);
        assert!(poll(&mut l1, &w1).is_pending());
        assert!(poll(&mut l2, &w2).is_pending());
        // The other direction is independent.
        let mut lw = mu.lock(Direction::Write);
        assert!(matches!(poll(&mut lw, &w0), Poll::Ready(Ok(_))));

        drop(g0);
        assert_eq!(c1.0.load(Ordering::SeqCst), 1);
        assert_eq!(c2.0.load(Ordering::SeqCst), 0);
        // A newcomer cannot barge past the handed-over lock.
        let mut l3 = mu.lock(Direction::Read);
        assert!(poll(&mut l3, &w0).is_pending());
        let g1 = match poll(&mut l1, &w1) {
            Poll::Ready(Ok(g)) => g,
            _ => panic!("handed-over lock not taken"),
        };
        drop(g1);
        assert_eq!(c2.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn dropped_waiter_passes_a_handed_over_lock_on() {
        let mu = FdMutex::new();
        let (_, w0) = waker();
        let (c1, w1) = waker();
        let (c2, w2) = waker();
        let mut l0 = mu.lock(Direction::Read);
        let Poll::Ready(Ok(g0)) = poll(&mut l0, &w0) else {
            panic!("free lock not taken")
        };
        let mut l1 = mu.lock(Direction::Read);
        let mut l2 = mu.lock(Direction::Read);
        assert!(poll(&mut l1, &w1).is_pending());
        assert!(poll(&mut l2, &w2).is_pending());
        drop(g0); // hands to l1
        assert_eq!(c1.0.load(Ordering::SeqCst), 1);
        drop(l1); // cancelled before it noticed: must hand to l2
        assert_eq!(c2.0.load(Ordering::SeqCst), 1);
        assert!(matches!(poll(&mut l2, &w2), Poll::Ready(Ok(_))));
    }

    #[test]
    fn close_fails_queued_and_later_lockers() {
        let mu = FdMutex::new();
        let (_, w0) = waker();
        let (c1, w1) = waker();
        let mut l0 = mu.lock(Direction::Write);
        let Poll::Ready(Ok(_g0)) = poll(&mut l0, &w0) else {
            panic!("free lock not taken")
        };
        let mut l1 = mu.lock(Direction::Write);
        assert!(poll(&mut l1, &w1).is_pending());
        for w in mu.close() {
            w.wake();
        }
        assert_eq!(c1.0.load(Ordering::SeqCst), 1);
        assert!(matches!(poll(&mut l1, &w1), Poll::Ready(Err(_))));
        let mut l2 = mu.lock(Direction::Read);
        assert!(matches!(poll(&mut l2, &w1), Poll::Ready(Err(_))));
    }
}
