//! Traces that survive the process's end: a fatal signal, a panic that ends the process, an
//! exit that skips the runtime's drop. Go's runtime loses the trace in all three (its trace
//! reader goroutine stops with the process); a trace of the program that hung and was stopped
//! with Ctrl-C is the one most wanted, so here each of them writes the trace out first
//! (`output.rs`: `flush_for_exit`).
//!
//! - **SIGINT, SIGTERM, SIGQUIT** left at their default action (no `gort::signal` listener, no
//!   handler of the program's own) when tracing starts: a handler that only writes the signal's
//!   number to a pipe — all a signal handler may safely do — and a thread (`gort-trace-signal`)
//!   blocked reading that pipe. Not a G: the runtime may be the thing that is stuck, and then a
//!   G would never run. The thread puts the default action back (so a second Ctrl-C ends the
//!   process at once), writes the trace out and sends the signal again, so the process ends as
//!   the signal would have ended it (exit status, core dump for SIGQUIT). A `gort::signal` listener installed later takes the signal over;
//!   when it goes, `signal.rs` restores this handler.
//! - **A panic** on the thread called `main` (which ends the process) or under `panic = "abort"`:
//!   a panic hook, after the previous hook has printed the message. Panics of Gs are caught by
//!   the runtime and end only their G, so they do not stop the trace.
//! - **`std::process::exit`** (and a return from `main` with the runtime never dropped):
//!   `atexit` (for `GORTTRACE` traces). `checkdead`'s exit calls `trace::flush_for_exit` itself.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Once;

/// The signals whose default action ends the process and that a user sends to stop a program.
const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGQUIT];

/// The pipe's write end, for the handler (-1 until created).
static PIPE_WR: AtomicI32 = AtomicI32::new(-1);

/// Install the handlers, the thread and the panic hook (once per process).
pub(super) fn install() {
    static ONCE: Once = Once::new();
    if cfg!(miri) {
        // Miri runs no signal handlers (and the unit tests need none).
        return;
    }
    ONCE.call_once(|| {
        install_signals();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            let main = std::thread::current().name() == Some("main");
            if main || cfg!(panic = "abort") {
                super::output::flush_for_exit("panic");
            }
        }));
    });
}

/// Write a `GORTTRACE` trace at `exit` (once per process).
pub(super) fn at_exit() {
    static ONCE: Once = Once::new();
    extern "C" fn on_exit() {
        super::output::flush_for_exit("exit");
    }
    ONCE.call_once(|| {
        // SAFETY: `on_exit` is a plain `extern "C" fn()` that lives for the whole program.
        unsafe { libc::atexit(on_exit) };
    });
}

/// Async-signal-safe: one `write(2)` of the signal's number, `errno` kept.
extern "C" fn on_signal(sig: libc::c_int) {
    let fd = PIPE_WR.load(Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    // SAFETY: `__errno_location` returns this thread's errno, valid for the thread's life.
    let errno = unsafe { *libc::__errno_location() };
    let b = sig as u8;
    // SAFETY: write(2) is async-signal-safe; `b` outlives the call; a failure is ignored (the
    // pipe is non-blocking; a full pipe means a signal is being handled already).
    unsafe { libc::write(fd, std::ptr::addr_of!(b).cast(), 1) };
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

fn install_signals() {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    let (rd, wr) = (fds[0], fds[1]);
    // SAFETY: `wr` is the pipe's write end, ours; making it non-blocking keeps the handler
    // from ever blocking.
    unsafe { libc::fcntl(wr, libc::F_SETFL, libc::O_NONBLOCK) };
    PIPE_WR.store(wr, Ordering::Relaxed);
    let spawned = std::thread::Builder::new()
        .name("gort-trace-signal".into())
        .spawn(move || wait_for_signals(rd));
    if spawned.is_err() {
        return;
    }
    for sig in SIGNALS {
        // SAFETY: `sigaction` structs are plain data; zeroed is a valid empty one, and
        // `sigaction(2)` with a null new action only reads the current one into `old`.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction != libc::SIG_DFL
            {
                continue;
            }
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            new.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaction(sig, &new, std::ptr::null_mut());
        }
    }
}

/// The `gort-trace-signal` thread: for each signal, write the trace out, then end the process
/// as the signal's default action would.
fn wait_for_signals(rd: libc::c_int) {
    loop {
        let mut b = 0u8;
        // SAFETY: reads one byte into `b`, which outlives the call.
        let n = unsafe { libc::read(rd, std::ptr::addr_of_mut!(b).cast(), 1) };
        if n != 1 {
            if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        let sig = libc::c_int::from(b);
        let name = match sig {
            libc::SIGINT => "SIGINT",
            libc::SIGTERM => "SIGTERM",
            _ => "SIGQUIT",
        };
        // The default action back first: a second Ctrl-C while the trace is written (a slow
        // disk, a huge JSON conversion) ends the process at once, as the user asks.
        // SAFETY: restoring the default action of a signal is a plain system call.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
        eprintln!("gort: {name}: writing the execution trace before exiting (again to skip)");
        super::output::flush_for_exit(name);
        // SAFETY: sending a signal to our own process.
        unsafe { libc::kill(libc::getpid(), sig) };
        // The default action ends the process; should the signal be blocked somewhere, end it
        // with the status a shell reports for it.
        std::thread::sleep(std::time::Duration::from_secs(1));
        std::process::exit(128 + sig);
    }
}
