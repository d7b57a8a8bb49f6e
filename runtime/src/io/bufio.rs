//! Buffered streams: Go's `bufio.Reader` and `bufio.Writer` (bufio/bufio.go), over the futures-io
//! traits.
//!
//! A [`BufReader`] reads from its source in large chunks and serves small reads and line reads
//! (`io::read_line`) from memory; a [`BufWriter`] gathers small writes and passes them on in large
//! ones. Both default to Go's 4 KiB buffer.
//!
//! ## Where this differs from Go and why
//! - Go's `Writer` remembers its first error and fails every later call with it. Ours keeps the
//!   unwritten bytes and retries them on the next flush, as `std::io::BufWriter` does.
//! - Dropping a `BufWriter` does not flush (a destructor cannot wait); call `io::flush` or
//!   `io::close` first, as Go code calls `Flush`.

use std::io::{ErrorKind, Result};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

/// Go's `bufio.defaultBufSize`.
const DEFAULT_BUF: usize = 4096;

/// Go's `bufio.Reader`: a read buffer in front of an [`AsyncRead`].
pub struct BufReader<R> {
    inner: R,
    buf: Box<[u8]>,
    /// `buf[pos..filled]` is read from `inner` but not yet handed out.
    pos: usize,
    filled: usize,
}

impl<R: AsyncRead + Unpin> BufReader<R> {
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_BUF, inner)
    }

    /// A reader with a buffer of `capacity` bytes (at least 1).
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        BufReader {
            inner,
            buf: vec![0; capacity.max(1)].into_boxed_slice(),
            pos: 0,
            filled: 0,
        }
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The source. Reading from it directly skips what is buffered.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The bytes read from the source but not yet consumed.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// The source; buffered bytes are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for BufReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<Result<usize>> {
        let this = self.get_mut();
        // An empty buffer and a large read: skip the copy, as Go's Reader.Read does.
        if this.pos == this.filled && out.len() >= this.buf.len() {
            return Pin::new(&mut this.inner).poll_read(cx, out);
        }
        let available = ready!(Pin::new(&mut *this).poll_fill_buf(cx))?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        this.pos += n;
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncRead + Unpin> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<&[u8]>> {
        let this = self.get_mut();
        if this.pos >= this.filled {
            let n = ready!(Pin::new(&mut this.inner).poll_read(cx, &mut this.buf))?;
            this.pos = 0;
            this.filled = n;
        }
        Poll::Ready(Ok(&this.buf[this.pos..this.filled]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.pos = (this.pos + amt).min(this.filled);
    }
}

/// Go's `bufio.Writer`: a write buffer in front of an [`AsyncWrite`]. Flush (or close) before
/// dropping it, or the buffered bytes are lost.
pub struct BufWriter<W> {
    inner: W,
    buf: Vec<u8>,
    capacity: usize,
    /// `buf[..written]` has already been passed on (a flush that was interrupted by `Pending` or an
    /// error resumes from here).
    written: usize,
}

impl<W: AsyncWrite + Unpin> BufWriter<W> {
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_BUF, inner)
    }

    /// A writer with a buffer of `capacity` bytes (at least 1).
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        let capacity = capacity.max(1);
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            capacity,
            written: 0,
        }
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The destination. Writing to it directly bypasses (and overtakes) what is buffered.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The bytes waiting to be written.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// The destination; unflushed bytes are lost.
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Pass every buffered byte on to `inner`.
    fn poll_flush_buf(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        while self.written < self.buf.len() {
            match ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.written..])) {
                Ok(0) => return Poll::Ready(Err(ErrorKind::WriteZero.into())),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        self.buf.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for BufWriter<W> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<Result<usize>> {
        let this = self.get_mut();
        if this.buf.len() + data.len() > this.capacity {
            ready!(this.poll_flush_buf(cx))?;
        }
        if data.len() >= this.capacity {
            // Too big to buffer: write it through (the buffer is empty, so order is kept).
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        this.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_flush_buf(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_flush_buf(cx))?;
        Pin::new(&mut this.inner).poll_close(cx)
    }
}
