//! The chunked transfer coding (RFC 9112 §7.1), both ways: Go's net/http/internal/chunked.go
//! (`chunkedReader`, `chunkedWriter`).
//!
//! ```text
//!   5\r\nhello\r\n  7;ext=1\r\n, world\r\n  0\r\nTrailer: x\r\n\r\n
//!   size  data       size ext    data        last  trailers     end
//! ```
//!
//! The decoder is a byte-at-a-time state machine that can stop anywhere: the socket may cut the
//! stream between any two bytes, so it never needs the whole body (or even a whole chunk) at once.
//! Data bytes are copied a run at a time. Extensions and trailers are read and dropped, within a
//! bound, since nothing here uses them.
//!
//! Differences from Go: Go's reader is pull-based (`Read` pulls lines from a `bufio.Reader`); this
//! one is push-based (`decode` takes whatever bytes arrived), so it needs explicit states where Go
//! keeps its place on the goroutine's stack. Bare `\n` line ends are refused; Go accepts them.

use super::error::HttpError;

/// Hex digits in a chunk size: 16 is already 2^64 - 1.
const MAX_SIZE_DIGITS: u8 = 16;
/// Bytes of chunk extensions plus trailers tolerated per body; they are dropped anyway.
const MAX_OVERHEAD: usize = 16 * 1024;

/// The end of a chunked body with no trailers.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Append `data` to `out` as one chunk. An empty `data` writes nothing (an empty chunk would be the
/// last-chunk marker).
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{:x}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk size.
    Size {
        size: u64,
        digits: u8,
    },
    /// After the size: optional whitespace and `;ext`, up to CR.
    Ext {
        size: u64,
    },
    /// After the size line's CR.
    SizeLf {
        size: u64,
    },
    /// Inside chunk data.
    Data {
        remaining: u64,
    },
    /// After chunk data: CR then LF.
    DataCr,
    DataLf,
    /// After the last chunk: trailer lines, ended by an empty line. `empty`: no byte on this line.
    Trailer {
        empty: bool,
    },
    TrailerLf {
        empty: bool,
    },
    Done,
}

