//! Helpers shared by the integration tests in `tests/tests/`.

use std::future::Future;
use std::io;
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::Duration;

use gort::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite};
use gort::net::{tcp, unix};
use gort::time::timeout;

/// Run `fut` in its own G and fail (instead of hanging) if it has not finished in `secs` seconds.
/// Its own G, so the guard's timer cannot wake (and so rescue) a G the test expects to wake.
pub async fn bounded<F>(secs: u64, fut: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match timeout(Duration::from_secs(secs), gort::go(fut)).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => match e.try_into_panic() {
            Ok(p) => std::panic::resume_unwind(p),
            Err(e) => panic!("test G failed: {e}"),
        },
        Err(_) => panic!("did not finish within {secs}s"),
    }
}

/// A hang is a failure, not a stuck CI job.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Run `test` on a fresh runtime with `procs` Ps, on its own thread, failing if it has not finished
/// within `LIMIT`. The limit is watched from outside the runtime, so it arms no runtime timer, and the
/// runtime's shutdown happens after the verdict.
pub fn limited<F>(procs: usize, test: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        let rt = gort::Builder::new().procs(procs).build().expect("runtime");
        rt.block_on(test);
        let _ = tx.send(());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = t.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test did not finish within {LIMIT:?}"),
    }
}

/// Run `fut` as the main G of a fresh runtime with `procs` Ps, on a thread of its own, and return
/// its output, failing if it has not finished within `limit`. As with [`limited`], the limit is
/// watched from outside the runtime, so it arms no runtime timer. Unlike [`limited`], the runtime's
/// shutdown is waited for after the verdict, so a panic there fails the test too, and the next test
/// starts with this runtime gone (what a test of process-wide state, such as signals, needs).
pub fn run_within<F>(procs: usize, limit: Duration, fut: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        let rt = gort::Builder::new().procs(procs).build().expect("runtime");
        let _ = tx.send(rt.block_on(fut));
    });
    match rx.recv_timeout(limit) {
        Ok(v) => {
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p);
            }
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match t.join() {
            Err(p) => std::panic::resume_unwind(p),
            Ok(()) => unreachable!("the runtime thread ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the program did not finish within {limit:?}")
        }
    }
}

/// Wait at most `limit` for `child` to end, collecting what it writes to its piped stdout and
/// stderr meanwhile (on threads of their own, so a chatty child never stalls on a full pipe). Past
/// the limit the child is killed and this panics with its stderr: a test never hangs on a child.
pub fn wait_child_within(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    fn drain<R: io::Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<Vec<u8>> {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    }
    let (out, err) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the child") {
            break Some(s);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let stdout = out.join().expect("stdout reader");
    let stderr = err.join().expect("stderr reader");
    match status {
        Some(status) => std::process::Output {
            status,
            stdout,
            stderr,
        },
        None => panic!(
            "the child did not end within {limit:?} (killed); its stderr:\n{}",
            String::from_utf8_lossy(&stderr)
        ),
    }
}

// ---- Go's test helpers ----------------------------------------------------------------------------

/// Go's `testBlock` (test/chan/select3.go), for the ports of Go's channel tests: run `f` in a G and
/// report whether it was still blocked after a while. Go waits 0.1 s either way; here 0.1 s when `f`
/// must block (it blocks forever, so the time only bounds the test) and up to 10 s when it must not
/// (a loaded machine may take longer than 0.1 s to run a G, and a wrong "blocked" verdict would be a
/// flake).
pub async fn blocks<F: Future<Output = ()> + Send + 'static>(expect_block: bool, f: F) -> bool {
    let mut h = gort::go(f);
    let wait = if expect_block {
        Duration::from_millis(100)
    } else {
        Duration::from_secs(10)
    };
    match timeout(wait, &mut h).await {
        Ok(r) => {
            r.expect("the G under test panicked");
            false
        }
        Err(_) => {
            h.abort();
            true
        }
    }
}

// ---- a deterministic per-connection byte pattern ---------------------------------------------------

/// A prime-length table of pseudo-random bytes; connection `c`'s byte at offset `i` is
/// `TABLE[(i + c * 7919) % P]`, so a byte from the wrong connection or offset does not match.
const P: usize = 65_521;

fn table() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..P)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    })
}

/// Visit the expected bytes for `len` bytes of connection `conn` from offset `off`, in slices.
fn expected(conn: usize, off: usize, len: usize, mut f: impl FnMut(usize, &[u8])) {
    let t = table();
    let mut pos = (off + conn * 7919) % P;
    let mut i = 0;
    while i < len {
        let n = (P - pos).min(len - i);
        f(i, &t[pos..pos + n]);
        i += n;
        pos = 0;
    }
}

/// Fill `buf` with connection `conn`'s bytes from offset `off`.
pub fn fill(conn: usize, off: usize, buf: &mut [u8]) {
    expected(conn, off, buf.len(), |i, s| {
        buf[i..i + s.len()].copy_from_slice(s)
    });
}

/// Whether `data` is connection `conn`'s bytes from offset `off`.
pub fn matches(conn: usize, off: usize, data: &[u8]) -> bool {
    let mut ok = true;
    expected(conn, off, data.len(), |i, s| {
        ok &= &data[i..i + s.len()] == s
    });
    ok
}

