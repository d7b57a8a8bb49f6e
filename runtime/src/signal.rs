//! `gort::signal`: Unix signals delivered as channel values (Go's os/signal: `Notify`, `Stop`, and
//! runtime/sigqueue.go: `signal_recv`).
//!
//! A signal handler may only do async-signal-safe things, so gort's handler does one: it writes the
//! signal number as a byte into a non-blocking pipe (the *self-pipe trick*; Go uses a lock-free queue
//! and a note instead, because its handler runs on a special signal stack it controls). A G — Go's
//! `signal.loop` goroutine — reads the pipe through the netpoller like any socket and sends each
//! signal to every listener's channel without blocking: a listener whose channel is full misses the
//! signal, exactly as Go's `Notify` documents, so a slow listener never stalls the others.
//!
//! - `notify(&[Signal::Interrupt, Signal::Terminate])` returns a `chan::Receiver<Signal>`, usable in
//!   `select!`. Many listeners may watch the same signal; each gets every delivery.
//! - The first listener of a signal installs the handler; when the last listener of a signal is gone
//!   (`stop(&rx)`, or its receiver dropped), the signal's previous disposition is restored, so e.g.
//!   Ctrl-C kills the program again. A dropped receiver is noticed lazily, when the next signal
//!   arrives: if nobody listens for it any more, the disposition is restored and the signal raised
//!   again, so it does what it would have done had the listener been stopped. The reading G thus
//!   parks until a signal arrives instead of waking periodically to look for dropped receivers.
//! - `ctrl_c().await` waits for one SIGINT.
//!
//! Signals are process-wide, runtimes are not: the listener registry and the pipe are global; the
//! reading G runs in the runtime of the call that started it and exits when no listener is left. If
//! that runtime is dropped while listeners of another runtime remain, delivery resumes with the next
//! `notify` call (which starts a new reading G).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll};

use crate::chan::{channel, Receiver, Sender};

/// The signals a program can listen for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (the polite "please stop").
    Terminate,
    /// SIGHUP.
    Hangup,
    /// SIGQUIT.
    Quit,
    /// SIGUSR1.
    User1,
    /// SIGUSR2.
    User2,
    /// SIGWINCH.
    WindowChange,
    /// SIGCHLD (a child process exited or stopped; `gort::process` uses it where pidfds are missing).
    Child,
}

impl Signal {
    /// The OS signal number.
    pub fn raw(self) -> i32 {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Terminate => libc::SIGTERM,
            Signal::Hangup => libc::SIGHUP,
            Signal::Quit => libc::SIGQUIT,
            Signal::User1 => libc::SIGUSR1,
            Signal::User2 => libc::SIGUSR2,
            Signal::WindowChange => libc::SIGWINCH,
            Signal::Child => libc::SIGCHLD,
        }
    }

    fn from_raw(n: i32) -> Option<Signal> {
        [
            Signal::Interrupt,
            Signal::Terminate,
            Signal::Hangup,
            Signal::Quit,
            Signal::User1,
            Signal::User2,
            Signal::WindowChange,
            Signal::Child,
        ]
        .into_iter()
        .find(|s| s.raw() == n)
    }
}

struct Listener {
    signals: Vec<Signal>,
    tx: Sender<Signal>,
}

#[derive(Default)]
struct Registry {
    listeners: Vec<Listener>,
    /// The disposition each signal had before we installed our handler (to restore it).
    saved: Vec<(i32, libc::sigaction)>,
    /// The read end of the self-pipe. Kept for the whole process; each reading G registers its own
    /// duplicate with its runtime's netpoller (a registration dies with its poller).
    pipe_rx: Option<std::os::fd::OwnedFd>,
    reader_running: bool,
}

// SAFETY: `libc::sigaction` is plain data (a handler address, flags and a mask).
unsafe impl Send for Registry {}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);
/// The self-pipe's write end, for the handler (-1 until created).
static PIPE_WR: AtomicI32 = AtomicI32::new(-1);

