//! [`FdSource`]: a descriptor that is neither a socket nor a pipe, made watchable by the netpoller
//! — a pidfd (`process/exit.rs`) or an inotify instance (`fs/watch.rs`). Go does the same with
//! `os.NewFile` on a non-blocking descriptor: anything epoll can watch goes on the netpoller
//! (os/file_unix.go: `newFile` with `kindNonBlock`, internal/poll: `FD.Init`).
//!
//! It owns the descriptor (closing it on drop) and forwards mio's registration calls to
//! `SourceFd`, so it can live inside a [`NetFd`](super::fd::NetFd) like any socket.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use mio::event::Source;
use mio::unix::SourceFd;

/// An owned descriptor the poller can watch.
#[derive(Debug)]
pub(crate) struct FdSource(pub(crate) OwnedFd);

impl AsRawFd for FdSource {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl Source for FdSource {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}
