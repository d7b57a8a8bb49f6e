//! Test-only fault injection at the net layer's system-call boundary: a test can make the next calls
//! on one socket, in one direction, fail with an errno of its choosing, as if the kernel had
//! returned it. The hook is one call in `NetFd::poll_io_with` (fd.rs: `syscall`); this module, and
//! the hook's body, exist only in gort's own test build.
//!
//! Why: the faults real sockets can be pushed into (tests/tests/net_inject.rs: an EINTR storm,
//! EAGAIN storms, a reset mid-write, a peer that never reads; net_faults.rs: EMFILE) do not reach
//! every branch. A non-blocking `read`/`write` almost never returns EINTR, so the retry in Go's
//! `ignoringEINTRIO` (ours: the `Interrupted => continue` arm of the I/O loop) went unexercised, and
//! ENOBUFS, ENOMEM or an ECONNABORTED accept cannot be provoked on loopback at will. An injected
//! fault replaces the call (the call does not run, as with a real EINTR: nothing was transferred).
//!
//! Not injected: a spurious EAGAIN. The I/O loop parks on EAGAIN until the next edge-triggered
//! event, which is correct only because a socket that says EAGAIN really has nothing (or no room)
//! for this caller; the per-direction `FdMutex` keeps a second caller from taking the data between
//! the event and the call. An injected EAGAIN on a ready socket would wait for an edge that never
//! comes, which tests the injection, not the runtime.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use netpoll::Direction;

use crate::sched::schedt::Sched;

/// One planned call: fail with this errno, or (`None`) let the real call run.
pub(crate) type Step = Option<i32>;

/// Which calls a plan is for: one socket (its runtime and fd number) in one direction. Tests run
/// in parallel in one process, each on its own runtime; naming the runtime keeps a plan from
/// reaching another test's socket that got the same fd number (after a failed test closed its own
/// with steps left).
struct Key {
    /// Held weakly: it keeps the runtime's allocation, and so its address, from being reused by
    /// another test's runtime while the plan exists.
    sched: Weak<Sched>,
    fd: RawFd,
    dir: Direction,
}

impl Key {
    fn is(&self, sched: *const Sched, fd: RawFd, dir: Direction) -> bool {
        self.sched.as_ptr() == sched && self.fd == fd && self.dir == dir
    }
}

struct Plan {
    key: Key,
    steps: std::collections::VecDeque<Step>,
}

/// Any plan at all? Keeps the common case (no test injecting) to one load.
static ARMED: AtomicBool = AtomicBool::new(false);
static PLANS: Mutex<Vec<Plan>> = Mutex::new(Vec::new());

fn plans() -> std::sync::MutexGuard<'static, Vec<Plan>> {
    // A test that panicked while holding the lock leaves the plans as they were: still usable.
    PLANS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The key of `sock` in `dir`, for a caller running on the socket's runtime.
fn key_of(sock: &impl AsRawFd, dir: Direction) -> Key {
    let sched = crate::sched::boot::current().expect("fault plans are made inside a runtime");
    Key {
        sched: Arc::downgrade(&sched),
        fd: sock.as_raw_fd(),
        dir,
    }
}

/// Make the next `steps.len()` calls on `sock` in `dir` follow `steps`. Called inside the
/// socket's runtime.
pub(crate) fn inject(sock: &impl AsRawFd, dir: Direction, steps: impl IntoIterator<Item = Step>) {
    let key = key_of(sock, dir);
    let steps = steps.into_iter().collect();
    let mut plans = plans();
    let same = |p: &&mut Plan| p.key.is(key.sched.as_ptr(), key.fd, dir);
    match plans.iter_mut().find(same) {
        Some(p) => p.steps = steps,
        None => plans.push(Plan { key, steps }),
    }
    ARMED.store(true, Ordering::Release);
}

/// How many planned steps on `sock` in `dir` have not been used yet.
pub(crate) fn pending(sock: &impl AsRawFd, dir: Direction) -> usize {
    let key = key_of(sock, dir);
    plans()
        .iter()
        .find(|p| p.key.is(key.sched.as_ptr(), key.fd, dir))
        .map_or(0, |p| p.steps.len())
}