/// Raise the soft RLIMIT_NOFILE to at least `min` within the hard limit; false (with a message) if the
/// hard limit is too low, so the caller skips.
pub fn ensure_nofile(min: u64) -> bool {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `rl` is a valid rlimit for getrlimit to fill.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) }, 0);
    if rl.rlim_cur >= min {
        return true;
    }
    if rl.rlim_max < min {
        eprintln!(
            "skipping: RLIMIT_NOFILE hard limit {} is below the {min} this test needs",
            rl.rlim_max
        );
        return false;
    }
    rl.rlim_cur = min;
    // SAFETY: `rl` is a valid rlimit; raising the soft limit within the hard limit is allowed.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) }, 0);
    true
}

// ---- signals ---------------------------------------------------------------------------------------

/// Send `sig` to this process. The caller must have installed a handler for it first (or the
/// default action, often the end of the process, happens).
pub fn raise(sig: i32) {
    // SAFETY: sending a signal to our own process; the caller installed a handler for it.
    assert_eq!(unsafe { libc::kill(libc::getpid(), sig) }, 0);
}

/// Whether `sig`'s disposition is the default action (nobody listens for it).
pub fn is_default(sig: i32) -> bool {
    // SAFETY: querying (not changing) the disposition with a valid out-pointer.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, std::ptr::null(), &mut old), 0);
        old.sa_sigaction == libc::SIG_DFL
    }
}

// ---- streams ---------------------------------------------------------------------------------------

/// Read `r` to its end with `AsyncBufReadExt::read_line`, one string a line (with its newline, if it had
/// one), failing the test if there are more than `max`.
pub async fn read_lines<R: AsyncBufRead + Unpin>(r: &mut R, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.unwrap() == 0 {
            return lines;
        }
        lines.push(line);
        assert!(lines.len() <= max, "more than {max} lines: {lines:?}");
    }
}

/// The read half of a split stream, read by its own `read`: the fd's path, not the `AsyncRead` one
/// the `gort::io` helpers take. For TCP's and Unix sockets' halves alike.
pub trait ReadHalf: AsyncRead + Unpin + Send + 'static {
    fn read_some<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;
}

/// The write half of a split stream, written by its own `write_all` (as [`ReadHalf`]).
pub trait WriteHalf: AsyncWrite + Unpin + Send + 'static {
    fn write_whole<'a>(
        &'a mut self,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

/// [`ReadHalf`] and [`WriteHalf`] for a socket module's `OwnedReadHalf` and `OwnedWriteHalf`.
macro_rules! halves_by_own_methods {
    ($($kind:ident),*) => {$(
        impl ReadHalf for $kind::OwnedReadHalf {
            fn read_some<'a>(
                &'a mut self,
                buf: &'a mut [u8],
            ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
                $kind::OwnedReadHalf::read(self, buf)
            }
        }

        impl WriteHalf for $kind::OwnedWriteHalf {
            fn write_whole<'a>(
                &'a mut self,
                buf: &'a [u8],
            ) -> impl Future<Output = io::Result<()>> + Send + 'a {
                $kind::OwnedWriteHalf::write_all(self, buf)
            }
        }
    )*};
}

halves_by_own_methods!(tcp, unix);

/// Echo `conns` connections at once, each carrying `total` bytes of its own pattern ([`fill`]) in
/// `chunk`-sized writes, and check every byte that comes back. The TCP and Unix-socket tests share it.
///
/// A server G accepts `conns` connections with `accept` (the listener's accept, split into halves)
/// and echoes each in a G of its own with `gort::io::copy`; dropping the write half afterwards must
/// shut down writing, so the client reads EOF. Client `c` connects with `connect()` and writes from
/// a G of its own while it reads the echo back, checking each piece ([`matches()`]) and that nothing
/// is missing at EOF. The server must count every byte of every connection.
pub async fn echo_concurrently<A, AF, C, CF, R, W>(
    conns: usize,
    total: usize,
    chunk: usize,
    mut accept: A,
    connect: C,
) where
    A: FnMut() -> AF + Send + 'static,
    AF: Future<Output = (R, W)> + Send,
    C: Fn() -> CF,
    CF: Future<Output = (R, W)> + Send + 'static,
    R: ReadHalf,
    W: WriteHalf,
{
    let server = gort::go(async move {
        let mut echoes = Vec::with_capacity(conns);
        for _ in 0..conns {
            let (mut r, mut w) = accept().await;
            echoes.push(gort::go(async move {
                gort::io::copy(&mut r, &mut w).await.unwrap()
            }));
        }
        let mut echoed = 0;
        for e in echoes {
            echoed += e.await.unwrap();
        }
        echoed
    });
    let clients: Vec<_> = (0..conns)
        .map(|c| {
            let halves = connect();
            gort::go(async move {
                let (mut r, mut w) = halves.await;
                let writer = gort::go(async move {
                    let mut buf = vec![0u8; chunk];
                    let mut off = 0;
                    while off < total {
                        let n = chunk.min(total - off);
                        fill(c, off, &mut buf[..n]);
                        w.write_whole(&buf[..n]).await.unwrap();
                        off += n;
                    }
                });
                let mut buf = vec![0u8; chunk];
                let mut off = 0;
                loop {
                    let n = r.read_some(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    assert!(
                        matches(c, off, &buf[..n]),
                        "connection {c}: wrong bytes at offset {off}"
                    );
                    off += n;
                }
                assert_eq!(off, total, "connection {c}: short echo");
                writer.await.unwrap();
            })
        })
        .collect();
    for h in clients {
        h.await.unwrap();
    }
    assert_eq!(server.await.unwrap(), (conns * total) as u64);
}
