//! `gort::io`: the small set of stream helpers Go's `io` package gives (`io.Copy`, `io.ReadFull`,
//! `io.ReadAll`) and, in `bufio.rs`, its `bufio` package (`bufio.Reader`, `bufio.Writer`).
//!
//! The interface is the `futures-io` traits ([`AsyncRead`], [`AsyncWrite`], [`AsyncBufRead`]), as
//! Go's is `io.Reader` / `io.Writer`: every stream of `gort::net`, `gort::fs::File`, the
//! buffered wrappers here, and any other crate's type implementing them work with these helpers.
//!
//! ```
//! use gort::io::{self, BufReader};
//! use gort::net::UnixStream;
//!
//! gort::run(async {
//!     let (mut a, b) = UnixStream::pair().unwrap();
//!     io::write_all(&mut a, b"first line\nsecond").await.unwrap();
//!     drop(a); // end of stream
//!     let mut r = BufReader::new(b);
//!     let mut line = String::new();
//!     io::read_line(&mut r, &mut line).await.unwrap();
//!     assert_eq!(line, "first line\n");
//!     let mut rest = Vec::new();
//!     io::read_to_end(&mut r, &mut rest).await.unwrap();
//!     assert_eq!(rest, b"second");
//! });
//! ```
//!
//! Every helper is a preemption point each time it is polled (see `coop.rs`), so a loop over a
//! source that is always ready (a buffer, a file) still lets sysmon preempt it.
//!
//! ## Where this differs from Go and why
//! Go's `Copy` also uses `WriterTo` / `ReaderFrom` fast paths (`sendfile`, `splice`); ours always
//! copies through a buffer, which keeps it a dozen lines.

mod bufio;

pub use bufio::{BufReader, BufWriter};
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

use std::future::poll_fn;
use std::io::{Error, ErrorKind, Result};
use std::pin::Pin;
use std::task::ready;

/// Go's `io.Copy` buffer size.
const COPY_BUF: usize = 32 * 1024;

/// One read (Go's `Reader.Read`): at least one byte, or `Ok(0)` at end of stream. `Interrupted`
/// is retried.
pub async fn read<R>(reader: &mut R, buf: &mut [u8]) -> Result<usize>
where
    R: AsyncRead + Unpin + ?Sized,
{
    poll_fn(|cx| {
        ready!(crate::sched::coop::poll_preempt(cx));
        loop {
            match ready!(Pin::new(&mut *reader).poll_read(cx, buf)) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                r => return r.into(),
            }
        }
    })
    .await
}

/// Go's `io.ReadFull`: fill `buf`, or fail with `UnexpectedEof` if the stream ends first.
pub async fn read_exact<R>(reader: &mut R, buf: &mut [u8]) -> Result<()>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut filled = 0;
    while filled < buf.len() {
        match read(reader, &mut buf[filled..]).await? {
            0 => {
                return Err(Error::new(
                    ErrorKind::UnexpectedEof,
                    "stream ended before the buffer was filled",
                ))
            }
            n => filled += n,
        }
    }
    Ok(())
}

/// Go's `io.ReadAll`: append everything up to end of stream to `buf`; returns how many bytes.
pub async fn read_to_end<R>(reader: &mut R, buf: &mut Vec<u8>) -> Result<usize>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let start = buf.len();
    let mut chunk = vec![0u8; COPY_BUF];
    loop {
        match read(reader, &mut chunk).await? {
            0 => return Ok(buf.len() - start),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Write all of `buf` (Go's `Writer.Write` contract). A writer that accepts nothing fails with
/// `WriteZero` rather than looping forever.
pub async fn write_all<W>(writer: &mut W, buf: &[u8]) -> Result<()>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut done = 0;
    poll_fn(|cx| {
        ready!(crate::sched::coop::poll_preempt(cx));
        while done < buf.len() {
            match ready!(Pin::new(&mut *writer).poll_write(cx, &buf[done..])) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()).into(),
                Ok(n) => done += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e).into(),
            }
        }
        Ok(()).into()
    })
    .await
}

/// Push buffered data down to the OS (Go's `bufio.Writer.Flush`).
pub async fn flush<W>(writer: &mut W) -> Result<()>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx)).await
}

/// Flush, then close the writer (for a stream: shut down its write direction).
pub async fn close<W>(writer: &mut W) -> Result<()>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    poll_fn(|cx| Pin::new(&mut *writer).poll_close(cx)).await
}

/// Go's `io.Copy`: copy from `reader` to `writer` until end of stream, then flush `writer`.
/// Returns the number of bytes copied. The writer is not closed.
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; COPY_BUF];
    let mut total = 0u64;
    loop {
        let n = read(reader, &mut buf).await?;
        if n == 0 {
            flush(writer).await?;
            return Ok(total);
        }
        write_all(writer, &buf[..n]).await?;
        total += n as u64;
    }
}

/// Go's `bufio.Reader.ReadBytes`: append bytes up to and including `delim` (or up to end of stream)
/// to `buf`; returns how many. `Ok(0)` means end of stream.
pub async fn read_until<R>(reader: &mut R, delim: u8, buf: &mut Vec<u8>) -> Result<usize>
where
    R: AsyncBufRead + Unpin + ?Sized,
{
    let mut total = 0;
    poll_fn(|cx| {
        ready!(crate::sched::coop::poll_preempt(cx));
        loop {
            let (done, used) = {
                let available = match ready!(Pin::new(&mut *reader).poll_fill_buf(cx)) {
                    Ok(b) => b,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e).into(),
                };
                match available.iter().position(|&b| b == delim) {
                    Some(i) => {
                        buf.extend_from_slice(&available[..=i]);
                        (true, i + 1)
                    }
                    None => {
                        buf.extend_from_slice(available);
                        (available.is_empty(), available.len())
                    }
                }
            };
            Pin::new(&mut *reader).consume(used);
            total += used;
            if done {
                return Ok(total).into();
            }
        }
    })
    .await
}

/// Go's `bufio.Reader.ReadString('\n')`: append one line, newline included, to `buf`; returns its
/// length in bytes, `Ok(0)` at end of stream. A line that is not UTF-8 fails with `InvalidData`
/// and leaves `buf` as it was (the bytes are consumed).
pub async fn read_line<R>(reader: &mut R, buf: &mut String) -> Result<usize>
where
    R: AsyncBufRead + Unpin + ?Sized,
{
    let mut bytes = Vec::new();
    let n = read_until(reader, b'\n', &mut bytes).await?;
    match String::from_utf8(bytes) {
        Ok(s) => {
            buf.push_str(&s);
            Ok(n)
        }
        Err(_) => Err(Error::new(
            ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )),
    }
}