fn registry() -> std::sync::MutexGuard<'static, Option<Registry>> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// The signal handler: async-signal-safe, it only writes one byte to a non-blocking pipe and
/// preserves `errno`. If the pipe is full the signal is dropped (a listener would drop it anyway).
extern "C" fn on_signal(sig: libc::c_int) {
    let fd = PIPE_WR.load(Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    let saved = errno::get();
    let b = sig as u8;
    // SAFETY: write(2) is async-signal-safe; `b` outlives the call; a failed write is ignored.
    unsafe { libc::write(fd, &b as *const u8 as *const libc::c_void, 1) };
    errno::set(saved);
}

/// `errno` access, the one platform difference here.
mod errno {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn location() -> *mut libc::c_int {
        // SAFETY: returns the calling thread's errno slot.
        unsafe { libc::__errno_location() }
    }
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    fn location() -> *mut libc::c_int {
        // SAFETY: returns the calling thread's errno slot.
        unsafe { libc::__error() }
    }
    #[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
    fn location() -> *mut libc::c_int {
        // SAFETY: returns the calling thread's errno slot.
        unsafe { libc::__errno() }
    }

    pub(super) fn get() -> libc::c_int {
        // SAFETY: the slot is valid for the calling thread.
        unsafe { *location() }
    }

    pub(super) fn set(v: libc::c_int) {
        // SAFETY: as above.
        unsafe { *location() = v }
    }
}

fn install(reg: &mut Registry, sig: i32) -> io::Result<()> {
    if reg.saved.iter().any(|&(s, _)| s == sig) {
        return Ok(());
    }
    // SAFETY: a zeroed sigaction is a valid "no handler, no flags, empty mask" value; we fill in the
    // handler and flags and pass valid pointers to sigaction(2).
    unsafe {
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        new.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut new.sa_mask);
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(sig, &new, &mut old) != 0 {
            return Err(io::Error::last_os_error());
        }
        reg.saved.push((sig, old));
    }
    Ok(())
}

/// Restore the previous disposition of every signal nobody listens to any more.
fn restore_unwatched(reg: &mut Registry) {
    let watched: Vec<i32> = reg
        .listeners
        .iter()
        .flat_map(|l| l.signals.iter().map(|s| s.raw()))
        .collect();
    reg.saved.retain(|&(sig, old)| {
        if watched.contains(&sig) {
            return true;
        }
        // SAFETY: `old` is the disposition sigaction(2) gave us for this signal.
        unsafe { libc::sigaction(sig, &old, std::ptr::null_mut()) };
        false
    });
}

/// Does anyone listen for a signal (a listener whose receiver is alive)? Then a G may be woken by
/// a signal, and `checkdead` must not call the program deadlocked.
///
/// `checkdead` asks with the scheduler's lock held, and the reader delivers (readying Gs, which
/// may take that lock) with the registry's lock held; so this only tries the registry's lock, and
/// a registry in use counts as listening: someone is working with signals right now.
pub(crate) fn listening() -> bool {
    match REGISTRY.try_lock() {
        Ok(reg) => reg
            .as_ref()
            .is_some_and(|reg| reg.listeners.iter().any(|l| l.tx.has_receivers())),
        Err(std::sync::TryLockError::Poisoned(p)) => p
            .into_inner()
            .as_ref()
            .is_some_and(|reg| reg.listeners.iter().any(|l| l.tx.has_receivers())),
        Err(std::sync::TryLockError::WouldBlock) => true,
    }
}

/// A signal that reached the reader after its last listener was gone: once `prune` has restored
/// the disposition it had before gort watched it, let it do what it does there.
fn raise_unwatched(reg: &Registry, sig: Signal) {
    if !reg.saved.iter().any(|&(s, _)| s == sig.raw()) {
        // SAFETY: raise(3) with a valid signal number.
        unsafe { libc::raise(sig.raw()) };
    }
}

