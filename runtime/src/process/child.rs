//! A running child and its pipes: Go's `exec.Cmd` after `Start` (os/exec/exec.go: `Wait`,
//! `StdinPipe`, `StdoutPipe`, `Process.Kill`) and std's `process::Child`, with the pipes on the
//! netpoller.
//!
//! Each pipe end the parent keeps is set non-blocking and registered with the netpoller, exactly
//! like a socket ([`NetFd`]): a read that finds the pipe empty parks the G, the child's write wakes
//! it. So `gort::io::read_all(&mut stdout)` or
//! `gort::io::copy` between two children costs no thread.
//!
//! A child that closes its stdin while the parent still writes gives the writer a `BrokenPipe`
//! error: Rust programs start with SIGPIPE ignored, so `write(2)` returns `EPIPE` instead of the
//! signal killing the parent (Go does the same for every fd but 1 and 2).

use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::{ExitStatus, Output, Stdio};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::pipe;
use netpoll::Direction;

use super::exit::Proc;
use crate::net::fd::NetFd;
use crate::sched::Sched;
use crate::time::Sleep;
use crate::util::loom::sync::Arc;

/// A spawned child process (std's `Child`, Go's `exec.Cmd` once started). Dropping it without
/// `wait` does not kill the child; it is reaped in the background when it exits, so it never
/// lingers as a zombie.
pub struct Child {
    proc: Option<Proc>,
    /// The write end of the child's stdin, if it was `Stdio::piped()`.
    pub stdin: Option<ChildStdin>,
    /// The read end of the child's stdout, if it was `Stdio::piped()`.
    pub stdout: Option<ChildStdout>,
    /// The read end of the child's stderr, if it was `Stdio::piped()`.
    pub stderr: Option<ChildStderr>,
}

impl Child {
    /// Wrap a freshly spawned std child: register its pipes and its exit with `sched`'s poller.
    pub(crate) fn new(
        mut child: std::process::Child,
        ctx_done: Option<crate::chan::Receiver<()>>,
        sched: Arc<Sched>,
    ) -> io::Result<Child> {
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        // On failure the child has been killed and left for the next spawn to reap.
        let proc = Proc::new(child, ctx_done, sched.clone())?;
        let mut me = Child {
            proc: Some(proc),
            stdin: None,
            stdout: None,
            stderr: None,
        };
        // On an error below, `me` is dropped, which reaps the child in the background.
        me.stdin = stdin
            .map(|p| Ok::<_, io::Error>(ChildStdin(Pipe::new(pipe::Sender::from(p), &sched)?)))
            .transpose()?;
        me.stdout = stdout
            .map(|p| Ok::<_, io::Error>(ChildStdout(Pipe::new(pipe::Receiver::from(p), &sched)?)))
            .transpose()?;
        me.stderr = stderr
            .map(|p| Ok::<_, io::Error>(ChildStderr(Pipe::new(pipe::Receiver::from(p), &sched)?)))
            .transpose()?;
        Ok(me)
    }

    fn proc(&mut self) -> &mut Proc {
        match self.proc.as_mut() {
            Some(p) => p,
            None => unreachable!("a Child's Proc is only taken by its destructor"),
        }
    }

    /// The child's process id (Go's `Process.Pid`).
    pub fn id(&self) -> u32 {
        match &self.proc {
            Some(p) => p.id(),
            None => unreachable!("a Child's Proc is only taken by its destructor"),
        }
    }

    /// Wait for the child to exit and collect its status (Go's `Cmd.Wait` without the copying).
    /// The G parks on the child's pidfd (or on SIGCHLD); no thread waits. If the command has a
    /// context and it is done first, the child is killed and its status returned. Safe to call
    /// again: it returns the same status.
    ///
    /// The child's stdin is *not* closed first (unlike std's `wait`): drop `child.stdin` yourself
    /// if the child reads until end of input.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.proc().wait().await
    }

    /// The status if the child has exited (reaping it), `None` if it still runs. Never waits.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.proc().try_wait()
    }

    /// Go's `Process.Kill`: send SIGKILL. Does not wait; call [`wait`](Self::wait) for the status.
    /// Killing a child whose status was already collected does nothing.
    pub fn kill(&mut self) -> io::Result<()> {
        self.proc().kill()
    }

    /// Close stdin, read stdout and stderr to their ends while waiting for the exit, and return
    /// all three (std's `wait_with_output`; Go's `Cmd.Output` after `Start`). Pipes that were not
    /// `Stdio::piped()` give empty output.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let mut stdout = self.stdout.take();
        let mut stderr = self.stderr.take();
        // read_all, not read_to_end: see gort::io's read_all.rs.
        let read_out = async {
            match stdout.as_mut() {
                Some(s) => crate::io::read_all(s).await,
                None => Ok(Vec::new()),
            }
        };
        let read_err = async {
            match stderr.as_mut() {
                Some(s) => crate::io::read_all(s).await,
                None => Ok(Vec::new()),
            }
        };
        let (status, stdout, stderr) =
            futures_util::future::try_join3(self.proc().wait(), read_out, read_err).await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(p) = self.proc.take() {
            p.reap_in_background();
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.proc.as_ref().map(Proc::id))
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}

