//! `read_all`: Go's `io.ReadAll` (io/io.go), a whole stream into a `Vec`.
//!
//! futures-util's `read_to_end` (re-exported in `AsyncReadExt`) zeroes the vector's spare room
//! before it reads into it, and forgets what it zeroed each time the read waits: every `Pending`
//! truncates the vector to what was read, and the next poll zeroes all the spare room again
//! (futures-rs issue 2658). Over a socket, which waits every time its buffer runs dry, that is the
//! size of the spare room times the number of waits: a few MiB read in a debug build took seconds,
//! almost all of it spent writing zeros (design.md, Measurements). Go's `ReadAll` has no such cost,
//! and neither does this function: the buffer is an ordinary local of the async fn, so it survives
//! its waits, and each byte of it is zeroed once, when the buffer grows.

use std::io;

use futures_io::AsyncRead;
use futures_util::io::AsyncReadExt;

/// The first read's room. Go's `ReadAll` starts at 512 bytes too.
const FIRST: usize = 512;

/// Read `r` to its end and return everything it gave (Go's `io.ReadAll`). The buffer doubles as it
/// fills. An `Interrupted` error is retried; any other error ends the call, and the bytes read before
/// it are dropped with the buffer: use [`read_all_into`] to keep them (Go returns them beside the
/// error).
pub async fn read_all<R: AsyncRead + Unpin + ?Sized>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    read_all_into(r, &mut buf).await?;
    Ok(buf)
}

/// [`read_all`], appending to `buf` and returning how many bytes it appended. On an error, every byte
/// read before it is in `buf`: nothing the stream delivered is lost.
pub async fn read_all_into<R: AsyncRead + Unpin + ?Sized>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> io::Result<usize> {
    let start = buf.len();
    // However this ends (done, an error, or the future dropped mid-read), `buf` keeps exactly what
    // was read: the zeroed room past it is cut off.
    let mut cut = Cut { filled: start, buf };
    loop {
        if cut.filled == cut.buf.len() {
            let grow = (cut.buf.len() - start).max(FIRST);
            cut.buf.resize(cut.filled + grow, 0);
        }
        let at = cut.filled;
        let room = cut.buf.len() - at;
        match r.read(&mut cut.buf[at..]).await {
            Ok(0) => return Ok(cut.filled - start),
            Ok(n) if n > room => return Err(overread(n, room)),
            Ok(n) => cut.filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A reader broke `AsyncRead`'s contract: it says it read more than it was given room for. An
/// error, not a panic or a wrong count: the bytes before this read are kept, the claim is not.
fn overread(n: usize, room: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the reader reported {n} bytes read into a buffer of {room}"),
    )
}

/// The buffer of [`read_all_into`], cut back to what was read when the call ends.
struct Cut<'a> {
    buf: &'a mut Vec<u8>,
    filled: usize,
}

impl Drop for Cut<'_> {
    fn drop(&mut self) {
        self.buf.truncate(self.filled);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::*;
    use crate::util::test_util::{block_on, poll_once, CountWaker};

    /// Gives `data` in pieces of `piece` bytes, waiting (`Pending`, waking itself) before each piece
    /// and returning `Interrupted` once in a while, as a socket would.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        piece: usize,
        calls: usize,
        fail_at: Option<usize>,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            out: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let me = &mut *self;
            me.calls += 1;
            if me.calls % 2 == 1 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if me.calls % 14 == 0 {
                return Poll::Ready(Err(io::ErrorKind::Interrupted.into()));
            }
            if me.fail_at.is_some_and(|at| me.pos >= at) {
                return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
            }
            let n = me.piece.min(out.len()).min(me.data.len() - me.pos);
            out[..n].copy_from_slice(&me.data[me.pos..me.pos + n]);
            me.pos += n;
            Poll::Ready(Ok(n))
        }
    }

    fn trickle(len: usize, piece: usize) -> Trickle {
        Trickle {
            data: (0..len).map(|i| (i * 7 + i / 251) as u8).collect(),
            pos: 0,
            piece,
            calls: 0,
            fail_at: None,
        }
    }

    #[test]
    fn reads_a_stream_that_waits_between_pieces_whole_and_in_order() {
        for (len, piece) in [
            (0, 1),
            (1, 1),
            (511, 100),
            (512, 512),
            (513, 7),
            (70_001, 4096),
        ] {
            let mut r = trickle(len, piece);
            let got = block_on(read_all(&mut r)).unwrap();
            assert_eq!(got, r.data, "len {len}, piece {piece}");
        }
    }

    #[test]
    fn an_error_other_than_interrupted_ends_the_read() {
        let mut r = trickle(10_000, 1000);
        r.fail_at = Some(3000);
        let err = block_on(read_all(&mut r)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    }

    #[test]
    fn read_all_into_appends_and_keeps_what_came_before_an_error() {
        let mut r = trickle(10_000, 1000);
        r.fail_at = Some(3000);
        let mut buf = b"head".to_vec();
        let err = block_on(read_all_into(&mut r, &mut buf)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(&buf[..4], b"head");
        // Everything the reader handed out before failing (at 3000 bytes or just past).
        assert!(r.pos >= 3000);
        assert_eq!(&buf[4..], &r.data[..r.pos]);

        // Dropped mid-read: the bytes read so far stay, the zeroed room behind them goes.
        let mut r = trickle(10_000, 100);
        let mut buf = b"head".to_vec();
        {
            let (_count, waker) = CountWaker::new();
            let mut fut = Box::pin(read_all_into(&mut r, &mut buf));
            for _ in 0..9 {
                assert!(poll_once(&mut fut, &waker).is_pending());
            }
        }
        assert!(r.pos > 0 && r.pos < 10_000);
        assert_eq!(&buf[4..], &r.data[..r.pos]);

        let mut r = trickle(70_001, 4096);
        let mut buf = b"head".to_vec();
        assert_eq!(block_on(read_all_into(&mut r, &mut buf)).unwrap(), 70_001);
        assert_eq!(&buf[4..], &r.data[..]);
    }

    /// A reader that claims more bytes than it was given room for is an error, with the bytes read
    /// before it kept, not a slice-index panic or a count past the buffer.
    #[test]
    fn a_reader_claiming_more_than_the_room_it_had_is_an_error() {
        struct Liar(bool);
        impl AsyncRead for Liar {
            fn poll_read(
                mut self: Pin<&mut Self>,
                _: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                if std::mem::replace(&mut self.0, true) {
                    return Poll::Ready(Ok(buf.len() + 1));
                }
                buf[..3].copy_from_slice(b"abc");
                Poll::Ready(Ok(3))
            }
        }
        let mut buf = Vec::new();
        let err = block_on(read_all_into(&mut Liar(false), &mut buf)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        assert_eq!(buf, b"abc");
    }
}
