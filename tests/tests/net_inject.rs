//! Faults injected under the netpoller and the net layer, with real sockets and real signals: an
//! EINTR storm, EAGAIN storms (tiny socket buffers, a trickling reader), a connection reset in the
//! middle of a large write, and a peer that never reads. (Accept under EMFILE is in net_faults.rs,
//! in a child process with a lowered fd limit.) Each test checks that the runtime keeps serving —
//! other connections, timers and channels go on — and that no byte the runtime reported as written
//! is lost or altered on a connection that stays up.
//!
//! Its own test binary: the EINTR storm signals every thread of the process.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gort::net::{TcpListener, TcpStream};
use gort::Builder;
use tests::{bounded, fill, matches};

fn rt(procs: usize) -> gort::Runtime {
    Builder::new().procs(procs).build().expect("runtime")
}

async fn pair_on(ln: &TcpListener) -> (TcpStream, TcpStream) {
    let addr = ln.local_addr().unwrap();
    let client = gort::go(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = ln.accept().await.unwrap();
    (client.await.unwrap(), server)
}

/// Shrink a socket's kernel buffers so that every few KiB a read or write finds it empty or full.
fn tiny_buffers(fd: i32) {
    for opt in [libc::SO_SNDBUF, libc::SO_RCVBUF] {
        let v: libc::c_int = 2048;
        // SAFETY: `v` is a valid c_int that outlives the call; the length is its size.
        let r = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(r, 0, "setsockopt: {}", io::Error::last_os_error());
    }
}

/// Echo one connection's bytes back, in reads of any size.
async fn echo(conn: TcpStream) {
    let mut buf = vec![0u8; 8192];
    loop {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if conn.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Send `len` patterned bytes of connection `id` through an echo server and check every byte that
/// comes back.
async fn echo_round_trip(addr: std::net::SocketAddr, id: usize, len: usize) -> io::Result<()> {
    let conn = TcpStream::connect(addr).await?;
    let (mut rd, mut wr) = conn.into_split();
    let writer = gort::go(async move {
        let mut buf = vec![0u8; 4096];
        let mut off = 0;
        while off < len {
            let n = buf.len().min(len - off);
            fill(id, off, &mut buf[..n]);
            wr.write_all(&buf[..n]).await?;
            off += n;
        }
        Ok::<_, io::Error>(wr)
    });
    let mut buf = vec![0u8; 4096];
    let mut off = 0;
    while off < len {
        let n = buf.len().min(len - off);
        rd.read_exact(&mut buf[..n]).await?;
        assert!(
            matches(id, off, &buf[..n]),
            "conn {id}: bytes altered at {off}"
        );
        off += n;
    }
    writer.await.expect("writer G")?;
    Ok(())
}

// ---- EINTR ----------------------------------------------------------------------------------------

static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count_signal(_: libc::c_int) {
    // Only an atomic add: async-signal-safe.
    SIGNALS.fetch_add(1, Ordering::Relaxed);
}

/// Install a do-nothing handler for SIGWINCH *without* SA_RESTART, so every blocking system call a
/// signal lands in (epoll_wait above all, which the kernel never restarts) fails with EINTR.
fn install_eintr_handler() {
    // SAFETY: a zeroed sigaction is a valid starting value; the handler only does an atomic add,
    // which is async-signal-safe; SIGWINCH is not used by anything else in this test binary.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = count_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        sa.sa_flags = 0; // no SA_RESTART
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGWINCH, &sa, std::ptr::null_mut()),
            0
        );
    }
}

/// Signal every thread of this process with SIGWINCH, over and over, until `stop`.
fn signal_storm(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let mut sent = 0;
        while !stop.load(Ordering::Relaxed) {
            if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
                for t in tasks.flatten() {
                    let Some(tid) = t.file_name().to_str().and_then(|s| s.parse::<i32>().ok())
                    else {
                        continue;
                    };
                    // SAFETY: tgkill with this process's id and one of its thread ids; a thread
                    // that has exited meanwhile gives ESRCH, which is ignored.
                    if unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, libc::SIGWINCH) } == 0 {
                        sent += 1;
                    }
                }
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        sent
    })
}

