//! Helpers shared by the integration tests in `tests/tests/`.

use std::future::Future;
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::Duration;

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
