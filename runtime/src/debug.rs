//! `gort::debug`: goroutine dumps on demand and on SIGQUIT, and panics that name their G (Go's
//! runtime/debug and the crash paths of runtime/signal_unix.go and runtime/panic.go).
//!
//! - [`dump`] returns every G in Go's goroutine-dump format (`sched/traceback.rs`), from anywhere.
//! - **SIGQUIT** (`kill -QUIT`, Ctrl-\\) prints `SIGQUIT: quit` and every G of every runtime, then
//!   exits with status 2, as a Go program does — unless the program listens for SIGQUIT through
//!   `gort::signal` (its handler then replaces ours, and ours comes back when it stops), as in Go.
//!   A signal handler may not take locks or allocate, so ours only writes a byte to a pipe; a thread
//!   of its own (`gort-sigquit`, one per process, parked in `read`) prints the dump. A thread and not
//!   a G, so that a dump comes out even when every M is stuck, which is when it is wanted.
//! - **Panics**: the first runtime built installs a panic hook that, for a panic inside a G, prints
//!   `panic in goroutine 17 "name" (created at src/main.rs:12:5)` and then calls the hook that was
//!   there before (the default one prints the payload and `thread 'gort-m0' panicked at ...`), so a
//!   hook the program installed first still runs, and `RUST_BACKTRACE` still works. With
//!   `Builder::panic_exits(true)` / `GORTDEBUG=panicexit=1` the runtime then dumps and exits 2.
//!
//! # Where this differs from Go
//! Go installs its SIGQUIT handler unconditionally; here it is installed only if SIGQUIT has no
//! handler when the first runtime is built (default or ignored, as a shell leaves it for a
//! background job), so a host program's own handler wins.
//! Go prints the stacks of the signalled thread; a future has none (see `sched/traceback.rs`).

use crate::sched::Sched;
use crate::util::loom::sync::Arc;

/// Every G of the runtime the caller runs in (or, called from a thread outside any runtime, of
/// every live runtime in the process), in Go's goroutine-dump format: user Gs by id, then the
/// runtime's own, each block like
///
/// ```text
/// goroutine 18 [chan send, 2 minutes]:
/// name: producer
/// created by src/main.rs:12:5 in goroutine 1
/// ```
///
/// ```
/// gort::run(async {
///     let (_tx, rx) = gort::chan::channel::<u8>(0);
///     let h = gort::Go::new().name("waiter").spawn(async move { rx.recv().await });
///     gort::time::sleep(std::time::Duration::from_millis(20)).await;
///     let d = gort::debug::dump();
///     assert!(d.contains(&format!("goroutine {} [chan receive]:\nname: waiter\n", h.id())), "{d}");
///     h.abort();
/// });
/// ```
pub fn dump() -> String {
    if let Some(sched) = crate::sched::boot::current() {
        return crate::sched::traceback::dump_gs(&sched, true, None);
    }
    dump_all(true)
}

/// The dump of every live runtime; with several, each after a `runtime N:` line.
fn dump_all(system: bool) -> String {
    let all = runtimes();
    if all.len() == 1 {
        return crate::sched::traceback::dump_gs(&all[0], system, None);
    }
    let mut out = String::new();
    for (i, s) in all.iter().enumerate() {
        out.push_str(&format!("runtime {}:\n", i + 1));
        out.push_str(&crate::sched::traceback::dump_gs(s, system, None));
        out.push('\n');
    }
    out
}

#[cfg(not(loom))]
static RUNTIMES: std::sync::Mutex<Vec<std::sync::Weak<Sched>>> = std::sync::Mutex::new(Vec::new());

#[cfg(not(loom))]
fn runtimes() -> Vec<Arc<Sched>> {
    let all = RUNTIMES.lock().unwrap_or_else(|e| e.into_inner());
    all.iter().filter_map(|w| w.upgrade()).collect()
}

#[cfg(loom)]
fn runtimes() -> Vec<Arc<Sched>> {
    Vec::new()
}

/// A runtime was built: list it for dumps, and install the process-wide SIGQUIT handler and panic
/// hook once.
pub(crate) fn register(_sched: &Arc<Sched>) {
    #[cfg(not(loom))]
    {
        let mut all = RUNTIMES.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(_sched));
        drop(all);
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            install_panic_hook();
            #[cfg(not(miri))]
            sigquit::install();
        });
    }
}

