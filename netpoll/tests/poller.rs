//! The netpoller's behaviour through its public API, with real sockets on loopback and counting Wakers in
//! place of a scheduler. Every wait is bounded: a regression fails a test, it never hangs it.

#![cfg(not(loom))]

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream, UnixStream};
use netpoll::{Direction, PollDesc, Poller};

/// A Waker that counts its wakes.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

struct Task {
    count: Arc<Count>,
    waker: Waker,
}

impl Task {
    fn new() -> Task {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        Task {
            waker: Waker::from(count.clone()),
            count,
        }
    }

    fn wakes(&self) -> usize {
        self.count.0.load(SeqCst)
    }

    fn wait(&self, pd: &PollDesc, dir: Direction) -> Poll<io::Result<()>> {
        pd.poll_wait(dir, &mut Context::from_waker(&self.waker))
    }
}

/// Poll (and wake what it returns) until `done` holds, for at most about ten seconds.
fn poll_until(poller: &Poller, mut done: impl FnMut() -> bool) {
    let mut ready = Vec::new();
    for _ in 0..100 {
        if done() {
            return;
        }
        let n = poller
            .poll(Some(Duration::from_millis(100)), &mut ready)
            .unwrap();
        assert_eq!(n, ready.len());
        ready.drain(..).for_each(Waker::wake);
    }
    assert!(done(), "condition not reached while polling");
}

fn would_block(r: io::Result<usize>) -> bool {
    matches!(r, Err(ref e) if e.kind() == io::ErrorKind::WouldBlock)
}

fn err_kind(p: Poll<io::Result<()>>) -> Option<io::ErrorKind> {
    match p {
        Poll::Ready(Err(e)) => Some(e.kind()),
        _ => None,
    }
}

#[test]
fn poll_wait_parks_then_event_wakes() {
    let poller = Poller::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let pd = poller.register(&mut a).unwrap();
    let task = Task::new();

    let mut buf = [0u8; 4];
    assert!(would_block(a.read(&mut buf)));
    assert!(task.wait(&pd, Direction::Read).is_pending());
    assert_eq!(task.wakes(), 0);

    b.write_all(b"ping").unwrap();
    poll_until(&poller, || task.wakes() > 0);
    assert_eq!(task.wakes(), 1);
    assert_eq!(poller.waiters(), 0);
    a.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    // The wake consumed the event: the next wait parks again rather than reporting stale readiness.
    assert!(task.wait(&pd, Direction::Read).is_pending());
}

#[test]
fn readiness_recorded_before_wait_is_consumed_once() {
    let poller = Poller::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    b.write_all(b"early").unwrap();
    // Registered while readable and writable: the first poll reports both, with nobody waiting.
    let pd = poller.register(&mut a).unwrap();
    let mut ready = Vec::new();
    assert_eq!(
        poller
            .poll(Some(Duration::from_secs(10)), &mut ready)
            .unwrap(),
        0
    );

    let task = Task::new();
    for dir in [Direction::Read, Direction::Write] {
        assert!(
            matches!(task.wait(&pd, dir), Poll::Ready(Ok(()))),
            "{dir:?}"
        );
        assert!(task.wait(&pd, dir).is_pending(), "{dir:?} consumed twice");
    }
    assert_eq!(poller.waiters(), 2);
    assert_eq!(task.wakes(), 0);
}

#[test]
fn wake_interrupts_blocking_poll() {
    let poller = Arc::new(Poller::new().unwrap());
    for _round in 0..2 {
        let (tx, rx) = mpsc::channel();
        let blocked = {
            let poller = poller.clone();
            std::thread::spawn(move || {
                tx.send(poller.poll(None, &mut Vec::new()).map_err(|e| e.kind()))
                    .unwrap()
            })
        };
        // Give it time to block (not required: a wake that lands first is kept pending for it).
        std::thread::sleep(Duration::from_millis(20));
        poller.wake().unwrap();
        poller.wake().unwrap(); // coalesced with the first
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(Ok(0)));
        blocked.join().unwrap();
    }
}

#[test]
fn pending_wake_survives_nonblocking_poll() {
    let poller = Arc::new(Poller::new().unwrap());
    poller.wake().unwrap();
    assert_eq!(
        poller.poll(Some(Duration::ZERO), &mut Vec::new()).unwrap(),
        0
    );
    // The break was aimed at a blocking poller: the next one must still get it.
    let (tx, rx) = mpsc::channel();
    let blocked = {
        let poller = poller.clone();
        std::thread::spawn(move || tx.send(poller.poll(None, &mut Vec::new()).is_ok()).unwrap())
    };
    let got = rx.recv_timeout(Duration::from_secs(10));
    if got.is_err() {
        poller.wake().unwrap(); // free the thread before failing
    }
    assert_eq!(got, Ok(true));
    blocked.join().unwrap();
}