#[test]
fn an_eintr_storm_interrupts_nothing_the_runtime_serves() {
    install_eintr_handler();
    let stop = Arc::new(AtomicBool::new(false));
    let storm = signal_storm(stop.clone());
    rt(2).block_on(bounded(120, async {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = ln.local_addr().unwrap();
        let server = gort::go(async move {
            while let Ok((c, _)) = ln.accept().await {
                gort::go(echo(c));
            }
        });
        // TCP echo, timers and channels, all while the signals land; rounds until at least 300
        // signals were handled and half a second has passed.
        let t0 = Instant::now();
        let mut rounds = 0;
        while rounds == 0
            || SIGNALS.load(Ordering::Relaxed) < 300
            || t0.elapsed() < Duration::from_millis(500)
        {
            rounds += 1;
            storm_round(addr).await;
        }
        server.abort();
    }));
    stop.store(true, Ordering::Relaxed);
    let sent = storm.join().unwrap();
    let got = SIGNALS.load(Ordering::Relaxed);
    assert!(
        sent > 0 && got >= 300,
        "the storm sent {sent} signals, {got} handled"
    );
}

/// One round of the EINTR test's work: echo, timers, a channel, a blocking section.
async fn storm_round(addr: std::net::SocketAddr) {
    {
        let mut hs = Vec::new();
        for id in 0..8 {
            hs.push(gort::go(async move {
                for round in 0..5 {
                    echo_round_trip(addr, id * 10 + round, 64 * 1024)
                        .await
                        .unwrap();
                    let t = Instant::now();
                    gort::time::sleep(Duration::from_millis(2)).await;
                    assert!(
                        t.elapsed() >= Duration::from_millis(2),
                        "a timer fired early"
                    );
                }
            }));
        }
        let (tx, rx) = gort::chan::channel::<u64>(0);
        let producer = gort::go(async move {
            for i in 0..20_000 {
                tx.send(i).await.unwrap();
            }
        });
        let mut sum = 0;
        while let Some(v) = rx.recv().await {
            sum += v;
        }
        assert_eq!(sum, 20_000 * 19_999 / 2);
        producer.await.unwrap();
        // A blocking section sleeping through signals (std's sleep resumes after EINTR).
        gort::blocking(|| std::thread::sleep(Duration::from_millis(20)));
        for h in hs {
            h.await.unwrap();
        }
    }
}

// ---- EAGAIN storms --------------------------------------------------------------------------------