/// One non-blocking pipe end registered with the netpoller. `None` once closed.
struct Pipe<S: mio::event::Source + AsRawFd> {
    fd: Option<NetFd<S>>,
    timer: Option<Sleep>,
}

impl<S: mio::event::Source + AsRawFd> Pipe<S> {
    fn new(sock: S, sched: &Arc<Sched>) -> io::Result<Pipe<S>> {
        set_nonblocking(sock.as_raw_fd(), true)?;
        Ok(Pipe {
            fd: Some(NetFd::with_sched(sock, sched.clone())?),
            timer: None,
        })
    }

    fn poll_op<R>(
        &mut self,
        dir: Direction,
        cx: &mut Context<'_>,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        match &self.fd {
            Some(fd) => fd.poll_io(dir, cx, &mut self.timer, op),
            None => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "gort::process: pipe already closed",
            ))),
        }
    }

    /// Hand the pipe end to another child as its stdio: leave the poller, and give the child a
    /// blocking descriptor (the O_NONBLOCK flag belongs to the open file, which the child shares).
    fn into_stdio(mut self) -> io::Result<Stdio> {
        let Some(fd) = self.fd.take() else {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "gort::process: pipe already closed",
            ));
        };
        // SAFETY: `fd` is an open descriptor we own for the duration of the call; F_DUPFD_CLOEXEC
        // returns a new descriptor (or -1) and touches no memory.
        let dup = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `dup` was just returned by fcntl and nothing else owns it.
        let dup = unsafe { OwnedFd::from_raw_fd(dup) };
        drop(fd); // deregisters and closes the original; the duplicate keeps the pipe open
        set_nonblocking(dup.as_raw_fd(), false)?;
        Ok(Stdio::from(dup))
    }
}

fn set_nonblocking(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL on a descriptor we own; neither touches memory.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = if on {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        if libc::fcntl(fd, libc::F_SETFL, flags) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The parent's end of a child's stdin (`AsyncWrite`). Dropping it (or `close().await`) closes the
/// pipe, so the child reads end of input.
pub struct ChildStdin(Pipe<pipe::Sender>);

/// The parent's end of a child's stdout (`AsyncRead`).
pub struct ChildStdout(Pipe<pipe::Receiver>);

/// The parent's end of a child's stderr (`AsyncRead`).
pub struct ChildStderr(Pipe<pipe::Receiver>);

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .0
            .poll_op(Direction::Write, cx, |mut s| s.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // a pipe buffers nothing on our side
    }

    /// Close the pipe now (the child sees end of input). Later writes fail with `BrokenPipe`.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        drop(self.get_mut().0.fd.take());
        Poll::Ready(Ok(()))
    }
}

macro_rules! reader {
    ($($t:ident),*) => {$(
        impl AsyncRead for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().0.poll_op(Direction::Read, cx, |mut s| s.read(buf))
            }
        }
    )*};
}
reader!(ChildStdout, ChildStderr);

macro_rules! pipe_traits {
    ($($t:ident),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($t))
                    .field(&self.0.fd.as_ref().map(|fd| fd.as_raw_fd()))
                    .finish()
            }
        }

        /// Pass this pipe end to another command (as its `stdin`, `stdout` or `stderr`), as a
        /// shell pipeline does: `Command::new("sort").stdin(Stdio::try_from(ls_stdout)?)`.
        /// The `Command` keeps its copy of the pipe end open until it is dropped (as std's does):
        /// spawn from a temporary, or drop the `Command` before waiting, or a writer upstream may
        /// never see its reader go away.
        impl TryFrom<$t> for Stdio {
            type Error = io::Error;

            fn try_from(p: $t) -> io::Result<Stdio> {
                p.0.into_stdio()
            }
        }
    )*};
}
pipe_traits!(ChildStdin, ChildStdout, ChildStderr);