#[test]
fn deadline_in_past_times_out_then_clearing_it_allows_wait() {
    let poller = Poller::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let pd = poller.register(&mut a).unwrap();
    let task = Task::new();

    let past = Instant::now();
    pd.set_deadline(Direction::Read, Some(past));
    assert_eq!(pd.deadline(Direction::Read), Some(past));
    assert_eq!(
        err_kind(task.wait(&pd, Direction::Read)),
        Some(io::ErrorKind::TimedOut)
    );
    assert_eq!(pd.deadline(Direction::Write), None);

    pd.set_deadline(Direction::Read, None);
    assert_eq!(pd.deadline(Direction::Read), None);
    assert!(task.wait(&pd, Direction::Read).is_pending());
    b.write_all(b"x").unwrap();
    poll_until(&poller, || task.wakes() == 1);
    assert_eq!(poller.waiters(), 0);
}

#[test]
fn set_deadline_wakes_current_waiter() {
    let poller = Poller::new().unwrap();
    let (mut a, _b) = UnixStream::pair().unwrap();
    let pd = poller.register(&mut a).unwrap();
    let task = Task::new();

    assert!(task.wait(&pd, Direction::Read).is_pending());
    let later = Instant::now() + Duration::from_secs(3600);
    pd.set_deadline(Direction::Read, Some(later));
    assert_eq!(task.wakes(), 1, "woken to re-arm its timer");
    assert_eq!(poller.waiters(), 0);
    assert_eq!(pd.deadline(Direction::Read), Some(later));

    // Still in the future: the woken task parks again.
    assert!(task.wait(&pd, Direction::Read).is_pending());
    // Moved into the past: woken again, and now it times out.
    pd.set_deadline(Direction::Read, Some(Instant::now()));
    assert_eq!(task.wakes(), 2);
    assert_eq!(
        err_kind(task.wait(&pd, Direction::Read)),
        Some(io::ErrorKind::TimedOut)
    );
    // The other direction was never touched.
    assert_eq!(pd.deadline(Direction::Write), None);
}

#[test]
fn close_wakes_waiters_with_error() {
    let poller = Poller::new().unwrap();
    let (mut a, _b) = UnixStream::pair().unwrap();
    let pd = poller.register(&mut a).unwrap();
    let reader = Task::new();
    let writer = Task::new();
    assert!(reader.wait(&pd, Direction::Read).is_pending());
    assert!(writer.wait(&pd, Direction::Write).is_pending());
    assert_eq!(poller.waiters(), 2);

    assert!(!pd.is_closed());
    pd.close();
    assert!(pd.is_closed());
    assert_eq!((reader.wakes(), writer.wakes()), (1, 1));
    assert_eq!(poller.waiters(), 0);
    for (task, dir) in [(&reader, Direction::Read), (&writer, Direction::Write)] {
        match task.wait(&pd, dir) {
            Poll::Ready(Err(e)) => {
                assert_eq!(e.kind(), io::ErrorKind::NotConnected);
                assert_eq!(e.to_string(), "use of closed network connection");
            }
            other => panic!("{dir:?}: expected the closed error, got {other:?}"),
        }
    }

    pd.close(); // idempotent: nobody to wake, nothing changes
    assert_eq!((reader.wakes(), writer.wakes()), (1, 1));
    // A closed descriptor reports closed even with a passed deadline (Go checks closing first).
    pd.set_deadline(Direction::Read, Some(Instant::now()));
    assert_eq!(
        err_kind(reader.wait(&pd, Direction::Read)),
        Some(io::ErrorKind::NotConnected)
    );
}

#[test]
fn hangup_makes_reader_ready() {
    let poller = Poller::new().unwrap();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let lpd = poller.register(&mut listener).unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();

    // Accept the Go way: try, and wait on the listener's descriptor when it would block.
    let accepter = Task::new();
    let mut server = None;
    poll_until(&poller, || match listener.accept() {
        Ok((s, _)) => {
            server = Some(s);
            true
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            assert!(!matches!(
                accepter.wait(&lpd, Direction::Read),
                Poll::Ready(Err(_))
            ));
            false
        }
        Err(e) => panic!("accept: {e}"),
    });
    let mut server: TcpStream = server.unwrap();
    let pd = poller.register(&mut server).unwrap();

    let task = Task::new();
    let mut buf = [0u8; 8];
    assert!(would_block(server.read(&mut buf)));
    assert!(task.wait(&pd, Direction::Read).is_pending());

    drop(client); // FIN: EPOLLIN|EPOLLRDHUP on the server side
    poll_until(&poller, || task.wakes() > 0);
    assert_eq!(server.read(&mut buf).unwrap(), 0, "EOF after the wake");
}