/// Drop listeners whose every receiver is gone.
fn prune(reg: &mut Registry) {
    let before = reg.listeners.len();
    reg.listeners.retain(|l| l.tx.has_receivers());
    if reg.listeners.len() != before {
        restore_unwatched(reg);
    }
}

/// Go's `signal.Notify`: deliver the given signals to the returned channel (capacity 8; a delivery
/// to a full channel is dropped, never blocking the others).
///
/// Unlike Go, an empty list listens to nothing: Go's `Notify(c)` with no signals relays every one,
/// but catching SIGQUIT or SIGCHLD changes what the runtime itself does with them (the goroutine
/// dump, the child reaper), so gort asks for each signal by name.
///
/// Panics outside a gort runtime (the reading G needs one) or if the OS refuses the handler or the
/// pipe (use [`try_notify`] to get the error instead).
pub fn notify(signals: &[Signal]) -> Receiver<Signal> {
    match try_notify(signals) {
        Ok(rx) => rx,
        Err(e) => panic!("gort::signal::notify: {e}"),
    }
}

/// [`notify`], returning OS errors instead of panicking.
pub fn try_notify(signals: &[Signal]) -> io::Result<Receiver<Signal>> {
    let sched = crate::sched::boot::current()
        .ok_or_else(|| io::Error::other("gort::signal::notify called outside a gort runtime"))?;
    let (tx, rx) = channel(8);
    let mut guard = registry();
    let reg = guard.get_or_insert_with(Registry::default);
    if PIPE_WR.load(Ordering::Acquire) < 0 {
        let (w, r) = mio::unix::pipe::new()?;
        // The write end lives for the whole process: the handler may run at any time.
        PIPE_WR.store(std::os::fd::IntoRawFd::into_raw_fd(w), Ordering::Release);
        reg.pipe_rx = Some(std::os::fd::OwnedFd::from(r));
    }
    prune(reg);
    for s in signals {
        install(reg, s.raw())?;
    }
    reg.listeners.push(Listener {
        signals: signals.to_vec(),
        tx,
    });
    if !reg.reader_running {
        if let Some(read_end) = &reg.pipe_rx {
            let pipe = mio::unix::pipe::Receiver::from(read_end.try_clone()?);
            reg.reader_running = true;
            // The guard is made here, outside the G's body, so that even a reading G dropped before
            // its first poll (its runtime shut down at once) clears `reader_running`.
            let running = Running { armed: true };
            drop(guard);
            drop(crate::sched::boot::newproc(
                &sched,
                signal_loop(pipe, running),
                crate::sched::boot::Spawn::system("signal reader"),
            ));
        }
    }
    Ok(rx)
}

/// Go's `signal.Stop`: stop delivering to `rx`'s channel. When a signal has no listener left, its
/// previous disposition is restored.
pub fn stop(rx: &Receiver<Signal>) {
    let mut guard = registry();
    if let Some(reg) = guard.as_mut() {
        reg.listeners.retain(|l| !l.tx.same_channel(rx));
        prune(reg);
        restore_unwatched(reg);
        if reg.listeners.is_empty() && reg.reader_running {
            // Wake the parked reader so it sees there is no one left and exits: a 0 byte is no
            // signal number, so it delivers nothing.
            on_signal(0);
        }
    }
}

/// Wait for one Ctrl-C (SIGINT). The handler is installed when this is called, so a SIGINT that
/// arrives before the first poll is not lost.
pub fn ctrl_c() -> CtrlC {
    CtrlC {
        rx: Some(notify(&[Signal::Interrupt])),
    }
}

/// Future returned by [`ctrl_c`].
pub struct CtrlC {
    rx: Option<Receiver<Signal>>,
}

