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
/// it are dropped (Go returns them beside the error; a caller who needs them reads in a loop).
pub async fn read_all<R: AsyncRead + Unpin + ?Sized>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            buf.resize((buf.len() * 2).max(FIRST), 0);
        }
        match r.read(&mut buf[filled..]).await {
            Ok(0) => {
                buf.truncate(filled);
                return Ok(buf);
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::*;
    use crate::util::test_util::block_on;

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
}
