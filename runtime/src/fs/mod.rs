//! `gort::fs`: files, as Go's `os` package does them (os/file.go, file_posix.go; the system
//! calls go through `entersyscall` / `exitsyscall`, runtime/proc.go).
//!
//! Regular files cannot be waited on with epoll or kqueue: they are always "ready", and a read may
//! still block on the disk. So Go does not put them on the netpoller; a file read is a plain
//! blocking system call inside `entersyscall`/`exitsyscall`. The G keeps its M for the call, and if
//! the call takes long, sysmon hands the M's P to another M so the other Gs keep running.
//!
//! Here each operation runs the `std::fs` call inside [`crate::blocking`], which is exactly that,
//! after a preemption point. The functions are `async` so that they read like the network ones and
//! so the G can be preempted between calls; the call itself holds the M, as in Go.
//!
//! ```
//! gort::run(async {
//!     let path = std::env::temp_dir().join(format!("gort-fs-doc-{}", std::process::id()));
//!     gort::fs::write(&path, b"hello").await.unwrap();
//!     assert_eq!(gort::fs::read_to_string(&path).await.unwrap(), "hello");
//!     gort::fs::remove_file(&path).await.unwrap();
//! });
//! ```
//!
//! [`watch`] is the other half of a file system API: being told when files change (inotify on the
//! netpoller, Go's `fsnotify`).
//!
//! ## Where this differs from Go and why
//! Go marks files that *can* be polled (pipes, terminals, character devices) and puts those on the
//! netpoller. Everything here goes through blocking sections; for a pipe or socket, use
//! `gort::net`.

pub mod watch;

use std::future::poll_fn;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use crate::blocking;

/// A preemption point, then `f` in a blocking section.
async fn syscall<R>(f: impl FnOnce() -> R) -> R {
    poll_fn(crate::sched::coop::poll_preempt).await;
    blocking(f)
}

/// Go's `os.ReadFile`.
pub async fn read<P: AsRef<Path>>(path: P) -> io::Result<Vec<u8>> {
    syscall(|| std::fs::read(path)).await
}

/// Read a whole file as UTF-8; `InvalidData` if it is not.
pub async fn read_to_string<P: AsRef<Path>>(path: P) -> io::Result<String> {
    syscall(|| std::fs::read_to_string(path)).await
}

/// Go's `os.WriteFile`: create or truncate `path` and write `contents`.
pub async fn write<P: AsRef<Path>, C: AsRef<[u8]>>(path: P, contents: C) -> io::Result<()> {
    syscall(|| std::fs::write(path, contents)).await
}

/// Go's `os.Remove` for a file.
pub async fn remove_file<P: AsRef<Path>>(path: P) -> io::Result<()> {
    syscall(|| std::fs::remove_file(path)).await
}

/// Go's `os.File`: an open file whose every operation is a blocking section.
///
/// Also implements `AsyncRead`, `AsyncWrite` and `AsyncSeek` (each poll is one blocking call that
/// completes; none ever returns `Pending` except to yield to a preemption request), so it works
/// with `gort::io`'s helpers and buffers.
#[derive(Debug)]
pub struct File {
    std: std::fs::File,
}

impl File {
    /// Go's `os.Open`: open for reading.
    pub async fn open<P: AsRef<Path>>(path: P) -> io::Result<File> {
        let std = syscall(|| std::fs::File::open(path)).await?;
        Ok(File { std })
    }

    /// Go's `os.Create`: create or truncate, open for writing.
    pub async fn create<P: AsRef<Path>>(path: P) -> io::Result<File> {
        let std = syscall(|| std::fs::File::create(path)).await?;
        Ok(File { std })
    }

    /// Open with the given options (Go's `os.OpenFile`).
    pub async fn open_with<P: AsRef<Path>>(
        path: P,
        options: &std::fs::OpenOptions,
    ) -> io::Result<File> {
        let std = syscall(|| options.open(path)).await?;
        Ok(File { std })
    }

    pub fn from_std(std: std::fs::File) -> File {
        File { std }
    }

    pub fn into_std(self) -> std::fs::File {
        self.std
    }

    /// Read up to `buf.len()` bytes; `Ok(0)` at end of file.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        syscall(|| self.std.read(buf)).await
    }

    /// Append the rest of the file to `buf`; returns how many bytes.
    pub async fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        syscall(|| self.std.read_to_end(buf)).await
    }

    /// Write some of `buf`; returns how much.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        syscall(|| self.std.write(buf)).await
    }

    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        syscall(|| self.std.write_all(buf)).await
    }

    /// Go's `File.Sync`: flush data and metadata to the device.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        syscall(|| self.std.sync_all()).await
    }

    pub async fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        syscall(|| self.std.seek(pos)).await
    }

    pub async fn metadata(&self) -> io::Result<std::fs::Metadata> {
        syscall(|| self.std.metadata()).await
    }

    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        syscall(|| self.std.set_len(size)).await
    }
}

/// One poll: a preemption point, then the blocking call.
fn poll_syscall<R>(cx: &mut Context<'_>, f: impl FnOnce() -> R) -> Poll<R> {
    ready!(crate::sched::coop::poll_preempt(cx));
    Poll::Ready(blocking(f))
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        poll_syscall(cx, || this.std.read(buf))
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        poll_syscall(cx, || this.std.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // std::fs::File buffers nothing
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // the fd closes on drop, as std's does
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        poll_syscall(cx, || this.std.seek(pos))
    }
}