impl Future for CtrlC {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(());
        };
        match futures_core::Stream::poll_next(Pin::new(rx), cx) {
            Poll::Ready(_) => {
                if let Some(rx) = self.rx.take() {
                    stop(&rx);
                }
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for CtrlC {
    fn drop(&mut self) {
        if let Some(rx) = self.rx.take() {
            stop(&rx);
        }
    }
}

/// Reading Gs alive in the process (0 or 1, briefly 2 while a dropped runtime's winds down).
static READERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Is a reading G alive? Then an M about to block in the netpoller with no timer may be waiting
/// only for it, and asks `checkdead` first (a cheap filter for that question).
pub(crate) fn reader_alive() -> bool {
    READERS.load(Ordering::Relaxed) > 0
}

/// Counts a reading G in `READERS` for as long as its future lives.
struct Alive;

impl Alive {
    fn new() -> Alive {
        READERS.fetch_add(1, Ordering::Relaxed);
        Alive
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        READERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Marks the reader gone however its G ends (returned, dropped with its runtime, or dropped before
/// it ever ran), so the next `notify` starts a new one.
struct Running {
    armed: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.armed {
            if let Some(reg) = registry().as_mut() {
                reg.reader_running = false;
            }
        }
    }
}

/// Go's `signal.loop` goroutine: read signal numbers from the pipe (through the netpoller) and fan
/// them out. Exits when no listener is left. `pipe` is this G's own duplicate of the read end.
async fn signal_loop(mut pipe: mio::unix::pipe::Receiver, mut running: Running) {
    let _alive = Alive::new();
    let Some(sched) = crate::sched::boot::current() else {
        return;
    };
    let pd = match sched.poller.register(&mut pipe) {
        Ok(pd) => pd,
        Err(e) => {
            eprintln!("gort: signal delivery disabled: cannot watch the signal pipe: {e}");
            return;
        }
    };
    let mut buf = [0u8; 64];
    loop {
        match io::Read::read(&mut pipe, &mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let mut guard = registry();
                if let Some(reg) = guard.as_mut() {
                    // Receivers dropped since the last delivery are noticed now.
                    prune(reg);
                    for &b in &buf[..n] {
                        let Some(sig) = Signal::from_raw(b as i32) else {
                            continue;
                        };
                        let mut delivered = false;
                        for l in reg.listeners.iter().filter(|l| l.signals.contains(&sig)) {
                            // Never block: a full channel misses this delivery (Go's rule).
                            let _ = l.tx.try_send(sig);
                            delivered = true;
                        }
                        if !delivered {
                            // Its last listener was dropped before it came.
                            raise_unwatched(reg, sig);
                        }
                    }
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("gort: signal delivery stopped: reading the signal pipe failed: {e}");
                break;
            }
        }
        {
            let mut guard = registry();
            let Some(reg) = guard.as_mut() else { break };
            prune(reg);
            if reg.listeners.is_empty() {
                // Decided under the same lock `notify` takes: a listener added after this sees no
                // reader and starts one.
                reg.reader_running = false;
                running.armed = false;
                // A signal that came after the read above (the prune just restored its old
                // disposition) has its byte in the pipe: let it do what it does there, rather
                // than leave it unread when this reader ends.
                if let Ok(n) = io::Read::read(&mut pipe, &mut buf) {
                    for sig in buf[..n].iter().filter_map(|&b| Signal::from_raw(b as i32)) {
                        raise_unwatched(reg, sig);
                    }
                }
                break;
            }
        }
        // Park until the pipe has a byte: a signal, or `stop` waking us to exit. A wake from the
        // netpoller *is* the readiness (the poll descriptor hands it over with the wake), so once
        // parked, the next poll goes back to reading instead of asking `poll_wait` again, which
        // would park for an edge that already came.
        let mut parked = false;
        let wait = std::future::poll_fn(|cx| {
            if parked {
                return Poll::Ready(Ok(()));
            }
            let r = pd.poll_wait(netpoll::Direction::Read, cx);
            parked = r.is_pending();
            if parked {
                crate::sched::g::set_waitreason(crate::sched::g::WaitReason::IoWait);
            }
            r
        });
        if let Err(e) = wait.await {
            eprintln!("gort: signal delivery stopped: {e}");
            break;
        }
    }
    let _ = sched.poller.deregister(&pd, &mut pipe);
}