#[test]
fn eagain_storms_on_tiny_buffers_lose_and_reorder_nothing() {
    // 2 KiB socket buffers both ways (and no Nagle, or tiny windows wait on delayed ACKs), a writer
    // of 64 KiB in 16 KiB writes and a reader that takes
    // 1–700 bytes at a time and yields between reads: almost every read and write hits EAGAIN
    // (WouldBlock) and parks. Every byte must arrive, in order.
    const LEN: usize = 64 << 10;
    rt(2).block_on(bounded(120, async {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut hs = Vec::new();
        for id in 0..4 {
            let (c, s) = pair_on(&ln).await;
            tiny_buffers(c.as_raw_fd());
            tiny_buffers(s.as_raw_fd());
            c.set_nodelay(true).unwrap();
            s.set_nodelay(true).unwrap();
            hs.push(gort::go(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut off = 0;
                while off < LEN {
                    let n = buf.len().min(LEN - off);
                    fill(id, off, &mut buf[..n]);
                    c.write_all(&buf[..n]).await.unwrap();
                    off += n;
                }
                c.shutdown(std::net::Shutdown::Write).unwrap();
            }));
            hs.push(gort::go(async move {
                let mut buf = vec![0u8; 700];
                let (mut off, mut step) = (0, 1);
                loop {
                    let n = s.read(&mut buf[..step]).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    assert!(
                        matches(id, off, &buf[..n]),
                        "conn {id}: bytes altered at {off}"
                    );
                    off += n;
                    step = step * 7 % 700 + 1;
                    gort::yield_now().await;
                }
                assert_eq!(off, LEN, "conn {id}: bytes lost");
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
    }));
}

// ---- ECONNRESET mid-write -------------------------------------------------------------------------

#[test]
fn a_reset_mid_write_fails_the_writer_and_the_listener_keeps_serving() {
    // The writer sends 8 MiB; the peer reads 100 KiB of it, then closes with SO_LINGER 0 (an RST).
    // The writer must get an error (ECONNRESET or EPIPE), not hang or panic; the bytes the peer read
    // are exactly the start of what was written; and the same listener then serves a new
    // connection, while an unrelated connection opened before the reset keeps working.
    const LEN: usize = 8 << 20;
    const READ: usize = 100 * 1024;
    rt(2).block_on(bounded(120, async {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let (bystander_c, bystander_s) = pair_on(&ln).await;
        let (c, s) = pair_on(&ln).await;
        let writer = gort::go(async move {
            let mut buf = vec![0u8; 64 * 1024];
            let mut off = 0;
            while off < LEN {
                let n = buf.len().min(LEN - off);
                fill(7, off, &mut buf[..n]);
                match c.write(&buf[..n]).await {
                    Ok(k) => off += k,
                    Err(e) => return (off, Some(e)),
                }
            }
            (off, None)
        });
        let mut got = vec![0u8; READ];
        s.read_exact(&mut got).await.unwrap();
        assert!(
            matches(7, 0, &got),
            "the peer's bytes are not the start of the stream"
        );
        s.set_linger(Some(Duration::ZERO)).unwrap();
        drop(s); // RST
        let (written, err) = writer.await.unwrap();
        let err = err.expect("8 MiB were all written to a peer that reset after 100 KiB");
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ),
            "unexpected error after a reset: {err}"
        );
        assert!(
            written >= READ,
            "reported {written} bytes written, the peer read {READ}"
        );

        // The runtime keeps serving: the bystander, and a new connection on the same listener.
        bystander_c.write_all(b"still here").await.unwrap();
        let mut b = [0u8; 10];
        bystander_s.read_exact(&mut b).await.unwrap();
        assert_eq!(&b, b"still here");
        let (c2, s2) = pair_on(&ln).await;
        c2.write_all(b"new").await.unwrap();
        let mut b = [0u8; 3];
        s2.read_exact(&mut b).await.unwrap();
        assert_eq!(&b, b"new");
    }));
}

// ---- a peer that never reads ----------------------------------------------------------------------

#[test]
fn a_peer_that_never_reads_parks_the_writer_without_losing_a_byte() {
    // The peer reads nothing for 300 ms. The writer fills the socket and then parks (it must not
    // spin: it is polled only a handful of times while parked) until its write deadline; the
    // runtime meanwhile serves an echo connection. Then the peer reads everything: exactly the bytes
    // the writer was told were written, unaltered.
    rt(2).block_on(bounded(120, async {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = ln.local_addr().unwrap();
        let (c, s) = pair_on(&ln).await;
        let polls = Arc::new(AtomicUsize::new(0));
        let p = polls.clone();
        let writer = gort::go(async move {
            c.set_write_deadline(Some(Instant::now() + Duration::from_millis(300)))
                .unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            let mut off = 0;
            let err = loop {
                fill(9, off, &mut buf);
                let w = c.write(&buf);
                let r = CountPolls {
                    fut: Box::pin(w),
                    polls: p.clone(),
                }
                .await;
                match r {
                    Ok(k) => off += k,
                    Err(e) => break e,
                }
                p.store(0, Ordering::Relaxed); // count only the last, parked write's polls
            };
            (off, err, c)
        });
        // The runtime keeps serving while the writer is stuck.
        let echo_server = gort::go(async move {
            let (conn, _) = ln.accept().await.unwrap();
            echo(conn).await;
        });
        echo_round_trip(addr, 1, 256 * 1024).await.unwrap();
        let (written, err, c) = writer.await.unwrap();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        let polls = polls.load(Ordering::Relaxed);
        assert!(
            polls <= 10,
            "the blocked write was polled {polls} times: it spun"
        );
        assert!(written > 0);
        drop(c); // FIN after the last accepted byte
        let mut buf = vec![0u8; 64 * 1024];
        let mut off = 0;
        loop {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            assert!(matches(9, off, &buf[..n]), "bytes altered at {off}");
            off += n;
        }
        assert_eq!(
            off, written,
            "the peer got {off} bytes; the writer was told {written}"
        );
        echo_server.abort();
    }));
}

/// Counts how many times the wrapped future is polled: a parked G is polled again only if woken.
struct CountPolls<F> {
    fut: std::pin::Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: std::future::Future> std::future::Future for CountPolls<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.fut.as_mut().poll(cx)
    }
}
