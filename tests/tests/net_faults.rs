//! Failure paths of gort::net: peer resets, closing a socket under a waiting G, fd-number reuse,
//! fd exhaustion at accept, and Gs dropped while they wait on I/O. Each must end in an error or
//! clean progress, never a panic, a hang or a stale wake-up.
//!
//! These tests watch fd numbers, so they run one at a time (`SERIAL`); the fd-exhaustion test
//! runs in a child process so its lowered fd limit touches nothing else.

use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use gort::net::{TcpListener, TcpStream};
use gort::time::{sleep, timeout};
use gort::Builder;
use tests::bounded;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn rt() -> gort::Runtime {
    Builder::new().procs(2).build().expect("runtime")
}

async fn pair_on(ln: &TcpListener) -> (TcpStream, TcpStream) {
    let addr = ln.local_addr().unwrap();
    let client = gort::go(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = ln.accept().await.unwrap();
    (client.await.unwrap(), server)
}

async fn pair() -> (TcpStream, TcpStream) {
    let ln = TcpListener::bind("127.0.0.1:0").unwrap();
    pair_on(&ln).await
}

/// Counts how many times the wrapped future is polled: a parked G is polled again only if woken.
struct CountPolls<F> {
    fut: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.fut.as_mut().poll(cx)
    }
}

#[test]
fn peer_reset_surfaces_as_connection_reset_on_the_next_read() {
    let _s = serial();
    rt().block_on(bounded(60, async {
        let (client, server) = pair().await;
        let reader = gort::go(async move {
            server.write_all(b"x").await.unwrap();
            let mut buf = [0u8; 8];
            let first = server.read(&mut buf).await; // parks until the reset arrives
            let later = server.write_all(&[0u8; 1024]).await;
            (first, later)
        });
        let mut b = [0u8; 1];
        client.read_exact(&mut b).await.unwrap(); // the connection is fully accepted
        client.set_linger(Some(Duration::ZERO)).unwrap();
        drop(client); // sends RST
        let (first, later) = reader.await.unwrap();
        assert_eq!(first.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
        let later = later.unwrap_err().kind();
        assert!(
            matches!(
                later,
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ),
            "write after reset: {later:?}"
        );
    }));
}

#[test]
fn closing_the_write_half_wakes_a_reader_on_the_read_half_with_an_error() {
    let _s = serial();
    rt().block_on(bounded(60, async {
        let (client, _server) = pair().await;
        let (mut r, w) = client.into_split();
        let reader = gort::go(async move {
            let mut buf = [0u8; 8];
            let res = r.read(&mut buf).await;
            (res, r)
        });
        sleep(Duration::from_millis(20)).await; // let it park (the test holds either way)
        w.close();
        let (res, r) = reader.await.unwrap();
        assert_eq!(res.unwrap_err().kind(), io::ErrorKind::NotConnected);
        let mut buf = [0u8; 8];
        let mut r = r;
        assert!(r.read(&mut buf).await.is_err(), "read after close");
    }));
}

#[test]
fn closing_a_shared_stream_fails_the_waiting_reader_and_the_queued_one() {
    let _s = serial();
    rt().block_on(bounded(60, async {
        let (client, _server) = pair().await;
        let client = Arc::new(client);
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let c = client.clone();
                gort::go(async move {
                    let mut buf = [0u8; 8];
                    c.read(&mut buf).await
                })
            })
            .collect();
        sleep(Duration::from_millis(20)).await; // one parks on the socket, one on the read lock
        client.close();
        for r in readers {
            assert_eq!(
                r.await.unwrap().unwrap_err().kind(),
                io::ErrorKind::NotConnected
            );
        }
    }));
}

#[test]
fn closing_a_listener_wakes_a_g_waiting_in_accept() {
    let _s = serial();
    rt().block_on(bounded(60, async {
        let ln = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
        let acceptor = {
            let ln = ln.clone();
            gort::go(async move { ln.accept().await.map(|_| ()) })
        };
        sleep(Duration::from_millis(20)).await;
        ln.close();
        assert_eq!(
            acceptor.await.unwrap().unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );
    }));
}