/// Incremental decoder of a chunked body.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    overhead: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size { size: 0, digits: 0 },
            overhead: 0,
        }
    }

    /// The whole body, trailers included, has been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decode from `input`, appending data to `out`, without letting `out` pass `limit` bytes
    /// (413). Returns how many bytes of `input` were used: all of them, unless the body ended
    /// inside `input` (what follows is the next request).
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<usize, HttpError> {
        let mut i = 0;
        while i < input.len() && self.state != State::Done {
            let b = input[i];
            self.state = match self.state {
                State::Data { remaining } => {
                    let take = remaining.min((input.len() - i) as u64) as usize;
                    if out.len().saturating_add(take) > limit {
                        return Err(HttpError::PayloadTooLarge);
                    }
                    out.extend_from_slice(&input[i..i + take]);
                    i += take;
                    let remaining = remaining - take as u64;
                    if remaining == 0 {
                        State::DataCr
                    } else {
                        State::Data { remaining }
                    }
                }
                state => {
                    i += 1;
                    self.step(state, b, out.len(), limit)?
                }
            };
        }
        Ok(i)
    }

    /// One byte of framing.
    fn step(&mut self, state: State, b: u8, got: usize, limit: usize) -> Result<State, HttpError> {
        let bad = |why| Err(HttpError::BadRequest(why));
        Ok(match state {
            State::Size { size, digits } => match (b as char).to_digit(16) {
                Some(d) if digits < MAX_SIZE_DIGITS => State::Size {
                    size: size << 4 | u64::from(d),
                    digits: digits + 1,
                },
                Some(_) => return bad("chunk size too long"),
                None if digits == 0 => return bad("missing chunk size"),
                None => {
                    // A chunk that would take the body past the limit is refused before its data
                    // arrives: no point reading what will be thrown away.
                    if size > limit.saturating_sub(got) as u64 {
                        return Err(HttpError::PayloadTooLarge);
                    }
                    match b {
                        b'\r' => State::SizeLf { size },
                        b';' | b' ' | b'\t' => self.overhead_byte(State::Ext { size })?,
                        _ => return bad("invalid chunk size"),
                    }
                }
            },
            State::Ext { size } => match b {
                b'\r' => State::SizeLf { size },
                b'\n' => return bad("bare LF in chunk size line"),
                _ => self.overhead_byte(State::Ext { size })?,
            },
            State::SizeLf { size } => match (b, size) {
                (b'\n', 0) => State::Trailer { empty: true },
                (b'\n', n) => State::Data { remaining: n },
                _ => return bad("chunk size line not ended by CRLF"),
            },
            State::DataCr if b == b'\r' => State::DataLf,
            State::DataLf if b == b'\n' => State::Size { size: 0, digits: 0 },
            State::DataCr | State::DataLf => return bad("chunk data not followed by CRLF"),
            State::Trailer { empty } => match b {
                b'\r' => State::TrailerLf { empty },
                b'\n' => return bad("bare LF in trailer"),
                _ => self.overhead_byte(State::Trailer { empty: false })?,
            },
            State::TrailerLf { empty } => match (b, empty) {
                (b'\n', true) => State::Done,
                (b'\n', false) => State::Trailer { empty: true },
                _ => return bad("trailer line not ended by CRLF"),
            },
            State::Data { .. } | State::Done => unreachable!("handled by decode"),
        })
    }

    fn overhead_byte(&mut self, next: State) -> Result<State, HttpError> {
        self.overhead += 1;
        if self.overhead > MAX_OVERHEAD {
            return Err(HttpError::BadRequest(
                "chunk extensions or trailers too long",
            ));
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], limit: usize) -> Result<(Vec<u8>, usize), HttpError> {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        let n = d.decode(input, &mut out, limit)?;
        assert!(d.is_done(), "body should be complete");
        Ok((out, n))
    }

    #[test]
    fn decodes_chunks_extensions_and_trailers() {
        let body = b"5\r\nhello\r\n7;ext=\"x\"\r\n, world\r\n0\r\nX-T: 1\r\n\r\nGET /next";
        let (out, n) = decode_all(body, 1 << 20).unwrap();
        assert_eq!(out, b"hello, world");
        assert_eq!(
            &body[n..],
            b"GET /next",
            "stops exactly at the end of the body"
        );
    }

    #[test]
    fn byte_by_byte_input_gives_the_same_result() {
        let body = b"A\r\n0123456789\r\n1 \r\nx\r\n0\r\n\r\n";
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        for b in body.chunks(1) {
            assert_eq!(d.decode(b, &mut out, 100).unwrap(), 1);
        }
        assert!(d.is_done());
        assert_eq!(out, b"0123456789x");
    }

    #[test]
    fn encoder_output_round_trips() {
        let mut wire = Vec::new();
        for part in [&b"first"[..], b"", &[b'z'; 300]] {
            encode_chunk(part, &mut wire);
        }
        wire.extend_from_slice(LAST_CHUNK);
        assert!(wire.starts_with(b"5\r\nfirst\r\n12c\r\n"));
        let (out, n) = decode_all(&wire, 1 << 20).unwrap();
        assert_eq!(n, wire.len());
        assert_eq!(&out[..5], b"first");
        assert_eq!(out.len(), 305);
    }

    #[test]
    fn body_over_the_limit_is_413_before_its_data_is_read() {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        assert_eq!(
            d.decode(b"10\r\n", &mut out, 15),
            Err(HttpError::PayloadTooLarge)
        );
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        let two = b"8\r\n12345678\r\n8\r\n";
        assert_eq!(d.decode(two, &mut out, 15), Err(HttpError::PayloadTooLarge));
    }

    #[test]
    fn malformed_framing_is_400() {
        for bad in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"5\nhello",
            b"5\r\nhelloXX",
            b"11111111111111111\r\n",
            b"0\r\nX: y\n",
        ] {
            let mut d = ChunkedDecoder::new();
            let mut out = Vec::new();
            let r = d.decode(bad, &mut out, usize::MAX);
            assert!(
                matches!(r, Err(HttpError::BadRequest(_))),
                "{:?} gave {r:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn endless_trailers_are_cut_off() {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        assert_eq!(d.decode(b"0\r\n", &mut out, 10), Ok(3));
        let line = b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut err = None;
        for _ in 0..1000 {
            if let Err(e) = d.decode(line, &mut out, 10) {
                err = Some(e);
                break;
            }
        }
        assert!(matches!(err, Some(HttpError::BadRequest(_))));
    }
}