/// The hook: the error planned for this call on fd `fd` of runtime `sched`, in `dir`, if any.
pub(crate) fn take(sched: &Arc<Sched>, fd: RawFd, dir: Direction) -> Option<io::Error> {
    if !ARMED.load(Ordering::Acquire) {
        return None;
    }
    let mut plans = plans();
    let i = plans
        .iter()
        .position(|p| p.key.is(Arc::as_ptr(sched), fd, dir))?;
    let step = plans[i].steps.pop_front().flatten();
    if plans[i].steps.is_empty() {
        plans.swap_remove(i);
        // Under the lock, so an `inject` racing with this is not undone.
        ARMED.store(!plans.is_empty(), Ordering::Release);
    }
    step.map(io::Error::from_raw_os_error)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use netpoll::Direction::{Read, Write};

    use super::{inject, pending};
    use crate::net::{TcpListener, TcpStream, UdpSocket};

    fn on_two_ps<F: std::future::Future<Output = ()> + Send + 'static>(f: F) {
        let rt = crate::Builder::new().procs(2).build().unwrap();
        rt.block_on(f);
    }

    /// `n` steps alternating a fault and a real call, starting with the fault.
    fn every_other(errno: i32, n: usize) -> impl Iterator<Item = Option<i32>> {
        (0..n).map(move |i| (i % 2 == 0).then_some(errno))
    }

    /// `from` writes `msg` and `to` reads exactly it: the connection carries bytes.
    async fn carries(from: &TcpStream, to: &TcpStream, msg: &[u8]) {
        from.write_all(msg).await.unwrap();
        let mut got = vec![0u8; msg.len()];
        to.read_exact(&mut got).await.unwrap();
        assert_eq!(got, msg);
    }

    async fn pair() -> (TcpStream, TcpStream) {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(ln.local_addr().unwrap()).await.unwrap();
        let (server, _) = ln.accept().await.unwrap();
        (client, server)
    }

    /// Go's `ignoringEINTRIO`: EINTR from a read or a write is retried, never returned, and no
    /// byte is lost or doubled. Every other call on both ends fails with EINTR while 1 MiB goes
    /// across in writes of odd sizes.
    #[test]
    fn eintr_from_read_and_write_is_retried_and_loses_no_byte() {
        on_two_ps(async {
            let (client, server) = pair().await;
            let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
            inject(&client, Write, every_other(libc::EINTR, 200));
            inject(&server, Read, every_other(libc::EINTR, 400));
            let sent = data.clone();
            let writer = crate::go(async move {
                for chunk in sent.chunks(7919) {
                    client
                        .write_all(chunk)
                        .await
                        .expect("EINTR is not an error");
                }
                client
            });
            let mut got = Vec::with_capacity(data.len());
            let mut buf = vec![0u8; 4096];
            while got.len() < data.len() {
                let n = server.read(&mut buf).await.expect("EINTR is not an error");
                assert!(n > 0, "EOF after {} of {} bytes", got.len(), data.len());
                got.extend_from_slice(&buf[..n]);
            }
            let client = writer.await.unwrap();
            assert!(got == data, "the bytes arrived changed");
            assert_eq!(pending(&client, Write), 0, "faults left unused");
            assert_eq!(pending(&server, Read), 0, "faults left unused");
        });
    }

    /// ENOBUFS from a write is the caller's error, as in Go, and the connection goes on: the next
    /// write succeeds and the peer receives exactly the bytes whose writes were acknowledged.
    /// Another connection of the same runtime is not disturbed meanwhile.
    #[test]
    fn enobufs_from_a_write_is_returned_and_the_connection_goes_on() {
        on_two_ps(async {
            let (client, server) = pair().await;
            let (other_c, other_s) = pair().await;
            inject(&client, Write, [Some(libc::ENOBUFS)]);
            let err = client
                .write(b"lost")
                .await
                .expect_err("the injected ENOBUFS");
            assert_eq!(err.raw_os_error(), Some(libc::ENOBUFS), "{err}");
            client.write_all(b"kept").await.unwrap();
            client.shutdown(std::net::Shutdown::Write).unwrap();
            carries(&other_c, &other_s, b"unrelated").await;
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            loop {
                match server.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
            assert_eq!(got, b"kept", "only the acknowledged write arrives");
        });
    }

    /// An error from `accept` (here ENOMEM, which Linux returns when it cannot allocate the new
    /// socket) is returned and the listener keeps serving: the connection that was waiting is
    /// accepted by the next call and carries bytes.
    #[test]
    fn an_accept_error_is_returned_and_the_listener_keeps_serving() {
        on_two_ps(async {
            let ln = TcpListener::bind("127.0.0.1:0").unwrap();
            let client = TcpStream::connect(ln.local_addr().unwrap()).await.unwrap();
            inject(&ln, Read, [Some(libc::EINTR), Some(libc::ENOMEM)]);
            let err = ln.accept().await.expect_err("the injected ENOMEM");
            assert_eq!(err.raw_os_error(), Some(libc::ENOMEM), "{err}");
            let (server, _) = ln.accept().await.expect("the listener keeps serving");
            carries(&client, &server, b"hi").await;
            assert_eq!(pending(&ln, Read), 0);
        });
    }

    /// Go's accept loop skips ECONNABORTED (a connection whose peer gave up while it sat in the
    /// listen queue): the caller never sees it and gets the next connection.
    #[test]
    fn a_connection_aborted_in_the_queue_is_skipped_by_accept() {
        on_two_ps(async {
            let ln = TcpListener::bind("127.0.0.1:0").unwrap();
            let client = TcpStream::connect(ln.local_addr().unwrap()).await.unwrap();
            inject(
                &ln,
                Read,
                [Some(libc::ECONNABORTED), Some(libc::ECONNABORTED)],
            );
            let (server, _) = ln.accept().await.expect("ECONNABORTED is skipped");
            assert_eq!(pending(&ln, Read), 0);
            carries(&server, &client, b"ok").await;
        });
    }

    /// A datagram socket: ENOMEM from one `send_to` is returned, EINTR on the receiving side is
    /// retried, and exactly the datagrams whose sends succeeded arrive, in order.
    #[test]
    fn a_failed_datagram_send_is_returned_and_later_ones_arrive() {
        on_two_ps(async {
            let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            let to = rx.local_addr().unwrap();
            inject(&tx, Write, [None, Some(libc::ENOMEM)]);
            inject(&rx, Read, every_other(libc::EINTR, 6));
            let mut sent = Vec::new();
            for i in 0u8..5 {
                match tx.send_to(&[i], to).await {
                    Ok(1) => sent.push(i),
                    Ok(n) => panic!("a one-byte datagram sent as {n}"),
                    Err(e) => assert_eq!(e.raw_os_error(), Some(libc::ENOMEM), "{e}"),
                }
            }
            assert_eq!(sent, [0, 2, 3, 4], "the second send should have failed");
            let mut got = Vec::new();
            let mut buf = [0u8; 8];
            for _ in 0..sent.len() {
                let r = crate::time::timeout(Duration::from_secs(5), rx.recv_from(&mut buf)).await;
                let (n, _) = r.expect("a datagram that was sent is lost").unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, sent);
            assert_eq!(pending(&tx, Write), 0);
            assert_eq!(pending(&rx, Read), 0);
        });
    }
}