#[test]
fn a_new_socket_reusing_a_closed_fd_number_gets_no_stale_wakeup() {
    let _s = serial();
    rt().block_on(bounded(60, async {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let (old, old_peer) = pair_on(&ln).await;
        let old_fd = old.as_raw_fd();

        // A reader parks on `old`; closing it wakes the reader with an error.
        let (mut r, w) = old.into_split();
        let reader = gort::go(async move {
            let mut buf = [0u8; 8];
            r.read(&mut buf).await.map(|_| ())
        });
        sleep(Duration::from_millis(20)).await;
        w.close();
        assert!(reader.await.unwrap().is_err());
        drop(w); // the last handle: the fd number is free now

        // New sockets until one gets the old number (the lowest free fd, so almost at once).
        let mut keep = Vec::new();
        let mut reused = None;
        for _ in 0..64 {
            let (c, s) = pair_on(&ln).await;
            if c.as_raw_fd() == old_fd {
                reused = Some((c, s));
                break;
            }
            if s.as_raw_fd() == old_fd {
                reused = Some((s, c));
                break;
            }
            keep.push((c, s));
        }
        let (fresh, fresh_peer) = reused.expect("fd number was never reused");

        let polls = Arc::new(AtomicUsize::new(0));
        let reader = gort::go(CountPolls {
            fut: Box::pin(async move {
                let mut buf = [0u8; 16];
                let n = fresh.read(&mut buf).await.unwrap();
                buf[..n].to_vec()
            }),
            polls: polls.clone(),
        });
        for _ in 0..1000 {
            if polls.load(Ordering::SeqCst) > 0 {
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(polls.load(Ordering::SeqCst), 1, "reader never parked");

        // Activity on the old connection's peer: with a stale registration, these events (the
        // old socket's number is the new one's) would reach the new reader.
        let _ = old_peer.write_all(b"to the dead socket").await;
        drop(old_peer);
        sleep(Duration::from_millis(50)).await;
        assert_eq!(
            polls.load(Ordering::SeqCst),
            1,
            "the new socket's reader was woken by the old socket"
        );

        fresh_peer.write_all(b"fresh").await.unwrap();
        assert_eq!(reader.await.unwrap(), b"fresh");
        drop(keep);
    }));
}

#[test]
fn aborting_a_g_waiting_in_accept_closes_the_listener_so_the_port_can_be_rebound() {
    let _s = serial();
    rt().block_on(bounded(60, async {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = ln.local_addr().unwrap();
        let g = gort::go(async move {
            let _ = ln.accept().await;
        });
        sleep(Duration::from_millis(20)).await;
        g.abort();
        assert!(g.await.unwrap_err().is_cancelled());
        // The listener was dropped with the G: its port is free again, and the new listener works.
        let again = TcpListener::bind(addr).expect("port still bound after abort");
        let (c, s) = pair_on(&again).await;
        c.write_all(b"ok").await.unwrap();
        let mut buf = [0u8; 2];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    }));
}

#[test]
fn aborting_a_g_waiting_in_read_closes_its_socket_and_others_keep_working() {
    let _s = serial();
    rt().block_on(bounded(60, async {
        let (client, server) = pair().await;
        let g = gort::go(async move {
            let mut buf = [0u8; 8];
            let _ = server.read(&mut buf).await;
        });
        sleep(Duration::from_millis(20)).await;
        g.abort();
        assert!(g.await.unwrap_err().is_cancelled());
        // The server end went with the G: the client reads EOF.
        let mut buf = [0u8; 8];
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        // And the poller still serves other sockets.
        let (a, b) = pair().await;
        a.write_all(b"alive").await.unwrap();
        let mut buf = [0u8; 5];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"alive");
    }));
}

#[test]
fn dropping_a_read_future_mid_wait_leaves_the_socket_usable() {
    let _s = serial();
    rt().block_on(bounded(60, async {
        let (client, server) = pair().await;
        let mut buf = [0u8; 8];
        // A read abandoned by a timeout: it held the read lock and the wait slot.
        assert!(timeout(Duration::from_millis(20), server.read(&mut buf))
            .await
            .is_err());
        client.write_all(b"after").await.unwrap();
        server.read_exact(&mut buf[..5]).await.unwrap();
        assert_eq!(&buf[..5], b"after");
    }));
}

// ---- accept under fd exhaustion (child process) --------------------------------------------------

const EMFILE_CHILD: &str = "GORT_NET_FAULTS_EMFILE_CHILD";
const EMFILE_TEST: &str = "accept_under_fd_exhaustion_returns_the_error_and_works_once_fds_free_up";

#[test]
fn accept_under_fd_exhaustion_returns_the_error_and_works_once_fds_free_up() {
    if std::env::var_os(EMFILE_CHILD).is_some() {
        emfile_child();
        return;
    }
    let _s = serial();
    let exe = std::env::current_exe().unwrap();
    let child = Command::new(exe)
        .args([EMFILE_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(EMFILE_CHILD, "1")
        .spawn()
        .unwrap();
    let status = tests::wait_child_within(child, Duration::from_secs(120)).status;
    assert!(status.success(), "the fd-exhaustion child failed: {status}");
}

/// Runs in the child: fill the fd table, then accept.
fn emfile_child() {
    rt().block_on(bounded(60, async {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = ln.local_addr().unwrap();
        // A connection waits in the backlog (the kernel completes it without accept).
        let early = TcpStream::connect(addr).await.unwrap();

        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `rl` is a valid rlimit for getrlimit to fill.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) }, 0);
        rl.rlim_cur = rl.rlim_cur.min(256);
        // SAFETY: `rl` is a valid rlimit; lowering the soft limit is always allowed.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) }, 0);
        let mut fillers = Vec::new();
        let full = loop {
            match std::fs::File::open("/dev/null") {
                Ok(f) => fillers.push(f),
                Err(e) => break e,
            }
            assert!(fillers.len() <= 256, "fd limit not enforced");
        };
        assert_eq!(full.raw_os_error(), Some(libc::EMFILE), "{full}");

        for _ in 0..3 {
            let err = ln
                .accept()
                .await
                .expect_err("accept succeeded with a full fd table");
            assert!(
                matches!(err.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE)),
                "unexpected accept error: {err}"
            );
        }

        drop(fillers);
        let (s, _) = ln.accept().await.expect("accept after fds were freed");
        early.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");

        // And the listener keeps serving new connections.
        let (c, s) = pair_on(&ln).await;
        c.write_all(b"pong").await.unwrap();
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
    }));
}

