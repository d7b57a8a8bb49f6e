//! `gort::io`: Go's `io` and `bufio` packages, as the futures ecosystem already spells them.
//!
//! The interface is the `futures-io` traits ([`AsyncRead`], [`AsyncWrite`], [`AsyncBufRead`]), as
//! Go's is `io.Reader` / `io.Writer`: every stream of `gort::net`, `gort::fs::File`, the pipes of
//! `gort::process` and any other crate's type implementing them work here. The methods a tokio or
//! futures user looks for — `read`, `read_exact`, `read_to_end`, `read_line`, `lines`, `write_all`,
//! `flush`, `close` — are futures-util's extension traits, re-exported so that one `use` finds them:
//!
//! ```
//! use gort::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
//! use gort::net::UnixStream;
//!
//! gort::run(async {
//!     let (mut a, b) = UnixStream::pair().unwrap();
//!     a.write_all(b"first line\nsecond").await.unwrap();
//!     drop(a); // end of stream
//!     let mut r = BufReader::new(b);
//!     let mut line = String::new();
//!     r.read_line(&mut line).await.unwrap();
//!     assert_eq!(line, "first line\n");
//!     let mut rest = Vec::new();
//!     r.read_to_end(&mut rest).await.unwrap();
//!     assert_eq!(rest, b"second");
//! });
//! ```
//!
//! | Go                                   | gort                                        |
//! |--------------------------------------|---------------------------------------------|
//! | `r.Read(p)`                          | `r.read(&mut p).await` ([`AsyncReadExt`])   |
//! | `io.ReadFull(r, p)`                  | `r.read_exact(&mut p).await`                |
//! | `io.ReadAll(r)`                      | [`read_all()`]`(&mut r).await`              |
//! | `w.Write(p)` (all of it)             | `w.write_all(p).await` ([`AsyncWriteExt`])  |
//! | `io.Copy(w, r)`                      | [`copy`]`(r, &mut w).await` (flushes `w`)   |
//! | `bufio.NewReader(r)`, `NewWriter(w)` | [`BufReader::new`], [`BufWriter::new`]      |
//! | `br.ReadString('\n')`                | `br.read_line(&mut s).await` ([`AsyncBufReadExt`]) |
//! | `bufio.Scanner` over lines           | `br.lines()` (a `Stream` of `String`s)      |
//! | `bw.Flush()`                         | `bw.flush().await`                          |
//!
//! ## Preemption
//! None of these helpers is a gort preemption point itself; the streams under them are. Every
//! `poll_read` / `poll_write` of a socket, pipe or file calls `poll_preempt` first (see
//! `sched/coop.rs`), so a `copy` loop between two always-ready descriptors still lets sysmon
//! preempt it. A loop over a source that never reaches the runtime (a `Cursor` in memory) should
//! call `gort::coop().await` now and then, like any long computation.
//!
//! ## Where this differs from Go and why
//! - Go's `Copy` uses `WriterTo` / `ReaderFrom` fast paths (`sendfile`, `splice`); `copy` here always
//!   copies through a buffer.
//! - `read_to_end` (futures-util's) zeroes the vector's spare room again after every wait, so over a
//!   socket its cost grows with the stream's size times the number of waits; [`read_all()`] zeroes each
//!   byte once (read_all.rs says why). Prefer it for anything bigger than a few KiB;
//!   [`read_all_into`] appends to a buffer of yours and keeps what was read if an error ends it.
//! - Dropping a `BufWriter` does not flush (a destructor cannot wait); call `flush().await` or
//!   `close().await` first, as Go code calls `Flush`. `BufReader` and `BufWriter` default to 8 KiB
//!   (futures-util's size) where Go's `bufio` uses 4 KiB.
//!
//! gort used to carry its own copies of these helpers as free functions (`io::read_line(&mut r, ..)`);
//! they went away in favour of the methods every futures user already knows.

mod read_all;

pub use read_all::{read_all, read_all_into};

pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_util::io::{
    copy, copy_buf, empty, repeat, sink, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt,
    AsyncWriteExt, BufReader, BufWriter, Cursor, Lines, ReadHalf, WriteHalf,
};
