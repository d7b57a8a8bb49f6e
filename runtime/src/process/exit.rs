//! Noticing that a child exited, and reaping it: the part of Go's os/exec that lives in the
//! runtime (os/exec_unix.go: `Process.wait`, `Process.signal`; os/pidfd_linux.go: `pidfdFind`,
//! `pidfdWait`; os/wait_waitid.go).
//!
//! A child that exits stays a *zombie* (state `Z` in `/proc`) until its parent collects its status
//! with `waitpid`. Go's `Process.Wait` blocks an M in `wait4` (or, since Go 1.23 on Linux, waits
//! for its pidfd through the netpoller). gort never blocks an M for it:
//!
//! - **pidfd** (Linux 5.3+). At spawn, `pidfd_open(pid)` gives a descriptor that becomes readable
//!   when the child exits. It is registered with the netpoller like a socket ([`NetFd`]), so
//!   waiting is Go's I/O loop: try `waitpid(pid, WNOHANG)`; nothing yet, park on the descriptor;
//!   woken, try again.
//! - **SIGCHLD**, where `pidfd_open` is missing: the wait listens to SIGCHLD through
//!   `gort::signal` (the self-pipe read by a G on the netpoller) and tries `waitpid(pid, WNOHANG)`
//!   after each delivery. Signals coalesce, and a full listener channel misses one, so the listener
//!   is created *before* the first try: any exit after that try is followed by at least one
//!   delivery still to come.
//!
//! Either way there is no thread per child and no polling loop, and only the child's own pid is
//! ever waited for (never `waitpid(-1)`), so other code's children are left alone.
//!
//! ## No zombie left behind
//! A `Child` dropped before its exit was collected hands its [`Proc`] to a background G that waits
//! for the exit and reaps it, as Go's runtime would when the `*Process` is collected (Go actually
//! leaves that zombie until the program exits; tokio reaps it in the background, and so do we). If
//! that G never finishes — its runtime is dropped first — the still-running child goes on a
//! process-wide orphan list that every later spawn sweeps with `waitpid(WNOHANG)`.
//!
//! The context of `Command::context` is watched by the same wait: when it is done, the child is
//! killed (SIGKILL) once and the wait goes on to collect its status.

use std::future::poll_fn;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::ExitStatus;
use std::sync::Mutex;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use netpoll::Direction;

use crate::chan::Receiver;
use crate::net::fd::NetFd;
use crate::net::fd_source::FdSource;
use crate::sched::Sched;
use crate::signal::Signal;
use crate::time::Sleep;
use crate::util::loom::sync::Arc;

/// `pidfd_open(pid, 0)`: a descriptor that is readable once the process has exited, or `None`
/// where the kernel or the platform does not have it.
#[cfg(target_os = "linux")]
fn pidfd_open(pid: u32) -> io::Result<Option<FdSource>> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1; it touches no
    // memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            // No pidfd_open (Linux < 5.3) or it is filtered out (some sandboxes).
            Some(libc::ENOSYS) | Some(libc::EPERM) => Ok(None),
            _ => Err(e),
        };
    }
    // SAFETY: the system call just returned this descriptor, and nothing else owns it.
    Ok(Some(FdSource(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })))
}

#[cfg(not(target_os = "linux"))]
fn pidfd_open(_pid: u32) -> io::Result<Option<FdSource>> {
    Ok(None)
}

/// How this child's exit reaches us.
enum ExitWatch {
    PidFd(NetFd<FdSource>, Option<Sleep>),
    Sigchld(Receiver<Signal>),
}

impl ExitWatch {
    /// A pidfd on the netpoller if the kernel gives one, else a SIGCHLD listener. Any failure of
    /// the pidfd path (no `pidfd_open`, no descriptor left, a registration refused) falls back to
    /// SIGCHLD, which needs no descriptor per child.
    fn new(pid: u32, sched: &Arc<Sched>) -> io::Result<ExitWatch> {
        if want_pidfd() {
            if let Ok(Some(fd)) = pidfd_open(pid) {
                if let Ok(fd) = NetFd::with_sched(fd, sched.clone()) {
                    return Ok(ExitWatch::PidFd(fd, None));
                }
            }
        }
        Ok(ExitWatch::Sigchld(crate::signal::try_notify(&[
            Signal::Child,
        ])?))
    }
}

/// Tests force the SIGCHLD path to check it on kernels that have pidfds.
#[cfg(test)]
pub(crate) static FORCE_SIGCHLD: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

fn want_pidfd() -> bool {
    #[cfg(test)]
    if FORCE_SIGCHLD.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    true
}