#[test]
fn waiters_counts_parked() {
    let poller = Poller::new().unwrap();
    let (mut a, mut a_peer) = UnixStream::pair().unwrap();
    let (mut c, _c_peer) = UnixStream::pair().unwrap();
    let pa = poller.register(&mut a).unwrap();
    let pc = poller.register(&mut c).unwrap();
    // Both fds are writable at registration, so one poll reports both; consume that readiness so the
    // writer below really parks.
    let mut ready = Vec::new();
    poller
        .poll(Some(Duration::from_secs(10)), &mut ready)
        .unwrap();
    let writer_c = Task::new();
    assert!(matches!(
        writer_c.wait(&pc, Direction::Write),
        Poll::Ready(Ok(()))
    ));
    assert_eq!(poller.waiters(), 0);

    let reader_a = Task::new();
    let reader_c = Task::new();
    assert!(reader_a.wait(&pa, Direction::Read).is_pending());
    assert!(reader_c.wait(&pc, Direction::Read).is_pending());
    assert!(writer_c.wait(&pc, Direction::Write).is_pending());
    assert_eq!(poller.waiters(), 3);

    // Re-polling a parked waiter is not a new waiter.
    assert!(reader_a.wait(&pa, Direction::Read).is_pending());
    assert_eq!(poller.waiters(), 3);

    a_peer.write_all(b"x").unwrap();
    poll_until(&poller, || reader_a.wakes() == 1);
    assert_eq!(poller.waiters(), 2);

    pc.close();
    assert_eq!(poller.waiters(), 0);

    // Dropping the last handle of a descriptor with a parked waiter uncounts it too.
    let mut buf = [0u8; 1];
    a.read_exact(&mut buf).unwrap();
    assert!(reader_a.wait(&pa, Direction::Read).is_pending());
    assert_eq!(poller.waiters(), 1);
    drop(pa);
    assert_eq!(poller.waiters(), 0);
}

#[test]
fn nonblocking_poll_returns_immediately() {
    let poller = Arc::new(Poller::new().unwrap());
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let pd = poller.register(&mut a).unwrap();
    let task = Task::new();
    assert!(task.wait(&pd, Direction::Read).is_pending());

    // Nothing ready: a zero timeout must not wait for the event that would otherwise end the call.
    let (tx, rx) = mpsc::channel();
    let zero = {
        let poller = poller.clone();
        std::thread::spawn(move || {
            let mut ready = Vec::new();
            let n = poller.poll(Some(Duration::ZERO), &mut ready).unwrap();
            tx.send((n, ready.len())).unwrap();
        })
    };
    let got = rx.recv_timeout(Duration::from_secs(10));
    if got.is_err() {
        b.write_all(b"free a regressed poller").unwrap();
    }
    assert_eq!(got, Ok((0, 0)));
    zero.join().unwrap();

    // With the event already there, a non-blocking poll returns its waker.
    b.write_all(b"x").unwrap();
    let mut ready = Vec::new();
    let mut n = 0;
    for _ in 0..1000 {
        n += poller.poll(Some(Duration::ZERO), &mut ready).unwrap();
        if n > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!((n, ready.len()), (1, 1));
}

#[test]
fn deregister_closes_descriptor_and_drops_later_events() {
    let poller = Poller::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let pd = poller.register(&mut a).unwrap();
    let task = Task::new();
    assert!(task.wait(&pd, Direction::Read).is_pending());

    poller.deregister(&pd, &mut a).unwrap();
    assert!(pd.is_closed());
    assert_eq!(task.wakes(), 1);
    assert_eq!(poller.waiters(), 0);
    b.write_all(b"x").unwrap();
    let mut ready = Vec::new();
    assert_eq!(
        poller
            .poll(Some(Duration::from_millis(10)), &mut ready)
            .unwrap(),
        0
    );

    let other = Poller::new().unwrap();
    let (mut c, _d) = UnixStream::pair().unwrap();
    let foreign = other.register(&mut c).unwrap();
    let err = poller.deregister(&foreign, &mut c).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(!foreign.is_closed());
}