/// Compose with the current hook: name the G, then let the previous hook report the panic.
#[cfg(not(loom))]
fn install_panic_hook() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(line) = crate::sched::traceback::panic_line() {
            eprintln!("{line}:");
        }
        prev(info);
    }));
}

/// The SIGQUIT dump: Go's `sighandler` for `_SIGQUIT` (print every goroutine, exit 2).
#[cfg(not(any(loom, miri)))]
mod sigquit {
    use std::io::Read as _;
    use std::os::fd::IntoRawFd as _;
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The pipe's write end, for the handler (-1 until installed).
    static WR: AtomicI32 = AtomicI32::new(-1);

    /// Async-signal-safe: write one byte; `errno` is saved and restored.
    extern "C" fn on_sigquit(_sig: libc::c_int) {
        let fd = WR.load(Ordering::Relaxed);
        if fd >= 0 {
            let saved = std::io::Error::last_os_error().raw_os_error();
            let b = 1u8;
            // SAFETY: write(2) is async-signal-safe and `b` outlives the call.
            unsafe { libc::write(fd, &b as *const u8 as *const libc::c_void, 1) };
            if let Some(e) = saved {
                set_errno(e);
            }
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn set_errno(e: i32) {
        // SAFETY: the calling thread's errno slot.
        unsafe { *libc::__errno_location() = e };
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn set_errno(_e: i32) {}

    /// Install the handler if SIGQUIT still has its default disposition, and start the thread
    /// that prints the dump. Failures are reported once and leave SIGQUIT as it was.
    pub(super) fn install() {
        // SAFETY: a zeroed sigaction is a valid out-parameter; sigaction(2) with a null new action
        // only reads the current one.
        let mut cur: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: see above.
        // Installed over SIG_DFL and, as Go does, over SIG_IGN; never over a program's handler.
        if unsafe { libc::sigaction(libc::SIGQUIT, std::ptr::null(), &mut cur) } != 0
            || (cur.sa_sigaction != libc::SIG_DFL && cur.sa_sigaction != libc::SIG_IGN)
        {
            return;
        }
        // mio's pipe: close-on-exec on every platform; the write end stays non-blocking (a handler
        // must never block), the read end is made blocking for the thread.
        let pipe = mio::unix::pipe::new().and_then(|(w, r)| {
            r.set_nonblocking(false)?;
            Ok((std::fs::File::from(std::os::fd::OwnedFd::from(r)), w))
        });
        let (r, w) = match pipe {
            Ok(p) => p,
            Err(e) => {
                eprintln!("gort: no goroutine dump on SIGQUIT: cannot make a pipe: {e}");
                return;
            }
        };
        let thread = std::thread::Builder::new()
            .name("gort-sigquit".into())
            .spawn(move || wait(r));
        if let Err(e) = thread {
            eprintln!("gort: no goroutine dump on SIGQUIT: cannot start its thread: {e}");
            return;
        }
        WR.store(w.into_raw_fd(), Ordering::Release);
        // SAFETY: zeroed is a valid sigaction to fill in; the handler only writes to a pipe.
        let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
        act.sa_sigaction = on_sigquit as extern "C" fn(libc::c_int) as usize;
        act.sa_flags = libc::SA_RESTART;
        // SAFETY: a valid action for a valid signal; the old one is not needed (it was SIG_DFL).
        unsafe {
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(libc::SIGQUIT, &act, std::ptr::null_mut());
        }
    }

    /// The `gort-sigquit` thread: wait for the handler's byte, then dump and exit 2.
    fn wait(mut r: std::fs::File) {
        let mut b = [0u8; 1];
        loop {
            match r.read(&mut b) {
                Ok(1) => break,
                Ok(_) => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            }
        }
        let level = crate::sched::traceback::Level::get();
        let mut out = String::from("SIGQUIT: quit\n");
        if level > crate::sched::traceback::Level::None {
            out.push('\n');
            out.push_str(&super::dump_all(
                level == crate::sched::traceback::Level::System,
            ));
        }
        crate::sched::traceback::exit2(&out);
    }
}