/// One spawned child until its status is collected: the std handle (which does `waitpid` and
/// remembers the status), how its exit is noticed, and the context that may kill it.
pub(crate) struct Proc {
    child: std::process::Child,
    watch: ExitWatch,
    /// `Command::context`'s done channel, until it fires (then the child has been killed).
    ctx_done: Option<Receiver<()>>,
    status: Option<ExitStatus>,
    sched: Arc<Sched>,
}

impl Proc {
    /// Start watching `child` in `sched`'s netpoller (or through SIGCHLD).
    pub(crate) fn new(
        mut child: std::process::Child,
        ctx_done: Option<Receiver<()>>,
        sched: Arc<Sched>,
    ) -> io::Result<Proc> {
        let watch = match ExitWatch::new(child.id(), &sched) {
            Ok(w) => w,
            Err(e) => {
                // A child we cannot watch is not handed out: kill it, and let the next spawn reap it.
                let _ = child.kill();
                orphans().push(child.id() as libc::pid_t);
                return Err(e);
            }
        };
        Ok(Proc {
            child,
            watch,
            ctx_done,
            status: None,
            sched,
        })
    }

    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// `waitpid(pid, WNOHANG)`: the status if the child has exited (and is now reaped).
    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.try_wait()?;
        }
        Ok(self.status)
    }

    /// Go's `Process.Kill`: SIGKILL, unless the status is already collected (then the pid may
    /// belong to another process, so nothing is sent, and it is not an error).
    pub(crate) fn kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        self.child.kill()
    }

    /// Wait for the exit and collect the status, killing the child first if its context is done.
    pub(crate) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(s) = self.status {
            return Poll::Ready(Ok(s));
        }
        if let Some(done) = self.ctx_done.as_mut() {
            if Pin::new(done).poll_next(cx).is_ready() {
                // Go's CommandContext: the context is done, so the process is killed; the wait
                // then returns its (signalled) status.
                self.ctx_done = None;
                if let Err(e) = self.kill() {
                    return Poll::Ready(Err(e));
                }
            }
        }
        let child = &mut self.child;
        let status = match &mut self.watch {
            ExitWatch::PidFd(fd, timer) => {
                ready!(
                    fd.poll_io(Direction::Read, cx, timer, |_| match child.try_wait() {
                        Ok(Some(s)) => Ok(s),
                        Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                        Err(e) => Err(e),
                    })
                )
            }
            ExitWatch::Sigchld(rx) => {
                ready!(crate::sched::coop::poll_preempt(cx));
                loop {
                    if let Some(s) = child.try_wait()? {
                        break Ok(s);
                    }
                    match ready!(Pin::new(&mut *rx).poll_next(cx)) {
                        Some(_) => continue, // some child changed state: try ours again
                        None => break Err(io::Error::other("gort: SIGCHLD delivery stopped")),
                    }
                }
            }
        }?;
        self.status = Some(status);
        Poll::Ready(Ok(status))
    }

    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// For a `Child` dropped before its status was collected: reap it in a background G.
    pub(crate) fn reap_in_background(mut self) {
        if matches!(self.try_wait(), Ok(Some(_))) {
            return; // exited already: reaped just now
        }
        let sched = self.sched.clone();
        // If the runtime is shutting down, the G is dropped unrun and `Drop` below takes over.
        drop(crate::sched::boot::newproc(
            &sched,
            async move {
                let _ = self.wait().await;
            },
            crate::sched::boot::Spawn::system("child reaper"),
        ));
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_some() {
            return;
        }
        // Still running and nobody left to wait for it here (its runtime is gone, or the wait
        // failed): the next spawn in this process sweeps it. Its pid stays ours until reaped.
        if let Ok(None) = self.child.try_wait() {
            orphans().push(self.child.id() as libc::pid_t);
        }
    }
}

/// The pids of children whose waiter went away before they exited.
static ORPHANS: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

fn orphans() -> std::sync::MutexGuard<'static, Vec<libc::pid_t>> {
    ORPHANS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reap every orphan that has exited since the last sweep (one `waitpid(pid, WNOHANG)` each).
/// Called at each spawn, so an orphan stays a zombie no longer than until the next spawn.
pub(crate) fn sweep_orphans() {
    let mut list = orphans();
    list.retain(|&pid| {
        let mut status = 0;
        // SAFETY: waitpid writes the status into our local; `pid` is a child of ours whose status
        // nobody has collected (only this list holds it), so it names no other process.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        r == 0 // still running: keep it; reaped (pid) or gone (-1, ECHILD): drop it
    });
}