#[test]
fn a_socket_whose_runtime_is_gone_fails_to_wait_instead_of_hanging() {
    let (a, b) = rt().block_on(async { gort::net::UnixStream::pair().unwrap() });
    // That runtime is dropped: nothing polls the netpoller the pair is registered with.
    let (read, write) = rt().block_on(bounded(5, async move {
        let mut buf = [0u8; 4];
        let read = a.read(&mut buf).await; // nothing to read: it would have to wait
        let write = b.write_all(b"ok").await; // no wait needed: still works
        (read, write)
    }));
    let err = read.expect_err("a read that can only wait on a dead netpoller");
    assert!(err.to_string().contains("shut down"), "{err}");
    assert!(write.is_ok(), "{write:?}");
}

/// The socket's `SO_LINGER`: (on, seconds).
fn linger_of(fd: std::os::fd::RawFd) -> (bool, i32) {
    let mut val = libc::linger {
        l_onoff: 0,
        l_linger: 0,
    };
    let mut len = std::mem::size_of::<libc::linger>() as libc::socklen_t;
    // SAFETY: `val` and `len` are live locals of the sizes passed; `fd` is an open socket.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&mut val as *mut libc::linger).cast(),
            &mut len,
        )
    };
    assert_eq!(r, 0, "{}", io::Error::last_os_error());
    (val.l_onoff != 0, val.l_linger)
}

#[test]
fn a_sub_second_linger_rounds_up_instead_of_becoming_a_reset() {
    // SO_LINGER counts whole seconds, and 0 means "discard unsent data and reset": half a second
    // of graceful close must not turn into that.
    rt().block_on(bounded(10, async {
        let (client, _server) = pair().await;
        for (asked, secs) in [
            (Duration::from_millis(500), 1),
            (Duration::from_millis(1500), 2),
            (Duration::from_secs(3), 3),
            (Duration::ZERO, 0),
            (Duration::MAX, i32::MAX),
        ] {
            client.set_linger(Some(asked)).unwrap();
            assert_eq!(linger_of(client.as_raw_fd()), (true, secs), "{asked:?}");
        }
        client.set_linger(None).unwrap();
        assert!(!linger_of(client.as_raw_fd()).0);
    }));
}
